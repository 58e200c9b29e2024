/* Simulated USB transport (mt_transport_usbsim.h). */
#include "mt_transport_usbsim.h"

#include <stdio.h>
#include <stdlib.h>

#include "memtile.h"

/* FT601 clocks per look at the core: enough for the FIFOs between the pins and the frame
 * engine (32 words each way) and a held TXE_N to drain, so that two idle looks in a row mean
 * that nothing is on its way. */
#define WINDOW 512u
#define FT_PER_MS 100000u /* the FT601's 100 MHz */

typedef struct {
  mt_transport base;
  mt_usbsim *s;
} usbsim_tp;

static int us_send(mt_transport *t, const uint8_t *buf, size_t n, char *err, size_t errlen) {
  char why[256] = "";
  if (mt_usbsim_write(((usbsim_tp *)t)->s, buf, n, why, sizeof why) != 0) {
    snprintf(err, errlen, "FT601 model: %s", why);
    return MT_ERR_IO;
  }
  return MT_OK;
}

static int us_recv(mt_transport *t, uint8_t *buf, size_t cap, unsigned timeout_ms, size_t *got,
                   char *err, size_t errlen) {
  mt_usbsim *s = ((usbsim_tp *)t)->s;
  const uint64_t limit = (uint64_t)timeout_ms * FT_PER_MS;
  int idle_looks = 0;
  for (uint64_t waited = 0; waited < limit; waited += WINDOW) {
    char why[256] = "";
    long n = mt_usbsim_read(s, buf, cap, WINDOW, why, sizeof why);
    if (n < 0) {
      snprintf(err, errlen, "FT601 model: %s", why);
      return MT_ERR_IO;
    }
    if (n > 0) {
      *got = (size_t)n;
      return MT_OK;
    }
    idle_looks = mt_usbsim_idle(s) ? idle_looks + 1 : 0;
    if (idle_looks == 2) break;
  }
  return MT_ERR_TIMEOUT;
}

static void us_close(mt_transport *t) {
  usbsim_tp *u = (usbsim_tp *)t;
  mt_usbsim_close(u->s);
  free(u);
}

static const mt_transport_ops usbsim_ops = {us_send, us_recv, us_close};

int mt_transport_usbsim_open(const char *trace, mt_transport **out, mt_usbsim **sim, char *err,
                             size_t errlen) {
  usbsim_tp *u = calloc(1, sizeof *u);
  if (!u) {
    snprintf(err, errlen, "out of memory");
    return MT_ERR_NOMEM;
  }
  char why[256] = "";
  u->s = mt_usbsim_open(trace, why, sizeof why);
  if (!u->s) {
    snprintf(err, errlen, "FT601 model: %s", why);
    free(u);
    return MT_ERR_IO;
  }
  u->base.ops = &usbsim_ops;
  *out = &u->base;
  *sim = u->s;
  return MT_OK;
}
