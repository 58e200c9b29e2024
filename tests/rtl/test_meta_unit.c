/* Bit-exact test of rtl/mt_meta_unit.sv (Verilated at five builds side by side,
 * sim/mt_meta_builds.sv, sim/mt_meta_unit_tb.cpp) against the C model: every expected value
 * comes from mt_kernel (META_WRITE, META_UPDATE, META_READ, READ_LEVELS, STATS_GET on a model
 * device) or from mt_level_of_hidden. For each build, random configurations within it (hidden
 * width and fraction bits, rounding, table size, entry bits, rule), hidden weights, updates,
 * shifts, f_meta tables and level counts, and edge cases: |h| at the table-index and level
 * boundaries, +-0x3FFFFFFF and the register's saturation, updates of +-1 and -32768, f = 0,
 * 0xFFFE and 0xFFFF (exactly 1), in_shift 0 and 16, idx_shift 0 and 24; hidden weights
 * written under one configuration and updated under another (the register reads the low W
 * bits). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../hls/mt_testdev.h"
#include "mt_device.h"
#include "mt_prog_tb.h"

#define HMAX 0x3FFFFFFF
#define NROWS 24u /* rows of the tile region per batch */
#define NCELLS (NROWS * MT_COLS)

/* (HIDDEN_W, TABLE_LOG2, ENTRY_W) of the builds in sim/mt_meta_builds.sv, in its order. */
static const uint32_t builds[TB_META_BUILDS][3] = {
    {32, 8, 16}, {24, 8, 12}, {16, 6, 8}, {12, 5, 8}, {8, 4, 4}};

static tb_meta_t *g_tb;
static tdev_t *g_dev;
static mt_xoshiro_t g_rng = {{0x0BADF00Du, 0x5EED1234u, 0xC0FFEE11u, 0x7E57AB1Eu}};
static unsigned long g_checked;

static uint32_t rnd(void) { return mt_xoshiro_next(&g_rng); }

static int setup(void **state) {
  (void)state;
  g_tb = tb_meta_open();
  g_dev = tdev_new(1);
  return g_tb && g_dev ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_meta_close(g_tb);
  tdev_free(g_dev);
  return 0;
}

typedef struct {
  uint32_t in_shift, idx_shift, levels;
  uint32_t hbits, frac, round, tlog2, ebits, rule;
  int stale; /* META_WRITE under the full unit, META_UPDATE under this configuration */
  uint16_t f[MT_META_TABLE_SIZE];
} batch_cfg_t;

static void rtl_eval(const batch_cfg_t *b, int32_t h, int16_t upd, int write, tb_meta_out_t *o) {
  tb_meta_in_t in = {h, upd, write, b->in_shift, b->idx_shift, b->levels,
                     b->hbits, b->frac, b->round, b->tlog2, b->ebits, b->rule};
  tb_meta_eval(g_tb, &in, o);
}

static void set_unit(uint32_t *cfg, const batch_cfg_t *b) {
  cfg[MT_CFG_META_HIDDEN_BITS] = b->hbits;
  cfg[MT_CFG_META_HIDDEN_FRAC] = b->frac;
  cfg[MT_CFG_META_UPD_ROUND] = b->round;
  cfg[MT_CFG_META_TABLE_LOG2] = b->tlog2;
  cfg[MT_CFG_META_ENTRY_BITS] = b->ebits;
  cfg[MT_CFG_META_RULE] = b->rule;
}

static int32_t clamp_h(int64_t v) { return (int32_t)(v > HMAX ? HMAX : (v < -HMAX ? -HMAX : v)); }

static int32_t random_h(const batch_cfg_t *b) {
  int64_t v;
  switch (rnd() % 8u) {
    case 0: v = (int32_t)rnd() >> (rnd() % 31u); break;
    case 1: { /* around an f_meta index boundary */
      int64_t k = rnd() % 258u;
      v = (k << b->idx_shift) + (int32_t)(rnd() % 5u) - 2;
      if (rnd() & 1u) v = -v;
      break;
    }
    case 2: v = (rnd() & 1u ? HMAX : -HMAX) - (int32_t)(rnd() % 3u) * (rnd() & 1u ? 1 : -1); break;
    case 3: v = (int32_t)(rnd() % 5u) - 2; break;
    case 4: { /* around a level boundary */
      int64_t q = rnd() % (b->levels + 1u);
      v = q * 65536 - (int64_t)b->levels * 32768 + (int32_t)(rnd() % 5u) - 2;
      break;
    }
    default: v = (int32_t)rnd(); break;
  }
  return clamp_h(v);
}

