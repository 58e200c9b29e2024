/* mt-demo: shows what a preset's device does, through libmemtile on any backend: its pulse
 * response, the cost of programming a tile by write-verify and open loop, and the error of
 * the analog MVM. Only the public API (host/include/) is used, so every backend gives the
 * same output for the same device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtile.h"
#include "memtile_layer.h"

#define NVEC 16u /* MVM input vectors */
#define CURVE 96u /* pulses of each polarity in the pulse-response curve */

typedef struct {
  mt_dev *dev;
  const mt_preset *pr;
  uint64_t seed;
  uint32_t rows, cols;
  uint32_t cfg_dac_bits, cfg_adc_bits, cfg_adc_mul, cfg_adc_shift, cfg_read_mode; /* indices */
  uint32_t *cfg;      /* the preset's CONFIGURE fields */
  uint64_t *counters; /* mt_counter_count() of them */
  uint32_t *entries;  /* one PROGRAM entry per weight */
  uint32_t *levels;   /* the level programmed into each weight */
  int16_t *x, *y;     /* NVEC x rows inputs, NVEC x cols outputs */
} demo_t;

/* Reports a failed call by the message on its device; the demo cannot go on after one. */
static int check(demo_t *d, int rc, const char *what) {
  if (rc != MT_OK) fprintf(stderr, "mt-demo: %s: %s\n", what, mt_dev_errmsg(d->dev));
  return rc;
}

/* The index of a field or counter the demo reads; the names are the protocol's. */
static int lookup(int (*find)(const char *), const char *name, uint32_t *out) {
  int k = find(name);
  if (k < 0) {
    fprintf(stderr, "mt-demo: this libmemtile has no field or counter '%s'\n", name);
    return MT_ERR_INVAL;
  }
  *out = (uint32_t)k;
  return MT_OK;
}

static int counter(demo_t *d, const char *name, uint64_t *v) {
  uint32_t k = 0;
  int rc = lookup(mt_counter_find, name, &k);
  if (rc == MT_OK) rc = check(d, mt_dev_stats(d->dev, d->counters, mt_counter_count()), "STATS_GET");
  if (rc == MT_OK) *v = d->counters[k];
  return rc;
}

/* A fresh tile 0: configured, seeded, fabricated, counters cleared. */
static int setup(demo_t *d) {
  int rc = check(d, mt_dev_apply_preset(d->dev, d->pr), "applying the preset");
  if (rc == MT_OK) rc = check(d, mt_dev_seed(d->dev, d->seed), "SEED");
  if (rc == MT_OK) rc = check(d, mt_dev_fabricate(d->dev, d->seed, 0), "FABRICATE");
  if (rc == MT_OK) rc = check(d, mt_dev_stats_reset(d->dev), "STATS_RESET");
  return rc;
}

static int probe(demo_t *d, uint16_t *g) {
  mt_region r = {0, 1, 0, 1};
  return check(d, mt_dev_read_cells(d->dev, 0, r, 1, g, NULL), "READ_CELLS");
}

/* SET then RESET train on one device, printed every few pulses. */
static int pulse_curve(demo_t *d) {
  printf("\nPulse response of device G+ at (0,0) [g as %% of full scale]\n");
  printf("  pulse   SET      RESET\n");
  uint16_t set_curve[CURVE + 1], rst_curve[CURVE + 1];
  int rc = probe(d, &set_curve[0]);
  const uint32_t set1 = 1u;     /* row 0, col 0, G+, n = +1: one SET pulse */
  const uint32_t reset1 = 0x7Fu; /* n = -1 in the 7-bit field: one RESET pulse */
  for (uint32_t k = 1; rc == MT_OK && k <= CURVE; k++) {
    rc = check(d, mt_dev_pulse(d->dev, 0, &set1, 1), "PULSE");
    if (rc == MT_OK) rc = probe(d, &set_curve[k]);
  }
  rst_curve[0] = set_curve[CURVE];
  for (uint32_t k = 1; rc == MT_OK && k <= CURVE; k++) {
    rc = check(d, mt_dev_pulse(d->dev, 0, &reset1, 1), "PULSE");
    if (rc == MT_OK) rc = probe(d, &rst_curve[k]);
  }
  for (uint32_t k = 0; rc == MT_OK && k <= CURVE; k += 12)
    printf("  %5u  %6.2f   %6.2f\n", k, 100.0 * set_curve[k] / 65535, 100.0 * rst_curve[k] / 65535);
  return rc;
}

