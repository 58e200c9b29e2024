/* Layers on tiles: weight quantization, sparse programming, and the device
 * matrix product with host-side combination of partial sums. */
#include "mt_map.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_compact_row.h"
#include "mt_protocol.h"

static uint32_t blocks(uint32_t n, uint32_t per) { return (n + per - 1) / per; }

uint32_t mt_map_tiles_needed(uint32_t n_in, uint32_t n_out) {
  return blocks(n_in, MT_ROWS) * blocks(n_out, MT_COLS);
}

static int32_t table_diff(const uint32_t *table, uint32_t q) {
  uint32_t e = table[q * MT_LEVEL_ENTRY_WORDS];
  return (int32_t)(e & 0xFFFFu) - (int32_t)(e >> 16);
}

double mt_map_level_step(const uint32_t *level_table, uint32_t levels) {
  if (levels < 2) return 0;
  return (double)(table_diff(level_table, levels - 1) - table_diff(level_table, 0)) / (levels - 1);
}

int mt_map_init(mt_layer_map_t *m, uint32_t n_in, uint32_t n_out, uint32_t first_tile,
                uint32_t levels, float w_max, double level_step, uint32_t adc_mul,
                uint32_t adc_shift, uint32_t dac_bits, uint32_t max_batch, char *err,
                size_t errlen) {
  memset(m, 0, sizeof *m);
  if (levels < 2 || !(w_max > 0) || !(level_step > 0) || adc_mul == 0 || dac_bits < 2) {
    snprintf(err, errlen, "layer %ux%u: cannot map with %u levels, w_max %g, level step %g, "
             "ADC gain %u/2^%u", n_in, n_out, levels, (double)w_max, level_step, adc_mul, adc_shift);
    return MT_ERR_INVAL;
  }
  m->n_in = n_in;
  m->n_out = n_out;
  m->row_blocks = blocks(n_in, MT_ROWS);
  m->col_blocks = blocks(n_out, MT_COLS);
  m->first_tile = first_tile;
  m->levels = levels;
  m->delta = w_max / ((float)(levels - 1) / 2.0f);
  m->inv_delta = 1.0f / m->delta;
  /* ADC code -> current: 2^shift/mul; current -> weight x code: delta/step. */
  m->out_per_code = ldexp(1.0, (int)adc_shift) / adc_mul * m->delta / level_step;
  m->max_batch = max_batch;
  m->dac_max = (float)((1u << (dac_bits - 1)) - 1u);
  m->level = malloc((size_t)n_in * n_out * sizeof *m->level);
  /* 16 words of room past a tile's entries for mt_compact_levels' vector stores */
  m->entries = malloc(((size_t)MT_ROWS * MT_COLS + 16) * sizeof *m->entries);
  m->qrow = malloc((size_t)MT_COLS * sizeof *m->qrow);
  m->xq = malloc((size_t)max_batch * MT_ROWS * sizeof *m->xq);
  m->yq = malloc((size_t)max_batch * MT_COLS * sizeof *m->yq);
  m->xscale = malloc((size_t)max_batch * sizeof *m->xscale);
  m->changed = malloc((size_t)n_in * n_out * sizeof *m->changed);
  if (!m->level || !m->entries || !m->qrow || !m->xq || !m->yq || !m->xscale || !m->changed) {
    mt_map_free(m);
    snprintf(err, errlen, "layer %ux%u: out of memory", n_in, n_out);
    return MT_ERR_NOMEM;
  }
  for (size_t k = 0; k < (size_t)n_in * n_out; k++) m->level[k] = MT_LEVEL_NONE;
  return 0;
}

void mt_map_free(mt_layer_map_t *m) {
  free(m->level);
  free(m->entries);
  free(m->qrow);
  free(m->xq);
  free(m->yq);
  free(m->xscale);
  free(m->changed);
  memset(m, 0, sizeof *m);
}

/* floor(w/delta + c + 1/2), clipped to [0, L-1]; NaN gives 0. Selects
 * rather than branches, and truncation (floor for v >= 0), so the loops that
 * call it vectorize and need no libm. */
static inline uint32_t level_of(float w, float inv_delta, float offset, uint32_t top) {
  float v = w * inv_delta + offset;
  v = v >= 1.0f ? v : 0.0f;
  v = v < (float)top ? v : (float)top;
  return (uint32_t)(int32_t)v;
}

uint32_t mt_map_level_of(const mt_layer_map_t *m, float w) {
  return level_of(w, m->inv_delta, (float)(m->levels - 1) / 2.0f + 0.5f, m->levels - 1);
}

float mt_map_weight_of(const mt_layer_map_t *m, uint32_t q) {
  return ((float)q - (float)(m->levels - 1) / 2.0f) * m->delta;
}

