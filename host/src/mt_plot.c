/* Figures as PNG through gnuplot (memtile_plot.h, docs/plots.md). */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np */
#include "memtile_plot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memtile.h"
#include "mt_file.h"

extern char **environ;

#define MAX_TASKS 16
#define MAX_LINE (1u << 20)
#define MAX_PNG (64u << 20)
#define HIST_BINS 160

/* The private directory gnuplot runs in: every path in the script is relative to it, so
 * no user path is ever quoted into gnuplot's language. */
typedef struct {
  char dir[4096];
} workdir;

static int work_open(workdir *w, char *err, size_t errlen) {
  const char *tmp = getenv("TMPDIR");
  snprintf(w->dir, sizeof w->dir, "%s/memtile-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(w->dir)) {
    snprintf(err, errlen, "plot: cannot create a temporary directory in %s: %s", tmp && *tmp ? tmp : "/tmp",
             strerror(errno));
    return MT_ERR_IO;
  }
  return MT_OK;
}

static FILE *work_file(const workdir *w, const char *name, char *err, size_t errlen) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", w->dir, name);
  FILE *f = fopen(path, "w");
  if (!f) snprintf(err, errlen, "plot: %s: %s", path, strerror(errno));
  return f;
}

/* Removes the files the plot functions may have written, then the directory. */
static void work_close(workdir *w, size_t n_data) {
  char path[4200];
  static const char *const fixed[] = {"plot.gp", "gnuplot.log", "out.png", "up.dat", "down.dat", "hist.dat"};
  for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++) {
    snprintf(path, sizeof path, "%s/%s", w->dir, fixed[k]);
    unlink(path);
  }
  for (size_t k = 0; k < n_data; k++) {
    snprintf(path, sizeof path, "%s/d%zu.dat", w->dir, k);
    unlink(path);
  }
  rmdir(w->dir);
}

static int close_file(FILE *f, const char *what, char *err, size_t errlen) {
  int bad = ferror(f) != 0;
  if (fclose(f) != 0) bad = 1;
  if (bad) {
    snprintf(err, errlen, "plot: writing %s failed", what);
    return MT_ERR_IO;
  }
  return MT_OK;
}

/* s as the body of a gnuplot double-quoted string. */
static void gp_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c >= 0x20) fputc(c, f);
  }
  fputc('"', f);
}

/* A PNG's signature and its IHDR chunk with a non-zero size. */
static int png_valid(const unsigned char *b, size_t n) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n < 33 || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0) return 0;
  uint32_t w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
  uint32_t h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
  return w > 0 && h > 0;
}

/* png replaced atomically by a file of the usual mode (the umask's, unlike
 * mt_write_atomic's private checkpoints): written beside it, then renamed. */
static int write_png(const char *png, const unsigned char *bytes, size_t n, char *err, size_t errlen) {
  char part[4200];
  if ((size_t)snprintf(part, sizeof part, "%s.part", png) >= sizeof part) {
    snprintf(err, errlen, "plot: output name too long");
    return MT_ERR_INVAL;
  }
  FILE *f = fopen(part, "wb");
  if (!f) {
    snprintf(err, errlen, "plot: %s: %s", png, strerror(errno));
    return MT_ERR_IO;
  }
  int bad = fwrite(bytes, 1, n, f) != n;
  if (fclose(f) != 0) bad = 1;
  if (bad || rename(part, png) != 0) {
    snprintf(err, errlen, "plot: %s: %s", png, bad ? "write failed" : strerror(errno));
    unlink(part);
    return MT_ERR_IO;
  }
  return MT_OK;
}

/* The first line of gnuplot's complaint, for the message. */
static void first_error_line(const workdir *w, char *out, size_t outlen) {
  char path[4200], line[512];
  snprintf(path, sizeof path, "%s/gnuplot.log", w->dir);
  out[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (line[strspn(line, " \t^")] == 0) continue; /* gnuplot's caret lines */
    snprintf(out, outlen, "%.300s", line);
    break;
  }
  fclose(f);
}

