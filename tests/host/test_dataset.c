/* IDX dataset loader: the real MNIST / Fashion-MNIST test sets against
 * reference values, and hand-made broken files (plain and gzip) against the
 * error each must produce. */
#define _XOPEN_SOURCE 700 /* mkdtemp, setenv, nftw */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "memtile.h"
#include "mt_dataset.h"

#define MNIST_DIR MT_SOURCE_DIR "/../shared/data/mnist"
#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define PATH_LEN 4096
#define ERR_LEN 2048

/* Reference values computed independently (Python gzip + struct) from the
 * official files; the histograms are the published class counts. */
static const uint32_t MNIST_TEST_HIST[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
static const uint32_t MNIST_TRAIN_HIST[10] = {5923, 6742, 5958, 6131, 5842,
                                              5421, 5918, 6265, 5851, 5949};
#define MNIST_TEST_PIXEL_SUM 264923200ull
#define MNIST_TEST_FNV 0x8614c3e55764d65full
#define MNIST_TEST_FIRST100_SUM 2396707ull
#define FASHION_TEST_PIXEL_SUM 573469082ull
#define FASHION_TEST_FNV 0x1b11fc03671b2f71ull

typedef struct {
  char dir[PATH_LEN];
} fixture_t;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h = (h ^ p[i]) * 0x100000001b3ull;
  }
  return h;
}

static uint64_t sum_bytes(const uint8_t *p, size_t n)
{
  uint64_t s = 0;
  for (size_t i = 0; i < n; i++) {
    s += p[i];
  }
  return s;
}

static void histogram(const mt_dataset_t *d, uint32_t hist[10])
{
  memset(hist, 0, 10 * sizeof hist[0]);
  for (uint32_t i = 0; i < d->count; i++) {
    assert_true(d->labels[i] < 10);
    hist[d->labels[i]]++;
  }
}

static void put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void join(char *dst, const char *dir, const char *name)
{
  int n = snprintf(dst, PATH_LEN, "%s/%s", dir, name);
  assert_true(n > 0 && n < PATH_LEN);
}

/* gzip of len bytes into a new buffer (*out_len set). */
static uint8_t *gzip_bytes(const uint8_t *data, size_t len, size_t *out_len)
{
  z_stream z;
  memset(&z, 0, sizeof z);
  assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  size_t cap = deflateBound(&z, (uLong)len) + 64;
  uint8_t *out = malloc(cap);
  assert_non_null(out);
  z.next_in = (Bytef *)(uintptr_t)data;
  z.avail_in = (uInt)len;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
  *out_len = cap - z.avail_out;
  deflateEnd(&z);
  return out;
}

static void write_raw(const char *path, const uint8_t *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  if (len > 0) {
    assert_int_equal(fwrite(data, 1, len, f), len);
  }
  assert_int_equal(fclose(f), 0);
}

/* Writes data to dir/name, gzip-compressed when gz (the name is not changed:
 * the loader must tell by content). Returns the path in path. */
static void write_file(const char *dir, const char *name, const uint8_t *data, size_t len, int gz,
                       char *path)
{
  join(path, dir, name);
  if (!gz) {
    write_raw(path, data, len);
    return;
  }
  size_t zlen;
  uint8_t *z = gzip_bytes(data, len, &zlen);
  write_raw(path, z, zlen);
  free(z);
}

typedef struct {
  uint8_t *b;
  size_t len;
} blob_t;

/* An IDX images file: header as given, then data_len bytes of a pattern. */
static blob_t images_blob(uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols,
                          size_t data_len)
{
  blob_t x = {malloc(16 + data_len + 1), 16 + data_len};
  assert_non_null(x.b);
  put32(x.b, magic);
  put32(x.b + 4, count);
  put32(x.b + 8, rows);
  put32(x.b + 12, cols);
  for (size_t i = 0; i < data_len; i++) {
    x.b[16 + i] = (uint8_t)(i * 7 + 3);
  }
  return x;
}

/* A well-formed images file: count images of rows x cols. */
static blob_t good_images(uint32_t count, uint32_t rows, uint32_t cols)
{
  return images_blob(0x803, count, rows, cols, (size_t)count * rows * cols);
}

/* An IDX labels file with labels i % 10, or the given ones. */
static blob_t labels_blob(uint32_t magic, uint32_t count, const uint8_t *labels, size_t n)
{
  blob_t x = {malloc(8 + n + 1), 8 + n};
  assert_non_null(x.b);
  put32(x.b, magic);
  put32(x.b + 4, count);
  for (size_t i = 0; i < n; i++) {
    x.b[8 + i] = labels != NULL ? labels[i] : (uint8_t)(i % 10);
  }
  return x;
}

static blob_t good_labels(uint32_t count)
{
  return labels_blob(0x801, count, NULL, count);
}

static void write_blob(const char *dir, const char *name, blob_t x, int gz, char *path)
{
  write_file(dir, name, x.b, x.len, gz, path);
  free(x.b);
}

/* Writes the four standard files into dir (created if missing). */
static void write_set(const char *dir, uint32_t ntrain, uint32_t ntest, uint32_t rows,
                      uint32_t cols, int gz)
{
  char p[PATH_LEN];
  mkdir(dir, 0755);
  write_blob(dir, gz ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte",
             good_images(ntrain, rows, cols), gz, p);
  write_blob(dir, gz ? "train-labels-idx1-ubyte.gz" : "train-labels-idx1-ubyte",
             good_labels(ntrain), gz, p);
  write_blob(dir, gz ? "t10k-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte",
             good_images(ntest, rows, cols), gz, p);
  write_blob(dir, gz ? "t10k-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte", good_labels(ntest),
             gz, p);
}

/* The loader must fail with code, leave *out alone, and name the file and every
 * fragment (a NULL-terminated list, see EXPECT_LOAD_ERROR). */
