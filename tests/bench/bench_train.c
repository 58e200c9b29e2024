/* Device-in-the-loop training against float training of the same network,
 * measured in one run: the two alternate and each keeps its fastest epoch,
 * so a noisy machine shows up in both. Target: siamese <= 3x float. */
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
} timing_t;

static int on_epoch(void *ctx, const mt_epoch_stats *s) {
  timing_t *t = ctx;
  if (t->best_s == 0 || s->wall_s < t->best_s) t->best_s = s->wall_s;
  t->acc = s->test_accuracy;
  return 0;
}

static int run(mt_algo algo, const mt_dataset_t *train, const mt_dataset_t *test,
               const mt_preset_t *preset, timing_t *t) {
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = algo;
  o.epochs = 1;
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
  timing_t tf = {0, 0}, ts = {0, 0};
  for (int round = 0; round < 3; round++) {
    if (run(MT_ALGO_FLOAT, &train, &test, NULL, &tf) != 0 ||
        run(MT_ALGO_SIAMESE, &train, &test, &preset, &ts) != 0)
      return 1;
  }
  printf("bench_train: 784-256-10, Fashion-MNIST 20000 train / 2000 test, batch 32, 1 epoch, best of 3\n");
  printf("  float training                      %7.3f s/epoch  (test %.2f%%)\n", tf.best_s, 100 * tf.acc);
  printf("  siamese on model://, rram preset    %7.3f s/epoch  (test %.2f%%)\n", ts.best_s, 100 * ts.acc);
  printf("  device-in-the-loop / float          %7.2fx  (target <= 3x)\n", ts.best_s / tf.best_s);
  mt_dataset_free(&train);
  mt_dataset_free(&test);
  return 0;
}
