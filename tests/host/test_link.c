/* The link layer (host/src/mt_link.c) and the fault injector (mt_transport_faults.c) against a
 * device written from docs/protocol.md, "Link framing" (device rules) around the C model:
 * batches split at the device's buffer and continued after a full response buffer, the same
 * responses as the model called directly, and with frames dropped, corrupted and duplicated in
 * both directions every command still runs exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memtile.h"
#include "mt_backend.h"
#include "mt_frame.h"
#include "mt_link.h"
#include "mt_preset.h"
#include "mt_protocol.h"
#include "mt_transport.h"

/* ---- a device behind a byte pipe ---------------------------------------- */

typedef struct {
  mt_transport base;
  mt_backend *model;
  uint32_t cmd_words, rsp_words;
  mt_frame_rx *rx;
  uint16_t last_seq;
  int have_kept;
  uint8_t *kept; /* the last RSP frame */
  size_t kept_n;
  uint8_t *out; /* bytes for the host */
  size_t out_n, out_cap;
  uint32_t *rsp;
  uint64_t commands_run, frames_run, sends;
  uint32_t max_payload; /* nonzero: INFO reports it, and no command may be longer */
  uint32_t longest;     /* longest command payload received */
  int unplugged;
} fakedev;

/* A device build that takes shorter commands than its frames carry (the AC701's CMD_WORDS):
 * every command must fit, and INFO says so. */
static void limit_payload(fakedev *d, const mt_frame *f, uint32_t n_rsp) {
  for (uint32_t k = 0; k + 1 < f->len; k += MT_HDR_WORDS + f->payload[k + 1]) {
    if (f->payload[k + 1] > d->longest) d->longest = f->payload[k + 1];
    if (d->max_payload && f->payload[k + 1] > d->max_payload)
      fail_msg("a command of %u payload words; the device takes %u", f->payload[k + 1],
               d->max_payload);
  }
  for (uint32_t k = 1; d->max_payload && k + 1 < n_rsp + 1; k += MT_HDR_WORDS + d->rsp[k + 1])
    if (d->rsp[k] >> 24 == MT_OP_INFO && (d->rsp[k] & 0xFFu) == MT_ST_OK)
      d->rsp[k + MT_HDR_WORDS + MT_INFO_MAX_PAYLOAD] = d->max_payload;
}

static void queue(fakedev *d, const uint8_t *b, size_t n) {
  assert_true(d->out_n + n <= d->out_cap);
  memcpy(d->out + d->out_n, b, n);
  d->out_n += n;
}

static void dev_frame(fakedev *d, const mt_frame *f) {
  uint8_t *tmp = malloc(MT_FRAME_BYTES(d->rsp_words));
  assert_non_null(tmp);
  if (f->kind == MT_FRAME_KIND_SYNC && f->len == 0) {
    d->last_seq = (uint16_t)f->seq;
    d->have_kept = 0;
    uint32_t p[2] = {d->cmd_words, d->rsp_words};
    queue(d, tmp, mt_frame_encode(MT_FRAME_KIND_SYNC_ACK, f->seq, p, 2, tmp));
  } else if (f->kind == MT_FRAME_KIND_CMD && f->seq == (uint16_t)(d->last_seq + 1)) {
    uint32_t n_rsp = 0, consumed = 0;
    char err[256];
    assert_int_equal(mt_backend_model.transact(d->model, f->payload, f->len, d->rsp + 1,
                                               d->rsp_words - 1, &n_rsp, &consumed, err,
                                               sizeof err),
                     MT_OK);
    d->rsp[0] = consumed;
    limit_payload(d, f, n_rsp);
    for (uint32_t k = 0; k < consumed; k += MT_HDR_WORDS + f->payload[k + 1]) d->commands_run++;
    d->frames_run++;
    d->kept_n = mt_frame_encode(MT_FRAME_KIND_RSP, f->seq, d->rsp, n_rsp + 1, d->kept);
    d->have_kept = 1;
    d->last_seq = (uint16_t)f->seq;
    queue(d, d->kept, d->kept_n);
  } else if (f->kind == MT_FRAME_KIND_CMD && f->seq == d->last_seq && d->have_kept) {
    queue(d, d->kept, d->kept_n);
  }
  free(tmp);
}