static void expect_load_error(int code, const char *images, const char *labels, const char *culprit,
                              const char *const *frags)
{
  char err[ERR_LEN] = "";
  mt_dataset_t d;
  memset(&d, 0xAB, sizeof d);
  mt_dataset_t before = d;
  int rc = mt_dataset_load_idx(images, labels, 0, &d, err, sizeof err);
  if (rc != code) {
    fail_msg("%s, want %s: %s", mt_err_name(rc), mt_err_name(code), err);
  }
  assert_memory_equal(&d, &before, sizeof d);
  if (strstr(err, culprit) == NULL) {
    fail_msg("error does not name %s: %s", culprit, err);
  }
  for (; *frags != NULL; frags++) {
    if (strstr(err, *frags) == NULL) {
      fail_msg("error lacks \"%s\": %s", *frags, err);
    }
  }
}

/* Invalid content: MT_ERR_FILE. */
#define EXPECT_LOAD_ERROR(images, labels, culprit, ...)                                            \
  expect_load_error(MT_ERR_FILE, images, labels, culprit, (const char *const[]){__VA_ARGS__, NULL})
/* A file that cannot be opened or read: MT_ERR_IO. */
#define EXPECT_OPEN_ERROR(images, labels, culprit, ...)                                            \
  expect_load_error(MT_ERR_IO, images, labels, culprit, (const char *const[]){__VA_ARGS__, NULL})

/* Saves and restores the environment variables the resolver reads. */
typedef struct {
  char *memtile_data, *home;
} env_t;

static char *dup_env(const char *name)
{
  const char *v = getenv(name);
  if (v == NULL) {
    return NULL;
  }
  char *c = malloc(strlen(v) + 1);
  assert_non_null(c);
  strcpy(c, v);
  return c;
}

static env_t env_save(void)
{
  env_t e = {dup_env("MEMTILE_DATA"), dup_env("HOME")};
  return e;
}

static void env_put(const char *name, const char *value)
{
  if (value != NULL) {
    assert_int_equal(setenv(name, value, 1), 0);
  } else {
    assert_int_equal(unsetenv(name), 0);
  }
}

static void env_restore(env_t *e)
{
  env_put("MEMTILE_DATA", e->memtile_data);
  env_put("HOME", e->home);
  free(e->memtile_data);
  free(e->home);
}

/* ------------------------------------------------------------------ */
/* Real data                                                           */

static void mnist_test_set_matches_reference(void **state)
{
  (void)state;
  char err[ERR_LEN] = "";
  mt_dataset_t d = {0};
  int rc = mt_dataset_load_idx(MNIST_DIR "/t10k-images-idx3-ubyte.gz",
                               MNIST_DIR "/t10k-labels-idx1-ubyte.gz", 0, &d, err, sizeof err);
  if (rc != 0) {
    fail_msg("%s", err);
  }
  assert_int_equal(d.count, 10000);
  assert_int_equal(d.rows, 28);
  assert_int_equal(d.cols, 28);
  assert_int_equal(d.classes, 10);
  assert_int_equal(d.labels[0], 7);
  uint32_t hist[10];
  histogram(&d, hist);
  assert_memory_equal(hist, MNIST_TEST_HIST, sizeof hist);
  size_t n = (size_t)d.count * d.rows * d.cols;
  assert_int_equal(sum_bytes(d.images, n), MNIST_TEST_PIXEL_SUM);
  assert_int_equal(fnv1a(d.images, n), MNIST_TEST_FNV);
  mt_dataset_free(&d);
  assert_null(d.images);
  assert_int_equal(d.count, 0);
  mt_dataset_free(&d); /* twice is harmless */
  mt_dataset_free(NULL);
}

static void fashion_test_set_matches_reference(void **state)
{
  (void)state;
  struct stat st;
  if (stat(FASHION_DIR, &st) != 0) {
    skip();
  }
  char err[ERR_LEN] = "";
  mt_dataset_t d = {0};
  int rc = mt_dataset_load_idx(FASHION_DIR "/t10k-images-idx3-ubyte.gz",
                               FASHION_DIR "/t10k-labels-idx1-ubyte.gz", 0, &d, err, sizeof err);
  if (rc != 0) {
    fail_msg("%s", err);
  }
  assert_int_equal(d.count, 10000);
  assert_int_equal(d.rows, 28);
  assert_int_equal(d.cols, 28);
  assert_int_equal(d.labels[0], 9);
  uint32_t hist[10];
  histogram(&d, hist);
  for (int c = 0; c < 10; c++) {
    assert_int_equal(hist[c], 1000);
  }
  size_t n = (size_t)d.count * d.rows * d.cols;
  assert_int_equal(sum_bytes(d.images, n), FASHION_TEST_PIXEL_SUM);
  assert_int_equal(fnv1a(d.images, n), FASHION_TEST_FNV);
  mt_dataset_free(&d);
}

static void mnist_by_name_gives_train_and_test(void **state)
{
  (void)state;
  env_t env = env_save();
  env_put("MEMTILE_DATA", NULL);
  char err[ERR_LEN] = "";
  mt_dataset_t tr = {0}, te = {0};
  int rc = mt_dataset_open("mnist", MT_SOURCE_DIR, 0, 0, &tr, &te, err, sizeof err);
  env_restore(&env);
  if (rc != 0) {
    fail_msg("%s", err);
  }
  assert_int_equal(tr.count, 60000);
  assert_int_equal(te.count, 10000);
  assert_int_equal(tr.labels[0], 5);
  assert_int_equal(te.labels[0], 7);
  uint32_t hist[10];
  histogram(&tr, hist);
  assert_memory_equal(hist, MNIST_TRAIN_HIST, sizeof hist);
  histogram(&te, hist);
  assert_memory_equal(hist, MNIST_TEST_HIST, sizeof hist);
  mt_dataset_free(&tr);
  mt_dataset_free(&te);
}

static void fashion_by_name_uses_the_debian_package(void **state)
{
  (void)state;
  struct stat st;
  if (stat(FASHION_DIR, &st) != 0) {
    skip();
  }
  env_t env = env_save();
  env_put("MEMTILE_DATA", NULL);
  char err[ERR_LEN] = "";
  mt_dataset_t tr = {0}, te = {0};
  int rc = mt_dataset_open("fashion-mnist", NULL, 100, 0, &tr, &te, err, sizeof err);
  env_restore(&env);
  if (rc != 0) {
    fail_msg("%s", err);
  }
  assert_int_equal(tr.count, 100);
  assert_int_equal(te.count, 10000);
  assert_int_equal(tr.labels[0], 9);
  assert_int_equal(te.labels[0], 9);
  mt_dataset_free(&tr);
  mt_dataset_free(&te);
}

