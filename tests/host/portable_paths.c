/* The portable code paths, built with MT_FORCE_PORTABLE (Makefile) where the library takes the
 * fast ones, for tests/host/test_portable.c to compare. */
#ifndef MT_FORCE_PORTABLE
#error "built with -DMT_FORCE_PORTABLE only (Makefile, test_portable)"
#endif
#include <stdint.h>

#include "mt_compact_row.h"
#include "mt_fixed.h"
#include "mt_pulse_row.h"
#include "portable_paths.h"

int64_t portable_floor_shift(int64_t v, uint32_t s) { return mt_floor_shift(v, s); }

uint32_t portable_compact_row(uint32_t *out, const int32_t *p, uint32_t i, uint32_t n) {
  return mt_compact_row(out, p, i, n);
}

uint32_t portable_compact_levels(uint32_t *out, const uint16_t *q, const uint16_t *old, uint32_t i,
                                 uint32_t n, int all) {
  return mt_compact_levels(out, q, old, i, n, all);
}

uint32_t portable_sgd_row(uint32_t *out, const float *g, const float *gs, const float *gr, int uniform,
                          float lr, float w_per_g, uint32_t i, uint32_t n) {
  return mt_sgd_row(out, g, gs, gr, uniform, lr, w_per_g, i, n);
}

uint32_t portable_ssm_row(uint32_t *out, float *v, const float *g, const float *gs, const float *gr,
                          int uniform, float lr, float w_per_g, float beta, uint32_t i, uint32_t n,
                          uint64_t *rng) {
  return mt_ssm_row(out, v, g, gs, gr, uniform, lr, w_per_g, beta, i, n, rng);
}

uint32_t portable_ssm_rows(uint32_t *out, float *v, const float *g, const float *gs,
                           const float *gr, int uniform, float lr, float w_per_g, float beta,
                           uint32_t nrows, uint32_t n, uint64_t *rng) {
  return mt_ssm_rows(out, v, g, gs, gr, uniform, lr, w_per_g, beta, nrows, n, rng);
}
