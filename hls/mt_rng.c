/* Noise sources of the device. This file is the bit-exact reference for rtl/: every
 * operation is integer, every loop is bounded by a constant (its trip count, or the maximum
 * its LOOP_TRIPCOUNT declares), and every signed shift of a possibly negative value goes
 * through mt_floor_shift so the result does not depend on the compiler (C leaves >> of
 * negative values implementation-defined; Verilog >>> is floor). Algorithm:
 * docs/protocol.md, "Random numbers". */
#include "mt_rng.h"

void mt_lanes_seed(mt_xoshiro_t lanes[MT_LANES], uint64_t seed) {
  uint64_t x = seed;
  unsigned l;
  /* One splitmix64 sequence feeds all lanes in lane order, so a lane's state depends on
   * the seed and its index only, and the RTL can seed lanes serially from one mixer. */
  for (l = 0; l < MT_LANES; l++) {
    uint64_t a = mt_splitmix64_next(&x);
    uint64_t b = mt_splitmix64_next(&x);
    lanes[l].s[0] = (uint32_t)a;
    lanes[l].s[1] = (uint32_t)(a >> 32);
    lanes[l].s[2] = (uint32_t)b;
    lanes[l].s[3] = (uint32_t)(b >> 32);
    /* The all-zero state is the one fixed point of xoshiro. The splitmix64 mixer is a
     * bijection, so a and b (two different counter values) are never both zero and this
     * cannot fire; it stays because the contract states it and costs one comparator. */
    if ((lanes[l].s[0] | lanes[l].s[1] | lanes[l].s[2] | lanes[l].s[3]) == 0u) {
      lanes[l].s[0] = 1u;
    }
  }
}

uint32_t mt_clz31(uint32_t v) {
  /* A 5-stage shifter, as the RTL builds it: leading zeros of v as a 31-bit
   * number (v != 0). */
  uint32_t w = v << 1;
  uint32_t lz = 0u;
  if ((w & 0xFFFF0000u) == 0u) { w <<= 16; lz += 16u; }
  if ((w & 0xFF000000u) == 0u) { w <<= 8; lz += 8u; }
  if ((w & 0xF0000000u) == 0u) { w <<= 4; lz += 4u; }
  if ((w & 0xC0000000u) == 0u) { w <<= 2; lz += 2u; }
  if ((w & 0x80000000u) == 0u) { lz += 1u; }
  return lz;
}

int16_t mt_gauss_from_u32(uint32_t u) { return mt_gauss_icdf(u); }

/* mt_gauss_from_u32 without branches, so the loop over the lanes below
 * vectorizes (the knot lookups become gathers): v == 0 goes through the
 * segment arithmetic with v | 1 (in range of the table) and then takes the
 * zero knot. The same result for every u: checked over all 2^32 values
 * when it was written; tests/hls/test_rng.c compares a large sample. */
static inline int16_t gauss_lane(uint32_t u) {
  const uint32_t sign = u >> 31;
  const uint32_t v = u & 0x7FFFFFFFu;
#if defined(__GNUC__) && !defined(__SYNTHESIS__)
  uint32_t lz = (uint32_t)__builtin_clz(v | 1u) - 1u;
#else
  uint32_t lz = mt_clz31(v | 1u);
#endif
  uint32_t m = v << lz;
  uint32_t s = (m >> (30u - MT_GAUSS_SEG_BITS)) & (MT_GAUSS_SEGS - 1u);
  uint32_t f = (m >> (30u - MT_GAUSS_SEG_BITS - MT_GAUSS_FRAC_BITS)) &
               ((1u << MT_GAUSS_FRAC_BITS) - 1u);
  uint32_t base = lz * MT_GAUSS_KNOTS_PER_OCTAVE + s;
  int32_t k0 = mt_gauss_knots[base];
  int32_t k1 = mt_gauss_knots[base + 1u];
  int64_t delta_f = (int64_t)(k1 - k0) * (int64_t)f;
  int32_t mag = k0 + (int32_t)mt_floor_shift(delta_f, MT_GAUSS_FRAC_BITS);
  mag = v == 0u ? mt_gauss_knots[MT_GAUSS_K_ZERO_INDEX] : mag;
  int32_t z12 = (int32_t)(((uint32_t)mag + (1u << (MT_GAUSS_DROP_BITS - 1u))) >> MT_GAUSS_DROP_BITS);
  return (int16_t)(sign ? -z12 : z12);
}

int16_t mt_gauss_from_u32_lanewise(uint32_t u) { return gauss_lane(u); }

/* One xoshiro128++ output of lane l of lane states kept side by side (one array per state
 * word); the lane advances only where on (a partial group leaves the others as they were). */
