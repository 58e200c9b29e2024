`default_nettype none
// Assertions of the AXI4-Stream handshake on one stream (docs/rtl.md, "Assertions"): once
// tvalid is high without tready, tvalid stays high and tdata and tlast stay unchanged until
// the cycle of the handshake. Simulation only: Yosys (SYNTHESIS) sees an empty module.
module mt_axis_check #(
  parameter int unsigned W = 32
) (
  input wire         clk_i,
  input wire         rst_i,
  input wire         tvalid_i,
  input wire         tready_i,
  input wire [W-1:0] tdata_i,
  input wire         tlast_i
);
`ifndef SYNTHESIS
  logic         wait_q;     // tvalid without tready in the last cycle
  logic [W-1:0] data_q;
  logic         last_q;

  always_ff @(posedge clk_i) begin
    data_q <= tdata_i;
    last_q <= tlast_i;
    if (rst_i) begin
      wait_q <= 1'b0;
    end else begin
      wait_q <= tvalid_i && !tready_i;
      if (wait_q) begin
        assert (tvalid_i) else $error("mt_axis_check: tvalid dropped before tready");
        assert (tdata_i == data_q && tlast_i == last_q)
        else $error("mt_axis_check: tdata/tlast changed before tready (%h/%b -> %h/%b)", data_q,
                    last_q, tdata_i, tlast_i);
      end
    end
  end
`else
  wire unused = ^{clk_i, rst_i, tvalid_i, tready_i, tdata_i, tlast_i};
`endif
endmodule
`default_nettype wire