/* Runs gnuplot on plot.gp in the work directory and moves out.png to png. */
static int run_gnuplot(const workdir *w, const char *png, char *err, size_t errlen) {
  const char *prog = getenv("MEMTILE_GNUPLOT");
  if (!prog || !*prog) prog = "gnuplot";
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0) {
    snprintf(err, errlen, "plot: out of memory");
    return MT_ERR_NOMEM;
  }
  int rc = posix_spawn_file_actions_addchdir_np(&fa, w->dir);
  if (!rc) rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (!rc) rc = posix_spawn_file_actions_addopen(&fa, 1, "gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  char *argv[] = {(char *)prog, (char *)"plot.gp", NULL};
  if (!rc) rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    snprintf(err, errlen, "plot: cannot run %s: %s (install gnuplot with `make deps`, or name it in "
             "MEMTILE_GNUPLOT)", prog, strerror(rc));
    return MT_ERR_NODEV;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      snprintf(err, errlen, "plot: waiting for %s: %s", prog, strerror(errno));
      return MT_ERR_IO;
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char why[400];
    first_error_line(w, why, sizeof why);
    if (WIFEXITED(status))
      snprintf(err, errlen, "plot: %s failed (exit %d)%s%s", prog, WEXITSTATUS(status), why[0] ? ": " : "", why);
    else
      snprintf(err, errlen, "plot: %s was killed by signal %d", prog, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return MT_ERR_IO;
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/out.png", w->dir);
  unsigned char *bytes = NULL;
  size_t n = 0;
  char rerr[512];
  if (mt_read_file(path, MAX_PNG, &bytes, &n, rerr, sizeof rerr) != 0) {
    snprintf(err, errlen, "plot: %s wrote no image (%s)", prog, rerr);
    return MT_ERR_IO;
  }
  rc = MT_OK;
  if (!png_valid(bytes, n)) {
    snprintf(err, errlen, "plot: %s wrote %zu bytes that are not a PNG image", prog, n);
    rc = MT_ERR_IO;
  } else {
    rc = write_png(png, bytes, n, err, errlen);
  }
  free(bytes);
  return rc;
}

/* The terminal, output and grid every figure shares; cols x rows panels of 640x420. */
static void gp_begin(FILE *gp, unsigned cols, unsigned rows, const char *title) {
  fprintf(gp, "set terminal pngcairo noenhanced size %u,%u font 'sans,10'\n", 640 * cols, 420 * rows + 30);
  fputs("set output 'out.png'\nset datafile missing 'nan'\n", gp);
  fprintf(gp, "set multiplot layout %u,%u title ", rows, cols);
  gp_string(gp, title);
  fputs(" font 'sans,12'\nset grid\nset key box opaque\n", gp);
}

/* ---- training logs ---------------------------------------------------------- */

int mt_plot_parse_what(const char *text, uint32_t *mask, char *err, size_t errlen) {
  static const struct {
    const char *name;
    uint32_t bit;
  } words[] = {{"all", MT_PLOT_ALL},       {"accuracy", MT_PLOT_ACCURACY}, {"tasks", MT_PLOT_TASKS},
               {"pulses", MT_PLOT_PULSES}, {"energy", MT_PLOT_ENERGY}};
  uint32_t m = 0;
  const char *p = text;
  for (;;) {
    size_t len = strcspn(p, ",");
    size_t k = 0;
    for (; k < sizeof words / sizeof words[0]; k++)
      if (strlen(words[k].name) == len && !strncmp(p, words[k].name, len)) break;
    if (k == sizeof words / sizeof words[0]) {
      snprintf(err, errlen, "--what: '%.*s' is not one of all, accuracy, tasks, pulses, energy", (int)len, p);
      return MT_ERR_INVAL;
    }
    m |= words[k].bit;
    if (!p[len]) break;
    p += len + 1;
  }
  *mask = m;
  return MT_OK;
}

/* What one log holds, for the script. */
typedef struct {
  const char *path;
  uint32_t epochs, n_tasks;
  int has_pulses, has_energy; /* some epoch programmed the device (not float training) */
  char task_name[MAX_TASKS][64];
} log_info;

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static int bad_line(const char *path, unsigned line, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad_line(const char *path, unsigned line, char *err, size_t errlen, const char *fmt, ...) {
  int n = snprintf(err, errlen, "%s:%u: ", path, line);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < errlen) vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return MT_ERR_FILE;
}

static int number(const cJSON *o, const char *key, const char *path, unsigned line, double *out,
                  char *err, size_t errlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v) return bad_line(path, line, err, errlen, "field '%s' is missing (not a memtile train log?)", key);
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
    return bad_line(path, line, err, errlen, "field '%s' is not a finite number", key);
  *out = v->valuedouble;
  return MT_OK;
}

