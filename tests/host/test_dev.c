/* libmemtile device API on model://: opening, messages, data paths, snapshots. */
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
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "memtile.h"
#include "mt_preset.h"
#include "mt_protocol.h"

static mt_preset_t rram;

/* The preset's META_UPDATE input shift (updates are int16 << shift). */
static uint32_t dev_meta_shift(const mt_dev *dev) {
  (void)dev;
  return rram.cfg[MT_CFG_META_IN_SHIFT];
}

static mt_dev *open_ok(const char *uri) {
  mt_dev *dev = NULL;
  int rc = mt_dev_open(uri, &dev);
  if (rc != MT_OK) fail_msg("%s: %s", uri, mt_dev_errmsg(dev));
  return dev;
}

/* A device with the rram preset applied and two fabricated tiles. */
static mt_dev *open_rram(uint32_t tiles) {
  char uri[64];
  snprintf(uri, sizeof uri, "model://?tiles=%u", tiles);
  mt_dev *dev = open_ok(uri);
  char err[256];
  assert_int_equal(mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &rram, err, sizeof err), 0);
  assert_int_equal(mt_preset_apply(&rram, dev), MT_OK);
  assert_int_equal(mt_dev_seed(dev, 42), MT_OK);
  for (uint32_t t = 0; t < tiles; t++) assert_int_equal(mt_dev_fabricate(dev, 7, t), MT_OK);
  return dev;
}

static void open_reports_info_and_rejects_bad_uris(void **state) {
  (void)state;
  assert_int_equal(mt_protocol_version(), MT_PROTO_MAJOR << 16 | MT_PROTO_MINOR);
  /* This test links neither the Verilated device nor XRT (the tools do: test_cli's info). */
  assert_int_equal(mt_backend_available("model"), 1);
  assert_int_equal(mt_backend_available("usb"), 1);
  assert_int_equal(mt_backend_available("verilator"), 0);
  assert_int_equal(mt_backend_available("nosuch"), 0);
  assert_int_equal(mt_backend_available(NULL), 0);
  mt_dev *dev = open_ok("model://?tiles=3");
  assert_int_equal(mt_dev_get_info(dev)->tiles, 3);
  assert_int_equal(mt_dev_get_info(dev)->rows, MT_ROWS);
  assert_string_equal(mt_dev_uri(dev), "model://?tiles=3");
  mt_dev_close(dev);
  assert_int_equal(mt_dev_get_info(dev = open_ok("model://"))->tiles, 32);
  mt_dev_close(dev);

  static const struct { const char *uri; int rc; const char *msg; } bad[] = {
    {"model://?tiles=0", MT_ERR_INVAL, "tiles must be an integer in [1, 64]"},
    {"model://?tiles=65", MT_ERR_INVAL, "tiles must be an integer"},
    {"model://?colour=red", MT_ERR_INVAL, "unknown parameter"},
    {"modle://", MT_ERR_INVAL, "unknown scheme 'modle'"},
    {"/dev/null", MT_ERR_INVAL, "is not a device URI"},
    /* No FT601 on a build machine (no /dev/bus/usb at all in CI). */
    {"usb://0403:601f", MT_ERR_NODEV, "usb://0403:601f: no such USB device attached"},
    {"usb://1/2", MT_ERR_NODEV, "usb://1/2: no such USB device attached"},
    {"usb://0403", MT_ERR_INVAL, "expected usb://VID:PID (hex, e.g. usb://0403:601f) or usb://BUS/ADDR"},
    {"usb://0403:601f?timeout=x", MT_ERR_INVAL, "unknown parameter 'timeout=x'"},
    {"xrt://0", MT_ERR_NODEV, "not part of this build"}, /* the library alone has no XRT */
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    dev = NULL;
    assert_int_equal(mt_dev_open(bad[k].uri, &dev), bad[k].rc);
    assert_non_null(dev);
    assert_int_equal(mt_dev_errcode(dev), bad[k].rc); /* the class stays beside the message */
    if (!strstr(mt_dev_errmsg(dev), bad[k].msg))
      fail_msg("%s: message '%s' lacks '%s'", bad[k].uri, mt_dev_errmsg(dev), bad[k].msg);
    mt_dev_close(dev);
  }
}

