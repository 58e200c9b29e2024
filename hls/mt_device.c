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

void mt_cell_drift(const uint32_t *cfg, mt_xoshiro_t *r, const mt_dev_t *d, uint16_t *g,
                   uint32_t log2_ratio) {
  MT_ASSERT(log2_ratio <= MT_DRIFT_MAX_LOG2);
  /* nu_d <= 65535 and L <= 2^22: e < 2^38 >> 16, its integer part below 64. */
  /* |nu + noise| as aihwkit's PCM model folds a negative exponent, at most 65535. */
  int64_t v0 = (int64_t)cfg[MT_CFG_DRIFT_NU] + mt_noise(r, cfg[MT_CFG_DRIFT_NU_SD]);
  uint64_t nu = mt_clamp16(v0 < 0 ? -v0 : v0, 0, 65535);
  uint64_t e = (nu * log2_ratio) >> 16;
  uint32_t ip = (uint32_t)(e >> 16), x = (uint32_t)(e & 0xFFFFu);
  uint64_t f = mt_drift_factor(x);
  uint32_t s = 24 + (ip < 17 ? ip : 17);
  if (d->fault != MT_FAULT_NONE) return;
  uint64_t v = ((uint64_t)*g * f + ((uint64_t)1 << (s - 1))) >> s;
  *g = v < d->gmin ? d->gmin : (uint16_t)v;
}

void mt_draws_begin(mt_draws_t *db, mt_xoshiro_t lanes[MT_LANES]) {
  db->lanes = lanes;
  for (uint32_t l = 0; l < MT_LANES; l++) db->pos[l] = MT_GAUSS_RUN;
}

void mt_draws_end(mt_draws_t *db) {
  for (uint32_t l = 0; l < MT_LANES; l++) {
    if (db->pos[l] == MT_GAUSS_RUN) continue; /* a run used up leaves the lane where it is */
    db->lanes[l] = db->start[l];
    for (uint32_t i = 0; i < db->pos[l]; i++) (void)mt_xoshiro_next(&db->lanes[l]);
    db->pos[l] = MT_GAUSS_RUN;
  }
}

/* The next run of lane l, once the last is used up; returns the new position (0). */
static uint32_t draws_refill(mt_draws_t *db, uint32_t l) {
  db->start[l] = db->lanes[l];
  mt_gauss_run(&db->lanes[l], db->z[l]);
  return 0;
}

/* One weight's draws: lane l's run and the position in it, kept in locals over the weight
 * (written back once), so that no draw waits on a store of the position. */
typedef struct {
  mt_draws_t *db;
  uint32_t l, pos;
} cursor_t;

static inline int16_t draw(cursor_t *c) {
  if (c->pos == MT_GAUSS_RUN) c->pos = draws_refill(c->db, c->l);
  return c->db->z[c->l][c->pos++];
}

/* n (< 65536) pulses of one device held in locals, its draws from c; mt_cell_run's
 * arithmetic (with the relative c2c factor passed in: see there). */
static inline void pulses_z(const uint32_t *cfg, int64_t c2c_mul, cursor_t *c, uint32_t *fault,
                            uint32_t *pulses, int64_t *gv, uint32_t step, uint32_t a,
                            int64_t gmin, int64_t gmax, int set, uint32_t n) {
  const int64_t c2c_add = cfg[MT_CFG_C2C_ADD];
  const uint32_t endurance = cfg[MT_CFG_ENDURANCE];
  for (uint32_t k = 0; k < 65536u; k++) {
#pragma HLS LOOP_TRIPCOUNT max = 65535
    if (k >= n) break;
    int16_t z = draw(c); /* a failed device's pulse takes its draw too */
    if (*fault == MT_FAULT_NONE) {
      int64_t dg = mt_pulse_dg(cfg, step, a, gmin, gmax, *gv, set);
      /* mt_gnoise(0, z) is 0, what mt_noise gives without computing z. */
      *gv = mt_pulse_land(*gv, dg + mt_gnoise(mt_pulse_amp(dg, c2c_mul, c2c_add), z), set, gmin,
                          gmax);
    }
    mt_pulse_wear(pulses, fault, endurance);
  }
}

/* Closed-loop write-verify; returns 1 when the device ended within tolerance, and the pulses
 * it applied in *npulses (0 when the first verify read already passed). Reads and pulses are
 * counted once at the end (the counters are sums, nothing reads them in between). The device
 * in locals over the loop (written back once): through d and g, each pulse's stores and the
 * next read's loads were on the loop's chain of dependent steps. */
