/* libmemtile: in-situ training of a network on any device, for programs outside the memtile
 * tool (docs/algorithms.md has the algorithms, README.md the options).
 *
 * A trainer holds an experiment: its options, set by the names of `memtile train`'s options
 * ("epochs", "algo", "net", "checkpoint", "resume", ...; see mt_trainer_set), and, while it
 * runs, its datasets, preset, device and log. mt_trainer_run trains epoch by epoch and calls
 * back after each; a run given "resume" continues the experiment saved by "checkpoint".
 * Every call returns MT_OK or an MT_ERR_* code; mt_train_errmsg() then says what failed,
 * naming the option, file or value (options as "--name", the way the tool spells them). */
#ifndef MEMTILE_TRAIN_H
#define MEMTILE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_TRAIN_MAX_TASKS 8u /* datasets trained in turn ("tasks") */
#define MT_TRAIN_MAX_DRAWS 100u /* programming draws of the final network ("draws") */
#define MT_TRAIN_MAX_DRIFT_T 16u /* times of "drift-eval" */
#define MT_TRAIN_DRIFT_T0 20.0 /* s: "drift-eval" time t is the drift ratio (t + t0) / t0 */

/* What one epoch did. */
typedef struct {
  uint32_t epoch;
  double train_loss, train_accuracy, test_accuracy;
  /* device counters accumulated over the epoch's training steps */
  uint64_t set_pulses, reset_pulses, verify_reads, cell_reads, mvms;
  uint64_t cells_programmed, updates_skipped, wv_failures;
  double energy_pj, latency_ns, wall_s;
  uint64_t transactions; /* device commands of the epoch's training steps (mt_dev_transactions) */
  /* conventional/biased: test accuracy of the float network before programming
   * (test_accuracy is then the accuracy on the device after programming) */
  int has_sw_accuracy;
  double sw_test_accuracy;
  /* clock cycles of the simulated RTL over the epoch (training and evaluation), when the
   * device has a simulated clock (verilator://) */
  int has_sim_cycles;
  uint64_t sim_cycles;
  /* "tasks": the task being trained (1-based) of n_tasks, and the test accuracy of every
   * task after this epoch (task_accuracy[k] is task k+1) */
  uint32_t task, n_tasks;
  double task_accuracy[MT_TRAIN_MAX_TASKS];
  /* tile swapping ("max-tiles"; mt_dev_swap_stats) over the epoch's training steps: tiles
   * loaded, evicted tiles saved, their commands, bytes and wall time. Emulator overhead: none
   * of it is in the device counters, transactions or sim_cycles above. */
  int has_swaps;
  uint64_t swaps, swap_saves, swap_transactions, swap_bytes;
  double swap_s;
  /* "val" > 0: the accuracy on the validation split (the last "val" training examples, held
   * out of training) of the current task and of every task, measured as the test accuracy */
  int has_val;
  double val_accuracy;
  double task_val_accuracy[MT_TRAIN_MAX_TASKS];
  /* conventional/biased with "val": the epoch (numbered as `epoch`) of the current task with
   * the best val_accuracy so far (the earlier one on a tie), and its validation and test
   * accuracy. That epoch's network is the run's result, and the one "draws" programs. */
  int has_best;
  uint32_t best_epoch;
  double best_val_accuracy, best_test_accuracy;
  /* conventional/biased with "draws" K > 1, on the run's last epoch only: the resulting
   * network programmed onto K more dies (each fabricated and seeded anew), the test accuracy
   * on each, and their mean and sample standard deviation */
  uint32_t n_draws;
  double draw_accuracy[MT_TRAIN_MAX_DRAWS];
  double draw_mean, draw_sd;
  /* "drift-eval" on the run's last epoch only: the run's result on the device drifted (DRIFT)
   * to drift_t[k] seconds after programming, cumulatively, and its test accuracy then.
   * drift_epoch is the epoch (numbered as `epoch`) whose network drifted: the best epoch's
   * with "val" and conventional/biased (programmed anew onto the run's die), else the last. */
  uint32_t n_drift;
  double drift_t[MT_TRAIN_MAX_DRIFT_T], drift_accuracy[MT_TRAIN_MAX_DRIFT_T];
  uint32_t drift_epoch;
} mt_epoch_stats;

