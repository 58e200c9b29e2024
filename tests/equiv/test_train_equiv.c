/* The CLI end to end on verilator://: memtile info reports the simulated clock, and a tiny
 * training run logs exactly the same epochs (losses, accuracies, every counter, energy and
 * latency) as the same run on model://, apart from wall time and the simulated cycles; also
 * with tile swapping (--max-tiles). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define CLI MT_BUILD_DIR "/san/bin/memtile"

static char tmpdir[] = "/tmp/mt_train_equivXXXXXX";

static int setup(void **state) {
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Runs the CLI with args, output into out (NUL-terminated); returns its exit status. */
static int run_cli(const char *args, char *out, size_t outlen) {
  char cmd[2048], path[256];
  snprintf(path, sizeof path, "%s/out.txt", tmpdir);
  snprintf(cmd, sizeof cmd, "%s %s >'%s' 2>&1", CLI, args, path);
  int st = system(cmd);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(out, 1, outlen - 1, f) : 0;
  out[n] = '\0';
  if (f) fclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void info_reports_cycles(void **state) {
  (void)state;
  static char out[8192];
  int st = run_cli("info --device verilator://", out, sizeof out);
  if (st != 0) fail_msg("memtile info --device verilator:// exited %d:\n%s", st, out);
  assert_non_null(strstr(out, "backends in this build: model://, verilator://"));
  assert_non_null(strstr(out, "tiles of 128x128"));
  const char *c = strstr(out, "sim_cycles ");
  assert_non_null(c);
  /* At least the power-on clear of 16 tiles: 16 * 128 * 128 / 16 words. */
  assert_true(strtoull(c + 11, NULL, 10) >= 16384);
  /* A bad parameter is named. */
  st = run_cli("info --device 'verilator://?frob=1'", out, sizeof out);
  assert_int_equal(st, 2); /* MT_ERR_INVAL (README.md, "Exit status") */
  assert_non_null(strstr(out, "unknown parameter"));
}

/* Drops "wall_s" and "sim_cycles" (and the value after each) from a JSON line. */
static void strip_field(char *line, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  char *p = strstr(line, pat);
  if (!p) return;
  char *q = p + strlen(pat);
  while (*q && *q != ',' && *q != '}') q++;
  if (*q == ',') q += 2; /* ", " */
  memmove(p, q, strlen(q) + 1);
}

/* What training sends (host/src/mt_train.c, mt_map.c, mt_preset_apply.c); NULL if the RTL
 * has all of it, else the first missing opcode. */
/* The same run on both devices logs the same `epochs` lines. */
static void logs_match(const char *common, int want_epochs) {
  static char out[16384];
  char args[1024], logs[2][256];
  const char *dev[2] = {"model://?tiles=16", "verilator://"};
  for (int k = 0; k < 2; k++) {
    snprintf(logs[k], sizeof logs[k], "%s/run%d.jsonl", tmpdir, k);
    snprintf(args, sizeof args, "%s --device '%s' --log %s", common, dev[k], logs[k]);
    int st = run_cli(args, out, sizeof out);
    if (st != 0) fail_msg("memtile %s exited %d:\n%s", args, st, out);
  }
  FILE *f[2] = {fopen(logs[0], "r"), fopen(logs[1], "r")};
  assert_non_null(f[0]);
  assert_non_null(f[1]);
  char a[4096], b[4096];
  int epochs = 0;
  for (;;) {
    char *ra = fgets(a, sizeof a, f[0]), *rb = fgets(b, sizeof b, f[1]);
    if (!ra || !rb) {
      assert_true(!ra && !rb); /* same number of lines */
      break;
    }
    const char *c = strstr(b, "\"sim_cycles\": ");
    if (!c || strtoull(c + 14, NULL, 10) == 0) fail_msg("no sim_cycles in the verilator:// log: %s", b);
    assert_null(strstr(a, "sim_cycles"));
    strip_field(a, "wall_s");
    strip_field(b, "wall_s");
    strip_field(b, "sim_cycles");
    if (strcmp(a, b) != 0) fail_msg("epoch logs differ:\n  model://     %s  verilator:// %s", a, b);
    epochs++;
  }
  fclose(f[0]);
  fclose(f[1]);
  assert_int_equal(epochs, want_epochs);
}

static void train_logs_match(void **state) {
  (void)state;
  logs_match("train --dataset mnist --net 784-16-10 --train-limit 96 --test-limit 48 "
             "--batch 16 --epochs 2 --seed 5", 2);
}

/* The metaplasticity unit in training (META_WRITE, META_UPDATE, READ_LEVELS), over two tasks. */
static void metaplastic_tasks_logs_match(void **state) {
  (void)state;
  logs_match("train --algo metaplastic --tasks mnist,fashion-mnist --net 784-16-10 "
             "--train-limit 64 --test-limit 32 --batch 16 --epochs 1 --seed 5", 2);
}

/* The same with a narrow unit of another design (docs/device-model.md, "Metaplasticity
 * unit"): 12-bit Q5.6 hidden weights, rounding, 32 entries of 8 bits, the interval rule; the
 * preset is rram's with those meta keys. */
static void metaplastic_narrow_unit_logs_match(void **state) {
  (void)state;
  static char text[65536];
  static const char *const from =
      "\"meta\": {\"m\": 3.0, \"index_shift\": 9, \"input_shift\": 0, \"program\": \"write-verify\"}";
  static const char *const to =
      "\"meta\": {\"m\": 3.0, \"index_shift\": 9, \"input_shift\": 0, \"program\": \"write-verify\", "
      "\"hidden_bits\": 12, \"hidden_frac\": 6, \"rounding\": \"nearest\", \"table_log2\": 5, "
      "\"entry_bits\": 8, \"rule\": \"interval\"}";
  FILE *f = fopen(MT_SOURCE_DIR "/presets/rram.json", "r");
  assert_non_null(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  char *at = strstr(text, from);
  assert_non_null(at);
  char path[256];
  snprintf(path, sizeof path, "%s/meta12.json", tmpdir);
  f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  fclose(f);
  char args[512];
  snprintf(args, sizeof args,
           "train --algo metaplastic --preset %s --tasks mnist,fashion-mnist --net 784-16-10 "
           "--train-limit 64 --test-limit 32 --batch 16 --epochs 1 --seed 5", path);
  logs_match(args, 2);
}

/* Open-loop pulse training: PULSE in both directions and noisy READ_CELLS before every
 * backward pass (sgd-pulse), and ssm's stochastic pulses with its read-based options on
 * (re-initialization and compensation reads: the open-loop default is a subset) on a small
 * network. */
static void pulse_training_logs_match(void **state) {
  (void)state;
  logs_match("train --algo sgd-pulse --preset imprecise --lr 0.5 --dataset mnist --net 784-16-10 "
             "--train-limit 64 --test-limit 32 --batch 16 --epochs 1 --seed 5 --w-max 4", 1);
  logs_match("train --algo ssm --ssm-calibrate --ssm-compensate --preset imprecise --dataset mnist "
             "--net 784-2-10 --train-limit 64 --test-limit 32 --batch 16 --epochs 1 --seed 5 "
             "--w-max 4", 1);
}

/* Characterization, re-fabrication and one-shot programming of bit-sliced weights
 * (biased, 2 slices of 2 bits: 16 tiles). */
static void biased_sliced_logs_match(void **state) {
  (void)state;
  logs_match("train --algo biased --preset rram-2bit-sliced --slices 2 --dataset mnist "
             "--net 784-4-10 --train-limit 64 --test-limit 32 --batch 16 --epochs 1 --seed 5 "
             "--w-max 1", 1);
}

/* A dataset of 8x16 images (128 inputs: a 128-16-10 network needs 2 tiles) in tmpdir/tiny:
 * 32 training and 16 test examples, each class a bright 2x2 block at its own place over a
 * pseudo-random background. Small, because each tile moved through the simulated RTL's state
 * transfer costs about 4 s of CPU. */
static void write_tiny_dataset(char *dir, size_t n) {
  snprintf(dir, n, "%s/tiny", tmpdir);
  assert_int_equal(mkdir(dir, 0755), 0);
  static const char *const names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  static const uint32_t count[2] = {32, 16};
  uint32_t s = 12345;
  for (int k = 0; k < 2; k++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, names[2 * k]);
    FILE *im = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/%s", dir, names[2 * k + 1]);
    FILE *lb = fopen(path, "wb");
    assert_non_null(im);
    assert_non_null(lb);
    const unsigned char ih[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)count[k], 0, 0, 0, 8, 0, 0, 0, 16};
    const unsigned char lh[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)count[k]};
    fwrite(ih, 1, sizeof ih, im);
    fwrite(lh, 1, sizeof lh, lb);
    for (uint32_t e = 0; e < count[k]; e++) {
      unsigned char label = (unsigned char)(e % 10), px[128];
      for (int i = 0; i < 128; i++) {
        s = s * 1103515245u + 12345u;
        px[i] = (unsigned char)((s >> 16) & 63);
      }
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) px[(label / 5 * 4 + i) * 16 + (label % 5) * 3 + j] = 255;
      fwrite(px, 1, sizeof px, im);
      fwrite(&label, 1, 1, lb);
    }
    assert_int_equal(fclose(im), 0);
    assert_int_equal(fclose(lb), 0);
  }
}

