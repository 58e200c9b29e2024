/* Noise sources of the device: per-lane uniform generators and the Gaussian
 * transform. Bit-exact contract with rtl/ (docs/protocol.md, "Random numbers"). */
#ifndef MT_RNG_H
#define MT_RNG_H

#include <stdint.h>

#include "mt_fixed.h"
#include "mt_protocol.h"

typedef struct {
  uint32_t s[4];
} mt_xoshiro_t;

/* splitmix64 step: advances *x by the golden gamma and returns the mixed value. */
uint64_t mt_splitmix64_next(uint64_t *x);

/* Seeds MT_LANES generators from one 64-bit seed: lane l takes splitmix64 outputs
 * 2l and 2l+1 (low word first); an all-zero state becomes s[0] = 1. */
void mt_lanes_seed(mt_xoshiro_t lanes[MT_LANES], uint64_t seed);

static inline uint32_t mt_rotl32(uint32_t x, unsigned k) {
  return (x << k) | (x >> (32u - k));
}

/* xoshiro128++: returns the next 32-bit output and advances the state.
 * Inline: every pulse and read of the device takes a draw. */
static inline uint32_t mt_xoshiro_next(mt_xoshiro_t *r) {
  uint32_t *s = r->s;
  const uint32_t result = mt_rotl32(s[0] + s[3], 7) + s[0];
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = mt_rotl32(s[3], 11);
  return result;
}

/* Leading zeros of v (non-zero) as a 31-bit number: 0..30. */
uint32_t mt_clz31(uint32_t v);

/* Standard normal sample in Q3.12 from one 32-bit uniform (inverse CDF by
 * table with linear interpolation). */
int16_t mt_gauss_from_u32(uint32_t u);

/* mt_gauss_from_u32 written without branches (what mt_gauss_columns uses so
 * that its lane loop vectorizes); the same value for every u. */
int16_t mt_gauss_from_u32_lanewise(uint32_t u);

/* One Gaussian draw from a lane (consumes exactly one uniform). */
static inline int16_t mt_gauss(mt_xoshiro_t *r) { return mt_gauss_from_u32(mt_xoshiro_next(r)); }

/* z[j] = one draw from lane j mod MT_LANES, for j = 0..n-1 in order: the same
 * values and lane states as n calls of mt_gauss, computed a group of lanes
 * at a time (the per-column read noise of an MVM). n <= MT_COLS. */
void mt_gauss_columns(mt_xoshiro_t lanes[MT_LANES], uint32_t n, int16_t *z);


#endif
