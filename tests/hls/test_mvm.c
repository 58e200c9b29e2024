/* Reads and matrix-vector products of the golden model through the command protocol:
 * READ_CELLS noise and clamping, MVM read-noise modes, exact MVM against a reference
 * computed here from PROBE'd conductances, input/output packing, DAC and ADC clipping.
 *
 * Statistical bounds are 4 standard errors (see test_device.c for the Gaussian source and
 * the 1/12 rounding variance of mt_gnoise); every statistical test has a fixed seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "mt_testutil.h"

/* ================================================================ 9. read noise */

/* READ_CELLS without PROBE returns g + N(0, read_sigma): over the 32768 devices of a tile
 * all at g = 20000 the mean is within 4 SE of 20000 and the standard deviation within
 * 4 SE of read_sigma (no clamping: 6.34*250 << 20000). Each device read is counted; a
 * PROBE read is exact, counts nothing and draws nothing (the lanes are unchanged). */
static void read_cells_noise_statistics(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_G_MIN] = 20000;
  cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_READ_SIGMA] = 250;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 101, 0));
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){101, 0}, 2));
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  uint32_t l0[4 * MT_LANES], l1[4 * MT_LANES];
  tu_lanes(d, l0);
  tu_probe_tile(d, 0, g);
  for (uint32_t i = 0; i < TU_DEVICES; i++) assert_int_equal(g[i], 20000);
  tu_lanes(d, l1);
  assert_memory_equal(l0, l1, sizeof l0);
  assert_int_equal(tdev_counter(d, MT_CNT_CELL_READS), 0);
  tu_read_tile(d, 0, g);
  tu_stat_t st = {0};
  for (uint32_t i = 0; i < TU_DEVICES; i++) tu_stat_add(&st, g[i]);
  tu_assert_normal("READ_CELLS g=20000 sigma=250", &st, 20000.0, tu_gnoise_sigma(250));
  assert_int_equal(tdev_counter(d, MT_CNT_CELL_READS), TU_DEVICES);
  tu_lanes(d, l1);
  assert_memory_not_equal(l0, l1, sizeof l0);
  /* The stored conductance is not disturbed by reading. */
  tu_probe_tile(d, 0, g);
  for (uint32_t i = 0; i < TU_DEVICES; i++) assert_int_equal(g[i], 20000);
  free(g);
  tdev_free(d);
}

/* The sense-amplifier range clamps reads to [0, 65535], per device half-word (no wrap,
 * no carry into the partner's half). Rows 0..63 sit at g = 100, rows 64..127 at 65535;
 * read_sigma = 250:
 *   low:  a read is 0 iff n <= -100 iff 250*z_q + 2048 < -99*4096, P = Phi(-(99*4096 +
 *         2048)/250/4096) = 0.345; otherwise it is at most 100 + max noise;
 *   high: a read is 65535 iff n >= 0 iff z >= -2048/250/4096, P = 0.5008; otherwise it is
 *         at least 65535 - max noise. Fractions within 4 binomial sigma (16384 each). */
static void read_cells_clamps_to_range(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_G_MIN] = 100;
  cfg[MT_CFG_G_MAX] = 65535;
  cfg[MT_CFG_STEP_SET] = 65535;
  cfg[MT_CFG_READ_SIGMA] = 250;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 102, 0));
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){102, 0}, 2));
  tu_pulses_t b = tu_pulses_begin(0);
  for (uint32_t i = MT_ROWS / 2; i < MT_ROWS; i++)
    for (uint32_t c = 0; c < MT_COLS; c++)
      for (uint32_t k = 0; k < 2; k++) tu_pulses_add(&b, i, c, k, 1);
  TU_OK(tu_pulses_run(d, &b));
  assert_int_equal(tdev_probe(d, 0, 100, 7, 1), 65535);
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_read_tile(d, 0, g);
  const uint32_t maxn = (uint32_t)ceil(250 * 6.338) + 1;
  uint32_t zeros = 0, tops = 0, half = TU_DEVICES / 2;
  for (uint32_t n = 0; n < half; n++) {
    zeros += g[n] == 0;
    assert_true(g[n] <= 100 + maxn);
  }
  for (uint32_t n = half; n < TU_DEVICES; n++) {
    tops += g[n] == 65535;
    assert_true(g[n] >= 65535 - maxn);
  }
  tu_assert_binomial("reads clamped to 0", zeros, half,
                     1.0 - tu_upper_tail(-(99.0 * 4096 + 2048) / 250.0 / 4096.0));
  tu_assert_binomial("reads clamped to 65535", tops, half, tu_upper_tail(-2048.0 / 250.0 / 4096.0));
  free(g);
  tdev_free(d);
}

