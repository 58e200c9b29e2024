/* Link framing (host/src/mt_frame.c) against docs/protocol.md, "Link framing": the byte layout
 * and CRC (checked with an independent bitwise CRC-32), and the receiver on corrupted,
 * duplicated, reordered, truncated and garbage-surrounded streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mt_frame.h"
#include "mt_protocol.h"

#define MAXLEN 64u

/* CRC-32/IEEE bit by bit (reflected 0xEDB88320, init and final xor all ones). */
static uint32_t crc_ref(const uint8_t *b, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= b[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

static uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void layout_and_crc(void **state) {
  (void)state;
  uint8_t check[] = "123456789";
  assert_int_equal(crc_ref(check, 9), 0xCBF43926u); /* the reference value of CRC-32 */
  const uint32_t pay[3] = {0x01020304u, 0xDEADBEEFu, 7};
  uint8_t b[MT_FRAME_BYTES(3)];
  assert_int_equal(mt_frame_encode(MT_FRAME_KIND_CMD, 0x12345u, pay, 3, b), sizeof b);
  assert_memory_equal(b, "MTF1", 4);
  assert_int_equal(le32(b + 4), 1u << 24 | 0x2345u); /* seq keeps 16 bits */
  assert_int_equal(le32(b + 8), 3);
  assert_int_equal(b[12], 0x04);
  assert_int_equal(le32(b + 16), 0xDEADBEEFu);
  assert_int_equal(le32(b + 24), crc_ref(b, 24));
}

static mt_frame_rx *rx_new(void) {
  mt_frame_rx *rx = mt_frame_rx_new(MAXLEN);
  assert_non_null(rx);
  return rx;
}

static size_t enc(uint8_t *out, uint32_t kind, uint32_t seq, uint32_t len) {
  uint32_t pay[MAXLEN];
  for (uint32_t i = 0; i < len; i++) pay[i] = seq * 1000u + i;
  return mt_frame_encode(kind, seq, pay, len, out);
}

static void expect_frame(mt_frame_rx *rx, uint32_t kind, uint32_t seq, uint32_t len) {
  mt_frame f;
  assert_int_equal(mt_frame_rx_next(rx, &f), 1);
  assert_int_equal(f.kind, kind);
  assert_int_equal(f.seq, seq);
  assert_int_equal(f.len, len);
  for (uint32_t i = 0; i < len; i++) assert_int_equal(f.payload[i], seq * 1000u + i);
}

static void expect_none(mt_frame_rx *rx) {
  mt_frame f;
  assert_int_equal(mt_frame_rx_next(rx, &f), 0);
}

/* Frames fed a byte at a time come out whole, in order, duplicates and reordering included
 * (the receiver reports what arrived; the link decides what is stale). */
static void stream_dup_reorder_bytewise(void **state) {
  (void)state;
  mt_frame_rx *rx = rx_new();
  uint8_t b[4 * MT_FRAME_BYTES(MAXLEN)];
  size_t n = 0;
  n += enc(b + n, MT_FRAME_KIND_RSP, 5, 4);
  n += enc(b + n, MT_FRAME_KIND_RSP, 5, 4);  /* duplicate */
  n += enc(b + n, MT_FRAME_KIND_RSP, 7, 0);  /* reordered: 7 before 6 */
  n += enc(b + n, MT_FRAME_KIND_SYNC_ACK, 6, MAXLEN);
  int got = 0;
  const uint32_t seqs[4] = {5, 5, 7, 6}, lens[4] = {4, 4, 0, MAXLEN};
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(mt_frame_rx_push(rx, b + i, 1), 1);
    mt_frame f;
    if (mt_frame_rx_next(rx, &f)) {
      assert_true(got < 4);
      assert_int_equal(f.seq, seqs[got]);
      assert_int_equal(f.len, lens[got]);
      got++;
    }
  }
  assert_int_equal(got, 4);
  assert_int_equal(mt_frame_rx_pending(rx), 0);
  assert_int_equal(mt_frame_rx_crc_errors(rx), 0);
  mt_frame_rx_free(rx);
}

/* Any single flipped bit anywhere in a frame loses that frame (CRC or header check), never
 * yields a wrong frame, and the frame behind it is still found. */
static void every_bit_flip_detected(void **state) {
  (void)state;
  uint8_t good[MT_FRAME_BYTES(5)], next[MT_FRAME_BYTES(2)];
  size_t n1 = enc(good, MT_FRAME_KIND_RSP, 9, 5), n2 = enc(next, MT_FRAME_KIND_RSP, 10, 2);
  uint64_t crc_errors = 0;
  for (size_t bit = 0; bit < 8 * n1; bit++) {
    mt_frame_rx *rx = rx_new();
    uint8_t bad[sizeof good];
    memcpy(bad, good, n1);
    bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    mt_frame_rx_push(rx, bad, n1);
    mt_frame_rx_push(rx, next, n2);
    mt_frame f;
    int r = mt_frame_rx_next(rx, &f);
    if (r == 0) {
      /* A len corrupted upwards (still <= MAXLEN) waits for bytes that never come. */
      assert_true(bit / 8 >= 8 && bit / 8 < 12);
      mt_frame_rx_abandon(rx);
      r = mt_frame_rx_next(rx, &f);
    }
    assert_int_equal(r, 1);
    assert_int_equal(f.seq, 10);
    assert_int_equal(f.len, 2);
    assert_int_equal(f.payload[1], 10001u);
    crc_errors += mt_frame_rx_crc_errors(rx);
    mt_frame_rx_free(rx);
  }
  assert_true(crc_errors > 0);
}

/* Garbage before, between and after frames, a false MAGIC, a header with len over the
 * receiver's maximum and one with bits 23:16 set are all skipped. */
static void garbage_resync(void **state) {
  (void)state;
  mt_frame_rx *rx = rx_new();
  uint8_t b[4 * MT_FRAME_BYTES(MAXLEN)];
  size_t n = 0;
  const uint8_t junk[8] = {1, 2, 3, 4, 'M', 'T', 'F', '1'}; /* a false MAGIC at the end */
  memcpy(b + n, junk, 8), n += 8;
  n += enc(b + n, MT_FRAME_KIND_RSP, 1, 3);
  size_t big = n;
  n += enc(b + n, MT_FRAME_KIND_RSP, 2, 1);
  b[big + 8] = 0xFF; /* len 255 > MAXLEN: dropped as garbage before the CRC is looked at */
  size_t odd = n;
  n += enc(b + n, MT_FRAME_KIND_RSP, 3, 1);
  b[odd + 6] = 1; /* bits 23:16 of w1 */
  memcpy(b + n, junk, 4), n += 4;
  n += enc(b + n, MT_FRAME_KIND_RSP, 4, 2);
  mt_frame_rx_push(rx, b, n);
  expect_frame(rx, MT_FRAME_KIND_RSP, 1, 3);
  expect_frame(rx, MT_FRAME_KIND_RSP, 4, 2);
  expect_none(rx);
  assert_true(mt_frame_rx_garbage(rx) >= 12);
  mt_frame_rx_free(rx);
}

/* A truncated frame yields nothing until abandoned; then the next frame is found. */
static void truncated(void **state) {
  (void)state;
  mt_frame_rx *rx = rx_new();
  uint8_t a[MT_FRAME_BYTES(8)], c[MT_FRAME_BYTES(1)];
  size_t na = enc(a, MT_FRAME_KIND_RSP, 1, 8), nc = enc(c, MT_FRAME_KIND_RSP, 2, 1);
  mt_frame_rx_push(rx, a, na - 9);
  expect_none(rx);
  expect_none(rx);
  mt_frame_rx_abandon(rx);
  mt_frame_rx_push(rx, c, nc);
  expect_frame(rx, MT_FRAME_KIND_RSP, 2, 1);
  expect_none(rx);
  /* A header cut short waits too. */
  mt_frame_rx_push(rx, c, 10);
  expect_none(rx);
  assert_int_equal(mt_frame_rx_pending(rx), 10);
  mt_frame_rx_free(rx);
}

/* The receive buffer holds exactly one largest frame; the zero-copy interface fills it. */
static void buffer_bounds(void **state) {
  (void)state;
  mt_frame_rx *rx = rx_new();
  assert_int_equal(mt_frame_rx_room(rx), MT_FRAME_BYTES(MAXLEN));
  uint8_t b[MT_FRAME_BYTES(MAXLEN)];
  size_t n = enc(b, MT_FRAME_KIND_RSP, 3, MAXLEN);
  memcpy(mt_frame_rx_tail(rx), b, n);
  mt_frame_rx_added(rx, n);
  assert_int_equal(mt_frame_rx_room(rx), 0);
  assert_int_equal(mt_frame_rx_push(rx, b, 4), 0);
  expect_frame(rx, MT_FRAME_KIND_RSP, 3, MAXLEN);
  assert_int_equal(mt_frame_rx_room(rx), MT_FRAME_BYTES(MAXLEN));
  mt_frame_rx_free(rx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(layout_and_crc),
      cmocka_unit_test(stream_dup_reorder_bytewise),
      cmocka_unit_test(every_bit_flip_detected),
      cmocka_unit_test(garbage_resync),
      cmocka_unit_test(truncated),
      cmocka_unit_test(buffer_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
