`default_nettype none
// One draw lane of mt_draw_lanes (docs/rtl.md, "mt_draw_lanes"): a xoshiro128++ generator
// that runs ahead of its consumer, two Gaussian transforms, and a queue of finished draws.
// The reference is mt_xoshiro_next and mt_gauss_from_u32 in hls/mt_rng.{c,h}.
//
// gen_q is the xoshiro state past every draw generated (queued or in flight). The committed
// state (state_o, the one mt_xoshiro_t holds in C after the draws consumed so far) is not
// stepped by the consumer: the state before each pair, st_q[pair], travels in a distributed
// RAM of DEPTH pair slots (at most DEPTH/2 + 1 pairs are live, head to gen), and state_o is
// st_q[h/2] for an even head h and one step of it for an odd one. A 0/1/2-step mux with its
// load path cost about 2.7 LUTs per state bit; the RAM and the 1-step mux cost about 2.
// gen_d, the next gen_q, is written at its own pair number (at 0 on load_i), so that
// st_q[wpair] = gen_q always and a drained queue (h = 2 wpair) needs no bypass.
//
// Generation: in a cycle with room for two more draws (reserved = generated - taken <=
// DEPTH-2) the lane computes u0 = out(gen), u1 = out(step(gen)) and gen := step^2(gen). The
// uniforms go into the u queue at once and, one register later, into two mt_gauss_icdf;
// their Gaussians land in the z queue LATENCY cycles after that. A draw counts as ready
// once its Gaussian is in: a pair generated in cycle t is ready in cycle t+8. Sustaining 2
// draws per cycle needs DEPTH >= 2*7 + 2 + 2 (7 pairs in flight, 2 ready, 2 of room), so 32.
//
// Queue: DEPTH entries as two banks (even and odd entries), DEPTH/2 words each, written a
// pair at a time at the same address and read asynchronously (distributed RAM); entries
// h and h+1 come from bank h[0] at h/2 and the other bank at (h+1)/2.
//
// kill_i (reseed started) drops the queue and the work in flight and stops generating until
// the next load_i: avail_o falls with live_q, and the pointers stay, so that state_o still
// reads the committed state from st_q. load_i sets the state to state_i, drops the queue
// and restarts generation. take_i (0, 1, 2; 3 acts as 2) is ignored unless avail_o.
module mt_draw_lane #(
  parameter int unsigned DEPTH = 32  // power of two, >= 18 for 2 draws per cycle
) (
  input  wire logic         clk_i,
  input  wire logic         rst_i,
  input  wire logic         kill_i,
  input  wire logic         load_i,
  input  wire logic [127:0] state_i,
  input  wire logic [1:0]   take_i,
  output logic              avail_o,
  output logic      [63:0]  u_o,
  output logic      [31:0]  z_o,
  output logic      [127:0] state_o
);

  localparam int unsigned AW = $clog2(DEPTH / 2);  // bank address bits
  localparam int unsigned HW = AW + 2;             // entry pointers, with a wrap bit
  localparam logic [HW-1:0] ROOM = HW'(DEPTH - 2);

  // Output of a state: rotl(s0 + s3, 7) + s0.
  function automatic logic [31:0] xo_out(input logic [31:0] s0, input logic [31:0] s3);
    logic [31:0] sum;
    sum    = s0 + s3;
    xo_out = {sum[24:0], sum[31:25]} + s0;
  endfunction

  // One xoshiro128++ step, in the order of mt_xoshiro_next.
  function automatic logic [127:0] xo_step(input logic [127:0] s);
    logic [31:0] s0, s1, s2, s3, t;
    s0 = s[31:0];
    s1 = s[63:32];
    s2 = s[95:64];
    s3 = s[127:96];
    t  = {s1[22:0], 9'd0};
    s2 = s2 ^ s0;
    s3 = s3 ^ s1;
    s1 = s1 ^ s2;
    s0 = s0 ^ s3;
    s2 = s2 ^ t;
    s3 = {s3[20:0], s3[31:21]};
    xo_step = {s3, s2, s1, s0};
  endfunction

  // Control (reset)
  logic            live_q;         // loaded since the last kill: may generate
  logic [HW-1:0]   head_q;         // next entry to consume
  logic [HW-2:0]   wpair_q;        // next pair to generate (entry 2*wpair_q)
  logic [HW-2:0]   zpair_q;        // next pair whose Gaussians arrive
  logic            uv_q;           // u pair registered for the transforms
  // Datapath (no reset)
  logic [127:0]    gen_q;
  logic [127:0]    st_q [DEPTH];   // state before each pair, by pair number mod DEPTH
  logic [31:0]     u0_q, u1_q;     // transform inputs
  logic [31:0]     ub0_q [DEPTH/2];  // u queue, even entries
  logic [31:0]     ub1_q [DEPTH/2];  // u queue, odd entries
  logic [15:0]     zb0_q [DEPTH/2];
  logic [15:0]     zb1_q [DEPTH/2];

  logic            flush;
  logic [127:0]    st_rd, st_rd1;  // state before the head's pair, and one step on
  logic            g_rst;
  logic            gen;
  logic [127:0]    gen1, gen2, gen_d;
  logic [HW-2:0]   st_wa;
  logic [31:0]     u0, u1;
  logic [HW-1:0]   reserved;
  logic [HW-1:0]   ready_n;        // draws ready next cycle if none were taken now
  logic [2:0]      avail_if;       // avail next cycle if 0, 1 or 2 are taken now
  logic            avail_q;        // this cycle's avail_o, computed in the last cycle
  logic            live_d;
  logic [HW-1:0]   head_d;
  logic [HW-2:0]   zpair_d;
  logic [1:0]      n_take;
  logic [AW:0]     head_p1;
  logic [AW-1:0]   ra0, ra1;
  logic [31:0]     rd_u0, rd_u1;
  logic [15:0]     rd_z0, rd_z1;
  logic            zv0, zv1;
  logic [15:0]     z0, z1;

  // Both transforms see the same valid stream, so one valid_o is enough; avail needs only
  // ready >= 2 and the bank addresses only (head+1)/2.
  logic unused_bits;
  assign unused_bits = ^{zv1, head_p1[0]};

  // Outputs to the consumer: registers and queue reads only, in a block of their own, so
  // that an engine may compute take_i from avail_o, u_o and z_o in the same cycle without a
  // (real or, for Verilator, block-level) combinational loop.
  // avail_o is a register: computed from the state a cycle ahead, it is the same value as
  // live_q && ready >= 2 (ready = 2·zpair_q − head_q), without the subtract and compare between
  // the lane's pointers and an engine's take_i, which decides on the avail_o of several lanes
  // (the AC701's second-worst path at f246cb1: one lane's head_q to another lane's head_q).
  // The next value is computed for each take (0, 1, 2) from registers, and the take only picks
  // one, so that no subtract follows an engine's take either.
  always_comb begin
    avail_o  = avail_q;
    head_p1  = head_q[AW:0] + 1'b1;
    ra0      = head_p1[AW:1];
    ra1      = head_q[AW:1];
    rd_u0    = ub0_q[ra0];
    rd_u1    = ub1_q[ra1];
    rd_z0    = zb0_q[ra0];
    rd_z1    = zb1_q[ra1];
    if (head_q[0]) begin
      u_o = {rd_u0, rd_u1};
      z_o = {rd_z0, rd_z1};
    end else begin
      u_o = {rd_u1, rd_u0};
      z_o = {rd_z1, rd_z0};
    end
    st_rd  = st_q[head_q[HW-1:1]];
    st_rd1 = xo_step(st_rd);
    if (head_q[0]) begin
      state_o = st_rd1;
    end else begin
      state_o = st_rd;
    end
  end

  // Generation.
  always_comb begin
    flush    = kill_i || load_i;
    g_rst    = rst_i || flush;
    reserved = {wpair_q, 1'b0} - head_q;
    gen      = live_q && !flush && (reserved <= ROOM);
    u0       = xo_out(gen_q[31:0], gen_q[127:96]);
    gen1     = xo_step(gen_q);
    u1       = xo_out(gen1[31:0], gen1[127:96]);
    gen2     = xo_step(gen1);
    gen_d    = load_i ? state_i : gen2;
    st_wa    = load_i ? '0 : wpair_q + 1'b1;  // gen_d's pair number
  end

  assign n_take = avail_o ? (take_i[1] ? 2'd2 : {1'b0, take_i[0]}) : 2'd0;

  // The next cycle's control state, as the block below registers it.
  always_comb begin
    if (rst_i || kill_i) live_d = 1'b0;
    else if (load_i) live_d = 1'b1;
    else live_d = live_q;
    if (rst_i || load_i) begin
      head_d  = '0;
      zpair_d = '0;
    end else begin
      head_d  = head_q + HW'(n_take);
      zpair_d = zpair_q + (HW-1)'(zv0);
    end
    // A take is at most what is ready (it needs avail_o), so ready_n - n_take does not wrap,
    // and it is >= 2 exactly when ready_n >= 2 + n_take. Reset and load empty the queue.
    ready_n = {zpair_q + (HW-1)'(zv0), 1'b0} - head_q;
    avail_if[0] = ready_n >= HW'(2);
    avail_if[1] = ready_n >= HW'(3);
    avail_if[2] = ready_n >= HW'(4);
  end

  always_ff @(posedge clk_i) begin
    live_q  <= live_d;
    avail_q <= live_d && !(rst_i || load_i) && avail_if[n_take];
    // Not on kill_i: state_o keeps reading the committed state through head_q.
    head_q  <= head_d;
    zpair_q <= zpair_d;
    if (rst_i || load_i) begin
      wpair_q <= '0;
    end else begin
      wpair_q <= wpair_q + (HW-1)'(gen);
    end
    if (rst_i || flush) begin
      uv_q    <= 1'b0;
    end else begin
      uv_q    <= gen;
    end
  end

  always_ff @(posedge clk_i) begin
    if (load_i || gen) begin
      gen_q        <= gen_d;
      st_q[st_wa]  <= gen_d;
    end
    if (gen) begin
      u0_q                  <= u0;
      u1_q                  <= u1;
      ub0_q[wpair_q[AW-1:0]] <= u0;
      ub1_q[wpair_q[AW-1:0]] <= u1;
    end
    if (zv0) begin
      zb0_q[zpair_q[AW-1:0]] <= z0;
      zb1_q[zpair_q[AW-1:0]] <= z1;
    end
  end

  mt_gauss_icdf u_gauss0 (
    .clk_i   (clk_i),
    .rst_i   (g_rst),
    .valid_i (uv_q),
    .u_i     (u0_q),
    .valid_o (zv0),
    .z_o     (z0)
  );

  mt_gauss_icdf u_gauss1 (
    .clk_i   (clk_i),
    .rst_i   (g_rst),
    .valid_i (uv_q),
    .u_i     (u1_q),
    .valid_o (zv1),
    .z_o     (z1)
  );

endmodule
`default_nettype wire
