/* The interface every training algorithm implements (docs/extending.md), as
 * the backends implement mt_backend.h: mt_train.c runs the loop and calls an
 * algorithm only through its mt_algo_ops; mt_algos.def lists them. Internal
 * to the host library.
 *
 * A hook returns 0, or a negative MT_ERR_* code with a message in t->err
 * (mt_trainer_fail, or mt_trainer_dev_fail when the device refused: its message
 * and its class then explain); the loop passes the code on unchanged. */
#ifndef MT_ALGO_H
#define MT_ALGO_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"
#include "mt_ckpt.h"
#include "mt_map.h"
#include "mt_nn.h"
#include "mt_optim.h"
#include "mt_preset.h"
#include "mt_train.h"

/* What the loop needs to know about an algorithm. */
enum {
  MT_ALGO_F_DEVICE = 1u << 0,  /* needs a device and a preset */
  MT_ALGO_F_DEV_FWD = 1u << 1, /* the training forward passes run on the device */
  MT_ALGO_F_SLICES = 1u << 2,  /* accepts --slices (bit-sliced weights) */
  MT_ALGO_F_OFFLINE = 1u << 3, /* trained off the device and programmed after every epoch: the
                                * network can be programmed again (--draws) */
  MT_ALGO_F_HOST_OPTIM = 1u << 4, /* its step is the trainer's optimizer (mt_trainer_step_dirs):
                                   * accepts --optimizer adam and --batchnorm */
};

/* Option fingerprint of a checkpoint: named values that must match between
 * the saved run and the resumed one (mt_train.c checks and names them). */
typedef enum { MT_FP_INT, MT_FP_FLOAT, MT_FP_ALGO, MT_FP_HEX, MT_FP_OPTIM } mt_fp_kind;
#define MT_FP_MAX 128     /* the longest fingerprint (8 layers, 8 tasks, --val) has < 100 entries */
#define MT_FP_NAME_MAX 40 /* longest entry name */
typedef struct {
  uint32_t n;
  struct {
    const char *name;
    mt_fp_kind kind;
    uint32_t value;
  } e[MT_FP_MAX];
} mt_fp;
void mt_fp_add(mt_fp *fp, const char *name, mt_fp_kind kind, uint32_t value);
uint32_t mt_fp_f32(float f); /* the bits of f, for MT_FP_FLOAT */

/* The run an algorithm works in: the options, the device, the float network
 * and the layer maps. Owned by mt_train.c; an algorithm keeps its own state
 * in t->state (allocated by its create hook, released by its destroy hook). */
typedef struct mt_trainer {
  const mt_train_opts *o;
  const struct mt_algo_ops *ops;
  void *state;
  mt_dev *dev;
  const mt_preset_t *preset;           /* as given (the level table the maps use) */
  mt_mlp_t net;                        /* the float weights (what the device should hold) */
  mt_mlp_work_t wk;                    /* activations and gradients of the last batch */
  mt_adam_t adam;                      /* --optimizer adam: the moments (slots 4l..4l+3: layer
                                        * l's weights, biases, BatchNorm gamma and beta) */
  mt_layer_map_t maps[MT_NN_MAX_LAYERS];
  double level_step;                   /* g units of D per level (mt_map_level_step) */
  uint64_t host_skipped;               /* weight updates that needed no programming (this epoch) */
  /* the loop's own (mt_train.c, and the checkpoints: mt_train_ckpt.c) */
  float *x;                            /* one batch of inputs */
  uint8_t *y;
  uint32_t *order;                     /* training example order (reshuffled each epoch) */
  uint32_t *eval_idx;                  /* test example indices of one batch */
  uint64_t shuffle_rng;                /* the generator of the example order */
  uint32_t task, done;                 /* where the run starts: task (0-based), its epochs done */
  uint32_t n_tasks;                    /* tasks of the run (--tasks; 1 without) */
  /* --batchnorm-state per-task: per task, the BatchNorm state (per BatchNorm layer gamma,
   * beta, running mean and variance, mt_train_bn_len floats in all) as that task's training
   * left it; the live state is in t->net, a snapshot's is swapped in to test its task */
  float *bn_task;
  uint32_t data_crc[MT_TRAIN_MAX_TASKS][3]; /* CRC-32 of each task's training, test and
                                             * validation data */
  unsigned char *ck_bytes;             /* --resume: the checked checkpoint until it is restored */
  mt_ckpt_file ck;                     /* its sections */
  mt_rbuf ck_algo;                     /* where the algorithm's load goes on reading its section */
  char *err;
  size_t errlen;
} mt_trainer;

