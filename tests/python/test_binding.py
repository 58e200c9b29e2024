"""memtile's Python binding over libmemtile: devices, presets, protocol operations with
numpy arrays, layers, and errors as exceptions carrying the C message."""
import os
import sys

import numpy as np
import pytest

import memtile


@pytest.fixture
def dev():
    d = memtile.Device("model://?tiles=4")
    d.apply_preset(memtile.Preset("rram"))
    d.fabricate(seed=5, tile=0)
    yield d
    d.close()


def test_library_and_names():
    assert os.path.exists(memtile.library_path())
    assert memtile.config_names()[:2] == ["g_min", "g_max"]
    names = memtile.counter_names()
    assert names[0] == "set_pulses" and "energy_fj" in names and len(names) == 16


def test_device_info_and_close():
    with memtile.Device("model://?tiles=3") as d:
        i = d.info
        assert (i["tiles"], i["rows"], i["cols"]) == (3, 128, 128)
        assert i["protocol"] == "1.2"
        assert d.uri == "model://?tiles=3"
        with pytest.raises(memtile.MemtileError) as e:
            d.cycles()  # model:// has no simulated clock
        assert e.value.code == -3
    with pytest.raises(ValueError, match="closed"):
        d.info


def test_open_errors_carry_the_c_message():
    with pytest.raises(memtile.MemtileError) as e:
        memtile.Device("bogus://x")
    assert "unknown scheme 'bogus'" in str(e.value) and e.value.code == -1
    with pytest.raises(memtile.MemtileError, match="tiles"):
        memtile.Device("model://?tiles=0")


def test_presets(tmp_path):
    p = memtile.Preset("rram-2bit")
    assert p.name == "rram-2bit" and p.levels == 7 and p.path.endswith("presets/rram-2bit.json")
    assert p.config["g_max"] == 65535
    with pytest.raises(memtile.MemtileError, match="level count cannot be changed"):
        p.use_levels(5)
    r = memtile.Preset("rram", levels=5)
    assert r.levels == 5
    with pytest.raises(memtile.MemtileError, match="levels"):
        r.use_levels(1)
    with pytest.raises(memtile.MemtileError, match="no preset 'nope'"):
        memtile.Preset("nope")
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "bad", "levels": "many"}')
    with pytest.raises(memtile.MemtileError, match="bad.json") as e:
        memtile.Preset(str(bad))
    assert e.value.code == -8  # MT_ERR_FILE
    assert memtile.Preset.locate("ideal").endswith("presets/ideal.json")


def test_program_read_and_levels(dev):
    rows, cols, levels = np.array([0, 0, 1]), np.array([0, 5, 2]), np.array([0, 16, 32])
    res = dev.program(0, rows, cols, levels)
    assert res["programmed"] == 3
    lv = dev.read_levels(0, 0, 2, 0, 6)
    assert lv.shape == (2, 6) and lv[0, 0] == 0 and lv[0, 5] == 16 and lv[1, 2] == 32
    assert lv[0, 1] == 65535  # never programmed
    gp, gm = dev.read_cells(0, 0, 2, 0, 6, probe=True)
    assert gp.dtype == np.uint16 and gp.shape == (2, 6)
    # level 32 of 33 is the top: G+ high, G- low; level 0 the opposite
    assert int(gp[1, 2]) - int(gm[1, 2]) > 20000 and int(gp[0, 0]) - int(gm[0, 0]) < -20000
    lp, lm = dev.read_list(0, [1, 0], [2, 0], probe=True)
    assert (lp[0], lm[0], lp[1], lm[1]) == (gp[1, 2], gm[1, 2], gp[0, 0], gm[0, 0])
    again = dev.program(0, rows, cols, levels)
    assert again["skipped"] == 3 and again["programmed"] == 0
    with pytest.raises(ValueError, match="differ in length"):
        dev.program(0, [0], [0, 1], [3])


def test_pulses_move_conductance(dev):
    before, _ = dev.read_cells(0, 3, 1, 0, 4, probe=True)
    dev.pulse(0, [3, 3], [0, 1], [20, 20])
    after, _ = dev.read_cells(0, 3, 1, 0, 4, probe=True)
    assert after[0, 0] > before[0, 0] and after[0, 1] > before[0, 1]
    assert after[0, 2] == before[0, 2]
    dev.pulse(0, [3], [0], [-30])
    down, _ = dev.read_cells(0, 3, 1, 0, 1, probe=True)
    assert down[0, 0] < after[0, 0]
    st = dev.stats()
    assert st["set_pulses"] >= 40 and st["reset_pulses"] >= 30
    dev.stats_reset()
    assert dev.stats()["set_pulses"] == 0
    with pytest.raises(ValueError, match="-63, 63"):
        dev.pulse(0, [0], [0], [64])
    with pytest.raises(memtile.MemtileError, match="not fabricated"):
        dev.pulse(2, [0], [0], [1])


