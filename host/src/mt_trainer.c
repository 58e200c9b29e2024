/* The public training API (memtile_train.h): options by name, then one run that loads the
 * datasets and preset, opens device and log, and drives mt_train_run_tasks. */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "memtile_layer.h"
#include "memtile_train.h"
#include "mt_log.h"
#include "mt_train.h"

struct mt_trainer {
  char uri[256];
  int uri_set;
  /* option values as given (owned copies): the option table below points into these */
  char preset[4096], dataset[4096], tasks[4096], log[4096], checkpoint[4096], resume[4096];
  char net_text[256];
  /* --tasks after expanding permuted-NAME:K: each task's name (in the log) and dataset, and
   * its permutation (0: none; k: task k of the permuted sequence, mt_dataset_permute) */
  char task_name[MT_TRAIN_MAX_TASKS][64];
  const char *task_set[MT_TRAIN_MAX_TASKS];
  uint32_t task_perm[MT_TRAIN_MAX_TASKS];
  int dataset_set, ran;
  uint32_t train_limit, test_limit, levels;
  uint32_t max_tiles; /* --max-tiles: 0, or the device tiles to use at most (tile swapping) */
  uint32_t crop;      /* --crop S: centre S x S of every image (0: whole images) */
  const char *adam_opt; /* the first --adam-* option given (refused without --optimizer adam) */
  mt_train_opts o;
  mt_dev *dev;
  char msg[1024];
};

static int fail(mt_trainer *t, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(mt_trainer *t, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->msg, sizeof t->msg, fmt, ap);
  va_end(ap);
  return code;
}

int mt_trainer_create(const char *uri, mt_trainer **out) {
  mt_trainer *t = calloc(1, sizeof *t);
  *out = t;
  if (!t) return MT_ERR_NOMEM;
  mt_train_defaults(&t->o);
  snprintf(t->preset, sizeof t->preset, "rram");
  snprintf(t->dataset, sizeof t->dataset, "fashion-mnist");
  if (uri && strlen(uri) >= sizeof t->uri)
    return fail(t, MT_ERR_INVAL, "device URI of %zu characters (at most %zu)", strlen(uri),
                sizeof t->uri - 1);
  if (uri) snprintf(t->uri, sizeof t->uri, "%s", uri), t->uri_set = 1;
  return MT_OK;
}

void mt_trainer_close(mt_trainer *t) {
  if (!t) return;
  mt_dev_close(t->dev);
  free(t);
}

const char *mt_train_errmsg(const mt_trainer *t) { return t ? t->msg : "out of memory"; }

mt_dev *mt_trainer_device(mt_trainer *t) { return t->dev; }

const char *mt_train_algo_name(uint32_t k) { return k < MT_ALGO_COUNT ? mt_algo_name((mt_algo)k) : NULL; }

/* ---- options ------------------------------------------------------------ */

static int bad_value(mt_trainer *t, const char *opt, const char *val, const char *what) {
  return fail(t, MT_ERR_INVAL, "--%s: '%s' is not %s", opt, val, what);
}

static int parse_u32(mt_trainer *t, const char *opt, const char *val, uint32_t lo, uint32_t hi,
                     uint32_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(val, &end, 10);
  if (errno || end == val || *end || val[0] == '-' || v < lo || v > hi) {
    char what[96];
    snprintf(what, sizeof what, "an integer in [%u, %u]", lo, hi);
    return bad_value(t, opt, val, what);
  }
  *out = (uint32_t)v;
  return MT_OK;
}

/* A number in (lo, hi]. */
static int parse_float(mt_trainer *t, const char *opt, const char *val, double lo, double hi,
                       float *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(val, &end);
  if (errno || end == val || *end || !(v > lo) || !(v <= hi)) {
    char what[96];
    snprintf(what, sizeof what, "a number in (%g, %g]", lo, hi);
    return bad_value(t, opt, val, what);
  }
  *out = (float)v;
  return MT_OK;
}

/* A path option's copy; a path too long for it is refused rather than cut. */
static int set_text(mt_trainer *t, const char *opt, const char *val, char *dst, size_t cap) {
  if (strlen(val) >= cap)
    return fail(t, MT_ERR_INVAL, "--%s: a value of %zu characters (at most %zu)", opt, strlen(val), cap - 1);
  snprintf(dst, cap, "%s", val);
  return MT_OK;
}

