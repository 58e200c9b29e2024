/* FT601 transport over libusb (mt_transport_usb.h). Synchronous bulk transfers: a frame goes
 * out in one call; a receive first tells the chip how many bytes the host wants (a session
 * "read request" on pipe 0x01), then reads whole 1024-byte packets from pipe 0x82 into its
 * own buffer, so a transfer can never overflow (research/fpga.md 4.4). */
#include "mt_transport_usb.h"

#include <errno.h>
#include <libusb-1.0/libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtile.h"

#define EP_SESSION 0x01
#define EP_OUT 0x02
#define EP_IN 0x82
#define SESSION_READ 1u  /* "the host wants N bytes from pipe P" */
#define SESSION_FLUSH 3u /* drop what the pipe holds */
#define IN_BYTES 16384u  /* a multiple of the SuperSpeed packet, 1024 bytes */
#define SEND_TIMEOUT_MS 1000u

typedef struct {
  mt_transport base;
  libusb_context *ctx;
  libusb_device_handle *h;
  int claimed[2];
  char where[64];
  uint32_t session_no;
  uint8_t in[IN_BYTES];
  size_t in_off, in_n;
} usb_tp;

/* An MT_ERR_* code and a message for a libusb error. */
static int usb_fail(usb_tp *u, int e, const char *what, char *err, size_t errlen) {
  const char *hint = "";
  int code = MT_ERR_IO;
  if (e == LIBUSB_ERROR_NO_DEVICE) {
    hint = " (the device was unplugged)";
    code = MT_ERR_NODEV;
  } else if (e == LIBUSB_ERROR_ACCESS) {
    hint = " (no permission: install the udev rule of docs/boards.md)";
  } else if (e == LIBUSB_ERROR_BUSY) {
    hint = " (another program has claimed the interface)";
  } else if (e == LIBUSB_ERROR_TIMEOUT) {
    code = MT_ERR_TIMEOUT;
  }
  snprintf(err, errlen, "usb://%s: %s: %s%s", u->where, what, libusb_strerror((enum libusb_error)e),
           hint);
  return code;
}

static int session(usb_tp *u, uint8_t cmd, uint8_t pipe, uint32_t len, char *err, size_t errlen) {
  uint8_t req[20] = {0};
  uint32_t no = u->session_no++;
  for (int k = 0; k < 4; k++) {
    req[k] = (uint8_t)(no >> (8 * k));
    req[8 + k] = (uint8_t)(len >> (8 * k));
  }
  req[4] = pipe;
  req[5] = cmd;
  int done = 0;
  int e = libusb_bulk_transfer(u->h, EP_SESSION, req, sizeof req, &done, SEND_TIMEOUT_MS);
  if (e == 0 && done != (int)sizeof req) e = LIBUSB_ERROR_IO;
  return e ? usb_fail(u, e, "FT60x session request", err, errlen) : MT_OK;
}

static int usb_send(mt_transport *t, const uint8_t *buf, size_t n, char *err, size_t errlen) {
  usb_tp *u = (usb_tp *)t;
  while (n > 0) {
    int chunk = n > (1u << 20) ? 1 << 20 : (int)n, done = 0;
    int e = libusb_bulk_transfer(u->h, EP_OUT, (uint8_t *)buf, chunk, &done, SEND_TIMEOUT_MS);
    /* A timeout may still have moved part of the data (libusb keeps count). */
    if (e != 0 && !(e == LIBUSB_ERROR_TIMEOUT && done > 0))
      return usb_fail(u, e, "bulk OUT (pipe 0x02)", err, errlen);
    buf += done;
    n -= (size_t)done;
  }
  return MT_OK;
}

static int usb_recv(mt_transport *t, uint8_t *buf, size_t cap, unsigned timeout_ms, size_t *got,
                    char *err, size_t errlen) {
  usb_tp *u = (usb_tp *)t;
  if (u->in_off == u->in_n) {
    u->in_off = u->in_n = 0;
    int rc = session(u, SESSION_READ, EP_IN, IN_BYTES, err, errlen);
    if (rc != MT_OK) return rc;
    int done = 0;
    int e = libusb_bulk_transfer(u->h, EP_IN, u->in, IN_BYTES, &done, timeout_ms);
    if (done > 0) e = 0; /* data that came before a timeout still counts */
    if (e) return usb_fail(u, e, "bulk IN (pipe 0x82)", err, errlen);
    u->in_n = (size_t)done;
    if (done == 0) {
      snprintf(err, errlen, "usb://%s: no data within %u ms", u->where, timeout_ms);
      return MT_ERR_TIMEOUT;
    }
  }
  size_t n = u->in_n - u->in_off < cap ? u->in_n - u->in_off : cap;
  memcpy(buf, u->in + u->in_off, n);
  u->in_off += n;
  *got = n;
  return MT_OK;
}