static inline uint32_t write_verify(mt_regs_t *regs, int64_t c2c_mul, cursor_t *cw, mt_dev_t *d,
                                    uint16_t *g, uint32_t target, uint32_t *npulses) {
  cursor_t cl = *cw, *c = &cl; /* in registers over the loop */
  const uint32_t *cfg = regs->cfg;
  const int64_t tol = cfg[MT_CFG_WV_TOL], sigma = cfg[MT_CFG_READ_SIGMA];
  const int64_t gmin = d->gmin, gmax = d->gmax;
  uint32_t fault = d->fault, pulses = d->pulses;
  int64_t gv = *g;
  uint32_t reads = 0, sets = 0, ok = 0, n = 0;
  for (uint32_t it = 0; it <= MT_MAX_WV_ITER; it++) {
    int64_t sensed = gv + mt_gnoise(sigma, draw(c)); /* mt_cell_sense */
    reads++;
    int64_t err = sensed - (int64_t)target;
    if (err <= tol && -err <= tol) {
      ok = 1;
      break;
    }
    if (it == cfg[MT_CFG_WV_MAX_ITER]) break;
    int set = err < 0;
    pulses_z(cfg, c2c_mul, c, &fault, &pulses, &gv, set ? d->step_set : d->step_rst,
             set ? d->a_set : d->a_rst, gmin, gmax, set, 1);
    sets += (uint32_t)set;
    n++;
  }
  *g = (uint16_t)gv;
  d->fault = (uint8_t)fault;
  d->pulses = pulses;
  *cw = cl;
  *npulses = n;
  mt_count(regs, MT_CNT_VERIFY_READS, reads);
  mt_count(regs, MT_CNT_SET_PULSES, sets);
  mt_count(regs, MT_CNT_RESET_PULSES, n - sets);
  return ok;
}

/* Open-loop: the pulse-index difference between the old and the new level; returns the pulses
 * applied. */
static uint32_t open_loop(mt_regs_t *regs, cursor_t *c, mt_dev_t *d, uint16_t *g,
                          uint32_t p_old, uint32_t p_new) {
  const uint32_t *cfg = regs->cfg;
  int set = p_new > p_old;
  uint32_t n = set ? p_new - p_old : p_old - p_new;
  /* SET_LEVELS and the state image check bound every pulse index (the PROGRAM time bound). */
  MT_ASSERT(p_old <= MT_MAX_PULSE_INDEX && p_new <= MT_MAX_PULSE_INDEX);
  uint32_t fault = d->fault, pulses = d->pulses;
  int64_t gv = *g;
  pulses_z(cfg, cfg[MT_CFG_C2C_MUL], c, &fault, &pulses, &gv, set ? d->step_set : d->step_rst,
           set ? d->a_set : d->a_rst, d->gmin, d->gmax, set, n);
  *g = (uint16_t)gv;
  d->fault = (uint8_t)fault;
  d->pulses = pulses;
  mt_count(regs, set ? MT_CNT_SET_PULSES : MT_CNT_RESET_PULSES, n);
  return n;
}

