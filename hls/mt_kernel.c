/* Command processor of the emulated device (docs/protocol.md). Every handler
 * validates its whole command and sizes its response before it changes any
 * state, so a rejected command leaves the device exactly as it was. */
#include "mt_device.h"
#include "mt_state.h"

/* PULSE: how many entries ahead the golden model fetches a device record (prefetch_entry). */
#define PULSE_AHEAD 16u
/* PROGRAM: how many entries ahead (prefetch_weight). */
#define PROGRAM_AHEAD 3u
#define HIDDEN_MAX ((int32_t)MT_HIDDEN_MAX)

typedef struct {
  mt_regs_t *regs;
  mt_tile_t *tiles;
  uint32_t n_tiles;
  const uint32_t *p; /* payload */
  uint32_t len;
  uint32_t *out; /* response payload */
  uint32_t cap;
  uint32_t n_out;
  uint32_t detail[2];
} mt_ctx_t;

static uint32_t fail(mt_ctx_t *c, uint32_t status, uint32_t d0, uint32_t d1) {
  c->detail[0] = d0;
  c->detail[1] = d1;
  return status;
}

static uint32_t need(mt_ctx_t *c, uint32_t words) {
  MT_ASSERT(c->n_out == 0); /* sized once, before anything changes */
  if (words > c->cap) return fail(c, MT_ST_ERR_OVERFLOW, words, c->cap);
  c->n_out = words;
  return MT_ST_OK;
}

static uint32_t expect_len(mt_ctx_t *c, uint32_t words) {
  return c->len == words ? MT_ST_OK : fail(c, MT_ST_ERR_LENGTH, c->len, words);
}

static int is_fabricated(const mt_regs_t *regs, uint32_t tile) {
  return (regs->fabricated[tile / 32] >> (tile % 32)) & 1u;
}

/* Checks, in this order, what a tile operation needs: the tile index in payload
 * word 0, configuration, a level table (if asked) and fabrication (if asked). */
static uint32_t check_tile(mt_ctx_t *c, int want_levels, int want_fab) {
  uint32_t tile = c->p[0];
  if (tile >= c->n_tiles) return fail(c, MT_ST_ERR_TILE, 0, tile);
  if (!c->regs->configured) return fail(c, MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, tile);
  if (want_levels && c->regs->levels == 0) return fail(c, MT_ST_ERR_STATE, MT_STATE_NO_LEVELS, tile);
  if (want_fab && !is_fabricated(c->regs, tile))
    return fail(c, MT_ST_ERR_STATE, MT_STATE_NOT_FABRICATED, tile);
  return MT_ST_OK;
}

/* Region row0, nrows, col0, ncols in payload words 1..4. */
static uint32_t check_region(mt_ctx_t *c) {
  const uint32_t *p = c->p;
  if (p[1] >= MT_ROWS) return fail(c, MT_ST_ERR_RANGE, 1, p[1]);
  if (p[2] == 0 || p[2] > MT_ROWS - p[1]) return fail(c, MT_ST_ERR_RANGE, 2, p[2]);
  if (p[3] >= MT_COLS) return fail(c, MT_ST_ERR_RANGE, 3, p[3]);
  if (p[4] == 0 || p[4] > MT_COLS - p[3]) return fail(c, MT_ST_ERR_RANGE, 4, p[4]);
  return MT_ST_OK;
}

static uint32_t op_info(mt_ctx_t *c) {
  uint32_t st = expect_len(c, 0);
  if (st == MT_ST_OK) st = need(c, MT_INFO_COUNT);
  if (st != MT_ST_OK) return st;
  uint32_t *o = c->out;
  o[MT_INFO_VERSION] = (MT_PROTO_MAJOR << 16) | MT_PROTO_MINOR;
  o[MT_INFO_ROWS] = MT_ROWS;
  o[MT_INFO_COLS] = MT_COLS;
  o[MT_INFO_TILES] = c->n_tiles;
  o[MT_INFO_LANES] = MT_LANES;
  o[MT_INFO_MAX_LEVELS] = MT_MAX_LEVELS;
  o[MT_INFO_MAX_PAYLOAD] = MT_MAX_PAYLOAD;
  o[MT_INFO_MAX_BATCH] = MT_MAX_BATCH;
  o[MT_INFO_PRNG] = 1;
  o[MT_INFO_GAUSS] = 1;
  o[MT_INFO_CONFIG_WORDS] = MT_CFG_COUNT;
  o[MT_INFO_COUNTERS] = MT_CNT_COUNT;
  o[MT_INFO_FEATURES] = MT_FEATURES;
  return MT_ST_OK;
}

static uint32_t op_echo(mt_ctx_t *c) {
  uint32_t st = need(c, c->len);
  if (st != MT_ST_OK) return st;
  for (uint32_t i = 0; i < c->len; i++) c->out[i] = c->p[i];
  return MT_ST_OK;
}

/* The whole parameter set is checked before any of it is taken. */
uint32_t mt_config_check(const uint32_t *cfg, uint32_t *bad_field) {
  for (uint32_t i = 0; i < MT_CFG_COUNT; i++) {
    if (cfg[i] < mt_cfg_min[i] || cfg[i] > mt_cfg_max[i]) {
      *bad_field = i;
      return MT_ST_ERR_PARAM;
    }
  }
  /* Then the cross-field rules of docs/protocol.json, in their order. */
  *bad_field = mt_cfg_rules_bad(cfg);
  return *bad_field == MT_CFG_COUNT ? MT_ST_OK : MT_ST_ERR_PARAM;
}

static uint32_t op_configure(mt_ctx_t *c) {
  uint32_t st = expect_len(c, MT_CFG_COUNT);
  if (st != MT_ST_OK) return st;
  uint32_t field = 0;
  if (mt_config_check(c->p, &field) != MT_ST_OK)
    return fail(c, MT_ST_ERR_PARAM, field, c->p[field]);
  for (uint32_t i = 0; i < MT_CFG_COUNT; i++) c->regs->cfg[i] = c->p[i];
  c->regs->configured = 1;
  return MT_ST_OK;
}

