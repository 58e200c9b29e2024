/* Device handle: URI dispatch to a backend, command framing, response
 * checking and error messages. Buffers are allocated once at open, so no call
 * allocates on the hot path. */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "memtile.h"
#include "mt_backend.h"
#include "mt_file.h"
#include "mt_protocol.h"
#include "mt_tileswap.h"

_Static_assert(MT_PROGRAM_OPEN_LOOP == MT_PROG_OPEN_LOOP && MT_PROGRAM_FORCE == MT_PROG_FORCE,
               "memtile.h's PROGRAM flags are the protocol's");

#define BUF_WORDS (MT_MAX_PAYLOAD + MT_HDR_WORDS)
#define SNAP_MAGIC 0x4E53544Du /* "MTSN" */
#define SNAP_FORMAT 1u
#define SNAP_HDR_WORDS 8u
#define TILE_CHUNK ((MT_STATE_CHUNK / MT_WEIGHT_WORDS) * MT_WEIGHT_WORDS)
/* On a framed link (usb://, verilator://?link=usb) commands whose response the caller does not
 * need are queued, up to QUEUE_WORDS words, and sent with the next command whose response it
 * needs, so that a training step costs a few USB transfers. Every queued response is empty
 * (or 2 detail words), hence the size of the batch response buffer. */
#define QUEUE_WORDS BUF_WORDS
#define BATCH_RSP_WORDS (BUF_WORDS + 2 * QUEUE_WORDS)
/* The smallest command payload a device must take: CONFIGURE, SET_LEVELS of MAX_LEVELS and
 * META_TABLE go whole, META_WRITE needs a whole row, the other cut commands one entry. */
#define MIN_PAYLOAD (MT_CFG_COUNT > 1 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS ? MT_CFG_COUNT \
                     : 1 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS)
_Static_assert(MIN_PAYLOAD >= 5 + MT_COLS, "META_WRITE bands need room for a whole row");

/* &mt_backend_verilator is null in programs built without the Verilated device, &mt_backend_xrt
 * in programs built without XRT. */
static const mt_backend_ops *const backends[] = {&mt_backend_model, &mt_backend_verilator,
                                                 &mt_backend_xrt, &mt_backend_usb};

struct mt_dev {
  const mt_backend_ops *ops;
  mt_backend *be;
  char uri[256];
  mt_dev_info info;
  uint32_t tag;
  uint32_t *cmd; /* header + payload of the command being built */
  uint32_t *rsp;
  const uint32_t *out; /* payload of the last response */
  uint32_t out_len;
  uint64_t transactions; /* commands sent or queued since open (mt_dev_transactions) */
  uint32_t max_payload; /* MT_MAX_PAYLOAD, or less where the link's frames are smaller */
  uint32_t max_rsp_payload; /* likewise for one response */
  uint32_t *q;          /* framed link: queued commands, NULL otherwise */
  uint32_t q_len, q_n;
  uint32_t *q_hdr;      /* header word of each queued command */
  int tile_named;       /* a command naming a tile was sent (swapping can no longer start) */
  mt_tileswap *swap;    /* logical tiles over fewer device tiles, NULL without swapping */
  mt_swap_stats swap_st; /* swapping's transactions, cycles and seconds (the counts: swap) */
  char msg[512];
  int code; /* the MT_ERR_* of the failure msg describes (MT_OK before any) */
};

uint64_t mt_dev_transactions(const mt_dev *dev) { return dev->transactions; }

uint32_t mt_protocol_version(void) { return MT_PROTO_MAJOR << 16 | MT_PROTO_MINOR; }

int mt_backend_available(const char *scheme) {
  for (size_t k = 0; scheme && k < sizeof backends / sizeof *backends; k++)
    if (backends[k] && !strcmp(backends[k]->scheme, scheme)) return 1;
  return 0;
}

const char *mt_err_name(int code) {
  switch (code) {
    case MT_OK: return "MT_OK";
    case MT_ERR_INVAL: return "MT_ERR_INVAL";
    case MT_ERR_NOMEM: return "MT_ERR_NOMEM";
    case MT_ERR_NODEV: return "MT_ERR_NODEV";
    case MT_ERR_IO: return "MT_ERR_IO";
    case MT_ERR_TIMEOUT: return "MT_ERR_TIMEOUT";
    case MT_ERR_DEVICE: return "MT_ERR_DEVICE";
    case MT_ERR_PROTOCOL: return "MT_ERR_PROTOCOL";
    case MT_ERR_FILE: return "MT_ERR_FILE";
    default: return "MT_ERR_UNKNOWN";
  }
}

int mt_err_exit_status(int code) {
  /* 2 stays the usage error it is for every tool; the other classes follow in code order. */
  if (code == MT_OK) return 0;
  if (code >= MT_ERR_FILE && code <= MT_ERR_INVAL) return 1 - code;
  return 1;
}

const char *mt_strerror(int code) {
  switch (code) {
    case MT_OK: return "success";
    case MT_ERR_INVAL: return "invalid argument";
    case MT_ERR_NOMEM: return "out of memory";
    case MT_ERR_NODEV: return "no such device";
    case MT_ERR_IO: return "input/output error";
    case MT_ERR_TIMEOUT: return "timed out";
    case MT_ERR_DEVICE: return "device rejected the command";
    case MT_ERR_PROTOCOL: return "malformed response from the device";
    case MT_ERR_FILE: return "invalid file";
    default: return "unknown error";
  }
}

static int fail(mt_dev *dev, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dev->msg, sizeof dev->msg, fmt, ap);
  va_end(ap);
  dev->code = code;
  return code;
}

const char *mt_dev_errmsg(const mt_dev *dev) { return dev ? dev->msg : "no device handle"; }
int mt_dev_errcode(const mt_dev *dev) { return dev ? dev->code : MT_ERR_NOMEM; }
const mt_dev_info *mt_dev_get_info(const mt_dev *dev) { return &dev->info; }
const char *mt_dev_uri(const mt_dev *dev) { return dev->uri; }

/* Opcodes outside the table (mt_dev_command sends any 8-bit opcode) have no name. */
static const char *op_name(uint32_t op) { return op < MT_OP_COUNT ? mt_op_names[op] : "unknown opcode"; }

/* Words the device's error details describe, in words a user can act on. */
static void describe_error(mt_dev *dev, uint32_t op, uint32_t status, uint32_t d0, uint32_t d1) {
  const char *opn = op_name(op);
  const char *stn = status < MT_ST_COUNT ? mt_st_names[status] : "unknown status";
  char detail[256];
  switch (status) {
    case MT_ST_ERR_PARAM:
      if (op == MT_OP_CONFIGURE && d0 < MT_CFG_COUNT)
        snprintf(detail, sizeof detail, "field %u (%s) = %u is out of range [%u, %u]%s%s", d0,
                 mt_cfg_names[d0], d1, mt_cfg_min[d0], mt_cfg_max[d0],
                 mt_cfg_rule_doc[d0] ? " or breaks the rule " : "",
                 mt_cfg_rule_doc[d0] ? mt_cfg_rule_doc[d0] : "");
      else
        snprintf(detail, sizeof detail, "payload word %u = %u is not a valid parameter", d0, d1);
      break;
    case MT_ST_ERR_STATE:
      if (d0 < sizeof mt_state_detail_docs / sizeof *mt_state_detail_docs && mt_state_detail_docs[d0])
        snprintf(detail, sizeof detail, "%s (tile %u)", mt_state_detail_docs[d0], d1);
      else
        snprintf(detail, sizeof detail, "unknown state detail %u (tile %u)", d0, d1);
      break;
    case MT_ST_ERR_LENGTH:
      snprintf(detail, sizeof detail, "payload of %u words, expected %u", d0, d1);
      break;
    case MT_ST_ERR_TRUNCATED:
      snprintf(detail, sizeof detail, "declared %u words, %u available", d0, d1);
      break;
    case MT_ST_ERR_OPCODE:
      snprintf(detail, sizeof detail, "opcode %u", d0);
      break;
    case MT_ST_ERR_OVERFLOW:
      snprintf(detail, sizeof detail, "response of %u words, room for %u", d0, d1);
      break;
    default:
      snprintf(detail, sizeof detail, "payload word %u = %u (0x%x)", d0, d1, d1);
  }
  fail(dev, MT_ERR_DEVICE, "%s: %s: %s: %s", dev->uri, opn, stn, detail);
}

