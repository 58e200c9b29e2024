// Thin C-ABI wrapper of the Verilated rtl/mt_eng_state.sv (sim/mt_eng_tb.h).
#include <cstring>

#include "Vmt_eng_state.h"
#include "mt_eng_tb.h"
#include "mt_tb_clock.h"

struct tb_eng_state : mt_tb_model<Vmt_eng_state> {};

namespace {

template <class W>
void put(W &dst, const uint32_t *src, unsigned n) {
  static_assert(sizeof(dst) >= 4, "wide port");
  for (unsigned i = 0; i < n; i++) dst[i] = src[i];
}

template <class W>
void get(uint32_t *dst, const W &src, unsigned n) {
  for (unsigned i = 0; i < n; i++) dst[i] = src[i];
}

template <class W>
bool any(const W &w, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (w[i]) return true;
  return false;
}

}  // namespace

static_assert(sizeof(Vmt_eng_state::dm_rdata_i) == TB_ENG_DM_WORDS * 4, "LANES = 16 model");

extern "C" {

tb_eng_state_t *tb_eng_state_open(void) {
  tb_eng_state_t *t = new tb_eng_state;
  t->reset(2);
  return t;
}

void tb_eng_state_close(tb_eng_state_t *t) { delete t; }

void tb_eng_state_geometry(const tb_eng_state_t *t, uint32_t geo[4]) {
  (void)t;
  // The bench model is built with the default parameters (rtl/mt_eng_params.vh).
  geo[0] = 16;
  geo[1] = 128;
  geo[2] = 128;
  geo[3] = TB_ENG_LANES;
}

void tb_eng_state_cycle(tb_eng_state_t *t, tb_eng_io_t *io) {
  auto &m = *t->top;
  m.start_i = io->start != 0;
  m.op_i = io->op;
  m.len_i = io->len;
  m.cap_i = io->cap;
  m.pl_data_i = io->pl_data;
  m.g_rdata_i = io->g_rdata;
  put(m.nz_state_i, io->nz_state, TB_ENG_NZ_WORDS);
  put(m.gm_rdata_i, io->gm_rdata, TB_ENG_GM_WORDS);
  put(m.dm_rdata_i, io->dm_rdata, TB_ENG_DM_WORDS);
  put(m.lm_rdata_i, io->lm_rdata, TB_ENG_LM_WORDS);
  put(m.hm_rdata_i, io->hm_rdata, TB_ENG_HM_WORDS);
  t->settle();
  io->done = m.done_o;
  io->status = m.status_o;
  io->detail0 = m.detail0_o;
  io->detail1 = m.detail1_o;
  io->n_out = m.n_out_o;
  io->pl_addr = m.pl_addr_o;
  io->rsp_we = m.rsp_we_o;
  io->rsp_addr = m.rsp_addr_o;
  io->rsp_data = m.rsp_data_o;
  io->g_we = m.g_we_o;
  io->g_addr = m.g_addr_o;
  io->g_wdata = m.g_wdata_o;
  io->g_raddr = m.g_raddr_o;
  io->nz_load = m.nz_load_o;
  get(io->nz_load_state, m.nz_load_state_o, TB_ENG_NZ_WORDS);
  io->gm_addr = m.gm_addr_o;
  io->gm_we = m.gm_we_o;
  get(io->gm_wdata, m.gm_wdata_o, TB_ENG_GM_WORDS);
  io->dm_addr = m.dm_addr_o;
  io->dm_we = m.dm_we_o;
  get(io->dm_wdata, m.dm_wdata_o, TB_ENG_DM_WORDS);
  io->lm_addr = m.lm_addr_o;
  io->lm_we = m.lm_we_o;
  get(io->lm_wdata, m.lm_wdata_o, TB_ENG_LM_WORDS);
  io->hm_addr = m.hm_addr_o;
  io->hm_we = m.hm_we_o;
  get(io->hm_wdata, m.hm_wdata_o, TB_ENG_HM_WORDS);
  io->others = m.lt_addr_o || m.mt_addr_o || m.fab_set_o || m.fab_tile_o ||
               any(m.cnt_inc_o, 16) || m.cnt_clear_o || m.nz_take_o || m.nz_seed_o ||
               m.nz_seed_val_o || m.fb_take_o || m.fb_seed_o || m.fb_seed_val_o;
  t->edge();
}

}  // extern "C"
