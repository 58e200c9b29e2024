/* Device characterization and mapping-aware biased training (mt_algo_biased.h,
 * docs/algorithms.md). */
#include "mt_algo_biased.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_algo.h"
#include "mt_file.h"
#include "mt_protocol.h"
#include "mt_rng.h"
#include "mt_slice.h"

static int32_t table_diff(const uint32_t *table, uint32_t q) {
  uint32_t e = table[q * MT_LEVEL_ENTRY_WORDS];
  return (int32_t)(e & 0xFFFFu) - (int32_t)(e >> 16);
}

/* The device's message, and its MT_ERR_* class. */
static int dev_fail(mt_dev *dev, char *err, size_t errlen) {
  snprintf(err, errlen, "%s", mt_dev_errmsg(dev));
  return mt_dev_errcode(dev) != MT_OK ? mt_dev_errcode(dev) : MT_ERR_IO;
}

/* Level order for the favourable set: mirror levels q and L-1-q use the same
 * device states, so each is ranked by the mean sigma of the pair (ours). */
static double pair_sigma(const mt_charac *c, uint32_t q) {
  return 0.5 * (c->sigma[q] + c->sigma[c->levels - 1 - q]);
}
/* 1 if level qa ranks before qb: lower pair sigma, ties to the lower level. */
static int ranks_before(const mt_charac *c, uint32_t qa, uint32_t qb) {
  double sa = pair_sigma(c, qa), sb = pair_sigma(c, qb);
  return sa != sb ? sa < sb : qa < qb;
}

void mt_charac_select(mt_charac *c, uint32_t favourable_k) {
  uint32_t order[MT_MAX_LEVELS] = {0};
  uint32_t k = favourable_k ? favourable_k : (3 * c->levels + 2) / 4;
  if (k > c->levels) k = c->levels;
  /* Insertion sort (at most MT_MAX_LEVELS levels): qsort would need the
   * characterization in a global for its comparison. */
  for (uint32_t q = 0; q < c->levels; q++) {
    uint32_t i = q;
    for (; i > 0 && ranks_before(c, q, order[i - 1]); i--) order[i] = order[i - 1];
    order[i] = q;
  }
  memset(c->favourable, 0, sizeof c->favourable);
  for (uint32_t r = 0; r < k; r++) c->favourable[order[r]] = 1;
  c->favourable_k = k;
}

int mt_characterize(mt_dev *dev, const mt_preset_t *p, uint32_t tile, uint64_t seed,
                    uint32_t samples, uint32_t reads, uint32_t favourable_k, mt_charac *out,
                    char *err, size_t errlen) {
  return mt_characterize_samples(dev, p, tile, seed, samples, reads, favourable_k, out, NULL, err,
                                 errlen);
}

int mt_characterize_samples(mt_dev *dev, const mt_preset_t *p, uint32_t tile, uint64_t seed,
                            uint32_t samples, uint32_t reads, uint32_t favourable_k, mt_charac *out,
                            float *achieved, char *err, size_t errlen) {
  const uint32_t L = p->levels;
  if (samples == 0 || reads == 0 || favourable_k > L) {
    snprintf(err, errlen, "characterize: need samples >= 1, reads >= 1 and favourable <= %u levels", L);
    return MT_ERR_INVAL;
  }
  if (mt_preset_apply(p, dev) != MT_OK || mt_dev_seed(dev, seed) != MT_OK) return dev_fail(dev, err, errlen);
  const mt_dev_info *info = mt_dev_get_info(dev);
  if (tile >= info->tiles) {
    snprintf(err, errlen, "characterize: tile %u does not exist (%s has %u)", tile, mt_dev_uri(dev), info->tiles);
    return MT_ERR_INVAL;
  }
  const uint32_t rows = info->rows, cols = info->cols, cells = rows * cols;
  uint32_t *entries = malloc((size_t)cells * sizeof *entries);
  uint16_t *gp = malloc((size_t)cells * sizeof *gp), *gm = malloc((size_t)cells * sizeof *gm);
  double *dsum = malloc((size_t)cells * sizeof *dsum);
  double *s1 = calloc(L, sizeof *s1), *s2 = calloc(L, sizeof *s2);
  uint32_t *cnt = calloc(L, sizeof *cnt);
  int rc = MT_ERR_NOMEM;
  if (!entries || !gp || !gm || !dsum || !s1 || !s2 || !cnt) {
    snprintf(err, errlen, "characterize: out of memory");
    goto out;
  }
  memset(out, 0, sizeof *out);
  out->levels = L, out->samples = samples, out->reads = reads, out->seed = seed;
  out->level_step = mt_map_level_step(p->level_table, L);
  out->read_sigma = p->cfg[MT_CFG_READ_SIGMA];
  for (uint32_t q = 0; q < L; q++) out->target[q] = table_diff(p->level_table, q);
  const uint64_t total = (uint64_t)samples * L;
  uint64_t done = 0;
  for (uint32_t round = 0; done < total; round++) {
    /* A fresh tile per round: every cell starts in its reset state, as the
     * cells of a network programmed once do. */
    if (mt_dev_fabricate(dev, (seed + round) & 0xFFFFFFFFFFFFull, tile) != MT_OK) {
      rc = dev_fail(dev, err, errlen);
      goto out;
    }
    uint32_t n = total - done < cells ? (uint32_t)(total - done) : cells;
    /* Cell k gets level (done + k) mod L: the levels interleave over columns
     * (and so over noise lanes); one PROGRAM per level to count its failures. */
    for (uint32_t q = 0; q < L; q++) {
      uint32_t m = 0;
      for (uint32_t k = (uint32_t)((q + L - done % L) % L); k < n; k += L)
        entries[m++] = (k / cols) << 20 | (k % cols) << 8 | q;
      if (m == 0) continue;
      mt_prog_result res = {0, 0, 0};
      if (mt_dev_program(dev, tile, 0, entries, m, &res) != MT_OK) {
        rc = dev_fail(dev, err, errlen);
        goto out;
      }
      out->wv_failures[q] += res.wv_failures;
    }
    memset(dsum, 0, (size_t)cells * sizeof *dsum);
    mt_region r = {0, rows, 0, cols};
    for (uint32_t rd = 0; rd < reads; rd++) {
      if (mt_dev_read_cells(dev, tile, r, 0, gp, gm) != MT_OK) {
        rc = dev_fail(dev, err, errlen);
        goto out;
      }
      for (uint32_t k = 0; k < n; k++) dsum[k] += (double)gp[k] - (double)gm[k];
    }
    for (uint32_t k = 0; k < n; k++) {
      uint32_t q = (uint32_t)((done + k) % L);
      double e = dsum[k] / reads - out->target[q]; /* deviation from the target, g units */
      assert(cnt[q] < samples); /* samples * L cells, interleaved: samples per level */
      if (achieved) achieved[(size_t)q * samples + cnt[q]] = (float)(dsum[k] / reads);
      s1[q] += e;
      s2[q] += e * e;
      cnt[q]++;
    }
    done += n;
  }
  for (uint32_t q = 0; q < L; q++) {
    double mean_e = s1[q] / cnt[q];
    double var = cnt[q] > 1 ? (s2[q] - cnt[q] * mean_e * mean_e) / (cnt[q] - 1) : 0;
    out->mean[q] = out->target[q] + mean_e;
    out->sigma[q] = var > 0 ? sqrt(var) : 0;
    out->rms[q] = sqrt(s2[q] / cnt[q]);
  }
  mt_charac_select(out, favourable_k);
  rc = 0;
out:
  free(entries);
  free(gp);
  free(gm);
  free(dsum);
  free(s1);
  free(s2);
  free(cnt);
  return rc;
}

