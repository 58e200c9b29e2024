/* Tests of the preset loader (host/src/mt_preset.c) and the shipped presets.
 * Expected integers are recomputed here from the published numbers rather
 * than copied from the loader's output, so a conversion bug fails a test. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "memtile.h"
#include "mt_preset.h"

#ifndef MT_SOURCE_DIR
#error "MT_SOURCE_DIR must be defined as the repository root"
#endif

static const char *const shipped[] = {"ideal.json", "rram.json", "imprecise.json", "neurosim-agsi.json",
                                       "rram-2bit.json"};

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static void preset_path(char *buf, size_t n, const char *file)
{
  snprintf(buf, n, "%s/presets/%s", MT_SOURCE_DIR, file);
}

static void load_ok(const char *file, mt_preset_t *p)
{
  char path[1024];
  char err[512] = "";
  preset_path(path, sizeof path, file);
  int rc = mt_preset_load(path, p, err, sizeof err);
  if (rc != 0) {
    print_error("%s\n", err);
  }
  assert_int_equal(rc, 0);
}

static void parse_ok(const char *json, mt_preset_t *p)
{
  char err[512] = "";
  int rc = mt_preset_parse(json, "t.json", p, err, sizeof err);
  if (rc != 0) {
    print_error("%s\n", err);
  }
  assert_int_equal(rc, 0);
}

/* Parses json expecting failure; the message must contain every needle. */
static void parse_fails(const char *json, const char *needle1, const char *needle2)
{
  mt_preset_t *p = malloc(sizeof *p);
  char err[512] = "";
  assert_non_null(p);
  int rc = mt_preset_parse(json, "t.json", p, err, sizeof err);
  free(p);
  if (rc == 0 || strstr(err, needle1) == NULL || (needle2 != NULL && strstr(err, needle2) == NULL)) {
    print_error("json: %s\nmessage: %s\nwanted: '%s' and '%s'\n", json, err, needle1, needle2 ? needle2 : "");
  }
  assert_int_equal(rc, -1);
  assert_non_null(strstr(err, "t.json: "));
  assert_non_null(strstr(err, needle1));
  if (needle2 != NULL) {
    assert_non_null(strstr(err, needle2));
  }
}

typedef struct {
  uint32_t gp, gm, pp, pm, sigma, hi_bits;
} level_t;

static level_t level(const mt_preset_t *p, uint32_t q)
{
  const uint32_t *e = &p->level_table[q * MT_LEVEL_ENTRY_WORDS];
  level_t l = {e[0] & 0xffffu, e[0] >> 16, e[1] & 0xffffu, e[1] >> 16, e[2] & 0xffffu, e[2] >> 16};
  return l;
}

static uint32_t meta_f(const mt_preset_t *p, uint32_t i)
{
  return (p->meta_table[i / 2] >> (16u * (i % 2u))) & 0xffffu;
}

static uint32_t q16(double x) { return (uint32_t)lround(x * 65536.0); }
static uint32_t gu(double frac) { return (uint32_t)lround(frac * 65535.0); }

/* The device's nominal SET rule, written independently of the loader. */
static uint32_t set_pulse(const uint32_t *cfg, uint32_t g)
{
  uint64_t gmax = cfg[MT_CFG_G_MAX];
  uint64_t next = g + cfg[MT_CFG_STEP_SET] + (cfg[MT_CFG_A_SET] * (gmax - g)) / 65536u;
  return (uint32_t)(next > gmax ? gmax : next);
}

static uint32_t rst_pulse(const uint32_t *cfg, uint32_t g)
{
  uint64_t gmin = cfg[MT_CFG_G_MIN];
  uint64_t dg = cfg[MT_CFG_STEP_RST] + (cfg[MT_CFG_A_RST] * (g - gmin)) / 65536u;
  return (uint32_t)(g < gmin + dg ? gmin : g - dg);
}

/* Brute force: the pulse count (from g_min) whose conductance is nearest. */
static uint32_t brute_pulses(const uint32_t *cfg, uint32_t target)
{
  uint32_t g = cfg[MT_CFG_G_MIN];
  uint32_t best = 0;
  long best_err = labs((long)g - (long)target);
  for (uint32_t p = 1; p <= 65535u; p++) {
    g = set_pulse(cfg, g);
    long e = labs((long)g - (long)target);
    if (e < best_err) {
      best_err = e;
      best = p;
    }
  }
  return best;
}

/* NeuroSim's (TCAD 2018 eqs. 8-10) SET step and Q0.16 fraction for a
 * normalized A taken from its getParamA() table. */
static void neurosim_expected(double range, double pulses, double a_norm, uint32_t *step, uint32_t *a)
{
  double A = a_norm * pulses;
  double frac = 1.0 - exp(-1.0 / A);
  double gsat_minus_gmax = range / (exp(pulses / A) - 1.0);
  *a = (uint32_t)lround(frac * 65536.0);
  *step = (uint32_t)lround(frac * gsat_minus_gmax);
}

static void assert_near_u32(uint32_t got, uint32_t want, uint32_t tol)
{
  uint32_t d = got > want ? got - want : want - got;
  if (d > tol) {
    print_error("got %u, want %u +- %u\n", got, want, tol);
  }
  assert_true(d <= tol);
}

/* ADC gain: I_max = (2^(dac-1)-1) * ROWS * (g_max - g_min) must map
 * range * I_max to 2^(adc-1)-1 with the finest representable mul/shift. */
static void check_adc(const mt_preset_t *p, double range)
{
  const uint32_t *c = p->cfg;
  double i_max = (double)((1u << (c[MT_CFG_DAC_BITS] - 1u)) - 1u) * MT_ROWS *
                 (double)(c[MT_CFG_G_MAX] - c[MT_CFG_G_MIN]);
  double want = (double)((1u << (c[MT_CFG_ADC_BITS] - 1u)) - 1u) / (range * i_max);
  double got = ldexp((double)c[MT_CFG_ADC_MUL], -(int)c[MT_CFG_ADC_SHIFT]);
  assert_true(c[MT_CFG_ADC_MUL] <= 65535u);
  assert_true(c[MT_CFG_ADC_SHIFT] <= 62u);
  assert_true(fabs(got / want - 1.0) <= 0.5 / 32768.0);
  /* finest: one more shift bit would overflow the 16-bit multiplier */
  assert_true(c[MT_CFG_ADC_SHIFT] == 62u || 2u * c[MT_CFG_ADC_MUL] > 65535u);
}

