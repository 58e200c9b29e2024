/* Preset JSON (docs/presets.md): any text must be accepted or refused with a
 * message naming the origin, leaving the caller's preset untouched on refusal;
 * an accepted one must hold what the device accepts (the level table's bounds)
 * and survive a change of level count. */
#include <stdio.h>

#include "fuzz_util.h"
#include "mt_preset.h"

static mt_preset_t before, p;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  char *text = malloc(size);
  if (!text) return 0;
  memcpy(text, data + 1, size - 1); /* byte 0: the level count to try afterwards */
  text[size - 1] = '\0';
  char err[512] = "";
  memset(&p, 0xA5, sizeof p);
  before = p;
  int rc = mt_preset_parse(text, "fuzz.json", &p, err, sizeof err);
  free(text);
  if (rc != 0) {
    if (memcmp(&p, &before, sizeof p) != 0 || strncmp(err, "fuzz.json", 9) != 0) abort();
    return 0;
  }
  if (p.levels < MT_MIN_LEVELS || p.levels > MT_MAX_LEVELS) abort();
  uint32_t bad = 0;
  if (mt_config_check(p.cfg, &bad) != MT_ST_OK) abort(); /* CONFIGURE would refuse it */
  for (uint32_t q = 0; q < p.levels; q++) {
    const uint32_t *e = &p.level_table[q * MT_LEVEL_ENTRY_WORDS];
    if ((e[1] & 0xFFFFu) > MT_MAX_PULSE_INDEX || (e[1] >> 16) > MT_MAX_PULSE_INDEX || e[2] > 0xFFFFu)
      abort(); /* SET_LEVELS would refuse it */
  }
  uint32_t levels = MT_MIN_LEVELS + data[0] % (MT_MAX_LEVELS - MT_MIN_LEVELS + 1);
  if (mt_preset_set_levels(&p, levels, err, sizeof err) == 0 && p.levels != levels) abort();
  return 0;
}
