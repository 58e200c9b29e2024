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

/* xoshiro128++: returns the next 32-bit output and advances the state. */
uint32_t mt_xoshiro_next(mt_xoshiro_t *r);

/* Leading zeros of v (non-zero) as a 31-bit number: 0..30. */
uint32_t mt_clz31(uint32_t v);

/* Standard normal sample in Q3.12 from one 32-bit uniform (inverse CDF by
 * table with linear interpolation). */
int16_t mt_gauss_from_u32(uint32_t u);

/* One Gaussian draw from a lane (consumes exactly one uniform). */
int16_t mt_gauss(mt_xoshiro_t *r);

/* z[j] = one draw from lane j mod MT_LANES, for j = 0..n-1 in order: the same
 * values and lane states as n calls of mt_gauss, computed a group of lanes
 * at a time (the per-column read noise of an MVM). n <= MT_COLS. */
void mt_gauss_columns(mt_xoshiro_t lanes[MT_LANES], uint32_t n, int16_t *z);


#endif
