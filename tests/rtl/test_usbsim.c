/* Frames through the FT601 pins (sim/mt_usbsim.h: rtl/mt_usb_core under a pin-level FT601
 * model, small geometry) against the framing contract of docs/protocol.md, "Link framing",
 * and against mt_kernel() of the C model: SYNC/SYNC_ACK, batches whose RSP equals the model's
 * response, duplicates answered from the kept RSP without running twice (counters), frames
 * with a bad CRC, a bad header or a wrong seq dropped, garbage and a false MAGIC skipped, a
 * stalled partial frame dropped, FT601 back-pressure, and no 245 rule broken throughout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "mt_model.h"
#include "mt_preset.h"
#include "mt_protocol.h"
#include "mt_usbsim.h"

/* Sizes the harness is built with (Makefile USBSIM_PARAMS). */
#define CMD_MAX (131072u - 4u)
#define RSP_WORDS 131072u
#define DROP_CYCLES 65536u
#define WAIT_FT 400000u     /* FT601 cycles a test waits for a frame that must come */
#define QUIET_FT 20000u     /* FT601 cycles of silence that show nothing was sent */
#define PAY_MAX 40000u

typedef struct {
  mt_usbsim *s;
  uint8_t in[4 * (PAY_MAX + 8)];
  size_t have;
  /* the model, run on the commands the device must have run */
  mt_regs_t regs;
  mt_tile_t *tiles;
  uint32_t n_tiles;
  uint32_t *mrsp;
} link_t;

typedef struct {
  uint32_t kind, seq, len;
  uint32_t *pay;
} frame_t;

static link_t *g;

static void put_words(const uint32_t *w, size_t n) {
  uint8_t *b = malloc(4 * n + 1);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < 4; k++) b[4 * i + k] = (uint8_t)(w[i] >> (8 * k));
  char err[256];
  assert_int_equal(mt_usbsim_write(g->s, b, 4 * n, err, sizeof err), 0);
  free(b);
}

/* The frame's words (header, payload, CRC) in w; returns the count. */
static size_t build(uint32_t *w, uint32_t kind, uint32_t seq, const uint32_t *pay, uint32_t n) {
  w[0] = MT_FRAME_MAGIC;
  w[1] = kind << 24 | (seq & 0xFFFFu);
  w[2] = n;
  if (n) memcpy(w + 3, pay, 4u * n);
  uint8_t *b = malloc(4u * (n + 3));
  assert_non_null(b);
  for (uint32_t i = 0; i < n + 3; i++)
    for (int k = 0; k < 4; k++) b[4 * i + k] = (uint8_t)(w[i] >> (8 * k));
  w[n + 3] = (uint32_t)crc32(0L, b, 4u * (n + 3));
  free(b);
  return n + 4;
}

static void send(uint32_t kind, uint32_t seq, const uint32_t *pay, uint32_t n) {
  uint32_t *w = malloc(4u * (n + 4));
  assert_non_null(w);
  put_words(w, build(w, kind, seq, pay, n));
  free(w);
}

static uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Reads until a whole frame arrived (1) or max_ft FT601 cycles passed without one (0). The
 * device only ever sends well-formed frames: anything else fails the test. */
static int recv(frame_t *f, uint64_t max_ft) {
  char err[256];
  const uint64_t end = mt_usbsim_ft_cycles(g->s) + max_ft;
  for (;;) {
    if (g->have >= 12) {
      assert_int_equal(le32(g->in), MT_FRAME_MAGIC);
      uint32_t len = le32(g->in + 8);
      assert_true(len <= PAY_MAX);
      size_t total = 4u * (len + 4);
      if (g->have >= total) {
        uint32_t w1 = le32(g->in + 4);
        assert_int_equal((w1 >> 16) & 0xFFu, 0);
        assert_int_equal(le32(g->in + total - 4), (uint32_t)crc32(0L, g->in, 4u * (len + 3)));
        f->kind = w1 >> 24;
        f->seq = w1 & 0xFFFFu;
        f->len = len;
        f->pay = malloc(4u * (len + 1));
        assert_non_null(f->pay);
        for (uint32_t i = 0; i < len; i++) f->pay[i] = le32(g->in + 12 + 4 * i);
        memmove(g->in, g->in + total, g->have - total);
        g->have -= total;
        return 1;
      }
    }
    uint64_t now = mt_usbsim_ft_cycles(g->s);
    if (now >= end) return 0;
    long n = mt_usbsim_read(g->s, g->in + g->have, sizeof g->in - g->have, end - now, err,
                            sizeof err);
    if (n < 0) fail_msg("%s", err);
    g->have += (size_t)n;
  }
}

static void expect_nothing(void) {
  frame_t f;
  if (recv(&f, QUIET_FT)) fail_msg("unexpected frame kind %u seq %u len %u", f.kind, f.seq, f.len);
  assert_int_equal(g->have, 0);
}

