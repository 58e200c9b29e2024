/* The training loop (docs/algorithms.md): batches, forward and backward
 * passes, epochs, tasks, evaluation and counters. What an algorithm does is
 * behind its mt_algo_ops (mt_algo.h, one file per algorithm). */
#define _POSIX_C_SOURCE 199309L
#include "mt_train.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mt_algo.h"
#include "mt_map.h"
#include "mt_protocol.h"
#include "mt_rng.h"
#include "mt_slice.h"
#include "mt_train_ckpt.h"

static const mt_algo_ops *const algos[] = {
#define MT_ALGO_ENTRY(ID, OPS) &OPS,
#include "mt_algos.def"
#undef MT_ALGO_ENTRY
};

const mt_algo_ops *mt_algo_ops_of(mt_algo a) {
  assert((unsigned)a < MT_ALGO_COUNT);
  return algos[a];
}

const char *mt_algo_name(mt_algo a) { return (unsigned)a < MT_ALGO_COUNT ? algos[a]->name : "unknown"; }

int mt_algo_parse(const char *name, mt_algo *out) {
  for (unsigned k = 0; k < MT_ALGO_COUNT; k++) {
    if (strcmp(name, algos[k]->name) == 0) {
      *out = (mt_algo)k;
      return 0;
    }
  }
  return -1;
}

void mt_train_defaults(mt_train_opts *o) {
  memset(o, 0, sizeof *o);
  o->algo = MT_ALGO_SIAMESE;
  o->sizes[0] = 784, o->sizes[1] = 256, o->sizes[2] = 10;
  o->n_layers = 2;
  o->epochs = 3;
  o->batch = 32;
  o->lr = 0.05f;
  o->seed = 1;
  o->accumulate = 1;
  o->compensate = MT_COMP_READBACK;
  o->w_max_factor = 2.0f;
  o->momentum = 0.9f;
  o->important = 0.25f;
  o->importance = MT_IMPORTANCE_SALIENCY;
  o->draws = 1;
  o->favourable_k = 0;
  o->meta_m = 3.0f;
  o->optimizer = MT_OPTIM_SGD;
  o->adam_beta1 = MT_ADAM_BETA1;
  o->adam_beta2 = MT_ADAM_BETA2;
  o->adam_eps = MT_ADAM_EPS;
}

static const char *const optimizer_names[] = {"sgd", "adam"};

const char *mt_optimizer_name(mt_optimizer k) {
  return (unsigned)k < sizeof optimizer_names / sizeof *optimizer_names ? optimizer_names[k] : "unknown";
}

int mt_optimizer_parse(const char *name, mt_optimizer *out) {
  for (unsigned k = 0; k < sizeof optimizer_names / sizeof *optimizer_names; k++)
    if (!strcmp(name, optimizer_names[k])) {
      *out = (mt_optimizer)k;
      return 0;
    }
  return -1;
}

int mt_train_check_optim(const mt_train_opts *o, char *err, size_t errlen) {
  const int host_optim = (unsigned)o->algo < MT_ALGO_COUNT &&
                         (mt_algo_ops_of(o->algo)->flags & MT_ALGO_F_HOST_OPTIM);
  if (o->optimizer != MT_OPTIM_SGD && !host_optim) {
    snprintf(err, errlen, "--optimizer %s is for float and metaplastic, not %s",
             mt_optimizer_name(o->optimizer), mt_algo_name(o->algo));
    return MT_ERR_INVAL;
  }
  if (o->batchnorm && !host_optim) {
    snprintf(err, errlen, "--batchnorm is for float and metaplastic, not %s", mt_algo_name(o->algo));
    return MT_ERR_INVAL;
  }
  if (o->bn_per_task && !o->batchnorm) {
    snprintf(err, errlen, "--batchnorm-state per-task without --batchnorm: there is no BatchNorm "
             "state to keep per task");
    return MT_ERR_INVAL;
  }
  if (o->batchnorm && o->batch < 2) {
    snprintf(err, errlen, "--batchnorm with --batch %u: BatchNorm needs the statistics of a batch "
             "of at least 2 examples", o->batch);
    return MT_ERR_INVAL;
  }
  return 0;
}

float mt_train_important(const mt_train_opts *o, uint32_t l) {
  return o->n_important ? o->important_layer[l] : o->important;
}

/* The number at item, one item of a comma list: 0 with *x and *next (the item after it, or
 * NULL after the last), or -1 if the item is not one number and nothing else (an empty item,
 * trailing text, a number strtod cannot represent). strtod takes "nan", "inf" and hex: the
 * callers' range tests refuse the first two. */
static int list_number(const char *item, double *x, const char **next) {
  char *end = NULL;
  errno = 0;
  *x = strtod(item, &end);
  if (errno || end == item || (*end && *end != ',')) return -1;
  *next = *end ? end + 1 : NULL;
  return 0;
}

int mt_train_parse_important(const char *text, mt_train_opts *o) {
  float v[MT_NN_MAX_LAYERS];
  uint32_t n = 0;
  for (const char *p = text, *next;; p = next) {
    double x;
    if (n == MT_NN_MAX_LAYERS || list_number(p, &x, &next) || !(x >= 0 && x <= 1)) return -1;
    v[n++] = (float)x;
    if (!next) break;
  }
  o->important = v[0];
  o->n_important = n > 1 ? n : 0;
  memset(o->important_layer, 0, sizeof o->important_layer);
  if (n > 1) memcpy(o->important_layer, v, n * sizeof *v);
  return 0;
}

