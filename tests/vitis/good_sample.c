/* Must pass check_kernel.py: bounded loops of every form, a struct copy, calls between
 * functions of the kernel. "while (1)" in a comment or a string does not count. */
#include <stdint.h>
typedef struct {
  uint32_t v[64];
} blk_t;
static uint32_t add(uint32_t a, uint32_t b) { return a + b; }
uint32_t k(blk_t *dst, const blk_t *src, uint32_t n) {
  uint32_t s = 0, i = 0;
  const char *note = "for (;;) while (1)";
  *dst = *src;
  for (uint32_t j = 0; j < 64; j++) s = add(s, dst->v[j]);
  while (i < n) {
#pragma HLS LOOP_TRIPCOUNT max = 64
    s += (uint32_t)note[i % 4];
    i++;
  }
  do {
#pragma HLS LOOP_TRIPCOUNT max = 8
    s >>= 1;
  } while (s > 1000);
  return s;
}
