/* memtile: command-line front end of libmemtile. */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memtile.h"
#include "memtile_char.h"
#include "memtile_layer.h"
#include "memtile_plot.h"
#include "memtile_train.h"

#define MT_VERSION "0.1.0"

static const char *const usage_main =
    "usage: memtile <command> [options]\n"
    "\n"
    "Emulated memristor crossbar tiles for in-situ training experiments.\n"
    "\n"
    "commands:\n"
    "  train    train an MLP on a device (or in float) and log update/energy statistics\n"
    "  characterize  measure the spread of every level after programming; favourable levels\n"
    "  info     describe a device, a preset and this build\n"
    "  plot     draw training logs as a PNG figure (gnuplot)\n"
    "  meta-sweep  the metaplasticity unit's design space: train and synthesize every setting\n"
    "           of a grid, one table and a Pareto figure (scripts/meta_sweep.py)\n"
    "\n"
    "Run 'memtile <command> --help' for the options of a command.\n";

static const char *const usage_train =
    "usage: memtile train [options]\n"
    "\n"
    "  --device URI       device: model:// (default, sized to the network), model://?tiles=N,\n"
    "                     verilator://, verilator://?link=usb (the USB path, framed;\n"
    "                     &faults=drop:P,corrupt:P,dup:P&seed=N), xrt://N, usb://VID:PID\n"
    "  --preset FILE      device preset: a JSON file or a name in presets/ (default rram)\n"
    "  --dataset NAME     mnist, fashion-mnist (default) or a directory with the IDX files\n"
    "  --net SIZES        layer sizes, e.g. 784-256-10 (default), or a CNN such as\n"
    "                     28x28x1-c5x8-p2-c5x16-p2-10 (docs/algorithms.md)\n"
    "  --tasks LIST       continual learning: comma-separated datasets (as --dataset) trained\n"
    "                     in turn, --epochs each; every task is tested after every epoch;\n"
    "                     permuted-NAME:K is K permuted-pixel tasks of NAME (permuted-mnist:3)\n"
    "  --algo NAME        the training algorithm (default siamese; the list is below)\n"
    "  --levels L         levels per weight, 2..256 (default: the preset's)\n"
    "  --epochs N         (default 3)\n"
    "  --batch B          (default 32)\n"
    "  --lr X             learning rate (default 0.05)\n"
    "  --seed S           seeds weights, shuffling, fabrication and device noise (default 1)\n"
    "  --train-limit N    use the first N training examples (default all)\n"
    "  --test-limit N     use the first N test examples (default all)\n"
    "  --crop S           keep the centre SxS pixels of every image (20: NeuroSim's 400-100-10;\n"
    "                     --net then starts with S*S, or SxSx1 for a CNN)\n"
    "  --val N            hold the last N training examples (of each task) out of training as\n"
    "                     a validation split; its accuracy is logged as val_accuracy (default 0);\n"
    "                     conventional/biased: the epoch of best val_accuracy is the result\n"
    "  --accumulate K     siamese: apply the summed gradient every K batches (default 1)\n"
    "  --compensate MODE  siamese: readback (default) or none\n"
    "  --w-max X          top level = X times the layer's initial weight bound (default 2)\n"
    "  --open-loop        program by nominal pulse counts instead of write-verify\n"
    "  --changed-only     closed-loop: write-verify only the weights whose level changed\n"
    "                     (default: every weight, every step)\n"
    "  --momentum B       ssm: momentum of the gradients, 0..1 (default 0.9)\n"
    "  --ssm-compensate   ssm: read every pulsed device before and after its pulses and top up\n"
    "                     large misses (ours; default off: the paper's open loop, no reads)\n"
    "  --ssm-calibrate    ssm: measure every device's pulse response at initialisation and\n"
    "                     program the initial weights in closed loop (ours; default off)\n"
    "  --important P      biased: fraction [0, 1] of each layer kept on favourable levels\n"
    "                     (default 0.25), or a comma list P1,P2,... with one per layer\n"
    "  --importance MODE  biased: what the fraction ranks: saliency (default; the crossbar\n"
    "                     columns of largest sum of |w dL/dw| over the last epoch, Diware's)\n"
    "                     or magnitude (single weights of largest |w|)\n"
    "  --favourable K     conventional/biased: favourable levels, the K of lowest spread\n"
    "                     (default (3L+2)/4)\n"
    "  --slices N         conventional/biased: each weight a two's-complement code bit-sliced\n"
    "                     onto N devices (Diware's encoding; a 7-level preset gives 2 bits per\n"
    "                     device); biased then constrains the top slice's state\n"
    "  --draws K          conventional/biased: after the last epoch, program the result (with\n"
    "                     --val the epoch of best validation accuracy) onto K more dies and\n"
    "                     test each; logs every accuracy, their mean and sd (default 1: none)\n"
    "  --drift-eval T,..  after the last epoch, let the result on the device (with --val and\n"
    "                     conventional/biased the best epoch's network, programmed anew)\n"
    "                     drift (the preset's device.drift) to each time T in seconds after\n"
    "                     programming (increasing; aihwkit's convention, ratio (T + 20 s) /\n"
    "                     20 s) and test it there; logs drift_epoch and drift_eval: [{drift_t,\n"
    "                     test_accuracy}, ...], and in the CSV drift_epoch, drift_t_k,\n"
    "                     drift_accuracy_k\n"
    "  --meta-m M         metaplastic: consolidation strength m, weights normalised to\n"
    "                     [-1, 1] (default 3; 0 = no metaplasticity)\n"
    "  --optimizer NAME   float/metaplastic: sgd (default) or adam; metaplastic sends Adam's\n"
    "                     step lr m_hat/(sqrt(v_hat)+eps) to the unit, the moments stay on the host\n"
    "  --adam-beta1 B     adam: decay of the first moment, 0..1 (default 0.9)\n"
    "  --adam-beta2 B     adam: decay of the second moment, 0..1 (default 0.999)\n"
    "  --adam-eps E       adam: added to sqrt(v_hat) (default 1e-8)\n"
    "  --batchnorm        float/metaplastic: BatchNorm on the hidden layers, on the host,\n"
    "                     between the MVM output and the ReLU (batch statistics in training,\n"
    "                     running statistics at test; needs --batch >= 2)\n"
    "  --batchnorm-state S  with --batchnorm and --tasks: shared (default, one state) or\n"
    "                     per-task (each task tested with the state its training left)\n"
    "  --max-tiles N      use at most N of the device's tiles; a network needing more runs\n"
    "                     by swapping tiles through them (docs/tile-swapping.md; same results,\n"
    "                     swap traffic logged apart)\n"
    "  --log FILE         one JSON object per epoch to FILE, and a CSV beside it\n"
    "  --checkpoint FILE  save the whole experiment (weights, optimizer, device) after every\n"
    "                     epoch, atomically\n"
    "  --resume FILE      continue a run from its checkpoint (same options; --epochs may grow\n"
    "                     with one task); --log then appends\n"
    "  --help             this text\n";