int mt_train_parse_drift_eval(const char *text, mt_train_opts *o, char *err, size_t errlen) {
  double v[MT_TRAIN_MAX_DRIFT_T];
  uint32_t n = 0;
  for (const char *p = text, *next;; p = next) {
    double x;
    size_t len = strcspn(p, ",");
    if (n == MT_TRAIN_MAX_DRIFT_T) {
      snprintf(err, errlen, "more than %u times", MT_TRAIN_MAX_DRIFT_T);
      return -1;
    }
    if (list_number(p, &x, &next) || !(x >= 0 && x <= 1e18)) {
      snprintf(err, errlen, "'%.*s' is not a time in seconds in [0, 1e18]", (int)len, p);
      return -1;
    }
    if (n && !(x > v[n - 1])) {
      snprintf(err, errlen, "'%.*s' is not after the time before it (%g s): the times must increase",
               (int)len, p, v[n - 1]);
      return -1;
    }
    v[n++] = x;
    if (!next) break;
  }
  o->n_drift_t = n;
  memcpy(o->drift_t, v, n * sizeof *v);
  return 0;
}

/* ---- helpers for the algorithms (mt_algo.h) ---- */

int mt_trainer_fail(mt_trainer *t, int code, const char *fmt, ...) {
  assert(code < 0);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->err, t->errlen, fmt, ap);
  va_end(ap);
  return code;
}

int mt_trainer_dev_fail(mt_trainer *t) {
  assert(t->dev);
  /* A map call can refuse before the device saw anything (no device code then): the
   * link or device path is what failed as far as the trainer can tell. */
  int code = mt_dev_errcode(t->dev);
  return mt_trainer_fail(t, code != MT_OK ? code : MT_ERR_IO, "%s", mt_dev_errmsg(t->dev));
}

/* A forward pass fails only in a device's matmul. */
static int forward_fail(mt_trainer *t, int on_device) {
  return on_device ? mt_trainer_dev_fail(t) : mt_trainer_fail(t, MT_ERR_INVAL, "the forward pass failed");
}

/* Weight matrix of layer l (fc: sizes[l] x sizes[l+1]; conv: the im2col
 * matrix k*k*in_c x out_c), its number of weights and of biases. */
size_t mt_trainer_weights(const mt_trainer *t, uint32_t l) {
  const mt_train_opts *o = t->o;
  return (size_t)mt_layer_rows(o->spec, o->sizes, l) * mt_layer_cols(o->spec, o->sizes, l);
}

uint32_t mt_trainer_outputs(const mt_trainer *t, uint32_t l) {
  return mt_layer_cols(t->o->spec, t->o->sizes, l);
}

void mt_trainer_clip(mt_trainer *t, uint32_t l) {
  float lim = mt_map_weight_of(&t->maps[l], t->maps[l].levels - 1);
  size_t n = mt_trainer_weights(t, l);
  float *w = t->net.w[l];
  for (size_t k = 0; k < n; k++) w[k] = w[k] > lim ? lim : (w[k] < -lim ? -lim : w[k]);
}

void mt_trainer_step_dirs(mt_trainer *t) {
  if (t->o->optimizer != MT_OPTIM_ADAM) return;
  mt_adam_t *a = &t->adam;
  mt_adam_begin_step(a);
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    mt_adam_dir(a, 4 * l, t->wk.gw[l], t->wk.gw[l]);
    mt_adam_dir(a, 4 * l + 1, t->wk.gb[l], t->wk.gb[l]);
    if (!mt_mlp_has_bn(&t->net, l)) continue;
    mt_adam_dir(a, 4 * l + 2, t->wk.g_gamma[l], t->wk.g_gamma[l]);
    mt_adam_dir(a, 4 * l + 3, t->wk.g_beta[l], t->wk.g_beta[l]);
  }
}

size_t mt_trainer_bn_len(const mt_trainer *t) {
  size_t n = 0;
  for (uint32_t l = 0; l < t->o->n_layers; l++)
    if (mt_mlp_has_bn(&t->net, l)) n += 4 * (size_t)mt_trainer_outputs(t, l);
  return n;
}

float *mt_trainer_bn_saved(const mt_trainer *t, uint32_t task, uint32_t l, uint32_t which) {
  assert(t->bn_task && task < t->n_tasks && which < 4 && mt_mlp_has_bn(&t->net, l));
  float *p = t->bn_task + task * mt_trainer_bn_len(t);
  for (uint32_t k = 0; k < l; k++)
    if (mt_mlp_has_bn(&t->net, k)) p += 4 * (size_t)mt_trainer_outputs(t, k);
  return p + which * (size_t)mt_trainer_outputs(t, l);
}

/* --batchnorm-state per-task: the live BatchNorm state (t->net) into task k's snapshot. */
static void bn_save_task(mt_trainer *t, uint32_t k) {
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    if (!mt_mlp_has_bn(&t->net, l)) continue;
    const size_t bytes = mt_trainer_outputs(t, l) * sizeof(float);
    memcpy(mt_trainer_bn_saved(t, k, l, 0), t->net.bn_gamma[l], bytes);
    memcpy(mt_trainer_bn_saved(t, k, l, 1), t->net.bn_beta[l], bytes);
    memcpy(mt_trainer_bn_saved(t, k, l, 2), t->net.bn_mean[l], bytes);
    memcpy(mt_trainer_bn_saved(t, k, l, 3), t->net.bn_var[l], bytes);
  }
}

