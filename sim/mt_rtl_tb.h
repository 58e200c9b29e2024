/* Plain C interface of the Verilator module benches (sim/<top>_tb.cpp): one opaque handle
 * per Verilated model, and one call per clock cycle. Each *_cycle call drives the inputs
 * while the clock is low, evaluates, samples the outputs (so combinational outputs show the
 * current state), then applies one rising edge. The tests in tests/rtl/ hold all the logic;
 * these wrappers only move bits. Built by `make test` (docs/rtl.md). */
#ifndef MT_RTL_TB_H
#define MT_RTL_TB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- rtl/mt_xoshiro128pp.sv. States are s[0..3] = s0..s3 as in mt_xoshiro_t. */
typedef struct tb_xoshiro tb_xoshiro_t;
tb_xoshiro_t *tb_xoshiro_open(void);            /* applies 2 reset cycles */
void tb_xoshiro_close(tb_xoshiro_t *t);
void tb_xoshiro_reset(tb_xoshiro_t *t);         /* rst_i for one cycle */
/* One cycle with load_i, state_i (ignored when NULL), step_i; returns out_o before the edge. */
uint32_t tb_xoshiro_cycle(tb_xoshiro_t *t, int load, const uint32_t state[4], int step);
void tb_xoshiro_state(tb_xoshiro_t *t, uint32_t state[4]);   /* state_o now */

/* ---- Seeding timing (docs/rtl.md, "mt_splitmix64" and "mt_lanes_seed"), shared by the
 * tests of every module that seeds lanes. rtl/mt_splitmix64.sv: a request accepted at the
 * edge ending cycle c gives valid_o in cycle c + MT_SM_LATENCY; back to back, one request is
 * accepted every MT_SM_CYCLES cycles (2 multiplies of 10 partial products, one per cycle, and
 * 3 cycles between them). rtl/mt_lanes_seed.sv with seed_valid_i in cycle 0 (or the last
 * reset cycle): the requests are accepted at the edges ending cycles 1 + MT_SM_CYCLES*n, lane
 * l's load_o pulse is in cycle MT_SEED_LOAD_AT(l) (the valid_o of output 2l+1), and busy_o is
 * high in cycles 1 .. MT_SEED_BUSY(lanes). */
#define MT_SM_CYCLES 23u
#define MT_SM_LATENCY 27u
#define MT_SEED_LOAD_AT(l) (2u * MT_SM_CYCLES * (l) + MT_SM_CYCLES + MT_SM_LATENCY + 1u)
#define MT_SEED_BUSY(lanes) MT_SEED_LOAD_AT((lanes) - 1u)

/* ---- rtl/mt_splitmix64.sv. */
typedef struct tb_sm tb_sm_t;
tb_sm_t *tb_sm_open(void);                      /* applies 2 reset cycles (x = 0) */
void tb_sm_close(tb_sm_t *t);
void tb_sm_reset(tb_sm_t *t);                   /* rst_i for one cycle, other inputs 0 */
/* One cycle with load_i/seed_i and next_i. Before the edge, stores ready_o in *ready and z_o
 * in *z, and returns valid_o. */
int tb_sm_cycle(tb_sm_t *t, int load, uint64_t seed, int next, int *ready, uint64_t *z);

/* ---- rtl/mt_lanes_seed.sv (LANES = 16). */
typedef struct tb_seed tb_seed_t;
tb_seed_t *tb_seed_open(void);                  /* applies 2 reset cycles (the last one is
                                                   cycle 0 of the power-on seeding) */
void tb_seed_close(tb_seed_t *t);
void tb_seed_reset(tb_seed_t *t);               /* rst_i for one cycle, other inputs 0 */
/* One cycle with seed_valid_i/seed_i and stop_i. Before the edge, stores busy_o in *busy and
 * state_o in state[0..3] (s0..s3), and returns load_o (bit l = lane l). */
uint32_t tb_seed_cycle(tb_seed_t *t, int seed_valid, uint64_t seed, int stop, int *busy,
                       uint32_t state[4]);

/* ---- rtl/mt_noise_lanes.sv. */
typedef struct tb_lanes tb_lanes_t;
tb_lanes_t *tb_lanes_open(void);                /* applies 2 reset cycles (the last one at
                                                   edge 0 of the power-on seeding) */
void tb_lanes_close(tb_lanes_t *t);
unsigned tb_lanes_count(const tb_lanes_t *t);  /* LANES of the model */
void tb_lanes_reset(tb_lanes_t *t);             /* rst_i for one cycle */
/* One cycle: seed_valid_i/seed_i, step_i = step_mask (bit l = lane l). Before the edge,
 * stores out_o of every lane in out[] (when not NULL) and returns ready_o. */
int tb_lanes_cycle(tb_lanes_t *t, int seed_valid, uint64_t seed, uint32_t step_mask,
                   uint32_t *out);
void tb_lanes_state(tb_lanes_t *t, unsigned lane, uint32_t state[4]);   /* state_o now */

/* ---- rtl/mt_gauss_icdf.sv. */
typedef struct tb_gauss tb_gauss_t;
tb_gauss_t *tb_gauss_open(void);                /* applies 2 reset cycles */
void tb_gauss_close(tb_gauss_t *t);
/* One cycle with valid_i/u_i; returns valid_o after the edge and stores z_o in *z. */
int tb_gauss_cycle(tb_gauss_t *t, int valid, uint32_t u, int16_t *z);

