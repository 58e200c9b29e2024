/* xrt://N: the HLS kernel (hls/mt_xrt_top.c) on an Alveo card through XRT's native C API
 * (docs/xrt.md). The backend moves command words to the card and response words back; it
 * never computes a response itself. Linked only into programs built with libxrt_coreutil (the
 * tools; see the Makefile), so libmemtile does not need XRT. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <experimental/xrt_ini.h>
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "memtile.h"
#include "mt_backend.h"
#include "mt_backend_xrt.h"

/* Offsets follow Vitis HLS's s_axilite layout: control registers to 0x0C, then per argument
 * its data words plus one reserved word (docs/xrt.md, "Register map"). */
const mt_xrt_arg mt_xrt_args[MT_XRT_ARG_COUNT] = {
  [MT_XRT_ARG_CMD] = {"cmd", 0x10, 8, 1, "unsigned int*"},
  [MT_XRT_ARG_RSP] = {"rsp", 0x1c, 8, 1, "unsigned int*"},
  [MT_XRT_ARG_N_CMD] = {"n_cmd", 0x28, 4, 0, "unsigned int"},
  [MT_XRT_ARG_RSP_CAP] = {"rsp_cap", 0x30, 4, 0, "unsigned int"},
  [MT_XRT_ARG_N_TILES] = {"n_tiles", 0x38, 4, 0, "unsigned int"},
  [MT_XRT_ARG_CTRL] = {"ctrl", 0x40, 4, 0, "unsigned int"},
};

#define BO_BYTES ((size_t)MT_XRT_BUF_WORDS * sizeof(uint32_t))
#define RSP_CAP (MT_XRT_BUF_WORDS - MT_XRT_LAUNCH_HDR_WORDS)
#define NO_HEADER 0xFFFFFFFFu /* what the launch header holds until the kernel writes it */
#define NO_ARG 0xFFFFFFFFu    /* xrtKernelArgOffset of an argument the kernel does not have */

struct mt_backend {
  char name[64]; /* "xrt://N", for messages */
  char xclbin[1024];
  unsigned index;
  uint32_t n_tiles;
  unsigned timeout_ms;
  xrtDeviceHandle dev;
  xrtKernelHandle kernel;
  xrtBufferHandle cmd_bo, rsp_bo;
  uint32_t *cmd_map, *rsp_map;
  xrtRunHandle run;
  int reset_pending; /* the on-chip state is reset with the first launch after load */
  int broken;        /* a launch timed out: the card's state is unknown */
};

static int parse_uint(const char *s, size_t len, unsigned long max, unsigned long *out) {
  char buf[24];
  if (len == 0 || len >= sizeof buf) return -1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  for (size_t i = 0; i < len; i++)
    if (buf[i] < '0' || buf[i] > '9') return -1;
  errno = 0;
  unsigned long v = strtoul(buf, NULL, 10);
  if (errno || v > max) return -1;
  *out = v;
  return 0;
}

