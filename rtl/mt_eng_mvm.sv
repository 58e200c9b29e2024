`default_nettype none
// MVM engine (docs/rtl.md, "FABRICATE, READ_CELLS and MVM engines"). Behaviour: op_mvm and
// mvm_one in hls/mt_kernel.c, with the same checks in the same order.
//
// Three units run side by side over the vectors of a batch, so that input load and ADC
// overlap the accumulation:
//   LOAD  reads a vector's input words (two rows a cycle) into one of two x banks (vector
//         v uses bank v mod 2), clips them to the DAC range and sums the squares, a
//         register stage each (read, clip, square, sum); in read_mode 2 it starts
//         isqrt(2 * sum x^2) (mt_isqrt64) for the ADC.
//   MAC   reads the conductance memory a whole tile row at a time, R rows per cycle (R
//         banks, one per row mod R, through the gr_* port), and accumulates x_i * (g+ - g-)
//         into one accumulator per column: COLS x R multipliers (at R = 1 a column's
//         multiply and accumulator are one DSP48). It follows LOAD row by row. In
//         read_mode 1 (per-cell noise) it issues one (row, lane group) per cycle instead,
//         taking each cell's two draws from lane col mod LANES in C order (row outer,
//         column inner); the draw lanes give two draws per lane per cycle, so that mode
//         runs at LANES columns per cycle.
//   ADC   takes a snapshot of the accumulators when a vector's MAC is complete (MAC then
//         goes on with the next vector), and converts two columns a cycle, picked from the
//         snapshot by a multiplexer, into one response word, in column order. In
//         read_mode 2 it adds the per-column noise on the way, one draw per column from
//         lane col mod LANES: the order of mt_gauss_columns.
// The C model's 32-bit "narrow" accumulation is only a speed trick: every sum here is exact,
// as its wide path is (AW, SQW below).
module mt_eng_mvm #(
  parameter int unsigned R = 1,  // tile rows per MAC cycle: 1, 2 or 4, dividing ROWS
`include "mt_eng_params.vh"
) (
`include "mt_eng_ports.vh"
,
  // The conductance memory, a whole row per bank (R banks: bank k holds rows = k mod R of
  // every tile, at word tile * ROWS / R + row / R), 1-cycle read latency. Bank k's row is
  // gr_rdata_i[k*COLS*32 +: COLS*32], lane group g at [g*LANES*32 +: LANES*32] laid out as
  // a gm word (g+ of lane l at 16l, g- at 16(LANES + l)).
  output logic                         gr_re_o,
  output logic [$clog2(TILES*ROWS/R)-1:0] gr_addr_o,
  input  wire  [R*COLS*32-1:0]         gr_rdata_i
);
`include "mt_protocol.vh"

  localparam int unsigned NFETCH = 4;
  localparam int unsigned DW = 22;                    // gp - gm + np - nm, signed
  localparam int unsigned PW = DW + 16;               // x * diff
  localparam int unsigned GW = GROUPS > 1 ? $clog2(GROUPS) : 1;
  localparam int unsigned RW = $clog2(ROWS + 1);
  localparam int unsigned CW = $clog2(COLS + 1);
  localparam int unsigned KW = R > 1 ? $clog2(R) : 1;
  localparam int unsigned NLAT = 5;                   // issue -> accumulator written
  localparam int unsigned GR_AW = $clog2(TILES * ROWS / R);
  localparam int unsigned XIW = ROWS > 1 ? $clog2(ROWS) : 1;
  // The sums are exact in these widths, as the C model's 64-bit ones are: a column adds
  // ROWS products of PW bits, a vector ROWS squares below 2^30. Narrower than 64 bits so
  // that a column's accumulator fits a DSP48's 48-bit P register.
  localparam int unsigned AW = PW + $clog2(ROWS) + 1;
  localparam int unsigned SQW = 31 + $clog2(ROWS) + 1;

  typedef enum logic [2:0] {S_IDLE, S_FETCH, S_PRE, S_CHECK, S_RUN, S_DONE} state_e;

  state_e      state_q;
  logic [31:0] len_q;
  logic [31:0] p_q [NFETCH];
  // Fetch of the first payload words: index fi_q issued, fd_q's read out of the payload buffer
  // (fv_q), fd2_q's word arriving (fv2_q): a payload word arrives two cycles after its address.
  logic [2:0]  fi_q, fd_q, fd2_q;
  logic        fv_q, fv2_q;
  logic [15:0] status_q;
  logic [31:0] det0_q, det1_q, nout_q;
`include "mt_eng_fail.vh"
`include "mt_gnoise.vh"

  // Command constants, taken at the check.
  logic [1:0]       mode_q;
  logic [15:0]      sigma_q, xmax_q, ymax_q, adc_mul_q;
  logic [5:0]       adc_shift_q;
  logic [RW-1:0]    nrows_q;
  logic [CW-1:0]    ncols_q;
  logic [GW:0]      ngroups_q;
  logic [31:0]      nvec_q;
  logic [PL_AW-1:0] in_words_q, out_words_q;
  logic [GR_AW-1:0] tile_base_q;   // gr word of (tile, row 0)

  // ---------------------------------------------------------------- checks
  logic [31:0] in_words, out_words, want_len, want_out, want_len_q, want_out_q;
  wire unused_words = ^{in_words[31:16], out_words[31:16]};
  assign in_words = (p_q[2] + 32'd1) >> 1;
  assign out_words = (p_q[3] + 32'd1) >> 1;
  // Only used once nvec <= MAX_BATCH, nrows <= ROWS and ncols <= COLS passed.
  assign want_len = 32'd4 + 32'(p_q[1][15:0]) * 32'(in_words[15:0]);
  assign want_out = 32'(p_q[1][15:0]) * 32'(out_words[15:0]);
  // Registered for S_CHECK (p_q is complete one cycle before it): the products and the
  // compares after them in one cycle were the AC701 device's slowest path.
  // Their compares are registered in S_PRE, one cycle more per MVM command (none per vector;
  // cap_i holds for the whole command): the products leave DSP48 output registers (1.7 ns
  // clock-to-out), and want_out_q > cap_i in front of S_CHECK's chain of checks was the
  // engine's slowest path alone (4.85 ns).
  logic len_bad_q, out_over_q;
  always_ff @(posedge clk_i) begin
    want_len_q <= want_len;
    want_out_q <= want_out;
    len_bad_q <= len_q != want_len_q;
    out_over_q <= want_out_q > cap_i;
  end
  logic tile_fab;
  assign tile_fab = fabricated_i[p_q[0][5:0]];
  logic [4:0] dac_bits, adc_bits;
  assign dac_bits = cfg_i[32*MT_CFG_DAC_BITS +: 5];
  assign adc_bits = cfg_i[32*MT_CFG_ADC_BITS +: 5];
  logic run;
  assign run = state_q == S_RUN;

  // ---------------------------------------------------------------- LOAD
  // Vector ld_vec_q into bank ld_b_q; word w holds rows 2w (bits 15:0) and 2w+1. Word
  // ld_i_q is read (its address out), la_d_q is read out of the payload buffer (la_v_q; its
  // output register), ld_d_q arrives and is clipped (ld_v_q), its codes are
  // written to the bank and squared (lc_*), and the squares are summed (lq_*): the DAC clip,
  // the square (a DSP48 with its input and output registers) and the 64-bit sum each have a
  // cycle of their own.
  typedef enum logic [1:0] {L_WAIT, L_RUN, L_SQ, L_END} lstate_e;
  lstate_e          ls_q;
  logic [31:0]      ld_vec_q;
  logic             ld_b_q;
  logic [PL_AW-1:0] ld_base_q, ld_i_q, la_d_q, ld_d_q, lc_d_q;
  logic             la_v_q, ld_v_q, lc_v_q, lq_v_q;
  logic signed [15:0] lc_x0_q, lc_x1_q;          // the word's clipped codes
  logic             lc_hi_q;                     // its second row is < nrows
  logic [31:0]      lq_sq0_q, lq_sq1_q;
  logic [SQW-1:0]   sum_sq_q;
  logic [15:0]      xv_q [2][ROWS];
  logic [1:0]       x_busy_q;                    // bank holds a vector not yet through MAC
  logic [PL_AW-1:0] x_words_q [2];               // words of the bank written so far
  logic [1:0]       root_ok_q;
  logic [31:0]      root_q [2];

  function automatic logic [16:0] dac_clip(input logic [15:0] v, input logic [15:0] xmax);
    // {clipped, value}
    if ($signed(v) > $signed({1'b0, xmax[14:0]})) dac_clip = {1'b1, xmax};
    else if ($signed(v) < -$signed({1'b0, xmax[14:0]})) dac_clip = {1'b1, 16'(-xmax)};
    else dac_clip = {1'b0, v};
  endfunction
  logic [16:0] ld_c0, ld_c1;
  logic        ld_hi_row;
  assign ld_c0 = dac_clip(pl_data_i[15:0], xmax_q);
  assign ld_c1 = dac_clip(pl_data_i[31:16], xmax_q);
  assign ld_hi_row = 2 * 32'(ld_d_q) + 1 < 32'(nrows_q);
  // The word's DAC clips, counted from the lc_ stage: straight from the payload RAM's output
  // onto the shared counter bus this was the whole device's slowest path (7.6 ns on Artix-7).
  logic [1:0] lc_clips_q;
  logic ld_go, ld_end;
  assign ld_go = run && ls_q == L_RUN && ld_i_q < in_words_q;
  // The vector is loaded once its last square is in the sum.
  assign ld_end = run && ls_q == L_RUN && !la_v_q && !ld_v_q && !lc_v_q && !lq_v_q &&
                  ld_i_q >= in_words_q;
  always_ff @(posedge clk_i) begin
    lc_x0_q <= ld_c0[15:0];
    lc_x1_q <= ld_c1[15:0];
    lc_hi_q <= ld_hi_row;
    lc_d_q <= ld_d_q;
    lc_clips_q <= rst_i || !ld_v_q ? 2'd0 : 2'(ld_c0[16]) + 2'(ld_c1[16] && ld_hi_row);
    lq_sq0_q <= 32'(lc_x0_q * lc_x0_q);
    lq_sq1_q <= lc_hi_q ? 32'(lc_x1_q * lc_x1_q) : 32'd0;
  end

  // read_mode 2: isqrt(2 sum x^2) of the loaded vector, for the ADC. The root of bank
  // sq_b_q is pending while sq_pend_q; the next vector's load goes on meanwhile and only
  // waits (L_SQ) if it ends before that root is out (fewer words than the root's 32 cycles).
  logic        sq_valid, sq_pend_q, sq_b_q, sq_start;
  logic [31:0] sq_root;
  assign sq_start = mode_q == 2'd2 && !sq_pend_q && (ld_end || run && ls_q == L_SQ);
  mt_isqrt64 u_isqrt (
    .clk_i, .rst_i,
    .start_i(sq_start),
    .v_i({(63 - SQW)'(0), sum_sq_q, 1'b0}),
    .valid_o(sq_valid),
    .root_o(sq_root)
  );

  // ---------------------------------------------------------------- MAC issue
  // Vector mc_vec_q from bank mc_b_q; row mc_r_q (a multiple of R except in read_mode 1),
  // group mc_g_q (read_mode 1 only).
  typedef enum logic {M_RUN, M_STOP} mstate_e;
  mstate_e       ms_q;
  logic [31:0]   mc_vec_q;
  logic          mc_b_q;
  logic [RW-1:0] mc_r_q;
  logic [GW:0]   mc_g_q;
  logic          mode1;
  assign mode1 = mode_q == 2'd1;
  // What the issue condition and the issue need of a position (row, group) is computed a
  // cycle ahead and registered (mcp_*_q), for the position held (h = 0) and for the one an
  // issue advances to (h = 1), chosen by mc_go: the compares against the command's sizes and
  // the gr address add are then off the path from the loaded-word count to the issue. After
  // a start the held position's values are stale for one cycle, in which no issue can happen
  // (no bank is loaded yet).
  logic [LANES-1:0] mcp_gmask_q;
  logic [RW:0]      mcp_need_q;
  logic             mcp_last_g_q, mcp_last_q, mcp_first_q, mcp_row0_q;
  logic [GR_AW-1:0] mcp_addr_q;
  (* mem2reg *) logic [RW-1:0]    cp_r [2];
  (* mem2reg *) logic [GW:0]      cp_g [2];
  // Per position: the group's lanes that are columns < ncols, the rows that must be loaded.
  (* mem2reg *) logic [LANES-1:0] cp_gmask [2];
  (* mem2reg *) logic [RW:0]      cp_need [2];
  logic [1:0]       cp_last_g, cp_last, cp_first, cp_row0;
  (* mem2reg *) logic [GR_AW-1:0] cp_addr [2];
  always_comb begin
    cp_r[0] = mc_r_q;
    cp_g[0] = mc_g_q;
    if (mcp_last_q) begin
      cp_r[1] = '0;
      cp_g[1] = '0;
    end else if (!mcp_last_g_q) begin
      cp_r[1] = mc_r_q;
      cp_g[1] = mc_g_q + 1'b1;
    end else begin
      cp_r[1] = mc_r_q + (mode1 ? RW'(1) : RW'(R));
      cp_g[1] = '0;
    end
    for (int h = 0; h < 2; h++) begin
      for (int l = 0; l < LANES; l++)
        cp_gmask[h][l] = 32'(cp_g[h]) * LANES + 32'(l) < 32'(ncols_q);
      cp_need[h] = mode1 ? (RW+1)'(cp_r[h]) + 1 : (RW+1)'(cp_r[h]) + (RW+1)'(R);
      if (cp_need[h] > (RW+1)'(nrows_q)) cp_need[h] = (RW+1)'(nrows_q);
      cp_last_g[h] = !mode1 || cp_g[h] == ngroups_q - 1;
      cp_last[h] = cp_last_g[h] && 32'(cp_r[h]) + (mode1 ? 32'd1 : 32'(R)) >= 32'(nrows_q);
      cp_first[h] = cp_r[h] == 0 && cp_g[h] == 0;
      cp_row0[h] = cp_r[h] == 0;
      cp_addr[h] = tile_base_q + GR_AW'(32'(cp_r[h]) / R);
    end
  end
  always_ff @(posedge clk_i) begin
    mcp_gmask_q <= cp_gmask[mc_go];
    mcp_need_q <= cp_need[mc_go];
    mcp_last_g_q <= cp_last_g[mc_go];
    mcp_last_q <= cp_last[mc_go];
    mcp_first_q <= cp_first[mc_go];
    mcp_row0_q <= cp_row0[mc_go];
    mcp_addr_q <= cp_addr[mc_go];
  end
  logic lanes_ok;
  assign lanes_ok = &(nz_avail_i | ~mcp_gmask_q);
  // A vector's first issue must not reach the accumulators (5 cycles later) before the
  // previous vector's snapshot: it waits while that snapshot is pending and the ADC is busy
  // (mc_first_ok, from the ADC below). A vector's last issue waits for its root (read_mode 2)
  // and for the previous snapshot (mc_last_ok), so that at most one is pending.
  logic mc_go, mc_first_ok, mc_last_ok;
  assign mc_go = run && ms_q == M_RUN && x_busy_q[mc_b_q] &&
                 32'(x_words_q[mc_b_q]) * 2 >= 32'(mcp_need_q) && (!mode1 || lanes_ok) &&
                 (!mcp_first_q || mc_first_ok) && (!mcp_last_q || mc_last_ok);
  logic [KW-1:0] mc_k;                           // slot of the row in read_mode 1
  assign mc_k = KW'(32'(mc_r_q) % R);
  logic [RW-1:0] mc_rbase;
  assign mc_rbase = mc_r_q - RW'(mc_k);

  // Issue registers (m1), then per-stage valid/first/column-enable controls.
  logic [R*16-1:0]     m1_x_q;
  // read_mode 1's per-lane noise products sigma * z + 2^11 (mt_gnoise before its shift), taken
  // from the lanes' draws at the issue (DSP48s with their output registers): computed from
  // registered draws at m1 -> m2, the two products and the subtract behind them in one cycle
  // were the engine's slowest path alone (4.60 ns at t14e 0b29bc2).
  (* mem2reg *) logic signed [33:0] m1_pp_q [LANES];
  (* mem2reg *) logic signed [33:0] m1_pn_q [LANES];
  logic [LANES*24-1:0] m1_low;   // the bits the shift drops
  for (genvar l = 0; l < LANES; l++) begin : g_m1_low
    assign m1_low[24*l +: 24] = {m1_pp_q[l][11:0], m1_pn_q[l][11:0]};
  end
  wire unused_m1_low = ^m1_low;
  logic [NLAT:1]       mv_q, mfirst_q, mlast_q;
  // (* mem2reg *): small arrays of pipeline or per-lane registers, flip-flops by intent (Yosys
  // would otherwise warn that it replaces each "memory" with a list of registers).
  (* mem2reg *) logic [GW-1:0]       mg_q [NLAT:1];

  // The inputs of the issued rows: 0 for rows >= nrows and, in read_mode 1, for the rows of
  // the block other than the issued one.
  logic [R*16-1:0] mc_x;
  always_comb
    for (int k = 0; k < R; k++) begin
      mc_x[16*k +: 16] = 16'd0;
      if ((RW+1)'(mc_rbase) + (RW+1)'(k) < (RW+1)'(nrows_q) && (!mode1 || KW'(k) == mc_k))
        mc_x[16*k +: 16] = xv_q[mc_b_q][XIW'(32'(mc_rbase) + 32'(k))];
    end

  always_ff @(posedge clk_i) begin
    if (mc_go) begin
      m1_x_q <= mc_x;
      for (int l = 0; l < LANES; l++) begin
        m1_pp_q[l] <= gnoise_p(sigma_q, nz_z_i[32*l +: 16]);
        m1_pn_q[l] <= gnoise_p(sigma_q, nz_z_i[32*l+16 +: 16]);
      end
      mfirst_q[1] <= mcp_row0_q;
      mlast_q[1] <= mcp_last_q;
      mg_q[1] <= GW'(mc_g_q);
    end
    for (int s = 2; s <= NLAT; s++) begin
      mfirst_q[s] <= mfirst_q[s-1];
      mlast_q[s] <= mlast_q[s-1];
      mg_q[s] <= mg_q[s-1];
    end
  end

  // m1 -> m2: the memory row arrives, in the memories' output registers (gr_rdata_i is the
  // row of the issue two cycles back: that register is the m2 row register); read_mode 1's
  // per-lane noise n+ - n- (one draw pair per lane, the lane's column of the group).
  logic [R*COLS*32-1:0]    m2_row;
  assign m2_row = gr_rdata_i;
  (* mem2reg *) logic signed [DW-1:0]    m2_nz_q [LANES];
  logic [R*16-1:0]         m2_x_q;
  always_ff @(posedge clk_i) begin
    m2_x_q <= m1_x_q;
    for (int l = 0; l < LANES; l++)
      m2_nz_q[l] <= mode1 ? $signed(m1_pp_q[l][33:12]) - $signed(m1_pn_q[l][33:12]) : '0;
  end

  // m2 -> m3 operands; then at R = 1 m3 -> m4 operands again -> m5 product, and at R > 1
  // m3 -> m4 products -> m5 sum over the R rows; m5 -> accumulator. At R = 1 that is a
  // DSP48's A/B (two registers), M and P registers, the accumulator P with its clear at a
  // vector's first row as the feedback's Z multiplexer: no fabric logic past m3.
  (* mem2reg *) logic signed [AW-1:0] acc_q [COLS];
  (* mem2reg *) logic signed [AW-1:0] hold_q [COLS];           // the ADC's snapshot (below)
  logic                 snap;
  for (genvar c = 0; c < COLS; c++) begin : g_col
    localparam int unsigned G = c / LANES, L = c % LANES;
    (* mem2reg *) logic signed [DW-1:0] m3_b_q [R];
    (* mem2reg *) logic signed [15:0]   m3_a_q [R];
    for (genvar k = 0; k < R; k++) begin : g_row
      logic [15:0] gp, gn;
      assign gp = m2_row[k*COLS*32 + G*LANES*32 + 16*L +: 16];
      assign gn = m2_row[k*COLS*32 + G*LANES*32 + 16*(LANES + L) +: 16];
      always_ff @(posedge clk_i) begin
        m3_a_q[k] <= m2_x_q[16*k +: 16];
        m3_b_q[k] <= $signed(DW'(gp)) - $signed(DW'(gn)) + m2_nz_q[L];
      end
    end
    logic signed [AW-1:0] m5_s;
    if (R == 1) begin : g_dsp
      // The product register at the product's own width: Yosys 0.23 packs the accumulator
      // into the DSP only then (not with an AW-bit product at 128x128).
      logic signed [DW-1:0] m4_b_q;
      logic signed [15:0]   m4_a_q;
      logic signed [PW-1:0] m5_p_q;
      always_ff @(posedge clk_i) begin
        m4_a_q <= m3_a_q[0];
        m4_b_q <= m3_b_q[0];
        m5_p_q <= m4_a_q * m4_b_q;
      end
      assign m5_s = AW'(m5_p_q);
    end else begin : g_sum
      logic signed [PW-1:0] m4_p_q [R];
      logic signed [AW-1:0] sum, m5_s_q;
      always_comb begin
        sum = '0;
        for (int k = 0; k < R; k++) sum = sum + AW'(m4_p_q[k]);
      end
      always_ff @(posedge clk_i) begin
        for (int k = 0; k < R; k++) m4_p_q[k] <= m3_a_q[k] * m3_b_q[k];
        m5_s_q <= sum;
      end
      assign m5_s = m5_s_q;
    end
    logic en;
    assign en = mv_q[NLAT] && (!mode1 || mg_q[NLAT] == GW'(G));
    always_ff @(posedge clk_i) begin
      if (en) acc_q[c] <= (mfirst_q[NLAT] ? AW'(0) : acc_q[c]) + m5_s;
      if (snap) hold_q[c] <= acc_q[c];
    end
  end

  // ---------------------------------------------------------------- ADC
  // Snapshot of a complete vector's accumulators (hold_q, loaded and then left alone), and
  // the pair of columns of word a_w_q out of it: each pair padded to a power of two, so that
  // the pick is a COLS/2:1 multiplexer per bit and not a barrel shifter.
  localparam int unsigned HSH = $clog2(2 * AW);
  localparam int unsigned PAW = COLS > 2 ? $clog2(COLS / 2) : 1;
  typedef enum logic {A_IDLE, A_RUN} astate_e;
  astate_e          as_q;
  logic [(COLS/2 << HSH)-1:0] hold_pairs;
  logic [2*AW-1:0]  a_pair;
  logic [PL_AW-1:0] a_base_q, a_w_q;
  // The lanes of columns 2 a_w_q and 2 a_w_q + 1, one-hot (a rotation, no index arithmetic
  // in front of the lane multiplexers and nz_take_o: a lane index plus one there was the U250
  // device's slowest path), and whether the word's second column is < ncols.
  logic [LANES-1:0] a_oh_q, a_oh1;
  logic             a_odd_q;
  function automatic logic [LANES-1:0] rotl(input logic [LANES-1:0] v, input int n);
    for (int l = 0; l < LANES; l++) rotl[(l + n) % LANES] = v[l];
  endfunction
  assign a_oh1 = rotl(a_oh_q, 1);
  always_comb begin
    hold_pairs = '0;
    for (int p = 0; p < COLS / 2; p++)
      hold_pairs[(p << HSH) +: 2*AW] = {hold_q[2*p+1], hold_q[2*p]};
    a_pair = hold_pairs[{a_w_q[PAW-1:0], HSH'(0)} +: 2*AW];
  end
  logic [47:0]      amp_q;                       // sigma * isqrt(2 sum x^2)
  logic [39:0]      amp_lo_q;                    // its two partial products
  logic [23:0]      amp_hi_q;
  logic             amp_v_q;                     // they were taken last cycle
  logic [31:0]      a_left_q;                    // vectors still to convert
  // A vector's snapshot is pending from its last issue (snp_pend_q) and may be taken from
  // the cycle after its last accumulation was written (snp_rdy_q) once the ADC is idle. The
  // next vector's first write comes no earlier than that cycle (mc_first_ok), and a snapshot
  // in the cycle of that write still reads the old value. The root (read_mode 2) was taken
  // at the last issue, as the bank may be reloaded meanwhile.
  logic             snp_rdy_q, snp_pend_q;
  logic [31:0]      nroot_q;
  assign snap = run && snp_rdy_q && as_q == A_IDLE;
  assign mc_first_ok = !snp_pend_q || as_q == A_IDLE;
  assign mc_last_ok = !snp_pend_q && (mode_q != 2'd2 || root_ok_q[mc_b_q]);
  // (In A_RUN a_w_q < out_words_q: the last word returns to A_IDLE.)
  logic a_go;
  assign a_go = run && as_q == A_RUN &&
                (mode_q != 2'd2 || |(nz_avail_i & a_oh_q) && (!a_odd_q || |(nz_avail_i & a_oh1)));
  logic [15:0] a_z0, a_z1;                       // the two lanes' draws (one-hot AND-OR)
  always_comb begin
    a_z0 = '0;
    a_z1 = '0;
    for (int l = 0; l < LANES; l++) begin
      if (a_oh_q[l]) a_z0 = a_z0 | nz_z_i[32*l +: 16];
      if (a_oh1[l]) a_z1 = a_z1 | nz_z_i[32*l +: 16];
    end
  end

  localparam int unsigned NA = 10;               // ADC stages a1 .. a10
  logic [NA:1]       av_q;
  logic [NA:1]       aodd_q;
  (* mem2reg *) logic [PL_AW-1:0]  aw_q [NA:1];
  (* mem2reg *) logic signed [63:0] a1_acc_q [2], a2_acc_q [2], a3_acc_q [2], a4_s_q [2];
  (* mem2reg *) logic signed [15:0] a1_z_q [2];
  (* mem2reg *) logic signed [40:0] a2_plo_q [2], a2_phi_q [2];
  (* mem2reg *) logic signed [63:0] a3_np_q [2];
  (* mem2reg *) logic [39:0]        a5_p0_q [2], a5_p1_q [2];
  (* mem2reg *) logic [15:0]        a5_p2_q [2], a6_p2_q [2];
  (* mem2reg *) logic [63:0]        a6_u_q [2], a7_m_q [2];
  (* mem2reg *) logic signed [64:0] a8_t_q [2], a9_y_q [2];
  (* mem2reg *) logic [16:0]        a10_y_q [2];
  logic signed [64:0] bias;
  assign bias = adc_shift_q != 0 ? 65'sd1 <<< (adc_shift_q - 6'd1) : 65'sd0;

  always_ff @(posedge clk_i) begin
    // amp = nroot * sigma (32x16) as two products that fit a DSP48 each (24x16 and 8x16),
    // registered at the snapshot and added in the next cycle: as one product it was two
    // cascaded DSPs feeding the read-noise DSPs' A registers, the engine's slowest path alone
    // (4.73 ns). amp_q is first read by a2, two cycles after the snapshot; the previous
    // vector's last word read it in the cycle of the snapshot at the latest.
    if (snap) begin
      amp_lo_q <= 40'(nroot_q[23:0]) * 40'(sigma_q);
      amp_hi_q <= 24'(nroot_q[31:24]) * 24'(sigma_q);
    end
    amp_v_q <= snap;
    if (amp_v_q) amp_q <= 48'(amp_lo_q) + {amp_hi_q, 24'd0};
    if (a_go) begin
      a1_acc_q[0] <= 64'($signed(a_pair[AW-1:0]));
      a1_acc_q[1] <= 64'($signed(a_pair[2*AW-1:AW]));
      a1_z_q[0] <= a_z0;
      a1_z_q[1] <= a_z1;
    end
    for (int k = 0; k < 2; k++) begin
      // Read noise of read_mode 2: mt_gnoise(amp, z) = floor((amp*z + 2^11) / 2^12), amp of 48
      // bits. amp*z as two registered 24x16 products (one DSP each, no cascade) that the
      // next stage adds; the rounding's 2^11 fills the zero low bits of the high half's shift.
      a2_plo_q[k] <= $signed({1'b0, amp_q[23:0]}) * 41'(a1_z_q[k]);
      a2_phi_q[k] <= $signed({1'b0, amp_q[47:24]}) * 41'(a1_z_q[k]);
      a2_acc_q[k] <= a1_acc_q[k];
      a3_np_q[k] <= mode_q == 2'd2 ? $signed({a2_phi_q[k][39:0], 24'h000800}) + 64'(a2_plo_q[k])
                                   : 64'sd0;
      a3_acc_q[k] <= a2_acc_q[k];
      a4_s_q[k] <= a3_acc_q[k] + (a3_np_q[k] >>> 12);
      // The model's int64 product s * adc_mul (mod 2^64) from the 24-bit parts of s, one DSP
      // each and no cascade: s[23:0]*mul + (s[47:24]*mul << 24) + (s[63:48]*mul << 48), of which
      // the last keeps only its low 16 bits. Then the first two are added (40 bits above bit
      // 24), then the third (16 bits above bit 48).
      a5_p0_q[k] <= 40'(a4_s_q[k][23:0]) * 40'(adc_mul_q);
      a5_p1_q[k] <= 40'(a4_s_q[k][47:24]) * 40'(adc_mul_q);
      a5_p2_q[k] <= 16'(a4_s_q[k][63:48] * adc_mul_q);
      a6_u_q[k] <= {a5_p1_q[k] + 40'(a5_p0_q[k][39:24]), a5_p0_q[k][23:0]};
      a6_p2_q[k] <= a5_p2_q[k];
      a7_m_q[k] <= {a6_u_q[k][63:48] + a6_p2_q[k], a6_u_q[k][47:0]};
      // mt_round_shift(p, s), then the ADC clip to +-ymax: {clipped, code}.
      a8_t_q[k] <= $signed({a7_m_q[k][63], a7_m_q[k]}) + bias;
      a9_y_q[k] <= a8_t_q[k] >>> adc_shift_q;
      if (a9_y_q[k] > $signed({49'd0, ymax_q})) a10_y_q[k] <= {1'b1, ymax_q};
      else if (a9_y_q[k] < -$signed({49'd0, ymax_q})) a10_y_q[k] <= {1'b1, 16'(-ymax_q)};
      else a10_y_q[k] <= {1'b0, a9_y_q[k][15:0]};
    end
    aw_q[1] <= a_base_q + a_w_q;
    aodd_q[1] <= a_odd_q;
    for (int s = 2; s <= NA; s++) begin
      aw_q[s] <= aw_q[s-1];
      aodd_q[s] <= aodd_q[s-1];
    end
  end

  // ---------------------------------------------------------------- control
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      state_q <= S_IDLE;
      fv_q <= 1'b0;
      fv2_q <= 1'b0;
      la_v_q <= 1'b0;
      ld_v_q <= 1'b0;
      lc_v_q <= 1'b0;
      lq_v_q <= 1'b0;
      mv_q <= '0;
      av_q <= '0;
      ls_q <= L_WAIT;
      ms_q <= M_STOP;
      snp_rdy_q <= 1'b0;
      snp_pend_q <= 1'b0;
      as_q <= A_IDLE;
      x_busy_q <= '0;
      root_ok_q <= '0;
      sq_pend_q <= 1'b0;
    end else begin
      mv_q <= {mv_q[NLAT-1:1], mc_go};
      fv2_q <= fv_q && state_q == S_FETCH;
      fd2_q <= fd_q;
      if (snap) begin
        snp_rdy_q <= 1'b0;
        snp_pend_q <= 1'b0;
      end else if (mv_q[NLAT] && mlast_q[NLAT]) begin
        snp_rdy_q <= 1'b1;
      end
      av_q <= {av_q[NA-1:1], a_go};
      case (state_q)
        S_IDLE: if (start_i) begin
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
          if (fv2_q) p_q[fd2_q[1:0]] <= pl_data_i;
          fd_q <= fi_q;
          if (32'(fi_q) < len_q && fi_q < 3'(NFETCH)) begin
            fv_q <= 1'b1;
            fi_q <= fi_q + 3'd1;
          end else begin
            fv_q <= 1'b0;
            if (!fv_q && !fv2_q) state_q <= S_PRE;
          end
        end
        S_PRE: state_q <= S_CHECK;               // len_bad_q, out_over_q
        S_CHECK: begin
          state_q <= S_DONE;
          if (len_q < 4) fail(MT_ST_ERR_LENGTH, len_q, 32'd4);
          else if (p_q[0] >= TILES) fail(MT_ST_ERR_TILE, 32'd0, p_q[0]);
          else if (!configured_i) fail(MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, p_q[0]);
          else if (!tile_fab) fail(MT_ST_ERR_STATE, MT_STATE_NOT_FABRICATED, p_q[0]);
          else if (p_q[1] == 0 || p_q[1] > MT_MAX_BATCH) fail(MT_ST_ERR_RANGE, 32'd1, p_q[1]);
          else if (p_q[2] == 0 || p_q[2] > ROWS) fail(MT_ST_ERR_RANGE, 32'd2, p_q[2]);
          else if (p_q[3] == 0 || p_q[3] > COLS) fail(MT_ST_ERR_RANGE, 32'd3, p_q[3]);
          else if (len_bad_q) fail(MT_ST_ERR_LENGTH, len_q, want_len_q);
          else if (out_over_q) fail(MT_ST_ERR_OVERFLOW, want_out_q, cap_i);
          else begin
            nout_q <= want_out_q;
            mode_q <= cfg_i[32*MT_CFG_READ_MODE +: 2];
            sigma_q <= cfg_i[32*MT_CFG_READ_SIGMA +: 16];
            xmax_q <= 16'((17'd1 << (dac_bits - 5'd1)) - 17'd1);
            ymax_q <= 16'((17'd1 << (adc_bits - 5'd1)) - 17'd1);
            adc_mul_q <= cfg_i[32*MT_CFG_ADC_MUL +: 16];
            adc_shift_q <= cfg_i[32*MT_CFG_ADC_SHIFT +: 6];
            nrows_q <= RW'(p_q[2]);
            ncols_q <= CW'(p_q[3]);
            ngroups_q <= (GW+1)'((p_q[3] + LANES - 1) / LANES);
            nvec_q <= p_q[1];
            in_words_q <= PL_AW'(in_words);
            out_words_q <= PL_AW'(out_words);
            tile_base_q <= GR_AW'(p_q[0] * (ROWS / R));
            // LOAD, MAC and ADC start on vector 0.
            ld_vec_q <= 32'd0;
            ld_b_q <= 1'b0;
            ld_base_q <= PL_AW'(4);
            ls_q <= L_WAIT;
            mc_vec_q <= 32'd0;
            mc_b_q <= 1'b0;
            mc_r_q <= '0;
            mc_g_q <= '0;
            ms_q <= M_RUN;
            snp_pend_q <= 1'b0;
            snp_rdy_q <= 1'b0;
            a_base_q <= '0;
            a_left_q <= p_q[1];
            as_q <= A_IDLE;
            x_busy_q <= '0;
            root_ok_q <= '0;
            sq_pend_q <= 1'b0;
            state_q <= S_RUN;
          end
        end
        S_RUN: begin
          // LOAD
          case (ls_q)
            L_WAIT: if (!x_busy_q[ld_b_q]) begin
              x_busy_q[ld_b_q] <= 1'b1;
              x_words_q[ld_b_q] <= '0;
              root_ok_q[ld_b_q] <= 1'b0;
              ld_i_q <= '0;
              la_v_q <= 1'b0;
              ld_v_q <= 1'b0;
              lc_v_q <= 1'b0;
              lq_v_q <= 1'b0;
              sum_sq_q <= '0;
              ls_q <= L_RUN;
            end
            L_RUN: begin
              la_d_q <= ld_i_q;
              la_v_q <= ld_go;
              ld_d_q <= la_d_q;
              ld_v_q <= la_v_q;
              lc_v_q <= ld_v_q;
              lq_v_q <= lc_v_q;
              if (ld_go) ld_i_q <= ld_i_q + 1'b1;
              if (lc_v_q) begin
                xv_q[ld_b_q][XIW'(2 * 32'(lc_d_q))] <= lc_x0_q;
                if (lc_hi_q) xv_q[ld_b_q][XIW'(2 * 32'(lc_d_q) + 1)] <= lc_x1_q;
                x_words_q[ld_b_q] <= lc_d_q + 1'b1;
              end
              if (lq_v_q) sum_sq_q <= sum_sq_q + SQW'(lq_sq0_q) + SQW'(lq_sq1_q);
              if (ld_end) begin
                if (mode_q == 2'd2 && sq_pend_q) ls_q <= L_SQ;
                else next_load();
              end
            end
            L_SQ: if (sq_start) next_load();
            default: ;                           // L_END: every vector is loaded
          endcase
          if (sq_start) begin
            sq_pend_q <= 1'b1;
            sq_b_q <= ld_b_q;
          end else if (sq_pend_q && sq_valid) begin
            sq_pend_q <= 1'b0;
            root_q[sq_b_q] <= sq_root;
            root_ok_q[sq_b_q] <= 1'b1;
          end

          // MAC
          case (ms_q)
            M_RUN: if (mc_go) begin
              mc_r_q <= cp_r[1];
              mc_g_q <= cp_g[1];
              if (mcp_last_q) begin
                // The bank's inputs are all issued: LOAD may refill it.
                x_busy_q[mc_b_q] <= 1'b0;
                mc_b_q <= !mc_b_q;
                mc_vec_q <= mc_vec_q + 32'd1;
                snp_pend_q <= 1'b1;
                nroot_q <= root_q[mc_b_q];
                if (mc_vec_q + 1 >= nvec_q) ms_q <= M_STOP;
              end
            end
            default: ;                           // M_STOP: every vector is issued
          endcase

          // ADC
          case (as_q)
            A_IDLE: if (snap) begin
              a_w_q <= '0;
              a_oh_q <= LANES'(1);
              a_odd_q <= 32'(ncols_q) > 1;
              as_q <= A_RUN;
            end
            A_RUN: if (a_go) begin
              a_w_q <= a_w_q + 1'b1;
              a_oh_q <= rotl(a_oh_q, 2);
              a_odd_q <= 2 * 32'(a_w_q) + 3 < 32'(ncols_q);
              if (a_w_q + 1'b1 == out_words_q) begin
                // Every word of the vector is issued: the next snapshot may come while these
                // drain (they carry their response address).
                a_base_q <= a_base_q + out_words_q;
                a_left_q <= a_left_q - 32'd1;
                as_q <= A_IDLE;
              end
            end
            default: as_q <= A_IDLE;
          endcase
          if (a_left_q == 0 && av_q == '0) state_q <= S_DONE;
        end
        S_DONE: state_q <= S_IDLE;
        default: state_q <= S_IDLE;
      endcase
    end
  end

  task automatic next_load();
    if (ld_vec_q + 1 < nvec_q) begin
      ld_vec_q <= ld_vec_q + 32'd1;
      ld_b_q <= !ld_b_q;
      ld_base_q <= ld_base_q + in_words_q;
      ls_q <= L_WAIT;
    end else begin
      ls_q <= L_END;
    end
  endtask

  // ---------------------------------------------------------------- outputs (0 when idle)
  always_comb begin
`include "mt_eng_idle.vh"
    done_o = state_q == S_DONE;
`include "mt_eng_done.vh"
    gr_re_o = mc_go;
    gr_addr_o = mc_go ? mcp_addr_q : '0;

    if (state_q == S_FETCH) pl_addr_o = PL_AW'(fi_q);
    else if (ld_go) pl_addr_o = ld_base_q + ld_i_q;

    for (int l = 0; l < LANES; l++)
      if (mc_go && mode1 && mcp_gmask_q[l]) nz_take_o[2*l +: 2] = 2'd2;
    if (a_go && mode_q == 2'd2) begin
      for (int l = 0; l < LANES; l++)
        if (a_oh_q[l] || a_odd_q && a_oh1[l]) nz_take_o[2*l +: 2] = 2'd1;
    end

    if (av_q[NA]) begin
      rsp_we_o = 1'b1;
      rsp_addr_o = aw_q[NA];
      rsp_data_o = {aodd_q[NA] ? a10_y_q[1][15:0] : 16'd0, a10_y_q[0][15:0]};
      cnt_inc_o[32*MT_CNT_ADC_CLIPS +: 32] = 32'(a10_y_q[0][16]) + 32'(a10_y_q[1][16] && aodd_q[NA]);
    end

    cnt_inc_o[32*MT_CNT_DAC_CLIPS +: 32] = 32'(lc_clips_q);
    if (ld_end) begin
      cnt_inc_o[32*MT_CNT_MVMS +: 32] = 32'd1;
      cnt_inc_o[32*MT_CNT_DAC_CONVERSIONS +: 32] = 32'(nrows_q);
      cnt_inc_o[32*MT_CNT_ADC_CONVERSIONS +: 32] = 32'(ncols_q);
    end
  end

  wire unused_inputs = ^{levels_i, lt_data_i, mt_data_i, g_rdata_i, nz_u_i, nz_state_i,
                         fb_avail_i, fb_u_i, fb_z_i, gm_rdata_i, dm_rdata_i, lm_rdata_i,
                         hm_rdata_i, cfg_i, p_q[0][31:6], op_i, fd2_q[2]};
endmodule
`default_nettype wire
