/* IDX dataset loader (MNIST, Fashion-MNIST), plain or gzip.
 *
 * The loader streams each file through a small buffer and believes a header
 * only as far as the bytes behind it go: arrays grow as data arrives, so a
 * header promising 40 GB over a 12-byte file costs 12 bytes and an error, not
 * a 40 GB allocation. Every file is read to its end, also under a limit, so
 * that a truncated or padded file fails the same way whatever the limit. */
#define _POSIX_C_SOURCE 200809L

#include "mt_dataset.h"

#include "memtile.h"
#include "mt_file.h"
#include "mt_rng.h" /* splitmix64: a fixed, portable stream for the permutations */

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define CHUNK 16384u           /* file reads and discarded data */
#define READ_STEP (1u << 20)   /* largest single read into a kept array */
#define FIRST_ALLOC (1u << 20) /* first size of a kept array (or less if all fits) */
#define PATH_LEN 4096
#define GZ_MAGIC0 0x1f
#define GZ_MAGIC1 0x8b
#define IDX_IMAGES_MAGIC 0x00000803u /* unsigned byte, 3 dimensions */
#define IDX_LABELS_MAGIC 0x00000801u /* unsigned byte, 1 dimension */

#if defined(__GNUC__)
#define MT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MT_PRINTF(a, b)
#endif

typedef unsigned long long ull;

/* ------------------------------------------------------------------ */
/* Messages                                                            */

typedef struct {
  char *buf;
  size_t len;
  int *code; /* the MT_ERR_* class of the message, which the public calls return */
} msg_t;

static int fail(const msg_t *m, int code, const char *path, const char *fmt, ...) MT_PRINTF(4, 5);

/* Writes "<path>: <problem>" (or just the problem when path is NULL), records its class and
 * returns it. */
