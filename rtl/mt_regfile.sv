`default_nettype none
// Register file (docs/rtl.md, "Register file"): every device register that is not per tile,
// addressed by its word offset in the GLOBAL state image, and the counters with their
// energy and latency accumulation (mt_count in hls/mt_device.c).
module mt_regfile #(
  parameter int unsigned LANES = 16,
  parameter int unsigned CFG_COUNT = 40,
  parameter int unsigned CNT_COUNT = 16
) (
  input  wire                     clk_i,
  input  wire                     rst_i,
  output logic                    busy_o,          // power-on clear of the tables
  output logic [CFG_COUNT*32-1:0] cfg_o,
  output logic                    configured_o,
  output logic [8:0]              levels_o,
  output logic [63:0]             fabricated_o,
  input  wire  [7:0]              lt_addr_i,
  output logic [95:0]             lt_data_o,
  input  wire  [7:0]              mt_addr_i,
  output logic [15:0]             mt_data_o,
  input  wire                     g_we_i,
  input  wire  [10:0]             g_addr_i,
  input  wire  [31:0]             g_wdata_i,
  input  wire  [10:0]             g_raddr_i,
  output logic [31:0]             g_rdata_o,
  input  wire                     fab_set_i,
  input  wire  [5:0]              fab_tile_i,
  input  wire  [CNT_COUNT*32-1:0] cnt_inc_i,
  input  wire                     cnt_clear_i,
  output logic                    cnt_busy_o,
  input  wire  [LANES*128-1:0]    nz_state_i
);
`include "mt_protocol.vh"

  // GLOBAL image word offsets (hls/mt_state.c).
  localparam int unsigned G_VERSION = 0;
  localparam int unsigned G_CONFIGURED = 1;
  localparam int unsigned G_CFG = 2;
  localparam int unsigned G_LEVELS = G_CFG + CFG_COUNT;
  localparam int unsigned G_LEVEL_TABLE = G_LEVELS + 1;
  localparam int unsigned G_META = G_LEVEL_TABLE + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS;
  localparam int unsigned G_SEED = G_META + MT_META_TABLE_SIZE / 2;
  localparam int unsigned G_LANES = G_SEED + 2;
  localparam int unsigned G_COUNTERS = G_LANES + LANES * 4;
  localparam int unsigned G_FABRICATED = G_COUNTERS + CNT_COUNT * 2;
  localparam int unsigned G_END = G_FABRICATED + 2;
  // A configuration field's index is as wide as the generated CFG_COUNT needs.
  localparam int unsigned CFW = $clog2(CFG_COUNT);
  localparam logic [31:0] VERSION_WORD = (MT_PROTO_MAJOR << 16) | MT_PROTO_MINOR;
  localparam int unsigned META_WORDS = MT_META_TABLE_SIZE / 2;  // two Q0.16 entries per word

  logic                    configured_q;
  // packed so that the reset is one assignment (Verilator 5.006 cannot reset an unpacked array
  // of more than 64 words in a loop)
  logic [32*CFG_COUNT-1:0] cfg_q;
  logic [8:0]              levels_q;
  logic [63:0]             seed_q;
  logic [63:0]             cnt_q [CNT_COUNT];
  logic [63:0]             fab_q;
  logic [8:0]              clr_q;                  // power-on clear index of the tables

  assign cfg_o = cfg_q;
  assign configured_o = configured_q;
  assign levels_o = levels_q;
  assign fabricated_o = fab_q;
  assign busy_o = !clr_q[8];

  // Level-table word k of the image is word k mod 3 of entry k / 3; k*683 >> 11 == k / 3 for
  // k < 768. The constant products are written as shifts and adds (683 = 2^9+2^7+2^5+2^3+2^1+1)
  // so that they take no multiplier: small parts (ECP5) have none to spare.
  function automatic logic [18:0] times683(input logic [9:0] k);
    logic [18:0] x;
    x = 19'(k);
    times683 = (x << 9) + (x << 7) + (x << 5) + (x << 3) + (x << 1) + x;
  endfunction
  logic        g_is_lt, g_is_meta;
  logic [9:0]  lt_k;
  logic [18:0] lt_prod;
  logic [7:0]  lt_entry;
  logic [1:0]  lt_word;
  assign g_is_lt = g_addr_i >= 11'(G_LEVEL_TABLE) && g_addr_i < 11'(G_META);
  assign g_is_meta = g_addr_i >= 11'(G_META) && g_addr_i < 11'(G_SEED);
  assign lt_k = 10'(g_addr_i - 11'(G_LEVEL_TABLE));
  assign lt_prod = times683(lt_k);
  assign lt_entry = lt_prod[18:11];
  assign lt_word = 2'(lt_k - (10'(lt_entry) << 1) - 10'(lt_entry));
  logic [4:0] g_cnt;
  assign g_cnt = 5'(g_addr_i - 11'(G_COUNTERS));

  // The level and meta tables live in block RAM (mt_sram): one copy per read port (the
  // engines' port and the image read port), written together through one write port that the
  // power-on clear owns while busy_o is high (no engine runs then).
  logic [7:0]  ltw_addr;
  logic [2:0]  ltw_we;
  logic [95:0] ltw_data;
  logic [6:0]  mtw_addr;
  logic        mtw_we;
  logic [31:0] mtw_data;
  always_comb begin
    if (!clr_q[8]) begin
      ltw_addr = clr_q[7:0];
      ltw_we = 3'b111;
      ltw_data = '0;
      mtw_addr = clr_q[6:0];
      mtw_we = !clr_q[7];
      mtw_data = 32'hFFFF_FFFF;
    end else begin
      ltw_addr = lt_entry;
      ltw_we = (g_we_i && g_is_lt) ? 3'(3'b001 << lt_word) : 3'b000;
      ltw_data = {3{g_wdata_i}};
      mtw_addr = 7'(g_addr_i - 11'(G_META));
      mtw_we = g_we_i && g_is_meta;
      mtw_data = g_wdata_i;
    end
  end

  // Read ports' addresses.
  logic [10:0] ra;
  logic [9:0]  rk;
  logic [18:0] rprod;
  logic [7:0]  rentry;
  logic [1:0]  rword;
  assign ra = g_raddr_i;
  assign rk = 10'(ra - 11'(G_LEVEL_TABLE));
  assign rprod = times683(rk);
  assign rentry = rprod[18:11];
  assign rword = 2'(rk - (10'(rentry) << 1) - 10'(rentry));
  logic [4:0] r_cnt;
  assign r_cnt = 5'(ra - 11'(G_COUNTERS));

  logic [95:0] lt_g_rdata;
  logic [31:0] mt_e_rdata, mt_g_rdata;
  mt_sram #(.WORDS(MT_MAX_LEVELS), .SLOTS(3), .SLOT_W(32)) u_lt_eng (
    .clk_i(clk_i), .waddr_i(ltw_addr), .we_i(ltw_we), .wdata_i(ltw_data),
    .raddr_i(lt_addr_i), .rdata_o(lt_data_o)
  );
  mt_sram #(.WORDS(MT_MAX_LEVELS), .SLOTS(3), .SLOT_W(32)) u_lt_img (
    .clk_i(clk_i), .waddr_i(ltw_addr), .we_i(ltw_we), .wdata_i(ltw_data),
    .raddr_i(rentry), .rdata_o(lt_g_rdata)
  );
  mt_sram #(.WORDS(META_WORDS), .SLOTS(1), .SLOT_W(32)) u_mt_eng (
    .clk_i(clk_i), .waddr_i(mtw_addr), .we_i(mtw_we), .wdata_i(mtw_data),
    .raddr_i(mt_addr_i[7:1]), .rdata_o(mt_e_rdata)
  );
  mt_sram #(.WORDS(META_WORDS), .SLOTS(1), .SLOT_W(32)) u_mt_img (
    .clk_i(clk_i), .waddr_i(mtw_addr), .we_i(mtw_we), .wdata_i(mtw_data),
    .raddr_i(7'(ra - 11'(G_META))), .rdata_o(mt_g_rdata)
  );

  // Counters: increments are registered; their costs are multiplied in 16x16 partial products
  // (one DSP each, with its operand, product and output registers), summed per cost, then
  // through a registered adder tree, and accumulated. The order of additions does not change
  // a sum modulo 2^64, so the result is mt_count's.
  localparam int unsigned NCOST = MT_NCOST;
  localparam int unsigned TREE = $clog2(NCOST);
  localparam int unsigned LEAVES = 1 << TREE;     // a full tree: every leaf at the same depth
  // inc (1), operands (2), products (3), product outputs (4), per-cost sums (5), tree, accumulate
  localparam int unsigned CNT_STAGES = 5 + TREE;
  logic [CNT_COUNT*32-1:0] inc_q;
  logic [CNT_STAGES-1:0]   vld_q;                 // vld_q[s]: stage s+1 holds an increment
  logic [31:0]             op_n_q [NCOST];        // the counted number
  logic [31:0]             op_e_q [NCOST];        // its energy cost
  logic [31:0]             op_t_q [NCOST];        // its latency cost (0 if none)
  logic [31:0]             pe_q [NCOST][4], pt_q [NCOST][4];   // products (M registers)
  logic [31:0]             qe_q [NCOST][4], qt_q [NCOST][4];   // products (P registers)
  logic [63:0]             se_q [2*LEAVES-1], st_q [2*LEAVES-1]; // heap; leaves from LEAVES-1

  assign cnt_busy_o = (|cnt_inc_i) || (|vld_q);

  always_ff @(posedge clk_i) begin
    inc_q <= cnt_inc_i;
    for (int unsigned i = 0; i < NCOST; i++) begin
      op_n_q[i] <= inc_q[32*mt_cost_counter(i) +: 32];
      op_e_q[i] <= cfg_q[32*mt_cost_energy_cfg(mt_cost_counter(i)) +: 32];
      if (mt_cost_latency_cfg(mt_cost_counter(i)) != MT_CFG_COUNT)
        op_t_q[i] <= cfg_q[32*mt_cost_latency_cfg(mt_cost_counter(i)) +: 32];
      else
        op_t_q[i] <= '0;
      for (int unsigned p = 0; p < 4; p++) begin
        pe_q[i][p] <= 32'(op_n_q[i][16*(p/2) +: 16]) * 32'(op_e_q[i][16*(p%2) +: 16]);
        pt_q[i][p] <= 32'(op_n_q[i][16*(p/2) +: 16]) * 32'(op_t_q[i][16*(p%2) +: 16]);
        qe_q[i][p] <= pe_q[i][p];
        qt_q[i][p] <= pt_q[i][p];
      end
      se_q[LEAVES-1+i] <= 64'(qe_q[i][0]) + (64'(qe_q[i][1]) << 16) + (64'(qe_q[i][2]) << 16)
                         + (64'(qe_q[i][3]) << 32);
      st_q[LEAVES-1+i] <= 64'(qt_q[i][0]) + (64'(qt_q[i][1]) << 16) + (64'(qt_q[i][2]) << 16)
                         + (64'(qt_q[i][3]) << 32);
    end
    for (int unsigned i = NCOST; i < LEAVES; i++) begin
      se_q[LEAVES-1+i] <= '0;
      st_q[LEAVES-1+i] <= '0;
    end
    for (int unsigned n = 0; n < LEAVES - 1; n++) begin
      se_q[n] <= se_q[2*n+1] + se_q[2*n+2];
      st_q[n] <= st_q[2*n+1] + st_q[2*n+2];
    end
    if (rst_i) vld_q <= '0;
    else vld_q <= {vld_q[CNT_STAGES-2:0], |cnt_inc_i};
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      configured_q <= 1'b0;
      cfg_q <= '0;
      levels_q <= '0;
      seed_q <= '0;
      for (int unsigned i = 0; i < CNT_COUNT; i++) cnt_q[i] <= '0;
      fab_q <= '0;
      clr_q <= '0;
    end else begin
      if (!clr_q[8]) clr_q <= clr_q + 9'd1;
      if (vld_q[0]) begin
        for (int unsigned c = 0; c < CNT_COUNT; c++) cnt_q[c] <= cnt_q[c] + 64'(inc_q[32*c +: 32]);
      end
      if (vld_q[CNT_STAGES-1]) begin
        cnt_q[MT_CNT_ENERGY_FJ] <= cnt_q[MT_CNT_ENERGY_FJ] + se_q[0];
        cnt_q[MT_CNT_LATENCY_PS] <= cnt_q[MT_CNT_LATENCY_PS] + st_q[0];
      end
      if (cnt_clear_i) begin
        for (int unsigned c = 0; c < CNT_COUNT; c++) cnt_q[c] <= '0;
      end
      if (fab_set_i) fab_q[fab_tile_i] <= 1'b1;
      if (g_we_i) begin
        if (g_addr_i == 11'(G_CONFIGURED)) begin
          configured_q <= g_wdata_i[0];
        end else if (g_addr_i >= 11'(G_CFG) && g_addr_i < 11'(G_LEVELS)) begin
          cfg_q[32*CFW'(g_addr_i - 11'(G_CFG)) +: 32] <= g_wdata_i;
        end else if (g_addr_i == 11'(G_LEVELS)) begin
          levels_q <= g_wdata_i[8:0];
        end else if (g_addr_i >= 11'(G_SEED) && g_addr_i < 11'(G_LANES)) begin
          seed_q[32*(g_addr_i - 11'(G_SEED)) +: 32] <= g_wdata_i;
        end else if (g_addr_i >= 11'(G_COUNTERS) && g_addr_i < 11'(G_FABRICATED)) begin
          cnt_q[g_cnt[4:1]][32*g_cnt[0] +: 32] <= g_wdata_i;
        end else if (g_addr_i >= 11'(G_FABRICATED) && g_addr_i < 11'(G_END)) begin
          fab_q[32*(g_addr_i - 11'(G_FABRICATED)) +: 32] <= g_wdata_i;
        end
      end
    end
  end

  // Image read port: registers are read here; table words come out of their RAM one cycle
  // later, chosen by the registered selection, so g_rdata_o still follows g_raddr_i by one cycle.
  logic        mt_half_q;
  logic [1:0]  rsel_q;          // 0: rreg_q, 1: level table, 2: meta table
  logic [1:0]  rword_q;
  logic [31:0] rreg_q;
  always_ff @(posedge clk_i) begin
    mt_half_q <= mt_addr_i[0];
    rword_q <= rword;
    rsel_q <= 2'd0;
    rreg_q <= '0;
    if (ra == 11'(G_VERSION)) rreg_q <= VERSION_WORD;
    else if (ra == 11'(G_CONFIGURED)) rreg_q <= {31'd0, configured_q};
    else if (ra < 11'(G_LEVELS)) rreg_q <= cfg_q[32*CFW'(ra - 11'(G_CFG)) +: 32];
    else if (ra == 11'(G_LEVELS)) rreg_q <= {23'd0, levels_q};
    else if (ra < 11'(G_META)) rsel_q <= 2'd1;
    else if (ra < 11'(G_SEED)) rsel_q <= 2'd2;
    else if (ra < 11'(G_LANES)) rreg_q <= seed_q[32*(ra - 11'(G_SEED)) +: 32];
    else if (ra < 11'(G_COUNTERS)) rreg_q <= nz_state_i[32*(ra - 11'(G_LANES)) +: 32];
    else if (ra < 11'(G_FABRICATED)) rreg_q <= cnt_q[r_cnt[4:1]][32*r_cnt[0] +: 32];
    else if (ra < 11'(G_END)) rreg_q <= fab_q[32*(ra - 11'(G_FABRICATED)) +: 32];
  end
  assign mt_data_o = mt_half_q ? mt_e_rdata[31:16] : mt_e_rdata[15:0];
  always_comb begin
    case (rsel_q)
      2'd1: g_rdata_o = lt_g_rdata[32*rword_q +: 32];
      2'd2: g_rdata_o = mt_g_rdata;
      default: g_rdata_o = rreg_q;
    endcase
  end
  wire unused_div3 = ^{lt_prod[10:0], rprod[10:0]};
endmodule
`default_nettype wire
