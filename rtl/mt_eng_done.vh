// The command's result on the outputs while done_o is high (docs/rtl.md, "Engines"), the same
// in every engine: included in the output always_comb after mt_eng_idle.vh and after done_o
// is set. Reads the result registers status_q, det0_q, det1_q (see mt_eng_fail.vh) and
// nout_q, the response words of a successful command: a failed one has none.
    if (done_o) begin
      status_o = status_q;
      detail0_o = det0_q;
      detail1_o = det1_q;
      if (status_q == 16'd0) n_out_o = nout_q;
    end
