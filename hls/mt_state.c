/* Serialization of the device state. The layout is part of the protocol, so
 * images move between model://, verilator:// and the hardware. */
#include "mt_state.h"

/* Word offsets inside the GLOBAL section (generated from docs/protocol.json). */
#define G_VERSION MT_G_VERSION
#define G_CONFIGURED MT_G_CONFIGURED
#define G_CFG MT_G_CFG
#define G_LEVELS MT_G_LEVELS
#define G_LEVEL_TABLE MT_G_LEVEL_TABLE
#define G_META MT_G_META
#define G_SEED MT_G_SEED
#define G_LANES MT_G_LANES
#define G_COUNTERS MT_G_COUNTERS
#define G_FABRICATED MT_G_FABRICATED

/* The layout's section sizes are those of mt_regs_t's fields. */
typedef char global_layout_matches[(G_LEVELS - G_CFG == MT_CFG_COUNT &&
                                    G_META - G_LEVEL_TABLE == MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS &&
                                    G_LANES - G_SEED == 2u && G_COUNTERS - G_LANES == MT_LANES * 4u &&
                                    G_FABRICATED - G_COUNTERS == MT_CNT_COUNT * 2u &&
                                    MT_GLOBAL_WORDS - G_FABRICATED == MT_MAX_TILES / 32u)
                                       ? 1
                                       : -1];

#define HIDDEN_MAX ((int32_t)MT_HIDDEN_MAX)

/* record_bad_word walks the two devices' bounds as MT_W_BOUNDS_P + k. */
typedef char record_bounds_adjacent[MT_W_BOUNDS_M == MT_W_BOUNDS_P + 1 ? 1 : -1];

static uint32_t global_word(const mt_regs_t *regs, uint32_t i) {
  if (i == G_VERSION) return (MT_PROTO_MAJOR << 16) | MT_PROTO_MINOR;
  if (i == G_CONFIGURED) return regs->configured;
  if (i < G_LEVELS) return regs->cfg[i - G_CFG];
  if (i == G_LEVELS) return regs->levels;
  if (i < G_META) {
    uint32_t k = i - G_LEVEL_TABLE;
    return regs->level_table[k / MT_LEVEL_ENTRY_WORDS][k % MT_LEVEL_ENTRY_WORDS];
  }
  if (i < G_SEED) {
    uint32_t k = 2 * (i - G_META);
    return regs->meta_table[k] | ((uint32_t)regs->meta_table[k + 1] << 16);
  }
  if (i < G_LANES) return (uint32_t)(regs->noise_seed >> (32u * (i - G_SEED)));
  if (i < G_COUNTERS) return regs->lanes[(i - G_LANES) / 4].s[(i - G_LANES) % 4];
  if (i < G_FABRICATED) {
    uint32_t k = i - G_COUNTERS;
    return (uint32_t)(regs->counters[k / 2] >> (32u * (k % 2)));
  }
  return regs->fabricated[i - G_FABRICATED];
}

void mt_state_global_read(const mt_regs_t *regs, uint32_t offset, uint32_t count, uint32_t *out) {
  MT_ASSERT(offset <= MT_GLOBAL_WORDS && count <= MT_GLOBAL_WORDS - offset);
  for (uint32_t k = 0; k < count; k++) out[k] = global_word(regs, offset + k);
}

