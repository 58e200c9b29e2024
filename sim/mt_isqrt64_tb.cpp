// Thin C-ABI wrapper of the Verilated rtl/mt_isqrt64.sv (sim/mt_rtl_tb.h).
#include "Vmt_isqrt64.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_isqrt : mt_tb_model<Vmt_isqrt64> {};

extern "C" {

tb_isqrt_t *tb_isqrt_open(void) {
  tb_isqrt_t *t = new tb_isqrt;
  t->top->start_i = 0;
  t->top->v_i = 0;
  t->reset(2);
  return t;
}

void tb_isqrt_close(tb_isqrt_t *t) { delete t; }

int tb_isqrt_cycle(tb_isqrt_t *t, int start, uint64_t v, uint32_t *root) {
  auto &m = *t->top;
  m.start_i = start != 0;
  m.v_i = v;
  t->settle();
  int valid = m.valid_o;
  *root = m.root_o;
  t->edge();
  return valid;
}

}  // extern "C"