static void algo_list(char *out, size_t n) {
  size_t used = 0;
  out[0] = '\0';
  for (uint32_t k = 0; k < MT_ALGO_COUNT && used < n; k++) {
    int w = snprintf(out + used, n - used, "%s%s", k ? ", " : "", mt_algo_name((mt_algo)k));
    if (w < 0) break;
    used += (size_t)w;
  }
}

static const char *const option_names[] = {
    "device", "preset", "log", "tasks", "checkpoint", "resume", "dataset", "net", "algo",
    "compensate", "open-loop", "changed-only", "ssm-compensate", "ssm-calibrate", "levels",
    "epochs", "batch", "accumulate", "train-limit", "test-limit", "val", "crop", "favourable",
    "slices", "lr", "important", "importance", "draws", "drift-eval", "w-max", "momentum", "meta-m", "seed",
    "max-tiles", "optimizer", "adam-beta1", "adam-beta2", "adam-eps", "batchnorm",
    "batchnorm-state"};

/* The options that take no value on the command line (present means "1"). */
static const char *const flag_names[] = {"open-loop", "changed-only", "ssm-compensate",
                                         "ssm-calibrate", "batchnorm"};

int mt_train_option_kind(const char *option) {
  const char *opt = option && !strncmp(option, "--", 2) ? option + 2 : option;
  for (size_t k = 0; opt && k < sizeof option_names / sizeof *option_names; k++) {
    if (strcmp(opt, option_names[k])) continue;
    for (size_t f = 0; f < sizeof flag_names / sizeof *flag_names; f++)
      if (!strcmp(opt, flag_names[f])) return 0;
    return 1;
  }
  return MT_ERR_INVAL;
}

