`default_nettype none
// LANES xoshiro128++ noise lanes and their seeding (docs/protocol.md, "Random numbers");
// the reference is mt_lanes_seed and mt_xoshiro_next in hls/mt_rng.{c,h}.
//
// Seeding (rtl/mt_lanes_seed.sv): seed_valid_i with seed_i in cycle 0 (sampled at the edge
// that ends it) restarts one splitmix64 sequence from x = seed_i and drops ready_o. Lane l is
// loaded with {s3, s2, s1, s0} = {b, a}, its two splitmix64 outputs, at the edge ending
// cycle 2K(l+1) + 5, where K = 23 cycles per splitmix64 output (one shared 16x16
// multiplier). ready_o is low in cycles 1 .. 2K*LANES + 5 and high again from cycle
// 2K*LANES + 6: seeding takes 2K*LANES + 5 = 741 busy cycles for 16 lanes (2 outputs per
// lane + 5 of latency), and the first draw can be taken in cycle 742. A seed_valid_i during
// seeding restarts it with the new seed.
//
// Reset (rst_i) seeds with 0, the power-on seed of the protocol: the last reset cycle acts
// as cycle 0 above (ready_o high from 2K*LANES + 6 cycles after it).
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

  logic             busy;
  logic [127:0]     seed_state;
  logic [LANES-1:0] lane_load;
  logic [LANES-1:0] lane_step;

  mt_lanes_seed #(
    .LANES (LANES)
  ) u_seed (
    .clk_i        (clk_i),
    .rst_i        (rst_i),
    .seed_valid_i (seed_valid_i),
    .seed_i       (seed_i),
    .stop_i       (1'b0),
    .busy_o       (busy),
    .load_o       (lane_load),
    .state_o      (seed_state)
  );

  assign lane_step = busy ? '0 : step_i;

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

  assign ready_o = !busy;

endmodule
`default_nettype wire
