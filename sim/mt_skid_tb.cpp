// Thin C-ABI wrapper of the Verilated rtl/mt_skid.sv (sim/mt_rtl_tb.h).
#include "Vmt_skid.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_skid : mt_tb_model<Vmt_skid> {};

extern "C" {

tb_skid_t *tb_skid_open(void) {
  tb_skid_t *t = new tb_skid;
  t->top->in_valid_i = 0;
  t->top->out_ready_i = 0;
  t->reset(2);
  return t;
}

void tb_skid_close(tb_skid_t *t) { delete t; }

void tb_skid_cycle(tb_skid_t *t, int in_valid, uint64_t in_data, int out_ready, int *in_ready,
                   int *out_valid, uint64_t *out_data) {
  auto &m = *t->top;
  m.in_valid_i = in_valid != 0;
  m.in_data_i = in_data & ((1ull << 33) - 1);
  m.out_ready_i = out_ready != 0;
  t->settle();
  *in_ready = m.in_ready_o;
  *out_valid = m.out_valid_o;
  *out_data = m.out_data_o;
  t->edge();
}

}  // extern "C"
