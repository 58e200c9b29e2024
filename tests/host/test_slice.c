/* Bit-sliced layers (mt_slice.c): the encoding, the favourable codes, and the
 * recombined device product against a float reference on the ideal preset. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memtile.h"
#include "mt_preset.h"
#include "mt_protocol.h"
#include "mt_slice.h"
#include "mt_train.h"

static uint32_t rnd(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*s >> 33);
}

static void check_rejects_bad_levels_and_counts(void **state) {
  (void)state;
  char err[256];
  uint32_t b = 0;
  assert_int_equal(mt_slice_check(7, 4, &b, err, sizeof err), 0);
  assert_int_equal(b, 2);
  assert_int_equal(mt_slice_check(3, 8, &b, err, sizeof err), 0);
  assert_int_equal(b, 1);
  assert_int_equal(mt_slice_check(15, 4, &b, err, sizeof err), 0);
  assert_int_equal(b, 3);
  assert_int_equal(mt_slice_check(33, 4, &b, err, sizeof err), -1); /* 17 states */
  assert_non_null(strstr(err, "L = 33"));
  assert_int_equal(mt_slice_check(8, 4, &b, err, sizeof err), -1);  /* even L */
  assert_int_equal(mt_slice_check(7, 9, &b, err, sizeof err), -1);
  assert_non_null(strstr(err, "--slices 9"));
  assert_int_equal(mt_slice_check(15, 6, &b, err, sizeof err), -1); /* 18 bits */
  assert_int_equal(mt_slice_check(7, 0, &b, err, sizeof err), -1);
  assert_int_equal(mt_slice_tiles_needed(784, 100, 4), 4 * 7);
}

/* Every 8-bit code is the sum of its 2-bit slices, shifted back by 128. */
static void codes_split_into_slices_and_back(void **state) {
  (void)state;
  mt_slice_map_t s;
  char err[256];
  assert_int_equal(mt_slice_init(&s, 10, 10, 0, 7, 4, 2.0f, 100.0, 1, 0, 8, 2, err, sizeof err), 0);
  assert_int_equal(s.code_bits, 8);
  assert_int_equal(s.code_min, -128);
  assert_int_equal(s.code_max, 127);
  assert_float_equal(s.step, 2.0f / 128, 1e-9);
  for (int32_t c = -128; c <= 127; c++) {
    int32_t sum = 0;
    for (uint32_t k = 0; k < 4; k++) {
      uint32_t v = mt_slice_value(&s, c, k);
      assert_true(v < 4);
      sum += (int32_t)(v << (2 * k));
    }
    assert_int_equal(sum - 128, c);
    assert_int_equal(mt_slice_code(&s, (float)c * s.step), c);
  }
  assert_int_equal(mt_slice_code(&s, 100.0f), 127);
  assert_int_equal(mt_slice_code(&s, -100.0f), -128);
  assert_int_equal(mt_slice_code(&s, NAN), -128);
  /* The top slice of a small positive code is state 2 ("10"), of a small negative one 1 ("01"). */
  assert_int_equal(mt_slice_value(&s, 5, 3), 2);
  assert_int_equal(mt_slice_value(&s, -5, 3), 1);
  mt_slice_free(&s);
}

/* Diware's Config-3: G10 (top-slice state 2, level 3 + 2) unfavourable forbids
 * exactly the codes whose shifted value has top bits 10: 0..63. */
static void allowed_codes_skip_the_unfavourable_top_state(void **state) {
  (void)state;
  mt_slice_map_t s;
  char err[256];
  assert_int_equal(mt_slice_init(&s, 4, 4, 0, 7, 4, 1.0f, 100.0, 1, 0, 8, 2, err, sizeof err), 0);
  uint8_t fav[7] = {1, 0, 1, 1, 1, 0, 1};
  float v[256];
  uint32_t n = mt_slice_allowed(&s, fav, v);
  assert_int_equal(n, 192);
  for (uint32_t i = 1; i < n; i++) assert_true(v[i] > v[i - 1]);
  assert_float_equal(v[0], -128 * s.step, 1e-9);
  assert_float_equal(v[127], -1 * s.step, 1e-9);
  assert_float_equal(v[128], 64 * s.step, 1e-9);
  assert_float_equal(v[191], 127 * s.step, 1e-9);
  mt_slice_free(&s);
}

/* 200 x 150 weights in 4 slices (4 x 2 x 2 tiles) on the ideal device: the
 * recombined product equals the float product of the code weights within the
 * DAC/ADC rounding, amplified by the top slice's weight. */