/* Points t->net's BatchNorm at task k's snapshot (saving the live pointers in keep), or back
 * at the live state (k = UINT32_MAX): evaluation only reads it (bn_train 0), so a pointer
 * swap tests task k with its own state without copying or disturbing the live one. */
static void bn_select(mt_trainer *t, uint32_t k, float *keep[][4]) {
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    if (!mt_mlp_has_bn(&t->net, l)) continue;
    float **live[4] = {&t->net.bn_gamma[l], &t->net.bn_beta[l], &t->net.bn_mean[l], &t->net.bn_var[l]};
    for (uint32_t w = 0; w < 4; w++) {
      if (k == UINT32_MAX) {
        *live[w] = keep[l][w];
      } else {
        keep[l][w] = *live[w];
        *live[w] = mt_trainer_bn_saved(t, k, l, w);
      }
    }
  }
}

/* The weights are then read once more to find level changes. */
void mt_trainer_sgd_clipped(mt_trainer *t, const float *const *gw, const float *const *gb) {
  const mt_train_opts *o = t->o;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    float lim = mt_map_weight_of(&t->maps[l], t->maps[l].levels - 1);
    size_t nw = mt_trainer_weights(t, l);
    float *w = t->net.w[l];
    const float *g = gw[l];
    for (size_t k = 0; k < nw; k++) {
      float v = w[k] - o->lr * g[k];
      w[k] = v > lim ? lim : (v < -lim ? -lim : v);
    }
    for (uint32_t k = 0; k < mt_trainer_outputs(t, l); k++) t->net.b[l][k] -= o->lr * gb[l][k];
  }
}

int mt_trainer_program_all(mt_trainer *t) {
  uint32_t flags = t->o->open_loop ? MT_PROG_OPEN_LOOP : 0;
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    mt_trainer_clip(t, l);
    if (mt_map_program(&t->maps[l], t->dev, t->net.w[l], NULL, 0, flags, NULL) != MT_OK)
      return mt_trainer_dev_fail(t);
  }
  return 0;
}

static int device_matmul(void *ctx, uint32_t layer, const float *in, uint32_t batch, float *out) {
  mt_trainer *t = ctx;
  if (t->ops->matmul) return t->ops->matmul(t, layer, in, batch, out);
  return mt_map_matmul(&t->maps[layer], t->dev, in, batch, out);
}

static void load_batch(mt_trainer *t, const mt_dataset_t *d, const uint32_t *idx, uint32_t n) {
  uint32_t px = d->rows * d->cols;
  for (uint32_t b = 0; b < n; b++) {
    const uint8_t *img = d->images + (size_t)idx[b] * px;
    for (uint32_t k = 0; k < px; k++) t->x[(size_t)b * px + k] = img[k] * (1.0f / 255.0f);
    t->y[b] = d->labels[idx[b]];
  }
}

int mt_trainer_evaluate(mt_trainer *t, const mt_dataset_t *test, int on_device, double *accuracy) {
  uint32_t correct = 0;
  t->wk.bn_train = 0; /* BatchNorm: the running statistics, left as they are */
  for (uint32_t s = 0; s < test->count; s += t->o->batch) {
    uint32_t n = test->count - s < t->o->batch ? test->count - s : t->o->batch;
    for (uint32_t b = 0; b < n; b++) t->eval_idx[b] = s + b;
    load_batch(t, test, t->eval_idx, n);
    if (mt_mlp_forward(&t->net, &t->wk, t->x, n, on_device ? device_matmul : NULL, t) != 0)
      return forward_fail(t, on_device);
    uint32_t c = 0;
    mt_mlp_loss(&t->net, &t->wk, t->y, n, &c);
    correct += c;
  }
  *accuracy = test->count ? (double)correct / test->count : 0;
  return 0;
}

/* ---- the loop ---- */

static void shuffle(uint32_t *order, uint32_t n, uint64_t *rng) {
  for (uint32_t i = n; i > 1; i--) {
    uint32_t j = (uint32_t)(mt_splitmix64_next(rng) % i);
    uint32_t tmp = order[i - 1];
    order[i - 1] = order[j];
    order[j] = tmp;
  }
}

static int uses_device(const mt_trainer *t) { return (t->ops->flags & MT_ALGO_F_DEVICE) != 0; }

static void trainer_free(mt_trainer *t) {
  if (t->ops && t->ops->destroy) t->ops->destroy(t);
  mt_mlp_free(&t->net);
  mt_mlp_work_free(&t->wk);
  mt_adam_free(&t->adam);
  for (uint32_t l = 0; l < MT_NN_MAX_LAYERS; l++) mt_map_free(&t->maps[l]);
  free(t->x);
  free(t->y);
  free(t->order);
  free(t->eval_idx);
  free(t->ck_bytes);
  free(t->bn_task);
}

uint32_t mt_train_tiles_needed(const mt_train_opts *o) {
  uint32_t need = 0;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    uint32_t in = mt_layer_rows(o->spec, o->sizes, l), out = mt_layer_cols(o->spec, o->sizes, l);
    need += o->slices ? mt_slice_tiles_needed(in, out, o->slices) : mt_map_tiles_needed(in, out);
  }
  return need;
}

