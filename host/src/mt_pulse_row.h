/* One row of an open-loop pulse step (sgd-pulse and ssm, mt_algo_ssm.c): from the row's
 * gradient to its PULSE entries in one pass. A header of its own, as mt_compact_row.h, so that
 * tests/host/test_portable.c can build it twice, with the host's vector units and with
 * MT_FORCE_PORTABLE, and compare the two.
 *
 * The portable path is the step's parts one after the other over the whole row (momentum,
 * plan, compaction), each a loop of its own that gcc vectorizes. With AVX-512 the row goes
 * through once, 16 weights at a time, every part in registers: the parts' loops stored and
 * loaded five arrays per row between them, and ssm plans every row of every layer at every
 * step (a velocity is rarely zero). The same entries, velocities and generator either way. */
#ifndef MT_PULSE_ROW_H
#define MT_PULSE_ROW_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "mt_algo_ssm.h"
#include "mt_compact_row.h"
#include "mt_protocol.h"
#include "mt_rng.h"
/* MT_FORCE_PORTABLE (as in hls/mt_fixed.h): the portable loops even where AVX-512 is there. */
#if defined(__AVX512F__) && defined(__AVX512DQ__) && !defined(MT_FORCE_PORTABLE)
#include <immintrin.h>
#define MT_PULSE_ROW_AVX512 1
#endif

/* Whether g[0..n) are all zero (either sign). On the bits, so that the loop vectorizes
 * (a NaN counts as non-zero, and plans no pulse either way). */
static inline int mt_all_zero(const float *g, uint32_t n) {
  uint32_t any = 0;
  for (uint32_t j = 0; j < n; j++) {
    uint32_t b;
    memcpy(&b, g + j, sizeof b);
    any |= b & 0x7FFFFFFFu;
  }
  return any == 0;
}

/* sgd-pulse's plan of one row: p[j] = the signed pulse count of the wanted change
 * -lr g[j] / w_per_g, mt_pulse_round_nearest of its size over the gain of its direction.
 * The rounding is written without branches or calls (the same value for every input,
 * NaN included) so the loop vectorizes. Returns whether any p[j] is non-zero. */
static inline int mt_plan_nearest(int32_t *restrict p, const float *restrict g,
                                  const float *restrict gs, const float *restrict gr, float lr,
                                  float w_per_g, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) {
    float d = -lr * g[j] / w_per_g; /* wanted change of g+, g units */
    float up = gs[j], down = gr[j]; /* both loaded: a conditional load does not vectorize */
    float x = fabsf(d) / (d > 0 ? up : down);
    /* !(x > 0) (NaN too) gives 0; x >= MT_PULSE_MAX gives MT_PULSE_MAX, as floor(63.5) */
    x = x > 0 ? (x < (float)MT_PULSE_MAX ? x : (float)MT_PULSE_MAX) : 0.0f;
    int32_t c = (int32_t)(x + 0.5f); /* floorf of a value >= 0.5: the conversion truncates */
    p[j] = d > 0 ? c : -c;
  }
  /* A loop of its own: gcc does not vectorize the one above with this reduction in it. */
  int32_t any = 0;
  for (uint32_t j = 0; j < n; j++) any |= p[j];
  return any != 0;
}

#ifdef MT_PULSE_ROW_AVX512
/* The top 24 bits of mt_splitmix64_mix of 8 states (its last step, z ^ z >> 31, leaves
 * bits 40..63 as they are). */
static inline __m512i mt_mix_top24_x8(__m512i z) {
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                         _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                         _mm512_set1_epi64((long long)0x94D049BB133111EBull));
  return _mm512_srli_epi64(z, 40);
}

/* The entries' row and column bits (row << 20 | column << 8) of weights j0..j0+15 of row i. */
static inline __m512i mt_row_cells16(uint32_t i, uint32_t j0) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i col = _mm512_slli_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32((int)j0)), 8);
  return _mm512_or_si512(_mm512_set1_epi32((int)(i << 20)), col);
}

/* The PULSE entries of the non-zero counts p of 16 weights (lanes nz) whose cells are cells
 * (mt_row_cells16) at out, as mt_compact_row; returns how many. */
