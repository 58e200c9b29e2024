/* Must fail check_kernel.py: a call through a function pointer. */
#include <stdint.h>
static uint32_t twice(uint32_t x) { return 2 * x; }
uint32_t k(uint32_t x, int which) {
  uint32_t (*f)(uint32_t) = which ? twice : 0;
  return f ? f(x) : x;
}
