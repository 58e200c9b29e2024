/* Device physics of the golden model, driven through the command protocol: pulse
 * response against closed forms, cycle-to-cycle and device-to-device statistics,
 * stuck-at faults, endurance, write-verify, open-loop programming, the per-level
 * programming spread, counters/energy and determinism.
 *
 * Statistical checks use a fixed seed each, so they are deterministic; the bounds are
 * 4 standard errors of the estimator (false-failure probability ~6e-5 per check if the
 * seed were changed), and the comment at each check says what the expected value is.
 * The Gaussian source is an ICDF table whose variance is 1 to well within these bounds
 * (test_rng.c checks it to 0.55% on 2^20 samples); mt_gnoise rounds amp*z to integer g
 * units, which adds a uniform rounding variance of 1/12 (tu_gnoise_sigma). The largest
 * |z| the generator can produce is 6.338 (test_rng.c, test_gauss_maximum), which gives
 * hard bounds where a check must hold for every sample. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "mt_device.h"
#include "mt_testutil.h"

/* Largest |noise| mt_gnoise(amp, z) can return: ceil(amp * 6.338) + 1 rounding unit. */
static int32_t max_noise(uint32_t amp) { return (int32_t)ceil(amp * 6.338) + 1; }

static uint32_t dev_g(const uint16_t *g, uint32_t row, uint32_t col, uint32_t dev) {
  return g[2 * TU_W(row, col) + dev];
}

/* ================================================================ 1. pulse curves */

/* Linear device (a = 0, no noise): after k SET pulses g = gmin + k*step until it reaches
 * gmax, where it stays exactly; RESET pulses walk back down by step_rst and stop at gmin.
 * Column c of row 0 (plus device) and row 1 (minus device) gets c pulses, so one PROBE of
 * the tile reads the curve for k = 0..127; trains longer than 63 use several entries. */
/* mt_noise is mt_gnoise(amp, mt_gauss(r)) for every amplitude, zero included (where it
 * skips the transform), and advances the lane by exactly one draw either way. */
static void noise_equals_scaled_gauss_draw(void **state) {
  (void)state;
  mt_xoshiro_t a[MT_LANES], b[MT_LANES];
  mt_lanes_seed(a, 77);
  mt_lanes_seed(b, 77);
  const int64_t amps[] = {0, 1, 3, 655, 65535, 0, 123456, 0};
  for (uint32_t i = 0; i < 4000; i++) {
    int64_t amp = amps[i % (sizeof amps / sizeof *amps)];
    int64_t want = mt_gnoise(amp, mt_gauss(&b[0]));
    assert_int_equal(mt_noise(&a[0], amp), want);
    if (amp == 0) assert_int_equal(want, 0);
  }
  assert_memory_equal(&a[0], &b[0], sizeof a[0]);
}

static void pulse_linear_curve_and_saturation(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_STEP_SET] = 997; /* 1000 + 997k hits 65000 between k = 64 and 65 */
  cfg[MT_CFG_STEP_RST] = 1499;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 11, 0));
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_pulses_t b = tu_pulses_begin(0);
  for (uint32_t c = 0; c < MT_COLS; c++) {
    tu_pulses_add(&b, 0, c, 0, (int32_t)c);
    tu_pulses_add(&b, 1, c, 1, (int32_t)c);
  }
  TU_OK(tu_pulses_run(d, &b));
  assert_int_equal(tdev_counter(d, MT_CNT_SET_PULSES), 2u * (MT_COLS * (MT_COLS - 1) / 2));
  assert_int_equal(tdev_counter(d, MT_CNT_RESET_PULSES), 0);
  tu_probe_tile(d, 0, g);
  uint32_t after_set[MT_COLS];
  for (uint32_t c = 0; c < MT_COLS; c++) {
    uint32_t want = 1000 + 997 * c < 65000 ? 1000 + 997 * c : 65000;
    after_set[c] = want;
    assert_int_equal(dev_g(g, 0, c, 0), want);
    assert_int_equal(dev_g(g, 1, c, 1), want);
    assert_int_equal(dev_g(g, 0, c, 1), 1000); /* the other device of the pair is untouched */
    assert_int_equal(dev_g(g, 1, c, 0), 1000);
  }
  assert_int_equal(after_set[64], 64808);
  assert_int_equal(after_set[65], 65000);
  for (uint32_t i = 2; i < MT_ROWS; i++)
    for (uint32_t c = 0; c < MT_COLS; c++) {
      assert_int_equal(dev_g(g, i, c, 0), 1000);
      assert_int_equal(dev_g(g, i, c, 1), 1000);
    }
  /* RESET: column c gets c RESET pulses (negative entries) from its SET end state. */
  b = tu_pulses_begin(0);
  for (uint32_t c = 0; c < MT_COLS; c++) tu_pulses_add(&b, 0, c, 0, -(int32_t)c);
  TU_OK(tu_pulses_run(d, &b));
  assert_int_equal(tdev_counter(d, MT_CNT_RESET_PULSES), MT_COLS * (MT_COLS - 1) / 2);
  tu_probe_tile(d, 0, g);
  uint32_t *img = tu_tile_image(d, 0);
  for (uint32_t c = 0; c < MT_COLS; c++) {
    int32_t want = (int32_t)after_set[c] - 1499 * (int32_t)c;
    assert_int_equal(dev_g(g, 0, c, 0), want > 1000 ? want : 1000);
    assert_int_equal(TU_REC(img, 0, c, 7), 2 * c); /* lifetime pulses of the plus device */
    assert_int_equal(TU_REC(img, 0, c, 8), 0);
    assert_int_equal(TU_REC(img, 1, c, 8), c);
  }
  free(img);
  free(g);
  tdev_free(d);
}

/* Applies k = col pulses (SET if set, else RESET) to the plus device of every column of
 * `row` (all devices of the row start at the same g0, no d2d, no noise) and checks:
 *  - exactly the integer recurrence of the model:
 *      SET:   g += step_set + floor(a_set*(gmax - g)/2^16), clamped to gmax
 *      RESET: g -= step_rst + floor(a_rst*(g - gmin)/2^16), clamped to gmin
 *  - the continuous closed form with a = a_x/2^16 and s = step_x:
 *      SET:   min(gmax, gsat - (gsat - g0)(1-a)^k),    gsat = gmax + s/a
 *      RESET: max(gmin, gfl + (g0 - gfl)(1-a)^k),      gfl  = gmin - s/a
 *    Tolerance: the floor loses f_k in [0, 1) per pulse and the error contracts by (1-a)
 *    per pulse (e_{k+1} = (1-a) e_k + f_k; the clamp is monotone and 1-Lipschitz), so the
 *    integer curve lies on the inner side of the continuous one by less than 1/a. */
static void check_curve(tdev_t *d, const uint32_t *cfg, uint32_t row, int set, uint16_t *curve) {
  uint32_t g0 = tdev_probe(d, 0, row, 0, 0);
  tu_pulses_t b = tu_pulses_begin(0);
  for (uint32_t c = 0; c < MT_COLS; c++) tu_pulses_add(&b, row, c, 0, set ? (int32_t)c : -(int32_t)c);
  TU_OK(tu_pulses_run(d, &b));
  uint32_t p[6] = {0, row, 1, 0, MT_COLS, MT_READ_PROBE};
  TU_OK(tdev_run(d, MT_OP_READ_CELLS, p, 6));
  const int64_t gmin = cfg[MT_CFG_G_MIN], gmax = cfg[MT_CFG_G_MAX];
  const int64_t s = set ? cfg[MT_CFG_STEP_SET] : cfg[MT_CFG_STEP_RST];
  const int64_t ai = set ? cfg[MT_CFG_A_SET] : cfg[MT_CFG_A_RST];
  const double a = ai / 65536.0;
  int64_t rec = g0;
  double worst = 0.0;
  for (uint32_t k = 0; k < MT_COLS; k++) {
    int32_t got = (int32_t)TU_LO(d->out[k]);
    curve[k] = (uint16_t)got;
    if (got != rec) print_message("row %u k %u: got %d want %d\n", row, k, got, (int)rec);
    assert_int_equal(got, rec);
    double cont;
    if (set) {
      double gsat = gmax + s / a;
      cont = fmin((double)gmax, gsat - (gsat - g0) * pow(1.0 - a, k));
    } else {
      double gfl = gmin - s / a;
      cont = fmax((double)gmin, gfl + ((double)g0 - gfl) * pow(1.0 - a, k));
    }
    double inner = set ? cont - got : got - cont; /* >= 0: integer curve lags */
    assert_true(inner >= -1e-6);
    assert_true(inner < 1.0 / a + 1e-6);
    worst = fmax(worst, inner);
    if (set) {
      rec += s + ((ai * (gmax - rec)) >> 16);
      if (rec > gmax) rec = gmax;
    } else {
      rec -= s + ((ai * (rec - gmin)) >> 16);
      if (rec < gmin) rec = gmin;
    }
  }
  print_message("%s curve step=%u a=%u: max |closed form - model| = %.2f (bound 1/a = %.2f)\n",
                set ? "SET" : "RESET", (unsigned)s, (unsigned)ai, worst, 1.0 / a);
}

/* SET pulses until the integer recurrence stalls: with no constant step, floor(a*(gmax -
 * g)/2^16) becomes 0 once gmax - g < 2^16/a, so the device stops short of gmax. */
static uint32_t stall_point(uint32_t gmin, uint32_t gmax, uint32_t a) {
  uint32_t g = gmin;
  for (;;) {
    uint32_t dg = (a * (gmax - g)) >> 16;
    if (dg == 0) return g;
    g += dg;
  }
}

/* Non-linear (soft-bounds) SET curves, with and without a constant step part. Step and
 * a are fabricated per device (d2d copies of the configuration), so each parameter set
 * is fabricated anew. */
static void pulse_nonlinear_set_matches_closed_form(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  uint16_t curve[MT_COLS];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_STEP_SET] = 0;
  cfg[MT_CFG_A_SET] = 3277; /* a = 0.05 */
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 12, 0));
  check_curve(d, cfg, 0, 1, curve);
  /* Pure exponential: 400 pulses end on the stall point, 19 below gmax. */
  TU_OK(tu_pulse(d, 0, 5, 5, 0, 400));
  assert_int_equal(tdev_probe(d, 0, 5, 5, 0), stall_point(1000, 65000, 3277));
  assert_int_equal(stall_point(1000, 65000, 3277), 65000 - 19);
  cfg[MT_CFG_STEP_SET] = 150;
  cfg[MT_CFG_A_SET] = 1966; /* a = 0.03; gsat = gmax + 5000: reaches gmax */
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 12, 0));
  check_curve(d, cfg, 1, 1, curve);
  assert_int_equal(curve[MT_COLS - 1], 65000);
  assert_true(curve[40] < 65000);
  tdev_free(d);
}

/* SET pulses every device of a row to the stall point (see stall_point). */
static void saturate_row(tdev_t *d, uint32_t row) {
  tu_pulses_t b = tu_pulses_begin(0);
  for (uint32_t c = 0; c < MT_COLS; c++) tu_pulses_add(&b, row, c, 0, 400);
  TU_OK(tu_pulses_run(d, &b));
}

/* Asymmetric device (a_set = 0.05, a_rst = 0.12): the RESET curve from the top differs
 * from the mirrored SET curve and follows its own closed form; with a constant RESET
 * step it lands exactly on gmin. */
