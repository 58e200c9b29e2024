/* Device physics shared by the command handlers (docs/device-model.md). */
#ifndef MT_DEVICE_H
#define MT_DEVICE_H

#include "mt_model.h"

/* Adds n events of counter cnt and their energy and latency. Inline: with a constant cnt
 * the cost-field lookups fold away, and pulses count once per run of pulses. */
static inline void mt_count(mt_regs_t *regs, uint32_t cnt, uint64_t n) {
  MT_ASSERT(cnt < MT_CNT_COUNT);
  regs->counters[cnt] += n;
  /* Each counter's cost fields come from docs/protocol.json; MT_CFG_COUNT means none. */
  if (mt_cnt_energy_cfg[cnt] != MT_CFG_COUNT)
    regs->counters[MT_CNT_ENERGY_FJ] += n * regs->cfg[mt_cnt_energy_cfg[cnt]];
  if (mt_cnt_latency_cfg[cnt] != MT_CFG_COUNT)
    regs->counters[MT_CNT_LATENCY_PS] += n * regs->cfg[mt_cnt_latency_cfg[cnt]];
}

/* mt_gnoise(amp, mt_gauss(r)): one draw from r, scaled by amp. With amp == 0 the noise is 0
 * for every draw, so the lane advances (its stream must not depend on amp) and the inverse
 * CDF is skipped: verify reads without read noise, pulses without c2c noise. */
static inline int64_t mt_noise(mt_xoshiro_t *r, int64_t amp) {
  uint32_t u = mt_xoshiro_next(r);
  return amp == 0 ? 0 : mt_gnoise(amp, mt_gauss_icdf(u));
}

static inline uint16_t mt_clamp16(int64_t v, int64_t lo, int64_t hi) {
  if (v < lo) return (uint16_t)lo;
  if (v > hi) return (uint16_t)hi;
  return (uint16_t)v;
}

/* Draws the d2d parameters and fault of one device from lane r. */
void mt_cell_fabricate(const uint32_t *cfg, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g);

/* The drift factor 2^-(x / 65536) in Q0.24 for the fraction x < 2^16 of a device's exponent
 * e = nu_d * L (docs/device-model.md, "Conductance drift"): 1.0 times the table's four
 * entries for x's hex digits, high digit first, each product rounded half up to Q0.24.
 * Apart from mt_cell_drift so that tests/hls/test_drift.c can check every x exactly (a
 * product's rounding moves g by less than a unit, so whole devices rarely show it). */
static inline uint64_t mt_drift_factor(uint32_t x) {
  MT_ASSERT(x <= 0xFFFFu);
  uint64_t f = (uint64_t)1 << 24;
  for (int k = 3; k >= 0; k--) {
#pragma HLS UNROLL
    f = (f * mt_drift_exp2[16 * k + ((x >> (4 * k)) & 15u)] + ((uint64_t)1 << 23)) >> 24;
  }
  return f;
}

/* Power-law drift of one device by L = log2(t1/t0) in Q.16 (docs/device-model.md, "Conductance
 * drift"): one Gaussian draw of r for its exponent, taken whatever the fault; only a working
 * device changes. */
void mt_cell_drift(const uint32_t *cfg, mt_xoshiro_t *r, const mt_dev_t *d, uint16_t *g,
                   uint32_t log2_ratio);

/* Step factor (Q0.16) of the piecewise pulse response at conductance g: the 17 knots sit at
 * g = 4096 k; linear interpolation with floor (docs/device-model.md, "Pulse response"). */
static inline int64_t mt_resp_factor(const uint32_t *knots, uint32_t g) {
  MT_ASSERT(g <= 65535u);
  int64_t k0 = knots[g >> 12];
  int64_t k1 = knots[(g >> 12) + 1];
  return k0 + mt_floor_shift((k1 - k0) * (int64_t)(g & 4095u), 12);
}

/* Mean step (before cycle-to-cycle noise) of one pulse of a device with the given step and a
 * of its branch, at conductance g whose distance to that branch's bound is dist. Shared with
 * the host (open-loop pulse counts, ssm's nominal steps) so both use the device's own rule. */
static inline int64_t mt_pulse_mean(const uint32_t *cfg, uint32_t step, uint32_t a, int64_t dist,
                                    uint32_t g, int set) {
  int64_t s = step;
  if (cfg[MT_CFG_RESP_CLASS] == 1)
    s = ((int64_t)step * mt_resp_factor(&cfg[set ? MT_CFG_RESP_UP_0 : MT_CFG_RESP_DN_0], g)) >> 16;
  return s + (((int64_t)a * dist) >> 16);
}

/* A pulse's mean step at conductance gv (between the device's bounds gmin, gmax). */
static inline int64_t mt_pulse_dg(const uint32_t *cfg, uint32_t step, uint32_t a, int64_t gmin,
                                  int64_t gmax, int64_t gv, int set) {
  return mt_pulse_mean(cfg, step, a, set ? gmax - gv : gv - gmin, (uint32_t)gv, set);
}

/* The c2c noise amplitude of a pulse of mean step dg. */
static inline int64_t mt_pulse_amp(int64_t dg, int64_t c2c_mul, int64_t c2c_add) {
  return ((dg * c2c_mul) >> 16) + c2c_add;
}

