"""memtile from Python: emulated memristor crossbar tiles through libmemtile (ctypes).

    import memtile, numpy as np
    with memtile.Device("model://?tiles=2") as dev:
        preset = memtile.Preset("rram")
        dev.apply_preset(preset)
        dev.fabricate(seed=1, tile=0)
        layer = memtile.Layer(dev, preset, n_in=784, n_out=100, w_max=0.2)
        layer.program(w)                 # float weights -> levels, write-verify
        y = layer.matmul(x)              # x @ W on the device
        print(dev.stats()["set_pulses"])

Every failed call raises MemtileError carrying the library's message (docs/python.md).
"""
import ctypes
import os

import numpy as np

from . import _lib
from ._lib import LibraryNotFound

__all__ = ["Device", "Preset", "Layer", "MemtileError", "LibraryNotFound", "library_path",
           "config_names", "counter_names", "backends", "PROG_OPEN_LOOP", "PROG_FORCE",
           "Trainer", "train", "algorithms", "read_log"]
__version__ = "0.1.0"

# PROGRAM flags (docs/protocol.md).
PROG_OPEN_LOOP = 1 << 0
PROG_FORCE = 1 << 1

_L = None


def _lib_handle():
    global _L
    if _L is None:
        _L = _lib.load()
    return _L


def library_path():
    """The libmemtile file in use."""
    return _lib_handle().path


class MemtileError(Exception):
    """A libmemtile call failed: code is the MT_ERR_* value (name its name, e.g. "MT_ERR_DEVICE"),
    message the library's words (naming the file, option, field or command and value)."""

    def __init__(self, code, message):
        self.code = code
        self.message = message
        L = _lib_handle()
        self.name = L.mt_err_name(code).decode()
        kind = L.mt_strerror(code).decode()
        super().__init__("%s (%s, %s)" % (message or kind, kind, self.name))


def _text(b):
    return b.decode("utf-8", "replace") if b is not None else ""


def backends():
    """The device schemes this library can open ("model", "verilator", "usb", "xrt")."""
    L = _lib_handle()
    return [s for s in ("model", "verilator", "xrt", "usb") if L.mt_backend_available(s.encode())]


def config_names():
    L = _lib_handle()
    return [_text(L.mt_config_name(k)) for k in range(L.mt_config_count())]


def counter_names():
    L = _lib_handle()
    return [_text(L.mt_counter_name(k)) for k in range(L.mt_counter_count())]


def _ptr(a, ctype):
    return a.ctypes.data_as(ctypes.POINTER(ctype))


def _array(a, dtype, name, shape=None):
    """a as a C-contiguous array of dtype, checked against shape (None entries: any)."""
    arr = np.ascontiguousarray(a, dtype=dtype)
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, arr.shape)):
            raise ValueError("%s: shape %s, expected %s" % (name, arr.shape, tuple(
                "any" if s is None else s for s in shape)))
    return arr


