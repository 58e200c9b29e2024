/* Figures through gnuplot (memtile_plot.h) and the CLI that draws them: `memtile plot` of real
 * training logs, `memtile characterize --plot`; every figure must be a PNG of the stated
 * size, and bad logs, bad options and a missing gnuplot must be named. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
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

#include "memtile.h"
#include "memtile_plot.h"

#define CLI MT_BUILD_DIR "/san/bin/memtile"

static char tmpdir[64];
static char out[1 << 16];

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/mt_test_plot_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  return system(cmd);
}

static void path_of(char *buf, size_t len, const char *name) { snprintf(buf, len, "%s/%s", tmpdir, name); }

static void write_text(const char *name, const char *text) {
  char p[256];
  path_of(p, sizeof p, name);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

/* The PNG's width and height from its IHDR chunk; fails the test if it is not a PNG. */
static void png_size(const char *path, uint32_t *w, uint32_t *h) {
  unsigned char b[33];
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("%s was not written", path);
  size_t n = fread(b, 1, sizeof b, f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n != sizeof b || memcmp(b, sig, 8) || memcmp(b + 12, "IHDR", 4)) fail_msg("%s is not a PNG", path);
  *w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
  *h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
  /* Drawn curves, text and grid: far more than an empty canvas compresses to. */
  if (size < 10000) fail_msg("%s: only %ld bytes", path, size);
}

static const char *const log_a =
    "{\"epoch\": 1, \"algo\": \"siamese\", \"test_accuracy\": 0.81, \"set_pulses\": 1200, "
    "\"reset_pulses\": 300, \"energy_pj\": 5.5e6, \"wall_s\": 1}\n"
    "{\"epoch\": 2, \"algo\": \"siamese\", \"test_accuracy\": 0.86, \"set_pulses\": 800, "
    "\"reset_pulses\": 250, \"energy_pj\": 4.1e6, \"wall_s\": 1}\n"
    "\n"
    "{\"epoch\": 3, \"algo\": \"siamese\", \"test_accuracy\": 0.88, \"set_pulses\": 600, "
    "\"reset_pulses\": 200, \"energy_pj\": 3.0e6, \"wall_s\": 1}\n";

static const char *const log_tasks =
    "{\"epoch\": 1, \"test_accuracy\": 0.9, \"set_pulses\": 10, \"reset_pulses\": 3, \"energy_pj\": 50, "
    "\"task\": 1, \"task_name\": \"mnist\", \"task_accuracy\": [0.9, 0.1]}\n"
    "{\"epoch\": 1, \"test_accuracy\": 0.8, \"set_pulses\": 12, \"reset_pulses\": 4, \"energy_pj\": 60, "
    "\"task\": 2, \"task_name\": \"fashion\", \"task_accuracy\": [0.6, 0.8]}\n";

static void logs_give_a_png(void **state) {
  (void)state;
  char a[256], t[256], png[256], err[1024];
  write_text("a.jsonl", log_a);
  write_text("t.jsonl", log_tasks);
  path_of(a, sizeof a, "a.jsonl");
  path_of(t, sizeof t, "t.jsonl");
  path_of(png, sizeof png, "fig.png");
  const char *logs[] = {a, t};
  int rc = mt_plot_logs(logs, 2, MT_PLOT_ALL, NULL, png, err, sizeof err);
  if (rc != MT_OK) fail_msg("mt_plot_logs: %s", err);
  uint32_t w = 0, h = 0;
  png_size(png, &w, &h);
  assert_int_equal(w, 1280); /* 2 x 2 panels: accuracy, tasks, pulses, energy */
  assert_int_equal(h, 870);
  /* A float run programs nothing: its counter panels say so instead of failing. */
  write_text("f.jsonl", "{\"test_accuracy\": 0.9, \"set_pulses\": 0, \"reset_pulses\": 0, \"energy_pj\": 0}\n");
  char f[256];
  path_of(f, sizeof f, "f.jsonl");
  const char *flogs[] = {f};
  rc = mt_plot_logs(flogs, 1, MT_PLOT_PULSES | MT_PLOT_ENERGY, NULL, png, err, sizeof err);
  if (rc != MT_OK) fail_msg("mt_plot_logs of a float log: %s", err);
  png_size(png, &w, &h);
  assert_int_equal(w, 1280);
  /* One panel, one log without tasks. */
  rc = mt_plot_logs(logs, 1, MT_PLOT_ACCURACY, NULL, png, err, sizeof err);
  if (rc != MT_OK) fail_msg("mt_plot_logs: %s", err);
  png_size(png, &w, &h);
  assert_int_equal(w, 640);
  assert_int_equal(h, 450);
}

