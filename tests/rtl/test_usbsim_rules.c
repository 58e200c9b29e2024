/* The FT601 bus model of sim/mt_usbsim_tb.cpp catches RTL that breaks the 245 rules: built
 * around sim/mt_usbsim_rxf_ignored.sv (a bridge that ignores RXF_N), the first read after the
 * FT601 ran out of data fails with the rule and the FT601 cycle, and keeps failing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mt_usbsim.h"

static void test_rxf_ignored_is_reported(void **state) {
  (void)state;
  char err[256] = "";
  mt_usbsim *s = mt_usbsim_open(NULL, err, sizeof err);
  if (!s) fail_msg("mt_usbsim_open: %s", err);
  const uint8_t out[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint8_t in[64];
  assert_int_equal(mt_usbsim_write(s, out, sizeof out, err, sizeof err), 0);
  long n = mt_usbsim_read(s, in, sizeof in, 1000, err, sizeof err);
  assert_int_equal(n, -1);
  if (!strstr(err, "RD_N low two clocks after RXF_N was high") || !strstr(err, "FT601 cycle"))
    fail_msg("message: %s", err);
  /* Sticky: the link stays failed. */
  err[0] = 0;
  assert_int_equal(mt_usbsim_read(s, in, sizeof in, 10, err, sizeof err), -1);
  assert_non_null(strstr(err, "RXF_N"));
  mt_usbsim_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_rxf_ignored_is_reported)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