uint32_t mt_state_global_check(const uint32_t *img, uint32_t n_tiles, uint32_t *bad) {
  uint32_t field = 0;
  *bad = G_VERSION;
  if (img[G_VERSION] != ((MT_PROTO_MAJOR << 16) | MT_PROTO_MINOR)) return MT_ST_ERR_SNAPSHOT;
  *bad = G_CONFIGURED;
  if (img[G_CONFIGURED] > 1) return MT_ST_ERR_SNAPSHOT;
  if (img[G_CONFIGURED] && mt_config_check(img + G_CFG, &field) != MT_ST_OK) {
    *bad = G_CFG + field;
    return MT_ST_ERR_SNAPSHOT;
  }
  *bad = G_LEVELS;
  uint32_t levels = img[G_LEVELS];
  if (levels != 0 && (levels < MT_MIN_LEVELS || levels > MT_MAX_LEVELS)) return MT_ST_ERR_SNAPSHOT;
  for (uint32_t q = 0; q < MT_MAX_LEVELS; q++) {
    /* The entries SET_LEVELS accepts, and no others (word 1: pulse indices). */
    *bad = G_LEVEL_TABLE + q * MT_LEVEL_ENTRY_WORDS + 1;
    if ((img[*bad] & 0xFFFFu) > MT_MAX_PULSE_INDEX || (img[*bad] >> 16) > MT_MAX_PULSE_INDEX)
      return MT_ST_ERR_SNAPSHOT;
    *bad = G_LEVEL_TABLE + q * MT_LEVEL_ENTRY_WORDS + 2;
    if (img[*bad] > 0xFFFFu) return MT_ST_ERR_SNAPSHOT;
  }
  for (uint32_t l = 0; l < MT_LANES; l++) {
    const uint32_t *s = img + G_LANES + 4 * l;
    *bad = G_LANES + 4 * l;
    if ((s[0] | s[1] | s[2] | s[3]) == 0) return MT_ST_ERR_SNAPSHOT; /* xoshiro fixed point */
  }
  for (uint32_t t = n_tiles; t < MT_MAX_TILES; t++) {
    *bad = G_FABRICATED + t / 32;
    if ((img[*bad] >> (t % 32)) & 1u) return MT_ST_ERR_SNAPSHOT;
  }
  return MT_ST_OK;
}

void mt_state_global_write(mt_regs_t *regs, const uint32_t *img) {
  regs->configured = img[G_CONFIGURED];
  for (uint32_t i = 0; i < MT_CFG_COUNT; i++) regs->cfg[i] = img[G_CFG + i];
  regs->levels = img[G_LEVELS];
  for (uint32_t k = 0; k < MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS; k++)
    regs->level_table[k / MT_LEVEL_ENTRY_WORDS][k % MT_LEVEL_ENTRY_WORDS] = img[G_LEVEL_TABLE + k];
  for (uint32_t k = 0; k < MT_META_TABLE_SIZE; k++)
    regs->meta_table[k] = (uint16_t)(img[G_META + k / 2] >> (16u * (k % 2)));
  regs->noise_seed = img[G_SEED] | ((uint64_t)img[G_SEED + 1] << 32);
  for (uint32_t k = 0; k < MT_LANES * 4; k++) regs->lanes[k / 4].s[k % 4] = img[G_LANES + k];
  for (uint32_t k = 0; k < MT_CNT_COUNT; k++)
    regs->counters[k] = img[G_COUNTERS + 2 * k] | ((uint64_t)img[G_COUNTERS + 2 * k + 1] << 32);
  for (uint32_t k = 0; k < MT_MAX_TILES / 32; k++) regs->fabricated[k] = img[G_FABRICATED + k];
}

static uint32_t pack(uint32_t lo, uint32_t hi) { return (lo & 0xFFFFu) | (hi << 16); }

static void record_pack(const mt_tile_t *t, uint32_t w, uint32_t rec[MT_WEIGHT_WORDS]) {
  const mt_dev_t *p = &t->dev[w / MT_COLS][w % MT_COLS][MT_DEV_PLUS];
  const mt_dev_t *m = &t->dev[w / MT_COLS][w % MT_COLS][MT_DEV_MINUS];
  rec[MT_W_G] = pack(t->g[MT_DEV_PLUS][w / MT_COLS][w % MT_COLS], t->g[MT_DEV_MINUS][w / MT_COLS][w % MT_COLS]);
  rec[MT_W_BOUNDS_P] = pack(p->gmin, p->gmax);
  rec[MT_W_BOUNDS_M] = pack(m->gmin, m->gmax);
  rec[MT_W_STEPS_P] = pack(p->step_set, p->step_rst);
  rec[MT_W_STEPS_M] = pack(m->step_set, m->step_rst);
  rec[MT_W_A_P] = pack(p->a_set, p->a_rst);
  rec[MT_W_A_M] = pack(m->a_set, m->a_rst);
  rec[MT_W_PULSES_P] = p->pulses;
  rec[MT_W_PULSES_M] = m->pulses;
  rec[MT_W_FLAGS] = p->fault | ((uint32_t)m->fault << 8) |
                    ((uint32_t)t->level[w / MT_COLS][w % MT_COLS] << 16);
  rec[MT_W_HIDDEN] = (uint32_t)t->hidden[w / MT_COLS][w % MT_COLS];
}

