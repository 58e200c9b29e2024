/* Helpers for the device-physics and MVM tests (test_device.c, test_mvm.c), on top of
 * the mt_testdev.h fixture. Include after <cmocka.h>. */
#ifndef MT_TESTUTIL_H
#define MT_TESTUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mt_testdev.h"

#define TU_OK(expr) assert_int_equal((expr), MT_ST_OK)

/* Number of weights / devices of a tile and index helpers. */
#define TU_WEIGHTS (MT_ROWS * MT_COLS)
#define TU_DEVICES (2u * TU_WEIGHTS)
#define TU_W(row, col) ((row) * MT_COLS + (col))
/* Word `word` of the weight record (row, col) in a tile image. */
#define TU_REC(img, row, col, word) ((img)[TU_W(row, col) * MT_WEIGHT_WORDS + (word)])
#define TU_LO(w) ((uint32_t)(w) & 0xFFFFu)
#define TU_HI(w) ((uint32_t)(w) >> 16)

#define TU_PI 3.14159265358979323846

/* Q0.32 probability nearest to p. */
static inline uint32_t tu_q32(double p) { return (uint32_t)llround(p * 4294967296.0); }

/* ------------------------------------------------------------------ test-side PRNG */

/* splitmix64: test data (inputs, levels, pulse trains), independent of the device's
 * own generators. */
typedef struct {
  uint64_t x;
} tu_rng_t;

