/* Bit-exact test of rtl/mt_isqrt64.sv (Verilated, sim/mt_isqrt64_tb.cpp) against mt_isqrt64 in
 * hls/mt_device.c: perfect squares and their neighbours over the whole range, the extremes,
 * random values of every bit length, the cycle count, and a restart while busy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "mt_device.h"
#include "mt_rtl_tb.h"

#define CYCLES 32 /* docs/rtl.md: 32 iterations, 1 per cycle */

static tb_isqrt_t *g_tb;

static int setup(void **state) {
  (void)state;
  g_tb = tb_isqrt_open();
  return g_tb ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_isqrt_close(g_tb);
  return 0;
}

/* Starts a root of v; checks that valid_o is low for exactly CYCLES cycles and returns the
 * root it then shows. */
static uint32_t rtl_isqrt(uint64_t v) {
  uint32_t root;
  tb_isqrt_cycle(g_tb, 1, v, &root);
  for (int c = 1; c < CYCLES + 1; c++) assert_int_equal(tb_isqrt_cycle(g_tb, 0, 0, &root), 0);
  assert_int_equal(tb_isqrt_cycle(g_tb, 0, 0, &root), 1);
  return root;
}

static unsigned check(uint64_t v) {
  uint32_t got = rtl_isqrt(v), want = mt_isqrt64(v);
  if (got != want) {
    print_message("v=%016llx: rtl %u, C %u\n", (unsigned long long)v, got, want);
    return 1;
  }
  return 0;
}

static void squares_and_extremes(void **state) {
  unsigned bad = 0, n = 0;
  (void)state;
  static const uint64_t fixed[] = {0, 1, 2, 3, 4, 5, 8, 9, 15, 16, 17, UINT64_MAX,
                                   UINT64_MAX - 1, 1ull << 62, (1ull << 62) - 1, 1ull << 63,
                                   (1ull << 63) - 1, 0xFFFFFFFE00000001ull,
                                   0xFFFFFFFE00000000ull};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++, n++) bad += check(fixed[i]);
  /* k^2 - 1, k^2, k^2 + 1 for k = 2^b - 1, 2^b, 2^b + 1 and every b */
  for (unsigned b = 0; b < 32; b++) {
    for (int dk = -1; dk <= 1; dk++) {
      uint64_t k = (1ull << b) + (uint64_t)(int64_t)dk;
      if (k > 0xFFFFFFFFull) continue;
      for (int dv = -1; dv <= 1; dv++, n++) bad += check(k * k + (uint64_t)(int64_t)dv);
    }
  }
  print_message("# %u fixed values, %u mismatches\n", n, bad);
  assert_int_equal(bad, 0);
}

static uint64_t next64(mt_xoshiro_t *r) {
  uint64_t lo = mt_xoshiro_next(r);
  return lo | (uint64_t)mt_xoshiro_next(r) << 32;
}

static void random_values(void **state) {
  mt_xoshiro_t r = {{0x15A5u, 0x9E3779B9u, 0x7F4A7C15u, 1u}};
  unsigned bad = 0;
  (void)state;
  /* 2^16 values: a random bit length, then random bits below it */
  for (unsigned i = 0; i < (1u << 16); i++) {
    uint64_t v = next64(&r);
    unsigned len = mt_xoshiro_next(&r) % 65u;
    bad += check(len == 64 ? v : v & ((1ull << len) - 1u));
  }
  /* 2^14 perfect squares of random k and their neighbours */
  for (unsigned i = 0; i < (1u << 14); i++) {
    uint64_t k = mt_xoshiro_next(&r);
    bad += check(k * k);
    bad += check(k * k - 1u);
  }
  assert_int_equal(bad, 0);
}

/* A start while busy drops the root in flight; valid_o holds between starts. */
static void restart_and_hold(void **state) {
  uint32_t root;
  (void)state;
  tb_isqrt_cycle(g_tb, 1, 1000000ull * 1000000ull, &root);
  for (int c = 0; c < 5; c++) tb_isqrt_cycle(g_tb, 0, 0, &root);
  assert_int_equal(rtl_isqrt(144), 12);
  for (int c = 0; c < 40; c++) {
    assert_int_equal(tb_isqrt_cycle(g_tb, 0, 0xFFFFull, &root), 1);
    assert_int_equal(root, 12);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(squares_and_extremes),
      cmocka_unit_test(random_values),
      cmocka_unit_test(restart_and_hold),
  };
  cmocka_set_message_output(CM_OUTPUT_TAP);
  return cmocka_run_group_tests_name("rtl_isqrt64", tests, setup, teardown);
}
