/* model://: the golden model (hls/) in-process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtile.h"
#include "mt_backend.h"
#include "mt_model.h"

#define DEFAULT_TILES 32u

struct mt_backend {
  mt_regs_t regs;
  mt_tile_t *tiles;
  uint32_t n_tiles;
};

/* Accepts "" or "?tiles=N". */
static int parse_params(const char *params, uint32_t *tiles, char *err, size_t errlen) {
  *tiles = DEFAULT_TILES;
  if (params[0] == '\0') return MT_OK;
  if (strncmp(params, "?tiles=", 7) == 0) {
    char *end = NULL;
    unsigned long v = strtoul(params + 7, &end, 10);
    if (end != params + 7 && *end == '\0' && v >= 1 && v <= MT_MAX_TILES) {
      *tiles = (uint32_t)v;
      return MT_OK;
    }
    snprintf(err, errlen, "model://%s: tiles must be an integer in [1, %u]", params, MT_MAX_TILES);
    return MT_ERR_INVAL;
  }
  snprintf(err, errlen, "model://%s: unknown parameter (expected nothing or ?tiles=N)", params);
  return MT_ERR_INVAL;
}

static int model_open(const char *params, mt_backend **out, char *err, size_t errlen) {
  uint32_t tiles = 0;
  int rc = parse_params(params, &tiles, err, errlen);
  if (rc != MT_OK) return rc;
  mt_backend *be = calloc(1, sizeof *be);
  if (be) be->tiles = calloc(tiles, sizeof *be->tiles);
  if (!be || !be->tiles) {
    free(be);
    snprintf(err, errlen, "model://: cannot allocate %u tiles (%zu bytes)", tiles,
             tiles * sizeof(mt_tile_t));
    return MT_ERR_NOMEM;
  }
  be->n_tiles = tiles;
  mt_device_reset(&be->regs, be->tiles, tiles);
  *out = be;
  return MT_OK;
}

static int model_transact(mt_backend *be, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                          uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, char *err,
                          size_t errlen) {
  (void)err;
  (void)errlen;
  *n_rsp = mt_kernel(cmd, n_cmd, rsp, rsp_cap, &be->regs, be->tiles, be->n_tiles, consumed);
  return MT_OK;
}

static void model_close(mt_backend *be) {
  if (!be) return;
  free(be->tiles);
  free(be);
}

const mt_backend_ops mt_backend_model = {"model", model_open, model_transact, model_close, NULL, NULL};