static inline uint32_t mt_row_entries16(uint32_t *out, __m512i p, __mmask16 nz, __m512i cells) {
  const __m512i e = _mm512_or_si512(cells, _mm512_and_si512(p, _mm512_set1_epi32(0x7F)));
  /* compress in a register, then a plain store (a compressing store is slow on some cores) */
  _mm512_storeu_si512(out, _mm512_maskz_compress_epi32(nz, e));
  return (uint32_t)__builtin_popcount(nz);
}

/* Lanes j0..n of 16 (all from 16 on). */
static inline __mmask16 mt_row_lanes(uint32_t j0, uint32_t n) {
  return n - j0 >= 16 ? (__mmask16)0xFFFFu : (__mmask16)((1u << (n - j0)) - 1u);
}

/* The gains of weights j0.. (lanes in; 1 past n): the row's own, or with uniform the one
 * value all of them hold (gain[0]). */
static inline __m512 mt_row_gains(const float *gain, int uniform, __mmask16 in, uint32_t j0) {
  return uniform ? _mm512_set1_ps(gain[0]) : _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), in, gain + j0);
}
#endif

/* sgd-pulse's step of row i of n (<= MT_COLS) weights: the PULSE entries (row << 20 | column
 * << 8 | signed 7-bit count, in column order) of mt_plan_nearest's counts of gradient g at
 * out; returns how many. uniform says that gs[0..n) are one value and gr[0..n) one value
 * (the AVX-512 path then loads none of them: a layer's gains are as large as its gradient).
 * The AVX-512 path may write up to 16 words past the entries (as mt_compact_row). */
static inline uint32_t mt_sgd_row(uint32_t *restrict out, const float *restrict g,
                                  const float *restrict gs, const float *restrict gr, int uniform,
                                  float lr, float w_per_g, uint32_t i, uint32_t n) {
#ifdef MT_PULSE_ROW_AVX512
  const __m512 nlr = _mm512_set1_ps(-lr), wpg = _mm512_set1_ps(w_per_g), zero = _mm512_setzero_ps();
  const __m512 max = _mm512_set1_ps((float)MT_PULSE_MAX);
  uint32_t ne = 0;
  for (uint32_t j0 = 0; j0 < n; j0 += 16) {
    const __mmask16 in = mt_row_lanes(j0, n);
    const __m512 gv = _mm512_maskz_loadu_ps(in, g + j0);
    /* 16 zero gradients (blank pixels, dead units) plan no pulse */
    if (_mm512_test_epi32_mask(_mm512_castps_si512(gv), _mm512_set1_epi32(0x7FFFFFFF)) == 0) continue;
    const __m512 d = _mm512_div_ps(_mm512_mul_ps(nlr, gv), wpg);
    const __mmask16 pos = _mm512_cmp_ps_mask(d, zero, _CMP_GT_OQ);
    const __m512 gain = _mm512_mask_blend_ps(pos, mt_row_gains(gr, uniform, in, j0),
                                             mt_row_gains(gs, uniform, in, j0));
    const __m512 x = _mm512_div_ps(_mm512_abs_ps(d), gain);
    /* mt_plan_nearest: 0 unless x > 0, at most MT_PULSE_MAX, then half up */
    const __m512 xc = _mm512_maskz_min_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), x, max);
    const __m512i c = _mm512_cvttps_epi32(_mm512_add_ps(xc, _mm512_set1_ps(0.5f)));
    const __m512i p = _mm512_mask_sub_epi32(c, (__mmask16)~pos, _mm512_setzero_si512(), c);
    /* no branch on whether the block has a pulse (a coin flip): a branch was 15-20% slower */
    ne += mt_row_entries16(out + ne, p, _mm512_test_epi32_mask(p, p), mt_row_cells16(i, j0));
  }
  return ne;
#else
  (void)uniform;
  int32_t p[MT_COLS];
  if (mt_all_zero(g, n) || !mt_plan_nearest(p, g, gs, gr, lr, w_per_g, n)) return 0;
  return mt_compact_row(out, p, i, n);
#endif
}

