"""Tests of the linear-networks theory (paper ``linear_networks``) against exact float64 Hessians.

Every reference is a dense Hessian from ``torch.autograd.functional.hessian`` of the data loss (2)
of a small linear network, or an exact closed form / count.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hessian_spectra import linear_nets as ln
from hessian_spectra.papers.linear_networks import experiments as ex
from hessian_spectra.training import HalvingSchedule, gradient_descent, half_squared_error, model_objective

torch.set_num_threads(1)
DT = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _dense_hessian(Ws, X, Y) -> torch.Tensor:
    dims = ln.layer_dims(Ws)
    w = ln.flatten_weights(Ws)
    return torch.autograd.functional.hessian(lambda v: ln.loss_data(ln.unflatten_weights(v, dims), X, Y), w)


def _dense_ggn(Ws, X) -> torch.Tensor:
    """(1/n) J^T J of Eq. (3), J = d vec(W_e X) / dw by autograd."""
    dims = ln.layer_dims(Ws)
    w = ln.flatten_weights(Ws)
    J = torch.autograd.functional.jacobian(lambda v: (ln.end_to_end(ln.unflatten_weights(v, dims)) @ X).reshape(-1), w)
    return J.T @ J / X.shape[1]


def _whitened(d0: int, n: int, sigma_x: float, seed: int) -> torch.Tensor:
    return ln.orthogonalize(torch.randn(d0, n, generator=_gen(seed), dtype=DT), sigma_x)


def _random_weights(dims, seed):
    g = _gen(seed)
    return [torch.randn(b, a, generator=g, dtype=DT) / math.sqrt(a) for a, b in zip(dims[:-1], dims[1:])]


# ------------------------------------------------------------------------------------------------
# App. C helpers (corrected)


def test_orthogonalize_satisfies_assumption2_and_keeps_row_space():
    Xp = torch.randn(7, 40, generator=_gen(0), dtype=DT)
    X = ln.orthogonalize(Xp, 3.0)
    assert torch.allclose(X @ X.T / 40, 9.0 * torch.eye(7, dtype=DT), atol=1e-12)
    # X = A X' for an invertible A: the row spaces coincide (projector equality)
    P1 = X.T @ torch.linalg.solve(X @ X.T, X)
    P2 = Xp.T @ torch.linalg.solve(Xp @ Xp.T, Xp)
    assert torch.allclose(P1, P2, atol=1e-12)
    with pytest.raises(ValueError, match="n >= d0"):
        ln.orthogonalize(torch.randn(10, 5, dtype=DT), 1.0)


def test_balanced_sampler_is_strongly_balanced():
    s = torch.tensor([0.9, 0.5, 0.3, 0.1], dtype=DT)
    Ws = ln.sample_balanced_weights([9, 6, 4, 5], s, generator=_gen(1))
    assert [tuple(W.shape) for W in Ws] == [(6, 9), (4, 6), (5, 4)]
    assert max(ln.imbalance(Ws)) < 1e-14
    for W in Ws:
        assert torch.allclose(torch.linalg.svdvals(W)[:4], s, atol=1e-14)
    with pytest.raises(ValueError, match="min\\(dims\\)"):
        ln.sample_balanced_weights([9, 6, 4, 5], s[:3])


def test_label_proportion_subsampler_corrected_rule():
    # alpha_actual = (n - 9 floor((1-alpha)n/9))/n at n = 5000 (inventory L3)
    expected = {0.1: 0.1000, 0.2: 0.2008, 0.3: 0.3016, 0.5: 0.5014, 0.7: 0.7012, 0.9: 0.9010, 1.0: 1.0}
    for a, want in expected.items():
        counts = ln.label_proportion_counts(5000, a)
        assert sum(counts.values()) == 5000
        assert counts[0] / 5000 == pytest.approx(want, abs=1e-12)
        assert max(counts.values()) == counts[0]
    # App. C read literally is infeasible below alpha = 8/9 (erratum E3)
    assert not ln.paper_literal_label_proportion_counts(5000, 0.5)["feasible"]
    assert ln.paper_literal_label_proportion_counts(5000, 0.9)["alpha_max_achieved"] == pytest.approx(0.1)
    y = torch.cat([torch.zeros(60, dtype=torch.int64), torch.arange(1, 10).repeat_interleave(30)])
    idx, a = ln.subsample_label_proportion(y, 100, 0.55, seed=3)
    assert len(idx) == 100 and len(set(idx.tolist())) == 100
    assert int((y[idx] == 0).sum()) == 100 - 9 * 5 and a == pytest.approx(0.55)
    with pytest.raises(ValueError, match="class 0 has 60"):
        ln.subsample_label_proportion(y, 100, 0.9)


def test_one_hot_label_proportions():
    y = torch.tensor([0, 0, 0, 1, 2, 2])
    Y = ln.one_hot_columns(y, 3)
    assert torch.allclose(Y @ Y.T, torch.diag(torch.tensor([3.0, 1.0, 2.0], dtype=DT)))
    assert torch.allclose(ln.label_proportions(Y), torch.tensor([0.5, 1 / 3, 1 / 6], dtype=DT))


# ------------------------------------------------------------------------------------------------
# Eq. (7): trace, and Tr H = Tr GGN at every point of a linear net


@pytest.mark.parametrize("dims", [[6, 5, 4, 3], [5, 3], [4, 6, 3, 5, 2]])
def test_trace_eq7_equals_exact_hessian_trace_at_arbitrary_points(dims):
    X = _whitened(dims[0], 3 * dims[0], 1.7, seed=2)
    Y = torch.randn(dims[-1], X.shape[1], generator=_gen(3), dtype=DT)
    Ws = _random_weights(dims, seed=4)  # unbalanced, loss far from 0
    assert float(ln.loss_data(Ws, X, Y)) > 0.1
    H = _dense_hessian(Ws, X, Y)
    G = _dense_ggn(Ws, X)
    eq7 = ln.trace_eq7(Ws, 1.7)
    assert float(torch.trace(H)) == pytest.approx(eq7, rel=1e-10)
    assert float(torch.trace(G)) == pytest.approx(eq7, rel=1e-10)
    if len(dims) > 2:
        assert float((H - G).abs().max()) > 1e-3  # the Hessian is not the GGN here, only traces agree


def test_bound_eq6_inequality_and_equality_at_balanced_points():
    dims = [6, 5, 4, 3]
    X = _whitened(6, 20, 1.0, seed=5)
    Ws = _random_weights(dims, seed=6)
    lam = float(torch.linalg.eigvalsh(_dense_ggn(Ws, X)).max())
    assert lam <= ln.lambda_max_bound_eq6(Ws, 1.0) * (1 + 1e-12)
    Wb = ln.sample_balanced_weights(dims, torch.tensor([0.8, 0.6, 0.2], dtype=DT), generator=_gen(7))
    lam_b = float(torch.linalg.eigvalsh(_dense_ggn(Wb, X)).max())
    assert lam_b == pytest.approx(ln.lambda_max_bound_eq6(Wb, 1.0), rel=1e-10)


# ------------------------------------------------------------------------------------------------
# Eq. (9) and the count of non-zero eigenvalues (Fig. 1(a) at small size)


def _zero_loss_balanced(dims, s, sigma_x, n, seed):
    X = _whitened(dims[0], n, sigma_x, seed)
    Ws = ln.sample_balanced_weights(dims, torch.as_tensor(s, dtype=DT), generator=_gen(seed + 1))
    Y = ln.end_to_end(Ws) @ X  # Assumption 1 exactly, as in App. C Fig. 1 left
    return X, Y, Ws


@pytest.mark.parametrize("dims,s", [([9, 4, 4, 5], [0.95, 0.7, 0.45, 0.2]),
                                    ([6, 6, 6, 6], [0.9, 0.8, 0.5, 0.4, 0.3, 0.1]),
                                    ([8, 3, 5], [0.9, 0.6, 0.35])])
def test_eq9_eigenvalues_and_true_nonzero_count(dims, s):
    sigma_x, L = 3.0, len(dims) - 1
    X, Y, Ws = _zero_loss_balanced(dims, s, sigma_x, n=2 * dims[0] + 3, seed=8)
    H = _dense_hessian(Ws, X, Y)
    assert float((H - _dense_ggn(Ws, X)).abs().max()) < 1e-10  # zero loss: H = GGN
    ev = torch.sort(torch.linalg.eigvalsh(H), descending=True).values
    theory = torch.sort(ln.balanced_eigenvalues_eq9(s, L, sigma_x, dims[0], dims[-1]).flatten(),
                        descending=True).values
    k = min(dims)
    true_count = ln.nonzero_count_balanced(dims[0], dims[-1], k)
    assert int((theory > 0).sum()) == true_count
    assert torch.allclose(ev[:true_count], theory[:true_count], rtol=1e-8, atol=1e-11)
    assert float(ev[true_count:].abs().max()) < 1e-10 * float(ev[0])
    # the paper's count (min d)^2 is wrong unless d0 = dL = k (erratum E4)
    paper = ln.paper_nonzero_count_sec3(dims)
    assert (true_count == paper) == (dims[0] == k and dims[-1] == k)
    # closed form (9b) equals the sum (9a)
    lam = ln.balanced_eigenvalues_eq9(s, L, sigma_x, dims[0], dims[-1])
    assert ln.balanced_eigenvalue_eq9b(s[0], s[1], L, sigma_x) == pytest.approx(float(lam[0, 1]), rel=1e-12)
    assert ln.balanced_eigenvalue_eq9b(s[1], s[1], L, sigma_x) == pytest.approx(float(lam[1, 1]), rel=1e-12)


def test_eq13_eq14_at_zero_loss():
    dims, s, sigma_x = [7, 5, 5, 5, 7], [0.9, 0.7, 0.5, 0.3, 0.2], 2.0
    X, Y, Ws = _zero_loss_balanced(dims, s, sigma_x, n=20, seed=9)
    L = len(dims) - 1
    sv = ln.singular_values_from_labels_eq13(Y, sigma_x, L)
    assert torch.allclose(sv[:5], torch.tensor(s, dtype=DT), atol=1e-10)
    lam = float(torch.linalg.eigvalsh(_dense_hessian(Ws, X, Y)).max())
    alpha = float(ln.label_proportions(Y)[0])
    assert lam == pytest.approx(ln.sharpness_eq14(L, alpha, sigma_x), rel=1e-9)


def test_eq14_spot_values_fig1b():
    vals = [ln.sharpness_eq14(L, 0.1) for L in range(1, 6)]
    assert np.allclose(vals, [1.000, 0.632, 0.646, 0.711, 0.792], atol=6e-4)
    assert ln.sharpness_eq14(4, 1.0) == pytest.approx(4.0)
    grid = ln.sharpness_eq14(np.arange(1, 4)[:, None], np.array([[0.5, 1.0]]))
    assert grid.shape == (3, 2) and grid[2, 1] == pytest.approx(3.0)


def test_projected_labels_give_the_trained_sharpness_at_least_squares_point():
    """One-hot labels, n > d0: at the balanced least-squares point H = GGN and lambda_max = lambda*,
    not the paper's Eq. (14) (erratum E5)."""
    d0, n, L, dL = 6, 40, 3, 4
    X = _whitened(d0, n, 1.0, seed=10)
    y = torch.randint(0, dL, (n,), generator=_gen(11))
    y[:15] = 0  # a majority class
    Y = ln.one_hot_columns(y, dL)
    stats = ln.SufficientStatistics.from_data(X, Y, diagonalize=True)
    W_star = (Y @ X.T) @ torch.linalg.inv(X @ X.T)  # least squares
    Ws = ln.balanced_factorization(W_star, [5, 5], generator=_gen(12))
    assert torch.allclose(ln.end_to_end(Ws), W_star, atol=1e-12)
    H = _dense_hessian(Ws, X, Y)
    assert float(ln.loss_data(Ws, X, Y)) > 0.05  # Assumption 1 fails ...
    assert float((H - _dense_ggn(Ws, X)).abs().max()) < 1e-10  # ... but H = GGN exactly
    lam = float(torch.linalg.eigvalsh(H).max())
    proj = ln.projected_label_proportion(X @ X.T / n, Y @ X.T / n)
    assert proj == pytest.approx(stats.projected_alpha_max(), rel=1e-10)
    assert lam == pytest.approx(ln.sharpness_projected(L, proj, 1.0), rel=1e-9)
    alpha_raw = float(ln.label_proportions(Y)[0])
    assert ln.sharpness_eq14(L, alpha_raw) > lam * 1.01  # the printed Eq. (14) overestimates it