/* Checks the response at r (avail words) to the command with header hdr; on success points
 * dev->out at its payload. */
static int check_response(mt_dev *dev, uint32_t hdr, const uint32_t *r, uint32_t avail) {
  uint32_t op = hdr >> 24, tag = (hdr >> 16) & 0xFFu;
  if (avail < MT_HDR_WORDS || r[1] > avail - MT_HDR_WORDS)
    return fail(dev, MT_ERR_PROTOCOL, "%s: %s: response of %u words is not one framed response",
                dev->uri, op_name(op), avail);
  if (r[0] >> 24 != op || ((r[0] >> 16) & 0xFFu) != tag)
    return fail(dev, MT_ERR_PROTOCOL, "%s: %s: response header 0x%08x does not match opcode %u tag %u",
                dev->uri, op_name(op), r[0], op, tag);
  uint32_t status = r[0] & 0xFFu;
  if (status != MT_ST_OK) {
    describe_error(dev, op, status, r[1] > 0 ? r[2] : 0, r[1] > 1 ? r[3] : 0);
    return MT_ERR_DEVICE;
  }
  dev->out = r + MT_HDR_WORDS;
  dev->out_len = r[1];
  return MT_OK;
}

/* Runs the queued commands as one transfer and checks every response in order; the last
 * command's response payload is then dev->out. */
static int flush(mt_dev *dev) {
  uint32_t n = dev->q_n, len = dev->q_len;
  if (n == 0) return MT_OK;
  dev->q_n = dev->q_len = 0;
  uint32_t last_op = dev->q_hdr[n - 1] >> 24, n_rsp = 0, consumed = 0;
  char err[256] = "";
  int rc = dev->ops->transact(dev->be, dev->q, len, dev->rsp, BATCH_RSP_WORDS, &n_rsp, &consumed,
                              err, sizeof err);
  if (rc != MT_OK) return fail(dev, rc, "%s: %s: %s", dev->uri, op_name(last_op), err);
  uint32_t pos = 0;
  for (uint32_t k = 0; k < n; k++) {
    rc = check_response(dev, dev->q_hdr[k], dev->rsp + pos, n_rsp - pos);
    if (rc != MT_OK) return rc;
    pos += MT_HDR_WORDS + dev->out_len;
  }
  if (consumed != len)
    return fail(dev, MT_ERR_PROTOCOL, "%s: %s: device consumed %u of %u words", dev->uri,
                op_name(last_op), consumed, len);
  return MT_OK;
}

/* Sends the command whose payload is in dev->cmd + 2 and checks the response; with a queue,
 * queues it and sends the queue when need_rsp (the caller reads dev->out) or when full. */
static int submit(mt_dev *dev, uint32_t op, uint32_t len, int need_rsp) {
  assert(op <= 0xFFu && len <= MT_MAX_PAYLOAD); /* the header has 8 opcode bits */
  uint32_t tag = (dev->tag++) & 0xFFu;
  dev->cmd[0] = op << 24 | tag << 16;
  dev->cmd[1] = len;
  dev->transactions++;
  uint32_t words = len + MT_HDR_WORDS;
  if (dev->q) {
    if (dev->q_len + words > QUEUE_WORDS) {
      int rc = flush(dev);
      if (rc != MT_OK) return rc;
    }
    memcpy(dev->q + dev->q_len, dev->cmd, words * sizeof *dev->cmd);
    dev->q_len += words;
    dev->q_hdr[dev->q_n++] = dev->cmd[0];
    return need_rsp ? flush(dev) : MT_OK;
  }
  uint32_t n_rsp = 0, consumed = 0;
  char err[256] = "";
  int rc = dev->ops->transact(dev->be, dev->cmd, words, dev->rsp, BUF_WORDS, &n_rsp, &consumed,
                              err, sizeof err);
  if (rc != MT_OK) return fail(dev, rc, "%s: %s: %s", dev->uri, op_name(op), err);
  if (n_rsp < MT_HDR_WORDS || dev->rsp[1] != n_rsp - MT_HDR_WORDS)
    return fail(dev, MT_ERR_PROTOCOL, "%s: %s: response of %u words is not one framed response",
                dev->uri, op_name(op), n_rsp);
  rc = check_response(dev, dev->cmd[0], dev->rsp, n_rsp);
  if (rc != MT_OK) return rc;
  if (consumed != words)
    return fail(dev, MT_ERR_PROTOCOL, "%s: %s: device consumed %u of %u words", dev->uri,
                op_name(op), consumed, words);
  return MT_OK;
}

static int exec(mt_dev *dev, uint32_t op, uint32_t len) { return submit(dev, op, len, 1); }
/* A command whose (empty) response nobody reads: on a framed link its errors are reported by
 * the call that sends the queue. */
static int post(mt_dev *dev, uint32_t op, uint32_t len) { return submit(dev, op, len, 0); }

static int expect_out(mt_dev *dev, uint32_t op, uint32_t words) {
  if (dev->out_len == words) return MT_OK;
  return fail(dev, MT_ERR_PROTOCOL, "%s: %s: response payload of %u words, expected %u", dev->uri,
              op_name(op), dev->out_len, words);
}

static uint32_t *payload(mt_dev *dev) { return dev->cmd + MT_HDR_WORDS; }

static int query_info(mt_dev *dev) {
  int rc = exec(dev, MT_OP_INFO, 0);
  if (rc == MT_OK) rc = expect_out(dev, MT_OP_INFO, MT_INFO_COUNT);
  if (rc != MT_OK) return rc;
  const uint32_t *o = dev->out;
  mt_dev_info *i = &dev->info;
  i->version = o[MT_INFO_VERSION];
  i->rows = o[MT_INFO_ROWS];
  i->cols = o[MT_INFO_COLS];
  i->tiles = o[MT_INFO_TILES];
  i->lanes = o[MT_INFO_LANES];
  i->max_levels = o[MT_INFO_MAX_LEVELS];
  i->max_payload = o[MT_INFO_MAX_PAYLOAD];
  i->max_batch = o[MT_INFO_MAX_BATCH];
  i->features = o[MT_INFO_FEATURES];
  /* The host is built against one protocol; refuse a device that speaks another. */
  if (i->version >> 16 != MT_PROTO_MAJOR || i->rows != MT_ROWS || i->cols != MT_COLS ||
      o[MT_INFO_CONFIG_WORDS] != MT_CFG_COUNT || o[MT_INFO_COUNTERS] != MT_CNT_COUNT)
    return fail(dev, MT_ERR_PROTOCOL,
                "%s: device speaks protocol %u.%u with %ux%u tiles, %u config words, %u counters; "
                "this host expects %u.x, %ux%u, %u, %u", dev->uri, i->version >> 16,
                i->version & 0xFFFFu, i->rows, i->cols, o[MT_INFO_CONFIG_WORDS],
                o[MT_INFO_COUNTERS], MT_PROTO_MAJOR, MT_ROWS, MT_COLS, MT_CFG_COUNT, MT_CNT_COUNT);
  return MT_OK;
}