static void device_errors_name_the_field(void **state) {
  (void)state;
  mt_dev *dev = open_ok("model://?tiles=1");
  assert_int_equal(mt_dev_errcode(dev), MT_OK); /* nothing failed yet */
  assert_string_equal(mt_dev_errmsg(dev), "");
  uint32_t cfg[MT_CFG_COUNT] = {0};
  cfg[MT_CFG_G_MAX] = 100;
  cfg[MT_CFG_DAC_BITS] = 8;
  cfg[MT_CFG_ADC_BITS] = 20;
  cfg[MT_CFG_WV_MAX_ITER] = 1;
  cfg[MT_CFG_META_HIDDEN_BITS] = 32;
  cfg[MT_CFG_META_HIDDEN_FRAC] = 16;
  cfg[MT_CFG_META_TABLE_LOG2] = 8;
  cfg[MT_CFG_META_ENTRY_BITS] = 16;
  assert_int_equal(mt_dev_configure(dev, cfg), MT_ERR_DEVICE);
  assert_int_equal(mt_dev_errcode(dev), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "CONFIGURE"));
  assert_non_null(strstr(mt_dev_errmsg(dev), "field 18 (adc_bits) = 20 is out of range [2, 16]"));
  /* A host-side refusal has its own class; a later success leaves the last failure's. */
  assert_int_equal(mt_dev_set_levels(dev, MT_MAX_LEVELS + 1, cfg), MT_ERR_INVAL);
  assert_int_equal(mt_dev_errcode(dev), MT_ERR_INVAL);
  assert_int_equal(mt_dev_stats_reset(dev), MT_OK);
  assert_int_equal(mt_dev_errcode(dev), MT_ERR_INVAL);
  /* Commands before configuration say what is missing. */
  assert_int_equal(mt_dev_fabricate(dev, 1, 0), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "device not configured"));
  uint32_t e = 0;
  assert_int_equal(mt_dev_program(dev, 5, 0, &e, 1, NULL), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "ERR_TILE"));
  /* A cross-field rule names itself (docs/protocol.json config_rules). */
  cfg[MT_CFG_ADC_BITS] = 8;
  cfg[MT_CFG_G_MIN] = 100;
  assert_int_equal(mt_dev_configure(dev, cfg), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "field 1 (g_max) = 100"));
  assert_non_null(strstr(mt_dev_errmsg(dev), "g_min < g_max"));
  cfg[MT_CFG_G_MIN] = 0;
  cfg[MT_CFG_META_HIDDEN_BITS] = 8;
  cfg[MT_CFG_META_HIDDEN_FRAC] = 8;
  assert_int_equal(mt_dev_configure(dev, cfg), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "field 41 (meta_hidden_frac) = 8"));
  assert_non_null(strstr(mt_dev_errmsg(dev), "meta_hidden_frac < meta_hidden_bits"));
  mt_dev_close(dev);
}

/* mt_dev_read_list: list order, any length (split into several READ_LIST commands), the same
 * values as READ_CELLS, and errors that name the command and the entry. */
