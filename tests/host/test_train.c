/* Invariants of the training algorithms, through mt_train_run on a small
 * MNIST slice (320 training images = 10 steps of 32, 784-32-10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "memtile.h"
#include "mt_dataset.h"
#include "mt_preset.h"
#include "mt_train.h"

#define WEIGHTS (784u * 32u + 32u * 10u)

static mt_dataset_t train, test;
static mt_preset_t preset;

static int setup(void **state) {
  (void)state;
  char err[512];
  if (mt_dataset_open("mnist", MT_SOURCE_DIR, 320, 200, &train, &test, err, sizeof err) != 0 ||
      mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &preset, err, sizeof err) != 0) {
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

static int keep_epoch(void *ctx, const mt_epoch_stats *s) {
  *(mt_epoch_stats *)ctx = *s;
  return 0;
}

static mt_epoch_stats train_once(mt_train_opts *o) {
  mt_epoch_stats s;
  memset(&s, 0, sizeof s);
  o->sizes[0] = 784, o->sizes[1] = 32, o->sizes[2] = 10, o->n_layers = 2;
  o->epochs = 1;
  mt_dev *dev = NULL;
  if (mt_dev_open("model://?tiles=8", &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  mt_train_hooks hooks = {NULL, keep_epoch, &s};
  char err[512];
  if (mt_train_run(o, &train, &test, dev, &preset, &hooks, err, sizeof err) != 0) fail_msg("%s", err);
  mt_dev_close(dev);
  return s;
}

/* Gradients summed over K batches are applied once: with K beyond the epoch's
 * 10 steps nothing is programmed after the initial weights. */
static void accumulation_defers_programming(void **state) {
  (void)state;
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_SIAMESE;
  o.accumulate = 1000;
  mt_epoch_stats s = train_once(&o);
  assert_int_equal(s.cells_programmed, WEIGHTS);
  assert_int_equal(s.cell_reads, 0);
  o.accumulate = 5; /* two applications in 10 steps */
  mt_epoch_stats s5 = train_once(&o);
  o.accumulate = 1;
  mt_epoch_stats s1 = train_once(&o);
  print_message("programmed: K=1000 %llu, K=5 %llu, K=1 %llu\n", (unsigned long long)s.cells_programmed,
                (unsigned long long)s5.cells_programmed, (unsigned long long)s1.cells_programmed);
  assert_true(s5.cells_programmed > WEIGHTS);
  assert_true(s1.cells_programmed > s5.cells_programmed);
  /* Each step checks every weight once: skipped + programmed after the initial write. */
  assert_int_equal(s5.updates_skipped + s5.cells_programmed - WEIGHTS, 2 * WEIGHTS);
}

/* Read-back compensation reads exactly the weights whose level changed (two
 * devices each); without it nothing is read. */
static void compensation_reads_back_changed_weights(void **state) {
  (void)state;
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_SIAMESE;
  o.compensate = MT_COMP_READBACK;
  mt_epoch_stats s = train_once(&o);
  assert_true(s.cells_programmed > WEIGHTS);
  assert_int_equal(s.cell_reads, 2 * (s.cells_programmed - WEIGHTS));
  o.compensate = MT_COMP_NONE;
  mt_epoch_stats n = train_once(&o);
  assert_int_equal(n.cell_reads, 0);
  /* Compensation changes what gets programmed (it is not a no-op). */
  assert_true(n.cells_programmed != s.cells_programmed);
}

/* Closed-loop reprograms every weight after every step by write-verify. */
static void closed_loop_programs_everything(void **state) {
  (void)state;
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_CLOSED_LOOP;
  mt_epoch_stats s = train_once(&o);
  assert_int_equal(s.cells_programmed, WEIGHTS + 10 * WEIGHTS);
  assert_int_equal(s.updates_skipped, 0);
  assert_true(s.verify_reads >= 2 * s.cells_programmed); /* at least one read per device */
}

/* The same seed gives the same run; the float baseline touches no device. */
static void runs_are_deterministic(void **state) {
  (void)state;
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_SIAMESE;
  mt_epoch_stats a = train_once(&o), b = train_once(&o);
  assert_true(a.test_accuracy == b.test_accuracy && a.train_loss == b.train_loss);
  assert_int_equal(a.set_pulses, b.set_pulses);
  assert_true(a.energy_pj == b.energy_pj);
  o.seed = 2;
  mt_epoch_stats c = train_once(&o);
  assert_true(c.set_pulses != a.set_pulses);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(accumulation_defers_programming),
    cmocka_unit_test(compensation_reads_back_changed_weights),
    cmocka_unit_test(closed_loop_programs_everything),
    cmocka_unit_test(runs_are_deterministic),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
