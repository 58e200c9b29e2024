// Parameter list shared by mt_device and every engine (docs/rtl.md, "Engines").
// Included inside a module's #( ... ) list, so that all engines take the same sizes. The
// protocol's counts (CFG_COUNT, CNT_COUNT) come last, generated from docs/protocol.json.
  parameter int unsigned TILES = 16,
  parameter int unsigned ROWS = 128,
  parameter int unsigned COLS = 128,
  parameter int unsigned LANES = 16,
  parameter int unsigned CMD_WORDS = 65536,
  parameter int unsigned GROUPS = COLS / LANES,
  parameter int unsigned MEM_AW = $clog2(TILES * ROWS * GROUPS),
  parameter int unsigned PL_AW = $clog2(CMD_WORDS),
`include "mt_eng_counts.vh"
