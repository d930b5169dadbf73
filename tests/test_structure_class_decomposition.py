"""Class / cross-class decomposition of the Gauss-Newton matrix G (Papyan 2020, Secs. 5-6, App. A; inventory
001 §N facts 1-4, §L1, §L3, §L4) against dense float64 references from the engine's ggn_operator."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hessian_spectra.hessian import ggn_operator
from hessian_spectra.structure import (
    ProjectionKnockout,
    class_covariances,
    class_ggn_traces,
    class_moments,
    cross_class_moments,
    extended_gradients,
    ggn_ntk_dual,
    gradient_class_means,
    gram_dual,
    gram_dual_eigenvalues,
    orthonormal_basis,
    projection_knockout,
    within_class_traces,
)
from torch import nn

torch.set_num_threads(1)
C = 4
N = 40
TOL = 1e-12


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def _model(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 7), nn.ReLU(), nn.Linear(7, C)).double()
    with torch.no_grad():  # non-trivial running statistics (the pass uses eval mode)
        m[1].running_mean.uniform_(-0.5, 0.5)
        m[1].running_var.uniform_(0.5, 2.0)
        m[1].weight.uniform_(0.5, 1.5)
    return m


def _data(n: int = N, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g, dtype=torch.float64) + 1.0  # not centred (inventory 001 §M)
    y = torch.arange(n) % C  # every class present
    return x, y[torch.randperm(n, generator=g)]


@pytest.fixture(scope="module")
def setup() -> dict:
    m = _model()
    x, y = _data()
    G = ggn_operator(m, F.cross_entropy, (x, y)).to_dense()
    eg = extended_gradients(m, (x, y))
    return {"model": m, "x": x, "y": y, "G": G, "eg": eg, "mom": eg.moments()}


# ---------------------------------------------------------------------------------------------
# Eq. (6.2) and the decomposition (6.4)/(A.1)


def test_weighted_second_moment_of_extended_gradients_is_ggn(setup: dict) -> None:
    """G = Ave J^T (diag p - pp^T) J = Σ w_{i,c,c'} g g^T with w = p/N (Eq. (6.2), App. A)."""
    assert _rel(setup["eg"].ggn(), setup["G"]) < TOL
    assert _rel(setup["mom"].dense("total"), setup["G"]) < TOL
    assert abs(float(setup["mom"].weights.sum()) - 1.0) < 1e-14


def test_decomposition_is_exact(setup: dict) -> None:
    """G = G_class + G_cross + G_within + G_{c=c'} to rounding (Eq. (6.4), App. A.3)."""
    mom, G = setup["mom"], setup["G"]
    parts = {k: mom.dense(k) for k in ("class", "cross", "within", "same_class")}
    assert _rel(sum(parts.values()), G) < TOL
    assert _rel(parts["class"] + parts["cross"] + parts["same_class"], mom.dense("low_rank")) < TOL
    # G_within is the covariance of the gradients around their cross-class means (Eq. (6.3))
    eg = setup["eg"]
    dev = eg.vectors - mom.cross_means[eg.labels]  # (N, C, p)
    r = (eg.probs.sqrt()[:, :, None] * dev).reshape(-1, dev.shape[2])
    assert _rel(r.T @ r / N, parts["within"]) < TOL
    for k in ("class", "cross", "within", "same_class"):  # every part is PSD
        assert float(torch.linalg.eigvalsh(parts[k]).min()) > -1e-12


def test_printed_class_specific_cross_term_is_an_erratum(setup: dict) -> None:
    """G_cross,c with g_{c'} as printed (§6, App. A.2) breaks the identity; with g_c it holds (inventory
    001 §E1)."""
    mom, G = setup["mom"], setup["G"]
    gc = mom.class_means
    printed = torch.zeros_like(G)
    for c in range(C):
        for k in range(C):
            if k != c:
                d = mom.cross_means[c, k] - gc[k]
                printed += float(mom.weights[c, k]) * torch.outer(d, d)
    wrong = mom.dense("class") + printed + mom.dense("within") + mom.dense("same_class")
    assert _rel(wrong, G) > 1e-3


def test_gradient_means_sum_to_zero_fact_1(setup: dict) -> None:
    """Σ_{c'} w_{c,c'} g_{c,c'} = 0 and g_{c,c} = -(w_c/w_{c,c}) g_c (inventory 001 fact 1)."""
    mom = setup["mom"]
    scale = float(mom.cross_means.abs().max())
    assert float(mom.mean_residual().abs().max()) < 1e-14 * scale * C
    for c in range(C):
        expect = -(mom.class_weights[c] / mom.weights[c, c]) * mom.class_means[c]
        assert _rel(mom.cross_means[c, c], expect) < 1e-12
    assert torch.allclose(mom.cross_proportions.sum(1), torch.ones(C, dtype=torch.float64))


def test_rank_facts_2_and_4(setup: dict) -> None:
    """rank G_cross ≤ C²-2C, rank(G_class+G_cross+G_{c=c'}) ≤ C(C-1): its last C Gram eigenvalues (Fig 6
    'teal') are 0; G_{c=c'} lies in span{g_c}; rank G ≤ N(C-1) (facts 2, 4)."""
    mom = setup["mom"]
    top = float(mom.spectrum("low_rank")[0])
    assert float(mom.spectrum("low_rank")[-C:].abs().max()) < 1e-12 * top
    assert float(mom.spectrum("cross")[C * C - 2 * C:].abs().max()) < 1e-12 * top
    basis = mom.basis("class")
    same = mom.dense("same_class")
    assert _rel(basis @ (basis.T @ same), same) < 1e-12
    ev = ggn_ntk_dual(setup["model"], (setup["x"], setup["y"]))
    assert int((ev.abs() < 1e-12 * ev[0]).sum()) >= N


# ---------------------------------------------------------------------------------------------
# One pass with C backward passes over class-sorted data (inventory 001 §L3)


@pytest.mark.parametrize("batch_size", [None, 3, 16])
def test_one_pass_means_match_dense(setup: dict, batch_size: int | None) -> None:
    mom = setup["mom"]
    fast = gradient_class_means(setup["model"], (setup["x"], setup["y"]), batch_size=batch_size)
    assert fast.class_second_moments is None
    assert float((fast.cross_means - mom.cross_means).abs().max()) < 1e-13
    assert float((fast.weights - mom.weights).abs().max()) < 1e-15
    assert torch.equal(fast.class_counts, torch.full((C,), N // C))


def test_pairs_method_and_mixed_batches_agree(setup: dict) -> None:
    """The author's C² masked backward passes, and an iterable of mixed batches split by class, give the
    same means."""
    x, y, mom = setup["x"], setup["y"], setup["mom"]
    pairs = gradient_class_means(setup["model"], (x, y), batch_size=16, method="pairs")
    batches = [(x[s:s + 11], y[s:s + 11]) for s in range(0, N, 11)]
    mixed = gradient_class_means(setup["model"], batches)
    for other in (pairs, mixed):
        assert float((other.cross_means - mom.cross_means).abs().max()) < 1e-13
        assert float((other.weights - mom.weights).abs().max()) < 1e-15


def test_one_pass_is_deterministic(setup: dict) -> None:
    a = gradient_class_means(setup["model"], (setup["x"], setup["y"]), batch_size=7)
    b = gradient_class_means(setup["model"], (setup["x"], setup["y"]), batch_size=7)
    assert torch.equal(a.cross_means, b.cross_means) and torch.equal(a.weights, b.weights)


def test_float32_model_means_close_to_float64(setup: dict) -> None:
    m32 = _model().float()
    fast = gradient_class_means(m32, (setup["x"].float(), setup["y"]))
    assert fast.cross_means.dtype == torch.float32
    assert _rel(fast.cross_means.double(), setup["mom"].cross_means) < 1e-5


# ---------------------------------------------------------------------------------------------
# Operators and knockouts (inventory 001 §L1.4-5)


def test_low_rank_operators_match_dense(setup: dict) -> None:
    mom = setup["mom"]
    V = torch.randn(mom.dim, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    for comp in ("class", "cross", "same_class", "low_rank"):
        op = mom.operator(comp)
        assert op.shape == (mom.dim, mom.dim)
        assert _rel(op @ V, mom.dense(comp) @ V) < TOL
    G = setup["G"]
    Gop = ggn_operator(setup["model"], F.cross_entropy, (setup["x"], setup["y"]))
    within = mom.within_operator(Gop)
    assert _rel(within @ V, mom.dense("within") @ V) < 1e-11
    sub = mom.knockout(Gop, "class")
    assert _rel(sub @ V, (G - mom.dense("class")) @ V) < 1e-11
    proj = mom.knockout(Gop, "cross", kind="projection")
    Q = orthonormal_basis(mom.factors("cross")[0])
    P = torch.eye(mom.dim, dtype=torch.float64) - Q @ Q.T
    assert _rel(proj @ V, P @ G @ P @ V) < 1e-11
    assert Q.shape[1] == C * C - 2 * C


def test_projection_knockout_dense_square_and_rectangular() -> None:
    """Def. 3.2: (I - BB†) A (I - BB†) for symmetric matrices; (I - UU^T) A (I - VV^T) otherwise."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(9, 9, generator=g, dtype=torch.float64)
    A = X @ X.T
    Bv = torch.randn(9, 2, generator=g, dtype=torch.float64)
    B = Bv @ Bv.T
    P = torch.eye(9, dtype=torch.float64) - B @ torch.linalg.pinv(B)
    assert _rel(projection_knockout(A, B), P @ A @ P) < 1e-12
    W = torch.randn(7, 5, generator=g, dtype=torch.float64)
    Wc = torch.randn(7, 2, generator=g, dtype=torch.float64) @ torch.randn(2, 5, generator=g, dtype=torch.float64)
    U, _, Vh = torch.linalg.svd(Wc)
    U, V = U[:, :2], Vh[:2].T
    expect = (torch.eye(7, dtype=torch.float64) - U @ U.T) @ W @ (torch.eye(5, dtype=torch.float64) - V @ V.T)
    out = projection_knockout(W, Wc)
    assert _rel(out, expect) < 1e-12
    assert float((U.T @ out).abs().max()) < 1e-12 and float((out @ V).abs().max()) < 1e-12
    assert torch.equal(projection_knockout(W, torch.zeros_like(W)), W)
    op = ProjectionKnockout(A, orthonormal_basis(Bv.T))
    assert _rel(op.to_dense(), P @ A @ P) < 1e-12


# ---------------------------------------------------------------------------------------------
# Gram duals (inventory 001 §L4)


def test_gram_duals_give_the_nonzero_eigenvalues(setup: dict) -> None:
    mom = setup["mom"]
    for comp, K in (("class", C), ("cross", C * (C - 1)), ("same_class", C), ("low_rank", C * C)):
        dense = torch.linalg.eigvalsh(mom.dense(comp)).flip(0)
        dual = mom.spectrum(comp)
        assert dual.shape == (K,)
        assert float((dense[:K] - dual).abs().max()) < 1e-13 * float(dense[0])
        assert float(dense[K:].abs().max()) < 1e-13 * float(dense[0])  # nothing beyond rank K
        U = mom.eigenvectors(comp, 2)
        lam = dual[:2].to(U.dtype)
        assert _rel(mom.dense(comp) @ U, U * lam) < 1e-10
        assert _rel(U.T @ U, torch.eye(2, dtype=torch.float64)) < 1e-10
    # the derived Gram equals the Gram built directly from the component's vectors
    vec, om = mom.factors("cross")
    assert _rel(mom.gram("cross").gram, gram_dual(vec, om).gram) < 1e-13


def test_generic_gram_dual() -> None:
    g = torch.Generator().manual_seed(4)
    A = torch.randn(5, 30, generator=g, dtype=torch.float64)
    w = torch.rand(5, generator=g, dtype=torch.float64)
    dense = torch.linalg.eigvalsh(A.T @ (w[:, None] * A)).flip(0)
    assert float((gram_dual_eigenvalues(A, w) - dense[:5]).abs().max()) < 1e-13
    with pytest.raises(ValueError, match="non-negative"):
        gram_dual(A, -w)
    with pytest.raises(ValueError, match="shape \\(5,\\)"):
        gram_dual(A, w[:3])


def test_ntk_dual_gives_the_spectrum_of_G(setup: dict) -> None:
    """non-zero eig(G) = eig(Λ^{1/2} Θ Λ^{1/2})/N (inventory 001 §L4), here N C = 160 > p = 143 + ..."""
    G = setup["G"]
    ev = torch.linalg.eigvalsh(G).flip(0)
    nt = ggn_ntk_dual(setup["model"], (setup["x"], setup["y"]), batch_size=13)
    k = min(ev.numel(), nt.numel())
    assert float((ev[:k] - nt[:k]).abs().max()) < 1e-13 * float(ev[0])
    # a subset with N C < p: the dual is smaller than G and holds all its non-zero eigenvalues
    x, y = setup["x"][:12], setup["y"][:12]
    G12 = ggn_operator(setup["model"], F.cross_entropy, (x, y)).to_dense()
    ev12 = torch.linalg.eigvalsh(G12).flip(0)
    nt12 = ggn_ntk_dual(setup["model"], (x, y))
    assert nt12.shape == (12 * C,)
    assert float((ev12[:12 * C] - nt12).abs().max()) < 1e-13 * float(ev12[0])
    assert float(ev12[12 * C:].abs().max()) < 1e-13 * float(ev12[0])


# ---------------------------------------------------------------------------------------------
# Traces of G_within,c (Fig 6's red dots)


def test_within_class_traces(setup: dict) -> None:
    eg, mom = setup["eg"], setup["mom"]
    exact = torch.zeros(C, dtype=torch.float64)
    T = torch.zeros(C, dtype=torch.float64)
    for c in range(C):
        sel = eg.labels == c
        dev = eg.vectors[sel] - mom.cross_means[c]
        exact[c] = (eg.probs[sel][:, :, None] * dev.pow(2)).sum() / N
        T[c] = (eg.probs[sel][:, :, None] * eg.vectors[sel].pow(2)).sum() / N
    assert float((within_class_traces(mom, T) - exact).abs().max()) < 1e-13
    assert abs(float(exact.sum()) - float(torch.trace(mom.dense("within")))) < 1e-13
    est = class_ggn_traces(setup["model"], (setup["x"], setup["y"]), 200, generator=torch.Generator().manual_seed(5))
    assert float(((est - T) / T).abs().max()) < 0.15
    again = class_ggn_traces(setup["model"], (setup["x"], setup["y"]), 200, generator=torch.Generator().manual_seed(5))
    assert torch.equal(est, again)


# ---------------------------------------------------------------------------------------------
# Unweighted class statistics (§7.4) of any per-sample quantity


def test_class_moments_and_covariances() -> None:
    g = torch.Generator().manual_seed(6)
    X = torch.randn(50, 5, generator=g, dtype=torch.float64) + 2.0
    y = torch.cat([torch.zeros(20), torch.ones(10), torch.full((20,), 2)]).long()  # unbalanced
    m = class_moments(X, y, 3)
    assert _rel(m.total(), X.T @ X / 50) < TOL
    assert _rel(m.class_part() + m.within(), m.total()) < TOL
    means = torch.stack([X[y == c].mean(0) for c in range(3)])
    assert _rel(m.class_means, means) < TOL
    within = sum((X[y == c] - means[c]).T @ (X[y == c] - means[c]) for c in range(3)) / 50
    assert _rel(m.within(), within) < TOL
    SB, SW = class_covariances(X, y, 3)
    assert _rel(SB + SW, torch.cov(X.T, correction=0)) < TOL
    assert _rel(m.global_mean, X.mean(0)) < TOL
    dense = torch.linalg.eigvalsh(m.class_part()).flip(0)[:3]
    assert float((m.class_gram().eigenvalues - dense).abs().max()) < 1e-13 * float(dense[0])


def test_cross_class_moments_class_conditional(setup: dict) -> None:
    """Δ_c = Ave_{i∈c} Σ_{c'} p δδ^T and Δ = Σ_c π_c Δ_c (§7.7, scaling erratum)."""
    mom = setup["mom"]
    D = mom.class_conditional_moments()
    pi = mom.class_proportions
    assert _rel(torch.einsum("c,cde->de", pi, D), mom.dense("total")) < TOL


# ---------------------------------------------------------------------------------------------
# Bad input


def test_bad_input_raises(setup: dict) -> None:
    m, x, y = setup["model"], setup["x"], setup["y"]
    with pytest.raises(ValueError, match="C mismatch"):
        gradient_class_means(m, (x, y), num_classes=5)
    with pytest.raises(ValueError, match="out of range"):
        gradient_class_means(m, (x, y + 1))
    with pytest.raises(ValueError, match="out of range"):
        class_moments(x, y - 1, C)
    with pytest.raises(ValueError, match="method"):
        gradient_class_means(m, (x, y), method="fast")
    with pytest.raises(ValueError, match="no samples"):
        gradient_class_means(m, (x[y != 2], y[y != 2]))
    with pytest.raises(ValueError, match="C mismatch"):
        cross_class_moments(setup["eg"].vectors, y, setup["eg"].probs[:, :3])
    with pytest.raises(ValueError, match="unknown component"):
        setup["mom"].operator("between")
    with pytest.raises(ValueError, match="second moments"):
        gradient_class_means(m, (x, y)).dense("within")
    with pytest.raises(ValueError, match="C mismatch"):
        within_class_traces(setup["mom"], torch.ones(3))
    with pytest.raises(ValueError, match="differ in shape"):
        projection_knockout(torch.eye(3, dtype=torch.float64), torch.eye(4, dtype=torch.float64))
    with pytest.raises(ValueError, match="kind"):
        setup["mom"].knockout(setup["G"], "class", kind="swap")
