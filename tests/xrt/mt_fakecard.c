/* The interposed XRT calls of mt_fakecard.h. Test code: one card per (child) process, so its
 * state is global. */
#define _GNU_SOURCE
#include "mt_fakecard.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "mt_xrt.h"

typedef struct {
  xrtBufferHandle bo;
  size_t size;
  uint8_t *host;   /* the mapping the backend writes and reads */
  uint32_t *dev;   /* the card's copy, what the kernel sees */
} fc_buf;

static struct {
  int enabled;
  int fail, fail_after;
  fc_buf buf[2]; /* in allocation order: the command buffer, then the response buffer */
  uint32_t n_bufs;
  xrtBufferHandle arg_bo[2];
  uint32_t scalar[MT_XRT_ARG_COUNT];
  fc_log log;
} card;

void mt_fakecard_enable(void) { card.enabled = 1; }

void mt_fakecard_fail(int what, uint32_t after) {
  card.fail = what;
  card.fail_after = (int)after;
}

const fc_log *mt_fakecard_log(void) { return &card.log; }

/* Whether call `what` fails now. */
static int failing(int what) {
  if (card.fail != what) return 0;
  if (card.fail_after > 0) {
    card.fail_after--;
    return 0;
  }
  return 1;
}

static void *real(const char *name) {
  void *f = dlsym(RTLD_NEXT, name);
  if (!f) {
    fprintf(stderr, "mt_fakecard: %s not found in XRT\n", name);
    abort();
  }
  return f;
}

static fc_buf *find(xrtBufferHandle bo) {
  for (uint32_t i = 0; i < card.n_bufs; i++)
    if (card.buf[i].bo == bo) return &card.buf[i];
  return NULL;
}

xrtBufferHandle xrtBOAlloc(xrtDeviceHandle dhdl, size_t size, xrtBufferFlags flags,
                           xrtMemoryGroup grp) {
  if (failing(FC_FAIL_ALLOC)) return NULL;
  xrtBufferHandle (*f)(xrtDeviceHandle, size_t, xrtBufferFlags, xrtMemoryGroup) =
      (xrtBufferHandle(*)(xrtDeviceHandle, size_t, xrtBufferFlags, xrtMemoryGroup))real("xrtBOAlloc");
  xrtBufferHandle bo = f(dhdl, size, flags, grp);
  if (bo) card.log.n_allocs++;
  if (bo && card.n_bufs < 2) {
    fc_buf *b = &card.buf[card.n_bufs++];
    b->bo = bo;
    b->size = size;
    b->dev = calloc(1, size);
  }
  return bo;
}

void *xrtBOMap(xrtBufferHandle bhdl) {
  void *(*f)(xrtBufferHandle) = (void *(*)(xrtBufferHandle))real("xrtBOMap");
  void *p = f(bhdl);
  fc_buf *b = find(bhdl);
  if (b) b->host = p;
  return p;
}

int xrtBOFree(xrtBufferHandle bhdl) {
  int (*f)(xrtBufferHandle) = (int (*)(xrtBufferHandle))real("xrtBOFree");
  fc_buf *b = find(bhdl);
  if (b) {
    free(b->dev);
    *b = card.buf[--card.n_bufs];
  }
  return f(bhdl);
}

int xrtBOSync(xrtBufferHandle bhdl, enum xclBOSyncDirection dir, size_t size, size_t offset) {
  int to = dir == XCL_BO_SYNC_BO_TO_DEVICE;
  if (failing(to ? FC_FAIL_SYNC_TO : FC_FAIL_SYNC_FROM)) return -1;
  int (*f)(xrtBufferHandle, enum xclBOSyncDirection, size_t, size_t) =
      (int (*)(xrtBufferHandle, enum xclBOSyncDirection, size_t, size_t))real("xrtBOSync");
  int rc = f(bhdl, dir, size, offset);
  fc_buf *b = find(bhdl);
  if (rc == 0 && b && b->host && offset <= b->size && size <= b->size - offset) {
    if (to)
      memcpy((uint8_t *)b->dev + offset, b->host + offset, size);
    else
      memcpy(b->host + offset, (uint8_t *)b->dev + offset, size);
    if (card.log.n_syncs < FC_MAX_LOG)
      card.log.syncs[card.log.n_syncs++] = (fc_sync){bhdl == card.arg_bo[1], to, size, offset};
  }
  return rc;
}

int xrtDeviceGetXclbinUUID(xrtDeviceHandle dhdl, xuid_t out) {
  if (failing(FC_FAIL_UUID)) return -1;
  int (*f)(xrtDeviceHandle, xuid_t) = (int (*)(xrtDeviceHandle, xuid_t))real("xrtDeviceGetXclbinUUID");
  return f(dhdl, out);
}

int xrtRunSetArg(xrtRunHandle rhdl, int index, ...) {
  if (failing(FC_FAIL_SETARG)) return -1;
  int (*f)(xrtRunHandle, int, ...) = (int (*)(xrtRunHandle, int, ...))real("xrtRunSetArg");
  va_list ap;
  va_start(ap, index);
  int rc;
  if (index == MT_XRT_ARG_CMD || index == MT_XRT_ARG_RSP) {
    xrtBufferHandle bo = va_arg(ap, xrtBufferHandle);
    card.arg_bo[index] = bo;
    rc = f(rhdl, index, bo);
  } else {
    unsigned v = va_arg(ap, unsigned);
    if (index >= 0 && index < MT_XRT_ARG_COUNT) card.scalar[index] = v;
    rc = f(rhdl, index, v);
  }
  va_end(ap);
  return rc;
}

int xrtRunStart(xrtRunHandle rhdl) {
  if (failing(FC_FAIL_START)) return -1;
  int (*f)(xrtRunHandle) = (int (*)(xrtRunHandle))real("xrtRunStart");
  int rc = f(rhdl);
  if (rc != 0) return rc;
  const uint32_t *s = card.scalar;
  if (card.log.n_launches < FC_MAX_LOG)
    card.log.launches[card.log.n_launches++] =
        (fc_launch){s[MT_XRT_ARG_N_CMD], s[MT_XRT_ARG_RSP_CAP], s[MT_XRT_ARG_N_TILES],
                    s[MT_XRT_ARG_CTRL]};
  fc_buf *c = find(card.arg_bo[MT_XRT_ARG_CMD]), *r = find(card.arg_bo[MT_XRT_ARG_RSP]);
  if (card.enabled && c && r)
    mt_top(c->dev, r->dev, s[MT_XRT_ARG_N_CMD], s[MT_XRT_ARG_RSP_CAP], s[MT_XRT_ARG_N_TILES],
           s[MT_XRT_ARG_CTRL]);
  return rc;
}

enum ert_cmd_state xrtRunWaitFor(xrtRunHandle rhdl, unsigned int timeout_ms) {
  enum ert_cmd_state (*f)(xrtRunHandle, unsigned int) =
      (enum ert_cmd_state(*)(xrtRunHandle, unsigned int))real("xrtRunWaitFor");
  enum ert_cmd_state st = f(rhdl, timeout_ms);
  if (failing(FC_WAIT_TIMEOUT)) return ERT_CMD_STATE_RUNNING;
  if (failing(FC_WAIT_ERROR)) return ERT_CMD_STATE_ERROR;
  return st;
}
