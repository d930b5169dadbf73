"""Subspace overlap, matricization and correspondence (Wu et al. 2020, Defs 4.1-4.3, §5.2, Theorem F.1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hessian_spectra.structure import (
    correspondence_matrix,
    matricize,
    overlap_curve,
    pairwise_overlap_curve,
    random_overlap_baseline,
    subspace_overlap,
    subspace_overlap_as_printed,
    top_singular_ratio,
)

torch.set_num_threads(1)


def _orth(d: int, k: int, g: torch.Generator) -> torch.Tensor:
    return torch.linalg.qr(torch.randn(d, k, generator=g, dtype=torch.float64))[0]


def test_random_subspace_overlap_is_k_over_D() -> None:
    """Monte Carlo: E[Overlap] = k/D for independent uniform k-dim subspaces of R^D. The
    sample mean over 200 pairs lies within 4 standard errors of k/D (D = 100)."""
    g = torch.Generator().manual_seed(0)
    D = 100
    for k in (3, 25, 75):
        vals = np.array([subspace_overlap(_orth(D, k, g), _orth(D, k, g)) for _ in range(200)])
        se = vals.std(ddof=1) / math.sqrt(vals.size)
        assert abs(vals.mean() - k / D) < 4 * se, (k, vals.mean(), se)
    assert np.allclose(random_overlap_baseline([3, 25, 75], D), [0.03, 0.25, 0.75])


def test_theorem_f1_kronecker_identity() -> None:
    """Overlap(V₁ ⊗ t₁, V₂ ⊗ t₂) = (t₁·t₂)² Overlap(V₁, V₂) (Eq. 58; inventory 000 fact 6)."""
    g = torch.Generator().manual_seed(1)
    m, n, k = 9, 7, 4
    V1, V2 = _orth(m, k, g), _orth(m, k, g)
    t1, t2 = _orth(n, 1, g)[:, 0], _orth(n, 1, g)[:, 0]
    K1 = torch.kron(V1.contiguous(), t1.unsqueeze(1).contiguous())  # columns r_i ⊗ t₁
    K2 = torch.kron(V2.contiguous(), t2.unsqueeze(1).contiguous())
    lhs = subspace_overlap(K1, K2)
    rhs = float(t1 @ t2) ** 2 * subspace_overlap(V1, V2)
    assert abs(lhs - rhs) < 1e-15


def test_overlap_definition_and_the_printed_erratum() -> None:
    g = torch.Generator().manual_seed(2)
    U = _orth(30, 6, g)
    R = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))[0]
    assert abs(subspace_overlap(U, U @ R) - 1.0) < 1e-14  # a subspace, not a basis
    assert abs(subspace_overlap_as_printed(U, U @ R) - 1 / math.sqrt(6)) < 1e-14  # Eq. 8 as printed
    u, v = U[:, 0], U[:, 0] * 0.6 + U[:, 1] * 0.8
    assert abs(subspace_overlap(u, v) - 0.36) < 1e-14  # k = 1: the squared dot product
    with pytest.raises(ValueError, match="orthonormal"):
        subspace_overlap(2 * U, U)
    with pytest.raises(ValueError, match="different dimension k"):
        subspace_overlap(U, U[:, :3])
    with pytest.raises(ValueError, match="different dimensions"):
        subspace_overlap(U, _orth(31, 6, g))


def test_overlap_curves() -> None:
    g = torch.Generator().manual_seed(3)
    bases = [_orth(40, 12, g) for _ in range(4)]
    ks = [1, 3, 12]
    curve = overlap_curve(bases[0], bases[1], ks)
    assert np.allclose(curve, [subspace_overlap(bases[0][:, :k], bases[1][:, :k]) for k in ks], atol=1e-15)
    res = pairwise_overlap_curve(bases, ks)
    assert res.pairs.shape == (6, 3) and res.pair_index[0] == (0, 1)
    manual = np.array([[subspace_overlap(bases[i][:, :k], bases[j][:, :k]) for k in ks] for i, j in res.pair_index])
    assert np.allclose(res.mean, manual.mean(0)) and np.allclose(res.std, manual.std(0))
    assert np.allclose(res.baseline, np.array(ks) / 40)
    with pytest.raises(ValueError, match="at least two"):
        pairwise_overlap_curve(bases[:1])
    with pytest.raises(ValueError, match="every k"):
        overlap_curve(bases[0], bases[1], [13])


def test_matricize_row_major_and_the_printed_index() -> None:
    g = torch.Generator().manual_seed(4)
    u = torch.randn(3, generator=g, dtype=torch.float64)
    v = torch.randn(5, generator=g, dtype=torch.float64)
    h = torch.kron(u, v)  # u ⊗ v
    assert torch.equal(matricize(h, 3, 5), torch.outer(u, v))  # Mat(u ⊗ v) = u vᵀ (Def 4.2, corrected)
    W = torch.randn(3, 5, generator=g, dtype=torch.float64)
    assert torch.equal(matricize(W.reshape(-1), 3, 5), W)  # PyTorch's (out, in) weight
    printed = matricize(h, 3, 5, index="as_printed")  # h_{(i-1)m+j}: entries overlap, not u vᵀ
    assert printed[1, 0] == h[3] and not torch.allclose(printed, torch.outer(u, v))
    assert torch.equal(matricize(torch.kron(u, u), 3, 3, index="as_printed"), torch.outer(u, u))  # m = n
    with pytest.raises(ValueError, match="runs past"):
        matricize(h, 5, 3, index="as_printed")
    batch = torch.stack([h, 2 * h], dim=1)
    assert matricize(batch, 3, 5).shape == (2, 3, 5)
    with pytest.raises(ValueError, match="m·n = 15"):
        matricize(h[:-1], 3, 5)


def test_top_singular_ratio() -> None:
    g = torch.Generator().manual_seed(5)
    u, v = torch.randn(4, generator=g, dtype=torch.float64), torch.randn(6, generator=g, dtype=torch.float64)
    assert abs(float(top_singular_ratio(torch.kron(u, v), 4, 6)) - 1.0) < 1e-14  # rank one
    flat = torch.cat([torch.eye(4, dtype=torch.float64), torch.zeros(4, 2, dtype=torch.float64)], 1).reshape(-1)
    both = top_singular_ratio(torch.stack([torch.kron(u, v), flat], 1), 4, 6)
    assert both.shape == (2,) and abs(float(both[1]) - 0.5) < 1e-14  # 1/√min(m, n)


def test_squared_correspondence_columns_sum_to_one() -> None:
    """Def 4.3 with the squared norm: over complete eigenbases of E[xxᵀ] / E[M] every column sums to
    ‖Mat(h_j)‖_F² = 1 (inventory 000 fact 5); an exact Kronecker eigenvector u_a ⊗ v_b corresponds to
    v_b and u_a only."""
    g = torch.Generator().manual_seed(6)
    m, n = 4, 6
    A = torch.randn(m * n, m * n, generator=g, dtype=torch.float64)
    _, Hv = torch.linalg.eigh(A + A.T)
    V = _orth(n, n, g)
    U = _orth(m, m, g)
    Cin = correspondence_matrix(Hv, V, m, n, "input")
    Cout = correspondence_matrix(Hv, U, m, n, "output")
    assert Cin.shape == (n, m * n) and Cout.shape == (m, m * n)
    assert float((Cin.sum(0) - 1).abs().max()) < 1e-14
    assert float((Cout.sum(0) - 1).abs().max()) < 1e-14
    h = torch.kron(U[:, 2], V[:, 4]).unsqueeze(1)
    assert torch.allclose(correspondence_matrix(h, V, m, n, "input")[:, 0], torch.eye(n, dtype=h.dtype)[4], atol=1e-14)
    assert torch.allclose(correspondence_matrix(h, U, m, n, "output")[:, 0], torch.eye(m, dtype=h.dtype)[2], atol=1e-14)
    unsq = correspondence_matrix(Hv, V, m, n, "input", squared=False)
    assert torch.allclose(unsq**2, Cin)
    with pytest.raises(ValueError, match="must be \\(n = 6"):
        correspondence_matrix(Hv, U, m, n, "input")
    with pytest.raises(ValueError, match="factor must be"):
        correspondence_matrix(Hv, V, m, n, "x")  # type: ignore[arg-type]


def test_gaussian_singular_ratio_limits_and_values():
    from hessian_spectra.structure.overlap import gaussian_singular_ratio
    # a single row or column is rank one: the ratio is exactly 1
    assert gaussian_singular_ratio(1, 7, samples=5) == pytest.approx(1.0)
    # the inventory's Monte Carlo values (000 §F Fig 6), to the sampling error of 400 draws
    assert gaussian_singular_ratio(6, 75, samples=400) == pytest.approx(0.494, abs=0.01)
    assert gaussian_singular_ratio(120, 400, samples=50) == pytest.approx(0.140, abs=0.005)
    assert gaussian_singular_ratio(6, 75, samples=50, seed=3) == gaussian_singular_ratio(6, 75, samples=50, seed=3)
    with pytest.raises(ValueError, match="samples"):
        gaussian_singular_ratio(3, 3, samples=0)
