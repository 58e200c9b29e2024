/* End-to-end smoke test of the golden model through the command protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mt_testdev.h"

static void info_reports_geometry(void **state) {
  (void)state;
  tdev_t *d = tdev_new(3);
  assert_int_equal(tdev_run(d, MT_OP_INFO, NULL, 0), MT_ST_OK);
  assert_int_equal(d->out_len, MT_INFO_COUNT);
  assert_int_equal(d->out[MT_INFO_ROWS], MT_ROWS);
  assert_int_equal(d->out[MT_INFO_TILES], 3);
  assert_int_equal(d->out[MT_INFO_CONFIG_WORDS], MT_CFG_COUNT);
  tdev_free(d);
}

static void program_then_mvm_is_exact(void **state) {
  (void)state;
  tdev_t *d = tdev_new(1);
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_ADC_SHIFT] = 0;
  cfg[MT_CFG_ADC_BITS] = 16;
  cfg[MT_CFG_WV_TOL] = 0;
  assert_int_equal(tdev_configure(d, cfg), MT_ST_OK);
  assert_int_equal(tdev_fabricate(d, 1, 0), MT_ST_OK);
  /* 5 levels: level 4 puts g+ 2000 above g- */
  assert_int_equal(tdev_levels_linear(d, 5, 1000, 1000, 1000, 0), MT_ST_OK);
  uint32_t e[3] = {0, 0, tdev_entry(0, 0, 4)}; /* tile 0, write-verify */
  assert_int_equal(tdev_run(d, MT_OP_PROGRAM, e, 3), MT_ST_OK);
  assert_int_equal(d->out[0], 1);
  assert_int_equal(tdev_probe(d, 0, 0, 0, 0), 3000);
  assert_int_equal(tdev_probe(d, 0, 0, 0, 1), 1000);
  uint32_t mvm[4 + 64] = {0, 1, 2, 1};
  mvm[4] = 3; /* x0 = 3, x1 = 0 */
  assert_int_equal(tdev_run(d, MT_OP_MVM, mvm, 5), MT_ST_OK);
  /* 3 * (3000 - 1000) = 6000 */
  assert_int_equal((int16_t)(d->out[0] & 0xFFFF), 6000);
  tdev_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(info_reports_geometry),
    cmocka_unit_test(program_then_mvm_is_exact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
