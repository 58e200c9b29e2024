// Thin C-ABI wrapper of the Verilated rtl/mt_pulse_unit.sv (sim/mt_prog_tb.h).
#include "Vmt_pulse_unit.h"
#include "mt_prog_tb.h"
#include "mt_tb_clock.h"

struct tb_pulse : mt_tb_model<Vmt_pulse_unit> {};

extern "C" {

tb_pulse_t *tb_pulse_open(void) {
  tb_pulse_t *t = new tb_pulse;
  t->top->valid_i = 0;
  t->reset(2);
  return t;
}

void tb_pulse_close(tb_pulse_t *t) { delete t; }

unsigned tb_pulse_latency(void) { return 10; }

int tb_pulse_cycle(tb_pulse_t *t, const tb_pulse_in_t *in, uint16_t *g, uint32_t dev[5]) {
  auto &m = *t->top;
  m.valid_i = in->valid != 0;
  m.set_i = in->set != 0;
  m.g_i = in->g;
  for (unsigned i = 0; i < 5; i++) m.dev_i[i] = in->dev[i];
  m.z_i = static_cast<uint16_t>(in->z);
  m.c2c_mul_i = in->c2c_mul;
  m.c2c_add_i = in->c2c_add;
  m.endurance_i = in->endurance;
  m.resp_class_i = in->resp_class != 0;
  for (unsigned i = 0; i < 9; i++) m.resp_up_i[i] = m.resp_dn_i[i] = 0;
  for (unsigned k = 0; k < 17; k++) {
    m.resp_up_i[k / 2] |= static_cast<uint32_t>(in->resp_up[k]) << (16 * (k % 2));
    m.resp_dn_i[k / 2] |= static_cast<uint32_t>(in->resp_dn[k]) << (16 * (k % 2));
  }
  t->settle();
  *g = m.g_o;
  for (unsigned i = 0; i < 5; i++) dev[i] = m.dev_o[i];
  const int valid = m.valid_o;
  t->edge();
  return valid;
}

}  // extern "C"
