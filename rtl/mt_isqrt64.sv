`default_nettype none
// floor(sqrt(v)) of a 64-bit v: mt_isqrt64 of hls/mt_device.c, the same 32 digit-by-digit
// iterations, STEPS of them per cycle (32 / STEPS cycles). The MVM's per-column noise
// amplitude needs one root per vector and has a whole tile pass to wait for it, so a small
// multi-cycle unit is enough. One iteration per cycle by default: an iteration is a 64-bit
// compare and subtract, and two in one cycle (8 ns of cell delay on Artix-7) were the MVM
// engine's slowest path.
module mt_isqrt64 #(
  parameter int unsigned STEPS = 1  // iterations per cycle; must divide 32
) (
  input  wire         clk_i,
  input  wire         rst_i,
  input  wire         start_i,      // takes v_i; drops a root in progress
  input  wire  [63:0] v_i,
  output logic        valid_o,      // root_o is the root of the last start; low while computing
  output logic [31:0] root_o
);
  localparam int unsigned CYCLES = 32 / STEPS;
  localparam int unsigned CW = $clog2(CYCLES + 1);

  logic [63:0]   v_q, res_q, bit_q;
  logic [CW-1:0] left_q;            // cycles of iterations still to run
  logic          valid_q;

  // Iterations of this cycle, as the C loop body. res is always a multiple of 2 * bit (0 at
  // the start; (res >> 1) + bit and res >> 1 are multiples of bit = 4 * (bit >> 2)), so the
  // C code's res + bit is res | bit, with no carry chain, and v >= res + bit is the borrow of
  // the one 65-bit subtract that also gives the new v: one carry chain per iteration rather
  // than an add, a compare and a subtract in series (the MVM engine's slowest path).
  logic [63:0] v_n, res_n, bit_n;
  logic [64:0] diff;
  always_comb begin
    v_n = v_q;
    res_n = res_q;
    bit_n = bit_q;
    diff = '0;
    for (int s = 0; s < STEPS; s++) begin
      diff = {1'b0, v_n} - {1'b0, res_n | bit_n};
      if (!diff[64]) begin
        v_n = diff[63:0];
        res_n = (res_n >> 1) | bit_n;
      end else begin
        res_n = res_n >> 1;
      end
      bit_n = bit_n >> 2;
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      left_q <= '0;
      valid_q <= 1'b0;
    end else if (start_i) begin
      left_q <= CW'(CYCLES);
      valid_q <= 1'b0;
    end else if (left_q != 0) begin
      left_q <= left_q - 1'b1;
      valid_q <= left_q == 1;
    end
  end

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      v_q <= v_i;
      res_q <= 64'd0;
      bit_q <= 64'd1 << 62;
    end else if (left_q != 0) begin
      v_q <= v_n;
      res_q <= res_n;
      bit_q <= bit_n;
    end
  end

  assign valid_o = valid_q;
  assign root_o = res_q[31:0];
  wire unused_res = ^res_q[63:32];
endmodule
`default_nettype wire