/* Configures and fabricates the tiles the network needs and maps its layers onto them. */
static int setup_device(mt_trainer *t) {
  const mt_train_opts *o = t->o;
  const mt_dev_info *info = mt_dev_get_info(t->dev);
  uint32_t need = mt_train_tiles_needed(o);
  if (need > info->tiles) {
    /* Suggest a larger device, or swapping through this one, only where they can exist. */
    if (need <= MT_MAX_TILES)
      snprintf(t->err, t->errlen, "the network needs %u tiles of %ux%u but %s has %u (open "
               "model://?tiles=%u, or swap tiles through it with --max-tiles %u)", need,
               info->rows, info->cols, mt_dev_uri(t->dev), info->tiles, need, info->tiles);
    else
      snprintf(t->err, t->errlen, "the network needs %u tiles of %ux%u but %s has %u (a device "
               "has at most %u)", need, info->rows, info->cols, mt_dev_uri(t->dev), info->tiles,
               MT_MAX_TILES);
    return MT_ERR_INVAL;
  }
  const mt_preset_t *apply = t->preset;
  int rc = t->ops->prepare ? t->ops->prepare(t, &apply) : 0;
  if (rc != 0) return rc;
  if (mt_preset_apply(apply, t->dev) != MT_OK || mt_dev_seed(t->dev, o->seed) != MT_OK)
    return mt_trainer_dev_fail(t);
  for (uint32_t tile = 0; tile < need; tile++)
    if (mt_dev_fabricate(t->dev, o->seed, tile) != MT_OK) return mt_trainer_dev_fail(t);
  t->level_step = mt_map_level_step(t->preset->level_table, t->preset->levels);
  const uint32_t *cfg = t->preset->cfg;
  uint32_t first = 0;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    uint32_t in = mt_layer_rows(o->spec, o->sizes, l), out = mt_layer_cols(o->spec, o->sizes, l);
    float w_max = o->w_max_factor * sqrtf(6.0f / (float)in);
    /* A conv layer sends every output position of every example: batch x positions rows. */
    uint32_t max_rows = o->batch * mt_layer_positions(o->spec, l);
    rc = mt_map_init(&t->maps[l], in, out, first, t->preset->levels, w_max, t->level_step,
                     cfg[MT_CFG_ADC_MUL], cfg[MT_CFG_ADC_SHIFT], cfg[MT_CFG_DAC_BITS], max_rows,
                     t->err, t->errlen);
    if (rc != 0) return rc;
    first += mt_map_tiles_needed(in, out);
  }
  return t->ops->setup ? t->ops->setup(t) : 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void counters_delta(const uint64_t *a, const uint64_t *b, mt_epoch_stats *s) {
  s->set_pulses = b[MT_CNT_SET_PULSES] - a[MT_CNT_SET_PULSES];
  s->reset_pulses = b[MT_CNT_RESET_PULSES] - a[MT_CNT_RESET_PULSES];
  s->verify_reads = b[MT_CNT_VERIFY_READS] - a[MT_CNT_VERIFY_READS];
  s->cell_reads = b[MT_CNT_CELL_READS] - a[MT_CNT_CELL_READS];
  s->mvms = b[MT_CNT_MVMS] - a[MT_CNT_MVMS];
  s->cells_programmed = b[MT_CNT_CELLS_PROGRAMMED] - a[MT_CNT_CELLS_PROGRAMMED];
  s->updates_skipped = b[MT_CNT_UPDATES_SKIPPED] - a[MT_CNT_UPDATES_SKIPPED];
  s->wv_failures = b[MT_CNT_WV_FAILURES] - a[MT_CNT_WV_FAILURES];
  s->energy_pj = (double)(b[MT_CNT_ENERGY_FJ] - a[MT_CNT_ENERGY_FJ]) * 1e-3;
  s->latency_ns = (double)(b[MT_CNT_LATENCY_PS] - a[MT_CNT_LATENCY_PS]) * 1e-3;
}

static void swap_delta(const mt_swap_stats *a, const mt_swap_stats *b, mt_epoch_stats *s) {
  s->has_swaps = 1;
  s->swaps = b->swaps - a->swaps;
  s->swap_saves = b->saves - a->saves;
  s->swap_transactions = b->transactions - a->transactions;
  s->swap_bytes = b->bytes - a->bytes;
  s->swap_s = b->seconds - a->seconds;
}

