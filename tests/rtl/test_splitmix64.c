/* Bit-exact and cycle-exact test of rtl/mt_splitmix64.sv (Verilated,
 * sim/mt_splitmix64_tb.cpp) against mt_splitmix64_next in hls/mt_rng.h. A C model of the
 * handshake predicts, every cycle, ready_o, valid_o and (with valid_o) z_o: a request is
 * next_i with ready_o and without load_i; its result comes MT_SM_LATENCY cycles after the
 * edge that took it; ready_o is high when idle and from MT_SM_CYCLES cycles after the last
 * request taken; load_i sets x and drops every result not yet shown. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mt_rng.h"
#include "mt_rtl_tb.h"

typedef struct {
  uint64_t x;         /* the C generator's counter */
  uint64_t cyc;       /* the cycle being driven */
  int busy;           /* a request was taken since the last load or reset */
  uint64_t taken_at;  /* cycle whose edge took the last request */
  uint64_t due[2];    /* results in flight: cycle of their valid_o, value */
  uint64_t val[2];
  unsigned n;         /* results in flight (at most 2: one drains while the next starts) */
  uint64_t results;   /* results compared */
} ref_t;

static tb_sm_t *g_tb;
static ref_t g_ref;
static mt_xoshiro_t g_pat = {{0x9E3779B9u, 0x7F4A7C15u, 0xBF58476Du, 0x1CE4E5B9u}};

static uint32_t rnd(void) { return mt_xoshiro_next(&g_pat); }
static uint64_t rnd64(void) { return (uint64_t)rnd() << 32 | rnd(); }

static void ref_reset(uint64_t seed) {
  g_ref.x = seed;
  g_ref.busy = 0;
  g_ref.n = 0;
}

