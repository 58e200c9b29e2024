// Thin C-ABI wrapper of the Verilated rtl/mt_meta_unit.sv (sim/mt_prog_tb.h). The unit is
// combinational: inputs are set and evaluated, with the f_meta entry supplied after idx_o
// is known, as the engine does with its table read.
#include <memory>

#include "Vmt_meta_unit.h"
#include "mt_prog_tb.h"
#include "mt_tb_clock.h"

struct tb_meta {
  std::unique_ptr<VerilatedContext> ctx{mt_tb_context()};
  std::unique_ptr<Vmt_meta_unit> top{new Vmt_meta_unit{ctx.get(), "top"}};
  ~tb_meta() { top->final(); }
};

extern "C" {

tb_meta_t *tb_meta_open(void) { return new tb_meta; }

void tb_meta_close(tb_meta_t *t) { delete t; }

void tb_meta_eval(tb_meta_t *t, const tb_meta_in_t *in, tb_meta_out_t *out) {
  auto &m = *t->top;
  m.h_i = static_cast<uint32_t>(in->h);
  m.upd_i = static_cast<uint16_t>(in->upd);
  m.in_shift_i = in->in_shift & 31u;
  m.idx_shift_i = in->idx_shift & 31u;
  m.levels_i = in->levels & 511u;
  m.f_i = in->f;
  m.eval();
  out->zero = m.zero_o;
  out->idx = m.idx_o;
  out->attenuate = m.attenuate_o;
  out->h_new = static_cast<int32_t>(m.h_new_o);
  out->level = m.level_o;
}

}  // extern "C"
