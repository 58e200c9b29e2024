/* Checkpoint container and its little-endian word streams. */
#include "mt_ckpt.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

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

/* ---- the container ---- */

static void put_u32_at(mt_wbuf *b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; i++) b->buf[at + i] = (unsigned char)(v >> (8 * i));
}

void mt_ckpt_begin(mt_wbuf *b) {
  mt_wbuf_u32(b, MT_CKPT_MAGIC);
  mt_wbuf_u32(b, MT_CKPT_FORMAT);
}

size_t mt_ckpt_section_begin(mt_wbuf *b, const char *name) {
  size_t n = strlen(name);
  assert(n >= 1 && n <= MT_CKPT_NAME_MAX);
  mt_wbuf_u32(b, (uint32_t)n);
  mt_wbuf_bytes(b, (const unsigned char *)name, n);
  size_t mark = b->len;
  mt_wbuf_u64(b, 0); /* length and checksum, filled in by mt_ckpt_section_end */
  mt_wbuf_u32(b, 0);
  return mark;
}

void mt_ckpt_section_end(mt_wbuf *b, size_t mark) {
  if (b->oom) return;
  assert(mark + 12 <= b->len);
  size_t start = mark + 12, len = b->len - start;
  put_u32_at(b, mark, (uint32_t)len);
  put_u32_at(b, mark + 4, (uint32_t)((uint64_t)len >> 32));
  uLong crc = crc32(0L, Z_NULL, 0);
  const size_t chunk = (size_t)1 << 30;
  for (size_t off = 0; off < len; off += chunk)
    crc = crc32(crc, b->buf + start + off, (uInt)(len - off < chunk ? len - off : chunk));
  put_u32_at(b, mark + 8, (uint32_t)crc);
}

void mt_ckpt_end(mt_wbuf *b) {
  if (b->oom) return;
  mt_wbuf_u32(b, (uint32_t)crc32(0L, b->buf, (uInt)b->len));
}

int mt_ckpt_parse(const unsigned char *buf, size_t n, const char *path, mt_ckpt_file *f, char *err,
                  size_t errlen) {
  memset(f, 0, sizeof *f);
  mt_rbuf b = {buf, n, 0, 0};
  uint32_t magic = mt_rbuf_u32(&b), format = mt_rbuf_u32(&b);
  if (n < 12 || magic != MT_CKPT_MAGIC) {
    snprintf(err, errlen, "%s: not a memtile checkpoint (format %u)", path, MT_CKPT_FORMAT);
    return -1;
  }
  if (format != MT_CKPT_FORMAT) {
    snprintf(err, errlen, "%s: checkpoint format %u, written by %s memtile; this one reads "
             "format %u only (start the run again)", path, format,
             format < MT_CKPT_FORMAT ? "an older" : "a newer", MT_CKPT_FORMAT);
    return -1;
  }
  mt_rbuf tail = {buf + n - 4, 4, 0, 0};
  if ((uint32_t)crc32(0L, buf, (uInt)(n - 4)) != mt_rbuf_u32(&tail)) {
    snprintf(err, errlen, "%s: checksum mismatch (file damaged or truncated)", path);
    return -1;
  }
  b.len = n - 4; /* the checksum is not content */
  while (b.pos < b.len) {
    uint32_t name_len = mt_rbuf_u32(&b);
    const unsigned char *name = NULL;
    if (!b.short_read && name_len >= 1 && name_len <= MT_CKPT_NAME_MAX)
      name = mt_rbuf_bytes(&b, name_len);
    uint64_t len = mt_rbuf_u64(&b);
    uint32_t crc = mt_rbuf_u32(&b);
    if (!name || b.short_read || len > b.len - b.pos) {
      snprintf(err, errlen, "%s: inconsistent content (section %u: bad name or length)", path,
               f->n + 1);
      return -1;
    }
    for (uint32_t k = 0; k < name_len; k++)
      if (name[k] < 0x21 || name[k] > 0x7e) {
        snprintf(err, errlen, "%s: inconsistent content (section %u: bad name)", path, f->n + 1);
        return -1;
      }
    if (f->n == MT_CKPT_MAX_SECTIONS) {
      snprintf(err, errlen, "%s: inconsistent content (more than %u sections)", path,
               MT_CKPT_MAX_SECTIONS);
      return -1;
    }
    char nm[MT_CKPT_NAME_MAX + 1];
    memcpy(nm, name, name_len);
    nm[name_len] = 0;
    for (uint32_t k = 0; k < f->n; k++)
      if (strcmp(f->s[k].name, nm) == 0) {
        snprintf(err, errlen, "%s: inconsistent content (section %s twice)", path, nm);
        return -1;
      }
    const unsigned char *data = mt_rbuf_bytes(&b, (size_t)len);
    uLong c = crc32(0L, Z_NULL, 0);
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < len; off += chunk)
      c = crc32(c, data + off, (uInt)(len - off < chunk ? len - off : chunk));
    if ((uint32_t)c != crc) {
      snprintf(err, errlen, "%s: checksum mismatch in section %s", path, nm);
      return -1;
    }
    memcpy(f->s[f->n].name, nm, name_len + 1);
    f->s[f->n].data = data;
    f->s[f->n].len = (size_t)len;
    f->n++;
  }
  return 0;
}

int mt_ckpt_section(const mt_ckpt_file *f, const char *name, const char *path, mt_rbuf *out,
                    char *err, size_t errlen) {
  for (uint32_t k = 0; k < f->n; k++)
    if (strcmp(f->s[k].name, name) == 0) {
      *out = (mt_rbuf){f->s[k].data, f->s[k].len, 0, 0};
      return 0;
    }
  snprintf(err, errlen, "%s: inconsistent content (no section %s)", path, name);
  return -1;
}