static void pulse_asymmetric_reset_curve(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  uint16_t set_curve[MT_COLS], rst_curve[MT_COLS];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_STEP_SET] = 0;
  cfg[MT_CFG_STEP_RST] = 0;
  cfg[MT_CFG_A_SET] = 3277; /* 0.05 */
  cfg[MT_CFG_A_RST] = 7864; /* 0.12 */
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 13, 0));
  const uint32_t top = stall_point(1000, 65000, 3277);
  saturate_row(d, 1);
  check_curve(d, cfg, 0, 1, set_curve);
  check_curve(d, cfg, 1, 0, rst_curve);
  assert_int_equal(rst_curve[0], top);
  /* RESET moves further than SET after the same number of pulses while neither has
   * saturated (k <= 60: the SET displacement is below 0.96 of the range, the RESET one
   * above 0.999). */
  for (uint32_t k = 1; k <= 60; k++) {
    uint32_t set_disp = set_curve[k] - 1000u, rst_disp = top - rst_curve[k];
    assert_true(rst_disp > set_disp);
  }
  assert_int_equal(set_curve[1], 1000 + ((3277 * 64000) >> 16));
  assert_int_equal(rst_curve[1], top - ((7864 * (top - 1000)) >> 16));
  /* With a constant part the RESET curve reaches gmin exactly. */
  cfg[MT_CFG_STEP_RST] = 100;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 13, 0));
  saturate_row(d, 2);
  check_curve(d, cfg, 2, 0, rst_curve);
  assert_int_equal(rst_curve[MT_COLS - 1], 1000);
  tdev_free(d);
}

/* With d2d variation and large c2c noise, random pulse trains never take a device
 * outside its own [gmin_d, gmax_d] (read from the state record); long SET trains end
 * exactly on gmax_d and long RESET trains exactly on gmin_d. 16 rows = 4096 devices. */
static void pulse_saturates_at_device_bounds(void **state) {
  (void)state;
  enum { ROWS = 16 };
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_G_MIN] = 2000;
  cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_D2D_GMIN] = 400;
  cfg[MT_CFG_D2D_GMAX] = 900;
  cfg[MT_CFG_STEP_SET] = 3000;
  cfg[MT_CFG_STEP_RST] = 3000;
  cfg[MT_CFG_D2D_STEP] = 6554; /* 10% */
  cfg[MT_CFG_A_SET] = 2000;
  cfg[MT_CFG_A_RST] = 2000;
  cfg[MT_CFG_D2D_A] = 6554;
  cfg[MT_CFG_C2C_ADD] = 8000; /* chaotic phase: a pulse often hits a bound */
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 14, 0));
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){14, 0}, 2));
  uint32_t *img = tu_tile_image(d, 0);
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_rng_t rng = {14};
  uint32_t at_lo = 0, at_hi = 0;
  for (uint32_t round = 0; round < 8; round++) {
    tu_pulses_t b = tu_pulses_begin(0);
    for (uint32_t i = 0; i < ROWS; i++)
      for (uint32_t c = 0; c < MT_COLS; c++)
        for (uint32_t k = 0; k < 2; k++) tu_pulses_add(&b, i, c, k, tu_rng_range(&rng, -63, 63));
    TU_OK(tu_pulses_run(d, &b));
    tu_probe_tile(d, 0, g);
    for (uint32_t i = 0; i < ROWS; i++)
      for (uint32_t c = 0; c < MT_COLS; c++)
        for (uint32_t k = 0; k < 2; k++) {
          uint32_t lo = TU_LO(TU_REC(img, i, c, 1 + k)), hi = TU_HI(TU_REC(img, i, c, 1 + k));
          uint32_t v = dev_g(g, i, c, k);
          assert_true(v >= lo && v <= hi);
          at_lo += v == lo;
          at_hi += v == hi;
        }
  }
  print_message("chaotic phase: %u samples at gmin_d, %u at gmax_d\n", at_lo, at_hi);
  assert_true(at_lo > 100 && at_hi > 100); /* the bounds were really exercised */
  /* Purely relative c2c of 10%: a pulse moves by dg + noise >= dg*(1 - 0.634) toward its
   * bound, and dg >= step_d >= 3000*(1 - 0.634) - 1 = 1097, so every pulse moves at least
   * 401 until clamped: 189 pulses cover any range (<= 65535) and end exactly on the bound. */
  cfg[MT_CFG_C2C_ADD] = 0;
  cfg[MT_CFG_C2C_MUL] = 6554;
  TU_OK(tdev_configure(d, cfg));
  for (int dir = 1; dir >= -1; dir -= 2) {
    tu_pulses_t b = tu_pulses_begin(0);
    for (uint32_t i = 0; i < ROWS; i++)
      for (uint32_t c = 0; c < MT_COLS; c++)
        for (uint32_t k = 0; k < 2; k++) tu_pulses_add(&b, i, c, k, dir * 189);
    TU_OK(tu_pulses_run(d, &b));
    tu_probe_tile(d, 0, g);
    for (uint32_t i = 0; i < ROWS; i++)
      for (uint32_t c = 0; c < MT_COLS; c++)
        for (uint32_t k = 0; k < 2; k++) {
          uint32_t w = TU_REC(img, i, c, 1 + k);
          if (dev_g(g, i, c, k) != (dir > 0 ? TU_HI(w) : TU_LO(w)))
            print_message("dev %u %u %u: g %u bounds %u..%u steps %08x a %08x\n", i, c, k, dev_g(g, i, c, k), TU_LO(w), TU_HI(w), TU_REC(img, i, c, 3 + k), TU_REC(img, i, c, 5 + k));
          assert_int_equal(dev_g(g, i, c, k), dir > 0 ? TU_HI(w) : TU_LO(w));
        }
  }
  free(g);
  free(img);
  tdev_free(d);
}

/* ================================================================ 2. c2c statistics */

/* One pulse on each of the 32768 devices of a tile, all identical (no d2d) and in the
 * same start state (gmin for SET; gmax, reached with one huge noiseless SET, for RESET).
 * The step g1 - g0 must have mean dg (the model's integer dg at g0) and standard deviation
 * amp = floor(dg*c2c_mul/2^16) + c2c_add (plus the 1/12 rounding variance); no sample can
 * be clamped (checked: max_noise(amp) < dg and the far bound is out of reach). */
static void c2c_case(int set, uint32_t step, uint32_t a, uint32_t mul, uint32_t add) {
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_STEP_SET] = set ? step : 65535;
  cfg[MT_CFG_STEP_RST] = step;
  cfg[MT_CFG_A_SET] = set ? a : 0;
  cfg[MT_CFG_A_RST] = a;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 21, 0));
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){21, set ? 1u : 2u}, 2));
  tu_pulses_t b;
  if (!set) { /* to gmax, noiselessly */
    b = tu_pulses_begin(0);
    for (uint32_t w = 0; w < TU_WEIGHTS; w++)
      for (uint32_t k = 0; k < 2; k++) tu_pulses_add(&b, w / MT_COLS, w % MT_COLS, k, 1);
    TU_OK(tu_pulses_run(d, &b));
  }
  const int64_t gmin = 1000, gmax = 65000, g0 = set ? gmin : gmax;
  assert_int_equal(tdev_probe(d, 0, 5, 5, 1), g0);
  int64_t dg = set ? step + ((a * (gmax - g0)) >> 16) : step + ((a * (g0 - gmin)) >> 16);
  int64_t amp = ((dg * mul) >> 16) + add;
  assert_true(max_noise((uint32_t)amp) < dg && g0 + (set ? 1 : -1) * (dg + max_noise((uint32_t)amp)) > gmin &&
              g0 + (set ? 1 : -1) * (dg + max_noise((uint32_t)amp)) < gmax);
  cfg[MT_CFG_C2C_MUL] = mul;
  cfg[MT_CFG_C2C_ADD] = add;
  TU_OK(tdev_configure(d, cfg));
  b = tu_pulses_begin(0);
  for (uint32_t w = 0; w < TU_WEIGHTS; w++)
    for (uint32_t k = 0; k < 2; k++) tu_pulses_add(&b, w / MT_COLS, w % MT_COLS, k, set ? 1 : -1);
  TU_OK(tu_pulses_run(d, &b));
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_probe_tile(d, 0, g);
  tu_stat_t st = {0};
  for (uint32_t i = 0; i < TU_DEVICES; i++) tu_stat_add(&st, set ? g[i] - (double)g0 : (double)g0 - g[i]);
  char what[96];
  snprintf(what, sizeof what, "c2c %s dg=%d mul=%u add=%u amp=%d", set ? "SET" : "RESET", (int)dg,
           mul, add, (int)amp);
  tu_assert_normal(what, &st, (double)dg, tu_gnoise_sigma((double)amp));
  free(g);
  tdev_free(d);
}

static void c2c_relative_sigma(void **state) {
  (void)state;
  c2c_case(1, 1500, 1000, 6554, 0); /* dg = 2476, amp = 247 */
}

static void c2c_additive_sigma(void **state) {
  (void)state;
  c2c_case(1, 1500, 1000, 0, 200); /* amp = 200 */
}

static void c2c_combined_reset(void **state) {
  (void)state;
  c2c_case(0, 1200, 2000, 3277, 100); /* dg = 3153, amp = 157 + 100 */
}

/* ================================================================ 3. d2d statistics */

static double corr(const double *x, const double *y, uint32_t n) {
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (uint32_t i = 0; i < n; i++) {
    sx += x[i], sy += y[i], sxx += x[i] * x[i], syy += y[i] * y[i], sxy += x[i] * y[i];
  }
  sx /= n, sy /= n;
  return (sxy / n - sx * sy) / sqrt((sxx / n - sx * sx) * (syy / n - sy * sy));
}

/* Fabrication draws per device: gmin_d ~ N(g_min, d2d_gmin), gmax_d ~ N(g_max, d2d_gmax),
 * step_d ~ step*(1 + d2d_step*z), a_d ~ a*(1 + d2d_a*z); the model's relative amplitude
 * is floor(x*rel/2^16). Over all 32768 devices of a tile (plus and minus pooled): means
 * within 4 SE, standard deviations within 4 SE (sigma/sqrt(2n)); parameters of one device,
 * and the two devices of a weight, uncorrelated (|r| < 4/sqrt(n)). No parameter can be
 * clamped with these values (6.34 sigma stays inside the ranges). */
static void d2d_statistics(void **state) {
  (void)state;
  tdev_t *d = tdev_new(2);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_G_MIN] = 5000;
  cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_D2D_GMIN] = 300;
  cfg[MT_CFG_D2D_GMAX] = 800;
  cfg[MT_CFG_STEP_SET] = 1000;
  cfg[MT_CFG_STEP_RST] = 1500;
  cfg[MT_CFG_D2D_STEP] = 6554; /* 10% */
  cfg[MT_CFG_A_SET] = 2000;
  cfg[MT_CFG_A_RST] = 3000;
  cfg[MT_CFG_D2D_A] = 13107; /* 20% */
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 31, 0));
  uint32_t *img = tu_tile_image(d, 0);
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_probe_tile(d, 0, g);
  /* fields: gmin gmax step_set step_rst a_set a_rst */
  static double v[6][TU_DEVICES];
  const double nominal[6] = {5000, 60000, 1000, 1500, 2000, 3000};
  const double sigma[6] = {300, 800, (1000 * 6554) >> 16, (1500 * 6554) >> 16,
                           (2000 * 13107) >> 16, (3000 * 13107) >> 16};
  static const char *const names[6] = {"gmin_d", "gmax_d", "step_set_d", "step_rst_d", "a_set_d", "a_rst_d"};
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) {
    const uint32_t *r = img + w * MT_WEIGHT_WORDS;
    for (uint32_t k = 0; k < 2; k++) {
      uint32_t n = 2 * w + k;
      v[0][n] = TU_LO(r[1 + k]);
      v[1][n] = TU_HI(r[1 + k]);
      v[2][n] = TU_LO(r[3 + k]);
      v[3][n] = TU_HI(r[3 + k]);
      v[4][n] = TU_LO(r[5 + k]);
      v[5][n] = TU_HI(r[5 + k]);
      /* A fresh device sits at its own gmin, seen identically by PROBE and the record. */
      assert_int_equal(g[n], TU_LO(r[1 + k]));
      assert_int_equal(k ? TU_HI(r[0]) : TU_LO(r[0]), TU_LO(r[1 + k]));
    }
    assert_int_equal(r[7], 0);
    assert_int_equal(r[8], 0);
    assert_int_equal(r[9], MT_LEVEL_NONE << 16); /* no faults, never programmed */
    assert_int_equal(r[10], 0);
  }
  for (uint32_t f = 0; f < 6; f++) {
    tu_stat_t st = {0};
    for (uint32_t n = 0; n < TU_DEVICES; n++) tu_stat_add(&st, v[f][n]);
    tu_assert_normal(names[f], &st, nominal[f], tu_gnoise_sigma(sigma[f]));
  }
  const double rmax = 4.0 / sqrt((double)TU_DEVICES);
  static double plus[TU_WEIGHTS], minus[TU_WEIGHTS];
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) plus[w] = v[0][2 * w], minus[w] = v[0][2 * w + 1];
  double r_gg = corr(v[0], v[1], TU_DEVICES), r_ss = corr(v[2], v[3], TU_DEVICES);
  double r_aa = corr(v[4], v[5], TU_DEVICES), r_sa = corr(v[2], v[4], TU_DEVICES);
  double r_pm = corr(plus, minus, TU_WEIGHTS);
  print_message("d2d correlations: gmin/gmax %+.4f step_set/rst %+.4f a_set/rst %+.4f "
                "step/a %+.4f plus/minus %+.4f (bound %.4f, %.4f for plus/minus)\n",
                r_gg, r_ss, r_aa, r_sa, r_pm, rmax, 4.0 / sqrt((double)TU_WEIGHTS));
  assert_true(fabs(r_gg) < rmax && fabs(r_ss) < rmax && fabs(r_aa) < rmax && fabs(r_sa) < rmax);
  assert_true(fabs(r_pm) < 4.0 / sqrt((double)TU_WEIGHTS));
  free(g);
  free(img);
  tdev_free(d);
}

