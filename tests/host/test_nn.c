/* Float MLP: spec parsing, init, forward (with and without a matmul hook),
 * softmax cross-entropy, backward against numerical gradients, SGD training
 * on a small separable problem, workspace bounds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mt_nn.h"

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 11;
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *s) { return (double)rng_next(s) * 0x1p-53; }

static double rng_gauss(uint64_t *s) {
  double u = rng_unit(s), v = rng_unit(s);
  return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

static void fill_uniform(float *x, size_t n, float lo, float hi, uint64_t *s) {
  for (size_t k = 0; k < n; k++) x[k] = lo + (hi - lo) * (float)rng_unit(s);
}

static void make_net(mt_mlp_t *m, const uint32_t *sizes, uint32_t n_layers, uint64_t seed) {
  assert_int_equal(mt_mlp_init(m, sizes, n_layers, seed), 0);
}

static void assert_contains(const char *haystack, const char *needle) {
  if (!strstr(haystack, needle)) fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* ---- parse --------------------------------------------------------------- */

static void parse_accepts_good_specs(void **state) {
  (void)state;
  uint32_t sizes[MT_NN_MAX_LAYERS + 1], n = 0;
  char err[256] = "";
  assert_int_equal(mt_mlp_parse("784-256-10", sizes, &n, err, sizeof err), 0);
  assert_int_equal(n, 2);
  assert_int_equal(sizes[0], 784);
  assert_int_equal(sizes[1], 256);
  assert_int_equal(sizes[2], 10);

  assert_int_equal(mt_mlp_parse("2-3", sizes, &n, err, sizeof err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(sizes[0], 2);
  assert_int_equal(sizes[1], 3);

  assert_int_equal(mt_mlp_parse("1-65536-007", sizes, &n, err, sizeof err), 0);
  assert_int_equal(n, 2);
  assert_int_equal(sizes[1], 65536);
  assert_int_equal(sizes[2], 7);

  assert_int_equal(mt_mlp_parse("9-8-7-6-5-4-3-2-1", sizes, &n, NULL, 0), 0);
  assert_int_equal(n, MT_NN_MAX_LAYERS);
  for (uint32_t l = 0; l <= MT_NN_MAX_LAYERS; l++) assert_int_equal(sizes[l], 9 - l);
}

typedef struct {
  const char *spec;
  const char *part;  /* the bad part, quoted in the message */
  const char *why;   /* a phrase of the message */
} bad_spec_t;

static void parse_rejects_bad_specs(void **state) {
  (void)state;
  static const bad_spec_t bad[] = {
      {"", "\"\"", "empty"},
      {"784", "\"784\"", "at least 2 sizes"},
      {"784-x-10", "\"x\"", "not a number"},
      {"784-25a-10", "\"25a\"", "not a number"},
      {"784-2.5", "\"2.5\"", "not a number"},
      {"+5-10", "\"+5\"", "not a number"},
      {" 784-10", "\" 784\"", "not a number"},
      {"784-10 ", "\"10 \"", "not a number"},
      {"784-0-10", "\"0\"", "at least 1"},
      {"784-000-10", "\"000\"", "at least 1"},
      {"784-65537-10", "\"65537\"", "larger than 65536"},
      {"784-99999999999999999999999-10", "\"99999999999999999999999\"", "larger than 65536"},
      {"784--10", "\"\"", "empty size"},
      {"784-256-", "\"\"", "empty size"},
      {"-784-10", "\"\"", "empty size"},
      {"1-2-3-4-5-6-7-8-9-10", "\"10\"", "more than 9 sizes"},
      {"1-2-3-4-5-6-7-8-9-10-11", "\"10-11\"", "more than 9 sizes"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    uint32_t sizes[MT_NN_MAX_LAYERS + 1], n = 12345;
    for (uint32_t l = 0; l <= MT_NN_MAX_LAYERS; l++) sizes[l] = 777;
    char err[256] = "", quoted[128];
    if (mt_mlp_parse(bad[k].spec, sizes, &n, err, sizeof err) != -1)
      fail_msg("spec \"%s\" was accepted", bad[k].spec);
    snprintf(quoted, sizeof quoted, "\"%s\"", bad[k].spec);
    assert_contains(err, quoted);
    assert_contains(err, bad[k].part);
    assert_contains(err, bad[k].why);
    /* outputs untouched on error */
    assert_int_equal(n, 12345);
    for (uint32_t l = 0; l <= MT_NN_MAX_LAYERS; l++) assert_int_equal(sizes[l], 777);
  }
  uint32_t sizes[MT_NN_MAX_LAYERS + 1], n;
  char err[256];
  assert_int_equal(mt_mlp_parse(NULL, sizes, &n, err, sizeof err), -1);
  assert_contains(err, "empty");
  assert_int_equal(mt_mlp_parse("784-x", sizes, &n, NULL, 0), -1);  /* no buffer: no crash */
  char tiny[8];
  assert_int_equal(mt_mlp_parse("784-x", sizes, &n, tiny, sizeof tiny), -1);
  assert_int_equal(strlen(tiny), sizeof tiny - 1);  /* truncated, terminated */
}

/* ---- init, copy, free ---------------------------------------------------- */

static uint64_t ref_splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void init_is_deterministic_and_bounded(void **state) {
  (void)state;
  const uint32_t sizes[] = {50, 40, 30, 10};
  mt_mlp_t a, b, c;
  make_net(&a, sizes, 3, 42);
  make_net(&b, sizes, 3, 42);
  make_net(&c, sizes, 3, 43);
  assert_int_equal(a.n_layers, 3);
  assert_int_equal(mt_mlp_n_weights(&a), 50 * 40 + 40 * 30 + 30 * 10);
  size_t differ = 0;
  for (uint32_t l = 0; l < 3; l++) {
    size_t n = (size_t)sizes[l] * sizes[l + 1];
    assert_int_equal(a.sizes[l], sizes[l]);
    assert_memory_equal(a.w[l], b.w[l], n * sizeof(float));
    float bound = sqrtf(6.0f / (float)sizes[l]), wmax = 0.0f;
    double mean = 0.0;
    for (size_t k = 0; k < n; k++) {
      assert_true(fabsf(a.w[l][k]) <= bound);
      wmax = fmaxf(wmax, fabsf(a.w[l][k]));
      mean += a.w[l][k];
      differ += a.w[l][k] != c.w[l][k];
    }
    /* spread over the whole range, centred */
    assert_true(wmax > 0.95f * bound);
    assert_true(fabs(mean / (double)n) < 0.1 * bound);
    for (uint32_t j = 0; j < sizes[l + 1]; j++) assert_true(a.b[l][j] == 0.0f);
  }
  assert_true(differ > mt_mlp_n_weights(&a) * 9 / 10);

  /* The documented stream: splitmix64 from the seed, top 24 bits -> [-1, 1). */
  uint64_t s = 42;
  for (int k = 0; k < 3; k++) {
    float u = (float)(ref_splitmix64(&s) >> 40) * 0x1p-24f;
    assert_true(a.w[0][k] == (2.0f * u - 1.0f) * sqrtf(6.0f / 50.0f));
  }
  mt_mlp_free(&a);
  mt_mlp_free(&b);
  mt_mlp_free(&c);
  mt_mlp_free(&c);  /* freeing twice is harmless */
}

static void init_rejects_bad_shapes(void **state) {
  (void)state;
  mt_mlp_t m;
  const uint32_t ok[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const uint32_t zero[] = {3, 0, 2};
  assert_int_equal(mt_mlp_init(&m, ok, 0, 1), -1);
  mt_mlp_free(&m);
  assert_int_equal(mt_mlp_init(&m, ok, MT_NN_MAX_LAYERS + 1, 1), -1);
  mt_mlp_free(&m);
  assert_int_equal(mt_mlp_init(&m, zero, 2, 1), -1);
  mt_mlp_free(&m);
  assert_int_equal(mt_mlp_init(&m, ok, MT_NN_MAX_LAYERS, 1), 0);
  mt_mlp_free(&m);
  mt_mlp_work_t wk;
  memset(&wk, 0, sizeof wk);
  mt_mlp_work_free(&wk);  /* zeroed workspace frees cleanly */
}

static void copy_is_deep(void **state) {
  (void)state;
  const uint32_t sizes[] = {4, 6, 3};
  mt_mlp_t a, b;
  make_net(&a, sizes, 2, 7);
  a.b[1][2] = 0.5f;
  assert_int_equal(mt_mlp_copy(&b, &a), 0);
  assert_int_equal(b.n_layers, 2);
  for (uint32_t l = 0; l < 2; l++) {
    assert_ptr_not_equal(a.w[l], b.w[l]);
    assert_ptr_not_equal(a.b[l], b.b[l]);
    assert_memory_equal(a.w[l], b.w[l], (size_t)sizes[l] * sizes[l + 1] * sizeof(float));
    assert_memory_equal(a.b[l], b.b[l], sizes[l + 1] * sizeof(float));
  }
  b.w[0][0] += 1.0f;
  b.b[1][2] = 0.0f;
  assert_true(a.w[0][0] != b.w[0][0]);
  assert_true(a.b[1][2] == 0.5f);
  mt_mlp_free(&a);
  assert_true(b.b[1][2] == 0.0f);  /* still valid after the source is gone */
  mt_mlp_free(&b);
}

/* ---- forward ------------------------------------------------------------- */

/* 2-3-2 with exactly representable weights, so the logits are exact. */
static void hand_net(mt_mlp_t *m) {
  const uint32_t sizes[] = {2, 3, 2};
  make_net(m, sizes, 2, 1);
  const float w0[] = {1, -1, 0.5f, 2, 0.5f, -1}, b0[] = {0.5f, 0, -0.25f};
  const float w1[] = {1, -0.5f, 3, 1, -2, 2}, b1[] = {0.25f, -1};
  memcpy(m->w[0], w0, sizeof w0);
  memcpy(m->b[0], b0, sizeof b0);
  memcpy(m->w[1], w1, sizeof w1);
  memcpy(m->b[1], b1, sizeof b1);
}

static const float hand_x[] = {1, 2, -1, 0.5f};

static void assert_floats_exact(const float *got, const float *want, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (got[k] != want[k]) fail_msg("element %zu: got %.9g, want %.9g", k, got[k], want[k]);
}

static void forward_hand_computed(void **state) {
  (void)state;
  mt_mlp_t m;
  mt_mlp_work_t wk;
  hand_net(&m);
  assert_int_equal(mt_mlp_work_init(&wk, &m, 4), 0);
  assert_int_equal(mt_mlp_forward(&m, &wk, hand_x, 2, NULL, NULL), 0);
  /* h = relu(x W0 + b0): [5.5, 0, -1.75] -> [5.5, 0, 0]; [0.5, 1.25, -1.25] -> [0.5, 1.25, 0] */
  const float h[] = {5.5f, 0, 0, 0.5f, 1.25f, 0};
  const float z[] = {5.75f, -3.75f, 4.5f, 0};
  assert_floats_exact(wk.act[0], hand_x, 4);
  assert_floats_exact(wk.act[1], h, 6);
  assert_floats_exact(wk.act[2], z, 4);
  uint8_t pred[2];
  mt_mlp_predict(&m, &wk, 2, pred);
  assert_int_equal(pred[0], 0);
  assert_int_equal(pred[1], 0);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

typedef struct {
  const mt_mlp_t *m;
  const mt_mlp_work_t *wk;
  uint32_t calls;
  uint32_t layers[MT_NN_MAX_LAYERS];
  uint32_t batches[MT_NN_MAX_LAYERS];
  int in_is_act;     /* every call received the cached activation of its layer */
  float scale;       /* output multiplier */
  uint32_t fail_at;  /* layer that returns an error (UINT32_MAX: none) */
} hook_t;

static int hook_mm(void *ctx, uint32_t layer, const float *in, uint32_t batch, float *out) {
  hook_t *h = ctx;
  if (h->calls < MT_NN_MAX_LAYERS) {
    h->layers[h->calls] = layer;
    h->batches[h->calls] = batch;
  }
  h->calls++;
  if (in != h->wk->act[layer] || out != h->wk->act[layer + 1]) h->in_is_act = 0;
  if (layer == h->fail_at) return 7;
  mt_mlp_matmul_float(h->m, layer, in, batch, out);
  for (size_t k = 0; k < (size_t)batch * h->m->sizes[layer + 1]; k++) out[k] *= h->scale;
  return 0;
}

static void forward_uses_the_hook(void **state) {
  (void)state;
  mt_mlp_t m;
  mt_mlp_work_t wk;
  hand_net(&m);
  assert_int_equal(mt_mlp_work_init(&wk, &m, 4), 0);
  hook_t h = {.m = &m, .wk = &wk, .in_is_act = 1, .scale = 2.0f, .fail_at = UINT32_MAX};
  assert_int_equal(mt_mlp_forward(&m, &wk, hand_x, 2, hook_mm, &h), 0);
  assert_int_equal(h.calls, 2);
  assert_int_equal(h.layers[0], 0);
  assert_int_equal(h.layers[1], 1);
  assert_int_equal(h.batches[0], 2);
  assert_int_equal(h.batches[1], 2);
  assert_true(h.in_is_act);
  /* doubled products: h = relu(2 x W0 + b0), z = 2 h W1 + b1 */
  const float hid[] = {10.5f, 0, 0, 0.5f, 2.5f, 0};
  const float z[] = {21.25f, -11.5f, 16.25f, 3.5f};
  assert_floats_exact(wk.act[1], hid, 6);
  assert_floats_exact(wk.act[2], z, 4);

  /* an error from the device stops the pass and is passed through */
  hook_t e = {.m = &m, .wk = &wk, .in_is_act = 1, .scale = 1.0f, .fail_at = 1};
  assert_int_equal(mt_mlp_forward(&m, &wk, hand_x, 2, hook_mm, &e), 7);
  assert_int_equal(e.calls, 2);
  hook_t e0 = {.m = &m, .wk = &wk, .in_is_act = 1, .scale = 1.0f, .fail_at = 0};
  assert_int_equal(mt_mlp_forward(&m, &wk, hand_x, 2, hook_mm, &e0), 7);
  assert_int_equal(e0.calls, 1);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

/* A float hook gives bit-identical activations to the built-in product. */
static void float_hook_matches_builtin(void **state) {
  (void)state;
  const uint32_t sizes[] = {20, 40, 12, 5};
  enum { B = 6 };
  mt_mlp_t m;
  mt_mlp_work_t wk;
  make_net(&m, sizes, 3, 5);
  assert_int_equal(mt_mlp_work_init(&wk, &m, B), 0);
  float x[B * 20], saved[B * 5];
  uint64_t s = 9;
  fill_uniform(x, B * 20, -1, 1, &s);
  assert_int_equal(mt_mlp_forward(&m, &wk, x, B, NULL, NULL), 0);
  memcpy(saved, wk.act[3], sizeof saved);
  hook_t h = {.m = &m, .wk = &wk, .in_is_act = 1, .scale = 1.0f, .fail_at = UINT32_MAX};
  assert_int_equal(mt_mlp_forward(&m, &wk, x, B, hook_mm, &h), 0);
  assert_int_equal(h.calls, 3);
  assert_memory_equal(saved, wk.act[3], sizeof saved);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

/* ---- naive double references --------------------------------------------- */

/* Forward in double of the float network (weights taken as exact), inputs
 * x (B x sizes[0]); fills acts[l] (B x sizes[l]) and returns nothing. */
static void ref_forward(const mt_mlp_t *m, const double *const *w, const double *const *b,
                        const float *x, uint32_t batch, double **acts) {
  for (size_t k = 0; k < (size_t)batch * m->sizes[0]; k++) acts[0][k] = x[k];
  for (uint32_t l = 0; l < m->n_layers; l++) {
    uint32_t ni = m->sizes[l], no = m->sizes[l + 1];
    for (uint32_t e = 0; e < batch; e++)
      for (uint32_t j = 0; j < no; j++) {
        double z = b[l][j];
        for (uint32_t i = 0; i < ni; i++) z += acts[l][(size_t)e * ni + i] * w[l][(size_t)i * no + j];
        acts[l + 1][(size_t)e * no + j] = (l + 1 < m->n_layers && z < 0) ? 0 : z;
      }
  }
}

static double ref_loss(const mt_mlp_t *m, double **acts, const uint8_t *labels, uint32_t batch) {
  uint32_t n = m->sizes[m->n_layers];
  double total = 0;
  for (uint32_t e = 0; e < batch; e++) {
    const double *z = acts[m->n_layers] + (size_t)e * n;
    double zmax = z[0], sum = 0;
    for (uint32_t j = 1; j < n; j++) zmax = fmax(zmax, z[j]);
    for (uint32_t j = 0; j < n; j++) sum += exp(z[j] - zmax);
    total += log(sum) - (z[labels[e]] - zmax);
  }
  return total / batch;
}

typedef struct {
  double *w[MT_NN_MAX_LAYERS], *b[MT_NN_MAX_LAYERS], *acts[MT_NN_MAX_LAYERS + 1];
} ref_t;

static void ref_init(ref_t *r, const mt_mlp_t *m, uint32_t batch) {
  memset(r, 0, sizeof *r);
  for (uint32_t l = 0; l <= m->n_layers; l++) {
    r->acts[l] = calloc((size_t)batch * m->sizes[l], sizeof(double));
    assert_non_null(r->acts[l]);
    if (l == m->n_layers) break;
    size_t n = (size_t)m->sizes[l] * m->sizes[l + 1];
    r->w[l] = malloc(n * sizeof(double));
    r->b[l] = malloc(m->sizes[l + 1] * sizeof(double));
    assert_non_null(r->w[l]);
    assert_non_null(r->b[l]);
    for (size_t k = 0; k < n; k++) r->w[l][k] = m->w[l][k];
    for (uint32_t j = 0; j < m->sizes[l + 1]; j++) r->b[l][j] = m->b[l][j];
  }
}

static void ref_free(ref_t *r) {
  for (uint32_t l = 0; l <= MT_NN_MAX_LAYERS; l++) {
    free(r->acts[l]);
    if (l < MT_NN_MAX_LAYERS) free(r->w[l]), free(r->b[l]);
  }
}

static double ref_eval(const mt_mlp_t *m, ref_t *r, const float *x, const uint8_t *y, uint32_t batch) {
  ref_forward(m, (const double *const *)r->w, (const double *const *)r->b, x, batch, r->acts);
  return ref_loss(m, r->acts, y, batch);
}

/* ---- loss ---------------------------------------------------------------- */

static void loss_known_values(void **state) {
  (void)state;
  const uint32_t sizes[] = {3, 10};
  enum { B = 4 };
  mt_mlp_t m;
  mt_mlp_work_t wk;
  make_net(&m, sizes, 1, 1);
  assert_int_equal(mt_mlp_work_init(&wk, &m, B), 0);
  float *z = wk.act[1];
  const uint8_t y[B] = {0, 3, 9, 5};

  /* uniform logits: loss ln(10), delta (0.1 - onehot) / B */
  for (int k = 0; k < B * 10; k++) z[k] = 2.5f;
  assert_float_equal(mt_mlp_loss(&m, &wk, y, B, NULL), logf(10.0f), 1e-6);
  for (uint32_t e = 0; e < B; e++)
    for (uint32_t j = 0; j < 10; j++)
      assert_float_equal(wk.delta[1][e * 10 + j], (0.1f - (j == y[e])) / B, 1e-7);

  /* huge logits stay finite: softmax of {1000, 0, -1000, ...} */
  for (int k = 0; k < B * 10; k++) z[k] = 0.0f;
  for (uint32_t e = 0; e < B; e++) z[e * 10 + 0] = 1000.0f, z[e * 10 + 1] = -1000.0f;
  const uint8_t first[B] = {0, 0, 0, 0}, second[B] = {2, 2, 2, 2};
  uint32_t correct = 99;
  float l0 = mt_mlp_loss(&m, &wk, first, B, &correct);
  assert_true(isfinite(l0));
  assert_float_equal(l0, 0.0f, 1e-6);
  assert_int_equal(correct, B);
  float l2 = mt_mlp_loss(&m, &wk, second, B, &correct);
  assert_float_equal(l2, 1000.0f, 1e-3);
  assert_int_equal(correct, 0);
  for (int k = 0; k < B * 10; k++) assert_true(isfinite(wk.delta[1][k]));
  assert_float_equal(wk.delta[1][0], 1.0f / B, 1e-7);
  assert_float_equal(wk.delta[1][2], -1.0f / B, 1e-7);
  /* and with every logit huge */
  for (int k = 0; k < B * 10; k++) z[k] = 1000.0f + (float)(k % 10);
  assert_float_equal(mt_mlp_loss(&m, &wk, second, B, NULL),
                     (float)(log(exp(-9.0) * (exp(10.0) - 1) / (exp(1.0) - 1)) + 7.0), 1e-3);

  /* random logits: delta rows sum to 0, loss matches the double reference */
  uint64_t s = 3;
  fill_uniform(z, B * 10, -8, 8, &s);
  float got = mt_mlp_loss(&m, &wk, y, B, &correct);
  double want = 0;
  uint32_t hits = 0;
  for (uint32_t e = 0; e < B; e++) {
    double zmax = -INFINITY, sum = 0;
    uint32_t best = 0;
    for (uint32_t j = 0; j < 10; j++)
      if (z[e * 10 + j] > zmax) zmax = z[e * 10 + j], best = j;
    for (uint32_t j = 0; j < 10; j++) sum += exp(z[e * 10 + j] - zmax);
    want += (log(sum) - (z[e * 10 + y[e]] - zmax)) / B;
    hits += best == y[e];
    double row = 0;
    for (uint32_t j = 0; j < 10; j++) {
      row += wk.delta[1][e * 10 + j];
      double p = exp(z[e * 10 + j] - zmax) / sum;
      assert_float_equal(wk.delta[1][e * 10 + j], (p - (j == y[e])) / B, 1e-6);
    }
    assert_float_equal(row, 0.0, 1e-6);
  }
  assert_float_equal(got, want, 1e-5);
  assert_int_equal(correct, hits);
  assert_float_equal(mt_mlp_loss(&m, &wk, y, 0, &correct), 0.0f, 0);
  assert_int_equal(correct, 0);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

static void correct_count_and_predict(void **state) {
  (void)state;
  const uint32_t sizes[] = {2, 3};
  mt_mlp_t m;
  mt_mlp_work_t wk;
  make_net(&m, sizes, 1, 1);
  assert_int_equal(mt_mlp_work_init(&wk, &m, 4), 0);
  const float z[] = {0, 1, 2, 5, -1, 0, 3, 3, 1, -2, -2, -2};  /* argmax 2, 0, 0 (tie), 0 (tie) */
  memcpy(wk.act[1], z, sizeof z);
  uint8_t pred[4];
  mt_mlp_predict(&m, &wk, 4, pred);
  assert_int_equal(pred[0], 2);
  assert_int_equal(pred[1], 0);
  assert_int_equal(pred[2], 0);
  assert_int_equal(pred[3], 0);
  const uint8_t y[] = {2, 1, 0, 2};
  uint32_t correct = 0;
  mt_mlp_loss(&m, &wk, y, 4, &correct);
  assert_int_equal(correct, 2);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

/* ---- backward ------------------------------------------------------------ */

static void assert_close(double got, double want, double floor_, const char *what, uint32_t l,
                         size_t k) {
  double rel = fabs(got - want) / fmax(fmax(fabs(got), fabs(want)), floor_);
  if (rel > 1e-2) fail_msg("%s[%u][%zu]: analytic %.9g, numerical %.9g", what, l, k, got, want);
}

/* Central differences in double of the double reference loss, against the
 * float analytic gradients, for every weight and bias. */
static void backward_matches_numerical_gradient(void **state) {
  (void)state;
  const uint32_t sizes[] = {5, 7, 4, 3};
  enum { B = 4 };
  mt_mlp_t m;
  mt_mlp_work_t wk;
  make_net(&m, sizes, 3, 11);
  uint64_t s = 12;
  for (uint32_t l = 0; l < 3; l++) fill_uniform(m.b[l], sizes[l + 1], -0.3f, 0.3f, &s);
  assert_int_equal(mt_mlp_work_init(&wk, &m, B), 0);
  float x[B * 5];
  fill_uniform(x, B * 5, -1, 1, &s);
  const uint8_t y[B] = {0, 2, 1, 2};
  assert_int_equal(mt_mlp_forward(&m, &wk, x, B, NULL, NULL), 0);
  float loss = mt_mlp_loss(&m, &wk, y, B, NULL);
  mt_mlp_backward(&m, &wk, B);

  ref_t r;
  ref_init(&r, &m, B);
  assert_float_equal(loss, ref_eval(&m, &r, x, y, B), 1e-5);
  const double eps = 1e-6;
  size_t checked = 0, nonzero = 0;
  for (uint32_t l = 0; l < 3; l++) {
    for (size_t k = 0; k < (size_t)sizes[l] * sizes[l + 1] + sizes[l + 1]; k++) {
      int is_w = k < (size_t)sizes[l] * sizes[l + 1];
      double *p = is_w ? &r.w[l][k] : &r.b[l][k - (size_t)sizes[l] * sizes[l + 1]];
      double keep = *p;
      *p = keep + eps;
      double up = ref_eval(&m, &r, x, y, B);
      *p = keep - eps;
      double down = ref_eval(&m, &r, x, y, B);
      *p = keep;
      double num = (up - down) / (2 * eps);
      double ana = is_w ? wk.gw[l][k] : wk.gb[l][k - (size_t)sizes[l] * sizes[l + 1]];
      assert_close(ana, num, 1e-4, is_w ? "gw" : "gb", l, k);
      checked++;
      nonzero += fabs(num) > 1e-4;
    }
  }
  assert_int_equal(checked, 5 * 7 + 7 + 7 * 4 + 4 + 4 * 3 + 3);
  assert_true(nonzero > checked / 2);  /* the check is not vacuous */
  ref_free(&r);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

/* Layers wider than the 32-column tiles and deeper than one 256-term chunk,
 * with sparse inputs, against naive double products: forward activations,
 * weight and bias gradients, hidden deltas. */
static void wide_layers_match_naive_products(void **state) {
  (void)state;
  const uint32_t sizes[] = {600, 70, 45};
  enum { B = 5 };
  mt_mlp_t m;
  mt_mlp_work_t wk;
  make_net(&m, sizes, 2, 21);
  uint64_t s = 22;
  for (uint32_t l = 0; l < 2; l++) fill_uniform(m.b[l], sizes[l + 1], -0.2f, 0.2f, &s);
  assert_int_equal(mt_mlp_work_init(&wk, &m, B), 0);
  float *x = malloc(B * 600 * sizeof *x);
  assert_non_null(x);
  for (size_t k = 0; k < B * 600; k++) x[k] = rng_unit(&s) < 0.2 ? (float)rng_unit(&s) : 0.0f;
  uint8_t y[B];
  for (int e = 0; e < B; e++) y[e] = (uint8_t)(rng_next(&s) % 45);
  assert_int_equal(mt_mlp_forward(&m, &wk, x, B, NULL, NULL), 0);
  mt_mlp_loss(&m, &wk, y, B, NULL);
  mt_mlp_backward(&m, &wk, B);

  ref_t r;
  ref_init(&r, &m, B);
  ref_eval(&m, &r, x, y, B);
  for (uint32_t l = 1; l <= 2; l++)
    for (size_t k = 0; k < (size_t)B * sizes[l]; k++)
      assert_close(wk.act[l][k], r.acts[l][k], 1e-3, "act", l, k);
  /* gradients from the float deltas, so only the products are compared */
  for (uint32_t l = 0; l < 2; l++) {
    uint32_t ni = sizes[l], no = sizes[l + 1];
    for (uint32_t i = 0; i < ni; i++)
      for (uint32_t j = 0; j < no; j++) {
        double g = 0;
        for (uint32_t e = 0; e < B; e++)
          g += (double)wk.act[l][e * ni + i] * wk.delta[l + 1][e * no + j];
        if (fabs(wk.gw[l][(size_t)i * no + j] - g) > 1e-6 * (1 + fabs(g)))
          fail_msg("gw[%u][%u,%u]: %.9g vs %.9g", l, i, j, wk.gw[l][(size_t)i * no + j], g);
      }
    for (uint32_t j = 0; j < no; j++) {
      double g = 0;
      for (uint32_t e = 0; e < B; e++) g += wk.delta[l + 1][e * no + j];
      assert_float_equal(wk.gb[l][j], g, 1e-6);
    }
  }
  for (uint32_t e = 0; e < B; e++)
    for (uint32_t i = 0; i < 70; i++) {
      double d = 0;
      for (uint32_t j = 0; j < 45; j++) d += (double)m.w[1][i * 45 + j] * wk.delta[2][e * 45 + j];
      if (wk.act[1][e * 70 + i] <= 0) d = 0;
      assert_float_equal(wk.delta[1][e * 70 + i], d, 1e-6);
    }
  ref_free(&r);
  free(x);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

static void sgd_steps_against_the_gradient(void **state) {
  (void)state;
  const uint32_t sizes[] = {3, 2};
  mt_mlp_t m;
  mt_mlp_work_t wk;
  make_net(&m, sizes, 1, 4);
  assert_int_equal(mt_mlp_work_init(&wk, &m, 1), 0);
  float w0[6], b0[2] = {0.25f, -0.5f};
  memcpy(m.b[0], b0, sizeof b0);
  memcpy(w0, m.w[0], sizeof w0);
  for (int k = 0; k < 6; k++) wk.gw[0][k] = (float)(k - 2);
  wk.gb[0][0] = 1.0f, wk.gb[0][1] = -2.0f;
  mt_mlp_sgd(&m, &wk, 0.5f);
  for (int k = 0; k < 6; k++) assert_true(m.w[0][k] == w0[k] - 0.5f * (float)(k - 2));
  assert_true(m.b[0][0] == -0.25f);
  assert_true(m.b[0][1] == 0.5f);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

/* ---- training smoke ------------------------------------------------------ */

/* XOR of 4 Gaussian clusters in 2-D: not linearly separable, so the hidden
 * layer has to work. */
static void sgd_learns_xor_clusters(void **state) {
  (void)state;
  enum { N = 400, B = 20, EPOCHS = 200 };
  float x[N * 2];
  uint8_t y[N];
  uint32_t order[N];
  uint64_t s = 2024;
  for (uint32_t k = 0; k < N; k++) {
    int cx = k & 1, cy = (k >> 1) & 1;
    x[2 * k] = (cx ? 1.0f : -1.0f) + 0.3f * (float)rng_gauss(&s);
    x[2 * k + 1] = (cy ? 1.0f : -1.0f) + 0.3f * (float)rng_gauss(&s);
    y[k] = (uint8_t)(cx ^ cy);
    order[k] = k;
  }
  const uint32_t sizes[] = {2, 16, 2};
  mt_mlp_t m;
  mt_mlp_work_t wk;
  make_net(&m, sizes, 2, 8);
  assert_int_equal(mt_mlp_work_init(&wk, &m, N), 0);
  float xb[B * 2];
  uint8_t yb[B];
  uint32_t correct = 0, epoch = 0;
  assert_int_equal(mt_mlp_forward(&m, &wk, x, N, NULL, NULL), 0);
  float first_loss = mt_mlp_loss(&m, &wk, y, N, &correct), last_loss = first_loss;
  double acc = (double)correct / N;
  assert_true(acc < 0.8);  /* the untrained network does not already solve it */
  while (epoch < EPOCHS && acc <= 0.95) {
    for (uint32_t k = N; k > 1; k--) {
      uint32_t j = (uint32_t)(rng_next(&s) % k), t = order[k - 1];
      order[k - 1] = order[j], order[j] = t;
    }
    for (uint32_t b0 = 0; b0 < N; b0 += B) {
      for (uint32_t e = 0; e < B; e++) {
        xb[2 * e] = x[2 * order[b0 + e]];
        xb[2 * e + 1] = x[2 * order[b0 + e] + 1];
        yb[e] = y[order[b0 + e]];
      }
      assert_int_equal(mt_mlp_forward(&m, &wk, xb, B, NULL, NULL), 0);
      mt_mlp_loss(&m, &wk, yb, B, NULL);
      mt_mlp_backward(&m, &wk, B);
      mt_mlp_sgd(&m, &wk, 0.1f);
    }
    assert_int_equal(mt_mlp_forward(&m, &wk, x, N, NULL, NULL), 0);
    last_loss = mt_mlp_loss(&m, &wk, y, N, &correct);
    acc = (double)correct / N;
    epoch++;
  }
  if (acc <= 0.95) fail_msg("training accuracy %.3f after %u epochs", acc, epoch);
  assert_true(last_loss < first_loss);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

/* ---- workspace ----------------------------------------------------------- */

static void work_buffers_bound_the_batch(void **state) {
  (void)state;
  const uint32_t sizes[] = {6, 9, 4};
  enum { MAX = 8 };
  mt_mlp_t m, other;
  mt_mlp_work_t wk, one;
  make_net(&m, sizes, 2, 31);
  assert_int_equal(mt_mlp_work_init(&wk, &m, MAX), 0);
  assert_int_equal(wk.max_batch, MAX);
  assert_null(wk.delta[0]);
  assert_int_equal(mt_mlp_work_init(&one, &m, 1), 0);
  float x[(MAX + 1) * 6];
  uint64_t s = 32;
  fill_uniform(x, sizeof x / sizeof x[0], -1, 1, &s);

  /* a partial batch gives each example the logits it gets on its own */
  assert_int_equal(mt_mlp_forward(&m, &wk, x, 3, NULL, NULL), 0);
  for (uint32_t e = 0; e < 3; e++) {
    assert_int_equal(mt_mlp_forward(&m, &one, x + e * 6, 1, NULL, NULL), 0);
    assert_memory_equal(one.act[2], wk.act[2] + e * 4, 4 * sizeof(float));
  }
  const uint8_t y[MAX + 1] = {0, 1, 2, 3, 0, 1, 2, 3, 0};
  mt_mlp_loss(&m, &wk, y, 3, NULL);
  mt_mlp_backward(&m, &wk, 3);
  assert_int_equal(mt_mlp_forward(&m, &wk, x, MAX, NULL, NULL), 0);

  /* one more than allocated is refused before anything is written */
  float before[MAX * 6];
  memcpy(before, wk.act[0], sizeof before);
  hook_t h = {.m = &m, .wk = &wk, .in_is_act = 1, .scale = 1.0f, .fail_at = UINT32_MAX};
  assert_int_equal(mt_mlp_forward(&m, &wk, x, MAX + 1, NULL, NULL), -1);
  assert_int_equal(mt_mlp_forward(&m, &wk, x, MAX + 1, hook_mm, &h), -1);
  assert_int_equal(h.calls, 0);
  assert_memory_equal(before, wk.act[0], sizeof before);
  assert_int_equal(mt_mlp_forward(&m, &wk, x, 0, NULL, NULL), 0);

  /* a workspace sized for another shape is refused too */
  const uint32_t bigger[] = {6, 20, 4};
  make_net(&other, bigger, 2, 1);
  assert_int_equal(mt_mlp_forward(&other, &wk, x, 1, NULL, NULL), -1);
  mt_mlp_work_free(&one);
  assert_int_equal(mt_mlp_work_init(&one, &m, 0), -1);
  mt_mlp_work_free(&one);
  mt_mlp_free(&other);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

/* ---- BatchNorm ------------------------------------------------------------ */

/* The batch's mean loss of m on (x, y) with batch statistics: the forward pass a training
 * step takes (it also moves the running statistics, which the loss does not use). */
static double bn_loss(const mt_mlp_t *m, mt_mlp_work_t *wk, const float *x, const uint8_t *y,
                      uint32_t batch) {
  wk->bn_train = 1;
  assert_int_equal(mt_mlp_forward(m, wk, x, batch, NULL, NULL), 0);
  return mt_mlp_loss(m, wk, y, batch, NULL);
}

/* Central differences of the float loss against the analytic gradients of every weight,
 * gamma and beta of a network with BatchNorm (batch statistics, so every example's
 * normalisation depends on the others'); the hidden biases' gradients are exactly 0. */
static void check_bn_gradients(mt_mlp_t *m, uint32_t batch, const float *x, const uint8_t *y) {
  mt_mlp_work_t wk;
  assert_int_equal(mt_mlp_work_init(&wk, m, batch), 0);
  bn_loss(m, &wk, x, y, batch);
  mt_mlp_backward(m, &wk, batch);
  const float eps = 1e-3f;
  size_t checked = 0, nonzero = 0;
  for (uint32_t l = 0; l < m->n_layers; l++) {
    const size_t nw = (size_t)mt_mlp_rows(m, l) * mt_mlp_cols(m, l), nc = mt_mlp_cols(m, l);
    const int bn = mt_mlp_has_bn(m, l);
    assert_int_equal(bn, l + 1 < m->n_layers);
    /* parameter tensors: w, then gamma and beta (BatchNorm) or b (the output layer) */
    float *par[3] = {m->w[l], bn ? m->bn_gamma[l] : m->b[l], bn ? m->bn_beta[l] : NULL};
    const float *grad[3] = {wk.gw[l], bn ? wk.g_gamma[l] : wk.gb[l], bn ? wk.g_beta[l] : NULL};
    const size_t len[3] = {nw, nc, nc};
    for (int p = 0; p < 3; p++) {
      if (!par[p]) continue;
      /* the probes' forward passes leave the gradients alone: only backward writes them */
      for (size_t k = 0; k < len[p]; k++) {
        float keep = par[p][k];
        par[p][k] = keep + eps;
        double up = bn_loss(m, &wk, x, y, batch);
        par[p][k] = keep - eps;
        double down = bn_loss(m, &wk, x, y, batch);
        par[p][k] = keep;
        double num = (up - down) / (2.0 * eps), ana = grad[p][k];
        if (fabs(ana - num) > 2e-3 + 3e-2 * fabs(num))
          fail_msg("layer %u tensor %d [%zu]: analytic %.9g, numerical %.9g", l, p, k, ana, num);
        checked++;
        nonzero += fabs(num) > 1e-3;
      }
    }
    if (bn)
      for (size_t k = 0; k < nc; k++) assert_true(wk.gb[l][k] == 0.0f);
  }
  assert_true(nonzero > checked / 3); /* the check is not vacuous */
  mt_mlp_work_free(&wk);
}

static void batchnorm_gradients_match_finite_differences(void **state) {
  (void)state;
  const uint32_t sizes[] = {5, 7, 6, 3};
  enum { B = 6 };
  mt_mlp_t m;
  make_net(&m, sizes, 3, 21);
  assert_int_equal(mt_mlp_enable_bn(&m), 0);
  uint64_t s = 22;
  /* gamma and beta away from 1 and 0, so that their gradients are not special cases */
  for (uint32_t l = 0; l < 2; l++) {
    fill_uniform(m.bn_gamma[l], sizes[l + 1], 0.5f, 1.5f, &s);
    fill_uniform(m.bn_beta[l], sizes[l + 1], -0.3f, 0.3f, &s);
  }
  fill_uniform(m.b[2], 3, -0.3f, 0.3f, &s);
  float x[B * 5];
  fill_uniform(x, B * 5, -1, 1, &s);
  const uint8_t y[B] = {0, 2, 1, 2, 1, 0};
  check_bn_gradients(&m, B, x, y);
  mt_mlp_free(&m);
}

/* A conv layer's BatchNorm normalises per channel over examples and positions (PyTorch's
 * BatchNorm2d): the same check through im2col, pooling and col2im. */
static void batchnorm_conv_gradients_match_finite_differences(void **state) {
  (void)state;
  uint32_t sizes[MT_NN_MAX_LAYERS + 1], n_layers;
  mt_layer_spec spec[MT_NN_MAX_LAYERS];
  char err[256];
  assert_int_equal(mt_net_parse("6x6x1-c3x2-p2-5-3", sizes, spec, &n_layers, err, sizeof err), 0);
  mt_mlp_t m;
  assert_int_equal(mt_net_init(&m, sizes, spec, n_layers, 31), 0);
  assert_int_equal(mt_mlp_enable_bn(&m), 0);
  uint64_t s = 32;
  for (uint32_t l = 0; l + 1 < n_layers; l++) {
    fill_uniform(m.bn_gamma[l], mt_mlp_cols(&m, l), 0.5f, 1.5f, &s);
    fill_uniform(m.bn_beta[l], mt_mlp_cols(&m, l), -0.3f, 0.3f, &s);
  }
  enum { B = 3 };
  float x[B * 36];
  fill_uniform(x, B * 36, 0, 1, &s);
  const uint8_t y[B] = {2, 0, 1};
  check_bn_gradients(&m, B, x, y);
  mt_mlp_free(&m);
}

/* Forward values by hand: batch statistics (biased variance) in training and the running
 * statistics' update (unbiased variance, momentum 0.1); the running statistics at test and
 * for a training batch of one example, which leaves them as they are. */
static void batchnorm_forward_statistics(void **state) {
  (void)state;
  const uint32_t sizes[] = {1, 1, 2};
  mt_mlp_t m;
  make_net(&m, sizes, 2, 1);
  assert_int_equal(mt_mlp_enable_bn(&m), 0);
  m.w[0][0] = 1.0f;
  m.b[0][0] = 5.0f; /* ignored: a BatchNorm layer has no bias */
  m.bn_gamma[0][0] = 2.0f, m.bn_beta[0][0] = 0.5f;
  mt_mlp_work_t wk;
  assert_int_equal(mt_mlp_work_init(&wk, &m, 4), 0);
  const float x[4] = {1, 2, 3, 6}; /* mean 3, biased variance 3.5, unbiased 14/3 */
  wk.bn_train = 1;
  assert_int_equal(mt_mlp_forward(&m, &wk, x, 4, NULL, NULL), 0);
  for (int k = 0; k < 4; k++) {
    double want = 2.0 * (x[k] - 3.0) / sqrt(3.5 + 1e-5) + 0.5;
    assert_float_equal(wk.act[1][k], want > 0 ? want : 0.0, 1e-5);
  }
  assert_float_equal(m.bn_mean[0][0], 0.1 * 3.0, 1e-6);
  assert_float_equal(m.bn_var[0][0], 0.9 + 0.1 * 14.0 / 3.0, 1e-6);
  const float mean = m.bn_mean[0][0], var = m.bn_var[0][0];
  for (int train = 0; train < 2; train++) { /* evaluation, then a training batch of one */
    wk.bn_train = train;
    assert_int_equal(mt_mlp_forward(&m, &wk, x + 3, 1, NULL, NULL), 0);
    double want = 2.0 * (6.0 - mean) / sqrt(var + 1e-5) + 0.5;
    assert_float_equal(wk.act[1][0], want, 1e-5);
    assert_true(m.bn_mean[0][0] == mean && m.bn_var[0][0] == var);
  }
  /* a network without BatchNorm does not fit a workspace sized with it */
  mt_mlp_t plain;
  make_net(&plain, sizes, 2, 1);
  assert_int_equal(mt_mlp_forward(&plain, &wk, x, 1, NULL, NULL), -1);
  mt_mlp_free(&plain);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

/* mt_mlp_grad_row_unfed: a row of a fully connected layer whose input is 0 (either sign) in
 * every example of the batch is reported, and its gradient row is +0 in every column, even
 * with infinite deltas (0 x inf would be NaN); a row with an input in any example is not; a
 * conv layer never is. With gw_fed_only backward writes the other rows alike and leaves
 * those. */
static void unfed_rows_have_zero_gradients(void **state) {
  (void)state;
  const uint32_t sizes[] = {12, 6, 3}, B = 3;
  mt_mlp_t m;
  make_net(&m, sizes, 2, 5);
  mt_mlp_work_t wk;
  assert_int_equal(mt_mlp_work_init(&wk, &m, B), 0);
  float x[3 * 12];
  uint64_t s = 9;
  fill_uniform(x, 3 * 12, -1.0f, 1.0f, &s);
  for (uint32_t b = 0; b < B; b++) {
    x[b * 12 + 2] = 0.0f;
    x[b * 12 + 11] = -0.0f;
    x[b * 12 + 7] = b == 1 ? 0.5f : 0.0f; /* fed in one example only */
  }
  const uint8_t y[3] = {0, 1, 2};
  for (int inf = 0; inf <= 1; inf++) {
    assert_int_equal(mt_mlp_forward(&m, &wk, x, B, NULL, NULL), 0);
    (void)mt_mlp_loss(&m, &wk, y, B, NULL);
    if (inf)
      for (uint32_t q = 0; q < B * 3; q++) wk.delta[2][q] = q % 2 ? INFINITY : -INFINITY;
    mt_mlp_backward(&m, &wk, B);
    for (uint32_t l = 0; l < 2; l++)
      for (uint32_t i = 0; i < sizes[l]; i++) {
        int fed = 0;
        for (uint32_t b = 0; b < B; b++) fed |= wk.act[l][b * sizes[l] + i] != 0.0f;
        assert_int_equal(mt_mlp_grad_row_unfed(&m, &wk, l, B, i), !fed);
        if (l == 0) assert_int_equal(!fed, i == 2 || i == 11);
        for (uint32_t j = 0; !fed && j < sizes[l + 1]; j++) {
          uint32_t bits;
          memcpy(&bits, &wk.gw[l][i * sizes[l + 1] + j], sizeof bits);
          assert_int_equal(bits, 0); /* +0 */
        }
      }
  }
  /* gw_fed_only: the same rows as the others, the unfed ones left as they were (here NaN) */
  mt_mlp_work_t wf;
  assert_int_equal(mt_mlp_work_init(&wf, &m, B), 0);
  wf.gw_fed_only = 1;
  for (uint32_t l = 0; l < 2; l++)
    for (uint32_t k = 0; k < sizes[l] * sizes[l + 1]; k++) wf.gw[l][k] = NAN;
  assert_int_equal(mt_mlp_forward(&m, &wk, x, B, NULL, NULL), 0);
  (void)mt_mlp_loss(&m, &wk, y, B, NULL);
  mt_mlp_backward(&m, &wk, B);
  assert_int_equal(mt_mlp_forward(&m, &wf, x, B, NULL, NULL), 0);
  (void)mt_mlp_loss(&m, &wf, y, B, NULL);
  mt_mlp_backward(&m, &wf, B);
  for (uint32_t l = 0; l < 2; l++)
    for (uint32_t i = 0; i < sizes[l]; i++) {
      const float *want = wk.gw[l] + i * sizes[l + 1], *got = wf.gw[l] + i * sizes[l + 1];
      if (mt_mlp_grad_row_unfed(&m, &wf, l, B, i))
        for (uint32_t j = 0; j < sizes[l + 1]; j++) assert_true(isnan(got[j]));
      else
        assert_memory_equal(got, want, sizes[l + 1] * sizeof *got);
    }
  mt_mlp_work_free(&wf);
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
  /* a conv layer: never (its patches are gone after backward) */
  uint32_t cs[MT_NN_MAX_LAYERS + 1], nl;
  mt_layer_spec spec[MT_NN_MAX_LAYERS];
  assert_int_equal(mt_net_parse("6x6x1-c3x2-p2-3", cs, spec, &nl, NULL, 0), 0);
  assert_int_equal(mt_net_init(&m, cs, spec, nl, 3), 0);
  assert_int_equal(mt_mlp_work_init(&wk, &m, 1), 0);
  float xc[36] = {0};
  assert_int_equal(mt_mlp_forward(&m, &wk, xc, 1, NULL, NULL), 0);
  (void)mt_mlp_loss(&m, &wk, y, 1, NULL);
  mt_mlp_backward(&m, &wk, 1);
  assert_int_equal(mt_mlp_grad_row_unfed(&m, &wk, 0, 1, 0), 0);
  assert_int_equal(mt_mlp_grad_row_unfed(&m, &wk, 1, 1, 0), 1); /* the fc layer after it: no input */
  mt_mlp_work_free(&wk);
  mt_mlp_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_accepts_good_specs),
      cmocka_unit_test(parse_rejects_bad_specs),
      cmocka_unit_test(init_is_deterministic_and_bounded),
      cmocka_unit_test(init_rejects_bad_shapes),
      cmocka_unit_test(copy_is_deep),
      cmocka_unit_test(forward_hand_computed),
      cmocka_unit_test(forward_uses_the_hook),
      cmocka_unit_test(float_hook_matches_builtin),
      cmocka_unit_test(loss_known_values),
      cmocka_unit_test(correct_count_and_predict),
      cmocka_unit_test(backward_matches_numerical_gradient),
      cmocka_unit_test(wide_layers_match_naive_products),
      cmocka_unit_test(sgd_steps_against_the_gradient),
      cmocka_unit_test(sgd_learns_xor_clusters),
      cmocka_unit_test(work_buffers_bound_the_batch),
      cmocka_unit_test(batchnorm_gradients_match_finite_differences),
      cmocka_unit_test(batchnorm_conv_gradients_match_finite_differences),
      cmocka_unit_test(batchnorm_forward_statistics),
      cmocka_unit_test(unfed_rows_have_zero_gradients),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
