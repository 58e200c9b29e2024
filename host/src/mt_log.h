/* Per-epoch training logs: one JSON object per line, and a CSV with the same
 * columns beside it (FILE.jsonl -> FILE.csv; any other name gets ".csv"
 * appended). Each line is flushed, so an interrupted run keeps its epochs. */
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
int mt_log_epoch(mt_log *log, const char *algo, const mt_epoch_stats *s);
void mt_log_close(mt_log *log);
/* Path of the CSV written beside path. */
void mt_log_csv_path(const char *path, char *out, size_t outlen);

#endif