static const char *const usage_characterize =
    "usage: memtile characterize [options]\n"
    "\n"
    "Programs cells of a freshly fabricated tile to every level (write-verify), reads them back\n"
    "(noisy READ_CELLS, averaged over --reads reads) and reports, per level, the mean and the\n"
    "standard deviation of the achieved weight G+ - G-. The K levels of lowest spread (mirror\n"
    "levels q and L-1-q ranked by their mean sigma) are favourable.\n"
    "\n"
    "  --device URI       device (default model://?tiles=1)\n"
    "  --preset FILE      device preset: a JSON file or a name in presets/ (default rram)\n"
    "  --levels L         levels per weight, 2..256 (default: the preset's)\n"
    "  --samples N        cells per level (default 256)\n"
    "  --reads R          reads averaged per cell (default 4)\n"
    "  --favourable K     number of favourable levels, 1..L (default (3L+2)/4)\n"
    "  --seed S           fabrication and noise seed (default 1)\n"
    "  --out FILE         write the report as JSON\n"
    "  --plot FILE.png    also draw the pulse response (SET and RESET trains on the devices of\n"
    "                     --samples cells, at most a tile) and the achieved weights per level\n"
    "  --help             this text\n";

static const char *const usage_plot =
    "usage: memtile plot LOG.jsonl... -o FILE.png [--what LIST] [--title TEXT]\n"
    "\n"
    "Draws the logs of memtile train --log (one curve per log) as one PNG figure with gnuplot.\n"
    "\n"
    "  -o, --out FILE     the PNG to write\n"
    "  --what LIST        panels, comma-separated: accuracy (test accuracy per epoch), tasks\n"
    "                     (every task's accuracy, --tasks runs), pulses (SET + RESET per epoch),\n"
    "                     energy (per epoch), all (default; tasks only where a log has tasks)\n"
    "  --title TEXT       the figure's title (default: the log's name)\n"
    "  --help             this text\n";

