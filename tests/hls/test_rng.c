/* Unit tests of hls/mt_rng.c: known-answer vectors of the uniform generators and the
 * seeding, exact Gaussian outputs, the shape of the inverse CDF, statistical quality of
 * the Gaussian stream, and the rounding of mt_gnoise.
 *
 * Known answers come from an independent Python model (the derivation, runnable as is):
 *   M64=(1<<64)-1; M32=(1<<32)-1
 *   def sm(x):  x=(x+0x9E3779B97F4A7C15)&M64; z=x; z=((z^(z>>30))*0xBF58476D1CE4E5B9)&M64;
 *               z=((z^(z>>27))*0x94D049BB133111EB)&M64; return x, z^(z>>31)
 *   def rotl(x,k): return ((x<<k)|(x>>(32-k)))&M32
 *   def xo(s):  r=(rotl((s[0]+s[3])&M32,7)+s[0])&M32; t=(s[1]<<9)&M32; s[2]^=s[0];
 *               s[3]^=s[1]; s[1]^=s[2]; s[0]^=s[3]; s[2]^=t; s[3]=rotl(s[3],11); return r
 *   def seed(sd): x=sd; L=[]
 *     for l in range(16): x,a=sm(x); x,b=sm(x); L.append([a&M32,a>>32,b&M32,b>>32])
 *     return L
 * Gaussian answers: scripts/gen_gauss_table.py gauss_from_u32(u, knots()), the Python
 * mirror of the algorithm in docs/protocol.md. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mt_gauss_table.h"
#include "mt_rng.h"

#define N_STAT (1u << 20)
#define Q12 4096.0

/* ---------------------------------------------------------------- uniform sources */

static void test_splitmix64_kat(void **state) {
  /* [hex(sm(x)[1]) ...] iterating x from 0 and from 1234567 */
  static const uint64_t want0[4] = {0xE220A8397B1DCDAFull, 0x6E789E6AA1B965F4ull,
                                    0x06C45D188009454Full, 0xF88BB8A8724C81ECull};
  static const uint64_t want1[4] = {0x599ED017FB08FC85ull, 0x2C73F08458540FA5ull,
                                    0x883EBCE5A3F27C77ull, 0x3FBEF740E9177B3Full};
  uint64_t x = 0;
  unsigned i;
  (void)state;
  for (i = 0; i < 4; i++) {
    assert_int_equal(mt_splitmix64_next(&x), want0[i]);
  }
  assert_int_equal(x, 4u * 0x9E3779B97F4A7C15ull);
  x = 1234567;
  for (i = 0; i < 4; i++) {
    assert_int_equal(mt_splitmix64_next(&x), want1[i]);
  }
}

static void test_xoshiro_kat(void **state) {
  /* s = [1, 2, 3, 4]; [hex(xo(s)) for _ in range(8)]; the first one is rotl(1+4, 7) + 1 */
  static const uint32_t want[8] = {0x00000281u, 0x00180387u, 0xC0183387u, 0xD1AE3B02u,
                                   0x31E2310Au, 0xFD275AB0u, 0xE67F7CECu, 0x50D07F0Fu};
  mt_xoshiro_t r = {{1u, 2u, 3u, 4u}};
  unsigned i;
  (void)state;
  for (i = 0; i < 8; i++) {
    assert_int_equal(mt_xoshiro_next(&r), want[i]);
  }
}

static void assert_state(const mt_xoshiro_t *r, uint32_t a, uint32_t b, uint32_t c,
                         uint32_t d) {
  assert_int_equal(r->s[0], a);
  assert_int_equal(r->s[1], b);
  assert_int_equal(r->s[2], c);
  assert_int_equal(r->s[3], d);
}

static void test_lanes_seed_kat(void **state) {
  /* seed(0)[0], seed(0)[15], seed(1234567)[0], seed(1234567)[15] */
  mt_xoshiro_t lanes[MT_LANES];
  unsigned l, m;
  (void)state;
  memset(lanes, 0xA5, sizeof lanes);
  mt_lanes_seed(lanes, 0);
  assert_state(&lanes[0], 0x7B1DCDAFu, 0xE220A839u, 0xA1B965F4u, 0x6E789E6Au);
  assert_state(&lanes[15], 0x72F3454Fu, 0xF16952EEu, 0xA8E40225u, 0x377D35DEu);
  mt_lanes_seed(lanes, 1234567);
  assert_state(&lanes[0], 0xFB08FC85u, 0x599ED017u, 0x58540FA5u, 0x2C73F084u);
  assert_state(&lanes[15], 0x000F3E4Au, 0x4BF538C0u, 0xF4CF19FFu, 0xCD9AAE11u);
  /* Lanes must be pairwise distinct or their noise would be identical. */
  for (l = 0; l < MT_LANES; l++) {
    for (m = l + 1; m < MT_LANES; m++) {
      assert_true(memcmp(&lanes[l], &lanes[m], sizeof lanes[l]) != 0);
    }
  }
}

