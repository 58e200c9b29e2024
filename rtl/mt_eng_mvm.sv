`default_nettype none
// MVM engine (docs/rtl.md, "FABRICATE, READ_CELLS and MVM engines"). Behaviour: op_mvm and
// mvm_one in hls/mt_kernel.c, with the same checks in the same order.
//
// Per vector: LOAD reads the input words, clips them to the DAC range into x_q (two rows a
// cycle) and sums the squares; MAC streams the tile, one (row, lane group) gm word per cycle,
// row-major, all LANES columns of the group at once: that is the per-lane order of the C
// loops (row outer, column inner), so per-cell read noise (read_mode 1) takes each lane's
// draws in C order. Mode 2 then adds one draw per column, group by group (the per-lane
// order of mt_gauss_columns), scaled by sigma * isqrt(2 * sum x^2) from mt_isqrt64, which
// runs during MAC. ADC turns two columns a cycle into one output word.
//
// MAC and the mode-2 noise share a 4-stage pipeline per lane:
//   m1  the issue registers: group, x (or the Gaussian), the draws; gm word arrives
//   m2  operands: x and gp - gm (+ read noise), or z and the amplitude
//   m3  the product (64-bit)
//   acc acc[group][lane] = (first row ? 0 : acc) + product (noise: rounded product >> 12)
// The accumulators are read and written in the same cycle, so back-to-back updates of one
// group (GROUPS = 1) need no forwarding. The C model's 32-bit "narrow" accumulation is only a
// speed trick: every sum here is exact in 64 bits, as its wide path is.
module mt_eng_mvm #(
`include "mt_eng_params.vh"
) (
`include "mt_eng_ports.vh"
);
`include "mt_protocol.vh"

  localparam int unsigned NFETCH = 4;
  localparam int unsigned XW = (ROWS + 1) / 2;        // x_q words: two rows each
  localparam int unsigned DW = 22;                    // gp - gm + np - nm, signed
  localparam int unsigned BW = 49;                    // second multiplier operand, signed
  localparam int unsigned GW = GROUPS > 1 ? $clog2(GROUPS) : 1;
  localparam int unsigned XAW = XW > 1 ? $clog2(XW) : 1;

  typedef enum logic [3:0] {
    S_IDLE, S_FETCH, S_CHECK, S_LOAD, S_MAC, S_NOISE, S_DRAIN, S_ADC, S_NEXT, S_DONE
  } state_e;

  state_e      state_q;
  logic [31:0] len_q;
  logic [31:0] p_q [NFETCH];
  logic [2:0]  fi_q, fd_q;
  logic        fv_q;
  logic [15:0] status_q;
  logic [31:0] det0_q, det1_q, nout_q;
`include "mt_eng_fail.vh"

  // Command constants, taken at the check.
  logic [1:0]  mode_q;
  logic [15:0] sigma_q, xmax_q, ymax_q, adc_mul_q;
  logic [5:0]  adc_shift_q;
  logic [31:0] nrows_q, ncols_q, ngroups_q, in_words_q, out_words_q;
  logic [MEM_AW-1:0] tile_base_q;   // address of (tile, row 0, group 0)

  // ---------------------------------------------------------------- checks
  logic [31:0] in_words, out_words, want_len, want_out;
  assign in_words = (p_q[2] + 32'd1) >> 1;
  assign out_words = (p_q[3] + 32'd1) >> 1;
  // Only used once nvec <= MAX_BATCH, nrows <= ROWS and ncols <= COLS passed.
  assign want_len = 32'd4 + 32'(p_q[1][15:0]) * 32'(in_words[15:0]);
  assign want_out = 32'(p_q[1][15:0]) * 32'(out_words[15:0]);
  logic tile_fab;
  assign tile_fab = fabricated_i[p_q[0][5:0]];
  logic [4:0] dac_bits, adc_bits;
  assign dac_bits = cfg_i[32*MT_CFG_DAC_BITS +: 5];
  assign adc_bits = cfg_i[32*MT_CFG_ADC_BITS +: 5];

  // ---------------------------------------------------------------- vector loop
  logic [31:0]      vec_q;                       // vectors left after this one
  logic [PL_AW-1:0] in_base_q, out_base_q;       // payload / response word of the vector

  // LOAD: word w holds rows 2w (bits 15:0) and 2w+1.
  logic [31:0] ld_i_q, ld_d_q;
  logic        ld_v_q;
  logic [31:0] x_q [XW];
  logic [63:0] sum_sq_q;
  // Clipped pair of the arriving word; the high half counts only if it is a row.
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
  assign ld_hi_row = 2 * ld_d_q + 1 < nrows_q;
  logic [31:0] ld_sq0, ld_sq1;
  assign ld_sq0 = 32'($signed(ld_c0[15:0]) * $signed(ld_c0[15:0]));
  assign ld_sq1 = ld_hi_row ? 32'($signed(ld_c1[15:0]) * $signed(ld_c1[15:0])) : 32'd0;
  logic [1:0] ld_clips;
  assign ld_clips = ld_v_q ? 2'(ld_c0[16]) + 2'(ld_c1[16] && ld_hi_row) : 2'd0;
  logic ld_end;                                  // LOAD's last cycle: sum_sq_q is final
  assign ld_end = state_q == S_LOAD && !ld_v_q && ld_i_q >= in_words_q;

  // isqrt(2 * sum x^2) for mode 2, started at the end of LOAD.
  logic        sq_valid, sq_ok_q;
  logic [31:0] sq_root;
  mt_isqrt64 #(.STEPS(2)) u_isqrt (
    .clk_i, .rst_i,
    .start_i(ld_end),
    .v_i({sum_sq_q[62:0], 1'b0}),
    .valid_o(sq_valid),
    .root_o(sq_root)
  );
  logic [47:0] amp_q;                            // sigma * isqrt(2 sum x^2)

  // MAC / NOISE issue: (row, group) or group.
  logic [31:0] row_q, grp_q;
  logic [LANES-1:0] gmask;                       // lanes of the group that are columns < ncols
  always_comb
    for (int l = 0; l < LANES; l++) gmask[l] = grp_q * LANES + 32'(l) < ncols_q;
  logic lanes_ok;
  assign lanes_ok = &(nz_avail_i | ~gmask);
  logic mac_go, nz_go;
  assign mac_go = state_q == S_MAC && (mode_q != 2'd1 || lanes_ok);
  assign nz_go = state_q == S_NOISE && sq_ok_q && lanes_ok;
  logic grp_last, row_last;
  assign grp_last = grp_q == ngroups_q - 1;
  assign row_last = row_q == nrows_q - 1;
  logic [31:0] x_word;
  logic [15:0] x_row;
  assign x_word = x_q[XAW'(row_q >> 1)];
  assign x_row = row_q[0] ? x_word[31:16] : x_word[15:0];

  // m1
  logic                m1_v_q, m1_noise_q, m1_first_q;
  logic [GW-1:0]       m1_g_q;
  logic [15:0]         m1_x_q;
  logic [LANES*32-1:0] m1_z_q;
  // m2, m3
  logic                m2_v_q, m2_noise_q, m2_first_q, m3_v_q, m3_noise_q, m3_first_q;
  logic [GW-1:0]       m2_g_q, m3_g_q;

  always_ff @(posedge clk_i) begin
    if (mac_go || nz_go) begin
      m1_noise_q <= nz_go;
      m1_first_q <= mac_go && row_q == 0;
      m1_g_q <= GW'(grp_q);
      m1_x_q <= x_row;
      m1_z_q <= nz_z_i;
    end
    m2_noise_q <= m1_noise_q;
    m2_first_q <= m1_first_q;
    m2_g_q <= m1_g_q;
    m3_noise_q <= m2_noise_q;
    m3_first_q <= m2_first_q;
    m3_g_q <= m2_g_q;
    amp_q <= 48'(sq_root) * 48'(sigma_q);
  end

  // mt_gnoise(amp, z) for a 16-bit amplitude.
  function automatic logic signed [DW-1:0] gnoise16(input logic [15:0] amp, input logic [15:0] z);
    logic signed [33:0] p;
    logic        unused_low;
    p = $signed({18'd0, amp}) * $signed({{18{z[15]}}, z}) + 34'sd2048;
    unused_low = ^p[11:0];
    gnoise16 = p[33:12];
  endfunction

  // ADC: word w = columns 2w, 2w+1 (lanes a_lane, a_lane + 1 of group a_grp).
  logic [31:0]         a_w_q;
  logic [GW-1:0]       a_grp;
  logic [31:0]         a_lane;
  assign a_grp = GW'((2 * a_w_q) / LANES);
  assign a_lane = (2 * a_w_q) % LANES;
  logic [LANES*64-1:0] acc_rd;                   // every lane's accumulator of group a_grp
  logic                a1_v_q, a1_odd_q, a2_v_q, a2_odd_q;
  logic [PL_AW-1:0]    a1_w_q, a2_w_q;
  logic [63:0]         a1_acc_q [2];
  logic [63:0]         a2_p_q [2];
  logic                a_go;
  assign a_go = state_q == S_ADC && a_w_q < out_words_q;

  for (genvar l = 0; l < LANES; l++) begin : g_lane
    logic signed [15:0]   m2_a_q;
    logic signed [BW-1:0] m2_b_q;
    logic signed [63:0]   m3_p_q;
    logic signed [63:0]   acc_q [GROUPS];
    logic signed [DW-1:0] diff;
    logic [15:0]          gp, gn, z0, z1;
    assign gp = gm_rdata_i[16*l +: 16];
    assign gn = gm_rdata_i[16*(LANES + l) +: 16];
    assign z0 = m1_z_q[32*l +: 16];
    assign z1 = m1_z_q[32*l+16 +: 16];
    always_comb begin
      diff = $signed(DW'(gp)) - $signed(DW'(gn));
      // Per-cell noise: gp - gm + np - nm, np from the first draw.
      if (mode_q == 2'd1) diff = diff + gnoise16(sigma_q, z0) - gnoise16(sigma_q, z1);
    end
    logic signed [64:0] prod;
    assign prod = m2_a_q * m2_b_q;
    logic signed [63:0] add, cur;
    // The noise of mode 2: mt_gnoise(amp, z) = floor((amp*z + 2^11) / 2^12).
    logic signed [63:0] rounded;
    assign rounded = m3_p_q + 64'sd2048;
    assign add = m3_noise_q ? {{12{rounded[63]}}, rounded[63:12]} : m3_p_q;
    assign cur = acc_q[m3_g_q];
    always_ff @(posedge clk_i) begin
      if (m1_v_q) begin
        m2_a_q <= m1_noise_q ? z0 : m1_x_q;
        m2_b_q <= m1_noise_q ? $signed({1'b0, amp_q}) : BW'(diff);
      end
      if (m2_v_q) m3_p_q <= prod[63:0];
      if (m3_v_q) acc_q[m3_g_q] <= m3_first_q ? add : cur + add;
    end
    assign acc_rd[64*l +: 64] = acc_q[a_grp];
    wire unused_lane = ^{prod[64], rounded[11:0]};
  end

  always_ff @(posedge clk_i) begin
    if (a_go) begin
      a1_w_q <= PL_AW'(a_w_q);
      a1_odd_q <= 2 * a_w_q + 1 < ncols_q;
      a1_acc_q[0] <= acc_rd[64*a_lane +: 64];
      a1_acc_q[1] <= acc_rd[64*((a_lane + 1) % LANES) +: 64];
    end
    a2_w_q <= a1_w_q;
    a2_odd_q <= a1_odd_q;
    for (int k = 0; k < 2; k++) a2_p_q[k] <= 64'($signed(a1_acc_q[k]) * $signed({48'd0, adc_mul_q}));
  end

  // mt_round_shift(p, s), then the ADC clip to +-ymax: {clipped, code}.
  function automatic logic [16:0] adc(input logic [63:0] p, input logic [5:0] s,
                                      input logic [15:0] ymax);
    logic signed [64:0] t, y;
    t = $signed({p[63], p});
    if (s != 0) t = t + (65'sd1 <<< (s - 6'd1));
    y = t >>> s;
    if (y > $signed({49'd0, ymax})) adc = {1'b1, ymax};
    else if (y < -$signed({49'd0, ymax})) adc = {1'b1, 16'(-ymax)};
    else adc = {1'b0, y[15:0]};
  endfunction
  logic [16:0] y0, y1;
  assign y0 = adc(a2_p_q[0], adc_shift_q, ymax_q);
  assign y1 = adc(a2_p_q[1], adc_shift_q, ymax_q);

  // ---------------------------------------------------------------- control
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      state_q <= S_IDLE;
      fv_q <= 1'b0;
      ld_v_q <= 1'b0;
      sq_ok_q <= 1'b0;
      m1_v_q <= 1'b0;
      m2_v_q <= 1'b0;
      m3_v_q <= 1'b0;
      a1_v_q <= 1'b0;
      a2_v_q <= 1'b0;
    end else begin
      sq_ok_q <= sq_valid && !ld_end;
      m1_v_q <= mac_go || nz_go;
      m2_v_q <= m1_v_q;
      m3_v_q <= m2_v_q;
      a1_v_q <= a_go;
      a2_v_q <= a1_v_q;
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
          if (fv_q) p_q[fd_q[1:0]] <= pl_data_i;
          fd_q <= fi_q;
          if (32'(fi_q) < len_q && fi_q < 3'(NFETCH)) begin
            fv_q <= 1'b1;
            fi_q <= fi_q + 3'd1;
          end else begin
            fv_q <= 1'b0;
            if (!fv_q) state_q <= S_CHECK;
          end
        end
        S_CHECK: begin
          state_q <= S_DONE;
          if (len_q < 4) fail(MT_ST_ERR_LENGTH, len_q, 32'd4);
          else if (p_q[0] >= TILES) fail(MT_ST_ERR_TILE, 32'd0, p_q[0]);
          else if (!configured_i) fail(MT_ST_ERR_STATE, MT_STATE_NOT_CONFIGURED, p_q[0]);
          else if (!tile_fab) fail(MT_ST_ERR_STATE, MT_STATE_NOT_FABRICATED, p_q[0]);
          else if (p_q[1] == 0 || p_q[1] > MT_MAX_BATCH) fail(MT_ST_ERR_RANGE, 32'd1, p_q[1]);
          else if (p_q[2] == 0 || p_q[2] > ROWS) fail(MT_ST_ERR_RANGE, 32'd2, p_q[2]);
          else if (p_q[3] == 0 || p_q[3] > COLS) fail(MT_ST_ERR_RANGE, 32'd3, p_q[3]);
          else if (len_q != want_len) fail(MT_ST_ERR_LENGTH, len_q, want_len);
          else if (want_out > cap_i) fail(MT_ST_ERR_OVERFLOW, want_out, cap_i);
          else begin
            nout_q <= want_out;
            mode_q <= cfg_i[32*MT_CFG_READ_MODE +: 2];
            sigma_q <= cfg_i[32*MT_CFG_READ_SIGMA +: 16];
            xmax_q <= 16'((17'd1 << (dac_bits - 5'd1)) - 17'd1);
            ymax_q <= 16'((17'd1 << (adc_bits - 5'd1)) - 17'd1);
            adc_mul_q <= cfg_i[32*MT_CFG_ADC_MUL +: 16];
            adc_shift_q <= cfg_i[32*MT_CFG_ADC_SHIFT +: 6];
            nrows_q <= p_q[2];
            ncols_q <= p_q[3];
            ngroups_q <= (p_q[3] + LANES - 1) / LANES;
            in_words_q <= in_words;
            out_words_q <= out_words;
            tile_base_q <= MEM_AW'(p_q[0] * ROWS * GROUPS);
            vec_q <= p_q[1] - 32'd1;
            in_base_q <= PL_AW'(4);
            out_base_q <= '0;
            start_load();
          end
        end
        S_LOAD: begin
          ld_d_q <= ld_i_q;
          if (ld_i_q < in_words_q) begin
            ld_v_q <= 1'b1;
            ld_i_q <= ld_i_q + 32'd1;
          end else begin
            ld_v_q <= 1'b0;
          end
          if (ld_v_q) begin
            x_q[XAW'(ld_d_q)] <= {ld_c1[15:0], ld_c0[15:0]};
            sum_sq_q <= sum_sq_q + 64'(ld_sq0) + 64'(ld_sq1);
          end
          if (ld_end) begin
            row_q <= 32'd0;
            grp_q <= 32'd0;
            state_q <= S_MAC;
          end
        end
        S_MAC: if (mac_go) begin
          if (grp_last) begin
            grp_q <= 32'd0;
            row_q <= row_q + 32'd1;
            if (row_last) state_q <= mode_q == 2'd2 ? S_NOISE : S_DRAIN;
          end else begin
            grp_q <= grp_q + 32'd1;
          end
        end
        S_NOISE: if (nz_go) begin
          grp_q <= grp_q + 32'd1;
          if (grp_last) state_q <= S_DRAIN;
        end
        S_DRAIN: if (!m1_v_q && !m2_v_q && !m3_v_q) begin
          a_w_q <= 32'd0;
          state_q <= S_ADC;
        end
        S_ADC: begin
          if (a_go) a_w_q <= a_w_q + 32'd1;
          else if (!a1_v_q && !a2_v_q) state_q <= S_NEXT;
        end
        S_NEXT: begin
          if (vec_q == 0) begin
            state_q <= S_DONE;
          end else begin
            vec_q <= vec_q - 32'd1;
            in_base_q <= in_base_q + PL_AW'(in_words_q);
            out_base_q <= out_base_q + PL_AW'(out_words_q);
            start_load();
          end
        end
        S_DONE: state_q <= S_IDLE;
        default: state_q <= S_IDLE;
      endcase
    end
  end

  task automatic start_load();
    ld_i_q <= 32'd0;
    ld_v_q <= 1'b0;
    sum_sq_q <= 64'd0;
    state_q <= S_LOAD;
  endtask

  // ---------------------------------------------------------------- outputs (0 when idle)
  always_comb begin
`include "mt_eng_idle.vh"
    done_o = state_q == S_DONE;
`include "mt_eng_done.vh"

    if (state_q == S_FETCH) pl_addr_o = PL_AW'(fi_q);
    else if (state_q == S_LOAD) pl_addr_o = in_base_q + PL_AW'(ld_i_q);

    if (mac_go) gm_addr_o = tile_base_q + MEM_AW'(row_q * GROUPS + grp_q);
    for (int l = 0; l < LANES; l++) begin
      if (mac_go && mode_q == 2'd1 && gmask[l]) nz_take_o[2*l +: 2] = 2'd2;
      if (nz_go && gmask[l]) nz_take_o[2*l +: 2] = 2'd1;
    end

    if (a2_v_q) begin
      rsp_we_o = 1'b1;
      rsp_addr_o = out_base_q + a2_w_q;
      rsp_data_o = {a2_odd_q ? y1[15:0] : 16'd0, y0[15:0]};
    end

    cnt_inc_o[32*MT_CNT_DAC_CLIPS +: 32] = 32'(ld_clips);
    if (a2_v_q)
      cnt_inc_o[32*MT_CNT_ADC_CLIPS +: 32] = 32'(y0[16]) + 32'(y1[16] && a2_odd_q);
    if (ld_end) begin
      cnt_inc_o[32*MT_CNT_MVMS +: 32] = 32'd1;
      cnt_inc_o[32*MT_CNT_DAC_CONVERSIONS +: 32] = nrows_q;
      cnt_inc_o[32*MT_CNT_ADC_CONVERSIONS +: 32] = ncols_q;
    end
  end

  wire unused_inputs = ^{levels_i, lt_data_i, mt_data_i, g_rdata_i, nz_u_i, nz_state_i,
                         fb_avail_i, fb_u_i, fb_z_i, dm_rdata_i, lm_rdata_i, hm_rdata_i, cfg_i,
                         p_q[0][31:6], op_i, fd_q[2]};
endmodule
`default_nettype wire
