/* Test fixture: one model device driven through mt_kernel, as a backend would. */
#ifndef MT_TESTDEV_H
#define MT_TESTDEV_H

#include <stdlib.h>
#include <string.h>

#include "mt_model.h"

#define TDEV_CMD_CAP (MT_MAX_PAYLOAD + 16u)
#define TDEV_RSP_CAP (MT_MAX_PAYLOAD + 16u)

typedef struct {
  mt_regs_t regs;
  mt_tile_t *tiles;
  uint32_t n_tiles;
  uint32_t cmd[TDEV_CMD_CAP];
  uint32_t rsp[TDEV_RSP_CAP];
  uint32_t status;   /* status of the last command */
  uint32_t out_len;  /* its response payload length */
  uint32_t *out;     /* its response payload */
} tdev_t;

static inline tdev_t *tdev_new(uint32_t n_tiles) {
  tdev_t *d = calloc(1, sizeof *d);
  d->tiles = calloc(n_tiles, sizeof *d->tiles);
  d->n_tiles = n_tiles;
  mt_device_reset(&d->regs, d->tiles, n_tiles);
  return d;
}

static inline void tdev_free(tdev_t *d) {
  free(d->tiles);
  free(d);
}

/* Runs one command; returns its status. */
static inline uint32_t tdev_run(tdev_t *d, uint32_t op, const uint32_t *payload, uint32_t len) {
  d->cmd[0] = op << 24 | 0x5Au << 16;
  d->cmd[1] = len;
  if (len) memcpy(d->cmd + 2, payload, len * sizeof *payload);
  uint32_t consumed = 0;
  uint32_t n = mt_kernel(d->cmd, len + 2, d->rsp, TDEV_RSP_CAP, &d->regs, d->tiles, d->n_tiles,
                         &consumed);
  d->status = n >= 2 ? (d->rsp[0] & 0xFFu) : 0xFFFFu;
  d->out_len = n >= 2 ? d->rsp[1] : 0;
  d->out = d->rsp + 2;
  return d->status;
}

/* A noise-free, variation-free linear device: 64 pulses over [1000, 65000]. */
/* The full metaplasticity unit (32-bit Q15.16 hidden weights, 256 entries of 16 bits,
 * truncation, distance from the centre). */
static inline void tdev_cfg_meta_full(uint32_t *cfg) {
  cfg[MT_CFG_META_HIDDEN_BITS] = 32;
  cfg[MT_CFG_META_HIDDEN_FRAC] = 16;
  cfg[MT_CFG_META_UPD_ROUND] = 0;
  cfg[MT_CFG_META_TABLE_LOG2] = 8;
  cfg[MT_CFG_META_ENTRY_BITS] = 16;
  cfg[MT_CFG_META_RULE] = 0;
}

static inline void tdev_cfg_ideal(uint32_t *cfg) {
  memset(cfg, 0, MT_CFG_COUNT * sizeof *cfg);
  cfg[MT_CFG_G_MIN] = 1000;
  cfg[MT_CFG_G_MAX] = 65000;
  cfg[MT_CFG_STEP_SET] = 1000;
  cfg[MT_CFG_STEP_RST] = 1000;
  cfg[MT_CFG_DAC_BITS] = 8;
  cfg[MT_CFG_ADC_BITS] = 16;
  cfg[MT_CFG_ADC_MUL] = 1;
  cfg[MT_CFG_ADC_SHIFT] = 16;
  cfg[MT_CFG_WV_TOL] = 500;
  cfg[MT_CFG_WV_MAX_ITER] = 100;
  tdev_cfg_meta_full(cfg);
}

static inline uint32_t tdev_configure(tdev_t *d, const uint32_t *cfg) {
  return tdev_run(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
}

static inline uint32_t tdev_fabricate(tdev_t *d, uint64_t seed, uint32_t tile) {
  uint32_t p[3] = {(uint32_t)seed, (uint32_t)(seed >> 32), tile};
  return tdev_run(d, MT_OP_FABRICATE, p, 3);
}

/* Linear level table: level q targets g+ - g- proportional to q - (L-1)/2 with
 * targets spaced `spacing` g units from base; p indices assume a step of `step`. */
static inline uint32_t tdev_levels_linear(tdev_t *d, uint32_t levels, uint32_t base,
                                          uint32_t spacing, uint32_t step, uint32_t sigma) {
  uint32_t p[1 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS];
  p[0] = levels;
  for (uint32_t q = 0; q < levels; q++) {
    int32_t x = 2 * (int32_t)q - (int32_t)(levels - 1); /* in half-steps */
    uint32_t up = x > 0 ? (uint32_t)x * spacing / 2 : 0, dn = x < 0 ? (uint32_t)-x * spacing / 2 : 0;
    uint32_t gp = base + up, gm = base + dn;
    p[1 + 3 * q] = gp | gm << 16;
    p[2 + 3 * q] = ((gp - base) / step) | ((gm - base) / step) << 16;
    p[3 + 3 * q] = sigma;
  }
  return tdev_run(d, MT_OP_SET_LEVELS, p, 1 + levels * 3);
}

static inline uint64_t tdev_counter(tdev_t *d, uint32_t cnt) {
  tdev_run(d, MT_OP_STATS_GET, NULL, 0);
  return d->out[2 * cnt] | (uint64_t)d->out[2 * cnt + 1] << 32;
}

/* Exact conductance of one device (PROBE read of a one-cell region). */
static inline uint32_t tdev_probe(tdev_t *d, uint32_t tile, uint32_t row, uint32_t col, uint32_t dev) {
  uint32_t p[6] = {tile, row, 1, col, 1, MT_READ_PROBE};
  tdev_run(d, MT_OP_READ_CELLS, p, 6);
  return (d->out[0] >> (16 * dev)) & 0xFFFFu;
}

static inline uint32_t tdev_entry(uint32_t row, uint32_t col, uint32_t level) {
  return row << 20 | col << 8 | level;
}

static inline uint32_t tdev_pulse_entry(uint32_t row, uint32_t col, uint32_t dev, int32_t n) {
  return row << 20 | col << 8 | dev << 7 | ((uint32_t)n & 0x7Fu);
}

#endif
