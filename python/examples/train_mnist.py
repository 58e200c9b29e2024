#!/usr/bin/env python3
"""Trains a 784-H-10 MLP on MNIST from Python with both layers on a memtile device.

    python3 python/examples/train_mnist.py --quick                 # well under a minute
    python3 python/examples/train_mnist.py --epochs 3 --preset rram --device model://
    python3 python/examples/train_mnist.py --quick --device verilator://   # on the RTL (Verilator)

Forward products run on the device (the programmed levels, with its noise and ADC),
gradients are float, and each step programs only the weights whose level changed (the
Siamese sparse update of docs/algorithms.md). With --backend torch (default where torch is
importable) the network is torch.nn.Sequential(TileLinear, ReLU, TileLinear) trained by
torch.optim.SGD with memtile.torch.attach_sparse_update; with --backend numpy the same
network is trained with memtile.nn.DeviceLinear and numpy.
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))  # the package beside this example, if not installed
import memtile  # noqa: E402
from memtile.nn import DeviceLinear  # noqa: E402


def find_data(arg):
    if arg:  # the user's directory, and only it
        if any(os.path.exists(os.path.join(arg, "train-labels-idx1-ubyte" + z)) for z in ("", ".gz")):
            return arg
        sys.exit("train_mnist.py: MNIST not found in %s (the four IDX files of MNIST, plain or .gz)" % arg)
    cands = []
    if os.environ.get("MEMTILE_DATA"):
        cands.append(os.path.join(os.environ["MEMTILE_DATA"], "mnist"))
    cands += [os.path.join(HERE, "..", "..", "..", "shared", "data", "mnist"),
              os.path.expanduser("~/.cache/memtile/data/mnist")]
    for d in cands:
        if any(os.path.exists(os.path.join(d, "train-labels-idx1-ubyte" + z)) for z in ("", ".gz")):
            return d
    sys.exit("train_mnist.py: MNIST not found in %s (--data DIR, or scripts/get-data.sh)" % ", ".join(
        c for c in cands if c))


def read_idx(path, limit):
    """An IDX file (plain or gzip) as a uint8 array, the first `limit` items."""
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            break
    else:
        sys.exit("train_mnist.py: %s: no such file" % path)
    with open(p, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        sys.exit("train_mnist.py: %s: not an IDX file of unsigned bytes" % p)
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(nd)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd)
    if data.size != int(np.prod(dims)):
        sys.exit("train_mnist.py: %s: %d bytes of data, the header says %d" % (p, data.size, int(np.prod(dims))))
    n = min(limit, dims[0]) if limit else dims[0]
    return data.reshape(dims)[:n]


def load(d, train_limit, test_limit):
    xs = [read_idx(os.path.join(d, f), lim).reshape(-1, 784).astype(np.float32) / 255.0
          for f, lim in (("train-images-idx3-ubyte", train_limit), ("t10k-images-idx3-ubyte", test_limit))]
    ys = [read_idx(os.path.join(d, f), lim).astype(np.int64)
          for f, lim in (("train-labels-idx1-ubyte", train_limit), ("t10k-labels-idx1-ubyte", test_limit))]
    return xs[0], ys[0], xs[1], ys[1]


def softmax_grad(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
    p[np.arange(len(y)), y] -= 1
    return loss, p / len(y)


def train_numpy(a, dev, xtr, ytr, xte, yte):
    l1 = DeviceLinear(784, a.hidden, device=dev, preset=a.preset_obj, seed=a.seed, max_batch=a.eval_batch)
    l2 = DeviceLinear(a.hidden, 10, device=dev, preset=a.preset_obj, seed=a.seed + 100, max_batch=a.eval_batch)
    rng = np.random.default_rng(a.seed)

    def predict(x):
        return l2.forward(np.maximum(l1.forward(x), 0))

    for epoch in range(1, a.epochs + 1):
        t0, losses = time.time(), []
        order = rng.permutation(len(xtr))
        for s in range(0, len(order), a.batch):
            idx = order[s:s + a.batch]
            h = l1.forward(xtr[idx])
            hr = np.maximum(h, 0)
            loss, g = softmax_grad(l2.forward(hr), ytr[idx])
            losses.append(loss)
            gh = l2.backward(g) * (h > 0)
            l1.backward(gh)
            l2.update(a.lr)
            l1.update(a.lr)
        acc = np.mean(np.concatenate([predict(xte[s:s + a.eval_batch]).argmax(1)
                                      for s in range(0, len(xte), a.eval_batch)]) == yte)
        report(epoch, np.mean(losses), acc, dev, [l1.totals, l2.totals], time.time() - t0)
    return acc


def train_torch(a, dev, xtr, ytr, xte, yte):
    import torch
    from memtile.torch import TileLinear, attach_sparse_update
    torch.manual_seed(a.seed)
    l1 = TileLinear(784, a.hidden, device=dev, preset=a.preset_obj, seed=a.seed, max_batch=a.eval_batch)
    l2 = TileLinear(a.hidden, 10, device=dev, preset=a.preset_obj, seed=a.seed + 100, max_batch=a.eval_batch)
    model = torch.nn.Sequential(l1, torch.nn.ReLU(), l2)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr)
    attach_sparse_update(opt, model)
    xtr_t, ytr_t, xte_t = torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(xte)
    g = torch.Generator().manual_seed(a.seed)
    for epoch in range(1, a.epochs + 1):
        t0, losses = time.time(), []
        order = torch.randperm(len(xtr_t), generator=g)
        for s in range(0, len(order), a.batch):
            idx = order[s:s + a.batch]
            loss = torch.nn.functional.cross_entropy(model(xtr_t[idx]), ytr_t[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            pred = torch.cat([model(xte_t[s:s + a.eval_batch]).argmax(1) for s in range(0, len(xte_t), a.eval_batch)])
        acc = float((pred.numpy() == yte).mean())
        report(epoch, np.mean(losses), acc, dev, [l1.core.totals, l2.core.totals], time.time() - t0)
    return acc


def report(epoch, loss, acc, dev, totals, wall):
    st = dev.stats()
    prog = sum(t["programmed"] for t in totals)
    skip = sum(t["skipped"] for t in totals)
    print("epoch %d  loss %.4f  test %.2f%%  programmed %d  skipped %d  pulses %d+%d  energy %.4g uJ  %.1f s"
          % (epoch, loss, 100 * acc, prog, skip, st["set_pulses"], st["reset_pulses"], st["energy_fj"] * 1e-9, wall),
          flush=True)
    if dev.uri.startswith("verilator://"):  # the RTL's clock: what the run costs the device
        print("  sim_cycles %d" % dev.cycles(), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="20,000 training and 2,000 test images, 1 epoch")
    ap.add_argument("--data", help="directory with the MNIST IDX files")
    ap.add_argument("--device", default="model://", help="device URI (default model://, sized to the network)")
    ap.add_argument("--preset", default="rram")
    ap.add_argument("--levels", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-limit", type=int, default=0)
    ap.add_argument("--test-limit", type=int, default=0)
    ap.add_argument("--backend", choices=("auto", "torch", "numpy"), default="auto")
    a = ap.parse_args()
    if a.quick:
        a.train_limit, a.test_limit, a.epochs = a.train_limit or 20000, a.test_limit or 2000, 1
    a.eval_batch = 256
    if a.backend == "auto":
        try:
            import torch  # noqa: F401
            a.backend = "torch"
        except ImportError:
            a.backend = "numpy"
    xtr, ytr, xte, yte = load(find_data(a.data), a.train_limit, a.test_limit)
    a.preset_obj = memtile.Preset(a.preset, levels=a.levels)
    uri = a.device
    tiles = memtile.Layer.tiles_needed(784, a.hidden) + memtile.Layer.tiles_needed(a.hidden, 10)
    if uri.startswith("model://") and "tiles=" not in uri:
        uri = "model://?tiles=%d" % tiles
    dev = memtile.Device(uri)
    dev.apply_preset(a.preset_obj)
    print("memtile %s (%s), device %s, preset %s with %d levels, 784-%d-10, %d training / %d test images, "
          "backend %s" % (memtile.__version__, memtile.library_path(), dev.uri, a.preset_obj.name,
                          a.preset_obj.levels, a.hidden, len(xtr), len(xte), a.backend), flush=True)
    acc = (train_torch if a.backend == "torch" else train_numpy)(a, dev, xtr, ytr, xte, yte)
    print("final test accuracy %.2f%%" % (100 * acc))


if __name__ == "__main__":
    main()
