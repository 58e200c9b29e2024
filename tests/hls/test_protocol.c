/* Command protocol of the golden model (docs/protocol.md): framing, every error
 * path of every opcode with its detail words, "a rejected command changes
 * nothing" on a noisy device, and a fuzz of random and mutated command buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mt_testproto.h"

/* Inclusive CONFIGURE ranges, copied from the table in docs/protocol.md (not from
 * the generated header, so that a generator slip shows up here). */
static const uint32_t cfg_min[MT_CFG_COUNT] = {
  [MT_CFG_DAC_BITS] = 2, [MT_CFG_ADC_BITS] = 2, [MT_CFG_WV_MAX_ITER] = 1,
  [MT_CFG_META_HIDDEN_BITS] = 8, [MT_CFG_META_ENTRY_BITS] = 1,
};
static uint32_t cfg_max(uint32_t i) {
  switch (i) {
    case MT_CFG_P_STUCK_LOW: case MT_CFG_P_STUCK_HIGH: case MT_CFG_ENDURANCE: return 0xFFFFFFFFu;
    case MT_CFG_READ_MODE: return 2;
    case MT_CFG_DAC_BITS: case MT_CFG_ADC_BITS: return 16;
    case MT_CFG_ADC_SHIFT: return 62;
    case MT_CFG_WV_MAX_ITER: return 1023;
    case MT_CFG_META_IN_SHIFT: return 16;
    case MT_CFG_META_IDX_SHIFT: return 24;
    case MT_CFG_META_PROG_MODE: return 1;
    case MT_CFG_META_HIDDEN_BITS: return 32;
    case MT_CFG_META_HIDDEN_FRAC: return 16;
    case MT_CFG_META_UPD_ROUND: return 1;
    case MT_CFG_META_TABLE_LOG2: return 8;
    case MT_CFG_META_ENTRY_BITS: return 16;
    case MT_CFG_META_RULE: return 1;
    case MT_CFG_RESP_CLASS: return 1;
    default: return i >= MT_CFG_E_SET && i <= MT_CFG_T_META ? 0xFFFFFFFFu : 65535u;
  }
}

/* Configured with the ideal device; optionally a 4-level table and tile 0 fabricated. */
static tdev_t *dev_new(uint32_t n_tiles, int configure, int levels, int fab) {
  tdev_t *d = tdev_new(n_tiles);
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  if (configure) assert_int_equal(tdev_configure(d, cfg), MT_ST_OK);
  if (levels) assert_int_equal(tdev_levels_linear(d, 4, 1000, 2000, 1000, 0), MT_ST_OK);
  if (fab) assert_int_equal(tdev_fabricate(d, 77, 0), MT_ST_OK);
  return d;
}

/* ------------------------------------------------------------------ framing */

static void framing_responses_in_order_with_tags(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 0, 0, 0);
  tp_buf_t b;
  tp_buf_init(&b, 64);
  uint32_t junk[2] = {7, 8}, e[3] = {0xA, 0xB, 0xFFFFFFFFu};
  tp_put(&b, MT_OP_NOP, 1, junk, 2); /* NOP with a payload: ignored */
  tp_put(&b, MT_OP_ECHO, 2, e, 3);
  tp_put(&b, MT_OP_INFO, 3, NULL, 0);
  tp_put(&b, MT_OP_STATS_GET, 0xFF, NULL, 0);
  tp_put(&b, MT_OP_ECHO, 0, NULL, 0);
  b.w[b.n - 2] |= 0xFFFFu; /* reserved header bits are ignored */
  uint32_t consumed, n = tp_kernel(d, b.w, b.n, d->rsp, TDEV_RSP_CAP, &consumed);
  assert_int_equal(consumed, b.n);
  assert_int_equal(n, 2 + (2 + 3) + (2 + MT_INFO_COUNT) + (2 + 2 * MT_CNT_COUNT) + 2);
  assert_int_equal(tp_check_stream(b.w, b.n, d->rsp, n, TDEV_RSP_CAP, consumed), 5);
  const uint32_t *r = d->rsp;
  assert_int_equal(r[0], MT_OP_NOP << 24 | 1u << 16);
  assert_int_equal(r[1], 0);
  r += 2;
  assert_int_equal(r[0], MT_OP_ECHO << 24 | 2u << 16);
  assert_int_equal(r[1], 3);
  assert_memory_equal(r + 2, e, sizeof e);
  r += 5;
  assert_int_equal(r[0], MT_OP_INFO << 24 | 3u << 16);
  assert_int_equal(r[1], MT_INFO_COUNT);
  assert_int_equal(r[2 + MT_INFO_VERSION], MT_PROTO_MAJOR << 16 | MT_PROTO_MINOR);
  assert_int_equal(r[2 + MT_INFO_TILES], 2);
  assert_int_equal(r[2 + MT_INFO_MAX_PAYLOAD], MT_MAX_PAYLOAD);
  assert_int_equal(r[2 + MT_INFO_COUNTERS], MT_CNT_COUNT);
  r += 2 + MT_INFO_COUNT;
  assert_int_equal(r[0], MT_OP_STATS_GET << 24 | 0xFFu << 16);
  assert_int_equal(r[1], 2 * MT_CNT_COUNT);
  r += 2 + 2 * MT_CNT_COUNT;
  assert_int_equal(r[0], MT_OP_ECHO << 24); /* status 0, not the reserved bits */
  assert_int_equal(r[1], 0);
  tp_buf_free(&b);
  tdev_free(d);
}

static void framing_echo_max_payload(void **state) {
  (void)state;
  tdev_t *d = dev_new(1, 0, 0, 0);
  uint32_t *p = malloc(MT_MAX_PAYLOAD * sizeof *p);
  for (uint32_t i = 0; i < MT_MAX_PAYLOAD; i++) p[i] = i * 2654435761u;
  tp_expect_ok(d, MT_OP_ECHO, p, MT_MAX_PAYLOAD);
  assert_int_equal(d->out_len, MT_MAX_PAYLOAD);
  assert_memory_equal(d->out, p, MT_MAX_PAYLOAD * sizeof *p);
  free(p);
  tdev_free(d);
}

static void framing_unknown_opcode_skips_payload(void **state) {
  (void)state;
  tdev_t *d = dev_new(1, 0, 0, 0);
  static const uint32_t ops[] = {MT_OP_COUNT, MT_OP_COUNT + 1u, 25, 0x7F, 0xFF};
  for (uint32_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    tp_buf_t b;
    tp_buf_init(&b, 32);
    /* The payload of the unknown command looks like a STATS_RESET header. */
    uint32_t trap[3] = {MT_OP_STATS_RESET << 24, 0, 0xFFFFFFFFu};
    uint32_t x = 0x1234u + k;
    tp_put(&b, ops[k], 0x40 + k, trap, 3);
    tp_put(&b, ops[k], 0x50 + k, NULL, 0);
    tp_put(&b, MT_OP_ECHO, 0x60 + k, &x, 1);
    uint32_t consumed, n = tp_kernel(d, b.w, b.n, d->rsp, TDEV_RSP_CAP, &consumed);
    assert_int_equal(consumed, b.n);
    assert_int_equal(tp_check_stream(b.w, b.n, d->rsp, n, TDEV_RSP_CAP, consumed), 3);
    assert_int_equal(n, 4 + 4 + 3);
    assert_int_equal(d->rsp[0], ops[k] << 24 | (0x40 + k) << 16 | MT_ST_ERR_OPCODE);
    assert_int_equal(d->rsp[1], 2);
    assert_int_equal(d->rsp[2], ops[k]);
    assert_int_equal(d->rsp[3], 0);
    assert_int_equal(d->rsp[4], ops[k] << 24 | (0x50 + k) << 16 | MT_ST_ERR_OPCODE);
    assert_int_equal(d->rsp[8], MT_OP_ECHO << 24 | (0x60 + k) << 16);
    assert_int_equal(d->rsp[9], 1);
    assert_int_equal(d->rsp[10], x);
    tp_buf_free(&b);
  }
  tdev_free(d);
}

static void framing_truncated_header(void **state) {
  (void)state;
  tdev_t *d = dev_new(1, 0, 0, 0);
  /* A lone header word. */
  uint32_t one = MT_OP_ECHO << 24 | 9u << 16;
  uint32_t consumed, n = tp_kernel(d, &one, 1, d->rsp, TDEV_RSP_CAP, &consumed);
  assert_int_equal(n, 4);
  assert_int_equal(consumed, 1);
  assert_int_equal(d->rsp[0], MT_OP_ECHO << 24 | 9u << 16 | MT_ST_ERR_TRUNCATED);
  assert_int_equal(d->rsp[1], 2);
  assert_int_equal(d->rsp[2], 0); /* declared length unknown */
  assert_int_equal(d->rsp[3], 0); /* nothing after the header */
  /* After a complete command. */
  tp_buf_t b;
  tp_buf_init(&b, 8);
  tp_put(&b, MT_OP_NOP, 1, NULL, 0);
  b.w[b.n++] = MT_OP_STATS_RESET << 24 | 2u << 16;
  n = tp_kernel(d, b.w, b.n, d->rsp, TDEV_RSP_CAP, &consumed);
  assert_int_equal(consumed, 3);
  assert_int_equal(n, 6);
  assert_int_equal(tp_check_stream(b.w, b.n, d->rsp, n, TDEV_RSP_CAP, consumed), 2);
  assert_int_equal(d->rsp[2], MT_OP_STATS_RESET << 24 | 2u << 16 | MT_ST_ERR_TRUNCATED);
  assert_int_equal(d->rsp[4], 0);
  assert_int_equal(d->rsp[5], 0);
  tp_buf_free(&b);
  tdev_free(d);
}

static void framing_truncated_payload(void **state) {
  (void)state;
  tdev_t *d = dev_new(1, 0, 0, 0);
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  tp_buf_t b;
  tp_buf_init(&b, 16 + MT_CFG_COUNT);
  uint32_t x = 5;
  tp_put(&b, MT_OP_ECHO, 1, &x, 1);
  /* CONFIGURE declaring all its words with one missing: must not configure */
  tp_put(&b, MT_OP_CONFIGURE, 2, cfg, MT_CFG_COUNT);
  b.n--;
  uint32_t consumed, n = tp_kernel(d, b.w, b.n, d->rsp, TDEV_RSP_CAP, &consumed);
  assert_int_equal(consumed, b.n);
  assert_int_equal(tp_check_stream(b.w, b.n, d->rsp, n, TDEV_RSP_CAP, consumed), 2);
  assert_int_equal(d->rsp[3], MT_OP_CONFIGURE << 24 | 2u << 16 | MT_ST_ERR_TRUNCATED);
  assert_int_equal(d->rsp[4], 2);
  assert_int_equal(d->rsp[5], MT_CFG_COUNT);
  assert_int_equal(d->rsp[6], MT_CFG_COUNT - 1);
  uint32_t fab[3] = {1, 0, 0};
  tp_expect(d, MT_OP_FABRICATE, fab, 3, MT_ST_ERR_STATE, 1, 0);
  /* A length of 2^32-1 with 2 words present. */
  uint32_t big[4] = {MT_OP_ECHO << 24 | 3u << 16, 0xFFFFFFFFu, 1, 2};
  n = tp_kernel(d, big, 4, d->rsp, TDEV_RSP_CAP, &consumed);
  assert_int_equal(n, 4);
  assert_int_equal(consumed, 4);
  assert_int_equal(d->rsp[0] & 0xFFFFu, MT_ST_ERR_TRUNCATED);
  assert_int_equal(d->rsp[2], 0xFFFFFFFFu);
  assert_int_equal(d->rsp[3], 2);
  /* Exactly enough words is not truncated. */
  big[1] = 2;
  n = tp_kernel(d, big, 4, d->rsp, TDEV_RSP_CAP, &consumed);
  assert_int_equal(d->rsp[0] & 0xFFFFu, MT_ST_OK);
  assert_int_equal(consumed, 4);
  tp_buf_free(&b);
  tdev_free(d);
}

