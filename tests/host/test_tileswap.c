/* Tile swapping (host/src/mt_tileswap.c under mt_dev.c) on model://: a handle offering 8 tiles
 * on a device of 1 or 2 answers a command stream touching every tile in turn byte for byte as
 * a 16-tile device does (fabrication, programming, pulses, noisy reads and MVMs, the
 * metaplasticity unit, raw commands, counters), and its swap counters are exactly what the
 * LRU policy implies. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "memtile.h"
#include "mt_preset.h"
#include "mt_protocol.h"

#define TILES 8u
#define MAX_STEPS 512

static mt_preset_t rram;

static mt_dev *open_ok(const char *uri) {
  mt_dev *dev = NULL;
  int rc = mt_dev_open(uri, &dev);
  if (rc != MT_OK) fail_msg("%s: %s", uri, mt_dev_errmsg(dev));
  return dev;
}

/* uri, swapping TILES tiles onto at most max_tiles of its own (0: no swapping), rram applied. */
static mt_dev *open_swap(const char *uri, uint32_t max_tiles) {
  mt_dev *dev = open_ok(uri);
  if (max_tiles && mt_dev_set_max_tiles(dev, max_tiles, TILES) != MT_OK)
    fail_msg("%s: %s", uri, mt_dev_errmsg(dev));
  char err[256];
  assert_int_equal(mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &rram, err, sizeof err), 0);
  rram.cfg[MT_CFG_DRIFT_NU] = 3277, rram.cfg[MT_CFG_DRIFT_NU_SD] = 1311; /* for DRIFT */
  assert_int_equal(mt_preset_apply(&rram, dev), MT_OK);
  assert_int_equal(mt_dev_seed(dev, 42), MT_OK);
  return dev;
}

static uint32_t rng_next(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return (uint32_t)(*s >> 11);
}

/* What a stream answered: one CRC per step, so that a difference names its step. */
typedef struct {
  uint32_t crc[MAX_STEPS];
  char what[MAX_STEPS][48];
  uint32_t n;
} trace;

static void record(trace *tr, const char *what, uint32_t tile, const void *p, size_t bytes) {
  assert_true(tr->n < MAX_STEPS);
  tr->crc[tr->n] = (uint32_t)crc32(0L, p, (uInt)bytes);
  snprintf(tr->what[tr->n], sizeof tr->what[0], "%s tile %u", what, tile);
  tr->n++;
}

