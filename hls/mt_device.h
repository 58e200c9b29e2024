/* Device physics shared by the command handlers (docs/device-model.md). */
#ifndef MT_DEVICE_H
#define MT_DEVICE_H

#include "mt_model.h"

/* Adds n events of counter cnt and their energy and latency. */
void mt_count(mt_regs_t *regs, uint32_t cnt, uint64_t n);

/* Draws the d2d parameters and fault of one device from lane r. */
void mt_cell_fabricate(const uint32_t *cfg, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g);

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

/* The metaplasticity unit's arithmetic on one hidden weight (docs/device-model.md,
 * "Metaplasticity unit"), for the configuration in regs->cfg and its f_meta table:
 * META_UPDATE (write = 0) applies update d (Q.16, |d| <= 2^31) to stored h; META_WRITE
 * (write = 1) loads d (|d| <= HIDDEN_MAX) in place of h. Returns the new stored h; sets
 * *attenuated when f_meta scaled the update. */
int32_t mt_meta_unit(const mt_regs_t *regs, int32_t h, int64_t d, int write, uint32_t *attenuated);

/* floor(sqrt(v)). */
uint32_t mt_isqrt64(uint64_t v);

#endif
