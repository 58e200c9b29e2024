/* Time of the golden model's commands of pulse training (issue 19 item 5), alone: PULSE as
 * sgd-pulse sends it, READ_CELLS of a 100 x 10 layer, PROGRAM (write-verify) as siamese sends it.
 * The training benchmark (bench_speed) measures whole steps on a noisy machine; these are
 * steadier (the fastest of 7 rounds of process CPU time, each round the same commands), so
 * that a change of the model of a few per cent can be seen (docs/results.md, "Fourth pass").
 *
 * The device is rram-like, set by hand: G in [2000, 60000] with d2d spread, step 1400 with
 * soft bounds (a_set 1500, a_rst 2500), additive c2c 2536 (3.9% of range), read noise 655,
 * endurance 1e8, rare stuck-at faults, 33 levels, write-verify tolerance 1000 in at most 60
 * pulses. PULSE: per tile of 7 (784 rows take 7 of 128) about 330 entries on one row in five,
 * 79% single pulses (what sgd-pulse sends at lr 0.05), their signs flipped every round so the
 * devices do not pile up at a bound. PROGRAM: 1,400 weights at random levels per command. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mt_model.h"

enum { TILES = 7, ROUNDS = 7, PULSE_REPS = 300, READ_REPS = 2000, PROG_REPS = 10 };

typedef struct {
  mt_regs_t regs;
  mt_tile_t tiles[TILES];
  uint32_t cmd[MT_MAX_PAYLOAD + 2];
  uint32_t rsp[MT_MAX_PAYLOAD + 2];
} bench_dev_t;

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 12345;
static uint32_t rnd(uint32_t n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state % n);
}

static void run(bench_dev_t *d, uint32_t op, const uint32_t *p, uint32_t len) {
  d->cmd[0] = op << 24;
  d->cmd[1] = len;
  if (len) memcpy(d->cmd + 2, p, len * 4);
  uint32_t consumed = 0;
  mt_kernel(d->cmd, len + 2, d->rsp, MT_MAX_PAYLOAD + 2, &d->regs, d->tiles, TILES, &consumed);
  if ((d->rsp[0] & 0xFFu) != MT_ST_OK) {
    fprintf(stderr, "bench_cmds: opcode %u failed with status %u\n", op, d->rsp[0] & 0xFFu);
    exit(1);
  }
}

int main(void) {
  bench_dev_t *d = calloc(1, sizeof *d);
  static uint32_t cfg[MT_CFG_COUNT], lv[1 + 33 * MT_LEVEL_ENTRY_WORDS];
  static uint32_t pos[TILES][400], neg[TILES][400], np[TILES], prog[2 + 1400];
  if (!d) return 1;
  mt_device_reset(&d->regs, d->tiles, TILES);
  cfg[MT_CFG_G_MIN] = 2000, cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_D2D_GMIN] = 300, cfg[MT_CFG_D2D_GMAX] = 700;
  cfg[MT_CFG_STEP_SET] = cfg[MT_CFG_STEP_RST] = 1400, cfg[MT_CFG_D2D_STEP] = 3000;
  cfg[MT_CFG_A_SET] = 1500, cfg[MT_CFG_A_RST] = 2500, cfg[MT_CFG_D2D_A] = 3000;
  cfg[MT_CFG_P_STUCK_LOW] = cfg[MT_CFG_P_STUCK_HIGH] = 4000, cfg[MT_CFG_ENDURANCE] = 100000000;
  cfg[MT_CFG_C2C_ADD] = 2536, cfg[MT_CFG_READ_SIGMA] = 655;
  cfg[MT_CFG_DAC_BITS] = 8, cfg[MT_CFG_ADC_BITS] = 16, cfg[MT_CFG_ADC_MUL] = 1;
  cfg[MT_CFG_ADC_SHIFT] = 16, cfg[MT_CFG_WV_TOL] = 1000, cfg[MT_CFG_WV_MAX_ITER] = 60;
  cfg[MT_CFG_META_HIDDEN_BITS] = 32, cfg[MT_CFG_META_HIDDEN_FRAC] = 16;
  cfg[MT_CFG_META_TABLE_LOG2] = 8, cfg[MT_CFG_META_ENTRY_BITS] = 16;
  run(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  for (uint32_t t = 0; t < TILES; t++) {
    uint32_t fab[3] = {77, 0, t};
    run(d, MT_OP_FABRICATE, fab, 3);
  }
  /* 33 levels: G+ from 6000 up in steps of 1500, G- the mirror; pulse indices by step 1400 */
  lv[0] = 33;
  for (uint32_t q = 0; q < 33; q++) {
    uint32_t gp = 6000 + 1500 * q, gm = 6000 + 1500 * (32 - q);
    lv[1 + 3 * q] = gp | gm << 16;
    lv[2 + 3 * q] = (gp - 2000) / 1400 | ((gm - 2000) / 1400) << 16;
    lv[3 + 3 * q] = 300;
  }
  run(d, MT_OP_SET_LEVELS, lv, 1 + 33 * MT_LEVEL_ENTRY_WORDS);
  for (uint32_t t = 0; t < TILES; t++) {
    uint32_t k = 1;
    pos[t][0] = neg[t][0] = t;
    for (uint32_t i = 0; i < MT_ROWS && k < 330; i++) {
      if (rnd(5) != 0) continue;
      for (uint32_t j = 0; j < 100 && k < 330; j++) {
        if (rnd(100) >= 12) continue;
        int32_t n = rnd(100) < 79 ? 1 : 2 + (int32_t)rnd(4);
        if (rnd(2)) n = -n;
        pos[t][k] = i << 20 | j << 8 | ((uint32_t)n & 0x7Fu);
        neg[t][k++] = i << 20 | j << 8 | ((uint32_t)-n & 0x7Fu);
      }
    }
    np[t] = k;
  }
  const uint32_t region[6] = {0, 0, 100, 0, 10, 0};
  double best[3] = {1e30, 1e30, 1e30};
  uint32_t entries = 0;
  for (uint32_t t = 0; t < TILES; t++) entries += np[t] - 1;
  for (int r = 0; r < ROUNDS; r++) {
    double t0 = cpu_s();
    for (int it = 0; it < PULSE_REPS; it++)
      for (uint32_t t = 0; t < TILES; t++) run(d, MT_OP_PULSE, (it & 1) ? neg[t] : pos[t], np[t]);
    double t1 = cpu_s();
    for (int it = 0; it < READ_REPS; it++) run(d, MT_OP_READ_CELLS, region, 6);
    double t2 = cpu_s(), tp = 0;
    for (int it = 0; it < PROG_REPS; it++) {
      prog[0] = (uint32_t)it % TILES, prog[1] = 0;
      for (uint32_t e = 0; e < 1400; e++) prog[2 + e] = rnd(MT_ROWS) << 20 | rnd(100) << 8 | rnd(33);
      double s = cpu_s();
      run(d, MT_OP_PROGRAM, prog, 2 + 1400);
      tp += cpu_s() - s;
    }
    if (t1 - t0 < best[0]) best[0] = t1 - t0;
    if (t2 - t1 < best[1]) best[1] = t2 - t1;
    if (tp < best[2]) best[2] = tp;
  }
  printf("bench_cmds: golden-model commands of pulse training, process CPU time, fastest of %d rounds\n",
         ROUNDS);
  printf("  PULSE       %7.2f us per %u entries (%.1f ns an entry), 79%% single pulses\n",
         1e6 * best[0] / PULSE_REPS, entries, 1e9 * best[0] / PULSE_REPS / entries);
  printf("  READ_CELLS  %7.2f us per 100 x 10 weights (2,000 noisy reads)\n", 1e6 * best[1] / READ_REPS);
  printf("  PROGRAM     %7.1f us per 1,400 write-verify weights (%.3f us a weight)\n",
         1e6 * best[2] / PROG_REPS, 1e6 * best[2] / PROG_REPS / 1400);
  free(d);
  return 0;
}