static int fd_send(mt_transport *t, const uint8_t *buf, size_t n, char *err, size_t errlen) {
  fakedev *d = (fakedev *)t;
  if (d->unplugged) {
    snprintf(err, errlen, "fake device unplugged");
    return MT_ERR_NODEV;
  }
  d->sends++;
  assert_int_equal(mt_frame_rx_push(d->rx, buf, n), n);
  mt_frame f;
  while (mt_frame_rx_next(d->rx, &f)) dev_frame(d, &f);
  /* A frame whose len was corrupted upwards is dropped after a while (DROP_CYCLES). */
  if (mt_frame_rx_pending(d->rx)) mt_frame_rx_abandon(d->rx);
  while (mt_frame_rx_next(d->rx, &f)) dev_frame(d, &f);
  return MT_OK;
}

static int fd_recv(mt_transport *t, uint8_t *buf, size_t cap, unsigned timeout_ms, size_t *got,
                   char *err, size_t errlen) {
  (void)timeout_ms;
  fakedev *d = (fakedev *)t;
  if (d->unplugged) {
    snprintf(err, errlen, "fake device unplugged");
    return MT_ERR_NODEV;
  }
  if (d->out_n == 0) return MT_ERR_TIMEOUT;
  /* Deliver in odd-sized pieces, like USB transfers. */
  size_t n = d->out_n < cap ? d->out_n : cap;
  if (n > 1000) n = 1000 + (d->out_n % 7);
  if (n > d->out_n) n = d->out_n;
  memcpy(buf, d->out, n);
  memmove(d->out, d->out + n, d->out_n - n);
  d->out_n -= n;
  *got = n;
  return MT_OK;
}

static void fd_close(mt_transport *t) {
  fakedev *d = (fakedev *)t;
  mt_backend_model.close(d->model);
  mt_frame_rx_free(d->rx);
  free(d->kept);
  free(d->out);
  free(d->rsp);
  free(d);
}

static const mt_transport_ops fake_ops = {fd_send, fd_recv, fd_close};

static fakedev *fake_new(uint32_t cmd_words, uint32_t rsp_words) {
  fakedev *d = calloc(1, sizeof *d);
  assert_non_null(d);
  d->base.ops = &fake_ops;
  d->cmd_words = cmd_words;
  d->rsp_words = rsp_words;
  d->last_seq = 0xFFFF;
  char err[256];
  assert_int_equal(mt_backend_model.open("?tiles=2", &d->model, err, sizeof err), MT_OK);
  d->rx = mt_frame_rx_new(cmd_words);
  d->kept = malloc(MT_FRAME_BYTES(rsp_words));
  d->out_cap = 64 * MT_FRAME_BYTES(rsp_words);
  d->out = malloc(d->out_cap);
  d->rsp = malloc(4u * rsp_words);
  assert_true(d->rx && d->kept && d->out && d->rsp);
  return d;
}

/* ---- command streams ---------------------------------------------------- */

/* A stream of n small commands: SEED, STATS_GET, INFO, and an unknown opcode (an error that
 * does not stop processing). Returns its words. */
static uint32_t stream(uint32_t *cmd, uint32_t n) {
  uint32_t w = 0;
  for (uint32_t i = 0; i < n; i++) {
    switch (i % 4) {
      case 0:
        cmd[w++] = MT_OP_SEED << 24 | (i & 0xFFu) << 16;
        cmd[w++] = 2;
        cmd[w++] = i;
        cmd[w++] = 7;
        break;
      case 1: cmd[w++] = MT_OP_STATS_GET << 24, cmd[w++] = 0; break;
      case 2: cmd[w++] = MT_OP_INFO << 24, cmd[w++] = 0; break;
      default: cmd[w++] = 0xEEu << 24, cmd[w++] = 0;
    }
  }
  return w;
}

#define NCMD 200u
#define BIG (NCMD * 4u)
#define RBIG (NCMD * (2u + 2u * MT_CNT_COUNT))

