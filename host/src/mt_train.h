/* In-situ training of an MLP on an emulated device (docs/algorithms.md).
 *
 * Forward passes run on the device (noisy, quantized MVMs through the layer
 * maps); backward passes run in float on the host with the activations the
 * device produced. The algorithm decides what is programmed after each step. */
#ifndef MT_TRAIN_H
#define MT_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"
#include "memtile_train.h" /* mt_epoch_stats, MT_TRAIN_MAX_TASKS */
#include "mt_dataset.h"
#include "mt_nn.h"
#include "mt_preset.h"

/* The algorithms (docs/algorithms.md), one per line of mt_algos.def. */
typedef enum {
#define MT_ALGO_ENTRY(ID, OPS) MT_ALGO_##ID,
#include "mt_algos.def"
#undef MT_ALGO_ENTRY
  MT_ALGO_COUNT
} mt_algo;

typedef enum { MT_COMP_NONE, MT_COMP_READBACK } mt_compensation;

/* float/metaplastic: what turns the gradients into steps (docs/algorithms.md "Optimizers"). */
typedef enum { MT_OPTIM_SGD, MT_OPTIM_ADAM } mt_optimizer;

/* biased: how the constrained part of a layer is chosen (docs/algorithms.md). */
typedef enum {
  MT_IMPORTANCE_SALIENCY,  /* crossbar columns, by the gradient saliency of the last epoch */
  MT_IMPORTANCE_MAGNITUDE, /* single weights, by |latent weight| */
} mt_importance;

typedef struct {
  mt_algo algo;
  uint32_t sizes[MT_NN_MAX_LAYERS + 1];
  uint32_t n_layers;
  mt_layer_spec spec[MT_NN_MAX_LAYERS]; /* conv layers (all zero: an MLP); from mt_net_parse */
  uint32_t epochs, batch;
  float lr;
  uint64_t seed;
  uint32_t accumulate;            /* siamese: apply the summed gradient every K steps */
  mt_compensation compensate;     /* siamese: carry the programming error into the next target */
  float w_max_factor;             /* top level = factor x the layer's initial weight bound */
  uint32_t open_loop;             /* program by nominal pulses instead of write-verify */
  float momentum;                 /* ssm: beta of the gradient momentum */
  uint32_t ssm_compensate;        /* ssm: read each pulsed G+ before and after, top up misses */
  uint32_t ssm_calibrate;         /* ssm: measure every device's response at initialisation */
  uint32_t changed_only;          /* closed-loop: write-verify only the weights whose level changed */
  uint32_t val;                   /* the last val training examples of each task are held out
                                   * as its validation split (0: none) */
  float important;                /* biased: fraction of each layer constrained (columns/weights) */
  uint32_t n_important;           /* biased: 0, or per-layer fractions in important_layer (as many as
                                   * n_layers: checked when the run starts) */
  float important_layer[MT_NN_MAX_LAYERS];
  mt_importance importance;       /* biased: columns by saliency (default) or weights by magnitude */
  uint32_t draws;                 /* conventional/biased: > 1 programs the final network on this many
                                   * more dies after the last epoch (0 and 1: none) */
  uint32_t n_drift_t;             /* "drift-eval": after the last epoch, drift the network on the
                                   * device to each of these times (s after programming, increasing)
                                   * and test it there (0: none) */
  double drift_t[MT_TRAIN_MAX_DRIFT_T];
  uint32_t favourable_k;          /* biased: favourable levels from the characterization (0: ceil-ish 3L/4) */
  uint32_t slices;                /* conventional/biased: 0, or weights bit-sliced onto this many
                                   * devices (mt_slice.h) */
  float meta_m;                   /* metaplastic: consolidation strength m, weight range
                                   * normalised to [-1, 1] (0 = no metaplasticity) */
  mt_optimizer optimizer;         /* float/metaplastic: sgd (default) or adam */
  float adam_beta1, adam_beta2, adam_eps; /* adam: its hyper-parameters (mt_optim.h) */
  uint32_t batchnorm;             /* float/metaplastic: BatchNorm on the hidden layers, on the
                                   * host (mt_mlp_enable_bn); needs batch >= 2 */
  uint32_t bn_per_task;           /* --batchnorm-state per-task (with batchnorm and several tasks):
                                   * each task's BatchNorm state is kept as its training left it
                                   * and restored to test that task (D'Agostino's parent code) */
  const char *checkpoint;         /* if set: the whole experiment is saved here after every epoch */
  const char *resume;             /* if set: continue the experiment saved in this checkpoint */
} mt_train_opts;

