"""Experiments of "How the Hessian-Spectrum of Linear Networks Depends on Data" (paper ``linear_networks``).

The cached experiment functions behind the notebooks ``notebooks/linear_networks/*``: the paper's
real-data subsets (App. C) with their sufficient statistics, the sharpness sweeps of Figs. 1(c) and 2,
the trace (Fig. 3) and top-eigenvalue (Fig. 4) runs along full-batch gradient descent, and the dense
balanced zero-loss spectrum of Fig. 1(a); and the small dense checks of the exact identities the
notebooks score (Eqs. (7), (9), (15), the counts of non-zero eigenvalues, the label proportions of §4).
The theory they check lives in :mod:`hessian_spectra.linear_nets`;
the rules that turn their numbers into verdicts in :mod:`.claims`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from scipy.sparse.linalg import lobpcg
from tqdm.auto import tqdm

from ...data import load_dataset
from ...hessian import hessian_operator, hutchinson_trace, top_eigenpairs
from ...linear_nets import closed_form as ln
from ...linear_nets.dense import dense_ggn, dense_hessian, label_proportion_identity, numerical_nonzero_count, trace_identity
from ...linear_nets.statistics import (
    LinearNetStatsHessian,
    SufficientStatistics,
    complement_eigenvalues,
    loss_data,
    train_on_statistics,
    whitened_input_reduction,
)
from ...linear_nets.weights import flatten_weights, init_weights, mlp_from_weights, unflatten_weights
from ...pipeline.cache import cached
from ...training import gradient_descent, half_squared_error, model_objective

Tensor = torch.Tensor

__all__ = [
    "PreparedSubset", "prepare_subset", "sharpness_vs_label_proportion", "sharpness_eq14_or_nan",
    "trace_during_training", "top_eigenvalues_during_training", "balanced_zero_loss_spectrum",
    "balanced_dense_check", "shallow_dense_check", "trace_dense_check", "label_proportion_check",
]


# ---------------------------------------------------------------------------------------------
# The paper's real-data subsets (App. C), cached


@dataclass
class PreparedSubset:
    """A subset of a real data set as the paper uses it, with its sufficient statistics.

    ``alpha_actual`` is the achieved majority proportion (``None`` for a uniform random subset),
    ``rank`` the numerical rank of the raw inputs X', ``projected_alpha_max`` = sigma_max^2(Y Pi)/n.
    ``X``/``Y`` (rows: n x d0, n x dL, float64) only when requested.
    """

    stats: SufficientStatistics
    name: str
    n: int
    d0: int
    alpha_max: float | None
    alpha_actual: float | None
    whiten: bool
    sigma_x: float | None
    pool: int | None
    rank: int
    projected_alpha_max: float
    source: str
    note: str
    X: Tensor | None = None
    Y: Tensor | None = None

    def describe(self) -> dict:
        """JSON-ready description (for figure metadata)."""
        return {"name": self.name, "split": "train", "n": self.n, "d0": self.d0, "alpha_max": self.alpha_max,
                "alpha_actual": self.alpha_actual, "whitened": self.whiten, "sigma_x": self.sigma_x,
                "pool_to": self.pool, "rank_raw_inputs": self.rank,
                "projected_alpha_max": self.projected_alpha_max, "source": self.source, "note": self.note}


def _prepare_subset_arrays(name: str, n: int, alpha_max: float | None, seed: int, whiten: bool,
                           sigma_x: float, pool: int | None, keep_data: bool) -> dict:
    data = load_dataset(name, "train")
    if alpha_max is None:
        g = torch.Generator().manual_seed(int(seed))
        if not 0 < n <= len(data):
            raise ValueError(f"n={n} out of range for {name}")
        idx = torch.randperm(len(data), generator=g)[:n].sort().values
        alpha_actual = None
    else:
        idx, alpha_actual = ln.subsample_label_proportion(data.y, n, alpha_max, seed=seed,
                                                          num_classes=data.num_classes)
    x = data.x[idx].to(torch.float64)
    if pool is not None:
        x = torch.nn.functional.adaptive_avg_pool2d(x, pool)
    Xp = x.reshape(n, -1).T.contiguous()  # d0 x n, pixels in [0, 1], not centred (inventory §D)
    Y = ln.one_hot_columns(data.y[idx], data.num_classes)
    rank = ln.numerical_rank(Xp)
    X = ln.orthogonalize(Xp, sigma_x) if whiten else Xp
    stats = SufficientStatistics.from_data(X, Y)
    out = {"c": stats.c, "M": stats.M, "c0": stats.c0, "U": stats.U, "alpha_actual": alpha_actual,
           "rank": rank, "d0": int(Xp.shape[0]), "source": data.source, "note": data.note,
           "projected_alpha_max": stats.projected_alpha_max()}
    if keep_data:
        out["X"] = X.T.contiguous()
        out["Y"] = Y.T.contiguous()
    return out


def prepare_subset(name: str, n: int, alpha_max: float | None, seed: int = 0, whiten: bool = True,
                   sigma_x: float = 1.0, pool: int | None = None, keep_data: bool = False,
                   cache: bool = True) -> PreparedSubset:
    """Load a training-split subset as in App. C and compute its sufficient statistics (cached on disk).

    - ``alpha_max``: a float uses the corrected label-proportion rule
      (:func:`linear_nets.subsample_label_proportion`); ``None`` draws a uniform random subset
      (Figs. 3-4 do not state alpha_max, inventory §L3).
    - pixels in [0, 1], flattened, not centred (scaling not stated; inventory §D); ``pool`` (ours,
      for reduced scales) average-pools images to ``pool x pool`` first.
    - ``whiten``: App. C whitening with ``sigma_x`` (:func:`linear_nets.orthogonalize`); raw inputs
      otherwise (Fig. 2(a)).
    """
    if whiten and not sigma_x > 0:
        raise ValueError("sigma_x must be positive")
    args = (name, int(n), None if alpha_max is None else float(alpha_max), int(seed), bool(whiten),
            float(sigma_x), None if pool is None else int(pool), bool(keep_data))
    if cache:
        arrays = cached(_prepare_subset_arrays)(*args)
    else:
        arrays = _prepare_subset_arrays(*args)
    stats = SufficientStatistics(c=arrays["c"], M=arrays["M"], c0=arrays["c0"], n=int(n), U=arrays["U"])
    return PreparedSubset(stats=stats, name=name, n=int(n), d0=arrays["d0"], alpha_max=args[2],
                          alpha_actual=arrays["alpha_actual"], whiten=bool(whiten),
                          sigma_x=float(sigma_x) if whiten else None, pool=args[6], rank=arrays["rank"],
                          projected_alpha_max=arrays["projected_alpha_max"], source=arrays["source"],
                          note=arrays["note"], X=arrays.get("X"), Y=arrays.get("Y"))


# ---------------------------------------------------------------------------------------------
# Experiment drivers shared by the notebooks (each result is cached on disk by its arguments)


def _scaled(stats: SufficientStatistics, a: float) -> SufficientStatistics:
    """Statistics of the inputs multiplied by a: c -> a^2 c, M -> a M (c0 unchanged)."""
    return SufficientStatistics(c=stats.c * a ** 2, M=stats.M * a, c0=stats.c0, n=stats.n, U=stats.U)


def _lambda_max(op, seed: int = 0) -> float:
    """lambda_max by the engine's Lanczos (``top_eigenpairs``, its default tolerance)."""
    res = top_eigenpairs(op, 1, generator=torch.Generator().manual_seed(seed))
    return float(res.eigenvalues[0])


