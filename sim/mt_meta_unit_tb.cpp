// Thin C-ABI wrapper of rtl/mt_meta_unit.sv at several builds (sim/mt_meta_builds.sv,
// sim/mt_prog_tb.h). The inputs are presented with start_i and scrambled afterwards (the
// engine holds them only in the start cycle; the configuration stays); the harness' table
// answers idx_o two cycles after, as the engine's does; the results are taken when valid_o
// rises, which must happen exactly LATENCY = 21 edges after the start.
#include <cstdlib>
#include <cstdio>

#include "Vmt_meta_builds.h"
#include "mt_prog_tb.h"
#include "mt_tb_clock.h"

struct tb_meta : mt_tb_model<Vmt_meta_builds> {};

extern "C" {

tb_meta_t *tb_meta_open(void) {
  tb_meta_t *t = new tb_meta;
  t->top->start_i = 0;
  t->top->tbl_we_i = 0;
  t->reset(2);
  return t;
}

void tb_meta_close(tb_meta_t *t) { delete t; }

void tb_meta_table(tb_meta_t *t, const uint16_t f[256]) {
  auto &m = *t->top;
  for (unsigned i = 0; i < 256; i++) {
    m.tbl_we_i = 1;
    m.tbl_addr_i = i;
    m.tbl_data_i = f[i];
    t->settle();
    t->edge();
  }
  m.tbl_we_i = 0;
  t->settle();
}

void tb_meta_select(tb_meta_t *t, unsigned build) { t->top->sel_i = build & 7u; }

void tb_meta_eval(tb_meta_t *t, const tb_meta_in_t *in, tb_meta_out_t *out) {
  static const unsigned latency = 21;
  auto &m = *t->top;
  m.in_shift_i = in->in_shift & 31u;
  m.idx_shift_i = in->idx_shift & 31u;
  m.hbits_i = in->hbits & 63u;
  m.frac_i = in->frac & 31u;
  m.round_i = in->round & 1u;
  m.tlog2_i = in->tlog2 & 15u;
  m.ebits_i = in->ebits & 31u;
  m.rule_i = in->rule & 1u;
  // The derived configuration registers follow 2 cycles later.
  for (unsigned k = 0; k < 2; k++) {
    t->settle();
    t->edge();
  }
  m.start_i = 1;
  m.write_i = in->write != 0;
  m.h_i = static_cast<uint32_t>(in->h);
  m.upd_i = static_cast<uint16_t>(in->upd);
  m.levels_i = in->levels & 511u;
  t->settle();
  t->edge();
  m.start_i = 0;
  m.write_i = !m.write_i;
  m.h_i = ~m.h_i;
  m.upd_i = static_cast<uint16_t>(~m.upd_i);
  m.levels_i = ~m.levels_i & 511u;
  for (unsigned k = 1; k < latency; k++) {
    t->settle();
    if (m.valid_o) {
      std::fprintf(stderr, "mt_meta_unit: valid_o after %u edges, expected %u\n", k, latency);
      std::abort();
    }
    t->edge();
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

void tb_meta_fixed_eval(tb_meta_t *t, int32_t r, int16_t upd, int write, int32_t *r_new,
                        uint32_t *level) {
  static const unsigned latency = 21;
  auto &m = *t->top;
  m.start_i = 1;
  m.write_i = write != 0;
  m.h_i = static_cast<uint32_t>(r) & 0xFFFu;
  m.upd_i = static_cast<uint16_t>(upd);
  t->settle();
  t->edge();
  m.start_i = 0;
  m.write_i = !m.write_i;
  m.h_i = ~m.h_i;
  m.upd_i = static_cast<uint16_t>(~m.upd_i);
  for (unsigned k = 1; k < latency; k++) {
    t->settle();
    if (m.fx_valid_o) {
      std::fprintf(stderr, "mt_meta_unit_fixed: valid_o after %u edges, expected %u\n", k, latency);
      std::abort();
    }
    t->edge();
  }
  t->settle();
  if (!m.fx_valid_o) {
    std::fprintf(stderr, "mt_meta_unit_fixed: no valid_o after %u edges\n", latency);
    std::abort();
  }
  *r_new = static_cast<int32_t>(m.fx_r_o << 20) >> 20; /* 12-bit two's complement */
  *level = m.fx_level_o;
}

}  // extern "C"