static int16_t random_upd(void) {
  switch (rnd() % 8u) {
    case 0: return 0;
    case 1: return (int16_t)(rnd() & 1u ? 1 : -1);
    case 2: return (int16_t)(rnd() & 1u ? 32767 : -32768);
    case 3: return (int16_t)((int16_t)rnd() >> (rnd() % 15u));
    default: return (int16_t)rnd();
  }
}

/* One batch over NROWS rows of the tile: the model executes META_WRITE then META_UPDATE; the
 * unit must give the same hidden weights, levels and counter increments. */
static void run_batch(const batch_cfg_t *b) {
  static uint32_t p[5 + NCELLS];
  static int32_t h0[NCELLS], hw[NCELLS];
  static int16_t upd[NCELLS];
  uint32_t cfg[MT_CFG_COUNT], cfg_w[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_META_IN_SHIFT] = b->in_shift;
  cfg[MT_CFG_META_IDX_SHIFT] = b->idx_shift;
  cfg[MT_CFG_META_PROG_MODE] = 1; /* open loop with zero pulse counts: no programming work */
  memcpy(cfg_w, cfg, sizeof cfg);
  set_unit(cfg, b);
  if (!b->stale) set_unit(cfg_w, b);
  assert_int_equal(tdev_configure(g_dev, cfg_w), MT_ST_OK);
  memset(p, 0, (1 + MT_MAX_LEVELS * 3) * sizeof p[0]);
  p[0] = b->levels;
  assert_int_equal(tdev_run(g_dev, MT_OP_SET_LEVELS, p, 1 + b->levels * 3), MT_ST_OK);
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE / 2; i++)
    p[i] = b->f[2 * i] | (uint32_t)b->f[2 * i + 1] << 16;
  assert_int_equal(tdev_run(g_dev, MT_OP_META_TABLE, p, MT_META_TABLE_SIZE / 2), MT_ST_OK);
  tb_meta_table(g_tb, b->f);
  assert_int_equal(tdev_fabricate(g_dev, rnd(), 0), MT_ST_OK);

  uint32_t region[5] = {0, 0, NROWS, 0, MT_COLS};
  memcpy(p, region, sizeof region);
  for (uint32_t k = 0; k < NCELLS; k++) {
    h0[k] = random_h(b);
    p[5 + k] = (uint32_t)h0[k];
  }
  assert_int_equal(tdev_run(g_dev, MT_OP_META_WRITE, p, 5 + NCELLS), MT_ST_OK);
  assert_int_equal(tdev_run(g_dev, MT_OP_META_READ, region, 5), MT_ST_OK);
  memcpy(hw, g_dev->out, sizeof hw);
  /* META_WRITE: the unit loads the value into its register. */
  if (!b->stale) {
    for (uint32_t k = 0; k < NCELLS; k++) {
      tb_meta_out_t o;
      rtl_eval(b, h0[k], 0, 1, &o);
      assert_false(o.attenuate);
      if (o.h_new != hw[k])
        print_message("write %u: h %d W %u F %u round %u: rtl %d C %d\n", k, h0[k], b->hbits,
                      b->frac, b->round, o.h_new, hw[k]);
      assert_int_equal(o.h_new, hw[k]);
      assert_int_equal(o.level, mt_level_of_hidden(hw[k], b->levels));
    }
  } else {
    assert_int_equal(tdev_configure(g_dev, cfg), MT_ST_OK);
  }

  memcpy(p, region, sizeof region);
  for (uint32_t k = 0; k < NCELLS; k++) {
    upd[k] = random_upd();
    if (k % 2 == 0) p[5 + k / 2] = 0;
    p[5 + k / 2] |= (uint32_t)(uint16_t)upd[k] << (16 * (k % 2));
  }
  assert_int_equal(tdev_run(g_dev, MT_OP_STATS_RESET, NULL, 0), MT_ST_OK);
  assert_int_equal(tdev_run(g_dev, MT_OP_META_UPDATE, p, 5 + (NCELLS + 1) / 2), MT_ST_OK);
  uint64_t n_upd = tdev_counter(g_dev, MT_CNT_META_UPDATES);
  uint64_t n_att = tdev_counter(g_dev, MT_CNT_META_ATTENUATED);
  static uint32_t h1[NCELLS], lv[NCELLS];
  assert_int_equal(tdev_run(g_dev, MT_OP_META_READ, region, 5), MT_ST_OK);
  memcpy(h1, g_dev->out, sizeof h1);
  assert_int_equal(tdev_run(g_dev, MT_OP_READ_LEVELS, region, 5), MT_ST_OK);
  memcpy(lv, g_dev->out, sizeof lv);

  uint64_t rtl_upd = 0, rtl_att = 0;
  for (uint32_t k = 0; k < NCELLS; k++) {
    if (upd[k] == 0) { /* the engine never starts the unit for d = 0 */
      assert_int_equal(h1[k], (uint32_t)hw[k]);
      continue;
    }
    tb_meta_out_t o;
    rtl_eval(b, hw[k], upd[k], 0, &o);
    rtl_upd++;
    rtl_att += (uint64_t)o.attenuate;
    if ((uint32_t)o.h_new != h1[k])
      print_message("cell %u: h %d upd %d in_shift %u idx_shift %u W %u F %u round %u k %u E %u "
                    "rule %u L %u: rtl %d C %d\n",
                    k, hw[k], upd[k], b->in_shift, b->idx_shift, b->hbits, b->frac, b->round,
                    b->tlog2, b->ebits, b->rule, b->levels, o.h_new, (int32_t)h1[k]);
    assert_int_equal((uint32_t)o.h_new, h1[k]);
    assert_int_equal(o.level, lv[k]);
    assert_int_equal(o.level, mt_level_of_hidden((int32_t)h1[k], b->levels));
    g_checked++;
  }
  assert_int_equal(rtl_upd, n_upd);
  assert_int_equal(rtl_att, n_att);
}