static void test_lanes_seed_composition(void **state) {
  /* Every lane, not just the two with vectors: lane l holds splitmix64 outputs 2l and
   * 2l+1 of one sequence, low word first; re-seeding overwrites all state. */
  mt_xoshiro_t lanes[MT_LANES];
  uint64_t x = 0xFEDCBA9876543210ull;
  unsigned l;
  (void)state;
  mt_lanes_seed(lanes, 1);
  (void)mt_xoshiro_next(&lanes[3]);
  mt_lanes_seed(lanes, 0xFEDCBA9876543210ull);
  for (l = 0; l < MT_LANES; l++) {
    uint64_t a = mt_splitmix64_next(&x);
    uint64_t b = mt_splitmix64_next(&x);
    assert_state(&lanes[l], (uint32_t)a, (uint32_t)(a >> 32), (uint32_t)b, (uint32_t)(b >> 32));
  }
}

/* ---------------------------------------------------------------- Gaussian transform */

static int32_t iabs32(int32_t x) { return x < 0 ? -x : x; }

static void test_gauss_kat(void **state) {
  /* gauss_from_u32(u, knots()) from scripts/gen_gauss_table.py */
  static const struct {
    uint32_t u;
    int16_t z;
  } kat[] = {
      {0x40000000u, 2763},   {0xC0000000u, -2763}, {0x00000000u, 25960},
      {0x80000000u, -25960}, {0x00000001u, 25519}, {0x7FFFFFFFu, 0},
      {0xFFFFFFFFu, 0},      {0x12345678u, 6012},  {0x9ABCDEF0u, -5148},
      {0x00ABCDEFu, 11436},  {0x21E503FFu, 4571},  {0x00000100u, 21687},
      /* Here truncating instead of flooring the negative interpolation product changes
       * the output by one LSB (to -7000, 2772, 3495, 1457). */
      {0x8B33E968u, -6999},  {0x3FD42359u, 2771},  {0x3266AA3Bu, 3494},
      {0x5C76F18Au, 1456},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof kat / sizeof kat[0]; i++) {
    assert_int_equal(mt_gauss_from_u32(kat[i].u), kat[i].z);
  }
}

static void test_gauss_sign(void **state) {
  uint32_t x;
  (void)state;
  for (x = 0; x < 0x80000000u; x += 0x10001u) {
    int16_t pos = mt_gauss_from_u32(x);
    int16_t neg = mt_gauss_from_u32(0x80000000u | x);
    assert_int_equal(neg, -pos);
    assert_true(pos >= 0);
    if (x < 0x7FF00000u) { /* away from p = 1/2 the magnitude is non-zero */
      assert_true(pos > 0);
      assert_true(neg < 0);
    }
  }
}

static void test_gauss_median(void **state) {
  /* Tail probability 1/4 of |Z| is its median, Qinv(1/4) = 0.6744897501960817. */
  const double med = 0.6744897501960817;
  (void)state;
  assert_true(fabs(mt_gauss_from_u32(0x40000000u) / Q12 - med) <= 1.0 / Q12);
  assert_true(fabs(mt_gauss_from_u32(0x3FFFFFFFu) / Q12 - med) <= 1.0 / Q12);
  assert_true(fabs(mt_gauss_from_u32(0x40000001u) / Q12 - med) <= 1.0 / Q12);
}

static void test_gauss_maximum(void **state) {
  /* v = 0 maps to Qinv(2^-33) = 6.3379; v = 1 to Qinv(2^-32) = 6.2303. */
  const int32_t top = mt_gauss_from_u32(0);
  uint32_t v;
  (void)state;
  assert_true(fabs(top / Q12 - 6.33789) < 2.0 / Q12);
  assert_true(fabs(mt_gauss_from_u32(1) / Q12 - 6.23025) < 2.0 / Q12);
  for (v = 1; v < 0x80000000u; v += 0x1001u) {
    assert_true(iabs32(mt_gauss_from_u32(v)) < top);
    assert_true(iabs32(mt_gauss_from_u32(0x80000000u | v)) < top);
  }
}

