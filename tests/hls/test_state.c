/* State image (docs/protocol.md, "STATE_READ / STATE_WRITE"): snapshot and restore
 * through the protocol reproduce a noisy device exactly, so the same further
 * command stream gives the same response bytes; restore checks the tile count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mt_testproto.h"

/* A stream that uses every kind of noise draw, the counters and the hidden weights:
 * pulses, write-verify and open-loop programs, noisy MVMs (per cell, then per
 * column), noisy reads, META_UPDATE (attenuated), META_WRITE, a reconfiguration,
 * fabrication of the spare tile, STATS_GET and a GLOBAL STATE_READ. */
static void build_stream(tp_buf_t *b, uint32_t spare_tile) {
  tp_rng_t r = {0x57EA3u};
  uint32_t p[2 + 200];
  uint32_t tag = 0;
  p[0] = 0;
  for (uint32_t k = 0; k < 100; k++)
    p[1 + k] = tdev_pulse_entry(tp_below(&r, MT_ROWS), tp_below(&r, MT_COLS), tp_below(&r, 2),
                                (int32_t)tp_below(&r, 127) - 63);
  tp_put(b, MT_OP_PULSE, tag++, p, 101);
  p[0] = 0, p[1] = MT_PROG_FORCE;
  for (uint32_t k = 0; k < 60; k++)
    p[2 + k] = tdev_entry(tp_below(&r, MT_ROWS), tp_below(&r, MT_COLS), tp_below(&r, TP_NOISY_LEVELS));
  tp_put(b, MT_OP_PROGRAM, tag++, p, 62);
  p[0] = 1, p[1] = MT_PROG_OPEN_LOOP;
  tp_put(b, MT_OP_PROGRAM, tag++, p, 62);
  uint32_t mv[4 + 3 * 64] = {0, 3, 128, 128};
  for (uint32_t k = 0; k < 3 * 64; k++) mv[4 + k] = tp_u32(&r) & 0x00FF00FFu;
  tp_put(b, MT_OP_MVM, tag++, mv, 4 + 3 * 64);
  uint32_t rc[6] = {1, 20, 16, 90, 16, 0};
  tp_put(b, MT_OP_READ_CELLS, tag++, rc, 6);
  uint32_t mu[5 + 64] = {0, 40, 8, 3, 16};
  for (uint32_t k = 0; k < 64; k++) mu[5 + k] = tp_u32(&r);
  tp_put(b, MT_OP_META_UPDATE, tag++, mu, 5 + 64);
  uint32_t mw[5 + 64] = {1, 100, 8, 64, 8};
  for (uint32_t k = 0; k < 64; k++) mw[5 + k] = (uint32_t)((int32_t)tp_below(&r, 6u << 16) - (3 << 16));
  tp_put(b, MT_OP_META_WRITE, tag++, mw, 5 + 64);
  uint32_t cfg[MT_CFG_COUNT];
  tp_cfg_noisy(cfg);
  cfg[MT_CFG_READ_MODE] = 2;
  cfg[MT_CFG_META_PROG_MODE] = 1;
  tp_put(b, MT_OP_CONFIGURE, tag++, cfg, MT_CFG_COUNT);
  mv[0] = 1, mv[1] = 2;
  tp_put(b, MT_OP_MVM, tag++, mv, 4 + 2 * 64);
  for (uint32_t k = 0; k < 64; k++) mu[5 + k] = tp_u32(&r);
  tp_put(b, MT_OP_META_UPDATE, tag++, mu, 5 + 64);
  uint32_t fab[3] = {0xABCD, 0x1234, spare_tile};
  tp_put(b, MT_OP_FABRICATE, tag++, fab, 3);
  p[0] = spare_tile, p[1] = 0;
  tp_put(b, MT_OP_PROGRAM, tag++, p, 22);
  rc[0] = spare_tile;
  tp_put(b, MT_OP_READ_CELLS, tag++, rc, 6);
  tp_put(b, MT_OP_STATS_GET, tag++, NULL, 0);
  uint32_t sr[4] = {MT_SECTION_GLOBAL, 0, 0, TP_G_WORDS};
  tp_put(b, MT_OP_STATE_READ, tag++, sr, 4);
}

