// Thin C-ABI wrapper of the Verilated rtl/mt_noise_lanes.sv (sim/mt_rtl_tb.h).
#include "Vmt_noise_lanes.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_lanes : mt_tb_model<Vmt_noise_lanes> {
  // state_o is LANES*128 bits: 4 words per lane.
  static constexpr unsigned lanes = sizeof(Vmt_noise_lanes::state_o) / 16u;
};

extern "C" {

tb_lanes_t *tb_lanes_open(void) {
  tb_lanes_t *t = new tb_lanes;
  t->top->seed_valid_i = 0;
  t->top->step_i = 0;
  t->reset(2);
  return t;
}

void tb_lanes_close(tb_lanes_t *t) { delete t; }

unsigned tb_lanes_count(const tb_lanes_t *t) {
  (void)t;
  return tb_lanes::lanes;
}

void tb_lanes_reset(tb_lanes_t *t) { t->reset(1); }

int tb_lanes_cycle(tb_lanes_t *t, int seed_valid, uint64_t seed, uint32_t step_mask,
                   uint32_t *out) {
  auto &m = *t->top;
  m.seed_valid_i = seed_valid != 0;
  m.seed_i = seed;
  m.step_i = step_mask;
  t->settle();
  if (out) {
    for (unsigned l = 0; l < tb_lanes::lanes; l++) out[l] = m.out_o[l];
  }
  const int ready = m.ready_o;
  t->edge();
  return ready;
}

void tb_lanes_state(tb_lanes_t *t, unsigned lane, uint32_t state[4]) {
  t->settle();
  for (unsigned i = 0; i < 4; i++) state[i] = t->top->state_o[4 * lane + i];
}

}  // extern "C"
