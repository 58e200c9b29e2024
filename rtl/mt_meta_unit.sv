`default_nettype none
// Metaplasticity arithmetic of one weight (docs/device-model.md, "Metaplasticity unit"):
// bit-exact with the body of op_meta_update in hls/mt_kernel.c and mt_level_of_hidden in
// hls/mt_device.c. Combinational; the f_meta table read sits between idx_o and f_i:
// the engine presents h_i/upd_i, reads the table at idx_o (1-cycle latency) and keeps the
// inputs while f_i arrives.
//
//   d     = upd * 2^in_shift                    (zero_o: d == 0, the update is ignored)
//   idx   = min(|h| >> idx_shift, 255)
//   toward zero (h > 0 > d or h < 0 < d) and f != 0xFFFF: d = trunc(d * f / 65536) (C's /,
//   toward zero, so +d and -d shrink alike; 0xFFFF stands for exactly 1: attenuate_o low)
//   h'    = clamp(h + d, -0x3FFFFFFF, 0x3FFFFFFF)
//   level = clamp(floor((h' + L * 2^15) / 2^16), 0, L - 1)
//
// META_WRITE uses the same unit with upd_i = 0: then h' = h (the command checked the range)
// and level_o is mt_level_of_hidden(h). in_shift_i <= 16 and idx_shift_i <= 24 are the
// CONFIGURE bounds, and 2 <= levels_i <= 256 holds whenever a level table is set.
module mt_meta_unit (
  input  wire logic [31:0] h_i,          // hidden weight, signed Q15.16 level units
  input  wire logic [15:0] upd_i,        // signed update (META_UPDATE payload half-word)
  input  wire logic [4:0]  in_shift_i,
  input  wire logic [4:0]  idx_shift_i,
  input  wire logic [8:0]  levels_i,
  input  wire logic [15:0] f_i,          // f_meta[idx_o]
  output logic             zero_o,
  output logic      [7:0]  idx_o,
  output logic             attenuate_o,
  output logic      [31:0] h_new_o,
  output logic      [7:0]  level_o
);

`include "mt_protocol.vh"
  localparam logic signed [34:0] HIDDEN_MAX = 35'(MT_HIDDEN_MAX);

  logic signed [32:0] d;        // |d| <= 2^31
  logic        [31:0] mag, idx_full;
  logic               toward;
  logic signed [49:0] prod;     // d * f
  logic signed [49:0] prod_adj; // + 65535 when negative: >>> then truncates toward zero
  logic signed [33:0] d_eff;
  logic signed [34:0] hn;
  logic signed [34:0] hc;       // clamped
  logic signed [35:0] biased;   // h' + L * 2^15
  logic signed [19:0] q;        // floor(biased / 2^16)

  always_comb begin
    d = $signed({{17{upd_i[15]}}, upd_i}) <<< in_shift_i;
    zero_o = d == 33'sd0;
    mag = h_i[31] ? 32'd0 - h_i : h_i;  // |INT32_MIN| = 2^31 fits unsigned
    idx_full = mag >> idx_shift_i;
    idx_o = idx_full > 32'd255 ? 8'd255 : idx_full[7:0];
    toward = ($signed(h_i) > 32'sd0 && d < 33'sd0) || ($signed(h_i) < 32'sd0 && d > 33'sd0);
    attenuate_o = toward && f_i != 16'hFFFF;
    prod = $signed({{17{d[32]}}, d}) * $signed({34'd0, f_i});
    prod_adj = prod[49] ? prod + 50'sd65535 : prod;
    d_eff = attenuate_o ? prod_adj[49:16] : $signed({d[32], d});
    hn = $signed({{3{h_i[31]}}, h_i}) + $signed({d_eff[33], d_eff});
    if (hn > HIDDEN_MAX) hc = HIDDEN_MAX;
    else if (hn < -HIDDEN_MAX) hc = -HIDDEN_MAX;
    else hc = hn;
    h_new_o = hc[31:0];
    biased = $signed({hc[34], hc}) + $signed({12'd0, levels_i, 15'd0});
    q = biased[35:16];
    if (q < 20'sd0) level_o = 8'd0;
    else if (q > $signed({11'd0, levels_i}) - 20'sd1) level_o = 8'(levels_i - 9'd1);
    else level_o = q[7:0];
  end

  // The floor shifts drop the low bits; |d * f| < 2^47 and h' fits 31 bits.
  logic unused_dropped;
  assign unused_dropped = ^{prod_adj[15:0], hc[34:32], biased[15:0]};

endmodule
`default_nettype wire
