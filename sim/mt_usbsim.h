/* Plain C interface of the USB-path Verilator harness (sim/mt_usbsim_tb.cpp): the board's
 * core below its clocking (rtl/mt_usb_core.sv: FT601 bridge, async FIFOs, frame engine,
 * mt_device) driven through a pin-level FT601 bus model. Functions that can fail return 0 or
 * -1 (or a byte count >= 0) with a one-line message in err. */
#ifndef MT_USBSIM_H
#define MT_USBSIM_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
typedef struct mt_usbsim mt_usbsim;
/* Builds the model, resets it and runs until the core is idle. trace_fst: FST file or NULL. */
mt_usbsim *mt_usbsim_open(const char *trace_fst, char *err, size_t errlen);
void mt_usbsim_close(mt_usbsim *s);
/* Host -> FPGA: bytes the USB host wrote to the FT601's OUT pipe; the model queues them and
 * presents them on the FIFO bus (RXF_N) as the FPGA reads. Never runs the clock. */
int mt_usbsim_write(mt_usbsim *s, const uint8_t *buf, size_t n, char *err, size_t errlen);
/* FPGA -> host: runs the clocks until the FPGA has written at least one byte through the
 * FT601's TX FIFO that the host has not read yet, or until max_cycles FT601 clock cycles
 * passed; then copies up to cap such bytes to buf. Returns the bytes copied (0: max_cycles
 * passed with nothing), -1 when the bus model saw the RTL break the FT601 245 rules. */
long mt_usbsim_read(mt_usbsim *s, uint8_t *buf, size_t cap, uint64_t max_cycles, char *err,
                    size_t errlen);
/* 1 when the core is idle (busy_o low: the frame engine hunts for MAGIC and sends nothing,
 * the device runs nothing) and the FPGA has read every byte the host wrote, else 0. */
int mt_usbsim_idle(const mt_usbsim *s);
/* Random FT601 back-pressure: each FT601 cycle the model deasserts RXF_N/TXE_N availability
 * with probability pct/100, from a generator seeded with seed (0, 0: none, the default). */
void mt_usbsim_set_stalls(mt_usbsim *s, unsigned pct, uint64_t seed);
/* The core clock's cycles and the FT601 clock's cycles since reset. */
uint64_t mt_usbsim_core_cycles(const mt_usbsim *s);
uint64_t mt_usbsim_ft_cycles(const mt_usbsim *s);
/* The geometry the library was built with (mt_device TILES, ROWS, COLS). */
void mt_usbsim_geometry(const mt_usbsim *s, uint32_t *tiles, uint32_t *rows, uint32_t *cols);
#ifdef __cplusplus
}
#endif
#endif