int mt_charac_write_json(const mt_charac *c, const char *preset_name, const char *path,
                         char *err, size_t errlen) {
  size_t cap = 2048 + (size_t)c->levels * 320, len = 0;
  char *buf = malloc(cap);
  if (!buf) {
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
#define PUT(...) (len += (size_t)snprintf(buf + len, cap - len, __VA_ARGS__))
  double st = c->level_step > 0 ? c->level_step : 1;
  PUT("{\n  \"preset\": \"%s\",\n  \"levels\": %u,\n  \"samples\": %u,\n  \"reads\": %u,\n"
      "  \"seed\": %llu,\n  \"level_step_g\": %.6g,\n  \"read_sigma_g\": %.6g,\n"
      "  \"favourable_rule\": \"the favourable_k levels of lowest pair sigma (mean sigma of q and L-1-q), ties to the lower level\",\n"
      "  \"favourable_k\": %u,\n  \"favourable\": [",
      preset_name, c->levels, c->samples, c->reads, (unsigned long long)c->seed, c->level_step,
      c->read_sigma, c->favourable_k);
  for (uint32_t q = 0, first = 1; q < c->levels; q++)
    if (c->favourable[q]) PUT("%s%u", first ? "" : ", ", q), first = 0;
  PUT("],\n  \"per_level\": [\n");
  for (uint32_t q = 0; q < c->levels; q++)
    PUT("    {\"level\": %u, \"target_g\": %.6g, \"mean_g\": %.6g, \"sigma_g\": %.6g, \"rms_g\": %.6g, "
        "\"mean_levels\": %.6g, \"sigma_levels\": %.6g, \"wv_failures\": %u, \"favourable\": %s}%s\n",
        q, c->target[q], c->mean[q], c->sigma[q], c->rms[q], (c->mean[q] - c->target[0]) / st,
        c->sigma[q] / st, c->wv_failures[q], c->favourable[q] ? "true" : "false",
        q + 1 < c->levels ? "," : "");
  PUT("  ]\n}\n");
#undef PUT
  int rc = len < cap ? mt_write_atomic(path, buf, len, err, errlen) : -1;
  if (len >= cap) snprintf(err, errlen, "%s: report too long", path);
  free(buf);
  return rc;
}

/* ---- training ------------------------------------------------------------ */

/* 1 if some layer has a fraction to constrain. */
static int constrains(const mt_biased_state *s) {
  for (uint32_t l = 0; l < s->n_layers; l++)
    if (s->important[l] > 0) return 1;
  return 0;
}

int mt_biased_init(mt_biased_state *s, const mt_mlp_t *net, const mt_layer_map_t *maps,
                   const uint8_t *favourable, const float *important, mt_importance mode,
                   char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  s->n_layers = net->n_layers;
  s->mode = mode;
  for (uint32_t l = 0; important && l < net->n_layers; l++) s->important[l] = important[l];
  size_t largest = 0, widest = 0;
  uint32_t L = maps[0].levels;
  for (uint32_t q = 0; favourable && q < L; q++) s->n_fav += favourable[q] != 0;
  if (constrains(s) && s->n_fav == 0) {
    snprintf(err, errlen, "biased training needs at least one favourable level");
    return -1;
  }
  for (uint32_t l = 0; l < net->n_layers; l++) {
    /* The weight matrix as mapped (a conv layer's is its im2col matrix, not sizes[l] x sizes[l+1]). */
    size_t n = (size_t)maps[l].n_in * maps[l].n_out;
    s->n_w[l] = n;
    s->n_b[l] = maps[l].n_out;
    s->n_col[l] = maps[l].row_blocks * maps[l].n_out;
    if (n > largest) largest = n;
    if (s->n_col[l] > widest) widest = s->n_col[l];
    s->lim[l] = mt_map_weight_of(&maps[l], maps[l].levels - 1);
    s->latent[l] = malloc(n * sizeof(float));
    s->mask[l] = calloc(n, 1);
    s->fav_w[l] = malloc((s->n_fav ? s->n_fav : 1) * sizeof(float));
    if (!s->latent[l] || !s->mask[l] || !s->fav_w[l]) goto oom;
    if (mode == MT_IMPORTANCE_SALIENCY && !(s->col_sal[l] = calloc(s->n_col[l], sizeof(double))))
      goto oom;
    for (size_t k = 0; k < n; k++) {
      float w = net->w[l][k];
      s->latent[l][k] = w > s->lim[l] ? s->lim[l] : (w < -s->lim[l] ? -s->lim[l] : w);
    }
    uint32_t m = 0;
    for (uint32_t q = 0; favourable && q < L; q++)
      if (favourable[q]) s->fav_w[l][m++] = mt_map_weight_of(&maps[l], q);
  }
  /* A layer has no more columns than weights: the largest layer sizes both. */
  s->score = malloc(largest * sizeof(double));
  s->sorted = malloc(largest * sizeof(double));
  if (!s->score || !s->sorted) goto oom;
  if (mode == MT_IMPORTANCE_SALIENCY && !(s->col_mask = malloc(widest))) goto oom;
  return 0;
oom:
  mt_biased_free(s);
  snprintf(err, errlen, "out of memory");
  return -1;
}

void mt_biased_free(mt_biased_state *s) {
  for (uint32_t l = 0; l < MT_NN_MAX_LAYERS; l++) {
    free(s->latent[l]);
    free(s->mask[l]);
    free(s->fav_w[l]);
    free(s->col_sal[l]);
  }
  free(s->score);
  free(s->sorted);
  free(s->col_mask);
  memset(s, 0, sizeof *s);
}

int mt_biased_use_values(mt_biased_state *s, uint32_t l, const float *vals, uint32_t n, float lim,
                         char *err, size_t errlen) {
  if (constrains(s) && n == 0) {
    snprintf(err, errlen, "biased training needs at least one favourable code");
    return -1;
  }
  if (l > 0 && n != s->n_fav) {
    snprintf(err, errlen, "layer %u: %u favourable codes, layer 0 has %u", l, n, s->n_fav);
    return -1;
  }
  float *v = malloc((n ? n : 1) * sizeof *v);
  if (!v) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  memcpy(v, vals, n * sizeof *v);
  free(s->fav_w[l]);
  s->fav_w[l] = v;
  s->n_fav = n;
  s->lim[l] = lim;
  return 0;
}

float mt_biased_project(const mt_biased_state *s, uint32_t l, float w) {
  const float *v = s->fav_w[l];
  uint32_t lo = 0, hi = s->n_fav; /* first index with v[i] > w */
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (v[mid] > w) hi = mid;
    else lo = mid + 1;
  }
  if (lo == 0) return v[0];
  if (lo == s->n_fav) return v[s->n_fav - 1];
  return w - v[lo - 1] <= v[lo] - w ? v[lo - 1] : v[lo];
}

