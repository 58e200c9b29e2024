/* The whole USB path end to end: memtile train on verilator://?link=usb (the host's link
 * layer, frames through the pin-level FT601 model, the RTL bridge, FIFOs and frame engine, the
 * RTL device) logs exactly the same epochs as model://, also with frames dropped, corrupted and
 * duplicated in both directions; and the link's counters show that the device ran every
 * command the host issued exactly once (the device's own counters, in the log, match too). */
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
#define RUN "train --dataset mnist --net 784-16-10 --train-limit 32 --test-limit 16 --batch 16 " \
            "--epochs 1 --seed 5"

static char tmpdir[] = "/tmp/mt_train_usbXXXXXX";
static char out[1 << 16];

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

/* Runs the CLI with args, output into out; returns its exit status. */
static int run_cli(const char *args) {
  char cmd[2048], path[256];
  snprintf(path, sizeof path, "%s/out.txt", tmpdir);
  snprintf(cmd, sizeof cmd, "timeout 600 %s %s >'%s' 2>&1", CLI, args, path);
  int st = system(cmd);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
  out[n] = '\0';
  if (f) fclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Drops "key": value from a JSON line. */
static void strip_field(char *line, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  char *p = strstr(line, pat);
  if (!p) return;
  char *q = p + strlen(pat);
  while (*q && *q != ',' && *q != '}') q++;
  if (*q == ',') q += 2;
  memmove(p, q, strlen(q) + 1);
}

typedef struct {
  unsigned long long frames, retransmits, crc, dups, timeouts, issued, ran;
} link_line;

/* The "link:" line memtile prints for a framed device. */
static void parse_link(link_line *l) {
  const char *p = strstr(out, "link: ");
  if (!p) fail_msg("no link statistics in the output:\n%s", out);
  int n = sscanf(p, "link: %llu frames, %llu retransmits, %llu CRC errors, %llu duplicates, "
                 "%llu timeouts; commands issued %llu, run by the device %llu",
                 &l->frames, &l->retransmits, &l->crc, &l->dups, &l->timeouts, &l->issued, &l->ran);
  if (n != 7) fail_msg("malformed link line: %.200s", p);
}

/* Trains on model:// and on uri; the epoch lines must be equal apart from wall time and the
 * simulated cycles. */
static void logs_match(const char *uri, link_line *l) {
  char args[1024], logs[2][256];
  const char *dev[2] = {"model://?tiles=16", uri};
  for (int k = 0; k < 2; k++) {
    snprintf(logs[k], sizeof logs[k], "%s/run%d.jsonl", tmpdir, k);
    snprintf(args, sizeof args, "%s --device '%s' --log %s", RUN, dev[k], logs[k]);
    int st = run_cli(args);
    if (st != 0) fail_msg("memtile %s exited %d:\n%s", args, st, out);
  }
  parse_link(l);
  FILE *f[2] = {fopen(logs[0], "r"), fopen(logs[1], "r")};
  assert_non_null(f[0]);
  assert_non_null(f[1]);
  static char a[4096], b[4096];
  int epochs = 0;
  for (;;) {
    char *ra = fgets(a, sizeof a, f[0]), *rb = fgets(b, sizeof b, f[1]);
    if (!ra || !rb) {
      assert_true(!ra && !rb);
      break;
    }
    assert_non_null(strstr(b, "\"sim_cycles\": "));
    strip_field(a, "wall_s");
    strip_field(b, "wall_s");
    strip_field(b, "sim_cycles");
    if (strcmp(a, b) != 0) fail_msg("epoch logs differ:\n  model://  %s  %s %s", a, uri, b);
    epochs++;
  }
  fclose(f[0]);
  fclose(f[1]);
  assert_int_equal(epochs, 1);
}

static void clean_link(void **state) {
  (void)state;
  link_line l;
  logs_match("verilator://?link=usb", &l);
  assert_true(l.issued > 20); /* setup, MVMs, PROGRAMs, READ_LISTs, STATS_GETs */
  assert_int_equal(l.ran, l.issued); /* every command ran, none twice */
  assert_int_equal(l.retransmits + l.crc + l.dups + l.timeouts, 0);
  /* Queued commands share frames: fewer CMD frames (plus SYNC) than commands. */
  assert_true(l.frames <= l.issued);
}

static void faulty_link(void **state) {
  (void)state;
  link_line l;
  logs_match("verilator://?link=usb&faults=drop:0.05,corrupt:0.05,dup:0.05&seed=7", &l);
  assert_int_equal(l.ran, l.issued);
  assert_true(l.retransmits > 0);
  assert_true(l.crc > 0);
  assert_true(l.dups > 0);
  assert_true(l.timeouts > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(clean_link),
      cmocka_unit_test(faulty_link),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
