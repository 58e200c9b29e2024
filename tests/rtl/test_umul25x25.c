/* Test of rtl/mt_umul25x25.sv (Verilated at OW = 50, sim/mt_umul25x25_tb.cpp): p_o is
 * (a * b + c) mod 2^50 of the operands of two edges earlier, back to back every cycle, for
 * the corners of each partial product (a[24], b's split at bit 17, all ones) and random
 * operands. DRIFT's test_equiv runs cover the widths the engine uses (OW 49 and 41). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "mt_device.h"
#include "mt_rtl_tb.h"

#define LATENCY 2u
#define M25 0x1FFFFFFu
#define M50 ((1ull << 50) - 1u)

static uint64_t want(uint32_t a, uint32_t b, uint64_t c) {
  return ((uint64_t)a * b + c) & M50;
}

/* Streams n operand triples through the unit, one per cycle; returns the mismatches. */
static unsigned run(tb_umul_t *t, size_t n, const uint32_t *a, const uint32_t *b,
                    const uint64_t *c) {
  unsigned bad = 0;
  for (size_t i = 0; i < n + LATENCY; i++) {
    uint32_t ai = i < n ? a[i] : 0, bi = i < n ? b[i] : 0;
    uint64_t ci = i < n ? c[i] : 0;
    uint64_t p = tb_umul_cycle(t, ai, bi, ci);
    if (i >= LATENCY) {
      size_t k = i - LATENCY;
      if (p != want(a[k], b[k], c[k])) {
        if (bad < 5)
          print_message("a=%07x b=%07x c=%013llx: rtl %013llx, want %013llx\n", a[k], b[k],
                        (unsigned long long)c[k], (unsigned long long)p,
                        (unsigned long long)want(a[k], b[k], c[k]));
        bad++;
      }
    }
  }
  return bad;
}

static void corners(void **state) {
  static const uint32_t v[] = {0, 1, 2, 0x1FFFF, 0x20000, 0x3FFFF, 0xFFFFFF, 0x1000000,
                               0x1000001, 0x1FE0000, 0x1FFFFFE, M25};
  static const uint64_t cs[] = {0, 1, 1ull << 23, (1ull << 49) - 1, M50};
  enum { NV = sizeof v / sizeof v[0], NC = sizeof cs / sizeof cs[0], N = NV * NV * NC };
  static uint32_t a[N], b[N];
  static uint64_t c[N];
  size_t n = 0;
  tb_umul_t *t = tb_umul_open();
  (void)state;
  for (size_t i = 0; i < NV; i++)
    for (size_t j = 0; j < NV; j++)
      for (size_t k = 0; k < NC; k++, n++) {
        a[n] = v[i];
        b[n] = v[j];
        c[n] = cs[k];
      }
  assert_int_equal(run(t, n, a, b, c), 0);
  tb_umul_close(t);
}

static void random_operands(void **state) {
  enum { N = 1 << 16 };
  static uint32_t a[N], b[N];
  static uint64_t c[N];
  mt_xoshiro_t r = {{0x25u, 0x9E3779B9u, 0x7F4A7C15u, 7u}};
  tb_umul_t *t = tb_umul_open();
  (void)state;
  for (size_t i = 0; i < N; i++) {
    a[i] = mt_xoshiro_next(&r) & M25;
    b[i] = mt_xoshiro_next(&r) & M25;
    c[i] = ((uint64_t)mt_xoshiro_next(&r) << 32 | mt_xoshiro_next(&r)) & M50;
  }
  assert_int_equal(run(t, N, a, b, c), 0);
  tb_umul_close(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(corners),
      cmocka_unit_test(random_operands),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
