/* xrt:// without a card (docs/xrt.md, "Tests"): XRT's noop shim runs the whole native call
 * sequence against a synthetic xclbin written from the backend's own argument table. Under
 * noop the kernel computes nothing, so these tests check plumbing and error paths; data is
 * the job of model://, verilator:// and the HLS co-simulation. XRT reads its configuration
 * once per process, so every case that reaches XRT runs in a child process of its own. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xrt/xrt_kernel.h>

#include "memtile.h"
#include "mt_backend.h"
#include "mt_backend_xrt.h"
#include "mt_fakecard.h"
#include "mt_state.h"
#include "mt_xclbin.h"

static char dir[64];       /* scratch directory of this run */
static char fake_xrt[128]; /* a XILINX_XRT whose lib/ is Debian's multiarch directory */
static char good[160];     /* a synthetic xclbin of mt_top */

/* In a child: report and end the child with a failure. */
#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);      \
      fprintf(stderr, __VA_ARGS__);                        \
      fputc('\n', stderr);                                 \
      exit(1);                                             \
    }                                                      \
  } while (0)

static void path_in_dir(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", dir, name);
}

static void write_xclbin(const char *name, const char *kernel, const mt_xrt_arg *args,
                         uint32_t n_args, char *path, size_t n) {
  mt_xclbin_spec s = {kernel, args, n_args, {0x6d, 0x74, 0x78, 0x72, 0x74, 1, 2, 3, 4, 5, 6, 7,
                                             8, 9, 10, 11}};
  path_in_dir(path, n, name);
  assert_int_equal(mt_xclbin_write(path, &s), 0);
}

/* Environment of a card-less XRT in noop mode. */
static void noop_env(void) {
  setenv("XILINX_XRT", fake_xrt, 1);
  setenv("XCL_EMULATION_MODE", "noop", 1);
  unsetenv("XRT_INI_PATH");
  unsetenv("MEMTILE_XCLBIN");
}

/* Opens xrt://<params>; returns the code and copies the message. */
static int try_open(const char *params, mt_backend **be, char *err, size_t n) {
  err[0] = '\0';
  *be = NULL;
  return mt_backend_xrt.open(params, be, err, n);
}

static void expect_open_error(const char *params, int rc, const char *msg) {
  mt_backend *be = NULL;
  char err[512];
  int got = try_open(params, &be, err, sizeof err);
  if (got != rc || !strstr(err, msg))
    fail_msg("xrt://%s: got %d '%s', expected %d with '%s'", params, got, err, rc, msg);
  assert_null(be);
}

/* Runs fn in a child process and expects it to exit 0. */
static void in_child(void (*fn)(void)) {
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    fn();
    exit(0);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_msg("child failed (status 0x%x); its message is above", status);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/mt_test_xrt_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  char lib[160];
  snprintf(fake_xrt, sizeof fake_xrt, "%s/xrt", dir);
  snprintf(lib, sizeof lib, "%s/lib", fake_xrt);
  if (mkdir(fake_xrt, 0700) != 0 || symlink(MT_XRT_LIBDIR, lib) != 0) return -1;
  mt_xclbin_spec s = {MT_XRT_KERNEL, mt_xrt_args, MT_XRT_ARG_COUNT, {0x6d, 0x74, 1}};
  path_in_dir(good, sizeof good, "memtile.xclbin");
  return mt_xclbin_write(good, &s);
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* docs/xrt.md's register map names every argument at the offset the backend expects. */
static void register_map_matches_docs(void **state) {
  (void)state;
  FILE *f = fopen(MT_SOURCE_DIR "/docs/xrt.md", "r");
  assert_non_null(f);
  char line[512];
  int in_map = 0;
  uint32_t seen = 0;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "## ", 3)) in_map = strstr(line, "Register map") != NULL;
    unsigned off = 0;
    char name[64];
    if (!in_map || sscanf(line, "| 0x%x | `%63[a-z_]`", &off, name) != 2) continue;
    int found = 0;
    for (uint32_t i = 0; i < MT_XRT_ARG_COUNT; i++) {
      if (strcmp(name, mt_xrt_args[i].name) != 0) continue;
      found = 1;
      if (off != mt_xrt_args[i].offset)
        fail_msg("docs/xrt.md: %s at 0x%x, the backend expects 0x%x", name, off,
                 mt_xrt_args[i].offset);
      seen |= 1u << i;
    }
    if (!found && off >= 0x10) fail_msg("docs/xrt.md: argument %s is not in the table", name);
  }
  fclose(f);
  assert_int_equal(seen, (1u << MT_XRT_ARG_COUNT) - 1);
  /* Vitis HLS's layout: 0x10 onward, 12 bytes per buffer address, 8 per 32-bit scalar. */
  uint32_t off = 0x10;
  for (uint32_t i = 0; i < MT_XRT_ARG_COUNT; i++) {
    assert_int_equal(mt_xrt_args[i].offset, off);
    off += mt_xrt_args[i].global ? 12 : 8;
  }
}

