/* Device physics: fabrication draws, pulse response, reads, write-verify and
 * level programming. Integer only, so that rtl/ can match it bit for bit. */
#include "mt_device.h"

void mt_count(mt_regs_t *regs, uint32_t cnt, uint64_t n) {
  MT_ASSERT(cnt < MT_CNT_COUNT);
  regs->counters[cnt] += n;
  /* Each counter's cost fields come from docs/protocol.json; MT_CFG_COUNT means none. */
  if (mt_cnt_energy_cfg[cnt] != MT_CFG_COUNT)
    regs->counters[MT_CNT_ENERGY_FJ] += n * regs->cfg[mt_cnt_energy_cfg[cnt]];
  if (mt_cnt_latency_cfg[cnt] != MT_CFG_COUNT)
    regs->counters[MT_CNT_LATENCY_PS] += n * regs->cfg[mt_cnt_latency_cfg[cnt]];
}

uint32_t mt_isqrt64(uint64_t v) {
  uint64_t res = 0;
  uint64_t bit = (uint64_t)1 << 62;
  for (int i = 0; i < 32; i++) {
#pragma HLS UNROLL
    if (v >= res + bit) {
      v -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return (uint32_t)res;
}

static uint16_t clamp16(int64_t v, int64_t lo, int64_t hi) {
  if (v < lo) return (uint16_t)lo;
  if (v > hi) return (uint16_t)hi;
  return (uint16_t)v;
}

/* x * (1 + sigma_rel * z): the relative d2d spread of a parameter. */
static uint16_t vary_rel(uint32_t x, uint32_t sigma_rel, mt_xoshiro_t *r) {
  int64_t amp = (int64_t)(((uint64_t)x * sigma_rel) >> 16);
  return clamp16((int64_t)x + mt_gnoise(amp, mt_gauss(r)), 0, 65535);
}

void mt_cell_fabricate(const uint32_t *cfg, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g) {
  d->gmin = clamp16((int64_t)cfg[MT_CFG_G_MIN] + mt_gnoise(cfg[MT_CFG_D2D_GMIN], mt_gauss(r)),
                    0, 65535);
  d->gmax = clamp16((int64_t)cfg[MT_CFG_G_MAX] + mt_gnoise(cfg[MT_CFG_D2D_GMAX], mt_gauss(r)),
                    d->gmin, 65535);
  d->step_set = vary_rel(cfg[MT_CFG_STEP_SET], cfg[MT_CFG_D2D_STEP], r);
  d->step_rst = vary_rel(cfg[MT_CFG_STEP_RST], cfg[MT_CFG_D2D_STEP], r);
  d->a_set = vary_rel(cfg[MT_CFG_A_SET], cfg[MT_CFG_D2D_A], r);
  d->a_rst = vary_rel(cfg[MT_CFG_A_RST], cfg[MT_CFG_D2D_A], r);
  uint64_t u = mt_xoshiro_next(r);
  uint64_t p_low = cfg[MT_CFG_P_STUCK_LOW];
  if (u < p_low)
    d->fault = MT_FAULT_STUCK_LOW;
  else if (u < p_low + cfg[MT_CFG_P_STUCK_HIGH])
    d->fault = MT_FAULT_STUCK_HIGH;
  else
    d->fault = MT_FAULT_NONE;
  *g = d->fault == MT_FAULT_STUCK_HIGH ? d->gmax : d->gmin;
  d->reserved = 0;
  d->pulses = 0;
}

int64_t mt_resp_factor(const uint32_t *knots, uint32_t g) {
  MT_ASSERT(g <= 65535u);
  int64_t k0 = knots[g >> 12];
  int64_t k1 = knots[(g >> 12) + 1];
  return k0 + mt_floor_shift((k1 - k0) * (int64_t)(g & 4095u), 12);
}

int64_t mt_pulse_mean(const uint32_t *cfg, uint32_t step, uint32_t a, int64_t dist, uint32_t g,
                      int set) {
  int64_t s = step;
  if (cfg[MT_CFG_RESP_CLASS] == 1)
    s = ((int64_t)step * mt_resp_factor(&cfg[set ? MT_CFG_RESP_UP_0 : MT_CFG_RESP_DN_0], g)) >> 16;
  return s + (((int64_t)a * dist) >> 16);
}

void mt_cell_pulse(mt_regs_t *regs, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g, int set) {
  const uint32_t *cfg = regs->cfg;
  int16_t z = mt_gauss(r);
  mt_count(regs, set ? MT_CNT_SET_PULSES : MT_CNT_RESET_PULSES, 1);
  if (d->fault == MT_FAULT_NONE) {
    int64_t dg = set ? mt_pulse_mean(cfg, d->step_set, d->a_set, d->gmax - *g, *g, 1)
                     : mt_pulse_mean(cfg, d->step_rst, d->a_rst, *g - d->gmin, *g, 0);
    int64_t amp = ((dg * cfg[MT_CFG_C2C_MUL]) >> 16) + cfg[MT_CFG_C2C_ADD];
    int64_t dgn = dg + mt_gnoise(amp, z);
    *g = clamp16(set ? *g + dgn : *g - dgn, d->gmin, d->gmax);
  }
  if (d->pulses != 0xFFFFFFFFu) d->pulses++;
  if (cfg[MT_CFG_ENDURANCE] != 0 && d->pulses >= cfg[MT_CFG_ENDURANCE] &&
      d->fault == MT_FAULT_NONE)
    d->fault = MT_FAULT_WORN;
}

int32_t mt_cell_sense(const uint32_t *cfg, mt_xoshiro_t *r, uint16_t g) {
  return (int32_t)(g + mt_gnoise(cfg[MT_CFG_READ_SIGMA], mt_gauss(r)));
}

/* Closed-loop write-verify; returns 1 when the device ended within tolerance, and the pulses
 * it applied in *pulses (0 when the first verify read already passed). */
static uint32_t write_verify(mt_regs_t *regs, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g,
                             uint32_t target, uint32_t *pulses) {
  const uint32_t *cfg = regs->cfg;
  *pulses = 0;
  for (uint32_t it = 0; it <= MT_MAX_WV_ITER; it++) {
    int64_t sensed = mt_cell_sense(cfg, r, *g);
    mt_count(regs, MT_CNT_VERIFY_READS, 1);
    int64_t err = sensed - (int64_t)target;
    if (err <= (int64_t)cfg[MT_CFG_WV_TOL] && -err <= (int64_t)cfg[MT_CFG_WV_TOL]) return 1;
    if (it == cfg[MT_CFG_WV_MAX_ITER]) break;
    mt_cell_pulse(regs, r, d, g, err < 0);
    (*pulses)++;
  }
  return 0;
}

/* Open-loop: the pulse-index difference between the old and the new level; returns the pulses
 * applied. */
static uint32_t open_loop(mt_regs_t *regs, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g,
                      uint32_t p_old, uint32_t p_new) {
  int set = p_new > p_old;
  uint32_t n = set ? p_new - p_old : p_old - p_new;
  /* SET_LEVELS and the state image check bound every pulse index (the PROGRAM time bound). */
  MT_ASSERT(p_old <= MT_MAX_PULSE_INDEX && p_new <= MT_MAX_PULSE_INDEX);
  for (uint32_t k = 0; k < 65536u; k++) {
#pragma HLS LOOP_TRIPCOUNT max = 65535
    if (k >= n) break;
    mt_cell_pulse(regs, r, d, g, set);
  }
  return n;
}

uint32_t mt_weight_program(mt_regs_t *regs, mt_tile_t *t, uint32_t row, uint32_t col,
                           uint32_t q, uint32_t flags, uint32_t *wv_fail) {
  MT_ASSERT(row < MT_ROWS && col < MT_COLS && q < regs->levels && regs->configured);
  uint32_t old = t->level[row][col];
  if (old == q && !(flags & MT_PROG_FORCE)) {
    mt_count(regs, MT_CNT_UPDATES_SKIPPED, 1);
    return 0;
  }
  mt_xoshiro_t *r = &regs->lanes[col % MT_LANES];
  const uint32_t *e = regs->level_table[q];
  const uint32_t *e_old = old < regs->levels ? regs->level_table[old] : 0;
  for (uint32_t k = 0; k < 2; k++) {
    mt_dev_t *d = &t->dev[row][col][k];
    uint16_t *g = &t->g[k][row][col];
    uint32_t shift = 16u * k; /* plus device in the low half-words */
    uint32_t pulses;
    if (flags & MT_PROG_OPEN_LOOP) {
      uint32_t p_old = e_old ? (e_old[1] >> shift) & 0xFFFFu : 0;
      pulses = open_loop(regs, r, d, g, p_old, (e[1] >> shift) & 0xFFFFu);
    } else if (!write_verify(regs, r, d, g, (e[0] >> shift) & 0xFFFFu, &pulses)) {
      (*wv_fail)++;
      mt_count(regs, MT_CNT_WV_FAILURES, 1);
    }
    /* State-dependent spread: the state relaxes after a write. A device that took no pulse
     * (verified at the first read, or no open-loop step) was only read, and a read does not
     * move it; the draw is taken either way so the lane's stream does not depend on it. */
    int16_t z = mt_gauss(r);
    if (d->fault == MT_FAULT_NONE && pulses != 0)
      *g = clamp16(*g + mt_gnoise(e[2] & 0xFFFFu, z), d->gmin, d->gmax);
  }
  t->level[row][col] = (uint16_t)q;
  mt_count(regs, MT_CNT_CELLS_PROGRAMMED, 1);
  return 1;
}

uint32_t mt_level_of_hidden(int32_t h, uint32_t levels) {
  int64_t q = mt_floor_shift((int64_t)h + (int64_t)levels * 32768, 16);
  if (q < 0) return 0;
  if (q > (int64_t)levels - 1) return levels - 1;
  return (uint32_t)q;
}