static void effective(mt_biased_state *s, mt_mlp_t *net, uint32_t l) {
  size_t n = s->n_w[l];
  const float *lat = s->latent[l];
  const uint8_t *mk = s->mask[l];
  float *w = net->w[l];
  for (size_t k = 0; k < n; k++) w[k] = mk[k] ? mt_biased_project(s, l, lat[k]) : lat[k];
}

static int by_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x > y ? -1 : (x < y);
}

/* Elements wanted of n for fraction p: ceil(p n), at most n. */
static size_t wanted(float p, size_t n) {
  size_t want = (size_t)ceil((double)p * (double)n);
  return want > n ? n : want;
}

/* Marks in mask (zeroed by the caller) the want >= 1 elements of score[0..n) with the largest
 * scores; of equal scores at the threshold, the first ones in index order. */
static void mark_largest(const double *score, size_t n, size_t want, double *sorted, uint8_t *mask) {
  assert(want >= 1 && want <= n);
  memcpy(sorted, score, n * sizeof *score);
  qsort(sorted, n, sizeof *sorted, by_desc);
  double t = sorted[want - 1];
  size_t got = 0;
  for (size_t k = 0; k < n; k++)
    if (score[k] > t) mask[k] = 1, got++;
  for (size_t k = 0; k < n && got < want; k++)
    if (score[k] == t) mask[k] = 1, got++;
}

/* Magnitude: the want largest |latent| of layer l. */
static void select_weights(mt_biased_state *s, uint32_t l, size_t want) {
  size_t n = s->n_w[l];
  const float *lat = s->latent[l];
  for (size_t k = 0; k < n; k++) s->score[k] = fabsf(lat[k]);
  mark_largest(s->score, n, want, s->sorted, s->mask[l]);
}

/* Saliency: every weight of the want columns of layer l with the largest score (the summed
 * saliency, or before any step the summed |latent|: the first epoch has no gradient yet). */