static const char *const usage_info =
    "usage: memtile info [--device URI] [--preset FILE]\n"
    "\n"
    "Prints the device's self-description (INFO), the preset's parameters and this build.\n";

static int bad_value(const char *cmd, const char *opt, const char *val, const char *what) {
  fprintf(stderr, "memtile %s: %s: '%s' is not %s\n", cmd, opt, val, what);
  return 2;
}

static int parse_u32(const char *cmd, const char *opt, const char *val, uint32_t lo, uint32_t hi,
                     uint32_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(val, &end, 10);
  if (errno || end == val || *end || val[0] == '-' || v < lo || v > hi) {
    char what[96];
    snprintf(what, sizeof what, "an integer in [%u, %u]", lo, hi);
    return bad_value(cmd, opt, val, what);
  }
  *out = (uint32_t)v;
  return 0;
}

/* The algorithms' names, comma-separated (from the library's registry). */
static void algo_list(char *out, size_t n) {
  size_t used = 0;
  out[0] = '\0';
  const char *name;
  for (uint32_t k = 0; (name = mt_train_algo_name(k)) != NULL && used < n; k++) {
    int w = snprintf(out + used, n - used, "%s%s", k ? ", " : "", name);
    if (w < 0) break;
    used += (size_t)w;
  }
}

/* Hands every "--option value" to the trainer, which checks it. 0, 1 after --help, or 2. */
static int parse_train(int argc, char **argv, mt_trainer *t) {
  for (int i = 0; i < argc; i++) {
    const char *opt = argv[i];
    if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
      char algos[512];
      algo_list(algos, sizeof algos);
      fputs(usage_train, stdout);
      printf("\nalgorithms (docs/algorithms.md): %s\n", algos);
      return 1;
    }
    int takes = strncmp(opt, "--", 2) ? MT_ERR_INVAL : mt_train_option_kind(opt);
    if (takes < 0) {
      fprintf(stderr, "memtile train: unknown option '%s' (see memtile train --help)\n", opt);
      return 2;
    }
    const char *val = "1"; /* a flag: present means on */
    if (takes) {
      if (i + 1 >= argc) {
        fprintf(stderr, "memtile train: %s needs a value\n", opt);
        return 2;
      }
      val = argv[++i];
    }
    if (mt_trainer_set(t, opt, val) != MT_OK) {
      fprintf(stderr, "memtile train: %s\n", mt_train_errmsg(t));
      return 2;
    }
  }
  return 0;
}

typedef struct {
  int tty;
  uint32_t last_pct;
} progress_t;

static void on_progress(void *ctx, uint32_t epoch, uint32_t done, uint32_t total, double loss) {
  progress_t *p = ctx;
  uint32_t pct = total ? (uint32_t)(100ull * done / total) : 100;
  if (p->tty) {
    char bar[31];
    uint32_t fill = pct * 30 / 100;
    for (uint32_t k = 0; k < 30; k++) bar[k] = k < fill ? '=' : (k == fill ? '>' : ' ');
    bar[30] = '\0';
    fprintf(stderr, "\repoch %u [%s] %3u%%  loss %.4f", epoch, bar, pct, loss);
    if (done == total) fputs("\r\033[K", stderr);
  } else if (pct / 25 != p->last_pct / 25 || done == total) {
    if (pct % 25 == 0 || done == total) fprintf(stderr, "epoch %u: %u%% (loss %.4f)\n", epoch, pct, loss);
  }
  p->last_pct = pct;
}

