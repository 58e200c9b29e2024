"""memtile.nn.DeviceLinear: device forward, float backward, sparse programming; and the
MNIST example trained from Python (numpy backend, no torch needed)."""
import os
import sys
import zipfile

import numpy as np
import pytest

import memtile
from memtile.nn import DeviceLinear


@pytest.fixture
def train_mnist(root, run):
    """train_mnist(*args, check=None, timeout=600): python/examples/train_mnist.py run as `run` does."""
    return lambda *args, check=None, timeout=600: run(
        [sys.executable, os.path.join(root, "python", "examples", "train_mnist.py"), *args], check=check,
        timeout=timeout)


@pytest.fixture
def mnist(root):
    """The MNIST files beside the tree (../shared/data/mnist); the test is skipped without them."""
    data = os.path.join(root, "..", "shared", "data", "mnist")
    if not os.path.isdir(data):
        pytest.skip("no MNIST in ../shared/data/mnist")
    return data


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


def test_tilelinear_numpy_parts():
    """What memtile.torch.TileLinear does without torch: nn.Linear's (out, in) layout clipped to
    the top level and programmed transposed, and the float gradients of x weight.T."""
    lin = DeviceLinear(12, 5, device="model://", preset="ideal", levels=32, seed=4)
    rng = np.random.default_rng(2)
    w = rng.uniform(-1, 1, (5, 12)).astype(np.float32) * 3 * lin.layer_w_max()
    before = lin.totals["programmed"]
    res = lin.program_out_in(w)
    assert np.abs(w).max() <= lin.layer_w_max() + 1e-7  # clipped in place
    assert res["programmed"] > 0 and lin.totals["programmed"] == before + res["programmed"]
    np.testing.assert_allclose(lin.layer.weights(), w.T, atol=lin.layer.delta / 2 + 1e-6)
    with pytest.raises(ValueError, match="expected \\(5, 12\\)"):
        lin.program_out_in(w.T.copy())
    x = rng.normal(size=(3, 12)).astype(np.float32)
    gy = rng.normal(size=(3, 5)).astype(np.float32)
    gx, gw = DeviceLinear.linear_grads(x, gy, w)
    eps, k = 1e-3, (1, 7)  # d/dw of sum(gy * (x w.T)) by a finite difference
    w2 = w.copy()
    w2[k] += eps
    fd = (np.sum(gy * (x @ w2.T)) - np.sum(gy * (x @ w.T))) / eps
    assert abs(fd - gw[k]) < 1e-2 * max(1.0, abs(gw[k]))
    np.testing.assert_allclose(gx, gy @ w, rtol=1e-6)


def test_torch_module_says_it_needs_torch(root, run):
    code = "import memtile.torch"
    out = run([sys.executable, "-c", code], cwd=os.path.join(root, "python"))
    try:
        import torch  # noqa: F401
        assert out.returncode == 0, out.stderr
    except ImportError:
        assert out.returncode != 0 and "No module named 'torch'" in out.stderr


def test_shared_device_allocates_tiles():
    dev = memtile.Device("model://?tiles=3")
    p = memtile.Preset("rram")
    dev.apply_preset(p)
    a = DeviceLinear(200, 10, device=dev, preset=p)   # 2 tiles
    b = DeviceLinear(10, 10, device=dev, preset=p)    # 1 tile
    assert (a.layer is not b.layer) and dev._next_tile == 3
    with pytest.raises(ValueError, match="1 more tiles needed, 0 of 3 left"):
        DeviceLinear(10, 10, device=dev, preset=p)


def test_example_trains_mnist_from_python(train_mnist, mnist):
    out = train_mnist("--backend", "numpy", "--train-limit", "3000", "--test-limit", "500", "--epochs", "1",
                      "--hidden", "32", "--data", mnist, check=0)
    acc = float(out.stdout.split("final test accuracy ")[1].rstrip("%\n"))
    print(out.stdout)
    assert acc > 75.0
    assert "skipped" in out.stdout and "backend numpy" in out.stdout


@pytest.mark.skipif("verilator" not in memtile.backends(), reason="library built without verilator://")
def test_example_trains_on_verilator(train_mnist, mnist):
    """The same example with both layers on the RTL in Verilator (a short run: the quick one
    takes minutes there, docs/python.md)."""
    out = train_mnist("--backend", "numpy", "--device", "verilator://", "--train-limit", "300",
                      "--test-limit", "100", "--epochs", "1", "--hidden", "16", "--data", mnist, check=0)
    print(out.stdout)
    assert "device verilator://" in out.stdout and "sim_cycles" in out.stdout
    assert float(out.stdout.split("final test accuracy ")[1].rstrip("%\n")) > 30.0


def test_example_names_missing_data(tmp_path, train_mnist):
    out = train_mnist("--backend", "numpy", "--data", tmp_path, timeout=120)
    assert out.returncode != 0 and "MNIST not found in %s" % tmp_path in out.stderr


def test_pip_builds_the_package(tmp_path, root, run):
    """`pip install ./python` builds this wheel (offline: no build isolation)."""
    src = tmp_path / "src"
    run(["cp", "-r", os.path.join(root, "python"), src], check=0)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", src,
         "-w", tmp_path / "dist"], check=0, timeout=None)
    wheel = next((tmp_path / "dist").glob("memtile-0.1.0-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"memtile/__init__.py", "memtile/_lib.py", "memtile/nn.py", "memtile/torch.py",
            "memtile/train.py"} <= set(names)
