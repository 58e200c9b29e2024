/* Pulse response of a device's cells (memtile characterize --plot, docs/plots.md). */
#ifndef MT_RESPCURVE_H
#define MT_RESPCURVE_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"

/* Fabricates tile `tile` anew from seed, then sends `pulses` single SET pulses to the G+
 * device of each of the first `cells` cells (row-major; at most a tile) and as many RESET
 * pulses after them, reading every device noise-free (probe) before the first pulse and
 * after each. up_* and down_* receive pulses + 1 values (g units): the mean over the cells
 * and the standard deviation (device-to-device and cycle-to-cycle spread); down_*[0] is the
 * state the SET train ended in. The device must be configured (mt_preset_apply). MT_OK, or
 * an MT_ERR_* code with the message in err. */
int mt_pulse_response(mt_dev *dev, uint32_t tile, uint64_t seed, uint32_t cells, uint32_t pulses,
                      double *up_mean, double *up_sd, double *down_mean, double *down_sd, char *err,
                      size_t errlen);

#endif