/* Random pulse trains on rows 0..nrows-1 of a tile: up to max_set SET pulses, then up to
 * max_set/2 RESET pulses per device (deterministic without c2c noise). */
static void random_trains(tdev_t *d, uint32_t tile, uint32_t nrows, int32_t max_set, uint64_t seed) {
  tu_rng_t rng = {seed};
  for (int dir = 1; dir >= -1; dir -= 2) {
    tu_pulses_t b = tu_pulses_begin(tile);
    for (uint32_t i = 0; i < nrows; i++)
      for (uint32_t c = 0; c < MT_COLS; c++)
        for (uint32_t k = 0; k < 2; k++)
          tu_pulses_add(&b, i, c, k, dir * tu_rng_range(&rng, 0, dir > 0 ? max_set : max_set / 2));
    TU_OK(tu_pulses_run(d, &b));
  }
}

/* A device with d2d variation and non-linear steps but no c2c or read noise, so its
 * conductances after pulse trains are deterministic and PROBE'd values are exact. */
static void cfg_varied(uint32_t *cfg) {
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_STEP_SET] = 700;
  cfg[MT_CFG_STEP_RST] = 900;
  cfg[MT_CFG_A_SET] = 1500;
  cfg[MT_CFG_A_RST] = 2500;
  cfg[MT_CFG_D2D_GMIN] = 200;
  cfg[MT_CFG_D2D_GMAX] = 500;
  cfg[MT_CFG_D2D_STEP] = 6554;
  cfg[MT_CFG_D2D_A] = 6554;
}

/* MVM read noise. 64 rows of varied conductances (d2d, up to 3 SET pulses per device, so
 * column currents stay far from ADC saturation), one fixed input vector x (|x_i| <= 15)
 * repeated over 128 vectors, 128 columns: 16384 samples of r = y - y0, where y0 is the
 * read_mode 0 output (checked exact against the reference). ADC gain 3/256 (mul 3, shift
 * 8), read_sigma 40. Expected std of r, in ADC codes: sqrt(gain^2 var(N) + 1/12), the 1/12
 * for the ADC rounding of a noisy value (the noise is ~50 codes), with
 *   mode 1: var(N) = 2 sum x_i^2 (sigma^2 + 1/12)   (two independent reads per cell)
 *   mode 2: var(N) = (isqrt(2 sum x_i^2) sigma)^2 + 1/12   (one draw per column)
 * Mean of r within 4 SE of 0. read_mode 0 draws nothing (lanes unchanged). */
