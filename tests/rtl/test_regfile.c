/* Bit-exact test of the register file's counters (rtl/mt_regfile.sv, Verilated through
 * sim/mt_regfile_tb.cpp) against mt_count in hls/mt_device.h: random increments of every
 * size on every costed counter, random energy and latency fields of up to 32 bits, bursts of
 * back-to-back increments, the exact time cnt_busy_o stays high after one increment, and
 * the cycle a register write lands in.
 * The energy and latency sums are the part computed by the time-shared cost multipliers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mt_device.h"
#include "mt_rng.h"
#include "mt_rtl_tb.h"

/* Cycles of cnt_busy_o from one increment of fewer than 2^16 events (docs/rtl.md,
 * "Counters"): of a counter with an energy or latency cost, and of one without. */
#define BUSY_ONE 12
#define BUSY_ONE_FREE 2
/* cnt_busy_o after the last increment of a burst, at most: the job in progress (6 steps),
 * a job for the rest (6), the take cycles and the 7-stage pipeline. */
#define BUSY_MAX 30

static tb_regfile_t *g_tb;
static mt_regs_t g_ref;
static uint64_t g_rng;

static int setup(void **state) {
  (void)state;
  g_tb = tb_regfile_open();
  if (!g_tb) return -1;
  memset(&g_ref, 0, sizeof g_ref);
  g_rng = 0x5EED0F7E57ull;
  return tb_regfile_counters(g_tb) == MT_CNT_COUNT ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_regfile_close(g_tb);
  return 0;
}

static uint32_t rnd(void) { return (uint32_t)mt_splitmix64_next(&g_rng); }

/* A count of every magnitude: small, below 2^16, and up to 2^32 - 1. */
static uint32_t rnd_count(void) {
  switch (rnd() % 4) {
  case 0: return rnd() % 4;
  case 1: return rnd() & 0xFFFFu;
  default: return rnd();
  }
}

static void idle(uint32_t raddr, uint32_t *rdata) { tb_regfile_cycle(g_tb, 0, 0, 0, NULL, raddr, rdata); }

static void write_cfg(uint32_t field, uint32_t v) {
  uint32_t rd;
  tb_regfile_cycle(g_tb, 1, MT_G_CFG + field, v, NULL, 0, &rd);
  g_ref.cfg[field] = v;
}

/* Every energy and latency field gets a random value of a random magnitude. */
static void random_costs(void) {
  for (uint32_t c = 0; c < MT_CNT_COUNT; c++) {
    if (mt_cnt_energy_cfg[c] != MT_CFG_COUNT) write_cfg(mt_cnt_energy_cfg[c], rnd_count());
    if (mt_cnt_latency_cfg[c] != MT_CFG_COUNT) write_cfg(mt_cnt_latency_cfg[c], rnd_count());
  }
}

/* The image read port's word arrives two cycles after its address (docs/rtl.md). */
static uint64_t read_counter(uint32_t c) {
  uint32_t lo, hi, rd;
  idle(MT_G_COUNTERS + 2 * c, &rd);
  idle(MT_G_COUNTERS + 2 * c + 1, &rd);
  idle(0, &lo);
  idle(0, &hi);
  return (uint64_t)hi << 32 | lo;
}

static void check_counters(void) {
  for (uint32_t c = 0; c < MT_CNT_COUNT; c++) {
    uint64_t got = read_counter(c);
    if (got != g_ref.counters[c])
      fail_msg("counter %u: rtl %llu, C %llu", c, (unsigned long long)got,
               (unsigned long long)g_ref.counters[c]);
  }
}

/* One cycle of increments; returns cnt_busy_o. */
static int increment(const uint32_t inc[MT_CNT_COUNT]) {
  uint32_t rd;
  for (uint32_t c = 0; c < MT_CNT_COUNT; c++)
    if (inc[c]) mt_count(&g_ref, c, inc[c]);
  return tb_regfile_cycle(g_tb, 0, 0, 0, inc, 0, &rd);
}

/* Cycles until cnt_busy_o falls (it must fall within max). */
static int drain(int max) {
  uint32_t rd;
  for (int n = 0; n <= max; n++)
    if (!tb_regfile_cycle(g_tb, 0, 0, 0, NULL, 0, &rd)) return n;
  fail_msg("cnt_busy_o still high %d cycles after the last increment", max);
  return -1;
}

