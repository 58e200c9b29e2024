// LINT-ONLY STUB, never synthesized or simulated: the ports of the Xilinx 7-series
// bidirectional buffer, so that Verilator can lint rtl/boards/ (make lint,
// scripts/lint_board.sh). T high releases the pad; O always sees the pad. Vivado and Yosys use
// their own.
`default_nettype none
module IOBUF (
  input  wire I,
  input  wire T,
  output wire O,
  inout  wire IO
);
  assign IO = T ? 1'bz : I;
  assign O = IO;
endmodule
`default_nettype wire
