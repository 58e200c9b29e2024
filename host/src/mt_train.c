/* Training loop and the update rules of the algorithms (docs/algorithms.md). */
#define _POSIX_C_SOURCE 199309L
#include "mt_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "mt_algo_biased.h"
#include "mt_slice.h"
#include "mt_algo_ssm.h"
#include "mt_algo_meta.h"
#include "mt_ckpt.h"
#include "mt_file.h"
#include "mt_map.h"
#include "mt_protocol.h"

static const char *const algo_names[] = {"float", "closed-loop", "siamese", "sgd-pulse", "ssm",
                                           "conventional", "biased", "metaplastic"};
#define N_ALGOS (sizeof algo_names / sizeof *algo_names)

const char *mt_algo_name(mt_algo a) { return (unsigned)a < N_ALGOS ? algo_names[a] : "unknown"; }

int mt_algo_parse(const char *name, mt_algo *out) {
  for (unsigned k = 0; k < N_ALGOS; k++) {
    if (strcmp(name, algo_names[k]) == 0) {
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
  o->favourable_k = 0;
  o->meta_m = 3.0f;
}

/* Trained in float without the device, then programmed once (mt_algo_biased.c). */
static int is_offline_algo(const mt_train_opts *o) {
  return o->algo == MT_ALGO_CONVENTIONAL || o->algo == MT_ALGO_BIASED;
}

/* Weight matrix of layer l (fc: sizes[l] x sizes[l+1]; conv: the im2col
 * matrix k*k*in_c x out_c), its number of weights and of biases. */
static uint32_t w_rows(const mt_train_opts *o, uint32_t l) { return mt_layer_rows(o->spec, o->sizes, l); }
static uint32_t w_cols(const mt_train_opts *o, uint32_t l) { return mt_layer_cols(o->spec, o->sizes, l); }
static size_t n_weights(const mt_train_opts *o, uint32_t l) { return (size_t)w_rows(o, l) * w_cols(o, l); }

static int is_pulse_algo(const mt_train_opts *o) {
  return o->algo == MT_ALGO_SGD_PULSE || o->algo == MT_ALGO_SSM;
}

typedef struct {
  const mt_train_opts *o;
  mt_dev *dev;
  const mt_preset_t *preset;
  mt_mlp_t net;  /* the float weights being trained (the "Siamese" copy) */
  mt_mlp_work_t wk;
  mt_layer_map_t maps[MT_NN_MAX_LAYERS];
  float *acc_w[MT_NN_MAX_LAYERS], *acc_b[MT_NN_MAX_LAYERS]; /* gradient accumulators */
  float *comp[MT_NN_MAX_LAYERS];   /* programming error carried into the next target */
  float *x;                        /* one batch of inputs */
  uint8_t *y;
  uint32_t *order;                 /* training example order (a permutation, reshuffled each epoch) */
  uint32_t *eval_idx;              /* test example indices of one batch */
  uint32_t steps;                  /* optimizer steps taken (for accumulation) */
  uint64_t shuffle_rng;            /* the generator of the example order */
  uint32_t task, done;             /* where the run starts: task (0-based), its epochs done */
  uint64_t host_skipped;           /* weight updates that needed no programming */
  mt_pulse_state pulse;            /* sgd-pulse / ssm (mt_algo_ssm.c) */
  mt_biased_state biased;          /* conventional / biased (mt_algo_biased.c) */
  mt_charac charac;                /* conventional / biased: the device characterization */
  mt_slice_map_t *sliced;          /* conventional / biased with --slices: one per layer, used
                                    * instead of maps[] on the device */
  mt_meta_t *meta;                 /* metaplastic: the unit's configuration and workspaces */
  uint32_t data_crc[MT_TRAIN_MAX_TASKS][2]; /* checkpoints: CRC-32 of each task's training and
                                             * test examples (images and labels) */
  unsigned char *ck_bytes;         /* --resume: the checked checkpoint until it is restored */
  mt_rbuf ck;                      /* --resume: where ckpt_restore goes on reading it */
  char *err;
  size_t errlen;
} trainer_t;

static int fail(trainer_t *t, const char *fmt, const char *what) {
  snprintf(t->err, t->errlen, fmt, what);
  return -1;
}

static int device_matmul(void *ctx, uint32_t layer, const float *in, uint32_t batch, float *out) {
  trainer_t *t = ctx;
  if (t->sliced) return mt_slice_matmul(&t->sliced[layer], t->dev, in, batch, out);
  return mt_map_matmul(&t->maps[layer], t->dev, in, batch, out);
}

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void shuffle(uint32_t *order, uint32_t n, uint64_t *rng) {
  for (uint32_t i = n; i > 1; i--) {
    uint32_t j = (uint32_t)(splitmix(rng) % i);
    uint32_t tmp = order[i - 1];
    order[i - 1] = order[j];
    order[j] = tmp;
  }
}

static void load_batch(trainer_t *t, const mt_dataset_t *d, const uint32_t *idx, uint32_t n) {
  uint32_t px = d->rows * d->cols;
  for (uint32_t b = 0; b < n; b++) {
    const uint8_t *img = d->images + (size_t)idx[b] * px;
    for (uint32_t k = 0; k < px; k++) t->x[(size_t)b * px + k] = img[k] * (1.0f / 255.0f);
    t->y[b] = d->labels[idx[b]];
  }
}

static int is_device_algo(const mt_train_opts *o) { return o->algo != MT_ALGO_FLOAT; }

static void trainer_free(trainer_t *t) {
  mt_mlp_free(&t->net);
  mt_mlp_work_free(&t->wk);
  for (uint32_t l = 0; l < MT_NN_MAX_LAYERS; l++) {
    mt_map_free(&t->maps[l]);
    free(t->acc_w[l]);
    free(t->acc_b[l]);
    free(t->comp[l]);
  }
  mt_pulse_free(&t->pulse);
  mt_biased_free(&t->biased);
  for (uint32_t l = 0; t->sliced && l < t->o->n_layers; l++) mt_slice_free(&t->sliced[l]);
  free(t->sliced);
  free(t->x);
  free(t->y);
  free(t->order);
  free(t->eval_idx);
  free(t->ck_bytes);
  if (t->meta) mt_meta_free(t->meta);
  free(t->meta);
}

/* --slices: every layer bit-sliced onto its own tiles (the level maps stay
 * for the weight range, but only the slices go to the device); biased
 * training then keeps the important weights on codes whose top slice is in a
 * favourable state. */
static int setup_slices(trainer_t *t, double level_step) {
  const mt_train_opts *o = t->o;
  const uint32_t *cfg = t->preset->cfg;
  t->sliced = calloc(o->n_layers, sizeof *t->sliced);
  if (!t->sliced) return fail(t, "%s", "out of memory");
  uint32_t first = 0;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    uint32_t in = w_rows(o, l), out = w_cols(o, l);
    float w_max = o->w_max_factor * sqrtf(6.0f / (float)in);
    mt_slice_map_t *s = &t->sliced[l];
    if (mt_slice_init(s, in, out, first, t->preset->levels, o->slices, w_max, level_step,
                      cfg[MT_CFG_ADC_MUL], cfg[MT_CFG_ADC_SHIFT], cfg[MT_CFG_DAC_BITS],
                      o->batch * mt_layer_positions(o->spec, l), t->err, t->errlen) != 0)
      return -1;
    first += mt_slice_tiles_needed(in, out, o->slices);
    float *allowed = malloc(((size_t)1 << s->code_bits) * sizeof *allowed);
    if (!allowed) return fail(t, "%s", "out of memory");
    uint32_t n = mt_slice_allowed(s, t->charac.favourable, allowed);
    int rc = mt_biased_use_values(&t->biased, l, allowed, n, (float)s->code_max * s->step, t->err,
                                  t->errlen);
    free(allowed);
    if (rc != 0) return -1;
  }
  return 0;
}

uint32_t mt_train_tiles_needed(const mt_train_opts *o) {
  uint32_t need = 0;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    uint32_t in = mt_layer_rows(o->spec, o->sizes, l), out = mt_layer_cols(o->spec, o->sizes, l);
    need += o->slices ? mt_slice_tiles_needed(in, out, o->slices) : mt_map_tiles_needed(in, out);
  }
  return need;
}

