/* Bit-exact test of rtl/mt_eng_state.sv (Verilated, sim/mt_eng_state_tb.cpp) against the C
 * model: STATE_READ and STATE_WRITE commands go through mt_kernel() and through the engine,
 * and the status, detail words, response words and the whole device state must agree. The
 * test plays the top around the engine (docs/rtl.md, "The device"): payload and response
 * buffers, the register file's GLOBAL image port (version and lane words read-only, lanes
 * loaded by nz_load_o) and the four tile memories with their 2-cycle reads, in the layout of
 * docs/rtl.md "Tile memories". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_eng_tb.h"
#include "mt_model.h"
#include "mt_state.h"

#define TILES 16u
#define LANES TB_ENG_LANES
#define GROUPS (MT_COLS / LANES)
#define NADDR (TILES * MT_ROWS * GROUPS)
#define G_WORDS MT_GLOBAL_WORDS
#define T_WORDS MT_TILE_WORDS
#define WEIGHTS (MT_ROWS * MT_COLS)
/* GLOBAL image offsets (generated from docs/protocol.json). */
#define G_LEVELS MT_G_LEVELS
#define G_LT MT_G_LEVEL_TABLE
#define G_LANES MT_G_LANES
#define G_FAB MT_G_FABRICATED
#define VERSION ((MT_PROTO_MAJOR << 16) | MT_PROTO_MINOR)
#define MAX_PL (3u + MT_STATE_CHUNK + 8u)

/* ------------------------------------------------------------------ random numbers */
static uint64_t g_rs = 0x5747E5EEDull;

static uint32_t rnd(void) {
  uint64_t z = (g_rs += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) >> 16);
}

static uint32_t below(uint32_t n) { return n ? rnd() % n : 0; }

/* ------------------------------------------------------------------ the two devices */
static mt_regs_t g_regs;
static mt_tile_t *g_tiles;
static tb_eng_state_t *g_tb;

/* RTL side: register file words (version and lane words unused), the draw lanes' state,
 * and the tile memories, one line of slots per address. */
static uint32_t rf[G_WORDS];
static uint32_t lanes[TB_ENG_NZ_WORDS];
static uint32_t (*gm)[TB_ENG_GM_WORDS], (*dm)[TB_ENG_DM_WORDS];
static uint32_t (*lm)[TB_ENG_LM_WORDS], (*hm)[TB_ENG_HM_WORDS];

static uint32_t bits_get(const uint32_t *w, unsigned lo, unsigned n) {
  uint64_t x = w[lo / 32];
  if (lo % 32 + n > 32) x |= (uint64_t)w[lo / 32 + 1] << 32;
  x >>= lo % 32;
  return n == 32 ? (uint32_t)x : (uint32_t)x & ((1u << n) - 1u);
}

static void bits_set(uint32_t *w, unsigned lo, unsigned n, uint32_t v) {
  for (unsigned b = 0; b < n; b++) {
    unsigned i = lo + b;
    w[i / 32] = (w[i / 32] & ~(1u << (i % 32))) | (((v >> b) & 1u) << (i % 32));
  }
}

static uint32_t rf_read(uint32_t i) {
  if (i == 0) return VERSION;
  if (i >= G_LANES && i < G_LANES + LANES * 4) return lanes[i - G_LANES];
  assert_true(i < G_WORDS);
  return rf[i];
}

static void rf_write(uint32_t i, uint32_t v) {
  assert_true(i < G_WORDS);
  if (i == 0 || (i >= G_LANES && i < G_LANES + LANES * 4)) return;
  rf[i] = v;
}

/* dm slot: {pulses[31:0], fault[7:0], a_rst, a_set, step_rst, step_set, gmax, gmin}. */
static void rtl_record(uint32_t t, uint32_t w, uint32_t rec[MT_WEIGHT_WORDS]) {
  uint32_t i = w / MT_COLS, j = w % MT_COLS;
  uint32_t a = (t * MT_ROWS + i) * GROUPS + j / LANES, l = j % LANES;
  const uint32_t *d = dm[a];
  unsigned p = 136 * l, m = 136 * (LANES + l);
  rec[0] = bits_get(gm[a], 16 * l, 16) | bits_get(gm[a], 16 * (LANES + l), 16) << 16;
  rec[1] = bits_get(d, p, 32);
  rec[2] = bits_get(d, m, 32);
  rec[3] = bits_get(d, p + 32, 32);
  rec[4] = bits_get(d, m + 32, 32);
  rec[5] = bits_get(d, p + 64, 32);
  rec[6] = bits_get(d, m + 64, 32);
  rec[7] = bits_get(d, p + 104, 32);
  rec[8] = bits_get(d, m + 104, 32);
  rec[9] = bits_get(d, p + 96, 8) | bits_get(d, m + 96, 8) << 8 | bits_get(lm[a], 16 * l, 16) << 16;
  rec[10] = hm[a][l];
}

static void rtl_set_record(uint32_t t, uint32_t w, const uint32_t rec[MT_WEIGHT_WORDS]) {
  uint32_t i = w / MT_COLS, j = w % MT_COLS;
  uint32_t a = (t * MT_ROWS + i) * GROUPS + j / LANES, l = j % LANES;
  uint32_t *d = dm[a];
  unsigned p = 136 * l, m = 136 * (LANES + l);
  bits_set(gm[a], 16 * l, 16, rec[0]);
  bits_set(gm[a], 16 * (LANES + l), 16, rec[0] >> 16);
  bits_set(d, p, 32, rec[1]);
  bits_set(d, m, 32, rec[2]);
  bits_set(d, p + 32, 32, rec[3]);
  bits_set(d, m + 32, 32, rec[4]);
  bits_set(d, p + 64, 32, rec[5]);
  bits_set(d, m + 64, 32, rec[6]);
  bits_set(d, p + 104, 32, rec[7]);
  bits_set(d, m + 104, 32, rec[8]);
  bits_set(d, p + 96, 8, rec[9]);
  bits_set(d, m + 96, 8, rec[9] >> 8);
  bits_set(lm[a], 16 * l, 16, rec[9] >> 16);
  hm[a][l] = rec[10];
}

