"""Hutchinson traces, subspace iteration and low-rank deflation against exact references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hessian_spectra.hessian import (
    deflate,
    hessian_operator,
    hutchinson_trace,
    low_rank_deflation,
    spectral_density,
    subspace_iteration,
)

torch.set_num_threads(1)


def _spiked(p: int = 100, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(p, p, generator=g, dtype=torch.float64)
    A = 0.5 * (X + X.T) / np.sqrt(2 * p)
    Q, _ = torch.linalg.qr(torch.randn(p, 3, generator=g, dtype=torch.float64))
    return A + Q @ torch.diag(torch.tensor([8.0, 6.0, -5.0], dtype=torch.float64)) @ Q.T


def test_hutchinson_rademacher_is_exact_for_diagonal_matrices():
    d = torch.linspace(-1.0, 3.0, 50, dtype=torch.float64)
    est = hutchinson_trace(torch.diag(d), 13, batch_size=4, generator=torch.Generator().manual_seed(0))
    assert isinstance(est, float)
    assert est.num_samples == 13
    assert np.allclose(est.samples, float(d.sum()), rtol=0, atol=1e-12)
    assert est.std_error == pytest.approx(0.0, abs=1e-12)


def test_hutchinson_unbiased_within_standard_errors():
    A = _spiked()
    est = hutchinson_trace(A, 400, generator=torch.Generator().manual_seed(1))
    exact = float(torch.trace(A))
    assert abs(est - exact) < 4 * est.std_error
    # the sample variance matches Var[zᵀAz] = 2(‖A‖_F² − Σ A_ii²) for Rademacher z
    var = 2 * (float((A**2).sum()) - float((A.diagonal() ** 2).sum()))
    assert est.samples.var(ddof=1) == pytest.approx(var, rel=0.25)


def test_hutchinson_on_model_operator_equals_dense_with_same_vectors():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double().eval()
    x = torch.randn(9, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (9,))
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=4)
    H = op.to_dense()
    a = hutchinson_trace(op, 10, batch_size=3, generator=torch.Generator().manual_seed(5))
    b = hutchinson_trace(H, 10, batch_size=3, generator=torch.Generator().manual_seed(5))
    assert np.allclose(a.samples, b.samples, rtol=1e-10, atol=1e-13)


def test_subspace_iteration_finds_largest_magnitude_eigenpairs():
    A = _spiked()
    evals, evecs = torch.linalg.eigh(A)
    lam, U = subspace_iteration(A, 3, 100, generator=torch.Generator().manual_seed(0))
    ref = evals[torch.argsort(evals.abs(), descending=True)[:3]].sort(descending=True).values
    assert torch.allclose(lam, ref, atol=1e-10)
    P_est = U @ U.T
    idx = torch.argsort(evals.abs(), descending=True)[:3]
    P_ref = evecs[:, idx] @ evecs[:, idx].T
    assert (P_est - P_ref).norm() < 1e-8
    # early stop on the residual tolerance uses fewer iterations
    res = subspace_iteration(A, 3, 100, tol=1e-6, generator=torch.Generator().manual_seed(0))
    assert res.converged and res.num_steps < 300


def test_deflation_removes_the_top_eigenspace():
    A = _spiked()
    evals, evecs = torch.linalg.eigh(A)
    defl, eig = low_rank_deflation(A, 3, num_iters=100, generator=torch.Generator().manual_seed(0))
    D = defl.to_dense()
    idx = torch.argsort(evals.abs(), descending=True)[:3]
    keep = torch.ones(len(evals), dtype=torch.bool)
    keep[idx] = False
    expected = torch.cat([evals[keep], torch.zeros(3, dtype=torch.float64)]).sort().values
    assert torch.allclose(torch.linalg.eigvalsh(D), expected, atol=1e-9)
    # the Lanczos variant gives the same deflated operator
    defl2, _ = low_rank_deflation(A, 3, method="lanczos", generator=torch.Generator().manual_seed(0))
    assert torch.allclose(defl2.to_dense(), D, atol=1e-8)
    # the bulk density of the deflated operator has no mass beyond the bulk edge (~1) but zeros
    sd = spectral_density(defl, 30, 2, generator=torch.Generator().manual_seed(0))
    assert sd.nodes.max() < 1.2 and sd.nodes.min() > -1.2
    with pytest.raises(ValueError, match="eigenvectors"):
        deflate(A, eig.eigenvalues, eig.eigenvectors[:, :2])
    with pytest.raises(ValueError, match="method"):
        low_rank_deflation(A, 2, method="power")
