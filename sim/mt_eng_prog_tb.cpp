// Verilated rtl/mt_eng_prog.sv in a simulated environment (sim/mt_prog_tb.h): the buffers,
// tables and tile memories are the caller's arrays, served with the read latencies of
// docs/rtl.md (two cycles for the payload buffer, the meta table and the tile memories); the noise lanes serve the xoshiro128++ draws of the caller's lane states. The
// lanes' readiness is random (refill_pct) but, as in mt_draw_lanes, a ready draw only goes
// away when it is taken.
#include <cstring>

#include "Vmt_eng_prog.h"
#include "mt_prog_tb.h"
#include "mt_tb_clock.h"

extern "C" int16_t mt_gauss_from_u32(uint32_t u);

namespace {

constexpr unsigned kTiles = 16, kRows = 128, kCols = 128, kLanes = 16;
constexpr unsigned kGroups = kCols / kLanes;
constexpr unsigned kWords = kTiles * kRows * kGroups;

template <class W>
void put_bits(W &w, unsigned off, unsigned width, const uint32_t *src) {
  for (unsigned b = 0; b < width; b++) {
    unsigned i = off + b;
    uint32_t bit = (src[b / 32] >> (b % 32)) & 1u;
    w[i / 32] = (w[i / 32] & ~(1u << (i % 32))) | (bit << (i % 32));
  }
}

template <class W>
void get_bits(const W &w, unsigned off, unsigned width, uint32_t *dst) {
  for (unsigned b = 0; b < (width + 31) / 32; b++) dst[b] = 0;
  for (unsigned b = 0; b < width; b++) {
    unsigned i = off + b;
    dst[b / 32] |= ((w[i / 32] >> (i % 32)) & 1u) << (b % 32);
  }
}

uint32_t xo_out(const uint32_t *s) {
  uint32_t x = s[0] + s[3];
  return ((x << 7) | (x >> 25)) + s[0];
}

void xo_step(uint32_t *s) {
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 11) | (s[3] >> 21);
}

}  // namespace

struct tb_eng : mt_tb_model<Vmt_eng_prog> {
  uint64_t rng = 1;
  unsigned ready[kLanes] = {};
  uint32_t next() {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return static_cast<uint32_t>(rng >> 32);
  }
};

