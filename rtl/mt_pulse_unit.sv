`default_nettype none
// One SET or RESET pulse on one device: bit-exact with mt_cell_pulse in hls/mt_device.c
// (docs/device-model.md, "Pulse response"). The caller has already taken the pulse's
// Gaussian z (the first thing mt_cell_pulse does) and counts the pulse itself.
//
//   dg  = set ? step_set + floor(a_set * (gmax - g) / 2^16)
//             : step_rst + floor(a_rst * (g - gmin) / 2^16)
//   amp = floor(dg * c2c_mul / 2^16) + c2c_add
//   g'  = clamp(g +- (dg + floor((amp * z + 2^11) / 2^12)), gmin, gmax)   (fault NONE only)
//   pulses' = pulses + 1 unless 0xFFFFFFFF; a healthy device whose count reaches a non-zero
//   endurance becomes WORN (after this pulse's response: the wear-out pulse still moves g).
//
// The three multiplies are chained, so each gets its own stage: fully pipelined, one pulse
// per cycle, LATENCY = 3 (inputs with valid_i sampled at edge k, g_o/dev_o/valid_o valid after
// edge k+2). Widths are for any 16-bit inputs, also g outside [gmin, gmax], which a valid
// state never holds. Only the valid bits are reset.
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
  output logic              valid_o,
  output logic      [15:0]  g_o,
  output logic      [135:0] dev_o
);

  localparam int unsigned LATENCY = 3;
  // MT_FAULT_NONE and MT_FAULT_WORN of docs/protocol.json (mt_protocol.vh is left to the
  // engines so that a unit compiles alone).
  localparam logic [7:0] FAULT_NONE = 8'd0;
  localparam logic [7:0] FAULT_WORN = 8'd3;

  logic [LATENCY-1:0] valid_q;

  // ---- stage 1: choose the branch, a * (bound distance); wear bookkeeping
  logic               set1_q;
  logic [15:0]        g1_q, gmin1_q, gmax1_q, step1_q;
  logic [15:0]        z1_q, mul1_q, add1_q;
  logic [135:0]       dev1_q;
  logic signed [33:0] p1_q, p1_d;          // a * dist, |.| < 2^32
  logic signed [16:0] dist_d;
  logic [31:0]        pulses_d;
  logic [7:0]         fault_d;
  logic               healthy1_q;

  // ---- stage 2: dg, dg * c2c_mul
  logic               set2_q, healthy2_q;
  logic [15:0]        g2_q, gmin2_q, gmax2_q, z2_q, add2_q;
  logic [135:0]       dev2_q;
  logic signed [18:0] dg2_q, dg2_d;        // in [-65535, 131069]
  logic signed [35:0] p2_q, p2_d;

  // ---- stage 3: noise, new g, clamp
  logic [15:0]        g3_q, g3_d;
  logic [135:0]       dev3_q;
  logic signed [20:0] amp3;                // in [-2^18, 2^18 + 2^16]
  logic signed [36:0] p3;
  logic signed [37:0] r3;
  logic signed [25:0] noise3;
  logic signed [27:0] v3;

  always_comb begin
    // Stage 1 inputs.
    dist_d = set_i ? $signed({1'b0, dev_i[31:16]}) - $signed({1'b0, g_i})
                   : $signed({1'b0, g_i}) - $signed({1'b0, dev_i[15:0]});
    p1_d = $signed({{17{dist_d[16]}}, dist_d})
         * $signed({18'd0, set_i ? dev_i[79:64] : dev_i[95:80]});
    pulses_d = dev_i[135:104] == 32'hFFFF_FFFF ? dev_i[135:104] : dev_i[135:104] + 32'd1;
    fault_d = dev_i[103:96];
    if (endurance_i != 32'd0 && pulses_d >= endurance_i && dev_i[103:96] == FAULT_NONE)
      fault_d = FAULT_WORN;
    // Stage 2: >>> on the signed product is floor, as C's >> on int64_t (gcc).
    dg2_d = $signed({3'd0, step1_q}) + $signed({p1_q[33], p1_q[33:16]});
    p2_d = $signed({{17{dg2_d[18]}}, dg2_d}) * $signed({20'd0, mul1_q});
    // Stage 3: mt_gnoise(amp, z) = floor((amp * z + 2048) / 4096).
    amp3 = $signed({p2_q[35], p2_q[35:16]}) + $signed({5'd0, add2_q});
    p3 = $signed({{16{amp3[20]}}, amp3}) * $signed({{21{z2_q[15]}}, z2_q});
    r3 = $signed({p3[36], p3}) + 38'sd2048;
    noise3 = r3[37:12];
    v3 = set2_q ? $signed({12'd0, g2_q}) + ($signed({{9{dg2_q[18]}}, dg2_q}) + $signed({{2{noise3[25]}}, noise3}))
                : $signed({12'd0, g2_q}) - ($signed({{9{dg2_q[18]}}, dg2_q}) + $signed({{2{noise3[25]}}, noise3}));
    // clamp16: the lower bound is tested first, as in C.
    if (!healthy2_q) g3_d = g2_q;
    else if (v3 < $signed({12'd0, gmin2_q})) g3_d = gmin2_q;
    else if (v3 > $signed({12'd0, gmax2_q})) g3_d = gmax2_q;
    else g3_d = v3[15:0];
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) valid_q <= '0;
    else valid_q <= {valid_q[LATENCY-2:0], valid_i};
  end

  always_ff @(posedge clk_i) begin
    if (valid_i) begin
      set1_q     <= set_i;
      g1_q       <= g_i;
      gmin1_q    <= dev_i[15:0];
      gmax1_q    <= dev_i[31:16];
      step1_q    <= set_i ? dev_i[47:32] : dev_i[63:48];
      z1_q       <= z_i;
      mul1_q     <= c2c_mul_i;
      add1_q     <= c2c_add_i;
      p1_q       <= p1_d;
      healthy1_q <= dev_i[103:96] == FAULT_NONE;
      dev1_q     <= {pulses_d, fault_d, dev_i[95:0]};
    end
    if (valid_q[0]) begin
      set2_q     <= set1_q;
      healthy2_q <= healthy1_q;
      g2_q       <= g1_q;
      gmin2_q    <= gmin1_q;
      gmax2_q    <= gmax1_q;
      z2_q       <= z1_q;
      add2_q     <= add1_q;
      dev2_q     <= dev1_q;
      dg2_q      <= dg2_d;
      p2_q       <= p2_d;
    end
    if (valid_q[1]) begin
      g3_q   <= g3_d;
      dev3_q <= dev2_q;
    end
  end

  assign valid_o = valid_q[LATENCY-1];
  assign g_o     = g3_q;
  assign dev_o   = dev3_q;

  // Floor shifts drop the low product bits; p1 and p2 cannot reach their top bits' range.
  logic unused_dropped;
  assign unused_dropped = ^{p1_q[15:0], p2_q[15:0], r3[11:0], v3[27:16]};

endmodule
`default_nettype wire
