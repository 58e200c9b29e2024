/* State image: the device's whole state as words, for snapshot and restore
 * (docs/protocol.md, "State image"). */
#ifndef MT_STATE_H
#define MT_STATE_H

#include "mt_model.h"

/* Checks a CONFIGURE parameter set; on error *bad_field is the field index. */
uint32_t mt_config_check(const uint32_t *cfg, uint32_t *bad_field);

void mt_state_global_read(const mt_regs_t *regs, uint32_t offset, uint32_t count, uint32_t *out);
/* Validates a whole GLOBAL image; on error *bad is the offending word. */
uint32_t mt_state_global_check(const uint32_t *img, uint32_t n_tiles, uint32_t *bad);
void mt_state_global_write(mt_regs_t *regs, const uint32_t *img);

void mt_state_tile_read(const mt_tile_t *t, uint32_t offset, uint32_t count, uint32_t *out);
/* Validates whole weight records; on error *bad is the offending word. */
uint32_t mt_state_tile_check(const uint32_t *words, uint32_t count, uint32_t *bad);
void mt_state_tile_write(mt_tile_t *t, uint32_t offset, uint32_t count, const uint32_t *words);

#endif
