`default_nettype none
// One SET or RESET pulse on one device: bit-exact with mt_cell_pulse in hls/mt_device.c
// (docs/device-model.md, "Pulse response"). The caller has already taken the pulse's
// Gaussian z (the first thing mt_cell_pulse does) and counts the pulse itself.
//
//   s   = resp_class ? floor(step * f(g) / 2^16) : step      (step, a, f of the branch)
//   f(g) = k[g>>12] + floor((k[(g>>12)+1] - k[g>>12]) * (g & 4095) / 2^12)  (knots resp_up/dn)
//   dg  = set ? s + floor(a_set * (gmax - g) / 2^16)
//             : s + floor(a_rst * (g - gmin) / 2^16)
//   amp = floor(dg * c2c_mul / 2^16) + c2c_add
//   g'  = clamp(g +- (dg + floor((amp * z + 2^11) / 2^12)), gmin, gmax)   (fault NONE only)
//   pulses' = pulses + 1 unless 0xFFFFFFFF; a healthy device whose count reaches a non-zero
//   endurance becomes WORN (after this pulse's response: the wear-out pulse still moves g).
//
// Every multiply has its own stage with registered operands and a registered product (the
// A/B and M registers of a DSP block), and the adds and the clamp around them get stages of
// their own: fully pipelined, one pulse per cycle, LATENCY = 10 (inputs with valid_i sampled
// at edge k, g_o/dev_o/valid_o valid after edge k+9). Widths are for any 16-bit inputs, also g
// outside [gmin, gmax], which a valid state never holds. Only the valid bits are reset.
//
// dev_i/dev_o: the 136-bit device record of docs/rtl.md, "Tile memories":
// {pulses[31:0], fault[7:0], a_rst, a_set, step_rst, step_set, gmax, gmin}.
module mt_pulse_unit (
  input  wire logic         clk_i,
  input  wire logic         rst_i,
  input  wire logic         valid_i,
  input  wire logic         set_i,       // 1 = SET (g rises), 0 = RESET
  input  wire logic [15:0]  g_i,
  input  wire logic [135:0] dev_i,
  input  wire logic [15:0]  z_i,         // Q3.12 Gaussian, signed
  input  wire logic [15:0]  c2c_mul_i,   // configuration (bounded by CONFIGURE to 16 bits)
  input  wire logic [15:0]  c2c_add_i,
  input  wire logic [31:0]  endurance_i,
  input  wire logic         resp_class_i, // 1 = piecewise response (resp_up_i / resp_dn_i)
  input  wire logic [271:0] resp_up_i,    // knot k (Q0.16) at [16k +: 16], k = 0..16
  input  wire logic [271:0] resp_dn_i,
  output logic              valid_o,
  output logic      [15:0]  g_o,
  output logic      [135:0] dev_o
);

  localparam int unsigned LATENCY = 10;
  // MT_FAULT_NONE and MT_FAULT_WORN of docs/protocol.json (mt_protocol.vh is left to the
  // engines so that a unit compiles alone).
  localparam logic [7:0] FAULT_NONE = 8'd0;
  localparam logic [7:0] FAULT_WORN = 8'd3;

  logic [LATENCY-1:0] valid_q;

  // Carried along every stage: the branch, g, the bounds, the noise sample, the configuration
  // and the updated record (stage k holds the pulse that entered k edges ago).
  // (* mem2reg *): small arrays of pipeline or per-lane registers, flip-flops by intent (Yosys
  // would otherwise warn that it replaces each "memory" with a list of registers).
  (* mem2reg *) logic               set_q     [LATENCY];
  (* mem2reg *) logic               healthy_q [LATENCY];
  (* mem2reg *) logic [15:0]        g_q       [LATENCY];
  (* mem2reg *) logic [15:0]        gmin_q    [LATENCY];
  (* mem2reg *) logic [15:0]        gmax_q    [LATENCY];
  (* mem2reg *) logic [15:0]        z_q       [LATENCY];
  (* mem2reg *) logic [15:0]        mul_q     [LATENCY];
  (* mem2reg *) logic [15:0]        add_q     [LATENCY];
  (* mem2reg *) logic               cls_q     [LATENCY];
  (* mem2reg *) logic [135:0]       dev_q     [LATENCY];

  // stage 1: bound distance, the a and step of the branch, the two knots around g and the
  // position between them; wear bookkeeping
  logic signed [16:0] dist1_q, dist_d;
  logic        [15:0] a1_q, step1_q, k01_q;
  logic signed [16:0] kd1_q;
  logic        [11:0] frac1_q;
  logic        [31:0] pulses_d;
  logic        [7:0]  fault_d;
  logic      [271:0]  knots_d;
  logic        [15:0] k0_d, k1_d;
  // stage 2: a * dist, |.| < 2^32; (k1 - k0) * frac, |.| < 2^28
  logic signed [33:0] p2_q;
  logic signed [28:0] pf2_q;
  logic        [15:0] step2_q, k02_q;
  // stage 3: the interpolated factor f in [0, 65535]; floor(a * dist / 2^16)
  logic signed [17:0] f3_d;
  logic        [15:0] f3_q, step3_q;
  logic signed [17:0] pa3_q, pa4_q;
  // stage 4: step * f
  logic        [31:0] ps4_q;
  logic        [15:0] step4_q;
  // stage 5: dg in [-65535, 131069]; stage 6: dg * c2c_mul; stage 7: amp
  logic signed [18:0] dg5_q, dg6_q, dg7_q, dg8_q;
  logic signed [35:0] p6_q;
  logic signed [20:0] amp7_q;              // in [-2^18, 2^18 + 2^16]
  // stage 8: amp * z; stage 9: the rounded noise and g +- dg; stage 10: new g, clamped
  logic signed [36:0] p8_q;
  logic signed [25:0] noise9_q;
  logic signed [20:0] gd9_q;
  logic [15:0]        g10_q, g10_d;
  logic signed [37:0] r9;
  logic signed [27:0] v10;

  always_comb begin
    dist_d = set_i ? $signed({1'b0, dev_i[31:16]}) - $signed({1'b0, g_i})
                   : $signed({1'b0, g_i}) - $signed({1'b0, dev_i[15:0]});
    pulses_d = dev_i[135:104] == 32'hFFFF_FFFF ? dev_i[135:104] : dev_i[135:104] + 32'd1;
    knots_d = set_i ? resp_up_i : resp_dn_i;
    k0_d = knots_d[{1'b0, g_i[15:12], 4'd0} +: 16];
    k1_d = knots_d[{1'b0, g_i[15:12], 4'd0} + 9'd16 +: 16];
    f3_d = $signed({2'd0, k02_q}) + $signed(pf2_q[28:12]);
    fault_d = dev_i[103:96];
    if (endurance_i != 32'd0 && pulses_d >= endurance_i && dev_i[103:96] == FAULT_NONE)
      fault_d = FAULT_WORN;
    // mt_gnoise(amp, z) = floor((amp * z + 2048) / 4096).
    r9 = $signed({p8_q[36], p8_q}) + 38'sd2048;
    v10 = set_q[8] ? $signed({{7{gd9_q[20]}}, gd9_q}) + $signed({{2{noise9_q[25]}}, noise9_q})
                   : $signed({{7{gd9_q[20]}}, gd9_q}) - $signed({{2{noise9_q[25]}}, noise9_q});
    // clamp16: the lower bound is tested first, as in C.
    if (!healthy_q[8]) g10_d = g_q[8];
    else if (v10 < $signed({12'd0, gmin_q[8]})) g10_d = gmin_q[8];
    else if (v10 > $signed({12'd0, gmax_q[8]})) g10_d = gmax_q[8];
    else g10_d = v10[15:0];
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) valid_q <= '0;
    else valid_q <= {valid_q[LATENCY-2:0], valid_i};
  end

  always_ff @(posedge clk_i) begin
    if (valid_i) begin
      set_q[0]     <= set_i;
      healthy_q[0] <= dev_i[103:96] == FAULT_NONE;
      g_q[0]       <= g_i;
      gmin_q[0]    <= dev_i[15:0];
      gmax_q[0]    <= dev_i[31:16];
      z_q[0]       <= z_i;
      mul_q[0]     <= c2c_mul_i;
      add_q[0]     <= c2c_add_i;
      cls_q[0]     <= resp_class_i;
      dev_q[0]     <= {pulses_d, fault_d, dev_i[95:0]};
      dist1_q      <= dist_d;
      a1_q         <= set_i ? dev_i[79:64] : dev_i[95:80];
      step1_q      <= set_i ? dev_i[47:32] : dev_i[63:48];
      k01_q        <= k0_d;
      kd1_q        <= $signed({1'b0, k1_d}) - $signed({1'b0, k0_d});
      frac1_q      <= g_i[11:0];
    end
    for (int unsigned k = 1; k < LATENCY; k++) begin
      if (valid_q[k-1]) begin
        set_q[k]     <= set_q[k-1];
        healthy_q[k] <= healthy_q[k-1];
        g_q[k]       <= g_q[k-1];
        gmin_q[k]    <= gmin_q[k-1];
        gmax_q[k]    <= gmax_q[k-1];
        z_q[k]       <= z_q[k-1];
        mul_q[k]     <= mul_q[k-1];
        add_q[k]     <= add_q[k-1];
        cls_q[k]     <= cls_q[k-1];
        dev_q[k]     <= dev_q[k-1];
      end
    end
    if (valid_q[0]) begin
      p2_q    <= $signed({{17{dist1_q[16]}}, dist1_q}) * $signed({18'd0, a1_q});
      pf2_q   <= $signed({{12{kd1_q[16]}}, kd1_q}) * $signed({17'd0, frac1_q});
      step2_q <= step1_q;
      k02_q   <= k01_q;
    end
    // >>> on the signed products is floor, as C's >> on int64_t (gcc) and mt_floor_shift.
    if (valid_q[1]) begin
      f3_q    <= f3_d[15:0];
      pa3_q   <= p2_q[33:16];
      step3_q <= step2_q;
    end
    if (valid_q[2]) begin
      ps4_q   <= {16'd0, step3_q} * {16'd0, f3_q};
      pa4_q   <= pa3_q;
      step4_q <= step3_q;
    end
    if (valid_q[3])
      dg5_q <= $signed({3'd0, cls_q[3] ? ps4_q[31:16] : step4_q}) + $signed({pa4_q[17], pa4_q});
    if (valid_q[4]) begin
      p6_q  <= $signed({{17{dg5_q[18]}}, dg5_q}) * $signed({20'd0, mul_q[4]});
      dg6_q <= dg5_q;
    end
    if (valid_q[5]) begin
      amp7_q <= $signed({p6_q[35], p6_q[35:16]}) + $signed({5'd0, add_q[5]});
      dg7_q  <= dg6_q;
    end
    if (valid_q[6]) begin
      p8_q  <= $signed({{16{amp7_q[20]}}, amp7_q}) * $signed({{21{z_q[6][15]}}, z_q[6]});
      dg8_q <= dg7_q;
    end
    if (valid_q[7]) begin
      noise9_q <= r9[37:12];
      gd9_q    <= set_q[7] ? $signed({5'd0, g_q[7]}) + $signed({{2{dg8_q[18]}}, dg8_q})
                           : $signed({5'd0, g_q[7]}) - $signed({{2{dg8_q[18]}}, dg8_q});
    end
    if (valid_q[8]) g10_q <= g10_d;
  end

  assign valid_o = valid_q[LATENCY-1];
  assign g_o     = g10_q;
  assign dev_o   = dev_q[LATENCY-1];

  // Floor shifts drop the low product bits; p2 and p6 cannot reach their top bits' range, f
  // stays in [0, 65535] (between its two knots).
  // The carried fields past their last use are left to synthesis to trim.
  logic unused_dropped;
  assign unused_dropped = ^{p2_q[15:0], pf2_q[11:0], f3_d[17:16], ps4_q[15:0], p6_q[15:0],
                            r9[11:0], v10[27:16]};

endmodule
`default_nettype wire