def _sharpness_point(name: str, alpha_max: float, n: int, seed: int, init: str, whiten: bool, sigma_x: float,
                     pool: int | None, widths: tuple[int, ...], lr_max: float, epochs: int, rule: str,
                     input_scale: str | None, activation: str, dtype: str = "float64") -> dict:
    torch.set_num_threads(1)
    sub = prepare_subset(name, n, alpha_max, seed=seed, whiten=whiten, sigma_x=sigma_x, pool=pool,
                         keep_data=(activation != "linear"))
    stats = sub.stats
    c_max = float(stats.c.max())
    scale = 1.0
    if input_scale == "unit_top":  # ours, for Fig. 2(a): X / sqrt(lambda_max(C)) keeps the geometry
        scale = 1.0 / math.sqrt(c_max)
        stats = _scaled(stats, scale)
    elif input_scale is not None:
        raise ValueError(f"unknown input_scale {input_scale!r}; known: None, 'unit_top'")
    dims = [sub.d0, *widths, stats.dL]
    W0 = init_weights(dims, init, seed=seed)
    L = len(dims) - 1
    out = {"dataset": name, "alpha_max": alpha_max, "alpha_actual": sub.alpha_actual, "n": n, "d0": sub.d0,
           "rank_raw_inputs": sub.rank, "lambda_max_C": c_max * scale ** 2, "input_scale": scale,
           "eq14": sharpness_eq14_or_nan(L, sub.alpha_actual, sigma_x if whiten else None),
           "eq14_projected": (ln.sharpness_projected(L, sub.projected_alpha_max, sigma_x) if whiten
                              else float("nan")),
           "projected_alpha_max": sub.projected_alpha_max, "least_squares_loss": stats.least_squares_loss()}
    if activation == "linear":
        Wr = stats.rotate_in(W0)
        out["lambda_init"] = _lambda_max(LinearNetStatsHessian(Wr, stats), seed)
        res = train_on_statistics(Wr, stats, lr_max, epochs, rule=rule)
        finite = res.status == "ok"
        out["lambda_final"] = _lambda_max(LinearNetStatsHessian(res.params, stats), seed) if finite else float("nan")
        out["imbalance_final"] = max(ln.imbalance(res.params)) if finite and L > 1 else float("nan")
    else:
        tdt = {"float64": torch.float64, "float32": torch.float32}[dtype]
        X = (sub.X * scale).to(tdt)
        Y = sub.Y.to(tdt)
        model = mlp_from_weights([W.to(tdt) for W in W0], activation)
        data = (X, Y)
        out["lambda_init"] = _lambda_max(hessian_operator(model, half_squared_error, data), seed)
        res = gradient_descent(*model_objective(model, half_squared_error, X, Y), lr_max, epochs, rule=rule)
        finite = res.status == "ok"
        out["lambda_final"] = (_lambda_max(hessian_operator(model, half_squared_error, data), seed) if finite
                               else float("nan"))
        out["imbalance_final"] = float("nan")
    out.update({"status": res.status, "epochs_run": res.epochs_run, "loss_init": float(res.loss[0]),
                "loss_final": float(res.loss[-1]), "halvings": res.halvings,
                "lr_final": float(res.lr[-1]) if res.lr.size else lr_max})
    return out