/* The conductance after a pulse of step dgn (mean plus noise) from gv. */
static inline int64_t mt_pulse_land(int64_t gv, int64_t dgn, int set, int64_t gmin, int64_t gmax) {
  return mt_clamp16(set ? gv + dgn : gv - dgn, gmin, gmax);
}

/* A pulse's wear: the lifetime count (saturating) and the endurance limit. */
static inline void mt_pulse_wear(uint32_t *pulses, uint32_t *fault, uint32_t endurance) {
  if (*pulses != 0xFFFFFFFFu) (*pulses)++;
  if (endurance != 0 && *pulses >= endurance && *fault == MT_FAULT_NONE) *fault = MT_FAULT_WORN;
}

/* mt_cell_step with the relative c2c factor c2c_mul passed in: mt_cell_step calls it with a
 * literal 0 where the configuration has none, so that the noise amplitude folds to the
 * constant c2c_add and the draw leaves the pulse's chain of dependent arithmetic through
 * the conductance (about half the latency of a pulse). */
static inline void mt_cell_run(const uint32_t *cfg, int64_t c2c_mul, mt_xoshiro_t *r,
                               mt_dev_t *d, uint16_t *g, int set, uint32_t n) {
  const int64_t c2c_add = cfg[MT_CFG_C2C_ADD];
  const uint32_t endurance = cfg[MT_CFG_ENDURANCE];
  const int64_t gmin = d->gmin, gmax = d->gmax;
  const uint32_t step = set ? d->step_set : d->step_rst, a = set ? d->a_set : d->a_rst;
  uint32_t fault = d->fault, pulses = d->pulses;
  int64_t gv = *g;
  for (uint32_t k = 0; k < 65536u; k++) {
#pragma HLS LOOP_TRIPCOUNT max = 65535
    if (k >= n) break;
    if (fault == MT_FAULT_NONE) {
      int64_t dg = mt_pulse_dg(cfg, step, a, gmin, gmax, gv, set);
      gv = mt_pulse_land(gv, dg + mt_noise(r, mt_pulse_amp(dg, c2c_mul, c2c_add)), set, gmin, gmax);
    } else {
      (void)mt_xoshiro_next(r); /* a failed device's pulse takes its draw too */
    }
    mt_pulse_wear(&pulses, &fault, endurance);
  }
  *g = (uint16_t)gv;
  d->fault = (uint8_t)fault;
  d->pulses = pulses;
}

/* n (< 65536) SET (set != 0) or RESET pulses on one device, not counted (the caller
 * counts them); each consumes one Gaussian draw of r. The device is kept in locals over
 * the run. Inline, so PULSE and PROGRAM make no call per pulse. */
static inline void mt_cell_step(const uint32_t *cfg, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g,
                                int set, uint32_t n) {
  if (cfg[MT_CFG_C2C_MUL] == 0)
    mt_cell_run(cfg, 0, r, d, g, set, n);
  else
    mt_cell_run(cfg, cfg[MT_CFG_C2C_MUL], r, d, g, set, n);
}

/* n (< 65536) SET or RESET pulses, counted: the same results as n single pulses counted
 * one by one (the counters are sums). */
static inline void mt_cell_pulses(mt_regs_t *regs, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g,
                                  int set, uint32_t n) {
  mt_cell_step(regs->cfg, r, d, g, set, n);
  mt_count(regs, set ? MT_CNT_SET_PULSES : MT_CNT_RESET_PULSES, n);
}

/* One SET (set != 0) or RESET pulse; consumes one Gaussian draw of r. */
static inline void mt_cell_pulse(mt_regs_t *regs, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g,
                                 int set) {
  mt_cell_pulses(regs, r, d, g, set, 1);
}

/* Sensed conductance of one read: g + read noise; consumes one draw. */
static inline int32_t mt_cell_sense(const uint32_t *cfg, mt_xoshiro_t *r, uint16_t g) {
  return (int32_t)(g + mt_noise(r, cfg[MT_CFG_READ_SIGMA]));
}

/* The draws of the lanes over one command that programs weights, computed a run of
 * MT_GAUSS_RUN at a time (mt_gauss_run): a write-verify step then loads its sample instead of
 * computing it on the device's chain of dependent steps. Each lane stands past its run until
 * mt_draws_end sets it back to the draws taken, so the lanes end exactly as if every draw
 * had been taken from them one by one. Lives on the command's stack. */
typedef struct {
  mt_xoshiro_t *lanes;           /* the device's lanes */
  mt_xoshiro_t start[MT_LANES];  /* each lane's state before its run */
  uint32_t pos[MT_LANES];        /* draws of the run taken; MT_GAUSS_RUN when none is left */
  int16_t z[MT_LANES][MT_GAUSS_RUN];
} mt_draws_t;

/* Starts drawing ahead from lanes (no run yet). */
void mt_draws_begin(mt_draws_t *db, mt_xoshiro_t lanes[MT_LANES]);

/* Sets every lane to the position of the draws taken. */
void mt_draws_end(mt_draws_t *db);

/* Programs weight (row, col) of a tile to level q, its draws from db. Returns 1 if
 * programmed, 0 if skipped because the stored level already matched; *wv_fail counts
 * devices whose write-verify did not converge. */
uint32_t mt_weight_program(mt_regs_t *regs, mt_draws_t *db, mt_tile_t *t, uint32_t row,
                           uint32_t col, uint32_t q, uint32_t flags, uint32_t *wv_fail);

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
