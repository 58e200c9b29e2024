/* The FT601 over libusb (usb://; docs/usb.md, docs/boards.md): the 245-mode channel's bulk
 * pipes 0x02 (OUT) and 0x82 (IN) of interface 1, with the FT60x session requests on pipe 0x01
 * of interface 0 (research/fpga.md 4.3). */
#ifndef MT_TRANSPORT_USB_H
#define MT_TRANSPORT_USB_H

#include <stddef.h>

#include "mt_transport.h"

/* where: "VID:PID" (hex, e.g. 0403:601f) or "BUS/ADDR" (decimal, as lsusb prints them).
 * MT_ERR_INVAL for a malformed where, MT_ERR_NODEV when no such device is attached, MT_ERR_IO
 * when it cannot be opened or claimed (permissions: see the udev rule in docs/boards.md). */
int mt_transport_usb_open(const char *where, mt_transport **out, char *err, size_t errlen);

#endif
