/* Logical tiles on fewer device tiles: the slot map, LRU eviction and the saved states. */
#include "mt_tileswap.h"

#include <assert.h>
#include <stdlib.h>

#include "memtile.h"
#include "mt_protocol.h"

#define NONE UINT32_MAX

struct mt_tileswap {
  uint32_t slots, tiles;
  mt_tileswap_io io;
  uint32_t *slot_tile;  /* logical tile in each slot, NONE while the slot is unused */
  uint64_t *slot_used;  /* LRU stamp of each slot (clock at its last acquire) */
  uint8_t *slot_fab;    /* slot fabricated on the device (it then takes a loaded state) */
  uint32_t *tile_slot;  /* slot of each logical tile, NONE when not resident */
  uint8_t *fabricated;  /* logical tile fabricated */
  uint8_t *dirty;       /* resident tile changed since it was loaded: its saved state is stale */
  uint32_t **saved;     /* each tile's state as last saved (NULL until its first save) */
  uint64_t clock;
  mt_tileswap_counts counts;
};

mt_tileswap *mt_tileswap_new(uint32_t slots, uint32_t tiles, mt_tileswap_io io) {
  assert(slots > 0 && slots < tiles && io.save && io.load && io.fabricate);
  mt_tileswap *ts = calloc(1, sizeof *ts);
  if (!ts) return NULL;
  ts->slots = slots;
  ts->tiles = tiles;
  ts->io = io;
  ts->slot_tile = malloc(slots * sizeof *ts->slot_tile);
  ts->slot_used = calloc(slots, sizeof *ts->slot_used);
  ts->slot_fab = calloc(slots, 1);
  ts->tile_slot = malloc(tiles * sizeof *ts->tile_slot);
  ts->fabricated = calloc(tiles, 1);
  ts->dirty = calloc(tiles, 1);
  ts->saved = calloc(tiles, sizeof *ts->saved);
  if (!ts->slot_tile || !ts->slot_used || !ts->slot_fab || !ts->tile_slot || !ts->fabricated || !ts->dirty ||
      !ts->saved) {
    mt_tileswap_free(ts);
    return NULL;
  }
  for (uint32_t s = 0; s < slots; s++) ts->slot_tile[s] = NONE;
  for (uint32_t t = 0; t < tiles; t++) ts->tile_slot[t] = NONE;
  return ts;
}

void mt_tileswap_free(mt_tileswap *ts) {
  if (!ts) return;
  for (uint32_t t = 0; ts->saved && t < ts->tiles; t++) free(ts->saved[t]);
  free(ts->saved);
  free(ts->dirty);
  free(ts->fabricated);
  free(ts->tile_slot);
  free(ts->slot_used);
  free(ts->slot_fab);
  free(ts->slot_tile);
  free(ts);
}

uint32_t mt_tileswap_tiles(const mt_tileswap *ts) { return ts->tiles; }

int mt_tileswap_fabricated(const mt_tileswap *ts, uint32_t tile) {
  return tile < ts->tiles && ts->fabricated[tile];
}

void mt_tileswap_counts_get(const mt_tileswap *ts, mt_tileswap_counts *c) { *c = ts->counts; }

/* An unused slot, else the least recently used one (the lowest index among equals, so that
 * the choice depends on nothing but the command stream). */
static uint32_t victim(const mt_tileswap *ts) {
  uint32_t best = 0;
  for (uint32_t s = 0; s < ts->slots; s++) {
    if (ts->slot_tile[s] == NONE) return s;
    if (ts->slot_used[s] < ts->slot_used[best]) best = s;
  }
  return best;
}

/* Takes the resident tile out of slot s, saving its state first if it changed. */
static int evict(mt_tileswap *ts, uint32_t s) {
  uint32_t old = ts->slot_tile[s];
  if (old == NONE) return MT_OK;
  /* A clean tile's saved state is still its state: evicting it moves nothing. */
  if (ts->dirty[old]) {
    if (!mt_tileswap_state(ts, old)) return MT_ERR_NOMEM;
    int rc = ts->io.save(ts->io.ctx, s, ts->saved[old]);
    if (rc != MT_OK) return rc;
    ts->dirty[old] = 0;
    ts->counts.saves++;
    ts->counts.words += MT_TILE_WORDS;
  }
  ts->tile_slot[old] = NONE;
  ts->slot_tile[s] = NONE;
  return MT_OK;
}

uint32_t *mt_tileswap_state(mt_tileswap *ts, uint32_t tile) {
  assert(tile < ts->tiles);
  if (!ts->saved[tile]) ts->saved[tile] = malloc(MT_TILE_WORDS * sizeof **ts->saved);
  return ts->saved[tile];
}

int mt_tileswap_evict_all(mt_tileswap *ts) {
  for (uint32_t s = 0; s < ts->slots; s++) {
    int rc = evict(ts, s);
    if (rc != MT_OK) return rc;
  }
  return MT_OK;
}

void mt_tileswap_restored(mt_tileswap *ts, const uint8_t *fabricated) {
  for (uint32_t s = 0; s < ts->slots; s++) assert(ts->slot_tile[s] == NONE);
  for (uint32_t t = 0; t < ts->tiles; t++) {
    ts->fabricated[t] = fabricated[t] != 0;
    assert(!ts->fabricated[t] || ts->saved[t]);
    ts->dirty[t] = 0;
  }
}

int mt_tileswap_acquire(mt_tileswap *ts, uint32_t tile, mt_swap_use use, uint32_t *slot) {
  assert(tile < ts->tiles && (use == MT_SWAP_FABRICATE || ts->fabricated[tile]));
  uint32_t s = ts->tile_slot[tile];
  if (s == NONE) {
    s = victim(ts);
    int rc = evict(ts, s);
    if (rc != MT_OK) return rc;
    if (use != MT_SWAP_FABRICATE) {
      assert(ts->saved[tile]);
      /* An empty slot (after a snapshot emptied them) may never have been fabricated. */
      if (!ts->slot_fab[s]) {
        rc = ts->io.fabricate(ts->io.ctx, s);
        if (rc != MT_OK) return rc;
        ts->slot_fab[s] = 1;
      }
      /* On failure the slot holds a part of a state: it stays empty (old's saved state is
       * current, so old is merely not resident). */
      rc = ts->io.load(ts->io.ctx, s, ts->saved[tile]);
      if (rc != MT_OK) return rc;
      ts->counts.swaps++;
      ts->counts.words += MT_TILE_WORDS;
    }
    ts->slot_tile[s] = tile;
    ts->tile_slot[tile] = s;
    ts->dirty[tile] = 0;
  }
  ts->slot_used[s] = ++ts->clock;
  if (use != MT_SWAP_READ) ts->dirty[tile] = 1;
  if (use == MT_SWAP_FABRICATE) ts->fabricated[tile] = ts->slot_fab[s] = 1;
  *slot = s;
  return MT_OK;
}