static void framing_length_above_max_payload(void **state) {
  (void)state;
  tdev_t *d = tp_noisy_device(1, 1, 5);
  uint64_t sets = tdev_counter(d, MT_CNT_SET_PULSES);
  assert_true(sets > 0);
  tp_buf_t b;
  tp_buf_init(&b, MT_MAX_PAYLOAD + 16);
  uint32_t *p = calloc(MT_MAX_PAYLOAD + 1, sizeof *p);
  tp_put(&b, MT_OP_STATS_RESET, 1, p, MT_MAX_PAYLOAD + 1);
  uint32_t x = 99;
  tp_put(&b, MT_OP_ECHO, 2, &x, 1);
  uint32_t consumed, n = tp_kernel(d, b.w, b.n, d->rsp, TDEV_RSP_CAP, &consumed);
  assert_int_equal(consumed, b.n);
  assert_int_equal(tp_check_stream(b.w, b.n, d->rsp, n, TDEV_RSP_CAP, consumed), 2);
  assert_int_equal(d->rsp[0], MT_OP_STATS_RESET << 24 | 1u << 16 | MT_ST_ERR_LENGTH);
  assert_int_equal(d->rsp[2], MT_MAX_PAYLOAD + 1);
  assert_int_equal(d->rsp[3], MT_MAX_PAYLOAD);
  assert_int_equal(d->rsp[6], 99);
  assert_int_equal(tdev_counter(d, MT_CNT_SET_PULSES), sets); /* not reset */
  free(p);
  tp_buf_free(&b);
  tdev_free(d);
}

static void framing_overflow_not_executed(void **state) {
  (void)state;
  tdev_t *d = tp_noisy_device(1, 1, 6);
  uint32_t *before = tp_snapshot(d);
  tp_buf_t b;
  tp_buf_init(&b, 64);
  uint32_t rc[6] = {0, 5, 4, 3, 4, 0}; /* noisy read of 16 weights */
  tp_put(&b, MT_OP_NOP, 1, NULL, 0);
  uint32_t at = tp_put(&b, MT_OP_READ_CELLS, 2, rc, 6);
  tp_put(&b, MT_OP_STATS_RESET, 3, NULL, 0);
  uint32_t consumed, n = tp_kernel(d, b.w, b.n, d->rsp, 2 + 2 + 15, &consumed);
  assert_int_equal(n, 6);
  assert_int_equal(consumed, at);
  assert_int_equal(tp_check_stream(b.w, b.n, d->rsp, n, 19, consumed), 2);
  assert_int_equal(d->rsp[2], MT_OP_READ_CELLS << 24 | 2u << 16 | MT_ST_ERR_OVERFLOW);
  assert_int_equal(d->rsp[3], 2);
  assert_int_equal(d->rsp[4], 16); /* needed */
  assert_int_equal(d->rsp[5], 15); /* available after the header */
  uint32_t *after = tp_snapshot(d);
  tp_assert_image_equal(before, after, 1); /* no draws, no counts, no reset */
  free(after);
  /* Exactly enough room: READ_CELLS runs, then no room is left for STATS_RESET. */
  n = tp_kernel(d, b.w, b.n, d->rsp, 2 + 2 + 16, &consumed);
  assert_int_equal(n, 20);
  assert_int_equal(consumed, at + 8);
  assert_int_equal(tp_check_stream(b.w, b.n, d->rsp, n, 20, consumed), 2);
  assert_int_equal(d->rsp[2] & 0xFFFFu, MT_ST_OK);
  assert_true(tdev_counter(d, MT_CNT_CELL_READS) > 0); /* STATS_RESET did not run */
  /* Resending from `consumed` runs the rest. */
  n = tp_kernel(d, b.w + consumed, b.n - consumed, d->rsp, TDEV_RSP_CAP, &consumed);
  assert_int_equal(n, 2);
  assert_int_equal(d->rsp[0], MT_OP_STATS_RESET << 24 | 3u << 16);
  assert_int_equal(tdev_counter(d, MT_CNT_CELL_READS), 0);
  /* Other opcodes' overflow details. */
  uint32_t e[10] = {0};
  uint32_t one[12] = {MT_OP_ECHO << 24, 10};
  memcpy(one + 2, e, sizeof e);
  n = tp_kernel(d, one, 12, d->rsp, 8, &consumed);
  assert_int_equal(n, 4);
  assert_int_equal(consumed, 0);
  assert_int_equal(d->rsp[0] & 0xFFFFu, MT_ST_ERR_OVERFLOW);
  assert_int_equal(d->rsp[2], 10);
  assert_int_equal(d->rsp[3], 6);
  uint32_t info[2] = {MT_OP_INFO << 24, 0};
  n = tp_kernel(d, info, 2, d->rsp, 2 + MT_INFO_COUNT - 1, &consumed);
  assert_int_equal(d->rsp[0] & 0xFFFFu, MT_ST_ERR_OVERFLOW);
  assert_int_equal(d->rsp[2], MT_INFO_COUNT);
  assert_int_equal(d->rsp[3], MT_INFO_COUNT - 1);
  free(before);
  tp_buf_free(&b);
  tdev_free(d);
}

static void framing_tiny_response_buffer(void **state) {
  (void)state;
  tdev_t *d = tp_noisy_device(1, 1, 7);
  uint64_t sets = tdev_counter(d, MT_CNT_SET_PULSES);
  uint32_t cmd[4] = {MT_OP_STATS_RESET << 24, 0, MT_OP_NOP << 24, 0};
  uint32_t rsp[8];
  for (uint32_t cap = 0; cap < 4; cap++) {
    uint32_t consumed;
    memset(rsp, 0xAB, sizeof rsp);
    assert_int_equal(tp_kernel(d, cmd, 4, rsp, cap, &consumed), 0);
    assert_int_equal(consumed, 0);
    assert_int_equal(rsp[0], 0xABABABABu); /* nothing written */
    assert_int_equal(tdev_counter(d, MT_CNT_SET_PULSES), sets);
  }
  /* cap 5: STATS_RESET runs (2 words); 3 left < 4, so the NOP waits. */
  uint32_t consumed;
  assert_int_equal(tp_kernel(d, cmd, 4, rsp, 5, &consumed), 2);
  assert_int_equal(consumed, 2);
  assert_int_equal(tdev_counter(d, MT_CNT_SET_PULSES), 0);
  assert_int_equal(tp_kernel(d, cmd, 4, rsp, 6, &consumed), 4);
  assert_int_equal(consumed, 4);
  /* Empty command buffer. */
  assert_int_equal(tp_kernel(d, cmd, 0, rsp, 8, &consumed), 0);
  assert_int_equal(consumed, 0);
  tdev_free(d);
}

/* ------------------------------------------------------------- error paths */

static void err_info_seed_stats(void **state) {
  (void)state;
  tdev_t *d = dev_new(1, 0, 0, 0);
  uint32_t p[3] = {1, 2, 3};
  tp_expect(d, MT_OP_INFO, p, 1, MT_ST_ERR_LENGTH, 1, 0);
  tp_expect(d, MT_OP_SEED, p, 0, MT_ST_ERR_LENGTH, 0, 2);
  tp_expect(d, MT_OP_SEED, p, 1, MT_ST_ERR_LENGTH, 1, 2);
  tp_expect(d, MT_OP_SEED, p, 3, MT_ST_ERR_LENGTH, 3, 2);
  tp_expect_ok(d, MT_OP_SEED, p, 2);
  tp_expect(d, MT_OP_STATS_GET, p, 1, MT_ST_ERR_LENGTH, 1, 0);
  tp_expect(d, MT_OP_STATS_RESET, p, 2, MT_ST_ERR_LENGTH, 2, 0);
  tp_expect_ok(d, MT_OP_STATS_GET, NULL, 0);
  tp_expect_ok(d, MT_OP_STATS_RESET, NULL, 0);
  /* INFO names every feature of this protocol version, scatter read included. */
  tp_expect_ok(d, MT_OP_INFO, NULL, 0);
  assert_int_equal(d->out[MT_INFO_FEATURES], MT_FEATURES);
  assert_true(d->out[MT_INFO_FEATURES] & MT_FEAT_READ_LIST);
  assert_int_equal(d->out[MT_INFO_CONFIG_WORDS], MT_CFG_COUNT);
  tdev_free(d);
}

static void err_configure(void **state) {
  (void)state;
  tdev_t *d = dev_new(1, 0, 0, 0);
  uint32_t cfg[MT_CFG_COUNT + 1];
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_COUNT] = 0;
  tp_expect(d, MT_OP_CONFIGURE, cfg, 0, MT_ST_ERR_LENGTH, 0, MT_CFG_COUNT);
  tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT - 1, MT_ST_ERR_LENGTH, MT_CFG_COUNT - 1, MT_CFG_COUNT);
  tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT + 1, MT_ST_ERR_LENGTH, MT_CFG_COUNT + 1, MT_CFG_COUNT);
  for (uint32_t i = 0; i < MT_CFG_COUNT; i++) {
    tdev_cfg_ideal(cfg);
    if (cfg_min[i] > 0) {
      cfg[i] = cfg_min[i] - 1;
      tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, i, cfg[i]);
      cfg[i] = 0xFFFFFFFFu; /* far out */
      tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, i, cfg[i]);
    }
    if (cfg_max(i) != 0xFFFFFFFFu) {
      cfg[i] = cfg_max(i) + 1;
      tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, i, cfg[i]);
      cfg[i] = 0x80000000u;
      tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, i, cfg[i]);
    }
  }
  /* The first bad field is reported. */
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_ADC_BITS] = 1;
  cfg[MT_CFG_META_PROG_MODE] = 2;
  tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, MT_CFG_ADC_BITS, 1);
  /* Cross-field rules, reported on g_max and p_stuck_high. */
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_G_MIN] = cfg[MT_CFG_G_MAX] = 5000;
  tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, MT_CFG_G_MAX, 5000);
  cfg[MT_CFG_G_MIN] = 6000;
  tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, MT_CFG_G_MAX, 5000);
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_P_STUCK_LOW] = 0x80000000u;
  cfg[MT_CFG_P_STUCK_HIGH] = 0x80000000u;
  tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, MT_CFG_P_STUCK_HIGH, 0x80000000u);
  cfg[MT_CFG_P_STUCK_LOW] = 0xFFFFFFFFu;
  cfg[MT_CFG_P_STUCK_HIGH] = 1;
  tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, MT_CFG_P_STUCK_HIGH, 1);
  /* None of that configured anything. */
  uint32_t g[4] = {MT_SECTION_GLOBAL, 0, 0, TP_G_LEVELS};
  tp_expect_ok(d, MT_OP_STATE_READ, g, 4);
  for (uint32_t i = 1; i < TP_G_LEVELS; i++) assert_int_equal(d->out[i], 0);
  /* Boundaries are accepted: every field at its max and at its min. */
  for (uint32_t i = 0; i < MT_CFG_COUNT; i++) {
    tdev_cfg_ideal(cfg);
    cfg[i] = cfg_max(i);
    if (i == MT_CFG_G_MIN) cfg[MT_CFG_G_MAX] = 65535, cfg[i] = 65534;
    tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
    tdev_cfg_ideal(cfg);
    cfg[i] = cfg_min[i];
    if (i == MT_CFG_G_MAX) cfg[MT_CFG_G_MIN] = 0, cfg[i] = 1;
    if (i == MT_CFG_META_HIDDEN_BITS) cfg[MT_CFG_META_HIDDEN_FRAC] = cfg[i] - 1;
    tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  }
  /* The hidden weight keeps at least its sign bit: F < W. */
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_META_HIDDEN_BITS] = 12;
  cfg[MT_CFG_META_HIDDEN_FRAC] = 12;
  tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, MT_CFG_META_HIDDEN_FRAC, 12);
  cfg[MT_CFG_META_HIDDEN_FRAC] = 11;
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  tdev_cfg_ideal(cfg);
  cfg[MT_CFG_P_STUCK_LOW] = 0xFFFFFFF0u;
  cfg[MT_CFG_P_STUCK_HIGH] = 0xFu; /* sum 2^32 - 1 */
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  /* A rejected CONFIGURE keeps the previous configuration. */
  tp_expect_ok(d, MT_OP_STATE_READ, g, 4);
  uint32_t good[TP_G_LEVELS];
  memcpy(good, d->out, sizeof good);
  cfg[MT_CFG_META_PROG_MODE] = 7;
  cfg[MT_CFG_G_MIN] = 1;
  tp_expect(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT, MT_ST_ERR_PARAM, MT_CFG_META_PROG_MODE, 7);
  tp_expect_ok(d, MT_OP_STATE_READ, g, 4);
  assert_memory_equal(d->out, good, sizeof good);
  tdev_free(d);
}

