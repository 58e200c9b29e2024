/* rtl/mt_eng_prog.sv alone (Verilated, sim/mt_eng_prog_tb.cpp simulates its memories, tables
 * and noise lanes) against the C model: the model runs each command through mt_kernel and the
 * engine runs it on a copy of the same state. Status, details, response words, every raw
 * counter increment, the noise lanes' states and every tile word (g, device records, levels,
 * hidden weights) must agree after every command. Random PROGRAM (write-verify, open loop,
 * FORCE), PULSE, META_WRITE and META_UPDATE commands, valid and invalid, with faults,
 * endurance wear-out, write-verify failures, small response capacities and lanes that are
 * not always ready. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hls/mt_testdev.h"
#include "mt_device.h"
#include "mt_prog_tb.h"

#define NT 16u   /* the engine's TILES */
#define GROUPS (MT_COLS / MT_LANES)
#define NW (NT * MT_ROWS * GROUPS)

static tb_eng_t *g_tb;
static tdev_t *g_dev;
static tb_eng_env_t g_env;
static uint16_t *g_gm, *g_lm;
static uint32_t *g_dm, *g_hm, *g_rsp;
static uint32_t g_lanes[MT_LANES][4];
static uint64_t g_counts[MT_CNT_COUNT];
static mt_xoshiro_t g_rng = {{0x600DCAFEu, 0x12345u, 0xFEEDu, 0xABCDEF01u}};
static unsigned long g_cmds, g_ok, g_pulses;
static uint64_t g_cycles;
static uint64_t g_total[MT_CNT_COUNT];

static uint32_t rnd(void) { return mt_xoshiro_next(&g_rng); }
static uint32_t below(uint32_t n) { return rnd() % n; }

static void pack_dev(const mt_dev_t *d, uint32_t *w) {
  w[0] = d->gmin | (uint32_t)d->gmax << 16;
  w[1] = d->step_set | (uint32_t)d->step_rst << 16;
  w[2] = d->a_set | (uint32_t)d->a_rst << 16;
  w[3] = d->fault | d->pulses << 8;
  w[4] = d->pulses >> 24;
}

static uint32_t word_of(uint32_t t, uint32_t i, uint32_t j) {
  return (t * MT_ROWS + i) * GROUPS + j / MT_LANES;
}

/* Model state -> engine environment. */
static void sync_all(void) {
  for (uint32_t t = 0; t < NT; t++)
    for (uint32_t i = 0; i < MT_ROWS; i++)
      for (uint32_t j = 0; j < MT_COLS; j++) {
        const mt_tile_t *tm = &g_dev->tiles[t];
        uint32_t w = word_of(t, i, j), l = j % MT_LANES;
        for (uint32_t k = 0; k < 2; k++) {
          g_gm[w * 2 * MT_LANES + k * MT_LANES + l] = tm->g[k][i][j];
          pack_dev(&tm->dev[i][j][k], &g_dm[(w * 2 * MT_LANES + k * MT_LANES + l) * 5]);
        }
        g_lm[w * MT_LANES + l] = tm->level[i][j];
        g_hm[w * MT_LANES + l] = (uint32_t)tm->hidden[i][j];
      }
  for (uint32_t l = 0; l < MT_LANES; l++) memcpy(g_lanes[l], g_dev->regs.lanes[l].s, 16);
}

static void env_regs(void) {
  g_env.cfg = g_dev->regs.cfg;
  g_env.configured = (int)g_dev->regs.configured;
  g_env.levels = g_dev->regs.levels;
  g_env.fabricated = g_dev->regs.fabricated[0] | (uint64_t)g_dev->regs.fabricated[1] << 32;
  g_env.level_table = &g_dev->regs.level_table[0][0];
  g_env.meta_table = g_dev->regs.meta_table;
}