static void read_list_through_the_api(void **state) {
  (void)state;
  mt_dev *dev = open_rram(2);
  const size_t n = 2 * (MT_MAX_PAYLOAD - 2) + 7; /* three commands */
  uint32_t *cells = malloc(n * sizeof *cells);
  uint16_t *gp = malloc(n * sizeof *gp), *gm = malloc(n * sizeof *gm);
  assert_non_null(cells);
  assert_non_null(gp);
  assert_non_null(gm);
  for (size_t k = 0; k < n; k++)
    cells[k] = (uint32_t)((k * 7919u) % MT_ROWS) << 20 | (uint32_t)((k * 104729u) % MT_COLS) << 8;
  static uint16_t ap[MT_ROWS * MT_COLS], am[MT_ROWS * MT_COLS];
  mt_region all = {0, MT_ROWS, 0, MT_COLS};
  assert_int_equal(mt_dev_read_cells(dev, 1, all, 1, ap, am), MT_OK);
  uint64_t c0[MT_CNT_COUNT], c1[MT_CNT_COUNT];
  assert_int_equal(mt_dev_stats(dev, c0, MT_CNT_COUNT), MT_OK);
  assert_int_equal(mt_dev_read_list(dev, 1, 1, cells, n, gp, gm), MT_OK);
  for (size_t k = 0; k < n; k++) {
    uint32_t i = cells[k] >> 20, j = (cells[k] >> 8) & 0xFFFu;
    if (gp[k] != ap[i * MT_COLS + j] || gm[k] != am[i * MT_COLS + j])
      fail_msg("cell %zu (%u, %u): %u/%u, READ_CELLS %u/%u", k, i, j, gp[k], gm[k],
               ap[i * MT_COLS + j], am[i * MT_COLS + j]);
  }
  assert_int_equal(mt_dev_stats(dev, c1, MT_CNT_COUNT), MT_OK);
  assert_int_equal(c1[MT_CNT_CELL_READS], c0[MT_CNT_CELL_READS]); /* PROBE counts nothing */
  /* Sensed reads count two device reads per cell; NULL outputs are allowed. */
  assert_int_equal(mt_dev_read_list(dev, 1, 0, cells, 10, NULL, gm), MT_OK);
  assert_int_equal(mt_dev_stats(dev, c1, MT_CNT_COUNT), MT_OK);
  assert_int_equal(c1[MT_CNT_CELL_READS], c0[MT_CNT_CELL_READS] + 20);
  assert_int_equal(mt_dev_read_list(dev, 1, 0, cells, 0, gp, gm), MT_OK);
  /* Errors: the entry, the tile, a missing list. */
  cells[3] = (uint32_t)MT_ROWS << 20;
  assert_int_equal(mt_dev_read_list(dev, 1, 0, cells, 5, gp, gm), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "READ_LIST: ERR_RANGE: payload word 5"));
  assert_int_equal(mt_dev_read_list(dev, 9, 0, cells, 1, gp, gm), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "ERR_TILE"));
  assert_int_equal(mt_dev_read_list(dev, 1, 0, NULL, 1, gp, gm), MT_ERR_INVAL);
  free(cells);
  free(gp);
  free(gm);
  mt_dev_close(dev);
}

static void mvm_and_program_through_the_api(void **state) {
  (void)state;
  mt_dev *dev = open_rram(1);
  /* Program a column of levels, read them back, and run a batch larger than
   * MAX_BATCH so the API must split it. */
  uint32_t entries[MT_ROWS];
  for (uint32_t i = 0; i < MT_ROWS; i++) entries[i] = i << 20 | 3u << 8 | (i % 33);
  mt_prog_result res;
  assert_int_equal(mt_dev_program(dev, 0, 0, entries, MT_ROWS, &res), MT_OK);
  assert_int_equal(res.programmed + res.skipped, MT_ROWS);
  uint16_t lv[MT_ROWS];
  assert_int_equal(mt_dev_read_levels(dev, 0, (mt_region){0, MT_ROWS, 3, 1}, lv), MT_OK);
  for (uint32_t i = 0; i < MT_ROWS; i++) assert_int_equal(lv[i], i % 33);
  enum { NV = MT_MAX_BATCH + 7 };
  static int16_t x[NV * MT_ROWS], y[NV * 5], y1[5];
  for (size_t k = 0; k < NV * MT_ROWS; k++) x[k] = (int16_t)(k % 50);
  assert_int_equal(mt_dev_mvm(dev, 0, NV, MT_ROWS, 5, x, y), MT_OK);
  /* Column 3 carries the programmed weights, so its output is non-zero. */
  assert_true(y[3] != 0 || y[5 + 3] != 0);
  assert_int_equal(mt_dev_mvm(dev, 0, 1, MT_ROWS, 5, x, y1), MT_OK);
  uint64_t c[MT_CNT_COUNT];
  assert_int_equal(mt_dev_stats(dev, c, MT_CNT_COUNT), MT_OK);
  assert_int_equal(c[MT_CNT_MVMS], NV + 1);
  assert_int_equal(mt_dev_mvm(dev, 0, 1, MT_ROWS + 1, 5, x, y1), MT_ERR_INVAL);
  mt_dev_close(dev);
}