static int fail(const msg_t *m, int code, const char *path, const char *fmt, ...)
{
  assert(code < 0);
  *m->code = code;
  if (m->buf == NULL || m->len == 0) {
    return code;
  }
  int n = path != NULL ? snprintf(m->buf, m->len, "%s: ", path) : 0;
  if (n >= 0 && (size_t)n < m->len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->buf + n, m->len - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return code;
}

static void append(const msg_t *m, const char *fmt, ...) MT_PRINTF(2, 3);

/* Appends to a message built in pieces; truncation only shortens the text. */
static void append(const msg_t *m, const char *fmt, ...)
{
  if (m->buf == NULL || m->len == 0) {
    return;
  }
  size_t used = strlen(m->buf);
  if (used + 1 >= m->len) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->buf + used, m->len - used, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Byte source: a file, plain or gzip (one or more members)             */

typedef struct {
  FILE *f;
  const char *path;
  const msg_t *msg;
  int gz;        /* gzip: bytes come out of inflate, else straight from the file */
  int z_live;    /* inflateInit2 succeeded, inflateEnd is owed */
  int in_member; /* inside a gzip member: the file must not end here */
  int eof;       /* no more data bytes */
  ull raw_read;  /* bytes read from the file so far (for offsets in messages) */
  z_stream z;    /* next_in/avail_in hold the unconsumed input in both modes */
  unsigned char in[CHUNK];
} src_t;

static int src_fill(src_t *s)
{
  if (s->z.avail_in > 0) {
    return 0;
  }
  size_t n = fread(s->in, 1, sizeof s->in, s->f);
  if (n == 0 && ferror(s->f)) {
    return fail(s->msg, MT_ERR_IO, s->path, "read error: %s", strerror(errno));
  }
  s->z.next_in = s->in;
  s->z.avail_in = (uInt)n;
  s->raw_read += n;
  return 0;
}

static void src_close(src_t *s)
{
  if (s->z_live) {
    inflateEnd(&s->z);
    s->z_live = 0;
  }
  if (s->f != NULL) {
    fclose(s->f);
    s->f = NULL;
  }
}

static int src_open(src_t *s, const char *path, const msg_t *msg)
{
  memset(s, 0, sizeof *s);
  s->path = path;
  s->msg = msg;
  char why[512];
  s->f = mt_open_regular(path, why, sizeof why); /* a FIFO must not block the loader */
  if (s->f == NULL) {
    return fail(msg, MT_ERR_IO, NULL, "%s", why);
  }
  if (src_fill(s) != 0) {
    src_close(s);
    return -1;
  }
  if (s->z.avail_in == 0) {
    src_close(s);
    return fail(msg, MT_ERR_FILE, path, "empty file (0 bytes)");
  }
  /* An IDX file starts with two zero bytes, so the gzip magic cannot be an
   * IDX file's start: detection by content is unambiguous. */
  s->gz = s->z.avail_in >= 2 && s->in[0] == GZ_MAGIC0 && s->in[1] == GZ_MAGIC1;
  if (!s->gz) {
    return 0;
  }
  if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) { /* 16+: gzip wrapper only */
    src_close(s);
    return fail(msg, MT_ERR_NOMEM, path, "cannot initialise zlib");
  }
  s->z_live = 1;
  s->in_member = 1;
  return 0;
}

static int src_read_plain(src_t *s, unsigned char *dst, size_t want, size_t *got)
{
  size_t n = 0;
  while (n < want) {
    if (src_fill(s) != 0) {
      return -1;
    }
    if (s->z.avail_in == 0) {
      s->eof = 1;
      break;
    }
    size_t k = want - n < s->z.avail_in ? want - n : s->z.avail_in;
    memcpy(dst + n, s->z.next_in, k);
    s->z.next_in += k;
    s->z.avail_in -= (uInt)k;
    n += k;
  }
  *got = n;
  return 0;
}

/* Between members only another gzip member may follow; anything else would
 * be silently ignored by gunzip, and here it is an error. */
static int src_next_member(src_t *s)
{
  if (s->z.avail_in == 0) {
    s->eof = 1;
    return 0;
  }
  if (s->z.next_in[0] != GZ_MAGIC0) {
    return fail(s->msg, MT_ERR_FILE, s->path, "trailing garbage after the gzip stream at compressed byte %llu",
                s->raw_read - s->z.avail_in);
  }
  inflateReset(&s->z);
  s->in_member = 1;
  return 0;
}

static int src_inflate_step(src_t *s)
{
  if (s->z.avail_in == 0) {
    return fail(s->msg, MT_ERR_FILE, s->path,
                "truncated gzip stream: the file ends after %llu bytes, inside compressed data",
                s->raw_read);
  }
  int rc = inflate(&s->z, Z_NO_FLUSH);
  switch (rc) {
  case Z_OK:
  case Z_BUF_ERROR: /* no progress this call; the caller's loop refills */
    return 0;
  case Z_STREAM_END:
    s->in_member = 0;
    return 0;
  case Z_MEM_ERROR:
    return fail(s->msg, MT_ERR_NOMEM, s->path, "out of memory in zlib");
  default: /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
    return fail(s->msg, MT_ERR_FILE, s->path, "corrupt gzip stream: %s (zlib error %d at compressed byte %llu)",
                s->z.msg != NULL ? s->z.msg : "invalid data", rc, s->raw_read - s->z.avail_in);
  }
}

static int src_read_gz(src_t *s, unsigned char *dst, size_t want, size_t *got)
{
  s->z.next_out = dst;
  s->z.avail_out = (uInt)want;
  while (s->z.avail_out > 0 && !s->eof) {
    if (src_fill(s) != 0) {
      return -1;
    }
    int rc = s->in_member ? src_inflate_step(s) : src_next_member(s);
    if (rc != 0) {
      return -1;
    }
  }
  *got = want - s->z.avail_out;
  return 0;
}

/* Reads up to want (<= READ_STEP) bytes; *got < want only at the end of the data. */
static int src_read(src_t *s, unsigned char *dst, size_t want, size_t *got)
{
  *got = 0;
  if (s->eof) {
    return 0;
  }
  return s->gz ? src_read_gz(s, dst, want, got) : src_read_plain(s, dst, want, got);
}

/* ------------------------------------------------------------------ */
/* IDX files                                                           */

typedef struct {
  uint32_t magic;
  uint32_t ndims;       /* 3 for images, 1 for labels */
  const char *what;     /* "images" / "labels" */
  const char *noun;     /* "image" / "label", as in "image data" */
  uint32_t other_magic; /* the other kind's magic, for a hint when files are swapped */
  const char *other;    /* the other kind's name */
  uint32_t max_value;   /* every data byte must be below it; 0: no check */
} idx_kind_t;

static const idx_kind_t IMAGES = {.magic = IDX_IMAGES_MAGIC,
                                  .ndims = 3,
                                  .what = "images",
                                  .noun = "image",
                                  .other_magic = IDX_LABELS_MAGIC,
                                  .other = "labels",
                                  .max_value = 0};
static const idx_kind_t LABELS = {.magic = IDX_LABELS_MAGIC,
                                  .ndims = 1,
                                  .what = "labels",
                                  .noun = "label",
                                  .other_magic = IDX_IMAGES_MAGIC,
                                  .other = "images",
                                  .max_value = MT_DATASET_CLASSES};

typedef struct {
  uint32_t count, rows, cols; /* from the (validated) header; rows = cols = 1 for labels */
  uint32_t kept;              /* examples in data */
  uint8_t *data;
} idx_t;

static uint32_t be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int check_dim(src_t *s, uint32_t v, const char *name, uint32_t max)
{
  if (v == 0) {
    return fail(s->msg, MT_ERR_FILE, s->path, "invalid header: 0 %s", name);
  }
  if (v > max) {
    return fail(s->msg, MT_ERR_FILE, s->path, "absurd header: %u %s (at most %u)", v, name, max);
  }
  return 0;
}

static int read_header(src_t *s, const idx_kind_t *k, idx_t *x)
{
  unsigned char h[16];
  size_t need = 4 + 4 * (size_t)k->ndims, got = 0, more = 0;
  if (src_read(s, h, 4, &got) != 0) {
    return -1;
  }
  if (got == 0) { /* a plain empty file is caught at open */
    return fail(s->msg, MT_ERR_FILE, s->path, "empty gzip stream: no data after decompression");
  }
  if (got == 4 && be32(h) != k->magic) {
    uint32_t m = be32(h);
    int swapped = m == k->other_magic;
    return fail(s->msg, MT_ERR_FILE, s->path, "bad magic 0x%08x, expected 0x%08x (IDX %s)%s%s%s", m, k->magic,
                k->what, swapped ? "; this is an IDX " : "", swapped ? k->other : "",
                swapped ? " file" : "");
  }
  if (got == 4 && src_read(s, h + 4, need - 4, &more) != 0) {
    return -1;
  }
  if (got + more < need) {
    return fail(s->msg, MT_ERR_FILE, s->path,
                "truncated header: the file holds %zu bytes, an IDX %s header has %zu", got + more,
                k->what, need);
  }
  x->count = be32(h + 4);
  x->rows = k->ndims == 3 ? be32(h + 8) : 1;
  x->cols = k->ndims == 3 ? be32(h + 12) : 1;
  if (check_dim(s, x->count, k->what, MT_DATASET_MAX_COUNT) != 0) {
    return -1;
  }
  if (k->ndims == 3 && (check_dim(s, x->rows, "rows", MT_DATASET_MAX_SIDE) != 0 ||
                        check_dim(s, x->cols, "cols", MT_DATASET_MAX_SIDE) != 0)) {
    return -1;
  }
  return 0;
}

/* Makes room for need bytes (need <= keep), doubling so that the final size
 * is reached in a few steps but never exceeds keep. */
static int grow(src_t *s, uint8_t **buf, ull *cap, ull need, ull keep)
{
  if (need <= *cap) {
    return 0;
  }
  ull next = *cap * 2 > FIRST_ALLOC ? *cap * 2 : FIRST_ALLOC;
  if (next > keep) {
    next = keep;
  }
  if (next < need) {
    next = need;
  }
  if (next > SIZE_MAX) {
    return fail(s->msg, MT_ERR_NOMEM, s->path, "%llu bytes do not fit in memory on this machine", next);
  }
  uint8_t *p = realloc(*buf, (size_t)next);
  if (p == NULL) {
    return fail(s->msg, MT_ERR_NOMEM, s->path, "out of memory allocating %llu bytes", next);
  }
  *buf = p;
  *cap = next;
  return 0;
}

static int check_values(src_t *s, const idx_kind_t *k, const uint8_t *p, size_t n, ull first)
{
  if (k->max_value == 0) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (p[i] >= k->max_value) {
      return fail(s->msg, MT_ERR_FILE, s->path, "label %u of example %llu is out of range (labels must be < %u)",
                  p[i], first + i, k->max_value);
    }
  }
  return 0;
}