int mt_trainer_set(mt_trainer *t, const char *option, const char *val) {
  if (!option || !val) return fail(t, MT_ERR_INVAL, "mt_trainer_set: option or value is NULL");
  const char *opt = strncmp(option, "--", 2) ? option : option + 2;
  if (mt_train_option_kind(opt) < 0) return fail(t, MT_ERR_INVAL, "unknown option '%s'", option);
  mt_train_opts *o = &t->o;
  if (!strcmp(opt, "device")) {
    int rc = set_text(t, opt, val, t->uri, sizeof t->uri);
    if (rc == MT_OK) t->uri_set = 1;
    return rc;
  }
  if (!strcmp(opt, "preset")) return set_text(t, opt, val, t->preset, sizeof t->preset);
  if (!strcmp(opt, "log")) return set_text(t, opt, val, t->log, sizeof t->log);
  if (!strcmp(opt, "tasks")) return set_text(t, opt, val, t->tasks, sizeof t->tasks);
  if (!strcmp(opt, "checkpoint")) {
    int rc = set_text(t, opt, val, t->checkpoint, sizeof t->checkpoint);
    if (rc == MT_OK) o->checkpoint = t->checkpoint;
    return rc;
  }
  if (!strcmp(opt, "resume")) {
    int rc = set_text(t, opt, val, t->resume, sizeof t->resume);
    if (rc == MT_OK) o->resume = t->resume;
    return rc;
  }
  if (!strcmp(opt, "dataset")) {
    int rc = set_text(t, opt, val, t->dataset, sizeof t->dataset);
    if (rc == MT_OK) t->dataset_set = 1;
    return rc;
  }
  if (!strcmp(opt, "net")) {
    char err[256];
    mt_train_opts n = *o;
    if (mt_net_parse(val, n.sizes, n.spec, &n.n_layers, err, sizeof err) != 0)
      return fail(t, MT_ERR_INVAL, "--net: %s", err);
    int rc = set_text(t, opt, val, t->net_text, sizeof t->net_text);
    if (rc == MT_OK) *o = n;
    return rc;
  }
  if (!strcmp(opt, "algo")) {
    if (mt_algo_parse(val, &o->algo) == 0) return MT_OK;
    char algos[512], what[600];
    algo_list(algos, sizeof algos);
    snprintf(what, sizeof what, "an algorithm (%s)", algos);
    return bad_value(t, opt, val, what);
  }
  if (!strcmp(opt, "compensate")) {
    if (!strcmp(val, "none")) o->compensate = MT_COMP_NONE;
    else if (!strcmp(val, "readback")) o->compensate = MT_COMP_READBACK;
    else return bad_value(t, opt, val, "a compensation mode (none, readback)");
    return MT_OK;
  }
  if (!strcmp(opt, "open-loop")) return parse_u32(t, opt, val, 0, 1, &o->open_loop);
  if (!strcmp(opt, "changed-only")) return parse_u32(t, opt, val, 0, 1, &o->changed_only);
  if (!strcmp(opt, "ssm-compensate")) return parse_u32(t, opt, val, 0, 1, &o->ssm_compensate);
  if (!strcmp(opt, "ssm-calibrate")) return parse_u32(t, opt, val, 0, 1, &o->ssm_calibrate);
  if (!strcmp(opt, "batchnorm")) return parse_u32(t, opt, val, 0, 1, &o->batchnorm);
  if (!strcmp(opt, "batchnorm-state")) {
    if (!strcmp(val, "shared")) o->bn_per_task = 0;
    else if (!strcmp(val, "per-task")) o->bn_per_task = 1;
    else return bad_value(t, opt, val, "a BatchNorm state (shared, per-task)");
    return MT_OK;
  }
  if (!strcmp(opt, "optimizer")) {
    if (mt_optimizer_parse(val, &o->optimizer) == 0) return MT_OK;
    return bad_value(t, opt, val, "an optimizer (sgd, adam)");
  }
  if (!strncmp(opt, "adam-", 5)) {
    /* beta in [0, 1) as PyTorch's Adam; eps > 0 (the step divides by sqrt(v_hat) + eps) */
    int eps = !strcmp(opt, "adam-eps");
    char *end = NULL;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end || !(eps ? v > 0 && v <= 1 : v >= 0 && v < 1))
      return bad_value(t, opt, val, eps ? "a number in (0, 1]" : "a number in [0, 1)");
    const int beta1 = !strcmp(opt, "adam-beta1");
    *(eps ? &o->adam_eps : beta1 ? &o->adam_beta1 : &o->adam_beta2) = (float)v;
    /* a name of our own: the caller's text need not outlive the call */
    if (!t->adam_opt) t->adam_opt = eps ? "adam-eps" : beta1 ? "adam-beta1" : "adam-beta2";
    return MT_OK;
  }
  if (!strcmp(opt, "val")) return parse_u32(t, opt, val, 0, UINT32_MAX - 1, &o->val);
  if (!strcmp(opt, "levels")) return parse_u32(t, opt, val, 2, 256, &t->levels);
  if (!strcmp(opt, "epochs")) return parse_u32(t, opt, val, 1, 100000, &o->epochs);
  if (!strcmp(opt, "batch")) return parse_u32(t, opt, val, 1, 4096, &o->batch);
  if (!strcmp(opt, "accumulate")) return parse_u32(t, opt, val, 1, 100000, &o->accumulate);
  if (!strcmp(opt, "train-limit")) return parse_u32(t, opt, val, 1, UINT32_MAX, &t->train_limit);
  if (!strcmp(opt, "test-limit")) return parse_u32(t, opt, val, 1, UINT32_MAX, &t->test_limit);
  if (!strcmp(opt, "crop")) return parse_u32(t, opt, val, 1, MT_DATASET_MAX_SIDE, &t->crop);
  if (!strcmp(opt, "favourable")) return parse_u32(t, opt, val, 1, 256, &o->favourable_k);
  if (!strcmp(opt, "slices")) return parse_u32(t, opt, val, 1, 8, &o->slices);
  if (!strcmp(opt, "max-tiles")) return parse_u32(t, opt, val, 1, MT_MAX_TILES, &t->max_tiles);
  if (!strcmp(opt, "lr")) return parse_float(t, opt, val, 0, 100, &o->lr);
  if (!strcmp(opt, "important")) {
    if (mt_train_parse_important(val, o) == 0) return MT_OK;
    return bad_value(t, opt, val, "a fraction in [0, 1], or a comma list of them, one per layer");
  }
  if (!strcmp(opt, "importance")) {
    if (!strcmp(val, "saliency")) o->importance = MT_IMPORTANCE_SALIENCY;
    else if (!strcmp(val, "magnitude")) o->importance = MT_IMPORTANCE_MAGNITUDE;
    else return bad_value(t, opt, val, "an importance (saliency, magnitude)");
    return MT_OK;
  }
  if (!strcmp(opt, "draws")) return parse_u32(t, opt, val, 1, MT_TRAIN_MAX_DRAWS, &o->draws);
  if (!strcmp(opt, "drift-eval")) {
    char why[160];
    if (mt_train_parse_drift_eval(val, o, why, sizeof why) == 0) return MT_OK;
    return fail(t, MT_ERR_INVAL, "--drift-eval %s: %s", val, why);
  }
  if (!strcmp(opt, "w-max")) return parse_float(t, opt, val, 0, 1000, &o->w_max_factor);
  if (!strcmp(opt, "momentum")) {
    char *end = NULL;
    double v = strtod(val, &end);
    if (end == val || *end || !(v >= 0) || !(v < 1)) return bad_value(t, opt, val, "a number in [0, 1)");
    o->momentum = (float)v;
    return MT_OK;
  }
  if (!strcmp(opt, "meta-m")) {
    char *end = NULL;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end || !(v >= 0) || v > 1e6) return bad_value(t, opt, val, "a number in [0, 1e6]");
    o->meta_m = (float)v;
    return MT_OK;
  }
  if (!strcmp(opt, "seed")) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 0);
    if (errno || end == val || *end || val[0] == '-') return bad_value(t, opt, val, "a non-negative integer");
    o->seed = v;
    return MT_OK;
  }
  assert(0 && "every name of option_names[] is handled above");
  return MT_ERR_INVAL;
}

