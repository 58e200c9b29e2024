/* Presets by name for library users (memtile_layer.h): where they are installed, and an
 * opaque handle over mt_preset_t. */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtile.h"
#include "memtile_layer.h"
#include "mt_preset.h"

struct mt_preset {
  mt_preset_t p;
  char path[PATH_MAX];
  char err[1024];
};

/* <dir of file>/../share/memtile/presets, or "" when file has no directory part. */
static void share_dir(const char *file, char *out, size_t outlen) {
  const char *slash = strrchr(file, '/');
  out[0] = 0;
  if (slash) snprintf(out, outlen, "%.*s/../share/memtile/presets", (int)(slash - file), file);
}

static int is_file(const char *path) { return access(path, R_OK) == 0; }

int mt_preset_locate(const char *name, char *out, size_t outlen) {
  if (strchr(name, '/') || (strlen(name) > 5 && !strcmp(name + strlen(name) - 5, ".json"))) {
    if ((size_t)snprintf(out, outlen, "%s", name) >= outlen) return MT_ERR_INVAL;
    return MT_OK;
  }
  if (strlen(name) > 150) {
    snprintf(out, outlen, "preset name '%.40s...' is longer than 150 characters", name);
    return MT_ERR_INVAL;
  }
  /* The search order of memtile_layer.h: environment, the program's prefix, the library's
   * prefix, the source tree. */
  char dirs[4][PATH_MAX];
  const char *env = getenv("MEMTILE_PRESETS");
  snprintf(dirs[0], sizeof dirs[0], "%s", env && *env ? env : "");
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  share_dir(exe, dirs[1], sizeof dirs[1]);
  Dl_info di;
  dirs[2][0] = 0;
  if (dladdr((void *)mt_preset_locate, &di) && di.dli_fname) {
    char lib[PATH_MAX];
    if (realpath(di.dli_fname, lib)) share_dir(lib, dirs[2], sizeof dirs[2]);
  }
  snprintf(dirs[3], sizeof dirs[3], "%s/presets", MT_SOURCE_DIR);
  /* With $MEMTILE_PRESETS set, only that directory: the user asked for it. */
  int last = env && *env ? 0 : 3;
  for (int k = 0; k <= last; k++) {
    if (!dirs[k][0]) continue;
    char path[PATH_MAX + 80];
    if ((size_t)snprintf(path, sizeof path, "%.4000s/%.150s.json", dirs[k], name) >= sizeof path) continue;
    if (is_file(path)) {
      char real[PATH_MAX];
      const char *found = realpath(path, real) ? real : path;
      if ((size_t)snprintf(out, outlen, "%s", found) >= outlen) return MT_ERR_INVAL;
      return MT_OK;
    }
  }
  if (env && *env)
    snprintf(out, outlen, "no preset '%s' in $MEMTILE_PRESETS (%s)", name, env);
  else
    snprintf(out, outlen, "no preset '%s' in %s, %s or %s (set MEMTILE_PRESETS, or give a path)", name,
             dirs[1][0] ? dirs[1] : "<program>/../share/memtile/presets",
             dirs[2][0] ? dirs[2] : "<library>/../share/memtile/presets", dirs[3]);
  return MT_ERR_IO; /* as a dataset found nowhere: the file cannot be opened */
}

int mt_preset_open(const char *name_or_path, mt_preset **out) {
  mt_preset *p = calloc(1, sizeof *p);
  *out = p;
  if (!p) return MT_ERR_NOMEM;
  if (!name_or_path) {
    snprintf(p->err, sizeof p->err, "no preset name given");
    return MT_ERR_INVAL;
  }
  int rc = mt_preset_locate(name_or_path, p->path, sizeof p->path);
  if (rc != MT_OK) {
    snprintf(p->err, sizeof p->err, "%.1000s", p->path);
    p->path[0] = 0;
    return rc;
  }
  return mt_preset_load(p->path, &p->p, p->err, sizeof p->err);
}

void mt_preset_close(mt_preset *p) { free(p); }
const char *mt_preset_errmsg(const mt_preset *p) { return p ? p->err : "out of memory"; }
const char *mt_preset_name(const mt_preset *p) { return p->p.name; }
const char *mt_preset_description(const mt_preset *p) { return p->p.description; }
const char *mt_preset_path(const mt_preset *p) { return p->path; }
uint32_t mt_preset_levels(const mt_preset *p) { return p->p.levels; }

int mt_preset_use_levels(mt_preset *p, uint32_t levels) {
  p->err[0] = 0;
  return mt_preset_set_levels(&p->p, levels, p->err, sizeof p->err) == 0 ? MT_OK : MT_ERR_INVAL;
}

int mt_preset_config(const mt_preset *p, uint32_t *cfg, size_t n) {
  if (n < MT_CFG_COUNT) return MT_ERR_INVAL;
  memcpy(cfg, p->p.cfg, sizeof p->p.cfg);
  return MT_OK;
}

int mt_preset_level_target(const mt_preset *p, uint32_t level, uint16_t *g_plus,
                           uint16_t *g_minus) {
  if (level >= p->p.levels) return MT_ERR_INVAL;
  uint32_t e = p->p.level_table[level * MT_LEVEL_ENTRY_WORDS]; /* word 0: G+ | G- << 16 */
  if (g_plus) *g_plus = (uint16_t)e;
  if (g_minus) *g_minus = (uint16_t)(e >> 16);
  return MT_OK;
}

int mt_dev_apply_preset(mt_dev *dev, const mt_preset *p) { return mt_preset_apply(&p->p, dev); }

const mt_preset_t *mt_preset_data(const mt_preset *p) { return &p->p; }