static uint32_t op_seed(mt_ctx_t *c) {
  uint32_t st = expect_len(c, 2);
  if (st != MT_ST_OK) return st;
  c->regs->noise_seed = c->p[0] | ((uint64_t)c->p[1] << 32);
  mt_lanes_seed(c->regs->lanes, c->regs->noise_seed);
  return MT_ST_OK;
}

static uint32_t op_set_levels(mt_ctx_t *c) {
  if (c->len < 1) return fail(c, MT_ST_ERR_LENGTH, c->len, 1);
  uint32_t levels = c->p[0];
  if (levels < MT_MIN_LEVELS || levels > MT_MAX_LEVELS)
    return fail(c, MT_ST_ERR_PARAM, 0, levels);
  uint32_t st = expect_len(c, 1 + levels * MT_LEVEL_ENTRY_WORDS);
  if (st != MT_ST_OK) return st;
  /* Entry q: the pulse indices (word 1 + 3q + 1, bounded so that one PROGRAM
   * entry costs at most 2 * MAX_PULSE_INDEX open-loop pulses), then sigma. */
  for (uint32_t q = 0; q < levels; q++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_MAX_LEVELS
    uint32_t w = 1 + q * MT_LEVEL_ENTRY_WORDS + 1;
    if ((c->p[w] & 0xFFFFu) > MT_MAX_PULSE_INDEX || (c->p[w] >> 16) > MT_MAX_PULSE_INDEX)
      return fail(c, MT_ST_ERR_PARAM, w, c->p[w]);
    if (c->p[w + 1] > 0xFFFFu) return fail(c, MT_ST_ERR_PARAM, w + 1, c->p[w + 1]);
  }
  for (uint32_t q = 0; q < levels; q++)
    for (uint32_t k = 0; k < MT_LEVEL_ENTRY_WORDS; k++)
      c->regs->level_table[q][k] = c->p[1 + q * MT_LEVEL_ENTRY_WORDS + k];
  c->regs->levels = levels;
  return MT_ST_OK;
}

static uint32_t op_meta_table(mt_ctx_t *c) {
  uint32_t st = expect_len(c, MT_META_TABLE_SIZE / 2);
  if (st != MT_ST_OK) return st;
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++)
    c->regs->meta_table[i] = (uint16_t)(c->p[i / 2] >> (16u * (i % 2)));
  return MT_ST_OK;
}

static uint32_t op_fabricate(mt_ctx_t *c) {
  uint32_t st = expect_len(c, 3);
  if (st != MT_ST_OK) return st;
  uint32_t tile = c->p[2];
  if (tile >= c->n_tiles) return fail(c, MT_ST_ERR_TILE, 2, tile);
  if (!c->regs->configured) return fail(c, MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, tile);
  /* Fabrication lanes are separate from the noise lanes, so a tile's devices
   * depend only on (seed, tile, configuration), never on what ran before. */
  mt_xoshiro_t fab[MT_LANES];
  uint64_t seed = c->p[0] | ((uint64_t)c->p[1] << 32);
  mt_lanes_seed(fab, seed ^ ((uint64_t)tile << 48));
  mt_tile_t *t = &c->tiles[tile];
  for (uint32_t i = 0; i < MT_ROWS; i++) {
    for (uint32_t j = 0; j < MT_COLS; j++) {
      for (uint32_t k = 0; k < 2; k++)
        mt_cell_fabricate(c->regs->cfg, &fab[j % MT_LANES], &t->dev[i][j][k], &t->g[k][i][j]);
      t->level[i][j] = MT_LEVEL_NONE;
      t->hidden[i][j] = 0;
    }
  }
  c->regs->fabricated[tile / 32] |= 1u << (tile % 32);
  return MT_ST_OK;
}

/* A hint to the golden model compiled by gcc, no effect on any result and none in synthesis:
 * the device records of the cell of PULSE entry k (row in bits 31:20, column in 19:8; validated)
 * are fetched while the entries before it run. A tile's records (512 KB) do
 * not stay in cache, and a pulse used to wait on the load of its device. */
static void prefetch_entry(const mt_tile_t *t, const uint32_t *p, uint32_t k, uint32_t len) {
#if defined(__GNUC__) && !defined(__SYNTHESIS__)
  if (k < len) __builtin_prefetch(&t->dev[p[k] >> 20][(p[k] >> 8) & 0xFFFu][0], 1);
#else
  (void)t, (void)p, (void)k, (void)len;
#endif
}

/* The same hint for PROGRAM entry k: the weight's device records, its two conductances and
 * its stored level, each on a line of its own and each written by PROGRAM. Always inlined: to
 * gcc a function of prefetches alone has no effect, and where it did not inline this one it
 * dropped the call (why an earlier attempt at this measured nothing). */
#if defined(__GNUC__) && !defined(__SYNTHESIS__)
__attribute__((always_inline))
#endif
static inline void prefetch_weight(const mt_tile_t *t, const uint32_t *p, uint32_t k, uint32_t len) {
#if defined(__GNUC__) && !defined(__SYNTHESIS__)
  if (k < len) {
    uint32_t i = p[k] >> 20, j = (p[k] >> 8) & 0xFFFu;
    __builtin_prefetch(&t->dev[i][j][0], 1);
    __builtin_prefetch(&t->g[MT_DEV_PLUS][i][j], 1);
    __builtin_prefetch(&t->g[MT_DEV_MINUS][i][j], 1);
    __builtin_prefetch(&t->level[i][j], 1);
  }
#else
  (void)t, (void)p, (void)k, (void)len;
#endif
}

/* Power-law drift of a whole tile (docs/device-model.md, "Conductance drift"). Drift lanes
 * are seeded as FABRICATE's, so the same seed gives every device the same exponent again. */