static void mvm_read_noise_modes(void **state) {
  (void)state;
  enum { NR = 64, NV = 128 };
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  cfg_varied(cfg);
  cfg[MT_CFG_READ_SIGMA] = 40;
  cfg[MT_CFG_ADC_BITS] = 16;
  cfg[MT_CFG_ADC_MUL] = 3;
  cfg[MT_CFG_ADC_SHIFT] = 8;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 103, 0));
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){103, 0}, 2));
  random_trains(d, 0, NR, 3, 103);
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_probe_tile(d, 0, g);
  tu_rng_t rng = {1103};
  static int32_t x[NV * NR];
  double sum_sq = 0;
  for (uint32_t i = 0; i < NR; i++) {
    x[i] = tu_rng_range(&rng, -15, 15);
    sum_sq += (double)x[i] * x[i];
  }
  for (uint32_t v = 1; v < NV; v++) memcpy(x + v * NR, x, NR * sizeof *x);
  int32_t y0[MT_COLS];
  uint32_t dac_clips;
  assert_int_equal(tu_mvm_ref(cfg, g, x, NR, MT_COLS, y0, &dac_clips), 0);
  /* Mode 0: exact for every vector, no draws. */
  uint32_t l0[4 * MT_LANES], l1[4 * MT_LANES];
  tu_lanes(d, l0);
  TU_OK(tu_mvm(d, 0, NV, NR, MT_COLS, x, 0));
  for (uint32_t v = 0; v < NV; v++)
    for (uint32_t j = 0; j < MT_COLS; j++) assert_int_equal(tu_unpack16(d->out + v * MT_COLS / 2, j), y0[j]);
  tu_lanes(d, l1);
  assert_memory_equal(l0, l1, sizeof l0);
  const double gain = 3.0 / 256.0, sigma = 40.0;
  for (uint32_t mode = 1; mode <= 2; mode++) {
    cfg[MT_CFG_READ_MODE] = mode;
    TU_OK(tdev_configure(d, cfg));
    TU_OK(tu_mvm(d, 0, NV, NR, MT_COLS, x, 0));
    tu_stat_t st = {0};
    for (uint32_t v = 0; v < NV; v++)
      for (uint32_t j = 0; j < MT_COLS; j++) tu_stat_add(&st, tu_unpack16(d->out + v * MT_COLS / 2, j) - y0[j]);
    double var_n;
    if (mode == 1) {
      var_n = 2.0 * sum_sq * (sigma * sigma + 1.0 / 12.0);
    } else {
      double amp = floor(sqrt(2.0 * sum_sq)) * sigma;
      var_n = amp * amp + 1.0 / 12.0;
    }
    char what[64];
    snprintf(what, sizeof what, "MVM read_mode %u (sum x^2 = %.0f)", mode, sum_sq);
    tu_assert_normal(what, &st, 0.0, sqrt(gain * gain * var_n + 1.0 / 12.0));
    /* Consecutive vectors see fresh noise. */
    assert_memory_not_equal(d->out, d->out + MT_COLS / 2, MT_COLS / 2 * sizeof *d->out);
  }
  /* The per-cell mode draws two Gaussians per cell, the per-column mode one per column:
   * both move the lanes, mode 0 (checked above) does not. */
  assert_int_equal(tdev_counter(d, MT_CNT_ADC_CLIPS), 0);
  free(g);
  tdev_free(d);
}

/* ================================================================ 10. exact MVM */

/* Compares the nvec outputs of the last MVM with the reference; returns the number of
 * reference ADC clips. Also checks that an odd ncols leaves the unused high half of the
 * last output word zero. */
static uint32_t check_mvm(tdev_t *d, const uint32_t *cfg, const uint16_t *g, const int32_t *x,
                          uint32_t nvec, uint32_t nrows, uint32_t ncols) {
  uint32_t out_words = (ncols + 1) / 2, clips = 0;
  assert_int_equal(d->out_len, nvec * out_words);
  for (uint32_t v = 0; v < nvec; v++) {
    int32_t y[MT_COLS];
    uint32_t dac_clips;
    clips += tu_mvm_ref(cfg, g, x + v * nrows, nrows, ncols, y, &dac_clips);
    for (uint32_t j = 0; j < ncols; j++) {
      int32_t got = tu_unpack16(d->out + v * out_words, j);
      if (got != y[j]) print_message("vector %u column %u: got %d want %d\n", v, j, got, y[j]);
      assert_int_equal(got, y[j]);
    }
    if (ncols % 2) assert_int_equal(TU_HI(d->out[v * out_words + out_words - 1]), 0);
  }
  return clips;
}

/* Noise off (no c2c, no read noise, read_mode 0), d2d on: a full 128x128 tile after random
 * pulse trains and a tile programmed open-loop to random levels; every ADC output equals
 * the reference from PROBE'd conductances (int64 currents, round half up, clipping).
 * Covers a full batch, a sub-tile with odd nrows/ncols (with garbage in the unused input
 * half-word), rounding ties of both signs and adc_shift 0. */
