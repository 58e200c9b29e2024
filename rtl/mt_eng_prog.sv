`default_nettype none
// Programming engine (docs/rtl.md, "Engines"; "Programming engine"): PROGRAM, PULSE,
// META_WRITE and META_UPDATE. Bit-exact with op_program, op_pulse, op_meta_write,
// op_meta_update, meta_commit, mt_weight_program, write_verify, open_loop and mt_cell_pulse
// in hls/mt_kernel.c and hls/mt_device.c, including the order of the checks, the error
// details, every counter event and the order of the draws of each noise lane.
//
// A command is validated completely (header, then every payload word) before anything
// changes, as the model does; a rejected command ends with its status and details and has
// touched nothing. Execution is sequential, one weight (or one PULSE entry) at a time:
//   fetch the entry (a payload word arrives two cycles after its address: the payload
//   buffer's output is registered; the header and the validation pass read one word per
//   cycle, issuing two ahead), read the weight's memory words (gm, dm, lm, hm at its (tile, row,
//   group) address, 1-cycle latency) into registers, work on the registers, write the
//   slots of that weight back with their slot enables.
// Each pulse takes one Gaussian from lane col mod LANES before anything else and runs
// through mt_pulse_unit; each verify read takes one Gaussian; after each device of a
// programmed weight one more Gaussian is taken (also for faulty devices and for a device
// that took no pulse) and gives the state-dependent spread to a healthy device that was
// pulsed. A lane's draw is taken only when nz_avail_i says it is there.
module mt_eng_prog #(
`include "mt_eng_params.vh"
) (
`include "mt_eng_ports.vh"
);

  `include "mt_protocol.vh"

  localparam logic [31:0] ROWS32 = ROWS;
  localparam logic [31:0] COLS32 = COLS;
  localparam logic [31:0] TILES32 = TILES;
  localparam logic signed [33:0] HIDDEN_MAX = 34'(MT_HIDDEN_MAX);

  typedef enum logic [4:0] {
    S_IDLE, S_LEN, S_HDR0, S_HDR, S_CHK, S_CHK2, S_VAL0, S_VAL, S_NEED, S_INIT, S_NEXT, S_EWAIT,
    S_ENTRY,
    S_LOAD, S_LOADW, S_META1, S_META2, S_WP, S_LTO, S_LTN, S_DEV, S_PDRAW, S_PWAIT,
    S_VDRAW, S_VSUM, S_VCHK, S_SDRAW, S_SSUM, S_SPREAD, S_STORE, S_RESP, S_DONE
  } state_t;

  // What kind of command runs.
  localparam logic [1:0] K_PROG = 2'd0, K_PULSE = 2'd1, K_MWRITE = 2'd2, K_MUPD = 2'd3;
  // How the current device is driven.
  localparam logic [1:0] M_RAW = 2'd0, M_OPEN = 2'd1, M_VERIFY = 2'd2;

  state_t      state_q;
  logic [1:0]  kind_q;
  logic [7:0]  op_q;
  logic [31:0] len_q, cap_q;
  logic [15:0] status_q;
  logic [31:0] det0_q, det1_q, nout_q;
`include "mt_eng_fail.vh"
`include "mt_gnoise.vh"
  // header words
  logic [31:0] hdr_q [5];
  // The cells of a META region: the registered region check's count (stable while hdr_q is).
  logic [31:0] n_q;
  // A META region command's length must be 5 + n (META_WRITE) or 5 + ceil(n/2) (META_UPDATE)
  // for its region's n cells. Compared as n against values of len registered in S_LEN, so that
  // S_CHK2 has no adder behind the region's product: n == len - 5, or n == 2 len - 10 or
  // 2 len - 11 (33 bits, so that a huge len cannot wrap onto n).
  // The compares are registered too (wlen_ok_q; S_CHK2 takes two cycles, chk2_q): from n_q,
  // which synthesis keeps in the region product's DSP output register, through them into the
  // state register was the AC701 device's slowest path (6.46 ns at t14c 4cea7fa).
  // S_CHK2's first cycle reads the region check's registered result (u_region below).
  logic [32:0] len_m5_q, len_x2_m10_q, len_x2_m11_q;
  logic        wlen_ok_q, chk2_q;
  always_ff @(posedge clk_i)
    wlen_ok_q <= kind_q == K_MWRITE ? {1'b0, n_q} == len_m5_q
                 : ({1'b0, n_q} == len_x2_m10_q || {1'b0, n_q} == len_x2_m11_q);
  // The entry loop's end, registered as each entry ends (S_NEXT's compare of the index with the
  // count, behind the state decode, was the next slowest path): last_q says that the entry
  // S_NEXT would fetch is past the last. n_m1_q and len_m1_q are ready long before the loop.
  logic [31:0] n_m1_q, len_m1_q;
  logic        last_q;
  always_ff @(posedge clk_i) begin
    n_m1_q <= n_q - 32'd1;
    len_m1_q <= len_q - 32'd1;
  end
  logic [31:0] k_q;              // payload word (validation; PROGRAM/PULSE entries)
  logic [31:0] kc_q;             // META cell index
  logic [31:0] i_q, j_q;         // META row, column
  logic [31:0] programmed_q, wv_q, requests_q;
  logic [1:0]  rk_q;             // response word
  // the weight being worked on
  logic [7:0]  q_q;              // level to program
  logic [31:0] hin_q;            // META_WRITE hidden value
  logic [15:0] upd_q;            // META_UPDATE update
  logic        dk_q;             // device: 0 = G+, 1 = G-
  logic [1:0]  mode_q;
  logic        set_q;
  logic [15:0] pcnt_q, pi_q;     // pulses to apply, applied
  logic [10:0] it_q;             // write-verify iteration
  logic [15:0] g_q [2];
  logic [135:0] dev_q [2];
  logic [15:0] lvl_q;
  logic [31:0] hid_q;
  logic        eo_valid_q;       // the old level has a table entry
  // The weight's lane had two draws ready in the last cycle, and none was taken then. Only
  // this engine takes from the lanes while it runs, so they are still there: the take needs
  // no combinational path from the lanes' avail_o (whose logic also reads take_i).
  logic        avail_q;
  logic [31:0] eo1_q, e0_q, e1_q, e2_q;

  // ---- derived values
  logic [31:0] next_row, next_col, next_addr;
  // The weight's word address in the tile memories, computed in S_ENTRY from the row and column
  // being loaded: (tile * ROWS + row) * GROUPS + col / LANES is two carry chains, and computed
  // from row_q/col_q it sat between them and every memory address (the U250's worst path).
  logic [MEM_AW-1:0] addr_q;
  // The weight's lane (its column mod LANES) and the same one-hot, registered in S_ENTRY with
  // its word address: the takes and the lane selects are then a decode of registers. A take
  // written as a part-select at 2·lane of the column's 32-bit lane index (col mod LANES) made
  // Yosys build the offset and its range checks as carry chains, and from the column's
  // register through them into a lane's head pointer was the AC701 device's slowest path
  // (6.31 ns at t14f 5fb6b42).
  localparam int unsigned LW = (LANES > 1) ? $clog2(LANES) : 1;
  logic [LW-1:0]    lane_q;
  logic [LANES-1:0] lane_oh_q;
  // The weight's record out of the memories' read words (mt_eng_lanerec.vh), which arrive two
  // cycles after S_LOAD's address, from the memories' output registers: S_LOADW takes two
  // cycles (lw2_q: it was S_LOADW in the last cycle too) and loads the record in its second.
  logic lw2_q;
  always_ff @(posedge clk_i) lw2_q <= state_q == S_LOADW;
`include "mt_eng_lanerec.vh"
  logic [LANES*512-1:0] rd_lanes;
  logic [LREC-1:0]      rd_lane;
  always_comb begin
    rd_lanes = lane_records(gm_rdata_i, dm_rdata_i, lm_rdata_i, hm_rdata_i);
    rd_lane = rd_lanes[{lane_q, 9'd0} +: LREC];
  end
  logic        draw_ok;
  logic [15:0] draw_z;
  logic [31:0] cfg_sigma, cfg_tol, cfg_maxit, cfg_mul, cfg_add, cfg_end, cfg_inshift,
               cfg_idxshift, cfg_mprog;
  logic [31:0] e_row, e_col, tile;
  logic [31:0] cur_pl;           // the payload word of the current entry / cell
  logic        open_loop;
  logic        force_prog;
  logic [15:0] p_old, p_new, target;
  logic [15:0] g_cur, gmin_cur, gmax_cur;
  logic [7:0]  fault_cur;
  logic signed [33:0] tol_s;
  logic [15:0] spread_g;
  // The draw of a read (S_VDRAW, S_SDRAW), and g - target, kept as a register (g_cur and
  // target hold from S_VDRAW on, so gt_q is current by S_VSUM).
  logic [15:0]        z_q;
  logic signed [16:0] gt_q;
  // A read's sum as one product and one add: g + floor((amp z + 2^11) / 2^12) (gnoise of
  // hls/mt_device.c) = floor((g 2^12 + 2^11 + amp z) / 2^12), since g 2^12 is a multiple of
  // 2^12; for the verify read g - target takes g's place. The product, the rounding add and
  // the two adds after it in one cycle were the AC701 device's path #10 at e28f436 (5.71
  // ns); a DSP's multiply and post-adder do this one (S_VSUM: read sigma, S_SSUM: the
  // entry's spread, word 2's low half).
  logic signed [33:0] rsum;
  // A read's noisy sum, registered (S_VSUM, S_SSUM) before its compare or clamp: the noise
  // multiply, the adds and the compare in one cycle were the engine's slowest path.
  logic signed [33:0] verr_q, spread_q;
  logic [6:0]  pn;               // PULSE count field
  logic [6:0]  pn_abs;
  logic [31:0] out_word;
  // The response's second word (requested − programmed), registered: nothing it reads changes
  // in S_RESP, and rk_q = 1 is S_RESP's second cycle. Computed as the word was written, the
  // subtract sat between the region product's register and the response buffer's data pins.
  logic [31:0] skipped_q;

  // clamp16(v, lo, hi) of hls/mt_device.c: the lower bound is tested first.
  function automatic logic [15:0] clamp16(input logic signed [33:0] v, input logic [15:0] lo,
                                          input logic [15:0] hi);
    if (v < $signed({18'd0, lo})) clamp16 = lo;
    else if (v > $signed({18'd0, hi})) clamp16 = hi;
    else clamp16 = v[15:0];
  endfunction

  // ---- region of META_WRITE / META_UPDATE (check_region in the model)
  // Registered: its result is read in S_CHK2, a cycle after the last header word is in hdr_q.
  // The region's compares read in S_CHK, from hdr_q through them and S_CHK's decode into the
  // state register's reset, were the AC701 device's slowest path (5.96 ns at t14f c683f72).
  logic        region_bad_q;
  logic [31:0] region_word_q, region_val_q;
  logic [63:0] region_cells_q;
  mt_region_check_q #(.ROWS(ROWS), .COLS(COLS)) u_region (
    .clk_i, .row0_i(hdr_q[1]), .nrows_i(hdr_q[2]), .col0_i(hdr_q[3]), .ncols_i(hdr_q[4]),
    .bad_q_o(region_bad_q), .bad_word_q_o(region_word_q), .bad_val_q_o(region_val_q),
    .cells_q_o(region_cells_q)
  );

  // ---- pulse unit
  logic         pu_valid;
  logic [271:0] resp_up, resp_dn;  // the 17 knots of each direction (CONFIGURE bounds: 16 bits)
  logic         pu_valid_o;
  logic [15:0]  pu_g_o;
  logic [135:0] pu_dev_o;

  mt_pulse_unit u_pulse (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .valid_i     (pu_valid),
    .set_i       (set_q),
    .g_i         (g_cur),
    .dev_i       (dev_q[dk_q]),
    .z_i         (draw_z),
    .c2c_mul_i   (cfg_mul[15:0]),
    .c2c_add_i   (cfg_add[15:0]),
    .endurance_i (cfg_end),
    .resp_class_i(cfg_i[32*MT_CFG_RESP_CLASS]),
    .resp_up_i   (resp_up),
    .resp_dn_i   (resp_dn),
    .valid_o     (pu_valid_o),
    .g_o         (pu_g_o),
    .dev_o       (pu_dev_o)
  );

  // ---- metaplasticity unit (inputs are registers, started in S_META1; it presents the table
  // index while S_META2 waits for its result, and gets the entry the cycle after)
  logic        mu_att, mu_valid;
  logic [7:0]  mu_idx, mu_level;
  logic [31:0] mu_h;
  logic [31:0] cfg_hbits, cfg_frac, cfg_round, cfg_tlog2, cfg_ebits, cfg_rule;

  mt_meta_unit u_meta (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .start_i     (state_q == S_META1),
    .write_i     (kind_q == K_MWRITE),
    .h_i         (kind_q == K_MWRITE ? hin_q : hid_q),
    .upd_i       (upd_q),
    .levels_i    (levels_i),
    .in_shift_i  (cfg_inshift[4:0]),
    .idx_shift_i (cfg_idxshift[4:0]),
    .hbits_i     (cfg_hbits[5:0]),
    .frac_i      (cfg_frac[4:0]),
    .round_i     (cfg_round[0]),
    .tlog2_i     (cfg_tlog2[3:0]),
    .ebits_i     (cfg_ebits[4:0]),
    .rule_i      (cfg_rule[0]),
    .f_i         (mt_data_i),
    .idx_o       (mu_idx),
    .valid_o     (mu_valid),
    .attenuate_o (mu_att),
    .h_new_o     (mu_h),
    .level_o     (mu_level)
  );

  always_comb begin
    cfg_sigma    = cfg_i[32*MT_CFG_READ_SIGMA +: 32];
    cfg_tol      = cfg_i[32*MT_CFG_WV_TOL +: 32];
    cfg_maxit    = cfg_i[32*MT_CFG_WV_MAX_ITER +: 32];
    cfg_mul      = cfg_i[32*MT_CFG_C2C_MUL +: 32];
    cfg_add      = cfg_i[32*MT_CFG_C2C_ADD +: 32];
    cfg_end      = cfg_i[32*MT_CFG_ENDURANCE +: 32];
    cfg_inshift  = cfg_i[32*MT_CFG_META_IN_SHIFT +: 32];
    cfg_idxshift = cfg_i[32*MT_CFG_META_IDX_SHIFT +: 32];
    cfg_mprog    = cfg_i[32*MT_CFG_META_PROG_MODE +: 32];
    cfg_hbits    = cfg_i[32*MT_CFG_META_HIDDEN_BITS +: 32];
    cfg_frac     = cfg_i[32*MT_CFG_META_HIDDEN_FRAC +: 32];
    cfg_round    = cfg_i[32*MT_CFG_META_UPD_ROUND +: 32];
    cfg_tlog2    = cfg_i[32*MT_CFG_META_TABLE_LOG2 +: 32];
    cfg_ebits    = cfg_i[32*MT_CFG_META_ENTRY_BITS +: 32];
    cfg_rule     = cfg_i[32*MT_CFG_META_RULE +: 32];
    for (int unsigned k = 0; k < 17; k++) begin
      resp_up[16*k +: 16] = cfg_i[32*(MT_CFG_RESP_UP_0 + k) +: 16];
      resp_dn[16*k +: 16] = cfg_i[32*(MT_CFG_RESP_DN_0 + k) +: 16];
    end

    tile = hdr_q[0];
    e_row = {20'd0, pl_data_i[31:20]};
    e_col = {20'd0, pl_data_i[19:8]};
    // n_q is only used once the region passed, when u_region's count is exact.
    n_q = region_cells_q[31:0];
    cur_pl = kind_q == K_MUPD ? 32'd5 + (kc_q >> 1)
           : (kind_q == K_MWRITE ? 32'd5 + kc_q : k_q);

    next_row  = kind_q[1] ? {20'd0, i_q[11:0]} : e_row;
    next_col  = kind_q[1] ? {20'd0, j_q[11:0]} : e_col;
    next_addr = (tile * ROWS32 + next_row) * GROUPS + next_col / LANES;
    draw_ok = avail_q;
    draw_z  = nz_z_i[{lane_q, 5'd0} +: 16];

    open_loop  = kind_q == K_PROG ? hdr_q[1][0] : cfg_mprog != 32'd0;
    force_prog = kind_q == K_PROG && hdr_q[1][1];
    p_old  = !eo_valid_q ? 16'd0 : (dk_q ? eo1_q[31:16] : eo1_q[15:0]);
    p_new  = dk_q ? e1_q[31:16] : e1_q[15:0];
    target = dk_q ? e0_q[31:16] : e0_q[15:0];

    g_cur     = g_q[dk_q];
    gmin_cur  = dev_q[dk_q][15:0];
    gmax_cur  = dev_q[dk_q][31:16];
    fault_cur = dev_q[dk_q][103:96];

    // Verify read: sensed = g + noise(read_sigma); converged when |sensed - target| <= tol.
    tol_s       = $signed({2'd0, cfg_tol});
    spread_g     = clamp16(spread_q, gmin_cur, gmax_cur);

    pn     = pl_data_i[6:0];
    pn_abs = pn[6] ? 7'd0 - pn : pn;

    case (rk_q)
      2'd0: out_word = programmed_q;
      2'd1: out_word = skipped_q;
      default: out_word = wv_q;
    endcase
  end

  // ---- outputs (all zero outside the states that drive them)
  always_comb begin
`include "mt_eng_idle.vh"
    done_o = state_q == S_DONE;
`include "mt_eng_done.vh"
    pu_valid = 1'b0;

    case (state_q)
      S_LEN: pl_addr_o = '0;
      S_HDR0: pl_addr_o = PL_AW'(1);
      S_HDR: pl_addr_o = PL_AW'(k_q + 32'd2);
      S_CHK: pl_addr_o = PL_AW'(k_q);
      // S_CHK2's second cycle (chk2_q) and S_VAL0 issue the second entry, two ahead of S_VAL.
      S_CHK2: pl_addr_o = PL_AW'(chk2_q ? k_q + 32'd1 : k_q);
      S_VAL0: pl_addr_o = PL_AW'(k_q + 32'd1);
      S_VAL: pl_addr_o = PL_AW'(k_q + 32'd2);
      S_NEXT: pl_addr_o = PL_AW'(cur_pl);
      S_LOAD: begin
        gm_addr_o = addr_q;
        dm_addr_o = addr_q;
        lm_addr_o = addr_q;
        hm_addr_o = addr_q;
      end
      S_META1: begin
        if (kind_q == K_MUPD) cnt_inc_o[32*MT_CNT_META_UPDATES +: 32] = 32'd1;
      end
      S_META2: begin
        mt_addr_o = mu_idx;
        if (mu_valid && kind_q == K_MUPD && mu_att) cnt_inc_o[32*MT_CNT_META_ATTENUATED +: 32] = 32'd1;
      end
      S_WP: begin
        lt_addr_o = lvl_q[7:0];
        if (lvl_q == {8'd0, q_q} && !force_prog)
          cnt_inc_o[32*MT_CNT_UPDATES_SKIPPED +: 32] = 32'd1;
      end
      S_LTO: lt_addr_o = q_q;
      S_PDRAW: begin
        if (draw_ok) begin
          for (int l = 0; l < LANES; l++) if (lane_oh_q[l]) nz_take_o[2*l +: 2] = 2'd1;
          pu_valid = 1'b1;
          if (set_q) cnt_inc_o[32*MT_CNT_SET_PULSES +: 32] = 32'd1;
          else cnt_inc_o[32*MT_CNT_RESET_PULSES +: 32] = 32'd1;
        end
      end
      S_VDRAW, S_SDRAW: begin
        if (draw_ok) for (int l = 0; l < LANES; l++) if (lane_oh_q[l]) nz_take_o[2*l +: 2] = 2'd1;
      end
      S_VCHK: begin
        cnt_inc_o[32*MT_CNT_VERIFY_READS +: 32] = 32'd1;
        if (!(verr_q <= tol_s && -verr_q <= tol_s)
            && ({21'd0, it_q} == cfg_maxit || it_q == 11'(MT_MAX_WV_ITER)))
          cnt_inc_o[32*MT_CNT_WV_FAILURES +: 32] = 32'd1;
      end
      S_SPREAD: begin
        if (dk_q) cnt_inc_o[32*MT_CNT_CELLS_PROGRAMMED +: 32] = 32'd1;
      end
      S_STORE: begin
        gm_addr_o = addr_q;
        dm_addr_o = addr_q;
        lm_addr_o = addr_q;
        hm_addr_o = addr_q;
        gm_we_o = {lane_oh_q, lane_oh_q};
        dm_we_o = {lane_oh_q, lane_oh_q};
        lm_we_o = lane_oh_q;
        hm_we_o = lane_oh_q;
        gm_wdata_o = {{LANES{g_q[1]}}, {LANES{g_q[0]}}};
        dm_wdata_o = {{LANES{dev_q[1]}}, {LANES{dev_q[0]}}};
        lm_wdata_o = {LANES{lvl_q}};
        hm_wdata_o = {LANES{hid_q}};
      end
      S_RESP: begin
        rsp_we_o = 1'b1;
        rsp_addr_o = PL_AW'(rk_q);
        rsp_data_o = out_word;
      end
      default: ;
    endcase
  end

  // ---- control
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      state_q <= S_IDLE;
    end else begin
      case (state_q)
        S_IDLE: if (start_i) state_q <= S_LEN;
        S_LEN: begin
          if ((kind_q == K_PROG && len_q < 32'd2) || (kind_q == K_PULSE && len_q < 32'd1)
              || (kind_q[1] && len_q < 32'd5)) state_q <= S_DONE;
          else state_q <= S_HDR0;
        end
        S_HDR0: state_q <= S_HDR;
        S_HDR: begin
          if (k_q + 32'd1 == (kind_q == K_PROG ? 32'd2 : (kind_q == K_PULSE ? 32'd1 : 32'd5)))
            state_q <= S_CHK;
        end
        S_CHK: begin
          if (tile_bad_q || !configured_i || (kind_q != K_PULSE && levels_i == 9'd0)
              || !tile_fab_q) state_q <= S_DONE;
          else if (kind_q == K_PROG) begin
            if (flags_bad_q) state_q <= S_DONE;
            else state_q <= len_gt2_q ? S_VAL0 : S_NEED;
          end else if (kind_q == K_PULSE) begin
            state_q <= len_gt1_q ? S_VAL0 : S_INIT;
          end else begin
            state_q <= S_CHK2;
          end
        end
        S_CHK2: begin
          if (!chk2_q ? region_bad_q : !wlen_ok_q) state_q <= S_DONE;
          else if (chk2_q) state_q <= kind_q == K_MWRITE ? S_VAL : S_NEED;
        end
        S_VAL0: state_q <= S_VAL;
        S_VAL: begin
          if (kind_q == K_MWRITE) begin
            if ($signed({{2{pl_data_i[31]}}, pl_data_i}) > HIDDEN_MAX
                || $signed({{2{pl_data_i[31]}}, pl_data_i}) < -HIDDEN_MAX) state_q <= S_DONE;
            else if (k_q + 32'd1 == len_q) state_q <= S_NEED;
          end else if (e_row >= ROWS32 || e_col >= COLS32
                       || (kind_q == K_PROG && {24'd0, pl_data_i[7:0]} >= {23'd0, levels_i}))
            state_q <= S_DONE;
          else if (k_q + 32'd1 == len_q) state_q <= kind_q == K_PULSE ? S_INIT : S_NEED;
        end
        S_NEED: state_q <= cap_q < 32'd3 ? S_DONE : S_INIT;
        S_INIT: state_q <= S_NEXT;
        S_NEXT: begin
          if (last_q) state_q <= kind_q == K_PULSE ? S_DONE : S_RESP;
          else state_q <= S_EWAIT;
        end
        S_EWAIT: state_q <= S_ENTRY;
        S_ENTRY: begin
          if ((kind_q == K_PULSE && pn_abs == 7'd0)
              || (kind_q == K_MUPD && (kc_q[0] ? pl_data_i[31:16] : pl_data_i[15:0]) == 16'd0))
            state_q <= S_NEXT;
          else state_q <= S_LOAD;
        end
        S_LOAD: state_q <= S_LOADW;
        S_LOADW: if (lw2_q) begin
          case (kind_q)
            K_PULSE: state_q <= S_PDRAW;
            K_PROG: state_q <= S_WP;
            default: state_q <= S_META1;
          endcase
        end
        S_META1: state_q <= S_META2;
        S_META2: if (mu_valid) state_q <= S_WP;
        S_WP: state_q <= lvl_q == {8'd0, q_q} && !force_prog ? S_STORE : S_LTO;
        S_LTO: state_q <= S_LTN;
        S_LTN: state_q <= S_DEV;
        S_DEV: begin
          if (!open_loop) state_q <= S_VDRAW;
          else if (p_new == p_old) state_q <= S_SDRAW;
          else state_q <= S_PDRAW;
        end
        S_PDRAW: if (draw_ok) state_q <= S_PWAIT;
        S_PWAIT: begin
          if (pu_valid_o) begin
            if (mode_q == M_VERIFY) state_q <= S_VDRAW;
            else if (pi_q + 16'd1 == pcnt_q) state_q <= mode_q == M_RAW ? S_STORE : S_SDRAW;
            else state_q <= S_PDRAW;
          end
        end
        S_VDRAW: if (draw_ok) state_q <= S_VSUM;
        S_VSUM: state_q <= S_VCHK;
        S_VCHK: begin
          if ((verr_q <= tol_s && -verr_q <= tol_s)
              || {21'd0, it_q} == cfg_maxit || it_q == 11'(MT_MAX_WV_ITER))
            state_q <= S_SDRAW;
          else state_q <= S_PDRAW;
        end
        S_SDRAW: if (draw_ok) state_q <= S_SSUM;
        S_SSUM: state_q <= S_SPREAD;
        S_SPREAD: state_q <= dk_q ? S_STORE : S_DEV;
        S_STORE: state_q <= S_NEXT;
        S_RESP: if (rk_q == 2'd2) state_q <= S_DONE;
        S_DONE: state_q <= S_IDLE;
        default: state_q <= S_IDLE;
      endcase
    end
  end

  // S_CHK's compares, registered as their operands arrive: the tile's (header word 0) and
  // PROGRAM's flags (word 1) in S_HDR, the length's from len_q (set at the start; fabricated_i
  // holds for the command). From the flags word through its 32-bit compare and the chain of
  // checks into the state register was the AC701 device's path #4 at t14f 5fb6b42 (5.71 ns).
  logic tile_bad_q, tile_fab_q, flags_bad_q, len_gt1_q, len_gt2_q;
  always_ff @(posedge clk_i) begin
    if (state_q == S_HDR && k_q[2:0] == 3'd0) begin
      tile_bad_q <= pl_data_i >= TILES32;
      tile_fab_q <= fabricated_i[pl_data_i[5:0]];
    end
    if (state_q == S_HDR && k_q[2:0] == 3'd1)
      flags_bad_q <= pl_data_i > (MT_PROG_OPEN_LOOP | MT_PROG_FORCE);
    len_gt1_q <= len_q > 32'd1;
    len_gt2_q <= len_q > 32'd2;
  end

  always_ff @(posedge clk_i) begin
    skipped_q <= (kind_q == K_PROG ? len_q - 32'd2 : (kind_q == K_MWRITE ? n_q : requests_q))
                 - programmed_q;
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) avail_q <= 1'b0;
    else avail_q <= nz_avail_i[lane_q]
                    && !((state_q == S_PDRAW || state_q == S_VDRAW || state_q == S_SDRAW) && draw_ok);
  end

  always_ff @(posedge clk_i) gt_q <= $signed({1'b0, g_cur}) - $signed({1'b0, target});
  always_comb
    rsum = gnoise_mac(state_q == S_SSUM ? e2_q[15:0] : cfg_sigma[15:0], z_q,
                      state_q == S_SSUM ? $signed({6'd0, g_cur, 12'h800})
                                        : $signed({{5{gt_q[16]}}, gt_q, 12'h800}));

  // ---- datapath (no reset: every register is written before it is read in a command)
  // A check state loads the result its failure gives; the control block then goes to S_DONE
  // on a failure, or on to a state that loads its own result (S_INIT: OK).
  always_ff @(posedge clk_i) begin
    case (state_q)
      S_IDLE: begin
        op_q <= op_i;
        len_q <= len_i;
        cap_q <= cap_i;
        if (op_i == MT_OP_PULSE) kind_q <= K_PULSE;
        else if (op_i == MT_OP_META_WRITE) kind_q <= K_MWRITE;
        else if (op_i == MT_OP_META_UPDATE) kind_q <= K_MUPD;
        else kind_q <= K_PROG;
        status_q <= 16'(MT_ST_OK);
        det0_q <= '0;
        det1_q <= '0;
        nout_q <= '0;
        k_q <= '0;
      end
      S_LEN: begin
        fail(MT_ST_ERR_LENGTH, len_q, kind_q == K_PROG ? 32'd2 : (kind_q == K_PULSE ? 32'd1 : 32'd5));
        len_m5_q <= {1'b0, len_q} - 33'd5;
        len_x2_m10_q <= {len_q, 1'b0} - 33'd10;
        len_x2_m11_q <= {len_q, 1'b0} - 33'd11;
      end
      S_HDR: begin
        hdr_q[k_q[2:0]] <= pl_data_i;
        k_q <= k_q + 32'd1;
      end
      S_CHK: begin
        chk2_q <= 1'b0;
        k_q <= kind_q == K_PROG ? 32'd2 : (kind_q == K_PULSE ? 32'd1 : 32'd5);
        if (tile_bad_q) fail(MT_ST_ERR_TILE, 32'd0, tile);
        else if (!configured_i || (kind_q != K_PULSE && levels_i == 9'd0) || !tile_fab_q)
          fail(MT_ST_ERR_STATE,
               !configured_i ? MT_STATE_NOT_CONFIGURED
               : (kind_q != K_PULSE && levels_i == 9'd0 ? MT_STATE_NO_LEVELS : MT_STATE_NOT_FABRICATED),
               tile);
        else if (kind_q == K_PROG) fail(MT_ST_ERR_PARAM, 32'd1, hdr_q[1]);
      end
      S_CHK2: begin
        chk2_q <= 1'b1;
        if (!chk2_q) fail(MT_ST_ERR_RANGE, region_word_q, region_val_q);
        else fail(MT_ST_ERR_LENGTH, len_q, kind_q == K_MWRITE ? 32'd5 + n_q : 32'd5 + ((n_q + 32'd1) >> 1));
      end
      S_VAL: begin
        k_q <= k_q + 32'd1;
        fail(kind_q == K_MWRITE || e_row >= ROWS32 || e_col >= COLS32 ? MT_ST_ERR_RANGE
             : MT_ST_ERR_LEVEL, k_q, pl_data_i);
      end
      S_NEED: fail(MT_ST_ERR_OVERFLOW, 32'd3, cap_q);
      S_INIT: begin
        status_q <= 16'(MT_ST_OK);
        det0_q <= '0;
        det1_q <= '0;
        nout_q <= kind_q == K_PULSE ? 32'd0 : 32'd3;
        k_q <= kind_q == K_PROG ? 32'd2 : 32'd1;
        kc_q <= '0;
        last_q <= kind_q[1] ? n_q == 32'd0 : len_q == (kind_q == K_PROG ? 32'd2 : 32'd1);
        i_q <= hdr_q[1];
        j_q <= hdr_q[3];
        programmed_q <= '0;
        wv_q <= '0;
        requests_q <= '0;
        rk_q <= '0;
      end
      S_ENTRY: begin
        lane_q <= LW'(next_col % LANES);
        lane_oh_q <= LANES'(1) << LW'(next_col % LANES);
        addr_q <= MEM_AW'(next_addr);
        q_q <= pl_data_i[7:0];
        hin_q <= pl_data_i;
        upd_q <= kc_q[0] ? pl_data_i[31:16] : pl_data_i[15:0];
        dk_q <= pl_data_i[7];
        set_q <= !pn[6];
        pcnt_q <= {9'd0, pn_abs};
        pi_q <= '0;
        mode_q <= M_RAW;
        // Entries that do nothing (PULSE n = 0, META_UPDATE d = 0) are passed here.
        if ((kind_q == K_PULSE && pn_abs == 7'd0)
            || (kind_q == K_MUPD && (kc_q[0] ? pl_data_i[31:16] : pl_data_i[15:0]) == 16'd0)) begin
          next_entry();
        end
      end
      S_LOADW: if (lw2_q) begin
        g_q[0] <= rd_lane[15:0];
        g_q[1] <= rd_lane[31:16];
        dev_q[0] <= rd_lane[32 +: 136];
        dev_q[1] <= rd_lane[168 +: 136];
        lvl_q <= rd_lane[304 +: 16];
        hid_q <= rd_lane[320 +: 32];
      end
      S_META2: begin
        if (mu_valid) begin
          hid_q <= mu_h;
          q_q <= mu_level;
          if (kind_q == K_MUPD) requests_q <= requests_q + 32'd1;
        end
      end
      S_LTO: begin
        eo_valid_q <= {16'd0, lvl_q} < {23'd0, levels_i};
        eo1_q <= lt_data_i[63:32];
      end
      S_LTN: begin
        e0_q <= lt_data_i[31:0];
        e1_q <= lt_data_i[63:32];
        e2_q <= lt_data_i[95:64];
        dk_q <= 1'b0;
      end
      S_DEV: begin
        pi_q <= '0;
        it_q <= '0;
        if (open_loop) begin
          mode_q <= M_OPEN;
          set_q <= p_new > p_old;
          pcnt_q <= p_new > p_old ? p_new - p_old : p_old - p_new;
        end else mode_q <= M_VERIFY;
      end
      S_PWAIT: begin
        if (pu_valid_o) begin
          g_q[dk_q] <= pu_g_o;
          dev_q[dk_q] <= pu_dev_o;
          pi_q <= pi_q + 16'd1;
          it_q <= it_q + 11'd1;
        end
      end
      S_VDRAW, S_SDRAW: if (draw_ok) z_q <= draw_z;
      S_VSUM: verr_q <= rsum >>> 12;
      S_SSUM: spread_q <= rsum >>> 12;
      S_VCHK: begin
        set_q <= verr_q < 34'sd0;
        if (!(verr_q <= tol_s && -verr_q <= tol_s)
            && ({21'd0, it_q} == cfg_maxit || it_q == 11'(MT_MAX_WV_ITER)))
          wv_q <= wv_q + 32'd1;
      end
      S_SPREAD: begin
        // pi_q counts this device's pulses (cleared in S_DEV): a device only read keeps its g.
        if (fault_cur == 8'(MT_FAULT_NONE) && pi_q != 16'd0) g_q[dk_q] <= spread_g;
        dk_q <= 1'b1;
        if (dk_q) begin
          lvl_q <= {8'd0, q_q};
          programmed_q <= programmed_q + 32'd1;
        end
      end
      S_STORE: next_entry();
      S_RESP: rk_q <= rk_q + 2'd1;
      default: ;
    endcase
  end

  // On to the next entry (PROGRAM, PULSE) or region cell (META, row-major), whether the last
  // one was worked on or passed.
  task automatic next_entry();
    k_q <= k_q + 32'd1;
    kc_q <= kc_q + 32'd1;
    last_q <= kind_q[1] ? kc_q == n_m1_q : k_q == len_m1_q;
    if (j_q + 32'd1 == hdr_q[3] + hdr_q[4]) begin
      j_q <= hdr_q[3];
      i_q <= i_q + 32'd1;
    end else j_q <= j_q + 32'd1;
  endtask

  // Inputs this engine has no use for, and bits of used words it never needs.
  logic unused_inputs;
  assign unused_inputs = ^{op_q, cfg_i, cur_pl, nz_u_i, nz_z_i, nz_state_i, fb_avail_i, fb_u_i, fb_z_i,
                           g_rdata_i, lt_data_i, e2_q[31:16],
                           cfg_mul[31:16], cfg_add[31:16], cfg_sigma[31:16], cfg_inshift[31:5],
                           cfg_idxshift[31:5], cfg_hbits[31:6], cfg_frac[31:5], cfg_round[31:1],
                           cfg_tlog2[31:4], cfg_ebits[31:5], cfg_rule[31:1], next_addr,
                           region_cells_q[63:32], e_row, e_col, hin_q,
                           nz_avail_i, gm_rdata_i, dm_rdata_i, lm_rdata_i, hm_rdata_i};

endmodule
`default_nettype wire
