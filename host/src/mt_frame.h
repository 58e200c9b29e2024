/* Link framing in pure C (docs/protocol.md, "Link framing"): encoding of CMD/SYNC frames and a
 * receiver that finds frames in a byte stream, checks their CRC-32 and resynchronises after
 * garbage by scanning for MAGIC at every byte offset (a superset of the device's word-wise scan). No I/O: the link layer (mt_link.c) feeds
 * it the bytes a transport received. */
#ifndef MT_FRAME_H
#define MT_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a frame with len payload words: header, payload, CRC. */
#define MT_FRAME_BYTES(len) (4u * ((len) + MT_FRAME_HDR_WORDS + MT_FRAME_CRC_WORDS))

/* Writes the frame (kind, seq, len payload words) to out, which holds MT_FRAME_BYTES(len)
 * bytes; returns the byte count. */
size_t mt_frame_encode(uint32_t kind, uint32_t seq, const uint32_t *payload, uint32_t len,
                       uint8_t *out);

/* One received frame; payload points into the receiver's buffer and stays valid until the
 * next mt_frame_rx_* call. */
typedef struct {
  uint32_t kind, seq, len;
  const uint32_t *payload;
} mt_frame;

typedef struct mt_frame_rx mt_frame_rx;

/* A receiver for frames of at most max_len payload words (a header that declares more is
 * dropped as garbage). NULL when out of memory. */
mt_frame_rx *mt_frame_rx_new(uint32_t max_len);
void mt_frame_rx_free(mt_frame_rx *rx);
/* Room for further bytes, and where to put them: the transport writes at most
 * mt_frame_rx_room() bytes to mt_frame_rx_tail(), then reports them with mt_frame_rx_added. */
uint8_t *mt_frame_rx_tail(mt_frame_rx *rx);
size_t mt_frame_rx_room(const mt_frame_rx *rx);
void mt_frame_rx_added(mt_frame_rx *rx, size_t n);
/* Copies n bytes in (at most mt_frame_rx_room()); returns the bytes taken. */
size_t mt_frame_rx_push(mt_frame_rx *rx, const uint8_t *buf, size_t n);
/* Next whole frame with a valid header and CRC: 1 and *f, or 0 when the buffered bytes hold
 * none yet. Garbage before a frame and frames with a bad CRC are skipped (and counted). */
int mt_frame_rx_next(mt_frame_rx *rx, mt_frame *f);
/* Gives up on a frame whose header arrived but whose rest did not (a timeout: its len may be
 * corrupt); scanning resumes behind its first byte. */
void mt_frame_rx_abandon(mt_frame_rx *rx);
/* Buffered bytes not yet consumed; frames with a bad CRC and garbage bytes skipped so far. */
size_t mt_frame_rx_pending(const mt_frame_rx *rx);
uint64_t mt_frame_rx_crc_errors(const mt_frame_rx *rx);
uint64_t mt_frame_rx_garbage(const mt_frame_rx *rx);

#endif