/* Runs the stream; every command must succeed. Returns the response length. */
static uint32_t run_stream(tdev_t *d, const tp_buf_t *b, uint32_t *rsp) {
  uint32_t consumed, n = tp_kernel(d, b->w, b->n, rsp, TDEV_RSP_CAP, &consumed);
  assert_int_equal(consumed, b->n);
  tp_check_stream(b->w, b->n, rsp, n, TDEV_RSP_CAP, consumed);
  for (uint32_t w = 0; w < n; w += 2 + rsp[w + 1]) assert_int_equal(tp_st(rsp[w]), MT_ST_OK);
  return n;
}

static void snapshot_restore_round_trip(void **state) {
  (void)state;
  tdev_t *a = tp_noisy_device(3, 2, 11); /* tile 2 never fabricated */
  tp_rng_t r = {1111};
  tp_workload(a, 0, &r);
  uint32_t *img = tp_snapshot(a);
  /* the image carries what it should: faults, write-verify failures, pulses, hidden weights */
  uint32_t faults = 0, hidden = 0, programmed = 0;
  for (uint32_t t = 0; t < 2; t++) {
    const uint32_t *tw = img + TP_G_WORDS + (size_t)t * TP_TILE_WORDS;
    for (uint32_t w = 0; w < MT_ROWS * MT_COLS; w++) {
      const uint32_t *rec = tw + w * MT_WEIGHT_WORDS;
      faults += (rec[9] & 0xFFFFu) != 0;
      hidden += rec[10] != 0;
      programmed += (rec[9] >> 16) != MT_LEVEL_NONE;
    }
  }
  assert_true(faults > 100);
  assert_true(hidden > 100);
  assert_true(programmed > 300);
  assert_int_equal(img[TP_G_FABRICATED], 3);
  assert_true(tdev_counter(a, MT_CNT_WV_FAILURES) > 0);
  assert_true(img[TP_G_COUNTERS + 2 * MT_CNT_ENERGY_FJ + 1] != 0); /* high words in use */
  assert_true(img[TP_G_COUNTERS + 2 * MT_CNT_LATENCY_PS + 1] != 0);
  uint32_t *img_a = tp_snapshot(a); /* STATS_GET changed nothing */
  tp_assert_image_equal(img, img_a, 3);

  tdev_t *b = tdev_new(3);
  uint32_t prog[3] = {2, 0, tdev_entry(0, 0, 0)};
  tp_restore(b, img);
  uint32_t *img_b = tp_snapshot(b);
  tp_assert_image_equal(img, img_b, 3);
  /* also byte-exact in memory (nothing outside the image differs) */
  tp_raw_t *raw_a = tp_raw_save(a);
  assert_true(tp_raw_equal(b, raw_a));
  tp_raw_free(raw_a);
  tp_expect(b, MT_OP_PROGRAM, prog, 3, MT_ST_ERR_STATE, 3, 2);

  /* the same stream gives the same bytes */
  tp_buf_t s;
  tp_buf_init(&s, 8192);
  build_stream(&s, 2);
  uint32_t *rsp_a = malloc(TDEV_RSP_CAP * sizeof *rsp_a);
  uint32_t *rsp_b = malloc(TDEV_RSP_CAP * sizeof *rsp_b);
  uint32_t na = run_stream(a, &s, rsp_a);
  uint32_t nb = run_stream(b, &s, rsp_b);
  assert_int_equal(na, nb);
  assert_memory_equal(rsp_a, rsp_b, na * sizeof *rsp_a);
  free(img_a);
  free(img_b);
  img_a = tp_snapshot(a);
  img_b = tp_snapshot(b);
  tp_assert_image_equal(img_a, img_b, 3);
  assert_true(tp_image_diff(img, img_a, tp_image_words(3)) >= 0); /* the stream did change it */

  /* and the stream notices a one-bit difference in a noise lane or a counter */
  static const uint32_t flips[] = {TP_G_LANES + 4 * 5 + 2, TP_G_LANES + 4 * 15, TP_G_COUNTERS + 2 * MT_CNT_MVMS};
  for (uint32_t k = 0; k < 3; k++) {
    tdev_t *c = tdev_new(3);
    img[flips[k]] ^= 1u;
    tp_restore(c, img);
    img[flips[k]] ^= 1u;
    uint32_t nc = run_stream(c, &s, rsp_b);
    assert_true(nc != na || memcmp(rsp_a, rsp_b, na * sizeof *rsp_a) != 0);
    tdev_free(c);
  }
  free(rsp_a);
  free(rsp_b);
  tp_buf_free(&s);
  free(img);
  free(img_a);
  free(img_b);
  tdev_free(a);
  tdev_free(b);
}

