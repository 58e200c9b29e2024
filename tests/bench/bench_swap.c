/* Tile swapping (docs/tile-swapping.md): the README's 784-100-10 (8 tiles) and the default
 * 784-256-10 (16) trained by siamese on model:// devices of 1 and 2 tiles (--max-tiles) beside
 * one that holds the network. Reports the
 * swap traffic per training step and per image, which is what a board of that size moves over
 * its link per step (the wall time here is the in-process model's, not a link's), and checks
 * that the swapped runs log the same accuracy, pulses and energy as the unswapped one. Then the
 * clock cycles the RTL (verilator://) spends on one tile saved and one loaded, and so on the
 * swaps of one such step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtile.h"
#include "memtile_train.h"
#include "mt_preset.h"
#include "mt_protocol.h"

#define TRAIN 640u
#define BATCH 32u

static int keep(void *ctx, const mt_epoch_stats *s) {
  *(mt_epoch_stats *)ctx = *s;
  return 0;
}

static int run(const char *uri, const char *net, const char *max_tiles, mt_epoch_stats *s) {
  const char *const opts[][2] = {
      {"dataset", "mnist"}, {"net", net}, {"algo", "siamese"}, {"epochs", "2"},
      {"batch", "32"},      {"train-limit", "640"}, {"test-limit", "200"}, {"seed", "3"}};
  mt_trainer *t = NULL;
  int rc = mt_trainer_create(uri, &t);
  for (size_t k = 0; rc == MT_OK && k < sizeof opts / sizeof *opts; k++)
    rc = mt_trainer_set(t, opts[k][0], opts[k][1]);
  if (rc == MT_OK && max_tiles) rc = mt_trainer_set(t, "max-tiles", max_tiles);
  mt_train_callbacks cb = {NULL, NULL, keep, s};
  if (rc == MT_OK) rc = mt_trainer_run(t, &cb);
  if (rc != MT_OK) fprintf(stderr, "bench_swap: %s: %s\n", uri, t ? mt_train_errmsg(t) : "out of memory");
  mt_trainer_close(t);
  return rc;
}

/* Cycles of one tile saved and one loaded on verilator:// (2 logical tiles on 1 device tile). */
static int rtl_cycles(uint64_t *save, uint64_t *load) {
  mt_preset_t preset;
  char err[256];
  mt_dev *dev = NULL;
  int16_t x[MT_ROWS] = {0}, y[MT_COLS];
  mt_swap_stats a, b, c;
  int rc = mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &preset, err, sizeof err) ? MT_ERR_FILE
                                                                                         : MT_OK;
  if (rc == MT_OK) rc = mt_dev_open("verilator://", &dev);
  if (rc == MT_OK) rc = mt_dev_set_max_tiles(dev, 1, 2);
  if (rc == MT_OK) rc = mt_preset_apply(&preset, dev);
  if (rc == MT_OK) rc = mt_dev_fabricate(dev, 1, 0);
  if (rc == MT_OK) rc = mt_dev_fabricate(dev, 1, 1);                   /* saves 0 */
  if (rc == MT_OK) rc = mt_dev_swap_stats(dev, &a);
  if (rc == MT_OK) rc = mt_dev_mvm(dev, 0, 1, MT_ROWS, MT_COLS, x, y);  /* saves 1, loads 0 */
  if (rc == MT_OK) rc = mt_dev_swap_stats(dev, &b);
  if (rc == MT_OK) rc = mt_dev_mvm(dev, 1, 1, MT_ROWS, MT_COLS, x, y);  /* loads 1 (0 is clean) */
  if (rc == MT_OK) rc = mt_dev_swap_stats(dev, &c);
  if (rc == MT_OK && (a.saves != 1 || b.saves != 2 || b.swaps != 1 || c.saves != 2 || c.swaps != 2))
    rc = MT_ERR_PROTOCOL;
  if (rc != MT_OK) {
    fprintf(stderr, "bench_swap: verilator://: %s\n", dev ? mt_dev_errmsg(dev) : err);
  } else {
    *save = a.cycles;
    *load = c.cycles - b.cycles;
  }
  mt_dev_close(dev);
  return rc;
}

int main(void) {
  mt_epoch_stats ref, sw[2], first = {0};
  static const char *const uris[2] = {"model://?tiles=1", "model://?tiles=2"};
  static const char *const max[2] = {"1", "2"};
  static const char *const nets[2] = {"784-100-10", "784-256-10"};
  static const char *const all[2] = {"model://?tiles=8", "model://?tiles=16"};
  printf("bench_swap: siamese, %u MNIST images per epoch, batch %u (%u steps); second epoch; swap "
         "traffic is emulator overhead, not device energy or latency\n", TRAIN, BATCH, TRAIN / BATCH);
  printf("  %-12s %-6s %12s %12s %14s %14s %10s\n", "net", "tiles", "swaps/step", "saves/step",
         "commands/step", "bytes/image", "same log");
  for (int n = 0; n < 2; n++) {
    memset(&ref, 0, sizeof ref);
    if (run(all[n], nets[n], NULL, &ref) != MT_OK) return 1;
    printf("  %-12s %-6s %12s %12s %14s %14s %10s\n", nets[n], all[n] + 15, "0", "0", "0", "0", "-");
    for (int k = 0; k < 2; k++) {
      memset(&sw[k], 0, sizeof sw[k]);
      if (run(uris[k], nets[n], max[k], &sw[k]) != MT_OK) return 1;
      const mt_epoch_stats *s = &sw[k];
      /* The device's own figures must not move (test_train_api checks the whole log). */
      int same = s->test_accuracy == ref.test_accuracy && s->train_loss == ref.train_loss &&
                 s->set_pulses == ref.set_pulses && s->reset_pulses == ref.reset_pulses &&
                 s->energy_pj == ref.energy_pj && s->latency_ns == ref.latency_ns &&
                 s->transactions == ref.transactions;
      double steps = TRAIN / BATCH;
      printf("  %-12s %-6s %12.1f %12.1f %14.1f %14.0f %10s\n", nets[n], max[k], s->swaps / steps,
             s->swap_saves / steps, s->swap_transactions / steps, (double)s->swap_bytes / TRAIN,
             same ? "yes" : "NO");
      if (!same) return 1;
    }
    if (n == 0) first = sw[0];
  }
  uint64_t save = 0, load = 0;
  if (rtl_cycles(&save, &load) != MT_OK) return 1;
  double per_step = (first.swap_saves * (double)save + first.swaps * (double)load) / (TRAIN / BATCH);
  printf("  verilator:// (%ux%u): one tile saved (STATE_READ) %llu cycles, loaded (STATE_WRITE) "
         "%llu cycles; the swaps of one 784-100-10 step above: %.3g cycles (%.3g ms at an assumed 250 MHz)\n",
         MT_ROWS, MT_COLS, (unsigned long long)save, (unsigned long long)load, per_step,
         per_step / 250e3);
  return 0;
}
