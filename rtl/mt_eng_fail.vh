// The end-of-command result of an engine: the status and two detail words that done_o
// presents (docs/rtl.md, "Engines"). Included at module scope by the engines that register
// their result in status_q[15:0], det0_q[31:0] and det1_q[31:0] from an always_ff; it names
// those registers, so every engine reports its checks the same way. Called at a failed check
// (or, in mt_eng_prog, ahead of a check whose failure ends the command at once).
  task automatic fail(input logic [7:0] st, input logic [31:0] d0, input logic [31:0] d1);
    status_q <= {8'd0, st};
    det0_q <= d0;
    det1_q <= d1;
  endtask