uint32_t mt_weight_program(mt_regs_t *regs, mt_draws_t *db, mt_tile_t *t, uint32_t row,
                           uint32_t col, uint32_t q, uint32_t flags, uint32_t *wv_fail) {
  MT_ASSERT(row < MT_ROWS && col < MT_COLS && q < regs->levels && regs->configured);
  uint32_t old = t->level[row][col];
  if (old == q && !(flags & MT_PROG_FORCE)) {
    mt_count(regs, MT_CNT_UPDATES_SKIPPED, 1);
    return 0;
  }
  cursor_t c = {db, col % MT_LANES, db->pos[col % MT_LANES]};
  const uint32_t *e = regs->level_table[q];
  const uint32_t *e_old = old < regs->levels ? regs->level_table[old] : 0;
  for (uint32_t k = 0; k < 2; k++) {
    mt_dev_t *d = &t->dev[row][col][k];
    uint16_t *g = &t->g[k][row][col];
    uint32_t shift = 16u * k; /* plus device in the low half-words */
    uint32_t pulses, target = (e[0] >> shift) & 0xFFFFu;
    uint32_t ok = 1;
    if (flags & MT_PROG_OPEN_LOOP) {
      uint32_t p_old = e_old ? (e_old[1] >> shift) & 0xFFFFu : 0;
      pulses = open_loop(regs, &c, d, g, p_old, (e[1] >> shift) & 0xFFFFu);
    } else if (regs->cfg[MT_CFG_C2C_MUL] == 0) {
      ok = write_verify(regs, 0, &c, d, g, target, &pulses); /* see mt_cell_run */
    } else {
      ok = write_verify(regs, regs->cfg[MT_CFG_C2C_MUL], &c, d, g, target, &pulses);
    }
    if (!ok) {
      (*wv_fail)++;
      mt_count(regs, MT_CNT_WV_FAILURES, 1);
    }
    /* State-dependent spread: the state relaxes after a write. A device that took no pulse
     * (verified at the first read, or no open-loop step) was only read, and a read does not
     * move it; the draw is taken either way so the lane's stream does not depend on it. */
    int64_t relax = mt_gnoise(e[2] & 0xFFFFu, draw(&c));
    if (d->fault == MT_FAULT_NONE && pulses != 0) *g = mt_clamp16(*g + relax, d->gmin, d->gmax);
  }
  db->pos[c.l] = c.pos;
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

/* v / 2^n quantized: mode 0 truncates toward zero, mode 1 rounds to nearest with
 * ties away from zero; both are odd functions, so +v and -v move h alike (no drift). */
static int64_t meta_quantize(int64_t v, uint32_t n, uint32_t mode) {
  if (n == 0) return v;
  uint64_t mag = (uint64_t)(v < 0 ? -v : v);
  if (mode == 1) mag += (uint64_t)1 << (n - 1);
  int64_t q = (int64_t)(mag >> n);
  return v < 0 ? -q : q;
}

int32_t mt_meta_unit(const mt_regs_t *regs, int32_t h, int64_t d, int write, uint32_t *attenuated) {
  const uint32_t *cfg = regs->cfg;
  const uint32_t w = cfg[MT_CFG_META_HIDDEN_BITS], f = cfg[MT_CFG_META_HIDDEN_FRAC];
  const uint32_t s = 16 - f, e = cfg[MT_CFG_META_ENTRY_BITS];
  /* The register: W bits in steps of 2^s; what it holds of a stored h is the low W bits of
   * floor(h / 2^s) (the stored h is r * 2^s whenever this configuration wrote it). */
  int64_t rmax = ((int64_t)1 << (w - 1)) - 1;
  if (rmax > ((int64_t)MT_HIDDEN_MAX >> s)) rmax = (int64_t)MT_HIDDEN_MAX >> s;
  int64_t r = 0;
  if (!write) {
    uint64_t low = ((uint64_t)mt_floor_shift(h, s) << (64 - w)) >> (64 - w);
    r = (int64_t)low - (int64_t)((low >> (w - 1)) << w); /* bit W-1 is the sign */
  }
  uint32_t n = s; /* bits the quantization drops */
  *attenuated = 0;
  if (!write && d != 0) {
    /* Does the step move toward the boundary it consolidates against, and how far is it
     * (dist2, in units of 2^-(F+1) level)? */
    uint64_t dist2 = 0;
    int toward;
    if (cfg[MT_CFG_META_RULE] == 0) {
      toward = (r > 0 && d < 0) || (r < 0 && d > 0);
      dist2 = (uint64_t)(r < 0 ? -r : r) << 1;
    } else {
      int64_t biased = 2 * r + ((int64_t)regs->levels << f);
      int64_t q = mt_floor_shift(biased, f + 1);
      int64_t top = (int64_t)regs->levels - 1;
      q = q < 0 ? 0 : (q > top ? top : q);
      int64_t lower = q * ((int64_t)2 << f); /* boundary below level q */
      toward = d < 0 ? q > 0 : q < top;
      dist2 = (uint64_t)(d < 0 ? biased - lower : lower + ((int64_t)2 << f) - biased);
    }
    if (toward) {
      uint64_t idx = (dist2 << s) >> (cfg[MT_CFG_META_IDX_SHIFT] + 1);
      uint64_t last = ((uint64_t)1 << cfg[MT_CFG_META_TABLE_LOG2]) - 1;
      uint32_t fe = regs->meta_table[idx > last ? last : idx] >> (16 - e);
      /* All ones stands for exactly 1, so that "no metaplasticity" is exact. */
      if (fe != ((uint32_t)1 << e) - 1) {
        d *= (int64_t)fe;
        n += e;
        *attenuated = 1;
      }
    }
  }
  int64_t rn = r + meta_quantize(d, n, cfg[MT_CFG_META_UPD_ROUND]);
  rn = rn > rmax ? rmax : (rn < -rmax ? -rmax : rn);
  return (int32_t)(rn * ((int64_t)1 << s));
}
