/* The kernel, structure-aware: the input is read as a list of well-formed
 * commands of every opcode, built from the device's current state (its tile
 * count, level count, regions that fit), each perhaps with one field mutated
 * (a word replaced, the length off by one). Oracle (docs/protocol.md, rule 4):
 * a command that is rejected leaves the device state byte-identical; every
 * response is framed, and an error carries exactly two detail words. */
#include "fuzz_util.h"

#define MAX_PAYLOAD 2048u

static fz_dev dev, before;
static uint32_t p[MAX_PAYLOAD + 8], cmd[MAX_PAYLOAD + 16], rsp[MAX_PAYLOAD + 64];

static uint32_t entry(fz_in *in, uint32_t levels) {
  uint32_t row = fz_below(in, MT_ROWS), col = fz_below(in, MT_COLS);
  return row << 20 | col << 8 | fz_below(in, levels ? levels : 1);
}

/* One region row0, nrows, col0, ncols that fits the tile. */
static void region(fz_in *in, uint32_t *r) {
  r[1] = fz_below(in, MT_ROWS);
  r[2] = 1 + fz_below(in, MT_ROWS - r[1]);
  r[3] = fz_below(in, MT_COLS);
  r[4] = 1 + fz_below(in, MT_COLS - r[3]);
  /* keep payloads small: at most 64 weights */
  if (r[2] * r[4] > 64) r[2] = 1, r[4] = r[4] > 64 ? 64 : r[4];
}