static void err_set_levels_meta_table(void **state) {
  (void)state;
  tdev_t *d = dev_new(1, 1, 0, 1);
  uint32_t p[1 + MT_MAX_LEVELS * 3 + 1];
  memset(p, 0, sizeof p);
  tp_expect(d, MT_OP_SET_LEVELS, p, 0, MT_ST_ERR_LENGTH, 0, 1);
  static const uint32_t bad_l[] = {0, 1, 257, 0xFFFFFFFFu};
  for (uint32_t k = 0; k < 4; k++) {
    p[0] = bad_l[k];
    tp_expect(d, MT_OP_SET_LEVELS, p, 1 + 3 * 2, MT_ST_ERR_PARAM, 0, bad_l[k]);
  }
  p[0] = 4;
  tp_expect(d, MT_OP_SET_LEVELS, p, 12, MT_ST_ERR_LENGTH, 12, 13);
  tp_expect(d, MT_OP_SET_LEVELS, p, 14, MT_ST_ERR_LENGTH, 14, 13);
  tp_expect(d, MT_OP_SET_LEVELS, p, 1, MT_ST_ERR_LENGTH, 1, 13);
  p[1 + 3 * 3 + 2] = 0x10000u; /* sigma of entry 3 */
  tp_expect(d, MT_OP_SET_LEVELS, p, 13, MT_ST_ERR_PARAM, 12, 0x10000u);
  /* pulse indices above MAX_PULSE_INDEX (either half), checked before the entry's sigma */
  p[1 + 3 * 3 + 1] = (MT_MAX_PULSE_INDEX + 1u) << 16;
  tp_expect(d, MT_OP_SET_LEVELS, p, 13, MT_ST_ERR_PARAM, 11, (MT_MAX_PULSE_INDEX + 1u) << 16);
  p[1 + 3 * 3 + 1] = MT_MAX_PULSE_INDEX + 1u;
  tp_expect(d, MT_OP_SET_LEVELS, p, 13, MT_ST_ERR_PARAM, 11, MT_MAX_PULSE_INDEX + 1u);
  p[1 + 3 * 3 + 1] = 0xFFFFFFFFu;
  tp_expect(d, MT_OP_SET_LEVELS, p, 13, MT_ST_ERR_PARAM, 11, 0xFFFFFFFFu);
  p[1 + 3 * 3 + 1] = MT_MAX_PULSE_INDEX | MT_MAX_PULSE_INDEX << 16; /* the largest is fine */
  tp_expect(d, MT_OP_SET_LEVELS, p, 13, MT_ST_ERR_PARAM, 12, 0x10000u);
  p[1 + 3 * 3 + 1] = 0xFFFFFFFFu;
  p[1 + 0 + 2] = 0xFFFF0000u; /* entry 0 is reported first */
  tp_expect(d, MT_OP_SET_LEVELS, p, 13, MT_ST_ERR_PARAM, 3, 0xFFFF0000u);
  /* none of it set a table */
  uint32_t e[3] = {0, 0, tdev_entry(0, 0, 0)};
  tp_expect(d, MT_OP_PROGRAM, e, 3, MT_ST_ERR_STATE, 2, 0);
  memset(p, 0, sizeof p);
  p[0] = 2;
  p[3] = p[6] = 0xFFFF;
  p[2] = p[5] = MT_MAX_PULSE_INDEX | MT_MAX_PULSE_INDEX << 16;
  tp_expect_ok(d, MT_OP_SET_LEVELS, p, 7);
  memset(p, 0, sizeof p);
  p[0] = 256;
  tp_expect_ok(d, MT_OP_SET_LEVELS, p, 1 + 256 * 3);
  tp_expect(d, MT_OP_META_TABLE, p, 0, MT_ST_ERR_LENGTH, 0, 128);
  tp_expect(d, MT_OP_META_TABLE, p, 127, MT_ST_ERR_LENGTH, 127, 128);
  tp_expect(d, MT_OP_META_TABLE, p, 129, MT_ST_ERR_LENGTH, 129, 128);
  tp_expect_ok(d, MT_OP_META_TABLE, p, 128);
  tdev_free(d);
}

static void err_fabricate(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 0, 0, 0);
  uint32_t p[4] = {1, 2, 0, 0};
  tp_expect(d, MT_OP_FABRICATE, p, 2, MT_ST_ERR_LENGTH, 2, 3);
  tp_expect(d, MT_OP_FABRICATE, p, 4, MT_ST_ERR_LENGTH, 4, 3);
  p[2] = 2;
  tp_expect(d, MT_OP_FABRICATE, p, 3, MT_ST_ERR_TILE, 2, 2); /* tile before configuration */
  p[2] = 0xFFFFFFFFu;
  tp_expect(d, MT_OP_FABRICATE, p, 3, MT_ST_ERR_TILE, 2, 0xFFFFFFFFu);
  p[2] = 1;
  tp_expect(d, MT_OP_FABRICATE, p, 3, MT_ST_ERR_STATE, 1, 1);
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  tp_expect_ok(d, MT_OP_FABRICATE, p, 3);
  uint32_t rl[5] = {1, 0, 1, 0, 2};
  tp_expect_ok(d, MT_OP_READ_LEVELS, rl, 5);
  assert_int_equal(d->out[0], MT_LEVEL_NONE);
  tdev_free(d);
}

static void err_program(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 0, 0, 0);
  uint32_t p[8] = {0, 0, tdev_entry(0, 0, 0)};
  tp_expect(d, MT_OP_PROGRAM, p, 0, MT_ST_ERR_LENGTH, 0, 2);
  tp_expect(d, MT_OP_PROGRAM, p, 1, MT_ST_ERR_LENGTH, 1, 2);
  p[0] = 2;
  tp_expect(d, MT_OP_PROGRAM, p, 3, MT_ST_ERR_TILE, 0, 2);
  p[0] = 0;
  tp_expect(d, MT_OP_PROGRAM, p, 3, MT_ST_ERR_STATE, 1, 0);
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  tp_expect(d, MT_OP_PROGRAM, p, 3, MT_ST_ERR_STATE, 2, 0);
  assert_int_equal(tdev_levels_linear(d, 4, 1000, 2000, 1000, 0), MT_ST_OK);
  tp_expect(d, MT_OP_PROGRAM, p, 3, MT_ST_ERR_STATE, 3, 0);
  assert_int_equal(tdev_fabricate(d, 3, 0), MT_ST_OK);
  p[0] = 1;
  tp_expect(d, MT_OP_PROGRAM, p, 3, MT_ST_ERR_STATE, 3, 1);
  p[0] = 0;
  /* flags */
  p[1] = 4;
  tp_expect(d, MT_OP_PROGRAM, p, 3, MT_ST_ERR_PARAM, 1, 4);
  p[1] = 0xFFFFFFFFu;
  tp_expect(d, MT_OP_PROGRAM, p, 3, MT_ST_ERR_PARAM, 1, 0xFFFFFFFFu);
  p[1] = 0;
  /* entries: the failing one is named by its payload index */
  p[2] = tdev_entry(127, 127, 3);
  uint32_t bad[] = {tdev_entry(128, 0, 0), tdev_entry(0xFFF, 0, 0), tdev_entry(0, 128, 0),
                    tdev_entry(0, 0xFFF, 0)};
  for (uint32_t k = 0; k < 4; k++) {
    p[3] = bad[k];
    tp_expect(d, MT_OP_PROGRAM, p, 4, MT_ST_ERR_RANGE, 3, bad[k]);
  }
  p[3] = tdev_entry(0, 0, 4); /* L = 4 */
  tp_expect(d, MT_OP_PROGRAM, p, 4, MT_ST_ERR_LEVEL, 3, p[3]);
  p[3] = tdev_entry(5, 6, 255);
  tp_expect(d, MT_OP_PROGRAM, p, 4, MT_ST_ERR_LEVEL, 3, p[3]);
  p[3] = tdev_entry(128, 0, 9); /* range is checked before the level */
  tp_expect(d, MT_OP_PROGRAM, p, 4, MT_ST_ERR_RANGE, 3, p[3]);
  p[3] = tdev_entry(1, 1, 9); /* first failing entry wins */
  p[4] = tdev_entry(200, 1, 0);
  tp_expect(d, MT_OP_PROGRAM, p, 5, MT_ST_ERR_LEVEL, 3, p[3]);
  /* nothing was programmed by any of that */
  uint32_t rl[5] = {0, 127, 1, 127, 1};
  tp_expect_ok(d, MT_OP_READ_LEVELS, rl, 5);
  assert_int_equal(d->out[0], MT_LEVEL_NONE);
  assert_int_equal(tdev_counter(d, MT_CNT_CELLS_PROGRAMMED), 0);
  /* valid: no entries, and all flags */
  tp_expect_ok(d, MT_OP_PROGRAM, p, 2);
  assert_int_equal(d->out_len, 3);
  assert_int_equal(d->out[0], 0);
  assert_int_equal(d->out[1], 0);
  p[1] = MT_PROG_OPEN_LOOP | MT_PROG_FORCE;
  tp_expect_ok(d, MT_OP_PROGRAM, p, 3);
  assert_int_equal(d->out[0], 1);
  tdev_free(d);
}

static void err_pulse(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 0, 0, 0);
  uint32_t p[4] = {0, tdev_pulse_entry(0, 0, 0, 5)};
  tp_expect(d, MT_OP_PULSE, p, 0, MT_ST_ERR_LENGTH, 0, 1);
  p[0] = 2;
  tp_expect(d, MT_OP_PULSE, p, 2, MT_ST_ERR_TILE, 0, 2);
  p[0] = 1;
  tp_expect(d, MT_OP_PULSE, p, 2, MT_ST_ERR_STATE, 1, 1);
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  tp_expect(d, MT_OP_PULSE, p, 2, MT_ST_ERR_STATE, 3, 1); /* no level table needed */
  assert_int_equal(tdev_fabricate(d, 3, 1), MT_ST_OK);
  p[2] = tdev_pulse_entry(128, 0, 1, -3);
  tp_expect(d, MT_OP_PULSE, p, 3, MT_ST_ERR_RANGE, 2, p[2]);
  p[2] = tdev_pulse_entry(0, 128, 0, 1);
  tp_expect(d, MT_OP_PULSE, p, 3, MT_ST_ERR_RANGE, 2, p[2]);
  p[2] = 0xFFFFFFFFu;
  tp_expect(d, MT_OP_PULSE, p, 3, MT_ST_ERR_RANGE, 2, p[2]);
  assert_int_equal(tdev_counter(d, MT_CNT_SET_PULSES), 0);
  assert_int_equal(tdev_probe(d, 1, 0, 0, 0), 1000);
  tp_expect_ok(d, MT_OP_PULSE, p, 1); /* no entries */
  tp_expect_ok(d, MT_OP_PULSE, p, 2);
  assert_int_equal(tdev_probe(d, 1, 0, 0, 0), 6000);
  p[1] = tdev_pulse_entry(0, 0, 0, -64);
  tp_expect_ok(d, MT_OP_PULSE, p, 2);
  assert_int_equal(tdev_counter(d, MT_CNT_RESET_PULSES), 64);
  tdev_free(d);
}

/* The region checks shared by READ_CELLS, READ_LEVELS, META_*: payload words 1..4. */
static void expect_region_errors(tdev_t *d, uint32_t op, uint32_t *p, uint32_t len) {
  uint32_t save[5];
  memcpy(save, p, sizeof save);
  struct {
    uint32_t r0, nr, c0, nc, word, value;
  } bad[] = {
    {128, 1, 0, 1, 1, 128},           {0xFFFFFFFFu, 1, 0, 1, 1, 0xFFFFFFFFu},
    {0, 0, 0, 1, 2, 0},               {100, 29, 0, 1, 2, 29},
    {1, 0xFFFFFFFFu, 0, 1, 2, 0xFFFFFFFFu}, {127, 2, 0, 1, 2, 2},
    {0, 1, 128, 1, 3, 128},           {0, 1, 0, 0, 4, 0},
    {0, 1, 120, 9, 4, 9},             {0, 1, 1, 0xFFFFFFFFu, 4, 0xFFFFFFFFu},
    {128, 0, 128, 0, 1, 128}, /* first check wins */
  };
  for (uint32_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    p[1] = bad[k].r0;
    p[2] = bad[k].nr;
    p[3] = bad[k].c0;
    p[4] = bad[k].nc;
    tp_expect(d, op, p, len, MT_ST_ERR_RANGE, bad[k].word, bad[k].value);
  }
  memcpy(p, save, sizeof save);
}