/* Counts what is left after the promised data; any byte there is an error. */
static int check_no_trailing(src_t *s, const idx_kind_t *k, ull promised)
{
  unsigned char scratch[CHUNK];
  ull extra = 0;
  size_t got;
  do {
    if (src_read(s, scratch, sizeof scratch, &got) != 0) {
      return -1;
    }
    extra += got;
  } while (got == sizeof scratch);
  if (extra > 0) {
    return fail(s->msg, MT_ERR_FILE, s->path,
                "trailing garbage: %llu bytes after the %llu bytes of %s data the header promises",
                extra, promised, k->noun);
  }
  return 0;
}

/* Reads the promised data, keeping the first keep bytes and discarding (but
 * checking) the rest. */
static int read_body(src_t *s, const idx_kind_t *k, ull promised, ull keep, uint8_t **out)
{
  unsigned char scratch[CHUNK];
  uint8_t *buf = NULL;
  ull cap = 0, have = 0;
  while (have < promised) {
    int keeping = have < keep;
    unsigned char *dst = scratch;
    ull left = (keeping ? keep : promised) - have;
    ull step = keeping ? READ_STEP : CHUNK;
    size_t want = (size_t)(left < step ? left : step);
    if (keeping) {
      if (grow(s, &buf, &cap, have + want, keep) != 0) {
        goto fail;
      }
      dst = buf + have;
    }
    size_t got;
    if (src_read(s, dst, want, &got) != 0 || check_values(s, k, dst, got, have) != 0) {
      goto fail;
    }
    have += got;
    assert(have <= promised && (!keeping || have <= cap)); /* never past the array or the data */
    if (got < want) {
      break;
    }
  }
  if (have < promised) {
    fail(s->msg, MT_ERR_FILE, s->path, "file holds %llu bytes of %s data, header promises %llu", have, k->noun,
         promised);
    goto fail;
  }
  if (check_no_trailing(s, k, promised) != 0) {
    goto fail;
  }
  *out = buf;
  return 0;
fail:
  free(buf);
  return -1;
}

