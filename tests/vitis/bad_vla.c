/* Must fail check_kernel.py: a variable-length array. */
#include <stdint.h>
uint32_t k(uint32_t n) {
  uint32_t a[n + 1];
  a[0] = n;
  return a[0];
}
