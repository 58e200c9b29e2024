/* Metaplastic training on the device's metaplasticity unit: scaling of the
 * updates, the META_TABLE, and the per-tile META_WRITE / META_UPDATE /
 * READ_LEVELS traffic. */
#include "mt_algo_meta.h"

#include "mt_algo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_protocol.h"

#define HIDDEN_LIMIT ((int32_t)MT_HIDDEN_MAX) /* the unit saturates |h| here */

double mt_meta_m_level(double m_paper, uint32_t levels) {
  return levels > 1 ? m_paper * 2.0 / (double)(levels - 1) : m_paper;
}

uint32_t mt_meta_idx_shift(uint32_t levels, uint32_t table_log2, uint32_t rule) {
  uint64_t span = (rule == 0 ? (uint64_t)levels : 2u) * 65536u;
  uint32_t s = 0;
  while (s < 24 && ((1ull << table_log2) << s) < span) s++;
  return s;
}

void mt_meta_table(double m_level, uint32_t idx_shift, uint32_t bits, uint16_t *table) {
  const double one = ldexp(1.0, (int)bits);
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++) {
    double t = tanh(m_level * ldexp((double)i, (int)idx_shift) / 65536.0);
    double q = floor((1.0 - t * t) * one + 0.5);
    uint32_t v = q >= one - 1.0 ? (uint32_t)(one - 1.0) : (uint32_t)q;
    table[i] = (uint16_t)(v << (16u - bits));
  }
}

int mt_meta_init(mt_meta_t *s, const mt_preset_t *base, double m_paper, int open_loop, char *err,
                 size_t errlen) {
  memset(s, 0, sizeof *s);
  if (!(m_paper >= 0) || base->levels < 2) {
    snprintf(err, errlen, "metaplastic: m must be >= 0 (got %g) and levels >= 2 (got %u)", m_paper,
             base->levels);
    return -1;
  }
  s->preset = *base;
  uint32_t *cfg = s->preset.cfg;
  cfg[MT_CFG_META_IDX_SHIFT] =
      mt_meta_idx_shift(base->levels, cfg[MT_CFG_META_TABLE_LOG2], cfg[MT_CFG_META_RULE]);
  if (open_loop) cfg[MT_CFG_META_PROG_MODE] = 1;
  s->in_shift = cfg[MT_CFG_META_IN_SHIFT];
  uint16_t table[MT_META_TABLE_SIZE];
  mt_meta_table(mt_meta_m_level(m_paper, base->levels), cfg[MT_CFG_META_IDX_SHIFT],
                cfg[MT_CFG_META_ENTRY_BITS], table);
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE / 2; i++)
    s->preset.meta_table[i] = (uint32_t)table[2 * i] | (uint32_t)table[2 * i + 1] << 16;
  s->upd = malloc((size_t)MT_ROWS * MT_COLS * sizeof *s->upd);
  s->hid = malloc((size_t)MT_ROWS * MT_COLS * sizeof *s->hid);
  s->lv = malloc((size_t)MT_ROWS * MT_COLS * sizeof *s->lv);
  if (!s->upd || !s->hid || !s->lv) {
    mt_meta_free(s);
    snprintf(err, errlen, "metaplastic: out of memory");
    return -1;
  }
  return 0;
}

void mt_meta_free(mt_meta_t *s) {
  free(s->upd);
  free(s->hid);
  free(s->lv);
  s->upd = NULL, s->hid = NULL, s->lv = NULL;
}

/* Update per unit gradient: -lr / delta * 2^(16 - in_shift). */
static float update_scale(const mt_layer_map_t *m, uint32_t in_shift, float lr) {
  return -lr * m->inv_delta * ldexpf(1.0f, 16 - (int)in_shift);
}