static void expect_log_error(const char *text, const char *want) {
  char p[256], png[256], err[1024];
  write_text("bad.jsonl", text);
  path_of(p, sizeof p, "bad.jsonl");
  path_of(png, sizeof png, "bad.png");
  const char *logs[] = {p};
  int rc = mt_plot_logs(logs, 1, MT_PLOT_ALL, NULL, png, err, sizeof err);
  assert_int_equal(rc, MT_ERR_FILE);
  char full[512];
  snprintf(full, sizeof full, "%s%s", p, want);
  if (!strstr(err, full)) fail_msg("error '%s' does not contain '%s'", err, full);
  assert_int_equal(access(png, F_OK), -1); /* nothing written */
}

static void bad_logs_are_named(void **state) {
  (void)state;
  expect_log_error("{\"test_accuracy\": 0.5, \"set_pulses\": 1, \"reset_pulses\": 1, \"energy_pj\": 1}\n{oops\n",
                   ":2: not a JSON object");
  expect_log_error("{\"test_accuracy\": 0.5, \"reset_pulses\": 1, \"energy_pj\": 1}\n",
                   ":1: field 'set_pulses' is missing");
  expect_log_error("{\"test_accuracy\": \"high\", \"set_pulses\": 1, \"reset_pulses\": 1, \"energy_pj\": 1}\n",
                   ":1: field 'test_accuracy' is not a finite number");
  expect_log_error("{\"test_accuracy\": 95, \"set_pulses\": 1, \"reset_pulses\": 1, \"energy_pj\": 1}\n",
                   ":1: test_accuracy 95 is not in [0, 1]");
  expect_log_error("\n\n", ": no epochs");
  char png[256], err[1024], missing[256];
  path_of(png, sizeof png, "x.png");
  path_of(missing, sizeof missing, "missing.jsonl");
  const char *logs[] = {missing};
  assert_int_equal(mt_plot_logs(logs, 1, MT_PLOT_ALL, NULL, png, err, sizeof err), MT_ERR_IO); /* cannot be opened, as every input */
  if (!strstr(err, missing)) fail_msg("'%s' does not name %s", err, missing);
  /* Task panel alone, but no log has tasks. */
  char a[256];
  write_text("a.jsonl", log_a);
  path_of(a, sizeof a, "a.jsonl");
  logs[0] = a;
  assert_int_equal(mt_plot_logs(logs, 1, MT_PLOT_TASKS, NULL, png, err, sizeof err), MT_ERR_INVAL);
  assert_non_null(strstr(err, "no log has tasks"));
}

static void what_is_parsed(void **state) {
  (void)state;
  uint32_t m = 0;
  char err[256];
  assert_int_equal(mt_plot_parse_what("accuracy,energy", &m, err, sizeof err), MT_OK);
  assert_int_equal(m, MT_PLOT_ACCURACY | MT_PLOT_ENERGY);
  assert_int_equal(mt_plot_parse_what("all", &m, err, sizeof err), MT_OK);
  assert_int_equal(m, MT_PLOT_ALL);
  assert_int_equal(mt_plot_parse_what("accuracy,speed", &m, err, sizeof err), MT_ERR_INVAL);
  assert_non_null(strstr(err, "'speed' is not one of"));
  assert_int_equal(mt_plot_parse_what("", &m, err, sizeof err), MT_ERR_INVAL);
}

static void missing_or_failing_gnuplot(void **state) {
  (void)state;
  char a[256], png[256], err[1024];
  write_text("a.jsonl", log_a);
  path_of(a, sizeof a, "a.jsonl");
  path_of(png, sizeof png, "g.png");
  const char *logs[] = {a};
  setenv("MEMTILE_GNUPLOT", "/nonexistent/gnuplot", 1);
  int rc = mt_plot_logs(logs, 1, MT_PLOT_ALL, NULL, png, err, sizeof err);
  assert_int_equal(rc, MT_ERR_NODEV);
  if (!strstr(err, "cannot run /nonexistent/gnuplot") || !strstr(err, "make deps")) fail_msg("%s", err);
  /* A "gnuplot" that fails, and one that writes no PNG. */
  setenv("MEMTILE_GNUPLOT", "false", 1);
  assert_int_equal(mt_plot_logs(logs, 1, MT_PLOT_ALL, NULL, png, err, sizeof err), MT_ERR_IO);
  if (!strstr(err, "false failed (exit 1)")) fail_msg("%s", err);
  setenv("MEMTILE_GNUPLOT", "true", 1);
  assert_int_equal(mt_plot_logs(logs, 1, MT_PLOT_ALL, NULL, png, err, sizeof err), MT_ERR_IO);
  if (!strstr(err, "wrote no image")) fail_msg("%s", err);
  unsetenv("MEMTILE_GNUPLOT");
  assert_int_equal(access(png, F_OK), -1);
}