/* ------------------------------------------------------------------ */
/* shipped presets                                                     */

static void test_ideal(void **state)
{
  (void)state;
  mt_preset_t p;
  load_ok("ideal.json", &p);
  const uint32_t *c = p.cfg;
  assert_string_equal(p.name, "ideal");
  assert_true(strlen(p.description) > 0);
  assert_int_equal(c[MT_CFG_G_MIN], 0);
  assert_int_equal(c[MT_CFG_G_MAX], 65535);
  /* linear, 85 pulses: 65535 / 85 = 771 exactly */
  assert_int_equal(c[MT_CFG_STEP_SET], 771);
  assert_int_equal(c[MT_CFG_STEP_RST], 771);
  assert_int_equal(c[MT_CFG_A_SET], 0);
  assert_int_equal(c[MT_CFG_A_RST], 0);
  static const unsigned zero[] = {MT_CFG_D2D_GMIN, MT_CFG_D2D_GMAX, MT_CFG_D2D_STEP, MT_CFG_D2D_A,
                                  MT_CFG_P_STUCK_LOW, MT_CFG_P_STUCK_HIGH, MT_CFG_ENDURANCE, MT_CFG_C2C_MUL,
                                  MT_CFG_C2C_ADD, MT_CFG_READ_SIGMA, MT_CFG_READ_MODE, MT_CFG_WV_TOL};
  for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
    assert_int_equal(c[zero[i]], 0);
  }
  assert_int_equal(c[MT_CFG_DAC_BITS], 16);
  assert_int_equal(c[MT_CFG_ADC_BITS], 16);
  check_adc(&p, 1.0);
  /* 171 levels: level q sits |q - 85| pulses = 771 |q - 85| g units up */
  assert_int_equal(p.levels, 171);
  for (uint32_t q = 0; q < p.levels; q++) {
    level_t l = level(&p, q);
    uint32_t k = q >= 85 ? q - 85 : 85 - q;
    assert_int_equal(q >= 85 ? l.gp : l.gm, 771 * k);
    assert_int_equal(q >= 85 ? l.gm : l.gp, 0);
    assert_int_equal(q >= 85 ? l.pp : l.pm, k);
    assert_int_equal(l.sigma, 0);
  }
}

static void test_rram(void **state)
{
  (void)state;
  mt_preset_t p;
  load_ok("rram.json", &p);
  const uint32_t *c = p.cfg;
  assert_string_equal(p.name, "rram");
  assert_true(fabs(p.full_scale_us - 59.17) < 1e-9);
  assert_int_equal(c[MT_CFG_G_MIN], gu(0.2257)); /* 14791 */
  assert_int_equal(c[MT_CFG_G_MAX], 65535);
  /* NeuroSim table (formula.cpp getParamA): NL 1.94 -> 0.629249, NL 0.61 -> 2.063266 */
  uint32_t step = 0;
  uint32_t a = 0;
  double range = 65535.0 - c[MT_CFG_G_MIN];
  neurosim_expected(range, 40, 0.629249, &step, &a);
  assert_near_u32(c[MT_CFG_STEP_SET], step, 1);
  assert_near_u32(c[MT_CFG_A_SET], a, 1);
  neurosim_expected(range, 40, 2.063266, &step, &a);
  assert_near_u32(c[MT_CFG_STEP_RST], step, 1);
  assert_near_u32(c[MT_CFG_A_RST], a, 1);
  assert_int_equal(c[MT_CFG_C2C_ADD], gu(0.0387));
  assert_int_equal(c[MT_CFG_C2C_MUL], 0);
  assert_int_equal(c[MT_CFG_D2D_GMIN], gu(0.01));
  assert_int_equal(c[MT_CFG_D2D_STEP], q16(0.05));
  assert_int_equal(c[MT_CFG_P_STUCK_LOW], (uint32_t)llround(0.001 * 4294967296.0));
  assert_int_equal(c[MT_CFG_P_STUCK_HIGH], (uint32_t)llround(0.0005 * 4294967296.0));
  assert_int_equal(c[MT_CFG_ENDURANCE], 100000000u);
  assert_int_equal(c[MT_CFG_READ_SIGMA], gu(0.01));
  assert_int_equal(c[MT_CFG_READ_MODE], 2) /* per-column */;
  assert_int_equal(c[MT_CFG_WV_TOL], gu(0.01));
  assert_int_equal(c[MT_CFG_T_SET], 100000u); /* 100 ns in ps */
  assert_int_equal(c[MT_CFG_E_SET], 8159u);
  check_adc(&p, 0.125);
  assert_int_equal(p.levels, 33);
  assert_int_equal(level(&p, 0).sigma, gu(0.005));
}

static void test_imprecise(void **state)
{
  (void)state;
  mt_preset_t p;
  load_ok("imprecise.json", &p);
  const uint32_t *c = p.cfg;
  assert_int_equal(c[MT_CFG_G_MIN], gu(0.117));
  assert_int_equal(c[MT_CFG_G_MAX], gu(0.8));
  /* strongly non-linear and asymmetric: RESET is much more non-linear */
  assert_true(c[MT_CFG_A_RST] > 2u * c[MT_CFG_A_SET]);
  uint32_t step = 0;
  uint32_t a = 0;
  double range = (double)(c[MT_CFG_G_MAX] - c[MT_CFG_G_MIN]);
  neurosim_expected(range, 64, mt_preset_neurosim_a_norm(3.68), &step, &a);
  assert_near_u32(c[MT_CFG_A_SET], a, 0);
  assert_near_u32(c[MT_CFG_STEP_SET], step, 0);
  assert_int_equal(c[MT_CFG_D2D_STEP], q16(0.2));
  assert_int_equal(c[MT_CFG_D2D_A], q16(0.2));
  assert_int_equal(c[MT_CFG_META_PROG_MODE], 1);
  assert_true(c[MT_CFG_READ_SIGMA] > 0 && c[MT_CFG_C2C_ADD] > 0 && c[MT_CFG_P_STUCK_LOW] > 0);
  assert_int_equal(p.levels, 16);
  check_adc(&p, 0.125);
}

