/* JSON-lines and CSV epoch logs. */
#include "mt_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASK_NAME_LEN 256

struct mt_log {
  FILE *json, *csv;
  int header_done;                       /* the CSV header is written before the first line */
  uint32_t n_tasks;                      /* 0: a single-dataset run, no task fields */
  char task_names[MT_TRAIN_MAX_TASKS][TASK_NAME_LEN];
};

static const char *const columns =
    "epoch,algo,train_loss,train_accuracy,test_accuracy,set_pulses,reset_pulses,verify_reads,"
    "cell_reads,mvms,cells_programmed,updates_skipped,wv_failures,energy_pj,latency_ns,wall_s";

void mt_log_csv_path(const char *path, char *out, size_t outlen) {
  size_t n = strlen(path);
  if (n > 6 && strcmp(path + n - 6, ".jsonl") == 0)
    snprintf(out, outlen, "%.*s.csv", (int)(n - 6), path);
  else if (n > 5 && strcmp(path + n - 5, ".json") == 0)
    snprintf(out, outlen, "%.*s.csv", (int)(n - 5), path);
  else
    snprintf(out, outlen, "%s.csv", path);
}

int mt_log_open(mt_log **out, const char *path, int append, char *err, size_t errlen) {
  char csv[4096];
  mt_log_csv_path(path, csv, sizeof csv);
  mt_log *log = calloc(1, sizeof *log);
  if (!log) {
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
  const char *mode = append ? "a" : "w";
  log->json = fopen(path, mode);
  if (!log->json) {
    snprintf(err, errlen, "%s: cannot write log: %s", path, strerror(errno));
    free(log);
    return -1;
  }
  log->csv = fopen(csv, mode);
  if (!log->csv) {
    snprintf(err, errlen, "%s: cannot write log: %s", csv, strerror(errno));
    fclose(log->json);
    free(log);
    return -1;
  }
  *out = log;
  return 0;
}

int mt_log_set_tasks(mt_log *log, uint32_t n_tasks, const char *const *names) {
  if (n_tasks > MT_TRAIN_MAX_TASKS) return -1;
  log->n_tasks = n_tasks;
  for (uint32_t k = 0; k < n_tasks; k++)
    snprintf(log->task_names[k], TASK_NAME_LEN, "%s", names[k]);
  return 0;
}

/* The CSV header, into an empty file only (a resumed run appends). */
static void csv_header(mt_log *log) {
  if (log->header_done) return;
  log->header_done = 1;
  if (ftell(log->csv) != 0) return;
  fputs(columns, log->csv);
  if (log->n_tasks) {
    fputs(",task,task_name", log->csv);
    for (uint32_t k = 0; k < log->n_tasks; k++) fprintf(log->csv, ",task_accuracy_%u", k + 1);
  }
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
  csv_header(log);
  fprintf(log->json,
          "{\"epoch\": %u, \"algo\": \"%s\", \"train_loss\": %.6g, \"train_accuracy\": %.6g, "
          "\"test_accuracy\": %.6g, \"set_pulses\": %llu, \"reset_pulses\": %llu, "
          "\"verify_reads\": %llu, \"cell_reads\": %llu, \"mvms\": %llu, "
          "\"cells_programmed\": %llu, \"updates_skipped\": %llu, \"wv_failures\": %llu, "
          "\"energy_pj\": %.6g, \"latency_ns\": %.6g, ",
          s->epoch, algo, s->train_loss, s->train_accuracy, s->test_accuracy,
          (unsigned long long)s->set_pulses, (unsigned long long)s->reset_pulses,
          (unsigned long long)s->verify_reads, (unsigned long long)s->cell_reads,
          (unsigned long long)s->mvms, (unsigned long long)s->cells_programmed,
          (unsigned long long)s->updates_skipped, (unsigned long long)s->wv_failures,
          s->energy_pj, s->latency_ns);
  /* Only a simulated device (verilator://) has a clock to report. */
  if (s->has_sim_cycles) fprintf(log->json, "\"sim_cycles\": %llu, ", (unsigned long long)s->sim_cycles);
  if (s->has_sw_accuracy) fprintf(log->json, "\"sw_test_accuracy\": %.6g, ", s->sw_test_accuracy);
  uint32_t task = s->task >= 1 && s->task <= log->n_tasks ? s->task : 1;
  if (log->n_tasks) {
    fprintf(log->json, "\"task\": %u, \"task_name\": \"", task);
    json_string(log->json, log->task_names[task - 1]);
    fputs("\", \"task_accuracy\": [", log->json);
    for (uint32_t k = 0; k < log->n_tasks; k++)
      fprintf(log->json, "%s%.6g", k ? ", " : "", k < s->n_tasks ? s->task_accuracy[k] : 0.0);
    fputs("], ", log->json);
  }
  fprintf(log->json, "\"wall_s\": %.6g}\n", s->wall_s);
  fprintf(log->csv, "%u,%s,%.6g,%.6g,%.6g,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.6g,%.6g,%.6g",
          s->epoch, algo, s->train_loss, s->train_accuracy, s->test_accuracy,
          (unsigned long long)s->set_pulses, (unsigned long long)s->reset_pulses,
          (unsigned long long)s->verify_reads, (unsigned long long)s->cell_reads,
          (unsigned long long)s->mvms, (unsigned long long)s->cells_programmed,
          (unsigned long long)s->updates_skipped, (unsigned long long)s->wv_failures,
          s->energy_pj, s->latency_ns, s->wall_s);
  if (log->n_tasks) {
    fprintf(log->csv, ",%u,", task);
    csv_field(log->csv, log->task_names[task - 1]);
    for (uint32_t k = 0; k < log->n_tasks; k++)
      fprintf(log->csv, ",%.6g", k < s->n_tasks ? s->task_accuracy[k] : 0.0);
  }
  fputc('\n', log->csv);
  int bad = fflush(log->json) != 0 || fflush(log->csv) != 0;
  return bad ? -1 : 0;
}

void mt_log_close(mt_log *log) {
  if (!log) return;
  fclose(log->json);
  fclose(log->csv);
  free(log);
}
