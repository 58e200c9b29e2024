// Included inside an engine module (mt_eng_fab, mt_eng_mvm, mt_eng_prog).
//
// mt_gnoise(amp, z) = floor((amp * z + 2^11) / 2^12) of hls/mt_fixed.h, for a 16-bit amplitude
// and a draw z: gnoise_mac(amp, z, c) = amp * z + c is its product with an addend, which a DSP
// computes in its multiplier and post-adder (the engines register it in the DSP's output
// register), and bits [33:12] of it are the quotient. c is 2^11 for the noise alone
// (gnoise_p), or {x, 12'h800} for x + mt_gnoise(amp, z) in the same post-add (a read sum).
function automatic logic signed [33:0] gnoise_mac(input logic [15:0] amp, input logic [15:0] z,
                                                  input logic signed [33:0] c);
  gnoise_mac = $signed({18'd0, amp}) * $signed({{18{z[15]}}, z}) + c;
endfunction
function automatic logic signed [33:0] gnoise_p(input logic [15:0] amp, input logic [15:0] z);
  gnoise_p = gnoise_mac(amp, z, 34'sd2048);
endfunction
