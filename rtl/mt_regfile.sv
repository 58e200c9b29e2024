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
  localparam logic [31:0] VERSION_WORD = (MT_PROTO_MAJOR << 16) | MT_PROTO_MINOR;

  logic                    configured_q;
  logic [31:0]             cfg_q [CFG_COUNT];
  logic [8:0]              levels_q;
  logic [95:0]             lt_q [MT_MAX_LEVELS];   // level table entries {w2, w1, w0}
  logic [31:0]             meta_q [MT_META_TABLE_SIZE / 2];  // two Q0.16 entries per word
  logic [63:0]             seed_q;
  logic [63:0]             cnt_q [CNT_COUNT];
  logic [63:0]             fab_q;
  logic [8:0]              clr_q;                  // power-on clear index of the tables

  always_comb begin
    for (int unsigned i = 0; i < CFG_COUNT; i++) cfg_o[32*i +: 32] = cfg_q[i];
  end
  assign configured_o = configured_q;
  assign levels_o = levels_q;
  assign fabricated_o = fab_q;
  assign busy_o = !clr_q[8];

  // Level-table word k of the image is word k mod 3 of entry k / 3; k*683 >> 11 == k / 3 for k < 768.
  logic        g_is_lt;
  logic [9:0]  lt_k;
  logic [18:0] lt_prod;
  logic [7:0]  lt_entry;
  logic [1:0]  lt_word;
  assign g_is_lt = g_addr_i >= 11'(G_LEVEL_TABLE) && g_addr_i < 11'(G_META);
  assign lt_k = 10'(g_addr_i - 11'(G_LEVEL_TABLE));
  assign lt_prod = 19'(lt_k) * 19'd683;
  assign lt_entry = lt_prod[18:11];
  assign lt_word = 2'(lt_k - 10'(lt_entry) * 10'd3);
  logic [4:0] g_cnt;
  assign g_cnt = 5'(g_addr_i - 11'(G_COUNTERS));

  // Counters: increments are registered, multiplied by their costs, then accumulated.
  localparam int unsigned NCOST = MT_NCOST;
  logic [CNT_COUNT*32-1:0] inc_q;
  logic                    inc_vld_q;
  logic [63:0]             e_prod_q [NCOST];
  logic [63:0]             t_prod_q [NCOST];
  logic                    prod_vld_q;
  logic [63:0]             e_sum, t_sum;

  // Cost fields per counter: mt_cost_counter / mt_cost_energy_cfg / mt_cost_latency_cfg,
  // generated from the counters' cost links in docs/protocol.json (MT_CFG_COUNT: no cost).
  always_comb begin
    e_sum = '0;
    t_sum = '0;
    for (int unsigned i = 0; i < NCOST; i++) begin
      e_sum = e_sum + e_prod_q[i];
      t_sum = t_sum + t_prod_q[i];
    end
  end

  assign cnt_busy_o = (|cnt_inc_i) || inc_vld_q || prod_vld_q;

  always_ff @(posedge clk_i) begin
    inc_q <= cnt_inc_i;
    for (int unsigned i = 0; i < NCOST; i++) begin
      e_prod_q[i] <= 64'(inc_q[32*mt_cost_counter(i) +: 32])
                     * 64'(cfg_q[mt_cost_energy_cfg(mt_cost_counter(i))]);
      if (mt_cost_latency_cfg(mt_cost_counter(i)) != MT_CFG_COUNT)
        t_prod_q[i] <= 64'(inc_q[32*mt_cost_counter(i) +: 32])
                       * 64'(cfg_q[mt_cost_latency_cfg(mt_cost_counter(i))]);
      else
        t_prod_q[i] <= '0;
    end
    if (rst_i) begin
      inc_vld_q <= 1'b0;
      prod_vld_q <= 1'b0;
    end else begin
      inc_vld_q <= |cnt_inc_i;
      prod_vld_q <= inc_vld_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      configured_q <= 1'b0;
      for (int unsigned i = 0; i < CFG_COUNT; i++) cfg_q[i] <= '0;
      levels_q <= '0;
      seed_q <= '0;
      for (int unsigned i = 0; i < CNT_COUNT; i++) cnt_q[i] <= '0;
      fab_q <= '0;
      clr_q <= '0;
    end else begin
      if (!clr_q[8]) begin
        lt_q[clr_q[7:0]] <= '0;
        if (!clr_q[7]) meta_q[clr_q[6:0]] <= 32'hFFFF_FFFF;
        clr_q <= clr_q + 9'd1;
      end
      if (inc_vld_q) begin
        for (int unsigned c = 0; c < CNT_COUNT; c++) cnt_q[c] <= cnt_q[c] + 64'(inc_q[32*c +: 32]);
      end
      if (prod_vld_q) begin
        cnt_q[MT_CNT_ENERGY_FJ] <= cnt_q[MT_CNT_ENERGY_FJ] + e_sum;
        cnt_q[MT_CNT_LATENCY_PS] <= cnt_q[MT_CNT_LATENCY_PS] + t_sum;
      end
      if (cnt_clear_i) begin
        for (int unsigned c = 0; c < CNT_COUNT; c++) cnt_q[c] <= '0;
      end
      if (fab_set_i) fab_q[fab_tile_i] <= 1'b1;
      if (g_we_i) begin
        if (g_addr_i == 11'(G_CONFIGURED)) begin
          configured_q <= g_wdata_i[0];
        end else if (g_addr_i >= 11'(G_CFG) && g_addr_i < 11'(G_LEVELS)) begin
          cfg_q[6'(g_addr_i - 11'(G_CFG))] <= g_wdata_i;
        end else if (g_addr_i == 11'(G_LEVELS)) begin
          levels_q <= g_wdata_i[8:0];
        end else if (g_is_lt) begin
          lt_q[lt_entry][32*lt_word +: 32] <= g_wdata_i;
        end else if (g_addr_i >= 11'(G_META) && g_addr_i < 11'(G_SEED)) begin
          meta_q[7'(g_addr_i - 11'(G_META))] <= g_wdata_i;
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

  // Read ports.
  logic [10:0] ra;
  logic [9:0]  rk;
  logic [18:0] rprod;
  logic [7:0]  rentry;
  logic [1:0]  rword;
  logic [95:0] rlt;
  assign ra = g_raddr_i;
  assign rk = 10'(ra - 11'(G_LEVEL_TABLE));
  assign rprod = 19'(rk) * 19'd683;
  assign rentry = rprod[18:11];
  assign rword = 2'(rk - 10'(rentry) * 10'd3);
  assign rlt = lt_q[rentry];
  logic [4:0] r_cnt;
  assign r_cnt = 5'(ra - 11'(G_COUNTERS));

  always_ff @(posedge clk_i) begin
    lt_data_o <= lt_q[lt_addr_i];
    mt_data_o <= meta_q[mt_addr_i[7:1]][16*mt_addr_i[0] +: 16];
    if (ra == 11'(G_VERSION)) g_rdata_o <= VERSION_WORD;
    else if (ra == 11'(G_CONFIGURED)) g_rdata_o <= {31'd0, configured_q};
    else if (ra < 11'(G_LEVELS)) g_rdata_o <= cfg_q[6'(ra - 11'(G_CFG))];
    else if (ra == 11'(G_LEVELS)) g_rdata_o <= {23'd0, levels_q};
    else if (ra < 11'(G_META)) g_rdata_o <= rlt[32*rword +: 32];
    else if (ra < 11'(G_SEED)) g_rdata_o <= meta_q[7'(ra - 11'(G_META))];
    else if (ra < 11'(G_LANES)) g_rdata_o <= seed_q[32*(ra - 11'(G_SEED)) +: 32];
    else if (ra < 11'(G_COUNTERS)) g_rdata_o <= nz_state_i[32*(ra - 11'(G_LANES)) +: 32];
    else if (ra < 11'(G_FABRICATED))
      g_rdata_o <= cnt_q[r_cnt[4:1]][32*r_cnt[0] +: 32];
    else if (ra < 11'(G_END)) g_rdata_o <= fab_q[32*(ra - 11'(G_FABRICATED)) +: 32];
    else g_rdata_o <= '0;
  end
  wire unused_div3 = ^{lt_prod[10:0], rprod[10:0]};
endmodule
`default_nettype wire