def sharpness_eq14_or_nan(L: int, alpha: float | None, sigma_x: float | None) -> float:
    """Eq. (14) where it is defined (whitened inputs and a set alpha_max), NaN otherwise."""
    if alpha is None or sigma_x is None:
        return float("nan")
    return ln.sharpness_eq14(L, alpha, sigma_x)


def sharpness_vs_label_proportion(name: str, alphas: Sequence[float], *, n: int, seed: int = 0,
                                  init: str = "balanced", whiten: bool = True, sigma_x: float = 1.0,
                                  pool: int | None = None, widths: Sequence[int] = (64, 64, 64),
                                  lr_max: float = 0.01, epochs: int = 10_000, rule: str = "window",
                                  input_scale: str | None = None, activation: str = "linear",
                                  dtype: str = "float64", cache: bool = True, progress: bool = True) -> list[dict]:
    """Figs. 1(c) and 2(a-c): final sharpness lambda_max of a trained network for each alpha_max.

    For each alpha: the App. C subset (corrected rule), the given init, full-batch GD with App. C's
    halving rule, then lambda_max of the exact loss Hessian by Lanczos (the engine's
    ``top_eigenpairs``) at initialisation and at the end; beside it Eq. (14) at the achieved
    alpha_max and the projected-label value lambda* (erratum E5). Linear networks train on the
    sufficient statistics (exact, float64); ``activation="tanh"`` trains on the data in ``dtype``
    (precision not stated by the paper) and uses the engine's full-data ``hessian_operator``.
    Returns one dict per alpha.
    """
    fn = _sharpness_point
    if cache:
        fn = cached(_sharpness_point)
    it = alphas
    if progress:
        it = tqdm(alphas, desc=f"{name} alpha sweep", leave=False)
    return [fn(name, float(a), int(n), int(seed), init, bool(whiten), float(sigma_x), pool, tuple(widths),
               float(lr_max), int(epochs), rule, input_scale, activation, dtype) for a in it]


def _train_with_checkpoints(name: str, n: int, seed: int, pool: int | None, sigma_x: float, widths: tuple,
                            init: str, lr_max: float, epochs: int, rule: str, checkpoints: tuple):
    sub = prepare_subset(name, n, None, seed=seed, whiten=True, sigma_x=sigma_x, pool=pool)
    dims = [sub.d0, *widths, sub.stats.dL]
    Wr = sub.stats.rotate_in(init_weights(dims, init, seed=seed))
    res = train_on_statistics(Wr, sub.stats, lr_max, epochs, rule=rule, checkpoints=checkpoints)
    return sub, res


