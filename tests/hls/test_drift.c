/* Power-law conductance drift, DRIFT (docs/device-model.md, "Conductance drift"; protocol.md,
 * "DRIFT"): every device of a tile against a reference written here from the document (its
 * own 2^-x table computed in floating point, not the generated one), zero drift changes
 * nothing, the same seed gives each device the same exponent (composition), faulty devices and
 * the gmin_d floor, and the validation of the whole command before any state changes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mt_device.h"
#include "mt_testproto.h"

#define SEED_FAB 0x1234ABCDull
#define SEED_DRIFT 0x77665544ull

/* ---- reference (from the document) ---- */

static uint64_t ref_t[64];

static void ref_table(void) {
  for (int k = 0; k < 4; k++)
    for (int n = 0; n < 16; n++)
      ref_t[16 * k + n] = (uint64_t)llround(ldexp(exp2(-(double)n * pow(16, k) / 65536.0), 24));
}

static int64_t floor_div4096(int64_t v) { /* floor(v / 4096) */
  int64_t q = v / 4096;
  return (v % 4096 != 0 && v < 0) ? q - 1 : q;
}

/* a / 2^s rounded to the nearest integer, halves up, by quotient and remainder (not the
 * model's add-and-shift). */
static uint64_t round_div_pow2(uint64_t a, unsigned s) {
  uint64_t d = (uint64_t)1 << s, q = a / d, r = a % d;
  return q + (2 * r >= d);
}

/* The factor 2^-(x / 65536) in Q0.24: 1.0 times the document's table entry of each hex digit
 * of x, high digit first, each product rounded half up to Q0.24 (device-model.md). */
static uint64_t ref_factor(uint32_t x) {
  uint64_t f = (uint64_t)1 << 24;
  for (int k = 3; k >= 0; k--) f = round_div_pow2(f * ref_t[16 * k + ((x >> (4 * k)) & 15)], 24);
  return f;
}

/* g after DRIFT(L) of a device with exponent draw z. */
static uint32_t ref_drift(const uint32_t *cfg, int16_t z, uint32_t g, uint32_t gmin, uint32_t fault,
                          uint32_t l) {
  int64_t nu = (int64_t)cfg[MT_CFG_DRIFT_NU] + floor_div4096((int64_t)cfg[MT_CFG_DRIFT_NU_SD] * z + 2048);
  if (nu < 0) nu = -nu;
  if (nu > 65535) nu = 65535;
  uint64_t e = ((uint64_t)nu * l) >> 16;
  uint64_t i = e >> 16, x = e & 0xFFFF;
  uint64_t f = ref_factor((uint32_t)x);
  unsigned s = 24 + (unsigned)(i < 17 ? i : 17);
  if (fault != MT_FAULT_NONE) return g;
  uint64_t v = round_div_pow2((uint64_t)g * f, s);
  return v < gmin ? gmin : (uint32_t)v;
}

/* ---- fixture ---- */

/* Every kind of noise and variation (d2d bounds, so gmin_d differs per device; faults). */
static void cfg_drift(uint32_t *cfg, uint32_t nu, uint32_t sd) {
  tp_cfg_noisy(cfg);
  cfg[MT_CFG_DRIFT_NU] = nu;
  cfg[MT_CFG_DRIFT_NU_SD] = sd;
}

/* A fabricated 2-tile device whose devices sit at many conductances (random SET pulses on
 * every device of tile 1, so that the noise lanes have moved too). */
static tdev_t *drift_dev(uint32_t nu, uint32_t sd) {
  tdev_t *d = tdev_new(2);
  uint32_t cfg[MT_CFG_COUNT];
  cfg_drift(cfg, nu, sd);
  assert_int_equal(tdev_configure(d, cfg), MT_ST_OK);
  assert_int_equal(tdev_fabricate(d, SEED_FAB, 0), MT_ST_OK);
  assert_int_equal(tdev_fabricate(d, SEED_FAB, 1), MT_ST_OK);
  uint32_t *p = malloc((1 + 2 * MT_ROWS * MT_COLS) * sizeof *p);
  tp_rng_t r = {99};
  uint32_t n = 0;
  p[n++] = 1;
  for (uint32_t i = 0; i < MT_ROWS; i++)
    for (uint32_t j = 0; j < MT_COLS; j++)
      for (uint32_t k = 0; k < 2; k++) p[n++] = tdev_pulse_entry(i, j, k, (int32_t)tp_below(&r, 64));
  assert_int_equal(tdev_run(d, MT_OP_PULSE, p, n), MT_ST_OK);
  free(p);
  return d;
}

