/* `siamese` (Tan et al. 2024, docs/algorithms.md): the host keeps a float
 * copy of the weights; after each SGD step (or every K steps, summing the
 * gradients: --accumulate) only the weights whose level changed are
 * programmed, and with --compensate readback the programming error read
 * back from the device is carried into the next target. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "mt_algo.h"

typedef struct {
  float *acc_w[MT_NN_MAX_LAYERS], *acc_b[MT_NN_MAX_LAYERS]; /* gradient sums (--accumulate > 1) */
  float *comp[MT_NN_MAX_LAYERS]; /* programming error carried into the next target */
  uint32_t steps;                /* optimizer steps taken (for accumulation) */
  /* Input rows whose weights or compensation changed since they were last programmed (all
   * at the start and after a resume): only these can change a level. */
  uint8_t *dirty[MT_NN_MAX_LAYERS];
  uint32_t *cells;               /* workspace: READ_LIST entries of one tile's changed weights */
  uint16_t *gp, *gm;             /* workspace: their conductances */
} siamese_t;

static int accumulating(const mt_train_opts *o) { return o->accumulate > 1; }

static void siamese_destroy(mt_trainer *t) {
  siamese_t *s = t->state;
  if (!s) return;
  for (uint32_t l = 0; l < MT_NN_MAX_LAYERS; l++) {
    free(s->acc_w[l]);
    free(s->acc_b[l]);
    free(s->comp[l]);
    free(s->dirty[l]);
  }
  free(s->cells);
  free(s->gp);
  free(s->gm);
  free(s);
  t->state = NULL;
}

static int siamese_create(mt_trainer *t) {
  const mt_train_opts *o = t->o;
  siamese_t *s = calloc(1, sizeof *s);
  if (!s) return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
  t->state = s;
  size_t largest = 0;
  for (uint32_t l = 0; l < o->n_layers; l++)
    if (mt_trainer_weights(t, l) > largest) largest = mt_trainer_weights(t, l);
  s->cells = malloc(largest * sizeof *s->cells);
  s->gp = malloc(largest * sizeof *s->gp);
  s->gm = malloc(largest * sizeof *s->gm);
  if (!s->cells || !s->gp || !s->gm) return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
  for (uint32_t l = 0; l < o->n_layers; l++) {
    s->comp[l] = calloc(mt_trainer_weights(t, l), sizeof(float));
    uint32_t rows = mt_layer_rows(o->spec, o->sizes, l); /* the layer map's n_in (not set yet) */
    s->dirty[l] = malloc(rows);
    if (!s->comp[l] || !s->dirty[l]) return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
    memset(s->dirty[l], 1, rows);
    if (!accumulating(o)) continue;
    s->acc_w[l] = calloc(mt_trainer_weights(t, l), sizeof(float));
    s->acc_b[l] = calloc(mt_trainer_outputs(t, l), sizeof(float));
    if (!s->acc_w[l] || !s->acc_b[l]) return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
  }
  return 0;
}

/* Reads back the weights whose level just changed, in the order mt_map_program
 * programmed them (tile by tile, row-major within a tile: the order the
 * device's read noise is drawn in), and keeps, for each, the difference
 * between the level's ideal weight and what the device holds. One READ_LIST
 * per tile that changed: a handful of device transactions per layer and step,
 * also for a layer wider than a tile. */
static int readback(mt_trainer *t, siamese_t *s, uint32_t l) {
  mt_layer_map_t *m = &t->maps[l];
  double step = t->level_step;
  double c = (m->levels - 1) / 2.0;
  /* Weight 0 sits c level steps above level 0's conductance difference. */
  uint32_t e0 = t->preset->level_table[0];
  double d0 = (double)((int32_t)(e0 & 0xFFFFu) - (int32_t)(e0 >> 16)) + c * step;
  for (size_t e = 0; e < m->n_changed;) {
    uint32_t tile = 0;
    size_t n = 0;
    for (; e + n < m->n_changed; n++) {
      size_t k = m->changed[e + n];
      uint32_t i = (uint32_t)(k / m->n_out), j = (uint32_t)(k % m->n_out);
      uint32_t tk = m->first_tile + (i / MT_ROWS) * m->col_blocks + j / MT_COLS;
      if (n > 0 && tk != tile) break;
      tile = tk;
      s->cells[n] = (i % MT_ROWS) << 20 | (j % MT_COLS) << 8;
    }
    assert(n > 0);
    if (mt_dev_read_list(t->dev, tile, 0, s->cells, n, s->gp, s->gm) != MT_OK)
      return mt_trainer_dev_fail(t);
    for (size_t r = 0; r < n; r++) {
      size_t k = m->changed[e + r];
      double achieved = ((double)s->gp[r] - s->gm[r] - d0) / step * m->delta;
      s->comp[l][k] = mt_map_weight_of(m, m->level[k]) - (float)achieved;
      s->dirty[l][k / m->n_out] = 1;
    }
    e += n;
  }
  return 0;
}