/* On a framed link: the command queue, and commands no larger than the link's frames. */
static int setup_link(mt_dev *dev) {
  dev->max_payload = MT_MAX_PAYLOAD;
  dev->max_rsp_payload = MT_MAX_PAYLOAD;
  mt_link_stats st;
  if (!dev->ops->link_stats || dev->ops->link_stats(dev->be, &st) != MT_OK) return MT_OK;
  if (st.max_command_words < MT_HDR_WORDS + 8)
    return fail(dev, MT_ERR_PROTOCOL, "%s: the link carries commands of %u words at most",
                dev->uri, st.max_command_words);
  if (st.max_command_words - MT_HDR_WORDS < dev->max_payload)
    dev->max_payload = st.max_command_words - MT_HDR_WORDS;
  if (st.max_response_words < MT_HDR_WORDS + 16)
    return fail(dev, MT_ERR_PROTOCOL, "%s: the link carries responses of %u words at most",
                dev->uri, st.max_response_words);
  if (st.max_response_words - MT_HDR_WORDS < dev->max_rsp_payload)
    dev->max_rsp_payload = st.max_response_words - MT_HDR_WORDS;
  free(dev->rsp);
  dev->rsp = malloc(BATCH_RSP_WORDS * sizeof *dev->rsp);
  dev->q = malloc(QUEUE_WORDS * sizeof *dev->q);
  dev->q_hdr = malloc(QUEUE_WORDS / MT_HDR_WORDS * sizeof *dev->q_hdr);
  if (!dev->rsp || !dev->q || !dev->q_hdr) return fail(dev, MT_ERR_NOMEM, "%s: out of memory", dev->uri);
  return MT_OK;
}

/* A handle with its buffers, not yet on a backend; NULL when out of memory. */
static mt_dev *dev_new(const char *uri, mt_dev **out) {
  *out = calloc(1, sizeof **out);
  mt_dev *dev = *out;
  if (!dev) return NULL;
  snprintf(dev->uri, sizeof dev->uri, "%s", uri ? uri : "");
  dev->cmd = malloc(BUF_WORDS * sizeof *dev->cmd);
  dev->rsp = malloc(BUF_WORDS * sizeof *dev->rsp);
  if (!dev->cmd || !dev->rsp) fail(dev, MT_ERR_NOMEM, "%s: out of memory", dev->uri);
  return dev;
}

/* Puts dev on its opened backend dev->be: the link's limits and queue, then INFO. A device may
 * take shorter commands than the link's frames carry (the AC701 build: CMD_WORDS = 8,192
 * payload words, frames of 16,380), so commands are also cut to INFO's MAX_PAYLOAD. */
static int attach(mt_dev *dev, const mt_backend_ops *ops) {
  dev->ops = ops;
  int rc = setup_link(dev);
  if (rc == MT_OK) rc = query_info(dev);
  if (rc != MT_OK) return rc;
  if (dev->info.max_payload < dev->max_payload) dev->max_payload = dev->info.max_payload;
  if (dev->max_payload < MIN_PAYLOAD)
    return fail(dev, MT_ERR_PROTOCOL, "%s: commands of %u payload words at most (the device's "
                "MAX_PAYLOAD or the link's frames); this host needs %u", dev->uri,
                dev->max_payload, MIN_PAYLOAD);
  return MT_OK;
}

int mt_dev_open_backend(const mt_backend_ops *ops, mt_backend *be, const char *uri, mt_dev **out) {
  mt_dev *dev = dev_new(uri, out);
  if (!dev || !dev->cmd || !dev->rsp) {
    ops->close(be);
    return MT_ERR_NOMEM;
  }
  dev->be = be;
  return attach(dev, ops);
}

int mt_dev_open(const char *uri, mt_dev **out) {
  mt_dev *dev = dev_new(uri, out);
  if (!dev) return MT_ERR_NOMEM;
  if (!uri) return fail(dev, MT_ERR_INVAL, "no device URI given");
  if (!dev->cmd || !dev->rsp) return MT_ERR_NOMEM;
  const char *sep = strstr(uri, "://");
  if (!sep)
    return fail(dev, MT_ERR_INVAL, "'%s' is not a device URI (expected model://, verilator://, "
                "xrt://N or usb://VID:PID)", uri);
  size_t scheme_len = (size_t)(sep - uri);
  for (size_t k = 0; k < sizeof backends / sizeof *backends; k++) {
    if (backends[k] && strlen(backends[k]->scheme) == scheme_len &&
        strncmp(uri, backends[k]->scheme, scheme_len) == 0) {
      char err[256] = "";
      int rc = backends[k]->open(sep + 3, &dev->be, err, sizeof err);
      if (rc != MT_OK) return fail(dev, rc, "%s", err);
      return attach(dev, backends[k]);
    }
  }
  if ((scheme_len == 9 && !strncmp(uri, "verilator", 9)) || (scheme_len == 3 && !strncmp(uri, "xrt", 3)))
    return fail(dev, MT_ERR_NODEV, "%s: this backend is not part of this build; "
                "available: model://%s%s, usb://VID:PID", uri,
                &mt_backend_verilator ? ", verilator://" : "", &mt_backend_xrt ? ", xrt://N" : "");
  return fail(dev, MT_ERR_INVAL, "%s: unknown scheme '%.*s' (expected model, verilator, xrt or usb)",
              uri, (int)scheme_len, uri);
}

int mt_dev_cycles(mt_dev *dev, uint64_t *cycles) {
  if (!dev->ops || !dev->ops->cycles)
    return fail(dev, MT_ERR_NODEV, "%s: this backend has no simulated clock", dev->uri);
  int rc = flush(dev); /* the queued commands' cycles count */
  if (rc != MT_OK) return rc;
  *cycles = dev->ops->cycles(dev->be) - dev->swap_st.cycles;
  return MT_OK;
}

int mt_dev_link_stats(mt_dev *dev, mt_link_stats *st) {
  if (!dev->ops || !dev->ops->link_stats || dev->ops->link_stats(dev->be, st) != MT_OK)
    return fail(dev, MT_ERR_NODEV, "%s: this device is not on a framed link (usb://, "
                "verilator://?link=usb)", dev->uri);
  int rc = flush(dev);
  if (rc == MT_OK) dev->ops->link_stats(dev->be, st);
  st->commands_issued = dev->transactions + dev->swap_st.transactions;
  return rc;
}

void mt_dev_close(mt_dev *dev) {
  if (!dev) return;
  if (dev->ops) {
    flush(dev); /* nobody is left to hear of an error */
    dev->ops->close(dev->be);
  }
  free(dev->cmd);
  free(dev->rsp);
  free(dev->q);
  free(dev->q_hdr);
  mt_tileswap_free(dev->swap);
  free(dev);
}

/* ---- tile swapping (mt_tileswap.h) ------------------------------------- */

static int state_read(mt_dev *dev, uint32_t section, uint32_t index, uint32_t offset,
                      uint32_t count, uint32_t *dst);
static int state_write(mt_dev *dev, uint32_t section, uint32_t index, uint32_t offset,
                       uint32_t count, const uint32_t *src);

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Where a state move began: its commands, cycles and time are emulator overhead, counted in
 * dev->swap_st instead of the device's figures. */
typedef struct {
  uint64_t transactions, cycles;
  double t;
} swap_mark;

/* Queued commands run first, so that their cycles stay the device's. */
static int swap_begin(mt_dev *dev, swap_mark *m) {
  int rc = flush(dev);
  m->transactions = dev->transactions;
  m->cycles = dev->ops->cycles ? dev->ops->cycles(dev->be) : 0;
  m->t = now_s();
  return rc;
}

static int swap_end(mt_dev *dev, const swap_mark *m, int rc) {
  if (rc == MT_OK) rc = flush(dev);
  dev->swap_st.transactions += dev->transactions - m->transactions;
  dev->transactions = m->transactions;
  if (dev->ops->cycles) dev->swap_st.cycles += dev->ops->cycles(dev->be) - m->cycles;
  dev->swap_st.seconds += now_s() - m->t;
  return rc;
}

/* Chunks of a TILE section no larger than a response the link carries. */
static uint32_t tile_read_chunk(const mt_dev *dev) {
  return MT_STATE_CHUNK < dev->max_rsp_payload ? MT_STATE_CHUNK : dev->max_rsp_payload;
}

/* Whole weight records per STATE_WRITE, no more than a command the link carries. */
static uint32_t tile_write_chunk(const mt_dev *dev) {
  const uint32_t fit = (dev->max_payload - 3) / MT_WEIGHT_WORDS * MT_WEIGHT_WORDS;
  return TILE_CHUNK < fit ? TILE_CHUNK : fit;
}

