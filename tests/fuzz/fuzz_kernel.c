/* The kernel on raw bytes. Byte 0 picks the starting state (power-on or a
 * configured device with a fabricated tile), the response room and the mode;
 * the rest is the command stream, as little-endian words.
 *  - stream mode: the whole stream in one mt_kernel call; the responses must be
 *    framed exactly (each header's length, the sum, the room, the consumed count);
 *  - command mode: each framed command alone; one that is rejected must leave
 *    the device state byte-identical (docs/protocol.md, processing rule 4). */
#include "fuzz_util.h"

#define MAX_WORDS 4096u

static fz_dev dev, before;
static uint32_t cmd[MAX_WORDS], rsp[MAX_WORDS + 64];

static void check_framing(uint32_t w, uint32_t cap, uint32_t consumed, uint32_t n) {
  if (w > cap || consumed > n) abort();
  uint32_t pos = 0;
  while (pos < w) {
    if (w - pos < MT_HDR_WORDS) abort();
    uint32_t len = rsp[pos + 1], status = rsp[pos] & 0xFFu;
    if (len > w - pos - MT_HDR_WORDS || status >= MT_ST_COUNT) abort();
    if (status != MT_ST_OK && len != 2) abort(); /* errors carry exactly two detail words */
    pos += MT_HDR_WORDS + len;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint32_t mode = data[0];
  fz_setup(&dev, mode & 1, 2 + (mode >> 4));
  uint32_t n = 0;
  for (size_t k = 1; k < size && n < MAX_WORDS; k += 4, n++) {
    uint32_t v = 0;
    for (size_t b = 0; b < 4 && k + b < size; b++) v |= (uint32_t)data[k + b] << (8 * b);
    cmd[n] = v;
  }
  /* Room: ample, or small enough that ERR_OVERFLOW and the 4-word rule happen. */
  uint32_t cap = mode & 2 ? MAX_WORDS + 64 : 3 + ((mode >> 2) & 3) * 5;
  uint32_t consumed = 0;
  if (!(mode & 8)) {
    uint32_t w = mt_kernel(cmd, n, rsp, cap, &dev.regs, dev.tiles, FZ_TILES, &consumed);
    check_framing(w, cap, consumed, n);
    return 0;
  }
  for (uint32_t pos = 0; pos < n;) {
    uint64_t want = n - pos < MT_HDR_WORDS ? n - pos : (uint64_t)MT_HDR_WORDS + cmd[pos + 1];
    uint32_t len = want < n - pos ? (uint32_t)want : n - pos; /* a length may be any 32 bits */
    before = dev;
    uint32_t w = mt_kernel(cmd + pos, len, rsp, cap, &dev.regs, dev.tiles, FZ_TILES, &consumed);
    check_framing(w, cap, consumed, len);
    if (w >= MT_HDR_WORDS && (rsp[0] & 0xFFu) != MT_ST_OK && memcmp(&before, &dev, sizeof dev) != 0)
      abort(); /* a rejected command changed the device */
    if (w == 0 && memcmp(&before, &dev, sizeof dev) != 0) abort(); /* nothing ran */
    pos += len;
  }
  return 0;
}
