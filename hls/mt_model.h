/* The emulated device: state and the kernel top function (docs/device-model.md,
 * docs/protocol.md). Compiled by gcc this is the golden model behind model://. */
#ifndef MT_MODEL_H
#define MT_MODEL_H

#include <stdint.h>

#include "mt_protocol.h"
#include "mt_rng.h"

/* Internal invariants (what the command checks have already guaranteed). Vitis HLS rejects
 * assert(), so they exist only where the model is compiled as C (golden model, tests). */
#ifndef __SYNTHESIS__
#include <assert.h>
#define MT_ASSERT(cond) assert(cond)
#else
#define MT_ASSERT(cond) ((void)0)
#endif

/* One memristive device's fabricated parameters and wear. Its conductance
 * lives in mt_tile_t.g, a dense array the MVM streams through. */
typedef struct {
  uint16_t gmin;     /* fabricated bounds, g units (1/65535 of full scale) */
  uint16_t gmax;
  uint16_t step_set; /* fabricated pulse-response parameters */
  uint16_t step_rst;
  uint16_t a_set;    /* Q0.16 */
  uint16_t a_rst;
  uint8_t fault;     /* MT_FAULT_* */
  uint8_t reserved;
  uint32_t pulses;   /* lifetime pulse count, for endurance */
} mt_dev_t;

enum { MT_DEV_PLUS = 0, MT_DEV_MINUS = 1 };

typedef struct {
  uint16_t g[2][MT_ROWS][MT_COLS]; /* conductance planes of G+ and G- */
  mt_dev_t dev[MT_ROWS][MT_COLS][2];
  int32_t hidden[MT_ROWS][MT_COLS]; /* metaplastic hidden weights, Q15.16 level units */
  uint16_t level[MT_ROWS][MT_COLS]; /* level last programmed, MT_LEVEL_NONE if never */
} mt_tile_t;

/* Everything of the device that is not per tile. */
typedef struct {
  uint32_t configured;
  uint32_t cfg[MT_CFG_COUNT];
  uint32_t levels; /* L, 0 until SET_LEVELS */
  uint32_t level_table[MT_MAX_LEVELS][MT_LEVEL_ENTRY_WORDS];
  uint16_t meta_table[MT_META_TABLE_SIZE];
  uint64_t noise_seed;
  mt_xoshiro_t lanes[MT_LANES];
  uint64_t counters[MT_CNT_COUNT];
  uint32_t fabricated[MT_MAX_TILES / 32];
} mt_regs_t;

/* Power-on state: unconfigured, no level table, f_meta = 1, lanes seeded with 0,
 * counters zero, no tile fabricated, every stored level LEVEL_NONE, every
 * device and hidden weight 0. */
void mt_device_reset(mt_regs_t *regs, mt_tile_t *tiles, uint32_t n_tiles);

/* Processes the command words cmd[0..n_cmd) and writes responses to rsp.
 * Returns the number of response words written; *consumed receives the number
 * of command words processed (less than n_cmd only when a response did not fit
 * into rsp_cap words; that command was not executed). */
uint32_t mt_kernel(const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp, uint32_t rsp_cap,
                   mt_regs_t *regs, mt_tile_t *tiles, uint32_t n_tiles, uint32_t *consumed);

#endif