/* Copies the C device into the RTL side. */
static void mirror_c_to_rtl(void) {
  static uint32_t img[T_WORDS];
  mt_state_global_read(&g_regs, 0, G_WORDS, rf);
  memcpy(lanes, rf + G_LANES, sizeof lanes);
  for (uint32_t t = 0; t < TILES; t++) {
    mt_state_tile_read(&g_tiles[t], 0, T_WORDS, img);
    for (uint32_t w = 0; w < WEIGHTS; w++) rtl_set_record(t, w, img + w * MT_WEIGHT_WORDS);
  }
}

static void assert_global_equal(void) {
  uint32_t ref[G_WORDS];
  mt_state_global_read(&g_regs, 0, G_WORDS, ref);
  for (uint32_t i = 0; i < G_WORDS; i++) {
    if (rf_read(i) != ref[i]) print_message("GLOBAL word %u: rtl %08x C %08x\n", i, rf_read(i), ref[i]);
    assert_int_equal(rf_read(i), ref[i]);
  }
}

static void assert_tile_equal(uint32_t t) {
  static uint32_t ref[T_WORDS];
  uint32_t rec[MT_WEIGHT_WORDS];
  mt_state_tile_read(&g_tiles[t], 0, T_WORDS, ref);
  for (uint32_t w = 0; w < WEIGHTS; w++) {
    rtl_record(t, w, rec);
    if (memcmp(rec, ref + w * MT_WEIGHT_WORDS, sizeof rec) != 0) {
      for (uint32_t k = 0; k < MT_WEIGHT_WORDS; k++)
        print_message("tile %u weight %u word %u: rtl %08x C %08x\n", t, w, k, rec[k],
                      ref[w * MT_WEIGHT_WORDS + k]);
    }
    assert_memory_equal(rec, ref + w * MT_WEIGHT_WORDS, sizeof rec);
  }
}

/* ------------------------------------------------------------------ one command on each */
typedef struct {
  uint32_t status, d0, d1, n_out;
  uint32_t *rsp;
  uint64_t cycles;
} result_t;

static uint32_t g_rsp_rtl[MT_STATE_CHUNK + 8], g_rsp_c[MT_STATE_CHUNK + 8];
static uint32_t g_cmd[2 + MAX_PL];

static int io_idle(const tb_eng_io_t *io) {
  static const uint32_t zero[TB_ENG_DM_WORDS];
  return !io->done && !io->status && !io->detail0 && !io->detail1 && !io->n_out && !io->pl_addr &&
         !io->rsp_we && !io->rsp_addr && !io->rsp_data && !io->g_we && !io->g_addr && !io->g_wdata &&
         !io->g_raddr && !io->nz_load && !memcmp(io->nz_load_state, zero, sizeof io->nz_load_state) &&
         !io->gm_addr && !io->gm_we && !memcmp(io->gm_wdata, zero, sizeof io->gm_wdata) &&
         !io->dm_addr && !io->dm_we && !memcmp(io->dm_wdata, zero, sizeof io->dm_wdata) &&
         !io->lm_addr && !io->lm_we && !memcmp(io->lm_wdata, zero, sizeof io->lm_wdata) &&
         !io->hm_addr && !io->hm_we && !memcmp(io->hm_wdata, zero, sizeof io->hm_wdata) &&
         !io->others;
}

static void put_slots(uint32_t *line, const uint32_t *wdata, uint32_t we, unsigned slots,
                      unsigned width) {
  for (unsigned s = 0; s < slots; s++)
    if ((we >> s) & 1u)
      for (unsigned b = 0; b < width; b += 8)
        bits_set(line, width * s + b, 8, bits_get(wdata, width * s + b, 8));
}

static void run_rtl(uint32_t op, const uint32_t *pl, uint32_t len, uint32_t cap, result_t *r) {
  static tb_eng_io_t io;
  memset(&io, 0, sizeof io);
  memcpy(io.nz_state, lanes, sizeof lanes);
  io.start = 1;
  io.op = op;
  io.len = len;
  io.cap = cap;
  uint32_t written = 0;
  /* The register file's, the payload buffer's and the tile memories' read ports: a word two
   * edges after its address (the memories' words read at the first edge wait in *_s). */
  uint32_t g_raddr_q = 0, pl_addr_q = 0;
  static uint32_t gm_s[TB_ENG_GM_WORDS], dm_s[TB_ENG_DM_WORDS];
  static uint32_t lm_s[TB_ENG_LM_WORDS], hm_s[TB_ENG_HM_WORDS];
  memset(gm_s, 0, sizeof gm_s);
  memset(dm_s, 0, sizeof dm_s);
  memset(lm_s, 0, sizeof lm_s);
  memset(hm_s, 0, sizeof hm_s);
  for (r->cycles = 1;; r->cycles++) {
    assert_true(r->cycles < 100000u);
    tb_eng_state_cycle(g_tb, &io);
    assert_false(io.others);
    io.start = 0;
    /* the clock edge: reads first (a read sees the old word), then writes */
    io.pl_data = pl_addr_q < len ? pl[pl_addr_q] : 0xDEADBEEFu;
    pl_addr_q = io.pl_addr;
    io.g_rdata = g_raddr_q < G_WORDS ? rf_read(g_raddr_q) : 0xBADBAD00u;
    g_raddr_q = io.g_raddr;
    assert_true(io.gm_addr < NADDR && io.dm_addr < NADDR && io.lm_addr < NADDR && io.hm_addr < NADDR);
    memcpy(io.gm_rdata, gm_s, sizeof io.gm_rdata);
    memcpy(io.dm_rdata, dm_s, sizeof io.dm_rdata);
    memcpy(io.lm_rdata, lm_s, sizeof io.lm_rdata);
    memcpy(io.hm_rdata, hm_s, sizeof io.hm_rdata);
    memcpy(gm_s, gm[io.gm_addr], sizeof gm_s);
    memcpy(dm_s, dm[io.dm_addr], sizeof dm_s);
    memcpy(lm_s, lm[io.lm_addr], sizeof lm_s);
    memcpy(hm_s, hm[io.hm_addr], sizeof hm_s);
    if (io.rsp_we) {
      assert_true(io.rsp_addr < cap && io.rsp_addr < MT_STATE_CHUNK);
      assert_int_equal(io.rsp_addr, written); /* in order, once each */
      g_rsp_rtl[io.rsp_addr] = io.rsp_data;
      written++;
    }
    if (io.g_we) rf_write(io.g_addr, io.g_wdata);
    if (io.nz_load) memcpy(lanes, io.nz_load_state, sizeof lanes);
    memcpy(io.nz_state, lanes, sizeof lanes);
    put_slots(gm[io.gm_addr], io.gm_wdata, io.gm_we, 2 * LANES, 16);
    put_slots(dm[io.dm_addr], io.dm_wdata, io.dm_we, 2 * LANES, 136);
    put_slots(lm[io.lm_addr], io.lm_wdata, io.lm_we, LANES, 16);
    put_slots(hm[io.hm_addr], io.hm_wdata, io.hm_we, LANES, 32);
    if (io.done) break;
  }
  r->status = io.status;
  r->d0 = io.detail0;
  r->d1 = io.detail1;
  r->n_out = io.n_out;
  r->rsp = g_rsp_rtl;
  if (r->status == MT_ST_OK) assert_int_equal(written, r->n_out);
  else assert_int_equal(written, 0);
  /* back to idle: every output 0 */
  tb_eng_state_cycle(g_tb, &io);
  assert_true(io_idle(&io));
}

