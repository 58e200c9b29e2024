/* Bit-exact test of rtl/mt_gauss_icdf.sv (Verilated, sim/mt_gauss_icdf_tb.cpp) against
 * mt_gauss_from_u32 in hls/mt_rng.c: known answers, the latency and throughput, and a dense
 * sweep of u (2^24 values over the whole range, all of the first and last 2^16 values of
 * v = u[30:0] with both signs, the edges of every segment of every octave, 2^20 random u),
 * streamed back to back and with bubbles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_rng.h"
#include "mt_rtl_tb.h"

#define LATENCY 6 /* docs/rtl.md: register stages of mt_gauss_icdf */
#define SWEEP_N (1u << 24)

static tb_gauss_t *g_tb;
static uint32_t *g_u;
static int16_t *g_z;

static int setup(void **state) {
  (void)state;
  g_tb = tb_gauss_open();
  g_u = malloc(sizeof *g_u * (SWEEP_N + LATENCY));
  g_z = malloc(sizeof *g_z * (SWEEP_N + LATENCY));
  return g_tb && g_u && g_z ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_gauss_close(g_tb);
  free(g_u);
  free(g_z);
  return 0;
}

/* Streams u[0..n-1], one per cycle (or with bubbles where gap_pat has a bit set), collects
 * every valid output and checks each against the C reference and its arrival cycle against
 * LATENCY. Returns the number of mismatching samples. */
static size_t stream(const uint32_t *u, size_t n, uint32_t gap_seed) {
  mt_xoshiro_t pat = {{gap_seed, 0x9E3779B9u, 0x7F4A7C15u, 1u}};
  size_t in = 0, got = 0, bad = 0;
  uint64_t cycle = 0;
  static uint64_t in_cycle[LATENCY + 2];  /* ring of input cycles in flight */
  while (got < n) {
    int valid = in < n && (gap_seed == 0u || (mt_xoshiro_next(&pat) & 3u) != 0u);
    int16_t z;
    int vo = tb_gauss_cycle(g_tb, valid, valid ? u[in] : 0xDEADBEEFu, &z);
    if (valid) {
      in_cycle[in % (LATENCY + 2)] = cycle;
      in++;
    }
    if (vo) {
      int16_t want;
      assert_true(got < in);
      /* valid_o after edge `cycle` for the input sampled at edge in_cycle: LATENCY - 1 */
      assert_int_equal(cycle - in_cycle[got % (LATENCY + 2)], LATENCY - 1);
      want = mt_gauss_from_u32(u[got]);
      if (z != want && bad++ < 5u) {
        print_message("u=%08x: rtl %d, C %d\n", u[got], z, want);
      }
      got++;
    }
    cycle++;
    assert_true(cycle < 4u * n + 100u);
  }
  /* nothing further comes out */
  for (int i = 0; i < LATENCY + 2; i++) {
    int16_t z;
    assert_int_equal(tb_gauss_cycle(g_tb, 0, 0, &z), 0);
  }
  return bad;
}

static void kat(void **state) {
  /* docs/protocol.md vectors and those of tests/hls/test_rng.c */
  static const struct {
    uint32_t u;
    int16_t z;
  } kat[] = {
      {0x40000000u, 2763},   {0xC0000000u, -2763}, {0x00000000u, 25960},
      {0x80000000u, -25960}, {0x00000001u, 25519}, {0x7FFFFFFFu, 0},
      {0xFFFFFFFFu, 0},      {0x12345678u, 6012},  {0x9ABCDEF0u, -5148},
      {0x00ABCDEFu, 11436},  {0x21E503FFu, 4571},  {0x00000100u, 21687},
      {0x8B33E968u, -6999},  {0x3FD42359u, 2771},  {0x3266AA3Bu, 3494},
      {0x5C76F18Au, 1456},
  };
  size_t i, n = sizeof kat / sizeof kat[0];
  (void)state;
  for (i = 0; i < n; i++) {
    g_u[i] = kat[i].u;
  }
  assert_int_equal(stream(g_u, n, 0), 0);
  /* and the vectors themselves, not only agreement with C */
  for (i = 0; i < n; i++) {
    int16_t z;
    int k;
    (void)tb_gauss_cycle(g_tb, 1, kat[i].u, &z);
    for (k = 1; !tb_gauss_cycle(g_tb, 0, 0, &z); k++) {
      assert_true(k < 100);
    }
    assert_int_equal(k, LATENCY - 1);
    assert_int_equal(z, kat[i].z);
  }
}