static uint32_t op_drift(mt_ctx_t *c) {
  uint32_t st = expect_len(c, MT_PL_DRIFT_WORDS);
  if (st != MT_ST_OK) return st;
  uint32_t tile = c->p[MT_PL_DRIFT_TILE];
  if (tile >= c->n_tiles) return fail(c, MT_ST_ERR_TILE, MT_PL_DRIFT_TILE, tile);
  if (!c->regs->configured) return fail(c, MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, tile);
  if (!is_fabricated(c->regs, tile)) return fail(c, MT_ST_ERR_STATE, MT_STATE_NOT_FABRICATED, tile);
  uint32_t lr = c->p[MT_PL_DRIFT_LOG2_RATIO];
  if (lr > MT_DRIFT_MAX_LOG2) return fail(c, MT_ST_ERR_PARAM, MT_PL_DRIFT_LOG2_RATIO, lr);
  mt_xoshiro_t dl[MT_LANES];
  uint64_t seed = c->p[MT_PL_DRIFT_SEED_LO] | ((uint64_t)c->p[MT_PL_DRIFT_SEED_HI] << 32);
  mt_lanes_seed(dl, seed ^ ((uint64_t)tile << 48));
  mt_tile_t *t = &c->tiles[tile];
  for (uint32_t i = 0; i < MT_ROWS; i++)
    for (uint32_t j = 0; j < MT_COLS; j++)
      for (uint32_t k = 0; k < 2; k++)
        mt_cell_drift(c->regs->cfg, &dl[j % MT_LANES], &t->dev[i][j][k], &t->g[k][i][j], lr);
  return MT_ST_OK;
}

static uint32_t op_program(mt_ctx_t *c) {
  if (c->len < 2) return fail(c, MT_ST_ERR_LENGTH, c->len, 2);
  uint32_t st = check_tile(c, 1, 1);
  if (st != MT_ST_OK) return st;
  uint32_t flags = c->p[1];
  if (flags > (MT_PROG_OPEN_LOOP | MT_PROG_FORCE)) return fail(c, MT_ST_ERR_PARAM, 1, flags);
  for (uint32_t k = 2; k < c->len; k++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_MAX_PAYLOAD
    uint32_t e = c->p[k];
    if ((e >> 20) >= MT_ROWS || ((e >> 8) & 0xFFFu) >= MT_COLS)
      return fail(c, MT_ST_ERR_RANGE, k, e);
    if ((e & 0xFFu) >= c->regs->levels) return fail(c, MT_ST_ERR_LEVEL, k, e);
  }
  st = need(c, 3);
  if (st != MT_ST_OK) return st;
  mt_tile_t *t = &c->tiles[c->p[0]];
  uint32_t programmed = 0, wv_fail = 0;
  mt_draws_t db;
  mt_draws_begin(&db, c->regs->lanes);
  for (uint32_t k = 2; k < c->len; k++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_MAX_PAYLOAD
    uint32_t e = c->p[k];
    prefetch_weight(t, c->p, k + PROGRAM_AHEAD, c->len);
    programmed += mt_weight_program(c->regs, &db, t, e >> 20, (e >> 8) & 0xFFFu, e & 0xFFu, flags,
                                    &wv_fail);
  }
  mt_draws_end(&db);
  c->out[0] = programmed;
  c->out[1] = c->len - 2 - programmed;
  c->out[2] = wv_fail;
  return MT_ST_OK;
}

/* mt_cell_step of a single pulse, the common PULSE entry (about 4 in 5 in pulse training):
 * with n a constant the run has no loop. Out of line in the golden model compiled by gcc
 * (inlined into the entry loop, mt_cell_run was slower). */
#if defined(__GNUC__) && !defined(__SYNTHESIS__)
__attribute__((noinline))
#endif
static void pulse_one(const uint32_t *cfg, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g, int set) {
  mt_cell_step(cfg, r, d, g, set, 1);
}

static uint32_t op_pulse(mt_ctx_t *c) {
  if (c->len < 1) return fail(c, MT_ST_ERR_LENGTH, c->len, 1);
  uint32_t st = check_tile(c, 0, 1);
  if (st != MT_ST_OK) return st;
  for (uint32_t k = 1; k < c->len; k++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_MAX_PAYLOAD
    uint32_t e = c->p[k];
    if ((e >> 20) >= MT_ROWS || ((e >> 8) & 0xFFFu) >= MT_COLS)
      return fail(c, MT_ST_ERR_RANGE, k, e);
  }
  mt_tile_t *t = &c->tiles[c->p[0]];
  uint64_t sets = 0, resets = 0; /* counted once per command (the counters are sums) */
  for (uint32_t k = 1; k < c->len; k++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_MAX_PAYLOAD
    uint32_t e = c->p[k];
    prefetch_entry(t, c->p, k + PULSE_AHEAD, c->len);
    uint32_t col = (e >> 8) & 0xFFFu;
    int32_t n = (int32_t)(e & 0x3Fu) - (int32_t)(e & 0x40u); /* signed 7-bit */
    uint32_t row = e >> 20, k = (e >> 7) & 1u;
    uint32_t count = (uint32_t)(n < 0 ? -n : n);
    if (count == 1)
      pulse_one(c->regs->cfg, &c->regs->lanes[col % MT_LANES], &t->dev[row][col][k],
                &t->g[k][row][col], n > 0);
    else
      mt_cell_step(c->regs->cfg, &c->regs->lanes[col % MT_LANES], &t->dev[row][col][k],
                   &t->g[k][row][col], n > 0, count);
    sets += n > 0 ? count : 0;
    resets += n > 0 ? 0 : count;
  }
  mt_count(c->regs, MT_CNT_SET_PULSES, sets);
  mt_count(c->regs, MT_CNT_RESET_PULSES, resets);
  return MT_ST_OK;
}

/* One sensed pair, g+ | g- << 16: G+ then G-, one draw each from the column's lane, or the
 * stored conductances with PROBE (no draws). The caller counts the reads (count_reads). */
static uint32_t sense_pair(mt_ctx_t *c, const mt_tile_t *t, uint32_t i, uint32_t j,
                           uint32_t flags) {
  uint32_t word = 0;
  for (uint32_t k = 0; k < 2; k++) {
    int32_t v = t->g[k][i][j];
    if (!(flags & MT_READ_PROBE)) {
      v = mt_cell_sense(c->regs->cfg, &c->regs->lanes[j % MT_LANES], t->g[k][i][j]);
      v = v < 0 ? 0 : (v > 65535 ? 65535 : v); /* sense-amplifier range */
    }
    word |= (uint32_t)v << (16u * k);
  }
  return word;
}

