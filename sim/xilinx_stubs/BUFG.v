// LINT-ONLY STUB, never synthesized or simulated: the port list of the Xilinx 7-series
// primitive so that Verilator can lint rtl/boards/ (make lint). Vivado and Yosys use their own.
`default_nettype none
module BUFG (
  input  wire I,
  output wire O
);
  assign O = I;
endmodule
`default_nettype wire
