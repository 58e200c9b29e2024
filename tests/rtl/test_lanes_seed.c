/* Bit-exact and cycle-exact test of rtl/mt_lanes_seed.sv (Verilated, sim/mt_lanes_seed_tb.cpp)
 * against mt_lanes_seed in hls/mt_rng.c. A C model predicts, every cycle, busy_o, load_o and
 * (with a load) state_o: with seed_valid_i in cycle 0 (or the last reset cycle), lane l is
 * loaded with its mt_lanes_seed state in cycle MT_SEED_LOAD_AT(l) and busy_o is high in
 * cycles 1 .. MT_SEED_BUSY(MT_LANES) (sim/mt_rtl_tb.h, docs/rtl.md). A seed_valid_i restarts
 * the seeding whenever it comes; stop_i without seed_valid_i ends it (no load_o from its
 * cycle on); neither shows a load in its own cycle. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mt_rng.h"
#include "mt_rtl_tb.h"

#define BUSY_CYCLES MT_SEED_BUSY(MT_LANES)

typedef struct {
  int active;                 /* a seeding that has not ended or been stopped */
  uint64_t start;             /* its cycle 0 */
  mt_xoshiro_t lanes[MT_LANES];
  uint64_t cyc;               /* the cycle being driven */
  unsigned loads;             /* lane loads compared */
} ref_t;

static tb_seed_t *g_tb;
static ref_t g_ref;
static mt_xoshiro_t g_pat = {{0x243F6A88u, 0x85A308D3u, 0x13198A2Eu, 0x03707344u}};

static uint32_t rnd(void) { return mt_xoshiro_next(&g_pat); }
static uint64_t rnd64(void) { return (uint64_t)rnd() << 32 | rnd(); }

/* The seeding the C model expects from seed in cycle g_ref.cyc. */
static void ref_seed(uint64_t seed) {
  g_ref.active = 1;
  g_ref.start = g_ref.cyc;
  mt_lanes_seed(g_ref.lanes, seed);
}

static int setup(void **state) {
  (void)state;
  g_tb = tb_seed_open();
  if (!g_tb) return -1;
  memset(&g_ref, 0, sizeof g_ref);
  ref_seed(0); /* the last reset cycle is cycle 0 of seed 0 */
  g_ref.cyc = 1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tb_seed_close(g_tb);
  return 0;
}

/* One checked cycle with seed_valid_i/seed_i and stop_i. */
static void step(int seed_valid, uint64_t seed, int stop) {
  uint32_t st[4], load, want_load = 0;
  int busy, want_busy = 0;
  unsigned want_lane = MT_LANES;
  uint64_t t = g_ref.cyc - g_ref.start;
  if (g_ref.active) {
    unsigned l;
    want_busy = t >= 1u && t <= BUSY_CYCLES;
    for (l = 0; l < MT_LANES; l++) {
      if (t == MT_SEED_LOAD_AT(l) && !seed_valid && !stop) {
        want_load = 1u << l;
        want_lane = l;
      }
    }
  }
  load = tb_seed_cycle(g_tb, seed_valid, seed, stop, &busy, st);
  if (busy != want_busy || load != want_load ||
      (want_lane < MT_LANES && memcmp(st, g_ref.lanes[want_lane].s, sizeof st) != 0)) {
    print_message("cycle %llu (%llu into the seeding): rtl busy %d load %04x state {%08x %08x "
                  "%08x %08x}, C busy %d load %04x\n",
                  (unsigned long long)g_ref.cyc, (unsigned long long)t, busy, load, st[0], st[1],
                  st[2], st[3], want_busy, want_load);
    if (want_lane < MT_LANES) {
      const uint32_t *s = g_ref.lanes[want_lane].s;
      print_message("lane %u: C state {%08x %08x %08x %08x}\n", want_lane, s[0], s[1], s[2],
                    s[3]);
    }
    fail();
  }
  if (want_lane < MT_LANES) g_ref.loads++;
  if (seed_valid) {
    ref_seed(seed);
  } else if (stop) {
    g_ref.active = 0;
  } else if (g_ref.active && t >= BUSY_CYCLES) {
    g_ref.active = 0;
  }
  g_ref.cyc++;
}

static void run(unsigned cycles) {
  while (cycles-- > 0) step(0, 0, 0);
}

static void reset_both(void) {
  tb_seed_reset(g_tb);
  ref_seed(0);
  g_ref.cyc++;
}

static void power_on_seed_is_zero(void **state) {
  /* From the reset of setup(): all lanes of seed 0 at their cycles, then nothing. */
  unsigned l0;
  (void)state;
  l0 = g_ref.loads;
  run(BUSY_CYCLES + 10u);
  assert_int_equal(g_ref.loads - l0, MT_LANES);
  assert_false(g_ref.active);
}

