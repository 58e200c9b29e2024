/* MVM cycle counts of the RTL (verilator://, reference geometry): for each read-noise mode,
 * the whole transfer of one full-tile vector, and the steady state of a batch per vector, with
 * and without the command and response stream words (one per cycle each, which the command
 * processor moves before and after the engine runs). Cycle counts only (the device's own
 * counter), no wall time. Built once per MVM_R build of the device (MT_BENCH_MVM_R). */
#include <stdio.h>
#include <stdlib.h>

#include "memtile.h"
#include "mt_preset.h"

#ifndef MT_BENCH_MVM_R
#define MT_BENCH_MVM_R 1
#endif
#define NVEC 64u

static void check(int rc, mt_dev *dev, const char *what) {
  if (rc == MT_OK) return;
  fprintf(stderr, "bench_mvm: %s: %s\n", what, dev ? mt_dev_errmsg(dev) : mt_strerror(rc));
  exit(1);
}

static uint64_t cycles(mt_dev *dev) {
  uint64_t c = 0;
  check(mt_dev_cycles(dev, &c), dev, "cycles");
  return c;
}

/* Cycles of one MVM transfer of nvec vectors. */
static uint64_t mvm_cycles(mt_dev *dev, uint32_t nvec, uint32_t rows, uint32_t cols,
                           const int16_t *x, int16_t *y) {
  uint64_t c0 = cycles(dev);
  check(mt_dev_mvm(dev, 0, nvec, rows, cols, x, y), dev, "mvm");
  return cycles(dev) - c0;
}

int main(void) {
  mt_dev *dev = NULL;
  check(mt_dev_open("verilator://", &dev), dev, "open verilator://");
  const mt_dev_info *info = mt_dev_get_info(dev);
  static mt_preset_t p;
  char err[256];
  if (mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &p, err, sizeof err) != MT_OK ||
      mt_preset_set_levels(&p, 16, err, sizeof err) != MT_OK) {
    fprintf(stderr, "bench_mvm: %s\n", err);
    return 1;
  }
  check(mt_preset_apply(&p, dev), dev, "preset");
  check(mt_dev_fabricate(dev, 7, 0), dev, "fabricate");
  uint32_t rows = info->rows, cols = info->cols;
  uint32_t stream = (rows + 1) / 2 + (cols + 1) / 2; /* input + output words per vector */
  int16_t *x = malloc(sizeof *x * NVEC * rows), *y = malloc(sizeof *y * NVEC * cols);
  if (!x || !y) return 1;
  uint64_t rng = 1;
  for (uint32_t k = 0; k < NVEC * rows; k++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    x[k] = (int16_t)((rng >> 33) % 255) - 127;
  }
  static const char *const mode_name[3] = {"no read noise", "per-cell read noise",
                                           "per-column read noise"};
  for (uint32_t mode = 0; mode < 3; mode++) {
    p.cfg[MT_CFG_READ_MODE] = mode;
    check(mt_dev_configure(dev, p.cfg), dev, "configure");
    uint64_t one = mvm_cycles(dev, 1, rows, cols, x, y);
    uint64_t batch = mvm_cycles(dev, NVEC, rows, cols, x, y);
    double per = (double)(batch - one) / (NVEC - 1);
    printf("bench_mvm: MVM %ux%u, MVM_R=%u, %s: 1 vector %llu cycles (transfer); "
           "batch of %u: %.1f cycles per vector, %.1f without its %u stream words\n",
           rows, cols, MT_BENCH_MVM_R, mode_name[mode], (unsigned long long)one, NVEC, per,
           per - stream, stream);
  }
  free(x);
  free(y);
  mt_dev_close(dev);
  return 0;
}
