/* JSON-lines and CSV epoch logs. */
#define _POSIX_C_SOURCE 200809L
#include "mt_log.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TASK_NAME_LEN 256

struct mt_log {
  FILE *json, *csv;
  char json_path[4096], csv_path[4096];
  char err[4400];                        /* why the last call failed */
  int header_done;                       /* the CSV header is written before the first line */
  int swaps;                             /* the swap columns are in the CSV (tile swapping) */
  uint32_t n_tasks;                      /* 0: a single-dataset run, no task fields */
  int val;                               /* validation fields (mt_log_set_val) */
  int best;                              /* the best-epoch columns are in the CSV (--val) */
  uint32_t draws;                        /* draw columns (mt_log_set_draws; 0: none) */
  uint32_t drifts;                       /* drift columns (mt_log_set_drift; 0: none) */
  char optimizer[16];                    /* mt_log_set_optim: "" for the default (no fields) */
  uint32_t batchnorm;
  uint32_t bn_per_task; /* with batchnorm: 1 = a state per task, 0 = one shared */
  char task_names[MT_TRAIN_MAX_TASKS][TASK_NAME_LEN];
};

static const char *const columns =
    "epoch,algo,train_loss,train_accuracy,test_accuracy,set_pulses,reset_pulses,verify_reads,"
    "cell_reads,mvms,cells_programmed,updates_skipped,wv_failures,energy_pj,latency_ns,transactions,"
    "wall_s";

void mt_log_csv_path(const char *path, char *out, size_t outlen) {
  assert(outlen > 0);
  size_t n = strlen(path);
  if (n > 6 && strcmp(path + n - 6, ".jsonl") == 0)
    snprintf(out, outlen, "%.*s.csv", (int)(n - 6), path);
  else if (n > 5 && strcmp(path + n - 5, ".json") == 0)
    snprintf(out, outlen, "%.*s.csv", (int)(n - 5), path);
  else
    snprintf(out, outlen, "%s.csv", path);
}

/* Opens path for writing: truncated, or (append) positioned at its end and
 * readable, so that mt_log_resume can cut it back. */
static FILE *open_log(const char *path, int append) {
  int fd = open(path, O_RDWR | O_CREAT | (append ? 0 : O_TRUNC), 0644);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "r+");
  if (!f) {
    close(fd);
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return NULL;
  }
  return f;
}

int mt_log_open(mt_log **out, const char *path, int append, char *err, size_t errlen) {
  mt_log *log = calloc(1, sizeof *log);
  if (!log) {
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
  snprintf(log->json_path, sizeof log->json_path, "%s", path);
  mt_log_csv_path(path, log->csv_path, sizeof log->csv_path);
  log->json = open_log(path, append);
  if (!log->json) {
    snprintf(err, errlen, "%s: cannot write log: %s", path, strerror(errno));
    free(log);
    return -1;
  }
  log->csv = open_log(log->csv_path, append);
  if (!log->csv) {
    snprintf(err, errlen, "%s: cannot write log: %s", log->csv_path, strerror(errno));
    fclose(log->json);
    free(log);
    return -1;
  }
  *out = log;
  return 0;
}

const char *mt_log_errmsg(const mt_log *log) { return log->err; }

/* The epoch a log line is about: JSON {"epoch": N, ...; CSV N,...; 0 if none. */
static uint32_t line_epoch(const char *line, int json) {
  const char *p = line;
  if (json) {
    if (strncmp(p, "{\"epoch\": ", 10) != 0) return 0;
    p += 10;
  }
  char *end;
  unsigned long v = strtoul(p, &end, 10);
  return end != p && *end == ',' && v <= UINT32_MAX ? (uint32_t)v : 0;
}

/* Keeps the complete lines of f up to the first that is cut short (a write
 * that failed midway) or about an epoch after `epochs`, and cuts the file
 * there. The CSV's header line stays. */
static int cut_back(mt_log *log, FILE *f, const char *path, int json, uint32_t epochs) {
  if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) goto io_error;
  char line[16384];
  long keep = 0;
  int first = 1;
  while (fgets(line, sizeof line, f)) {
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n') break; /* cut short, or longer than any line we write */
    int header = !json && first && strncmp(line, "epoch,", 6) == 0;
    first = 0;
    uint32_t e = header ? 0 : line_epoch(line, json);
    if (!header && (e == 0 || e > epochs)) break;
    keep = ftell(f);
    if (keep < 0) goto io_error;
  }
  if (ferror(f)) goto io_error;
  if (fflush(f) != 0 || ftruncate(fileno(f), (off_t)keep) != 0 || fseek(f, 0, SEEK_END) != 0)
    goto io_error;
  return 0;
io_error:
  snprintf(log->err, sizeof log->err, "%s: %s", path, strerror(errno));
  return -1;
}