static void sync_to(uint32_t seq) {
  frame_t f;
  send(MT_FRAME_KIND_SYNC, seq, NULL, 0);
  assert_true(recv(&f, WAIT_FT));
  assert_int_equal(f.kind, MT_FRAME_KIND_SYNC_ACK);
  assert_int_equal(f.seq, seq);
  assert_int_equal(f.len, 2);
  assert_int_equal(f.pay[0], CMD_MAX);
  assert_int_equal(f.pay[1], RSP_WORDS);
  free(f.pay);
}

/* Runs cmd on the model and checks that the RSP frame f carries the same transfer. */
static void expect_model(const frame_t *f, uint32_t seq, const uint32_t *cmd, uint32_t n) {
  uint32_t consumed = 0;
  uint32_t words = mt_kernel(cmd, n, g->mrsp, RSP_WORDS - 1, &g->regs, g->tiles, g->n_tiles,
                             &consumed);
  assert_int_equal(f->kind, MT_FRAME_KIND_RSP);
  assert_int_equal(f->seq, seq);
  assert_int_equal(f->len, words + 1);
  assert_int_equal(f->pay[0], consumed);
  for (uint32_t i = 0; i < words; i++)
    if (f->pay[1 + i] != g->mrsp[i])
      fail_msg("response word %u: device %08x, model %08x", i, f->pay[1 + i], g->mrsp[i]);
}

/* One CMD frame answered by the RSP the model gives. */
static void transact(uint32_t seq, const uint32_t *cmd, uint32_t n) {
  frame_t f;
  send(MT_FRAME_KIND_CMD, seq, cmd, n);
  assert_true(recv(&f, WAIT_FT));
  expect_model(&f, seq, cmd, n);
  free(f.pay);
}

static uint32_t hdr(uint32_t op, uint32_t tag, uint32_t len, uint32_t *c) {
  c[0] = op << 24 | (tag & 0xFFu) << 16;
  c[1] = len;
  return 2;
}

static uint64_t g_rng = 0x1234567u;
static uint32_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint32_t)g_rng;
}

/* INFO, ECHO of n random words, NOP: a batch of three commands. */
static uint32_t batch(uint32_t *c, uint32_t echo_n) {
  uint32_t k = hdr(MT_OP_INFO, 1, 0, c);
  k += hdr(MT_OP_ECHO, 2, echo_n, c + k);
  for (uint32_t i = 0; i < echo_n; i++) c[k++] = rnd();
  k += hdr(MT_OP_NOP, 3, 0, c + k);
  return k;
}

static int setup(void **state) {
  (void)state;
  char err[256];
  g = calloc(1, sizeof *g);
  if (!g) return -1;
  g->s = mt_usbsim_open(NULL, err, sizeof err);
  if (!g->s) {
    fprintf(stderr, "mt_usbsim_open: %s\n", err);
    return -1;
  }
  uint32_t rows, cols;
  mt_usbsim_geometry(g->s, &g->n_tiles, &rows, &cols);
  if (rows != MT_ROWS || cols != MT_COLS) return -1;
  g->tiles = calloc(g->n_tiles, sizeof *g->tiles);
  g->mrsp = malloc(4u * RSP_WORDS);
  if (!g->tiles || !g->mrsp) return -1;
  mt_device_reset(&g->regs, g->tiles, g->n_tiles);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  mt_usbsim_close(g->s);
  free(g->tiles);
  free(g->mrsp);
  free(g);
  return 0;
}

static void test_sync(void **state) {
  (void)state;
  sync_to(0x1234);
  sync_to(0xFFFF);
  sync_to(7);
}

static void test_batches(void **state) {
  (void)state;
  static uint32_t c[PAY_MAX];
  sync_to(0xFFFE); /* the next seqs wrap through 0xFFFF to 0 */
  for (uint32_t i = 0; i < 4; i++) {
    uint32_t n = batch(c, i == 3 ? 20000u : 1u + rnd() % 64);
    uint64_t ft0 = mt_usbsim_ft_cycles(g->s), core0 = mt_usbsim_core_cycles(g->s);
    transact((0xFFFFu + i) & 0xFFFFu, c, n);
    if (i == 3) /* a cycle count, not a timing: what a big frame costs on the link */
      printf("# usbsim: CMD of %u words + RSP: %llu FT601 cycles, %llu core cycles\n", n + 4,
             (unsigned long long)(mt_usbsim_ft_cycles(g->s) - ft0),
             (unsigned long long)(mt_usbsim_core_cycles(g->s) - core0));
  }
  /* An empty CMD is mt_kernel's empty call: consumed 0, no response words. */
  transact(3, c, 0);
  /* A truncated last command: consumed stops before it, as mt_kernel does. */
  uint32_t n = batch(c, 5);
  transact(4, c, n - 1);
}

