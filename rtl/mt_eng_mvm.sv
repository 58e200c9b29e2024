`default_nettype none
// Placeholder (docs/rtl.md, "Engines"): not written yet.
module mt_eng_mvm #(
`include "mt_eng_params.vh"
) (
`include "mt_eng_ports.vh"
);
`include "mt_eng_placeholder.vh"
endmodule
`default_nettype wire
