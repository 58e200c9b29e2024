/* The PULSE entry list of one row of pulse counts (sgd-pulse and ssm, mt_algo_ssm.c) and the
 * PROGRAM entry list of one row of levels (mt_map.c). A header of its own so that
 * tests/host/test_portable.c can build it twice, with the host's vector units and with
 * MT_FORCE_PORTABLE, and compare the two. */
#ifndef MT_COMPACT_ROW_H
#define MT_COMPACT_ROW_H

#include <stdint.h>
/* MT_FORCE_PORTABLE (as in hls/mt_fixed.h): the portable loop even where AVX-512 is there. */
#if defined(__AVX512F__) && !defined(MT_FORCE_PORTABLE)
#include <immintrin.h>
#endif

/* The PULSE entries (row << 20 | column << 8 | signed 7-bit count) of the non-zero counts
 * p[0..n) of row i, in column order, at out; returns how many. With AVX-512 a vector
 * compress of 16 counts at a time, which may write up to 16 words past the entries it
 * returns (mt_algo_ssm.c's ENTRY_CAP leaves room: a tile has at most MT_ROWS * MT_COLS
 * entries). Otherwise without branches within groups of 8 weights (whether a weight gets
 * pulses is a coin flip), a group without pulses, the common case, skipped. The same
 * entries either way. */
static inline uint32_t mt_compact_row(uint32_t *restrict out, const int32_t *restrict p, uint32_t i,
                                      uint32_t n) {
  uint32_t ne = 0;
#if defined(__AVX512F__) && !defined(MT_FORCE_PORTABLE)
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i row = _mm512_set1_epi32((int)(i << 20)), low7 = _mm512_set1_epi32(0x7F);
  for (uint32_t j0 = 0; j0 < n; j0 += 16) {
    const __mmask16 in = n - j0 >= 16 ? 0xFFFFu : (__mmask16)((1u << (n - j0)) - 1u);
    const __m512i c = _mm512_maskz_loadu_epi32(in, p + j0);
    const __mmask16 nz = _mm512_test_epi32_mask(c, c);
    if (nz == 0) continue;
    const __m512i col = _mm512_slli_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32((int)j0)), 8);
    const __m512i e = _mm512_or_si512(_mm512_or_si512(row, col), _mm512_and_si512(c, low7));
    /* compress in a register, then a plain store (a compressing store is slow on some cores) */
    _mm512_storeu_si512(out + ne, _mm512_maskz_compress_epi32(nz, e));
    ne += (uint32_t)__builtin_popcount(nz);
  }
#else
  for (uint32_t j0 = 0; j0 < n; j0 += 8) {
    uint32_t j1 = j0 + 8 < n ? j0 + 8 : n;
    int32_t any = 0;
    for (uint32_t j = j0; j < j1; j++) any |= p[j];
    if (any == 0) continue;
    for (uint32_t j = j0; j < j1; j++) {
      out[ne] = i << 20 | j << 8 | ((uint32_t)p[j] & 0x7Fu);
      ne += p[j] != 0;
    }
  }
#endif
  return ne;
}

/* The PROGRAM entries (row << 20 | column << 8 | level) of row i's levels q[0..n) that differ
 * from the levels programmed, old[0..n) (every one with all), in column order, at out;
 * returns how many. With AVX-512 a compare and a compress of 16 levels at a time, which may
 * write up to 16 words past the entries it returns (mt_map.c's entries leave room).
 * Otherwise without branches (whether a level changed is a coin flip). The same entries
 * either way. */
static inline uint32_t mt_compact_levels(uint32_t *restrict out, const uint16_t *restrict q,
                                         const uint16_t *restrict old, uint32_t i, uint32_t n,
                                         int all) {
  uint32_t ne = 0;
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    !defined(MT_FORCE_PORTABLE)
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i row = _mm512_set1_epi32((int)(i << 20));
  for (uint32_t j0 = 0; j0 < n; j0 += 16) {
    const __mmask16 in = n - j0 >= 16 ? 0xFFFFu : (__mmask16)((1u << (n - j0)) - 1u);
    const __m256i qv = _mm256_maskz_loadu_epi16(in, q + j0);
    const __m256i ov = _mm256_maskz_loadu_epi16(in, old + j0);
    const __mmask16 ch = all ? in : _mm256_mask_cmpneq_epu16_mask(in, qv, ov);
    if (ch == 0) continue;
    const __m512i col = _mm512_slli_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32((int)j0)), 8);
    const __m512i e = _mm512_or_si512(_mm512_or_si512(row, col), _mm512_cvtepu16_epi32(qv));
    /* compress in a register, then a plain store (a compressing store is slow on some cores) */
    _mm512_storeu_si512(out + ne, _mm512_maskz_compress_epi32(ch, e));
    ne += (uint32_t)__builtin_popcount(ch);
  }
#else
  for (uint32_t j = 0; j < n; j++) {
    out[ne] = i << 20 | j << 8 | q[j];
    ne += all || q[j] != old[j];
  }
#endif
  return ne;
}

#endif