static int setup(void **state) {
  (void)state;
  g_tb = tb_sm_open();
  if (!g_tb) return -1;
  memset(&g_ref, 0, sizeof g_ref);
  ref_reset(0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tb_sm_close(g_tb);
  return 0;
}

/* One checked cycle; returns whether the request (next) was taken. */
static int step(int load, uint64_t seed, int next) {
  int ready, valid, want_ready, want_valid, taken;
  uint64_t z;
  want_ready = !g_ref.busy || g_ref.cyc >= g_ref.taken_at + MT_SM_CYCLES;
  want_valid = g_ref.n > 0 && g_ref.due[0] == g_ref.cyc;
  valid = tb_sm_cycle(g_tb, load, seed, next, &ready, &z);
  if (ready != want_ready || valid != want_valid || (want_valid && z != g_ref.val[0])) {
    print_message("cycle %llu: rtl ready %d valid %d z %016llx, C ready %d valid %d z %016llx\n",
                  (unsigned long long)g_ref.cyc, ready, valid, (unsigned long long)z, want_ready,
                  want_valid, (unsigned long long)(want_valid ? g_ref.val[0] : 0u));
    fail();
  }
  if (want_valid) {
    g_ref.results++;
    g_ref.n--;
    g_ref.due[0] = g_ref.due[1];
    g_ref.val[0] = g_ref.val[1];
  }
  taken = next && ready && !load;
  if (load) {
    ref_reset(seed);
  } else if (taken) {
    assert_true(g_ref.n < 2u);
    g_ref.due[g_ref.n] = g_ref.cyc + MT_SM_LATENCY;
    g_ref.val[g_ref.n] = mt_splitmix64_next(&g_ref.x);
    g_ref.n++;
    g_ref.busy = 1;
    g_ref.taken_at = g_ref.cyc;
  }
  g_ref.cyc++;
  return taken;
}

static void reset_both(void) {
  tb_sm_reset(g_tb);
  ref_reset(0);
  g_ref.cyc++;
}

static void power_on_vectors(void **state) {
  /* docs/protocol.md, "Seeding: splitmix64": from x = 0. One request, then nothing until the
   * result, exactly MT_SM_LATENCY cycles later. */
  static const uint64_t want[4] = {0xE220A8397B1DCDAFull, 0x6E789E6AA1B965F4ull,
                                   0x06C45D188009454Full, 0xF88BB8A8724C81ECull};
  unsigned k, c;
  (void)state;
  for (k = 0; k < 4u; k++) {
    uint64_t before = g_ref.results;
    assert_true(step(0, 0, 1));
    assert_int_equal(g_ref.val[0], want[k]);
    for (c = 1; c <= MT_SM_LATENCY; c++) (void)step(0, 0, 0);
    assert_int_equal(g_ref.results, before + 1u);
  }
}

static void back_to_back(void **state) {
  /* next_i held high: one request every MT_SM_CYCLES cycles, every result compared. */
  unsigned c, taken = 0;
  uint64_t r0;
  (void)state;
  reset_both();
  (void)step(1, 0x0123456789ABCDEFull, 0);
  r0 = g_ref.results;
  for (c = 0; c < 1000u * MT_SM_CYCLES; c++) {
    if (step(0, 0, 1)) {
      assert_int_equal(c % MT_SM_CYCLES, 0);
      taken++;
    }
  }
  assert_int_equal(taken, 1000u);
  for (c = 0; c < MT_SM_LATENCY; c++) (void)step(0, 0, 0);
  assert_int_equal(g_ref.results - r0, 1000u);
}

static void load_drops_in_flight(void **state) {
  /* A load at every cycle offset of a computation (and of two overlapping ones) drops their
   * results and restarts from the new seed; a request in the load's cycle is not taken. */
  unsigned k, c;
  (void)state;
  for (k = 0; k <= MT_SM_CYCLES + MT_SM_LATENCY + 1u; k++) {
    (void)step(1, 0xAAAA0000u + k, 0);
    for (c = 0; c < k; c++) (void)step(0, 0, 1);
    assert_false(step(1, 0x55550000u + k, 1));
    for (c = 0; c < 2u * MT_SM_CYCLES + MT_SM_LATENCY; c++) (void)step(0, 0, c < MT_SM_CYCLES);
    assert_int_equal(g_ref.n, 0);
  }
}

static void random_handshake(void **state) {
  /* 300 000 cycles of next_i high half of the time (also when ready_o is low: ignored),
   * occasional idle and full-rate bursts, and a load every ~1000 cycles. */
  unsigned i, loads = 0;
  uint64_t r0 = g_ref.results;
  (void)state;
  for (i = 0; i < 300000u; i++) {
    uint32_t r = rnd();
    int next = (r & 1u) != 0u;
    if ((r >> 8) % 64u == 0u) next = (r >> 14) & 1u; /* bursts */
    if ((r >> 16) % 1024u == 0u) {
      (void)step(1, rnd64(), next);
      loads++;
    } else {
      (void)step(0, 0, next);
    }
  }
  print_message("# %u loads, %llu results compared\n", loads,
                (unsigned long long)(g_ref.results - r0));
  assert_true(loads > 100u && g_ref.results - r0 > 5000u);
}

static void reset_restarts(void **state) {
  /* rst_i in the middle of a computation: x = 0 again, nothing in flight. */
  unsigned c;
  (void)state;
  (void)step(1, 42u, 0);
  for (c = 0; c < 30u; c++) (void)step(0, 0, 1);
  reset_both();
  assert_true(step(0, 0, 1));
  assert_int_equal(g_ref.val[0], 0xE220A8397B1DCDAFull);
  for (c = 0; c < MT_SM_LATENCY; c++) (void)step(0, 0, 0);
  assert_int_equal(g_ref.n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(power_on_vectors),
      cmocka_unit_test(back_to_back),
      cmocka_unit_test(load_drops_in_flight),
      cmocka_unit_test(random_handshake),
      cmocka_unit_test(reset_restarts),
  };
  cmocka_set_message_output(CM_OUTPUT_TAP);
  return cmocka_run_group_tests_name("rtl_splitmix64", tests, setup, teardown);
}