extern "C" {

tb_eng_t *tb_eng_open(void) {
  tb_eng_t *t = new tb_eng;
  t->top->start_i = 0;
  t->reset(2);
  return t;
}

void tb_eng_close(tb_eng_t *t) { delete t; }

void tb_eng_geometry(unsigned *tiles, unsigned *rows, unsigned *cols, unsigned *lanes) {
  *tiles = kTiles;
  *rows = kRows;
  *cols = kCols;
  *lanes = kLanes;
}

static bool outputs_idle(const Vmt_eng_prog &m) {
  bool z = !m.done_o && !m.rsp_we_o && m.pl_addr_o == 0 && m.lt_addr_o == 0 && m.mt_addr_o == 0 &&
           !m.g_we_o && !m.fab_set_o && !m.cnt_clear_o && m.nz_take_o == 0 && !m.nz_seed_o &&
           !m.nz_load_o && m.fb_take_o == 0 && !m.fb_seed_o && m.gm_we_o == 0 &&
           m.dm_we_o == 0 && m.lm_we_o == 0 && m.hm_we_o == 0 && m.gm_addr_o == 0 &&
           m.dm_addr_o == 0 && m.lm_addr_o == 0 && m.hm_addr_o == 0;
  for (unsigned i = 0; i < kLanes; i++) z = z && m.cnt_inc_o[i] == 0;
  return z;
}

int tb_eng_run(tb_eng_t *t, tb_eng_env_t *e, uint32_t op, uint32_t len, uint32_t cap,
               uint32_t *status, uint32_t detail[2], uint32_t *n_out, uint64_t *cycles,
               uint64_t max_cycles) {
  auto &m = *t->top;
  t->rng = e->stall_seed * 2654435761u + 88172645463325252ull;
  for (unsigned l = 0; l < kLanes; l++) t->ready[l] = 2;
  t->settle();
  if (!outputs_idle(m)) return -1;
  // cfg_i is CFG_COUNT 32-bit words wide (generated from docs/protocol.json).
  for (unsigned i = 0; i < sizeof(m.cfg_i) / sizeof(uint32_t); i++) m.cfg_i[i] = e->cfg[i];
  m.configured_i = e->configured != 0;
  m.levels_i = e->levels;
  m.fabricated_i = e->fabricated;
  m.op_i = op;
  m.len_i = len;
  m.cap_i = cap;
  m.g_rdata_i = 0;
  m.fb_avail_i = 0;
  for (unsigned i = 0; i < kLanes * 2; i++) m.nz_u_i[i] = 0, m.fb_u_i[i] = 0;
  for (unsigned i = 0; i < kLanes * 4; i++) m.nz_state_i[i] = 0;
  for (unsigned i = 0; i < kLanes; i++) m.fb_z_i[i] = 0;
  uint32_t pl_a = 0, lt_a = 0, mt_a = 0, gm_a = 0, dm_a = 0, lm_a = 0, hm_a = 0;
  uint32_t mt_a2 = 0; // the meta table answers two cycles after its address (mt_regfile)
  uint32_t pl_a2 = 0; // so does the payload buffer (its output register)
  // and so do the tile memories (theirs); the engine never reads a word within two cycles of
  // writing it, so reading the arrays a cycle late gives the RAMs' words
  uint32_t gm_a2 = 0, dm_a2 = 0, lm_a2 = 0, hm_a2 = 0;
  for (uint64_t c = 0; c < max_cycles; c++) {
    // Inputs of this cycle: read data of last cycle's addresses, lanes.
    m.start_i = c == 0;
    m.pl_data_i = e->payload[pl_a2];
    for (unsigned w = 0; w < 3; w++) m.lt_data_i[w] = e->level_table[3 * (lt_a & 255u) + w];
    m.mt_data_i = e->meta_table[mt_a2 & 255u];
    for (unsigned s = 0; s < 2 * kLanes; s++) {
      uint32_t g = e->gm[gm_a2 * 2 * kLanes + s];
      put_bits(m.gm_rdata_i, 16 * s, 16, &g);
      put_bits(m.dm_rdata_i, 136 * s, 136, &e->dm[(dm_a2 * 2 * kLanes + s) * 5]);
    }
    for (unsigned l = 0; l < kLanes; l++) {
      uint32_t v = e->lm[lm_a2 * kLanes + l];
      put_bits(m.lm_rdata_i, 16 * l, 16, &v);
      put_bits(m.hm_rdata_i, 32 * l, 32, &e->hm[hm_a2 * kLanes + l]);
    }
    uint32_t avail = 0;
    for (unsigned l = 0; l < kLanes; l++) {
      if (t->ready[l] >= 2) avail |= 1u << l;
      uint32_t z = static_cast<uint16_t>(mt_gauss_from_u32(xo_out(e->lanes[l])));
      put_bits(m.nz_z_i, 32 * l, 16, &z);
    }
    m.nz_avail_i = avail;
    t->settle();
    // Outputs of this cycle.
    if (m.nz_take_o != 0 || m.fb_take_o != 0 || m.g_we_o || m.fab_set_o || m.cnt_clear_o ||
        m.nz_seed_o || m.nz_load_o || m.fb_seed_o)
      for (unsigned l = 0; l < kLanes; l++) {
        unsigned k = (m.nz_take_o >> (2 * l)) & 3u;
        if (k > 1 || (k && !(avail >> l & 1u))) return -1;  // one draw at a time, when ready
        if (k) {
          xo_step(e->lanes[l]);
          t->ready[l]--;
        }
      }
    if (m.fb_take_o != 0 || m.g_we_o || m.fab_set_o || m.cnt_clear_o || m.nz_seed_o ||
        m.nz_load_o || m.fb_seed_o)
      return -1;
    for (unsigned i = 0; i < 16; i++) e->counts[i] += m.cnt_inc_o[i];
    if (m.rsp_we_o) e->rsp[m.rsp_addr_o] = m.rsp_data_o;
    const bool done = m.done_o;
    const uint32_t st = m.status_o, d0 = m.detail0_o, d1 = m.detail1_o, no = m.n_out_o;
    pl_a2 = pl_a;
    pl_a = m.pl_addr_o;
    lt_a = m.lt_addr_o;
    mt_a2 = mt_a;
    mt_a = m.mt_addr_o;
    gm_a2 = gm_a;
    dm_a2 = dm_a;
    lm_a2 = lm_a;
    hm_a2 = hm_a;
    gm_a = m.gm_addr_o % kWords;
    dm_a = m.dm_addr_o % kWords;
    lm_a = m.lm_addr_o % kWords;
    hm_a = m.hm_addr_o % kWords;
    // Writes at the end of the cycle (after this cycle's reads were taken above).
    for (unsigned s = 0; s < 2 * kLanes; s++) {
      if (m.gm_we_o >> s & 1u) {
        uint32_t g;
        get_bits(m.gm_wdata_o, 16 * s, 16, &g);
        e->gm[gm_a * 2 * kLanes + s] = static_cast<uint16_t>(g);
      }
      if (m.dm_we_o >> s & 1u) get_bits(m.dm_wdata_o, 136 * s, 136, &e->dm[(dm_a * 2 * kLanes + s) * 5]);
    }
    for (unsigned l = 0; l < kLanes; l++) {
      if (m.lm_we_o >> l & 1u) {
        uint32_t v;
        get_bits(m.lm_wdata_o, 16 * l, 16, &v);
        e->lm[lm_a * kLanes + l] = static_cast<uint16_t>(v);
      }
      if (m.hm_we_o >> l & 1u) get_bits(m.hm_wdata_o, 32 * l, 32, &e->hm[hm_a * kLanes + l]);
    }
    t->edge();
    for (unsigned l = 0; l < kLanes; l++)
      if (t->ready[l] < 3 && t->next() % 100u < e->refill_pct) t->ready[l]++;
    if (done) {
      *status = st;
      detail[0] = d0;
      detail[1] = d1;
      *n_out = no;
      *cycles = c + 1;
      m.start_i = 0;
      t->settle();
      return outputs_idle(m) ? 0 : -1;
    }
  }
  return -1;
}

}  // extern "C"