def test_mvm_follows_the_programmed_levels(dev):
    # Column j of the tile holds level 32 (top) in rows < j, level 0 (bottom) elsewhere.
    n = 8
    r, c = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    lv = np.where(r < c, 32, 0)
    dev.program(0, r, c, lv)
    x = np.zeros((2, n), dtype=np.int16)
    x[0, :] = 100
    x[1, 0] = 100
    y = dev.mvm(0, x, n)
    assert y.shape == (2, n) and y.dtype == np.int16
    assert np.all(np.diff(y[0].astype(int)) > 0)  # more positive weights, larger output
    assert y[1, 1] > 0 > y[1, 0]


def test_snapshot_round_trip(dev, tmp_path):
    dev.program(0, [0], [0], [20])
    path = tmp_path / "dev.snap"
    dev.save(str(path))
    dev.program(0, [0], [0], [3])
    dev.load(str(path))
    assert dev.read_levels(0, 0, 1, 0, 1)[0, 0] == 20
    with pytest.raises(memtile.MemtileError, match="nothing.snap"):
        dev.load(str(tmp_path / "nothing.snap"))


def test_metaplasticity_unit(dev):
    h = np.arange(6, dtype=np.int32).reshape(2, 3) * 1000
    dev.meta_write(0, h, row0=4, col0=4)
    got = dev.meta_read(0, 4, 2, 4, 3)
    assert got.shape == (2, 3)
    dev.meta_update(0, np.ones((2, 3), dtype=np.int16) * 100, row0=4, col0=4)
    assert dev.stats()["meta_updates"] > 0


def test_drift_lowers_conductance(dev):
    dev.pulse(0, [3, 3], [0, 1], [30, 30])
    before, _ = dev.read_cells(0, 3, 1, 0, 2, probe=True)
    dev.drift(0, seed=9, t0=20, t1=3620)        # the rram preset does not drift
    same, _ = dev.read_cells(0, 3, 1, 0, 2, probe=True)
    assert (same == before).all()
    cfg = dict(memtile.Preset("rram").config, drift_nu=3277, drift_nu_sd=655)
    dev.configure(cfg)
    dev.drift(0, seed=9, t0=20, t1=3620)
    after, _ = dev.read_cells(0, 3, 1, 0, 2, probe=True)
    assert (after < before).all()
    with pytest.raises(memtile.MemtileError, match="t0 = 30 s to t1 = 10 s"):
        dev.drift(0, seed=9, t0=30, t1=10)


def test_configure_by_name(dev):
    cfg = memtile.Preset("ideal").config
    dev.configure(cfg)
    with pytest.raises(ValueError, match="unknown field"):
        dev.configure(dict(cfg, frob=1))
    bad = dict(cfg)
    bad["g_min"] = 70000
    with pytest.raises(memtile.MemtileError, match="g_min"):
        dev.configure(bad)


def test_layer_matmul_and_sparse_programming():
    p = memtile.Preset("ideal")
    d = memtile.Device("model://?tiles=4")
    d.apply_preset(p)
    tiles = memtile.Layer.tiles_needed(200, 10)
    assert tiles == 2
    for t in range(tiles):
        d.fabricate(1, t)
    layer = memtile.Layer(d, p, 200, 10, w_max=0.5, max_batch=16)
    rng = np.random.default_rng(0)
    w = rng.uniform(-0.5, 0.5, (200, 10)).astype(np.float32)
    assert layer.program(w)["programmed"] == 2000
    w[3, 4] += 0.3
    res = layer.program(w)
    assert res["programmed"] == 1 and res["skipped"] == 1999
    wq = layer.weights()
    assert np.abs(wq - np.clip(w, -0.5, 0.5)).max() <= layer.delta / 2 + 1e-6
    x = rng.uniform(0, 1, (40, 200)).astype(np.float32)  # 40 > max_batch: chunks
    y = layer.matmul(x)
    ref = x @ wq
    assert np.abs(y - ref).max() < 0.02 * np.abs(ref).max()
    with pytest.raises(ValueError, match="shape"):
        layer.program(w[:10])
    with pytest.raises(memtile.MemtileError, match="need 2 tiles from tile 3"):
        memtile.Layer(d, p, 200, 10, first_tile=3)


def test_library_not_found_names_the_places(tmp_path, root, run):
    code = "import memtile\ntry:\n    memtile.Device()\nexcept memtile.LibraryNotFound as e:\n    print(e)\n"
    env = dict(os.environ, MEMTILE_LIB=str(tmp_path / "libnothing.so"))
    out = run([sys.executable, "-c", code], env=env, cwd=os.path.join(root, "python"))
    assert "libmemtile not found" in out.stdout and "libnothing.so" in out.stdout, out.stderr
