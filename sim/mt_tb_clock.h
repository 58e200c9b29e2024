// C++ helpers shared by the Verilator module benches (sim/*_tb.cpp): a model with its own
// context, and the clock protocol of sim/mt_rtl_tb.h (inputs change while clk_i is low;
// outputs are sampled before the rising edge, or after it for registered outputs).
#ifndef MT_TB_CLOCK_H
#define MT_TB_CLOCK_H

#include <cstdlib>
#include <memory>

#include "verilated.h"

// MT_RTL_RAND_RESET=<seed> randomises every register's initial value (effective in a model
// built with --x-initial unique; docs/rtl.md), to show that no result depends on a register
// the design leaves unreset.
inline VerilatedContext *mt_tb_context() {
  VerilatedContext *c = new VerilatedContext;
  if (const char *s = std::getenv("MT_RTL_RAND_RESET")) {
    c->randReset(2);
    c->randSeed(std::atoi(s));
  }
  return c;
}

template <class M>
struct mt_tb_model {
  std::unique_ptr<VerilatedContext> ctx{mt_tb_context()};
  std::unique_ptr<M> top{new M{ctx.get(), "top"}};

  mt_tb_model() {
    top->clk_i = 0;
    top->rst_i = 0;
    top->eval();
  }
  ~mt_tb_model() { top->final(); }

  // Settles the inputs set by the caller with the clock low.
  void settle() { top->eval(); }

  // One rising edge, then the clock back low.
  void edge() {
    top->clk_i = 1;
    top->eval();
    ctx->timeInc(1);
    top->clk_i = 0;
    top->eval();
    ctx->timeInc(1);
  }

  // rst_i high for n cycles (other inputs as the caller left them).
  void reset(int n) {
    top->rst_i = 1;
    for (int i = 0; i < n; i++) {
      settle();
      edge();
    }
    top->rst_i = 0;
    settle();
  }
};

#endif