class Preset:
    """A device preset (presets/*.json, docs/presets.md) by name or path."""

    def __init__(self, name_or_path="rram", levels=None):
        L = _lib_handle()
        h = ctypes.c_void_p()
        rc = L.mt_preset_open(os.fsencode(name_or_path), ctypes.byref(h))
        self._h = h
        if rc != 0:
            msg = _text(L.mt_preset_errmsg(h))
            L.mt_preset_close(h)
            self._h = None
            raise MemtileError(rc, msg)
        if levels is not None:
            self.use_levels(levels)

    def __del__(self):
        # _L, not _lib_handle(): at interpreter exit nothing may be loaded any more.
        if getattr(self, "_h", None) and _L is not None:
            _L.mt_preset_close(self._h)
            self._h = None

    def _check(self, rc):
        if rc != 0:
            raise MemtileError(rc, _text(_lib_handle().mt_preset_errmsg(self._h)))

    @property
    def name(self):
        return _text(_lib_handle().mt_preset_name(self._h))

    @property
    def description(self):
        return _text(_lib_handle().mt_preset_description(self._h))

    @property
    def path(self):
        return _text(_lib_handle().mt_preset_path(self._h))

    @property
    def levels(self):
        return _lib_handle().mt_preset_levels(self._h)

    def use_levels(self, levels):
        """Re-spaces the level table to `levels` levels (2..256)."""
        self._check(_lib_handle().mt_preset_use_levels(self._h, int(levels)))

    @property
    def config(self):
        """The CONFIGURE fields, name -> value, in payload order."""
        L = _lib_handle()
        n = L.mt_config_count()
        cfg = np.zeros(n, dtype=np.uint32)
        self._check(L.mt_preset_config(self._h, _ptr(cfg, ctypes.c_uint32), n))
        return dict(zip(config_names(), (int(v) for v in cfg)))

    @staticmethod
    def locate(name):
        """The file a preset name stands for; MemtileError naming the places searched."""
        L = _lib_handle()
        buf = ctypes.create_string_buffer(8192)
        rc = L.mt_preset_locate(os.fsencode(name), buf, len(buf))
        if rc != 0:
            raise MemtileError(rc, _text(buf.value))
        return _text(buf.value)

    def __repr__(self):
        return "Preset(%r, levels=%d)" % (self.name, self.levels)


def _region(row0, nrows, col0, ncols):
    return _lib.Region(int(row0), int(nrows), int(col0), int(ncols))


def _prog(res):
    return {"programmed": res.programmed, "skipped": res.skipped, "wv_failures": res.wv_failures}