static int on_epoch(void *ctx, const mt_epoch_stats *s) {
  progress_t *p = ctx;
  printf("epoch %u  loss %.4f  train %.2f%%  test %.2f%%  programmed %llu  skipped %llu  "
         "pulses %llu+%llu  verify %llu  energy %.4g uJ  latency %.4g ms  %.1f s\n",
         s->epoch, s->train_loss, 100 * s->train_accuracy, 100 * s->test_accuracy,
         (unsigned long long)s->cells_programmed, (unsigned long long)s->updates_skipped,
         (unsigned long long)s->set_pulses, (unsigned long long)s->reset_pulses,
         (unsigned long long)s->verify_reads, s->energy_pj * 1e-6, s->latency_ns * 1e-6, s->wall_s);
  if (s->has_sim_cycles) printf("  sim_cycles %llu\n", (unsigned long long)s->sim_cycles);
  if (s->has_swaps)
    printf("  tile swapping (emulator overhead): %llu loads, %llu saves, %llu commands, %.4g MB, "
           "%.2f s\n", (unsigned long long)s->swaps, (unsigned long long)s->swap_saves,
           (unsigned long long)s->swap_transactions, s->swap_bytes * 1e-6, s->swap_s);
  if (s->has_val) printf("  validation %.2f%% (--val split)\n", 100 * s->val_accuracy);
  if (s->has_sw_accuracy)
    printf("  software test %.2f%% (float, before programming); test above: on the device after "
           "programming\n", 100 * s->sw_test_accuracy);
  if (s->has_best)
    printf("  best epoch so far %u: validation %.2f%%, test %.2f%% (the result with --val)\n",
           s->best_epoch, 100 * s->best_val_accuracy, 100 * s->best_test_accuracy);
  if (s->n_draws) {
    printf("  %u draws of the result on fresh dies: test mean %.2f%%, sd %.2f%% (", s->n_draws,
           100 * s->draw_mean, 100 * s->draw_sd);
    for (uint32_t k = 0; k < s->n_draws; k++) printf("%s%.2f", k ? " " : "", 100 * s->draw_accuracy[k]);
    printf(")\n");
  }
  if (s->n_drift)
    printf("  drift of epoch %u's network%s\n", s->drift_epoch,
           s->has_best ? " (the best epoch's, programmed anew on the run's die)" : "");
  for (uint32_t k = 0; k < s->n_drift; k++)
    printf("  drifted to %g s after programming: test %.2f%%\n", s->drift_t[k], 100 * s->drift_accuracy[k]);
  fflush(stdout);
  p->last_pct = 0;
  if (s->n_tasks > 1) {
    printf("  task %u/%u, test accuracy per task:", s->task, s->n_tasks);
    for (uint32_t k = 0; k < s->n_tasks; k++) printf(" %.2f%%", 100 * s->task_accuracy[k]);
    printf("\n");
  }
  return 0;
}

static void on_started(void *ctx, const char *summary) {
  (void)ctx;
  printf("memtile train: %s\n", summary);
  fflush(stdout);
}

/* The framed link's counters (usb://, verilator://?link=usb; docs/usb.md): what the faults
 * cost, and that the device ran every command the host issued. Nothing for other backends. */
static void print_link_stats(mt_dev *dev) {
  mt_link_stats s;
  if (!dev || mt_dev_link_stats(dev, &s) != MT_OK) return; /* float training has no device */
  printf("link: %llu frames, %llu retransmits, %llu CRC errors, %llu duplicates, %llu timeouts; "
         "commands issued %llu, run by the device %llu\n",
         (unsigned long long)s.frames, (unsigned long long)s.retransmits,
         (unsigned long long)s.crc_errors, (unsigned long long)s.duplicates,
         (unsigned long long)s.timeouts, (unsigned long long)s.commands_issued,
         (unsigned long long)s.commands);
}

