/* Golden-model throughput, reported as ratios against a plain float
 * matrix-vector product of the same size measured in the same run (this
 * machine is noisy; ratios are what later targets are stated in). */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mt_model.h"

#define NVEC 64u

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
  mt_regs_t regs;
  mt_tile_t tile;
  uint32_t cmd[MT_MAX_PAYLOAD + 2];
  uint32_t rsp[MT_MAX_PAYLOAD + 2];
} bench_dev_t;

static void run(bench_dev_t *d, uint32_t op, const uint32_t *p, uint32_t len) {
  d->cmd[0] = op << 24;
  d->cmd[1] = len;
  if (len) memcpy(d->cmd + 2, p, len * 4);
  uint32_t consumed;
  mt_kernel(d->cmd, len + 2, d->rsp, MT_MAX_PAYLOAD + 2, &d->regs, &d->tile, 1, &consumed);
  if ((d->rsp[0] & 0xFF) != MT_ST_OK) {
    fprintf(stderr, "bench: opcode %u failed with status %u\n", op, d->rsp[0] & 0xFF);
    exit(1);
  }
}

static void setup(bench_dev_t *d, uint32_t read_mode, uint32_t c2c) {
  uint32_t cfg[MT_CFG_COUNT] = {0};
  cfg[MT_CFG_G_MIN] = 2000;
  cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_STEP_SET] = 900;
  cfg[MT_CFG_STEP_RST] = 900;
  cfg[MT_CFG_A_SET] = 600;
  cfg[MT_CFG_A_RST] = 900;
  cfg[MT_CFG_C2C_MUL] = c2c;
  cfg[MT_CFG_READ_SIGMA] = read_mode ? 300 : 0;
  cfg[MT_CFG_READ_MODE] = read_mode;
  cfg[MT_CFG_DAC_BITS] = 8;
  cfg[MT_CFG_ADC_BITS] = 10;
  cfg[MT_CFG_ADC_MUL] = 1;
  cfg[MT_CFG_ADC_SHIFT] = 16;
  cfg[MT_CFG_WV_TOL] = 600;
  cfg[MT_CFG_WV_MAX_ITER] = 50;
  cfg[MT_CFG_META_HIDDEN_BITS] = 32; /* the full metaplasticity unit */
  cfg[MT_CFG_META_HIDDEN_FRAC] = 16;
  cfg[MT_CFG_META_TABLE_LOG2] = 8;
  cfg[MT_CFG_META_ENTRY_BITS] = 16;
  mt_device_reset(&d->regs, &d->tile, 1);
  run(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  uint32_t lv[1 + 16 * 3];
  lv[0] = 16;
  for (uint32_t q = 0; q < 16; q++) {
    int32_t x = 2 * (int32_t)q - 15;
    uint32_t up = x > 0 ? (uint32_t)x * 1800 : 0, dn = x < 0 ? (uint32_t)-x * 1800 : 0;
    lv[1 + 3 * q] = (2000 + up) | (2000 + dn) << 16;
    lv[2 + 3 * q] = (up / 900) | (dn / 900) << 16;
    lv[3 + 3 * q] = 0;
  }
  run(d, MT_OP_SET_LEVELS, lv, 1 + 16 * 3);
  uint32_t fab[3] = {7, 0, 0};
  run(d, MT_OP_FABRICATE, fab, 3);
}

/* Seconds per vector of the model's MVM command (batch of NVEC). */
static double mvm_seconds(bench_dev_t *d, uint32_t reps) {
  static uint32_t p[4 + NVEC * MT_ROWS / 2];
  p[0] = 0, p[1] = NVEC, p[2] = MT_ROWS, p[3] = MT_COLS;
  for (uint32_t k = 0; k < NVEC * MT_ROWS / 2; k++) p[4 + k] = (k * 2654435761u) & 0x007F007Fu;
  double t0 = now();
  for (uint32_t r = 0; r < reps; r++) run(d, MT_OP_MVM, p, 4 + NVEC * MT_ROWS / 2);
  return (now() - t0) / (reps * NVEC);
}

static double float_seconds(uint32_t reps, float *sink) {
  static float w[MT_ROWS][MT_COLS], x[NVEC][MT_ROWS], y[NVEC][MT_COLS];
  for (uint32_t i = 0; i < MT_ROWS; i++)
    for (uint32_t j = 0; j < MT_COLS; j++) w[i][j] = (float)((i * 31 + j * 17) % 97) / 97.0f;
  for (uint32_t v = 0; v < NVEC; v++)
    for (uint32_t i = 0; i < MT_ROWS; i++) x[v][i] = (float)((v + i) % 13) / 13.0f;
  double t0 = now();
  for (uint32_t r = 0; r < reps; r++) {
    for (uint32_t v = 0; v < NVEC; v++) {
      for (uint32_t j = 0; j < MT_COLS; j++) y[v][j] = 0;
      for (uint32_t i = 0; i < MT_ROWS; i++)
        for (uint32_t j = 0; j < MT_COLS; j++) y[v][j] += x[v][i] * w[i][j];
    }
    x[r % NVEC][0] += y[r % NVEC][r % MT_COLS] * 1e-9f; /* keep the work observable */
  }
  *sink = y[0][0];
  return (now() - t0) / (reps * NVEC);
}

