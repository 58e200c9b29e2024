/* Float MLP: forward, softmax cross-entropy, backward, SGD (see mt_nn.h).
 *
 * The kernels keep the innermost loop over a contiguous dimension and run it
 * over a trip count that is a multiple of 8 followed by a scalar tail: gcc's
 * -O2 ("very cheap") vectoriser only vectorises loops whose vector body
 * replaces the scalar one entirely, so this split is what makes the release
 * build use SIMD. Every sum is accumulated in a fixed order, so results do not
 * depend on the compiler's choices beyond IEEE-754 float arithmetic. */
#include "mt_nn.h"

#include "mt_cnn.h"
#include "mt_rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small vector kernels ------------------------------------------------ */

/* y += a * x over n floats. */
static void axpy(float *restrict y, float a, const float *restrict x, size_t n) {
  size_t nv = n & ~(size_t)7;
  for (size_t j = 0; j < nv; j++) y[j] += a * x[j];
  for (size_t j = nv; j < n; j++) y[j] += a * x[j];
}

/* Dot product with 8 independent partial sums: a single running sum is a
 * serial dependency the compiler may not reorder (no -ffast-math), the 8
 * lanes vectorise and keep the summation order fixed. */
static float dot(const float *restrict a, const float *restrict b, size_t n) {
  float acc[8] = {0};
  size_t nv = n & ~(size_t)7;
  for (size_t j = 0; j < nv; j += 8)
    for (size_t k = 0; k < 8; k++) acc[k] += a[j + k] * b[j + k];
  float s = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
  for (size_t j = nv; j < n; j++) s += a[j] * b[j];
  return s;
}

/* y[0..n) = sum over k < K of s[k*ss] * M[k*n + j]: a linear combination of
 * the rows of M (row-major, n wide). Both matrix products of training have
 * this shape: a forward output row (s = input row, M = W) and a weight
 * gradient row (s = a column of the activations, M = the deltas). Terms with
 * s == 0 (dead ReLU units, blank pixels) are exactly zero and are skipped.
 * Every y[j] sums its terms in increasing k, whichever path computes it.
 *
 * The nonzero terms of a chunk of k are first gathered without branches: a
 * data-dependent "skip if zero" test inside the product loop mispredicts on
 * about every other sparse input and cost more than the skipped work. */
enum { LC_CHUNK = 256 };

typedef struct {
  uint32_t n;              /* nonzero terms gathered */
  uint32_t idx[LC_CHUNK];  /* their k */
  float val[LC_CHUNK];     /* their s[k*ss] */
} terms_t;

static void gather_terms(terms_t *t, const float *s, size_t ss, uint32_t k0, uint32_t count) {
  uint32_t c = 0;
  for (uint32_t k = k0; k < k0 + count; k++) {
    float v = s[(size_t)k * ss];
    t->idx[c] = k;
    t->val[c] = v;
    c += v != 0.0f;
  }
  t->n = c;
}

/* Adds the gathered terms to columns j0..n of y. */
static void add_terms_axpy(float *restrict y, const terms_t *t, const float *restrict m,
                           uint32_t n, uint32_t j0) {
  for (uint32_t q = 0; q < t->n; q++)
    axpy(y + j0, t->val[q], m + (size_t)t->idx[q] * n + j0, n - j0);
}

#if defined(__GNUC__)
/* 32 columns held in 8 vector registers over all the terms: only M is loaded
 * per term, where the row axpy loads and stores y for every term (about 2x
 * faster on a 784x256 layer). GNU vector types are portable across targets
 * (scalarised where there is no SIMD); the accumulators are named variables
 * because gcc keeps an array of them in memory. */
typedef float v4f __attribute__((vector_size(16)));

static v4f load4(const float *p) {
  v4f v;
  memcpy(&v, p, sizeof v);
  return v;
}

static void store4(float *p, v4f v) { memcpy(p, &v, sizeof v); }

