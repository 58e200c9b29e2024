`default_nettype none
// Test harness of rtl/mt_meta_unit.sv at several builds (tests/rtl/test_meta_unit.c): the
// unit at (HIDDEN_W, TABLE_LOG2, ENTRY_W) = (32, 8, 16), (24, 8, 12), (16, 6, 8), (12, 5, 8)
// and (8, 4, 4), side by side on the same inputs, each with its own read port of one f_meta
// table (Q0.16 words, read at the unit's idx_o with an output register, the entry two cycles
// later as from the engine's table; a build with
// ENTRY_W < 16 stores the top ENTRY_W bits). sel_i picks the build whose outputs are seen;
// the others run on the same inputs, which may lie outside their build. Beside them, the
// fixed-point wrapper at one design point (fx_*).
module mt_meta_builds (
  input  wire logic        clk_i,
  input  wire logic        rst_i,
  input  wire logic        start_i,
  input  wire logic        write_i,
  input  wire logic [31:0] h_i,
  input  wire logic [15:0] upd_i,
  input  wire logic [8:0]  levels_i,
  input  wire logic [4:0]  in_shift_i,
  input  wire logic [4:0]  idx_shift_i,
  input  wire logic [5:0]  hbits_i,
  input  wire logic [4:0]  frac_i,
  input  wire logic        round_i,
  input  wire logic [3:0]  tlog2_i,
  input  wire logic [4:0]  ebits_i,
  input  wire logic        rule_i,
  input  wire logic        tbl_we_i,
  input  wire logic [7:0]  tbl_addr_i,
  input  wire logic [15:0] tbl_data_i,
  input  wire logic [2:0]  sel_i,
  output logic             valid_o,
  output logic             attenuate_o,
  output logic      [31:0] h_new_o,
  output logic      [7:0]  level_o,
  // rtl/mt_meta_unit_fixed.sv at one design point (the localparams F_* below), on start_i,
  // write_i, upd_i and the low 12 bits of h_i as its register value; its table takes the
  // writes to addresses below 32, the top 8 bits of each word
  output logic             fx_valid_o,
  output logic      [11:0] fx_r_o,
  output logic      [7:0]  fx_level_o
);

  localparam int unsigned N = 5;
  localparam int unsigned BW_W [N] = '{32, 24, 16, 12, 8};
  localparam int unsigned BW_K [N] = '{8, 8, 6, 5, 4};
  localparam int unsigned BW_E [N] = '{16, 12, 8, 8, 4};

  logic [15:0] tbl_q [256];
  always_ff @(posedge clk_i) if (tbl_we_i) tbl_q[tbl_addr_i] <= tbl_data_i;

  logic        valid [N];
  logic        att [N];
  logic [31:0] hn [N];
  logic [7:0]  lvl [N];

  for (genvar u = 0; u < N; u++) begin : g_unit
    localparam int unsigned K = BW_K[u];
    localparam int unsigned E = BW_E[u];
    logic [K-1:0] idx;
    logic [E-1:0] f_rd_q, f_q;
    always_ff @(posedge clk_i) begin
      f_rd_q <= tbl_q[8'(idx)][15 -: E];
      f_q <= f_rd_q;
    end
    mt_meta_unit #(.HIDDEN_W(BW_W[u]), .TABLE_LOG2(K), .ENTRY_W(E)) u_meta (
      .clk_i, .rst_i, .start_i, .write_i, .h_i, .upd_i, .levels_i, .in_shift_i, .idx_shift_i,
      .hbits_i, .frac_i, .round_i, .tlog2_i, .ebits_i, .rule_i,
      .f_i(f_q), .idx_o(idx), .valid_o(valid[u]), .attenuate_o(att[u]), .h_new_o(hn[u]),
      .level_o(lvl[u])
    );
  end

  logic fx_att;
  mt_meta_unit_fixed #(.HIDDEN_W(12), .FRAC(6), .ROUND(1), .TABLE_LOG2(5), .ENTRY_W(8), .RULE(1),
                       .IN_SHIFT(2), .IDX_SHIFT(11), .LEVELS(5)) u_fixed (
    .clk_i, .rst_i, .start_i, .write_i, .r_i(h_i[11:0]), .upd_i,
    .tbl_we_i(tbl_we_i && tbl_addr_i < 8'd32), .tbl_addr_i(tbl_addr_i[4:0]),
    .tbl_data_i(tbl_data_i[15:8]), .valid_o(fx_valid_o), .attenuate_o(fx_att), .r_new_o(fx_r_o),
    .level_o(fx_level_o)
  );
  logic unused_fx;
  assign unused_fx = fx_att;

  always_comb begin
    valid_o = 1'b0;
    attenuate_o = 1'b0;
    h_new_o = '0;
    level_o = '0;
    for (int unsigned u = 0; u < N; u++) begin
      if (32'(sel_i) == u) begin
        valid_o = valid[u];
        attenuate_o = att[u];
        h_new_o = hn[u];
        level_o = lvl[u];
      end
    end
  end

endmodule
`default_nettype wire
