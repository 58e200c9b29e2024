// Thin C-ABI wrapper of the Verilated rtl/mt_gauss_icdf.sv (sim/mt_rtl_tb.h).
#include "Vmt_gauss_icdf.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_gauss : mt_tb_model<Vmt_gauss_icdf> {};

extern "C" {

tb_gauss_t *tb_gauss_open(void) {
  tb_gauss_t *t = new tb_gauss;
  t->top->valid_i = 0;
  t->top->u_i = 0;
  t->reset(2);
  return t;
}

void tb_gauss_close(tb_gauss_t *t) { delete t; }

int tb_gauss_cycle(tb_gauss_t *t, int valid, uint32_t u, int16_t *z) {
  auto &m = *t->top;
  m.valid_i = valid != 0;
  m.u_i = u;
  t->settle();
  t->edge();
  *z = static_cast<int16_t>(m.z_o);
  return m.valid_o;
}

}  // extern "C"
