/* Open-loop pulse training: sgd-pulse and ssm (docs/algorithms.md). */
#include "mt_algo_ssm.h"

#include "mt_algo.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_compact_row.h"
#include "mt_pulse_row.h"
#include "mt_device.h"
#include "mt_protocol.h"
#include "mt_rng.h"

#define ENTRY_CAP (2u * MT_ROWS * MT_COLS)
#define INIT_ROUNDS 8u /* ssm: closed-loop rounds of the initial programming */

uint32_t mt_pulse_round_nearest(float x_abs) {
  if (!(x_abs > 0)) return 0; /* also NaN */
  if (x_abs >= (float)MT_PULSE_MAX) return MT_PULSE_MAX;
  uint32_t n = (uint32_t)floorf(x_abs + 0.5f);
  return n > MT_PULSE_MAX ? MT_PULSE_MAX : n;
}

uint32_t mt_pulse_round_stochastic(float x_abs, uint64_t *rng) {
  if (!(x_abs > 0)) return 0; /* also NaN */
  if (x_abs >= (float)MT_PULSE_MAX) return MT_PULSE_MAX;
  float fl = floorf(x_abs);
  float u = (float)(mt_splitmix64_next(rng) >> 40) * (1.0f / 16777216.0f); /* [0, 1), 24 bits */
  uint32_t n = (uint32_t)fl + (u < x_abs - fl ? 1u : 0u);
  return n > MT_PULSE_MAX ? MT_PULSE_MAX : n;
}

typedef int32_t v16i __attribute__((vector_size(64))); /* 16 lanes: generic vector extension */

/* The per-weight part of ssm's plan for weights j0..j0+len: the floor and fraction of the
 * pulse count x, masks of its sign (-1 for d <= 0) and of x >= MT_PULSE_MAX, and whether it
 * draws (0 < x < MT_PULSE_MAX: not for NaN). The selects are integer masks: with a float
 * select gcc moves the conversions into a branch (they could trap), and the loop no longer
 * vectorizes. Called with len 16, a constant, it is one vector operation per line. */
static inline void plan_prep(uint32_t j0, uint32_t len, const float *restrict g,
                             const float *restrict gs, const float *restrict gr, float lr,
                             float w_per_g, int32_t *restrict fl, float *restrict frac,
                             int32_t *restrict neg, int32_t *restrict big,
                             int32_t *restrict draw) {
  for (uint32_t j = j0; j < j0 + len; j++) {
    float d = -lr * g[j] / w_per_g; /* wanted change of g+, g units */
    float set = gs[j], rst = gr[j]; /* both loaded: a conditional load does not vectorize */
    float x = fabsf(d) / (d > 0 ? set : rst);
    draw[j] = (x > 0) & (x < (float)MT_PULSE_MAX);
    /* x where it draws, else +0 (NaN and large values convert to no integer) */
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= 0u - (uint32_t)draw[j];
    float xd;
    memcpy(&xd, &bits, sizeof xd);
    fl[j] = (int32_t)xd; /* floorf for xd >= 0 */
    frac[j] = xd - (float)fl[j];
    neg[j] = (int32_t)(d > 0) - 1;
    big[j] = -(int32_t)(x >= (float)MT_PULSE_MAX);
  }
}