/* The same stream through the model directly. */
static uint32_t direct(const uint32_t *cmd, uint32_t n, uint32_t *rsp) {
  mt_backend *m = NULL;
  char err[256];
  assert_int_equal(mt_backend_model.open("?tiles=2", &m, err, sizeof err), MT_OK);
  uint32_t n_rsp = 0, consumed = 0;
  assert_int_equal(mt_backend_model.transact(m, cmd, n, rsp, RBIG, &n_rsp, &consumed, err,
                                             sizeof err),
                   MT_OK);
  assert_int_equal(consumed, n);
  mt_backend_model.close(m);
  return n_rsp;
}

static void run_stream(const char *faults, uint64_t seed, uint32_t cmd_words, uint32_t rsp_words,
                       mt_link_stats *st, uint64_t *dev_frames) {
  static uint32_t cmd[BIG], want[RBIG], got[RBIG];
  uint32_t n = stream(cmd, NCMD), n_want = direct(cmd, n, want);
  fakedev *d = fake_new(cmd_words, rsp_words);
  mt_transport *t = &d->base;
  char err[256] = "";
  if (faults) assert_int_equal(mt_transport_faults(&d->base, faults, seed, &t, err, sizeof err), MT_OK);
  mt_link *l = NULL;
  int rc = mt_link_open(t, "fake://", (uint16_t)(seed * 977u), 5, &l, err, sizeof err);
  if (rc != MT_OK) fail_msg("open: %s", err);
  assert_int_equal(mt_link_cmd_words(l), cmd_words);
  uint32_t n_rsp = 0, consumed = 0;
  /* In three calls, as a host that flushes its queue three times would. */
  uint32_t cut[4] = {0, n / 3, n / 3, n}, out = 0;
  cut[1] -= cut[1] % 4; /* on command boundaries: every command of stream() has 2 or 4 words */
  cut[2] = cut[1];
  while (cut[2] < 2 * n / 3) cut[2] += MT_HDR_WORDS + cmd[cut[2] + 1];
  for (int k = 0; k < 3; k++) {
    rc = mt_link_transact(l, cmd + cut[k], cut[k + 1] - cut[k], got + out, RBIG - out, &n_rsp,
                          &consumed, err, sizeof err);
    if (rc != MT_OK) fail_msg("transact: %s", err);
    assert_int_equal(consumed, cut[k + 1] - cut[k]);
    out += n_rsp;
  }
  assert_int_equal(out, n_want);
  assert_memory_equal(got, want, 4u * n_want);
  assert_int_equal(d->commands_run, NCMD); /* each command ran exactly once */
  mt_link_get_stats(l, st);
  assert_int_equal(st->commands, NCMD);
  *dev_frames = d->frames_run;
  mt_link_close(l);
}

/* No faults: a large buffer takes each call in one frame. */
static void batches_one_frame_per_call(void **state) {
  (void)state;
  mt_link_stats st;
  uint64_t frames = 0;
  run_stream(NULL, 1, 65536, 65536, &st, &frames);
  assert_int_equal(frames, 3);
  assert_int_equal(st.frames, 4); /* SYNC + 3 CMD */
  assert_int_equal(st.retransmits + st.crc_errors + st.duplicates + st.timeouts, 0);
}

/* A small CMD buffer splits the calls at command boundaries; a small RSP buffer makes the
 * device stop early (ERR_OVERFLOW or no room) and the link continues with the rest. */
static void small_buffers_split_and_continue(void **state) {
  (void)state;
  mt_link_stats st;
  uint64_t frames = 0;
  run_stream(NULL, 2, 40, 80, &st, &frames);
  assert_true(frames > 3 * (BIG / 40) / 4);
  assert_int_equal(st.retransmits, 0);
}

/* Faults in both directions: same responses, every command once, retransmissions seen. */
static void faults_lose_nothing(void **state) {
  (void)state;
  uint64_t retrans = 0, crc = 0, dups = 0;
  for (uint64_t seed = 1; seed <= 6; seed++) {
    mt_link_stats st;
    uint64_t frames = 0;
    run_stream("drop:0.15,corrupt:0.15,dup:0.15", seed, 64, 200, &st, &frames);
    retrans += st.retransmits;
    crc += st.crc_errors;
    dups += st.duplicates;
  }
  assert_true(retrans > 0);
  assert_true(crc > 0);
  assert_true(dups > 0);
}

