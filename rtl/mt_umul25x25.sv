`default_nettype none
// p = (a * b + c) mod 2^OW for unsigned 25-bit a and b, two cycles after the operands.
// A 25x25 unsigned product does not fit one DSP48E1 (25x18 signed, i.e. 24x17 unsigned), and
// a product followed by a wide add in one cycle was the AC701 device's slowest path (DRIFT's
// exp2 factors, 7.27 ns of cell delay). So stage 1 registers two products that each fit a DSP
// (a[23:0] * b[16:0] and a[23:0] * b[24:17]) and the rest (a[24] * b, which is b or 0, plus
// the addend c) and stage 2 adds the three: the DSPs' own output registers, then one carry
// chain. The result is the same number as the one-cycle expression for every operand.
module mt_umul25x25 #(
  parameter int unsigned OW = 50   // result width (at most 50, the full product)
) (
  input  wire           clk_i,
  input  wire  [24:0]   a_i,
  input  wire  [24:0]   b_i,
  input  wire  [OW-1:0] c_i,
  output logic [OW-1:0] p_o
);
  logic [40:0]   lo_q;   // a[23:0] * b[16:0]
  logic [31:0]   hi_q;   // a[23:0] * b[24:17]
  logic [OW-1:0] top_q;  // a[24] * b * 2^24 + c
  logic [OW-1:0] top_d;
  assign top_d = (a_i[24] ? OW'({b_i, 24'd0}) : '0) + c_i;

  always_ff @(posedge clk_i) begin
    lo_q <= 41'(a_i[23:0]) * 41'(b_i[16:0]);
    hi_q <= 32'(a_i[23:0]) * 32'(b_i[24:17]);
    top_q <= top_d;
    p_o <= OW'(lo_q) + OW'({hi_q, 17'd0}) + top_q;
  end
endmodule
`default_nettype wire
