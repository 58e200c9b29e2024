/* Protocol-level helpers for the hls tests (on top of mt_testdev.h): raw command
 * buffers, error assertions with call-site line numbers, response-stream framing
 * checks, full state snapshots through STATE_READ/STATE_WRITE, and a noisy,
 * configured, fabricated, programmed reference device. Include after cmocka.h. */
#ifndef MT_TESTPROTO_H
#define MT_TESTPROTO_H

#include <math.h>
#include <stdio.h>

#include "mt_testdev.h"

/* GLOBAL section layout (docs/protocol.md, "GLOBAL section"), written out by hand from the
 * field sizes so that it checks the generated MT_G_* offsets; only the CONFIGURE field count
 * is taken from the generated header (it grows with docs/protocol.json). */
#define TP_G_VERSION 0u
#define TP_G_CONFIGURED 1u
#define TP_G_CFG 2u
#define TP_G_LEVELS (TP_G_CFG + MT_CFG_COUNT)
#define TP_G_LEVEL_TABLE (TP_G_LEVELS + 1u)
#define TP_G_META (TP_G_LEVEL_TABLE + 256u * 3u)
#define TP_G_SEED (TP_G_META + 128u)
#define TP_G_LANES (TP_G_SEED + 2u)
#define TP_G_COUNTERS (TP_G_LANES + 16u * 4u)
#define TP_G_FABRICATED (TP_G_COUNTERS + 32u)
#define TP_G_WORDS (TP_G_FABRICATED + 2u)
#define TP_TILE_WORDS (MT_ROWS * MT_COLS * MT_WEIGHT_WORDS)
/* Largest STATE_WRITE TILE chunk: whole records only (1489 records). */
#define TP_TILE_WRITE_CHUNK (MT_STATE_CHUNK / MT_WEIGHT_WORDS * MT_WEIGHT_WORDS)
#define TP_TAG 0x5Au /* the tag tdev_run sends */

/* ---- deterministic test randomness (splitmix64) ---- */
typedef struct {
  uint64_t x;
} tp_rng_t;