static void run_c(uint32_t op, const uint32_t *pl, uint32_t len, uint32_t cap, result_t *r) {
  uint32_t consumed = 0;
  g_cmd[0] = op << 24 | 0x5Au << 16;
  g_cmd[1] = len;
  memcpy(g_cmd + 2, pl, len * sizeof *pl);
  uint32_t n = mt_kernel(g_cmd, 2 + len, g_rsp_c, cap + 2, &g_regs, g_tiles, TILES, &consumed);
  if (n < 2) print_message("kernel: no response (op %u len %u cap %u)\n", op, len, cap);
  assert_true(n >= 2);
  r->status = g_rsp_c[0] & 0xFFFFu;
  r->n_out = g_rsp_c[1];
  r->d0 = r->status != MT_ST_OK ? g_rsp_c[2] : 0;
  r->d1 = r->status != MT_ST_OK ? g_rsp_c[3] : 0;
  r->rsp = g_rsp_c + 2;
}

static unsigned g_n_cmds, g_n_ok, g_status_seen[16];

/* Runs one command on both and compares; returns the status. */
static uint32_t both(uint32_t op, const uint32_t *pl, uint32_t len, uint32_t cap, uint64_t *cycles) {
  result_t c, v;
  /* the top starts a command only with room for an error response, and its response buffer
   * has MAX_PAYLOAD words */
  if (cap < 2) cap = 2;
  if (cap > MT_MAX_PAYLOAD) cap = MT_MAX_PAYLOAD;
  run_c(op, pl, len, cap, &c);
  run_rtl(op, pl, len, cap, &v);
  if (c.status != v.status || c.d0 != v.d0 || c.d1 != v.d1)
    print_message("op %u len %u p %u %u %u %u: C status %u (%u, %u), rtl %u (%u, %u)\n", op, len,
                  pl[0], pl[1], pl[2], len > 3 ? pl[3] : 0, c.status, c.d0, c.d1, v.status, v.d0,
                  v.d1);
  assert_int_equal(v.status, c.status);
  assert_int_equal(v.d0, c.d0);
  assert_int_equal(v.d1, c.d1);
  if (c.status == MT_ST_OK) {
    assert_int_equal(v.n_out, c.n_out);
    assert_memory_equal(v.rsp, c.rsp, c.n_out * sizeof *c.rsp);
  }
  g_n_cmds++;
  g_n_ok += c.status == MT_ST_OK;
  g_status_seen[c.status & 15u]++;
  if (cycles) *cycles = v.cycles;
  return c.status;
}

/* ------------------------------------------------------------------ images */
static void rand_cfg(uint32_t *cfg) {
  for (uint32_t i = 0; i < MT_CFG_COUNT; i++) {
    uint32_t span = mt_cfg_max[i] - mt_cfg_min[i];
    cfg[i] = mt_cfg_min[i] + (span == 0xFFFFFFFFu ? rnd() : below(span + 1));
    if (rnd() % 8 == 0) cfg[i] = rnd() % 2 ? mt_cfg_min[i] : mt_cfg_max[i];
  }
  if (cfg[MT_CFG_G_MIN] >= cfg[MT_CFG_G_MAX]) {
    cfg[MT_CFG_G_MIN] = below(65535);
    cfg[MT_CFG_G_MAX] = cfg[MT_CFG_G_MIN] + 1 + below(65535 - cfg[MT_CFG_G_MIN]);
  }
  if ((uint64_t)cfg[MT_CFG_P_STUCK_LOW] + cfg[MT_CFG_P_STUCK_HIGH] > 0xFFFFFFFFu) {
    /* at or just below the sum's limit, never below 0 */
    uint32_t room = ~cfg[MT_CFG_P_STUCK_LOW];
    cfg[MT_CFG_P_STUCK_HIGH] = room - below(room < 16 ? room + 1 : 16);
  }
  if (cfg[MT_CFG_META_HIDDEN_FRAC] >= cfg[MT_CFG_META_HIDDEN_BITS])
    cfg[MT_CFG_META_HIDDEN_FRAC] = below(cfg[MT_CFG_META_HIDDEN_BITS]);
}