/* Reads the JSON lines of path into lines (at most 4). */
static int read_lines(const char *path, char lines[][4096]) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  int n = 0;
  while (n < 4 && fgets(lines[n], 4096, f)) n++;
  fclose(f);
  return n;
}

/* Tile swapping (docs/tile-swapping.md) on the RTL: a network of 2 tiles trained through 1 of
 * verilator://'s logs what it logs on all 16 of them, simulated cycles included (swapping's
 * are counted apart), and what model://?tiles=16 logs, apart from the swap fields. */
static void swapped_logs_match(void **state) {
  (void)state;
  static char out[16384], lines[3][4][4096];
  char dir[128], args[2048], logs[3][256];
  write_tiny_dataset(dir, sizeof dir);
  const char *dev[3] = {"model://?tiles=16", "verilator://", "verilator:// --max-tiles 1"};
  int n[3];
  for (int k = 0; k < 3; k++) {
    snprintf(logs[k], sizeof logs[k], "%s/swap%d.jsonl", tmpdir, k);
    snprintf(args, sizeof args, "train --dataset %s --net 128-16-10 --batch 16 --epochs 1 "
             "--seed 5 --device %s --log %s", dir, dev[k], logs[k]);
    int st = run_cli(args, out, sizeof out);
    if (st != 0) fail_msg("memtile %s exited %d:\n%s", args, st, out);
    n[k] = read_lines(logs[k], lines[k]);
    assert_int_equal(n[k], 1);
  }
  static const char *const swap_fields[] = {"swaps", "swap_saves", "swap_transactions",
                                            "swap_bytes", "swap_s"};
  for (int e = 0; e < 1; e++) {
    char *a = lines[0][e], *b = lines[1][e], *c = lines[2][e];
    const char *sw = strstr(c, "\"swaps\": ");
    if (!sw || strtoull(sw + 9, NULL, 10) == 0) fail_msg("no swaps in the swapped log: %s", c);
    for (size_t j = 0; j < sizeof swap_fields / sizeof *swap_fields; j++) {
      assert_null(strstr(b, swap_fields[j]));
      strip_field(c, swap_fields[j]);
    }
    strip_field(a, "wall_s");
    strip_field(b, "wall_s");
    strip_field(c, "wall_s");
    if (strcmp(b, c) != 0) fail_msg("swapping changes the log:\n  16 tiles: %s  1 tile:   %s", b, c);
    strip_field(c, "sim_cycles");
    if (strcmp(a, c) != 0) fail_msg("epoch logs differ:\n  model://?tiles=16 %s  verilator:// 1 tile %s", a, c);
  }
}

/* A device with the piecewise pulse response (resp_class 1): the measured-style table preset,
 * pulsed open loop. Its small steps take about 470 pulses per device to program a weight from
 * the reset state, so the network is small (the centre 10x10 of the images): about 0.4 million
 * pulses, where 784-8-10 on 64 examples took 5.6 million and 5 minutes of the simulated RTL. */
static void table_device_logs_match(void **state) {
  (void)state;
  logs_match("train --algo sgd-pulse --preset reram-es-table --lr 0.5 --dataset mnist "
             "--crop 10 --net 100-4-10 --train-limit 32 --test-limit 32 --batch 16 --epochs 1 "
             "--seed 5 --w-max 4", 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(info_reports_cycles),
      cmocka_unit_test(train_logs_match),
      cmocka_unit_test(metaplastic_tasks_logs_match),
      cmocka_unit_test(metaplastic_narrow_unit_logs_match),
      cmocka_unit_test(pulse_training_logs_match),
      cmocka_unit_test(biased_sliced_logs_match),
      cmocka_unit_test(swapped_logs_match),
      cmocka_unit_test(table_device_logs_match),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
