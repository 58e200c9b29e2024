/* Mapping-aware biased training (Diware et al. 2023) and the device
 * characterization it needs (`memtile characterize`, `--algo biased` and
 * `--algo conventional`). docs/algorithms.md describes both; internal to the
 * host library.
 *
 * Characterization: cells of a freshly fabricated tile are programmed to each
 * level by write-verify (PROGRAM, the device's normal programming) and read
 * back with noisy READ_CELLS, averaged over a few reads; per level the mean
 * and standard deviation of the achieved weight D = g+ - g- are reported.
 * The K levels of lowest sigma are "favourable".
 *
 * Biased training: float SGD on the host. A fraction P of each layer, chosen
 * at the start of every epoch (the crossbar columns of largest gradient
 * saliency over the last epoch, or the single weights of largest |latent|),
 * is constrained: the forward pass uses those weights projected onto the
 * nearest favourable level, the gradient updates the latent weight
 * (straight-through). `conventional` is the same training with P = 0. The
 * network is programmed onto the device and evaluated there after every
 * epoch; with --val the epoch of best validation accuracy is the result, and
 * --draws programs the result on more dies. */
#ifndef MT_ALGO_BIASED_H
#define MT_ALGO_BIASED_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"
#include "memtile_char.h" /* MT_CHAR_DEFAULT_SAMPLES, MT_CHAR_DEFAULT_READS */
#include "mt_ckpt.h"
#include "mt_map.h"
#include "mt_nn.h"
#include "mt_preset.h"
#include "mt_train.h" /* mt_importance */

#define MT_CHAR_SEED_XOR 0xC4A7ull   /* the characterization tile is another die (ours) */

typedef struct {
  uint32_t levels, samples, reads, favourable_k;
  uint64_t seed;
  double level_step;                  /* g units of D per level (mt_map_level_step) */
  double read_sigma;                  /* the preset's read sigma (g units), for the report */
  double target[MT_MAX_LEVELS];       /* D_q of the level table, g units */
  double mean[MT_MAX_LEVELS];         /* mean achieved D, g units */
  double sigma[MT_MAX_LEVELS];        /* standard deviation of the achieved D, g units */
  double rms[MT_MAX_LEVELS];          /* root mean square of (achieved - target), g units */
  uint32_t wv_failures[MT_MAX_LEVELS];/* devices whose write-verify did not converge */
  uint8_t favourable[MT_MAX_LEVELS];  /* 1 for the favourable levels */
} mt_charac;

/* Applies the preset to dev and characterizes tile `tile` (fabricated anew
 * from `seed`, once per round of ROWS x COLS cells): `samples` cells per
 * level, each read `reads` times. favourable_k (1..L; 0 = ceil(L/2)) levels
 * of lowest sigma are marked favourable (ties: the lower level index). The
 * tile is left fabricated and programmed. 0, or -1 with a message. */
int mt_characterize(mt_dev *dev, const mt_preset_t *p, uint32_t tile, uint64_t seed,
                    uint32_t samples, uint32_t reads, uint32_t favourable_k, mt_charac *out,
                    char *err, size_t errlen);

/* The same, also storing every cell's achieved weight (g units, the mean of its reads) in
 * achieved[q * samples + i] (L * samples values) for the distribution plots. */
int mt_characterize_samples(mt_dev *dev, const mt_preset_t *p, uint32_t tile, uint64_t seed,
                            uint32_t samples, uint32_t reads, uint32_t favourable_k, mt_charac *out,
                            float *achieved, char *err, size_t errlen);

/* Marks the favourable_k (0 = ceil(L/2)) levels of lowest sigma in c->sigma. */
void mt_charac_select(mt_charac *c, uint32_t favourable_k);

/* Writes the characterization as JSON (preset name for the record). 0 or -1. */
int mt_charac_write_json(const mt_charac *c, const char *preset_name, const char *path,
                         char *err, size_t errlen);

/* State of conventional/biased training for one network.
 *
 * A crossbar column of layer l is output j's weights on one tile: column
 * c = r * n_out + j holds the weights w[i * n_out + j] of the rows i of row
 * block r (i / MT_ROWS == r), as mt_map lays them out (with --slices, every
 * slice's tile has the same columns). */