static void rand_global(uint32_t *img) {
  for (uint32_t i = 0; i < G_WORDS; i++) img[i] = rnd();
  img[0] = VERSION;
  img[1] = rnd() % 3 != 0;
  if (img[1]) rand_cfg(img + 2);
  img[G_LEVELS] = rnd() % 4 == 0 ? 0 : 2 + below(255);
  for (uint32_t q = 0; q < MT_MAX_LEVELS; q++) img[G_LT + 3 * q + 2] &= rnd() % 8 ? 0xFFFFu : 0x1FFFFu;
  for (uint32_t q = 0; q < MT_MAX_LEVELS; q++)
    if (img[G_LT + 3 * q + 2] > 0xFFFFu) img[G_LT + 3 * q + 2] &= 0xFFFFu;
  for (uint32_t q = 0; q < MT_MAX_LEVELS; q++) /* pulse indices within MAX_PULSE_INDEX */
    img[G_LT + 3 * q + 1] = below(MT_MAX_PULSE_INDEX + 1) | below(MT_MAX_PULSE_INDEX + 1) << 16;
  for (uint32_t l = 0; l < LANES; l++) {
    uint32_t *s = img + G_LANES + 4 * l;
    if (rnd() % 4 == 0) {
      uint32_t keep = below(4);
      for (uint32_t k = 0; k < 4; k++) s[k] = k == keep ? 1u << below(32) : 0;
    }
  }
  img[G_FAB] &= (1u << TILES) - 1u;
  img[G_FAB + 1] = 0;
}

/* Breaks one invariant of a GLOBAL image (kind chosen at random). */
static void corrupt_global(uint32_t *img) {
  uint32_t f;
  switch (below(10)) {
    case 0: img[0] ^= 1u << below(32); break;
    case 1: img[1] = 2 + below(rnd() % 2 ? 3 : 0xFFFFFFF0u); break;
    case 2: /* a CONFIGURE field out of range */
      img[1] = 1;
      do f = below(MT_CFG_COUNT);
      while (mt_cfg_max[f] == 0xFFFFFFFFu && mt_cfg_min[f] == 0);
      if (mt_cfg_max[f] != 0xFFFFFFFFu && (mt_cfg_min[f] == 0 || rnd() % 2))
        img[2 + f] = mt_cfg_max[f] + 1 + below(rnd() % 2 ? 2 : 0xFFFFFFFFu - mt_cfg_max[f]);
      else
        img[2 + f] = below(mt_cfg_min[f]);
      break;
    case 3: /* g_min >= g_max */
      img[1] = 1;
      img[2 + MT_CFG_G_MAX] = below(65536);
      img[2 + MT_CFG_G_MIN] = img[2 + MT_CFG_G_MAX] + below(65536 - img[2 + MT_CFG_G_MAX]);
      break;
    case 4: /* p_stuck_low + p_stuck_high > 2^32 - 1 */
      img[1] = 1;
      img[2 + MT_CFG_P_STUCK_LOW] = rnd() | 1u;
      img[2 + MT_CFG_P_STUCK_HIGH] = ~img[2 + MT_CFG_P_STUCK_LOW] + 1 + below(img[2 + MT_CFG_P_STUCK_LOW]);
      break;
    case 5: img[G_LEVELS] = rnd() % 2 ? 1 : 257 + below(rnd() % 2 ? 4 : 0xFFFFFF00u); break;
    case 6:
      if (rnd() % 2) {
        img[G_LT + 3 * below(MT_MAX_LEVELS) + 2] = 0x10000u + below(0xFFFEFFFFu);
      } else { /* a pulse index above MAX_PULSE_INDEX, in either half */
        f = G_LT + 3 * below(MT_MAX_LEVELS) + 1;
        img[f] = rnd() % 2 ? (img[f] & 0xFFFF0000u) | (MT_MAX_PULSE_INDEX + 1 + below(0xFFFF - MT_MAX_PULSE_INDEX))
                           : (img[f] & 0xFFFFu) | (MT_MAX_PULSE_INDEX + 1 + below(0xFFFF - MT_MAX_PULSE_INDEX)) << 16;
      }
      break;
    case 7: f = below(LANES); memset(img + G_LANES + 4 * f, 0, 16); break;
    case 8: f = TILES + below(64 - TILES); img[G_FAB + f / 32] |= 1u << (f % 32); break;
    default: img[G_FAB + 1] |= rnd(); break;
  }
}

static void rand_record(uint32_t *r) {
  for (uint32_t k = 0; k < 2; k++) {
    uint32_t lo = below(65536), hi = lo + below(65536 - lo);
    if (rnd() % 8 == 0) hi = lo;
    r[1 + k] = lo | hi << 16;
    uint32_t g = lo + below(hi - lo + 1);
    if (rnd() % 8 == 0) g = rnd() % 2 ? lo : hi;
    r[0] = k == 0 ? g : (r[0] & 0xFFFFu) | g << 16;
  }
  for (uint32_t k = 3; k < 9; k++) r[k] = rnd();
  uint32_t level = rnd() % 4 == 0 ? MT_LEVEL_NONE : below(MT_MAX_LEVELS);
  r[9] = below(4) | below(4) << 8 | level << 16;
  int32_t h = (int32_t)below(0x7FFFFFFFu) - 0x3FFFFFFF;
  if (rnd() % 8 == 0) h = rnd() % 2 ? 0x3FFFFFFF : -0x3FFFFFFF;
  r[10] = (uint32_t)h;
}

