`default_nettype none
// LANES xoshiro128++ noise lanes and their seeding (docs/protocol.md, "Random numbers");
// the reference is mt_lanes_seed and mt_xoshiro_next in hls/mt_rng.{c,h}.
//
// Seeding: seed_valid_i with seed_i in cycle 0 (sampled at the edge that ends it) restarts
// one splitmix64 sequence from x = seed_i and drops ready_o. The FSM requests the 2*LANES
// splitmix64 outputs at the edges ending cycles 1 .. 2*LANES (one per cycle, both 64-bit
// multiplies pipelined); output 2l (a) is held, and when output 2l+1 (b) arrives lane l is
// loaded with {s3, s2, s1, s0} = {b, a} (an all-zero state would get s0 = 1, as the contract
// states; it cannot occur), at the edge ending cycle 2l+4. ready_o is low in cycles
// 1 .. 2*LANES+2 and high again from cycle 2*LANES+3: seeding takes 2*LANES+2 = 34 busy
// cycles for 16 lanes (2 per lane + 2 of pipeline), and the first draw can be taken in
// cycle 35. A seed_valid_i during seeding restarts it with the new seed.
//
// Reset (rst_i) seeds with 0, the power-on seed of the protocol: the last reset cycle acts
// as cycle 0 above (ready_o high from 2*LANES+3 cycles after it).
//
// Draws: out_o[32l +: 32] is lane l's current output (mt_xoshiro_next's return value for the
// current state); step_i[l] advances lane l at the clock edge. step_i is ignored while
// ready_o is low. state_o[128l +: 128] is lane l's state {s3, s2, s1, s0}.
module mt_noise_lanes #(
  parameter int unsigned LANES = 16  // MT_LANES of docs/protocol.json; at least 2
) (
  input  wire logic                  clk_i,
  input  wire logic                  rst_i,
  input  wire logic                  seed_valid_i,
  input  wire logic [63:0]           seed_i,
  output logic                       ready_o,
  input  wire logic [LANES-1:0]      step_i,
  output logic      [LANES*32-1:0]   out_o,
  output logic      [LANES*128-1:0]  state_o
);

  localparam int unsigned LW = $clog2(LANES);  // lane index bits
  // Draw counters count 0 .. 2*LANES-1 in LW+1 bits; the last one is all ones for a
  // power-of-two LANES and is found by comparing the lane index and the half bit.
  localparam int unsigned LAST_LANE = LANES - 1;

  logic          busy_q;     // seeding in progress (ready_o = !busy_q)
  logic          issuing_q;  // still requesting splitmix64 outputs
  logic [LW:0]   issue_q;    // {lane, half} of the next request
  logic [LW:0]   got_q;      // {lane, half} of the next result
  logic [63:0]   a_q;        // first output of the lane being seeded

  logic          sm_next;
  logic          sm_valid;
  logic [63:0]   sm_z;
  logic          issue_last;
  logic          got_last;
  logic          load_any;
  logic [127:0]  seed_state;
  logic [LANES-1:0] lane_load;
  logic [LANES-1:0] lane_step;

  mt_splitmix64 u_splitmix (
    .clk_i   (clk_i),
    .rst_i   (rst_i),
    .load_i  (seed_valid_i),
    .seed_i  (seed_i),
    .next_i  (sm_next),
    .valid_o (sm_valid),
    .z_o     (sm_z)
  );

  always_comb begin
    sm_next    = busy_q && issuing_q && !seed_valid_i;
    issue_last = (issue_q[LW:1] == LAST_LANE[LW-1:0]) && issue_q[0];
    got_last   = (got_q[LW:1] == LAST_LANE[LW-1:0]) && got_q[0];
    // A second result (b) completes the lane got_q[LW:1].
    load_any   = busy_q && sm_valid && got_q[0] && !seed_valid_i;
    seed_state = {sm_z, a_q};
    if (seed_state == 128'd0) begin
      seed_state[0] = 1'b1;
    end
    lane_load = '0;
    if (load_any) begin
      lane_load[got_q[LW:1]] = 1'b1;
    end
    lane_step = busy_q ? '0 : step_i;
  end

  always_ff @(posedge clk_i) begin
    if (rst_i || seed_valid_i) begin
      busy_q    <= 1'b1;
      issuing_q <= 1'b1;
      issue_q   <= '0;
      got_q     <= '0;
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

  for (genvar l = 0; l < LANES; l++) begin : g_lane
    mt_xoshiro128pp u_lane (
      .clk_i   (clk_i),
      .rst_i   (rst_i),
      .load_i  (lane_load[l]),
      .state_i (seed_state),
      .step_i  (lane_step[l]),
      .out_o   (out_o[32*l +: 32]),
      .state_o (state_o[128*l +: 128])
    );
  end

  assign ready_o = !busy_q;

endmodule
`default_nettype wire
