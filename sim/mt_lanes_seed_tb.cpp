// Thin C-ABI wrapper of the Verilated rtl/mt_lanes_seed.sv (sim/mt_rtl_tb.h).
#include "Vmt_lanes_seed.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

// The default LANES (16 = MT_LANES); load_o fits the uint32_t of the C ABI.
struct tb_seed : mt_tb_model<Vmt_lanes_seed> {
  static_assert(sizeof(Vmt_lanes_seed::load_o) <= sizeof(uint32_t), "load_o wider than 32 lanes");
};

extern "C" {

tb_seed_t *tb_seed_open(void) {
  tb_seed_t *t = new tb_seed;
  t->top->seed_valid_i = 0;
  t->top->seed_i = 0;
  t->top->stop_i = 0;
  t->reset(2);
  return t;
}

void tb_seed_close(tb_seed_t *t) { delete t; }

void tb_seed_reset(tb_seed_t *t) {
  t->top->seed_valid_i = 0;
  t->top->stop_i = 0;
  t->reset(1);
}

uint32_t tb_seed_cycle(tb_seed_t *t, int seed_valid, uint64_t seed, int stop, int *busy,
                       uint32_t state[4]) {
  auto &m = *t->top;
  m.seed_valid_i = seed_valid != 0;
  m.seed_i = seed;
  m.stop_i = stop != 0;
  t->settle();
  *busy = m.busy_o;
  for (unsigned i = 0; i < 4; i++) state[i] = m.state_o[i];
  const uint32_t load = m.load_o;
  t->edge();
  return load;
}

}  // extern "C"