static void corrupt_record(uint32_t *r) {
  uint32_t lo, hi;
  switch (below(9)) {
    case 0:
    case 1: /* gmin > gmax in word 1 or 2 */
      lo = 1 + below(65535), hi = below(lo);
      r[1 + rnd() % 2] = lo | hi << 16;
      break;
    case 2: /* g+ outside [gmin+, gmax+] */
      lo = r[1] & 0xFFFFu, hi = r[1] >> 16;
      if (hi < 65535 && (lo == 0 || rnd() % 2)) r[0] = (r[0] & 0xFFFF0000u) | (hi + 1 + below(65535 - hi));
      else if (lo > 0) r[0] = (r[0] & 0xFFFF0000u) | below(lo);
      else r[1] = 1u | 5u << 16, r[0] &= 0xFFFF0000u;
      break;
    case 3: /* g- outside */
      lo = r[2] & 0xFFFFu, hi = r[2] >> 16;
      if (hi < 65535 && (lo == 0 || rnd() % 2)) r[0] = (r[0] & 0xFFFFu) | (hi + 1 + below(65535 - hi)) << 16;
      else if (lo > 0) r[0] = (r[0] & 0xFFFFu) | below(lo) << 16;
      else r[2] = 1u | 5u << 16, r[0] &= 0xFFFFu;
      break;
    case 4: r[9] = (r[9] & ~0xFFu) | (4 + below(252)); break;
    case 5: r[9] = (r[9] & ~0xFF00u) | (4 + below(252)) << 8; break;
    case 6: r[9] = (r[9] & 0xFFFFu) | (MT_MAX_LEVELS + below(0xFFFF - MT_MAX_LEVELS)) << 16; break;
    case 7: r[10] = 0x40000000u + below(0x40000000u); break;
    default: r[10] = (uint32_t)(-0x40000000 - (int32_t)below(0x40000000u)); break;
  }
}

/* ------------------------------------------------------------------ fixtures */
static void fresh_devices(void) {
  mt_device_reset(&g_regs, g_tiles, TILES);
  /* A device with something in every field: a random valid GLOBAL image and random records
   * in a few rows of every tile. */
  uint32_t img[G_WORDS], rec[32 * MT_WEIGHT_WORDS];
  rand_global(img);
  uint32_t bad = 0;
  if (mt_state_global_check(img, TILES, &bad) != MT_ST_OK) fail_msg("random GLOBAL image: word %u (0x%x) refused", bad, img[bad]);
  mt_state_global_write(&g_regs, img);
  for (uint32_t t = 0; t < TILES; t++)
    for (uint32_t k = 0; k < 8; k++) {
      for (uint32_t w = 0; w < 32; w++) rand_record(rec + w * MT_WEIGHT_WORDS);
      uint32_t w0 = below(WEIGHTS - 32);
      mt_state_tile_write(&g_tiles[t], w0 * MT_WEIGHT_WORDS, 32 * MT_WEIGHT_WORDS, rec);
    }
  mirror_c_to_rtl();
}

static int setup(void **state) {
  (void)state;
  g_tiles = calloc(TILES, sizeof *g_tiles);
  gm = calloc(NADDR, sizeof *gm);
  dm = calloc(NADDR, sizeof *dm);
  lm = calloc(NADDR, sizeof *lm);
  hm = calloc(NADDR, sizeof *hm);
  g_tb = tb_eng_state_open();
  return g_tiles && gm && dm && lm && hm && g_tb ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_eng_state_close(g_tb);
  free(g_tiles), free(gm), free(dm), free(lm), free(hm);
  return 0;
}

static uint32_t g_pl[MAX_PL];

static uint32_t state_read(uint32_t sec, uint32_t idx, uint32_t off, uint32_t count, uint32_t cap,
                           uint64_t *cycles) {
  uint32_t p[4] = {sec, idx, off, count};
  return both(MT_OP_STATE_READ, p, 4, cap, cycles);
}

/* STATE_WRITE with the words already in g_pl[3..]. */
static uint32_t state_write(uint32_t sec, uint32_t idx, uint32_t off, uint32_t count,
                            uint64_t *cycles) {
  g_pl[0] = sec, g_pl[1] = idx, g_pl[2] = off;
  return both(MT_OP_STATE_WRITE, g_pl, 3 + count, 16, cycles);
}

/* ------------------------------------------------------------------ tests */
static void geometry(void **state) {
  (void)state;
  uint32_t geo[4];
  tb_eng_state_geometry(g_tb, geo);
  assert_int_equal(geo[0], TILES);
  assert_int_equal(geo[1], MT_ROWS);
  assert_int_equal(geo[2], MT_COLS);
  assert_int_equal(geo[3], MT_LANES);
  assert_int_equal(G_FAB + MT_MAX_TILES / 32, G_WORDS);
}