void mt_pulse_plan_stochastic(int32_t *restrict p, const float *restrict g,
                              const float *restrict gs, const float *restrict gr, float lr,
                              float w_per_g, uint32_t n, uint64_t *rng) {
  assert(n <= MT_COLS);
  /* Two passes of 16 weights at a time: plan_prep, then the draws. m, the index of a weight's
   * draw in the stream of *rng, is the running count of the weights that draw: an
   * in-register prefix sum of a block (shifts by 1, 2, 4 and 8 lanes) plus the count of the
   * blocks before it (a serial count was a fifth of the plan). */
  const uint32_t n16 = (n + 15u) & ~15u;
  int32_t fl[MT_COLS], neg[MT_COLS], big[MT_COLS], draw[MT_COLS];
  float frac[MT_COLS];
  if (n >= 16) {
    uint32_t j0 = 0;
    for (; j0 + 16 <= n; j0 += 16) plan_prep(j0, 16, g, gs, gr, lr, w_per_g, fl, frac, neg, big, draw);
    /* the last weights as a whole block ending at n (its overlap is computed again, alike) */
    if (j0 < n) plan_prep(n - 16, 16, g, gs, gr, lr, w_per_g, fl, frac, neg, big, draw);
  } else {
    plan_prep(0, n, g, gs, gr, lr, w_per_g, fl, frac, neg, big, draw);
  }
  uint64_t m[MT_COLS], draws = 0;
  if (n < 16) {
    for (uint32_t j = 0; j < n; j++) m[j] = draws += (uint64_t)draw[j];
  } else {
    for (uint32_t j = n; j < n16; j++) draw[j] = 0; /* the last block's weights n..n16 */
    for (uint32_t j0 = 0; j0 < n16; j0 += 16) {
      v16i v;
      memcpy(&v, draw + j0, sizeof v);
      const v16i z = {0};
      v += __builtin_shufflevector(z, v, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
      v += __builtin_shufflevector(z, v, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
      v += __builtin_shufflevector(z, v, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27);
      v += __builtin_shufflevector(z, v, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
      for (uint32_t q = 0; q < 16; q++) m[j0 + q] = draws + (uint64_t)(uint32_t)v[q];
      draws += (uint64_t)(uint32_t)v[15];
    }
  }
  const uint64_t x0 = *rng;
  for (uint32_t j = 0; j < n; j++) {
    float u = (float)(uint32_t)(mt_splitmix64_mix(x0 + m[j] * MT_SPLITMIX64_GAMMA) >> 40) *
              (1.0f / 16777216.0f); /* [0, 1), 24 bits */
    /* as mt_pulse_round_stochastic: 0 without a draw (fl and frac 0), MT_PULSE_MAX from there */
    int32_t c = fl[j] + (u < frac[j]);
    c = (c & ~big[j]) | ((int32_t)MT_PULSE_MAX & big[j]);
    p[j] = (c ^ neg[j]) - neg[j];
  }
  *rng = x0 + draws * MT_SPLITMIX64_GAMMA;
}

void mt_pulse_momentum(float *v, const float *g, size_t n, float beta) {
  for (size_t k = 0; k < n; k++) v[k] = beta * v[k] + g[k];
}

/* Noise-free step of one pulse at conductance g (device-model.md). */
static double nominal_set(const uint32_t *cfg, uint32_t g) {
  uint32_t gmax = cfg[MT_CFG_G_MAX];
  return (double)mt_pulse_mean(cfg, cfg[MT_CFG_STEP_SET], cfg[MT_CFG_A_SET], g < gmax ? gmax - g : 0, g, 1);
}
static double nominal_rst(const uint32_t *cfg, uint32_t g) {
  uint32_t gmin = cfg[MT_CFG_G_MIN];
  return (double)mt_pulse_mean(cfg, cfg[MT_CFG_STEP_RST], cfg[MT_CFG_A_RST], g > gmin ? g - gmin : 0, g, 0);
}

/* Whether layer pl's n gains are one value per direction (bit for bit): what
 * mt_pulse_layer.uniform_gains says, set wherever the gains are written. */
static int gains_uniform(const mt_pulse_layer *pl, size_t n) {
  for (size_t k = 1; k < n; k++)
    if (memcmp(&pl->gain_set[k], &pl->gain_set[0], sizeof(float)) != 0 ||
        memcmp(&pl->gain_rst[k], &pl->gain_rst[0], sizeof(float)) != 0)
      return 0;
  return 1;
}

static uint32_t tile_of(const mt_layer_map_t *m, uint32_t rb, uint32_t cb) {
  return m->first_tile + rb * m->col_blocks + cb;
}

static mt_region block_region(const mt_layer_map_t *m, uint32_t rb, uint32_t cb) {
  mt_region r = {0, 0, 0, 0};
  r.nrows = m->n_in - rb * MT_ROWS < MT_ROWS ? m->n_in - rb * MT_ROWS : MT_ROWS;
  r.ncols = m->n_out - cb * MT_COLS < MT_COLS ? m->n_out - cb * MT_COLS : MT_COLS;
  return r;
}

void mt_pulse_free(mt_pulse_state *s) {
  for (uint32_t l = 0; l < MT_NN_MAX_LAYERS; l++) {
    mt_pulse_layer *pl = &s->layer[l];
    free(pl->gain_set);
    free(pl->gain_rst);
    free(pl->vel_w);
    free(pl->vel_b);
    free(pl->planned);
    free(pl->g_before);
  }
  free(s->entries);
  free(s->gp);
  free(s->gm);
  free(s->acc);
  free(s->cells);
  memset(s, 0, sizeof *s);
}

int mt_pulse_init(mt_pulse_state *s, const mt_pulse_opts *o, const mt_preset_t *p,
                  mt_layer_map_t *maps, uint32_t n_layers, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  s->o = *o;
  s->cfg = p->cfg;
  s->maps = maps;
  s->n_layers = n_layers;
  s->rng = o->seed ^ 0x55AA5A5A12345678ull;
  double step = mt_map_level_step(p->level_table, p->levels);
  if (o->ssm) {
    /* Reference state: where the nominal SET and RESET steps are closest
     * (most symmetric update), inside the level window (ours). */
    double best = INFINITY;
    for (uint32_t g = p->level_lo; g <= p->level_hi; g += 16) {
      double d = fabs(nominal_set(p->cfg, g) - nominal_rst(p->cfg, g));
      if (d < best) best = d, s->g_ref = g;
    }
  } else {
    s->g_ref = (p->level_lo + p->level_hi) / 2; /* the middle of the window */
  }
  s->nom_set = (float)nominal_set(p->cfg, s->g_ref);
  s->nom_rst = (float)nominal_rst(p->cfg, s->g_ref);
  if (!(s->nom_set > 0) || !(s->nom_rst > 0) || !(step > 0)) {
    snprintf(err, errlen, "the preset's pulse response has no SET or RESET step at g = %u", s->g_ref);
    return -1;
  }
  /* sgd-pulse: one nominal weight change per pulse for both directions, the
   * mean of the SET and RESET steps at g_ref (ours). */
  float naive = 0.5f * (s->nom_set + s->nom_rst);
  for (uint32_t l = 0; l < n_layers; l++) {
    mt_pulse_layer *pl = &s->layer[l];
    size_t n = (size_t)maps[l].n_in * maps[l].n_out;
    pl->w_per_g = (float)(maps[l].delta / step);
    pl->gain_set = malloc(n * sizeof(float));
    pl->gain_rst = malloc(n * sizeof(float));
    pl->planned = calloc(n, 1);
    pl->g_before = calloc(n, sizeof(uint16_t));
    if (o->ssm) {
      pl->vel_w = calloc(n, sizeof(float));
      pl->vel_b = calloc(maps[l].n_out, sizeof(float));
    }
    if (!pl->gain_set || !pl->gain_rst || !pl->planned || !pl->g_before ||
        (o->ssm && (!pl->vel_w || !pl->vel_b)))
      goto oom;
    for (size_t k = 0; k < n; k++) {
      pl->gain_set[k] = o->ssm ? s->nom_set : naive;
      pl->gain_rst[k] = o->ssm ? s->nom_rst : naive;
    }
    pl->uniform_gains = 1;
  }
  s->entries = malloc(ENTRY_CAP * sizeof *s->entries);
  s->gp = malloc(MT_ROWS * MT_COLS * sizeof *s->gp);
  s->gm = malloc(MT_ROWS * MT_COLS * sizeof *s->gm);
  s->acc = malloc(6u * MT_ROWS * MT_COLS * sizeof *s->acc);
  s->cells = malloc(ENTRY_CAP * sizeof *s->cells);
  if (s->entries && s->gp && s->gm && s->acc && s->cells) return 0;
oom:
  mt_pulse_free(s);
  snprintf(err, errlen, "out of memory for the pulse trainer");
  return -1;
}

/* Appends pulses for one device (dev 0 = G+, 1 = G-; n > 0 SET, n < 0
 * RESET), splitting counts above MT_PULSE_MAX, sending when full. */
static int emit(mt_pulse_state *s, mt_dev *dev, uint32_t tile, uint32_t *ne, uint32_t row,
                uint32_t col, uint32_t which, int32_t n) {
  while (n != 0) {
    int32_t c = n > (int32_t)MT_PULSE_MAX ? (int32_t)MT_PULSE_MAX
                                          : (n < -(int32_t)MT_PULSE_MAX ? -(int32_t)MT_PULSE_MAX : n);
    if (*ne == ENTRY_CAP) {
      int rc = mt_dev_pulse(dev, tile, s->entries, *ne);
      if (rc != MT_OK) return rc;
      *ne = 0;
    }
    s->entries[(*ne)++] = row << 20 | col << 8 | which << 7 | ((uint32_t)c & 0x7Fu);
    n -= c;
  }
  return MT_OK;
}

static int flush(mt_pulse_state *s, mt_dev *dev, uint32_t tile, uint32_t *ne) {
  int rc = *ne ? mt_dev_pulse(dev, tile, s->entries, *ne) : MT_OK;
  *ne = 0;
  return rc;
}

int mt_pulse_measure(mt_pulse_state *s, mt_dev *dev, uint32_t tile, mt_region r, uint32_t cycles,
                     uint32_t k, float *set, float *rst, float *var_set, float *var_rst,
                     float *g_minus, float *tmp) {
  uint32_t n = r.nrows * r.ncols, ne = 0;
  float *ss = tmp, *qs = tmp + n, *sr = tmp + 2 * n, *qr = tmp + 3 * n, *sm = tmp + 4 * n,
        *g0 = tmp + 5 * n;
  memset(tmp, 0, 5 * n * sizeof *tmp);
  int rc;
  for (uint32_t c = 0; c < cycles; c++) {
    for (uint32_t phase = 0; phase < 3; phase++) {
      if (phase > 0) {
        for (uint32_t e = 0; e < n; e++)
          if ((rc = emit(s, dev, tile, &ne, r.row0 + e / r.ncols, r.col0 + e % r.ncols, 0,
                         phase == 1 ? (int32_t)k : -(int32_t)k)) != MT_OK)
            return rc;
        if ((rc = flush(s, dev, tile, &ne)) != MT_OK) return rc;
      }
      if ((rc = mt_dev_read_cells(dev, tile, r, 0, s->gp, s->gm)) != MT_OK) return rc;
      for (uint32_t e = 0; e < n; e++) {
        float g = s->gp[e];
        sm[e] += s->gm[e];
        if (phase == 1) {
          float d = (g - g0[e]) / (float)k;
          ss[e] += d, qs[e] += d * d;
        } else if (phase == 2) {
          float d = (g0[e] - g) / (float)k; /* g0 holds the read after the SET pulses */
          sr[e] += d, qr[e] += d * d;
        }
        g0[e] = g;
      }
    }
    /* Re-centre every device on g_ref with nominal steps, so that the
     * asymmetry does not walk it to a bound over the cycles. */
    for (uint32_t e = 0; e < n; e++) {
      float off = (float)s->g_ref - g0[e];
      int32_t p = (int32_t)mt_pulse_round_nearest(fabsf(off) / (off > 0 ? s->nom_set : s->nom_rst));
      if ((rc = emit(s, dev, tile, &ne, r.row0 + e / r.ncols, r.col0 + e % r.ncols, 0,
                     off > 0 ? p : -p)) != MT_OK)
        return rc;
    }
    if ((rc = flush(s, dev, tile, &ne)) != MT_OK) return rc;
  }
  float c = (float)cycles;
  for (uint32_t e = 0; e < n; e++) {
    set[e] = ss[e] / c;
    rst[e] = sr[e] / c;
    if (var_set) var_set[e] = cycles > 1 ? fmaxf(qs[e] / c - set[e] * set[e], 0) / (c - 1) : INFINITY;
    if (var_rst) var_rst[e] = cycles > 1 ? fmaxf(qr[e] / c - rst[e] * rst[e], 0) / (c - 1) : INFINITY;
    if (g_minus) g_minus[e] = sm[e] / (3 * c);
  }
  return MT_OK;
}

/* Empirical-Bayes shrinkage of per-device estimates toward the layer mean:
 * prior variance = spread of the estimates - mean estimation variance (ours). */
static void shrink(float *g, const float *var, size_t n, float floor_gain) {
  double sum = 0, sq = 0, noise = 0;
  for (size_t k = 0; k < n; k++) sum += g[k], sq += (double)g[k] * g[k], noise += var[k];
  double mu = sum / n, total = sq / n - mu * mu, nv = noise / n;
  double prior = total - nv > 0 ? total - nv : 0;
  double lambda = prior + nv > 0 ? prior / (prior + nv) : 0;
  for (size_t k = 0; k < n; k++) {
    float v = (float)(mu + lambda * (g[k] - mu));
    g[k] = v > floor_gain ? v : floor_gain;
  }
}

/* Nominal open-loop programming from the reset state: G- to g_ref, G+ to
 * g_ref + w / w_per_g. */
static int program_nominal(mt_pulse_state *s, mt_dev *dev, uint32_t l, const float *w, int with_w) {
  const mt_layer_map_t *m = &s->maps[l];
  const uint32_t *cfg = s->cfg;
  uint32_t p_ref = mt_preset_nominal_set_pulses(cfg, s->g_ref);
  float wpg = s->layer[l].w_per_g;
  for (uint32_t rb = 0; rb < m->row_blocks; rb++)
    for (uint32_t cb = 0; cb < m->col_blocks; cb++) {
      uint32_t tile = tile_of(m, rb, cb), ne = 0;
      mt_region r = block_region(m, rb, cb);
      for (uint32_t i = 0; i < r.nrows; i++)
        for (uint32_t j = 0; j < r.ncols; j++) {
          size_t k = (size_t)(rb * MT_ROWS + i) * m->n_out + cb * MT_COLS + j;
          uint32_t p_plus = p_ref;
          if (with_w) {
            double t = s->g_ref + w[k] / wpg;
            t = t < cfg[MT_CFG_G_MIN] ? cfg[MT_CFG_G_MIN] : (t > cfg[MT_CFG_G_MAX] ? cfg[MT_CFG_G_MAX] : t);
            p_plus = mt_preset_nominal_set_pulses(cfg, (uint32_t)lround(t));
          }
          int rc = emit(s, dev, tile, &ne, i, j, 1, (int32_t)p_ref);
          if (rc == MT_OK) rc = emit(s, dev, tile, &ne, i, j, 0, (int32_t)p_plus);
          if (rc != MT_OK) return rc;
        }
      int rc = flush(s, dev, tile, &ne);
      if (rc != MT_OK) return rc;
    }
  return MT_OK;
}

/* ssm re-initialisation of layer l: measure every G+ device's response at
 * g_ref and G-'s reference, shrink the gains, then program w in closed loop. */
static int reinit_layer(mt_pulse_state *s, mt_dev *dev, uint32_t l, const float *w) {
  const mt_layer_map_t *m = &s->maps[l];
  mt_pulse_layer *pl = &s->layer[l];
  size_t n = (size_t)m->n_in * m->n_out;
  float *vs = malloc(n * sizeof *vs), *vr = malloc(n * sizeof *vr), *ref = malloc(n * sizeof *ref);
  const size_t rc_cells = (size_t)MT_ROWS * MT_COLS;
  float *bs = malloc(5u * rc_cells * sizeof *bs); /* one tile: set, rst, ref, var set, var rst */
  int rc = vs && vr && ref && bs ? program_nominal(s, dev, l, w, 0) : MT_ERR_NOMEM;
  for (uint32_t rb = 0; rc == MT_OK && rb < m->row_blocks; rb++)
    for (uint32_t cb = 0; rc == MT_OK && cb < m->col_blocks; cb++) {
      mt_region r = block_region(m, rb, cb);
      float *bset = bs, *brst = bs + rc_cells, *bref = bs + 2 * rc_cells;
      float *bvs = bs + 3 * rc_cells, *bvr = bs + 4 * rc_cells;
      rc = mt_pulse_measure(s, dev, tile_of(m, rb, cb), r, s->o.calib_cycles, s->o.calib_pulses, bset,
                            brst, bvs, bvr, bref, s->acc);
      for (uint32_t e = 0; rc == MT_OK && e < r.nrows * r.ncols; e++) {
        size_t k = (size_t)(rb * MT_ROWS + e / r.ncols) * m->n_out + cb * MT_COLS + e % r.ncols;
        pl->gain_set[k] = bset[e], pl->gain_rst[k] = brst[e], ref[k] = bref[e];
        vs[k] = bvs[e], vr[k] = bvr[e];
      }
    }
  if (rc == MT_OK) {
    shrink(pl->gain_set, vs, n, 0.25f * s->nom_set);
    shrink(pl->gain_rst, vr, n, 0.25f * s->nom_rst);
  }
  pl->uniform_gains = gains_uniform(pl, n); /* (also where a measurement failed half-way) */
  /* Closed-loop programming of G+ to ref + w / w_per_g with the measured gains. */
  for (uint32_t round = 0; rc == MT_OK && round < INIT_ROUNDS; round++) {
    uint32_t sent = 0;
    for (uint32_t rb = 0; rc == MT_OK && rb < m->row_blocks; rb++)
      for (uint32_t cb = 0; rc == MT_OK && cb < m->col_blocks; cb++) {
        uint32_t tile = tile_of(m, rb, cb), ne = 0;
        mt_region r = block_region(m, rb, cb);
        rc = mt_dev_read_cells(dev, tile, r, 0, s->gp, NULL);
        for (uint32_t e = 0; rc == MT_OK && e < r.nrows * r.ncols; e++) {
          uint32_t i = e / r.ncols, j = e % r.ncols;
          size_t k = (size_t)(rb * MT_ROWS + i) * m->n_out + cb * MT_COLS + j;
          float err = ref[k] + w[k] / pl->w_per_g - (float)s->gp[e];
          float gain = err > 0 ? pl->gain_set[k] : pl->gain_rst[k];
          int32_t p = (int32_t)mt_pulse_round_nearest(fabsf(err) / gain);
          if (p == 0) continue;
          sent++;
          rc = emit(s, dev, tile, &ne, i, j, 0, err > 0 ? p : -p);
        }
        if (rc == MT_OK) rc = flush(s, dev, tile, &ne);
      }
    if (sent == 0) break;
  }
  free(vs);
  free(vr);
  free(ref);
  free(bs);
  return rc;
}

int mt_pulse_program_init(mt_pulse_state *s, mt_dev *dev, const mt_mlp_t *net) {
  for (uint32_t l = 0; l < s->n_layers; l++) {
    int rc = s->o.ssm && s->o.calibrate ? reinit_layer(s, dev, l, net->w[l])
                                        : program_nominal(s, dev, l, net->w[l], 1);
    if (rc != MT_OK) return rc;
  }
  return MT_OK;
}

int mt_pulse_read_weights(mt_pulse_state *s, mt_dev *dev, mt_mlp_t *net, uint32_t first) {
  for (uint32_t l = first; l < s->n_layers; l++) {
    const mt_layer_map_t *m = &s->maps[l];
    float wpg = s->layer[l].w_per_g;
    for (uint32_t rb = 0; rb < m->row_blocks; rb++)
      for (uint32_t cb = 0; cb < m->col_blocks; cb++) {
        mt_region r = block_region(m, rb, cb);
        int rc = mt_dev_read_cells(dev, tile_of(m, rb, cb), r, 0, s->gp, s->gm);
        if (rc != MT_OK) return rc;
        for (uint32_t i = 0; i < r.nrows; i++) {
          float *w = net->w[l] + (size_t)(rb * MT_ROWS + i) * m->n_out + cb * MT_COLS;
          for (uint32_t j = 0; j < r.ncols; j++)
            w[j] = ((float)s->gp[i * r.ncols + j] - (float)s->gm[i * r.ncols + j]) * wpg;
        }
      }
  }
  return MT_OK;
}

/* Reads G+ of the cells of the first n entries (row << 20 | col << 8 | ...) into
 * s->gp, in entry order: one READ_LIST. */
static int read_entries(mt_pulse_state *s, mt_dev *dev, uint32_t tile, const uint32_t *entries,
                        uint32_t n) {
  assert(n <= MT_ROWS * MT_COLS);
  for (uint32_t e = 0; e < n; e++) s->cells[e] = entries[e] & ~0xFFu;
  return mt_dev_read_list(dev, tile, 0, s->cells, n, s->gp, NULL);
}

/* ssm update compensation of one tile: reads each pulsed G+ again and tops
 * up (or takes back) whole pulses where the achieved change missed the
 * intended one by at least half a step. */
static int compensate(mt_pulse_state *s, mt_dev *dev, uint32_t l, uint32_t tile, uint32_t n_sent) {
  const mt_layer_map_t *m = &s->maps[l];
  mt_pulse_layer *pl = &s->layer[l];
  uint32_t ne = 0;
  /* All of them at once (the sent entries are then overwritten by the top-ups: s->cells
   * keeps their cells). Before batching, a top-up PULSE sent when ENTRY_CAP entries had
   * piled up came between two of these reads; now every read comes first (docs/algorithms.md). */
  int rc = read_entries(s, dev, tile, s->entries, n_sent);
  if (rc != MT_OK) return rc;
  const uint32_t *cells = s->cells;
  uint32_t rb = (tile - m->first_tile) / m->col_blocks, cb = (tile - m->first_tile) % m->col_blocks;
  for (uint32_t e = 0; e < n_sent; e++) {
    uint32_t i = cells[e] >> 20, j = (cells[e] >> 8) & 0xFFFu;
    size_t k = (size_t)(rb * MT_ROWS + i) * m->n_out + cb * MT_COLS + j;
    uint16_t g1 = s->gp[e];
    float intended = pl->planned[k] * (pl->planned[k] > 0 ? pl->gain_set[k] : pl->gain_rst[k]);
    float shortfall = intended - ((float)g1 - (float)pl->g_before[k]);
    float gain = shortfall > 0 ? pl->gain_set[k] : pl->gain_rst[k];
    int32_t p = (int32_t)mt_pulse_round_nearest(fabsf(shortfall) / gain);
    if (p == 0) continue;
    s->topups++;
    if ((rc = emit(s, dev, tile, &ne, i, j, 0, shortfall > 0 ? p : -p)) != MT_OK) return rc;
  }
  return flush(s, dev, tile, &ne);
}

int mt_pulse_step(mt_pulse_state *s, mt_dev *dev, mt_mlp_t *net, const mt_mlp_work_t *wk,
                  uint32_t batch, float lr) {
  const int ssm = s->o.ssm, comp = s->o.ssm && s->o.compensate;
  const float beta = s->o.momentum;
  for (uint32_t l = 0; l < s->n_layers; l++) {
    const mt_layer_map_t *m = &s->maps[l];
    mt_pulse_layer *pl = &s->layer[l];
    /* ssm's weight momentum is taken row by row below (mt_ssm_row), where the plan reads it
     * from cache; a row with no gradient plans no pulse and takes no stochastic-rounding draw
     * (dead ReLU units, blank pixels at batch 1): most rows of the first layer */
    if (ssm) mt_pulse_momentum(pl->vel_b, wk->gb[l], m->n_out, beta);
    const float *gb = ssm ? pl->vel_b : wk->gb[l];
    for (uint32_t j = 0; j < m->n_out; j++) net->b[l][j] -= lr * gb[j];
    for (uint32_t rb = 0; rb < m->row_blocks; rb++)
      for (uint32_t cb = 0; cb < m->col_blocks; cb++) {
        uint32_t tile = tile_of(m, rb, cb), ne = 0;
        mt_region r = block_region(m, rb, cb);
        if (ssm && !comp && r.ncols == m->n_out) {
          /* the layer's outputs fit the tile: its rows are one after the other in the layer's
           * arrays, and go through in one pass */
          size_t k0 = (size_t)rb * MT_ROWS * m->n_out;
          ne = mt_ssm_rows(s->entries, pl->vel_w + k0, wk->gw[l] + k0, pl->gain_set + k0,
                           pl->gain_rst + k0, pl->uniform_gains, lr, pl->w_per_g, beta, r.nrows,
                           r.ncols, &s->rng);
        } else {
          for (uint32_t i = 0; i < r.nrows; i++) {
            size_t k0 = (size_t)(rb * MT_ROWS + i) * m->n_out + cb * MT_COLS;
            if (!ssm) {
              /* A row without input has a +0 gradient (mt_nn.h): it is not even read (blank
               * pixels at batch 1, most rows of the first layer). */
              if (mt_mlp_grad_row_unfed(net, wk, l, batch, rb * MT_ROWS + i)) continue;
              ne += mt_sgd_row(s->entries + ne, wk->gw[l] + k0, pl->gain_set + k0,
                               pl->gain_rst + k0, pl->uniform_gains, lr, pl->w_per_g, i, r.ncols);
            } else if (!comp) {
              ne += mt_ssm_row(s->entries + ne, pl->vel_w + k0, wk->gw[l] + k0, pl->gain_set + k0,
                               pl->gain_rst + k0, pl->uniform_gains, lr, pl->w_per_g, beta, i,
                               r.ncols, &s->rng);
            } else {
              /* with compensation the plan is kept, for compensate() to read back */
              mt_pulse_momentum(pl->vel_w + k0, wk->gw[l] + k0, r.ncols, beta);
              if (mt_all_zero(pl->vel_w + k0, r.ncols)) continue;
              int32_t pr[MT_COLS];
              mt_pulse_plan_stochastic(pr, pl->vel_w + k0, pl->gain_set + k0, pl->gain_rst + k0, lr,
                                       pl->w_per_g, r.ncols, &s->rng);
              int8_t *planned = pl->planned + k0; /* (a store through pl->planned may alias pl) */
              for (uint32_t j = 0; j < r.ncols; j++) planned[j] = (int8_t)pr[j];
              ne += mt_compact_row(s->entries + ne, pr, i, r.ncols);
            }
          }
        }
        if (ne == 0) continue;
        /* ssm compensation: G+ of every weight to pulse, before the pulses (one READ_LIST,
         * in the order the cell-by-cell reads had) */
        if (comp) {
          int rc = read_entries(s, dev, tile, s->entries, ne);
          for (uint32_t e = 0; rc == MT_OK && e < ne; e++) {
            uint32_t i = s->entries[e] >> 20, j = (s->entries[e] >> 8) & 0xFFFu;
            pl->g_before[(size_t)(rb * MT_ROWS + i) * m->n_out + cb * MT_COLS + j] = s->gp[e];
          }
          if (rc != MT_OK) return rc;
        }
        int rc = mt_dev_pulse(dev, tile, s->entries, ne);
        if (rc == MT_OK && comp) rc = compensate(s, dev, l, tile, ne);
        if (rc != MT_OK) return rc;
      }
  }
  return MT_OK;
}

/* ---- checkpoints ---------------------------------------------------------- */

void mt_pulse_save(const mt_pulse_state *s, mt_wbuf *b) {
  mt_wbuf_u64(b, s->rng);
  mt_wbuf_u64(b, s->topups);
  for (uint32_t l = 0; l < s->n_layers; l++) {
    const mt_pulse_layer *pl = &s->layer[l];
    size_t n = (size_t)s->maps[l].n_in * s->maps[l].n_out;
    mt_wbuf_f32(b, pl->gain_set, n);
    mt_wbuf_f32(b, pl->gain_rst, n);
    if (s->o.ssm) {
      mt_wbuf_f32(b, pl->vel_w, n);
      mt_wbuf_f32(b, pl->vel_b, s->maps[l].n_out);
    }
  }
}

int mt_pulse_load(mt_pulse_state *s, mt_rbuf *b, char *err, size_t errlen) {
  s->rng = mt_rbuf_u64(b);
  s->topups = mt_rbuf_u64(b);
  for (uint32_t l = 0; l < s->n_layers && !b->short_read; l++) {
    mt_pulse_layer *pl = &s->layer[l];
    size_t n = (size_t)s->maps[l].n_in * s->maps[l].n_out;
    mt_rbuf_f32(b, pl->gain_set, n);
    mt_rbuf_f32(b, pl->gain_rst, n);
    if (s->o.ssm) {
      mt_rbuf_f32(b, pl->vel_w, n);
      mt_rbuf_f32(b, pl->vel_b, s->maps[l].n_out);
    }
    for (size_t k = 0; k < n && !b->short_read; k++) {
      /* A gain divides every update: it must be a positive finite number. */
      if (!(pl->gain_set[k] > 0) || !(pl->gain_rst[k] > 0) || !isfinite(pl->gain_set[k]) ||
          !isfinite(pl->gain_rst[k])) {
        snprintf(err, errlen, "pulse gain of layer %u, weight %zu is %g / %g (must be positive)",
                 l, k, (double)pl->gain_set[k], (double)pl->gain_rst[k]);
        return -1;
      }
    }
    pl->uniform_gains = gains_uniform(pl, n);
  }
  if (b->short_read) {
    snprintf(err, errlen, "the pulse trainer's state is cut short");
    return -1;
  }
  return 0;
}

/* ---- the `sgd-pulse` and `ssm` algorithms (mt_algo.h) ---- */

static int pulse_create(mt_trainer *t) {
  t->state = calloc(1, sizeof(mt_pulse_state));
  return t->state ? 0 : mt_trainer_fail(t, MT_ERR_NOMEM, "out of memory");
}

static void pulse_destroy(mt_trainer *t) {
  if (!t->state) return;
  mt_pulse_free(t->state);
  free(t->state);
  t->state = NULL;
}

static int pulse_setup(mt_trainer *t) {
  const mt_train_opts *o = t->o;
  const int ssm = o->algo == MT_ALGO_SSM;
  /* sgd-pulse reads no gradient row of an unfed input (mt_pulse_step asks over o->batch
   * examples, the workspace's max_batch, as backward does): backward need not clear them
   * (ssm's momentum reads every row) */
  t->wk.gw_fed_only = !ssm;
  mt_pulse_opts po = {.ssm = ssm,
                      .compensate = ssm && o->ssm_compensate,
                      .calibrate = ssm && o->ssm_calibrate,
                      .momentum = o->momentum,
                      .seed = o->seed,
                      .calib_cycles = MT_SSM_CALIB_CYCLES,
                      .calib_pulses = MT_SSM_CALIB_PULSES};
  return mt_pulse_init(t->state, &po, t->preset, t->maps, o->n_layers, t->err, t->errlen);
}

static int pulse_program_init(mt_trainer *t) {
  return mt_pulse_program_init(t->state, t->dev, &t->net) == MT_OK ? 0 : mt_trainer_dev_fail(t);
}

/* The backward pass uses the weights read from the device (layer 0's are not needed by it). */
static int pulse_after_forward(mt_trainer *t) {
  return mt_pulse_read_weights(t->state, t->dev, &t->net, 1) == MT_OK ? 0 : mt_trainer_dev_fail(t);
}

static int pulse_step(mt_trainer *t) {
  return mt_pulse_step(t->state, t->dev, &t->net, &t->wk, t->o->batch, t->o->lr) == MT_OK
             ? 0
             : mt_trainer_dev_fail(t);
}

static void ssm_fingerprint(const mt_trainer *t, mt_fp *fp) {
  mt_fp_add(fp, "momentum", MT_FP_FLOAT, mt_fp_f32(t->o->momentum));
  mt_fp_add(fp, "ssm-compensate", MT_FP_INT, t->o->ssm_compensate);
  mt_fp_add(fp, "ssm-calibrate", MT_FP_INT, t->o->ssm_calibrate);
}

static void pulse_save(const mt_trainer *t, mt_wbuf *b) { mt_pulse_save(t->state, b); }

static int pulse_load(mt_trainer *t, mt_rbuf *b) {
  return mt_pulse_load(t->state, b, t->err, t->errlen);
}

const mt_algo_ops mt_algo_sgd_pulse = {
  .name = "sgd-pulse",
  .flags = MT_ALGO_F_DEVICE | MT_ALGO_F_DEV_FWD,
  .create = pulse_create,
  .destroy = pulse_destroy,
  .setup = pulse_setup,
  .program_init = pulse_program_init,
  .after_forward = pulse_after_forward,
  .step = pulse_step,
  .save = pulse_save,
  .load = pulse_load,
};

const mt_algo_ops mt_algo_ssm = {
  .name = "ssm",
  .flags = MT_ALGO_F_DEVICE | MT_ALGO_F_DEV_FWD,
  .create = pulse_create,
  .destroy = pulse_destroy,
  .setup = pulse_setup,
  .program_init = pulse_program_init,
  .after_forward = pulse_after_forward,
  .step = pulse_step,
  .fingerprint = ssm_fingerprint,
  .save = pulse_save,
  .load = pulse_load,
};
