/* libmemtile: the host side of an emulated memristor crossbar device.
 *
 * A device is opened by URI and driven through the command protocol of
 * docs/protocol.md; every backend receives the same command words. Every call
 * returns MT_OK (0) or a negative MT_ERR_* code; mt_dev_errmsg() then says what
 * went wrong in words, naming the command, field or value. */
#ifndef MEMTILE_H
#define MEMTILE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MT_OK = 0,
  MT_ERR_INVAL = -1,       /* bad argument from the caller */
  MT_ERR_NOMEM = -2,
  MT_ERR_NODEV = -3,       /* no such device or backend not available */
  MT_ERR_IO = -4,          /* transport or file I/O failed */
  MT_ERR_TIMEOUT = -5,
  MT_ERR_DEVICE = -6,      /* the device rejected a command (see message) */
  MT_ERR_PROTOCOL = -7,    /* malformed or unexpected response */
  MT_ERR_FILE = -8,        /* a file's content is invalid */
};

/* Static description of a code, e.g. "device rejected the command". */
const char *mt_strerror(int code);
/* The code's name, e.g. "MT_ERR_DEVICE" ("MT_ERR_UNKNOWN" for any other value). */
const char *mt_err_name(int code);
/* The exit status of the memtile tools for a code (README.md, "Exit status"): 0 for MT_OK,
 * 2 for MT_ERR_INVAL (a usage error), 1 - code for the other MT_ERR_* (3 NOMEM, 4 NODEV, 5 IO,
 * 6 TIMEOUT, 7 DEVICE, 8 PROTOCOL, 9 FILE), 1 for any other value. */
int mt_err_exit_status(int code);

typedef struct mt_dev mt_dev;

/* The protocol this library speaks, major << 16 | minor (docs/protocol.md). */
uint32_t mt_protocol_version(void);
/* 1 if this program can open URIs of the scheme ("model", "verilator", "xrt", "usb"): some
 * backends exist only in programs linked with them (verilator://, xrt://); 0 otherwise. */
int mt_backend_available(const char *scheme);

typedef struct {
  uint32_t version; /* protocol major << 16 | minor */
  uint32_t rows, cols, tiles, lanes;
  uint32_t max_levels, max_payload, max_batch;
  uint32_t features;
} mt_dev_info;

typedef struct {
  uint32_t row0, nrows, col0, ncols;
} mt_region;

typedef struct {
  uint32_t programmed;  /* weights programmed */
  uint32_t skipped;     /* requests whose level was already stored */
  uint32_t wv_failures; /* devices whose write-verify did not converge */
} mt_prog_result;

/* Opens a device: "model://" (golden model in-process; "model://?tiles=N"
 * sets the tile count, default 32), "verilator://" (the RTL in Verilator, 16 tiles;
 * "verilator://?trace=FILE.fst" writes a waveform), "xrt://N", "usb://VID:PID".
 * *out is set whenever a handle could be allocated, also on failure, so that
 * mt_dev_errmsg() can explain it; close it with mt_dev_close() in both cases. */
int mt_dev_open(const char *uri, mt_dev **out);
void mt_dev_close(mt_dev *dev);

/* Message of the last failed call on this handle ("" if none). */
const char *mt_dev_errmsg(const mt_dev *dev);
/* The MT_ERR_* code of that failure (what the call returned; MT_OK if none failed), so that a
 * caller who keeps the message keeps its class too: MT_ERR_DEVICE for a rejected command,
 * MT_ERR_IO or MT_ERR_TIMEOUT for the link, ... MT_ERR_NOMEM for a NULL handle (the open
 * could not allocate one). */
int mt_dev_errcode(const mt_dev *dev);

/* Commands sent to the device since open (each a USB transfer or a kernel launch on
 * usb:// and xrt://): what batching saves. Tile swapping's are not counted (mt_dev_swap_stats). */
uint64_t mt_dev_transactions(const mt_dev *dev);
const mt_dev_info *mt_dev_get_info(const mt_dev *dev);
const char *mt_dev_uri(const mt_dev *dev);
/* Clock cycles the simulated RTL has run since open (verilator://), less those of tile
 * swapping; MT_ERR_NODEV for a backend without a simulated clock. */
