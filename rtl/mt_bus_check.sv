`default_nettype none
// Assertions of the shared-bus rule of mt_device (docs/rtl.md, "Assertions"): the engines' outputs
// are ORed onto shared buses, so at most one engine may be active (from its start_i to its
// done_o) and an engine that is not active must drive 0 on every shared bus. drives_i[e] is the
// OR of every output bit of engine e. Simulation only: Yosys (SYNTHESIS) sees an empty module.
module mt_bus_check #(
  parameter int unsigned NENG = 5
) (
  input wire            clk_i,
  input wire            rst_i,
  input wire [NENG-1:0] start_i,
  input wire [NENG-1:0] done_i,
  input wire [NENG-1:0] drives_i
);
`ifndef SYNTHESIS
  logic [NENG-1:0] active_q;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      active_q <= '0;
    end else begin
      active_q <= (active_q | start_i) & ~done_i;
      assert ($onehot0(active_q | start_i))
      else $error("mt_bus_check: more than one engine active (active %b, starting %b)",
                  active_q, start_i);
      assert ((drives_i & ~active_q) == '0)
      else $error("mt_bus_check: idle engine drives a shared bus (drives %b, active %b)",
                  drives_i, active_q);
    end
  end
`else
  wire unused = ^{clk_i, rst_i, start_i, done_i, drives_i};
`endif
endmodule
`default_nettype wire
