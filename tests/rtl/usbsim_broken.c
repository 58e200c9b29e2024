/* The FT601 bus model of sim/mt_usbsim_tb.cpp must report RTL that breaks the bus. This test
 * is built once per deliberately broken top (Makefile, USBSIM_BROKEN: test_usbsim_<name>, the
 * harness around that top under the class name Vmt_usb_core, so one top a binary), with
 * MT_USBSIM_BROKEN naming it; it checks that top's row of the table below: the first read
 * fails with the row's message and the FT601 cycle, and the next read still fails (the link
 * stays failed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mt_usbsim.h"

#ifndef MT_USBSIM_BROKEN
#error "MT_USBSIM_BROKEN names the broken top (Makefile, USBSIM_BROKEN)"
#endif

typedef struct {
  const char *name;   /* USBSIM_BROKEN's name of the top */
  const char *first;  /* in the message of the first failed read */
  const char *sticky; /* in the message of the read after it */
} broken_top;

static const broken_top tops[] = {
    /* sim/mt_usbsim_rxf_ignored.sv, a bridge that ignores RXF_N: the 245 rules are checked;
     * the first read after the FT601 ran out of data breaks one. */
    {"rules", "RD_N low two clocks after RXF_N was high", "RXF_N"},
    /* sim/mt_usbsim_t_split.sv, a bridge whose DATA[0] tristate control is stuck released: the
     * 36 tristate DATA/BE pins are checked one by one; the first word the FPGA sends is partly
     * driven. */
    {"tsplit", "DATA/BE pins partly driven", "partly driven"},
};

static void broken_top_is_reported(void **state) {
  const broken_top *t = *state;
  char err[256] = "";
  mt_usbsim *s = mt_usbsim_open(NULL, err, sizeof err);
  if (!s) fail_msg("mt_usbsim_open: %s", err);
  const uint8_t out[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint8_t in[64];
  assert_int_equal(mt_usbsim_write(s, out, sizeof out, err, sizeof err), 0);
  long n = mt_usbsim_read(s, in, sizeof in, 1000, err, sizeof err);
  assert_int_equal(n, -1);
  if (!strstr(err, t->first) || !strstr(err, "FT601 cycle")) fail_msg("%s: message: %s", t->name, err);
  err[0] = 0;
  assert_int_equal(mt_usbsim_read(s, in, sizeof in, 10, err, sizeof err), -1);
  if (!strstr(err, t->sticky)) fail_msg("%s: the next read: %s", t->name, err);
  mt_usbsim_close(s);
}

int main(void) {
  for (size_t k = 0; k < sizeof tops / sizeof *tops; k++)
    if (!strcmp(tops[k].name, MT_USBSIM_BROKEN)) {
      const struct CMUnitTest tests[] = {{"broken top " MT_USBSIM_BROKEN " is reported", broken_top_is_reported,
                                          NULL, NULL, (void *)&tops[k]}};
      return cmocka_run_group_tests(tests, NULL, NULL);
    }
  printf("not ok 1 - no row for the broken top '%s' in %s\n", MT_USBSIM_BROKEN, __FILE__);
  return 1;
}
