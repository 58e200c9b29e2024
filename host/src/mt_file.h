/* Whole-file I/O with the guarantees checkpoints need. */
#ifndef MT_FILE_H
#define MT_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Writes bytes to path atomically (temporary file in the same directory,
 * fsync, rename, fsync of the directory): a crash leaves the old file or the
 * new one, never a mix. 0, or -1 with a message naming the file. */
int mt_write_atomic(const char *path, const void *bytes, size_t n, char *err, size_t errlen);

/* Reads a whole file of at most max_bytes (checked against the file's real
 * length before allocating). *out is malloc'd; 0 (MT_OK), or with a message
 * MT_ERR_FILE (larger than max_bytes: the content is wrong), MT_ERR_NOMEM or
 * MT_ERR_IO (cannot open or read, or not a regular file). */
int mt_read_file(const char *path, size_t max_bytes, unsigned char **out, size_t *n, char *err,
                 size_t errlen);

/* Opens path for reading only if it is a regular file. The type is checked on
 * the open descriptor before any read, and the open itself does not block, so
 * a FIFO, a device or a directory gives "<path>: is a FIFO, not a regular
 * file" instead of a hang or a read error. NULL with a message on failure. */
FILE *mt_open_regular(const char *path, char *err, size_t errlen);

#endif