/* Restoring over a device that already has a different state replaces all of it. */
static void restore_over_dirty_device(void **state) {
  (void)state;
  tdev_t *a = tp_noisy_device(3, 2, 21);
  tdev_t *b = tp_noisy_device(3, 3, 22); /* its tile 2 must become unfabricated */
  uint32_t *img = tp_snapshot(a);
  tp_restore(b, img);
  uint32_t *img_b = tp_snapshot(b);
  tp_assert_image_equal(img, img_b, 3);
  tp_buf_t s;
  tp_buf_init(&s, 8192);
  build_stream(&s, 2);
  uint32_t *rsp_a = malloc(TDEV_RSP_CAP * sizeof *rsp_a);
  uint32_t *rsp_b = malloc(TDEV_RSP_CAP * sizeof *rsp_b);
  uint32_t na = run_stream(a, &s, rsp_a);
  uint32_t nb = run_stream(b, &s, rsp_b);
  assert_int_equal(na, nb);
  assert_memory_equal(rsp_a, rsp_b, na * sizeof *rsp_a);
  free(rsp_a);
  free(rsp_b);
  tp_buf_free(&s);
  free(img);
  free(img_b);
  tdev_free(a);
  tdev_free(b);
}

/* Every GLOBAL field written is the one read back and the one the device uses:
 * 64-bit counters (both words), the seed, the f_meta table. */
static void global_fields_round_trip(void **state) {
  (void)state;
  tdev_t *a = tp_noisy_device(1, 1, 51);
  uint32_t *img = tp_snapshot(a);
  for (uint32_t i = 0; i < MT_CNT_COUNT; i++) {
    img[TP_G_COUNTERS + 2 * i] = 0x01020304u * (i + 1);
    img[TP_G_COUNTERS + 2 * i + 1] = 0xA0000000u | i;
  }
  img[TP_G_SEED] = 0xDEADBEEFu;
  img[TP_G_SEED + 1] = 0x0BADF00Du;
  img[TP_G_META + 5] = 0x1234ABCDu; /* entries 10 and 11 */
  tdev_t *b = tdev_new(1);
  tp_restore(b, img);
  tp_expect_ok(b, MT_OP_STATS_GET, NULL, 0);
  assert_memory_equal(b->out, img + TP_G_COUNTERS, 2 * MT_CNT_COUNT * sizeof *img);
  uint32_t *img_b = tp_snapshot(b);
  tp_assert_image_equal(img, img_b, 1);
  /* counting continues from the restored 64-bit values */
  uint32_t rc[6] = {0, 0, 1, 0, 1, 0};
  tp_expect_ok(b, MT_OP_READ_CELLS, rc, 6);
  uint64_t before = img[TP_G_COUNTERS + 2 * MT_CNT_CELL_READS] |
                    (uint64_t)img[TP_G_COUNTERS + 2 * MT_CNT_CELL_READS + 1] << 32;
  assert_int_equal(tdev_counter(b, MT_CNT_CELL_READS), before + 2);
  free(img_b);
  free(img);
  tdev_free(a);
  tdev_free(b);
}

