/* Image-classification datasets in the IDX format of MNIST and Fashion-MNIST.
 *
 * Files may be plain or gzip-compressed; the format is told by the gzip magic,
 * never by the file name. Loading is strict: a header is only believed once
 * the data it describes has actually been read, so a corrupt or hostile file
 * gives an error naming the file and the problem instead of a huge allocation
 * or a silently short dataset. */
#ifndef MT_DATASET_H
#define MT_DATASET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t count;      /* number of examples */
  uint32_t rows, cols; /* image size (28x28) */
  uint8_t *images;     /* count*rows*cols bytes, row-major, example-major */
  uint8_t *labels;     /* count bytes, each < classes */
  uint32_t classes;    /* 10 */
} mt_dataset_t;

/* Limits past which a header is rejected as absurd before any data is read. */
#define MT_DATASET_MAX_SIDE 4096u
#define MT_DATASET_MAX_COUNT 100000000u
#define MT_DATASET_CLASSES 10u

/* Reads an IDX images file (magic 0x00000803) and an IDX labels file
 * (0x00000801), each plain or gzip. limit = 0 keeps all examples, otherwise
 * the first `limit` (a limit above the set's size keeps all; out->count says
 * how many). The whole of both files is validated even when a limit keeps
 * only a prefix. Returns 0, or an MT_ERR_* code (memtile.h) with a one-line
 * message in err ("<file>: <problem>", naming the field and value, e.g.
 * "absurd header: 5000 rows (at most 4096)"): MT_ERR_IO for a file that cannot be
 * opened or read (missing, not a regular file, a read error), MT_ERR_FILE for
 * content that is not a valid IDX file (magic, header, size, labels, gzip stream),
 * MT_ERR_NOMEM, MT_ERR_INVAL for a NULL argument. On failure *out is left
 * untouched. err may be NULL. */
int mt_dataset_load_idx(const char *images_path, const char *labels_path, uint32_t limit,
                        mt_dataset_t *out, char *err, size_t errlen);

/* Resolves name_or_dir to a train and a test set.
 *  - "mnist" / "fashion-mnist": the first of these directories holding the
 *    four standard files is used:
 *      $MEMTILE_DATA/<name>                      (if MEMTILE_DATA is set)
 *      mnist: <root>/../shared/data/mnist        (root NULL: the source tree)
 *      fashion-mnist: /usr/share/datasets/fashion-mnist
 *      $HOME/.cache/memtile/data/<name>          (scripts/get-data.sh's default)
 *  - anything else must be a directory holding the four standard files
 *    (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
 *    t10k-labels-idx1-ubyte), each with or without .gz; a directory that is
 *    literally called "mnist" is reached as "./mnist".
 * Limits as in mt_dataset_load_idx. Returns 0, or an MT_ERR_* code with a
 * message in err, as mt_dataset_load_idx, and also MT_ERR_IO for a dataset found
 * in none of the places searched (all listed) or a path (a name with a '/')
 * that is no directory, and MT_ERR_INVAL for a name that is neither a known
 * dataset nor a directory; on failure *train and *test are
 * left untouched. */
int mt_dataset_open(const char *name_or_dir, const char *root, uint32_t train_limit,
                    uint32_t test_limit, mt_dataset_t *train, mt_dataset_t *test, char *err,
                    size_t errlen);

/* Keeps the centre side x side pixels of every image, in place (offset (rows - side) / 2 and
 * (cols - side) / 2: 28x28 to 20x20 keeps rows and columns 4..23, NeuroSim's 400-input MLP).
 * Returns 0, or MT_ERR_INVAL with a message when side is 0 or larger than the images. */
int mt_dataset_crop(mt_dataset_t *d, uint32_t side, char *err, size_t errlen);

/* Permuted MNIST (continual learning, Goodfellow et al. 2013): task `task` (1-based) of a
 * permuted sequence moves every image's pixels by one fixed permutation of the rows*cols
 * positions, the same for the train and the test set of that task. Task 1 is the identity (the
 * set itself); task k >= 2 uses a Fisher-Yates shuffle drawn from splitmix64 seeded with k, so
 * every run and every machine sees the same tasks whatever its --seed. Returns 0, or an
 * MT_ERR_* code with a message in err (MT_ERR_NOMEM; MT_ERR_INVAL for task 0). err may be NULL. */
int mt_dataset_permute(mt_dataset_t *d, uint32_t task, char *err, size_t errlen);

/* Frees the arrays and zeroes *d; safe on a zeroed or already freed set and on NULL. */
void mt_dataset_free(mt_dataset_t *d);

#ifdef __cplusplus
}
#endif

#endif
