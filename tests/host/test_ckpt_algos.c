/* Checkpoint and resume (host/src/mt_train_ckpt.c, container in mt_ckpt.c) for the
 * algorithms with state of their own (sgd-pulse, ssm, conventional, biased) and for runs over several
 * --tasks: N epochs straight and k epochs + a resume to N give the same log,
 * line for line except wall_s, and the same epoch statistics bit for bit. Also
 * that a checkpoint refuses another algorithm or option, a damaged or
 * truncated file, and one of the old format. Tiny runs: 784-16-10 on 300
 * MNIST / Fashion-MNIST images (10 steps of 32 per epoch). */
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
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <zlib.h>

#include "memtile.h"
#include "mt_dataset.h"
#include "mt_log.h"
#include "mt_nn.h"
#include "mt_preset.h"
#include "mt_protocol.h"
#include "mt_train.h"

#define MAX_EPOCHS 8

static mt_preset_t rram, rram2, rram2_drift, imprecise;
static mt_dataset_t trains[2], tests[2];
static const char *const task_names[2] = {"mnist", "fashion-mnist"};
static char dir[64];

static int setup(void **state) {
  (void)state;
  char err[512];
  snprintf(dir, sizeof dir, "/tmp/mt_test_ckpt_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  if (mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &rram, err, sizeof err) != 0 ||
      mt_preset_load(MT_SOURCE_DIR "/presets/rram-2bit.json", &rram2, err, sizeof err) != 0 ||
      mt_preset_load(MT_SOURCE_DIR "/presets/imprecise.json", &imprecise, err, sizeof err) != 0 ||
      mt_dataset_open("mnist", MT_SOURCE_DIR, 300, 100, &trains[0], &tests[0], err, sizeof err) != 0 ||
      mt_dataset_open("fashion-mnist", MT_SOURCE_DIR, 300, 100, &trains[1], &tests[1], err,
                      sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  /* rram-2bit whose devices drift (nu 0.1 +- 0.02): --drift-eval then changes the network */
  rram2_drift = rram2;
  rram2_drift.cfg[MT_CFG_DRIFT_NU] = 6554;
  rram2_drift.cfg[MT_CFG_DRIFT_NU_SD] = 1311;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    mt_dataset_free(&trains[k]);
    mt_dataset_free(&tests[k]);
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd);
}

/* ---- running --------------------------------------------------------------- */

typedef struct {
  mt_log *log;
  const char *log_path;
  const char *algo;
  uint32_t stop_after; /* stop after this many epochs of this run (0: never), like a crash */
  /* fault injection (in a child process): at epoch fault_epoch, kill -9 before (fault 1) or
   * after (fault 2) its log line, or (fault 3) let the disk fill 100 bytes into the line */
  uint32_t fault_epoch;
  int fault;
  uint32_t n;
  mt_epoch_stats s[MAX_EPOCHS];
} run_t;

static long file_length(FILE *f) {
  fseek(f, 0, SEEK_END);
  return ftell(f);
}

static int on_epoch(void *ctx, const mt_epoch_stats *s) {
  run_t *r = ctx;
  if (r->n < MAX_EPOCHS) r->s[r->n] = *s;
  r->n++;
  int fault = s->epoch == r->fault_epoch ? r->fault : 0;
  if (fault == 1) raise(SIGKILL);
  if (fault == 3) { /* the log may grow 100 bytes more: its line is cut short */
    signal(SIGXFSZ, SIG_IGN);
    FILE *f = fopen(r->log_path, "rb");
    struct rlimit lim = {(rlim_t)file_length(f) + 100, RLIM_INFINITY};
    fclose(f);
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  if (mt_log_epoch(r->log, r->algo, s) != 0) {
    if (fault != 3) fail_msg("writing the log failed: %s", mt_log_errmsg(r->log));
    /* the reason, and the file: exit status 3 if they are there */
    char want[512];
    snprintf(want, sizeof want, "%s: %s", r->log_path, strerror(EFBIG));
    fprintf(stderr, "log error: %s\n", mt_log_errmsg(r->log));
    _exit(strcmp(mt_log_errmsg(r->log), want) == 0 ? 3 : 4);
  }
  if (fault == 2) raise(SIGKILL);
  return r->stop_after && r->n >= r->stop_after;
}

/* As the command line does: the log keeps the epochs of the checkpoint. */
static int on_resumed(void *ctx, uint32_t epochs) {
  run_t *r = ctx;
  if (mt_log_resume(r->log, epochs) != 0) fail_msg("%s", mt_log_errmsg(r->log));
  return 0;
}

static void path_in_dir(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static mt_train_opts tiny_opts(mt_algo algo) {
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = algo;
  o.sizes[0] = 784, o.sizes[1] = 16, o.sizes[2] = 10, o.n_layers = 2;
  o.w_max_factor = algo == MT_ALGO_SGD_PULSE || algo == MT_ALGO_SSM ? 4.0f : 2.0f;
  return o;
}

/* Runs o on n_tasks tasks with the log at `log` (appending if `append`), stopping after
 * stop_after epochs (0: all). Returns 0 or -1 with the message in err. */
static int run_tasks(const mt_train_opts *o, uint32_t n_tasks, const mt_preset_t *p, const char *log,
                     int append, uint32_t stop_after, run_t *r, char *err, size_t errlen) {
  uint32_t fault_epoch = r->fault_epoch;
  int fault = r->fault;
  memset(r, 0, sizeof *r);
  r->fault_epoch = fault_epoch, r->fault = fault;
  r->log_path = log;
  r->algo = mt_algo_name(o->algo);
  r->stop_after = stop_after;
  if (mt_log_open(&r->log, log, append, err, errlen) != 0) fail_msg("%s", err);
  if (n_tasks > 1) mt_log_set_tasks(r->log, n_tasks, task_names);
  if (o->val) mt_log_set_val(r->log);
  if (o->n_drift_t) mt_log_set_drift(r->log, o->n_drift_t);
  mt_log_set_optim(r->log, mt_optimizer_name(o->optimizer), o->batchnorm, o->bn_per_task); /* as the tool does */
  mt_dev *dev = NULL;
  char uri[64];
  snprintf(uri, sizeof uri, "model://?tiles=%u", mt_train_tiles_needed(o));
  if (o->algo != MT_ALGO_FLOAT && mt_dev_open(uri, &dev) != MT_OK)
    fail_msg("%s", mt_dev_errmsg(dev));
  mt_train_hooks hooks = {NULL, on_epoch, r, on_resumed};
  int rc = mt_train_run_tasks(o, n_tasks, trains, tests, dev, o->algo == MT_ALGO_FLOAT ? NULL : p,
                              &hooks, err, errlen);
  mt_dev_close(dev);
  mt_log_close(r->log);
  r->log = NULL;
  return rc;
}

/* ---- comparing logs -------------------------------------------------------- */

/* Reads a whole text file (malloc'd, NUL-terminated). */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("%s: not written", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* Removes the value of "wall_s" from a JSON line, or the CSV field number `col` (0-based). */
static void drop_wall(char *line, int csv, int col) {
  char *p = line;
  if (!csv) {
    p = strstr(line, "\"wall_s\": ");
    assert_non_null(p);
    p += 10;
  } else {
    for (int k = 0; k < col; k++) {
      p = strchr(p, ',');
      assert_non_null(p);
      p++;
    }
  }
  char *end = p;
  while (*end && *end != ',' && *end != '}') end++;
  memmove(p, end, strlen(end) + 1);
}

/* The two logs have the same lines, wall_s aside (JSON lines and the CSV beside). */
static void same_logs(const char *a_path, const char *b_path, uint32_t want_lines) {
  for (int csv = 0; csv < 2; csv++) {
    char pa[256], pb[256];
    if (csv) mt_log_csv_path(a_path, pa, sizeof pa), mt_log_csv_path(b_path, pb, sizeof pb);
    else snprintf(pa, sizeof pa, "%s", a_path), snprintf(pb, sizeof pb, "%s", b_path);
    char *a = slurp(pa), *b = slurp(pb);
    char *sa = NULL, *sb = NULL;
    char *la = strtok_r(a, "\n", &sa), *lb = strtok_r(b, "\n", &sb);
    uint32_t lines = 0;
    int wall_col = -1;
    for (; la && lb; la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb), lines++) {
      if (csv && lines == 0) { /* the header, once (the resumed run appends without one) */
        assert_string_equal(la, lb);
        int col = 0;
        for (const char *p = la; p < strstr(la, "wall_s"); p++) col += *p == ',';
        wall_col = col;
        continue;
      }
      drop_wall(la, csv, wall_col);
      drop_wall(lb, csv, wall_col);
      if (strcmp(la, lb) != 0) {
        /* print_error, not fail_msg: the buffers are freed before the test fails, so a
         * failure is reported as the difference and not also as LeakSanitizer leaks */
        print_error("%s line %u differs:\n  %s\n  %s\n", csv ? "CSV" : "JSON", lines + 1, la, lb);
        break;
      }
    }
    int differs = la || lb;
    free(a);
    free(b);
    if (differs) fail_msg("%s and %s differ", pa, pb);
    assert_int_equal(lines, want_lines + (uint32_t)csv);
  }
}

/* Every field of two epochs, bit for bit, wall_s aside. */
static void same_epoch(const mt_epoch_stats *a, const mt_epoch_stats *b) {
  int same = a->epoch == b->epoch && a->train_loss == b->train_loss &&
             a->train_accuracy == b->train_accuracy && a->test_accuracy == b->test_accuracy &&
             a->set_pulses == b->set_pulses && a->reset_pulses == b->reset_pulses &&
             a->verify_reads == b->verify_reads && a->cell_reads == b->cell_reads &&
             a->mvms == b->mvms && a->cells_programmed == b->cells_programmed &&
             a->updates_skipped == b->updates_skipped && a->wv_failures == b->wv_failures &&
             a->energy_pj == b->energy_pj && a->latency_ns == b->latency_ns &&
             a->has_sw_accuracy == b->has_sw_accuracy && a->sw_test_accuracy == b->sw_test_accuracy &&
             a->has_sim_cycles == b->has_sim_cycles && a->sim_cycles == b->sim_cycles &&
             a->task == b->task && a->n_tasks == b->n_tasks && a->has_val == b->has_val &&
             a->val_accuracy == b->val_accuracy;
  same = same && a->n_drift == b->n_drift && a->drift_epoch == b->drift_epoch;
  for (uint32_t k = 0; same && k < a->n_drift; k++)
    same = a->drift_t[k] == b->drift_t[k] && a->drift_accuracy[k] == b->drift_accuracy[k];
  for (uint32_t k = 0; same && k < MT_TRAIN_MAX_TASKS; k++)
    same = a->task_accuracy[k] == b->task_accuracy[k] &&
           a->task_val_accuracy[k] == b->task_val_accuracy[k];
  if (!same)
    fail_msg("epoch %u / %u differs: loss %.17g / %.17g, test %.17g / %.17g, set %llu / %llu, reset "
             "%llu / %llu, reads %llu / %llu, programmed %llu / %llu", a->epoch, b->epoch,
             a->train_loss, b->train_loss, a->test_accuracy, b->test_accuracy,
             (unsigned long long)a->set_pulses, (unsigned long long)b->set_pulses,
             (unsigned long long)a->reset_pulses, (unsigned long long)b->reset_pulses,
             (unsigned long long)a->cell_reads, (unsigned long long)b->cell_reads,
             (unsigned long long)a->cells_programmed, (unsigned long long)b->cells_programmed);
}

/* N epochs straight (log "<name>-full"), against k epochs with --checkpoint (stopped there
 * like a crash) and a resume to N appending to the same log ("<name>-cut"), for each k in
 * cuts. The full run is done once. */
static void resume_matches(const mt_train_opts *base, uint32_t n_tasks, const mt_preset_t *p,
                           const char *name, const uint32_t *cuts, size_t n_cuts) {
  char full[256], cut[256], ckpt[256], err[512];
  snprintf(full, sizeof full, "%s/%s-full.jsonl", dir, name);
  snprintf(cut, sizeof cut, "%s/%s-cut.jsonl", dir, name);
  snprintf(ckpt, sizeof ckpt, "%s/%s.ckpt", dir, name);
  mt_train_opts o = *base;
  const uint32_t total = o.epochs * n_tasks;
  static run_t whole, part, rest;
  if (run_tasks(&o, n_tasks, p, full, 0, 0, &whole, err, sizeof err) != 0) fail_msg("%s", err);
  assert_int_equal(whole.n, total);
  for (size_t c = 0; c < n_cuts; c++) {
    uint32_t k = cuts[c];
    o.checkpoint = ckpt;
    o.resume = NULL;
    if (run_tasks(&o, n_tasks, p, cut, 0, k, &part, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(part.n, k);
    o.checkpoint = NULL;
    o.resume = ckpt;
    if (run_tasks(&o, n_tasks, p, cut, 1, 0, &rest, err, sizeof err) != 0) fail_msg("%s", err);
    print_message("%s: resumed after epoch %u of %u: test accuracy %.4f / %.4f at the end\n", name,
                  k, total, whole.s[total - 1].test_accuracy, rest.s[rest.n - 1].test_accuracy);
    assert_int_equal(rest.n, total - k);
    for (uint32_t e = 0; e < k; e++) same_epoch(&whole.s[e], &part.s[e]);
    for (uint32_t e = k; e < total; e++) same_epoch(&whole.s[e], &rest.s[e - k]);
    same_logs(full, cut, total);
  }
  unlink(ckpt);
}

/* ---- the algorithms -------------------------------------------------------- */

/* One resume test: tiny_opts(algo) with the options below, n_tasks tasks of `epochs`, run
 * by resume_matches. */
typedef struct {
  const char *name;          /* its files in dir; the test is "<name> resume is exact" */
  mt_algo algo;
  const mt_preset_t *preset; /* NULL for float (host only) */
  uint32_t n_tasks, epochs;
  uint32_t cuts[3];          /* resumed after each of these epochs (0 ends the list) */
  /* options changed from tiny_opts' (0: left as it sets them) */
  const char *net;
  float lr, important, adam_beta1, adam_eps;
  uint32_t val, accumulate, slices, batch;
  mt_optimizer optimizer;
  int ssm_read_based, batchnorm, bn_per_task;
  const char *drift;         /* --drift-eval's times, or NULL */
  const char *log_has;       /* what the uninterrupted run's log holds, or NULL */
} resume_case;

static const resume_case resume_cases[] = {
    /* sgd-pulse: nominal gains, deterministic rounding; its state is the biases and the
     * device (the weights are conductances). lr 0.5: its deterministic rounding loses
     * updates below half a pulse. */
    {.name = "sgd-pulse", .algo = MT_ALGO_SGD_PULSE, .preset = &imprecise, .n_tasks = 1, .epochs = 3,
     .cuts = {1}, .lr = 0.5f},
    /* ssm with its read-based options: measured per-device gains, momentum of weights and
     * biases, the host's stochastic-rounding generator and update compensation all carry
     * over; and a validation split (--val), logged every epoch. */
    {.name = "ssm", .algo = MT_ALGO_SSM, .preset = &imprecise, .n_tasks = 1, .epochs = 3, .cuts = {1, 2},
     .ssm_read_based = 1, .val = 50},
    /* conventional: latent weights and characterization; each epoch re-fabricates and
     * programs the die, whose noise streams come back with the device image. */
    {.name = "conventional", .algo = MT_ALGO_CONVENTIONAL, .preset = &rram2, .n_tasks = 1, .epochs = 3,
     .cuts = {1}},
    /* conventional with --val and --drift-eval: the best epoch's network (in the checkpoint)
     * is what drifts after the last epoch, programmed anew; the log's drift fields and CSV
     * columns come out the same after a resume. */
    {.name = "conventional-val-drift", .algo = MT_ALGO_CONVENTIONAL, .preset = &rram2_drift, .n_tasks = 1,
     .epochs = 3, .cuts = {1, 2}, .val = 50, .drift = "1,86400",
     .log_has = "\"drift_epoch\": "},
    /* biased: the favourable set (from the saved characterization) and the latent weights
     * decide the masks and projections of the epochs after the resume. */
    {.name = "biased", .algo = MT_ALGO_BIASED, .preset = &rram2, .n_tasks = 1, .epochs = 3, .cuts = {2},
     .important = 0.5f},
    /* biased on a small CNN: a conv layer's weight matrix is its im2col matrix (25 x 4
     * here), which the biased state and both checkpoint halves are sized by (the biased
     * state used sizes[l] x sizes[l+1], 784 x 576, and read past the weights). */
    {.name = "cnn-biased", .algo = MT_ALGO_BIASED, .preset = &rram2, .n_tasks = 1, .epochs = 2,
     .cuts = {1}, .net = "28x28x1-c5x4-p2-10"},
    /* biased with bit-sliced weights: the slices' tiles are re-programmed every epoch from
     * the restored latent weights and characterization. */
    {.name = "sliced-biased", .algo = MT_ALGO_BIASED, .preset = &rram2, .n_tasks = 1, .epochs = 3,
     .cuts = {1}, .slices = 4},
    /* Two tasks of 2 epochs (4 in all): resumed in the middle of task 1, at the boundary
     * between the tasks, and in the middle of task 2. Siamese with accumulation, so the
     * accumulators and step count carry across epochs and tasks too (10 steps per epoch: a
     * partial sum of 3 is pending at every epoch's end). */
    {.name = "tasks-siamese", .algo = MT_ALGO_SIAMESE, .preset = &rram, .n_tasks = 2, .epochs = 2,
     .cuts = {1, 2, 3}, .accumulate = 3},
    /* Two tasks with ssm, resumed at the boundary: the per-task position and the
     * algorithm's state together. */
    {.name = "tasks-ssm", .algo = MT_ALGO_SSM, .preset = &imprecise, .n_tasks = 2, .epochs = 1,
     .cuts = {1}},
    /* --optimizer adam and --batchnorm on the metaplasticity unit over two tasks: Adam's
     * moments and step count, BatchNorm's gamma, beta and running statistics carry over
     * (resumed mid-task, at the boundary and in task 2); the log has the optimizer fields. */
    {.name = "meta-adam-bn", .algo = MT_ALGO_METAPLASTIC, .preset = &rram, .n_tasks = 2, .epochs = 2,
     .cuts = {1, 2, 3}, .optimizer = MT_OPTIM_ADAM, .lr = 0.002f, .batchnorm = 1,
     .log_has = "\"optimizer\": \"adam\", \"batchnorm\": 1, "},
    /* The software reference with the same optimizer: float with adam and BatchNorm, whose
     * whole state is on the host; adam's options not the defaults (the options themselves
     * are used and kept); batch 23, 300 = 13 x 23 + 1: every epoch ends on a batch of one
     * example (running statistics, no update of them). */
    {.name = "float-adam-bn", .algo = MT_ALGO_FLOAT, .preset = NULL, .n_tasks = 1, .epochs = 3,
     .cuts = {1, 2}, .optimizer = MT_OPTIM_ADAM, .adam_beta1 = 0.8f, .adam_eps = 1e-6f, .lr = 0.002f,
     .batchnorm = 1, .batch = 23},
    /* --batchnorm-state per-task: every task's snapshot of gamma, beta and the running
     * statistics carries over with the live state (resumed mid-task 1, at the boundary, in
     * task 2, where task 1 is tested with its snapshot); the log says which state ran. */
    {.name = "meta-adam-bn-task", .algo = MT_ALGO_METAPLASTIC, .preset = &rram, .n_tasks = 2,
     .epochs = 2, .cuts = {1, 2, 3}, .optimizer = MT_OPTIM_ADAM, .lr = 0.002f, .batchnorm = 1,
     .bn_per_task = 1, .log_has = "\"batchnorm\": 1, \"batchnorm_state\": \"per-task\", "},
};
#define N_RESUME_CASES (sizeof resume_cases / sizeof *resume_cases)

/* The resume test of case *state. */
static void resume_is_exact(void **state) {
  const resume_case *c = *state;
  mt_train_opts o = tiny_opts(c->algo);
  char err[256];
  if (c->net && mt_net_parse(c->net, o.sizes, o.spec, &o.n_layers, err, sizeof err) != 0)
    fail_msg("%s", err);
  o.epochs = c->epochs;
  if (c->lr) o.lr = c->lr;
  if (c->important) o.important = c->important;
  if (c->adam_beta1) o.adam_beta1 = c->adam_beta1;
  if (c->adam_eps) o.adam_eps = c->adam_eps;
  if (c->val) o.val = c->val;
  if (c->accumulate) o.accumulate = c->accumulate;
  if (c->slices) o.slices = c->slices;
  if (c->batch) o.batch = c->batch;
  o.optimizer = c->optimizer;
  o.ssm_compensate = o.ssm_calibrate = c->ssm_read_based;
  o.batchnorm = c->batchnorm;
  o.bn_per_task = c->bn_per_task;
  if (c->drift && mt_train_parse_drift_eval(c->drift, &o, err, sizeof err) != 0) fail_msg("%s", err);
  size_t n_cuts = 0;
  while (n_cuts < sizeof c->cuts / sizeof *c->cuts && c->cuts[n_cuts]) n_cuts++;
  resume_matches(&o, c->n_tasks, c->preset, c->name, c->cuts, n_cuts);
  if (c->log_has) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s-full.jsonl", dir, c->name);
    char *log = slurp(path);
    int has = strstr(log, c->log_has) != NULL;
    free(log);
    if (!has) fail_msg("%s lacks '%s'", path, c->log_has);
  }
}

/* Per-task BatchNorm changes what an earlier task is tested with, and nothing else: the
 * training, the current task's accuracy and task 1's during task 1 are those of one shared
 * state, bit for bit; task 1's accuracy after task 2 is not (its own statistics, not
 * Fashion-MNIST's). Float, so that only the BatchNorm state can differ. */
static void bn_per_task_tests_earlier_tasks_with_their_state(void **state) {
  (void)state;
  mt_train_opts o = tiny_opts(MT_ALGO_FLOAT);
  o.epochs = 2;
  o.lr = 0.1f;
  o.batchnorm = 1;
  static run_t shared, per_task;
  char log[256], err[512];
  path_in_dir(log, sizeof log, "bn-shared.jsonl");
  if (run_tasks(&o, 2, NULL, log, 0, 0, &shared, err, sizeof err) != 0) fail_msg("%s", err);
  o.bn_per_task = 1;
  path_in_dir(log, sizeof log, "bn-task.jsonl");
  if (run_tasks(&o, 2, NULL, log, 0, 0, &per_task, err, sizeof err) != 0) fail_msg("%s", err);
  assert_int_equal(shared.n, 4);
  assert_int_equal(per_task.n, 4);
  for (uint32_t e = 0; e < 4; e++) {
    const mt_epoch_stats *a = &shared.s[e], *b = &per_task.s[e];
    assert_true(a->train_loss == b->train_loss && a->test_accuracy == b->test_accuracy);
    assert_true(a->task_accuracy[1] == b->task_accuracy[1]);
    if (e < 2) assert_true(a->task_accuracy[0] == b->task_accuracy[0]);
  }
  print_message("MNIST after Fashion-MNIST: shared %.4f %.4f, per-task %.4f %.4f\n",
                shared.s[2].task_accuracy[0], shared.s[3].task_accuracy[0],
                per_task.s[2].task_accuracy[0], per_task.s[3].task_accuracy[0]);
  assert_true(shared.s[2].task_accuracy[0] != per_task.s[2].task_accuracy[0] ||
              shared.s[3].task_accuracy[0] != per_task.s[3].task_accuracy[0]);
}

/* ---- refusals -------------------------------------------------------------- */

static void expect_refusal(const mt_train_opts *o, uint32_t n_tasks, const mt_preset_t *p,
                           const char *msg) {
  char err[512], log[256];
  path_in_dir(log, sizeof log, "refused.jsonl");
  run_t r;
  int rc = run_tasks(o, n_tasks, p, log, 0, 0, &r, err, sizeof err);
  if (rc != MT_ERR_FILE) /* the checkpoint's content does not fit this run */
    fail_msg("%s although '%s' was expected: %s", mt_err_name(rc), msg, err);
  if (!strstr(err, msg)) fail_msg("message '%s' lacks '%s'", err, msg);
  assert_int_equal(r.n, 0);
}

/* One epoch of o with a checkpoint at path. */
static void make_checkpoint(mt_train_opts o, uint32_t n_tasks, const mt_preset_t *p, const char *path) {
  char err[512], log[256];
  path_in_dir(log, sizeof log, "made.jsonl");
  o.checkpoint = path;
  o.resume = NULL;
  run_t r;
  if (run_tasks(&o, n_tasks, p, log, 0, 1, &r, err, sizeof err) != 0) fail_msg("%s", err);
}

/* A checkpoint of one algorithm or with one option does not resume under another:
 * the message names the option and both values. */
static void other_algorithm_or_option_is_refused(void **state) {
  (void)state;
  char ssm_ck[256], biased_ck[256], tasks_ck[256];
  path_in_dir(ssm_ck, sizeof ssm_ck, "ssm-ref.ckpt");
  path_in_dir(biased_ck, sizeof biased_ck, "biased-ref.ckpt");
  path_in_dir(tasks_ck, sizeof tasks_ck, "tasks-ref.ckpt");
  mt_train_opts o = tiny_opts(MT_ALGO_SSM);
  o.epochs = 2;
  make_checkpoint(o, 1, &imprecise, ssm_ck);
  o.resume = ssm_ck;
  o.algo = MT_ALGO_SGD_PULSE;
  expect_refusal(&o, 1, &imprecise, "was written with algorithm ssm, this run has sgd-pulse");
  o.algo = MT_ALGO_SSM;
  o.momentum = 0.5f;
  expect_refusal(&o, 1, &imprecise, "was written with momentum 0.9, this run has 0.5");
  o.momentum = 0.9f;
  o.lr = 0.1f;
  expect_refusal(&o, 1, &imprecise, "was written with learning rate 0.05, this run has 0.1");
  o.lr = 0.05f;
  o.ssm_compensate = 1;
  expect_refusal(&o, 1, &imprecise, "was written with ssm-compensate 0, this run has 1");
  o.ssm_compensate = 0;
  o.val = 10; /* another validation split: other training examples */
  expect_refusal(&o, 1, &imprecise, "was written with validation split (--val) 0, this run has 10");
  o.val = 0;
  mt_preset_t other = imprecise; /* same levels, another device */
  other.cfg[MT_CFG_READ_SIGMA] += 1;
  expect_refusal(&o, 1, &other, "was written with preset configuration (CRC-32) 0x");
  expect_refusal(&o, 1, &rram, "was written with levels");
  expect_refusal(&o, 2, &imprecise, "was written with tasks 1, this run has 2");
  trains[0].labels[7] ^= 1; /* another training set of the same size */
  expect_refusal(&o, 1, &imprecise, "was written with training data (CRC-32) 0x");
  trains[0].labels[7] ^= 1;
  tests[0].count = 50; /* a shorter test set: evaluation draws the device's noise */
  expect_refusal(&o, 1, &imprecise, "was written with test examples 100, this run has 50");
  tests[0].count = 100;

  o = tiny_opts(MT_ALGO_BIASED);
  o.epochs = 2;
  make_checkpoint(o, 1, &rram2, biased_ck);
  o.resume = biased_ck;
  o.important = 0.5f;
  expect_refusal(&o, 1, &rram2, "was written with important 0.25, this run has 0.5");
  o.important = 0.25f;
  o.favourable_k = 3;
  expect_refusal(&o, 1, &rram2, "was written with favourable 0, this run has 3");
  o.favourable_k = 0;
  o.algo = MT_ALGO_CONVENTIONAL;
  expect_refusal(&o, 1, &rram2, "was written with algorithm biased, this run has conventional");
  o.algo = MT_ALGO_SIAMESE;
  expect_refusal(&o, 1, &rram2, "was written with algorithm biased, this run has siamese");

  o = tiny_opts(MT_ALGO_SIAMESE);
  o.epochs = 2;
  make_checkpoint(o, 2, &rram, tasks_ck);
  o.resume = tasks_ck;
  o.epochs = 3; /* the task boundaries would move */
  expect_refusal(&o, 2, &rram, "was written with epochs per task 2, this run has 3");
  o.epochs = 2;
  expect_refusal(&o, 1, &rram, "was written with tasks 2, this run has 1");

  /* an sgd checkpoint (as every one before --optimizer) under adam or --batchnorm, and back */
  char meta_ck[256], adam_ck[256];
  path_in_dir(meta_ck, sizeof meta_ck, "meta-sgd.ckpt");
  path_in_dir(adam_ck, sizeof adam_ck, "meta-adam.ckpt");
  o = tiny_opts(MT_ALGO_METAPLASTIC);
  o.epochs = 2;
  make_checkpoint(o, 1, &rram, meta_ck);
  o.resume = meta_ck;
  o.optimizer = MT_OPTIM_ADAM;
  expect_refusal(&o, 1, &rram, "meta-sgd.ckpt: was written with other options (meta-m 3 where this run has optimizer adam)");
  o.optimizer = MT_OPTIM_SGD;
  o.batchnorm = 1;
  expect_refusal(&o, 1, &rram, "was written with other options (meta-m 3 where this run has batchnorm 1)");
  o = tiny_opts(MT_ALGO_FLOAT); /* no entries of its own: the missing one is named */
  o.epochs = 2;
  make_checkpoint(o, 1, NULL, meta_ck);
  o.resume = meta_ck;
  o.batchnorm = 1;
  expect_refusal(&o, 1, NULL, "meta-sgd.ckpt: was written without batchnorm, this run has batchnorm 1");
  /* a shared BatchNorm state's checkpoint under --batchnorm-state per-task, and back */
  o.resume = NULL;
  make_checkpoint(o, 2, NULL, meta_ck);
  o.resume = meta_ck;
  o.bn_per_task = 1;
  expect_refusal(&o, 2, NULL, "meta-sgd.ckpt: was written without batchnorm state per task, this "
                 "run has batchnorm state per task 1");
  o.resume = NULL;
  make_checkpoint(o, 2, NULL, meta_ck);
  o.resume = meta_ck;
  o.bn_per_task = 0;
  expect_refusal(&o, 2, NULL, "meta-sgd.ckpt: was written with batchnorm state per task 1, this run "
                 "has no batchnorm state per task");
  o.batchnorm = 0;
  o.optimizer = MT_OPTIM_ADAM;
  o.resume = NULL;
  make_checkpoint(o, 1, NULL, adam_ck);
  o.resume = adam_ck;
  o.adam_beta2 = 0.99f;
  expect_refusal(&o, 1, NULL, "was written with adam-beta2 0.999, this run has 0.99");
  o.adam_beta2 = 0.999f;
  o.optimizer = MT_OPTIM_SGD;
  expect_refusal(&o, 1, NULL, "meta-adam.ckpt: was written with optimizer adam, this run has no optimizer");
  unlink(meta_ck);
  unlink(adam_ck);
  unlink(ssm_ck);
  unlink(biased_ck);
  unlink(tasks_ck);
}

static size_t file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("%s: cannot open", path);
  fseek(f, 0, SEEK_END);
  size_t n = (size_t)ftell(f);
  fclose(f);
  return n;
}

/* Writes bytes[0..n) to path followed by their CRC-32: a file whose checksum is right
 * but whose content is not (what only a bug or a forger writes). */
static void write_with_crc(const char *path, unsigned char *bytes, size_t n) {
  uint32_t crc = (uint32_t)crc32(0L, bytes, (uInt)n);
  unsigned char tail[4] = {(unsigned char)crc, (unsigned char)(crc >> 8), (unsigned char)(crc >> 16),
                           (unsigned char)(crc >> 24)};
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(bytes, 1, n, f), n);
  assert_int_equal(fwrite(tail, 1, 4, f), 4);
  fclose(f);
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p) {
  return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Walks the sections of a checkpoint file (host/src/mt_ckpt.h: name length, name, u64
 * payload length, payload CRC-32, payload) and returns where section `name`'s payload
 * starts; with name NULL, recomputes every section's CRC and returns 0. */
static size_t walk_sections(unsigned char *bytes, size_t n, const char *name) {
  size_t p = 8;
  while (p < n - 4) {
    uint32_t nl = get32(bytes + p);
    const unsigned char *nm = bytes + p + 4;
    size_t hdr = p + 4 + nl;
    size_t len = get32(bytes + hdr) | (size_t)get32(bytes + hdr + 4) << 32;
    size_t data = hdr + 12;
    if (name && nl == strlen(name) && memcmp(nm, name, nl) == 0) return data;
    if (!name) put32(bytes + hdr + 8, (uint32_t)crc32(0L, bytes + data, (uInt)len));
    p = data + len;
  }
  if (name) fail_msg("no section %s", name);
  return 0;
}

static size_t section_at(unsigned char *bytes, size_t n, const char *name) {
  return walk_sections(bytes, n, name);
}

/* Writes the whole checkpoint bytes[0..n) with every checksum made right again. */
static void write_fixed(const char *path, unsigned char *bytes, size_t n) {
  walk_sections(bytes, n, NULL);
  write_with_crc(path, bytes, n - 4);
}

/* Truncated, damaged, old-format and internally inconsistent files are refused with
 * the reason; sizes in the file are checked against its length before use. */
static void damaged_checkpoints_are_refused(void **state) {
  (void)state;
  char ck[256], bad[256], cmd[1024];
  path_in_dir(ck, sizeof ck, "ssm-dmg.ckpt");
  path_in_dir(bad, sizeof bad, "ssm-dmg.bad");
  mt_train_opts o = tiny_opts(MT_ALGO_SSM);
  o.epochs = 2;
  make_checkpoint(o, 1, &imprecise, ck);
  o.resume = bad;
  size_t n = file_size(ck);
  snprintf(cmd, sizeof cmd, "head -c %zu %s > %s", n / 2, ck, bad); /* cut in the middle */
  assert_int_equal(system(cmd), 0);
  expect_refusal(&o, 1, &imprecise, "checksum mismatch");
  snprintf(cmd, sizeof cmd, "head -c %zu %s > %s", n - 1, ck, bad); /* one byte short */
  assert_int_equal(system(cmd), 0);
  expect_refusal(&o, 1, &imprecise, "checksum mismatch");
  snprintf(cmd, sizeof cmd, "cp %s %s && printf 'X' | dd of=%s bs=1 seek=%zu conv=notrunc status=none",
           ck, bad, bad, n / 3); /* one byte changed */
  assert_int_equal(system(cmd), 0);
  expect_refusal(&o, 1, &imprecise, "checksum mismatch");
  snprintf(cmd, sizeof cmd, "head -c 10 %s > %s", ck, bad);
  assert_int_equal(system(cmd), 0);
  expect_refusal(&o, 1, &imprecise, "not a memtile checkpoint");

  FILE *f = fopen(ck, "rb");
  assert_non_null(f);
  unsigned char *bytes = malloc(n);
  assert_non_null(bytes);
  assert_int_equal(fread(bytes, 1, n, f), n);
  fclose(f);
  /* Files of the formats before the sectioned container are refused, not misread. */
  put32(bytes + 4, 1);
  write_with_crc(bad, bytes, n - 4);
  expect_refusal(&o, 1, &imprecise, "checkpoint format 1, written by an older memtile");
  put32(bytes + 4, 2);
  write_with_crc(bad, bytes, n - 4);
  expect_refusal(&o, 1, &imprecise, "checkpoint format 2, written by an older memtile");
  put32(bytes + 4, 3);
  /* A right checksum over wrong content: an option count beyond the section ... */
  size_t opt = section_at(bytes, n, "options");
  uint32_t nfp = get32(bytes + opt);
  put32(bytes + opt, 0x7FFFFFFFu);
  write_fixed(bad, bytes, n);
  expect_refusal(&o, 1, &imprecise, "inconsistent content (2147483647 option entries)");
  put32(bytes + opt, nfp);
  /* ... an option entry whose name is longer than any ... */
  uint32_t len0 = get32(bytes + opt + 4);
  put32(bytes + opt + 4, 999);
  write_fixed(bad, bytes, n);
  expect_refusal(&o, 1, &imprecise, "inconsistent content (option entry 1)");
  put32(bytes + opt + 4, len0);
  /* ... a task beyond the run's ... */
  size_t pos = section_at(bytes, n, "position");
  put32(bytes + pos, 5);
  write_fixed(bad, bytes, n);
  expect_refusal(&o, 1, &imprecise, "inconsistent content (task 6 of 1, epoch 1)");
  put32(bytes + pos, 0);
  /* ... a section whose own checksum does not match (the file's does) ... */
  bytes[pos + 20] ^= 1;
  write_with_crc(bad, bytes, n - 4);
  expect_refusal(&o, 1, &imprecise, "checksum mismatch in section position");
  bytes[pos + 20] ^= 1;
  /* ... a missing section ... */
  size_t dev = section_at(bytes, n, "device");
  bytes[dev - 12 - 1] = 'X'; /* "device" becomes "devicX" */
  write_fixed(bad, bytes, n);
  expect_refusal(&o, 1, &imprecise, "inconsistent content (no section device)");
  bytes[dev - 12 - 1] = 'e';
  /* ... an example order that is not a permutation (the first two entries equal) ... */
  size_t order = pos + 4 + 4 + 8;
  memcpy(bytes + order + 4, bytes + order, 4);
  write_fixed(bad, bytes, n);
  expect_refusal(&o, 1, &imprecise, "not a permutation of 300 examples");
  /* ... and a file cut before its device image, checksum recomputed. */
  f = fopen(ck, "rb");
  assert_non_null(f);
  assert_int_equal(fread(bytes, 1, n, f), n);
  fclose(f);
  write_with_crc(bad, bytes, n / 2);
  expect_refusal(&o, 1, &imprecise, "inconsistent content");
  /* The intact file still resumes. */
  char err[512], log[256];
  path_in_dir(log, sizeof log, "dmg.jsonl");
  o.resume = ck;
  run_t r;
  if (run_tasks(&o, 1, &imprecise, log, 0, 0, &r, err, sizeof err) != 0) fail_msg("%s", err);
  assert_int_equal(r.n, 1);
  assert_int_equal(r.s[0].epoch, 2);
  free(bytes);
  unlink(ck);
  unlink(bad);
}

/* ---- log and checkpoint after a crash or a full disk ------------------------ */

/* Runs o (3 epochs, checkpoint and log in dir) in a child process with fault `fault` at
 * epoch 2; returns its wait status. */
static int run_child(const mt_train_opts *o, const char *log, int fault) {
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char err[512];
    run_t r;
    r.fault_epoch = 2, r.fault = fault;
    int rc = run_tasks(o, 1, &rram, log, 0, 0, &r, err, sizeof err);
    if (rc != 0) fprintf(stderr, "child: %s\n", err);
    _exit(rc == 0 ? 0 : 5);
  }
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  return st;
}

/* o (3 epochs) uninterrupted into full, then with each fault 1..last_fault at epoch 2 and a
 * resume into log (checkpoint ck): the same log every time. */
static void faults_resume_exactly(const mt_train_opts *base, const char *full, const char *log,
                                  const char *ck, int last_fault) {
  mt_train_opts o = *base;
  char err[512];
  run_t r;
  memset(&r, 0, sizeof r);
  if (run_tasks(&o, 1, &rram, full, 0, 0, &r, err, sizeof err) != 0) fail_msg("%s", err);
  for (int fault = 1; fault <= last_fault; fault++) {
    unlink(ck);
    mt_train_opts c = o;
    c.checkpoint = ck;
    int st = run_child(&c, log, fault);
    if (fault < 3 && !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
      fail_msg("fault %d: the child was not killed (status %d)", fault, st);
    if (fault == 3 && !(WIFEXITED(st) && WEXITSTATUS(st) == 3))
      fail_msg("full disk: status %d (3: the error names the file and the reason)", st);
    c.resume = ck;
    memset(&r, 0, sizeof r);
    if (run_tasks(&c, 1, &rram, log, 1, 0, &r, err, sizeof err) != 0) fail_msg("%s", err);
    same_logs(full, log, 3);
  }
}

/* Killed before or after epoch 2's log line (so around its checkpoint), or with the disk
 * full in the middle of the line: the resume gives the log of an uninterrupted run, every
 * epoch once, no line spliced (JSON and CSV). A full disk is reported with the file and
 * the reason. */
static void log_survives_kill_and_full_disk(void **state) {
  (void)state;
  char full[256], log[256], ck[256], err[512];
  path_in_dir(full, sizeof full, "crash-full.jsonl");
  path_in_dir(log, sizeof log, "crash.jsonl");
  path_in_dir(ck, sizeof ck, "crash.ckpt");
  mt_train_opts o = tiny_opts(MT_ALGO_SIAMESE);
  o.epochs = 3;
  faults_resume_exactly(&o, full, log, ck, 3);
  run_t r;
  /* A line cut short by hand (JSON and CSV) after a complete epoch 1. */
  unlink(ck);
  mt_train_opts c = o;
  c.checkpoint = ck;
  if (run_tasks(&c, 1, &rram, log, 0, 1, &r, err, sizeof err) != 0) fail_msg("%s", err);
  char csv[256];
  mt_log_csv_path(log, csv, sizeof csv);
  FILE *f = fopen(log, "ab");
  fputs("{\"epoch\": 2, \"algo\": \"sia", f);
  fclose(f);
  f = fopen(csv, "ab");
  fputs("2,siam", f);
  fclose(f);
  c.resume = ck;
  if (run_tasks(&c, 1, &rram, log, 1, 0, &r, err, sizeof err) != 0) fail_msg("%s", err);
  same_logs(full, log, 3);
  unlink(ck);
}

/* kill -9 of a metaplastic run with adam and BatchNorm before and after epoch 2's log line:
 * the resume gives the uninterrupted run's log. */
static void meta_adam_batchnorm_survives_kill(void **state) {
  (void)state;
  char full[256], log[256], ck[256];
  path_in_dir(full, sizeof full, "kill-adam-full.jsonl");
  path_in_dir(log, sizeof log, "kill-adam.jsonl");
  path_in_dir(ck, sizeof ck, "kill-adam.ckpt");
  mt_train_opts o = tiny_opts(MT_ALGO_METAPLASTIC);
  o.epochs = 3;
  o.optimizer = MT_OPTIM_ADAM;
  o.lr = 0.002f;
  o.batchnorm = 1;
  faults_resume_exactly(&o, full, log, ck, 2);
  unlink(ck);
}

/* A checkpoint whose checksums are right but whose epoch count is beyond the run's (or
 * wraps around), or whose weights are not finite numbers, is refused, naming the field. */
static void impossible_content_is_refused(void **state) {
  (void)state;
  char ck[256], bad[256];
  path_in_dir(ck, sizeof ck, "imp.ckpt");
  path_in_dir(bad, sizeof bad, "imp.bad");
  mt_train_opts o = tiny_opts(MT_ALGO_SIAMESE);
  o.epochs = 2;
  make_checkpoint(o, 1, &rram, ck);
  size_t n = file_size(ck);
  unsigned char *bytes = malloc(n);
  assert_non_null(bytes);
  FILE *f = fopen(ck, "rb");
  assert_int_equal(fread(bytes, 1, n, f), n);
  fclose(f);
  o.resume = bad;
  size_t pos = section_at(bytes, n, "position");
  put32(bytes + pos + 4, 0xFFFFFFFFu); /* epochs done: the next would wrap to 0 */
  write_fixed(bad, bytes, n);
  expect_refusal(&o, 1, &rram, "holds epoch 4294967295, beyond this run's --epochs 2");
  put32(bytes + pos + 4, 3);
  write_fixed(bad, bytes, n);
  expect_refusal(&o, 1, &rram, "holds epoch 3, beyond this run's --epochs 2");
  put32(bytes + pos + 4, 1);
  size_t net = section_at(bytes, n, "network");
  float nan = NAN;
  unsigned char keep[4];
  memcpy(keep, bytes + net + 8, 4);
  memcpy(bytes + net + 8, &nan, 4);
  write_fixed(bad, bytes, n);
  expect_refusal(&o, 1, &rram, "inconsistent content (layer 0 weight 2 is nan)");
  memcpy(bytes + net + 8, keep, 4);
  write_fixed(bad, bytes, n);
  o.epochs = 2;
  char err[512], log[256];
  path_in_dir(log, sizeof log, "imp.jsonl");
  run_t r;
  if (run_tasks(&o, 1, &rram, log, 0, 0, &r, err, sizeof err) != 0) fail_msg("%s", err);
  assert_int_equal(r.n, 1);
  free(bytes);
  unlink(ck);
  unlink(bad);
}

/* The default (sgd, no BatchNorm) writes neither the optimizer section nor the log fields:
 * its checkpoints and logs are as before these options. */
static void default_run_has_no_optimizer_state(void **state) {
  (void)state;
  char ck[256], log[256];
  path_in_dir(ck, sizeof ck, "default.ckpt");
  path_in_dir(log, sizeof log, "made.jsonl");
  mt_train_opts o = tiny_opts(MT_ALGO_METAPLASTIC);
  make_checkpoint(o, 1, &rram, ck);
  size_t n = file_size(ck);
  unsigned char *bytes = (unsigned char *)slurp(ck);
  int found = 0;
  for (size_t k = 0; k + 9 < n; k++) found |= memcmp(bytes + k, "optimizer", 9) == 0;
  free(bytes);
  assert_false(found);
  char *text = slurp(log);
  found = strstr(text, "optimizer") != NULL || strstr(text, "batchnorm") != NULL;
  free(text);
  assert_false(found);
  /* and the same options with adam do write the section */
  o.optimizer = MT_OPTIM_ADAM;
  make_checkpoint(o, 1, &rram, ck);
  n = file_size(ck);
  bytes = (unsigned char *)slurp(ck);
  assert_true(section_at(bytes, n, "optimizer") > 0);
  free(bytes);
  unlink(ck);
}

int main(void) {
  static const struct CMUnitTest others[] = {
    cmocka_unit_test(bn_per_task_tests_earlier_tasks_with_their_state),
    cmocka_unit_test(default_run_has_no_optimizer_state),
    cmocka_unit_test(meta_adam_batchnorm_survives_kill),
    cmocka_unit_test(other_algorithm_or_option_is_refused),
    cmocka_unit_test(damaged_checkpoints_are_refused),
    cmocka_unit_test(log_survives_kill_and_full_disk),
    cmocka_unit_test(impossible_content_is_refused),
  };
  enum { N_OTHERS = sizeof others / sizeof *others };
  static char names[N_RESUME_CASES][64];
  struct CMUnitTest tests_[N_RESUME_CASES + N_OTHERS];
  for (size_t k = 0; k < N_RESUME_CASES; k++) {
    snprintf(names[k], sizeof names[k], "%s resume is exact", resume_cases[k].name);
    tests_[k] = (struct CMUnitTest){names[k], resume_is_exact, NULL, NULL, (void *)&resume_cases[k]};
  }
  memcpy(tests_ + N_RESUME_CASES, others, sizeof others);
  const char *only = getenv("MT_TEST_FILTER"); /* e.g. "ssm*" while iterating */
  if (only) cmocka_set_test_filter(only);
  return cmocka_run_group_tests(tests_, setup, teardown);
}
