/* Device physics: fabrication draws, pulse response, reads, write-verify and
 * level programming. Integer only, so that rtl/ can match it bit for bit. */
#include "mt_device.h"

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

/* x * (1 + sigma_rel * z): the relative d2d spread of a parameter. */
static uint16_t vary_rel(uint32_t x, uint32_t sigma_rel, mt_xoshiro_t *r) {
  int64_t amp = (int64_t)(((uint64_t)x * sigma_rel) >> 16);
  return mt_clamp16((int64_t)x + mt_noise(r, amp), 0, 65535);
}

void mt_cell_fabricate(const uint32_t *cfg, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g) {
  d->gmin = mt_clamp16((int64_t)cfg[MT_CFG_G_MIN] + mt_noise(r, cfg[MT_CFG_D2D_GMIN]),
                    0, 65535);
  d->gmax = mt_clamp16((int64_t)cfg[MT_CFG_G_MAX] + mt_noise(r, cfg[MT_CFG_D2D_GMAX]),
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

/* Closed-loop write-verify; returns 1 when the device ended within tolerance, and the pulses
 * it applied in *pulses (0 when the first verify read already passed). Reads and pulses are
 * counted once at the end (the counters are sums, nothing reads them in between). */
static uint32_t write_verify(mt_regs_t *regs, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g,
                             uint32_t target, uint32_t *pulses) {
  const uint32_t *cfg = regs->cfg;
  const int64_t tol = cfg[MT_CFG_WV_TOL];
  uint32_t reads = 0, sets = 0, ok = 0;
  *pulses = 0;
  for (uint32_t it = 0; it <= MT_MAX_WV_ITER; it++) {
    int64_t sensed = mt_cell_sense(cfg, r, *g);
    reads++;
    int64_t err = sensed - (int64_t)target;
    if (err <= tol && -err <= tol) {
      ok = 1;
      break;
    }
    if (it == cfg[MT_CFG_WV_MAX_ITER]) break;
    mt_cell_step(cfg, r, d, g, err < 0, 1);
    sets += err < 0;
    (*pulses)++;
  }
  mt_count(regs, MT_CNT_VERIFY_READS, reads);
  mt_count(regs, MT_CNT_SET_PULSES, sets);
  mt_count(regs, MT_CNT_RESET_PULSES, *pulses - sets);
  return ok;
}

/* Open-loop: the pulse-index difference between the old and the new level; returns the pulses
 * applied. */
static uint32_t open_loop(mt_regs_t *regs, mt_xoshiro_t *r, mt_dev_t *d, uint16_t *g,
                      uint32_t p_old, uint32_t p_new) {
  int set = p_new > p_old;
  uint32_t n = set ? p_new - p_old : p_old - p_new;
  /* SET_LEVELS and the state image check bound every pulse index (the PROGRAM time bound). */
  MT_ASSERT(p_old <= MT_MAX_PULSE_INDEX && p_new <= MT_MAX_PULSE_INDEX);
  mt_cell_pulses(regs, r, d, g, set, n);
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
    int64_t relax = mt_noise(r, e[2] & 0xFFFFu);
    if (d->fault == MT_FAULT_NONE && pulses != 0) *g = mt_clamp16(*g + relax, d->gmin, d->gmax);
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