int mt_log_resume(mt_log *log, uint32_t epochs) {
  if (cut_back(log, log->json, log->json_path, 1, epochs) != 0) return -1;
  return cut_back(log, log->csv, log->csv_path, 0, epochs);
}

int mt_log_set_tasks(mt_log *log, uint32_t n_tasks, const char *const *names) {
  if (n_tasks > MT_TRAIN_MAX_TASKS) return -1;
  log->n_tasks = n_tasks;
  for (uint32_t k = 0; k < n_tasks; k++)
    snprintf(log->task_names[k], TASK_NAME_LEN, "%s", names[k]);
  return 0;
}

void mt_log_set_val(mt_log *log) { log->val = 1; }

void mt_log_set_draws(mt_log *log, uint32_t draws) { log->draws = draws; }

void mt_log_set_drift(mt_log *log, uint32_t n_times) { log->drifts = n_times; }

void mt_log_set_optim(mt_log *log, const char *optimizer, uint32_t batchnorm, uint32_t bn_per_task) {
  log->optimizer[0] = '\0';
  log->batchnorm = batchnorm;
  log->bn_per_task = bn_per_task;
  if (strcmp(optimizer, "sgd") != 0 || batchnorm)
    snprintf(log->optimizer, sizeof log->optimizer, "%s", optimizer);
}

static const char *bn_state(const mt_log *log) { return log->bn_per_task ? "per-task" : "shared"; }

/* The CSV header, into an empty file only (a resumed run appends). */
static void csv_header(mt_log *log, const mt_epoch_stats *s) {
  if (log->header_done) return;
  log->header_done = 1;
  log->swaps = s->has_swaps;
  log->best = s->has_best;
  if (ftell(log->csv) != 0) return;
  fputs(columns, log->csv);
  if (log->swaps) fputs(",swaps,swap_saves,swap_transactions,swap_bytes,swap_s", log->csv);
  if (log->n_tasks) {
    fputs(",task,task_name", log->csv);
    for (uint32_t k = 0; k < log->n_tasks; k++) fprintf(log->csv, ",task_accuracy_%u", k + 1);
  }
  if (log->val) {
    fputs(",val_accuracy", log->csv);
    for (uint32_t k = 0; k < log->n_tasks; k++) fprintf(log->csv, ",task_val_accuracy_%u", k + 1);
  }
  if (log->best) fputs(",best_epoch,best_val_accuracy,best_test_accuracy", log->csv);
  if (log->draws) {
    fputs(",draw_mean,draw_sd", log->csv);
    for (uint32_t k = 0; k < log->draws; k++) fprintf(log->csv, ",draw_accuracy_%u", k + 1);
  }
  if (log->optimizer[0]) fputs(",optimizer,batchnorm", log->csv);
  if (log->batchnorm) fputs(",batchnorm_state", log->csv);
  if (log->drifts) fputs(",drift_epoch", log->csv);
  for (uint32_t k = 0; k < log->drifts; k++) fprintf(log->csv, ",drift_t_%u,drift_accuracy_%u", k + 1, k + 1);
  fputc('\n', log->csv);
}

/* s as a JSON string body: quotes, backslashes and control characters escaped. */
static void json_string(FILE *f, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
}