/* Converts one log to d<k>.dat: epoch count, test accuracy (%), pulses, energy (uJ), then
 * the accuracy (%) of every task. */
static int convert_log(const char *path, FILE *dat, log_info *li, char *err, size_t errlen) {
  FILE *f = mt_open_regular(path, err, errlen);
  if (!f) return MT_ERR_IO; /* missing, or not a regular file: as every input */
  char *line = NULL;
  size_t cap = 0;
  unsigned lineno = 0;
  int rc = MT_OK;
  ssize_t len;
  li->path = path;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    if (line[strspn(line, " \t\r\n")] == 0) continue;
    if ((size_t)len > MAX_LINE) {
      rc = bad_line(path, lineno, err, errlen, "line longer than %u bytes", MAX_LINE);
      break;
    }
    cJSON *o = cJSON_Parse(line);
    if (!o || !cJSON_IsObject(o)) {
      cJSON_Delete(o);
      rc = bad_line(path, lineno, err, errlen, "not a JSON object");
      break;
    }
    double acc = 0, set = 0, reset = 0, energy = 0;
    if ((rc = number(o, "test_accuracy", path, lineno, &acc, err, errlen)) ||
        (rc = number(o, "set_pulses", path, lineno, &set, err, errlen)) ||
        (rc = number(o, "reset_pulses", path, lineno, &reset, err, errlen)) ||
        (rc = number(o, "energy_pj", path, lineno, &energy, err, errlen))) {
      cJSON_Delete(o);
      break;
    }
    if (acc < 0 || acc > 1) {
      cJSON_Delete(o);
      rc = bad_line(path, lineno, err, errlen, "test_accuracy %g is not in [0, 1]", acc);
      break;
    }
    li->epochs++;
    li->has_pulses |= set + reset > 0;
    li->has_energy |= energy > 0;
    /* Zero counts are missing points: the pulse and energy axes are logarithmic. */
    fprintf(dat, "%u %.6g ", li->epochs, 100 * acc);
    if (set + reset > 0) fprintf(dat, "%.9g ", set + reset);
    else fputs("nan ", dat);
    if (energy > 0) fprintf(dat, "%.9g", energy * 1e-6);
    else fputs("nan", dat);
    const cJSON *ta = cJSON_GetObjectItemCaseSensitive(o, "task_accuracy");
    if (ta) {
      int n = cJSON_GetArraySize(ta);
      if (!cJSON_IsArray(ta) || n < 1 || n > MAX_TASKS || (li->n_tasks && (uint32_t)n != li->n_tasks)) {
        cJSON_Delete(o);
        rc = bad_line(path, lineno, err, errlen, "field 'task_accuracy' is not an array of 1 to %d numbers "
                      "as long as on the lines before", MAX_TASKS);
        break;
      }
      li->n_tasks = (uint32_t)n;
      for (int k = 0; k < n; k++) {
        const cJSON *v = cJSON_GetArrayItem(ta, k);
        if (!cJSON_IsNumber(v)) {
          rc = bad_line(path, lineno, err, errlen, "task_accuracy[%d] is not a number", k);
          break;
        }
        fprintf(dat, " %.6g", 100 * v->valuedouble);
      }
      const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task");
      const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "task_name");
      if (!rc && cJSON_IsNumber(task) && cJSON_IsString(name) && task->valuedouble >= 1 && task->valuedouble <= n)
        snprintf(li->task_name[(int)task->valuedouble - 1], sizeof li->task_name[0], "%s", name->valuestring);
    } else if (li->n_tasks) {
      rc = bad_line(path, lineno, err, errlen, "field 'task_accuracy' is missing (the lines before have it)");
    }
    cJSON_Delete(o);
    if (rc) break;
    fputc('\n', dat);
  }
  if (!rc && ferror(f)) rc = bad_line(path, lineno, err, errlen, "read error");
  if (!rc && li->epochs == 0) {
    snprintf(err, errlen, "%s: no epochs (an empty log)", path);
    rc = MT_ERR_FILE;
  }
  free(line);
  fclose(f);
  return rc;
}

