/* Atomic writes and bounded reads of whole files. */
#define _POSIX_C_SOURCE 200809L
#include "mt_file.h"

#include "memtile.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void sync_parent_dir(const char *path) {
  char *dir = strdup(path);
  if (!dir) return;
  char *slash = strrchr(dir, '/');
  const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
  int fd = open(d, O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(dir);
}

int mt_write_atomic(const char *path, const void *bytes, size_t n, char *err, size_t errlen) {
  size_t len = strlen(path);
  char *tmp = malloc(len + 16);
  if (!tmp) {
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
  snprintf(tmp, len + 16, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot create a temporary file: %s", path, strerror(errno));
    free(tmp);
    return -1;
  }
  const unsigned char *b = bytes;
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, b + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += (size_t)w;
  }
  int ok = done == n && fsync(fd) == 0;
  int e = errno;
  ok = close(fd) == 0 && ok;
  if (ok && rename(tmp, path) != 0) ok = 0, e = errno;
  if (!ok) {
    unlink(tmp);
    snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e ? e : EIO));
    free(tmp);
    return -1;
  }
  free(tmp);
  sync_parent_dir(path);
  return 0;
}

static const char *file_type(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

FILE *mt_open_regular(const char *path, char *err, size_t errlen) {
  assert(path && err && errlen > 0);
  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
    close(fd);
    return NULL;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: is %s, not a regular file", path, file_type(st.st_mode));
    close(fd);
    return NULL;
  }
  int fl = fcntl(fd, F_GETFL);
  FILE *f = fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ? NULL : fdopen(fd, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    close(fd);
  }
  return f;
}

int mt_read_file(const char *path, size_t max_bytes, unsigned char **out, size_t *n, char *err,
                 size_t errlen) {
  struct stat st;
  FILE *f = mt_open_regular(path, err, errlen);
  if (!f) return MT_ERR_IO;
  if (fstat(fileno(f), &st) != 0) {
    snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
    fclose(f);
    return MT_ERR_IO;
  }
  if ((unsigned long long)st.st_size > max_bytes) {
    snprintf(err, errlen, "%s: too large (%lld bytes, at most %zu expected)", path,
             (long long)st.st_size, max_bytes);
    fclose(f);
    return MT_ERR_FILE;
  }
  size_t size = (size_t)st.st_size;
  unsigned char *buf = malloc(size ? size : 1);
  if (!buf) {
    snprintf(err, errlen, "%s: out of memory for %zu bytes", path, size);
    fclose(f);
    return MT_ERR_NOMEM;
  }
  size_t got = fread(buf, 1, size, f);
  fclose(f);
  if (got != size) {
    snprintf(err, errlen, "%s: short read (%zu of %zu bytes)", path, got, size);
    free(buf);
    return MT_ERR_IO;
  }
  *out = buf;
  *n = size;
  return 0;
}