static void random_table(batch_cfg_t *b) {
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++) {
    switch (rnd() % 8u) {
      case 0: b->f[i] = 0xFFFFu; break;
      case 1: b->f[i] = 0u; break;
      case 2: b->f[i] = 0xFFFEu; break;
      default: b->f[i] = (uint16_t)rnd(); break;
    }
  }
}

/* A configuration within build u: half of the time the build's own widths. */
static void random_unit(batch_cfg_t *b, uint32_t u) {
  const uint32_t wmax = builds[u][0], kmax = builds[u][1], emax = builds[u][2];
  int own = rnd() & 1u;
  b->hbits = own ? wmax : 8u + rnd() % (wmax - 7u);
  uint32_t fmax = b->hbits - 1 < 16 ? b->hbits - 1 : 16;
  b->frac = rnd() % 3u == 0 ? fmax : rnd() % (fmax + 1);
  b->round = rnd() & 1u;
  b->tlog2 = own ? kmax : rnd() % (kmax + 1);
  b->ebits = own ? emax : 1u + rnd() % emax;
  b->rule = rnd() & 1u;
  b->stale = rnd() % 3u == 0;
}

static void random_batches(void **state) {
  (void)state;
  for (uint32_t u = 0; u < TB_META_BUILDS; u++) {
    tb_meta_select(g_tb, u);
    for (unsigned n = 0; n < 5; n++) {
      batch_cfg_t b;
      b.in_shift = rnd() % 17u;
      b.idx_shift = rnd() % 25u;
      b.levels = rnd() % 4u == 0 ? 2u + rnd() % 7u : 2u + rnd() % 255u;
      random_unit(&b, u);
      random_table(&b);
      run_batch(&b);
    }
  }
}

