`default_nettype none
// AC701 + UMFT601X-B board top (docs/boards.md, "AC701 + UMFT601X-B (usb://)"; pins and I/O
// timing in constraints/ac701_umft601x.xdc, whose get_ports must name exactly these ports:
// scripts/check_xdc_ports.py). The 200 MHz SYSCLK drives an MMCM that makes the 75 MHz core
// clock; the FT601's own 100 MHz CLK clocks the bridge. Both domains leave reset together,
// after CPU_RESET is released and the MMCM has locked. Xilinx primitives are instantiated
// here only; sim/xilinx_stubs/ has lint-only models of them.
module ac701_top #(
  // The device this board holds (docs/rtl.md, "The USB path"): one 128x128 tile.
  parameter int unsigned TILES = 1,
  parameter int unsigned ROWS = 128,
  parameter int unsigned COLS = 128,
  parameter int unsigned LANES = 16,
  parameter int unsigned CMD_WORDS = 8192
) (
  input  wire        clk200_p,
  input  wire        clk200_n,
  input  wire        cpu_reset,
  input  wire        ft_clk,
  inout  wire [31:0] ft_data,
  inout  wire [3:0]  ft_be,
  input  wire        ft_rxf_n,
  input  wire        ft_txe_n,
  output wire        ft_rd_n,
  output wire        ft_wr_n,
  output wire        ft_oe_n,
  output wire        ft_siwu_n,
  output wire        ft_rst_n
);
  // ---------------------------------------------------------------- clocks
  wire clk200, clk_core_mmcm, clk_core, clk_fb, locked, ft_clk_g;
  IBUFDS u_clk200 (.I(clk200_p), .IB(clk200_n), .O(clk200));
  // Unused MMCM outputs stay open.
  /* verilator lint_off PINCONNECTEMPTY */
  // VCO = 200 MHz * 6 = 1200 MHz (600-1440 MHz for the -2 speed grade); 1200 / 16 = 75 MHz.
  // The real-typed parameters are written as integers (5 ns, x6, /16: the same values):
  // Vivado converts them to real as Verilog does, and Yosys reads them without a warning (it
  // warns on real literals given to a black-box primitive).
  MMCME2_BASE #(
    .CLKIN1_PERIOD(5), .DIVCLK_DIVIDE(1), .CLKFBOUT_MULT_F(6), .CLKOUT0_DIVIDE_F(16)
  ) u_mmcm (
    .CLKIN1(clk200), .CLKFBIN(clk_fb), .CLKFBOUT(clk_fb), .CLKOUT0(clk_core_mmcm),
    .LOCKED(locked), .RST(cpu_reset), .PWRDWN(1'b0),
    .CLKFBOUTB(), .CLKOUT0B(), .CLKOUT1(), .CLKOUT1B(), .CLKOUT2(), .CLKOUT2B(),
    .CLKOUT3(), .CLKOUT3B(), .CLKOUT4(), .CLKOUT5(), .CLKOUT6()
  );
  /* verilator lint_on PINCONNECTEMPTY */
  BUFG u_core_bufg (.I(clk_core_mmcm), .O(clk_core));
  BUFG u_ft_bufg (.I(ft_clk), .O(ft_clk_g));

  // ---------------------------------------------------------------- resets
  // Asynchronous request (pushbutton or MMCM not locked), synchronised into each domain; the
  // flops start set so that both domains are in reset from configuration on.
  wire rst_req = cpu_reset || !locked;
  (* ASYNC_REG = "TRUE" *) logic [3:0] core_rst_q = 4'hF;
  (* ASYNC_REG = "TRUE" *) logic [3:0] ft_rst_q = 4'hF;
  always_ff @(posedge clk_core or posedge rst_req)
    if (rst_req) core_rst_q <= 4'hF;
    else core_rst_q <= {core_rst_q[2:0], 1'b0};
  always_ff @(posedge ft_clk_g or posedge rst_req)
    if (rst_req) ft_rst_q <= 4'hF;
    else ft_rst_q <= {ft_rst_q[2:0], 1'b0};
  wire rst_core = core_rst_q[3];
  wire rst_ft = ft_rst_q[3];

  // The FT601 keeps running across our resets (it supplies ft_clk); SIWU_N is unused.
  assign ft_rst_n = 1'b1;
  assign ft_siwu_n = 1'b1;

  // ---------------------------------------------------------------- FT601 bus buffers
  // One IOBUF per DATA/BE pin (docs/boards.md, "Pad structure"). Each pin's I/O block holds
  // its input flop, output flop and tristate-control flop (T, active high = released), all in
  // the bridge, so the pad sees registered signals only.
  wire [31:0] data_i, data_o, data_t;
  wire [3:0]  be_i, be_o, be_t;
  for (genvar i = 0; i < 32; i++) begin : g_data_pad
    IOBUF u_pad (.I(data_o[i]), .T(data_t[i]), .O(data_i[i]), .IO(ft_data[i]));
  end
  for (genvar i = 0; i < 4; i++) begin : g_be_pad
    IOBUF u_pad (.I(be_o[i]), .T(be_t[i]), .O(be_i[i]), .IO(ft_be[i]));
  end

  wire busy_unused;
  mt_usb_core #(
    .TILES(TILES), .ROWS(ROWS), .COLS(COLS), .LANES(LANES), .CMD_WORDS(CMD_WORDS),
    .BUF_AW(14), .RSP_WORDS(16384), .FIFO_AW(5), .DROP_CYCLES(4194304)
  ) u_core (
    .ft_clk_i(ft_clk_g), .ft_rst_i(rst_ft), .ft_data_i(data_i), .ft_be_i(be_i),
    .ft_rxf_n_i(ft_rxf_n), .ft_txe_n_i(ft_txe_n), .ft_data_o(data_o), .ft_be_o(be_o),
    .ft_data_t_o(data_t), .ft_be_t_o(be_t), .ft_rd_n_o(ft_rd_n), .ft_wr_n_o(ft_wr_n),
    .ft_oe_n_o(ft_oe_n),
    .clk_i(clk_core), .rst_i(rst_core), .busy_o(busy_unused)
  );
endmodule
`default_nettype wire
