`default_nettype none
// Simple dual-port RAM with a write enable per slot: the shape of every memory of the device
// (payload and response buffers, tile memories), so that synthesis maps them all to block RAM.
// Synchronous read; a read of the address being written returns the old data. OUT_REG = 1
// adds an output register: the word arrives two cycles after its address, and the RAM's
// clock-to-output time (2.5 ns of an unregistered Artix-7 read) is no longer in front of the
// logic that uses it. Yosys 0.23 puts it into the RAMB36's DOA_REG/DOB_REG for the payload
// buffer, but keeps it in the fabric for the wide tile memories (docs/rtl.md, t14h).
module mt_sram #(
  parameter int unsigned WORDS = 1024,
  parameter int unsigned SLOTS = 1,
  parameter int unsigned SLOT_W = 32,
  parameter bit          OUT_REG = 1'b0,
  parameter int unsigned AW = $clog2(WORDS)
) (
  input  wire                     clk_i,
  input  wire  [AW-1:0]           waddr_i,
  input  wire  [SLOTS-1:0]        we_i,
  input  wire  [SLOTS*SLOT_W-1:0] wdata_i,
  input  wire  [AW-1:0]           raddr_i,
  output logic [SLOTS*SLOT_W-1:0] rdata_o
);
  logic [SLOTS*SLOT_W-1:0] mem_q [WORDS];
  logic [SLOTS*SLOT_W-1:0] rd_q;

  always_ff @(posedge clk_i) begin
    for (int unsigned s = 0; s < SLOTS; s++) begin
      if (we_i[s]) mem_q[waddr_i][s*SLOT_W +: SLOT_W] <= wdata_i[s*SLOT_W +: SLOT_W];
    end
    rd_q <= mem_q[raddr_i];
  end

  if (OUT_REG) begin : g_out_reg
    always_ff @(posedge clk_i) rdata_o <= rd_q;
  end else begin : g_out
    assign rdata_o = rd_q;
  end
endmodule
`default_nettype wire