# ------------------------------------------------------------------------------------------------
# Appendix B: L = 2, Eqs. (10), (11), (15), counts


def test_shallow_eq15_eq10_eq11_and_true_count():
    dims = [12, 7, 5]
    X = _whitened(12, 30, 1.3, seed=13)
    Y = torch.randn(5, 30, generator=_gen(14), dtype=DT)
    W1, W2 = _random_weights(dims, seed=15)  # no balancedness needed
    G = _dense_ggn([W1, W2], X)
    ev = torch.sort(torch.linalg.eigvalsh(G), descending=True).values
    theory = ln.shallow_eigenvalues_eq15(W1, W2, 1.3)
    true_count = ln.nonzero_count_shallow(12, 5, 7, 5)
    assert true_count == 60 and ln.paper_nonzero_count_appb(dims) == 35  # erratum E4
    assert torch.allclose(ev[:true_count], theory[:true_count], rtol=1e-9)
    assert float(ev[true_count:].abs().max()) < 1e-10 * float(ev[0])
    paper_range = ln.shallow_eigenvalues_eq15(W1, W2, 1.3, index_range="paper")
    assert paper_range.numel() == 35
    assert float(ev[0]) == pytest.approx(ln.lambda_max_eq10(W1, W2, 1.3), rel=1e-10)
    assert float(torch.trace(G)) == pytest.approx(ln.trace_eq11(W1, W2, 1.3), rel=1e-10)
    assert float(torch.trace(G)) != pytest.approx(ln.trace_eq11(W1, W2, 1.3, index_range="paper"), rel=1e-3)
    # the Hessian differs from the GGN away from least squares (Fig. 4 at initialisation)
    H = _dense_hessian([W1, W2], X, Y)
    assert float((H - G).abs().max()) > 1e-3