static void restore_into_fewer_tiles(void **state) {
  (void)state;
  tdev_t *a = tp_noisy_device(3, 3, 12);
  uint32_t *img = tp_snapshot(a);
  assert_int_equal(img[TP_G_FABRICATED], 7);
  tdev_t *c = tdev_new(2);
  uint32_t *c0 = tp_snapshot(c);
  uint32_t *p = malloc((3 + TP_TILE_WRITE_CHUNK) * sizeof *p);
  p[0] = MT_SECTION_GLOBAL, p[1] = 0, p[2] = 0;
  memcpy(p + 3, img, TP_G_WORDS * sizeof *p);
  tp_expect(c, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS, MT_ST_ERR_SNAPSHOT, TP_G_FABRICATED, 7);
  p[0] = MT_SECTION_TILE, p[1] = 2;
  memcpy(p + 3, img + TP_G_WORDS + 2 * TP_TILE_WORDS, 110 * sizeof *p);
  tp_expect(c, MT_OP_STATE_WRITE, p, 3 + 110, MT_ST_ERR_TILE, 1, 2);
  uint32_t *c1 = tp_snapshot(c);
  tp_assert_image_equal(c0, c1, 2);
  free(c1);
  free(img);
  tdev_free(a);

  /* with only tiles 0 and 1 fabricated the same kind of image fits */
  a = tp_noisy_device(3, 2, 13);
  img = tp_snapshot(a);
  assert_int_equal(img[TP_G_FABRICATED], 3);
  tp_restore(c, img); /* GLOBAL and tiles 0, 1 */
  c1 = tp_snapshot(c);
  tp_assert_image_equal(img, c1, 2);
  free(c1);
  free(img);
  tdev_free(a);
  tdev_free(c);

  /* the second bit-set word: bit 33 needs 34 tiles */
  tdev_t *big = tdev_new(34);
  img = tp_snapshot(big);
  tdev_free(big);
  p[0] = MT_SECTION_GLOBAL, p[1] = 0, p[2] = 0;
  memcpy(p + 3, img, TP_G_WORDS * sizeof *p);
  p[3 + TP_G_FABRICATED + 1] = 1u << 1;
  tdev_t *t33 = tdev_new(33);
  tp_expect(t33, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS, MT_ST_ERR_SNAPSHOT, TP_G_FABRICATED + 1, 2);
  p[3 + TP_G_FABRICATED + 1] = 1u << 0; /* tile 32 exists */
  tp_expect_ok(t33, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS);
  tdev_free(t33);
  tdev_t *t34 = tdev_new(34);
  p[3 + TP_G_FABRICATED + 1] = 1u << 1;
  tp_expect_ok(t34, MT_OP_STATE_WRITE, p, 3 + TP_G_WORDS);
  uint32_t rl[4] = {MT_SECTION_GLOBAL, 0, TP_G_FABRICATED, 2};
  tp_expect_ok(t34, MT_OP_STATE_READ, rl, 4);
  assert_int_equal(t34->out[0], 0);
  assert_int_equal(t34->out[1], 2);
  tdev_free(t34);
  free(p);
  free(img);
  free(c0);
}

/* Chunks read at any offset and count agree with the whole image. */
static void state_read_chunks_agree(void **state) {
  (void)state;
  tdev_t *a = tp_noisy_device(1, 1, 31);
  uint32_t *img = tp_snapshot(a);
  tp_rng_t r = {3131};
  for (uint32_t k = 0; k < 300; k++) {
    uint32_t sec = k & 1, size = sec ? TP_TILE_WORDS : TP_G_WORDS;
    uint32_t off = tp_below(&r, size);
    uint32_t max = size - off < MT_STATE_CHUNK ? size - off : MT_STATE_CHUNK;
    uint32_t cnt = 1 + tp_below(&r, k % 5 == 0 ? max : (max < 40 ? max : 40));
    uint32_t q[4] = {sec, 0, off, cnt};
    tp_expect_ok(a, MT_OP_STATE_READ, q, 4);
    assert_int_equal(a->out_len, cnt);
    assert_memory_equal(a->out, img + (sec ? TP_G_WORDS : 0) + off, cnt * sizeof *img);
  }
  free(img);
  tdev_free(a);
}