static uint32_t rand32(uint64_t *x) {
  *x = *x * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*x >> 33);
}

/* Programs every weight of the tile to its level; prints the cost. */
static int program_tile(demo_t *d, uint32_t flags, const char *label) {
  const uint32_t n = d->rows * d->cols;
  for (uint32_t w = 0; w < n; w++) d->entries[w] = (w / d->cols) << 20 | (w % d->cols) << 8 | d->levels[w];
  uint64_t set0 = 0, rst0 = 0, ver0 = 0, e0 = 0, t0 = 0, set1 = 0, rst1 = 0, ver1 = 0, e1 = 0, t1 = 0;
  mt_prog_result res;
  int rc = counter(d, "set_pulses", &set0);
  if (rc == MT_OK) rc = counter(d, "reset_pulses", &rst0);
  if (rc == MT_OK) rc = counter(d, "verify_reads", &ver0);
  if (rc == MT_OK) rc = counter(d, "energy_fj", &e0);
  if (rc == MT_OK) rc = counter(d, "latency_ps", &t0);
  if (rc == MT_OK)
    rc = check(d, mt_dev_program(d->dev, 0, flags | MT_PROGRAM_FORCE, d->entries, n, &res), "PROGRAM");
  if (rc == MT_OK) rc = counter(d, "set_pulses", &set1);
  if (rc == MT_OK) rc = counter(d, "reset_pulses", &rst1);
  if (rc == MT_OK) rc = counter(d, "verify_reads", &ver1);
  if (rc == MT_OK) rc = counter(d, "energy_fj", &e1);
  if (rc == MT_OK) rc = counter(d, "latency_ps", &t1);
  if (rc != MT_OK) return rc;
  double cells = n;
  printf("  %-12s pulses/weight %7.2f  verify reads/weight %7.2f  devices not converged %5u"
         "  energy %10.1f pJ  latency %9.1f us\n",
         label, (double)(set1 - set0 + rst1 - rst0) / cells, (double)(ver1 - ver0) / cells,
         res.wv_failures, (double)(e1 - e0) * 1e-3, (double)(t1 - t0) * 1e-6);
  return MT_OK;
}

/* Mean absolute error of the ADC outputs against the ideal product of the intended level
 * weights, in units of one level step x one DAC LSB. */
static int mvm_error(demo_t *d, uint64_t *rng) {
  uint32_t xmax = (1u << (d->cfg[d->cfg_dac_bits] - 1)) - 1;
  for (uint32_t k = 0; k < NVEC * d->rows; k++) d->x[k] = (int16_t)(rand32(rng) % (xmax + 1));
  int rc = check(d, mt_dev_mvm(d->dev, 0, NVEC, d->rows, d->cols, d->x, d->y), "MVM");
  if (rc != MT_OK) return rc;
  /* Ideal: the level table's target difference, through the same ADC gain. */
  const double gain = d->cfg[d->cfg_adc_mul] / ldexp(1.0, (int)d->cfg[d->cfg_adc_shift]);
  double err = 0, mag = 0;
  for (uint32_t v = 0; v < NVEC; v++) {
    for (uint32_t j = 0; j < d->cols; j++) {
      double ideal = 0;
      for (uint32_t i = 0; i < d->rows; i++) {
        uint16_t gp = 0, gm = 0;
        rc = mt_preset_level_target(d->pr, d->levels[i * d->cols + j], &gp, &gm);
        if (rc != MT_OK) return rc; /* levels[] holds only the preset's levels */
        ideal += d->x[v * d->rows + i] * ((double)gp - (double)gm);
      }
      ideal *= gain;
      err += fabs(d->y[v * d->cols + j] - ideal);
      mag += fabs(ideal);
    }
  }
  printf("\nMVM of %u random non-negative inputs on the programmed tile (read_mode %u):\n"
         "  mean |ADC - ideal| = %.2f codes, %.1f%% of the mean |ideal| output\n",
         NVEC, d->cfg[d->cfg_read_mode], err / (NVEC * d->cols), 100.0 * err / (mag > 0 ? mag : 1));
  return MT_OK;
}

