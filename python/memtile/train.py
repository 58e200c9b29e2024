"""Training runs from Python: the public training API (host/include/memtile_train.h).

    import memtile
    log = memtile.train(algo="siamese", dataset="mnist", net="784-100-10", epochs=2,
                        train_limit=2000, device="model://", log="run.jsonl",
                        on_epoch=lambda s: print(s["epoch"], s["test_accuracy"]))

Options are those of `memtile train` (README.md, `memtile train --help`), as keyword
arguments with "_" for "-" (train_limit=2000 is --train-limit 2000; open_loop=True is
--open-loop). A run returns its epochs, one dict per epoch with the fields of the JSON log
(docs/algorithms.md, "What is logged"); log="FILE" writes that log too, and checkpoint= /
resume= save and continue the experiment, exactly as the tool does. A failure raises
MemtileError whose code is the MT_ERR_* class (MT_ERR_INVAL: options, MT_ERR_IO: a file,
MT_ERR_FILE: a file's content, the device's own code for the device) and whose message
names the option, file or value.
"""
import ctypes
import json
import os
import sys

from . import Device, MemtileError, _lib, _lib_handle, _text

__all__ = ["Trainer", "train", "algorithms", "read_log"]

# Fields of mt_epoch_stats that every epoch has (the others depend on the run).
_COUNTERS = ("set_pulses", "reset_pulses", "verify_reads", "cell_reads", "mvms", "cells_programmed",
             "updates_skipped", "wv_failures", "transactions")


def algorithms():
    """The training algorithms' names (--algo)."""
    L, out = _lib_handle(), []
    while True:
        name = L.mt_train_algo_name(len(out))
        if name is None:
            return out
        out.append(name.decode())


def _epoch_dict(s):
    d = {"epoch": s.epoch, "train_loss": s.train_loss, "train_accuracy": s.train_accuracy,
         "test_accuracy": s.test_accuracy, "energy_pj": s.energy_pj, "latency_ns": s.latency_ns,
         "wall_s": s.wall_s}
    d.update({k: int(getattr(s, k)) for k in _COUNTERS})
    if s.has_sw_accuracy:
        d["sw_test_accuracy"] = s.sw_test_accuracy
    if s.has_sim_cycles:
        d["sim_cycles"] = int(s.sim_cycles)
    if s.n_tasks > 1:
        d["task"] = s.task
        d["task_accuracy"] = [s.task_accuracy[k] for k in range(s.n_tasks)]
    if s.has_val:
        d["val_accuracy"] = s.val_accuracy
    if s.has_best:
        d.update(best_epoch=s.best_epoch, best_val_accuracy=s.best_val_accuracy,
                 best_test_accuracy=s.best_test_accuracy)
    if s.n_draws:
        d.update(draws=s.n_draws, draw_accuracy=[s.draw_accuracy[k] for k in range(s.n_draws)],
                 draw_mean=s.draw_mean, draw_sd=s.draw_sd)
    if s.n_drift:
        d.update(drift_epoch=s.drift_epoch,
                 drift_eval=[{"drift_t": s.drift_t[k], "test_accuracy": s.drift_accuracy[k]}
                             for k in range(s.n_drift)])
    return d


def _option_text(name, value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):  # tasks=["mnist", "fashion-mnist"]
        return ",".join(str(v) for v in value)
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


class Trainer:
    """One training run on a device: Trainer(device=URI, **options), then run(). The device
    (default: model:// with the tiles the network needs) is opened by run() and stays open,
    as .device, until close(). A trainer runs once."""

    def __init__(self, device=None, **options):
        L = _lib_handle()
        h = ctypes.c_void_p()
        rc = L.mt_trainer_create(device.encode() if device else None, ctypes.byref(h))
        self._h = h
        self.epochs = []
        if rc != 0:
            msg = _text(L.mt_train_errmsg(h))
            L.mt_trainer_close(h)
            self._h = None
            raise MemtileError(rc, msg)
        for k, v in options.items():
            self.set(k, v)

    def close(self):
        """Closes the trainer and its device (a .device got from it is then closed too)."""
        # The package's _L, not _lib_handle(): at interpreter exit nothing may be loaded any more.
        lib = getattr(sys.modules.get(__package__), "_L", None)
        if getattr(self, "_h", None) and lib is not None:
            lib.mt_trainer_close(self._h)
        self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _check(self, rc):
        if rc != 0:
            raise MemtileError(rc, _text(_lib_handle().mt_train_errmsg(self._h)))

    def set(self, option, value):
        """Sets one option by its `memtile train` name ("train-limit" or train_limit)."""
        if not self._h:
            raise ValueError("trainer is closed")
        name = option.replace("_", "-")
        self._check(_lib_handle().mt_trainer_set(self._h, name.encode(), _option_text(name, value).encode()))

    @property
    def device(self):
        """The run's device once run() opened it (None before, and for --algo float)."""
        h = _lib_handle().mt_trainer_device(self._h) if self._h else None
        return Device._borrowed(h, self) if h else None

    def run(self, on_epoch=None, on_progress=None, on_start=None):
        """Trains; returns the epochs (list of dicts, also kept in .epochs).

        on_epoch(stats) runs after every epoch, before its log line and checkpoint: return
        True to stop after this epoch; an exception it raises stops the run (the epoch is
        neither logged nor checkpointed) and is raised from run(). on_progress(epoch, done,
        total, loss) runs after every batch, on_start(summary) once before training; an
        exception of theirs stops the run at the end of the epoch, which is not logged."""
        if not self._h:
            raise ValueError("trainer is closed")
        raised = []

        def epoch_done(_ctx, p):
            if raised:  # on_progress or on_start raised: stop here, this epoch unlogged
                return -1
            d = _epoch_dict(p.contents)
            try:
                stop = on_epoch(d) if on_epoch is not None else False
            except BaseException as e:  # noqa: B902 (KeyboardInterrupt too: C cannot unwind)
                raised.append(e)
                return -1  # the run fails, this epoch neither logged nor checkpointed
            self.epochs.append(d)
            return 1 if stop else 0

        def progress(_ctx, epoch, done, total, loss):
            if on_progress is not None and not raised:
                try:
                    on_progress(epoch, done, total, loss)
                except BaseException as e:  # noqa: B902
                    raised.append(e)

        def started(_ctx, summary):
            if on_start is not None and not raised:
                try:
                    on_start(_text(summary))
                except BaseException as e:  # noqa: B902
                    raised.append(e)

        # The C side keeps pointers to these for the whole run: they live until it returns.
        cb = _lib.TrainCallbacks(_lib.STARTED_FN(started), _lib.PROGRESS_FN(progress), _lib.EPOCH_FN(epoch_done),
                                 None)
        rc = _lib_handle().mt_trainer_run(self._h, ctypes.byref(cb))
        if raised:
            raise raised[0]
        self._check(rc)
        return self.epochs


def train(device=None, on_epoch=None, on_progress=None, on_start=None, **options):
    """Trains once (Trainer(device, **options).run(...)) and returns the epochs."""
    with Trainer(device, **options) as t:
        return t.run(on_epoch=on_epoch, on_progress=on_progress, on_start=on_start)


def read_log(path):
    """A log written with log=FILE (or memtile train --log): one dict per epoch."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