/* Two device reads per sensed pair, none with PROBE: once per command, not per cell. */
static void count_reads(mt_ctx_t *c, uint32_t pairs, uint32_t flags) {
  if (!(flags & MT_READ_PROBE)) mt_count(c->regs, MT_CNT_CELL_READS, 2u * (uint64_t)pairs);
}

static uint32_t op_read_cells(mt_ctx_t *c) {
  uint32_t st = expect_len(c, 6);
  if (st == MT_ST_OK) st = check_tile(c, 0, 1);
  if (st == MT_ST_OK) st = check_region(c);
  if (st != MT_ST_OK) return st;
  uint32_t flags = c->p[5];
  if (flags > MT_READ_PROBE) return fail(c, MT_ST_ERR_PARAM, 5, flags);
  st = need(c, c->p[2] * c->p[4]);
  if (st != MT_ST_OK) return st;
  const mt_tile_t *t = &c->tiles[c->p[0]];
  const uint32_t col0 = c->p[3], ncols = c->p[4];
  const int64_t sigma = c->regs->cfg[MT_CFG_READ_SIGMA];
  /* Without read noise every draw adds 0 (and the sense range holds every conductance): the
   * lanes advance as the region's draws would, all at once. */
  const uint32_t noisy = !(flags & MT_READ_PROBE) && sigma != 0;
  if (!(flags & MT_READ_PROBE) && sigma == 0)
    mt_lanes_skip_pairs(c->regs->lanes, col0, c->p[2], ncols);
  /* The draws of as many rows at a time as MT_GAUSS_PAIRS_MAX cells: the values of sense_pair
   * cell by cell (G+ then G- from the column's lane), each draw's noise sigma-scaled as
   * mt_cell_sense. */
  const uint32_t chunk = MT_GAUSS_PAIRS_MAX / ncols;
  uint32_t n = 0;
  for (uint32_t i0 = c->p[1]; i0 < c->p[1] + c->p[2]; i0 += chunk) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_ROWS
    const uint32_t rows = c->p[1] + c->p[2] - i0 < chunk ? c->p[1] + c->p[2] - i0 : chunk;
    int16_t zp[MT_GAUSS_PAIRS_MAX], zm[MT_GAUSS_PAIRS_MAX];
    if (noisy) mt_gauss_pairs(c->regs->lanes, col0, rows, ncols, zp, zm);
    for (uint32_t i = i0; i < i0 + rows; i++) {
    #pragma HLS LOOP_TRIPCOUNT max = MT_ROWS
      const int16_t *zpi = zp + (i - i0) * ncols, *zmi = zm + (i - i0) * ncols;
      for (uint32_t jj = 0; jj < ncols; jj++) {
      #pragma HLS LOOP_TRIPCOUNT max = MT_COLS
        int32_t vp = t->g[MT_DEV_PLUS][i][col0 + jj], vm = t->g[MT_DEV_MINUS][i][col0 + jj];
        if (noisy) {
          vp = (int32_t)(vp + mt_gnoise(sigma, zpi[jj]));
          vm = (int32_t)(vm + mt_gnoise(sigma, zmi[jj]));
          vp = vp < 0 ? 0 : (vp > 65535 ? 65535 : vp); /* sense-amplifier range */
          vm = vm < 0 ? 0 : (vm > 65535 ? 65535 : vm);
        }
        c->out[n++] = (uint32_t)vp | (uint32_t)vm << 16;
      }
    }
  }
  count_reads(c, n, flags);
  return MT_ST_OK;
}

/* Whether a READ_LIST entry names no cell (row, column out of range, bits 7:0 not zero). */
static uint32_t list_entry_bad(uint32_t e) {
  return (e >> MT_ENT_READ_LIST_ROW_LSB) >= MT_ROWS ||
         ((e >> MT_ENT_READ_LIST_COL_LSB) & 0xFFFu) >= MT_COLS ||
         (e & ((1u << MT_ENT_READ_LIST_ZERO_WIDTH) - 1u)) != 0;
}

/* A scatter read: READ_CELLS of a list of cells, answered in list order. */
static uint32_t op_read_list(mt_ctx_t *c) {
  if (c->len < MT_PL_READ_LIST_WORDS) return fail(c, MT_ST_ERR_LENGTH, c->len, MT_PL_READ_LIST_WORDS);
  uint32_t st = check_tile(c, 0, 1);
  if (st != MT_ST_OK) return st;
  uint32_t flags = c->p[MT_PL_READ_LIST_FLAGS];
  if (flags > MT_READ_PROBE) return fail(c, MT_ST_ERR_PARAM, MT_PL_READ_LIST_FLAGS, flags);
  for (uint32_t k = MT_PL_READ_LIST_WORDS; k < c->len; k++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_MAX_PAYLOAD
    if (list_entry_bad(c->p[k])) return fail(c, MT_ST_ERR_RANGE, k, c->p[k]);
  }
  st = need(c, c->len - MT_PL_READ_LIST_WORDS);
  if (st != MT_ST_OK) return st;
  const mt_tile_t *t = &c->tiles[c->p[MT_PL_READ_LIST_TILE]];
  for (uint32_t k = MT_PL_READ_LIST_WORDS; k < c->len; k++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_MAX_PAYLOAD
    uint32_t e = c->p[k];
    c->out[k - MT_PL_READ_LIST_WORDS] = sense_pair(c, t, e >> MT_ENT_READ_LIST_ROW_LSB,
                                                   (e >> MT_ENT_READ_LIST_COL_LSB) & 0xFFFu, flags);
  }
  count_reads(c, c->len - MT_PL_READ_LIST_WORDS, flags);
  return MT_ST_OK;
}

/* READ_LEVELS and META_READ read digital registers of a region: they need a
 * valid tile and region, not configuration or fabrication. */
static uint32_t check_register_read(mt_ctx_t *c) {
  uint32_t st = expect_len(c, 5);
  if (st == MT_ST_OK && c->p[0] >= c->n_tiles) st = fail(c, MT_ST_ERR_TILE, 0, c->p[0]);
  if (st == MT_ST_OK) st = check_region(c);
  if (st == MT_ST_OK) st = need(c, c->p[2] * c->p[4]);
  return st;
}

