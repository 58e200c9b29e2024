/* Loading a preset into a device: the three configuration commands. */
#include "memtile.h"
#include "mt_preset.h"

int mt_preset_apply(const mt_preset_t *p, mt_dev *dev) {
  int rc = mt_dev_configure(dev, p->cfg);
  if (rc == MT_OK) rc = mt_dev_set_levels(dev, p->levels, p->level_table);
  if (rc != MT_OK) return rc;
  uint16_t meta[MT_META_TABLE_SIZE];
  for (uint32_t k = 0; k < MT_META_TABLE_SIZE; k++)
    meta[k] = (uint16_t)(p->meta_table[k / 2] >> (16u * (k % 2)));
  return mt_dev_set_meta_table(dev, meta);
}
