"""memtile.torch.TileLinear (skipped where torch is not importable: CI does not install it)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from memtile.torch import TileLinear, attach_sparse_update  # noqa: E402


def test_forward_on_the_device_backward_float():
    torch.manual_seed(0)
    lin = TileLinear(30, 5, device="model://", preset="ideal", levels=32)
    x = torch.rand(4, 30, requires_grad=True)
    y = lin(x)
    wq = torch.from_numpy(lin.core.layer.weights())  # (in, out): what the device holds
    ref = x.detach() @ wq + lin.bias.detach()
    assert (y.detach() - ref).abs().max() < 0.05 * ref.abs().max()  # DAC and ADC quantization
    gy = torch.randn(4, 5)
    y.backward(gy)
    assert torch.allclose(x.grad, gy @ lin.weight.detach(), rtol=1e-5, atol=1e-6)
    assert torch.allclose(lin.weight.grad, gy.t() @ x.detach(), rtol=1e-5, atol=1e-6)
    assert torch.allclose(lin.bias.grad, gy.sum(0))


def test_sparse_update_hook_programs_level_changes():
    lin = TileLinear(20, 4, device="model://", preset="rram")
    opt = torch.optim.SGD(lin.parameters(), lr=1.0)
    attach_sparse_update(opt, lin)
    before = lin.core.totals["programmed"]
    opt.zero_grad()
    lin.weight.grad = torch.zeros_like(lin.weight)
    lin.weight.grad[0, 0] = -8 * lin.core.layer.delta
    opt.step()
    assert lin.core.totals["programmed"] == before + 1
    np.testing.assert_allclose(lin.core.w, lin.weight.detach().numpy().T)


def test_trains_a_small_problem():
    torch.manual_seed(1)
    x = torch.rand(256, 16)
    labels = (x[:, :8].sum(1) > x[:, 8:].sum(1)).long()
    model = torch.nn.Sequential(TileLinear(16, 16, preset="ideal", levels=64), torch.nn.ReLU(),
                                TileLinear(16, 2, preset="ideal", levels=64))
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    attach_sparse_update(opt, model)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = (model(x).argmax(1) == labels).float().mean().item()
    assert acc > 0.85