#define OK(dev, call)                                                                  \
  do {                                                                                 \
    if ((call) != MT_OK) fail_msg("%s: %s", #call, mt_dev_errmsg(dev));                \
  } while (0)

/* The stream: every tile fabricated, then rounds over the tiles in an order that makes a
 * small device evict, each using its tile through every kind of command. */
static void run_stream(mt_dev *dev, trace *tr) {
  static const uint32_t order[] = {3, 0, 7, 3, 5, 1, 6, 2, 4, 0, 0, 6};
  static int16_t x[4 * MT_ROWS], y[4 * MT_COLS];
  static uint16_t gp[MT_ROWS * MT_COLS], gm[MT_ROWS * MT_COLS];
  static uint32_t entries[64], cells[64], raw[8 + MT_ROWS];
  static int32_t h[8 * 8];
  static int16_t d[8 * 8];
  uint64_t s = 0x9E3779B97F4A7C15ull;
  tr->n = 0;
  for (uint32_t t = 0; t < TILES; t++) OK(dev, mt_dev_fabricate(dev, 7, t));
  for (uint32_t round = 0; round < 2; round++) {
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
      uint32_t t = order[k];
      mt_prog_result res;
      for (uint32_t e = 0; e < 64; e++)
        entries[e] = (rng_next(&s) % MT_ROWS) << 20 | (rng_next(&s) % MT_COLS) << 8 |
                     rng_next(&s) % rram.levels;
      OK(dev, mt_dev_program(dev, t, 0, entries, 64, &res));
      record(tr, "PROGRAM", t, &res, sizeof res);
      for (uint32_t i = 0; i < 4 * MT_ROWS; i++) x[i] = (int16_t)(rng_next(&s) % 255) - 127;
      OK(dev, mt_dev_mvm(dev, t, 4, MT_ROWS, MT_COLS, x, y));
      record(tr, "MVM", t, y, sizeof y);
      if (k % 2 == 0) {
        for (uint32_t e = 0; e < 16; e++)
          entries[e] = (rng_next(&s) % MT_ROWS) << 20 | (rng_next(&s) % MT_COLS) << 8 |
                       (rng_next(&s) & 1) << 7 | (rng_next(&s) % 5 + 1);
        OK(dev, mt_dev_pulse(dev, t, entries, 16));
        mt_region r = {rng_next(&s) % 64, 8, rng_next(&s) % 64, 8};
        OK(dev, mt_dev_read_cells(dev, t, r, 0, gp, gm));
        record(tr, "READ_CELLS", t, gp, 64 * sizeof *gp);
        for (uint32_t e = 0; e < 64; e++) cells[e] = (rng_next(&s) % MT_ROWS) << 20 | (rng_next(&s) % MT_COLS) << 8;
        OK(dev, mt_dev_read_list(dev, t, 0, cells, 64, gp, gm));
        record(tr, "READ_LIST", t, gm, 64 * sizeof *gm);
      } else {
        mt_region r = {rng_next(&s) % 64, 8, rng_next(&s) % 64, 8};
        for (uint32_t i = 0; i < 64; i++) h[i] = (int32_t)(rng_next(&s) % 200001) - 100000;
        for (uint32_t i = 0; i < 64; i++) d[i] = (int16_t)(rng_next(&s) % 2001) - 1000;
        OK(dev, mt_dev_meta_write(dev, t, r, h, &res));
        record(tr, "META_WRITE", t, &res, sizeof res);
        OK(dev, mt_dev_meta_update(dev, t, r, d, &res));
        record(tr, "META_UPDATE", t, &res, sizeof res);
        OK(dev, mt_dev_meta_read(dev, t, r, h));
        record(tr, "META_READ", t, h, sizeof h);
        OK(dev, mt_dev_read_levels(dev, t, r, gp));
        record(tr, "READ_LEVELS", t, gp, 64 * sizeof *gp);
        /* A raw MVM of one vector names the tile in its payload's word 0. */
        uint32_t n = 0;
        raw[0] = t, raw[1] = 1, raw[2] = MT_ROWS, raw[3] = 8;
        for (uint32_t i = 0; i < MT_ROWS / 2; i++) raw[4 + i] = rng_next(&s) & 0x003F003Fu;
        OK(dev, mt_dev_command(dev, MT_OP_MVM, raw, 4 + MT_ROWS / 2, raw, 8 + MT_ROWS, &n));
        record(tr, "raw MVM", t, raw, n * sizeof *raw);
      }
    }
  }
  uint64_t cnt[MT_CNT_COUNT];
  OK(dev, mt_dev_stats(dev, cnt, MT_CNT_COUNT));
  record(tr, "STATS_GET", 0, cnt, sizeof cnt);
  /* Every tile's conductances at the end, and a raw re-fabrication then read. */
  for (uint32_t t = 0; t < TILES; t++) {
    OK(dev, mt_dev_read_cells(dev, t, (mt_region){0, MT_ROWS, 0, MT_COLS}, 1, gp, gm));
    record(tr, "probe g+", t, gp, sizeof gp);
    record(tr, "probe g-", t, gm, sizeof gm);
  }
  /* DRIFT of every tile, through the API and raw: each device's exponent follows its tile
   * (the seed as FABRICATE's), not the slot it sits in. */
  uint32_t fab[3] = {9, 1, 5}, n = 0;
  for (uint32_t t = 0; t < TILES; t++) OK(dev, mt_dev_drift(dev, t, 11, 20, 20 + 3600.0 * (t + 1)));
  uint32_t dr[4] = {5, 0, 6, 3 * 65536};
  OK(dev, mt_dev_command(dev, MT_OP_DRIFT, dr, 4, NULL, 0, &n));
  for (uint32_t t = 0; t < TILES; t++) {
    OK(dev, mt_dev_read_cells(dev, t, (mt_region){0, MT_ROWS, 0, MT_COLS}, 1, gp, gm));
    record(tr, "DRIFT, probe g+", t, gp, sizeof gp);
    record(tr, "DRIFT, probe g-", t, gm, sizeof gm);
  }
  OK(dev, mt_dev_command(dev, MT_OP_FABRICATE, fab, 3, NULL, 0, &n));
  OK(dev, mt_dev_read_cells(dev, 5, (mt_region){0, MT_ROWS, 0, MT_COLS}, 1, gp, gm));
  record(tr, "raw FABRICATE, probe g+", 5, gp, sizeof gp);
  uint32_t st[4] = {MT_SECTION_TILE, 2, 0, 64};
  OK(dev, mt_dev_command(dev, MT_OP_STATE_READ, st, 4, raw, 64, &n));
  record(tr, "raw STATE_READ", 2, raw, n * sizeof *raw);
}

