/* Preset loader: a strict, human-unit JSON schema (docs/presets.md) turned
 * into the integer CONFIGURE / SET_LEVELS / META_TABLE payloads.
 *
 * Strictness is the point: a typo in a key or a value in the wrong unit
 * would otherwise silently change an experiment, so every key is checked
 * against the schema, every number against its range, and every message
 * names the file, the JSON path and the offending value. */
#include "mt_preset.h"

#include "memtile.h"

#include "mt_file.h"
#include "mt_device.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define G_FULL 65535.0          /* g units of the full scale */
#define Q16 65536.0             /* one in Q0.16 */
#define Q32 4294967296.0        /* one in Q0.32 */
#define U32_MAX_D 4294967295.0
#define PATH_LEN 192
#define MAX_FILE_BYTES (4u << 20) /* presets are a few kB; refuse runaway files */
#define MAX_PULSE_INDEX MT_MAX_PULSE_INDEX /* what SET_LEVELS accepts in p_plus / p_minus */

/* NeuroSim's non-linearity label NL satisfies, for the normalized curve
 * y(x) = (1 - e^{-x/a}) / (1 - e^{-1/a}) on [0, 1]:
 *   max_x (y(x) - x) = NL * 0.07 * sqrt(2).
 * Found by fitting the getParamA() table of MLP_NeuroSim_V3.0 formula.cpp;
 * it reproduces all its 6-digit entries we checked (docs/presets.md). */
#define NEUROSIM_NL_UNIT 0.098994949366116653
#define NEUROSIM_NL_MIN 0.01
#define NEUROSIM_NL_MAX 9.0

/* Defaults of optional fields (all "ours", see docs/presets.md). */
#define DEF_PULSES 64.0
#define DEF_LEVELS 16.0
#define DEF_BITS 8.0
#define DEF_WV_TOL 0.01
#define DEF_WV_ITER 100.0
#define DEF_META_IDX_SHIFT 9.0

typedef struct {
  const char *origin;
  char *err;
  size_t errlen;
} ctx_t;

#if defined(__GNUC__)
#define MT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MT_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------ */
/* Messages and paths                                                  */

static int fail(const ctx_t *c, const char *path, const char *fmt, ...) MT_PRINTF(3, 4);