int mt_dev_cycles(mt_dev *dev, uint64_t *cycles);

/* Link statistics of a framed link (usb://, verilator://?link=usb; docs/usb.md). */
typedef struct {
  uint64_t frames;      /* CMD and SYNC frames sent, re-sent ones included */
  uint64_t retransmits; /* frames sent again (same seq) after a timeout or a CRC error */
  uint64_t crc_errors;  /* received frames dropped for a bad CRC */
  uint64_t duplicates;  /* valid frames ignored: answers to an older or repeated frame */
  uint64_t timeouts;    /* waits for an answer that ended without one */
  uint64_t commands;    /* commands the device reported as run */
  uint64_t commands_issued; /* commands mt_dev sent (equal to commands once all ran once) */
  uint64_t bytes_out, bytes_in;
  uint32_t max_command_words;  /* largest command a frame carries (the device's CMD buffer) */
  uint32_t max_response_words; /* largest response a frame carries (its RSP capacity - 1) */
} mt_link_stats;
/* Sends any queued commands first. MT_ERR_NODEV for a backend without a framed link
 * (model://, verilator:// direct). */
int mt_dev_link_stats(mt_dev *dev, mt_link_stats *st);

/* Tile swapping (docs/tile-swapping.md): the handle offers `tiles` tiles (at most 64) while
 * using at most max_tiles of the device's; beyond those, every command naming a tile first
 * brings it onto the device through the state transfer (STATE_READ of the least recently used
 * tile's state into host memory, STATE_WRITE of the wanted one's), and FABRICATE draws a tile
 * exactly as a device with `tiles` tiles would. Results are those of such a device, bit for
 * bit; only time and link traffic grow. Call before any command naming a tile; info.tiles
 * then reads `tiles`. Nothing changes where the device's first max_tiles tiles hold all
 * `tiles`. MT_ERR_NODEV for a device without STATE_READ/STATE_WRITE. Snapshots of a swapping
 * handle are those of a device with `tiles` tiles. */
int mt_dev_set_max_tiles(mt_dev *dev, uint32_t max_tiles, uint32_t tiles);
/* What swapping cost since open: emulator overhead, kept out of the device's counters, of
 * mt_dev_transactions and of mt_dev_cycles. */
typedef struct {
  uint64_t swaps;        /* tiles loaded onto the device (STATE_WRITE of a saved state) */
  uint64_t saves;        /* evicted tiles whose changed state was read back (STATE_READ) */
  uint64_t transactions; /* commands of both */
  uint64_t bytes;        /* state bytes moved by both */
  uint64_t cycles;       /* simulated clock cycles they took (verilator://) */
  double seconds;        /* wall time they took */
} mt_swap_stats;
/* MT_ERR_NODEV (and zeros) for a handle that does not swap. */
int mt_dev_swap_stats(const mt_dev *dev, mt_swap_stats *st);

/* Configuration: cfg has info.config_words fields in CONFIGURE order;
 * table has levels * 3 words (SET_LEVELS entries); meta has 256 Q0.16 values. */
int mt_dev_configure(mt_dev *dev, const uint32_t *cfg);
int mt_dev_set_levels(mt_dev *dev, uint32_t levels, const uint32_t *table);
int mt_dev_set_meta_table(mt_dev *dev, const uint16_t *meta);
int mt_dev_seed(mt_dev *dev, uint64_t seed);
int mt_dev_fabricate(mt_dev *dev, uint64_t seed, uint32_t tile);

/* Power-law conductance drift (DRIFT, docs/device-model.md "Conductance drift"): ages every
 * device of a tile from t0 to t1 (seconds after programming, 0 < t0 <= t1, t1/t0 <= 2^64),
 * g -> g (t1/t0)^-nu_d with the configuration's drift_nu and drift_nu_sd. Each device's
 * exponent nu_d follows from seed: pass the same seed for every drift of one programming of
 * the tile (so the drifts compose), a new one after reprogramming it. MT_ERR_INVAL for bad
 * times. mt_dev_drift_log2 is the command's log2_ratio, round(log2(t1/t0) * 65536). */
