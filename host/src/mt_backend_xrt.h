/* xrt:// internals shared with its tests (tests/xrt/): the kernel's argument table, which the
 * backend checks a loaded xclbin against and the tests write their synthetic xclbin from. */
#ifndef MT_BACKEND_XRT_H
#define MT_BACKEND_XRT_H

#include <stddef.h>
#include <stdint.h>

#include "mt_xrt.h"

typedef struct {
  const char *name;
  uint32_t offset; /* AXI-lite register offset (docs/xrt.md, "Register map") */
  uint32_t size;   /* bytes of the register (8 for a buffer address) */
  int global;      /* 1: a buffer (m_axi), 0: a scalar */
  const char *type; /* C type as Vitis HLS records it in the xclbin metadata */
} mt_xrt_arg;

/* mt_top's arguments, MT_XRT_ARG_COUNT entries in prototype order. */
extern const mt_xrt_arg mt_xrt_args[MT_XRT_ARG_COUNT];

/* Default time a launch may take before xrt:// gives up (?timeout_ms=T overrides). */
#define MT_XRT_TIMEOUT_MS 10000u

/* The result of a launch from the run state xrtRunWaitFor returned: MT_OK (COMPLETED),
 * MT_ERR_IO (ERROR, ABORT) or MT_ERR_TIMEOUT (still busy), with a message for the others. */
int mt_xrt_run_status(const char *name, unsigned timeout_ms, int state, char *err, size_t errlen);

/* Words from the start of cmd[0..n) that are whole commands and fit into one launch
 * (MT_XRT_BUF_WORDS); 0 when the first command alone does not fit or its header is cut off
 * (the kernel then reports it). */
uint32_t mt_xrt_whole_commands(const uint32_t *cmd, uint32_t n);

typedef struct mt_backend mt_backend;
/* Sizes of the command and response buffers an open backend allocated (xrtBOSize). */
void mt_xrt_buffer_sizes(mt_backend *be, size_t *cmd_bytes, size_t *rsp_bytes);

#endif
