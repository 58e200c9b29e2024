/* The portable code paths against the fast ones the library builds on this host:
 * mt_floor_shift (hls/mt_fixed.h: GCC's arithmetic shift, or the 2^62 offset),
 * mt_compact_row and mt_compact_levels (host/src/mt_compact_row.h: AVX-512 where the host has
 * it, or the loop) and the pulse steps' rows mt_sgd_row, mt_ssm_row and mt_ssm_rows
 * (host/src/mt_pulse_row.h: AVX-512 in one pass, or the step's parts one after the other).
 * This file is built with the host's vector units ($(ARCH)), tests/host/portable_paths.c with
 * MT_FORCE_PORTABLE; both are checked against a plain reference as well, so the test still
 * means something where the two builds take the same path (ARCH=, no AVX-512). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mt_compact_row.h"
#include "mt_fixed.h"
#include "mt_protocol.h"
#include "mt_pulse_row.h"
#include "portable_paths.h"

#ifdef MT_FORCE_PORTABLE
#error "the fast paths' side: built without MT_FORCE_PORTABLE"
#endif


static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* floor(v / 2^s) by C's division, which truncates toward zero. */
static int64_t floor_div(int64_t v, uint32_t s) {
  int64_t d = (int64_t)1 << s, q = v / d;
  return v % d != 0 && v < 0 ? q - 1 : q;
}

static void floor_shift_one(int64_t v, uint32_t s) {
  int64_t fast = mt_floor_shift(v, s), portable = portable_floor_shift(v, s), want = floor_div(v, s);
  if (fast != want || portable != want)
    fail_msg("floor(%lld / 2^%u): fast %lld, portable %lld, want %lld", (long long)v, s, (long long)fast,
             (long long)portable, (long long)want);
}

/* Every shift 0..62 of the values the contract allows (|v| < 2^62): both ends, 0, +-1, the
 * powers of two and their neighbours, and random values of every magnitude and sign. */
static void floor_shift_paths_agree(void **state) {
  (void)state;
  const int64_t top = ((int64_t)1 << 62) - 1;
  uint64_t rng = 1;
  for (uint32_t s = 0; s <= 62; s++) {
    const int64_t edge[] = {0, 1, -1, top, -top, top - 1, -top + 1};
    for (size_t k = 0; k < sizeof edge / sizeof *edge; k++) floor_shift_one(edge[k], s);
    for (uint32_t b = 0; b < 62; b++)
      for (int64_t d = -1; d <= 1; d++) {
        floor_shift_one(((int64_t)1 << b) + d, s);
        floor_shift_one(-((int64_t)1 << b) + d, s);
      }
    for (int k = 0; k < 20000; k++) {
      uint64_t x = splitmix64(&rng);
      int64_t v = (int64_t)(x >> (2 + x % 61)); /* a magnitude below 2^(62 - x % 61) */
      floor_shift_one(x & 1 ? -v : v, s);
    }
  }
}

/* Every row length 1..MT_COLS with every number of non-zero counts 0..n at random places,
 * counts of both signs over the 7 bits: the same entries (the reference's) from both paths. */
static void compact_row_paths_agree(void **state) {
  (void)state;
#if defined(__AVX512F__)
  print_message("fast path: AVX-512\n");
#else
  print_message("fast path: the portable loop (this build has no AVX-512)\n");
#endif
  /* the vector path may write up to 16 words past its entries */
  static uint32_t fast[MT_COLS + 16], portable[MT_COLS + 16], want[MT_COLS];
  int32_t p[MT_COLS];
  uint32_t place[MT_COLS];
  uint64_t rng = 2;
  for (uint32_t n = 1; n <= MT_COLS; n++)
    for (uint32_t nz = 0; nz <= n; nz++) {
      /* nz distinct places: the first nz of a random permutation of 0..n-1 */
      for (uint32_t j = 0; j < n; j++) place[j] = j;
      for (uint32_t j = 0; j < nz; j++) {
        uint32_t r = j + (uint32_t)(splitmix64(&rng) % (n - j)), t = place[j];
        place[j] = place[r], place[r] = t;
      }
      memset(p, 0, sizeof p);
      for (uint32_t j = 0; j < nz; j++) {
        int32_t c = (int32_t)(splitmix64(&rng) % 127) - 63; /* -63..63 */
        p[place[j]] = c != 0 ? c : -64;
      }
      uint32_t i = (uint32_t)(splitmix64(&rng) % MT_ROWS), nw = 0;
      for (uint32_t j = 0; j < n; j++)
        if (p[j]) want[nw++] = i << 20 | j << 8 | ((uint32_t)p[j] & 0x7Fu);
      uint32_t nf = mt_compact_row(fast, p, i, n), np = portable_compact_row(portable, p, i, n);
      if (nf != nw || np != nw || memcmp(fast, want, nw * sizeof *want) != 0 ||
          memcmp(portable, want, nw * sizeof *want) != 0)
        fail_msg("row %u of %u counts, %u non-zero: fast %u entries, portable %u, want %u (or other "
                 "entries)", i, n, nz, nf, np, nw);
    }
}

