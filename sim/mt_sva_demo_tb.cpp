// Thin C-ABI wrapper of the Verilated sim/mt_sva_demo.sv (sim/mt_rtl_tb.h). Assertion failures
// are made non-fatal here, so that the test can count them instead of the process aborting.
#include "Vmt_sva_demo.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_sva : mt_tb_model<Vmt_sva_demo> {};

extern "C" {

tb_sva_t *tb_sva_open(void) {
  tb_sva_t *t = new tb_sva;
  t->ctx->fatalOnError(false);
  t->ctx->errorLimit(1 << 30);
  auto &m = *t->top;
  m.start_i = m.done_i = m.drives_i = 0;
  m.tvalid_i = m.tready_i = m.tdata_i = m.tlast_i = 0;
  t->reset(2);
  return t;
}

void tb_sva_close(tb_sva_t *t) { delete t; }

int tb_sva_cycle(tb_sva_t *t, int rst, unsigned start, unsigned done, unsigned drives, int tvalid,
                 int tready, unsigned tdata, int tlast) {
  auto &m = *t->top;
  m.rst_i = rst != 0;
  m.start_i = start & 7u;
  m.done_i = done & 7u;
  m.drives_i = drives & 7u;
  m.tvalid_i = tvalid != 0;
  m.tready_i = tready != 0;
  m.tdata_i = tdata & 0xFFu;
  m.tlast_i = tlast != 0;
  t->settle();
  const int before = t->ctx->errorCount();
  t->edge();
  const int fired = t->ctx->errorCount() - before;
  t->ctx->gotError(false);
  t->ctx->gotFinish(false);
  return fired;
}

}  // extern "C"