/* Configures tile 0 (the "ideal" preset), fabricates it; returns the words in c. */
static uint32_t setup_cmds(uint32_t *c) {
  mt_preset_t *p = malloc(sizeof *p);
  char err[256];
  assert_non_null(p);
  if (mt_preset_load(MT_SOURCE_DIR "/presets/ideal.json", p, err, sizeof err) != 0)
    fail_msg("%s", err);
  uint32_t k = hdr(MT_OP_CONFIGURE, 1, MT_CFG_COUNT, c);
  memcpy(c + k, p->cfg, sizeof p->cfg);
  k += MT_CFG_COUNT;
  k += hdr(MT_OP_SET_LEVELS, 2, 1 + p->levels * MT_LEVEL_ENTRY_WORDS, c + k);
  c[k++] = p->levels;
  memcpy(c + k, p->level_table, 4u * p->levels * MT_LEVEL_ENTRY_WORDS);
  k += p->levels * MT_LEVEL_ENTRY_WORDS;
  k += hdr(MT_OP_FABRICATE, 3, 3, c + k);
  c[k++] = 99;
  c[k++] = 0;
  c[k++] = 0;
  free(p);
  return k;
}

static void test_duplicate_runs_once(void **state) {
  (void)state;
  static uint32_t c[4096];
  frame_t f1, f2;
  sync_to(100);
  uint32_t n = setup_cmds(c);
  transact(101, c, n);
  /* PULSE: 5 SET pulses on (0,0,G+), and a PROGRAM of one weight: counted once each. */
  uint32_t k = hdr(MT_OP_PULSE, 4, 2, c);
  c[k++] = 0;
  c[k++] = 0u << 20 | 0u << 8 | 0u << 7 | 5u;
  k += hdr(MT_OP_PROGRAM, 5, 3, c + k);
  c[k++] = 0;
  c[k++] = 0;
  c[k++] = 1u << 20 | 2u << 8 | 1u;
  send(MT_FRAME_KIND_CMD, 102, c, k);
  assert_true(recv(&f1, WAIT_FT));
  expect_model(&f1, 102, c, k);
  /* both ran: PULSE OK with no payload, PROGRAM OK with one weight programmed */
  assert_int_equal(f1.pay[0], k);
  assert_int_equal(f1.pay[1] & 0xFFFFu, MT_ST_OK);
  assert_int_equal(f1.pay[3] & 0xFFFFu, MT_ST_OK);
  assert_int_equal(f1.pay[5], 1u);
  /* The same frame again (the host missed the RSP): the kept RSP, nothing runs. */
  send(MT_FRAME_KIND_CMD, 102, c, k);
  assert_true(recv(&f2, WAIT_FT));
  assert_int_equal(f2.len, f1.len);
  assert_memory_equal(f2.pay, f1.pay, 4u * f1.len);
  free(f1.pay);
  free(f2.pay);
  /* An older seq gets nothing. */
  send(MT_FRAME_KIND_CMD, 101, c, k);
  expect_nothing();
  /* The counters say each command ran once (the model ran it once too). */
  k = hdr(MT_OP_STATS_GET, 6, 0, c);
  send(MT_FRAME_KIND_CMD, 103, c, k);
  assert_true(recv(&f1, WAIT_FT));
  expect_model(&f1, 103, c, k);
  assert_int_equal(f1.pay[1] & 0xFFFFu, MT_ST_OK);
  uint32_t set_pulses = f1.pay[3 + 2 * MT_CNT_SET_PULSES];
  uint32_t programmed = f1.pay[3 + 2 * MT_CNT_CELLS_PROGRAMMED];
  assert_true(set_pulses >= 5u);
  assert_int_equal(programmed, 1u);
  free(f1.pay);
  /* After SYNC the kept RSP is forgotten: a CMD with seq == the SYNC's gets nothing. */
  sync_to(200);
  send(MT_FRAME_KIND_CMD, 200, c, k);
  expect_nothing();
  transact(201, c, k);
}