/* Pulses, reads and the metaplasticity unit through the API. */
/* mt_dev_drift: times to the command's log2_ratio, bad times named, the device's checks, and
 * the API's DRIFT the same as the raw command of the same words. */
static void drift_through_the_api(void **state) {
  (void)state;
  uint32_t l = 0;
  assert_int_equal(mt_dev_drift_log2(20, 40, &l), MT_OK);
  assert_int_equal(l, 65536);
  assert_int_equal(mt_dev_drift_log2(20, 20, &l), MT_OK);
  assert_int_equal(l, 0);
  assert_int_equal(mt_dev_drift_log2(20, 3620, &l), MT_OK);
  assert_int_equal(l, (uint32_t)llround(log2(3620.0 / 20.0) * 65536));
  assert_int_equal(mt_dev_drift_log2(1, ldexp(1, 64), &l), MT_OK);
  assert_int_equal(l, MT_DRIFT_MAX_LOG2);
  assert_int_equal(mt_dev_drift_log2(1, ldexp(1, 65), &l), MT_ERR_INVAL);
  assert_int_equal(mt_dev_drift_log2(2, 1, &l), MT_ERR_INVAL);
  assert_int_equal(mt_dev_drift_log2(0, 1, &l), MT_ERR_INVAL);
  assert_int_equal(mt_dev_drift_log2(NAN, 1, &l), MT_ERR_INVAL);
  assert_int_equal(mt_dev_drift_log2(1, INFINITY, &l), MT_ERR_INVAL);

  mt_dev *a = open_rram(2), *b = open_rram(2);
  assert_int_equal(mt_dev_drift(a, 0, 5, 30, 10), MT_ERR_INVAL);
  assert_non_null(strstr(mt_dev_errmsg(a), "drift from t0 = 30 s to t1 = 10 s"));
  assert_int_equal(mt_dev_drift(a, 2, 5, 20, 30), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(a), "ERR_TILE"));
  /* Devices off their floor: a drifting configuration, some programming. */
  uint32_t cfg[MT_CFG_COUNT];
  memcpy(cfg, rram.cfg, sizeof cfg);
  cfg[MT_CFG_DRIFT_NU] = 3277, cfg[MT_CFG_DRIFT_NU_SD] = 1311;
  uint32_t entries[64];
  for (uint32_t k = 0; k < 64; k++) entries[k] = (k % MT_ROWS) << 20 | (k * 7 % MT_COLS) << 8 | (rram.levels - 1 - k % 4);
  static uint16_t gp[2][MT_ROWS * MT_COLS], gm[2][MT_ROWS * MT_COLS];
  mt_dev *d[2] = {a, b};
  for (int k = 0; k < 2; k++) {
    assert_int_equal(mt_dev_configure(d[k], cfg), MT_OK);
    assert_int_equal(mt_dev_program(d[k], 1, 0, entries, 64, NULL), MT_OK);
  }
  mt_region all = {0, MT_ROWS, 0, MT_COLS};
  assert_int_equal(mt_dev_read_cells(a, 1, all, 1, gp[0], gm[0]), MT_OK);
  assert_int_equal(mt_dev_drift(a, 1, 99, 20, 3620), MT_OK);
  uint32_t raw[4] = {99, 0, 1, 0}, n = 0;
  assert_int_equal(mt_dev_drift_log2(20, 3620, &raw[3]), MT_OK);
  assert_int_equal(mt_dev_command(b, MT_OP_DRIFT, raw, 4, NULL, 0, &n), MT_OK);
  assert_int_equal(n, 0);
  assert_int_equal(mt_dev_read_cells(a, 1, all, 1, gp[1], gm[1]), MT_OK);
  uint32_t lower = 0;
  for (uint32_t i = 0; i < MT_ROWS * MT_COLS; i++) {
    assert_true(gp[1][i] <= gp[0][i] && gm[1][i] <= gm[0][i]);
    lower += gp[1][i] < gp[0][i];
  }
  assert_true(lower >= 50); /* the programmed G+ (and their floors' neighbours) went down */
  assert_int_equal(mt_dev_read_cells(b, 1, all, 1, gp[0], gm[0]), MT_OK);
  assert_memory_equal(gp[0], gp[1], sizeof gp[0]);
  assert_memory_equal(gm[0], gm[1], sizeof gm[0]);
  mt_dev_close(a);
  mt_dev_close(b);
}

