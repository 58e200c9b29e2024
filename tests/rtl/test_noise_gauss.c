/* The whole RTL noise path (sim/mt_noise_gauss.sv: rtl/mt_noise_lanes.sv seeding and lanes
 * feeding rtl/mt_gauss_icdf.sv): 2^20 Gaussian draws from one lane are bit-identical to
 * mt_lanes_seed + mt_gauss in hls/mt_rng.c, and pass the statistical checks of
 * tests/hls/test_rng.c with the same bounds (4 standard errors; KS < 1.95/sqrt(n)). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_rng.h"
#include "mt_rtl_tb.h"

#define N_STAT (1u << 20)
#define Q12 4096.0
#define STAT_SEED 0x5EED5EED00000001ull /* the seed of test_rng.c's one-lane check */

static tb_ng_t *g_tb;
static int16_t *g_z; /* RTL draws of lane 0 */

static const double P_TAIL3 = 2.6998e-3; /* P(|Z| > 3) */
static const double P_TAIL4 = 6.334e-5;  /* P(|Z| > 4) */

/* Seeds, waits for ready_o, then draws n samples from `lane`, draw_i high on the cycles
 * where draw_pat (when non-zero) yields an odd number. Returns the samples in order. */
static void rtl_draws(uint64_t seed, unsigned lane, size_t n, uint32_t draw_pat, int16_t *z) {
  mt_xoshiro_t pat = {{draw_pat, 0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u}};
  size_t in = 0, got = 0;
  int ready;
  int16_t zz;
  unsigned guard = 0;
  (void)tb_ng_cycle(g_tb, 1, seed, lane, 0, &ready, &zz);
  do {
    (void)tb_ng_cycle(g_tb, 0, 0, lane, 0, &ready, &zz);
    assert_true(++guard <= MT_SEED_BUSY(MT_LANES) + 1u); /* docs/rtl.md */
  } while (!ready);
  while (got < n) {
    int draw = in < n && (draw_pat == 0u || (mt_xoshiro_next(&pat) & 1u));
    if (tb_ng_cycle(g_tb, 0, 0, lane, draw, &ready, &zz)) {
      z[got++] = zz;
    }
    assert_true(ready);
    in += (size_t)draw;
  }
}

static int setup(void **state) {
  (void)state;
  g_tb = tb_ng_open();
  g_z = malloc(sizeof *g_z * N_STAT);
  if (!g_tb || !g_z) return -1;
  rtl_draws(STAT_SEED, 0, N_STAT, 0, g_z);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tb_ng_close(g_tb);
  free(g_z);
  return 0;
}

static size_t count_mismatch(const int16_t *z, uint64_t seed, unsigned lane, size_t n) {
  mt_xoshiro_t lanes[MT_LANES];
  size_t i, bad = 0;
  mt_lanes_seed(lanes, seed);
  for (i = 0; i < n; i++) {
    int16_t want = mt_gauss(&lanes[lane]);
    if (z[i] != want && bad++ < 5u) {
      print_message("lane %u draw %zu: rtl %d, C %d\n", lane, i, z[i], want);
    }
  }
  return bad;
}

static void lane0_draws_match_c(void **state) {
  (void)state;
  assert_int_equal(count_mismatch(g_z, STAT_SEED, 0, N_STAT), 0);
}

static void stream_vector(void **state) {
  /* docs/protocol.md: after SEED(1), lane 0's first draws; test_rng.c: lane 15's. */
  static const int16_t want0[8] = {1, -5205, -1530, -5366, 2127, -3065, -736, -7094};
  static const int16_t want15[8] = {-6995, 2343, -2255, -3065, -1815, 8744, 4702, -1236};
  int16_t z[8];
  (void)state;
  rtl_draws(1, 0, 8, 0, z);
  assert_memory_equal(z, want0, sizeof z);
  rtl_draws(1, 15, 8, 0, z);
  assert_memory_equal(z, want15, sizeof z);
}

static void other_lanes_with_bubbles(void **state) {
  /* draw_i on about half of the cycles, lanes 5 and 15 */
  static int16_t z[1u << 16];
  (void)state;
  rtl_draws(0xABCDEF0123456789ull, 5, 1u << 16, 0x77u, z);
  assert_int_equal(count_mismatch(z, 0xABCDEF0123456789ull, 5, 1u << 16), 0);
  rtl_draws(UINT64_MAX, 15, 1u << 16, 0x99u, z);
  assert_int_equal(count_mismatch(z, UINT64_MAX, 15, 1u << 16), 0);
}

/* ---- statistics of the RTL draws (as compute_stats in tests/hls/test_rng.c) */

static double upper_tail(double z) { return 0.5 * erfc(z * 0.7071067811865476); }

static double mean_of(const int16_t *z, size_t n) {
  double s = 0.0;
  size_t i;
  for (i = 0; i < n; i++) s += z[i];
  return s / (double)n / Q12;
}

