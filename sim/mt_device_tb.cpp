// Whole-device harness (sim/mt_sim.h): drives rtl/mt_device's two AXI streams, one transfer
// per call. It only moves words and checks the stream framing; the tests compare the words.
// Built once per geometry; MT_SIM_TILES/ROWS/COLS are the -G values of the Verilated model.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "Vmt_device.h"
#include "mt_sim.h"
#include "mt_tb_clock.h"
#include "verilated_fst_c.h"

#if !defined(MT_SIM_TILES) || !defined(MT_SIM_ROWS) || !defined(MT_SIM_COLS)
#error "build with -DMT_SIM_TILES=.. -DMT_SIM_ROWS=.. -DMT_SIM_COLS=.. (the model's -G values)"
#endif

namespace {

constexpr uint64_t kDefaultIdleLimit = 100000000u;
// Reset cycles at open; the device needs one, more shows that reset is level-held.
constexpr int kResetCycles = 4;

int failf(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

// splitmix64: the stall pattern only needs to be reproducible from its seed.
uint64_t mix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t env_u64(const char *name, uint64_t dflt) {
  const char *s = std::getenv(name);
  if (!s || !*s) return dflt;
  char *end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 0);
  return (end && *end == '\0') ? v : dflt;
}

}  // namespace

struct mt_sim {
  std::unique_ptr<VerilatedContext> ctx{mt_tb_context()};
  std::unique_ptr<Vmt_device> top;
  std::unique_ptr<VerilatedFstC> fst;
  unsigned in_pct = 0, out_pct = 0;
  uint64_t rng = 0;
  uint64_t idle_limit = kDefaultIdleLimit;

  uint64_t dumped = ~0ull;
  // A settle at the same time as the previous one replaces nothing in the waveform: skip it.
  void dump() {
    if (fst && ctx->time() != dumped) fst->dump(ctx->time());
    dumped = ctx->time();
  }
  // Inputs were set with the clock low: settle them (combinational outputs now valid).
  void settle() {
    top->eval();
    dump();
  }
  // Rising edge, then the clock back low (shown in the waveform with the next settle, which
  // carries the new inputs).
  void edge() {
    ctx->timeInc(1);
    top->clk_i = 1;
    top->eval();
    dump();
    ctx->timeInc(1);
    top->clk_i = 0;
    top->eval();
  }
  bool roll(unsigned pct) { return pct && mix(&rng) % 100u < pct; }
  void idle_inputs() {
    top->s_axis_tvalid_i = 0;
    top->s_axis_tdata_i = 0;
    top->s_axis_tlast_i = 0;
    top->m_axis_tready_i = 0;
    top->rsp_cap_i = 0;
  }
  ~mt_sim() {
    if (top) top->final();
    if (fst) fst->close();
  }
};

