`default_nettype none
// STATE_READ / STATE_WRITE: op_state_read, op_state_write and check_chunk of hls/mt_kernel.c
// with the image layout and checks of hls/mt_state.c (docs/protocol.md, "State image").
// Cycle counts: docs/rtl.md, "mt_eng_state".
//
// A write is validated over the whole payload before anything is written (a rejected command
// changes nothing), so the payload is streamed twice: once through the checks, once into the
// register file or the tile memories. The checks run in the model's order; as that order is
// the word order except for the two cross-field CONFIGURE checks, those two are held pending
// until the end of the CONFIGURE fields and the first failure in stream order is the model's.
module mt_eng_state #(
`include "mt_eng_params.vh"
) (
`include "mt_eng_ports.vh"
);
`include "mt_protocol.vh"

  // GLOBAL image word offsets (docs/protocol.json state_global, generated MT_G_*).
  localparam int unsigned G_CFG = MT_G_CFG;
  localparam int unsigned G_LEVELS = MT_G_LEVELS;
  localparam int unsigned G_META = MT_G_META;
  localparam int unsigned G_LANES = MT_G_LANES;
  localparam int unsigned G_COUNTERS = MT_G_COUNTERS;
  localparam int unsigned G_FAB = MT_G_FABRICATED;
  localparam int unsigned G_WORDS = MT_GLOBAL_WORDS;
  localparam int unsigned WW = MT_WEIGHT_WORDS;
  localparam int unsigned TILE_WORDS = ROWS * COLS * WW;
  localparam logic [31:0] VERSION = (MT_PROTO_MAJOR << 16) | MT_PROTO_MINOR;
  localparam logic [31:0] HIDDEN_MAX = MT_HIDDEN_MAX;
  // Word counters: a chunk has at most STATE_CHUNK words (the GLOBAL image is smaller).
  localparam int unsigned CW = $clog2(MT_STATE_CHUNK + 1);
  // Divider: dividends are a TILE offset or a count (both <= TILE_WORDS); the largest
  // divisor is the words of one lane group's row of records.
  localparam int unsigned DW = $clog2(TILE_WORDS + 1);
  localparam int unsigned GRP_WORDS = WW * LANES;
  localparam int unsigned RW = $clog2(GRP_WORDS + 1);
  localparam int unsigned LW = (LANES > 1) ? $clog2(LANES) : 1;
  localparam int unsigned JW = 4;
  localparam int unsigned SW = $clog2(DW + 1);
  // Fabricated bits a GLOBAL image may set: tiles below the tile count.
  localparam logic [63:0] FAB_OK = (TILES >= 64) ? 64'hFFFF_FFFF_FFFF_FFFF
                                                 : ((64'd1 << TILES) - 64'd1);

  localparam logic [3:0] S_IDLE = 4'd0;
  localparam logic [3:0] S_HDR = 4'd1;   // payload words 0..3 (section, index, offset, count/word 0)
  localparam logic [3:0] S_CHK = 4'd2;   // check_chunk and the per-op length checks
  localparam logic [3:0] S_DIV = 4'd3;   // TILE: offset -> (group address, lane, word); count % 11
  localparam logic [3:0] S_GRD = 4'd4;   // GLOBAL read: register file -> response
  localparam logic [3:0] S_TRD = 4'd5;   // TILE read: tile memories -> response
  localparam logic [3:0] S_GVAL = 4'd6;  // GLOBAL write, pass 1: mt_state_global_check
  localparam logic [3:0] S_TVAL = 4'd7;  // TILE write, pass 1: mt_state_tile_check
  localparam logic [3:0] S_GWR = 4'd8;   // GLOBAL write, pass 2: payload -> register file
  localparam logic [3:0] S_TWR = 4'd9;   // TILE write, pass 2: records -> tile memories
  localparam logic [3:0] S_LOAD = 4'd10; // GLOBAL write: lane states -> noise lanes
  localparam logic [3:0] S_EF0 = 4'd11;  // ERR_SNAPSHOT: fetch the offending word (detail 1)
  localparam logic [3:0] S_EF1 = 4'd12;  // (S_EFW between: the payload word's second cycle)
  localparam logic [3:0] S_EFW = 4'd13;

  // ---------------------------------------------------------------- registers
  logic [3:0] st_q, st_d;
  logic wr_q, wr_d;                       // STATE_WRITE
  logic [2:0] hc_q, hc_d;                 // header word counter
  logic [31:0] sec_q, sec_d, idx_q, idx_d, off_q, off_d, cnt_q, cnt_d;
  // end of command
  logic done_q, done_d;
  logic [15:0] status_q, status_d;
  logic [31:0] det0_q, det0_d, det1_q, det1_d, nout_q, nout_d;
  // streaming: issue index, data stage (tile memory data this cycle), second data stage
  // (payload and register-file data this cycle: both arrive two cycles after their address,
  // the payload buffer's output and mt_regfile's being registered), output stage (response
  // word)
  logic [CW-1:0] iss_q, iss_d;
  logic dv_q, dv_d;
  logic [CW-1:0] didx_q, didx_d;
  logic dv2_q, dv3_q;
  logic [CW-1:0] didx2_q, didx3_q;
  logic ov_q, ov_d;
  logic [CW-1:0] oidx_q, oidx_d;
  logic [31:0] oword_q, oword_d;
  // divider (restoring, one quotient bit per cycle; the dividend register collects the
  // quotient as the dividend bits leave)
  logic [1:0] dph_q, dph_d;               // 0: offset / (11*LANES), 1: rest / 11, 2: count / 11
  logic [DW-1:0] dnum_q, dnum_d;
  logic [RW-1:0] drem_q, drem_d, dden_q, dden_d;
  logic [SW-1:0] dstep_q, dstep_d;
  // TILE position: memory address, lane and word within the record; *0 = chunk start
  logic [MEM_AW-1:0] a_q, a_d, a0_q, a0_d;
  logic [LW-1:0] l_q, l_d, l0_q, l0_d;
  logic [JW-1:0] j_q, j_d;
  logic [LW-1:0] dl_q, dl_d;              // lane and word of the data-stage word (TILE read)
  logic [JW-1:0] dj_q, dj_d;
  // validation
  logic [CW-1:0] bad_q, bad_d;            // offending word, within the chunk
  logic [CW-1:0] rs_q, rs_d;              // TILE: first word of the current record
  logic [31:0] r0_q, r0_d;                // TILE: word 0 (g+, g-) of the current record
  logic conf_q, conf_d;                   // GLOBAL: the image's configured flag
  logic [1:0] ph3_q, ph3_d;               // level-table word within its entry
  logic [31:0] lor_q, lor_d;              // OR of the lane's words so far
  logic [LANES*128-1:0] lst_q, lst_d;     // lane states of the image, shifted in word by word
  logic [(WW-1)*32-1:0] rec_q, rec_d;     // TILE write: words 0..9 of the record, shifted in

  // ---------------------------------------------------------------- helpers
  wire [31:0] v = pl_data_i;
  wire [CW-1:0] total = cnt_q[CW-1:0];
  wire last_data = dv2_q && (didx2_q == total - CW'(1));  // payload streams only
  wire [31:0] size = (sec_q == 32'd0) ? G_WORDS : TILE_WORDS;
  // size - off_q, registered: S_HDR loads off_q two cycles before S_CHK (then cnt_q), so this is
  // the room behind the offset in S_CHK, without a subtract before its compare and the chain
  // of checks (the engine's slowest path).
  logic [31:0] room_q;
  // The header checks that do not involve the count, registered likewise: sec_q, idx_q and
  // off_q are all loaded a cycle before S_CHK. The section's decode into `size`, then
  // off_q >= size and the chain of checks behind it were the engine's slowest path (4.77 ns
  // alone).
  logic sec_bad_q, sec_glob_q, gidx_bad_q, tidx_bad_q, off_bad_q, off_nz_q;
  wire [31:0] wcount = len_i - 32'd3;

  // The image's CONFIGURE fields (mt_cfg_check, shared with the control engine): field cfg_f's
  // word arrives now (didx2_q), its bounds looked up from didx_q's field a cycle before. The
  // cross-field rules cover a field two cycles after its word, so S_GVAL issues the LEVELS
  // word, where they are checked, one cycle late (gap_q): one cycle per GLOBAL write.
  localparam int unsigned CFW = $clog2(CFG_COUNT);
  wire [CFW-1:0] cfg_f = CFW'(didx2_q - CW'(G_CFG));
  logic cfg_scan, cfg_bad;
  logic [31:0] rule_field, rule_value;
  mt_cfg_check #(.CFW(CFW)) u_cfg_check (
    .clk_i, .ahead_i(CFW'(didx_q - CW'(G_CFG))), .scan_i(cfg_scan), .field_i(cfg_f),
    .word_i(v), .out_of_range_o(cfg_bad), .rule_field_o(rule_field), .rule_value_o(rule_value)
  );
  wire unused_rule = ^rule_value;
  logic gap_q;
  wire [1:0] lane_w = 2'(didx2_q - CW'(G_LANES));
  wire fab_w = 1'(didx2_q - CW'(G_FAB));
  wire [31:0] fab_ok_w = fab_w ? FAB_OK[63:32] : FAB_OK[31:0];

  // TILE record checks (record_bad_word): word j of the record is v.
  wire [15:0] tlo = v[15:0];
  wire [15:0] thi = v[31:16];
  wire [15:0] tg = (j_q == JW'(1)) ? r0_q[15:0] : r0_q[31:16];
  wire signed [31:0] th = v;

  // divider step
  wire [RW:0] dtry = {drem_q, dnum_q[DW-1]};
  wire dge = dtry >= {1'b0, dden_q};
  wire [RW:0] dsub = dtry - {1'b0, dden_q};
  wire [DW-1:0] dquo = {dnum_q[DW-2:0], dge};
  wire [RW-1:0] drem = dge ? dsub[RW-1:0] : dtry[RW-1:0];

  // A record's words and the memory slots of its lane (hls/mt_state.c): word 0 = {g-, g+},
  // word 9 = {level, fault-, fault+}, word 10 = hidden, and words 1..8 the four 32-bit fields
  // of the two device records interleaved, field f of device k (0 = G+) in word 1 + 2f + k. A
  // dm slot is {pulses, fault, a_rst, a_set, step_rst, step_set, gmax, gmin}: field 3 (pulses)
  // sits above the fault byte, which the record carries in word 9 instead.
  function automatic [31:0] dev_field(input [135:0] dev, input [1:0] f);
    logic unused_fault;                   // word 9 carries it
    unused_fault = ^dev[103:96];
    case (f)
      2'd0: dev_field = dev[31:0];
      2'd1: dev_field = dev[63:32];
      2'd2: dev_field = dev[95:64];
      default: dev_field = dev[135:104];
    endcase
  endfunction

  // Device k's dm slot from record words 1..9 (rec holds words 0..9, word j at [32j +: 32]).
  function automatic [135:0] rec_dev(input [(WW-1)*32-1:0] rec, input int unsigned k);
    rec_dev = {rec[32*(7+k) +: 32], rec[32*9 + 8*k +: 8], rec[32*(5+k) +: 32],
               rec[32*(3+k) +: 32], rec[32*(1+k) +: 32]};
  endfunction

  // TILE read: the addressed record's slots (mt_eng_lanerec.vh), and record word dj_q of them.
`include "mt_eng_lanerec.vh"
  // The line arrives two cycles after its address, from the memories' output registers (dl2_q
  // is its lane), and the lane's slots are registered (rl_q) before the word select: the
  // memories' read word through both selects into oword_q was the AC701 device's path #7 at
  // e28f436 (5.75 ns). The select then reads dj3_q, the word's index two cycles later: a TILE
  // read's word reaches oword_q a cycle after a GLOBAL read's (dv3_q, didx3_q).
  wire [LANES*512-1:0] rd_lanes = lane_records(gm_rdata_i, dm_rdata_i, lm_rdata_i, hm_rdata_i);
  logic [LREC-1:0] rl_q;
  logic [LW-1:0]   dl2_q;
  logic [JW-1:0]   dj2_q, dj3_q;
  always_ff @(posedge clk_i) begin
    dl2_q <= dl_q;
    rl_q <= rd_lanes[{dl2_q, 9'd0} +: LREC];
    dj2_q <= dj_q;
    dj3_q <= dj2_q;
  end
  wire [15:0] rd_gp = rl_q[15:0];
  wire [15:0] rd_gn = rl_q[31:16];
  wire [135:0] rd_dp = rl_q[32 +: 136];
  wire [135:0] rd_dn = rl_q[168 +: 136];
  wire [15:0] rd_lv = rl_q[304 +: 16];
  wire [31:0] rd_hv = rl_q[320 +: 32];
  logic [31:0] rd_word;
  always_comb begin
    case (dj3_q)
      4'd0: rd_word = {rd_gn, rd_gp};
      4'd1, 4'd2, 4'd3, 4'd4, 4'd5, 4'd6, 4'd7, 4'd8:
        rd_word = dev_field(dj3_q[0] ? rd_dp : rd_dn, 2'((dj3_q - 4'd1) >> 1));
      4'd9: rd_word = {rd_lv, rd_dn[103:96], rd_dp[103:96]};
      default: rd_word = rd_hv;
    endcase
  end

  // TILE write: the record being completed (words 0..9 in rec_q, word 10 on the payload port).
  wire [31:0] wr_g = rec_q[31:0];
  wire [15:0] wr_lv = rec_q[32*9+16 +: 16];
  wire [135:0] wr_dp = rec_dev(rec_q, 0);
  wire [135:0] wr_dn = rec_dev(rec_q, 1);
  wire tile_we = (st_q == S_TWR) && dv2_q && (j_q == JW'(WW - 1));

  // Advances a TILE position by one word.
  function automatic [MEM_AW+LW+JW-1:0] next_pos(input [MEM_AW-1:0] a, input [LW-1:0] l,
                                                 input [JW-1:0] j);
    logic [MEM_AW-1:0] na;
    logic [LW-1:0] nl;
    logic [JW-1:0] nj;
    na = a;
    nl = l;
    nj = j + JW'(1);
    if (j == JW'(WW - 1)) begin
      nj = '0;
      nl = l + LW'(1);
      if (l == LW'(LANES - 1)) begin
        nl = '0;
        na = a + MEM_AW'(1);
      end
    end
    next_pos = {na, nl, nj};
  endfunction

  // ---------------------------------------------------------------- control
  logic issue;
  logic vbad;                             // a validation check failed (S_EF0 fetches detail 1)
  logic fail;
  logic ok;
  logic [15:0] f_st;
  logic [31:0] f_d0, f_d1;

  always_comb begin
    st_d = st_q;
    wr_d = wr_q;
    hc_d = hc_q;
    sec_d = sec_q;
    idx_d = idx_q;
    off_d = off_q;
    cnt_d = cnt_q;
    done_d = 1'b0;
    status_d = status_q;
    det0_d = det0_q;
    det1_d = det1_q;
    nout_d = nout_q;
    iss_d = iss_q;
    dv_d = 1'b0;
    didx_d = iss_q;
    ov_d = 1'b0;
    oidx_d = didx_q;
    oword_d = oword_q;
    dph_d = dph_q;
    dnum_d = dnum_q;
    drem_d = drem_q;
    dden_d = dden_q;
    dstep_d = dstep_q;
    a_d = a_q;
    l_d = l_q;
    j_d = j_q;
    a0_d = a0_q;
    l0_d = l0_q;
    dl_d = l_q;
    dj_d = j_q;
    bad_d = bad_q;
    rs_d = rs_q;
    r0_d = r0_q;
    conf_d = conf_q;
    cfg_scan = 1'b0;
    ph3_d = ph3_q;
    lor_d = lor_q;
    lst_d = lst_q;
    rec_d = rec_q;
    issue = 1'b0;
    vbad = 1'b0;
    fail = 1'b0;
    ok = 1'b0;
    f_st = 16'(MT_ST_OK);
    f_d0 = '0;
    f_d1 = '0;

    case (st_q)
      S_IDLE: begin
        if (start_i) begin
          wr_d = (op_i == MT_OP_STATE_WRITE);
          hc_d = '0;
          cnt_d = wcount;
          if (op_i == MT_OP_STATE_WRITE ? (len_i < 32'd4) : (len_i != 32'd4)) begin
            fail = 1'b1;
            f_st = 16'(MT_ST_ERR_LENGTH);
            f_d0 = len_i;
            f_d1 = 32'd4;
          end else begin
            st_d = S_HDR;
          end
        end
      end

      S_HDR: begin
        hc_d = hc_q + 3'd1;
        case (hc_q)
          3'd2: sec_d = v;
          3'd3: idx_d = v;
          3'd4: off_d = v;
          3'd5: if (!wr_q) cnt_d = v;
          default: ;
        endcase
        if (hc_q == 3'd5) st_d = S_CHK;
      end

      S_CHK: begin
        iss_d = '0;
        fail = 1'b1;
        if (sec_bad_q) begin
          f_st = 16'(MT_ST_ERR_PARAM);
          f_d0 = 32'd0;
          f_d1 = sec_q;
        end else if (gidx_bad_q) begin
          f_st = 16'(MT_ST_ERR_RANGE);
          f_d0 = 32'd1;
          f_d1 = idx_q;
        end else if (tidx_bad_q) begin
          f_st = 16'(MT_ST_ERR_TILE);
          f_d0 = 32'd1;
          f_d1 = idx_q;
        end else if (off_bad_q) begin
          f_st = 16'(MT_ST_ERR_RANGE);
          f_d0 = 32'd2;
          f_d1 = off_q;
        end else if (cnt_q == 32'd0 || cnt_q > 32'(MT_STATE_CHUNK) || cnt_q > room_q) begin
          f_st = 16'(MT_ST_ERR_RANGE);
          f_d0 = 32'd3;
          f_d1 = cnt_q;
        end else if (!wr_q && cnt_q > cap_i) begin
          f_st = 16'(MT_ST_ERR_OVERFLOW);
          f_d0 = cnt_q;
          f_d1 = cap_i;
        end else if (wr_q && sec_glob_q && (off_nz_q || cnt_q != 32'(G_WORDS))) begin
          f_st = 16'(MT_ST_ERR_LENGTH);
          f_d0 = cnt_q;
          f_d1 = 32'(G_WORDS);
        end else begin
          fail = 1'b0;
          if (sec_glob_q) begin
            st_d = wr_q ? S_GVAL : S_GRD;
            conf_d = 1'b0;
          end else begin
            st_d = S_DIV;
            dph_d = 2'd0;
            dnum_d = DW'(off_q);
            drem_d = '0;
            dden_d = RW'(GRP_WORDS);
            dstep_d = SW'(DW);
          end
        end
      end

      S_DIV: begin
        dnum_d = dquo;
        drem_d = drem;
        dstep_d = dstep_q - 1'b1;
        if (dstep_q == SW'(1)) begin
          dstep_d = SW'(DW);
          drem_d = '0;
          dden_d = RW'(WW);
          case (dph_q)
            2'd0: begin
              // offset = (group address within the tile) * 11*LANES + lane * 11 + word
              a0_d = MEM_AW'(idx_q[5:0] * (ROWS * GROUPS)) + MEM_AW'(dquo);
              dnum_d = DW'(drem);
              dph_d = 2'd1;
            end
            2'd1: begin
              l0_d = LW'(dquo);
              a_d = a0_q;
              l_d = LW'(dquo);
              j_d = JW'(drem);
              if (!wr_q) begin
                st_d = S_TRD;
              end else if (drem != '0) begin
                fail = 1'b1;
                f_st = 16'(MT_ST_ERR_RANGE);
                f_d0 = 32'd2;
                f_d1 = off_q;
              end else begin
                dnum_d = DW'(cnt_q);
                dph_d = 2'd2;
              end
            end
            default: begin
              if (drem != '0) begin
                fail = 1'b1;
                f_st = 16'(MT_ST_ERR_LENGTH);
                f_d0 = cnt_q;
                f_d1 = 32'(WW);
              end else begin
                st_d = S_TVAL;
              end
            end
          endcase
        end
      end

      S_GRD, S_TRD: begin
        issue = (iss_q != total);
        if (issue) begin
          iss_d = iss_q + CW'(1);
          dv_d = 1'b1;
          if (st_q == S_TRD) {a_d, l_d, j_d} = next_pos(a_q, l_q, j_q);
        end
        // The register file's word arrives two cycles after its address, the tile memories'
        // line with its lane registered (rl_q) three.
        ov_d = st_q == S_GRD ? dv2_q : dv3_q;
        oidx_d = st_q == S_GRD ? didx2_q : didx3_q;
        oword_d = st_q == S_GRD ? g_rdata_i : rd_word;
        if (ov_q && oidx_q == total - CW'(1)) begin
          ok = 1'b1;
          nout_d = cnt_q;
        end
      end

      S_GVAL: begin
        issue = (iss_q != total) && (iss_q != CW'(G_LEVELS) || gap_q);
        if (issue) begin
          iss_d = iss_q + CW'(1);
          dv_d = 1'b1;
        end
        if (dv2_q) begin
          bad_d = didx2_q;
          if (didx2_q == CW'(0)) begin
            vbad = (v != VERSION);
          end else if (didx2_q == CW'(1)) begin
            vbad = (v > 32'd1);
            conf_d = v[0];
          end else if (didx2_q < CW'(G_LEVELS)) begin
            vbad = conf_q && cfg_bad;
            cfg_scan = 1'b1;
          end else if (didx2_q == CW'(G_LEVELS)) begin
            ph3_d = 2'd0;
            if (conf_q && rule_field != CFG_COUNT) begin
              vbad = 1'b1;
              bad_d = CW'(G_CFG) + CW'(rule_field);
            end else begin
              vbad = (v != 32'd0) && (v < 32'(MT_MIN_LEVELS) || v > 32'(MT_MAX_LEVELS));
            end
          end else if (didx2_q < CW'(G_META)) begin
            ph3_d = (ph3_q == 2'd2) ? 2'd0 : ph3_q + 2'd1;
            // Entry words: targets, pulse indices (<= MAX_PULSE_INDEX each), sigma.
            vbad = (ph3_q == 2'd2) ? (v > 32'h0000_FFFF)
                 : (ph3_q == 2'd1) && (v[15:0] > 16'(MT_MAX_PULSE_INDEX) ||
                                       v[31:16] > 16'(MT_MAX_PULSE_INDEX));
          end else if (didx2_q >= CW'(G_LANES) && didx2_q < CW'(G_COUNTERS)) begin
            lst_d = {v, lst_q[LANES*128-1:32]};
            lor_d = (lane_w == 2'd0) ? v : (lor_q | v);
            if (lane_w == 2'd3) begin
              vbad = ((lor_q | v) == 32'd0);
              bad_d = didx2_q - CW'(3);
            end
          end else if (didx2_q >= CW'(G_FAB)) begin
            vbad = ((v & ~fab_ok_w) != 32'd0);
          end
          if (vbad) begin
            st_d = S_EF0;
          end else if (last_data) begin
            st_d = S_GWR;
            iss_d = '0;
          end
        end
      end

      S_TVAL: begin
        issue = (iss_q != total);
        if (issue) begin
          iss_d = iss_q + CW'(1);
          dv_d = 1'b1;
        end
        if (dv2_q) begin
          j_d = (j_q == JW'(WW - 1)) ? '0 : j_q + JW'(1);
          bad_d = didx2_q;
          case (j_q)
            4'd0: begin
              r0_d = v;
              rs_d = didx2_q;
            end
            4'd1, 4'd2: begin
              if (tlo > thi) vbad = 1'b1;
              else if (tg < tlo || tg > thi) begin
                vbad = 1'b1;
                bad_d = rs_q;
              end
            end
            4'd9: vbad = (v[7:0] > 8'(MT_FAULT_WORN)) || (v[15:8] > 8'(MT_FAULT_WORN))
                         || (v[31:16] >= 16'(MT_MAX_LEVELS) && v[31:16] != 16'(MT_LEVEL_NONE));
            4'd10: vbad = (th > $signed(HIDDEN_MAX)) || (th < -$signed(HIDDEN_MAX));
            default: ;
          endcase
          if (vbad) begin
            st_d = S_EF0;
          end else if (last_data) begin
            st_d = S_TWR;
            iss_d = '0;
            a_d = a0_q;
            l_d = l0_q;
            j_d = '0;
          end
        end
      end

      S_GWR, S_TWR: begin
        issue = (iss_q != total);
        if (issue) begin
          iss_d = iss_q + CW'(1);
          dv_d = 1'b1;
        end
        if (dv2_q && st_q == S_TWR) begin
          rec_d = {v, rec_q[(WW-1)*32-1:32]};
          {a_d, l_d, j_d} = next_pos(a_q, l_q, j_q);
        end
        if (last_data) begin
          if (st_q == S_GWR) begin
            st_d = S_LOAD;
          end else begin
            ok = 1'b1;
            nout_d = '0;
          end
        end
      end

      S_LOAD: begin
        ok = 1'b1;
        nout_d = '0;
      end

      S_EF0: st_d = S_EFW;
      S_EFW: st_d = S_EF1;

      S_EF1: begin
        fail = 1'b1;
        f_st = 16'(MT_ST_ERR_SNAPSHOT);
        f_d0 = (sec_q == 32'(MT_SECTION_GLOBAL)) ? 32'(bad_q) : off_q + 32'(bad_q);
        f_d1 = v;
      end

      default: st_d = S_IDLE;
    endcase

    if (ok) begin
      done_d = 1'b1;
      st_d = S_IDLE;
      status_d = 16'(MT_ST_OK);
      det0_d = '0;
      det1_d = '0;
    end
    if (fail) begin
      done_d = 1'b1;
      st_d = S_IDLE;
      status_d = f_st;
      det0_d = f_d0;
      det1_d = f_d1;
      nout_d = '0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      st_q <= S_IDLE;
      done_q <= 1'b0;
      dv_q <= 1'b0;
      dv2_q <= 1'b0;
      dv3_q <= 1'b0;
      ov_q <= 1'b0;
    end else begin
      st_q <= st_d;
      done_q <= done_d;
      dv_q <= dv_d;
      dv2_q <= dv_q;
      dv3_q <= dv2_q;
      ov_q <= ov_d;
    end
    didx2_q <= didx_q;
    didx3_q <= didx2_q;
    wr_q <= wr_d;
    hc_q <= hc_d;
    sec_q <= sec_d;
    idx_q <= idx_d;
    off_q <= off_d;
    cnt_q <= cnt_d;
    room_q <= size - off_q;
    sec_bad_q <= sec_q > 32'(MT_SECTION_TILE);
    sec_glob_q <= sec_q == 32'(MT_SECTION_GLOBAL);
    gidx_bad_q <= sec_q == 32'(MT_SECTION_GLOBAL) && idx_q != 32'd0;
    tidx_bad_q <= sec_q == 32'(MT_SECTION_TILE) && idx_q >= 32'(TILES);
    off_bad_q <= off_q >= size;
    off_nz_q <= off_q != 32'd0;
    status_q <= status_d;
    det0_q <= det0_d;
    det1_q <= det1_d;
    nout_q <= nout_d;
    iss_q <= iss_d;
    didx_q <= didx_d;
    oidx_q <= oidx_d;
    oword_q <= oword_d;
    dph_q <= dph_d;
    dnum_q <= dnum_d;
    drem_q <= drem_d;
    dden_q <= dden_d;
    dstep_q <= dstep_d;
    a_q <= a_d;
    l_q <= l_d;
    j_q <= j_d;
    a0_q <= a0_d;
    l0_q <= l0_d;
    dl_q <= dl_d;
    dj_q <= dj_d;
    bad_q <= bad_d;
    rs_q <= rs_d;
    r0_q <= r0_d;
    conf_q <= conf_d;
    gap_q <= (st_q == S_GVAL) && (iss_q == CW'(G_LEVELS));
    ph3_q <= ph3_d;
    lor_q <= lor_d;
  end

  // The lane states and the record are on nz_load_state_o and the tile memories' write data
  // without gating: an engine must drive 0 only while idle, so these two registers are cleared
  // at the end of every command (and by rst_i) instead. The clear is the flip-flops' own
  // synchronous reset, where gating the outputs cost a LUT per bit (2048 + 320).
  always_ff @(posedge clk_i) begin
    if (rst_i || done_d) begin
      lst_q <= '0;
      rec_q <= '0;
    end else begin
      lst_q <= lst_d;
      rec_q <= rec_d;
    end
  end

  // ---------------------------------------------------------------- outputs
  wire [LANES-1:0] lane_1h = LANES'(1) << l_q;
  wire stream_pl = (st_q == S_GVAL) || (st_q == S_TVAL) || (st_q == S_GWR) || (st_q == S_TWR);

  always_comb begin
`include "mt_eng_idle.vh"
    done_o = done_q;
`include "mt_eng_done.vh"

    if (st_q == S_HDR) pl_addr_o = PL_AW'(hc_q);
    else if (stream_pl && issue) pl_addr_o = PL_AW'(iss_q) + PL_AW'(3);
    else if (st_q == S_EF0) pl_addr_o = PL_AW'(bad_q) + PL_AW'(3);

    if (ov_q) begin
      rsp_we_o = 1'b1;
      rsp_addr_o = PL_AW'(oidx_q);
      rsp_data_o = oword_q;
    end

    if (st_q == S_GWR && dv2_q) begin
      g_we_o = 1'b1;
      g_addr_o = 11'(didx2_q);
      g_wdata_o = v;
    end
    if (st_q == S_GRD && issue) g_raddr_o = 11'(off_q) + 11'(iss_q);

    nz_load_o = (st_q == S_LOAD);
    nz_load_state_o = lst_q;

    // A TILE read drives its address in every S_TRD cycle, not only the issuing ones (a read
    // has no effect, and the data stage follows the issue): the issue decision (the state's
    // counters and the GLOBAL gap) in front of the memories' address was the ECP5 device's
    // critical path at t14g 48569c9 (24.5 ns placed and routed, where the small tile memories
    // are distributed RAM read in the address's cycle).
    if (st_q == S_TRD || tile_we) begin
      gm_addr_o = a_q;
      dm_addr_o = a_q;
      lm_addr_o = a_q;
      hm_addr_o = a_q;
    end
    // From rec_q, which is 0 while idle; the payload word v is not, so hm_wdata_o is gated.
    gm_wdata_o = {{LANES{wr_g[31:16]}}, {LANES{wr_g[15:0]}}};
    dm_wdata_o = {{LANES{wr_dn}}, {LANES{wr_dp}}};
    lm_wdata_o = {LANES{wr_lv}};
    if (tile_we) begin
      gm_we_o = {lane_1h, lane_1h};
      dm_we_o = {lane_1h, lane_1h};
      lm_we_o = lane_1h;
      hm_we_o = lane_1h;
      hm_wdata_o = {LANES{v}};
    end
  end

  wire unused_inputs = ^{cfg_i, configured_i, levels_i, fabricated_i, lt_data_i, mt_data_i,
                         nz_avail_i, nz_u_i, nz_z_i, nz_state_i, fb_avail_i, fb_u_i, fb_z_i,
                         dsub[RW]};
endmodule
`default_nettype wire