/* Every frame lost: MT_ERR_TIMEOUT after MT_FRAME_RETRIES tries, naming seq and tries. */
static void retries_exhausted(void **state) {
  (void)state;
  fakedev *d = fake_new(64, 64);
  mt_transport *t = NULL;
  char err[256] = "";
  assert_int_equal(mt_transport_faults(&d->base, "drop:1", 3, &t, err, sizeof err), MT_OK);
  mt_link *l = NULL;
  assert_int_equal(mt_link_open(t, "fake://x", 41, 5, &l, err, sizeof err), MT_ERR_TIMEOUT);
  assert_null(l);
  assert_non_null(strstr(err, "fake://x: no valid answer to frame seq 41 after 8 tries"));
}

/* An unplugged device is an error from the transport, passed on at once. */
static void unplug(void **state) {
  (void)state;
  fakedev *d = fake_new(64, 64);
  mt_link *l = NULL;
  char err[256] = "";
  assert_int_equal(mt_link_open(&d->base, "fake://", 0, 5, &l, err, sizeof err), MT_OK);
  uint32_t cmd[2] = {MT_OP_INFO << 24, 0}, rsp[64], n_rsp = 0, consumed = 0;
  assert_int_equal(mt_link_transact(l, cmd, 2, rsp, 64, &n_rsp, &consumed, err, sizeof err), MT_OK);
  assert_int_equal(consumed, 2);
  d->unplugged = 1;
  assert_int_equal(mt_link_transact(l, cmd, 2, rsp, 64, &n_rsp, &consumed, err, sizeof err),
                   MT_ERR_NODEV);
  assert_non_null(strstr(err, "unplugged"));
  assert_int_equal(consumed, 0);
  mt_link_close(l);
}

/* A command larger than the device's buffer is refused before anything is sent. */
static void command_too_large(void **state) {
  (void)state;
  fakedev *d = fake_new(16, 64);
  mt_link *l = NULL;
  char err[256] = "";
  assert_int_equal(mt_link_open(&d->base, "fake://", 0, 5, &l, err, sizeof err), MT_OK);
  uint32_t cmd[20] = {MT_OP_SEED << 24, 18}, rsp[64], n_rsp = 0, consumed = 0;
  uint64_t sends = d->sends;
  assert_int_equal(mt_link_transact(l, cmd, 20, rsp, 64, &n_rsp, &consumed, err, sizeof err),
                   MT_ERR_INVAL);
  assert_non_null(strstr(err, "a command of 20 words exceeds the device's frame buffer of 16"));
  assert_int_equal(d->sends, sends);
  mt_link_close(l);
}

