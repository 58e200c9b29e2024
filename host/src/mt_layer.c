/* A network layer on a device for library users (memtile_layer.h): an opaque handle over
 * the mapping of mt_map.h. */
#include <stdio.h>
#include <stdlib.h>

#include "memtile.h"
#include "memtile_layer.h"
#include "mt_map.h"
#include "mt_preset.h"

struct mt_layer {
  mt_layer_map_t map;
  mt_dev *dev;
  char err[1024];
};

uint32_t mt_layer_tiles_needed(uint32_t n_in, uint32_t n_out) { return mt_map_tiles_needed(n_in, n_out); }

int mt_layer_open(mt_dev *dev, const mt_preset *p, uint32_t n_in, uint32_t n_out, uint32_t first_tile,
                  float w_max, uint32_t max_batch, mt_layer **out) {
  mt_layer *l = calloc(1, sizeof *l);
  *out = l;
  if (!l) return MT_ERR_NOMEM;
  l->dev = dev;
  if (!dev || !p || n_in == 0 || n_out == 0 || max_batch == 0 || !(w_max > 0)) {
    snprintf(l->err, sizeof l->err, "layer: need a device, a preset, n_in, n_out and max_batch >= 1 and w_max > 0");
    return MT_ERR_INVAL;
  }
  uint32_t tiles = mt_map_tiles_needed(n_in, n_out), have = mt_dev_get_info(dev)->tiles;
  if (first_tile > have || tiles > have - first_tile) {
    snprintf(l->err, sizeof l->err, "layer: %u x %u weights need %u tiles from tile %u; %s has %u", n_in, n_out,
             tiles, first_tile, mt_dev_uri(dev), have);
    return MT_ERR_INVAL;
  }
  const mt_preset_t *pr = mt_preset_data(p);
  double step = mt_map_level_step(pr->level_table, pr->levels);
  if (mt_map_init(&l->map, n_in, n_out, first_tile, pr->levels, w_max, step, pr->cfg[MT_CFG_ADC_MUL],
                  pr->cfg[MT_CFG_ADC_SHIFT], pr->cfg[MT_CFG_DAC_BITS], max_batch, l->err, sizeof l->err) != 0)
    return MT_ERR_INVAL;
  return MT_OK;
}

void mt_layer_close(mt_layer *l) {
  if (!l) return;
  mt_map_free(&l->map);
  free(l);
}

const char *mt_layer_errmsg(const mt_layer *l) { return l ? l->err : "out of memory"; }

/* The device's message, kept on the layer. */
static int dev_fail(mt_layer *l, int rc) {
  snprintf(l->err, sizeof l->err, "%s", mt_dev_errmsg(l->dev));
  return rc;
}

int mt_layer_program(mt_layer *l, const float *w, mt_prog_result *res) {
  mt_prog_result r = {0, 0, 0};
  int rc = mt_map_program(&l->map, l->dev, w, NULL, 0, 0, &r);
  if (res) *res = r;
  return rc == MT_OK ? MT_OK : dev_fail(l, rc);
}

int mt_layer_matmul(mt_layer *l, const float *in, uint32_t batch, float *out) {
  if (batch > l->map.max_batch) {
    snprintf(l->err, sizeof l->err, "layer: batch %u is more than the layer's max_batch %u", batch,
             l->map.max_batch);
    return MT_ERR_INVAL;
  }
  int rc = mt_map_matmul(&l->map, l->dev, in, batch, out);
  return rc == MT_OK ? MT_OK : dev_fail(l, rc);
}

int mt_layer_weights(const mt_layer *l, float *w) {
  const size_t n = (size_t)l->map.n_in * l->map.n_out;
  for (size_t k = 0; k < n; k++)
    w[k] = l->map.level[k] == MT_LEVEL_NONE ? 0.0f : mt_map_weight_of(&l->map, l->map.level[k]);
  return MT_OK;
}

float mt_layer_delta(const mt_layer *l) { return l->map.delta; }