static void mvm_exact_against_reference(void **state) {
  (void)state;
  tdev_t *d = tdev_new(2);
  uint32_t cfg[MT_CFG_COUNT];
  cfg_varied(cfg);
  cfg[MT_CFG_DAC_BITS] = 10;
  cfg[MT_CFG_ADC_BITS] = 16;
  cfg[MT_CFG_ADC_MUL] = 37;
  cfg[MT_CFG_ADC_SHIFT] = 17;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 104, 0));
  TU_OK(tdev_fabricate(d, 105, 1));
  random_trains(d, 0, MT_ROWS, 63, 104);
  /* Tile 1: 16 levels, open loop (nominal pulse counts), random level per weight. */
  TU_OK(tdev_levels_linear(d, 16, 1000, 3000, 700, 0));
  uint32_t *p = malloc((2 + TU_WEIGHTS) * sizeof *p);
  tu_rng_t rng = {104};
  p[0] = 1;
  p[1] = MT_PROG_OPEN_LOOP;
  for (uint32_t w = 0; w < TU_WEIGHTS; w++)
    p[2 + w] = tdev_entry(w / MT_COLS, w % MT_COLS, (uint32_t)tu_rng_range(&rng, 0, 15));
  TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 2 + TU_WEIGHTS));
  assert_int_equal(d->out[0], TU_WEIGHTS);
  free(p);
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  static int32_t x[8 * MT_ROWS];
  for (uint32_t tile = 0; tile < 2; tile++) {
    tu_probe_tile(d, tile, g);
    /* Full tile, 4 vectors, inputs in the DAC range. */
    for (uint32_t i = 0; i < 4 * MT_ROWS; i++) x[i] = tu_rng_range(&rng, -511, 511);
    uint64_t clips0 = tdev_counter(d, MT_CNT_ADC_CLIPS);
    TU_OK(tu_mvm(d, tile, 4, MT_ROWS, MT_COLS, x, 0));
    uint32_t clips = check_mvm(d, cfg, g, x, 4, MT_ROWS, MT_COLS);
    print_message("tile %u full MVM: %u of %u outputs clipped\n", tile, clips, 4 * MT_COLS);
    assert_int_equal(tdev_counter(d, MT_CNT_ADC_CLIPS) - clips0, clips);
    assert_true(clips < 4 * MT_COLS / 2); /* most outputs exercise the unclipped path */
    assert_int_equal(tdev_counter(d, MT_CNT_DAC_CLIPS), 0);
    /* Sub-tile with odd sizes, 5 vectors; the pad half-word 0xBEEF must be ignored. */
    for (uint32_t i = 0; i < 5 * 37; i++) x[i] = tu_rng_range(&rng, -511, 511);
    TU_OK(tu_mvm(d, tile, 5, 37, 53, x, 0xBEEF));
    check_mvm(d, cfg, g, x, 5, 37, 53);
    /* One row, one column and the smallest odd shapes. */
    TU_OK(tu_mvm(d, tile, 3, 1, 1, x, 0x7FFF));
    check_mvm(d, cfg, g, x, 3, 1, 1);
    TU_OK(tu_mvm(d, tile, 2, 3, 127, x, 0x8000));
    check_mvm(d, cfg, g, x, 2, 3, 127);
  }
  /* An 8-bit DAC: 127 * 65535 * 128 < 2^31, the range where a 32-bit accumulator
   * suffices; results must not depend on it. */
  cfg[MT_CFG_DAC_BITS] = 8;
  cfg[MT_CFG_ADC_SHIFT] = 15;
  TU_OK(tdev_configure(d, cfg));
  tu_probe_tile(d, 0, g);
  for (uint32_t i = 0; i < 4 * MT_ROWS; i++) x[i] = tu_rng_range(&rng, -127, 127);
  TU_OK(tu_mvm(d, 0, 4, MT_ROWS, MT_COLS, x, 0));
  check_mvm(d, cfg, g, x, 4, MT_ROWS, MT_COLS);
  for (uint32_t i = 0; i < 4 * MT_ROWS; i++) x[i] = tu_rng_range(&rng, -200, 200); /* clipped */
  TU_OK(tu_mvm(d, 0, 4, MT_ROWS, MT_COLS, x, 0));
  check_mvm(d, cfg, g, x, 4, MT_ROWS, MT_COLS);
  /* Ties: mul 1, shift 1, one row with x = +-1: y = round(+-diff / 2), a tie for every
   * odd diff; ties round up (toward +infinity) for both signs. */
  cfg[MT_CFG_ADC_MUL] = 1;
  cfg[MT_CFG_ADC_SHIFT] = 1;
  TU_OK(tdev_configure(d, cfg));
  tu_probe_tile(d, 0, g);
  uint32_t neg_ties = 0, pos_ties = 0;
  for (uint32_t v = 0; v < 8; v++) x[v] = v % 2 ? -1 : 1;
  for (uint32_t j = 0; j < MT_COLS; j++) {
    int32_t diff = (int32_t)g[2 * TU_W(0, j)] - (int32_t)g[2 * TU_W(0, j) + 1];
    if (diff % 2) {
      pos_ties += diff > 0;
      neg_ties += diff < 0;
    }
  }
  assert_true(pos_ties > 0 && neg_ties > 0);
  TU_OK(tu_mvm(d, 0, 8, 1, MT_COLS, x, 0));
  check_mvm(d, cfg, g, x, 8, 1, MT_COLS);
  /* e.g. diff = -3 gives -1, diff = 3 gives 2 */
  assert_int_equal(tu_round_half_up(-3, 1), -1);
  assert_int_equal(tu_round_half_up(3, 1), 2);
  /* Shift 0: y = x*diff exactly (clipped at +-32767). */
  cfg[MT_CFG_ADC_SHIFT] = 0;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tu_mvm(d, 0, 8, 1, MT_COLS, x, 0));
  check_mvm(d, cfg, g, x, 8, 1, MT_COLS);
  free(g);
  tdev_free(d);
}

