`default_nettype none
// Simulation-only top with mt_usb_core's ports and a deliberately broken bus side: the FT601
// bridge is told RXF_N is always low, so it keeps RD_N low after the FT601 raised RXF_N. Built
// with --prefix Vmt_usb_core into the same harness (sim/mt_usbsim_tb.cpp), it shows that the
// bus model reports a broken 245 rule (tests/rtl/usbsim_broken.c). Behind the bridge, the
// received words come straight back (no frame engine, no device).
module mt_usbsim_rxf_ignored (
  input  wire         ft_clk_i,
  input  wire         ft_rst_i,
  input  wire  [31:0] ft_data_i,
  input  wire  [3:0]  ft_be_i,
  input  wire         ft_rxf_n_i,
  input  wire         ft_txe_n_i,
  output logic [31:0] ft_data_o,
  output logic [3:0]  ft_be_o,
  output logic [31:0] ft_data_t_o,
  output logic [3:0]  ft_be_t_o,
  output logic        ft_rd_n_o,
  output logic        ft_wr_n_o,
  output logic        ft_oe_n_o,
  input  wire         clk_i,
  input  wire         rst_i,
  output logic        busy_o
);
  logic [31:0] rx_data, lb_data;
  logic        rx_valid, lb_valid, lb_ready;
  logic [5:0]  free;
  logic        wready_unused;

  mt_ft601_bridge #(.FREE_W(6)) u_bridge (
    .ft_clk_i(ft_clk_i), .ft_rst_i(ft_rst_i), .ft_data_i(ft_data_i), .ft_be_i(ft_be_i),
    .ft_rxf_n_i(1'b0), .ft_txe_n_i(ft_txe_n_i), .ft_data_o(ft_data_o), .ft_be_o(ft_be_o),
    .ft_data_t_o(ft_data_t_o), .ft_be_t_o(ft_be_t_o), .ft_rd_n_o(ft_rd_n_o),
    .ft_wr_n_o(ft_wr_n_o), .ft_oe_n_o(ft_oe_n_o), .rx_data_o(rx_data), .rx_valid_o(rx_valid), .rx_free_i(free),
    .tx_data_i(lb_data), .tx_valid_i(lb_valid), .tx_ready_o(lb_ready)
  );
  mt_async_fifo #(.WIDTH(32), .AW(5)) u_loop (
    .wclk_i(ft_clk_i), .wrst_i(ft_rst_i), .wdata_i(rx_data), .wvalid_i(rx_valid),
    .wready_o(wready_unused), .wfree_o(free), .rclk_i(ft_clk_i), .rrst_i(ft_rst_i),
    .rdata_o(lb_data), .rvalid_o(lb_valid), .rready_i(lb_ready)
  );
  assign busy_o = 1'b0;

  wire unused_ok = ^{ft_rxf_n_i, clk_i, rst_i, wready_unused};
endmodule
`default_nettype wire
