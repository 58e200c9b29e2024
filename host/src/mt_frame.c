/* Link framing (mt_frame.h). The receiver keeps one buffer of the largest frame it accepts;
 * bytes are consumed from its front and the rest moved down, so no call allocates. */
#include "mt_frame.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mt_protocol.h"

struct mt_frame_rx {
  uint32_t max_len;
  uint8_t *buf;   /* raw bytes, from the first one not yet consumed */
  size_t cap, have;
  uint32_t *words; /* payload of the frame last returned, decoded */
  uint64_t crc_errors, garbage;
};

static void put_le32(uint8_t *b, uint32_t v) {
  b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)(v >> 16), b[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

size_t mt_frame_encode(uint32_t kind, uint32_t seq, const uint32_t *payload, uint32_t len,
                       uint8_t *out) {
  assert(kind <= 0xFFu && (len == 0 || payload));
  put_le32(out, MT_FRAME_MAGIC);
  put_le32(out + 4, kind << 24 | (seq & 0xFFFFu));
  put_le32(out + 8, len);
  for (uint32_t i = 0; i < len; i++) put_le32(out + 12 + 4 * (size_t)i, payload[i]);
  size_t body = 4u * ((size_t)len + MT_FRAME_HDR_WORDS);
  put_le32(out + body, (uint32_t)crc32(0L, out, (uInt)body));
  return body + 4u * MT_FRAME_CRC_WORDS;
}

mt_frame_rx *mt_frame_rx_new(uint32_t max_len) {
  mt_frame_rx *rx = calloc(1, sizeof *rx);
  if (!rx) return NULL;
  rx->max_len = max_len;
  rx->cap = MT_FRAME_BYTES((size_t)max_len);
  rx->buf = malloc(rx->cap);
  rx->words = malloc(4u * ((size_t)max_len + 1));
  if (!rx->buf || !rx->words) {
    mt_frame_rx_free(rx);
    return NULL;
  }
  return rx;
}

void mt_frame_rx_free(mt_frame_rx *rx) {
  if (!rx) return;
  free(rx->buf);
  free(rx->words);
  free(rx);
}

uint8_t *mt_frame_rx_tail(mt_frame_rx *rx) { return rx->buf + rx->have; }
size_t mt_frame_rx_room(const mt_frame_rx *rx) { return rx->cap - rx->have; }

void mt_frame_rx_added(mt_frame_rx *rx, size_t n) {
  assert(n <= rx->cap - rx->have);
  rx->have += n;
}

size_t mt_frame_rx_push(mt_frame_rx *rx, const uint8_t *buf, size_t n) {
  size_t room = mt_frame_rx_room(rx);
  if (n > room) n = room;
  memcpy(rx->buf + rx->have, buf, n);
  rx->have += n;
  return n;
}

static void consume(mt_frame_rx *rx, size_t n) {
  assert(n <= rx->have);
  memmove(rx->buf, rx->buf + n, rx->have - n);
  rx->have -= n;
}

/* Drops the byte at the front: not the start of a frame (or the start of one that failed).
 * MAGIC does not overlap itself, so this resumes the scan where the device's word-wise one
 * would, and also finds a frame behind a stray byte count that is not a multiple of 4. */
static void skip_byte(mt_frame_rx *rx) {
  rx->garbage++;
  consume(rx, 1);
}

/* Drops the bytes in front of the first possible MAGIC. */
static void hunt(mt_frame_rx *rx) {
  static const uint8_t magic[4] = {MT_FRAME_MAGIC & 0xFFu, (MT_FRAME_MAGIC >> 8) & 0xFFu,
                                   (MT_FRAME_MAGIC >> 16) & 0xFFu, MT_FRAME_MAGIC >> 24};
  size_t i = 0;
  /* A tail shorter than MAGIC that starts like it may become one. */
  while (i < rx->have) {
    size_t k = 0;
    while (k < 4 && i + k < rx->have && rx->buf[i + k] == magic[k]) k++;
    if (k == 4 || i + k == rx->have) break;
    i++;
  }
  rx->garbage += i;
  consume(rx, i);
}

/* Whether the header at the front is one this receiver accepts. */
static int header_ok(const mt_frame_rx *rx) {
  uint32_t w1 = get_le32(rx->buf + 4), len = get_le32(rx->buf + 8);
  uint32_t kind = w1 >> 24;
  return (w1 & 0x00FF0000u) == 0 && kind >= MT_FRAME_KIND_CMD && kind <= MT_FRAME_KIND_SYNC_ACK &&
         len <= rx->max_len;
}

int mt_frame_rx_next(mt_frame_rx *rx, mt_frame *f) {
  for (;;) {
    hunt(rx);
    if (rx->have < 4 * MT_FRAME_HDR_WORDS) return 0;
    if (!header_ok(rx)) {
      skip_byte(rx);
      continue;
    }
    uint32_t len = get_le32(rx->buf + 8);
    size_t total = MT_FRAME_BYTES((size_t)len), body = total - 4u * MT_FRAME_CRC_WORDS;
    if (rx->have < total) return 0;
    if ((uint32_t)crc32(0L, rx->buf, (uInt)body) != get_le32(rx->buf + body)) {
      rx->crc_errors++;
      skip_byte(rx);
      continue;
    }
    uint32_t w1 = get_le32(rx->buf + 4);
    for (uint32_t i = 0; i < len; i++) rx->words[i] = get_le32(rx->buf + 12 + 4 * (size_t)i);
    f->kind = w1 >> 24;
    f->seq = w1 & 0xFFFFu;
    f->len = len;
    f->payload = rx->words;
    consume(rx, total);
    return 1;
  }
}

void mt_frame_rx_abandon(mt_frame_rx *rx) {
  if (rx->have) skip_byte(rx);
}

size_t mt_frame_rx_pending(const mt_frame_rx *rx) { return rx->have; }
uint64_t mt_frame_rx_crc_errors(const mt_frame_rx *rx) { return rx->crc_errors; }
uint64_t mt_frame_rx_garbage(const mt_frame_rx *rx) { return rx->garbage; }
