/* usb://: the device on an FPGA board behind an FT601 (docs/boards.md): the link layer
 * (mt_link.c) over the libusb transport (mt_transport_usb.c). "usb://VID:PID" or
 * "usb://BUS/ADDR", optionally "?timeout=MS" (the wait per try, default MT_FRAME_TIMEOUT_MS). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memtile.h"
#include "mt_backend.h"
#include "mt_link.h"
#include "mt_protocol.h"
#include "mt_transport_usb.h"

struct mt_backend {
  mt_link *link;
};

static int ub_open(const char *params, mt_backend **out, char *err, size_t errlen) {
  char where[128], uri[160];
  unsigned timeout = MT_FRAME_TIMEOUT_MS;
  const char *q = strchr(params, '?');
  size_t wl = q ? (size_t)(q - params) : strlen(params);
  if (wl >= sizeof where) {
    snprintf(err, errlen, "usb://%s: device part too long", params);
    return MT_ERR_INVAL;
  }
  memcpy(where, params, wl);
  where[wl] = '\0';
  snprintf(uri, sizeof uri, "usb://%s", where);
  if (q) {
    char *end = NULL;
    errno = 0;
    unsigned long v = strncmp(q, "?timeout=", 9) ? 0 : strtoul(q + 9, &end, 10);
    if (!end || *end || errno || q[9] == '-' || v < 1 || v > 600000) {
      snprintf(err, errlen, "%s: unknown parameter '%s' (expected ?timeout=MS, 1..600000)", uri,
               q + 1);
      return MT_ERR_INVAL;
    }
    timeout = (unsigned)v;
  }
  mt_transport *t = NULL;
  int rc = mt_transport_usb_open(where, &t, err, errlen);
  if (rc != MT_OK) return rc;
  mt_backend *be = calloc(1, sizeof *be);
  if (!be) {
    t->ops->close(t);
    snprintf(err, errlen, "%s: out of memory", uri);
    return MT_ERR_NOMEM;
  }
  /* A fresh seq, so that an answer left from an earlier session is not taken for ours. */
  uint16_t seq0 = (uint16_t)(time(NULL) ^ (getpid() << 4));
  rc = mt_link_open(t, uri, seq0, timeout, &be->link, err, errlen);
  if (rc != MT_OK) {
    free(be);
    return rc;
  }
  *out = be;
  return MT_OK;
}

static int ub_transact(mt_backend *be, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                       uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, char *err,
                       size_t errlen) {
  return mt_link_transact(be->link, cmd, n_cmd, rsp, rsp_cap, n_rsp, consumed, err, errlen);
}

static void ub_close(mt_backend *be) {
  if (!be) return;
  mt_link_close(be->link);
  free(be);
}

static int ub_link_stats(mt_backend *be, mt_link_stats *st) {
  mt_link_get_stats(be->link, st);
  return MT_OK;
}

const mt_backend_ops mt_backend_usb = {"usb", ub_open, ub_transact, ub_close, NULL, ub_link_stats};
