`default_nettype none
// One design point of the metaplasticity unit, for synthesis alone (docs/rtl.md, "The
// metaplasticity unit alone"): rtl/mt_meta_unit.sv built at HIDDEN_W, TABLE_LOG2, ENTRY_W with
// every configuration input tied to a parameter, as a hardware unit would fix it, and its own
// f_meta table (2^TABLE_LOG2 entries of ENTRY_W bits, one write port, the read with an output
// register that the unit expects: the entry two cycles after idx). The hidden weight crosses the ports as the W-bit register value r (h = r *
// 2^(16-FRAC) in Q.16), so no port is wider than the unit; the conversions are wiring.
// r_i is already at the register's resolution, so META_WRITE (write_i) is the unit's update
// path with a zero update (r' = clamp(r_i), and its level): the unit's load path for Q.16
// values, and its 33-bit update, are not built.
//
//   scripts/synth_board.py ac701 --top mt_meta_unit_fixed --set HIDDEN_W=12 --set FRAC=6 ...
//
// Timing as rtl/mt_meta_unit.sv: idx at 10 edges, results LATENCY = 21 edges after start_i.
module mt_meta_unit_fixed #(
  parameter int unsigned HIDDEN_W   = 32,   // W, 8..32
  parameter int unsigned FRAC       = 16,   // F < W, <= 16
  parameter int unsigned ROUND      = 0,    // 0 truncate, 1 round to nearest
  parameter int unsigned TABLE_LOG2 = 8,    // 1..8
  parameter int unsigned ENTRY_W    = 16,   // 1..16
  parameter int unsigned RULE       = 0,    // 0 centre, 1 interval
  parameter int unsigned IN_SHIFT   = 0,    // meta_in_shift
  parameter int unsigned IDX_SHIFT  = 9,    // meta_idx_shift
  parameter int unsigned LEVELS     = 4     // L
) (
  input  wire logic                  clk_i,
  input  wire logic                  rst_i,
  input  wire logic                  start_i,
  input  wire logic                  write_i,   // META_WRITE: load r_i
  input  wire logic [HIDDEN_W-1:0]   r_i,       // the register value (h = r * 2^(16-FRAC))
  input  wire logic [15:0]           upd_i,
  input  wire logic                  tbl_we_i,
  input  wire logic [TABLE_LOG2-1:0] tbl_addr_i,
  input  wire logic [ENTRY_W-1:0]    tbl_data_i,
  output logic                       valid_o,
  output logic                       attenuate_o,
  output logic      [HIDDEN_W-1:0]   r_new_o,
  output logic      [7:0]            level_o
);

  localparam int unsigned S = 16 - FRAC;

  logic [ENTRY_W-1:0]    tbl_q [2**TABLE_LOG2];
  logic [ENTRY_W-1:0]    f_rd_q, f_q;
  logic [TABLE_LOG2-1:0] idx;
  logic [31:0]           h, h_new;

  always_ff @(posedge clk_i) begin
    if (tbl_we_i) tbl_q[tbl_addr_i] <= tbl_data_i;
    f_rd_q <= tbl_q[idx];
    f_q <= f_rd_q;
  end

  always_comb begin
    h = 32'($signed(r_i)) << S;
    r_new_o = HIDDEN_W'($signed(h_new) >>> S);
  end

  mt_meta_unit #(.HIDDEN_W(HIDDEN_W), .TABLE_LOG2(TABLE_LOG2), .ENTRY_W(ENTRY_W)) u_meta (
    .clk_i, .rst_i, .start_i, .write_i(1'b0), .h_i(h), .upd_i(write_i ? 16'd0 : upd_i),
    .levels_i(9'(LEVELS)), .in_shift_i(5'(IN_SHIFT)), .idx_shift_i(5'(IDX_SHIFT)),
    .hbits_i(6'(HIDDEN_W)), .frac_i(5'(FRAC)), .round_i(ROUND != 0), .tlog2_i(4'(TABLE_LOG2)),
    .ebits_i(5'(ENTRY_W)), .rule_i(RULE != 0), .f_i(f_q), .idx_o(idx), .valid_o, .attenuate_o,
    .h_new_o(h_new), .level_o
  );

endmodule
`default_nettype wire