static void panel(FILE *gp, const char *title, const char *ylabel) {
  fputs("set title ", gp);
  gp_string(gp, title);
  fputs("\nunset xlabel\nset ylabel ", gp); /* the x label would sit under the key */
  gp_string(gp, ylabel);
  fputc('\n', gp);
}

/* One curve per log; for a counter panel (col 3 pulses, 4 energy) only the logs that
 * programmed the device, on a log axis, or a note when none did. */
static void curves(FILE *gp, const log_info *li, size_t n, unsigned col) {
  size_t shown = 0;
  for (size_t k = 0; k < n; k++)
    shown += col == 2 || (col == 3 ? li[k].has_pulses : li[k].has_energy);
  if (shown == 0) {
    fputs("set label 1 'no device programming in these logs (float training)' at graph 0.5, graph 0.5 center\n"
          "set yrange [0:1]\nunset key\nset format y ''\nplot 0 with lines lc rgb 'gray' notitle\n"
          "unset label 1\nset yrange [0:*]\nset key below horizontal\nset format y '%g'\n", gp);
    return;
  }
  if (col != 2) fputs("set logscale y\nset yrange [*:*]\n", gp);
  fputs("plot ", gp);
  int first = 1;
  /* Colours by log, so that a log left out of one panel keeps its colour in the others. */
  for (size_t k = 0; k < n; k++) {
    if (col == 3 && !li[k].has_pulses) continue;
    if (col == 4 && !li[k].has_energy) continue;
    fprintf(gp, "%s'd%zu.dat' using 1:%u with linespoints lw 2 pt 7 ps 0.8 lc %zu title ", first ? "" : ", \\\n     ",
            k, col, k + 1);
    gp_string(gp, base_name(li[k].path));
    first = 0;
  }
  fputc('\n', gp);
  if (col != 2) fputs("unset logscale y\nset yrange [0:*]\n", gp);
}

int mt_plot_logs(const char *const *logs, size_t n, uint32_t mask, const char *title, const char *png,
                 char *err, size_t errlen) {
  if (n == 0 || !png || (mask & MT_PLOT_ALL) == 0) {
    snprintf(err, errlen, "plot: need at least one log, an output file and a panel");
    return MT_ERR_INVAL;
  }
  log_info *li = calloc(n, sizeof *li);
  if (!li) {
    snprintf(err, errlen, "plot: out of memory");
    return MT_ERR_NOMEM;
  }
  workdir w = {{0}};
  int rc = work_open(&w, err, errlen);
  if (rc) {
    free(li);
    return rc;
  }
  uint32_t any_tasks = 0;
  for (size_t k = 0; k < n && !rc; k++) {
    char name[32], cerr[256];
    snprintf(name, sizeof name, "d%zu.dat", k);
    FILE *dat = work_file(&w, name, err, errlen);
    if (!dat) {
      rc = MT_ERR_IO;
      break;
    }
    rc = convert_log(logs[k], dat, &li[k], err, errlen);
    int crc = close_file(dat, name, cerr, sizeof cerr);
    if (!rc && crc) {
      snprintf(err, errlen, "%s", cerr);
      rc = crc;
    }
    any_tasks |= li[k].n_tasks > 0;
  }
  if (!rc && !any_tasks && mask == MT_PLOT_TASKS) {
    snprintf(err, errlen, "plot: --what tasks: no log has tasks (memtile train --tasks)");
    rc = MT_ERR_INVAL;
  }
  if (!any_tasks) mask &= ~(uint32_t)MT_PLOT_TASKS;
  FILE *gp = rc ? NULL : work_file(&w, "plot.gp", err, errlen);
  if (!rc && !gp) rc = MT_ERR_IO;
  if (!rc) {
    unsigned panels = 0;
    for (uint32_t b = mask; b; b &= b - 1) panels++;
    unsigned cols = panels == 1 ? 1 : 2, rows = (panels + 1) / 2;
    gp_begin(gp, cols, rows, title ? title : n == 1 ? base_name(logs[0]) : "memtile training runs");
    /* Whole epochs on the x axis; the key below each panel, clear of the curves. */
    uint32_t most = 0;
    for (size_t k = 0; k < n; k++) most = li[k].epochs > most ? li[k].epochs : most;
    /* A little room either side, so that a one-epoch run's point is not on the frame. */
    if (most <= 20) fprintf(gp, "set xtics 1\nset xrange [0.8:%.1f]\n", most + 0.2);
    fputs("set key below horizontal\nset yrange [0:*]\n", gp);
    if (mask & MT_PLOT_ACCURACY) {
      panel(gp, "test accuracy per epoch", "accuracy (%)");
      curves(gp, li, n, 2);
    }
    if (mask & MT_PLOT_TASKS) {
      panel(gp, "accuracy of every task after every epoch (epochs of all tasks in turn)", "accuracy (%)");
      fputs("plot ", gp);
      int first = 1;
      for (size_t k = 0; k < n; k++)
        for (uint32_t t = 0; t < li[k].n_tasks; t++) {
          char title[400];
          snprintf(title, sizeof title, "%s: task %u%s%s", base_name(li[k].path), t + 1,
                   li[k].task_name[t][0] ? " " : "", li[k].task_name[t]);
          fprintf(gp, "%s'd%zu.dat' using 1:%u with linespoints lw 2 pt %u ps 0.6 title ", first ? "" : ", \\\n     ",
                  k, 5 + t, 5 + t);
          gp_string(gp, title);
          first = 0;
        }
      fputc('\n', gp);
    }
    if (mask & MT_PLOT_PULSES) {
      panel(gp, "programming pulses per epoch (SET + RESET)", "pulses");
      fputs("set format y '%.1s%c'\n", gp);
      curves(gp, li, n, 3);
      fputs("set format y '%g'\n", gp);
    }
    if (mask & MT_PLOT_ENERGY) {
      panel(gp, "device energy per epoch", "energy (uJ)");
      curves(gp, li, n, 4);
    }
    fputs("unset multiplot\n", gp);
    rc = close_file(gp, "plot.gp", err, errlen);
    if (!rc) rc = run_gnuplot(&w, png, err, errlen);
  }
  work_close(&w, n);
  free(li);
  return rc;
}

