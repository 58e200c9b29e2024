// USB-path harness (sim/mt_usbsim.h): rtl/mt_usb_core driven through a pin-level model of the
// FT601 in 245 synchronous FIFO mode. Two clocks: the FT601's CLK at 100 MHz and the core
// clock at the AC701 top's 75 MHz (the MMCM's 200 MHz * 6 / 16), so 4 FT601 cycles per 3 core
// cycles, with edges that never coincide. The model only moves bytes and checks the bus rules;
// the tests hold the logic. Built once per geometry (MT_USBSIM_TILES/ROWS/COLS = the -G values).
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include "Vmt_usb_core.h"
#include "mt_tb_clock.h"
#include "mt_usbsim.h"
#include "verilated_fst_c.h"

#if !defined(MT_USBSIM_TILES) || !defined(MT_USBSIM_ROWS) || !defined(MT_USBSIM_COLS)
#error "build with -DMT_USBSIM_TILES=.. -DMT_USBSIM_ROWS=.. -DMT_USBSIM_COLS=.. (the -G values)"
#endif

namespace {

// Time in units of 1/3 ns: FT601 half period 15 (10 ns), core half period 20 (13.33 ns),
// core edges offset by 7 so that no two edges of the two clocks fall at the same time.
constexpr uint64_t kFtHalf = 15, kCoreHalf = 20, kCoreOffset = 7;
constexpr int kResetCycles = 6;
// Bytes the FT601's IN side buffers before TXE_N rises (its 16 kB of FIFO RAM).
constexpr size_t kInBufferBytes = 16384;
// A raised TXE_N stays high at least this many clocks (the FT601 frees its buffers a USB
// packet at a time); the bridge sees TXE_N two edges late and relies on this to know that
// the word behind a refused one was refused too.
constexpr int kMinHold = 2;
// Power-on clear of the reference geometry is 16k core cycles; this only catches a hang.
constexpr uint64_t kOpenLimit = 10000000;
// What the bus carries when nobody drives it.
constexpr uint32_t kFloating = 0xA5A5A5A5u;
// What the FT601 drives while RXF_N is high.
constexpr uint32_t kJunk = 0xBAD0BAD0u;

int failf(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

uint64_t mix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// What the FPGA drove during one FT601 clock (sampled just before its rising edge) and the
// FT601's flags during the same clock. The FPGA releases or drives each DATA/BE pin on its
// own (one tristate control per pin, 1 = released): doe says all 36 pins were driven, dany
// that at least one was.
struct bus_edge {
  bool oe_n = true, rd_n = true, wr_n = true, doe = false, dany = false, rxf_n = true,
       txe_n = true;
};

}  // namespace

struct mt_usbsim {
  std::unique_ptr<VerilatedContext> ctx{mt_tb_context()};
  std::unique_ptr<Vmt_usb_core> top;
  std::unique_ptr<VerilatedFstC> fst;
  uint64_t t = 0;                    // time, 1/3 ns
  uint64_t next_ft = kFtHalf, next_core = kCoreOffset;
  uint64_t ft_cycles = 0, core_cycles = 0;
  bool checking = false;             // rules apply once the FT601 domain is out of reset
  std::deque<uint8_t> out_pipe;      // host -> FPGA bytes not yet read by the FPGA
  std::deque<uint8_t> in_pipe;       // FPGA -> host bytes not yet read by the host
  bus_edge h1, h2;                   // the two clocks before the current one
  bool rxf_n = true, txe_n = true;   // the FT601's flags this clock
  int txe_hold = 0;                  // further clocks a raised TXE_N stays up
  unsigned stall_pct = 0;
  uint64_t rng = 0;
  std::string broken;                // first rule the RTL broke

  void dump() {
    if (fst) fst->dump(t);
  }
  bool roll() { return stall_pct && mix(&rng) % 100u < stall_pct; }