/* "N[?key=value[&key=value...]]" with keys xclbin, timeout_ms, tiles. */
static int parse_params(mt_backend *be, const char *params, char *err, size_t errlen) {
  const char *q = strchr(params, '?');
  size_t idx_len = q ? (size_t)(q - params) : strlen(params);
  unsigned long v = 0;
  if (parse_uint(params, idx_len, 255, &v) != 0) {
    snprintf(err, errlen, "xrt://%s: expected a card index (xrt://0, as `xbutil examine` lists "
             "the cards)", params);
    return MT_ERR_INVAL;
  }
  be->index = (unsigned)v;
  snprintf(be->name, sizeof be->name, "xrt://%u", be->index);
  be->timeout_ms = MT_XRT_TIMEOUT_MS;
  be->n_tiles = MT_XRT_TILES;
  const char *env = getenv("MEMTILE_XCLBIN");
  if (env) snprintf(be->xclbin, sizeof be->xclbin, "%s", env);
  for (const char *p = q ? q + 1 : NULL; p && *p;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    const char *val = eq ? eq + 1 : p + len;
    size_t vlen = (size_t)(p + len - val);
    if (klen == 6 && !strncmp(p, "xclbin", 6) && vlen > 0 && vlen < sizeof be->xclbin) {
      memcpy(be->xclbin, val, vlen);
      be->xclbin[vlen] = '\0';
    } else if (klen == 10 && !strncmp(p, "timeout_ms", 10) && parse_uint(val, vlen, 3600000, &v) == 0 &&
               v > 0) {
      be->timeout_ms = (unsigned)v;
    } else if (klen == 5 && !strncmp(p, "tiles", 5) && parse_uint(val, vlen, MT_MAX_TILES, &v) == 0 &&
               v > 0) {
      be->n_tiles = (uint32_t)v;
    } else {
      snprintf(err, errlen, "xrt://%s: bad parameter '%.*s' (expected xclbin=FILE, "
               "timeout_ms=1..3600000 or tiles=1..%u)", params, (int)len, p, MT_MAX_TILES);
      return MT_ERR_INVAL;
    }
    p = amp ? amp + 1 : NULL;
  }
  if (be->xclbin[0] == '\0') {
    snprintf(err, errlen, "%s: no xclbin given (xrt://%u?xclbin=FILE or MEMTILE_XCLBIN=FILE; "
             "`make xclbin PLATFORM=...` builds one)", be->name, be->index);
    return MT_ERR_INVAL;
  }
  return MT_OK;
}

/* XRT aborts the process when XILINX_XRT is unset or its shim library is missing
 * (research/fpga.md 1.3), so both are checked before the first XRT call. */
static int check_runtime(const mt_backend *be, char *err, size_t errlen) {
  const char *root = getenv("XILINX_XRT");
  if (!root || !*root) {
    snprintf(err, errlen, "%s: XRT runtime not configured: XILINX_XRT is unset (source "
             "/opt/xilinx/xrt/setup.sh, docs/boards.md)", be->name);
    return MT_ERR_NODEV;
  }
  const char *mode = getenv("XCL_EMULATION_MODE");
  const char *shim = "xrt_core";
  if (mode && *mode) {
    if (!strcmp(mode, "noop")) shim = "xrt_noop";
    else if (!strcmp(mode, "sw_emu")) shim = "xrt_swemu";
    else if (!strcmp(mode, "hw_emu")) shim = "xrt_hwemu";
    else {
      snprintf(err, errlen, "%s: XCL_EMULATION_MODE=%s is not one of sw_emu, hw_emu, noop "
               "(unset it for a card)", be->name, mode);
      return MT_ERR_NODEV;
    }
  }
  char path[1200];
  snprintf(path, sizeof path, "%s/lib/lib%s.so.2", root, shim);
  if (access(path, R_OK) != 0) {
    snprintf(err, errlen, "%s: XRT runtime incomplete: %s: %s (XILINX_XRT=%s%s)", be->name, path,
             strerror(errno), root, mode && *mode ? ", XCL_EMULATION_MODE set" : "");
    return MT_ERR_NODEV;
  }
  return MT_OK;
}

static int check_xclbin_file(const mt_backend *be, char *err, size_t errlen) {
  struct stat st;
  if (stat(be->xclbin, &st) != 0) {
    snprintf(err, errlen, "%s: xclbin %s: %s", be->name, be->xclbin, strerror(errno));
    return MT_ERR_FILE;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: xclbin %s is not a regular file", be->name, be->xclbin);
    return MT_ERR_FILE;
  }
  return MT_OK;
}

/* The kernel must have exactly mt_top's arguments at the documented registers: an xclbin of
 * another kernel version would otherwise read garbage as commands. */
static int check_interface(const mt_backend *be, char *err, size_t errlen) {
  for (int i = 0; i < (int)MT_XRT_ARG_COUNT; i++) {
    uint32_t off = xrtKernelArgOffset(be->kernel, i);
    if (off != mt_xrt_args[i].offset) {
      snprintf(err, errlen, "%s: kernel %s in %s: argument %d (%s) at register 0x%x, expected "
               "0x%x (docs/xrt.md; rebuild the xclbin from this version)", be->name,
               MT_XRT_KERNEL, be->xclbin, i, mt_xrt_args[i].name, off, mt_xrt_args[i].offset);
      return MT_ERR_FILE;
    }
  }
  if (xrtKernelArgOffset(be->kernel, MT_XRT_ARG_COUNT) != NO_ARG) {
    snprintf(err, errlen, "%s: kernel %s in %s has more than the %u arguments of this version "
             "(docs/xrt.md; rebuild the xclbin)", be->name, MT_XRT_KERNEL, be->xclbin,
             (unsigned)MT_XRT_ARG_COUNT);
    return MT_ERR_FILE;
  }
  return MT_OK;
}

