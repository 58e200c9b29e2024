/* Invariants of the training algorithms, through mt_train_run on a small
 * MNIST slice (320 training images = 10 steps of 32, 784-32-10). */
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

/* One epoch of 784-hidden-10 on a device of 16 tiles. */
static mt_epoch_stats train_hidden(mt_train_opts *o, uint32_t hidden) {
  mt_epoch_stats s;
  memset(&s, 0, sizeof s);
  o->sizes[0] = 784, o->sizes[1] = hidden, o->sizes[2] = 10, o->n_layers = 2;
  o->epochs = 1;
  mt_dev *dev = NULL;
  if (mt_dev_open("model://?tiles=16", &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  mt_train_hooks hooks = {NULL, keep_epoch, &s, NULL};
  char err[512];
  if (mt_train_run(o, &train, &test, dev, &preset, &hooks, err, sizeof err) != 0) fail_msg("%s", err);
  mt_dev_close(dev);
  return s;
}

static mt_epoch_stats train_once(mt_train_opts *o) { return train_hidden(o, 32); }

/* A network larger than the device is refused; the hint names a device that can exist. */
static void too_many_tiles_names_what_would_fit(void **state) {
  (void)state;
  static const struct { uint32_t hidden; const char *want; } cases[] = {
    {256, "the network needs 16 tiles of 128x128 but model://?tiles=8 has 8 (open model://?tiles=16, or swap tiles through it with --max-tiles 8)"},
    {2048, "the network needs 128 tiles of 128x128 but model://?tiles=8 has 8 (a device has at most 64)"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    mt_train_opts o;
    mt_train_defaults(&o);
    o.sizes[0] = 784, o.sizes[1] = cases[k].hidden, o.sizes[2] = 10, o.n_layers = 2;
    o.epochs = 1;
    mt_dev *dev = NULL;
    if (mt_dev_open("model://?tiles=8", &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
    char err[512] = "";
    assert_int_not_equal(mt_train_run(&o, &train, &test, dev, &preset, NULL, err, sizeof err), 0);
    mt_dev_close(dev);
    if (!strstr(err, cases[k].want)) fail_msg("'%s' lacks '%s'", err, cases[k].want);
  }
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
  /* The read-back is batched: one READ_LIST per tile with changes and step (8 tiles,
   * 10 steps), not one command per changed weight. */
  uint64_t reads = s.cell_reads / 2, steps = 10, tiles = 8;
  assert_true(reads > 10 * steps * tiles);
  assert_true(n.transactions > 0);
  if (s.transactions > n.transactions + 2 * steps * tiles)
    fail_msg("read-back costs %llu commands for %llu weights",
             (unsigned long long)(s.transactions - n.transactions), (unsigned long long)reads);
  /* Compensation changes what gets programmed (it is not a no-op). */
  assert_true(n.cells_programmed != s.cells_programmed);
  /* Also for a layer two tiles wide (784-200-10: 14 + 2 tiles), whose changed weights
   * alternate between its tiles along every row: still one READ_LIST per tile and step. */
  o.compensate = MT_COMP_READBACK;
  s = train_hidden(&o, 200);
  o.compensate = MT_COMP_NONE;
  n = train_hidden(&o, 200);
  reads = s.cell_reads / 2, tiles = 16;
  assert_true(reads > 10 * steps * tiles);
  if (s.transactions > n.transactions + 2 * steps * tiles)
    fail_msg("784-200-10: read-back costs %llu commands for %llu weights",
             (unsigned long long)(s.transactions - n.transactions), (unsigned long long)reads);
}

/* Closed-loop reprograms every weight after every step by write-verify; with
 * --changed-only only the weights whose level changed. */
static void closed_loop_programs_everything(void **state) {
  (void)state;
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_CLOSED_LOOP;
  mt_epoch_stats s = train_once(&o);
  assert_int_equal(s.cells_programmed, WEIGHTS + 10 * WEIGHTS);
  assert_int_equal(s.updates_skipped, 0);
  assert_true(s.verify_reads >= 2 * s.cells_programmed); /* at least one read per device */
  /* --changed-only ("write-verify on change"): after the initial write, each step writes
   * and verifies only the weights whose level changed, and counts the others as skipped;
   * with the same gradients (no compensation), siamese --compensate none programs the
   * same weights. */
  o.changed_only = 1;
  mt_epoch_stats c = train_once(&o);
  assert_true(c.cells_programmed > WEIGHTS && c.cells_programmed < s.cells_programmed);
  assert_int_equal(c.updates_skipped + c.cells_programmed - WEIGHTS, 10 * WEIGHTS);
  assert_true(c.verify_reads < s.verify_reads);
  o.algo = MT_ALGO_SIAMESE;
  o.changed_only = 0;
  o.compensate = MT_COMP_NONE;
  mt_epoch_stats n = train_once(&o);
  assert_int_equal(n.cells_programmed, c.cells_programmed);
  /* The option of another algorithm is refused. */
  o.changed_only = 1;
  char err[256];
  mt_dev *dev = NULL;
  assert_int_equal(mt_dev_open("model://?tiles=8", &dev), MT_OK);
  assert_int_equal(mt_train_run(&o, &train, &test, dev, &preset, NULL, err, sizeof err), -1);
  assert_non_null(strstr(err, "--changed-only is for closed-loop, not siamese"));
  /* so are --optimizer adam and --batchnorm, through the library as through the tool */
  o.changed_only = 0;
  o.optimizer = MT_OPTIM_ADAM;
  assert_int_equal(mt_train_run(&o, &train, &test, dev, &preset, NULL, err, sizeof err), MT_ERR_INVAL);
  assert_non_null(strstr(err, "--optimizer adam is for float and metaplastic, not siamese"));
  o.optimizer = MT_OPTIM_SGD;
  o.batchnorm = 1;
  o.algo = MT_ALGO_CLOSED_LOOP;
  assert_int_equal(mt_train_run(&o, &train, &test, dev, &preset, NULL, err, sizeof err), MT_ERR_INVAL);
  assert_non_null(strstr(err, "--batchnorm is for float and metaplastic, not closed-loop"));
  mt_dev_close(dev);
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

typedef struct {
  mt_epoch_stats s[8];
  uint32_t n;
} epochs_t;

static int keep_all(void *ctx, const mt_epoch_stats *s) {
  epochs_t *e = ctx;
  if (e->n < 8) e->s[e->n++] = *s;
  return 0;
}

/* Runs o; returns 0 or -1 with the message in err. */
static int run_collect(mt_train_opts *o, epochs_t *e, char *err, size_t errlen) {
  o->sizes[0] = 784, o->sizes[1] = 32, o->sizes[2] = 10, o->n_layers = 2;
  memset(e, 0, sizeof *e);
  mt_dev *dev = NULL;
  if (mt_dev_open("model://?tiles=8", &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  mt_train_hooks hooks = {NULL, keep_all, e, NULL};
  int rc = mt_train_run(o, &train, &test, dev, &preset, &hooks, err, errlen);
  mt_dev_close(dev);
  return rc;
}

static void same_epoch(const mt_epoch_stats *a, const mt_epoch_stats *b) {
  assert_int_equal(a->epoch, b->epoch);
  assert_true(a->train_loss == b->train_loss && a->test_accuracy == b->test_accuracy);
  assert_int_equal(a->set_pulses, b->set_pulses);
  assert_int_equal(a->reset_pulses, b->reset_pulses);
  assert_int_equal(a->verify_reads, b->verify_reads);
  assert_int_equal(a->cell_reads, b->cell_reads);
  assert_int_equal(a->cells_programmed, b->cells_programmed);
  assert_int_equal(a->updates_skipped, b->updates_skipped);
  assert_true(a->energy_pj == b->energy_pj);
}

/* 3 epochs straight equal 1 epoch + resume for 2 more, counter for counter:
 * weights, optimizer state, example order and the device (noise lanes
 * included) all come back. Also with accumulation and a float run. */
static void resume_continues_exactly(void **state) {
  (void)state;
  char path[64], err[512];
  snprintf(path, sizeof path, "/tmp/mt_test_train_%d.ckpt", (int)getpid());
  static const struct { mt_algo algo; uint32_t acc; } cases[] = {
    {MT_ALGO_SIAMESE, 1}, {MT_ALGO_SIAMESE, 3}, {MT_ALGO_FLOAT, 1}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    mt_train_opts o;
    epochs_t full, part, rest;
    mt_train_defaults(&o);
    o.algo = cases[c].algo;
    o.accumulate = cases[c].acc;
    o.epochs = 3;
    assert_int_equal(run_collect(&o, &full, err, sizeof err), 0);
    o.epochs = 1;
    o.checkpoint = path;
    assert_int_equal(run_collect(&o, &part, err, sizeof err), 0);
    o.epochs = 3;
    o.checkpoint = NULL;
    o.resume = path;
    if (run_collect(&o, &rest, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(rest.n, 2);
    same_epoch(&full.s[0], &part.s[0]);
    same_epoch(&full.s[1], &rest.s[0]);
    same_epoch(&full.s[2], &rest.s[1]);
  }
  unlink(path);
}

/* The run fails with code (MT_ERR_IO: the file cannot be read; MT_ERR_FILE: its content). */
static void expect_resume_error(mt_train_opts *o, int code, const char *msg) {
  char err[512];
  epochs_t e;
  int rc = run_collect(o, &e, err, sizeof err);
  if (rc != code) fail_msg("%s (want %s): %s", mt_err_name(rc), mt_err_name(code), err);
  if (!strstr(err, msg)) fail_msg("message '%s' lacks '%s'", err, msg);
  assert_int_equal(e.n, 0);
}

/* A damaged, foreign or mismatched checkpoint is refused with a reason. */
static void bad_checkpoints_are_refused(void **state) {
  (void)state;
  char path[64], bad[80], cmd[512], err[512];
  snprintf(path, sizeof path, "/tmp/mt_test_train_%d.ckpt", (int)getpid());
  snprintf(bad, sizeof bad, "%s.bad", path);
  mt_train_opts o;
  epochs_t e;
  mt_train_defaults(&o);
  o.epochs = 1;
  o.checkpoint = path;
  assert_int_equal(run_collect(&o, &e, err, sizeof err), 0);
  o.checkpoint = NULL;
  o.epochs = 2;
  o.resume = "/nonexistent/x.ckpt";
  expect_resume_error(&o, MT_ERR_IO, "/nonexistent/x.ckpt: cannot open");
  o.resume = bad;
  snprintf(cmd, sizeof cmd, "head -c 100000 %s > %s", path, bad);
  assert_int_equal(system(cmd), 0);
  expect_resume_error(&o, MT_ERR_FILE, "checksum mismatch");
  snprintf(cmd, sizeof cmd, "cp %s %s && printf 'X' | dd of=%s bs=1 seek=5000 conv=notrunc status=none",
           path, bad, bad);
  assert_int_equal(system(cmd), 0);
  expect_resume_error(&o, MT_ERR_FILE, "checksum mismatch");
  snprintf(cmd, sizeof cmd, "printf 'not a checkpoint at all' > %s", bad);
  assert_int_equal(system(cmd), 0);
  expect_resume_error(&o, MT_ERR_FILE, "not a memtile checkpoint");
  o.resume = path;
  o.batch = 16;
  expect_resume_error(&o, MT_ERR_FILE, "was written with batch 32, this run has 16");
  o.batch = 32;
  o.algo = MT_ALGO_CLOSED_LOOP;
  expect_resume_error(&o, MT_ERR_FILE, "was written with algorithm");
  unlink(path);
  unlink(bad);
}

/* Evaluation must not disturb the training order: with fewer training than
 * test examples, a clobbered order made epoch 2 read past the training
 * images (caught by AddressSanitizer). */
static void evaluation_keeps_the_training_order(void **state) {
  (void)state;
  mt_dataset_t small_train, big_test;
  char err[512];
  assert_int_equal(mt_dataset_open("mnist", MT_SOURCE_DIR, 40, 200, &small_train, &big_test, err,
                                   sizeof err), 0);
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_FLOAT;
  o.epochs = 3;
  o.sizes[0] = 784, o.sizes[1] = 16, o.sizes[2] = 10, o.n_layers = 2;
  epochs_t e;
  memset(&e, 0, sizeof e);
  mt_train_hooks hooks = {NULL, keep_all, &e, NULL};
  assert_int_equal(mt_train_run(&o, &small_train, &big_test, NULL, NULL, &hooks, err, sizeof err), 0);
  assert_int_equal(e.n, 3);
  mt_dataset_free(&small_train);
  mt_dataset_free(&big_test);
}

/* A command the device rejects fails the run with the device's class and message, not a
 * generic one: a CONFIGURE with g_min = g_max (the host passes it on unchecked). */
static void device_failure_keeps_its_class(void **state) {
  (void)state;
  mt_preset_t bad = preset;
  bad.cfg[MT_CFG_G_MIN] = bad.cfg[MT_CFG_G_MAX];
  mt_train_opts o;
  mt_train_defaults(&o);
  o.sizes[0] = 784, o.sizes[1] = 32, o.sizes[2] = 10, o.n_layers = 2;
  o.epochs = 1;
  mt_dev *dev = NULL;
  if (mt_dev_open("model://?tiles=8", &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  char err[512] = "";
  int rc = mt_train_run(&o, &train, &test, dev, &bad, NULL, err, sizeof err);
  if (rc != MT_ERR_DEVICE || !strstr(err, "CONFIGURE") || !strstr(err, "g_min < g_max"))
    fail_msg("%s: %s", mt_err_name(rc), err);
  assert_int_equal(mt_dev_errcode(dev), MT_ERR_DEVICE);
  assert_string_equal(mt_dev_errmsg(dev), err);
  mt_dev_close(dev);
  /* The host's own refusals keep theirs: options that do not fit the data. */
  o.sizes[0] = 100;
  if (mt_dev_open("model://?tiles=8", &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  assert_int_equal(mt_train_run(&o, &train, &test, dev, &preset, NULL, err, sizeof err), MT_ERR_INVAL);
  assert_non_null(strstr(err, "the network has 100 inputs"));
  mt_dev_close(dev);
}

/* --drift-eval lists, parsed alone (tests/host/test_cli.c runs the command's refusals): up to
 * MT_TRAIN_MAX_DRIFT_T increasing times in [0, 1e18]; each refusal names the element and
 * leaves the options as they were. */
static void drift_eval_lists(void **state) {
  (void)state;
  mt_train_opts o;
  mt_train_defaults(&o);
  char err[160];
  assert_int_equal(mt_train_parse_drift_eval("0,1.5,3600,1e18", &o, err, sizeof err), 0);
  assert_int_equal(o.n_drift_t, 4);
  assert_true(o.drift_t[0] == 0 && o.drift_t[1] == 1.5 && o.drift_t[2] == 3600 && o.drift_t[3] == 1e18);
  assert_int_equal(mt_train_parse_drift_eval("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", &o, err, sizeof err), 0);
  assert_int_equal(o.n_drift_t, MT_TRAIN_MAX_DRIFT_T);
  assert_true(o.drift_t[15] == 16);
  static const char *const bad[][2] = {
      {"", "'' is not a time in seconds in [0, 1e18]"},
      {"5,", "'' is not a time in seconds in [0, 1e18]"},
      {",5", "'' is not a time in seconds in [0, 1e18]"},
      {"1,,2", "'' is not a time in seconds in [0, 1e18]"},
      {"1,2x,3", "'2x' is not a time in seconds in [0, 1e18]"},
      {"1;2", "'1;2' is not a time in seconds in [0, 1e18]"},
      {"1e19", "'1e19' is not a time in seconds in [0, 1e18]"},
      {"inf", "'inf' is not a time in seconds in [0, 1e18]"},
      {"1e999", "'1e999' is not a time in seconds in [0, 1e18]"},
      {"1e-400", "'1e-400' is not a time in seconds in [0, 1e18]"}, /* ERANGE */
      {"-0.5", "'-0.5' is not a time in seconds in [0, 1e18]"},
      {"2,2", "'2' is not after the time before it (2 s): the times must increase"},
      {"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,x", "more than 16 times"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    mt_train_opts before = o;
    strcpy(err, "(none)");
    if (mt_train_parse_drift_eval(bad[k][0], &o, err, sizeof err) != -1) fail_msg("'%s' was taken", bad[k][0]);
    if (strcmp(err, bad[k][1])) fail_msg("'%s': %s", bad[k][0], err);
    assert_true(o.n_drift_t == before.n_drift_t && memcmp(o.drift_t, before.drift_t, sizeof o.drift_t) == 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(too_many_tiles_names_what_would_fit),
    cmocka_unit_test(accumulation_defers_programming),
    cmocka_unit_test(compensation_reads_back_changed_weights),
    cmocka_unit_test(closed_loop_programs_everything),
    cmocka_unit_test(runs_are_deterministic),
    cmocka_unit_test(resume_continues_exactly),
    cmocka_unit_test(bad_checkpoints_are_refused),
    cmocka_unit_test(evaluation_keeps_the_training_order),
    cmocka_unit_test(device_failure_keeps_its_class),
    cmocka_unit_test(drift_eval_lists),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
