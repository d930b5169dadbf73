"""Stochastic Lanczos quadrature and Papyan's LanczosApproxSpec against exact spectra."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hessian_spectra.hessian import (
    approx_spec_from_slq,
    gaussian_smoothing,
    kernel_width,
    lanczos,
    lanczos_approx_spec,
    normalization,
    spectral_density,
)

torch.set_num_threads(1)


def _wishart_spiked(p: int = 150, seed: int = 0) -> torch.Tensor:
    """Papyan's Fig. 15a matrix at a small size: diag(5, 4, 3, 0, …) + Z Zᵀ / p."""
    g = torch.Generator().manual_seed(seed)
    Z = torch.randn(p, p, generator=g, dtype=torch.float64)
    X = torch.zeros(p, p, dtype=torch.float64)
    X[0, 0], X[1, 1], X[2, 2] = 5.0, 4.0, 3.0
    return X + Z @ Z.T / p


def _unit_columns(p: int, n: int, seed: int) -> torch.Tensor:
    V = torch.randn(p, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return V / V.norm(dim=0, keepdim=True)


def test_quadrature_is_exact_up_to_degree_2m_minus_1():
    A = _wishart_spiked()
    m, n = 8, 3
    V0 = _unit_columns(A.shape[0], n, 1)
    sd = spectral_density(A, m, n, v0=V0)
    assert sd.nodes.shape == (n, m) and sd.weights.shape == (n, m)
    assert np.allclose(sd.weights.sum(axis=1), 1.0, atol=1e-14)
    for l in range(n):
        v = V0[:, l]
        Akv = v.clone()
        for k in range(0, 2 * m):
            exact = float(v @ Akv)
            quad = float(np.sum(sd.weights[l] * sd.nodes[l] ** k))
            assert abs(quad - exact) <= 1e-10 * abs(exact), (l, k)
            Akv = A @ Akv


def test_runs_advancing_together_equal_separate_runs():
    A = _wishart_spiked(p=80)
    V0 = _unit_columns(80, 4, 2)
    sd = spectral_density(A, 12, 4, v0=V0)
    for l in range(4):
        single = lanczos(A, 12, v0=V0[:, l])
        assert np.allclose(sd.nodes[l], single.ritz_values, atol=1e-12)
        assert np.allclose(sd.weights[l], single.weights, atol=1e-12)


def test_full_run_recovers_exact_spectral_measure():
    A = _wishart_spiked(p=40)
    evals, evecs = torch.linalg.eigh(A)
    v = _unit_columns(40, 1, 3)
    sd = spectral_density(A, 40, 1, v0=v)
    assert np.allclose(np.sort(sd.nodes[0]), evals.numpy(), atol=1e-10)
    order = np.argsort(sd.nodes[0])
    exact_w = ((evecs.T @ v[:, 0]) ** 2).numpy()
    assert np.allclose(sd.weights[0][order], exact_w, atol=1e-10)


def test_moments_estimate_normalised_traces():
    A = _wishart_spiked(p=200)
    p = A.shape[0]
    sd = spectral_density(A, 10, 60, generator=torch.Generator().manual_seed(0))
    m1, m2 = sd.moments((1, 2))
    t1, t2 = float(torch.trace(A)) / p, float(torch.trace(A @ A)) / p
    # per-vector quadratic forms of a unit vector have relative std ≈ sqrt(2/p)·(spread); 60
    # vectors: well within 5 %
    assert abs(m1 - t1) < 0.05 * t1
    assert abs(m2 - t2) < 0.05 * t2
    assert abs(sd.trace() - float(torch.trace(A))) < 0.05 * float(torch.trace(A))


def test_smoothing_integrates_to_one_and_breakdown_pads_with_zero_weight():
    g = torch.Generator().manual_seed(0)
    Q, _ = torch.linalg.qr(torch.randn(30, 2, generator=g, dtype=torch.float64))
    A = Q @ torch.diag(torch.tensor([2.0, -1.0], dtype=torch.float64)) @ Q.T
    sd = spectral_density(A, 10, 3, generator=g)
    assert list(sd.steps) == [3, 3, 3]
    assert np.all(sd.weights[:, 3:] == 0)
    assert np.allclose(sd.weights.sum(axis=1), 1.0)
    assert np.allclose(np.sort(sd.nodes[0, :3]), [-1.0, 0.0, 2.0], atol=1e-12)
    grid, dens = sd.smooth(np.linspace(-3, 3, 4001), sigma=0.05)
    assert abs(np.trapezoid(dens, grid) - 1.0) < 1e-6


def test_kernel_width_matches_papyan_values():
    # inventory 001 §L2 [computed]: σ = 0.005312 (M=128), 0.002646 (M=256), 0.000330 (M=2048), κ=3
    assert kernel_width(128) == pytest.approx(0.005312, abs=5e-7)
    assert kernel_width(256) == pytest.approx(0.002646, abs=5e-7)
    assert kernel_width(2048) == pytest.approx(0.000330, abs=5e-7)


def test_normalization_bounds_contain_the_spectrum():
    A = _wishart_spiked()
    evals = torch.linalg.eigvalsh(A)
    c, d = normalization(A, 32, 0.05, generator=torch.Generator().manual_seed(0))
    assert c - d <= float(evals.min()) and float(evals.max()) <= c + d


def test_lanczos_approx_spec_equals_kernel_sum_over_exact_measure():
    """With M = p steps and reorthogonalisation the Ritz pairs are exact, so the curve is exactly
    Σ_i (q_iᵀv)² g_σ((λ − λ_i)/d)/d (Papyan's Algorithm 3 applied to the exact measure)."""
    A = _wishart_spiked(p=60)
    evals, evecs = torch.linalg.eigh(A)
    v = _unit_columns(60, 1, 5)
    spec = lanczos_approx_spec(
        A, num_steps=60, num_points=512, reorthogonalize=True, v0=v,
        generator=torch.Generator().manual_seed(0),
    )
    w = ((evecs.T @ v[:, 0]) ** 2).numpy()
    tn = (evals.numpy() - spec.center) / spec.half_width
    t = (spec.grid - spec.center) / spec.half_width
    ref = gaussian_smoothing(tn[None], w[None], t, spec.sigma) / spec.half_width
    assert np.allclose(spec.density, ref, rtol=1e-8, atol=1e-10)
    assert abs(np.trapezoid(spec.density, spec.grid) - 1.0) < 1e-3


def test_lanczos_approx_spec_log_scale_integrates_in_log_units():
    g = torch.Generator().manual_seed(0)
    Z = torch.randn(100, 200, generator=g, dtype=torch.float64)
    A = Z @ Z.T / 200  # positive definite, spread over a decade
    spec = lanczos_approx_spec(A, num_steps=60, num_vectors=4, log_scale=True, reorthogonalize=True, generator=g)
    assert spec.grid_log is not None and spec.density_log is not None
    assert abs(np.trapezoid(spec.density_log, spec.grid_log) - 1.0) < 1e-2
    # the 1/θ-scaled curve is a density per unit λ on the log grid
    assert abs(np.trapezoid(spec.density, spec.grid) - 1.0) < 0.05


def test_bad_arguments():
    A = _wishart_spiked(p=10)
    with pytest.raises(ValueError, match="num_vectors"):
        spectral_density(A, 3, 0)
    with pytest.raises(ValueError, match="exceeds"):
        spectral_density(A, 11, 1)
    with pytest.raises(ValueError, match="v0"):
        spectral_density(A, 3, 2, v0=torch.ones(10, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="distribution"):
        spectral_density(A, 3, 1, distribution="cauchy")


def test_approx_spec_from_slq_reuses_nodes():
    A = _wishart_spiked(p=60)
    v = _unit_columns(60, 1, 5)
    spec = lanczos_approx_spec(A, num_steps=30, num_points=256, reorthogonalize=True, v0=v,
                               generator=torch.Generator().manual_seed(0))
    lo, hi = spec.center - spec.half_width, spec.center + spec.half_width
    again = approx_spec_from_slq(spec.slq, 256, bounds=(lo, hi), margin=0.0)
    assert np.allclose(again.density, spec.density, rtol=1e-12, atol=1e-14)
    assert np.allclose(again.grid, spec.grid)
    wider = approx_spec_from_slq(spec.slq, 256, kappa=1.25)  # the author's code's κ (inventory 001)
    assert wider.sigma > spec.sigma


def test_runs_breaking_down_at_different_steps_equal_separate_runs():
    """Start vectors inside invariant subspaces of dimensions 2, 5 and 40 (the whole space): the
    runs advancing together end after 2, 5 and 12 steps, each with the coefficients it has alone."""
    g = torch.Generator().manual_seed(4)
    A = torch.diag(torch.linspace(-1.0, 3.0, 40, dtype=torch.float64))  # eigenvectors e_i
    V0 = torch.randn(40, 3, generator=g, dtype=torch.float64)
    V0[2:, 0] = 0.0
    V0[5:, 1] = 0.0
    V0 = V0 / V0.norm(dim=0, keepdim=True)
    sd = spectral_density(A, 12, 3, v0=V0)
    assert list(sd.steps) == [2, 5, 12]
    for l in range(3):
        single = lanczos(A, 12, v0=V0[:, l])
        m = int(sd.steps[l])
        assert single.num_steps == m
        assert np.allclose(sd.nodes[l, :m], single.ritz_values, atol=1e-12)
        assert np.allclose(sd.weights[l, :m], single.weights, atol=1e-12)
        assert np.all(sd.weights[l, m:] == 0)