static int swap_save(void *ctx, uint32_t slot, uint32_t *state) {
  mt_dev *dev = ctx;
  swap_mark m;
  int rc = swap_begin(dev, &m);
  const uint32_t chunk = tile_read_chunk(dev);
  for (uint32_t off = 0; rc == MT_OK && off < MT_TILE_WORDS; off += chunk) {
    uint32_t cnt = MT_TILE_WORDS - off < chunk ? MT_TILE_WORDS - off : chunk;
    rc = state_read(dev, MT_SECTION_TILE, slot, off, cnt, state + off);
  }
  return swap_end(dev, &m, rc);
}

/* Any draw will do: a state is loaded over it. */
static int swap_fabricate(void *ctx, uint32_t slot) {
  mt_dev *dev = ctx;
  swap_mark m;
  int rc = swap_begin(dev, &m);
  uint32_t *p = payload(dev);
  p[0] = p[1] = 0, p[2] = slot;
  if (rc == MT_OK) rc = post(dev, MT_OP_FABRICATE, 3);
  return swap_end(dev, &m, rc);
}

static int swap_load(void *ctx, uint32_t slot, const uint32_t *state) {
  mt_dev *dev = ctx;
  swap_mark m;
  int rc = swap_begin(dev, &m);
  const uint32_t chunk = tile_write_chunk(dev);
  for (uint32_t off = 0; rc == MT_OK && off < MT_TILE_WORDS; off += chunk) {
    uint32_t cnt = MT_TILE_WORDS - off < chunk ? MT_TILE_WORDS - off : chunk;
    rc = state_write(dev, MT_SECTION_TILE, slot, off, cnt, state + off);
  }
  return swap_end(dev, &m, rc);
}

int mt_dev_set_max_tiles(mt_dev *dev, uint32_t max_tiles, uint32_t tiles) {
  if (max_tiles == 0) return fail(dev, MT_ERR_INVAL, "%s: at most 0 device tiles: nothing to run on", dev->uri);
  if (tiles == 0 || tiles > MT_MAX_TILES)
    return fail(dev, MT_ERR_INVAL, "%s: %u tiles asked for; a handle offers 1 to %u", dev->uri,
                tiles, MT_MAX_TILES);
  if (dev->swap || dev->tile_named)
    return fail(dev, MT_ERR_INVAL, "%s: tile swapping must be set before any command names a "
                "tile", dev->uri);
  uint32_t slots = max_tiles < dev->info.tiles ? max_tiles : dev->info.tiles;
  if (tiles <= slots) return MT_OK; /* the device holds them all where they are */
  if (!(dev->info.features & MT_FEAT_SNAPSHOT))
    return fail(dev, MT_ERR_NODEV, "%s: %u tiles on %u device tiles need tile swapping, and this "
                "device has no state transfer (STATE_READ/STATE_WRITE)", dev->uri, tiles, slots);
  dev->swap = mt_tileswap_new(slots, tiles, (mt_tileswap_io){swap_save, swap_load, swap_fabricate, dev});
  if (!dev->swap) return fail(dev, MT_ERR_NOMEM, "%s: out of memory for tile swapping", dev->uri);
  dev->info.tiles = tiles;
  return MT_OK;
}

int mt_dev_swap_stats(const mt_dev *dev, mt_swap_stats *st) {
  *st = dev->swap_st;
  mt_tileswap_counts c = {0, 0, 0};
  if (dev->swap) mt_tileswap_counts_get(dev->swap, &c);
  st->swaps = c.swaps;
  st->saves = c.saves;
  st->bytes = c.words * 4;
  return dev->swap ? MT_OK : MT_ERR_NODEV;
}

/* The device tile (*slot) that carries tile for a command of opcode op that names it in payload
 * word `word` and uses it as `use`; without swapping, tile itself. Swapping answers a tile the
 * device would not take with the device's own error. */
static int tile_slot(mt_dev *dev, uint32_t op, uint32_t word, uint32_t tile, mt_swap_use use,
                     uint32_t *slot) {
  dev->tile_named = 1;
  *slot = tile;
  if (!dev->swap) return MT_OK;
  if (tile >= mt_tileswap_tiles(dev->swap)) {
    describe_error(dev, op, MT_ST_ERR_TILE, word, tile);
    return MT_ERR_DEVICE;
  }
  if (use != MT_SWAP_FABRICATE && !mt_tileswap_fabricated(dev->swap, tile)) {
    describe_error(dev, op, MT_ST_ERR_STATE, MT_STATE_NOT_FABRICATED, tile);
    return MT_ERR_DEVICE;
  }
  return mt_tileswap_acquire(dev->swap, tile, use, slot);
}

/* FABRICATE seeds tile t's fabrication lanes with seed ^ t << 48: the seed that makes device
 * tile `slot` draw what tile `tile` would. */
static uint64_t fabricate_seed(uint64_t seed, uint32_t tile, uint32_t slot) {
  return seed ^ (uint64_t)(tile ^ slot) << 48;
}

/* The tile word of a raw command (mt_dev_command), and how it uses the tile; 0 for a command
 * that names no tile (or is too short to, which the device answers). */
static int raw_tile(uint32_t op, const uint32_t *p, uint32_t len, uint32_t *word, mt_swap_use *use) {
  switch (op) {
    case MT_OP_PROGRAM: case MT_OP_PULSE: case MT_OP_META_WRITE: case MT_OP_META_UPDATE:
      *word = 0, *use = MT_SWAP_WRITE;
      break;
    case MT_OP_READ_CELLS: case MT_OP_READ_LEVELS: case MT_OP_MVM: case MT_OP_META_READ:
    case MT_OP_READ_LIST:
      *word = 0, *use = MT_SWAP_READ;
      break;
    case MT_OP_FABRICATE:
      *word = 2, *use = MT_SWAP_FABRICATE;
      break;
    case MT_OP_DRIFT:
      *word = MT_PL_DRIFT_TILE, *use = MT_SWAP_WRITE;
      break;
    case MT_OP_STATE_READ: case MT_OP_STATE_WRITE:
      if (len < 2 || p[0] != MT_SECTION_TILE) return 0;
      *word = 1, *use = op == MT_OP_STATE_READ ? MT_SWAP_READ : MT_SWAP_WRITE;
      break;
    default:
      return 0;
  }
  return len > *word;
}

int mt_dev_command(mt_dev *dev, uint32_t opcode, const uint32_t *p, uint32_t len, uint32_t *rsp,
                   uint32_t rsp_cap, uint32_t *rsp_len) {
  /* The header carries 8 opcode bits: a larger opcode would be sent as another one. */
  if (opcode > 0xFFu)
    return fail(dev, MT_ERR_INVAL, "opcode %u does not fit the 8-bit opcode field", opcode);
  if (len > MT_MAX_PAYLOAD || (len && !p))
    return fail(dev, MT_ERR_INVAL, "command payload of %u words (max %u)", len, MT_MAX_PAYLOAD);
  if (rsp_cap && !rsp) return fail(dev, MT_ERR_INVAL, "no response buffer for %u words", rsp_cap);
  /* The tile first: a swap uses the command buffer. */
  uint32_t word = 0, slot = 0;
  mt_swap_use use = MT_SWAP_READ;
  int named = raw_tile(opcode, p, len, &word, &use);
  int rc = named ? tile_slot(dev, opcode, word, p[word], use, &slot) : MT_OK;
  if (rc != MT_OK) return rc;
  if (len) memcpy(payload(dev), p, len * sizeof *p);
  if (named) payload(dev)[word] = slot;
  /* FABRICATE and DRIFT seed their lanes alike: a tile draws the same in any slot. */
  if (named && ((opcode == MT_OP_FABRICATE && len == 3) ||
                (opcode == MT_OP_DRIFT && len == MT_PL_DRIFT_WORDS))) {
    uint64_t seed = fabricate_seed(p[0] | (uint64_t)p[1] << 32, p[word], slot);
    payload(dev)[0] = (uint32_t)seed;
    payload(dev)[1] = (uint32_t)(seed >> 32);
  }
  rc = exec(dev, opcode, len);
  if (rc != MT_OK) return rc;
  if (dev->out_len > rsp_cap)
    return fail(dev, MT_ERR_INVAL, "response of %u words does not fit in %u", dev->out_len, rsp_cap);
  if (dev->out_len) memcpy(rsp, dev->out, dev->out_len * sizeof *rsp);
  if (rsp_len) *rsp_len = dev->out_len;
  return MT_OK;
}

