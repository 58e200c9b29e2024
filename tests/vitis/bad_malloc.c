/* Must fail check_kernel.py: dynamic memory. */
#include <stdint.h>
#include <stdlib.h>
uint32_t k(uint32_t n) {
  uint32_t *p = malloc(sizeof *p);
  if (!p) return 0;
  *p = n;
  uint32_t v = *p;
  free(p);
  return v;
}