/* Ag:a-Si of MLP_NeuroSim_V3.0 Cell.cpp: Gmax 3.8462e-8 S, Gmin 3.0769e-9 S,
 * maxNumLevelLTP 97 / LTD 100, NL_LTP 2.4 / NL_LTD -4.88, whose normalized A
 * in formula.cpp getParamA() are 0.499181 and 0.200303. */
static void test_neurosim_agsi(void **state)
{
  (void)state;
  mt_preset_t p;
  load_ok("neurosim-agsi.json", &p);
  const uint32_t *c = p.cfg;
  assert_int_equal(c[MT_CFG_G_MIN], 5243); /* 0.08 * 65535 = 5242.8 */
  assert_int_equal(c[MT_CFG_G_MAX], 65535);
  /* By hand: range 60292; SET A = 0.499181*97 = 48.42, 1-e^{-1/A} = 0.020441
   * -> a 1340; Gsat-Gmax = 60292/(e^{97/A}-1) = 9401 -> step 192.
   * RESET A = 20.03, 1-e^{-1/A} = 0.048699 -> a 3192; gap 412 -> step 20. */
  assert_int_equal(c[MT_CFG_A_SET], 1340);
  assert_int_equal(c[MT_CFG_STEP_SET], 192);
  assert_int_equal(c[MT_CFG_A_RST], 3192);
  assert_int_equal(c[MT_CFG_STEP_RST], 20);
  assert_int_equal(c[MT_CFG_C2C_ADD], 2110); /* 0.035 * 60292 */
  assert_int_equal(c[MT_CFG_READ_SIGMA], 0);
  assert_int_equal(c[MT_CFG_D2D_A], 0);
  assert_int_equal(c[MT_CFG_DAC_BITS], 2);
  assert_int_equal(c[MT_CFG_ADC_BITS], 8);
  assert_int_equal(c[MT_CFG_T_SET], 300000000u); /* 300 us */
  assert_int_equal(c[MT_CFG_T_READ], 5000u);      /* 5 ns */
  assert_int_equal(c[MT_CFG_E_SET], 63804u);
  assert_int_equal(p.levels, 97);
  check_adc(&p, 1.0);
}

/* Runs the nominal pulse train through the integer device rule and compares
 * it with NeuroSim's continuous curves at every pulse. Tolerance 0.1% of the
 * range: the floor in the rule loses < 1 g unit per pulse, and the
 * exponential relaxation caps the accumulated lag near 1/a (~49 g units of
 * 60292 for the Ag:a-Si SET side). A wrong A, B or swap of step/a is off by
 * thousands of g units. */
static void test_neurosim_curve(void **state)
{
  (void)state;
  mt_preset_t p;
  load_ok("neurosim-agsi.json", &p);
  const uint32_t *c = p.cfg;
  double gmin = c[MT_CFG_G_MIN];
  double gmax = c[MT_CFG_G_MAX];
  double range = gmax - gmin;
  double tol = 0.001 * range;

  double A = 0.499181 * 97;
  double B = range / (1.0 - exp(-97.0 / A));
  uint32_t g = c[MT_CFG_G_MIN];
  for (int n = 0; n <= 97; n++) {
    double want = gmin + B * (1.0 - exp(-n / A)); /* TCAD 2018 eq. (8) */
    if (fabs(g - want) > tol) {
      print_error("SET pulse %d: %u vs %.1f\n", n, g, want);
    }
    assert_true(fabs(g - want) <= tol);
    g = set_pulse(c, g);
  }

  A = 0.200303 * 100;
  B = range / (1.0 - exp(-100.0 / A));
  g = c[MT_CFG_G_MAX];
  for (int n = 0; n <= 100; n++) {
    /* eq. (9) counted in RESET pulses n from Gmax: G = Gmax - B(1 - e^{-n/A}) */
    double want = gmax - B * (1.0 - exp(-n / A));
    if (fabs(g - want) > tol) {
      print_error("RESET pulse %d: %u vs %.1f\n", n, g, want);
    }
    assert_true(fabs(g - want) <= tol);
    g = rst_pulse(c, g);
  }
}

/* The NL -> A relation must reproduce NeuroSim's getParamA() table
 * (formula.cpp, 6 decimals) wherever we sampled it. */
static void test_neurosim_nl_table(void **state)
{
  (void)state;
  static const double table[][2] = {{0.01, 126.268958}, {0.1, 12.625807}, {0.61, 2.063266},
                                    {1.0, 1.251653},    {1.94, 0.629249}, {2.4, 0.499181},
                                    {4.88, 0.200303},   {8.99, 0.023073}, {9.0, 0.022810}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    double got = mt_preset_neurosim_a_norm(table[i][0]);
    if (fabs(got - table[i][1]) > 1e-6) {
      print_error("NL %g: %.8f vs table %.6f\n", table[i][0], got, table[i][1]);
    }
    assert_true(fabs(got - table[i][1]) <= 1e-6);
  }
  assert_true(mt_preset_neurosim_a_norm(0.005) < 0.0);
  assert_true(mt_preset_neurosim_a_norm(9.5) < 0.0);
  assert_true(mt_preset_neurosim_a_norm(NAN) < 0.0);
}

