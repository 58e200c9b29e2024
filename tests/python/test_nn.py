"""memtile.nn.DeviceLinear: device forward, float backward, sparse programming; and the
MNIST example trained from Python (numpy backend, no torch needed)."""
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import memtile
from memtile.nn import DeviceLinear

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_forward_is_the_device_product_and_backward_the_float_gradient():
    lin = DeviceLinear(50, 8, device="model://", preset="ideal", levels=32, seed=3)
    assert lin.device.info["tiles"] == 1  # a device of its own, sized to the layer
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (5, 50)).astype(np.float32)
    y = lin.forward(x)
    ref = x @ lin.layer.weights() + lin.b
    assert np.abs(y - ref).max() < 0.05 * np.abs(ref).max()  # DAC and ADC quantization (ideal preset: no noise)
    gy = rng.normal(size=(5, 8)).astype(np.float32)
    gx = lin.backward(gy)
    np.testing.assert_allclose(gx, gy @ lin.w.T, rtol=1e-5)
    np.testing.assert_allclose(lin.gw, x.T @ gy, rtol=1e-5)
    np.testing.assert_allclose(lin.gb, gy.sum(0), rtol=1e-5)


def test_update_programs_only_changed_levels():
    lin = DeviceLinear(40, 6, device="model://", preset="rram", seed=2)
    first = lin.totals["programmed"]
    assert first == 240
    lin._x = np.zeros((1, 40), dtype=np.float32)
    lin.gw = np.zeros((40, 6), dtype=np.float32)
    lin.gb = np.zeros(6, dtype=np.float32)
    lin.gw[0, 0] = -10 * lin.layer.delta  # one weight moves by 10 levels at lr 1
    res = lin.update(1.0)
    assert res["programmed"] == 1 and res["skipped"] == 239
    assert lin.device.stats()["cells_programmed"] == 241


def test_shared_device_allocates_tiles():
    dev = memtile.Device("model://?tiles=3")
    p = memtile.Preset("rram")
    dev.apply_preset(p)
    a = DeviceLinear(200, 10, device=dev, preset=p)   # 2 tiles
    b = DeviceLinear(10, 10, device=dev, preset=p)    # 1 tile
    assert (a.layer is not b.layer) and dev._next_tile == 3
    with pytest.raises(ValueError, match="1 more tiles needed, 0 of 3 left"):
        DeviceLinear(10, 10, device=dev, preset=p)


def test_example_trains_mnist_from_python():
    data = os.path.join(ROOT, "..", "shared", "data", "mnist")
    if not os.path.isdir(data):
        pytest.skip("no MNIST in ../shared/data/mnist")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "python", "examples", "train_mnist.py"),
                          "--backend", "numpy", "--train-limit", "3000", "--test-limit", "500", "--epochs", "1",
                          "--hidden", "32", "--data", data], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    acc = float(out.stdout.split("final test accuracy ")[1].rstrip("%\n"))
    print(out.stdout)
    assert acc > 75.0
    assert "skipped" in out.stdout and "backend numpy" in out.stdout


def test_example_names_missing_data(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "python", "examples", "train_mnist.py"),
                          "--backend", "numpy", "--data", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "MNIST not found in %s" % tmp_path in out.stderr


def test_pip_builds_the_package(tmp_path):
    """`pip install ./python` builds this wheel (offline: no build isolation)."""
    src = tmp_path / "src"
    subprocess.run(["cp", "-r", os.path.join(ROOT, "python"), str(src)], check=True)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "--no-index", str(src), "-w", str(tmp_path / "dist")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    wheel = next((tmp_path / "dist").glob("memtile-0.1.0-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"memtile/__init__.py", "memtile/_lib.py", "memtile/nn.py", "memtile/torch.py"} <= set(names)
