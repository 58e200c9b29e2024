/* verilator://: the RTL (rtl/mt_device.sv) simulated cycle by cycle by Verilator, in-process
 * (sim/mt_sim.h). The same command words as model:// go in and must come out bit-exact; the
 * simulated cycle count is the extra this backend offers (mt_dev_cycles). With ?link=usb the
 * commands instead travel in frames (mt_link.c) through the pin-level FT601 model into the
 * board's USB core (rtl/mt_usb_core.sv: bridge, FIFOs, frame engine, device; docs/usb.md),
 * optionally through the fault injector. Linked only into programs that link the Verilated
 * device (build/rtl/libmtsim_ref.a, libmtusbsim_ref.a; see the Makefile). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtile.h"
#include "mt_backend.h"
#include "mt_link.h"
#include "mt_protocol.h"
#include "mt_sim.h"
#include "mt_transport_usbsim.h"

struct mt_backend {
  mt_sim *sim;      /* direct */
  mt_usbsim *usb;   /* link=usb: the simulation under the link */
  mt_link *link;
};

typedef struct {
  const char *trace; /* points into a copy of params */
  int usb;
  const char *faults;
  uint64_t seed;
  int have_seed;
} vl_params;

/* "" or "?key=value&key=value": trace=FILE.fst (an FST waveform of the whole run; MT_TRACE=FILE
 * does the same for any program), link=usb, faults=SPEC and seed=N (with link=usb). */
static int parse_params(char *params, vl_params *p, char *err, size_t errlen) {
  memset(p, 0, sizeof *p);
  if (params[0] == '\0') return MT_OK;
  const char *expect = "expected ?trace=FILE.fst, ?link=usb, &faults=drop:P,corrupt:P,dup:P, &seed=N";
  if (params[0] != '?') {
    snprintf(err, errlen, "verilator://%s: unknown parameter (%s)", params, expect);
    return MT_ERR_INVAL;
  }
  for (char *kv = params + 1, *next; kv; kv = next) {
    next = strchr(kv, '&');
    if (next) *next++ = '\0';
    char *val = strchr(kv, '=');
    if (val) *val++ = '\0';
    if (!val || !*val) {
      snprintf(err, errlen, "verilator://: parameter '%s' has no value (%s)", kv, expect);
      return MT_ERR_INVAL;
    }
    if (!strcmp(kv, "trace")) {
      p->trace = val;
    } else if (!strcmp(kv, "link")) {
      if (strcmp(val, "usb") != 0) {
        snprintf(err, errlen, "verilator://: link=%s: the only link is usb", val);
        return MT_ERR_INVAL;
      }
      p->usb = 1;
    } else if (!strcmp(kv, "faults")) {
      p->faults = val;
    } else if (!strcmp(kv, "seed")) {
      char *end = NULL;
      errno = 0;
      unsigned long long v = strtoull(val, &end, 0);
      if (*end || errno || val[0] == '-') {
        snprintf(err, errlen, "verilator://: seed=%s is not an unsigned 64-bit integer", val);
        return MT_ERR_INVAL;
      }
      p->seed = v;
      p->have_seed = 1;
    } else {
      snprintf(err, errlen, "verilator://: unknown parameter '%s' (%s)", kv, expect);
      return MT_ERR_INVAL;
    }
  }
  if ((p->faults || p->have_seed) && !p->usb) {
    snprintf(err, errlen, "verilator://: %s needs link=usb (faults are injected into frames)",
             p->faults ? "faults" : "seed");
    return MT_ERR_INVAL;
  }
  return MT_OK;
}

static void vl_close(mt_backend *be) {
  if (!be) return;
  if (be->sim) mt_sim_close(be->sim);
  mt_link_close(be->link); /* closes the transports and the USB simulation */
  free(be);
}

static int open_usb(mt_backend *be, const vl_params *p, const char *uri, char *err,
                    size_t errlen) {
  mt_transport *t = NULL;
  char why[256] = "";
  int rc = mt_transport_usbsim_open(p->trace, &t, &be->usb, why, sizeof why);
  if (rc == MT_OK && p->faults) {
    mt_transport *f = NULL;
    rc = mt_transport_faults(t, p->faults, p->seed, &f, why, sizeof why);
    if (rc != MT_OK) t->ops->close(t);
    t = f;
  }
  if (rc != MT_OK) {
    snprintf(err, errlen, "%s: %s", uri, why);
    return rc;
  }
  /* The seq after SYNC: any value works with a freshly reset simulation; the seed varies it. */
  rc = mt_link_open(t, uri, (uint16_t)(0x4D54u ^ p->seed), MT_FRAME_TIMEOUT_MS, &be->link, err,
                    errlen);
  return rc;
}

static int vl_open(const char *params, mt_backend **out, char *err, size_t errlen) {
  char copy[512], uri[600];
  if (strlen(params) >= sizeof copy) {
    snprintf(err, errlen, "verilator://: parameters longer than %zu characters", sizeof copy - 1);
    return MT_ERR_INVAL;
  }
  strcpy(copy, params);
  snprintf(uri, sizeof uri, "verilator://%s", params);
  vl_params p;
  int rc = parse_params(copy, &p, err, errlen);
  if (rc != MT_OK) return rc;
  mt_backend *be = calloc(1, sizeof *be);
  if (!be) {
    snprintf(err, errlen, "verilator://: out of memory");
    return MT_ERR_NOMEM;
  }
  if (p.usb) {
    rc = open_usb(be, &p, uri, err, errlen);
    if (rc != MT_OK) {
      vl_close(be);
      return rc;
    }
  } else {
    char why[256] = "";
    be->sim = mt_sim_open(p.trace, why, sizeof why);
    if (!be->sim) {
      snprintf(err, errlen, "%s: %s", uri, why);
      free(be);
      return MT_ERR_IO;
    }
  }
  *out = be;
  return MT_OK;
}

static int vl_transact(mt_backend *be, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                       uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, char *err,
                       size_t errlen) {
  if (be->link)
    return mt_link_transact(be->link, cmd, n_cmd, rsp, rsp_cap, n_rsp, consumed, err, errlen);
  if (mt_sim_transact(be->sim, cmd, n_cmd, rsp, rsp_cap, n_rsp, consumed, NULL, err, errlen) != 0)
    return MT_ERR_IO;
  return MT_OK;
}

static uint64_t vl_cycles(mt_backend *be) {
  return be->usb ? mt_usbsim_core_cycles(be->usb) : mt_sim_cycles(be->sim);
}

static int vl_link_stats(mt_backend *be, mt_link_stats *st) {
  if (!be->link) return MT_ERR_NODEV;
  mt_link_get_stats(be->link, st);
  return MT_OK;
}

const mt_backend_ops mt_backend_verilator = {"verilator", vl_open,   vl_transact,
                                             vl_close,    vl_cycles, vl_link_stats};