typedef struct mt_trainer mt_trainer;

/* A trainer with the default options (siamese, 784-256-10, preset rram, fashion-mnist, 3
 * epochs) on the device at uri; uri NULL: model:// with as many tiles as the network needs.
 * The device is opened by mt_trainer_run. *out is set whenever a handle could be allocated,
 * also on failure; close it with mt_trainer_close() in both cases. */
int mt_trainer_create(const char *uri, mt_trainer **out);
void mt_trainer_close(mt_trainer *t);
/* Why the last call on t failed ("" if none did). */
const char *mt_train_errmsg(const mt_trainer *t);

/* Sets an option by its name in `memtile train --help` (with or without the leading "--"),
 * the value as text (a flag takes "0" or "1"): algo, net, preset, levels, dataset, tasks,
 * epochs, batch, lr, seed, train-limit, test-limit, val, crop, accumulate, compensate, w-max,
 * open-loop, changed-only, momentum, ssm-compensate, ssm-calibrate, important, importance,
 * favourable, slices, draws, drift-eval, meta-m, optimizer (sgd or adam; float and metaplastic),
 * adam-beta1, adam-beta2, adam-eps (with optimizer adam), batchnorm (float and metaplastic),
 * batchnorm-state (shared or per-task; per-task with batchnorm and at least 2 tasks),
 * log, checkpoint, resume, max-tiles (use at most N of the device's tiles and swap the
 * network's others through them, docs/tile-swapping.md).
 * MT_ERR_INVAL names an unknown option or a value out of range; the value is not kept. */
int mt_trainer_set(mt_trainer *t, const char *option, const char *value);

/* 1 for an option of mt_trainer_set that takes a value, 0 for a flag ("open-loop",
 * "changed-only", "ssm-compensate", "ssm-calibrate", "batchnorm", whose value is "0" or "1"),
 * MT_ERR_INVAL for no such option. */
int mt_train_option_kind(const char *option);

/* The training algorithms' names, k = 0, 1, ...; NULL past the last. */
const char *mt_train_algo_name(uint32_t k);

typedef struct {
  /* once the datasets, preset and device are ready, before any training: one line saying
   * what will be trained (algorithm, device, examples, network, preset); may be NULL */
  void (*started)(void *ctx, const char *summary);
  /* after every batch: examples done of total in this epoch; may be NULL */
  void (*progress)(void *ctx, uint32_t epoch, uint32_t done, uint32_t total, double loss);
  /* after every epoch, before its log line and checkpoint are written: 0 to go on, > 0 to
   * stop after this epoch (which is logged and checkpointed), < 0 to fail the run (neither
   * logged nor checkpointed; mt_trainer_run returns this value, so return an MT_ERR_*
   * code); may be NULL */
  int (*epoch_done)(void *ctx, const mt_epoch_stats *s);
  void *ctx;
} mt_train_callbacks;

/* Loads the datasets and the preset, opens the device and the log, and trains (resuming if
 * "resume" is set). The code says which class of thing failed, the message which one:
 *   MT_ERR_INVAL  options that contradict each other or do not fit the data or any device
 *                 (network shape, --levels, too many tiles), an unknown dataset name;
 *   MT_ERR_FILE   a preset, dataset or checkpoint whose content is invalid (the message
 *                 names the file, field and value);
 *   MT_ERR_IO     a file that cannot be opened, read or written (dataset, checkpoint, log);
 *   MT_ERR_NOMEM  out of memory;
 *   the device's own code (mt_dev_errcode) when it cannot be opened or fails during the run:
 *                 MT_ERR_NODEV, MT_ERR_DEVICE (a rejected command), MT_ERR_IO, MT_ERR_TIMEOUT,
 *                 MT_ERR_PROTOCOL (the link);
 *   the value epoch_done returned, when it was negative.
 * A trainer runs once. cb may be NULL. */
int mt_trainer_run(mt_trainer *t, const mt_train_callbacks *cb);

/* The trainer's device once mt_trainer_run has opened it (NULL before, and for the float
 * algorithm); it stays open until mt_trainer_close. */
mt_dev *mt_trainer_device(mt_trainer *t);

#ifdef __cplusplus
}
#endif
#endif