static void select_columns(mt_biased_state *s, uint32_t l, size_t want) {
  const uint32_t n_out = s->n_b[l], n_col = s->n_col[l];
  const size_t n_in = s->n_w[l] / n_out;
  double *score = s->col_sal[l];
  if (s->sal_steps == 0) {
    memset(score, 0, n_col * sizeof *score);
    for (size_t i = 0; i < n_in; i++) {
      double *sc = score + (i / MT_ROWS) * n_out;
      const float *lat = s->latent[l] + i * n_out;
      for (uint32_t j = 0; j < n_out; j++) sc[j] += fabsf(lat[j]);
    }
  }
  memset(s->col_mask, 0, n_col);
  mark_largest(score, n_col, want, s->sorted, s->col_mask);
  for (size_t i = 0; i < n_in; i++) {
    const uint8_t *cm = s->col_mask + (i / MT_ROWS) * n_out;
    memcpy(s->mask[l] + i * n_out, cm, n_out);
  }
}

void mt_biased_select(mt_biased_state *s, mt_mlp_t *net) {
  for (uint32_t l = 0; l < s->n_layers; l++) {
    int columns = s->mode == MT_IMPORTANCE_SALIENCY;
    size_t want = wanted(s->important[l], columns ? s->n_col[l] : s->n_w[l]);
    memset(s->mask[l], 0, s->n_w[l]);
    if (want > 0 && columns) select_columns(s, l, want);
    else if (want > 0) select_weights(s, l, want);
    effective(s, net, l);
  }
  /* The next selection reads the saliency of the steps from here on. */
  for (uint32_t l = 0; s->mode == MT_IMPORTANCE_SALIENCY && l < s->n_layers; l++)
    memset(s->col_sal[l], 0, s->n_col[l] * sizeof(double));
  s->sal_steps = 0;
}

void mt_biased_accumulate(mt_biased_state *s, const mt_mlp_t *net, const mt_mlp_work_t *wk) {
  if (s->mode != MT_IMPORTANCE_SALIENCY) return;
  for (uint32_t l = 0; l < s->n_layers; l++) {
    /* A layer with nothing to constrain never reads its sums. */
    if (!(s->important[l] > 0)) continue;
    const uint32_t n_out = s->n_b[l];
    const size_t n_in = s->n_w[l] / n_out;
    for (size_t i = 0; i < n_in; i++) {
      double *sal = s->col_sal[l] + (i / MT_ROWS) * n_out;
      const float *w = net->w[l] + i * n_out, *g = wk->gw[l] + i * n_out;
      for (uint32_t j = 0; j < n_out; j++) sal[j] += fabs((double)w[j] * (double)g[j]);
    }
  }
  s->sal_steps++;
}

void mt_biased_step(mt_biased_state *s, mt_mlp_t *net, const mt_mlp_work_t *wk, float lr) {
  for (uint32_t l = 0; l < s->n_layers; l++) {
    size_t n = s->n_w[l];
    float lim = s->lim[l], *lat = s->latent[l];
    const float *g = wk->gw[l];
    for (size_t k = 0; k < n; k++) {
      float v = lat[k] - lr * g[k];
      lat[k] = v > lim ? lim : (v < -lim ? -lim : v);
    }
    for (uint32_t k = 0; k < s->n_b[l]; k++) net->b[l][k] -= lr * wk->gb[l][k];
    effective(s, net, l);
  }
}

/* ---- checkpoints ---------------------------------------------------------- */

void mt_charac_save(const mt_charac *c, mt_wbuf *b) {
  const uint32_t L = c->levels;
  mt_wbuf_u32(b, L);
  mt_wbuf_u32(b, c->samples);
  mt_wbuf_u32(b, c->reads);
  mt_wbuf_u32(b, c->favourable_k);
  mt_wbuf_u64(b, c->seed);
  mt_wbuf_f64(b, &c->level_step, 1);
  mt_wbuf_f64(b, &c->read_sigma, 1);
  mt_wbuf_f64(b, c->target, L);
  mt_wbuf_f64(b, c->mean, L);
  mt_wbuf_f64(b, c->sigma, L);
  mt_wbuf_f64(b, c->rms, L);
  for (uint32_t q = 0; q < L; q++) mt_wbuf_u32(b, c->wv_failures[q]);
  mt_wbuf_bytes(b, c->favourable, L);
}

int mt_charac_load(mt_charac *c, mt_rbuf *b, uint32_t levels, uint32_t favourable_k, char *err,
                   size_t errlen) {
  /* The level count sizes every array below: it must be this run's, checked first. */
  uint32_t L = mt_rbuf_u32(b);
  if (b->short_read || L != levels || L > MT_MAX_LEVELS) {
    snprintf(err, errlen, "the characterization has %u levels, this run has %u", L, levels);
    return -1;
  }
  memset(c, 0, sizeof *c);
  c->levels = L;
  c->samples = mt_rbuf_u32(b);
  c->reads = mt_rbuf_u32(b);
  c->favourable_k = mt_rbuf_u32(b);
  c->seed = mt_rbuf_u64(b);
  mt_rbuf_f64(b, &c->level_step, 1);
  mt_rbuf_f64(b, &c->read_sigma, 1);
  mt_rbuf_f64(b, c->target, L);
  mt_rbuf_f64(b, c->mean, L);
  mt_rbuf_f64(b, c->sigma, L);
  mt_rbuf_f64(b, c->rms, L);
  for (uint32_t q = 0; q < L; q++) c->wv_failures[q] = mt_rbuf_u32(b);
  const unsigned char *fav = mt_rbuf_bytes(b, L);
  if (!fav) {
    snprintf(err, errlen, "the characterization is cut short");
    return -1;
  }
  uint32_t n_fav = 0;
  for (uint32_t q = 0; q < L; q++) {
    if (fav[q] > 1) {
      snprintf(err, errlen, "the characterization's favourable flag of level %u is %u", q, fav[q]);
      return -1;
    }
    c->favourable[q] = fav[q];
    n_fav += fav[q];
  }
  if (c->favourable_k < 1 || c->favourable_k > L || n_fav != c->favourable_k ||
      (favourable_k && c->favourable_k != favourable_k)) {
    snprintf(err, errlen, "the characterization marks %u favourable levels of %u (favourable_k %u, "
             "this run wants %u)", n_fav, L, c->favourable_k, favourable_k);
    return -1;
  }
  return 0;
}

