"""The structured layer-wise Hessian of a fully connected layer (hessian/layerwise.py; Wu et al. 2020,
Eqs. 6, 17, 24; inventory 000 §L1.3 and fact 2) against dense float64 layer Hessians."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hessian_spectra.hessian import (
    FCLayerHessianOperator,
    fc_layer_hessian,
    ggn_operator,
    hessian_operator,
    top_eigenpairs,
)
from hessian_spectra.hessian.layerwise import softmax_hessian_root
from hessian_spectra.models import lenet5

torch.set_num_threads(1)
TOL = 1e-12


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def _tiny_lenet(seed: int = 0) -> nn.Sequential:
    """conv + ReLU + max-pool + three fully connected layers: piecewise linear everywhere."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 7),
                         nn.ReLU(), nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 4)).double()


def _data(n: int, shape: tuple[int, ...], c: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, *shape, generator=g, dtype=torch.float64), torch.randint(0, c, (n,), generator=g)


def _autograd_hessian(model: nn.Module, name: str, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    params = dict(model.named_parameters())
    p0 = params[name].detach()

    def f(w: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(torch.func.functional_call(model, {**params, name: w.view_as(p0)}, (x,)), y)

    return torch.autograd.functional.hessian(f, p0.reshape(-1).clone())


@pytest.mark.parametrize("layer", ["fc1", "fc2", "fc3"])
def test_structured_product_equals_the_dense_layer_hessian(layer: str) -> None:
    model = _tiny_lenet()
    x, y = _data(17, (2, 6, 6), 4)
    op = fc_layer_hessian(model, layer, (x, y), batch_size=6)
    assert isinstance(op, FCLayerHessianOperator) and op.exact
    weight = {"fc1": "4.weight", "fc2": "6.weight", "fc3": "8.weight"}[layer]
    H = _autograd_hessian(model, weight, x, y)
    assert _rel(op.to_dense(), H) < TOL
    assert _rel(op.dense(), H) < TOL
    # several vectors per product (BLAS-3) and the engine's layer block
    V = torch.randn(op.shape[0], 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    engine = hessian_operator(model, F.cross_entropy, (x, y), params=[weight])
    assert _rel(op @ V, engine @ V) < TOL
    assert _rel(op @ V[:, 0], H @ V[:, 0]) < TOL
    # fact 2: the layer-wise Hessian block is the layer-wise GGN block, hence PSD
    assert _rel(ggn_operator(model, F.cross_entropy, (x, y), params=[weight]).to_dense(), H) < TOL
    assert float(torch.linalg.eigvalsh(H)[0]) > -1e-14


def test_chunks_and_batches_do_not_change_the_product() -> None:
    model = _tiny_lenet()
    x, y = _data(23, (2, 6, 6), 4)
    V = torch.randn(35, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    ref = fc_layer_hessian(model, "fc2", (x, y)) @ V
    out = fc_layer_hessian(model, "fc2", (x, y), batch_size=5, chunk_size=4) @ V
    assert _rel(out, ref) < TOL


def test_lenet5_fc1_product_and_top_eigenpairs() -> None:
    """LeNet5 fc1 (48,000 weights): products agree with the engine's layer block; Lanczos on the
    structured operator finds the engine's top eigenvalues."""
    torch.manual_seed(0)
    model = lenet5(in_channels=3).double()
    x, y = _data(8, (3, 32, 32), 10)
    op = fc_layer_hessian(model, "fc1", (x, y))
    assert op.shape == (48_000, 48_000) and op.exact
    V = torch.randn(48_000, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    engine = hessian_operator(model, F.cross_entropy, (x, y), params=[model[7].weight])
    assert _rel(op @ V, engine @ V) < 1e-11
    ev = top_eigenpairs(op, 3, tol=1e-10, generator=torch.Generator().manual_seed(0))
    Hv = engine @ ev.eigenvectors
    assert _rel(Hv, ev.eigenvectors * ev.eigenvalues) < 1e-8


def test_non_piecewise_linear_networks_raise_or_give_the_ggn_block() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    x, y = _data(9, (4,), 3)
    with pytest.raises(ValueError, match="not piecewise linear.*Tanh"):
        fc_layer_hessian(model, "fc1", (x, y))
    op = fc_layer_hessian(model, "fc1", (x, y), allow_gauss_newton=True)
    assert not op.exact and "Gauss-Newton" in repr(op)
    G = ggn_operator(model, F.cross_entropy, (x, y), params=["0.weight"]).to_dense()
    H = _autograd_hessian(model, "0.weight", x, y)
    assert _rel(op.to_dense(), G) < TOL
    assert _rel(op.to_dense(), H) > 1e-3  # the Hessian differs from its GGN block here
    # the last layer is followed by nothing: exact for any network
    assert fc_layer_hessian(model, "fc2", (x, y)).exact
    # batch norm with batch statistics is not piecewise linear; in eval mode it is affine
    bn = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 3)).double()
    with pytest.raises(ValueError, match="BatchNorm1d, train mode"):
        fc_layer_hessian(bn, "fc1", (x, y), eval_mode=False)
    assert fc_layer_hessian(bn, "fc1", (x, y)).exact


def test_bad_layers_raise() -> None:
    model = _tiny_lenet()
    x, y = _data(3, (2, 6, 6), 4)
    with pytest.raises(ValueError, match="needs an nn.Linear"):
        fc_layer_hessian(model, "conv1", (x, y))
    with pytest.raises(ValueError, match="chunk_size"):
        fc_layer_hessian(model, "fc1", (x, y), chunk_size=0)
    shared = nn.Linear(4, 4).double()
    twice = nn.Sequential(shared, nn.ReLU(), shared, nn.Linear(4, 2)).double()
    with pytest.raises(ValueError, match="ran twice"):
        fc_layer_hessian(twice, shared, _data(3, (4,), 2))


def test_softmax_hessian_root() -> None:
    """Inventory 000 fact 3: A = QᵀQ for Q = diag(√p)(I − 1pᵀ), and A·1 = 0."""
    z = torch.randn(6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    Q = softmax_hessian_root(z)
    p = torch.softmax(z, -1)
    A = torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)
    assert float((Q.transpose(1, 2) @ Q - A).abs().max()) < 1e-15
    assert float((A @ torch.ones(5, dtype=A.dtype)).abs().max()) < 1e-15