# ------------------------------------------------------------------------------------------------
# Sufficient statistics: loss, gradient, HVP, GD iterates equal the data path


def _rotate_vec(v, dims, U):
    """Perturbation in original coordinates -> rotated (V_1 -> V_1 U)."""
    parts = ln.unflatten_weights(v, dims)
    return ln.flatten_weights([parts[0] @ U] + parts[1:])


@pytest.mark.parametrize("kind", ["hessian", "ggn"])
def test_statistics_hvp_equals_data_hvp(kind):
    dims = [7, 6, 5, 4]
    Xp = torch.rand(7, 50, generator=_gen(16), dtype=DT)  # raw, correlated inputs: general C
    Y = torch.randn(4, 50, generator=_gen(17), dtype=DT)
    Ws = _random_weights(dims, seed=18)
    stats = ln.SufficientStatistics.from_data(Xp, Y)
    Wr = stats.rotate_in(Ws)
    assert float(ln.loss_stats(Wr, stats)) == pytest.approx(float(ln.loss_data(Ws, Xp, Y)), rel=1e-13)
    ref = _dense_hessian(Ws, Xp, Y) if kind == "hessian" else _dense_ggn(Ws, Xp)
    op = ln.LinearNetStatsHessian(Wr, stats, kind=kind)
    p = op.shape[0]
    V = torch.randn(p, 3, generator=_gen(19), dtype=DT)
    Vr = torch.stack([_rotate_vec(V[:, i], dims, stats.U) for i in range(3)], 1)
    want = torch.stack([_rotate_vec((ref @ V)[:, i], dims, stats.U) for i in range(3)], 1)
    assert torch.allclose(op @ Vr, want, rtol=1e-10, atol=1e-12)  # block
    assert torch.allclose(op @ Vr[:, 0], want[:, 0], rtol=1e-10, atol=1e-12)  # vector
    got_np = op.to_scipy() @ Vr[:, 1].numpy()  # SciPy's solvers see NumPy arrays
    assert isinstance(got_np, np.ndarray) and np.allclose(got_np, want[:, 1].numpy(), rtol=1e-10, atol=1e-12)
    # spectra agree (the rotation is orthogonal in parameter space)
    assert torch.allclose(torch.linalg.eigvalsh(op.to_dense()), torch.linalg.eigvalsh(ref), atol=1e-10)
    with pytest.raises(ValueError, match=rf"the operator needs \({p},\)"):
        op @ torch.zeros(p + 1, dtype=DT)