/* Extreme magnitudes: every pair at g+ = gmax, g- = gmin (diff 64000) and every input at
 * +-xmax, for a 10-bit DAC (|I| = 128*511*64000 > 2^31) and a 16-bit DAC (|I| = 2.7e11):
 * the column sums need more than 32 bits and must still be exact. ADC shifts keep the
 * codes in range, and one gain that saturates checks the sign of the clip. */
static void mvm_exact_at_extreme_magnitudes(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_STEP_SET] = 65535;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 108, 0));
  tu_pulses_t b = tu_pulses_begin(0);
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) tu_pulses_add(&b, w / MT_COLS, w % MT_COLS, 0, 1);
  TU_OK(tu_pulses_run(d, &b));
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_probe_tile(d, 0, g);
  assert_int_equal(g[0], 65000);
  assert_int_equal(g[1], 1000);
  static const uint32_t bits[2] = {10, 16}, shift[2] = {19, 25}; /* codes ~ +-24000 */
  static int32_t x[2 * MT_ROWS];
  for (uint32_t t = 0; t < 2; t++) {
    int32_t xmax = (1 << (bits[t] - 1)) - 1;
    for (uint32_t i = 0; i < MT_ROWS; i++) x[i] = xmax, x[MT_ROWS + i] = i % 2 ? -xmax : -xmax + 1;
    cfg[MT_CFG_DAC_BITS] = bits[t];
    cfg[MT_CFG_ADC_MUL] = 3;
    cfg[MT_CFG_ADC_SHIFT] = shift[t];
    TU_OK(tdev_configure(d, cfg));
    TU_OK(tu_mvm(d, 0, 2, MT_ROWS, MT_COLS, x, 0));
    assert_int_equal(check_mvm(d, cfg, g, x, 2, MT_ROWS, MT_COLS), 0);
    assert_true(tu_unpack16(d->out, 0) > 16000 && tu_unpack16(d->out + MT_COLS / 2, 0) < -16000);
    cfg[MT_CFG_ADC_MUL] = 65535;
    TU_OK(tdev_configure(d, cfg));
    TU_OK(tu_mvm(d, 0, 2, MT_ROWS, MT_COLS, x, 0));
    assert_int_equal(check_mvm(d, cfg, g, x, 2, MT_ROWS, MT_COLS), 2 * MT_COLS);
    assert_int_equal(tu_unpack16(d->out, 0), 32767);
    assert_int_equal(tu_unpack16(d->out + MT_COLS / 2, 0), -32767);
  }
  free(g);
  tdev_free(d);
}

/* ================================================================ 11. clipping */

/* DAC: inputs beyond +-(2^(dac_bits-1)-1) are clipped to it (symmetric: -2^(b-1) is
 * clipped too) and each clipped input counts once in dac_clips; the result equals that of
 * the pre-clipped inputs. ADC: codes beyond +-(2^(adc_bits-1)-1) saturate there (never
 * -2^(b-1)) and each saturated conversion counts in adc_clips. */