  // The FT601 drives DATA/BE while OE_N is low: the head word of the OUT pipe while RXF_N is
  // low (BE marks the bytes of a short last word), otherwise junk with all BE set, which a
  // bridge that reads while RXF_N is high would take for data.
  void drive_bus() {
    Vmt_usb_core &m = *top;
    if (!m.ft_oe_n_o) {
      uint32_t w = kJunk, be = 0xF;
      if (!rxf_n) {
        w = 0;
        be = 0;
        for (size_t i = 0; i < 4 && i < out_pipe.size(); i++) {
          w |= uint32_t(out_pipe[i]) << (8 * i);
          be |= 1u << i;
        }
      }
      m.ft_data_i = w;
      m.ft_be_i = be;
    } else {
      // Pin by pin: a driven pin carries the FPGA's bit, a released one floats.
      m.ft_data_i = (m.ft_data_o & ~m.ft_data_t_o) | (kFloating & m.ft_data_t_o);
      m.ft_be_i = m.ft_be_o & ~m.ft_be_t_o & 0xFu;
    }
    m.ft_rxf_n_i = rxf_n;
    m.ft_txe_n_i = txe_n;
  }

  void rule(bool bad, const char *what) {
    if (bad && broken.empty())
      broken = "FT601 245 rule broken at FT601 cycle " + std::to_string(ft_cycles) + ": " + what;
  }

  // The FT601's side of one rising edge of its clock: check what the FPGA drove during the
  // clock that ends here, move the words this edge moves, then set the flags of the next clock.
  void ft_edge() {
    Vmt_usb_core &m = *top;
    bus_edge e;
    e.oe_n = m.ft_oe_n_o;
    e.rd_n = m.ft_rd_n_o;
    e.wr_n = m.ft_wr_n_o;
    e.doe = m.ft_data_t_o == 0 && (m.ft_be_t_o & 0xFu) == 0;
    e.dany = m.ft_data_t_o != 0xFFFFFFFFu || (m.ft_be_t_o & 0xFu) != 0xFu;
    e.rxf_n = rxf_n;
    e.txe_n = txe_n;
    if (checking) {
      rule(!e.rd_n && e.oe_n, "RD_N low while OE_N is high");
      rule(!e.rd_n && h1.oe_n, "RD_N low without OE_N low one clock before");
      rule(!e.wr_n && !e.rd_n, "WR_N and RD_N low together");
      rule(!e.wr_n && !e.oe_n, "WR_N low while OE_N is low (the FT601 drives the bus)");
      rule(!e.wr_n && !e.doe, "WR_N low without the FPGA driving all DATA and BE pins");
      rule(e.dany && !e.doe, "DATA/BE pins partly driven (the per-pin tristate controls disagree)");
      rule(e.dany && !e.oe_n, "bus contention: the FPGA drives DATA while OE_N is low");
      rule(e.dany && !h1.oe_n, "no turnaround: the FPGA drives DATA in the clock after OE_N was low");
      rule(!e.oe_n && h1.dany, "no turnaround: OE_N low in the clock after the FPGA drove DATA");
      rule(!e.wr_n && h2.txe_n, "WR_N low two clocks after TXE_N was high (TXE_N ignored)");
      rule(!e.rd_n && h2.rxf_n, "RD_N low two clocks after RXF_N was high (RXF_N ignored)");
    }
    // A read: the word on the bus is gone from the OUT pipe.
    if (!e.rd_n && !e.oe_n && !e.rxf_n)
      for (int i = 0; i < 4 && !out_pipe.empty(); i++) out_pipe.pop_front();
    // A write: the bytes BE marks join the IN pipe.
    if (!e.wr_n && !e.txe_n && e.doe)
      for (int i = 0; i < 4; i++)
        if (m.ft_be_o >> i & 1u) in_pipe.push_back(uint8_t(m.ft_data_o >> (8 * i)));
    h2 = h1;
    h1 = e;
    // Flags of the next clock. A raised TXE_N stays up kMinHold clocks.
    const bool rx_stall = roll(), tx_stall = roll();
    rxf_n = out_pipe.empty() || rx_stall;
    const bool txe_next = in_pipe.size() + 4 > kInBufferBytes || tx_stall || txe_hold > 0;
    if (txe_hold > 0) txe_hold--;
    if (txe_next && !txe_n) txe_hold = kMinHold - 1;
    txe_n = txe_next;
  }