static uint32_t drift(tdev_t *d, uint64_t seed, uint32_t tile, uint32_t l) {
  uint32_t p[4] = {(uint32_t)seed, (uint32_t)(seed >> 32), tile, l};
  return tdev_run(d, MT_OP_DRIFT, p, 4);
}

static const uint32_t *rec(const uint32_t *img, uint32_t tile, uint32_t i, uint32_t j) {
  return img + TP_G_WORDS + (size_t)tile * TP_TILE_WORDS + ((size_t)i * MT_COLS + j) * MT_WEIGHT_WORDS;
}

/* L = log2(t1 / t0) in Q.16, as the host rounds it. */
static uint32_t l_of(double t0, double t1) { return (uint32_t)llround(log2(t1 / t0) * 65536.0); }

/* Every device of tile 1 against the reference; tile 0 and GLOBAL unchanged. */
static void check_drift(uint32_t nu, uint32_t sd, uint32_t l) {
  tdev_t *d = drift_dev(nu, sd);
  uint32_t *before = tp_snapshot(d);
  assert_int_equal(drift(d, SEED_DRIFT, 1, l), MT_ST_OK);
  assert_int_equal(d->out_len, 0);
  uint32_t *after = tp_snapshot(d);
  /* GLOBAL (lanes, counters) and tile 0 are untouched. */
  assert_int_equal(tp_image_diff(before, after, TP_G_WORDS + TP_TILE_WORDS), -1);
  mt_xoshiro_t lanes[MT_LANES];
  mt_lanes_seed(lanes, SEED_DRIFT ^ ((uint64_t)1 << 48));
  uint32_t moved = 0, floored = 0, frozen = 0;
  for (uint32_t i = 0; i < MT_ROWS; i++)
    for (uint32_t j = 0; j < MT_COLS; j++) {
      const uint32_t *b = rec(before, 1, i, j), *a = rec(after, 1, i, j);
      for (uint32_t k = 0; k < 2; k++) {
        int16_t z = mt_gauss(&lanes[j % MT_LANES]);
        uint32_t g = (b[MT_W_G] >> (16 * k)) & 0xFFFF;
        uint32_t gmin = b[k ? MT_W_BOUNDS_M : MT_W_BOUNDS_P] & 0xFFFF;
        uint32_t fault = (b[MT_W_FLAGS] >> (8 * k)) & 0xFF;
        uint32_t want = ref_drift(d->regs.cfg, z, g, gmin, fault, l);
        uint32_t got = (a[MT_W_G] >> (16 * k)) & 0xFFFF;
        if (got != want) print_error("row %u col %u dev %u: g %u -> %u, want %u\n", i, j, k, g, got, want);
        assert_int_equal(got, want);
        moved += got != g;
        floored += got == gmin && g != gmin;
        frozen += fault != MT_FAULT_NONE;
      }
      /* Everything but g is as before. */
      for (uint32_t w = 1; w < MT_WEIGHT_WORDS; w++) assert_int_equal(a[w], rec(before, 1, i, j)[w]);
    }
  print_message("nu %u sd %u L %u: %u moved, %u to gmin_d, %u faulty\n", nu, sd, l, moved, floored, frozen);
  if (((uint64_t)nu * l) >> 16 >= 256) assert_true(moved > MT_ROWS * MT_COLS / 4); /* the test sees drift */
  if (nu >= 60000 && l >= 20 * 65536) assert_true(floored > 0);
  assert_true(frozen > 0);
  free(before);
  free(after);
  tdev_free(d);
}

static void exact_pcm_like(void **state) {
  (void)state;
  /* nu 0.05 +- 0.02 (aihwkit's PCM range), 20 s -> 1 h, 1 day, 1 year. */
  check_drift(3277, 1311, l_of(20, 3600));
  check_drift(3277, 1311, l_of(20, 86400));
  check_drift(3277, 1311, l_of(20, 3.15e7));
}

