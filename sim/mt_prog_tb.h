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
} tb_pulse_in_t;

typedef struct tb_pulse tb_pulse_t;
tb_pulse_t *tb_pulse_open(void);                /* applies 2 reset cycles */
void tb_pulse_close(tb_pulse_t *t);
unsigned tb_pulse_latency(void);                /* cycles from valid_i to valid_o */
/* One cycle with the inputs *in; before the edge, stores g_o and dev_o and returns valid_o. */
int tb_pulse_cycle(tb_pulse_t *t, const tb_pulse_in_t *in, uint16_t *g, uint32_t dev[5]);

/* ---- rtl/mt_meta_unit.sv (combinational). */
typedef struct {
  int32_t h;          /* hidden weight */
  int16_t upd;        /* META_UPDATE value (0 for META_WRITE) */
  uint32_t in_shift, idx_shift, levels;
  uint16_t f;         /* f_meta entry at idx */
} tb_meta_in_t;

typedef struct {
  int zero;           /* d == 0: the update is ignored */
  uint32_t idx;       /* f_meta index */
  int attenuate;      /* step toward zero with f != 0xFFFF */
  int32_t h_new;
  uint32_t level;     /* mt_level_of_hidden(h_new, levels) */
} tb_meta_out_t;

typedef struct tb_meta tb_meta_t;
tb_meta_t *tb_meta_open(void);
void tb_meta_close(tb_meta_t *t);
void tb_meta_eval(tb_meta_t *t, const tb_meta_in_t *in, tb_meta_out_t *out);

#ifdef __cplusplus
}
#endif

#endif
