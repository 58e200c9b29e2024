`default_nettype none
// Device side of the link framing (docs/protocol.md, "Link framing"), in the core clock
// domain: finds frames in the received word stream, checks header and CRC-32, runs CMD
// payloads through mt_device's streams, answers with RSP frames, keeps the last RSP for
// duplicates and answers SYNC with SYNC_ACK.
//
// Every received word goes into a ring of 2**BUF_AW words first; the parser reads the ring
// behind the writer. A frame stays in the ring from its MAGIC until it is answered or dropped,
// so "resume scanning at the word after its MAGIC" is a rewind of the read pointer, and the
// device reads the checked payload from the ring in place. The largest CMD payload is
// 2**BUF_AW - 4 words (the frame's header and CRC words share the ring).
//
// Beyond the contract: a frame that gets no word for DROP_CYCLES clocks while incomplete is
// dropped like one with a bad CRC, so that a corrupted len cannot swallow the host's
// retransmissions (they would wait behind the missing words for ever).
module mt_frame_engine #(
  parameter int unsigned BUF_AW = 14,
  parameter int unsigned RSP_WORDS = 16384,
  parameter int unsigned DROP_CYCLES = 4194304
) (
  input  wire         clk_i,
  input  wire         rst_i,
  // words from the link (receive FIFO read side)
  input  wire  [31:0] rx_data_i,
  input  wire         rx_valid_i,
  output logic        rx_ready_o,
  // words to the link (transmit FIFO write side)
  output logic [31:0] tx_data_o,
  output logic        tx_valid_o,
  input  wire         tx_ready_i,
  // mt_device's streams and transfer result
  output logic [31:0] dev_tdata_o,
  output logic        dev_tvalid_o,
  input  wire         dev_tready_i,
  output logic        dev_tlast_o,
  input  wire  [31:0] dev_rdata_i,
  input  wire         dev_rvalid_i,
  output logic        dev_rready_o,
  output logic [31:0] dev_rsp_cap_o,
  input  wire         dev_done_i,
  input  wire  [31:0] dev_consumed_i,
  input  wire  [31:0] dev_rsp_words_i,
  output logic        busy_o
);
`include "mt_protocol.vh"

  localparam int unsigned BUF = 1 << BUF_AW;
  localparam int unsigned PW = BUF_AW + 1;
  localparam int unsigned CMD_MAX = BUF - (MT_FRAME_HDR_WORDS + MT_FRAME_CRC_WORDS);
  localparam int unsigned RSP_AW = $clog2(RSP_WORDS);
  localparam int unsigned RPW = RSP_AW + 1;

  // CRC-32/IEEE (zlib crc32, reflected) of the 4 bytes of w, little-endian, one word per clock.
  function automatic logic [31:0] crc32_word(input logic [31:0] c, input logic [31:0] w);
    logic [31:0] x;
    x = c;
    for (int i = 0; i < 32; i++) x = (x >> 1) ^ (32'hEDB88320 & {32{x[0] ^ w[i]}});
    crc32_word = x;
  endfunction

  // ---------------------------------------------------------------- receive ring
  typedef enum logic [3:0] {
    P_HUNT, P_W1, P_LEN, P_PAY, P_CRC, P_DO, P_FEED, P_TX, P_NEXT
  } pstate_e;
  pstate_e pstate_q;

  logic [PW-1:0] wp_q, fstart_q, rd_head, rd_lim, rd_raddr, keep, seek_ptr;
  logic          rx_hs, rd_seek, rd_valid, rd_ready;
  logic [31:0]   rd_data, ring_rdata;
  assign keep = pstate_q == P_HUNT ? rd_head : fstart_q;
  assign rx_ready_o = (wp_q - keep) != PW'(BUF);
  assign rx_hs = rx_valid_i && rx_ready_o;

  mt_sram #(.WORDS(BUF), .SLOTS(1), .SLOT_W(32)) u_ring (
    .clk_i(clk_i), .waddr_i(wp_q[BUF_AW-1:0]), .we_i(rx_hs), .wdata_i(rx_data_i),
    .raddr_i(rd_raddr[BUF_AW-1:0]), .rdata_o(ring_rdata)
  );
  mt_sram_stream #(.PW(PW)) u_rd (
    .clk_i(clk_i), .rst_i(rst_i), .seek_i(rd_seek), .seek_ptr_i(seek_ptr), .lim_i(rd_lim),
    .raddr_o(rd_raddr), .rdata_i(ring_rdata), .valid_o(rd_valid), .data_o(rd_data),
    .ready_i(rd_ready), .head_ptr_o(rd_head)
  );

  // ---------------------------------------------------------------- parser and sequencing
  logic [31:0] crc_q, len_q, cnt_q, idle_q;
  logic [7:0]  kind_q;
  logic [15:0] seq_q, last_seq_q;
  logic        kept_q;          // the response RAM holds the RSP of last_seq_q
  logic [RPW-1:0] rsp_len_q;    // its payload words
  logic        parsing, pop_rd, hdr_ok, len_ok, frame_end;
  logic [PW-1:0] pay_start, pay_end, fend;

  assign parsing = pstate_q == P_W1 || pstate_q == P_LEN || pstate_q == P_PAY ||
                   pstate_q == P_CRC;
  assign pay_start = fstart_q + PW'(MT_FRAME_HDR_WORDS);
  assign pay_end = pay_start + PW'(len_q);
  assign fend = pay_end + PW'(MT_FRAME_CRC_WORDS);
  assign pop_rd = rd_valid && (pstate_q == P_HUNT || parsing);
  assign hdr_ok = rd_data[23:16] == 8'd0 &&
                  (32'(rd_data[31:24]) == MT_FRAME_KIND_CMD ||
                   32'(rd_data[31:24]) == MT_FRAME_KIND_SYNC);
  assign len_ok = 32'(kind_q) == MT_FRAME_KIND_SYNC ? rd_data == 32'd0 : rd_data <= CMD_MAX;
  assign frame_end = pstate_q == P_CRC;

  // The device reads the payload through the same ring reader.
  assign rd_lim = pstate_q == P_FEED ? pay_end : wp_q;
  assign dev_tvalid_o = pstate_q == P_FEED && rd_valid;
  assign dev_tdata_o = rd_data;
  assign dev_tlast_o = rd_head == pay_end - 1'b1;
  assign rd_ready = pop_rd || (pstate_q == P_FEED && dev_tready_i);
  assign dev_rsp_cap_o = RSP_WORDS - 1;
  assign dev_rready_o = pstate_q == P_FEED;

  // ---------------------------------------------------------------- response RAM
  logic [RSP_AW-1:0] rsp_waddr, rsp_raddr_lo;
  logic              rsp_we;
  logic [31:0]       rsp_wdata, rsp_rdata;
  logic [RPW-1:0]    rsp_cnt_q, t_raddr, t_lim;
  logic              rsp_dev_word;
  assign rsp_dev_word = pstate_q == P_FEED && dev_rvalid_i;
  assign rsp_we = rsp_dev_word || (pstate_q == P_FEED && dev_done_i) ||
                  (pstate_q == P_DO && start_cmd && len_q == 0);
  assign rsp_waddr = rsp_dev_word ? RSP_AW'(rsp_cnt_q) : '0;
  assign rsp_wdata = rsp_dev_word ? dev_rdata_i : (pstate_q == P_FEED ? dev_consumed_i : 32'd0);
  assign rsp_raddr_lo = t_raddr[RSP_AW-1:0];

  mt_sram #(.WORDS(RSP_WORDS), .SLOTS(1), .SLOT_W(32)) u_rsp (
    .clk_i(clk_i), .waddr_i(rsp_waddr), .we_i(rsp_we), .wdata_i(rsp_wdata),
    .raddr_i(rsp_raddr_lo), .rdata_o(rsp_rdata)
  );

  // ---------------------------------------------------------------- transmit framer
  typedef enum logic [2:0] {T_IDLE, T_MAGIC, T_W1, T_LEN, T_PAY, T_CRC} tstate_e;
  tstate_e tstate_q;
  logic [7:0]  t_kind_q;
  logic [15:0] t_seq_q;
  logic [31:0] t_len_q, t_cnt_q, tcrc_q, t_pay;
  logic        t_start, t_hs, t_src_valid, t_src_ready, t_seek, t_done;
  logic [31:0] t_src_data;
  logic [RPW-1:0] t_head;
  logic        start_cmd, dup;

  assign start_cmd = 32'(kind_q) == MT_FRAME_KIND_CMD && seq_q == last_seq_q + 16'd1;
  assign dup = 32'(kind_q) == MT_FRAME_KIND_CMD && seq_q == last_seq_q && kept_q;
  assign t_lim = RPW'(t_len_q);
  assign t_seek = t_start;

  mt_sram_stream #(.PW(RPW)) u_trd (
    .clk_i(clk_i), .rst_i(rst_i), .seek_i(t_seek), .seek_ptr_i('0), .lim_i(t_lim),
    .raddr_o(t_raddr), .rdata_i(rsp_rdata), .valid_o(t_src_valid), .data_o(t_src_data),
    .ready_i(t_src_ready), .head_ptr_o(t_head)
  );

  always_comb begin
    t_pay = t_src_data;
    if (32'(t_kind_q) == MT_FRAME_KIND_SYNC_ACK) t_pay = t_cnt_q == 0 ? CMD_MAX : RSP_WORDS;
    case (tstate_q)
      T_MAGIC: tx_data_o = MT_FRAME_MAGIC;
      T_W1: tx_data_o = {t_kind_q, 8'd0, t_seq_q};
      T_LEN: tx_data_o = t_len_q;
      T_PAY: tx_data_o = t_pay;
      default: tx_data_o = ~tcrc_q;
    endcase
  end
  assign tx_valid_o = tstate_q != T_IDLE &&
                      (tstate_q != T_PAY || 32'(t_kind_q) == MT_FRAME_KIND_SYNC_ACK || t_src_valid);
  assign t_hs = tx_valid_o && tx_ready_i;
  assign t_src_ready = t_hs && tstate_q == T_PAY && 32'(t_kind_q) == MT_FRAME_KIND_RSP;
  assign t_done = t_hs && tstate_q == T_CRC;

  // Start of a transmission: from P_DO (SYNC_ACK, a re-sent RSP, the RSP of an empty CMD) or
  // at the end of P_FEED.
  logic       do_sync, do_dup, do_empty;
  assign do_sync = pstate_q == P_DO && 32'(kind_q) == MT_FRAME_KIND_SYNC;
  assign do_dup = pstate_q == P_DO && dup;
  assign do_empty = pstate_q == P_DO && start_cmd && len_q == 0;
  assign t_start = do_sync || do_dup || do_empty || (pstate_q == P_FEED && dev_done_i);

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      tstate_q <= T_IDLE;
    end else begin
      if (t_start) begin
        tstate_q <= T_MAGIC;
        t_seq_q <= seq_q;
        t_cnt_q <= '0;
        tcrc_q <= 32'hFFFFFFFF;
        if (do_sync) begin
          t_kind_q <= 8'(MT_FRAME_KIND_SYNC_ACK);
          t_len_q <= 32'd2;
        end else begin
          t_kind_q <= 8'(MT_FRAME_KIND_RSP);
          // A re-sent RSP has its old length; a new one is consumed + the response words.
          t_len_q <= do_dup ? 32'(rsp_len_q) : (do_empty ? 32'd1 : dev_rsp_words_i + 32'd1);
        end
      end else if (t_hs) begin
        tcrc_q <= crc32_word(tcrc_q, tx_data_o);
        case (tstate_q)
          T_MAGIC: tstate_q <= T_W1;
          T_W1: tstate_q <= T_LEN;
          T_LEN: tstate_q <= t_len_q == 0 ? T_CRC : T_PAY;
          T_PAY: begin
            t_cnt_q <= t_cnt_q + 1;
            if (t_cnt_q + 1 == t_len_q) tstate_q <= T_CRC;
          end
          default: tstate_q <= T_IDLE;
        endcase
      end
    end
  end

  // ---------------------------------------------------------------- parser state machine
  logic drop;
  assign drop = (pstate_q == P_W1 && rd_valid && !hdr_ok) ||
                (pstate_q == P_LEN && rd_valid && !len_ok) ||
                (frame_end && rd_valid && rd_data != ~crc_q) ||
                (parsing && !rd_valid && idle_q >= DROP_CYCLES);
  // Rewind to the word after a dropped frame's MAGIC; after an answered frame, go past it.
  assign rd_seek = drop || pstate_q == P_NEXT || (pstate_q == P_DO && start_cmd && len_q != 0);
  assign seek_ptr = drop ? fstart_q + 1'b1 : (pstate_q == P_NEXT ? fend : pay_start);

  always_ff @(posedge clk_i) begin
    if (rx_hs) wp_q <= wp_q + 1'b1;
    if (rst_i) begin
      pstate_q <= P_HUNT;
      wp_q <= '0;
      fstart_q <= '0;
      last_seq_q <= 16'hFFFF;
      kept_q <= 1'b0;
      idle_q <= '0;
    end else begin
      idle_q <= (parsing && !rd_valid) ? idle_q + 1 : '0;
      if (pop_rd && pstate_q != P_HUNT) crc_q <= crc32_word(crc_q, rd_data);
      if (drop) pstate_q <= P_HUNT;
      else case (pstate_q)
        P_HUNT: if (rd_valid && rd_data == MT_FRAME_MAGIC) begin
          fstart_q <= rd_head;
          crc_q <= crc32_word(32'hFFFFFFFF, rd_data);
          pstate_q <= P_W1;
        end
        P_W1: if (rd_valid) begin
          kind_q <= rd_data[31:24];
          seq_q <= rd_data[15:0];
          pstate_q <= P_LEN;
        end
        P_LEN: if (rd_valid) begin
          len_q <= rd_data;
          cnt_q <= '0;
          pstate_q <= rd_data == 0 ? P_CRC : P_PAY;
        end
        P_PAY: if (rd_valid) begin
          cnt_q <= cnt_q + 1;
          if (cnt_q + 1 == len_q) pstate_q <= P_CRC;
        end
        P_CRC: if (rd_valid) pstate_q <= P_DO;
        P_DO: begin
          if (32'(kind_q) == MT_FRAME_KIND_SYNC) begin
            last_seq_q <= seq_q;
            kept_q <= 1'b0;
            pstate_q <= P_TX;
          end else if (start_cmd) begin
            rsp_cnt_q <= RPW'(1);
            if (len_q == 0) begin
              rsp_len_q <= RPW'(1);
              kept_q <= 1'b1;
              last_seq_q <= seq_q;
              pstate_q <= P_TX;
            end else pstate_q <= P_FEED;
          end else if (dup) pstate_q <= P_TX;
          else pstate_q <= P_NEXT;
        end
        P_FEED: begin
          if (rsp_dev_word) rsp_cnt_q <= rsp_cnt_q + 1'b1;
          if (dev_done_i) begin
            rsp_len_q <= RPW'(dev_rsp_words_i + 32'd1);
            kept_q <= 1'b1;
            last_seq_q <= seq_q;
            pstate_q <= P_TX;
          end
        end
        P_TX: if (t_done) pstate_q <= P_NEXT;
        P_NEXT: pstate_q <= P_HUNT;
        default: pstate_q <= P_HUNT;
      endcase
    end
  end

  assign busy_o = pstate_q != P_HUNT || tstate_q != T_IDLE;

  // Pointers wrap one bit above the RAM address; the framer counts words itself.
  wire unused_ok = ^{t_head, rd_raddr[BUF_AW], t_raddr[RSP_AW]};
endmodule
`default_nettype wire