static void edge_batches(void **state) {
  (void)state;
  static const uint32_t shifts[][2] = {{0, 0}, {16, 24}, {16, 0}, {0, 24}};
  for (uint32_t u = 0; u < TB_META_BUILDS; u += 2) {
    tb_meta_select(g_tb, u);
    for (unsigned n = 0; n < 4; n++) {
      batch_cfg_t b;
      b.in_shift = shifts[n][0];
      b.idx_shift = shifts[n][1];
      b.levels = n % 2 ? 256u : 2u;
      b.hbits = builds[u][0];
      b.frac = n < 2 ? 0 : (b.hbits - 1 < 16 ? b.hbits - 1 : 16);
      b.round = n & 1u;
      b.tlog2 = builds[u][1];
      b.ebits = builds[u][2];
      b.rule = n >> 1;
      b.stale = 0;
      for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++)
        b.f[i] = n == 0 ? 0u : (n == 1 ? 0xFFFFu : (n == 2 ? 0xFFFEu : (uint16_t)(i * 257u)));
      run_batch(&b);
    }
  }
}

/* mt_level_of_hidden at every level boundary (+-2) and the ends, for level counts from 2 to
 * 256, through the META_WRITE path of the full unit (which loads h unchanged). */
static void level_boundaries(void **state) {
  (void)state;
  static const uint32_t counts[] = {2, 3, 4, 5, 7, 8, 16, 33, 100, 127, 255, 256};
  batch_cfg_t b;
  memset(&b, 0, sizeof b);
  b.hbits = 32, b.frac = 16, b.tlog2 = 8, b.ebits = 16;
  tb_meta_select(g_tb, 0);
  unsigned long n = 0;
  for (uint32_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
    uint32_t levels = counts[c];
    b.levels = levels;
    for (int64_t q = -1; q <= (int64_t)levels + 1; q++) {
      for (int64_t e = -2; e <= 2; e++) {
        int32_t h = clamp_h(q * 65536 - (int64_t)levels * 32768 + e);
        tb_meta_out_t o;
        rtl_eval(&b, h, 0, 1, &o);
        assert_int_equal(o.h_new, h);
        assert_int_equal(o.level, mt_level_of_hidden(h, levels));
        n++;
      }
    }
    static const int32_t ends[] = {HMAX, -HMAX, 0, 1, -1};
    for (unsigned i = 0; i < 5; i++) {
      tb_meta_out_t o;
      rtl_eval(&b, ends[i], 0, 1, &o);
      assert_int_equal(o.level, mt_level_of_hidden(ends[i], levels));
    }
  }
  assert_true(n > 3000u);
}

/* rtl/mt_meta_unit_fixed.sv, the unit at one design point with its own table and the register
 * value on its ports (sim/mt_meta_builds.sv: W 12, F 6, rounding, k 5, E 8, interval rule,
 * in_shift 2, idx_shift 11, L 5), against the model at that configuration. */
