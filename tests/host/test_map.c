/* Layers mapped over several tiles against a float reference (ideal preset). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "memtile.h"
#include "mt_map.h"
#include "mt_preset.h"
#include "mt_protocol.h"

static mt_preset_t preset;

static mt_dev *open_ideal(uint32_t tiles) {
  char uri[64], err[256];
  snprintf(uri, sizeof uri, "model://?tiles=%u", tiles);
  mt_dev *dev = NULL;
  if (mt_dev_open(uri, &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  assert_int_equal(mt_preset_load(MT_SOURCE_DIR "/presets/ideal.json", &preset, err, sizeof err), 0);
  assert_int_equal(mt_preset_apply(&preset, dev), MT_OK);
  for (uint32_t t = 0; t < tiles; t++) assert_int_equal(mt_dev_fabricate(dev, 1, t), MT_OK);
  return dev;
}

static uint32_t rnd(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*s >> 33);
}

static void level_quantization_round_trips(void **state) {
  (void)state;
  mt_layer_map_t m;
  char err[128];
  assert_int_equal(mt_map_init(&m, 10, 10, 0, 33, 1.0f, 100.0, 1, 0, 8, 4, err, sizeof err), 0);
  assert_int_equal(mt_map_level_of(&m, 0.0f), 16);
  assert_int_equal(mt_map_level_of(&m, 1.0f), 32);
  assert_int_equal(mt_map_level_of(&m, 5.0f), 32);   /* clipped */
  assert_int_equal(mt_map_level_of(&m, -5.0f), 0);
  assert_int_equal(mt_map_level_of(&m, NAN), 0);
  for (uint32_t q = 0; q < 33; q++) assert_int_equal(mt_map_level_of(&m, mt_map_weight_of(&m, q)), q);
  assert_float_equal(mt_map_weight_of(&m, 24), 0.5f, 1e-6f);
  mt_map_free(&m);
  assert_int_equal(mt_map_init(&m, 10, 10, 0, 1, 1.0f, 100.0, 1, 0, 8, 4, err, sizeof err), MT_ERR_INVAL);
  assert_int_equal(mt_map_tiles_needed(784, 256), 14);
  assert_int_equal(mt_map_tiles_needed(128, 128), 1);
  assert_int_equal(mt_map_tiles_needed(129, 10), 2);
}