static void exact_edges(void **state) {
  (void)state;
  check_drift(65535, 65535, MT_DRIFT_MAX_LOG2); /* largest exponent: most devices to gmin_d */
  check_drift(65535, 0, 20 * 65536);
  check_drift(1000, 30000, 0xFFFF);             /* every fraction digit, negative draws folded often */
  check_drift(3277, 0, 1);
}

/* drift_nu = drift_nu_sd = 0: nothing changes, at any L (every byte of the state). */
static void zero_nu_changes_nothing(void **state) {
  (void)state;
  tdev_t *d = drift_dev(0, 0);
  tp_raw_t *raw = tp_raw_save(d);
  const uint32_t ls[] = {0, 1, 65535, l_of(20, 86400), MT_DRIFT_MAX_LOG2};
  for (uint32_t k = 0; k < sizeof ls / sizeof ls[0]; k++) {
    assert_int_equal(drift(d, SEED_DRIFT + k, k % 2, ls[k]), MT_ST_OK);
    assert_true(tp_raw_equal(d, raw));
  }
  tp_raw_free(raw);
  tdev_free(d);
}

/* With one seed each device keeps its exponent: DRIFT(L1) then DRIFT(L2) is DRIFT(L1 + L2) up
 * to rounding (a few g units), and a different seed gives different exponents. */
static void composition(void **state) {
  (void)state;
  tdev_t *a = drift_dev(3277, 1311), *b = drift_dev(3277, 1311), *c = drift_dev(3277, 1311);
  uint32_t l1 = l_of(20, 3600), l2 = l_of(3600, 86400);
  assert_int_equal(drift(a, SEED_DRIFT, 1, l1), MT_ST_OK);
  assert_int_equal(drift(a, SEED_DRIFT, 1, l2), MT_ST_OK);
  assert_int_equal(drift(b, SEED_DRIFT, 1, l1 + l2), MT_ST_OK);
  assert_int_equal(drift(c, SEED_DRIFT, 1, l1), MT_ST_OK);
  assert_int_equal(drift(c, SEED_DRIFT + 1, 1, l2), MT_ST_OK);
  int maxd = 0;
  long other = 0;
  for (uint32_t i = 0; i < MT_ROWS; i++)
    for (uint32_t j = 0; j < MT_COLS; j++)
      for (uint32_t k = 0; k < 2; k++) {
        int ga = a->tiles[1].g[k][i][j], gb = b->tiles[1].g[k][i][j], gc = c->tiles[1].g[k][i][j];
        int dd = ga > gb ? ga - gb : gb - ga;
        if (dd > maxd) maxd = dd;
        other += ga != gc;
      }
  print_message("composition: largest |two steps - one step| = %d g units\n", maxd);
  assert_true(maxd <= 2);
  assert_true(other > MT_ROWS * MT_COLS / 2); /* another seed: other exponents */
  tdev_free(a);
  tdev_free(b);
  tdev_free(c);
}

