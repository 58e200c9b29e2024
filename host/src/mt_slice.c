/* Bit-sliced layers (mt_slice.h). */
#include "mt_slice.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mt_slice_check(uint32_t levels, uint32_t n_slices, uint32_t *bits, char *err, size_t errlen) {
  uint32_t states = (levels + 1) / 2, b = 0;
  while ((2u << b) <= states) b++;
  if (levels % 2 == 0 || states < 2 || (1u << b) != states) {
    snprintf(err, errlen, "bit slicing needs (L+1)/2 device states a power of two >= 2, but the "
             "level table has L = %u levels (e.g. 7 levels: 4 states, 2 bits per slice)", levels);
    return -1;
  }
  if (n_slices < 1 || n_slices > MT_SLICE_MAX || n_slices * b > 16) {
    snprintf(err, errlen, "--slices %u: between 1 and %u slices of %u bits, at most 16 bits per "
             "weight", n_slices, MT_SLICE_MAX, b);
    return -1;
  }
  *bits = b;
  return 0;
}

uint32_t mt_slice_tiles_needed(uint32_t n_in, uint32_t n_out, uint32_t n_slices) {
  return n_slices * mt_map_tiles_needed(n_in, n_out);
}

int mt_slice_init(mt_slice_map_t *s, uint32_t n_in, uint32_t n_out, uint32_t first_tile,
                  uint32_t levels, uint32_t n_slices, float w_max, double level_step,
                  uint32_t adc_mul, uint32_t adc_shift, uint32_t dac_bits, uint32_t max_batch,
                  char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  uint32_t b;
  if (mt_slice_check(levels, n_slices, &b, err, errlen) != 0) return -1;
  if (!(w_max > 0)) {
    snprintf(err, errlen, "layer %ux%u: bit slicing needs w_max > 0, got %g", n_in, n_out, (double)w_max);
    return -1;
  }
  s->n_slices = n_slices, s->bits = b, s->code_bits = n_slices * b, s->levels = levels;
  s->n_in = n_in, s->n_out = n_out;
  s->code_max = (int32_t)(1u << (s->code_bits - 1)) - 1;
  s->code_min = -(int32_t)(1u << (s->code_bits - 1));
  s->step = w_max / (float)(1u << (s->code_bits - 1));
  uint32_t per = mt_map_tiles_needed(n_in, n_out);
  /* weight unit of a slice map = one device state: level c + v stands for v */
  float c = (float)(levels - 1) / 2.0f;
  for (uint32_t k = 0; k < n_slices; k++)
    if (mt_map_init(&s->slice[k], n_in, n_out, first_tile + k * per, levels, c, level_step, adc_mul,
                    adc_shift, dac_bits, max_batch, err, errlen) != 0) {
      mt_slice_free(s);
      return -1;
    }
  s->values = malloc((size_t)n_in * n_out * sizeof *s->values);
  s->part = malloc((size_t)max_batch * n_out * sizeof *s->part);
  if (!s->values || !s->part) {
    mt_slice_free(s);
    snprintf(err, errlen, "layer %ux%u: out of memory for bit slicing", n_in, n_out);
    return -1;
  }
  return 0;
}

void mt_slice_free(mt_slice_map_t *s) {
  for (uint32_t k = 0; k < MT_SLICE_MAX; k++) mt_map_free(&s->slice[k]);
  free(s->values);
  free(s->part);
  memset(s, 0, sizeof *s);
}

int32_t mt_slice_code(const mt_slice_map_t *s, float w) {
  float v = rintf(w / s->step);
  if (!(v >= (float)s->code_min)) return s->code_min; /* NaN too */
  if (v > (float)s->code_max) return s->code_max;
  return (int32_t)v;
}

uint32_t mt_slice_value(const mt_slice_map_t *s, int32_t code, uint32_t k) {
  uint32_t u = (uint32_t)(code - s->code_min);
  return (u >> (k * s->bits)) & ((1u << s->bits) - 1u);
}

uint32_t mt_slice_allowed(const mt_slice_map_t *s, const uint8_t *favourable, float *out) {
  uint32_t n = 0, c = (s->levels - 1) / 2;
  for (int32_t code = s->code_min; code <= s->code_max; code++)
    if (favourable[c + mt_slice_value(s, code, s->n_slices - 1)]) out[n++] = (float)code * s->step;
  return n;
}

int mt_slice_program(mt_slice_map_t *s, mt_dev *dev, const float *w, uint32_t flags) {
  size_t n = (size_t)s->n_in * s->n_out;
  for (uint32_t k = 0; k < s->n_slices; k++) {
    for (size_t i = 0; i < n; i++) s->values[i] = (float)mt_slice_value(s, mt_slice_code(s, w[i]), k);
    int rc = mt_map_program(&s->slice[k], dev, s->values, NULL, 0, flags, NULL);
    if (rc != MT_OK) return rc;
  }
  return MT_OK;
}

int mt_slice_matmul(mt_slice_map_t *s, mt_dev *dev, const float *in, uint32_t batch, float *out) {
  if (batch > s->slice[0].max_batch) return MT_ERR_INVAL;
  size_t n = (size_t)batch * s->n_out;
  memset(out, 0, n * sizeof *out);
  for (uint32_t k = 0; k < s->n_slices; k++) {
    int rc = mt_map_matmul(&s->slice[k], dev, in, batch, s->part);
    if (rc != MT_OK) return rc;
    float weight = (float)(1u << (k * s->bits));
    for (size_t i = 0; i < n; i++) out[i] += weight * s->part[i];
  }
  /* The code offset 2^(B-1) is subtracted digitally, from the exact input sum. */
  float offset = (float)(1u << (s->code_bits - 1));
  for (uint32_t b = 0; b < batch; b++) {
    const float *x = in + (size_t)b * s->n_in;
    float sx = 0;
    for (uint32_t i = 0; i < s->n_in; i++) sx += x[i];
    float *o = out + (size_t)b * s->n_out;
    for (uint32_t j = 0; j < s->n_out; j++) o[j] = s->step * (o[j] - offset * sx);
  }
  return MT_OK;
}