static inline uint64_t tp_next(tp_rng_t *r) {
  uint64_t z = (r->x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static inline uint32_t tp_u32(tp_rng_t *r) { return (uint32_t)(tp_next(r) >> 32); }
/* Uniform in [0, n). */
static inline uint32_t tp_below(tp_rng_t *r, uint32_t n) {
  return (uint32_t)(((tp_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* ---- command buffers ---- */
typedef struct {
  uint32_t *w;
  uint32_t n, cap;
} tp_buf_t;

static inline void tp_buf_init(tp_buf_t *b, uint32_t cap) {
  b->w = calloc(cap ? cap : 1, sizeof *b->w);
  b->n = 0;
  b->cap = cap;
}
static inline void tp_buf_free(tp_buf_t *b) { free(b->w); }

/* Appends a command; returns the word index of its header. */
static inline uint32_t tp_put(tp_buf_t *b, uint32_t op, uint32_t tag, const uint32_t *p,
                              uint32_t len) {
  assert_true(b->n + 2 + len <= b->cap);
  uint32_t at = b->n;
  b->w[b->n++] = op << 24 | (tag & 0xFFu) << 16;
  b->w[b->n++] = len;
  if (len) memcpy(b->w + b->n, p, len * sizeof *p);
  b->n += len;
  return at;
}

static inline uint32_t tp_kernel(tdev_t *d, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                                 uint32_t rsp_cap, uint32_t *consumed) {
  *consumed = 0xDEADBEEFu;
  return mt_kernel(cmd, n_cmd, rsp, rsp_cap, &d->regs, d->tiles, d->n_tiles, consumed);
}

static inline uint32_t tp_st(uint32_t hdr) { return hdr & 0xFFFFu; }
static inline uint32_t tp_op(uint32_t hdr) { return hdr >> 24; }
static inline uint32_t tp_tag(uint32_t hdr) { return (hdr >> 16) & 0xFFu; }

/* ---- single-command assertions ---- */
#define TP_EQ(a, b, file, line) \
  _assert_int_equal((LargestIntegralType)(a), (LargestIntegralType)(b), file, line)

/* Runs one command and asserts its status and (for an error) both detail words. */
static inline void tp_expect_at(const char *file, int line, tdev_t *d, uint32_t op,
                                const uint32_t *p, uint32_t len, uint32_t st, uint32_t d0,
                                uint32_t d1) {
  uint32_t got = tdev_run(d, op, p, len);
  if (got != st || (st != MT_ST_OK && (d->out_len != 2 || d->out[0] != d0 || d->out[1] != d1)))
    print_error("op %u len %u: status %u detail (%u, %u) len %u; want status %u detail (%u, %u)\n",
                op, len, got, d->out_len >= 1 ? d->out[0] : 0, d->out_len >= 2 ? d->out[1] : 0,
                d->out_len, st, d0, d1);
  TP_EQ(got, st, file, line);
  TP_EQ(tp_op(d->rsp[0]), op, file, line);
  TP_EQ(tp_tag(d->rsp[0]), TP_TAG, file, line);
  if (st != MT_ST_OK) {
    TP_EQ(d->out_len, 2, file, line);
    TP_EQ(d->out[0], d0, file, line);
    TP_EQ(d->out[1], d1, file, line);
  }
}
#define tp_expect(d, op, p, len, st, d0, d1) \
  tp_expect_at(__FILE__, __LINE__, d, op, p, len, st, d0, d1)
#define tp_expect_ok(d, op, p, len) tp_expect_at(__FILE__, __LINE__, d, op, p, len, MT_ST_OK, 0, 0)

/* ---- response-stream framing ---- */

/* Payload length an OK response to the command at c must have, or -1 if the
 * command cannot be OK (unknown opcode). */
static inline int64_t tp_ok_len(const uint32_t *c) {
  uint32_t op = c[0] >> 24, len = c[1];
  const uint32_t *p = c + 2;
  switch (op) {
    case MT_OP_NOP: case MT_OP_CONFIGURE: case MT_OP_SEED: case MT_OP_SET_LEVELS:
    case MT_OP_META_TABLE: case MT_OP_FABRICATE: case MT_OP_PULSE: case MT_OP_STATS_RESET:
    case MT_OP_STATE_WRITE:
      return 0;
    case MT_OP_INFO: return MT_INFO_COUNT;
    case MT_OP_ECHO: return len;
    case MT_OP_PROGRAM: case MT_OP_META_WRITE: case MT_OP_META_UPDATE: return 3;
    case MT_OP_READ_CELLS: case MT_OP_READ_LEVELS: case MT_OP_META_READ:
      return (int64_t)p[2] * p[4];
    case MT_OP_MVM: return (int64_t)p[1] * ((p[3] + 1) / 2);
    case MT_OP_STATS_GET: return 2 * MT_CNT_COUNT;
    case MT_OP_STATE_READ: return p[3];
    case MT_OP_READ_LIST: return (int64_t)len - MT_PL_READ_LIST_WORDS;
    default: return -1;
  }
}

/* Walks the response buffer of one mt_kernel call against its command buffer:
 * one response per command, in order, opcode and tag echoed, statuses known,
 * lengths consistent, error payloads of 2 words, TRUNCATED/OVERFLOW last, and
 * consumed where the rules say. Returns the number of responses. */
static inline uint32_t tp_check_stream_at(const char *file, int line, const uint32_t *cmd,
                                          uint32_t n_cmd, const uint32_t *rsp, uint32_t n_rsp,
                                          uint32_t rsp_cap, uint32_t consumed) {
  uint32_t pos = 0, w = 0, count = 0, stopped = 0;
  TP_EQ(n_rsp <= rsp_cap, 1, file, line);
  TP_EQ(consumed <= n_cmd, 1, file, line);
  while (w < n_rsp) {
    TP_EQ(stopped, 0, file, line);  /* nothing after TRUNCATED / OVERFLOW */
    TP_EQ(w + 2 <= n_rsp, 1, file, line);
    TP_EQ(pos < n_cmd, 1, file, line);
    uint32_t hdr = rsp[w], len = rsp[w + 1], st = tp_st(hdr);
    TP_EQ(st < MT_ST_COUNT, 1, file, line);
    TP_EQ(len <= n_rsp - w - 2, 1, file, line);
    TP_EQ(tp_op(hdr), cmd[pos] >> 24, file, line);
    TP_EQ(tp_tag(hdr), (cmd[pos] >> 16) & 0xFFu, file, line);
    uint32_t left = n_cmd - pos;
    int cut = left < 2 || cmd[pos + 1] > left - 2;
    TP_EQ(st == MT_ST_ERR_TRUNCATED, cut, file, line);
    if (st != MT_ST_OK) TP_EQ(len, 2, file, line);
    if (cut) {
      TP_EQ(rsp[w + 2], left < 2 ? 0 : cmd[pos + 1], file, line);
      TP_EQ(rsp[w + 3], left < 2 ? 0 : left - 2, file, line);
      TP_EQ(consumed, n_cmd, file, line);
      stopped = 1;
    } else if (st == MT_ST_ERR_OVERFLOW) {
      TP_EQ(consumed, pos, file, line);
      TP_EQ(rsp[w + 2] > rsp[w + 3], 1, file, line);
      stopped = 1;
    } else {
      uint32_t op = cmd[pos] >> 24;
      if (cmd[pos + 1] > MT_MAX_PAYLOAD) {
        TP_EQ(st, MT_ST_ERR_LENGTH, file, line);
        TP_EQ(rsp[w + 2], cmd[pos + 1], file, line);
        TP_EQ(rsp[w + 3], MT_MAX_PAYLOAD, file, line);
      } else if (op >= MT_OP_COUNT) {
        TP_EQ(st, MT_ST_ERR_OPCODE, file, line);
        TP_EQ(rsp[w + 2], op, file, line);
        TP_EQ(rsp[w + 3], 0, file, line);
      }
      if (st == MT_ST_OK) TP_EQ(len, tp_ok_len(cmd + pos), file, line);
      pos += 2 + cmd[pos + 1];
    }
    w += 2 + len;
    count++;
  }
  if (!stopped) {
    TP_EQ(consumed, pos, file, line);
    /* stopping early without a response means there was no room for one */
    if (pos < n_cmd) TP_EQ(rsp_cap - n_rsp < MT_HDR_WORDS + 2, 1, file, line);
  }
  return count;
}
#define tp_check_stream(cmd, n_cmd, rsp, n_rsp, cap, consumed) \
  tp_check_stream_at(__FILE__, __LINE__, cmd, n_cmd, rsp, n_rsp, cap, consumed)

/* ---- state images ---- */

static inline size_t tp_image_words(uint32_t n_tiles) {
  return TP_G_WORDS + (size_t)n_tiles * TP_TILE_WORDS;
}

/* The full image (GLOBAL, then every tile) read through STATE_READ; malloc'd. */
static inline uint32_t *tp_snapshot(tdev_t *d) {
  uint32_t *img = malloc(tp_image_words(d->n_tiles) * sizeof *img);
  uint32_t p[4] = {MT_SECTION_GLOBAL, 0, 0, TP_G_WORDS};
  assert_int_equal(tdev_run(d, MT_OP_STATE_READ, p, 4), MT_ST_OK);
  assert_int_equal(d->out_len, TP_G_WORDS);
  memcpy(img, d->out, TP_G_WORDS * sizeof *img);
  for (uint32_t t = 0; t < d->n_tiles; t++) {
    for (uint32_t off = 0; off < TP_TILE_WORDS; off += MT_STATE_CHUNK) {
      uint32_t n = TP_TILE_WORDS - off < MT_STATE_CHUNK ? TP_TILE_WORDS - off : MT_STATE_CHUNK;
      uint32_t q[4] = {MT_SECTION_TILE, t, off, n};
      assert_int_equal(tdev_run(d, MT_OP_STATE_READ, q, 4), MT_ST_OK);
      assert_int_equal(d->out_len, n);
      memcpy(img + TP_G_WORDS + (size_t)t * TP_TILE_WORDS + off, d->out, n * sizeof *img);
    }
  }
  return img;
}

/* Index of the first differing word of two images, or -1. */
static inline long tp_image_diff(const uint32_t *a, const uint32_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return (long)i;
  return -1;
}

#define tp_assert_image_equal(a, b, n_tiles)                                                 \
  do {                                                                                       \
    long tp_at_ = tp_image_diff(a, b, tp_image_words(n_tiles));                              \
    if (tp_at_ >= 0)                                                                         \
      print_error("image word %ld differs (%s %ld): 0x%08x vs 0x%08x\n", tp_at_,             \
                  tp_at_ < (long)TP_G_WORDS ? "GLOBAL" : "TILE word",                        \
                  tp_at_ < (long)TP_G_WORDS ? tp_at_ : (tp_at_ - (long)TP_G_WORDS),          \
                  (a)[tp_at_], (b)[tp_at_]);                                                 \
    assert_int_equal(tp_at_, -1);                                                            \
  } while (0)

/* Writes a full image into d: GLOBAL in one command, tiles in whole-record chunks. */
static inline void tp_restore(tdev_t *d, const uint32_t *img) {
  uint32_t *p = malloc((3 + TP_TILE_WRITE_CHUNK) * sizeof *p);
  p[0] = MT_SECTION_GLOBAL;
  p[1] = 0;
  p[2] = 0;
  memcpy(p + 3, img, TP_G_WORDS * sizeof *p);
  assert_int_equal(tdev_run(d, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS), MT_ST_OK);
  for (uint32_t t = 0; t < d->n_tiles; t++) {
    for (uint32_t off = 0; off < TP_TILE_WORDS; off += TP_TILE_WRITE_CHUNK) {
      uint32_t n = TP_TILE_WORDS - off < TP_TILE_WRITE_CHUNK ? TP_TILE_WORDS - off
                                                             : TP_TILE_WRITE_CHUNK;
      p[0] = MT_SECTION_TILE;
      p[1] = t;
      p[2] = off;
      memcpy(p + 3, img + TP_G_WORDS + (size_t)t * TP_TILE_WORDS + off, n * sizeof *p);
      assert_int_equal(tdev_run(d, MT_OP_STATE_WRITE, p, 3 + n), MT_ST_OK);
    }
  }
  free(p);
}

/* Raw copy of the model's memory, for byte-exact "nothing changed" checks. */
typedef struct {
  mt_regs_t regs;
  mt_tile_t *tiles;
  uint32_t n_tiles;
} tp_raw_t;

static inline tp_raw_t *tp_raw_save(const tdev_t *d) {
  tp_raw_t *r = malloc(sizeof *r);
  r->regs = d->regs;
  r->n_tiles = d->n_tiles;
  r->tiles = malloc((d->n_tiles ? d->n_tiles : 1) * sizeof *r->tiles);
  memcpy(r->tiles, d->tiles, d->n_tiles * sizeof *r->tiles);
  return r;
}
static inline void tp_raw_load(tdev_t *d, const tp_raw_t *r) {
  d->regs = r->regs;
  memcpy(d->tiles, r->tiles, d->n_tiles * sizeof *d->tiles);
}
static inline int tp_raw_equal(const tdev_t *d, const tp_raw_t *r) {
  return memcmp(&d->regs, &r->regs, sizeof r->regs) == 0 &&
         memcmp(d->tiles, r->tiles, d->n_tiles * sizeof *d->tiles) == 0;
}
static inline void tp_raw_free(tp_raw_t *r) {
  free(r->tiles);
  free(r);
}

/* ---- reference devices ---- */

/* f_meta table 65535 * (1 - tanh^2(m * k / 16)), packed for META_TABLE. */
static inline void tp_meta_table_tanh(uint32_t words[MT_META_TABLE_SIZE / 2], double m,
                                      uint16_t f[MT_META_TABLE_SIZE]) {
  for (uint32_t k = 0; k < MT_META_TABLE_SIZE; k++) {
    double t = tanh(m * k / 16.0);
    f[k] = (uint16_t)floor(65535.0 * (1.0 - t * t) + 0.5);
  }
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE / 2; i++)
    words[i] = f[2 * i] | (uint32_t)f[2 * i + 1] << 16;
}

/* A device with every kind of noise and variation, non-zero costs, per-cell read noise. */
static inline void tp_cfg_noisy(uint32_t *cfg) {
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_G_MIN] = 2000;
  cfg[MT_CFG_G_MAX] = 60000;
  cfg[MT_CFG_STEP_SET] = 900;
  cfg[MT_CFG_STEP_RST] = 1100;
  cfg[MT_CFG_A_SET] = 1500;
  cfg[MT_CFG_A_RST] = 1800;
  cfg[MT_CFG_D2D_GMIN] = 300;
  cfg[MT_CFG_D2D_GMAX] = 800;
  cfg[MT_CFG_D2D_STEP] = 4000;
  cfg[MT_CFG_D2D_A] = 4000;
  cfg[MT_CFG_P_STUCK_LOW] = 1u << 24;
  cfg[MT_CFG_P_STUCK_HIGH] = 1u << 24;
  cfg[MT_CFG_C2C_MUL] = 5000;
  cfg[MT_CFG_C2C_ADD] = 40;
  cfg[MT_CFG_READ_SIGMA] = 120;
  cfg[MT_CFG_READ_MODE] = 1;
  cfg[MT_CFG_DAC_BITS] = 8;
  cfg[MT_CFG_ADC_BITS] = 12;
  cfg[MT_CFG_ADC_MUL] = 3;
  cfg[MT_CFG_ADC_SHIFT] = 14;
  cfg[MT_CFG_WV_TOL] = 400;
  cfg[MT_CFG_WV_MAX_ITER] = 40;
  /* costs large enough that energy and latency pass 2^32 (both counter words matter) */
  for (uint32_t i = MT_CFG_E_SET; i <= MT_CFG_T_META; i++) cfg[i] = 1000003u * (1 + i - MT_CFG_E_SET);
  cfg[MT_CFG_META_IN_SHIFT] = 6;
  cfg[MT_CFG_META_IDX_SHIFT] = 18;
  cfg[MT_CFG_META_PROG_MODE] = 0;
}

#define TP_NOISY_LEVELS 8u

/* Some traffic on a fabricated tile: write-verify and open-loop programs, pulses,
 * hidden-weight writes and updates, noisy reads and MVMs. */
static inline void tp_workload(tdev_t *d, uint32_t tile, tp_rng_t *r) {
  uint32_t p[2 + 160];
  p[0] = tile;
  for (uint32_t pass = 0; pass < 2; pass++) {
    p[1] = pass; /* write-verify, then open loop */
    for (uint32_t k = 0; k < 80; k++)
      p[2 + k] = tdev_entry(tp_below(r, MT_ROWS), tp_below(r, MT_COLS), tp_below(r, TP_NOISY_LEVELS));
    assert_int_equal(tdev_run(d, MT_OP_PROGRAM, p, 82), MT_ST_OK);
  }
  for (uint32_t k = 0; k < 60; k++)
    p[1 + k] = tdev_pulse_entry(tp_below(r, MT_ROWS), tp_below(r, MT_COLS), tp_below(r, 2),
                                (int32_t)tp_below(r, 41) - 20);
  assert_int_equal(tdev_run(d, MT_OP_PULSE, p, 61), MT_ST_OK);
  uint32_t mw[5 + 8 * 16] = {tile, 40, 8, 3, 16};
  for (uint32_t k = 0; k < 8 * 16; k++) mw[5 + k] = (uint32_t)((int32_t)tp_below(r, 9 << 16) - (int32_t)(9 << 15));
  assert_int_equal(tdev_run(d, MT_OP_META_WRITE, mw, 5 + 128), MT_ST_OK);
  uint32_t mu[5 + 64] = {tile, 40, 8, 3, 16};
  for (uint32_t k = 0; k < 64; k++) mu[5 + k] = tp_u32(r) & 0x7FFF7FFFu;
  for (uint32_t k = 0; k < 64; k += 3) mu[5 + k] ^= 0x80008000u; /* some negative */
  assert_int_equal(tdev_run(d, MT_OP_META_UPDATE, mu, 5 + 64), MT_ST_OK);
  uint32_t rc[6] = {tile, 10, 4, 100, 20, 0};
  assert_int_equal(tdev_run(d, MT_OP_READ_CELLS, rc, 6), MT_ST_OK);
  uint32_t mv[4 + 2 * 64] = {tile, 2, 128, 128};
  for (uint32_t k = 0; k < 2 * 64; k++) mv[4 + k] = tp_u32(r) & 0x00FF00FFu;
  assert_int_equal(tdev_run(d, MT_OP_MVM, mv, 4 + 128), MT_ST_OK);
}

/* Configured (noisy config), seeded, 8-level table with spread, tanh f_meta table,
 * tiles 0..n_fab-1 fabricated and each put through tp_workload. */
static inline tdev_t *tp_noisy_device(uint32_t n_tiles, uint32_t n_fab, uint64_t seed) {
  tdev_t *d = tdev_new(n_tiles);
  tp_rng_t r = {seed};
  uint32_t cfg[MT_CFG_COUNT];
  tp_cfg_noisy(cfg);
  assert_int_equal(tdev_configure(d, cfg), MT_ST_OK);
  uint32_t s[2] = {(uint32_t)seed, 0xC0FFEEu};
  assert_int_equal(tdev_run(d, MT_OP_SEED, s, 2), MT_ST_OK);
  assert_int_equal(tdev_levels_linear(d, TP_NOISY_LEVELS, 2000, 3000, 1000, 150), MT_ST_OK);
  uint32_t mt[MT_META_TABLE_SIZE / 2];
  uint16_t f[MT_META_TABLE_SIZE];
  tp_meta_table_tanh(mt, 0.5, f);
  assert_int_equal(tdev_run(d, MT_OP_META_TABLE, mt, MT_META_TABLE_SIZE / 2), MT_ST_OK);
  for (uint32_t t = 0; t < n_fab; t++) {
    assert_int_equal(tdev_fabricate(d, seed * 31 + 7, t), MT_ST_OK);
    tp_workload(d, t, &r);
  }
  return d;
}

#endif