def test_gd_on_statistics_equals_gd_on_data():
    dims = [6, 5, 4, 3]
    Xp = torch.rand(6, 30, generator=_gen(20), dtype=DT)
    Y = ln.one_hot_columns(torch.randint(0, 3, (30,), generator=_gen(21)), 3)
    W0 = _random_weights(dims, seed=22)
    stats = ln.SufficientStatistics.from_data(Xp, Y)
    grads, loss = ln.grad_stats(stats.rotate_in(W0), stats)
    w = ln.flatten_weights(W0).requires_grad_(True)
    ref = torch.autograd.grad(ln.loss_data(ln.unflatten_weights(w, dims), Xp, Y), w)[0]
    assert torch.allclose(ln.flatten_weights(stats.rotate_out(grads)), ref, atol=1e-13)
    res = ln.train_on_statistics(stats.rotate_in(W0), stats, lr_max=0.5, epochs=60, rule="none", checkpoints=[0, 60])
    model = ln.mlp_from_weights(W0, "linear")
    ref_run = gradient_descent(*model_objective(model, half_squared_error, Xp.T, Y.T), lr_max=0.5, epochs=60, rule="none")
    assert np.allclose(res.loss, ref_run.loss, rtol=1e-12)
    for a, b in zip(stats.rotate_out(res.checkpoints[60]), ref_run.params):
        assert torch.allclose(a, b, atol=1e-12)


