/* HLS test bench of mt_top (Vitis HLS csim_design/cosim_design, and gcc in make test): replays
 * a recorded command stream (record_stream.c) launch by launch through the kernel, and through
 * the golden model (mt_kernel over the bench's own state) beside it, and compares the launch
 * headers and every response word. Returns 0 when all launches match (Vitis's pass/fail rule);
 * prints one TAP line per launch. Usage: tb_mt_top [STREAM] (default: stream_small.bin next to
 * this file, as run_hls.tcl passes it). */
#include <stdio.h>
#include <stdlib.h>

#include "mt_model.h"
#include "mt_stream.h"
#include "mt_xrt.h"

#ifndef MT_TB_STREAM
#define MT_TB_STREAM "stream_small.bin"
#endif

static uint32_t cmd[MT_XRT_BUF_WORDS];
static uint32_t rsp[MT_XRT_BUF_WORDS];
static uint32_t ref[MT_XRT_BUF_WORDS];
static mt_regs_t ref_regs;
static mt_tile_t ref_tiles[MT_XRT_TILES];

static int read_words(FILE *f, uint32_t *w, uint32_t n) { return fread(w, 4, n, f) == n ? 0 : -1; }

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : MT_TB_STREAM;
  FILE *f = fopen(path, "rb");
  uint32_t hdr[MT_STREAM_HDR_WORDS];
  if (!f || read_words(f, hdr, MT_STREAM_HDR_WORDS) != 0 || hdr[0] != MT_STREAM_MAGIC ||
      hdr[1] != MT_STREAM_VERSION) {
    printf("not ok 1 - %s is not a recorded command stream (record_stream.c)\n", path);
    return 1;
  }
  if (hdr[2] != (MT_ROWS << 16 | MT_COLS) || hdr[3] != MT_XRT_TILES) {
    printf("not ok 1 - %s was recorded for %ux%u tiles x %u, this bench is built for %ux%u x %u\n",
           path, hdr[2] >> 16, hdr[2] & 0xFFFFu, hdr[3], MT_ROWS, MT_COLS, MT_XRT_TILES);
    return 1;
  }
  int failed = 0;
  for (uint32_t l = 1; l <= hdr[4]; l++) {
    uint32_t lh[MT_STREAM_LAUNCH_WORDS];
    if (read_words(f, lh, MT_STREAM_LAUNCH_WORDS) != 0 || lh[2] > MT_XRT_BUF_WORDS ||
        read_words(f, cmd, lh[2]) != 0) {
      printf("not ok %u - launch %u: stream ends early or is malformed\n", l, l);
      failed = 1;
      break;
    }
    uint32_t ctrl = lh[0], cap = lh[1], n = lh[2];
    for (uint32_t i = 0; i < MT_XRT_BUF_WORDS; i++) rsp[i] = 0xA5A5A5A5u;
    mt_top(cmd, rsp, n, cap, MT_XRT_TILES, ctrl);
    if (ctrl & MT_XRT_CTRL_RESET) mt_device_reset(&ref_regs, ref_tiles, MT_XRT_TILES);
    uint32_t used = 0;
    uint32_t n_ref = mt_kernel(cmd, n, ref, cap, &ref_regs, ref_tiles, MT_XRT_TILES, &used);
    const uint32_t *out = rsp + MT_XRT_LAUNCH_HDR_WORDS;
    uint32_t bad = n_ref;
    for (uint32_t i = 0; i < n_ref && bad == n_ref; i++)
      if (out[i] != ref[i]) bad = i;
    if (rsp[MT_XRT_LAUNCH_N_RSP] != n_ref || rsp[MT_XRT_LAUNCH_CONSUMED] != used) {
      printf("not ok %u - launch %u: kernel wrote %u words, consumed %u; the model %u, %u\n", l, l,
             rsp[MT_XRT_LAUNCH_N_RSP], rsp[MT_XRT_LAUNCH_CONSUMED], n_ref, used);
      failed = 1;
    } else if (bad != n_ref) {
      printf("not ok %u - launch %u: response word %u is 0x%08x, the model's 0x%08x\n", l, l, bad,
             out[bad], ref[bad]);
      failed = 1;
    } else {
      printf("ok %u - launch %u: %u command words, %u of %u consumed, %u response words as the "
             "model\n", l, l, n, used, n, n_ref);
    }
  }
  fclose(f);
  return failed;
}