typedef struct mt_algo_ops {
  const char *name; /* the --algo name */
  unsigned flags;   /* MT_ALGO_F_* */
  /* Allocates t->state before the device is touched (may be NULL: no state). */
  int (*create)(mt_trainer *t);
  void (*destroy)(mt_trainer *t);
  /* Before the preset is applied: may measure the device (conventional/biased)
   * or replace the preset to apply (*apply, metaplastic). May be NULL. */
  int (*prepare)(mt_trainer *t, const mt_preset_t **apply);
  /* The device is configured, fabricated and the maps are set. May be NULL. */
  int (*setup)(mt_trainer *t);
  /* Programs the initial weights (not on resume; only with MT_ALGO_F_DEV_FWD). */
  int (*program_init)(mt_trainer *t);
  /* At the start of every epoch. May be NULL. */
  void (*epoch_start)(mt_trainer *t);
  /* Device forward pass of layer `layer` (NULL: through t->maps). */
  int (*matmul)(mt_trainer *t, uint32_t layer, const float *in, uint32_t batch, float *out);
  /* After the forward pass, before the backward pass (may be NULL). */
  int (*after_forward)(mt_trainer *t);
  /* One optimizer step from the gradients in t->wk. */
  int (*step)(mt_trainer *t);
  /* After the epoch's training steps, before the test (may be NULL): test is
   * the current task's test set. */
  int (*epoch_end)(mt_trainer *t, const mt_dataset_t *test, mt_epoch_stats *st);
  /* After the epoch's evaluation (st complete but for the wall time and cycles), before its
   * log line: test is the current task's test set, `last` the run's last epoch. May add to
   * st (the best epoch, the draws) and use the device, but must leave it as it found it
   * (the next epoch and the checkpoint see the device as evaluated). May be NULL. */
  int (*epoch_tested)(mt_trainer *t, const mt_dataset_t *test, mt_epoch_stats *st, int last);
  /* --drift-eval after an epoch whose st has a best epoch (has_best): the run's result is
   * that epoch's network, not necessarily the one on the device. on = 1 programs it onto the
   * device and makes it t->net; on = 0 (called after every on = 1, also one that failed) puts
   * the host's state of the epoch back, the caller restores the device image. May be NULL
   * (the result is the network the device holds). */
  int (*use_result)(mt_trainer *t, int on);
  /* The algorithm's options that must match on resume (may be NULL). */
  void (*fingerprint)(const mt_trainer *t, mt_fp *fp);
  /* Checkpoints: the algorithm's own section. load_pre runs before prepare
   * (what must be known before the device is touched), load after setup, on
   * the same stream; sizes come from the options, never from the stream. Any
   * may be NULL (nothing saved). */
  void (*save)(const mt_trainer *t, mt_wbuf *b);
  int (*load_pre)(mt_trainer *t, mt_rbuf *b);
  int (*load)(mt_trainer *t, mt_rbuf *b);
} mt_algo_ops;

#define MT_ALGO_ENTRY(ID, OPS) extern const mt_algo_ops OPS;
#include "mt_algos.def"
#undef MT_ALGO_ENTRY

/* The ops of algorithm a (a valid mt_algo). */
const mt_algo_ops *mt_algo_ops_of(mt_algo a);

/* ---- helpers shared by the algorithms (mt_train.c) ---- */
/* Writes the message and returns code (a negative MT_ERR_*). */
int mt_trainer_fail(mt_trainer *t, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The device's message and code (mt_dev_errcode; MT_ERR_IO if the device has none). */
int mt_trainer_dev_fail(mt_trainer *t);
size_t mt_trainer_weights(const mt_trainer *t, uint32_t l); /* weights of layer l */
uint32_t mt_trainer_outputs(const mt_trainer *t, uint32_t l); /* biases of layer l */
/* Clips layer l's float weights to the top level's weight. */
void mt_trainer_clip(mt_trainer *t, uint32_t l);
/* The optimizer's step directions in place of the gradients of t->wk (weights, biases and
 * BatchNorm's gamma and beta): unchanged for sgd, Adam's m_hat / (sqrt(v_hat) + eps) for
 * adam. The algorithm then steps by -lr times them. */
void mt_trainer_step_dirs(mt_trainer *t);
/* --batchnorm-state per-task: the floats of one task's BatchNorm snapshot (4 per output unit
 * of every BatchNorm layer), and where tensor `which` (0 gamma, 1 beta, 2 running mean, 3
 * running variance) of layer l (a BatchNorm layer) is in task `task`'s snapshot. */
size_t mt_trainer_bn_len(const mt_trainer *t);
float *mt_trainer_bn_saved(const mt_trainer *t, uint32_t task, uint32_t l, uint32_t which);
/* SGD step with gradients gw, gb, clipping to the top level in the same pass. */
void mt_trainer_sgd_clipped(mt_trainer *t, const float *const *gw, const float *const *gb);
/* Programs every layer's clipped float weights by PROGRAM (write-verify, or
 * open loop with --open-loop). */
int mt_trainer_program_all(mt_trainer *t);
/* Test accuracy of the network on test, on the device or in float. */
int mt_trainer_evaluate(mt_trainer *t, const mt_dataset_t *test, int on_device, double *accuracy);

#endif
