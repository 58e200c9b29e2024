/* Fault injection around a transport (mt_transport.h): each frame sent, and each frame
 * received, is dropped, has one bit flipped, or is delivered twice with the probabilities of
 * the spec, from a seeded generator. Received bytes are cut into frames by their header (the
 * device only sends whole frames; anything else passes through unchanged). */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtile.h"
#include "mt_protocol.h"
#include "mt_rng.h"
#include "mt_transport.h"

/* Larger "frames" are garbage with MAGIC in front: no device buffers 64 Mi words. */
#define MAX_FRAME_BYTES (1ull << 28)

typedef struct {
  uint8_t *b;
  size_t n, cap;
} bytes;

typedef struct {
  mt_transport base;
  mt_transport *inner;
  double p_drop, p_corrupt, p_dup;
  uint64_t rng;
  bytes scratch; /* a corrupted copy of a frame being sent */
  bytes stage;   /* received bytes not yet cut into frames */
  bytes ready;   /* received bytes, faults applied, for the caller */
  size_t ready_off;
  mt_fault_stats st;
} faults;

/* Grows b to hold at least n bytes; the buffers reach the largest frame size and stay. */
static int reserve(bytes *b, size_t n) {
  if (n <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < n) cap *= 2;
  uint8_t *p = realloc(b->b, cap);
  if (!p) return -1;
  b->b = p;
  b->cap = cap;
  return 0;
}

static int append(bytes *b, const uint8_t *src, size_t n) {
  if (reserve(b, b->n + n) != 0) return -1;
  memcpy(b->b + b->n, src, n);
  b->n += n;
  return 0;
}

static int roll(faults *f, double p) {
  return p > 0 && (double)(mt_splitmix64_next(&f->rng) >> 11) * 0x1.0p-53 < p;
}

/* What happens to one frame: 0 drop, 1 once (maybe corrupted into f->scratch), 2 twice. */
typedef enum { F_DROP, F_ONCE, F_TWICE } fate;

static fate decide(faults *f, const uint8_t *buf, size_t n, const uint8_t **out) {
  *out = buf;
  if (roll(f, f->p_drop)) {
    f->st.dropped++;
    return F_DROP;
  }
  if (roll(f, f->p_corrupt) && n > 0) {
    f->scratch.n = 0;
    if (append(&f->scratch, buf, n) == 0) {
      uint64_t bit = mt_splitmix64_next(&f->rng) % (8u * n);
      f->scratch.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      *out = f->scratch.b;
      f->st.corrupted++;
    }
  }
  if (roll(f, f->p_dup)) {
    f->st.duplicated++;
    return F_TWICE;
  }
  return F_ONCE;
}

static int fl_send(mt_transport *t, const uint8_t *buf, size_t n, char *err, size_t errlen) {
  faults *f = (faults *)t;
  const uint8_t *out = buf;
  fate k = decide(f, buf, n, &out);
  for (int i = 0; i < (int)k; i++) {
    int rc = f->inner->ops->send(f->inner, out, n, err, errlen);
    if (rc != MT_OK) return rc;
  }
  return MT_OK;
}

static uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Moves whole frames (and bytes that start none) from stage to ready, applying faults. */
static int cut_frames(faults *f) {
  size_t off = 0;
  int rc = 0;
  while (rc == 0 && f->stage.n - off >= 4) {
    const uint8_t *p = f->stage.b + off;
    if (le32(p) != MT_FRAME_MAGIC) {
      rc = append(&f->ready, p, 1);
      off++;
      continue;
    }
    if (f->stage.n - off < 12) break;
    uint64_t total = 4u * ((uint64_t)le32(p + 8) + MT_FRAME_HDR_WORDS + MT_FRAME_CRC_WORDS);
    if (total > MAX_FRAME_BYTES) { /* no frame: let the receiver skip it */
      rc = append(&f->ready, p, 1);
      off++;
      continue;
    }
    if (f->stage.n - off < total) break;
    const uint8_t *out = p;
    fate k = decide(f, p, (size_t)total, &out);
    for (int i = 0; i < (int)k && rc == 0; i++) rc = append(&f->ready, out, (size_t)total);
    off += (size_t)total;
  }
  memmove(f->stage.b, f->stage.b + off, f->stage.n - off);
  f->stage.n -= off;
  return rc;
}

