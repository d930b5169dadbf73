"""Input-autocorrelation statistics (Wu et al. 2020, §4.3, App. E.1, Eq. 52) and Theorem F.1."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from hessian_spectra.structure import (
    autocorrelation_stats,
    kronecker_eigenpairs,
    kronecker_factors,
    mean_alignment,
    spectral_ratio,
    spectral_ratio_bound,
    subspace_overlap,
    theorem_f1_condition,
    theorem_f1_overlap,
)

torch.set_num_threads(1)


def test_corrected_eq52_bound_on_random_nonnegative_data() -> None:
    """λ₁/λ₂ ≥ ‖E[x]‖²/‖Σ_x‖ (Eq. 52 without the printed "− 1"; inventory 000 §E8, fact 7) on 500
    random non-negative data sets; the printed bound is weaker by exactly 1."""
    rng = np.random.default_rng(0)
    worst = np.inf
    for _ in range(500):
        n, N = int(rng.integers(3, 12)), int(rng.integers(5, 60))
        X = torch.from_numpy(rng.exponential(size=(N, n)) * rng.uniform(0.1, 2.0, size=n))
        Exx, Ex = X.T @ X / N, X.mean(0)
        cov = Exx - torch.outer(Ex, Ex)
        ratio, bound = spectral_ratio(Exx), spectral_ratio_bound(Ex, cov)
        assert ratio >= bound * (1 - 1e-12)
        assert abs(spectral_ratio_bound(Ex, cov, "as_printed") - (bound - 1)) < 1e-9 * max(1.0, bound)
        worst = min(worst, ratio / bound)
    assert worst >= 1.0


def test_conv_form_bound() -> None:
    """For E[X] (n, P) the corrected bound is s₁²/(s₂² + ‖Σ_X‖)."""
    rng = np.random.default_rng(1)
    for _ in range(100):
        X = torch.from_numpy(rng.exponential(size=(40, 6, 5)))  # N samples of (nK1K2, P)
        Exx = torch.einsum("bip,bjp->ij", X, X) / 40
        EX = X.mean(0)
        cov = Exx - EX @ EX.T
        assert spectral_ratio(Exx) >= spectral_ratio_bound(EX, cov) * (1 - 1e-12)


def test_stats_of_rank_one_and_of_a_relu_layer() -> None:
    mu = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    s = torch.tensor([0.5, 1.0, 3.0, 2.0], dtype=torch.float64)
    X = s.unsqueeze(1) * mu  # x_i = s_i μ: E[xxᵀ] = E[s²] μμᵀ exactly rank one
    Exx = X.T @ X / 4
    assert abs(mean_alignment(Exx, X.mean(0)) - 1.0) < 1e-14
    assert spectral_ratio(Exx) > 1e12 or spectral_ratio(Exx) == float("inf")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 20), nn.ReLU(), nn.Linear(20, 3)).double()
    x = torch.randn(200, 6, dtype=torch.float64)
    f = kronecker_factors(model, "fc2", (x, torch.zeros(200, dtype=torch.long)))
    st = autocorrelation_stats(f.input_autocorrelation, f.input_mean)
    assert 0 <= st.mean_alignment <= 1 and st.spectral_ratio >= st.bound >= st.bound_as_printed
    assert abs(st.mean_to_covariance - 1 - st.bound_as_printed) < 1e-12
    with pytest.raises(ValueError, match="input_mean"):
        mean_alignment(Exx, torch.ones(4, dtype=torch.float64))


def test_theorem_f1_condition_and_prediction() -> None:
    """Two 'models' with exact Kronecker Hessians E[M]ᵢ ⊗ E[xxᵀ]ᵢ satisfying τ_m γ₁ > τ₁ γ₂: the top-k
    eigenspace overlap equals (t₁·t₂)² Overlap(R₁[:, :k], R₂[:, :k]) exactly for k ≤ m; averaged over
    random (permuted) output eigenbases it is (k/m)(t₁·t₂)² within Monte-Carlo error (4 standard
    errors over 200 draws); with equal output eigenbases (output layer, §F.3.2) it is (t₁·t₂)²."""
    g = torch.Generator().manual_seed(0)
    m, n = 5, 8
    tau = torch.tensor([5.0, 4.0, 3.5, 3.0, 2.5], dtype=torch.float64)
    gamma = torch.tensor([10.0, 1.0, 0.8, 0.6, 0.5, 0.3, 0.2, 0.1], dtype=torch.float64)
    cond = theorem_f1_condition(tau, gamma)
    assert cond.holds and cond.lhs == 25.0 and cond.rhs == 5.0
    assert not theorem_f1_condition(tau, torch.tensor([10.0, 6.0])).holds

    def orth(d: int) -> torch.Tensor:
        return torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))[0]

    T1 = orth(n)
    T2 = torch.linalg.qr(T1 + 0.3 * torch.randn(n, n, generator=g, dtype=torch.float64))[0]
    T2 = T2 * torch.sign((T2 * T1).sum(0))
    Exx1, Exx2 = T1 @ torch.diag(gamma) @ T1.T, T2 @ torch.diag(gamma) @ T2.T
    dot2 = float(T1[:, 0] @ T2[:, 0]) ** 2
    ks = np.arange(1, m + 1)
    draws = []
    for trial in range(200):
        R1, R2 = orth(m), orth(m)
        e1 = kronecker_eigenpairs(R1 @ torch.diag(tau) @ R1.T, Exx1, m)
        e2 = kronecker_eigenpairs(R2 @ torch.diag(tau) @ R2.T, Exx2, m)
        assert torch.equal(e1.input_index, torch.zeros(m, dtype=torch.long))  # all with t₁
        ov = np.array([subspace_overlap(e1.eigenvectors[:, :k], e2.eigenvectors[:, :k]) for k in ks])
        if trial < 3:
            exact = np.array([dot2 * subspace_overlap(R1[:, :k], R2[:, :k]) for k in ks])
            assert np.allclose(ov, exact, atol=1e-12)
        draws.append(ov)
    draws = np.array(draws)
    pred = theorem_f1_overlap(ks, m, T1[:, 0], T2[:, 0])
    se = draws.std(0, ddof=1) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(0)[:-1] - pred[:-1]) < 4 * se[:-1])
    assert abs(draws.mean(0)[-1] - dot2) < 1e-12 and abs(pred[-1] - dot2) < 1e-15  # k = m: exactly (t₁·t₂)²
    R = orth(m)
    e1 = kronecker_eigenpairs(R @ torch.diag(tau) @ R.T, Exx1, m)
    e2 = kronecker_eigenpairs(R @ torch.diag(tau) @ R.T, Exx2, m)
    same = [subspace_overlap(e1.eigenvectors[:, :k], e2.eigenvectors[:, :k]) for k in ks]
    assert np.allclose(same, theorem_f1_overlap(ks, m, T1[:, 0], T2[:, 0], output_layer=True), atol=1e-12)
    with pytest.raises(ValueError, match="k ≤ m"):
        theorem_f1_overlap([m + 1], m, T1[:, 0], T2[:, 0])