/* Fabricates the tiles the network needs and maps its layers onto them. */
static int setup_device(trainer_t *t) {
  const mt_train_opts *o = t->o;
  const mt_dev_info *info = mt_dev_get_info(t->dev);
  uint32_t need = mt_train_tiles_needed(o);
  if (need > info->tiles) {
    /* Suggest a larger device only where one exists. */
    snprintf(t->err, t->errlen, "the network needs %u tiles of %ux%u but %s has %u (%s%u)", need,
             info->rows, info->cols, mt_dev_uri(t->dev), info->tiles,
             need <= MT_MAX_TILES ? "open model://?tiles=" : "a device has at most ",
             need <= MT_MAX_TILES ? need : MT_MAX_TILES);
    return -1;
  }
  /* conventional/biased: characterize another die first (both, so that the
   * device's noise streams match); the preset and seed are then set anew. A
   * resumed run has the characterization from its checkpoint (ckpt_open), and
   * the device's state comes from there too. */
  if (is_offline_algo(o) && !o->resume &&
      mt_characterize(t->dev, t->preset, 0, o->seed ^ MT_CHAR_SEED_XOR, MT_CHAR_DEFAULT_SAMPLES,
                      MT_CHAR_DEFAULT_READS, o->favourable_k, &t->charac, t->err, t->errlen) != 0)
    return -1;
  const mt_preset_t *preset = t->preset;
  if (o->algo == MT_ALGO_METAPLASTIC) {
    t->meta = calloc(1, sizeof *t->meta);
    if (!t->meta) return fail(t, "%s", "out of memory");
    if (mt_meta_init(t->meta, t->preset, o->meta_m, (int)o->open_loop, t->err, t->errlen) != 0) {
      free(t->meta);
      t->meta = NULL;
      return -1;
    }
    preset = &t->meta->preset; /* table from meta_m, index shift for L levels */
  }
  if (mt_preset_apply(preset, t->dev) != MT_OK || mt_dev_seed(t->dev, o->seed) != MT_OK)
    return fail(t, "%s", mt_dev_errmsg(t->dev));
  for (uint32_t tile = 0; tile < need; tile++)
    if (mt_dev_fabricate(t->dev, o->seed, tile) != MT_OK) return fail(t, "%s", mt_dev_errmsg(t->dev));
  double step = mt_map_level_step(t->preset->level_table, t->preset->levels);
  const uint32_t *cfg = t->preset->cfg;
  uint32_t first = 0;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    uint32_t in = w_rows(o, l), out = w_cols(o, l);
    float w_max = o->w_max_factor * sqrtf(6.0f / (float)in);
    /* A conv layer sends every output position of every example: batch x positions rows. */
    uint32_t max_rows = o->batch * mt_layer_positions(o->spec, l);
    if (mt_map_init(&t->maps[l], in, out, first, t->preset->levels, w_max, step,
                    cfg[MT_CFG_ADC_MUL], cfg[MT_CFG_ADC_SHIFT], cfg[MT_CFG_DAC_BITS], max_rows,
                    t->err, t->errlen) != 0)
      return -1;
    first += mt_map_tiles_needed(in, out);
    size_t n = (size_t)in * out;
    t->comp[l] = calloc(n, sizeof *t->comp[l]);
    if (!t->comp[l]) return fail(t, "%s", "out of memory");
  }
  if (is_pulse_algo(o)) {
    mt_pulse_opts po = {o->algo == MT_ALGO_SSM, o->momentum, o->seed, MT_SSM_CALIB_CYCLES,
                        MT_SSM_CALIB_PULSES};
    return mt_pulse_init(&t->pulse, &po, t->preset, t->maps, o->n_layers, t->err, t->errlen);
  }
  if (is_offline_algo(o) &&
      mt_biased_init(&t->biased, &t->net, t->maps, t->charac.favourable,
                     o->algo == MT_ALGO_BIASED ? o->important : 0.0f, t->err, t->errlen) != 0)
    return -1;
  return o->slices ? setup_slices(t, step) : 0;
}

/* conventional/biased: the network as it stands is programmed once onto
 * freshly fabricated tiles (the same die: the run's seed), every weight from
 * its reset state. */
static int deploy(trainer_t *t) {
  const mt_train_opts *o = t->o;
  uint32_t flags = o->open_loop ? MT_PROG_OPEN_LOOP : 0;
  for (uint32_t l = 0; t->sliced && l < o->n_layers; l++) {
    mt_slice_map_t *s = &t->sliced[l];
    for (uint32_t k = 0; k < s->n_slices; k++) {
      mt_layer_map_t *m = &s->slice[k];
      for (uint32_t i = 0; i < m->row_blocks * m->col_blocks; i++)
        if (mt_dev_fabricate(t->dev, o->seed, m->first_tile + i) != MT_OK) return MT_ERR_DEVICE;
      for (size_t i = 0; i < (size_t)m->n_in * m->n_out; i++) m->level[i] = MT_LEVEL_NONE;
    }
    int rc = mt_slice_program(s, t->dev, t->net.w[l], flags);
    if (rc != MT_OK) return rc;
  }
  for (uint32_t l = 0; !t->sliced && l < o->n_layers; l++) {
    mt_layer_map_t *m = &t->maps[l];
    uint32_t tiles = m->row_blocks * m->col_blocks;
    for (uint32_t k = 0; k < tiles; k++)
      if (mt_dev_fabricate(t->dev, o->seed, m->first_tile + k) != MT_OK) return MT_ERR_DEVICE;
    for (size_t k = 0; k < (size_t)m->n_in * m->n_out; k++) m->level[k] = MT_LEVEL_NONE;
    int rc = mt_map_program(m, t->dev, t->net.w[l], NULL, 0, flags, NULL);
    if (rc != MT_OK) return rc;
  }
  return MT_OK;
}

