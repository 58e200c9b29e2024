`default_nettype none
// Gaussian sample from one 32-bit uniform: inverse CDF by knot table with linear
// interpolation (docs/protocol.md, "Gaussian sample: inverse CDF by table"); bit-exact with
// mt_gauss_from_u32 in hls/mt_rng.c. z_o is signed Q3.12.
//
// Fully pipelined, one sample per cycle, no stalls: u_i with valid_i sampled at edge k gives
// z_o with valid_o after edge k+LATENCY-1 (a consumer samples it at edge k+LATENCY),
// LATENCY = 6 register stages:
//   1  sign; leading-zero shifter stages 16 and 8 of the 31-bit magnitude v = u[30:0]
//   2  shifter stages 4, 2, 1 (m = v << lz, lz = 0..30; v == 0 gives lz = 31, m = 0);
//      ROM address {lz, s = m[29:27]}, fraction f = m[26:11]
//   3  knot ROM read: k0 = K[9*lz + s], d = K[9*lz + s + 1] - k0 (generated/mt_gauss_knots.vh;
//      word {31, 0} holds (K_ZERO, 0) so v == 0 needs no special case: f = 0 there)
//   4  signed product d * f (one DSP)
//   5  r = k0 + floor(d * f / 2^16) + 8 (>>> on the signed product is floor), z12 = r >> 4
//   6  z = sign ? -z12 : z12
// Only the valid pipeline is reset; the datapath registers are enabled by their stage's
// valid bit and keep their value otherwise (z_o holds the last sample).
module mt_gauss_icdf (
  input  wire logic        clk_i,
  input  wire logic        rst_i,
  input  wire logic        valid_i,
  input  wire logic [31:0] u_i,
  output logic             valid_o,
  output logic      [15:0] z_o
);

  `include "mt_gauss_knots.vh"

  localparam int unsigned LATENCY = 6;
  localparam int unsigned OUT_W = 16;
  localparam int unsigned MAG_W = OUT_W + MT_GAUSS_DROP_BITS;  // rounded Q4.16 magnitude
  localparam int unsigned PROD_W = MT_GAUSS_D_W + MT_GAUSS_FRAC_BITS;  // d * f, signed
  localparam int unsigned SF_W = MT_GAUSS_SEG_BITS + MT_GAUSS_FRAC_BITS;  // m[29 -: SF_W]
  localparam logic [MAG_W-1:0] HALF = MAG_W'(1) << (MT_GAUSS_DROP_BITS - 1);

  logic [LATENCY-1:0] valid_q;

  // Stage 1
  logic        sign1_q;
  logic [30:0] m1_q, m1_d;
  logic [1:0]  lz1_q, lz1_d;  // lz[4:3]
  // Stage 2
  logic        sign2_q;
  logic [MT_GAUSS_ROM_AW-1:0] addr2_q, addr2_d;
  logic [MT_GAUSS_FRAC_BITS-1:0] f2_q;
  logic [30:0] m2_d;
  logic [2:0]  lz2_d;         // lz[2:0]
  logic [SF_W-1:0] sf2_d;
  // Stage 3
  logic        sign3_q;
  logic [MT_GAUSS_ROM_W-1:0] rom3_q;
  logic [MT_GAUSS_FRAC_BITS-1:0] f3_q;
  // Stage 4
  logic        sign4_q;
  logic [MT_GAUSS_K0_W-1:0] k0_4_q;
  logic signed [PROD_W-1:0] prod4_q, prod4_d;
  logic signed [MT_GAUSS_D_W-1:0] d3;
  logic signed [PROD_W-1:0] d3_ext;
  logic signed [PROD_W-1:0] f3_ext;
  // Stage 5
  logic        sign5_q;
  logic [OUT_W-1:0] z12_5_q;
  logic signed [MT_GAUSS_D_W-1:0] interp4;  // floor(d * f / 2^16), in [d, 0]
  logic [MAG_W-1:0] r4;
  // Stage 6
  logic [OUT_W-1:0] z6_q;

  // Bits dropped on purpose: m[30] (the normalised leading one) and m[10:0] (below the
  // fraction), the low 16 bits of the product (floor shift) and the low 4 bits of r (the
  // Q4.16 -> Q3.12 rounding). The name matches Verilator's --unused-regexp default.
  logic unused_dropped;
  assign unused_dropped = ^{m2_d[30], m2_d[30-SF_W-1:0], prod4_q[MT_GAUSS_FRAC_BITS-1:0],
                            r4[MT_GAUSS_DROP_BITS-1:0]};

  // ---- Stage 1: shifter stages 16, 8.
  always_comb begin
    m1_d  = u_i[30:0];
    lz1_d = 2'b00;
    if (m1_d[30:15] == 16'd0) begin
      m1_d     = {m1_d[14:0], 16'd0};
      lz1_d[1] = 1'b1;
    end
    if (m1_d[30:23] == 8'd0) begin
      m1_d     = {m1_d[22:0], 8'd0};
      lz1_d[0] = 1'b1;
    end
  end

  // ---- Stage 2: shifter stages 4, 2, 1; segment and fraction fields.
  always_comb begin
    m2_d  = m1_q;
    lz2_d = 3'b000;
    if (m2_d[30:27] == 4'd0) begin
      m2_d     = {m2_d[26:0], 4'd0};
      lz2_d[2] = 1'b1;
    end
    if (m2_d[30:29] == 2'd0) begin
      m2_d     = {m2_d[28:0], 2'd0};
      lz2_d[1] = 1'b1;
    end
    if (!m2_d[30]) begin
      m2_d     = {m2_d[29:0], 1'b0};
      lz2_d[0] = 1'b1;
    end
    sf2_d   = m2_d[29 -: SF_W];
    addr2_d = {lz1_q, lz2_d, sf2_d[SF_W-1 -: MT_GAUSS_SEG_BITS]};
  end

  // ---- Stage 4: signed product of d (ROM) and the unsigned fraction f.
  always_comb begin
    d3      = rom3_q[MT_GAUSS_D_W-1:0];
    d3_ext  = {{(PROD_W-MT_GAUSS_D_W){d3[MT_GAUSS_D_W-1]}}, d3};
    f3_ext  = {{(PROD_W-MT_GAUSS_FRAC_BITS){1'b0}}, f3_q};
    prod4_d = d3_ext * f3_ext;
  end

  // ---- Stage 5: M + 8 = k0 + floor(d * f / 2^16) + 8, then >> 4. |d * f| < |d| * 2^16, so
  // the floor quotient fits the width of d; M >= 0 and M + 8 < 2^MAG_W.
  always_comb begin
    interp4 = prod4_q[PROD_W-1 -: MT_GAUSS_D_W];  // prod >>> FRAC_BITS
    r4 = {{(MAG_W-MT_GAUSS_K0_W){1'b0}}, k0_4_q}
       + {{(MAG_W-MT_GAUSS_D_W){interp4[MT_GAUSS_D_W-1]}}, interp4}
       + HALF;
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      valid_q <= '0;
    end else begin
      valid_q <= {valid_q[LATENCY-2:0], valid_i};
    end
  end

  always_ff @(posedge clk_i) begin
    if (valid_i) begin
      sign1_q <= u_i[31];
      m1_q    <= m1_d;
      lz1_q   <= lz1_d;
    end
    if (valid_q[0]) begin
      sign2_q <= sign1_q;
      addr2_q <= addr2_d;
      f2_q    <= sf2_d[MT_GAUSS_FRAC_BITS-1:0];
    end
    if (valid_q[1]) begin
      sign3_q <= sign2_q;
      rom3_q  <= mt_gauss_rom(addr2_q);
      f3_q    <= f2_q;
    end
    if (valid_q[2]) begin
      sign4_q <= sign3_q;
      k0_4_q  <= rom3_q[MT_GAUSS_ROM_W-1 -: MT_GAUSS_K0_W];
      prod4_q <= prod4_d;
    end
    if (valid_q[3]) begin
      sign5_q <= sign4_q;
      z12_5_q <= r4[MAG_W-1 -: OUT_W];
    end
    if (valid_q[4]) begin
      z6_q <= sign5_q ? (OUT_W'(0) - z12_5_q) : z12_5_q;
    end
  end

  assign valid_o = valid_q[LATENCY-1];
  assign z_o     = z6_q;

endmodule
`default_nettype wire
