/* The USB path in simulation (verilator://?link=usb: link layer, FT601 pin model, RTL bridge,
 * FIFOs, frame engine, device) against the device alone (verilator://): commands per second
 * one frame at a time and queued, MVM vectors per second, and the link's share of a training-
 * like step, in simulated time (the AC701 build's clocks: core 75 MHz, FT601 100 MHz) and in
 * this machine's wall time; next to the FT601's limit of 400 MB/s (100 MHz x 4 bytes). */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memtile.h"
#include "mt_preset.h"

#define CORE_MHZ 75.0
#define FT601_BYTES_PER_S 400e6
#define NVEC 256u
#define N_SINGLE 200u
#define N_QUEUED 2000u

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void check(int rc, mt_dev *dev, const char *what) {
  if (rc == MT_OK) return;
  fprintf(stderr, "bench_usb: %s: %s\n", what, dev ? mt_dev_errmsg(dev) : mt_strerror(rc));
  exit(1);
}

static uint64_t cycles(mt_dev *dev) {
  uint64_t c = 0;
  check(mt_dev_cycles(dev, &c), dev, "cycles");
  return c;
}

static uint32_t lcg(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*s >> 33);
}

typedef struct {
  double single_cyc, single_wall, queued_cyc, queued_wall, mvm_cyc, mvm_wall, step_cyc;
} figures;

static void measure(const char *uri, figures *f) {
  mt_dev *dev = NULL;
  check(mt_dev_open(uri, &dev), dev, uri);
  const mt_dev_info *info = mt_dev_get_info(dev);
  static mt_preset_t p;
  char err[256];
  if (mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &p, err, sizeof err) != MT_OK ||
      mt_preset_set_levels(&p, 16, err, sizeof err) != MT_OK) {
    fprintf(stderr, "bench_usb: %s\n", err);
    exit(1);
  }
  check(mt_preset_apply(&p, dev), dev, "preset");
  check(mt_dev_fabricate(dev, 7, 0), dev, "fabricate");
  uint32_t rows = info->rows, cols = info->cols;

  /* One command per transfer: NOP, whose answer the caller waits for. */
  uint64_t c0 = cycles(dev);
  double t0 = now();
  for (uint32_t k = 0; k < N_SINGLE; k++)
    check(mt_dev_command(dev, MT_OP_NOP, NULL, 0, NULL, 0, NULL), dev, "nop");
  f->single_wall = (now() - t0) / N_SINGLE;
  f->single_cyc = (double)(cycles(dev) - c0) / N_SINGLE;

  /* Queued commands (SEED, no answer read), sent together by the next flush. */
  c0 = cycles(dev);
  t0 = now();
  for (uint32_t k = 0; k < N_QUEUED; k++) check(mt_dev_seed(dev, k), dev, "seed");
  f->queued_cyc = (double)(cycles(dev) - c0) / N_QUEUED;
  f->queued_wall = (now() - t0) / N_QUEUED;

  /* MVM over the whole tile, NVEC dense vectors. */
  int16_t *x = malloc(sizeof *x * NVEC * rows), *y = malloc(sizeof *y * NVEC * cols);
  uint32_t *pulse = malloc(sizeof *pulse * rows * cols);
  if (!x || !y || !pulse) exit(1);
  uint64_t rng = 1;
  for (uint32_t k = 0; k < NVEC * rows; k++) x[k] = (int16_t)(lcg(&rng) % 255) - 127;
  c0 = cycles(dev);
  t0 = now();
  check(mt_dev_mvm(dev, 0, NVEC, rows, cols, x, y), dev, "mvm");
  f->mvm_wall = (now() - t0) / NVEC;
  f->mvm_cyc = (double)(cycles(dev) - c0) / NVEC;

  /* A training-like step on one tile: forward MVM of a batch of 16, an open-loop update of
   * 1,024 cells (PULSE, queued), and the next forward MVM that sends it. */
  for (uint32_t k = 0; k < 1024; k++) {
    uint32_t r = lcg(&rng) % rows, c = lcg(&rng) % cols;
    pulse[k] = r << 20 | c << 8 | (lcg(&rng) & 1u) << 7 | 1u;
  }
  c0 = cycles(dev);
  check(mt_dev_mvm(dev, 0, 16, rows, cols, x, y), dev, "step mvm");
  check(mt_dev_pulse(dev, 0, pulse, 1024), dev, "step pulse");
  check(mt_dev_mvm(dev, 0, 16, rows, cols, x, y), dev, "step mvm");
  f->step_cyc = (double)(cycles(dev) - c0);
  free(x);
  free(y);
  free(pulse);
  mt_dev_close(dev);
}

int main(void) {
  figures d, u;
  double t = now();
  measure("verilator://", &d);
  double t_direct = now() - t;
  t = now();
  measure("verilator://?link=usb", &u);
  double t_usb = now() - t;
  const double hz = CORE_MHZ * 1e6;
  printf("bench_usb: simulated time at the AC701 clocks (core %.0f MHz, FT601 100 MHz); wall "
         "time of this machine (Verilator, 16 tiles of 128x128): %.1f s direct, %.1f s over USB\n",
         CORE_MHZ, t_direct, t_usb);
  printf("bench_usb: one command per frame (NOP): %.0f core cycles each over USB vs %.0f direct "
         "= %.0f commands/s simulated (%.0f/s wall)\n",
         u.single_cyc, d.single_cyc, hz / u.single_cyc, 1 / u.single_wall);
  printf("bench_usb: queued commands (SEED, %u per flush): %.1f core cycles each over USB vs "
         "%.1f direct = %.0f commands/s simulated (%.0f/s wall)\n",
         N_QUEUED, u.queued_cyc, d.queued_cyc, hz / u.queued_cyc, 1 / u.queued_wall);
  /* Bytes on the bus per vector: 64 words in, 64 out (128 int16 each), frame overhead aside. */
  const double vec_bytes = 4.0 * (128 / 2 + 128 / 2);
  printf("bench_usb: MVM 128x128, batch %u: %.1f core cycles per vector over USB vs %.1f direct "
         "= %.0f vectors/s simulated (%.0f/s wall); the FT601's 400 MB/s alone would allow "
         "%.0f vectors/s (%.0f bytes each)\n",
         NVEC, u.mvm_cyc, d.mvm_cyc, hz / u.mvm_cyc, 1 / u.mvm_wall,
         FT601_BYTES_PER_S / vec_bytes, vec_bytes);
  printf("bench_usb: training-like step (MVM x16, PULSE 1024 cells, MVM x16): %.0f core cycles "
         "over USB vs %.0f direct: the link's share is %.0f%% (%.1f us vs %.1f us at %.0f MHz)\n",
         u.step_cyc, d.step_cyc, 100.0 * (u.step_cyc - d.step_cyc) / u.step_cyc,
         u.step_cyc / CORE_MHZ, d.step_cyc / CORE_MHZ, CORE_MHZ);
  return 0;
}