static void pulse_read_and_meta_through_the_api(void **state) {
  (void)state;
  mt_dev *dev = open_rram(1);
  mt_region one = {5, 1, 7, 1};
  uint16_t gp0 = 0, gm0 = 0, gp1 = 0, gm1 = 0;
  assert_int_equal(mt_dev_read_cells(dev, 0, one, 1, &gp0, &gm0), MT_OK);
  uint32_t e = 5u << 20 | 7u << 8 | 0u << 7 | 10u; /* 10 SET pulses on G+ */
  assert_int_equal(mt_dev_pulse(dev, 0, &e, 1), MT_OK);
  assert_int_equal(mt_dev_read_cells(dev, 0, one, 1, &gp1, &gm1), MT_OK);
  assert_true(gp1 > gp0);
  assert_int_equal(gm1, gm0);
  uint64_t c[MT_CNT_COUNT];
  assert_int_equal(mt_dev_stats(dev, c, MT_CNT_COUNT), MT_OK);
  assert_int_equal(c[MT_CNT_SET_PULSES], 10);
  assert_int_equal(c[MT_CNT_CELL_READS], 0); /* probe reads are free */
  assert_int_equal(mt_dev_read_cells(dev, 0, one, 0, &gp1, &gm1), MT_OK);
  assert_int_equal(mt_dev_stats(dev, c, MT_CNT_COUNT), MT_OK);
  assert_int_equal(c[MT_CNT_CELL_READS], 2);

  /* Hidden weights of a 3x4 region: written, read back, updated. */
  mt_region r = {2, 3, 10, 4};
  int32_t h[12], back[12];
  for (int k = 0; k < 12; k++) h[k] = (k - 6) * 70000; /* about one level step apart */
  mt_prog_result res;
  assert_int_equal(mt_dev_meta_write(dev, 0, r, h, &res), MT_OK);
  assert_int_equal(res.programmed + res.skipped, 12);
  assert_int_equal(mt_dev_meta_read(dev, 0, r, back), MT_OK);
  assert_memory_equal(h, back, sizeof h);
  uint16_t lv[12];
  assert_int_equal(mt_dev_read_levels(dev, 0, r, lv), MT_OK);
  for (int k = 1; k < 12; k++) assert_true(lv[k] >= lv[k - 1]);
  int16_t d[12] = {0};
  d[11] = 100; /* grows |h| of the last weight: applied in full */
  assert_int_equal(mt_dev_meta_update(dev, 0, r, d, &res), MT_OK);
  assert_int_equal(mt_dev_meta_read(dev, 0, r, back), MT_OK);
  assert_int_equal(back[11], h[11] + (100 << dev_meta_shift(dev)));
  assert_int_equal(res.programmed + res.skipped, 1);
  mt_dev_close(dev);
}

static char tmpdir[64];

static int make_tmpdir(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/mt_test_dev_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  return system(cmd);
}

/* Saving, loading into a fresh device, and continuing gives the same bytes as
 * continuing the original: the snapshot holds the noise lanes and counters. */