static void limit_keeps_a_prefix(void **state)
{
  (void)state;
  const char *im = MNIST_DIR "/t10k-images-idx3-ubyte.gz";
  const char *lb = MNIST_DIR "/t10k-labels-idx1-ubyte.gz";
  char err[ERR_LEN] = "";
  mt_dataset_t all = {0}, some = {0}, more = {0}, one = {0};
  assert_int_equal(mt_dataset_load_idx(im, lb, 0, &all, err, sizeof err), 0);
  assert_int_equal(mt_dataset_load_idx(im, lb, 100, &some, err, sizeof err), 0);
  assert_int_equal(mt_dataset_load_idx(im, lb, 20000, &more, err, sizeof err), 0);
  assert_int_equal(mt_dataset_load_idx(im, lb, 1, &one, err, sizeof err), 0);
  assert_int_equal(some.count, 100);
  assert_int_equal(more.count, 10000); /* above the set's size: all of it, no error */
  assert_int_equal(one.count, 1);
  assert_int_equal(one.labels[0], 7);
  assert_memory_equal(some.labels, all.labels, 100);
  assert_memory_equal(some.images, all.images, 100 * 784);
  assert_int_equal(sum_bytes(some.images, 100 * 784), MNIST_TEST_FIRST100_SUM);
  assert_memory_equal(more.images, all.images, 10000 * 784);
  mt_dataset_free(&all);
  mt_dataset_free(&some);
  mt_dataset_free(&more);
  mt_dataset_free(&one);
}

/* The centre crop keeps pixel (4 + i, 4 + j) of a 28x28 image at (i, j) of 20x20, for every
 * image (in place: later images move further); the whole size changes nothing; an odd size
 * rounds the offset down; 0 and sizes past the images are refused. */
static void crop_keeps_the_centre(void **state)
{
  (void)state;
  const char *im = MNIST_DIR "/t10k-images-idx3-ubyte.gz";
  const char *lb = MNIST_DIR "/t10k-labels-idx1-ubyte.gz";
  char err[ERR_LEN] = "";
  mt_dataset_t all = {0}, c20 = {0}, c28 = {0}, c5 = {0};
  assert_int_equal(mt_dataset_load_idx(im, lb, 50, &all, err, sizeof err), 0);
  assert_int_equal(mt_dataset_load_idx(im, lb, 50, &c20, err, sizeof err), 0);
  assert_int_equal(mt_dataset_load_idx(im, lb, 50, &c28, err, sizeof err), 0);
  assert_int_equal(mt_dataset_load_idx(im, lb, 50, &c5, err, sizeof err), 0);
  assert_int_equal(mt_dataset_crop(&c20, 20, err, sizeof err), 0);
  assert_int_equal(mt_dataset_crop(&c28, 28, err, sizeof err), 0);
  assert_int_equal(mt_dataset_crop(&c5, 5, err, sizeof err), 0);
  assert_int_equal(c20.rows, 20);
  assert_int_equal(c20.cols, 20);
  assert_int_equal(c20.count, 50);
  assert_int_equal(c5.rows, 5);
  assert_memory_equal(c28.images, all.images, 50 * 784);
  assert_memory_equal(c20.labels, all.labels, 50);
  uint64_t kept = 0;
  for (uint32_t n = 0; n < 50; n++) {
    for (uint32_t i = 0; i < 20; i++) {
      for (uint32_t j = 0; j < 20; j++) {
        uint8_t want = all.images[n * 784 + (4 + i) * 28 + 4 + j];
        assert_int_equal(c20.images[n * 400 + i * 20 + j], want);
        kept += want;
      }
    }
    for (uint32_t i = 0; i < 5; i++) {
      for (uint32_t j = 0; j < 5; j++) {
        assert_int_equal(c5.images[n * 25 + i * 5 + j], all.images[n * 784 + (11 + i) * 28 + 11 + j]);
      }
    }
  }
  /* MNIST's digits sit in the centre: the crop keeps nearly all the ink. */
  uint64_t ink = sum_bytes(all.images, 50 * 784);
  assert_true(kept > ink * 9 / 10 && kept < ink);
  assert_int_equal(mt_dataset_crop(&c20, 21, err, sizeof err), MT_ERR_INVAL);
  assert_string_equal(err, "crop 21: must be 1..20 (the images are 20x20)");
  assert_int_equal(mt_dataset_crop(&c20, 0, err, sizeof err), MT_ERR_INVAL);
  assert_int_equal(c20.rows, 20); /* a refused crop leaves the set as it was */
  mt_dataset_free(&all);
  mt_dataset_free(&c20);
  mt_dataset_free(&c28);
  mt_dataset_free(&c5);
}

/* ------------------------------------------------------------------ */
/* Hand-made files                                                      */

static void plain_gzip_and_multi_member_gzip_agree(void **state)
{
  const fixture_t *fx = *state;
  char im[PATH_LEN], lb[PATH_LEN], imz[PATH_LEN], lbz[PATH_LEN], imm[PATH_LEN], err[ERR_LEN] = "";
  write_blob(fx->dir, "ok-images", good_images(5, 2, 3), 0, im);
  write_blob(fx->dir, "ok-labels", good_labels(5), 0, lb);
  write_blob(fx->dir, "ok-images.idx", good_images(5, 2, 3), 1, imz); /* gzip, no .gz name */
  write_blob(fx->dir, "ok-labels.gz", good_labels(5), 1, lbz);
  /* gzip -c a >f; gzip -c b >>f: two members, as concatenating tools make */
  blob_t x = good_images(5, 2, 3);
  size_t l1, l2;
  uint8_t *z1 = gzip_bytes(x.b, 10, &l1), *z2 = gzip_bytes(x.b + 10, x.len - 10, &l2);
  uint8_t *cat = malloc(l1 + l2);
  assert_non_null(cat);
  memcpy(cat, z1, l1);
  memcpy(cat + l1, z2, l2);
  join(imm, fx->dir, "ok-images-2members");
  write_raw(imm, cat, l1 + l2);
  free(cat);
  free(z1);
  free(z2);
  free(x.b);

  mt_dataset_t a = {0}, b = {0}, c = {0};
  assert_int_equal(mt_dataset_load_idx(im, lb, 0, &a, err, sizeof err), 0);
  assert_int_equal(mt_dataset_load_idx(imz, lbz, 0, &b, err, sizeof err), 0);
  assert_int_equal(mt_dataset_load_idx(imm, lb, 0, &c, err, sizeof err), 0);
  assert_int_equal(a.count, 5);
  assert_int_equal(a.rows, 2);
  assert_int_equal(a.cols, 3);
  assert_int_equal(a.labels[4], 4);
  assert_int_equal(a.images[1], 10);
  assert_memory_equal(a.images, b.images, 30);
  assert_memory_equal(a.images, c.images, 30);
  assert_memory_equal(a.labels, b.labels, 5);
  mt_dataset_free(&a);
  mt_dataset_free(&b);
  mt_dataset_free(&c);
}

