/* The RTL assertions fire (docs/rtl.md, "Assertions"): rtl/mt_bus_check and rtl/mt_axis_check,
 * Verilated with the same flags as mt_device (assertions on), see no failure while the inputs
 * keep the rules and exactly the expected failures when a rule is broken on purpose: an idle
 * engine driving a shared bus, two engines active, tvalid dropped or tdata / tlast changed
 * before tready. So the assertions that mt_device instantiates cannot be silently dead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mt_rtl_tb.h"

static tb_sva_t *g_tb;

static int setup(void **state) {
  (void)state;
  g_tb = tb_sva_open();
  return g_tb ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_sva_close(g_tb);
  return 0;
}

/* Bus-only and stream-only cycles (the other side idle). */
static int bus(unsigned start, unsigned done, unsigned drives) {
  return tb_sva_cycle(g_tb, 0, start, done, drives, 0, 0, 0, 0);
}
static int axis(int valid, int ready, unsigned data, int last) {
  return tb_sva_cycle(g_tb, 0, 0, 0, 0, valid, ready, data, last);
}
static void reset(void) { tb_sva_cycle(g_tb, 1, 0, 0, 0, 0, 0, 0, 0); }

static void bus_rule_kept(void **state) {
  (void)state;
  reset();
  int fired = 0;
  for (unsigned e = 0; e < 3; e++) {
    fired += bus(1u << e, 0, 0);      /* start: the engine is still idle, drives 0 */
    fired += bus(0, 0, 1u << e);      /* active: drives */
    fired += bus(0, 0, 1u << e);
    fired += bus(0, 1u << e, 1u << e); /* done (still active in this cycle) */
    fired += bus(0, 0, 0);            /* idle again */
  }
  /* The next engine may start in the cycle after a done. */
  fired += bus(2, 0, 0);
  fired += bus(0, 2, 2);
  fired += bus(4, 0, 0);
  fired += bus(0, 4, 4);
  assert_int_equal(fired, 0);
}

static void bus_rule_broken(void **state) {
  (void)state;
  reset();
  assert_int_equal(bus(0, 0, 1), 1);   /* idle engine 0 drives */
  assert_int_equal(bus(0, 0, 0), 0);
  assert_int_equal(bus(2, 0, 0), 0);   /* engine 1 starts */
  assert_int_equal(bus(0, 0, 2 | 4), 1); /* engine 2 drives while engine 1 is the active one */
  assert_int_equal(bus(1, 0, 2), 1);   /* engine 0 starts while engine 1 is active */
  reset();
  assert_int_equal(bus(3, 0, 0), 1);   /* two engines start at once */
  reset();
  assert_int_equal(bus(2, 0, 0), 0);
  assert_int_equal(bus(0, 2, 2), 0);
  assert_int_equal(bus(0, 0, 2), 1);   /* driving after done */
  /* Nothing is checked in reset. */
  assert_int_equal(tb_sva_cycle(g_tb, 1, 7, 0, 7, 0, 0, 0, 0), 0);
}

static void axis_rule_kept(void **state) {
  (void)state;
  reset();
  int fired = 0;
  fired += axis(1, 0, 0x12, 0); /* offered, not taken: must hold */
  fired += axis(1, 0, 0x12, 0);
  fired += axis(1, 1, 0x12, 0); /* taken */
  fired += axis(1, 1, 0x34, 1); /* a new word at once, taken */
  fired += axis(0, 0, 0x99, 0); /* no valid: data is free */
  fired += axis(1, 0, 0x56, 1);
  fired += axis(1, 1, 0x56, 1);
  fired += axis(0, 1, 0x00, 0);
  assert_int_equal(fired, 0);
}

static void axis_rule_broken(void **state) {
  (void)state;
  reset();
  assert_int_equal(axis(1, 0, 0x12, 0), 0);
  assert_int_equal(axis(0, 0, 0x12, 0), 1); /* tvalid dropped before tready */
  reset();
  assert_int_equal(axis(1, 0, 0x12, 0), 0);
  assert_int_equal(axis(1, 0, 0x13, 0), 1); /* tdata changed */
  reset();
  assert_int_equal(axis(1, 0, 0x12, 0), 0);
  assert_int_equal(axis(1, 1, 0x12, 1), 1); /* tlast changed, even in the handshake cycle */
  reset();
  assert_int_equal(axis(1, 0, 0x12, 0), 0);
  assert_int_equal(axis(0, 1, 0x13, 1), 2); /* dropped and changed: both fire */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bus_rule_kept),
      cmocka_unit_test(bus_rule_broken),
      cmocka_unit_test(axis_rule_kept),
      cmocka_unit_test(axis_rule_broken),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
