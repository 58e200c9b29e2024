/* RTL vs C model: the same command streams go to the golden model (mt_kernel, hls/) and to
 * the Verilated device (sim/mt_sim.h), and every response word, the consumed count and the
 * device state must agree. Streams are random from a seed: every opcode, valid commands with
 * random and boundary parameters after a realistic setup (a preset's CONFIGURE, SET_LEVELS,
 * META_TABLE, FABRICATE of every tile), invalid ones (lengths, tiles, regions, levels,
 * parameters, unknown opcodes), several commands per transfer, truncated transfers and small
 * response capacities. Built at the small geometry for make test (the model with the same
 * MT_ROWS/MT_COLS) and at the reference geometry for make test-long.
 *
 * Environment: MT_EQUIV_SEED (default 1), MT_EQUIV_N (random commands, default 2000),
 * MT_EQUIV_OPS (comma list of opcode names, UNKNOWN, or ALL = the default). The opcodes and
 * their weights in the random mix come from the generated table generated/mt_equiv_ops.h
 * (docs/protocol.json): the test fails if an opcode of the table cannot be generated or was never
 * answered OK in the random streams. The first mismatch prints the transfer's commands, the
 * word index, expected and got, and stops. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mt_equiv_ops.h"
#include "mt_model.h"
#include "mt_preset.h"
#include "mt_sim.h"
#include "mt_state.h"

#define OP_UNKNOWN MT_OP_COUNT /* index of "every opcode >= MT_OP_COUNT" */
#define N_OPS ((int)MT_OP_COUNT + 1)
#define RSP_MAX (MT_MAX_PAYLOAD + MT_HDR_WORDS)
#define HIDDEN_MAX MT_HIDDEN_MAX
#define UNKNOWN_WEIGHT 2u /* weight of unknown opcodes in the random mix */
/* Random commands per stream (each stream starts from reset with the next preset): the
 * default 2000 commands then run all four presets, so that both builds (MVM_R 1 and 4) see
 * every read mode in the random mix, none (neurosim-agsi, ideal) included. */
#define STREAM_LEN 500u
#define CHECK_EVERY 500u /* state comparison interval within a stream, in commands */
#define MAX_XFER_CMDS 8u

static const char *const preset_names[] = {"rram", "imprecise", "neurosim-agsi", "ideal"};

/* The generated table is the protocol's opcode list, in value order. */
typedef char equiv_table_covers_protocol[MT_EQUIV_OP_COUNT == MT_OP_COUNT ? 1 : -1];

/* Relative frequency of opcode index k in the random mix (before the allow list). */
static unsigned op_weight(int k) {
  return k == OP_UNKNOWN ? UNKNOWN_WEIGHT : mt_equiv_ops[k].weight;
}

typedef struct {
  uint32_t *w;
  uint32_t n, cap;
} vec_t;

typedef struct {
  uint64_t rng;
  int allow[N_OPS];
  uint32_t tiles;
  mt_regs_t regs;
  mt_tile_t *tm;
  mt_sim *sim;
  mt_preset_t preset;
  uint32_t tag;
  vec_t xfer, pl;
  uint32_t starts[MAX_XFER_CMDS], n_starts;
  uint32_t *rsp_m, *rsp_s;
  /* totals for the report */
  uint64_t commands, transfers, sim_cycles;
  uint64_t runs; /* every transfer, including the setup and the state comparisons */
  uint64_t status_count[MT_ST_COUNT];
  uint64_t op_count[N_OPS], op_ok[N_OPS];
} eq_t;

/* ---- small helpers ---- */

static uint64_t env_u64(const char *name, uint64_t dflt) {
  const char *s = getenv(name);
  if (!s || !*s) return dflt;
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 0);
  if (!end || *end) fail_msg("%s=%s is not a number", name, s);
  return v;
}