/* Fabrication depends only on (seed, tile, configuration): the same seed gives an
 * identical tile even after noise was drawn and devices were pulsed in between; another
 * seed, or another tile with the same seed, gives different devices; the documented
 * derivation seeds the fabrication lanes with seed ^ (tile << 48). */
static void d2d_seed_and_tile_dependence(void **state) {
  (void)state;
  tdev_t *d = tdev_new(2);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_D2D_GMIN] = 300;
  cfg[MT_CFG_D2D_GMAX] = 800;
  cfg[MT_CFG_D2D_STEP] = 6554;
  cfg[MT_CFG_A_SET] = 2000;
  cfg[MT_CFG_D2D_A] = 13107;
  cfg[MT_CFG_C2C_ADD] = 100;
  cfg[MT_CFG_P_STUCK_LOW] = tu_q32(0.05);
  cfg[MT_CFG_G_MAX] = 60000; /* gmax_d never clamps at 65535 (the estimate below) */
  const uint64_t seed = 0x0123456789ABCDEFull;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, seed, 0));
  uint32_t *a = tu_tile_image(d, 0);
  /* Disturb: noise lanes, pulses, another tile. */
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){5, 5}, 2));
  TU_OK(tu_pulse(d, 0, 3, 3, 0, 40));
  TU_OK(tdev_fabricate(d, seed, 1));
  uint32_t *t1 = tu_tile_image(d, 1);
  TU_OK(tdev_fabricate(d, seed, 0));
  uint32_t *again = tu_tile_image(d, 0);
  assert_memory_equal(a, again, MT_TILE_WORDS * sizeof *a);
  TU_OK(tdev_fabricate(d, seed + 1, 0));
  uint32_t *other = tu_tile_image(d, 0);
  uint32_t diff_seed = 0, diff_tile = 0;
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) {
    diff_seed += TU_REC(a, w / MT_COLS, w % MT_COLS, 1) != TU_REC(other, w / MT_COLS, w % MT_COLS, 1);
    diff_tile += TU_REC(a, w / MT_COLS, w % MT_COLS, 1) != TU_REC(t1, w / MT_COLS, w % MT_COLS, 1);
  }
  /* Two independent draws of (gmin_d, gmax_d) with sigmas 300/800 coincide with
   * probability about 1/(2 sqrt(pi) 300) * 1/(2 sqrt(pi) 800) ~ 3e-7: all differ except
   * for a handful at most. */
  print_message("weights with different bounds: other seed %u, other tile %u of %u\n", diff_seed,
                diff_tile, TU_WEIGHTS);
  assert_true(diff_seed > TU_WEIGHTS - 16);
  assert_true(diff_tile > TU_WEIGHTS - 16);
  /* seed ^ (1 << 48) on tile 0 reproduces tile 1 of seed. */
  TU_OK(tdev_fabricate(d, seed ^ (1ull << 48), 0));
  uint32_t *alias = tu_tile_image(d, 0);
  assert_memory_equal(alias, t1, MT_TILE_WORDS * sizeof *a);
  free(a);
  free(t1);
  free(again);
  free(other);
  free(alias);
  tdev_free(d);
}

/* ================================================================ 4. stuck-at faults */

/* p_stuck_low = 5%, p_stuck_high = 2% (Q0.32): the observed fractions over 32768 devices
 * are within 4 binomial sigmas; stuck-low devices sit at gmin_d, stuck-high at gmax_d,
 * and neither moves under SET or RESET pulses (which still count as pulses). */
static void stuck_at_fractions_and_behaviour(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_D2D_GMIN] = 200;
  cfg[MT_CFG_D2D_GMAX] = 300;
  cfg[MT_CFG_C2C_ADD] = 50;
  cfg[MT_CFG_P_STUCK_LOW] = tu_q32(0.05);
  cfg[MT_CFG_P_STUCK_HIGH] = tu_q32(0.02);
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 41, 0));
  uint32_t *img = tu_tile_image(d, 0);
  uint16_t *g0 = malloc(TU_DEVICES * sizeof *g0), *g1 = malloc(TU_DEVICES * sizeof *g1);
  tu_probe_tile(d, 0, g0);
  uint32_t n_low = 0, n_high = 0;
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) {
    const uint32_t *r = img + w * MT_WEIGHT_WORDS;
    for (uint32_t k = 0; k < 2; k++) {
      uint32_t f = (r[9] >> (8 * k)) & 0xFFu;
      assert_true(f <= MT_FAULT_STUCK_HIGH);
      n_low += f == MT_FAULT_STUCK_LOW;
      n_high += f == MT_FAULT_STUCK_HIGH;
      uint32_t want = f == MT_FAULT_STUCK_HIGH ? TU_HI(r[1 + k]) : TU_LO(r[1 + k]);
      assert_int_equal(g0[2 * w + k], want);
    }
  }
  tu_assert_binomial("stuck low", n_low, TU_DEVICES, tu_q32(0.05) / 4294967296.0);
  tu_assert_binomial("stuck high", n_high, TU_DEVICES, tu_q32(0.02) / 4294967296.0);
  /* 20 SET then 5 RESET pulses on every device (one command each: 32768 entries). */
  for (int n = 20; n >= -5; n -= 25) {
    tu_pulses_t b = tu_pulses_begin(0);
    for (uint32_t w = 0; w < TU_WEIGHTS; w++)
      for (uint32_t k = 0; k < 2; k++) tu_pulses_add(&b, w / MT_COLS, w % MT_COLS, k, n);
    TU_OK(tu_pulses_run(d, &b));
  }
  tu_probe_tile(d, 0, g1);
  uint32_t *img1 = tu_tile_image(d, 0);
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) {
    for (uint32_t k = 0; k < 2; k++) {
      uint32_t f = (img[w * MT_WEIGHT_WORDS + 9] >> (8 * k)) & 0xFFu;
      if (f != MT_FAULT_NONE)
        assert_int_equal(g1[2 * w + k], g0[2 * w + k]);
      else /* 15 net steps of ~1000 from gmin_d */
        assert_true(g1[2 * w + k] > g0[2 * w + k] + 10000);
      assert_int_equal(img1[w * MT_WEIGHT_WORDS + 7 + k], 25); /* pulses still counted */
    }
    assert_int_equal(img1[w * MT_WEIGHT_WORDS + 9] & 0xFFFFu, img[w * MT_WEIGHT_WORDS + 9] & 0xFFFFu);
  }
  assert_int_equal(tdev_counter(d, MT_CNT_SET_PULSES), 20u * TU_DEVICES);
  assert_int_equal(tdev_counter(d, MT_CNT_RESET_PULSES), 5u * TU_DEVICES);
  /* One Gaussian draw per pulse whatever the fault: 7 pulses on a stuck device advance
   * its column's lane exactly as 7 pulses on a working device of the same lane. */
  uint32_t ws = TU_WEIGHTS, wn = TU_WEIGHTS;
  for (uint32_t w = 0; w < TU_WEIGHTS && ws == TU_WEIGHTS; w++)
    if ((img[w * MT_WEIGHT_WORDS + 9] & 0xFFu) != MT_FAULT_NONE) ws = w;
  assert_true(ws < TU_WEIGHTS);
  for (uint32_t w = 0; w < TU_WEIGHTS && wn == TU_WEIGHTS; w++)
    if ((img[w * MT_WEIGHT_WORDS + 9] & 0xFFu) == MT_FAULT_NONE && w % MT_LANES == ws % MT_LANES) wn = w;
  assert_true(wn < TU_WEIGHTS);
  uint32_t l_stuck[4 * MT_LANES], l_ok[4 * MT_LANES], l_none[4 * MT_LANES];
  TU_OK(tu_seed(d, 0x4141));
  tu_lanes(d, l_none);
  TU_OK(tu_pulse(d, 0, ws / MT_COLS, ws % MT_COLS, 0, 4));
  TU_OK(tu_pulse(d, 0, ws / MT_COLS, ws % MT_COLS, 0, -3));
  tu_lanes(d, l_stuck);
  TU_OK(tu_seed(d, 0x4141));
  TU_OK(tu_pulse(d, 0, wn / MT_COLS, wn % MT_COLS, 0, 4));
  TU_OK(tu_pulse(d, 0, wn / MT_COLS, wn % MT_COLS, 0, -3));
  tu_lanes(d, l_ok);
  assert_memory_equal(l_stuck, l_ok, sizeof l_ok);
  assert_memory_not_equal(l_stuck, l_none, sizeof l_ok);
  free(img1);
  free(img);
  free(g0);
  free(g1);
  tdev_free(d);
}

/* ================================================================ 5. endurance */

static uint32_t fault_of(tdev_t *d, uint32_t row, uint32_t col, uint32_t dev) {
  uint32_t p[4] = {MT_SECTION_TILE, 0, TU_W(row, col) * MT_WEIGHT_WORDS + 9, 1};
  TU_OK(tdev_run(d, MT_OP_STATE_READ, p, 4));
  return (d->out[0] >> (8 * dev)) & 0xFFu;
}

static uint32_t pulses_of(tdev_t *d, uint32_t row, uint32_t col, uint32_t dev) {
  uint32_t p[4] = {MT_SECTION_TILE, 0, TU_W(row, col) * MT_WEIGHT_WORDS + 7 + dev, 1};
  TU_OK(tdev_run(d, MT_OP_STATE_READ, p, 4));
  return d->out[0];
}

/* endurance = 100: the 100th pulse still acts, then the device is WORN and frozen under
 * SET, RESET and write-verify; the 99th leaves it working; pulses keep being counted;
 * endurance 0 means unlimited and does not revive a worn device; stuck devices stay
 * stuck (never WORN). Linear noiseless device, step 300 from gmin 1000. */