/* Fault specs: errors name the field and value. */
static void fault_spec_errors(void **state) {
  (void)state;
  static const char *const bad[][2] = {
      {"drop:2", "drop:2 is not a probability"},
      {"drop:-0.1", "drop:-0.1 is not a probability"},
      {"dup:x", "dup:x is not a probability"},
      {"corrupt:", "corrupt: is not a probability"},
      {"lose:0.1", "unknown fault 'lose'"},
      {"drop", "unknown fault 'drop'"},
      {"", "empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    fakedev *d = fake_new(16, 64);
    mt_transport *t = NULL;
    char err[256] = "";
    assert_int_equal(mt_transport_faults(&d->base, bad[i][0], 1, &t, err, sizeof err), MT_ERR_INVAL);
    if (!strstr(err, bad[i][1])) fail_msg("'%s': message '%s' lacks '%s'", bad[i][0], err, bad[i][1]);
    fd_close(&d->base);
  }
  fakedev *d = fake_new(16, 64);
  mt_transport *t = NULL;
  char err[256] = "";
  assert_int_equal(mt_transport_faults(&d->base, "dup:0.5,drop:0,corrupt:1", 1, &t, err, sizeof err), MT_OK);
  t->ops->close(t);
}

/* ---- mt_dev on the link ------------------------------------------------- */

/* A backend that is the link over a fake device, as usb:// is the link over libusb. */
struct mt_backend {
  mt_link *link;
};

static int lb_transact(mt_backend *be, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                       uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, char *err,
                       size_t errlen) {
  return mt_link_transact(be->link, cmd, n_cmd, rsp, rsp_cap, n_rsp, consumed, err, errlen);
}

static void lb_close(mt_backend *be) {
  mt_link_close(be->link);
  free(be);
}

static int lb_link_stats(mt_backend *be, mt_link_stats *st) {
  mt_link_get_stats(be->link, st);
  return MT_OK;
}

static const mt_backend_ops link_backend = {"fake", NULL, lb_transact, lb_close, NULL, lb_link_stats};

static mt_dev *open_on_link(fakedev *d) {
  mt_backend *be = calloc(1, sizeof *be);
  assert_non_null(be);
  char err[256] = "";
  if (mt_link_open(&d->base, "fake://", 9, 5, &be->link, err, sizeof err) != MT_OK)
    fail_msg("open: %s", err);
  mt_dev *dev = NULL;
  if (mt_dev_open_backend(&link_backend, be, "fake://", &dev) != MT_OK)
    fail_msg("open: %s", mt_dev_errmsg(dev));
  return dev;
}

/* The same device state on model:// and on the link: the rram preset, tile 0 fabricated,
 * programmed with a pattern of levels, and hidden weights in rows 8..15. */
static void prepare(mt_dev *dev) {
  mt_preset_t rram;
  char err[256];
  assert_int_equal(mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &rram, err, sizeof err), 0);
  assert_int_equal(mt_preset_apply(&rram, dev), MT_OK);
  assert_int_equal(mt_dev_seed(dev, 42), MT_OK);
  assert_int_equal(mt_dev_fabricate(dev, 7, 0), MT_OK);
  static uint32_t e[MT_ROWS * MT_COLS];
  size_t n = 0;
  for (uint32_t i = 0; i < MT_ROWS; i++)
    for (uint32_t j = 0; j < MT_COLS; j++) e[n++] = i << 20 | j << 8 | (i * 7u + j) % rram.levels;
  mt_prog_result res;
  assert_int_equal(mt_dev_program(dev, 0, 0, e, n, &res), MT_OK);
  static int32_t h[8 * MT_COLS];
  for (uint32_t k = 0; k < 8 * MT_COLS; k++) h[k] = (int32_t)(k * 37u % 2001u) - 1000;
  if (mt_dev_meta_write(dev, 0, (mt_region){8, 8, 0, MT_COLS}, h, &res) != MT_OK)
    fail_msg("META_WRITE: %s", mt_dev_errmsg(dev));
}

typedef struct {
  uint16_t gp[MT_ROWS * MT_COLS], gm[MT_ROWS * MT_COLS], lv[MT_ROWS * MT_COLS];
  uint16_t part_gp[MT_ROWS * MT_COLS], probe_gm[MT_ROWS * MT_COLS];
  int32_t h[MT_ROWS * MT_COLS];
  uint64_t counters[MT_CNT_COUNT];
} reads;

/* Whole-tile noisy reads, an unaligned region, a probe, levels and hidden weights, then the
 * counters; *commands: commands issued for the whole-tile READ_CELLS alone. */
static void read_all(mt_dev *dev, reads *o, uint64_t *commands) {
  const mt_region tile = {0, MT_ROWS, 0, MT_COLS};
  uint64_t before = mt_dev_transactions(dev);
  if (mt_dev_read_cells(dev, 0, tile, 0, o->gp, o->gm) != MT_OK)
    fail_msg("READ_CELLS: %s", mt_dev_errmsg(dev));
  *commands = mt_dev_transactions(dev) - before;
  assert_int_equal(mt_dev_read_cells(dev, 0, (mt_region){3, MT_ROWS - 5, 5, MT_COLS - 9}, 0,
                                     o->part_gp, NULL),
                   MT_OK);
  assert_int_equal(mt_dev_read_cells(dev, 0, tile, 1, NULL, o->probe_gm), MT_OK);
  assert_int_equal(mt_dev_read_levels(dev, 0, tile, o->lv), MT_OK);
  assert_int_equal(mt_dev_meta_read(dev, 0, tile, o->h), MT_OK);
  assert_int_equal(mt_dev_stats(dev, o->counters, MT_CNT_COUNT), MT_OK);
}

/* Region reads larger than one RSP go in row bands (or pieces of a row) whose answers equal
 * one read on model:// word for word, noise draws and counters included. */
