"""layer_hessian_matrix against the dense float64 Hessian block of the engine (autograd)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hessian_spectra.hessian import hessian_operator
from hessian_spectra.hessian.layerwise import layer_hessian_matrix


def _tiny_lenet() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 2 * 2, 5), nn.ReLU(), nn.Linear(5, 3)).double()


@pytest.mark.parametrize("layer", ["conv1", "conv2", "fc1", "fc2"])
def test_matches_autograd_block(layer):
    model = _tiny_lenet()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(17, 2, 8, 8, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (17,), generator=g)
    mods = [m for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    mod = mods[["conv1", "conv2", "fc1", "fc2"].index(layer)]
    ref = hessian_operator(model, F.cross_entropy, (x, y), params=[mod.weight]).to_dense()
    H = layer_hessian_matrix(model, layer, (x, y), batch_size=5)
    assert H.shape == (mod.weight.numel(),) * 2
    torch.testing.assert_close(H, (ref + ref.T) / 2, rtol=1e-9, atol=1e-12)


def test_refuses_non_piecewise_linear_downstream():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    x, y = torch.randn(6, 4, dtype=torch.float64), torch.tensor([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="not piecewise linear"):
        layer_hessian_matrix(model, "fc1", (x, y))
    G = layer_hessian_matrix(model, "fc1", (x, y), allow_gauss_newton=True)
    assert torch.allclose(G, G.T) and torch.linalg.eigvalsh(G).min() > -1e-12


@pytest.mark.parametrize("layer", ["conv11", "sc-conv2", "conv17", "fc1"])
def test_resnet18_w_layers_match_autograd(layer):
    """ResNet18-Wk (no BN; residual additions and identity shortcuts are linear): the per-sample factors give the
    exact layer Hessian of the paper's named layers, shortcut convolutions included."""
    from hessian_spectra.hessian.layerwise import find_layer
    from hessian_spectra.models import resnet18
    torch.manual_seed(0)
    model = resnet18(num_classes=4, width=2, batch_norm=False).double().eval()
    g = torch.Generator().manual_seed(2)
    x = torch.randn(5, 3, 16, 16, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (5,), generator=g)
    _, mod = find_layer(model, layer)
    ref = hessian_operator(model, F.cross_entropy, (x, y), params=[mod.weight]).to_dense()
    H = layer_hessian_matrix(model, layer, (x, y), batch_size=2)
    torch.testing.assert_close(H, (ref + ref.T) / 2, rtol=1e-9, atol=1e-14)
