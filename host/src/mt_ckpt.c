/* Little-endian word streams for checkpoints. */
#include "mt_ckpt.h"

#include <stdlib.h>
#include <string.h>

static unsigned char *grow(mt_wbuf *b, size_t n) {
  if (b->oom) return NULL;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    unsigned char *p = realloc(b->buf, cap);
    if (!p) {
      b->oom = 1;
      return NULL;
    }
    b->buf = p, b->cap = cap;
  }
  unsigned char *p = b->buf + b->len;
  b->len += n;
  return p;
}

void mt_wbuf_u32(mt_wbuf *b, uint32_t v) {
  unsigned char *p = grow(b, 4);
  if (p) p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

void mt_wbuf_u64(mt_wbuf *b, uint64_t v) {
  mt_wbuf_u32(b, (uint32_t)v);
  mt_wbuf_u32(b, (uint32_t)(v >> 32));
}

void mt_wbuf_f32(mt_wbuf *b, const float *v, size_t n) {
  for (size_t k = 0; k < n; k++) {
    uint32_t u;
    memcpy(&u, &v[k], 4);
    mt_wbuf_u32(b, u);
  }
}

void mt_wbuf_u16(mt_wbuf *b, const uint16_t *v, size_t n) {
  for (size_t k = 0; k < n; k++) {
    unsigned char *p = grow(b, 2);
    if (p) p[0] = (unsigned char)v[k], p[1] = (unsigned char)(v[k] >> 8);
  }
}

void mt_wbuf_f64(mt_wbuf *b, const double *v, size_t n) {
  for (size_t k = 0; k < n; k++) {
    uint64_t u;
    memcpy(&u, &v[k], 8);
    mt_wbuf_u64(b, u);
  }
}

void mt_wbuf_bytes(mt_wbuf *b, const unsigned char *v, size_t n) {
  unsigned char *p = grow(b, n);
  if (p && n) memcpy(p, v, n);
}

static const unsigned char *take(mt_rbuf *b, size_t n) {
  if (b->short_read || b->len - b->pos < n) {
    b->short_read = 1;
    return NULL;
  }
  const unsigned char *p = b->buf + b->pos;
  b->pos += n;
  return p;
}

uint32_t mt_rbuf_u32(mt_rbuf *b) {
  const unsigned char *p = take(b, 4);
  return p ? p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint64_t mt_rbuf_u64(mt_rbuf *b) {
  uint64_t lo = mt_rbuf_u32(b);
  return lo | (uint64_t)mt_rbuf_u32(b) << 32;
}

void mt_rbuf_f32(mt_rbuf *b, float *v, size_t n) {
  for (size_t k = 0; k < n; k++) {
    uint32_t u = mt_rbuf_u32(b);
    memcpy(&v[k], &u, 4);
  }
}

void mt_rbuf_u16(mt_rbuf *b, uint16_t *v, size_t n) {
  for (size_t k = 0; k < n; k++) {
    const unsigned char *p = take(b, 2);
    v[k] = p ? (uint16_t)(p[0] | p[1] << 8) : 0;
  }
}

void mt_rbuf_f64(mt_rbuf *b, double *v, size_t n) {
  for (size_t k = 0; k < n; k++) {
    uint64_t u = mt_rbuf_u64(b);
    memcpy(&v[k], &u, 8);
  }
}

const unsigned char *mt_rbuf_bytes(mt_rbuf *b, size_t n) { return take(b, n); }