static void matmul_recombines_the_slices(void **state) {
  (void)state;
  enum { IN = 200, OUT = 150, B = 4, N = 4 };
  char err[256];
  mt_preset_t p;
  assert_int_equal(mt_preset_load(MT_SOURCE_DIR "/presets/ideal.json", &p, err, sizeof err), 0);
  assert_int_equal(mt_preset_set_levels(&p, 7, err, sizeof err), 0);
  uint32_t tiles = mt_slice_tiles_needed(IN, OUT, N);
  assert_int_equal(tiles, 16);
  char uri[64];
  snprintf(uri, sizeof uri, "model://?tiles=%u", tiles);
  mt_dev *dev = NULL;
  if (mt_dev_open(uri, &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  assert_int_equal(mt_preset_apply(&p, dev), MT_OK);
  for (uint32_t t = 0; t < tiles; t++) assert_int_equal(mt_dev_fabricate(dev, 1, t), MT_OK);
  mt_slice_map_t s;
  double step = mt_map_level_step(p.level_table, p.levels);
  assert_int_equal(mt_slice_init(&s, IN, OUT, 0, p.levels, N, 0.5f, step, p.cfg[MT_CFG_ADC_MUL],
                                 p.cfg[MT_CFG_ADC_SHIFT], p.cfg[MT_CFG_DAC_BITS], B, err, sizeof err),
                   0);
  static float w[IN * OUT], x[B * IN], y[B * OUT];
  uint64_t r = 11;
  for (size_t k = 0; k < IN * OUT; k++) w[k] = ((float)(rnd(&r) % 2001) / 1000.0f - 1.0f) * 0.5f;
  for (size_t k = 0; k < B * IN; k++) x[k] = (float)(rnd(&r) % 1000) / 999.0f;
  assert_int_equal(mt_slice_program(&s, dev, w, 0), MT_OK);
  assert_int_equal(mt_slice_matmul(&s, dev, x, B, y), MT_OK);
  /* The reference uses the weights the cells really hold (probed exactly):
   * write-verify lands near, not on, the level, and the top slice multiplies
   * that by 64, which is the device's error, not the recombination's. */
  static float v_eff[N][IN * OUT];
  static uint16_t gp[MT_ROWS * MT_COLS], gm[MT_ROWS * MT_COLS];
  for (uint32_t k = 0; k < N; k++) {
    const mt_layer_map_t *m = &s.slice[k];
    for (uint32_t rb = 0; rb < m->row_blocks; rb++)
      for (uint32_t cb = 0; cb < m->col_blocks; cb++) {
        uint32_t r0 = rb * MT_ROWS, c0 = cb * MT_COLS;
        uint32_t nr = IN - r0 < MT_ROWS ? IN - r0 : MT_ROWS, nc = OUT - c0 < MT_COLS ? OUT - c0 : MT_COLS;
        mt_region reg = {0, nr, 0, nc};
        assert_int_equal(mt_dev_read_cells(dev, m->first_tile + rb * m->col_blocks + cb, reg, 1, gp, gm), MT_OK);
        for (uint32_t i = 0; i < nr; i++)
          for (uint32_t j = 0; j < nc; j++)
            v_eff[k][(size_t)(r0 + i) * OUT + c0 + j] =
                (float)(((double)gp[i * nc + j] - gm[i * nc + j]) / step);
      }
  }
  double worst = 0, scale = 0, code_err = 0;
  for (uint32_t b = 0; b < B; b++)
    for (uint32_t j = 0; j < OUT; j++) {
      double ref = 0, mag = 0, ideal = 0;
      for (uint32_t i = 0; i < IN; i++) {
        size_t q = (size_t)i * OUT + j;
        double u = 0;
        for (uint32_t k = 0; k < N; k++) u += (double)(1u << (2 * k)) * v_eff[k][q];
        double wc = (u - 128) * s.step;
        ref += x[b * IN + i] * wc;
        ideal += x[b * IN + i] * (double)mt_slice_code(&s, w[q]) * s.step;
        mag += fabs(x[b * IN + i] * wc);
      }
      double e = fabs(y[b * OUT + j] - ref);
      worst = e > worst ? e : worst;
      scale = mag > scale ? mag : scale;
      code_err = fabs(ref - ideal) > code_err ? fabs(ref - ideal) : code_err;
    }
  print_message("sliced product: worst error %.3g against the programmed cells, %.3g between "
                "them and the codes, largest sum |x w| %.3g\n", worst, code_err, scale);
  /* A slice weight or the offset wrong by one code unit moves a sum by about
   * step x sum(x) (~0.4 here); the ideal device's 16-bit DAC and ADC stay far below. */
  assert_true(worst < 1e-3 * scale);
  assert_true(code_err < 0.03 * scale);
  mt_slice_free(&s);
  mt_dev_close(dev);
}

static void tiles_needed_counts_every_slice(void **state) {
  (void)state;
  mt_train_opts o;
  mt_train_defaults(&o);
  o.n_layers = 2, o.sizes[0] = 784, o.sizes[1] = 100, o.sizes[2] = 10;
  o.algo = MT_ALGO_BIASED;
  assert_int_equal(mt_train_tiles_needed(&o), 7 + 1);
  o.slices = 4;
  assert_int_equal(mt_train_tiles_needed(&o), 4 * (7 + 1));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(check_rejects_bad_levels_and_counts),
      cmocka_unit_test(codes_split_into_slices_and_back),
      cmocka_unit_test(allowed_codes_skip_the_unfavourable_top_state),
      cmocka_unit_test(matmul_recombines_the_slices),
      cmocka_unit_test(tiles_needed_counts_every_slice),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
