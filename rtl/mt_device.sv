`default_nettype none
// The whole emulated device (docs/rtl.md, "The device: architecture and interfaces"): an
// AXI4-Stream command processor that runs the loop of mt_kernel() (hls/mt_kernel.c) over the
// words of one transfer, the engines that execute commands, and the memories they share.
module mt_device #(
  parameter int unsigned TILES = 16,
  parameter int unsigned ROWS = 128,
  parameter int unsigned COLS = 128,
  parameter int unsigned LANES = 16,
  parameter int unsigned CMD_WORDS = 65536,
  parameter int unsigned MVM_R = 1      // tile rows per MVM cycle: 1, 2 or 4 (mt_eng_mvm R)
) (
  input  wire         clk_i,
  input  wire         rst_i,
  input  wire  [31:0] s_axis_tdata_i,
  input  wire         s_axis_tvalid_i,
  output logic        s_axis_tready_o,
  input  wire         s_axis_tlast_i,
  output logic [31:0] m_axis_tdata_o,
  output logic        m_axis_tvalid_o,
  input  wire         m_axis_tready_i,
  output logic        m_axis_tlast_o,
  input  wire  [31:0] rsp_cap_i,
  output logic        done_o,
  output logic [31:0] consumed_o,
  output logic [31:0] rsp_words_o,
  output logic        busy_o,
  output logic [63:0] cycles_o
);
`include "mt_protocol.vh"

  localparam int unsigned GROUPS = COLS / LANES;
  localparam int unsigned MEM_WORDS = TILES * ROWS * GROUPS;
  localparam int unsigned MEM_AW = $clog2(MEM_WORDS);
  localparam int unsigned PL_AW = $clog2(CMD_WORDS);
  localparam int unsigned CFG_COUNT = MT_CFG_COUNT;
  localparam int unsigned CNT_COUNT = MT_CNT_COUNT;
  localparam int unsigned NENG = 5;
  localparam int unsigned E_CTL = 0, E_FAB = 1, E_MVM = 2, E_PROG = 3, E_STATE = 4;

  // Engine that owns an opcode (unknown opcodes: the control engine answers ERR_OPCODE).
  function automatic int unsigned engine_of(input logic [7:0] op);
    case (op)
      MT_OP_FABRICATE, MT_OP_DRIFT, MT_OP_READ_CELLS, MT_OP_READ_LIST: engine_of = E_FAB;
      MT_OP_MVM: engine_of = E_MVM;
      MT_OP_PROGRAM, MT_OP_PULSE, MT_OP_META_WRITE, MT_OP_META_UPDATE: engine_of = E_PROG;
      MT_OP_STATE_READ, MT_OP_STATE_WRITE: engine_of = E_STATE;
      default: engine_of = E_CTL;
    endcase
  endfunction

  // ---------------------------------------------------------------- shared buses
  logic [NENG*(1)-1:0] e_done;
  logic [(1)-1:0] b_done;
  logic [NENG*(16)-1:0] e_status;
  logic [(16)-1:0] b_status;
  logic [NENG*(32)-1:0] e_detail0;
  logic [(32)-1:0] b_detail0;
  logic [NENG*(32)-1:0] e_detail1;
  logic [(32)-1:0] b_detail1;
  logic [NENG*(32)-1:0] e_n_out;
  logic [(32)-1:0] b_n_out;
  logic [NENG*(PL_AW)-1:0] e_pl_addr;
  logic [(PL_AW)-1:0] b_pl_addr;
  logic [NENG*(1)-1:0] e_rsp_we;
  logic [(1)-1:0] b_rsp_we;
  logic [NENG*(PL_AW)-1:0] e_rsp_addr;
  logic [(PL_AW)-1:0] b_rsp_addr;
  logic [NENG*(32)-1:0] e_rsp_data;
  logic [(32)-1:0] b_rsp_data;
  logic [NENG*(8)-1:0] e_lt_addr;
  logic [(8)-1:0] b_lt_addr;
  logic [NENG*(8)-1:0] e_mt_addr;
  logic [(8)-1:0] b_mt_addr;
  logic [NENG*(1)-1:0] e_g_we;
  logic [(1)-1:0] b_g_we;
  logic [NENG*(11)-1:0] e_g_addr;
  logic [(11)-1:0] b_g_addr;
  logic [NENG*(32)-1:0] e_g_wdata;
  logic [(32)-1:0] b_g_wdata;
  logic [NENG*(11)-1:0] e_g_raddr;
  logic [(11)-1:0] b_g_raddr;
  logic [NENG*(1)-1:0] e_fab_set;
  logic [(1)-1:0] b_fab_set;
  logic [NENG*(6)-1:0] e_fab_tile;
  logic [(6)-1:0] b_fab_tile;
  logic [NENG*(CNT_COUNT*32)-1:0] e_cnt_inc;
  logic [(CNT_COUNT*32)-1:0] b_cnt_inc;
  logic [NENG*(1)-1:0] e_cnt_clear;
  logic [(1)-1:0] b_cnt_clear;
  logic [NENG*(LANES*2)-1:0] e_nz_take;
  logic [(LANES*2)-1:0] b_nz_take;
  logic [NENG*(1)-1:0] e_nz_seed;
  logic [(1)-1:0] b_nz_seed;
  logic [NENG*(64)-1:0] e_nz_seed_val;
  logic [(64)-1:0] b_nz_seed_val;
  logic [NENG*(1)-1:0] e_nz_load;
  logic [(1)-1:0] b_nz_load;
  logic [NENG*(LANES*128)-1:0] e_nz_load_state;
  logic [(LANES*128)-1:0] b_nz_load_state;
  logic [NENG*(LANES*2)-1:0] e_fb_take;
  logic [(LANES*2)-1:0] b_fb_take;
  logic [NENG*(1)-1:0] e_fb_seed;
  logic [(1)-1:0] b_fb_seed;
  logic [NENG*(64)-1:0] e_fb_seed_val;
  logic [(64)-1:0] b_fb_seed_val;
  logic [NENG*(MEM_AW)-1:0] e_gm_addr;
  logic [(MEM_AW)-1:0] b_gm_addr;
  logic [NENG*(LANES*2)-1:0] e_gm_we;
  logic [(LANES*2)-1:0] b_gm_we;
  logic [NENG*(LANES*2*16)-1:0] e_gm_wdata;
  logic [(LANES*2*16)-1:0] b_gm_wdata;
  logic [NENG*(MEM_AW)-1:0] e_dm_addr;
  logic [(MEM_AW)-1:0] b_dm_addr;
  logic [NENG*(LANES*2)-1:0] e_dm_we;
  logic [(LANES*2)-1:0] b_dm_we;
  logic [NENG*(LANES*2*136)-1:0] e_dm_wdata;
  logic [(LANES*2*136)-1:0] b_dm_wdata;
  logic [NENG*(MEM_AW)-1:0] e_lm_addr;
  logic [(MEM_AW)-1:0] b_lm_addr;
  logic [NENG*(LANES)-1:0] e_lm_we;
  logic [(LANES)-1:0] b_lm_we;
  logic [NENG*(LANES*16)-1:0] e_lm_wdata;
  logic [(LANES*16)-1:0] b_lm_wdata;
  logic [NENG*(MEM_AW)-1:0] e_hm_addr;
  logic [(MEM_AW)-1:0] b_hm_addr;
  logic [NENG*(LANES)-1:0] e_hm_we;
  logic [(LANES)-1:0] b_hm_we;
  logic [NENG*(LANES*32)-1:0] e_hm_wdata;
  logic [(LANES*32)-1:0] b_hm_wdata;
  always_comb begin
    b_done = '0;
    b_status = '0;
    b_detail0 = '0;
    b_detail1 = '0;
    b_n_out = '0;
    b_pl_addr = '0;
    b_rsp_we = '0;
    b_rsp_addr = '0;
    b_rsp_data = '0;
    b_lt_addr = '0;
    b_mt_addr = '0;
    b_g_we = '0;
    b_g_addr = '0;
    b_g_wdata = '0;
    b_g_raddr = '0;
    b_fab_set = '0;
    b_fab_tile = '0;
    b_cnt_inc = '0;
    b_cnt_clear = '0;
    b_nz_take = '0;
    b_nz_seed = '0;
    b_nz_seed_val = '0;
    b_nz_load = '0;
    b_nz_load_state = '0;
    b_fb_take = '0;
    b_fb_seed = '0;
    b_fb_seed_val = '0;
    b_gm_addr = '0;
    b_gm_we = '0;
    b_gm_wdata = '0;
    b_dm_addr = '0;
    b_dm_we = '0;
    b_dm_wdata = '0;
    b_lm_addr = '0;
    b_lm_we = '0;
    b_lm_wdata = '0;
    b_hm_addr = '0;
    b_hm_we = '0;
    b_hm_wdata = '0;
    for (int unsigned e = 0; e < NENG; e++) begin
      b_done = b_done | e_done[e*(1) +: (1)];
      b_status = b_status | e_status[e*(16) +: (16)];
      b_detail0 = b_detail0 | e_detail0[e*(32) +: (32)];
      b_detail1 = b_detail1 | e_detail1[e*(32) +: (32)];
      b_n_out = b_n_out | e_n_out[e*(32) +: (32)];
      b_pl_addr = b_pl_addr | e_pl_addr[e*(PL_AW) +: (PL_AW)];
      b_rsp_we = b_rsp_we | e_rsp_we[e*(1) +: (1)];
      b_rsp_addr = b_rsp_addr | e_rsp_addr[e*(PL_AW) +: (PL_AW)];
      b_rsp_data = b_rsp_data | e_rsp_data[e*(32) +: (32)];
      b_lt_addr = b_lt_addr | e_lt_addr[e*(8) +: (8)];
      b_mt_addr = b_mt_addr | e_mt_addr[e*(8) +: (8)];
      b_g_we = b_g_we | e_g_we[e*(1) +: (1)];
      b_g_addr = b_g_addr | e_g_addr[e*(11) +: (11)];
      b_g_wdata = b_g_wdata | e_g_wdata[e*(32) +: (32)];
      b_g_raddr = b_g_raddr | e_g_raddr[e*(11) +: (11)];
      b_fab_set = b_fab_set | e_fab_set[e*(1) +: (1)];
      b_fab_tile = b_fab_tile | e_fab_tile[e*(6) +: (6)];
      b_cnt_inc = b_cnt_inc | e_cnt_inc[e*(CNT_COUNT*32) +: (CNT_COUNT*32)];
      b_cnt_clear = b_cnt_clear | e_cnt_clear[e*(1) +: (1)];
      b_nz_take = b_nz_take | e_nz_take[e*(LANES*2) +: (LANES*2)];
      b_nz_seed = b_nz_seed | e_nz_seed[e*(1) +: (1)];
      b_nz_seed_val = b_nz_seed_val | e_nz_seed_val[e*(64) +: (64)];
      b_nz_load = b_nz_load | e_nz_load[e*(1) +: (1)];
      b_nz_load_state = b_nz_load_state | e_nz_load_state[e*(LANES*128) +: (LANES*128)];
      b_fb_take = b_fb_take | e_fb_take[e*(LANES*2) +: (LANES*2)];
      b_fb_seed = b_fb_seed | e_fb_seed[e*(1) +: (1)];
      b_fb_seed_val = b_fb_seed_val | e_fb_seed_val[e*(64) +: (64)];
      b_gm_addr = b_gm_addr | e_gm_addr[e*(MEM_AW) +: (MEM_AW)];
      b_gm_we = b_gm_we | e_gm_we[e*(LANES*2) +: (LANES*2)];
      b_gm_wdata = b_gm_wdata | e_gm_wdata[e*(LANES*2*16) +: (LANES*2*16)];
      b_dm_addr = b_dm_addr | e_dm_addr[e*(MEM_AW) +: (MEM_AW)];
      b_dm_we = b_dm_we | e_dm_we[e*(LANES*2) +: (LANES*2)];
      b_dm_wdata = b_dm_wdata | e_dm_wdata[e*(LANES*2*136) +: (LANES*2*136)];
      b_lm_addr = b_lm_addr | e_lm_addr[e*(MEM_AW) +: (MEM_AW)];
      b_lm_we = b_lm_we | e_lm_we[e*(LANES) +: (LANES)];
      b_lm_wdata = b_lm_wdata | e_lm_wdata[e*(LANES*16) +: (LANES*16)];
      b_hm_addr = b_hm_addr | e_hm_addr[e*(MEM_AW) +: (MEM_AW)];
      b_hm_we = b_hm_we | e_hm_we[e*(LANES) +: (LANES)];
      b_hm_wdata = b_hm_wdata | e_hm_wdata[e*(LANES*32) +: (LANES*32)];
    end
  end

  // ---------------------------------------------------------------- register file, lanes
  logic [CFG_COUNT*32-1:0] cfg;
  logic                    configured;
  logic [8:0]              levels;
  logic [63:0]             fabricated;
  logic [95:0]             lt_data;
  logic [15:0]             mt_data;
  logic [31:0]             g_rdata;
  logic                    cnt_busy, rf_busy;
  logic [LANES-1:0]        nz_avail, fb_avail;
  logic [LANES*64-1:0]     nz_u, fb_u;
  logic [LANES*32-1:0]     nz_z, fb_z;
  logic [LANES*128-1:0]    nz_state, fb_state;

  mt_regfile #(.LANES(LANES), .CFG_COUNT(CFG_COUNT), .CNT_COUNT(CNT_COUNT)) u_regfile (
    .clk_i(clk_i), .rst_i(rst_i), .busy_o(rf_busy), .cfg_o(cfg), .configured_o(configured),
    .levels_o(levels), .fabricated_o(fabricated), .lt_addr_i(b_lt_addr), .lt_data_o(lt_data),
    .mt_addr_i(b_mt_addr), .mt_data_o(mt_data), .g_we_i(b_g_we), .g_addr_i(b_g_addr),
    .g_wdata_i(b_g_wdata), .g_raddr_i(b_g_raddr), .g_rdata_o(g_rdata), .fab_set_i(b_fab_set),
    .fab_tile_i(b_fab_tile), .cnt_inc_i(b_cnt_inc), .cnt_clear_i(b_cnt_clear),
    .cnt_busy_o(cnt_busy), .nz_state_i(nz_state)
  );

  mt_draw_lanes #(.LANES(LANES)) u_noise (
    .clk_i(clk_i), .rst_i(rst_i), .seed_i(b_nz_seed), .seed_val_i(b_nz_seed_val),
    .load_i(b_nz_load), .load_state_i(b_nz_load_state), .avail_o(nz_avail), .u_o(nz_u),
    .z_o(nz_z), .take_i(b_nz_take), .state_o(nz_state)
  );

  mt_draw_lanes #(.LANES(LANES)) u_fab (
    .clk_i(clk_i), .rst_i(rst_i), .seed_i(b_fb_seed), .seed_val_i(b_fb_seed_val),
    .load_i(1'b0), .load_state_i('0), .avail_o(fb_avail), .u_o(fb_u),
    .z_o(fb_z), .take_i(b_fb_take), .state_o(fb_state)
  );

  // ---------------------------------------------------------------- memories
  logic [PL_AW-1:0]       pl_waddr;
  logic                   pl_we;
  logic [31:0]            pl_rdata, rsp_rdata;
  logic [PL_AW-1:0]       rsp_raddr;

  // The payload buffer's output is registered: every engine takes a payload word two cycles
  // after its address (docs/rtl.md). Its read word fed compares and check chains in every
  // engine, the AC701 device's slowest paths (6.57 ns at t14b 1457a7d).
  mt_sram #(.WORDS(CMD_WORDS), .SLOTS(1), .SLOT_W(32), .OUT_REG(1'b1)) u_payload (
    .clk_i(clk_i), .waddr_i(pl_waddr), .we_i(pl_we), .wdata_i(s_axis_tdata_i),
    .raddr_i(b_pl_addr), .rdata_o(pl_rdata)
  );
  mt_sram #(.WORDS(CMD_WORDS), .SLOTS(1), .SLOT_W(32)) u_response (
    .clk_i(clk_i), .waddr_i(b_rsp_addr), .we_i(b_rsp_we), .wdata_i(b_rsp_data),
    .raddr_i(rsp_raddr), .rdata_o(rsp_rdata)
  );

  // Power-on clear of the tile memories, one word per cycle.
  logic              clearing_q;
  logic [MEM_AW-1:0] clr_q;
  logic [MEM_AW-1:0] gm_a, dm_a, lm_a, hm_a;
  logic [LANES*2-1:0] gm_we, dm_we;
  logic [LANES-1:0]   lm_we, hm_we;
  logic [LANES*2*16-1:0]  gm_wd, gm_rdata;
  logic [LANES*2*136-1:0] dm_wd, dm_rdata;
  logic [LANES*16-1:0]    lm_wd, lm_rdata;
  logic [LANES*32-1:0]    hm_wd, hm_rdata;

  always_comb begin
    gm_a = clearing_q ? clr_q : b_gm_addr;
    dm_a = clearing_q ? clr_q : b_dm_addr;
    lm_a = clearing_q ? clr_q : b_lm_addr;
    hm_a = clearing_q ? clr_q : b_hm_addr;
    gm_we = clearing_q ? '1 : b_gm_we;
    dm_we = clearing_q ? '1 : b_dm_we;
    lm_we = clearing_q ? '1 : b_lm_we;
    hm_we = clearing_q ? '1 : b_hm_we;
    gm_wd = clearing_q ? '0 : b_gm_wdata;
    dm_wd = clearing_q ? '0 : b_dm_wdata;
    lm_wd = clearing_q ? '1 : b_lm_wdata;  // LEVEL_NONE
    hm_wd = clearing_q ? '0 : b_hm_wdata;
  end

  // The conductance memory is banked by row for the MVM engine (docs/rtl.md, "Tile memories"):
  // bank k holds the rows = k mod MVM_R, one whole row (a memory per lane group side by side)
  // per word, so MVM reads MVM_R rows per cycle (gr_*). The shared gm bus still addresses one (tile, row,
  // group) word: it writes that group's slots of its row and reads them back, 2 cycles later.
  // Every tile memory has its block RAM's output register (OUT_REG): a read word arrives two
  // cycles after its address, from a register. The RAMs' clock-to-output time (about 2.5 ns on
  // Artix-7) in front of the multiplexers that pick a lane's slots was on the AC701 device's
  // slowest paths (the gm word into DRIFT's pipeline, 5.53 ns at t14f c683f72).
  localparam int unsigned GR_WORDS = TILES * ROWS / MVM_R;
  localparam int unsigned GR_AW = $clog2(GR_WORDS);
  localparam int unsigned GRP_W = GROUPS > 1 ? $clog2(GROUPS) : 1;
  localparam int unsigned BANK_W = MVM_R > 1 ? $clog2(MVM_R) : 1;
  logic                       gr_re;
  logic [GR_AW-1:0]           gr_addr, gm_word, gm_raddr;
  logic [MVM_R*COLS*32-1:0]   gr_rdata;
  logic [MEM_AW-1:0]          gm_row;          // tile * ROWS + row of gm_a
  logic [GRP_W-1:0]           gm_grp, gm_grp_q, gm_grp_q2;
  logic [BANK_W-1:0]          gm_bank, gm_bank_q, gm_bank_q2;
  assign gm_row = MEM_AW'(32'(gm_a) / GROUPS);
  assign gm_grp = GRP_W'(32'(gm_a) % GROUPS);
  assign gm_bank = BANK_W'(32'(gm_row) % MVM_R);
  assign gm_word = GR_AW'(32'(gm_row) / MVM_R);
  assign gm_raddr = gr_re ? gr_addr : gm_word;
  always_ff @(posedge clk_i) begin
    gm_grp_q <= gm_grp;
    gm_bank_q <= gm_bank;
    gm_grp_q2 <= gm_grp_q;
    gm_bank_q2 <= gm_bank_q;
  end
  for (genvar k = 0; k < MVM_R; k++) begin : g_gm_bank
    for (genvar g = 0; g < GROUPS; g++) begin : g_grp
      mt_sram #(.WORDS(GR_WORDS), .SLOTS(LANES*2), .SLOT_W(16), .OUT_REG(1'b1)) u_gm (
        .clk_i(clk_i), .waddr_i(gm_word),
        .we_i(32'(gm_bank) == k && 32'(gm_grp) == g ? gm_we : '0), .wdata_i(gm_wd),
        .raddr_i(gm_raddr), .rdata_o(gr_rdata[(k*GROUPS + g)*LANES*32 +: LANES*32]));
    end
  end
  // The bank's row, then the group's word: two selects at shifted offsets (at power-of-two
  // sizes), not one at the sum bank·COLS·32 + group·LANES·32, an adder in front of the mux.
  logic [COLS*32-1:0] gm_bank_row;
  assign gm_bank_row = gr_rdata[32'(gm_bank_q2) * COLS * 32 +: COLS * 32];
  assign gm_rdata = gm_bank_row[32'(gm_grp_q2) * LANES * 32 +: LANES * 32];
  mt_sram #(.WORDS(MEM_WORDS), .SLOTS(LANES*2), .SLOT_W(136), .OUT_REG(1'b1)) u_dm (
    .clk_i(clk_i), .waddr_i(dm_a), .we_i(dm_we), .wdata_i(dm_wd), .raddr_i(dm_a), .rdata_o(dm_rdata));
  mt_sram #(.WORDS(MEM_WORDS), .SLOTS(LANES), .SLOT_W(16), .OUT_REG(1'b1)) u_lm (
    .clk_i(clk_i), .waddr_i(lm_a), .we_i(lm_we), .wdata_i(lm_wd), .raddr_i(lm_a), .rdata_o(lm_rdata));
  mt_sram #(.WORDS(MEM_WORDS), .SLOTS(LANES), .SLOT_W(32), .OUT_REG(1'b1)) u_hm (
    .clk_i(clk_i), .waddr_i(hm_a), .we_i(hm_we), .wdata_i(hm_wd), .raddr_i(hm_a), .rdata_o(hm_rdata));

  // ---------------------------------------------------------------- engines
  logic [NENG-1:0] eng_start;
  logic [7:0]      op_q;
  logic [31:0]     len_q, eng_cap_q;