static void snapshot_resumes_exactly(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/a.snap", tmpdir);
  mt_dev *a = open_rram(2);
  uint32_t e[64];
  for (uint32_t k = 0; k < 64; k++) e[k] = (k % 8) << 20 | (k / 8) << 8 | (k * 5 % 33);
  assert_int_equal(mt_dev_program(a, 1, 0, e, 64, NULL), MT_OK);
  assert_int_equal(mt_dev_snapshot_save(a, path), MT_OK);
  mt_dev *b = open_ok("model://?tiles=2");
  assert_int_equal(mt_dev_snapshot_load(b, path), MT_OK);

  int16_t x[MT_ROWS], ya[MT_COLS], yb[MT_COLS];
  for (uint32_t i = 0; i < MT_ROWS; i++) x[i] = (int16_t)(i * 7 % 100);
  for (int round = 0; round < 3; round++) {
    for (uint32_t k = 0; k < 64; k++) e[k] = (k % 8) << 20 | (k / 8) << 8 | ((k + round) * 3 % 33);
    mt_prog_result ra, rb;
    assert_int_equal(mt_dev_program(a, 1, 0, e, 64, &ra), MT_OK);
    assert_int_equal(mt_dev_program(b, 1, 0, e, 64, &rb), MT_OK);
    assert_memory_equal(&ra, &rb, sizeof ra);
    assert_int_equal(mt_dev_mvm(a, 1, 1, MT_ROWS, MT_COLS, x, ya), MT_OK);
    assert_int_equal(mt_dev_mvm(b, 1, 1, MT_ROWS, MT_COLS, x, yb), MT_OK);
    assert_memory_equal(ya, yb, sizeof ya);
  }
  uint64_t ca[MT_CNT_COUNT], cb[MT_CNT_COUNT];
  assert_int_equal(mt_dev_stats(a, ca, MT_CNT_COUNT), MT_OK);
  assert_int_equal(mt_dev_stats(b, cb, MT_CNT_COUNT), MT_OK);
  assert_memory_equal(ca, cb, sizeof ca);
  /* No temporary file is left beside the snapshot. */
  char cmd[160];
  snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", tmpdir);
  assert_int_equal(system(cmd), 0);
  mt_dev_close(a);
  mt_dev_close(b);
}

static void expect_load_error(mt_dev *dev, const char *path, int rc, const char *msg) {
  assert_int_equal(mt_dev_snapshot_load(dev, path), rc);
  if (!strstr(mt_dev_errmsg(dev), msg)) fail_msg("message '%s' lacks '%s'", mt_dev_errmsg(dev), msg);
}

/* A damaged or foreign snapshot is refused and the device keeps its state. */
static void bad_snapshots_are_refused(void **state) {
  (void)state;
  char path[128], bad[160], cmd[640];
  snprintf(path, sizeof path, "%s/good.snap", tmpdir);
  snprintf(bad, sizeof bad, "%s/bad.snap", tmpdir);
  mt_dev *src = open_rram(2);
  assert_int_equal(mt_dev_snapshot_save(src, path), MT_OK);
  mt_dev *dev = open_rram(2);
  uint64_t before[MT_CNT_COUNT], after[MT_CNT_COUNT];
  assert_int_equal(mt_dev_stats(dev, before, MT_CNT_COUNT), MT_OK);

  expect_load_error(dev, "/nonexistent/x.snap", MT_ERR_IO, "/nonexistent/x.snap: cannot open");
  /* A FIFO is refused by type without waiting for a writer (alarm: a hang fails). */
  snprintf(bad, sizeof bad, "%s/fifo.snap", tmpdir);
  assert_int_equal(mkfifo(bad, 0600), 0);
  alarm(20);
  expect_load_error(dev, bad, MT_ERR_IO, "fifo.snap: is a FIFO, not a regular file");
  alarm(0);
  snprintf(bad, sizeof bad, "%s/bad.snap", tmpdir);
  snprintf(cmd, sizeof cmd, "head -c 1000 %s > %s", path, bad);
  assert_int_equal(system(cmd), 0);
  expect_load_error(dev, bad, MT_ERR_FILE, "1000 bytes, but a snapshot of this device (2 tiles)");
  /* Flip one byte in the middle: same size, checksum catches it. */
  snprintf(cmd, sizeof cmd,
           "cp %s %s && printf '\\377' | dd of=%s bs=1 seek=500000 conv=notrunc status=none", path,
           bad, bad);
  assert_int_equal(system(cmd), 0);
  expect_load_error(dev, bad, MT_ERR_FILE, "checksum mismatch");
  /* A snapshot of a 1-tile device does not fit a 2-tile one. */
  mt_dev *one = open_rram(1);
  assert_int_equal(mt_dev_snapshot_save(one, bad), MT_OK);
  expect_load_error(dev, bad, MT_ERR_FILE, "a snapshot of this device (2 tiles)");
  assert_int_equal(mt_dev_stats(dev, after, MT_CNT_COUNT), MT_OK);
  assert_memory_equal(before, after, sizeof before);
  mt_dev_close(one);
  mt_dev_close(src);
  mt_dev_close(dev);
}

