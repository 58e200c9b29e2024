`default_nettype none
// The CONFIGURE field checks that two engines share (docs/rtl.md): the control engine's
// CONFIGURE and the state engine's GLOBAL image check each field word against its bounds
// (generated MT_CFG_MIN_VEC / MT_CFG_MAX_VEC) and the fields together against the cross-field
// rules (generated mt_cfg_rules_*), as op_configure and mt_state_global_check do in the model.
//
// Timing, for the engine that streams the fields: a field's bounds are looked up from ahead_i,
// the field whose word arrives in the next cycle, so that the arriving word meets only the two
// compares (the 64:1 lookup behind the payload word was the state engine's slowest path alone,
// 5.18 ns). The rules read the scanned fields through a register and are registered again: they
// cover a field's word two cycles after it arrives (their 34-bit sum and compares behind the
// payload word were the AC701 device's slowest path, 6.33 ns at t14 a66205b). An engine checks
// rule_field_o no earlier than that.
module mt_cfg_check #(
  parameter int unsigned CFW = 7           // field index bits: at least $clog2(MT_CFG_COUNT)
) (
  input  wire            clk_i,
  input  wire  [CFW-1:0] ahead_i,          // field of the word that arrives in the next cycle
  input  wire            scan_i,           // a field's word arrives: word_i of field field_i
  input  wire  [CFW-1:0] field_i,
  input  wire  [31:0]    word_i,
  output logic           out_of_range_o,   // word_i is outside the bounds of last cycle's ahead_i
  output logic [31:0]    rule_field_o,     // field of the first failing rule; MT_CFG_COUNT: all hold
  output logic [31:0]    rule_value_o      // that field's value
);
  `include "mt_protocol.vh"

  if ((1 << CFW) < MT_CFG_COUNT) begin : g_cfw
    $error("mt_cfg_check: CFW is too narrow for MT_CFG_COUNT fields");
  end

  // The bound tables padded to 2^CFW entries, so that the lookup is a plain index (a modulo by
  // the field count was a divider: a 79 ns path of the AC701 synthesis once).
  localparam int unsigned PAD_BITS = 32 * (1 << CFW);
  localparam logic [PAD_BITS-1:0] MIN_PAD = PAD_BITS'(MT_CFG_MIN_VEC);
  localparam logic [PAD_BITS-1:0] MAX_PAD = PAD_BITS'(MT_CFG_MAX_VEC);
  logic [31:0] min_q, max_q;
  always_ff @(posedge clk_i) begin
    min_q <= MIN_PAD[32*ahead_i +: 32];
    max_q <= MAX_PAD[32*ahead_i +: 32];
  end
  assign out_of_range_o = word_i < min_q || word_i > max_q;

  // The fields as they pass (synthesis keeps only those a rule reads).
  logic [32*MT_CFG_COUNT-1:0] scan_q;
  always_ff @(posedge clk_i) begin
    for (int unsigned f = 0; f < MT_CFG_COUNT; f++)
      if (scan_i && field_i == CFW'(f)) scan_q[32*f +: 32] <= word_i;
    rule_field_o <= mt_cfg_rules_field(scan_q);
    rule_value_o <= mt_cfg_rules_value(scan_q);
  end
  wire unused_scan = ^scan_q;
endmodule
`default_nettype wire
