/* The CLI end to end on verilator://: memtile info reports the simulated clock, and a tiny
 * training run logs exactly the same epochs (losses, accuracies, every counter, energy and
 * latency) as the same run on model://, apart from wall time and the simulated cycles. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Open-loop pulse training: PULSE in both directions and noisy READ_CELLS before every
 * backward pass (sgd-pulse), and ssm's re-initialization, stochastic pulses and
 * compensation reads on a small network. */
static void pulse_training_logs_match(void **state) {
  (void)state;
  logs_match("train --algo sgd-pulse --preset imprecise --lr 0.5 --dataset mnist --net 784-16-10 "
             "--train-limit 64 --test-limit 32 --batch 16 --epochs 1 --seed 5 --w-max 4", 1);
  logs_match("train --algo ssm --preset imprecise --dataset mnist --net 784-2-10 "
             "--train-limit 64 --test-limit 32 --batch 16 --epochs 1 --seed 5 --w-max 4", 1);
}

/* Characterization, re-fabrication and one-shot programming of bit-sliced weights
 * (biased, 2 slices of 2 bits: 16 tiles). */
static void biased_sliced_logs_match(void **state) {
  (void)state;
  logs_match("train --algo biased --preset rram-2bit-sliced --slices 2 --dataset mnist "
             "--net 784-4-10 --train-limit 64 --test-limit 32 --batch 16 --epochs 1 --seed 5 "
             "--w-max 1", 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(info_reports_cycles),
      cmocka_unit_test(train_logs_match),
      cmocka_unit_test(metaplastic_tasks_logs_match),
      cmocka_unit_test(pulse_training_logs_match),
      cmocka_unit_test(biased_sliced_logs_match),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