/* Builds a well-formed payload of opcode op into p; returns its length. */
static uint32_t build(fz_in *in, uint32_t op) {
  const mt_regs_t *g = &dev.regs;
  uint32_t tile = fz_below(in, FZ_TILES), n = 0, L = g->levels;
  switch (op) {
    case MT_OP_NOP: case MT_OP_INFO: case MT_OP_STATS_GET: case MT_OP_STATS_RESET:
      return 0;
    case MT_OP_ECHO:
      n = fz_below(in, 16);
      for (uint32_t k = 0; k < n; k++) p[k] = fz_u32(in);
      return n;
    case MT_OP_CONFIGURE:
      fz_config(p);
      for (uint32_t k = fz_below(in, 4); k; k--) { /* a few fields anywhere in range */
        uint32_t f = fz_below(in, MT_CFG_COUNT);
        p[f] = mt_cfg_min[f] + fz_below(in, mt_cfg_max[f] - mt_cfg_min[f] + 1);
      }
      if (fz_u8(in) < 64) p[MT_CFG_DRIFT_NU] = fz_below(in, 65536), p[MT_CFG_DRIFT_NU_SD] = fz_below(in, 65536);
      return MT_CFG_COUNT;
    case MT_OP_SEED:
      p[0] = fz_u32(in), p[1] = fz_u32(in);
      return 2;
    case MT_OP_SET_LEVELS:
      L = MT_MIN_LEVELS + fz_below(in, 15);
      p[0] = L;
      for (uint32_t q = 0; q < L; q++) {
        p[1 + 3 * q] = fz_u32(in);
        p[2 + 3 * q] = fz_below(in, MT_MAX_PULSE_INDEX + 1) | fz_below(in, MT_MAX_PULSE_INDEX + 1) << 16;
        p[3 + 3 * q] = fz_below(in, 2000);
      }
      return 1 + 3 * L;
    case MT_OP_META_TABLE:
      for (uint32_t k = 0; k < MT_META_TABLE_SIZE / 2; k++) p[k] = k < 8 ? fz_u32(in) : 0xFFFFFFFFu;
      return MT_META_TABLE_SIZE / 2;
    case MT_OP_FABRICATE:
      p[0] = fz_u32(in), p[1] = 0, p[2] = tile;
      return 3;
    case MT_OP_DRIFT: /* log2_ratio mostly in range, sometimes just beyond it */
      p[0] = fz_u32(in), p[1] = fz_u32(in), p[2] = tile;
      p[3] = fz_below(in, MT_DRIFT_MAX_LOG2 + 2);
      return 4;
    case MT_OP_PROGRAM:
      p[0] = tile, p[1] = fz_below(in, 4);
      n = fz_below(in, 12);
      for (uint32_t k = 0; k < n; k++) p[2 + k] = entry(in, L);
      return 2 + n;
    case MT_OP_PULSE:
      p[0] = tile;
      n = fz_below(in, 12);
      for (uint32_t k = 0; k < n; k++) p[1 + k] = (entry(in, 1) & ~0xFFu) | fz_u8(in);
      return 1 + n;
    case MT_OP_READ_CELLS: case MT_OP_READ_LEVELS: case MT_OP_META_READ:
      p[0] = tile;
      region(in, p);
      p[5] = fz_below(in, 2);
      return op == MT_OP_READ_CELLS ? 6 : 5;
    case MT_OP_MVM: {
      uint32_t nvec = 1 + fz_below(in, 3), rows = 1 + fz_below(in, MT_ROWS), cols = 1 + fz_below(in, MT_COLS);
      uint32_t w = (rows + 1) / 2;
      p[0] = tile, p[1] = nvec, p[2] = rows, p[3] = cols;
      for (uint32_t k = 0; k < nvec * w; k++) p[4 + k] = fz_u32(in);
      return 4 + nvec * w;
    }
    case MT_OP_META_WRITE: case MT_OP_META_UPDATE: {
      p[0] = tile;
      region(in, p);
      uint32_t cells = p[2] * p[4];
      n = op == MT_OP_META_WRITE ? cells : (cells + 1) / 2;
      for (uint32_t k = 0; k < n; k++)
        p[5 + k] = op == MT_OP_META_WRITE ? (fz_u32(in) & 0x7FFFFFFFu) - 0x3FFFFFFFu : fz_u32(in);
      return 5 + n;
    }
    case MT_OP_STATE_READ: {
      uint32_t sec = fz_below(in, 2), size = sec ? MT_TILE_WORDS : MT_GLOBAL_WORDS;
      p[0] = sec, p[1] = sec ? tile : 0, p[2] = fz_below(in, size);
      p[3] = 1 + fz_below(in, size - p[2] < 256 ? size - p[2] : 256);
      return 4;
    }
    case MT_OP_STATE_WRITE: {
      /* a chunk read back from the device, perhaps changed below by the mutation */
      uint32_t sec = fz_below(in, 2);
      if (sec == MT_SECTION_GLOBAL) {
        p[0] = sec, p[1] = 0, p[2] = 0;
        mt_state_global_read(g, 0, MT_GLOBAL_WORDS, p + 3);
        return 3 + MT_GLOBAL_WORDS;
      }
      uint32_t rec = fz_below(in, MT_ROWS * MT_COLS - 4), cnt = 1 + fz_below(in, 4);
      p[0] = sec, p[1] = tile, p[2] = rec * MT_WEIGHT_WORDS;
      mt_state_tile_read(&dev.tiles[tile], p[2], cnt * MT_WEIGHT_WORDS, p + 3);
      return 3 + cnt * MT_WEIGHT_WORDS;
    }
    default: /* an unknown opcode with some payload */
      n = fz_below(in, 4);
      for (uint32_t k = 0; k < n; k++) p[k] = fz_u32(in);
      return n;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = {data, size};
  uint32_t start = fz_u8(&in);
  fz_setup(&dev, start % 3 != 0, 2 + (start >> 3) % 30);
  for (uint32_t k = 0; k < 24 && in.n > 0; k++) {
    uint32_t sel = fz_u8(&in) % (MT_OP_COUNT + 1);
    uint32_t op = sel < MT_OP_COUNT ? sel : MT_OP_COUNT + fz_below(&in, 256 - MT_OP_COUNT);
    uint32_t len = build(&in, op);
    uint32_t mut = fz_u8(&in);
    if (mut >= 160 && len > 0) {
      uint32_t at = fz_below(&in, len);
      p[at] = mut >= 224 ? fz_u32(&in) : p[at] ^ (1u << fz_below(&in, 32));
    } else if (mut >= 140) {
      len = mut & 1 ? len + 1 : (len ? len - 1 : 0);
      p[len ? len - 1 : 0] = fz_u32(&in);
    }
    uint32_t cap = mut % 7 == 0 ? 2 + fz_below(&in, 8) : MAX_PAYLOAD + 64;
    cmd[0] = op << 24 | (k & 0xFFu) << 16;
    cmd[1] = len;
    memcpy(cmd + 2, p, len * sizeof *p);
    before = dev;
    uint32_t consumed = 0;
    uint32_t w = mt_kernel(cmd, 2 + len, rsp, cap, &dev.regs, dev.tiles, FZ_TILES, &consumed);
    if (w == 0) {
      if (memcmp(&before, &dev, sizeof dev) != 0) abort(); /* not looked at, yet changed */
      continue;
    }
    uint32_t status = rsp[0] & 0xFFu;
    if (w < MT_HDR_WORDS || rsp[1] != w - MT_HDR_WORDS || status >= MT_ST_COUNT) abort();
    if (rsp[0] >> 24 != op || ((rsp[0] >> 16) & 0xFFu) != (k & 0xFFu)) abort();
    if (status != MT_ST_OK && (rsp[1] != 2 || memcmp(&before, &dev, sizeof dev) != 0))
      abort(); /* rejected, yet the device changed (or the details are missing) */
  }
  return 0;
}
