/* Bit-exact test of rtl/mt_xoshiro128pp.sv (Verilated, sim/mt_xoshiro128pp_tb.cpp) against
 * mt_xoshiro_next in hls/mt_rng.h: known answers, 1e6 consecutive outputs from each of
 * several states, and random load/step patterns with the state compared every cycle. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mt_rng.h"
#include "mt_rtl_tb.h"

#define N_LONG 1000000u

static tb_xoshiro_t *g_tb;

static int setup(void **state) {
  (void)state;
  g_tb = tb_xoshiro_open();
  return g_tb ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_xoshiro_close(g_tb);
  return 0;
}

static void assert_rtl_state(const mt_xoshiro_t *ref) {
  uint32_t s[4];
  tb_xoshiro_state(g_tb, s);
  assert_memory_equal(s, ref->s, sizeof s);
}

/* Current output of a C lane without advancing it. */
static uint32_t peek(const mt_xoshiro_t *r) {
  mt_xoshiro_t c = *r;
  return mt_xoshiro_next(&c);
}

static void reset_state_is_s0_1(void **state) {
  const mt_xoshiro_t ref = {{1u, 0u, 0u, 0u}};
  (void)state;
  tb_xoshiro_reset(g_tb);
  assert_rtl_state(&ref);
  /* rotl(1 + 0, 7) + 1, and no step without step_i */
  assert_int_equal(tb_xoshiro_cycle(g_tb, 0, NULL, 0), 129u);
  assert_int_equal(tb_xoshiro_cycle(g_tb, 0, NULL, 0), 129u);
  assert_rtl_state(&ref);
}

static void kat_1234(void **state) {
  /* docs/protocol.md: xoshiro128++ from {1,2,3,4} */
  static const uint32_t want[8] = {0x00000281u, 0x00180387u, 0xC0183387u, 0xD1AE3B02u,
                                   0x31E2310Au, 0xFD275AB0u, 0xE67F7CECu, 0x50D07F0Fu};
  static const uint32_t s1234[4] = {1u, 2u, 3u, 4u};
  unsigned i;
  (void)state;
  (void)tb_xoshiro_cycle(g_tb, 1, s1234, 0);
  for (i = 0; i < 8; i++) {
    assert_int_equal(tb_xoshiro_cycle(g_tb, 0, NULL, 1), want[i]);
  }
}

/* Loads s and compares N_LONG consecutive outputs (one step per cycle) and the end state. */
static void run_long(const mt_xoshiro_t *start) {
  mt_xoshiro_t ref = *start;
  unsigned i, bad = 0;
  uint32_t first_i = 0, got = 0, want = 0;
  (void)tb_xoshiro_cycle(g_tb, 1, start->s, 1); /* load wins over step */
  assert_rtl_state(&ref);
  for (i = 0; i < N_LONG; i++) {
    uint32_t r = tb_xoshiro_cycle(g_tb, 0, NULL, 1);
    uint32_t c = mt_xoshiro_next(&ref);
    if (r != c && bad++ == 0) {
      first_i = i, got = r, want = c;
    }
  }
  if (bad) {
    print_message("%u mismatches; first at output %u: rtl %08x, C %08x\n", bad, first_i, got,
                  want);
  }
  assert_int_equal(bad, 0);
  assert_rtl_state(&ref);
}

static void long_streams(void **state) {
  mt_xoshiro_t lanes[MT_LANES];
  mt_xoshiro_t starts[6] = {{{1u, 2u, 3u, 4u}},
                            {{0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}},
                            {{0x80000000u, 0u, 0u, 0u}}};
  unsigned k;
  (void)state;
  mt_lanes_seed(lanes, 0);
  starts[3] = lanes[0];
  mt_lanes_seed(lanes, 1234567);
  starts[4] = lanes[15];
  mt_lanes_seed(lanes, UINT64_MAX);
  starts[5] = lanes[7];
  for (k = 0; k < 6; k++) {
    run_long(&starts[k]);
  }
}

static void random_load_step(void **state) {
  /* Control pattern from a separate C generator; the RTL lane must hold without step_i,
   * advance once per step_i, and take state_i on load_i whatever step_i is. */
  mt_xoshiro_t pat = {{0xC0FFEE01u, 0x12345678u, 0xDEADBEEFu, 0x0BADF00Du}};
  mt_xoshiro_t ref = {{5u, 6u, 7u, 8u}};
  unsigned i;
  (void)state;
  (void)tb_xoshiro_cycle(g_tb, 1, ref.s, 0);
  for (i = 0; i < 200000u; i++) {
    uint32_t ctl = mt_xoshiro_next(&pat);
    int load = (ctl & 0x3Fu) == 0u; /* 1 in 64 */
    int step = (ctl >> 8) & 1u;
    uint32_t ld[4];
    uint32_t r;
    ld[0] = mt_xoshiro_next(&pat);
    ld[1] = mt_xoshiro_next(&pat);
    ld[2] = mt_xoshiro_next(&pat);
    ld[3] = ctl & 0x80000000u ? 0u : mt_xoshiro_next(&pat);
    r = tb_xoshiro_cycle(g_tb, load, ld, step);
    assert_int_equal(r, peek(&ref));
    if (load) {
      memcpy(ref.s, ld, sizeof ld);
    } else if (step) {
      (void)mt_xoshiro_next(&ref);
    }
    assert_rtl_state(&ref);
  }
}

static void reset_mid_stream(void **state) {
  const mt_xoshiro_t one = {{1u, 0u, 0u, 0u}};
  static const uint32_t s[4] = {9u, 10u, 11u, 12u};
  (void)state;
  (void)tb_xoshiro_cycle(g_tb, 1, s, 0);
  (void)tb_xoshiro_cycle(g_tb, 0, NULL, 1);
  tb_xoshiro_reset(g_tb);
  assert_rtl_state(&one);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reset_state_is_s0_1),
      cmocka_unit_test(kat_1234),
      cmocka_unit_test(long_streams),
      cmocka_unit_test(random_load_step),
      cmocka_unit_test(reset_mid_stream),
  };
  cmocka_set_message_output(CM_OUTPUT_TAP);
  return cmocka_run_group_tests_name("rtl_xoshiro128pp", tests, setup, teardown);
}
