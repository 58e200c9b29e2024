// Thin C-ABI wrapper of the Verilated rtl/mt_splitmix64.sv (sim/mt_rtl_tb.h).
#include "Vmt_splitmix64.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_sm : mt_tb_model<Vmt_splitmix64> {};

extern "C" {

tb_sm_t *tb_sm_open(void) {
  tb_sm_t *t = new tb_sm;
  t->top->load_i = 0;
  t->top->seed_i = 0;
  t->top->next_i = 0;
  t->reset(2);
  return t;
}

void tb_sm_close(tb_sm_t *t) { delete t; }

void tb_sm_reset(tb_sm_t *t) {
  t->top->load_i = 0;
  t->top->next_i = 0;
  t->reset(1);
}

int tb_sm_cycle(tb_sm_t *t, int load, uint64_t seed, int next, int *ready, uint64_t *z) {
  auto &m = *t->top;
  m.load_i = load != 0;
  m.seed_i = seed;
  m.next_i = next != 0;
  t->settle();
  *ready = m.ready_o;
  *z = m.z_o;
  const int valid = m.valid_o;
  t->edge();
  return valid;
}

}  // extern "C"