static int load_idx(const char *path, const idx_kind_t *k, uint32_t limit, idx_t *x,
                    const msg_t *msg)
{
  /* The source holds a 16 kB buffer and a z_stream: heap, not stack. */
  src_t *s = malloc(sizeof *s);
  if (s == NULL) {
    return fail(msg, MT_ERR_NOMEM, path, "out of memory");
  }
  int rc = src_open(s, path, msg);
  if (rc == 0) {
    memset(x, 0, sizeof *x);
    rc = read_header(s, k, x);
  }
  if (rc == 0) {
    ull per = (ull)x->rows * x->cols;
    x->kept = limit != 0 && limit < x->count ? limit : x->count;
    rc = read_body(s, k, per * x->count, per * x->kept, &x->data);
  }
  src_close(s);
  free(s);
  return rc;
}

int mt_dataset_load_idx(const char *images_path, const char *labels_path, uint32_t limit,
                        mt_dataset_t *out, char *err, size_t errlen)
{
  int code = MT_OK;
  const msg_t msg = {err, errlen, &code};
  if (images_path == NULL || labels_path == NULL || out == NULL) {
    return fail(&msg, MT_ERR_INVAL, NULL, "mt_dataset_load_idx: NULL argument");
  }
  idx_t im, lb;
  if (load_idx(images_path, &IMAGES, limit, &im, &msg) != 0) {
    assert(code < 0);
    return code;
  }
  if (load_idx(labels_path, &LABELS, limit, &lb, &msg) != 0) {
    free(im.data);
    assert(code < 0);
    return code;
  }
  if (im.count != lb.count) {
    free(im.data);
    free(lb.data);
    return fail(&msg, MT_ERR_FILE, NULL, "%s holds %u images but %s holds %u labels: the counts must match",
                images_path, im.count, labels_path, lb.count);
  }
  out->count = im.kept;
  out->rows = im.rows;
  out->cols = im.cols;
  out->images = im.data;
  out->labels = lb.data;
  out->classes = MT_DATASET_CLASSES;
  return 0;
}