static void mvm_dac_and_adc_clipping(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  cfg_varied(cfg);
  cfg[MT_CFG_DAC_BITS] = 4; /* +-7 */
  cfg[MT_CFG_ADC_BITS] = 16;
  cfg[MT_CFG_ADC_MUL] = 1;
  cfg[MT_CFG_ADC_SHIFT] = 8;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 106, 0));
  random_trains(d, 0, 16, 63, 106);
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_probe_tile(d, 0, g);
  int32_t x[10] = {100, -100, 7, -7, 8, -8, -32768, 32767, 0, 3};
  int32_t xc[10] = {7, -7, 7, -7, 7, -7, -7, 7, 0, 3};
  TU_OK(tu_mvm(d, 0, 1, 10, MT_COLS, x, 0));
  check_mvm(d, cfg, g, x, 1, 10, MT_COLS);
  uint32_t first[MT_COLS / 2];
  memcpy(first, d->out, sizeof first);
  assert_int_equal(tdev_counter(d, MT_CNT_DAC_CLIPS), 6);
  TU_OK(tu_mvm(d, 0, 1, 10, MT_COLS, xc, 0));
  assert_memory_equal(first, d->out, sizeof first);
  assert_int_equal(tdev_counter(d, MT_CNT_DAC_CLIPS), 6);
  /* 16-bit DAC: only -32768 is out of range. */
  cfg[MT_CFG_DAC_BITS] = 16;
  cfg[MT_CFG_ADC_SHIFT] = 20;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tu_mvm(d, 0, 1, 10, MT_COLS, x, 0));
  check_mvm(d, cfg, g, x, 1, 10, MT_COLS);
  assert_int_equal(tdev_counter(d, MT_CNT_DAC_CLIPS), 7);
  /* ADC: 8 bits (+-127) with a gain that makes most outputs saturate, both signs. */
  TU_OK(tdev_run(d, MT_OP_STATS_RESET, NULL, 0));
  cfg[MT_CFG_DAC_BITS] = 8;
  cfg[MT_CFG_ADC_BITS] = 8;
  cfg[MT_CFG_ADC_SHIFT] = 12;
  TU_OK(tdev_configure(d, cfg));
  tu_rng_t rng = {106};
  int32_t xs[4 * 16];
  for (uint32_t i = 0; i < 4 * 16; i++) xs[i] = tu_rng_range(&rng, -127, 127);
  TU_OK(tu_mvm(d, 0, 4, 16, MT_COLS, xs, 0));
  uint32_t clips = check_mvm(d, cfg, g, xs, 4, 16, MT_COLS);
  uint32_t at_pos = 0, at_neg = 0;
  for (uint32_t n = 0; n < 4 * MT_COLS; n++) {
    int32_t y = tu_unpack16(d->out, n);
    assert_true(y >= -127 && y <= 127);
    at_pos += y == 127;
    at_neg += y == -127;
  }
  print_message("8-bit ADC: %u clips (%u at +127, %u at -127) of %u\n", clips, at_pos, at_neg, 4 * MT_COLS);
  assert_true(at_pos > 10 && at_neg > 10 && clips < 4 * MT_COLS);
  assert_int_equal(tdev_counter(d, MT_CNT_ADC_CLIPS), clips);
  assert_int_equal(tdev_counter(d, MT_CNT_DAC_CLIPS), 0);
  /* Exactly one beyond the range: +-128 on an 8-bit ADC (gain 1, one row, |x| = 1, pairs
   * with g+ - g- = 128, 127, -128 made by 1-unit pulses) saturates to +-127 and counts;
   * +-127 itself does not. */
  {
    tdev_t *e = tdev_new(1);
    uint32_t c1[MT_CFG_COUNT];
    tu_cfg_quiet(c1);
    c1[MT_CFG_STEP_SET] = 1;
    c1[MT_CFG_ADC_BITS] = 8;
    c1[MT_CFG_ADC_MUL] = 1;
    c1[MT_CFG_ADC_SHIFT] = 0;
    TU_OK(tdev_configure(e, c1));
    TU_OK(tdev_fabricate(e, 107, 0));
    TU_OK(tu_pulse(e, 0, 0, 0, 0, 128));
    TU_OK(tu_pulse(e, 0, 0, 1, 0, 127));
    TU_OK(tu_pulse(e, 0, 0, 2, 1, 128));
    int32_t xe[2] = {1, -1};
    TU_OK(tu_mvm(e, 0, 2, 1, 3, xe, 0));
    static const int32_t want[2][3] = {{127, 127, -127}, {-127, -127, 127}};
    for (uint32_t v = 0; v < 2; v++)
      for (uint32_t j = 0; j < 3; j++) assert_int_equal(tu_unpack16(e->out + 2 * v, j), want[v][j]);
    assert_int_equal(tdev_counter(e, MT_CNT_ADC_CLIPS), 4);
    tdev_free(e);
  }
  /* The smallest ADC, 2 bits: codes -1, 0, 1 only. */
  cfg[MT_CFG_ADC_BITS] = 2;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tu_mvm(d, 0, 4, 16, MT_COLS, xs, 0));
  check_mvm(d, cfg, g, xs, 4, 16, MT_COLS);
  free(g);
  tdev_free(d);
}

