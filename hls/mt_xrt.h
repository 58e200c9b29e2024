/* The Vitis kernel around the command processor (docs/xrt.md): its name, arguments and the
 * launch header it writes. Shared by the kernel (hls/mt_xrt_top.c), the xrt:// backend and
 * the tests, so that they cannot disagree. */
#ifndef MT_XRT_H
#define MT_XRT_H

#include <stdint.h>

#include "mt_protocol.h"

#define MT_XRT_KERNEL "mt_top"

/* Tiles held on chip by one compute unit (a build parameter: -DMT_XRT_TILES=N, at most
 * MT_MAX_TILES). 16 tiles of 128x128 weights take 12.5 MiB of URAM and BRAM (docs/xrt.md). */
#ifndef MT_XRT_TILES
#define MT_XRT_TILES 16u
#endif

/* Words of the command and response buffers (one launch): twice the largest command with its
 * header, rounded up to whole 4 KiB pages (XRT allocates buffers page-aligned, and C's
 * aligned_alloc needs a size that is a multiple of the alignment). The HLS co-simulation depth
 * of both m_axi ports. */
#define MT_XRT_BUF_WORDS ((2u * (MT_MAX_PAYLOAD + MT_HDR_WORDS) + 1023u) / 1024u * 1024u)

/* The kernel writes a launch header at rsp[0..1] before the response stream at rsp[2]:
 * response words written and command words consumed (mt_kernel's results). */
#define MT_XRT_LAUNCH_HDR_WORDS 2u
#define MT_XRT_LAUNCH_N_RSP 0u
#define MT_XRT_LAUNCH_CONSUMED 1u

/* Bits of the ctrl argument. */
#define MT_XRT_CTRL_RESET 1u /* power-on reset of the on-chip state before the commands */

/* Argument indices of mt_top, in the order of its prototype. */
enum {
  MT_XRT_ARG_CMD = 0,
  MT_XRT_ARG_RSP,
  MT_XRT_ARG_N_CMD,
  MT_XRT_ARG_RSP_CAP,
  MT_XRT_ARG_N_TILES,
  MT_XRT_ARG_CTRL,
  MT_XRT_ARG_COUNT
};

/* One launch: runs cmd[0..n_cmd) against the state held on chip and writes the launch header
 * and rsp_cap response words at most to rsp. n_tiles (1..MT_XRT_TILES) is the device's tile
 * count as INFO reports it. */
void mt_top(const uint32_t *cmd, uint32_t *rsp, uint32_t n_cmd, uint32_t rsp_cap,
            uint32_t n_tiles, uint32_t ctrl);

#endif
