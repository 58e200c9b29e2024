/* Device snapshots (mt_dev_restore_bytes): a file that is not exactly a valid
 * image of this device must be refused with MT_ERR_FILE and leave the device
 * unchanged; one that is accepted must restore to an identical image.
 * Byte 0 picks the mode: raw (the input is the file) or patched (a valid image
 * of a used device with the input's (offset, value) patches applied and, if
 * asked, the checksum recomputed, so the fuzzer gets past the checksum to the
 * state checks). */
#include <stdio.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "memtile.h"
#include "mt_preset.h"

static mt_dev *dev;
static unsigned char *valid, *work, *after;
static size_t valid_n;

/* A device that has been used: configured, levels, two tiles fabricated, programmed. */
static void init(void) {
  if (mt_dev_open("model://?tiles=2", &dev) != MT_OK) abort();
  uint32_t cfg[MT_CFG_COUNT];
  fz_config(cfg);
  if (mt_dev_configure(dev, cfg) != MT_OK) abort();
  uint32_t lv[4 * 3];
  for (uint32_t q = 0; q < 4; q++) {
    lv[3 * q] = (5000 + q * 12000) | 5000u << 16;
    lv[3 * q + 1] = q * 9;
    lv[3 * q + 2] = 100;
  }
  if (mt_dev_set_levels(dev, 4, lv) != MT_OK) abort();
  for (uint32_t t = 0; t < 2; t++)
    if (mt_dev_fabricate(dev, 99 + t, t) != MT_OK) abort();
  uint32_t e[3] = {1u << 20 | 3u << 8 | 2u, 5u << 20 | 7u << 8 | 3u, 2u << 8 | 1u};
  mt_prog_result r;
  if (mt_dev_program(dev, 0, 0, e, 3, &r) != MT_OK) abort();
  if (mt_dev_snapshot_bytes(dev, &valid, &valid_n) != MT_OK) abort();
  work = malloc(valid_n + 64);
  if (!work) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dev) init();
  if (size < 1) return 0;
  fz_in in = {data + 1, size - 1};
  size_t n;
  if (data[0] & 1) {
    n = size - 1 < valid_n + 64 ? size - 1 : valid_n + 64;
    memcpy(work, data + 1, n);
  } else {
    memcpy(work, valid, valid_n);
    n = valid_n;
    while (in.n >= 5) {
      size_t at = fz_u32(&in) % (valid_n - 4);
      uint32_t v = fz_u8(&in);
      work[at] = (unsigned char)v;
    }
    if (data[0] & 2) { /* recompute the checksum over the patched words */
      uint32_t crc = (uint32_t)crc32(0L, work, (uInt)(n - 4));
      for (int k = 0; k < 4; k++) work[n - 4 + k] = (unsigned char)(crc >> (8 * k));
    }
  }
  int rc = mt_dev_restore_bytes(dev, work, n, "fuzz.snap");
  size_t m = 0;
  if (mt_dev_snapshot_bytes(dev, &after, &m) != MT_OK) abort();
  if (rc == MT_OK) {
    if (m != n || memcmp(after, work, n) != 0) abort(); /* restore must be exact */
    if (mt_dev_restore_bytes(dev, valid, valid_n, "valid") != MT_OK) abort(); /* back to the start */
  } else {
    if (rc != MT_ERR_FILE || strncmp(mt_dev_errmsg(dev), "fuzz.snap", 9) != 0) abort();
    if (m != valid_n || memcmp(after, valid, valid_n) != 0) abort(); /* refused: unchanged */
  }
  free(after);
  return 0;
}