static int allocate(mt_trainer *t, const mt_dataset_t *train) {
  const mt_train_opts *o = t->o;
  if (mt_net_init(&t->net, o->sizes, o->spec, o->n_layers, o->seed) != 0 ||
      (o->batchnorm && mt_mlp_enable_bn(&t->net) != 0) ||
      mt_mlp_work_init(&t->wk, &t->net, o->batch) != 0)
    return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory for the network");
  if (o->bn_per_task) {
    /* every task's snapshot starts as the initial state (only those of tasks trained are read) */
    const size_t len = mt_trainer_bn_len(t);
    t->bn_task = malloc(t->n_tasks * len * sizeof *t->bn_task);
    if (!t->bn_task) return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory for the per-task BatchNorm states");
    for (uint32_t k = 0; k < t->n_tasks; k++) bn_save_task(t, k);
  }
  if (o->optimizer == MT_OPTIM_ADAM) {
    size_t n[MT_ADAM_MAX_SLOTS] = {0};
    for (uint32_t l = 0; l < o->n_layers; l++) {
      n[4 * l] = mt_trainer_weights(t, l);
      n[4 * l + 1] = mt_trainer_outputs(t, l);
      n[4 * l + 2] = n[4 * l + 3] = mt_mlp_has_bn(&t->net, l) ? mt_trainer_outputs(t, l) : 0;
    }
    if (mt_adam_init(&t->adam, n, 4 * o->n_layers, o->adam_beta1, o->adam_beta2, o->adam_eps) != 0)
      return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory for Adam's moments");
  }
  t->x = malloc((size_t)o->batch * o->sizes[0] * sizeof *t->x);
  t->y = malloc(o->batch);
  uint32_t n_order = train->count > o->batch ? train->count : o->batch;
  t->order = malloc((size_t)n_order * sizeof *t->order);
  t->eval_idx = malloc((size_t)o->batch * sizeof *t->eval_idx);
  if (!t->x || !t->y || !t->order || !t->eval_idx) return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
  return t->ops->create ? t->ops->create(t) : 0;
}

static int check_inputs(mt_trainer *t, const mt_dataset_t *train, const mt_dataset_t *test) {
  const mt_train_opts *o = t->o;
  if (o->n_layers < 1 || o->n_layers > MT_NN_MAX_LAYERS || o->batch == 0 || o->epochs == 0)
    return mt_trainer_fail(t, MT_ERR_INVAL, "invalid options: need at least one layer, batch >= 1 and epochs >= 1");
  if (train->rows * train->cols != o->sizes[0] || test->rows * test->cols != o->sizes[0])
    return mt_trainer_fail(t, MT_ERR_INVAL, "the network has %u inputs but the images have %ux%u = %u pixels",
                           o->sizes[0], train->rows, train->cols, train->rows * train->cols);
  if (!mt_net_shape_ok(o->sizes, o->spec, o->n_layers))
    return mt_trainer_fail(t, MT_ERR_INVAL, "invalid options: inconsistent network shape");
  if (o->spec[0].conv && (o->spec[0].in_h != train->rows || o->spec[0].in_w != train->cols))
    return mt_trainer_fail(t, MT_ERR_INVAL, "the network takes %ux%ux%u maps but the images are %ux%u",
                           o->spec[0].in_h, o->spec[0].in_w, o->spec[0].in_c, train->rows,
                           train->cols);
  if (o->sizes[o->n_layers] < train->classes)
    return mt_trainer_fail(t, MT_ERR_INVAL, "the network has %u outputs but the dataset has %u classes",
                           o->sizes[o->n_layers], train->classes);
  if (uses_device(t) && (!t->dev || !t->preset))
    return mt_trainer_fail(t, MT_ERR_INVAL, "algorithm %s needs a device and a preset", t->ops->name);
  if (o->slices && !(t->ops->flags & MT_ALGO_F_SLICES))
    return mt_trainer_fail(t, MT_ERR_INVAL, "--slices (bit-sliced weights) is for conventional and biased, not %s",
                           t->ops->name);
  /* An option of another algorithm would be silently ignored: refused instead. */
  if ((o->ssm_compensate || o->ssm_calibrate) && o->algo != MT_ALGO_SSM)
    return mt_trainer_fail(t, MT_ERR_INVAL, "--ssm-%s is for ssm, not %s",
                           o->ssm_compensate ? "compensate" : "calibrate", t->ops->name);
  if (o->changed_only && o->algo != MT_ALGO_CLOSED_LOOP)
    return mt_trainer_fail(t, MT_ERR_INVAL, "--changed-only is for closed-loop, not %s", t->ops->name);
  int rc = mt_train_check_optim(o, t->err, t->errlen);
  if (rc != 0) return rc;
  if (o->n_important && o->n_important != o->n_layers)
    return mt_trainer_fail(t, MT_ERR_INVAL, "--important: %u fractions for a network of %u layers (one "
                           "fraction, or one per layer)", o->n_important, o->n_layers);
  if (o->draws > MT_TRAIN_MAX_DRAWS)
    return mt_trainer_fail(t, MT_ERR_INVAL, "--draws %u: at most %u", o->draws, MT_TRAIN_MAX_DRAWS);
  if (o->draws > 1 && !(t->ops->flags & MT_ALGO_F_OFFLINE))
    return mt_trainer_fail(t, MT_ERR_INVAL, "--draws is for conventional and biased (networks "
                           "trained off the device), not %s", t->ops->name);
  if (o->n_drift_t && !uses_device(t))
    return mt_trainer_fail(t, MT_ERR_INVAL, "--drift-eval drifts the network on the device, but "
                           "%s trains it on the host only", t->ops->name);
  uint32_t slice_bits;
  if (o->slices && mt_slice_check(t->preset->levels, o->slices, &slice_bits, t->err, t->errlen) != 0)
    return MT_ERR_INVAL;
  return 0;
}

/* Accuracy on d, which is task k's (0-based) while task `task` is trained: with
 * --batchnorm-state per-task, a task trained before is tested with the BatchNorm state its
 * own training left (the current task and those not yet trained with the live one). */