extern "C" {

mt_sim *mt_sim_open(const char *trace_fst, char *err, size_t errlen) {
  std::unique_ptr<mt_sim> s{new mt_sim};
  if (!trace_fst || !*trace_fst) trace_fst = std::getenv("MT_TRACE");
  const bool trace = trace_fst && *trace_fst;
  if (trace) s->ctx->traceEverOn(true);
  s->top.reset(new Vmt_device{s->ctx.get(), "top"});
  if (trace) {
    s->fst.reset(new VerilatedFstC);
    s->top->trace(s->fst.get(), 99);
    s->fst->open(trace_fst);
    if (!s->fst->isOpen()) {
      failf(err, errlen, "cannot open trace file %s", trace_fst);
      return nullptr;
    }
  }
  s->idle_limit = env_u64("MT_SIM_IDLE_LIMIT", kDefaultIdleLimit);
  if (const char *st = std::getenv("MT_SIM_STALL")) {
    unsigned a = 0, b = 0;
    unsigned long long seed = 1;
    if (std::sscanf(st, "%u,%u,%llu", &a, &b, &seed) >= 2)
      mt_sim_set_stalls(s.get(), a, b, seed);
  }
  s->top->clk_i = 0;
  s->top->rst_i = 1;
  s->idle_inputs();
  s->settle();
  for (int i = 0; i < kResetCycles; i++) s->edge();
  s->top->rst_i = 0;
  s->settle();
  // Power-on clear: TILES*ROWS*COLS/LANES cycles in the design; the guard only catches a hang.
  uint64_t n = 0;
  while (s->top->busy_o) {
    if (++n > s->idle_limit) {
      failf(err, errlen, "mt_device: busy_o still high %llu cycles after reset",
            (unsigned long long)n);
      return nullptr;
    }
    s->edge();
    s->settle();
  }
  return s.release();
}

void mt_sim_close(mt_sim *s) { delete s; }

void mt_sim_geometry(const mt_sim *s, uint32_t *tiles, uint32_t *rows, uint32_t *cols) {
  (void)s;
  if (tiles) *tiles = MT_SIM_TILES;
  if (rows) *rows = MT_SIM_ROWS;
  if (cols) *cols = MT_SIM_COLS;
}

void mt_sim_set_stalls(mt_sim *s, unsigned in_pct, unsigned out_pct, uint64_t seed) {
  s->in_pct = in_pct > 100 ? 100 : in_pct;
  s->out_pct = out_pct > 100 ? 100 : out_pct;
  // 100% would never move a word; keep the stream alive.
  if (s->in_pct == 100) s->in_pct = 99;
  if (s->out_pct == 100) s->out_pct = 99;
  s->rng = seed;
}

void mt_sim_set_idle_limit(mt_sim *s, uint64_t cycles) { s->idle_limit = cycles ? cycles : 1; }

uint64_t mt_sim_cycles(const mt_sim *s) { return s->top->cycles_o; }

int mt_sim_transact(mt_sim *s, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                    uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, uint64_t *cycles,
                    char *err, size_t errlen) {
  *n_rsp = 0;
  *consumed = 0;
  if (cycles) *cycles = 0;
  if (n_cmd == 0) return 0;  // mt_kernel with no words does nothing; AXI cannot say "empty"
  Vmt_device &m = *s->top;
  const uint64_t start = m.cycles_o;
  if (m.busy_o) return failf(err, errlen, "mt_device: busy_o high before a transfer");
  uint32_t sent = 0, got = 0;
  bool offered = false, last_seen = false;
  uint64_t idle = 0;
  for (;;) {
    if (!offered && sent < n_cmd) offered = !s->roll(s->in_pct);
    m.s_axis_tvalid_i = offered;
    m.s_axis_tdata_i = offered ? cmd[sent] : 0;
    m.s_axis_tlast_i = offered && sent + 1 == n_cmd;
    m.rsp_cap_i = rsp_cap;
    m.m_axis_tready_i = !s->roll(s->out_pct);
    s->settle();
    const bool s_hs = offered && m.s_axis_tready_o;
    const bool m_hs = m.m_axis_tvalid_o && m.m_axis_tready_i;
    const bool done = m.done_o;
    const uint32_t done_consumed = m.consumed_o, done_words = m.rsp_words_o;
    if (m_hs) {
      if (last_seen)
        return failf(err, errlen, "mt_device: response word %u after the TLAST word", got);
      if (got >= rsp_cap)
        return failf(err, errlen, "mt_device: more than rsp_cap = %u response words", rsp_cap);
      rsp[got++] = m.m_axis_tdata_o;
      last_seen = m.m_axis_tlast_o;
    }
    s->edge();
    if (s_hs) {
      sent++;
      offered = false;
    }
    if (done) {
      s->idle_inputs();
      s->settle();
      if (cycles) *cycles = m.cycles_o - start;
      if (sent != n_cmd)
        return failf(err, errlen, "mt_device: done_o after reading %u of %u command words", sent,
                     n_cmd);
      if (done_words != got)
        return failf(err, errlen, "mt_device: rsp_words_o = %u but %u words were sent",
                     done_words, got);
      if (got > 0 && !last_seen)
        return failf(err, errlen, "mt_device: no TLAST on the last of %u response words", got);
      if (done_consumed > n_cmd)
        return failf(err, errlen, "mt_device: consumed_o = %u of %u command words",
                     done_consumed, n_cmd);
      *n_rsp = got;
      *consumed = done_consumed;
      return 0;
    }
    idle = (s_hs || m_hs) ? 0 : idle + 1;
    if (idle > s->idle_limit)
      return failf(err, errlen,
                   "mt_device: hang: %llu cycles without a handshake or done_o (%u of %u command "
                   "words in, %u response words out)",
                   (unsigned long long)idle, sent, n_cmd, got);
  }
}

}  // extern "C"