static void assert_same(const trace *a, const trace *b, const char *name) {
  assert_int_equal(a->n, b->n);
  for (uint32_t k = 0; k < a->n; k++)
    if (a->crc[k] != b->crc[k])
      fail_msg("%s: step %u (%s) answers differently from the 16-tile device", name, k, a->what[k]);
}

static trace ref_tr, swap_tr;

static void same_answers_on_1_and_2_tiles(void **state) {
  (void)state;
  mt_dev *ref = open_swap("model://?tiles=16", 0);
  run_stream(ref, &ref_tr);
  uint64_t ref_transactions = mt_dev_transactions(ref);
  mt_swap_stats none;
  assert_int_equal(mt_dev_swap_stats(ref, &none), MT_ERR_NODEV);
  assert_int_equal(none.swaps + none.saves + none.transactions + none.bytes, 0);
  mt_dev_close(ref);
  static const char *const uris[] = {"model://?tiles=1", "model://?tiles=2", "model://?tiles=16"};
  static const uint32_t max[] = {1, 2, 3};
  for (int k = 0; k < 3; k++) {
    mt_dev *dev = open_swap(uris[k], max[k]);
    assert_int_equal(mt_dev_get_info(dev)->tiles, TILES);
    run_stream(dev, &swap_tr);
    assert_same(&ref_tr, &swap_tr, uris[k]);
    /* The commands of the stream are the device's; swapping's are counted apart. */
    assert_int_equal(mt_dev_transactions(dev), ref_transactions);
    mt_swap_stats st;
    assert_int_equal(mt_dev_swap_stats(dev, &st), MT_OK);
    assert_true(st.swaps > 0 && st.saves > 0);
    assert_int_equal(st.bytes, (st.swaps + st.saves) * MT_TILE_WORDS * 4);
    mt_dev_close(dev);
  }
}

/* Commands of one whole-tile STATE_READ and STATE_WRITE on model:// (no link limits). */
static uint64_t read_cmds(void) { return (MT_TILE_WORDS + MT_STATE_CHUNK - 1) / MT_STATE_CHUNK; }
static uint64_t write_cmds(void) {
  uint32_t chunk = MT_STATE_CHUNK / MT_WEIGHT_WORDS * MT_WEIGHT_WORDS;
  return (MT_TILE_WORDS + chunk - 1) / chunk;
}

static void check_counts(mt_dev *dev, uint64_t swaps, uint64_t saves) {
  mt_swap_stats st;
  assert_int_equal(mt_dev_swap_stats(dev, &st), MT_OK);
  assert_int_equal(st.swaps, swaps);
  assert_int_equal(st.saves, saves);
  assert_int_equal(st.bytes, (swaps + saves) * MT_TILE_WORDS * 4);
  assert_int_equal(st.transactions, saves * read_cmds() + swaps * write_cmds());
  assert_int_equal(st.cycles, 0); /* model:// has no clock */
}