static void test_bad_frames_dropped(void **state) {
  (void)state;
  static uint32_t c[256], w[300];
  sync_to(300);
  uint32_t n = batch(c, 8);
  /* bad CRC */
  size_t m = build(w, MT_FRAME_KIND_CMD, 301, c, n);
  w[m - 1] ^= 0x10u;
  put_words(w, m);
  expect_nothing();
  /* a payload bit flipped */
  m = build(w, MT_FRAME_KIND_CMD, 301, c, n);
  w[5] ^= 0x80000000u;
  put_words(w, m);
  expect_nothing();
  /* header: bits 23:16 set, a kind the device does not take, len over the buffer, SYNC with
   * a payload */
  m = build(w, MT_FRAME_KIND_CMD, 301, c, n);
  w[1] |= 1u << 20;
  put_words(w, m);
  send(MT_FRAME_KIND_RSP, 301, c, n);
  send(MT_FRAME_KIND_SYNC_ACK, 301, c, 2);
  uint32_t big[4] = {MT_FRAME_MAGIC, MT_FRAME_KIND_CMD << 24 | 301u, CMD_MAX + 1u, 0};
  put_words(big, 4);
  send(MT_FRAME_KIND_SYNC, 302, c, 1);
  expect_nothing();
  /* wrong seq (ahead) */
  send(MT_FRAME_KIND_CMD, 303, c, n);
  expect_nothing();
  /* garbage between frames, then the good frame */
  for (int i = 0; i < 37; i++) {
    w[i] = rnd();
    if (w[i] == MT_FRAME_MAGIC) w[i] = 0;
  }
  put_words(w, 37);
  transact(301, c, n);
  /* everything above was dropped: the next seq is still 302 */
  transact(302, c, n);
  /* Two stray bytes after a frame reach the FPGA as a partial word (BE = 0011): they do not
   * disturb the next frame. */
  const uint8_t stray[2] = {0x4D, 0x54};
  char err[256];
  send(MT_FRAME_KIND_CMD, 303, c, n);
  assert_int_equal(mt_usbsim_write(g->s, stray, sizeof stray, err, sizeof err), 0);
  frame_t f;
  assert_true(recv(&f, WAIT_FT));
  expect_model(&f, 303, c, n);
  free(f.pay);
  expect_nothing();
  transact(304, c, n);
}

/* A false MAGIC with a plausible header just before a real frame swallows the real frame's
 * first words; its CRC fails, and scanning resumes at the word after the false MAGIC. */
static void test_false_magic_rescan(void **state) {
  (void)state;
  static uint32_t c[256], w[300];
  sync_to(400);
  uint32_t n = batch(c, 12);
  uint32_t fake[3] = {MT_FRAME_MAGIC, MT_FRAME_KIND_CMD << 24 | 401u, 5};
  put_words(fake, 3);
  transact(401, c, n);
  /* The same with a len that waits for more words than come: dropped after DROP_CYCLES. */
  fake[1] = MT_FRAME_KIND_CMD << 24 | 402u;
  fake[2] = 1000;
  put_words(fake, 3);
  size_t m = build(w, MT_FRAME_KIND_CMD, 402, c, n);
  put_words(w, m);
  frame_t f;
  assert_true(recv(&f, WAIT_FT + 2u * DROP_CYCLES));
  expect_model(&f, 402, c, n);
  free(f.pay);
}

static void test_backpressure(void **state) {
  (void)state;
  static uint32_t c[PAY_MAX];
  mt_usbsim_set_stalls(g->s, 30, 77);
  sync_to(500);
  for (uint32_t i = 0; i < 6; i++) {
    uint32_t n = batch(c, i == 5 ? 6000u : 1u + rnd() % 300);
    transact(501 + i, c, n);
  }
  /* A duplicate under stalls too. */
  uint32_t n = batch(c, 40);
  frame_t f1, f2;
  send(MT_FRAME_KIND_CMD, 507, c, n);
  assert_true(recv(&f1, WAIT_FT));
  expect_model(&f1, 507, c, n);
  send(MT_FRAME_KIND_CMD, 507, c, n);
  assert_true(recv(&f2, WAIT_FT));
  assert_memory_equal(f2.pay, f1.pay, 4u * f1.len);
  free(f1.pay);
  free(f2.pay);
  mt_usbsim_set_stalls(g->s, 0, 0);
}

/* Several frames written at once are answered in order. */
static void test_pipelined(void **state) {
  (void)state;
  static uint32_t c[4][128];
  uint32_t n[4];
  sync_to(600);
  for (int i = 0; i < 4; i++) {
    n[i] = batch(c[i], 1 + rnd() % 100);
    send(MT_FRAME_KIND_CMD, 601u + (uint32_t)i, c[i], n[i]);
  }
  for (int i = 0; i < 4; i++) {
    frame_t f;
    assert_true(recv(&f, WAIT_FT));
    expect_model(&f, 601u + (uint32_t)i, c[i], n[i]);
    free(f.pay);
  }
  printf("# usbsim: %llu FT601 cycles, %llu core cycles since reset\n",
         (unsigned long long)mt_usbsim_ft_cycles(g->s),
         (unsigned long long)mt_usbsim_core_cycles(g->s));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync),
      cmocka_unit_test(test_batches),
      cmocka_unit_test(test_duplicate_runs_once),
      cmocka_unit_test(test_bad_frames_dropped),
      cmocka_unit_test(test_false_magic_rescan),
      cmocka_unit_test(test_backpressure),
      cmocka_unit_test(test_pipelined),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
