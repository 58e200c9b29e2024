`default_nettype none
// splitmix64 generator of the lane seeding (docs/protocol.md, "Seeding: splitmix64"); the
// reference is mt_splitmix64_next in hls/mt_rng.c.
//
// load_i sets the counter x to seed_i (and drops results in flight). Each cycle with next_i
// (and not load_i) advances x by the golden gamma and starts mixing the new x; the mixed
// value appears on z_o with valid_o exactly 2 cycles later (next_i sampled at edge k ->
// valid_o/z_o visible after edge k+1, consumed at edge k+2). next_i may be high every
// cycle: one result per cycle, in order.
//
// Pipeline: edge k registers p1 = (x ^ x >> 30) * C1 (x already advanced); edge k+1
// registers p2 = (p1 ^ p1 >> 27) * C2; z_o = p2 ^ p2 >> 31 is combinational. Both 64-bit
// multiplies are modulo 2^64 (the low 64 bits of the product).
module mt_splitmix64 (
  input  wire logic        clk_i,
  input  wire logic        rst_i,
  input  wire logic        load_i,
  input  wire logic [63:0] seed_i,
  input  wire logic        next_i,
  output logic             valid_o,
  output logic      [63:0] z_o
);

  localparam logic [63:0] GAMMA = 64'h9E3779B97F4A7C15;
  localparam logic [63:0] MUL1 = 64'hBF58476D1CE4E5B9;
  localparam logic [63:0] MUL2 = 64'h94D049BB133111EB;

  logic [63:0] x_q, x_d;
  logic [63:0] p1_q, p1_d;
  logic [63:0] p2_q, p2_d;
  logic        v1_q, v2_q;

  always_comb begin
    x_d  = x_q + GAMMA;
    p1_d = (x_d ^ {30'd0, x_d[63:30]}) * MUL1;
    p2_d = (p1_q ^ {27'd0, p1_q[63:27]}) * MUL2;
    z_o  = p2_q ^ {31'd0, p2_q[63:31]};
  end

  // Control: counter and the valid pipeline (reset).
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      x_q  <= 64'd0;
      v1_q <= 1'b0;
      v2_q <= 1'b0;
    end else if (load_i) begin
      x_q  <= seed_i;
      v1_q <= 1'b0;
      v2_q <= 1'b0;
    end else begin
      if (next_i) begin
        x_q <= x_d;
      end
      v1_q <= next_i;
      v2_q <= v1_q;
    end
  end

  // Datapath: no reset, enabled by the stage's valid (the multiplier registers).
  always_ff @(posedge clk_i) begin
    if (next_i) begin
      p1_q <= p1_d;
    end
    if (v1_q) begin
      p2_q <= p2_d;
    end
  end

  assign valid_o = v2_q;

endmodule
`default_nettype wire