static void endurance_freezes_device(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_STEP_SET] = 300;
  cfg[MT_CFG_STEP_RST] = 300;
  cfg[MT_CFG_ENDURANCE] = 100;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 51, 0));
  TU_OK(tu_pulse(d, 0, 0, 0, 0, 100));
  TU_OK(tu_pulse(d, 0, 0, 1, 0, 99));
  TU_OK(tu_pulse(d, 0, 0, 2, 0, 60));
  TU_OK(tu_pulse(d, 0, 0, 2, 0, -40));
  assert_int_equal(tdev_probe(d, 0, 0, 0, 0), 1000 + 100 * 300);
  assert_int_equal(tdev_probe(d, 0, 0, 1, 0), 1000 + 99 * 300);
  assert_int_equal(tdev_probe(d, 0, 0, 2, 0), 1000 + 20 * 300);
  assert_int_equal(fault_of(d, 0, 0, 0), MT_FAULT_WORN);
  assert_int_equal(fault_of(d, 0, 1, 0), MT_FAULT_NONE);
  assert_int_equal(fault_of(d, 0, 2, 0), MT_FAULT_WORN);
  assert_int_equal(fault_of(d, 0, 0, 1), MT_FAULT_NONE); /* the partner is unaffected */
  TU_OK(tu_pulse(d, 0, 0, 0, 0, 20));
  TU_OK(tu_pulse(d, 0, 0, 0, 0, -30));
  TU_OK(tu_pulse(d, 0, 0, 2, 0, -10));
  assert_int_equal(tdev_probe(d, 0, 0, 0, 0), 31000);
  assert_int_equal(tdev_probe(d, 0, 0, 2, 0), 7000);
  assert_int_equal(pulses_of(d, 0, 0, 0), 150);
  assert_int_equal(tdev_counter(d, MT_CNT_SET_PULSES), 100 + 99 + 60 + 20);
  assert_int_equal(tdev_counter(d, MT_CNT_RESET_PULSES), 40 + 30 + 10);
  /* The 99-pulse device wears out on its next pulse, which still moves it. */
  TU_OK(tu_pulse(d, 0, 0, 1, 0, 1));
  assert_int_equal(tdev_probe(d, 0, 0, 1, 0), 31000);
  assert_int_equal(fault_of(d, 0, 1, 0), MT_FAULT_WORN);
  TU_OK(tu_pulse(d, 0, 0, 1, 0, -5));
  assert_int_equal(tdev_probe(d, 0, 0, 1, 0), 31000);
  /* A worn device still takes one Gaussian draw per pulse, like a working one of the
   * same lane (column 16 shares lane 0 with column 0). */
  uint32_t l_worn[4 * MT_LANES], l_ok[4 * MT_LANES];
  TU_OK(tu_seed(d, 0x5151));
  TU_OK(tu_pulse(d, 0, 0, 0, 0, 9));
  tu_lanes(d, l_worn);
  TU_OK(tu_seed(d, 0x5151));
  TU_OK(tu_pulse(d, 0, 7, 16, 0, 9));
  tu_lanes(d, l_ok);
  assert_memory_equal(l_worn, l_ok, sizeof l_ok);
  TU_OK(tu_pulse(d, 0, 7, 16, 0, -9)); /* back to gmin (noiseless) */
  assert_int_equal(tdev_probe(d, 0, 7, 16, 0), 1000);
  /* Write-verify cannot move a worn device: it fails after wv_max_iter pulses, and the
   * post-programming spread (sigma 500 for level 1) does not move it either. */
  uint16_t gp[2] = {1000, 20000}, gm[2] = {1000, 1000}, zero[2] = {0, 0}, sg[2] = {0, 500};
  TU_OK(tu_set_levels(d, 2, gp, gm, zero, zero, sg));
  uint32_t prog[3] = {0, 0, tdev_entry(0, 0, 1)};
  TU_OK(tdev_run(d, MT_OP_PROGRAM, prog, 3));
  assert_int_equal(d->out[2], 1);
  assert_int_equal(tdev_probe(d, 0, 0, 0, 0), 31000);
  assert_int_equal(pulses_of(d, 0, 0, 0), 150 + 9 + cfg[MT_CFG_WV_MAX_ITER]);
  /* Endurance 0: unlimited; the worn device stays worn. */
  cfg[MT_CFG_ENDURANCE] = 0;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tu_pulse(d, 0, 1, 0, 1, 120));
  TU_OK(tu_pulse(d, 0, 1, 0, 1, -120));
  TU_OK(tu_pulse(d, 0, 1, 0, 1, 100));
  assert_int_equal(fault_of(d, 1, 0, 1), MT_FAULT_NONE);
  assert_int_equal(tdev_probe(d, 0, 1, 0, 1), 31000);
  TU_OK(tu_pulse(d, 0, 0, 0, 0, -5));
  assert_int_equal(tdev_probe(d, 0, 0, 0, 0), 31000);
  assert_int_equal(fault_of(d, 0, 0, 0), MT_FAULT_WORN);
  /* Stuck devices never become WORN. */
  cfg[MT_CFG_ENDURANCE] = 10;
  cfg[MT_CFG_P_STUCK_LOW] = 0x80000000u;
  cfg[MT_CFG_P_STUCK_HIGH] = 0x7FFFFFFFu; /* every device stuck unless u == 2^32 - 1 */
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 52, 0));
  uint32_t f = fault_of(d, 3, 3, 0);
  assert_true(f == MT_FAULT_STUCK_LOW || f == MT_FAULT_STUCK_HIGH);
  TU_OK(tu_pulse(d, 0, 3, 3, 0, 30));
  assert_int_equal(fault_of(d, 3, 3, 0), f);
  assert_int_equal(pulses_of(d, 3, 3, 0), 30);
  tdev_free(d);
}

/* ================================================================ 6. write-verify */

enum { WV_ROWS = 4, WV_W = WV_ROWS * MT_COLS, WV_MAX_ITER = 100 };

/* Level targets of tdev_levels_linear(d, 8, 3000, 3000, 500, 0). */
static uint32_t wv_target(uint32_t q, uint32_t dev) {
  int32_t x = 2 * (int32_t)q - 7;
  uint32_t up = x > 0 ? (uint32_t)x * 1500u : 0, dn = x < 0 ? (uint32_t)-x * 1500u : 0;
  return 3000 + (dev ? dn : up);
}

/* Programs the WV_W weights of rows 0..3 to lv[] with write-verify and checks it. */
static void wv_program_and_check(tdev_t *d, const uint32_t *lv, const uint32_t *img_fab,
                                 uint32_t n_stuck, const uint32_t *cfg) {
  uint64_t c0[MT_CNT_COUNT], c1[MT_CNT_COUNT];
  tu_counters(d, c0);
  uint32_t *before = tu_tile_image(d, 0);
  uint32_t *p = malloc((2 + WV_W) * sizeof *p);
  p[0] = 0;
  p[1] = 0;
  for (uint32_t w = 0; w < WV_W; w++) p[2 + w] = tdev_entry(w / MT_COLS, w % MT_COLS, lv[w]);
  TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 2 + WV_W));
  free(p);
  assert_int_equal(d->out_len, 3);
  assert_int_equal(d->out[0], WV_W);
  assert_int_equal(d->out[1], 0);
  /* Every stuck device fails (all targets are >= 2000 from gmin and below gmax, more than
   * wv_tol + the largest read noise); a working device converges: its steps (500 +- c2c)
   * are narrower than the 600-wide acceptance window and it needs at most ~26 of the 100
   * pulses allowed. */
  assert_int_equal(d->out[2], n_stuck);
  tu_counters(d, c1);
  uint64_t pulses = (c1[MT_CNT_SET_PULSES] - c0[MT_CNT_SET_PULSES]) +
                    (c1[MT_CNT_RESET_PULSES] - c0[MT_CNT_RESET_PULSES]);
  uint64_t reads = c1[MT_CNT_VERIFY_READS] - c0[MT_CNT_VERIFY_READS];
  assert_int_equal(c1[MT_CNT_WV_FAILURES] - c0[MT_CNT_WV_FAILURES], n_stuck);
  assert_int_equal(c1[MT_CNT_CELLS_PROGRAMMED] - c0[MT_CNT_CELLS_PROGRAMMED], WV_W);
  /* One verify read per iteration plus the final one, for every device. */
  assert_int_equal(reads, pulses + 2 * WV_W);
  uint32_t *after = tu_tile_image(d, 0);
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_probe_tile(d, 0, g);
  const int32_t tol = (int32_t)cfg[MT_CFG_WV_TOL];
  const int32_t hard = tol + max_noise(cfg[MT_CFG_READ_SIGMA]);
  uint64_t pulse_sum = 0, ok_pulses = 0, ideal_pulses = 0;
  uint32_t n_ok = 0, within = 0;
  for (uint32_t w = 0; w < WV_W; w++) {
    for (uint32_t k = 0; k < 2; k++) {
      uint32_t np = after[w * MT_WEIGHT_WORDS + 7 + k] - before[w * MT_WEIGHT_WORDS + 7 + k];
      uint32_t f = (img_fab[w * MT_WEIGHT_WORDS + 9] >> (8 * k)) & 0xFFu;
      pulse_sum += np;
      if (f != MT_FAULT_NONE) {
        assert_int_equal(np, WV_MAX_ITER); /* exactly the limit */
        continue;
      }
      int32_t t = (int32_t)wv_target(lv[w], k);
      int32_t err = (int32_t)g[2 * w + k] - t;
      /* Converged on a sensed value within tol: the true value is off by at most the
       * read noise of that read. */
      assert_true(abs(err) <= hard);
      within += abs(err) <= tol;
      n_ok++;
      ok_pulses += np;
      int32_t g_start = (int32_t)TU_LO(before[w * MT_WEIGHT_WORDS] >> (16 * k));
      int32_t dist = abs(t - g_start) - tol;
      ideal_pulses += dist > 0 ? (uint32_t)(dist + 499) / 500 : 0;
    }
    assert_int_equal(after[w * MT_WEIGHT_WORDS + 9] >> 16, lv[w]); /* stored level */
  }
  assert_int_equal(pulse_sum, pulses);
  double mean = (double)ok_pulses / n_ok, ideal = (double)ideal_pulses / n_ok;
  print_message("write-verify: %u working devices, %.1f%% within tol, mean %.2f pulses "
                "(noiseless %.2f), %u stuck, %.3f reads/device\n",
                n_ok, 100.0 * within / n_ok, mean, ideal, n_stuck, (double)reads / (2 * WV_W));
  /* The true value lands outside tol only when the last read's noise (sigma 40) pushed a
   * sensed value near the window edge inside: about 2*40*0.4/600 ~ 5% of devices. */
  assert_true(within >= 0.85 * n_ok);
  /* c2c noise is zero-mean, so the drift per pulse is the nominal step; noise only adds
   * or removes a final correction pulse: the mean stays within one pulse of the
   * noiseless count ceil((|target - g| - tol) / step). */
  assert_true(fabs(mean - ideal) <= 1.0);
  free(g);
  free(after);
  free(before);
}

