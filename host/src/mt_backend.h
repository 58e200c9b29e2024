/* The one interface every backend implements (the way libusb's os/ backends
 * sit behind its core): open from the part of the URI after "scheme://",
 * exchange command words for response words, close. */
#ifndef MT_BACKEND_H
#define MT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"

typedef struct mt_backend mt_backend;

typedef struct {
  const char *scheme;
  /* params: text after "scheme://". On failure returns an MT_ERR_* code and
   * writes a message to err. */
  int (*open)(const char *params, mt_backend **out, char *err, size_t errlen);
  /* Runs a buffer of commands; *n_rsp response words, *consumed command words. */
  int (*transact)(mt_backend *be, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                  uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, char *err,
                  size_t errlen);
  void (*close)(mt_backend *be);
  /* Simulated clock cycles since open; NULL for a backend without a simulated clock. */
  uint64_t (*cycles)(mt_backend *be);
  /* Statistics of the framed link under the backend; NULL or MT_ERR_NODEV without one. */
  int (*link_stats)(mt_backend *be, mt_link_stats *st);
} mt_backend_ops;

extern const mt_backend_ops mt_backend_model;
/* A device handle on a backend the caller opened (be is taken over: mt_dev_close closes it, as
 * does a failure here); uri names it in messages. mt_dev_open does this for the schemes of its
 * table; tests/host/test_link.c for a link over a fake transport. */
int mt_dev_open_backend(const mt_backend_ops *ops, mt_backend *be, const char *uri, mt_dev **out);
/* usb://: the link layer over libusb (mt_backend_usb.c). */
extern const mt_backend_ops mt_backend_usb;
/* Defined only in programs linked with the Verilated device (mt_backend_verilator.c); a weak
 * reference elsewhere, so that mt_dev.c can tell "not part of this build". */
extern const mt_backend_ops mt_backend_verilator __attribute__((weak));
/* Likewise for programs linked with XRT (mt_backend_xrt.c, -lxrt_coreutil). */
extern const mt_backend_ops mt_backend_xrt __attribute__((weak));

#endif