def test_balanced_gd_stays_balanced_and_halving_rule():
    X = _whitened(8, 40, 1.0, seed=23)
    Y = ln.one_hot_columns(torch.randint(0, 3, (40,), generator=_gen(24)), 3)
    stats = ln.SufficientStatistics.from_data(X, Y)
    W0 = stats.rotate_in(ln.init_weights([8, 5, 5, 3], "balanced", seed=0))
    res = ln.train_on_statistics(W0, stats, lr_max=0.05, epochs=3000)
    assert res.status == "ok" and max(ln.imbalance(res.params)) < 1e-2  # S13
    assert res.loss[-1] < res.loss[0]
    assert res.halvings >= 1 and res.lr[-1] < 0.05  # it stalls at the least-squares floor and halves
    assert res.loss[-1] >= stats.least_squares_loss() - 1e-12
    sched = HalvingSchedule(1.0, "window", window=2, threshold=1e-3)
    assert sched.update(2, [1.0, 1.0, 0.9999]) == 0.5
    bad = ln.train_on_statistics(W0, stats, lr_max=1e3, epochs=100)
    assert bad.status == "diverged"


def test_tanh_mlp_build_and_loss():
    Ws = ln.init_weights([5, 4, 4, 3], "balanced", seed=1)
    model = ln.mlp_from_weights(Ws, "tanh")
    x = torch.randn(10, 5, dtype=DT)
    h = torch.tanh(torch.tanh(x @ Ws[0].T) @ Ws[1].T) @ Ws[2].T
    assert torch.allclose(model(x), h)
    assert float(half_squared_error(h, torch.zeros_like(h))) == pytest.approx(float((h ** 2).sum() / 20))
    with pytest.raises(ValueError, match="unknown init"):
        ln.init_weights([5, 3], "xavier", seed=0)


# ------------------------------------------------------------------------------------------------
# Hutchinson (the engine's) converges to the exact trace on the statistics operator


