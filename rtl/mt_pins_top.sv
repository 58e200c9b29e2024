`default_nettype none
// Thin top for place-and-route of the device core on a part without a board around it
// (`make synth BOARD=ecp5`, docs/rtl.md "Fit and timing per board"): one clock, a synchronous
// reset, and the device's two 32-bit streams on pins through registered skid buffers
// (mt_skid), so that pin timing stays out of the core's paths.
module mt_pins_top #(
  parameter int unsigned TILES = 1,
  parameter int unsigned ROWS = 32,
  parameter int unsigned COLS = 32,
  parameter int unsigned LANES = 2,
  parameter int unsigned CMD_WORDS = 8192
) (
  input  wire         clk_i,
  input  wire         rst_i,
  input  wire  [31:0] s_tdata_i,
  input  wire         s_tvalid_i,
  input  wire         s_tlast_i,
  output logic        s_tready_o,
  output logic [31:0] m_tdata_o,
  output logic        m_tvalid_o,
  output logic        m_tlast_o,
  input  wire         m_tready_i,
  output logic        done_o,
  output logic        busy_o
);
  logic        rst_q;
  logic [32:0] in_word, out_word;
  logic        in_vld, in_rdy, out_vld, out_rdy, dev_done, dev_busy;

  always_ff @(posedge clk_i) begin
    rst_q <= rst_i;
    done_o <= dev_done;
    busy_o <= dev_busy;
  end

  mt_skid #(.WIDTH(33)) u_in (
    .clk_i(clk_i), .rst_i(rst_q), .in_data_i({s_tlast_i, s_tdata_i}), .in_valid_i(s_tvalid_i),
    .in_ready_o(s_tready_o), .out_data_o(in_word), .out_valid_o(in_vld), .out_ready_i(in_rdy)
  );
  mt_skid #(.WIDTH(33)) u_out (
    .clk_i(clk_i), .rst_i(rst_q), .in_data_i(out_word), .in_valid_i(out_vld),
    .in_ready_o(out_rdy), .out_data_o({m_tlast_o, m_tdata_o}), .out_valid_o(m_tvalid_o),
    .out_ready_i(m_tready_i)
  );

  /* verilator lint_off PINCONNECTEMPTY */
  mt_device #(.TILES(TILES), .ROWS(ROWS), .COLS(COLS), .LANES(LANES), .CMD_WORDS(CMD_WORDS)) u_dev (
    .clk_i(clk_i), .rst_i(rst_q),
    .s_axis_tdata_i(in_word[31:0]), .s_axis_tvalid_i(in_vld), .s_axis_tready_o(in_rdy),
    .s_axis_tlast_i(in_word[32]),
    .m_axis_tdata_o(out_word[31:0]), .m_axis_tvalid_o(out_vld), .m_axis_tready_i(out_rdy),
    .m_axis_tlast_o(out_word[32]),
    .rsp_cap_i(32'(CMD_WORDS)), .done_o(dev_done), .consumed_o(), .rsp_words_o(), .busy_o(dev_busy),
    .cycles_o()
  );
  /* verilator lint_on PINCONNECTEMPTY */
endmodule
`default_nettype wire