static void err_read_cells(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 0, 0, 0);
  uint32_t p[7] = {0, 0, 1, 0, 1, 0, 0};
  tp_expect(d, MT_OP_READ_CELLS, p, 5, MT_ST_ERR_LENGTH, 5, 6);
  tp_expect(d, MT_OP_READ_CELLS, p, 7, MT_ST_ERR_LENGTH, 7, 6);
  p[0] = 2;
  tp_expect(d, MT_OP_READ_CELLS, p, 6, MT_ST_ERR_TILE, 0, 2);
  p[0] = 0;
  tp_expect(d, MT_OP_READ_CELLS, p, 6, MT_ST_ERR_STATE, 1, 0);
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  tp_expect(d, MT_OP_READ_CELLS, p, 6, MT_ST_ERR_STATE, 3, 0);
  assert_int_equal(tdev_fabricate(d, 3, 0), MT_ST_OK);
  expect_region_errors(d, MT_OP_READ_CELLS, p, 6);
  p[5] = 2;
  tp_expect(d, MT_OP_READ_CELLS, p, 6, MT_ST_ERR_PARAM, 5, 2);
  p[5] = 0xFFFFFFFFu;
  tp_expect(d, MT_OP_READ_CELLS, p, 6, MT_ST_ERR_PARAM, 5, 0xFFFFFFFFu);
  p[2] = 0; /* region before flags */
  tp_expect(d, MT_OP_READ_CELLS, p, 6, MT_ST_ERR_RANGE, 2, 0);
  assert_int_equal(tdev_counter(d, MT_CNT_CELL_READS), 0);
  uint32_t ok[6] = {0, 127, 1, 127, 1, MT_READ_PROBE};
  tp_expect_ok(d, MT_OP_READ_CELLS, ok, 6);
  ok[1] = 0, ok[2] = 128, ok[3] = 0, ok[4] = 128, ok[5] = 0;
  tp_expect_ok(d, MT_OP_READ_CELLS, ok, 6);
  assert_int_equal(d->out_len, MT_ROWS * MT_COLS);
  assert_int_equal(tdev_counter(d, MT_CNT_CELL_READS), 2 * MT_ROWS * MT_COLS);
  tdev_free(d);
}

static void err_read_list(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 0, 0, 0);
  uint32_t p[6] = {0, 0, 0, 0, 0, 0};
  tp_expect(d, MT_OP_READ_LIST, p, 0, MT_ST_ERR_LENGTH, 0, 2);
  tp_expect(d, MT_OP_READ_LIST, p, 1, MT_ST_ERR_LENGTH, 1, 2);
  p[0] = 2;
  tp_expect(d, MT_OP_READ_LIST, p, 3, MT_ST_ERR_TILE, 0, 2);
  p[0] = 0;
  tp_expect(d, MT_OP_READ_LIST, p, 3, MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, 0);
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  tp_expect(d, MT_OP_READ_LIST, p, 3, MT_ST_ERR_STATE, MT_STATE_NOT_FABRICATED, 0);
  assert_int_equal(tdev_fabricate(d, 3, 0), MT_ST_OK);
  p[1] = 2;
  tp_expect(d, MT_OP_READ_LIST, p, 3, MT_ST_ERR_PARAM, 1, 2);
  p[1] = 0xFFFFFFFFu;
  tp_expect(d, MT_OP_READ_LIST, p, 3, MT_ST_ERR_PARAM, 1, 0xFFFFFFFFu);
  p[1] = 0;
  /* Entries: row, column, then the low byte; the first bad entry is reported. */
  static const uint32_t bad[] = {128u << 20, 4095u << 20, 128u << 8, 4095u << 8, 1u, 0x80u,
                                 127u << 20 | 127u << 8 | 0xFFu};
  for (uint32_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    p[2] = 5u << 20 | 6u << 8, p[3] = bad[k], p[4] = 0xFFFFFFFFu;
    tp_expect(d, MT_OP_READ_LIST, p, 5, MT_ST_ERR_RANGE, 3, bad[k]);
  }
  p[1] = 7; /* flags are checked before the entries */
  tp_expect(d, MT_OP_READ_LIST, p, 5, MT_ST_ERR_PARAM, 1, 7);
  assert_int_equal(tdev_counter(d, MT_CNT_CELL_READS), 0);
  /* No entries: an empty response; the extreme cells read. */
  p[1] = 0;
  tp_expect_ok(d, MT_OP_READ_LIST, p, 2);
  assert_int_equal(d->out_len, 0);
  p[2] = 0, p[3] = 127u << 20 | 127u << 8;
  tp_expect_ok(d, MT_OP_READ_LIST, p, 4);
  assert_int_equal(d->out_len, 2);
  assert_int_equal(tdev_counter(d, MT_CNT_CELL_READS), 4);
  tdev_free(d);
}

/* READ_LIST of a region's cells in row-major order is READ_CELLS of the region, bit for bit:
 * the same words, draws, counters, energy and latency. With PROBE it returns the stored
 * conductances in list order (repeats too) and changes nothing. */
static void read_list_is_read_cells_scattered(void **state) {
  (void)state;
  tdev_t *d = tp_noisy_device(2, 2, 17);
  tp_raw_t *start = tp_raw_save(d);
  uint32_t rc[6] = {1, 3, 4, 100, 20, 0}; /* 4 x 20 region, crossing lane groups */
  tp_expect_ok(d, MT_OP_READ_CELLS, rc, 6);
  uint32_t want[80];
  memcpy(want, d->out, sizeof want);
  tp_raw_t *after_cells = tp_raw_save(d);
  tp_raw_load(d, start);
  uint32_t lst[2 + 80] = {1, 0};
  for (uint32_t k = 0; k < 80; k++) lst[2 + k] = (3 + k / 20) << 20 | (100 + k % 20) << 8;
  tp_expect_ok(d, MT_OP_READ_LIST, lst, 82);
  assert_int_equal(d->out_len, 80);
  assert_memory_equal(d->out, want, sizeof want);
  assert_true(tp_raw_equal(d, after_cells));
  assert_true(tdev_counter(d, MT_CNT_CELL_READS) > 0);
  /* PROBE: stored values, in list order, repeats answered again, nothing else happens. */
  tp_raw_t *before_probe = tp_raw_save(d);
  uint32_t pr[2 + 4] = {1, MT_READ_PROBE, 9u << 20 | 2u << 8, 0, 9u << 20 | 2u << 8, 127u << 20 | 1u << 8};
  tp_expect_ok(d, MT_OP_READ_LIST, pr, 6);
  static const uint32_t cell[4][2] = {{9, 2}, {0, 0}, {9, 2}, {127, 1}};
  uint32_t got[4];
  memcpy(got, d->out, sizeof got); /* tdev_probe reuses the response buffer */
  for (uint32_t k = 0; k < 4; k++)
    assert_int_equal(got[k], tdev_probe(d, 1, cell[k][0], cell[k][1], MT_DEV_PLUS) |
                                    tdev_probe(d, 1, cell[k][0], cell[k][1], MT_DEV_MINUS) << 16);
  assert_true(tp_raw_equal(d, before_probe));
  tp_raw_free(before_probe);
  tp_raw_free(after_cells);
  tp_raw_free(start);
  tdev_free(d);
}

/* A READ_LIST whose response does not fit is not executed (ERR_OVERFLOW, no draws). */
static void read_list_overflow_not_executed(void **state) {
  (void)state;
  tdev_t *d = tp_noisy_device(1, 1, 5);
  tp_raw_t *before = tp_raw_save(d);
  uint32_t cmd[2 + 2 + 6] = {MT_OP_READ_LIST << 24, 8, 0, 0};
  for (uint32_t k = 0; k < 6; k++) cmd[4 + k] = k << 20 | (5 * k) << 8;
  uint32_t consumed, n = tp_kernel(d, cmd, 10, d->rsp, 2 + 5, &consumed);
  assert_int_equal(n, 4);
  assert_int_equal(consumed, 0);
  assert_int_equal(d->rsp[0] & 0xFFFFu, MT_ST_ERR_OVERFLOW);
  assert_int_equal(d->rsp[2], 6);
  assert_int_equal(d->rsp[3], 5);
  assert_true(tp_raw_equal(d, before));
  n = tp_kernel(d, cmd, 10, d->rsp, 2 + 6, &consumed);
  assert_int_equal(n, 8);
  assert_int_equal(consumed, 10);
  tp_raw_free(before);
  tdev_free(d);
}

static void err_read_levels_meta_read(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 0, 0, 0); /* no state is needed for these register reads */
  uint32_t p[6] = {0, 0, 1, 0, 1, 0};
  static const uint32_t ops[2] = {MT_OP_READ_LEVELS, MT_OP_META_READ};
  for (uint32_t k = 0; k < 2; k++) {
    tp_expect(d, ops[k], p, 4, MT_ST_ERR_LENGTH, 4, 5);
    tp_expect(d, ops[k], p, 6, MT_ST_ERR_LENGTH, 6, 5);
    p[0] = 2;
    tp_expect(d, ops[k], p, 5, MT_ST_ERR_TILE, 0, 2);
    p[0] = 0xFFFFFFFFu;
    tp_expect(d, ops[k], p, 5, MT_ST_ERR_TILE, 0, 0xFFFFFFFFu);
    p[0] = 1;
    expect_region_errors(d, ops[k], p, 5);
    tp_expect_ok(d, ops[k], p, 5);
    assert_int_equal(d->out_len, 1);
    /* power-on: never programmed (LEVEL_NONE), hidden weight 0 */
    assert_int_equal(d->out[0], ops[k] == MT_OP_READ_LEVELS ? MT_LEVEL_NONE : 0);
  }
  tdev_free(d);
}

static void err_mvm(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 0, 0, 0);
  uint32_t p[4 + 256] = {0, 1, 1, 1};
  tp_expect(d, MT_OP_MVM, p, 0, MT_ST_ERR_LENGTH, 0, 4);
  tp_expect(d, MT_OP_MVM, p, 3, MT_ST_ERR_LENGTH, 3, 4);
  p[0] = 2;
  tp_expect(d, MT_OP_MVM, p, 5, MT_ST_ERR_TILE, 0, 2);
  p[0] = 0;
  tp_expect(d, MT_OP_MVM, p, 5, MT_ST_ERR_STATE, 1, 0);
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  tp_expect(d, MT_OP_MVM, p, 5, MT_ST_ERR_STATE, 3, 0);
  assert_int_equal(tdev_fabricate(d, 3, 0), MT_ST_OK);
  struct {
    uint32_t nvec, nrows, ncols, word, value;
  } bad[] = {
    {0, 1, 1, 1, 0},      {257, 1, 1, 1, 257},   {0xFFFFFFFFu, 1, 1, 1, 0xFFFFFFFFu},
    {1, 0, 1, 2, 0},      {1, 129, 1, 2, 129},   {1, 1, 0, 3, 0},
    {1, 1, 129, 3, 129},  {0, 0, 0, 1, 0},
  };
  for (uint32_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    p[1] = bad[k].nvec, p[2] = bad[k].nrows, p[3] = bad[k].ncols;
    tp_expect(d, MT_OP_MVM, p, 5, MT_ST_ERR_RANGE, bad[k].word, bad[k].value);
  }
  p[1] = 2, p[2] = 5, p[3] = 3; /* 2 vectors of 3 words */
  tp_expect(d, MT_OP_MVM, p, 9, MT_ST_ERR_LENGTH, 9, 10);
  tp_expect(d, MT_OP_MVM, p, 11, MT_ST_ERR_LENGTH, 11, 10);
  tp_expect(d, MT_OP_MVM, p, 4, MT_ST_ERR_LENGTH, 4, 10);
  assert_int_equal(tdev_counter(d, MT_CNT_MVMS), 0);
  tp_expect_ok(d, MT_OP_MVM, p, 10);
  assert_int_equal(d->out_len, 4);
  p[1] = 256, p[2] = 1, p[3] = 128;
  tp_expect_ok(d, MT_OP_MVM, p, 4 + 256);
  assert_int_equal(d->out_len, 256 * 64);
  tdev_free(d);
}

