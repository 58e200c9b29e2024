`default_nettype none
// splitmix64 generator of the lane seeding (docs/protocol.md, "Seeding: splitmix64"); the
// reference is mt_splitmix64_next in hls/mt_rng.h.
//
// Sequential: seeding is rare (SEED, FABRICATE, power-on), so both mixing multiplies share
// one 16x16-bit multiplier (one DSP48 / one MULT18X18D) instead of two 64x64-bit arrays in
// one stage each (20 DSPs, and the device's worst timing path on Artix-7).
//
// Handshake. load_i sets the counter x to seed_i (rst_i: to 0) and drops the computation in
// flight (no valid_o for it). A request is next_i with ready_o, without load_i or rst_i: it
// advances x by the golden gamma and starts mixing the new x. valid_o is high for one cycle
// when the result is on z_o; z_o then holds until the next result. Results come in request
// order; nothing waits for the consumer.
//
// Timing (K = 23 cycles per output, docs/rtl.md): a request taken at the edge ending cycle c
// shows valid_o/z_o in cycle c+27. ready_o is high when idle and in the last issue cycle of
// a computation, so requests back to back are taken every K cycles: the next one starts
// issuing while the previous one's last products drain.
//
// How. A 64x64-bit multiply modulo 2^64 is the sum of the 16x16-bit partial products
// a[i] * c[j] << 16(i+j) with i + j <= 3 (a[i], c[j]: 16-bit chunks), 10 of them; the others
// only reach bits >= 64. One product is issued per cycle (pp_q) into a 4-stage pipeline:
// operands registered (a_q, b_q) and product registered (m_q), as DSP blocks want; the
// product shifted into place (sp_q); the 64-bit accumulator acc_q += sp_q (the first
// product of a multiply overwrites it). The accumulate of the last product of multiply 1
// also registers the next operand op_q = p1 ^ p1 >> 27, so multiply 2 waits 3 cycles for it
// (S_GAP); that of multiply 2 registers z_q = p2 ^ p2 >> 31. K = 10 + 3 + 10. Every add is
// at most 64 bits wide and starts at registers.
module mt_splitmix64 (
  input  wire logic        clk_i,
  input  wire logic        rst_i,
  input  wire logic        load_i,
  input  wire logic [63:0] seed_i,
  input  wire logic        next_i,
  output logic             ready_o,
  output logic             valid_o,
  output logic      [63:0] z_o
);

  localparam logic [63:0] GAMMA = 64'h9E3779B97F4A7C15;
  localparam logic [63:0] MUL1 = 64'hBF58476D1CE4E5B9;
  localparam logic [63:0] MUL2 = 64'h94D049BB133111EB;
  localparam logic [3:0]  LAST_PP = 4'd9;  // partial products 0 .. 9 per multiply

  // Issue stage: which multiply the operand/constant chunks are taken for.
  typedef enum logic [1:0] {
    S_IDLE = 2'd0,  // nothing to issue
    S_MUL1 = 2'd1,  // issuing the products of (x ^ x >> 30) * MUL1
    S_GAP  = 2'd2,  // waiting for p1 ^ p1 >> 27 in op_q
    S_MUL2 = 2'd3   // issuing the products of (p1 ^ p1 >> 27) * MUL2
  } state_e;

  state_e      state_q, state_d;
  logic [3:0]  pp_q, pp_d;        // partial product being issued
  logic [63:0] x_q, x_d;          // splitmix64 counter
  logic        accept;            // a request is taken at this edge
  logic        issue;             // a partial product is issued at this edge

  // Pipeline: stage 1 = operands, stage 2 = product, stage 3 = shifted product, then the
  // accumulator. Each stage carries its product's shift (i + j) while it is needed, whether
  // it is the first or last product of its multiply, and which multiply it belongs to.
  logic [63:0] op_q;              // operand of the multiply being issued
  logic [15:0] a_d, b_d, a_q, b_q;
  logic [1:0]  sh_d, sh1_q, sh2_q;
  logic        first1_q, first2_q, first3_q;
  logic        last1_q, last2_q, last3_q;
  logic        mul2_1_q, mul2_2_q, mul2_3_q;
  logic        v1_q, v2_q, v3_q;  // stage holds a product
  logic [31:0] m_q;
  logic [63:0] sp_q;              // the product shifted into place
  logic [63:0] acc_q, acc_d;
  logic [63:0] z_q;
  logic        valid_q;
  logic        done1, done2;      // the accumulator holds p1 / p2 after this edge

  // Partial product pp -> chunk i of the operand, chunk j of the constant (i + j <= 3). Any
  // order gives the same sum modulo 2^64.
  logic [1:0]  ci, cj;
  always_comb begin
    case (pp_q)
      4'd0:    begin ci = 2'd0; cj = 2'd0; end
      4'd1:    begin ci = 2'd1; cj = 2'd0; end
      4'd2:    begin ci = 2'd0; cj = 2'd1; end
      4'd3:    begin ci = 2'd2; cj = 2'd0; end
      4'd4:    begin ci = 2'd1; cj = 2'd1; end
      4'd5:    begin ci = 2'd0; cj = 2'd2; end
      4'd6:    begin ci = 2'd3; cj = 2'd0; end
      4'd7:    begin ci = 2'd2; cj = 2'd1; end
      4'd8:    begin ci = 2'd1; cj = 2'd2; end
      default: begin ci = 2'd0; cj = 2'd3; end
    endcase
    sh_d = ci + cj;
    a_d  = op_q[16*ci +: 16];
    b_d  = state_q == S_MUL2 ? MUL2[16*cj +: 16] : MUL1[16*cj +: 16];
  end

  // ready_o comes from registers only (a block of its own: next_i may depend on it).
  assign ready_o = state_q == S_IDLE || (state_q == S_MUL2 && pp_q == LAST_PP);

  always_comb begin
    accept  = next_i && ready_o && !load_i && !rst_i;
    issue   = state_q == S_MUL1 || state_q == S_MUL2;
    x_d     = x_q + GAMMA;
    // Modulo 2^64: the carry out of bit 63 is dropped.
    acc_d   = (first3_q ? 64'd0 : acc_q) + sp_q;
    done1   = v3_q && last3_q && !mul2_3_q;
    done2   = v3_q && last3_q && mul2_3_q;

    state_d = state_q;
    pp_d    = pp_q;
    if (issue) begin
      pp_d = pp_q + 4'd1;
    end
    case (state_q)
      S_MUL1: begin
        if (pp_q == LAST_PP) begin
          state_d = S_GAP;
        end
      end
      S_GAP: begin
        if (done1) begin
          state_d = S_MUL2;
          pp_d    = 4'd0;
        end
      end
      S_MUL2: begin
        if (pp_q == LAST_PP) begin
          state_d = S_IDLE;
        end
      end
      default: ;
    endcase
    // A request taken in the last issue cycle of multiply 2 starts the next multiply 1 at
    // once: its products enter the pipeline behind the previous ones.
    if (accept) begin
      state_d = S_MUL1;
      pp_d    = 4'd0;
    end
  end

  // Control: state, product counter, x (the generator's state: reset to 0, the power-on
  // seed) and the valid bits.
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      state_q <= S_IDLE;
      pp_q    <= 4'd0;
      x_q     <= 64'd0;
      v1_q    <= 1'b0;
      v2_q    <= 1'b0;
      v3_q    <= 1'b0;
      valid_q <= 1'b0;
    end else if (load_i) begin
      state_q <= S_IDLE;
      pp_q    <= 4'd0;
      x_q     <= seed_i;
      v1_q    <= 1'b0;
      v2_q    <= 1'b0;
      v3_q    <= 1'b0;
      valid_q <= 1'b0;
    end else begin
      state_q <= state_d;
      pp_q    <= pp_d;
      if (accept) begin
        x_q <= x_d;
      end
      v1_q    <= issue;
      v2_q    <= v1_q;
      v3_q    <= v2_q;
      valid_q <= done2;
    end
  end

  // Datapath: no reset. The tags are read only with their stage's valid bit.
  always_ff @(posedge clk_i) begin
    if (accept) begin
      op_q <= x_d ^ {30'd0, x_d[63:30]};
    end else if (done1) begin
      op_q <= acc_d ^ {27'd0, acc_d[63:27]};
    end
    if (issue) begin
      a_q      <= a_d;
      b_q      <= b_d;
      sh1_q    <= sh_d;
      first1_q <= pp_q == 4'd0;
      last1_q  <= pp_q == LAST_PP;
      mul2_1_q <= state_q == S_MUL2;
    end
    if (v1_q) begin
      m_q      <= {16'd0, a_q} * {16'd0, b_q};
      sh2_q    <= sh1_q;
      first2_q <= first1_q;
      last2_q  <= last1_q;
      mul2_2_q <= mul2_1_q;
    end
    // The shift has a register of its own, so that the accumulator's add starts at one.
    if (v2_q) begin
      sp_q     <= {32'd0, m_q} << {sh2_q, 4'd0};
      first3_q <= first2_q;
      last3_q  <= last2_q;
      mul2_3_q <= mul2_2_q;
    end
    if (v3_q) begin
      acc_q <= acc_d;
    end
    if (done2) begin
      z_q <= acc_d ^ {31'd0, acc_d[63:31]};
    end
  end

  assign valid_o = valid_q;
  assign z_o     = z_q;

endmodule
`default_nettype wire