/* Every row length 1..MT_COLS with every number of changed levels 0..n at random places
 * (levels 0..255 and LEVEL_NONE programmed before), with and without `all`: the same entries
 * (the reference's) from both paths. */
static void compact_levels_paths_agree(void **state) {
  (void)state;
  /* the vector path may write up to 16 words past its entries */
  static uint32_t fast[MT_COLS + 16], portable[MT_COLS + 16], want[MT_COLS];
  uint16_t q[MT_COLS], old[MT_COLS];
  uint32_t place[MT_COLS];
  uint64_t rng = 3;
  for (uint32_t n = 1; n <= MT_COLS; n++)
    for (uint32_t nc = 0; nc <= n; nc++)
      for (int all = 0; all <= 1; all++) {
        for (uint32_t j = 0; j < n; j++) place[j] = j;
        for (uint32_t j = 0; j < nc; j++) {
          uint32_t r = j + (uint32_t)(splitmix64(&rng) % (n - j)), t = place[j];
          place[j] = place[r], place[r] = t;
        }
        for (uint32_t j = 0; j < n; j++) old[j] = q[j] = (uint16_t)(splitmix64(&rng) % 256);
        for (uint32_t j = 0; j < nc; j++) {
          uint32_t k = place[j];
          old[k] = splitmix64(&rng) % 4 == 0 ? MT_LEVEL_NONE : (uint16_t)((q[k] + 1 + splitmix64(&rng) % 255) % 256);
        }
        uint32_t i = (uint32_t)(splitmix64(&rng) % MT_ROWS), nw = 0;
        for (uint32_t j = 0; j < n; j++)
          if (all || q[j] != old[j]) want[nw++] = i << 20 | j << 8 | q[j];
        uint32_t nf = mt_compact_levels(fast, q, old, i, n, all);
        uint32_t np = portable_compact_levels(portable, q, old, i, n, all);
        if (nf != nw || np != nw || memcmp(fast, want, nw * sizeof *want) != 0 ||
            memcmp(portable, want, nw * sizeof *want) != 0)
          fail_msg("row %u of %u levels, %u changed, all %d: fast %u entries, portable %u, want %u "
                   "(or other entries)", i, n, nc, all, nf, np, nw);
      }
}

/* A gradient or velocity of the kinds a pulse step meets: zeros of both signs (blank pixels,
 * dead units), magnitudes from subnormal to far past MT_PULSE_MAX pulses, NaN and infinities,
 * and every mantissa. zeros is the chance of a zero in 16. */
static float any_gradient(uint64_t *rng, uint32_t zeros) {
  static const float special[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e-30f, 1e-40f, -1e-44f,
                                  FLT_MIN, -FLT_MAX, 0.5f, -1.0f};
  uint64_t r = splitmix64(rng);
  if ((r & 15) < zeros) return r >> 4 & 1 ? -0.0f : 0.0f;
  if ((r >> 4 & 63) == 0) return special[(r >> 10) % (sizeof special / sizeof *special)];
  /* a random mantissa at 2^-40 .. 2^3, most of them 2^-16 .. 2^0 */
  int e = (r >> 10 & 3) == 0 ? (int)((r >> 12) % 44) - 40 : (int)((r >> 12) % 17) - 16;
  float m = 1.0f + (float)(r >> 40) / 16777216.0f;
  return ldexpf(r >> 20 & 1 ? -m : m, e);
}

/* The reference of a row: per weight the rounding functions of mt_algo_ssm.c (the step's
 * definition, test_ssm), in column order, and the entries of the non-zero counts. With v, ssm
 * (the momentum first, no draw for a row of zero velocities), else sgd-pulse on g. */
