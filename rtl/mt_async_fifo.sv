`default_nettype none
// Dual-clock FIFO (docs/rtl.md, "The USB path"): Gray-coded pointers crossing through two-flop
// synchronizers, first-word-fall-through read side. 2**AW entries of WIDTH bits in a register
// array (distributed RAM on a Xilinx part); the read is combinational so that the reader sees
// the head word in the cycle rvalid_o rises. Both resets must be applied together (the board
// top derives them from one source): a FIFO reset on one side only would desynchronise the
// pointers.
module mt_async_fifo #(
  parameter int unsigned WIDTH = 32,
  parameter int unsigned AW = 5
) (
  input  wire              wclk_i,
  input  wire              wrst_i,
  input  wire  [WIDTH-1:0] wdata_i,
  input  wire              wvalid_i,
  output logic             wready_o,
  // Free entries as the write side sees them (never more than are really free).
  output logic [AW:0]      wfree_o,
  input  wire              rclk_i,
  input  wire              rrst_i,
  output logic [WIDTH-1:0] rdata_o,
  output logic             rvalid_o,
  input  wire              rready_i
);
  localparam int unsigned DEPTH = 1 << AW;

  function automatic logic [AW:0] bin2gray(input logic [AW:0] b);
    bin2gray = b ^ (b >> 1);
  endfunction

  function automatic logic [AW:0] gray2bin(input logic [AW:0] g);
    logic [AW:0] b;
    // Binary bit i is the parity of the Gray bits i and above.
    for (int i = 0; i <= AW; i++) b[i] = ^(g >> i);
    gray2bin = b;
  endfunction

  logic [WIDTH-1:0] mem_q [DEPTH];

  // ---------------------------------------------------------------- write side
  logic [AW:0] wbin_q, wgray_q;
  (* ASYNC_REG = "TRUE" *) logic [AW:0] rgray_w1_q, rgray_w2_q;
  logic [AW:0] rbin_w, wused;
  logic        wpush;
  assign rbin_w = gray2bin(rgray_w2_q);
  assign wused = wbin_q - rbin_w;
  assign wready_o = wused != (AW + 1)'(DEPTH);
  assign wfree_o = (AW + 1)'(DEPTH) - wused;
  assign wpush = wvalid_i && wready_o;

  always_ff @(posedge wclk_i) begin
    if (wpush) mem_q[wbin_q[AW-1:0]] <= wdata_i;
    if (wrst_i) begin
      wbin_q <= '0;
      wgray_q <= '0;
      rgray_w1_q <= '0;
      rgray_w2_q <= '0;
    end else begin
      if (wpush) begin
        wbin_q <= wbin_q + 1'b1;
        wgray_q <= bin2gray(wbin_q + 1'b1);
      end
      rgray_w1_q <= rgray_q;
      rgray_w2_q <= rgray_w1_q;
    end
  end

  // ---------------------------------------------------------------- read side
  logic [AW:0] rbin_q, rgray_q;
  (* ASYNC_REG = "TRUE" *) logic [AW:0] wgray_r1_q, wgray_r2_q;
  logic        rpop;
  assign rvalid_o = rbin_q != gray2bin(wgray_r2_q);
  assign rdata_o = mem_q[rbin_q[AW-1:0]];
  assign rpop = rvalid_o && rready_i;

  always_ff @(posedge rclk_i) begin
    if (rrst_i) begin
      rbin_q <= '0;
      rgray_q <= '0;
      wgray_r1_q <= '0;
      wgray_r2_q <= '0;
    end else begin
      if (rpop) begin
        rbin_q <= rbin_q + 1'b1;
        rgray_q <= bin2gray(rbin_q + 1'b1);
      end
      wgray_r1_q <= wgray_q;
      wgray_r2_q <= wgray_r1_q;
    end
  end
endmodule
`default_nettype wire
