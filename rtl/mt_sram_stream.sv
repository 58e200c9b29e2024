`default_nettype none
// Reads consecutive words of an mt_sram (one cycle of read latency) out as a valid/ready
// stream at one word per clock (docs/rtl.md, "The USB path"). Pointers are PW-bit counters;
// the RAM address is their low bits. seek_i drops whatever was read ahead and restarts at
// seek_ptr_i. Words are read while the next pointer is not lim_i, so a writer that raises
// lim_i one word at a time can be followed word by word.
module mt_sram_stream #(
  parameter int unsigned PW = 16
) (
  input  wire           clk_i,
  input  wire           rst_i,
  input  wire           seek_i,
  input  wire  [PW-1:0] seek_ptr_i,
  input  wire  [PW-1:0] lim_i,
  output logic [PW-1:0] raddr_o,
  input  wire  [31:0]   rdata_i,
  output logic          valid_o,
  output logic [31:0]   data_o,
  input  wire           ready_i,
  output logic [PW-1:0] head_ptr_o   // pointer of the word on data_o
);
  logic [PW-1:0] rd_q;
  logic          infl_q;
  logic [31:0]   skid_q [4];
  logic [1:0]    wr_q, rdp_q;
  logic [2:0]    cnt_q;
  logic          issue, pop;

  assign issue = !seek_i && rd_q != lim_i && (cnt_q + 3'(infl_q) <= 3'd2);
  assign raddr_o = rd_q;
  assign valid_o = cnt_q != 0;
  assign data_o = skid_q[rdp_q];
  assign pop = valid_o && ready_i;

  always_ff @(posedge clk_i) begin
    if (infl_q) skid_q[wr_q] <= rdata_i;
    if (rst_i || seek_i) begin
      rd_q <= rst_i ? '0 : seek_ptr_i;
      head_ptr_o <= rst_i ? '0 : seek_ptr_i;
      infl_q <= 1'b0;
      wr_q <= '0;
      rdp_q <= '0;
      cnt_q <= '0;
    end else begin
      if (issue) rd_q <= rd_q + 1'b1;
      infl_q <= issue;
      if (infl_q) wr_q <= wr_q + 2'd1;
      if (pop) begin
        rdp_q <= rdp_q + 2'd1;
        head_ptr_o <= head_ptr_o + 1'b1;
      end
      cnt_q <= cnt_q + 3'(infl_q) - 3'(pop);
    end
  end
endmodule
`default_nettype wire
