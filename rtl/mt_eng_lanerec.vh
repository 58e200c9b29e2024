// Included inside an engine module after mt_eng_ports.vh (mt_eng_prog, mt_eng_state).
//
// A lane's record out of the tile memories' read words: each lane's slots are gathered into a
// 512-bit field, so that picking a lane is a part-select at {lane, 9'd0}, a plain LANES:1 mux
// per bit. A part-select at 136*lane (the dm slot width) is a barrel shifter over the whole
// read word instead (about 20k LUTs at 16 lanes): Yosys does not see that the shift is a
// multiple of 136. A record from bit 0: g+, g-, dev+, dev-, level, hidden weight.
localparam int unsigned LREC = 2*16 + 2*136 + 16 + 32;   // a lane's slots: 352 bits

function automatic logic [LANES*512-1:0] lane_records(
    input logic [LANES*2*16-1:0] gm, input logic [LANES*2*136-1:0] dm,
    input logic [LANES*16-1:0] lm, input logic [LANES*32-1:0] hm);
  lane_records = '0;
  for (int unsigned l = 0; l < LANES; l++)
    lane_records[512*l +: LREC] = {hm[32*l +: 32], lm[16*l +: 16], dm[136*(LANES+l) +: 136],
                                   dm[136*l +: 136], gm[16*(LANES+l) +: 16], gm[16*l +: 16]};
endfunction