`define MT_ENG_CONN(I) \
    .clk_i(clk_i), .rst_i(rst_i), .start_i(eng_start[I]), .op_i(op_q), .len_i(len_q), .cap_i(eng_cap_q), \
    .done_o(e_done[(I)*(1) +: (1)]), \
    .status_o(e_status[(I)*(16) +: (16)]), \
    .detail0_o(e_detail0[(I)*(32) +: (32)]), \
    .detail1_o(e_detail1[(I)*(32) +: (32)]), \
    .n_out_o(e_n_out[(I)*(32) +: (32)]), \
    .pl_addr_o(e_pl_addr[(I)*(PL_AW) +: (PL_AW)]), \
    .rsp_we_o(e_rsp_we[(I)*(1) +: (1)]), \
    .rsp_addr_o(e_rsp_addr[(I)*(PL_AW) +: (PL_AW)]), \
    .rsp_data_o(e_rsp_data[(I)*(32) +: (32)]), \
    .lt_addr_o(e_lt_addr[(I)*(8) +: (8)]), \
    .mt_addr_o(e_mt_addr[(I)*(8) +: (8)]), \
    .g_we_o(e_g_we[(I)*(1) +: (1)]), \
    .g_addr_o(e_g_addr[(I)*(11) +: (11)]), \
    .g_wdata_o(e_g_wdata[(I)*(32) +: (32)]), \
    .g_raddr_o(e_g_raddr[(I)*(11) +: (11)]), \
    .fab_set_o(e_fab_set[(I)*(1) +: (1)]), \
    .fab_tile_o(e_fab_tile[(I)*(6) +: (6)]), \
    .cnt_inc_o(e_cnt_inc[(I)*(CNT_COUNT*32) +: (CNT_COUNT*32)]), \
    .cnt_clear_o(e_cnt_clear[(I)*(1) +: (1)]), \
    .nz_take_o(e_nz_take[(I)*(LANES*2) +: (LANES*2)]), \
    .nz_seed_o(e_nz_seed[(I)*(1) +: (1)]), \
    .nz_seed_val_o(e_nz_seed_val[(I)*(64) +: (64)]), \
    .nz_load_o(e_nz_load[(I)*(1) +: (1)]), \
    .nz_load_state_o(e_nz_load_state[(I)*(LANES*128) +: (LANES*128)]), \
    .fb_take_o(e_fb_take[(I)*(LANES*2) +: (LANES*2)]), \
    .fb_seed_o(e_fb_seed[(I)*(1) +: (1)]), \
    .fb_seed_val_o(e_fb_seed_val[(I)*(64) +: (64)]), \
    .gm_addr_o(e_gm_addr[(I)*(MEM_AW) +: (MEM_AW)]), \
    .gm_we_o(e_gm_we[(I)*(LANES*2) +: (LANES*2)]), \
    .gm_wdata_o(e_gm_wdata[(I)*(LANES*2*16) +: (LANES*2*16)]), \
    .dm_addr_o(e_dm_addr[(I)*(MEM_AW) +: (MEM_AW)]), \
    .dm_we_o(e_dm_we[(I)*(LANES*2) +: (LANES*2)]), \
    .dm_wdata_o(e_dm_wdata[(I)*(LANES*2*136) +: (LANES*2*136)]), \
    .lm_addr_o(e_lm_addr[(I)*(MEM_AW) +: (MEM_AW)]), \
    .lm_we_o(e_lm_we[(I)*(LANES) +: (LANES)]), \
    .lm_wdata_o(e_lm_wdata[(I)*(LANES*16) +: (LANES*16)]), \
    .hm_addr_o(e_hm_addr[(I)*(MEM_AW) +: (MEM_AW)]), \
    .hm_we_o(e_hm_we[(I)*(LANES) +: (LANES)]), \
    .hm_wdata_o(e_hm_wdata[(I)*(LANES*32) +: (LANES*32)]), \
    .pl_data_i(pl_rdata), .cfg_i(cfg), .configured_i(configured), .levels_i(levels), \
    .fabricated_i(fabricated), .lt_data_i(lt_data), .mt_data_i(mt_data), .g_rdata_i(g_rdata), \
    .nz_avail_i(nz_avail), .nz_u_i(nz_u), .nz_z_i(nz_z), .nz_state_i(nz_state), \
    .fb_avail_i(fb_avail), .fb_u_i(fb_u), .fb_z_i(fb_z), \
    .gm_rdata_i(gm_rdata), .dm_rdata_i(dm_rdata), .lm_rdata_i(lm_rdata), .hm_rdata_i(hm_rdata)

  mt_eng_ctl #(.TILES(TILES), .ROWS(ROWS), .COLS(COLS), .LANES(LANES), .CMD_WORDS(CMD_WORDS))
    u_ctl (`MT_ENG_CONN(0));
  mt_eng_fab #(.TILES(TILES), .ROWS(ROWS), .COLS(COLS), .LANES(LANES), .CMD_WORDS(CMD_WORDS))
    u_fab_eng (`MT_ENG_CONN(1));
  mt_eng_mvm #(.R(MVM_R), .TILES(TILES), .ROWS(ROWS), .COLS(COLS), .LANES(LANES),
    .CMD_WORDS(CMD_WORDS)) u_mvm (`MT_ENG_CONN(2), .gr_re_o(gr_re), .gr_addr_o(gr_addr),
    .gr_rdata_i(gr_rdata));
  mt_eng_prog #(.TILES(TILES), .ROWS(ROWS), .COLS(COLS), .LANES(LANES), .CMD_WORDS(CMD_WORDS))
    u_prog (`MT_ENG_CONN(3));
  mt_eng_state #(.TILES(TILES), .ROWS(ROWS), .COLS(COLS), .LANES(LANES), .CMD_WORDS(CMD_WORDS))
    u_state (`MT_ENG_CONN(4));
