/* IDX datasets (host/include/mt_dataset.h), plain and gzip. Byte 0 chooses
 * whether each file is gzip-compressed here before loading (so the fuzzer
 * reaches the IDX parser through zlib as well as directly; raw bytes may also
 * be gzip themselves) and a limit; bytes 1-2 split the rest into the images
 * and the labels file. A refused pair must leave *out untouched with a message
 * naming a file; an accepted one must be what the header promised. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "mt_dataset.h"

static char dir[64], img_path[96], lbl_path[96];

static void put(const char *path, const uint8_t *b, size_t n, int gz) {
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (!gz) {
    if (n && fwrite(b, 1, n, f) != n) abort();
  } else {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    uInt cap = (uInt)deflateBound(&z, (uLong)n);
    unsigned char *out = malloc(cap);
    if (!out) abort();
    z.next_in = (Bytef *)b;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    if (fwrite(out, 1, cap - z.avail_out, f) != cap - z.avail_out) abort();
    deflateEnd(&z);
    free(out);
  }
  if (fclose(f) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3 || size > (1u << 20)) return 0;
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/mt_fuzz_idx_XXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(img_path, sizeof img_path, "%s/images", dir);
    snprintf(lbl_path, sizeof lbl_path, "%s/labels", dir);
  }
  uint32_t flags = data[0];
  size_t rest = size - 3, split = ((size_t)data[1] | (size_t)data[2] << 8) % (rest + 1);
  put(img_path, data + 3, split, flags & 1);
  put(lbl_path, data + 3 + split, rest - split, (flags >> 1) & 1);
  uint32_t limit = flags & 4 ? (flags >> 3) : 0;
  mt_dataset_t d, keep;
  memset(&d, 0x5A, sizeof d);
  keep = d;
  char err[512] = "";
  if (mt_dataset_load_idx(img_path, lbl_path, limit, &d, err, sizeof err) != 0) {
    if (memcmp(&d, &keep, sizeof d) != 0) abort();
    if (!strstr(err, dir)) abort(); /* the message names the file */
    return 0;
  }
  if (limit && d.count > limit) abort();
  if (d.rows == 0 || d.cols == 0 || d.classes != MT_DATASET_CLASSES) abort();
  for (uint32_t i = 0; i < d.count; i++)
    if (d.labels[i] >= d.classes) abort();
  volatile uint8_t sink = d.count ? d.images[(size_t)d.count * d.rows * d.cols - 1] : 0; /* in bounds */
  (void)sink;
  mt_dataset_free(&d);
  return 0;
}