static void test_gauss_monotone(void **state) {
  /* All v below 2^20 (octaves 10..30, where segments are a few values wide), then every
   * 4096th value up to the top, plus the last value. */
  int32_t prev = mt_gauss_from_u32(0);
  uint32_t v;
  (void)state;
  for (v = 1; v < (1u << 20); v++) {
    int32_t z = mt_gauss_from_u32(v);
    assert_true(z <= prev);
    prev = z;
  }
  for (v = 1u << 20; v < 0x80000000u; v += 4096u) {
    int32_t z = mt_gauss_from_u32(v);
    assert_true(z <= prev);
    prev = z;
  }
  assert_true(mt_gauss_from_u32(0x7FFFFFFFu) <= prev);
}

static void test_gauss_table_shape(void **state) {
  unsigned lz, k;
  (void)state;
  assert_int_equal(MT_GAUSS_KNOTS, MT_GAUSS_OCTAVES * MT_GAUSS_KNOTS_PER_OCTAVE + 1u);
  assert_int_equal(MT_GAUSS_KNOTS_PER_OCTAVE, MT_GAUSS_SEGS + 1u);
  assert_int_equal(mt_gauss_knots[MT_GAUSS_KNOTS_PER_OCTAVE - 1u], 0); /* Qinv(1/2) */
  for (lz = 0; lz < MT_GAUSS_OCTAVES; lz++) {
    const int32_t *o = &mt_gauss_knots[lz * MT_GAUSS_KNOTS_PER_OCTAVE];
    for (k = 0; k < MT_GAUSS_SEGS; k++) {
      assert_true(o[k] > o[k + 1]);
    }
    if (lz + 1u < MT_GAUSS_OCTAVES) { /* octaves share their edge knot */
      assert_int_equal(o[0], o[MT_GAUSS_KNOTS_PER_OCTAVE + MT_GAUSS_SEGS]);
    }
  }
  assert_true(mt_gauss_knots[MT_GAUSS_K_ZERO_INDEX] >
              mt_gauss_knots[(MT_GAUSS_OCTAVES - 1u) * MT_GAUSS_KNOTS_PER_OCTAVE]);
  /* Q3.12 output of the largest knot must fit int16 after rounding. */
  assert_true((mt_gauss_knots[MT_GAUSS_K_ZERO_INDEX] + 8) >> 4 <= INT16_MAX);
}

static double phi(double z) { return exp(-0.5 * z * z) * 0.3989422804014327; }
static double upper_tail(double z) { return 0.5 * erfc(z * 0.7071067811865476); }

static void test_gauss_accuracy(void **state) {
  /* |z(v) - Qinv(v/2^32)| via one Newton step, (Q(z) - p)/phi(z) ~ -(z - Qinv(p)), accurate
   * to O(err^2 z). Bound: interpolation error (scripts/gen_gauss_table.py --report:
   * 7.4e-4) + output rounding 2^-13 + knot rounding, i.e. under 2^-10 + 2^-13. */
  const double bound = 1.0 / 1024.0 + 1.0 / 8192.0;
  double worst = 0.0;
  unsigned lz, i;
  (void)state;
  for (lz = 0; lz < 31; lz++) {
    for (i = 0; i < 4096; i++) {
      uint32_t v = ((1u << 30) | (i << 18) | (i * 37u & 0x3FFFFu)) >> lz;
      double p = v / 4294967296.0;
      double z = mt_gauss_from_u32(v) / Q12;
      double err = fabs((upper_tail(z) - p) / phi(z));
      if (err > worst) {
        worst = err;
      }
    }
  }
  print_message("gauss accuracy: max |z - Qinv(v/2^32)| = %.3e (bound %.3e)\n", worst, bound);
  assert_true(worst < bound);
  assert_true(worst > 1.0 / 8192.0); /* the measurement must see the interpolation error */
}