/* Every weight moves to a new level (offset differs per call). */
static double program_seconds(bench_dev_t *d, uint32_t flags, uint32_t offset) {
  static uint32_t p[2 + MT_ROWS * MT_COLS];
  p[0] = 0, p[1] = flags | MT_PROG_FORCE;
  for (uint32_t w = 0; w < MT_ROWS * MT_COLS; w++)
    p[2 + w] = (w / MT_COLS) << 20 | (w % MT_COLS) << 8 | ((w * 7u + offset) % 16u);
  double t0 = now();
  run(d, MT_OP_PROGRAM, p, 2 + MT_ROWS * MT_COLS);
  return (now() - t0) / (MT_ROWS * MT_COLS);
}

/* The longest PROGRAM the protocol allows (docs/protocol.md, "Worst-case command time"):
 * MAX_PAYLOAD - 2 entries, each costing the most a weight can: open loop, both devices moved
 * MAX_PULSE_INDEX pulses (levels alternate between pulse index 0 and MAX_PULSE_INDEX); write-
 * verify, both devices given MAX_WV_ITER pulses and MAX_WV_ITER + 1 reads (an unreachable
 * target, tolerance 0). Prints the events and the seconds this machine's model takes. */
static void program_worst_case(bench_dev_t *d, uint32_t open_loop) {
  setup(d, 0, 0);
  uint32_t cfg[MT_CFG_COUNT];
  memcpy(cfg, d->regs.cfg, sizeof cfg);
  cfg[MT_CFG_WV_TOL] = 0;
  cfg[MT_CFG_WV_MAX_ITER] = MT_MAX_WV_ITER;
  run(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  const uint32_t top = MT_MAX_PULSE_INDEX | MT_MAX_PULSE_INDEX << 16;
  uint32_t lv[1 + 2 * 3] = {2, 2000u | 2000u << 16, 0, 0, 0xFFFFFFFFu, top, 0};
  run(d, MT_OP_SET_LEVELS, lv, 7);
  static uint32_t p[MT_MAX_PAYLOAD];
  const uint32_t n = MT_MAX_PAYLOAD - 2;
  p[0] = 0, p[1] = MT_PROG_FORCE | (open_loop ? MT_PROG_OPEN_LOOP : 0);
  for (uint32_t k = 0; k < n; k++) p[2 + k] = open_loop ? (k + 1) % 2 : 1;
  memset(d->regs.counters, 0, sizeof d->regs.counters);
  double t0 = now();
  run(d, MT_OP_PROGRAM, p, MT_MAX_PAYLOAD);
  double t = now() - t0;
  uint64_t pulses = d->regs.counters[MT_CNT_SET_PULSES] + d->regs.counters[MT_CNT_RESET_PULSES];
  uint64_t reads = d->regs.counters[MT_CNT_VERIFY_READS];
  printf("  PROGRAM worst case, %-12s  %u entries: %llu pulses + %llu verify reads, %.2f s\n",
         open_loop ? "open-loop" : "write-verify", n, (unsigned long long)pulses,
         (unsigned long long)reads, t);
}

int main(void) {
  bench_dev_t *d = calloc(1, sizeof *d);
  if (!d) return 1;
  float sink = 0;
  double tf = float_seconds(400, &sink);
  printf("bench_model: %ux%u tile, batches of %u vectors\n", MT_ROWS, MT_COLS, NVEC);
  printf("  float mat-vec (reference)          %8.2f us/vector\n", tf * 1e6);
  static const char *names[] = {"model MVM, no read noise", "model MVM, per-cell noise",
                                "model MVM, per-column noise"};
  for (uint32_t mode = 0; mode < 3; mode++) {
    setup(d, mode, 0);
    double t = mvm_seconds(d, mode == 1 ? 5 : 40);
    printf("  %-34s %8.2f us/vector   %6.2fx float\n", names[mode], t * 1e6, t / tf);
  }
  setup(d, 2, 3000);
  double wv = program_seconds(d, 0, 0), ol = program_seconds(d, MT_PROG_OPEN_LOOP, 5);
  printf("  program by write-verify            %8.2f us/weight  %6.2fx float mat-vec\n", wv * 1e6, wv / tf);
  printf("  program open-loop                  %8.2f us/weight  %6.2fx float mat-vec\n", ol * 1e6, ol / tf);
  program_worst_case(d, 1);
  program_worst_case(d, 0);
  printf("  (sink %g)\n", sink);
  free(d);
  return 0;
}
