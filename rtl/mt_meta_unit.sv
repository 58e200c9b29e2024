`default_nettype none
// Metaplasticity unit of one weight (docs/device-model.md, "Metaplasticity unit"): bit-exact
// with mt_meta_unit and mt_level_of_hidden in hls/mt_device.c at every configuration within
// the build parameters.
//
// Build parameters (what a hardware unit fixes): HIDDEN_W, the widest hidden-weight register
// (8..32); TABLE_LOG2, the f_meta entries it can index (1..8); ENTRY_W, the bits it keeps of
// each entry (1..16; f_i is the top ENTRY_W bits of the Q0.16 entry). The configuration inputs
// choose within them: hbits_i = W <= HIDDEN_W, frac_i = F < W and <= 16, tlog2_i <= TABLE_LOG2,
// ebits_i <= ENTRY_W; the full build (32, 8, 16) takes every CONFIGURE value. The
// configuration inputs must be stable while a weight is in flight, and for 2 cycles before
// (the values derived from them are registered); the engine guarantees both.
//
//   s = 16 - F; r = low W bits of floor(h / 2^s), signed (META_WRITE: r = 0, d = h_i)
//   d = upd * 2^in_shift
//   rule 0: toward = r and d of opposite signs, dist = |r| * 2^s
//   rule 1: toward = a boundary of level(h)'s interval lies in d's direction, dist = the
//           distance to it (Q.16)
//   toward: f = f_meta[min(dist >> idx_shift, 2^k - 1)] >> (16 - E); unless all ones:
//           d = d * f, n = s + E (attenuate_o)         else n = s
//   r' = clamp(r + Q_n(d), +-min(2^(W-1) - 1, HIDDEN_MAX >> s)), Q_n truncating or rounding
//   h_new = r' * 2^s, level = clamp(floor((h_new + L * 2^15) / 2^16), 0, L - 1)
//
// Pipelined, one weight per cycle if wanted (the engine starts one at a time): the inputs are
// presented with start_i; idx_o holds the table index IDX_STAGE = 10 edges later (for one cycle),
// and f_i must carry the table entry at idx_o two cycles later (a block RAM addressed by idx_o,
// with its output register). valid_o, attenuate_o, h_new_o and level_o follow LATENCY edges after
// start_i's. Every stage holds at most one shift, one add or compare, or the registered
// multiply. Only the valid bits are reset; the data registers load every cycle.
module mt_meta_unit #(
  parameter int unsigned HIDDEN_W   = 32,
  parameter int unsigned TABLE_LOG2 = 8,
  parameter int unsigned ENTRY_W    = 16
) (
  input  wire logic                  clk_i,
  input  wire logic                  rst_i,
  input  wire logic                  start_i,
  input  wire logic                  write_i,      // META_WRITE: load h_i as the new value
  input  wire logic [31:0]           h_i,          // stored hidden weight, Q.16 level units
  input  wire logic [15:0]           upd_i,        // signed update (META_UPDATE half-word)
  input  wire logic [8:0]            levels_i,
  input  wire logic [4:0]            in_shift_i,
  input  wire logic [4:0]            idx_shift_i,
  input  wire logic [5:0]            hbits_i,      // W
  input  wire logic [4:0]            frac_i,       // F
  input  wire logic                  round_i,      // 0 truncate, 1 round to nearest
  input  wire logic [3:0]            tlog2_i,      // k
  input  wire logic [4:0]            ebits_i,      // E
  input  wire logic                  rule_i,       // 0 centre, 1 interval
  input  wire logic [ENTRY_W-1:0]    f_i,          // table entry at idx_o, 2 cycles after
  output logic      [TABLE_LOG2-1:0] idx_o,
  output logic                       valid_o,
  output logic                       attenuate_o,
  output logic      [31:0]           h_new_o,
  output logic      [7:0]            level_o
);

`include "mt_protocol.vh"
  localparam int unsigned LATENCY = 21;
  localparam int unsigned HW = HIDDEN_W;
  // 2r + L * 2^F: |2r| <= 2^HW, L * 2^F <= 2^24.
  localparam int unsigned BW = HW + 2 > 27 ? HW + 2 : 27;
  localparam int unsigned TW = BW + 16;           // dist * 2^s
  localparam int unsigned PW = 34 + ENTRY_W;      // d * f, |d| <= 2^31
  localparam int unsigned SW = PW + 1;            // r + Q_n(d)

  // ---- configuration, derived and registered
  logic [4:0]          s_q;                       // 16 - F
  logic [5:0]          f1_q;                      // F + 1
  logic [5:0]          isx_q;                     // idx_shift + 1
  logic [HW-1:0]       wlow_q;                    // bit i set for i < W
  logic [HW-1:0]       rmax_q;
  logic [ENTRY_W-1:0]  lows_q;                    // 2^(ENTRY_W - E) - 1: the bits below the top E
  logic [4:0]          fsh_q;                     // ENTRY_W - E
  logic [TABLE_LOG2-1:0] kmax_q;                  // 2^k - 1
  logic [4:0]          wm1_q;                     // W - 1
  logic [4:0]          f_q;                       // F
  logic [5:0]          rmax_e;                    // min(W - 1, 30 - s)

  always_comb rmax_e = hbits_i - 6'd1 < 6'd14 + {1'b0, frac_i} ? hbits_i - 6'd1 : 6'd14 + {1'b0, frac_i};

  always_ff @(posedge clk_i) begin
    s_q <= 5'd16 - frac_i;
    f_q <= frac_i;
    f1_q <= {1'b0, frac_i} + 6'd1;
    isx_q <= {1'b0, idx_shift_i} + 6'd1;
    wm1_q <= 5'(hbits_i - 6'd1);
    for (int unsigned i = 0; i < HW; i++) wlow_q[i] <= i < 32'(hbits_i);
    // min(2^(W-1) - 1, (2^30 - 1) >> s) = 2^min(W-1, 30-s) - 1
    for (int unsigned i = 0; i < HW; i++) rmax_q[i] <= i < 32'(rmax_e);
    for (int unsigned i = 0; i < ENTRY_W; i++) lows_q[i] <= i + 32'(ebits_i) < 32'(ENTRY_W);
    fsh_q <= 5'(ENTRY_W) - ebits_i;
    for (int unsigned i = 0; i < TABLE_LOG2; i++) kmax_q[i] <= i < 32'(tlog2_i);
  end

  // ---- valid bits
  logic [LATENCY:1] v_q;
  always_ff @(posedge clk_i) begin
    if (rst_i) v_q <= '0;
    else v_q <= {v_q[LATENCY-1:1], start_i};
  end

  // ---- data carried along the stages (index = stage)
  // (* mem2reg *): small arrays of pipeline or per-lane registers, flip-flops by intent (Yosys
  // would otherwise warn that it replaces each "memory" with a list of registers).
  (* mem2reg *) logic signed [32:0]   d_q [1:13];               // the update (META_WRITE: the value)
  (* mem2reg *) logic                 wr_q [1:5];
  (* mem2reg *) logic [8:0]           lv_q [1:21];
  (* mem2reg *) logic signed [HW-1:0] r_q [2:16];
  (* mem2reg *) logic [24:0]          lf_q [2:18];              // L * 2^F
  (* mem2reg *) logic signed [BW-1:0] b_q [3:6];                // 2r + L * 2^F
  (* mem2reg *) logic [HW-1:0]        mag_q [3:6];              // |r|
  (* mem2reg *) logic                 tw0_q [3:6];              // rule 0's toward
  (* mem2reg *) logic                 tw_q [7:12];              // toward, for the rule in use

  // stage 1: the register's source and the update
  logic signed [31:0] x1_q;
  // stage 4, 5, 6: the level of h and its interval's boundaries (rule 1)
  logic signed [BW-1:0] qr4_q;
  logic [7:0]           q5_q;
  logic                 tw1_6_q;
  logic [BW-1:0]        lo6_q, hi6_q;
  // stage 7..10: the distance and the table index
  logic [BW-1:0]        dist7_q;
  logic [TW-1:0]        t8_q, t9_q;
  logic [TABLE_LOG2-1:0] idx10_q;
  // stage 13..18: attenuation, quantization, saturation
  logic [ENTRY_W-1:0]   fe;
  // The entry at E bits is all ones (f_meta = 1: no attenuation) when f_i's top E bits are:
  // tested on f_i itself, not behind the shifter (the table's read, the shifter, this compare
  // and n12's add were the AC701 device's slowest path, 6.93 ns, when the table had no output
  // register).
  logic                 f_one;
  logic [ENTRY_W:0]     m13_q;                    // f, or 1 when not attenuated
  logic [5:0]           n13_q, n14_q, n15_q;      // bits the quantization drops
  (* mem2reg *) logic                 att_q [13:21];
  logic signed [PW-1:0] p14_q, vb15_q, bias;
  logic signed [PW-1:0] half14_q, halfm14_q, fullm14_q; // 2^(n-1), 2^(n-1) - 1, 2^n - 1 (n > 0)
  logic signed [PW-1:0] dq16_q;
  logic signed [SW-1:0] sum17_q;
  logic signed [HW-1:0] rc18_q, rc19_q;
  // stage 19..21: the level of the new value
  logic signed [BW-1:0] b19_q, qr20_q;
  logic [31:0]          hq20_q, hq21_q;
  logic [7:0]           lvl21_q;

  always_comb begin
    fe = f_i >> fsh_q;
    f_one = &(f_i | lows_q);
    // Q_n by one add and an arithmetic shift: floor((v + bias) / 2^n) is trunc(v / 2^n) with
    // bias 0 (v >= 0) or 2^n - 1 (v < 0), and round-half-away with 2^(n-1) or 2^(n-1) - 1
    // (n = 0: all 0); the three constants are registered with the product.
    if (round_i) bias = p14_q[PW-1] ? halfm14_q : half14_q;
    else bias = p14_q[PW-1] ? fullm14_q : '0;
  end

  always_ff @(posedge clk_i) begin
    // stage 1
    x1_q <= write_i ? 32'sd0 : $signed(h_i) >>> (5'd16 - frac_i);
    d_q[1] <= write_i ? $signed({h_i[31], h_i}) : $signed({{17{upd_i[15]}}, upd_i}) <<< in_shift_i;
    wr_q[1] <= write_i;
    lv_q[1] <= levels_i;
    // stage 2: the low W bits, sign-extended from bit W-1; L * 2^F
    for (int unsigned i = 0; i < HW; i++) r_q[2][i] <= wlow_q[i] ? x1_q[i] : x1_q[wm1_q];
    lf_q[2] <= {16'd0, lv_q[1]} << f_q;
    // stage 3
    b_q[3] <= (BW'(r_q[2]) <<< 1) + $signed({{(BW - 25){1'b0}}, lf_q[2]});
    mag_q[3] <= r_q[2][HW-1] ? HW'(-r_q[2]) : HW'(r_q[2]);
    tw0_q[3] <= !wr_q[2] && ((r_q[2] != 0 && !r_q[2][HW-1] && d_q[2][32]) || (r_q[2][HW-1] && d_q[2] != 0 && !d_q[2][32]));
    // stage 4, 5: the current level q and whether a boundary lies in d's direction
    qr4_q <= b_q[3] >>> f1_q;
    if (qr4_q[BW-1]) q5_q <= 8'd0;
    else if (qr4_q > $signed(BW'(lv_q[4])) - 1) q5_q <= 8'(lv_q[4] - 9'd1);
    else q5_q <= qr4_q[7:0];
    // stage 6: the boundaries below and above level q (in 2r + L * 2^F units)
    tw1_6_q <= !wr_q[5] && d_q[5] != 0 && (d_q[5][32] ? q5_q != 8'd0 : {1'b0, q5_q} != lv_q[5] - 9'd1);
    lo6_q <= BW'(q5_q) << f1_q;
    hi6_q <= (BW'(q5_q) + BW'(1)) << f1_q;
    // stage 7: the distance (in 2^-(F+1) level)
    if (rule_i) dist7_q <= d_q[6][32] ? BW'(b_q[6]) - lo6_q : hi6_q - BW'(b_q[6]);
    else dist7_q <= BW'({mag_q[6], 1'b0});
    tw_q[7] <= rule_i ? tw1_6_q : tw0_q[6];
    // stage 8, 9, 10: Q.16 distance >> idx_shift, then the last entry of the table in use
    t8_q <= TW'(dist7_q) << s_q;
    t9_q <= t8_q >> isx_q;
    idx10_q <= t9_q > TW'(kmax_q) ? kmax_q : t9_q[TABLE_LOG2-1:0];
    // stage 13: the entry (f_i, two cycles after idx_o) at E bits
    att_q[13] <= tw_q[12] && !f_one;
    m13_q <= tw_q[12] && !f_one ? {1'b0, fe} : (ENTRY_W + 1)'(1);
    n13_q <= {1'b0, s_q} + (tw_q[12] && !f_one ? {1'b0, 5'(ebits_i)} : 6'd0);
    // stage 14: the registered multiply
    p14_q <= PW'(d_q[13]) * $signed({{(PW - ENTRY_W - 1){1'b0}}, m13_q});
    n14_q <= n13_q;
    half14_q <= n13_q == 6'd0 ? '0 : PW'(1) <<< (n13_q - 6'd1);
    halfm14_q <= n13_q == 6'd0 ? '0 : (PW'(1) <<< (n13_q - 6'd1)) - PW'(1);
    fullm14_q <= (PW'(1) <<< n13_q) - PW'(1);
    // stage 15, 16: quantization; 17: add; 18: saturate
    vb15_q <= p14_q + bias;
    n15_q <= n14_q;
    dq16_q <= vb15_q >>> n15_q;
    sum17_q <= SW'(r_q[16]) + SW'(dq16_q);
    if (sum17_q > $signed(SW'(rmax_q))) rc18_q <= $signed(rmax_q);
    else if (sum17_q < -$signed(SW'(rmax_q))) rc18_q <= -$signed(rmax_q);
    else rc18_q <= HW'(sum17_q);
    // stage 19, 20, 21: the new value in Q.16 and its level
    b19_q <= (BW'(rc18_q) <<< 1) + $signed({{(BW - 25){1'b0}}, lf_q[18]});
    rc19_q <= rc18_q;
    qr20_q <= b19_q >>> f1_q;
    hq20_q <= 32'(rc19_q) <<< s_q;
    hq21_q <= hq20_q;
    if (qr20_q[BW-1]) lvl21_q <= 8'd0;
    else if (qr20_q > $signed(BW'(lv_q[20])) - 1) lvl21_q <= 8'(lv_q[20] - 9'd1);
    else lvl21_q <= qr20_q[7:0];
    // carried values
    for (int unsigned k = 2; k <= 13; k++) d_q[k] <= d_q[k-1];
    for (int unsigned k = 2; k <= 5; k++) wr_q[k] <= wr_q[k-1];
    for (int unsigned k = 2; k <= 21; k++) lv_q[k] <= lv_q[k-1];
    for (int unsigned k = 3; k <= 16; k++) r_q[k] <= r_q[k-1];
    for (int unsigned k = 3; k <= 18; k++) lf_q[k] <= lf_q[k-1];
    for (int unsigned k = 4; k <= 6; k++) begin
      b_q[k] <= b_q[k-1];
      mag_q[k] <= mag_q[k-1];
      tw0_q[k] <= tw0_q[k-1];
    end
    for (int unsigned k = 8; k <= 12; k++) tw_q[k] <= tw_q[k-1];
    for (int unsigned k = 14; k <= 21; k++) att_q[k] <= att_q[k-1];
  end

  assign idx_o = idx10_q;
  assign valid_o = v_q[LATENCY];
  assign attenuate_o = att_q[21];
  assign h_new_o = hq21_q;
  assign level_o = lvl21_q;

endmodule
`default_nettype wire