static void wrong_magic_says_found_and_expected(void **state)
{
  const fixture_t *fx = *state;
  for (int gz = 0; gz < 2; gz++) {
    char im[PATH_LEN], lb[PATH_LEN], bad[PATH_LEN];
    write_blob(fx->dir, gz ? "m-images.gz" : "m-images", good_images(2, 2, 2), gz, im);
    write_blob(fx->dir, gz ? "m-labels.gz" : "m-labels", good_labels(2), gz, lb);
    write_blob(fx->dir, gz ? "m-bad.gz" : "m-bad", images_blob(0x12345678, 2, 2, 2, 8), gz, bad);
    /* swapped files: the hint says what the file is */
    EXPECT_LOAD_ERROR(lb, im, lb, "bad magic 0x00000801", "expected 0x00000803",
                      "this is an IDX labels file");
    EXPECT_LOAD_ERROR(im, im, im, "bad magic 0x00000803", "expected 0x00000801");
    EXPECT_LOAD_ERROR(bad, lb, bad, "bad magic 0x12345678", "expected 0x00000803");
  }
}

static void truncated_header_is_reported(void **state)
{
  const fixture_t *fx = *state;
  for (int gz = 0; gz < 2; gz++) {
    char im[PATH_LEN], lb[PATH_LEN], tiny[PATH_LEN], okl[PATH_LEN], oki[PATH_LEN];
    blob_t x = good_images(2, 2, 2);
    write_file(fx->dir, gz ? "th-images.gz" : "th-images", x.b, 10, gz, im);
    write_file(fx->dir, gz ? "th-tiny.gz" : "th-tiny", x.b, 2, gz, tiny);
    free(x.b);
    blob_t y = good_labels(2);
    write_file(fx->dir, gz ? "th-labels.gz" : "th-labels", y.b, 6, gz, lb);
    free(y.b);
    write_blob(fx->dir, "th-ok-labels", good_labels(2), 0, okl);
    write_blob(fx->dir, "th-ok-images", good_images(2, 2, 2), 0, oki);
    EXPECT_LOAD_ERROR(im, okl, im, "truncated header", "10 bytes", "header has 16");
    EXPECT_LOAD_ERROR(tiny, okl, tiny, "truncated header", "2 bytes");
    EXPECT_LOAD_ERROR(oki, lb, lb, "truncated header", "6 bytes", "header has 8");
  }
}

static void short_data_says_held_and_promised(void **state)
{
  const fixture_t *fx = *state;
  for (int gz = 0; gz < 2; gz++) {
    char im[PATH_LEN], lb[PATH_LEN], okl[PATH_LEN], oki[PATH_LEN];
    write_blob(fx->dir, gz ? "sd-images.gz" : "sd-images", images_blob(0x803, 3, 2, 2, 7), gz, im);
    write_blob(fx->dir, gz ? "sd-labels.gz" : "sd-labels", labels_blob(0x801, 3, NULL, 2), gz, lb);
    write_blob(fx->dir, "sd-ok-labels", good_labels(3), 0, okl);
    write_blob(fx->dir, "sd-ok-images", good_images(3, 2, 2), 0, oki);
    EXPECT_LOAD_ERROR(im, okl, im, "file holds 7 bytes of image data, header promises 12");
    EXPECT_LOAD_ERROR(oki, lb, lb, "file holds 2 bytes of label data, header promises 3");
  }
}

/* A header promising 39 GB over 12 bytes must cost 12 bytes: under ASan an
 * allocation of the promised size would abort the test. */
static void header_promising_far_more_is_not_believed(void **state)
{
  const fixture_t *fx = *state;
  for (int gz = 0; gz < 2; gz++) {
    char im[PATH_LEN], lb[PATH_LEN], okl[PATH_LEN];
    write_blob(fx->dir, gz ? "hp-images.gz" : "hp-images", images_blob(0x803, 50000000, 28, 28, 12),
               gz, im);
    write_blob(fx->dir, gz ? "hp-labels.gz" : "hp-labels", labels_blob(0x801, 99999999, NULL, 3),
               gz, lb);
    write_blob(fx->dir, "hp-ok-labels", good_labels(3), 0, okl);
    EXPECT_LOAD_ERROR(im, okl, im,
                      "file holds 12 bytes of image data, header promises 39200000000");
    char oki[PATH_LEN];
    write_blob(fx->dir, "hp-ok-images", good_images(3, 1, 1), 0, oki);
    EXPECT_LOAD_ERROR(oki, lb, lb, "file holds 3 bytes of label data, header promises 99999999");
  }
}

static void trailing_garbage_is_rejected(void **state)
{
  const fixture_t *fx = *state;
  for (int gz = 0; gz < 2; gz++) {
    char im[PATH_LEN], lb[PATH_LEN], okl[PATH_LEN], oki[PATH_LEN];
    write_blob(fx->dir, gz ? "tg-images.gz" : "tg-images", images_blob(0x803, 3, 2, 2, 17), gz, im);
    write_blob(fx->dir, gz ? "tg-labels.gz" : "tg-labels", labels_blob(0x801, 3, NULL, 4), gz, lb);
    write_blob(fx->dir, "tg-ok-labels", good_labels(3), 0, okl);
    write_blob(fx->dir, "tg-ok-images", good_images(3, 2, 2), 0, oki);
    EXPECT_LOAD_ERROR(im, okl, im, "trailing garbage: 5 bytes after the 12 bytes of image data");
    EXPECT_LOAD_ERROR(oki, lb, lb, "trailing garbage: 1 bytes after the 3 bytes of label data");
  }
}

