"""PyTorch layers on a memtile device (needs torch; the rest of the package does not).

    from memtile.torch import TileLinear, attach_sparse_update
    model = torch.nn.Sequential(TileLinear(784, 100), torch.nn.ReLU(), TileLinear(100, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    attach_sparse_update(opt, model)    # after every opt.step(): program the level changes

TileLinear's forward is the MVM on the device (model:// or verilator:// through
libmemtile); its backward is the usual float gradient of x @ W^T + b with the float
(shadow) weights; the optimizer updates the shadow weights, and the sparse-update hook
programs only the weights whose level changed (memtile.nn.DeviceLinear).
"""
import numpy as np
import torch
from torch import nn

from .nn import DeviceLinear

__all__ = ["TileLinear", "attach_sparse_update", "program_all"]


class _DeviceMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, core):
        ctx.save_for_backward(x, weight)
        y = core.layer.matmul(x.detach().to("cpu", torch.float32).numpy())
        return torch.from_numpy(y).to(device=x.device, dtype=x.dtype)

    @staticmethod
    def backward(ctx, gy):
        x, weight = ctx.saved_tensors
        gx, gw = DeviceLinear.linear_grads(x, gy, weight)  # the float gradient (works on tensors)
        return (gx if ctx.needs_input_grad[0] else None), (gw if ctx.needs_input_grad[1] else None), None


class TileLinear(nn.Module):
    """nn.Linear whose products run on a memtile device. weight is (out_features,
    in_features) as in nn.Linear and holds the float shadow weights; the device holds their
    levels. Arguments after bias are DeviceLinear's (device URI or memtile.Device, preset,
    levels, w_max, seed, max_batch)."""

    def __init__(self, in_features, out_features, bias=True, **device_args):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.core = DeviceLinear(in_features, out_features, bias=False, **device_args)
        self.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(self.core.w.T)))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        lead = x.shape[:-1]
        y = _DeviceMatmul.apply(x.reshape(-1, self.in_features), self.weight, self.core)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*lead, self.out_features)

    @torch.no_grad()
    def program(self):
        """Programs the level changes of the shadow weights (clipped to the top level's
        weight, DeviceLinear.program_out_in); returns the PROGRAM counts."""
        w = self.weight.detach().to("cpu", torch.float32).numpy().copy()
        res = self.core.program_out_in(w)
        self.weight.copy_(torch.from_numpy(w))
        return res

    def extra_repr(self):
        return "in_features=%d, out_features=%d, device=%s, preset=%s" % (
            self.in_features, self.out_features, self.core.device.uri, self.core.preset.name)


def program_all(model):
    """Programs every TileLinear of model; the summed counts."""
    total = {"programmed": 0, "skipped": 0, "wv_failures": 0}
    for m in model.modules():
        if isinstance(m, TileLinear):
            for k, v in m.program().items():
                total[k] += v
    return total


def attach_sparse_update(optimizer, model):
    """After every optimizer.step(), the gradient step's level changes are programmed into
    the devices (the sparse update). Returns the hook's handle (handle.remove() detaches)."""
    def hook(opt, args, kwargs):
        program_all(model)
    return optimizer.register_step_post_hook(hook)
