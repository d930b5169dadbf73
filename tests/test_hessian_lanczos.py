"""Lanczos and top eigenpairs against torch.linalg.eigh on dense symmetric matrices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hessian_spectra.hessian import lanczos, top_eigenpairs

torch.set_num_threads(1)


def _spiked(p: int = 120, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    """A GOE-like bulk (radius ~2·0.5) plus outliers 6, 5, 4 and −3: well separated extremes."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(p, p, generator=g, dtype=torch.float64)
    A = 0.5 * (X + X.T) / np.sqrt(2 * p)
    Q, _ = torch.linalg.qr(torch.randn(p, 4, generator=g, dtype=torch.float64))
    A = A + Q @ torch.diag(torch.tensor([6.0, 5.0, 4.0, -3.0], dtype=torch.float64)) @ Q.T
    return ((A + A.T) / 2).to(dtype)


def test_lanczos_relations_hold():
    A = _spiked()
    m = 30
    res = lanczos(A, m, generator=torch.Generator().manual_seed(1))
    V = res.basis  # (m, p)
    assert res.num_steps == m and not res.breakdown
    assert torch.allclose(V @ V.T, torch.eye(m, dtype=torch.float64), atol=1e-13)
    T = torch.as_tensor(res.tridiagonal())
    assert torch.allclose(V @ A @ V.T, T, atol=1e-12)
    theta, S = res.ritz()
    assert np.allclose(res.weights.sum(), 1.0, atol=1e-14)
    # Ritz residual formula ‖A y − θ y‖ = β_m |S[m−1, j]|
    Y = res.ritz_vectors()
    R = A @ Y - Y * torch.as_tensor(theta)[None, :]
    assert np.allclose(R.norm(dim=0).numpy(), res.residuals, atol=1e-11)


def test_float32_full_reorthogonalization_keeps_orthogonality():
    A = _spiked(dtype=torch.float32)
    res = lanczos(A, 80, generator=torch.Generator().manual_seed(1))
    V = res.basis.double()
    assert (V @ V.T - torch.eye(80, dtype=torch.float64)).abs().max() < 1e-5
    assert res.alphas.dtype == np.float64


def _expected_order(evals: torch.Tensor, which: str, k: int) -> torch.Tensor:
    """Indices of the k eigenvalues (ascending ``evals`` from eigh) that ``which`` selects, in its order."""
    if which == "LA":
        return torch.arange(len(evals) - 1, len(evals) - 1 - k, -1)
    if which == "SA":
        return torch.arange(k)
    return torch.argsort(evals.abs(), descending=True)[:k]


@pytest.mark.parametrize("which", ["LA", "SA", "LM"])
def test_top_eigenpairs_match_eigh(which):
    A = _spiked()
    evals, evecs = torch.linalg.eigh(A)
    k = 4
    lam, U = top_eigenpairs(A, k, which=which, generator=torch.Generator().manual_seed(3))
    order = _expected_order(evals, which, k)
    assert torch.allclose(lam, evals[order], atol=1e-10)
    assert U.shape == (A.shape[0], k)
    cos = (U.T @ evecs[:, order]).diagonal().abs()
    assert torch.allclose(cos, torch.ones(k, dtype=torch.float64), atol=1e-6)


def test_top_eigenpairs_float32_and_result_attributes():
    A = _spiked(dtype=torch.float32)
    res = top_eigenpairs(A, 3, generator=torch.Generator().manual_seed(0))
    lam, U = res
    assert U.dtype == torch.float32 and lam.dtype == torch.float64
    assert torch.allclose(lam, torch.tensor([6.0, 5.0, 4.0], dtype=torch.float64), atol=0.2)
    ref = torch.linalg.eigvalsh(A.double()).flip(0)[:3]
    assert torch.allclose(lam, ref, rtol=1e-5)
    assert res.converged and res.residuals.shape == (3,)
    assert res.num_steps <= A.shape[0]


def test_breakdown_ends_cleanly_with_exact_eigenvalues():
    g = torch.Generator().manual_seed(0)
    Q, _ = torch.linalg.qr(torch.randn(50, 3, generator=g, dtype=torch.float64))
    A = Q @ torch.diag(torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64)) @ Q.T  # rank 3
    res = lanczos(A, 20, generator=g)
    assert res.breakdown and res.num_steps == 4  # Krylov space: 3 eigenvectors + null part
    assert np.allclose(np.sort(res.ritz_values), [0.0, 1.0, 2.0, 3.0], atol=1e-12)
    # top_eigenpairs restarts after a breakdown, so repeated eigenvalues are found too
    P = Q @ Q.T  # eigenvalue 1 three times, then 0
    lam, U = top_eigenpairs(P, 4, generator=g)
    assert torch.allclose(lam, torch.tensor([1.0, 1.0, 1.0, 0.0], dtype=torch.float64), atol=1e-12)
    assert torch.allclose(U.T @ U, torch.eye(4, dtype=torch.float64), atol=1e-10)