/* ---- sim/mt_noise_gauss.sv: mt_noise_lanes feeding mt_gauss_icdf from one lane. */
typedef struct tb_ng tb_ng_t;
tb_ng_t *tb_ng_open(void);                      /* applies 2 reset cycles */
void tb_ng_close(tb_ng_t *t);
/* One cycle: seed_valid_i/seed_i, lane_i, draw_i. Before the edge, *ready = ready_o; after
 * it, returns z_valid_o and stores z_o in *z. */
int tb_ng_cycle(tb_ng_t *t, int seed_valid, uint64_t seed, unsigned lane, int draw,
                int *ready, int16_t *z);

/* ---- rtl/mt_draw_lanes.sv. Per lane l: u[2l] is the next uniform and u[2l+1] the one after
 * (u_o), z[2l], z[2l+1] their Gaussians (z_o), state[4l .. 4l+3] = s0..s3 of the committed
 * state (state_o). */
typedef struct tb_draw tb_draw_t;
tb_draw_t *tb_draw_open(void);                  /* applies 2 reset cycles (the last one is
                                                   cycle 0 of the power-on seeding) */
void tb_draw_close(tb_draw_t *t);
unsigned tb_draw_count(const tb_draw_t *t);    /* LANES of the model */
void tb_draw_reset(tb_draw_t *t);               /* rst_i for one cycle, other inputs 0 */
/* The outputs now (none depends on this cycle's inputs): stores u_o, z_o, state_o (each
 * when not NULL) and returns avail_o. */
uint32_t tb_draw_peek(tb_draw_t *t, uint32_t *u, int16_t *z, uint32_t *state);
/* One cycle: seed_i/seed_val_i, load_i = (load_state != NULL) with load_state_i =
 * load_state[0 .. 4*LANES-1] (lane l's s0..s3 at 4l..4l+3), take_i = take (lane l's count
 * at bits 2l+1:2l). Returns avail_o before the edge; the inputs are 0 again after it. */
uint32_t tb_draw_cycle(tb_draw_t *t, int seed, uint64_t seed_val, const uint32_t *load_state,
                       uint32_t take);

/* ---- rtl/mt_isqrt64.sv. */
typedef struct tb_isqrt tb_isqrt_t;
tb_isqrt_t *tb_isqrt_open(void);                /* applies 2 reset cycles */
void tb_isqrt_close(tb_isqrt_t *t);
/* One cycle with start_i/v_i. Before the edge, stores root_o in *root and returns valid_o. */
int tb_isqrt_cycle(tb_isqrt_t *t, int start, uint64_t v, uint32_t *root);

/* ---- rtl/mt_umul25x25.sv (OW 50). One cycle with a_i, b_i, c_i; returns p_o before the edge
 * (the result of the operands of two edges earlier). */
typedef struct tb_umul tb_umul_t;
tb_umul_t *tb_umul_open(void);
void tb_umul_close(tb_umul_t *t);
uint64_t tb_umul_cycle(tb_umul_t *t, uint32_t a, uint32_t b, uint64_t c);

/* ---- rtl/mt_regfile.sv at the device's CFG_COUNT and CNT_COUNT (Makefile), through its
 * GLOBAL-image ports and the counter increments. */
typedef struct tb_regfile tb_regfile_t;
tb_regfile_t *tb_regfile_open(void);            /* 2 reset cycles, then the power-on clear */
void tb_regfile_close(tb_regfile_t *t);
unsigned tb_regfile_counters(const tb_regfile_t *t);   /* CNT_COUNT of the model */
/* One cycle: g_we_i/g_addr_i/g_wdata_i = we/waddr/wdata, cnt_inc_i = inc[0 .. CNT_COUNT-1]
 * (NULL: none), g_raddr_i = raddr. Before the edge, stores g_rdata_o (the word at the
 * previous cycle's raddr) in *rdata and returns cnt_busy_o. */
int tb_regfile_cycle(tb_regfile_t *t, int we, uint32_t waddr, uint32_t wdata,
                     const uint32_t *inc, uint32_t raddr, uint32_t *rdata);

/* ---- sim/mt_sva_demo.sv: rtl/mt_bus_check (3 engines) and rtl/mt_axis_check (8-bit data)
 * with every input from the test. One cycle with these inputs; returns the number of
 * assertions that failed at its rising edge (failures are counted, not fatal). */
typedef struct tb_sva tb_sva_t;
tb_sva_t *tb_sva_open(void);                    /* applies 2 reset cycles */
void tb_sva_close(tb_sva_t *t);
int tb_sva_cycle(tb_sva_t *t, int rst, unsigned start, unsigned done, unsigned drives, int tvalid,
                 int tready, unsigned tdata, int tlast);

/* ---- rtl/mt_skid.sv (WIDTH 33). One cycle: in_valid/in_data and out_ready applied; before
 * the edge, stores in_ready_o, out_valid_o and out_data_o. */
typedef struct tb_skid tb_skid_t;
tb_skid_t *tb_skid_open(void);                  /* applies 2 reset cycles */
void tb_skid_close(tb_skid_t *t);
void tb_skid_cycle(tb_skid_t *t, int in_valid, uint64_t in_data, int out_ready, int *in_ready,
                   int *out_valid, uint64_t *out_data);

#ifdef __cplusplus
}
#endif

#endif
