/* The public characterization API (memtile_char.h) over mt_characterize_samples, the pulse
 * response and the characterization figure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "memtile_char.h"
#include "memtile_plot.h"
#include "mt_algo_biased.h"
#include "mt_respcurve.h"

struct mt_char {
  mt_charac c;
  mt_preset_t p; /* the preset as applied (the figure's pulse count and title) */
  uint64_t seed;
  float *achieved; /* levels x samples, or NULL without keep_samples */
  char msg[1024];
};

static int fail(mt_char *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(mt_char *c, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->msg, sizeof c->msg, fmt, ap);
  va_end(ap);
  return code;
}

int mt_char_run(mt_dev *dev, const mt_preset *p, uint64_t seed, uint32_t samples, uint32_t reads,
                uint32_t favourable_k, int keep_samples, mt_char **out) {
  mt_char *c = calloc(1, sizeof *c);
  *out = c;
  if (!c) return MT_ERR_NOMEM;
  c->p = *mt_preset_data(p);
  c->seed = seed;
  if (favourable_k > c->p.levels)
    return fail(c, MT_ERR_INVAL, "favourable_k %u is more than the %u levels", favourable_k, c->p.levels);
  if (keep_samples && !(c->achieved = malloc((size_t)samples * c->p.levels * sizeof *c->achieved)))
    return fail(c, MT_ERR_NOMEM, "out of memory for %u x %u samples", samples, c->p.levels);
  /* The device's class when the device failed, else MT_ERR_INVAL or MT_ERR_NOMEM. */
  return mt_characterize_samples(dev, &c->p, 0, seed, samples, reads, favourable_k, &c->c,
                                 c->achieved, c->msg, sizeof c->msg);
}

void mt_char_close(mt_char *c) {
  if (!c) return;
  free(c->achieved);
  free(c);
}

const char *mt_char_errmsg(const mt_char *c) { return c ? c->msg : "out of memory"; }
uint32_t mt_char_levels(const mt_char *c) { return c->c.levels; }
uint32_t mt_char_favourable_k(const mt_char *c) { return c->c.favourable_k; }
double mt_char_level_step(const mt_char *c) { return c->c.level_step; }
double mt_char_read_sigma(const mt_char *c) { return c->c.read_sigma; }

int mt_char_get_level(const mt_char *c, uint32_t q, mt_char_level *out) {
  if (q >= c->c.levels) return MT_ERR_INVAL;
  *out = (mt_char_level){c->c.target[q], c->c.mean[q], c->c.sigma[q], c->c.rms[q],
                         c->c.wv_failures[q], c->c.favourable[q]};
  return MT_OK;
}

int mt_char_write_json(mt_char *c, const char *preset_name, const char *path) {
  return mt_charac_write_json(&c->c, preset_name, path, c->msg, sizeof c->msg) == 0 ? MT_OK : MT_ERR_IO;
}

int mt_char_plot(mt_char *c, mt_dev *dev, const char *png) {
  if (!c->achieved) return fail(c, MT_ERR_INVAL, "--plot: the characterization kept no samples");
  const mt_dev_info *info = mt_dev_get_info(dev);
  uint32_t cells = c->c.samples < info->rows * info->cols ? c->c.samples : info->rows * info->cols;
  /* Past the top level by half again, so that the curve shows its saturation. */
  uint32_t pulses = mt_preset_nominal_set_pulses(c->p.cfg, c->p.level_hi) * 3 / 2;
  pulses = pulses < 16 ? 16 : pulses > 2000 ? 2000 : pulses;
  double *curve = malloc(4 * ((size_t)pulses + 1) * sizeof *curve);
  if (!curve) return fail(c, MT_ERR_NOMEM, "--plot: out of memory");
  double *um = curve, *us = um + pulses + 1, *dm = us + pulses + 1, *ds = dm + pulses + 1;
  int rc = mt_pulse_response(dev, 0, c->seed, cells, pulses, um, us, dm, ds, c->msg, sizeof c->msg);
  if (rc == MT_OK) {
    char title[160];
    snprintf(title, sizeof title, "memtile characterize: preset %s, %u levels, seed %llu", c->p.name,
             c->c.levels, (unsigned long long)c->seed);
    mt_plot_device d = {title, cells, pulses, um, us, dm, ds, c->c.levels, c->c.samples, c->c.target,
                        c->achieved};
    rc = mt_plot_characterization(&d, png, c->msg, sizeof c->msg);
  }
  free(curve);
  return rc;
}
