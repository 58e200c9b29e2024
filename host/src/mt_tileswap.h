/* Tile swapping (docs/tile-swapping.md): a device handle that offers more tiles than the device
 * has. Each logical tile lives in one of the device's tiles (a slot) or, evicted, in host
 * memory as its TILE state section; a command naming a logical tile first brings it into a slot,
 * evicting the least recently used one. This module holds the map, the LRU order and the saved
 * states; the device handle (mt_dev.c) moves the states through the callbacks of
 * mt_tileswap_io, so that the policy here never sees a command. */
#ifndef MT_TILESWAP_H
#define MT_TILESWAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_tileswap mt_tileswap;

/* How a command uses its tile. */
typedef enum {
  MT_SWAP_READ,      /* reads the tile (MVM, READ_*, META_READ, STATE_READ): state unchanged */
  MT_SWAP_WRITE,     /* changes the tile's state (PROGRAM, PULSE, META_WRITE/UPDATE, STATE_WRITE) */
  MT_SWAP_FABRICATE, /* replaces the whole state (FABRICATE): nothing to load */
} mt_swap_use;

/* Moves one tile's whole state (MT_TILE_WORDS words) between a slot and host memory, and
 * fabricates a slot that has never been (a loaded state needs a fabricated slot; what it draws
 * is overwritten); each returns MT_OK or an MT_ERR_* code (the handle holds the message). */
typedef struct {
  int (*save)(void *ctx, uint32_t slot, uint32_t *state);
  int (*load)(void *ctx, uint32_t slot, const uint32_t *state);
  int (*fabricate)(void *ctx, uint32_t slot);
  void *ctx;
} mt_tileswap_io;

/* slots device tiles carrying tiles logical ones (slots < tiles). NULL when out of memory;
 * saved states are allocated on a tile's first eviction. */
mt_tileswap *mt_tileswap_new(uint32_t slots, uint32_t tiles, mt_tileswap_io io);
void mt_tileswap_free(mt_tileswap *ts);

uint32_t mt_tileswap_tiles(const mt_tileswap *ts);
/* 1 once the logical tile has been fabricated (resident or saved). */
int mt_tileswap_fabricated(const mt_tileswap *ts, uint32_t tile);

/* Brings tile (< tiles; fabricated unless use is MT_SWAP_FABRICATE) into a slot for a command
 * that uses it as `use`, saving the evicted tile's state if it changed since it was loaded and
 * loading tile's unless it is fabricated anew; *slot is where it now is. MT_OK or the code of
 * the failed move (the map is then as before it). */
int mt_tileswap_acquire(mt_tileswap *ts, uint32_t tile, mt_swap_use use, uint32_t *slot);

/* Whole-device snapshots (mt_dev_snapshot_bytes, mt_dev_restore_bytes). evict_all saves every
 * changed resident tile and empties the slots, so that every fabricated tile's state is in
 * mt_tileswap_state. */
int mt_tileswap_evict_all(mt_tileswap *ts);
/* The tile's state in host memory (MT_TILE_WORDS words; allocated on first use, NULL when out
 * of memory): current while the tile is not resident. */
uint32_t *mt_tileswap_state(mt_tileswap *ts, uint32_t tile);
/* After the states of the fabricated tiles were written to mt_tileswap_state with the slots
 * empty: which tiles are fabricated (fabricated[t] != 0). */
void mt_tileswap_restored(mt_tileswap *ts, const uint8_t *fabricated);

/* What swapping has cost since creation: tiles loaded into a slot (swaps), evicted tiles whose
 * state was read back (saves), and the state words moved by both. */
typedef struct {
  uint64_t swaps, saves, words;
} mt_tileswap_counts;
void mt_tileswap_counts_get(const mt_tileswap *ts, mt_tileswap_counts *c);

#endif