static int run_demo(demo_t *d) {
  const mt_dev_info *info = mt_dev_get_info(d->dev);
  d->rows = info->rows;
  d->cols = info->cols;
  const uint32_t n = d->rows * d->cols, ncnt = mt_counter_count();
  int rc = lookup(mt_config_find, "dac_bits", &d->cfg_dac_bits);
  if (rc == MT_OK) rc = lookup(mt_config_find, "adc_bits", &d->cfg_adc_bits);
  if (rc == MT_OK) rc = lookup(mt_config_find, "adc_mul", &d->cfg_adc_mul);
  if (rc == MT_OK) rc = lookup(mt_config_find, "adc_shift", &d->cfg_adc_shift);
  if (rc == MT_OK) rc = lookup(mt_config_find, "read_mode", &d->cfg_read_mode);
  if (rc != MT_OK) return rc;
  d->cfg = calloc(mt_config_count(), sizeof *d->cfg);
  d->counters = calloc(ncnt, sizeof *d->counters);
  d->entries = calloc(n, sizeof *d->entries);
  d->levels = calloc(n, sizeof *d->levels);
  d->x = calloc((size_t)NVEC * d->rows, sizeof *d->x);
  d->y = calloc((size_t)NVEC * d->cols, sizeof *d->y);
  if (!d->cfg || !d->counters || !d->entries || !d->levels || !d->x || !d->y) {
    fprintf(stderr, "mt-demo: out of memory\n");
    return MT_ERR_NOMEM;
  }
  mt_preset_config(d->pr, d->cfg, mt_config_count());
  printf("memtile, preset '%s': %s\n", mt_preset_name(d->pr), mt_preset_description(d->pr));
  printf("tile %ux%u, %u levels, DAC %u bits, ADC %u bits, read mode %u\n", d->rows, d->cols,
         mt_preset_levels(d->pr), d->cfg[d->cfg_dac_bits], d->cfg[d->cfg_adc_bits],
         d->cfg[d->cfg_read_mode]);
  rc = setup(d);
  if (rc == MT_OK) rc = pulse_curve(d);
  if (rc != MT_OK) return rc;

  uint64_t rng = d->seed;
  const uint32_t nlev = mt_preset_levels(d->pr);
  for (uint32_t w = 0; w < n; w++) d->levels[w] = rand32(&rng) % nlev;
  rc = setup(d); /* fresh tile: the pulse train above wore nothing in */
  if (rc != MT_OK) return rc;
  printf("\nProgramming all %u weights to random levels:\n", n);
  rc = program_tile(d, 0, "write-verify");
  if (rc == MT_OK) rc = mvm_error(d, &rng);
  if (rc == MT_OK) rc = setup(d);
  if (rc != MT_OK) return rc;
  printf("\n");
  rc = program_tile(d, MT_PROGRAM_OPEN_LOOP, "open-loop");
  if (rc == MT_OK) rc = mvm_error(d, &rng);
  if (rc == MT_OK) rc = check(d, mt_dev_stats(d->dev, d->counters, ncnt), "STATS_GET");
  if (rc != MT_OK) return rc;
  printf("\nCounters after the open-loop run:\n");
  for (uint32_t i = 0; i < ncnt; i++)
    printf("  %-18s %llu\n", mt_counter_name(i), (unsigned long long)d->counters[i]);
  return MT_OK;
}

static void usage(FILE *f) {
  fprintf(f, "usage: mt-demo [--device URI] [--preset NAME|FILE] [--seed N]\n"
             "Runs a preset's device (default model://, any URI of mt_dev_open): pulse response,\n"
             "programming cost, MVM error and counters.\n");
}

int main(int argc, char **argv) {
  const char *preset_name = "rram", *uri = "model://";
  demo_t d = {.seed = 1};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--preset") && i + 1 < argc) {
      preset_name = argv[++i];
    } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
      uri = argv[++i];
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      char *end = NULL;
      d.seed = strtoull(argv[++i], &end, 0);
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
  mt_preset *pr = NULL;
  int prc = mt_preset_open(preset_name, &pr);
  if (prc != MT_OK) {
    fprintf(stderr, "mt-demo: %s\n", pr ? mt_preset_errmsg(pr) : "out of memory");
    mt_preset_close(pr);
    return mt_err_exit_status(prc);
  }
  d.pr = pr;
  int rc = mt_dev_open(uri, &d.dev);
  if (rc != MT_OK)
    fprintf(stderr, "mt-demo: %s\n", d.dev ? mt_dev_errmsg(d.dev) : "out of memory");
  else
    rc = run_demo(&d);
  mt_dev_close(d.dev);
  mt_preset_close(pr);
  free(d.cfg);
  free(d.counters);
  free(d.entries);
  free(d.levels);
  free(d.x);
  free(d.y);
  return mt_err_exit_status(rc); /* README.md, "Exit status" */
}