static void count_mismatch_names_both_files(void **state)
{
  const fixture_t *fx = *state;
  for (int gz = 0; gz < 2; gz++) {
    char im[PATH_LEN], lb[PATH_LEN];
    write_blob(fx->dir, gz ? "cm-images.gz" : "cm-images", good_images(3, 2, 2), gz, im);
    write_blob(fx->dir, gz ? "cm-labels.gz" : "cm-labels", good_labels(2), gz, lb);
    EXPECT_LOAD_ERROR(im, lb, im, lb, "3 images", "2 labels");
  }
}

static void label_out_of_range_is_rejected(void **state)
{
  const fixture_t *fx = *state;
  for (int gz = 0; gz < 2; gz++) {
    char im[PATH_LEN], lb[PATH_LEN], lb2[PATH_LEN];
    const uint8_t ten[4] = {0, 10, 3, 4}, big[4] = {1, 2, 3, 255};
    write_blob(fx->dir, gz ? "lr-images.gz" : "lr-images", good_images(4, 2, 2), gz, im);
    write_blob(fx->dir, gz ? "lr-labels.gz" : "lr-labels", labels_blob(0x801, 4, ten, 4), gz, lb);
    write_blob(fx->dir, gz ? "lr-labels2.gz" : "lr-labels2", labels_blob(0x801, 4, big, 4), gz,
               lb2);
    EXPECT_LOAD_ERROR(im, lb, lb, "label 10 of example 1", "must be < 10");
    /* also beyond a limit: the whole file is checked */
    char err[ERR_LEN] = "";
    mt_dataset_t d = {0};
    assert_int_equal(mt_dataset_load_idx(im, lb2, 2, &d, err, sizeof err), MT_ERR_FILE);
    assert_non_null(strstr(err, "label 255 of example 3"));
    assert_non_null(strstr(err, lb2));
  }
}

static void zero_and_absurd_dimensions_are_rejected(void **state)
{
  const fixture_t *fx = *state;
  for (int gz = 0; gz < 2; gz++) {
    char r0[PATH_LEN], c0[PATH_LEN], n0[PATH_LEN], l0[PATH_LEN], big[PATH_LEN], many[PATH_LEN];
    char okl[PATH_LEN], oki[PATH_LEN];
    write_blob(fx->dir, gz ? "zd-rows.gz" : "zd-rows", images_blob(0x803, 2, 0, 2, 0), gz, r0);
    write_blob(fx->dir, gz ? "zd-cols.gz" : "zd-cols", images_blob(0x803, 2, 2, 0, 0), gz, c0);
    write_blob(fx->dir, gz ? "zd-count.gz" : "zd-count", images_blob(0x803, 0, 2, 2, 0), gz, n0);
    write_blob(fx->dir, gz ? "zd-labels.gz" : "zd-labels", labels_blob(0x801, 0, NULL, 0), gz, l0);
    write_blob(fx->dir, gz ? "zd-big.gz" : "zd-big", images_blob(0x803, 1, 5000, 2, 8), gz, big);
    write_blob(fx->dir, gz ? "zd-many.gz" : "zd-many", images_blob(0x803, 100000001, 1, 1, 8), gz,
               many);
    write_blob(fx->dir, "zd-ok-labels", good_labels(2), 0, okl);
    write_blob(fx->dir, "zd-ok-images", good_images(2, 2, 2), 0, oki);
    EXPECT_LOAD_ERROR(r0, okl, r0, "invalid header: 0 rows");
    EXPECT_LOAD_ERROR(c0, okl, c0, "invalid header: 0 cols");
    EXPECT_LOAD_ERROR(n0, okl, n0, "invalid header: 0 images");
    EXPECT_LOAD_ERROR(oki, l0, l0, "invalid header: 0 labels");
    EXPECT_LOAD_ERROR(big, okl, big, "5000 rows (at most 4096)");
    EXPECT_LOAD_ERROR(many, okl, many, "100000001 images (at most 100000000)");
  }
}

static void empty_files_are_rejected(void **state)
{
  const fixture_t *fx = *state;
  char e[PATH_LEN], ez[PATH_LEN], okl[PATH_LEN], oki[PATH_LEN];
  write_file(fx->dir, "empty", NULL, 0, 0, e);
  write_file(fx->dir, "empty.gz", (const uint8_t *)"", 0, 1, ez);
  write_blob(fx->dir, "em-ok-labels", good_labels(2), 0, okl);
  write_blob(fx->dir, "em-ok-images", good_images(2, 2, 2), 0, oki);
  EXPECT_LOAD_ERROR(e, okl, e, "empty file");
  EXPECT_LOAD_ERROR(oki, e, e, "empty file");
  EXPECT_LOAD_ERROR(ez, okl, ez, "empty gzip stream");
}