class Device:
    """One device opened by URI: "model://" (golden model in-process, "model://?tiles=N"),
    "verilator://" where the library was built with it, "xrt://N". Close it with close() or
    use it as a context manager."""

    def __init__(self, uri="model://"):
        L = _lib_handle()
        h = ctypes.c_void_p()
        rc = L.mt_dev_open(uri.encode(), ctypes.byref(h))
        self._h = h
        self._owner = None
        self._next_tile = 0
        if rc != 0:
            msg = _text(L.mt_dev_errmsg(h))
            L.mt_dev_close(h)
            self._h = None
            raise MemtileError(rc, msg)

    @classmethod
    def _borrowed(cls, handle, owner):
        """A view of a device another object owns (a Trainer's): close() only forgets it."""
        d = cls.__new__(cls)
        d._h, d._owner, d._next_tile = ctypes.c_void_p(handle), owner, 0
        return d

    def close(self):
        if getattr(self, "_h", None) and _L is not None and getattr(self, "_owner", None) is None:
            _L.mt_dev_close(self._h)
        self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self):
        if not self._h:
            raise ValueError("device is closed")
        return self._h

    def _check(self, rc):
        if rc != 0:
            raise MemtileError(rc, _text(_lib_handle().mt_dev_errmsg(self._h)))

    @property
    def last_error(self):
        """(code, message) of the last failed call on this device ((0, "") if none failed)."""
        L = _lib_handle()
        return L.mt_dev_errcode(self._handle()), _text(L.mt_dev_errmsg(self._h))

    @property
    def uri(self):
        return _text(_lib_handle().mt_dev_uri(self._handle()))

    @property
    def info(self):
        """INFO: protocol version, tiles, rows, cols, lanes, limits, features."""
        i = _lib_handle().mt_dev_get_info(self._handle()).contents
        d = {n: getattr(i, n) for n, _ in _lib.DevInfo._fields_}
        d["protocol"] = "%d.%d" % (i.version >> 16, i.version & 0xFFFF)
        return d

    def cycles(self):
        """Simulated RTL clock cycles since open (verilator:// only)."""
        c = ctypes.c_uint64()
        self._check(_lib_handle().mt_dev_cycles(self._handle(), ctypes.byref(c)))
        return c.value

    def allocate_tiles(self, n):
        """The first of n tiles not yet handed out by this method (layers sharing a device)."""
        first, tiles = self._next_tile, self.info["tiles"]
        if n > tiles - first:
            raise ValueError("%s: %d more tiles needed, %d of %d left" % (self.uri, n, tiles - first, tiles))
        self._next_tile += n
        return first

    # ---- configuration ---------------------------------------------------------------
    def apply_preset(self, preset):
        self._check(_lib_handle().mt_dev_apply_preset(self._handle(), preset._h))

    def configure(self, cfg):
        """CONFIGURE: a dict of field names (config_names()) or a sequence in payload order."""
        names = config_names()
        if isinstance(cfg, dict):
            unknown = set(cfg) - set(names)
            if unknown:
                raise ValueError("configure: unknown field(s) %s" % ", ".join(sorted(unknown)))
            missing = [n for n in names if n not in cfg]
            if missing:
                raise ValueError("configure: missing field(s) %s" % ", ".join(missing))
            cfg = [cfg[n] for n in names]
        arr = _array(cfg, np.uint32, "cfg", (len(names),))
        self._check(_lib_handle().mt_dev_configure(self._handle(), _ptr(arr, ctypes.c_uint32)))

    def set_levels(self, table):
        """SET_LEVELS: an (L, 3) array of level-table words."""
        arr = _array(table, np.uint32, "table", (None, 3))
        self._check(_lib_handle().mt_dev_set_levels(self._handle(), arr.shape[0], _ptr(arr, ctypes.c_uint32)))

    def seed(self, seed):
        self._check(_lib_handle().mt_dev_seed(self._handle(), int(seed)))

    def fabricate(self, seed, tile=0):
        self._check(_lib_handle().mt_dev_fabricate(self._handle(), int(seed), int(tile)))

    def drift(self, tile, seed, t0, t1):
        """DRIFT: power-law conductance drift of every device of a tile from t0 to t1 seconds
        after programming (0 < t0 <= t1); the same seed keeps each device's exponent."""
        self._check(_lib_handle().mt_dev_drift(self._handle(), int(tile), int(seed), float(t0),
                                               float(t1)))

    # ---- weights ---------------------------------------------------------------------
    def program(self, tile, rows, cols, levels, flags=0):
        """PROGRAM cells (rows[k], cols[k]) to levels[k] by write-verify (flags: PROG_*)."""
        rows, cols, levels = (np.asarray(a, dtype=np.uint32).ravel() for a in (rows, cols, levels))
        if not (len(rows) == len(cols) == len(levels)):
            raise ValueError("program: rows, cols and levels differ in length")
        entries = np.ascontiguousarray(rows << 20 | cols << 8 | levels, dtype=np.uint32)
        res = _lib.ProgResult()
        self._check(_lib_handle().mt_dev_program(self._handle(), int(tile), int(flags),
                                                 _ptr(entries, ctypes.c_uint32), len(entries),
                                                 ctypes.byref(res)))
        return _prog(res)

    def pulse(self, tile, rows, cols, n, device=0):
        """PULSE: n[k] pulses (> 0 SET, < 0 RESET, |n| <= 63) on device 0 (G+) or 1 (G-)."""
        rows, cols = (np.asarray(a, dtype=np.uint32).ravel() for a in (rows, cols))
        n = np.broadcast_to(np.asarray(n, dtype=np.int64), rows.shape)
        dev = np.broadcast_to(np.asarray(device, dtype=np.uint32), rows.shape)
        if np.any(np.abs(n) > 63):
            raise ValueError("pulse: counts must be in [-63, 63]")
        entries = np.ascontiguousarray(rows << 20 | cols << 8 | dev << 7 | (n & 0x7F).astype(np.uint32),
                                       dtype=np.uint32)
        self._check(_lib_handle().mt_dev_pulse(self._handle(), int(tile), _ptr(entries, ctypes.c_uint32),
                                               len(entries)))

    def _full(self, nrows, ncols):
        i = self.info
        return (i["rows"] if nrows is None else nrows), (i["cols"] if ncols is None else ncols)

    def read_cells(self, tile, row0=0, nrows=None, col0=0, ncols=None, probe=False):
        """READ_CELLS of a region: (g_plus, g_minus) as uint16 arrays (nrows, ncols)."""
        nrows, ncols = self._full(nrows, ncols)
        gp = np.zeros((nrows, ncols), dtype=np.uint16)
        gm = np.zeros((nrows, ncols), dtype=np.uint16)
        self._check(_lib_handle().mt_dev_read_cells(self._handle(), int(tile), _region(row0, nrows, col0, ncols),
                                                    int(bool(probe)), _ptr(gp, ctypes.c_uint16),
                                                    _ptr(gm, ctypes.c_uint16)))
        return gp, gm

    def read_list(self, tile, rows, cols, probe=False):
        """READ_LIST: (g_plus, g_minus) of cells (rows[k], cols[k])."""
        rows, cols = (np.asarray(a, dtype=np.uint32).ravel() for a in (rows, cols))
        cells = np.ascontiguousarray(rows << 20 | cols << 8, dtype=np.uint32)
        gp = np.zeros(len(cells), dtype=np.uint16)
        gm = np.zeros(len(cells), dtype=np.uint16)
        self._check(_lib_handle().mt_dev_read_list(self._handle(), int(tile), int(bool(probe)),
                                                   _ptr(cells, ctypes.c_uint32), len(cells),
                                                   _ptr(gp, ctypes.c_uint16), _ptr(gm, ctypes.c_uint16)))
        return gp, gm

    def read_levels(self, tile, row0=0, nrows=None, col0=0, ncols=None):
        """READ_LEVELS: the stored level of every weight of a region (65535: never programmed)."""
        nrows, ncols = self._full(nrows, ncols)
        lv = np.zeros((nrows, ncols), dtype=np.uint16)
        self._check(_lib_handle().mt_dev_read_levels(self._handle(), int(tile),
                                                     _region(row0, nrows, col0, ncols),
                                                     _ptr(lv, ctypes.c_uint16)))
        return lv

    def mvm(self, tile, x, ncols):
        """MVM: x is (nvec, nrows) DAC codes (int16); returns (nvec, ncols) ADC codes."""
        x = np.atleast_2d(_array(x, np.int16, "x"))
        y = np.zeros((x.shape[0], int(ncols)), dtype=np.int16)
        self._check(_lib_handle().mt_dev_mvm(self._handle(), int(tile), x.shape[0], x.shape[1], int(ncols),
                                             _ptr(x, ctypes.c_int16), _ptr(y, ctypes.c_int16)))
        return y

    # ---- metaplasticity unit ---------------------------------------------------------
    def meta_write(self, tile, h, row0=0, col0=0):
        h = _array(h, np.int32, "h")
        if h.ndim != 2:
            raise ValueError("meta_write: h must be 2-D (rows, cols)")
        res = _lib.ProgResult()
        self._check(_lib_handle().mt_dev_meta_write(self._handle(), int(tile), _region(row0, h.shape[0], col0, h.shape[1]),
                                                    _ptr(h, ctypes.c_int32), ctypes.byref(res)))
        return _prog(res)

    def meta_update(self, tile, d, row0=0, col0=0):
        d = _array(d, np.int16, "d")
        if d.ndim != 2:
            raise ValueError("meta_update: d must be 2-D (rows, cols)")
        res = _lib.ProgResult()
        self._check(_lib_handle().mt_dev_meta_update(self._handle(), int(tile), _region(row0, d.shape[0], col0, d.shape[1]),
                                                     _ptr(d, ctypes.c_int16), ctypes.byref(res)))
        return _prog(res)

    def meta_read(self, tile, row0=0, nrows=None, col0=0, ncols=None):
        nrows, ncols = self._full(nrows, ncols)
        h = np.zeros((nrows, ncols), dtype=np.int32)
        self._check(_lib_handle().mt_dev_meta_read(self._handle(), int(tile), _region(row0, nrows, col0, ncols),
                                                   _ptr(h, ctypes.c_int32)))
        return h

    # ---- counters and state ----------------------------------------------------------
    def stats(self):
        """STATS_GET: counter name -> value (set_pulses, ..., energy_fj, latency_ps)."""
        names = counter_names()
        c = np.zeros(len(names), dtype=np.uint64)
        self._check(_lib_handle().mt_dev_stats(self._handle(), _ptr(c, ctypes.c_uint64), len(names)))
        return dict(zip(names, (int(v) for v in c)))

    def stats_reset(self):
        self._check(_lib_handle().mt_dev_stats_reset(self._handle()))

    def save(self, path):
        """The whole device state to a file (atomic, checksummed)."""
        self._check(_lib_handle().mt_dev_snapshot_save(self._handle(), os.fsencode(path)))

    def load(self, path):
        self._check(_lib_handle().mt_dev_snapshot_load(self._handle(), os.fsencode(path)))

    def __repr__(self):
        return "Device(%r)" % (self.uri if self._h else "<closed>")


