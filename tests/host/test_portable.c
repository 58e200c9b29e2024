/* The portable code paths against the fast ones the library builds on this host:
 * mt_floor_shift (hls/mt_fixed.h: GCC's arithmetic shift, or the 2^62 offset) and
 * mt_compact_row (host/src/mt_compact_row.h: AVX-512 where the host has it, or the loop).
 * This file is built with the host's vector units ($(ARCH)), tests/host/portable_paths.c with
 * MT_FORCE_PORTABLE; both are checked against a plain reference as well, so the test still
 * means something where the two builds take the same path (ARCH=, no AVX-512). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mt_compact_row.h"
#include "mt_fixed.h"
#include "mt_protocol.h"
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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(floor_shift_paths_agree),
    cmocka_unit_test(compact_row_paths_agree),
    cmocka_unit_test(compact_levels_paths_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