static uint32_t op_read_levels(mt_ctx_t *c) {
  uint32_t st = check_register_read(c);
  if (st != MT_ST_OK) return st;
  const mt_tile_t *t = &c->tiles[c->p[0]];
  uint32_t n = 0;
  for (uint32_t i = c->p[1]; i < c->p[1] + c->p[2]; i++)
    for (uint32_t j = c->p[3]; j < c->p[3] + c->p[4]; j++) c->out[n++] = t->level[i][j];
  return MT_ST_OK;
}

static int32_t half(const uint32_t *words, uint32_t i) {
  return (int16_t)(uint16_t)(words[i / 2] >> (16u * (i % 2)));
}

/* The DAC: input x clipped to +-xmax; *clips counts the clipped inputs. */
static int32_t dac(int32_t x, int32_t xmax, uint32_t *clips) {
  int clip = x > xmax || x < -xmax;
  *clips += (uint32_t)clip;
  return clip ? (x > 0 ? xmax : -xmax) : x;
}

/* An input word carries two rows, and the last word's second row is a row of the tile. */
_Static_assert(MT_ROWS % 2 == 0, "the MVM reads rows in pairs: MT_ROWS must be even");

/* One input vector through a tile (docs/device-model.md, "MVM"). Written for Vitis HLS as
 * three pipelined loops per vector, each at II=1 (docs/boards.md, "Expected throughput"); their
 * trip counts follow the command's sizes (maxima declared), the column and lane loops inside
 * them have constant bounds and are unrolled:
 *   1. DAC and accumulate fused: one input word, i.e. rows 2w and 2w+1, per clock; every
 *      column's product is formed in the same clock (the conductance planes are partitioned
 *      completely by column and cyclically by two rows in mt_xrt_top.c), and the first
 *      word initializes the accumulators, so there is no separate init loop and no per-row
 *      pipeline fill. Read mode 1 takes its per-cell draws in a loop of its own instead
 *      (16 columns per clock, one per noise lane: a lane gives its draws in column order).
 *   2. The per-column noise of read mode 2: one group of MT_LANES columns per clock.
 *   3. ADC and output: two columns, one output word, per clock.
 * The golden model runs the same code; integer arithmetic keeps every result and every
 * draw (and its order per lane) bit-identical to the reference semantics. */
static void mvm_one(mt_regs_t *regs, const mt_tile_t *t, const uint32_t *in, uint32_t nrows,
                    uint32_t ncols, uint32_t *out) {
  const uint32_t *cfg = regs->cfg;
  int32_t xmax = (int32_t)(1u << (cfg[MT_CFG_DAC_BITS] - 1)) - 1;
  int64_t ymax = ((int64_t)1 << (cfg[MT_CFG_ADC_BITS] - 1)) - 1;
  uint32_t mode = cfg[MT_CFG_READ_MODE];
  int64_t sigma = cfg[MT_CFG_READ_SIGMA];
  uint32_t in_words = (nrows + 1) / 2, out_words = (ncols + 1) / 2;
  /* When no column sum can reach 2^31 a 32-bit accumulator is exact (and the golden
   * model's compiler vectorizes it); otherwise sums are 64-bit. Read mode 1 adds noise to
   * every cell, so it always sums in 64 bits. */
  int narrow = mode != 1 && (uint64_t)xmax * 65535u * nrows < ((uint64_t)1 << 31);
  int32_t x[MT_ROWS];
  #pragma HLS ARRAY_PARTITION variable = x type = cyclic factor = 2
  int32_t acc32[MT_COLS];
  #pragma HLS ARRAY_PARTITION variable = acc32 type = complete
  int64_t acc[MT_COLS];
  #pragma HLS ARRAY_PARTITION variable = acc type = complete
  uint64_t sum_sq = 0;
  uint32_t dac_clips = 0, adc_clips = 0;
  for (uint32_t w = 0; w < in_words; w++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_ROWS / 2
  #pragma HLS PIPELINE II = 1
    /* Each input word is read once: one m_axi read per clock. The upper half of the last
     * word of an odd row count is no input (not converted, not counted). */
    uint32_t word = in[w];
    uint32_t r0 = 2 * w, r1 = 2 * w + 1;
    int32_t x0 = dac(half(&word, 0), xmax, &dac_clips);
    int32_t x1 = r1 < nrows ? dac(half(&word, 1), xmax, &dac_clips) : 0;
    x[r0] = x0;
    x[r1] = x1;
    sum_sq += (uint64_t)((int64_t)x0 * x0) + (uint64_t)((int64_t)x1 * x1);
    /* Zero inputs add nothing: the model skips them (sparse inputs are the common case);
     * in the kernel the predicate only idles the clock. The first word always runs, since
     * it initializes the accumulators. |x| <= 2^15 - 1 and |g+ - g-| <= 2^16 - 1: each
     * product fits in 32 bits, and in a narrow MVM so does their sum. */
    if (mode == 1 || (w != 0 && x0 == 0 && x1 == 0)) continue;
    if (narrow)
      for (uint32_t j = 0; j < MT_COLS; j++) {
      #pragma HLS UNROLL
        int32_t p = x0 * ((int32_t)t->g[MT_DEV_PLUS][r0][j] - t->g[MT_DEV_MINUS][r0][j]) +
                    x1 * ((int32_t)t->g[MT_DEV_PLUS][r1][j] - t->g[MT_DEV_MINUS][r1][j]);
        acc32[j] = (w == 0 ? 0 : acc32[j]) + p;
      }
    else
      for (uint32_t j = 0; j < MT_COLS; j++) {
      #pragma HLS UNROLL
        int64_t p = (int64_t)(x0 * ((int32_t)t->g[MT_DEV_PLUS][r0][j] - t->g[MT_DEV_MINUS][r0][j])) +
                    x1 * ((int32_t)t->g[MT_DEV_PLUS][r1][j] - t->g[MT_DEV_MINUS][r1][j]);
        acc[j] = (w == 0 ? 0 : acc[j]) + p;
      }
  }
  uint32_t groups = (ncols + MT_LANES - 1) / MT_LANES;
  if (mode == 1) {
    /* Per-cell noise: every cell takes its two draws (G+ then G-, from the column's lane),
     * even at zero input. Rows x column groups flattened into one loop, so a row costs
     * `groups` clocks with no fill between rows; lane l serves column g * MT_LANES + l. */
    uint32_t i = 0, g = 0;
    for (uint32_t it = 0; it < nrows * groups; it++) {
    #pragma HLS LOOP_TRIPCOUNT max = MT_ROWS * MT_COLS / MT_LANES
    #pragma HLS PIPELINE II = 1
      for (uint32_t l = 0; l < MT_LANES; l++) {
      #pragma HLS UNROLL
        uint32_t j = g * MT_LANES + l;
        if (j < ncols) {
          mt_xoshiro_t *r = &regs->lanes[l];
          int64_t np = mt_noise(r, sigma);
          int64_t diff = (int64_t)t->g[MT_DEV_PLUS][i][j] - t->g[MT_DEV_MINUS][i][j] + np -
                         mt_noise(r, sigma);
          acc[j] = (i == 0 ? 0 : acc[j]) + x[i] * diff;
        }
      }
      if (++g == groups) {
        g = 0;
        i++;
      }
    }
  }
  int16_t z[MT_COLS];
  #pragma HLS ARRAY_PARTITION variable = z type = complete
  int64_t amp = 0;
  if (mode == 2) {
    /* Sum over rows of x_i*(n+ - n-) is Gaussian with sigma*sqrt(2*sum x_i^2): one draw per
     * column, a group of MT_LANES columns per clock. */
    amp = (int64_t)mt_isqrt64(2 * sum_sq) * sigma;
    mt_gauss_columns(regs->lanes, ncols, z);
  }
  /* Each output word is assembled in a register and written once: a write-only, sequential
   * stream on the response port (no read-modify-write of device memory). */
  for (uint32_t w = 0; w < out_words; w++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_COLS / 2
  #pragma HLS PIPELINE II = 1
    uint32_t word = 0;
    for (uint32_t k = 0; k < 2; k++) {
    #pragma HLS UNROLL
      uint32_t j = 2 * w + k;
      if (j < ncols) {
        int64_t s = narrow ? (int64_t)acc32[j] : acc[j];
        if (mode == 2) s += mt_gnoise(amp, z[j]);
        int64_t y = mt_round_shift(s * (int64_t)cfg[MT_CFG_ADC_MUL], cfg[MT_CFG_ADC_SHIFT]);
        if (y > ymax || y < -ymax) {
          y = y > 0 ? ymax : -ymax;
          adc_clips++;
        }
        word |= ((uint32_t)y & 0xFFFFu) << (16u * k);
      }
    }
    out[w] = word;
  }
  mt_count(regs, MT_CNT_MVMS, 1);
  mt_count(regs, MT_CNT_DAC_CONVERSIONS, nrows);
  mt_count(regs, MT_CNT_ADC_CONVERSIONS, ncols);
  mt_count(regs, MT_CNT_DAC_CLIPS, dac_clips);
  mt_count(regs, MT_CNT_ADC_CLIPS, adc_clips);
}

