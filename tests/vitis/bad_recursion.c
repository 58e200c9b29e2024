/* Must fail check_kernel.py: mutual recursion across two functions. */
#include <stdint.h>
static uint32_t odd(uint32_t n);
static uint32_t even(uint32_t n) { return n == 0 ? 1 : odd(n - 1); }
static uint32_t odd(uint32_t n) { return n == 0 ? 0 : even(n - 1); }
uint32_t k(uint32_t n) { return even(n); }