/* 300 x 200 spans 3 x 2 tiles, with partial blocks on both edges. */
static void matmul_over_tiles_matches_float(void **state) {
  (void)state;
  enum { IN = 300, OUT = 200, B = 5 };
  mt_dev *dev = open_ideal(6);
  mt_layer_map_t m;
  char err[128];
  double step = mt_map_level_step(preset.level_table, preset.levels);
  assert_true(step > 0);
  assert_int_equal(mt_map_tiles_needed(IN, OUT), 6);
  assert_int_equal(mt_map_init(&m, IN, OUT, 0, preset.levels, 0.5f, step,
                               preset.cfg[MT_CFG_ADC_MUL], preset.cfg[MT_CFG_ADC_SHIFT],
                               preset.cfg[MT_CFG_DAC_BITS], B, err, sizeof err), 0);
  static float w[IN * OUT], wq[IN * OUT], x[B * IN], y[B * OUT];
  uint64_t s = 3;
  for (size_t k = 0; k < IN * OUT; k++) {
    w[k] = ((float)(rnd(&s) % 2001) / 1000.0f - 1.0f) * 0.5f;
    wq[k] = mt_map_weight_of(&m, mt_map_level_of(&m, w[k]));
  }
  for (size_t k = 0; k < B * IN; k++) x[k] = (float)(rnd(&s) % 1000) / 999.0f;
  mt_prog_result r = {0, 0, 0};
  assert_int_equal(mt_map_program(&m, dev, w, NULL, 0, 0, &r), MT_OK);
  assert_int_equal(r.programmed + r.skipped, IN * OUT);
  assert_int_equal(r.wv_failures, 0);
  assert_int_equal(mt_map_matmul(&m, dev, x, B, y), MT_OK);
  /* Bound: DAC rounding (half a code per input, times |w|) plus half an ADC
   * code per row block; the ideal device adds nothing else. */
  double worst = 0;
  for (uint32_t b = 0; b < B; b++) {
    float xs = m.xscale[b];
    for (uint32_t j = 0; j < OUT; j++) {
      double ref = 0, wabs = 0;
      for (uint32_t i = 0; i < IN; i++) {
        ref += (double)x[b * IN + i] * wq[i * OUT + j];
        wabs += fabs(wq[i * OUT + j]);
      }
      double bound = 0.5 * xs * wabs + m.row_blocks * 0.5 * xs * m.out_per_code + 1e-4;
      double e = fabs(y[b * OUT + j] - ref);
      if (e > bound) fail_msg("example %u column %u: device %g, float %g, bound %g", b, j, y[b * OUT + j], ref, bound);
      if (e / bound > worst) worst = e / bound;
    }
  }
  print_message("worst error / bound = %.3f\n", worst);
  /* Reprogramming the same weights sends nothing (the mirror matches): every
   * weight is reported skipped and the device sees no PROGRAM. */
  uint64_t before[MT_CNT_COUNT], after[MT_CNT_COUNT];
  assert_int_equal(mt_dev_stats(dev, before, MT_CNT_COUNT), MT_OK);
  r = (mt_prog_result){0, 0, 0};
  assert_int_equal(mt_map_program(&m, dev, w, NULL, 0, 0, &r), MT_OK);
  assert_int_equal(r.programmed, 0);
  assert_int_equal(r.skipped, IN * OUT);
  assert_int_equal(mt_dev_stats(dev, after, MT_CNT_COUNT), MT_OK);
  assert_int_equal(after[MT_CNT_UPDATES_SKIPPED], before[MT_CNT_UPDATES_SKIPPED]);
  assert_int_equal(after[MT_CNT_VERIFY_READS], before[MT_CNT_VERIFY_READS]);
  r = (mt_prog_result){0, 0, 0};
  /* Changing one weight by one level programs exactly that weight. */
  w[123] = mt_map_weight_of(&m, (mt_map_level_of(&m, w[123]) + 1) % preset.levels);
  assert_int_equal(mt_map_program(&m, dev, w, NULL, 0, 0, &r), MT_OK);
  assert_int_equal(r.programmed, 1);
  /* mt_map_program_rows looks at the marked rows only: a change in an unmarked row is not
   * seen (counted skipped with the rest), the same change in a marked row is programmed. */
  uint8_t *rows = calloc(IN, 1);
  assert_non_null(rows);
  uint32_t i0 = 7 % IN, i1 = (i0 + 1) % IN;
  w[i0 * OUT] = mt_map_weight_of(&m, (mt_map_level_of(&m, w[i0 * OUT]) + 1) % preset.levels);
  w[i1 * OUT + 1] = mt_map_weight_of(&m, (mt_map_level_of(&m, w[i1 * OUT + 1]) + 1) % preset.levels);
  rows[i1] = 1;
  r = (mt_prog_result){0, 0, 0};
  assert_int_equal(mt_map_program_rows(&m, dev, w, NULL, rows, 0, &r), MT_OK);
  assert_int_equal(r.programmed, 1);
  assert_int_equal(r.skipped, IN * OUT - 1);
  assert_int_equal(m.n_changed, 1);
  assert_int_equal(m.changed[0], i1 * OUT + 1);
  rows[i0] = 1;
  r = (mt_prog_result){0, 0, 0};
  assert_int_equal(mt_map_program_rows(&m, dev, w, NULL, rows, 0, &r), MT_OK);
  assert_int_equal(r.programmed, 1);
  assert_int_equal(m.changed[0], i0 * OUT);
  free(rows);
  /* all = 1 reprograms every weight (closed-loop baseline). */
  r = (mt_prog_result){0, 0, 0};
  assert_int_equal(mt_map_program(&m, dev, w, NULL, 1, 0, &r), MT_OK);
  assert_int_equal(r.programmed, IN * OUT);
  assert_int_equal(mt_map_matmul(&m, dev, x, B + 1, y), MT_ERR_INVAL);
  mt_map_free(&m);
  mt_dev_close(dev);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(level_quantization_round_trips),
    cmocka_unit_test(matmul_over_tiles_matches_float),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