static inline uint32_t lanes_next(uint32_t *s0, uint32_t *s1, uint32_t *s2, uint32_t *s3,
                                  uint32_t l, uint32_t on) {
  uint32_t t = s1[l] << 9;
  uint32_t n0 = s0[l], n1 = s1[l], n2 = s2[l], n3 = s3[l];
  uint32_t u = mt_rotl32(n0 + n3, 7) + n0;
  n2 ^= n0;
  n3 ^= n1;
  n1 ^= n2;
  n0 ^= n3;
  n2 ^= t;
  n3 = mt_rotl32(n3, 11);
  /* a select on the bits: gcc turns the ?: form into masked stores, which the next step's
   * loads of the lane cannot take their value from until they are written (a stall per step
   * where the lanes are side by side) */
  const uint32_t keep = on ? 0u : 0xFFFFFFFFu;
  s0[l] = (n0 & ~keep) | (s0[l] & keep);
  s1[l] = (n1 & ~keep) | (s1[l] & keep);
  s2[l] = (n2 & ~keep) | (s2[l] & keep);
  s3[l] = (n3 & ~keep) | (s3[l] & keep);
  return u;
}

/* The lanes' states into the side-by-side arrays of the functions below (one array per state
 * word, partitioned there), and back. */
static inline void lanes_load(const mt_xoshiro_t lanes[MT_LANES], uint32_t s0[MT_LANES],
                              uint32_t s1[MT_LANES], uint32_t s2[MT_LANES], uint32_t s3[MT_LANES]) {
#pragma HLS INLINE
  for (uint32_t l = 0; l < MT_LANES; l++)
    s0[l] = lanes[l].s[0], s1[l] = lanes[l].s[1], s2[l] = lanes[l].s[2], s3[l] = lanes[l].s[3];
}

static inline void lanes_store(mt_xoshiro_t lanes[MT_LANES], const uint32_t s0[MT_LANES],
                               const uint32_t s1[MT_LANES], const uint32_t s2[MT_LANES],
                               const uint32_t s3[MT_LANES]) {
#pragma HLS INLINE
  for (uint32_t l = 0; l < MT_LANES; l++)
    lanes[l].s[0] = s0[l], lanes[l].s[1] = s1[l], lanes[l].s[2] = s2[l], lanes[l].s[3] = s3[l];
}

_Static_assert((MT_LANES & (MT_LANES - 1u)) == 0, "lanes are taken mod MT_LANES by a mask");

/* mt_gauss_columns: lanes side by side (one array per state word), so each step below works on
 * all lanes at once: in the HLS kernel one group of MT_LANES columns per clock. Column j draws
 * from lane j mod MT_LANES; a group of MT_LANES consecutive columns uses every lane once, and a
 * partial last group advances only the lanes it uses. The uniforms first, then their transforms
 * in one loop over the columns (none for the lanes a partial group leaves idle). */
void mt_gauss_columns(mt_xoshiro_t lanes[MT_LANES], uint32_t n, int16_t *z) {
  uint32_t s0[MT_LANES], s1[MT_LANES], s2[MT_LANES], s3[MT_LANES], u[MT_COLS + MT_LANES];
#pragma HLS ARRAY_PARTITION variable = s0 type = complete
#pragma HLS ARRAY_PARTITION variable = s1 type = complete
#pragma HLS ARRAY_PARTITION variable = s2 type = complete
#pragma HLS ARRAY_PARTITION variable = s3 type = complete
  /* Every lane reads two knots per clock: the table (280 constants) becomes logic. */
#pragma HLS ARRAY_PARTITION variable = mt_gauss_knots type = complete
  lanes_load(lanes, s0, s1, s2, s3);
  for (uint32_t g = 0; g < (MT_COLS + MT_LANES - 1) / MT_LANES; g++) {
#pragma HLS PIPELINE II = 1
    if (g * MT_LANES >= n) break;
    for (uint32_t l = 0; l < MT_LANES; l++)
      u[g * MT_LANES + l] = lanes_next(s0, s1, s2, s3, l, g * MT_LANES + l < n);
  }
  lanes_store(lanes, s0, s1, s2, s3);
  for (uint32_t j = 0; j < n; j++) {
#pragma HLS LOOP_TRIPCOUNT max = MT_COLS
#pragma HLS PIPELINE II = 1
    z[j] = gauss_lane(u[j]);
  }
}

/* READ_CELLS' draws: the lanes side by side as in mt_gauss_columns, over all the rows, and the
 * transforms afterwards in one loop over the cells (a row of fewer than MT_LANES columns leaves
 * lanes idle, and a loop over a row's few cells would be mostly its ends). */