static void one_increment_latency(void **state) {
  (void)state;
  random_costs();
  for (uint32_t c = 0; c < MT_CNT_ENERGY_FJ; c++) {
    uint32_t inc[MT_CNT_COUNT] = {0};
    inc[c] = 1 + rnd() % 0xFFFFu;
    int costed = mt_cnt_energy_cfg[c] != MT_CFG_COUNT || mt_cnt_latency_cfg[c] != MT_CFG_COUNT;
    assert_int_equal(increment(inc), 1);
    /* busy in the increment's cycle and the rest after it */
    assert_int_equal(drain(BUSY_ONE), (costed ? BUSY_ONE : BUSY_ONE_FREE) - 1);
    check_counters();
  }
}

static void random_bursts(void **state) {
  (void)state;
  for (int burst = 0; burst < 300; burst++) {
    if (burst % 10 == 0) random_costs();  /* only while idle, as the device guarantees */
    int len = 1 + (int)(rnd() % 40);
    for (int k = 0; k < len; k++) {
      uint32_t inc[MT_CNT_COUNT] = {0};
      /* Engines never add to ENERGY_FJ or LATENCY_PS themselves. */
      for (uint32_t c = 0; c < MT_CNT_ENERGY_FJ; c++)
        if (rnd() % 3 == 0) inc[c] = rnd_count();
      /* a few idle cycles inside a burst: jobs start and end at every phase */
      if (rnd() % 8 == 0) memset(inc, 0, sizeof inc);
      increment(inc);
    }
    drain(BUSY_MAX);
    if (burst % 25 == 0) check_counters();
  }
  check_counters();
}

/* The image read port's configuration words (a block-RAM copy of the fields, docs/rtl.md
 * "Register file"): the word read at cycle t is the field as of every write up to cycle t,
 * including a write to the same word in cycle t or t - 1, and a field never written reads 0
 * after the power-on clear. Reads and writes go to a few fields so that they collide often. */
static void cfg_read_port(void **state) {
  (void)state;
  uint32_t rd;
  /* every field once, as the earlier tests and the clear left it */
  for (uint32_t f = 0; f < MT_CFG_COUNT + 2; f++) {
    uint32_t want = f >= 2 ? g_ref.cfg[f - 2] : 0;
    tb_regfile_cycle(g_tb, 0, 0, 0, NULL, f < MT_CFG_COUNT ? MT_G_CFG + f : 0, &rd);
    if (f >= 2 && rd != want) fail_msg("cfg field %u: rtl 0x%08x, C 0x%08x", f - 2, rd, want);
  }
  uint32_t exp[2] = {0, 0};
  int has[2] = {0, 0};
  for (int k = 0; k < 20000; k++) {
    uint32_t rf = rnd() % 4 == 0 ? rnd() % MT_CFG_COUNT : rnd() % 3;
    uint32_t wf = rnd() % 4 == 0 ? rnd() % MT_CFG_COUNT : rnd() % 3;
    int we = rnd() % 2;
    uint32_t v = rnd();
    tb_regfile_cycle(g_tb, we, MT_G_CFG + wf, v, NULL, MT_G_CFG + rf, &rd);
    if (has[0] && rd != exp[0])
      fail_msg("cycle %d: image read of a cfg field: rtl 0x%08x, C 0x%08x", k, rd, exp[0]);
    if (we) g_ref.cfg[wf] = v;
    exp[0] = exp[1];
    has[0] = has[1];
    exp[1] = g_ref.cfg[rf];
    has[1] = 1;
  }
}

/* A register word is written in the cycle after its g_ write, and cnt_busy_o is high in that
 * cycle, so that the next command cannot start before the word lands (docs/rtl.md, "Register
 * file"). Each counter's halves are written and read back through the image port. */
static void register_write_lands(void **state) {
  (void)state;
  uint32_t rd;
  idle(0, &rd);
  for (uint32_t c = 0; c < MT_CNT_COUNT; c++) {
    for (uint32_t h = 0; h < 2; h++) {
      uint32_t v = rnd();
      assert_int_equal(tb_regfile_cycle(g_tb, 1, MT_G_COUNTERS + 2 * c + h, v, NULL, 0, &rd), 0);
      assert_int_equal(tb_regfile_cycle(g_tb, 0, 0, 0, NULL, 0, &rd), 1);
      assert_int_equal(tb_regfile_cycle(g_tb, 0, 0, 0, NULL, 0, &rd), 0);
      g_ref.counters[c] = h ? (g_ref.counters[c] & 0xFFFFFFFFull) | (uint64_t)v << 32
                            : (g_ref.counters[c] & ~0xFFFFFFFFull) | v;
    }
  }
  check_counters();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(one_increment_latency),
      cmocka_unit_test(random_bursts),
      cmocka_unit_test(cfg_read_port),
      cmocka_unit_test(register_write_lands),
  };
  cmocka_set_message_output(CM_OUTPUT_TAP);
  return cmocka_run_group_tests(tests, setup, teardown);
}