static void region_reads_split_to_the_rsp(uint32_t rsp_words, uint32_t max_payload,
                                          uint64_t want_commands) {
  static reads want, got;
  mt_dev *m = NULL;
  assert_int_equal(mt_dev_open("model://?tiles=2", &m), MT_OK);
  prepare(m);
  uint64_t one = 0;
  read_all(m, &want, &one);
  assert_int_equal(one, 1);
  mt_dev_close(m);

  fakedev *d = fake_new(20000, rsp_words);
  d->max_payload = max_payload;
  mt_dev *dev = open_on_link(d);
  prepare(dev);
  if (max_payload) assert_int_equal(d->longest, max_payload); /* PROGRAM went in full chunks */
  uint64_t commands = 0, run0 = d->commands_run;
  read_all(dev, &got, &commands);
  assert_int_equal(commands, want_commands);
  assert_true(d->commands_run - run0 > want_commands); /* they all ran on the device */
  assert_memory_equal(got.gp, want.gp, sizeof want.gp);
  assert_memory_equal(got.gm, want.gm, sizeof want.gm);
  assert_memory_equal(got.part_gp, want.part_gp, sizeof want.part_gp);
  assert_memory_equal(got.probe_gm, want.probe_gm, sizeof want.probe_gm);
  assert_memory_equal(got.lv, want.lv, sizeof want.lv);
  assert_memory_equal(got.h, want.h, sizeof want.h);
  assert_memory_equal(got.counters, want.counters, sizeof want.counters);
  mt_link_stats st;
  assert_int_equal(mt_dev_link_stats(dev, &st), MT_OK);
  assert_int_equal(st.commands, st.commands_issued);
  mt_dev_close(dev);
}

/* 1,000 RSP words: 997 payload words, bands of 7 rows of 128. */
static void region_reads_in_row_bands(void **state) {
  (void)state;
  const uint32_t band = (1000u - 3u) / MT_COLS;
  region_reads_split_to_the_rsp(1000, 0, (MT_ROWS + band - 1) / band);
}

/* 60 RSP words: not one row of 128 fits, each row goes in pieces of 57 cells. */
static void region_reads_in_pieces_of_rows(void **state) {
  (void)state;
  region_reads_split_to_the_rsp(60, 0, MT_ROWS * ((MT_COLS + 56u) / 57u));
}

/* A device whose INFO says it takes commands of 2,000 payload words, in frames of 20,000:
 * PROGRAM of a whole tile goes in chunks that fit (the fake fails the test on a longer one),
 * with the same results as on model://. */
static void commands_cut_to_the_devices_max_payload(void **state) {
  (void)state;
  region_reads_split_to_the_rsp(20000, 2000, 1);
}

/* A region that leaves the tile goes whole: the device's range error, as on model://, and
 * nothing ran. */
static void region_outside_the_tile_is_the_devices_error(void **state) {
  (void)state;
  const mt_region r = {MT_ROWS - 8, 16, 0, MT_COLS};
  static uint16_t g[16 * MT_COLS];
  mt_dev *m = NULL;
  assert_int_equal(mt_dev_open("model://?tiles=2", &m), MT_OK);
  prepare(m);
  assert_int_equal(mt_dev_read_cells(m, 0, r, 0, g, NULL), MT_ERR_DEVICE);
  const char *want = strstr(mt_dev_errmsg(m), ": READ_CELLS");
  assert_non_null(want);
  fakedev *d = fake_new(4096, 1000);
  mt_dev *dev = open_on_link(d);
  prepare(dev);
  uint64_t c0 = mt_dev_transactions(dev);
  assert_int_equal(mt_dev_read_cells(dev, 0, r, 0, g, NULL), MT_ERR_DEVICE);
  assert_int_equal(mt_dev_transactions(dev) - c0, 1);
  assert_string_equal(strstr(mt_dev_errmsg(dev), ": READ_CELLS"), want);
  uint64_t c_m[MT_CNT_COUNT], c_l[MT_CNT_COUNT];
  assert_int_equal(mt_dev_stats(m, c_m, MT_CNT_COUNT), MT_OK);
  assert_int_equal(mt_dev_stats(dev, c_l, MT_CNT_COUNT), MT_OK);
  assert_memory_equal(c_l, c_m, sizeof c_m);
  mt_dev_close(dev);
  mt_dev_close(m);
}

