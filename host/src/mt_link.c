/* Link layer (mt_link.h). Buffers for the largest CMD frame and the largest RSP frame are
 * allocated at open, from the device's SYNC_ACK, so transact() does not allocate. */
#include "mt_link.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_frame.h"
#include "mt_protocol.h"

struct mt_link {
  mt_transport *t;
  char name[128];
  unsigned timeout_ms;
  uint16_t seq; /* of the last frame sent */
  uint32_t cmd_words, rsp_words;
  uint8_t *frame; /* the CMD frame being sent */
  mt_frame_rx *rx;
  mt_link_stats st;
};

uint32_t mt_link_cmd_words(const mt_link *l) { return l->cmd_words; }
uint32_t mt_link_rsp_words(const mt_link *l) { return l->rsp_words; }
void mt_link_get_stats(const mt_link *l, mt_link_stats *st) {
  *st = l->st;
  st->max_command_words = l->cmd_words;
  st->max_response_words = l->rsp_words - 1; /* the RSP's first word is the consumed count */
}
mt_transport *mt_link_transport(mt_link *l) { return l->t; }

void mt_link_close(mt_link *l) {
  if (!l) return;
  if (l->t) l->t->ops->close(l->t);
  free(l->frame);
  mt_frame_rx_free(l->rx);
  free(l);
}

/* Sends the n-byte frame in l->frame (kind want_kind's answer awaited, seq l->seq) and waits
 * for the answer of kind want with the same seq, re-sending on a timeout or a CRC error.
 * On MT_OK *f is the answer (valid until the next receive). */
static int exchange(mt_link *l, size_t n, uint32_t want, mt_frame *f, char *err, size_t errlen) {
  for (unsigned try = 1; try <= MT_FRAME_RETRIES; try++) {
    if (try > 1) l->st.retransmits++;
    int rc = l->t->ops->send(l->t, l->frame, n, err, errlen);
    if (rc != MT_OK) return rc;
    l->st.frames++;
    l->st.bytes_out += n;
    uint64_t crc0 = mt_frame_rx_crc_errors(l->rx);
    for (;;) {
      int got_frame = 0;
      while (mt_frame_rx_next(l->rx, f)) {
        if (f->kind == want && f->seq == l->seq) {
          got_frame = 1;
          break;
        }
        l->st.duplicates++; /* a stale answer to an older (or repeated) frame */
      }
      l->st.crc_errors += mt_frame_rx_crc_errors(l->rx) - crc0;
      if (got_frame) return MT_OK;
      if (mt_frame_rx_crc_errors(l->rx) != crc0) break; /* maybe our answer: ask again */
      size_t room = mt_frame_rx_room(l->rx), got = 0;
      if (room == 0) { /* a full buffer without a frame is garbage */
        mt_frame_rx_abandon(l->rx);
        continue;
      }
      rc = l->t->ops->recv(l->t, mt_frame_rx_tail(l->rx), room, l->timeout_ms, &got, err, errlen);
      if (rc == MT_ERR_TIMEOUT) {
        l->st.timeouts++;
        /* What arrived of a frame will not be completed (its len may be corrupt). */
        if (mt_frame_rx_pending(l->rx)) mt_frame_rx_abandon(l->rx);
        break;
      }
      if (rc != MT_OK) return rc;
      mt_frame_rx_added(l->rx, got);
      l->st.bytes_in += got;
    }
  }
  snprintf(err, errlen, "%s: no valid answer to frame seq %u after %u tries (%u ms each)", l->name,
           l->seq, MT_FRAME_RETRIES, l->timeout_ms);
  return MT_ERR_TIMEOUT;
}

int mt_link_open(mt_transport *t, const char *name, uint16_t seq0, unsigned timeout_ms,
                 mt_link **out, char *err, size_t errlen) {
  *out = NULL;
  mt_link *l = calloc(1, sizeof *l);
  if (!l) {
    t->ops->close(t);
    snprintf(err, errlen, "%s: out of memory", name);
    return MT_ERR_NOMEM;
  }
  l->t = t;
  snprintf(l->name, sizeof l->name, "%s", name);
  l->timeout_ms = timeout_ms;
  l->seq = seq0;
  l->frame = malloc(MT_FRAME_BYTES(0));
  l->rx = mt_frame_rx_new(2);
  if (!l->frame || !l->rx) {
    mt_link_close(l);
    snprintf(err, errlen, "%s: out of memory", name);
    return MT_ERR_NOMEM;
  }
  size_t n = mt_frame_encode(MT_FRAME_KIND_SYNC, seq0, NULL, 0, l->frame);
  mt_frame f;
  int rc = exchange(l, n, MT_FRAME_KIND_SYNC_ACK, &f, err, errlen);
  if (rc == MT_OK && f.len != 2) {
    snprintf(err, errlen, "%s: SYNC_ACK with %u payload words, expected 2", name, f.len);
    rc = MT_ERR_PROTOCOL;
  }
  /* A CMD payload holds at least one command header; an RSP at least consumed and one
   * error response (header and two detail words). */
  if (rc == MT_OK && (f.payload[0] < 2 || f.payload[1] < 5)) {
    snprintf(err, errlen, "%s: SYNC_ACK announces buffers of %u CMD and %u RSP words", name,
             f.payload[0], f.payload[1]);
    rc = MT_ERR_PROTOCOL;
  }
  if (rc != MT_OK) {
    mt_link_close(l);
    return rc;
  }
  l->cmd_words = f.payload[0];
  l->rsp_words = f.payload[1];
  free(l->frame);
  mt_frame_rx_free(l->rx);
  l->frame = malloc(MT_FRAME_BYTES((size_t)l->cmd_words));
  l->rx = mt_frame_rx_new(l->rsp_words);
  if (!l->frame || !l->rx) {
    mt_link_close(l);
    snprintf(err, errlen, "%s: out of memory for frames of %u and %u words", name,
             f.payload[0], f.payload[1]);
    return MT_ERR_NOMEM;
  }
  *out = l;
  return MT_OK;
}