static void test_gauss_consumes_one_uniform(void **state) {
  mt_xoshiro_t a = {{0x12345678u, 0x9ABCDEF0u, 0x0F1E2D3Cu, 0x4B5A6978u}};
  mt_xoshiro_t b = a;
  unsigned i;
  (void)state;
  for (i = 0; i < 100; i++) {
    assert_int_equal(mt_gauss(&a), mt_gauss_from_u32(mt_xoshiro_next(&b)));
    assert_memory_equal(&a, &b, sizeof a);
  }
}

static void test_gauss_stream_kat(void **state) {
  /* L = seed(1); [gauss_from_u32(xo(L[0]), T) for _ in range(8)], same for L[15] */
  static const int16_t want0[8] = {1, -5205, -1530, -5366, 2127, -3065, -736, -7094};
  static const int16_t want15[8] = {-6995, 2343, -2255, -3065, -1815, 8744, 4702, -1236};
  mt_xoshiro_t lanes[MT_LANES];
  unsigned i;
  (void)state;
  mt_lanes_seed(lanes, 1);
  for (i = 0; i < 8; i++) {
    assert_int_equal(mt_gauss(&lanes[0]), want0[i]);
    assert_int_equal(mt_gauss(&lanes[15]), want15[i]);
  }
}

/* ---------------------------------------------------------------- statistics */

typedef struct {
  double mean, var, skew, kurt, ks;
  long tail3, tail4;
  double r[5]; /* r[k]: lag-k autocorrelation, k = 1..4 */
} stats_t;

static int16_t g_buf[N_STAT];
static int16_t g_buf2[N_STAT];
static uint32_t g_hist[65536];

static const double P_TAIL3 = 2.6998e-3; /* P(|Z| > 3) */
static const double P_TAIL4 = 6.334e-5;  /* P(|Z| > 4) */

/* Poisson 4-sigma window around the expected count of a tail event. */
static int tail_ok(long count, double n, double p) {
  double e = n * p;
  return fabs((double)count - e) < 4.0 * sqrt(e);
}

static void compute_stats(const int16_t *z, size_t n, stats_t *st) {
  double s1 = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0, cum = 0.0, d = 0.0;
  size_t i;
  unsigned k;
  long c;
  memset(st, 0, sizeof *st);
  for (i = 0; i < n; i++) {
    s1 += z[i];
  }
  st->mean = s1 / (double)n / Q12;
  for (i = 0; i < n; i++) {
    double x = z[i] / Q12 - st->mean;
    double x2 = x * x;
    m2 += x2;
    m3 += x2 * x;
    m4 += x2 * x2;
    if (z[i] > 3 * 4096 || z[i] < -3 * 4096) {
      st->tail3++;
    }
    if (z[i] > 4 * 4096 || z[i] < -4 * 4096) {
      st->tail4++;
    }
  }
  m2 /= (double)n;
  m3 /= (double)n;
  m4 /= (double)n;
  st->var = m2;
  st->skew = m3 / pow(m2, 1.5);
  st->kurt = m4 / (m2 * m2) - 3.0;
  for (k = 1; k <= 4; k++) {
    double acc = 0.0;
    for (i = 0; i + k < n; i++) {
      acc += (z[i] / Q12 - st->mean) * (z[i + k] / Q12 - st->mean);
    }
    st->r[k] = acc / (double)(n - k) / m2;
  }
  /* KS against Phi: the samples are integers in Q3.12, so a histogram replaces sorting;
   * the supremum of |F_n - Phi| is reached on either side of a jump of F_n. */
  memset(g_hist, 0, sizeof g_hist);
  for (i = 0; i < n; i++) {
    g_hist[(uint16_t)(z[i] + 32768)]++;
  }
  for (c = -32768; c < 32768; c++) {
    uint32_t h = g_hist[c + 32768];
    if (h != 0u) {
      double cdf = 1.0 - upper_tail(c / Q12);
      double lo = fabs(cum / (double)n - cdf);
      double hi;
      cum += h;
      hi = fabs(cum / (double)n - cdf);
      d = fmax(d, fmax(lo, hi));
    }
  }
  st->ks = d;
}

static void print_stats(const char *what, const stats_t *st) {
  print_message("%s: n=%u mean=%+.5f var=%.5f skew=%+.5f exkurt=%+.5f KS_D=%.3e "
                "|z|>3: %ld (exp %.1f) |z|>4: %ld (exp %.1f) r1=%+.2e r2=%+.2e r3=%+.2e "
                "r4=%+.2e\n",
                what, N_STAT, st->mean, st->var, st->skew, st->kurt, st->ks, st->tail3,
                N_STAT * P_TAIL3, st->tail4, N_STAT * P_TAIL4, st->r[1], st->r[2], st->r[3],
                st->r[4]);
}