/* The header checks, each in turn, with both opcodes and both sections. */
static void header_checks(void **state) {
  (void)state;
  fresh_devices();
  static const uint32_t lens[] = {0, 1, 2, 3, 5, 6, 100};
  for (uint32_t k = 0; k < sizeof lens / sizeof *lens; k++) {
    for (uint32_t i = 0; i < lens[k]; i++) g_pl[i] = i == 0 ? MT_SECTION_TILE : 0;
    both(MT_OP_STATE_READ, g_pl, lens[k], 64, NULL);
    if (lens[k] < 4) both(MT_OP_STATE_WRITE, g_pl, lens[k], 64, NULL);
  }
  const uint32_t big = 0xFFFFFFFFu;
  uint32_t cases[][4] = {
      {2, 0, 0, 1}, {big, 0, 0, 1}, {0, 1, 0, 1}, {0, big, 0, 1}, {1, TILES, 0, 1},
      {1, big, 0, 1}, {0, 0, G_WORDS, 1}, {0, 0, big, 1}, {1, 0, T_WORDS, 1}, {1, 1, big, 1},
      {0, 0, 0, 0}, {0, 0, 5, G_WORDS - 4}, {0, 0, G_WORDS - 1, 1}, {0, 0, G_WORDS - 1, 2},
      {1, 0, 0, MT_STATE_CHUNK}, {1, 0, 0, MT_STATE_CHUNK + 1}, {1, 3, T_WORDS - 5, 5},
      {1, 3, T_WORDS - 5, 6}, {1, 2, 7, big}, {0, 0, 0, G_WORDS}, {2, big, big, 0}};
  for (uint32_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    const uint32_t *c = cases[k];
    state_read(c[0], c[1], c[2], c[3], MT_STATE_CHUNK, NULL);
    state_read(c[0], c[1], c[2], c[3], c[3] ? c[3] - 1 : 0, NULL); /* ERR_OVERFLOW last */
    uint32_t n = c[3] <= MT_STATE_CHUNK + 1 ? c[3] : 7;
    for (uint32_t i = 0; i < n; i++) g_pl[3 + i] = 0;
    state_write(c[0], c[1], c[2], n, NULL);
  }
  /* STATE_WRITE only: GLOBAL whole, TILE aligned */
  uint32_t img[G_WORDS];
  rand_global(img);
  memcpy(g_pl + 3, img, sizeof img);
  assert_int_equal(state_write(0, 0, 0, G_WORDS - 1, NULL), MT_ST_ERR_LENGTH);
  assert_int_equal(state_write(0, 0, 1, G_WORDS - 1, NULL), MT_ST_ERR_LENGTH);
  for (uint32_t i = 0; i < 40 * MT_WEIGHT_WORDS; i += MT_WEIGHT_WORDS) rand_record(g_pl + 3 + i);
  assert_int_equal(state_write(1, 0, 5, 22, NULL), MT_ST_ERR_RANGE);
  assert_int_equal(state_write(1, 0, 11, 21, NULL), MT_ST_ERR_LENGTH);
  assert_int_equal(state_write(1, 0, 10, 21, NULL), MT_ST_ERR_RANGE); /* offset checked first */
  assert_int_equal(state_write(1, 0, T_WORDS - 11, 11, NULL), MT_ST_OK);
  assert_int_equal(state_write(1, 0, T_WORDS - 11, 22, NULL), MT_ST_ERR_RANGE);
  assert_global_equal();
  assert_tile_equal(0);
}

/* Random GLOBAL images, valid and broken (one to three invariants at once, so the order of
 * the checks matters), and reads of random GLOBAL chunks. */
static void global_images(void **state) {
  (void)state;
  fresh_devices();
  uint32_t img[G_WORDS];
  uint64_t cyc;
  unsigned ok = 0, bad = 0;
  for (uint32_t it = 0; it < 120; it++) {
    rand_global(img);
    uint32_t nbad = it % 3 == 0 ? 0 : 1 + below(3);
    for (uint32_t k = 0; k < nbad; k++) corrupt_global(img);
    memcpy(g_pl + 3, img, sizeof img);
    uint32_t st = state_write(0, 0, 0, G_WORDS, &cyc);
    if (st == MT_ST_OK) {
      ok++;
      if (it == 0) print_message("# GLOBAL write: %llu cycles\n", (unsigned long long)cyc);
    } else {
      assert_int_equal(st, MT_ST_ERR_SNAPSHOT);
      bad++;
    }
    assert_global_equal();
    uint32_t off = below(G_WORDS), count = 1 + below(G_WORDS - off);
    st = state_read(0, 0, off, count, count + below(3), &cyc);
    assert_int_equal(st, MT_ST_OK);
  }
  state_read(0, 0, 0, G_WORDS, G_WORDS, &cyc);
  print_message("# GLOBAL read of %u words: %llu cycles; %u images accepted, %u rejected\n",
                G_WORDS, (unsigned long long)cyc, ok, bad);
  assert_true(ok > 20 && bad > 40);
}

/* Every GLOBAL check on its own, at its boundary. */
static void global_each_check(void **state) {
  (void)state;
  fresh_devices();
  uint32_t base[G_WORDS];
  do rand_global(base);
  while (!base[1]);
  struct { uint32_t word, value; uint32_t ok; } cases[] = {
      {0, VERSION + 1, 0}, {0, VERSION ^ 0x80000000u, 0}, {1, 2, 0}, {1, 0, 1},
      {2 + MT_CFG_READ_MODE, 3, 0}, {2 + MT_CFG_READ_MODE, 2, 1}, {2 + MT_CFG_DAC_BITS, 1, 0},
      {2 + MT_CFG_DAC_BITS, 17, 0}, {2 + MT_CFG_ADC_SHIFT, 63, 0}, {2 + 39, 2, 0},
      {2 + MT_CFG_WV_MAX_ITER, 0, 0}, {2 + MT_CFG_WV_MAX_ITER, 1024, 0}, {2 + 0, 65536, 0},
      {G_LEVELS, 1, 0}, {G_LEVELS, 257, 0}, {G_LEVELS, 256, 1}, {G_LEVELS, 2, 1}, {G_LEVELS, 0, 1},
      {G_LT + 2, 0x10000u, 0}, {G_LT + 2, 0xFFFFu, 1}, {G_LT + 3 * 255 + 2, 0xFFFFFFFFu, 0},
      {G_LT + 3 * 255 + 1, 0xFFFFFFFFu, 0}, {G_LT + 1, MT_MAX_PULSE_INDEX + 1, 0},
      {G_LT + 1, (MT_MAX_PULSE_INDEX + 1) << 16, 0},
      {G_LT + 1, MT_MAX_PULSE_INDEX | MT_MAX_PULSE_INDEX << 16, 1}, {G_LT, 0xFFFFFFFFu, 1},
      {G_FAB, 1u << TILES, 0}, {G_FAB, (1u << TILES) - 1, 1},
      {G_FAB + 1, 0x80000000u, 0}};
  for (uint32_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    memcpy(g_pl + 3, base, sizeof base);
    g_pl[3 + cases[k].word] = cases[k].value;
    uint32_t st = state_write(0, 0, 0, G_WORDS, NULL);
    assert_int_equal(st, cases[k].ok ? MT_ST_OK : MT_ST_ERR_SNAPSHOT);
    assert_global_equal();
  }
  /* cross-field checks come after every range check, g_min/g_max before the stuck sum */
  for (uint32_t v = 0; v < 4; v++) {
    memcpy(g_pl + 3, base, sizeof base);
    uint32_t *c = g_pl + 5;
    c[MT_CFG_G_MIN] = 500, c[MT_CFG_G_MAX] = 500;
    if (v & 1) c[MT_CFG_P_STUCK_LOW] = 0x80000000u, c[MT_CFG_P_STUCK_HIGH] = 0x80000000u;
    if (v & 2) c[MT_CFG_META_PROG_MODE] = 7;
    assert_int_equal(state_write(0, 0, 0, G_WORDS, NULL), MT_ST_ERR_SNAPSHOT);
    c[MT_CFG_G_MAX] = 501;
    state_write(0, 0, 0, G_WORDS, NULL);
    g_pl[4] = 0; /* not configured: the fields are not looked at */
    assert_int_equal(state_write(0, 0, 0, G_WORDS, NULL), MT_ST_OK);
    assert_global_equal();
  }
  for (uint32_t l = 0; l < LANES; l++)
    for (uint32_t k = 0; k < 5; k++) {
      memcpy(g_pl + 3, base, sizeof base);
      for (uint32_t i = 0; i < 4; i++) g_pl[3 + G_LANES + 4 * l + i] = i == k ? 0x80000000u : 0;
      assert_int_equal(state_write(0, 0, 0, G_WORDS, NULL), k < 4 ? MT_ST_OK : MT_ST_ERR_SNAPSHOT);
      assert_global_equal();
    }
}

