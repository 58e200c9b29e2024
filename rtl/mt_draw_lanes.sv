`default_nettype none
// LANES draw lanes (docs/rtl.md, "Draw lanes: mt_draw_lanes"): xoshiro128++ lanes seeded
// like mt_lanes_seed, each computing its draws and their Gaussians ahead (rtl/mt_draw_lane.sv),
// so that an engine sees the next two draws of every lane at once and may consume 0, 1 or 2
// per lane per cycle, indefinitely. The reference is mt_lanes_seed, mt_xoshiro_next and
// mt_gauss_from_u32 in hls/mt_rng.{c,h}.
//
// seed_i (cycle 0) drops every queue at once and restarts the seeding; lane l is loaded at
// the edge ending cycle 2K(l+1) + 5 = 46l + 51 (mt_lanes_seed: K = 23 cycles per splitmix64
// output) and its avail_o rises 9 cycles later, in cycle 46l + 60 (750 for lane 15 of 16).
// state_o of a lane switches to the seeded state in cycle 46l + 52, so a reader that needs
// all of them (STATE_READ) waits for &avail_o. load_i (cycle 0) sets every lane's committed
// state at once (state_o from cycle 1), drops the queues and abandons a seeding in
// progress; avail_o rises in cycle 9. seed_i wins over load_i in the same cycle. rst_i
// seeds with 0 (the power-on seed): the last reset cycle acts as cycle 0 of a seed_i.
module mt_draw_lanes #(
  parameter int unsigned LANES = 16,  // MT_LANES; at least 2
  parameter int unsigned DEPTH = 32   // draws queued per lane (mt_draw_lane)
) (
  input  wire logic                  clk_i,
  input  wire logic                  rst_i,
  input  wire logic                  seed_i,
  input  wire logic [63:0]           seed_val_i,
  input  wire logic                  load_i,
  input  wire logic [LANES*128-1:0]  load_state_i,
  output logic      [LANES-1:0]      avail_o,
  output logic      [LANES*64-1:0]   u_o,
  output logic      [LANES*32-1:0]   z_o,
  input  wire logic [LANES*2-1:0]    take_i,
  output logic      [LANES*128-1:0]  state_o
);

  logic             seed_busy;
  logic [LANES-1:0] seed_load;
  logic [127:0]     seed_state;
  logic             stop;

  // STATE_WRITE's load overrides a seeding still under way; a new seed overrides a load.
  assign stop = load_i && !seed_i;

  // Only the lane loads of the seeder matter; avail_o tells when a lane is ready.
  logic unused_seed_busy;
  assign unused_seed_busy = seed_busy;

  mt_lanes_seed #(
    .LANES (LANES)
  ) u_seed (
    .clk_i        (clk_i),
    .rst_i        (rst_i),
    .seed_valid_i (seed_i),
    .seed_i       (seed_val_i),
    .stop_i       (stop),
    .busy_o       (seed_busy),
    .load_o       (seed_load),
    .state_o      (seed_state)
  );

  for (genvar l = 0; l < LANES; l++) begin : g_lane
    mt_draw_lane #(
      .DEPTH (DEPTH)
    ) u_lane (
      .clk_i   (clk_i),
      .rst_i   (rst_i),
      .kill_i  (seed_i),
      .load_i  (stop || seed_load[l]),
      .state_i (stop ? load_state_i[128*l +: 128] : seed_state),
      .take_i  (take_i[2*l +: 2]),
      .avail_o (avail_o[l]),
      .u_o     (u_o[64*l +: 64]),
      .z_o     (z_o[32*l +: 32]),
      .state_o (state_o[128*l +: 128])
    );
  end

endmodule
`default_nettype wire
