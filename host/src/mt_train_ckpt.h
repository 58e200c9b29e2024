/* The checkpoint of a training run (mt_train.c): which sections it holds and
 * how a resumed run is checked against it. Internal to the trainer. */
#ifndef MT_TRAIN_CKPT_H
#define MT_TRAIN_CKPT_H

#include <stdint.h>

#include "mt_algo.h"

/* CRC-32 of a dataset's images and labels (part of the fingerprint). */
uint32_t mt_train_dataset_crc(const mt_dataset_t *d);
/* Saves the run after epoch `epoch` of task `task` to o->checkpoint. 0, or an MT_ERR_* code
 * with a message in t->err (so do the functions below). */
int mt_train_ckpt_save(mt_trainer *t, uint32_t n_tasks, const mt_dataset_t *trains,
                       const mt_dataset_t *tests, uint32_t task, uint32_t epoch);
/* --resume, first part (before the device is touched): reads and checks the
 * file and every option, restores the position, example order, weights and
 * the algorithm's early state. Keeps the file for mt_train_ckpt_restore. */
int mt_train_ckpt_open(mt_trainer *t, uint32_t n_tasks, const mt_dataset_t *trains,
                       const mt_dataset_t *tests);
/* --resume, second part (the trainer is set up): level mirrors, the
 * algorithm's state, then the device image. */
int mt_train_ckpt_restore(mt_trainer *t);

#endif