static int cmd_train(int argc, char **argv) {
  mt_trainer *t = NULL;
  int crc = mt_trainer_create(NULL, &t);
  if (crc != MT_OK) {
    fprintf(stderr, "memtile train: %s\n", mt_train_errmsg(t));
    mt_trainer_close(t);
    return mt_err_exit_status(crc);
  }
  int rc = parse_train(argc, argv, t);
  if (rc) {
    mt_trainer_close(t);
    return rc == 1 ? 0 : rc;
  }
  progress_t prog = {isatty(STDERR_FILENO), 0};
  mt_train_callbacks cb = {on_started, on_progress, on_epoch, &prog};
  rc = mt_trainer_run(t, &cb);
  if (rc != MT_OK) fprintf(stderr, "memtile train: %s\n", mt_train_errmsg(t));
  else print_link_stats(mt_trainer_device(t));
  mt_trainer_close(t);
  /* One status per class (README.md, "Exit status"): options that contradict each other
   * are a usage error (2), like a bad value. */
  return mt_err_exit_status(rc);
}

static int cmd_characterize(int argc, char **argv) {
  const char *cmd = "characterize", *device = "model://?tiles=1", *preset_name = "rram", *out = NULL;
  const char *plot = NULL;
  uint32_t levels = 0, samples = MT_CHAR_DEFAULT_SAMPLES, reads = MT_CHAR_DEFAULT_READS, fav = 0;
  uint64_t seed = 1;
  for (int i = 0; i < argc; i++) {
    const char *opt = argv[i];
    if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
      fputs(usage_characterize, stdout);
      return 0;
    }
    if (strcmp(opt, "--device") && strcmp(opt, "--preset") && strcmp(opt, "--levels") &&
        strcmp(opt, "--samples") && strcmp(opt, "--reads") && strcmp(opt, "--favourable") &&
        strcmp(opt, "--seed") && strcmp(opt, "--out") && strcmp(opt, "--plot")) {
      fprintf(stderr, "memtile characterize: unknown option '%s' (see memtile characterize --help)\n", opt);
      return 2;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "memtile characterize: %s needs a value\n", opt);
      return 2;
    }
    const char *val = argv[++i];
    int rc = 0;
    if (!strcmp(opt, "--device")) device = val;
    else if (!strcmp(opt, "--preset")) preset_name = val;
    else if (!strcmp(opt, "--out")) out = val;
    else if (!strcmp(opt, "--plot")) plot = val;
    else if (!strcmp(opt, "--levels")) rc = parse_u32(cmd, opt, val, 2, 256, &levels);
    else if (!strcmp(opt, "--samples")) rc = parse_u32(cmd, opt, val, 2, 1000000, &samples);
    else if (!strcmp(opt, "--reads")) rc = parse_u32(cmd, opt, val, 1, 1000, &reads);
    else if (!strcmp(opt, "--favourable")) rc = parse_u32(cmd, opt, val, 1, 256, &fav);
    else {
      char *end = NULL;
      errno = 0;
      seed = strtoull(val, &end, 0);
      if (errno || end == val || *end || val[0] == '-') return bad_value(cmd, opt, val, "a non-negative integer");
    }
    if (rc) return rc;
  }
  mt_preset *p = NULL;
  mt_dev *dev = NULL;
  mt_char *c = NULL;
  int rc = mt_preset_open(preset_name, &p);
  if (rc != MT_OK) {
    fprintf(stderr, "memtile characterize: %s\n", mt_preset_errmsg(p));
    goto out;
  }
  if (levels && (rc = mt_preset_use_levels(p, levels)) != MT_OK) {
    fprintf(stderr, "memtile characterize: --levels: %s\n", mt_preset_errmsg(p));
    goto out;
  }
  if (fav > mt_preset_levels(p)) {
    fprintf(stderr, "memtile characterize: --favourable: %u is more than the %u levels\n", fav,
            mt_preset_levels(p));
    rc = MT_ERR_INVAL;
    goto out;
  }
  if ((rc = mt_dev_open(device, &dev)) != MT_OK) {
    fprintf(stderr, "memtile characterize: %s\n", mt_dev_errmsg(dev));
    goto out;
  }
  if ((rc = mt_char_run(dev, p, seed, samples, reads, fav, plot != NULL, &c)) != MT_OK ||
      (plot && (rc = mt_char_plot(c, dev, plot)) != MT_OK)) {
    fprintf(stderr, "memtile characterize: %s\n", mt_char_errmsg(c));
    goto out;
  }
  double st = mt_char_level_step(c) > 0 ? mt_char_level_step(c) : 1;
  const uint32_t nl = mt_char_levels(c);
  mt_char_level first, lv;
  mt_char_get_level(c, 0, &first);
  printf("memtile characterize: preset %s, %u levels, %u cells per level, %u reads averaged per cell, "
         "seed %llu\n", mt_preset_name(p), nl, samples, reads, (unsigned long long)seed);
  printf("level step %.1f g units; read sigma %.1f g units per device (averaging leaves "
         "sqrt(2/%u) of it in each D)\n", mt_char_level_step(c), mt_char_read_sigma(c), reads);
  printf("%5s %10s %10s %9s %9s %8s %8s %6s %s\n", "level", "target_g", "mean_g", "sigma_g", "rms_g",
         "mean_lv", "sigma_lv", "wvfail", "favourable");
  for (uint32_t q = 0; q < nl && mt_char_get_level(c, q, &lv) == MT_OK; q++)
    printf("%5u %10.1f %10.1f %9.1f %9.1f %8.3f %8.4f %6u %s\n", q, lv.target, lv.mean, lv.sigma, lv.rms,
           (lv.mean - first.target) / st, lv.sigma / st, lv.wv_failures, lv.favourable ? "yes" : "");
  printf("favourable (%u of %u, lowest mean sigma of each mirror pair q, L-1-q):", mt_char_favourable_k(c), nl);
  for (uint32_t q = 0; q < nl && mt_char_get_level(c, q, &lv) == MT_OK; q++)
    if (lv.favourable) printf(" %u", q);
  printf("\n");
  if (out && (rc = mt_char_write_json(c, mt_preset_name(p), out)) != MT_OK) {
    fprintf(stderr, "memtile characterize: %s\n", mt_char_errmsg(c));
    goto out;
  }