static void sweep_strided(void **state) {
  /* Every 256-value block of the 2^32 range once, with a varying low byte. */
  uint32_t k;
  (void)state;
  for (k = 0; k < SWEEP_N; k++) {
    g_u[k] = (k << 8) | ((k * 167u) & 0xFFu);
  }
  assert_int_equal(stream(g_u, SWEEP_N, 0), 0);
}

static void sweep_ends_both_signs(void **state) {
  /* v in [0, 2^16) and [2^31 - 2^16, 2^31), sign 0 and 1 */
  uint32_t k, n = 0;
  (void)state;
  for (k = 0; k < (1u << 16); k++) {
    g_u[n++] = k;
    g_u[n++] = 0x80000000u | k;
    g_u[n++] = 0x7FFF0000u | k;
    g_u[n++] = 0xFFFF0000u | k;
  }
  assert_int_equal(stream(g_u, n, 0), 0);
}

static void segment_edges(void **state) {
  /* Around the first and last value of every segment of every octave, both signs. */
  static const uint32_t fs[] = {0u, 1u, 0x7FFFu, 0x8000u, 0xFFFEu, 0xFFFFu};
  uint32_t lz, s, f, n = 0;
  (void)state;
  for (lz = 0; lz < 31; lz++) {
    for (s = 0; s < 8; s++) {
      for (f = 0; f < sizeof fs / sizeof fs[0]; f++) {
        uint32_t m = (1u << 30) | (s << 27) | (fs[f] << 11);
        uint32_t vs[4] = {m >> lz, (m | 0x7FFu) >> lz, (m >> lz) - 1u, (m >> lz) + 1u};
        int j;
        for (j = 0; j < 4; j++) {
          uint32_t v = vs[j] & 0x7FFFFFFFu;
          g_u[n++] = v;
          g_u[n++] = 0x80000000u | v;
        }
      }
    }
  }
  assert_int_equal(stream(g_u, n, 0), 0);
}

static void random_u(void **state) {
  mt_xoshiro_t r = {{0x243F6A88u, 0x85A308D3u, 0x13198A2Eu, 0x03707344u}};
  uint32_t k;
  (void)state;
  for (k = 0; k < (1u << 20); k++) {
    g_u[k] = mt_xoshiro_next(&r);
  }
  assert_int_equal(stream(g_u, 1u << 20, 0), 0);
}

static void random_u_with_bubbles(void **state) {
  /* valid_i low one cycle in four on average: order, count and latency must hold. */
  mt_xoshiro_t r = {{0xA4093822u, 0x299F31D0u, 0x082EFA98u, 0xEC4E6C89u}};
  uint32_t k;
  (void)state;
  for (k = 0; k < (1u << 18); k++) {
    g_u[k] = mt_xoshiro_next(&r) >> (k % 32u);
  }
  assert_int_equal(stream(g_u, 1u << 18, 0x1234567u), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(kat),
      cmocka_unit_test(sweep_strided),
      cmocka_unit_test(sweep_ends_both_signs),
      cmocka_unit_test(segment_edges),
      cmocka_unit_test(random_u),
      cmocka_unit_test(random_u_with_bubbles),
  };
  cmocka_set_message_output(CM_OUTPUT_TAP);
  return cmocka_run_group_tests_name("rtl_gauss_icdf", tests, setup, teardown);
}
