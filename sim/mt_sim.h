/* Plain C interface of the whole-device Verilator harness (sim/mt_device_tb.cpp): one
 * simulated rtl/mt_device per handle, driven one transfer (one mt_kernel() call) at a time.
 * The host's verilator:// backend and tests/equiv/ use it; docs/rtl.md, "Simulation and the
 * verilator:// backend", and sim/README.md say how it is built. Every function that can fail
 * returns 0 or -1 with a one-line message in err. */
#ifndef MT_SIM_H
#define MT_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mt_sim mt_sim;

/* Builds the model, applies reset and runs until busy_o falls (power-on clear).
 * trace_fst: FST waveform file to write from reset on, or NULL; when NULL, the environment
 * variable MT_TRACE names one (unset or empty: no trace). Returns NULL on failure. */
mt_sim *mt_sim_open(const char *trace_fst, char *err, size_t errlen);
void mt_sim_close(mt_sim *s);

/* The parameters the library was built with (rtl/mt_device TILES, ROWS, COLS). */
void mt_sim_geometry(const mt_sim *s, uint32_t *tiles, uint32_t *rows, uint32_t *cols);

/* Random stalls on both AXI streams: each cycle the harness withholds s_axis_tvalid with
 * probability in_pct/100 (it never drops a word it has offered) and m_axis_tready with
 * probability out_pct/100, from a generator seeded with seed. 0, 0 (the default) streams at
 * full rate. MT_SIM_STALL="in_pct,out_pct[,seed]" sets the same at open. */
void mt_sim_set_stalls(mt_sim *s, unsigned in_pct, unsigned out_pct, uint64_t seed);

/* Hang guard: a transfer fails once this many cycles pass without a handshake on either
 * stream and without done_o. Default 100000000, or MT_SIM_IDLE_LIMIT at open. */
void mt_sim_set_idle_limit(mt_sim *s, uint64_t cycles);

/* One transfer: cmd[0..n_cmd) with TLAST on the last word, rsp_cap_i = rsp_cap. Collects the
 * response words until done_o into rsp (which must hold rsp_cap words) and sets *n_rsp and
 * *consumed from rsp_words_o and consumed_o, checking them against the words seen.
 * *cycles (may be NULL) receives the cycles the transfer took. n_cmd == 0 is mt_kernel's
 * empty call: no cycle, nothing out. Fails on a hang, a response longer than rsp_cap, a
 * misplaced TLAST or done_o counts that disagree with the stream; the device is then in an
 * unknown state (close it). */
int mt_sim_transact(mt_sim *s, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                    uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, uint64_t *cycles,
                    char *err, size_t errlen);

/* cycles_o: clock cycles since the end of reset. */
uint64_t mt_sim_cycles(const mt_sim *s);

#ifdef __cplusplus
}
#endif

#endif
