"""The closed-form output-Hessian subspace (Wu et al. 2020, Theorem 4.1 / H.1, Eq. 56, Table 10) and
the full-Hessian approximation of App. B (Eqs. 44-51)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hessian_spectra.hessian import ggn_operator, hessian_operator
from hessian_spectra.models import mlp
from hessian_spectra.structure import (
    approximate_full_hessian_eigenpairs,
    approximate_output_hessian,
    full_output_hessian,
    layer_weight_product,
    lift_output_vectors,
    mean_softmax_hessian,
    output_hessian,
    predicted_output_subspace,
    random_two_layer_weights,
    subspace_overlap,
    weight_product,
)

torch.set_num_threads(1)


def _top(M: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    ev, U = torch.linalg.eigh(M)
    return ev.flip(0)[:k], U.flip(1)[:, :k]


def test_theorem_h1_two_layer_network_at_random_init() -> None:
    """Monte-Carlo check of Theorem H.1, threshold fixed before the first run: a two-layer ReLU net
    without biases, d = n = 256, c = 10, W⁽¹⁾ ~ N(0, 1/d), W⁽²⁾ ~ N(0, 1/n) (App. H.1.2), E[M] of the
    first layer over 4,096 inputs x ~ N(0, I_d), seeds 0-2. Pass: for every seed the top c−1 = 9
    eigenspace of E[M] overlaps span{W⁽²⁾ᵀv : v ⊥ 1} by ≥ 0.8 (random baseline 9/256 = 0.035) and
    λ_c/λ_{c−1} ≤ 0.5. (First run: overlaps 0.998, 0.998, 0.998; ratios 0.16, 0.20, 0.28.)"""
    d = n = 256
    c, samples = 10, 4096
    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        W1, W2 = random_two_layer_weights(d, n, c, generator=g)
        model = nn.Sequential(nn.Linear(d, n, bias=False), nn.ReLU(), nn.Linear(n, c, bias=False)).double()
        with torch.no_grad():
            model[0].weight.copy_(W1)
            model[2].weight.copy_(W2)
        x = torch.randn(samples, d, generator=g, dtype=torch.float64)
        E_M = output_hessian(model, "fc1", (x, torch.zeros(samples, dtype=torch.long)), batch_size=1024)
        ev, U = _top(E_M, c)
        S = layer_weight_product(model, "fc1")
        assert torch.equal(S, W2)
        overlap = subspace_overlap(U[:, : c - 1], predicted_output_subspace(S))
        assert overlap >= 0.8, (seed, overlap)
        assert float(ev[c - 1] / ev[c - 2]) <= 0.5


def test_eq56_subspace_is_the_top_space_of_the_approximation_and_exact_for_the_last_layer() -> None:
    """M̃ = κ SᵀĀS has rank c−1 and top eigenspace span{Sᵀv : v ⊥ 1}; for the last layer S = I_c and
    E[M] = Ā exactly, whose top c−1 eigenspace is 1^⊥ (inventory 000 fact 3: Table 10's fc3 = 1)."""
    torch.manual_seed(0)
    model = mlp(8, [12, 9], 4).double()
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(50, 8, generator=g, dtype=torch.float64), torch.randint(0, 4, (50,), generator=g)
    A_bar = mean_softmax_hessian(model, (x, y), batch_size=16)
    assert float((A_bar @ torch.ones(4, dtype=A_bar.dtype)).abs().max()) < 1e-15
    S = layer_weight_product(model, "fc1")
    assert torch.allclose(S, model[5].weight @ model[3].weight)
    assert torch.allclose(weight_product([model[3].weight, model[5].weight]), S)
    M_tilde = approximate_output_hessian(S, A_bar, layers_after=2)
    ev, U = _top(M_tilde, 12)
    assert float(ev[3]) < 1e-14 * float(ev[0])  # rank c − 1 = 3
    assert abs(subspace_overlap(U[:, :3], predicted_output_subspace(S)) - 1) < 1e-12
    assert torch.allclose(approximate_output_hessian(S, A_bar, kappa=1 / 16), M_tilde)
    last = layer_weight_product(model, "fc3")
    assert torch.equal(last, torch.eye(4, dtype=last.dtype))
    E_M = output_hessian(model, "fc3", (x, y))
    assert torch.allclose(E_M, A_bar, atol=1e-15)
    _, U3 = _top(E_M, 3)
    assert abs(subspace_overlap(U3, predicted_output_subspace(last)) - 1) < 1e-12


def test_output_subspace_errors() -> None:
    with pytest.raises(ValueError, match="c−1 = 9 > m = 5"):
        predicted_output_subspace(torch.randn(10, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="inputs but the previous layer"):
        weight_product([torch.randn(4, 3), torch.randn(2, 5)])
    with pytest.raises(ValueError, match="layers_after"):
        approximate_output_hessian(torch.randn(3, 5), torch.eye(3))
    conv = nn.Sequential(nn.Linear(4, 4), nn.Unflatten(1, (1, 2, 2)), nn.Conv2d(1, 1, 1), nn.Flatten())
    with pytest.raises(ValueError, match="convolution"):
        layer_weight_product(conv, "fc1")


def _f_net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 20), nn.ReLU(), nn.Linear(20, 5)).double()