static void xrt_close(mt_backend *be) {
  if (!be) return;
  if (be->run) xrtRunClose(be->run);
  if (be->cmd_bo) xrtBOFree(be->cmd_bo);
  if (be->rsp_bo) xrtBOFree(be->rsp_bo);
  if (be->kernel) xrtKernelClose(be->kernel);
  if (be->dev) xrtDeviceClose(be->dev);
  free(be);
}

static int open_card(mt_backend *be, char *err, size_t errlen) {
  /* XRT's banner and console messages would mix with the tool's output; the errors are
   * reported here instead. Accepted only before the first device open of the process. */
  xrtIniUintSet("Runtime.verbosity", 0);
  be->dev = xrtDeviceOpen(be->index);
  if (!be->dev) {
    snprintf(err, errlen, "%s: no Alveo card with index %u (xrtDeviceOpen: %s; `xbutil examine` "
             "lists the cards)", be->name, be->index, errno ? strerror(errno) : "failed");
    return MT_ERR_NODEV;
  }
  if (xrtDeviceLoadXclbinFile(be->dev, be->xclbin) != 0) {
    snprintf(err, errlen, "%s: cannot load xclbin %s (xrtDeviceLoadXclbinFile: %s; not an xclbin, "
             "or built for another platform than the card's shell)", be->name, be->xclbin,
             errno ? strerror(errno) : "failed");
    return MT_ERR_FILE;
  }
  xuid_t uuid;
  if (xrtDeviceGetXclbinUUID(be->dev, uuid) != 0) {
    snprintf(err, errlen, "%s: xclbin %s loaded but its UUID cannot be read", be->name, be->xclbin);
    return MT_ERR_IO;
  }
  be->kernel = xrtPLKernelOpen(be->dev, uuid, MT_XRT_KERNEL);
  if (!be->kernel) {
    snprintf(err, errlen, "%s: xclbin %s has no kernel %s (not a memtile xclbin? `make xclbin` "
             "builds one)", be->name, be->xclbin, MT_XRT_KERNEL);
    return MT_ERR_FILE;
  }
  int rc = check_interface(be, err, errlen);
  if (rc != MT_OK) return rc;
  be->cmd_bo = xrtBOAlloc(be->dev, BO_BYTES, XRT_BO_FLAGS_NONE,
                          (xrtMemoryGroup)xrtKernelArgGroupId(be->kernel, MT_XRT_ARG_CMD));
  be->rsp_bo = xrtBOAlloc(be->dev, BO_BYTES, XRT_BO_FLAGS_NONE,
                          (xrtMemoryGroup)xrtKernelArgGroupId(be->kernel, MT_XRT_ARG_RSP));
  if (be->cmd_bo) be->cmd_map = xrtBOMap(be->cmd_bo);
  if (be->rsp_bo) be->rsp_map = xrtBOMap(be->rsp_bo);
  if (!be->cmd_map || !be->rsp_map) {
    snprintf(err, errlen, "%s: cannot allocate and map two buffers of %zu bytes on the card",
             be->name, BO_BYTES);
    return MT_ERR_NOMEM;
  }
  be->run = xrtRunOpen(be->kernel);
  if (!be->run || xrtRunSetArg(be->run, MT_XRT_ARG_CMD, be->cmd_bo) != 0 ||
      xrtRunSetArg(be->run, MT_XRT_ARG_RSP, be->rsp_bo) != 0 ||
      xrtRunSetArg(be->run, MT_XRT_ARG_N_TILES, (uint32_t)be->n_tiles) != 0) {
    snprintf(err, errlen, "%s: cannot prepare a run of kernel %s", be->name, MT_XRT_KERNEL);
    return MT_ERR_IO;
  }
  be->reset_pending = 1;
  return MT_OK;
}