/* CSV field: quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

int mt_log_epoch(mt_log *log, const char *algo, const mt_epoch_stats *s) {
  csv_header(log, s);
  fprintf(log->json,
          "{\"epoch\": %u, \"algo\": \"%s\", \"train_loss\": %.6g, \"train_accuracy\": %.6g, "
          "\"test_accuracy\": %.6g, \"set_pulses\": %llu, \"reset_pulses\": %llu, "
          "\"verify_reads\": %llu, \"cell_reads\": %llu, \"mvms\": %llu, "
          "\"cells_programmed\": %llu, \"updates_skipped\": %llu, \"wv_failures\": %llu, "
          "\"energy_pj\": %.6g, \"latency_ns\": %.6g, \"transactions\": %llu, ",
          s->epoch, algo, s->train_loss, s->train_accuracy, s->test_accuracy,
          (unsigned long long)s->set_pulses, (unsigned long long)s->reset_pulses,
          (unsigned long long)s->verify_reads, (unsigned long long)s->cell_reads,
          (unsigned long long)s->mvms, (unsigned long long)s->cells_programmed,
          (unsigned long long)s->updates_skipped, (unsigned long long)s->wv_failures,
          s->energy_pj, s->latency_ns, (unsigned long long)s->transactions);
  /* Only a simulated device (verilator://) has a clock to report. */
  if (s->has_sim_cycles) fprintf(log->json, "\"sim_cycles\": %llu, ", (unsigned long long)s->sim_cycles);
  if (s->has_sw_accuracy) fprintf(log->json, "\"sw_test_accuracy\": %.6g, ", s->sw_test_accuracy);
  /* Only a swapping device (--max-tiles) has swap traffic: emulator overhead, apart from the
   * device's counters above. */
  if (s->has_swaps)
    fprintf(log->json, "\"swaps\": %llu, \"swap_saves\": %llu, \"swap_transactions\": %llu, "
            "\"swap_bytes\": %llu, \"swap_s\": %.6g, ", (unsigned long long)s->swaps,
            (unsigned long long)s->swap_saves, (unsigned long long)s->swap_transactions,
            (unsigned long long)s->swap_bytes, s->swap_s);
  uint32_t task = s->task >= 1 && s->task <= log->n_tasks ? s->task : 1;
  if (log->n_tasks) {
    fprintf(log->json, "\"task\": %u, \"task_name\": \"", task);
    json_string(log->json, log->task_names[task - 1]);
    fputs("\", \"task_accuracy\": [", log->json);
    for (uint32_t k = 0; k < log->n_tasks; k++)
      fprintf(log->json, "%s%.6g", k ? ", " : "", k < s->n_tasks ? s->task_accuracy[k] : 0.0);
    fputs("], ", log->json);
  }
  if (log->val) {
    fprintf(log->json, "\"val_accuracy\": %.6g, ", s->val_accuracy);
    if (log->n_tasks) {
      fputs("\"task_val_accuracy\": [", log->json);
      for (uint32_t k = 0; k < log->n_tasks; k++)
        fprintf(log->json, "%s%.6g", k ? ", " : "", k < s->n_tasks ? s->task_val_accuracy[k] : 0.0);
      fputs("], ", log->json);
    }
  }
  if (s->has_best)
    fprintf(log->json, "\"best_epoch\": %u, \"best_val_accuracy\": %.6g, \"best_test_accuracy\": %.6g, ",
            s->best_epoch, s->best_val_accuracy, s->best_test_accuracy);
  if (s->n_draws) {
    fprintf(log->json, "\"draws\": %u, \"draw_accuracy\": [", s->n_draws);
    for (uint32_t k = 0; k < s->n_draws; k++)
      fprintf(log->json, "%s%.6g", k ? ", " : "", s->draw_accuracy[k]);
    fprintf(log->json, "], \"draw_mean\": %.6g, \"draw_sd\": %.6g, ", s->draw_mean, s->draw_sd);
  }
  if (s->n_drift) {
    fprintf(log->json, "\"drift_epoch\": %u, \"drift_eval\": [", s->drift_epoch);
    for (uint32_t k = 0; k < s->n_drift; k++)
      fprintf(log->json, "%s{\"drift_t\": %.10g, \"test_accuracy\": %.6g}", k ? ", " : "",
              s->drift_t[k], s->drift_accuracy[k]);
    fputs("], ", log->json);
  }
  if (log->optimizer[0])
    fprintf(log->json, "\"optimizer\": \"%s\", \"batchnorm\": %u, ", log->optimizer, log->batchnorm);
  if (log->batchnorm) fprintf(log->json, "\"batchnorm_state\": \"%s\", ", bn_state(log));
  fprintf(log->json, "\"wall_s\": %.6g}\n", s->wall_s);
  fprintf(log->csv, "%u,%s,%.6g,%.6g,%.6g,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.6g,%.6g,%llu,%.6g",
          s->epoch, algo, s->train_loss, s->train_accuracy, s->test_accuracy,
          (unsigned long long)s->set_pulses, (unsigned long long)s->reset_pulses,
          (unsigned long long)s->verify_reads, (unsigned long long)s->cell_reads,
          (unsigned long long)s->mvms, (unsigned long long)s->cells_programmed,
          (unsigned long long)s->updates_skipped, (unsigned long long)s->wv_failures,
          s->energy_pj, s->latency_ns, (unsigned long long)s->transactions, s->wall_s);
  if (log->swaps)
    fprintf(log->csv, ",%llu,%llu,%llu,%llu,%.6g", (unsigned long long)s->swaps,
            (unsigned long long)s->swap_saves, (unsigned long long)s->swap_transactions,
            (unsigned long long)s->swap_bytes, s->swap_s);
  if (log->n_tasks) {
    fprintf(log->csv, ",%u,", task);
    csv_field(log->csv, log->task_names[task - 1]);
    for (uint32_t k = 0; k < log->n_tasks; k++)
      fprintf(log->csv, ",%.6g", k < s->n_tasks ? s->task_accuracy[k] : 0.0);
  }
  if (log->val) {
    fprintf(log->csv, ",%.6g", s->val_accuracy);
    for (uint32_t k = 0; k < log->n_tasks; k++)
      fprintf(log->csv, ",%.6g", k < s->n_tasks ? s->task_val_accuracy[k] : 0.0);
  }
  if (log->best)
    fprintf(log->csv, ",%u,%.6g,%.6g", s->best_epoch, s->best_val_accuracy, s->best_test_accuracy);
  if (log->draws && s->n_draws) {
    fprintf(log->csv, ",%.6g,%.6g", s->draw_mean, s->draw_sd);
    for (uint32_t k = 0; k < log->draws; k++)
      fprintf(log->csv, ",%.6g", k < s->n_draws ? s->draw_accuracy[k] : 0.0);
  } else if (log->draws) {
    for (uint32_t k = 0; k < log->draws + 2; k++) fputc(',', log->csv);
  }
  if (log->optimizer[0]) fprintf(log->csv, ",%s,%u", log->optimizer, log->batchnorm);
  if (log->batchnorm) fprintf(log->csv, ",%s", bn_state(log));
  if (log->drifts && s->n_drift) {
    fprintf(log->csv, ",%u", s->drift_epoch);
    for (uint32_t k = 0; k < log->drifts; k++)
      if (k < s->n_drift) fprintf(log->csv, ",%.10g,%.6g", s->drift_t[k], s->drift_accuracy[k]);
      else fputs(",,", log->csv);
  } else if (log->drifts) {
    for (uint32_t k = 0; k < 2 * log->drifts + 1; k++) fputc(',', log->csv);
  }
  fputc('\n', log->csv);
  /* On disk before the epoch's checkpoint: a resume then finds every epoch it restores. */
  if (fflush(log->json) != 0 || fsync(fileno(log->json)) != 0) {
    snprintf(log->err, sizeof log->err, "%s: %s", log->json_path, strerror(errno));
    return -1;
  }
  if (fflush(log->csv) != 0 || fsync(fileno(log->csv)) != 0) {
    snprintf(log->err, sizeof log->err, "%s: %s", log->csv_path, strerror(errno));
    return -1;
  }
  return 0;
}

void mt_log_close(mt_log *log) {
  if (!log) return;
  fclose(log->json);
  fclose(log->csv);
  free(log);
}
