`default_nettype none
// Two-entry skid buffer for a valid/ready stream: every output and in_ready_o come from
// registers, so that neither side's combinational paths reach the other. Full throughput.
module mt_skid #(
  parameter int unsigned WIDTH = 33
) (
  input  wire              clk_i,
  input  wire              rst_i,
  input  wire  [WIDTH-1:0] in_data_i,
  input  wire              in_valid_i,
  output logic             in_ready_o,
  output logic [WIDTH-1:0] out_data_o,
  output logic             out_valid_o,
  input  wire              out_ready_i
);
  logic [WIDTH-1:0] skid_q;
  logic             skid_vld_q;

  assign in_ready_o = !skid_vld_q;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      out_valid_o <= 1'b0;
      skid_vld_q <= 1'b0;
    end else if (!out_valid_o || out_ready_i) begin
      // The output word is free: it takes the skid word first, else the input word.
      out_valid_o <= skid_vld_q || in_valid_i;
      skid_vld_q <= 1'b0;
    end else if (in_valid_i && !skid_vld_q) begin
      skid_vld_q <= 1'b1;
    end
    if (!out_valid_o || out_ready_i) out_data_o <= skid_vld_q ? skid_q : in_data_i;
    if (out_valid_o && !out_ready_i && in_valid_i && !skid_vld_q) skid_q <= in_data_i;
  end
endmodule
`default_nettype wire