/* Every check before any change, with the documented status and details. */
static void validation(void **state) {
  (void)state;
  tdev_t *d = tdev_new(2);
  uint32_t p5[5] = {1, 0, 0, 65536, 0};
  /* not configured */
  assert_int_equal(drift(d, 1, 0, 65536), MT_ST_ERR_STATE);
  assert_int_equal(d->out[0], MT_STATE_NOT_CONFIGURED);
  assert_int_equal(d->out[1], 0);
  uint32_t cfg[MT_CFG_COUNT];
  cfg_drift(cfg, 3277, 1311);
  assert_int_equal(tdev_configure(d, cfg), MT_ST_OK);
  /* not fabricated */
  assert_int_equal(drift(d, 1, 1, 65536), MT_ST_ERR_STATE);
  assert_int_equal(d->out[0], MT_STATE_NOT_FABRICATED);
  assert_int_equal(d->out[1], 1);
  assert_int_equal(tdev_fabricate(d, SEED_FAB, 1), MT_ST_OK);
  /* devices start at gmin_d, where drift stops: lift a few */
  uint32_t pl[3] = {1, tdev_pulse_entry(0, 0, 0, 40), tdev_pulse_entry(0, 1, 0, 40)};
  assert_int_equal(tdev_run(d, MT_OP_PULSE, pl, 3), MT_ST_OK);
  tp_raw_t *raw = tp_raw_save(d);
  tp_expect(d, MT_OP_DRIFT, p5, 3, MT_ST_ERR_LENGTH, 3, 4);
  tp_expect(d, MT_OP_DRIFT, p5, 5, MT_ST_ERR_LENGTH, 5, 4);
  uint32_t bad_tile[4] = {1, 0, 2, 65536};
  tp_expect(d, MT_OP_DRIFT, bad_tile, 4, MT_ST_ERR_TILE, 2, 2);
  uint32_t bad_l[4] = {1, 0, 1, MT_DRIFT_MAX_LOG2 + 1};
  tp_expect(d, MT_OP_DRIFT, bad_l, 4, MT_ST_ERR_PARAM, 3, MT_DRIFT_MAX_LOG2 + 1);
  bad_l[3] = 0xFFFFFFFFu;
  tp_expect(d, MT_OP_DRIFT, bad_l, 4, MT_ST_ERR_PARAM, 3, 0xFFFFFFFFu);
  /* the tile is checked before L */
  uint32_t both[4] = {1, 0, 7, 0xFFFFFFFFu};
  tp_expect(d, MT_OP_DRIFT, both, 4, MT_ST_ERR_TILE, 2, 7);
  assert_true(tp_raw_equal(d, raw));
  /* the largest L is accepted */
  uint32_t ok[4] = {1, 0, 1, MT_DRIFT_MAX_LOG2};
  tp_expect_ok(d, MT_OP_DRIFT, ok, 4);
  assert_false(tp_raw_equal(d, raw));
  tp_raw_free(raw);
  tdev_free(d);
}

/* The factor of every fraction x of an exponent, exactly the reference's (a changed rounding
 * of any of its four products shows here, where whole devices rarely show it), and within
 * 3.5 units of Q0.24 of the closed form 2^24 * 2^-(x / 65536): four table entries and three
 * products (1.0 times the first entry is exact), each rounded by at most half a unit (2.39
 * measured). */
static void factor_every_fraction(void **state) {
  (void)state;
  double worst = 0;
  for (uint32_t x = 0; x <= 0xFFFFu; x++) {
    uint64_t got = mt_drift_factor(x), want = ref_factor(x);
    if (got != want) fail_msg("x %u: factor %llu, want %llu", x, (unsigned long long)got, (unsigned long long)want);
    double err = fabs((double)got - ldexp(exp2(-(double)x / 65536.0), 24));
    if (err > worst) worst = err;
  }
  print_message("drift factor: largest |f - 2^24 * 2^-(x/65536)| = %.3f units of 2^-24\n", worst);
  assert_true(worst <= 3.5);
  assert_int_equal(mt_drift_factor(0), (uint64_t)1 << 24);
}

/* One device at a time through mt_cell_drift against the reference: random g, gmin_d, fault,
 * nu, nu_sd and L, and their edges (g 0 and 65535, L 0, 1, 65535 and the largest, nu 0 and
 * 65535, exponents whose integer part reaches the shift's cap of 17). */