static int xrt_open(const char *params, mt_backend **out, char *err, size_t errlen) {
  mt_backend *be = calloc(1, sizeof *be);
  if (!be) {
    snprintf(err, errlen, "xrt://%s: out of memory", params);
    return MT_ERR_NOMEM;
  }
  int rc = parse_params(be, params, err, errlen);
  if (rc == MT_OK) rc = check_xclbin_file(be, err, errlen);
  if (rc == MT_OK) rc = check_runtime(be, err, errlen);
  if (rc == MT_OK) rc = open_card(be, err, errlen);
  if (rc != MT_OK) {
    xrt_close(be);
    return rc;
  }
  *out = be;
  return MT_OK;
}

static const char *state_name(int s) {
  switch (s) {
    case ERT_CMD_STATE_NEW: return "NEW";
    case ERT_CMD_STATE_QUEUED: return "QUEUED";
    case ERT_CMD_STATE_RUNNING: return "RUNNING";
    case ERT_CMD_STATE_COMPLETED: return "COMPLETED";
    case ERT_CMD_STATE_ERROR: return "ERROR";
    case ERT_CMD_STATE_ABORT: return "ABORT";
    case ERT_CMD_STATE_SUBMITTED: return "SUBMITTED";
    case ERT_CMD_STATE_TIMEOUT: return "TIMEOUT";
    case ERT_CMD_STATE_NORESPONSE: return "NORESPONSE";
    default: return "unknown";
  }
}

/* xrtRunWaitFor returns the run's current state when the time is up (XRT 2.13), so anything
 * but COMPLETED, ERROR and ABORT means the kernel is still busy. */
int mt_xrt_run_status(const char *name, unsigned timeout_ms, int state, char *err, size_t errlen) {
  if (state == ERT_CMD_STATE_COMPLETED) return MT_OK;
  if (state == ERT_CMD_STATE_ERROR || state == ERT_CMD_STATE_ABORT) {
    snprintf(err, errlen, "%s: kernel %s ended in state %s", name, MT_XRT_KERNEL,
             state_name(state));
    return MT_ERR_IO;
  }
  snprintf(err, errlen, "%s: kernel %s did not finish within %u ms (run state %s); the card's "
           "state is unknown, reopen the device (?timeout_ms=T sets the limit)", name,
           MT_XRT_KERNEL, timeout_ms, state_name(state));
  return MT_ERR_TIMEOUT;
}

uint32_t mt_xrt_whole_commands(const uint32_t *cmd, uint32_t n) {
  uint32_t pos = 0;
  while (n - pos >= MT_HDR_WORDS) {
    uint32_t next = pos + MT_HDR_WORDS + cmd[pos + 1];
    if (cmd[pos + 1] > n - pos - MT_HDR_WORDS || next > MT_XRT_BUF_WORDS) break;
    pos = next;
  }
  return pos;
}