/* LRU on one slot, and on two: a tile is saved only if it changed since it was loaded. */
static void counters_follow_the_lru_policy(void **state) {
  (void)state;
  int16_t x[MT_ROWS] = {0}, y[MT_COLS];
  uint32_t entry = 1u << 20 | 2u << 8 | 3u;
  mt_dev *dev = open_swap("model://?tiles=4", 1); /* a larger device used as one tile */
  uint64_t tr0 = mt_dev_transactions(dev);
  OK(dev, mt_dev_fabricate(dev, 1, 0));
  check_counts(dev, 0, 0);
  OK(dev, mt_dev_fabricate(dev, 1, 1)); /* evicts 0, fabricated (changed): saved */
  check_counts(dev, 0, 1);
  OK(dev, mt_dev_mvm(dev, 1, 1, MT_ROWS, MT_COLS, x, y)); /* resident */
  check_counts(dev, 0, 1);
  OK(dev, mt_dev_mvm(dev, 0, 1, MT_ROWS, MT_COLS, x, y)); /* loads 0, saves 1 */
  check_counts(dev, 1, 2);
  OK(dev, mt_dev_mvm(dev, 1, 1, MT_ROWS, MT_COLS, x, y)); /* loads 1; 0 unchanged: no save */
  check_counts(dev, 2, 2);
  OK(dev, mt_dev_program(dev, 1, 0, &entry, 1, NULL)); /* 1 changes */
  OK(dev, mt_dev_mvm(dev, 0, 1, MT_ROWS, MT_COLS, x, y)); /* loads 0, saves 1 */
  check_counts(dev, 3, 3);
  assert_int_equal(mt_dev_transactions(dev) - tr0, 2 + 4 + 1); /* FABRICATE x2, MVM x4, PROGRAM */
  mt_dev_close(dev);

  dev = open_swap("model://?tiles=2", 2);
  for (uint32_t t = 0; t < 3; t++) OK(dev, mt_dev_fabricate(dev, 1, t)); /* 2 evicts 0 */
  check_counts(dev, 0, 1);
  OK(dev, mt_dev_mvm(dev, 1, 1, MT_ROWS, MT_COLS, x, y)); /* 1 now newer than 2 */
  OK(dev, mt_dev_mvm(dev, 0, 1, MT_ROWS, MT_COLS, x, y)); /* evicts 2 (least recent), saved */
  check_counts(dev, 1, 2);
  OK(dev, mt_dev_mvm(dev, 1, 1, MT_ROWS, MT_COLS, x, y)); /* resident */
  check_counts(dev, 1, 2);
  mt_dev_close(dev);
}

static void errors_name_the_tile(void **state) {
  (void)state;
  int16_t x[MT_ROWS] = {0}, y[MT_COLS];
  mt_dev *dev = open_swap("model://?tiles=1", 1);
  OK(dev, mt_dev_fabricate(dev, 1, 0));
  /* As a device of TILES tiles would answer. */
  assert_int_equal(mt_dev_mvm(dev, 3, 1, MT_ROWS, MT_COLS, x, y), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "MVM: ERR_STATE: tile not fabricated (tile 3)"));
  assert_int_equal(mt_dev_fabricate(dev, 1, TILES), MT_ERR_DEVICE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "FABRICATE: ERR_TILE: payload word 2 = 8"));
  /* Swapping starts before any tile is named, once. */
  assert_int_equal(mt_dev_set_max_tiles(dev, 1, 4), MT_ERR_INVAL);
  assert_non_null(strstr(mt_dev_errmsg(dev), "before any command names a tile"));
  mt_dev_close(dev);
  dev = open_ok("model://?tiles=2");
  assert_int_equal(mt_dev_set_max_tiles(dev, 0, 4), MT_ERR_INVAL);
  assert_int_equal(mt_dev_set_max_tiles(dev, 1, 65), MT_ERR_INVAL);
  assert_non_null(strstr(mt_dev_errmsg(dev), "65 tiles asked for"));
  /* Where the device's first max_tiles tiles hold them all, nothing changes. */
  OK(dev, mt_dev_set_max_tiles(dev, 2, 2));
  assert_int_equal(mt_dev_get_info(dev)->tiles, 2);
  mt_dev_close(dev);
}

