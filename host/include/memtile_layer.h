/* libmemtile: presets by name and network layers on a device, for programs outside
 * the memtile tool (the Python binding, python/memtile).
 *
 * A preset (a JSON file in presets/, docs/presets.md) is found by name in $MEMTILE_PRESETS,
 * then in share/memtile/presets beside the running program's prefix (<prefix>/bin/..),
 * then beside the library's (<prefix>/lib/..), then in the source tree the library was
 * built from; any path to a JSON file works too. A layer maps an n_in x n_out float
 * weight matrix onto tiles of a device (levels, write-verify programming of the levels
 * that change only, MVM with the partial sums added on the host), as `memtile train`
 * does. Every call returns MT_OK or an MT_ERR_* code; the message is on the object
 * that failed. */
#ifndef MEMTILE_LAYER_H
#define MEMTILE_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mt_preset mt_preset;

/* The file a preset name stands for (a name with a '/' or ending in .json is a path and
 * is returned as is); MT_ERR_IO if no directory holds it (out then names the places
 * searched), MT_ERR_INVAL if out is too short. */
int mt_preset_locate(const char *name, char *out, size_t outlen);

/* Loads a preset by name or path; *out is set whenever a handle could be allocated,
 * also on failure, so that mt_preset_errmsg() can explain it. */
int mt_preset_open(const char *name_or_path, mt_preset **out);
void mt_preset_close(mt_preset *p);
const char *mt_preset_errmsg(const mt_preset *p);
const char *mt_preset_name(const mt_preset *p);
const char *mt_preset_description(const mt_preset *p);
const char *mt_preset_path(const mt_preset *p);
uint32_t mt_preset_levels(const mt_preset *p);
/* Re-spaces the level table to `levels` levels over the preset's window (2..256). */
int mt_preset_use_levels(mt_preset *p, uint32_t levels);
/* The preset's CONFIGURE fields (mt_config_count() of them, in order) into cfg[0..n). */
int mt_preset_config(const mt_preset *p, uint32_t *cfg, size_t n);
/* The conductance targets (g units) of level `level` on G+ and G- (either may be NULL);
 * MT_ERR_INVAL past the preset's level count. */
int mt_preset_level_target(const mt_preset *p, uint32_t level, uint16_t *g_plus,
                           uint16_t *g_minus);
/* CONFIGURE, SET_LEVELS and META_TABLE of the preset; the message is on dev. */
int mt_dev_apply_preset(mt_dev *dev, const mt_preset *p);

/* The protocol's names (docs/protocol.md), for bindings that do not read the generated C
 * header: CONFIGURE fields in payload order, STATS_GET counters in response order. NULL
 * past the end. */
uint32_t mt_config_count(void);
const char *mt_config_name(uint32_t k);
uint32_t mt_counter_count(void);
const char *mt_counter_name(uint32_t k);
/* The index of a CONFIGURE field or counter by its name, or MT_ERR_INVAL if there is none. */
int mt_config_find(const char *name);
int mt_counter_find(const char *name);

typedef struct mt_layer mt_layer;

/* Tiles a layer of n_in x n_out weights occupies. */
uint32_t mt_layer_tiles_needed(uint32_t n_in, uint32_t n_out);
/* A layer on tiles first_tile.. of dev (configured with preset p, whose level count and
 * ADC/DAC it uses); w_max is the weight of the top level. max_batch bounds the rows of
 * one mt_layer_matmul. The device must outlive the layer. */
int mt_layer_open(mt_dev *dev, const mt_preset *p, uint32_t n_in, uint32_t n_out,
                  uint32_t first_tile, float w_max, uint32_t max_batch, mt_layer **out);
void mt_layer_close(mt_layer *l);
const char *mt_layer_errmsg(const mt_layer *l);
/* Programs float weights w (n_in x n_out, row-major): only weights whose level changed
 * since the last call are sent (all of them the first time); res may be NULL. */
int mt_layer_program(mt_layer *l, const float *w, mt_prog_result *res);
/* out[batch x n_out] = in[batch x n_in] x W on the device (batch <= max_batch). */
int mt_layer_matmul(mt_layer *l, const float *in, uint32_t batch, float *out);
/* The weights the programmed levels stand for (n_in x n_out), what the device holds
 * nominally; weights never programmed read as 0. */
int mt_layer_weights(const mt_layer *l, float *w);
/* Weight step between adjacent levels. */
float mt_layer_delta(const mt_layer *l);

#ifdef __cplusplus
}
#endif
#endif