static void test_level_tables(void **state)
{
  (void)state;
  for (size_t k = 0; k < sizeof shipped / sizeof shipped[0]; k++) {
    mt_preset_t p;
    load_ok(shipped[k], &p);
    uint32_t L = p.levels;
    assert_true(L >= MT_MIN_LEVELS && L <= MT_MAX_LEVELS);
    level_t first = level(&p, 0);
    level_t last = level(&p, L - 1);
    assert_int_equal(first.gp, last.gm); /* both at the window's low end */
    assert_int_equal(first.gm, last.gp); /* both at the window's high end */
    assert_true(last.gp > last.gm);
    for (uint32_t q = 0; q < L; q++) {
      level_t l = level(&p, q);
      level_t m = level(&p, L - 1 - q);
      assert_int_equal(l.gp, m.gm); /* mirror symmetry: w(q) = -w(L-1-q) */
      assert_int_equal(l.gm, m.gp);
      assert_int_equal(l.pp, m.pm);
      assert_int_equal(l.hi_bits, 0);
      assert_true(l.gp >= p.cfg[MT_CFG_G_MIN] && l.gp <= p.cfg[MT_CFG_G_MAX]);
      assert_int_equal(l.pp, brute_pulses(p.cfg, l.gp));
      assert_int_equal(l.pm, brute_pulses(p.cfg, l.gm));
      assert_true(l.gp == first.gp || l.gm == first.gp); /* one device stays at the low end */
      /* shipped windows are [0, 1]: target = g_min + |x_q| (g_max - g_min), rounded */
      double x = fabs(2.0 * q - (L - 1.0)) / (L - 1.0);
      uint32_t want = (uint32_t)lround(p.cfg[MT_CFG_G_MIN] + x * (p.cfg[MT_CFG_G_MAX] - p.cfg[MT_CFG_G_MIN]));
      assert_int_equal(l.gp > l.gm ? l.gp : l.gm, want);
      if (q > 0) {
        level_t prev = level(&p, q - 1);
        assert_true((int64_t)l.gp - l.gm > (int64_t)prev.gp - prev.gm); /* strictly increasing weight */
        assert_true(l.gp >= prev.gp && l.gm <= prev.gm);
        assert_true(l.pp >= prev.pp && l.pm <= prev.pm);
      }
    }
    for (uint32_t q = L; q < MT_MAX_LEVELS; q++) {
      for (uint32_t w = 0; w < MT_LEVEL_ENTRY_WORDS; w++) {
        assert_int_equal(p.level_table[q * MT_LEVEL_ENTRY_WORDS + w], 0);
      }
    }
    if (L % 2u == 1u) {
      level_t mid = level(&p, L / 2u);
      assert_int_equal(mid.gp, mid.gm); /* odd L has an exact zero weight */
    }
  }
}

static void test_meta_tables(void **state)
{
  (void)state;
  for (size_t k = 0; k < sizeof shipped / sizeof shipped[0]; k++) {
    mt_preset_t p;
    load_ok(shipped[k], &p);
    assert_int_equal(meta_f(&p, 0), 65535);
    for (uint32_t i = 1; i < MT_META_TABLE_SIZE; i++) {
      assert_true(meta_f(&p, i) <= meta_f(&p, i - 1));
    }
    assert_true(meta_f(&p, 255) < meta_f(&p, 0));
    /* m = 3, shift 9: entry 128 is |h| = 128 * 512 / 65536 = 1 level */
    double f = 1.0 - pow(tanh(3.0), 2.0);
    assert_int_equal(meta_f(&p, 128), (uint32_t)lround(f * 65536.0));
  }
  mt_preset_t p;
  parse_ok("{\"name\": \"x\", \"meta\": {\"m\": 0}}", &p);
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++) {
    assert_int_equal(meta_f(&p, i), 65535); /* m = 0: no attenuation */
  }
}

/* The unit's design keys: CONFIGURE words, and table entries rounded to entry_bits in the top
 * bits of each Q0.16 word. */
static void test_meta_unit_keys(void **state)
{
  (void)state;
  mt_preset_t p;
  parse_ok("{\"name\": \"x\", \"meta\": {\"m\": 3, \"hidden_bits\": 12, \"hidden_frac\": 6, "
           "\"rounding\": \"nearest\", \"table_log2\": 5, \"entry_bits\": 4, \"rule\": \"interval\"}}", &p);
  assert_int_equal(p.cfg[MT_CFG_META_HIDDEN_BITS], 12);
  assert_int_equal(p.cfg[MT_CFG_META_HIDDEN_FRAC], 6);
  assert_int_equal(p.cfg[MT_CFG_META_UPD_ROUND], 1);
  assert_int_equal(p.cfg[MT_CFG_META_TABLE_LOG2], 5);
  assert_int_equal(p.cfg[MT_CFG_META_ENTRY_BITS], 4);
  assert_int_equal(p.cfg[MT_CFG_META_RULE], 1);
  assert_int_equal(meta_f(&p, 0), 0xF000); /* exactly 1 at 4 bits */
  /* entry 128: |h| = 1 level, f = 1 - tanh^2(3) = 0.0099: round(16 f) = 0 */
  assert_int_equal(meta_f(&p, 128), 0);
  /* entry 16: |h| = 1/8 level, f = 1 - tanh^2(0.375) = 0.8707: round(16 f) = 14 */
  assert_int_equal(meta_f(&p, 16), 14u << 12);
  parse_fails("{\"name\": \"x\", \"meta\": {\"hidden_bits\": 12, \"hidden_frac\": 12}}",
              "meta.hidden_frac", "below meta.hidden_bits");
  parse_fails("{\"name\": \"x\", \"meta\": {\"hidden_bits\": 7}}", "meta.hidden_bits", "7");
  parse_fails("{\"name\": \"x\", \"meta\": {\"rule\": \"middle\"}}", "meta.rule", "centre");
  parse_fails("{\"name\": \"x\", \"meta\": {\"entry_bits\": 0}}", "meta.entry_bits", NULL);
}

/* The measured-style table preset: knots follow its states (SET steps fall toward the top of
 * the range, RESET steps grow), the largest step of each direction is the branch's step. */