static inline uint64_t tu_rng_next(tu_rng_t *r) {
  uint64_t z = (r->x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform integer in [lo, hi]. */
static inline int32_t tu_rng_range(tu_rng_t *r, int32_t lo, int32_t hi) {
  return lo + (int32_t)(tu_rng_next(r) % (uint64_t)((int64_t)hi - lo + 1));
}

/* ------------------------------------------------------------------ statistics */

typedef struct {
  double n, mean, m2;
} tu_stat_t;

static inline void tu_stat_add(tu_stat_t *s, double x) {
  s->n += 1.0;
  double d = x - s->mean;
  s->mean += d / s->n;
  s->m2 += d * (x - s->mean);
}

/* Sample standard deviation. */
static inline double tu_stat_std(const tu_stat_t *s) { return sqrt(s->m2 / (s->n - 1.0)); }

/* Standard normal upper tail P(Z > z). */
static inline double tu_upper_tail(double z) { return 0.5 * erfc(z / sqrt(2.0)); }

/* Checks a sample against N(mu, sigma): mean within 4 standard errors (sigma/sqrt(n))
 * and standard deviation within 4 standard errors of the sample standard deviation of
 * a normal sample (sigma/sqrt(2n)). Prints what it compared. */
static inline void tu_assert_normal(const char *what, const tu_stat_t *s, double mu,
                                    double sigma) {
  double se_mean = sigma / sqrt(s->n), se_std = sigma / sqrt(2.0 * s->n);
  double std = tu_stat_std(s);
  print_message("%s: n=%.0f mean=%.3f (want %.3f +- %.3f) std=%.3f (want %.3f +- %.3f)\n",
                what, s->n, s->mean, mu, 4.0 * se_mean, std, sigma, 4.0 * se_std);
  assert_true(fabs(s->mean - mu) <= 4.0 * se_mean);
  assert_true(fabs(std - sigma) <= 4.0 * se_std);
}

/* Observed count of a binomial(n, p) within 4 sigma. */
static inline void tu_assert_binomial(const char *what, double count, double n, double p) {
  double sd = sqrt(n * p * (1.0 - p));
  print_message("%s: %.0f of %.0f (want %.1f +- %.1f)\n", what, count, n, n * p, 4.0 * sd);
  assert_true(fabs(count - n * p) <= 4.0 * sd);
}

/* Variance of mt_gnoise(amp, z): the Gaussian part plus the rounding to integer g
 * units, uniform on one unit (1/12). */
static inline double tu_gnoise_sigma(double amp) { return sqrt(amp * amp + 1.0 / 12.0); }

/* ------------------------------------------------------------------ commands */

/* Appends entries for a train of n pulses (n > 0 SET, n < 0 RESET) on one device, at
 * most 63 per entry; returns the number of entries written. */
static inline uint32_t tu_pulse_entries(uint32_t *buf, uint32_t row, uint32_t col, uint32_t dev,
                                        int32_t n) {
  uint32_t k = 0;
  while (n != 0) {
    int32_t c = n > 63 ? 63 : (n < -63 ? -63 : n);
    buf[k++] = tdev_pulse_entry(row, col, dev, c);
    n -= c;
  }
  return k;
}

/* One PULSE command with a train of n pulses on one device. */
static inline uint32_t tu_pulse(tdev_t *d, uint32_t tile, uint32_t row, uint32_t col,
                                uint32_t dev, int32_t n) {
  uint32_t p[1 + 64];
  p[0] = tile;
  uint32_t k = tu_pulse_entries(p + 1, row, col, dev, n);
  return tdev_run(d, MT_OP_PULSE, p, 1 + k);
}

/* Pulse-command builder for many devices (payload up to MT_MAX_PAYLOAD words). */
typedef struct {
  uint32_t *p;
  uint32_t len;
} tu_pulses_t;

static inline tu_pulses_t tu_pulses_begin(uint32_t tile) {
  tu_pulses_t b = {malloc(MT_MAX_PAYLOAD * sizeof(uint32_t)), 1};
  b.p[0] = tile;
  return b;
}

static inline void tu_pulses_add(tu_pulses_t *b, uint32_t row, uint32_t col, uint32_t dev,
                                 int32_t n) {
  assert_true(b->len + (uint32_t)(abs(n) / 63 + 1) <= MT_MAX_PAYLOAD);
  b->len += tu_pulse_entries(b->p + b->len, row, col, dev, n);
}

/* Runs the command, frees the builder, returns the status. */
static inline uint32_t tu_pulses_run(tdev_t *d, tu_pulses_t *b) {
  uint32_t st = tdev_run(d, MT_OP_PULSE, b->p, b->len);
  free(b->p);
  b->p = NULL;
  return st;
}

/* Exact conductances of a whole tile: g[2*TU_W(row, col) + dev]. */
static inline void tu_probe_tile(tdev_t *d, uint32_t tile, uint16_t *g) {
  uint32_t p[6] = {tile, 0, MT_ROWS, 0, MT_COLS, MT_READ_PROBE};
  TU_OK(tdev_run(d, MT_OP_READ_CELLS, p, 6));
  assert_int_equal(d->out_len, TU_WEIGHTS);
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) {
    g[2 * w] = (uint16_t)TU_LO(d->out[w]);
    g[2 * w + 1] = (uint16_t)TU_HI(d->out[w]);
  }
}

/* Noisy (non-PROBE) read of a whole tile, same layout as tu_probe_tile. */
static inline void tu_read_tile(tdev_t *d, uint32_t tile, uint16_t *g) {
  uint32_t p[6] = {tile, 0, MT_ROWS, 0, MT_COLS, 0};
  TU_OK(tdev_run(d, MT_OP_READ_CELLS, p, 6));
  assert_int_equal(d->out_len, TU_WEIGHTS);
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) {
    g[2 * w] = (uint16_t)TU_LO(d->out[w]);
    g[2 * w + 1] = (uint16_t)TU_HI(d->out[w]);
  }
}

/* Reads a whole state section into img (MT_TILE_WORDS or MT_GLOBAL_WORDS words). */
static inline void tu_state_read(tdev_t *d, uint32_t section, uint32_t index, uint32_t *img) {
  uint32_t size = section == MT_SECTION_GLOBAL ? MT_GLOBAL_WORDS : MT_TILE_WORDS;
  for (uint32_t off = 0; off < size; off += MT_STATE_CHUNK) {
    uint32_t n = size - off < MT_STATE_CHUNK ? size - off : MT_STATE_CHUNK;
    uint32_t p[4] = {section, index, off, n};
    TU_OK(tdev_run(d, MT_OP_STATE_READ, p, 4));
    assert_int_equal(d->out_len, n);
    memcpy(img + off, d->out, n * sizeof *img);
  }
}

