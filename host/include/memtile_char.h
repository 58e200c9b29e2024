/* libmemtile: a device's characterization (`memtile characterize`, docs/algorithms.md,
 * "biased"): cells of a freshly fabricated tile programmed to every level by write-verify,
 * read back (noisy READ_CELLS, averaged), and the spread of every level, with the K levels of
 * lowest spread marked favourable. Every call returns MT_OK or an MT_ERR_* code; the message
 * is on the characterization (mt_char_errmsg), or on the device for its own failures. */
#ifndef MEMTILE_CHAR_H
#define MEMTILE_CHAR_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"
#include "memtile_layer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_CHAR_DEFAULT_SAMPLES 256u /* cells per level */
#define MT_CHAR_DEFAULT_READS 4u     /* READ_CELLS averaged per cell */

typedef struct mt_char mt_char;

/* One level's result, g units of the weight D = G+ - G-. */
typedef struct {
  double target, mean, sigma, rms; /* rms of (achieved - target) */
  uint32_t wv_failures;            /* devices whose write-verify did not converge */
  int favourable;
} mt_char_level;

/* Applies preset p to dev and characterizes tile 0 (fabricated anew from seed): `samples`
 * cells per level, each read `reads` times; favourable_k (1..L; 0 = (3L+2)/4) levels
 * favourable. keep_samples: also keep every cell's achieved weight (for mt_char_plot). *out
 * is set whenever a handle could be allocated, also on failure. */
int mt_char_run(mt_dev *dev, const mt_preset *p, uint64_t seed, uint32_t samples, uint32_t reads,
                uint32_t favourable_k, int keep_samples, mt_char **out);
void mt_char_close(mt_char *c);
const char *mt_char_errmsg(const mt_char *c);

uint32_t mt_char_levels(const mt_char *c);
uint32_t mt_char_favourable_k(const mt_char *c);
double mt_char_level_step(const mt_char *c); /* g units of D per level */
double mt_char_read_sigma(const mt_char *c); /* the preset's read sigma, g units per device */
/* Level q's result; MT_ERR_INVAL past the last level. */
int mt_char_get_level(const mt_char *c, uint32_t q, mt_char_level *out);

/* The characterization as JSON (preset name for the record). */
int mt_char_write_json(mt_char *c, const char *preset_name, const char *path);
/* The pulse response measured on dev (tile 0 fabricated anew from the run's seed) and the
 * achieved weights per level, as one PNG through gnuplot (memtile_plot.h); needs keep_samples. */
int mt_char_plot(mt_char *c, mt_dev *dev, const char *png);

#ifdef __cplusplus
}
#endif
#endif
