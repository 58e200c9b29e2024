/* Must fail check_kernel.py: a library call outside the kernel (and goto). */
#include <stdint.h>
#include <stdio.h>
uint32_t k(uint32_t n) {
  if (n == 0) goto out;
  printf("%u\n", n);
out:
  return n;
}