static void characterization_gives_a_png(void **state) {
  (void)state;
  enum { P = 40, L = 4, S = 50 };
  double um[P + 1], us[P + 1], dm[P + 1], ds[P + 1], target[L];
  static float achieved[L * S];
  for (int k = 0; k <= P; k++) {
    um[k] = 60000.0 * (1 - exp(-k / 10.0));
    dm[k] = um[P] * exp(-k / 8.0);
    us[k] = ds[k] = 500 + 20.0 * k;
  }
  for (int q = 0; q < L; q++) {
    target[q] = -30000 + 20000.0 * q;
    for (int i = 0; i < S; i++) achieved[q * S + i] = (float)(target[q] + 60.0 * ((i * 37) % 41 - 20));
  }
  mt_plot_device d = {"test device", 64, P, um, us, dm, ds, L, S, target, achieved};
  char png[256], err[1024];
  path_of(png, sizeof png, "dev.png");
  int rc = mt_plot_characterization(&d, png, err, sizeof err);
  if (rc != MT_OK) fail_msg("mt_plot_characterization: %s", err);
  uint32_t w = 0, h = 0;
  png_size(png, &w, &h);
  assert_int_equal(w, 1280);
  assert_int_equal(h, 450);
  d.achieved = NULL;
  assert_int_equal(mt_plot_characterization(&d, png, err, sizeof err), MT_ERR_INVAL);
}

/* Runs the CLI; stdout and stderr together in `out`; the exit status. */
static int run(const char *args) {
  char cmd[2048], path[128];
  snprintf(path, sizeof path, "%s/out.txt", tmpdir);
  snprintf(cmd, sizeof cmd, "timeout 600 %s %s > %s 2>&1", CLI, args, path);
  int st = system(cmd);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
  out[n] = '\0';
  if (f) fclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect(const char *args, int status, const char *text) {
  int st = run(args);
  if (st != status || !strstr(out, text))
    fail_msg("memtile %s: exit %d (want %d), output:\n%s\n(want '%s')", args, st, status, out, text);
}

/* Two real training runs on a small MNIST subset, drawn on one figure. */
static void cli_plot_of_training_logs(void **state) {
  (void)state;
  char args[1024], png[256];
  const char *algos[] = {"float", "siamese"};
  for (int k = 0; k < 2; k++) {
    snprintf(args, sizeof args,
             "train --dataset mnist --net 784-16-10 --algo %s --epochs 2 --train-limit 300 --test-limit 100 "
             "--log %s/%s.jsonl", algos[k], tmpdir, algos[k]);
    expect(args, 0, "epoch 2");
  }
  path_of(png, sizeof png, "runs.png");
  snprintf(args, sizeof args, "plot %s/float.jsonl %s/siamese.jsonl -o %s", tmpdir, tmpdir, png);
  expect(args, 0, "");
  uint32_t w = 0, h = 0;
  png_size(png, &w, &h);
  assert_int_equal(w, 1280); /* accuracy, pulses, energy: 2 x 2 */
  snprintf(args, sizeof args, "plot %s/siamese.jsonl --what pulses --title 'one run' -o %s", tmpdir, png);
  expect(args, 0, "");
  png_size(png, &w, &h);
  assert_int_equal(w, 640);
  expect("plot --help", 0, "usage: memtile plot");
  expect("plot", 2, "no log given");
  expect("plot a.jsonl", 2, "-o FILE.png is missing");
  expect("plot a.jsonl -o", 2, "-o needs a value");
  expect("plot a.jsonl -o x.png --title", 2, "--title needs a value");
  expect("plot a.jsonl -o x.png --what colour", 2, "--what: 'colour' is not one of");
  expect("plot --frob a.jsonl -o x.png", 2, "unknown option '--frob'");
  snprintf(args, sizeof args, "plot %s/none.jsonl -o %s", tmpdir, png);
  expect(args, 5, "none.jsonl: cannot open"); /* MT_ERR_IO */
  expect("--help", 0, "plot");
}

static void cli_characterize_plot(void **state) {
  (void)state;
  char args[1024], png[256];
  path_of(png, sizeof png, "char.png");
  snprintf(args, sizeof args, "characterize --preset rram-2bit --samples 64 --reads 2 --plot %s", png);
  expect(args, 0, "favourable");
  uint32_t w = 0, h = 0;
  png_size(png, &w, &h);
  assert_int_equal(w, 1280);
  assert_int_equal(h, 450);
  expect("characterize --help", 0, "--plot FILE.png");
  expect("characterize --plot", 2, "--plot needs a value");
  snprintf(args, sizeof args, "characterize --samples 8 --plot %s/no/such/dir/c.png", tmpdir);
  expect(args, 5, "no/such/dir/c.png"); /* MT_ERR_IO */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(logs_give_a_png),
      cmocka_unit_test(bad_logs_are_named),
      cmocka_unit_test(what_is_parsed),
      cmocka_unit_test(missing_or_failing_gnuplot),
      cmocka_unit_test(characterization_gives_a_png),
      cmocka_unit_test(cli_plot_of_training_logs),
      cmocka_unit_test(cli_characterize_plot),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