static void cell_drift_random_and_edges(void **state) {
  (void)state;
  static const uint32_t g_edge[] = {0, 1, 32768, 65534, 65535};
  static const uint32_t l_edge[] = {0, 1, 0xFFFF, 0x10000, 17u << 16, MT_DRIFT_MAX_LOG2 - 1, MT_DRIFT_MAX_LOG2};
  static const uint32_t nu_edge[] = {0, 1, 3277, 65535};
  tp_rng_t r = {0xD21F7};
  uint32_t cfg[MT_CFG_COUNT] = {0};
  mt_xoshiro_t lanes[MT_LANES];
  mt_lanes_seed(lanes, 0x5EED);
  uint32_t capped = 0, floored = 0, moved = 0;
  for (uint32_t n = 0; n < 400000; n++) {
    int edge = n % 4 == 0;
    uint32_t g = edge ? g_edge[tp_below(&r, 5)] : tp_below(&r, 65536);
    uint32_t l = edge ? l_edge[tp_below(&r, 7)] : tp_below(&r, MT_DRIFT_MAX_LOG2 + 1);
    cfg[MT_CFG_DRIFT_NU] = edge ? nu_edge[tp_below(&r, 4)] : tp_below(&r, 65536);
    cfg[MT_CFG_DRIFT_NU_SD] = n % 3 == 0 ? 0 : tp_below(&r, 65536);
    mt_dev_t d = {0};
    d.gmin = (uint16_t)(n % 5 == 0 ? 0 : tp_below(&r, 4096));
    d.gmax = 65535;
    d.fault = (uint8_t)(tp_below(&r, 16) == 0 ? 1 + tp_below(&r, 3) : MT_FAULT_NONE);
    mt_xoshiro_t *lane = &lanes[n % MT_LANES], copy = *lane;
    int16_t z = mt_gauss(&copy);
    uint32_t want = ref_drift(cfg, z, g, d.gmin, d.fault, l);
    uint16_t got = (uint16_t)g;
    mt_cell_drift(cfg, lane, &d, &got, l);
    if (got != want)
      fail_msg("g %u gmin %u fault %u nu %u sd %u z %d L %u: %u, want %u", g, d.gmin, d.fault,
               cfg[MT_CFG_DRIFT_NU], cfg[MT_CFG_DRIFT_NU_SD], z, l, got, want);
    assert_memory_equal(lane, &copy, sizeof copy); /* one draw, whatever the fault */
    uint64_t e = ((uint64_t)cfg[MT_CFG_DRIFT_NU] * l) >> 16;
    capped += cfg[MT_CFG_DRIFT_NU_SD] == 0 && (e >> 16) >= 17;
    floored += d.fault == MT_FAULT_NONE && got == d.gmin && g > d.gmin;
    moved += got != g;
  }
  print_message("400000 devices: %u moved, %u to gmin_d, %u with the shift capped\n", moved, floored, capped);
  assert_true(capped > 1000 && floored > 1000 && moved > 100000); /* the edges were reached */
}

/* Exact ties of the last rounding, g f / 2^s = n + 1/2, go up (random g and f almost never tie):
 * for every factor f = 2^k q (q odd) with k >= 9 and every shift s = 24 + i (i >= 1) with
 * 2^(s-1-k) < 2^16, g = 2^(s-1-k) m for odd m (every 98th of its range) gives
 * g f / 2^(s-1) = m q, odd. The exponent e = i 2^16 + x comes from nu 0.5 (32768) and L = 2e. */
static void cell_drift_ties_round_up(void **state) {
  (void)state;
  uint32_t cfg[MT_CFG_COUNT] = {0};
  cfg[MT_CFG_DRIFT_NU] = 32768;
  mt_xoshiro_t lanes[MT_LANES];
  mt_lanes_seed(lanes, 1);
  mt_dev_t d = {0};
  d.gmax = 65535;
  uint32_t ties = 0;
  for (uint32_t x = 0; x <= 0xFFFFu; x++) {
    uint64_t f = ref_factor(x);
    unsigned k = 0;
    while (k < 24 && !((f >> k) & 1)) k++;
    for (unsigned s = 25; k >= 9 && s <= 41 && s - 1 - k < 16; s++) {
      for (uint32_t m = 1; m < (65536u >> (s - 1 - k)); m += 2 * 98) { /* every 98th odd m */
        uint32_t g = m << (s - 1 - k), l = 2 * (((s - 24) << 16) | x);
        uint16_t got = (uint16_t)g;
        mt_cell_drift(cfg, &lanes[0], &d, &got, l);
        uint32_t want = (uint32_t)(((uint64_t)g * f) >> s) + 1; /* the half rounds up */
        if (got != want) fail_msg("tie g %u x %u s %u: %u, want %u", g, x, s, got, want);
        ties++;
      }
    }
  }
  print_message("%u exact ties of g f / 2^s, all rounded up\n", ties);
  assert_true(ties > 100);
}

/* The generated table is the documented formula (the generator checks it too). */
static void table_is_formula(void **state) {
  (void)state;
  for (int i = 0; i < 64; i++) assert_int_equal(mt_drift_exp2[i], ref_t[i]);
}

static int setup(void **state) {
  (void)state;
  ref_table();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(table_is_formula),
    cmocka_unit_test(factor_every_fraction),
    cmocka_unit_test(cell_drift_random_and_edges),
    cmocka_unit_test(cell_drift_ties_round_up),
    cmocka_unit_test(exact_pcm_like),
    cmocka_unit_test(exact_edges),
    cmocka_unit_test(zero_nu_changes_nothing),
    cmocka_unit_test(composition),
    cmocka_unit_test(validation),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