static void bad_parameters_are_named(void **state) {
  (void)state;
  noop_env();
  expect_open_error("", MT_ERR_INVAL, "expected a card index");
  expect_open_error("x?xclbin=a", MT_ERR_INVAL, "expected a card index");
  expect_open_error("0?colour=red", MT_ERR_INVAL, "bad parameter 'colour=red'");
  expect_open_error("0?timeout_ms=0", MT_ERR_INVAL, "bad parameter 'timeout_ms=0'");
  expect_open_error("0?xclbin=a&tiles=99", MT_ERR_INVAL, "bad parameter 'tiles=99'");
  expect_open_error("0?xclbin=a&tiles=65", MT_ERR_INVAL, "tiles=1..64");
  expect_open_error("0", MT_ERR_INVAL, "no xclbin given");
  expect_open_error("0?xclbin=/nonexistent/m.xclbin", MT_ERR_FILE,
                    "xclbin /nonexistent/m.xclbin: No such file or directory");
  expect_open_error("0?xclbin=/tmp", MT_ERR_FILE, "xclbin /tmp is not a regular file");
  setenv("MEMTILE_XCLBIN", "/nonexistent/env.xclbin", 1);
  expect_open_error("0", MT_ERR_FILE, "xclbin /nonexistent/env.xclbin: No such file");
  unsetenv("MEMTILE_XCLBIN");
}

/* Without a configured runtime the backend refuses before any XRT call (XRT itself would abort
 * the process: research/fpga.md 1.3). */
static void missing_runtime_is_reported_without_abort(void **state) {
  (void)state;
  char params[256];
  snprintf(params, sizeof params, "0?xclbin=%s", good);
  noop_env();
  unsetenv("XILINX_XRT");
  expect_open_error(params, MT_ERR_NODEV, "XILINX_XRT is unset (source /opt/xilinx/xrt/setup.sh");
  setenv("XILINX_XRT", dir, 1); /* no lib/ there */
  expect_open_error(params, MT_ERR_NODEV, "XRT runtime incomplete");
  expect_open_error(params, MT_ERR_NODEV, "/lib/libxrt_noop.so.2: No such file");
  setenv("XILINX_XRT", fake_xrt, 1);
  setenv("XCL_EMULATION_MODE", "fast", 1);
  expect_open_error(params, MT_ERR_NODEV, "XCL_EMULATION_MODE=fast is not one of");
  unsetenv("XCL_EMULATION_MODE");
}

/* The hardware shim exists here but no card does. */
static void child_no_card(void) {
  mt_backend *be = NULL;
  char err[512], params[256];
  unsetenv("XCL_EMULATION_MODE");
  snprintf(params, sizeof params, "0?xclbin=%s", good);
  int rc = try_open(params, &be, err, sizeof err);
  CHECK(rc == MT_ERR_NODEV && strstr(err, "no Alveo card with index 0"), "got %d '%s'", rc, err);
}

static void no_card_is_reported(void **state) {
  (void)state;
  noop_env();
  in_child(child_no_card);
}

static const char *child_xclbin; /* the xclbin and message of the next child_bad_xclbin */
static const char *child_msg;

static void child_bad_xclbin(void) {
  mt_backend *be = NULL;
  char err[512], params[256];
  snprintf(params, sizeof params, "0?xclbin=%s", child_xclbin);
  int rc = try_open(params, &be, err, sizeof err);
  CHECK(rc == MT_ERR_FILE && strstr(err, child_msg), "%s: got %d '%s', expected '%s'",
        child_xclbin, rc, err, child_msg);
  CHECK(be == NULL, "a handle after a failed open");
}

static void expect_bad_xclbin(const char *path, const char *msg) {
  child_xclbin = path;
  child_msg = msg;
  in_child(child_bad_xclbin);
}