int mt_dev_drift(mt_dev *dev, uint32_t tile, uint64_t seed, double t0, double t1);
int mt_dev_drift_log2(double t0, double t1, uint32_t *log2_ratio);

/* mt_dev_program flags (docs/protocol.md, PROGRAM): program open loop (nominal pulse counts,
 * no verify reads) instead of write-verify; program even where the stored level matches. */
enum { MT_PROGRAM_OPEN_LOOP = 1, MT_PROGRAM_FORCE = 2 };

/* Weight access. Entries are row << 20 | col << 8 | level (PROGRAM) and
 * row << 20 | col << 8 | dev << 7 | n (PULSE); any count (split as needed). */
int mt_dev_program(mt_dev *dev, uint32_t tile, uint32_t flags, const uint32_t *entries, size_t n,
                   mt_prog_result *res);
int mt_dev_pulse(mt_dev *dev, uint32_t tile, const uint32_t *entries, size_t n);
int mt_dev_read_cells(mt_dev *dev, uint32_t tile, mt_region r, int probe, uint16_t *g_plus,
                      uint16_t *g_minus);
/* Scatter read (READ_LIST): the conductances of n cells, each row << 20 | col << 8, into
 * g_plus[k] / g_minus[k] in list order (either may be NULL); any n (split into as many
 * commands as the payload limit needs). probe as for mt_dev_read_cells. */
int mt_dev_read_list(mt_dev *dev, uint32_t tile, int probe, const uint32_t *cells, size_t n,
                     uint16_t *g_plus, uint16_t *g_minus);
int mt_dev_read_levels(mt_dev *dev, uint32_t tile, mt_region r, uint16_t *levels);

/* nvec input vectors of nrows DAC codes -> nvec outputs of ncols ADC codes,
 * both row-major; any nvec (split into MAX_BATCH commands). */
int mt_dev_mvm(mt_dev *dev, uint32_t tile, uint32_t nvec, uint32_t nrows, uint32_t ncols,
               const int16_t *x, int16_t *y);

/* Metaplasticity unit: hidden weights of a region, row-major. Region commands larger than the
 * device's or link's command/response size go in bands of whole rows, with the results of one
 * command (docs/usb.md, "The link"). */
int mt_dev_meta_write(mt_dev *dev, uint32_t tile, mt_region r, const int32_t *h,
                      mt_prog_result *res);
int mt_dev_meta_update(mt_dev *dev, uint32_t tile, mt_region r, const int16_t *d,
                       mt_prog_result *res);
int mt_dev_meta_read(mt_dev *dev, uint32_t tile, mt_region r, int32_t *h);

/* Counters in the order of docs/protocol.md (info... counters entries). */
int mt_dev_stats(mt_dev *dev, uint64_t *counters, size_t n);
int mt_dev_stats_reset(mt_dev *dev);

/* Whole device state to a file (written atomically: temporary file, fsync,
 * rename) and back; loading checks the file against the device and its own
 * length and checksum before anything is sent. */
int mt_dev_snapshot_save(mt_dev *dev, const char *path);
int mt_dev_snapshot_load(mt_dev *dev, const char *path);
/* The same image in memory (*out is malloc'd), for containers such as
 * training checkpoints; origin names the source in error messages. */
int mt_dev_snapshot_bytes(mt_dev *dev, unsigned char **out, size_t *n);
int mt_dev_restore_bytes(mt_dev *dev, const unsigned char *bytes, size_t n, const char *origin);

/* One raw command: payload in, response payload out (for tools and tests).
 * Returns MT_ERR_DEVICE with the decoded message if the status is not OK, and
 * MT_ERR_INVAL for an opcode above 255 (the header's field has 8 bits). */
int mt_dev_command(mt_dev *dev, uint32_t opcode, const uint32_t *payload, uint32_t len,
                   uint32_t *rsp, uint32_t rsp_cap, uint32_t *rsp_len);

#ifdef __cplusplus
}
#endif
#endif