static void write_verify_converges_and_counts(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_STEP_SET] = 500;
  cfg[MT_CFG_STEP_RST] = 500;
  cfg[MT_CFG_C2C_MUL] = 6554; /* 10% */
  cfg[MT_CFG_C2C_ADD] = 50;
  cfg[MT_CFG_READ_SIGMA] = 40;
  cfg[MT_CFG_WV_TOL] = 300;
  cfg[MT_CFG_WV_MAX_ITER] = WV_MAX_ITER;
  cfg[MT_CFG_P_STUCK_LOW] = tu_q32(0.02);
  cfg[MT_CFG_P_STUCK_HIGH] = tu_q32(0.01);
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){61, 0}, 2));
  TU_OK(tdev_fabricate(d, 61, 0));
  TU_OK(tdev_levels_linear(d, 8, 3000, 3000, 500, 0));
  uint32_t *fab = tu_tile_image(d, 0);
  uint32_t n_stuck = 0;
  for (uint32_t w = 0; w < WV_W; w++)
    for (uint32_t k = 0; k < 2; k++) n_stuck += ((fab[w * MT_WEIGHT_WORDS + 9] >> (8 * k)) & 0xFFu) != 0;
  assert_true(n_stuck > 5); /* the stuck-device path is really exercised */
  tu_rng_t rng = {61};
  uint32_t lv[WV_W], lv2[WV_W];
  for (uint32_t w = 0; w < WV_W; w++) lv[w] = (uint32_t)tu_rng_range(&rng, 0, 7);
  wv_program_and_check(d, lv, fab, n_stuck, cfg);
  /* Re-program to different levels: some targets are lower, so RESET pulses occur. */
  uint64_t rst0 = tdev_counter(d, MT_CNT_RESET_PULSES);
  for (uint32_t w = 0; w < WV_W; w++) lv2[w] = (lv[w] + (uint32_t)tu_rng_range(&rng, 1, 7)) % 8;
  wv_program_and_check(d, lv2, fab, n_stuck, cfg);
  assert_true(tdev_counter(d, MT_CNT_RESET_PULSES) > rst0 + 1000);
  /* Same levels again: every request is skipped and nothing is touched. */
  uint64_t c0[MT_CNT_COUNT], c1[MT_CNT_COUNT];
  tu_counters(d, c0);
  uint32_t *img0 = tu_tile_image(d, 0);
  uint32_t *p = malloc((2 + WV_W) * sizeof *p);
  p[0] = 0;
  p[1] = 0;
  for (uint32_t w = 0; w < WV_W; w++) p[2 + w] = tdev_entry(w / MT_COLS, w % MT_COLS, lv2[w]);
  TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 2 + WV_W));
  assert_int_equal(d->out[0], 0);
  assert_int_equal(d->out[1], WV_W);
  assert_int_equal(d->out[2], 0);
  tu_counters(d, c1);
  for (uint32_t i = 0; i < MT_CNT_COUNT; i++)
    assert_int_equal(c1[i] - c0[i], i == MT_CNT_UPDATES_SKIPPED ? WV_W : 0);
  uint32_t *img1 = tu_tile_image(d, 0);
  assert_memory_equal(img0, img1, MT_TILE_WORDS * sizeof *img0);
  /* Mixed request: 10 same-level (skipped) and 6 new-level weights of row 5 (fresh). */
  p[1] = 0;
  for (uint32_t w = 0; w < 10; w++) p[2 + w] = tdev_entry(w / MT_COLS, w % MT_COLS, lv2[w]);
  for (uint32_t w = 0; w < 6; w++) p[12 + w] = tdev_entry(5, w, 3);
  TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 18));
  assert_int_equal(d->out[0], 6);
  assert_int_equal(d->out[1], 10);
  /* FORCE programs even an unchanged level (at least one verify read per device); the
   * stuck devices among the first 8 weights, known from the fabrication image, fail
   * again. */
  tu_counters(d, c0);
  p[1] = MT_PROG_FORCE;
  uint32_t forced_stuck = 0;
  for (uint32_t w = 0; w < 8; w++) {
    p[2 + w] = tdev_entry(0, w, lv2[w]);
    for (uint32_t k = 0; k < 2; k++) forced_stuck += ((fab[w * MT_WEIGHT_WORDS + 9] >> (8 * k)) & 0xFFu) != 0;
  }
  TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 10));
  assert_int_equal(d->out[0], 8);
  assert_int_equal(d->out[1], 0);
  assert_int_equal(d->out[2], forced_stuck);
  tu_counters(d, c1);
  assert_int_equal(c1[MT_CNT_CELLS_PROGRAMMED] - c0[MT_CNT_CELLS_PROGRAMMED], 8);
  assert_int_equal(c1[MT_CNT_UPDATES_SKIPPED] - c0[MT_CNT_UPDATES_SKIPPED], 0);
  assert_true(c1[MT_CNT_VERIFY_READS] - c0[MT_CNT_VERIFY_READS] >= 16);
  free(p);
  free(img0);
  free(img1);
  free(fab);
  tdev_free(d);
}

/* ================================================================ 7. open loop */

/* Open-loop programming applies exactly |p_new - p_old| pulses per device (SET when the
 * index grows, RESET when it shrinks; p_old = 0 for a never-programmed weight), with or
 * without noise, and makes no verify reads. On a noiseless linear device the result is
 * gmin + p*step exactly. */
static void open_loop_pulse_counts(void **state) {
  (void)state;
  enum { W = 2 * MT_COLS };
  static const uint16_t gp[4] = {1000, 4000, 9000, 13000}, gm[4] = {9000, 4000, 1000, 2000};
  static const uint16_t pp[4] = {0, 3, 8, 12}, pm[4] = {8, 3, 0, 1}, sg[4] = {0, 0, 0, 0};
  for (int noisy = 1; noisy >= 0; noisy--) {
    tdev_t *d = tdev_new(1);
    uint32_t cfg[MT_CFG_COUNT];
    tu_cfg_quiet(cfg);
    if (noisy) {
      cfg[MT_CFG_C2C_MUL] = 13107;
      cfg[MT_CFG_C2C_ADD] = 200;
      cfg[MT_CFG_READ_SIGMA] = 100;
      cfg[MT_CFG_P_STUCK_LOW] = tu_q32(0.05);
    }
    TU_OK(tdev_configure(d, cfg));
    TU_OK(tdev_fabricate(d, 71, 0));
    TU_OK(tu_set_levels(d, 4, gp, gm, pp, pm, sg));
    tu_rng_t rng = {71};
    uint32_t old[W], now[W];
    for (uint32_t w = 0; w < W; w++) old[w] = MT_LEVEL_NONE;
    uint32_t *p = malloc((2 + W) * sizeof *p);
    for (uint32_t round = 0; round < 3; round++) {
      uint64_t c0[MT_CNT_COUNT], c1[MT_CNT_COUNT];
      tu_counters(d, c0);
      uint32_t *img0 = tu_tile_image(d, 0);
      uint64_t want_set = 0, want_rst = 0;
      uint32_t want_prog = 0;
      p[0] = 0;
      p[1] = MT_PROG_OPEN_LOOP;
      for (uint32_t w = 0; w < W; w++) {
        now[w] = (uint32_t)tu_rng_range(&rng, 0, 3);
        p[2 + w] = tdev_entry(w / MT_COLS, w % MT_COLS, now[w]);
        if (now[w] == old[w]) continue; /* skipped */
        want_prog++;
        uint32_t po[2] = {old[w] == MT_LEVEL_NONE ? 0 : pp[old[w]], old[w] == MT_LEVEL_NONE ? 0 : pm[old[w]]};
        uint32_t pn[2] = {pp[now[w]], pm[now[w]]};
        for (uint32_t k = 0; k < 2; k++) {
          if (pn[k] > po[k]) want_set += pn[k] - po[k];
          else want_rst += po[k] - pn[k];
        }
      }
      TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 2 + W));
      assert_int_equal(d->out[0], want_prog);
      assert_int_equal(d->out[1], W - want_prog);
      assert_int_equal(d->out[2], 0); /* open loop never reports write-verify failures */
      tu_counters(d, c1);
      assert_int_equal(c1[MT_CNT_SET_PULSES] - c0[MT_CNT_SET_PULSES], want_set);
      assert_int_equal(c1[MT_CNT_RESET_PULSES] - c0[MT_CNT_RESET_PULSES], want_rst);
      assert_int_equal(c1[MT_CNT_VERIFY_READS] - c0[MT_CNT_VERIFY_READS], 0);
      assert_int_equal(c1[MT_CNT_CELLS_PROGRAMMED] - c0[MT_CNT_CELLS_PROGRAMMED], want_prog);
      uint32_t *img1 = tu_tile_image(d, 0);
      for (uint32_t w = 0; w < W; w++) {
        uint32_t po[2] = {old[w] == MT_LEVEL_NONE ? 0 : pp[old[w]], old[w] == MT_LEVEL_NONE ? 0 : pm[old[w]]};
        uint32_t pn[2] = {pp[now[w]], pm[now[w]]};
        for (uint32_t k = 0; k < 2; k++) {
          uint32_t np = img1[w * MT_WEIGHT_WORDS + 7 + k] - img0[w * MT_WEIGHT_WORDS + 7 + k];
          uint32_t want = now[w] == old[w] ? 0 : (pn[k] > po[k] ? pn[k] - po[k] : po[k] - pn[k]);
          assert_int_equal(np, want);
          if (!noisy) /* linear, noiseless, never clamped: exactly gmin + p*step */
            assert_int_equal(TU_LO(img1[w * MT_WEIGHT_WORDS] >> (16 * k)), 1000 + 1000 * pn[k]);
        }
        old[w] = now[w];
      }
      free(img0);
      free(img1);
    }
    free(p);
    tdev_free(d);
  }
}

/* A device that is only read is not disturbed: a forced write-verify of a weight already
 * within tolerance and a forced open-loop PROGRAM to the stored level apply no pulse and
 * leave both conductances as they are, though the level's relaxation spread is large (the
 * relaxation draw is still taken, so the lane advances by the same amount). Before the fix
 * each of these passes moved the devices by the level's spread. */
static void verify_without_pulse_does_not_move(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_WV_TOL] = 4000; /* wider than the spread: most forced passes only read */
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 82, 0));
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){82, 0}, 2));
  static const uint16_t gp[2] = {1000, 20000}, gm[2] = {1000, 1000};
  static const uint16_t pp[2] = {0, 19}, pm[2] = {0, 0}, sg[2] = {0, 1500};
  TU_OK(tu_set_levels(d, 2, gp, gm, pp, pm, sg));
  for (uint32_t flags = 0; flags <= MT_PROG_OPEN_LOOP; flags += MT_PROG_OPEN_LOOP) {
    uint32_t col = flags ? 5 : 4;
    uint32_t p[3] = {0, flags, tdev_entry(2, col, 1)};
    TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 3));
    assert_int_equal(d->out[0], 1);
    uint32_t g0 = tdev_probe(d, 0, 2, col, 0), g1 = tdev_probe(d, 0, 2, col, 1);
    uint32_t pulses0 = pulses_of(d, 2, col, 0);
    for (int rep = 0; rep < 8; rep++) {
      p[1] = flags | MT_PROG_FORCE;
      TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 3));
      assert_int_equal(d->out[0], 1); /* counted as programmed */
      /* the minus device targets gmin, where it is: never pulsed, never moved */
      assert_int_equal(pulses_of(d, 2, col, 1), 0);
      assert_int_equal(tdev_probe(d, 0, 2, col, 1), g1);
      if (pulses_of(d, 2, col, 0) != pulses0) {
        /* write-verify found the plus device out of tolerance and pulsed it: then it relaxes */
        assert_int_equal(flags, 0);
        g0 = tdev_probe(d, 0, 2, col, 0);
        pulses0 = pulses_of(d, 2, col, 0);
        continue;
      }
      assert_int_equal(tdev_probe(d, 0, 2, col, 0), g0);
    }
    if (flags) assert_int_equal(pulses_of(d, 2, col, 0), pulses0);
  }
  tdev_free(d);
}

/* ================================================================ 8. level sigma */

/* Level table word 2 is the spread added after programming. Noiseless device, wv_tol 0,
 * step 1000 from gmin 1000: write-verify lands exactly on 30000 (plus) and 1000 (minus,
 * = gmin) for level 1 (sigma 300) and on 20000/20000 for level 0 (sigma 0). 8192 weights
 * per level.
 *  - plus devices of level 1: g+ - 30000 ~ N(0, 300) (never clamped: 6.34*300 << range);
 *  - minus devices of level 1 target gmin, where they start: write-verify passes at the
 *    first read without a pulse, and a device only read does not relax, so they stay
 *    exactly at gmin (docs/device-model.md, "Relaxation");
 *  - level 0 devices are exact (pulsed, but sigma 0). */
static void level_sigma_spreads_conductance(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_fabricate(d, 81, 0));
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){81, 0}, 2));
  static const uint16_t gp[2] = {20000, 30000}, gm[2] = {20000, 1000};
  static const uint16_t pp[2] = {19, 29}, pm[2] = {19, 0}, sg[2] = {0, 300};
  TU_OK(tu_set_levels(d, 2, gp, gm, pp, pm, sg));
  uint32_t *p = malloc((2 + TU_WEIGHTS) * sizeof *p);
  p[0] = 0;
  p[1] = 0;
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) p[2 + w] = tdev_entry(w / MT_COLS, w % MT_COLS, w < TU_WEIGHTS / 2 ? 1 : 0);
  TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 2 + TU_WEIGHTS));
  free(p);
  assert_int_equal(d->out[0], TU_WEIGHTS);
  assert_int_equal(d->out[2], 0);
  uint16_t *g = malloc(TU_DEVICES * sizeof *g);
  tu_probe_tile(d, 0, g);
  tu_stat_t plus = {0};
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) {
    if (w < TU_WEIGHTS / 2) {
      tu_stat_add(&plus, g[2 * w] - 30000.0);
      assert_int_equal(g[2 * w + 1], 1000);
    } else {
      assert_int_equal(g[2 * w], 20000);
      assert_int_equal(g[2 * w + 1], 20000);
    }
  }
  tu_assert_normal("level sigma 300, unclamped", &plus, 0.0, tu_gnoise_sigma(300));
  free(g);
  tdev_free(d);
}