static void err_meta_write_update(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 0, 0, 0);
  uint32_t p[16] = {0, 0, 1, 0, 1, 0};
  static const uint32_t ops[2] = {MT_OP_META_WRITE, MT_OP_META_UPDATE};
  for (uint32_t k = 0; k < 2; k++) {
    tp_expect(d, ops[k], p, 0, MT_ST_ERR_LENGTH, 0, 5);
    tp_expect(d, ops[k], p, 4, MT_ST_ERR_LENGTH, 4, 5);
    p[0] = 2;
    tp_expect(d, ops[k], p, 6, MT_ST_ERR_TILE, 0, 2);
    p[0] = 0;
    tp_expect(d, ops[k], p, 6, MT_ST_ERR_STATE, 1, 0);
  }
  uint32_t cfg[MT_CFG_COUNT];
  tdev_cfg_ideal(cfg);
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  for (uint32_t k = 0; k < 2; k++) tp_expect(d, ops[k], p, 6, MT_ST_ERR_STATE, 2, 0);
  assert_int_equal(tdev_levels_linear(d, 4, 1000, 2000, 1000, 0), MT_ST_OK);
  for (uint32_t k = 0; k < 2; k++) tp_expect(d, ops[k], p, 6, MT_ST_ERR_STATE, 3, 0);
  assert_int_equal(tdev_fabricate(d, 3, 0), MT_ST_OK);
  for (uint32_t k = 0; k < 2; k++) expect_region_errors(d, ops[k], p, 6);
  /* META_WRITE: 5 + n words, n = 2x2 */
  uint32_t w[10] = {0, 3, 2, 4, 2, 1, 2, 3, 4, 5};
  tp_expect(d, MT_OP_META_WRITE, w, 8, MT_ST_ERR_LENGTH, 8, 9);
  tp_expect(d, MT_OP_META_WRITE, w, 10, MT_ST_ERR_LENGTH, 10, 9);
  tp_expect(d, MT_OP_META_WRITE, w, 5, MT_ST_ERR_LENGTH, 5, 9);
  static const uint32_t bad_h[] = {0x40000000u, 0xC0000000u, 0x80000000u, 0x7FFFFFFFu};
  for (uint32_t k = 0; k < 4; k++) {
    w[7] = bad_h[k];
    tp_expect(d, MT_OP_META_WRITE, w, 9, MT_ST_ERR_RANGE, 7, bad_h[k]);
  }
  w[5] = 0x40000000u; /* first bad word wins */
  tp_expect(d, MT_OP_META_WRITE, w, 9, MT_ST_ERR_RANGE, 5, 0x40000000u);
  uint32_t mr[5] = {0, 3, 2, 4, 2};
  tp_expect_ok(d, MT_OP_META_READ, mr, 5);
  for (uint32_t k = 0; k < 4; k++) assert_int_equal(d->out[k], 0);
  w[5] = 0x3FFFFFFFu, w[6] = 0xC0000001u, w[7] = 0, w[8] = 0xFFFFFFFFu;
  tp_expect_ok(d, MT_OP_META_WRITE, w, 9);
  tp_expect_ok(d, MT_OP_META_READ, mr, 5);
  assert_memory_equal(d->out, w + 5, 4 * sizeof *w);
  /* META_UPDATE: 5 + ceil(n/2) words */
  uint32_t u[9] = {0, 3, 3, 4, 1, 0x00010001u, 0x00000001u, 0, 0};
  tp_expect(d, MT_OP_META_UPDATE, u, 6, MT_ST_ERR_LENGTH, 6, 7);
  tp_expect(d, MT_OP_META_UPDATE, u, 8, MT_ST_ERR_LENGTH, 8, 7);
  u[2] = 1, u[4] = 1;
  tp_expect(d, MT_OP_META_UPDATE, u, 5, MT_ST_ERR_LENGTH, 5, 6);
  tp_expect(d, MT_OP_META_UPDATE, u, 7, MT_ST_ERR_LENGTH, 7, 6);
  assert_int_equal(tdev_counter(d, MT_CNT_META_UPDATES), 0);
  tp_expect_ok(d, MT_OP_META_UPDATE, u, 6);
  assert_int_equal(d->out_len, 3);
  assert_int_equal(tdev_counter(d, MT_CNT_META_UPDATES), 1);
  tdev_free(d);
}

static void err_state_read(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 1, 1, 1);
  uint32_t p[5] = {0, 0, 0, 1, 0};
  tp_expect(d, MT_OP_STATE_READ, p, 3, MT_ST_ERR_LENGTH, 3, 4);
  tp_expect(d, MT_OP_STATE_READ, p, 5, MT_ST_ERR_LENGTH, 5, 4);
  struct {
    uint32_t sec, idx, off, cnt, status, word, value;
  } bad[] = {
    {2, 0, 0, 1, MT_ST_ERR_PARAM, 0, 2},
    {0xFFFFFFFFu, 99, 0, 0, MT_ST_ERR_PARAM, 0, 0xFFFFFFFFu},
    {0, 1, 0, 1, MT_ST_ERR_RANGE, 1, 1},
    {1, 2, 0, 1, MT_ST_ERR_TILE, 1, 2},
    {1, 0xFFFFFFFFu, 0, 1, MT_ST_ERR_TILE, 1, 0xFFFFFFFFu},
    {0, 0, TP_G_WORDS, 1, MT_ST_ERR_RANGE, 2, TP_G_WORDS},
    {1, 1, TP_TILE_WORDS, 1, MT_ST_ERR_RANGE, 2, TP_TILE_WORDS},
    {0, 0, 0, 0, MT_ST_ERR_RANGE, 3, 0},
    {1, 0, 0, 0, MT_ST_ERR_RANGE, 3, 0},
    {0, 0, 1000, TP_G_WORDS - 999, MT_ST_ERR_RANGE, 3, TP_G_WORDS - 999},
    {0, 0, 1, TP_G_WORDS, MT_ST_ERR_RANGE, 3, TP_G_WORDS},
    {1, 0, 0, MT_STATE_CHUNK + 1, MT_ST_ERR_RANGE, 3, MT_STATE_CHUNK + 1},
    {1, 0, TP_TILE_WORDS - 10, 11, MT_ST_ERR_RANGE, 3, 11},
    {1, 0, 5, 0xFFFFFFFFu, MT_ST_ERR_RANGE, 3, 0xFFFFFFFFu},
  };
  for (uint32_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    uint32_t q[4] = {bad[k].sec, bad[k].idx, bad[k].off, bad[k].cnt};
    tp_expect(d, MT_OP_STATE_READ, q, 4, bad[k].status, bad[k].word, bad[k].value);
  }
  uint32_t ok[][4] = {{0, 0, 1000, TP_G_WORDS - 1000}, {0, 0, 0, TP_G_WORDS}, {1, 1, 0, MT_STATE_CHUNK},
                      {1, 0, TP_TILE_WORDS - 10, 10}, {1, 1, TP_TILE_WORDS - 1, 1}};
  for (uint32_t k = 0; k < 5; k++) {
    tp_expect_ok(d, MT_OP_STATE_READ, ok[k], 4);
    assert_int_equal(d->out_len, ok[k][3]);
  }
  tdev_free(d);
}

static void err_state_write_framing(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 1, 1, 1);
  uint32_t *img = tp_snapshot(d);
  uint32_t *p = calloc(3 + MT_STATE_CHUNK + 16, sizeof *p);
  for (uint32_t len = 0; len < 4; len++)
    tp_expect(d, MT_OP_STATE_WRITE, p, len, MT_ST_ERR_LENGTH, len, 4);
  /* chunk checks, in the documented order */
  p[0] = 2;
  tp_expect(d, MT_OP_STATE_WRITE, p, 4, MT_ST_ERR_PARAM, 0, 2);
  p[0] = 0, p[1] = 1;
  tp_expect(d, MT_OP_STATE_WRITE, p, 4, MT_ST_ERR_RANGE, 1, 1);
  p[0] = 1, p[1] = 2;
  tp_expect(d, MT_OP_STATE_WRITE, p, 14, MT_ST_ERR_TILE, 1, 2);
  p[1] = 0, p[2] = TP_TILE_WORDS;
  tp_expect(d, MT_OP_STATE_WRITE, p, 14, MT_ST_ERR_RANGE, 2, TP_TILE_WORDS);
  p[2] = TP_TILE_WORDS - 11;
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + 22, MT_ST_ERR_RANGE, 3, 22);
  p[2] = 0;
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + MT_STATE_CHUNK + 11, MT_ST_ERR_RANGE, 3, MT_STATE_CHUNK + 11);
  p[0] = 0, p[2] = TP_G_WORDS;
  tp_expect(d, MT_OP_STATE_WRITE, p, 4, MT_ST_ERR_RANGE, 2, TP_G_WORDS);
  /* GLOBAL only whole */
  p[0] = 0, p[1] = 0, p[2] = 0;
  memcpy(p + 3, img, TP_G_WORDS * sizeof *p);
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS - 1, MT_ST_ERR_LENGTH, TP_G_WORDS - 1, TP_G_WORDS);
  tp_expect(d, MT_OP_STATE_WRITE, p, 4, MT_ST_ERR_LENGTH, 1, TP_G_WORDS);
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS + 1, MT_ST_ERR_RANGE, 3, TP_G_WORDS + 1);
  p[2] = 1;
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS - 1, MT_ST_ERR_LENGTH, TP_G_WORDS - 1, TP_G_WORDS);
  p[2] = 1000;
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + 39, MT_ST_ERR_LENGTH, 39, TP_G_WORDS);
  p[2] = 0;
  tp_expect_ok(d, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS);
  /* TILE whole records only */
  p[0] = 1, p[1] = 0;
  memcpy(p + 3, img + TP_G_WORDS + 55, 33 * sizeof *p);
  p[2] = 50;
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + 33, MT_ST_ERR_RANGE, 2, 50);
  p[2] = 56;
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + 33, MT_ST_ERR_RANGE, 2, 56);
  p[2] = 55;
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + 32, MT_ST_ERR_LENGTH, 32, MT_WEIGHT_WORDS);
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + 1, MT_ST_ERR_LENGTH, 1, MT_WEIGHT_WORDS);
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + 12, MT_ST_ERR_LENGTH, 12, MT_WEIGHT_WORDS);
  tp_expect_ok(d, MT_OP_STATE_WRITE, p, 3 + 33);
  uint32_t *now = tp_snapshot(d);
  tp_assert_image_equal(img, now, 2);
  free(now);
  free(p);
  free(img);
  tdev_free(d);
}

static void err_state_write_global_invariants(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 1, 1, 1);
  uint32_t *img = tp_snapshot(d);
  uint32_t *p = calloc(3 + TP_G_WORDS, sizeof *p);
  uint32_t *g = p + 3;
#define RESET_G() memcpy(g, img, TP_G_WORDS * sizeof *g)
#define BAD_G(word, value)                                                                   \
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS, MT_ST_ERR_SNAPSHOT, word, value); \
  RESET_G()
  RESET_G();
  g[TP_G_VERSION] = 0x00010000u; /* 1.0: the CONFIGURE fields before the unit's parameters */
  BAD_G(TP_G_VERSION, 0x00010000u);
  g[TP_G_VERSION] = 0x00010000u + MT_PROTO_MINOR + 1u; /* a newer minor */
  BAD_G(TP_G_VERSION, 0x00010000u + MT_PROTO_MINOR + 1u);
  g[TP_G_VERSION] = 0x00020000u;
  BAD_G(TP_G_VERSION, 0x00020000u);
  g[TP_G_CONFIGURED] = 2;
  BAD_G(TP_G_CONFIGURED, 2);
  g[TP_G_CFG + MT_CFG_DAC_BITS] = 1;
  BAD_G(TP_G_CFG + MT_CFG_DAC_BITS, 1);
  g[TP_G_CFG + MT_CFG_ADC_SHIFT] = 63;
  BAD_G(TP_G_CFG + MT_CFG_ADC_SHIFT, 63);
  g[TP_G_CFG + MT_CFG_META_PROG_MODE] = 2;
  BAD_G(TP_G_CFG + MT_CFG_META_PROG_MODE, 2);
  g[TP_G_CFG + MT_CFG_G_MIN] = g[TP_G_CFG + MT_CFG_G_MAX];
  BAD_G(TP_G_CFG + MT_CFG_G_MAX, img[TP_G_CFG + MT_CFG_G_MAX]);
  g[TP_G_CFG + MT_CFG_P_STUCK_LOW] = 0xFFFFFFFFu;
  g[TP_G_CFG + MT_CFG_P_STUCK_HIGH] = 1;
  BAD_G(TP_G_CFG + MT_CFG_P_STUCK_HIGH, 1);
  g[TP_G_LEVELS] = 1;
  BAD_G(TP_G_LEVELS, 1);
  g[TP_G_LEVELS] = 257;
  BAD_G(TP_G_LEVELS, 257);
  g[TP_G_LEVEL_TABLE + 3 * 200 + 2] = 0x10000u; /* an entry beyond L is still checked */
  BAD_G(TP_G_LEVEL_TABLE + 3 * 200 + 2, 0x10000u);
  g[TP_G_LEVEL_TABLE + 2] = 0xFFFFFFFFu;
  BAD_G(TP_G_LEVEL_TABLE + 2, 0xFFFFFFFFu);
  /* pulse indices as SET_LEVELS bounds them, in every entry, before that entry's sigma */
  g[TP_G_LEVEL_TABLE + 3 * 200 + 1] = (MT_MAX_PULSE_INDEX + 1u) << 16;
  BAD_G(TP_G_LEVEL_TABLE + 3 * 200 + 1, (MT_MAX_PULSE_INDEX + 1u) << 16);
  g[TP_G_LEVEL_TABLE + 3 * 5 + 1] = MT_MAX_PULSE_INDEX + 1u;
  g[TP_G_LEVEL_TABLE + 3 * 5 + 2] = 0x10000u;
  BAD_G(TP_G_LEVEL_TABLE + 3 * 5 + 1, MT_MAX_PULSE_INDEX + 1u);
  memset(g + TP_G_LANES + 4 * 7, 0, 4 * sizeof *g);
  BAD_G(TP_G_LANES + 4 * 7, 0);
  memset(g + TP_G_LANES + 4 * 15, 0, 4 * sizeof *g);
  BAD_G(TP_G_LANES + 4 * 15, 0);
  g[TP_G_FABRICATED] |= 1u << 2; /* 2 tiles */
  BAD_G(TP_G_FABRICATED, img[TP_G_FABRICATED] | 4u);
  g[TP_G_FABRICATED + 1] = 0x80000000u;
  BAD_G(TP_G_FABRICATED + 1, 0x80000000u);
  /* the first violation in image order is reported */
  g[TP_G_LEVELS] = 300;
  g[TP_G_CONFIGURED] = 5;
  BAD_G(TP_G_CONFIGURED, 5);
  uint32_t *now = tp_snapshot(d);
  tp_assert_image_equal(img, now, 2); /* nothing written by any of them */
  free(now);
  /* accepted: configured 0 with junk configuration, L 0, L 256, one non-zero lane word,
   * any f_meta table, seed, counters */
  g[TP_G_CONFIGURED] = 0;
  g[TP_G_CFG + MT_CFG_DAC_BITS] = 99;
  g[TP_G_LEVELS] = 0;
  memset(g + TP_G_LANES, 0, 4 * sizeof *g);
  g[TP_G_LANES + 3] = 1;
  g[TP_G_META] = 0;
  g[TP_G_COUNTERS + 5] = 0xFFFFFFFFu;
  tp_expect_ok(d, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS);
  uint32_t rd[4] = {0, 0, 0, TP_G_WORDS};
  tp_expect_ok(d, MT_OP_STATE_READ, rd, 4);
  assert_memory_equal(d->out, g, TP_G_WORDS * sizeof *g);
  uint32_t f[3] = {1, 0, 0};
  tp_expect(d, MT_OP_FABRICATE, f, 3, MT_ST_ERR_STATE, 1, 0);
  RESET_G();
  g[TP_G_LEVELS] = 256;
  tp_expect_ok(d, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS);
