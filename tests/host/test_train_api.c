/* The public training API (memtile_train.h) as another program uses it: compiled with
 * -Ihost/include only (Makefile), a tiny network trained on model://, a resume, errors, and
 * the same training on a device too small for it, by tile swapping. */
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
  expect_set_error(t, "max-tiles", "0", "--max-tiles: '0' is not an integer in [1, 64]");
  expect_set_error(t, "val", "-3", "--val: '-3' is not an integer");
  expect_set_error(t, "ssm-compensate", "yes", "--ssm-compensate: 'yes' is not an integer in [0, 1]");
  expect_set_error(t, "important", "0.5,2", "--important: '0.5,2' is not a fraction in [0, 1]");
  expect_set_error(t, "importance", "size", "--importance: 'size' is not an importance");
  expect_set_error(t, "draws", "0", "--draws: '0' is not an integer in [1, 100]");
  expect_set_error(t, "optimizer", "Adam", "--optimizer: 'Adam' is not an optimizer (sgd, adam)");
  expect_set_error(t, "adam-beta1", "-0.1", "--adam-beta1: '-0.1' is not a number in [0, 1)");
  expect_set_error(t, "adam-eps", "nan", "--adam-eps: 'nan' is not a number in (0, 1]");
  expect_set_error(t, "batchnorm", "yes", "--batchnorm: 'yes' is not an integer in [0, 1]");
  expect_set_error(t, "batchnorm-state", "task", "--batchnorm-state: 'task' is not a BatchNorm state (shared, per-task)");
  assert_int_equal(mt_train_option_kind("batchnorm"), 0);
  assert_int_equal(mt_train_option_kind("batchnorm-state"), 1);
  assert_int_equal(mt_train_option_kind("--optimizer"), 1);
  assert_int_equal(mt_train_option_kind("adam-eps"), 1);
  assert_int_equal(mt_train_option_kind("--open-loop"), 0);
  assert_int_equal(mt_train_option_kind("changed-only"), 0);
  assert_int_equal(mt_train_option_kind("ssm-compensate"), 0);
  assert_int_equal(mt_train_option_kind("ssm-calibrate"), 0);
  assert_int_equal(mt_train_option_kind("val"), 1);
  assert_int_equal(mt_train_option_kind("epochs"), 1);
  assert_int_equal(mt_train_option_kind("importance"), 1);
  assert_int_equal(mt_train_option_kind("draws"), 1);
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

/* Drops `"key": value, ` from a JSON line. */
static void strip_field(char *line, const char *key) {
  char pat[48];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  char *p = strstr(line, pat);
  if (!p) return;
  char *q = p + strlen(pat);
  while (*q && *q != ',' && *q != '}') q++;
  if (*q == ',') q += 2; /* ", " */
  memmove(p, q, strlen(q) + 1);
}

static const char *const swap_fields[] = {"swaps", "swap_saves", "swap_transactions",
                                          "swap_bytes", "swap_s"};

/* Trains algo on uri (swapping through max_tiles device tiles unless NULL) with a log. */
static void run_logged(const char *uri, const char *max_tiles, const char *algo, const char *log,
                       record_t *r) {
  mt_trainer *t = tiny(uri, "2");
  set_ok(t, "algo", algo);
  set_ok(t, "log", log);
  if (max_tiles) set_ok(t, "max-tiles", max_tiles);
  mt_train_callbacks cb = {NULL, NULL, on_epoch, r};
  if (mt_trainer_run(t, &cb) != MT_OK) fail_msg("%s on %s: %s", algo, uri, mt_train_errmsg(t));
  mt_trainer_close(t);
}

/* Tile swapping: the 8 tiles of 784-8-10 on a 1-tile and a 2-tile device log what they log on
 * a 16-tile one, apart from the swap fields (and the wall time); the swap fields are there. */
