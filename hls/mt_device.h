/* Device physics shared by the command handlers (docs/device-model.md). */
#ifndef MT_DEVICE_H
#define MT_DEVICE_H

#include "mt_model.h"

/* Adds n events of counter cnt and their energy and latency. */
void mt_count(mt_regs_t *regs, uint32_t cnt, uint64_t n);

/* Draws the d2d parameters and fault of one device from lane r. */
void mt_cell_fabricate(const uint32_t *cfg, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g);

/* Step factor (Q0.16) of the piecewise pulse response at conductance g: the 17 knots sit at
 * g = 4096 k; linear interpolation with floor (docs/device-model.md, "Pulse response"). */
int64_t mt_resp_factor(const uint32_t *knots, uint32_t g);

/* Mean step (before cycle-to-cycle noise) of one pulse of a device with the given step and a
 * of its branch, at conductance g whose distance to that branch's bound is dist. Shared with
 * the host (open-loop pulse counts, ssm's nominal steps) so both use the device's own rule. */
int64_t mt_pulse_mean(const uint32_t *cfg, uint32_t step, uint32_t a, int64_t dist, uint32_t g,
                      int set);

/* One SET (set != 0) or RESET pulse; consumes one Gaussian draw of r. */
void mt_cell_pulse(mt_regs_t *regs, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g, int set);

/* Sensed conductance of one read: g + read noise; consumes one draw. */
int32_t mt_cell_sense(const uint32_t *cfg, mt_xoshiro_t *r, uint16_t g);

/* Programs weight (row, col) of a tile to level q. Returns 1 if programmed,
 * 0 if skipped because the stored level already matched; *wv_fail counts
 * devices whose write-verify did not converge. */
uint32_t mt_weight_program(mt_regs_t *regs, mt_tile_t *t, uint32_t row, uint32_t col,
                           uint32_t q, uint32_t flags, uint32_t *wv_fail);

/* Level of hidden weight h: clamp(floor((h + L*2^15) / 2^16), 0, L-1). */
uint32_t mt_level_of_hidden(int32_t h, uint32_t levels);

/* floor(sqrt(v)). */
uint32_t mt_isqrt64(uint64_t v);

#endif
