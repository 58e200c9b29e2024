// Thin C-ABI wrapper of the Verilated rtl/mt_xoshiro128pp.sv (sim/mt_rtl_tb.h).
#include "Vmt_xoshiro128pp.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_xoshiro : mt_tb_model<Vmt_xoshiro128pp> {};

extern "C" {

tb_xoshiro_t *tb_xoshiro_open(void) {
  tb_xoshiro_t *t = new tb_xoshiro;
  t->top->load_i = 0;
  t->top->step_i = 0;
  t->reset(2);
  return t;
}

void tb_xoshiro_close(tb_xoshiro_t *t) { delete t; }

void tb_xoshiro_reset(tb_xoshiro_t *t) { t->reset(1); }

uint32_t tb_xoshiro_cycle(tb_xoshiro_t *t, int load, const uint32_t state[4], int step) {
  auto &m = *t->top;
  m.load_i = load != 0;
  m.step_i = step != 0;
  if (state) {
    for (int i = 0; i < 4; i++) m.state_i[i] = state[i];
  }
  t->settle();
  const uint32_t out = m.out_o;
  t->edge();
  return out;
}

void tb_xoshiro_state(tb_xoshiro_t *t, uint32_t state[4]) {
  t->settle();
  for (int i = 0; i < 4; i++) state[i] = t->top->state_o[i];
}

}  // extern "C"