int mt_dev_configure(mt_dev *dev, const uint32_t *cfg) {
  memcpy(payload(dev), cfg, MT_CFG_COUNT * sizeof *cfg);
  return post(dev, MT_OP_CONFIGURE, MT_CFG_COUNT);
}

int mt_dev_set_levels(mt_dev *dev, uint32_t levels, const uint32_t *table) {
  if (levels > MT_MAX_LEVELS)
    return fail(dev, MT_ERR_INVAL, "SET_LEVELS: %u levels (max %u)", levels, MT_MAX_LEVELS);
  payload(dev)[0] = levels;
  memcpy(payload(dev) + 1, table, levels * MT_LEVEL_ENTRY_WORDS * sizeof *table);
  return post(dev, MT_OP_SET_LEVELS, 1 + levels * MT_LEVEL_ENTRY_WORDS);
}

int mt_dev_set_meta_table(mt_dev *dev, const uint16_t *meta) {
  for (uint32_t k = 0; k < MT_META_TABLE_SIZE / 2; k++)
    payload(dev)[k] = meta[2 * k] | (uint32_t)meta[2 * k + 1] << 16;
  return post(dev, MT_OP_META_TABLE, MT_META_TABLE_SIZE / 2);
}

int mt_dev_seed(mt_dev *dev, uint64_t seed) {
  payload(dev)[0] = (uint32_t)seed;
  payload(dev)[1] = (uint32_t)(seed >> 32);
  return post(dev, MT_OP_SEED, 2);
}

int mt_dev_fabricate(mt_dev *dev, uint64_t seed, uint32_t tile) {
  uint32_t slot = 0;
  int rc = tile_slot(dev, MT_OP_FABRICATE, 2, tile, MT_SWAP_FABRICATE, &slot);
  if (rc != MT_OK) return rc;
  seed = fabricate_seed(seed, tile, slot);
  payload(dev)[0] = (uint32_t)seed;
  payload(dev)[1] = (uint32_t)(seed >> 32);
  payload(dev)[2] = slot;
  return post(dev, MT_OP_FABRICATE, 3);
}

int mt_dev_drift_log2(double t0, double t1, uint32_t *log2_ratio) {
  /* !(x > 0) also refuses NaN. */
  if (!(t0 > 0) || !(t1 >= t0) || !isfinite(t1)) return MT_ERR_INVAL;
  double l = round(log2(t1 / t0) * 65536.0);
  if (!(l <= MT_DRIFT_MAX_LOG2)) return MT_ERR_INVAL;
  *log2_ratio = (uint32_t)l;
  return MT_OK;
}

int mt_dev_drift(mt_dev *dev, uint32_t tile, uint64_t seed, double t0, double t1) {
  uint32_t l = 0;
  if (mt_dev_drift_log2(t0, t1, &l) != MT_OK)
    return fail(dev, MT_ERR_INVAL,
                "drift from t0 = %g s to t1 = %g s: need 0 < t0 <= t1 and t1/t0 <= 2^64", t0, t1);
  uint32_t slot = 0;
  int rc = tile_slot(dev, MT_OP_DRIFT, MT_PL_DRIFT_TILE, tile, MT_SWAP_WRITE, &slot);
  if (rc != MT_OK) return rc;
  seed = fabricate_seed(seed, tile, slot);
  payload(dev)[MT_PL_DRIFT_SEED_LO] = (uint32_t)seed;
  payload(dev)[MT_PL_DRIFT_SEED_HI] = (uint32_t)(seed >> 32);
  payload(dev)[MT_PL_DRIFT_TILE] = slot;
  payload(dev)[MT_PL_DRIFT_LOG2_RATIO] = l;
  return post(dev, MT_OP_DRIFT, MT_PL_DRIFT_WORDS);
}

int mt_dev_program(mt_dev *dev, uint32_t tile, uint32_t flags, const uint32_t *entries, size_t n,
                   mt_prog_result *res) {
  mt_prog_result sum = {0, 0, 0};
  const size_t chunk = dev->max_payload - 2;
  int rc = tile_slot(dev, MT_OP_PROGRAM, 0, tile, MT_SWAP_WRITE, &tile);
  if (rc != MT_OK) return rc;
  for (size_t done = 0; done < n || (n == 0 && done == 0); done += chunk) {
    uint32_t m = (uint32_t)(n - done < chunk ? n - done : chunk);
    payload(dev)[0] = tile;
    payload(dev)[1] = flags;
    if (m) memcpy(payload(dev) + 2, entries + done, m * sizeof *entries);
    rc = exec(dev, MT_OP_PROGRAM, 2 + m);
    if (rc == MT_OK) rc = expect_out(dev, MT_OP_PROGRAM, 3);
    if (rc != MT_OK) return rc;
    sum.programmed += dev->out[0];
    sum.skipped += dev->out[1];
    sum.wv_failures += dev->out[2];
    if (n == 0) break;
  }
  if (res) *res = sum;
  return MT_OK;
}

int mt_dev_pulse(mt_dev *dev, uint32_t tile, const uint32_t *entries, size_t n) {
  const size_t chunk = dev->max_payload - 1;
  int rc = n ? tile_slot(dev, MT_OP_PULSE, 0, tile, MT_SWAP_WRITE, &tile) : MT_OK;
  if (rc != MT_OK) return rc;
  for (size_t done = 0; done < n; done += chunk) {
    uint32_t m = (uint32_t)(n - done < chunk ? n - done : chunk);
    payload(dev)[0] = tile;
    memcpy(payload(dev) + 1, entries + done, m * sizeof *entries);
    rc = post(dev, MT_OP_PULSE, 1 + m);
    if (rc != MT_OK) return rc;
  }
  return MT_OK;
}

static void put_region(mt_dev *dev, uint32_t tile, mt_region r) {
  uint32_t *p = payload(dev);
  p[0] = tile, p[1] = r.row0, p[2] = r.nrows, p[3] = r.col0, p[4] = r.ncols;
}

/* Region sizes the caller's arrays are built for; the device checks bounds. */
static int region_words(mt_dev *dev, mt_region r, uint32_t *n) {
  if (r.nrows == 0 || r.ncols == 0 || r.nrows > MT_ROWS || r.ncols > MT_COLS)
    return fail(dev, MT_ERR_INVAL, "region %ux%u is empty or larger than a tile (%ux%u)", r.nrows,
                r.ncols, MT_ROWS, MT_COLS);
  *n = r.nrows * r.ncols;
  return MT_OK;
}

/* Whether r lies within a tile (the device's check_region). */
static int region_inside(mt_region r) {
  return r.row0 < MT_ROWS && r.nrows <= MT_ROWS - r.row0 && r.col0 < MT_COLS &&
         r.ncols <= MT_COLS - r.col0;
}

/* Where a region read's answers go: READ_CELLS g+ and g- (either may be NULL), READ_LEVELS
 * levels (lo), META_READ hidden weights (h). */
typedef struct {
  uint16_t *lo, *hi;
  int32_t *h;
} region_out;

/* Sends a region command of len payload words (READ_CELLS: 6, with flags; READ_LEVELS and
 * META_READ: 5) whose response is one word per cell, row-major, into o.
 * Where that is more than a response the link carries (usb://: a whole 128x128 tile is 16,384
 * words, one RSP of the AC701 build carries 16,381), the region goes in bands of whole rows,
 * or pieces of one row where not even a row fits, in row-major order: the device visits the
 * cells in the order of one read, so READ_CELLS draws the same noise from each column's lane
 * and the answers are word for word those of one read. A region outside the tile is sent
 * whole, so that the device reports its range error before anything runs, as it would for
 * one read. */
