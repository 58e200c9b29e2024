// Thin C-ABI wrapper of the Verilated sim/mt_noise_gauss.sv (sim/mt_rtl_tb.h).
#include "Vmt_noise_gauss.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_ng : mt_tb_model<Vmt_noise_gauss> {};

extern "C" {

tb_ng_t *tb_ng_open(void) {
  tb_ng_t *t = new tb_ng;
  t->top->seed_valid_i = 0;
  t->top->draw_i = 0;
  t->top->lane_i = 0;
  t->reset(2);
  return t;
}

void tb_ng_close(tb_ng_t *t) { delete t; }

int tb_ng_cycle(tb_ng_t *t, int seed_valid, uint64_t seed, unsigned lane, int draw,
                int *ready, int16_t *z) {
  auto &m = *t->top;
  m.seed_valid_i = seed_valid != 0;
  m.seed_i = seed;
  m.lane_i = lane;
  m.draw_i = draw != 0;
  t->settle();
  *ready = m.ready_o;
  t->edge();
  *z = static_cast<int16_t>(m.z_o);
  return m.z_valid_o;
}

}  // extern "C"
