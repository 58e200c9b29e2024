/* The RTL in Verilator (verilator://, reference geometry): simulated clock cycles per second,
 * cycles per FABRICATE, per programmed cell and per MVM, and what an MVM would take on the
 * FPGA at 250 MHz next to a real crossbar read (about 100 ns to 1 us); then the same MVMs and
 * the same training run on model:// and on verilator:// side by side (vectors and images per
 * second of wall time). Cycles come from the device's own cycle counter; wall time is this
 * machine's, and the simulated cycles per second of this process's CPU time (user + system)
 * stand beside it, so that a loaded machine does not hide the simulator's own speed.
 * MT_VERILATOR names the Verilator the device was built with (Makefile).
 * bench_rtl --quick: the first part only, on every QUICK_DIV-th cell and 1/QUICK_DIV of the
 * vectors; the fixed workload the Makefile trains a profile-guided device build on (VL_PGO=1,
 * docs/rtl.md, "Simulation speed"). */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memtile.h"
#include "mt_dataset.h"
#include "mt_preset.h"
#include "mt_train.h"

#ifndef MT_VERILATOR
#define MT_VERILATOR "Verilator"
#endif

#define FPGA_MHZ 250.0
#define NVEC 256u
#define QUICK_DIV 8u

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of this process (user + system, all threads). */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void check(int rc, mt_dev *dev, const char *what) {
  if (rc == MT_OK) return;
  fprintf(stderr, "bench_rtl: %s: %s\n", what, dev ? mt_dev_errmsg(dev) : mt_strerror(rc));
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

/* NVEC vectors of MVM over a whole fabricated tile of a fresh device at URI, repeated until at
 * least MIN_S of wall time: vectors per second. */
#define MIN_S 0.5
static double mvm_per_s(const char *uri, const mt_preset_t *p, const int16_t *x, int16_t *y,
                        uint32_t rows, uint32_t cols) {
  mt_dev *d = NULL;
  check(mt_dev_open(uri, &d), d, uri);
  check(mt_preset_apply(p, d), d, "preset");
  check(mt_dev_fabricate(d, 7, 0), d, "fabricate");
  uint32_t n = 0;
  double t0 = now(), t;
  do {
    check(mt_dev_mvm(d, 0, NVEC, rows, cols, x, y), d, "mvm");
    n += NVEC;
  } while ((t = now() - t0) < MIN_S);
  mt_dev_close(d);
  return n / t;
}

typedef struct {
  double wall_s, acc, cpu_s;  /* cpu_s: the whole mt_train_run, over run_cycles */
  uint64_t cycles, run_cycles;
} epoch_t;

static int on_epoch(void *ctx, const mt_epoch_stats *s) {
  epoch_t *e = ctx;
  e->wall_s = s->wall_s;
  e->acc = s->test_accuracy;
  e->cycles = s->has_sim_cycles ? s->sim_cycles : 0;
  return 0;
}

/* One epoch of siamese training (784-16-10, rram) on a device at URI. */
static epoch_t train_epoch(const char *uri, const mt_preset_t *p, const mt_dataset_t *tr,
                           const mt_dataset_t *te) {
  mt_train_opts o;
  mt_train_defaults(&o);
  o.sizes[1] = 16;
  o.epochs = 1;
  o.seed = 5;
  epoch_t e = {0, 0, 0, 0, 0};
  mt_train_hooks hooks = {NULL, on_epoch, &e, NULL};
  mt_dev *d = NULL;
  check(mt_dev_open(uri, &d), d, uri);
  char err[512];
  uint64_t cyc0 = 0, cyc1 = 0;
  int has_cycles = mt_dev_cycles(d, &cyc0) == MT_OK;
  double c0 = cpu_now();
  if (mt_train_run(&o, tr, te, d, p, &hooks, err, sizeof err) != 0) {
    fprintf(stderr, "bench_rtl: training on %s: %s\n", uri, err);
    exit(1);
  }
  e.cpu_s = cpu_now() - c0;
  if (has_cycles && mt_dev_cycles(d, &cyc1) == MT_OK) e.run_cycles = cyc1 - cyc0;
  mt_dev_close(d);
  return e;
}

int main(int argc, char **argv) {
  int quick = argc == 2 && strcmp(argv[1], "--quick") == 0;
  if (argc > 1 && !quick) {
    fprintf(stderr, "usage: bench_rtl [--quick]\n");
    return 2;
  }
  const uint32_t div = quick ? QUICK_DIV : 1, nvec = NVEC / div;
  mt_dev *dev = NULL;
  check(mt_dev_open("verilator://", &dev), dev, "open verilator://");
  const mt_dev_info *info = mt_dev_get_info(dev);
  static mt_preset_t p;
  char err[256];
  if (mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &p, err, sizeof err) != MT_OK ||
      mt_preset_set_levels(&p, 16, err, sizeof err) != MT_OK) {
    fprintf(stderr, "bench_rtl: %s\n", err);
    return 1;
  }
  check(mt_preset_apply(&p, dev), dev, "preset");
  static mt_preset_t p0;
  p0 = p;
  uint32_t rows = info->rows, cols = info->cols;
  double t_all = now(), cpu_all = cpu_now();
  uint64_t c_all = cycles(dev);

  uint64_t c0 = cycles(dev);
  check(mt_dev_fabricate(dev, 7, 0), dev, "fabricate");
  uint64_t c_fab = cycles(dev) - c0;

  /* Every weight to a random level, write-verify, then open loop. */
  uint32_t *entries = malloc(sizeof *entries * rows * cols);
  uint64_t rng = 1;
  if (!entries) return 1;
  double per_cell[2];
  uint64_t pulses[2];
  for (int open_loop = 0; open_loop < 2; open_loop++) {
    size_t n = 0;
    for (uint32_t i = 0; i < rows; i++)
      for (uint32_t j = 0; j < cols; j++) {
        uint32_t level = lcg(&rng) % 16;
        if ((i * cols + j) % div == 0) entries[n++] = i << 20 | j << 8 | level;
      }
    uint64_t st[MT_CNT_COUNT];
    check(mt_dev_stats_reset(dev), dev, "stats reset");
    mt_prog_result res;
    c0 = cycles(dev);
    check(mt_dev_program(dev, 0, open_loop ? MT_PROG_OPEN_LOOP : 0, entries, n, &res), dev,
          "program");
    uint64_t c = cycles(dev) - c0;
    check(mt_dev_stats(dev, st, MT_CNT_COUNT), dev, "stats");
    per_cell[open_loop] = (double)c / res.programmed;
    pulses[open_loop] = st[MT_CNT_SET_PULSES] + st[MT_CNT_RESET_PULSES];
    printf("bench_rtl: PROGRAM %s of %zu cells: %u programmed, %llu pulses, %llu verify reads, "
           "%.1f cycles per programmed cell\n",
           open_loop ? "open-loop" : "write-verify", n, res.programmed,
           (unsigned long long)pulses[open_loop],
           (unsigned long long)st[MT_CNT_VERIFY_READS], per_cell[open_loop]);
  }

  /* The costliest PROGRAM entries (docs/protocol.md, "Worst-case command time"): both devices
   * moved MAX_PULSE_INDEX pulses open-loop, or given MAX_WV_ITER pulses and reads by write-
   * verify towards an unreachable target; cycles per entry, and what the longest PROGRAM
   * (MAX_PAYLOAD - 2 entries) would take at FPGA_MHZ. */
  {
    uint32_t cfg[MT_CFG_COUNT];
    memcpy(cfg, p.cfg, sizeof cfg);
    cfg[MT_CFG_WV_TOL] = 0;
    cfg[MT_CFG_WV_MAX_ITER] = MT_MAX_WV_ITER;
    check(mt_dev_configure(dev, cfg), dev, "configure");
    const uint32_t top = MT_MAX_PULSE_INDEX | MT_MAX_PULSE_INDEX << 16;
    const uint32_t lt[2 * 3] = {2000u | 2000u << 16, 0, 0, 0xFFFFFFFFu, top, 0};
    check(mt_dev_set_levels(dev, 2, lt), dev, "set levels");
    enum { N_WORST = 8 };
    uint32_t e[N_WORST];
    for (int open_loop = 1; open_loop >= 0; open_loop--) {
      for (uint32_t k = 0; k < N_WORST; k++) e[k] = open_loop ? (k + 1) % 2 : 1;
      mt_prog_result res;
      c0 = cycles(dev);
      check(mt_dev_program(dev, 0, MT_PROG_FORCE | (open_loop ? MT_PROG_OPEN_LOOP : 0), e,
                           N_WORST, &res), dev, "program (worst case)");
      double per = (double)(cycles(dev) - c0) / N_WORST;
      printf("bench_rtl: PROGRAM worst-case entry, %s: %.0f cycles; %u such entries (the "
             "largest PROGRAM) = %.1f s at %.0f MHz\n", open_loop ? "open-loop" : "write-verify",
             per, MT_MAX_PAYLOAD - 2, per * (MT_MAX_PAYLOAD - 2) / (FPGA_MHZ * 1e6), FPGA_MHZ);
    }
    check(mt_preset_apply(&p, dev), dev, "preset");
  }

  /* MVM of nvec dense random vectors over the whole tile, in each read-noise mode. */
  int16_t *x = malloc(sizeof *x * NVEC * rows), *y = malloc(sizeof *y * NVEC * cols);
  if (!x || !y) return 1;
  for (uint32_t k = 0; k < NVEC * rows; k++) x[k] = (int16_t)(lcg(&rng) % 255) - 127;
  static const char *const mode_name[3] = {"no read noise", "per-cell read noise",
                                           "per-column read noise"};
  double mvm_cycles[3];
  for (uint32_t mode = 0; mode < 3; mode++) {
    p.cfg[MT_CFG_READ_MODE] = mode;
    check(mt_dev_configure(dev, p.cfg), dev, "configure");
    c0 = cycles(dev);
    check(mt_dev_mvm(dev, 0, nvec, rows, cols, x, y), dev, "mvm");
    mvm_cycles[mode] = (double)(cycles(dev) - c0) / nvec;
    printf("bench_rtl: MVM %ux%u, %s: %.1f cycles per vector (batch of %u, transfers "
           "included) = %.0f ns at %.0f MHz\n",
           rows, cols, mode_name[mode], mvm_cycles[mode], nvec,
           mvm_cycles[mode] * 1e3 / FPGA_MHZ, FPGA_MHZ);
  }
  double wall = now() - t_all, cpu = cpu_now() - cpu_all;
  uint64_t c_total = cycles(dev) - c_all;
  printf("bench_rtl: FABRICATE of a %ux%u tile: %llu cycles\n", rows, cols,
         (unsigned long long)c_fab);
  printf("bench_rtl: simulated %llu cycles in %.2f s: %.0f cycles per second (Verilator, "
         "%u tiles of %ux%u)\n",
         (unsigned long long)c_total, wall, c_total / wall, info->tiles, rows, cols);
  printf("bench_rtl: the same in %.2f s of CPU time (user + system): %.0f cycles per CPU "
         "second\n", cpu, c_total / cpu);
  printf("bench_rtl: MVM emulated at %.0f MHz: %.0f-%.0f ns per vector vs a real crossbar read "
         "of 100-1000 ns\n",
         FPGA_MHZ, mvm_cycles[0] * 1e3 / FPGA_MHZ, mvm_cycles[1] * 1e3 / FPGA_MHZ);
  mt_dev_close(dev);
  if (quick) {
    free(entries);
    free(x);
    free(y);
    return 0;
  }

  /* model:// beside verilator://: the same work on each (the rram preset as it comes). */
  printf("bench_rtl: model:// beside verilator:// (%s), wall time of this machine:\n", MT_VERILATOR);
  double mvm_m = mvm_per_s("model://?tiles=16", &p0, x, y, rows, cols);
  double mvm_v = mvm_per_s("verilator://", &p0, x, y, rows, cols);
  printf("  MVM %ux%u vectors per second      model:// %10.0f   verilator:// %8.0f   (%.0fx)\n",
         rows, cols, mvm_m, mvm_v, mvm_m / mvm_v);
  mt_dataset_t tr, te;
  enum { N_TRAIN = 256, N_TEST = 64 };
  if (mt_dataset_open("mnist", MT_SOURCE_DIR, N_TRAIN, N_TEST, &tr, &te, err, sizeof err) != 0) {
    fprintf(stderr, "bench_rtl: %s\n", err);
    return 1;
  }
  epoch_t em = train_epoch("model://?tiles=16", &p0, &tr, &te);
  epoch_t ev = train_epoch("verilator://", &p0, &tr, &te);
  printf("  training images per second        model:// %10.1f   verilator:// %8.2f   (%.0fx; "
         "siamese 784-16-10, one epoch of %u MNIST images and a test of %u)\n",
         N_TRAIN / em.wall_s, N_TRAIN / ev.wall_s, ev.wall_s / em.wall_s, N_TRAIN, N_TEST);
  printf("  simulated cycles per second during training: %.0f (%llu cycles, %.0f per image)\n",
         ev.cycles / ev.wall_s, (unsigned long long)ev.cycles, (double)ev.cycles / N_TRAIN);
  printf("  simulated cycles per second of CPU time during training: %.0f (the whole run: %llu "
         "cycles in %.2f s of CPU, host training work included)\n",
         ev.run_cycles / ev.cpu_s, (unsigned long long)ev.run_cycles, ev.cpu_s);
  mt_dataset_free(&tr);
  mt_dataset_free(&te);
  free(entries);
  free(x);
  free(y);
  /* Both backends must have trained the same network (test_train_equiv checks every field). */
  if (em.acc != ev.acc) {
    fprintf(stderr, "bench_rtl: test accuracy differs: model:// %.6f, verilator:// %.6f\n", em.acc,
            ev.acc);
    return 1;
  }
  return 0;
}