/* ================================================================ bit-exact reference */

/* Known answers for the noise draw order of reads and MVMs (see test_device.c,
 * bit_exact_...): READ_CELLS draws one Gaussian per device, row-major, plus before minus,
 * from lane col % LANES; MVM processes the vectors in order; read_mode 1 draws, for each
 * row and then each column, the plus and then the minus read noise from lane col % LANES
 * (for every cell, whatever its input); read_mode 2 draws one Gaussian per column after
 * the rows, with amplitude isqrt(2 sum x^2) * read_sigma; READ_CELLS without read noise
 * draws as with it. Outputs and final lane states
 * are compared exactly with tu_ref_*; the inputs include zeros and clipped values. */
static void bit_exact_reads_and_mvm_noise(void **state) {
  (void)state;
  enum { NV = 3, NR = 51, NC = 77 };
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  cfg_varied(cfg);
  cfg[MT_CFG_READ_SIGMA] = 700; /* reads near 0 and 65535 get clamped */
  cfg[MT_CFG_DAC_BITS] = 7;
  cfg[MT_CFG_ADC_BITS] = 12;
  cfg[MT_CFG_ADC_MUL] = 5;
  cfg[MT_CFG_ADC_SHIFT] = 13;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 109, 0));
  random_trains(d, 0, MT_ROWS, 63, 109);
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_probe_tile(d, 0, g);
  const uint64_t nseed = 0x1234000000000109ull;
  mt_xoshiro_t lanes[MT_LANES];
  TU_OK(tu_seed(d, nseed));
  mt_lanes_seed(lanes, nseed);
  /* READ_CELLS of rows 3..12, columns 20..119 */
  uint32_t rd[6] = {0, 3, 10, 20, 100, 0};
  TU_OK(tdev_run(d, MT_OP_READ_CELLS, rd, 6));
  uint32_t clamped = 0;
  for (uint32_t i = 0; i < 10; i++)
    for (uint32_t j = 0; j < 100; j++) {
      uint32_t want = 0, row = 3 + i, col = 20 + j;
      for (uint32_t k = 0; k < 2; k++) {
        int64_t v = g[2 * TU_W(row, col) + k] + tu_ref_gnoise(cfg[MT_CFG_READ_SIGMA], tu_ref_z(&lanes[col % MT_LANES]));
        clamped += v < 0 || v > 65535;
        want |= (uint32_t)tu_ref_clamp(v, 0, 65535) << (16 * k);
      }
      assert_int_equal(d->out[i * 100 + j], want);
    }
  print_message("bit-exact reads: %u of 2000 clamped\n", clamped);
  /* READ_CELLS of rows 0..40, columns 5..104: its draws come in five batches of rows
   * (MT_GAUSS_PAIRS_MAX cells), the last of one row */
  uint32_t rd2[6] = {0, 0, 41, 5, 100, 0};
  TU_OK(tdev_run(d, MT_OP_READ_CELLS, rd2, 6));
  for (uint32_t i = 0; i < 41; i++)
    for (uint32_t j = 0; j < 100; j++) {
      uint32_t want = 0, col = 5 + j;
      for (uint32_t k = 0; k < 2; k++) {
        int64_t v = g[2 * TU_W(i, col) + k] +
                    tu_ref_gnoise(cfg[MT_CFG_READ_SIGMA], tu_ref_z(&lanes[col % MT_LANES]));
        want |= (uint32_t)tu_ref_clamp(v, 0, 65535) << (16 * k);
      }
      assert_int_equal(d->out[i * 100 + j], want);
    }
  /* MVMs in both noise modes */
  static int32_t x[NV * NR];
  tu_rng_t rng = {109};
  for (uint32_t i = 0; i < NV * NR; i++) x[i] = i % 7 == 0 ? 0 : tu_rng_range(&rng, -90, 90);
  for (uint32_t mode = 1; mode <= 2; mode++) {
    cfg[MT_CFG_READ_MODE] = mode;
    TU_OK(tdev_configure(d, cfg));
    TU_OK(tu_mvm(d, 0, NV, NR, NC, x, 0x5555));
    const int64_t xmax = 63, ymax = 2047, sigma = cfg[MT_CFG_READ_SIGMA];
    for (uint32_t v = 0; v < NV; v++) {
      int64_t xc[NR], acc[NC] = {0};
      uint64_t sum_sq = 0;
      for (uint32_t i = 0; i < NR; i++) {
        int64_t xi = x[v * NR + i];
        xc[i] = xi > xmax ? xmax : (xi < -xmax ? -xmax : xi);
        sum_sq += (uint64_t)(xc[i] * xc[i]);
      }
      for (uint32_t i = 0; i < NR; i++)
        for (uint32_t j = 0; j < NC; j++) {
          int64_t diff = (int64_t)g[2 * TU_W(i, j)] - g[2 * TU_W(i, j) + 1];
          if (mode == 1) {
            int64_t np = tu_ref_gnoise(sigma, tu_ref_z(&lanes[j % MT_LANES]));
            int64_t nm = tu_ref_gnoise(sigma, tu_ref_z(&lanes[j % MT_LANES]));
            diff += np - nm;
          }
          acc[j] += xc[i] * diff;
        }
      if (mode == 2)
        for (uint32_t j = 0; j < NC; j++)
          acc[j] += tu_ref_gnoise((int64_t)tu_isqrt(2 * sum_sq) * sigma, tu_ref_z(&lanes[j % MT_LANES]));
      for (uint32_t j = 0; j < NC; j++) {
        int64_t y = tu_round_half_up(acc[j] * (int64_t)cfg[MT_CFG_ADC_MUL], cfg[MT_CFG_ADC_SHIFT]);
        y = y > ymax ? ymax : (y < -ymax ? -ymax : y);
        assert_int_equal(tu_unpack16(d->out + v * ((NC + 1) / 2), j), y);
      }
    }
  }
  /* READ_CELLS without read noise: the conductances as they are, the lanes advanced by the
   * same draws (rows 0..4, columns 9..35: two partial groups of lanes) */
  cfg[MT_CFG_READ_SIGMA] = 0;
  TU_OK(tdev_configure(d, cfg));
  uint32_t rd0[6] = {0, 0, 5, 9, 27, 0};
  TU_OK(tdev_run(d, MT_OP_READ_CELLS, rd0, 6));
  for (uint32_t i = 0; i < 5; i++)
    for (uint32_t j = 0; j < 27; j++) {
      uint32_t col = 9 + j;
      (void)tu_ref_z(&lanes[col % MT_LANES]);
      (void)tu_ref_z(&lanes[col % MT_LANES]);
      assert_int_equal(d->out[i * 27 + j], (uint32_t)g[2 * TU_W(i, col)] | (uint32_t)g[2 * TU_W(i, col) + 1] << 16);
    }
  uint32_t got[4 * MT_LANES];
  tu_lanes(d, got);
  assert_memory_equal(got, lanes, sizeof got);
  free(g);
  tdev_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(read_cells_noise_statistics),
    cmocka_unit_test(read_cells_clamps_to_range),
    cmocka_unit_test(mvm_read_noise_modes),
    cmocka_unit_test(mvm_exact_against_reference),
    cmocka_unit_test(mvm_exact_at_extreme_magnitudes),
    cmocka_unit_test(mvm_dac_and_adc_clipping),
    cmocka_unit_test(bit_exact_reads_and_mvm_noise),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
