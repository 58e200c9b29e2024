`default_nettype none
// Test top for the assertion checkers (tests/rtl/test_sva_demo.c): rtl/mt_bus_check and
// rtl/mt_axis_check with every input driven by the test, so that it can break each rule on
// purpose and see the assertion fire, and keep to the rules and see none fire. mt_device
// instantiates the same checkers (docs/rtl.md, "Assertions").
module mt_sva_demo (
  input wire       clk_i,
  input wire       rst_i,
  input wire [2:0] start_i,
  input wire [2:0] done_i,
  input wire [2:0] drives_i,
  input wire       tvalid_i,
  input wire       tready_i,
  input wire [7:0] tdata_i,
  input wire       tlast_i
);
  mt_bus_check #(.NENG(3)) u_bus (
    .clk_i(clk_i), .rst_i(rst_i), .start_i(start_i), .done_i(done_i), .drives_i(drives_i)
  );
  mt_axis_check #(.W(8)) u_axis (
    .clk_i(clk_i), .rst_i(rst_i), .tvalid_i(tvalid_i), .tready_i(tready_i), .tdata_i(tdata_i),
    .tlast_i(tlast_i)
  );
endmodule
`default_nettype wire
