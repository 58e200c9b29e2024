/* Byte streams for training checkpoints: little-endian words with bounds
 * checks, so a damaged or foreign file is reported, never trusted. */
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

#endif
