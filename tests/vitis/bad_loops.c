/* Must fail check_kernel.py four times: loops without a bound. */
#include <stdint.h>
uint32_t k(const uint32_t *p, uint32_t n) {
  uint32_t s = 0, i = 0;
  for (;;) {
    if (i >= n) break;
    s += p[i++];
  }
  while (1) {
    if (s > 100) break;
    s++;
  }
  while (i > 0) i--;
  do {
    s--;
  } while (s > 50);
  return s;
}