def test_generic_operator_objects_are_accepted():
    A = _spiked(p=60)

    class SufficientStats:  # anything with .shape and @
        shape = A.shape

        def __matmul__(self, v):
            return A @ v

    lam, _ = top_eigenpairs(SufficientStats(), 2, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(lam, torch.linalg.eigvalsh(A).flip(0)[:2], atol=1e-10)


def test_bad_arguments_raise():
    A = _spiked(p=20)
    with pytest.raises(ValueError, match="exceeds"):
        lanczos(A, 21)
    with pytest.raises(ValueError, match="positive"):
        lanczos(A, 0)
    with pytest.raises(ValueError, match="v0"):
        lanczos(A, 5, v0=torch.ones(19, dtype=torch.float64))
    with pytest.raises(ValueError, match="exceeds"):
        top_eigenpairs(A, 21)
    with pytest.raises(ValueError, match="which"):
        top_eigenpairs(A, 2, which="BE")
    with pytest.raises(ValueError, match="square"):
        lanczos(torch.ones(3, 4), 2)
    with pytest.raises(TypeError, match="linear operator"):
        lanczos([[1.0]], 1)


@pytest.mark.parametrize("which", ["LA", "SA", "LM"])
def test_block_lanczos_matches_eigh(which):
    A = _spiked()
    evals, evecs = torch.linalg.eigh(A)
    k = 4
    lam, U = top_eigenpairs(A, k, which=which, block_size=3, generator=torch.Generator().manual_seed(3))
    order = _expected_order(evals, which, k)
    assert torch.allclose(lam, evals[order], atol=1e-10)
    cos = (U.T @ evecs[:, order]).diagonal().abs()
    assert torch.allclose(cos, torch.ones(k, dtype=torch.float64), atol=1e-6)


def test_block_lanczos_multiplicity_and_invariant_subspace():
    g = torch.Generator().manual_seed(0)
    Q, _ = torch.linalg.qr(torch.randn(40, 3, generator=g, dtype=torch.float64))
    P = Q @ Q.T  # eigenvalue 1 three times, then 0
    lam, U = top_eigenpairs(P, 4, block_size=2, generator=g)
    assert torch.allclose(lam, torch.tensor([1.0, 1.0, 1.0, 0.0], dtype=torch.float64), atol=1e-10)
    assert torch.allclose(U.T @ U, torch.eye(4, dtype=torch.float64), atol=1e-8)
    with pytest.raises(ValueError, match="block_size"):
        top_eigenpairs(P, 2, block_size=0)


def test_block_sums_accumulate_in_float64():
    """Lanczos's α = vᵀw and β² = wᵀw: float64 rows to rounding; float32 rows summed past the
    float32 integer limit 2^24 (a running float32 sum of ones would stop at 16,777,216)."""
    from hessian_spectra.hessian.lanczos import _BlockSums

    g = torch.Generator().manual_seed(0)
    a = torch.randn(3, 10_001, generator=g, dtype=torch.float64)
    b = torch.randn(3, 10_001, generator=g, dtype=torch.float64)
    got = _BlockSums(3, 10_001, torch.float64, torch.device("cpu")).dot(a, b)
    exact = (a * b).sum(dim=1)
    assert got.dtype == torch.float64
    assert torch.allclose(got, exact, rtol=0, atol=1e-12)
    n = 2**24 + 2**13 + 7
    ones = torch.ones(1, n, dtype=torch.float32)
    assert _BlockSums(1, n, torch.float32, torch.device("cpu")).dot(ones, ones).item() == float(n)
    # fewer rows than the buffer was made for (Lanczos runs that have ended)
    sums = _BlockSums(4, 10_001, torch.float64, torch.device("cpu"))
    assert torch.allclose(sums.dot(a[:2], b[:2]), exact[:2], rtol=0, atol=1e-12)


class _BreaksAt:
    """A dense operator whose n-th product returns a NaN (a curvature product gone bad mid-run)."""

    def __init__(self, A: torch.Tensor, n: int) -> None:
        self.A, self.n, self.calls = A, n, 0
        self.shape, self.dtype = A.shape, A.dtype

    def __matmul__(self, V: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        out = self.A @ V
        if self.calls == self.n:
            out = out.clone()
            out.view(-1)[0] = float("nan")
        return out

    def __repr__(self) -> str:
        return "BreaksAt(n=3)"


def test_a_non_finite_product_stops_lanczos_naming_the_operator_and_step():
    from hessian_spectra.hessian import DenseOperator, spectral_density

    A = torch.diag(torch.linspace(1.0, 2.0, 30, dtype=torch.float64))
    with pytest.raises(FloatingPointError, match=r"BreaksAt\(n=3\).*Lanczos step 3"):
        lanczos(_BreaksAt(A, 3), 10, generator=torch.Generator().manual_seed(0))
    with pytest.raises(FloatingPointError, match=r"BreaksAt\(n=3\).*block Lanczos step 3"):
        top_eigenpairs(_BreaksAt(A, 3), 2, block_size=2, generator=torch.Generator().manual_seed(0))
    with pytest.raises(FloatingPointError, match=r"BreaksAt\(n=3\).*Lanczos step 3"):
        spectral_density(_BreaksAt(A, 3), 6, 2, generator=torch.Generator().manual_seed(0))
    # a product of an operator of this package names the operator itself
    bad = DenseOperator(A.clone())
    bad.matrix[4, 4] = float("inf")
    with pytest.raises(FloatingPointError, match=r"DenseOperator\(shape=\(30, 30\).*step 1"):
        lanczos(bad, 5, generator=torch.Generator().manual_seed(0))


def test_a_non_finite_coefficient_names_the_operator_and_step(monkeypatch):
    """A coefficient can overflow although every product is finite (e.g. float32 norms of huge
    vectors): the error names the operator, the run and the step."""
    import importlib

    L = importlib.import_module("hessian_spectra.hessian.lanczos")  # the module (the package exports the function)

    A = torch.diag(torch.linspace(1.0, 2.0, 30, dtype=torch.float64))
    real = L._BlockSums.dot
    calls = {"n": 0}

    def overflowing(self, a, b):
        calls["n"] += 1
        out = real(self, a, b)
        return out * float("inf") if calls["n"] == 5 else out  # the alpha of step 3

    monkeypatch.setattr(L._BlockSums, "dot", overflowing)
    with pytest.raises(FloatingPointError, match=r"coefficient at step 3 \(run\(s\) \[0\].*DenseOperator"):
        lanczos(A, 10, generator=torch.Generator().manual_seed(0))
