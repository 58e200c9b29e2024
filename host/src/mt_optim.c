/* Adam's moments and step directions (mt_optim.h). */
#include "mt_optim.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int mt_adam_init(mt_adam_t *a, const size_t *n, uint32_t n_slots, float beta1, float beta2,
                 float eps) {
  assert(n_slots <= MT_ADAM_MAX_SLOTS);
  memset(a, 0, sizeof *a);
  a->beta1 = beta1, a->beta2 = beta2, a->eps = eps;
  a->n_slots = n_slots;
  for (uint32_t k = 0; k < n_slots; k++) {
    a->n[k] = n[k];
    if (n[k] == 0) continue;
    a->m[k] = calloc(n[k], sizeof(float));
    a->v[k] = calloc(n[k], sizeof(float));
    if (!a->m[k] || !a->v[k]) {
      mt_adam_free(a);
      return -1;
    }
  }
  return 0;
}

void mt_adam_free(mt_adam_t *a) {
  for (uint32_t k = 0; k < MT_ADAM_MAX_SLOTS; k++) {
    free(a->m[k]);
    free(a->v[k]);
  }
  memset(a, 0, sizeof *a);
}

void mt_adam_begin_step(mt_adam_t *a) {
  a->steps++;
  /* In double: beta2^t stays distinguishable from 1 long after float's 1 - 2^-24. */
  const double t = (double)a->steps;
  a->c1 = (float)(1.0 / (1.0 - pow((double)a->beta1, t)));
  a->c2 = (float)(1.0 / sqrt(1.0 - pow((double)a->beta2, t)));
}

void mt_adam_dir(mt_adam_t *a, uint32_t k, const float *g, float *d) {
  assert(k < a->n_slots && a->steps > 0);
  const float b1 = a->beta1, b2 = a->beta2, c1 = a->c1, c2 = a->c2, eps = a->eps;
  float *m = a->m[k], *v = a->v[k];
  for (size_t i = 0; i < a->n[k]; i++) {
    const float gi = g[i];
    m[i] = b1 * m[i] + (1.0f - b1) * gi;
    v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
    d[i] = m[i] * c1 / (sqrtf(v[i]) * c2 + eps);
  }
}