/* Default options for an algorithm (documented in docs/algorithms.md). */
void mt_train_defaults(mt_train_opts *o);

/* biased: the constrained fraction of layer l (important_layer[l], or important for all). */
float mt_train_important(const mt_train_opts *o, uint32_t l);

/* --important: one fraction in [0, 1], or a comma list of them (at most MT_NN_MAX_LAYERS),
 * into o (n_important 0 for one value). 0, or -1 if text is neither (o unchanged). */
int mt_train_parse_important(const char *text, mt_train_opts *o);

typedef struct {
  /* called after every batch: examples done of total in this epoch */
  void (*progress)(void *ctx, uint32_t epoch, uint32_t done, uint32_t total, double loss);
  /* called after every epoch, before its checkpoint is written (so a log
   * written here is never behind the checkpoint); returns 0 to go on, > 0 to
   * stop after this epoch (which is checkpointed), < 0 to stop because the
   * hook failed (the epoch is then not checkpointed: the checkpoint stays
   * behind the log, and a resume cuts the log back) */
  int (*epoch_done)(void *ctx, const mt_epoch_stats *s);
  void *ctx;
  /* --resume: called once the checkpoint is restored, with the epochs it
   * holds (numbered across tasks), before any training, so that a log can be
   * cut back to them (mt_log_resume); returns non-zero to fail the run. May
   * be NULL. */
  int (*resumed)(void *ctx, uint32_t epochs);
} mt_train_hooks;

/* Trains. dev and preset are NULL for MT_ALGO_FLOAT. Returns 0 or an MT_ERR_*
 * code with a message in err: MT_ERR_INVAL (options, network and data that do
 * not fit together), MT_ERR_NOMEM, MT_ERR_FILE (a checkpoint's content),
 * MT_ERR_IO (a checkpoint or log file), or the device's own code (mt_dev_errcode:
 * MT_ERR_DEVICE, MT_ERR_IO, MT_ERR_TIMEOUT, MT_ERR_PROTOCOL, ...). */
int mt_train_run(const mt_train_opts *o, const mt_dataset_t *train, const mt_dataset_t *test,
                 mt_dev *dev, const mt_preset_t *preset, const mt_train_hooks *hooks, char *err,
                 size_t errlen);

/* Trains on n_tasks datasets in turn (continual learning), o->epochs epochs
 * each, and after every epoch tests on every task's test set. With o->val, the last
 * o->val examples of each training set are held out and measured after every epoch
 * (mt_epoch_stats.val_accuracy); a split that leaves none to train on fails. The datasets
 * must have the same image size and class count. Epochs are numbered across
 * tasks (task k's are (k-1)*epochs+1 .. k*epochs); test_accuracy is the
 * current task's. A checkpoint holds the task and its epoch as well; with several
 * tasks, --epochs must then match on resume. 0, or an MT_ERR_* code as above. */
int mt_train_run_tasks(const mt_train_opts *o, uint32_t n_tasks, const mt_dataset_t *train,
                       const mt_dataset_t *test, mt_dev *dev, const mt_preset_t *preset,
                       const mt_train_hooks *hooks, char *err, size_t errlen);

/* --optimizer and --batchnorm against the algorithm and the batch: 0, or MT_ERR_INVAL with
 * a message naming the option, its value and the algorithm. */
int mt_train_check_optim(const mt_train_opts *o, char *err, size_t errlen);
const char *mt_optimizer_name(mt_optimizer k);
int mt_optimizer_parse(const char *name, mt_optimizer *out);

/* --drift-eval: a comma list of at most MT_TRAIN_MAX_DRIFT_T times in seconds after
 * programming, each >= 0 and <= 1e18, increasing, into o. 0, or -1 with a message in err
 * naming the bad element (o unchanged). */
int mt_train_parse_drift_eval(const char *text, mt_train_opts *o, char *err, size_t errlen);

/* Tiles the network of o needs on a device (bit slicing included). */
uint32_t mt_train_tiles_needed(const mt_train_opts *o);

const char *mt_algo_name(mt_algo a);
int mt_algo_parse(const char *name, mt_algo *out);

#endif