static int evaluate_task(mt_trainer *t, const mt_dataset_t *d, uint32_t k, uint32_t task,
                         int on_device, double *accuracy) {
  if (!t->bn_task || k >= task) return mt_trainer_evaluate(t, d, on_device, accuracy);
  float *keep[MT_NN_MAX_LAYERS][4];
  bn_select(t, k, keep);
  int rc = mt_trainer_evaluate(t, d, on_device, accuracy);
  bn_select(t, UINT32_MAX, keep);
  return rc;
}

/* Test accuracy of every task after an epoch of task `task` (0-based), and with
 * validation splits (vals not NULL) their accuracy, measured first: a run with --val draws
 * the device's read noise for them before the test sets' (so it is not the run without). */
static int evaluate_tasks(mt_trainer *t, uint32_t n_tasks, const mt_dataset_t *tests,
                          const mt_dataset_t *vals, uint32_t task, int on_device,
                          mt_epoch_stats *st) {
  int rc;
  if (vals) {
    st->has_val = 1;
    if ((rc = mt_trainer_evaluate(t, &vals[task], on_device, &st->val_accuracy)) != 0) return rc;
    for (uint32_t k = 0; k < n_tasks; k++) {
      if (k == task) st->task_val_accuracy[k] = st->val_accuracy;
      else if ((rc = evaluate_task(t, &vals[k], k, task, on_device, &st->task_val_accuracy[k])) != 0)
        return rc;
    }
  }
  rc = mt_trainer_evaluate(t, &tests[task], on_device, &st->test_accuracy);
  st->task = task + 1;
  st->n_tasks = n_tasks;
  for (uint32_t k = 0; rc == 0 && k < n_tasks; k++) {
    if (k == task) st->task_accuracy[k] = st->test_accuracy;
    else rc = evaluate_task(t, &tests[k], k, task, on_device, &st->task_accuracy[k]);
  }
  return rc;
}

/* --drift-eval: the run's result on the device from its programming (time 0) to each time,
 * in order, every tile by DRIFT from (t_prev + t0) to (t + t0) with one seed for the run (so
 * each device keeps its exponent), then the test set there. The result is the best epoch's
 * network where the epoch has one (st->has_best: the algorithm programs it, use_result), else
 * the network the device holds (the last epoch's). Read noise draws go on as in any
 * evaluation; with drift_nu = drift_nu_sd = 0 nothing drifts. As --draws, it leaves no trace:
 * the device image is put back afterwards, so the checkpoint and a resume with a larger
 * --epochs see the device as the epoch left it. */
static int drift_eval(mt_trainer *t, const mt_dataset_t *test, mt_epoch_stats *st) {
  const mt_train_opts *o = t->o;
  const uint64_t seed = o->seed ^ (0xD51F7ull << 20); /* not FABRICATE's: other draws */
  const uint32_t tiles = mt_train_tiles_needed(o);
  const int best = st->has_best && t->ops->use_result;
  unsigned char *img = NULL;
  size_t img_len = 0;
  if (mt_dev_snapshot_bytes(t->dev, &img, &img_len) != MT_OK) return mt_trainer_dev_fail(t);
  int rc = best ? t->ops->use_result(t, 1) : 0;
  double prev = 0;
  for (uint32_t k = 0; rc == 0 && k < o->n_drift_t; k++) {
    for (uint32_t tile = 0; rc == 0 && tile < tiles; tile++)
      if (mt_dev_drift(t->dev, tile, seed, prev + MT_TRAIN_DRIFT_T0, o->drift_t[k] + MT_TRAIN_DRIFT_T0) != MT_OK)
        rc = mt_trainer_dev_fail(t);
    if (rc == 0) rc = mt_trainer_evaluate(t, test, 1, &st->drift_accuracy[k]);
    st->drift_t[k] = o->drift_t[k];
    prev = o->drift_t[k];
  }
  if (best) t->ops->use_result(t, 0);
  int restored = mt_dev_restore_bytes(t->dev, img, img_len, "the device image before --drift-eval");
  if (restored != MT_OK && rc == 0) rc = mt_trainer_dev_fail(t);
  free(img);
  if (rc == 0) {
    st->n_drift = o->n_drift_t;
    st->drift_epoch = best ? st->best_epoch : st->epoch;
  }
  return rc;
}

/* Task k's examples from their natural order (shuffled at each epoch's start). */
static void start_task(mt_trainer *t, const mt_dataset_t *train) {
  for (uint32_t k = 0; k < train->count; k++) t->order[k] = k;
}

