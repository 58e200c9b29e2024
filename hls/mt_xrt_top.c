/* The Vitis kernel (docs/xrt.md): the command processor of mt_kernel.c behind two m_axi
 * buffers, with the device state held on chip between launches. Compiled by gcc it is a plain
 * function over static state, which the HLS test bench (scripts/vitis/tb_mt_top.c) replays a
 * recorded command stream through. */
#include "mt_xrt.h"

#include "mt_device.h"

void mt_top(const uint32_t *cmd, uint32_t *rsp, uint32_t n_cmd, uint32_t rsp_cap,
            uint32_t n_tiles, uint32_t ctrl) {
  /* Command words in on gmem0, responses out on gmem1: two AXI masters, so that v++ can put
   * them on different banks (scripts/vitis/connectivity.cfg). */
#pragma HLS INTERFACE mode = m_axi port = cmd offset = slave bundle = gmem0 depth = MT_XRT_BUF_WORDS max_read_burst_length = 256
#pragma HLS INTERFACE mode = m_axi port = rsp offset = slave bundle = gmem1 depth = MT_XRT_BUF_WORDS max_write_burst_length = 256
#pragma HLS INTERFACE mode = s_axilite port = cmd
#pragma HLS INTERFACE mode = s_axilite port = rsp
#pragma HLS INTERFACE mode = s_axilite port = n_cmd
#pragma HLS INTERFACE mode = s_axilite port = rsp_cap
#pragma HLS INTERFACE mode = s_axilite port = n_tiles
#pragma HLS INTERFACE mode = s_axilite port = ctrl
#pragma HLS INTERFACE mode = s_axilite port = return
  /* The whole device state lives in on-chip RAM and persists between launches (static); it
   * is lost when the xclbin is reloaded, so the host resets it on its first launch. The MVM
   * (mvm_one) reads two whole rows of both conductance planes per clock: the planes are
   * partitioned completely by column and cyclically by two rows (512 banks of 16-bit words,
   * each holding its column and row parity of every tile); the noise lanes are read all at
   * once. */
  static mt_regs_t regs;
  static mt_tile_t tiles[MT_XRT_TILES];
#pragma HLS DISAGGREGATE variable = regs
#pragma HLS DISAGGREGATE variable = tiles
#pragma HLS ARRAY_PARTITION variable = regs.lanes type = complete dim = 1
#pragma HLS ARRAY_PARTITION variable = tiles->g type = complete dim = 3
#pragma HLS ARRAY_PARTITION variable = tiles->g type = cyclic factor = 2 dim = 2
#pragma HLS BIND_STORAGE variable = tiles->g type = ram_2p impl = bram
#pragma HLS BIND_STORAGE variable = tiles->dev type = ram_2p impl = uram
#pragma HLS BIND_STORAGE variable = tiles->hidden type = ram_2p impl = uram
#pragma HLS BIND_STORAGE variable = tiles->level type = ram_2p impl = bram
  /* Out-of-range values from a wrong host are clamped to the buffers the kernel was built
   * for, so no launch can reach outside them. */
  uint32_t cap = MT_XRT_BUF_WORDS - MT_XRT_LAUNCH_HDR_WORDS;
  if (rsp_cap > cap) rsp_cap = cap;
  if (n_cmd > MT_XRT_BUF_WORDS) n_cmd = MT_XRT_BUF_WORDS;
  if (n_tiles == 0 || n_tiles > MT_XRT_TILES) n_tiles = MT_XRT_TILES;
  if (ctrl & MT_XRT_CTRL_RESET) mt_device_reset(&regs, tiles, MT_XRT_TILES);
  uint32_t consumed = 0;
  uint32_t n_rsp = mt_kernel(cmd, n_cmd, rsp + MT_XRT_LAUNCH_HDR_WORDS, rsp_cap, &regs, tiles,
                             n_tiles, &consumed);
  rsp[MT_XRT_LAUNCH_N_RSP] = n_rsp;
  rsp[MT_XRT_LAUNCH_CONSUMED] = consumed;
}
