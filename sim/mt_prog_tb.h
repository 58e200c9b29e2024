/* Plain C interface of the Verilator benches of the programming engine's units
 * (rtl/mt_pulse_unit.sv, rtl/mt_meta_unit.sv), as sim/mt_rtl_tb.h for the noise RTL: the
 * wrappers (sim/<top>_tb.cpp) only move bits, the tests in tests/rtl/ hold the logic. */
#ifndef MT_PROG_TB_H
#define MT_PROG_TB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- rtl/mt_pulse_unit.sv. dev[] is the 136-bit device record of docs/rtl.md in 5 words,
 * bits 0..31 first: {pulses, fault, a_rst, a_set, step_rst, step_set, gmax, gmin}. */
typedef struct {
  int valid, set;
  uint16_t g;
  uint32_t dev[5];
  int16_t z;
  uint16_t c2c_mul, c2c_add;
  uint32_t endurance;
  int resp_class;
  uint16_t resp_up[17], resp_dn[17]; /* knots of the piecewise response */
} tb_pulse_in_t;

typedef struct tb_pulse tb_pulse_t;
tb_pulse_t *tb_pulse_open(void);                /* applies 2 reset cycles */
void tb_pulse_close(tb_pulse_t *t);
unsigned tb_pulse_latency(void);                /* cycles from valid_i to valid_o */
/* One cycle with the inputs *in; before the edge, stores g_o and dev_o and returns valid_o. */
int tb_pulse_cycle(tb_pulse_t *t, const tb_pulse_in_t *in, uint16_t *g, uint32_t dev[5]);

/* ---- rtl/mt_meta_unit.sv at the builds of sim/mt_meta_builds.sv (pipelined: the table
 * index 10 edges after the start, the entry two cycles after, results 21 edges on). */
#define TB_META_BUILDS 5u /* (HIDDEN_W, TABLE_LOG2, ENTRY_W) listed in sim/mt_meta_builds.sv */

typedef struct {
  int32_t h;          /* stored hidden weight, or the META_WRITE value */
  int16_t upd;        /* META_UPDATE value */
  int write;          /* META_WRITE */
  uint32_t in_shift, idx_shift, levels;
  uint32_t hbits, frac, round, tlog2, ebits, rule; /* the unit's configuration */
} tb_meta_in_t;

typedef struct {
  int attenuate;      /* f_meta scaled the update */
  int32_t h_new;
  uint32_t level;     /* mt_level_of_hidden(h_new, levels) */
} tb_meta_out_t;

typedef struct tb_meta tb_meta_t;
tb_meta_t *tb_meta_open(void);
void tb_meta_close(tb_meta_t *t);
/* Writes the f_meta table (Q0.16 words) and selects the build whose results are seen. */
void tb_meta_table(tb_meta_t *t, const uint16_t f[256]);
void tb_meta_select(tb_meta_t *t, unsigned build);
void tb_meta_eval(tb_meta_t *t, const tb_meta_in_t *in, tb_meta_out_t *out);
/* rtl/mt_meta_unit_fixed.sv at the design point of sim/mt_meta_builds.sv (W 12, F 6, rounding,
 * k 5, E 8, interval rule, in_shift 2, idx_shift 11, L 5): register value r (12 bits), the
 * update, META_WRITE; returns r' and the level. */
void tb_meta_fixed_eval(tb_meta_t *t, int32_t r, int16_t upd, int write, int32_t *r_new,
                        uint32_t *level);

/* ---- rtl/mt_eng_prog.sv alone, in a simulated environment: payload and response buffers,
 * register-file values, level and f_meta tables, the four tile memories (1-cycle reads,
 * per-slot writes, old data on a same-cycle read) and LANES noise lanes that serve
 * xoshiro128++ draws as Gaussians (mt_gauss_from_u32). Every array is the caller's. */
typedef struct {
  const uint32_t *cfg;          /* MT_CFG_COUNT words */
  int configured;
  uint32_t levels;
  uint64_t fabricated;
  const uint32_t *level_table;  /* [MT_MAX_LEVELS][3] */
  const uint16_t *meta_table;   /* [MT_META_TABLE_SIZE] */
  const uint32_t *payload;      /* payload buffer (CMD_WORDS words) */
  uint32_t *rsp;                /* response buffer (CMD_WORDS words) */
  /* tile memories, word w = (tile*ROWS + row)*GROUPS + group */
  uint16_t *gm;                 /* [W][2*LANES] */
  uint32_t *dm;                 /* [W][2*LANES][5]: 136-bit device records */
  uint16_t *lm;                 /* [W][LANES] */
  uint32_t *hm;                 /* [W][LANES] */
  uint32_t (*lanes)[4];         /* [LANES] xoshiro128++ states s0..s3 */
  uint64_t *counts;             /* [MT_CNT_COUNT]: the sums of cnt_inc_o */
  unsigned refill_pct;          /* per cycle, chance a lane gets one more draw ready (100: always 2) */
  uint64_t stall_seed;
} tb_eng_env_t;

typedef struct tb_eng tb_eng_t;
tb_eng_t *tb_eng_open(void);    /* applies 2 reset cycles */
void tb_eng_close(tb_eng_t *t);
/* TILES, ROWS, COLS, LANES of the Verilated engine. */
void tb_eng_geometry(unsigned *tiles, unsigned *rows, unsigned *cols, unsigned *lanes);
/* Runs one command (start_i with op, len, cap) until done_o; returns 0, or -1 if done_o did
 * not come within max_cycles or an output was not 0 while the engine was idle. */
int tb_eng_run(tb_eng_t *t, tb_eng_env_t *env, uint32_t op, uint32_t len, uint32_t cap,
               uint32_t *status, uint32_t detail[2], uint32_t *n_out, uint64_t *cycles,
               uint64_t max_cycles);

#ifdef __cplusplus
}
#endif

#endif