/* One kernel launch: n words of cmd in, at most cap response words out. */
static int launch(mt_backend *be, const uint32_t *cmd, uint32_t n, uint32_t cap, uint32_t *rsp,
                  uint32_t *n_rsp, uint32_t *consumed, char *err, size_t errlen) {
  memcpy(be->cmd_map, cmd, n * sizeof *cmd);
  be->rsp_map[MT_XRT_LAUNCH_N_RSP] = NO_HEADER;
  be->rsp_map[MT_XRT_LAUNCH_CONSUMED] = NO_HEADER;
  const size_t hdr = MT_XRT_LAUNCH_HDR_WORDS * sizeof(uint32_t);
  if (xrtBOSync(be->cmd_bo, XCL_BO_SYNC_BO_TO_DEVICE, n * sizeof *cmd, 0) != 0 ||
      xrtBOSync(be->rsp_bo, XCL_BO_SYNC_BO_TO_DEVICE, hdr, 0) != 0) {
    snprintf(err, errlen, "%s: copying %u command words to the card failed", be->name, n);
    return MT_ERR_IO;
  }
  if (xrtRunSetArg(be->run, MT_XRT_ARG_N_CMD, (uint32_t)n) != 0 ||
      xrtRunSetArg(be->run, MT_XRT_ARG_RSP_CAP, (uint32_t)cap) != 0 ||
      xrtRunSetArg(be->run, MT_XRT_ARG_CTRL, (uint32_t)(be->reset_pending ? MT_XRT_CTRL_RESET : 0)) != 0 ||
      xrtRunStart(be->run) != 0) {
    snprintf(err, errlen, "%s: kernel %s could not be started", be->name, MT_XRT_KERNEL);
    return MT_ERR_IO;
  }
  int rc = mt_xrt_run_status(be->name, be->timeout_ms, xrtRunWaitFor(be->run, be->timeout_ms),
                             err, errlen);
  if (rc != MT_OK) {
    be->broken = 1;
    return rc;
  }
  be->reset_pending = 0;
  /* From here on the commands have run: if their responses are lost, so is what the host
   * knows of the card's state. */
  if (xrtBOSync(be->rsp_bo, XCL_BO_SYNC_BO_FROM_DEVICE, hdr, 0) != 0) {
    snprintf(err, errlen, "%s: reading the launch header from the card failed", be->name);
    be->broken = 1;
    return MT_ERR_IO;
  }
  uint32_t nr = be->rsp_map[MT_XRT_LAUNCH_N_RSP], used = be->rsp_map[MT_XRT_LAUNCH_CONSUMED];
  if (nr > cap || used > n) {
    snprintf(err, errlen, "%s: kernel %s completed without a valid launch header (%u response "
             "words for room %u, %u of %u command words consumed): the kernel did not run the "
             "commands", be->name, MT_XRT_KERNEL, nr, cap, used, n);
    be->broken = 1;
    return MT_ERR_PROTOCOL;
  }
  if (nr && xrtBOSync(be->rsp_bo, XCL_BO_SYNC_BO_FROM_DEVICE, nr * sizeof *rsp, hdr) != 0) {
    snprintf(err, errlen, "%s: reading %u response words from the card failed", be->name, nr);
    be->broken = 1;
    return MT_ERR_IO;
  }
  memcpy(rsp, be->rsp_map + MT_XRT_LAUNCH_HDR_WORDS, nr * sizeof *rsp);
  *n_rsp = nr;
  *consumed = used;
  return MT_OK;
}

/* As many launches as the commands need: each carries whole commands up to the buffer size;
 * the device's own stop (a response that did not fit, a truncated command) ends the batch. */
static int xrt_transact(mt_backend *be, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                        uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, char *err,
                        size_t errlen) {
  *n_rsp = 0;
  *consumed = 0;
  if (be->broken) {
    snprintf(err, errlen, "%s: an earlier launch failed; the card's state is unknown, reopen the "
             "device", be->name);
    return MT_ERR_IO;
  }
  while (*consumed < n_cmd) {
    uint32_t left = n_cmd - *consumed;
    uint32_t n = mt_xrt_whole_commands(cmd + *consumed, left);
    if (n == 0) n = left < MT_XRT_BUF_WORDS ? left : MT_XRT_BUF_WORDS;
    uint32_t room = rsp_cap - *n_rsp;
    uint32_t cap = room < RSP_CAP ? room : RSP_CAP;
    uint32_t nr = 0, used = 0;
    int rc = launch(be, cmd + *consumed, n, cap, rsp + *n_rsp, &nr, &used, err, errlen);
    if (rc != MT_OK) return rc;
    *n_rsp += nr;
    *consumed += used;
    if (used < n || used == 0) break;
  }
  return MT_OK;
}

void mt_xrt_buffer_sizes(mt_backend *be, size_t *cmd_bytes, size_t *rsp_bytes) {
  *cmd_bytes = xrtBOSize(be->cmd_bo);
  *rsp_bytes = xrtBOSize(be->rsp_bo);
}

const mt_backend_ops mt_backend_xrt = {"xrt", xrt_open, xrt_transact, xrt_close, NULL, NULL};