static void assert_tile_equal(uint32_t t) {
  const mt_tile_t *tm = &g_dev->tiles[t];
  for (uint32_t i = 0; i < MT_ROWS; i++)
    for (uint32_t j = 0; j < MT_COLS; j++) {
      uint32_t w = word_of(t, i, j), l = j % MT_LANES;
      for (uint32_t k = 0; k < 2; k++) {
        uint32_t rec[5];
        pack_dev(&tm->dev[i][j][k], rec);
        const uint32_t *got = &g_dm[(w * 2 * MT_LANES + k * MT_LANES + l) * 5];
        uint16_t g = g_gm[w * 2 * MT_LANES + k * MT_LANES + l];
        if (g != tm->g[k][i][j] || memcmp(rec, got, sizeof rec) != 0)
          print_message("tile %u (%u,%u) dev %u: g rtl %u C %u, fault rtl %u C %u, pulses rtl %u C %u\n",
                        t, i, j, k, g, tm->g[k][i][j], got[3] & 0xFFu, tm->dev[i][j][k].fault,
                        (got[3] >> 8) | got[4] << 24, tm->dev[i][j][k].pulses);
        assert_int_equal(g, tm->g[k][i][j]);
        assert_memory_equal(got, rec, sizeof rec);
      }
      assert_int_equal(g_lm[w * MT_LANES + l], tm->level[i][j]);
      assert_int_equal(g_hm[w * MT_LANES + l], (uint32_t)tm->hidden[i][j]);
    }
}

static int setup(void **state) {
  (void)state;
  g_tb = tb_eng_open();
  unsigned tiles, rows, cols, lanes;
  tb_eng_geometry(&tiles, &rows, &cols, &lanes);
  if (tiles != NT || rows != MT_ROWS || cols != MT_COLS || lanes != MT_LANES) return -1;
  g_dev = tdev_new(NT);
  g_gm = calloc((size_t)NW * 2 * MT_LANES, sizeof *g_gm);
  g_dm = calloc((size_t)NW * 2 * MT_LANES * 5, sizeof *g_dm);
  g_lm = calloc((size_t)NW * MT_LANES, sizeof *g_lm);
  g_hm = calloc((size_t)NW * MT_LANES, sizeof *g_hm);
  g_rsp = calloc(MT_MAX_PAYLOAD, sizeof *g_rsp);
  g_env.payload = g_dev->cmd + 2;
  g_env.rsp = g_rsp;
  g_env.gm = g_gm;
  g_env.dm = g_dm;
  g_env.lm = g_lm;
  g_env.hm = g_hm;
  g_env.lanes = g_lanes;
  g_env.counts = g_counts;
  g_env.refill_pct = 100;
  return g_tb && g_dev && g_gm && g_dm && g_lm && g_hm && g_rsp ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_eng_close(g_tb);
  tdev_free(g_dev);
  free(g_gm);
  free(g_dm);
  free(g_lm);
  free(g_hm);
  free(g_rsp);
  return 0;
}

/* Runs payload p (len words) as opcode op on both, with response capacity cap (payload words
 * after the header), and compares everything. */