static void assert_normal(const stats_t *st) {
  const double n = N_STAT;
  unsigned k;
  assert_true(fabs(st->mean) < 4.0 / sqrt(n));
  assert_true(fabs(st->var - 1.0) < 4.0 * sqrt(2.0 / n));
  assert_true(fabs(st->skew) < 4.0 * sqrt(6.0 / n));
  assert_true(fabs(st->kurt) < 4.0 * sqrt(24.0 / n));
  assert_true(st->ks < 1.95 / sqrt(n));
  assert_true(tail_ok(st->tail3, n, P_TAIL3));
  assert_true(tail_ok(st->tail4, n, P_TAIL4));
  for (k = 1; k <= 4; k++) {
    assert_true(fabs(st->r[k]) < 4.0 / sqrt(n));
  }
}

static void test_stats_one_lane(void **state) {
  mt_xoshiro_t lanes[MT_LANES];
  stats_t st;
  size_t i;
  (void)state;
  mt_lanes_seed(lanes, 0x5EED5EED00000001ull);
  for (i = 0; i < N_STAT; i++) {
    g_buf[i] = mt_gauss(&lanes[0]);
  }
  compute_stats(g_buf, N_STAT, &st);
  print_stats("lane 0", &st);
  assert_normal(&st);
}

static void test_stats_interleaved(void **state) {
  /* Lane order 0..15 repeated, as columns draw in hardware; lag 1..4 here measures
   * correlation between neighbouring lanes. */
  mt_xoshiro_t lanes[MT_LANES];
  stats_t st;
  size_t i;
  (void)state;
  mt_lanes_seed(lanes, 0x5EED5EED00000002ull);
  for (i = 0; i < N_STAT; i++) {
    g_buf[i] = mt_gauss(&lanes[i % MT_LANES]);
  }
  compute_stats(g_buf, N_STAT, &st);
  print_stats("16 lanes interleaved", &st);
  assert_normal(&st);
}

