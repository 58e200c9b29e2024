`default_nettype none
// Seeding of LANES xoshiro128++ lanes from one 64-bit seed (docs/protocol.md, "Seeding:
// splitmix64"); the reference is mt_lanes_seed in hls/mt_rng.c. Shared by mt_noise_lanes
// and mt_draw_lanes, which own the lane registers: this module only says which lane to load
// with which state.
//
// seed_valid_i with seed_i in cycle 0 (sampled at the edge that ends it) restarts one
// splitmix64 sequence from x = seed_i. The FSM requests the 2*LANES splitmix64 outputs one
// at a time, each when the generator is ready (rtl/mt_splitmix64.sv: one 16x16 multiplier,
// K = 23 cycles per output): at the edges ending cycles 1 + K*n, n = 0 .. 2*LANES-1. Output
// 2l (a) is held, and when output 2l+1 (b) arrives load_o[l] is high for one cycle with
// state_o = {s3, s2, s1, s0} = {b, a} (an all-zero state would get s0 = 1, as the contract
// states; it cannot occur): lane l loads at the edge ending cycle 2K(l+1) + 5 = 46l + 51.
// busy_o is high in cycles 1 .. 2K*LANES + 5 (741 for 16 lanes). A seed_valid_i during
// seeding restarts it with the new seed (the generator drops its computation in flight).
// rst_i seeds with 0, the power-on seed: the last reset cycle acts as cycle 0.
//
// stop_i (without seed_valid_i) abandons a seeding in progress: no load_o after it. A lane
// owner that overwrites every lane (STATE_WRITE) uses it so that a late seeding load does
// not undo the write.
module mt_lanes_seed #(
  parameter int unsigned LANES = 16  // at least 2
) (
  input  wire logic               clk_i,
  input  wire logic               rst_i,
  input  wire logic               seed_valid_i,
  input  wire logic [63:0]        seed_i,
  input  wire logic               stop_i,
  output logic                    busy_o,
  output logic      [LANES-1:0]   load_o,
  output logic      [127:0]       state_o
);

  localparam int unsigned LW = $clog2(LANES);  // lane index bits
  // Draw counters count 0 .. 2*LANES-1 in LW+1 bits; the last one is found by comparing
  // the lane index and the half bit, which also works for a LANES that is not a power of 2.
  localparam int unsigned LAST_LANE = LANES - 1;

  logic          busy_q;     // seeding in progress
  logic          issuing_q;  // still requesting splitmix64 outputs
  logic [LW:0]   issue_q;    // {lane, half} of the next request
  logic [LW:0]   got_q;      // {lane, half} of the next result
  logic [63:0]   a_q;        // first output of the lane being seeded

  logic          sm_next;
  logic          sm_ready;
  logic          sm_valid;
  logic [63:0]   sm_z;
  logic          issue_last;
  logic          got_last;
  logic          load_any;

  mt_splitmix64 u_splitmix (
    .clk_i   (clk_i),
    .rst_i   (rst_i),
    .load_i  (seed_valid_i),
    .seed_i  (seed_i),
    .next_i  (sm_next),
    .ready_o (sm_ready),
    .valid_o (sm_valid),
    .z_o     (sm_z)
  );

  always_comb begin
    // A request only when the generator takes it, so every request is accepted.
    sm_next    = busy_q && issuing_q && sm_ready && !seed_valid_i && !stop_i;
    issue_last = (issue_q[LW:1] == LAST_LANE[LW-1:0]) && issue_q[0];
    got_last   = (got_q[LW:1] == LAST_LANE[LW-1:0]) && got_q[0];
    // A second result (b) completes the lane got_q[LW:1].
    load_any   = busy_q && sm_valid && got_q[0] && !seed_valid_i && !stop_i;
    state_o    = {sm_z, a_q};
    if (state_o == 128'd0) begin
      state_o[0] = 1'b1;
    end
    // One small comparator per lane (an indexed write of load_o synthesized to a deeper
    // shifter, the slowest path of this module on UltraScale+).
    for (int l = 0; l < LANES; l++) begin
      load_o[l] = load_any && got_q[LW:1] == LW'(l);
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i || seed_valid_i) begin
      busy_q    <= 1'b1;
      issuing_q <= 1'b1;
      issue_q   <= '0;
      got_q     <= '0;
    end else if (stop_i) begin
      busy_q    <= 1'b0;
      issuing_q <= 1'b0;
    end else if (busy_q) begin
      if (sm_next) begin
        issue_q <= issue_q + 1'b1;
        if (issue_last) begin
          issuing_q <= 1'b0;
        end
      end
      if (sm_valid) begin
        got_q <= got_q + 1'b1;
        if (got_last) begin
          busy_q <= 1'b0;
        end
      end
    end
  end

  // First result of a lane (no reset: written before it is read).
  always_ff @(posedge clk_i) begin
    if (sm_valid && !got_q[0]) begin
      a_q <= sm_z;
    end
  end

  assign busy_o = busy_q;

endmodule
`default_nettype wire