void mt_biased_save(const mt_biased_state *s, mt_wbuf *b) {
  for (uint32_t l = 0; l < s->n_layers; l++) mt_wbuf_f32(b, s->latent[l], s->n_w[l]);
  if (s->mode != MT_IMPORTANCE_SALIENCY) return;
  mt_wbuf_u64(b, s->sal_steps);
  for (uint32_t l = 0; l < s->n_layers; l++) mt_wbuf_f64(b, s->col_sal[l], s->n_col[l]);
}

int mt_biased_load(mt_biased_state *s, mt_rbuf *b, char *err, size_t errlen) {
  for (uint32_t l = 0; l < s->n_layers; l++) {
    mt_rbuf_f32(b, s->latent[l], s->n_w[l]);
    if (b->short_read) {
      snprintf(err, errlen, "the latent weights are cut short");
      return -1;
    }
    const float lim = s->lim[l];
    for (size_t k = 0; k < s->n_w[l]; k++) {
      float v = s->latent[l][k];
      /* SGD clips to +-lim; a NaN (a diverged run) passes the clip and is kept as it is. */
      if (!(v >= -lim && v <= lim) && !isnan(v)) {
        snprintf(err, errlen, "latent weight %zu of layer %u is %g, outside +-%g", k, l, (double)v,
                 (double)lim);
        return -1;
      }
    }
  }
  if (s->mode != MT_IMPORTANCE_SALIENCY) return 0;
  s->sal_steps = mt_rbuf_u64(b);
  for (uint32_t l = 0; l < s->n_layers; l++) {
    mt_rbuf_f64(b, s->col_sal[l], s->n_col[l]);
    if (b->short_read) {
      snprintf(err, errlen, "the column saliencies are cut short");
      return -1;
    }
    for (uint32_t c = 0; c < s->n_col[l]; c++)
      if (s->col_sal[l][c] < 0 || isinf(s->col_sal[l][c])) {
        snprintf(err, errlen, "the saliency of column %u of layer %u is %g", c, l, s->col_sal[l][c]);
        return -1;
      }
  }
  return 0;
}

/* ---- the `conventional` and `biased` algorithms (mt_algo.h) ----
 * Trained in float on the host (biased: important weights on favourable
 * levels), then programmed once per epoch onto freshly fabricated tiles and
 * tested there. With --val the epoch of best validation accuracy is the
 * result; --draws programs the result onto more dies after the last epoch. */

#define MT_DRAW_SEED_XOR 0xD4A3ull /* the draws' dies: apart from the run's seed (ours) */
#define MT_RESULT_SEED_XOR 0xB357ull /* --drift-eval's programming of the best epoch (ours) */

typedef struct {
  mt_biased_state biased;
  mt_charac charac;        /* the device characterization (measured, or from the checkpoint) */
  mt_slice_map_t *sliced;  /* --slices: one per layer, used instead of t->maps on the device */
  /* --val: the epoch of best validation accuracy of the current task so far (0: none yet),
   * its accuracies and its network (the effective weights it was programmed with) */
  uint32_t best_epoch, best_task;
  double best_val, best_test;
  float *best_w[MT_NN_MAX_LAYERS], *best_b[MT_NN_MAX_LAYERS];
  uint16_t *mirror;        /* --draws: the level mirrors of the epoch, put back after the draws */
} offline_t;

static int offline_create(mt_trainer *t) {
  t->state = calloc(1, sizeof(offline_t));
  return t->state ? 0 : mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
}

static void offline_destroy(mt_trainer *t) {
  offline_t *s = t->state;
  if (!s) return;
  mt_biased_free(&s->biased);
  for (uint32_t l = 0; s->sliced && l < t->o->n_layers; l++) mt_slice_free(&s->sliced[l]);
  free(s->sliced);
  for (uint32_t l = 0; l < MT_NN_MAX_LAYERS; l++) {
    free(s->best_w[l]);
    free(s->best_b[l]);
  }
  free(s->mirror);
  free(s);
  t->state = NULL;
}

/* Characterizes another die first (so that the device's noise streams match
 * between the algorithms); the preset and seed are then set anew. A resumed
 * run has the characterization from its checkpoint. */
static int offline_prepare(mt_trainer *t, const mt_preset_t **apply) {
  (void)apply;
  const mt_train_opts *o = t->o;
  offline_t *s = t->state;
  if (o->resume) return 0;
  return mt_characterize(t->dev, t->preset, 0, o->seed ^ MT_CHAR_SEED_XOR, MT_CHAR_DEFAULT_SAMPLES,
                         MT_CHAR_DEFAULT_READS, o->favourable_k, &s->charac, t->err, t->errlen);
}

/* --slices: every layer bit-sliced onto its own tiles (the level maps stay
 * for the weight range, but only the slices go to the device); biased
 * training then keeps the important weights on codes whose top slice is in a
 * favourable state. */
