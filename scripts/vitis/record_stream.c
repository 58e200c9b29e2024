/* Writes the command stream the HLS test bench replays (scripts/vitis/stream_small.bin): every
 * opcode, the three read-noise modes, closed- and open-loop programming, the metaplasticity
 * unit, state reads, rejected commands, a response that does not fit and a truncated command,
 * in launches of several commands, as xrt:// sends them. Only commands are recorded: the bench
 * computes the model's responses itself, so the file never goes stale when the model changes.
 * Built at the bench's geometry (ROWS x COLS, MT_XRT_TILES tiles). Usage: record_stream FILE */
#include <stdio.h>
#include <string.h>

#include "mt_stream.h"
#include "mt_xrt.h"

#define CAP 8192u

static uint32_t words[CAP];
static uint32_t n_words;
static uint32_t launch_at; /* index of the open launch's n_cmd word */
static uint32_t n_launches;

static void put(uint32_t w) {
  if (n_words < CAP) words[n_words] = w;
  n_words++;
}

static void launch(uint32_t ctrl, uint32_t rsp_cap) {
  put(ctrl);
  put(rsp_cap);
  launch_at = n_words;
  put(0);
  n_launches++;
}

/* Appends one command to the open launch; len may differ from the payload given (truncation). */
static void cmd(uint32_t op, uint32_t len, const uint32_t *p, uint32_t n_p) {
  put(op << 24 | (n_words & 0xFFu) << 16);
  put(len);
  for (uint32_t i = 0; i < n_p; i++) put(p[i]);
  words[launch_at] += MT_HDR_WORDS + n_p;
}

static void cmd_p(uint32_t op, const uint32_t *p, uint32_t n) { cmd(op, n, p, n); }

static uint32_t clampw(uint32_t i, uint32_t v) {
  return v < mt_cfg_min[i] ? mt_cfg_min[i] : v > mt_cfg_max[i] ? mt_cfg_max[i] : v;
}

/* A noisy, varying device, every value inside the protocol's ranges. */
static void config(uint32_t *cfg, uint32_t read_mode) {
  static const uint32_t want[MT_CFG_COUNT] = {
    [MT_CFG_G_MIN] = 2000, [MT_CFG_G_MAX] = 60000, [MT_CFG_STEP_SET] = 900,
    [MT_CFG_STEP_RST] = 1100, [MT_CFG_A_SET] = 2000, [MT_CFG_A_RST] = 3000,
    [MT_CFG_D2D_GMIN] = 300, [MT_CFG_D2D_GMAX] = 900, [MT_CFG_D2D_STEP] = 3000,
    [MT_CFG_D2D_A] = 3000, [MT_CFG_P_STUCK_LOW] = 40000000u, [MT_CFG_P_STUCK_HIGH] = 40000000u,
    [MT_CFG_ENDURANCE] = 0, [MT_CFG_C2C_MUL] = 6000, [MT_CFG_C2C_ADD] = 50,
    [MT_CFG_READ_SIGMA] = 200, [MT_CFG_DAC_BITS] = 8, [MT_CFG_ADC_BITS] = 12,
    [MT_CFG_ADC_MUL] = 3, [MT_CFG_ADC_SHIFT] = 14, [MT_CFG_WV_TOL] = 600,
    [MT_CFG_WV_MAX_ITER] = 20, [MT_CFG_E_SET] = 100, [MT_CFG_E_RST] = 120,
    [MT_CFG_E_VERIFY] = 10, [MT_CFG_E_READ] = 5, [MT_CFG_E_MVM] = 1000, [MT_CFG_E_DAC] = 2,
    [MT_CFG_E_ADC] = 3, [MT_CFG_E_META] = 7, [MT_CFG_T_SET] = 10000, [MT_CFG_T_RST] = 10000,
    [MT_CFG_T_VERIFY] = 2000, [MT_CFG_T_READ] = 1000, [MT_CFG_T_MVM] = 50000,
    [MT_CFG_T_META] = 300, [MT_CFG_META_IN_SHIFT] = 4, [MT_CFG_META_IDX_SHIFT] = 16,
    [MT_CFG_META_PROG_MODE] = 0, [MT_CFG_META_HIDDEN_BITS] = 32, [MT_CFG_META_HIDDEN_FRAC] = 16,
    [MT_CFG_META_UPD_ROUND] = 0, [MT_CFG_META_TABLE_LOG2] = 8, [MT_CFG_META_ENTRY_BITS] = 16,
    [MT_CFG_META_RULE] = 0,
  };
  for (uint32_t i = 0; i < MT_CFG_COUNT; i++) cfg[i] = clampw(i, want[i]);
  cfg[MT_CFG_READ_MODE] = clampw(MT_CFG_READ_MODE, read_mode);
}