/* Words of the command at cmd[0..avail): its header and declared payload, or what is left
 * of a truncated one (the device answers ERR_TRUNCATED and stops). */
static uint32_t command_words(const uint32_t *cmd, uint32_t avail) {
  if (avail < MT_HDR_WORDS) return avail;
  return cmd[1] > avail - MT_HDR_WORDS ? avail : cmd[1] + MT_HDR_WORDS;
}

/* Offset of the last response in rsp[0..n) (n when there is none). */
static uint32_t last_response(const uint32_t *rsp, uint32_t n) {
  uint32_t at = n;
  for (uint32_t k = 0; k + MT_HDR_WORDS <= n; k += MT_HDR_WORDS + rsp[k + 1]) {
    at = k;
    if (rsp[k + 1] > n - k - MT_HDR_WORDS) break;
  }
  return at;
}

int mt_link_transact(mt_link *l, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                     uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, char *err,
                     size_t errlen) {
  uint32_t pos = 0, out = 0;
  *n_rsp = 0;
  *consumed = 0;
  do { /* an empty call is one empty CMD frame, like mt_kernel's empty call */
    uint32_t end = pos;
    while (end < n_cmd) {
      uint32_t w = command_words(cmd + end, n_cmd - end);
      if (end - pos + w > l->cmd_words) break;
      end += w;
    }
    if (end == pos && n_cmd > pos) {
      snprintf(err, errlen, "%s: a command of %u words exceeds the device's frame buffer of %u words",
               l->name, command_words(cmd + pos, n_cmd - pos), l->cmd_words);
      return MT_ERR_INVAL;
    }
    l->seq++;
    size_t n = mt_frame_encode(MT_FRAME_KIND_CMD, l->seq, cmd + pos, end - pos, l->frame);
    mt_frame f;
    int rc = exchange(l, n, MT_FRAME_KIND_RSP, &f, err, errlen);
    if (rc != MT_OK) return rc;
    if (f.len < 1 || f.payload[0] > end - pos) {
      snprintf(err, errlen, "%s: RSP seq %u reports %u of %u command words consumed", l->name,
               l->seq, f.len ? f.payload[0] : 0, end - pos);
      return MT_ERR_PROTOCOL;
    }
    uint32_t words = f.len - 1, ran = f.payload[0];
    if (words > rsp_cap - out) {
      snprintf(err, errlen, "%s: RSP seq %u of %u words does not fit the %u words left", l->name,
               l->seq, words, rsp_cap - out);
      return MT_ERR_PROTOCOL;
    }
    memcpy(rsp + out, f.payload + 1, (size_t)words * sizeof *rsp);
    /* Count the commands that ran (whole ones; the device stops between commands). */
    for (uint32_t k = pos; k < pos + ran; k += command_words(cmd + k, pos + ran - k)) l->st.commands++;
    uint32_t last = last_response(rsp + out, words);
    out += words;
    pos += ran;
    *n_rsp = out;
    *consumed = pos;
    if (pos < end) {
      /* The device stopped early. Its response buffer was full (no room for another response,
       * or ERR_OVERFLOW for a command that did not run) after some commands ran: the rest
       * goes in the next frame, the ERR_OVERFLOW response dropped. ERR_TRUNCATED, or no
       * progress at all, is mt_kernel's answer for the caller. */
      uint32_t st = last < words ? rsp[out - words + last] & 0xFFu : MT_ST_OK;
      if (ran == 0 || st == MT_ST_ERR_TRUNCATED) break;
      if (st == MT_ST_ERR_OVERFLOW) {
        out -= words - last;
        *n_rsp = out;
      }
    }
  } while (pos < n_cmd);
  return MT_OK;
}