static void test_table_preset(void **state)
{
  (void)state;
  mt_preset_t p;
  load_ok("reram-es-table.json", &p);
  assert_int_equal(p.cfg[MT_CFG_RESP_CLASS], 1);
  assert_int_equal(p.cfg[MT_CFG_A_SET], 0);
  assert_int_equal(p.cfg[MT_CFG_A_RST], 0);
  /* the file's largest steps: dg_set[0] = 0.0018569, dg_rst[16] = 0.0065398 (17 states on
   * the full range, so state k is knot k) */
  assert_near_u32(p.cfg[MT_CFG_STEP_SET], (uint32_t)lround(0.0018569 * 65535.0), 1);
  assert_near_u32(p.cfg[MT_CFG_STEP_RST], (uint32_t)lround(0.0065398 * 65535.0), 1);
  assert_int_equal(p.cfg[MT_CFG_RESP_UP_0], 65535);
  assert_int_equal(p.cfg[MT_CFG_RESP_DN_0 + 16], 65535);
  for (unsigned k = 1; k < 17; k++) {
    assert_true(p.cfg[MT_CFG_RESP_UP_0 + k] < p.cfg[MT_CFG_RESP_UP_0 + k - 1]);
    assert_true(p.cfg[MT_CFG_RESP_DN_0 + k] > p.cfg[MT_CFG_RESP_DN_0 + k - 1]);
  }
  assert_int_equal(p.levels, 16);
}

static void test_response_class_errors(void **state)
{
  (void)state;
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"table\", \"g\": [0, 0.5, 0.4],"
              " \"dg_set\": [0.01, 0.01, 0.01], \"dg_rst\": [0.01, 0.01, 0.01]}}",
              "response.g", "states must increase");
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"table\", \"g\": [0, 1],"
              " \"dg_set\": [0.01, 0.01, 0.01], \"dg_rst\": [0.01, 0.01]}}",
              "response.dg_set", "3 values for the 2 states");
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"piecewise\", \"dw_min\": 0.01,"
              " \"piecewise_up\": [1, 1, 1], \"piecewise_down\": [1, 1]}}",
              "response.piecewise_down", "2 nodes, piecewise_up 3");
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"pow-step\", \"dw_min\": 0.01}}",
              "response.gamma", "missing");
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"exp-step\", \"dw_min\": 0.01,"
              " \"A_up\": 2, \"A_down\": 2, \"gamma_up\": 1, \"gamma_down\": 1, \"a\": 0, \"b\": 0}}",
              "response.set", "never move");
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"table\", \"g\": [0, 1],"
              " \"dg_set\": [0.01, 0.01], \"dg_rst\": [0.01, 2]}}",
              "response.dg_rst[1]", "out of range");
}

static void test_sources_name_fields(void **state)
{
  (void)state;
  /* every shipped preset documents its numbers, and the loader checks the
   * keys of "sources" resolve; here we only make sure they are present */
  for (size_t k = 0; k < sizeof shipped / sizeof shipped[0]; k++) {
    char path[1024];
    preset_path(path, sizeof path, shipped[k]);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "\"sources\""));
    assert_non_null(strstr(buf, "ours"));
  }
}

/* ------------------------------------------------------------------ */
/* schema behaviour on ad-hoc strings                                  */

static void test_defaults(void **state)
{
  (void)state;
  mt_preset_t p;
  parse_ok("{\"name\": \"x\"}", &p);
  const uint32_t *c = p.cfg;
  assert_string_equal(p.name, "x");
  assert_string_equal(p.description, "");
  assert_true(p.full_scale_us == 0.0);
  assert_int_equal(c[MT_CFG_G_MIN], 0);
  assert_int_equal(c[MT_CFG_G_MAX], 65535);
  assert_int_equal(c[MT_CFG_STEP_SET], 1024); /* linear, 64 pulses: 65535/64 */
  assert_int_equal(c[MT_CFG_STEP_RST], 1024);
  assert_int_equal(c[MT_CFG_DAC_BITS], 8);
  assert_int_equal(c[MT_CFG_ADC_BITS], 8);
  assert_int_equal(c[MT_CFG_WV_TOL], 655);
  assert_int_equal(c[MT_CFG_WV_MAX_ITER], 100);
  assert_int_equal(c[MT_CFG_READ_MODE], 1);
  assert_int_equal(c[MT_CFG_META_IDX_SHIFT], 9);
  assert_int_equal(c[MT_CFG_META_PROG_MODE], 0);
  /* the full metaplasticity unit */
  assert_int_equal(c[MT_CFG_META_HIDDEN_BITS], 32);
  assert_int_equal(c[MT_CFG_META_HIDDEN_FRAC], 16);
  assert_int_equal(c[MT_CFG_META_UPD_ROUND], 0);
  assert_int_equal(c[MT_CFG_META_TABLE_LOG2], 8);
  assert_int_equal(c[MT_CFG_META_ENTRY_BITS], 16);
  assert_int_equal(c[MT_CFG_META_RULE], 0);
  assert_int_equal(c[MT_CFG_DRIFT_NU], 0); /* no drift */
  assert_int_equal(c[MT_CFG_DRIFT_NU_SD], 0);
  assert_int_equal(p.levels, 16);
  /* device.drift: Q0.16 exponent and sigma */
  parse_ok("{\"name\": \"x\", \"device\": {\"drift\": {\"nu\": 0.05, \"nu_sd\": 0.02}}}", &p);
  assert_int_equal(p.cfg[MT_CFG_DRIFT_NU], 3277);
  assert_int_equal(p.cfg[MT_CFG_DRIFT_NU_SD], 1311);
  check_adc(&p, 1.0);
  for (unsigned i = 0; i < MT_CFG_COUNT; i++) {
    assert_true(c[i] >= mt_cfg_min[i] && c[i] <= mt_cfg_max[i]);
  }
}

