// Thin C-ABI wrapper of the Verilated rtl/mt_draw_lanes.sv (sim/mt_rtl_tb.h).
#include "Vmt_draw_lanes.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_draw : mt_tb_model<Vmt_draw_lanes> {
  // state_o is LANES*128 bits: 4 words per lane.
  static constexpr unsigned lanes = sizeof(Vmt_draw_lanes::state_o) / 16u;
};

extern "C" {

tb_draw_t *tb_draw_open(void) {
  tb_draw_t *t = new tb_draw;
  t->top->seed_i = 0;
  t->top->load_i = 0;
  t->top->take_i = 0;
  t->reset(2);
  return t;
}

void tb_draw_close(tb_draw_t *t) { delete t; }

unsigned tb_draw_count(const tb_draw_t *t) {
  (void)t;
  return tb_draw::lanes;
}

void tb_draw_reset(tb_draw_t *t) {
  t->top->seed_i = 0;
  t->top->load_i = 0;
  t->top->take_i = 0;
  t->reset(1);
}

uint32_t tb_draw_peek(tb_draw_t *t, uint32_t *u, int16_t *z, uint32_t *state) {
  auto &m = *t->top;
  t->settle();
  for (unsigned l = 0; l < tb_draw::lanes; l++) {
    if (u) {
      u[2 * l] = m.u_o[2 * l];
      u[2 * l + 1] = m.u_o[2 * l + 1];
    }
    if (z) {
      z[2 * l] = (int16_t)(uint16_t)(m.z_o[l] & 0xFFFFu);
      z[2 * l + 1] = (int16_t)(uint16_t)(m.z_o[l] >> 16);
    }
    if (state) {
      for (unsigned i = 0; i < 4; i++) state[4 * l + i] = m.state_o[4 * l + i];
    }
  }
  return m.avail_o;
}

uint32_t tb_draw_cycle(tb_draw_t *t, int seed, uint64_t seed_val, const uint32_t *load_state,
                       uint32_t take) {
  auto &m = *t->top;
  m.seed_i = seed != 0;
  m.seed_val_i = seed_val;
  m.load_i = load_state != nullptr;
  for (unsigned i = 0; i < 4 * tb_draw::lanes; i++) {
    m.load_state_i[i] = load_state ? load_state[i] : 0;
  }
  m.take_i = take;
  t->settle();
  const uint32_t avail = m.avail_o;
  t->edge();
  m.seed_i = 0;
  m.load_i = 0;
  m.take_i = 0;
  return avail;
}

}  // extern "C"
