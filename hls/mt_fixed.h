/* Fixed-point helpers of the bit-exact contract (docs/device-model.md,
 * "Notation"). Inline because they sit on the per-draw and per-column paths. */
#ifndef MT_FIXED_H
#define MT_FIXED_H

#include <stdint.h>

/* floor(v / 2^s) for |v| < 2^62, s <= 62. Offsetting by 2^62 (a multiple of
 * 2^s) makes the value non-negative, so an unsigned shift gives floor
 * without depending on how C shifts negative numbers, and without a branch
 * on the sign (random for noise, so it would mispredict half the time). */
static inline int64_t mt_floor_shift(int64_t v, uint32_t s) {
/* MT_FORCE_PORTABLE builds the portable code paths where a faster one would be chosen (here
 * and in host/src/mt_compact_row.h), so that tests/host/test_portable.c can compare them. */
#if defined(__GNUC__) && !defined(__SYNTHESIS__) && !defined(MT_FORCE_PORTABLE)
  /* GCC (and Clang) define >> of a negative value as an arithmetic shift, which is floor:
   * one instruction where the offset took three and two 64-bit constants, on every draw. */
  return v >> s;
#else
  const uint64_t bias = (uint64_t)1 << 62;
  return (int64_t)(((uint64_t)v + bias) >> s) - (int64_t)(bias >> s);
#endif
}

/* floor((v + 2^(s-1)) / 2^s): round half up; v itself for s = 0. */
static inline int64_t mt_round_shift(int64_t v, uint32_t s) {
  return s == 0 ? v : mt_floor_shift(v + ((int64_t)1 << (s - 1)), s);
}

/* Noise of amplitude amp (|amp| < 2^40) for a Q3.12 sample z:
 * floor((amp * z + 2^11) / 2^12). */
static inline int64_t mt_gnoise(int64_t amp, int16_t z) {
  return mt_floor_shift(amp * (int64_t)z + 2048, 12);
}

#endif
