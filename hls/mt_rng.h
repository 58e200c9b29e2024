/* Noise sources of the device: per-lane uniform generators and the Gaussian
 * transform. Bit-exact contract with rtl/ (docs/protocol.md, "Random numbers"). */
#ifndef MT_RNG_H
#define MT_RNG_H

#include <stdint.h>

#include "mt_fixed.h"
#include "mt_gauss_table.h"
#include "mt_protocol.h"

typedef struct {
  uint32_t s[4];
} mt_xoshiro_t;

#define MT_SPLITMIX64_GAMMA 0x9E3779B97F4A7C15ull /* the golden gamma */

/* splitmix64's output of state z. The generator is a counter: the m-th output (m >= 1) of
 * state x is mt_splitmix64_mix(x + m * MT_SPLITMIX64_GAMMA), so a run of draws can be
 * computed side by side (ssm's row plan). */
static inline uint64_t mt_splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* splitmix64 step (Steele et al. 2014): advances *x by the golden gamma and returns the
 * mixed value. The one splitmix64 of the tree: the device's seeding, and on the host the
 * weight initialization, the example order, ssm's rounding and the permuted tasks. */
static inline uint64_t mt_splitmix64_next(uint64_t *x) {
  return mt_splitmix64_mix(*x += MT_SPLITMIX64_GAMMA);
}

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

#define MT_GAUSS_DROP_BITS (MT_GAUSS_KNOT_FRAC_BITS - MT_GAUSS_OUT_FRAC_BITS)

/* Standard normal sample in Q3.12 from one 32-bit uniform (inverse CDF by
 * table with linear interpolation). Inline: every pulse and noisy read takes one, and
 * a call per draw was a tenth of pulse training's time. */
static inline int16_t mt_gauss_icdf(uint32_t u) {
  const uint32_t sign = u >> 31;
  const uint32_t v = u & 0x7FFFFFFFu;
  int32_t mag;
  int32_t z12;

  if (v == 0u) {
    /* Leading-zero segmentation cannot place v == 0; it stands for the whole tail below
     * 2^-32 and gets its own knot. */
    mag = mt_gauss_knots[MT_GAUSS_K_ZERO_INDEX];
  } else {
    /* Normalise v: the leading-zero count picks the octave, the shifted value
     * the segment and the interpolation fraction. */
    uint32_t m, s, f, base;
    int32_t k0, k1;
    int64_t delta_f;
#if defined(__GNUC__) && !defined(__SYNTHESIS__)
    /* Same count as mt_clz31 (tests compare them), in one instruction. */
    uint32_t lz = (uint32_t)__builtin_clz(v) - 1u;
#else
    uint32_t lz = mt_clz31(v);
#endif
    m = v << lz; /* bit 30 set */
    s = (m >> (30u - MT_GAUSS_SEG_BITS)) & (MT_GAUSS_SEGS - 1u);
    f = (m >> (30u - MT_GAUSS_SEG_BITS - MT_GAUSS_FRAC_BITS)) &
        ((1u << MT_GAUSS_FRAC_BITS) - 1u);
    base = lz * MT_GAUSS_KNOTS_PER_OCTAVE + s;
    k0 = mt_gauss_knots[base];
    k1 = mt_gauss_knots[base + 1u];
    /* Knots fall with k, so delta*f <= 0: the contract is floor (what Verilog >>> gives
     * on the signed product), and truncation would differ by one Q4.16 LSB. Either keeps
     * M in [K[s+1], K[s]], which is what makes |z| monotone across segment edges. */
    delta_f = (int64_t)(k1 - k0) * (int64_t)f;
    mag = k0 + (int32_t)mt_floor_shift(delta_f, MT_GAUSS_FRAC_BITS);
  }
  /* mag >= 0, so a plain shift is floor; adding half an output LSB (8) makes it round
   * half up from Q4.16 to Q3.12. */
  z12 = (int32_t)(((uint32_t)mag + (1u << (MT_GAUSS_DROP_BITS - 1u))) >> MT_GAUSS_DROP_BITS);
  return (int16_t)(sign ? -z12 : z12);
}

/* mt_gauss_icdf as a function, for callers outside C (the Verilator test benches). */
int16_t mt_gauss_from_u32(uint32_t u);

/* mt_gauss_from_u32 written without branches (what mt_gauss_columns uses so
 * that its lane loop vectorizes); the same value for every u. */
int16_t mt_gauss_from_u32_lanewise(uint32_t u);

/* One Gaussian draw from a lane (consumes exactly one uniform). */
static inline int16_t mt_gauss(mt_xoshiro_t *r) { return mt_gauss_icdf(mt_xoshiro_next(r)); }

/* z[j] = one draw from lane j mod MT_LANES, for j = 0..n-1 in order: the same
 * values and lane states as n calls of mt_gauss, computed a group of lanes
 * at a time (the per-column read noise of an MVM). n <= MT_COLS. */
void mt_gauss_columns(mt_xoshiro_t lanes[MT_LANES], uint32_t n, int16_t *z);

/* The most cells of one call of mt_gauss_pairs. */
#define MT_GAUSS_PAIRS_MAX 1024u

/* The G+ and G- read noise of READ_CELLS of rows 0..nrows-1, columns col0..col0+n-1 (nrows * n
 * <= MT_GAUSS_PAIRS_MAX, n <= MT_COLS): row by row, za[i n + jj] then zb[i n + jj] = two draws
 * from lane (col0 + jj) mod MT_LANES for jj = 0..n-1 in order; the same values and lane states
 * as 2 nrows n calls of mt_gauss in that order. */
void mt_gauss_pairs(mt_xoshiro_t lanes[MT_LANES], uint32_t col0, uint32_t nrows, uint32_t n,
                    int16_t *za, int16_t *zb);

/* The lane states mt_gauss_pairs leaves, without the draws (READ_CELLS of a region where the
 * noise's amplitude is 0: every draw would add mt_gnoise(0, z) = 0, whatever z is). nrows <=
 * MT_ROWS, n <= MT_COLS. */
void mt_lanes_skip_pairs(mt_xoshiro_t lanes[MT_LANES], uint32_t col0, uint32_t nrows, uint32_t n);

/* Draws of one lane computed ahead (the golden model's write-verify, hls/mt_device.c). */
#define MT_GAUSS_RUN 32u

/* z[i] = the next MT_GAUSS_RUN draws of lane r in order (mt_gauss of each), r advanced past
 * them: the uniforms one after the other (a lane is a serial generator), then their
 * transforms side by side. */
void mt_gauss_run(mt_xoshiro_t *r, int16_t z[MT_GAUSS_RUN]);

#endif