#undef BAD_G
#undef RESET_G
  free(p);
  free(img);
  tdev_free(d);
}

static void err_state_write_tile_invariants(void **state) {
  (void)state;
  tdev_t *d = dev_new(2, 1, 1, 1);
  uint32_t *img = tp_snapshot(d);
  const uint32_t *t0 = img + TP_G_WORDS;
  const uint32_t off = 11 * 50;
  uint32_t p[3 + 33] = {MT_SECTION_TILE, 0, off};
  uint32_t *r = p + 3 + 11; /* the second record of the chunk */
#define RESET_T() memcpy(p + 3, t0 + off, 33 * sizeof *p)
#define BAD_T(word, value)                                                            \
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + 33, MT_ST_ERR_SNAPSHOT, off + 11 + (word), value); \
  RESET_T()
  RESET_T();
  uint32_t gp = r[0] & 0xFFFFu, gm = r[0] >> 16;
  uint32_t gminp = r[1] & 0xFFFFu, gmaxp = r[1] >> 16, gminm = r[2] & 0xFFFFu, gmaxm = r[2] >> 16;
  assert_int_equal(gp, 1000); /* ideal device: at gmin after fabrication */
  assert_int_equal(gminp, 1000);
  assert_int_equal(gmaxm, 65000);
  r[0] = (gminp - 1) | gm << 16;
  BAD_T(0, r[0]);
  r[0] = (gmaxp + 1) | gm << 16;
  BAD_T(0, r[0]);
  r[0] = gp | (gminm - 1) << 16;
  BAD_T(0, r[0]);
  r[0] = gp | (gmaxm + 1) << 16;
  BAD_T(0, r[0]);
  r[1] = 5000 | 4000u << 16;
  BAD_T(1, r[1]);
  r[2] = 5000 | 4000u << 16;
  BAD_T(2, r[2]);
  r[9] = (r[9] & ~0xFFu) | 4;
  BAD_T(9, r[9]);
  r[9] = (r[9] & ~0xFF00u) | 4u << 8;
  BAD_T(9, r[9]);
  static const uint32_t bad_level[] = {256, 300, 65534};
  for (uint32_t k = 0; k < 3; k++) {
    r[9] = (r[9] & 0xFFFFu) | bad_level[k] << 16;
    BAD_T(9, r[9]);
  }
  static const uint32_t bad_h[] = {0x40000000u, 0xC0000000u, 0x80000000u, 0x7FFFFFFFu};
  for (uint32_t k = 0; k < 4; k++) {
    r[10] = bad_h[k];
    BAD_T(10, r[10]);
  }
  /* first bad word of the chunk wins, and a valid record before it is not written */
  p[3 + 7] = 12345;          /* record 0: a valid change (pulse count) */
  p[3 + 22 + 10] = 0x40000000u; /* record 2 */
  r[9] = (r[9] & 0xFFFFu) | 300u << 16;
  tp_expect(d, MT_OP_STATE_WRITE, p, 3 + 33, MT_ST_ERR_SNAPSHOT, off + 11 + 9, r[9]);
  RESET_T();
  uint32_t *now = tp_snapshot(d);
  tp_assert_image_equal(img, now, 2);
  free(now);
  /* accepted boundaries */
  r[0] = gminp | gmaxm << 16;
  r[1] = gminp | gminp << 16; /* gmin = gmax = g */
  r[9] = 3 | 3u << 8 | 255u << 16;
  r[10] = 0x3FFFFFFFu;
  p[3 + 9] = (p[3 + 9] & 0xFFFFu) | MT_LEVEL_NONE << 16;
  p[3 + 22 + 10] = 0xC0000001u;
  tp_expect_ok(d, MT_OP_STATE_WRITE, p, 3 + 33);
  uint32_t rd[4] = {MT_SECTION_TILE, 0, off, 33};
  tp_expect_ok(d, MT_OP_STATE_READ, rd, 4);
  assert_memory_equal(d->out, p + 3, 33 * sizeof *p);
#undef BAD_T
#undef RESET_T
  free(img);
  tdev_free(d);
}

/* ----------------------------------------- rejected commands change nothing */

typedef struct {
  tdev_t *d;
  uint32_t *img;
  tp_raw_t *raw;
  tp_buf_t b;
  uint32_t cases;
} unchanged_ctx_t;

/* Sends the one command in u->b with the given response capacity, expects the
 * status, and checks that the full image and the raw memory are unchanged. */
static void expect_unchanged_at(const char *file, int line, unchanged_ctx_t *u, uint32_t rsp_cap,
                                uint32_t want) {
  uint32_t consumed, n = tp_kernel(u->d, u->b.w, u->b.n, u->d->rsp, rsp_cap, &consumed);
  if (n < 2 || tp_st(u->d->rsp[0]) != want)
    print_error("case %u (op %u): status %u, want %u\n", u->cases, u->b.w[0] >> 24,
                n >= 2 ? tp_st(u->d->rsp[0]) : 0xFFFFu, want);
  TP_EQ(n, 4, file, line);
  TP_EQ(tp_st(u->d->rsp[0]), want, file, line);
  tp_check_stream_at(file, line, u->b.w, u->b.n, u->d->rsp, n, rsp_cap, consumed);
  uint32_t *now = tp_snapshot(u->d);
  long at = tp_image_diff(u->img, now, tp_image_words(u->d->n_tiles));
  if (at >= 0) print_error("case %u (op %u): image word %ld changed\n", u->cases, u->b.w[0] >> 24, at);
  TP_EQ(at, -1, file, line);
  TP_EQ(tp_raw_equal(u->d, u->raw), 1, file, line);
  free(now);
  u->b.n = 0;
  u->cases++;
}
#define expect_unchanged(u, cap, want) expect_unchanged_at(__FILE__, __LINE__, u, cap, want)

