/* mt_dev_command, the library's raw command entry, on model://: any 32-bit
 * opcode, any payload length up to the library's limit, any response room. It
 * must return an MT_ERR_* code with a message naming the problem, never read or
 * write outside a buffer, and keep the handle usable (an ECHO after each call). */
#include <stdio.h>

#include "fuzz_util.h"
#include "memtile.h"

static uint32_t payload[4096], rsp[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = {data, size};
  mt_dev *dev = NULL;
  if (mt_dev_open("model://?tiles=2", &dev) != MT_OK) abort();
  for (uint32_t k = 0; k < 8 && in.n > 0; k++) {
    uint32_t sel = fz_u8(&in);
    /* mostly opcodes that exist or fit the 8-bit field, sometimes any 32-bit value */
    uint32_t op = sel < 128 ? sel % (MT_OP_COUNT + 2) : sel < 224 ? fz_u8(&in) : fz_u32(&in);
    uint32_t len = fz_below(&in, 64);
    if (fz_u8(&in) == 255) len = fz_u32(&in); /* lengths past the limit */
    uint32_t cap = fz_below(&in, 4096);
    uint32_t n = len < 4096 ? len : 4096;
    for (uint32_t i = 0; i < n; i++) payload[i] = fz_u32(&in);
    uint32_t got = 0xDEADBEEFu;
    int rc = mt_dev_command(dev, op, len <= 4096 ? payload : NULL, len, rsp, cap, &got);
    if (rc == MT_OK && got > cap) abort();
    if (rc != MT_OK && mt_dev_errmsg(dev)[0] == '\0') abort(); /* every failure says why */
    if (rc != MT_OK && mt_strerror(rc)[0] == '\0') abort();
    uint32_t echo = 0x5A5A5A5Au, back = 0, one = 0;
    if (mt_dev_command(dev, MT_OP_ECHO, &echo, 1, &back, 1, &one) != MT_OK || back != echo ||
        one != 1)
      abort(); /* the handle is still in step with the device */
  }
  mt_dev_close(dev);
  return 0;
}
