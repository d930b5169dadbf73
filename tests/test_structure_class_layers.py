"""Layer-wise class structure (Papyan 2020, Sec. 7: features, backpropagated errors, G^l, KFAC, CFAC,
weights) against dense float64 references built per sample with torch.func and the engine's
ggn_operator."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hessian_spectra.hessian import ggn_operator
from hessian_spectra.structure import (
    KroneckerSumOperator,
    feature_class_moments,
    layer_class_statistics,
    projection_knockout,
)
from torch import nn

torch.set_num_threads(1)
C = 3
N = 30
TOL = 1e-12


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def _model(seed: int = 0) -> nn.Sequential:
    """The paper's MLP in miniature: bias-free Linear -> BN -> ReLU (footnote 4), linear classifier."""
    torch.manual_seed(seed)
    m = nn.Sequential(
        nn.Linear(5, 6, bias=False), nn.BatchNorm1d(6), nn.ReLU(),
        nn.Linear(6, 4, bias=False), nn.BatchNorm1d(4), nn.ReLU(),
        nn.Linear(4, C),
    ).double()
    with torch.no_grad():
        for bn in (m[1], m[4]):
            bn.running_mean.uniform_(-0.3, 0.3)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    return m.eval()


def _data(n: int = N, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g, dtype=torch.float64) + 0.5
    return x, (torch.arange(n) % C)[torch.randperm(n, generator=g)]