/* Random TILE chunks: reads anywhere (any offset and count), aligned writes of valid and
 * broken records. */
static void tile_chunks(void **state) {
  (void)state;
  fresh_devices();
  uint64_t cyc;
  unsigned touched = 0;
  for (uint32_t it = 0; it < 160; it++) {
    uint32_t t = below(TILES);
    uint32_t off, count;
    switch (it % 4) {
      case 0: off = below(T_WORDS), count = 1 + below(200); break;
      case 1: off = T_WORDS - 1 - below(300), count = 1 + below(400); break;
      case 2: off = below(T_WORDS), count = 1 + below(MT_STATE_CHUNK); break;
      default: off = below(64), count = 1 + below(3 * MT_WEIGHT_WORDS); break;
    }
    if (count > T_WORDS - off && rnd() % 2) count = T_WORDS - off;
    state_read(1, t, off, count, rnd() % 8 ? MT_STATE_CHUNK : count - (count > 1), &cyc);

    uint32_t n = it % 16 == 0 ? 1 + below(MT_STATE_CHUNK / MT_WEIGHT_WORDS) : 1 + below(40);
    uint32_t w0 = below(WEIGHTS - n + 1);
    if (it % 10 == 3) w0 = WEIGHTS - n;
    for (uint32_t k = 0; k < n; k++) rand_record(g_pl + 3 + k * MT_WEIGHT_WORDS);
    uint32_t nbad = it % 3 == 0 ? below(4) : 0;
    for (uint32_t k = 0; k < nbad; k++) corrupt_record(g_pl + 3 + below(n) * MT_WEIGHT_WORDS);
    uint32_t st = state_write(1, t, w0 * MT_WEIGHT_WORDS, n * MT_WEIGHT_WORDS, &cyc);
    if (st == MT_ST_OK) touched |= 1u << t;
    if (it % 16 == 0)
      print_message("# TILE write of %u words: status %u, %llu cycles\n", n * MT_WEIGHT_WORDS, st,
                    (unsigned long long)cyc);
    if (it % 8 == 0) assert_tile_equal(t);
  }
  for (uint32_t t = 0; t < TILES; t++) assert_tile_equal(t);
  assert_global_equal();
  assert_true(touched != 0);
}

/* Every TILE check on its own, at its boundary, in the first, a middle and the last record. */
static void tile_each_check(void **state) {
  (void)state;
  fresh_devices();
  const uint32_t n = 5;
  for (uint32_t kind = 0; kind < 9 * 3; kind++) {
    for (uint32_t k = 0; k < n; k++) rand_record(g_pl + 3 + k * MT_WEIGHT_WORDS);
    uint32_t *r = g_pl + 3 + (kind / 9 == 0 ? 0 : kind / 9 == 1 ? 2 : n - 1) * MT_WEIGHT_WORDS;
    switch (kind % 9) {
      case 0: r[1] = 7 | 6u << 16; break;
      case 1: r[2] = 0xFFFF | 0xFFFEu << 16; break;
      case 2: r[1] = 100 | 200u << 16, r[0] = (r[0] & 0xFFFF0000u) | 99; break;
      case 3: r[2] = 100 | 200u << 16, r[0] = (r[0] & 0xFFFFu) | 201u << 16; break;
      case 4: r[9] = (r[9] & ~0xFFu) | 4; break;
      case 5: r[9] = (r[9] & ~0xFF00u) | 0xFF00u; break;
      case 6: r[9] = (r[9] & 0xFFFFu) | 0xFFFEu << 16; break;
      case 7: r[10] = 0x40000000u; break;
      default: r[10] = (uint32_t)-0x40000000; break;
    }
    assert_int_equal(state_write(1, kind % TILES, 11 * kind, n * MT_WEIGHT_WORDS, NULL),
                     MT_ST_ERR_SNAPSHOT);
  }
  /* the boundary values themselves are valid */
  uint32_t *r = g_pl + 3;
  for (uint32_t k = 0; k < n; k++) rand_record(g_pl + 3 + k * MT_WEIGHT_WORDS);
  r[1] = 9 | 9u << 16, r[2] = 0 | 0xFFFFu << 16, r[0] = 9 | 0xFFFFu << 16;
  r[9] = 3 | 3u << 8 | 255u << 16, r[10] = 0x3FFFFFFF;
  r[11 + 9] = MT_LEVEL_NONE << 16, r[11 + 10] = (uint32_t)-0x3FFFFFFF;
  assert_int_equal(state_write(1, TILES - 1, 0, n * MT_WEIGHT_WORDS, NULL), MT_ST_OK);
  assert_tile_equal(TILES - 1);
  assert_tile_equal(0);
}

