`default_nettype none
// The board's logic below its clocking (docs/rtl.md, "The USB path"): the FT601 bridge in the
// FT601's clock domain, a dual-clock FIFO each way, and in the core clock domain the frame
// engine and mt_device. Each domain has its own synchronous reset; the board top applies both
// together (mt_async_fifo needs that).
module mt_usb_core #(
  parameter int unsigned TILES = 1,
  parameter int unsigned ROWS = 128,
  parameter int unsigned COLS = 128,
  parameter int unsigned LANES = 16,
  parameter int unsigned CMD_WORDS = 8192,
  // receive ring of the frame engine (largest CMD payload: 2**BUF_AW - 4 words)
  parameter int unsigned BUF_AW = 14,
  // response buffer (largest RSP payload; the device's rsp_cap is one less)
  parameter int unsigned RSP_WORDS = 16384,
  parameter int unsigned FIFO_AW = 5,
  parameter int unsigned DROP_CYCLES = 4194304
) (
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
  // ---------------------------------------------------------------- FT601 clock domain
  logic [31:0]      rx_w_data, tx_r_data;
  logic             rx_w_valid, tx_r_valid, tx_r_ready;
  logic [FIFO_AW:0] rx_w_free, tx_w_free_unused;

  mt_ft601_bridge #(.FREE_W(FIFO_AW + 1)) u_bridge (
    .ft_clk_i(ft_clk_i), .ft_rst_i(ft_rst_i), .ft_data_i(ft_data_i), .ft_be_i(ft_be_i),
    .ft_rxf_n_i(ft_rxf_n_i), .ft_txe_n_i(ft_txe_n_i), .ft_data_o(ft_data_o), .ft_be_o(ft_be_o),
    .ft_data_t_o(ft_data_t_o), .ft_be_t_o(ft_be_t_o), .ft_rd_n_o(ft_rd_n_o),
    .ft_wr_n_o(ft_wr_n_o), .ft_oe_n_o(ft_oe_n_o), .rx_data_o(rx_w_data), .rx_valid_o(rx_w_valid),
    .rx_free_i(rx_w_free), .tx_data_i(tx_r_data), .tx_valid_i(tx_r_valid),
    .tx_ready_o(tx_r_ready)
  );

  // ---------------------------------------------------------------- crossings
  logic [31:0] rx_r_data, tx_w_data;
  logic        rx_r_valid, rx_r_ready, tx_w_valid, tx_w_ready, rx_w_ready_unused;

  // The bridge pushes only with room (rx_free), so wready is not needed on that side.
  mt_async_fifo #(.WIDTH(32), .AW(FIFO_AW)) u_rx_fifo (
    .wclk_i(ft_clk_i), .wrst_i(ft_rst_i), .wdata_i(rx_w_data), .wvalid_i(rx_w_valid),
    .wready_o(rx_w_ready_unused), .wfree_o(rx_w_free),
    .rclk_i(clk_i), .rrst_i(rst_i), .rdata_o(rx_r_data), .rvalid_o(rx_r_valid),
    .rready_i(rx_r_ready)
  );
  mt_async_fifo #(.WIDTH(32), .AW(FIFO_AW)) u_tx_fifo (
    .wclk_i(clk_i), .wrst_i(rst_i), .wdata_i(tx_w_data), .wvalid_i(tx_w_valid),
    .wready_o(tx_w_ready), .wfree_o(tx_w_free_unused),
    .rclk_i(ft_clk_i), .rrst_i(ft_rst_i), .rdata_o(tx_r_data), .rvalid_o(tx_r_valid),
    .rready_i(tx_r_ready)
  );

  // ---------------------------------------------------------------- core clock domain
  logic [31:0] s_tdata, m_tdata, rsp_cap, consumed, rsp_words;
  logic        s_tvalid, s_tready, s_tlast, m_tvalid, m_tready, m_tlast_unused, done;
  logic        dev_busy, fe_busy;
  logic [63:0] dev_cycles_unused;

  mt_frame_engine #(.BUF_AW(BUF_AW), .RSP_WORDS(RSP_WORDS), .DROP_CYCLES(DROP_CYCLES)) u_fe (
    .clk_i(clk_i), .rst_i(rst_i), .rx_data_i(rx_r_data), .rx_valid_i(rx_r_valid),
    .rx_ready_o(rx_r_ready), .tx_data_o(tx_w_data), .tx_valid_o(tx_w_valid),
    .tx_ready_i(tx_w_ready), .dev_tdata_o(s_tdata), .dev_tvalid_o(s_tvalid),
    .dev_tready_i(s_tready), .dev_tlast_o(s_tlast), .dev_rdata_i(m_tdata),
    .dev_rvalid_i(m_tvalid), .dev_rready_o(m_tready), .dev_rsp_cap_o(rsp_cap),
    .dev_done_i(done), .dev_consumed_i(consumed), .dev_rsp_words_i(rsp_words),
    .busy_o(fe_busy)
  );

  mt_device #(.TILES(TILES), .ROWS(ROWS), .COLS(COLS), .LANES(LANES), .CMD_WORDS(CMD_WORDS))
  u_dev (
    .clk_i(clk_i), .rst_i(rst_i), .s_axis_tdata_i(s_tdata), .s_axis_tvalid_i(s_tvalid),
    .s_axis_tready_o(s_tready), .s_axis_tlast_i(s_tlast), .m_axis_tdata_o(m_tdata),
    .m_axis_tvalid_o(m_tvalid), .m_axis_tready_i(m_tready), .m_axis_tlast_o(m_tlast_unused),
    .rsp_cap_i(rsp_cap), .done_o(done), .consumed_o(consumed), .rsp_words_o(rsp_words),
    .busy_o(dev_busy), .cycles_o(dev_cycles_unused)
  );

  assign busy_o = fe_busy || dev_busy;

  wire unused_ok = ^{tx_w_free_unused, rx_w_ready_unused, m_tlast_unused, dev_cycles_unused};
endmodule
`default_nettype wire