void mt_state_tile_read(const mt_tile_t *t, uint32_t offset, uint32_t count, uint32_t *out) {
  MT_ASSERT(offset <= MT_TILE_WORDS && count <= MT_TILE_WORDS - offset);
  uint32_t rec[MT_WEIGHT_WORDS];
  for (uint32_t k = 0; k < count; k++) {
    uint32_t i = offset + k;
    if (k == 0 || i % MT_WEIGHT_WORDS == 0) record_pack(t, i / MT_WEIGHT_WORDS, rec);
    out[k] = rec[i % MT_WEIGHT_WORDS];
  }
}

/* Index (within the record) of the first word breaking an invariant, or
 * MT_WEIGHT_WORDS when the record is valid. */
static uint32_t record_bad_word(const uint32_t *r) {
  uint32_t g[2] = {r[MT_W_G] & 0xFFFFu, r[MT_W_G] >> 16};
  for (uint32_t k = 0; k < 2; k++) {
    uint32_t lo = r[MT_W_BOUNDS_P + k] & 0xFFFFu, hi = r[MT_W_BOUNDS_P + k] >> 16;
    if (lo > hi) return MT_W_BOUNDS_P + k;
    if (g[k] < lo || g[k] > hi) return MT_W_G;
  }
  uint32_t fp = r[MT_W_FLAGS] & 0xFFu, fm = (r[MT_W_FLAGS] >> 8) & 0xFFu, level = r[MT_W_FLAGS] >> 16;
  if (fp > MT_FAULT_WORN || fm > MT_FAULT_WORN) return MT_W_FLAGS;
  if (level >= MT_MAX_LEVELS && level != MT_LEVEL_NONE) return MT_W_FLAGS;
  int32_t h = (int32_t)r[MT_W_HIDDEN];
  if (h > HIDDEN_MAX || h < -HIDDEN_MAX) return MT_W_HIDDEN;
  return MT_WEIGHT_WORDS;
}

uint32_t mt_state_tile_check(const uint32_t *words, uint32_t count, uint32_t *bad) {
  for (uint32_t k = 0; k < count; k += MT_WEIGHT_WORDS) {
    uint32_t b = record_bad_word(words + k);
    if (b != MT_WEIGHT_WORDS) {
      *bad = k + b;
      return MT_ST_ERR_SNAPSHOT;
    }
  }
  return MT_ST_OK;
}

static void unpack_dev(mt_dev_t *d, uint32_t bounds, uint32_t steps, uint32_t a,
                       uint32_t pulses, uint32_t fault) {
  d->gmin = (uint16_t)bounds;
  d->gmax = (uint16_t)(bounds >> 16);
  d->step_set = (uint16_t)steps;
  d->step_rst = (uint16_t)(steps >> 16);
  d->a_set = (uint16_t)a;
  d->a_rst = (uint16_t)(a >> 16);
  d->pulses = pulses;
  d->fault = (uint8_t)fault;
  d->reserved = 0;
}

void mt_state_tile_write(mt_tile_t *t, uint32_t offset, uint32_t count, const uint32_t *words) {
  MT_ASSERT(offset % MT_WEIGHT_WORDS == 0 && count % MT_WEIGHT_WORDS == 0 &&
            offset <= MT_TILE_WORDS && count <= MT_TILE_WORDS - offset);
  for (uint32_t k = 0; k < count; k += MT_WEIGHT_WORDS) {
    const uint32_t *r = words + k;
    uint32_t w = (offset + k) / MT_WEIGHT_WORDS, i = w / MT_COLS, j = w % MT_COLS;
    t->g[MT_DEV_PLUS][i][j] = (uint16_t)r[MT_W_G];
    t->g[MT_DEV_MINUS][i][j] = (uint16_t)(r[MT_W_G] >> 16);
    unpack_dev(&t->dev[i][j][MT_DEV_PLUS], r[MT_W_BOUNDS_P], r[MT_W_STEPS_P], r[MT_W_A_P],
               r[MT_W_PULSES_P], r[MT_W_FLAGS] & 0xFFu);
    unpack_dev(&t->dev[i][j][MT_DEV_MINUS], r[MT_W_BOUNDS_M], r[MT_W_STEPS_M], r[MT_W_A_M],
               r[MT_W_PULSES_M], (r[MT_W_FLAGS] >> 8) & 0xFFu);
    t->level[i][j] = (uint16_t)(r[MT_W_FLAGS] >> 16);
    t->hidden[i][j] = (int32_t)r[MT_W_HIDDEN];
  }
}