static void clip_weights(trainer_t *t, uint32_t l) {
  float lim = mt_map_weight_of(&t->maps[l], t->maps[l].levels - 1);
  size_t n = n_weights(t->o, l);
  float *w = t->net.w[l];
  for (size_t k = 0; k < n; k++) w[k] = w[k] > lim ? lim : (w[k] < -lim ? -lim : w[k]);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Reads back the weights whose level just changed (the list mt_map_program
 * keeps, sorted into row-major order: the device's read noise is drawn in
 * that order) and keeps, for each, the difference between the level's ideal
 * weight and what the device holds. */
static int readback(trainer_t *t, uint32_t l) {
  mt_layer_map_t *m = &t->maps[l];
  double step = mt_map_level_step(t->preset->level_table, t->preset->levels);
  double c = (m->levels - 1) / 2.0;
  /* Programming order is tile by tile; within a tile it is row-major already. */
  if (m->col_blocks > 1) qsort(m->changed, m->n_changed, sizeof *m->changed, cmp_u32);
  /* Weight 0 sits c level steps above level 0's conductance difference. */
  uint32_t e0 = t->preset->level_table[0];
  double d0 = (double)((int32_t)(e0 & 0xFFFFu) - (int32_t)(e0 >> 16)) + c * step;
  /* The cells go in READ_LISTs of up to READBACK_RUN cells of one tile: sensed in the same
   * order, with the same draws and counters, as one READ_CELLS per cell, but one command (and
   * on usb:// one round trip) per run instead of per cell. */
  enum { READBACK_RUN = 1024 };
  uint32_t cells[READBACK_RUN];
  uint16_t gp[READBACK_RUN], gm[READBACK_RUN];
  for (size_t at = 0; at < m->n_changed;) {
    uint32_t tile = 0, n = 0;
    for (; at + n < m->n_changed && n < READBACK_RUN; n++) {
      size_t k = m->changed[at + n];
      uint32_t i = (uint32_t)(k / m->n_out), j = (uint32_t)(k % m->n_out);
      uint32_t tl = m->first_tile + (i / MT_ROWS) * m->col_blocks + j / MT_COLS;
      if (n > 0 && tl != tile) break;
      tile = tl;
      cells[n] = (i % MT_ROWS) << 20 | (j % MT_COLS) << 8;
    }
    if (mt_dev_read_list(t->dev, tile, 0, cells, n, gp, gm) != MT_OK) return MT_ERR_DEVICE;
    for (uint32_t q = 0; q < n; q++) {
      size_t k = m->changed[at + q];
      double achieved = ((double)gp[q] - gm[q] - d0) / step * m->delta;
      t->comp[l][k] = mt_map_weight_of(m, m->level[k]) - (float)achieved;
    }
    at += n;
  }
  return MT_OK;
}

/* Programs layer l's levels after an update, as the algorithm prescribes. */
static int program_layer(trainer_t *t, uint32_t l) {
  const mt_train_opts *o = t->o;
  mt_layer_map_t *m = &t->maps[l];
  uint32_t flags = o->open_loop ? MT_PROG_OPEN_LOOP : 0;
  mt_prog_result res = {0, 0, 0};
  if (o->algo == MT_ALGO_CLOSED_LOOP) return mt_map_program(m, t->dev, t->net.w[l], NULL, 1, flags, NULL);
  const float *comp = o->compensate == MT_COMP_READBACK ? t->comp[l] : NULL;
  int rc = mt_map_program(m, t->dev, t->net.w[l], comp, 0, flags, &res);
  t->host_skipped += res.skipped;
  if (rc == MT_OK && o->compensate == MT_COMP_READBACK) rc = readback(t, l);
  return rc;
}

/* One optimizer step from the gradients in t->wk. */
/* SGD step and clipping to the top level in one pass over the weights (the
 * weights are then read once more to find level changes). */
static void sgd_clipped(trainer_t *t, const float *const *gw, const float *const *gb) {
  const mt_train_opts *o = t->o;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    float lim = mt_map_weight_of(&t->maps[l], t->maps[l].levels - 1);
    size_t nw = n_weights(o, l);
    float *w = t->net.w[l];
    const float *g = gw[l];
    for (size_t k = 0; k < nw; k++) {
      float v = w[k] - o->lr * g[k];
      w[k] = v > lim ? lim : (v < -lim ? -lim : v);
    }
    for (uint32_t k = 0; k < w_cols(o, l); k++) t->net.b[l][k] -= o->lr * gb[l][k];
  }
}

