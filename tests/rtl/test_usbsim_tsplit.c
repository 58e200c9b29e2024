/* The FT601 bus model of sim/mt_usbsim_tb.cpp checks the 36 tristate DATA/BE pins one by one:
 * built around sim/mt_usbsim_t_split.sv (a bridge whose DATA[0] tristate control is stuck
 * released), the first word the FPGA sends fails with "partly driven" and the FT601 cycle,
 * and the link stays failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mt_usbsim.h"

static void test_stuck_t_flop_is_reported(void **state) {
  (void)state;
  char err[256] = "";
  mt_usbsim *s = mt_usbsim_open(NULL, err, sizeof err);
  if (!s) fail_msg("mt_usbsim_open: %s", err);
  const uint8_t out[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint8_t in[64];
  assert_int_equal(mt_usbsim_write(s, out, sizeof out, err, sizeof err), 0);
  long n = mt_usbsim_read(s, in, sizeof in, 1000, err, sizeof err);
  assert_int_equal(n, -1);
  if (!strstr(err, "DATA/BE pins partly driven") || !strstr(err, "FT601 cycle"))
    fail_msg("message: %s", err);
  err[0] = 0;
  assert_int_equal(mt_usbsim_read(s, in, sizeof in, 10, err, sizeof err), -1);
  assert_non_null(strstr(err, "partly driven"));
  mt_usbsim_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_stuck_t_flop_is_reported)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