/* Each wrong xclbin is named with what is wrong with it. */
static void wrong_xclbins_are_refused(void **state) {
  (void)state;
  noop_env();
  char path[160];
  write_xclbin("other.xclbin", "vadd", mt_xrt_args, MT_XRT_ARG_COUNT, path, sizeof path);
  expect_bad_xclbin(path, "has no kernel mt_top");
  write_xclbin("args5.xclbin", MT_XRT_KERNEL, mt_xrt_args, MT_XRT_ARG_COUNT - 1, path,
               sizeof path);
  expect_bad_xclbin(path, "argument 5 (ctrl) at register 0xffffffff, expected 0x40");
  mt_xrt_arg more[MT_XRT_ARG_COUNT + 1];
  memcpy(more, mt_xrt_args, sizeof mt_xrt_args);
  more[MT_XRT_ARG_COUNT] = (mt_xrt_arg){"extra", 0x48, 4, 0, "unsigned int"};
  write_xclbin("args7.xclbin", MT_XRT_KERNEL, more, MT_XRT_ARG_COUNT + 1, path, sizeof path);
  expect_bad_xclbin(path, "has more than the 6 arguments");
  memcpy(more, mt_xrt_args, sizeof mt_xrt_args);
  more[MT_XRT_ARG_N_CMD].offset = 0x2c;
  write_xclbin("offset.xclbin", MT_XRT_KERNEL, more, MT_XRT_ARG_COUNT, path, sizeof path);
  expect_bad_xclbin(path, "argument 2 (n_cmd) at register 0x2c, expected 0x28");
  path_in_dir(path, sizeof path, "garbage.xclbin");
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("not an xclbin\n", f);
  fclose(f);
  expect_bad_xclbin(path, "cannot load xclbin");
}

/* The whole call sequence runs; the noop kernel writes nothing, which the backend detects
 * through the launch header it primed rather than taking the buffer's old content. */
static void child_noop_launch(void) {
  mt_backend *be = NULL;
  char err[512], params[256];
  snprintf(params, sizeof params, "0?xclbin=%s&timeout_ms=2000&tiles=4", good);
  int rc = try_open(params, &be, err, sizeof err);
  CHECK(rc == MT_OK && be, "open: %d '%s'", rc, err);
  size_t cmd_bytes = 0, rsp_bytes = 0;
  mt_xrt_buffer_sizes(be, &cmd_bytes, &rsp_bytes);
  CHECK(cmd_bytes == MT_XRT_BUF_WORDS * 4u && rsp_bytes == MT_XRT_BUF_WORDS * 4u,
        "buffers of %zu and %zu bytes", cmd_bytes, rsp_bytes);
  uint32_t cmd[2] = {MT_OP_INFO << 24, 0}, rsp[64], n_rsp = 99, consumed = 99;
  rc = mt_backend_xrt.transact(be, cmd, 2, rsp, 64, &n_rsp, &consumed, err, sizeof err);
  CHECK(rc == MT_ERR_PROTOCOL && strstr(err, "completed without a valid launch header") &&
            strstr(err, "the kernel did not run the commands"),
        "transact: %d '%s'", rc, err);
  CHECK(n_rsp == 0 && consumed == 0, "%u response words, %u consumed", n_rsp, consumed);
  rc = mt_backend_xrt.transact(be, cmd, 2, rsp, 64, &n_rsp, &consumed, err, sizeof err);
  CHECK(rc == MT_ERR_IO && strstr(err, "an earlier launch failed"), "again: %d '%s'", rc, err);
  mt_backend_xrt.close(be);
}

static void noop_launch_runs_the_call_sequence(void **state) {
  (void)state;
  noop_env();
  in_child(child_noop_launch);
}

/* Through the public API: mt_dev_open's INFO goes to the card and its failure is reported with
 * the URI. */
static void child_dev_open(void) {
  char uri[256];
  snprintf(uri, sizeof uri, "xrt://0?xclbin=%s", good);
  mt_dev *dev = NULL;
  int rc = mt_dev_open(uri, &dev);
  int ok = rc == MT_ERR_PROTOCOL && strstr(mt_dev_errmsg(dev), uri) &&
           strstr(mt_dev_errmsg(dev), ": INFO: xrt://0: kernel mt_top completed without a valid "
                                      "launch header");
  if (!ok) fprintf(stderr, "%d '%s'\n", rc, mt_dev_errmsg(dev));
  /* Closed before exit either way: XRT 2.13's exit-time teardown frees noop buffers twice when
   * handles are still open. */
  mt_dev_close(dev);
  CHECK(ok, "mt_dev_open");
}