static void run_both(uint32_t op, const uint32_t *p, uint32_t len, uint32_t cap) {
  tdev_t *d = g_dev;
  d->cmd[0] = op << 24 | 0x33u << 16;
  d->cmd[1] = len;
  if (len) memmove(d->cmd + 2, p, len * sizeof *p);
  uint64_t before[MT_CNT_COUNT];
  memcpy(before, d->regs.counters, sizeof before);
  memset(g_counts, 0, sizeof g_counts);
  env_regs();
  /* engine first: the model changes its state */
  uint32_t st, det[2], n_out;
  uint64_t cycles;
  g_env.stall_seed = rnd();
  int rc = tb_eng_run(g_tb, &g_env, op, len, cap, &st, det, &n_out, &cycles, 200000000u);
  assert_int_equal(rc, 0);
  uint32_t consumed = 0;
  uint32_t n = mt_kernel(d->cmd, len + 2, d->rsp, cap + 2, &d->regs, d->tiles, NT, &consumed);
  assert_true(n >= 2);
  uint32_t est = d->rsp[0] & 0xFFFFu;
  if (st != est || (st != MT_ST_OK && (det[0] != d->rsp[2] || det[1] != d->rsp[3])))
    print_message("op %u len %u: rtl status %u (%u, %u), C %u (%u, %u)\n", op, len, st, det[0],
                  det[1], est, d->rsp[2], d->rsp[3]);
  assert_int_equal(st, est);
  if (st != MT_ST_OK) {
    assert_int_equal(det[0], d->rsp[2]);
    assert_int_equal(det[1], d->rsp[3]);
  } else {
    assert_int_equal(n_out, d->rsp[1]);
    assert_memory_equal(g_rsp, d->rsp + 2, n_out * sizeof *g_rsp);
    g_ok++;
  }
  for (uint32_t c = 0; c < MT_CNT_COUNT; c++) {
    uint64_t want = c == MT_CNT_ENERGY_FJ || c == MT_CNT_LATENCY_PS ? 0 : d->regs.counters[c] - before[c];
    if (g_counts[c] != want) print_message("counter %u: rtl %lu C %lu\n", c, (unsigned long)g_counts[c], (unsigned long)want);
    assert_int_equal(g_counts[c], want);
  }
  g_pulses += g_counts[MT_CNT_SET_PULSES] + g_counts[MT_CNT_RESET_PULSES];
  for (uint32_t c = 0; c < MT_CNT_COUNT; c++) g_total[c] += g_counts[c];
  for (uint32_t l = 0; l < MT_LANES; l++) assert_memory_equal(g_lanes[l], d->regs.lanes[l].s, 16);
  uint32_t tile = len ? p[0] : 0;
  if (st == MT_ST_OK && tile < NT) assert_tile_equal(tile);
  g_cmds++;
  g_cycles += cycles;
}

static uint32_t rand_row(void) { return below(16) == 0 ? MT_ROWS + below(4000) : below(MT_ROWS); }
static uint32_t rand_col(void) { return below(16) == 0 ? MT_COLS + below(3900) : below(MT_COLS); }
static uint32_t rand_tile(void) {
  uint32_t r = below(40);
  if (r == 0) return NT + below(100);  /* ERR_TILE */
  if (r == 1) return 2;                /* not fabricated */
  return below(2);
}

/* Cells are drawn from a small window so that weights are programmed repeatedly. */
static uint32_t win_row(void) { return below(4); }
static uint32_t win_col(void) { return below(40); }

static void random_command(uint32_t cap) {
  static uint32_t p[5 + 64];
  uint32_t op = 8 + below(2) * 1 + (below(2) ? 5 : 0); /* 8, 9, 13, 14 */
  uint32_t len = 0;
  p[0] = rand_tile();
  if (op == MT_OP_PROGRAM) {
    p[1] = below(20) == 0 ? 4 + below(100) : below(4);
    uint32_t ne = below(6);
    for (uint32_t k = 0; k < ne; k++) {
      uint32_t row = below(10) ? win_row() : rand_row(), col = below(10) ? win_col() : rand_col();
      uint32_t q = below(20) == 0 ? g_dev->regs.levels + below(256 - g_dev->regs.levels + 1) : below(g_dev->regs.levels);
      p[2 + k] = tdev_entry(row, col, q & 0xFFu);
    }
    len = 2 + ne;
    if (below(30) == 0) len = below(2);
  } else if (op == MT_OP_PULSE) {
    uint32_t ne = below(6);
    for (uint32_t k = 0; k < ne; k++) {
      uint32_t row = below(10) ? win_row() : rand_row(), col = below(10) ? win_col() : rand_col();
      int32_t n = (int32_t)below(128) - 64;
      p[1 + k] = tdev_pulse_entry(row, col, below(2), n);
    }
    len = 1 + ne;
    if (below(30) == 0) len = 0;
  } else {
    uint32_t nr = 1 + below(2), nc = 1 + below(4);
    p[1] = below(4);
    p[2] = nr;
    p[3] = below(44);
    p[4] = nc;
    if (below(20) == 0) p[1 + below(4)] = below(2) ? 0 : MT_ROWS + below(10);
    uint32_t n = nr * nc;
    if (op == MT_OP_META_WRITE) {
      for (uint32_t k = 0; k < n; k++) {
        int32_t h = (int32_t)(rnd() % (2u * 0x3FFFFFFFu + 1u)) - 0x3FFFFFFF;
        if (below(3) == 0) h = (int32_t)((int64_t)(int32_t)below(2 * g_dev->regs.levels * 65536) - (int64_t)g_dev->regs.levels * 65536);
        if (below(30) == 0) h = below(2) ? 0x40000000 : (int32_t)0x80000000u;
        p[5 + k] = (uint32_t)h;
      }
      len = 5 + n;
    } else {
      for (uint32_t k = 0; k < (n + 1) / 2; k++) {
        uint32_t a = below(4) ? rnd() >> (8 + below(9)) : 0, b = below(4) ? rnd() >> (8 + below(9)) : 0;
        if (below(2)) a = (uint16_t)-(int16_t)a;
        p[5 + k] = (a & 0xFFFFu) | b << 16;
      }
      len = 5 + (n + 1) / 2;
    }
    if (below(30) == 0) len = below(2) ? below(5) : len + 1;
  }
  run_both(op, p, len, cap);
}