static double correlation(const int16_t *a, const int16_t *b, size_t n) {
  double sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0;
  size_t i;
  for (i = 0; i < n; i++) {
    double x = a[i], y = b[i];
    sa += x;
    sb += y;
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  sa /= (double)n;
  sb /= (double)n;
  return (sab / (double)n - sa * sb) /
         sqrt((saa / (double)n - sa * sa) * (sbb / (double)n - sb * sb));
}

static void test_cross_lane_correlation(void **state) {
  mt_xoshiro_t lanes[MT_LANES];
  double r01;
  size_t i;
  (void)state;
  mt_lanes_seed(lanes, 0x5EED5EED00000003ull);
  for (i = 0; i < N_STAT; i++) {
    g_buf[i] = mt_gauss(&lanes[0]);
    g_buf2[i] = mt_gauss(&lanes[1]);
  }
  r01 = correlation(g_buf, g_buf2, N_STAT);
  print_message("lane 0 vs lane 1: r=%+.2e (bound %.2e)\n", r01, 4.0 / sqrt((double)N_STAT));
  assert_true(fabs(r01) < 4.0 / sqrt((double)N_STAT));
  /* The check must see a weak real dependence: lane 1 plus lane 0 / 64 has r ~ 1/64,
   * four times the bound. */
  for (i = 0; i < N_STAT; i++) {
    g_buf2[i] = (int16_t)(g_buf2[i] + g_buf[i] / 64);
  }
  assert_false(fabs(correlation(g_buf, g_buf2, N_STAT)) < 4.0 / sqrt((double)N_STAT));
}

static void test_checks_reject_clt4(void **state) {
  /* Irwin-Hall with 4 uniforms, scaled to unit variance: bounded at 3.46 sigma, excess
   * kurtosis -0.3, P(|z|>3) = 4.3e-4. The same checks that pass the generator must reject
   * it, which proves they can discriminate in the 3-4 sigma region. */
  mt_xoshiro_t lanes[MT_LANES];
  stats_t st;
  size_t i;
  unsigned j;
  (void)state;
  mt_lanes_seed(lanes, 0x5EED5EED00000004ull);
  for (i = 0; i < N_STAT; i++) {
    double sum = 0.0;
    for (j = 0; j < 4; j++) {
      sum += mt_xoshiro_next(&lanes[0]) / 4294967296.0;
    }
    g_buf[i] = (int16_t)lrint((sum - 2.0) * sqrt(3.0) * Q12);
  }
  compute_stats(g_buf, N_STAT, &st);
  print_stats("CLT-4 (must fail)", &st);
  assert_false(tail_ok(st.tail3, N_STAT, P_TAIL3));
  assert_false(tail_ok(st.tail4, N_STAT, P_TAIL4));
  assert_false(fabs(st.kurt) < 4.0 * sqrt(24.0 / N_STAT));
  /* Its variance and mean are right, so only the shape checks catch it. */
  assert_true(fabs(st.var - 1.0) < 4.0 * sqrt(2.0 / N_STAT));
  assert_true(fabs(st.mean) < 4.0 / sqrt((double)N_STAT));
}

/* ---------------------------------------------------------------- mt_gnoise */

/* floor((amp*z + 2048) / 4096) by truncating division plus correction: independent of
 * the shift form used in mt_rng.c. */
static int64_t gnoise_ref(int64_t amp, int16_t z) {
  int64_t x = amp * z + 2048;
  int64_t q = x / 4096;
  if (x % 4096 != 0 && x < 0) {
    q--;
  }
  return q;
}

static void test_gnoise_exact(void **state) {
  (void)state;
  assert_int_equal(mt_gnoise(1, 2048), 1);   /* 4096/4096 */
  assert_int_equal(mt_gnoise(1, 2047), 0);   /* 4095/4096 */
  assert_int_equal(mt_gnoise(1, -2048), 0);  /* 0/4096 */
  assert_int_equal(mt_gnoise(1, -2049), -1); /* -1/4096: floor, truncation would give 0 */
  assert_int_equal(mt_gnoise(-1, 2049), -1);
  assert_int_equal(mt_gnoise(3, -4096), -3);   /* -10240/4096 = -2.5 */
  assert_int_equal(mt_gnoise(3, 4096), 3);     /* 14336/4096 = 3.5 */
  assert_int_equal(mt_gnoise(1000, -6144), -1500); /* -1.5 * 1000, exactly */
  assert_int_equal(mt_gnoise(4096, -12345), -12345);
  /* Extremes of the documented range |amp| < 2^40 and of z. */
  assert_int_equal(mt_gnoise((1ll << 40) - 1, -32768), -8796093022200ll);
  assert_int_equal(mt_gnoise(-((1ll << 40) - 1), -32768), 8796093022200ll);
  assert_int_equal(mt_gnoise((1ll << 40) - 1, 32767), 8795824586744ll);
  /* Python: [(a*z + 2048) // 4096 for (a, z) in ...], // is floor */
}

static void test_gnoise_zero(void **state) {
  int32_t z;
  (void)state;
  for (z = -32768; z <= 32767; z += 7) {
    assert_int_equal(mt_gnoise(0, (int16_t)z), 0);
  }
  assert_int_equal(mt_gnoise(123456789, 0), 0);
  assert_int_equal(mt_gnoise(-123456789, 0), 0);
}

/* mt_floor_shift is floor(v / 2^s) for |v| < 2^62 and s <= 62, whichever way it is
 * computed (the golden model compiled by gcc uses an arithmetic shift, other compilers the
 * offset form): checked against a division rounded toward minus infinity, on edge values
 * and a splitmix64 stream of both signs and every magnitude, for every s. */
static void test_floor_shift(void **state) {
  (void)state;
  const int64_t lim = (int64_t)1 << 62;
  const int64_t edge[] = {0, 1, -1, 2, -2, 4095, -4095, 4096, -4096, 4097, -4097, lim - 1, -lim + 1,
                          -lim};
  uint64_t x = 0x5EED;
  for (uint32_t s = 0; s <= 62; s++) {
    const int64_t d = (int64_t)1 << s;
    for (uint32_t k = 0; k < 2000 + sizeof edge / sizeof *edge; k++) {
      int64_t v;
      if (k < sizeof edge / sizeof *edge) {
        v = edge[k];
      } else {
        uint64_t r = mt_splitmix64_next(&x);
        v = (int64_t)(r >> (2 + r % 62)); /* magnitudes of every size below 2^62 */
        if (r & 1) v = -v;
      }
      int64_t q = v / d; /* toward zero, then down for a negative inexact quotient */
      if (v % d != 0 && v < 0) q--;
      assert_true(mt_floor_shift(v, s) == q);
    }
  }
}

static void test_gnoise_sweep(void **state) {
  static const int64_t amps[] = {1, -1, 3, -3, 4095, -4097, 65535, -1000003, 1ll << 39};
  size_t a;
  int32_t z;
  (void)state;
  for (a = 0; a < sizeof amps / sizeof amps[0]; a++) {
    for (z = -32768; z <= 32767; z++) {
      assert_int_equal(mt_gnoise(amps[a], (int16_t)z), gnoise_ref(amps[a], (int16_t)z));
    }
  }
}

/* The portable shifter (the HLS/RTL path) agrees with the compiler's count. */
static void clz31_shifter_matches_builtin(void **state) {
  (void)state;
  for (uint32_t b = 0; b < 31; b++) {
    uint32_t top = 1u << b;
    uint32_t vals[4] = {top, top | 1u, (top << 1) - 1u, top | (top >> 1)};
    for (int k = 0; k < 4; k++)
      assert_int_equal(mt_clz31(vals[k]), (uint32_t)__builtin_clz(vals[k]) - 1u);
  }
  for (uint32_t v = 1; v < 0x7FFFFFFFu - 9973u; v += 9973u)
    assert_int_equal(mt_clz31(v), (uint32_t)__builtin_clz(v) - 1u);
}

/* The branchless form mt_gauss_columns uses equals mt_gauss_from_u32: every
 * u below 2^22 (the deep tail, zero included) with both signs, every segment
 * edge +-2, and a stride through the rest (all 2^32 agreed when written). */
static void gauss_lanewise_equals_reference(void **state) {
  (void)state;
  for (uint32_t v = 0; v < (1u << 22); v++) {
    assert_int_equal(mt_gauss_from_u32_lanewise(v), mt_gauss_from_u32(v));
    assert_int_equal(mt_gauss_from_u32_lanewise(0x80000000u | v), mt_gauss_from_u32(0x80000000u | v));
  }
  for (uint32_t lz = 0; lz < 31; lz++)
    for (uint32_t seg = 0; seg <= 8; seg++) {
      uint64_t edge = ((uint64_t)(8 + seg) << 27) >> lz; /* (1 + seg/8) x 2^(30-lz) */
      for (int d = -2; d <= 2; d++) {
        uint32_t u = (uint32_t)((edge + (uint64_t)(int64_t)d) & 0xFFFFFFFFu);
        assert_int_equal(mt_gauss_from_u32_lanewise(u), mt_gauss_from_u32(u));
      }
    }
  for (uint64_t u = 0; u < (1ull << 32); u += 4093)
    assert_int_equal(mt_gauss_from_u32_lanewise((uint32_t)u), mt_gauss_from_u32((uint32_t)u));
}

/* Batched column draws equal n sequential draws, lane states included. */
static void gauss_columns_equals_sequential(void **state) {
  (void)state;
  static const uint32_t sizes[] = {0, 1, 15, 16, 17, 31, 100, 127, 128};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    mt_xoshiro_t a[MT_LANES], b[MT_LANES];
    mt_lanes_seed(a, 99 + k);
    mt_lanes_seed(b, 99 + k);
    int16_t za[MT_COLS], zb[MT_COLS];
    for (int round = 0; round < 3; round++) {
      mt_gauss_columns(a, sizes[k], za);
      for (uint32_t j = 0; j < sizes[k]; j++) zb[j] = mt_gauss(&b[j % MT_LANES]);
      if (sizes[k]) assert_memory_equal(za, zb, sizes[k] * sizeof *za);
      assert_memory_equal(a, b, sizeof a);
    }
  }
}