static uint32_t op_mvm(mt_ctx_t *c) {
  if (c->len < 4) return fail(c, MT_ST_ERR_LENGTH, c->len, 4);
  uint32_t st = check_tile(c, 0, 1);
  if (st != MT_ST_OK) return st;
  uint32_t nvec = c->p[1], nrows = c->p[2], ncols = c->p[3];
  if (nvec == 0 || nvec > MT_MAX_BATCH) return fail(c, MT_ST_ERR_RANGE, 1, nvec);
  if (nrows == 0 || nrows > MT_ROWS) return fail(c, MT_ST_ERR_RANGE, 2, nrows);
  if (ncols == 0 || ncols > MT_COLS) return fail(c, MT_ST_ERR_RANGE, 3, ncols);
  uint32_t in_words = (nrows + 1) / 2, out_words = (ncols + 1) / 2;
  st = expect_len(c, 4 + nvec * in_words);
  if (st == MT_ST_OK) st = need(c, nvec * out_words);
  if (st != MT_ST_OK) return st;
  const mt_tile_t *t = &c->tiles[c->p[0]];
  for (uint32_t v = 0; v < nvec; v++)
    mvm_one(c->regs, t, c->p + 4 + v * in_words, nrows, ncols, c->out + v * out_words);
  return MT_ST_OK;
}

/* Shared by META_WRITE and META_UPDATE: checks and returns the region size. */
static uint32_t meta_prepare(mt_ctx_t *c, int want_levels, uint32_t *n) {
  if (c->len < 5) return fail(c, MT_ST_ERR_LENGTH, c->len, 5);
  uint32_t st = check_tile(c, want_levels, 1);
  if (st == MT_ST_OK) st = check_region(c);
  *n = c->p[2] * c->p[4];
  return st;
}

/* Re-quantizes the hidden weight of (i, j) and programs the weight when its
 * level changed; the metaplasticity unit never programs an unchanged cell. */
static uint32_t meta_commit(mt_ctx_t *c, mt_draws_t *db, mt_tile_t *t, uint32_t i, uint32_t j,
                            uint32_t *wv) {
  uint32_t q = mt_level_of_hidden(t->hidden[i][j], c->regs->levels);
  uint32_t flags = c->regs->cfg[MT_CFG_META_PROG_MODE] ? MT_PROG_OPEN_LOOP : 0;
  return mt_weight_program(c->regs, db, t, i, j, q, flags, wv);
}

static uint32_t meta_report(mt_ctx_t *c, uint32_t programmed, uint32_t requests, uint32_t wv) {
  c->out[0] = programmed;
  c->out[1] = requests - programmed;
  c->out[2] = wv;
  return MT_ST_OK;
}