/* The metaplasticity unit's configuration (hidden bits, fraction bits, rounding, table log2,
 * entry bits, rule) that configure() sets: the full unit unless a phase narrows it. */
static uint32_t g_unit[6] = {32, 16, 0, 8, 16, 0};

/* resp != 0: the piecewise pulse response with random knots. */
static void configure(uint32_t wv_max, uint32_t endurance, uint32_t mprog, uint32_t levels,
                      int resp) {
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_G_MIN] = 2000;
  cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_STEP_SET] = 900;
  cfg[MT_CFG_STEP_RST] = 1100;
  cfg[MT_CFG_A_SET] = 1500;
  cfg[MT_CFG_A_RST] = 1800;
  cfg[MT_CFG_D2D_GMIN] = 300;
  cfg[MT_CFG_D2D_GMAX] = 800;
  cfg[MT_CFG_D2D_STEP] = 4000;
  cfg[MT_CFG_D2D_A] = 4000;
  cfg[MT_CFG_P_STUCK_LOW] = 1u << 27;
  cfg[MT_CFG_P_STUCK_HIGH] = 1u << 27;
  cfg[MT_CFG_C2C_MUL] = 5000;
  cfg[MT_CFG_C2C_ADD] = 40;
  cfg[MT_CFG_READ_SIGMA] = 120;
  cfg[MT_CFG_WV_TOL] = 400;
  cfg[MT_CFG_WV_MAX_ITER] = wv_max;
  cfg[MT_CFG_ENDURANCE] = endurance;
  cfg[MT_CFG_META_IN_SHIFT] = 10;
  cfg[MT_CFG_META_IDX_SHIFT] = 20;
  cfg[MT_CFG_META_PROG_MODE] = mprog;
  for (uint32_t i = 0; i < 6; i++) cfg[MT_CFG_META_HIDDEN_BITS + i] = g_unit[i];
  cfg[MT_CFG_RESP_CLASS] = resp != 0;
  for (uint32_t k = 0; k < 17; k++) {
    cfg[MT_CFG_RESP_UP_0 + k] = 20000 + below(45536);
    cfg[MT_CFG_RESP_DN_0 + k] = 20000 + below(45536);
  }
  assert_int_equal(tdev_configure(g_dev, cfg), MT_ST_OK);
  assert_int_equal(tdev_levels_linear(g_dev, levels, 3000, 52000 / (levels - 1), 900, 200), MT_ST_OK);
  uint32_t w[MT_META_TABLE_SIZE / 2];
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE / 2; i++) w[i] = rnd() | (below(4) == 0 ? 0xFFFFu : 0);
  assert_int_equal(tdev_run(g_dev, MT_OP_META_TABLE, w, MT_META_TABLE_SIZE / 2), MT_ST_OK);
}

static void phase(uint32_t wv_max, uint32_t endurance, uint32_t mprog, uint32_t levels,
                  unsigned refill, unsigned n, int resp) {
  configure(wv_max, endurance, mprog, levels, resp);
  g_env.refill_pct = refill;
  for (unsigned i = 0; i < n; i++) random_command(below(10) == 0 ? 2 + below(2) : 3 + below(100));
}