/* Batched pair draws of READ_CELLS equal 2 nrows n sequential draws (row by row, G+ then G- per
 * column, from the column's lane), lane states included, for regions that start at any column
 * and have 1 to as many rows as MT_GAUSS_PAIRS_MAX allows; skipping a region's pairs leaves the
 * lanes where drawing them does. */
static void gauss_pairs_equals_sequential(void **state) {
  (void)state;
  static const uint32_t sizes[] = {1, 15, 16, 17, 31, 100, 127, 128};
  static const uint32_t starts[] = {0, 1, 5, 15, 16, 27};
  static int16_t za[MT_GAUSS_PAIRS_MAX], zb[MT_GAUSS_PAIRS_MAX], ra[MT_GAUSS_PAIRS_MAX],
      rb[MT_GAUSS_PAIRS_MAX];
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
    for (size_t c = 0; c < sizeof starts / sizeof *starts; c++) {
      uint32_t col0 = starts[c], n = sizes[k];
      if (col0 + n > MT_COLS) continue;
      mt_xoshiro_t a[MT_LANES], b[MT_LANES];
      mt_lanes_seed(a, 7 + k + 31 * c);
      mt_lanes_seed(b, 7 + k + 31 * c);
      for (int round = 0; round < 3; round++) {
        uint32_t most = MT_GAUSS_PAIRS_MAX / n, nrows = round == 0 ? 1 : (round == 1 ? 3 : most);
        mt_gauss_pairs(a, col0, nrows, n, za, zb);
        for (uint32_t i = 0; i < nrows * n; i++) {
          ra[i] = mt_gauss(&b[(col0 + i % n) % MT_LANES]);
          rb[i] = mt_gauss(&b[(col0 + i % n) % MT_LANES]);
        }
        assert_memory_equal(za, ra, nrows * n * sizeof *za);
        assert_memory_equal(zb, rb, nrows * n * sizeof *zb);
        assert_memory_equal(a, b, sizeof a);
        /* READ_CELLS of as many rows without read noise (up to MT_ROWS) */
        nrows = nrows > MT_ROWS ? MT_ROWS : nrows;
        mt_lanes_skip_pairs(a, col0, nrows, n);
        for (uint32_t i = 0; i < nrows * n; i++) {
          (void)mt_gauss(&b[(col0 + i % n) % MT_LANES]);
          (void)mt_gauss(&b[(col0 + i % n) % MT_LANES]);
        }
        assert_memory_equal(a, b, sizeof a);
      }
    }
}

