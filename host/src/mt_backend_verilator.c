/* verilator://: the RTL (rtl/mt_device.sv) simulated cycle by cycle by Verilator, in-process
 * (sim/mt_sim.h). The same command words as model:// go in and must come out bit-exact; the
 * simulated cycle count is the extra this backend offers (mt_dev_cycles). Linked only into
 * programs that link the Verilated device (build/rtl/libmtsim_ref.a, see the Makefile). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtile.h"
#include "mt_backend.h"
#include "mt_sim.h"

struct mt_backend {
  mt_sim *sim;
};

/* Accepts "" or "?trace=FILE" (an FST waveform of the whole run; MT_TRACE=FILE does the
 * same for any program). */
static int parse_params(const char *params, const char **trace, char *err, size_t errlen) {
  *trace = NULL;
  if (params[0] == '\0') return MT_OK;
  if (strncmp(params, "?trace=", 7) == 0 && params[7] != '\0') {
    *trace = params + 7;
    return MT_OK;
  }
  snprintf(err, errlen, "verilator://%s: unknown parameter (expected nothing or ?trace=FILE.fst)",
           params);
  return MT_ERR_INVAL;
}

static int vl_open(const char *params, mt_backend **out, char *err, size_t errlen) {
  const char *trace = NULL;
  int rc = parse_params(params, &trace, err, errlen);
  if (rc != MT_OK) return rc;
  mt_backend *be = calloc(1, sizeof *be);
  if (!be) {
    snprintf(err, errlen, "verilator://: out of memory");
    return MT_ERR_NOMEM;
  }
  char why[256] = "";
  be->sim = mt_sim_open(trace, why, sizeof why);
  if (!be->sim) {
    snprintf(err, errlen, "verilator://%s: %s", params, why);
    free(be);
    return MT_ERR_IO;
  }
  *out = be;
  return MT_OK;
}

static int vl_transact(mt_backend *be, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                       uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, char *err,
                       size_t errlen) {
  if (mt_sim_transact(be->sim, cmd, n_cmd, rsp, rsp_cap, n_rsp, consumed, NULL, err, errlen) != 0)
    return MT_ERR_IO;
  return MT_OK;
}

static uint64_t vl_cycles(mt_backend *be) { return mt_sim_cycles(be->sim); }

static void vl_close(mt_backend *be) {
  if (!be) return;
  mt_sim_close(be->sim);
  free(be);
}

const mt_backend_ops mt_backend_verilator = {"verilator", vl_open, vl_transact, vl_close,
                                             vl_cycles};