static void rejected_commands_leave_state_unchanged(void **state) {
  (void)state;
  unchanged_ctx_t u = {0};
  u.d = tp_noisy_device(2, 2, 42);
  tdev_t *d = u.d;
  tp_rng_t r = {4242};
  u.img = tp_snapshot(d);
  u.raw = tp_raw_save(d);
  /* sanity: the device really is noisy, programmed, counting */
  assert_true(tdev_counter(d, MT_CNT_CELLS_PROGRAMMED) > 100);
  assert_true(tdev_counter(d, MT_CNT_META_ATTENUATED) > 0);
  assert_true(tdev_counter(d, MT_CNT_ENERGY_FJ) > 0);
  tp_buf_init(&u.b, MT_MAX_PAYLOAD + 64);
  uint32_t *p = calloc(MT_MAX_PAYLOAD + 1, sizeof *p);
  const uint32_t BIG = TDEV_RSP_CAP;

  /* framing */
  tp_put(&u.b, 0x30, 1, p, 3);
  expect_unchanged(&u, BIG, MT_ST_ERR_OPCODE);
  uint32_t cfg[MT_CFG_COUNT];
  tp_cfg_noisy(cfg);
  cfg[MT_CFG_READ_MODE] = 2;
  tp_put(&u.b, MT_OP_CONFIGURE, 1, cfg, MT_CFG_COUNT);
  u.b.n -= 30;
  expect_unchanged(&u, BIG, MT_ST_ERR_TRUNCATED);
  tp_put(&u.b, MT_OP_STATS_RESET, 1, p, MT_MAX_PAYLOAD + 1);
  expect_unchanged(&u, BIG, MT_ST_ERR_LENGTH);
  /* INFO, ECHO */
  tp_put(&u.b, MT_OP_INFO, 1, p, 1);
  expect_unchanged(&u, BIG, MT_ST_ERR_LENGTH);
  tp_put(&u.b, MT_OP_ECHO, 1, p, 20);
  expect_unchanged(&u, 10, MT_ST_ERR_OVERFLOW);
  /* CONFIGURE: a different, valid-looking set with its last field bad */
  cfg[MT_CFG_META_PROG_MODE] = 2;
  tp_put(&u.b, MT_OP_CONFIGURE, 1, cfg, MT_CFG_COUNT);
  expect_unchanged(&u, BIG, MT_ST_ERR_PARAM);
  cfg[MT_CFG_META_PROG_MODE] = 1;
  cfg[MT_CFG_P_STUCK_LOW] = cfg[MT_CFG_P_STUCK_HIGH] = 0x80000000u;
  tp_put(&u.b, MT_OP_CONFIGURE, 1, cfg, MT_CFG_COUNT);
  expect_unchanged(&u, BIG, MT_ST_ERR_PARAM);
  /* SEED */
  tp_put(&u.b, MT_OP_SEED, 1, p, 3);
  expect_unchanged(&u, BIG, MT_ST_ERR_LENGTH);
  /* SET_LEVELS: a full new table whose last sigma is bad */
  uint32_t lv[1 + 16 * 3];
  lv[0] = 16;
  for (uint32_t q = 0; q < 16; q++) {
    lv[1 + 3 * q] = (3000 + 100 * q) | (3000u + 50 * q) << 16;
    lv[2 + 3 * q] = q | q << 16;
    lv[3 + 3 * q] = 7;
  }
  lv[3 * 16] = 0x10000u;
  tp_put(&u.b, MT_OP_SET_LEVELS, 1, lv, 1 + 16 * 3);
  expect_unchanged(&u, BIG, MT_ST_ERR_PARAM);
  /* META_TABLE */
  tp_put(&u.b, MT_OP_META_TABLE, 1, p, 127);
  expect_unchanged(&u, BIG, MT_ST_ERR_LENGTH);
  /* FABRICATE */
  uint32_t fab[3] = {1, 2, 2};
  tp_put(&u.b, MT_OP_FABRICATE, 1, fab, 3);
  expect_unchanged(&u, BIG, MT_ST_ERR_TILE);
  /* PROGRAM: 100 good entries (FORCE, so all would program) and a bad last one */
  uint32_t pe[2 + 101] = {1, MT_PROG_FORCE};
  for (uint32_t k = 0; k < 100; k++)
    pe[2 + k] = tdev_entry(tp_below(&r, MT_ROWS), tp_below(&r, MT_COLS), tp_below(&r, TP_NOISY_LEVELS));
  pe[2 + 100] = tdev_entry(3, 3, TP_NOISY_LEVELS);
  tp_put(&u.b, MT_OP_PROGRAM, 1, pe, 103);
  expect_unchanged(&u, BIG, MT_ST_ERR_LEVEL);
  pe[2 + 100] = tdev_entry(3, 200, 0);
  tp_put(&u.b, MT_OP_PROGRAM, 1, pe, 103);
  expect_unchanged(&u, BIG, MT_ST_ERR_RANGE);
  pe[1] = 4;
  tp_put(&u.b, MT_OP_PROGRAM, 1, pe, 102);
  expect_unchanged(&u, BIG, MT_ST_ERR_PARAM);
  pe[1] = MT_PROG_FORCE;
  tp_put(&u.b, MT_OP_PROGRAM, 1, pe, 102);
  expect_unchanged(&u, 4, MT_ST_ERR_OVERFLOW);
  /* PULSE */
  uint32_t pu[1 + 51] = {0};
  for (uint32_t k = 0; k < 50; k++)
    pu[1 + k] = tdev_pulse_entry(tp_below(&r, MT_ROWS), tp_below(&r, MT_COLS), k & 1, 30);
  pu[51] = tdev_pulse_entry(0, 128, 0, 1);
  tp_put(&u.b, MT_OP_PULSE, 1, pu, 52);
  expect_unchanged(&u, BIG, MT_ST_ERR_RANGE);
  /* READ_CELLS */
  uint32_t rc[6] = {0, 0, 8, 0, 8, 2};
  tp_put(&u.b, MT_OP_READ_CELLS, 1, rc, 6);
  expect_unchanged(&u, BIG, MT_ST_ERR_PARAM);
  rc[5] = 0;
  tp_put(&u.b, MT_OP_READ_CELLS, 1, rc, 6);
  expect_unchanged(&u, 2 + 63, MT_ST_ERR_OVERFLOW);
  /* READ_LEVELS */
  uint32_t rl[5] = {1, 0, 129, 0, 1};
  tp_put(&u.b, MT_OP_READ_LEVELS, 1, rl, 5);
  expect_unchanged(&u, BIG, MT_ST_ERR_RANGE);
  /* MVM */
  uint32_t mv[4 + 4 * 64] = {1, 4, 128, 128};
  for (uint32_t k = 0; k < 4 * 64; k++) mv[4 + k] = tp_u32(&r);
  tp_put(&u.b, MT_OP_MVM, 1, mv, 4 + 4 * 64 - 1);
  expect_unchanged(&u, BIG, MT_ST_ERR_LENGTH);
  tp_put(&u.b, MT_OP_MVM, 1, mv, 4 + 4 * 64);
  expect_unchanged(&u, 2 + 4 * 64 - 1, MT_ST_ERR_OVERFLOW);
  /* META_WRITE: a whole region, last value out of range; and overflow */
  uint32_t mw[5 + 16 * 16] = {0, 50, 16, 60, 16};
  for (uint32_t k = 0; k < 256; k++) mw[5 + k] = (uint32_t)((int32_t)tp_below(&r, 1u << 20) - (1 << 19));
  mw[5 + 255] = 0x40000000u;
  tp_put(&u.b, MT_OP_META_WRITE, 1, mw, 5 + 256);
  expect_unchanged(&u, BIG, MT_ST_ERR_RANGE);
  mw[5 + 255] = 0;
  tp_put(&u.b, MT_OP_META_WRITE, 1, mw, 5 + 256);
  expect_unchanged(&u, 4, MT_ST_ERR_OVERFLOW);
  /* META_UPDATE on the region the workload wrote (tile 0 rows 40.., cols 3..) */
  uint32_t mu[5 + 64] = {0, 40, 8, 3, 16};
  for (uint32_t k = 0; k < 64; k++) mu[5 + k] = tp_u32(&r);
  tp_put(&u.b, MT_OP_META_UPDATE, 1, mu, 5 + 63);
  expect_unchanged(&u, BIG, MT_ST_ERR_LENGTH);
  tp_put(&u.b, MT_OP_META_UPDATE, 1, mu, 5 + 64);
  expect_unchanged(&u, 4, MT_ST_ERR_OVERFLOW);
  /* META_READ */
  uint32_t mr[5] = {2, 0, 1, 0, 1};
  tp_put(&u.b, MT_OP_META_READ, 1, mr, 5);
  expect_unchanged(&u, BIG, MT_ST_ERR_TILE);
  /* STATS */
  tp_put(&u.b, MT_OP_STATS_GET, 1, p, 1);
  expect_unchanged(&u, BIG, MT_ST_ERR_LENGTH);
  tp_put(&u.b, MT_OP_STATS_GET, 1, NULL, 0);
  expect_unchanged(&u, 2 + 31, MT_ST_ERR_OVERFLOW);
  tp_put(&u.b, MT_OP_STATS_RESET, 1, p, 1);
  expect_unchanged(&u, BIG, MT_ST_ERR_LENGTH);
  /* STATE_READ */
  uint32_t sr[4] = {1, 0, 0, MT_STATE_CHUNK + 1};
  tp_put(&u.b, MT_OP_STATE_READ, 1, sr, 4);
  expect_unchanged(&u, BIG, MT_ST_ERR_RANGE);
  sr[3] = 200;
  tp_put(&u.b, MT_OP_STATE_READ, 1, sr, 4);
  expect_unchanged(&u, 100, MT_ST_ERR_OVERFLOW);
  /* STATE_WRITE GLOBAL: a genuinely different image (fresh device) whose only
   * fault is the last invariant checked, a fabricated bit beyond the tile count */
  tdev_t *other = dev_new(2, 1, 1, 0);
  uint32_t *oimg = tp_snapshot(other);
  uint32_t *sw = calloc(3 + TP_TILE_WRITE_CHUNK, sizeof *sw);
  memcpy(sw + 3, oimg, TP_G_WORDS * sizeof *sw);
  sw[3 + TP_G_FABRICATED + 1] = 0x80000000u;
  tp_put(&u.b, MT_OP_STATE_WRITE, 1, sw, 3 + TP_G_WORDS);
  expect_unchanged(&u, BIG, MT_ST_ERR_SNAPSHOT);
  /* STATE_WRITE TILE: tile 1's first 1489 records into tile 0, the last one bad */
  sw[0] = MT_SECTION_TILE, sw[1] = 0, sw[2] = 0;
  memcpy(sw + 3, u.img + TP_G_WORDS + TP_TILE_WORDS, TP_TILE_WRITE_CHUNK * sizeof *sw);
  sw[3 + TP_TILE_WRITE_CHUNK - 1] = 0x80000000u;
  tp_put(&u.b, MT_OP_STATE_WRITE, 1, sw, 3 + TP_TILE_WRITE_CHUNK);
  expect_unchanged(&u, BIG, MT_ST_ERR_SNAPSHOT);
  sw[2] = 11 * 7 + 1;
  tp_put(&u.b, MT_OP_STATE_WRITE, 1, sw, 3 + 22);
  expect_unchanged(&u, BIG, MT_ST_ERR_RANGE);
  sw[2] = 0;
  tp_put(&u.b, MT_OP_STATE_WRITE, 1, sw, 3 + 23);
  expect_unchanged(&u, BIG, MT_ST_ERR_LENGTH);
  assert_int_equal(u.cases, 35);
  free(sw);
  free(oimg);
  tdev_free(other);
  free(p);
  tp_buf_free(&u.b);
  tp_raw_free(u.raw);
  free(u.img);
  tdev_free(d);
}

/* --------------------------------------------------------------------- fuzz */

static const uint32_t boundary_words[] = {
  0, 1, 2, 3, 4, 7, 11, 127, 128, 129, 255, 256, 257, 1023, 1024, 1038, 1039, 16383, 16384,
  16385, 65535, 65536, 65537, 0x3FFFFFFFu, 0x40000000u, 0x7FFFFFFFu, 0x80000000u, 0xC0000000u,
  0xC0000001u, 0xFFFFFFFEu, 0xFFFFFFFFu,
};
#define N_BOUNDARY (sizeof boundary_words / sizeof boundary_words[0])

static uint32_t fuzz_word(tp_rng_t *r) {
  switch (tp_below(r, 4)) {
    case 0: return tp_u32(r);
    case 1: return tp_below(r, 300);
    case 2: return boundary_words[tp_below(r, N_BOUNDARY)];
    default: return tdev_entry(tp_below(r, 140), tp_below(r, 140), tp_below(r, 10)) | (tp_below(r, 2) << 7);
  }
}

