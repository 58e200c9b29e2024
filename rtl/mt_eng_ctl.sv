`default_nettype none
// Control engine (docs/rtl.md, "Engines"): the commands that only touch the register file or
// read digital registers of the tiles, and unknown opcodes. Behaviour: op_info, op_echo,
// op_configure, op_seed, op_set_levels, op_meta_table, op_read_levels, op_meta_read,
// op_stats_get, op_stats_reset in hls/mt_kernel.c, with the same checks in the same order.
//
// Every command is a fetch of its first payload words, a decision, and at most two loops over
// an index: a check loop (read payload word, test it) and a move loop (read a source word,
// write it to the response buffer or the register file). A payload word arrives two cycles
// after its address (the payload buffer's output is registered), as does a register-file word
// and a tile memory's word (one cycle to the memory's read word, one more to this engine's
// register of the cell's slot, tw_q). So a loop issues index i while it consumes the data of
// index i-2 (vld2_q, di2_q); only INFO's words, computed here, come a cycle after (vld_q, di_q).
module mt_eng_ctl #(
`include "mt_eng_params.vh"
) (
`include "mt_eng_ports.vh"
);
`include "mt_protocol.vh"

  // GLOBAL image word offsets = register-file word addresses (generated MT_G_*).
  localparam int unsigned G_CONFIGURED = MT_G_CONFIGURED;
  localparam int unsigned G_CFG = MT_G_CFG;
  localparam int unsigned G_LEVELS = MT_G_LEVELS;
  localparam int unsigned G_LEVEL_TABLE = MT_G_LEVEL_TABLE;
  localparam int unsigned G_META = MT_G_META;
  localparam int unsigned G_SEED = MT_G_SEED;
  localparam int unsigned G_COUNTERS = MT_G_COUNTERS;
  localparam int unsigned NFETCH = 6;
  localparam int unsigned LW = $clog2(LANES);

  typedef enum logic [2:0] {
    S_IDLE, S_FETCH, S_PRE, S_DECIDE, S_CHECK, S_MOVE, S_TAIL, S_DONE
  } state_e;
  // What a loop reads from / writes to.
  typedef enum logic [3:0] {
    M_ECHO, M_INFO, M_STATS, M_LEVELS, M_HIDDEN, M_CFG, M_LTAB, M_META, M_SEED
  } move_e;

  state_e      state_q;
  move_e       move_q;
  logic [7:0]  op_q;
  logic [31:0] len_q;
  logic [31:0] a_q [NFETCH];       // payload words 0..5
  logic [31:0] i_q;                // index being issued
  logic [31:0] n_q;                // loop count
  logic        vld_q;              // a read was issued last cycle
  logic [31:0] di_q;               // its index (a tile word arrives now)
  logic        vld2_q;             // a read was issued two cycles ago
  logic [31:0] di2_q;              // its index (a payload or register-file word arrives now)
  logic [15:0] status_q;
  logic [31:0] det0_q, det1_q, nout_q;
  // CONFIGURE's rules (mt_cfg_check) cover a field two cycles after its word arrives: the
  // check waits one cycle after the loop's last cycle (rwait_q) for them.
  logic                    rwait_q;
  // READ_LEVELS / META_READ region walk.
  logic [31:0] row_q, col_q;
`include "mt_eng_fail.vh"

  // Region checks of READ_LEVELS / META_READ (check_region in the model).
  logic [31:0] region_idx_q, region_val_q;
  logic        region_bad_q;
  logic [63:0] region_words_q;
  // Registered: the fetch writes its last word of a_q at least one cycle before S_DECIDE (the
  // cycle with vld_q low), so these are a_q's in S_DECIDE.
  mt_region_check_q #(.ROWS(ROWS), .COLS(COLS)) u_region (
    .clk_i, .row0_i(a_q[1]), .nrows_i(a_q[2]), .col0_i(a_q[3]), .ncols_i(a_q[4]),
    .bad_q_o(region_bad_q), .bad_word_q_o(region_idx_q), .bad_val_q_o(region_val_q),
    .cells_q_o(region_words_q)
  );
  // The overflow check, registered in S_PRE (READ_LEVELS and META_READ only, one cycle more
  // each; cap_i holds for the whole command): the cell count leaves the multiplier's output
  // register (a DSP48, 1.7 ns clock-to-out), and its compare in front of S_DECIDE's chain of
  // checks and state decode was this engine's slowest path (4.99 ns alone).
  logic region_over_q;
  always_ff @(posedge clk_i) region_over_q <= region_words_q > 64'(cap_i);

  function automatic logic [31:0] info_word(input logic [31:0] i);
    case (i)
      MT_INFO_VERSION: info_word = (MT_PROTO_MAJOR << 16) | MT_PROTO_MINOR;
      MT_INFO_ROWS: info_word = ROWS;
      MT_INFO_COLS: info_word = COLS;
      MT_INFO_TILES: info_word = TILES;
      MT_INFO_LANES: info_word = LANES;
      MT_INFO_MAX_LEVELS: info_word = MT_MAX_LEVELS;
      MT_INFO_MAX_PAYLOAD: info_word = CMD_WORDS;
      MT_INFO_MAX_BATCH: info_word = MT_MAX_BATCH;
      MT_INFO_PRNG: info_word = 32'd1;
      MT_INFO_GAUSS: info_word = 32'd1;
      MT_INFO_CONFIG_WORDS: info_word = CFG_COUNT;
      MT_INFO_COUNTERS: info_word = CNT_COUNT;
      MT_INFO_FEATURES: info_word = MT_FEATURES;
      default: info_word = 32'd0;
    endcase
  endfunction

  // Tile-memory address and slot of the region cell (row_q, col_q) of tile a_q[0].
  logic [MEM_AW-1:0] cell_addr;
  logic [LW-1:0]     cell_lane;
  logic [LW-1:0]     lane_q, lane2_q;  // lane of the cell whose word is read, arrives now
  assign cell_addr = MEM_AW'((a_q[0] * ROWS + row_q) * GROUPS + (col_q >> LW));
  assign cell_lane = LW'(col_q);

  // Payload word of SET_LEVELS check index i (see chk_addr).
  // Times 3 as a shift and an add: no multiplier (small parts have none to spare).
  function automatic logic [31:0] lt_word(input logic [31:0] i);
    lt_word = 32'd2 + ((i >> 1) << 1) + (i >> 1) + {31'd0, i[0]};
  endfunction
  // L * MT_LEVEL_ENTRY_WORDS (3), L = a_q[0], and SET_LEVELS' length 1 + 3L with its check,
  // registered: a_q[0] is written at least one cycle before S_DECIDE (see u_region), and the
  // sum and 32-bit compare into the fail logic were this engine's slowest path (5.75 ns).
  logic [31:0] set_levels_words_q, set_levels_len_q;
  logic        set_levels_len_bad_q;
  always_ff @(posedge clk_i) begin
    set_levels_words_q   <= (a_q[0] << 1) + a_q[0];
    set_levels_len_q     <= 32'd1 + (a_q[0] << 1) + a_q[0];
    set_levels_len_bad_q <= len_q != 32'd1 + (a_q[0] << 1) + a_q[0];
  end
  if (MT_LEVEL_ENTRY_WORDS != 3) begin : g_entry_words
    $error("mt_eng_ctl: the level-table arithmetic assumes 3 words per entry");
  end

  // Payload address of loop index i, per loop.
  logic [PL_AW-1:0] chk_addr, move_src;
  always_comb begin
    // SET_LEVELS checks, per entry q, the pulse word 1 + 3q + 1 (index 2q) and the sigma word
    // 1 + 3q + 2 (index 2q + 1); CONFIGURE checks every field.
    chk_addr = PL_AW'(op_q == MT_OP_SET_LEVELS ? lt_word(i_q) : i_q);
    move_src = PL_AW'(move_q == M_LTAB ? 32'd1 + i_q : i_q);
  end

  // CONFIGURE's field checks (shared with the state engine's GLOBAL images). Its indices are
  // below CFG_COUNT (the length is checked first), so a field is its index's low CFW bits: the
  // word di2_q arriving now, its bounds looked up from di_q a cycle before.
  localparam int unsigned CFW = $clog2(CFG_COUNT);
  logic        cfg_bad;
  logic [31:0] rule_field, rule_value;
  mt_cfg_check #(.CFW(CFW)) u_cfg_check (
    .clk_i, .ahead_i(CFW'(di_q)),
    .scan_i(state_q == S_CHECK && op_q == MT_OP_CONFIGURE && vld2_q),
    .field_i(CFW'(di2_q)), .word_i(pl_data_i), .out_of_range_o(cfg_bad),
    .rule_field_o(rule_field), .rule_value_o(rule_value)
  );

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      state_q <= S_IDLE;
      vld_q <= 1'b0;
    end else begin
      case (state_q)
        S_IDLE: if (start_i) begin
          rwait_q <= 1'b0;
          op_q <= op_i;
          len_q <= len_i;
          i_q <= '0;
          vld_q <= 1'b0;
          status_q <= {8'd0, MT_ST_OK};
          det0_q <= '0;
          det1_q <= '0;
          nout_q <= '0;
          state_q <= S_FETCH;
        end
        S_FETCH: begin
          // Words 0..min(len, NFETCH)-1 into a_q.
          if (vld2_q) a_q[di2_q[2:0]] <= pl_data_i;
          di_q <= i_q;
          if (i_q < len_q && i_q < NFETCH) begin
            vld_q <= 1'b1;
            i_q <= i_q + 1;
          end else begin
            vld_q <= 1'b0;
            if (!vld_q && !vld2_q)
              state_q <= op_q == MT_OP_READ_LEVELS || op_q == MT_OP_META_READ ? S_PRE : S_DECIDE;
          end
        end
        S_PRE: state_q <= S_DECIDE;  // region_over_q
        S_DECIDE: begin
          i_q <= '0;
          vld_q <= 1'b0;
          state_q <= S_DONE;
          case (op_q)
            MT_OP_NOP: ;
            MT_OP_INFO:
              if (len_q != 0) fail(MT_ST_ERR_LENGTH, len_q, 32'd0);
              else if (cap_i < MT_INFO_COUNT) fail(MT_ST_ERR_OVERFLOW, MT_INFO_COUNT, cap_i);
              else start_move(M_INFO, MT_INFO_COUNT, MT_INFO_COUNT);
            MT_OP_ECHO:
              if (len_q > cap_i) fail(MT_ST_ERR_OVERFLOW, len_q, cap_i);
              else start_move(M_ECHO, len_q, len_q);
            MT_OP_CONFIGURE:
              if (len_q != CFG_COUNT) fail(MT_ST_ERR_LENGTH, len_q, CFG_COUNT);
              else begin
                n_q <= CFG_COUNT;
                state_q <= S_CHECK;
              end
            MT_OP_SEED:
              if (len_q != 2) fail(MT_ST_ERR_LENGTH, len_q, 32'd2);
              else start_move(M_SEED, 32'd2, 32'd0);
            MT_OP_SET_LEVELS:
              if (len_q < 1) fail(MT_ST_ERR_LENGTH, len_q, 32'd1);
              else if (a_q[0] < MT_MIN_LEVELS || a_q[0] > MT_MAX_LEVELS)
                fail(MT_ST_ERR_PARAM, 32'd0, a_q[0]);
              else if (set_levels_len_bad_q)
                fail(MT_ST_ERR_LENGTH, len_q, set_levels_len_q);
              else begin
                n_q <= 2 * a_q[0];
                state_q <= S_CHECK;
              end
            MT_OP_META_TABLE:
              if (len_q != MT_META_TABLE_SIZE / 2)
                fail(MT_ST_ERR_LENGTH, len_q, MT_META_TABLE_SIZE / 2);
              else start_move(M_META, MT_META_TABLE_SIZE / 2, 32'd0);
            MT_OP_READ_LEVELS, MT_OP_META_READ:
              if (len_q != 5) fail(MT_ST_ERR_LENGTH, len_q, 32'd5);
              else if (a_q[0] >= TILES) fail(MT_ST_ERR_TILE, 32'd0, a_q[0]);
              else if (region_bad_q) fail(MT_ST_ERR_RANGE, region_idx_q, region_val_q);
              else if (region_over_q) fail(MT_ST_ERR_OVERFLOW, region_words_q[31:0], cap_i);
              else begin
                row_q <= a_q[1];
                col_q <= a_q[3];
                start_move(op_q == MT_OP_READ_LEVELS ? M_LEVELS : M_HIDDEN, region_words_q[31:0],
                           region_words_q[31:0]);
              end
            MT_OP_STATS_GET:
              if (len_q != 0) fail(MT_ST_ERR_LENGTH, len_q, 32'd0);
              else if (cap_i < 2 * CNT_COUNT) fail(MT_ST_ERR_OVERFLOW, 2 * CNT_COUNT, cap_i);
              else start_move(M_STATS, 2 * CNT_COUNT, 2 * CNT_COUNT);
            MT_OP_STATS_RESET:
              if (len_q != 0) fail(MT_ST_ERR_LENGTH, len_q, 32'd0);
            default: fail(MT_ST_ERR_OPCODE, {24'd0, op_q}, 32'd0);
          endcase
        end
        S_CHECK: begin
          // Issue reads of the words to check; test the word that arrives.
          di_q <= i_q;
          if (i_q < n_q) begin
            vld_q <= 1'b1;
            i_q <= i_q + 1;
          end else begin
            vld_q <= 1'b0;
          end
          if (vld2_q) begin
            if (op_q == MT_OP_CONFIGURE) begin
              if (cfg_bad) begin
                fail(MT_ST_ERR_PARAM, di2_q, pl_data_i);
                vld_q <= 1'b0;
                state_q <= S_DONE;
              end
            end else if (di2_q[0] ? pl_data_i > 32'hFFFF  // SET_LEVELS sigma word
                         : (pl_data_i[15:0] > 16'(MT_MAX_PULSE_INDEX) ||  // pulse indices
                            pl_data_i[31:16] > 16'(MT_MAX_PULSE_INDEX))) begin
              fail(MT_ST_ERR_PARAM, lt_word(di2_q), pl_data_i);
              vld_q <= 1'b0;
              state_q <= S_DONE;
            end
          end else if (i_q >= n_q && !vld_q) begin
            // Scan finished without a failure.
            if (op_q == MT_OP_CONFIGURE) begin
              rwait_q <= 1'b1;  // the registered rules see the last field one cycle later
              if (rwait_q && rule_field != CFG_COUNT) begin
                fail(MT_ST_ERR_PARAM, rule_field, rule_value);
                state_q <= S_DONE;
              end else if (rwait_q) begin
                start_move(M_CFG, CFG_COUNT, 32'd0);
              end
            end else begin
              start_move(M_LTAB, set_levels_words_q, 32'd0);
            end
          end
        end
        S_MOVE: begin
          di_q <= i_q;
          lane_q <= cell_lane;
          if (i_q < n_q) begin
            vld_q <= 1'b1;
            i_q <= i_q + 1;
            if (col_q + 1 == a_q[3] + a_q[4]) begin
              col_q <= a_q[3];
              row_q <= row_q + 1;
            end else begin
              col_q <= col_q + 1;
            end
          end else begin
            vld_q <= 1'b0;
            if (!vld_q && !(move2 && vld2_q)) state_q <= S_TAIL;
          end
        end
        S_TAIL: state_q <= S_DONE;  // the single-word register writes happen here (comb)
        S_DONE: state_q <= S_IDLE;
        default: state_q <= S_IDLE;
      endcase
    end
  end

  // A loop that leaves its state early (a failed check) leaves at most a stale vld2_q for
  // S_DONE, which reads none.
  always_ff @(posedge clk_i) begin
    if (rst_i) vld2_q <= 1'b0;
    else vld2_q <= vld_q && (state_q == S_FETCH || state_q == S_CHECK || state_q == S_MOVE);
    di2_q <= di_q;
  end

  task automatic start_move(input move_e m, input logic [31:0] n, input logic [31:0] nout);
    move_q <= m;
    n_q <= n;
    nout_q <= nout;
    i_q <= '0;
    vld_q <= 1'b0;
    state_q <= S_MOVE;
  endtask

  // Outputs: all zero unless this engine is the active one.
  logic active;
  assign active = state_q != S_IDLE;
  // Moves whose source word arrives two cycles after its address: all but INFO's.
  logic move2;
  assign move2 = move_q != M_INFO;
  // The cell's slot of the tile memories' read word, which arrives from their output registers
  // two cycles after its address (lane2_q is its lane). From the memory's unregistered read
  // word through the lane select into the response buffer's data was the AC701 device's path
  // #4 at e28f436 (5.79 ns).
  logic [31:0] tw;
  always_ff @(posedge clk_i) lane2_q <= lane_q;
  assign tw = move_q == M_LEVELS ? {16'd0, lm_rdata_i[16*lane2_q +: 16]} : hm_rdata_i[32*lane2_q +: 32];

  always_comb begin
`include "mt_eng_idle.vh"
    done_o = state_q == S_DONE;
`include "mt_eng_done.vh"

    if (state_q == S_FETCH) pl_addr_o = PL_AW'(i_q);
    else if (state_q == S_CHECK) pl_addr_o = chk_addr;
    else if (state_q == S_MOVE) pl_addr_o = move_src;

    if (state_q == S_MOVE && move_q == M_STATS) g_raddr_o = 11'(G_COUNTERS + i_q);
    if (state_q == S_MOVE && move_q == M_LEVELS) lm_addr_o = cell_addr;
    if (state_q == S_MOVE && move_q == M_HIDDEN) hm_addr_o = cell_addr;

    // Move loop: the word of index di2_q (payload, register file) or di_q (the others)
    // arrives this cycle.
    if (state_q == S_MOVE && move2 && vld2_q) begin
      case (move_q)
        M_CFG, M_LTAB, M_META, M_SEED: begin
          g_we_o = 1'b1;
          case (move_q)
            M_CFG: g_addr_o = 11'(G_CFG + di2_q);
            M_LTAB: g_addr_o = 11'(G_LEVEL_TABLE + di2_q);
            M_META: g_addr_o = 11'(G_META + di2_q);
            default: g_addr_o = 11'(G_SEED + di2_q);
          endcase
          g_wdata_o = pl_data_i;
        end
        default: begin
          rsp_we_o = 1'b1;
          rsp_addr_o = PL_AW'(di2_q);
          rsp_data_o = move_q == M_STATS ? g_rdata_i
                     : (move_q == M_LEVELS || move_q == M_HIDDEN) ? tw : pl_data_i;
        end
      endcase
    end
    if (state_q == S_MOVE && !move2 && vld_q) begin
      rsp_we_o = 1'b1;
      rsp_addr_o = PL_AW'(di_q);
      rsp_data_o = info_word(di_q);
    end
    // Final single-word writes of CONFIGURE (configured = 1), SET_LEVELS (L) and SEED.
    if (state_q == S_TAIL && status_q == 0) begin
      case (op_q)
        MT_OP_CONFIGURE: begin
          g_we_o = 1'b1;
          g_addr_o = 11'(G_CONFIGURED);
          g_wdata_o = 32'd1;
        end
        MT_OP_SET_LEVELS: begin
          g_we_o = 1'b1;
          g_addr_o = 11'(G_LEVELS);
          g_wdata_o = a_q[0];
        end
        MT_OP_SEED: begin
          nz_seed_o = 1'b1;
          nz_seed_val_o = {a_q[1], a_q[0]};
        end
        default: ;
      endcase
    end
    cnt_clear_o = done_o && op_q == MT_OP_STATS_RESET && status_q == 0;
  end

  wire unused_inputs = ^{active, configured_i, levels_i, fabricated_i, lt_data_i, mt_data_i,
                         nz_avail_i, nz_u_i, nz_z_i, nz_state_i, fb_avail_i, fb_u_i, fb_z_i,
                         gm_rdata_i, dm_rdata_i, cfg_i};
endmodule
`default_nettype wire