/* ---- device characterization ---------------------------------------------- */

static int write_curve(const workdir *w, const char *name, uint32_t first, uint32_t n, const double *mean,
                       const double *sd, char *err, size_t errlen) {
  FILE *f = work_file(w, name, err, errlen);
  if (!f) return MT_ERR_IO;
  const double pct = 100.0 / 65535.0; /* g units to % of full scale */
  for (uint32_t k = 0; k <= n; k++)
    fprintf(f, "%u %.6g %.6g\n", first + k, mean[k] * pct, sd[k] * pct);
  return close_file(f, name, err, errlen);
}

/* Histogram of every level's achieved weights over their common range. */
static int write_hist(const workdir *w, const mt_plot_device *d, double *bin_width, char *err, size_t errlen) {
  size_t total = (size_t)d->levels * d->samples;
  double lo = d->achieved[0], hi = d->achieved[0];
  for (size_t k = 1; k < total; k++) {
    if (d->achieved[k] < lo) lo = d->achieved[k];
    if (d->achieved[k] > hi) hi = d->achieved[k];
  }
  if (hi <= lo) hi = lo + 1;
  const double width = (hi - lo) / HIST_BINS;
  *bin_width = width;
  uint32_t *count = calloc((size_t)HIST_BINS * d->levels, sizeof *count);
  if (!count) {
    snprintf(err, errlen, "plot: out of memory");
    return MT_ERR_NOMEM;
  }
  for (uint32_t q = 0; q < d->levels; q++)
    for (uint32_t i = 0; i < d->samples; i++) {
      long b = lround(floor((d->achieved[(size_t)q * d->samples + i] - lo) / width));
      if (b >= HIST_BINS) b = HIST_BINS - 1;
      if (b < 0) b = 0;
      count[(size_t)b * d->levels + q]++;
    }
  FILE *f = work_file(w, "hist.dat", err, errlen);
  if (!f) {
    free(count);
    return MT_ERR_IO;
  }
  /* Counts as a fraction of the level's cells; 'nan' where a level has none, so that each
   * level draws only its own peak. */
  for (uint32_t b = 0; b < HIST_BINS; b++) {
    fprintf(f, "%.6g", lo + (b + 0.5) * width);
    for (uint32_t q = 0; q < d->levels; q++) {
      uint32_t c = count[(size_t)b * d->levels + q];
      if (c) fprintf(f, " %.6g", (double)c / d->samples);
      else fputs(" nan", f);
    }
    fputc('\n', f);
  }
  free(count);
  return close_file(f, "hist.dat", err, errlen);
}