int mt_dataset_crop(mt_dataset_t *d, uint32_t side, char *err, size_t errlen)
{
  if (side == 0 || side > d->rows || side > d->cols) {
    int code = 0;
    const msg_t msg = {err, errlen, &code};
    return fail(&msg, MT_ERR_INVAL, NULL, "crop %u: must be 1..%u (the images are %ux%u)", side,
                d->rows < d->cols ? d->rows : d->cols, d->rows, d->cols);
  }
  /* In place, image by image and row by row: every destination byte lies at or before its
   * source (the copy only ever moves data towards the start), so nothing is read after it
   * was overwritten. */
  const uint32_t r0 = (d->rows - side) / 2, c0 = (d->cols - side) / 2;
  for (size_t n = 0; n < d->count; n++) {
    const uint8_t *src = d->images + n * d->rows * d->cols;
    uint8_t *dst = d->images + n * side * side;
    for (uint32_t i = 0; i < side; i++) {
      memmove(dst + (size_t)i * side, src + (size_t)(r0 + i) * d->cols + c0, side);
    }
  }
  d->rows = d->cols = side;
  return 0;
}

int mt_dataset_permute(mt_dataset_t *d, uint32_t task, char *err, size_t errlen)
{
  assert(d != NULL);
  if (task == 0) {
    if (err != NULL && errlen > 0) {
      snprintf(err, errlen, "permuted task 0: tasks are numbered from 1");
    }
    return MT_ERR_INVAL;
  }
  if (task == 1 || d->count == 0) {
    return 0; /* the identity */
  }
  size_t px = (size_t)d->rows * d->cols;
  uint32_t *perm = malloc(px * sizeof *perm);
  uint8_t *tmp = malloc(px);
  if (perm == NULL || tmp == NULL) {
    free(perm);
    free(tmp);
    if (err != NULL && errlen > 0) {
      snprintf(err, errlen, "permuted task %u: out of memory for %zu pixels", task, px);
    }
    return MT_ERR_NOMEM;
  }
  uint64_t s = task;
  for (size_t i = 0; i < px; i++) {
    perm[i] = (uint32_t)i;
  }
  for (size_t i = px - 1; i > 0; i--) {
    /* the modulo's bias is below 2^-50 for images of at most 4096^2 pixels */
    size_t j = (size_t)(mt_splitmix64_next(&s) % (i + 1));
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (uint32_t n = 0; n < d->count; n++) {
    uint8_t *img = d->images + (size_t)n * px;
    for (size_t i = 0; i < px; i++) {
      tmp[i] = img[perm[i]];
    }
    memcpy(img, tmp, px);
  }
  free(perm);
  free(tmp);
  return 0;
}

void mt_dataset_free(mt_dataset_t *d)
{
  if (d == NULL) {
    return;
  }
  free(d->images);
  free(d->labels);
  memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------ */
/* Name and directory resolution                                        */

enum { TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS, N_FILES };

static const char *const FILE_BASE[N_FILES] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

typedef struct {
  char path[N_FILES][PATH_LEN];
} files_t;

static int is_regular(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Fills f with the four files of dir, the plain one preferred when both
 * exist (no decompression). Returns -1 if one is missing, naming it in
 * *missing; when a name exists but is not a regular file (a FIFO, a directory),
 * f->path[*missing] holds that path and *odd is set, so that the message can
 * blame the file rather than the directory. */
static int find_files(const char *dir, files_t *f, int *missing, int *odd)
{
  *odd = 0;
  for (int i = 0; i < N_FILES; i++) {
    static const char *const suffix[2] = {"", ".gz"};
    char odd_path[PATH_LEN] = "";
    int found = 0;
    for (int j = 0; j < 2 && !found; j++) {
      struct stat st;
      int n = snprintf(f->path[i], PATH_LEN, "%s/%s%s", dir, FILE_BASE[i], suffix[j]);
      found = n > 0 && n < PATH_LEN && is_regular(f->path[i]);
      if (!found && odd_path[0] == '\0' && n > 0 && n < PATH_LEN && stat(f->path[i], &st) == 0) {
        memcpy(odd_path, f->path[i], (size_t)n + 1);
      }
    }
    if (!found) {
      *missing = i;
      if (odd_path[0] != '\0') {
        memcpy(f->path[i], odd_path, sizeof odd_path);
        *odd = 1;
      }
      return -1;
    }
  }
  return 0;
}

/* The message for a file that exists but cannot be used, from mt_open_regular. */
static void blame_odd(const char *path, char *buf, size_t len)
{
  FILE *fp = mt_open_regular(path, buf, len);
  if (fp != NULL) { /* it became a regular file since: say what it was */
    fclose(fp);
    snprintf(buf, len, "%s: not a regular file", path);
  }
}

static int load_set(const files_t *f, uint32_t train_limit, uint32_t test_limit,
                    mt_dataset_t *train, mt_dataset_t *test, const msg_t *msg)
{
  mt_dataset_t tr = {0}, te = {0};
  int rc = mt_dataset_load_idx(f->path[TRAIN_IMAGES], f->path[TRAIN_LABELS], train_limit, &tr,
                               msg->buf, msg->len);
  if (rc != 0) {
    return *msg->code = rc;
  }
  rc = mt_dataset_load_idx(f->path[TEST_IMAGES], f->path[TEST_LABELS], test_limit, &te, msg->buf,
                           msg->len);
  if (rc != 0) {
    mt_dataset_free(&tr);
    return *msg->code = rc;
  }
  /* A model is built for one input size; a mixed directory would only fail later, less clearly. */
  if (tr.rows != te.rows || tr.cols != te.cols) {
    fail(msg, MT_ERR_FILE, NULL, "%s has %ux%u images but %s has %ux%u", f->path[TRAIN_IMAGES], tr.rows, tr.cols,
         f->path[TEST_IMAGES], te.rows, te.cols);
    mt_dataset_free(&tr);
    mt_dataset_free(&te);
    return -1;
  }
  *train = tr;
  *test = te;
  return 0;
}

typedef struct {
  const char *name;
  const char *system_dir;    /* absolute default, or NULL */
  const char *root_relative; /* default relative to the project root, or NULL */
} known_t;

static const known_t KNOWN[] = {
    {"mnist", NULL, "../shared/data/mnist"},
    {"fashion-mnist", "/usr/share/datasets/fashion-mnist", NULL},
};

#define MAX_CANDIDATES 3

typedef struct {
  char dir[MAX_CANDIDATES][PATH_LEN];
  const char *why[MAX_CANDIDATES]; /* where the candidate comes from, for messages */
  int n;
} candidates_t;

static void add_candidate(candidates_t *c, const char *why, const char *fmt, ...) MT_PRINTF(3, 4);

/* A path too long for PATH_LEN is dropped: it could not be opened anyway. */
static void add_candidate(candidates_t *c, const char *why, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(c->dir[c->n], PATH_LEN, fmt, ap);
  va_end(ap);
  if (n > 0 && n < PATH_LEN) {
    c->why[c->n++] = why;
  }
}

static void list_candidates(const known_t *k, const char *root, candidates_t *c)
{
  c->n = 0;
  const char *env = getenv("MEMTILE_DATA");
  if (env != NULL && env[0] != '\0') {
    add_candidate(c, "MEMTILE_DATA", "%s/%s", env, k->name);
  }
#ifdef MT_SOURCE_DIR
  if (root == NULL) {
    root = MT_SOURCE_DIR;
  }
#endif
  if (k->root_relative != NULL && root != NULL) {
    add_candidate(c, "default", "%s/%s", root, k->root_relative);
  }
  if (k->system_dir != NULL) {
    add_candidate(c, "default", "%s", k->system_dir);
  }
  const char *home = getenv("HOME");
  if (home != NULL && home[0] != '\0') {
    add_candidate(c, "scripts/get-data.sh", "%s/.cache/memtile/data/%s", home, k->name);
  }
}

static int open_known(const known_t *k, const char *root, uint32_t train_limit, uint32_t test_limit,
                      mt_dataset_t *train, mt_dataset_t *test, const msg_t *msg)
{
  candidates_t *c = malloc(sizeof *c);
  files_t *f = malloc(sizeof *f);
  int rc = -1;
  if (c == NULL || f == NULL) {
    fail(msg, MT_ERR_NOMEM, NULL, "out of memory");
    goto out;
  }
  list_candidates(k, root, c);
  for (int i = 0; i < c->n; i++) {
    int missing, odd;
    if (find_files(c->dir[i], f, &missing, &odd) == 0) {
      rc = load_set(f, train_limit, test_limit, train, test, msg);
      goto out;
    }
  }
  fail(msg, MT_ERR_IO, NULL, "dataset '%s' not found; looked in", k->name);
  for (int i = 0; i < c->n; i++) {
    int missing = 0, odd = 0;
    int exists = is_dir(c->dir[i]);
    if (exists) {
      find_files(c->dir[i], f, &missing, &odd);
    }
    if (odd) {
      char why[PATH_LEN + 64];
      blame_odd(f->path[missing], why, sizeof why);
      append(msg, "%s %s (%s: %s)", i == 0 ? "" : ",", c->dir[i], c->why[i], why);
      continue;
    }
    append(msg, "%s %s (%s%s%s)", i == 0 ? "" : ",", c->dir[i], c->why[i],
           exists ? ": lacks " : ": no such directory", exists ? FILE_BASE[missing] : "");
  }
  append(msg, "; run scripts/get-data.sh or set MEMTILE_DATA");
out:
  free(c);
  free(f);
  return rc;
}

static int open_dir(const char *dir, uint32_t train_limit, uint32_t test_limit, mt_dataset_t *train,
                    mt_dataset_t *test, const msg_t *msg)
{
  files_t *f = malloc(sizeof *f);
  if (f == NULL) {
    return fail(msg, MT_ERR_NOMEM, NULL, "out of memory");
  }
  int missing, odd, rc;
  if (find_files(dir, f, &missing, &odd) != 0) {
    if (odd) {
      char why[PATH_LEN + 64];
      blame_odd(f->path[missing], why, sizeof why);
      rc = fail(msg, MT_ERR_IO, NULL, "%s", why);
    } else {
      rc = fail(msg, MT_ERR_IO, dir, "no %s or %s.gz in this directory", FILE_BASE[missing],
                FILE_BASE[missing]);
    }
  } else {
    rc = load_set(f, train_limit, test_limit, train, test, msg);
  }
  free(f);
  return rc;
}

int mt_dataset_open(const char *name_or_dir, const char *root, uint32_t train_limit,
                    uint32_t test_limit, mt_dataset_t *train, mt_dataset_t *test, char *err,
                    size_t errlen)
{
  int code = MT_OK;
  const msg_t msg = {err, errlen, &code};
  if (name_or_dir == NULL || train == NULL || test == NULL) {
    return fail(&msg, MT_ERR_INVAL, NULL, "mt_dataset_open: NULL argument");
  }
  for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++) {
    if (strcmp(name_or_dir, KNOWN[i].name) == 0) {
      return open_known(&KNOWN[i], root, train_limit, test_limit, train, test, &msg) == 0 ? 0 : code;
    }
  }
  if (is_dir(name_or_dir)) {
    return open_dir(name_or_dir, train_limit, test_limit, train, test, &msg) == 0 ? 0 : code;
  }
  struct stat st;
  if (strchr(name_or_dir, '/') != NULL) { /* a path, not a name: it is the file that fails */
    return fail(&msg, MT_ERR_IO, name_or_dir, "%s (a dataset is a directory holding the four IDX files)",
                stat(name_or_dir, &st) == 0 ? "not a directory" : "no such directory");
  }
  return fail(&msg, MT_ERR_INVAL, NULL, "unknown dataset '%s': expected mnist, fashion-mnist or a directory",
              name_or_dir);
}
