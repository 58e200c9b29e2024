`default_nettype none
// check_region of hls/mt_kernel.c: payload words 1..4 (row0, nrows, col0, ncols) of a
// region command, the first failing word and its value, and the region's cell count. The
// count is only meaningful for a region that passed (bad_o low): then nrows <= ROWS and
// ncols <= COLS, so it multiplies just those bits (a small product, not 32x32).
module mt_region_check #(
  parameter int unsigned ROWS = 128,
  parameter int unsigned COLS = 128
) (
  input  wire  [31:0] row0_i,
  input  wire  [31:0] nrows_i,
  input  wire  [31:0] col0_i,
  input  wire  [31:0] ncols_i,
  output logic        bad_o,
  output logic [31:0] bad_word_o,
  output logic [31:0] bad_val_o,
  output logic [63:0] cells_o
);
  always_comb begin
    bad_o = 1'b1;
    bad_word_o = 32'd0;
    bad_val_o = 32'd0;
    if (row0_i >= ROWS) begin
      bad_word_o = 32'd1; bad_val_o = row0_i;
    end else if (nrows_i == 0 || nrows_i > ROWS - row0_i) begin
      bad_word_o = 32'd2; bad_val_o = nrows_i;
    end else if (col0_i >= COLS) begin
      bad_word_o = 32'd3; bad_val_o = col0_i;
    end else if (ncols_i == 0 || ncols_i > COLS - col0_i) begin
      bad_word_o = 32'd4; bad_val_o = ncols_i;
    end else begin
      bad_o = 1'b0;
    end
  end
  localparam int unsigned RW = $clog2(ROWS + 1);
  localparam int unsigned CW = $clog2(COLS + 1);
  assign cells_o = 64'(nrows_i[RW-1:0]) * 64'(ncols_i[CW-1:0]);
endmodule
`default_nettype wire