static int region_read(mt_dev *dev, uint32_t op, uint32_t tile, mt_region r, uint32_t len,
                       uint32_t flags, region_out o) {
  uint32_t n = 0;
  int rc = region_words(dev, r, &n);
  if (rc == MT_OK) rc = tile_slot(dev, op, 0, tile, MT_SWAP_READ, &tile);
  if (rc != MT_OK) return rc;
  const uint32_t cap = dev->max_rsp_payload;
  uint32_t band_rows = r.nrows, band_cols = r.ncols;
  if (n > cap && region_inside(r)) {
    band_rows = cap >= r.ncols ? cap / r.ncols : 1;
    band_cols = cap >= r.ncols ? r.ncols : cap;
  }
  assert(band_rows > 0 && band_cols > 0);
  uint32_t at = 0;
  for (uint32_t i = 0; i < r.nrows; i += band_rows) {
    for (uint32_t j = 0; j < r.ncols; j += band_cols) {
      mt_region b = {r.row0 + i, r.nrows - i < band_rows ? r.nrows - i : band_rows, r.col0 + j,
                     r.ncols - j < band_cols ? r.ncols - j : band_cols};
      uint32_t m = b.nrows * b.ncols;
      put_region(dev, tile, b);
      if (len > 5) payload(dev)[5] = flags;
      rc = exec(dev, op, len);
      if (rc == MT_OK) rc = expect_out(dev, op, m);
      if (rc != MT_OK) return rc;
      for (uint32_t k = 0; k < m; k++) {
        if (o.lo) o.lo[at + k] = (uint16_t)dev->out[k];
        if (o.hi) o.hi[at + k] = (uint16_t)(dev->out[k] >> 16);
        if (o.h) o.h[at + k] = (int32_t)dev->out[k];
      }
      at += m;
    }
  }
  assert(at == n);
  return MT_OK;
}

int mt_dev_read_cells(mt_dev *dev, uint32_t tile, mt_region r, int probe, uint16_t *g_plus,
                      uint16_t *g_minus) {
  return region_read(dev, MT_OP_READ_CELLS, tile, r, 6, probe ? MT_READ_PROBE : 0,
                     (region_out){g_plus, g_minus, NULL});
}

int mt_dev_read_list(mt_dev *dev, uint32_t tile, int probe, const uint32_t *cells, size_t n,
                     uint16_t *g_plus, uint16_t *g_minus) {
  if (n && !cells) return fail(dev, MT_ERR_INVAL, "READ_LIST: %zu cells but no cell list", n);
  int rc = n ? tile_slot(dev, MT_OP_READ_LIST, MT_PL_READ_LIST_TILE, tile, MT_SWAP_READ, &tile) : MT_OK;
  if (rc != MT_OK) return rc;
  /* As many commands as the payload limit needs; each answers one word per entry. */
  const size_t chunk = dev->max_payload - MT_PL_READ_LIST_WORDS;
  for (size_t done = 0; done < n; done += chunk) {
    uint32_t m = (uint32_t)(n - done < chunk ? n - done : chunk);
    payload(dev)[MT_PL_READ_LIST_TILE] = tile;
    payload(dev)[MT_PL_READ_LIST_FLAGS] = probe ? MT_READ_PROBE : 0;
    memcpy(payload(dev) + MT_PL_READ_LIST_WORDS, cells + done, m * sizeof *cells);
    rc = exec(dev, MT_OP_READ_LIST, MT_PL_READ_LIST_WORDS + m);
    if (rc == MT_OK) rc = expect_out(dev, MT_OP_READ_LIST, m);
    if (rc != MT_OK) return rc;
    for (uint32_t k = 0; k < m; k++) {
      if (g_plus) g_plus[done + k] = (uint16_t)dev->out[k];
      if (g_minus) g_minus[done + k] = (uint16_t)(dev->out[k] >> 16);
    }
  }
  return MT_OK;
}

int mt_dev_read_levels(mt_dev *dev, uint32_t tile, mt_region r, uint16_t *levels) {
  return region_read(dev, MT_OP_READ_LEVELS, tile, r, 5, 0, (region_out){levels, NULL, NULL});
}

static void pack16(uint32_t *dst, const int16_t *src, uint32_t n) {
  for (uint32_t k = 0; k < n; k += 2) {
    uint32_t hi = k + 1 < n ? (uint16_t)src[k + 1] : 0;
    dst[k / 2] = (uint16_t)src[k] | hi << 16;
  }
}

int mt_dev_mvm(mt_dev *dev, uint32_t tile, uint32_t nvec, uint32_t nrows, uint32_t ncols,
               const int16_t *x, int16_t *y) {
  if (nrows == 0 || nrows > MT_ROWS || ncols == 0 || ncols > MT_COLS)
    return fail(dev, MT_ERR_INVAL, "MVM of %u rows x %u columns on a %ux%u tile", nrows, ncols,
                MT_ROWS, MT_COLS);
  uint32_t in_w = (nrows + 1) / 2, out_w = (ncols + 1) / 2;
  int rc = nvec ? tile_slot(dev, MT_OP_MVM, 0, tile, MT_SWAP_READ, &tile) : MT_OK;
  if (rc != MT_OK) return rc;
  /* As many vectors per command as the protocol and the link's frames allow. */
  uint32_t per = (dev->max_payload - 4) / in_w < MT_MAX_BATCH ? (dev->max_payload - 4) / in_w : MT_MAX_BATCH;
  for (uint32_t v0 = 0; v0 < nvec; v0 += per) {
    uint32_t nv = nvec - v0 < per ? nvec - v0 : per;
    uint32_t *p = payload(dev);
    p[0] = tile, p[1] = nv, p[2] = nrows, p[3] = ncols;
    for (uint32_t v = 0; v < nv; v++) pack16(p + 4 + v * in_w, x + (size_t)(v0 + v) * nrows, nrows);
    rc = exec(dev, MT_OP_MVM, 4 + nv * in_w);
    if (rc == MT_OK) rc = expect_out(dev, MT_OP_MVM, nv * out_w);
    if (rc != MT_OK) return rc;
    for (uint32_t v = 0; v < nv; v++)
      for (uint32_t j = 0; j < ncols; j++)
        y[(size_t)(v0 + v) * ncols + j] = (int16_t)(uint16_t)(dev->out[v * out_w + j / 2] >> (16u * (j % 2)));
  }
  return MT_OK;
}

static int prog_result(mt_dev *dev, uint32_t op, mt_prog_result *res) {
  int rc = expect_out(dev, op, 3);
  if (rc == MT_OK && res) *res = (mt_prog_result){dev->out[0], dev->out[1], dev->out[2]};
  return rc;
}

/* META_WRITE (h) or META_UPDATE (d) of a region. One whose command would be longer than the
 * device or the link takes (a whole 128x128 tile is 16,389 or 8,197 words; the AC701 build
 * takes 8,192) goes in bands of whole rows in row-major order: the device updates and
 * programs the cells in the order of one command, write-verify draws included, and the
 * results are summed. META_WRITE checks every hidden weight before it changes anything, so
 * the bands' values are checked here first and a bad one gets the device's own error for one
 * command, with nothing sent. A region that leaves the tile goes whole, for the device's range
 * error. */