static int run_epochs(mt_trainer *t, uint32_t n_tasks, const mt_dataset_t *trains,
                      const mt_dataset_t *tests, const mt_dataset_t *vals,
                      const mt_train_hooks *hooks) {
  const mt_train_opts *o = t->o;
  const mt_algo_ops *ops = t->ops;
  uint64_t c0[MT_CNT_COUNT] = {0}, c1[MT_CNT_COUNT] = {0};
  int dev_algo = uses_device(t);
  int dev_fwd = (ops->flags & MT_ALGO_F_DEV_FWD) != 0; /* training forward passes on the device */
  /* with several tasks, epochs 1..epochs run once per task; a resumed run
   * starts where its checkpoint stands (mt_train_ckpt_open) */
  uint32_t task = t->task, done = t->done;
  if (!o->resume) {
    t->shuffle_rng = o->seed ^ 0x5DEECE66Dull;
    start_task(t, &trains[0]);
  } else if (done >= o->epochs && task + 1 < n_tasks) {
    /* The checkpoint ended a task: the next one starts as it does in an uninterrupted run. */
    done = 0;
    start_task(t, &trains[++task]);
  }
  if (dev_algo && mt_dev_stats(t->dev, c0, MT_CNT_COUNT) != MT_OK) return mt_trainer_dev_fail(t);
  uint64_t tr0 = dev_algo ? mt_dev_transactions(t->dev) : 0;
  mt_swap_stats sw0, sw1; /* tile swapping's figures, over the same steps as tr0 */
  int swapping = dev_algo && mt_dev_swap_stats(t->dev, &sw0) == MT_OK;
  /* The initial weights are programmed once, counted in epoch 1. */
  int rc = dev_fwd && !o->resume && ops->program_init ? ops->program_init(t) : 0;
  if (rc != 0) return rc;
  const mt_dataset_t *train = &trains[task];
  for (uint32_t e = done + 1; e <= o->epochs; e++) {
    double t0 = now();
    uint64_t cyc0 = 0, cyc1 = 0;
    int has_cycles = dev_algo && mt_dev_cycles(t->dev, &cyc0) == MT_OK;
    shuffle(t->order, train->count, &t->shuffle_rng);
    if (ops->epoch_start) ops->epoch_start(t);
    double loss_sum = 0;
    uint32_t correct = 0;
    for (uint32_t s = 0; s < train->count; s += o->batch) {
      uint32_t n = train->count - s < o->batch ? train->count - s : o->batch;
      load_batch(t, train, t->order + s, n);
      t->wk.bn_train = 1; /* BatchNorm: the batch's statistics (evaluation resets it) */
      if (mt_mlp_forward(&t->net, &t->wk, t->x, n, dev_fwd ? device_matmul : NULL, t) != 0)
        return forward_fail(t, dev_fwd);
      uint32_t c = 0;
      double loss = mt_mlp_loss(&t->net, &t->wk, t->y, n, &c);
      loss_sum += loss * n;
      correct += c;
      if (ops->after_forward && (rc = ops->after_forward(t)) != 0) return rc;
      mt_mlp_backward(&t->net, &t->wk, n);
      if ((rc = ops->step(t)) != 0) return rc;
      if (hooks && hooks->progress)
        hooks->progress(hooks->ctx, task * o->epochs + e, s + n, train->count, loss);
    }
    /* per-task BatchNorm: the state this task's training has left so far is its own */
    if (t->bn_task) bn_save_task(t, task);
    mt_epoch_stats st;
    memset(&st, 0, sizeof st);
    st.epoch = task * o->epochs + e;
    st.train_loss = train->count ? loss_sum / train->count : 0;
    st.train_accuracy = train->count ? (double)correct / train->count : 0;
    if (ops->epoch_end && (rc = ops->epoch_end(t, &tests[task], &st)) != 0) return rc;
    if (dev_algo) {
      st.transactions = mt_dev_transactions(t->dev) - tr0;
      if (swapping) {
        mt_dev_swap_stats(t->dev, &sw1);
        swap_delta(&sw0, &sw1, &st);
      }
      if (mt_dev_stats(t->dev, c1, MT_CNT_COUNT) != MT_OK) return mt_trainer_dev_fail(t);
      counters_delta(c0, c1, &st);
      st.updates_skipped += t->host_skipped;
      t->host_skipped = 0;
    }
    if ((rc = evaluate_tasks(t, n_tasks, tests, vals, task, dev_algo, &st)) != 0) return rc;
    int last = e == o->epochs && task + 1 == n_tasks;
    if (ops->epoch_tested && (rc = ops->epoch_tested(t, &tests[task], &st, last)) != 0) return rc;
    if (last && o->n_drift_t && (rc = drift_eval(t, &tests[task], &st)) != 0) return rc;
    /* Evaluation costs are not training costs: start the next epoch's count here. */
    if (dev_algo && mt_dev_stats(t->dev, c0, MT_CNT_COUNT) != MT_OK) return mt_trainer_dev_fail(t);
    st.wall_s = now() - t0;
    if (has_cycles && mt_dev_cycles(t->dev, &cyc1) == MT_OK) {
      st.has_sim_cycles = 1;
      st.sim_cycles = cyc1 - cyc0;
    }
    /* The epoch's log line first: a crash between the two leaves a checkpoint
     * one epoch behind the log, which the resume cuts back (mt_log_resume). */
    int stop = hooks && hooks->epoch_done ? hooks->epoch_done(hooks->ctx, &st) : 0;
    if (stop < 0) break;
    if (o->checkpoint && (rc = mt_train_ckpt_save(t, n_tasks, trains, tests, task, e)) != 0) return rc;
    /* The next epoch's count starts here: evaluation and the checkpoint's snapshot are not
     * training (and a resumed run has neither before its first epoch). */
    if (dev_algo) tr0 = mt_dev_transactions(t->dev);
    if (swapping) mt_dev_swap_stats(t->dev, &sw0);
    if (stop) break;
    if (e == o->epochs && task + 1 < n_tasks) {
      /* The next task: its examples from their natural order, shuffled as before. */
      train = &trains[++task];
      start_task(t, train);
      e = 0;
    }
  }
  return 0;
}

