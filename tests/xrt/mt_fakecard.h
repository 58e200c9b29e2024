/* A card for tests/xrt under XRT's noop shim: interposes the XRT calls the backend makes (the
 * test executable's definitions take precedence over libxrt_coreutil's, and forward to them),
 * keeps each buffer's "device memory" apart from its host mapping, so that only what the
 * backend syncs crosses between them, and runs the kernel mt_top (hls/mt_xrt_top.c, built by
 * gcc) on that device memory when a run starts. It records every sync and launch, and can make
 * one XRT call fail. The backend itself is unchanged: it cannot tell this card from a real one
 * except by what the card computes. */
#ifndef MT_FAKECARD_H
#define MT_FAKECARD_H

#include <stddef.h>
#include <stdint.h>

/* An XRT call that fails on demand (mt_fakecard_fail). */
enum {
  FC_OK = 0,
  FC_FAIL_UUID,       /* xrtDeviceGetXclbinUUID returns an error */
  FC_FAIL_ALLOC,      /* xrtBOAlloc returns NULL */
  FC_FAIL_SETARG,     /* xrtRunSetArg returns an error */
  FC_FAIL_SYNC_TO,    /* xrtBOSync to the device returns an error */
  FC_FAIL_SYNC_FROM,  /* xrtBOSync from the device returns an error */
  FC_FAIL_START,      /* xrtRunStart returns an error */
  FC_WAIT_TIMEOUT,    /* xrtRunWaitFor returns RUNNING (its time limit passed) */
  FC_WAIT_ERROR,      /* xrtRunWaitFor returns ERROR */
};

typedef struct {
  int rsp;        /* 0: the command buffer, 1: the response buffer */
  int to_device;  /* direction */
  size_t size, offset;
} fc_sync;

typedef struct {
  uint32_t n_cmd, rsp_cap, n_tiles, ctrl;
} fc_launch;

#define FC_MAX_LOG 64

typedef struct {
  uint32_t n_allocs, n_syncs, n_launches;
  fc_sync syncs[FC_MAX_LOG];
  fc_launch launches[FC_MAX_LOG];
} fc_log;

/* From now on the card runs mt_top on every start (without it, runs do nothing, as under
 * noop). */
void mt_fakecard_enable(void);
/* The call `what` (FC_*) fails from its next use on, `after` successful uses first. */
void mt_fakecard_fail(int what, uint32_t after);
/* What the backend did so far. */
const fc_log *mt_fakecard_log(void);

#endif