/* A TILE chunk write changes exactly its records, and reading them back gives them. */
static void tile_write_changes_only_its_records(void **state) {
  (void)state;
  tdev_t *a = tp_noisy_device(2, 2, 41);
  uint32_t *img = tp_snapshot(a);
  const uint32_t first = 1000, nrec = 37;
  uint32_t p[3 + 37 * 11] = {MT_SECTION_TILE, 0, first * MT_WEIGHT_WORDS};
  memcpy(p + 3, img + TP_G_WORDS + TP_TILE_WORDS + first * MT_WEIGHT_WORDS, nrec * 11 * sizeof *p);
  tp_expect_ok(a, MT_OP_STATE_WRITE, p, 3 + nrec * 11);
  uint32_t *now = tp_snapshot(a);
  size_t lo = TP_G_WORDS + first * MT_WEIGHT_WORDS, hi = lo + nrec * MT_WEIGHT_WORDS;
  uint32_t changed = 0;
  for (size_t i = 0; i < tp_image_words(2); i++) {
    if (i >= lo && i < hi) {
      assert_int_equal(now[i], p[3 + i - lo]);
      changed += now[i] != img[i];
    } else if (now[i] != img[i]) {
      print_error("word %zu outside the written records changed\n", i);
      fail();
    }
  }
  assert_true(changed > 0);
  free(now);
  free(img);
  tdev_free(a);
}

/* Lane contract (docs/protocol.md, "Random numbers"): every draw for a weight in
 * column j comes from noise lane j mod LANES, in a fixed number per event. The
 * GLOBAL image shows the lanes, so each command's draws can be counted exactly. */
static void read_lanes(tdev_t *d, mt_xoshiro_t lanes[MT_LANES]) {
  uint32_t p[4] = {MT_SECTION_GLOBAL, 0, TP_G_LANES, MT_LANES * 4};
  tp_expect_ok(d, MT_OP_STATE_READ, p, 4);
  for (uint32_t l = 0; l < MT_LANES; l++)
    for (uint32_t k = 0; k < 4; k++) lanes[l].s[k] = d->out[4 * l + k];
}

/* Runs one command and checks that lane l advanced by exactly draws[l] outputs. */
static void expect_draws(tdev_t *d, uint32_t op, const uint32_t *p, uint32_t len,
                         const uint32_t draws[MT_LANES]) {
  mt_xoshiro_t before[MT_LANES], after[MT_LANES];
  read_lanes(d, before);
  tp_expect_ok(d, op, p, len);
  read_lanes(d, after);
  for (uint32_t l = 0; l < MT_LANES; l++) {
    for (uint32_t k = 0; k < draws[l]; k++) mt_xoshiro_next(&before[l]);
    if (memcmp(&before[l], &after[l], sizeof before[l]) != 0)
      print_error("op %u: lane %u did not advance by exactly %u draws\n", op, l, draws[l]);
    assert_memory_equal(&before[l], &after[l], sizeof before[l]);
  }
}

