"""Kronecker factors of layer Hessians (Wu et al. 2020, Secs 3-4, App. A, C) against dense float64
references from torch.autograd.functional.hessian / jacobian."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hessian_spectra.hessian import ggn_operator
from hessian_spectra.models import lenet5
from hessian_spectra.structure import (
    find_layer,
    input_autocorrelation,
    kronecker_eigenpairs,
    kronecker_factors,
    output_hessian,
)

torch.set_num_threads(1)
TOL = 1e-12  # relative, float64


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def _mlp(act: type[nn.Module] = nn.ReLU, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 6), act(), nn.Linear(6, 4), act(), nn.Linear(4, 3)).double()


def _data(n: int, shape: tuple[int, ...] = (5,), c: int = 3, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, *shape, generator=g, dtype=torch.float64), torch.randint(0, c, (n,), generator=g)


def _param_hessian(model: nn.Module, name: str, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Autograd Hessian of the mean cross-entropy in one parameter, flattened row-major."""
    params = dict(model.named_parameters())
    p0 = params[name].detach()

    def f(w: torch.Tensor) -> torch.Tensor:
        out = torch.func.functional_call(model, {**params, name: w.view_as(p0)}, (x,))
        return F.cross_entropy(out, y)

    return torch.autograd.functional.hessian(f, p0.reshape(-1).clone())


def test_single_sample_factorisation_is_exact() -> None:
    """One sample: H_ℓ(w, x) = M_x ⊗ x xᵀ (Eq. 17), so E[M ⊗ xxᵀ] = E[M] ⊗ E[xxᵀ] exactly."""
    model = _mlp()
    x, y = _data(1)
    f = kronecker_factors(model, "fc2", (x, y))
    H = _param_hessian(model, "2.weight", x, y)
    assert f.kind == "linear" and (f.m, f.n, f.num_samples) == (4, 6, 1)
    assert _rel(f.approximate_hessian(), H) < TOL


def test_layer_hessian_is_mean_of_per_sample_kronecker_products() -> None:
    """Inventory 000 fact 1: the exact layer Hessian of a 3-layer ReLU MLP equals E[M_x ⊗ x xᵀ]; the
    bias block equals E[M] (Eq. 27); batches do not change the factors."""
    model = _mlp()
    x, y = _data(13)
    H = _param_hessian(model, "2.weight", x, y)
    per_sample = [kronecker_factors(model, "fc2", (x[i : i + 1], y[i : i + 1])) for i in range(13)]
    E_kron = sum(torch.kron(f.output_hessian, f.input_autocorrelation) for f in per_sample) / 13
    assert _rel(E_kron, H) < TOL
    f = kronecker_factors(model, model[2], (x, y), batch_size=5)
    assert f.exact and f.num_samples == 13
    assert _rel(f.output_hessian, _param_hessian(model, "2.bias", x, y)) < TOL
    assert _rel(f.output_hessian, sum(g.output_hessian for g in per_sample) / 13) < TOL
    X = torch.relu(model[0](x)).detach()  # the layer's inputs
    assert _rel(f.input_autocorrelation, X.T @ X / 13) < TOL
    assert _rel(f.input_mean, X.mean(0)) < TOL
    assert _rel(f.input_covariance, torch.cov(X.T, correction=0)) < TOL
    # the decoupling conjecture is an approximation: it is not exact over several samples
    assert _rel(f.approximate_hessian(), H) > 1e-3
    assert _rel(output_hessian(model, "2", (x, y), 4), f.output_hessian) < TOL
    assert _rel(input_autocorrelation(model, "fc2", (x, y), 4), f.input_autocorrelation) < TOL


def test_smooth_activation_gives_the_gauss_newton_output_hessian() -> None:
    """With tanh after the layer E[M] = E[GᵀAG] is the GGN bias block, not the Hessian's (Eq. 18)."""
    model = _mlp(nn.Tanh)
    x, y = _data(9)
    f = kronecker_factors(model, "fc1", (x, y))
    assert not f.exact and any("Tanh" in s for s in f.not_piecewise_linear)
    ggn_bias = ggn_operator(model, F.cross_entropy, (x, y), params=["0.bias"]).to_dense()
    assert _rel(f.output_hessian, ggn_bias) < TOL
    assert _rel(f.output_hessian, _param_hessian(model, "0.bias", x, y)) > 1e-3