class Layer:
    """An n_in x n_out float weight matrix on tiles first_tile.. of a device (memtile_layer.h):
    weights become levels programmed by write-verify (only the levels that change after the
    first program()), and matmul computes x @ W on the device."""

    @staticmethod
    def tiles_needed(n_in, n_out):
        return _lib_handle().mt_layer_tiles_needed(int(n_in), int(n_out))

    def __init__(self, device, preset, n_in, n_out, first_tile=0, w_max=1.0, max_batch=256):
        L = _lib_handle()
        h = ctypes.c_void_p()
        rc = L.mt_layer_open(device._handle(), preset._h, int(n_in), int(n_out), int(first_tile), float(w_max),
                             int(max_batch), ctypes.byref(h))
        self._h = h
        self.device, self.preset = device, preset  # the layer uses both; keep them alive
        self.n_in, self.n_out, self.max_batch = int(n_in), int(n_out), int(max_batch)
        if rc != 0:
            msg = _text(L.mt_layer_errmsg(h))
            L.mt_layer_close(h)
            self._h = None
            raise MemtileError(rc, msg)

    def close(self):
        if getattr(self, "_h", None) and _L is not None:
            _L.mt_layer_close(self._h)
            self._h = None

    __del__ = close

    def _check(self, rc):
        if rc != 0:
            raise MemtileError(rc, _text(_lib_handle().mt_layer_errmsg(self._h)))

    @property
    def delta(self):
        """Weight step between adjacent levels."""
        return _lib_handle().mt_layer_delta(self._h)

    def program(self, w):
        """Programs float weights w (n_in, n_out); returns programmed/skipped/wv_failures."""
        w = _array(w, np.float32, "w", (self.n_in, self.n_out))
        res = _lib.ProgResult()
        self._check(_lib_handle().mt_layer_program(self._h, _ptr(w, ctypes.c_float), ctypes.byref(res)))
        return _prog(res)

    def matmul(self, x):
        """x (batch, n_in) float -> x @ W (batch, n_out) on the device, in max_batch chunks."""
        x = _array(np.atleast_2d(x), np.float32, "x", (None, self.n_in))
        out = np.empty((x.shape[0], self.n_out), dtype=np.float32)
        for s in range(0, x.shape[0], self.max_batch):
            xs = np.ascontiguousarray(x[s:s + self.max_batch])
            os_ = np.empty((xs.shape[0], self.n_out), dtype=np.float32)
            self._check(_lib_handle().mt_layer_matmul(self._h, _ptr(xs, ctypes.c_float), xs.shape[0],
                                                      _ptr(os_, ctypes.c_float)))
            out[s:s + xs.shape[0]] = os_
        return out

    def weights(self):
        """The weights the programmed levels stand for (n_in, n_out)."""
        w = np.empty((self.n_in, self.n_out), dtype=np.float32)
        self._check(_lib_handle().mt_layer_weights(self._h, _ptr(w, ctypes.c_float)))
        return w


from .train import Trainer, algorithms, read_log, train  # noqa: E402  (uses the above)
