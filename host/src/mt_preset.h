/* Device presets: human-unit JSON files -> CONFIGURE, SET_LEVELS and
 * META_TABLE payloads. Internal to the host library; the schema is
 * documented in docs/presets.md. */
#ifndef MT_PRESET_H
#define MT_PRESET_H

#include <stddef.h>
#include <stdint.h>

#include "mt_protocol.h"

typedef struct {
  char name[64];
  char description[256];
  uint32_t cfg[MT_CFG_COUNT];                                 /* CONFIGURE payload, in order */
  uint32_t levels;                                            /* L */
  uint32_t level_table[MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS]; /* SET_LEVELS entries */
  uint32_t meta_table[MT_META_TABLE_SIZE / 2];                /* META_TABLE payload, 2 x u16 per word, low half first */
  double full_scale_us; /* physical conductance of g = 65535, for reports (0 = not given) */
  uint32_t level_lo, level_hi; /* level window in g units (targets span [lo, hi]) */
  int level_sigma_uniform;     /* 1 if every level has the same spread */
} mt_preset_t;

/* Both return 0 on success, or an error with a one-line message in err
 * ("<origin>: <json.path>: <problem>"): mt_preset_parse -1, mt_preset_load an
 * MT_ERR_* code (MT_ERR_IO: the file cannot be opened or read, a FIFO or a
 * directory; MT_ERR_FILE: its content is no valid preset; MT_ERR_INVAL: no path).
 * On failure *out is left untouched, so a caller can keep using the preset it
 * had. err may be NULL. */
int mt_preset_load(const char *path, mt_preset_t *out, char *err, size_t errlen);
int mt_preset_parse(const char *json_text, const char *origin, mt_preset_t *out, char *err,
                    size_t errlen);

/* NeuroSim's normalized non-linearity parameter A/P for a label |nl| in
 * [0.01, 9] (the domain of NeuroSim's table); returns a negative value
 * outside it. Exposed for tests and reports. */
double mt_preset_neurosim_a_norm(double nl);

/* Number of nominal (noise-free, variation-free) SET pulses from cfg's g_min
 * whose result is closest to target, using the device's integer update rule.
 * Ties go to the smaller count. Exposed for tests and the host's open-loop
 * bookkeeping. */
uint32_t mt_preset_nominal_set_pulses(const uint32_t cfg[MT_CFG_COUNT], uint32_t target);

/* Rebuilds the level table for another level count with the preset's window
 * and spread (what --levels does). Fails when the preset lists a spread per
 * level, since those belong to its own count. 0 or -1 with a message. */
int mt_preset_set_levels(mt_preset_t *p, uint32_t levels, char *err, size_t errlen);

struct mt_dev;
/* Sends the preset to a device: CONFIGURE, SET_LEVELS, META_TABLE. Returns
 * MT_OK or the device's error (message in mt_dev_errmsg). */
int mt_preset_apply(const mt_preset_t *p, struct mt_dev *dev);

/* The preset behind a public handle (memtile_layer.h). */
struct mt_preset;
const mt_preset_t *mt_preset_data(const struct mt_preset *p);

#endif