/* Valid commands (on the fuzz device) that mutations start from. */
static void fuzz_templates(tdev_t *d, tp_buf_t *t, uint32_t *starts, uint32_t *n) {
  uint32_t k = 0, cfg[MT_CFG_COUNT];
#define T(op, p, len)                \
  do {                               \
    starts[k] = tp_put(t, op, k, p, len); \
    k++;                             \
  } while (0)
  uint32_t e3[3] = {1, 2, 3};
  T(MT_OP_NOP, e3, 2);
  T(MT_OP_INFO, NULL, 0);
  T(MT_OP_ECHO, e3, 3);
  tp_cfg_noisy(cfg);
  T(MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  T(MT_OP_SEED, e3, 2);
  uint32_t lv[1 + 4 * 3] = {4};
  for (uint32_t q = 0; q < 4; q++)
    lv[1 + 3 * q] = (2000 + 2000 * q) | 2000u << 16, lv[2 + 3 * q] = 2 * q, lv[3 + 3 * q] = 100;
  T(MT_OP_SET_LEVELS, lv, 13);
  uint32_t mt[128];
  uint16_t f[256];
  tp_meta_table_tanh(mt, 1.0, f);
  T(MT_OP_META_TABLE, mt, 128);
  uint32_t pr[6] = {0, 0, tdev_entry(1, 2, 3), tdev_entry(4, 5, 0), tdev_entry(127, 127, 7),
                    tdev_entry(9, 17, 2)};
  T(MT_OP_PROGRAM, pr, 6);
  pr[1] = MT_PROG_OPEN_LOOP;
  T(MT_OP_PROGRAM, pr, 6);
  uint32_t pu[4] = {0, tdev_pulse_entry(1, 1, 0, 5), tdev_pulse_entry(2, 100, 1, -7),
                    tdev_pulse_entry(127, 0, 0, 63)};
  T(MT_OP_PULSE, pu, 4);
  uint32_t rc[6] = {0, 3, 4, 5, 4, 0};
  T(MT_OP_READ_CELLS, rc, 6);
  rc[5] = 1;
  T(MT_OP_READ_CELLS, rc, 6);
  T(MT_OP_READ_LEVELS, rc, 5);
  uint32_t mv[4 + 8] = {0, 2, 8, 8, 0x00050003u, 0xFFF00001u, 0x7FFF8000u, 9, 1, 2, 3, 4};
  T(MT_OP_MVM, mv, 12);
  uint32_t mw[9] = {0, 10, 2, 20, 2, 0x10000, 0xFFFE0000u, 0x3FFFFFFF, 5};
  T(MT_OP_META_WRITE, mw, 9);
  uint32_t mu[8] = {0, 10, 2, 20, 3, 0x7FFF8000u, 0x00400040u, 0xFFC0FFC0u};
  T(MT_OP_META_UPDATE, mu, 8);
  T(MT_OP_META_READ, mu, 5);
  T(MT_OP_STATS_GET, NULL, 0);
  T(MT_OP_STATS_RESET, NULL, 0);
  uint32_t sr[4] = {0, 0, 900, 64};
  T(MT_OP_STATE_READ, sr, 4);
  sr[0] = 1, sr[2] = 110, sr[3] = 33;
  T(MT_OP_STATE_READ, sr, 4);
  uint32_t sw[3 + 44] = {1, 0, 11 * 300};
  tdev_run(d, MT_OP_STATE_READ, (uint32_t[]){1, 0, 11 * 300, 44}, 4);
  memcpy(sw + 3, d->out, 44 * sizeof *sw);
  T(MT_OP_STATE_WRITE, sw, 3 + 44);
  uint32_t *g = calloc(3 + TP_G_WORDS, sizeof *g);
  tdev_run(d, MT_OP_STATE_READ, (uint32_t[]){0, 0, 0, TP_G_WORDS}, 4);
  memcpy(g + 3, d->out, TP_G_WORDS * sizeof *g);
  T(MT_OP_STATE_WRITE, g, 3 + TP_G_WORDS);
  free(g);
  uint32_t fab[3] = {5, 6, 1};
  T(MT_OP_FABRICATE, fab, 3); /* keep last: it is expensive, the picker avoids it mostly */
#undef T
  *n = k;
}

#define FUZZ_ITERS 6000u

static void fuzz_random_buffers(void **state) {
  (void)state;
  tdev_t *d = tp_noisy_device(2, 1, 99); /* tile 1 stays unfabricated */
  tp_raw_t *base = tp_raw_save(d);
  tp_raw_t *before = tp_raw_save(d);
  tp_buf_t t;
  tp_buf_init(&t, 4096);
  uint32_t starts[64], n_t = 0;
  fuzz_templates(d, &t, starts, &n_t);
  tp_buf_t b;
  tp_buf_init(&b, MT_MAX_PAYLOAD + 4096);
  uint32_t *rsp = malloc(TDEV_RSP_CAP * sizeof *rsp);
  tp_rng_t r = {0xF022u};
  uint32_t ok = 0, rejected = 0, unchanged_checked = 0, statuses[MT_ST_COUNT] = {0};
  for (uint32_t it = 0; it < FUZZ_ITERS; it++) {
    if (it % 64 == 0)
      tp_raw_load(d, base);
    else
      d->regs = base->regs; /* keep configuration and tables sane between iterations */
    b.n = 0;
    uint32_t ncmd = tp_below(&r, 3) == 0 ? 1 + tp_below(&r, 6) : 1;
    for (uint32_t c = 0; c < ncmd; c++) {
      uint32_t kind = tp_below(&r, 100);
      if (kind < 50) { /* mutated template */
        uint32_t k = tp_below(&r, n_t);
        if (k == n_t - 1 && tp_below(&r, 8) != 0) k = 0; /* FABRICATE is rare */
        const uint32_t *src = t.w + starts[k];
        uint32_t len = src[1], at = b.n;
        if (b.n + 2 + len + 8 > b.cap) break;
        memcpy(b.w + b.n, src, (2 + len) * sizeof *src);
        b.n += 2 + len;
        uint32_t muts = 1 + tp_below(&r, 3);
        for (uint32_t m = 0; m < muts; m++) {
          uint32_t present = b.n - at; /* the length word itself may be mutated */
          uint32_t w = at + tp_below(&r, present);
          switch (tp_below(&r, 5)) {
            case 0: b.w[w] ^= 1u << tp_below(&r, 32); break;
            case 1: if (w != at + 1) b.w[w] = boundary_words[tp_below(&r, N_BOUNDARY)]; break;
            case 2: if (w != at + 1) b.w[w] = tp_u32(&r); break;
            case 3: /* one word more */
              b.w[b.n++] = fuzz_word(&r);
              b.w[at + 1]++;
              break;
            default: /* one word less */
              if (present > 2) b.w[at + 1]--, b.n--;
              break;
          }
        }
      } else if (kind < 90) { /* random command */
        uint32_t op = tp_below(&r, 10) == 0 ? tp_below(&r, 256) : tp_below(&r, 26);
        uint32_t len = tp_below(&r, 2) ? tp_below(&r, 8) : tp_below(&r, 80);
        if (b.n + 2 + len > b.cap) break;
        b.w[b.n++] = op << 24 | tp_below(&r, 256) << 16 | (tp_below(&r, 8) == 0 ? tp_u32(&r) & 0xFFFFu : 0);
        b.w[b.n++] = len;
        for (uint32_t i = 0; i < len; i++)
          b.w[b.n++] = i == 0 ? tp_below(&r, 3) : fuzz_word(&r); /* word 0 is a tile mostly */
      } else if (kind < 98) { /* cut short: header only, or a length past the end */
        b.w[b.n++] = tp_below(&r, 26) << 24 | tp_below(&r, 256) << 16;
        if (tp_below(&r, 2)) {
          b.w[b.n++] = 1 + tp_below(&r, 3) == 1 ? 0xFFFFFFFFu : 5 + tp_below(&r, 100);
          uint32_t have = tp_below(&r, 5);
          for (uint32_t i = 0; i < have; i++) b.w[b.n++] = fuzz_word(&r);
          if (b.w[b.n - 1 - have] <= have) b.w[b.n - 1 - have] = have + 1;
        }
        break; /* nothing can follow */
      } else { /* a length above MAX_PAYLOAD with the payload present */
        uint32_t len = MT_MAX_PAYLOAD + 1 + tp_below(&r, 3);
        if (b.n + 2 + len > b.cap) break;
        b.w[b.n++] = tp_below(&r, 26) << 24;
        b.w[b.n++] = len;
        memset(b.w + b.n, 0, len * sizeof *b.w);
        b.n += len;
      }
    }
    uint32_t cap_kind = tp_below(&r, 10), cap;
    if (cap_kind < 7)
      cap = TDEV_RSP_CAP;
    else if (cap_kind < 9)
      cap = tp_below(&r, 40);
    else
      cap = tp_below(&r, TDEV_RSP_CAP);
    int check = ncmd == 1 && it % 2 == 0;
    if (check) {
      before->regs = d->regs;
      memcpy(before->tiles, d->tiles, d->n_tiles * sizeof *d->tiles);
    }
    uint32_t consumed, n = tp_kernel(d, b.w, b.n, rsp, cap, &consumed);
    uint32_t nr = tp_check_stream(b.w, b.n, rsp, n, cap, consumed);
    for (uint32_t w = 0; w < n; w += 2 + rsp[w + 1]) {
      statuses[tp_st(rsp[w])]++;
      if (tp_st(rsp[w]) == MT_ST_OK) ok++; else rejected++;
    }
    if (check && nr == 1 && tp_st(rsp[0]) != MT_ST_OK) {
      if (!tp_raw_equal(d, before))
        print_error("fuzz iteration %u: rejected op %u (status %u) changed the state\n", it,
                    b.w[0] >> 24, tp_st(rsp[0]));
      assert_true(tp_raw_equal(d, before));
      unchanged_checked++;
    }
  }
  if (getenv("TP_VERBOSE")) {
    printf("fuzz: ok %u rejected %u unchanged-checked %u; by status:", ok, rejected, unchanged_checked);
    for (uint32_t s = 0; s < MT_ST_COUNT; s++) printf(" %u", statuses[s]);
    printf("\n");
  }
  /* the fuzz reached both sides of most checks */
  assert_true(ok > FUZZ_ITERS / 4);
  assert_true(unchanged_checked > FUZZ_ITERS / 10);
  for (uint32_t s = 0; s < MT_ST_COUNT; s++) {
    if (statuses[s] == 0) print_error("fuzz never produced status %u\n", s);
    assert_true(statuses[s] > 0);
  }
  free(rsp);
  tp_buf_free(&b);
  tp_buf_free(&t);
  tp_raw_free(before);
  tp_raw_free(base);
  tdev_free(d);
}

/* Every field at its max (or min), then the heaviest arithmetic each opcode has:
 * full-array MVMs with extreme inputs in every read mode, programs, pulses, meta
 * updates with the largest shift. The sanitizers watch for overflow. */
static void extreme_configurations_stay_defined(void **state) {
  (void)state;
  for (uint32_t variant = 0; variant < 3; variant++) {
    tdev_t *d = tdev_new(1);
    uint32_t cfg[MT_CFG_COUNT];
    for (uint32_t i = 0; i < MT_CFG_COUNT; i++) cfg[i] = variant == 1 ? cfg_min[i] : cfg_max(i);
    cfg[MT_CFG_G_MIN] = 0;
    cfg[MT_CFG_G_MAX] = variant == 1 ? 1 : 65535;
    cfg[MT_CFG_P_STUCK_LOW] = variant == 2 ? 0x40000000u : 0;
    cfg[MT_CFG_P_STUCK_HIGH] = variant == 2 ? 0x40000000u : 0;
    cfg[MT_CFG_ENDURANCE] = variant == 2 ? 50 : 0;
    cfg[MT_CFG_ADC_SHIFT] = variant == 0 ? 0 : cfg[MT_CFG_ADC_SHIFT];
    cfg[MT_CFG_WV_MAX_ITER] = variant == 1 ? 1 : 20;
    for (uint32_t mode = 0; mode < 3; mode++) {
      cfg[MT_CFG_READ_MODE] = mode;
      cfg[MT_CFG_META_PROG_MODE] = mode & 1;
      tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
      if (mode == 0) {
        assert_int_equal(tdev_fabricate(d, 0xFFFFFFFFFFFFFFFFull, 0), MT_ST_OK);
        uint32_t lv[1 + 256 * 3];
        lv[0] = 256;
        for (uint32_t q = 0; q < 256; q++) {
          lv[1 + 3 * q] = (q * 257u) | (65535u - q * 257u) << 16;
          lv[2 + 3 * q] = (q * 3u) | (q == 255 ? MT_MAX_PULSE_INDEX : 0u) << 16;
          lv[3 + 3 * q] = 0xFFFFu;
        }
        tp_expect_ok(d, MT_OP_SET_LEVELS, lv, 1 + 256 * 3);
      }
      uint32_t pr[2 + 8] = {0, mode == 2 ? MT_PROG_FORCE : MT_PROG_OPEN_LOOP | MT_PROG_FORCE};
      for (uint32_t k = 0; k < 8; k++) pr[2 + k] = tdev_entry(k * 17, 127 - k * 9, k & 1 ? 255 : 0);
      tp_expect_ok(d, MT_OP_PROGRAM, pr, 10);
      uint32_t pu[3] = {0, tdev_pulse_entry(0, 0, 0, 63), tdev_pulse_entry(127, 127, 1, -64)};
      tp_expect_ok(d, MT_OP_PULSE, pu, 3);
      static uint32_t mv[4 + 4 * 64];
      mv[0] = 0, mv[1] = 4, mv[2] = 128, mv[3] = 128;
      for (uint32_t k = 0; k < 4 * 64; k++)
        mv[4 + k] = k < 64 ? 0x80008000u : (k < 128 ? 0x7FFF7FFFu : (k < 192 ? 0x7FFF8000u : k * 2654435761u));
      tp_expect_ok(d, MT_OP_MVM, mv, 4 + 4 * 64);
      uint32_t rc[6] = {0, 0, 128, 0, 128, 0};
      tp_expect_ok(d, MT_OP_READ_CELLS, rc, 6);
      uint32_t mw[5 + 4] = {0, 0, 2, 126, 2, 0x3FFFFFFFu, 0xC0000001u, 0, 0xFFFFFFFFu};
      tp_expect_ok(d, MT_OP_META_WRITE, mw, 9);
      uint32_t mu[5 + 2] = {0, 0, 2, 126, 2, 0x80007FFFu, 0x7FFF8000u};
      tp_expect_ok(d, MT_OP_META_UPDATE, mu, 7);
      tp_expect_ok(d, MT_OP_META_UPDATE, mu, 7);
      tp_expect_ok(d, MT_OP_STATS_GET, NULL, 0);
    }
    uint32_t *img = tp_snapshot(d); /* whatever happened is a valid image */
    tdev_t *e = tdev_new(1);
    tp_restore(e, img);
    free(img);
    tdev_free(e);
    tdev_free(d);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(framing_responses_in_order_with_tags),
    cmocka_unit_test(framing_echo_max_payload),
    cmocka_unit_test(framing_unknown_opcode_skips_payload),
    cmocka_unit_test(framing_truncated_header),
    cmocka_unit_test(framing_truncated_payload),
    cmocka_unit_test(framing_length_above_max_payload),
    cmocka_unit_test(framing_overflow_not_executed),
    cmocka_unit_test(framing_tiny_response_buffer),
    cmocka_unit_test(err_info_seed_stats),
    cmocka_unit_test(err_configure),
    cmocka_unit_test(err_set_levels_meta_table),
    cmocka_unit_test(err_fabricate),
    cmocka_unit_test(err_program),
    cmocka_unit_test(err_pulse),
    cmocka_unit_test(err_read_cells),
    cmocka_unit_test(err_read_list),
    cmocka_unit_test(read_list_is_read_cells_scattered),
    cmocka_unit_test(read_list_overflow_not_executed),
    cmocka_unit_test(err_read_levels_meta_read),
    cmocka_unit_test(err_mvm),
    cmocka_unit_test(err_meta_write_update),
    cmocka_unit_test(err_state_read),
    cmocka_unit_test(err_state_write_framing),
    cmocka_unit_test(err_state_write_global_invariants),
    cmocka_unit_test(err_state_write_tile_invariants),
    cmocka_unit_test(rejected_commands_leave_state_unchanged),
    cmocka_unit_test(fuzz_random_buffers),
    cmocka_unit_test(extreme_configurations_stay_defined),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