static void draws_come_from_the_column_lane(void **state) {
  (void)state;
  tdev_t *d = tp_noisy_device(2, 1, 61);
  uint32_t draws[MT_LANES];
  /* PULSE: one draw per pulse */
  uint32_t pu[4] = {0, tdev_pulse_entry(5, 3, 0, 7), tdev_pulse_entry(9, 19, 1, -4),
                    tdev_pulse_entry(127, 127, 0, 0)};
  memset(draws, 0, sizeof draws);
  draws[3] = 7 + 4;
  expect_draws(d, MT_OP_PULSE, pu, 4, draws);
  /* READ_CELLS: two per weight (G+ then G-); PROBE: none */
  uint32_t rc[6] = {0, 10, 3, 14, 5, 0}; /* columns 14..18 */
  memset(draws, 0, sizeof draws);
  for (uint32_t j = 14; j < 19; j++) draws[j % MT_LANES] += 2 * 3;
  expect_draws(d, MT_OP_READ_CELLS, rc, 6, draws);
  rc[5] = MT_READ_PROBE;
  memset(draws, 0, sizeof draws);
  expect_draws(d, MT_OP_READ_CELLS, rc, 6, draws);
  /* MVM: read_mode 1 two per cell, read_mode 2 one per column, read_mode 0 none */
  uint32_t mv[4 + 2 * 5] = {0, 2, 10, 20};
  for (uint32_t k = 0; k < 10; k++) mv[4 + k] = 0x00030005u;
  memset(draws, 0, sizeof draws);
  for (uint32_t j = 0; j < 20; j++) draws[j % MT_LANES] += 2 * 10 * 2;
  expect_draws(d, MT_OP_MVM, mv, 14, draws);
  uint32_t cfg[MT_CFG_COUNT];
  tp_cfg_noisy(cfg);
  cfg[MT_CFG_READ_MODE] = 2;
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  memset(draws, 0, sizeof draws);
  for (uint32_t j = 0; j < 20; j++) draws[j % MT_LANES] += 2;
  expect_draws(d, MT_OP_MVM, mv, 14, draws);
  cfg[MT_CFG_READ_MODE] = 0;
  tp_expect_ok(d, MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  memset(draws, 0, sizeof draws);
  expect_draws(d, MT_OP_MVM, mv, 14, draws);
  /* FABRICATE uses its own lanes; register reads take nothing */
  uint32_t fab[3] = {1, 2, 1};
  expect_draws(d, MT_OP_FABRICATE, fab, 3, draws);
  uint32_t rl[5] = {0, 0, 128, 0, 128};
  expect_draws(d, MT_OP_READ_LEVELS, rl, 5, draws);
  expect_draws(d, MT_OP_META_READ, rl, 5, draws);
  /* open-loop PROGRAM of one weight: |p_new - p_old| pulses per device plus one
   * relaxation draw each, all from the weight's column lane */
  uint32_t lt[4] = {MT_SECTION_GLOBAL, 0, TP_G_LEVEL_TABLE, 3 * TP_NOISY_LEVELS};
  tp_expect_ok(d, MT_OP_STATE_READ, lt, 4);
  uint32_t p7 = d->out[3 * 7 + 1], p0 = d->out[3 * 0 + 1];
  uint32_t pr[3] = {1, MT_PROG_OPEN_LOOP, tdev_entry(4, 37, 7)};
  memset(draws, 0, sizeof draws);
  draws[37 % MT_LANES] = (p7 & 0xFFFFu) + (p7 >> 16) + 2; /* from LEVEL_NONE (index 0) */
  expect_draws(d, MT_OP_PROGRAM, pr, 3, draws);
  pr[2] = tdev_entry(4, 37, 0);
  uint32_t dp = (p7 & 0xFFFFu) > (p0 & 0xFFFFu) ? (p7 & 0xFFFFu) - (p0 & 0xFFFFu) : (p0 & 0xFFFFu) - (p7 & 0xFFFFu);
  uint32_t dm = (p7 >> 16) > (p0 >> 16) ? (p7 >> 16) - (p0 >> 16) : (p0 >> 16) - (p7 >> 16);
  draws[37 % MT_LANES] = dp + dm + 2;
  expect_draws(d, MT_OP_PROGRAM, pr, 3, draws);
  memset(draws, 0, sizeof draws); /* skipped: same level, no FORCE */
  expect_draws(d, MT_OP_PROGRAM, pr, 3, draws);
  /* the relaxation draw is taken even with sigma 0 (same table otherwise) */
  assert_int_equal(tdev_levels_linear(d, TP_NOISY_LEVELS, 2000, 3000, 1000, 0), MT_ST_OK);
  pr[2] = tdev_entry(4, 37, 7);
  draws[37 % MT_LANES] = dp + dm + 2;
  expect_draws(d, MT_OP_PROGRAM, pr, 3, draws);
  tdev_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(snapshot_restore_round_trip),
    cmocka_unit_test(restore_over_dirty_device),
    cmocka_unit_test(global_fields_round_trip),
    cmocka_unit_test(restore_into_fewer_tiles),
    cmocka_unit_test(state_read_chunks_agree),
    cmocka_unit_test(tile_write_changes_only_its_records),
    cmocka_unit_test(draws_come_from_the_column_lane),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
