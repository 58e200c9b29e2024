/* A recorded command stream for the HLS test bench (scripts/vitis/README.md): launches of
 * mt_top, each with its control word, response room and command words. Little-endian 32-bit
 * words: MAGIC, VERSION, ROWS << 16 | COLS, TILES, launch count, then per launch
 * ctrl, rsp_cap, n_cmd and n_cmd command words. */
#ifndef MT_STREAM_H
#define MT_STREAM_H

#include <stdint.h>

#define MT_STREAM_MAGIC 0x5453544Du /* "MTST" */
#define MT_STREAM_VERSION 1u
#define MT_STREAM_HDR_WORDS 5u
#define MT_STREAM_LAUNCH_WORDS 3u

#endif