static void test_other_models(void **state)
{
  (void)state;
  mt_preset_t p;
  parse_ok("{\"name\": \"s\", \"response\": {\"model\": \"soft-bounds\", \"rate_set\": 0.05, \"rate_rst\": 0.1}}",
           &p);
  assert_int_equal(p.cfg[MT_CFG_STEP_SET], 0);
  assert_int_equal(p.cfg[MT_CFG_A_SET], q16(0.05));
  assert_int_equal(p.cfg[MT_CFG_A_RST], q16(0.1));

  parse_ok("{\"name\": \"r\", \"response\": {\"model\": \"raw\", \"step_set\": 70, \"step_rst\": 9, \"a_set\": 11,"
           " \"a_rst\": 13}, \"adc\": {\"bits\": 10, \"mul\": 3, \"shift\": 5}}",
           &p);
  assert_int_equal(p.cfg[MT_CFG_STEP_SET], 70);
  assert_int_equal(p.cfg[MT_CFG_STEP_RST], 9);
  assert_int_equal(p.cfg[MT_CFG_A_SET], 11);
  assert_int_equal(p.cfg[MT_CFG_A_RST], 13);
  assert_int_equal(p.cfg[MT_CFG_ADC_MUL], 3);
  assert_int_equal(p.cfg[MT_CFG_ADC_SHIFT], 5);

  parse_ok("{\"name\": \"e\", \"device\": {\"g_min\": 0.1, \"g_max\": 0.9}, \"response\": {\"model\":"
           " \"exponential\", \"pulses_set\": 50, \"pulses_rst\": 30, \"a_norm_set\": 0.5, \"a_norm_rst\": 0.25}}",
           &p);
  uint32_t step = 0;
  uint32_t a = 0;
  double range = (double)(p.cfg[MT_CFG_G_MAX] - p.cfg[MT_CFG_G_MIN]);
  neurosim_expected(range, 50, 0.5, &step, &a);
  assert_int_equal(p.cfg[MT_CFG_STEP_SET], step);
  assert_int_equal(p.cfg[MT_CFG_A_SET], a);
  neurosim_expected(range, 30, 0.25, &step, &a);
  assert_int_equal(p.cfg[MT_CFG_STEP_RST], step);
  assert_int_equal(p.cfg[MT_CFG_A_RST], a);

  /* NL 0 is NeuroSim's linear device */
  parse_ok("{\"name\": \"n\", \"response\": {\"model\": \"neurosim\", \"pulses_set\": 64, \"pulses_rst\": 32,"
           " \"nl_set\": 0, \"nl_rst\": 0}}",
           &p);
  assert_int_equal(p.cfg[MT_CFG_A_SET], 0);
  assert_int_equal(p.cfg[MT_CFG_STEP_SET], 1024);
  assert_int_equal(p.cfg[MT_CFG_STEP_RST], 2048);

  /* per-level sigma array and a narrowed window */
  parse_ok("{\"name\": \"w\", \"levels\": {\"count\": 3, \"window\": [0.25, 0.75], \"sigma\": [0.01, 0, 0.02]}}",
           &p);
  assert_int_equal(level(&p, 0).gm, gu(0.75));
  assert_int_equal(level(&p, 0).gp, gu(0.25));
  assert_int_equal(level(&p, 1).gp, gu(0.25));
  assert_int_equal(level(&p, 0).sigma, gu(0.01));
  assert_int_equal(level(&p, 1).sigma, 0);
  assert_int_equal(level(&p, 2).sigma, gu(0.02));
}

static void test_nominal_pulses(void **state)
{
  (void)state;
  uint32_t cfg[MT_CFG_COUNT] = {0};
  cfg[MT_CFG_G_MIN] = 100;
  cfg[MT_CFG_G_MAX] = 200;
  cfg[MT_CFG_STEP_SET] = 10;
  assert_int_equal(mt_preset_nominal_set_pulses(cfg, 100), 0);
  assert_int_equal(mt_preset_nominal_set_pulses(cfg, 105), 0); /* tie: fewer pulses */
  assert_int_equal(mt_preset_nominal_set_pulses(cfg, 106), 1);
  assert_int_equal(mt_preset_nominal_set_pulses(cfg, 200), 10);
  assert_int_equal(mt_preset_nominal_set_pulses(cfg, 250), 10); /* stops at g_max */
  /* soft bounds stall once a (g_max - g) < 1 g unit: stays finite */
  cfg[MT_CFG_STEP_SET] = 0;
  cfg[MT_CFG_A_SET] = 6554; /* 0.1 */
  assert_int_equal(mt_preset_nominal_set_pulses(cfg, 200), brute_pulses(cfg, 200));
  assert_true(mt_preset_nominal_set_pulses(cfg, 200) < 100);
  /* never more than a level entry may hold */
  cfg[MT_CFG_G_MAX] = 65535;
  cfg[MT_CFG_STEP_SET] = 1;
  cfg[MT_CFG_A_SET] = 0;
  assert_int_equal(mt_preset_nominal_set_pulses(cfg, 65535), MT_MAX_PULSE_INDEX);
}

/* Q0.16 fields scale by 65536, g-unit fields by 65535: 0.99 tells them apart. */
static void test_scales(void **state)
{
  (void)state;
  mt_preset_t p;
  parse_ok("{\"name\": \"x\", \"device\": {\"d2d\": {\"g_min\": 0.99, \"g_max\": 0.99, \"step\": 0.99, \"a\": 0.99},"
           " \"c2c\": {\"relative\": 0.99, \"absolute\": 0.99}}, \"read\": {\"sigma\": 0.99},"
           " \"write_verify\": {\"tolerance\": 0.99}, \"latency_ns\": {\"mvm\": 1.2345}}",
           &p);
  assert_int_equal(p.cfg[MT_CFG_D2D_GMIN], 64880);
  assert_int_equal(p.cfg[MT_CFG_D2D_GMAX], 64880);
  assert_int_equal(p.cfg[MT_CFG_D2D_STEP], 64881);
  assert_int_equal(p.cfg[MT_CFG_D2D_A], 64881);
  assert_int_equal(p.cfg[MT_CFG_C2C_MUL], 64881);
  assert_int_equal(p.cfg[MT_CFG_C2C_ADD], 64880);
  assert_int_equal(p.cfg[MT_CFG_READ_SIGMA], 64880);
  assert_int_equal(p.cfg[MT_CFG_WV_TOL], 64880);
  assert_int_equal(p.cfg[MT_CFG_T_MVM], 1235); /* ns -> ps, rounded */
}