/* META_WRITE and META_UPDATE of whole tiles on a device taking 2,000 payload words: bands of
 * 15 and 31 rows whose results, hidden weights, conductances and counters equal one command
 * each on model://; a bad hidden weight in a later band gets the device's error for one
 * command, with nothing sent. */
static void meta_writes_in_row_bands(void **state) {
  (void)state;
  static int32_t h[MT_ROWS * MT_COLS], got_h[MT_ROWS * MT_COLS], want_h[MT_ROWS * MT_COLS];
  static int16_t u[MT_ROWS * MT_COLS];
  static uint16_t got_g[MT_ROWS * MT_COLS], want_g[MT_ROWS * MT_COLS];
  for (uint32_t k = 0; k < MT_ROWS * MT_COLS; k++) {
    h[k] = (int32_t)(k * 7919u % 400001u) - 200000;
    u[k] = (int16_t)((int32_t)(k * 104729u % 4001u) - 2000);
  }
  const mt_region tile = {0, MT_ROWS, 0, MT_COLS};
  mt_prog_result want_w, want_u, got_w, got_u;
  uint64_t want_c[MT_CNT_COUNT], got_c[MT_CNT_COUNT];
  char want_err[512];
  mt_dev *m = NULL;
  assert_int_equal(mt_dev_open("model://?tiles=2", &m), MT_OK);
  prepare(m);
  assert_int_equal(mt_dev_meta_write(m, 0, tile, h, &want_w), MT_OK);
  assert_int_equal(mt_dev_meta_update(m, 0, tile, u, &want_u), MT_OK);
  const int32_t keep = h[MT_ROWS * MT_COLS - 3];
  h[MT_ROWS * MT_COLS - 3] = (int32_t)MT_HIDDEN_MAX + 1;
  assert_int_equal(mt_dev_meta_write(m, 0, tile, h, NULL), MT_ERR_DEVICE);
  snprintf(want_err, sizeof want_err, "%s", strstr(mt_dev_errmsg(m), ": META_WRITE"));
  h[MT_ROWS * MT_COLS - 3] = keep;
  assert_int_equal(mt_dev_meta_read(m, 0, tile, want_h), MT_OK);
  assert_int_equal(mt_dev_read_cells(m, 0, tile, 0, want_g, NULL), MT_OK);
  assert_int_equal(mt_dev_stats(m, want_c, MT_CNT_COUNT), MT_OK);
  mt_dev_close(m);

  fakedev *d = fake_new(20000, 20000);
  d->max_payload = 2000;
  mt_dev *dev = open_on_link(d);
  prepare(dev);
  uint64_t c0 = mt_dev_transactions(dev);
  assert_int_equal(mt_dev_meta_write(dev, 0, tile, h, &got_w), MT_OK);
  assert_int_equal(mt_dev_transactions(dev) - c0, (MT_ROWS + 14u) / 15u);
  c0 = mt_dev_transactions(dev);
  assert_int_equal(mt_dev_meta_update(dev, 0, tile, u, &got_u), MT_OK);
  assert_int_equal(mt_dev_transactions(dev) - c0, (MT_ROWS + 30u) / 31u);
  h[MT_ROWS * MT_COLS - 3] = (int32_t)MT_HIDDEN_MAX + 1;
  c0 = mt_dev_transactions(dev);
  assert_int_equal(mt_dev_meta_write(dev, 0, tile, h, NULL), MT_ERR_DEVICE);
  assert_int_equal(mt_dev_transactions(dev), c0);
  assert_string_equal(strstr(mt_dev_errmsg(dev), ": META_WRITE"), want_err);
  assert_int_equal(mt_dev_meta_read(dev, 0, tile, got_h), MT_OK);
  assert_int_equal(mt_dev_read_cells(dev, 0, tile, 0, got_g, NULL), MT_OK);
  assert_int_equal(mt_dev_stats(dev, got_c, MT_CNT_COUNT), MT_OK);
  mt_dev_close(dev);
  assert_memory_equal(&got_w, &want_w, sizeof want_w);
  assert_memory_equal(&got_u, &want_u, sizeof want_u);
  assert_true(want_w.programmed > 0 && want_u.programmed > 0);
  assert_memory_equal(got_h, want_h, sizeof want_h);
  assert_memory_equal(got_g, want_g, sizeof want_g);
  assert_memory_equal(got_c, want_c, sizeof want_c);
}