static void swapping_logs_what_a_big_device_logs(void **state) {
  (void)state;
  static const char *const algos[] = {"siamese", "metaplastic"};
  static const char *const uris[] = {"model://?tiles=1", "model://?tiles=2"};
  static const char *const max[] = {"1", "2"};
  char ref_log[128], log[128], a[4096], b[4096];
  snprintf(ref_log, sizeof ref_log, "%s/ref.jsonl", tmpdir);
  snprintf(log, sizeof log, "%s/swap.jsonl", tmpdir);
  for (int g = 0; g < 2; g++) {
    record_t ref = {0};
    run_logged("model://?tiles=16", NULL, algos[g], ref_log, &ref);
    assert_int_equal(ref.s[0].has_swaps, 0);
    for (int k = 0; k < 2; k++) {
      record_t r = {0};
      run_logged(uris[k], max[k], algos[g], log, &r);
      assert_int_equal(r.n, 2);
      assert_true(r.s[0].has_swaps && r.s[0].swaps > 0 && r.s[0].swap_bytes > 0);
      FILE *f[2] = {fopen(ref_log, "r"), fopen(log, "r")};
      assert_non_null(f[0]);
      assert_non_null(f[1]);
      int lines = 0;
      while (fgets(a, sizeof a, f[0])) {
        assert_non_null(fgets(b, sizeof b, f[1]));
        assert_null(strstr(a, "swap"));
        for (size_t j = 0; j < sizeof swap_fields / sizeof *swap_fields; j++) {
          char key[48];
          snprintf(key, sizeof key, "\"%s\": ", swap_fields[j]);
          if (!strstr(b, key)) fail_msg("no %s in %s", key, b);
          strip_field(b, swap_fields[j]);
        }
        strip_field(a, "wall_s");
        strip_field(b, "wall_s");
        if (strcmp(a, b) != 0)
          fail_msg("%s on %s logs differently:\n  16 tiles: %s  swapped:  %s", algos[g], uris[k], a, b);
        lines++;
      }
      assert_null(fgets(b, sizeof b, f[1]));
      fclose(f[0]);
      fclose(f[1]);
      assert_int_equal(lines, 2);
    }
  }
  /* Without --max-tiles, a device too small says how to run; with it, no checkpoints. */
  mt_trainer *t = tiny("model://?tiles=2", "1");
  assert_int_equal(mt_trainer_run(t, NULL), MT_ERR_INVAL);
  if (!strstr(mt_train_errmsg(t), "needs 8 tiles") || !strstr(mt_train_errmsg(t), "--max-tiles 2)"))
    fail_msg("'%s'", mt_train_errmsg(t));
  mt_trainer_close(t);
}

/* A checkpoint written while swapping, resumed on a swapping device of another size, gives
 * the uninterrupted run's second epoch. */
static void swapping_runs_resume(void **state) {
  (void)state;
  char ck[128];
  snprintf(ck, sizeof ck, "%s/swap.ckpt", tmpdir);
  record_t full = {0}, first = {0}, rest = {0};
  mt_train_callbacks cb = {NULL, NULL, on_epoch, &full};
  mt_trainer *t = tiny("model://?tiles=16", "2");
  assert_int_equal(mt_trainer_run(t, &cb), MT_OK);
  mt_trainer_close(t);
  t = tiny("model://?tiles=1", "1");
  set_ok(t, "max-tiles", "1");
  set_ok(t, "checkpoint", ck);
  cb.ctx = &first;
  if (mt_trainer_run(t, &cb) != MT_OK) fail_msg("checkpoint: %s", mt_train_errmsg(t));
  mt_trainer_close(t);
  t = tiny("model://?tiles=2", "2");
  set_ok(t, "max-tiles", "2");
  set_ok(t, "resume", ck);
  cb.ctx = &rest;
  if (mt_trainer_run(t, &cb) != MT_OK) fail_msg("resume: %s", mt_train_errmsg(t));
  mt_trainer_close(t);
  assert_int_equal(rest.n, 1);
  assert_int_equal(rest.s[0].epoch, 2);
  assert_true(rest.s[0].test_accuracy == full.s[1].test_accuracy);
  assert_true(rest.s[0].train_loss == full.s[1].train_loss);
  assert_int_equal(rest.s[0].set_pulses, full.s[1].set_pulses);
  assert_int_equal(rest.s[0].reset_pulses, full.s[1].reset_pulses);
  assert_true(rest.s[0].energy_pj == full.s[1].energy_pj);
  assert_int_equal(rest.s[0].transactions, full.s[1].transactions);
}

/* --crop 20: a 400-input network trains on the centre of the 28x28 images; without the crop
 * the same network is refused (its input size names both), and a crop larger than the
 * images is an error naming the option and the size. */
