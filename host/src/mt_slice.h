/* Bit-sliced weights (the ISAAC/PUMA encoding Diware et al. 2023 map onto):
 * a weight is a B-bit two's-complement code shifted by 2^(B-1), so
 * u = code + 2^(B-1) is in [0, 2^B), and u is cut into N slices of b bits
 * (B = N b), slice k = (u >> k b) mod 2^b. Each slice is held by one device
 * in one of its 2^b states: slice value v is level c + v of the level table
 * (g+ at state v, g- at the window's low end), so a preset with L levels
 * gives (L+1)/2 states per device. A layer occupies N copies of its tile
 * blocks, one per slice; the digital periphery recombines the column
 * outputs: y = step (sum_k 2^(k b) y_k - 2^(B-1) sum_i x_i). An error of the
 * top slice's device is therefore 2^((N-1) b) times one of the lowest
 * slice's. Internal to the host library (docs/algorithms.md). */
#ifndef MT_SLICE_H
#define MT_SLICE_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"
#include "mt_map.h"

#define MT_SLICE_MAX 8u /* slices per weight */

typedef struct {
  uint32_t n_slices, bits; /* N slices of b bits */
  uint32_t code_bits;      /* B = N b */
  uint32_t levels;         /* L of the level table; slice value v is level (L-1)/2 + v */
  float step;              /* weight of one code unit */
  int32_t code_min, code_max;
  uint32_t n_in, n_out;
  mt_layer_map_t slice[MT_SLICE_MAX]; /* slice k on its own tiles, weight unit = one state */
  float *values;           /* workspace: one slice's values, n_in x n_out */
  float *part;             /* workspace: one slice's product, max_batch x n_out */
} mt_slice_map_t;

/* Bits per slice for a level table of L levels: (L+1)/2 states per device
 * must be a power of two >= 2, and N b <= 16. 0 and *bits, or -1 with a
 * message naming the levels or the slice count. */
int mt_slice_check(uint32_t levels, uint32_t n_slices, uint32_t *bits, char *err, size_t errlen);

/* Tiles a bit-sliced layer needs: N times those of mt_map_tiles_needed. */
uint32_t mt_slice_tiles_needed(uint32_t n_in, uint32_t n_out, uint32_t n_slices);

/* Maps a layer of n_in x n_out weights, |w| up to w_max, onto N slices
 * starting at first_tile; the code unit is step = w_max / 2^(B-1). The other
 * arguments are mt_map_init's. 0, or -1 with a message. */
int mt_slice_init(mt_slice_map_t *s, uint32_t n_in, uint32_t n_out, uint32_t first_tile,
                  uint32_t levels, uint32_t n_slices, float w_max, double level_step,
                  uint32_t adc_mul, uint32_t adc_shift, uint32_t dac_bits, uint32_t max_batch,
                  char *err, size_t errlen);
void mt_slice_free(mt_slice_map_t *s);

/* Code of weight w: round(w / step), clipped to [code_min, code_max]. */
int32_t mt_slice_code(const mt_slice_map_t *s, float w);
/* Value of slice k (0 = least significant) of a code. */
uint32_t mt_slice_value(const mt_slice_map_t *s, int32_t code, uint32_t k);

/* The weights (ascending, code x step) whose top slice is held in a
 * favourable state: favourable has L flags per level, the top slice's value v
 * counts as level (L-1)/2 + v. Writes at most 2^B values; returns how many. */
uint32_t mt_slice_allowed(const mt_slice_map_t *s, const uint8_t *favourable, float *out);

/* Programs every slice of the weights w (row-major n_in x n_out) onto tiles
 * whose mirrors are unprogrammed or stale: only cells whose slice value
 * changed are sent. flags as mt_map_program. */
int mt_slice_program(mt_slice_map_t *s, mt_dev *dev, const float *w, uint32_t flags);

/* out[batch x n_out] = in[batch x n_in] x W on the device, slice by slice,
 * recombined with the slice weights and the code offset. */
int mt_slice_matmul(mt_slice_map_t *s, mt_dev *dev, const float *in, uint32_t batch, float *out);

#endif