static void fixed_design_point(void **state) {
  (void)state;
  enum { N = 4 * MT_COLS, S = 10 };
  static uint32_t p[1 + MT_MAX_LEVELS * 3]; /* also holds SET_LEVELS and META_TABLE */
  static int32_t r0[N], hw[N];
  static int16_t upd[N];
  batch_cfg_t b;
  b.in_shift = 2, b.idx_shift = 11, b.levels = 5;
  b.hbits = 12, b.frac = 6, b.round = 1, b.tlog2 = 5, b.ebits = 8, b.rule = 1, b.stale = 0;
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_META_IN_SHIFT] = b.in_shift;
  cfg[MT_CFG_META_IDX_SHIFT] = b.idx_shift;
  cfg[MT_CFG_META_PROG_MODE] = 1;
  set_unit(cfg, &b);
  assert_int_equal(tdev_configure(g_dev, cfg), MT_ST_OK);
  memset(p, 0, (1 + MT_MAX_LEVELS * 3) * sizeof p[0]);
  p[0] = b.levels;
  assert_int_equal(tdev_run(g_dev, MT_OP_SET_LEVELS, p, 1 + b.levels * 3), MT_ST_OK);
  uint64_t checked = 0, attenuated = 0;
  for (unsigned batch = 0; batch < 6; batch++) {
    random_table(&b);
    for (uint32_t i = 0; i < MT_META_TABLE_SIZE / 2; i++)
      p[i] = b.f[2 * i] | (uint32_t)b.f[2 * i + 1] << 16;
    assert_int_equal(tdev_run(g_dev, MT_OP_META_TABLE, p, MT_META_TABLE_SIZE / 2), MT_ST_OK);
    tb_meta_table(g_tb, b.f);
    assert_int_equal(tdev_fabricate(g_dev, rnd(), 0), MT_ST_OK);
    uint32_t region[5] = {0, 0, 4, 0, MT_COLS};
    memcpy(p, region, sizeof region);
    for (uint32_t k = 0; k < N; k++) {
      /* the whole register, often near a level boundary (multiples of 2^6 minus 5 * 2^5) */
      r0[k] = rnd() % 3u ? (int32_t)(rnd() % 4096u) - 2048
                         : (int32_t)(rnd() % 6u) * 64 - 160 + (int32_t)(rnd() % 5u) - 2;
      p[5 + k] = (uint32_t)(r0[k] * (1 << S));
    }
    assert_int_equal(tdev_run(g_dev, MT_OP_META_WRITE, p, 5 + N), MT_ST_OK);
    assert_int_equal(tdev_run(g_dev, MT_OP_META_READ, region, 5), MT_ST_OK);
    memcpy(hw, g_dev->out, sizeof hw);
    for (uint32_t k = 0; k < N; k++) {
      int32_t rn;
      uint32_t lvl;
      tb_meta_fixed_eval(g_tb, r0[k], 0, 1, &rn, &lvl);
      assert_int_equal(rn * (1 << S), hw[k]);
      assert_int_equal(lvl, mt_level_of_hidden(hw[k], b.levels));
    }
    memcpy(p, region, sizeof region);
    for (uint32_t k = 0; k < N; k++) {
      upd[k] = random_upd();
      if (k % 2 == 0) p[5 + k / 2] = 0;
      p[5 + k / 2] |= (uint32_t)(uint16_t)upd[k] << (16 * (k % 2));
    }
    assert_int_equal(tdev_run(g_dev, MT_OP_STATS_RESET, NULL, 0), MT_ST_OK);
    assert_int_equal(tdev_run(g_dev, MT_OP_META_UPDATE, p, 5 + N / 2), MT_ST_OK);
    attenuated += tdev_counter(g_dev, MT_CNT_META_ATTENUATED);
    static uint32_t h1[N], lv[N];
    assert_int_equal(tdev_run(g_dev, MT_OP_META_READ, region, 5), MT_ST_OK);
    memcpy(h1, g_dev->out, sizeof h1);
    assert_int_equal(tdev_run(g_dev, MT_OP_READ_LEVELS, region, 5), MT_ST_OK);
    memcpy(lv, g_dev->out, sizeof lv);
    for (uint32_t k = 0; k < N; k++) {
      if (upd[k] == 0) continue;
      int32_t rn;
      uint32_t lvl;
      tb_meta_fixed_eval(g_tb, hw[k] / (1 << S), upd[k], 0, &rn, &lvl);
      if (rn * (1 << S) != (int32_t)h1[k])
        print_message("fixed %u: r %d upd %d: rtl %d C %d\n", k, hw[k] / (1 << S), upd[k], rn,
                      (int32_t)h1[k] / (1 << S));
      assert_int_equal(rn * (1 << S), (int32_t)h1[k]);
      assert_int_equal(lvl, lv[k]);
      checked++;
    }
  }
  print_message("%lu updates of the fixed design point compared (%lu attenuated)\n",
                (unsigned long)checked, (unsigned long)attenuated);
  assert_true(checked > 2000 && attenuated > 100);
}

static void enough_cases(void **state) {
  (void)state;
  print_message("%lu updates compared\n", g_checked);
  assert_true(g_checked >= 60000u);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(random_batches),
      cmocka_unit_test(edge_batches),
      cmocka_unit_test(level_boundaries),
      cmocka_unit_test(fixed_design_point),
      cmocka_unit_test(enough_cases),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