/* Before CONFIGURE, before SET_LEVELS and on unfabricated tiles: ERR_STATE in the model's
 * order of checks. */
static void state_errors(void **state) {
  (void)state;
  sync_all();
  uint32_t p[8] = {0, 0, 0, 1, 1, 0, 0, 0};
  for (uint32_t op = 8; op <= 14; op++) {
    if (op > 9 && op < 13) continue;
    run_both(op, p, op == MT_OP_PULSE ? 1 : (op == MT_OP_PROGRAM ? 2 : 6), 3);
  }
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  assert_int_equal(tdev_configure(g_dev, cfg), MT_ST_OK);
  for (uint32_t op = 8; op <= 14; op++) {
    if (op > 9 && op < 13) continue;
    run_both(op, p, op == MT_OP_PULSE ? 1 : (op == MT_OP_PROGRAM ? 2 : 6), 3);
  }
}

static void random_commands(void **state) {
  (void)state;
  configure(30, 0, 0, 8, 0);
  assert_int_equal(tdev_fabricate(g_dev, 0x1234, 0), MT_ST_OK);
  assert_int_equal(tdev_fabricate(g_dev, 0x5678, 1), MT_ST_OK);
  sync_all();
  phase(30, 0, 0, 8, 100, 400, 0);     /* write-verify, META by write-verify */
  phase(3, 0, 1, 16, 60, 300, 0);      /* wv failures; META open loop; lanes not always ready */
  phase(30, 0, 1, 16, 100, 300, 1);    /* piecewise pulse response, verify and open loop */
  phase(1, 400, 0, 2, 100, 300, 0);    /* endurance: devices wear out */
  phase(1023, 200, 1, 256, 35, 200, 0); /* L = 256, long verify limit, slow lanes */
  /* A 12-bit unit (Q5.6), rounding, 32 entries of 8 bits, the interval rule. */
  static const uint32_t narrow[6] = {12, 6, 1, 5, 8, 1};
  memcpy(g_unit, narrow, sizeof g_unit);
  phase(20, 0, 0, 5, 100, 200, 0);
  phase(5, 0, 1, 3, 60, 150, 1);
  assert_tile_equal(0);
  assert_tile_equal(1);
  print_message("%lu commands (%lu OK), %lu pulses, %lu cycles\n", g_cmds, g_ok, g_pulses,
                (unsigned long)g_cycles);
  print_message("programmed %lu, skipped %lu, wv failures %lu, verify reads %lu, meta updates %lu, "
                "attenuated %lu\n", (unsigned long)g_total[MT_CNT_CELLS_PROGRAMMED],
                (unsigned long)g_total[MT_CNT_UPDATES_SKIPPED], (unsigned long)g_total[MT_CNT_WV_FAILURES],
                (unsigned long)g_total[MT_CNT_VERIFY_READS], (unsigned long)g_total[MT_CNT_META_UPDATES],
                (unsigned long)g_total[MT_CNT_META_ATTENUATED]);
  unsigned faults[4] = {0, 0, 0, 0};
  for (uint32_t t = 0; t < 2; t++)
    for (uint32_t i = 0; i < 4; i++)
      for (uint32_t j = 0; j < 44; j++)
        for (uint32_t k = 0; k < 2; k++) faults[g_dev->tiles[t].dev[i][j][k].fault & 3u]++;
  print_message("devices in the window: %u healthy, %u stuck low, %u stuck high, %u worn\n",
                faults[0], faults[1], faults[2], faults[3]);
  /* the random mix must have reached every path it is meant to cover */
  assert_true(g_ok > 300);
  assert_true(g_total[MT_CNT_WV_FAILURES] > 0 && g_total[MT_CNT_UPDATES_SKIPPED] > 0);
  assert_true(g_total[MT_CNT_META_ATTENUATED] > 0 && g_total[MT_CNT_CELLS_PROGRAMMED] > 100);
  assert_true(faults[1] > 0 && faults[2] > 0 && faults[3] > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(state_errors),
      cmocka_unit_test(random_commands),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