/* A lane's run of draws computed ahead equals its draws one by one, lane state included
 * (write-verify's runs). */
static void gauss_run_equals_sequential(void **state) {
  (void)state;
  mt_xoshiro_t a[MT_LANES], b[MT_LANES];
  mt_lanes_seed(a, 777);
  mt_lanes_seed(b, 777);
  for (uint32_t round = 0; round < 3 * MT_LANES; round++) {
    int16_t z[MT_GAUSS_RUN];
    uint32_t l = (round * 7) % MT_LANES;
    mt_gauss_run(&a[l], z);
    for (uint32_t k = 0; k < MT_GAUSS_RUN; k++) assert_int_equal(z[k], mt_gauss(&b[l]));
    assert_memory_equal(a, b, sizeof a);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(clz31_shifter_matches_builtin),
      cmocka_unit_test(gauss_columns_equals_sequential),
      cmocka_unit_test(gauss_pairs_equals_sequential),
      cmocka_unit_test(gauss_run_equals_sequential),
      cmocka_unit_test(gauss_lanewise_equals_reference),
      cmocka_unit_test(test_splitmix64_kat),
      cmocka_unit_test(test_xoshiro_kat),
      cmocka_unit_test(test_lanes_seed_kat),
      cmocka_unit_test(test_lanes_seed_composition),
      cmocka_unit_test(test_gauss_kat),
      cmocka_unit_test(test_gauss_sign),
      cmocka_unit_test(test_gauss_median),
      cmocka_unit_test(test_gauss_maximum),
      cmocka_unit_test(test_gauss_monotone),
      cmocka_unit_test(test_gauss_table_shape),
      cmocka_unit_test(test_gauss_accuracy),
      cmocka_unit_test(test_gauss_consumes_one_uniform),
      cmocka_unit_test(test_gauss_stream_kat),
      cmocka_unit_test(test_stats_one_lane),
      cmocka_unit_test(test_stats_interleaved),
      cmocka_unit_test(test_cross_lane_correlation),
      cmocka_unit_test(test_checks_reject_clt4),
      cmocka_unit_test(test_gnoise_exact),
      cmocka_unit_test(test_gnoise_zero),
      cmocka_unit_test(test_gnoise_sweep),
      cmocka_unit_test(test_floor_shift),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
