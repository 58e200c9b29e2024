// Thin C-ABI wrapper of the Verilated rtl/mt_regfile.sv (sim/mt_rtl_tb.h).
#include "Vmt_regfile.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_regfile : mt_tb_model<Vmt_regfile> {};

namespace {
// cnt_inc_i holds counter c at bits [32c +: 32], one word of the Verilated wide port each.
constexpr unsigned kCounters = sizeof(Vmt_regfile::cnt_inc_i) / sizeof(uint32_t);
}  // namespace

extern "C" {

tb_regfile_t *tb_regfile_open(void) {
  tb_regfile_t *t = new tb_regfile;
  auto &m = *t->top;
  m.g_we_i = 0;
  m.fab_set_i = 0;
  m.cnt_clear_i = 0;
  m.lt_addr_i = 0;
  m.mt_addr_i = 0;
  m.g_raddr_i = 0;
  for (unsigned c = 0; c < kCounters; c++) m.cnt_inc_i[c] = 0;
  t->reset(2);
  for (int i = 0; i < 4096 && m.busy_o; i++) t->edge();
  return t;
}

void tb_regfile_close(tb_regfile_t *t) { delete t; }

unsigned tb_regfile_counters(const tb_regfile_t *t) {
  (void)t;
  return kCounters;
}

int tb_regfile_cycle(tb_regfile_t *t, int we, uint32_t waddr, uint32_t wdata,
                     const uint32_t *inc, uint32_t raddr, uint32_t *rdata) {
  auto &m = *t->top;
  m.g_we_i = we != 0;
  m.g_addr_i = waddr;
  m.g_wdata_i = wdata;
  m.g_raddr_i = raddr;
  for (unsigned c = 0; c < kCounters; c++) m.cnt_inc_i[c] = inc ? inc[c] : 0;
  t->settle();
  *rdata = m.g_rdata_o;
  const int busy = m.cnt_busy_o;
  t->edge();
  return busy;
}

}  // extern "C"