static int meta_write_region(mt_dev *dev, uint32_t op, uint32_t tile, mt_region r,
                             const int32_t *h, const int16_t *d, mt_prog_result *res) {
  uint32_t n = 0;
  int rc = region_words(dev, r, &n);
  if (rc == MT_OK) rc = tile_slot(dev, op, 0, tile, MT_SWAP_WRITE, &tile);
  if (rc != MT_OK) return rc;
  const uint32_t room = dev->max_payload - 5; /* cell words after the region */
  const uint32_t fit = op == MT_OP_META_WRITE ? room : 2 * room; /* cells per command */
  uint32_t band_rows = r.nrows;
  if (n > fit && region_inside(r)) {
    band_rows = fit / r.ncols;
    for (uint32_t k = 0; op == MT_OP_META_WRITE && k < n; k++)
      if (h[k] > (int32_t)MT_HIDDEN_MAX || h[k] < -(int32_t)MT_HIDDEN_MAX) {
        describe_error(dev, op, MT_ST_ERR_RANGE, 5 + k, (uint32_t)h[k]);
        return MT_ERR_DEVICE;
      }
  }
  assert(band_rows > 0); /* attach() makes room for a whole row */
  mt_prog_result sum = {0, 0, 0};
  for (uint32_t i = 0; i < r.nrows; i += band_rows) {
    mt_region b = {r.row0 + i, r.nrows - i < band_rows ? r.nrows - i : band_rows, r.col0, r.ncols};
    uint32_t m = b.nrows * b.ncols, at = i * r.ncols;
    put_region(dev, tile, b);
    if (op == MT_OP_META_WRITE) {
      for (uint32_t k = 0; k < m; k++) payload(dev)[5 + k] = (uint32_t)h[at + k];
      rc = exec(dev, op, 5 + m);
    } else {
      pack16(payload(dev) + 5, d + at, m);
      rc = exec(dev, op, 5 + (m + 1) / 2);
    }
    mt_prog_result one = {0, 0, 0};
    if (rc == MT_OK) rc = prog_result(dev, op, &one);
    if (rc != MT_OK) return rc;
    sum.programmed += one.programmed;
    sum.skipped += one.skipped;
    sum.wv_failures += one.wv_failures;
  }
  if (res) *res = sum;
  return MT_OK;
}

int mt_dev_meta_write(mt_dev *dev, uint32_t tile, mt_region r, const int32_t *h,
                      mt_prog_result *res) {
  return meta_write_region(dev, MT_OP_META_WRITE, tile, r, h, NULL, res);
}

int mt_dev_meta_update(mt_dev *dev, uint32_t tile, mt_region r, const int16_t *d,
                       mt_prog_result *res) {
  return meta_write_region(dev, MT_OP_META_UPDATE, tile, r, NULL, d, res);
}

int mt_dev_meta_read(mt_dev *dev, uint32_t tile, mt_region r, int32_t *h) {
  return region_read(dev, MT_OP_META_READ, tile, r, 5, 0, (region_out){NULL, NULL, h});
}

int mt_dev_stats(mt_dev *dev, uint64_t *counters, size_t n) {
  int rc = exec(dev, MT_OP_STATS_GET, 0);
  if (rc == MT_OK) rc = expect_out(dev, MT_OP_STATS_GET, 2 * MT_CNT_COUNT);
  if (rc != MT_OK) return rc;
  for (size_t k = 0; k < n && k < MT_CNT_COUNT; k++)
    counters[k] = dev->out[2 * k] | (uint64_t)dev->out[2 * k + 1] << 32;
  return MT_OK;
}

int mt_dev_stats_reset(mt_dev *dev) { return post(dev, MT_OP_STATS_RESET, 0); }

/* ---- snapshots ---------------------------------------------------------- */

static int state_read(mt_dev *dev, uint32_t section, uint32_t index, uint32_t offset,
                      uint32_t count, uint32_t *dst) {
  uint32_t *p = payload(dev);
  p[0] = section, p[1] = index, p[2] = offset, p[3] = count;
  int rc = exec(dev, MT_OP_STATE_READ, 4);
  if (rc == MT_OK) rc = expect_out(dev, MT_OP_STATE_READ, count);
  if (rc == MT_OK) memcpy(dst, dev->out, count * sizeof *dst);
  return rc;
}

static int state_write(mt_dev *dev, uint32_t section, uint32_t index, uint32_t offset,
                       uint32_t count, const uint32_t *src) {
  uint32_t *p = payload(dev);
  p[0] = section, p[1] = index, p[2] = offset;
  memcpy(p + 3, src, count * sizeof *src);
  return post(dev, MT_OP_STATE_WRITE, 3 + count);
}

static size_t snapshot_words(const mt_dev *dev) {
  return SNAP_HDR_WORDS + MT_GLOBAL_WORDS + (size_t)dev->info.tiles * MT_TILE_WORDS + 1;
}