/* round(g * scale) clipped to +-MT_META_UPDATE_MAX; NaN gives 0. */
static inline int16_t quantize_update(float g, float scale, uint64_t *clipped) {
  const float lim = (float)MT_META_UPDATE_MAX;
  float v = nearbyintf(g * scale);
  *clipped += v > lim || v < -lim;
  v = v > lim ? lim : (v < -lim ? -lim : v);
  return v == v ? (int16_t)v : 0;
}

int16_t mt_meta_update_value(const mt_layer_map_t *m, uint32_t in_shift, float lr, float g) {
  uint64_t clipped = 0;
  return quantize_update(g, update_scale(m, in_shift, lr), &clipped);
}

/* Region of tile block (rb, cb) of layer map m. */
static mt_region block_region(const mt_layer_map_t *m, uint32_t rb, uint32_t cb) {
  uint32_t r0 = rb * MT_ROWS, c0 = cb * MT_COLS;
  mt_region r = {0, m->n_in - r0 < MT_ROWS ? m->n_in - r0 : MT_ROWS, 0,
                 m->n_out - c0 < MT_COLS ? m->n_out - c0 : MT_COLS};
  return r;
}

/* Reads the levels of a block back into the mirror and the quantized weights. */
static int read_back(mt_meta_t *s, mt_layer_map_t *m, mt_dev *dev, uint32_t rb, uint32_t cb,
                     float *w) {
  mt_region r = block_region(m, rb, cb);
  uint32_t tile = m->first_tile + rb * m->col_blocks + cb;
  int rc = mt_dev_read_levels(dev, tile, r, s->lv);
  if (rc != MT_OK) return rc;
  for (uint32_t i = 0; i < r.nrows; i++) {
    size_t k0 = (size_t)(rb * MT_ROWS + i) * m->n_out + cb * MT_COLS;
    for (uint32_t j = 0; j < r.ncols; j++) {
      uint16_t q = s->lv[i * r.ncols + j];
      m->level[k0 + j] = q;
      w[k0 + j] = mt_map_weight_of(m, q);
    }
  }
  return MT_OK;
}

static void add_result(mt_prog_result *res, const mt_prog_result *r) {
  if (!res) return;
  res->programmed += r->programmed;
  res->skipped += r->skipped;
  res->wv_failures += r->wv_failures;
}

int mt_meta_write_init(mt_meta_t *s, mt_layer_map_t *m, mt_dev *dev, float *w, mt_prog_result *res) {
  for (uint32_t rb = 0; rb < m->row_blocks; rb++) {
    for (uint32_t cb = 0; cb < m->col_blocks; cb++) {
      mt_region r = block_region(m, rb, cb);
      for (uint32_t i = 0; i < r.nrows; i++) {
        const float *wr = w + (size_t)(rb * MT_ROWS + i) * m->n_out + cb * MT_COLS;
        for (uint32_t j = 0; j < r.ncols; j++) {
          double h = nearbyint((double)wr[j] * m->inv_delta * 65536.0);
          h = h > HIDDEN_LIMIT ? HIDDEN_LIMIT : (h < -HIDDEN_LIMIT ? -HIDDEN_LIMIT : h);
          s->hid[i * r.ncols + j] = h == h ? (int32_t)h : 0;
        }
      }
      mt_prog_result pr = {0, 0, 0};
      uint32_t tile = m->first_tile + rb * m->col_blocks + cb;
      int rc = mt_dev_meta_write(dev, tile, r, s->hid, &pr);
      if (rc == MT_OK) rc = read_back(s, m, dev, rb, cb, w);
      if (rc != MT_OK) return rc;
      add_result(res, &pr);
    }
  }
  return MT_OK;
}