#ifdef MT_PULSE_ROW_AVX512
/* ssm's step of 16 weights (lanes in; the rest past the row's end): the momentum v = beta v + g
 * at v, g, then the PULSE entries of the weights' mt_pulse_plan_stochastic counts at out, their
 * cells cells (mt_row_cells16); returns how many. The weights' draws are the 16 after the
 * *draws taken since x0 (draw m of the generator is mt_splitmix64_mix(x0 + m gamma)); *draws
 * grows by the block's. */
static inline uint32_t mt_ssm_block16(uint32_t *out, float *v, const float *g, const float *gs,
                                      const float *gr, int uniform, __mmask16 in, __m512i cells,
                                      float lr, float w_per_g, float beta, uint64_t x0,
                                      uint64_t *draws) {
  const __m512 zero = _mm512_setzero_ps(), max = _mm512_set1_ps((float)MT_PULSE_MAX);
  const uint64_t gm = MT_SPLITMIX64_GAMMA;
  const __m512i step_lo = _mm512_set_epi64(
      (long long)(7 * gm), (long long)(6 * gm), (long long)(5 * gm), (long long)(4 * gm),
      (long long)(3 * gm), (long long)(2 * gm), (long long)gm, 0);
  const __m512i step_hi = _mm512_add_epi64(step_lo, _mm512_set1_epi64((long long)(8 * gm)));
  /* mt_pulse_momentum: the product, then the sum (two roundings, as the C expression) */
  const __m512 vv = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(in, v)),
                                  _mm512_maskz_loadu_ps(in, g));
  _mm512_mask_storeu_ps(v, in, vv);
  /* 16 zero velocities plan no pulse and take no draw */
  if (_mm512_test_epi32_mask(_mm512_castps_si512(vv), _mm512_set1_epi32(0x7FFFFFFF)) == 0) return 0;
  /* mt_pulse_plan_stochastic's plan_prep */
  const __m512 d = _mm512_div_ps(_mm512_mul_ps(_mm512_set1_ps(-lr), vv), _mm512_set1_ps(w_per_g));
  const __mmask16 pos = _mm512_cmp_ps_mask(d, zero, _CMP_GT_OQ);
  const __m512 gain =
      _mm512_mask_blend_ps(pos, mt_row_gains(gr, uniform, in, 0), mt_row_gains(gs, uniform, in, 0));
  const __m512 x = _mm512_div_ps(_mm512_abs_ps(d), gain);
  const __mmask16 draw =
      _mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ) & _mm512_cmp_ps_mask(x, max, _CMP_LT_OQ);
  const __m512 xd = _mm512_maskz_mov_ps(draw, x);
  __m512i c = _mm512_cvttps_epi32(xd); /* floor; 0 without a draw */
  if (draw) {
    const uint32_t nd = (uint32_t)__builtin_popcount(draw);
    const __m512 frac = _mm512_sub_ps(xd, _mm512_cvtepi32_ps(c));
    const __m512i base = _mm512_set1_epi64((long long)(x0 + (*draws + 1) * gm));
    const __m256i lo = _mm512_cvtepi64_epi32(mt_mix_top24_x8(_mm512_add_epi64(base, step_lo)));
    const __m256i hi = nd > 8
                           ? _mm512_cvtepi64_epi32(mt_mix_top24_x8(_mm512_add_epi64(base, step_hi)))
                           : _mm256_setzero_si256();
    /* the q-th draw of the block to the q-th drawing weight */
    const __m512i k =
        _mm512_maskz_expand_epi32(draw, _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
    const __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(k), _mm512_set1_ps(1.0f / 16777216.0f));
    c = _mm512_mask_add_epi32(c, _mm512_cmp_ps_mask(u, frac, _CMP_LT_OQ), c, _mm512_set1_epi32(1));
    *draws += nd;
  }
  c = _mm512_mask_mov_epi32(c, _mm512_cmp_ps_mask(x, max, _CMP_GE_OQ),
                            _mm512_set1_epi32((int)MT_PULSE_MAX));
  const __m512i p = _mm512_mask_sub_epi32(c, (__mmask16)~pos, _mm512_setzero_si512(), c);
  /* no branch on whether the block has a pulse (as mt_sgd_row) */
  return mt_row_entries16(out, p, _mm512_test_epi32_mask(p, p), cells);
}
#endif