static double central_moment(const int16_t *z, size_t n, double mean, int k) {
  double s = 0.0;
  size_t i;
  for (i = 0; i < n; i++) s += pow(z[i] / Q12 - mean, k);
  return s / (double)n;
}

static void stats_mean(void **state) {
  const double m = mean_of(g_z, N_STAT);
  (void)state;
  print_message("mean %+.5f (bound %.5f)\n", m, 4.0 / sqrt((double)N_STAT));
  assert_true(fabs(m) < 4.0 / sqrt((double)N_STAT));
}

static void stats_variance(void **state) {
  const double m = mean_of(g_z, N_STAT);
  const double v = central_moment(g_z, N_STAT, m, 2);
  (void)state;
  print_message("variance %.5f (bound 1 +- %.5f)\n", v, 4.0 * sqrt(2.0 / N_STAT));
  assert_true(fabs(v - 1.0) < 4.0 * sqrt(2.0 / N_STAT));
}

static void stats_skew_kurtosis(void **state) {
  const double m = mean_of(g_z, N_STAT);
  const double v = central_moment(g_z, N_STAT, m, 2);
  const double skew = central_moment(g_z, N_STAT, m, 3) / pow(v, 1.5);
  const double kurt = central_moment(g_z, N_STAT, m, 4) / (v * v) - 3.0;
  (void)state;
  print_message("skew %+.5f excess kurtosis %+.5f\n", skew, kurt);
  assert_true(fabs(skew) < 4.0 * sqrt(6.0 / N_STAT));
  assert_true(fabs(kurt) < 4.0 * sqrt(24.0 / N_STAT));
}

static void stats_ks(void **state) {
  /* Samples are Q3.12 integers: a histogram replaces sorting; sup |F_n - Phi| is reached
   * on either side of a jump of F_n. */
  static uint32_t hist[65536];
  double cum = 0.0, d = 0.0;
  long c;
  size_t i;
  (void)state;
  memset(hist, 0, sizeof hist);
  for (i = 0; i < N_STAT; i++) hist[(uint16_t)(g_z[i] + 32768)]++;
  for (c = -32768; c < 32768; c++) {
    uint32_t h = hist[c + 32768];
    if (h != 0u) {
      double cdf = 1.0 - upper_tail(c / Q12);
      double lo = fabs(cum / N_STAT - cdf);
      cum += h;
      d = fmax(d, fmax(lo, fabs(cum / N_STAT - cdf)));
    }
  }
  print_message("KS D %.3e (bound %.3e)\n", d, 1.95 / sqrt((double)N_STAT));
  assert_true(d < 1.95 / sqrt((double)N_STAT));
}

static int tail_ok(long count, double n, double p) {
  double e = n * p;
  return fabs((double)count - e) < 4.0 * sqrt(e);
}

static void stats_tails(void **state) {
  long t3 = 0, t4 = 0;
  size_t i;
  (void)state;
  for (i = 0; i < N_STAT; i++) {
    if (g_z[i] > 3 * 4096 || g_z[i] < -3 * 4096) t3++;
    if (g_z[i] > 4 * 4096 || g_z[i] < -4 * 4096) t4++;
  }
  print_message("|z|>3: %ld (exp %.1f), |z|>4: %ld (exp %.1f)\n", t3, N_STAT * P_TAIL3, t4,
                N_STAT * P_TAIL4);
  assert_true(tail_ok(t3, N_STAT, P_TAIL3));
  assert_true(tail_ok(t4, N_STAT, P_TAIL4));
}

static void stats_autocorrelation(void **state) {
  const double m = mean_of(g_z, N_STAT);
  const double v = central_moment(g_z, N_STAT, m, 2);
  unsigned k;
  size_t i;
  (void)state;
  for (k = 1; k <= 4; k++) {
    double acc = 0.0, r;
    for (i = 0; i + k < N_STAT; i++) acc += (g_z[i] / Q12 - m) * (g_z[i + k] / Q12 - m);
    r = acc / (double)(N_STAT - k) / v;
    print_message("lag %u autocorrelation %+.2e (bound %.2e)\n", k, r,
                  4.0 / sqrt((double)N_STAT));
    assert_true(fabs(r) < 4.0 / sqrt((double)N_STAT));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lane0_draws_match_c),
      cmocka_unit_test(stats_mean),
      cmocka_unit_test(stats_variance),
      cmocka_unit_test(stats_skew_kurtosis),
      cmocka_unit_test(stats_ks),
      cmocka_unit_test(stats_tails),
      cmocka_unit_test(stats_autocorrelation),
      cmocka_unit_test(stream_vector),
      cmocka_unit_test(other_lanes_with_bubbles),
  };
  cmocka_set_message_output(CM_OUTPUT_TAP);
  return cmocka_run_group_tests_name("rtl_noise_gauss", tests, setup, teardown);
}
