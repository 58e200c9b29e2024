/* Training checkpoints: a versioned container of named sections, and the
 * little-endian word streams the sections are written in, with bounds
 * checks, so a damaged or foreign file is reported, never trusted.
 *
 * Container (format 3): magic "MTCK", format, then sections, each: name
 * length (u32, 1..MT_CKPT_NAME_MAX), name, payload length (u64), CRC-32 of
 * the payload, payload; last the CRC-32 of everything before it. */
#ifndef MT_CKPT_H
#define MT_CKPT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  unsigned char *buf;
  size_t len, cap;
  int oom;
} mt_wbuf;

void mt_wbuf_u32(mt_wbuf *b, uint32_t v);
void mt_wbuf_u64(mt_wbuf *b, uint64_t v);
void mt_wbuf_f32(mt_wbuf *b, const float *v, size_t n);
void mt_wbuf_u16(mt_wbuf *b, const uint16_t *v, size_t n);
void mt_wbuf_f64(mt_wbuf *b, const double *v, size_t n);
void mt_wbuf_bytes(mt_wbuf *b, const unsigned char *v, size_t n);

typedef struct {
  const unsigned char *buf;
  size_t len, pos;
  int short_read; /* set when a read ran past the end */
} mt_rbuf;

uint32_t mt_rbuf_u32(mt_rbuf *b);
uint64_t mt_rbuf_u64(mt_rbuf *b);
void mt_rbuf_f32(mt_rbuf *b, float *v, size_t n);
void mt_rbuf_u16(mt_rbuf *b, uint16_t *v, size_t n);
void mt_rbuf_f64(mt_rbuf *b, double *v, size_t n);
const unsigned char *mt_rbuf_bytes(mt_rbuf *b, size_t n);

#define MT_CKPT_MAGIC 0x4B43544Du /* "MTCK" */
#define MT_CKPT_FORMAT 3u /* 2: one stream without sections (refused); 1: older still */
#define MT_CKPT_NAME_MAX 32u
#define MT_CKPT_MAX_SECTIONS 16u

/* Writing: begin, then per section mt_ckpt_section_begin, its words,
 * mt_ckpt_section_end with the mark begin returned; mt_ckpt_end appends the
 * checksum. An allocation failure sets b->oom. */
void mt_ckpt_begin(mt_wbuf *b);
size_t mt_ckpt_section_begin(mt_wbuf *b, const char *name);
void mt_ckpt_section_end(mt_wbuf *b, size_t mark);
void mt_ckpt_end(mt_wbuf *b);

typedef struct {
  uint32_t n;
  struct {
    char name[MT_CKPT_NAME_MAX + 1];
    const unsigned char *data;
    size_t len;
  } s[MT_CKPT_MAX_SECTIONS];
} mt_ckpt_file;

/* Checks magic, format, the file's and every section's checksum and the
 * section table of buf (n bytes, which must outlive f). 0, or -1 with a
 * message naming path. */
int mt_ckpt_parse(const unsigned char *buf, size_t n, const char *path, mt_ckpt_file *f, char *err,
                  size_t errlen);
/* The payload of section `name` as a stream; 0, or -1 (with a message naming
 * path and the section) if the file has none. */
int mt_ckpt_section(const mt_ckpt_file *f, const char *name, const char *path, mt_rbuf *out,
                    char *err, size_t errlen);

#endif