static void corrupt_gzip_is_reported(void **state)
{
  const fixture_t *fx = *state;
  blob_t x = good_images(4, 8, 8);
  size_t zlen;
  uint8_t *z = gzip_bytes(x.b, x.len, &zlen);
  free(x.b);
  char okl[PATH_LEN], method[PATH_LEN], block[PATH_LEN], crc[PATH_LEN], cut[PATH_LEN],
      junk[PATH_LEN];
  write_blob(fx->dir, "cz-ok-labels", good_labels(4), 0, okl);
  uint8_t *c = malloc(zlen + 4);
  assert_non_null(c);

  memcpy(c, z, zlen);
  c[2] = 7; /* compression method must be 8 (deflate) */
  join(method, fx->dir, "cz-method");
  write_raw(method, c, zlen);
  EXPECT_LOAD_ERROR(method, okl, method, "corrupt gzip stream", "unknown compression method");

  memcpy(c, z, zlen);
  c[10] = 0x07; /* first deflate block: final, type 3 (reserved) */
  join(block, fx->dir, "cz-block");
  write_raw(block, c, zlen);
  EXPECT_LOAD_ERROR(block, okl, block, "corrupt gzip stream", "invalid block type");

  memcpy(c, z, zlen);
  c[zlen - 8] ^= 0xFF; /* CRC-32 in the trailer */
  join(crc, fx->dir, "cz-crc");
  write_raw(crc, c, zlen);
  EXPECT_LOAD_ERROR(crc, okl, crc, "corrupt gzip stream", "incorrect data check");

  join(cut, fx->dir, "cz-cut");
  write_raw(cut, z, zlen / 2);
  EXPECT_LOAD_ERROR(cut, okl, cut, "truncated gzip stream");
  write_raw(cut, z, zlen - 1); /* only the last byte of the trailer missing */
  EXPECT_LOAD_ERROR(cut, okl, cut, "truncated gzip stream");

  memcpy(c, z, zlen);
  memcpy(c + zlen, "junk", 4);
  join(junk, fx->dir, "cz-junk");
  write_raw(junk, c, zlen + 4);
  EXPECT_LOAD_ERROR(junk, okl, junk, "trailing garbage after the gzip stream");
  free(c);
  free(z);
}

static void missing_or_unreadable_file_is_reported(void **state)
{
  const fixture_t *fx = *state;
  char none[PATH_LEN], okl[PATH_LEN], oki[PATH_LEN];
  join(none, fx->dir, "no-such-file");
  write_blob(fx->dir, "mf-ok-labels", good_labels(2), 0, okl);
  write_blob(fx->dir, "mf-ok-images", good_images(2, 2, 2), 0, oki);
  EXPECT_OPEN_ERROR(none, okl, none, "cannot open", "No such file or directory");
  EXPECT_OPEN_ERROR(oki, none, none, "cannot open");
  EXPECT_OPEN_ERROR(fx->dir, okl, fx->dir, "is a directory, not a regular file");
  /* err may be NULL */
  mt_dataset_t d = {0};
  assert_int_equal(mt_dataset_load_idx(none, okl, 0, &d, NULL, 0), MT_ERR_IO);
}

/* ------------------------------------------------------------------ */
/* Name resolution                                                     */

static void unknown_name_is_explained(void **state)
{
  (void)state;
  char err[ERR_LEN] = "";
  mt_dataset_t tr = {0}, te = {0};
  assert_int_equal(mt_dataset_open("x", MT_SOURCE_DIR, 0, 0, &tr, &te, err, sizeof err), MT_ERR_INVAL);
  assert_string_equal(err, "unknown dataset 'x': expected mnist, fashion-mnist or a directory");
  assert_null(tr.images);
  assert_null(te.images);
}

static void directory_with_plain_and_gzip_files(void **state)
{
  const fixture_t *fx = *state;
  char dir[PATH_LEN], p[PATH_LEN], err[ERR_LEN] = "";
  join(dir, fx->dir, "set-mixed");
  write_set(dir, 7, 3, 4, 5, 0);
  /* swap the test images for a gzip copy of itself under the .gz name */
  join(p, dir, "t10k-images-idx3-ubyte");
  assert_int_equal(remove(p), 0);
  write_blob(dir, "t10k-images-idx3-ubyte.gz", good_images(3, 4, 5), 1, p);
  mt_dataset_t tr = {0}, te = {0};
  if (mt_dataset_open(dir, NULL, 0, 2, &tr, &te, err, sizeof err) != 0) {
    fail_msg("%s", err);
  }
  assert_int_equal(tr.count, 7);
  assert_int_equal(te.count, 2);
  assert_int_equal(tr.rows, 4);
  assert_int_equal(tr.cols, 5);
  assert_int_equal(te.labels[1], 1);
  mt_dataset_free(&tr);
  mt_dataset_free(&te);
}

static void directory_missing_a_file_names_it(void **state)
{
  const fixture_t *fx = *state;
  char dir[PATH_LEN], p[PATH_LEN], err[ERR_LEN] = "";
  join(dir, fx->dir, "set-partial");
  write_set(dir, 2, 2, 2, 2, 1);
  join(p, dir, "t10k-labels-idx1-ubyte.gz");
  assert_int_equal(remove(p), 0);
  mt_dataset_t tr = {0}, te = {0};
  assert_int_equal(mt_dataset_open(dir, NULL, 0, 0, &tr, &te, err, sizeof err), MT_ERR_IO);
  assert_non_null(strstr(err, dir));
  assert_non_null(strstr(err, "no t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz"));
  assert_null(tr.images);
}

/* A FIFO in place of a data file is refused by type, without blocking (alarm: a
 * hang fails the test), and the message names the FIFO, not a missing file. */
static void fifo_is_named_not_waited_for(void **state)
{
  const fixture_t *fx = *state;
  char dir[PATH_LEN], p[PATH_LEN], okl[PATH_LEN], err[ERR_LEN] = "";
  join(p, fx->dir, "fifo-images");
  assert_int_equal(mkfifo(p, 0600), 0);
  write_blob(fx->dir, "fifo-ok-labels", good_labels(2), 0, okl);
  alarm(20);
  EXPECT_OPEN_ERROR(p, okl, p, "is a FIFO, not a regular file");

  join(dir, fx->dir, "set-fifo");
  write_set(dir, 2, 2, 2, 2, 0);
  join(p, dir, "train-images-idx3-ubyte");
  assert_int_equal(remove(p), 0);
  assert_int_equal(mkfifo(p, 0600), 0);
  mt_dataset_t tr = {0}, te = {0};
  assert_int_equal(mt_dataset_open(dir, NULL, 0, 0, &tr, &te, err, sizeof err), MT_ERR_IO);
  if (strstr(err, p) == NULL || strstr(err, "is a FIFO, not a regular file") == NULL) {
    fail_msg("directory with a FIFO: %s", err);
  }
  /* a directory under a data file's name, found through MEMTILE_DATA */
  env_t e = env_save();
  char data[PATH_LEN], mn[PATH_LEN];
  join(data, fx->dir, "data-odd");
  mkdir(data, 0755);
  join(mn, data, "mnist");
  write_set(mn, 2, 2, 2, 2, 0);
  join(p, mn, "t10k-labels-idx1-ubyte");
  assert_int_equal(remove(p), 0);
  assert_int_equal(mkdir(p, 0755), 0);
  env_put("MEMTILE_DATA", data);
  env_put("HOME", fx->dir);
  /* a root whose ../shared/data/mnist does not exist: with root = the temporary directory
   * itself, a <TMPDIR>/shared on the machine would hold the real set, and the open would
   * succeed from there instead of blaming the broken MEMTILE_DATA set */
  char nowhere[PATH_LEN];
  join(nowhere, fx->dir, "proj-without-shared");
  int rc = mt_dataset_open("mnist", nowhere, 0, 0, &tr, &te, err, sizeof err);
  env_restore(&e);
  alarm(0);
  assert_int_equal(rc, MT_ERR_IO);
  if (strstr(err, p) == NULL || strstr(err, "is a directory, not a regular file") == NULL) {
    fail_msg("MEMTILE_DATA with a directory as a file: %s", err);
  }
}