static int fail(const ctx_t *c, const char *path, const char *fmt, ...)
{
  if (c->err == NULL || c->errlen == 0) {
    return -1;
  }
  int n = (path != NULL && path[0] != '\0') ? snprintf(c->err, c->errlen, "%s: %s: ", c->origin, path)
                                             : snprintf(c->err, c->errlen, "%s: ", c->origin);
  if (n >= 0 && (size_t)n < c->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* dst (PATH_LEN bytes) = parent.key; silently truncates absurdly deep or
 * long paths, which only shortens an error message. */
static void join(char *dst, const char *parent, const char *key)
{
  size_t n = 0;
  for (const char *s = parent; *s != '\0' && n + 1 < PATH_LEN; s++) {
    dst[n++] = *s;
  }
  if (parent[0] != '\0' && n + 1 < PATH_LEN) {
    dst[n++] = '.';
  }
  for (const char *s = key; *s != '\0' && n + 1 < PATH_LEN; s++) {
    dst[n++] = *s;
  }
  dst[n] = '\0';
}

static const char *type_name(const cJSON *it)
{
  if (cJSON_IsNumber(it)) return "a number";
  if (cJSON_IsString(it)) return "a string";
  if (cJSON_IsBool(it)) return "a boolean";
  if (cJSON_IsNull(it)) return "null";
  if (cJSON_IsArray(it)) return "an array";
  if (cJSON_IsObject(it)) return "an object";
  return "an invalid value";
}

static void list_names(char *dst, size_t n, const char *const *names, size_t count)
{
  size_t used = 0;
  dst[0] = '\0';
  for (size_t i = 0; i < count && used < n; i++) {
    int w = snprintf(dst + used, n - used, "%s%s", i ? ", " : "", names[i]);
    if (w < 0) {
      break;
    }
    used += (size_t)w;
  }
}

/* ------------------------------------------------------------------ */
/* Typed access with validation                                        */

static const cJSON *item(const cJSON *obj, const char *key)
{
  return obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* Unknown and duplicate keys are errors: cJSON would keep only the first
 * duplicate, and a misspelt key would silently fall back to a default. */
static int check_keys(const ctx_t *c, const cJSON *obj, const char *path, const char *const *allowed,
                      size_t count)
{
  for (const cJSON *it = obj->child; it != NULL; it = it->next) {
    char p[PATH_LEN];
    join(p, path, it->string);
    size_t k = 0;
    while (k < count && strcmp(it->string, allowed[k]) != 0) {
      k++;
    }
    if (k == count) {
      char names[512];
      list_names(names, sizeof names, allowed, count);
      return fail(c, p, "unknown key (allowed here: %s)", names);
    }
    for (const cJSON *prev = obj->child; prev != it; prev = prev->next) {
      if (strcmp(prev->string, it->string) == 0) {
        return fail(c, p, "duplicate key");
      }
    }
  }
  return 0;
}

static int num_value(const ctx_t *c, const cJSON *it, const char *p, double lo, double hi, double *out)
{
  if (!cJSON_IsNumber(it)) {
    return fail(c, p, "expected a number, got %s", type_name(it));
  }
  double v = it->valuedouble;
  if (!isfinite(v)) {
    return fail(c, p, "%g is not a finite number", v);
  }
  if (v < lo || v > hi) {
    return fail(c, p, "%.10g is out of range [%.10g, %.10g]", v, lo, hi);
  }
  *out = v;
  return 0;
}

/* A missing key takes def; def = NAN marks the key as required. */
static int get_num(const ctx_t *c, const cJSON *obj, const char *path, const char *key, double lo,
                   double hi, double def, double *out)
{
  char p[PATH_LEN];
  join(p, path, key);
  const cJSON *it = item(obj, key);
  if (it == NULL) {
    if (isnan(def)) {
      return fail(c, p, "missing (required)");
    }
    *out = def;
    return 0;
  }
  return num_value(c, it, p, lo, hi, out);
}

static int get_int(const ctx_t *c, const cJSON *obj, const char *path, const char *key, double lo,
                   double hi, double def, double *out)
{
  double v = 0.0;
  if (get_num(c, obj, path, key, lo, hi, def, &v) != 0) {
    return -1;
  }
  if (v != floor(v)) {
    char p[PATH_LEN];
    join(p, path, key);
    return fail(c, p, "%.10g is not an integer", v);
  }
  *out = v;
  return 0;
}

static int get_str(const ctx_t *c, const cJSON *obj, const char *path, const char *key, int required,
                   char *dst, size_t cap)
{
  char p[PATH_LEN];
  join(p, path, key);
  const cJSON *it = item(obj, key);
  if (it == NULL) {
    if (required) {
      return fail(c, p, "missing (required)");
    }
    dst[0] = '\0';
    return 0;
  }
  if (!cJSON_IsString(it)) {
    return fail(c, p, "expected a string, got %s", type_name(it));
  }
  size_t len = strlen(it->valuestring);
  if (len >= cap) {
    return fail(c, p, "is %zu characters long, the limit is %zu", len, cap - 1);
  }
  if (required && len == 0) {
    return fail(c, p, "must not be empty");
  }
  memcpy(dst, it->valuestring, len + 1);
  return 0;
}

static int get_enum(const ctx_t *c, const cJSON *obj, const char *path, const char *key,
                    const char *const *names, size_t count, int def, int *out)
{
  char p[PATH_LEN];
  join(p, path, key);
  const cJSON *it = item(obj, key);
  if (it == NULL) {
    if (def < 0) {
      return fail(c, p, "missing (required)");
    }
    *out = def;
    return 0;
  }
  char list[256];
  list_names(list, sizeof list, names, count);
  if (!cJSON_IsString(it)) {
    return fail(c, p, "expected one of the strings %s, got %s", list, type_name(it));
  }
  for (size_t k = 0; k < count; k++) {
    if (strcmp(it->valuestring, names[k]) == 0) {
      *out = (int)k;
      return 0;
    }
  }
  return fail(c, p, "\"%s\" is not one of %s", it->valuestring, list);
}

/* Optional sub-object; *out stays NULL when absent so its fields default. */
static int get_section(const ctx_t *c, const cJSON *parent, const char *ppath, const char *key,
                       const char *const *allowed, size_t count, const cJSON **out, char *path)
{
  join(path, ppath, key);
  *out = NULL;
  const cJSON *it = item(parent, key);
  if (it == NULL) {
    return 0;
  }
  if (!cJSON_IsObject(it)) {
    return fail(c, path, "expected an object, got %s", type_name(it));
  }
  if (allowed != NULL && check_keys(c, it, path, allowed, count) != 0) {
    return -1;
  }
  *out = it;
  return 0;
}

/* Rounds a converted value to the nearest integer and stores it after
 * checking the CONFIGURE limits; shown is the value as the user wrote it. */
static int store(const ctx_t *c, const char *path, double shown, double scaled, unsigned idx,
                 uint32_t *cfg)
{
  double r = floor(scaled + 0.5);
  if (!(r >= (double)mt_cfg_min[idx] && r <= (double)mt_cfg_max[idx])) {
    return fail(c, path, "%.10g converts to %.0f, outside the range [%u, %u] of CONFIGURE field %s",
                shown, r, mt_cfg_min[idx], mt_cfg_max[idx], mt_cfg_names[idx]);
  }
  cfg[idx] = (uint32_t)r;
  return 0;
}

/* get_num + store in one step, for the many plain scaled fields. */
static int field(const ctx_t *c, const cJSON *obj, const char *path, const char *key, double lo,
                 double hi, double def, double scale, unsigned idx, uint32_t *cfg)
{
  double v = 0.0;
  char p[PATH_LEN];
  join(p, path, key);
  if (get_num(c, obj, path, key, lo, hi, def, &v) != 0) {
    return -1;
  }
  return store(c, p, v, v * scale, idx, cfg);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Top level                                                           */

static const char *const top_keys[] = {"name",    "description", "sources",      "full_scale_us",
                                       "device",  "response",    "levels",       "read",
                                       "dac",     "adc",         "write_verify", "energy_fj",
                                       "latency_ns", "meta"};

/* A source key must name an existing field, so the provenance list cannot
 * drift away from the numbers it documents. */
static int resolves(const cJSON *root, const char *dotted)
{
  char buf[PATH_LEN];
  size_t len = strlen(dotted);
  if (len == 0 || len >= sizeof buf) {
    return 0;
  }
  memcpy(buf, dotted, len + 1);
  const cJSON *node = root;
  char *tok = buf;
  for (;;) {
    char *dot = strchr(tok, '.');
    if (dot != NULL) {
      *dot = '\0';
    }
    if (!cJSON_IsObject(node) || tok[0] == '\0') {
      return 0;
    }
    node = cJSON_GetObjectItemCaseSensitive(node, tok);
    if (node == NULL) {
      return 0;
    }
    if (dot == NULL) {
      return 1;
    }
    tok = dot + 1;
  }
}

static int parse_sources(const ctx_t *c, const cJSON *root)
{
  const cJSON *src = item(root, "sources");
  if (src == NULL) {
    return 0;
  }
  if (!cJSON_IsObject(src)) {
    return fail(c, "sources", "expected an object of \"json.path\": \"source\" strings, got %s",
                type_name(src));
  }
  for (const cJSON *it = src->child; it != NULL; it = it->next) {
    char p[PATH_LEN];
    join(p, "sources", it->string);
    if (!cJSON_IsString(it)) {
      return fail(c, p, "expected a string, got %s", type_name(it));
    }
    if (!resolves(root, it->string)) {
      return fail(c, p, "names no field of this preset");
    }
    for (const cJSON *prev = src->child; prev != it; prev = prev->next) {
      if (strcmp(prev->string, it->string) == 0) {
        return fail(c, p, "duplicate key");
      }
    }
  }
  return 0;
}

static int parse_top(const ctx_t *c, const cJSON *root, mt_preset_t *p)
{
  if (check_keys(c, root, "", top_keys, COUNT(top_keys)) != 0 ||
      get_str(c, root, "", "name", 1, p->name, sizeof p->name) != 0 ||
      get_str(c, root, "", "description", 0, p->description, sizeof p->description) != 0 ||
      get_num(c, root, "", "full_scale_us", 0.0, 1e9, 0.0, &p->full_scale_us) != 0) {
    return -1;
  }
  return parse_sources(c, root);
}

/* ------------------------------------------------------------------ */
/* device                                                              */

static const char *const device_keys[] = {"g_min", "g_max", "endurance", "d2d", "c2c", "stuck", "drift"};
static const char *const d2d_keys[] = {"g_min", "g_max", "step", "a"};
static const char *const c2c_keys[] = {"relative", "absolute"};
static const char *const stuck_keys[] = {"low", "high"};
static const char *const drift_keys[] = {"nu", "nu_sd"};

static int parse_range(const ctx_t *c, const cJSON *dev, const char *path, uint32_t *cfg)
{
  double lo = 0.0;
  double hi = 0.0;
  char plo[PATH_LEN];
  char phi[PATH_LEN];
  join(plo, path, "g_min");
  join(phi, path, "g_max");
  if (get_num(c, dev, path, "g_min", 0.0, 1.0, 0.0, &lo) != 0 ||
      get_num(c, dev, path, "g_max", 0.0, 1.0, 1.0, &hi) != 0 ||
      store(c, plo, lo, lo * G_FULL, MT_CFG_G_MIN, cfg) != 0 ||
      store(c, phi, hi, hi * G_FULL, MT_CFG_G_MAX, cfg) != 0) {
    return -1;
  }
  if (cfg[MT_CFG_G_MIN] >= cfg[MT_CFG_G_MAX]) {
    return fail(c, phi, "%.10g (%u g units) must be above %s %.10g (%u g units)", hi,
                cfg[MT_CFG_G_MAX], plo, lo, cfg[MT_CFG_G_MIN]);
  }
  return 0;
}

static int parse_stuck(const ctx_t *c, const cJSON *dev, const char *dpath, uint32_t *cfg)
{
  const cJSON *s = NULL;
  char path[PATH_LEN];
  if (get_section(c, dev, dpath, "stuck", stuck_keys, COUNT(stuck_keys), &s, path) != 0 ||
      field(c, s, path, "low", 0.0, 1.0, 0.0, Q32, MT_CFG_P_STUCK_LOW, cfg) != 0 ||
      field(c, s, path, "high", 0.0, 1.0, 0.0, Q32, MT_CFG_P_STUCK_HIGH, cfg) != 0) {
    return -1;
  }
  uint64_t sum = (uint64_t)cfg[MT_CFG_P_STUCK_LOW] + cfg[MT_CFG_P_STUCK_HIGH];
  if (sum >= (uint64_t)1 << 32) {
    return fail(c, path, "low + high = %.10g must be below 1", (double)sum / Q32);
  }
  return 0;
}

static int parse_device(const ctx_t *c, const cJSON *root, uint32_t *cfg)
{
  const cJSON *dev = NULL;
  const cJSON *d2d = NULL;
  const cJSON *c2c = NULL;
  char path[PATH_LEN];
  char p2[PATH_LEN];
  char p3[PATH_LEN];
  double endurance = 0.0;
  if (get_section(c, root, "", "device", device_keys, COUNT(device_keys), &dev, path) != 0 ||
      parse_range(c, dev, path, cfg) != 0 ||
      get_int(c, dev, path, "endurance", 0.0, U32_MAX_D, 0.0, &endurance) != 0) {
    return -1;
  }
  cfg[MT_CFG_ENDURANCE] = (uint32_t)endurance;
  if (get_section(c, dev, path, "d2d", d2d_keys, COUNT(d2d_keys), &d2d, p2) != 0 ||
      field(c, d2d, p2, "g_min", 0.0, 1.0, 0.0, G_FULL, MT_CFG_D2D_GMIN, cfg) != 0 ||
      field(c, d2d, p2, "g_max", 0.0, 1.0, 0.0, G_FULL, MT_CFG_D2D_GMAX, cfg) != 0 ||
      field(c, d2d, p2, "step", 0.0, 1.0, 0.0, Q16, MT_CFG_D2D_STEP, cfg) != 0 ||
      field(c, d2d, p2, "a", 0.0, 1.0, 0.0, Q16, MT_CFG_D2D_A, cfg) != 0) {
    return -1;
  }
  if (get_section(c, dev, path, "c2c", c2c_keys, COUNT(c2c_keys), &c2c, p3) != 0 ||
      field(c, c2c, p3, "relative", 0.0, 1.0, 0.0, Q16, MT_CFG_C2C_MUL, cfg) != 0 ||
      field(c, c2c, p3, "absolute", 0.0, 1.0, 0.0, G_FULL, MT_CFG_C2C_ADD, cfg) != 0) {
    return -1;
  }
  /* Power-law drift (DRIFT): exponent mean and device-to-device sigma, Q0.16; absent = 0. */
  const cJSON *drift = NULL;
  if (get_section(c, dev, path, "drift", drift_keys, COUNT(drift_keys), &drift, p3) != 0 ||
      field(c, drift, p3, "nu", 0.0, 1.0, 0.0, Q16, MT_CFG_DRIFT_NU, cfg) != 0 ||
      field(c, drift, p3, "nu_sd", 0.0, 1.0, 0.0, Q16, MT_CFG_DRIFT_NU_SD, cfg) != 0) {
    return -1;
  }
  return parse_stuck(c, dev, path, cfg);
}

/* ------------------------------------------------------------------ */
/* response                                                            */

enum { MODEL_LINEAR, MODEL_SOFT, MODEL_EXP, MODEL_NEUROSIM, MODEL_RAW, MODEL_EXP_STEP, MODEL_POW_STEP,
       MODEL_PIECEWISE, MODEL_TABLE };
static const char *const model_names[] = {"linear", "soft-bounds", "exponential", "neurosim", "raw",
                                          "exp-step", "pow-step",  "piecewise",   "table"};
static const char *const linear_keys[] = {"model", "pulses_set", "pulses_rst"};
static const char *const soft_keys[] = {"model", "rate_set", "rate_rst"};
static const char *const exp_keys[] = {"model", "pulses_set", "pulses_rst", "a_norm_set", "a_norm_rst"};
static const char *const neurosim_keys[] = {"model", "pulses_set", "pulses_rst", "nl_set", "nl_rst"};
static const char *const raw_keys[] = {"model", "step_set", "step_rst", "a_set", "a_rst"};
static const char *const exp_step_keys[] = {"model", "dw_min", "up_down", "A_up", "A_down",
                                            "gamma_up", "gamma_down", "a", "b"};
static const char *const pow_step_keys[] = {"model", "dw_min", "up_down", "gamma", "gamma_up_down"};
static const char *const piecewise_keys[] = {"model", "dw_min", "up_down", "piecewise_up", "piecewise_down"};
static const char *const table_keys[] = {"model", "g", "dg_set", "dg_rst"};

/* One direction of the pulse response, before rounding. */
typedef struct {
  double step; /* g units */
  double a;    /* Q0.16 */
} branch_t;

static double max_deviation(double a)
{
  double d = -expm1(-1.0 / a); /* 1 - e^{-1/a} */
  return (1.0 - a * d) / d + a * log(a * d);
}

double mt_preset_neurosim_a_norm(double nl)
{
  if (!(nl >= NEUROSIM_NL_MIN && nl <= NEUROSIM_NL_MAX)) {
    return -1.0;
  }
  /* max_deviation falls monotonically in a; bisect on log a. */
  double target = nl * NEUROSIM_NL_UNIT;
  double lo = log(1e-3);
  double hi = log(1e4);
  for (int i = 0; i < 200; i++) {
    double mid = 0.5 * (lo + hi);
    if (max_deviation(exp(mid)) > target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return exp(0.5 * (lo + hi));
}

/* NeuroSim's curve G(p) = Gmin + B(1 - e^{-p/A}), G(P) = Gmax, obeys
 * G(p+1) - G(p) = (Gsat - G(p)) (1 - e^{-1/A}) with Gsat = Gmin + B, so the
 * device rule dg = step + a (gmax - g) reproduces it with
 * a = 1 - e^{-1/A} and step = a (Gsat - Gmax) = a range / (e^{P/A} - 1).
 * The RESET curve is the mirror image (gmin instead of gmax). */
static branch_t exp_branch(double range_g, double pulses, double a_norm)
{
  double A = a_norm * pulses;
  double frac = -expm1(-1.0 / A);
  branch_t b = {frac * range_g / expm1(pulses / A), frac * Q16};
  return b;
}

static branch_t linear_branch(double range_g, double pulses)
{
  branch_t b = {range_g / pulses, 0.0};
  return b;
}

static int store_branch(const ctx_t *c, const char *path, double shown, branch_t b, unsigned step_idx,
                        unsigned a_idx, uint32_t *cfg)
{
  if (store(c, path, shown, b.step, step_idx, cfg) != 0 || store(c, path, shown, b.a, a_idx, cfg) != 0) {
    return -1;
  }
  if (cfg[step_idx] == 0 && cfg[a_idx] == 0) {
    return fail(c, path, "%.10g makes both %s and %s round to 0, so the device would never move", shown,
                mt_cfg_names[step_idx], mt_cfg_names[a_idx]);
  }
  return 0;
}

typedef struct {
  const char *suffix;  /* "set" or "rst" */
  unsigned step_idx;
  unsigned a_idx;
} dir_t;

static const dir_t dirs[2] = {{"set", MT_CFG_STEP_SET, MT_CFG_A_SET}, {"rst", MT_CFG_STEP_RST, MT_CFG_A_RST}};

static int response_linear(const ctx_t *c, const cJSON *r, const char *path, double range_g, uint32_t *cfg)
{
  for (int d = 0; d < 2; d++) {
    char key[32];
    char p[PATH_LEN];
    double pulses = 0.0;
    snprintf(key, sizeof key, "pulses_%s", dirs[d].suffix);
    join(p, path, key);
    if (get_int(c, r, path, key, 1.0, MAX_PULSE_INDEX, r ? NAN : DEF_PULSES, &pulses) != 0 ||
        store_branch(c, p, pulses, linear_branch(range_g, pulses), dirs[d].step_idx, dirs[d].a_idx, cfg) != 0) {
      return -1;
    }
  }
  return 0;
}

static int response_soft(const ctx_t *c, const cJSON *r, const char *path, uint32_t *cfg)
{
  for (int d = 0; d < 2; d++) {
    char key[32];
    char p[PATH_LEN];
    double rate = 0.0;
    snprintf(key, sizeof key, "rate_%s", dirs[d].suffix);
    join(p, path, key);
    branch_t b = {0.0, 0.0};
    if (get_num(c, r, path, key, 0.0, 1.0, NAN, &rate) != 0) {
      return -1;
    }
    b.a = rate * Q16;
    if (store_branch(c, p, rate, b, dirs[d].step_idx, dirs[d].a_idx, cfg) != 0) {
      return -1;
    }
  }
  return 0;
}

/* Shared by "exponential" (normalized A given) and "neurosim" (label given). */
static int response_exp(const ctx_t *c, const cJSON *r, const char *path, double range_g, int neurosim,
                        uint32_t *cfg)
{
  for (int d = 0; d < 2; d++) {
    char kp[32];
    char ka[32];
    char p[PATH_LEN];
    double pulses = 0.0;
    double shape = 0.0;
    double a_norm = 0.0;
    snprintf(kp, sizeof kp, "pulses_%s", dirs[d].suffix);
    snprintf(ka, sizeof ka, neurosim ? "nl_%s" : "a_norm_%s", dirs[d].suffix);
    join(p, path, ka);
    if (get_int(c, r, path, kp, 1.0, MAX_PULSE_INDEX, NAN, &pulses) != 0) {
      return -1;
    }
    if (!neurosim) {
      if (get_num(c, r, path, ka, 1e-3, 1e6, NAN, &shape) != 0) {
        return -1;
      }
      a_norm = shape;
    } else {
      /* NeuroSim labels weight increase >= 0 and weight decrease <= 0. */
      double lo = d == 0 ? 0.0 : -NEUROSIM_NL_MAX;
      double hi = d == 0 ? NEUROSIM_NL_MAX : 0.0;
      if (get_num(c, r, path, ka, -1e300, 1e300, NAN, &shape) != 0) {
        return -1;
      }
      if (shape < lo || shape > hi) {
        return fail(c, p, "%.10g is out of range [%g, %g] (NeuroSim labels weight %s with %s values)", shape,
                    lo, hi, d == 0 ? "increase" : "decrease", d == 0 ? "positive" : "negative");
      }
      if (shape != 0.0 && fabs(shape) < NEUROSIM_NL_MIN) {
        return fail(c, p, "%.10g is below NeuroSim's smallest label 0.01 in magnitude (use 0 for linear)",
                    shape);
      }
      if (shape == 0.0) {
        if (store_branch(c, p, shape, linear_branch(range_g, pulses), dirs[d].step_idx, dirs[d].a_idx, cfg) !=
            0) {
          return -1;
        }
        continue;
      }
      a_norm = mt_preset_neurosim_a_norm(fabs(shape));
    }
    if (store_branch(c, p, shape, exp_branch(range_g, pulses, a_norm), dirs[d].step_idx, dirs[d].a_idx, cfg) !=
        0) {
      return -1;
    }
  }
  return 0;
}

static int response_raw(const ctx_t *c, const cJSON *r, const char *path, uint32_t *cfg)
{
  static const char *const keys[4] = {"step_set", "step_rst", "a_set", "a_rst"};
  static const unsigned idx[4] = {MT_CFG_STEP_SET, MT_CFG_STEP_RST, MT_CFG_A_SET, MT_CFG_A_RST};
  for (int i = 0; i < 4; i++) {
    double v = 0.0;
    if (get_int(c, r, path, keys[i], 0.0, 65535.0, NAN, &v) != 0) {
      return -1;
    }
    cfg[idx[i]] = (uint32_t)v;
  }
  return 0;
}

/* ---- piecewise response classes (resp_class 1): the device scales a branch's step by a
 * factor interpolated between 17 knots at g = 4096 k (docs/device-model.md). The host samples
 * the class's step-size curve at the knots; the knot factors are relative to the curve's
 * largest value, which becomes the branch's step. */
#define RESP_KNOTS 17
#define MAX_NODES 64

/* A response curve: the step (g units) at the conductance of each knot, per direction. */
typedef struct {
  double up[RESP_KNOTS];
  double dn[RESP_KNOTS];
} curve_t;

/* Position of knot k in the nominal range, as aihwkit's normalized weight: 0 at g_min, 1 at
 * g_max (knots outside the range take the value at the bound, where the device stops). */
static double knot_x(const uint32_t *cfg, int k)
{
  double x = (4096.0 * k - (double)cfg[MT_CFG_G_MIN]) / ((double)cfg[MT_CFG_G_MAX] - (double)cfg[MT_CFG_G_MIN]);
  return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

/* Stores a curve: step = its largest value, knots = value / step in Q0.16. */
static int store_curve(const ctx_t *c, const char *path, const curve_t *cv, uint32_t *cfg)
{
  for (int d = 0; d < 2; d++) {
    const double *v = d == 0 ? cv->up : cv->dn;
    unsigned step_idx = dirs[d].step_idx;
    unsigned knot0 = d == 0 ? MT_CFG_RESP_UP_0 : MT_CFG_RESP_DN_0;
    double top = 0.0;
    for (int k = 0; k < RESP_KNOTS; k++) {
      assert(v[k] >= 0.0);
      top = v[k] > top ? v[k] : top;
    }
    char p[PATH_LEN];
    join(p, path, dirs[d].suffix);
    if (top < 0.5) {
      return fail(c, p, "the %s step rounds to 0 g units everywhere, so the device would never move",
                  d == 0 ? "SET" : "RESET");
    }
    if (store(c, p, top / G_FULL, top, step_idx, cfg) != 0) {
      return -1;
    }
    for (int k = 0; k < RESP_KNOTS; k++) {
      double q = floor(v[k] / top * Q16 + 0.5);
      cfg[knot0 + (unsigned)k] = q > 65535.0 ? 65535u : (uint32_t)q;
    }
    cfg[dirs[d].a_idx] = 0;
  }
  cfg[MT_CFG_RESP_CLASS] = 1;
  return 0;
}

/* dw_min (fraction of the range) and up_down, aihwkit's PulsedDevice: the up step is
 * dw_min (1 + up_down), the down step dw_min (1 - up_down). */
static int pulsed_steps(const ctx_t *c, const cJSON *r, const char *path, const uint32_t *cfg, double *up,
                        double *dn)
{
  double dw = 0.0;
  double ud = 0.0;
  if (get_num(c, r, path, "dw_min", 1e-6, 1.0, NAN, &dw) != 0 ||
      get_num(c, r, path, "up_down", -0.999, 0.999, 0.0, &ud) != 0) {
    return -1;
  }
  double range_g = (double)cfg[MT_CFG_G_MAX] - (double)cfg[MT_CFG_G_MIN];
  *up = dw * (1.0 + ud) * range_g;
  *dn = dw * (1.0 - ud) * range_g;
  return 0;
}

/* aihwkit ExpStepDevice: y = 1 - A e^{d gamma z}, z = 2 a w / (b_max - b_min) + b, step
 * dw max(y, 0); with symmetric bounds w / (b_max - b_min) = x - 1/2. */
static int response_exp_step(const ctx_t *c, const cJSON *r, const char *path, uint32_t *cfg)
{
  double up = 0.0, dn = 0.0, Au = 0.0, Ad = 0.0, gu = 0.0, gd = 0.0, a = 0.0, b = 0.0;
  if (pulsed_steps(c, r, path, cfg, &up, &dn) != 0 ||
      get_num(c, r, path, "A_up", -1e3, 1e3, NAN, &Au) != 0 ||
      get_num(c, r, path, "A_down", -1e3, 1e3, NAN, &Ad) != 0 ||
      get_num(c, r, path, "gamma_up", -100.0, 100.0, NAN, &gu) != 0 ||
      get_num(c, r, path, "gamma_down", -100.0, 100.0, NAN, &gd) != 0 ||
      get_num(c, r, path, "a", -100.0, 100.0, NAN, &a) != 0 ||
      get_num(c, r, path, "b", -100.0, 100.0, NAN, &b) != 0) {
    return -1;
  }
  curve_t cv;
  for (int k = 0; k < RESP_KNOTS; k++) {
    double z = 2.0 * a * (knot_x(cfg, k) - 0.5) + b;
    double yu = 1.0 - Au * exp(gu * z);
    double yd = 1.0 - Ad * exp(-gd * z);
    cv.up[k] = up * (yu > 0.0 ? yu : 0.0);
    cv.dn[k] = dn * (yd > 0.0 ? yd : 0.0);
  }
  return store_curve(c, path, &cv, cfg);
}

/* aihwkit PowStepDevice: with omega = 1 - x the relative distance to the upper bound, the up
 * step is dw omega^gamma_up and the down step dw (1 - omega)^gamma_down, gamma_up/down =
 * gamma (1 +- gamma_up_down). */
static int response_pow_step(const ctx_t *c, const cJSON *r, const char *path, uint32_t *cfg)
{
  double up = 0.0, dn = 0.0, g = 0.0, gud = 0.0;
  if (pulsed_steps(c, r, path, cfg, &up, &dn) != 0 || get_num(c, r, path, "gamma", 0.0, 100.0, NAN, &g) != 0 ||
      get_num(c, r, path, "gamma_up_down", -0.999, 0.999, 0.0, &gud) != 0) {
    return -1;
  }
  curve_t cv;
  for (int k = 0; k < RESP_KNOTS; k++) {
    double x = knot_x(cfg, k);
    cv.up[k] = up * pow(1.0 - x, g * (1.0 + gud));
    cv.dn[k] = dn * pow(x, g * (1.0 - gud));
  }
  return store_curve(c, path, &cv, cfg);
}

/* An array of 2..max non-negative numbers at obj.key. */
static int get_nodes(const ctx_t *c, const cJSON *obj, const char *path, const char *key, double hi, int max,
                     double *v, int *n)
{
  char p[PATH_LEN];
  join(p, path, key);
  const cJSON *arr = item(obj, key);
  if (arr == NULL) {
    return fail(c, p, "missing (required)");
  }
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 2 || cJSON_GetArraySize(arr) > max) {
    return fail(c, p, "expected an array of 2 to %d numbers, got %s", max, type_name(arr));
  }
  *n = cJSON_GetArraySize(arr);
  for (int i = 0; i < *n; i++) {
    char pi[PATH_LEN + 16];
    snprintf(pi, sizeof pi, "%s[%d]", p, i);
    if (num_value(c, cJSON_GetArrayItem(arr, i), pi, 0.0, hi, &v[i]) != 0) {
      return -1;
    }
  }
  return 0;
}

/* Linear interpolation of nodes v[0..n-1] equally spaced over [0, 1]. */
static double interp_nodes(const double *v, int n, double x)
{
  double pos = x * (n - 1);
  int i = (int)floor(pos);
  if (i >= n - 1) {
    return v[n - 1];
  }
  double q = pos - i;
  return (1.0 - q) * v[i] + q * v[i + 1];
}

/* aihwkit PiecewiseStepDevice: the step is dw times the linear interpolation of nodes spread
 * evenly over the range. The device's knots are every 1/16 of the full scale, so a preset on
 * the full scale with 2, 3, 5, 9 or 17 nodes is reproduced exactly (up to rounding). */
static int response_piecewise(const ctx_t *c, const cJSON *r, const char *path, uint32_t *cfg)
{
  double up = 0.0, dn = 0.0;
  double vu[MAX_NODES], vd[MAX_NODES];
  int nu = 0, nd = 0;
  char p[PATH_LEN];
  join(p, path, "piecewise_down");
  if (pulsed_steps(c, r, path, cfg, &up, &dn) != 0 ||
      get_nodes(c, r, path, "piecewise_up", 1e3, MAX_NODES, vu, &nu) != 0 ||
      get_nodes(c, r, path, "piecewise_down", 1e3, MAX_NODES, vd, &nd) != 0) {
    return -1;
  }
  if (nu != nd) {
    return fail(c, p, "has %d nodes, piecewise_up %d (aihwkit requires the same number)", nd, nu);
  }
  curve_t cv;
  for (int k = 0; k < RESP_KNOTS; k++) {
    cv.up[k] = up * interp_nodes(vu, nu, knot_x(cfg, k));
    cv.dn[k] = dn * interp_nodes(vd, nd, knot_x(cfg, k));
  }
  return store_curve(c, path, &cv, cfg);
}

/* Measured-data style: mean step per pulse (fraction of the full scale) at given states g
 * (fractions of the full scale, strictly increasing); linear between the states, held beyond
 * the first and the last. The spread per state is the c2c section's (relative to the mean). */
static int response_table(const ctx_t *c, const cJSON *r, const char *path, uint32_t *cfg)
{
  double g[MAX_NODES], su[MAX_NODES], sd[MAX_NODES];
  int ng = 0, nu = 0, nd = 0;
  char pg[PATH_LEN];
  char pu[PATH_LEN];
  join(pg, path, "g");
  if (get_nodes(c, r, path, "g", 1.0, MAX_NODES, g, &ng) != 0 ||
      get_nodes(c, r, path, "dg_set", 1.0, MAX_NODES, su, &nu) != 0 ||
      get_nodes(c, r, path, "dg_rst", 1.0, MAX_NODES, sd, &nd) != 0) {
    return -1;
  }
  for (int i = 1; i < ng; i++) {
    if (!(g[i] > g[i - 1])) {
      return fail(c, pg, "states must increase: [%d] = %.10g follows %.10g", i, g[i], g[i - 1]);
    }
  }
  if (nu != ng || nd != ng) {
    join(pu, path, nu != ng ? "dg_set" : "dg_rst");
    return fail(c, pu, "has %d values for the %d states of g", nu != ng ? nu : nd, ng);
  }
  curve_t cv;
  for (int k = 0; k < RESP_KNOTS; k++) {
    double x = 4096.0 * k / G_FULL;
    int i = 0;
    while (i < ng - 2 && x > g[i + 1]) {
      i++;
    }
    double q = (x - g[i]) / (g[i + 1] - g[i]);
    q = q < 0.0 ? 0.0 : (q > 1.0 ? 1.0 : q);
    cv.up[k] = G_FULL * ((1.0 - q) * su[i] + q * su[i + 1]);
    cv.dn[k] = G_FULL * ((1.0 - q) * sd[i] + q * sd[i + 1]);
  }
  return store_curve(c, path, &cv, cfg);
}

static int parse_response(const ctx_t *c, const cJSON *root, uint32_t *cfg)
{
  static const char *const *const keys[] = {linear_keys,    soft_keys,      exp_keys,       neurosim_keys,
                                            raw_keys,       exp_step_keys,  pow_step_keys,  piecewise_keys,
                                            table_keys};
  static const size_t nkeys[] = {COUNT(linear_keys),   COUNT(soft_keys),     COUNT(exp_keys),
                                 COUNT(neurosim_keys), COUNT(raw_keys),      COUNT(exp_step_keys),
                                 COUNT(pow_step_keys), COUNT(piecewise_keys), COUNT(table_keys)};
  const cJSON *r = NULL;
  char path[PATH_LEN];
  int model = MODEL_LINEAR;
  double range_g = (double)cfg[MT_CFG_G_MAX] - (double)cfg[MT_CFG_G_MIN];
  if (get_section(c, root, "", "response", NULL, 0, &r, path) != 0) {
    return -1;
  }
  if (r != NULL && (get_enum(c, r, path, "model", model_names, COUNT(model_names), -1, &model) != 0 ||
                    check_keys(c, r, path, keys[model], nkeys[model]) != 0)) {
    return -1;
  }
  switch (model) {
  case MODEL_LINEAR:
    return response_linear(c, r, path, range_g, cfg);
  case MODEL_SOFT:
    return response_soft(c, r, path, cfg);
  case MODEL_EXP:
    return response_exp(c, r, path, range_g, 0, cfg);
  case MODEL_NEUROSIM:
    return response_exp(c, r, path, range_g, 1, cfg);
  case MODEL_EXP_STEP:
    return response_exp_step(c, r, path, cfg);
  case MODEL_POW_STEP:
    return response_pow_step(c, r, path, cfg);
  case MODEL_PIECEWISE:
    return response_piecewise(c, r, path, cfg);
  case MODEL_TABLE:
    return response_table(c, r, path, cfg);
  default:
    return response_raw(c, r, path, cfg);
  }
}

/* ------------------------------------------------------------------ */
/* read, write_verify, dac/adc, costs, meta                            */

static const char *const read_keys[] = {"sigma", "mode"};
static const char *const read_modes[] = {"none", "per-cell", "per-column"};
static const char *const wv_keys[] = {"tolerance", "max_iter"};
static const char *const dac_keys[] = {"bits"};
static const char *const adc_keys[] = {"bits", "range", "mul", "shift"};
static const char *const energy_keys[] = {"set", "rst", "verify", "read", "mvm", "dac", "adc", "meta"};
static const char *const latency_keys[] = {"set", "rst", "verify", "read", "mvm", "meta"};
static const char *const meta_keys[] = {"m", "index_shift", "input_shift", "program", "hidden_bits",
                                        "hidden_frac", "rounding", "table_log2", "entry_bits", "rule"};
static const char *const meta_programs[] = {"write-verify", "open-loop"};
static const char *const meta_roundings[] = {"truncate", "nearest"};
static const char *const meta_rules[] = {"centre", "interval"};

static int parse_read_wv(const ctx_t *c, const cJSON *root, uint32_t *cfg)
{
  const cJSON *rd = NULL;
  const cJSON *wv = NULL;
  char pr[PATH_LEN];
  char pw[PATH_LEN];
  int mode = 1;
  if (get_section(c, root, "", "read", read_keys, COUNT(read_keys), &rd, pr) != 0 ||
      field(c, rd, pr, "sigma", 0.0, 1.0, 0.0, G_FULL, MT_CFG_READ_SIGMA, cfg) != 0 ||
      get_enum(c, rd, pr, "mode", read_modes, COUNT(read_modes), 1, &mode) != 0) {
    return -1;
  }
  cfg[MT_CFG_READ_MODE] = (uint32_t)mode;
  double iter = 0.0;
  if (get_section(c, root, "", "write_verify", wv_keys, COUNT(wv_keys), &wv, pw) != 0 ||
      field(c, wv, pw, "tolerance", 0.0, 1.0, DEF_WV_TOL, G_FULL, MT_CFG_WV_TOL, cfg) != 0 ||
      get_int(c, wv, pw, "max_iter", 1.0, MT_MAX_WV_ITER, DEF_WV_ITER, &iter) != 0) {
    return -1;
  }
  cfg[MT_CFG_WV_MAX_ITER] = (uint32_t)iter;
  return 0;
}

/* Largest shift whose rounded multiplier still fits 16 bits: that keeps
 * 15-16 significant bits of the gain, the best the two fields allow. */
static int adc_gain(const ctx_t *c, const char *path, double range, uint32_t *cfg)
{
  double dac_max = (double)((1u << (cfg[MT_CFG_DAC_BITS] - 1u)) - 1u);
  double adc_max = (double)((1u << (cfg[MT_CFG_ADC_BITS] - 1u)) - 1u);
  double i_max = dac_max * (double)MT_ROWS * ((double)cfg[MT_CFG_G_MAX] - (double)cfg[MT_CFG_G_MIN]);
  double gain = adc_max / (range * i_max);
  for (int s = (int)mt_cfg_max[MT_CFG_ADC_SHIFT]; s >= 0; s--) {
    double mul = floor(ldexp(gain, s) + 0.5);
    if (mul <= (double)mt_cfg_max[MT_CFG_ADC_MUL]) {
      if (mul < 1.0) {
        return fail(c, path, "%.10g needs a gain of %.6g, below the smallest representable 2^-62", range, gain);
      }
      cfg[MT_CFG_ADC_MUL] = (uint32_t)mul;
      cfg[MT_CFG_ADC_SHIFT] = (uint32_t)s;
      return 0;
    }
  }
  return fail(c, path, "%.10g needs a gain of %.6g, above the largest adc_mul %u", range, gain,
              mt_cfg_max[MT_CFG_ADC_MUL]);
}

static int parse_converters(const ctx_t *c, const cJSON *root, uint32_t *cfg)
{
  const cJSON *dac = NULL;
  const cJSON *adc = NULL;
  char pd[PATH_LEN];
  char pa[PATH_LEN];
  double v = 0.0;
  if (get_section(c, root, "", "dac", dac_keys, COUNT(dac_keys), &dac, pd) != 0 ||
      get_int(c, dac, pd, "bits", mt_cfg_min[MT_CFG_DAC_BITS], mt_cfg_max[MT_CFG_DAC_BITS], DEF_BITS, &v) != 0) {
    return -1;
  }
  cfg[MT_CFG_DAC_BITS] = (uint32_t)v;
  if (get_section(c, root, "", "adc", adc_keys, COUNT(adc_keys), &adc, pa) != 0 ||
      get_int(c, adc, pa, "bits", mt_cfg_min[MT_CFG_ADC_BITS], mt_cfg_max[MT_CFG_ADC_BITS], DEF_BITS, &v) != 0) {
    return -1;
  }
  cfg[MT_CFG_ADC_BITS] = (uint32_t)v;
  int has_mul = item(adc, "mul") != NULL;
  int has_shift = item(adc, "shift") != NULL;
  if (has_mul != has_shift) {
    return fail(c, pa, "mul and shift must be given together");
  }
  if (has_mul) {
    double mul = 0.0;
    double shift = 0.0;
    if (item(adc, "range") != NULL) {
      return fail(c, pa, "give either range or mul and shift, not both");
    }
    if (get_int(c, adc, pa, "mul", 1.0, mt_cfg_max[MT_CFG_ADC_MUL], NAN, &mul) != 0 ||
        get_int(c, adc, pa, "shift", 0.0, mt_cfg_max[MT_CFG_ADC_SHIFT], NAN, &shift) != 0) {
      return -1;
    }
    cfg[MT_CFG_ADC_MUL] = (uint32_t)mul;
    cfg[MT_CFG_ADC_SHIFT] = (uint32_t)shift;
    return 0;
  }
  char pr[PATH_LEN];
  double range = 0.0;
  join(pr, pa, "range");
  if (get_num(c, adc, pa, "range", 1e-6, 1.0, 1.0, &range) != 0) {
    return -1;
  }
  return adc_gain(c, pr, range, cfg);
}

static int parse_costs(const ctx_t *c, const cJSON *root, uint32_t *cfg)
{
  const cJSON *e = NULL;
  const cJSON *t = NULL;
  char pe[PATH_LEN];
  char pt[PATH_LEN];
  if (get_section(c, root, "", "energy_fj", energy_keys, COUNT(energy_keys), &e, pe) != 0) {
    return -1;
  }
  for (unsigned i = 0; i < COUNT(energy_keys); i++) {
    if (field(c, e, pe, energy_keys[i], 0.0, U32_MAX_D, 0.0, 1.0, MT_CFG_E_SET + i, cfg) != 0) {
      return -1;
    }
  }
  if (get_section(c, root, "", "latency_ns", latency_keys, COUNT(latency_keys), &t, pt) != 0) {
    return -1;
  }
  for (unsigned i = 0; i < COUNT(latency_keys); i++) {
    if (field(c, t, pt, latency_keys[i], 0.0, U32_MAX_D / 1000.0, 0.0, 1000.0, MT_CFG_T_SET + i, cfg) != 0) {
      return -1;
    }
  }
  return 0;
}

/* f(|h|) = 1 - tanh^2(m |h|), sampled at the lower edge of each index bin so
 * that f[0] is exactly 1 and no weight is attenuated more than its bin
 * start says; each entry rounded to the unit's `bits` and placed in the top
 * bits of its Q0.16 word, which is what the unit reads. */
static void build_meta_table(double m, uint32_t shift, uint32_t bits, uint32_t *table)
{
  memset(table, 0, MT_META_TABLE_SIZE / 2 * sizeof table[0]);
  const double one = ldexp(1.0, (int)bits);
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++) {
    double h = ldexp((double)i, (int)shift) / Q16;
    double t = tanh(m * h);
    double q = floor((1.0 - t * t) * one + 0.5);
    uint32_t v = q > one - 1.0 ? (uint32_t)(one - 1.0) : (uint32_t)q;
    table[i / 2] |= (v << (16u - bits)) << (16u * (i % 2u));
  }
}

static int parse_meta(const ctx_t *c, const cJSON *root, uint32_t *cfg, uint32_t *table)
{
  const cJSON *mt = NULL;
  char path[PATH_LEN];
  double m = 0.0;
  double idx = 0.0;
  double in = 0.0;
  double wbits = 0.0, frac = 0.0, k = 0.0, ebits = 0.0;
  int prog = 0, rounding = 0, rule = 0;
  if (get_section(c, root, "", "meta", meta_keys, COUNT(meta_keys), &mt, path) != 0 ||
      get_num(c, mt, path, "m", 0.0, 1e6, 0.0, &m) != 0 ||
      get_int(c, mt, path, "index_shift", 0.0, mt_cfg_max[MT_CFG_META_IDX_SHIFT], DEF_META_IDX_SHIFT, &idx) != 0 ||
      get_int(c, mt, path, "input_shift", 0.0, mt_cfg_max[MT_CFG_META_IN_SHIFT], 0.0, &in) != 0 ||
      get_enum(c, mt, path, "program", meta_programs, COUNT(meta_programs), 0, &prog) != 0 ||
      get_int(c, mt, path, "hidden_bits", mt_cfg_min[MT_CFG_META_HIDDEN_BITS],
              mt_cfg_max[MT_CFG_META_HIDDEN_BITS], 32.0, &wbits) != 0 ||
      get_int(c, mt, path, "hidden_frac", 0.0, mt_cfg_max[MT_CFG_META_HIDDEN_FRAC], 16.0, &frac) != 0 ||
      get_enum(c, mt, path, "rounding", meta_roundings, COUNT(meta_roundings), 0, &rounding) != 0 ||
      get_int(c, mt, path, "table_log2", 0.0, mt_cfg_max[MT_CFG_META_TABLE_LOG2], 8.0, &k) != 0 ||
      get_int(c, mt, path, "entry_bits", mt_cfg_min[MT_CFG_META_ENTRY_BITS],
              mt_cfg_max[MT_CFG_META_ENTRY_BITS], 16.0, &ebits) != 0 ||
      get_enum(c, mt, path, "rule", meta_rules, COUNT(meta_rules), 0, &rule) != 0) {
    return -1;
  }
  if (frac >= wbits) {
    char p[PATH_LEN];
    join(p, path, "hidden_frac");
    return fail(c, p, "%g must be below meta.hidden_bits %g", frac, wbits);
  }
  cfg[MT_CFG_META_IDX_SHIFT] = (uint32_t)idx;
  cfg[MT_CFG_META_IN_SHIFT] = (uint32_t)in;
  cfg[MT_CFG_META_PROG_MODE] = (uint32_t)prog;
  cfg[MT_CFG_META_HIDDEN_BITS] = (uint32_t)wbits;
  cfg[MT_CFG_META_HIDDEN_FRAC] = (uint32_t)frac;
  cfg[MT_CFG_META_UPD_ROUND] = (uint32_t)rounding;
  cfg[MT_CFG_META_TABLE_LOG2] = (uint32_t)k;
  cfg[MT_CFG_META_ENTRY_BITS] = (uint32_t)ebits;
  cfg[MT_CFG_META_RULE] = (uint32_t)rule;
  build_meta_table(m, cfg[MT_CFG_META_IDX_SHIFT], cfg[MT_CFG_META_ENTRY_BITS], table);
  return 0;
}

/* ------------------------------------------------------------------ */
/* levels                                                              */

static const char *const level_keys[] = {"count", "window", "sigma"};

/* The device's noise-free SET rule, exactly as the golden model applies it. */
static uint32_t set_once(const uint32_t cfg[MT_CFG_COUNT], uint32_t g)
{
  uint32_t gmax = cfg[MT_CFG_G_MAX];
  if (g >= gmax) {
    return gmax;
  }
  int64_t dg = mt_pulse_mean(cfg, cfg[MT_CFG_STEP_SET], cfg[MT_CFG_A_SET], (int64_t)gmax - g, g, 1);
  uint64_t next = g + (uint64_t)dg;
  return next > gmax ? gmax : (uint32_t)next;
}

static uint32_t absdiff(uint32_t a, uint32_t b)
{
  return a > b ? a - b : b - a;
}

/* *capped is set when MAX_PULSE_INDEX pulses end still below target and one
 * more pulse would come closer: the target cannot be reached open-loop. */
static uint32_t nominal_pulses(const uint32_t cfg[MT_CFG_COUNT], uint32_t target, int *capped)
{
  uint32_t g = cfg[MT_CFG_G_MIN];
  *capped = 0;
  uint32_t best = 0;
  uint32_t best_err = absdiff(g, target);
  for (uint32_t p = 1; p <= MAX_PULSE_INDEX; p++) {
    uint32_t next = set_once(cfg, g);
    if (next == g) {
      break; /* at gmax, or the step has decayed to nothing */
    }
    g = next;
    uint32_t e = absdiff(g, target);
    if (e < best_err) {
      best_err = e;
      best = p;
    } else if (g > target) {
      break; /* the curve is monotonic: it only gets worse from here */
    }
    if (p == MAX_PULSE_INDEX) {
      *capped = absdiff(set_once(cfg, g), target) < best_err;
    }
  }
  return best;
}

uint32_t mt_preset_nominal_set_pulses(const uint32_t cfg[MT_CFG_COUNT], uint32_t target)
{
  int capped;
  return nominal_pulses(cfg, target, &capped);
}

static int parse_window(const ctx_t *c, const cJSON *lv, const char *path, double w[2])
{
  char p[PATH_LEN];
  join(p, path, "window");
  const cJSON *win = item(lv, "window");
  w[0] = 0.0;
  w[1] = 1.0;
  if (win == NULL) {
    return 0;
  }
  if (!cJSON_IsArray(win) || cJSON_GetArraySize(win) != 2) {
    return fail(c, p, "expected an array [lo, hi] of two numbers, got %s", type_name(win));
  }
  for (int i = 0; i < 2; i++) {
    char pi[PATH_LEN + 16];
    snprintf(pi, sizeof pi, "%s[%d]", p, i);
    if (num_value(c, cJSON_GetArrayItem(win, i), pi, 0.0, 1.0, &w[i]) != 0) {
      return -1;
    }
  }
  if (!(w[0] < w[1])) {
    return fail(c, p, "lo %.10g must be below hi %.10g", w[0], w[1]);
  }
  return 0;
}

static int parse_sigma(const ctx_t *c, const cJSON *lv, const char *path, uint32_t count, uint32_t *sigma)
{
  char p[PATH_LEN];
  join(p, path, "sigma");
  const cJSON *s = item(lv, "sigma");
  double v = 0.0;
  if (s == NULL || cJSON_IsNumber(s)) {
    if (s != NULL && num_value(c, s, p, 0.0, 1.0, &v) != 0) {
      return -1;
    }
    for (uint32_t q = 0; q < count; q++) {
      sigma[q] = (uint32_t)floor(v * G_FULL + 0.5);
    }
    return 0;
  }
  if (!cJSON_IsArray(s)) {
    return fail(c, p, "expected a number or an array of %u numbers, got %s", count, type_name(s));
  }
  int n = cJSON_GetArraySize(s);
  if (n != (int)count) {
    return fail(c, p, "has %d entries, expected %u (levels.count)", n, count);
  }
  for (uint32_t q = 0; q < count; q++) {
    char pi[PATH_LEN + 16];
    snprintf(pi, sizeof pi, "%s[%u]", p, q);
    if (num_value(c, cJSON_GetArrayItem(s, (int)q), pi, 0.0, 1.0, &v) != 0) {
      return -1;
    }
    sigma[q] = (uint32_t)floor(v * G_FULL + 0.5);
  }
  return 0;
}

/* x_q = (2q - (L-1)) / (L-1); the pair (g+, g-) puts |x_q| of the window on
 * one device and the window's low end on the other. Integer rounding of
 * |2q - (L-1)| * span / (L-1) makes entries q and L-1-q exact mirrors. */
static void build_levels(const uint32_t *cfg, uint32_t count, uint32_t lo, uint32_t hi, const uint32_t *sigma,
                         uint32_t *table)
{
  uint32_t n = count - 1u;
  uint32_t span = hi - lo;
  uint32_t p_lo = mt_preset_nominal_set_pulses(cfg, lo);
  memset(table, 0, MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS * sizeof table[0]);
  for (uint32_t q = 0; q < count; q++) {
    int32_t num = 2 * (int32_t)q - (int32_t)n;
    uint32_t mag = (uint32_t)(num < 0 ? -num : num);
    uint32_t g = lo + (2u * mag * span + n) / (2u * n);
    uint32_t p_g = mt_preset_nominal_set_pulses(cfg, g);
    uint32_t gp = num > 0 ? g : lo;
    uint32_t gm = num < 0 ? g : lo;
    uint32_t pp = num > 0 ? p_g : p_lo;
    uint32_t pm = num < 0 ? p_g : p_lo;
    uint32_t *e = &table[q * MT_LEVEL_ENTRY_WORDS];
    assert(pp <= MAX_PULSE_INDEX && pm <= MAX_PULSE_INDEX); /* what SET_LEVELS accepts */
    e[0] = gp | gm << 16;
    e[1] = pp | pm << 16;
    e[2] = sigma[q];
  }
}

static int parse_levels(const ctx_t *c, const cJSON *root, const uint32_t *cfg, mt_preset_t *p)
{
  const cJSON *lv = NULL;
  char path[PATH_LEN];
  double count = 0.0;
  double w[2] = {0.0, 1.0};
  uint32_t sigma[MT_MAX_LEVELS];
  if (get_section(c, root, "", "levels", level_keys, COUNT(level_keys), &lv, path) != 0 ||
      get_int(c, lv, path, "count", MT_MIN_LEVELS, MT_MAX_LEVELS, DEF_LEVELS, &count) != 0 ||
      parse_window(c, lv, path, w) != 0 || parse_sigma(c, lv, path, (uint32_t)count, sigma) != 0) {
    return -1;
  }
  double gmin = (double)cfg[MT_CFG_G_MIN];
  double range = (double)cfg[MT_CFG_G_MAX] - gmin;
  uint32_t lo = (uint32_t)floor(gmin + w[0] * range + 0.5);
  uint32_t hi = (uint32_t)floor(gmin + w[1] * range + 0.5);
  if (hi <= lo) {
    char pw[PATH_LEN];
    join(pw, path, "window");
    return fail(c, pw, "[%.10g, %.10g] spans less than one g unit", w[0], w[1]);
  }
  /* The curve is monotonic: if the top level is reachable open-loop, all are. */
  int capped = 0;
  nominal_pulses(cfg, hi, &capped);
  if (capped) {
    return fail(c, path, "the top level (g = %u) needs more than %u nominal SET pulses from g_min, "
                "the most a level entry allows (MAX_PULSE_INDEX); use a larger pulse step or a "
                "lower window", hi, MAX_PULSE_INDEX);
  }
  p->levels = (uint32_t)count;
  p->level_lo = lo;
  p->level_hi = hi;
  p->level_sigma_uniform = 1;
  for (uint32_t q = 1; q < p->levels; q++) {
    p->level_sigma_uniform &= sigma[q] == sigma[0];
  }
  build_levels(cfg, p->levels, lo, hi, sigma, p->level_table);
  return 0;
}

int mt_preset_set_levels(mt_preset_t *p, uint32_t levels, char *err, size_t errlen)
{
  if (levels < MT_MIN_LEVELS || levels > MT_MAX_LEVELS) {
    snprintf(err, errlen, "%u levels is outside [%u, %u]", levels, MT_MIN_LEVELS, MT_MAX_LEVELS);
    return -1;
  }
  if (!p->level_sigma_uniform) {
    snprintf(err, errlen, "preset %s gives a spread per level for its %u levels; "
             "the level count cannot be changed", p->name, p->levels);
    return -1;
  }
  uint32_t sigma[MT_MAX_LEVELS];
  for (uint32_t q = 0; q < levels; q++) {
    sigma[q] = p->level_table[2];
  }
  p->levels = levels;
  build_levels(p->cfg, levels, p->level_lo, p->level_hi, sigma, p->level_table);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */

/* Defence in depth: every conversion above already checks its field, but
 * the generated limits are the contract with the device. */
static int check_cfg(const ctx_t *c, const uint32_t *cfg)
{
  for (unsigned i = 0; i < MT_CFG_COUNT; i++) {
    if (cfg[i] < mt_cfg_min[i] || cfg[i] > mt_cfg_max[i]) {
      char p[PATH_LEN];
      snprintf(p, sizeof p, "configure.%s", mt_cfg_names[i]);
      return fail(c, p, "%u is outside [%u, %u]", cfg[i], mt_cfg_min[i], mt_cfg_max[i]);
    }
  }
  if (cfg[MT_CFG_G_MIN] >= cfg[MT_CFG_G_MAX]) {
    return fail(c, "configure.g_min", "%u must be below g_max %u", cfg[MT_CFG_G_MIN], cfg[MT_CFG_G_MAX]);
  }
  return 0;
}

/* Order matters: the response, converters and levels depend on the range. */
static int build(const ctx_t *c, const cJSON *root, mt_preset_t *p)
{
  if (!cJSON_IsObject(root)) {
    return fail(c, NULL, "expected a JSON object at the top level, got %s", type_name(root));
  }
  if (parse_top(c, root, p) != 0 || parse_device(c, root, p->cfg) != 0 || parse_response(c, root, p->cfg) != 0 ||
      parse_read_wv(c, root, p->cfg) != 0 || parse_converters(c, root, p->cfg) != 0 ||
      parse_costs(c, root, p->cfg) != 0 || parse_meta(c, root, p->cfg, p->meta_table) != 0 ||
      parse_levels(c, root, p->cfg, p) != 0) {
    return -1;
  }
  return check_cfg(c, p->cfg);
}

static int syntax_error(const ctx_t *c, const char *text, const char *at)
{
  unsigned line = 1;
  unsigned col = 1;
  if (at == NULL || at < text) {
    at = text;
  }
  for (const char *s = text; s < at && *s != '\0'; s++) {
    if (*s == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  char near[24];
  size_t n = 0;
  while (n + 1 < sizeof near && at[n] != '\0' && at[n] != '\n' && at[n] != '\r') {
    near[n] = at[n];
    n++;
  }
  near[n] = '\0';
  if (n == 0) {
    return fail(c, NULL, "invalid JSON at line %u, column %u (at the end of a line or of the input)", line, col);
  }
  return fail(c, NULL, "invalid JSON at line %u, column %u, near '%s'", line, col, near);
}

int mt_preset_parse(const char *json_text, const char *origin, mt_preset_t *out, char *err, size_t errlen)
{
  const ctx_t c = {origin ? origin : "<string>", err, errlen};
  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  if (out == NULL || json_text == NULL) {
    return fail(&c, NULL, "no %s given", out == NULL ? "output preset" : "JSON text");
  }
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithOpts(json_text, &end, 1);
  if (root == NULL) {
    return syntax_error(&c, json_text, end);
  }
  /* Built aside so a failing preset never half-overwrites the caller's. */
  mt_preset_t *tmp = calloc(1, sizeof *tmp);
  if (tmp == NULL) {
    cJSON_Delete(root);
    return fail(&c, NULL, "out of memory");
  }
  int rc = build(&c, root, tmp);
  cJSON_Delete(root);
  if (rc == 0) {
    *out = *tmp;
  }
  free(tmp);
  return rc;
}

static char *read_file(const ctx_t *c, FILE *f)
{
  size_t cap = 4096;
  size_t len = 0;
  char *buf = malloc(cap);
  while (buf != NULL) {
    if (len + 1 >= cap) {
      if (cap >= MAX_FILE_BYTES) {
        fail(c, NULL, "larger than %u bytes; not a preset", MAX_FILE_BYTES);
        free(buf);
        return NULL;
      }
      char *bigger = realloc(buf, cap * 2);
      if (bigger == NULL) {
        break;
      }
      buf = bigger;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - 1 - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) {
        fail(c, NULL, "read error: %s", strerror(errno));
        free(buf);
        return NULL;
      }
      buf[len] = '\0';
      if (memchr(buf, '\0', len) != NULL) {
        fail(c, NULL, "contains a NUL byte; not a JSON text");
        free(buf);
        return NULL;
      }
      return buf;
    }
  }
  free(buf);
  fail(c, NULL, "out of memory");
  return NULL;
}

int mt_preset_load(const char *path, mt_preset_t *out, char *err, size_t errlen)
{
  const ctx_t c = {path ? path : "<no path>", err, errlen};
  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  if (path == NULL) {
    fail(&c, NULL, "no file name given");
    return MT_ERR_INVAL;
  }
  /* mt_open_regular names the path itself; the preset's "<path>: " prefix is not repeated. */
  char why[512];
  FILE *f = mt_open_regular(path, why, sizeof why);
  if (f == NULL) {
    if (err != NULL && errlen > 0) {
      snprintf(err, errlen, "%s", why);
    }
    return MT_ERR_IO;
  }
  char *text = read_file(&c, f);
  fclose(f);
  if (text == NULL) {
    return MT_ERR_IO; /* a read error, or no preset (too large, NUL bytes, no memory) */
  }
  int rc = mt_preset_parse(text, path, out, err, errlen);
  free(text);
  return rc == 0 ? MT_OK : MT_ERR_FILE;
}