/* ================================================================ 12. counters */

static const uint32_t e_cost[MT_CNT_COUNT] = {
  [MT_CNT_SET_PULSES] = 0xFFFFFFF1u, [MT_CNT_RESET_PULSES] = 5, [MT_CNT_VERIFY_READS] = 7,
  [MT_CNT_CELL_READS] = 11,          [MT_CNT_MVMS] = 13,         [MT_CNT_DAC_CONVERSIONS] = 17,
  [MT_CNT_ADC_CONVERSIONS] = 19,     [MT_CNT_META_UPDATES] = 23,
};
static const uint32_t t_cost[MT_CNT_COUNT] = {
  [MT_CNT_SET_PULSES] = 0x80000003u, [MT_CNT_RESET_PULSES] = 31, [MT_CNT_VERIFY_READS] = 37,
  [MT_CNT_CELL_READS] = 41,          [MT_CNT_MVMS] = 43,         [MT_CNT_META_UPDATES] = 47,
};

/* Expected counters: events added by hand, energy and latency derived from them. */
static void check_counters(tdev_t *d, uint64_t *want) {
  want[MT_CNT_ENERGY_FJ] = 0;
  want[MT_CNT_LATENCY_PS] = 0;
  for (uint32_t i = 0; i < MT_CNT_ENERGY_FJ; i++) {
    want[MT_CNT_ENERGY_FJ] += want[i] * e_cost[i];
    want[MT_CNT_LATENCY_PS] += want[i] * t_cost[i];
  }
  uint64_t got[MT_CNT_COUNT];
  tu_counters(d, got);
  for (uint32_t i = 0; i < MT_CNT_COUNT; i++) {
    if (got[i] != want[i]) print_message("counter %s: got %llu want %llu\n", mt_cnt_names[i],
                                         (unsigned long long)got[i], (unsigned long long)want[i]);
    assert_int_equal(got[i], want[i]);
  }
}

static void counters_energy_latency_exact(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_DAC_BITS] = 8;
  cfg[MT_CFG_ADC_BITS] = 16;
  cfg[MT_CFG_ADC_MUL] = 1;
  cfg[MT_CFG_ADC_SHIFT] = 0;
  cfg[MT_CFG_WV_MAX_ITER] = 2;
  cfg[MT_CFG_E_SET] = e_cost[MT_CNT_SET_PULSES];
  cfg[MT_CFG_E_RST] = e_cost[MT_CNT_RESET_PULSES];
  cfg[MT_CFG_E_VERIFY] = e_cost[MT_CNT_VERIFY_READS];
  cfg[MT_CFG_E_READ] = e_cost[MT_CNT_CELL_READS];
  cfg[MT_CFG_E_MVM] = e_cost[MT_CNT_MVMS];
  cfg[MT_CFG_E_DAC] = e_cost[MT_CNT_DAC_CONVERSIONS];
  cfg[MT_CFG_E_ADC] = e_cost[MT_CNT_ADC_CONVERSIONS];
  cfg[MT_CFG_E_META] = e_cost[MT_CNT_META_UPDATES];
  cfg[MT_CFG_T_SET] = t_cost[MT_CNT_SET_PULSES];
  cfg[MT_CFG_T_RST] = t_cost[MT_CNT_RESET_PULSES];
  cfg[MT_CFG_T_VERIFY] = t_cost[MT_CNT_VERIFY_READS];
  cfg[MT_CFG_T_READ] = t_cost[MT_CNT_CELL_READS];
  cfg[MT_CFG_T_MVM] = t_cost[MT_CNT_MVMS];
  cfg[MT_CFG_T_META] = t_cost[MT_CNT_META_UPDATES];
  uint64_t want[MT_CNT_COUNT] = {0};
  /* Set-up commands cost nothing. */
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_run(d, MT_OP_SEED, (uint32_t[]){1, 2}, 2));
  TU_OK(tdev_fabricate(d, 91, 0));
  static const uint16_t gp[3] = {1000, 3000, 1000}, gm[3] = {1000, 1000, 4000};
  static const uint16_t pp[3] = {0, 2, 0}, pm[3] = {0, 0, 3}, sg[3] = {0, 0, 0};
  TU_OK(tu_set_levels(d, 3, gp, gm, pp, pm, sg));
  uint32_t *img = tu_tile_image(d, 0);
  free(img);
  check_counters(d, want);
  /* PULSE: 5 SET, 3 RESET, 2 SET. */
  uint32_t pl[4] = {0, tdev_pulse_entry(0, 0, 0, 5), tdev_pulse_entry(0, 0, 0, -3),
                    tdev_pulse_entry(0, 1, 1, 2)};
  TU_OK(tdev_run(d, MT_OP_PULSE, pl, 4));
  want[MT_CNT_SET_PULSES] += 7;
  want[MT_CNT_RESET_PULSES] += 3;
  check_counters(d, want);
  /* READ_CELLS 2x3 region: 12 device reads; PROBE: none. */
  uint32_t rd[6] = {0, 0, 2, 0, 3, 0};
  TU_OK(tdev_run(d, MT_OP_READ_CELLS, rd, 6));
  want[MT_CNT_CELL_READS] += 12;
  rd[5] = MT_READ_PROBE;
  TU_OK(tdev_run(d, MT_OP_READ_CELLS, rd, 6));
  check_counters(d, want);
  /* MVM 3 vectors of 5 rows on 7 columns, small inputs: no clips. */
  int32_t x[15] = {1, -2, 3, 0, 1, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1};
  TU_OK(tu_mvm(d, 0, 3, 5, 7, x, 0));
  want[MT_CNT_MVMS] += 3;
  want[MT_CNT_DAC_CONVERSIONS] += 15;
  want[MT_CNT_ADC_CONVERSIONS] += 21;
  check_counters(d, want);
  /* One clipped input (200 > 127) driving (0,0) = 3000 - 1000: 127*2000 > 32767. */
  int32_t big = 200;
  TU_OK(tu_mvm(d, 0, 1, 1, 1, &big, 0));
  assert_int_equal(tu_unpack16(d->out, 0), 32767);
  want[MT_CNT_MVMS] += 1;
  want[MT_CNT_DAC_CONVERSIONS] += 1;
  want[MT_CNT_ADC_CONVERSIONS] += 1;
  want[MT_CNT_DAC_CLIPS] += 1;
  want[MT_CNT_ADC_CLIPS] += 1;
  check_counters(d, want);
  /* Write-verify (2,0) -> level 1: plus 2 SET + 3 reads, minus 0 pulses + 1 read. */
  uint32_t pr[3] = {0, 0, tdev_entry(2, 0, 1)};
  TU_OK(tdev_run(d, MT_OP_PROGRAM, pr, 3));
  assert_int_equal(d->out[0], 1);
  want[MT_CNT_SET_PULSES] += 2;
  want[MT_CNT_VERIFY_READS] += 4;
  want[MT_CNT_CELLS_PROGRAMMED] += 1;
  check_counters(d, want);
  /* Same level again: skipped. */
  TU_OK(tdev_run(d, MT_OP_PROGRAM, pr, 3));
  assert_int_equal(d->out[1], 1);
  want[MT_CNT_UPDATES_SKIPPED] += 1;
  check_counters(d, want);
  /* (3,0) -> level 2: minus needs 3 pulses, limit 2: 2 SET, 3 reads, one failure; plus
   * already at target: 1 read. */
  pr[2] = tdev_entry(3, 0, 2);
  TU_OK(tdev_run(d, MT_OP_PROGRAM, pr, 3));
  assert_int_equal(d->out[2], 1);
  assert_int_equal(tdev_probe(d, 0, 3, 0, 1), 3000);
  want[MT_CNT_SET_PULSES] += 2;
  want[MT_CNT_VERIFY_READS] += 4;
  want[MT_CNT_WV_FAILURES] += 1;
  want[MT_CNT_CELLS_PROGRAMMED] += 1;
  check_counters(d, want);
  /* Open loop (2,0) level 1 -> 2: p (2,0) -> (0,3): 2 RESET, 3 SET. */
  pr[1] = MT_PROG_OPEN_LOOP;
  pr[2] = tdev_entry(2, 0, 2);
  TU_OK(tdev_run(d, MT_OP_PROGRAM, pr, 3));
  want[MT_CNT_SET_PULSES] += 3;
  want[MT_CNT_RESET_PULSES] += 2;
  want[MT_CNT_CELLS_PROGRAMMED] += 1;
  check_counters(d, want);
  /* Forced open loop to the same level: no pulses, but programmed. */
  pr[1] = MT_PROG_OPEN_LOOP | MT_PROG_FORCE;
  TU_OK(tdev_run(d, MT_OP_PROGRAM, pr, 3));
  assert_int_equal(d->out[0], 1);
  want[MT_CNT_CELLS_PROGRAMMED] += 1;
  check_counters(d, want);
  /* The energy really exceeds 32 bits (STATS_GET returns 64-bit values). */
  assert_true(want[MT_CNT_ENERGY_FJ] > 0xFFFFFFFFull);
  /* STATS_RESET zeroes everything; counting restarts from zero. */
  TU_OK(tdev_run(d, MT_OP_STATS_RESET, NULL, 0));
  memset(want, 0, sizeof want);
  check_counters(d, want);
  TU_OK(tu_pulse(d, 0, 9, 9, 1, -1));
  want[MT_CNT_RESET_PULSES] = 1;
  check_counters(d, want);
  tdev_free(d);
}

/* ================================================================ 13. determinism */

typedef struct {
  uint32_t op;
  uint32_t len;
  uint32_t *p;
} cmd_t;

static uint32_t script_add(cmd_t *s, uint32_t n, uint32_t op, const uint32_t *p, uint32_t len) {
  s[n].op = op;
  s[n].len = len;
  s[n].p = malloc((len ? len : 1) * sizeof *p);
  if (len) memcpy(s[n].p, p, len * sizeof *p);
  return n + 1;
}

/* A session with every noise source on: fabricate two tiles, program, pulse, MVMs in
 * both noise modes, noisy reads, counters. */