static void put_le32(unsigned char *b, uint32_t v) {
  for (int k = 0; k < 4; k++) b[k] = (unsigned char)(v >> (8 * k));
}

/* An image with a valid checksum but a word the device refuses (GLOBAL "configured" = 2, sent
 * after the tiles) is undone: the device's whole state, tiles too, is what it was. */
static void rejected_images_change_nothing(void **state) {
  (void)state;
  mt_dev *src = open_rram(2);
  assert_int_equal(mt_dev_fabricate(src, 99, 1), MT_OK); /* tiles differ from dev's */
  unsigned char *img = NULL, *before = NULL, *after = NULL;
  size_t n = 0, nb = 0, na = 0;
  assert_int_equal(mt_dev_snapshot_bytes(src, &img, &n), MT_OK);
  const size_t hdr_bytes = 8 * 4; /* the snapshot header (docs/protocol.md, "Snapshots") */
  put_le32(img + hdr_bytes + 4 * MT_G_CONFIGURED, 2);
  put_le32(img + n - 4, (uint32_t)crc32(0L, img, (uInt)(n - 4)));
  mt_dev *dev = open_rram(2);
  assert_int_equal(mt_dev_snapshot_bytes(dev, &before, &nb), MT_OK);
  assert_int_equal(mt_dev_restore_bytes(dev, img, n, "bad.snap"), MT_ERR_FILE);
  const char *msg = mt_dev_errmsg(dev);
  if (!strstr(msg, "bad.snap: the device rejected the image, state unchanged") ||
      !strstr(msg, "STATE_WRITE"))
    fail_msg("'%s'", msg);
  assert_int_equal(mt_dev_snapshot_bytes(dev, &after, &na), MT_OK);
  assert_int_equal(na, nb);
  assert_memory_equal(before, after, nb);
  /* The same image with the word repaired restores. */
  put_le32(img + hdr_bytes + 4 * MT_G_CONFIGURED, 1);
  put_le32(img + n - 4, (uint32_t)crc32(0L, img, (uInt)(n - 4)));
  assert_int_equal(mt_dev_restore_bytes(dev, img, n, "good.snap"), MT_OK);
  free(img);
  free(before);
  free(after);
  mt_dev_close(src);
  mt_dev_close(dev);
}

/* mt_dev_command takes any uint32_t opcode: those that do not fit the 8-bit
 * field are refused by name, those that fit but are unknown get the device's
 * ERR_OPCODE, and neither reads outside the opcode-name table (ASan watches). */