static uint32_t op_meta_write(mt_ctx_t *c) {
  uint32_t n = 0;
  uint32_t st = meta_prepare(c, 1, &n);
  if (st == MT_ST_OK) st = expect_len(c, 5 + n);
  if (st != MT_ST_OK) return st;
  for (uint32_t k = 0; k < n; k++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_ROWS * MT_COLS
    int32_t h = (int32_t)c->p[5 + k];
    if (h > HIDDEN_MAX || h < -HIDDEN_MAX) return fail(c, MT_ST_ERR_RANGE, 5 + k, c->p[5 + k]);
  }
  st = need(c, 3);
  if (st != MT_ST_OK) return st;
  mt_tile_t *t = &c->tiles[c->p[0]];
  uint32_t k = 0, programmed = 0, wv = 0;
  mt_draws_t db;
  mt_draws_begin(&db, c->regs->lanes);
  for (uint32_t i = c->p[1]; i < c->p[1] + c->p[2]; i++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_ROWS
    for (uint32_t j = c->p[3]; j < c->p[3] + c->p[4]; j++) {
    #pragma HLS LOOP_TRIPCOUNT max = MT_COLS
      uint32_t att = 0;
      t->hidden[i][j] = mt_meta_unit(c->regs, 0, (int32_t)c->p[5 + k++], 1, &att);
      programmed += meta_commit(c, &db, t, i, j, &wv);
    }
  }
  mt_draws_end(&db);
  return meta_report(c, programmed, n, wv);
}

static uint32_t op_meta_update(mt_ctx_t *c) {
  uint32_t n = 0;
  uint32_t st = meta_prepare(c, 1, &n);
  if (st == MT_ST_OK) st = expect_len(c, 5 + (n + 1) / 2);
  if (st == MT_ST_OK) st = need(c, 3);
  if (st != MT_ST_OK) return st;
  mt_regs_t *regs = c->regs;
  mt_tile_t *t = &c->tiles[c->p[0]];
  uint32_t in_shift = regs->cfg[MT_CFG_META_IN_SHIFT];
  uint32_t k = 0, requests = 0, programmed = 0, wv = 0;
  mt_draws_t db;
  mt_draws_begin(&db, regs->lanes);
  for (uint32_t i = c->p[1]; i < c->p[1] + c->p[2]; i++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_ROWS
    for (uint32_t j = c->p[3]; j < c->p[3] + c->p[4]; j++) {
    #pragma HLS LOOP_TRIPCOUNT max = MT_COLS
      int64_t d = (int64_t)half(c->p + 5, k++) * ((int64_t)1 << in_shift);
      if (d == 0) continue;
      mt_count(regs, MT_CNT_META_UPDATES, 1);
      uint32_t att = 0;
      t->hidden[i][j] = mt_meta_unit(regs, t->hidden[i][j], d, 0, &att);
      if (att) mt_count(regs, MT_CNT_META_ATTENUATED, 1);
      requests++;
      programmed += meta_commit(c, &db, t, i, j, &wv);
    }
  }
  mt_draws_end(&db);
  return meta_report(c, programmed, requests, wv);
}

static uint32_t op_meta_read(mt_ctx_t *c) {
  uint32_t st = check_register_read(c);
  if (st != MT_ST_OK) return st;
  const mt_tile_t *t = &c->tiles[c->p[0]];
  uint32_t n = 0;
  for (uint32_t i = c->p[1]; i < c->p[1] + c->p[2]; i++)
    for (uint32_t j = c->p[3]; j < c->p[3] + c->p[4]; j++) c->out[n++] = (uint32_t)t->hidden[i][j];
  return MT_ST_OK;
}

static uint32_t op_stats_get(mt_ctx_t *c) {
  uint32_t st = expect_len(c, 0);
  if (st == MT_ST_OK) st = need(c, 2 * MT_CNT_COUNT);
  if (st != MT_ST_OK) return st;
  for (uint32_t i = 0; i < MT_CNT_COUNT; i++) {
    c->out[2 * i] = (uint32_t)c->regs->counters[i];
    c->out[2 * i + 1] = (uint32_t)(c->regs->counters[i] >> 32);
  }
  return MT_ST_OK;
}

static uint32_t op_stats_reset(mt_ctx_t *c) {
  uint32_t st = expect_len(c, 0);
  if (st != MT_ST_OK) return st;
  for (uint32_t i = 0; i < MT_CNT_COUNT; i++) c->regs->counters[i] = 0;
  return MT_ST_OK;
}

/* Section, index, offset, count of a state chunk; count is the payload word 3
 * for reads and the number of trailing words for writes. */
static uint32_t check_chunk(mt_ctx_t *c, uint32_t count) {
  uint32_t section = c->p[0], index = c->p[1], offset = c->p[2];
  uint32_t size = section == MT_SECTION_GLOBAL ? MT_GLOBAL_WORDS : MT_TILE_WORDS;
  if (section > MT_SECTION_TILE) return fail(c, MT_ST_ERR_PARAM, 0, section);
  if (section == MT_SECTION_GLOBAL && index != 0) return fail(c, MT_ST_ERR_RANGE, 1, index);
  if (section == MT_SECTION_TILE && index >= c->n_tiles) return fail(c, MT_ST_ERR_TILE, 1, index);
  if (offset >= size) return fail(c, MT_ST_ERR_RANGE, 2, offset);
  if (count == 0 || count > MT_STATE_CHUNK || count > size - offset)
    return fail(c, MT_ST_ERR_RANGE, 3, count);
  return MT_ST_OK;
}

static uint32_t op_state_read(mt_ctx_t *c) {
  uint32_t st = expect_len(c, 4);
  if (st == MT_ST_OK) st = check_chunk(c, c->p[3]);
  if (st == MT_ST_OK) st = need(c, c->p[3]);
  if (st != MT_ST_OK) return st;
  if (c->p[0] == MT_SECTION_GLOBAL)
    mt_state_global_read(c->regs, c->p[2], c->p[3], c->out);
  else
    mt_state_tile_read(&c->tiles[c->p[1]], c->p[2], c->p[3], c->out);
  return MT_ST_OK;
}