static void test_error_json_syntax(void **state)
{
  (void)state;
  parse_fails("{\"name\": \"x\",, }", "invalid JSON", "line 1");
  parse_fails("{\n  \"name\": \"x\"\n  \"levels\": {}\n}", "invalid JSON", "line 3");
  parse_fails("", "invalid JSON", NULL);
  parse_fails("{\"name\": \"x\"} trailing", "invalid JSON", NULL);
  parse_fails("[1, 2]", "expected a JSON object", NULL);
  /* nesting far beyond cJSON's limit must fail cleanly */
  char deep[4100];
  memset(deep, '[', 2000);
  memset(deep + 2000, ']', 2000);
  deep[4000] = '\0';
  parse_fails(deep, "invalid JSON", NULL);
  parse_fails("{\"name\": \"x\", \"device\": {\"g_min\": 1e999}}", "device.g_min", "not a finite number");
}

static void test_error_unknown_key(void **state)
{
  (void)state;
  parse_fails("{\"name\": \"x\", \"device\": {\"d2d\": {\"gmin\": 0.1}}}", "device.d2d.gmin: unknown key",
              "g_min");
  parse_fails("{\"name\": \"x\", \"levles\": {}}", "levles: unknown key", NULL);
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"linear\", \"pulses_set\": 4, \"pulses_rst\": 4,"
              " \"nl_set\": 1}}",
              "response.nl_set: unknown key", NULL);
  parse_fails("{\"name\": \"x\", \"name\": \"y\"}", "name: duplicate key", NULL);
  parse_fails("{\"name\": \"x\", \"sources\": {\"device.gmin\": \"ours\"}}", "sources.device.gmin",
              "names no field");
}

static void test_error_wrong_type(void **state)
{
  (void)state;
  parse_fails("{\"name\": \"x\", \"device\": {\"g_min\": \"0.1\"}}", "device.g_min: expected a number, got a string",
              NULL);
  parse_fails("{\"name\": 5}", "name: expected a string", NULL);
  parse_fails("{\"name\": \"x\", \"device\": []}", "device: expected an object", NULL);
  parse_fails("{\"name\": \"x\", \"dac\": {\"bits\": 8.5}}", "dac.bits: 8.5 is not an integer", NULL);
  parse_fails("{\"name\": \"x\", \"read\": {\"mode\": \"always\"}}", "read.mode", "per-cell");
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"magic\"}}", "response.model", "neurosim");
  parse_fails("{\"name\": \"x\", \"levels\": {\"window\": [0.1]}}", "levels.window", NULL);
  parse_fails("{\"name\": \"x\", \"sources\": {\"name\": 3}}", "sources.name: expected a string", NULL);
}

static void test_error_out_of_range(void **state)
{
  (void)state;
  mt_preset_t p;
  char err[512];
  int rc = mt_preset_parse("{\"name\": \"x\", \"device\": {\"d2d\": {\"g_min\": -0.1}}}", "presets/rram.json", &p,
                           err, sizeof err);
  assert_int_equal(rc, -1);
  assert_string_equal(err, "presets/rram.json: device.d2d.g_min: -0.1 is out of range [0, 1]");

  parse_fails("{\"name\": \"x\", \"device\": {\"g_min\": 1.5}}", "device.g_min: 1.5 is out of range", NULL);
  parse_fails("{\"name\": \"x\", \"device\": {\"c2c\": {\"relative\": 1.0}}}", "device.c2c.relative", "c2c_mul");
  parse_fails("{\"name\": \"x\", \"device\": {\"drift\": {\"nu\": 1.0}}}", "device.drift.nu", "drift_nu");
  parse_fails("{\"name\": \"x\", \"device\": {\"drift\": {\"tau\": 1.0}}}", "device.drift", "tau");
  parse_fails("{\"name\": \"x\", \"device\": {\"stuck\": {\"low\": 0.6, \"high\": 0.5}}}", "device.stuck",
              "low + high");
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"neurosim\", \"pulses_set\": 9, \"pulses_rst\": 9,"
              " \"nl_set\": 1, \"nl_rst\": 4.88}}",
              "response.nl_rst: 4.88 is out of range", NULL);
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"neurosim\", \"pulses_set\": 9, \"pulses_rst\": 9,"
              " \"nl_set\": 1}}",
              "response.nl_rst: missing", NULL);
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"linear\", \"pulses_set\": 1023, \"pulses_rst\": 4},"
              " \"device\": {\"g_max\": 0.0001}}",
              "response.pulses_set", "never move");
  /* open-loop programming is bounded by the protocol's MAX_PULSE_INDEX */
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"linear\", \"pulses_set\": 1024, \"pulses_rst\": 4}}",
              "response.pulses_set: 1024 is out of range [1, 1023]", NULL);
  parse_fails("{\"name\": \"x\", \"response\": {\"model\": \"raw\", \"step_set\": 1, \"step_rst\": 1,"
              " \"a_set\": 0, \"a_rst\": 0}}",
              "levels: the top level (g = 65535) needs more than 1023 nominal SET pulses", NULL);
  parse_fails("{\"name\": \"x\", \"adc\": {\"range\": 0.5, \"mul\": 1, \"shift\": 2}}", "adc: give either range",
              NULL);
  parse_fails("{\"name\": \"x\", \"meta\": {\"index_shift\": 25}}", "meta.index_shift: 25 is out of range", NULL);
  parse_fails("{\"name\": \"x\", \"latency_ns\": {\"set\": 5000000}}", "latency_ns.set", NULL);
  parse_fails("{\"name\": \"x\", \"levels\": {\"window\": [0.8, 0.2]}}", "levels.window", "below");
  parse_fails("{\"name\": \"x\", \"levels\": {\"count\": 4, \"sigma\": [0, 0]}}", "levels.sigma",
              "has 2 entries, expected 4");
  parse_fails("{\"description\": \"no name\"}", "name: missing", NULL);
  parse_fails("{\"name\": \"0123456789012345678901234567890123456789012345678901234567890123\"}", "name: is 64",
              NULL);
}

