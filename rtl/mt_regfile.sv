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
  localparam int unsigned META_WORDS = MT_META_TABLE_SIZE / 2;  // two Q0.16 entries per word

  logic                    configured_q;
  // packed so that the reset is one assignment (Verilator 5.006 cannot reset an unpacked array
  // of more than 64 words in a loop)
  logic [32*CFG_COUNT-1:0] cfg_q;
  logic [8:0]              levels_q;
  logic [63:0]             seed_q;
  logic [CNT_COUNT*64-1:0] cnt_q;                 // counter c at 64*c
  logic [63:0]             fab_q;
  logic [8:0]              clr_q;                  // power-on clear index of the tables
  logic                    clr_done_q;             // the clear's last table write is done

  assign cfg_o = cfg_q;
  assign configured_o = configured_q;
  assign levels_o = levels_q;
  assign fabricated_o = fab_q;
  assign busy_o = !clr_done_q;

  // Level-table word k of the image is word k mod 3 of entry k / 3; k*683 >> 11 == k / 3 for
  // k < 768. The constant products are written as shifts and adds (683 = 2^9+2^7+2^5+2^3+2^1+1)
  // so that they take no multiplier: small parts (ECP5) have none to spare.
  function automatic logic [18:0] times683(input logic [9:0] k);
    logic [18:0] x;
    x = 19'(k);
    times683 = (x << 9) + (x << 7) + (x << 5) + (x << 3) + (x << 1) + x;
  endfunction
  logic        g_is_lt, g_is_meta;
  logic [18:0] lt_prod;
  logic [7:0]  lt_entry;
  logic [1:0]  lt_word;
  assign g_is_lt = g_addr_i >= 11'(G_LEVEL_TABLE) && g_addr_i < 11'(G_META);
  assign g_is_meta = g_addr_i >= 11'(G_META) && g_addr_i < 11'(G_SEED);
  // A table write is registered as it arrives (which table, the word's index in it, the data),
  // and split into entry and word in the next cycle: the shared bus's address, the index's
  // subtract, the product by 683 and the write-enable decode in one cycle were the AC701
  // device's slowest path (6.55 ns at t14b 242a8ff).
  logic        lw_we_q, mw_we_q;
  logic [9:0]  lw_k_q;
  logic [6:0]  mw_idx_q;
  logic [31:0] tw_data_q;
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      lw_we_q <= 1'b0;
      mw_we_q <= 1'b0;
    end else begin
      lw_we_q <= g_we_i && g_is_lt;
      mw_we_q <= g_we_i && g_is_meta;
    end
    lw_k_q <= 10'(g_addr_i - 11'(G_LEVEL_TABLE));
    mw_idx_q <= 7'(g_addr_i - 11'(G_META));
    tw_data_q <= g_wdata_i;
  end
  assign lt_prod = times683(lw_k_q);
  assign lt_entry = lt_prod[18:11];
  assign lt_word = 2'(lw_k_q - (10'(lt_entry) << 1) - 10'(lt_entry));

  // The level and meta tables live in block RAM (mt_sram): one copy per read port (the
  // engines' port and the image read port), written together through one write port that the
  // power-on clear owns while busy_o is high (no engine runs then). The write port is
  // registered twice: a table word is written two cycles after g_we_i (the address arithmetic
  // in front of the block RAM was one of the device's longest paths). The tables are read only
  // by later commands, and busy_o stays high until the clear's last write is done.
  logic [7:0]  ltw_addr_d, ltw_addr_q;
  logic [2:0]  ltw_we_d, ltw_we_q;
  logic [95:0] ltw_data_d, ltw_data_q;
  logic [6:0]  mtw_addr_d, mtw_addr_q;
  logic        mtw_we_d, mtw_we_q;
  logic [31:0] mtw_data_d, mtw_data_q;
  always_comb begin
    if (!clr_q[8]) begin
      ltw_addr_d = clr_q[7:0];
      ltw_we_d = 3'b111;
      ltw_data_d = '0;
      mtw_addr_d = clr_q[6:0];
      mtw_we_d = !clr_q[7];
      mtw_data_d = 32'hFFFF_FFFF;
    end else begin
      ltw_addr_d = lt_entry;
      ltw_we_d = lw_we_q ? 3'(3'b001 << lt_word) : 3'b000;
      ltw_data_d = {3{tw_data_q}};
      mtw_addr_d = mw_idx_q;
      mtw_we_d = mw_we_q;
      mtw_data_d = tw_data_q;
    end
  end
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      ltw_we_q <= '0;
      mtw_we_q <= 1'b0;
    end else begin
      ltw_we_q <= ltw_we_d;
      mtw_we_q <= mtw_we_d;
    end
    ltw_addr_q <= ltw_addr_d;
    ltw_data_q <= ltw_data_d;
    mtw_addr_q <= mtw_addr_d;
    mtw_data_q <= mtw_data_d;
  end

  // Image read port, two stages: g_rdata_o follows g_raddr_i by two cycles. Stage 1 registers
  // the address, which region it falls in and the word's index within that region (each a
  // compare or a short subtract of the address bits that index needs); stage 2 selects the
  // register word from them and addresses the tables' block RAMs. In one stage the subtracts,
  // the range compares and the wide multiplexers behind them were the device's longest path
  // (6.55 ns of cell delay on Artix-7, mt_device at meta14 5ad0536).
  localparam int unsigned RG_VERSION = 0, RG_CONFIGURED = 1, RG_CFG = 2, RG_LEVELS = 3,
                          RG_LT = 4, RG_META = 5, RG_SEED = 6, RG_LANES = 7, RG_CNT = 8, RG_FAB = 9;
  localparam int unsigned NRG = 10;
  localparam int unsigned LNW = $clog2(LANES * 4);
  localparam logic G_SEED_ODD = 1'(G_SEED % 2);
  logic [NRG-1:0]  rg_d, rg_q;      // one-hot region of the address (0 past G_END)
  logic [10:0]     ra_q;
  logic [LNW-1:0]  rlane_q;         // lane state word
  logic [4:0]      rcnt_q;          // counter word
  logic            rw1_q;           // word of the seed / fabricated flags
  always_comb begin
    rg_d = '0;
    if (g_raddr_i == 11'(G_VERSION)) rg_d[RG_VERSION] = 1'b1;
    else if (g_raddr_i == 11'(G_CONFIGURED)) rg_d[RG_CONFIGURED] = 1'b1;
    else if (g_raddr_i < 11'(G_LEVELS)) rg_d[RG_CFG] = 1'b1;
    else if (g_raddr_i == 11'(G_LEVELS)) rg_d[RG_LEVELS] = 1'b1;
    else if (g_raddr_i < 11'(G_META)) rg_d[RG_LT] = 1'b1;
    else if (g_raddr_i < 11'(G_SEED)) rg_d[RG_META] = 1'b1;
    else if (g_raddr_i < 11'(G_LANES)) rg_d[RG_SEED] = 1'b1;
    else if (g_raddr_i < 11'(G_COUNTERS)) rg_d[RG_LANES] = 1'b1;
    else if (g_raddr_i < 11'(G_FABRICATED)) rg_d[RG_CNT] = 1'b1;
    else if (g_raddr_i < 11'(G_END)) rg_d[RG_FAB] = 1'b1;
  end
  always_ff @(posedge clk_i) begin
    rg_q <= rg_d;
    ra_q <= g_raddr_i;
    rlane_q <= LNW'(g_raddr_i - 11'(G_LANES));
    rcnt_q <= 5'(g_raddr_i - 11'(G_COUNTERS));
    rw1_q <= g_raddr_i[0] ^ G_SEED_ODD;  // G_FABRICATED - G_SEED is even
  end

  // Configuration words for the image read port: a block-RAM copy of cfg_q at the words' own
  // image addresses (G_CFG..G_LEVELS-1 < 128, so the low 7 address bits index it with no
  // subtract), written with cfg_q and read by address. It replaces the 81:1 multiplexer of
  // cfg_q, which the ECP5 could not route: its select nets (ra_q and the field index) drove about 2 000 LUT
  // inputs each and were the most congested nets of the device (docs/rtl.md, "ECP5: where
  // router2 congests"). The engines still read cfg_q directly. The power-on clear zeroes it as
  // rst_i zeroes cfg_q (no image read runs while busy_o is high). The RAM returns the old word
  // when it is written in the cycle of the read; cfg_q, which stage 2 read, would have had the
  // new one, so that case takes the write data (cw_hit_q), and the word stays bit-exact.
  localparam int unsigned CRW = $clog2(G_LEVELS);
  (* ram_style = "block" *) logic [31:0] cmem_q [2**CRW];
  logic            cw_we;
  logic [CRW-1:0]  cw_addr;
  logic [31:0]     cw_data;
  logic [31:0]     cr_data_q, cw_data_q;
  logic            cw_hit_q;
  logic            g_is_cfg;
  assign g_is_cfg = g_addr_i >= 11'(G_CFG) && g_addr_i < 11'(G_LEVELS);
  always_comb begin
    if (!clr_q[8]) begin
      cw_we = clr_q < 9'(2**CRW);
      cw_addr = clr_q[CRW-1:0];
      cw_data = '0;
    end else begin
      cw_we = g_we_i && g_is_cfg;
      cw_addr = CRW'(g_addr_i);
      cw_data = g_wdata_i;
    end
  end
  always_ff @(posedge clk_i) begin
    if (cw_we) cmem_q[cw_addr] <= cw_data;
    cr_data_q <= cmem_q[CRW'(g_raddr_i)];
  end
  always_ff @(posedge clk_i) begin
    cw_hit_q <= g_we_i && g_is_cfg && g_addr_i == g_raddr_i;
    cw_data_q <= g_wdata_i;
  end

  // Stage 2: the level-table entry and word of the address, for the table's read port.
  logic [9:0]  rk;
  logic [18:0] rprod;
  logic [7:0]  rentry;
  logic [1:0]  rword;
  assign rk = 10'(ra_q - 11'(G_LEVEL_TABLE));
  assign rprod = times683(rk);
  assign rentry = rprod[18:11];
  assign rword = 2'(rk - (10'(rentry) << 1) - 10'(rentry));

  logic [95:0] lt_g_rdata;
  logic [31:0] mt_e_rdata, mt_g_rdata;
  mt_sram #(.WORDS(MT_MAX_LEVELS), .SLOTS(3), .SLOT_W(32)) u_lt_eng (
    .clk_i(clk_i), .waddr_i(ltw_addr_q), .we_i(ltw_we_q), .wdata_i(ltw_data_q),
    .raddr_i(lt_addr_i), .rdata_o(lt_data_o)
  );
  mt_sram #(.WORDS(MT_MAX_LEVELS), .SLOTS(3), .SLOT_W(32)) u_lt_img (
    .clk_i(clk_i), .waddr_i(ltw_addr_q), .we_i(ltw_we_q), .wdata_i(ltw_data_q),
    .raddr_i(rentry), .rdata_o(lt_g_rdata)
  );
  mt_sram #(.WORDS(META_WORDS), .SLOTS(1), .SLOT_W(32)) u_mt_eng (
    .clk_i(clk_i), .waddr_i(mtw_addr_q), .we_i(mtw_we_q), .wdata_i(mtw_data_q),
    .raddr_i(mt_addr_i[7:1]), .rdata_o(mt_e_rdata)
  );
  mt_sram #(.WORDS(META_WORDS), .SLOTS(1), .SLOT_W(32)) u_mt_img (
    .clk_i(clk_i), .waddr_i(mtw_addr_q), .we_i(mtw_we_q), .wdata_i(mtw_data_q),
    .raddr_i(7'(ra_q - 11'(G_META))), .rdata_o(mt_g_rdata)
  );

  // Register writes land a cycle after the shared bus's: the word's decode (each register
  // word's compare with its own constant) is registered as one enable per word, with the data.
  // From the control engine's write (its address add, the bus's OR) through the decode into the
  // enables of the configuration registers across the die was the ECP5 device's critical path
  // (23.65 ns placed and routed at t14f af5c3d2, 21.7 ns of it routing). cnt_busy_o holds the
  // next command back until the write has landed, so no engine reads a register early.
  localparam int unsigned NGW = 3 + CFG_COUNT + 4 + 2 * CNT_COUNT;
  localparam int unsigned GW_CONFIGURED = 0, GW_LEVELS = 1, GW_CFG = 2,
                          GW_SEED = GW_CFG + CFG_COUNT, GW_FAB = GW_SEED + 2,
                          GW_CNT = GW_FAB + 2;
  logic [NGW-1:0] gw_d, gw_q;
  logic           gw_v_q;
  logic [31:0]    gw_data_q;
  always_comb begin
    gw_d = '0;
    gw_d[GW_CONFIGURED] = g_addr_i == 11'(G_CONFIGURED);
    gw_d[GW_LEVELS] = g_addr_i == 11'(G_LEVELS);
    for (int unsigned i = 0; i < CFG_COUNT; i++) gw_d[GW_CFG + i] = g_addr_i == 11'(G_CFG + i);
    for (int unsigned i = 0; i < 2; i++) begin
      gw_d[GW_SEED + i] = g_addr_i == 11'(G_SEED + i);
      gw_d[GW_FAB + i] = g_addr_i == 11'(G_FABRICATED + i);
    end
    for (int unsigned i = 0; i < 2 * CNT_COUNT; i++)
      gw_d[GW_CNT + i] = g_addr_i == 11'(G_COUNTERS + i);
    if (!g_we_i) gw_d = '0;
  end
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      gw_q <= '0;
      gw_v_q <= 1'b0;
    end else begin
      gw_q <= gw_d;
      gw_v_q <= g_we_i;
    end
    gw_data_q <= g_wdata_i;
  end

  // Counters: increments are registered (the counters add them there). Their costs are
  // computed per cost from a pending sum: n * e summed over increments equals (sum of n) * e
  // modulo 2^64, and the energy and latency fields cannot change while increments are pending
  // (a command starts only when cnt_busy_o is low). Each cost multiplies its pending sum s by
  // its energy and latency fields sequentially, one 16x16 partial product of each per cycle
  // (one DSP each, with operand, product and output registers): the pairs (chunk a of s,
  // chunk b of the field) up to s's highest non-zero 16-bit chunk, 2 cycles for s < 2^16.
  // The shifted products of all costs go through a registered adder tree and are
  // accumulated. The order of additions does not change a sum modulo 2^64, so the result is
  // mt_count's.
  //
  // Width of s: a job lasts at most 6 steps, and the next one takes the pending sum one cycle
  // after it, so a pending sum holds at most 7 increments below 2^32: s < 2^35 < 2^40, whose
  // chunks a = 0, 1, 2 need the pairs (0,0) (0,1) (1,0) (1,1) (2,0) (2,1), at most 6 steps.
  localparam int unsigned NCOST = MT_NCOST;
  localparam int unsigned TREE = $clog2(NCOST);
  localparam int unsigned LEAVES = 1 << TREE;     // a full tree: every leaf at the same depth
  // operands (1), products (2), product outputs (3), shifted leaves (4), tree, accumulate
  localparam int unsigned PIPE = 4 + TREE;
  logic [CNT_COUNT*32-1:0] inc_q;
  logic                    inc_v_q;               // inc_q holds an increment
  localparam int unsigned PW = 40;
  // Per-cost registers as flat vectors (cost i at W*i), indexed only by the unrolled loop
  // variable: arrays would be memories to Yosys, which it then splits back into registers.
  logic [NCOST*PW-1:0]     pend_q;                // counted since the job in progress began
  logic [NCOST-1:0]        pnz_q;                 // pend_q has taken an increment
  logic [NCOST-1:0]        act_q;                 // a job is multiplying s_q
  logic [NCOST*48-1:0]     s_q;                   // PW bits, zero-extended to three chunks
  logic [NCOST*3-1:0]      k_q;                   // step: chunk a = k / 2, b = k % 2
  logic [NCOST*3-1:0]      last_q;
  logic [NCOST*16-1:0]     op_s_q, op_e_q, op_t_q;
  logic [NCOST*2-1:0]      sh0_q, sh1_q, sh2_q;   // a + b per stage
  logic [NCOST*32-1:0]     pe_q, pt_q;            // products (M registers)
  logic [NCOST*32-1:0]     qe_q, qt_q;            // products (P registers)
  logic [(2*LEAVES-1)*64-1:0] se_q, st_q;         // heap, node n at 64*n; leaves from LEAVES-1
  logic [PIPE-1:0]         vld_q;                 // vld_q[s]: stage s+1 holds a product

  // The last step of a job for s: two per chunk up to s's top non-zero chunk.
  function automatic logic [2:0] last_step(input logic [PW-1:16] s);
    if (s[PW-1:32] != '0) last_step = 3'd5;
    else if (s[31:16] != 16'd0) last_step = 3'd3;
    else last_step = 3'd1;
  endfunction

  // Chunk a of a job's sum (a 3:1 multiplexer, not a shifter across all the costs' sums).
  function automatic logic [15:0] chunk(input logic [47:0] s, input logic [1:0] a);
    chunk = a == 2'd0 ? s[15:0] : a == 2'd1 ? s[31:16] : s[47:32];
  endfunction

  // (gw_v_q: a register write is still to land; the next command starts after it.)
  assign cnt_busy_o = (|cnt_inc_i) || inc_v_q || (|pnz_q) || (|act_q) || (|vld_q) || gw_v_q;

  always_ff @(posedge clk_i) begin
    inc_q <= cnt_inc_i;
    for (int unsigned i = 0; i < NCOST; i++) begin
      // A job takes the pending sum while the new increment starts the next one.
      if (!act_q[i] && pnz_q[i]) begin
        s_q[48*i +: 48] <= 48'(pend_q[PW*i +: PW]);
        last_q[3*i +: 3] <= last_step(pend_q[PW*i+16 +: PW-16]);
        pend_q[PW*i +: PW] <= PW'(inc_q[32*mt_cost_counter(i) +: 32]);
      end else begin
        // (pend_q has no reset: it counts from zero after pnz_q was clear)
        pend_q[PW*i +: PW] <= (pnz_q[i] ? pend_q[PW*i +: PW] : '0) + PW'(inc_q[32*mt_cost_counter(i) +: 32]);
      end
      op_s_q[16*i +: 16] <= chunk(s_q[48*i +: 48], k_q[3*i+1 +: 2]);  // k <= 5: chunk 0..2
      op_e_q[16*i +: 16] <= cfg_q[32*mt_cost_energy_cfg(mt_cost_counter(i)) + 16*32'(k_q[3*i]) +: 16];
      if (mt_cost_latency_cfg(mt_cost_counter(i)) != MT_CFG_COUNT)
        op_t_q[16*i +: 16] <= cfg_q[32*mt_cost_latency_cfg(mt_cost_counter(i)) + 16*32'(k_q[3*i]) +: 16];
      else
        op_t_q[16*i +: 16] <= '0;
      sh0_q[2*i +: 2] <= 2'(k_q[3*i+1 +: 2] + {1'b0, k_q[3*i]});
      if (!act_q[i]) begin
        op_s_q[16*i +: 16] <= '0;  // idle: a zero product
      end
      pe_q[32*i +: 32] <= 32'(op_s_q[16*i +: 16]) * 32'(op_e_q[16*i +: 16]);
      pt_q[32*i +: 32] <= 32'(op_s_q[16*i +: 16]) * 32'(op_t_q[16*i +: 16]);
      sh1_q[2*i +: 2] <= sh0_q[2*i +: 2];
      qe_q[32*i +: 32] <= pe_q[32*i +: 32];
      qt_q[32*i +: 32] <= pt_q[32*i +: 32];
      sh2_q[2*i +: 2] <= sh1_q[2*i +: 2];
      se_q[64*(LEAVES-1+i) +: 64] <= 64'(qe_q[32*i +: 32]) << (16 * sh2_q[2*i +: 2]);
      st_q[64*(LEAVES-1+i) +: 64] <= 64'(qt_q[32*i +: 32]) << (16 * sh2_q[2*i +: 2]);
    end
    for (int unsigned i = NCOST; i < LEAVES; i++) begin
      se_q[64*(LEAVES-1+i) +: 64] <= '0;
      st_q[64*(LEAVES-1+i) +: 64] <= '0;
    end
    for (int unsigned n = 0; n < LEAVES - 1; n++) begin
      se_q[64*n +: 64] <= se_q[64*(2*n+1) +: 64] + se_q[64*(2*n+2) +: 64];
      st_q[64*n +: 64] <= st_q[64*(2*n+1) +: 64] + st_q[64*(2*n+2) +: 64];
    end
    // Control (reset).
    if (rst_i) begin
      inc_v_q <= 1'b0;
      pnz_q <= '0;
      act_q <= '0;
      vld_q <= '0;
      k_q <= '0;
    end else begin
      inc_v_q <= |cnt_inc_i;
      vld_q <= {vld_q[PIPE-2:0], |act_q};
      for (int unsigned i = 0; i < NCOST; i++) begin
        if (!act_q[i] && pnz_q[i]) begin
          act_q[i] <= 1'b1;
          k_q[3*i +: 3] <= '0;
          pnz_q[i] <= inc_q[32*mt_cost_counter(i) +: 32] != 32'd0;
        end else begin
          if (inc_q[32*mt_cost_counter(i) +: 32] != 32'd0) pnz_q[i] <= 1'b1;
          if (act_q[i]) begin
            k_q[3*i +: 3] <= k_q[3*i +: 3] + 3'd1;
            if (k_q[3*i +: 3] == last_q[3*i +: 3]) act_q[i] <= 1'b0;
          end
        end
      end
    end
  end

  // A FABRICATE's "tile fabricated" bit is set a cycle after the engine's fab_set_o: its
  // status compare, the shared bus's OR and the 64-way bit decode in one cycle were the AC701
  // device's slowest path (6.55 ns of cell delay). No command reads the bit that early (the
  // command processor answers the FABRICATE first).
  // The tile is registered one-hot (a 6-input decode per bit in front of the register): the
  // index's decode into the 64 bits, behind the register, with the GLOBAL write's multiplexers
  // behind it, was mt_regfile's slowest path alone (4.70 ns).
  logic        fab_set_q;
  logic [63:0] fab_oh_q;
  always_ff @(posedge clk_i) begin
    fab_set_q <= !rst_i && fab_set_i;
    fab_oh_q <= 64'd1 << fab_tile_i;
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      configured_q <= 1'b0;
      cfg_q <= '0;
      levels_q <= '0;
      seed_q <= '0;
      cnt_q <= '0;
      fab_q <= '0;
      clr_q <= '0;
      clr_done_q <= 1'b0;
    end else begin
      if (!clr_q[8]) clr_q <= clr_q + 9'd1;
      clr_done_q <= clr_q[8];
      if (inc_v_q) begin
        for (int unsigned c = 0; c < CNT_COUNT; c++)
          cnt_q[64*c +: 64] <= cnt_q[64*c +: 64] + 64'(inc_q[32*c +: 32]);
      end
      if (vld_q[PIPE-1]) begin
        cnt_q[64*MT_CNT_ENERGY_FJ +: 64] <= cnt_q[64*MT_CNT_ENERGY_FJ +: 64] + se_q[63:0];
        cnt_q[64*MT_CNT_LATENCY_PS +: 64] <= cnt_q[64*MT_CNT_LATENCY_PS +: 64] + st_q[63:0];
      end
      if (cnt_clear_i) begin
        cnt_q <= '0;
      end
      if (fab_set_q) fab_q <= fab_q | fab_oh_q;
      // Each register word has its own registered enable (gw_q above): a part-select at
      // 32 * (address - base) put a subtract and a shifter in front of every bit (the
      // device's slowest path, 8.5 ns of cell delay on Artix-7).
      if (gw_q[GW_CONFIGURED]) configured_q <= gw_data_q[0];
      for (int unsigned i = 0; i < CFG_COUNT; i++)
        if (gw_q[GW_CFG + i]) cfg_q[32*i +: 32] <= gw_data_q;
      if (gw_q[GW_LEVELS]) levels_q <= gw_data_q[8:0];
      for (int unsigned i = 0; i < 2; i++) begin
        if (gw_q[GW_SEED + i]) seed_q[32*i +: 32] <= gw_data_q;
        if (gw_q[GW_FAB + i]) fab_q[32*i +: 32] <= gw_data_q;
      end
      for (int unsigned c = 0; c < CNT_COUNT; c++)
        for (int unsigned h = 0; h < 2; h++)
          if (gw_q[GW_CNT + 2*c + h]) cnt_q[64*c + 32*h +: 32] <= gw_data_q;
    end
  end

  // Stage 2 of the image read port: the register word, as an AND-OR of the regions' words (at
  // most one region is selected); table words come out of their RAM in the next cycle, chosen
  // by the registered selection.
  logic        mt_half_q;
  logic [1:0]  rsel_q;          // 0: rreg_q, 1: level table, 2: meta table
  logic [1:0]  rword_q;
  logic [31:0] rreg_d, rreg_q;
  always_comb begin
    rreg_d = '0;
    if (rg_q[RG_VERSION]) rreg_d = rreg_d | VERSION_WORD;
    if (rg_q[RG_CONFIGURED]) rreg_d = rreg_d | {31'd0, configured_q};
    if (rg_q[RG_CFG]) rreg_d = rreg_d | (cw_hit_q ? cw_data_q : cr_data_q);
    if (rg_q[RG_LEVELS]) rreg_d = rreg_d | {23'd0, levels_q};
    if (rg_q[RG_SEED]) rreg_d = rreg_d | seed_q[32*rw1_q +: 32];
    if (rg_q[RG_LANES]) rreg_d = rreg_d | nz_state_i[32*rlane_q +: 32];
    if (rg_q[RG_CNT]) rreg_d = rreg_d | cnt_q[32*rcnt_q +: 32];
    if (rg_q[RG_FAB]) rreg_d = rreg_d | fab_q[32*rw1_q +: 32];
  end
  always_ff @(posedge clk_i) begin
    mt_half_q <= mt_addr_i[0];
    rword_q <= rword;
    rsel_q <= rg_q[RG_LT] ? 2'd1 : rg_q[RG_META] ? 2'd2 : 2'd0;
    rreg_q <= rreg_d;
  end
  // The engines' meta-table word is registered after its half-word select (the RAM's output
  // register): mt_data_o follows mt_addr_i by two cycles. Unregistered, the RAM's read, this
  // select and the metaplasticity unit's shifter shared one cycle (with the unit's compare, the
  // 6.93 ns worst path of the AC701 device at integ 7065ea0).
  logic [15:0] mt_data_q;
  always_ff @(posedge clk_i) mt_data_q <= mt_half_q ? mt_e_rdata[31:16] : mt_e_rdata[15:0];
  assign mt_data_o = mt_data_q;
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
