// LINT-ONLY STUB, never synthesized or simulated: the port list of the Xilinx 7-series
// primitive so that Verilator can lint rtl/boards/ (make lint). Vivado and Yosys use their own.
`default_nettype none
module IBUFDS (
  input  wire I,
  input  wire IB,
  output wire O
);
  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = IB;
  /* verilator lint_on UNUSEDSIGNAL */
  assign O = I;
endmodule
`default_nettype wire
