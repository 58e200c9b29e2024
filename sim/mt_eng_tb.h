/* Plain C interface of the engine benches (sim/mt_eng_<name>_tb.cpp): one Verilated engine
 * (docs/rtl.md, "Engines") with its port list as arrays of 32-bit words, so that a C test can
 * play the top (payload and response buffers, register file, tile memories) around it. Built
 * for the default geometry (LANES = 16). Each cycle call drives the inputs while the clock is
 * low, evaluates, samples the outputs, then applies one rising edge. */
#ifndef MT_ENG_TB_H
#define MT_ENG_TB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TB_ENG_LANES 16u
#define TB_ENG_GM_WORDS (TB_ENG_LANES * 2u * 16u / 32u)  /* 16 */
#define TB_ENG_DM_WORDS (TB_ENG_LANES * 2u * 136u / 32u) /* 136 */
#define TB_ENG_LM_WORDS (TB_ENG_LANES * 16u / 32u)       /* 8 */
#define TB_ENG_HM_WORDS (TB_ENG_LANES * 32u / 32u)       /* 16 */
#define TB_ENG_NZ_WORDS (TB_ENG_LANES * 4u)              /* 64 */

typedef struct {
  /* inputs */
  int start;
  uint32_t op, len, cap;
  uint32_t pl_data, g_rdata;
  uint32_t nz_state[TB_ENG_NZ_WORDS];
  uint32_t gm_rdata[TB_ENG_GM_WORDS], dm_rdata[TB_ENG_DM_WORDS];
  uint32_t lm_rdata[TB_ENG_LM_WORDS], hm_rdata[TB_ENG_HM_WORDS];
  /* outputs */
  int done;
  uint32_t status, detail0, detail1, n_out;
  uint32_t pl_addr;
  int rsp_we;
  uint32_t rsp_addr, rsp_data;
  int g_we;
  uint32_t g_addr, g_wdata, g_raddr;
  int nz_load;
  uint32_t nz_load_state[TB_ENG_NZ_WORDS];
  uint32_t gm_addr, gm_we, gm_wdata[TB_ENG_GM_WORDS];
  uint32_t dm_addr, dm_we, dm_wdata[TB_ENG_DM_WORDS];
  uint32_t lm_addr, lm_we, lm_wdata[TB_ENG_LM_WORDS];
  uint32_t hm_addr, hm_we, hm_wdata[TB_ENG_HM_WORDS];
  /* OR of every output not listed above (counters, seeds, draws, table reads): must be 0 */
  int others;
} tb_eng_io_t;

/* ---- rtl/mt_eng_state.sv */
typedef struct tb_eng_state tb_eng_state_t;
tb_eng_state_t *tb_eng_state_open(void); /* applies 2 reset cycles */
void tb_eng_state_close(tb_eng_state_t *t);
/* Geometry of the Verilated model: TILES, ROWS, COLS, LANES. */
void tb_eng_state_geometry(const tb_eng_state_t *t, uint32_t geo[4]);
/* One cycle: the inputs of *io drive the model, its outputs are written back into *io. */
void tb_eng_state_cycle(tb_eng_state_t *t, tb_eng_io_t *io);

#ifdef __cplusplus
}
#endif

#endif
