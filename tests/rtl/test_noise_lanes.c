/* Bit-exact test of rtl/mt_noise_lanes.sv (Verilated, sim/mt_noise_lanes_tb.cpp) against
 * mt_lanes_seed and mt_xoshiro_next in hls/mt_rng.{c,h}: the state of every lane after
 * seeding (reset = seed 0, seeds 0, 1, 1234567, 2^64-1, ...), the seeding time, restarts,
 * and per-lane stepping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mt_rng.h"
#include "mt_rtl_tb.h"

/* docs/rtl.md: ready_o is low for MT_SEED_BUSY(LANES) = 2*K*LANES + 4 cycles (K =
 * MT_SM_CYCLES per splitmix64 output, sim/mt_rtl_tb.h) after the cycle that samples
 * seed_valid_i (or the last reset cycle) and high from the next one on. */
#define SEED_BUSY_CYCLES MT_SEED_BUSY(MT_LANES)
#define ALL_LANES ((uint32_t)((1ull << MT_LANES) - 1u))

static tb_lanes_t *g_tb;

static int setup(void **state) {
  (void)state;
  g_tb = tb_lanes_open();
  return g_tb ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_lanes_close(g_tb);
  return 0;
}

/* Cycles until ready_o (the call that sees it is not counted), driving step_mask. */
static unsigned wait_ready(uint32_t step_mask) {
  unsigned n = 0;
  while (!tb_lanes_cycle(g_tb, 0, 0, step_mask, NULL)) {
    n++;
    assert_true(n <= SEED_BUSY_CYCLES);
  }
  return n;
}

/* Seeds in one cycle and returns the cycles ready_o stayed low. */
static unsigned seed_rtl(uint64_t seed, uint32_t step_mask) {
  (void)tb_lanes_cycle(g_tb, 1, seed, step_mask, NULL);
  return wait_ready(step_mask);
}

static void assert_lanes(const mt_xoshiro_t ref[MT_LANES]) {
  unsigned l;
  for (l = 0; l < MT_LANES; l++) {
    uint32_t s[4];
    tb_lanes_state(g_tb, l, s);
    if (memcmp(s, ref[l].s, sizeof s) != 0) {
      print_message("lane %u: rtl {%08x %08x %08x %08x} C {%08x %08x %08x %08x}\n", l, s[0],
                    s[1], s[2], s[3], ref[l].s[0], ref[l].s[1], ref[l].s[2], ref[l].s[3]);
    }
    assert_memory_equal(s, ref[l].s, sizeof s);
  }
}

static void assert_seeded(uint64_t seed) {
  mt_xoshiro_t ref[MT_LANES];
  mt_lanes_seed(ref, seed);
  assert_lanes(ref);
}

static void lane_count(void **state) {
  (void)state;
  assert_int_equal(tb_lanes_count(g_tb), MT_LANES);
}

static void power_on_seed_is_zero(void **state) {
  (void)state;
  tb_lanes_reset(g_tb);
  assert_int_equal(wait_ready(0), SEED_BUSY_CYCLES);
  assert_seeded(0);
}

static void seeds_match_c(void **state) {
  static const uint64_t seeds[] = {0u, 1u, 1234567u, UINT64_MAX, 0xFEDCBA9876543210ull,
                                   0x5EED5EED00000001ull, 0x8000000000000000ull};
  size_t k;
  (void)state;
  for (k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
    assert_int_equal(seed_rtl(seeds[k], 0), SEED_BUSY_CYCLES);
    assert_seeded(seeds[k]);
  }
}

static void seed_vectors(void **state) {
  /* docs/protocol.md, "Seeding: splitmix64" */
  static const uint32_t s0_l0[4] = {0x7B1DCDAFu, 0xE220A839u, 0xA1B965F4u, 0x6E789E6Au};
  static const uint32_t s0_l15[4] = {0x72F3454Fu, 0xF16952EEu, 0xA8E40225u, 0x377D35DEu};
  static const uint32_t s1_l0[4] = {0xFB08FC85u, 0x599ED017u, 0x58540FA5u, 0x2C73F084u};
  static const uint32_t s1_l15[4] = {0x000F3E4Au, 0x4BF538C0u, 0xF4CF19FFu, 0xCD9AAE11u};
  uint32_t s[4];
  (void)state;
  (void)seed_rtl(0, 0);
  tb_lanes_state(g_tb, 0, s);
  assert_memory_equal(s, s0_l0, sizeof s);
  tb_lanes_state(g_tb, 15, s);
  assert_memory_equal(s, s0_l15, sizeof s);
  (void)seed_rtl(1234567, 0);
  tb_lanes_state(g_tb, 0, s);
  assert_memory_equal(s, s1_l0, sizeof s);
  tb_lanes_state(g_tb, 15, s);
  assert_memory_equal(s, s1_l15, sizeof s);
}