static void put_le32(unsigned char *b, uint32_t v) {
  b[0] = (unsigned char)v, b[1] = (unsigned char)(v >> 8), b[2] = (unsigned char)(v >> 16),
  b[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *b) {
  return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* A swapping handle's image is that of its logical device (docs/tile-swapping.md): every
 * changed resident tile is saved first, each tile's section comes from host memory (a tile
 * never fabricated reads as at power-on: level LEVEL_NONE, every other word 0), and the GLOBAL
 * section's fabricated bits are the logical tiles'. */
static int swapped_image(mt_dev *dev, uint32_t *g) {
  int rc = mt_tileswap_evict_all(dev->swap);
  if (rc != MT_OK) return rc;
  for (uint32_t k = 0; k < MT_MAX_TILES / 32; k++) g[MT_G_FABRICATED + k] = 0;
  for (uint32_t t = 0; t < dev->info.tiles; t++) {
    uint32_t *tw = g + MT_GLOBAL_WORDS + (size_t)t * MT_TILE_WORDS;
    if (mt_tileswap_fabricated(dev->swap, t)) {
      g[MT_G_FABRICATED + t / 32] |= 1u << (t % 32);
      memcpy(tw, mt_tileswap_state(dev->swap, t), MT_TILE_WORDS * sizeof *tw);
    } else {
      memset(tw, 0, MT_TILE_WORDS * sizeof *tw);
      for (uint32_t r = 0; r < MT_ROWS * MT_COLS; r++)
        tw[r * MT_WEIGHT_WORDS + MT_W_FLAGS] = MT_LEVEL_NONE << 16;
    }
  }
  return MT_OK;
}

int mt_dev_snapshot_bytes(mt_dev *dev, unsigned char **out, size_t *n) {
  size_t words = snapshot_words(dev);
  uint32_t *img = malloc(words * sizeof *img);
  unsigned char *bytes = malloc(words * 4);
  if (!img || !bytes) {
    free(img);
    free(bytes);
    return fail(dev, MT_ERR_NOMEM, "%s: out of memory for a %zu-byte snapshot", dev->uri, words * 4);
  }
  uint32_t hdr[SNAP_HDR_WORDS] = {SNAP_MAGIC, SNAP_FORMAT, dev->info.version, MT_ROWS, MT_COLS,
                                  dev->info.tiles, MT_GLOBAL_WORDS, MT_TILE_WORDS};
  memcpy(img, hdr, sizeof hdr);
  uint32_t *w = img + SNAP_HDR_WORDS;
  int rc = state_read(dev, MT_SECTION_GLOBAL, 0, 0, MT_GLOBAL_WORDS, w);
  if (rc == MT_OK && dev->swap) rc = swapped_image(dev, w);
  w += MT_GLOBAL_WORDS;
  for (uint32_t t = 0; rc == MT_OK && !dev->swap && t < dev->info.tiles; t++) {
    const uint32_t chunk = tile_read_chunk(dev);
    for (uint32_t off = 0; rc == MT_OK && off < MT_TILE_WORDS; off += chunk) {
      uint32_t cnt = MT_TILE_WORDS - off < chunk ? MT_TILE_WORDS - off : chunk;
      rc = state_read(dev, MT_SECTION_TILE, t, off, cnt, w + off);
    }
    w += MT_TILE_WORDS;
  }
  if (rc == MT_OK) {
    for (size_t k = 0; k + 1 < words; k++) put_le32(bytes + 4 * k, img[k]);
    put_le32(bytes + 4 * (words - 1), (uint32_t)crc32(0L, bytes, (uInt)((words - 1) * 4)));
    *out = bytes;
    *n = words * 4;
  } else {
    free(bytes);
  }
  free(img);
  return rc;
}

int mt_dev_snapshot_save(mt_dev *dev, const char *path) {
  unsigned char *bytes = NULL;
  size_t n = 0;
  int rc = mt_dev_snapshot_bytes(dev, &bytes, &n);
  if (rc != MT_OK) return rc;
  char err[512];
  if (mt_write_atomic(path, bytes, n, err, sizeof err) != 0) rc = fail(dev, MT_ERR_IO, "%s", err);
  free(bytes);
  return rc;
}

/* Sends a GLOBAL section and its tiles, tiles first (the global section names which tiles are
 * fabricated), and waits for every response. */
static int write_image(mt_dev *dev, const uint32_t *g) {
  int rc = MT_OK;
  for (uint32_t t = 0; rc == MT_OK && t < dev->info.tiles; t++) {
    const uint32_t *tw = g + MT_GLOBAL_WORDS + (size_t)t * MT_TILE_WORDS;
    const uint32_t chunk = tile_write_chunk(dev);
    for (uint32_t off = 0; rc == MT_OK && off < MT_TILE_WORDS; off += chunk) {
      uint32_t cnt = MT_TILE_WORDS - off < chunk ? MT_TILE_WORDS - off : chunk;
      rc = state_write(dev, MT_SECTION_TILE, t, off, cnt, tw + off);
    }
  }
  if (rc == MT_OK) rc = state_write(dev, MT_SECTION_GLOBAL, 0, 0, MT_GLOBAL_WORDS, g);
  if (rc == MT_OK) rc = flush(dev); /* a restore reports its own errors, queued or not */
  return rc;
}

/* Restores the image g of a swapping handle's logical device. The device checks every section:
 * each fabricated tile's goes to an emptied slot (every tile's state is in host memory by
 * then), and the GLOBAL section with the device's own fabricated bits (its slots'). Only then
 * do the tiles' states replace those in host memory, so a rejected image changes nothing. */
static int restore_swapped(mt_dev *dev, const uint32_t *g, const char *origin) {
  const uint32_t tiles = dev->info.tiles;
  for (uint32_t t = tiles; t < MT_MAX_TILES; t++)
    if (g[MT_G_FABRICATED + t / 32] >> (t % 32) & 1u)
      return fail(dev, MT_ERR_FILE, "%s: tile %u is fabricated, but this device has %u", origin, t,
                  tiles);
  uint32_t *gw = malloc(MT_GLOBAL_WORDS * sizeof *gw);
  if (!gw) return fail(dev, MT_ERR_NOMEM, "%s: out of memory", origin);
  memcpy(gw, g, MT_GLOBAL_WORDS * sizeof *gw);
  int rc = mt_tileswap_evict_all(dev->swap);
  if (rc == MT_OK)
    rc = state_read(dev, MT_SECTION_GLOBAL, 0, MT_G_FABRICATED, MT_MAX_TILES / 32, gw + MT_G_FABRICATED);
  const uint32_t chunk = tile_write_chunk(dev);
  for (uint32_t t = 0; rc == MT_OK && t < tiles; t++) {
    if (!(g[MT_G_FABRICATED + t / 32] >> (t % 32) & 1u)) continue;
    const uint32_t *tw = g + MT_GLOBAL_WORDS + (size_t)t * MT_TILE_WORDS;
    for (uint32_t off = 0; rc == MT_OK && off < MT_TILE_WORDS; off += chunk) {
      uint32_t cnt = MT_TILE_WORDS - off < chunk ? MT_TILE_WORDS - off : chunk;
      rc = state_write(dev, MT_SECTION_TILE, 0, off, cnt, tw + off);
    }
  }
  if (rc == MT_OK) rc = state_write(dev, MT_SECTION_GLOBAL, 0, 0, MT_GLOBAL_WORDS, gw);
  if (rc == MT_OK) rc = flush(dev);
  free(gw);
  if (rc == MT_ERR_DEVICE) {
    char why[sizeof dev->msg];
    snprintf(why, sizeof why, "%s", dev->msg);
    return fail(dev, MT_ERR_FILE, "%s: the device rejected the image, state unchanged: %s", origin, why);
  }
  uint8_t fab[MT_MAX_TILES] = {0};
  for (uint32_t t = 0; rc == MT_OK && t < tiles; t++) {
    fab[t] = g[MT_G_FABRICATED + t / 32] >> (t % 32) & 1u;
    uint32_t *st = fab[t] ? mt_tileswap_state(dev->swap, t) : NULL;
    if (fab[t] && !st) rc = fail(dev, MT_ERR_NOMEM, "%s: out of memory", origin);
    else if (fab[t]) memcpy(st, g + MT_GLOBAL_WORDS + (size_t)t * MT_TILE_WORDS, MT_TILE_WORDS * sizeof *st);
  }
  if (rc == MT_OK) mt_tileswap_restored(dev->swap, fab);
  return rc;
}

int mt_dev_restore_bytes(mt_dev *dev, const unsigned char *bytes, size_t n, const char *origin) {
  size_t words = snapshot_words(dev);
  /* The size is fixed by this device's geometry: check it before reading. */
  if (n != words * 4)
    return fail(dev, MT_ERR_FILE, "%s: %zu bytes, but a snapshot of this device (%u tiles) has %zu",
                origin, n, dev->info.tiles, words * 4);
  uint32_t *img = malloc(words * sizeof *img);
  if (!img) return fail(dev, MT_ERR_NOMEM, "%s: out of memory", origin);
  int rc = MT_OK;
  for (size_t k = 0; k < words; k++) img[k] = get_le32(bytes + 4 * k);
  uint32_t crc = (uint32_t)crc32(0L, bytes, (uInt)((words - 1) * 4));
  uint32_t expect[SNAP_HDR_WORDS] = {SNAP_MAGIC, SNAP_FORMAT, dev->info.version, MT_ROWS, MT_COLS,
                                     dev->info.tiles, MT_GLOBAL_WORDS, MT_TILE_WORDS};
  static const char *const names[SNAP_HDR_WORDS] = {"magic", "format", "protocol version", "rows",
                                                    "columns", "tiles", "global words", "tile words"};
  for (uint32_t k = 0; k < SNAP_HDR_WORDS && rc == MT_OK; k++)
    if (img[k] != expect[k])
      rc = fail(dev, MT_ERR_FILE, "%s: header %s is %u, this device needs %u", origin, names[k],
                img[k], expect[k]);
  if (rc == MT_OK && crc != img[words - 1])
    rc = fail(dev, MT_ERR_FILE, "%s: checksum mismatch (file damaged)", origin);
  /* Which words are valid is the device's rule (it checks every STATE_WRITE), not the host's:
   * a word it rejects undoes the whole restore from a snapshot taken first, so that a bad image
   * changes nothing on every backend. */
  if (rc == MT_OK && dev->swap) {
    rc = restore_swapped(dev, img + SNAP_HDR_WORDS, origin);
    free(img);
    return rc;
  }
  unsigned char *old = NULL;
  size_t old_n = 0;
  if (rc == MT_OK) rc = mt_dev_snapshot_bytes(dev, &old, &old_n);
  if (rc == MT_OK) {
    rc = write_image(dev, img + SNAP_HDR_WORDS);
    if (rc == MT_ERR_DEVICE) {
      char why[sizeof dev->msg], undo[sizeof dev->msg];
      snprintf(why, sizeof why, "%s", dev->msg);
      assert(old_n == words * 4);
      for (size_t k = 0; k < words; k++) img[k] = get_le32(old + 4 * k);
      int back = write_image(dev, img + SNAP_HDR_WORDS);
      snprintf(undo, sizeof undo, "%s", dev->msg);
      if (back == MT_OK)
        rc = fail(dev, MT_ERR_FILE, "%s: the device rejected the image, state unchanged: %s",
                  origin, why);
      else
        rc = fail(dev, back, "%s: the device rejected the image (%s); undoing it failed too: %s",
                  origin, why, undo);
    }
  }
  free(old);
  free(img);
  return rc;
}

int mt_dev_snapshot_load(mt_dev *dev, const char *path) {
  unsigned char *bytes = NULL;
  size_t n = 0;
  char err[512];
  /* Reading at most one byte more than a valid snapshot lets a wrong size be
   * reported by mt_dev_restore_bytes without reading a huge file. */
  int rc = mt_read_file(path, snapshot_words(dev) * 4 + 1, &bytes, &n, err, sizeof err);
  if (rc != MT_OK) return fail(dev, rc, "%s (snapshot)", err);
  rc = mt_dev_restore_bytes(dev, bytes, n, path);
  free(bytes);
  return rc;
}
