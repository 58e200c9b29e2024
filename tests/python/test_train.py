"""memtile.train / memtile.Trainer: training runs through the public training API
(host/include/memtile_train.h), with the per-epoch callback, the log, errors by class, and
the same run on verilator:// (the shared library links the Verilated device)."""
import os

import pytest

import memtile

TINY = dict(dataset="mnist", net="784-8-10", train_limit=64, test_limit=32, batch=16, seed=5)


def test_algorithms_are_the_tools():
    names = memtile.algorithms()
    assert names[0] == "float" and "siamese" in names and "metaplastic" in names


def test_train_returns_and_logs_every_epoch(tmp_path):
    log = tmp_path / "run.jsonl"
    seen, started = [], []
    epochs = memtile.train(epochs=2, log=str(log), on_epoch=seen.append, on_start=started.append, **TINY)
    assert [e["epoch"] for e in epochs] == [1, 2] and seen == epochs
    assert "siamese on model://?tiles=" in started[0]
    for e in epochs:
        assert 0 <= e["test_accuracy"] <= 1 and e["set_pulses"] + e["reset_pulses"] > 0
        assert e["mvms"] > 0 and e["transactions"] > 0
    logged = memtile.read_log(str(log))
    assert [(x["epoch"], x["test_accuracy"], x["set_pulses"]) for x in logged] == \
        [(e["epoch"], e["test_accuracy"], e["set_pulses"]) for e in epochs]
    assert os.path.exists(str(log)[:-len(".jsonl")] + ".csv")


def test_best_epoch_and_draws_reach_python(tmp_path):
    # conventional with --val and --draws 3: every epoch names the best so far, the last has the
    # draws, as the JSON log has them; a list of per-layer fractions goes through as text
    log = tmp_path / "draws.jsonl"
    opts = dict(TINY, train_limit=96, val=32)
    epochs = memtile.train(epochs=2, algo="biased", preset="rram-2bit", important=[0.5, 1], draws=3,
                           log=str(log), **opts)
    assert [e["best_epoch"] for e in epochs][0] == 1 and "draws" not in epochs[0]
    last = epochs[-1]
    assert last["draws"] == 3 and len(last["draw_accuracy"]) == 3
    assert abs(last["draw_mean"] - sum(last["draw_accuracy"]) / 3) < 1e-12
    logged = memtile.read_log(str(log))
    assert [x["best_epoch"] for x in logged] == [e["best_epoch"] for e in epochs]
    assert logged[-1]["draw_accuracy"] == pytest.approx(last["draw_accuracy"], abs=1e-6)


def test_drift_eval_reaches_python(tmp_path):
    # --drift-eval with --val: the last epoch has the drift of the best epoch's network, as the
    # JSON log has it; the epochs before have none
    log = tmp_path / "drift.jsonl"
    opts = dict(TINY, train_limit=96, val=32)
    epochs = memtile.train(epochs=2, algo="conventional", preset="rram-2bit", drift_eval=[1, 3600],
                           log=str(log), **opts)
    assert "drift_eval" not in epochs[0]
    last = epochs[-1]
    assert last["drift_epoch"] == last["best_epoch"]
    assert [r["drift_t"] for r in last["drift_eval"]] == [1, 3600]
    logged = memtile.read_log(str(log))[-1]
    assert logged["drift_epoch"] == last["drift_epoch"]
    assert [r["test_accuracy"] for r in logged["drift_eval"]] == \
        pytest.approx([r["test_accuracy"] for r in last["drift_eval"]], abs=1e-6)


def test_callback_stops_and_fails_the_run(tmp_path):
    with memtile.Trainer(epochs=3, algo="float", **TINY) as t:
        assert len(t.run(on_epoch=lambda s: True)) == 1  # True: stop after this epoch
        assert t.device is None  # float training has no device
    log = tmp_path / "failed.jsonl"

    def boom(s):
        raise KeyError("stop here")
    with pytest.raises(KeyError, match="stop here"):
        memtile.train(epochs=3, algo="float", log=str(log), on_epoch=boom, **TINY)
    assert memtile.read_log(str(log)) == []  # the failed epoch is not logged


def test_the_device_stays_open_after_the_run():
    with memtile.Trainer(device="model://?tiles=8", epochs=1, **TINY) as t:
        t.run()
        dev = t.device
        assert dev.uri == "model://?tiles=8" and dev.stats()["cells_programmed"] > 0
        dev.close()  # a borrowed device: the trainer still owns it
        assert t.device.info["tiles"] == 8


def test_errors_carry_their_class(tmp_path):
    with pytest.raises(memtile.MemtileError) as e:
        memtile.Trainer(epochs=0)
    assert e.value.name == "MT_ERR_INVAL" and "--epochs: '0' is not an integer" in e.value.message
    with pytest.raises(memtile.MemtileError) as e:
        memtile.Trainer(colour="red")
    assert e.value.name == "MT_ERR_INVAL" and "unknown option 'colour'" in e.value.message
    with pytest.raises(memtile.MemtileError) as e:
        memtile.train(**dict(TINY, dataset=str(tmp_path / "nowhere")))
    assert e.value.name == "MT_ERR_IO" and "nowhere: no such directory" in e.value.message
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "adc": {"bits": 17}}')
    with pytest.raises(memtile.MemtileError) as e:
        memtile.train(preset=str(bad), **TINY)
    assert e.value.name == "MT_ERR_FILE" and "bad.json" in e.value.message
    with pytest.raises(memtile.MemtileError) as e:
        memtile.train(device="usb://0403:601f", **TINY)
    assert e.value.name == "MT_ERR_NODEV"


def test_device_errors_keep_their_class():
    with memtile.Device("model://?tiles=1") as dev:
        assert dev.last_error == (0, "")
        with pytest.raises(memtile.MemtileError) as e:
            dev.fabricate(1, 0)  # not configured
        assert e.value.name == "MT_ERR_DEVICE" and dev.last_error[0] == e.value.code
        assert "device not configured" in dev.last_error[1]


@pytest.mark.skipif("verilator" not in memtile.backends(), reason="library built without verilator://")
def test_verilator_trains_exactly_as_the_model():
    """The RTL in Verilator from Python: the same epochs as model:// (docs/rtl.md)."""
    model = memtile.train(device="model://?tiles=16", epochs=1, **TINY)
    rtl = memtile.train(device="verilator://", epochs=1, **TINY)
    keys = ("train_loss", "test_accuracy", "set_pulses", "reset_pulses", "verify_reads", "cells_programmed")
    assert [tuple(e[k] for k in keys) for e in rtl] == [tuple(e[k] for k in keys) for e in model]
    assert rtl[0]["sim_cycles"] > 0 and "sim_cycles" not in model[0]
