`default_nettype none
// Simulation-only top (not part of rtl/): the noise lanes feeding one Gaussian transform,
// so the statistics test draws Gaussian samples through the whole RTL path (seeding FSM,
// a xoshiro128++ lane, the inverse CDF). draw_i (while ready_o) takes lane lane_i's current
// output into mt_gauss_icdf and steps that lane; the sample appears on z_o with z_valid_o
// mt_gauss_icdf's LATENCY cycles later.
module mt_noise_gauss #(
  parameter int unsigned LANES = 16,
  parameter int unsigned LW = $clog2(LANES)
) (
  input  wire logic          clk_i,
  input  wire logic          rst_i,
  input  wire logic          seed_valid_i,
  input  wire logic [63:0]   seed_i,
  output logic               ready_o,
  input  wire logic [LW-1:0] lane_i,
  input  wire logic          draw_i,
  output logic               z_valid_o,
  output logic      [15:0]   z_o
);

  logic [LANES-1:0]       step;
  logic [LANES*32-1:0]    lane_out;
  logic [LANES*128-1:0]   lane_state;
  logic                   take;
  logic [31:0]            u;

  // The lane states are observed by test_noise_lanes, not here.
  logic unused_state;
  assign unused_state = ^lane_state;

  always_comb begin
    take = draw_i && ready_o;
    step = '0;
    step[lane_i] = take;
    u = lane_out[32*lane_i +: 32];
  end

  mt_noise_lanes #(
    .LANES (LANES)
  ) u_lanes (
    .clk_i        (clk_i),
    .rst_i        (rst_i),
    .seed_valid_i (seed_valid_i),
    .seed_i       (seed_i),
    .ready_o      (ready_o),
    .step_i       (step),
    .out_o        (lane_out),
    .state_o      (lane_state)
  );

  mt_gauss_icdf u_gauss (
    .clk_i   (clk_i),
    .rst_i   (rst_i),
    .valid_i (take),
    .u_i     (u),
    .valid_o (z_valid_o),
    .z_o     (z_o)
  );

endmodule
`default_nettype wire