static void seeds_match_c(void **state) {
  /* Every lane's state against mt_lanes_seed, for the protocol's seeds and random ones. */
  static const uint64_t seeds[] = {0u, 1u, 1234567u, UINT64_MAX, 0xFEDCBA9876543210ull,
                                   0x5EED5EED00000001ull, 0x8000000000000000ull};
  size_t k;
  unsigned l0 = g_ref.loads;
  (void)state;
  for (k = 0; k < sizeof seeds / sizeof seeds[0] + 8u; k++) {
    step(1, k < sizeof seeds / sizeof seeds[0] ? seeds[k] : rnd64(), 0);
    run(BUSY_CYCLES + 2u);
  }
  assert_int_equal(g_ref.loads - l0, (sizeof seeds / sizeof seeds[0] + 8u) * MT_LANES);
}

static void protocol_vectors(void **state) {
  /* docs/protocol.md, "Seeding: splitmix64": lanes 0 and 15 of seeds 0 and 1234567. */
  static const uint32_t s0_l0[4] = {0x7B1DCDAFu, 0xE220A839u, 0xA1B965F4u, 0x6E789E6Au};
  static const uint32_t s0_l15[4] = {0x72F3454Fu, 0xF16952EEu, 0xA8E40225u, 0x377D35DEu};
  static const uint32_t s1_l0[4] = {0xFB08FC85u, 0x599ED017u, 0x58540FA5u, 0x2C73F084u};
  static const uint32_t s1_l15[4] = {0x000F3E4Au, 0x4BF538C0u, 0xF4CF19FFu, 0xCD9AAE11u};
  (void)state;
  step(1, 0, 0);
  assert_memory_equal(g_ref.lanes[0].s, s0_l0, sizeof s0_l0);
  assert_memory_equal(g_ref.lanes[15].s, s0_l15, sizeof s0_l15);
  run(BUSY_CYCLES + 2u);
  step(1, 1234567u, 0);
  assert_memory_equal(g_ref.lanes[0].s, s1_l0, sizeof s1_l0);
  assert_memory_equal(g_ref.lanes[15].s, s1_l15, sizeof s1_l15);
  run(BUSY_CYCLES + 2u);
}

static void reseed_mid_seeding(void **state) {
  /* A second seed_valid_i k cycles into a seeding, for every k up to the end: the first
   * seeding's computation in flight is dropped, the second one runs whole. Also a seed with
   * stop_i in the same cycle (the seed wins). */
  unsigned k;
  (void)state;
  for (k = 0; k <= BUSY_CYCLES + 1u; k++) {
    unsigned l0;
    step(1, 0xAAAA0000u + k, 0);
    run(k);
    l0 = g_ref.loads;
    step(1, 0x55550000u + k, k % 3u == 0u);
    run(BUSY_CYCLES + 1u);
    assert_int_equal(g_ref.loads - l0, MT_LANES);
  }
}

static void stop_mid_seeding(void **state) {
  /* stop_i k cycles into a seeding, for every k: no load_o from that cycle on, busy_o low
   * after it; a next seed then runs whole (nothing of the stopped one leaks into it), also
   * when it comes while the stopped seeding's last output is still being computed. Held and
   * idle stops change nothing. */
  unsigned k;
  (void)state;
  for (k = 1; k <= BUSY_CYCLES + 1u; k++) {
    unsigned l0;
    step(1, 0x77770000u + k, 0);
    run(k - 1u);
    step(0, 0, 1);
    if (k % 2u) step(0, 0, 1);
    run(k % 5u);
    l0 = g_ref.loads;
    step(1, 0x33330000u + k, 0);
    run(BUSY_CYCLES + 1u);
    assert_int_equal(g_ref.loads - l0, MT_LANES);
    step(0, 0, 1);
  }
}

static void reset_mid_seeding(void **state) {
  /* rst_i during a seeding restarts it with seed 0. */
  unsigned k;
  (void)state;
  for (k = 0; k < 3u * MT_SM_CYCLES; k += 5u) {
    step(1, 0x1111u + k, 0);
    run(MT_SEED_LOAD_AT(3u) - MT_SM_CYCLES + k);
    reset_both();
    run(BUSY_CYCLES + 1u);
  }
}

static void random_seeds_stops(void **state) {
  /* 300 000 cycles with a seed every ~1500 cycles and a stop every ~2000, so that most
   * seedings are cut short and some run whole. */
  unsigned i, seeds = 0, stops = 0, l0 = g_ref.loads;
  (void)state;
  for (i = 0; i < 300000u; i++) {
    uint32_t r = rnd();
    int seed = r % 1500u == 0u;
    int stop = (r >> 12) % 2000u == 0u;
    seeds += (unsigned)seed;
    stops += (unsigned)stop;
    step(seed, seed ? rnd64() : 0u, stop);
  }
  print_message("# %u seeds, %u stops, %u lane loads compared\n", seeds, stops,
                g_ref.loads - l0);
  assert_true(seeds > 100u && stops > 50u && g_ref.loads - l0 > 1000u);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(power_on_seed_is_zero),
      cmocka_unit_test(seeds_match_c),
      cmocka_unit_test(protocol_vectors),
      cmocka_unit_test(reseed_mid_seeding),
      cmocka_unit_test(stop_mid_seeding),
      cmocka_unit_test(reset_mid_seeding),
      cmocka_unit_test(random_seeds_stops),
  };
  cmocka_set_message_output(CM_OUTPUT_TAP);
  return cmocka_run_group_tests_name("rtl_lanes_seed", tests, setup, teardown);
}