/* mt_map_program and mt_map_program_rows: rows NULL visits every row. */
static int program(mt_layer_map_t *m, mt_dev *dev, const float *w, const float *comp,
                   const uint8_t *rows, int all, uint32_t flags, mt_prog_result *res) {
  const float offset = (float)(m->levels - 1) / 2.0f + 0.5f;
  const uint32_t top = m->levels - 1;
  m->n_changed = 0;
  for (uint32_t rb = 0; rb < m->row_blocks; rb++) {
    for (uint32_t cb = 0; cb < m->col_blocks; cb++) {
      uint32_t n = 0, unchanged = 0;
      uint32_t r_end = (rb + 1) * MT_ROWS < m->n_in ? (rb + 1) * MT_ROWS : m->n_in;
      uint32_t c_end = (cb + 1) * MT_COLS < m->n_out ? (cb + 1) * MT_COLS : m->n_out;
      uint32_t width = c_end - cb * MT_COLS;
      for (uint32_t i = rb * MT_ROWS; i < r_end; i++) {
        /* Quantize the row (a loop the compiler vectorizes), then look for
         * changes only in rows that differ from the mirror: after the first
         * steps almost none do. */
        if (rows && !rows[i]) {
          unchanged += width;
          continue;
        }
        size_t k0 = (size_t)i * m->n_out + cb * MT_COLS;
        const float *wr = w + k0, *cr = comp ? comp + k0 : NULL;
        if (cr)
          for (uint32_t j = 0; j < width; j++)
            m->qrow[j] = (uint16_t)level_of(wr[j] + cr[j], m->inv_delta, offset, top);
        else
          for (uint32_t j = 0; j < width; j++)
            m->qrow[j] = (uint16_t)level_of(wr[j], m->inv_delta, offset, top);
        if (!all && memcmp(m->qrow, m->level + k0, width * sizeof *m->qrow) == 0) {
          unchanged += width;
          continue;
        }
        uint32_t n0 = n;
        n += mt_compact_levels(m->entries + n, m->qrow, m->level + k0, i - rb * MT_ROWS, width, all);
        unchanged += width - (n - n0);
      }
      if (res) res->skipped += unchanged;
      if (n == 0) continue;
      mt_prog_result r = {0, 0, 0};
      uint32_t tile = m->first_tile + rb * m->col_blocks + cb;
      int rc = mt_dev_program(dev, tile, flags | (all ? MT_PROG_FORCE : 0), m->entries, n, &r);
      if (rc != MT_OK) return rc;
      for (uint32_t e = 0; e < n; e++) {
        uint32_t i = rb * MT_ROWS + (m->entries[e] >> 20);
        uint32_t j = cb * MT_COLS + ((m->entries[e] >> 8) & 0xFFFu);
        size_t k = (size_t)i * m->n_out + j;
        if (m->level[k] != (uint16_t)(m->entries[e] & 0xFFu)) m->changed[m->n_changed++] = (uint32_t)k;
        m->level[k] = (uint16_t)(m->entries[e] & 0xFFu);
      }
      if (res) {
        res->programmed += r.programmed;
        res->skipped += r.skipped;
        res->wv_failures += r.wv_failures;
      }
    }
  }
  return MT_OK;
}

int mt_map_program(mt_layer_map_t *m, mt_dev *dev, const float *w, const float *comp, int all,
                   uint32_t flags, mt_prog_result *res) {
  return program(m, dev, w, comp, NULL, all, flags, res);
}

int mt_map_program_rows(mt_layer_map_t *m, mt_dev *dev, const float *w, const float *comp,
                        const uint8_t *rows, uint32_t flags, mt_prog_result *res) {
  return program(m, dev, w, comp, rows, 0, flags, res);
}

int mt_map_matmul(mt_layer_map_t *m, mt_dev *dev, const float *in, uint32_t batch, float *out) {
  if (batch > m->max_batch) return MT_ERR_INVAL;
  /* Each example uses the whole DAC range: its largest |input| maps to the
   * top code (a per-vector input scaling done by the digital periphery). */
  for (uint32_t b = 0; b < batch; b++) {
    float mx = 0;
    const float *x = in + (size_t)b * m->n_in;
    for (uint32_t i = 0; i < m->n_in; i++) {
      float a = x[i] < 0 ? -x[i] : x[i];
      mx = a > mx ? a : mx;
    }
    m->xscale[b] = mx > 0 ? mx / m->dac_max : 0;
  }
  memset(out, 0, (size_t)batch * m->n_out * sizeof *out);
  for (uint32_t rb = 0; rb < m->row_blocks; rb++) {
    uint32_t r0 = rb * MT_ROWS;
    uint32_t nrows = m->n_in - r0 < MT_ROWS ? m->n_in - r0 : MT_ROWS;
    for (uint32_t b = 0; b < batch; b++) {
      const float *x = in + (size_t)b * m->n_in + r0;
      float inv = m->xscale[b] > 0 ? 1.0f / m->xscale[b] : 0;
      int16_t *xq = m->xq + (size_t)b * nrows;
      /* (int16_t)lrintf(v) without the libm call, so the loop vectorizes:
       * rintf rounds in the current mode as lrintf does, and a value with no
       * long result (NaN, infinite, |v| >= 2^63) gives lrintf's LONG_MIN,
       * whose low 16 bits are 0. In practice |v| <= dac_max. */
      for (uint32_t i = 0; i < nrows; i++) {
        float v = x[i] * inv;
        v = fabsf(v) < 0x1p63f ? rintf(v) : 0.0f;
        xq[i] = (int16_t)(int64_t)v;
      }
    }
    for (uint32_t cb = 0; cb < m->col_blocks; cb++) {
      uint32_t c0 = cb * MT_COLS;
      uint32_t ncols = m->n_out - c0 < MT_COLS ? m->n_out - c0 : MT_COLS;
      uint32_t tile = m->first_tile + rb * m->col_blocks + cb;
      int rc = mt_dev_mvm(dev, tile, batch, nrows, ncols, m->xq, m->yq);
      if (rc != MT_OK) return rc;
      for (uint32_t b = 0; b < batch; b++) {
        float s = (float)(m->xscale[b] * m->out_per_code);
        float *o = out + (size_t)b * m->n_out + c0;
        const int16_t *y = m->yq + (size_t)b * ncols;
        for (uint32_t j = 0; j < ncols; j++) o[j] += s * (float)y[j];
      }
    }
  }
  return MT_OK;
}