  // Runs to the next clock edge (either clock).
  void step() {
    Vmt_usb_core &m = *top;
    if (next_ft <= next_core) {
      t = next_ft;
      next_ft += kFtHalf;
      const bool rising = !m.ft_clk_i;
      if (rising) ft_edge();
      m.ft_clk_i = rising;
      m.eval();
      if (rising) {
        ft_cycles++;
        drive_bus();
        m.eval();
      }
    } else {
      t = next_core;
      next_core += kCoreHalf;
      m.clk_i = !m.clk_i;
      if (m.clk_i) core_cycles++;
      m.eval();
    }
    dump();
  }

  ~mt_usbsim() {
    if (top) top->final();
    if (fst) fst->close();
  }
};

extern "C" {

mt_usbsim *mt_usbsim_open(const char *trace_fst, char *err, size_t errlen) {
  std::unique_ptr<mt_usbsim> s{new mt_usbsim};
  if (!trace_fst || !*trace_fst) trace_fst = std::getenv("MT_TRACE");
  const bool trace = trace_fst && *trace_fst;
  if (trace) s->ctx->traceEverOn(true);
  s->top.reset(new Vmt_usb_core{s->ctx.get(), "top"});
  if (trace) {
    s->fst.reset(new VerilatedFstC);
    s->top->trace(s->fst.get(), 99);
    s->fst->open(trace_fst);
    if (!s->fst->isOpen()) {
      failf(err, errlen, "cannot open trace file %s", trace_fst);
      return nullptr;
    }
  }
  Vmt_usb_core &m = *s->top;
  m.ft_clk_i = 0;
  m.clk_i = 0;
  m.rst_i = 1;
  m.ft_rst_i = 1;
  s->drive_bus();
  m.eval();
  while (s->ft_cycles < kResetCycles || s->core_cycles < kResetCycles) s->step();
  m.rst_i = 0;
  m.ft_rst_i = 0;
  s->ft_cycles = 0;
  s->core_cycles = 0;
  s->checking = true;
  s->step();
  while (m.busy_o) {
    if (s->core_cycles > kOpenLimit) {
      failf(err, errlen, "mt_usb_core: busy_o still high %llu core cycles after reset",
            (unsigned long long)s->core_cycles);
      return nullptr;
    }
    s->step();
  }
  return s.release();
}

void mt_usbsim_close(mt_usbsim *s) { delete s; }

int mt_usbsim_write(mt_usbsim *s, const uint8_t *buf, size_t n, char *err, size_t errlen) {
  if (!buf && n) return failf(err, errlen, "mt_usbsim_write: NULL buffer of %zu bytes", n);
  s->out_pipe.insert(s->out_pipe.end(), buf, buf + n);
  return 0;
}

long mt_usbsim_read(mt_usbsim *s, uint8_t *buf, size_t cap, uint64_t max_cycles, char *err,
                    size_t errlen) {
  const uint64_t end = s->ft_cycles + max_cycles;
  while (s->in_pipe.empty() && s->broken.empty() && s->ft_cycles < end) s->step();
  if (!s->broken.empty()) return failf(err, errlen, "%s", s->broken.c_str());
  size_t n = 0;
  while (n < cap && !s->in_pipe.empty()) {
    buf[n++] = s->in_pipe.front();
    s->in_pipe.pop_front();
  }
  return long(n);
}

int mt_usbsim_idle(const mt_usbsim *s) { return !s->top->busy_o && s->out_pipe.empty(); }

void mt_usbsim_set_stalls(mt_usbsim *s, unsigned pct, uint64_t seed) {
  // 100% would never move a word; keep the link alive.
  s->stall_pct = pct > 99 ? 99 : pct;
  s->rng = seed;
}

uint64_t mt_usbsim_core_cycles(const mt_usbsim *s) { return s->core_cycles; }
uint64_t mt_usbsim_ft_cycles(const mt_usbsim *s) { return s->ft_cycles; }

void mt_usbsim_geometry(const mt_usbsim *s, uint32_t *tiles, uint32_t *rows, uint32_t *cols) {
  (void)s;
  if (tiles) *tiles = MT_USBSIM_TILES;
  if (rows) *rows = MT_USBSIM_ROWS;
  if (cols) *cols = MT_USBSIM_COLS;
}

}  // extern "C"
