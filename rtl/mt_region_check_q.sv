`default_nettype none
// mt_region_check with its outputs registered: one cycle behind its inputs. For an engine that
// completes the region's payload words at least one cycle before its check state reads the
// result (mt_eng_fab's S_CHECK, mt_eng_ctl's S_DECIDE): the check's product and compares
// followed by the engine's chain of checks in one cycle were those engines' slowest paths.
module mt_region_check_q #(
  parameter int unsigned ROWS = 128,
  parameter int unsigned COLS = 128
) (
  input  wire         clk_i,
  input  wire  [31:0] row0_i,
  input  wire  [31:0] nrows_i,
  input  wire  [31:0] col0_i,
  input  wire  [31:0] ncols_i,
  output logic        bad_q_o,
  output logic [31:0] bad_word_q_o,
  output logic [31:0] bad_val_q_o,
  output logic [63:0] cells_q_o
);
  logic        bad_d;
  logic [31:0] bad_word_d, bad_val_d;
  logic [63:0] cells_d;
  mt_region_check #(.ROWS(ROWS), .COLS(COLS)) u_check (
    .row0_i, .nrows_i, .col0_i, .ncols_i, .bad_o(bad_d), .bad_word_o(bad_word_d),
    .bad_val_o(bad_val_d), .cells_o(cells_d)
  );
  always_ff @(posedge clk_i) begin
    bad_q_o <= bad_d;
    bad_word_q_o <= bad_word_d;
    bad_val_q_o <= bad_val_d;
    cells_q_o <= cells_d;
  end
endmodule
`default_nettype wire
