/* memtile characterize and mapping-aware biased training
 * (host/src/mt_algo_biased.c): the characterization's levels and spreads, the
 * favourable-set rule, the projection, that constrained weights land on
 * favourable levels on the device (READ_LEVELS), a short smoke run, the
 * column-wise saliency, per-layer fractions, the best epoch on the validation
 * split and the programming draws (also across a resume). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "memtile.h"
#include "mt_algo_biased.h"
#include "mt_dataset.h"
#include "mt_map.h"
#include "mt_preset.h"
#include "mt_protocol.h"
#include "mt_train.h"

static mt_preset_t preset; /* rram-2bit: 7 levels, spread G00 < G01 < G11 < G10 */
static mt_dataset_t train, test;

/* the smoke runs reach 0.772 (biased) and 0.786 (conventional) on the device with seed 1 */
#define SMOKE_MIN 0.70

static int setup(void **state) {
  (void)state;
  char err[512];
  if (mt_preset_load(MT_SOURCE_DIR "/presets/rram-2bit.json", &preset, err, sizeof err) != 0 ||
      mt_dataset_open("mnist", MT_SOURCE_DIR, 2000, 500, &train, &test, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  mt_dataset_free(&train);
  mt_dataset_free(&test);
  return 0;
}

static double pair(const mt_charac *c, uint32_t q) { return 0.5 * (c->sigma[q] + c->sigma[c->levels - 1 - q]); }

/* Every level is measured with a non-negative spread, the spreads follow the
 * preset's state order (the measurement sees them), and the favourable set is
 * exactly the K levels of lowest (pair) sigma. */
static void characterization_finds_the_spread_order(void **state) {
  (void)state;
  static mt_charac c;
  char err[256];
  mt_dev *dev = NULL;
  assert_int_equal(mt_dev_open("model://?tiles=1", &dev), MT_OK);
  assert_int_equal(mt_characterize(dev, &preset, 0, 7, 300, 4, 0, &c, err, sizeof err), 0);
  assert_int_equal(c.levels, 7);
  assert_int_equal(c.favourable_k, 5); /* (3L+2)/4 */
  for (uint32_t q = 0; q < c.levels; q++) {
    print_message("level %u: target %.0f mean %.1f sigma %.1f rms %.1f wv_fail %u%s\n", q, c.target[q],
                  c.mean[q], c.sigma[q], c.rms[q], c.wv_failures[q], c.favourable[q] ? " fav" : "");
    assert_true(c.sigma[q] >= 0 && c.rms[q] >= c.sigma[q] * 0.999);
    /* the mean lands within a quarter level of its target */
    assert_true(fabs(c.mean[q] - c.target[q]) < 0.25 * c.level_step);
  }
  /* G00 (level 3) < G01 (2, 4) < G11 (0, 6) < G10 (1, 5) */
  assert_true(c.sigma[3] < c.sigma[2] && c.sigma[3] < c.sigma[4]);
  assert_true(pair(&c, 2) < pair(&c, 0) && pair(&c, 0) < pair(&c, 1));
  uint32_t nfav = 0;
  double worst_fav = 0, best_unfav = INFINITY;
  for (uint32_t q = 0; q < c.levels; q++) {
    nfav += c.favourable[q];
    if (c.favourable[q] && pair(&c, q) > worst_fav) worst_fav = pair(&c, q);
    if (!c.favourable[q] && pair(&c, q) < best_unfav) best_unfav = pair(&c, q);
  }
  assert_int_equal(nfav, 5);
  assert_true(worst_fav <= best_unfav);
  assert_int_equal(c.favourable[1] + c.favourable[5], 0);
  /* another K */
  mt_charac_select(&c, 2);
  assert_int_equal(c.favourable[3] + c.favourable[2], 2);
  assert_int_equal(c.favourable[0] + c.favourable[1] + c.favourable[4] + c.favourable[5] + c.favourable[6], 0);
  /* write-verify fails where targets are out of reach: no failure expected anywhere near all */
  mt_dev_close(dev);
}

/* Rule details on a made-up table: mirror pairs share their mean sigma, ties
 * go to the lower level, K = L keeps all. */
static void favourable_rule(void **state) {
  (void)state;
  static mt_charac c;
  memset(&c, 0, sizeof c);
  c.levels = 5;
  const double s[5] = {1.0, 5.0, 2.0, 3.0, 1.0}; /* pairs: (0,4) 1, (1,3) 4, 2: 2 */
  memcpy(c.sigma, s, sizeof s);
  mt_charac_select(&c, 2);
  assert_int_equal(c.favourable[0] + c.favourable[4], 2);
  mt_charac_select(&c, 3);
  assert_int_equal(c.favourable[2], 1);
  assert_int_equal(c.favourable[1] + c.favourable[3], 0);
  mt_charac_select(&c, 4); /* levels 1 and 3 tie: the lower one */
  assert_int_equal(c.favourable[1], 1);
  assert_int_equal(c.favourable[3], 0);
  mt_charac_select(&c, 9);
  assert_int_equal(c.favourable_k, 5);
}

/* Projection onto the favourable weights of a layer, and the selection of the
 * largest |w|. */
static void projection_and_selection(void **state) {
  (void)state;
  mt_layer_map_t map;
  char err[256];
  /* 7 levels, w_max 3: level q stands for q - 3 */
  assert_int_equal(mt_map_init(&map, 4, 2, 0, 7, 3.0f, 100.0, 1, 0, 8, 4, err, sizeof err), 0);
  const uint32_t sizes[3] = {4, 2};
  mt_mlp_t net;
  assert_int_equal(mt_mlp_init(&net, sizes, 1, 3), 0);
  const float w[8] = {-3.0f, -2.4f, -1.9f, 0.2f, 0.9f, 1.6f, 2.49f, 2.51f};
  memcpy(net.w[0], w, sizeof w);
  const uint8_t fav[7] = {1, 0, 1, 1, 1, 0, 1}; /* weights -3, -1, 0, 1, 3 */
  mt_biased_state s;
  const float half = 0.5f;
  assert_int_equal(mt_biased_init(&s, &net, &map, fav, &half, MT_IMPORTANCE_MAGNITUDE, err, sizeof err), 0);
  assert_true(mt_biased_project(&s, 0, -2.4f) == -3.0f);
  assert_true(mt_biased_project(&s, 0, -2.0f) == -3.0f); /* tie: the lower */
  assert_true(mt_biased_project(&s, 0, -1.9f) == -1.0f);
  assert_true(mt_biased_project(&s, 0, 2.49f) == 3.0f);
  assert_true(mt_biased_project(&s, 0, 1.9f) == 1.0f);
  assert_true(mt_biased_project(&s, 0, 9.0f) == 3.0f);
  mt_biased_select(&s, &net);
  /* the 4 largest |w|: -3, -2.4, 2.49, 2.51 are projected; the rest unchanged */
  const float want[8] = {-3.0f, -3.0f, -1.9f, 0.2f, 0.9f, 1.6f, 3.0f, 3.0f};
  for (int k = 0; k < 8; k++) assert_true(net.w[0][k] == want[k]);
  assert_int_equal(s.mask[0][0] + s.mask[0][1] + s.mask[0][6] + s.mask[0][7], 4);
  mt_biased_free(&s);
  mt_mlp_free(&net);
  mt_map_free(&map);
}

static int keep_epoch(void *ctx, const mt_epoch_stats *st) {
  *(mt_epoch_stats *)ctx = *st;
  return 0;
}

/* The options of the runs below: 784-32-10, rram-2bit, --w-max 1. */
static mt_train_opts small_opts(mt_algo algo, float important, uint32_t epochs) {
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = algo;
  o.important = important;
  o.sizes[0] = 784, o.sizes[1] = 32, o.sizes[2] = 10, o.n_layers = 2;
  o.epochs = epochs;
  o.w_max_factor = 1.0f;
  return o;
}

/* Trains with o and counts over the device's stored levels (READ_LEVELS) the
 * weights on unfavourable levels (1 and 5), per layer: tiles 0..6 hold layer 0
 * (7 row blocks), tile 7 layer 1. */
static mt_epoch_stats run_opts(const mt_train_opts *o, uint64_t unfav[2], uint64_t total[2]) {
  mt_epoch_stats st;
  memset(&st, 0, sizeof st);
  mt_dev *dev = NULL;
  assert_int_equal(mt_dev_open("model://?tiles=8", &dev), MT_OK);
  mt_train_hooks hooks = {NULL, keep_epoch, &st, NULL};
  char err[512];
  if (mt_train_run(o, &train, &test, dev, &preset, &hooks, err, sizeof err) != 0) fail_msg("%s", err);
  static uint16_t lv[MT_ROWS * MT_COLS];
  unfav[0] = unfav[1] = total[0] = total[1] = 0;
  for (uint32_t tile = 0; tile < 8; tile++) {
    uint32_t rows = tile < 6 ? MT_ROWS : (tile == 6 ? 784 - 6 * MT_ROWS : 32);
    mt_region r = {0, rows, 0, tile < 7 ? 32 : 10};
    assert_int_equal(mt_dev_read_levels(dev, tile, r, lv), MT_OK);
    for (uint32_t k = 0; k < r.nrows * r.ncols; k++) {
      assert_true(lv[k] < 7);
      unfav[tile == 7] += lv[k] == 1 || lv[k] == 5;
      total[tile == 7]++;
    }
  }
  mt_dev_close(dev);
  return st;
}

/* The same, both layers together. */
static mt_epoch_stats run(mt_algo algo, float important, uint32_t epochs, uint64_t *unfav,
                          uint64_t *total) {
  mt_train_opts o = small_opts(algo, important, epochs);
  uint64_t u[2], n[2];
  mt_epoch_stats st = run_opts(&o, u, n);
  *unfav = u[0] + u[1];
  *total = n[0] + n[1];
  return st;
}

/* With every weight constrained no weight is on an unfavourable level; with
 * none (conventional) many are; with a fraction P at most (1 - P) of them
 * are. The programmed network is evaluated on the device. */
static void constrained_weights_use_favourable_levels(void **state) {
  (void)state;
  uint64_t unfav, total;
  mt_epoch_stats st = run(MT_ALGO_BIASED, 1.0f, 1, &unfav, &total);
  print_message("biased P=1: %llu of %llu on unfavourable levels, device %.3f, float %.3f\n",
                (unsigned long long)unfav, (unsigned long long)total, st.test_accuracy, st.sw_test_accuracy);
  assert_int_equal(total, 784u * 32u + 32u * 10u);
  assert_int_equal(unfav, 0);
  assert_true(st.has_sw_accuracy);
  assert_int_equal(st.cells_programmed, total); /* programmed once, every weight */
  st = run(MT_ALGO_CONVENTIONAL, 1.0f, 1, &unfav, &total);
  print_message("conventional: %llu of %llu on unfavourable levels\n", (unsigned long long)unfav,
                (unsigned long long)total);
  assert_true(unfav > total / 50);
  uint64_t unfav_conv = unfav;
  st = run(MT_ALGO_BIASED, 0.5f, 1, &unfav, &total);
  print_message("biased P=0.5: %llu of %llu on unfavourable levels\n", (unsigned long long)unfav,
                (unsigned long long)total);
  assert_true(unfav <= total / 2 && unfav < unfav_conv);
}

/* A short run must beat the stated accuracies on the device after
 * programming (fixed seed; measured values in the message). */
static void smoke_accuracy(void **state) {
  (void)state;
  uint64_t unfav, total;
  mt_epoch_stats b = run(MT_ALGO_BIASED, 0.25f, 2, &unfav, &total);
  mt_epoch_stats c = run(MT_ALGO_CONVENTIONAL, 0.25f, 2, &unfav, &total);
  print_message("2 epochs, 2000 train / 500 test: biased device %.3f float %.3f; conventional device %.3f "
                "float %.3f\n", b.test_accuracy, b.sw_test_accuracy, c.test_accuracy, c.sw_test_accuracy);
  assert_true(b.test_accuracy > SMOKE_MIN && c.test_accuracy > SMOKE_MIN);
}

/* Column-wise saliency on a hand-built layer of 130 x 3 weights: two row
 * blocks (rows 0..127 and 128..129), so 6 crossbar columns c = r * 3 + j.
 * Every |w| is 1.25 (signs alternate by row), which the favourable set
 * {-3, -1, 0, 1, 3} projects to 1. */
static void saliency_ranks_columns(void **state) {
  (void)state;
  mt_layer_map_t map;
  char err[256];
  /* 7 levels, w_max 3: level q stands for q - 3 */
  assert_int_equal(mt_map_init(&map, 130, 3, 0, 7, 3.0f, 100.0, 1, 0, 8, 4, err, sizeof err), 0);
  const uint32_t sizes[2] = {130, 3};
  mt_mlp_t net;
  assert_int_equal(mt_mlp_init(&net, sizes, 1, 3), 0);
  for (uint32_t i = 0; i < 130; i++)
    for (uint32_t j = 0; j < 3; j++) net.w[0][i * 3 + j] = i % 2 ? -1.25f : 1.25f;
  const uint8_t fav[7] = {1, 0, 1, 1, 1, 0, 1};
  const float half = 0.5f;
  mt_biased_state s;
  assert_int_equal(mt_biased_init(&s, &net, &map, fav, &half, MT_IMPORTANCE_SALIENCY, err, sizeof err), 0);
  assert_int_equal(s.n_col[0], 6);
  /* No step yet: columns by the sum of |latent| (block 0: 160 each, block 1: 2.5), 3 of 6. */
  mt_biased_select(&s, &net);
  for (uint32_t i = 0; i < 130; i++)
    for (uint32_t j = 0; j < 3; j++) {
      assert_int_equal(s.mask[0][i * 3 + j], i < 128);
      assert_true(fabsf(net.w[0][i * 3 + j]) == (i < 128 ? 1.0f : 1.25f));
    }
  /* Gradients per column, with |w| 1 in block 0 and 1.25 in block 1, so the sum of |w g| per step
   * is c0 128/1024, c1 128/512, c2 0, c3 2 x 1.25 x 0.5, c4 2 x 1.25 / 64, c5 2 x 1.25 x 0.25
   * (a negative gradient: the magnitude counts). Two steps. */
  static float g[130 * 3];
  const float gc[6] = {1.0f / 1024, 1.0f / 512, 0.0f, 0.5f, 1.0f / 64, -0.25f};
  for (uint32_t i = 0; i < 130; i++)
    for (uint32_t j = 0; j < 3; j++) g[i * 3 + j] = gc[(i / MT_ROWS) * 3 + j];
  mt_mlp_work_t wk;
  memset(&wk, 0, sizeof wk);
  wk.gw[0] = g;
  mt_biased_accumulate(&s, &net, &wk);
  mt_biased_accumulate(&s, &net, &wk);
  assert_int_equal(s.sal_steps, 2);
  const double want_sal[6] = {0.25, 0.5, 0.0, 2.5, 0.078125, 1.25};
  for (uint32_t c = 0; c < 6; c++) assert_true(s.col_sal[0][c] == want_sal[c]);
  /* The top 3: c3, c5, c1; their weights projected, the others latent; the sums restart. */
  mt_biased_select(&s, &net);
  for (uint32_t i = 0; i < 130; i++)
    for (uint32_t j = 0; j < 3; j++) {
      int chosen = i < 128 ? j == 1 : j != 1;
      assert_int_equal(s.mask[0][i * 3 + j], chosen);
      assert_true(fabsf(net.w[0][i * 3 + j]) == (chosen ? 1.0f : 1.25f));
    }
  assert_int_equal(s.sal_steps, 0);
  for (uint32_t c = 0; c < 6; c++) assert_true(s.col_sal[0][c] == 0);
  /* Ties go to the lower column: a step of zero gradients, 4 of 6 (ceil(0.6 x 6)). */
  memset(g, 0, sizeof g);
  mt_biased_accumulate(&s, &net, &wk);
  s.important[0] = 0.6f;
  mt_biased_select(&s, &net);
  for (uint32_t i = 0; i < 130; i++)
    for (uint32_t j = 0; j < 3; j++) assert_int_equal(s.mask[0][i * 3 + j], i < 128 || j == 0);
  /* A layer with fraction 0: no column constrained, its sums untouched. */
  s.important[0] = 0.0f;
  wk.gw[0] = g;
  g[0] = 1.0f;
  mt_biased_accumulate(&s, &net, &wk);
  assert_true(s.col_sal[0][0] == 0);
  mt_biased_select(&s, &net);
  for (uint32_t k = 0; k < 130 * 3; k++) assert_int_equal(s.mask[0][k], 0);
  mt_biased_free(&s);
  mt_mlp_free(&net);
  mt_map_free(&map);
}

/* --important: one fraction or one per layer, each in [0, 1]; anything else is refused and
 * leaves the options as they were; a list of the wrong length is refused when the run starts. */
static void important_fractions(void **state) {
  (void)state;
  mt_train_opts o;
  mt_train_defaults(&o);
  assert_int_equal(mt_train_parse_important("0.5", &o), 0);
  assert_true(o.important == 0.5f && o.n_important == 0 && mt_train_important(&o, 5) == 0.5f);
  assert_int_equal(mt_train_parse_important("0,0.25,1", &o), 0);
  assert_int_equal(o.n_important, 3);
  assert_true(mt_train_important(&o, 0) == 0.0f && mt_train_important(&o, 1) == 0.25f &&
              mt_train_important(&o, 2) == 1.0f);
  static const char *const bad[] = {"", "1.5", "-0.1", "0.2,", ",0.2", "0.2,,0.3", "a", "0.1x", "nan",
                                    "inf", "1e-400" /* ERANGE */, "0.5;0.5",
                                    "0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1"};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    mt_train_opts before = o;
    if (mt_train_parse_important(bad[k], &o) != -1) fail_msg("'%s' was taken", bad[k]);
    assert_true(o.n_important == before.n_important && o.important == before.important &&
                memcmp(o.important_layer, before.important_layer, sizeof o.important_layer) == 0);
  }
  assert_int_equal(mt_train_parse_important("0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1", &o), 0); /* 8 layers */
  assert_int_equal(o.n_important, 8);
  o = small_opts(MT_ALGO_BIASED, 0.25f, 1);
  assert_int_equal(mt_train_parse_important("0.5,0.5,0.5", &o), 0);
  mt_dev *dev = NULL;
  char err[512];
  assert_int_equal(mt_dev_open("model://?tiles=8", &dev), MT_OK);
  assert_int_equal(mt_train_run(&o, &train, &test, dev, &preset, NULL, err, sizeof err), MT_ERR_INVAL);
  if (!strstr(err, "--important: 3 fractions for a network of 2 layers")) fail_msg("%s", err);
  mt_dev_close(dev);
}

/* One fraction per layer: layer 2 all constrained (no weight on an unfavourable level), layer
 * 1 free (as many as conventional training puts there). */
static void per_layer_fractions(void **state) {
  (void)state;
  mt_train_opts o = small_opts(MT_ALGO_BIASED, 0.25f, 1);
  assert_int_equal(mt_train_parse_important("0,1", &o), 0);
  uint64_t unfav[2], total[2];
  run_opts(&o, unfav, total);
  print_message("--important 0,1: layer 1 %llu of %llu unfavourable, layer 2 %llu of %llu\n",
                (unsigned long long)unfav[0], (unsigned long long)total[0],
                (unsigned long long)unfav[1], (unsigned long long)total[1]);
  assert_int_equal(unfav[1], 0);
  assert_true(unfav[0] > total[0] / 50);
}

/* Every epoch of a run, and optionally a stop after one (checkpointed). */
#define MAX_EPOCHS 6
typedef struct {
  uint32_t n, stop_after;
  mt_epoch_stats st[MAX_EPOCHS];
} epochs_t;

static int keep_all(void *ctx, const mt_epoch_stats *st) {
  epochs_t *e = ctx;
  assert_true(e->n < MAX_EPOCHS);
  e->st[e->n++] = *st;
  return e->stop_after && st->epoch == e->stop_after;
}

static int train_all(const mt_train_opts *o, epochs_t *e, char *err, size_t errlen) {
  mt_dev *dev = NULL;
  assert_int_equal(mt_dev_open("model://?tiles=8", &dev), MT_OK);
  mt_train_hooks hooks = {NULL, keep_all, e, NULL};
  int rc = mt_train_run(o, &train, &test, dev, &preset, &hooks, err, errlen);
  mt_dev_close(dev);
  return rc;
}

static void train_ok(const mt_train_opts *o, epochs_t *e) {
  char err[512];
  if (train_all(o, e, err, sizeof err) != 0) fail_msg("%s", err);
}

/* --val: after every epoch the best epoch so far is the first of highest val_accuracy, with
 * its validation and test accuracy; its network is the one the draws program (the draws of a
 * run cut at the best epoch are the same, bit for bit). */
static void best_epoch_on_the_validation_split(void **state) {
  (void)state;
  mt_train_opts o = small_opts(MT_ALGO_BIASED, 0.25f, 4);
  o.val = 500;
  o.lr = 0.2f; /* large steps: the validation accuracy goes up and down */
  o.draws = 3;
  static epochs_t a, b;
  memset(&a, 0, sizeof a);
  train_ok(&o, &a);
  assert_int_equal(a.n, 4);
  for (uint32_t k = 0; k < a.n; k++) {
    uint32_t best = 0;
    for (uint32_t i = 1; i <= k; i++)
      if (a.st[i].val_accuracy > a.st[best].val_accuracy) best = i;
    print_message("epoch %u: val %.3f test %.3f -> best epoch %u\n", k + 1, a.st[k].val_accuracy,
                  a.st[k].test_accuracy, a.st[k].best_epoch);
    assert_true(a.st[k].has_val && a.st[k].has_best);
    assert_int_equal(a.st[k].best_epoch, best + 1);
    assert_true(a.st[k].best_val_accuracy == a.st[best].val_accuracy);
    assert_true(a.st[k].best_test_accuracy == a.st[best].test_accuracy);
  }
  /* A run of 2 epochs ends with the best epoch of those two (the first, with this seed: the
   * draws then program an earlier network than the last), a run of that many with itself. */
  uint32_t best = a.st[1].best_epoch;
  o.epochs = 2;
  memset(&b, 0, sizeof b);
  train_ok(&o, &b);
  assert_int_equal(b.st[1].best_epoch, best);
  o.epochs = best;
  static epochs_t c;
  memset(&c, 0, sizeof c);
  train_ok(&o, &c);
  assert_int_equal(b.st[1].n_draws, 3);
  assert_int_equal(c.st[best - 1].n_draws, 3);
  for (uint32_t k = 0; k < 3; k++) assert_true(b.st[1].draw_accuracy[k] == c.st[best - 1].draw_accuracy[k]);
}

/* --draws 3: the last epoch has 3 accuracies (on distinct dies), their mean and sample sd;
 * every figure of every epoch is the run's without draws (the device is put back), which
 * has neither draws nor a best epoch. */
static void draws_program_the_result_on_fresh_dies(void **state) {
  (void)state;
  mt_train_opts o = small_opts(MT_ALGO_CONVENTIONAL, 0.25f, 2);
  static epochs_t one, three;
  memset(&one, 0, sizeof one);
  memset(&three, 0, sizeof three);
  train_ok(&o, &one);
  o.draws = 3;
  train_ok(&o, &three);
  assert_int_equal(one.n, 2);
  assert_int_equal(three.n, 2);
  const mt_epoch_stats *d = &three.st[1];
  print_message("draws %.4f %.4f %.4f: mean %.4f sd %.4f; the run's die %.4f\n", d->draw_accuracy[0],
                d->draw_accuracy[1], d->draw_accuracy[2], d->draw_mean, d->draw_sd, d->test_accuracy);
  assert_int_equal(three.st[0].n_draws, 0);
  assert_int_equal(d->n_draws, 3);
  double mean = (d->draw_accuracy[0] + d->draw_accuracy[1] + d->draw_accuracy[2]) / 3, sq = 0;
  for (int k = 0; k < 3; k++) {
    assert_true(d->draw_accuracy[k] > SMOKE_MIN && d->draw_accuracy[k] <= 1);
    sq += (d->draw_accuracy[k] - mean) * (d->draw_accuracy[k] - mean);
  }
  assert_true(fabs(d->draw_mean - mean) < 1e-12);
  assert_true(fabs(d->draw_sd - sqrt(sq / 2)) < 1e-12);
  assert_true(d->draw_accuracy[0] != d->draw_accuracy[1] || d->draw_accuracy[1] != d->draw_accuracy[2]);
  for (uint32_t e = 0; e < 2; e++) {
    const mt_epoch_stats *x = &one.st[e], *y = &three.st[e];
    assert_int_equal(x->n_draws, 0);
    assert_false(x->has_best || y->has_best);
    assert_true(x->test_accuracy == y->test_accuracy && x->sw_test_accuracy == y->sw_test_accuracy &&
                x->train_loss == y->train_loss && x->energy_pj == y->energy_pj);
    assert_int_equal(x->set_pulses, y->set_pulses);
    assert_int_equal(x->reset_pulses, y->reset_pulses);
    assert_int_equal(x->verify_reads, y->verify_reads);
    assert_int_equal(x->cells_programmed, y->cells_programmed);
    assert_int_equal(x->mvms, y->mvms);
    assert_int_equal(x->transactions, y->transactions);
  }
}

/* Two drift-eval runs' figures, bit for bit. */
static void same_drift(const mt_epoch_stats *x, const mt_epoch_stats *y) {
  assert_int_equal(x->n_drift, y->n_drift);
  assert_int_equal(x->drift_epoch, y->drift_epoch);
  for (uint32_t k = 0; k < x->n_drift; k++)
    if (x->drift_t[k] != y->drift_t[k] || x->drift_accuracy[k] != y->drift_accuracy[k])
      fail_msg("drift %u: %g s %.17g / %g s %.17g", k, x->drift_t[k], x->drift_accuracy[k],
               y->drift_t[k], y->drift_accuracy[k]);
}

/* --drift-eval with --val drifts the run's result, the best epoch's network, programmed anew:
 * a run of 2 epochs whose best is the first drifts what a run of 1 epoch drifts, bit for bit,
 * and says so (drift_epoch); without --val the last epoch's network drifts. Every figure of
 * every epoch is the run's without --drift-eval (the device and the level mirrors are put
 * back). A preset that drifts (nu 0.1 +- 0.02): a day later the network has decayed. */
static void drift_eval_tests_the_best_epoch(void **state) {
  (void)state;
  const uint32_t nu = preset.cfg[MT_CFG_DRIFT_NU], nu_sd = preset.cfg[MT_CFG_DRIFT_NU_SD];
  preset.cfg[MT_CFG_DRIFT_NU] = 6554;    /* 0.1 in Q0.16 */
  preset.cfg[MT_CFG_DRIFT_NU_SD] = 1311; /* 0.02 */
  mt_train_opts o = small_opts(MT_ALGO_BIASED, 0.25f, 2);
  o.val = 500;
  o.lr = 0.2f; /* as best_epoch_on_the_validation_split: the first epoch is the better */
  static epochs_t plain, two, one, last;
  memset(&plain, 0, sizeof plain);
  memset(&two, 0, sizeof two);
  memset(&one, 0, sizeof one);
  memset(&last, 0, sizeof last);
  train_ok(&o, &plain);
  char msg[512];
  assert_int_equal(mt_train_parse_drift_eval("0,86400", &o, msg, sizeof msg), 0);
  train_ok(&o, &two);
  assert_int_equal(two.n, 2);
  const mt_epoch_stats *d = &two.st[1];
  print_message("best epoch %u (test %.4f, last %.4f): drifted 0 s %.4f, a day %.4f\n", d->best_epoch,
                d->best_test_accuracy, d->test_accuracy, d->drift_accuracy[0], d->drift_accuracy[1]);
  assert_int_equal(d->best_epoch, 1); /* else this test tests nothing */
  assert_int_equal(two.st[0].n_drift, 0);
  assert_int_equal(d->n_drift, 2);
  assert_int_equal(d->drift_epoch, 1);
  assert_true(d->drift_t[0] == 0 && d->drift_t[1] == 86400);
  assert_true(d->drift_accuracy[1] < d->drift_accuracy[0] - 0.05);
  for (uint32_t e = 0; e < 2; e++) {
    const mt_epoch_stats *x = &plain.st[e], *y = &two.st[e];
    assert_true(x->test_accuracy == y->test_accuracy && x->val_accuracy == y->val_accuracy &&
                x->sw_test_accuracy == y->sw_test_accuracy && x->train_loss == y->train_loss &&
                x->energy_pj == y->energy_pj);
    assert_int_equal(x->set_pulses, y->set_pulses);
    assert_int_equal(x->cells_programmed, y->cells_programmed);
    assert_int_equal(x->transactions, y->transactions);
  }
  o.epochs = 1;
  train_ok(&o, &one);
  assert_int_equal(one.st[0].best_epoch, 1);
  same_drift(&one.st[0], d);
  /* Without --val the result is the network on the device, the last epoch's. */
  o.epochs = 2;
  o.val = 0;
  train_ok(&o, &last);
  assert_false(last.st[1].has_best);
  assert_int_equal(last.st[1].drift_epoch, 2);
  assert_int_equal(last.st[1].n_drift, 2);
  preset.cfg[MT_CFG_DRIFT_NU] = nu;
  preset.cfg[MT_CFG_DRIFT_NU_SD] = nu_sd;
}

/* A run checkpointed after epoch 2 of 3 and resumed (saliency sums, best epoch and its
 * network in the checkpoint) ends as the uninterrupted run does, draws and the drift of the
 * best epoch's network included; resuming
 * the finished run with --draws is refused. */
static void resume_keeps_saliency_best_epoch_and_draws(void **state) {
  (void)state;
  char path[] = "/tmp/mt_test_biased_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  mt_train_opts o = small_opts(MT_ALGO_BIASED, 0.25f, 3);
  o.val = 500;
  o.lr = 0.2f;
  o.draws = 3;
  char msg[256];
  assert_int_equal(mt_train_parse_drift_eval("1,3600", &o, msg, sizeof msg), 0);
  static epochs_t full, part, rest;
  memset(&full, 0, sizeof full);
  memset(&part, 0, sizeof part);
  memset(&rest, 0, sizeof rest);
  train_ok(&o, &full);
  o.checkpoint = path;
  part.stop_after = 2;
  train_ok(&o, &part);
  assert_int_equal(part.n, 2);
  o.resume = path;
  train_ok(&o, &rest);
  assert_int_equal(rest.n, 1);
  const mt_epoch_stats *x = &full.st[2], *y = &rest.st[0];
  assert_int_equal(y->epoch, 3);
  assert_true(x->test_accuracy == y->test_accuracy && x->val_accuracy == y->val_accuracy &&
              x->sw_test_accuracy == y->sw_test_accuracy && x->train_loss == y->train_loss);
  assert_int_equal(x->best_epoch, y->best_epoch);
  assert_true(x->best_val_accuracy == y->best_val_accuracy &&
              x->best_test_accuracy == y->best_test_accuracy);
  assert_int_equal(y->n_draws, 3);
  for (int k = 0; k < 3; k++) assert_true(x->draw_accuracy[k] == y->draw_accuracy[k]);
  assert_true(x->draw_mean == y->draw_mean && x->draw_sd == y->draw_sd);
  assert_int_equal(y->n_drift, 2);
  assert_int_equal(y->drift_epoch, y->best_epoch);
  same_drift(x, y);
  char err[512];
  static epochs_t none;
  memset(&none, 0, sizeof none);
  assert_int_equal(train_all(&o, &none, err, sizeof err), MT_ERR_INVAL);
  if (!strstr(err, "holds all 3 epochs already")) fail_msg("%s", err);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(characterization_finds_the_spread_order),
    cmocka_unit_test(favourable_rule),
    cmocka_unit_test(projection_and_selection),
    cmocka_unit_test(constrained_weights_use_favourable_levels),
    cmocka_unit_test(smoke_accuracy),
    cmocka_unit_test(saliency_ranks_columns),
    cmocka_unit_test(important_fractions),
    cmocka_unit_test(per_layer_fractions),
    cmocka_unit_test(best_epoch_on_the_validation_split),
    cmocka_unit_test(draws_program_the_result_on_fresh_dies),
    cmocka_unit_test(drift_eval_tests_the_best_epoch),
    cmocka_unit_test(resume_keeps_saliency_best_epoch_and_draws),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