static uint32_t row_reference(uint32_t *out, float *v, const float *g, const float *gs,
                              const float *gr, float lr, float w_per_g, float beta, uint32_t i,
                              uint32_t n, uint64_t *rng) {
  const float *x = g;
  if (v) {
    int any = 0;
    for (uint32_t j = 0; j < n; j++) {
      v[j] = beta * v[j] + g[j];
      any |= v[j] != 0 || v[j] != v[j];
    }
    if (!any) return 0;
    x = v;
  }
  uint32_t ne = 0;
  for (uint32_t j = 0; j < n; j++) {
    float d = -lr * x[j] / w_per_g, a = fabsf(d) / (d > 0 ? gs[j] : gr[j]);
    int32_t c = (int32_t)(v ? mt_pulse_round_stochastic(a, rng) : mt_pulse_round_nearest(a));
    if (c != 0) out[ne++] = i << 20 | j << 8 | ((uint32_t)(d > 0 ? c : -c) & 0x7Fu);
  }
  return ne;
}

/* Every row length 1..MT_COLS, rows from all zero to none zero, gains one value per direction
 * (uniform) or each its own, at several learning rates, weight scales and momenta: the same
 * entries, velocities and generator state (the reference's) from both paths of mt_sgd_row and
 * mt_ssm_row. */
static void pulse_rows_paths_agree(void **state) {
  (void)state;
  static const struct {
    float lr, w_per_g, beta;
  } set[] = {{0.05f, 1.0f / 4096, 0.9f}, {0.001f, 3.1e-4f, 0.5f}, {1.0f, 2e-6f, 0.99f}, {0.02f, 0.7f, 0.0f}};
  static const uint32_t zeros[] = {0, 4, 12, 16};
  /* the vector paths may write up to 16 words past their entries */
  static uint32_t fast[MT_COLS + 16], portable[MT_COLS + 16], want[MT_COLS];
  float g[MT_COLS], gs[MT_COLS], gr[MT_COLS], vf[MT_COLS], vp[MT_COLS], vw[MT_COLS];
  uint64_t rng = 4;
  uint32_t rows = 0, entries = 0;
  for (uint32_t n = 1; n <= MT_COLS; n++)
    for (size_t c = 0; c < sizeof set / sizeof *set; c++)
      for (size_t z = 0; z < sizeof zeros / sizeof *zeros; z++)
        for (int uniform = 0; uniform <= 1; uniform++) {
          const float lr = set[c].lr, wpg = set[c].w_per_g, beta = set[c].beta;
          float us = 0.25f + (float)(splitmix64(&rng) % 1024) / 256, ur = 0.25f + (float)(splitmix64(&rng) % 1024) / 256;
          for (uint32_t j = 0; j < n; j++) {
            gs[j] = uniform ? us : 0.25f + (float)(splitmix64(&rng) % 1024) / 256;
            gr[j] = uniform ? ur : 0.25f + (float)(splitmix64(&rng) % 1024) / 256;
            g[j] = any_gradient(&rng, zeros[z]);
            vf[j] = vp[j] = vw[j] = any_gradient(&rng, zeros[z]);
          }
          uint32_t i = (uint32_t)(splitmix64(&rng) % MT_ROWS);
          /* sgd-pulse */
          uint32_t nw = row_reference(want, NULL, g, gs, gr, lr, wpg, beta, i, n, NULL);
          uint32_t nf = mt_sgd_row(fast, g, gs, gr, uniform, lr, wpg, i, n);
          uint32_t np = portable_sgd_row(portable, g, gs, gr, uniform, lr, wpg, i, n);
          if (nf != nw || np != nw || memcmp(fast, want, nw * sizeof *want) != 0 ||
              memcmp(portable, want, nw * sizeof *want) != 0)
            fail_msg("sgd-pulse row %u of %u (set %zu, zeros %u/16, uniform %d): fast %u entries, "
                     "portable %u, want %u (or other entries)", i, n, c, zeros[z], uniform, nf, np, nw);
          /* ssm, from one generator state (its draws) */
          uint64_t s0 = splitmix64(&rng), sf = s0, sp = s0, sw = s0;
          nw = row_reference(want, vw, g, gs, gr, lr, wpg, beta, i, n, &sw);
          nf = mt_ssm_row(fast, vf, g, gs, gr, uniform, lr, wpg, beta, i, n, &sf);
          np = portable_ssm_row(portable, vp, g, gs, gr, uniform, lr, wpg, beta, i, n, &sp);
          if (nf != nw || np != nw || memcmp(fast, want, nw * sizeof *want) != 0 ||
              memcmp(portable, want, nw * sizeof *want) != 0 || sf != sw || sp != sw ||
              memcmp(vf, vw, n * sizeof *vw) != 0 || memcmp(vp, vw, n * sizeof *vw) != 0)
            fail_msg("ssm row %u of %u (set %zu, zeros %u/16, uniform %d): fast %u entries, portable "
                     "%u, want %u (or other entries, velocities or generator)", i, n, c, zeros[z],
                     uniform, nf, np, nw);
          rows++, entries += nw;
        }
  print_message("%u rows, %u ssm entries\n", rows, entries);
}

