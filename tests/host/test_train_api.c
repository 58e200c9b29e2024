/* The public training API (memtile_train.h) as another program uses it: compiled with
 * -Ihost/include only (Makefile), a tiny network trained on model://, a resume, errors. */
#define _POSIX_C_SOURCE 200809L
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
#include "memtile_train.h"

static char tmpdir[64];

typedef struct {
  uint32_t n, last_epoch;
  mt_epoch_stats s[4];
  int started;
  char summary[512];
} record_t;

static void on_started(void *ctx, const char *summary) {
  record_t *r = ctx;
  r->started++;
  snprintf(r->summary, sizeof r->summary, "%s", summary);
}

static int on_epoch(void *ctx, const mt_epoch_stats *s) {
  record_t *r = ctx;
  if (r->n < 4) r->s[r->n] = *s;
  r->n++;
  r->last_epoch = s->epoch;
  return 0;
}

static void set_ok(mt_trainer *t, const char *opt, const char *val) {
  int rc = mt_trainer_set(t, opt, val);
  if (rc != MT_OK) fail_msg("%s %s: %s", opt, val, mt_train_errmsg(t));
}

/* A trainer for a 784-8-10 siamese network on 64 MNIST examples; uri NULL: model://. */
static mt_trainer *tiny(const char *uri, const char *epochs) {
  mt_trainer *t = NULL;
  assert_int_equal(mt_trainer_create(uri, &t), MT_OK);
  set_ok(t, "dataset", "mnist");
  set_ok(t, "--net", "784-8-10"); /* with or without the dashes */
  set_ok(t, "train-limit", "64");
  set_ok(t, "test-limit", "32");
  set_ok(t, "batch", "16");
  set_ok(t, "epochs", epochs);
  set_ok(t, "seed", "5");
  return t;
}

static void trains_a_tiny_net_on_a_device(void **state) {
  (void)state;
  mt_trainer *t = tiny(NULL, "2");
  record_t r = {0};
  mt_train_callbacks cb = {on_started, NULL, on_epoch, &r};
  assert_null(mt_trainer_device(t));
  int rc = mt_trainer_run(t, &cb);
  if (rc != MT_OK) fail_msg("run: %s", mt_train_errmsg(t));
  assert_int_equal(r.started, 1);
  if (!strstr(r.summary, "siamese on model://?tiles=") || !strstr(r.summary, "64 train / 32 test"))
    fail_msg("summary '%s'", r.summary);
  assert_int_equal(r.n, 2);
  for (uint32_t k = 0; k < 2; k++) {
    assert_int_equal(r.s[k].epoch, k + 1);
    assert_true(r.s[k].test_accuracy >= 0 && r.s[k].test_accuracy <= 1);
    /* The device did the work: pulses and MVMs counted, commands sent. */
    assert_true(r.s[k].set_pulses + r.s[k].reset_pulses > 0);
    assert_true(r.s[k].mvms > 0 && r.s[k].transactions > 0);
  }
  mt_dev *dev = mt_trainer_device(t);
  assert_non_null(dev);
  assert_true(mt_dev_get_info(dev)->tiles >= 1);
  /* A trainer runs once. */
  assert_int_equal(mt_trainer_run(t, &cb), MT_ERR_INVAL);
  assert_non_null(strstr(mt_train_errmsg(t), "runs once"));
  mt_trainer_close(t);
}

/* 2 epochs straight equal 1 epoch, a checkpoint, and a resume for the second. */
static void resumes_from_a_checkpoint(void **state) {
  (void)state;
  char ck[128];
  snprintf(ck, sizeof ck, "%s/run.ckpt", tmpdir);
  record_t full = {0}, first = {0}, rest = {0};
  mt_train_callbacks cb = {NULL, NULL, on_epoch, &full};
  mt_trainer *t = tiny(NULL, "2");
  assert_int_equal(mt_trainer_run(t, &cb), MT_OK);
  mt_trainer_close(t);

  t = tiny(NULL, "1");
  set_ok(t, "checkpoint", ck);
  cb.ctx = &first;
  assert_int_equal(mt_trainer_run(t, &cb), MT_OK);
  mt_trainer_close(t);
  assert_int_equal(access(ck, R_OK), 0);

  t = tiny(NULL, "2");
  set_ok(t, "resume", ck);
  cb.ctx = &rest;
  if (mt_trainer_run(t, &cb) != MT_OK) fail_msg("resume: %s", mt_train_errmsg(t));
  mt_trainer_close(t);
  assert_int_equal(first.n, 1);
  assert_int_equal(rest.n, 1);
  assert_int_equal(rest.s[0].epoch, 2);
  assert_true(rest.s[0].test_accuracy == full.s[1].test_accuracy);
  assert_true(rest.s[0].train_loss == full.s[1].train_loss);
  assert_int_equal(rest.s[0].set_pulses, full.s[1].set_pulses);
  assert_int_equal(rest.s[0].reset_pulses, full.s[1].reset_pulses);
}

/* The epoch callback stops a run after the epoch it returns > 0 for. */
static int stop_at_once(void *ctx, const mt_epoch_stats *s) {
  on_epoch(ctx, s);
  return 1;
}

/* A negative return fails the run with that code, after the epoch (which is not logged). */
static int fail_at_once(void *ctx, const mt_epoch_stats *s) {
  on_epoch(ctx, s);
  return MT_ERR_TIMEOUT;
}