static int setup_slices(mt_trainer *t, offline_t *st) {
  const mt_train_opts *o = t->o;
  const uint32_t *cfg = t->preset->cfg;
  st->sliced = calloc(o->n_layers, sizeof *st->sliced);
  if (!st->sliced) return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
  uint32_t first = 0;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    uint32_t in = t->maps[l].n_in, out = t->maps[l].n_out;
    float w_max = o->w_max_factor * sqrtf(6.0f / (float)in);
    mt_slice_map_t *s = &st->sliced[l];
    if (mt_slice_init(s, in, out, first, t->preset->levels, o->slices, w_max, t->level_step,
                      cfg[MT_CFG_ADC_MUL], cfg[MT_CFG_ADC_SHIFT], cfg[MT_CFG_DAC_BITS],
                      o->batch * mt_layer_positions(o->spec, l), t->err, t->errlen) != 0)
      return -1;
    first += mt_slice_tiles_needed(in, out, o->slices);
    float *allowed = malloc(((size_t)1 << s->code_bits) * sizeof *allowed);
    if (!allowed) return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
    uint32_t n = mt_slice_allowed(s, st->charac.favourable, allowed);
    int rc = mt_biased_use_values(&st->biased, l, allowed, n, (float)s->code_max * s->step, t->err,
                                  t->errlen);
    free(allowed);
    if (rc != 0) return -1;
  }
  return 0;
}

/* The level mirrors deploy rewrites (each layer's map, or its slices' maps) copied into buf
 * (save) or back from it; returns their count (buf NULL: only counts). */
static size_t mirrors(mt_trainer *t, offline_t *s, uint16_t *buf, int save) {
  size_t at = 0;
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    uint32_t n_maps = s->sliced ? s->sliced[l].n_slices : 1;
    for (uint32_t k = 0; k < n_maps; k++) {
      mt_layer_map_t *m = s->sliced ? &s->sliced[l].slice[k] : &t->maps[l];
      size_t n = (size_t)m->n_in * m->n_out;
      if (buf && save) memcpy(buf + at, m->level, n * sizeof *buf);
      else if (buf) memcpy(m->level, buf + at, n * sizeof *buf);
      at += n;
    }
  }
  return at;
}

static int offline_setup(mt_trainer *t) {
  const mt_train_opts *o = t->o;
  offline_t *s = t->state;
  int biased = o->algo == MT_ALGO_BIASED;
  float important[MT_NN_MAX_LAYERS] = {0};
  for (uint32_t l = 0; biased && l < o->n_layers; l++) important[l] = mt_train_important(o, l);
  if (mt_biased_init(&s->biased, &t->net, t->maps, s->charac.favourable, important,
                     biased ? o->importance : MT_IMPORTANCE_MAGNITUDE, t->err, t->errlen) != 0)
    return -1;
  if (o->slices && setup_slices(t, s) != 0) return -1;
  for (uint32_t l = 0; o->val && l < o->n_layers; l++) {
    s->best_w[l] = malloc(mt_trainer_weights(t, l) * sizeof(float));
    s->best_b[l] = malloc(mt_trainer_outputs(t, l) * sizeof(float));
    if (!s->best_w[l] || !s->best_b[l]) return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
  }
  const int reprogram = o->draws > 1 || (o->val && o->n_drift_t); /* draw, offline_use_result */
  if (reprogram && !(s->mirror = malloc(mirrors(t, s, NULL, 0) * sizeof *s->mirror)))
    return mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
  return 0;
}

static void offline_epoch_start(mt_trainer *t) {
  offline_t *s = t->state;
  mt_biased_select(&s->biased, &t->net);
}

static int offline_matmul(mt_trainer *t, uint32_t layer, const float *in, uint32_t batch, float *out) {
  offline_t *s = t->state;
  if (s->sliced) return mt_slice_matmul(&s->sliced[layer], t->dev, in, batch, out);
  return mt_map_matmul(&t->maps[layer], t->dev, in, batch, out);
}

static int offline_step(mt_trainer *t) {
  offline_t *s = t->state;
  mt_biased_accumulate(&s->biased, &t->net, &t->wk);
  mt_biased_step(&s->biased, &t->net, &t->wk, t->o->lr);
  return 0;
}

/* The network as it stands is programmed once onto tiles freshly fabricated
 * from `die` (the run's seed after every epoch: the same die), every weight
 * from its reset state. */
static int deploy(mt_trainer *t, offline_t *s, uint64_t die) {
  const mt_train_opts *o = t->o;
  uint32_t flags = o->open_loop ? MT_PROG_OPEN_LOOP : 0;
  for (uint32_t l = 0; s->sliced && l < o->n_layers; l++) {
    mt_slice_map_t *sl = &s->sliced[l];
    for (uint32_t k = 0; k < sl->n_slices; k++) {
      mt_layer_map_t *m = &sl->slice[k];
      for (uint32_t i = 0; i < m->row_blocks * m->col_blocks; i++)
        if (mt_dev_fabricate(t->dev, die, m->first_tile + i) != MT_OK) return mt_trainer_dev_fail(t);
      for (size_t i = 0; i < (size_t)m->n_in * m->n_out; i++) m->level[i] = MT_LEVEL_NONE;
    }
    if (mt_slice_program(sl, t->dev, t->net.w[l], flags) != MT_OK) return mt_trainer_dev_fail(t);
  }
  for (uint32_t l = 0; !s->sliced && l < o->n_layers; l++) {
    mt_layer_map_t *m = &t->maps[l];
    uint32_t tiles = m->row_blocks * m->col_blocks;
    for (uint32_t k = 0; k < tiles; k++)
      if (mt_dev_fabricate(t->dev, die, m->first_tile + k) != MT_OK) return mt_trainer_dev_fail(t);
    for (size_t k = 0; k < (size_t)m->n_in * m->n_out; k++) m->level[k] = MT_LEVEL_NONE;
    if (mt_map_program(m, t->dev, t->net.w[l], NULL, 0, flags, NULL) != MT_OK)
      return mt_trainer_dev_fail(t);
  }
  return 0;
}