static void raw_commands_check_the_opcode(void **state) {
  (void)state;
  mt_dev *dev = open_ok("model://?tiles=1");
  uint32_t rsp[8], n = 99;
  static const uint32_t wide[] = {256, 4096, 65536, 0xFFFFFFFFu};
  for (size_t k = 0; k < sizeof wide / sizeof *wide; k++) {
    char want[64];
    snprintf(want, sizeof want, "opcode %u does not fit", wide[k]);
    assert_int_equal(mt_dev_command(dev, wide[k], NULL, 0, rsp, 8, &n), MT_ERR_INVAL);
    if (!strstr(mt_dev_errmsg(dev), want)) fail_msg("%u: '%s'", wide[k], mt_dev_errmsg(dev));
  }
  assert_int_equal(n, 99); /* nothing was sent */
  assert_int_equal(mt_dev_command(dev, 200, NULL, 0, rsp, 8, &n), MT_ERR_DEVICE);
  if (!strstr(mt_dev_errmsg(dev), "unknown opcode: ERR_OPCODE: opcode 200"))
    fail_msg("'%s'", mt_dev_errmsg(dev));
  assert_int_equal(mt_dev_command(dev, MT_OP_ECHO, (const uint32_t[]){7, 8}, 2, rsp, 8, &n), MT_OK);
  assert_int_equal(n, 2);
  assert_int_equal(rsp[1], 8);
  assert_int_equal(mt_dev_command(dev, MT_OP_ECHO, (const uint32_t[]){7}, 1, NULL, 4, &n),
                   MT_ERR_INVAL);
  mt_dev_close(dev);
}

/* Every code has its own name and description; any other value is named as unknown. */
static void error_names(void **state) {
  (void)state;
  static const struct { int code; const char *name; } codes[] = {
    {MT_OK, "MT_OK"}, {MT_ERR_INVAL, "MT_ERR_INVAL"}, {MT_ERR_NOMEM, "MT_ERR_NOMEM"},
    {MT_ERR_NODEV, "MT_ERR_NODEV"}, {MT_ERR_IO, "MT_ERR_IO"}, {MT_ERR_TIMEOUT, "MT_ERR_TIMEOUT"},
    {MT_ERR_DEVICE, "MT_ERR_DEVICE"}, {MT_ERR_PROTOCOL, "MT_ERR_PROTOCOL"},
    {MT_ERR_FILE, "MT_ERR_FILE"}};
  for (size_t k = 0; k < sizeof codes / sizeof *codes; k++) {
    assert_string_equal(mt_err_name(codes[k].code), codes[k].name);
    assert_string_not_equal(mt_strerror(codes[k].code), "unknown error");
  }
  assert_string_equal(mt_err_name(-99), "MT_ERR_UNKNOWN");
  assert_string_equal(mt_err_name(5), "MT_ERR_UNKNOWN");
  /* The tools' exit status per class (README.md, "Exit status"): all distinct, 2 for usage. */
  static const struct { int code, status; } exits[] = {
    {MT_OK, 0}, {MT_ERR_INVAL, 2}, {MT_ERR_NOMEM, 3}, {MT_ERR_NODEV, 4}, {MT_ERR_IO, 5},
    {MT_ERR_TIMEOUT, 6}, {MT_ERR_DEVICE, 7}, {MT_ERR_PROTOCOL, 8}, {MT_ERR_FILE, 9}, {-99, 1}, {3, 1}};
  for (size_t k = 0; k < sizeof exits / sizeof *exits; k++)
    assert_int_equal(mt_err_exit_status(exits[k].code), exits[k].status);
  assert_int_equal(mt_dev_errcode(NULL), MT_ERR_NOMEM);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(error_names),
    cmocka_unit_test(open_reports_info_and_rejects_bad_uris),
    cmocka_unit_test(device_errors_name_the_field),
    cmocka_unit_test(read_list_through_the_api),
    cmocka_unit_test(mvm_and_program_through_the_api),
    cmocka_unit_test(pulse_read_and_meta_through_the_api),
    cmocka_unit_test(drift_through_the_api),
    cmocka_unit_test(snapshot_resumes_exactly),
    cmocka_unit_test(bad_snapshots_are_refused),
    cmocka_unit_test(rejected_images_change_nothing),
    cmocka_unit_test(raw_commands_check_the_opcode),
  };
  return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