/* An MVM of nvec vectors over the whole tile, inputs from a simple generator. */
static void mvm(uint32_t tile, uint32_t nvec, uint32_t seed) {
  uint32_t p[4 + 4 * (MT_ROWS / 2)];
  p[0] = tile, p[1] = nvec, p[2] = MT_ROWS, p[3] = MT_COLS;
  uint32_t x = seed;
  for (uint32_t k = 0; k < nvec * (MT_ROWS / 2); k++) {
    x = x * 1103515245u + 12345u;
    uint32_t a = (x >> 8) % 241u, b = (x >> 20) % 241u;
    /* A third of the inputs zero (sparse rows), the rest in [-120, 120]. */
    int32_t lo = a % 3 == 0 ? 0 : (int32_t)a - 120, hi = b % 3 == 0 ? 0 : (int32_t)b - 120;
    p[4 + k] = (uint16_t)lo | (uint32_t)(uint16_t)hi << 16;
  }
  cmd_p(MT_OP_MVM, p, 4 + nvec * (MT_ROWS / 2));
}

/* An MVM of nvec vectors over rows 0..nrows-1 and columns 0..ncols-1 (odd sizes leave half an
 * input word unused and a lane group partial), inputs in [-amp, amp], beyond the DAC's range
 * when amp is larger. */