def test_kronecker_eigenpairs_equal_eigh_of_the_explicit_product() -> None:
    g = torch.Generator().manual_seed(3)
    A = torch.randn(4, 4, generator=g, dtype=torch.float64)
    B = torch.randn(7, 9, generator=g, dtype=torch.float64)
    EM, Exx = A @ A.T, B @ B.T / 9
    K = torch.kron(EM, Exx)
    evals, evecs = torch.linalg.eigh(K)
    evals, evecs = evals.flip(0), evecs.flip(1)
    k = 12
    res = kronecker_eigenpairs(EM, Exx, k)
    assert float((res.eigenvalues - evals[:k]).abs().max()) < 1e-12 * float(evals[0])
    # generic factors: simple eigenvalues, so each vector agrees up to sign
    dots = (res.eigenvectors * evecs[:, :k]).sum(0).abs()
    assert float((dots - 1).abs().max()) < 1e-10
    assert float((K @ res.eigenvectors - res.eigenvectors * res.eigenvalues).abs().max()) < 1e-12 * float(evals[0])
    # u_a ⊗ v_b = vec(u_a v_bᵀ) row-major, indices from descending factor eigenpairs
    tau, U = torch.linalg.eigh(EM)
    gam, V = torch.linalg.eigh(Exx)
    U, V = U.flip(1), V.flip(1)
    a, b = int(res.output_index[3]), int(res.input_index[3])
    assert torch.allclose(res.eigenvectors[:, 3], torch.outer(U[:, a], V[:, b]).reshape(-1))
    with pytest.raises(ValueError, match="k must be"):
        kronecker_eigenpairs(EM, Exx, 0)
    with pytest.raises(ValueError, match="square"):
        kronecker_eigenpairs(EM[:, :3], Exx, 2)


def _cnn(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, stride=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 3)).double()


