/* Training checkpoints (--resume: host/src/mt_ckpt.c, mt_train_ckpt.c and each
 * algorithm's section): a file that is not exactly a checkpoint of this run
 * must be refused with a message naming it, never crash, hang or leak; one
 * that is accepted must train on to the end. Byte 0 picks the run (siamese
 * with --accumulate, ssm, biased, or metaplastic with --optimizer adam and --batchnorm, whose
 * checkpoint has the optimizer section, on a tiny network) and the mode: raw (the
 * input is the file) or patched (the run's valid checkpoint with the input's
 * (offset, value) patches applied and, if asked, every section's and the
 * file's checksum recomputed, so the fuzzer gets past the checksums to the
 * content checks). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "memtile.h"
#include "mt_preset.h"
#include "mt_train.h"

#define N_RUNS 4
#define SIDE 4u

static mt_preset_t preset;
static mt_dataset_t train_set, test_set;
static uint8_t images[12 * SIDE * SIDE], labels[12];
static mt_train_opts opts[N_RUNS];
static unsigned char *valid[N_RUNS], *work;
static size_t valid_n[N_RUNS], work_cap;
static char path[64];

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p) {
  return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Recomputes the CRC of every section the file's table still describes, then the file's. */
static void fix_checksums(unsigned char *b, size_t n) {
  if (n < 12) return;
  size_t p = 8;
  while (p + 4 <= n - 4) {
    size_t nl = get32(b + p);
    if (nl > n || p + 4 + nl + 12 > n - 4) break;
    size_t hdr = p + 4 + nl;
    uint64_t len = get32(b + hdr) | (uint64_t)get32(b + hdr + 4) << 32;
    if (len > n - 4 - (hdr + 12)) break;
    put32(b + hdr + 8, (uint32_t)crc32(0L, b + hdr + 12, (uInt)len));
    p = hdr + 12 + (size_t)len;
  }
  put32(b + n - 4, (uint32_t)crc32(0L, b, (uInt)(n - 4)));
}

static int run(const mt_train_opts *o, char *err, size_t errlen) {
  mt_dev *dev = NULL;
  char uri[64];
  snprintf(uri, sizeof uri, "model://?tiles=%u", mt_train_tiles_needed(o));
  if (mt_dev_open(uri, &dev) != MT_OK) abort();
  int rc = mt_train_run(o, &train_set, &test_set, dev, &preset, NULL, err, errlen);
  mt_dev_close(dev);
  return rc;
}

static unsigned char *slurp(const char *p, size_t *n) {
  FILE *f = fopen(p, "rb");
  if (!f) abort();
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(*n);
  if (!b || fread(b, 1, *n, f) != *n) abort();
  fclose(f);
  return b;
}

/* Tiny datasets, the preset, and one epoch of each run with its checkpoint. */
static void init(void) {
  char err[512];
  if (mt_preset_load(MT_SOURCE_DIR "/presets/rram-2bit.json", &preset, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    abort();
  }
  uint64_t x = 7;
  for (size_t k = 0; k < sizeof images; k++) images[k] = (uint8_t)((x = x * 6364136223846793005ull + 1) >> 56);
  for (size_t k = 0; k < sizeof labels; k++) labels[k] = (uint8_t)(k % 3);
  train_set = (mt_dataset_t){8, SIDE, SIDE, images, labels, 3};
  test_set = (mt_dataset_t){4, SIDE, SIDE, images + 8 * SIDE * SIDE, labels + 8, 3};
  snprintf(path, sizeof path, "/tmp/fuzz_ckpt_%d.ckpt", (int)getpid());
  static const mt_algo algos[N_RUNS] = {MT_ALGO_SIAMESE, MT_ALGO_SSM, MT_ALGO_BIASED,
                                        MT_ALGO_METAPLASTIC};
  for (int r = 0; r < N_RUNS; r++) {
    mt_train_opts *o = &opts[r];
    mt_train_defaults(o);
    o->algo = algos[r];
    o->sizes[0] = SIDE * SIDE, o->sizes[1] = 4, o->sizes[2] = 3, o->n_layers = 2;
    o->batch = 4;
    o->epochs = 1;
    o->accumulate = 3;
    if (o->algo == MT_ALGO_METAPLASTIC) {
      o->accumulate = 1;
      o->optimizer = MT_OPTIM_ADAM;
      o->batchnorm = 1;
    }
    o->checkpoint = path;
    if (run(o, err, sizeof err) != 0) {
      fprintf(stderr, "%s\n", err);
      abort();
    }
    valid[r] = slurp(path, &valid_n[r]);
    if (valid_n[r] + 64 > work_cap) work_cap = valid_n[r] + 64;
    o->checkpoint = NULL;
    o->resume = path;
    o->epochs = 2;
  }
  work = malloc(work_cap);
  if (!work) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!work) init();
  if (size < 1) return 0;
  int r = (data[0] >> 2) % N_RUNS;
  fz_in in = {data + 1, size - 1};
  size_t n;
  if (data[0] & 1) {
    n = size - 1 < work_cap ? size - 1 : work_cap;
    memcpy(work, data + 1, n);
  } else {
    n = valid_n[r];
    memcpy(work, valid[r], n);
    while (in.n >= 5) {
      size_t at = fz_u32(&in) % n;
      work[at] = (unsigned char)fz_u8(&in);
    }
    if (data[0] & 2) fix_checksums(work, n);
  }
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(work, 1, n, f) != n || fclose(f) != 0) abort();
  char err[512] = "";
  if (run(&opts[r], err, sizeof err) != 0 && !strstr(err, path)) {
    fprintf(stderr, "refused without naming the file: %s\n", err);
    abort();
  }
  unlink(path);
  return 0;
}