static uint64_t rnd(eq_t *e) {
  uint64_t z = (e->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint32_t rn(eq_t *e, uint32_t n) { return n ? (uint32_t)(rnd(e) % n) : 0; }
static int chance(eq_t *e, unsigned pct) { return rn(e, 100) < pct; }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static void vpush(vec_t *v, uint32_t x) {
  if (v->n == v->cap) {
    v->cap = v->cap ? 2 * v->cap : 1024;
    v->w = realloc(v->w, v->cap * sizeof *v->w);
    assert_non_null(v->w);
  }
  v->w[v->n++] = x;
}

static const char *op_name(uint32_t op) { return op < MT_OP_COUNT ? mt_op_names[op] : "UNKNOWN"; }

static int op_index(const char *name, size_t len) {
  for (int k = 0; k < N_OPS; k++) {
    const char *n = op_name((uint32_t)k);
    if (strlen(n) == len && !strncmp(n, name, len)) return k;
  }
  return -1;
}

static void set_allow(eq_t *e) {
  memset(e->allow, 0, sizeof e->allow);
  const char *s = getenv("MT_EQUIV_OPS");
  if (s && *s) {
    if (!strcmp(s, "ALL")) {
      for (int k = 0; k < N_OPS; k++) e->allow[k] = 1;
      return;
    }
    while (*s) {
      size_t len = strcspn(s, ",");
      int k = op_index(s, len);
      if (k < 0) fail_msg("MT_EQUIV_OPS: unknown opcode name '%.*s'", (int)len, s);
      e->allow[k] = 1;
      s += len + (s[len] == ',');
    }
    return;
  }
  for (int k = 0; k < N_OPS; k++) e->allow[k] = 1;
}

static int is_fab(const eq_t *e, uint32_t t) { return (e->regs.fabricated[t / 32] >> (t % 32)) & 1u; }

/* ---- the device pair ---- */

static void pair_open(eq_t *e) {
  char err[256] = "";
  e->sim = mt_sim_open(NULL, err, sizeof err);
  if (!e->sim) fail_msg("mt_sim_open: %s", err);
  /* No command of the mix runs near this long without a word moving, so a hang fails in
   * seconds rather than after the harness's default of 10^8 cycles. */
  if (!getenv("MT_SIM_IDLE_LIMIT")) mt_sim_set_idle_limit(e->sim, 5000000);
  uint32_t rows = 0, cols = 0;
  mt_sim_geometry(e->sim, &e->tiles, &rows, &cols);
  if (rows != MT_ROWS || cols != MT_COLS)
    fail_msg("simulation built for %ux%u tiles, model for %ux%u", rows, cols, MT_ROWS, MT_COLS);
  e->tm = calloc(e->tiles, sizeof *e->tm);
  assert_non_null(e->tm);
  mt_device_reset(&e->regs, e->tm, e->tiles);
  e->runs = 0;
}

static void pair_close(eq_t *e) {
  mt_sim_close(e->sim);
  e->sim = NULL;
  free(e->tm);
  e->tm = NULL;
}

/* ---- the transfer being built ---- */

static void begin_cmd(eq_t *e) {
  assert_true(e->n_starts < MAX_XFER_CMDS);
  e->starts[e->n_starts++] = e->xfer.n;
}

/* Appends a command: header (random reserved bits, which the device ignores), len, payload. */
static void emit(eq_t *e, uint32_t op, uint32_t len, const uint32_t *p, uint32_t n) {
  begin_cmd(e);
  vpush(&e->xfer, op << 24 | (e->tag++ & 0xFFu) << 16 | (chance(e, 10) ? rn(e, 0x10000) : 0));
  vpush(&e->xfer, len);
  for (uint32_t i = 0; i < n; i++) vpush(&e->xfer, p[i]);
}

/* Prints the transfer and the first difference, then fails the test. */
static void report(eq_t *e, uint32_t cap, uint32_t n_m, uint32_t cons_m, uint32_t n_s,
                   uint32_t cons_s, const char *what) {
  fprintf(stderr, "MISMATCH in transfer %llu of the stream (%u command words, rsp_cap %u): %s\n",
          (unsigned long long)e->runs, e->xfer.n, cap, what);
  for (uint32_t k = 0; k < e->n_starts; k++) {
    uint32_t a = e->starts[k], b = k + 1 < e->n_starts ? e->starts[k + 1] : e->xfer.n;
    uint32_t op = e->xfer.w[a] >> 24;
    fprintf(stderr, "  command %u at word %u: %s (%u), %u words:", k, a, op_name(op), op, b - a);
    for (uint32_t i = a; i < b && i < a + 24; i++) fprintf(stderr, " %08x", e->xfer.w[i]);
    fprintf(stderr, "%s\n", b - a > 24 ? " ..." : "");
  }
  fprintf(stderr, "  model: %u response words, consumed %u; rtl: %u words, consumed %u\n", n_m,
          cons_m, n_s, cons_s);
  /* The first differing word, and which response frame of the model holds it. */
  uint32_t n = min_u32(n_m, n_s), i = 0;
  while (i < n && e->rsp_m[i] == e->rsp_s[i]) i++;
  if (i < n_m || i < n_s) {
    uint32_t f = 0, k = 0;
    while (k < n_m && f + MT_HDR_WORDS + e->rsp_m[f + 1] <= i) {
      f += MT_HDR_WORDS + e->rsp_m[f + 1];
      k++;
    }
    fprintf(stderr, "  first difference at response word %u (response %u, %s, word %u of it)\n", i,
            k, f < n_m ? op_name(e->rsp_m[f] >> 24) : "-", i - f);
    for (uint32_t j = i > 4 ? i - 4 : 0; j < i + 8 && (j < n_m || j < n_s); j++) {
      char a[16] = "-", b[16] = "-";
      if (j < n_m) snprintf(a, sizeof a, "%08x", e->rsp_m[j]);
      if (j < n_s) snprintf(b, sizeof b, "%08x", e->rsp_s[j]);
      fprintf(stderr, "    word %u: expected %s got %s%s\n", j, a, b, j == i ? "   <==" : "");
    }
  }
  fail_msg("RTL and model differ (transfer %llu: %s)", (unsigned long long)e->runs, what);
}

/* Runs the built transfer on both and compares; then clears it. */
static void run_xfer(eq_t *e, uint32_t cap, int count_it) {
  uint32_t cons_m = 0, cons_s = 0, n_s = 0;
  uint32_t n_m = mt_kernel(e->xfer.w, e->xfer.n, e->rsp_m, cap, &e->regs, e->tm, e->tiles, &cons_m);
  uint64_t cyc = 0;
  char err[512] = "";
  if (mt_sim_transact(e->sim, e->xfer.w, e->xfer.n, e->rsp_s, cap, &n_s, &cons_s, &cyc, err,
                      sizeof err) != 0)
    report(e, cap, n_m, cons_m, 0, 0, err);
  e->sim_cycles += cyc;
  e->runs++;
  if (n_m != n_s) report(e, cap, n_m, cons_m, n_s, cons_s, "response lengths differ");
  if (cons_m != cons_s) report(e, cap, n_m, cons_m, n_s, cons_s, "consumed counts differ");
  if (memcmp(e->rsp_m, e->rsp_s, n_m * sizeof *e->rsp_m) != 0)
    report(e, cap, n_m, cons_m, n_s, cons_s, "response words differ");
  if (count_it) {
    e->transfers++;
    for (uint32_t f = 0; f + 1 < n_m; f += MT_HDR_WORDS + e->rsp_m[f + 1]) {
      uint32_t st = e->rsp_m[f] & 0xFFFFu, op = e->rsp_m[f] >> 24;
      if (st < MT_ST_COUNT) e->status_count[st]++;
      e->op_count[op < MT_OP_COUNT ? op : OP_UNKNOWN]++;
      e->op_ok[op < MT_OP_COUNT ? op : OP_UNKNOWN] += st == MT_ST_OK;
    }
  }
  e->xfer.n = 0;
  e->n_starts = 0;
}

/* One command alone in a transfer with room for any response. */
static void run_one(eq_t *e, uint32_t op, const uint32_t *p, uint32_t n) {
  emit(e, op, n, p, n);
  run_xfer(e, RSP_MAX, 0);
}

/* ---- state comparison ---- */

/* Compares what the RTL lets us see of the whole state: the full image through STATE_READ
 * when the RTL has it, else the counters and every tile's registers and conductances through
 * the read commands it has. Each goes through run_xfer, so a difference is reported there. */
static void compare_state(eq_t *e) {
  uint32_t p[6] = {0};
  if (e->allow[MT_OP_STATS_GET]) run_one(e, MT_OP_STATS_GET, p, 0);
  if (e->allow[MT_OP_INFO]) run_one(e, MT_OP_INFO, p, 0);
  if (e->allow[MT_OP_STATE_READ]) {
    p[0] = MT_SECTION_GLOBAL, p[1] = 0, p[2] = 0, p[3] = MT_GLOBAL_WORDS;
    run_one(e, MT_OP_STATE_READ, p, 4);
    for (uint32_t t = 0; t < e->tiles; t++) {
      for (uint32_t off = 0; off < MT_TILE_WORDS; off += MT_STATE_CHUNK) {
        p[0] = MT_SECTION_TILE, p[1] = t, p[2] = off;
        p[3] = min_u32(MT_STATE_CHUNK, MT_TILE_WORDS - off);
        run_one(e, MT_OP_STATE_READ, p, 4);
      }
    }
    return;
  }
  for (uint32_t t = 0; t < e->tiles; t++) {
    p[0] = t, p[1] = 0, p[2] = MT_ROWS, p[3] = 0, p[4] = MT_COLS, p[5] = MT_READ_PROBE;
    if (e->allow[MT_OP_READ_LEVELS]) run_one(e, MT_OP_READ_LEVELS, p, 5);
    if (e->allow[MT_OP_META_READ]) run_one(e, MT_OP_META_READ, p, 5);
    if (e->allow[MT_OP_READ_CELLS]) run_one(e, MT_OP_READ_CELLS, p, 6);
  }
}

/* ---- command generators ---- */

static uint32_t pick_tile(eq_t *e, int bad) {
  if (bad) {
    switch (rn(e, 4)) {
      case 0: return e->tiles;
      case 1: return e->tiles + 1 + rn(e, 64);
      case 2: return 0xFFFFFFFFu;
      default: return MT_MAX_TILES;
    }
  }
  if (chance(e, 85)) {
    uint32_t fab[MT_MAX_TILES], n = 0;
    for (uint32_t t = 0; t < e->tiles; t++)
      if (is_fab(e, t)) fab[n++] = t;
    if (n) return fab[rn(e, n)];
  }
  return rn(e, e->tiles);
}

/* row0, nrows, col0, ncols with nrows*ncols <= max_area; bad: one word out of range. */
static void gen_region(eq_t *e, uint32_t *r, uint32_t max_area, int bad) {
  switch (rn(e, 8)) {
    case 0: r[0] = 0, r[1] = MT_ROWS, r[2] = 0, r[3] = MT_COLS; break;
    case 1: r[0] = MT_ROWS - 1, r[1] = 1, r[2] = MT_COLS - 1, r[3] = 1; break;
    case 2: r[0] = rn(e, MT_ROWS), r[1] = MT_ROWS - r[0], r[2] = rn(e, MT_COLS), r[3] = MT_COLS - r[2]; break;
    default:
      r[0] = rn(e, MT_ROWS), r[1] = 1 + rn(e, MT_ROWS - r[0]);
      r[2] = rn(e, MT_COLS), r[3] = 1 + rn(e, MT_COLS - r[2]);
  }
  while (r[1] * r[3] > max_area) {
    if (r[1] > 1 && (r[1] >= r[3] || chance(e, 50))) r[1] = (r[1] + 1) / 2;
    else r[3] = (r[3] + 1) / 2;
  }
  if (!bad) return;
  switch (rn(e, 8)) {
    case 0: r[0] = MT_ROWS + rn(e, 3); break;
    case 1: r[1] = 0; break;
    case 2: r[1] = MT_ROWS - r[0] + 1 + rn(e, 2); break;
    case 3: r[2] = chance(e, 50) ? MT_COLS : 0xFFFFFFFFu; break;
    case 4: r[3] = 0; break;
    case 5: r[3] = MT_COLS - r[2] + 1; break;
    case 6: r[1] = 0x80000000u; break; /* wraps row0 + nrows */
    default: r[0] = 0xFFFFFFFFu;
  }
}

static uint32_t rand_int16_word(eq_t *e, uint32_t dac_bits, unsigned zero_pct) {
  uint32_t w = 0;
  for (int h = 0; h < 2; h++) {
    int32_t v = 0;
    if (!chance(e, zero_pct)) {
      uint32_t kind = rn(e, 10);
      uint32_t mag = kind < 4 ? rn(e, 16) : kind < 8 ? rn(e, 1u << (dac_bits - 1)) + 1 : rn(e, 32768);
      v = chance(e, 50) ? -(int32_t)mag : (int32_t)mag;
      if (kind == 9 && chance(e, 30)) v = -32768;
    }
    w |= ((uint32_t)v & 0xFFFFu) << (16 * h);
  }
  return w;
}

/* CONFIGURE fields near the preset's (a few tweaked, bounded so commands stay cheap). */
static void gen_cfg(eq_t *e, uint32_t *cfg) {
  memcpy(cfg, e->preset.cfg, sizeof e->preset.cfg);
  if (chance(e, 40)) return;
  uint32_t n = 1 + rn(e, 4);
  for (uint32_t k = 0; k < n; k++) {
    uint32_t f = rn(e, MT_CFG_COUNT);
    uint64_t span = (uint64_t)mt_cfg_max[f] - mt_cfg_min[f] + 1;
    cfg[f] = mt_cfg_min[f] + (uint32_t)(rnd(e) % span);
  }
  if (chance(e, 20)) cfg[MT_CFG_READ_MODE] = rn(e, 3);
  if (chance(e, 20)) cfg[MT_CFG_P_STUCK_LOW] = rn(e, 1u << 29), cfg[MT_CFG_P_STUCK_HIGH] = rn(e, 1u << 29);
  if (chance(e, 10)) cfg[MT_CFG_ENDURANCE] = 1 + rn(e, 60);
  if (chance(e, 20)) cfg[MT_CFG_META_PROG_MODE] = rn(e, 2);
  if (chance(e, 30)) { /* the metaplasticity unit at some other design point */
    cfg[MT_CFG_META_HIDDEN_BITS] = 8 + rn(e, 25);
    cfg[MT_CFG_META_HIDDEN_FRAC] = rn(e, 17);
    cfg[MT_CFG_META_UPD_ROUND] = rn(e, 2);
    cfg[MT_CFG_META_TABLE_LOG2] = rn(e, 9);
    cfg[MT_CFG_META_ENTRY_BITS] = 1 + rn(e, 16);
    cfg[MT_CFG_META_RULE] = rn(e, 2);
  }
  if (cfg[MT_CFG_META_HIDDEN_FRAC] >= cfg[MT_CFG_META_HIDDEN_BITS])
    cfg[MT_CFG_META_HIDDEN_FRAC] = rn(e, cfg[MT_CFG_META_HIDDEN_BITS]);
  if (chance(e, 25)) {
    /* The piecewise pulse response with random knots (the pulse unit's interpolation). */
    cfg[MT_CFG_RESP_CLASS] = 1;
    for (uint32_t k = 0; k < 17; k++) {
      cfg[MT_CFG_RESP_UP_0 + k] = rn(e, 65536);
      cfg[MT_CFG_RESP_DN_0 + k] = rn(e, 65536);
    }
  }
  if (chance(e, 35)) {
    /* Conductance drift (DRIFT): PCM-like exponents, or anything up to the field's range. */
    cfg[MT_CFG_DRIFT_NU] = chance(e, 70) ? rn(e, 8000) : rn(e, 65536);
    cfg[MT_CFG_DRIFT_NU_SD] = chance(e, 20) ? 0 : chance(e, 70) ? rn(e, 3000) : rn(e, 65536);
  }
  if (cfg[MT_CFG_WV_MAX_ITER] > 40) cfg[MT_CFG_WV_MAX_ITER] = 1 + rn(e, 40);
  if (cfg[MT_CFG_G_MIN] >= cfg[MT_CFG_G_MAX]) {
    cfg[MT_CFG_G_MIN] = rn(e, 30000);
    cfg[MT_CFG_G_MAX] = cfg[MT_CFG_G_MIN] + 1 + rn(e, 65535 - cfg[MT_CFG_G_MIN]);
  }
  if ((uint64_t)cfg[MT_CFG_P_STUCK_LOW] + cfg[MT_CFG_P_STUCK_HIGH] > 0xFFFFFFFFu)
    cfg[MT_CFG_P_STUCK_HIGH] = 0xFFFFFFFFu - cfg[MT_CFG_P_STUCK_LOW];
}

static void cfg_break(eq_t *e, uint32_t *cfg) {
  switch (rn(e, 4)) {
    case 0: {
      uint32_t f;
      do f = rn(e, MT_CFG_COUNT);
      while (mt_cfg_max[f] == 0xFFFFFFFFu);
      cfg[f] = mt_cfg_max[f] + 1 + rn(e, 3);
      break;
    }
    case 1:
      if (chance(e, 50)) cfg[MT_CFG_DAC_BITS] = chance(e, 50) ? rn(e, 2) : 17;
      else cfg[MT_CFG_WV_MAX_ITER] = chance(e, 50) ? 0 : MT_MAX_WV_ITER + 1;
      break;
    case 2:
      if (chance(e, 50)) cfg[MT_CFG_G_MAX] = cfg[MT_CFG_G_MIN] - (cfg[MT_CFG_G_MIN] ? rn(e, 2) : 0);
      else cfg[MT_CFG_META_HIDDEN_FRAC] = cfg[MT_CFG_META_HIDDEN_BITS] <= 16 ? cfg[MT_CFG_META_HIDDEN_BITS] : 16 + rn(e, 3);
      break;
    default:
      cfg[MT_CFG_P_STUCK_LOW] = 0x80000000u + rn(e, 1000);
      cfg[MT_CFG_P_STUCK_HIGH] = 0x80000000u;
  }
}

/* A SET_LEVELS payload (returns its length): the preset's table or another level count. */
static uint32_t gen_levels(eq_t *e, uint32_t *p) {
  mt_preset_t *q = malloc(sizeof *q);
  assert_non_null(q);
  *q = e->preset;
  uint32_t L = q->levels;
  char err[128];
  if (chance(e, 40)) {
    uint32_t want = chance(e, 10) ? MT_MAX_LEVELS : 2 + rn(e, 63);
    if (mt_preset_set_levels(q, want, err, sizeof err) == 0) L = q->levels;
  }
  p[0] = L;
  memcpy(p + 1, q->level_table, L * MT_LEVEL_ENTRY_WORDS * sizeof *p);
  if (chance(e, 15)) /* arbitrary targets and pulse counts */
    for (uint32_t i = 0; i < L; i++) {
      p[1 + 3 * i] = (uint32_t)rnd(e);
      p[2 + 3 * i] = (uint32_t)rnd(e) & 0x003F003Fu;
      p[3 + 3 * i] = rn(e, 3000);
    }
  free(q);
  return 1 + L * MT_LEVEL_ENTRY_WORDS;
}

/* Builds one command of opcode index k (OP_UNKNOWN: a random unknown opcode). */
static void gen_cmd(eq_t *e, uint32_t k) {
  vec_t *pl = &e->pl;
  pl->n = 0;
  const int bad = chance(e, 15);
  uint32_t op = k, len_delta = 0;
  uint32_t r[4], L = e->regs.levels;
  uint32_t dac_bits = e->regs.configured ? e->regs.cfg[MT_CFG_DAC_BITS] : 8;
  switch (k) {
    case MT_OP_NOP:
      for (uint32_t i = rn(e, 4); i; i--) vpush(pl, (uint32_t)rnd(e));
      break;
    case MT_OP_INFO:
    case MT_OP_STATS_GET:
    case MT_OP_STATS_RESET:
      if (bad)
        for (uint32_t i = 1 + rn(e, 3); i; i--) vpush(pl, (uint32_t)rnd(e));
      break;
    case MT_OP_ECHO:
      for (uint32_t i = chance(e, 5) ? rn(e, 600) : rn(e, 20); i; i--) vpush(pl, (uint32_t)rnd(e));
      break;
    case MT_OP_CONFIGURE: {
      uint32_t cfg[MT_CFG_COUNT];
      gen_cfg(e, cfg);
      if (bad && chance(e, 75)) cfg_break(e, cfg);
      else if (bad) len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
      for (uint32_t i = 0; i < MT_CFG_COUNT; i++) vpush(pl, cfg[i]);
      break;
    }
    case MT_OP_SEED:
      vpush(pl, (uint32_t)rnd(e));
      vpush(pl, chance(e, 20) ? 0 : (uint32_t)rnd(e));
      if (bad) len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
      break;
    case MT_OP_SET_LEVELS: {
      uint32_t *p = malloc((1 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS) * sizeof *p);
      assert_non_null(p);
      uint32_t n = gen_levels(e, p);
      if (bad) {
        switch (rn(e, 4)) {
          case 0: p[0] = (uint32_t[]){0, 1, 257, 0xFFFFFFFFu}[rn(e, 4)]; break;
          case 1: len_delta = chance(e, 50) ? 1 : (uint32_t)-1; break;
          case 2: /* a pulse index above MAX_PULSE_INDEX in either half */
            p[2 + 3 * rn(e, p[0])] = chance(e, 50) ? MT_MAX_PULSE_INDEX + 1u + rn(e, 0xFFFFu - MT_MAX_PULSE_INDEX)
                                                   : (uint32_t)rnd(e) | 0xFC000000u;
            break;
          default: p[3 + 3 * rn(e, p[0])] = 0x10000u + rn(e, 0xFFFF0000u);
        }
      }
      for (uint32_t i = 0; i < n; i++) vpush(pl, p[i]);
      free(p);
      break;
    }
    case MT_OP_META_TABLE:
      for (uint32_t i = 0; i < MT_META_TABLE_SIZE / 2; i++)
        vpush(pl, chance(e, 50) ? e->preset.meta_table[i] : (uint32_t)rnd(e) | (chance(e, 20) ? 0xFFFFu : 0));
      if (bad) len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
      break;
    case MT_OP_FABRICATE:
      vpush(pl, (uint32_t)rnd(e));
      vpush(pl, (uint32_t)rnd(e));
      vpush(pl, pick_tile(e, bad && chance(e, 70)));
      if (bad && pl->w[2] < e->tiles) len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
      break;
    case MT_OP_DRIFT: {
      /* log2_ratio: hours to years after programming, the fraction's edge digits, the
       * largest exponent; beyond DRIFT_MAX_LOG2 when bad. */
      int bad_tile = bad && chance(e, 40), bad_l = bad && !bad_tile && chance(e, 60);
      vpush(pl, (uint32_t)rnd(e));
      vpush(pl, (uint32_t)rnd(e));
      vpush(pl, pick_tile(e, bad_tile));
      uint32_t l;
      switch (rn(e, 5)) {
        case 0: l = rn(e, 65536); break;
        case 1: l = MT_DRIFT_MAX_LOG2 - rn(e, 3); break;
        case 2: l = rn(e, 4) * 65536u + (chance(e, 50) ? 0xFFFFu : 0x1111u * rn(e, 16)); break;
        default: l = rn(e, 30u * 65536u);
      }
      if (bad_l) l = chance(e, 50) ? MT_DRIFT_MAX_LOG2 + 1u + rn(e, 1000) : (uint32_t)rnd(e) | 0x80000000u;
      vpush(pl, l);
      if (bad && !bad_tile && !bad_l) len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
      break;
    }
    case MT_OP_PROGRAM: {
      vpush(pl, pick_tile(e, bad && chance(e, 20)));
      vpush(pl, bad && chance(e, 20) ? 4 + rn(e, 100) : rn(e, 4));
      uint32_t n = chance(e, 5) ? 0 : 1 + rn(e, 12);
      for (uint32_t i = 0; i < n; i++)
        vpush(pl, rn(e, MT_ROWS) << 20 | rn(e, MT_COLS) << 8 | rn(e, L ? L : 4));
      if (bad && n && chance(e, 70)) {
        uint32_t *x = &pl->w[2 + rn(e, n)];
        switch (rn(e, 3)) {
          case 0: *x = (*x & 0xFFFFFu) | (MT_ROWS + rn(e, 4096 - MT_ROWS)) << 20; break;
          case 1: *x = (*x & 0xFFF000FFu) | (MT_COLS + rn(e, 4096 - MT_COLS)) << 8; break;
          default: *x = (*x & ~0xFFu) | (L + rn(e, 256 - (L < 256 ? L : 255)));
        }
      } else if (bad && chance(e, 50)) {
        len_delta = (uint32_t)-(int32_t)(pl->n - rn(e, 2)); /* length 0 or 1 */
      }
      break;
    }
    case MT_OP_PULSE: {
      vpush(pl, pick_tile(e, bad && chance(e, 20)));
      uint32_t n = chance(e, 5) ? 0 : 1 + rn(e, 10);
      for (uint32_t i = 0; i < n; i++)
        vpush(pl, rn(e, MT_ROWS) << 20 | rn(e, MT_COLS) << 8 | rn(e, 2) << 7 | rn(e, 128));
      if (bad && n && chance(e, 70)) {
        uint32_t *x = &pl->w[1 + rn(e, n)];
        if (chance(e, 50)) *x = (*x & 0xFFFFFu) | (MT_ROWS + rn(e, 4096 - MT_ROWS)) << 20;
        else *x = (*x & 0xFFF000FFu) | (MT_COLS + rn(e, 4096 - MT_COLS)) << 8;
      } else if (bad) {
        len_delta = (uint32_t)-(int32_t)pl->n;
      }
      break;
    }
    case MT_OP_READ_CELLS:
    case MT_OP_READ_LEVELS:
    case MT_OP_META_READ: {
      int bad_tile = bad && chance(e, 25), bad_len = bad && !bad_tile && chance(e, 20);
      int bad_flags = k == MT_OP_READ_CELLS && bad && !bad_tile && !bad_len && chance(e, 30);
      vpush(pl, pick_tile(e, bad_tile));
      gen_region(e, r, MT_ROWS * MT_COLS, bad && !bad_tile && !bad_len && !bad_flags);
      for (int i = 0; i < 4; i++) vpush(pl, r[i]);
      if (k == MT_OP_READ_CELLS) vpush(pl, bad_flags ? 2 + rn(e, 1000) : rn(e, 2));
      if (bad_len) len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
      break;
    }
    case MT_OP_MVM: {
      vpush(pl, pick_tile(e, bad && chance(e, 15)));
      uint32_t nvec = chance(e, 10) ? 1 + rn(e, 12) : 1 + rn(e, 3);
      uint32_t nrows = chance(e, 30) ? MT_ROWS : 1 + rn(e, MT_ROWS);
      uint32_t ncols = chance(e, 30) ? MT_COLS : 1 + rn(e, MT_COLS);
      uint32_t which = bad ? rn(e, 5) : 9;
      vpush(pl, which == 0 ? (chance(e, 50) ? 0 : MT_MAX_BATCH + 1 + rn(e, 10)) : nvec);
      vpush(pl, which == 1 ? (chance(e, 50) ? 0 : MT_ROWS + 1) : nrows);
      vpush(pl, which == 2 ? (chance(e, 50) ? 0 : MT_COLS + 1) : ncols);
      unsigned zero_pct = rn(e, 80);
      for (uint32_t i = 0; i < nvec * ((nrows + 1) / 2); i++) vpush(pl, rand_int16_word(e, dac_bits, zero_pct));
      if (which == 3) len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
      if (which == 4) len_delta = (uint32_t)-(int32_t)(pl->n - rn(e, 4)); /* shorter than 4 */
      break;
    }
    case MT_OP_META_WRITE:
    case MT_OP_META_UPDATE: {
      int bad_tile = bad && chance(e, 20);
      int bad_region = bad && !bad_tile && chance(e, 30);
      vpush(pl, pick_tile(e, bad_tile));
      gen_region(e, r, chance(e, 10) ? 256 : 48, bad_region);
      for (int i = 0; i < 4; i++) vpush(pl, r[i]);
      uint32_t n = bad_region ? 1 + rn(e, 8) : r[1] * r[3];
      if (k == MT_OP_META_WRITE) {
        for (uint32_t i = 0; i < n; i++) {
          int64_t h;
          if (chance(e, 80)) {
            uint32_t lv = L ? L : 16;
            h = ((int64_t)rn(e, lv) - lv / 2) * 65536 + (int64_t)rn(e, 65536) - 32768;
          } else {
            h = (int64_t)(rnd(e) % (2ull * HIDDEN_MAX + 1)) - HIDDEN_MAX;
          }
          vpush(pl, (uint32_t)(int32_t)h);
        }
        if (bad && !bad_tile && !bad_region && n) {
          if (chance(e, 60)) pl->w[5 + rn(e, n)] = chance(e, 50) ? 0x40000000u : 0xC0000000u;
          else len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
        }
      } else {
        unsigned zero_pct = rn(e, 60);
        for (uint32_t i = 0; i < (n + 1) / 2; i++) {
          uint32_t w = 0;
          for (int hh = 0; hh < 2; hh++) {
            int32_t v = 0;
            if (!chance(e, zero_pct)) {
              uint32_t kind = rn(e, 10);
              uint32_t mag = kind < 2 ? rn(e, 64) : kind < 6 ? rn(e, 2048) : rn(e, 32768);
              v = chance(e, 50) ? -(int32_t)mag : (int32_t)mag;
            }
            w |= ((uint32_t)v & 0xFFFFu) << (16 * hh);
          }
          vpush(pl, w);
        }
        if (bad && !bad_tile && !bad_region) len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
      }
      if (bad && chance(e, 10)) len_delta = (uint32_t)-(int32_t)(pl->n - rn(e, 5)); /* < 5 */
      break;
    }
    case MT_OP_STATE_READ: {
      uint32_t sec = rn(e, 2), idx = sec ? rn(e, e->tiles) : 0;
      uint32_t size = sec ? MT_TILE_WORDS : MT_GLOBAL_WORDS;
      uint32_t off = chance(e, 10) ? 0 : rn(e, size);
      uint32_t cnt = chance(e, 5) ? min_u32(MT_STATE_CHUNK, size - off) : 1 + rn(e, min_u32(128, size - off));
      if (bad) {
        switch (rn(e, 6)) {
          case 0: sec = 2 + rn(e, 5); break;
          case 1: if (sec) idx = e->tiles + rn(e, 4); else idx = 1 + rn(e, 3); break;
          case 2: off = size + rn(e, 3); break;
          case 3: cnt = 0; break;
          case 4: cnt = size - off + 1; break;
          default: len_delta = chance(e, 50) ? 1 : (uint32_t)-1;
        }
      }
      vpush(pl, sec), vpush(pl, idx), vpush(pl, off), vpush(pl, cnt);
      break;
    }
    case MT_OP_STATE_WRITE: {
      uint32_t sec = rn(e, 2);
      vpush(pl, sec);
      if (sec == MT_SECTION_GLOBAL) {
        vpush(pl, 0), vpush(pl, 0);
        uint32_t img[MT_GLOBAL_WORDS];
        mt_state_global_read(&e->regs, 0, MT_GLOBAL_WORDS, img);
        /* Valid edits: counters, seed, a lane, a config field within its range, f_meta. */
        for (uint32_t n = 1 + rn(e, 4); n; n--) {
          switch (rn(e, 5)) {
            case 0: img[MT_G_COUNTERS + rn(e, 2 * MT_CNT_COUNT)] = (uint32_t)rnd(e); break;
            case 1: img[MT_G_SEED + rn(e, 2)] = (uint32_t)rnd(e); break;
            case 2: img[MT_G_LANES + rn(e, 4 * MT_LANES)] = (uint32_t)rnd(e) | 1u; break;
            case 3: img[MT_G_META + rn(e, MT_META_TABLE_SIZE / 2)] = (uint32_t)rnd(e); break;
            default: if (img[MT_G_CONFIGURED]) img[MT_G_CFG + MT_CFG_READ_MODE] = rn(e, 3);
          }
        }
        if (bad) {
          switch (rn(e, 7)) {
            case 0: img[MT_G_VERSION] ^= 1u << rn(e, 32); break;
            case 1: img[MT_G_CONFIGURED] = 2 + rn(e, 5); break;
            case 2: { uint32_t l = rn(e, MT_LANES); for (int i = 0; i < 4; i++) img[MT_G_LANES + 4 * l + i] = 0; break; }
            case 3: img[MT_G_FABRICATED + e->tiles / 32] |= 1u << (e->tiles % 32); break;
            case 4: img[MT_G_LEVELS] = 1; break;
            case 5: img[MT_G_LEVEL_TABLE + MT_LEVEL_ENTRY_WORDS * rn(e, MT_MAX_LEVELS) + 2] = 0x10000u; break;
            default: img[MT_G_CONFIGURED] = 1, img[MT_G_CFG + MT_CFG_DAC_BITS] = 1;
          }
        }
        for (uint32_t i = 0; i < MT_GLOBAL_WORDS; i++) vpush(pl, img[i]);
        if (bad && chance(e, 20)) {
          if (chance(e, 50)) pl->w[2] = 11; else len_delta = (uint32_t)-1;
        }
      } else {
        uint32_t t = rn(e, e->tiles), nrec = 1 + rn(e, 6);
        uint32_t rec0 = rn(e, MT_ROWS * MT_COLS - nrec + 1);
        vpush(pl, t), vpush(pl, rec0 * MT_WEIGHT_WORDS);
        uint32_t w[6 * MT_WEIGHT_WORDS];
        mt_state_tile_read(&e->tm[t], rec0 * MT_WEIGHT_WORDS, nrec * MT_WEIGHT_WORDS, w);
        for (uint32_t i = 0; i < nrec; i++) {
          uint32_t *x = w + i * MT_WEIGHT_WORDS;
          uint32_t gminp = x[1] & 0xFFFF, gmaxp = x[1] >> 16, gminm = x[2] & 0xFFFF, gmaxm = x[2] >> 16;
          if (chance(e, 50))
            x[0] = (gminp + rn(e, gmaxp - gminp + 1)) | (gminm + rn(e, gmaxm - gminm + 1)) << 16;
          if (chance(e, 30)) x[7] = (uint32_t)rnd(e);
          if (chance(e, 30)) x[9] = (x[9] & 0xFFFFu) | (chance(e, 30) ? 0xFFFFu : rn(e, 256)) << 16;
          if (chance(e, 30)) x[10] = (uint32_t)((int32_t)rn(e, 2 * HIDDEN_MAX + 1) - HIDDEN_MAX);
          if (chance(e, 10)) x[9] = (x[9] & 0xFFFF0000u) | rn(e, 4) | rn(e, 4) << 8;
        }
        if (bad) {
          uint32_t *x = w + rn(e, nrec) * MT_WEIGHT_WORDS;
          switch (rn(e, 6)) {
            case 0: { /* gmin > gmax */
              uint32_t gmin = 1 + rn(e, 0xFFFF);
              x[1] = gmin | rn(e, gmin) << 16;
              break;
            }
            case 1: /* g outside [gmin, gmax] */
              if ((x[1] >> 16) < 0xFFFF) x[0] = (x[0] & 0xFFFF0000u) | ((x[1] >> 16) + 1);
              else if (x[1] & 0xFFFF) x[0] = (x[0] & 0xFFFF0000u) | ((x[1] & 0xFFFF) - 1);
              else x[10] = 0x40000000u;
              break;
            case 2: x[9] = (x[9] & 0xFFFFFF00u) | (4 + rn(e, 250)); break;
            case 3: x[9] = (x[9] & 0xFFFFu) | (256 + rn(e, 0xFFFF - 256)) << 16; break;
            case 4: x[10] = chance(e, 50) ? 0x40000000u : 0xC0000000u; break;
            default: pl->w[2] += 1 + rn(e, 10);
          }
        }
        for (uint32_t i = 0; i < nrec * MT_WEIGHT_WORDS; i++) vpush(pl, w[i]);
        if (bad && chance(e, 20)) len_delta = (uint32_t)-(int32_t)(1 + rn(e, 10));
      }
      break;
    }
    case MT_OP_READ_LIST: {
      int bad_tile = bad && chance(e, 20), bad_len = bad && !bad_tile && chance(e, 15);
      int bad_flags = bad && !bad_tile && !bad_len && chance(e, 30);
      vpush(pl, pick_tile(e, bad_tile));
      vpush(pl, bad_flags ? 2 + rn(e, 1000) : rn(e, 2));
      uint32_t n = chance(e, 5) ? 0 : (chance(e, 10) ? 1 + rn(e, 300) : 1 + rn(e, 16));
      for (uint32_t i = 0; i < n; i++) {
        /* Repeats and same-lane neighbours too: the draws follow the list order. */
        if (i && chance(e, 15)) vpush(pl, pl->w[pl->n - 1]);
        else vpush(pl, rn(e, MT_ROWS) << 20 | rn(e, MT_COLS) << 8);
      }
      if (bad && !bad_tile && !bad_len && !bad_flags && n) {
        uint32_t *x = &pl->w[2 + rn(e, n)];
        switch (rn(e, 3)) {
          case 0: *x = (*x & 0xFFFFFu) | (MT_ROWS + rn(e, 4096 - MT_ROWS)) << 20; break;
          case 1: *x = (*x & 0xFFF000FFu) | (MT_COLS + rn(e, 4096 - MT_COLS)) << 8; break;
          default: *x |= 1u + rn(e, 255);
        }
      }
      if (bad_len) len_delta = (uint32_t)-(int32_t)(pl->n - rn(e, 2)); /* length 0 or 1 */
      break;
    }
    default:
      /* Only OP_UNKNOWN lands here: an opcode of the protocol table without a generator
       * would silently never be tested. */
      if (k != OP_UNKNOWN)
        fail_msg("opcode %s (%u) is in the protocol table but test_equiv cannot generate it",
                 op_name(k), k);
      op = MT_OP_COUNT + rn(e, 256 - MT_OP_COUNT);
      for (uint32_t i = rn(e, 5); i; i--) vpush(pl, (uint32_t)rnd(e));
  }
  uint32_t len = pl->n + len_delta;
  if (len > pl->n) vpush(pl, (uint32_t)rnd(e)); /* one word more */
  else if (len < pl->n) pl->n = len;               /* the declared length is the real one */
  emit(e, op, len, pl->w, pl->n);
}

static uint32_t pick_op(eq_t *e) {
  unsigned total = 0;
  for (int k = 0; k < N_OPS; k++) total += e->allow[k] ? op_weight(k) : 0;
  assert_true(total > 0);
  uint32_t x = rn(e, total);
  for (int k = 0; k < N_OPS; k++) {
    unsigned w = e->allow[k] ? op_weight(k) : 0;
    if (x < w) return (uint32_t)k;
    x -= w;
  }
  return OP_UNKNOWN;
}

/* One random transfer: 1..5 commands, sometimes truncated, sometimes a small rsp_cap, rarely
 * a payload above MAX_PAYLOAD (ERR_LENGTH: its words are read and skipped). */
static void random_xfer(eq_t *e, uint64_t *left) {
  uint32_t n = chance(e, 30) ? 2 + rn(e, 4) : 1;
  if (n > *left) n = (uint32_t)*left;
  for (uint32_t i = 0; i < n; i++) {
    if (rn(e, 1500) == 0) {
      begin_cmd(e);
      uint32_t op = pick_op(e);
      vpush(&e->xfer, op << 24);
      vpush(&e->xfer, MT_MAX_PAYLOAD + 1);
      for (uint32_t j = 0; j <= MT_MAX_PAYLOAD; j++) vpush(&e->xfer, (uint32_t)rnd(e));
    } else {
      uint32_t op = pick_op(e);
      gen_cmd(e, op);
      /* Right behind a command that moves the noise lanes, in the same transfer (no gap for
       * seeding or draws in flight to finish), read the seed and lane words back. */
      static const uint32_t lane_ops[] = {MT_OP_SEED, MT_OP_STATE_WRITE, MT_OP_PULSE, MT_OP_MVM,
                                          MT_OP_READ_CELLS, MT_OP_PROGRAM, MT_OP_META_UPDATE,
                                          MT_OP_READ_LIST};
      int moves_lanes = 0;
      for (size_t j = 0; j < sizeof lane_ops / sizeof *lane_ops; j++) moves_lanes |= op == lane_ops[j];
      if (moves_lanes && e->allow[MT_OP_STATE_READ] && i + 1 < MAX_XFER_CMDS - 1 && chance(e, 25)) {
        uint32_t off = MT_G_SEED + rn(e, 2 + MT_LANES * 4); /* any window of seed and lanes */
        uint32_t q[4] = {MT_SECTION_GLOBAL, 0, off, 1 + rn(e, MT_G_LANES + MT_LANES * 4 - off)};
        emit(e, MT_OP_STATE_READ, 4, q, 4);
        i++, n++;
      }
    }
  }
  *left -= n < *left ? n : *left;
  e->commands += n;
  if (chance(e, 4)) { /* cut the end: the last command keeps 1.. of its words */
    uint32_t words = e->xfer.n - e->starts[e->n_starts - 1];
    if (words > 1) e->xfer.n -= 1 + rn(e, words - 1);
  }
  uint32_t cap = RSP_MAX;
  if (chance(e, 12)) cap = rn(e, 48);
  else if (chance(e, 3)) cap = 4 + rn(e, 400);
  run_xfer(e, cap, 1);
}

/* Without FABRICATE in the RTL, fabricated tiles arrive as a snapshot instead: tiles
 * fabricated by a scratch copy of the model, sent with STATE_WRITE (TILE records in whole
 * chunks, then GLOBAL with the fabricated bits), as a host restoring a saved device would. */
static void restore_fabricated(eq_t *e) {
  mt_regs_t *regs = malloc(sizeof *regs);
  mt_tile_t *tiles = calloc(e->tiles, sizeof *tiles);
  uint32_t *buf = malloc((3 + MT_STATE_CHUNK) * sizeof *buf), rsp[8], cons = 0;
  assert_non_null(regs);
  assert_non_null(tiles);
  assert_non_null(buf);
  *regs = e->regs;
  for (uint32_t t = 0; t < e->tiles; t++) {
    uint32_t cmd[5] = {MT_OP_FABRICATE << 24, 3, (uint32_t)rnd(e), (uint32_t)rnd(e), t};
    mt_kernel(cmd, 5, rsp, 8, regs, tiles, e->tiles, &cons);
    assert_int_equal(rsp[0] & 0xFFFFu, MT_ST_OK);
    const uint32_t chunk = MT_STATE_CHUNK / MT_WEIGHT_WORDS * MT_WEIGHT_WORDS;
    for (uint32_t off = 0; off < MT_TILE_WORDS; off += chunk) {
      uint32_t n = min_u32(chunk, MT_TILE_WORDS - off);
      buf[0] = MT_SECTION_TILE, buf[1] = t, buf[2] = off;
      mt_state_tile_read(&tiles[t], off, n, buf + 3);
      run_one(e, MT_OP_STATE_WRITE, buf, 3 + n);
    }
  }
  buf[0] = MT_SECTION_GLOBAL, buf[1] = 0, buf[2] = 0;
  mt_state_global_read(&e->regs, 0, MT_GLOBAL_WORDS, buf + 3);
  for (uint32_t k = 0; k < MT_MAX_TILES / 32; k++) buf[3 + MT_G_FABRICATED + k] = regs->fabricated[k];
  run_one(e, MT_OP_STATE_WRITE, buf, 3 + MT_GLOBAL_WORDS);
  for (uint32_t t = 0; t < e->tiles; t++) assert_true(is_fab(e, t));
  free(buf);
  free(tiles);
  free(regs);
}

/* The realistic prefix: a preset's configuration, level table and f_meta, a seed, and every
 * tile fabricated (each only if the opcode is in the mix). */
static void setup_prefix(eq_t *e) {
  uint32_t *p = malloc((1 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS) * sizeof *p);
  assert_non_null(p);
  if (e->allow[MT_OP_CONFIGURE]) run_one(e, MT_OP_CONFIGURE, e->preset.cfg, MT_CFG_COUNT);
  if (e->allow[MT_OP_SET_LEVELS]) {
    p[0] = e->preset.levels;
    memcpy(p + 1, e->preset.level_table, e->preset.levels * MT_LEVEL_ENTRY_WORDS * sizeof *p);
    run_one(e, MT_OP_SET_LEVELS, p, 1 + e->preset.levels * MT_LEVEL_ENTRY_WORDS);
  }
  if (e->allow[MT_OP_META_TABLE]) run_one(e, MT_OP_META_TABLE, e->preset.meta_table, MT_META_TABLE_SIZE / 2);
  if (e->allow[MT_OP_SEED]) {
    p[0] = (uint32_t)rnd(e), p[1] = (uint32_t)rnd(e);
    run_one(e, MT_OP_SEED, p, 2);
  }
  if (e->allow[MT_OP_FABRICATE]) {
    for (uint32_t t = 0; t < e->tiles; t++) {
      p[0] = (uint32_t)rnd(e), p[1] = (uint32_t)rnd(e), p[2] = t;
      run_one(e, MT_OP_FABRICATE, p, 3);
    }
  } else if (e->allow[MT_OP_STATE_WRITE] && e->regs.configured) {
    restore_fabricated(e);
  }
  free(p);
}

static void eq_init(eq_t *e, uint64_t seed) {
  memset(e, 0, sizeof *e);
  e->rng = seed;
  set_allow(e);
  e->rsp_m = malloc(RSP_MAX * sizeof *e->rsp_m);
  e->rsp_s = malloc(RSP_MAX * sizeof *e->rsp_s);
  assert_non_null(e->rsp_m);
  assert_non_null(e->rsp_s);
}

static void eq_free(eq_t *e) {
  if (e->sim) pair_close(e);
  free(e->rsp_m);
  free(e->rsp_s);
  free(e->xfer.w);
  free(e->pl.w);
}

static void load_preset(eq_t *e, const char *name) {
  char path[1024], err[256];
  snprintf(path, sizeof path, "%s/presets/%s.json", MT_SOURCE_DIR, name);
  if (mt_preset_load(path, &e->preset, err, sizeof err) != 0) fail_msg("%s", err);
}

/* ---- tests ---- */

/* MT_EQUIV_N random commands in streams of STREAM_LEN, each from reset with its own preset;
 * every other stream with random stalls on both AXI streams. */
static void random_streams(void **state) {
  (void)state;
  const uint64_t seed = env_u64("MT_EQUIV_SEED", 1), total = env_u64("MT_EQUIV_N", 2000);
  eq_t *e = malloc(sizeof *e);
  assert_non_null(e);
  eq_init(e, seed);
  uint64_t left = total, stream = 0;
  while (left > 0) {
    e->rng = seed * 0x100000001B3ull + stream;
    load_preset(e, preset_names[stream % (sizeof preset_names / sizeof *preset_names)]);
    pair_open(e);
    if (stream % 2) mt_sim_set_stalls(e->sim, 25, 25, seed + stream);
    setup_prefix(e);
    uint64_t n = left < STREAM_LEN ? left : STREAM_LEN, todo = n, next_check = CHECK_EVERY;
    while (todo > 0) {
      random_xfer(e, &todo);
      if (n - todo >= next_check) {
        compare_state(e);
        next_check += CHECK_EVERY;
      }
    }
    compare_state(e);
    pair_close(e);
    left -= n;
    stream++;
  }
  char ops[1024] = "";
  for (int k = 0; k < N_OPS; k++)
    if (e->op_count[k]) {
      size_t l = strlen(ops);
      snprintf(ops + l, sizeof ops - l, " %s %llu/%llu", op_name((uint32_t)k),
               (unsigned long long)e->op_ok[k], (unsigned long long)e->op_count[k]);
    }
  uint64_t errors = 0;
  for (uint32_t st = MT_ST_OK + 1; st < MT_ST_COUNT; st++) errors += e->status_count[st];
  print_message("seed %llu: %llu random commands in %llu transfers and %llu streams matched "
                "(%llu RTL cycles); responses: OK %llu, errors %llu (overflow %llu, truncated "
                "%llu)\n  OK/all by opcode:%s\n",
                (unsigned long long)seed, (unsigned long long)e->commands,
                (unsigned long long)e->transfers, (unsigned long long)stream,
                (unsigned long long)e->sim_cycles, (unsigned long long)e->status_count[MT_ST_OK],
                (unsigned long long)errors,
                (unsigned long long)e->status_count[MT_ST_ERR_OVERFLOW],
                (unsigned long long)e->status_count[MT_ST_ERR_TRUNCATED], ops);
  /* The mix must do real work: most commands succeed, and errors of every kind occur. */
  assert_true(e->status_count[MT_ST_OK] * 2 > e->commands);
  /* Every opcode of the protocol table (in the mix) was answered OK at least once, and unknown
   * opcodes were sent. */
  for (int k = 0; k < N_OPS; k++) {
    if (!e->allow[k]) continue;
    if (k == OP_UNKNOWN ? e->op_count[k] == 0 : e->op_ok[k] == 0)
      fail_msg("opcode %s was never exercised (%llu sent, %llu OK): raise its equiv_weight in "
               "docs/protocol.json or MT_EQUIV_N", op_name((uint32_t)k),
               (unsigned long long)e->op_count[k], (unsigned long long)e->op_ok[k]);
  }
  eq_free(e);
  free(e);
}

/* Framing corner cases, deterministic: empty and one-word transfers, a header without its
 * payload, every rsp_cap below and around the minimum, a payload above MAX_PAYLOAD, a full
 * MAX_PAYLOAD ECHO, many commands in one transfer, and commands after a stop. */
static void framing_corners(void **state) {
  (void)state;
  eq_t *e = malloc(sizeof *e);
  assert_non_null(e);
  eq_init(e, 7);
  pair_open(e);
  uint32_t p[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  run_xfer(e, RSP_MAX, 1); /* no words at all */
  for (uint32_t cap = 0; cap < 8; cap++) {
    begin_cmd(e);
    vpush(&e->xfer, MT_OP_ECHO << 24); /* header cut after word 0 */
    run_xfer(e, cap, 1);
    emit(e, MT_OP_ECHO, 5, p, 2); /* declared 5, 2 present */
    run_xfer(e, cap, 1);
    emit(e, MT_OP_ECHO, 3, p, 3); /* needs 5 words */
    emit(e, MT_OP_NOP, 0, p, 0);
    run_xfer(e, cap, 1);
    emit(e, MT_OP_INFO, 0, p, 0);
    emit(e, 0xFF, 2, p, 2);
    emit(e, MT_OP_STATS_GET, 0, p, 0);
    run_xfer(e, cap * 5, 1);
  }
  /* ERR_LENGTH above MAX_PAYLOAD (the words are skipped), then a command that still runs. */
  begin_cmd(e);
  vpush(&e->xfer, MT_OP_ECHO << 24 | 0x11u << 16);
  vpush(&e->xfer, MT_MAX_PAYLOAD + 1);
  for (uint32_t i = 0; i <= MT_MAX_PAYLOAD; i++) vpush(&e->xfer, i * 2654435761u);
  emit(e, MT_OP_ECHO, 3, p, 3);
  run_xfer(e, RSP_MAX, 1);
  /* The largest response: MAX_PAYLOAD words; then one word less room: ERR_OVERFLOW. */
  for (uint32_t d = 0; d < 2; d++) {
    begin_cmd(e);
    vpush(&e->xfer, MT_OP_ECHO << 24);
    vpush(&e->xfer, MT_MAX_PAYLOAD);
    for (uint32_t i = 0; i < MT_MAX_PAYLOAD; i++) vpush(&e->xfer, ~i * 40503u);
    run_xfer(e, RSP_MAX - d, 1);
  }
  /* Many commands in one transfer, the last one truncated, and an overflow in the middle. */
  for (uint32_t i = 0; i < MAX_XFER_CMDS - 1; i++) emit(e, i % 2 ? MT_OP_NOP : MT_OP_ECHO, i, p, i);
  begin_cmd(e);
  vpush(&e->xfer, MT_OP_SEED << 24);
  vpush(&e->xfer, 2);
  vpush(&e->xfer, 99);
  run_xfer(e, RSP_MAX, 1);
  for (uint32_t cap = 10; cap < 40; cap += 3) {
    for (uint32_t i = 0; i < MAX_XFER_CMDS; i++) emit(e, MT_OP_ECHO, i + 1, p, i + 1);
    run_xfer(e, cap, 1);
  }
  compare_state(e);
  print_message("%llu framing transfers matched\n", (unsigned long long)e->transfers);
  eq_free(e);
  free(e);
}

/* MVM shapes over every read mode, deterministic: 1x1, odd rows and columns, sizes around
 * the MVM engine's row blocks (MVM_R rows per cycle) and lane groups, the whole tile, and
 * batches, so that the overlapped LOAD/MAC/ADC of consecutive vectors and every draw of the
 * per-cell and per-column noise are compared; then the whole state (counters, lane states). */
static void mvm_shapes(void **state) {
  (void)state;
  eq_t *e = malloc(sizeof *e);
  assert_non_null(e);
  eq_init(e, 11);
  load_preset(e, "rram");
  pair_open(e);
  setup_prefix(e);
  static const uint32_t shape[][2] = {{1, 1},           {3, 17},          {5, 1},
                                      {2, MT_LANES + 1}, {MT_ROWS - 1, MT_COLS - 1},
                                      {MT_ROWS, MT_COLS}, {MT_ROWS, 2},   {1, MT_COLS}};
  const uint32_t nshape = sizeof shape / sizeof *shape;
  uint32_t *p = malloc((4 + 3 * MT_ROWS) * sizeof *p);
  assert_non_null(p);
  uint32_t cfg[MT_CFG_COUNT];
  memcpy(cfg, e->preset.cfg, sizeof cfg);
  if (cfg[MT_CFG_READ_SIGMA] == 0) cfg[MT_CFG_READ_SIGMA] = 700;
  for (uint32_t mode = 0; mode < 3; mode++) {
    cfg[MT_CFG_READ_MODE] = mode;
    run_one(e, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
    for (uint32_t k = 0; k < nshape; k++)
      for (uint32_t nvec = 1; nvec <= 3; nvec += 2) {
        uint32_t nrows = shape[k][0], ncols = shape[k][1], in_words = (nrows + 1) / 2;
        p[0] = k % e->tiles, p[1] = nvec, p[2] = nrows, p[3] = ncols;
        for (uint32_t i = 0; i < nvec * in_words; i++)
          p[4 + i] = rand_int16_word(e, cfg[MT_CFG_DAC_BITS], 20);
        emit(e, MT_OP_MVM, 4 + nvec * in_words, p, 4 + nvec * in_words);
        run_xfer(e, RSP_MAX, 1);
        assert_int_equal(e->rsp_m[0] & 0xFFFFu, MT_ST_OK);
      }
  }
  compare_state(e);
  print_message("%llu MVM transfers matched\n", (unsigned long long)e->transfers);
  free(p);
  eq_free(e);
  free(e);
}

/* The harness itself: geometry, INFO through the stream, the cycle counter, stalls that
 * leave the words unchanged, and an FST trace written on request. */
static void harness_basics(void **state) {
  (void)state;
  char path[] = "/tmp/mt_equiv_traceXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  char err[256] = "";
  mt_sim *s = mt_sim_open(path, err, sizeof err);
  if (!s) fail_msg("mt_sim_open: %s", err);
  uint32_t tiles = 0, rows = 0, cols = 0;
  mt_sim_geometry(s, &tiles, &rows, &cols);
  assert_int_equal(rows, MT_ROWS);
  assert_int_equal(cols, MT_COLS);
  assert_true(tiles >= 1 && tiles <= MT_MAX_TILES);
  uint64_t c0 = mt_sim_cycles(s);
  /* Power-on clear: every tile-memory word once, LANES columns per word. */
  assert_true(c0 >= (uint64_t)tiles * MT_ROWS * MT_COLS / MT_LANES);
  uint32_t cmd[2] = {MT_OP_INFO << 24 | 0x42u << 16, 0}, rsp[32], n = 0, cons = 0;
  uint64_t cyc = 0;
  for (int stall = 0; stall < 2; stall++) {
    if (stall) mt_sim_set_stalls(s, 60, 60, 5);
    if (mt_sim_transact(s, cmd, 2, rsp, 32, &n, &cons, &cyc, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(n, MT_HDR_WORDS + MT_INFO_COUNT);
    assert_int_equal(cons, 2);
    assert_int_equal(rsp[0], MT_OP_INFO << 24 | 0x42u << 16);
    assert_int_equal(rsp[2 + MT_INFO_ROWS], MT_ROWS);
    assert_int_equal(rsp[2 + MT_INFO_COLS], MT_COLS);
    assert_int_equal(rsp[2 + MT_INFO_TILES], tiles);
    assert_true(cyc >= n); /* one word per cycle at most */
  }
  assert_true(mt_sim_cycles(s) > c0);
  mt_sim_close(s);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  unlink(path);
  assert_true(size > 100);
}

/* The generated opcode table: every opcode of docs/protocol.json is in it, in value order, with
 * a weight, and the random generator produces each of them (and an unknown opcode for UNKNOWN). */
static void opcode_table(void **state) {
  (void)state;
  eq_t *e = malloc(sizeof *e);
  assert_non_null(e);
  eq_init(e, 7);
  e->tiles = 4;
  e->tm = calloc(e->tiles, sizeof *e->tm);
  assert_non_null(e->tm);
  mt_device_reset(&e->regs, e->tm, e->tiles);
  for (uint32_t k = 0; k < MT_EQUIV_OP_COUNT; k++) {
    assert_int_equal(mt_equiv_ops[k].opcode, k);
    assert_string_equal(mt_equiv_ops[k].name, mt_op_names[k]);
    assert_true(mt_equiv_ops[k].weight > 0);
  }
  for (int k = 0; k < N_OPS; k++) {
    for (int rep = 0; rep < 20; rep++) {
      gen_cmd(e, (uint32_t)k);
      uint32_t op = e->xfer.w[e->starts[0]] >> 24;
      if (k == OP_UNKNOWN) assert_true(op >= MT_OP_COUNT);
      else assert_int_equal(op, (uint32_t)k);
      e->xfer.n = 0;
      e->n_starts = 0;
    }
  }
  free(e->tm);
  e->tm = NULL;
  eq_free(e);
  free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(opcode_table),
      cmocka_unit_test(harness_basics),
      cmocka_unit_test(framing_corners),
      cmocka_unit_test(mvm_shapes),
      cmocka_unit_test(random_streams),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