int mt_plot_characterization(const mt_plot_device *d, const char *png, char *err, size_t errlen) {
  if (!d || !png || d->pulses == 0 || d->levels < 2 || d->samples == 0 || !d->up_mean || !d->up_sd ||
      !d->down_mean || !d->down_sd || !d->target || !d->achieved) {
    snprintf(err, errlen, "plot: incomplete characterization");
    return MT_ERR_INVAL;
  }
  workdir w = {{0}};
  int rc = work_open(&w, err, errlen);
  if (rc) return rc;
  rc = write_curve(&w, "up.dat", 0, d->pulses, d->up_mean, d->up_sd, err, errlen);
  if (!rc) rc = write_curve(&w, "down.dat", d->pulses, d->pulses, d->down_mean, d->down_sd, err, errlen);
  double hist_width = 1;
  if (!rc) rc = write_hist(&w, d, &hist_width, err, errlen);
  FILE *gp = rc ? NULL : work_file(&w, "plot.gp", err, errlen);
  if (!rc && !gp) rc = MT_ERR_IO;
  if (!rc) {
    gp_begin(gp, 2, 1, d->title ? d->title : "device characterization");
    fprintf(gp, "set title 'pulse response of %u devices: mean and +-1 sigma'\n", d->cells);
    fputs("set xlabel 'pulse number (SET train, then RESET train)'\nset ylabel 'conductance (% of full scale)'\n"
          "set key bottom center\nset style fill transparent solid 0.25 noborder\n", gp);
    fprintf(gp, "set xrange [0:%u]\nset yrange [0:*]\n", 2 * d->pulses);
    fprintf(gp, "set arrow from %u, graph 0 to %u, graph 1 nohead dt 2\n", d->pulses, d->pulses);
    fputs("plot 'up.dat' using 1:($2-$3):($2+$3) with filledcurves lc rgb '#1f77b4' notitle, \\\n"
          "     'up.dat' using 1:2 with lines lw 2 lc rgb '#1f77b4' title 'SET (potentiation)', \\\n"
          "     'down.dat' using 1:($2-$3):($2+$3) with filledcurves lc rgb '#d62728' notitle, \\\n"
          "     'down.dat' using 1:2 with lines lw 2 lc rgb '#d62728' title 'RESET (depression)'\n"
          "unset arrow\n", gp);
    if (d->levels <= 8)
      fprintf(gp, "set title 'achieved weight per level: %u cells each, dashed = target'\n", d->samples);
    else /* no key for so many levels: the colours say which is which */
      fprintf(gp, "set title 'achieved weight per level: %u cells each, dashed = target; level 0 violet .. %u red'\n",
              d->samples, d->levels - 1);
    fputs("set xlabel 'weight G+ - G- (g units; full scale 65535)'\nset ylabel 'fraction of the level''s cells'\n"
          "set style fill transparent solid 0.5 noborder\nset xrange [*:*]\nset yrange [0:*]\n"
          "unset colorbox\nset palette rgbformulae 33,13,10\n", gp);
    fprintf(gp, "set boxwidth %.6g absolute\n", hist_width);
    for (uint32_t q = 0; q < d->levels; q++)
      fprintf(gp, "set arrow from %.6g, graph 0 to %.6g, graph 1 nohead dt 3 lc rgb 'gray40'\n", d->target[q],
              d->target[q]);
    fprintf(gp, "set key %s\n", d->levels <= 8 ? "top left" : "off");
    fprintf(gp, "plot for [q=0:%u] 'hist.dat' using 1:(column(q+2)) with boxes lc palette frac "
                "(q/%u.0) title sprintf('level %%d', q)\n", d->levels - 1, d->levels - 1);
    fputs("unset multiplot\n", gp);
    rc = close_file(gp, "plot.gp", err, errlen);
    if (!rc) rc = run_gnuplot(&w, png, err, errlen);
  }
  work_close(&w, 0);
  return rc;
}