static int fl_recv(mt_transport *t, uint8_t *buf, size_t cap, unsigned timeout_ms, size_t *got,
                   char *err, size_t errlen) {
  faults *f = (faults *)t;
  uint8_t chunk[16384];
  while (f->ready.n == f->ready_off) {
    f->ready.n = f->ready_off = 0;
    size_t n = 0;
    int rc = f->inner->ops->recv(f->inner, chunk, sizeof chunk, timeout_ms, &n, err, errlen);
    if (rc != MT_OK) return rc;
    if (append(&f->stage, chunk, n) != 0 || cut_frames(f) != 0) {
      snprintf(err, errlen, "fault injector: out of memory");
      return MT_ERR_NOMEM;
    }
  }
  size_t n = f->ready.n - f->ready_off;
  if (n > cap) n = cap;
  memcpy(buf, f->ready.b + f->ready_off, n);
  f->ready_off += n;
  *got = n;
  return MT_OK;
}

static void fl_close(mt_transport *t) {
  faults *f = (faults *)t;
  f->inner->ops->close(f->inner);
  free(f->scratch.b);
  free(f->stage.b);
  free(f->ready.b);
  free(f);
}

static const mt_transport_ops fault_ops = {fl_send, fl_recv, fl_close};

/* Parses "name:P,name:P" into the three probabilities. */
static int parse_spec(const char *spec, double p[3], char *err, size_t errlen) {
  static const char *const names[3] = {"drop", "corrupt", "dup"};
  const char *s = spec;
  if (!*s) {
    snprintf(err, errlen, "faults=: empty (expected drop:P,corrupt:P,dup:P)");
    return MT_ERR_INVAL;
  }
  while (*s) {
    size_t len = strcspn(s, ",");
    const char *colon = memchr(s, ':', len);
    int k = -1;
    for (int i = 0; i < 3 && colon; i++)
      if ((size_t)(colon - s) == strlen(names[i]) && !strncmp(s, names[i], (size_t)(colon - s))) k = i;
    if (k < 0) {
      snprintf(err, errlen, "faults=%s: unknown fault '%.*s' (expected drop:P, corrupt:P or dup:P)",
               spec, (int)(colon ? (size_t)(colon - s) : len), s);
      return MT_ERR_INVAL;
    }
    char num[64] = "", *end = NULL;
    size_t nlen = len - (size_t)(colon + 1 - s);
    if (nlen > 0 && nlen < sizeof num) memcpy(num, colon + 1, nlen);
    errno = 0;
    double v = nlen > 0 && nlen < sizeof num ? strtod(num, &end) : -1;
    if (!end || *end || errno || !(v >= 0 && v <= 1)) {
      snprintf(err, errlen, "faults=%s: %s:%.*s is not a probability in [0, 1]", spec, names[k],
               (int)nlen, colon + 1);
      return MT_ERR_INVAL;
    }
    p[k] = v;
    s += len;
    if (*s == ',') s++;
  }
  return MT_OK;
}

int mt_transport_faults(mt_transport *inner, const char *spec, uint64_t seed, mt_transport **out,
                        char *err, size_t errlen) {
  double p[3] = {0, 0, 0};
  int rc = parse_spec(spec, p, err, errlen);
  if (rc != MT_OK) return rc;
  faults *f = calloc(1, sizeof *f);
  if (!f) {
    snprintf(err, errlen, "fault injector: out of memory");
    return MT_ERR_NOMEM;
  }
  f->base.ops = &fault_ops;
  f->inner = inner;
  f->p_drop = p[0], f->p_corrupt = p[1], f->p_dup = p[2];
  f->rng = seed;
  *out = &f->base;
  return MT_OK;
}

void mt_transport_fault_stats(const mt_transport *t, mt_fault_stats *st) {
  assert(t->ops == &fault_ops);
  *st = ((const faults *)t)->st;
}