def _trace_run(name: str, n: int, seed: int, pool: int | None, sigma_x: float, widths: tuple, init: str,
               lr_max: float, epochs: int, rule: str, checkpoints: tuple, num_probes: int) -> dict:
    torch.set_num_threads(1)
    sub, res = _train_with_checkpoints(name, n, seed, pool, sigma_x, widths, init, lr_max, epochs, rule, checkpoints)
    rows = []
    for e in sorted(res.checkpoints):
        Ws = res.checkpoints[e]
        op = LinearNetStatsHessian(Ws, sub.stats)
        est = hutchinson_trace(op, num_probes, distribution="gaussian",
                               generator=torch.Generator().manual_seed(seed * 100_003 + e))
        rows.append({"epoch": e, "loss": float(res.loss[e]), "eq7": ln.trace_eq7(Ws, sigma_x),
                     "hutchinson": float(est), "hutchinson_se": est.std_error,
                     "param_norm_sq": float(sum((W ** 2).sum() for W in Ws))})
    return {"dataset": sub.describe(), "rows": rows, "status": res.status, "halvings": res.halvings,
            "loss": res.loss[:: max(1, epochs // 200)].tolist(), "p": LinearNetStatsHessian(res.params, sub.stats).shape[0]}


def trace_during_training(name: str, *, n: int, seed: int = 0, pool: int | None = None, sigma_x: float = 1.0,
                          widths: Sequence[int] = (256, 256, 256), init: str = "kaiming", lr_max: float = 0.003,
                          epochs: int = 10_000, rule: str = "window", checkpoints: Sequence[int] = (0, 10_000),
                          num_probes: int = 100, cache: bool = True) -> dict:
    """Fig. 3: Tr(Hessian) by Hutchinson (Gaussian probes, the engine's ``hutchinson_trace``) vs Eq. (7)
    at checkpoints of full-batch GD on a whitened uniform random subset (alpha_max is not stated)."""
    fn = _trace_run
    if cache:
        fn = cached(_trace_run)
    return fn(name, int(n), int(seed), pool, float(sigma_x), tuple(widths), init, float(lr_max), int(epochs), rule,
              tuple(sorted(set(int(e) for e in checkpoints))), int(num_probes))


def _lobpcg_top(op: LinearNetStatsHessian, X0: np.ndarray, tol: float,
                maxiter: int) -> tuple[np.ndarray, np.ndarray, list, np.ndarray]:
    """The top ``X0.shape[1]`` eigenpairs of ``op`` by SciPy's LOBPCG from the block ``X0``, sorted
    descending, with LOBPCG's residual history and the final residual norms ‖A v − λ v‖."""
    A = op.to_scipy()
    vals, vecs, hist = lobpcg(A, X0, largest=True, tol=tol, maxiter=maxiter, retResidualNormsHistory=True)
    order = np.argsort(-vals)
    vals, vecs = vals[order], vecs[:, order]
    return vals, vecs, hist, np.linalg.norm(A.matmat(vecs) - vecs * vals, axis=0)


def _top_eig_run(name: str, n: int, seed: int, pool: int | None, sigma_x: float, width: int, init: str,
                 lr_max: float, epochs: int, rule: str, checkpoints: tuple, k: int, tol: float,
                 maxiter: int) -> dict:
    torch.set_num_threads(1)
    sub, res = _train_with_checkpoints(name, n, seed, pool, sigma_x, (width,), init, lr_max, epochs, rule,
                                       checkpoints)
    rows = []
    X0 = None
    rng = np.random.default_rng(seed)
    for e in sorted(res.checkpoints):
        W1, W2 = res.checkpoints[e]
        op = LinearNetStatsHessian([W1, W2], sub.stats)
        if X0 is None:
            X0 = rng.standard_normal((op.shape[0], k))
        vals, vecs, hist, resid = _lobpcg_top(op, X0, tol, maxiter)
        X0 = vecs  # warm start for the next checkpoint
        theory = ln.shallow_eigenvalues_eq15(W1, W2, sigma_x)[:k].numpy()
        rows.append({"epoch": e, "loss": float(res.loss[e]), "lobpcg": vals.tolist(), "eq15": theory.tolist(),
                     "pct_error": (100 * np.abs(vals - theory) / np.abs(vals)).tolist(),
                     "signed_pct": (100 * (vals - theory) / np.abs(vals)).tolist(),
                     "residual_norms": resid.tolist(), "lobpcg_iterations": len(hist),
                     "eq10": ln.lambda_max_eq10(W1, W2, sigma_x),
                     "max_layer_norm_sq": max(float(torch.linalg.matrix_norm(W, ord=2)) ** 2 for W in (W1, W2)),
                     "eq11": ln.trace_eq11(W1, W2, sigma_x), "param_norm_sq": float((W1 ** 2).sum() + (W2 ** 2).sum()),
                     "hvps": op.num_products})
    return {"dataset": sub.describe(), "rows": rows, "status": res.status, "halvings": res.halvings,
            "loss": res.loss[:: max(1, epochs // 200)].tolist(), "p": op.shape[0]}


def top_eigenvalues_during_training(name: str, *, n: int, seed: int = 0, pool: int | None = None,
                                    sigma_x: float = 1.0, width: int = 256, init: str = "kaiming",
                                    lr_max: float = 0.001, epochs: int = 10_000, rule: str = "window",
                                    checkpoints: Sequence[int] = (0, 10_000), k: int = 10, tol: float = 1e-6,
                                    maxiter: int = 500, reduce: bool = True, cache: bool = True) -> dict:
    """Fig. 4: top-k Hessian eigenvalues of a 2-layer linear net by LOBPCG (scipy, matrix-free on
    :class:`LinearNetStatsHessian`, warm-started from the previous checkpoint) vs Eq. (15), at
    checkpoints of full-batch GD. The percentage error is 100 |lambda_LOBPCG - lambda_Eq15| / lambda_LOBPCG,
    matched in sorted order (the paper's exact definition is not stated). LOBPCG tolerance and
    iteration cap are ours (not stated by the paper).

    ``reduce=True`` runs LOBPCG on the exact invariant subspace of :func:`whitened_input_reduction`
    (input directions spanned by the rows of W_1 and M) and adds the closed-form eigenvalues of its
    complement; the result is the spectrum of the full Hessian (tested), at a fraction of the cost.

    Each checkpoint's row also holds Eq. (10), the largest squared layer norm, the trace by Eq. (11)
    (= Tr(Hessian) for a linear net under Assumption 2) and sum_l ||W_l||_F^2 (for S12 on L = 2).
    """
    fn = _top_eig_run_reduced if reduce else _top_eig_run
    if cache:
        fn = cached(fn)
    return fn(name, int(n), int(seed), pool, float(sigma_x), int(width), init, float(lr_max), int(epochs), rule,
              tuple(sorted(set(int(e) for e in checkpoints))), int(k), float(tol), int(maxiter))


def balanced_zero_loss_spectrum(d: int, L: int, n: int, sigma_x: float, seed: int = 0) -> dict:
    """Fig. 1(a): dense Hessian spectrum of a strongly balanced zero-loss linear net vs Eqs. (13) + (9).

    App. C: X' ~ N(0,1)^{d x n} whitened with sigma_x; d singular values s ~ U[0,1]; L balanced
    d x d layers; Y = W_L...W_1 X (Assumption 1 exactly). The Hessian of the data loss (2) is formed
    densely by ``torch.autograd.functional.hessian`` in float64; the theory recovers the singular
    values from the labels by Eq. (13) and the eigenvalues by Eq. (9) over the full index range.
    """
    g = torch.Generator().manual_seed(int(seed))
    X = ln.orthogonalize(torch.randn(d, n, generator=g, dtype=torch.float64), sigma_x)
    s = torch.rand(d, generator=g, dtype=torch.float64)
    Ws = ln.sample_balanced_weights([d] * (L + 1), s, generator=g)
    Y = ln.end_to_end(Ws) @ X
    dims = [d] * (L + 1)
    w = flatten_weights(Ws)

    def f(v: Tensor) -> Tensor:
        return loss_data(unflatten_weights(v, dims), X, Y)

    H = torch.autograd.functional.hessian(f, w, vectorize=True)
    J = torch.autograd.functional.jacobian(lambda v: (ln.end_to_end(unflatten_weights(v, dims)) @ X).reshape(-1), w,
                                           vectorize=True)
    ggn_gap = float((H - J.T @ J / n).abs().max())
    numeric = torch.sort(torch.linalg.eigvalsh(H), descending=True).values
    s_from_Y = ln.singular_values_from_labels_eq13(Y, sigma_x, L)
    theory = torch.sort(ln.balanced_eigenvalues_eq9(s_from_Y[:d], L, sigma_x, d, d).flatten(), descending=True).values
    k = ln.nonzero_count_balanced(d, d, d)
    rel = ((numeric[:k] - theory[:k]).abs() / theory[:k]).max()
    # dense eigh resolves eigenvalues only down to ~eps * p * lambda_max; report the relative error above
    # a floor of 1e-10 lambda_max (ours) separately
    above = theory[:k] > 1e-10 * theory[0]
    rel_above = ((numeric[:k][above] - theory[:k][above]).abs() / theory[:k][above]).max()
    alpha = float(ln.label_proportions(Y)[0])
    return {"numeric": numeric.numpy(), "theory": theory.numpy(), "s_sampled": torch.sort(s, descending=True).values.numpy(),
            "s_from_labels": s_from_Y.numpy(), "max_rel_error_nonzero": float(rel),
            "max_rel_error_above_1e-10_lmax": float(rel_above), "num_above_1e-10_lmax": int(above.sum()),
            "smallest_nonzero_theory": float(theory[k - 1]),
            "max_abs_error_nonzero": float((numeric[:k] - theory[:k]).abs().max()),
            "s_recovery_error": float((torch.sort(s, descending=True).values - s_from_Y[:d]).abs().max()),
            "nonzero_true": k, "nonzero_paper": ln.paper_nonzero_count_sec3(dims),
            "nonzero_numeric": int((numeric.abs() > 1e-13 * numeric[0]).sum()), "p": int(w.numel()),
            "hessian_minus_ggn_max": ggn_gap, "lambda_max": float(numeric[0]),
            "eq14": ln.sharpness_eq14(L, alpha, sigma_x),
            "eq6_bound": ln.lambda_max_bound_eq6(Ws, sigma_x), "alpha_max_Y": alpha,
            "loss": float(f(w))}


def _top_eig_run_reduced(name: str, n: int, seed: int, pool: int | None, sigma_x: float, width: int, init: str,
                         lr_max: float, epochs: int, rule: str, checkpoints: tuple, k: int, tol: float,
                         maxiter: int) -> dict:
    torch.set_num_threads(1)
    sub, res = _train_with_checkpoints(name, n, seed, pool, sigma_x, (width,), init, lr_max, epochs, rule,
                                       checkpoints)
    first = res.checkpoints[min(res.checkpoints)]
    red = whitened_input_reduction(first[0], sub.stats)
    rows = []
    X0 = None
    rng = np.random.default_rng(seed)
    for e in sorted(res.checkpoints):
        W1, W2 = res.checkpoints[e]
        W1r = W1 @ red.Q
        leak = float(torch.linalg.norm(W1 - W1r @ red.Q.T) / torch.linalg.norm(W1))
        if leak > 1e-8:
            raise RuntimeError(f"W_1 left the invariant subspace (relative leak {leak:.2e})")
        op = LinearNetStatsHessian([W1r, W2], red.stats)
        if X0 is None:
            X0 = rng.standard_normal((op.shape[0], k))
        vals, vecs, hist, resid = _lobpcg_top(op, X0, tol, maxiter)
        X0 = vecs  # warm start for the next checkpoint
        comp, mult = complement_eigenvalues([W1, W2], red)
        comp_top = np.repeat(np.sort(comp.numpy())[::-1][:k], min(mult, k))
        merged = np.sort(np.concatenate([vals, comp_top]))[::-1][:k]
        theory = ln.shallow_eigenvalues_eq15(W1, W2, sigma_x)[:k].numpy()
        rows.append({"epoch": e, "loss": float(res.loss[e]), "lobpcg": merged.tolist(), "eq15": theory.tolist(),
                     "pct_error": (100 * np.abs(merged - theory) / np.abs(merged)).tolist(),
                     "signed_pct": (100 * (merged - theory) / np.abs(merged)).tolist(),
                     "lobpcg_reduced": vals.tolist(), "from_complement": int(np.sum(~np.isin(merged, vals))),
                     "residual_norms": resid.tolist(), "lobpcg_iterations": len(hist), "hvps": op.num_products,
                     "reduced_p": op.shape[0], "subspace_leak": leak,
                     "eq10": ln.lambda_max_eq10(W1, W2, sigma_x),
                     "max_layer_norm_sq": max(float(torch.linalg.matrix_norm(W, ord=2)) ** 2 for W in (W1, W2)),
                     "eq11": ln.trace_eq11(W1, W2, sigma_x), "param_norm_sq": float((W1 ** 2).sum() + (W2 ** 2).sum())})
    p = sum(W.numel() for W in res.params)
    return {"dataset": sub.describe(), "rows": rows, "status": res.status, "halvings": res.halvings,
            "loss": res.loss[:: max(1, epochs // 200)].tolist(), "p": p, "reduced_p": rows[-1]["reduced_p"],
            "reduction": "exact invariant subspace for whitened inputs (whitened_input_reduction)"}


# ---------------------------------------------------------------------------------------------
# Small dense checks of the exact identities (float64, autograd references; seconds on a CPU)


def _whitened_gaussian(d0: int, n: int, sigma_x: float, g: torch.Generator) -> Tensor:
    """X' ~ N(0,1)^{d0 x n} whitened by App. C's rule (:func:`linear_nets.orthogonalize`)."""
    return ln.orthogonalize(torch.randn(d0, n, generator=g, dtype=torch.float64), sigma_x)


def _unbalanced_weights(dims: Sequence[int], g: torch.Generator) -> list[Tensor]:
    """W_l ~ N(0, 1/d_(l-1)) entries: a generic, unbalanced point (ours)."""
    return [torch.randn(b, a, generator=g, dtype=torch.float64) / math.sqrt(a) for a, b in zip(dims[:-1], dims[1:])]


def balanced_dense_check(dims: Sequence[int] = (30, 8, 8, 5), sigma_x: float = 3.0, n: int = 60,
                         s_range: tuple[float, float] = (0.2, 1.0), seed: int = 0) -> dict:
    """S7 and S8: Eq. (9) over the full index range and the count of non-zero eigenvalues, on a dense Hessian.

    A strongly balanced zero-loss instance as in App. C "Figure 1 Left" (whitened Gaussian X', App. C
    balanced sampler, Y = W_L...W_1 X so that Assumption 1 holds exactly), but with d0 and dL larger than
    k = min(dims), where the paper's count (min d)^2 and the true count d0 dL - (d0-k)(dL-k) differ
    (inventory erratum E4). The Hessian of the loss (2) is formed densely by autograd (float64).

    Defaults (ours): dims [30, 8, 8, 5] are the inventory's example (§S, S8); n = 2 d0; the k singular
    values are drawn from U[s_range] = U[0.2, 1] rather than App. C's U[0, 1], so that every non-zero
    eigenvalue lies far above float64 rounding and a relative error is meaningful for each of them.

    Returns the sorted numerical eigenvalues, Eq. (9)'s (all p, zeros beyond d0 dL), the numerical
    count by the gap rule (:func:`linear_nets.numerical_nonzero_count`), the true and the paper's counts.
    """
    dims = [int(d) for d in dims]
    lo, hi = s_range
    if not 0 < lo < hi:
        raise ValueError(f"s_range must satisfy 0 < low < high, got {s_range}")
    g = torch.Generator().manual_seed(int(seed))
    X = _whitened_gaussian(dims[0], n, sigma_x, g)
    k = min(dims)
    s = lo + (hi - lo) * torch.rand(k, generator=g, dtype=torch.float64)
    Ws = ln.sample_balanced_weights(dims, s, generator=g)
    Y = ln.end_to_end(Ws) @ X
    numeric = torch.sort(torch.linalg.eigvalsh(dense_hessian(Ws, X, Y)), descending=True).values.numpy()
    L = len(dims) - 1
    eq9 = ln.balanced_eigenvalues_eq9(s, L, sigma_x, dims[0], dims[-1]).flatten()
    theory = np.zeros(numeric.size)
    theory[: eq9.numel()] = torch.sort(eq9, descending=True).values.numpy()
    counted = numerical_nonzero_count(numeric)
    return {"dims": dims, "n": n, "sigma_x": sigma_x, "s": s.numpy(), "p": int(numeric.size), "numeric": numeric,
            "theory": theory, "nonzero_numeric": counted.count, "count_resolved": counted.resolved,
            "count_gap": counted.gap, "noise": counted.noise,
            "nonzero_true": ln.nonzero_count_balanced(dims[0], dims[-1], k),
            "nonzero_paper": ln.paper_nonzero_count_sec3(dims), "loss": float(loss_data(Ws, X, Y))}


def shallow_dense_check(dims: Sequence[int] = (30, 12, 5), sigma_x: float = 1.3, n: int = 60, seed: int = 0) -> dict:
    """S29 and S30: Eq. (15) over the full index range against the dense GGN of a 2-layer net, and its count.

    Whitened Gaussian inputs (Assumption 2), generic unbalanced W_1, W_2 (no Assumption 3 needed, App. B).
    The GGN (1/n) J^T J is formed densely by autograd (float64); Eq. (15) gives d0 d2 values
    sigma_x^2 (sigma_i^2(W_1) + sigma_j^2(W_2)), i in [d0], j in [d2] (singular values padded by zeros),
    the rest of the p eigenvalues being 0. Defaults (ours): the inventory's example dims [30, 12, 5]
    (§S, S30), n = 2 d0, entries N(0, 1/fan_in).

    Returns the sorted numerical eigenvalues, Eq. (15)'s (padded to p), Eq. (10), the numerical count by
    the gap rule, the generic true count d0 d2 - (d0-r1)(d2-r2) and App. B's min{d0,d1} x min{d1,d2}.
    """
    dims = [int(d) for d in dims]
    if len(dims) != 3:
        raise ValueError(f"App. B is about L = 2: need dims [d0, d1, d2], got {dims}")
    g = torch.Generator().manual_seed(int(seed))
    X = _whitened_gaussian(dims[0], n, sigma_x, g)
    W1, W2 = _unbalanced_weights(dims, g)
    numeric = torch.sort(torch.linalg.eigvalsh(dense_ggn([W1, W2], X)), descending=True).values.numpy()
    eq15 = ln.shallow_eigenvalues_eq15(W1, W2, sigma_x).numpy()
    theory = np.zeros(numeric.size)
    theory[: eq15.size] = eq15
    counted = numerical_nonzero_count(numeric)
    r1, r2 = int(torch.linalg.matrix_rank(W1)), int(torch.linalg.matrix_rank(W2))
    return {"dims": dims, "n": n, "sigma_x": sigma_x, "p": int(numeric.size), "numeric": numeric, "theory": theory,
            "nonzero_numeric": counted.count, "count_resolved": counted.resolved, "count_gap": counted.gap,
            "noise": counted.noise, "nonzero_true": ln.nonzero_count_shallow(dims[0], dims[2], r1, r2),
            "nonzero_paper": ln.paper_nonzero_count_appb(dims), "ranks": [r1, r2],
            "eq10": ln.lambda_max_eq10(W1, W2, sigma_x)}


def trace_dense_check(dims: Sequence[int] = (12, 9, 7, 6, 5), sigma_x: float = 1.7, n: int = 36,
                      num_points: int = 3, seed: int = 0) -> dict:
    """S3 (and E13): Tr(GGN) and Tr(Hessian) against Eq. (7) at random unbalanced points with non-zero loss.

    Whitened Gaussian inputs (Assumption 2), targets Y ~ N(0,1) (so the loss is far from zero and the
    Hessian differs from the GGN), weights N(0, 1/fan_in) (no balancedness). Dense float64 matrices by
    autograd (:func:`linear_nets.trace_identity`). Defaults (ours): an L = 4 net of widths
    [12, 9, 7, 6, 5], n = 3 d0, 3 points. Returns one row per point and the largest relative differences.
    """
    dims = [int(d) for d in dims]
    if num_points < 1:
        raise ValueError(f"num_points must be >= 1, got {num_points}")
    g = torch.Generator().manual_seed(int(seed))
    X = _whitened_gaussian(dims[0], n, sigma_x, g)
    rows = []
    for _ in range(num_points):
        Y = torch.randn(dims[-1], n, generator=g, dtype=torch.float64)
        rows.append(trace_identity(_unbalanced_weights(dims, g), X, Y, sigma_x))
    return {"dims": dims, "n": n, "sigma_x": sigma_x, "rows": rows,
            "max_rel_diff_hessian": max(r["rel_diff_hessian"] for r in rows),
            "max_rel_diff_ggn": max(r["rel_diff_ggn"] for r in rows),
            "min_loss": min(r["loss"] for r in rows),
            "min_hessian_minus_ggn_max": min(r["hessian_minus_ggn_max"] for r in rows)}


def _label_proportion_rows(name: str, n: int, alphas: tuple, seed: int) -> list[dict]:
    data = load_dataset(name, "train")
    rows = []
    for a in alphas:
        idx, alpha_actual = ln.subsample_label_proportion(data.y, n, a, seed=seed, num_classes=data.num_classes)
        rows.append({"dataset": name, "alpha_max": a, "alpha_actual": alpha_actual,
                     **label_proportion_identity(data.y[idx], data.num_classes)})
    return rows


def label_proportion_check(name: str, n: int, alphas: Sequence[float], seed: int = 0, cache: bool = True) -> list[dict]:
    """S17 on the paper's own subsets: sigma_i^2(Y)/n against the class proportions of the one-hot labels.

    The subsets are those of Figs. 1(c) and 2 (corrected App. C rule, the same ``seed``): one row per
    alpha_max with both sets of proportions and their largest difference (cached on disk).
    """
    fn = cached(_label_proportion_rows) if cache else _label_proportion_rows
    return fn(name, int(n), tuple(float(a) for a in alphas), int(seed))