def test_full_output_hessian_blocks_and_lift_order() -> None:
    """E[M̄]'s diagonal blocks are the layers' E[M]; with one sample (constant layer inputs) the full
    G-term E[F_xᵀA_xF_x] is exactly B E[M̄] Bᵀ with B = lift(I) (Eqs. 42, 47, 49), which checks that
    lifted vectors use the engine's parameter order (weight row-major, then bias, per layer)."""
    model = _f_net(0)
    g = torch.Generator().manual_seed(2)
    x, y = torch.rand(40, 10, generator=g, dtype=torch.float64), torch.randint(0, 5, (40,), generator=g)
    full = full_output_hessian(model, (x, y), batch_size=16)
    assert full.sizes == [20, 20, 5] and full.num_parameters == sum(p.numel() for p in model.parameters())
    off = 0
    for name, m in zip(full.layer_names, full.sizes):
        block = full.matrix[off : off + m, off : off + m]
        assert float((block - output_hessian(model, name, (x, y))).abs().max()) < 1e-15
        off += m
    one = full_output_hessian(model, (x[:1], y[:1]))
    B = lift_output_vectors(one, torch.eye(45, dtype=torch.float64))
    G = ggn_operator(model, F.cross_entropy, (x[:1], y[:1])).to_dense()
    assert float((G - B @ one.matrix @ B.T).abs().max()) < 1e-14 * float(G.abs().max())


def test_app_b_is_exact_for_one_layer_and_one_sample() -> None:
    """Logistic regression (one layer, no later nonlinearity) on one sample: H = M ⊗ x̄x̄ᵀ, so
    λ_i = σ_i‖w_i‖² and v_i = w_i/‖w_i‖ exactly (Eqs. 50-51)."""
    torch.manual_seed(0)
    model = mlp(6, [], 4).double()
    x, y = torch.rand(1, 6, dtype=torch.float64), torch.tensor([2])
    approx = approximate_full_hessian_eigenpairs(full_output_hessian(model, (x, y)), 3)
    H = hessian_operator(model, F.cross_entropy, (x, y)).to_dense()
    ev, V = _top(H, 3)
    assert float((approx.eigenvalues - ev).abs().max()) < 1e-14
    assert float((H @ approx.eigenvectors - approx.eigenvectors * approx.eigenvalues).abs().max()) < 1e-14
    assert abs(subspace_overlap(approx.basis, V) - 1) < 1e-12


def test_app_b_top_space_of_a_relu_mlp() -> None:
    """A regression check of App. B's approximation, threshold fixed before the first run: ReLU net
    10-20-20-5 (PyTorch init, seed 1) on 300 uniform [0, 1) inputs; the approximate top c−1 = 4
    eigenspace of the full Hessian overlaps the exact one by ≥ 0.8 and the top eigenvalue is within
    a factor 2. (First run: overlap 0.980, λ₁ 0.474 approximate vs 0.495 exact.)"""
    model = _f_net(1)
    g = torch.Generator().manual_seed(3)
    x, y = torch.rand(300, 10, generator=g, dtype=torch.float64), torch.randint(0, 5, (300,), generator=g)
    approx = approximate_full_hessian_eigenpairs(full_output_hessian(model, (x, y), batch_size=100), 4)
    ev, V = _top(hessian_operator(model, F.cross_entropy, (x, y)).to_dense(), 4)
    assert subspace_overlap(approx.basis, V) >= 0.8
    assert 0.5 < float(approx.eigenvalues[0] / ev[0]) < 2
    with pytest.raises(ValueError, match="k must be"):
        approximate_full_hessian_eigenpairs(full_output_hessian(model, (x[:5], y[:5])), 46)
