"""Loading libmemtile and declaring its C functions (host/include/memtile.h, memtile_layer.h,
memtile_train.h).

The library is found, in order, at $MEMTILE_LIB (a file), in the installed prefix
(<sys.prefix>/lib, /usr/local/lib, /usr/lib, or wherever the dynamic loader finds
libmemtile.so.0), and in the build tree this package sits in (../build, `make shared`).
"""
import ctypes
import ctypes.util
import os
import sys

SONAME = "libmemtile.so.0"


class LibraryNotFound(OSError):
    """libmemtile could not be loaded; the message lists the places tried."""


def _candidates():
    env = os.environ.get("MEMTILE_LIB")
    if env:
        yield env
        return
    for prefix in (sys.prefix, "/usr/local", "/usr"):
        yield os.path.join(prefix, "lib", SONAME)
    found = ctypes.util.find_library("memtile")
    if found:
        yield found
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "..", "..", "build", SONAME)


def load():
    tried = []
    for path in _candidates():
        tried.append(path)
        if os.path.sep in path and not os.path.exists(path):
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried[-1] = "%s (%s)" % (path, e)
            continue
        _declare(lib)
        lib.path = path
        return lib
    raise LibraryNotFound(
        "libmemtile not found; tried: %s. Build it with `make shared`, install it with "
        "`make install`, or name it in MEMTILE_LIB" % ", ".join(tried))


class DevInfo(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in (
        "version", "rows", "cols", "tiles", "lanes", "max_levels", "max_payload", "max_batch",
        "features")]


class Region(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("row0", "nrows", "col0", "ncols")]


class ProgResult(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("programmed", "skipped", "wv_failures")]


TRAIN_MAX_TASKS = 8
TRAIN_MAX_DRAWS = 100
TRAIN_MAX_DRIFT_T = 16


class EpochStats(ctypes.Structure):
    """mt_epoch_stats (host/include/memtile_train.h), field for field."""
    _fields_ = [("epoch", ctypes.c_uint32)] + \
        [(n, ctypes.c_double) for n in ("train_loss", "train_accuracy", "test_accuracy")] + \
        [(n, ctypes.c_uint64) for n in ("set_pulses", "reset_pulses", "verify_reads", "cell_reads", "mvms",
                                         "cells_programmed", "updates_skipped", "wv_failures")] + \
        [(n, ctypes.c_double) for n in ("energy_pj", "latency_ns", "wall_s")] + \
        [("transactions", ctypes.c_uint64), ("has_sw_accuracy", ctypes.c_int), ("sw_test_accuracy", ctypes.c_double),
         ("has_sim_cycles", ctypes.c_int), ("sim_cycles", ctypes.c_uint64), ("task", ctypes.c_uint32),
         ("n_tasks", ctypes.c_uint32), ("task_accuracy", ctypes.c_double * TRAIN_MAX_TASKS),
         ("has_swaps", ctypes.c_int)] + \
        [(n, ctypes.c_uint64) for n in ("swaps", "swap_saves", "swap_transactions", "swap_bytes")] + \
        [("swap_s", ctypes.c_double), ("has_val", ctypes.c_int), ("val_accuracy", ctypes.c_double),
         ("task_val_accuracy", ctypes.c_double * TRAIN_MAX_TASKS), ("has_best", ctypes.c_int),
         ("best_epoch", ctypes.c_uint32), ("best_val_accuracy", ctypes.c_double),
         ("best_test_accuracy", ctypes.c_double), ("n_draws", ctypes.c_uint32),
         ("draw_accuracy", ctypes.c_double * TRAIN_MAX_DRAWS), ("draw_mean", ctypes.c_double),
         ("draw_sd", ctypes.c_double), ("n_drift", ctypes.c_uint32),
         ("drift_t", ctypes.c_double * TRAIN_MAX_DRIFT_T), ("drift_accuracy", ctypes.c_double * TRAIN_MAX_DRIFT_T),
         ("drift_epoch", ctypes.c_uint32)]


STARTED_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32,
                               ctypes.c_double)
EPOCH_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(EpochStats))


class TrainCallbacks(ctypes.Structure):
    _fields_ = [("started", STARTED_FN), ("progress", PROGRESS_FN), ("epoch_done", EPOCH_FN),
                ("ctx", ctypes.c_void_p)]