/* Freshly allocated image of one tile. */
static inline uint32_t *tu_tile_image(tdev_t *d, uint32_t tile) {
  uint32_t *img = malloc(MT_TILE_WORDS * sizeof *img);
  tu_state_read(d, MT_SECTION_TILE, tile, img);
  return img;
}

static inline uint32_t *tu_global_image(tdev_t *d) {
  uint32_t *img = malloc(MT_GLOBAL_WORDS * sizeof *img);
  tu_state_read(d, MT_SECTION_GLOBAL, 0, img);
  return img;
}

/* Word offset of the noise lanes in the GLOBAL state image: they are followed by the
 * counters (2 words each) and the fabricated-tile bitmap. */
#define TU_LANES_OFF (MT_GLOBAL_WORDS - MT_MAX_TILES / 32u - 2u * MT_CNT_COUNT - 4u * MT_LANES)

/* The state of every noise lane (4 words each), from the GLOBAL state image. */
static inline void tu_lanes(tdev_t *d, uint32_t out[4 * MT_LANES]) {
  uint32_t p[4] = {MT_SECTION_GLOBAL, 0, TU_LANES_OFF, 4 * MT_LANES};
  TU_OK(tdev_run(d, MT_OP_STATE_READ, p, 4));
  memcpy(out, d->out, 4 * MT_LANES * sizeof *out);
}

static inline uint32_t tu_seed(tdev_t *d, uint64_t seed) {
  uint32_t p[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  return tdev_run(d, MT_OP_SEED, p, 2);
}

/* Every counter (STATS_GET). */
static inline void tu_counters(tdev_t *d, uint64_t c[MT_CNT_COUNT]) {
  TU_OK(tdev_run(d, MT_OP_STATS_GET, NULL, 0));
  assert_int_equal(d->out_len, 2 * MT_CNT_COUNT);
  for (uint32_t i = 0; i < MT_CNT_COUNT; i++)
    c[i] = d->out[2 * i] | (uint64_t)d->out[2 * i + 1] << 32;
}

/* Level table from per-level arrays (targets, nominal pulse indices, sigma). */
static inline uint32_t tu_set_levels(tdev_t *d, uint32_t levels, const uint16_t *gp,
                                     const uint16_t *gm, const uint16_t *pp, const uint16_t *pm,
                                     const uint16_t *sigma) {
  uint32_t p[1 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS];
  p[0] = levels;
  for (uint32_t q = 0; q < levels; q++) {
    p[1 + 3 * q] = gp[q] | (uint32_t)gm[q] << 16;
    p[2 + 3 * q] = pp[q] | (uint32_t)pm[q] << 16;
    p[3 + 3 * q] = sigma[q];
  }
  return tdev_run(d, MT_OP_SET_LEVELS, p, 1 + levels * MT_LEVEL_ENTRY_WORDS);
}

/* A device with every noise and variation source off, write-verify exact (tol 0):
 * tdev_cfg_ideal with wv_tol 0 and a generous iteration limit. */
static inline void tu_cfg_quiet(uint32_t *cfg) {
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_WV_TOL] = 0;
  cfg[MT_CFG_WV_MAX_ITER] = 200;
}

/* ------------------------------------------------------------------ bit-exact reference
 * An independent re-statement of the model's noise arithmetic, on top of the public
 * generator API (mt_lanes_seed, mt_xoshiro_next, mt_gauss_from_u32, checked by
 * test_rng.c), for known-answer comparisons of draw order and rounding. */

static inline int16_t tu_ref_z(mt_xoshiro_t *r) { return mt_gauss_from_u32(mt_xoshiro_next(r)); }

/* floor((amp*z + 2^11) / 2^12) */
static inline int64_t tu_ref_gnoise(int64_t amp, int16_t z) {
  int64_t v = amp * z + 2048, q = v / 4096;
  return (v % 4096 != 0 && v < 0) ? q - 1 : q;
}

static inline uint16_t tu_ref_clamp(int64_t v, int64_t lo, int64_t hi) {
  return (uint16_t)(v < lo ? lo : (v > hi ? hi : v));
}

