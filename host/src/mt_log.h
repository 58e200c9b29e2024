/* Per-epoch training logs: one JSON object per line, and a CSV with the same
 * columns beside it (FILE.jsonl -> FILE.csv; any other name gets ".csv"
 * appended). Each line is flushed and synced to disk, so an interrupted run
 * keeps its epochs; the trainer writes an epoch's checkpoint only after its
 * line, and a resumed run cuts the log back to the checkpoint's epochs
 * (mt_log_resume), so log and checkpoint agree after a crash or a full disk
 * at any point. */
#ifndef MT_LOG_H
#define MT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "mt_train.h"

typedef struct mt_log mt_log;

/* Creates (truncates) both files, or appends to them when `append` (a resumed
 * run; the CSV header is written only into an empty file). 0, or -1 with a
 * message naming the file. */
int mt_log_open(mt_log **out, const char *path, int append, char *err, size_t errlen);
/* Continual learning (mt_train_run_tasks): adds the fields "task" (1-based),
 * "task_name" and "task_accuracy" (one test accuracy per task, in order) to
 * every JSON line, and the columns task, task_name, task_accuracy_1 ..
 * task_accuracy_N to the CSV. Call before the first epoch; names are copied
 * (at most MT_TRAIN_MAX_TASKS). 0, or -1 if there are too many. */
int mt_log_set_tasks(mt_log *log, uint32_t n_tasks, const char *const *names);
/* A run with a validation split (--val): adds the field "val_accuracy" to every JSON line
 * (and with tasks "task_val_accuracy", one per task), and the columns val_accuracy (and
 * task_val_accuracy_1 .. N) to the CSV, after those of mt_log_set_tasks. Call before the
 * first epoch. */
void mt_log_set_val(mt_log *log);
/* A run with --draws K > 1: adds the columns draw_mean, draw_sd and draw_accuracy_1 .. K to
 * the CSV (empty but on the line that has them, the last epoch's; the JSON line then has
 * "draws", "draw_accuracy" [K values], "draw_mean" and "draw_sd"). Call before the first
 * epoch. A line with the best epoch (mt_epoch_stats.has_best, --val with conventional/biased)
 * has "best_epoch", "best_val_accuracy" and "best_test_accuracy", and so has the CSV when
 * its first line has them. */
void mt_log_set_draws(mt_log *log, uint32_t draws);
/* A run with --drift-eval of n_times times: adds the columns drift_epoch (the epoch whose
 * network drifted) and drift_t_k, drift_accuracy_k for k = 1 .. n_times to the end of the
 * CSV, after every other column (empty but on the line that has them, the last epoch's; the
 * JSON line then has "drift_epoch" and "drift_eval"). Call before the first epoch. */
void mt_log_set_drift(mt_log *log, uint32_t n_times);
/* The run's optimizer and BatchNorm setting: a run with --optimizer adam or --batchnorm gets
 * the fields "optimizer" (its name) and "batchnorm" (0 or 1) in every JSON line and the
 * columns optimizer, batchnorm at the end of the CSV (but for mt_log_set_drift's), and with
 * --batchnorm also "batchnorm_state" ("shared", or "per-task" with bn_per_task) and its column
 * after them; a run with sgd and no BatchNorm (the default) gets none, so its logs stay as
 * they were. Call before the first epoch. */
void mt_log_set_optim(mt_log *log, const char *optimizer, uint32_t batchnorm, uint32_t bn_per_task);
/* Appends the epoch's line to both files and syncs them. 0, or -1 with
 * mt_log_errmsg naming the file and the reason (errno). */
int mt_log_epoch(mt_log *log, const char *algo, const mt_epoch_stats *s);
/* A resumed run (opened with append) whose checkpoint holds `epochs` epochs:
 * keeps the complete lines of epochs 1..epochs and drops what follows (lines
 * of epochs the checkpoint does not have, a line cut short by a full disk or
 * a kill). 0, or -1 with mt_log_errmsg. */
int mt_log_resume(mt_log *log, uint32_t epochs);
/* Why the last mt_log_epoch or mt_log_resume failed. */
const char *mt_log_errmsg(const mt_log *log);
void mt_log_close(mt_log *log);
/* Path of the CSV written beside path. */
void mt_log_csv_path(const char *path, char *out, size_t outlen);

#endif
