/* rtl/mt_skid.sv (Verilated, sim/mt_skid_tb.cpp), the registered stream buffer of the thin
 * top rtl/mt_pins_top.sv: every word that is offered and accepted comes out once, in order,
 * under random valid and ready; words held while not accepted are not taken; with both sides
 * always ready it passes one word per cycle. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mt_rtl_tb.h"

static tb_skid_t *g_tb;

static int setup(void **state) {
  (void)state;
  g_tb = tb_skid_open();
  return g_tb ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_skid_close(g_tb);
  return 0;
}

static uint32_t lcg(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

/* Word k of the stream: 33 bits that differ from their neighbours in both halves. */
static uint64_t word(uint64_t k) { return ((k * 0x9E3779B97F4A7C15ull) >> 20) & ((1ull << 33) - 1); }

/* Streams n words with valid and ready each high with the given percentage; returns cycles. */
static unsigned run_stream(unsigned n, unsigned pv, unsigned pr, uint32_t seed) {
  uint64_t sent = 0, got = 0;
  int offering = 0;
  unsigned cycles = 0;
  while (got < n) {
    assert_true(cycles < 100u * n + 100u);
    /* A source that raised valid keeps the same word until it is taken (AXI rule). */
    if (!offering && sent < n) offering = lcg(&seed) % 100 < pv;
    const int ready = (int)(lcg(&seed) % 100 < pr);
    int in_ready, out_valid;
    uint64_t out;
    tb_skid_cycle(g_tb, offering, offering ? word(sent) : 0x1FFFFFFFFull, ready, &in_ready,
                  &out_valid, &out);
    if (out_valid && ready) {
      if (out != word(got)) fail_msg("word %llu: got %llx, want %llx", (unsigned long long)got,
                                     (unsigned long long)out, (unsigned long long)word(got));
      got++;
    }
    if (offering && in_ready) {
      sent++;
      offering = 0;
    }
    cycles++;
  }
  assert_int_equal(sent, n);
  return cycles;
}

static void random_valid_ready(void **state) {
  (void)state;
  const unsigned pct[] = {100, 90, 50, 10};
  for (unsigned i = 0; i < 4; i++)
    for (unsigned j = 0; j < 4; j++) run_stream(2000, pct[i], pct[j], 1u + 4 * i + j);
}

static void full_throughput(void **state) {
  (void)state;
  /* One word per cycle, plus the one cycle of the output register. */
  assert_int_equal(run_stream(1000, 100, 100, 7), 1001);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(random_valid_ready),
      cmocka_unit_test(full_throughput),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
