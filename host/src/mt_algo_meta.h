/* Metaplastic training (D'Agostino et al. 2023) on the device's
 * metaplasticity unit (docs/algorithms.md, "metaplastic").
 *
 * The hidden weights live in the unit, next to each tile (Q15.16 level
 * units); the host never holds them between steps. It initialises them once
 * (META_WRITE), then sends one int16 update per weight and step (META_UPDATE,
 * one command per tile block). The unit attenuates the updates that shrink
 * |h| by f_meta(|h|) from its META_TABLE, re-quantizes, and programs only
 * the cells whose level changed. The host reads the levels back (READ_LEVELS)
 * of the blocks where the unit programmed cells, and uses the quantized
 * weights for the forward and backward passes. Internal to the trainer. */
#ifndef MT_ALGO_META_H
#define MT_ALGO_META_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"
#include "mt_map.h"
#include "mt_preset.h"

/* Largest |int16| update the host sends: symmetric, so clipping has no sign bias. */
#define MT_META_UPDATE_MAX 32767

typedef struct {
  mt_preset_t preset;  /* the preset as configured for metaplastic training */
  uint32_t in_shift;   /* meta_in_shift of that configuration */
  int16_t *upd;        /* workspace: the updates of one tile block, row-major */
  int32_t *hid;        /* workspace: hidden weights of one tile block (initialisation) */
  uint16_t *lv;        /* workspace: levels of one tile block */
  uint64_t clipped;    /* updates clipped to +-MT_META_UPDATE_MAX (cumulative) */
} mt_meta_t;

/* m per level unit from m in the paper's units, where the weight range
 * [-w_max, w_max] is normalised to [-1, 1]: one level is 2/(L-1) there, so
 * m_level = m_paper * 2 / (L-1). L = 2 gives the BNN rule with W_b = +-1. */
double mt_meta_m_level(double m_paper, uint32_t levels);

/* Table index shift so that the 2^table_log2 entries the unit uses span the
 * distances that matter: |h| < L level units for the centre rule (twice the
 * outer decision boundary, L/2), a distance < 2 levels for the interval rule
 * (inner intervals are 1 level wide): the smallest shift <= 24 with
 * 2^table_log2 << shift >= span * 65536. */
uint32_t mt_meta_idx_shift(uint32_t levels, uint32_t table_log2, uint32_t rule);

/* The 256-entry META_TABLE for m per level unit and an index shift: entry
 * i = round(2^bits (1 - tanh^2(m_level * i * 2^shift / 65536))), clamped to
 * 2^bits - 1 (exactly 1 for the device), in the top `bits` bits of its
 * Q0.16 word (the unit's meta_entry_bits). */
void mt_meta_table(double m_level, uint32_t idx_shift, uint32_t bits, uint16_t *table);

/* Prepares s: copies `base`, sets meta_idx_shift (mt_meta_idx_shift for the
 * preset's table size and rule),
 * meta_prog_mode (open loop if open_loop, else the preset's), and the table
 * from m_paper (m_paper = 0: f = 1, no metaplasticity). 0, or -1 with a
 * message. The caller applies s->preset to the device. */
int mt_meta_init(mt_meta_t *s, const mt_preset_t *base, double m_paper, int open_loop, char *err,
                 size_t errlen);
void mt_meta_free(mt_meta_t *s);

/* The int16 update the host sends for gradient g and learning rate lr on
 * layer map m: the SGD step -lr g in level units of Q.16, shifted down by the
 * unit's meta_in_shift: round(-lr g / delta * 2^(16 - in_shift)), clipped to
 * +-MT_META_UPDATE_MAX (a step of at most half a level with in_shift 0). */
int16_t mt_meta_update_value(const mt_layer_map_t *m, uint32_t in_shift, float lr, float g);

/* Writes the initial hidden weights h = round(w / delta * 65536) (META_WRITE,
 * which programs each weight's level), reads the levels back into m's mirror
 * and replaces w by the quantized weights. res accumulates the unit's results. */
int mt_meta_write_init(mt_meta_t *s, mt_layer_map_t *m, mt_dev *dev, float *w, mt_prog_result *res);

/* One SGD step of the hidden weights: sends mt_meta_update_value(lr, g)
 * per weight (META_UPDATE per tile block; blocks whose updates are all 0 are
 * not sent), then reads back the levels of the blocks where the unit
 * programmed cells, updating m's mirror and the quantized weights w. */
int mt_meta_step(mt_meta_t *s, mt_layer_map_t *m, mt_dev *dev, const float *g, float lr, float *w,
                 mt_prog_result *res);

#endif
