/* Open-loop pulse training: `sgd-pulse` (the naive in-situ baseline) and
 * `ssm` (Wang et al. 2019: Stochastic Sparse learning with Momentum
 * adaptation). docs/algorithms.md describes both; internal to the trainer.
 *
 * Pair scheme (ours): G- of every weight is a fixed reference set once at
 * initialisation; G+ carries the weight, w = (g+ - g-) x w_per_g, with SET
 * pulses on G+ for positive and RESET pulses on G+ for negative updates. The
 * host keeps no copy of the weights: they are the conductances, and the
 * backward pass reads them from the device (noisy READ_CELLS). */
#ifndef MT_ALGO_SSM_H
#define MT_ALGO_SSM_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"
#include "mt_ckpt.h"
#include "mt_map.h"
#include "mt_nn.h"
#include "mt_preset.h"

#define MT_SSM_CALIB_CYCLES 16u /* ssm re-initialisation: measurement cycles per device (ours) */
#define MT_SSM_CALIB_PULSES 4u  /* ssm re-initialisation: SET (then RESET) pulses per cycle (ours) */
#define MT_PULSE_MAX 63u /* largest pulse count of one PULSE entry, also the per-step clip */

typedef struct {
  int ssm;        /* 0: sgd-pulse; 1: ssm (momentum and stochastic rounding, open loop) */
  /* ssm's read-based parts (ours, off by default: the SSM paper programs without reading):
   * compensate reads every pulsed G+ before and after its pulses and tops up large misses;
   * calibrate measures every G+ device's response at initialisation (per-device gains) and
   * programs the initial weights in closed loop */
  int compensate, calibrate;
  float momentum; /* ssm: beta of v = beta v + g */
  uint64_t seed;  /* host PRNG of the stochastic rounding */
  /* re-initialisation measurement: cycles of (k SET, k RESET) per G+ device */
  uint32_t calib_cycles, calib_pulses;
} mt_pulse_opts;

typedef struct {
  float w_per_g;              /* weight of one g unit of g+ - g- */
  float *gain_set, *gain_rst; /* g units per pulse of each G+ device (nominal, or measured) */
  int uniform_gains;          /* every gain_set is one value, every gain_rst one value (the
                               * nominal gains): the row plans load none (mt_pulse_row.h) */
  float *vel_w, *vel_b;       /* momentum */
  int8_t *planned;            /* ssm: pulses of this step per weight (workspace) */
  uint16_t *g_before;         /* G+ read before the pulses (workspace) */
} mt_pulse_layer;

typedef struct {
  mt_pulse_opts o;
  const uint32_t *cfg;
  uint32_t n_layers;
  mt_layer_map_t *maps;
  mt_pulse_layer layer[MT_NN_MAX_LAYERS];
  uint32_t g_ref;            /* reference state of both devices, g units */
  float nom_set, nom_rst;    /* nominal step per pulse at g_ref, g units */
  uint64_t rng;
  uint32_t *entries;         /* workspace: PULSE entries of one tile */
  uint16_t *gp, *gm;         /* workspace: one tile of reads */
  float *acc;                /* workspace: one tile of sums */
  uint32_t *cells;           /* workspace: the cells of one tile's sent PULSE entries */
  uint64_t topups;           /* compensation pulses' entries issued (ssm, compensate) */
} mt_pulse_state;

/* Allocates the state for layers mapped by maps (sizes from maps). Returns 0,
 * or -1 with a message. */
int mt_pulse_init(mt_pulse_state *s, const mt_pulse_opts *o, const mt_preset_t *p,
                  mt_layer_map_t *maps, uint32_t n_layers, char *err, size_t errlen);
void mt_pulse_free(mt_pulse_state *s);

/* Programs the initial weights w (per layer, row-major) by pulses: open loop with
 * nominal pulse counts; ssm with calibrate after re-initialisation (response
 * measurement, per-device gains) and in closed loop with those gains. */
int mt_pulse_program_init(mt_pulse_state *s, mt_dev *dev, const mt_mlp_t *net);

/* Reads the weights of layers first.. from the device into net->w. */
int mt_pulse_read_weights(mt_pulse_state *s, mt_dev *dev, mt_mlp_t *net, uint32_t first);

/* One training step from the gradients in wk of at most `batch` examples (the run's batch
 * size): biases on the host, weights by pulses. */
int mt_pulse_step(mt_pulse_state *s, mt_dev *dev, mt_mlp_t *net, const mt_mlp_work_t *wk,
                  uint32_t batch, float lr);

/* Checkpoints (the algorithm's section, mt_train_ckpt.c): everything a later step
 * reads that is not derived from the options and the preset: the stochastic-rounding generator, the compensation count, and
 * per layer the gains of every G+ device and (ssm) the momentum of weights and biases.
 * g_ref, the nominal steps and w_per_g are recomputed by mt_pulse_init (the checkpoint's
 * preset fingerprint guarantees the same values). The sizes come from s, set up by
 * mt_pulse_init with the run's options, never from the stream. mt_pulse_load returns 0,
 * or -1 with a message (short stream, or a gain that is not a positive finite number);
 * on -1 s is partly overwritten and must be discarded. */
void mt_pulse_save(const mt_pulse_state *s, mt_wbuf *b);
int mt_pulse_load(mt_pulse_state *s, mt_rbuf *b, char *err, size_t errlen);

/* Pulse count for |x| pulses, clipped to MT_PULSE_MAX (0 for NaN): round half
 * up, floor(|x| + 1/2), or stochastic, floor(|x|) + Bernoulli(frac(|x|)) from
 * the host generator *rng. */
uint32_t mt_pulse_round_nearest(float x_abs);
uint32_t mt_pulse_round_stochastic(float x_abs, uint64_t *rng);
/* ssm's plan of one row of n (<= MT_COLS) weights: p[j] is the signed pulse count of the
 * wanted change d = -lr g[j] / w_per_g, mt_pulse_round_stochastic(|d| / gain) with the gain
 * of its direction (gs[j] where d > 0, else gr[j]), the draws taken from *rng in the order
 * of j: the same counts and the same *rng as those n calls, computed side by side. */
void mt_pulse_plan_stochastic(int32_t *p, const float *g, const float *gs, const float *gr,
                              float lr, float w_per_g, uint32_t n, uint64_t *rng);
/* v[k] = beta v[k] + g[k]. */
void mt_pulse_momentum(float *v, const float *g, size_t n, float beta);

/* Measures the G+ response of region r of a tile: `cycles` cycles of
 * (read, k SET, read, k RESET, read, re-centre to g_ref), one noisy read per
 * point. Writes per weight the mean SET and RESET step (g units per pulse)
 * and the variance of that mean; g_minus (may be NULL) gets the mean G- read.
 * tmp needs 6 x r.nrows x r.ncols floats of workspace. */
int mt_pulse_measure(mt_pulse_state *s, mt_dev *dev, uint32_t tile, mt_region r, uint32_t cycles,
                     uint32_t k, float *set, float *rst, float *var_set, float *var_rst,
                     float *g_minus, float *tmp);

#endif