def _declare(lib):
    c = ctypes
    vp, u32, u64, i32, sz = c.c_void_p, c.c_uint32, c.c_uint64, c.c_int, c.c_size_t
    P = c.POINTER
    sigs = {
        "mt_strerror": (c.c_char_p, [i32]),
        "mt_err_name": (c.c_char_p, [i32]),
        "mt_dev_errcode": (i32, [vp]),
        "mt_err_exit_status": (i32, [i32]),
        "mt_backend_available": (i32, [c.c_char_p]),
        "mt_trainer_create": (i32, [c.c_char_p, P(vp)]),
        "mt_trainer_close": (None, [vp]),
        "mt_train_errmsg": (c.c_char_p, [vp]),
        "mt_trainer_set": (i32, [vp, c.c_char_p, c.c_char_p]),
        "mt_train_option_kind": (i32, [c.c_char_p]),
        "mt_train_algo_name": (c.c_char_p, [u32]),
        "mt_trainer_run": (i32, [vp, P(TrainCallbacks)]),
        "mt_trainer_device": (vp, [vp]),
        "mt_dev_open": (i32, [c.c_char_p, P(vp)]),
        "mt_dev_close": (None, [vp]),
        "mt_dev_errmsg": (c.c_char_p, [vp]),
        "mt_dev_get_info": (P(DevInfo), [vp]),
        "mt_dev_uri": (c.c_char_p, [vp]),
        "mt_dev_cycles": (i32, [vp, P(u64)]),
        "mt_dev_configure": (i32, [vp, P(u32)]),
        "mt_dev_set_levels": (i32, [vp, u32, P(u32)]),
        "mt_dev_seed": (i32, [vp, u64]),
        "mt_dev_fabricate": (i32, [vp, u64, u32]),
        "mt_dev_drift": (i32, [vp, u32, u64, c.c_double, c.c_double]),
        "mt_dev_program": (i32, [vp, u32, u32, P(u32), sz, P(ProgResult)]),
        "mt_dev_pulse": (i32, [vp, u32, P(u32), sz]),
        "mt_dev_read_cells": (i32, [vp, u32, Region, i32, P(c.c_uint16), P(c.c_uint16)]),
        "mt_dev_read_list": (i32, [vp, u32, i32, P(u32), sz, P(c.c_uint16), P(c.c_uint16)]),
        "mt_dev_read_levels": (i32, [vp, u32, Region, P(c.c_uint16)]),
        "mt_dev_mvm": (i32, [vp, u32, u32, u32, u32, P(c.c_int16), P(c.c_int16)]),
        "mt_dev_meta_write": (i32, [vp, u32, Region, P(c.c_int32), P(ProgResult)]),
        "mt_dev_meta_update": (i32, [vp, u32, Region, P(c.c_int16), P(ProgResult)]),
        "mt_dev_meta_read": (i32, [vp, u32, Region, P(c.c_int32)]),
        "mt_dev_stats": (i32, [vp, P(u64), sz]),
        "mt_dev_stats_reset": (i32, [vp]),
        "mt_dev_snapshot_save": (i32, [vp, c.c_char_p]),
        "mt_dev_snapshot_load": (i32, [vp, c.c_char_p]),
        "mt_preset_locate": (i32, [c.c_char_p, c.c_char_p, sz]),
        "mt_preset_open": (i32, [c.c_char_p, P(vp)]),
        "mt_preset_close": (None, [vp]),
        "mt_preset_errmsg": (c.c_char_p, [vp]),
        "mt_preset_name": (c.c_char_p, [vp]),
        "mt_preset_description": (c.c_char_p, [vp]),
        "mt_preset_path": (c.c_char_p, [vp]),
        "mt_preset_levels": (u32, [vp]),
        "mt_preset_use_levels": (i32, [vp, u32]),
        "mt_preset_config": (i32, [vp, P(u32), sz]),
        "mt_dev_apply_preset": (i32, [vp, vp]),
        "mt_config_count": (u32, []),
        "mt_config_name": (c.c_char_p, [u32]),
        "mt_counter_count": (u32, []),
        "mt_counter_name": (c.c_char_p, [u32]),
        "mt_layer_tiles_needed": (u32, [u32, u32]),
        "mt_layer_open": (i32, [vp, vp, u32, u32, u32, c.c_float, u32, P(vp)]),
        "mt_layer_close": (None, [vp]),
        "mt_layer_errmsg": (c.c_char_p, [vp]),
        "mt_layer_program": (i32, [vp, P(c.c_float), P(ProgResult)]),
        "mt_layer_matmul": (i32, [vp, P(c.c_float), u32, P(c.c_float)]),
        "mt_layer_weights": (i32, [vp, P(c.c_float)]),
        "mt_layer_delta": (c.c_float, [vp]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