def test_hutchinson_converges_to_exact_trace():
    hessian = pytest.importorskip("hessian_spectra.hessian", reason="Hessian engine not written yet")
    if not hasattr(hessian, "hutchinson_trace"):
        pytest.skip("the Hessian engine has no hutchinson_trace yet")
    dims = [6, 5, 4, 3]
    X = _whitened(6, 24, 1.0, seed=25)
    Y = torch.randn(3, 24, generator=_gen(26), dtype=DT)
    stats = ln.SufficientStatistics.from_data(X, Y)
    Ws = stats.rotate_in(_random_weights(dims, seed=27))
    op = ln.LinearNetStatsHessian(Ws, stats)
    exact = float(torch.trace(op.to_dense()))
    assert exact == pytest.approx(ln.trace_eq7(Ws, 1.0), rel=1e-10)
    fro = float(torch.linalg.norm(op.to_dense()))
    errors = []
    for m in (100, 6400):
        est = hessian.hutchinson_trace(op, m, distribution="gaussian", generator=_gen(28))
        se = fro * math.sqrt(2 / m)  # exact standard error of Gaussian Hutchinson: Var(z^T H z) = 2 ||H||_F^2
        assert abs(float(est) - exact) < 4 * se
        assert est.std_error == pytest.approx(se, rel=0.3)
        errors.append(abs(float(est) - exact))
    assert errors[1] < 0.05 * exact


def test_prepared_real_subset_satisfies_assumption2():
    """S33 on a real subset (pooled MNIST, small n): X X^T / n = sigma_x^2 I, achieved alpha_max, labels."""
    try:
        sub = ex.prepare_subset("mnist", 300, 0.5, seed=0, pool=7, sigma_x=1.0, keep_data=True, cache=False)
    except FileNotFoundError as exc:
        pytest.skip(f"MNIST not available: {exc}")
    X, Y = sub.X.T, sub.Y.T  # columns
    assert torch.allclose(X @ X.T / 300, torch.eye(49, dtype=DT), atol=1e-10)
    assert sub.alpha_actual == pytest.approx((300 - 9 * 16) / 300)
    assert torch.allclose(Y.sum(1), torch.tensor([156.0] + [16.0] * 9, dtype=DT))
    assert torch.allclose(sub.stats.C(), torch.eye(49, dtype=DT), atol=1e-10)
    with pytest.raises(ValueError, match="alpha_max must lie"):
        ln.label_proportion_counts(300, 0.05)


@pytest.mark.parametrize("dims", [[20, 4, 3], [25, 5, 4, 3]])
def test_whitened_reduction_gives_the_full_spectrum(dims):
    """Reduced operator + closed-form complement = full Hessian spectrum (whitened inputs, any point)."""
    X = _whitened(dims[0], 60, 1.5, seed=30)
    Y = torch.randn(dims[-1], 60, generator=_gen(31), dtype=DT)
    stats = ln.SufficientStatistics.from_data(X, Y)
    Ws = stats.rotate_in(_random_weights(dims, seed=32))
    full = torch.sort(torch.linalg.eigvalsh(ln.LinearNetStatsHessian(Ws, stats).to_dense()), descending=True).values
    red = ln.whitened_input_reduction(Ws[0], stats)
    r = red.Q.shape[1]
    assert r == dims[1] + dims[-1]
    part = torch.linalg.eigvalsh(ln.LinearNetStatsHessian([Ws[0] @ red.Q] + Ws[1:], red.stats).to_dense())
    comp, mult = ln.complement_eigenvalues(Ws, red)
    merged = torch.sort(torch.cat([part, comp.repeat_interleave(mult)]), descending=True).values
    assert mult == dims[0] - r
    assert torch.allclose(merged, full, atol=1e-10)
    with pytest.raises(ValueError, match="whitened"):
        ln.whitened_input_reduction(Ws[0], ln.SufficientStatistics.from_data(torch.rand(dims[0], 60, dtype=DT), Y))


def test_plateau_rule_matches_torch_reduce_lr_on_plateau():
    """The 'plateau' reading of App. C's halving rule follows torch's ReduceLROnPlateau(factor=0.5)."""
    rng = np.random.default_rng(0)
    losses = list(np.cumsum(-np.abs(rng.normal(0, 1e-3, 400))) + 1.0)
    losses[150:] = [losses[150] * (1 - 1e-5 * i) for i in range(250)]  # a plateau
    sched = HalvingSchedule(0.1, "plateau", window=20, threshold=1e-3)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=20, threshold=1e-3,
                                                     threshold_mode="rel")
    for t in range(len(losses)):
        ours = sched.update(t, losses)
        ref.step(losses[t])
        assert ours == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
    assert sched.halvings >= 2