static int update(trainer_t *t) {
  const mt_train_opts *o = t->o;
  if (!is_device_algo(o)) {
    mt_mlp_sgd(&t->net, &t->wk, o->lr);
    return MT_OK;
  }
  if (o->algo == MT_ALGO_METAPLASTIC) {
    /* Biases on the host; weights: the unit applies the updates to its hidden
     * weights, programs the level changes, and t->net.w gets the levels back. */
    for (uint32_t l = 0; l < o->n_layers; l++) {
      for (uint32_t k = 0; k < w_cols(o, l); k++) t->net.b[l][k] -= o->lr * t->wk.gb[l][k];
      mt_prog_result res = {0, 0, 0};
      int rc = mt_meta_step(t->meta, &t->maps[l], t->dev, t->wk.gw[l], o->lr, t->net.w[l], &res);
      if (rc != MT_OK) return rc;
    }
    return MT_OK;
  }
  if (is_pulse_algo(o)) return mt_pulse_step(&t->pulse, t->dev, &t->net, &t->wk, o->lr);
  if (is_offline_algo(o)) {
    mt_biased_step(&t->biased, &t->net, &t->wk, o->lr);
    return MT_OK;
  }
  if (o->algo != MT_ALGO_SIAMESE || o->accumulate <= 1) {
    sgd_clipped(t, (const float *const *)t->wk.gw, (const float *const *)t->wk.gb);
  } else {
    for (uint32_t l = 0; l < o->n_layers; l++) {
      size_t nw = n_weights(o, l);
      for (size_t k = 0; k < nw; k++) t->acc_w[l][k] += t->wk.gw[l][k];
      for (uint32_t k = 0; k < w_cols(o, l); k++) t->acc_b[l][k] += t->wk.gb[l][k];
    }
    if (++t->steps % o->accumulate != 0) return MT_OK;
    sgd_clipped(t, (const float *const *)t->acc_w, (const float *const *)t->acc_b);
    for (uint32_t l = 0; l < o->n_layers; l++) {
      memset(t->acc_w[l], 0, n_weights(o, l) * sizeof(float));
      memset(t->acc_b[l], 0, w_cols(o, l) * sizeof(float));
    }
  }
  for (uint32_t l = 0; l < o->n_layers; l++) {
    int rc = program_layer(t, l);
    if (rc != MT_OK) return rc;
  }
  return MT_OK;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int evaluate(trainer_t *t, const mt_dataset_t *test, int on_device, double *accuracy) {
  uint32_t correct = 0;
  for (uint32_t s = 0; s < test->count; s += t->o->batch) {
    uint32_t n = test->count - s < t->o->batch ? test->count - s : t->o->batch;
    for (uint32_t b = 0; b < n; b++) t->eval_idx[b] = s + b;
    load_batch(t, test, t->eval_idx, n);
    int rc = mt_mlp_forward(&t->net, &t->wk, t->x, n, on_device ? device_matmul : NULL, t);
    if (rc != 0) return rc;
    uint32_t c = 0;
    mt_mlp_loss(&t->net, &t->wk, t->y, n, &c);
    correct += c;
  }
  *accuracy = test->count ? (double)correct / test->count : 0;
  return 0;
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

static int allocate(trainer_t *t, const mt_dataset_t *train) {
  const mt_train_opts *o = t->o;
  if (mt_net_init(&t->net, o->sizes, o->spec, o->n_layers, o->seed) != 0 ||
      mt_mlp_work_init(&t->wk, &t->net, o->batch) != 0)
    return fail(t, "%s", "out of memory for the network");
  for (uint32_t l = 0; l < o->n_layers; l++) {
    if (o->algo != MT_ALGO_SIAMESE || o->accumulate <= 1) continue;
    t->acc_w[l] = calloc(n_weights(o, l), sizeof(float));
    t->acc_b[l] = calloc(w_cols(o, l), sizeof(float));
    if (!t->acc_w[l] || !t->acc_b[l]) return fail(t, "%s", "out of memory");
  }
  t->x = malloc((size_t)o->batch * o->sizes[0] * sizeof *t->x);
  t->y = malloc(o->batch);
  uint32_t n_order = train->count > o->batch ? train->count : o->batch;
  t->order = malloc((size_t)n_order * sizeof *t->order);
  t->eval_idx = malloc((size_t)o->batch * sizeof *t->eval_idx);
  return t->x && t->y && t->order && t->eval_idx ? 0 : fail(t, "%s", "out of memory");
}

static int check_inputs(trainer_t *t, const mt_dataset_t *train, const mt_dataset_t *test) {
  const mt_train_opts *o = t->o;
  if (o->n_layers < 1 || o->n_layers > MT_NN_MAX_LAYERS || o->batch == 0 || o->epochs == 0)
    return fail(t, "%s", "invalid options: need at least one layer, batch >= 1 and epochs >= 1");
  if (train->rows * train->cols != o->sizes[0] || test->rows * test->cols != o->sizes[0]) {
    snprintf(t->err, t->errlen, "the network has %u inputs but the images have %ux%u = %u pixels",
             o->sizes[0], train->rows, train->cols, train->rows * train->cols);
    return -1;
  }
  if (!mt_net_shape_ok(o->sizes, o->spec, o->n_layers))
    return fail(t, "%s", "invalid options: inconsistent network shape");
  if (o->spec[0].conv && (o->spec[0].in_h != train->rows || o->spec[0].in_w != train->cols)) {
    snprintf(t->err, t->errlen, "the network takes %ux%ux%u maps but the images are %ux%u",
             o->spec[0].in_h, o->spec[0].in_w, o->spec[0].in_c, train->rows, train->cols);
    return -1;
  }
  if (o->sizes[o->n_layers] < train->classes) {
    snprintf(t->err, t->errlen, "the network has %u outputs but the dataset has %u classes",
             o->sizes[o->n_layers], train->classes);
    return -1;
  }
  if (is_device_algo(o) && (!t->dev || !t->preset))
    return fail(t, "algorithm %s needs a device and a preset", mt_algo_name(o->algo));
  if (o->slices && !is_offline_algo(o))
    return fail(t, "--slices (bit-sliced weights) is for conventional and biased, not %s",
                mt_algo_name(o->algo));
  uint32_t slice_bits;
  if (o->slices && mt_slice_check(t->preset->levels, o->slices, &slice_bits, t->err, t->errlen) != 0)
    return -1;
  return 0;
}

/* ---- checkpoints ---------------------------------------------------------
 * One file holds everything a later epoch depends on: the options it was
 * made with, where the run stands (task and epoch), the shuffling generator
 * and the current example order, the float weights, gradient accumulators,
 * the algorithm's own state (sgd-pulse/ssm: gains, momentum, rounding
 * generator; conventional/biased: characterization, latent weights),
 * compensation terms, level mirrors and the device's whole state. It is
 * written atomically with a CRC-32 and read back in two parts: the first
 * (ckpt_open, before the device is touched) checks the file and every option
 * and restores the host state that needs no device; the second (ckpt_restore,
 * once the trainer is set up) the rest, the device image last. So an
 * interrupted run continues exactly as if it had not stopped.
 *
 * Layout (little-endian words): magic, format, the option fingerprint (count,
 * then key and value per entry), task, epochs done in it, shuffling generator,
 * optimizer steps, the task's example order; per layer weights, biases and
 * (siamese --accumulate) accumulators; conventional/biased: the
 * characterization. Second part: per layer compensation terms and level
 * mirror (device algorithms); sgd-pulse/ssm or conventional/biased state;
 * device image length and image; CRC-32 of everything before it. */

#define CKPT_MAGIC 0x4B43544Du /* "MTCK" */
#define CKPT_FORMAT 2u         /* 1: before sgd-pulse/ssm/conventional/biased/--tasks (refused) */
#define CKPT_MAX_BYTES ((size_t)1 << 31)
#define CKPT_MAX_FP 128 /* the longest fingerprint (8 layers, 8 tasks) has 86 entries */

typedef enum { FPK_INT, FPK_FLOAT, FPK_ALGO, FPK_HEX } fp_kind;

/* Keys of the fingerprint: the file stores the index, so a mismatch is named. */
static const struct {
  const char *name;
  fp_kind kind;
} fp_keys[] = {
  {"algorithm", FPK_ALGO},       {"layers", FPK_INT},           {"layer size", FPK_INT},
  {"conv layer", FPK_INT},       {"conv kernel", FPK_INT},      {"conv input channels", FPK_INT},
  {"conv pool", FPK_INT},        {"batch", FPK_INT},            {"learning rate", FPK_FLOAT},
  {"seed (low word)", FPK_INT},  {"seed (high word)", FPK_INT}, {"accumulate", FPK_INT},
  {"compensate", FPK_INT},       {"w-max", FPK_FLOAT},          {"open-loop", FPK_INT},
  {"levels", FPK_INT},           {"preset configuration (CRC-32)", FPK_HEX},
  {"tasks", FPK_INT},            {"training examples", FPK_INT}, {"epochs per task", FPK_INT},
  {"meta-m", FPK_FLOAT},         {"momentum", FPK_FLOAT},       {"important", FPK_FLOAT},
  {"favourable", FPK_INT},        {"training data (CRC-32)", FPK_HEX},
  {"test examples", FPK_INT},     {"test data (CRC-32)", FPK_HEX}, {"slices", FPK_INT},
};
enum {
  FP_ALGO, FP_LAYERS, FP_SIZE, FP_CONV, FP_CONV_K, FP_CONV_C, FP_CONV_POOL, FP_BATCH, FP_LR,
  FP_SEED_LO, FP_SEED_HI, FP_ACCUMULATE, FP_COMPENSATE, FP_WMAX, FP_OPEN_LOOP, FP_LEVELS,
  FP_PRESET, FP_TASKS, FP_EXAMPLES, FP_EPOCHS, FP_META_M, FP_MOMENTUM, FP_IMPORTANT,
  FP_FAVOURABLE, FP_TRAIN_CRC, FP_TEST_COUNT, FP_TEST_CRC, FP_SLICES, FP_NKEYS
};

typedef struct {
  uint32_t key, value;
} fp_entry;

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static void fp_format(uint32_t key, uint32_t v, char *out, size_t n) {
  float f;
  memcpy(&f, &v, 4);
  switch (key < FP_NKEYS ? fp_keys[key].kind : FPK_INT) {
  case FPK_FLOAT: /* the shortest text that reads back as the same float */
    for (int digits = 6; digits <= 9; digits++) {
      snprintf(out, n, "%.*g", digits, (double)f);
      if (strtof(out, NULL) == f) break;
    }
    break;
  case FPK_ALGO: snprintf(out, n, "%s", mt_algo_name((mt_algo)v)); break;
  case FPK_HEX: snprintf(out, n, "0x%08x", v); break;
  default: snprintf(out, n, "%u", v); break;
  }
}

/* CRC-32 of what the preset configures (device words, levels, level table,
 * window), little-endian: a checkpoint is refused under another preset. */
static uint32_t preset_crc(const mt_preset_t *p) {
  if (!p) return 0;
  uint32_t words[MT_CFG_COUNT + 3 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS];
  size_t n = 0;
  for (uint32_t k = 0; k < MT_CFG_COUNT; k++) words[n++] = p->cfg[k];
  words[n++] = p->levels, words[n++] = p->level_lo, words[n++] = p->level_hi;
  uint32_t lv = p->levels <= MT_MAX_LEVELS ? p->levels : MT_MAX_LEVELS;
  for (uint32_t k = 0; k < lv * MT_LEVEL_ENTRY_WORDS; k++) words[n++] = p->level_table[k];
  unsigned char bytes[sizeof words];
  for (size_t k = 0; k < n; k++)
    for (int i = 0; i < 4; i++) bytes[4 * k + i] = (unsigned char)(words[k] >> (8 * i));
  return (uint32_t)crc32(0L, bytes, (uInt)(4 * n));
}

/* CRC-32 of a dataset's images and labels. */
static uint32_t dataset_crc(const mt_dataset_t *d) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const size_t n = (size_t)d->count * d->rows * d->cols, chunk = (size_t)1 << 30;
  for (size_t off = 0; off < n; off += chunk)
    crc = crc32(crc, d->images + off, (uInt)(n - off < chunk ? n - off : chunk));
  return (uint32_t)crc32(crc, d->labels, d->count);
}

/* What must match between the saved run and the resumed one, in order. The
 * test sets too: evaluation draws the device's read noise, so they shape the
 * epochs after it. */
static uint32_t fingerprint(const trainer_t *t, uint32_t n_tasks, const mt_dataset_t *trains,
                            const mt_dataset_t *tests, fp_entry *fp) {
  const mt_train_opts *o = t->o;
  uint32_t k = 0;
#define FP(K_, V_) (k < CKPT_MAX_FP ? (void)(fp[k].key = (K_), fp[k++].value = (uint32_t)(V_)) : (void)0)
  FP(FP_ALGO, o->algo);
  FP(FP_LAYERS, o->n_layers);
  for (uint32_t l = 0; l <= o->n_layers; l++) FP(FP_SIZE, o->sizes[l]);
  for (uint32_t l = 0; l < o->n_layers; l++)
    if (o->spec[l].conv) {
      FP(FP_CONV, l);
      FP(FP_CONV_K, o->spec[l].k);
      FP(FP_CONV_C, o->spec[l].in_c);
      FP(FP_CONV_POOL, o->spec[l].pool * 4u + o->spec[l].pool_kind);
    }
  FP(FP_BATCH, o->batch);
  FP(FP_LR, f32_bits(o->lr));
  FP(FP_SEED_LO, o->seed);
  FP(FP_SEED_HI, o->seed >> 32);
  FP(FP_ACCUMULATE, o->accumulate);
  FP(FP_COMPENSATE, o->compensate);
  FP(FP_WMAX, f32_bits(o->w_max_factor));
  FP(FP_OPEN_LOOP, o->open_loop);
  FP(FP_LEVELS, t->preset ? t->preset->levels : 0);
  FP(FP_PRESET, preset_crc(t->preset));
  FP(FP_TASKS, n_tasks);
  for (uint32_t k2 = 0; k2 < n_tasks; k2++) {
    FP(FP_EXAMPLES, trains[k2].count);
    FP(FP_TRAIN_CRC, t->data_crc[k2][0]);
    FP(FP_TEST_COUNT, tests[k2].count);
    FP(FP_TEST_CRC, t->data_crc[k2][1]);
  }
  /* One task may grow --epochs on resume; with several, the task boundaries depend on it. */
  if (n_tasks > 1) FP(FP_EPOCHS, o->epochs);
  if (o->algo == MT_ALGO_METAPLASTIC) FP(FP_META_M, f32_bits(o->meta_m));
  if (o->algo == MT_ALGO_SSM) FP(FP_MOMENTUM, f32_bits(o->momentum));
  if (o->algo == MT_ALGO_BIASED) {
    FP(FP_IMPORTANT, f32_bits(o->important));
    FP(FP_FAVOURABLE, o->favourable_k);
  }
  if (is_offline_algo(o)) FP(FP_SLICES, o->slices);
#undef FP
  return k;
}

static int save_checkpoint(trainer_t *t, uint32_t n_tasks, const mt_dataset_t *trains,
                           const mt_dataset_t *tests, uint32_t task, uint32_t epoch) {
  const mt_train_opts *o = t->o;
  mt_wbuf b = {NULL, 0, 0, 0};
  fp_entry fp[CKPT_MAX_FP];
  uint32_t nfp = fingerprint(t, n_tasks, trains, tests, fp);
  mt_wbuf_u32(&b, CKPT_MAGIC);
  mt_wbuf_u32(&b, CKPT_FORMAT);
  mt_wbuf_u32(&b, nfp);
  for (uint32_t k = 0; k < nfp; k++) mt_wbuf_u32(&b, fp[k].key), mt_wbuf_u32(&b, fp[k].value);
  /* First part: what ckpt_open restores before the trainer is set up. */
  mt_wbuf_u32(&b, task);
  mt_wbuf_u32(&b, epoch);
  mt_wbuf_u64(&b, t->shuffle_rng);
  mt_wbuf_u32(&b, t->steps);
  for (uint32_t k = 0; k < trains[task].count; k++) mt_wbuf_u32(&b, t->order[k]);
  for (uint32_t l = 0; l < o->n_layers; l++) {
    size_t nw = n_weights(o, l);
    mt_wbuf_f32(&b, t->net.w[l], nw);
    mt_wbuf_f32(&b, t->net.b[l], w_cols(o, l));
    if (t->acc_w[l]) {
      mt_wbuf_f32(&b, t->acc_w[l], nw);
      mt_wbuf_f32(&b, t->acc_b[l], w_cols(o, l));
    }
  }
  if (is_offline_algo(o)) mt_charac_save(&t->charac, &b);
  /* Second part: ckpt_restore. */
  for (uint32_t l = 0; l < o->n_layers; l++) {
    if (t->comp[l]) mt_wbuf_f32(&b, t->comp[l], n_weights(o, l));
    if (t->maps[l].level) mt_wbuf_u16(&b, t->maps[l].level, n_weights(o, l));
  }
  if (is_pulse_algo(o)) mt_pulse_save(&t->pulse, &b);
  if (is_offline_algo(o)) mt_biased_save(&t->biased, &b);
  unsigned char *img = NULL;
  size_t img_len = 0;
  if (t->dev && mt_dev_snapshot_bytes(t->dev, &img, &img_len) != MT_OK) {
    free(b.buf);
    return fail(t, "%s", mt_dev_errmsg(t->dev));
  }
  mt_wbuf_u64(&b, img_len);
  mt_wbuf_bytes(&b, img, img_len);
  free(img);
  mt_wbuf_u32(&b, b.oom ? 0 : (uint32_t)crc32(0L, b.buf, (uInt)b.len));
  int rc = b.oom ? fail(t, "%s", "out of memory for the checkpoint")
                 : mt_write_atomic(o->checkpoint, b.buf, b.len, t->err, t->errlen);
  free(b.buf);
  return rc;
}

/* Reads and checks the fingerprint at b against this run's; 0, or -1 with a
 * message naming the first option that differs and both values. */
static int check_fingerprint(trainer_t *t, mt_rbuf *b, uint32_t n_tasks, const mt_dataset_t *trains,
                             const mt_dataset_t *tests) {
  const char *path = t->o->resume;
  fp_entry fp[CKPT_MAX_FP];
  uint32_t nfp = fingerprint(t, n_tasks, trains, tests, fp);
  uint32_t nfile = mt_rbuf_u32(b);
  /* The count is checked against the file's length before any entry is read. */
  if (b->short_read || nfile > CKPT_MAX_FP || (size_t)nfile * 8 > b->len - b->pos) {
    snprintf(t->err, t->errlen, "%s: inconsistent content (%u option entries)", path, nfile);
    return -1;
  }
  char want[64], got[64];
  for (uint32_t k = 0; k < nfile && k < nfp; k++) {
    uint32_t key = mt_rbuf_u32(b), v = mt_rbuf_u32(b);
    if (key >= FP_NKEYS) {
      snprintf(t->err, t->errlen, "%s: inconsistent content (option key %u)", path, key);
      return -1;
    }
    fp_format(key, v, got, sizeof got);
    if (key != fp[k].key) {
      fp_format(fp[k].key, fp[k].value, want, sizeof want);
      snprintf(t->err, t->errlen, "%s: was written with other options (%s %s where this run has %s %s)",
               path, fp_keys[key].name, got, fp_keys[fp[k].key].name, want);
      return -1;
    }
    if (v != fp[k].value) {
      fp_format(key, fp[k].value, want, sizeof want);
      snprintf(t->err, t->errlen, "%s: was written with %s %s, this run has %s", path,
               fp_keys[key].name, got, want);
      return -1;
    }
  }
  if (nfile != nfp) {
    snprintf(t->err, t->errlen, "%s: was written with other options (%u settings, this run has %u)",
             path, nfile, nfp);
    return -1;
  }
  return 0;
}

/* 1 if order[0..n) is a permutation of 0..n-1. */
static int is_permutation(const uint32_t *order, uint32_t n) {
  unsigned char *seen = calloc((size_t)n / 8 + 1, 1);
  int ok = seen != NULL;
  for (uint32_t k = 0; ok && k < n; k++) {
    uint32_t v = order[k];
    ok = v < n && !(seen[v / 8] & (1u << (v % 8)));
    if (ok) seen[v / 8] |= (unsigned char)(1u << (v % 8));
  }
  free(seen);
  return ok;
}

/* --resume, first part (before the device is touched): reads the file,
 * checks magic, format, checksum and every option, and restores the run's
 * position, the example order, weights and accumulators, and for
 * conventional/biased the characterization (setup_device then does not
 * measure again). Keeps the file for ckpt_restore. */
static int ckpt_open(trainer_t *t, uint32_t n_tasks, const mt_dataset_t *trains,
                     const mt_dataset_t *tests) {
  const mt_train_opts *o = t->o;
  const char *path = o->resume;
  size_t n = 0;
  if (mt_read_file(path, CKPT_MAX_BYTES, &t->ck_bytes, &n, t->err, t->errlen) != 0) return -1;
  mt_rbuf b = {t->ck_bytes, n, 0, 0};
  uint32_t magic = mt_rbuf_u32(&b), format = mt_rbuf_u32(&b);
  if (n < 16 || magic != CKPT_MAGIC) {
    snprintf(t->err, t->errlen, "%s: not a memtile checkpoint (format %u)", path, CKPT_FORMAT);
    return -1;
  }
  if (format != CKPT_FORMAT) {
    snprintf(t->err, t->errlen, "%s: checkpoint format %u, written by %s memtile; this one reads "
             "format %u only (start the run again)", path, format,
             format < CKPT_FORMAT ? "an older" : "a newer", CKPT_FORMAT);
    return -1;
  }
  mt_rbuf tail = {t->ck_bytes + n - 4, 4, 0, 0};
  if ((uint32_t)crc32(0L, t->ck_bytes, (uInt)(n - 4)) != mt_rbuf_u32(&tail)) {
    snprintf(t->err, t->errlen, "%s: checksum mismatch (file damaged or truncated)", path);
    return -1;
  }
  b.len = n - 4; /* the checksum is not content */
  if (check_fingerprint(t, &b, n_tasks, trains, tests) != 0) return -1;
  t->task = mt_rbuf_u32(&b);
  t->done = mt_rbuf_u32(&b);
  t->shuffle_rng = mt_rbuf_u64(&b);
  t->steps = mt_rbuf_u32(&b);
  if (b.short_read || t->task >= n_tasks || t->done < 1 || (n_tasks > 1 && t->done > o->epochs)) {
    snprintf(t->err, t->errlen, "%s: inconsistent content (task %u of %u, epoch %u)", path,
             t->task + 1, n_tasks, t->done);
    return -1;
  }
  uint32_t count = trains[t->task].count;
  if ((size_t)count * 4 > b.len - b.pos) b.short_read = 1; /* before reading that many */
  for (uint32_t k = 0; k < count && !b.short_read; k++) t->order[k] = mt_rbuf_u32(&b);
  if (!b.short_read && !is_permutation(t->order, count)) {
    snprintf(t->err, t->errlen, "%s: inconsistent content (the example order is not a permutation "
             "of %u examples)", path, count);
    return -1;
  }
  for (uint32_t l = 0; l < o->n_layers; l++) {
    size_t nw = n_weights(o, l);
    mt_rbuf_f32(&b, t->net.w[l], nw);
    mt_rbuf_f32(&b, t->net.b[l], w_cols(o, l));
    if (t->acc_w[l]) {
      mt_rbuf_f32(&b, t->acc_w[l], nw);
      mt_rbuf_f32(&b, t->acc_b[l], w_cols(o, l));
    }
  }
  char msg[256];
  if (!b.short_read && is_offline_algo(o) &&
      mt_charac_load(&t->charac, &b, t->preset->levels,
                     o->algo == MT_ALGO_BIASED ? o->favourable_k : 0, msg, sizeof msg) != 0) {
    snprintf(t->err, t->errlen, "%s: %s", path, msg);
    return -1;
  }
  if (b.short_read) {
    snprintf(t->err, t->errlen, "%s: inconsistent content (cut short)", path);
    return -1;
  }
  t->ck = b;
  return 0;
}

/* --resume, second part (the trainer is set up): compensation terms, level
 * mirrors, the algorithm's state, then the device image (checked against the
 * device before anything is sent to it). */
static int ckpt_restore(trainer_t *t) {
  const mt_train_opts *o = t->o;
  const char *path = o->resume;
  mt_rbuf b = t->ck;
  char msg[256];
  for (uint32_t l = 0; l < o->n_layers; l++) {
    size_t nw = n_weights(o, l);
    if (t->comp[l]) mt_rbuf_f32(&b, t->comp[l], nw);
    uint16_t *lv = t->maps[l].level;
    if (!lv) continue;
    mt_rbuf_u16(&b, lv, nw);
    for (size_t k = 0; k < nw && !b.short_read; k++)
      if (lv[k] >= t->maps[l].levels && lv[k] != MT_LEVEL_NONE) {
        snprintf(t->err, t->errlen, "%s: inconsistent content (level %u in layer %u's mirror)", path,
                 lv[k], l);
        return -1;
      }
  }
  int rc = 0;
  if (!b.short_read && is_pulse_algo(o)) rc = mt_pulse_load(&t->pulse, &b, msg, sizeof msg);
  if (!b.short_read && rc == 0 && is_offline_algo(o)) rc = mt_biased_load(&t->biased, &b, msg, sizeof msg);
  if (rc != 0) {
    snprintf(t->err, t->errlen, "%s: %s", path, msg);
    return -1;
  }
  uint64_t img_len = mt_rbuf_u64(&b);
  if (b.short_read || img_len != b.len - b.pos || (!t->dev && img_len != 0)) {
    snprintf(t->err, t->errlen, "%s: inconsistent content (device image of %llu bytes)", path,
             (unsigned long long)img_len);
    return -1;
  }
  const unsigned char *img = mt_rbuf_bytes(&b, (size_t)img_len);
  if (t->dev && mt_dev_restore_bytes(t->dev, img, (size_t)img_len, path) != MT_OK)
    return fail(t, "%s", mt_dev_errmsg(t->dev));
  free(t->ck_bytes);
  t->ck_bytes = NULL;
  return 0;
}

/* Test accuracy of every task after an epoch of task `task` (0-based). */
static int evaluate_tasks(trainer_t *t, uint32_t n_tasks, const mt_dataset_t *tests, uint32_t task,
                          int on_device, mt_epoch_stats *st) {
  if (evaluate(t, &tests[task], on_device, &st->test_accuracy) != 0) return -1;
  st->task = task + 1;
  st->n_tasks = n_tasks;
  for (uint32_t k = 0; k < n_tasks; k++) {
    if (k == task) st->task_accuracy[k] = st->test_accuracy;
    else if (evaluate(t, &tests[k], on_device, &st->task_accuracy[k]) != 0) return -1;
  }
  return 0;
}

/* Task k's examples from their natural order (shuffled at each epoch's start). */
static void start_task(trainer_t *t, const mt_dataset_t *train) {
  for (uint32_t k = 0; k < train->count; k++) t->order[k] = k;
}

static int run_epochs(trainer_t *t, uint32_t n_tasks, const mt_dataset_t *trains,
                      const mt_dataset_t *tests, const mt_train_hooks *hooks) {
  const mt_train_opts *o = t->o;
  uint64_t c0[MT_CNT_COUNT] = {0}, c1[MT_CNT_COUNT] = {0};
  int dev_algo = is_device_algo(o);
  /* the forward passes of training run on the device */
  int dev_fwd = dev_algo && !is_offline_algo(o);
  /* with several tasks, epochs 1..epochs run once per task; a resumed run
   * starts where its checkpoint stands (ckpt_open) */
  uint32_t task = t->task, done = t->done;
  if (!o->resume) {
    t->shuffle_rng = o->seed ^ 0x5DEECE66Dull;
    start_task(t, &trains[0]);
  } else if (done >= o->epochs && task + 1 < n_tasks) {
    /* The checkpoint ended a task: the next one starts as it does in an uninterrupted run. */
    done = 0;
    start_task(t, &trains[++task]);
  }
  if (dev_algo && mt_dev_stats(t->dev, c0, MT_CNT_COUNT) != MT_OK)
    return fail(t, "%s", mt_dev_errmsg(t->dev));
  if (dev_fwd && !o->resume) {
    /* The initial weights are programmed once, counted in epoch 1. */
    if (is_pulse_algo(o) && mt_pulse_program_init(&t->pulse, t->dev, &t->net) != MT_OK)
      return fail(t, "%s", mt_dev_errmsg(t->dev));
    for (uint32_t l = 0; l < o->n_layers && !is_pulse_algo(o); l++) {
      clip_weights(t, l);
      int rc = o->algo == MT_ALGO_METAPLASTIC
                   ? mt_meta_write_init(t->meta, &t->maps[l], t->dev, t->net.w[l], NULL)
                   : mt_map_program(&t->maps[l], t->dev, t->net.w[l], NULL, 0,
                                    o->open_loop ? MT_PROG_OPEN_LOOP : 0, NULL);
      if (rc != MT_OK) return fail(t, "%s", mt_dev_errmsg(t->dev));
    }
  }
  const mt_dataset_t *train = &trains[task];
  for (uint32_t e = done + 1; e <= o->epochs; e++) {
    double t0 = now();
    uint64_t cyc0 = 0, cyc1 = 0;
    int has_cycles = dev_algo && mt_dev_cycles(t->dev, &cyc0) == MT_OK;
    shuffle(t->order, train->count, &t->shuffle_rng);
    if (is_offline_algo(o)) mt_biased_select(&t->biased, &t->net);
    double loss_sum = 0;
    uint32_t correct = 0;
    for (uint32_t s = 0; s < train->count; s += o->batch) {
      uint32_t n = train->count - s < o->batch ? train->count - s : o->batch;
      load_batch(t, train, t->order + s, n);
      if (mt_mlp_forward(&t->net, &t->wk, t->x, n, dev_fwd ? device_matmul : NULL, t) != 0)
        return fail(t, "%s", mt_dev_errmsg(t->dev));
      uint32_t c = 0;
      double loss = mt_mlp_loss(&t->net, &t->wk, t->y, n, &c);
      loss_sum += loss * n;
      correct += c;
      /* sgd-pulse/ssm: the backward pass uses the weights read from the device
       * (layer 0's are not needed by it). */
      if (is_pulse_algo(o) && mt_pulse_read_weights(&t->pulse, t->dev, &t->net, 1) != MT_OK)
        return fail(t, "%s", mt_dev_errmsg(t->dev));
      mt_mlp_backward(&t->net, &t->wk, n);
      if (update(t) != MT_OK) return fail(t, "%s", mt_dev_errmsg(t->dev));
      if (hooks && hooks->progress)
        hooks->progress(hooks->ctx, task * o->epochs + e, s + n, train->count, loss);
    }
    mt_epoch_stats st;
    memset(&st, 0, sizeof st);
    st.epoch = task * o->epochs + e;
    st.train_loss = train->count ? loss_sum / train->count : 0;
    st.train_accuracy = train->count ? (double)correct / train->count : 0;
    if (is_offline_algo(o)) {
      st.has_sw_accuracy = 1;
      if (evaluate(t, &tests[task], 0, &st.sw_test_accuracy) != 0 || deploy(t) != MT_OK)
        return fail(t, "%s", mt_dev_errmsg(t->dev));
    }
    if (dev_algo) {
      if (mt_dev_stats(t->dev, c1, MT_CNT_COUNT) != MT_OK) return fail(t, "%s", mt_dev_errmsg(t->dev));
      counters_delta(c0, c1, &st);
      st.updates_skipped += t->host_skipped;
      t->host_skipped = 0;
    }
    if (evaluate_tasks(t, n_tasks, tests, task, dev_algo, &st) != 0)
      return fail(t, "%s", mt_dev_errmsg(t->dev));
    /* Evaluation costs are not training costs: start the next epoch's count here. */
    if (dev_algo && mt_dev_stats(t->dev, c0, MT_CNT_COUNT) != MT_OK)
      return fail(t, "%s", mt_dev_errmsg(t->dev));
    st.wall_s = now() - t0;
    if (has_cycles && mt_dev_cycles(t->dev, &cyc1) == MT_OK) {
      st.has_sim_cycles = 1;
      st.sim_cycles = cyc1 - cyc0;
    }
    if (o->checkpoint && save_checkpoint(t, n_tasks, trains, tests, task, e) != 0) return -1;
    if (hooks && hooks->epoch_done && hooks->epoch_done(hooks->ctx, &st)) break;
    if (e == o->epochs && task + 1 < n_tasks) {
      /* The next task: its examples from their natural order, shuffled as before. */
      train = &trains[++task];
      start_task(t, train);
      e = 0;
    }
  }
  return 0;
}

int mt_train_run_tasks(const mt_train_opts *o, uint32_t n_tasks, const mt_dataset_t *train,
                       const mt_dataset_t *test, mt_dev *dev, const mt_preset_t *preset,
                       const mt_train_hooks *hooks, char *err, size_t errlen) {
  trainer_t t;
  memset(&t, 0, sizeof t);
  t.o = o, t.dev = dev, t.preset = preset, t.err = err, t.errlen = errlen;
  int rc = 0;
  if (n_tasks < 1 || n_tasks > MT_TRAIN_MAX_TASKS) {
    snprintf(err, errlen, "%u tasks: between 1 and %u are supported", n_tasks, MT_TRAIN_MAX_TASKS);
    return -1;
  }
  uint32_t largest = 0;
  for (uint32_t k = 0; k < n_tasks && rc == 0; k++) {
    rc = check_inputs(&t, &train[k], &test[k]);
    if (rc == 0 && train[k].classes != train[0].classes) {
      snprintf(err, errlen, "task %u has %u classes but task 1 has %u", k + 1, train[k].classes,
               train[0].classes);
      rc = -1;
    }
    if (train[k].count > train[largest].count) largest = k;
  }
  if (rc == 0) rc = allocate(&t, &train[largest]);
  for (uint32_t k = 0; rc == 0 && (o->checkpoint || o->resume) && k < n_tasks; k++) {
    t.data_crc[k][0] = dataset_crc(&train[k]);
    t.data_crc[k][1] = dataset_crc(&test[k]);
  }
  if (rc == 0 && o->resume) rc = ckpt_open(&t, n_tasks, train, test);
  if (rc == 0 && is_device_algo(o)) rc = setup_device(&t);
  if (rc == 0 && o->resume) rc = ckpt_restore(&t);
  if (rc == 0) rc = run_epochs(&t, n_tasks, train, test, hooks);
  trainer_free(&t);
  return rc;
}

int mt_train_run(const mt_train_opts *o, const mt_dataset_t *train, const mt_dataset_t *test,
                 mt_dev *dev, const mt_preset_t *preset, const mt_train_hooks *hooks, char *err,
                 size_t errlen) {
  return mt_train_run_tasks(o, 1, train, test, dev, preset, hooks, err, errlen);
}