static void crop_feeds_a_smaller_input_layer(void **state) {
  (void)state;
  mt_trainer *t = tiny(NULL, "1");
  set_ok(t, "net", "400-8-10");
  set_ok(t, "crop", "20");
  record_t r = {0};
  mt_train_callbacks cb = {on_started, NULL, on_epoch, &r};
  int rc = mt_trainer_run(t, &cb);
  if (rc != MT_OK) fail_msg("run: %s", mt_train_errmsg(t));
  assert_int_equal(r.n, 1);
  if (!strstr(r.summary, "net 400-8-10")) fail_msg("summary '%s'", r.summary);
  mt_trainer_close(t);

  t = tiny(NULL, "1");
  set_ok(t, "net", "400-8-10");
  assert_int_not_equal(mt_trainer_run(t, NULL), MT_OK);
  if (!strstr(mt_train_errmsg(t), "400 inputs") || !strstr(mt_train_errmsg(t), "28x28"))
    fail_msg("'%s'", mt_train_errmsg(t));
  mt_trainer_close(t);

  t = tiny(NULL, "1");
  set_ok(t, "crop", "29");
  assert_int_equal(mt_trainer_run(t, NULL), MT_ERR_INVAL);
  if (!strstr(mt_train_errmsg(t), "--crop: mnist: crop 29: must be 1..28 (the images are 28x28)"))
    fail_msg("'%s'", mt_train_errmsg(t));
  mt_trainer_close(t);
  assert_int_equal(mt_trainer_create(NULL, &t), MT_OK);
  expect_set_error(t, "crop", "0", "--crop: '0' is not an integer in [1, 4096]");
  mt_trainer_close(t);
}

/* --val 16 of 64 examples: the last 16 are not trained on (the run trains exactly as one on
 * the first 48 does), their accuracy is reported and logged (JSON and CSV). */
static void validation_split_is_held_out(void **state) {
  (void)state;
  char log[128], csv[128], line[4096];
  snprintf(log, sizeof log, "%s/val.jsonl", tmpdir);
  snprintf(csv, sizeof csv, "%s/val.csv", tmpdir);
  record_t held = {0}, short_set = {0};
  mt_train_callbacks cb = {on_started, NULL, on_epoch, &held};
  mt_trainer *t = tiny(NULL, "2");
  set_ok(t, "algo", "float");
  set_ok(t, "val", "16");
  set_ok(t, "log", log);
  if (mt_trainer_run(t, &cb) != MT_OK) fail_msg("run: %s", mt_train_errmsg(t));
  mt_trainer_close(t);
  if (!strstr(held.summary, "48 train / 16 validation / 32 test")) fail_msg("summary '%s'", held.summary);
  t = tiny(NULL, "2");
  set_ok(t, "algo", "float");
  set_ok(t, "train-limit", "48");
  cb.ctx = &short_set;
  assert_int_equal(mt_trainer_run(t, &cb), MT_OK);
  mt_trainer_close(t);
  assert_int_equal(held.n, 2);
  for (uint32_t k = 0; k < 2; k++) {
    assert_true(held.s[k].has_val && !short_set.s[k].has_val);
    assert_true(held.s[k].val_accuracy >= 0 && held.s[k].val_accuracy <= 1);
    assert_true(held.s[k].train_loss == short_set.s[k].train_loss);
    assert_true(held.s[k].test_accuracy == short_set.s[k].test_accuracy);
  }
  FILE *f = fopen(log, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  char want[64];
  snprintf(want, sizeof want, "\"val_accuracy\": %.6g,", held.s[0].val_accuracy);
  if (!strstr(line, want)) fail_msg("'%s' lacks '%s'", line, want);
  f = fopen(csv, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  if (!strstr(line, ",val_accuracy")) fail_msg("CSV header '%s'", line);
  /* A split that leaves nothing to train on is refused before any training. */
  t = tiny(NULL, "1");
  set_ok(t, "val", "64");
  assert_int_equal(mt_trainer_run(t, NULL), MT_ERR_INVAL);
  if (!strstr(mt_train_errmsg(t), "--val 64: task 1 (mnist) has only 64 training examples"))
    fail_msg("'%s'", mt_train_errmsg(t));
  mt_trainer_close(t);
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
    cmocka_unit_test(swapping_logs_what_a_big_device_logs),
    cmocka_unit_test(swapping_runs_resume),
    cmocka_unit_test(crop_feeds_a_smaller_input_layer),
    cmocka_unit_test(validation_split_is_held_out),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