/* The float network's test accuracy (before programming), then the deployment. */
static int offline_epoch_end(mt_trainer *t, const mt_dataset_t *test, mt_epoch_stats *st) {
  st->has_sw_accuracy = 1;
  if (mt_trainer_evaluate(t, test, 0, &st->sw_test_accuracy) != 0) return -1;
  return deploy(t, t->state, t->o->seed);
}

/* --val: keeps the epoch's network if its validation accuracy is the best of its task so far
 * (strictly: the earlier epoch wins a tie). */
static void keep_best(mt_trainer *t, offline_t *s, mt_epoch_stats *st) {
  if (s->best_epoch == 0 || st->task != s->best_task || st->val_accuracy > s->best_val) {
    s->best_epoch = st->epoch;
    s->best_task = st->task;
    s->best_val = st->val_accuracy;
    s->best_test = st->test_accuracy;
    for (uint32_t l = 0; l < t->o->n_layers; l++) {
      memcpy(s->best_w[l], t->net.w[l], mt_trainer_weights(t, l) * sizeof(float));
      memcpy(s->best_b[l], t->net.b[l], mt_trainer_outputs(t, l) * sizeof(float));
    }
  }
  st->has_best = 1;
  st->best_epoch = s->best_epoch;
  st->best_val_accuracy = s->best_val;
  st->best_test_accuracy = s->best_test;
}

/* Exchanges the network in t->net with the best epoch's (pointers only). */
static void swap_best(mt_trainer *t, offline_t *s) {
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    float *w = t->net.w[l], *b = t->net.b[l];
    t->net.w[l] = s->best_w[l], t->net.b[l] = s->best_b[l];
    s->best_w[l] = w, s->best_b[l] = b;
  }
}

/* --draws K: the run's result (the best epoch's network with --val, else the last epoch's)
 * programmed onto K dies, die k seeded and fabricated from the k-th output of splitmix64
 * started at seed ^ MT_DRAW_SEED_XOR (low 48 bits), and tested on each. The device image and
 * the level mirrors are put back afterwards: the checkpoint and any later epoch (a resume with
 * a larger --epochs) see the device as the epoch left it. */
static int draw(mt_trainer *t, offline_t *s, const mt_dataset_t *test, mt_epoch_stats *st) {
  const mt_train_opts *o = t->o;
  unsigned char *img = NULL;
  size_t img_len = 0;
  if (mt_dev_snapshot_bytes(t->dev, &img, &img_len) != MT_OK) return mt_trainer_dev_fail(t);
  mirrors(t, s, s->mirror, 1);
  if (o->val) swap_best(t, s);
  uint64_t x = o->seed ^ MT_DRAW_SEED_XOR;
  int rc = 0;
  for (uint32_t k = 0; rc == 0 && k < o->draws; k++) {
    uint64_t die = mt_splitmix64_next(&x) & 0xFFFFFFFFFFFFull;
    rc = mt_dev_seed(t->dev, die) != MT_OK ? mt_trainer_dev_fail(t) : deploy(t, s, die);
    if (rc == 0) rc = mt_trainer_evaluate(t, test, 1, &st->draw_accuracy[k]);
  }
  if (o->val) swap_best(t, s);
  mirrors(t, s, s->mirror, 0);
  int restored = mt_dev_restore_bytes(t->dev, img, img_len, "the device image before the draws");
  if (restored != MT_OK && rc == 0) rc = mt_trainer_dev_fail(t);
  free(img);
  if (rc != 0) return rc;
  double sum = 0, sq = 0;
  for (uint32_t k = 0; k < o->draws; k++) sum += st->draw_accuracy[k];
  st->n_draws = o->draws;
  st->draw_mean = sum / o->draws;
  for (uint32_t k = 0; k < o->draws; k++) {
    double d = st->draw_accuracy[k] - st->draw_mean;
    sq += d * d;
  }
  st->draw_sd = sqrt(sq / (o->draws - 1)); /* the sample standard deviation: draws >= 2 */
  return 0;
}

static int offline_epoch_tested(mt_trainer *t, const mt_dataset_t *test, mt_epoch_stats *st,
                                int last) {
  offline_t *s = t->state;
  if (st->has_val) keep_best(t, s, st);
  return last && t->o->draws > 1 ? draw(t, s, test, st) : 0;
}

/* --drift-eval with --val: the best epoch's network programmed anew onto the run's die (the
 * tiles fabricated as after every epoch), the device's noise seeded with seed ^
 * MT_RESULT_SEED_XOR. The device that epoch was tested on is gone (every epoch re-fabricates
 * the die), so this is another programming of the same network: its figures depend on that
 * network and the seed only, so a run that ends at its best epoch drifts the same device as
 * a longer one whose best epoch it is. */
static int offline_use_result(mt_trainer *t, int on) {
  offline_t *s = t->state;
  if (!on) {
    swap_best(t, s);
    mirrors(t, s, s->mirror, 0);
    return 0;
  }
  mirrors(t, s, s->mirror, 1);
  swap_best(t, s);
  if (mt_dev_seed(t->dev, t->o->seed ^ MT_RESULT_SEED_XOR) != MT_OK) return mt_trainer_dev_fail(t);
  return deploy(t, s, t->o->seed);
}

static void conventional_fingerprint(const mt_trainer *t, mt_fp *fp) {
  mt_fp_add(fp, "slices", MT_FP_INT, t->o->slices);
}

