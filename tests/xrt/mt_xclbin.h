/* A synthetic xclbin for XRT's noop shim (research/fpga.md 1.5): the sections XRT 2.13 reads
 * to register a kernel (MEM_TOPOLOGY, IP_LAYOUT, CONNECTIVITY, EMBEDDED_METADATA), written
 * from an argument table such as the xrt:// backend's (mt_backend_xrt.h). */
#ifndef MT_XCLBIN_H
#define MT_XCLBIN_H

#include <stdint.h>

#include "mt_backend_xrt.h"

typedef struct {
  const char *kernel;      /* kernel name (IP "kernel:kernel_1") */
  const mt_xrt_arg *args;  /* argument table */
  uint32_t n_args;
  uint8_t uuid[16];
} mt_xclbin_spec;

/* Writes the xclbin to path; returns 0, or -1 with errno set. */
int mt_xclbin_write(const char *path, const mt_xclbin_spec *spec);

#endif
