`default_nettype none
// FABRICATE, DRIFT, READ_CELLS and READ_LIST engine (docs/rtl.md, "FABRICATE, READ_CELLS and
// MVM engines"). Behaviour: op_fabricate, op_drift, op_read_cells and op_read_list in
// hls/mt_kernel.c with mt_cell_fabricate, mt_cell_drift and mt_cell_sense of hls/mt_device.c,
// with the same checks in the same order.
//
// FABRICATE walks the tile one (row, lane group) word at a time, all LANES lanes side by
// side. A cell takes 14 draws from its lane (7 per device: gmin, gmax, step_set, step_rst,
// a_set, a_rst Gaussians, then the stuck-at uniform), two per cycle, so a word takes 7
// cycles: cycle (phase) p takes draws 2p and 2p+1 of every lane. Each draw gets its noise
// term one cycle later (stage 2) and lands in the field registers of its device; the
// clamps, the fault and the memory writes need every field, so they happen in the cycle
// after phase 6 reached stage 2, while phase 0 of the next word is in stage 2.
//
// DRIFT seeds the fabrication lanes as FABRICATE does and walks the tile one word at a time:
// while it holds the word's address and the lanes' next two draws (G+, G-) wait untaken, it
// streams the word's 2*LANES devices one per cycle from the memories' and the lanes' outputs
// through a pipeline of registered multiplies (exponent, four table factors, g * f), writes
// each device's conductance back into its slot of the word as it leaves the pipeline, and
// then takes the draws.
//
// READ_CELLS walks the region cell by cell. The gm word of a cell's (row, group) is
// requested while the previous cell is handled, so cells of one word take one cycle each.
//
// READ_LIST first checks every entry (one payload word per cycle), then reads the entries in
// order: fetch the entry (2 cycles), then the READ_CELLS cell path for that one cell.
module mt_eng_fab #(
`include "mt_eng_params.vh"
) (
`include "mt_eng_ports.vh"
);
`include "mt_protocol.vh"

  localparam int unsigned NFETCH = 6;
  localparam int unsigned LW = LANES > 1 ? $clog2(LANES) : 1;
  localparam int unsigned FW = 22;        // base + noise of a fabricated field, signed
  localparam int unsigned DMW = 136;      // dm slot

  typedef enum logic [3:0] {
    S_IDLE, S_FETCH, S_PRE, S_CHECK, S_SEED, S_FAB, S_READ, S_LCHK, S_LFETCH, S_DRD, S_DRUN,
    S_DNEXT, S_DONE
  } state_e;

  state_e      state_q;
  logic        is_fab_q;
  logic        is_drift_q;         // DRIFT (seeds and walks the tile like FABRICATE)
  logic        is_list_q;          // READ_LIST
  logic [31:0] lk_q;               // READ_LIST: payload index of the entry (issued / read)
  // A payload word arrives two cycles after its address (the payload buffer's output register).
  logic        lv_q, lv2_q;        // READ_LIST check: a word was issued one / two cycles ago
  logic [31:0] ld_q, ld2_q;        // READ_LIST check: their indices (ld2_q's word arrives)
  logic [1:0]  lf_q;               // READ_LIST fetch: cycles since the entry was issued
  logic [31:0] len_q;
  logic [31:0] p_q [NFETCH];       // payload words 0..5
  logic [2:0]  fi_q;               // fetch: index issued
  logic        fv_q, fv2_q;        // fetch: a read was issued one / two cycles ago
  logic [2:0]  fd_q, fd2_q;        // fetch: their indices (fd2_q's word arrives)
  logic [15:0] status_q;
  logic [31:0] det0_q, det1_q, nout_q;
  logic [1:0]  wait_q;             // seeding: cycles left before fb_avail_i means the new seed
`include "mt_eng_fail.vh"
`include "mt_gnoise.vh"

  // ---------------------------------------------------------------- checks
  logic [31:0] region_idx_q, region_val_q;
  logic        region_bad_q;
  logic [63:0] region_words_q;
  // Registered: the fetch writes its last word of p_q at least one cycle before S_PRE (the
  // cycle with fv_q and fv2_q low), so these are p_q's in S_PRE and S_CHECK.
  mt_region_check_q #(.ROWS(ROWS), .COLS(COLS)) u_region (
    .clk_i, .row0_i(p_q[1]), .nrows_i(p_q[2]), .col0_i(p_q[3]), .ncols_i(p_q[4]),
    .bad_q_o(region_bad_q), .bad_word_q_o(region_idx_q), .bad_val_q_o(region_val_q),
    .cells_q_o(region_words_q)
  );
  // READ_CELLS' overflow check, registered in S_PRE: the cell count comes straight out of the
  // multiplier's output register, and its compare in front of S_CHECK's chain of checks was
  // this engine's slowest path (5.51 ns of cell delay on Artix-7).
  logic region_over_q;
  always_ff @(posedge clk_i) region_over_q <= region_words_q > 64'(cap_i);

  // Tile of the command: word 2 for FABRICATE and DRIFT, word 0 for READ_CELLS.
  logic [31:0] tile;
  assign tile = is_fab_q || is_drift_q ? p_q[2] : p_q[0];
  // The tile's compares and its fabricated bit, registered like the region check (p_q is
  // complete a cycle before S_PRE; fabricated_i holds for the command): the 32-bit compare
  // with TILES in front of S_CHECK's chain of checks and the state register's reset was the
  // engine's slowest path alone (4.59 ns at t14e).
  logic tile_bad_q, tile_fab_q;
  always_ff @(posedge clk_i) begin
    tile_bad_q <= tile >= TILES;
    tile_fab_q <= fabricated_i[tile[5:0]];
  end

  // ---------------------------------------------------------------- FABRICATE
  // Per-command constants of the draws: role r = 0..5 is gmin, gmax, step_set, step_rst,
  // a_set, a_rst; its value is base + gnoise(amp, z). The relative spreads are the
  // amplitudes of vary_rel: x * sigma_rel >> 16.
  // Registered: 16x16 multiplies on a path that only changes with CONFIGURE.
  function automatic logic [15:0] rel_amp(input logic [15:0] x, input logic [15:0] sigma_rel);
    logic [31:0] p;
    logic        unused_low;
    p = 32'(x) * 32'(sigma_rel);
    unused_low = ^p[15:0];
    rel_amp = p[31:16];
  endfunction
  logic [15:0] rel_ss_q, rel_sr_q, rel_as_q, rel_ar_q;
  always_ff @(posedge clk_i) begin
    rel_ss_q <= rel_amp(cfg_i[32*MT_CFG_STEP_SET +: 16], cfg_i[32*MT_CFG_D2D_STEP +: 16]);
    rel_sr_q <= rel_amp(cfg_i[32*MT_CFG_STEP_RST +: 16], cfg_i[32*MT_CFG_D2D_STEP +: 16]);
    rel_as_q <= rel_amp(cfg_i[32*MT_CFG_A_SET +: 16], cfg_i[32*MT_CFG_D2D_A +: 16]);
    rel_ar_q <= rel_amp(cfg_i[32*MT_CFG_A_RST +: 16], cfg_i[32*MT_CFG_D2D_A +: 16]);
  end
  // (* mem2reg *): small arrays of pipeline or per-lane registers, flip-flops by intent (Yosys
  // would otherwise warn that it replaces each "memory" with a list of registers).
  (* mem2reg *) logic [15:0] base_r [6];
  (* mem2reg *) logic [15:0] amp_r [6];
  always_comb begin
    base_r[0] = cfg_i[32*MT_CFG_G_MIN +: 16];
    base_r[1] = cfg_i[32*MT_CFG_G_MAX +: 16];
    base_r[2] = cfg_i[32*MT_CFG_STEP_SET +: 16];
    base_r[3] = cfg_i[32*MT_CFG_STEP_RST +: 16];
    base_r[4] = cfg_i[32*MT_CFG_A_SET +: 16];
    base_r[5] = cfg_i[32*MT_CFG_A_RST +: 16];
    amp_r[0] = cfg_i[32*MT_CFG_D2D_GMIN +: 16];
    amp_r[1] = cfg_i[32*MT_CFG_D2D_GMAX +: 16];
    amp_r[2] = rel_ss_q;
    amp_r[3] = rel_sr_q;
    amp_r[4] = rel_as_q;
    amp_r[5] = rel_ar_q;
  end
  logic [31:0] p_low;
  logic [32:0] p_lowhigh;
  assign p_low = cfg_i[32*MT_CFG_P_STUCK_LOW +: 32];
  assign p_lowhigh = 33'(p_low) + 33'(cfg_i[32*MT_CFG_P_STUCK_HIGH +: 32]);

  // Issue: (row, group, phase) of the draws taken this cycle.
  logic        f_iss_q;            // words left to issue
  logic [31:0] f_row_q, f_grp_q;
  logic [2:0]  f_ph_q;
  logic        f_take;
  assign f_take = state_q == S_FAB && f_iss_q && wait_q == 0 && &fb_avail_i;
  logic        f_last;             // the word issued now is the tile's last
  assign f_last = f_row_q == ROWS - 1 && f_grp_q == GROUPS - 1;

  // The (row, group) word after (row, grp), row-major: {row, group}.
  function automatic logic [63:0] next_word(input logic [31:0] row, input logic [31:0] grp);
    next_word = grp == GROUPS - 1 ? {row + 32'd1, 32'd0} : {row, grp + 32'd1};
  endfunction

  function automatic logic [MEM_AW-1:0] word_addr(input logic [31:0] t, input logic [31:0] r,
                                                  input logic [31:0] g);
    word_addr = MEM_AW'((t * ROWS + r) * GROUPS + g);
  endfunction

  // Stage 1: the draws of one phase, all lanes.
  logic                  s1_v_q, s1_last_q;
  logic [2:0]            s1_ph_q;
  logic [MEM_AW-1:0]     s1_addr_q;
  logic [LANES*32-1:0]   s1_z_q;   // lane l: {second, first} Gaussian
  logic [LANES*32-1:0]   s1_u_q;   // lane l: the uniform of the phase (phases 3 and 6)
  // Stage 2: the noise products registered (the DSPs' output registers).
  logic                  s2_v_q, s2_last_q;
  logic [2:0]            s2_ph_q;
  logic [MEM_AW-1:0]     s2_addr_q;
  // Write stage: the word whose fields are complete.
  logic                  wr_v_q, wr_last_q;
  logic [MEM_AW-1:0]     wr_addr_q;

  always_ff @(posedge clk_i) begin
    if (f_take) begin
      s1_z_q <= fb_z_i;
      for (int l = 0; l < LANES; l++)
        // The uniform is draw 6 (phase 3, first) or draw 13 (phase 6, second).
        s1_u_q[32*l +: 32] <= f_ph_q == 3'd3 ? fb_u_i[64*l +: 32] : fb_u_i[64*l+32 +: 32];
      s1_ph_q <= f_ph_q;
      s1_addr_q <= word_addr(p_q[2], f_row_q, f_grp_q);
      s1_last_q <= f_last;
    end
    if (s1_v_q) begin
      s2_ph_q <= s1_ph_q;
      s2_addr_q <= s1_addr_q;
      s2_last_q <= s1_last_q;
    end
    if (s2_v_q && s2_ph_q == 3'd6) begin
      wr_addr_q <= s2_addr_q;
      wr_last_q <= s2_last_q;
    end
  end

  // Role of each of the phase's two draws in stage 2: draw d = 2p + s is role d mod 7 of
  // device d / 7 (role 6 = the uniform).
  function automatic logic [7:0] roles(input logic [2:0] ph);  // {dev1, role1, dev0, role0}
    case (ph)
      3'd0: roles = {1'b0, 3'd1, 1'b0, 3'd0};
      3'd1: roles = {1'b0, 3'd3, 1'b0, 3'd2};
      3'd2: roles = {1'b0, 3'd5, 1'b0, 3'd4};
      3'd3: roles = {1'b1, 3'd0, 1'b0, 3'd6};
      3'd4: roles = {1'b1, 3'd2, 1'b1, 3'd1};
      3'd5: roles = {1'b1, 3'd4, 1'b1, 3'd3};
      default: roles = {1'b1, 3'd6, 1'b1, 3'd5};
    endcase
  endfunction
  // The phase's roles, bases and amplitudes are decoded and picked at issue and registered
  // with its draws (stage 1), so that stage 2 starts at the noise multiply (the role decode
  // and the pick in front of it were the engine's slowest path).
  logic [2:0]  role0_q, role1_q, i_role0, i_role1;
  logic        dev0_q, dev1_q, i_dev0, i_dev1;
  logic [15:0] base0_q, base1_q, amp0_q, amp1_q;
  // ... and carried to stage 2, where the fields are written.
  logic [2:0]  role0_s2_q, role1_s2_q;
  logic        dev0_s2_q, dev1_s2_q;
  logic [15:0] base0_s2_q, base1_s2_q;
  always_ff @(posedge clk_i)
    if (s1_v_q) begin
      {dev1_s2_q, role1_s2_q, dev0_s2_q, role0_s2_q} <= {dev1_q, role1_q, dev0_q, role0_q};
      base0_s2_q <= base0_q;
      base1_s2_q <= base1_q;
    end
  assign {i_dev1, i_role1, i_dev0, i_role0} = roles(f_ph_q);   // the phase issued now
  always_ff @(posedge clk_i)
    if (f_take) begin
      {dev1_q, role1_q, dev0_q, role0_q} <= {i_dev1, i_role1, i_dev0, i_role0};
      base0_q <= i_role0 < 3'd6 ? base_r[i_role0] : 16'd0;
      amp0_q <= i_role0 < 3'd6 ? amp_r[i_role0] : 16'd0;
      base1_q <= i_role1 < 3'd6 ? base_r[i_role1] : 16'd0;
      amp1_q <= i_role1 < 3'd6 ? amp_r[i_role1] : 16'd0;
    end

  // The noise's product and rounding term (mt_gnoise.vh) are registered in stage 2; bits
  // [33:12] of it are the noise.

  function automatic logic [15:0] clamp16(input logic signed [FW-1:0] v, input logic [15:0] lo);
    if (v < $signed({{(FW - 16){1'b0}}, lo})) clamp16 = lo;
    else if (v > $signed(FW'(65535))) clamp16 = 16'hFFFF;
    else clamp16 = v[15:0];
  endfunction

  logic [LANES*2*16-1:0]  fab_gm;
  logic [LANES*2*DMW-1:0] fab_dm;
  for (genvar l = 0; l < LANES; l++) begin : g_fab_lane
    // Fields of device k: f_q[k*6 + r] for the Gaussians, stuck-at compares for the uniform.
    logic signed [FW-1:0] f_q [12];
    logic [1:0]           lo_q, hi_q;
    logic signed [FW-1:0] v0, v1;
    // The products' registers: their product and add, then base + noise and the field's
    // write, were the engine's slowest path in one cycle (5.07 ns at t14 5defbcb).
    logic signed [33:0]   p0_q, p1_q;
    logic                 unused_low;
    assign unused_low = ^{p0_q[11:0], p1_q[11:0]};
    assign v0 = $signed({{(FW - 16){1'b0}}, base0_s2_q}) + p0_q[33:12];
    assign v1 = $signed({{(FW - 16){1'b0}}, base1_s2_q}) + p1_q[33:12];
    always_ff @(posedge clk_i) begin
      if (s2_v_q) begin
        if (role0_s2_q < 3'd6) f_q[{1'b0, dev0_s2_q} * 6 + 4'(role0_s2_q)] <= v0;
        if (role1_s2_q < 3'd6) f_q[{1'b0, dev1_s2_q} * 6 + 4'(role1_s2_q)] <= v1;
      end
      if (s1_v_q) begin
        p0_q <= gnoise_p(amp0_q, s1_z_q[32*l +: 16]);
        p1_q <= gnoise_p(amp1_q, s1_z_q[32*l+16 +: 16]);
        // The uniform is the last draw of device 0 (phase 3) or device 1 (phase 6).
        if (s1_ph_q == 3'd3 || s1_ph_q == 3'd6) begin
          lo_q[s1_ph_q == 3'd6] <= 33'(s1_u_q[32*l +: 32]) < 33'(p_low);
          hi_q[s1_ph_q == 3'd6] <= 33'(s1_u_q[32*l +: 32]) < p_lowhigh;
        end
      end
    end
    for (genvar k = 0; k < 2; k++) begin : g_dev
      logic [15:0] gmin, gmax, ss, sr, as_, ar;
      logic [1:0]  fault;
      assign gmin = clamp16(f_q[6*k + 0], 16'd0);
      assign gmax = clamp16(f_q[6*k + 1], gmin);
      assign ss = clamp16(f_q[6*k + 2], 16'd0);
      assign sr = clamp16(f_q[6*k + 3], 16'd0);
      assign as_ = clamp16(f_q[6*k + 4], 16'd0);
      assign ar = clamp16(f_q[6*k + 5], 16'd0);
      assign fault = lo_q[k] ? MT_FAULT_STUCK_LOW : hi_q[k] ? MT_FAULT_STUCK_HIGH : MT_FAULT_NONE;
      assign fab_dm[DMW*(k*LANES+l) +: DMW] = {32'd0, 6'd0, fault, ar, as_, sr, ss, gmax, gmin};
      assign fab_gm[16*(k*LANES+l) +: 16] = fault == MT_FAULT_STUCK_HIGH ? gmax : gmin;
    end
  end

  // ---------------------------------------------------------------- DRIFT
  // mt_cell_drift of hls/mt_device.c (docs/device-model.md, "Conductance drift"), one device
  // per cycle through ND stages. Every multiply has registered operands and a registered
  // result; the four 25-bit products (three exp2 table steps and g * f) with their rounding
  // constants take two stages each in mt_umul25x25 (split to fit the DSPs, then one add), and
  // each table factor is looked up in the stage before its multiply. The stages carry the
  // device's index, conductance, floor and fault alongside.
  //   0 the device's draw, g, gmin_d and fault picked from the lanes' and memories' words
  //   1 drift_nu_sd * z + 2^11                    2 nu_d = min(|nu + noise|, 65535)
  //   3 nu_d * L (e = this >> 16)                 4 f = T[digit 3]; T[digit 2]; s
  //   5-6 f * T[digit 2] + 2^23; T[digit 1]       7-8 ... * T[digit 1] + 2^23; T[digit 0]
  //   9-10 ... * T[digit 0] + 2^23                11-12 g * f + 2^(s-1)
  //   13 the shift, the gmin_d floor, the fault
  localparam int unsigned DEVS = 2 * LANES;      // devices of a word: index k*LANES + lane
  localparam int unsigned DW = DEVS > 1 ? $clog2(DEVS) : 1;
  localparam int unsigned ND = 14;               // pipeline stages
  localparam logic [48:0] HALF24 = 49'd8388608;  // 2^23, the rounding term of >> 24
  logic [31:0]          d_row_q, d_grp_q;
  logic                 d_last_word;
  assign d_last_word = d_row_q == ROWS - 1 && d_grp_q == GROUPS - 1;
  logic [MEM_AW-1:0]    d_addr;
  assign d_addr = word_addr(p_q[2], d_row_q, d_grp_q);
  // The word's gm and dm words arrive two cycles after S_DRD presents the address (from the
  // memories' output registers), and stay while it is held (in S_DRUN, which writes only
  // slots already read); lane l's draws {G-, G+} stay on fb_z_i until S_DNEXT takes them.
  // S_DRD lasts at least two cycles (drd_q: it was S_DRD in the last cycle too).
  logic                 d_ready, drd_q;
  assign d_ready = state_q == S_DRD && drd_q && wait_q == 0 && &fb_avail_i;
  always_ff @(posedge clk_i) drd_q <= state_q == S_DRD;
  logic [DW:0]          d_i_q;                   // device fed next
  logic [22:0]          d_l;                     // log2_ratio (<= DRIFT_MAX_LOG2 = 2^22)
  assign d_l = p_q[3][22:0];
  logic [15:0]          d_nu, d_sd;
  assign d_nu = cfg_i[32*MT_CFG_DRIFT_NU +: 16];
  assign d_sd = cfg_i[32*MT_CFG_DRIFT_NU_SD +: 16];
  logic                 d_feed;
  assign d_feed = state_q == S_DRUN && d_i_q < (DW + 1)'(DEVS);
  logic [DW-1:0]        d_dev;
  assign d_dev = DW'(d_i_q);

  // Per stage: valid, device index, g, gmin_d, fault == NONE.
  logic [ND-1:0]        dv_q;
  (* mem2reg *) logic [DW-1:0] di_q [ND-1];     // stages 0 .. ND-2; stage ND-1 is d13_*_q
  (* mem2reg *) logic [15:0]   dgs_q [ND-1];
  (* mem2reg *) logic [15:0]   dms_q [ND-1];
  logic [ND-2:0]        dks_q;
  logic [15:0]          d0_z_q;
  logic signed [33:0]   d1_p_q;
  logic [15:0]          d2_nu_q;
  logic [38:0]          d3_e_q;
  logic [24:0]          d4_f_q, d4_t_q, d6_t_q, d8_t_q;
  logic [7:0]           d4_x_q, d5_x_q;          // digits 1 and 0 of the fraction
  logic [3:0]           d6_x_q, d7_x_q;          // digit 0
  logic [48:0]          d6_m, d8_m, d10_m;
  logic [40:0]          d12_m;
  (* mem2reg *) logic [4:0] ds_q [4:12];         // s - 24 = min(i, 17)
  logic [15:0]          d13_g_q;
  logic [DEVS-1:0]      d13_we_q;                // the device's gm slot, one-hot
  logic signed [21:0]   d2_v;                    // nu + noise: |noise| < 2^19
  assign d2_v = 22'($signed({6'd0, d_nu})) + 22'(d1_p_q >>> 12);
  logic [6:0]           d4_i;                    // integer part of the exponent
  assign d4_i = d3_e_q[38:32];
  logic [40:0]          d13_v;
  assign d13_v = d12_m >> (24 + 32'(ds_q[12]));
  // The floor compare d13_v < gmin_d, done before the shift: floor(m / 2^k) < f exactly when
  // m < f * 2^k, and f * 2^(24 + s) is known from stage 4 on, so it is registered at stage 12
  // beside the product (its bits above m's 41 in one flag). The compare then runs beside the
  // shift instead of behind it: the shift and the compare in series were the engine's slowest
  // path (5.19 ns alone).
  // (Shifted at stage 11 and split at stage 12: the shift and the OR of its top bits in one
  // cycle, behind the shift register of gmin_d, were the engine's next slowest path, 4.73 ns.)
  logic [57:0]          d11_fl_q;
  logic [40:0]          d12_fl_q;
  logic                 d12_flhi_q;
  logic                 d13_lt;
  assign d13_lt = d12_flhi_q || d12_m < d12_fl_q;
  mt_umul25x25 #(.OW(49)) u_dm1 (
    .clk_i(clk_i), .a_i(d4_f_q), .b_i(d4_t_q), .c_i(HALF24), .p_o(d6_m)
  );
  mt_umul25x25 #(.OW(49)) u_dm2 (
    .clk_i(clk_i), .a_i(d6_m[48:24]), .b_i(d6_t_q), .c_i(HALF24), .p_o(d8_m)
  );
  mt_umul25x25 #(.OW(49)) u_dm3 (
    .clk_i(clk_i), .a_i(d8_m[48:24]), .b_i(d8_t_q), .c_i(HALF24), .p_o(d10_m)
  );
  mt_umul25x25 #(.OW(41)) u_dm4 (
    .clk_i(clk_i), .a_i(d10_m[48:24]), .b_i(25'(dgs_q[10])), .c_i(41'd1 << (23 + 32'(ds_q[10]))),
    .p_o(d12_m)
  );

  // The word's fields per device, as arrays: picking one is a 2*LANES-way mux of its own
  // width (a variable part-select of the whole dm word would be a shifter over all of it).
  // From the gm block RAM's unregistered output through the device layer's and this pick's
  // multiplexers into stage 0 was the AC701 device's slowest path after META's region check
  // (5.53 ns at t14f c683f72); the memories' output registers took the RAM out of it.
  (* mem2reg *) logic [15:0] dp_z [DEVS];        // device k*LANES + l: lane l's draw k
  (* mem2reg *) logic [15:0] dp_g [DEVS];
  (* mem2reg *) logic [15:0] dp_min [DEVS];
  logic [DEVS-1:0]      dp_ok;
  for (genvar c = 0; c < DEVS; c++) begin : g_dpick
    assign dp_z[c] = fb_z_i[32*(c % LANES) + 16*(c / LANES) +: 16];
    assign dp_g[c] = gm_rdata_i[16*c +: 16];
    assign dp_min[c] = dm_rdata_i[DMW*c +: 16];
    assign dp_ok[c] = dm_rdata_i[DMW*c + 96 +: 2] == MT_FAULT_NONE;
  end

  always_ff @(posedge clk_i) begin
    // 0: the device's draw and fields
    d0_z_q <= dp_z[d_dev];
    di_q[0] <= d_dev;
    dgs_q[0] <= dp_g[d_dev];
    dms_q[0] <= dp_min[d_dev];
    dks_q[0] <= dp_ok[d_dev];
    for (int k = 1; k < ND - 1; k++) begin
      di_q[k] <= di_q[k-1];
      dgs_q[k] <= dgs_q[k-1];
      dms_q[k] <= dms_q[k-1];
      dks_q[k] <= dks_q[k-1];
    end
    d1_p_q <= gnoise_p(d_sd, d0_z_q);
    d2_nu_q <= d2_v < -22'sd65535 || d2_v > 22'sd65535 ? 16'hFFFF
             : d2_v < 0 ? 16'(-d2_v) : d2_v[15:0];
    d3_e_q <= 39'(d2_nu_q) * 39'(d_l);
    // 4: the first factor is T itself ((2^24 * T + 2^23) >> 24 = T)
    d4_f_q <= mt_drift_exp2({2'd3, d3_e_q[31:28]});
    d4_t_q <= mt_drift_exp2({2'd2, d3_e_q[27:24]});
    d4_x_q <= d3_e_q[23:16];
    ds_q[4] <= d4_i > 7'd17 ? 5'd17 : d4_i[4:0];
    for (int k = 5; k <= 12; k++) ds_q[k] <= ds_q[k-1];
    d5_x_q <= d4_x_q;
    d6_t_q <= mt_drift_exp2({2'd1, d5_x_q[7:4]});
    d6_x_q <= d5_x_q[3:0];
    d7_x_q <= d6_x_q;
    d8_t_q <= mt_drift_exp2({2'd0, d7_x_q});
    d11_fl_q <= 58'(dms_q[10]) << (24 + 32'(ds_q[10]));
    d12_fl_q <= d11_fl_q[40:0];
    d12_flhi_q <= |d11_fl_q[57:41];
    d13_g_q <= !dks_q[12] ? dgs_q[12] : d13_lt ? dms_q[12] : d13_v[15:0];
    // Decoded here so that the write enable leaves a register (the decode behind the index's
    // shift-register stage was the engine's slowest output, 5.6 ns of cell delay).
    d13_we_q <= DEVS'(1) << di_q[12];
  end

  // ---------------------------------------------------------------- READ_CELLS
  // The cell (r_row_q, r_col_q) = word r_wa_q (below), lane r_lane_q, output r_n_q.
  logic [31:0]       r_row_q, r_col_q, r_n_q;
  logic [LW-1:0]     r_lane_q;
  logic              r_iss_q;      // cells left
  // The cell's word address, kept beside (r_row_q, r_col_q) instead of computed from them: the
  // product-and-sum, its compare with the word requested and the lane's take behind it were
  // the U250 device's slowest path (7.46 ns at t14b 93eb0eb). r_rb_q is the address of the
  // region's first group in the current row (READ_CELLS).
  logic [MEM_AW-1:0] r_wa_q, r_rb_q, r_wa0_q, r_addr_q, r_addr2_q;
  logic              r_addr_v_q;   // r_addr_q was requested last cycle
  logic              r_addr_v2_q;  // r_addr2_q was requested two cycles ago: its word is here
  logic              probe;
  assign probe = is_list_q ? p_q[MT_PL_READ_LIST_FLAGS][0] : p_q[5][0];
  // A READ_LIST entry that names no cell (list_entry_bad in the model).
  function automatic logic entry_bad(input logic [31:0] e);
    entry_bad = 32'(e[31:20]) >= ROWS || 32'(e[19:8]) >= COLS || e[7:0] != 8'd0;
  endfunction
  // READ_LIST's entry count and its compares, registered from len_q (set at the start, many
  // cycles before S_LCHK ends; cap_i holds for the whole command): the subtract and the
  // compare with cap_i in front of S_LCHK's state decision were this engine's slowest path
  // alone (4.90 ns).
  logic [31:0] n_entries_q;
  logic        n_over_q, n_zero_q;
  always_ff @(posedge clk_i) begin
    n_entries_q <= len_q - 32'(MT_PL_READ_LIST_WORDS);
    n_over_q <= n_entries_q > cap_i;
    n_zero_q <= n_entries_q == 32'd0;
  end
  logic r_go;
  assign r_go = state_q == S_READ && r_iss_q && r_addr_v2_q && r_addr2_q == r_wa_q
                && (probe || nz_avail_i[r_lane_q]);
  // The region's last column and row, registered: p_q is complete cycles before S_READ, and
  // the three-operand sums in front of the compares and the walk's multiplexers were the
  // engine's slowest path alone (5.29 ns at t14b 93eb0eb).
  logic [31:0] r_end_col_q, r_end_row_q;
  always_ff @(posedge clk_i) begin
    r_end_col_q <= p_q[3] + p_q[4] - 32'd1;
    r_end_row_q <= p_q[1] + p_q[2] - 32'd1;
    r_wa0_q <= word_addr(p_q[0], p_q[1], p_q[3] / LANES);  // the region's first cell
  end
  logic r_last_col, r_last;
  assign r_last_col = r_col_q == r_end_col_q;
  assign r_last = r_last_col && r_row_q == r_end_row_q;
  // Stage 2: the cell's two conductances and draws.
  logic              rs_v_q;
  logic [PL_AW-1:0]  rs_n_q;
  (* mem2reg *) logic [15:0]       rs_g_q [2];
  (* mem2reg *) logic [15:0]       rs_z_q [2];
  // The lane's words are picked at offsets {r_lane_q, 0...}: written as 16·(k·LANES + lane)
  // and 32·lane in 32 bits, the offsets made Yosys build adders and range checks as carry
  // chains between r_lane_q and these registers.
  logic [16*LANES-1:0] r_gp, r_gn;
  logic [31:0]         r_zw;
  assign r_gp = gm_rdata_i[0 +: 16*LANES];
  assign r_gn = gm_rdata_i[16*LANES +: 16*LANES];
  assign r_zw = nz_z_i[{r_lane_q, 5'd0} +: 32];
  always_ff @(posedge clk_i) begin
    if (r_go) begin
      rs_n_q <= PL_AW'(r_n_q);
      rs_g_q[0] <= r_gp[{r_lane_q, 4'd0} +: 16];
      rs_g_q[1] <= r_gn[{r_lane_q, 4'd0} +: 16];
      rs_z_q[0] <= r_zw[15:0];
      rs_z_q[1] <= r_zw[31:16];
    end
  end
  // Stage 3: the read noise's product with mt_gnoise's rounding term registered (the DSP's
  // post-adder and output register), then the add and the clamp into the response write: all
  // of it after the unregistered product was the AC701 device's slowest path (7.25 ns).
  logic              rt_v_q;
  logic [PL_AW-1:0]  rt_n_q;
  (* mem2reg *) logic [15:0]       rt_g_q [2];
  (* mem2reg *) logic signed [33:0] rt_p_q [2];
  always_ff @(posedge clk_i) begin
    rt_n_q <= rs_n_q;
    for (int k = 0; k < 2; k++) begin
      rt_g_q[k] <= rs_g_q[k];
      rt_p_q[k] <= gnoise_p(cfg_i[32*MT_CFG_READ_SIGMA +: 16], rs_z_q[k]);
    end
  end
  (* mem2reg *) logic [15:0] sensed [2];
  always_comb begin
    for (int k = 0; k < 2; k++)
      sensed[k] = probe ? rt_g_q[k]
                : clamp16($signed({{(FW - 16){1'b0}}, rt_g_q[k]}) + FW'(rt_p_q[k] >>> 12), 16'd0);
  end

  // ---------------------------------------------------------------- control
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      state_q <= S_IDLE;
      fv_q <= 1'b0;
      fv2_q <= 1'b0;
      f_iss_q <= 1'b0;
      s1_v_q <= 1'b0;
      s2_v_q <= 1'b0;
      wr_v_q <= 1'b0;
      r_iss_q <= 1'b0;
      r_addr_v_q <= 1'b0;
      r_addr_v2_q <= 1'b0;
      rs_v_q <= 1'b0;
      rt_v_q <= 1'b0;
      dv_q <= '0;
    end else begin
      dv_q <= {dv_q[ND-2:0], d_feed};
      fv2_q <= fv_q && state_q == S_FETCH;
      fd2_q <= fd_q;
      s1_v_q <= f_take;
      s2_v_q <= s1_v_q;
      wr_v_q <= s2_v_q && s2_ph_q == 3'd6;
      rs_v_q <= r_go;
      rt_v_q <= rs_v_q;
      r_addr_v_q <= state_q == S_READ;
      r_addr_q <= r_wa_q;
      r_addr_v2_q <= r_addr_v_q;
      r_addr2_q <= r_addr_q;
      case (state_q)
        S_IDLE: if (start_i) begin
          is_fab_q <= op_i == MT_OP_FABRICATE;
          is_drift_q <= op_i == MT_OP_DRIFT;
          is_list_q <= op_i == MT_OP_READ_LIST;
          len_q <= len_i;
          fi_q <= 3'd0;
          fv_q <= 1'b0;
          status_q <= {8'd0, MT_ST_OK};
          det0_q <= 32'd0;
          det1_q <= 32'd0;
          nout_q <= 32'd0;
          state_q <= S_FETCH;
        end
        S_FETCH: begin
          // Words 0..min(len, 6)-1 into p_q.
          if (fv2_q) p_q[fd2_q] <= pl_data_i;
          fd_q <= fi_q;
          if (32'(fi_q) < len_q && fi_q < 3'(NFETCH)) begin
            fv_q <= 1'b1;
            fi_q <= fi_q + 3'd1;
          end else begin
            fv_q <= 1'b0;
            if (!fv_q && !fv2_q) state_q <= S_PRE;
          end
        end
        S_PRE: state_q <= S_CHECK;
        S_CHECK: begin
          state_q <= S_DONE;
          if (is_fab_q) begin
            if (len_q != 3) fail(MT_ST_ERR_LENGTH, len_q, 32'd3);
            else if (tile_bad_q) fail(MT_ST_ERR_TILE, 32'd2, p_q[2]);
            else if (!configured_i) fail(MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, p_q[2]);
            else begin
              wait_q <= 2'd2;
              state_q <= S_SEED;
            end
          end else if (is_drift_q) begin
            if (len_q != MT_PL_DRIFT_WORDS) fail(MT_ST_ERR_LENGTH, len_q, MT_PL_DRIFT_WORDS);
            else if (tile_bad_q) fail(MT_ST_ERR_TILE, MT_PL_DRIFT_TILE, p_q[2]);
            else if (!configured_i) fail(MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, p_q[2]);
            else if (!tile_fab_q) fail(MT_ST_ERR_STATE, MT_STATE_NOT_FABRICATED, p_q[2]);
            else if (p_q[3] > MT_DRIFT_MAX_LOG2)
              fail(MT_ST_ERR_PARAM, MT_PL_DRIFT_LOG2_RATIO, p_q[3]);
            else begin
              wait_q <= 2'd2;
              state_q <= S_SEED;
            end
          end else if (is_list_q) begin
            if (len_q < MT_PL_READ_LIST_WORDS) fail(MT_ST_ERR_LENGTH, len_q, MT_PL_READ_LIST_WORDS);
            else if (tile_bad_q) fail(MT_ST_ERR_TILE, 32'd0, p_q[0]);
            else if (!configured_i) fail(MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, p_q[0]);
            else if (!tile_fab_q) fail(MT_ST_ERR_STATE, MT_STATE_NOT_FABRICATED, p_q[0]);
            else if (p_q[MT_PL_READ_LIST_FLAGS] > MT_READ_PROBE)
              fail(MT_ST_ERR_PARAM, MT_PL_READ_LIST_FLAGS, p_q[MT_PL_READ_LIST_FLAGS]);
            else begin
              lk_q <= MT_PL_READ_LIST_WORDS;
              lv_q <= 1'b0;
              lv2_q <= 1'b0;
              state_q <= S_LCHK;
            end
          end else begin
            if (len_q != 6) fail(MT_ST_ERR_LENGTH, len_q, 32'd6);
            else if (tile_bad_q) fail(MT_ST_ERR_TILE, 32'd0, p_q[0]);
            else if (!configured_i) fail(MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, p_q[0]);
            else if (!tile_fab_q) fail(MT_ST_ERR_STATE, MT_STATE_NOT_FABRICATED, p_q[0]);
            else if (region_bad_q) fail(MT_ST_ERR_RANGE, region_idx_q, region_val_q);
            else if (p_q[5] > MT_READ_PROBE) fail(MT_ST_ERR_PARAM, 32'd5, p_q[5]);
            else if (region_over_q) fail(MT_ST_ERR_OVERFLOW, region_words_q[31:0], cap_i);
            else begin
              nout_q <= region_words_q[31:0];
              r_row_q <= p_q[1];
              r_col_q <= p_q[3];
              r_lane_q <= LW'(p_q[3] % LANES);
              r_wa_q <= r_wa0_q;
              r_rb_q <= r_wa0_q;
              r_n_q <= 32'd0;
              r_iss_q <= 1'b1;
              state_q <= S_READ;
            end
          end
        end
        S_SEED: begin
          // The seed goes out in the first cycle; the lanes drop their queues at its edge.
          state_q <= is_drift_q ? S_DRD : S_FAB;
          d_row_q <= 32'd0;
          d_grp_q <= 32'd0;
          f_iss_q <= 1'b1;
          f_row_q <= 32'd0;
          f_grp_q <= 32'd0;
          f_ph_q <= 3'd0;
        end
        S_FAB: begin
          if (wait_q != 0) wait_q <= wait_q - 2'd1;
          if (f_take) begin
            if (f_ph_q == 3'd6) begin
              f_ph_q <= 3'd0;
              if (f_last) f_iss_q <= 1'b0;
              {f_row_q, f_grp_q} <= next_word(f_row_q, f_grp_q);
            end else begin
              f_ph_q <= f_ph_q + 3'd1;
            end
          end
          if (wr_v_q && wr_last_q) state_q <= S_DONE;
        end
        S_DRD: begin
          // The word's address is out; its gm and dm words arrive next cycle.
          if (wait_q != 0) wait_q <= wait_q - 2'd1;
          d_i_q <= '0;
          if (d_ready) state_q <= S_DRUN;
        end
        S_DRUN: begin
          if (d_feed) d_i_q <= d_i_q + 1'b1;
          else if (dv_q == '0) state_q <= S_DNEXT;
        end
        S_DNEXT: begin
          // The word's draws are taken (fb_take_o) as the next word starts.
          if (d_last_word) begin
            state_q <= S_DONE;
          end else begin
            state_q <= S_DRD;
            {d_row_q, d_grp_q} <= next_word(d_row_q, d_grp_q);
          end
        end
        S_LCHK: begin
          // Every entry in order (lk_q issued, ld2_q arriving); the first bad one fails.
          lv_q <= lk_q < len_q;
          ld_q <= lk_q;
          lv2_q <= lv_q;
          ld2_q <= ld_q;
          if (lk_q < len_q) lk_q <= lk_q + 32'd1;
          if (lv2_q && entry_bad(pl_data_i)) begin
            fail(MT_ST_ERR_RANGE, ld2_q, pl_data_i);
            state_q <= S_DONE;
          end else if (!lv_q && !lv2_q && lk_q >= len_q) begin
            if (n_over_q) begin
              fail(MT_ST_ERR_OVERFLOW, n_entries_q, cap_i);
              state_q <= S_DONE;
            end else begin
              nout_q <= n_entries_q;
              r_n_q <= 32'd0;
              lk_q <= MT_PL_READ_LIST_WORDS;
              lf_q <= 2'd0;
              state_q <= n_zero_q ? S_DONE : S_LFETCH;
            end
          end
        end
        S_LFETCH: begin
          // Entry lk_q: issued in the first cycle, its cell set up in the third.
          if (lf_q != 2'd2) lf_q <= lf_q + 2'd1;
          if (lf_q == 2'd2) begin
            r_row_q <= 32'(pl_data_i[31:20]);
            r_col_q <= 32'(pl_data_i[19:8]);
            r_lane_q <= LW'(32'(pl_data_i[19:8]) % LANES);
            r_wa_q <= word_addr(p_q[0], 32'(pl_data_i[31:20]), 32'(pl_data_i[19:8]) / LANES);
            r_iss_q <= 1'b1;
            state_q <= S_READ;
          end
        end
        S_READ: begin
          if (r_go && is_list_q) begin
            r_n_q <= r_n_q + 32'd1;
            r_iss_q <= 1'b0;
            lk_q <= lk_q + 32'd1;
            if (lk_q + 32'd1 < len_q) begin
              lf_q <= 2'd0;
              state_q <= S_LFETCH;
            end
          end else if (r_go) begin
            r_n_q <= r_n_q + 32'd1;
            if (r_last) r_iss_q <= 1'b0;
            if (r_last_col) begin
              r_row_q <= r_row_q + 32'd1;
              r_col_q <= p_q[3];
              r_lane_q <= LW'(p_q[3] % LANES);
              r_rb_q <= r_rb_q + MEM_AW'(GROUPS);
              r_wa_q <= r_rb_q + MEM_AW'(GROUPS);
            end else begin
              r_col_q <= r_col_q + 32'd1;
              if (r_lane_q == LW'(LANES - 1)) begin
                r_lane_q <= '0;
                r_wa_q <= r_wa_q + 1'b1;
              end else begin
                r_lane_q <= r_lane_q + 1'b1;
              end
            end
          end
          if (!r_iss_q && !rs_v_q && !rt_v_q) state_q <= S_DONE;
        end
        S_DONE: state_q <= S_IDLE;
        default: state_q <= S_IDLE;
      endcase
    end
  end

  // ---------------------------------------------------------------- outputs (0 when idle)
  always_comb begin
`include "mt_eng_idle.vh"
    done_o = state_q == S_DONE;
`include "mt_eng_done.vh"

    if (state_q == S_FETCH) pl_addr_o = PL_AW'(fi_q);
    if (state_q == S_LCHK || state_q == S_LFETCH) pl_addr_o = PL_AW'(lk_q);

    if (state_q == S_SEED) begin
      fb_seed_o = 1'b1;
      fb_seed_val_o = {p_q[1], p_q[0]} ^ {10'd0, p_q[2][5:0], 48'd0};
    end
    if (f_take) fb_take_o = {LANES{2'd2}};

    // A fabricated cell's hidden weight is 0: hm_wdata_o keeps its idle value.
    if (state_q == S_FAB && wr_v_q) begin
      gm_addr_o = wr_addr_q;
      gm_we_o = '1;
      gm_wdata_o = fab_gm;
      dm_addr_o = wr_addr_q;
      dm_we_o = '1;
      dm_wdata_o = fab_dm;
      lm_addr_o = wr_addr_q;
      lm_we_o = '1;
      lm_wdata_o = {LANES{16'(MT_LEVEL_NONE)}};
      hm_addr_o = wr_addr_q;
      hm_we_o = '1;
    end
    if (state_q == S_READ) gm_addr_o = r_wa_q;
    if (state_q == S_DRD || state_q == S_DRUN) begin
      gm_addr_o = d_addr;
      dm_addr_o = d_addr;
    end
    // A device leaving the pipeline writes its slot of the word (the address is held).
    if (state_q == S_DRUN && dv_q[ND-1]) begin
      gm_we_o = d13_we_q;
      gm_wdata_o = {DEVS{d13_g_q}};
    end
    if (state_q == S_DNEXT) fb_take_o = {LANES{2'd2}};
    fab_set_o = done_o && is_fab_q && status_q == 0;
    if (fab_set_o) fab_tile_o = p_q[2][5:0];

    for (int l = 0; l < LANES; l++)
      if (r_go && !probe && r_lane_q == LW'(l)) nz_take_o[2*l +: 2] = 2'd2;
    if (rt_v_q) begin
      rsp_we_o = 1'b1;
      rsp_addr_o = rt_n_q;
      rsp_data_o = {sensed[1], sensed[0]};
      if (!probe) cnt_inc_o[32*MT_CNT_CELL_READS +: 32] = 32'd2;
    end
  end

  wire unused_inputs = ^{lt_data_i, mt_data_i, g_rdata_i, levels_i, nz_u_i, nz_state_i,
                         dm_rdata_i, lm_rdata_i, hm_rdata_i, fb_u_i, fb_z_i, tile[31:6],
                         cfg_i, p_q[5][31:1], p_q[2][31:6], p_q[3][31:23],
                         d3_e_q[15:0], d6_m[23:0], d8_m[23:0], d10_m[23:0], d13_v[40:16]};
endmodule
`default_nettype wire
