// Thin C-ABI wrapper of the Verilated rtl/mt_umul25x25.sv (sim/mt_rtl_tb.h). The module has
// no reset (a pure pipeline), so this drives the clock itself rather than through
// mt_tb_model.
#include <memory>

#include "Vmt_umul25x25.h"
#include "mt_rtl_tb.h"
#include "mt_tb_clock.h"

struct tb_umul {
  std::unique_ptr<VerilatedContext> ctx{mt_tb_context()};
  std::unique_ptr<Vmt_umul25x25> top{new Vmt_umul25x25{ctx.get(), "top"}};
  tb_umul() {
    top->clk_i = 0;
    top->eval();
  }
  ~tb_umul() { top->final(); }
};

extern "C" {

tb_umul_t *tb_umul_open(void) { return new tb_umul; }

void tb_umul_close(tb_umul_t *t) { delete t; }

uint64_t tb_umul_cycle(tb_umul_t *t, uint32_t a, uint32_t b, uint64_t c) {
  auto &m = *t->top;
  m.a_i = a;
  m.b_i = b;
  m.c_i = c;
  m.eval();
  uint64_t p = m.p_o;
  m.clk_i = 1;
  m.eval();
  t->ctx->timeInc(1);
  m.clk_i = 0;
  m.eval();
  t->ctx->timeInc(1);
  return p;
}

}  // extern "C"