/* Marks the rows of layer l with a non-zero gradient in g (an SGD step changes only these:
 * w - lr * 0 is w, and w was already clipped). */
static void mark_rows(const mt_trainer *t, siamese_t *s, uint32_t l, const float *g) {
  uint32_t n_in = t->maps[l].n_in, n_out = t->maps[l].n_out;
  for (uint32_t i = 0; i < n_in; i++) {
    const float *gr = g + (size_t)i * n_out;
    uint32_t any = 0;
    for (uint32_t j = 0; j < n_out; j++) any |= gr[j] != 0.0f;
    s->dirty[l][i] |= (uint8_t)any;
  }
}

static int siamese_step(mt_trainer *t) {
  const mt_train_opts *o = t->o;
  siamese_t *s = t->state;
  if (!accumulating(o)) {
    for (uint32_t l = 0; l < o->n_layers; l++) mark_rows(t, s, l, t->wk.gw[l]);
    mt_trainer_sgd_clipped(t, (const float *const *)t->wk.gw, (const float *const *)t->wk.gb);
  } else {
    for (uint32_t l = 0; l < o->n_layers; l++) {
      size_t nw = mt_trainer_weights(t, l);
      for (size_t k = 0; k < nw; k++) s->acc_w[l][k] += t->wk.gw[l][k];
      for (uint32_t k = 0; k < mt_trainer_outputs(t, l); k++) s->acc_b[l][k] += t->wk.gb[l][k];
    }
    if (++s->steps % o->accumulate != 0) return 0;
    for (uint32_t l = 0; l < o->n_layers; l++) mark_rows(t, s, l, s->acc_w[l]);
    mt_trainer_sgd_clipped(t, (const float *const *)s->acc_w, (const float *const *)s->acc_b);
    for (uint32_t l = 0; l < o->n_layers; l++) {
      memset(s->acc_w[l], 0, mt_trainer_weights(t, l) * sizeof(float));
      memset(s->acc_b[l], 0, mt_trainer_outputs(t, l) * sizeof(float));
    }
  }
  uint32_t flags = o->open_loop ? MT_PROG_OPEN_LOOP : 0;
  int compensate = o->compensate == MT_COMP_READBACK;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    mt_prog_result res = {0, 0, 0};
    int rc = mt_map_program_rows(&t->maps[l], t->dev, t->net.w[l], compensate ? s->comp[l] : NULL,
                                 s->dirty[l], flags, &res);
    t->host_skipped += res.skipped;
    if (rc != MT_OK) return mt_trainer_dev_fail(t);
    memset(s->dirty[l], 0, t->maps[l].n_in);
    if (compensate && (rc = readback(t, s, l)) != 0) return rc;
  }
  return 0;
}

static void siamese_fingerprint(const mt_trainer *t, mt_fp *fp) {
  mt_fp_add(fp, "accumulate", MT_FP_INT, t->o->accumulate);
  mt_fp_add(fp, "compensate", MT_FP_INT, t->o->compensate);
}

/* Section: optimizer steps; per layer the compensation terms and (with
 * --accumulate) the pending gradient sums. */
static void siamese_save(const mt_trainer *t, mt_wbuf *b) {
  const siamese_t *s = t->state;
  mt_wbuf_u32(b, s->steps);
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    mt_wbuf_f32(b, s->comp[l], mt_trainer_weights(t, l));
    if (!s->acc_w[l]) continue;
    mt_wbuf_f32(b, s->acc_w[l], mt_trainer_weights(t, l));
    mt_wbuf_f32(b, s->acc_b[l], mt_trainer_outputs(t, l));
  }
}

static int siamese_load(mt_trainer *t, mt_rbuf *b) {
  siamese_t *s = t->state;
  s->steps = mt_rbuf_u32(b);
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    mt_rbuf_f32(b, s->comp[l], mt_trainer_weights(t, l));
    if (!s->acc_w[l]) continue;
    mt_rbuf_f32(b, s->acc_w[l], mt_trainer_weights(t, l));
    mt_rbuf_f32(b, s->acc_b[l], mt_trainer_outputs(t, l));
  }
  return 0;
}

const mt_algo_ops mt_algo_siamese = {
  .name = "siamese",
  .flags = MT_ALGO_F_DEVICE | MT_ALGO_F_DEV_FWD,
  .create = siamese_create,
  .destroy = siamese_destroy,
  .program_init = mt_trainer_program_all,
  .step = siamese_step,
  .fingerprint = siamese_fingerprint,
  .save = siamese_save,
  .load = siamese_load,
};