static uint32_t build_script(cmd_t *s, uint64_t noise_seed) {
  uint32_t n = 0, cfg[MT_CFG_COUNT], buf[2 + 4 * MT_COLS];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_D2D_GMIN] = 200;
  cfg[MT_CFG_D2D_GMAX] = 500;
  cfg[MT_CFG_D2D_STEP] = 6554;
  cfg[MT_CFG_A_SET] = 1500;
  cfg[MT_CFG_A_RST] = 2500;
  cfg[MT_CFG_D2D_A] = 6554;
  cfg[MT_CFG_P_STUCK_LOW] = tu_q32(0.01);
  cfg[MT_CFG_P_STUCK_HIGH] = tu_q32(0.01);
  cfg[MT_CFG_ENDURANCE] = 500;
  cfg[MT_CFG_C2C_MUL] = 6554;
  cfg[MT_CFG_C2C_ADD] = 50;
  cfg[MT_CFG_READ_SIGMA] = 30;
  cfg[MT_CFG_READ_MODE] = 1;
  cfg[MT_CFG_WV_TOL] = 400;
  cfg[MT_CFG_WV_MAX_ITER] = 40;
  cfg[MT_CFG_ADC_SHIFT] = 12;
  n = script_add(s, n, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  uint32_t seed[2] = {(uint32_t)noise_seed, (uint32_t)(noise_seed >> 32)};
  n = script_add(s, n, MT_OP_SEED, seed, 2);
  uint32_t fab0[3] = {42, 0, 0}, fab1[3] = {43, 0, 1};
  n = script_add(s, n, MT_OP_FABRICATE, fab0, 3);
  n = script_add(s, n, MT_OP_FABRICATE, fab1, 3);
  uint32_t lv[1 + 8 * 3] = {8};
  for (uint32_t q = 0; q < 8; q++) {
    lv[1 + 3 * q] = (3000 + 2000 * q) | (uint32_t)(17000 - 2000 * q) << 16;
    lv[2 + 3 * q] = (2 * q) | (14 - 2 * q) << 16;
    lv[3 + 3 * q] = 40 * q;
  }
  n = script_add(s, n, MT_OP_SET_LEVELS, lv, 1 + 8 * 3);
  tu_rng_t rng = {0xD5};
  buf[0] = 0;
  buf[1] = 0;
  for (uint32_t w = 0; w < 4 * MT_COLS; w++)
    buf[2 + w] = tdev_entry(w / MT_COLS, w % MT_COLS, (uint32_t)tu_rng_range(&rng, 0, 7));
  n = script_add(s, n, MT_OP_PROGRAM, buf, 2 + 4 * MT_COLS);
  buf[0] = 1;
  for (uint32_t w = 0; w < 4 * MT_COLS; w++)
    buf[1 + w] = tdev_pulse_entry(w / MT_COLS, w % MT_COLS, w & 1, tu_rng_range(&rng, -20, 63));
  n = script_add(s, n, MT_OP_PULSE, buf, 1 + 4 * MT_COLS);
  uint32_t mvm[4 + 4 * 64] = {0, 4, MT_ROWS, MT_COLS};
  for (uint32_t i = 0; i < 4 * 64; i++) mvm[4 + i] = (uint32_t)tu_rng_next(&rng) & 0x00FF00FFu;
  n = script_add(s, n, MT_OP_MVM, mvm, 4 + 4 * 64);
  cfg[MT_CFG_READ_MODE] = 2;
  n = script_add(s, n, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  mvm[0] = 1;
  n = script_add(s, n, MT_OP_MVM, mvm, 4 + 4 * 64);
  uint32_t rd[6] = {1, 0, 8, 0, MT_COLS, 0};
  n = script_add(s, n, MT_OP_READ_CELLS, rd, 6);
  n = script_add(s, n, MT_OP_STATS_GET, NULL, 0);
  return n;
}

/* Runs a script command by command; returns the concatenated responses (headers and
 * payloads) in a fresh buffer, length in *len. */
static uint32_t *run_script(tdev_t *d, const cmd_t *s, uint32_t n, uint32_t *len) {
  uint32_t *all = malloc(4 * MT_MAX_PAYLOAD * sizeof *all);
  uint32_t w = 0;
  for (uint32_t i = 0; i < n; i++) {
    TU_OK(tdev_run(d, s[i].op, s[i].p, s[i].len));
    uint32_t words = 2 + d->out_len;
    assert_true(w + words <= 4 * MT_MAX_PAYLOAD);
    memcpy(all + w, d->rsp, words * sizeof *all);
    w += words;
  }
  *len = w;
  return all;
}

static void determinism_same_script_same_bytes(void **state) {
  (void)state;
  cmd_t s[16], s2[16];
  uint32_t n = build_script(s, 0x5EED0001ull), n2 = build_script(s2, 0x5EED0002ull);
  tdev_t *a = tdev_new(2), *b = tdev_new(2), *c = tdev_new(2), *e = tdev_new(2);
  uint32_t la, lb, lc;
  uint32_t *ra = run_script(a, s, n, &la), *rb = run_script(b, s, n, &lb);
  assert_int_equal(la, lb);
  assert_memory_equal(ra, rb, la * sizeof *ra);
  /* The same script as one command buffer through mt_kernel: the same response words. */
  uint32_t *cmd = malloc(4 * MT_MAX_PAYLOAD * sizeof *cmd), *rsp = malloc(4 * MT_MAX_PAYLOAD * sizeof *rsp);
  uint32_t nc = 0;
  for (uint32_t i = 0; i < n; i++) {
    cmd[nc++] = s[i].op << 24 | 0x5Au << 16;
    cmd[nc++] = s[i].len;
    memcpy(cmd + nc, s[i].p, s[i].len * sizeof *cmd);
    nc += s[i].len;
  }
  uint32_t consumed = 0;
  uint32_t nr = mt_kernel(cmd, nc, rsp, 4 * MT_MAX_PAYLOAD, &e->regs, e->tiles, e->n_tiles, &consumed);
  assert_int_equal(consumed, nc);
  assert_int_equal(nr, la);
  assert_memory_equal(rsp, ra, la * sizeof *ra);
  /* Identical state images. */
  uint32_t *ga = tu_global_image(a), *gb = tu_global_image(b), *ge = tu_global_image(e);
  assert_memory_equal(ga, gb, MT_GLOBAL_WORDS * sizeof *ga);
  assert_memory_equal(ga, ge, MT_GLOBAL_WORDS * sizeof *ga);
  for (uint32_t t = 0; t < 2; t++) {
    uint32_t *ta = tu_tile_image(a, t), *tb = tu_tile_image(b, t), *te = tu_tile_image(e, t);
    assert_memory_equal(ta, tb, MT_TILE_WORDS * sizeof *ta);
    assert_memory_equal(ta, te, MT_TILE_WORDS * sizeof *ta);
    free(ta);
    free(tb);
    free(te);
  }
  /* Another SEED: same fabrication (device parameters and faults), different noise. */
  uint32_t *rc = run_script(c, s2, n2, &lc);
  uint32_t off_a = 0, off_c = 0, differing_cmds = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t len_a = 2 + ra[off_a + 1], len_c = 2 + rc[off_c + 1];
    assert_int_equal(len_a, len_c);
    int same = memcmp(ra + off_a, rc + off_c, len_a * sizeof *ra) == 0;
    if (s[i].op == MT_OP_MVM || s[i].op == MT_OP_READ_CELLS || s[i].op == MT_OP_STATS_GET) {
      assert_false(same);
      differing_cmds++;
    }
    off_a += len_a;
    off_c += len_c;
  }
  assert_int_equal(differing_cmds, 4);
  uint32_t *t0a = tu_tile_image(a, 0), *t0c = tu_tile_image(c, 0);
  uint32_t g_diff = 0;
  for (uint32_t w = 0; w < TU_WEIGHTS; w++) {
    for (uint32_t k = 1; k <= 6; k++)
      assert_int_equal(t0a[w * MT_WEIGHT_WORDS + k], t0c[w * MT_WEIGHT_WORDS + k]);
    assert_int_equal(t0a[w * MT_WEIGHT_WORDS + 9] & 0xFFFFu, t0c[w * MT_WEIGHT_WORDS + 9] & 0xFFFFu);
    g_diff += t0a[w * MT_WEIGHT_WORDS] != t0c[w * MT_WEIGHT_WORDS];
  }
  assert_true(g_diff > 256); /* programmed weights ended at different conductances */
  free(t0a);
  free(t0c);
  free(ga);
  free(gb);
  free(ge);
  free(cmd);
  free(rsp);
  free(ra);
  free(rb);
  free(rc);
  for (uint32_t i = 0; i < n; i++) free(s[i].p);
  for (uint32_t i = 0; i < n2; i++) free(s2[i].p);
  tdev_free(a);
  tdev_free(b);
  tdev_free(c);
  tdev_free(e);
}

/* ================================================================ bit-exact reference */

/* The model is the bit-exact reference for the RTL, so the order of draws is part of the
 * contract: fabrication takes, per weight in row-major order, the plus then the minus
 * device from fabrication lane col % LANES (lanes seeded with seed ^ tile << 48), each
 * device drawing gmin, gmax, step_set, step_rst, a_set, a_rst (one Gaussian each) and
 * one uniform for its fault; a pulse takes one Gaussian from noise lane col % LANES
 * whatever the device's state; write-verify reads (one Gaussian each) and pulses on the
 * same lane, plus device then minus device, each followed by one relaxation draw (applied
 * only to a device that took a pulse). This
 * test re-states that arithmetic independently (tu_ref_*) and compares whole tile
 * images and the lane states after fabrication, pulse trains and programming. */
typedef struct {
  int64_t g, gmin, gmax, ss, sr, as, ar;
  uint32_t fault, pulses;
} ref_dev_t;

static uint16_t ref_vary(uint32_t x, uint32_t rel, mt_xoshiro_t *r) {
  int64_t amp = (int64_t)(((uint64_t)x * rel) >> 16);
  return tu_ref_clamp((int64_t)x + tu_ref_gnoise(amp, tu_ref_z(r)), 0, 65535);
}

static void ref_fabricate(const uint32_t *cfg, mt_xoshiro_t *r, ref_dev_t *d) {
  d->gmin = tu_ref_clamp(cfg[MT_CFG_G_MIN] + tu_ref_gnoise(cfg[MT_CFG_D2D_GMIN], tu_ref_z(r)), 0, 65535);
  d->gmax = tu_ref_clamp(cfg[MT_CFG_G_MAX] + tu_ref_gnoise(cfg[MT_CFG_D2D_GMAX], tu_ref_z(r)), d->gmin, 65535);
  d->ss = ref_vary(cfg[MT_CFG_STEP_SET], cfg[MT_CFG_D2D_STEP], r);
  d->sr = ref_vary(cfg[MT_CFG_STEP_RST], cfg[MT_CFG_D2D_STEP], r);
  d->as = ref_vary(cfg[MT_CFG_A_SET], cfg[MT_CFG_D2D_A], r);
  d->ar = ref_vary(cfg[MT_CFG_A_RST], cfg[MT_CFG_D2D_A], r);
  uint64_t u = mt_xoshiro_next(r), lo = cfg[MT_CFG_P_STUCK_LOW], hi = lo + cfg[MT_CFG_P_STUCK_HIGH];
  d->fault = u < lo ? MT_FAULT_STUCK_LOW : (u < hi ? MT_FAULT_STUCK_HIGH : MT_FAULT_NONE);
  d->g = d->fault == MT_FAULT_STUCK_HIGH ? d->gmax : d->gmin;
  d->pulses = 0;
}

static void ref_pulse(const uint32_t *cfg, mt_xoshiro_t *r, ref_dev_t *d, int set) {
  int16_t z = tu_ref_z(r);
  if (d->fault == MT_FAULT_NONE) {
    int64_t dg = set ? d->ss + ((d->as * (d->gmax - d->g)) >> 16) : d->sr + ((d->ar * (d->g - d->gmin)) >> 16);
    int64_t amp = ((dg * cfg[MT_CFG_C2C_MUL]) >> 16) + cfg[MT_CFG_C2C_ADD];
    int64_t dgn = dg + tu_ref_gnoise(amp, z);
    d->g = tu_ref_clamp(set ? d->g + dgn : d->g - dgn, d->gmin, d->gmax);
  }
  d->pulses++;
  if (cfg[MT_CFG_ENDURANCE] && d->pulses >= cfg[MT_CFG_ENDURANCE] && d->fault == MT_FAULT_NONE)
    d->fault = MT_FAULT_WORN;
}

static uint32_t ref_write_verify(const uint32_t *cfg, mt_xoshiro_t *r, ref_dev_t *d, int64_t target) {
  for (uint32_t it = 0;; it++) {
    int64_t err = d->g + tu_ref_gnoise(cfg[MT_CFG_READ_SIGMA], tu_ref_z(r)) - target;
    if (err <= (int64_t)cfg[MT_CFG_WV_TOL] && -err <= (int64_t)cfg[MT_CFG_WV_TOL]) return 1;
    if (it == cfg[MT_CFG_WV_MAX_ITER]) return 0;
    ref_pulse(cfg, r, d, err < 0);
  }
}

/* A PULSE command of n random entries on rows row0..row1 (n pulses in nlo..nhi each) into p,
 * applied to the reference as well: run by the caller. Returns the payload length. */