/* A few more commands on every tile, after a snapshot's restore. */
static void run_tail(mt_dev *dev, trace *tr) {
  static int16_t x[MT_ROWS], y[MT_COLS];
  uint64_t s = 77;
  tr->n = 0;
  for (uint32_t k = 0; k < 2 * TILES; k++) {
    uint32_t t = (k * 5) % TILES, entry = (rng_next(&s) % MT_ROWS) << 20 | 3u << 8 | 1u;
    mt_prog_result res;
    OK(dev, mt_dev_program(dev, t, MT_PROGRAM_FORCE, &entry, 1, &res));
    record(tr, "PROGRAM", t, &res, sizeof res);
    for (uint32_t i = 0; i < MT_ROWS; i++) x[i] = (int16_t)(rng_next(&s) % 64);
    OK(dev, mt_dev_mvm(dev, t, 1, MT_ROWS, MT_COLS, x, y));
    record(tr, "MVM", t, y, sizeof y);
  }
}

/* A swapping handle's snapshot is its logical device's, byte for byte that of a device with
 * TILES tiles after the same commands; restored into either, the same commands follow. */
static void snapshots_are_the_logical_device(void **state) {
  (void)state;
  mt_dev *ref = open_swap("model://?tiles=8", 0), *dev = open_swap("model://?tiles=1", 1);
  run_stream(ref, &ref_tr);
  run_stream(dev, &swap_tr);
  unsigned char *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  OK(ref, mt_dev_snapshot_bytes(ref, &a, &na));
  OK(dev, mt_dev_snapshot_bytes(dev, &b, &nb));
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, na);
  mt_swap_stats st;
  OK(dev, mt_dev_swap_stats(dev, &st));
  /* The ref's image into a fresh swapping handle of 2 device tiles, and the swapped one's
   * image back into its own handle: both continue as the ref does. */
  mt_dev *fresh = open_swap("model://?tiles=2", 2);
  OK(fresh, mt_dev_restore_bytes(fresh, a, na, "ref"));
  OK(dev, mt_dev_restore_bytes(dev, b, nb, "own"));
  trace t_ref, t_fresh, t_dev;
  run_tail(ref, &t_ref);
  run_tail(fresh, &t_fresh);
  run_tail(dev, &t_dev);
  assert_same(&t_ref, &t_fresh, "restored into model://?tiles=2");
  assert_same(&t_ref, &t_dev, "restored into model://?tiles=1");
  /* A rejected image (a hidden weight out of range in tile 3) changes nothing. */
  unsigned char *c = NULL;
  size_t nc = 0;
  OK(dev, mt_dev_snapshot_bytes(dev, &c, &nc));
  size_t at = 4 * (8 + MT_GLOBAL_WORDS + 3 * (size_t)MT_TILE_WORDS + MT_W_HIDDEN);
  c[at] = 0xFF, c[at + 1] = 0xFF, c[at + 2] = 0xFF, c[at + 3] = 0x7F;
  uint32_t crc = (uint32_t)crc32(0L, c, (uInt)(nc - 4));
  for (int k = 0; k < 4; k++) c[nc - 4 + k] = (unsigned char)(crc >> (8 * k));
  assert_int_equal(mt_dev_restore_bytes(dev, c, nc, "bad"), MT_ERR_FILE);
  assert_non_null(strstr(mt_dev_errmsg(dev), "bad: the device rejected the image, state unchanged"));
  run_tail(ref, &t_ref);
  run_tail(dev, &t_dev);
  assert_same(&t_ref, &t_dev, "after a rejected image");
  free(a);
  free(b);
  free(c);
  mt_dev_close(fresh);
  mt_dev_close(dev);
  mt_dev_close(ref);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_answers_on_1_and_2_tiles),
      cmocka_unit_test(counters_follow_the_lru_policy),
      cmocka_unit_test(errors_name_the_tile),
      cmocka_unit_test(snapshots_are_the_logical_device),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