typedef struct {
  uint32_t n_layers;
  size_t n_w[MT_NN_MAX_LAYERS];           /* weights of layer l (its map's n_in x n_out) */
  uint32_t n_b[MT_NN_MAX_LAYERS];         /* biases of layer l (its map's n_out) */
  uint32_t n_col[MT_NN_MAX_LAYERS];       /* crossbar columns of layer l (row blocks x n_out) */
  float important[MT_NN_MAX_LAYERS];      /* fraction P of each layer that is constrained */
  mt_importance mode;                     /* columns by saliency, or weights by magnitude */
  float *latent[MT_NN_MAX_LAYERS];        /* the trained float weights */
  uint8_t *mask[MT_NN_MAX_LAYERS];        /* 1 = constrained (important) */
  float *fav_w[MT_NN_MAX_LAYERS];         /* weights of the favourable levels, ascending */
  uint32_t n_fav;
  float lim[MT_NN_MAX_LAYERS];            /* weight of the top level: latent weights are clipped */
  /* saliency: per column the sum of |w dL/dw| over the steps since the last selection */
  double *col_sal[MT_NN_MAX_LAYERS];
  uint64_t sal_steps;                     /* steps summed in col_sal (0: none yet) */
  double *score;                          /* |latent| of one layer, for the selection */
  double *sorted;                         /* scores of one layer (weights or columns), sorted */
  uint8_t *col_mask;                      /* chosen columns of one layer */
} mt_biased_state;

/* Allocates the state for net mapped by maps; the latent weights start as
 * net's. favourable has L flags (may be NULL when no fraction is > 0);
 * important has one fraction per layer (NULL: none constrained). */
int mt_biased_init(mt_biased_state *s, const mt_mlp_t *net, const mt_layer_map_t *maps,
                   const uint8_t *favourable, const float *important, mt_importance mode,
                   char *err, size_t errlen);
void mt_biased_free(mt_biased_state *s);

/* Replaces layer l's favourable weights by vals (n ascending values; every
 * layer must get the same n) and its clipping limit by lim: bit-sliced
 * layers constrain codes, not levels (mt_slice_allowed). 0, or -1 with a
 * message. */
int mt_biased_use_values(mt_biased_state *s, uint32_t l, const float *vals, uint32_t n, float lim,
                         char *err, size_t errlen);
/* Chooses the constrained weights of every layer and writes the effective
 * weights to net. Magnitude: the ceil(P n) largest |latent| of the layer's n
 * weights. Saliency: every weight of the ceil(P C) of its C columns of largest
 * col_sal (before any step has been summed: of largest sum of |latent| over
 * the column). Ties go to the lower index. The saliency sums then restart. */
void mt_biased_select(mt_biased_state *s, mt_mlp_t *net);

/* Saliency: adds |w dL/dw| of the last batch (net's effective weights, the
 * gradients in wk) to each weight's column. Nothing in magnitude mode. */
void mt_biased_accumulate(mt_biased_state *s, const mt_mlp_t *net, const mt_mlp_work_t *wk);

/* Nearest favourable weight of layer l to w (the lower one on a tie). */
float mt_biased_project(const mt_biased_state *s, uint32_t l, float w);

/* SGD on the latent weights (clipped to the top level) and biases, then the
 * effective weights (constrained ones projected) into net. */
void mt_biased_step(mt_biased_state *s, mt_mlp_t *net, const mt_mlp_work_t *wk, float lr);

/* Checkpoints (the algorithm's section, mt_train_ckpt.c). The characterization as
 * measured (every field, so a resumed run needs no new measurement and keeps the same favourable set); mt_charac_load checks
 * it against the run's level count (and favourable_k unless 0) and that the favourable
 * flags are 0/1 and as many as favourable_k. The training state a later epoch reads: the
 * latent weights (the masks and effective weights are rebuilt from them at the start of
 * every epoch; the favourable weights and limits come from the maps and the restored
 * characterization); in saliency mode also the column sums of the epoch and their step
 * count, which the next epoch's selection reads. mt_biased_load checks each weight is within
 * the top level's weight (or NaN, which a diverged run carries) and each sum is >= 0 (or NaN).
 * Sizes come from the state, never from the stream.
 * Both return 0, or -1 with a message; on -1 the destination is partly overwritten and
 * must be discarded. */
void mt_charac_save(const mt_charac *c, mt_wbuf *b);
int mt_charac_load(mt_charac *c, mt_rbuf *b, uint32_t levels, uint32_t favourable_k, char *err,
                   size_t errlen);
void mt_biased_save(const mt_biased_state *s, mt_wbuf *b);
int mt_biased_load(mt_biased_state *s, mt_rbuf *b, char *err, size_t errlen);

#endif
