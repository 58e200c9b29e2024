/* Device-in-the-loop training against float training of the same network,
 * measured in one run: the two alternate and each keeps its fastest epoch,
 * so a noisy machine shows up in both. Target: siamese <= 3x float. Then the
 * device transactions (commands: USB transfers or kernel launches on real
 * hardware) per training step of every device algorithm, from the second
 * epoch (the first also programs the initial weights). */
#include <stdio.h>
#include <stdlib.h>

#include "memtile.h"
#include "mt_dataset.h"
#include "mt_map.h"
#include "mt_preset.h"
#include "mt_train.h"

typedef struct {
  double best_s;
  double acc;
  uint64_t transactions; /* of the last epoch */
} timing_t;

static int on_epoch(void *ctx, const mt_epoch_stats *s) {
  timing_t *t = ctx;
  if (t->best_s == 0 || s->wall_s < t->best_s) t->best_s = s->wall_s;
  t->acc = s->test_accuracy;
  t->transactions = s->transactions;
  return 0;
}

static int run(mt_algo algo, uint32_t epochs, const mt_dataset_t *train, const mt_dataset_t *test,
               const mt_preset_t *preset, timing_t *t) {
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = algo;
  o.epochs = epochs;
  char err[512];
  mt_dev *dev = NULL;
  if (algo != MT_ALGO_FLOAT && mt_dev_open("model://?tiles=16", &dev) != MT_OK) {
    fprintf(stderr, "bench_train: %s\n", mt_dev_errmsg(dev));
    mt_dev_close(dev);
    return -1;
  }
  mt_train_hooks hooks = {NULL, on_epoch, t, NULL};
  int rc = mt_train_run(&o, train, test, dev, algo == MT_ALGO_FLOAT ? NULL : preset, &hooks, err,
                        sizeof err);
  if (rc != 0) fprintf(stderr, "bench_train: %s\n", err);
  mt_dev_close(dev);
  return rc;
}

int main(void) {
  mt_dataset_t train, test;
  static mt_preset_t preset;
  char err[512];
  if (mt_dataset_open("fashion-mnist", MT_SOURCE_DIR, 20000, 2000, &train, &test, err, sizeof err) != 0 ||
      mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &preset, err, sizeof err) != 0) {
    fprintf(stderr, "bench_train: %s\n", err);
    return 1;
  }
  timing_t tf = {0, 0, 0}, ts = {0, 0, 0};
  for (int round = 0; round < 3; round++) {
    if (run(MT_ALGO_FLOAT, 1, &train, &test, NULL, &tf) != 0 ||
        run(MT_ALGO_SIAMESE, 1, &train, &test, &preset, &ts) != 0)
      return 1;
  }
  printf("bench_train: 784-256-10, Fashion-MNIST 20000 train / 2000 test, batch 32, 1 epoch, best of 3\n");
  printf("  float training                      %7.3f s/epoch  (test %.2f%%)\n", tf.best_s, 100 * tf.acc);
  printf("  siamese on model://, rram preset    %7.3f s/epoch  (test %.2f%%)\n", ts.best_s, 100 * ts.acc);
  printf("  device-in-the-loop / float          %7.2fx  (target <= 3x)\n", ts.best_s / tf.best_s);
  /* Transactions per step: 640 examples (20 steps of 32), epoch 2. */
  const uint32_t n_train = 640, steps = n_train / 32;
  mt_dataset_t small = train;
  small.count = n_train;
  printf("device transactions per training step, 784-256-10 on model:// (16 tiles), rram preset,\n"
         "epoch 2 of %u examples (conventional/biased: the epoch's deployment spread over it)\n",
         n_train);
  for (int a = 0; a < MT_ALGO_COUNT; a++) {
    if (a == MT_ALGO_FLOAT) continue;
    timing_t tt = {0, 0, 0};
    if (run((mt_algo)a, 2, &small, &test, &preset, &tt) != 0) return 1;
    printf("  %-13s %8.1f\n", mt_algo_name((mt_algo)a), (double)tt.transactions / steps);
  }
  mt_dataset_free(&train);
  mt_dataset_free(&test);
  return 0;
}
