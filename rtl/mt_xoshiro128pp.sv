`default_nettype none
// One xoshiro128++ noise lane (docs/protocol.md, "Uniform source: xoshiro128++"); the
// reference is mt_xoshiro_next in hls/mt_rng.h.
//
// State packing (state_i, state_o): {s3, s2, s1, s0}, i.e. s0 = [31:0], s1 = [63:32],
// s2 = [95:64], s3 = [127:96]. With the splitmix64 outputs a (first) and b (second) of
// mt_lanes_seed this is exactly {b, a}.
//
// out_o is the output of the current state (what mt_xoshiro_next returns before it
// advances): rotl(s0 + s3, 7) + s0, combinational from the state register (two chained
// 32-bit adds). step_i advances the state by one step at the clock edge, so a consumer
// that samples out_o and raises step_i in the same cycle takes one draw per cycle.
// load_i replaces the state with state_i and wins over step_i.
module mt_xoshiro128pp #(
  // State after rst_i. The all-zero state is xoshiro's fixed point, so the default is
  // {s3, s2, s1, s0} = {0, 0, 0, 1}; mt_noise_lanes seeds every lane after reset anyway.
  parameter logic [127:0] RESET_STATE = 128'h1
) (
  input  wire logic         clk_i,
  input  wire logic         rst_i,
  input  wire logic         load_i,
  input  wire logic [127:0] state_i,
  input  wire logic         step_i,
  output logic      [31:0]  out_o,
  output logic      [127:0] state_o
);

  logic [31:0] s0_q, s1_q, s2_q, s3_q;
  logic [31:0] s0_d, s1_d, s2_d, s3_d;
  logic [31:0] sum;
  logic [31:0] t;
  logic [31:0] s2_x, s3_x, s1_x, s0_x;

  // Output of the current state.
  always_comb begin
    sum   = s0_q + s3_q;
    out_o = {sum[24:0], sum[31:25]} + s0_q;  // rotl(s0 + s3, 7) + s0
  end

  // One step, in the order of the reference (each line uses the values before it).
  always_comb begin
    t    = {s1_q[22:0], 9'd0};               // s1 << 9
    s2_x = s2_q ^ s0_q;
    s3_x = s3_q ^ s1_q;
    s1_x = s1_q ^ s2_x;
    s0_x = s0_q ^ s3_x;
    s0_d = s0_q;
    s1_d = s1_q;
    s2_d = s2_q;
    s3_d = s3_q;
    if (load_i) begin
      s0_d = state_i[31:0];
      s1_d = state_i[63:32];
      s2_d = state_i[95:64];
      s3_d = state_i[127:96];
    end else if (step_i) begin
      s0_d = s0_x;
      s1_d = s1_x;
      s2_d = s2_x ^ t;
      s3_d = {s3_x[20:0], s3_x[31:21]};      // rotl(s3, 11)
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      s0_q <= RESET_STATE[31:0];
      s1_q <= RESET_STATE[63:32];
      s2_q <= RESET_STATE[95:64];
      s3_q <= RESET_STATE[127:96];
    end else begin
      s0_q <= s0_d;
      s1_q <= s1_d;
      s2_q <= s2_d;
      s3_q <= s3_d;
    end
  end

  assign state_o = {s3_q, s2_q, s1_q, s0_q};

endmodule
`default_nettype wire