static void usb_close(mt_transport *t) {
  usb_tp *u = (usb_tp *)t;
  for (int i = 1; i >= 0; i--)
    if (u->claimed[i]) libusb_release_interface(u->h, i);
  if (u->h) libusb_close(u->h);
  if (u->ctx) libusb_exit(u->ctx);
  free(u);
}

static const mt_transport_ops usb_ops = {usb_send, usb_recv, usb_close};

/* "VID:PID" in hex or "BUS/ADDR" in decimal. */
static int parse_where(const char *w, int *by_id, unsigned *a, unsigned *b) {
  char sep = 0, extra = 0;
  if (sscanf(w, "%4x:%4x%c", a, b, &extra) == 2 && strchr(w, ':')) {
    *by_id = 1;
    return 0;
  }
  if (sscanf(w, "%3u%c%3u%c", a, &sep, b, &extra) == 3 && sep == '/' && *a <= 255 && *b <= 127) {
    *by_id = 0;
    return 0;
  }
  return -1;
}

int mt_transport_usb_open(const char *where, mt_transport **out, char *err, size_t errlen) {
  int by_id = 0;
  unsigned a = 0, b = 0;
  if (parse_where(where, &by_id, &a, &b) != 0) {
    snprintf(err, errlen, "usb://%s: expected usb://VID:PID (hex, e.g. usb://0403:601f) or "
             "usb://BUS/ADDR (decimal, as lsusb prints them)", where);
    return MT_ERR_INVAL;
  }
  usb_tp *u = calloc(1, sizeof *u);
  if (!u) {
    snprintf(err, errlen, "usb://%s: out of memory", where);
    return MT_ERR_NOMEM;
  }
  u->base.ops = &usb_ops;
  snprintf(u->where, sizeof u->where, "%s", where);
  int e = libusb_init(&u->ctx);
  if (e) {
    int rc = usb_fail(u, e, "libusb_init", err, errlen);
    u->ctx = NULL;
    usb_close(&u->base);
    return rc;
  }
  libusb_device **list = NULL;
  ssize_t n = libusb_get_device_list(u->ctx, &list);
  libusb_device *found = NULL;
  for (ssize_t i = 0; i < n && !found; i++) {
    struct libusb_device_descriptor d;
    if (by_id) {
      if (libusb_get_device_descriptor(list[i], &d) == 0 && d.idVendor == a && d.idProduct == b)
        found = list[i];
    } else if (libusb_get_bus_number(list[i]) == a && libusb_get_device_address(list[i]) == b) {
      found = list[i];
    }
  }
  e = found ? libusb_open(found, &u->h) : 0;
  if (list) libusb_free_device_list(list, 1);
  if (!found) {
    snprintf(err, errlen, "usb://%s: no such USB device attached (%zd devices seen; is the "
             "board's FT601 plugged in and powered? see docs/boards.md)", where, n < 0 ? 0 : n);
    usb_close(&u->base);
    return MT_ERR_NODEV;
  }
  int rc = e ? usb_fail(u, e, "open", err, errlen) : MT_OK;
  for (int i = 0; rc == MT_OK && i < 2; i++) {
    if (libusb_kernel_driver_active(u->h, i) == 1) libusb_detach_kernel_driver(u->h, i);
    e = libusb_claim_interface(u->h, i);
    if (e) rc = usb_fail(u, e, i ? "claim interface 1" : "claim interface 0", err, errlen);
    else u->claimed[i] = 1;
  }
  /* Whatever an earlier session left in the IN pipe is not ours. */
  if (rc == MT_OK) rc = session(u, SESSION_FLUSH, EP_IN, 0, err, errlen);
  if (rc != MT_OK) {
    usb_close(&u->base);
    return rc;
  }
  *out = &u->base;
  return MT_OK;
}