def _conv_reference(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Brute force for the conv layer model[0]: E[M̂] (Eq. 36), E[XXᵀ], and per-sample full
    M_x = G_xᵀ A_x G_x (mP × mP) from explicit Jacobians."""
    conv, rest = model[0], model[1:]
    Ms, Mfull, XX = [], [], []
    for i in range(x.shape[0]):
        z0 = conv(x[i : i + 1]).detach()
        G = torch.autograd.functional.jacobian(lambda z: rest(z)[0], z0).reshape(3, -1)  # (c, mP)
        p = torch.softmax(rest(z0)[0].detach(), 0)
        A = torch.diag(p) - torch.outer(p, p)
        Mfull.append(G.T @ A @ G)
        Q = torch.diag(p.sqrt()) @ (torch.eye(3, dtype=p.dtype) - torch.outer(torch.ones(3, dtype=p.dtype), p))
        Nx = (Q @ G).reshape(3, 3, -1)  # (c, m, P)
        P = Nx.shape[-1]
        Nhat = Nx.permute(0, 2, 1).reshape(-1, 3)  # (cP, m)
        Ms.append(Nhat.T @ Nhat / P)
        X = F.unfold(x[i : i + 1], 3, padding=1)[0]  # (nK1K2, P)
        XX.append(X @ X.T)
    return sum(Ms) / len(Ms), sum(XX) / len(XX), Mfull


def test_conv_factors_match_their_definition_and_eq32() -> None:
    """App. A.2: E[XXᵀ] of the unfolded inputs, E[M̂] = E[(1/P) N̂ᵀN̂] (Eq. 36); the brute-force
    per-sample M_x reproduces the exact conv weight Hessian through Eq. 32."""
    model = _cnn()
    x, y = _data(5, (2, 4, 4))
    f = kronecker_factors(model, "conv1", (x, y), batch_size=2)
    E_M, E_XX, Mfull = _conv_reference(model, x)
    assert f.kind == "conv" and (f.m, f.n, f.num_positions) == (3, 18, 16) and f.exact
    assert _rel(f.output_hessian, E_M) < TOL
    assert _rel(f.input_autocorrelation, E_XX) < TOL
    assert f.input_mean.shape == (18, 16)
    assert _rel(f.input_mean, F.unfold(x, 3, padding=1).mean(0)) < TOL
    H = _param_hessian(model, "0.weight", x, y)
    eq32 = 0
    for i in range(5):
        X = F.unfold(x[i : i + 1], 3, padding=1)[0]
        J = torch.kron(torch.eye(3, dtype=X.dtype), X.T.contiguous())  # ∂z/∂w = I_m ⊗ Xᵀ  (mP × m nK1K2)
        eq32 = eq32 + J.T @ Mfull[i] @ J
    assert _rel(eq32 / 5, H) < TOL
    # scale check (inventory 000 fact 8): with the 1/P normalisation the traces are of one order
    ratio = float(torch.trace(f.approximate_hessian()) / torch.trace(H))
    assert 0.2 < ratio < 5
    assert _rel(input_autocorrelation(model, "conv1", (x, y), 3), f.input_autocorrelation) < TOL


def test_conv_with_one_position_is_a_linear_layer() -> None:
    """P = 1 (kernel = input size): App. A.2 reduces to Eq. 17, exact for one sample."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4, 3)).double()
    x, y = _data(1, (2, 3, 3))
    f = kronecker_factors(model, "conv1", (x, y))
    assert f.num_positions == 1
    assert _rel(f.approximate_hessian(), _param_hessian(model, "0.weight", x, y)) < TOL


def test_layer_names_and_errors() -> None:
    net = lenet5(in_channels=3)
    assert find_layer(net, "fc1")[0] == "7" and find_layer(net, "conv2")[0] == "3"
    assert find_layer(net, "fc3")[0] == "11" and find_layer(net, net[9])[0] == "9"
    model = _mlp()
    x, y = _data(3)
    with pytest.raises(ValueError, match="nn.Linear or nn.Conv2d"):
        kronecker_factors(model, "1", (x, y))
    with pytest.raises(ValueError, match="3 Linear layers"):
        kronecker_factors(model, "fc4", (x, y))
    with pytest.raises(ValueError, match="unknown layer"):
        kronecker_factors(model, "dense1", (x, y))
    with pytest.raises(ValueError, match="not a submodule"):
        kronecker_factors(model, nn.Linear(2, 2), (x, y))
    grouped = nn.Sequential(nn.Conv2d(2, 2, 3, groups=2), nn.Flatten(), nn.Linear(2, 3)).double()
    with pytest.raises(ValueError, match="groups"):
        kronecker_factors(grouped, "conv1", _data(2, (2, 3, 3)))


def test_input_moments_of_several_layers_equal_the_factors() -> None:
    """input_moments: E[x xᵀ] and E[x] (E[X] for conv) of several layers in one forward pass equal the ones
    kronecker_factors computes layer by layer, for every named layer of a ResNet18-Wk (shortcut convs too)."""
    from hessian_spectra.models import resnet18
    from hessian_spectra.structure.kronecker import input_moments
    torch.manual_seed(0)
    net = resnet18(num_classes=3, width=2, batch_norm=False).double().eval()
    x, y = _data(4, (3, 8, 8))
    layers = ["conv2", "sc-conv1", "conv17", "fc1"]
    mom = input_moments(net, layers, (x, y), batch_size=3)
    assert list(mom) == layers
    for layer in layers:
        f = kronecker_factors(net, layer, (x, y))
        assert _rel(mom[layer]["autocorrelation"], f.input_autocorrelation) < TOL
        assert _rel(mom[layer]["mean"], f.input_mean) < TOL
    with pytest.raises(ValueError, match="unknown layer"):
        input_moments(net, ["conv99x"], (x, y))