/* Returns the first column not handled (the tail narrower than 32). */
static uint32_t add_terms_tiled(float *restrict y, const terms_t *t, const float *restrict m,
                                uint32_t n) {
  uint32_t jt = 0;
  for (; jt + 32 <= n; jt += 32) {
    float *o = y + jt;
    v4f a0 = load4(o), a1 = load4(o + 4), a2 = load4(o + 8), a3 = load4(o + 12);
    v4f a4 = load4(o + 16), a5 = load4(o + 20), a6 = load4(o + 24), a7 = load4(o + 28);
    for (uint32_t q = 0; q < t->n; q++) {
      const float *r = m + (size_t)t->idx[q] * n + jt;
      float sk = t->val[q];
      v4f v = {sk, sk, sk, sk};
      a0 += v * load4(r);
      a1 += v * load4(r + 4);
      a2 += v * load4(r + 8);
      a3 += v * load4(r + 12);
      a4 += v * load4(r + 16);
      a5 += v * load4(r + 20);
      a6 += v * load4(r + 24);
      a7 += v * load4(r + 28);
    }
    store4(o, a0), store4(o + 4, a1), store4(o + 8, a2), store4(o + 12, a3);
    store4(o + 16, a4), store4(o + 20, a5), store4(o + 24, a6), store4(o + 28, a7);
  }
  return jt;
}
#else
static uint32_t add_terms_tiled(float *restrict y, const terms_t *t, const float *restrict m,
                                uint32_t n) {
  (void)y, (void)t, (void)m, (void)n;
  return 0;
}
#endif

static void lincomb(float *restrict y, const float *restrict s, size_t ss,
                    const float *restrict m, uint32_t K, uint32_t n) {
  terms_t t;
  memset(y, 0, (size_t)n * sizeof *y);
  for (uint32_t k0 = 0; k0 < K; k0 += LC_CHUNK) {
    gather_terms(&t, s, ss, k0, K - k0 < LC_CHUNK ? K - k0 : LC_CHUNK);
    if (t.n == 0) continue;
    uint32_t j0 = add_terms_tiled(y, &t, m, n);
    if (j0 < n) add_terms_axpy(y, &t, m, n, j0);
  }
}

static uint32_t argmax(const float *z, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t j = 1; j < n; j++)
    if (z[j] > z[best]) best = j;
  return best;
}

