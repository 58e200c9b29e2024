/* libmemtile: figures as PNG through gnuplot (docs/plots.md): learning curves of training logs and a
 * device's characterization. The data go to a private temporary directory, gnuplot (the
 * program named by $MEMTILE_GNUPLOT, else "gnuplot" on PATH) draws them with its pngcairo
 * terminal, and the PNG is checked (signature, IHDR) before it replaces the output file
 * atomically. Every function returns MT_OK or a negative MT_ERR_* code with a message in
 * err: MT_ERR_FILE for a bad log (naming file:line and field), MT_ERR_NODEV when gnuplot
 * cannot be run, MT_ERR_IO when it fails or writes no valid PNG, MT_ERR_INVAL for bad
 * arguments. */
#ifndef MEMTILE_PLOT_H
#define MEMTILE_PLOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#ifdef __cplusplus
}
#endif
#endif

/* What `memtile plot` draws: the panels of one figure. */
enum {
  MT_PLOT_ACCURACY = 1u << 0, /* test accuracy per epoch */
  MT_PLOT_TASKS = 1u << 1,    /* accuracy of every task after every epoch (--tasks runs) */
  MT_PLOT_PULSES = 1u << 2,   /* SET + RESET pulses per epoch */
  MT_PLOT_ENERGY = 1u << 3,   /* programming energy per epoch */
  MT_PLOT_ALL = 0xFu,
};

/* Parses a comma-separated --what list ("all", "accuracy", "tasks", "pulses", "energy")
 * into *mask. MT_OK or MT_ERR_INVAL naming the bad word. */
int mt_plot_parse_what(const char *text, uint32_t *mask, char *err, size_t errlen);

/* One figure of n training logs (the JSON lines of `memtile train --log`), one curve per
 * log, titled by the file name, the figure by title (NULL: the log's name, or a generic
 * title for several); panels as in mask (MT_PLOT_TASKS is left out when no log
 * has tasks, unless it is the only panel asked for, which is then an error). MT_OK, or
 * MT_ERR_IO (a log that cannot be opened, gnuplot failing), MT_ERR_FILE (a log line refused,
 * an empty log), MT_ERR_NODEV (no gnuplot), MT_ERR_INVAL, MT_ERR_NOMEM, with a message in err. */
int mt_plot_logs(const char *const *logs, size_t n, uint32_t mask, const char *title, const char *png,
                 char *err, size_t errlen);

/* A device's characterization: the pulse response of `cells` devices to `pulses` SET
 * pulses then as many RESET pulses (mean and standard deviation over the devices after
 * every pulse, g units), and the achieved weight (g units) of `samples` cells programmed to
 * each of `levels` levels. */
typedef struct {
  const char *title;
  uint32_t cells, pulses;
  const double *up_mean, *up_sd;     /* pulses + 1 values: before the first pulse, after each */
  const double *down_mean, *down_sd; /* pulses + 1 values, starting where the SET train ended */
  uint32_t levels, samples;
  const double *target;              /* levels targets */
  const float *achieved;             /* levels * samples values, level-major */
} mt_plot_device;

int mt_plot_characterization(const mt_plot_device *d, const char *png, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