static void test_error_gmin_gmax(void **state)
{
  (void)state;
  parse_fails("{\"name\": \"x\", \"device\": {\"g_min\": 0.5, \"g_max\": 0.3}}", "device.g_max: 0.3",
              "must be above device.g_min");
  parse_fails("{\"name\": \"x\", \"device\": {\"g_min\": 0.5, \"g_max\": 0.5}}", "device.g_max", NULL);
  /* distinct fractions that round to the same g unit */
  parse_fails("{\"name\": \"x\", \"device\": {\"g_min\": 0.5, \"g_max\": 0.500001}}", "device.g_max",
              "must be above");
}

static void test_error_level_count(void **state)
{
  (void)state;
  parse_fails("{\"name\": \"x\", \"levels\": {\"count\": 1}}", "levels.count: 1 is out of range [2, 256]", NULL);
  parse_fails("{\"name\": \"x\", \"levels\": {\"count\": 257}}", "levels.count: 257 is out of range [2, 256]", NULL);
  mt_preset_t p;
  parse_ok("{\"name\": \"x\", \"levels\": {\"count\": 256}}", &p);
  assert_int_equal(p.levels, 256);
  parse_ok("{\"name\": \"x\", \"levels\": {\"count\": 2}}", &p);
  assert_int_equal(p.levels, 2);
  assert_int_equal(level(&p, 1).gp, 65535);
  assert_int_equal(level(&p, 0).gm, 65535);
}

static void test_error_files(void **state)
{
  (void)state;
  mt_preset_t p;
  char err[512];
  char path[1024];
  preset_path(path, sizeof path, "no-such-preset.json");
  assert_int_equal(mt_preset_load(path, &p, err, sizeof err), MT_ERR_IO);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "cannot open"));

  /* a failing file names itself and the JSON path */
  snprintf(path, sizeof path, "/tmp/mt_test_preset_%ld.json", (long)getpid());
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("{\"name\": \"x\",\n \"adc\": {\"bits\": 17}}\n", f);
  fclose(f);
  assert_int_equal(mt_preset_load(path, &p, err, sizeof err), MT_ERR_FILE);
  remove(path);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "adc.bits: 17 is out of range [2, 16]"));
}

/* Something that is not a regular file is refused by type, naming the path: a
 * FIFO must not hang the loader (alarm: a hang fails the test), a directory is
 * not a "read error". */
static void test_error_not_regular(void **state)
{
  (void)state;
  mt_preset_t p;
  char err[512], path[256];
  snprintf(path, sizeof path, "/tmp/mt_test_preset_fifo_%ld", (long)getpid());
  remove(path);
  assert_int_equal(mkfifo(path, 0600), 0);
  alarm(20);
  int rc = mt_preset_load(path, &p, err, sizeof err);
  alarm(0);
  remove(path);
  assert_int_equal(rc, MT_ERR_IO);
  if (strstr(err, path) == NULL || strstr(err, "is a FIFO, not a regular file") == NULL) {
    fail_msg("FIFO: %s", err);
  }
  assert_int_equal(mt_preset_load("/tmp", &p, err, sizeof err), MT_ERR_IO);
  if (strstr(err, "/tmp: is a directory, not a regular file") == NULL) {
    fail_msg("directory: %s", err);
  }
}

/* A failed load keeps the caller's preset; tiny or absent error buffers
 * neither crash nor overflow (the sanitizers watch this). */
static void test_error_robustness(void **state)
{
  (void)state;
  mt_preset_t *p = malloc(sizeof *p);
  mt_preset_t *copy = malloc(sizeof *copy);
  assert_non_null(p);
  assert_non_null(copy);
  load_ok("rram.json", p);
  memcpy(copy, p, sizeof *p);
  char err[8];
  assert_int_equal(mt_preset_parse("{\"name\": \"x\", \"levels\": {\"count\": 300}}", "t.json", p, err, sizeof err), -1);
  assert_int_equal(strlen(err), sizeof err - 1);
  assert_memory_equal(p, copy, sizeof *p);
  assert_int_equal(mt_preset_parse("{", NULL, p, NULL, 0), -1);
  assert_int_equal(mt_preset_parse(NULL, "t.json", p, err, sizeof err), -1);
  assert_int_equal(mt_preset_load(NULL, p, NULL, 0), MT_ERR_INVAL);
  assert_memory_equal(p, copy, sizeof *p);
  free(p);
  free(copy);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ideal),
      cmocka_unit_test(test_rram),
      cmocka_unit_test(test_imprecise),
      cmocka_unit_test(test_neurosim_agsi),
      cmocka_unit_test(test_neurosim_curve),
      cmocka_unit_test(test_neurosim_nl_table),
      cmocka_unit_test(test_level_tables),
      cmocka_unit_test(test_meta_tables),
      cmocka_unit_test(test_meta_unit_keys),
      cmocka_unit_test(test_sources_name_fields),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_other_models),
      cmocka_unit_test(test_nominal_pulses),
      cmocka_unit_test(test_scales),
      cmocka_unit_test(test_error_json_syntax),
      cmocka_unit_test(test_error_unknown_key),
      cmocka_unit_test(test_error_wrong_type),
      cmocka_unit_test(test_error_out_of_range),
      cmocka_unit_test(test_error_gmin_gmax),
      cmocka_unit_test(test_error_level_count),
      cmocka_unit_test(test_error_files),
      cmocka_unit_test(test_error_not_regular),
      cmocka_unit_test(test_error_robustness),
      cmocka_unit_test(test_table_preset),
      cmocka_unit_test(test_response_class_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
