/* mt-demo: shows what a preset's device does, through the command protocol on
 * the golden model: its pulse response, the cost of programming a tile by
 * write-verify and open loop, and the error of the analog MVM. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_model.h"
#include "mt_preset.h"

#define CMD_CAP (MT_MAX_PAYLOAD + 2u)

typedef struct {
  mt_regs_t regs;
  mt_tile_t tile;
  uint32_t cmd[CMD_CAP];
  uint32_t rsp[CMD_CAP];
  uint32_t *out;
  uint32_t out_len;
} demo_t;

/* Runs one command; exits with the protocol's error details if it fails. */
static void run(demo_t *d, uint32_t op, const uint32_t *payload, uint32_t len) {
  d->cmd[0] = op << 24;
  d->cmd[1] = len;
  if (len) memcpy(d->cmd + 2, payload, len * sizeof *payload);
  uint32_t consumed = 0;
  mt_kernel(d->cmd, len + 2, d->rsp, CMD_CAP, &d->regs, &d->tile, 1, &consumed);
  uint32_t status = d->rsp[0] & 0xFFu;
  if (status != MT_ST_OK) {
    fprintf(stderr, "mt-demo: %s failed: %s (details %u, %u)\n", mt_op_names[op],
            mt_st_names[status], d->rsp[2], d->rsp[3]);
    exit(1);
  }
  d->out = d->rsp + 2;
  d->out_len = d->rsp[1];
}

static uint64_t counter(demo_t *d, uint32_t cnt) {
  run(d, MT_OP_STATS_GET, NULL, 0);
  return d->out[2 * cnt] | (uint64_t)d->out[2 * cnt + 1] << 32;
}

static uint32_t probe(demo_t *d, uint32_t row, uint32_t col, uint32_t dev) {
  uint32_t p[6] = {0, row, 1, col, 1, MT_READ_PROBE};
  run(d, MT_OP_READ_CELLS, p, 6);
  return (d->out[0] >> (16u * dev)) & 0xFFFFu;
}

static void setup(demo_t *d, const mt_preset_t *pr, uint64_t seed) {
  mt_device_reset(&d->regs, &d->tile, 1);
  run(d, MT_OP_CONFIGURE, pr->cfg, MT_CFG_COUNT);
  uint32_t s[3] = {(uint32_t)seed, (uint32_t)(seed >> 32), 0};
  run(d, MT_OP_SEED, s, 2);
  uint32_t lv[1 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS];
  lv[0] = pr->levels;
  memcpy(lv + 1, pr->level_table, pr->levels * MT_LEVEL_ENTRY_WORDS * sizeof *lv);
  run(d, MT_OP_SET_LEVELS, lv, 1 + pr->levels * MT_LEVEL_ENTRY_WORDS);
  run(d, MT_OP_META_TABLE, pr->meta_table, MT_META_TABLE_SIZE / 2);
  run(d, MT_OP_FABRICATE, s, 3);
}

/* SET then RESET train on one device, printed every few pulses. */
static void pulse_curve(demo_t *d) {
  const uint32_t n = 96;
  printf("\nPulse response of device G+ at (0,0) [g as %% of full scale]\n");
  printf("  pulse   SET      RESET\n");
  uint32_t set_curve[97], rst_curve[97];
  set_curve[0] = probe(d, 0, 0, 0);
  for (uint32_t k = 1; k <= n; k++) {
    uint32_t e = 0u << 20 | 0u << 8 | 0u << 7 | 1u;
    uint32_t p[2] = {0, e};
    run(d, MT_OP_PULSE, p, 2);
    set_curve[k] = probe(d, 0, 0, 0);
  }
  rst_curve[0] = set_curve[n];
  for (uint32_t k = 1; k <= n; k++) {
    uint32_t p[2] = {0, 0x7Fu}; /* n = -1: one RESET pulse */
    run(d, MT_OP_PULSE, p, 2);
    rst_curve[k] = probe(d, 0, 0, 0);
  }
  for (uint32_t k = 0; k <= n; k += 12)
    printf("  %5u  %6.2f   %6.2f\n", k, 100.0 * set_curve[k] / 65535, 100.0 * rst_curve[k] / 65535);
}

static uint32_t rand32(uint64_t *x) {
  *x = *x * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*x >> 33);
}

/* Programs every weight of the tile to a random level; prints the cost. */
static void program_tile(demo_t *d, const mt_preset_t *pr, uint32_t flags, const char *label,
                         uint32_t *levels) {
  uint64_t before[MT_CNT_COUNT];
  run(d, MT_OP_STATS_GET, NULL, 0);
  for (uint32_t i = 0; i < MT_CNT_COUNT; i++) before[i] = d->out[2 * i] | (uint64_t)d->out[2 * i + 1] << 32;
  static uint32_t p[2 + MT_ROWS * MT_COLS];
  p[0] = 0;
  p[1] = flags | MT_PROG_FORCE;
  for (uint32_t w = 0; w < MT_ROWS * MT_COLS; w++)
    p[2 + w] = (w / MT_COLS) << 20 | (w % MT_COLS) << 8 | levels[w];
  run(d, MT_OP_PROGRAM, p, 2 + MT_ROWS * MT_COLS);
  uint32_t fails = d->out[2];
  double cells = MT_ROWS * MT_COLS;
  double pulses = (double)(counter(d, MT_CNT_SET_PULSES) - before[MT_CNT_SET_PULSES] +
                           counter(d, MT_CNT_RESET_PULSES) - before[MT_CNT_RESET_PULSES]);
  double reads = (double)(counter(d, MT_CNT_VERIFY_READS) - before[MT_CNT_VERIFY_READS]);
  double energy = (double)(counter(d, MT_CNT_ENERGY_FJ) - before[MT_CNT_ENERGY_FJ]) * 1e-3;
  double lat = (double)(counter(d, MT_CNT_LATENCY_PS) - before[MT_CNT_LATENCY_PS]) * 1e-6;
  printf("  %-12s pulses/weight %7.2f  verify reads/weight %7.2f  devices not converged %5u"
         "  energy %10.1f pJ  latency %9.1f us\n",
         label, pulses / cells, reads / cells, fails, energy, lat);
  (void)pr;
}