`undef MT_ENG_CONN

  // ---------------------------------------------------------------- command processor
  typedef enum logic [3:0] {
    S_CLEAR, S_IDLE, S_CMD0, S_CMD1, S_PAYLOAD, S_EXEC, S_WAIT, S_RESP, S_DRAIN, S_FIN
  } state_e;

  state_e      state_q;
  // Response words left of the transfer's rsp_cap (rsp_cap − words written), and whether a
  // header and two detail words still fit: kept as registers, since the subtract and compare
  // decided s_axis_tready_o and the state in one cycle (the AC701's worst path at e28f436).
  logic [31:0] room_q;
  logic        room_ok_q;
  logic [31:0] w_q;         // response words written so far
  logic [31:0] pos_q;       // command words consumed so far
  logic [31:0] k_q;         // payload words received of the current command
  logic [7:0]  tag_q;
  logic        ended_q;     // the current command's last word carried TLAST
  logic [15:0] st_q;
  logic [31:0] det0_q, det1_q, nout_q;
  logic [31:0] cmd_words_q; // words of a truncated command that did arrive

  logic s_hs;
  assign s_hs = s_axis_tvalid_i && s_axis_tready_o;
  assign s_axis_tready_o = state_q == S_CMD0 && room_ok_q ||
                           state_q == S_CMD1 || state_q == S_PAYLOAD || state_q == S_DRAIN;
  assign pl_we = state_q == S_PAYLOAD && s_hs && len_q <= CMD_WORDS;
  assign pl_waddr = PL_AW'(k_q);
  assign busy_o = state_q != S_IDLE;

  // Response items: header word 0, header word 1, then the detail words or n_out payload words.
  // The count, its last index and whether this response ends the transfer's are registers,
  // loaded every cycle from st_q, nout_q and room_q, which hold through S_RESP: from st_q
  // through the add and its compares into the item FIFO was the AC701 device's path #5 at
  // e28f436 (5.76 ns). items_q and items_m1_q are exact from S_RESP's second cycle, last_rsp_q
  // from its third: the first cycle issues item 0 without them (a response has at least the
  // two header words, rsp_first_q below), the first push (item 0, second cycle) is not the last
  // item, and the earliest end of S_RESP is its fourth cycle.
  logic [31:0] items_q, items_m1_q;
  logic        st_ok;
  logic        last_rsp_q;  // this command's response ends the transfer's response
  assign st_ok = st_q == 16'(MT_ST_OK);
  always_ff @(posedge clk_i) begin
    items_q <= 32'(MT_HDR_WORDS) + (st_ok ? nout_q : 32'd2);
    items_m1_q <= 32'(MT_HDR_WORDS - 1) + (st_ok ? nout_q : 32'd2);
    last_rsp_q <= ended_q || st_q == 16'(MT_ST_ERR_OVERFLOW) || st_q == 16'(MT_ST_ERR_TRUNCATED)
                  || (room_q - items_q < 32'(MT_HDR_WORDS + 2));
  end

  logic [31:0] iss_q;       // next item to issue
  logic        infl_q;      // an item was issued last cycle
  logic [31:0] infl_idx_q;
  logic [32:0] fifo_q [4];  // {last, data}
  logic [1:0]  rd_q, wr_q;
  logic [2:0]  cnt_q;
  logic        issue, push, pop;
  logic [31:0] item_data;
  logic        rsp_first_q;  // the first cycle of S_RESP
  assign issue = state_q == S_RESP && (rsp_first_q || iss_q < items_q)
                 && (3'(cnt_q) + 3'(infl_q) <= 3'd3);
  assign rsp_raddr = PL_AW'(iss_q - 32'(MT_HDR_WORDS));
  assign push = infl_q;
  assign pop = m_axis_tvalid_o && m_axis_tready_i;
  always_comb begin
    case (infl_idx_q)
      32'd0: item_data = {op_q, tag_q, st_q};
      32'd1: item_data = st_ok ? nout_q : 32'd2;
      default:
        if (!st_ok) item_data = infl_idx_q == 32'd2 ? det0_q : det1_q;
        else item_data = rsp_rdata;
    endcase
  end
  assign m_axis_tvalid_o = cnt_q != 0;
  assign m_axis_tdata_o = fifo_q[rd_q][31:0];
  assign m_axis_tlast_o = fifo_q[rd_q][32];

  always_ff @(posedge clk_i) begin
    if (push) fifo_q[wr_q] <= {last_rsp_q && infl_idx_q == items_m1_q, item_data};
    if (rst_i) begin
      rd_q <= '0;
      wr_q <= '0;
      cnt_q <= '0;
      infl_q <= 1'b0;
    end else begin
      if (push) wr_q <= wr_q + 2'd1;
      if (pop) rd_q <= rd_q + 2'd1;
      cnt_q <= cnt_q + 3'(push) - 3'(pop);
      infl_q <= issue;
    end
    infl_idx_q <= iss_q;
  end

  // An engine starts once every earlier event is counted and the noise lanes have finished a
  // SEED or a load: a lane's state_o is only the committed state once its draws are queued
  // again, and STATE_READ reads it.
  // The start is decoded from registers only (can_start_q, eng_sel_q, len_ok_q): decoded from
  // op_q, len_q and the lanes in one cycle, it reached every engine's state register through a
  // carry chain and three LUT levels (the AC701's worst path at f246cb1), and on the ECP5 it
  // was the routed critical path. While a command waits in S_EXEC no engine runs, so nothing
  // clears can_start once it is set (asserted below): the registered value a cycle late is
  // exact, and it costs no cycle when the lanes were ready before the command's last word.
  logic can_start, can_start_q, len_ok_q;
  logic [NENG-1:0] eng_sel_q;
  assign can_start = !cnt_busy && &nz_avail;

  always_comb begin
    eng_start = '0;
    if (state_q == S_EXEC && can_start_q && len_ok_q) eng_start = eng_sel_q;
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      state_q <= S_CLEAR;
      clearing_q <= 1'b1;
      clr_q <= '0;
      done_o <= 1'b0;
      cycles_o <= '0;
      can_start_q <= 1'b0;
    end else begin
      cycles_o <= cycles_o + 64'd1;
      can_start_q <= can_start;
      rsp_first_q <= 1'b0;
      done_o <= 1'b0;
      if (issue) iss_q <= iss_q + 1;
      case (state_q)
        S_CLEAR: begin
          if (clr_q == MEM_AW'(MEM_WORDS - 1)) clearing_q <= 1'b0;
          else clr_q <= clr_q + 1'b1;
          if (!clearing_q && !rf_busy) state_q <= S_IDLE;
        end
        S_IDLE: if (s_axis_tvalid_i) begin
          room_q <= rsp_cap_i;
          room_ok_q <= rsp_cap_i >= 32'(MT_HDR_WORDS + 2);
          w_q <= '0;
          pos_q <= '0;
          state_q <= S_CMD0;
        end
        S_CMD0: begin
          ended_q <= 1'b0;
          // No room for an error response: the transfer stops before this command.
          if (!room_ok_q) state_q <= S_DRAIN;
          else if (s_hs) begin
            eng_cap_q <= room_q - 32'(MT_HDR_WORDS);
            op_q <= s_axis_tdata_i[31:24];
            eng_sel_q <= NENG'(1) << engine_of(s_axis_tdata_i[31:24]);
            tag_q <= s_axis_tdata_i[23:16];
            if (s_axis_tlast_i) truncated(32'd0, 32'd0, 32'd1);
            else state_q <= S_CMD1;
          end
        end
        S_CMD1: if (s_hs) begin
          len_q <= s_axis_tdata_i;
          len_ok_q <= s_axis_tdata_i <= CMD_WORDS;
          k_q <= '0;
          if (s_axis_tlast_i && s_axis_tdata_i != 0) truncated(s_axis_tdata_i, 32'd0, 32'd2);
          else if (s_axis_tdata_i == 0) begin
            ended_q <= s_axis_tlast_i;
            state_q <= S_EXEC;
          end else state_q <= S_PAYLOAD;
        end
        S_PAYLOAD: if (s_hs) begin
          k_q <= k_q + 1;
          if (k_q + 1 == len_q) begin
            ended_q <= s_axis_tlast_i;
            state_q <= S_EXEC;
          end else if (s_axis_tlast_i) truncated(len_q, k_q + 1, k_q + 3);
        end
        S_EXEC: begin
          if (!len_ok_q) begin
            st_q <= 16'(MT_ST_ERR_LENGTH);
            det0_q <= len_q;
            det1_q <= CMD_WORDS;
            begin_response();
          end else if (can_start_q) state_q <= S_WAIT;
        end
        S_WAIT: if (b_done) begin
          st_q <= b_status;
          det0_q <= b_detail0;
          det1_q <= b_detail1;
          nout_q <= b_n_out;
          begin_response();
        end
        S_RESP: if (!rsp_first_q && iss_q >= items_q && !infl_q && cnt_q == 0) begin
          w_q <= w_q + items_q;
          room_q <= room_q - items_q;
          room_ok_q <= room_q - items_q >= 32'(MT_HDR_WORDS + 2);
          if (st_q != 16'(MT_ST_ERR_OVERFLOW)) pos_q <= pos_q + (st_q == 16'(MT_ST_ERR_TRUNCATED)
                                                          ? cmd_words_q : 32'(MT_HDR_WORDS) + len_q);
          if (ended_q) state_q <= S_FIN;
          else if (last_rsp_q) state_q <= S_DRAIN;
          else state_q <= S_CMD0;
        end
        S_DRAIN: if (s_hs && s_axis_tlast_i) state_q <= S_FIN;
        S_FIN: begin
          done_o <= 1'b1;
          consumed_o <= pos_q;
          rsp_words_o <= w_q;
          state_q <= S_IDLE;
        end
        default: state_q <= S_IDLE;
      endcase
    end
  end

  task automatic begin_response();
    iss_q <= '0;
    rsp_first_q <= 1'b1;
    state_q <= S_RESP;
  endtask

  task automatic truncated(input logic [31:0] d0, input logic [31:0] d1, input logic [31:0] words);
    st_q <= 16'(MT_ST_ERR_TRUNCATED);
    det0_q <= d0;
    det1_q <= d1;
    nout_q <= 32'd2;
    cmd_words_q <= words;
    ended_q <= 1'b1;
    begin_response();
  endtask

  // ---------------------------------------------------------------- assertions
  // docs/rtl.md, "Assertions": the shared-bus rule (at most one engine active, an idle engine
  // drives 0 on every shared bus) and the AXI4-Stream handshakes. Simulation only.
`ifndef SYNTHESIS
  logic [NENG-1:0] e_drives;
  for (genvar e = 0; e < NENG; e++) begin : g_drives
    assign e_drives[e] = |{
      e_done[e*(1) +: (1)], e_status[e*(16) +: (16)], e_detail0[e*(32) +: (32)],
      e_detail1[e*(32) +: (32)], e_n_out[e*(32) +: (32)], e_pl_addr[e*(PL_AW) +: (PL_AW)],
      e_rsp_we[e*(1) +: (1)], e_rsp_addr[e*(PL_AW) +: (PL_AW)], e_rsp_data[e*(32) +: (32)],
      e_lt_addr[e*(8) +: (8)], e_mt_addr[e*(8) +: (8)], e_g_we[e*(1) +: (1)],
      e_g_addr[e*(11) +: (11)], e_g_wdata[e*(32) +: (32)], e_g_raddr[e*(11) +: (11)],
      e_fab_set[e*(1) +: (1)], e_fab_tile[e*(6) +: (6)],
      e_cnt_inc[e*(CNT_COUNT*32) +: (CNT_COUNT*32)], e_cnt_clear[e*(1) +: (1)],
      e_nz_take[e*(LANES*2) +: (LANES*2)], e_nz_seed[e*(1) +: (1)], e_nz_seed_val[e*(64) +: (64)],
      e_nz_load[e*(1) +: (1)], e_nz_load_state[e*(LANES*128) +: (LANES*128)],
      e_fb_take[e*(LANES*2) +: (LANES*2)], e_fb_seed[e*(1) +: (1)], e_fb_seed_val[e*(64) +: (64)],
      e_gm_addr[e*(MEM_AW) +: (MEM_AW)], e_gm_we[e*(LANES*2) +: (LANES*2)],
      e_gm_wdata[e*(LANES*2*16) +: (LANES*2*16)], e_dm_addr[e*(MEM_AW) +: (MEM_AW)],
      e_dm_we[e*(LANES*2) +: (LANES*2)], e_dm_wdata[e*(LANES*2*136) +: (LANES*2*136)],
      e_lm_addr[e*(MEM_AW) +: (MEM_AW)], e_lm_we[e*(LANES) +: (LANES)],
      e_lm_wdata[e*(LANES*16) +: (LANES*16)], e_hm_addr[e*(MEM_AW) +: (MEM_AW)],
      e_hm_we[e*(LANES) +: (LANES)], e_hm_wdata[e*(LANES*32) +: (LANES*32)]
    };
  end
  // The registered start condition (can_start_q) is only exact if nothing clears can_start
  // while a command waits to start.
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      assert (!(state_q == S_EXEC && can_start_q) || can_start)
      else $error("mt_device: can_start fell while a command waited in S_EXEC");
    end
  end
  mt_bus_check #(.NENG(NENG)) u_bus_check (
    .clk_i(clk_i), .rst_i(rst_i), .start_i(eng_start), .done_i(e_done), .drives_i(e_drives)
  );
  mt_axis_check #(.W(32)) u_s_axis_check (
    .clk_i(clk_i), .rst_i(rst_i), .tvalid_i(s_axis_tvalid_i), .tready_i(s_axis_tready_o),
    .tdata_i(s_axis_tdata_i), .tlast_i(s_axis_tlast_i)
  );
  mt_axis_check #(.W(32)) u_m_axis_check (
    .clk_i(clk_i), .rst_i(rst_i), .tvalid_i(m_axis_tvalid_o), .tready_i(m_axis_tready_i),
    .tdata_i(m_axis_tdata_o), .tlast_i(m_axis_tlast_o)
  );
`endif

  wire unused_fab_state = ^fb_state;
endmodule
`default_nettype wire