/* ---- spec parsing -------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *spec, const char *what, const char *part,
                    size_t part_len) {
  if (!err || errlen == 0) return;
  snprintf(err, errlen, "invalid network spec \"%s\": %s \"%.*s\"", spec, what, (int)part_len,
           part);
}

/* Parses one '-'-separated part of spec; 0 or -1 with a message. */
static int parse_part(const char *spec, const char *p, size_t len, uint32_t *out, char *err,
                      size_t errlen) {
  if (len == 0) {
    set_err(err, errlen, spec, "empty size between dashes", p, 0);
    return -1;
  }
  uint64_t v = 0;
  for (size_t k = 0; k < len; k++) {
    if (p[k] < '0' || p[k] > '9') {
      set_err(err, errlen, spec, "size is not a number:", p, len);
      return -1;
    }
    /* Saturate so a long digit string cannot wrap back into range. */
    if (v <= MT_NN_MAX_SIZE) v = v * 10 + (uint64_t)(p[k] - '0');
  }
  if (v == 0) {
    set_err(err, errlen, spec, "size must be at least 1:", p, len);
    return -1;
  }
  if (v > MT_NN_MAX_SIZE) {
    char what[64];
    snprintf(what, sizeof what, "size is larger than %u:", MT_NN_MAX_SIZE);
    set_err(err, errlen, spec, what, p, len);
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

int mt_mlp_parse(const char *spec, uint32_t *sizes, uint32_t *n_layers, char *err, size_t errlen) {
  if (!spec || !*spec) {
    set_err(err, errlen, spec ? spec : "", "empty spec, expected sizes like", "784-256-10", 10);
    return -1;
  }
  uint32_t tmp[MT_NN_MAX_LAYERS + 1];
  uint32_t count = 0;
  const char *p = spec;
  for (;;) {
    const char *dash = strchr(p, '-');
    size_t len = dash ? (size_t)(dash - p) : strlen(p);
    if (count == MT_NN_MAX_LAYERS + 1) {
      char what[96];
      snprintf(what, sizeof what, "more than %u sizes (at most %u weight layers) at",
               MT_NN_MAX_LAYERS + 1, MT_NN_MAX_LAYERS);
      set_err(err, errlen, spec, what, p, strlen(p));
      return -1;
    }
    if (parse_part(spec, p, len, &tmp[count], err, errlen) != 0) return -1;
    count++;
    if (!dash) break;
    p = dash + 1;
  }
  if (count < 2) {
    set_err(err, errlen, spec, "need at least 2 sizes (inputs and classes), got only", spec,
            strlen(spec));
    return -1;
  }
  memcpy(sizes, tmp, count * sizeof *tmp);
  *n_layers = count - 1;
  return 0;
}

/* ---- allocation ---------------------------------------------------------- */

static size_t n_w(const mt_mlp_t *m, uint32_t l) { return (size_t)mt_mlp_rows(m, l) * mt_mlp_cols(m, l); }

static int is_conv(const mt_mlp_t *m, uint32_t l) { return m->spec[l].conv != 0; }

/* Allocates zeroed weights and biases for the shape already in m. */
static int alloc_params(mt_mlp_t *m) {
  for (uint32_t l = 0; l < m->n_layers; l++) {
    m->w[l] = calloc(n_w(m, l), sizeof(float));
    m->b[l] = calloc(mt_mlp_cols(m, l), sizeof(float));
    if (!m->w[l] || !m->b[l]) {
      mt_mlp_free(m);
      return -1;
    }
  }
  return 0;
}

static void set_shape(mt_mlp_t *m, const uint32_t *sizes, const mt_layer_spec *spec,
                      uint32_t n_layers) {
  memset(m, 0, sizeof *m);
  m->n_layers = n_layers;
  memcpy(m->sizes, sizes, (n_layers + 1) * sizeof *sizes);
  if (spec) memcpy(m->spec, spec, n_layers * sizeof *spec);
}

/* Uniform in [-1, 1): 24 random bits make 2u-1 exact in float, so |w| never
 * exceeds the bound after scaling and every platform gets the same bits. */
static float uniform_pm1(uint64_t *s) {
  float u = (float)(mt_splitmix64_next(s) >> 40) * 0x1p-24f;
  return 2.0f * u - 1.0f;
}

int mt_mlp_init(mt_mlp_t *m, const uint32_t *sizes, uint32_t n_layers, uint64_t seed) {
  return mt_net_init(m, sizes, NULL, n_layers, seed);
}

int mt_net_init(mt_mlp_t *m, const uint32_t *sizes, const mt_layer_spec *spec, uint32_t n_layers,
                uint64_t seed) {
  if (!m) return -1;
  memset(m, 0, sizeof *m);
  if (!mt_net_shape_ok(sizes, spec, n_layers)) return -1;
  set_shape(m, sizes, spec, n_layers);
  if (alloc_params(m) != 0) return -1;
  uint64_t s = seed;
  for (uint32_t l = 0; l < n_layers; l++) {
    float bound = sqrtf(6.0f / (float)mt_mlp_rows(m, l));
    size_t n = n_w(m, l);
    for (size_t k = 0; k < n; k++) m->w[l][k] = uniform_pm1(&s) * bound;
  }
  return 0;
}

static void free_bn(mt_mlp_t *m) {
  for (uint32_t l = 0; l < MT_NN_MAX_LAYERS; l++) {
    free(m->bn_gamma[l]);
    free(m->bn_beta[l]);
    free(m->bn_mean[l]);
    free(m->bn_var[l]);
    m->bn_gamma[l] = m->bn_beta[l] = m->bn_mean[l] = m->bn_var[l] = NULL;
  }
}

int mt_mlp_enable_bn(mt_mlp_t *m) {
  for (uint32_t l = 0; l + 1 < m->n_layers; l++) {
    const uint32_t n = mt_mlp_cols(m, l);
    m->bn_gamma[l] = malloc(n * sizeof(float));
    m->bn_beta[l] = calloc(n, sizeof(float));
    m->bn_mean[l] = calloc(n, sizeof(float));
    m->bn_var[l] = malloc(n * sizeof(float));
    if (!m->bn_gamma[l] || !m->bn_beta[l] || !m->bn_mean[l] || !m->bn_var[l]) {
      free_bn(m);
      return -1;
    }
    for (uint32_t j = 0; j < n; j++) m->bn_gamma[l][j] = 1.0f, m->bn_var[l][j] = 1.0f;
  }
  return 0;
}

void mt_mlp_free(mt_mlp_t *m) {
  if (!m) return;
  free_bn(m);
  for (uint32_t l = 0; l < MT_NN_MAX_LAYERS; l++) {
    free(m->w[l]);
    free(m->b[l]);
  }
  memset(m, 0, sizeof *m);
}

int mt_mlp_copy(mt_mlp_t *dst, const mt_mlp_t *src) {
  if (!dst) return -1;
  memset(dst, 0, sizeof *dst);
  if (!src || !mt_net_shape_ok(src->sizes, src->spec, src->n_layers)) return -1;
  set_shape(dst, src->sizes, src->spec, src->n_layers);
  if (alloc_params(dst) != 0) return -1;
  for (uint32_t l = 0; l < src->n_layers; l++) {
    memcpy(dst->w[l], src->w[l], n_w(src, l) * sizeof(float));
    memcpy(dst->b[l], src->b[l], mt_mlp_cols(src, l) * sizeof(float));
  }
  if (src->bn_gamma[0]) {
    if (mt_mlp_enable_bn(dst) != 0) {
      mt_mlp_free(dst);
      return -1;
    }
    for (uint32_t l = 0; l + 1 < src->n_layers; l++) {
      const size_t n = mt_mlp_cols(src, l) * sizeof(float);
      memcpy(dst->bn_gamma[l], src->bn_gamma[l], n);
      memcpy(dst->bn_beta[l], src->bn_beta[l], n);
      memcpy(dst->bn_mean[l], src->bn_mean[l], n);
      memcpy(dst->bn_var[l], src->bn_var[l], n);
    }
  }
  return 0;
}

size_t mt_mlp_n_weights(const mt_mlp_t *m) {
  size_t n = 0;
  for (uint32_t l = 0; l < m->n_layers; l++) n += n_w(m, l);
  return n;
}

int mt_mlp_work_init(mt_mlp_work_t *wk, const mt_mlp_t *m, uint32_t max_batch) {
  if (!wk) return -1;
  memset(wk, 0, sizeof *wk);
  if (!m || max_batch == 0 || !mt_net_shape_ok(m->sizes, m->spec, m->n_layers)) return -1;
  wk->max_batch = max_batch;
  wk->n_layers = m->n_layers;
  memcpy(wk->sizes, m->sizes, (m->n_layers + 1) * sizeof *m->sizes);
  memcpy(wk->spec, m->spec, sizeof wk->spec);
  int ok = 1;
  for (uint32_t l = 0; l <= m->n_layers; l++) {
    size_t rows = (size_t)max_batch * m->sizes[l];
    wk->act[l] = calloc(rows, sizeof(float));
    ok = ok && wk->act[l];
    if (l == 0) continue;
    wk->delta[l] = calloc(rows, sizeof(float));
    wk->gw[l - 1] = calloc(n_w(m, l - 1), sizeof(float));
    wk->gb[l - 1] = calloc(mt_mlp_cols(m, l - 1), sizeof(float));
    ok = ok && wk->delta[l] && wk->gw[l - 1] && wk->gb[l - 1];
    if (is_conv(m, l - 1)) {
      size_t pos = (size_t)max_batch * mt_mlp_positions(m, l - 1);
      wk->cols[l - 1] = calloc(pos * mt_mlp_rows(m, l - 1), sizeof(float));
      wk->z[l - 1] = calloc(pos * mt_mlp_cols(m, l - 1), sizeof(float));
      wk->dz[l - 1] = calloc(pos * mt_mlp_cols(m, l - 1), sizeof(float));
      ok = ok && wk->cols[l - 1] && wk->z[l - 1] && wk->dz[l - 1];
    }
    if (mt_mlp_has_bn(m, l - 1)) {
      const uint32_t n = mt_mlp_cols(m, l - 1);
      wk->bn_xhat[l - 1] = calloc((size_t)max_batch * mt_mlp_positions(m, l - 1) * n, sizeof(float));
      wk->bn_istd[l - 1] = calloc(n, sizeof(float));
      wk->g_gamma[l - 1] = calloc(n, sizeof(float));
      wk->g_beta[l - 1] = calloc(n, sizeof(float));
      ok = ok && wk->bn_xhat[l - 1] && wk->bn_istd[l - 1] && wk->g_gamma[l - 1] && wk->g_beta[l - 1];
    }
  }
  if (!ok) {
    mt_mlp_work_free(wk);
    return -1;
  }
  return 0;
}

void mt_mlp_work_free(mt_mlp_work_t *wk) {
  if (!wk) return;
  for (uint32_t l = 0; l <= MT_NN_MAX_LAYERS; l++) {
    free(wk->act[l]);
    free(wk->delta[l]);
    if (l < MT_NN_MAX_LAYERS) {
      free(wk->gw[l]);
      free(wk->gb[l]);
      free(wk->cols[l]);
      free(wk->z[l]);
      free(wk->dz[l]);
      free(wk->bn_xhat[l]);
      free(wk->bn_istd[l]);
      free(wk->g_gamma[l]);
      free(wk->g_beta[l]);
    }
  }
  memset(wk, 0, sizeof *wk);
}

/* ---- forward ------------------------------------------------------------- */

void mt_mlp_matmul_float(const mt_mlp_t *m, uint32_t layer, const float *in, uint32_t batch,
                         float *out) {
  const uint32_t n_in = mt_mlp_rows(m, layer), n_out = mt_mlp_cols(m, layer);
  for (uint32_t b = 0; b < batch; b++)
    lincomb(out + (size_t)b * n_out, in + (size_t)b * n_in, 1, m->w[layer], n_in, n_out);
}

static void bias_act(float *restrict y, const float *restrict bias, uint32_t batch, uint32_t n,
                     int relu) {
  for (uint32_t b = 0; b < batch; b++, y += n) {
    if (bias)
      for (uint32_t j = 0; j < n; j++) y[j] += bias[j];
    if (relu)
      for (uint32_t j = 0; j < n; j++) y[j] = y[j] > 0.0f ? y[j] : 0.0f;
  }
}

/* BatchNorm of layer l over the rows x n products y, in place, before the ReLU (mt_nn.h).
 * The statistics are accumulated in double: a batch's sum of squares in float would lose
 * the small variances of near-constant units. */
static void bn_forward(const mt_mlp_t *m, mt_mlp_work_t *wk, uint32_t l, float *restrict y,
                       uint32_t rows, uint32_t n) {
  const float *gamma = m->bn_gamma[l], *beta = m->bn_beta[l];
  float *mean = m->bn_mean[l], *var = m->bn_var[l], *xhat = wk->bn_xhat[l], *istd = wk->bn_istd[l];
  const int batch_stats = wk->bn_train && rows > 1;
  wk->bn_batch_stats[l] = batch_stats;
  for (uint32_t j = 0; j < n; j++) {
    float mu = mean[j], v = var[j];
    if (batch_stats) {
      double s = 0.0, ss = 0.0;
      for (uint32_t r = 0; r < rows; r++) s += y[(size_t)r * n + j];
      const double bm = s / rows;
      for (uint32_t r = 0; r < rows; r++) {
        const double d = y[(size_t)r * n + j] - bm;
        ss += d * d;
      }
      mu = (float)bm, v = (float)(ss / rows);
      mean[j] = (1.0f - MT_BN_MOMENTUM) * mean[j] + MT_BN_MOMENTUM * mu;
      var[j] = (1.0f - MT_BN_MOMENTUM) * var[j] + MT_BN_MOMENTUM * (float)(ss / (rows - 1));
    }
    istd[j] = 1.0f / sqrtf(v + MT_BN_EPS);
    for (uint32_t r = 0; r < rows; r++) {
      const size_t q = (size_t)r * n + j;
      xhat[q] = (y[q] - mu) * istd[j];
      y[q] = gamma[j] * xhat[q] + beta[j];
    }
  }
}

/* Backward through layer l's BatchNorm: d holds dLoss/dy (rows x n) and becomes dLoss/dx;
 * fills g_gamma and g_beta. With batch statistics the mean and variance depend on every
 * row: dx = gamma istd / N (N dy - sum dy - xhat sum(dy xhat)); with fixed statistics
 * dx = gamma istd dy. */
static void bn_backward(const mt_mlp_t *m, mt_mlp_work_t *wk, uint32_t l, float *restrict d,
                        uint32_t rows, uint32_t n) {
  const float *gamma = m->bn_gamma[l], *xhat = wk->bn_xhat[l], *istd = wk->bn_istd[l];
  float *gg = wk->g_gamma[l], *gbt = wk->g_beta[l];
  for (uint32_t j = 0; j < n; j++) {
    double sg = 0.0, sb = 0.0;
    for (uint32_t r = 0; r < rows; r++) {
      const size_t q = (size_t)r * n + j;
      sb += d[q];
      sg += (double)d[q] * xhat[q];
    }
    gg[j] = (float)sg, gbt[j] = (float)sb;
    const float k = gamma[j] * istd[j];
    if (!wk->bn_batch_stats[l]) {
      for (uint32_t r = 0; r < rows; r++) d[(size_t)r * n + j] *= k;
      continue;
    }
    const float inv_n = 1.0f / (float)rows;
    for (uint32_t r = 0; r < rows; r++) {
      const size_t q = (size_t)r * n + j;
      d[q] = k * inv_n * ((float)rows * d[q] - gbt[j] - xhat[q] * gg[j]);
    }
  }
}

static int work_fits(const mt_mlp_t *m, const mt_mlp_work_t *wk, uint32_t batch) {
  if (batch > wk->max_batch || wk->n_layers != m->n_layers) return 0;
  for (uint32_t l = 0; l < m->n_layers; l++)
    if ((wk->bn_xhat[l] != NULL) != mt_mlp_has_bn(m, l)) return 0;
  return memcmp(wk->sizes, m->sizes, (m->n_layers + 1) * sizeof *m->sizes) == 0 &&
         memcmp(wk->spec, m->spec, sizeof wk->spec) == 0;
}

int mt_mlp_forward(const mt_mlp_t *m, mt_mlp_work_t *wk, const float *x, uint32_t batch,
                   mt_matmul_fn mm, void *ctx) {
  if (!work_fits(m, wk, batch)) return -1;
  if (batch == 0) return 0;
  /* The input is copied so backward has act[0] even if the caller reuses x. */
  memcpy(wk->act[0], x, (size_t)batch * m->sizes[0] * sizeof *x);
  for (uint32_t l = 0; l < m->n_layers; l++) {
    float *out = wk->act[l + 1];
    const float *in = wk->act[l];
    uint32_t rows = batch;
    if (is_conv(m, l)) {
      /* im2col: every output position of every example is one row of the
       * layer's matrix product; the products are the ReLU map before pooling. */
      mt_im2col(&m->spec[l], wk->act[l], batch, wk->cols[l]);
      in = wk->cols[l], out = wk->z[l];
      rows = batch * mt_mlp_positions(m, l);
    }
    if (mm) {
      int rc = mm(ctx, l, in, rows, out);
      if (rc != 0) return rc;
    } else {
      mt_mlp_matmul_float(m, l, in, rows, out);
    }
    if (mt_mlp_has_bn(m, l)) {
      /* No bias: BatchNorm's beta is the layer's shift (its b stays 0). */
      bn_forward(m, wk, l, out, rows, mt_mlp_cols(m, l));
      bias_act(out, NULL, rows, mt_mlp_cols(m, l), 1);
    } else {
      bias_act(out, m->b[l], rows, mt_mlp_cols(m, l), l + 1 < m->n_layers);
    }
    if (is_conv(m, l)) mt_pool_forward(&m->spec[l], wk->z[l], batch, wk->act[l + 1]);
  }
  return 0;
}

/* ---- loss ---------------------------------------------------------------- */

/* Loss of one example; writes (softmax - onehot) * scale into d. */
static float softmax_xent(const float *z, uint32_t n, uint32_t label, float scale, float *d) {
  float zmax = z[argmax(z, n)];
  float sum = 0.0f;
  for (uint32_t j = 0; j < n; j++) {
    d[j] = expf(z[j] - zmax);
    sum += d[j];
  }
  float inv = 1.0f / sum;
  for (uint32_t j = 0; j < n; j++) d[j] *= inv * scale;
  if (label >= n) return logf(sum);
  d[label] -= scale;
  /* log-softmax directly: the probability itself may underflow to 0. */
  return logf(sum) - (z[label] - zmax);
}

float mt_mlp_loss(const mt_mlp_t *m, mt_mlp_work_t *wk, const uint8_t *labels, uint32_t batch,
                  uint32_t *correct) {
  const uint32_t L = m->n_layers, n = m->sizes[L];
  uint32_t hits = 0;
  double total = 0.0;
  const float scale = batch ? 1.0f / (float)batch : 0.0f;
  for (uint32_t b = 0; b < batch; b++) {
    const float *z = wk->act[L] + (size_t)b * n;
    total += softmax_xent(z, n, labels[b], scale, wk->delta[L] + (size_t)b * n);
    hits += argmax(z, n) == labels[b];
  }
  if (correct) *correct = hits;
  return batch ? (float)(total / batch) : 0.0f;
}

/* ---- backward ------------------------------------------------------------ */

/* Whether in[0], in[stride], ... in[(rows - 1) stride] are all 0 (either sign; NaN is not). */
static int input_unfed(const float *in, uint32_t stride, uint32_t rows) {
  for (uint32_t b = 0; b < rows; b++, in += stride)
    if (*in != 0.0f) return 0;
  return 1;
}

/* gw = act^T * delta, one row i at a time: row i is the combination of the
 * delta rows weighted by column i of the activations. With unfed_rows (>= batch) a row whose
 * input is 0 in all of act's first unfed_rows rows is left as it was (gw_fed_only). */
static void grad_weights(float *restrict gw, const float *restrict act, const float *restrict delta,
                         uint32_t batch, uint32_t n_in, uint32_t n_out, uint32_t unfed_rows) {
  for (uint32_t i = 0; i < n_in; i++) {
    if (unfed_rows && input_unfed(act + i, n_in, unfed_rows)) continue;
    lincomb(gw + (size_t)i * n_out, act + i, n_in, delta, batch, n_out);
  }
}

static void grad_bias(float *restrict gb, const float *restrict delta, uint32_t batch,
                      uint32_t n_out) {
  memset(gb, 0, n_out * sizeof *gb);
  for (uint32_t b = 0; b < batch; b++) axpy(gb, 1.0f, delta + (size_t)b * n_out, n_out);
}

/* delta_in = (delta_out * W^T) masked by the ReLU derivative of act. Row i of
 * W and a delta row are both contiguous, so each entry is a dot product; a
 * dead unit has derivative 0 and needs none. */
static void grad_hidden(float *restrict d_in, const float *restrict act,
                        const float *restrict d_out, const float *restrict w, uint32_t batch,
                        uint32_t n_in, uint32_t n_out) {
  for (uint32_t b = 0; b < batch; b++) {
    const float *a = act + (size_t)b * n_in, *d = d_out + (size_t)b * n_out;
    float *di = d_in + (size_t)b * n_in;
    for (uint32_t i = 0; i < n_in; i++)
      di[i] = a[i] > 0.0f ? dot(w + (size_t)i * n_out, d, n_out) : 0.0f;
  }
}

/* Backward through a conv layer: delta[l+1] is the gradient of its pooled
 * output; unpooling with the ReLU mask gives dz, then the im2col patches give
 * the weight gradient and, through col2im, the input gradient. */
static void backward_conv(const mt_mlp_t *m, mt_mlp_work_t *wk, uint32_t l, uint32_t batch) {
  const mt_layer_spec *s = &m->spec[l];
  const uint32_t rows = mt_mlp_rows(m, l), cols = mt_mlp_cols(m, l);
  const uint32_t n = batch * mt_mlp_positions(m, l);
  mt_pool_backward(s, wk->z[l], wk->delta[l + 1], batch, wk->dz[l]);
  if (mt_mlp_has_bn(m, l)) bn_backward(m, wk, l, wk->dz[l], n, cols);
  grad_weights(wk->gw[l], wk->cols[l], wk->dz[l], n, rows, cols, 0);
  if (mt_mlp_has_bn(m, l)) memset(wk->gb[l], 0, cols * sizeof *wk->gb[l]);
  else grad_bias(wk->gb[l], wk->dz[l], n, cols);
  if (l == 0) return;
  /* The patches are not needed any more: their gradient takes their place
   * (no ReLU mask here: the input's mask is applied after col2im). */
  float *dcols = wk->cols[l];
  for (uint32_t r = 0; r < n; r++) {
    const float *d = wk->dz[l] + (size_t)r * cols;
    float *dc = dcols + (size_t)r * rows;
    for (uint32_t i = 0; i < rows; i++) dc[i] = dot(m->w[l] + (size_t)i * cols, d, cols);
  }
  mt_col2im(s, dcols, batch, wk->delta[l]);
  const size_t nin = (size_t)batch * m->sizes[l];
  for (size_t q = 0; q < nin; q++)
    if (!(wk->act[l][q] > 0.0f)) wk->delta[l][q] = 0.0f;
}

void mt_mlp_backward(const mt_mlp_t *m, mt_mlp_work_t *wk, uint32_t batch) {
  for (uint32_t l = m->n_layers; l-- > 0;) {
    if (is_conv(m, l)) {
      backward_conv(m, wk, l, batch);
      continue;
    }
    const uint32_t n_in = m->sizes[l], n_out = m->sizes[l + 1];
    if (mt_mlp_has_bn(m, l)) bn_backward(m, wk, l, wk->delta[l + 1], batch, n_out);
    grad_weights(wk->gw[l], wk->act[l], wk->delta[l + 1], batch, n_in, n_out,
                 wk->gw_fed_only ? wk->max_batch : 0);
    if (mt_mlp_has_bn(m, l)) memset(wk->gb[l], 0, n_out * sizeof *wk->gb[l]);
    else grad_bias(wk->gb[l], wk->delta[l + 1], batch, n_out);
    if (l > 0) grad_hidden(wk->delta[l], wk->act[l], wk->delta[l + 1], m->w[l], batch, n_in, n_out);
  }
}

int mt_mlp_grad_row_unfed(const mt_mlp_t *m, const mt_mlp_work_t *wk, uint32_t l, uint32_t batch,
                          uint32_t i) {
  return !is_conv(m, l) && input_unfed(wk->act[l] + i, m->sizes[l], batch);
}

void mt_mlp_sgd(mt_mlp_t *m, const mt_mlp_work_t *wk, float lr) {
  for (uint32_t l = 0; l < m->n_layers; l++) {
    axpy(m->w[l], -lr, wk->gw[l], n_w(m, l));
    axpy(m->b[l], -lr, wk->gb[l], mt_mlp_cols(m, l));
  }
  mt_mlp_sgd_bn(m, wk, lr);
}

void mt_mlp_sgd_bn(mt_mlp_t *m, const mt_mlp_work_t *wk, float lr) {
  for (uint32_t l = 0; l < m->n_layers; l++) {
    if (!mt_mlp_has_bn(m, l)) continue;
    axpy(m->bn_gamma[l], -lr, wk->g_gamma[l], mt_mlp_cols(m, l));
    axpy(m->bn_beta[l], -lr, wk->g_beta[l], mt_mlp_cols(m, l));
  }
}

void mt_mlp_predict(const mt_mlp_t *m, const mt_mlp_work_t *wk, uint32_t batch, uint8_t *pred) {
  const uint32_t L = m->n_layers, n = m->sizes[L];
  for (uint32_t b = 0; b < batch; b++) pred[b] = (uint8_t)argmax(wk->act[L] + (size_t)b * n, n);
}