/* floor(sqrt(v)) */
static inline uint64_t tu_isqrt(uint64_t v) {
  uint64_t r = (uint64_t)sqrt((double)v);
  while (r * r > v) r--;
  while ((r + 1) * (r + 1) <= v) r++;
  return r;
}

/* ------------------------------------------------------------------ MVM reference */

/* floor(v / 2^s) computed with division only (independent of the model's shifts). */
static inline int64_t tu_floor_div_pow2(int64_t v, uint32_t s) {
  int64_t den = (int64_t)1 << s;
  int64_t q = v / den;
  if (v % den != 0 && v < 0) q--;
  return q;
}

/* round(v / 2^s), halves rounded up (toward +infinity). */
static inline int64_t tu_round_half_up(int64_t v, uint32_t s) {
  if (s == 0) return v;
  return tu_floor_div_pow2(v + ((int64_t)1 << (s - 1)), s);
}

/* Packs int16 values two per word, low half first; an odd count leaves the high half
 * of the last word as `pad` (the device must ignore it). */
static inline void tu_pack16(uint32_t *words, const int32_t *v, uint32_t n, uint16_t pad) {
  for (uint32_t i = 0; i < (n + 1) / 2; i++) {
    uint32_t lo = (uint16_t)v[2 * i];
    uint32_t hi = 2 * i + 1 < n ? (uint16_t)v[2 * i + 1] : pad;
    words[i] = lo | hi << 16;
  }
}

static inline int32_t tu_unpack16(const uint32_t *words, uint32_t i) {
  return (int16_t)(uint16_t)(words[i / 2] >> (16u * (i % 2)));
}

/* Reference ADC codes of one vector from probed conductances g (tu_probe_tile layout):
 * DAC clipping, int64 column currents, round half up, ADC clipping. Returns the number
 * of ADC clips; *dac_clips receives the number of clipped inputs. */
static inline uint32_t tu_mvm_ref(const uint32_t *cfg, const uint16_t *g, const int32_t *x_in,
                                  uint32_t nrows, uint32_t ncols, int32_t *y, uint32_t *dac_clips) {
  int64_t xmax = ((int64_t)1 << (cfg[MT_CFG_DAC_BITS] - 1)) - 1;
  int64_t ymax = ((int64_t)1 << (cfg[MT_CFG_ADC_BITS] - 1)) - 1;
  int64_t x[MT_ROWS];
  uint32_t clips = 0;
  *dac_clips = 0;
  for (uint32_t i = 0; i < nrows; i++) {
    x[i] = x_in[i];
    if (x[i] > xmax) x[i] = xmax, (*dac_clips)++;
    if (x[i] < -xmax) x[i] = -xmax, (*dac_clips)++;
  }
  for (uint32_t j = 0; j < ncols; j++) {
    int64_t acc = 0;
    for (uint32_t i = 0; i < nrows; i++)
      acc += x[i] * ((int64_t)g[2 * TU_W(i, j)] - (int64_t)g[2 * TU_W(i, j) + 1]);
    int64_t v = tu_round_half_up(acc * (int64_t)cfg[MT_CFG_ADC_MUL], cfg[MT_CFG_ADC_SHIFT]);
    if (v > ymax) v = ymax, clips++;
    if (v < -ymax) v = -ymax, clips++;
    y[j] = (int32_t)v;
  }
  return clips;
}

/* Runs MVM on nvec vectors x[v*nrows + i]; outputs land in d->out. */
static inline uint32_t tu_mvm(tdev_t *d, uint32_t tile, uint32_t nvec, uint32_t nrows,
                              uint32_t ncols, const int32_t *x, uint16_t pad) {
  uint32_t in_words = (nrows + 1) / 2;
  uint32_t *p = malloc((4 + nvec * in_words) * sizeof *p);
  p[0] = tile;
  p[1] = nvec;
  p[2] = nrows;
  p[3] = ncols;
  for (uint32_t v = 0; v < nvec; v++) tu_pack16(p + 4 + v * in_words, x + v * nrows, nrows, pad);
  uint32_t st = tdev_run(d, MT_OP_MVM, p, 4 + nvec * in_words);
  free(p);
  return st;
}

#endif