/* ---- checks before a run ------------------------------------------------ */

/* The path of a file that may not exist yet with its directory resolved (symbolic links,
 * "..", "."); the path itself if the directory does not resolve either. */
static void canonical(const char *path, char *out, size_t n) {
  char dir[PATH_MAX], real[PATH_MAX];
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (slash == path) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
  int k = -1; /* a path too long for out falls back to the text given */
  if (realpath(path, real)) k = snprintf(out, n, "%s", real);
  else if (realpath(dir, real)) k = snprintf(out, n, "%s/%s", real, base);
  if (k < 0 || (size_t)k >= n) snprintf(out, n, "%s", path);
}

/* 1 if a and b name the same file, also through links, existing or not. */
static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  if (stat(a, &sa) == 0 && stat(b, &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  char ca[PATH_MAX], cb[PATH_MAX];
  canonical(a, ca, sizeof ca);
  canonical(b, cb, sizeof cb);
  return strcmp(ca, cb) == 0;
}

/* The log (and its CSV) would overwrite a checkpoint, or a checkpoint the log: refused. */
static int check_distinct_outputs(mt_trainer *t) {
  if (!t->log[0]) return MT_OK;
  char csv[4096];
  mt_log_csv_path(t->log, csv, sizeof csv);
  const char *logs[2] = {t->log, csv}, *log_opt[2] = {"--log", "--log's CSV"};
  const char *ck[2] = {t->o.checkpoint, t->o.resume}, *ck_opt[2] = {"--checkpoint", "--resume"};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      if (ck[j] && same_file(logs[i], ck[j]))
        return fail(t, MT_ERR_INVAL, "%s %s and %s %s are the same file", log_opt[i], logs[i],
                    ck_opt[j], ck[j]);
  return MT_OK;
}

/* Splits the tasks list in place (commas); at most MT_TRAIN_MAX_TASKS tasks. An entry
 * permuted-NAME:K stands for K tasks, the dataset NAME under the permutations 1..K. */
static int split_tasks(mt_trainer *t, const char **names, uint32_t *n) {
  static const char prefix[] = "permuted-";
  *n = 0;
  for (char *p = t->tasks;;) {
    char *comma = strchr(p, ',');
    if (comma) *comma = '\0';
    if (!*p || *n == MT_TRAIN_MAX_TASKS)
      return fail(t, MT_ERR_INVAL, "--tasks: %s",
                  *p ? "too many tasks (at most 8)" : "an empty dataset name in the list");
    char *colon = strrchr(p, ':');
    if (!strncmp(p, prefix, sizeof prefix - 1) && colon) {
      char *end = NULL;
      unsigned long k = strtoul(colon + 1, &end, 10);
      if (colon == p + sizeof prefix - 1 || end == colon + 1 || *end || colon[1] == '-' || k < 1 ||
          k > MT_TRAIN_MAX_TASKS - *n)
        return fail(t, MT_ERR_INVAL, "--tasks: '%s': expected permuted-NAME:K with a dataset NAME "
                    "and K in [1, %u] (at most 8 tasks in all)", p, MT_TRAIN_MAX_TASKS - *n);
      *colon = '\0';
      const char *set = p + sizeof prefix - 1;
      for (uint32_t j = 1; j <= k; j++, (*n)++) {
        snprintf(t->task_name[*n], sizeof t->task_name[*n], "%.40s-perm%u", set, j);
        names[*n] = t->task_name[*n];
        t->task_set[*n] = set;
        t->task_perm[*n] = j;
      }
    } else {
      names[*n] = t->task_set[*n] = p;
      t->task_perm[(*n)++] = 0;
    }
    if (!comma) return MT_OK;
    p = comma + 1;
  }
}

/* ---- the run ------------------------------------------------------------ */

typedef struct {
  const mt_train_callbacks *cb;
  mt_log *log;
  const char *algo;
  int log_failed;
  int cb_code;        /* what the caller's epoch_done returned when it failed the run (< 0) */
  uint32_t cb_epoch;  /* after which epoch */
} run_ctx;

static void on_progress(void *ctx, uint32_t epoch, uint32_t done, uint32_t total, double loss) {
  run_ctx *r = ctx;
  if (r->cb->progress) r->cb->progress(r->cb->ctx, epoch, done, total, loss);
}

static int on_epoch(void *ctx, const mt_epoch_stats *s) {
  run_ctx *r = ctx;
  int go = r->cb->epoch_done ? r->cb->epoch_done(r->cb->ctx, s) : 0;
  if (go < 0) {
    r->cb_code = go;
    r->cb_epoch = s->epoch;
    return go;
  }
  if (r->log && mt_log_epoch(r->log, r->algo, s) != 0) {
    r->log_failed = 1;
    return -1; /* a failed line: stop before this epoch's checkpoint */
  }
  return go;
}

/* resume: the log keeps the epochs the checkpoint holds, and nothing after. */
static int on_resumed(void *ctx, uint32_t epochs) {
  run_ctx *r = ctx;
  if (!r->log || mt_log_resume(r->log, epochs) == 0) return 0;
  r->log_failed = 1;
  return -1;
}

/* One line: what is trained on what. */
static void summary(const mt_trainer *t, const mt_dataset_t *train, const mt_dataset_t *test,
                    const mt_preset_t *preset, const char *const *names, uint32_t n_tasks,
                    char *out, size_t n) {
  const mt_train_opts *o = &t->o;
  size_t u = 0;
#define PUT(...) (u += (u < n ? (size_t)snprintf(out + u, n - u, __VA_ARGS__) : 0))
  /* --val holds the last examples of the training set out of training */
  uint32_t fit = train->count > o->val ? train->count - o->val : 0;
  PUT("%s on %s, %u train", mt_algo_name(o->algo),
      o->algo == MT_ALGO_FLOAT ? "float (no device)" : t->uri, fit);
  if (o->val) PUT(" / %u validation", o->val);
  PUT(" / %u test examples, net", test->count);
  if (t->net_text[0] && o->spec[0].conv) PUT(" %s, widths", t->net_text);
  for (uint32_t l = 0; l <= o->n_layers; l++) PUT("%c%u", l ? '-' : ' ', o->sizes[l]);
  if (o->algo != MT_ALGO_FLOAT) PUT(", preset %s (%u levels)", preset->name, preset->levels);
  if (o->algo == MT_ALGO_METAPLASTIC) PUT(", m %g", (double)o->meta_m);
  if (o->optimizer == MT_OPTIM_ADAM)
    PUT(", optimizer adam (beta1 %g, beta2 %g, eps %g)", (double)o->adam_beta1,
        (double)o->adam_beta2, (double)o->adam_eps);
  if (o->batchnorm) PUT(", batchnorm (%s state)", o->bn_per_task ? "per-task" : "shared");
  if (t->tasks[0]) {
    PUT(", tasks");
    for (uint32_t k = 0; k < n_tasks; k++) PUT("%c%s", k ? ',' : ' ', names[k]);
  }
#undef PUT
}

/* --max-tiles: the network's `need` tiles on at most max_tiles of the device's. */
static int start_swapping(mt_trainer *t, uint32_t need) {
  if (mt_dev_set_max_tiles(t->dev, t->max_tiles, need) != MT_OK)
    return fail(t, MT_ERR_INVAL, "--max-tiles %u: %s", t->max_tiles, mt_dev_errmsg(t->dev));
  return MT_OK;
}

int mt_trainer_run(mt_trainer *t, const mt_train_callbacks *cb) {
  static const mt_train_callbacks none;
  if (!cb) cb = &none;
  if (t->ran) return fail(t, MT_ERR_INVAL, "this trainer has run already (a trainer runs once)");
  t->ran = 1;
  if (t->tasks[0] && t->dataset_set) return fail(t, MT_ERR_INVAL, "--tasks and --dataset exclude each other");
  /* An option of another algorithm would be ignored: a usage error (mt_train.c checks it too). */
  if ((t->o.ssm_compensate || t->o.ssm_calibrate) && t->o.algo != MT_ALGO_SSM)
    return fail(t, MT_ERR_INVAL, "--ssm-%s is for ssm, not %s",
                t->o.ssm_compensate ? "compensate" : "calibrate", mt_algo_name(t->o.algo));
  if (t->o.changed_only && t->o.algo != MT_ALGO_CLOSED_LOOP)
    return fail(t, MT_ERR_INVAL, "--changed-only is for closed-loop, not %s", mt_algo_name(t->o.algo));
  if (mt_train_check_optim(&t->o, t->msg, sizeof t->msg) != 0) return MT_ERR_INVAL;
  if (t->adam_opt && t->o.optimizer != MT_OPTIM_ADAM)
    return fail(t, MT_ERR_INVAL, "--%s is for --optimizer adam, not %s", t->adam_opt,
                mt_optimizer_name(t->o.optimizer));
  /* --important and --net may come in either order: the count is checked here. */
  if (t->o.n_important && t->o.n_important != t->o.n_layers) {
    char list[MT_NN_MAX_LAYERS * 16] = "";
    for (uint32_t l = 0, u = 0; l < t->o.n_important && u < sizeof list; l++)
      u += (uint32_t)snprintf(list + u, sizeof list - u, "%s%g", l ? "," : "",
                              (double)t->o.important_layer[l]);
    return fail(t, MT_ERR_INVAL, "--important %s: %u fractions for a network of %u layers (give one "
                "fraction, or one per layer)", list, t->o.n_important, t->o.n_layers);
  }
  int rc = check_distinct_outputs(t);
  const char *names[MT_TRAIN_MAX_TASKS] = {t->dataset};
  uint32_t n_tasks = 1;
  if (rc == MT_OK && t->tasks[0]) rc = split_tasks(t, names, &n_tasks);
  if (rc != MT_OK) return rc;

  char err[1024], path[8192 + 16]; /* room for a directory and a preset name */
  static const mt_dataset_t zero;
  mt_dataset_t train[MT_TRAIN_MAX_TASKS], test[MT_TRAIN_MAX_TASKS];
  for (uint32_t k = 0; k < MT_TRAIN_MAX_TASKS; k++) train[k] = test[k] = zero;
  mt_preset_t *preset = calloc(1, sizeof *preset);
  mt_log *log = NULL;
  if (!preset) return fail(t, MT_ERR_NOMEM, "out of memory for a preset");
  if (!t->tasks[0]) t->task_set[0] = t->dataset, t->task_perm[0] = 0;
  for (uint32_t k = 0; rc == MT_OK && k < n_tasks; k++) {
    int drc = mt_dataset_open(t->task_set[k], MT_SOURCE_DIR, t->train_limit, t->test_limit,
                              &train[k], &test[k], err, sizeof err);
    if (drc != MT_OK) rc = fail(t, drc, "%s", err);
    else if (t->crop && ((drc = mt_dataset_crop(&train[k], t->crop, err, sizeof err)) != 0 ||
                         (drc = mt_dataset_crop(&test[k], t->crop, err, sizeof err)) != 0))
      rc = fail(t, drc, "--crop: %s: %s", names[k], err);
    else if (t->task_perm[k] &&
             ((drc = mt_dataset_permute(&train[k], t->task_perm[k], err, sizeof err)) != 0 ||
              (drc = mt_dataset_permute(&test[k], t->task_perm[k], err, sizeof err)) != 0))
      rc = fail(t, drc, "--tasks %s: %s", names[k], err);
  }
  for (uint32_t k = 0; rc == MT_OK && k < n_tasks; k++)
    if (t->o.val && t->o.val >= train[k].count)
      rc = fail(t, MT_ERR_INVAL, "--val %u: task %u (%s) has only %u training examples (the split "
                "must leave at least one to train on)", t->o.val, k + 1, names[k], train[k].count);
  if (rc == MT_OK && t->o.algo != MT_ALGO_FLOAT) {
    /* A name found nowhere becomes the path it would have in the first place searched,
     * which the loader then names. */
    if (mt_preset_locate(t->preset, path, sizeof path) != MT_OK) {
      const char *dir = getenv("MEMTILE_PRESETS");
      snprintf(path, sizeof path, "%s/%s.json", dir && *dir ? dir : MT_SOURCE_DIR "/presets", t->preset);
    }
    int prc = mt_preset_load(path, preset, err, sizeof err);
    if (prc != MT_OK) rc = fail(t, prc, "%s", err);
    else if (t->levels && mt_preset_set_levels(preset, t->levels, err, sizeof err) != 0)
      rc = fail(t, MT_ERR_INVAL, "--levels: %s", err);
    uint32_t need = mt_train_tiles_needed(&t->o);
    if (rc == MT_OK && need > MT_MAX_TILES)
      /* No device can hold it: say so, rather than blame a URI the caller never gave. */
      rc = fail(t, MT_ERR_INVAL, "the network needs %u tiles of %ux%u; a device has at most %u "
                "(use a smaller --net)", need, MT_ROWS, MT_COLS, MT_MAX_TILES);
    if (rc == MT_OK && !t->uri_set) snprintf(t->uri, sizeof t->uri, "model://?tiles=%u", need);
    int drc = rc == MT_OK ? mt_dev_open(t->uri, &t->dev) : MT_OK;
    if (drc != MT_OK) {
      rc = fail(t, drc, "%s", t->dev ? mt_dev_errmsg(t->dev) : "out of memory");
      mt_dev_close(t->dev);
      t->dev = NULL;
    }
    if (rc == MT_OK && t->max_tiles) rc = start_swapping(t, need);
  }
  if (rc == MT_OK && t->log[0] && mt_log_open(&log, t->log, t->o.resume != NULL, err, sizeof err) != 0)
    rc = fail(t, MT_ERR_IO, "%s", err);
  if (rc == MT_OK && log && t->tasks[0]) mt_log_set_tasks(log, n_tasks, names);
  if (rc == MT_OK && log && t->o.val) mt_log_set_val(log);
  if (rc == MT_OK && log && t->o.draws > 1) mt_log_set_draws(log, t->o.draws);
  if (rc == MT_OK && log && t->o.n_drift_t) mt_log_set_drift(log, t->o.n_drift_t);
  if (rc == MT_OK && log) mt_log_set_optim(log, mt_optimizer_name(t->o.optimizer), t->o.batchnorm, t->o.bn_per_task);
  if (rc == MT_OK && cb->started) {
    char line[1024];
    summary(t, &train[0], &test[0], preset, names, n_tasks, line, sizeof line);
    cb->started(cb->ctx, line);
  }
  if (rc == MT_OK) {
    run_ctx r = {cb, log, mt_algo_name(t->o.algo), 0, 0, 0};
    mt_train_hooks hooks = {on_progress, on_epoch, &r, on_resumed};
    int trc = mt_train_run_tasks(&t->o, n_tasks, train, test, t->dev,
                                 t->o.algo == MT_ALGO_FLOAT ? NULL : preset, &hooks, err, sizeof err);
    if (r.log_failed) /* the log's own reason (file and errno), not the trainer's */
      rc = fail(t, MT_ERR_IO, "writing the log failed: %s", mt_log_errmsg(log));
    else if (r.cb_code < 0)
      rc = fail(t, r.cb_code, "the epoch callback failed the run after epoch %u (%s)", r.cb_epoch,
                mt_err_name(r.cb_code));
    else if (trc != 0) /* the trainer's class: options, memory, checkpoint or the device's own */
      rc = fail(t, trc, "%s", err);
  }
  mt_log_close(log);
  free(preset);
  for (uint32_t k = 0; k < n_tasks; k++) {
    mt_dataset_free(&train[k]);
    mt_dataset_free(&test[k]);
  }
  return rc;
}
