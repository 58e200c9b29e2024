/* The protocol's names for bindings (memtile_layer.h), from the generated header. */
#include <stddef.h>
#include <string.h>

#include "memtile_layer.h"
#include "mt_protocol.h"

uint32_t mt_config_count(void) { return MT_CFG_COUNT; }
const char *mt_config_name(uint32_t k) { return k < MT_CFG_COUNT ? mt_cfg_names[k] : NULL; }
uint32_t mt_counter_count(void) { return MT_CNT_COUNT; }
const char *mt_counter_name(uint32_t k) { return k < MT_CNT_COUNT ? mt_cnt_names[k] : NULL; }

int mt_config_find(const char *name) {
  for (uint32_t k = 0; name && k < MT_CFG_COUNT; k++)
    if (!strcmp(mt_cfg_names[k], name)) return (int)k;
  return MT_ERR_INVAL;
}

int mt_counter_find(const char *name) {
  for (uint32_t k = 0; name && k < MT_CNT_COUNT; k++)
    if (!strcmp(mt_cnt_names[k], name)) return (int)k;
  return MT_ERR_INVAL;
}