out:
  mt_char_close(c);
  mt_dev_close(dev);
  mt_preset_close(p);
  return mt_err_exit_status(rc);
}

static int cmd_plot(int argc, char **argv) {
  const char **logs = calloc(argc > 0 ? (size_t)argc : 1, sizeof *logs);
  const char *png = NULL, *title = NULL;
  size_t n = 0;
  uint32_t what = MT_PLOT_ALL;
  char err[1024];
  if (!logs) {
    fprintf(stderr, "memtile plot: out of memory\n");
    return mt_err_exit_status(MT_ERR_NOMEM);
  }
  int status = 2;
  for (int i = 0; i < argc; i++) {
    const char *opt = argv[i];
    if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
      fputs(usage_plot, stdout);
      status = 0;
      goto out;
    }
    if (!strcmp(opt, "-o") || !strcmp(opt, "--out") || !strcmp(opt, "--what") || !strcmp(opt, "--title")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "memtile plot: %s needs a value\n", opt);
        goto out;
      }
      const char *val = argv[++i];
      if (opt[1] != '-' || opt[2] == 'o') png = val;
      else if (opt[2] == 't') title = val;
      else if (mt_plot_parse_what(val, &what, err, sizeof err) != MT_OK) {
        fprintf(stderr, "memtile plot: %s\n", err);
        goto out;
      }
      continue;
    }
    if (opt[0] == '-' && opt[1]) {
      fprintf(stderr, "memtile plot: unknown option '%s' (see memtile plot --help)\n", opt);
      goto out;
    }
    logs[n++] = opt;
  }
  if (n == 0 || !png) {
    fprintf(stderr, "memtile plot: %s (see memtile plot --help)\n", n ? "-o FILE.png is missing" : "no log given");
    goto out;
  }
  int rc = mt_plot_logs(logs, n, what, title, png, err, sizeof err);
  if (rc != MT_OK) fprintf(stderr, "memtile plot: %s\n", err);
  status = mt_err_exit_status(rc);
out:
  free(logs);
  return status;
}