int mt_meta_step(mt_meta_t *s, mt_layer_map_t *m, mt_dev *dev, const float *g, float lr, float *w,
                 mt_prog_result *res) {
  const float scale = update_scale(m, s->in_shift, lr);
  for (uint32_t rb = 0; rb < m->row_blocks; rb++) {
    for (uint32_t cb = 0; cb < m->col_blocks; cb++) {
      mt_region r = block_region(m, rb, cb);
      uint32_t nonzero = 0;
      for (uint32_t i = 0; i < r.nrows; i++) {
        const float *gr = g + (size_t)(rb * MT_ROWS + i) * m->n_out + cb * MT_COLS;
        int16_t *u = s->upd + i * r.ncols;
        for (uint32_t j = 0; j < r.ncols; j++) {
          u[j] = quantize_update(gr[j], scale, &s->clipped);
          nonzero += u[j] != 0;
        }
      }
      if (nonzero == 0) continue;
      mt_prog_result pr = {0, 0, 0};
      uint32_t tile = m->first_tile + rb * m->col_blocks + cb;
      int rc = mt_dev_meta_update(dev, tile, r, s->upd, &pr);
      if (rc == MT_OK && pr.programmed) rc = read_back(s, m, dev, rb, cb, w);
      if (rc != MT_OK) return rc;
      add_result(res, &pr);
    }
  }
  return MT_OK;
}

/* ---- the `metaplastic` algorithm (mt_algo.h) ---- */

static int meta_create(mt_trainer *t) {
  t->state = calloc(1, sizeof(mt_meta_t));
  return t->state ? 0 : mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
}

static void meta_destroy(mt_trainer *t) {
  if (!t->state) return;
  mt_meta_free(t->state);
  free(t->state);
  t->state = NULL;
}

/* The device runs with the unit's table from --meta-m and its index shift for L levels. */
static int meta_prepare(mt_trainer *t, const mt_preset_t **apply) {
  mt_meta_t *s = t->state;
  if (mt_meta_init(s, t->preset, t->o->meta_m, (int)t->o->open_loop, t->err, t->errlen) != 0)
    return -1;
  *apply = &s->preset;
  return 0;
}

static int meta_program_init(mt_trainer *t) {
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    mt_trainer_clip(t, l);
    if (mt_meta_write_init(t->state, &t->maps[l], t->dev, t->net.w[l], NULL) != MT_OK)
      return mt_trainer_dev_fail(t);
  }
  return 0;
}

/* Biases (and BatchNorm's gamma and beta) on the host; weights: the unit applies the updates
 * to its hidden weights, programs the level changes, and t->net.w gets the levels back. With
 * --optimizer adam the "gradients" are Adam's step directions (mt_trainer_step_dirs), so the
 * unit receives lr m_hat / (sqrt(v_hat) + eps) in place of SGD's lr g; the moments stay on
 * the host, as the paper's code keeps them beside its hidden weights. */
static int meta_step(mt_trainer *t) {
  const mt_train_opts *o = t->o;
  mt_trainer_step_dirs(t);
  mt_mlp_sgd_bn(&t->net, &t->wk, o->lr);
  for (uint32_t l = 0; l < o->n_layers; l++) {
    for (uint32_t k = 0; k < mt_trainer_outputs(t, l); k++) t->net.b[l][k] -= o->lr * t->wk.gb[l][k];
    mt_prog_result res = {0, 0, 0};
    if (mt_meta_step(t->state, &t->maps[l], t->dev, t->wk.gw[l], o->lr, t->net.w[l], &res) != MT_OK)
      return mt_trainer_dev_fail(t);
  }
  return 0;
}

static void meta_fingerprint(const mt_trainer *t, mt_fp *fp) {
  mt_fp_add(fp, "meta-m", MT_FP_FLOAT, mt_fp_f32(t->o->meta_m));
}

/* No section: the hidden weights are in the device's image. */
const mt_algo_ops mt_algo_metaplastic = {
  .name = "metaplastic",
  .flags = MT_ALGO_F_DEVICE | MT_ALGO_F_DEV_FWD | MT_ALGO_F_HOST_OPTIM,
  .create = meta_create,
  .destroy = meta_destroy,
  .prepare = meta_prepare,
  .program_init = meta_program_init,
  .step = meta_step,
  .fingerprint = meta_fingerprint,
};