static void mvm_part(uint32_t tile, uint32_t nvec, uint32_t nrows, uint32_t ncols, uint32_t amp,
                     uint32_t seed) {
  uint32_t p[4 + 4 * (MT_ROWS / 2)], in_words = (nrows + 1) / 2;
  p[0] = tile, p[1] = nvec, p[2] = nrows, p[3] = ncols;
  uint32_t x = seed;
  for (uint32_t k = 0; k < nvec * in_words; k++) {
    x = x * 1103515245u + 12345u;
    int32_t lo = (int32_t)((x >> 4) % (2 * amp + 1)) - (int32_t)amp;
    int32_t hi = (int32_t)((x >> 15) % (2 * amp + 1)) - (int32_t)amp;
    p[4 + k] = (uint16_t)lo | (uint32_t)(uint16_t)hi << 16;
  }
  cmd_p(MT_OP_MVM, p, 4 + nvec * in_words);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: record_stream FILE\n");
    return 2;
  }
  uint32_t cfg[MT_CFG_COUNT], p[1 + 8 * MT_LEVEL_ENTRY_WORDS + 64];
  const uint32_t big = MT_XRT_BUF_WORDS - MT_XRT_LAUNCH_HDR_WORDS;

  /* 1: power-on reset, then set-up. */
  launch(MT_XRT_CTRL_RESET, big);
  cmd_p(MT_OP_INFO, p, 0);
  p[0] = 1, p[1] = 0xDEADBEEFu, p[2] = 7;
  cmd_p(MT_OP_ECHO, p, 3);
  config(cfg, 0);
  cmd_p(MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  p[0] = 0x1234567u, p[1] = 0x89u;
  cmd_p(MT_OP_SEED, p, 2);
  p[0] = 8;
  for (uint32_t q = 0; q < 8; q++) {
    uint32_t gp = 6000 + q * 7000, gm = 55000 - q * 7000;
    p[1 + q * MT_LEVEL_ENTRY_WORDS] = gp | gm << 16;
    p[2 + q * MT_LEVEL_ENTRY_WORDS] = (q * 6) | (42 - q * 6) << 16;
    p[3 + q * MT_LEVEL_ENTRY_WORDS] = 150;
  }
  cmd_p(MT_OP_SET_LEVELS, p, 1 + 8 * MT_LEVEL_ENTRY_WORDS);
  uint32_t meta[MT_META_TABLE_SIZE / 2];
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE / 2; i++)
    meta[i] = (0xFFFFu - 200u * (2 * i)) | (0xFFFFu - 200u * (2 * i + 1)) << 16;
  cmd_p(MT_OP_META_TABLE, meta, MT_META_TABLE_SIZE / 2);
  for (uint32_t t = 0; t < 2; t++) {
    p[0] = 0xC0FFEEu, p[1] = 0, p[2] = t;
    cmd_p(MT_OP_FABRICATE, p, 3);
  }

  /* 2: programming, closed and open loop, and pulses. */
  launch(0, big);
  p[0] = 0, p[1] = 0;
  for (uint32_t k = 0; k < 40; k++) p[2 + k] = (k % MT_ROWS) << 20 | ((k * 7) % MT_COLS) << 8 | (k % 8);
  cmd_p(MT_OP_PROGRAM, p, 42);
  p[0] = 1, p[1] = MT_PROG_OPEN_LOOP;
  for (uint32_t k = 0; k < 16; k++) p[2 + k] = (k * 3 % MT_ROWS) << 20 | (k % MT_COLS) << 8 | (7 - k % 8);
  cmd_p(MT_OP_PROGRAM, p, 18);
  p[0] = 0;
  for (uint32_t k = 0; k < 8; k++)
    p[1 + k] = (k % MT_ROWS) << 20 | ((k * 5) % MT_COLS) << 8 | (k & 1u) << 7 | ((k % 2 ? 3u : 0x7Du) & 0x7Fu);
  cmd_p(MT_OP_PULSE, p, 9);

  /* 3: MVMs in the three read modes, reads. */
  launch(0, big);
  mvm(0, 3, 1);
  config(cfg, 1);
  cmd_p(MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  mvm(0, 2, 2);
  config(cfg, 2);
  cmd_p(MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
  mvm(1, 2, 3);
  p[0] = 0, p[1] = 1, p[2] = 4, p[3] = 2, p[4] = 5, p[5] = 0;
  cmd_p(MT_OP_READ_CELLS, p, 6);
  p[5] = MT_READ_PROBE;
  cmd_p(MT_OP_READ_CELLS, p, 6);
  cmd_p(MT_OP_READ_LEVELS, p, 5);

  /* 4: metaplasticity unit, counters, state image. */
  launch(0, big);
  p[0] = 0, p[1] = 2, p[2] = 2, p[3] = 3, p[4] = 8;
  for (uint32_t k = 0; k < 16; k++) p[5 + k] = (uint32_t)((int32_t)k * 40000 - 300000);
  cmd_p(MT_OP_META_WRITE, p, 21);
  for (uint32_t k = 0; k < 8; k++) p[5 + k] = (uint32_t)(uint16_t)(k * 900 - 3000) | (uint32_t)(uint16_t)(2000 - k * 700) << 16;
  cmd_p(MT_OP_META_UPDATE, p, 13);
  cmd_p(MT_OP_META_READ, p, 5);
  cmd_p(MT_OP_STATS_GET, p, 0);
  p[0] = MT_SECTION_GLOBAL, p[1] = 0, p[2] = 0, p[3] = 64;
  cmd_p(MT_OP_STATE_READ, p, 4);
  p[0] = MT_SECTION_TILE, p[1] = 1, p[2] = 0, p[3] = 5 * MT_WEIGHT_WORDS;
  cmd_p(MT_OP_STATE_READ, p, 4);
  cmd_p(MT_OP_STATS_RESET, p, 0);

  /* 5: rejected commands; then a truncated one, which ends the launch. */
  launch(0, big);
  cmd_p(0x7Fu, p, 0);
  p[0] = 9, p[1] = 0, p[2] = 0;
  cmd_p(MT_OP_PROGRAM, p, 3);
  p[0] = 0, p[1] = 0, p[2] = MT_ROWS + 1, p[3] = 0, p[4] = 1, p[5] = 0;
  cmd_p(MT_OP_READ_CELLS, p, 6);
  cmd(MT_OP_ECHO, 10, p, 3);

  /* 6: too little room: the first response does not fit, and the launch stops before it. */
  launch(0, 30);
  cmd_p(MT_OP_STATS_GET, p, 0);
  cmd_p(MT_OP_INFO, p, 0);

  /* 7: the state persists between launches (no reset). */
  launch(0, big);
  cmd_p(MT_OP_STATS_GET, p, 0);
  mvm(1, 1, 4);

  /* 8: the MVM's edges in each read mode: odd row and column counts, DAC clipping, a 16-bit
   * DAC (64-bit accumulation), ADC clipping. */
  launch(0, big);
  for (uint32_t mode = 0; mode < 3; mode++) {
    config(cfg, mode);
    cmd_p(MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
    mvm_part(0, 2, MT_ROWS - 3, MT_COLS - 11, 200, 5 + mode);
    cfg[MT_CFG_DAC_BITS] = 16;
    cfg[MT_CFG_ADC_BITS] = 6;
    cmd_p(MT_OP_CONFIGURE, cfg, MT_CFG_COUNT);
    mvm_part(1, 1, 1, 1, 30000, 8 + mode);
    mvm_part(1, 2, MT_ROWS, MT_COLS - 1, 32767, 11 + mode);
  }
  cmd_p(MT_OP_STATS_GET, p, 0);

  if (n_words > CAP) {
    fprintf(stderr, "record_stream: %u words, room for %u\n", n_words, CAP);
    return 1;
  }
  uint32_t hdr[MT_STREAM_HDR_WORDS] = {MT_STREAM_MAGIC, MT_STREAM_VERSION, MT_ROWS << 16 | MT_COLS,
                                       MT_XRT_TILES, n_launches};
  FILE *f = fopen(argv[1], "wb");
  if (!f || fwrite(hdr, 4, MT_STREAM_HDR_WORDS, f) != MT_STREAM_HDR_WORDS ||
      fwrite(words, 4, n_words, f) != n_words || fclose(f) != 0) {
    fprintf(stderr, "record_stream: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
