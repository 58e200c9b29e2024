/* The portable code paths of tests/host/portable_paths.c (built with MT_FORCE_PORTABLE), which
 * tests/host/test_portable.c compares with the fast ones the library takes. */
#ifndef MT_PORTABLE_PATHS_H
#define MT_PORTABLE_PATHS_H
#include <stdint.h>

int64_t portable_floor_shift(int64_t v, uint32_t s);
uint32_t portable_compact_row(uint32_t *out, const int32_t *p, uint32_t i, uint32_t n);
uint32_t portable_compact_levels(uint32_t *out, const uint16_t *q, const uint16_t *old, uint32_t i,
                                 uint32_t n, int all);
uint32_t portable_sgd_row(uint32_t *out, const float *g, const float *gs, const float *gr, int uniform,
                          float lr, float w_per_g, uint32_t i, uint32_t n);
uint32_t portable_ssm_row(uint32_t *out, float *v, const float *g, const float *gs, const float *gr,
                          int uniform, float lr, float w_per_g, float beta, uint32_t i, uint32_t n,
                          uint64_t *rng);
uint32_t portable_ssm_rows(uint32_t *out, float *v, const float *g, const float *gs,
                           const float *gr, int uniform, float lr, float w_per_g, float beta,
                           uint32_t nrows, uint32_t n, uint64_t *rng);
#endif