/* ssm's step of row i of n (<= MT_COLS) weights: the momentum v = beta v + g, then the PULSE
 * entries of mt_pulse_plan_stochastic's counts of v at out (as mt_sgd_row), the draws taken
 * from *rng; returns how many. A row of zero velocities takes no draw. uniform as for
 * mt_sgd_row. */
static inline uint32_t mt_ssm_row(uint32_t *restrict out, float *restrict v, const float *restrict g,
                                  const float *restrict gs, const float *restrict gr, int uniform,
                                  float lr, float w_per_g, float beta, uint32_t i, uint32_t n,
                                  uint64_t *rng) {
#ifdef MT_PULSE_ROW_AVX512
  const uint64_t x0 = *rng;
  uint64_t draws = 0;
  uint32_t ne = 0;
  for (uint32_t j0 = 0; j0 < n; j0 += 16)
    ne += mt_ssm_block16(out + ne, v + j0, g + j0, gs + j0, gr + j0, uniform, mt_row_lanes(j0, n),
                         mt_row_cells16(i, j0), lr, w_per_g, beta, x0, &draws);
  *rng = x0 + draws * MT_SPLITMIX64_GAMMA;
  return ne;
#else
  (void)uniform;
  mt_pulse_momentum(v, g, n, beta);
  if (mt_all_zero(v, n)) return 0;
  int32_t p[MT_COLS];
  mt_pulse_plan_stochastic(p, v, gs, gr, lr, w_per_g, n, rng);
  return mt_compact_row(out, p, i, n);
#endif
}

/* ssm's step of rows 0..nrows-1 of n (<= MT_COLS) weights each, stored one after the other (a
 * tile's rows where the layer's outputs fit one tile): mt_ssm_row of each row in turn, the
 * same entries, velocities and draws. With AVX-512 the blocks of 16 weights run on across the
 * rows' ends, so that a row of 100 weights does not take 7 blocks (the last of 4) nor a row of
 * 10 one of its own: the block's lanes carry their cells. */
static inline uint32_t mt_ssm_rows(uint32_t *restrict out, float *restrict v,
                                   const float *restrict g, const float *restrict gs,
                                   const float *restrict gr, int uniform, float lr, float w_per_g,
                                   float beta, uint32_t nrows, uint32_t n, uint64_t *rng) {
#ifdef MT_PULSE_ROW_AVX512
  const uint32_t total = nrows * n;
  /* lane q's cell is weight q's: row q / n, column q mod n; a block moves each lane 16 weights
   * on, i.e. 16 columns, then back n columns and a row down as often as it passed the row's
   * end (once where n >= 16) */
  uint32_t first[16];
  for (uint32_t q = 0; q < 16; q++) first[q] = (q / n) << 20 | (q % n) << 8;
  __m512i cells = _mm512_loadu_si512(first);
  const __m512i ahead = _mm512_set1_epi32(16 << 8), colmask = _mm512_set1_epi32(0xFFF00);
  const __m512i end = _mm512_set1_epi32((int)(n << 8)),
                wrap = _mm512_set1_epi32((int)((1u << 20) - (n << 8)));
  const uint32_t wraps = (16 + n - 1) / n;
  const uint64_t x0 = *rng;
  uint64_t draws = 0;
  uint32_t ne = 0;
  for (uint32_t k0 = 0; k0 < total; k0 += 16) {
    ne += mt_ssm_block16(out + ne, v + k0, g + k0, gs + k0, gr + k0, uniform,
                         mt_row_lanes(k0, total), cells, lr, w_per_g, beta, x0, &draws);
    cells = _mm512_add_epi32(cells, ahead);
    for (uint32_t w = 0; w < wraps; w++)
      cells = _mm512_mask_add_epi32(
          cells, _mm512_cmpge_epu32_mask(_mm512_and_si512(cells, colmask), end), cells, wrap);
  }
  *rng = x0 + draws * MT_SPLITMIX64_GAMMA;
  return ne;
#else
  uint32_t ne = 0;
  for (uint32_t i = 0; i < nrows; i++)
    ne += mt_ssm_row(out + ne, v + (size_t)i * n, g + (size_t)i * n, gs + (size_t)i * n,
                     gr + (size_t)i * n, uniform, lr, w_per_g, beta, i, n, rng);
  return ne;
#endif
}

#endif