/* Splits the last o->val examples of each task's training set off as its validation split:
 * fit[k] and val[k] are views into train[k]'s arrays (nothing is copied or freed). */
static int split_val(mt_trainer *t, uint32_t n_tasks, const mt_dataset_t *train, mt_dataset_t *fit,
                     mt_dataset_t *val) {
  const uint32_t n = t->o->val;
  for (uint32_t k = 0; k < n_tasks; k++) {
    fit[k] = val[k] = train[k];
    if (n == 0) continue;
    if (n >= train[k].count)
      return mt_trainer_fail(t, MT_ERR_INVAL, "--val %u: task %u has only %u training examples (the split must "
                             "leave at least one to train on)", n, k + 1, train[k].count);
    fit[k].count = train[k].count - n;
    val[k].count = n;
    val[k].images = train[k].images + (size_t)fit[k].count * train[k].rows * train[k].cols;
    val[k].labels = train[k].labels + fit[k].count;
  }
  return 0;
}

int mt_train_run_tasks(const mt_train_opts *o, uint32_t n_tasks, const mt_dataset_t *all_train,
                       const mt_dataset_t *test, mt_dev *dev, const mt_preset_t *preset,
                       const mt_train_hooks *hooks, char *err, size_t errlen) {
  mt_trainer t;
  memset(&t, 0, sizeof t);
  t.o = o, t.dev = dev, t.preset = preset, t.err = err, t.errlen = errlen;
  if ((unsigned)o->algo >= MT_ALGO_COUNT) {
    snprintf(err, errlen, "unknown algorithm %u", (unsigned)o->algo);
    return MT_ERR_INVAL;
  }
  t.ops = mt_algo_ops_of(o->algo);
  if (n_tasks < 1 || n_tasks > MT_TRAIN_MAX_TASKS) {
    snprintf(err, errlen, "%u tasks: between 1 and %u are supported", n_tasks, MT_TRAIN_MAX_TASKS);
    return MT_ERR_INVAL;
  }
  t.n_tasks = n_tasks;
  mt_dataset_t train[MT_TRAIN_MAX_TASKS], val[MT_TRAIN_MAX_TASKS];
  int rc = split_val(&t, n_tasks, all_train, train, val);
  uint32_t largest = 0;
  for (uint32_t k = 0; k < n_tasks && rc == 0; k++) {
    rc = check_inputs(&t, &train[k], &test[k]);
    if (rc == 0 && train[k].classes != train[0].classes)
      rc = mt_trainer_fail(&t, MT_ERR_INVAL, "task %u has %u classes but task 1 has %u", k + 1, train[k].classes,
                           train[0].classes);
    if (train[k].count > train[largest].count) largest = k;
  }
  if (rc == 0 && o->bn_per_task && n_tasks < 2)
    rc = mt_trainer_fail(&t, MT_ERR_INVAL, "--batchnorm-state per-task is for continual learning: "
                         "it needs --tasks with at least 2 tasks (this run has %u)", n_tasks);
  if (rc == 0) rc = allocate(&t, &train[largest]);
  for (uint32_t k = 0; rc == 0 && (o->checkpoint || o->resume) && k < n_tasks; k++) {
    t.data_crc[k][0] = mt_train_dataset_crc(&train[k]);
    t.data_crc[k][1] = mt_train_dataset_crc(&test[k]);
    t.data_crc[k][2] = o->val ? mt_train_dataset_crc(&val[k]) : 0;
  }
  if (rc == 0 && o->draws > 1 && n_tasks > 1)
    rc = mt_trainer_fail(&t, MT_ERR_INVAL, "--draws %u: for a run of one task (the draws program "
                         "the last epoch's network; with --tasks it would stand for the last task "
                         "only)", o->draws);
  if (rc == 0 && o->resume) rc = mt_train_ckpt_open(&t, n_tasks, train, test);
  /* A finished run would train nothing, so nothing would be drawn: said, not done silently. */
  if (rc == 0 && o->resume && o->draws > 1 && t.done >= o->epochs)
    rc = mt_trainer_fail(&t, MT_ERR_INVAL, "--draws %u: %s holds all %u epochs already, and the "
                         "draws run at the last epoch (resume with a larger --epochs, or run "
                         "again)", o->draws, o->resume, o->epochs);
  if (rc == 0 && uses_device(&t)) rc = setup_device(&t);
  if (rc == 0 && o->resume) rc = mt_train_ckpt_restore(&t);
  if (rc == 0 && o->resume && hooks && hooks->resumed &&
      hooks->resumed(hooks->ctx, t.task * o->epochs + t.done) != 0)
    rc = mt_trainer_fail(&t, MT_ERR_IO, "%s: the caller could not resume from this checkpoint", o->resume);
  if (rc == 0) rc = run_epochs(&t, n_tasks, train, test, o->val ? val : NULL, hooks);
  trainer_free(&t);
  return rc;
}

int mt_train_run(const mt_train_opts *o, const mt_dataset_t *train, const mt_dataset_t *test,
                 mt_dev *dev, const mt_preset_t *preset, const mt_train_hooks *hooks, char *err,
                 size_t errlen) {
  return mt_train_run_tasks(o, 1, train, test, dev, preset, hooks, err, errlen);
}
