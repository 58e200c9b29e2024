/* The simulated USB transport (verilator://?link=usb): bytes to and from the FT601 pin model
 * around the RTL's USB core (sim/mt_usbsim.h). Linked only into programs that link the
 * Verilated USB core (build/rtl/libmtusbsim_ref.a), like verilator:// itself. */
#ifndef MT_TRANSPORT_USBSIM_H
#define MT_TRANSPORT_USBSIM_H

#include <stddef.h>
#include <stdint.h>

#include "mt_transport.h"
#include "mt_usbsim.h"

/* Builds and resets the simulation (trace: FST file or NULL). recv's timeout is simulated:
 * MT_ERR_TIMEOUT once the core has been idle, with every byte written read by the FPGA and
 * nothing sent, for a stretch of FT601 clocks (then nothing more can come), or after
 * timeout_ms of simulated time at 100 MHz (a hang). *sim: the simulation, for its clocks. */
int mt_transport_usbsim_open(const char *trace, mt_transport **out, mt_usbsim **sim, char *err,
                             size_t errlen);

#endif
