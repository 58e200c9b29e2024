/* Shared by the libFuzzer harnesses (tests/fuzz/README.md): a reader that turns
 * the fuzzer's bytes into numbers, and the small device every kernel harness
 * starts from. Each harness is one translation unit, so these are static. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mt_model.h"
#include "mt_state.h"

/* Reads numbers off the input; past its end every read is 0, so a short input
 * is still a valid (simple) one. */
typedef struct {
  const uint8_t *p;
  size_t n;
} fz_in;

static inline uint32_t fz_u8(fz_in *in) {
  if (in->n == 0) return 0;
  in->n--;
  return *in->p++;
}

static inline uint32_t fz_u32(fz_in *in) {
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) v |= fz_u8(in) << (8 * k);
  return v;
}

/* A value in [0, n): one byte for small ranges, four for large ones. */
static inline uint32_t fz_below(fz_in *in, uint32_t n) {
  if (n == 0) return 0;
  return (n <= 256 ? fz_u8(in) : fz_u32(in)) % n;
}

/* Device geometry of the fuzz builds (the Makefile builds them with 32x32 tiles). */
#define FZ_TILES 2u

typedef struct {
  mt_regs_t regs;
  mt_tile_t tiles[FZ_TILES];
} fz_dev;

/* A valid configuration: every field at its minimum, then what a usable
 * device needs (a range, converters, a write-verify limit). */
static inline void fz_config(uint32_t cfg[MT_CFG_COUNT]) {
  for (uint32_t i = 0; i < MT_CFG_COUNT; i++) cfg[i] = mt_cfg_min[i];
  cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_STEP_SET] = cfg[MT_CFG_STEP_RST] = 1500;
  cfg[MT_CFG_A_SET] = cfg[MT_CFG_A_RST] = 2000;
  cfg[MT_CFG_D2D_GMAX] = 500;
  cfg[MT_CFG_C2C_MUL] = 3000;
  cfg[MT_CFG_READ_SIGMA] = 300;
  cfg[MT_CFG_READ_MODE] = 1;
  cfg[MT_CFG_DAC_BITS] = 8;
  cfg[MT_CFG_ADC_BITS] = 10;
  cfg[MT_CFG_ADC_MUL] = 1;
  cfg[MT_CFG_ADC_SHIFT] = 12;
  cfg[MT_CFG_WV_TOL] = 400;
  cfg[MT_CFG_WV_MAX_ITER] = 20;
  cfg[MT_CFG_META_IDX_SHIFT] = 9;
}

/* Runs one command on d; returns its status (the response header's low byte). */
static inline uint32_t fz_run(fz_dev *d, uint32_t op, const uint32_t *p, uint32_t len) {
  static uint32_t cmd[2 + 1 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS];
  static uint32_t rsp[64];
  uint32_t consumed = 0;
  cmd[0] = op << 24;
  cmd[1] = len;
  memcpy(cmd + 2, p, len * sizeof *p);
  mt_kernel(cmd, 2 + len, rsp, 64, &d->regs, d->tiles, FZ_TILES, &consumed);
  return rsp[0] & 0xFFu;
}

/* Power-on state (configured = 0), or a configured device with a level table of
 * `levels` levels and tile 0 fabricated. */
static inline void fz_build(fz_dev *d, int configured, uint32_t levels) {
  mt_device_reset(&d->regs, d->tiles, FZ_TILES);
  if (!configured) return;
  uint32_t cfg[MT_CFG_COUNT];
  fz_config(cfg);
  if (fz_run(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT) != MT_ST_OK) abort();
  static uint32_t lv[1 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS];
  lv[0] = levels;
  for (uint32_t q = 0; q < levels; q++) {
    uint32_t g = 2000 + q * (56000 / levels);
    lv[1 + 3 * q] = g | 2000u << 16;
    lv[2 + 3 * q] = (q * 40u / levels) % (MT_MAX_PULSE_INDEX + 1u);
    lv[3 + 3 * q] = q * 7u;
  }
  if (fz_run(d, MT_OP_SET_LEVELS, lv, 1 + levels * 3) != MT_ST_OK) abort();
  const uint32_t fab[3] = {12345, 0, 0};
  if (fz_run(d, MT_OP_FABRICATE, fab, 3) != MT_ST_OK) abort();
}

/* fz_build, computed once per starting state and copied afterwards (fabrication
 * would otherwise dominate each input's time). */
static inline void fz_setup(fz_dev *d, int configured, uint32_t levels) {
  static fz_dev *cache[2][MT_MAX_LEVELS + 1];
  fz_dev **c = &cache[configured != 0][configured ? levels : 0];
  if (!*c) {
    *c = malloc(sizeof **c);
    if (!*c) abort();
    fz_build(*c, configured, levels);
  }
  memcpy(d, *c, sizeof *d);
}

#endif