static uint32_t op_state_write(mt_ctx_t *c) {
  if (c->len < 4) return fail(c, MT_ST_ERR_LENGTH, c->len, 4);
  uint32_t count = c->len - 3;
  uint32_t st = check_chunk(c, count);
  if (st != MT_ST_OK) return st;
  uint32_t bad = 0;
  if (c->p[0] == MT_SECTION_GLOBAL) {
    /* Cross-field invariants need the whole section in one command. */
    if (c->p[2] != 0 || count != MT_GLOBAL_WORDS)
      return fail(c, MT_ST_ERR_LENGTH, count, MT_GLOBAL_WORDS);
    if (mt_state_global_check(c->p + 3, c->n_tiles, &bad) != MT_ST_OK)
      return fail(c, MT_ST_ERR_SNAPSHOT, bad, c->p[3 + bad]);
    mt_state_global_write(c->regs, c->p + 3);
  } else {
    if (c->p[2] % MT_WEIGHT_WORDS != 0) return fail(c, MT_ST_ERR_RANGE, 2, c->p[2]);
    if (count % MT_WEIGHT_WORDS != 0) return fail(c, MT_ST_ERR_LENGTH, count, MT_WEIGHT_WORDS);
    if (mt_state_tile_check(c->p + 3, count, &bad) != MT_ST_OK)
      return fail(c, MT_ST_ERR_SNAPSHOT, c->p[2] + bad, c->p[3 + bad]);
    mt_state_tile_write(&c->tiles[c->p[1]], c->p[2], count, c->p + 3);
  }
  return MT_ST_OK;
}

static uint32_t dispatch(mt_ctx_t *c, uint32_t op) {
  switch (op) {
    case MT_OP_NOP: return MT_ST_OK;
    case MT_OP_INFO: return op_info(c);
    case MT_OP_ECHO: return op_echo(c);
    case MT_OP_CONFIGURE: return op_configure(c);
    case MT_OP_SEED: return op_seed(c);
    case MT_OP_SET_LEVELS: return op_set_levels(c);
    case MT_OP_META_TABLE: return op_meta_table(c);
    case MT_OP_FABRICATE: return op_fabricate(c);
    case MT_OP_DRIFT: return op_drift(c);
    case MT_OP_PROGRAM: return op_program(c);
    case MT_OP_PULSE: return op_pulse(c);
    case MT_OP_READ_CELLS: return op_read_cells(c);
    case MT_OP_READ_LEVELS: return op_read_levels(c);
    case MT_OP_MVM: return op_mvm(c);
    case MT_OP_META_WRITE: return op_meta_write(c);
    case MT_OP_META_UPDATE: return op_meta_update(c);
    case MT_OP_META_READ: return op_meta_read(c);
    case MT_OP_STATS_GET: return op_stats_get(c);
    case MT_OP_STATS_RESET: return op_stats_reset(c);
    case MT_OP_STATE_READ: return op_state_read(c);
    case MT_OP_STATE_WRITE: return op_state_write(c);
    case MT_OP_READ_LIST: return op_read_list(c);
    default: return fail(c, MT_ST_ERR_OPCODE, op, 0);
  }
}

void mt_device_reset(mt_regs_t *regs, mt_tile_t *tiles, uint32_t n_tiles) {
  /* Member by member, without byte-pointer casts, which Vitis HLS does not synthesize. */
  static const mt_regs_t zero_regs;
  static const mt_dev_t zero_dev;
  *regs = zero_regs;
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++) regs->meta_table[i] = 0xFFFFu;
  mt_lanes_seed(regs->lanes, 0);
  for (uint32_t t = 0; t < n_tiles; t++) {
  #pragma HLS LOOP_TRIPCOUNT max = MT_MAX_TILES
    for (uint32_t i = 0; i < MT_ROWS; i++) {
      for (uint32_t j = 0; j < MT_COLS; j++) {
        for (uint32_t k = 0; k < 2; k++) {
          tiles[t].g[k][i][j] = 0;
          tiles[t].dev[i][j][k] = zero_dev;
        }
        tiles[t].hidden[i][j] = 0;
        /* No weight has been programmed yet: READ_LEVELS reports LEVEL_NONE. */
        tiles[t].level[i][j] = MT_LEVEL_NONE;
      }
    }
  }
}

uint32_t mt_kernel(const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp, uint32_t rsp_cap,
                   mt_regs_t *regs, mt_tile_t *tiles, uint32_t n_tiles, uint32_t *consumed) {
  /* Not the HLS top: mt_top (mt_xrt_top.c) owns the interfaces and keeps regs and tiles on
   * chip. */
  uint32_t pos = 0, w = 0;
  if (n_tiles > MT_MAX_TILES) n_tiles = MT_MAX_TILES;
  while (pos < n_cmd) {
#pragma HLS LOOP_TRIPCOUNT max = 65536
    /* Room for an error response is required before a command is looked at. */
    if (rsp_cap - w < MT_HDR_WORDS + 2) break;
    mt_ctx_t c = {regs, tiles, n_tiles, 0, 0, rsp + w + MT_HDR_WORDS,
                  rsp_cap - w - MT_HDR_WORDS, 0, {0, 0}};
    uint32_t op = cmd[pos] >> 24, tag = (cmd[pos] >> 16) & 0xFFu;
    uint32_t avail = n_cmd - pos - (n_cmd - pos >= MT_HDR_WORDS ? MT_HDR_WORDS : n_cmd - pos);
    uint32_t status;
    int stop = 0;
    if (n_cmd - pos < MT_HDR_WORDS || cmd[pos + 1] > avail) {
      status = fail(&c, MT_ST_ERR_TRUNCATED, n_cmd - pos >= MT_HDR_WORDS ? cmd[pos + 1] : 0, avail);
      stop = 1;
    } else {
      c.len = cmd[pos + 1];
      c.p = cmd + pos + MT_HDR_WORDS;
      status = c.len > MT_MAX_PAYLOAD ? fail(&c, MT_ST_ERR_LENGTH, c.len, MT_MAX_PAYLOAD)
                                      : dispatch(&c, op);
    }
    if (status != MT_ST_OK) {
      c.out[0] = c.detail[0];
      c.out[1] = c.detail[1];
      c.n_out = 2;
    }
    rsp[w] = (op << 24) | (tag << 16) | status;
    MT_ASSERT(c.n_out <= c.cap && (status == MT_ST_OK || c.n_out == 2));
    rsp[w + 1] = c.n_out;
    w += MT_HDR_WORDS + c.n_out;
    if (status == MT_ST_ERR_OVERFLOW) break;
    if (stop) {
      pos = n_cmd;
      break;
    }
    pos += MT_HDR_WORDS + c.len;
  }
  MT_ASSERT(w <= rsp_cap && pos <= n_cmd);
  *consumed = pos;
  return w;
}