def _per_sample(m: nn.Sequential, split: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(h, δ, p): input features of Linear m[split] (N, d_in), errors δ_{i,c'} = J_l^T (p_i - e_{c'})
    at its output (N, C, d_out) from per-sample Jacobians of the tail, probabilities (N, C)."""
    head, tail = m[:split], m[split + 1:]
    with torch.no_grad():
        h = head(x)
        z = m[split](h)
        logits = tail(z)
    J = torch.func.vmap(torch.func.jacrev(lambda zz: tail(zz.unsqueeze(0)).squeeze(0)))(z)  # (N, C, d)
    p = torch.softmax(logits, -1)
    delta = torch.einsum("nkd,nk->nd", J, p)[:, None, :] - J
    return h.detach(), delta.detach(), p.detach()


@pytest.fixture(scope="module")
def setup() -> dict:
    m = _model()
    x, y = _data()
    stats = layer_class_statistics(m, ["0", "3", "6"], (x, y), batch_size=8)
    return {"model": m, "x": x, "y": y, "stats": stats}


@pytest.mark.parametrize("split", [0, 3, 6])
def test_errors_and_features_match_per_sample_references(setup: dict, split: int) -> None:
    m, x, y = setup["model"], setup["x"], setup["y"]
    s = setup["stats"][str(split)]
    h, delta, p = _per_sample(m, split, x)
    # features (unweighted, §7.4)
    for c in range(C):
        assert _rel(s.features.class_means[c], h[y == c].mean(0)) < TOL
    assert _rel(s.features.total(), h.T @ h / N) < TOL
    assert _rel(s.features.class_part() + s.features.within(), s.features.total()) < TOL
    # errors (weighted, §7.7): w_{c,c'}, δ_{c,c'}, Δ = Σ w δδ^T = Ave J^T Λ J
    w = torch.zeros(C, C, dtype=torch.float64)
    means = torch.zeros(C, C, delta.shape[2], dtype=torch.float64)
    for c in range(C):
        sel = y == c
        w[c] = p[sel].sum(0) / N
        means[c] = torch.einsum("nk,nkd->kd", p[sel], delta[sel]) / p[sel].sum(0)[:, None]
    assert _rel(s.errors.weights, w) < TOL
    assert _rel(s.errors.cross_means, means) < TOL
    r = (p.sqrt()[:, :, None] * delta).reshape(-1, delta.shape[2])
    Delta = r.T @ r / N
    assert _rel(s.error_moment(), Delta) < TOL
    parts = sum(s.errors.dense(k) for k in ("class", "cross", "within", "same_class"))
    assert _rel(parts, Delta) < TOL
    assert float(s.errors.mean_residual().abs().max()) < 1e-14  # fact 3: the same identity for δ
    # unweighted true-label means (§7.13)
    true = delta[torch.arange(N), y]
    for c in range(C):
        assert _rel(s.true_error_means[c], true[y == c].mean(0)) < TOL
    assert _rel(s.loss_gradient, true.T @ h / N) < TOL


@pytest.mark.parametrize("split", [0, 3, 6])
def test_layer_ggn_is_error_kron_feature_in_pytorch_order(setup: dict, split: int) -> None:
    """G^l = Σ w (δδ^T) ⊗ (hh^T) with PyTorch's row-major (out, in) weight (inventory 001 §N note) equals
    the engine's layer-wise Gauss-Newton block; Σ w (hh^T) ⊗ (δδ^T) (the paper's column order) does not."""
    m, x, y = setup["model"], setup["x"], setup["y"]
    h, delta, p = _per_sample(m, split, x)
    Gl = ggn_operator(m, F.cross_entropy, (x, y), params=[m[split].weight]).to_dense()
    ours = sum(float(p[i, k]) / N * torch.kron(torch.outer(delta[i, k], delta[i, k]), torch.outer(h[i], h[i]))
               for i in range(N) for k in range(C))
    assert _rel(ours, Gl) < TOL
    swapped = sum(float(p[i, k]) / N * torch.kron(torch.outer(h[i], h[i]), torch.outer(delta[i, k], delta[i, k]))
                  for i in range(N) for k in range(C))
    assert _rel(swapped, Gl) > 1e-2


def test_kfac_and_cfac(setup: dict) -> None:
    m, x, y = setup["model"], setup["x"], setup["y"]
    s = setup["stats"]["3"]
    kfac = s.kfac()
    assert _rel(kfac, torch.kron(s.error_moment(), s.features.total())) < TOL
    D = s.errors.class_conditional_moments()
    Hc = s.features.class_second_moments
    cfac = sum(torch.kron(D[c], Hc[c]) for c in range(C)) / C  # balanced: Ave_c
    assert _rel(s.cfac(), cfac) < TOL
    V = torch.randn(kfac.shape[0], 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert _rel(s.kfac_operator() @ V, kfac @ V) < TOL
    assert _rel(s.cfac_operator() @ V, cfac @ V) < TOL
    # KFAC eigenvalues are all products of the factors' eigenvalues
    prod = torch.outer(torch.linalg.eigvalsh(s.error_moment()), torch.linalg.eigvalsh(s.features.total()))
    assert _rel(torch.linalg.eigvalsh(kfac), prod.reshape(-1).sort().values) < 1e-10
    # one sample per class: CFAC = G^l exactly (KFAC is not)
    idx = torch.stack([(y == c).nonzero()[0, 0] for c in range(C)])
    s1 = layer_class_statistics(m, ["3"], (x[idx], y[idx]))["3"]
    Gl = ggn_operator(m, F.cross_entropy, (x[idx], y[idx]), params=[m[3].weight]).to_dense()
    assert _rel(s1.cfac(), Gl) < TOL
    assert _rel(s1.kfac(), Gl) > 1e-2


def test_weights(setup: dict) -> None:
    """W_class = -(1/η) Ave_c δ_{c,c} h_c^T with unweighted δ_{c,c} (§7.13, inventory 001 §E8)."""
    m, x, y = setup["model"], setup["x"], setup["y"]
    s = setup["stats"]["3"]
    eta = 5e-4
    h, delta, _ = _per_sample(m, 3, x)
    true = delta[torch.arange(N), y]
    Wc = -sum(torch.outer(true[y == c].mean(0), h[y == c].mean(0)) for c in range(C)) / C / eta
    assert _rel(s.weight_class(eta), Wc) < TOL
    # the stationary form is -(1/η) times the gradient of the mean cross-entropy
    m.zero_grad()
    F.cross_entropy(m(x), y).backward()
    assert _rel(s.stationary_weight(eta), -m[3].weight.grad / eta) < TOL
    m.zero_grad()
    assert torch.equal(s.weight, m[3].weight.detach())
    assert s.stationarity_gap(eta) > 0
    K = projection_knockout(s.weight, s.weight_class(eta))
    U, S, Vh = torch.linalg.svd(s.weight_class(eta))
    r = int((S > 1e-10 * S[0]).sum())
    assert r <= C
    assert float((U[:, :r].T @ K).abs().max()) < 1e-12 and float((K @ Vh[:r].T).abs().max()) < 1e-12


def test_feature_moments_at_activations_and_batch_invariance(setup: dict) -> None:
    m, x, y = setup["model"], setup["x"], setup["y"]
    fm = feature_class_moments(m, ["2", "5"], (x, y), C, batch_size=7)
    s = setup["stats"]
    assert _rel(fm["2"].total(), s["3"].features.total()) < TOL  # ReLU output = next Linear's input
    assert _rel(fm["5"].class_means, s["6"].features.class_means) < TOL
    inp = feature_class_moments(m, ["3"], (x, y), C, where="input")
    assert _rel(inp["3"].class_part(), s["3"].features.class_part()) < TOL
    whole = layer_class_statistics(m, ["3"], (x, y))["3"]
    assert _rel(whole.error_moment(), s["3"].error_moment()) < TOL
    again = layer_class_statistics(m, ["0", "3", "6"], (x, y), batch_size=8)
    assert torch.equal(again["3"].errors.cross_means, s["3"].errors.cross_means)


def test_bad_input_raises(setup: dict) -> None:
    m, x, y = setup["model"], setup["x"], setup["y"]
    with pytest.raises(ValueError, match="unknown layer"):
        layer_class_statistics(m, ["classifier"], (x, y))
    with pytest.raises(ValueError, match="nn.Linear"):
        layer_class_statistics(m, ["2"], (x, y))
    with pytest.raises(ValueError, match="C mismatch"):
        layer_class_statistics(m, ["3"], (x, y), num_classes=4)
    with pytest.raises(ValueError, match="out of range"):
        layer_class_statistics(m, ["3"], (x, y + 1))
    with pytest.raises(ValueError, match="listed twice"):
        layer_class_statistics(m, ["3", "fc2"], (x, y))
    with pytest.raises(ValueError, match="weight_decay"):
        setup["stats"]["3"].weight_class(0.0)
    with pytest.raises(ValueError, match="where"):
        feature_class_moments(m, ["2"], (x, y), C, where="middle")
    with pytest.raises(ValueError, match="every term"):
        KroneckerSumOperator([(1.0, torch.eye(2), torch.eye(3)), (1.0, torch.eye(3), torch.eye(3))])