static uint32_t ref_pulse_train(const uint32_t *cfg, tu_rng_t *rng, mt_xoshiro_t *lanes,
                                ref_dev_t (*ref)[MT_COLS][2], uint32_t *p, uint32_t n,
                                int32_t row0, int32_t row1, int32_t nlo, int32_t nhi) {
  p[0] = 1;
  for (uint32_t e = 0; e < n; e++) {
    uint32_t i = (uint32_t)tu_rng_range(rng, row0, row1), j = (uint32_t)tu_rng_range(rng, 0, MT_COLS - 1);
    uint32_t k = (uint32_t)tu_rng_range(rng, 0, 1);
    int32_t c = tu_rng_range(rng, nlo, nhi);
    p[1 + e] = tdev_pulse_entry(i, j, k, c);
    for (int32_t x = 0; x < abs(c); x++) ref_pulse(cfg, &lanes[j % MT_LANES], &ref[i][j][k], c > 0);
  }
  return 1 + n;
}

static void ref_compare_tile(tdev_t *d, uint32_t tile, ref_dev_t (*ref)[MT_COLS][2],
                             uint16_t (*level)[MT_COLS], mt_xoshiro_t *lanes) {
  uint32_t *img = tu_tile_image(d, tile);
  for (uint32_t i = 0; i < MT_ROWS; i++)
    for (uint32_t j = 0; j < MT_COLS; j++) {
      const uint32_t *w = img + TU_W(i, j) * MT_WEIGHT_WORDS;
      const ref_dev_t *p = &ref[i][j][0], *m = &ref[i][j][1];
      uint32_t want[10] = {
        (uint32_t)p->g | (uint32_t)m->g << 16,          (uint32_t)p->gmin | (uint32_t)p->gmax << 16,
        (uint32_t)m->gmin | (uint32_t)m->gmax << 16,    (uint32_t)p->ss | (uint32_t)p->sr << 16,
        (uint32_t)m->ss | (uint32_t)m->sr << 16,        (uint32_t)p->as | (uint32_t)p->ar << 16,
        (uint32_t)m->as | (uint32_t)m->ar << 16,        p->pulses,
        m->pulses, p->fault | m->fault << 8 | (uint32_t)level[i][j] << 16};
      for (uint32_t k = 0; k < 10; k++) {
        if (w[k] != want[k]) print_message("weight (%u,%u) word %u: got %08x want %08x\n", i, j, k, w[k], want[k]);
        assert_int_equal(w[k], want[k]);
      }
    }
  free(img);
  if (lanes) {
    uint32_t got[4 * MT_LANES];
    tu_lanes(d, got);
    assert_memory_equal(got, lanes, sizeof got);
  }
}

static void bit_exact_fabrication_pulses_programming(void **state) {
  (void)state;
  tdev_t *d = tdev_new(2);
  uint32_t cfg[MT_CFG_COUNT];
  tu_cfg_quiet(cfg);
  cfg[MT_CFG_G_MIN] = 2000;
  cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_D2D_GMIN] = 300;
  cfg[MT_CFG_D2D_GMAX] = 700;
  cfg[MT_CFG_STEP_SET] = 900;
  cfg[MT_CFG_STEP_RST] = 1100;
  cfg[MT_CFG_D2D_STEP] = 6554;
  cfg[MT_CFG_A_SET] = 1500;
  cfg[MT_CFG_A_RST] = 2500;
  cfg[MT_CFG_D2D_A] = 13107;
  cfg[MT_CFG_P_STUCK_LOW] = tu_q32(0.03);
  cfg[MT_CFG_P_STUCK_HIGH] = tu_q32(0.02);
  cfg[MT_CFG_ENDURANCE] = 40;
  cfg[MT_CFG_C2C_MUL] = 6554;
  cfg[MT_CFG_C2C_ADD] = 80;
  cfg[MT_CFG_READ_SIGMA] = 60;
  cfg[MT_CFG_WV_TOL] = 200;
  cfg[MT_CFG_WV_MAX_ITER] = 30;
  TU_OK(tdev_configure(d, cfg));
  const uint64_t fseed = 0xFAB0000012345678ull, nseed = 0x0000BEEF0000CAFEull;
  TU_OK(tdev_fabricate(d, fseed, 1));
  static ref_dev_t ref[MT_ROWS][MT_COLS][2];
  static uint16_t level[MT_ROWS][MT_COLS];
  mt_xoshiro_t fab[MT_LANES], lanes[MT_LANES];
  mt_lanes_seed(fab, fseed ^ (1ull << 48));
  for (uint32_t i = 0; i < MT_ROWS; i++)
    for (uint32_t j = 0; j < MT_COLS; j++) {
      for (uint32_t k = 0; k < 2; k++) ref_fabricate(cfg, &fab[j % MT_LANES], &ref[i][j][k]);
      level[i][j] = MT_LEVEL_NONE;
    }
  ref_compare_tile(d, 1, ref, level, NULL);
  /* Pulse trains: 3000 random entries on rows 0..7 (some devices wear out at 40). */
  TU_OK(tu_seed(d, nseed));
  mt_lanes_seed(lanes, nseed);
  tu_rng_t rng = {0xB17};
  uint32_t *p = malloc(3001 * sizeof *p);
  TU_OK(tdev_run(d, MT_OP_PULSE, p,
                 ref_pulse_train(cfg, &rng, lanes, ref, p, 3000, 0, 7, -63, 63)));
  uint32_t worn = 0;
  for (uint32_t i = 0; i < 8; i++)
    for (uint32_t j = 0; j < MT_COLS; j++) worn += (ref[i][j][0].fault == MT_FAULT_WORN) + (ref[i][j][1].fault == MT_FAULT_WORN);
  assert_true(worn > 10);
  ref_compare_tile(d, 1, ref, level, (mt_xoshiro_t *)lanes);
  /* Programming: 6 levels with spreads; 600 random requests on rows 6..13 (repeats give
   * skips, some weights were pulsed and some are stuck or worn), write-verify, open
   * loop and forced requests in turn. */
  uint32_t lt[1 + 6 * 3] = {6};
  for (uint32_t q = 0; q < 6; q++) {
    lt[1 + 3 * q] = (4000 + 9000 * q) | (uint32_t)(49000 - 9000 * q) << 16;
    lt[2 + 3 * q] = (3 * q) | (15 - 3 * q) << 16;
    lt[3 + 3 * q] = 50 * q;
  }
  TU_OK(tdev_run(d, MT_OP_SET_LEVELS, lt, 1 + 6 * 3));
  static const uint32_t flag_sets[3] = {0, MT_PROG_OPEN_LOOP, MT_PROG_FORCE};
  for (uint32_t round = 0; round < 3; round++) {
    uint32_t flags = flag_sets[round], programmed = 0, fails = 0;
    p[0] = 1;
    p[1] = flags;
    for (uint32_t e = 0; e < 600; e++) {
      uint32_t i = (uint32_t)tu_rng_range(&rng, 6, 13), j = (uint32_t)tu_rng_range(&rng, 0, MT_COLS - 1);
      uint32_t q = (uint32_t)tu_rng_range(&rng, 0, 5);
      p[2 + e] = tdev_entry(i, j, q);
      if (level[i][j] == q && !(flags & MT_PROG_FORCE)) continue;
      mt_xoshiro_t *r = &lanes[j % MT_LANES];
      for (uint32_t k = 0; k < 2; k++) {
        ref_dev_t *dv = &ref[i][j][k];
        uint32_t pulses_before = dv->pulses;
        if (flags & MT_PROG_OPEN_LOOP) {
          int32_t po = level[i][j] == MT_LEVEL_NONE ? 0 : (int32_t)((lt[2 + 3 * level[i][j]] >> (16 * k)) & 0xFFFFu);
          int32_t pn = (int32_t)((lt[2 + 3 * q] >> (16 * k)) & 0xFFFFu);
          for (int32_t c = 0; c < abs(pn - po); c++) ref_pulse(cfg, r, dv, pn > po);
        } else {
          fails += !ref_write_verify(cfg, r, dv, (lt[1 + 3 * q] >> (16 * k)) & 0xFFFFu);
        }
        int16_t z = tu_ref_z(r); /* taken whether or not the device was pulsed */
        if (dv->fault == MT_FAULT_NONE && dv->pulses != pulses_before) dv->g = tu_ref_clamp(dv->g + tu_ref_gnoise(lt[3 + 3 * q], z), dv->gmin, dv->gmax);
      }
      level[i][j] = (uint16_t)q;
      programmed++;
    }
    TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 602));
    assert_int_equal(d->out[0], programmed);
    assert_int_equal(d->out[1], 600 - programmed);
    assert_int_equal(d->out[2], fails);
    if (round == 0) assert_true(fails > 0 && programmed < 600);
    ref_compare_tile(d, 1, ref, level, (mt_xoshiro_t *)lanes);
  }
  /* Without relative c2c noise (the model's pulses take another path then): a pulse train on
   * rows 14..17 and write-verify on rows 18..21, both with the remaining noise. */
  cfg[MT_CFG_C2C_MUL] = 0;
  cfg[MT_CFG_C2C_ADD] = 300;
  cfg[MT_CFG_ENDURANCE] = 0;
  TU_OK(tdev_configure(d, cfg));
  TU_OK(tdev_run(d, MT_OP_PULSE, p,
                 ref_pulse_train(cfg, &rng, lanes, ref, p, 2000, 14, 17, -64, 63)));
  ref_compare_tile(d, 1, ref, level, (mt_xoshiro_t *)lanes);
  p[1] = 0;
  for (uint32_t e = 0; e < 600; e++) {
    uint32_t i = (uint32_t)tu_rng_range(&rng, 18, 21), j = (uint32_t)tu_rng_range(&rng, 0, MT_COLS - 1);
    uint32_t q = (uint32_t)tu_rng_range(&rng, 0, 5);
    p[2 + e] = tdev_entry(i, j, q);
    if (level[i][j] == q) continue;
    for (uint32_t k = 0; k < 2; k++) {
      ref_dev_t *dv = &ref[i][j][k];
      uint32_t pulses_before = dv->pulses;
      (void)ref_write_verify(cfg, &lanes[j % MT_LANES], dv, (lt[1 + 3 * q] >> (16 * k)) & 0xFFFFu);
      int16_t z = tu_ref_z(&lanes[j % MT_LANES]);
      if (dv->fault == MT_FAULT_NONE && dv->pulses != pulses_before) dv->g = tu_ref_clamp(dv->g + tu_ref_gnoise(lt[3 + 3 * q], z), dv->gmin, dv->gmax);
    }
    level[i][j] = (uint16_t)q;
  }
  TU_OK(tdev_run(d, MT_OP_PROGRAM, p, 602));
  ref_compare_tile(d, 1, ref, level, (mt_xoshiro_t *)lanes);
  free(p);
  tdev_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(noise_equals_scaled_gauss_draw),
    cmocka_unit_test(pulse_linear_curve_and_saturation),
    cmocka_unit_test(pulse_nonlinear_set_matches_closed_form),
    cmocka_unit_test(pulse_asymmetric_reset_curve),
    cmocka_unit_test(pulse_saturates_at_device_bounds),
    cmocka_unit_test(c2c_relative_sigma),
    cmocka_unit_test(c2c_additive_sigma),
    cmocka_unit_test(c2c_combined_reset),
    cmocka_unit_test(d2d_statistics),
    cmocka_unit_test(d2d_seed_and_tile_dependence),
    cmocka_unit_test(stuck_at_fractions_and_behaviour),
    cmocka_unit_test(endurance_freezes_device),
    cmocka_unit_test(write_verify_converges_and_counts),
    cmocka_unit_test(open_loop_pulse_counts),
    cmocka_unit_test(verify_without_pulse_does_not_move),
    cmocka_unit_test(level_sigma_spreads_conductance),
    cmocka_unit_test(counters_energy_latency_exact),
    cmocka_unit_test(determinism_same_script_same_bytes),
    cmocka_unit_test(bit_exact_fabrication_pulses_programming),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