static void the_callback_can_fail_the_run(void **state) {
  (void)state;
  char log[128];
  snprintf(log, sizeof log, "%s/failed.jsonl", tmpdir);
  mt_trainer *t = tiny(NULL, "3");
  set_ok(t, "algo", "float");
  set_ok(t, "log", log);
  record_t r = {0};
  mt_train_callbacks cb = {NULL, NULL, fail_at_once, &r};
  assert_int_equal(mt_trainer_run(t, &cb), MT_ERR_TIMEOUT);
  if (!strstr(mt_train_errmsg(t), "the epoch callback failed the run after epoch 1 (MT_ERR_TIMEOUT)"))
    fail_msg("'%s'", mt_train_errmsg(t));
  assert_int_equal(r.n, 1);
  FILE *f = fopen(log, "r");
  assert_non_null(f);
  assert_int_equal(fgetc(f), EOF); /* the failed epoch is not logged */
  fclose(f);
  mt_trainer_close(t);
}

static void the_callback_can_stop_the_run(void **state) {
  (void)state;
  mt_trainer *t = tiny(NULL, "3");
  set_ok(t, "algo", "float");
  record_t r = {0};
  mt_train_callbacks cb = {NULL, NULL, stop_at_once, &r};
  assert_int_equal(mt_trainer_run(t, &cb), MT_OK);
  assert_int_equal(r.n, 1);
  assert_null(mt_trainer_device(t)); /* float training has no device */
  mt_trainer_close(t);
}

static void expect_set_error(mt_trainer *t, const char *opt, const char *val, const char *msg) {
  assert_int_equal(mt_trainer_set(t, opt, val), MT_ERR_INVAL);
  if (!strstr(mt_train_errmsg(t), msg)) fail_msg("%s %s: '%s' lacks '%s'", opt, val, mt_train_errmsg(t), msg);
}

static void errors_name_the_option_or_file(void **state) {
  (void)state;
  mt_trainer *t = NULL;
  assert_int_equal(mt_trainer_create(NULL, &t), MT_OK);
  assert_string_equal(mt_train_errmsg(t), "");
  expect_set_error(t, "colour", "red", "unknown option 'colour'");
  expect_set_error(t, "epochs", "0", "--epochs: '0' is not an integer in [1, 100000]");
  expect_set_error(t, "lr", "abc", "--lr: 'abc' is not a number");
  expect_set_error(t, "algo", "magic", "--algo: 'magic' is not an algorithm (");
  expect_set_error(t, "net", "784-0-10", "--net:");
  expect_set_error(t, "open-loop", "2", "--open-loop: '2' is not an integer in [0, 1]");
  assert_int_equal(mt_train_option_kind("--open-loop"), 0);
  assert_int_equal(mt_train_option_kind("epochs"), 1);
  assert_int_equal(mt_train_option_kind("colour"), MT_ERR_INVAL);
  assert_string_equal(mt_train_algo_name(0), "float");
  set_ok(t, "dataset", "/nonexistent/dir");
  assert_int_equal(mt_trainer_run(t, NULL), MT_ERR_IO);
  assert_non_null(strstr(mt_train_errmsg(t), "/nonexistent/dir: no such directory"));
  mt_trainer_close(t);

  /* Invalid content is MT_ERR_FILE, naming the file, the field and the value. */
  char dir[128], cmd[512];
  snprintf(dir, sizeof dir, "%s/badset", tmpdir);
  snprintf(cmd, sizeof cmd, "mkdir -p %s && for f in train-images-idx3-ubyte train-labels-idx1-ubyte "
           "t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do printf 'not an IDX file' > %s/$f; done",
           dir, dir);
  assert_int_equal(system(cmd), 0);
  t = tiny(NULL, "1");
  set_ok(t, "dataset", dir);
  assert_int_equal(mt_trainer_run(t, NULL), MT_ERR_FILE);
  if (!strstr(mt_train_errmsg(t), "train-images-idx3-ubyte: bad magic 0x6e6f7420, expected 0x00000803"))
    fail_msg("'%s'", mt_train_errmsg(t));
  mt_trainer_close(t);
  t = tiny(NULL, "1");
  set_ok(t, "preset", dir); /* a directory where a preset file should be */
  assert_int_equal(mt_trainer_run(t, NULL), MT_ERR_IO);
  assert_non_null(strstr(mt_train_errmsg(t), "is a directory, not a regular file"));
  mt_trainer_close(t);

  t = tiny(NULL, "1");
  set_ok(t, "tasks", "mnist,mnist");
  assert_int_equal(mt_trainer_run(t, NULL), MT_ERR_INVAL);
  assert_non_null(strstr(mt_train_errmsg(t), "--tasks and --dataset exclude each other"));
  mt_trainer_close(t);

  t = tiny("nosuch://", "1");
  int rc = mt_trainer_run(t, NULL);
  assert_true(rc != MT_OK);
  if (!strstr(mt_train_errmsg(t), "nosuch://")) fail_msg("'%s'", mt_train_errmsg(t));
  assert_null(mt_trainer_device(t));
  mt_trainer_close(t);
  mt_trainer_close(NULL);
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/mt_train_api_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(trains_a_tiny_net_on_a_device),
    cmocka_unit_test(resumes_from_a_checkpoint),
    cmocka_unit_test(the_callback_can_stop_the_run),
    cmocka_unit_test(the_callback_can_fail_the_run),
    cmocka_unit_test(errors_name_the_option_or_file),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
