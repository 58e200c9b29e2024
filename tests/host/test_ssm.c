/* sgd-pulse and ssm (host/src/mt_algo_ssm.c): pulse rounding, momentum,
 * re-initialisation, and short training runs on the imprecise preset. */
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
#include "mt_algo_ssm.h"
#include "mt_dataset.h"
#include "mt_map.h"
#include "mt_preset.h"
#include "mt_rng.h"
#include "mt_train.h"

static mt_preset_t preset;

static int setup(void **state) {
  (void)state;
  char err[512];
  if (mt_preset_load(MT_SOURCE_DIR "/presets/imprecise.json", &preset, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  return 0;
}

/* The mean of n stochastic roundings of x is x within 5 standard errors
 * (sqrt(f(1-f)/n), f the fraction); deterministic rounding is half up. */
static void stochastic_rounding_is_unbiased(void **state) {
  (void)state;
  static const float xs[] = {0.03f, 0.37f, 0.5f, 2.25f, 5.93f};
  const uint32_t n = 200000;
  uint64_t rng = 12345;
  for (size_t c = 0; c < sizeof xs / sizeof *xs; c++) {
    double sum = 0;
    uint32_t lo = (uint32_t)floorf(xs[c]), zeros = 0;
    for (uint32_t k = 0; k < n; k++) {
      uint32_t p = mt_pulse_round_stochastic(xs[c], &rng);
      assert_true(p == lo || p == lo + 1);
      sum += p;
      zeros += p == 0;
    }
    double f = xs[c] - lo, se = sqrt(f * (1 - f) / n), mean = sum / n;
    print_message("x %.2f: mean %.5f (se %.5f)\n", (double)xs[c], mean, se);
    assert_true(fabs(mean - xs[c]) < 5 * se + 1e-6);
    if (xs[c] < 0.1f) assert_true(zeros > 0.95 * n); /* sparse: most cells get no pulse */
  }
  assert_int_equal(mt_pulse_round_nearest(0.49f), 0);
  assert_int_equal(mt_pulse_round_nearest(0.5f), 1);
  assert_int_equal(mt_pulse_round_nearest(2.5f), 3);
  assert_int_equal(mt_pulse_round_stochastic(1000.0f, &rng), MT_PULSE_MAX);
  assert_int_equal(mt_pulse_round_stochastic(NAN, &rng), 0);
  assert_int_equal(mt_pulse_round_stochastic(0.0f, &rng), 0);
  /* The same seed gives the same draws. */
  uint64_t a = 7, b = 7;
  for (int k = 0; k < 100; k++) assert_int_equal(mt_pulse_round_stochastic(0.3f, &a), mt_pulse_round_stochastic(0.3f, &b));
}

/* The row plan equals one mt_pulse_round_stochastic per weight, in order, on the pulse
 * count -lr g / w_per_g over the gain of its direction: the same counts and the same
 * generator state after the row, for rows of every length with zeros, signed zeros, NaN,
 * infinities, counts at and beyond MT_PULSE_MAX and exact integers among the gradients. */
static void row_plan_matches_rounding(void **state) {
  (void)state;
  static const float special[] = {0.0f, -0.0f, NAN, INFINITY, -INFINITY, 1e30f, -1e-30f};
  const float lr = 0.05f, w_per_g = 1.0f / 4096;
  uint64_t src = 99, rng = 5;
  float g[MT_COLS], gs[MT_COLS], gr[MT_COLS];
  for (uint32_t round = 0; round < 2000; round++) {
    uint32_t n = 1 + round % MT_COLS;
    for (uint32_t j = 0; j < n; j++) {
      uint64_t r = mt_splitmix64_next(&src);
      gs[j] = 0.5f + (float)(r & 0xFF) / 64, gr[j] = 0.5f + (float)((r >> 8) & 0xFF) / 64;
      float v = (float)((int32_t)(r >> 32) % 400000) * 1e-7f * (float)(1u << (r >> 16 & 7));
      if ((r >> 24 & 15) == 0) v = special[(r >> 28) % (sizeof special / sizeof *special)];
      if ((r >> 24 & 15) == 1) v = -(float)(r >> 40 & 127) * gs[j] * w_per_g / lr; /* integral */
      g[j] = v;
    }
    int32_t p[MT_COLS];
    uint64_t ref = rng;
    mt_pulse_plan_stochastic(p, g, gs, gr, lr, w_per_g, n, &rng);
    for (uint32_t j = 0; j < n; j++) {
      float d = -lr * g[j] / w_per_g;
      int32_t c = (int32_t)mt_pulse_round_stochastic(fabsf(d) / (d > 0 ? gs[j] : gr[j]), &ref);
      assert_int_equal(p[j], d > 0 ? c : -c);
    }
    assert_true(rng == ref);
  }
}

static void momentum_accumulates(void **state) {
  (void)state;
  float v[3] = {0, 0, 0};
  const float g1[3] = {1.0f, -2.0f, 0.5f}, g2[3] = {0.5f, 1.0f, 0.0f};
  mt_pulse_momentum(v, g1, 3, 0.9f);
  for (int k = 0; k < 3; k++) assert_true(v[k] == g1[k]);
  mt_pulse_momentum(v, g2, 3, 0.9f);
  for (int k = 0; k < 3; k++) assert_true(fabsf(v[k] - (0.9f * g1[k] + g2[k])) < 1e-6f);
  mt_pulse_momentum(v, g2, 3, 0.0f); /* beta 0: plain gradient */
  for (int k = 0; k < 3; k++) assert_true(v[k] == g2[k]);
}

static double rel_spread(const float *x, size_t n) {
  double s = 0, q = 0;
  for (size_t k = 0; k < n; k++) s += x[k], q += (double)x[k] * x[k];
  double m = s / n;
  return sqrt(q / n - m * m) / m;
}

/* Re-initialisation measures each G+ device's SET/RESET step. An independent,
 * longer measurement afterwards gives each device's response; the response
 * per requested pulse, i.e. measured step / step assumed by the host, must
 * vary less from device to device with the calibrated gains than with the
 * nominal ones. */
static void reinit_reduces_d2d_spread(void **state) {
  (void)state;
  enum { IN = 128, OUT = 32, N = IN * OUT, REF_CYCLES = 96 };
  mt_dev *dev = NULL;
  char err[512];
  if (mt_dev_open("model://?tiles=1", &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  assert_int_equal(mt_preset_apply(&preset, dev), MT_OK);
  assert_int_equal(mt_dev_seed(dev, 3), MT_OK);
  assert_int_equal(mt_dev_fabricate(dev, 3, 0), MT_OK);
  mt_layer_map_t map;
  const uint32_t *cfg = preset.cfg;
  assert_int_equal(mt_map_init(&map, IN, OUT, 0, preset.levels, 0.5f,
                               mt_map_level_step(preset.level_table, preset.levels),
                               cfg[MT_CFG_ADC_MUL], cfg[MT_CFG_ADC_SHIFT], cfg[MT_CFG_DAC_BITS], 4,
                               err, sizeof err), 0);
  mt_pulse_opts po = {.ssm = 1, .calibrate = 1, .momentum = 0.9f, .seed = 5,
                      .calib_cycles = MT_SSM_CALIB_CYCLES, .calib_pulses = MT_SSM_CALIB_PULSES};
  mt_pulse_state s;
  assert_int_equal(mt_pulse_init(&s, &po, &preset, &map, 1, err, sizeof err), 0);
  mt_mlp_t net;
  const uint32_t sizes[2] = {IN, OUT};
  assert_int_equal(mt_mlp_init(&net, sizes, 1, 1), 0);
  memset(net.w[0], 0, N * sizeof(float));
  assert_int_equal(mt_pulse_program_init(&s, dev, &net), MT_OK);
  float *set = malloc(N * sizeof(float)), *rst = malloc(N * sizeof(float));
  float *tmp = malloc(6 * N * sizeof(float)), *r_nom = malloc(N * sizeof(float));
  float *r_cal = malloc(N * sizeof(float));
  assert_non_null(set && rst && tmp && r_nom && r_cal);
  mt_region r = {0, IN, 0, OUT};
  assert_int_equal(mt_pulse_measure(&s, dev, 0, r, REF_CYCLES, MT_SSM_CALIB_PULSES, set, rst, NULL,
                                    NULL, NULL, tmp), MT_OK);
  double spread[2][2];
  for (int dir = 0; dir < 2; dir++) {
    const float *meas = dir ? rst : set, *gain = dir ? s.layer[0].gain_rst : s.layer[0].gain_set;
    float nom = dir ? s.nom_rst : s.nom_set;
    for (size_t k = 0; k < N; k++) r_nom[k] = meas[k] / nom, r_cal[k] = meas[k] / gain[k];
    spread[dir][0] = rel_spread(r_nom, N);
    spread[dir][1] = rel_spread(r_cal, N);
    print_message("%s response per requested pulse, d2d spread: nominal %.3f, re-initialised %.3f\n",
                  dir ? "RESET" : "SET", spread[dir][0], spread[dir][1]);
  }
  /* Thresholds from measurement with margin (SET 0.255 -> 0.184, RESET 0.244 -> 0.167
   * when written). */
  assert_true(spread[0][1] < 0.9 * spread[0][0]);
  assert_true(spread[1][1] < 0.9 * spread[1][0]);
  free(set), free(rst), free(tmp), free(r_nom), free(r_cal);
  mt_mlp_free(&net);
  mt_pulse_free(&s);
  mt_map_free(&map);
  mt_dev_close(dev);
}

/* Every epoch's statistics of a run (at most 4 epochs). */
typedef struct {
  uint32_t n;
  mt_epoch_stats e[4];
} epochs_t;

static int keep_epochs(void *ctx, const mt_epoch_stats *st) {
  epochs_t *r = ctx;
  if (r->n < 4) r->e[r->n++] = *st;
  return 0;
}

/* Trains o on a fresh model:// device; every epoch's statistics. */
static epochs_t run(const mt_train_opts *o, const mt_dataset_t *train, const mt_dataset_t *test) {
  epochs_t r;
  memset(&r, 0, sizeof r);
  mt_dev *dev = NULL;
  if (mt_dev_open("model://?tiles=8", &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  mt_train_hooks hooks = {NULL, keep_epochs, &r, NULL};
  char err[512];
  if (mt_train_run(o, train, test, dev, &preset, &hooks, err, sizeof err) != 0) fail_msg("%s", err);
  mt_dev_close(dev);
  return r;
}

static mt_epoch_stats smoke(mt_algo algo, float lr, const mt_dataset_t *train, const mt_dataset_t *test) {
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = algo;
  o.lr = lr;
  o.w_max_factor = 4.0f;
  o.sizes[0] = 784, o.sizes[1] = 32, o.sizes[2] = 10, o.n_layers = 2;
  o.epochs = 2;
  epochs_t r = run(&o, train, test);
  mt_epoch_stats st = r.e[r.n - 1];
  print_message("%s lr %g: test %.1f%%, epoch-2 pulses %llu + %llu, cell reads %llu\n",
                mt_algo_name(algo), (double)lr, 100 * st.test_accuracy,
                (unsigned long long)st.set_pulses, (unsigned long long)st.reset_pulses,
                (unsigned long long)st.cell_reads);
  return st;
}

/* Two epochs of 1000 MNIST images, 784-32-10, imprecise preset. Chance is 10%. */
static void smoke_runs_learn(void **state) {
  (void)state;
  mt_dataset_t train, test;
  char err[512];
  assert_int_equal(mt_dataset_open("mnist", MT_SOURCE_DIR, 1000, 300, &train, &test, err, sizeof err), 0);
  mt_epoch_stats a = smoke(MT_ALGO_SGD_PULSE, 0.5f, &train, &test);
  mt_epoch_stats b = smoke(MT_ALGO_SSM, 0.05f, &train, &test);
  /* Measured 52.0% (sgd-pulse) and 75.3% (ssm, open loop; 63.3% with its reads) when
   * written; thresholds leave margin. */
  assert_true(a.test_accuracy > 0.35);
  assert_true(b.test_accuracy > 0.50);
  /* Both read only the weights of layer 1 for the backward pass (2 devices each, one read
   * per step): ssm is open loop by default. Neither verifies. */
  assert_int_equal(a.cell_reads, 2ull * 32 * 10 * (1000 / 32 + 1));
  assert_int_equal(b.cell_reads, a.cell_reads);
  assert_int_equal(a.verify_reads, 0);
  assert_int_equal(b.verify_reads, 0);
  mt_dataset_free(&train);
  mt_dataset_free(&test);
}

/* ssm's read-based parts are options: on a one-layer network (whose backward pass needs no
 * weights) the default reads nothing at all, --ssm-compensate reads the pulsed cells at every
 * step, --ssm-calibrate reads at initialisation only (epoch 1). None verifies. */
static void ssm_reads_only_with_its_options(void **state) {
  (void)state;
  mt_dataset_t train, test;
  char err[512];
  assert_int_equal(mt_dataset_open("mnist", MT_SOURCE_DIR, 200, 50, &train, &test, err, sizeof err), 0);
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_SSM;
  o.w_max_factor = 4.0f;
  o.sizes[0] = 784, o.sizes[1] = 10, o.n_layers = 1;
  o.epochs = 2;
  epochs_t plain = run(&o, &train, &test);
  o.ssm_compensate = 1;
  epochs_t comp = run(&o, &train, &test);
  o.ssm_compensate = 0, o.ssm_calibrate = 1;
  epochs_t cal = run(&o, &train, &test);
  assert_int_equal(plain.n, 2);
  for (uint32_t e = 0; e < 2; e++) {
    print_message("epoch %u cell reads: open loop %llu, compensate %llu, calibrate %llu\n", e + 1,
                  (unsigned long long)plain.e[e].cell_reads, (unsigned long long)comp.e[e].cell_reads,
                  (unsigned long long)cal.e[e].cell_reads);
    assert_true(plain.e[e].set_pulses + plain.e[e].reset_pulses > 0);
    assert_int_equal(plain.e[e].cell_reads, 0);
    assert_int_equal(plain.e[e].verify_reads + comp.e[e].verify_reads + cal.e[e].verify_reads, 0);
    assert_true(comp.e[e].cell_reads > 0);
  }
  assert_true(cal.e[0].cell_reads > 0);
  assert_int_equal(cal.e[1].cell_reads, 0);
  /* An option of ssm is refused for another algorithm. */
  o.algo = MT_ALGO_SGD_PULSE;
  mt_dev *dev = NULL;
  assert_int_equal(mt_dev_open("model://?tiles=8", &dev), MT_OK);
  assert_int_equal(mt_train_run(&o, &train, &test, dev, &preset, NULL, err, sizeof err), -1);
  assert_non_null(strstr(err, "--ssm-calibrate is for ssm, not sgd-pulse"));
  mt_dev_close(dev);
  mt_dataset_free(&train);
  mt_dataset_free(&test);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(stochastic_rounding_is_unbiased),
    cmocka_unit_test(row_plan_matches_rounding),
    cmocka_unit_test(momentum_accumulates),
    cmocka_unit_test(reinit_reduces_d2d_spread),
    cmocka_unit_test(smoke_runs_learn),
    cmocka_unit_test(ssm_reads_only_with_its_options),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
