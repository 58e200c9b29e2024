`default_nettype none
// Metaplasticity arithmetic of one weight (docs/device-model.md, "Metaplasticity unit"):
// bit-exact with the body of op_meta_update in hls/mt_kernel.c and mt_level_of_hidden in
// hls/mt_device.c.
//
//   d     = upd * 2^in_shift                    (zero_o: d == 0, the update is ignored)
//   idx   = min(|h| >> idx_shift, 255)
//   toward zero (h > 0 > d or h < 0 < d) and f != 0xFFFF: d = trunc(d * f / 65536) (C's /,
//   toward zero, so +d and -d shrink alike; 0xFFFF stands for exactly 1: attenuate_o low)
//   h'    = clamp(h + d, -0x3FFFFFFF, 0x3FFFFFFF)
//   level = clamp(floor((h' + L * 2^15) / 2^16), 0, L - 1)
//
// Staged, one weight per cycle: in the cycle of start_i the engine presents h_i, upd_i, the
// shifts and levels_i, and gets idx_o and zero_o combinationally from them; it reads the
// f_meta table at idx_o (1-cycle latency) and presents f_i in the next cycle. The multiply
// has registered operands and product; the add, the clamp, the bias and the level compare
// get a stage each. valid_o rises LATENCY = 7 edges after start_i's, with attenuate_o,
// h_new_o and level_o. Only the valid bits are reset.
//
// META_WRITE uses the same unit with upd_i = 0: then h' = h (the command checked the range)
// and level_o is mt_level_of_hidden(h). in_shift_i <= 16 and idx_shift_i <= 24 are the
// CONFIGURE bounds, and 2 <= levels_i <= 256 holds whenever a level table is set.
module mt_meta_unit (
  input  wire logic        clk_i,
  input  wire logic        rst_i,
  input  wire logic        start_i,
  input  wire logic [31:0] h_i,          // hidden weight, signed Q15.16 level units
  input  wire logic [15:0] upd_i,        // signed update (META_UPDATE payload half-word)
  input  wire logic [4:0]  in_shift_i,
  input  wire logic [4:0]  idx_shift_i,
  input  wire logic [8:0]  levels_i,
  input  wire logic [15:0] f_i,          // f_meta[idx_o], the cycle after start_i
  output logic             zero_o,
  output logic      [7:0]  idx_o,
  output logic             valid_o,
  output logic             attenuate_o,
  output logic      [31:0] h_new_o,
  output logic      [7:0]  level_o
);

`include "mt_protocol.vh"
  localparam int unsigned LATENCY = 7;
  localparam logic signed [34:0] HIDDEN_MAX = 35'(MT_HIDDEN_MAX);

  logic [LATENCY-1:0] valid_q;
  logic [8:0]         lv_q [LATENCY];    // levels_i, carried to the level stages
  logic [31:0]        h_q [4];           // h, carried to the add (stage 4)
  logic               att_q [LATENCY];   // attenuate, from stage 2 on

  // start cycle: d, zero, idx
  logic signed [32:0] d;                 // |d| <= 2^31
  logic        [31:0] mag, idx_full;
  logic               toward;
  // stage 1 -> 2: operands; stage 2: d * f (|.| < 2^47)
  logic signed [32:0] d1_q, d2_q;
  logic               toward1_q;
  logic signed [49:0] p2_q;
  // stage 3: the effective update; stage 4: h + d; stage 5: clamped
  logic signed [49:0] prod_adj;          // + 65535 when negative: >>> then truncates toward zero
  logic signed [33:0] deff3_q;
  logic signed [34:0] hn4_q, hc5_q, hc6_q;
  // stage 6: h' + L * 2^15; stage 7: the level
  logic signed [35:0] biased6_q;
  logic signed [19:0] q;                 // floor(biased / 2^16)
  logic [7:0]         level7_q;
  logic [31:0]        hnew7_q;

  always_comb begin
    d = $signed({{17{upd_i[15]}}, upd_i}) <<< in_shift_i;
    zero_o = d == 33'sd0;
    mag = h_i[31] ? 32'd0 - h_i : h_i;  // |INT32_MIN| = 2^31 fits unsigned
    idx_full = mag >> idx_shift_i;
    idx_o = idx_full > 32'd255 ? 8'd255 : idx_full[7:0];
    toward = ($signed(h_i) > 32'sd0 && d < 33'sd0) || ($signed(h_i) < 32'sd0 && d > 33'sd0);
    prod_adj = p2_q[49] ? p2_q + 50'sd65535 : p2_q;
    q = biased6_q[35:16];
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) valid_q <= '0;
    else valid_q <= {valid_q[LATENCY-2:0], start_i};
  end

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      d1_q <= d;
      toward1_q <= toward;
      h_q[0] <= h_i;
      lv_q[0] <= levels_i;
    end
    for (int unsigned k = 1; k < LATENCY; k++) begin
      if (valid_q[k-1]) lv_q[k] <= lv_q[k-1];
      if (valid_q[k-1] && k < 4) h_q[k] <= h_q[k-1];
      if (valid_q[k-1] && k > 1) att_q[k] <= att_q[k-1];
    end
    if (valid_q[0]) begin
      p2_q <= $signed({{17{d1_q[32]}}, d1_q}) * $signed({34'd0, f_i});
      d2_q <= d1_q;
      att_q[1] <= toward1_q && f_i != 16'hFFFF;
    end
    if (valid_q[1]) deff3_q <= att_q[1] ? prod_adj[49:16] : $signed({d2_q[32], d2_q});
    if (valid_q[2]) hn4_q <= $signed({{3{h_q[2][31]}}, h_q[2]}) + $signed({deff3_q[33], deff3_q});
    if (valid_q[3]) begin
      if (hn4_q > HIDDEN_MAX) hc5_q <= HIDDEN_MAX;
      else if (hn4_q < -HIDDEN_MAX) hc5_q <= -HIDDEN_MAX;
      else hc5_q <= hn4_q;
    end
    if (valid_q[4]) begin
      biased6_q <= $signed({hc5_q[34], hc5_q}) + $signed({12'd0, lv_q[4], 15'd0});
      hc6_q <= hc5_q;
    end
    if (valid_q[5]) begin
      hnew7_q <= hc6_q[31:0];
      if (q < 20'sd0) level7_q <= 8'd0;
      else if (q > $signed({11'd0, lv_q[5]}) - 20'sd1) level7_q <= 8'(lv_q[5] - 9'd1);
      else level7_q <= q[7:0];
    end
  end

  assign valid_o = valid_q[LATENCY-1];
  assign attenuate_o = att_q[LATENCY-1];
  assign h_new_o = hnew7_q;
  assign level_o = level7_q;

  // The floor shifts drop the low bits; h' fits 31 bits. h_q[3] and lv_q[6] are carried
  // for the uniform stage loop; their last uses are h_q[2] and lv_q[5].
  logic unused_dropped;
  assign unused_dropped = ^{prod_adj[15:0], hc6_q[34:32], biased6_q[15:0], h_q[3], lv_q[6]};

endmodule
`default_nettype wire