static void dev_open_reports_the_kernel(void **state) {
  (void)state;
  noop_env();
  in_child(child_dev_open);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* With the noop completion delay (xrt.ini) the backend waits for the run to complete before
 * it reads the launch header. */
static void child_delay(void) {
  mt_backend *be = NULL;
  char err[512], params[256];
  snprintf(params, sizeof params, "0?xclbin=%s", good);
  CHECK(try_open(params, &be, err, sizeof err) == MT_OK, "open: '%s'", err);
  uint32_t cmd[2] = {MT_OP_NOP << 24, 0}, rsp[8], n_rsp = 0, consumed = 0;
  double t0 = now_s();
  int rc = mt_backend_xrt.transact(be, cmd, 2, rsp, 8, &n_rsp, &consumed, err, sizeof err);
  double dt = now_s() - t0;
  CHECK(rc == MT_ERR_PROTOCOL, "transact: %d '%s'", rc, err);
  CHECK(dt >= 0.25, "returned after %.3f s, before the 300 ms completion delay", dt);
  mt_backend_xrt.close(be);
}

static void completion_delay_is_waited_for(void **state) {
  (void)state;
  noop_env();
  char ini[160];
  path_in_dir(ini, sizeof ini, "delay.ini");
  FILE *f = fopen(ini, "w");
  assert_non_null(f);
  fputs("[Runtime]\nverbosity=0\nnoop_completion_delay_us=300000\n", f);
  fclose(f);
  setenv("XRT_INI_PATH", ini, 1);
  in_child(child_delay);
  unsetenv("XRT_INI_PATH");
}

/* Run states: COMPLETED is success, ERROR and ABORT an I/O error, anything else (the state
 * xrtRunWaitFor returns when the time is up) a timeout. The noop shim of XRT 2.13 ignores the
 * wait's time limit (it sleeps the whole completion delay), so this mapping is tested here. */
static void run_states_map_to_errors(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(mt_xrt_run_status("xrt://0", 5, ERT_CMD_STATE_COMPLETED, err, sizeof err),
                   MT_OK);
  static const int io[] = {ERT_CMD_STATE_ERROR, ERT_CMD_STATE_ABORT};
  static const char *io_names[] = {"ERROR", "ABORT"};
  for (int i = 0; i < 2; i++) {
    err[0] = '\0';
    assert_int_equal(mt_xrt_run_status("xrt://0", 5, io[i], err, sizeof err), MT_ERR_IO);
    assert_non_null(strstr(err, io_names[i]));
  }
  static const int busy[] = {ERT_CMD_STATE_NEW, ERT_CMD_STATE_QUEUED, ERT_CMD_STATE_RUNNING,
                             ERT_CMD_STATE_SUBMITTED, ERT_CMD_STATE_TIMEOUT,
                             ERT_CMD_STATE_NORESPONSE};
  static const char *busy_names[] = {"NEW", "QUEUED", "RUNNING", "SUBMITTED", "TIMEOUT",
                                     "NORESPONSE"};
  for (int i = 0; i < 6; i++) {
    err[0] = '\0';
    assert_int_equal(mt_xrt_run_status("xrt://1", 250, busy[i], err, sizeof err),
                     MT_ERR_TIMEOUT);
    assert_non_null(strstr(err, "xrt://1: kernel mt_top did not finish within 250 ms"));
    assert_non_null(strstr(err, busy_names[i]));
  }
}

/* How a batch is cut into launches: whole commands only, each launch within the buffer. */
static void batches_split_at_command_boundaries(void **state) {
  (void)state;
  static uint32_t cmd[2 * MT_XRT_BUF_WORDS];
  /* Three commands of 1, 0 and 3 payload words. */
  uint32_t small[] = {MT_OP_ECHO << 24, 1, 7, MT_OP_NOP << 24, 0, MT_OP_ECHO << 24, 3, 1, 2, 3};
  assert_int_equal(mt_xrt_whole_commands(small, 10), 10);
  assert_int_equal(mt_xrt_whole_commands(small, 9), 5);  /* the third is cut off */
  assert_int_equal(mt_xrt_whole_commands(small, 4), 3);  /* the second's header is cut off */
  assert_int_equal(mt_xrt_whole_commands(small, 1), 0);
  /* Two largest commands fill one launch; a third goes to the next. */
  const uint32_t big = MT_MAX_PAYLOAD + MT_HDR_WORDS;
  for (uint32_t c = 0; c < 3; c++) {
    cmd[c * big] = MT_OP_ECHO << 24;
    cmd[c * big + 1] = MT_MAX_PAYLOAD;
  }
  assert_int_equal(mt_xrt_whole_commands(cmd, 3 * big), 2 * big);
  assert_true(2 * big <= MT_XRT_BUF_WORDS);
  /* A command declaring more than a launch holds is left to the kernel (0: send as is). */
  cmd[1] = MT_XRT_BUF_WORDS;
  assert_int_equal(mt_xrt_whole_commands(cmd, 2 * MT_XRT_BUF_WORDS), 0);
}

/* The card of mt_fakecard.h: the kernel (mt_top, built by gcc) runs on the buffers' device
 * memory, which only the backend's syncs fill and empty. What a batch returns is compared
 * with the golden model run on the same words, so a missing, misdirected or mis-sized sync,
 * a wrong argument or a wrong split into launches shows as a wrong word. */

/* The golden model with its own state, as the card starts after its reset (CARD_TILES tiles). */
#define CARD_TILES 4u
typedef struct {
  mt_regs_t regs;
  mt_tile_t *tiles;
} ref_dev;

static void ref_init(ref_dev *r) {
  r->tiles = calloc(CARD_TILES, sizeof *r->tiles);
  CHECK(r->tiles != NULL, "out of memory");
  mt_device_reset(&r->regs, r->tiles, CARD_TILES);
}

static uint32_t ref_run(ref_dev *r, const uint32_t *cmd, uint32_t n, uint32_t *rsp, uint32_t cap,
                        uint32_t *consumed) {
  return mt_kernel(cmd, n, rsp, cap, &r->regs, r->tiles, CARD_TILES, consumed);
}

static mt_backend *card_open(void) {
  mt_backend *be = NULL;
  char err[512], params[256];
  mt_fakecard_enable();
  snprintf(params, sizeof params, "0?xclbin=%s&timeout_ms=2000&tiles=%u", good, CARD_TILES);
  int rc = try_open(params, &be, err, sizeof err);
  CHECK(rc == MT_OK && be, "open: %d '%s'", rc, err);
  return be;
}

static uint32_t put(uint32_t *cmd, uint32_t n, uint32_t op, const uint32_t *p, uint32_t len) {
  cmd[n] = op << 24 | (n & 0xFFu) << 16;
  cmd[n + 1] = len;
  if (len) memcpy(cmd + n + 2, p, len * sizeof *p);
  return n + 2 + len;
}

/* A batch of every kind of command (configuration, fabrication, noisy reads, an MVM,
 * counters) in one transaction: one launch, the documented syncs, and the model's words. */
static void child_card_batch(void) {
  mt_backend *be = card_open();
  static uint32_t cmd[4096], rsp[4096], want[4096];
  uint32_t cfg[MT_CFG_COUNT] = {0};
  for (uint32_t i = 0; i < MT_CFG_COUNT; i++) cfg[i] = mt_cfg_min[i];
  cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_DAC_BITS] = 8;
  cfg[MT_CFG_ADC_BITS] = 12;
  cfg[MT_CFG_ADC_MUL] = 3;
  cfg[MT_CFG_ADC_SHIFT] = 14;
  cfg[MT_CFG_READ_MODE] = 2;
  cfg[MT_CFG_READ_SIGMA] = 300;
  uint32_t bad = 0;
  CHECK(mt_config_check(cfg, &bad) == MT_ST_OK, "test configuration: field %u", bad);
  uint32_t echo[3] = {1, 2, 0xDEADBEEFu}, seed[2] = {42, 0}, fab[3] = {7, 0, 1};
  uint32_t rd[6] = {1, 0, 4, 0, 4, 0}, mvm[4 + 2 * ((MT_ROWS + 1) / 2)] = {1, 2, MT_ROWS, 9};
  for (uint32_t w = 4; w < sizeof mvm / sizeof *mvm; w++) mvm[w] = w * 0x00050003u;
  uint32_t n = put(cmd, 0, MT_OP_INFO, NULL, 0);
  n = put(cmd, n, MT_OP_ECHO, echo, 3);
  n = put(cmd, n, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  n = put(cmd, n, MT_OP_SEED, seed, 2);
  n = put(cmd, n, MT_OP_FABRICATE, fab, 3);
  n = put(cmd, n, MT_OP_READ_CELLS, rd, 6);
  n = put(cmd, n, MT_OP_MVM, mvm, sizeof mvm / sizeof *mvm);
  n = put(cmd, n, MT_OP_STATS_GET, NULL, 0);
  ref_dev ref;
  ref_init(&ref);
  uint32_t want_used = 0, want_n = ref_run(&ref, cmd, n, want, 4096, &want_used);
  uint32_t n_rsp = 0, used = 0;
  char err[512];
  int rc = mt_backend_xrt.transact(be, cmd, n, rsp, 4096, &n_rsp, &used, err, sizeof err);
  CHECK(rc == MT_OK, "transact: %d '%s'", rc, err);
  CHECK(used == n && want_used == n && n_rsp == want_n, "%u of %u consumed, %u words (model %u)",
        used, n, n_rsp, want_n);
  CHECK(memcmp(rsp, want, n_rsp * sizeof *rsp) == 0, "responses differ from the model's");
  const fc_log *log = mt_fakecard_log();
  CHECK(log->n_launches == 1, "%u launches", log->n_launches);
  const fc_launch *l = &log->launches[0];
  CHECK(l->n_cmd == n && l->rsp_cap == 4096 && l->n_tiles == CARD_TILES &&
            l->ctrl == MT_XRT_CTRL_RESET,
        "launch n_cmd %u rsp_cap %u n_tiles %u ctrl %u", l->n_cmd, l->rsp_cap, l->n_tiles, l->ctrl);
  /* Commands to the card, the primed launch header to the card, the header back, then exactly
   * the response words written, behind the header. */
  const fc_sync want_syncs[4] = {{0, 1, n * 4u, 0}, {1, 1, 8, 0}, {1, 0, 8, 0}, {1, 0, n_rsp * 4u, 8}};
  CHECK(log->n_syncs == 4, "%u syncs", log->n_syncs);
  for (uint32_t i = 0; i < 4; i++) {
    const fc_sync *g = &log->syncs[i], *w = &want_syncs[i];
    CHECK(g->rsp == w->rsp && g->to_device == w->to_device && g->size == w->size &&
              g->offset == w->offset,
          "sync %u: buffer %s, %s, %zu bytes at %zu; expected %s, %s, %zu at %zu", i,
          g->rsp ? "rsp" : "cmd", g->to_device ? "to device" : "from device", g->size, g->offset,
          w->rsp ? "rsp" : "cmd", w->to_device ? "to device" : "from device", w->size, w->offset);
  }
  /* The state stays on the card: a second transaction does not reset it, and its counters
   * continue the model's. */
  n = put(cmd, 0, MT_OP_MVM, mvm, sizeof mvm / sizeof *mvm);
  n = put(cmd, n, MT_OP_STATS_GET, NULL, 0);
  want_n = ref_run(&ref, cmd, n, want, 4096, &want_used);
  rc = mt_backend_xrt.transact(be, cmd, n, rsp, 4096, &n_rsp, &used, err, sizeof err);
  CHECK(rc == MT_OK && used == n && n_rsp == want_n, "second: %d '%s', %u words", rc, err, n_rsp);
  CHECK(memcmp(rsp, want, n_rsp * sizeof *rsp) == 0, "second responses differ from the model's");
  CHECK(log->n_launches == 2 && log->launches[1].ctrl == 0, "second launch ctrl %u",
        log->launches[1].ctrl);
  CHECK(log->n_allocs == 2, "%u buffers allocated: the two buffers persist", log->n_allocs);
  free(ref.tiles);
  mt_backend_xrt.close(be);
}

static void card_runs_a_batch_in_one_launch(void **state) {
  (void)state;
  noop_env();
  in_child(child_card_batch);
}

/* Commands beyond one buffer go into further launches, split at command boundaries; the
 * responses come back in order. */
static void child_card_split(void) {
  mt_backend *be = card_open();
  const uint32_t big = MT_MAX_PAYLOAD + MT_HDR_WORDS, n = 3 * big;
  uint32_t *cmd = calloc(n, sizeof *cmd), *rsp = calloc(n, sizeof *rsp);
  CHECK(cmd && rsp, "out of memory");
  for (uint32_t c = 0; c < 3; c++) {
    cmd[c * big] = MT_OP_ECHO << 24 | c << 16;
    cmd[c * big + 1] = MT_MAX_PAYLOAD;
    for (uint32_t k = 0; k < MT_MAX_PAYLOAD; k++) cmd[c * big + 2 + k] = c * 0x10000000u + k;
  }
  uint32_t n_rsp = 0, used = 0;
  char err[512];
  int rc = mt_backend_xrt.transact(be, cmd, n, rsp, n, &n_rsp, &used, err, sizeof err);
  CHECK(rc == MT_OK && used == n && n_rsp == n, "transact: %d '%s', %u consumed, %u words", rc,
        err, used, n_rsp);
  for (uint32_t c = 0; c < 3; c++) {
    CHECK(rsp[c * big] == (MT_OP_ECHO << 24 | c << 16 | MT_ST_OK) &&
              rsp[c * big + 1] == MT_MAX_PAYLOAD,
          "response %u header %08x %u", c, rsp[c * big], rsp[c * big + 1]);
    CHECK(memcmp(rsp + c * big + 2, cmd + c * big + 2, MT_MAX_PAYLOAD * 4u) == 0,
          "response %u payload", c);
  }
  const fc_log *log = mt_fakecard_log();
  CHECK(log->n_launches == 2 && log->launches[0].n_cmd == 2 * big &&
            log->launches[1].n_cmd == big && log->launches[0].ctrl == MT_XRT_CTRL_RESET &&
            log->launches[1].ctrl == 0,
        "%u launches", log->n_launches);
  free(cmd);
  free(rsp);
  mt_backend_xrt.close(be);
}

static void card_splits_batches_into_launches(void **state) {
  (void)state;
  noop_env();
  in_child(child_card_split);
}

/* A response that does not fit the caller's room: the card's stop is passed on (the error
 * response, fewer words consumed), exactly as the model gives it. */
static void child_card_overflow(void) {
  mt_backend *be = card_open();
  uint32_t cmd[64], rsp[16], want[16], p[20];
  for (uint32_t k = 0; k < 20; k++) p[k] = k;
  uint32_t n = put(cmd, 0, MT_OP_NOP, NULL, 0);
  n = put(cmd, n, MT_OP_ECHO, p, 20);
  n = put(cmd, n, MT_OP_NOP, NULL, 0);
  ref_dev ref;
  ref_init(&ref);
  uint32_t want_used = 0, want_n = ref_run(&ref, cmd, n, want, 16, &want_used);
  uint32_t n_rsp = 0, used = 0;
  char err[512];
  int rc = mt_backend_xrt.transact(be, cmd, n, rsp, 16, &n_rsp, &used, err, sizeof err);
  CHECK(rc == MT_OK && used == want_used && used == 2 && n_rsp == want_n,
        "transact: %d '%s', %u consumed (model %u), %u words (model %u)", rc, err, used,
        want_used, n_rsp, want_n);
  CHECK(memcmp(rsp, want, n_rsp * sizeof *rsp) == 0 &&
            (rsp[MT_HDR_WORDS] & 0xFFu) == MT_ST_ERR_OVERFLOW,
        "responses");
  CHECK(mt_fakecard_log()->launches[0].rsp_cap == 16, "rsp_cap");
  free(ref.tiles);
  mt_backend_xrt.close(be);
}

static void card_passes_on_a_full_response_buffer(void **state) {
  (void)state;
  noop_env();
  in_child(child_card_overflow);
}

/* Each XRT call of a launch that fails is reported with its cause and never aborts; a
 * failure after the kernel may have run leaves the handle refusing further commands. */
static int child_fail_what;
static uint32_t child_fail_after;
static int child_fail_rc;
static const char *child_fail_msg;
static int child_fail_broken;

static void child_card_fail(void) {
  mt_backend *be = NULL;
  char err[512], params[256];
  mt_fakecard_enable();
  mt_fakecard_fail(child_fail_what, child_fail_after);
  snprintf(params, sizeof params, "0?xclbin=%s&timeout_ms=2000", good);
  int rc = try_open(params, &be, err, sizeof err);
  if (child_fail_what == FC_FAIL_UUID || child_fail_what == FC_FAIL_ALLOC ||
      (child_fail_what == FC_FAIL_SETARG && child_fail_after < 3)) {
    CHECK(rc == child_fail_rc && be == NULL && strstr(err, child_fail_msg), "open: %d '%s'", rc,
          err);
    return;
  }
  CHECK(rc == MT_OK, "open: %d '%s'", rc, err);
  uint32_t cmd[2] = {MT_OP_INFO << 24, 0}, rsp[64], n_rsp = 0, used = 0;
  rc = mt_backend_xrt.transact(be, cmd, 2, rsp, 64, &n_rsp, &used, err, sizeof err);
  CHECK(rc == child_fail_rc && strstr(err, child_fail_msg) && n_rsp == 0 && used == 0,
        "transact: %d '%s' (expected %d '%s'), %u words, %u consumed", rc, err, child_fail_rc,
        child_fail_msg, n_rsp, used);
  mt_fakecard_fail(FC_OK, 0);
  err[0] = '\0';
  rc = mt_backend_xrt.transact(be, cmd, 2, rsp, 64, &n_rsp, &used, err, sizeof err);
  if (child_fail_broken)
    CHECK(rc == MT_ERR_IO && strstr(err, "an earlier launch failed"), "after: %d '%s'", rc, err);
  else
    CHECK(rc == MT_OK && n_rsp == MT_HDR_WORDS + MT_INFO_COUNT && used == 2,
          "after: %d '%s', %u words", rc, err, n_rsp);
  mt_backend_xrt.close(be);
}

static void expect_card_failure(int what, uint32_t after, int rc, const char *msg, int broken) {
  child_fail_what = what;
  child_fail_after = after;
  child_fail_rc = rc;
  child_fail_msg = msg;
  child_fail_broken = broken;
  in_child(child_card_fail);
}

static void failing_xrt_calls_are_reported(void **state) {
  (void)state;
  noop_env();
  /* At open. */
  expect_card_failure(FC_FAIL_UUID, 0, MT_ERR_IO, "loaded but its UUID cannot be read", 0);
  expect_card_failure(FC_FAIL_ALLOC, 0, MT_ERR_NOMEM, "cannot allocate and map two buffers", 0);
  expect_card_failure(FC_FAIL_ALLOC, 1, MT_ERR_NOMEM, "cannot allocate and map two buffers", 0);
  for (uint32_t after = 0; after < 3; after++) /* the buffers and n_tiles bound to the run */
    expect_card_failure(FC_FAIL_SETARG, after, MT_ERR_IO, "cannot prepare a run of kernel mt_top",
                        0);
  /* At a launch: n_cmd, rsp_cap, ctrl. */
  for (uint32_t after = 3; after < 6; after++)
    expect_card_failure(FC_FAIL_SETARG, after, MT_ERR_IO, "kernel mt_top could not be started", 0);
  /* Nothing ran yet: the next transaction may go ahead. */
  expect_card_failure(FC_FAIL_SYNC_TO, 0, MT_ERR_IO, "copying 2 command words to the card failed",
                      0);
  expect_card_failure(FC_FAIL_SYNC_TO, 1, MT_ERR_IO, "copying 2 command words to the card failed",
                      0);
  expect_card_failure(FC_FAIL_START, 0, MT_ERR_IO, "kernel mt_top could not be started", 0);
  /* The kernel ran (or may still run): its responses are lost, the state is unknown. */
  expect_card_failure(FC_FAIL_SYNC_FROM, 0, MT_ERR_IO, "reading the launch header from the card "
                      "failed", 1);
  expect_card_failure(FC_FAIL_SYNC_FROM, 1, MT_ERR_IO, "reading 15 response words from the card "
                      "failed", 1);
  expect_card_failure(FC_WAIT_TIMEOUT, 0, MT_ERR_TIMEOUT, "did not finish within 2000 ms (run "
                      "state RUNNING)", 1);
  expect_card_failure(FC_WAIT_ERROR, 0, MT_ERR_IO, "kernel mt_top ended in state ERROR", 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(register_map_matches_docs),
    cmocka_unit_test(bad_parameters_are_named),
    cmocka_unit_test(missing_runtime_is_reported_without_abort),
    cmocka_unit_test(no_card_is_reported),
    cmocka_unit_test(wrong_xclbins_are_refused),
    cmocka_unit_test(noop_launch_runs_the_call_sequence),
    cmocka_unit_test(dev_open_reports_the_kernel),
    cmocka_unit_test(completion_delay_is_waited_for),
    cmocka_unit_test(run_states_map_to_errors),
    cmocka_unit_test(batches_split_at_command_boundaries),
    cmocka_unit_test(card_runs_a_batch_in_one_launch),
    cmocka_unit_test(card_splits_batches_into_launches),
    cmocka_unit_test(card_passes_on_a_full_response_buffer),
    cmocka_unit_test(failing_xrt_calls_are_reported),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