static void biased_fingerprint(const mt_trainer *t, mt_fp *fp) {
  static const char *const per_layer[MT_NN_MAX_LAYERS] = {
      "important (layer 1)", "important (layer 2)", "important (layer 3)", "important (layer 4)",
      "important (layer 5)", "important (layer 6)", "important (layer 7)", "important (layer 8)"};
  const mt_train_opts *o = t->o;
  if (!o->n_important) mt_fp_add(fp, "important", MT_FP_FLOAT, mt_fp_f32(o->important));
  for (uint32_t l = 0; l < o->n_important && l < MT_NN_MAX_LAYERS; l++)
    mt_fp_add(fp, per_layer[l], MT_FP_FLOAT, mt_fp_f32(o->important_layer[l]));
  /* Magnitude adds nothing, so that checkpoints written before saliency existed resume with it. */
  if (o->importance == MT_IMPORTANCE_SALIENCY) mt_fp_add(fp, "importance by saliency", MT_FP_INT, 1);
  mt_fp_add(fp, "favourable", MT_FP_INT, o->favourable_k);
  conventional_fingerprint(t, fp);
}

/* Section: the characterization (restored before the device is touched, so
 * it is not measured again), then the latent weights (and saliency sums), then
 * with --val the best epoch and its network. */
static void offline_save(const mt_trainer *t, mt_wbuf *b) {
  const offline_t *s = t->state;
  mt_charac_save(&s->charac, b);
  mt_biased_save(&s->biased, b);
  if (!t->o->val) return;
  mt_wbuf_u32(b, s->best_epoch);
  mt_wbuf_u32(b, s->best_task);
  mt_wbuf_f64(b, &s->best_val, 1);
  mt_wbuf_f64(b, &s->best_test, 1);
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    mt_wbuf_f32(b, s->best_w[l], mt_trainer_weights(t, l));
    mt_wbuf_f32(b, s->best_b[l], mt_trainer_outputs(t, l));
  }
}

static int offline_load_pre(mt_trainer *t, mt_rbuf *b) {
  offline_t *s = t->state;
  uint32_t fav = t->o->algo == MT_ALGO_BIASED ? t->o->favourable_k : 0;
  return mt_charac_load(&s->charac, b, t->preset->levels, fav, t->err, t->errlen);
}

static int offline_load(mt_trainer *t, mt_rbuf *b) {
  offline_t *s = t->state;
  if (mt_biased_load(&s->biased, b, t->err, t->errlen) != 0) return -1;
  if (!t->o->val) return 0;
  s->best_epoch = mt_rbuf_u32(b);
  s->best_task = mt_rbuf_u32(b);
  mt_rbuf_f64(b, &s->best_val, 1);
  mt_rbuf_f64(b, &s->best_test, 1);
  /* The epochs the checkpoint holds, numbered across tasks as the log numbers them. */
  uint32_t held = t->task * t->o->epochs + t->done;
  if (b->short_read || s->best_epoch < 1 || s->best_epoch > held || s->best_task != t->task + 1 ||
      !(s->best_val >= 0 && s->best_val <= 1) || !(s->best_test >= 0 && s->best_test <= 1))
    return mt_trainer_fail(t, MT_ERR_FILE, "the best epoch's record is not one of this run's "
                           "(epoch %u of task %u, validation %g, test %g)", s->best_epoch,
                           s->best_task, s->best_val, s->best_test);
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    size_t nw = mt_trainer_weights(t, l);
    uint32_t nb = mt_trainer_outputs(t, l);
    mt_rbuf_f32(b, s->best_w[l], nw);
    mt_rbuf_f32(b, s->best_b[l], nb);
    if (b->short_read)
      return mt_trainer_fail(t, MT_ERR_FILE, "the best epoch's network is cut short");
    for (size_t k = 0; k < nw + nb; k++) {
      float v = k < nw ? s->best_w[l][k] : s->best_b[l][k - nw];
      if (!isfinite(v))
        return mt_trainer_fail(t, MT_ERR_FILE, "the best epoch's layer %u %s %zu is %g", l,
                               k < nw ? "weight" : "bias", k < nw ? k : k - nw, (double)v);
    }
  }
  return 0;
}

const mt_algo_ops mt_algo_conventional = {
  .name = "conventional",
  .flags = MT_ALGO_F_DEVICE | MT_ALGO_F_SLICES | MT_ALGO_F_OFFLINE,
  .create = offline_create,
  .destroy = offline_destroy,
  .prepare = offline_prepare,
  .setup = offline_setup,
  .epoch_start = offline_epoch_start,
  .matmul = offline_matmul,
  .step = offline_step,
  .epoch_end = offline_epoch_end,
  .epoch_tested = offline_epoch_tested,
  .use_result = offline_use_result,
  .fingerprint = conventional_fingerprint,
  .save = offline_save,
  .load_pre = offline_load_pre,
  .load = offline_load,
};

const mt_algo_ops mt_algo_biased = {
  .name = "biased",
  .flags = MT_ALGO_F_DEVICE | MT_ALGO_F_SLICES | MT_ALGO_F_OFFLINE,
  .create = offline_create,
  .destroy = offline_destroy,
  .prepare = offline_prepare,
  .setup = offline_setup,
  .epoch_start = offline_epoch_start,
  .matmul = offline_matmul,
  .step = offline_step,
  .epoch_end = offline_epoch_end,
  .epoch_tested = offline_epoch_tested,
  .use_result = offline_use_result,
  .fingerprint = biased_fingerprint,
  .save = offline_save,
  .load_pre = offline_load_pre,
  .load = offline_load,
};