/* Whole tiles of rows one after the other (mt_ssm_rows, whose AVX-512 blocks run on across the
 * rows' ends): every row length 1..MT_COLS at a few row counts up to MT_ROWS, rows with and
 * without zero velocities, gains uniform or each its own: the entries, velocities and generator
 * state of the reference applied row by row. */
static void ssm_rows_paths_agree(void **state) {
  (void)state;
  enum { N = MT_ROWS * MT_COLS };
  static const uint32_t zeros[] = {0, 4, 16};
  static uint32_t fast[N + 16], portable[N + 16], want[N];
  static float g[N], gs[N], gr[N], vf[N], vp[N], vw[N];
  const float lr = 0.001f, wpg = 3.1e-4f, beta = 0.9f;
  uint64_t rng = 5;
  uint32_t regions = 0;
  for (uint32_t n = 1; n <= MT_COLS; n++)
    for (uint32_t t = 0; t < 3; t++) {
      /* a row count of 1, one of 2..17, and every 37th row length a whole tile's */
      uint32_t nrows =
          t == 0 ? 1
                 : (t == 1 ? 2 + (n * 7) % 16 : (n % 37 == 0 || n == 100 || n == 10 ? MT_ROWS : 3));
      int uniform = (n + t) % 2;
      float us = 0.25f + (float)(splitmix64(&rng) % 1024) / 256,
            ur = 0.25f + (float)(splitmix64(&rng) % 1024) / 256;
      for (uint32_t i = 0; i < nrows; i++) {
        /* a row of zeros now and then (dead units), the rest with zeros at some rate */
        uint32_t z = zeros[splitmix64(&rng) % 3];
        for (uint32_t j = 0; j < n; j++) {
          uint32_t k = i * n + j;
          gs[k] = uniform ? us : 0.25f + (float)(splitmix64(&rng) % 1024) / 256;
          gr[k] = uniform ? ur : 0.25f + (float)(splitmix64(&rng) % 1024) / 256;
          g[k] = any_gradient(&rng, z);
          vf[k] = vp[k] = vw[k] = any_gradient(&rng, z);
        }
      }
      uint64_t s0 = splitmix64(&rng), sf = s0, sp = s0, sw = s0;
      uint32_t nw = 0;
      for (uint32_t i = 0; i < nrows; i++)
        nw += row_reference(want + nw, vw + i * n, g + i * n, gs + i * n, gr + i * n, lr, wpg, beta,
                            i, n, &sw);
      uint32_t nf = mt_ssm_rows(fast, vf, g, gs, gr, uniform, lr, wpg, beta, nrows, n, &sf);
      uint32_t np =
          portable_ssm_rows(portable, vp, g, gs, gr, uniform, lr, wpg, beta, nrows, n, &sp);
      if (nf != nw || np != nw || memcmp(fast, want, nw * sizeof *want) != 0 ||
          memcmp(portable, want, nw * sizeof *want) != 0 || sf != sw || sp != sw ||
          memcmp(vf, vw, nrows * n * sizeof *vw) != 0 ||
          memcmp(vp, vw, nrows * n * sizeof *vw) != 0)
        fail_msg(
            "ssm rows: %u rows of %u (uniform %d): fast %u entries, portable %u, want %u (or "
            "other entries, velocities or generator)",
            nrows, n, uniform, nf, np, nw);
      regions++;
    }
  print_message("%u regions\n", regions);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(floor_shift_paths_agree),    cmocka_unit_test(compact_row_paths_agree),
      cmocka_unit_test(compact_levels_paths_agree), cmocka_unit_test(pulse_rows_paths_agree),
      cmocka_unit_test(ssm_rows_paths_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