/* Tile swapping on a framed link (docs/tile-swapping.md): queued PULSEs before a swap run
 * first, tile states move in chunks the link's frames carry, and the answers are those of
 * model:// with every tile. */
static void swap_stream(mt_dev *dev, uint16_t *g, uint64_t *counters) {
  mt_preset_t rram;
  char err[256];
  assert_int_equal(mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &rram, err, sizeof err), 0);
  assert_int_equal(mt_preset_apply(&rram, dev), MT_OK);
  assert_int_equal(mt_dev_seed(dev, 42), MT_OK);
  for (uint32_t t = 0; t < 4; t++) assert_int_equal(mt_dev_fabricate(dev, 7, t), MT_OK);
  static int16_t x[MT_ROWS], y[MT_COLS];
  for (uint32_t k = 0; k < 12; k++) {
    uint32_t t = k % 4, e[4];
    for (uint32_t i = 0; i < 4; i++) e[i] = (k * 7 + i) % MT_ROWS << 20 | (k + 3 * i) % MT_COLS << 8 | 3u;
    assert_int_equal(mt_dev_pulse(dev, t, e, 4), MT_OK); /* queued on the link */
    for (uint32_t i = 0; i < MT_ROWS; i++) x[i] = (int16_t)((i * k) % 50);
    if (mt_dev_mvm(dev, (t + 1) % 4, 1, MT_ROWS, MT_COLS, x, y) != MT_OK)
      fail_msg("MVM: %s", mt_dev_errmsg(dev));
    memcpy(g + (size_t)k * MT_COLS, y, sizeof y);
  }
  for (uint32_t t = 0; t < 4; t++)
    assert_int_equal(mt_dev_read_cells(dev, t, (mt_region){0, MT_ROWS, 0, MT_COLS}, 1,
                                       g + 12 * MT_COLS + (size_t)t * MT_ROWS * MT_COLS, NULL),
                     MT_OK);
  assert_int_equal(mt_dev_stats(dev, counters, MT_CNT_COUNT), MT_OK);
}

static void tiles_swap_over_the_link(void **state) {
  (void)state;
  const size_t n = 12 * MT_COLS + 4 * MT_ROWS * MT_COLS;
  uint16_t *want = calloc(n, sizeof *want), *got = calloc(n, sizeof *got);
  uint64_t cw[MT_CNT_COUNT], cg[MT_CNT_COUNT];
  assert_true(want && got);
  mt_dev *m = NULL;
  assert_int_equal(mt_dev_open("model://?tiles=16", &m), MT_OK);
  swap_stream(m, want, cw);
  mt_dev_close(m);
  fakedev *d = fake_new(20000, 1000); /* a model of 2 tiles, 997 response words per frame */
  mt_dev *dev = open_on_link(d);
  if (mt_dev_set_max_tiles(dev, 1, 4) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  swap_stream(dev, got, cg);
  assert_memory_equal(got, want, n * sizeof *want);
  assert_memory_equal(cg, cw, sizeof cw);
  mt_swap_stats sw;
  assert_int_equal(mt_dev_swap_stats(dev, &sw), MT_OK);
  assert_true(sw.swaps >= 12 && sw.saves >= 12);
  mt_link_stats st;
  assert_int_equal(mt_dev_link_stats(dev, &st), MT_OK);
  assert_int_equal(st.commands, st.commands_issued); /* swapping's commands are counted too */
  mt_dev_close(dev);
  free(want);
  free(got);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(batches_one_frame_per_call),
      cmocka_unit_test(small_buffers_split_and_continue),
      cmocka_unit_test(faults_lose_nothing),
      cmocka_unit_test(retries_exhausted),
      cmocka_unit_test(unplug),
      cmocka_unit_test(command_too_large),
      cmocka_unit_test(fault_spec_errors),
      cmocka_unit_test(region_reads_in_row_bands),
      cmocka_unit_test(region_reads_in_pieces_of_rows),
      cmocka_unit_test(commands_cut_to_the_devices_max_payload),
      cmocka_unit_test(meta_writes_in_row_bands),
      cmocka_unit_test(region_outside_the_tile_is_the_devices_error),
      cmocka_unit_test(tiles_swap_over_the_link),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
