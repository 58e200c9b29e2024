// LINT-ONLY STUB, never synthesized or simulated: the parameters and ports of the Xilinx
// 7-series primitive that rtl/boards/ uses, so that Verilator can lint it (make lint). The
// outputs are placeholders, not a model of the MMCM. Vivado and Yosys use their own.
`default_nettype none
/* verilator lint_off UNUSEDPARAM */
module MMCME2_BASE #(
  parameter real CLKIN1_PERIOD = 0.0,
  parameter int DIVCLK_DIVIDE = 1,
  parameter real CLKFBOUT_MULT_F = 5.0,
  parameter real CLKOUT0_DIVIDE_F = 1.0
) (
  input  wire CLKIN1,
  input  wire CLKFBIN,
  input  wire RST,
  input  wire PWRDWN,
  output wire CLKFBOUT,
  output wire CLKFBOUTB,
  output wire CLKOUT0,
  output wire CLKOUT0B,
  output wire CLKOUT1,
  output wire CLKOUT1B,
  output wire CLKOUT2,
  output wire CLKOUT2B,
  output wire CLKOUT3,
  output wire CLKOUT3B,
  output wire CLKOUT4,
  output wire CLKOUT5,
  output wire CLKOUT6,
  output wire LOCKED
);
  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = CLKFBIN ^ PWRDWN;
  /* verilator lint_on UNUSEDSIGNAL */
  assign CLKFBOUT = CLKIN1;
  assign CLKFBOUTB = !CLKIN1;
  assign CLKOUT0 = CLKIN1;
  assign CLKOUT0B = !CLKIN1;
  assign CLKOUT1 = CLKIN1;
  assign CLKOUT1B = !CLKIN1;
  assign CLKOUT2 = CLKIN1;
  assign CLKOUT2B = !CLKIN1;
  assign CLKOUT3 = CLKIN1;
  assign CLKOUT3B = !CLKIN1;
  assign CLKOUT4 = CLKIN1;
  assign CLKOUT5 = CLKIN1;
  assign CLKOUT6 = CLKIN1;
  assign LOCKED = !RST;
endmodule
/* verilator lint_on UNUSEDPARAM */
`default_nettype wire
