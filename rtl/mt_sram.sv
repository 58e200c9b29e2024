`default_nettype none
// Simple dual-port RAM with a write enable per slot: the shape of every memory of the device
// (payload and response buffers, tile memories), so that synthesis maps them all to block RAM.
// Synchronous read; a read of the address being written returns the old data.
module mt_sram #(
  parameter int unsigned WORDS = 1024,
  parameter int unsigned SLOTS = 1,
  parameter int unsigned SLOT_W = 32,
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

  always_ff @(posedge clk_i) begin
    for (int unsigned s = 0; s < SLOTS; s++) begin
      if (we_i[s]) mem_q[waddr_i][s*SLOT_W +: SLOT_W] <= wdata_i[s*SLOT_W +: SLOT_W];
    end
    rdata_o <= mem_q[raddr_i];
  end
endmodule
`default_nettype wire