static void bad_file_in_a_set_fails_the_open(void **state)
{
  const fixture_t *fx = *state;
  char dir[PATH_LEN], p[PATH_LEN], err[ERR_LEN] = "";
  join(dir, fx->dir, "set-badtest");
  write_set(dir, 2, 2, 2, 2, 0);
  write_blob(dir, "t10k-labels-idx1-ubyte", good_labels(3), 0, p);
  mt_dataset_t tr, te;
  memset(&tr, 0x5A, sizeof tr);
  memset(&te, 0x5A, sizeof te);
  mt_dataset_t before = tr;
  assert_int_equal(mt_dataset_open(dir, NULL, 0, 0, &tr, &te, err, sizeof err), MT_ERR_FILE);
  assert_non_null(strstr(err, "2 images"));
  assert_non_null(strstr(err, "3 labels"));
  assert_memory_equal(&tr, &before, sizeof tr); /* the good train set is not handed out */
  assert_memory_equal(&te, &before, sizeof te);

  join(dir, fx->dir, "set-sizes");
  write_set(dir, 2, 2, 2, 2, 0);
  write_blob(dir, "t10k-images-idx3-ubyte", good_images(2, 3, 3), 0, p);
  assert_int_equal(mt_dataset_open(dir, NULL, 0, 0, &tr, &te, err, sizeof err), MT_ERR_FILE);
  assert_non_null(strstr(err, "2x2 images"));
  assert_non_null(strstr(err, "3x3"));
}

static void memtile_data_is_searched_first(void **state)
{
  const fixture_t *fx = *state;
  char data[PATH_LEN], sub[PATH_LEN], err[ERR_LEN] = "";
  join(data, fx->dir, "memtile-data");
  mkdir(data, 0755);
  join(sub, data, "mnist");
  write_set(sub, 11, 4, 2, 2, 1);
  join(sub, data, "fashion-mnist");
  write_set(sub, 13, 5, 2, 2, 0);
  env_t env = env_save();
  env_put("MEMTILE_DATA", data);
  mt_dataset_t tr = {0}, te = {0}, ftr = {0}, fte = {0};
  int rc = mt_dataset_open("mnist", MT_SOURCE_DIR, 0, 0, &tr, &te, err, sizeof err);
  int frc =
      rc == 0 ? mt_dataset_open("fashion-mnist", NULL, 0, 0, &ftr, &fte, err, sizeof err) : -1;
  env_restore(&env);
  if (rc != 0 || frc != 0) {
    fail_msg("%s", err);
  }
  assert_int_equal(tr.count, 11); /* not the real 60000 */
  assert_int_equal(te.count, 4);
  assert_int_equal(ftr.count, 13);
  assert_int_equal(fte.count, 5);
  mt_dataset_free(&tr);
  mt_dataset_free(&te);
  mt_dataset_free(&ftr);
  mt_dataset_free(&fte);
}

static void root_relative_default_after_memtile_data(void **state)
{
  const fixture_t *fx = *state;
  char root[PATH_LEN], p[PATH_LEN], empty[PATH_LEN], err[ERR_LEN] = "";
  /* <root>/../shared/data/mnist with root = <tmp>/proj */
  join(root, fx->dir, "proj");
  mkdir(root, 0755);
  join(p, fx->dir, "shared");
  mkdir(p, 0755);
  join(p, fx->dir, "shared/data");
  mkdir(p, 0755);
  join(p, fx->dir, "shared/data/mnist");
  write_set(p, 6, 2, 3, 3, 0);
  join(empty, fx->dir, "empty-data"); /* MEMTILE_DATA without the dataset: fall through */
  mkdir(empty, 0755);
  env_t env = env_save();
  env_put("MEMTILE_DATA", empty);
  mt_dataset_t tr = {0}, te = {0};
  int rc = mt_dataset_open("mnist", root, 0, 0, &tr, &te, err, sizeof err);
  env_restore(&env);
  if (rc != 0) {
    fail_msg("%s", err);
  }
  assert_int_equal(tr.count, 6);
  assert_int_equal(tr.rows, 3);
  mt_dataset_free(&tr);
  mt_dataset_free(&te);
}

static void home_cache_is_the_last_resort(void **state)
{
  const fixture_t *fx = *state;
  char home[PATH_LEN], p[PATH_LEN], nowhere[PATH_LEN], err[ERR_LEN] = "";
  join(home, fx->dir, "home");
  mkdir(home, 0755);
  const char *parts[] = {"home/.cache", "home/.cache/memtile", "home/.cache/memtile/data"};
  for (size_t i = 0; i < 3; i++) {
    join(p, fx->dir, parts[i]);
    mkdir(p, 0755);
  }
  join(p, fx->dir, "home/.cache/memtile/data/mnist");
  write_set(p, 8, 2, 2, 2, 1);
  join(nowhere, fx->dir, "nowhere/root");
  env_t env = env_save();
  env_put("MEMTILE_DATA", NULL);
  env_put("HOME", home);
  mt_dataset_t tr = {0}, te = {0};
  int rc = mt_dataset_open("mnist", nowhere, 0, 0, &tr, &te, err, sizeof err);
  env_restore(&env);
  if (rc != 0) {
    fail_msg("%s", err);
  }
  assert_int_equal(tr.count, 8);
  mt_dataset_free(&tr);
  mt_dataset_free(&te);
}

