`default_nettype none
// FT601 245 synchronous FIFO master (docs/rtl.md, "The USB path"), in the FT601's clock domain.
// Every bus signal goes through a flop on its way in and out (IOB registers on the board), so
// the bridge reacts to RXF_N/TXE_N two clock edges after the FT601 changes them:
//  - read (host -> FPGA): OE_N low one clock before RD_N; a word is taken at an edge where RD_N,
//    OE_N and RXF_N are all low, and only then (words whose BE is not 4'hF are dropped: frames
//    are whole words). RD_N stays low only while the receive FIFO has room for the words that
//    can still arrive before RD_N rises (RX_MARGIN).
//  - write (FPGA -> host): WR_N low only with DATA driven and only when TXE_N was low two edges
//    earlier; a word counts as written at an edge where WR_N and TXE_N are both low. A word
//    offered at an edge where TXE_N had just risen was not taken: the bridge keeps every word
//    until the FT601 took it (a small replay ring) and offers it again.
//  - turnaround: the FPGA drives DATA/BE only when OE_N was high for the whole previous clock,
//    and lowers OE_N only when it drove nothing for the whole previous clock (one idle clock
//    between the two directions).
// Pads (docs/boards.md, "Pad structure"): each DATA/BE pin has its own tristate-control flop
// (ft_data_t_o/ft_be_t_o, active high: 1 = released), so that every pin's T input comes from
// a flop the tools can put into that pin's I/O block beside its output and input flops. All 36
// hold the same value: the bridge drives the bus exactly while it is in B_TX.
module mt_ft601_bridge #(
  parameter int unsigned FREE_W = 6,
  parameter int unsigned RING_AW = 3
) (
  input  wire               ft_clk_i,
  input  wire               ft_rst_i,
  // FT601 pins (tristate buffers in the board top)
  input  wire  [31:0]       ft_data_i,
  input  wire  [3:0]        ft_be_i,
  input  wire               ft_rxf_n_i,
  input  wire               ft_txe_n_i,
  output logic [31:0]       ft_data_o,
  output logic [3:0]        ft_be_o,
  output logic [31:0]       ft_data_t_o,  // per pin: 1 = released (high-Z), 0 = driven
  output logic [3:0]        ft_be_t_o,
  output logic              ft_rd_n_o,
  output logic              ft_wr_n_o,
  output logic              ft_oe_n_o,
  // received words, into the receive FIFO's write side (which reports its free entries)
  output logic [31:0]       rx_data_o,
  output logic              rx_valid_o,
  input  wire  [FREE_W-1:0] rx_free_i,
  // words to send, from the transmit FIFO's read side (first word fall through)
  input  wire  [31:0]       tx_data_i,
  input  wire               tx_valid_i,
  output logic              tx_ready_o
);
  // Words that can still land in the receive FIFO after the cycle that decides RD_N: the one
  // in the capture register, the one at the next edge, and one for the decision's own edge.
  localparam int unsigned RX_MARGIN = 4;
  localparam int unsigned RING = 1 << RING_AW;

  typedef enum logic [2:0] {B_IDLE, B_RXOE, B_RX, B_TX, B_TURN} bstate_e;
  bstate_e state_q;

  // ---------------------------------------------------------------- input flops
  // In the I/O blocks on the board (IOB), as are the DATA output flops (dout_q) and the 36
  // tristate-control flops (dt_q, bet_q) below; the control outputs also feed the bridge's own
  // logic, so they stay in the fabric.
  (* IOB = "TRUE" *) logic [31:0] din_q;
  (* IOB = "TRUE" *) logic [3:0]  bein_q;
  (* IOB = "TRUE" *) logic        rxf_n_q, txe_n_q;
  logic        rd_edge_q;  // RD_N and OE_N were low at the edge din_q was sampled
  logic        wr_edge_q;  // WR_N was low at the edge txe_n_q was sampled
  always_ff @(posedge ft_clk_i) begin
    din_q <= ft_data_i;
    bein_q <= ft_be_i;
    if (ft_rst_i) begin
      rxf_n_q <= 1'b1;
      txe_n_q <= 1'b1;
      rd_edge_q <= 1'b0;
      wr_edge_q <= 1'b0;
    end else begin
      rxf_n_q <= ft_rxf_n_i;
      txe_n_q <= ft_txe_n_i;
      rd_edge_q <= !ft_rd_n_o && !ft_oe_n_o;
      wr_edge_q <= !ft_wr_n_o;
    end
  end

  // ---------------------------------------------------------------- receive
  logic rx_room;
  assign rx_room = rx_free_i >= FREE_W'(RX_MARGIN);
  assign rx_data_o = din_q;
  assign rx_valid_o = rd_edge_q && !rxf_n_q && bein_q == 4'hF;

  // ---------------------------------------------------------------- transmit replay ring
  // head_q: oldest word not known to be taken; pres_q: next word to offer; tail_q: next free.
  logic [31:0]      ring_q [RING];
  logic [RING_AW:0] head_q, pres_q, tail_q;
  logic             skip_q;  // the next write outcome is of a word already queued again
  logic             fill, offer;
  assign fill = tx_valid_i && (tail_q - head_q) != (RING_AW + 1)'(RING);
  assign tx_ready_o = fill;

  always_ff @(posedge ft_clk_i) begin
    if (fill) ring_q[tail_q[RING_AW-1:0]] <= tx_data_i;
  end

  logic want_tx, want_rx, prefer_rx_q;
  assign want_tx = pres_q != tail_q && !txe_n_q;
  assign want_rx = !rxf_n_q && rx_room;
  assign offer = state_q == B_TX && want_tx;

  // ---------------------------------------------------------------- pad flops
  // One tristate-control flop per pin. Their inputs are equal, so KEEP stops synthesis from
  // merging them into one flop, which could sit in only one pin's I/O block.
  (* IOB = "TRUE" *) logic [31:0] dout_q;
  (* IOB = "TRUE", KEEP = "TRUE" *) logic [31:0] dt_q;
  (* IOB = "TRUE", KEEP = "TRUE" *) logic [3:0]  bet_q;
  logic drive_d;  // the bus is driven in the next clock: B_TX then
  always_comb begin
    drive_d = state_q == B_TX;
    if (state_q == B_IDLE && want_tx && (!want_rx || !prefer_rx_q)) drive_d = 1'b1;
    if (state_q == B_TX && !want_tx) drive_d = 1'b0;
    if (ft_rst_i) drive_d = 1'b0;
  end
  always_ff @(posedge ft_clk_i) begin
    if (offer) dout_q <= ring_q[pres_q[RING_AW-1:0]];
    dt_q <= {32{!drive_d}};
    bet_q <= {4{!drive_d}};
  end
  assign ft_data_o = dout_q;
  assign ft_data_t_o = dt_q;
  assign ft_be_t_o = bet_q;
  // Frames are whole words: every word the bridge writes has all four bytes valid.
  assign ft_be_o = 4'hF;

  // ---------------------------------------------------------------- bus state machine
  always_ff @(posedge ft_clk_i) begin
    if (ft_rst_i) begin
      state_q <= B_IDLE;
      ft_rd_n_o <= 1'b1;
      ft_wr_n_o <= 1'b1;
      ft_oe_n_o <= 1'b1;
      head_q <= '0;
      pres_q <= '0;
      tail_q <= '0;
      skip_q <= 1'b0;
      prefer_rx_q <= 1'b0;
    end else begin
      if (fill) tail_q <= tail_q + 1'b1;
      ft_wr_n_o <= !offer;
      if (offer) pres_q <= pres_q + 1'b1;
      // Outcome of the word offered at the last edge (WR_N low then): taken when TXE_N was low.
      // A refused word is offered again, and so is the one already on the bus behind it.
      if (wr_edge_q) begin
        if (skip_q) skip_q <= 1'b0;
        else if (!txe_n_q) head_q <= head_q + 1'b1;
        else begin
          pres_q <= head_q;
          skip_q <= !ft_wr_n_o;
        end
      end
      case (state_q)
        B_IDLE:
          if (want_tx && (!want_rx || !prefer_rx_q)) begin
            state_q <= B_TX;
          end else if (want_rx) begin
            state_q <= B_RXOE;
            ft_oe_n_o <= 1'b0;
          end
        B_RXOE: begin
          state_q <= B_RX;
          ft_rd_n_o <= !want_rx;
        end
        B_RX:
          if (want_rx) ft_rd_n_o <= 1'b0;
          else begin
            // Give the bus back; the words still arriving at this edge are captured.
            ft_rd_n_o <= 1'b1;
            ft_oe_n_o <= 1'b1;
            prefer_rx_q <= 1'b0;
            state_q <= B_TURN;
          end
        B_TX:
          if (!want_tx) begin
            prefer_rx_q <= 1'b1;
            state_q <= B_TURN;
          end
        B_TURN: state_q <= B_IDLE;
        default: state_q <= B_IDLE;
      endcase
    end
  end

  // ---------------------------------------------------------------- assertions
  // docs/rtl.md, "Assertions". Every tristate-control flop says what the state machine means:
  // all 36 pins driven exactly in B_TX, none otherwise (a stray T flop would drive one pin
  // against the FT601, or leave one floating while WR_N is low); WR_N low only while driving.
  // Simulation only.
`ifndef SYNTHESIS
  always_ff @(posedge ft_clk_i) begin
    if (!ft_rst_i) begin
      assert (dt_q == {32{state_q != B_TX}} && bet_q == {4{state_q != B_TX}})
      else $error("mt_ft601_bridge: tristate flops %h/%h disagree with state %0d", dt_q, bet_q,
                  state_q);
      assert (ft_wr_n_o || state_q == B_TX)
      else $error("mt_ft601_bridge: WR_N low outside B_TX");
    end
  end
`endif
endmodule
`default_nettype wire