/* Mean absolute error of the ADC outputs against the ideal product of the
 * intended level weights, in units of one level step x one DAC LSB. */
static void mvm_error(demo_t *d, const mt_preset_t *pr, const uint32_t *levels, uint64_t *rng) {
  const uint32_t nvec = 16;
  int32_t xmax = (1 << (pr->cfg[MT_CFG_DAC_BITS] - 1)) - 1;
  static uint32_t p[4 + 16 * MT_ROWS / 2];
  p[0] = 0;
  p[1] = nvec;
  p[2] = MT_ROWS;
  p[3] = MT_COLS;
  static int32_t x[16][MT_ROWS];
  for (uint32_t v = 0; v < nvec; v++) {
    for (uint32_t i = 0; i < MT_ROWS; i += 2) {
      x[v][i] = (int32_t)(rand32(rng) % (uint32_t)(xmax + 1));
      x[v][i + 1] = (int32_t)(rand32(rng) % (uint32_t)(xmax + 1));
      p[4 + v * MT_ROWS / 2 + i / 2] = ((uint32_t)x[v][i] & 0xFFFFu) | (uint32_t)x[v][i + 1] << 16;
    }
  }
  run(d, MT_OP_MVM, p, 4 + nvec * MT_ROWS / 2);
  /* Ideal: the level table's target difference, through the same ADC gain. */
  double err = 0, mag = 0;
  for (uint32_t v = 0; v < nvec; v++) {
    for (uint32_t j = 0; j < MT_COLS; j++) {
      double ideal = 0;
      for (uint32_t i = 0; i < MT_ROWS; i++) {
        const uint32_t *e = pr->level_table + levels[i * MT_COLS + j] * MT_LEVEL_ENTRY_WORDS;
        ideal += x[v][i] * ((double)(e[0] & 0xFFFFu) - (double)(e[0] >> 16));
      }
      ideal *= pr->cfg[MT_CFG_ADC_MUL] / ldexp(1.0, (int)pr->cfg[MT_CFG_ADC_SHIFT]);
      int32_t y = (int16_t)(uint16_t)(d->out[v * MT_COLS / 2 + j / 2] >> (16u * (j % 2)));
      err += fabs(y - ideal);
      mag += fabs(ideal);
    }
  }
  printf("\nMVM of 16 random non-negative inputs on the programmed tile (read_mode %u):\n"
         "  mean |ADC - ideal| = %.2f codes, %.1f%% of the mean |ideal| output\n",
         pr->cfg[MT_CFG_READ_MODE], err / (nvec * MT_COLS), 100.0 * err / (mag > 0 ? mag : 1));
}

static void usage(FILE *f) {
  fprintf(f, "usage: mt-demo [--preset FILE] [--seed N]\n"
             "Runs a preset's device on the golden model: pulse response, programming cost,\n"
             "MVM error and counters.\n");
}

int main(int argc, char **argv) {
  const char *preset_path = "presets/rram.json";
  uint64_t seed = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--preset") && i + 1 < argc) {
      preset_path = argv[++i];
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      char *end = NULL;
      seed = strtoull(argv[++i], &end, 0);
      if (*end) {
        fprintf(stderr, "mt-demo: --seed: '%s' is not a number\n", argv[i]);
        return 2;
      }
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "mt-demo: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  static mt_preset_t pr;
  char err[512];
  if (mt_preset_load(preset_path, &pr, err, sizeof err) != 0) {
    fprintf(stderr, "mt-demo: %s\n", err);
    return 1;
  }
  demo_t *d = calloc(1, sizeof *d);
  if (!d) return 1;
  setup(d, &pr, seed);
  printf("memtile golden model, preset '%s': %s\n", pr.name, pr.description);
  printf("tile %ux%u, %u levels, DAC %u bits, ADC %u bits, read mode %u\n", MT_ROWS, MT_COLS,
         pr.levels, pr.cfg[MT_CFG_DAC_BITS], pr.cfg[MT_CFG_ADC_BITS], pr.cfg[MT_CFG_READ_MODE]);
  pulse_curve(d);

  static uint32_t levels[MT_ROWS * MT_COLS];
  uint64_t rng = seed;
  for (uint32_t w = 0; w < MT_ROWS * MT_COLS; w++) levels[w] = rand32(&rng) % pr.levels;
  setup(d, &pr, seed); /* fresh tile: the pulse train above wore nothing in */
  printf("\nProgramming all %u weights to random levels:\n", MT_ROWS * MT_COLS);
  program_tile(d, &pr, 0, "write-verify", levels);
  mvm_error(d, &pr, levels, &rng);
  setup(d, &pr, seed);
  printf("\n");
  program_tile(d, &pr, MT_PROG_OPEN_LOOP, "open-loop", levels);
  mvm_error(d, &pr, levels, &rng);

  printf("\nCounters after the open-loop run:\n");
  run(d, MT_OP_STATS_GET, NULL, 0);
  for (uint32_t i = 0; i < MT_CNT_COUNT; i++)
    printf("  %-18s %llu\n", mt_cnt_names[i],
           (unsigned long long)(d->out[2 * i] | (uint64_t)d->out[2 * i + 1] << 32));
  free(d);
  return 0;
}
