/* Pulse response of a device's cells (mt_respcurve.h). */
#include "mt_respcurve.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* PULSE entry fields (memtile.h): row << 20 | col << 8 | dev << 7 | n, n a 7-bit signed count. */
#define PULSE_SET 1u
#define PULSE_RESET 0x7Fu /* n = -1 */

static int dev_fail(mt_dev *dev, int rc, char *err, size_t errlen) {
  snprintf(err, errlen, "pulse response: %s", mt_dev_errmsg(dev));
  return rc;
}

/* Mean and standard deviation of the G+ reads of n cells. */
static void moments(const uint16_t *g, uint32_t n, double *mean, double *sd) {
  double s1 = 0, s2 = 0;
  for (uint32_t k = 0; k < n; k++) s1 += g[k];
  double m = s1 / n;
  for (uint32_t k = 0; k < n; k++) s2 += (g[k] - m) * (g[k] - m);
  *mean = m;
  *sd = n > 1 ? sqrt(s2 / (n - 1)) : 0;
}

/* One train of `pulses` pulses of kind `n` on every cell, the moments after each. */
static int train(mt_dev *dev, uint32_t tile, uint32_t *entries, uint32_t cells, uint32_t pulses, uint32_t n,
                 uint16_t *gp, uint32_t rows, uint32_t cols, double *mean, double *sd, char *err,
                 size_t errlen) {
  const mt_region r = {0, rows, 0, cols};
  for (uint32_t k = 0; k < cells; k++) entries[k] = (k / cols) << 20 | (k % cols) << 8 | 0u << 7 | n;
  for (uint32_t p = 1; p <= pulses; p++) {
    int rc = mt_dev_pulse(dev, tile, entries, cells);
    if (rc == MT_OK) rc = mt_dev_read_cells(dev, tile, r, 1, gp, NULL);
    if (rc != MT_OK) return dev_fail(dev, rc, err, errlen);
    moments(gp, cells, &mean[p], &sd[p]);
  }
  return MT_OK;
}

int mt_pulse_response(mt_dev *dev, uint32_t tile, uint64_t seed, uint32_t cells, uint32_t pulses,
                      double *up_mean, double *up_sd, double *down_mean, double *down_sd, char *err,
                      size_t errlen) {
  const mt_dev_info *info = mt_dev_get_info(dev);
  if (tile >= info->tiles || cells == 0 || cells > info->rows * info->cols || pulses == 0) {
    snprintf(err, errlen, "pulse response: need tile < %u, 1..%u cells and at least one pulse", info->tiles,
             info->rows * info->cols);
    return MT_ERR_INVAL;
  }
  int rc = mt_dev_fabricate(dev, seed & 0xFFFFFFFFFFFFull, tile);
  if (rc != MT_OK) return dev_fail(dev, rc, err, errlen);
  /* Whole rows are read; only the first `cells` values are used. */
  const uint32_t cols = info->cols, rows = (cells + cols - 1) / cols;
  uint32_t *entries = malloc((size_t)cells * sizeof *entries);
  uint16_t *gp = malloc((size_t)rows * cols * sizeof *gp);
  if (!entries || !gp) {
    free(entries);
    free(gp);
    snprintf(err, errlen, "pulse response: out of memory");
    return MT_ERR_NOMEM;
  }
  rc = mt_dev_read_cells(dev, tile, (mt_region){0, rows, 0, cols}, 1, gp, NULL);
  if (rc != MT_OK) rc = dev_fail(dev, rc, err, errlen);
  if (rc == MT_OK) {
    moments(gp, cells, &up_mean[0], &up_sd[0]);
    rc = train(dev, tile, entries, cells, pulses, PULSE_SET, gp, rows, cols, up_mean, up_sd, err, errlen);
  }
  if (rc == MT_OK) {
    down_mean[0] = up_mean[pulses];
    down_sd[0] = up_sd[pulses];
    rc = train(dev, tile, entries, cells, pulses, PULSE_RESET, gp, rows, cols, down_mean, down_sd, err, errlen);
  }
  free(entries);
  free(gp);
  return rc;
}