static int cmd_info(int argc, char **argv) {
  const char *device = "model://", *preset_name = NULL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage_info, stdout);
      return 0;
    }
    if ((!strcmp(argv[i], "--device") || !strcmp(argv[i], "--preset")) && i + 1 < argc) {
      if (argv[i][2] == 'd') device = argv[++i];
      else preset_name = argv[++i];
      continue;
    }
    fprintf(stderr, "memtile info: unknown or incomplete option '%s' (see memtile info --help)\n", argv[i]);
    return 2;
  }
  uint32_t proto = mt_protocol_version();
  printf("memtile %s, protocol %u.%u, built %s\n", MT_VERSION, proto >> 16, proto & 0xFFFFu, __DATE__);
  printf("backends in this build: model://%s%s, usb://VID:PID\n",
         mt_backend_available("verilator") ? ", verilator://" : "",
         mt_backend_available("xrt") ? ", xrt://N" : "");
  mt_dev *dev = NULL;
  int rc = mt_dev_open(device, &dev);
  if (rc != MT_OK) {
    fprintf(stderr, "memtile info: %s\n", mt_dev_errmsg(dev));
    mt_dev_close(dev);
    return mt_err_exit_status(rc);
  }
  const mt_dev_info *i = mt_dev_get_info(dev);
  printf("device %s: protocol %u.%u, %u tiles of %ux%u weights (differential pairs), %u noise lanes,\n"
         "  up to %u levels, max payload %u words, max MVM batch %u, features 0x%x\n",
         device, i->version >> 16, i->version & 0xFFFFu, i->tiles, i->rows, i->cols, i->lanes,
         i->max_levels, i->max_payload, i->max_batch, i->features);
  uint64_t cycles = 0;
  if (mt_dev_cycles(dev, &cycles) == MT_OK)
    printf("  simulated RTL: sim_cycles %llu (reset, power-on clear and INFO)\n",
           (unsigned long long)cycles);
  print_link_stats(dev);
  mt_dev_close(dev);
  if (preset_name) {
    mt_preset *p = NULL;
    if ((rc = mt_preset_open(preset_name, &p)) != MT_OK) {
      fprintf(stderr, "memtile info: %s\n", mt_preset_errmsg(p));
      mt_preset_close(p);
      return mt_err_exit_status(rc);
    }
    uint32_t cfg[256], n = mt_config_count();
    assert(n <= sizeof cfg / sizeof *cfg);
    mt_preset_config(p, cfg, n);
    printf("preset %s (%s): %s\n  %u levels; CONFIGURE fields:\n", mt_preset_name(p), mt_preset_path(p),
           mt_preset_description(p), mt_preset_levels(p));
    for (uint32_t k = 0; k < n; k++) printf("    %-16s %u%s", mt_config_name(k), cfg[k], k % 3 == 2 ? "\n" : "");
    printf("\n");
    mt_preset_close(p);
  }
  return 0;
}

/* memtile meta-sweep: the sweep is a Python program of the source tree (its runner is
 * scripts/sweep.py's, which Slurm's compute nodes run too); this hands it the arguments. */
static int cmd_meta_sweep(int argc, char **argv) {
  const char *py = getenv("PYTHON");
  char script[PATH_MAX];
  snprintf(script, sizeof script, "%s/scripts/meta_sweep.py", MT_SOURCE_DIR);
  if (access(script, R_OK) != 0) {
    fprintf(stderr, "memtile meta-sweep: %s: %s (the sweep runs from memtile's source tree)\n",
            script, strerror(errno));
    return 1;
  }
  char **av = calloc((size_t)argc + 3, sizeof *av);
  if (!av) {
    fprintf(stderr, "memtile meta-sweep: out of memory\n");
    return 1;
  }
  av[0] = (char *)(py && *py ? py : "python3");
  av[1] = script;
  for (int i = 0; i < argc; i++) av[i + 2] = argv[i];
  execvp(av[0], av);
  fprintf(stderr, "memtile meta-sweep: cannot run %s: %s\n", av[0], strerror(errno));
  free(av);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage_main, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("memtile %s\n", MT_VERSION);
    return 0;
  }
  if (!strcmp(argv[1], "train")) return cmd_train(argc - 2, argv + 2);
  if (!strcmp(argv[1], "info")) return cmd_info(argc - 2, argv + 2);
  if (!strcmp(argv[1], "characterize")) return cmd_characterize(argc - 2, argv + 2);
  if (!strcmp(argv[1], "plot")) return cmd_plot(argc - 2, argv + 2);
  if (!strcmp(argv[1], "meta-sweep")) return cmd_meta_sweep(argc - 2, argv + 2);
  fprintf(stderr, "memtile: unknown command '%s' (see memtile --help)\n", argv[1]);
  return 2;
}