static void not_found_lists_every_place_searched(void **state)
{
  const fixture_t *fx = *state;
  char home[PATH_LEN], nowhere[PATH_LEN], data[PATH_LEN], partial[PATH_LEN], p[PATH_LEN];
  char err[ERR_LEN] = "";
  join(home, fx->dir, "homeless");
  join(nowhere, fx->dir, "nowhere/root");
  join(data, fx->dir, "nf-data");
  mkdir(data, 0755);
  join(partial, data, "mnist");
  write_set(partial, 2, 2, 2, 2, 0);
  join(p, partial, "train-labels-idx1-ubyte");
  assert_int_equal(remove(p), 0);
  env_t env = env_save();
  env_put("MEMTILE_DATA", data);
  env_put("HOME", home);
  mt_dataset_t tr = {0}, te = {0};
  int rc = mt_dataset_open("mnist", nowhere, 0, 0, &tr, &te, err, sizeof err);
  env_restore(&env);
  assert_int_equal(rc, MT_ERR_IO);
  const char *want[] = {"dataset 'mnist' not found",
                        partial,
                        "lacks train-labels-idx1-ubyte",
                        "nowhere/root/../shared/data/mnist",
                        "no such directory",
                        "homeless/.cache/memtile/data/mnist",
                        "scripts/get-data.sh"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    if (strstr(err, want[i]) == NULL) {
      fail_msg("error lacks \"%s\": %s", want[i], err);
    }
  }
}

/* ------------------------------------------------------------------ */

static int setup(void **state)
{
  fixture_t *fx = calloc(1, sizeof *fx);
  if (fx == NULL) {
    return -1;
  }
  const char *tmp = getenv("TMPDIR");
  snprintf(fx->dir, sizeof fx->dir, "%s/mt_dataset_XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(fx->dir) == NULL) {
    free(fx);
    return -1;
  }
  *state = fx;
  return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int teardown(void **state)
{
  fixture_t *fx = *state;
  int rc = nftw(fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(fx);
  return rc;
}

/* Permuted tasks: task 1 is the set itself; task k >= 2 moves the pixels of every image by
 * one permutation (each image keeps its pixel values, images equal before stay equal, and
 * two tasks differ); task 0 is refused. */
static void permute_moves_pixels_alike(void **state)
{
  (void)state;
  enum { N = 3, PX = 16 };
  uint8_t img[N * PX], orig[N * PX], lab[N] = {0, 1, 2};
  for (int i = 0; i < PX; i++) {
    img[i] = img[PX + i] = (uint8_t)(10 + i); /* images 0 and 1 equal */
    img[2 * PX + i] = (uint8_t)(100 + 3 * i);
  }
  memcpy(orig, img, sizeof img);
  mt_dataset_t d = {N, 4, 4, img, lab, 10};
  char err[128];
  assert_int_equal(mt_dataset_permute(&d, 1, err, sizeof err), 0);
  assert_memory_equal(img, orig, sizeof img);
  assert_int_equal(mt_dataset_permute(&d, 2, err, sizeof err), 0);
  assert_memory_equal(img, img + PX, PX);
  assert_memory_not_equal(img, orig, PX);
  uint8_t task2[N * PX];
  memcpy(task2, img, sizeof img);
  for (int n = 0; n < N; n++)
    for (int i = 0; i < PX; i++) { /* every pixel value is still in its image */
      int found = 0;
      for (int j = 0; j < PX; j++) found |= img[n * PX + j] == orig[n * PX + i];
      assert_true(found);
    }
  memcpy(img, orig, sizeof img);
  assert_int_equal(mt_dataset_permute(&d, 3, err, sizeof err), 0);
  assert_memory_not_equal(img, task2, PX);
  memcpy(img, orig, sizeof img);
  assert_int_equal(mt_dataset_permute(&d, 2, err, sizeof err), 0);
  assert_memory_equal(img, task2, sizeof img); /* the same task, the same permutation */
  assert_int_equal(mt_dataset_permute(&d, 0, err, sizeof err), MT_ERR_INVAL);
  assert_non_null(strstr(err, "numbered from 1"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(permute_moves_pixels_alike),
      cmocka_unit_test(mnist_test_set_matches_reference),
      cmocka_unit_test(fashion_test_set_matches_reference),
      cmocka_unit_test(mnist_by_name_gives_train_and_test),
      cmocka_unit_test(fashion_by_name_uses_the_debian_package),
      cmocka_unit_test(limit_keeps_a_prefix),
      cmocka_unit_test(crop_keeps_the_centre),
      cmocka_unit_test(plain_gzip_and_multi_member_gzip_agree),
      cmocka_unit_test(wrong_magic_says_found_and_expected),
      cmocka_unit_test(truncated_header_is_reported),
      cmocka_unit_test(short_data_says_held_and_promised),
      cmocka_unit_test(header_promising_far_more_is_not_believed),
      cmocka_unit_test(trailing_garbage_is_rejected),
      cmocka_unit_test(count_mismatch_names_both_files),
      cmocka_unit_test(label_out_of_range_is_rejected),
      cmocka_unit_test(zero_and_absurd_dimensions_are_rejected),
      cmocka_unit_test(empty_files_are_rejected),
      cmocka_unit_test(corrupt_gzip_is_reported),
      cmocka_unit_test(missing_or_unreadable_file_is_reported),
      cmocka_unit_test(unknown_name_is_explained),
      cmocka_unit_test(directory_with_plain_and_gzip_files),
      cmocka_unit_test(directory_missing_a_file_names_it),
      cmocka_unit_test(bad_file_in_a_set_fails_the_open),
      cmocka_unit_test(fifo_is_named_not_waited_for),
      cmocka_unit_test(memtile_data_is_searched_first),
      cmocka_unit_test(root_relative_default_after_memtile_data),
      cmocka_unit_test(home_cache_is_the_last_resort),
      cmocka_unit_test(not_found_lists_every_place_searched),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