void mt_gauss_pairs(mt_xoshiro_t lanes[MT_LANES], uint32_t col0, uint32_t nrows, uint32_t n,
                    int16_t *za, int16_t *zb) {
  uint32_t s0[MT_LANES], s1[MT_LANES], s2[MT_LANES], s3[MT_LANES], xa[MT_LANES], xb[MT_LANES];
  /* the uniforms of the region's cells in order, and MT_LANES past it: a group stores all its
   * lanes, the cells past the row's end taken again by the next row */
  uint32_t ua[MT_GAUSS_PAIRS_MAX + MT_LANES], ub[MT_GAUSS_PAIRS_MAX + MT_LANES];
#pragma HLS ARRAY_PARTITION variable = s0 type = complete
#pragma HLS ARRAY_PARTITION variable = s1 type = complete
#pragma HLS ARRAY_PARTITION variable = s2 type = complete
#pragma HLS ARRAY_PARTITION variable = s3 type = complete
#pragma HLS ARRAY_PARTITION variable = xa type = complete
#pragma HLS ARRAY_PARTITION variable = xb type = complete
#pragma HLS ARRAY_PARTITION variable = mt_gauss_knots type = complete
  lanes_load(lanes, s0, s1, s2, s3);
  for (uint32_t i = 0; i < MT_GAUSS_PAIRS_MAX; i++) {
    if (i >= nrows) break;
    for (uint32_t g = 0; g < (MT_COLS + MT_LANES - 1) / MT_LANES; g++) {
#pragma HLS PIPELINE II = 1
      if (g * MT_LANES >= n) break;
      for (uint32_t l = 0; l < MT_LANES; l++) {
        uint32_t on = g * MT_LANES + ((l - col0) & (MT_LANES - 1u)) < n;
        xa[l] = lanes_next(s0, s1, s2, s3, l, on);
        xb[l] = lanes_next(s0, s1, s2, s3, l, on);
      }
      /* column g * MT_LANES + r of the row draws from lane col0 + r */
      for (uint32_t r = 0; r < MT_LANES; r++) {
        ua[i * n + g * MT_LANES + r] = xa[(col0 + r) & (MT_LANES - 1u)];
        ub[i * n + g * MT_LANES + r] = xb[(col0 + r) & (MT_LANES - 1u)];
      }
    }
  }
  lanes_store(lanes, s0, s1, s2, s3);
  for (uint32_t k = 0; k < nrows * n; k++) {
#pragma HLS LOOP_TRIPCOUNT max = MT_GAUSS_PAIRS_MAX
#pragma HLS PIPELINE II = 1
    za[k] = gauss_lane(ua[k]);
    zb[k] = gauss_lane(ub[k]);
  }
}

void mt_lanes_skip_pairs(mt_xoshiro_t lanes[MT_LANES], uint32_t col0, uint32_t nrows, uint32_t n) {
  uint32_t s0[MT_LANES], s1[MT_LANES], s2[MT_LANES], s3[MT_LANES], draws[MT_LANES];
#pragma HLS ARRAY_PARTITION variable = s0 type = complete
#pragma HLS ARRAY_PARTITION variable = s1 type = complete
#pragma HLS ARRAY_PARTITION variable = s2 type = complete
#pragma HLS ARRAY_PARTITION variable = s3 type = complete
#pragma HLS ARRAY_PARTITION variable = draws type = complete
  lanes_load(lanes, s0, s1, s2, s3);
  for (uint32_t l = 0; l < MT_LANES; l++) {
    /* lane l serves the columns jj = o, o + MT_LANES, ... below n, two draws a row each */
    uint32_t o = (l - col0) & (MT_LANES - 1u);
    draws[l] = o < n ? 2u * nrows * ((n - o + MT_LANES - 1u) / MT_LANES) : 0u;
  }
  /* only a lane's number of draws matters: it is a serial generator, and no value is used */
  const uint32_t most = 2u * nrows * ((n + MT_LANES - 1u) / MT_LANES);
  for (uint32_t t = 0; t < 2u * MT_ROWS * ((MT_COLS + MT_LANES - 1u) / MT_LANES); t++) {
#pragma HLS PIPELINE II = 1
    if (t >= most) break;
    for (uint32_t l = 0; l < MT_LANES; l++) (void)lanes_next(s0, s1, s2, s3, l, t < draws[l]);
  }
  lanes_store(lanes, s0, s1, s2, s3);
}

void mt_gauss_run(mt_xoshiro_t *r, int16_t z[MT_GAUSS_RUN]) {
  uint32_t u[MT_GAUSS_RUN];
  mt_xoshiro_t rl = *r;
  for (uint32_t i = 0; i < MT_GAUSS_RUN; i++) u[i] = mt_xoshiro_next(&rl);
  for (uint32_t i = 0; i < MT_GAUSS_RUN; i++) z[i] = gauss_lane(u[i]);
  *r = rl;
}
