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
//      ROM address {sign, lz, s = m[29:27]}, fraction f = m[26:11]
//   3  knot ROM read (generated/mt_gauss_knots.vh): from k0 = K[9*lz + s] and
//      dk = K[9*lz + s + 1] - k0, (k, d) = (k0 + 8, dk) for sign 0 and (7 - k0, -dk) for
//      sign 1; word {sign, 31, 0} is built from (K_ZERO, 0) so v == 0 needs no special
//      case: f = 0 there
//   4  signed product d * f (one DSP)
//   5  the 36-bit sum k * 2^16 + sign * (2^16 - 1) + d * f, whose bits [35:20] are
//      z = sign ? -z12 : z12 with z12 = (k0 + floor(dk * f / 2^16) + 8) >> 4: for sign 1
//      the sum is 2^20 - 1 minus the sign-0 sum, and floor((2^20 - 1 - x) / 2^20) =
//      -floor(x / 2^20). The rounding constant and the negation live in the ROM and the
//      sum is at full width, so that it is the DSP's post-adder (C + A*B) and no carry
//      chain in LUTs
//   6  z registered (the stage keeps the latency of the negation it held)
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
  localparam int unsigned SUM_W = MAG_W + MT_GAUSS_FRAC_BITS;

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
  logic [MT_GAUSS_K_W-1:0] k4_q;   // signed
  logic signed [PROD_W-1:0] prod4_q, prod4_d;
  logic signed [MT_GAUSS_D_W-1:0] d3;
  logic signed [PROD_W-1:0] d3_ext;
  logic signed [PROD_W-1:0] f3_ext;
  // Stage 5
  logic [OUT_W-1:0] z5_q;
  logic [SUM_W-1:0] sum4;
  // Stage 6
  logic [OUT_W-1:0] z6_q;

  // Bits dropped on purpose: m[30] (the normalised leading one) and m[10:0] (below the
  // fraction), the low 20 bits of the sum (floor shift and the Q4.16 -> Q3.12 rounding).
  // The name matches Verilator's --unused-regexp default.
  logic unused_dropped;
  assign unused_dropped = ^{m2_d[30], m2_d[30-SF_W-1:0], sum4[SUM_W-OUT_W-1:0]};

  // ---- Stage 1: shifter stages 16, 8, as one 4:1 mux per bit on lz[4:3] (one LUT6 each).
  // Written as two chained conditional shifts, Yosys built two 2:1 levels and a reset-based
  // zero fill: 46 LUTs more.
  always_comb begin
    lz1_d[1] = u_i[30:15] == 16'd0;
    lz1_d[0] = lz1_d[1] ? (u_i[14:7] == 8'd0) : (u_i[30:23] == 8'd0);
    case (lz1_d)
      2'd0:    m1_d = u_i[30:0];
      2'd1:    m1_d = {u_i[22:0], 8'd0};
      2'd2:    m1_d = {u_i[14:0], 16'd0};
      default: m1_d = {u_i[6:0], 24'd0};
    endcase
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
    addr2_d = {sign1_q, lz1_q, lz2_d, sf2_d[SF_W-1 -: MT_GAUSS_SEG_BITS]};
  end

  // ---- Stage 4: signed product of d (ROM) and the unsigned fraction f.
  always_comb begin
    d3      = rom3_q[MT_GAUSS_D_W-1:0];
    d3_ext  = {{(PROD_W-MT_GAUSS_D_W){d3[MT_GAUSS_D_W-1]}}, d3};
    f3_ext  = {{(PROD_W-MT_GAUSS_FRAC_BITS){1'b0}}, f3_q};
    prod4_d = d3_ext * f3_ext;
  end

  // ---- Stage 5: for sign 0 the sum is (M + 8) * 2^16 plus the fraction of dk * f, with
  // 0 <= M + 8 < 2^MAG_W, so its bits [35:20] are z12; for sign 1 it is 2^20 - 1 minus that
  // (modulo 2^36), whose bits [35:20] are -z12 modulo 2^16.
  always_comb begin
    sum4 = {{(MAG_W-MT_GAUSS_K_W){k4_q[MT_GAUSS_K_W-1]}}, k4_q, {MT_GAUSS_FRAC_BITS{sign4_q}}}
         + {{(SUM_W-PROD_W){prod4_q[PROD_W-1]}}, prod4_q};
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
      k4_q    <= rom3_q[MT_GAUSS_ROM_W-1 -: MT_GAUSS_K_W];
      prod4_q <= prod4_d;
    end
    if (valid_q[3]) begin
      z5_q <= sum4[SUM_W-1 -: OUT_W];
    end
    if (valid_q[4]) begin
      z6_q <= z5_q;
    end
  end

  assign valid_o = valid_q[LATENCY-1];
  assign z_o     = z6_q;

endmodule
`default_nettype wire