/* Snapshot and restore through the engine alone: read every section in chunks, scramble the
 * RTL device, write the chunks back, and the RTL state equals the model's again. */
static void round_trip(void **state) {
  (void)state;
  fresh_devices();
  static uint32_t img[TILES][T_WORDS];
  static uint32_t gimg[G_WORDS];
  uint64_t cyc, rd_cyc = 0, wr_cyc = 0;
  /* GLOBAL in uneven chunks */
  for (uint32_t off = 0, count; off < G_WORDS; off += count) {
    count = 1 + below(400);
    if (count > G_WORDS - off) count = G_WORDS - off;
    assert_int_equal(state_read(0, 0, off, count, count, NULL), MT_ST_OK);
    memcpy(gimg + off, g_rsp_rtl, count * 4);
  }
  /* tiles 0 and 15 in chunks of up to STATE_CHUNK words, not aligned to records */
  static const uint32_t ts[] = {0, TILES - 1};
  for (uint32_t k = 0; k < 2; k++) {
    uint32_t t = ts[k];
    for (uint32_t off = 0, count; off < T_WORDS; off += count) {
      count = MT_STATE_CHUNK - below(100);
      if (count > T_WORDS - off) count = T_WORDS - off;
      assert_int_equal(state_read(1, t, off, count, count, &cyc), MT_ST_OK);
      rd_cyc += cyc;
      memcpy(img[t] + off, g_rsp_rtl, count * 4);
    }
  }
  /* scramble the RTL side (the model stays as it was) */
  for (uint32_t i = 0; i < G_WORDS; i++) rf[i] = rnd();
  for (uint32_t i = 0; i < TB_ENG_NZ_WORDS; i++) lanes[i] = rnd();
  for (uint32_t a = 0; a < NADDR; a++) {
    for (uint32_t i = 0; i < TB_ENG_DM_WORDS; i++) dm[a][i] = rnd();
    for (uint32_t i = 0; i < TB_ENG_GM_WORDS; i++) gm[a][i] = rnd(), hm[a][i] = rnd();
    for (uint32_t i = 0; i < TB_ENG_LM_WORDS; i++) lm[a][i] = rnd();
  }
  memcpy(g_pl + 3, gimg, sizeof gimg);
  assert_int_equal(state_write(0, 0, 0, G_WORDS, NULL), MT_ST_OK);
  for (uint32_t k = 0; k < 2; k++) {
    uint32_t t = ts[k];
    const uint32_t chunk = (MT_STATE_CHUNK / MT_WEIGHT_WORDS) * MT_WEIGHT_WORDS;
    for (uint32_t off = 0, count; off < T_WORDS; off += count) {
      count = chunk - MT_WEIGHT_WORDS * below(50);
      if (count > T_WORDS - off) count = T_WORDS - off;
      memcpy(g_pl + 3, img[t] + off, count * 4);
      assert_int_equal(state_write(1, t, off, count, &cyc), MT_ST_OK);
      wr_cyc += cyc;
    }
    assert_tile_equal(t);
  }
  assert_global_equal();
  print_message("# 2 tiles: read %llu cycles, written %llu cycles (%u words each)\n",
                (unsigned long long)rd_cyc, (unsigned long long)wr_cyc, T_WORDS);
}

/* The cycle counts stated in docs/rtl.md ("mt_eng_state"), from the start_i cycle to the
 * done_o cycle. DW = bits of a TILE offset: the divider takes DW cycles per division. */
static void cycle_counts(void **state) {
  (void)state;
  fresh_devices();
  uint64_t c;
  uint32_t dw = 0;
  while ((1u << dw) <= T_WORDS) dw++;
  for (uint32_t n = 1; n <= 1001; n += 500) {
    state_read(0, 0, 3, n, n, &c);
    assert_int_equal(c, 12 + n);
    state_read(1, 1, 12345, n, n, &c);
    assert_int_equal(c, 13 + 2 * dw + n);
  }
  state_read(0, 0, 0, 4, 3, &c); /* ERR_OVERFLOW */
  assert_int_equal(c, 9);
  both(MT_OP_STATE_READ, g_pl, 3, 5, &c); /* ERR_LENGTH */
  assert_int_equal(c, 2);
  for (uint32_t n = 1; n <= 201; n += 100) {
    for (uint32_t k = 0; k < n; k++) rand_record(g_pl + 3 + k * MT_WEIGHT_WORDS);
    assert_int_equal(state_write(1, 2, 0, n * 11, &c), MT_ST_OK);
    assert_int_equal(c, 13 + 3 * dw + 2 * (n * 11));
    g_pl[3 + 11 * (n - 1) + 10] = 0x80000000u; /* the last word is bad */
    assert_int_equal(state_write(1, 2, 0, n * 11, &c), MT_ST_ERR_SNAPSHOT);
    assert_int_equal(c, 14 + 3 * dw + n * 11);
  }
  uint32_t img[G_WORDS];
  rand_global(img);
  memcpy(g_pl + 3, img, sizeof img);
  assert_int_equal(state_write(0, 0, 0, G_WORDS, &c), MT_ST_OK);
  assert_int_equal(c, 15 + 2 * G_WORDS); /* one gap before the LEVELS word */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(geometry),         cmocka_unit_test(header_checks),
      cmocka_unit_test(global_images),    cmocka_unit_test(global_each_check),
      cmocka_unit_test(tile_chunks),      cmocka_unit_test(tile_each_check),
      cmocka_unit_test(round_trip),       cmocka_unit_test(cycle_counts),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  printf("# %u commands compared with the model (%u OK)\n", g_n_cmds, g_n_ok);
  return rc;
}