static void seeding_timeline(void **state) {
  /* Seed in cycle 0: lane l holds its new state from cycle MT_SEED_LOAD_AT(l)+1 on (loaded
   * at the edge ending cycle MT_SEED_LOAD_AT(l) = 2*K*(l+1) + 4), ready_o is low in cycles
   * 1 .. SEED_BUSY_CYCLES. */
  mt_xoshiro_t ref[MT_LANES];
  unsigned c, l;
  (void)state;
  (void)seed_rtl(0x1111u, 0);
  mt_lanes_seed(ref, 0x2222u);
  (void)tb_lanes_cycle(g_tb, 1, 0x2222u, 0, NULL);
  for (c = 1; c <= SEED_BUSY_CYCLES + 1u; c++) {
    for (l = 0; l < MT_LANES; l++) {
      uint32_t s[4];
      tb_lanes_state(g_tb, l, s);
      assert_int_equal(memcmp(s, ref[l].s, sizeof s) == 0, c >= MT_SEED_LOAD_AT(l) + 1u);
    }
    assert_int_equal(tb_lanes_cycle(g_tb, 0, 0, 0, NULL), c == SEED_BUSY_CYCLES + 1u);
  }
}

static void steps_ignored_while_seeding(void **state) {
  (void)state;
  assert_int_equal(seed_rtl(42u, ALL_LANES), SEED_BUSY_CYCLES);
  /* the cycle that first sees ready_o stepped every lane once */
  {
    mt_xoshiro_t ref[MT_LANES];
    unsigned l;
    mt_lanes_seed(ref, 42u);
    for (l = 0; l < MT_LANES; l++) (void)mt_xoshiro_next(&ref[l]);
    assert_lanes(ref);
  }
}

static void reseed_restarts(void **state) {
  /* A second seed_valid_i k cycles into a seeding wins, whatever k. */
  unsigned k;
  (void)state;
  for (k = 0; k <= SEED_BUSY_CYCLES + 1u; k++) {
    unsigned i;
    (void)tb_lanes_cycle(g_tb, 1, 0xAAAAu + k, 0, NULL);
    for (i = 0; i < k; i++) (void)tb_lanes_cycle(g_tb, 0, 0, 0, NULL);
    assert_int_equal(seed_rtl(0x5555u + k, 0), SEED_BUSY_CYCLES);
    assert_seeded(0x5555u + k);
  }
}

static void per_lane_steps(void **state) {
  /* Random step masks; every lane's out_o must be the output of its C lane's current
   * state, every cycle, and stepping a lane must not touch the others. A reseed in the
   * middle restarts everything. */
  mt_xoshiro_t ref[MT_LANES];
  mt_xoshiro_t pat = {{0x31415926u, 0x27182818u, 0x16180339u, 0x14142135u}};
  uint32_t out[MT_LANES];
  unsigned i, l;
  (void)state;
  (void)seed_rtl(0x0123456789ABCDEFull, 0);
  mt_lanes_seed(ref, 0x0123456789ABCDEFull);
  for (i = 0; i < 50000u; i++) {
    uint32_t mask = mt_xoshiro_next(&pat) & mt_xoshiro_next(&pat) & ALL_LANES; /* p = 1/4 */
    if (i == 20000u) {
      (void)seed_rtl(99u, 0);
      mt_lanes_seed(ref, 99u);
    }
    if (i % 1000u == 0u) mask = ALL_LANES;
    assert_true(tb_lanes_cycle(g_tb, 0, 0, mask, out));
    for (l = 0; l < MT_LANES; l++) {
      mt_xoshiro_t c = ref[l];
      assert_int_equal(out[l], mt_xoshiro_next(&c));
      if (mask >> l & 1u) ref[l] = c;
    }
  }
  assert_lanes(ref);
}

static void reset_reseeds_zero(void **state) {
  (void)state;
  (void)seed_rtl(7u, 0);
  (void)tb_lanes_cycle(g_tb, 0, 0, ALL_LANES, NULL);
  tb_lanes_reset(g_tb);
  assert_int_equal(wait_ready(0), SEED_BUSY_CYCLES);
  assert_seeded(0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lane_count),
      cmocka_unit_test(power_on_seed_is_zero),
      cmocka_unit_test(seeds_match_c),
      cmocka_unit_test(seed_vectors),
      cmocka_unit_test(seeding_timeline),
      cmocka_unit_test(steps_ignored_while_seeding),
      cmocka_unit_test(reseed_restarts),
      cmocka_unit_test(per_lane_steps),
      cmocka_unit_test(reset_reseeds_zero),
  };
  cmocka_set_message_output(CM_OUTPUT_TAP);
  return cmocka_run_group_tests_name("rtl_noise_lanes", tests, setup, teardown);
}
