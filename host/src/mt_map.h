/* Mapping of network layers onto crossbar tiles.
 *
 * A layer of n_in x n_out weights is split into ceil(n_in/ROWS) x
 * ceil(n_out/COLS) blocks, one tile each. A weight w takes the level
 * q = clamp(round(w/delta) + c, 0, L-1), c = (L-1)/2, so level q stands for the
 * weight (q - c) * delta; the device holds q as a conductance difference
 * D_q = g+_q - g-_q from the level table. The host keeps a mirror of the
 * programmed levels, so it can program only the weights whose level changes. */
#ifndef MT_MAP_H
#define MT_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"

typedef struct {
  uint32_t n_in, n_out;
  uint32_t row_blocks, col_blocks;
  uint32_t first_tile;  /* tiles first_tile .. first_tile + row_blocks*col_blocks - 1 */
  uint32_t levels;      /* L */
  float delta;          /* weight step between adjacent levels */
  float inv_delta;      /* 1 / delta: quantization multiplies */
  double out_per_code;  /* output per (ADC code x input unit per DAC code) */
  float dac_max;        /* largest DAC code, 2^(dac_bits-1) - 1 */
  uint16_t *level;      /* n_in*n_out programmed levels (LEVEL_NONE until programmed) */
  uint32_t *entries;    /* workspace: PROGRAM entries of one tile */
  uint16_t *qrow;       /* workspace: quantized levels of one row block row */
  int16_t *xq, *yq;     /* workspaces: one block of DAC codes / ADC codes for a batch */
  float *xscale;        /* workspace: per-example input value of one DAC code */
  uint32_t *changed;    /* indices i*n_out+j whose level the last mt_map_program changed, */
  size_t n_changed;     /* in programming order (tile by tile) */
  uint32_t max_batch;
} mt_layer_map_t;

/* Conductance difference per level step of a level table (L entries of 3
 * words), estimated as (D_{L-1} - D_0) / (L-1); 0 if the table is flat. */
double mt_map_level_step(const uint32_t *level_table, uint32_t levels);

/* Tiles a layer needs. */
uint32_t mt_map_tiles_needed(uint32_t n_in, uint32_t n_out);

/* Prepares the map of one layer on tiles starting at first_tile. w_max is the
 * weight of the top level: delta = w_max / c. adc_mul/adc_shift are the
 * device's ADC gain, level_step from mt_map_level_step, dac_bits the DAC
 * resolution. Returns 0, or MT_ERR_INVAL (parameters it cannot map with) or MT_ERR_NOMEM
 * with a message. */
int mt_map_init(mt_layer_map_t *m, uint32_t n_in, uint32_t n_out, uint32_t first_tile,
                uint32_t levels, float w_max, double level_step, uint32_t adc_mul,
                uint32_t adc_shift, uint32_t dac_bits, uint32_t max_batch, char *err,
                size_t errlen);
void mt_map_free(mt_layer_map_t *m);

/* Level of weight w. */
uint32_t mt_map_level_of(const mt_layer_map_t *m, float w);
/* Weight that level q stands for. */
float mt_map_weight_of(const mt_layer_map_t *m, uint32_t q);

/* Programs the levels of the float weights w (n_in x n_out, row-major),
 * each shifted by comp[k] when comp is not NULL (error compensation).
 * Only weights whose level differs from the mirror are sent, unless `all`,
 * in which case every weight is programmed with FORCE (the closed-loop
 * baseline). flags: MT_PROG_OPEN_LOOP or 0. Results are summed into *res;
 * res->skipped also counts the weights the host did not send because their
 * level was unchanged. */
int mt_map_program(mt_layer_map_t *m, mt_dev *dev, const float *w, const float *comp, int all,
                   uint32_t flags, mt_prog_result *res);

/* mt_map_program (not `all`) that looks only at the input rows i with rows[i] != 0: the
 * caller vouches that w and comp of every other row are as they were when last programmed,
 * so their levels match the mirror (they count as skipped, as they would have). Siamese
 * training at batch 1 changes few rows per step (blank pixels give no gradient). */
int mt_map_program_rows(mt_layer_map_t *m, mt_dev *dev, const float *w, const float *comp,
                        const uint8_t *rows, uint32_t flags, mt_prog_result *res);

/* out[batch x n_out] = in[batch x n_in] * W on the device: inputs (>= 0 or
 * signed) are quantized per example to the DAC range, each tile computes its
 * block, and the host adds the partial sums of the row blocks. */
int mt_map_matmul(mt_layer_map_t *m, mt_dev *dev, const float *in, uint32_t batch, float *out);

#endif
