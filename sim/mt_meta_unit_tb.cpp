// Thin C-ABI wrapper of the Verilated rtl/mt_meta_unit.sv (sim/mt_prog_tb.h). The unit is
// staged: the inputs are presented with start_i, idx_o and zero_o read in that cycle, the
// f_meta entry supplied in the next one (as the engine's table read does), and the results
// taken when valid_o rises, which must happen exactly LATENCY = 7 edges after the start.
#include <cstdlib>
#include <cstdio>

#include "Vmt_meta_unit.h"
#include "mt_prog_tb.h"
#include "mt_tb_clock.h"

struct tb_meta : mt_tb_model<Vmt_meta_unit> {};

extern "C" {

tb_meta_t *tb_meta_open(void) {
  tb_meta_t *t = new tb_meta;
  t->top->start_i = 0;
  t->reset(2);
  return t;
}

void tb_meta_close(tb_meta_t *t) { delete t; }

void tb_meta_eval(tb_meta_t *t, const tb_meta_in_t *in, tb_meta_out_t *out) {
  static const unsigned latency = 7;
  auto &m = *t->top;
  m.start_i = 1;
  m.h_i = static_cast<uint32_t>(in->h);
  m.upd_i = static_cast<uint16_t>(in->upd);
  m.in_shift_i = in->in_shift & 31u;
  m.idx_shift_i = in->idx_shift & 31u;
  m.levels_i = in->levels & 511u;
  m.f_i = 0;
  t->settle();
  out->zero = m.zero_o;
  out->idx = m.idx_o;
  t->edge();
  // The engine holds its inputs only in the start cycle: scramble them afterwards.
  m.start_i = 0;
  m.h_i = ~m.h_i;
  m.upd_i = static_cast<uint16_t>(~m.upd_i);
  m.levels_i = ~m.levels_i & 511u;
  m.f_i = in->f;
  for (unsigned k = 1; k < latency; k++) {
    t->settle();
    if (m.valid_o) {
      std::fprintf(stderr, "mt_meta_unit: valid_o after %u edges, expected %u\n", k, latency);
      std::abort();
    }
    t->edge();
    m.f_i = static_cast<uint16_t>(~in->f);
  }
  t->settle();
  if (!m.valid_o) {
    std::fprintf(stderr, "mt_meta_unit: no valid_o after %u edges\n", latency);
    std::abort();
  }
  out->attenuate = m.attenuate_o;
  out->h_new = static_cast<int32_t>(m.h_new_o);
  out->level = m.level_o;
}

}  // extern "C"
