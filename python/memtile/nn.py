"""A fully connected layer whose weights live on a memtile device, with numpy only.

DeviceLinear keeps float shadow weights (as the Siamese method of docs/algorithms.md does):
forward runs x @ W on the device (the programmed levels, with the device's noise and ADC),
backward gives the usual float gradients, and update() applies them to the shadow weights and
programs only the weights whose level changed (the sparse update). memtile.torch.TileLinear
wraps the same object for PyTorch.
"""
import math

import numpy as np

from . import Device, Layer, Preset


class DeviceLinear:
    """y = x W + b, W (n_in, n_out) on tiles of `device` (a Device, or a URI for a device of
    its own, sized to the layer). preset: a Preset or a name; levels overrides its level
    count; w_max is the weight of the top level (default 2 sqrt(6 / n_in), as memtile train);
    seed draws the initial weights and fabricates the tiles."""

    def __init__(self, n_in, n_out, device="model://", preset="rram", levels=None, w_max=None, seed=1,
                 max_batch=256, bias=True):
        if not isinstance(preset, Preset):
            preset = Preset(preset, levels=levels)
        elif levels is not None:
            preset.use_levels(levels)
        tiles = Layer.tiles_needed(n_in, n_out)
        if isinstance(device, str):
            uri = device
            if uri.startswith("model://") and "tiles=" not in uri:
                uri = "model://?tiles=%d" % tiles
            device = Device(uri)
            device.apply_preset(preset)
        first = device.allocate_tiles(tiles)
        for t in range(first, first + tiles):
            device.fabricate(seed + t, t)
        self.device, self.preset = device, preset
        self.n_in, self.n_out = n_in, n_out
        w_max = 2.0 * math.sqrt(6.0 / n_in) if w_max is None else w_max
        self.layer = Layer(device, preset, n_in, n_out, first, w_max, max_batch)
        bound = math.sqrt(6.0 / (n_in + n_out))
        rng = np.random.default_rng(seed)
        self.w = rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32)
        self.b = np.zeros(n_out, dtype=np.float32) if bias else None
        self.totals = {"programmed": 0, "skipped": 0, "wv_failures": 0}
        self.program()
        self._x = None

    def program(self, w=None):
        """Programs the shadow weights (or w): only the levels that changed are written."""
        if w is not None:
            self.w = np.ascontiguousarray(w, dtype=np.float32)
        res = self.layer.program(self.w)
        for k in self.totals:
            self.totals[k] += res[k]
        return res

    def forward(self, x):
        self._x = np.asarray(x, dtype=np.float32)
        y = self.layer.matmul(self._x)
        return y + self.b if self.b is not None else y

    def backward(self, gy):
        """Float gradients of the loss: returns d/dx and stores d/dW, d/db for update()."""
        gy = np.asarray(gy, dtype=np.float32)
        self.gw = self._x.T @ gy
        self.gb = gy.sum(axis=0) if self.b is not None else None
        return gy @ self.w.T

    def update(self, lr):
        """SGD step on the shadow weights, then the sparse programming of the device."""
        self.w -= lr * self.gw
        np.clip(self.w, -self.layer_w_max(), self.layer_w_max(), out=self.w)
        if self.b is not None:
            self.b -= lr * self.gb
        return self.program()

    def program_out_in(self, weight):
        """Programs weights in nn.Linear's layout (n_out, n_in), as memtile.torch.TileLinear
        holds them: clipped in place to the top level's weight (the shadow weights stay in the
        range the levels cover), then programmed as W = weight.T. Returns the PROGRAM counts."""
        if weight.shape != (self.n_out, self.n_in):
            raise ValueError("weight: shape %s, expected (%d, %d)" % (weight.shape, self.n_out, self.n_in))
        w_top = self.layer_w_max()
        np.clip(weight, -w_top, w_top, out=weight)
        return self.program(np.ascontiguousarray(weight.T))

    @staticmethod
    def linear_grads(x, gy, weight):
        """Float gradients of y = x weight.T (nn.Linear's layout): (d/dx, d/dweight)."""
        return gy @ weight, gy.T @ x

    def layer_w_max(self):
        """The weight of the top level: shadow weights are kept within it."""
        return self.layer.delta * (self.preset.levels - 1) / 2.0