# ------------------------------------------------------------------------------------------------
# Dense references and the dense checks the notebooks score (S3, S7, S8, S15, S17, S29, S30)


def test_dense_references_match_the_statistics_operator():
    dims = [5, 4, 3]
    X = _whitened(5, 15, 1.2, seed=40)
    Y = torch.randn(3, 15, generator=_gen(41), dtype=DT)
    Ws = _random_weights(dims, seed=42)
    stats = ln.SufficientStatistics.from_data(X, Y)
    Wr = stats.rotate_in(Ws)  # an orthogonal change of parameters: same spectra
    for kind, dense in (("hessian", ln.dense_hessian(Ws, X, Y)), ("ggn", ln.dense_ggn(Ws, X))):
        ref = ln.LinearNetStatsHessian(Wr, stats, kind=kind).to_dense()
        assert torch.allclose(torch.linalg.eigvalsh(dense), torch.linalg.eigvalsh(ref), atol=1e-12)
    with pytest.raises(ValueError, match="need X"):
        ln.dense_hessian(Ws, X[:4], Y)


@pytest.mark.parametrize("dims,s", [([9, 4, 4, 5], [0.95, 0.7, 0.45, 0.2]), ([8, 3, 5], [0.9, 0.6, 0.35])])
def test_gap_count_recovers_the_true_count_of_dense_spectra(dims, s):
    X, Y, Ws = _zero_loss_balanced(dims, s, 3.0, n=2 * dims[0] + 3, seed=43)
    res = ln.numerical_nonzero_count(torch.linalg.eigvalsh(ln.dense_hessian(Ws, X, Y)))
    assert res.resolved and res.count == ln.nonzero_count_balanced(dims[0], dims[-1], min(dims))
    assert res.gap > 1e6


def test_trace_identity_and_label_identity():
    X = _whitened(6, 20, 1.5, seed=44)
    Y = torch.randn(3, 20, generator=_gen(45), dtype=DT)
    out = ln.trace_identity(_random_weights([6, 5, 4, 3], seed=46), X, Y, 1.5)
    assert out["rel_diff_hessian"] < 1e-12 and out["rel_diff_ggn"] < 1e-12
    assert out["loss"] > 0.1 and out["hessian_minus_ggn_max"] > 1e-3 and out["p"] == 30 + 20 + 12
    with pytest.raises(ValueError, match="whitened"):
        ln.trace_identity(_random_weights([6, 5, 4, 3], seed=46), X * 2, Y, 1.5)
    lab = ln.label_proportion_identity(torch.tensor([2, 2, 0, 1, 2]), 3)
    assert lab["proportions_svd"] == pytest.approx([0.6, 0.2, 0.2]) and lab["max_abs_diff"] < 1e-15
    assert lab["max_offdiag_YYt"] == 0.0


def test_dense_check_drivers():
    b = ex.balanced_dense_check(dims=(12, 4, 4, 5), n=30, seed=1)
    assert b["nonzero_true"] == 12 * 5 - 8 * 1 and b["nonzero_paper"] == 16
    assert b["nonzero_numeric"] == b["nonzero_true"] and b["count_resolved"] and b["loss"] < 1e-20
    nz = b["theory"] > 0
    assert np.max(np.abs(b["numeric"][nz] - b["theory"][nz]) / b["theory"][nz]) < 1e-9
    s = ex.shallow_dense_check(dims=(12, 7, 5), n=30, seed=2)
    assert s["nonzero_true"] == s["nonzero_numeric"] == 60 and s["nonzero_paper"] == 35
    assert s["numeric"][0] == pytest.approx(s["eq10"], rel=1e-10)
    t = ex.trace_dense_check(dims=(6, 5, 4), n=18, num_points=2, seed=3)
    assert len(t["rows"]) == 2 and t["max_rel_diff_hessian"] < 1e-12 and t["min_loss"] > 0.1
    with pytest.raises(ValueError, match="L = 2"):
        ex.shallow_dense_check(dims=(6, 5, 4, 3))
    with pytest.raises(ValueError, match="s_range"):
        ex.balanced_dense_check(s_range=(0.0, 1.0))
