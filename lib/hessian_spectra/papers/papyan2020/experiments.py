"""Cached Hessian spectra of Papyan (2020) on the networks of :mod:`.zoo`, and the density comparisons the
notebooks share (the class / cross-class computations of G are in :mod:`.knockouts`, the MLP's layers in
:mod:`.layers`).

- :func:`hessian_spectrum`: the spectrum of the train or test Hessian, of G (the Gauss-Newton matrix, the
  paper's FIM) or of E = Hess − G (Eqs. (5.1)-(5.2)) by the paper's pipeline (App. C, D.2): optional
  LowRankDeflation (SubspaceIteration(A, C, T), Algorithm 5), NORMALIZATION(M0, τ = 0.05) and
  LANCZOSAPPROXSPEC(M, K = 1024, n_vec, κ = 3), on a linear scale and, from the same Lanczos nodes, on the
  log scale of App. C.7 (Figs 3, 4, 14, 16, 17);
- :func:`both_scales`: that pair of spectra for any operator;
- :func:`histogram_l1`, :func:`power_law_fit`, :func:`sign_split`, :func:`sign_symmetry_ks`: comparisons of
  densities (Figs 15, 16);
- :func:`fig17_exact`: Fig 17's method check on a small MLP whose Hessian is dense-exact (:func:`dense_hessian`):
  SubspaceIteration's top C and the deflated and plain LanczosApproxSpec densities against the exact eigenvalues,
  the bulk's error measured by :func:`bulk_l1`.

Results are cached on disk (:func:`hessian_spectra.pipeline.cache.cached`) by the arguments, the code and the
library's code, and are plain numpy arrays. Not from the paper: batch sizes (they only bound memory), float32
products, the Lanczos seeds.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...hessian import (
    ApproxSpectrum,
    DenseOperator,
    approx_spec_from_slq,
    deflate,
    ggn_operator,
    hessian_operator,
    lanczos_approx_spec,
    residual_operator,
    subspace_iteration,
    top_eigenpairs,
)
from ...pipeline.cache import CORE_MODULES, cached
from ...training import TrainConfig, as_train_config
from .zoo import trained

__all__ = [
    "LOG_KAPPA",
    "MATRICES",
    "both_scales",
    "bulk_l1",
    "checkpoint_record",
    "data_split",
    "dense_hessian",
    "fig17_exact",
    "hessian_spectrum",
    "histogram_l1",
    "power_law_fit",
    "sign_split",
    "sign_symmetry_ks",
    "spectrum_arrays",
    "top_eigen",
]

MATRICES: tuple[str, ...] = ("hessian", "ggn", "residual")
#: κ of the log spectra: App. D.2 says "a different value" without giving it; the author's code uses
#: 1.25 everywhere (inventory 001 §E10 [ext]).
LOG_KAPPA = 1.25
_EPS = 1e-5  # ε of log(|λ| + ε): Fig 6's caption ("log(G + 10⁻⁵ I)")


def spectrum_arrays(spec: ApproxSpectrum) -> dict[str, Any]:
    """The plotted arrays of an :class:`~hessian_spectra.hessian.ApproxSpectrum` (grid, density, the log grid
    and density for a log spectrum, σ and the normalisation (c, d))."""
    out = {"grid": np.asarray(spec.grid), "density": np.asarray(spec.density), "sigma": float(spec.sigma),
           "center": float(spec.center), "half_width": float(spec.half_width)}
    if spec.grid_log is not None:
        out["grid_log"] = np.asarray(spec.grid_log)
        out["density_log"] = np.asarray(spec.density_log)
    return out


def both_scales(op: Any, steps: int, num_vectors: int, kappa: float, gen: torch.Generator,
                norm_steps: int = 32) -> dict[str, Any]:
    """LANCZOSAPPROXSPEC on the linear scale (κ = ``kappa``) after NORMALIZATION(``norm_steps``, 0.05) and, from
    the same nodes and normalisation, on the log scale (App. C.7, κ = :data:`LOG_KAPPA`, ε = 1e-5), plus the
    Lanczos nodes and weights and their extremes (``node_min``, ``node_max``)."""
    lin = lanczos_approx_spec(op, steps, 1024, num_vectors, kappa, generator=gen,
                              normalization_steps=min(int(norm_steps), int(op.shape[0])))
    bounds = (lin.center - lin.half_width, lin.center + lin.half_width)
    log = approx_spec_from_slq(lin.slq, 1024, LOG_KAPPA, bounds=bounds, log_scale=True, epsilon=_EPS)
    return {"linear": spectrum_arrays(lin), "log": spectrum_arrays(log), "nodes": lin.slq.nodes,
            "weights": lin.slq.weights, "node_min": float(lin.slq.nodes.min()), "node_max": float(lin.slq.nodes.max())}


def data_split(model_data: tuple, split: str) -> Any:
    """The ``train`` or ``test`` data of a :func:`.zoo.trained` tuple."""
    _, train_d, test_d, _ = model_data
    if split == "train":
        return train_d
    if split == "test":
        if test_d is None:
            raise ValueError("this configuration prepares no test split")
        return test_d
    raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def _operator(matrix: str, model: nn.Module, pair: tuple[torch.Tensor, torch.Tensor], batch_size: int) -> Any:
    if matrix == "hessian":
        return hessian_operator(model, F.cross_entropy, pair, batch_size=batch_size)
    if matrix == "ggn":
        return ggn_operator(model, F.cross_entropy, pair, batch_size=batch_size)
    if matrix == "residual":
        return residual_operator(model, F.cross_entropy, pair, batch_size=batch_size)
    raise ValueError(f"matrix must be one of {MATRICES}, got {matrix!r}")


def checkpoint_record(history: Mapping[str, Any], epoch: Any) -> dict[str, Any]:
    """Epoch, train / test loss and accuracy of the training record of ``epoch`` (``"final"``: the last)."""
    recs = history["records"]
    rec = recs[-1] if epoch == "final" else next((r for r in recs if r["epoch"] == epoch), {})
    return {k: rec.get(k) for k in ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")}


def top_eigen(op: Any, k: int, method: str, si_iters: int, gen: torch.Generator) -> Any:
    """The top-k eigenpairs for LowRankDeflation: ``subspace`` = SubspaceIteration(A, k, T = ``si_iters``) (App. C.8,
    Algorithm 5, largest |λ|) or ``lanczos`` = Lanczos with full reorthogonalisation, largest λ, relative residual
    1e-4 (converged in far fewer products than T = 128 subspace iterations; not the paper's method)."""
    if method == "subspace":
        return subspace_iteration(op, int(k), int(si_iters), generator=gen)
    if method == "lanczos":
        return top_eigenpairs(op, int(k), which="LA", tol=1e-4, generator=gen, block_size=min(int(k), 8))
    raise ValueError(f"deflation must be 'subspace' or 'lanczos', got {method!r}")


def _hessian_spectrum(config: dict[str, Any], split: str, matrix: str, epoch: Any, deflate_k: int, si_iters: int,
                      steps: int, num_vectors: int, kappa: float, top_k: int, seed: int, batch_size: int,
                      norm_steps: int, deflation: str) -> dict[str, Any]:
    md = trained(as_train_config(config), epoch)
    model = md[0].eval()
    d = data_split(md, split)
    pair = (d.x, d.y)
    op = _operator(matrix, model, pair, batch_size)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    out: dict[str, Any] = {"matrix": matrix, "split": split, "epoch": epoch, "num_samples": len(d.y),
                           "p": int(op.shape[0]), "deflate_k": int(deflate_k), **checkpoint_record(md[3], epoch)}
    target = op
    if deflate_k:
        eig = top_eigen(op, int(deflate_k), deflation, si_iters, gen)
        out.update(top_eigenvalues=eig.eigenvalues.numpy(), top_residuals=np.asarray(eig.residuals),
                   si_iters=int(si_iters), deflation=deflation, deflation_products=int(eig.num_steps))
        target = deflate(op, eig.eigenvalues, eig.eigenvectors)
    out.update(both_scales(target, steps, num_vectors, kappa, gen, norm_steps))
    if top_k:
        res = top_eigenpairs(op, int(top_k), which="LA", tol=1e-4, generator=gen, block_size=min(int(top_k), 8))
        out.update(lanczos_top=res.eigenvalues.numpy(), lanczos_top_residuals=np.asarray(res.residuals),
                   lanczos_top_products=int(res.num_steps))
    out["seconds"] = time.perf_counter() - t0
    return out


_hessian_spectrum_cached = cached(_hessian_spectrum)

#: What the cached results of this package depend on besides their own module: the library's core and this
#: module (:func:`both_scales`, :func:`data_split` are used by :mod:`.knockouts` and :mod:`.layers`).
DEPENDS_ON = (*CORE_MODULES, "hessian_spectra.papers.papyan2020.experiments", "hessian_spectra.papers.papyan2020.zoo")


def hessian_spectrum(config: TrainConfig | Mapping[str, Any], *, split: str = "train", matrix: str = "hessian",
                     epoch: int | str = "final", deflate_k: int = 10, si_iters: int = 128, steps: int = 128,
                     num_vectors: int = 1, kappa: float = 3.0, top_k: int = 0, seed: int = 0,
                     batch_size: int = 500, norm_steps: int = 32, deflation: str = "subspace",
                     cache: bool = True) -> dict[str, Any]:
    """The spectrum of ``matrix`` (``hessian``, ``ggn`` = G or ``residual`` = E = Hess − G) of a trained
    network over its training or test data (App. C, D.2; module docstring).

    Args:
        config: a :func:`.zoo.zoo_config` (trained first if needed).
        split: ``train`` (the paper's train Hessian) or ``test`` (averaged over the test examples, §4.1).
        epoch: checkpoint, ``"final"`` or one of the config's ``save_epochs``.
        deflate_k: C for LowRankDeflation by SubspaceIteration (0: none, Fig 14; the paper deflates Hess and
            G, not E, Fig 4).
        si_iters: T of SubspaceIteration (App. D.2: 128).
        deflation: ``subspace`` (the paper's SubspaceIteration) or ``lanczos`` (:func:`top_eigen`).
        steps: M of LanczosApproxSpec (App. D.2: 128 or 256 linear, 2048 log); the log spectrum is computed
            from the same nodes.
        num_vectors: n_vec (App. D.2: 1).
        kappa: κ of the linear spectrum (App. D.2: 3).
        norm_steps: M0 of NORMALIZATION (App. D.2: 32).
        top_k: also the top-k eigenvalues of the (undeflated) operator by Lanczos with full
            reorthogonalisation (relative residual 1e-4; for E, whose spectrum subspace iteration cannot
            order by sign).

    Returns a dict with ``top_eigenvalues`` (SubspaceIteration's Rayleigh-Ritz values, descending) and their
    residuals, ``linear`` / ``log`` spectra (:func:`spectrum_arrays`), the Lanczos ``nodes`` and ``weights``
    (``node_max``: the largest Ritz value, the bulk's upper edge after deflation), ``lanczos_top`` (with
    ``top_k``), the training record of the checkpoint, ``p`` and ``num_samples``.
    """
    cfg = as_train_config(config)
    if matrix not in MATRICES:
        raise ValueError(f"matrix must be one of {MATRICES}, got {matrix!r}")
    fn = _hessian_spectrum_cached if cache else _hessian_spectrum
    return fn(cfg.to_dict(), split, matrix, epoch, int(deflate_k), int(si_iters), int(steps), int(num_vectors),
              float(kappa), int(top_k), int(seed), int(batch_size), int(norm_steps), str(deflation))


# ---------------------------------------------------------------------------------------------
# Comparisons of densities (Figs 15, 16, 17)


def histogram_l1(values: Any, grid: Any, density: Any, bins: int = 100,
                 value_range: tuple[float, float] | None = None) -> dict[str, Any]:
    """Σ_bins |mass of the density − fraction of ``values``| over ``bins`` equal bins of ``value_range``
    (default: the values' range): the distance between a LanczosApproxSpec density and the histogram of
    the exact eigenvalues that Fig 15 draws under it (0 = equal bin masses, 2 = disjoint). The density is
    integrated over each bin by the trapezoid rule on its own grid (its mass outside the range is lost)."""
    v = np.asarray(values, dtype=float).ravel()
    lo, hi = value_range if value_range is not None else (float(v.min()), float(v.max()))
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(v, edges)
    frac = counts / v.size
    g, d = np.asarray(grid, dtype=float), np.asarray(density, dtype=float)
    fine = np.linspace(lo, hi, 20 * bins + 1)
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(fine) * (np.interp(fine[1:], g, d, 0, 0)
                                                            + np.interp(fine[:-1], g, d, 0, 0)) / 2)])
    mass = np.diff(np.interp(edges, fine, cdf))
    return {"l1": float(np.abs(mass - frac).sum()), "edges": edges, "hist": frac, "mass": mass}


def power_law_fit(grid: Any, density: Any, lo: float, hi: float) -> dict[str, float]:
    """Least-squares line of log10 φ on log10 |λ| over lo ≤ |λ| ≤ hi (Fig 16's "power law trend on part of the
    spectrum"; the range is not stated: the caller's): φ ≈ prefactor |λ|^exponent, with R²."""
    g, d = np.abs(np.asarray(grid, dtype=float)), np.asarray(density, dtype=float)
    keep = (g >= lo) & (g <= hi) & (d > 0)
    if keep.sum() < 3:
        return {"exponent": float("nan"), "prefactor": float("nan"), "r2": float("nan"), "lo": lo, "hi": hi}
    x, y = np.log10(g[keep]), np.log10(d[keep])
    slope, icpt = np.polyfit(x, y, 1)
    res = y - (slope * x + icpt)
    r2 = 1 - float(res @ res) / float(((y - y.mean()) ** 2).sum())
    return {"exponent": float(slope), "prefactor": float(10 ** icpt), "r2": r2, "lo": float(lo), "hi": float(hi)}


def sign_split(grid: Any, density: Any) -> dict[str, np.ndarray]:
    """Fig 16a: the density of λ > 0 and of |λ| for λ < 0 on a common |λ| grid (both per unit λ)."""
    g, d = np.asarray(grid, dtype=float), np.asarray(density, dtype=float)
    pos = g > 0
    a = g[pos]
    neg = np.interp(-a, g, d, 0, 0)
    return {"abs_grid": a, "positive": d[pos], "negative": neg}


def sign_symmetry_ks(nodes: Any, weights: Any, floor: float = 0.0) -> float:
    """Kolmogorov-Smirnov distance between the SLQ measures of λ > floor and of |λ| for λ < −floor, each
    normalised (Fig 16a's symmetry of E about the origin, plotted on a log |λ| axis: ``floor`` keeps the null
    space's spike at 0, which one near-zero Ritz value carries to one side, out of the comparison)."""
    n, w = np.asarray(nodes, dtype=float).ravel(), np.asarray(weights, dtype=float).ravel()
    pos, neg = n > floor, n < -floor
    if not pos.any() or not neg.any():
        return 1.0
    xs = np.sort(np.abs(n[pos | neg]))

    def cdf(vals: np.ndarray, ws: np.ndarray) -> np.ndarray:
        o = np.argsort(vals)
        c = np.cumsum(ws[o]) / ws.sum()
        return np.interp(xs, vals[o], c, 0, 1)

    return float(np.max(np.abs(cdf(n[pos], w[pos]) - cdf(-n[neg], w[neg]))))


# ---------------------------------------------------------------------------------------------
# Fig 17's method check against an exact spectrum (ours: a small MLP, not the paper's ResNet18)


def dense_hessian(model: nn.Module, pair: tuple[torch.Tensor, torch.Tensor], batch_size: int | None = None) -> torch.Tensor:
    """The dense float64 Hessian of the mean cross-entropy of ``model`` over ``pair`` (BN, if any, in eval mode):
    the library's :func:`~hessian_spectra.hessian.hessian_operator` on a float64 copy of the model and inputs,
    materialised column block by column block (``to_dense``), then symmetrised ((H + Hᵀ)/2; the two triangles
    differ by rounding only). For small models only (p ≤ 5,000)."""
    m = copy.deepcopy(model).double().eval()
    p = sum(q.numel() for q in m.parameters() if q.requires_grad)
    if p > 5000:
        raise ValueError(f"dense_hessian is for small models (p <= 5000), got p = {p}")
    x, y = pair
    op = hessian_operator(m, F.cross_entropy, (x.double(), y), batch_size=batch_size)
    H = op.to_dense()
    return (H + H.T) / 2


def bulk_l1(exact: Any, grid: Any, density: Any, C: int, bins: int = 100) -> dict[str, Any]:
    """The L1 error of a density against the exact bulk histogram (Fig 17's check, inventory 001): the exact
    eigenvalues without the top ``C`` (the bulk, λ_(C+1) ≥ … ≥ λ_p) are binned into ``bins`` equal bins of their own
    range [λ_p, λ_(C+1)], as fractions of p − C; the density (as LanczosApproxSpec returns it: unit mass over all p
    eigenvalues, not renormalised) is integrated over each bin; the error is Σ_bins |mass − fraction|
    (:func:`histogram_l1`: 0 = equal bin masses, 2 = disjoint). The definition and ``bins`` = 100 were fixed before
    any number was computed (ours: the inventory names the histogram but not its bins). A density of the deflated
    operator also carries the C deflated directions at ≈ 0 (mass C/p inside the range), one of the undeflated
    operator the outliers (mass C/p, outside the range when they are separated from the bulk): an offset of order
    C/p either way."""
    e = np.sort(np.asarray(exact, dtype=float).ravel())[::-1]
    if not 0 <= int(C) < e.size - 1:
        raise ValueError(f"C must leave at least two eigenvalues, got C = {C} for {e.size}")
    bulk = e[int(C):]
    out = histogram_l1(bulk, grid, density, bins=int(bins), value_range=(float(bulk.min()), float(bulk.max())))
    out["mass_in_range"] = float(out["mass"].sum())
    return out


def _fig17_exact(config: dict[str, Any], C: int, si_iters: int, steps: int, num_vectors: int, kappa: float,
                 norm_steps: int, bins: int, seed: int, batch_size: int) -> dict[str, Any]:
    md = trained(as_train_config(config), "final")
    d = md[1]
    t0 = time.perf_counter()
    H = dense_hessian(md[0], (d.x, d.y), batch_size)
    t_dense = time.perf_counter() - t0
    exact = torch.linalg.eigvalsh(H).flip(0).numpy()  # descending, float64
    op = DenseOperator(H)
    t1 = time.perf_counter()
    # Fig 17's path (:func:`_hessian_spectrum` with deflate_k = C, then deflate_k = 0): the same calls and seeds
    gen = torch.Generator().manual_seed(seed)
    eig = top_eigen(op, int(C), "subspace", int(si_iters), gen)
    deflated = both_scales(deflate(op, eig.eigenvalues, eig.eigenvectors), steps, num_vectors, kappa, gen, norm_steps)
    plain = both_scales(op, steps, num_vectors, kappa, torch.Generator().manual_seed(seed), norm_steps)
    si = eig.eigenvalues.numpy()
    out: dict[str, Any] = {
        "p": int(H.shape[0]), "num_samples": len(d.y), "C": int(C), **checkpoint_record(md[3], "final"),
        "exact": exact, "si_top": si, "si_residuals": np.asarray(eig.residuals), "si_iters": int(si_iters),
        "si_products": int(eig.num_steps), "si_relative_errors": np.abs(si - exact[: int(C)]) / np.abs(exact[: int(C)]),
        "gap_ratio_C": float(exact[int(C) - 1] / exact[int(C)]) if exact[int(C)] > 0 else float("nan"),
        "deflated": deflated, "plain": plain, "bins": int(bins),
    }
    for name, rec in (("deflated", deflated), ("plain", plain)):
        lin = rec["linear"]
        res = bulk_l1(exact, lin["grid"], lin["density"], int(C), int(bins))
        out[f"l1_{name}"] = res["l1"]
        out[f"mass_in_range_{name}"] = res["mass_in_range"]
        out[f"bin_mass_{name}"] = res["mass"]
        out[f"kernel_sigma_{name}"] = float(lin["sigma"] * lin["half_width"])  # σ in units of λ
        # recorded only (not scored): the same error with half and twice the bins
        out[f"l1_{name}_bins_half_double"] = [bulk_l1(exact, lin["grid"], lin["density"], int(C), b)["l1"]
                                             for b in (int(bins) // 2, 2 * int(bins))]
        out["bin_edges"], out["bulk_fractions"] = res["edges"], res["hist"]
    out["seconds_dense"] = t_dense
    out["seconds_spectra"] = time.perf_counter() - t1
    return out


_fig17_exact_cached = cached(_fig17_exact, DEPENDS_ON)


def fig17_exact(config: TrainConfig | Mapping[str, Any], *, C: int = 10, si_iters: int = 128, steps: int = 128,
                num_vectors: int = 1, kappa: float = 3.0, norm_steps: int = 32, bins: int = 100, seed: int = 0,
                batch_size: int = 500, cache: bool = True) -> dict[str, Any]:
    """Fig 17's method check (inventory 001, Fig 17's CPU plan) on a network small enough for its exact Hessian
    (:func:`.zoo.fig17_exact_config`; ours, not the paper's ResNet18).

    The train Hessian of the trained ``config`` as a dense float64 matrix (:func:`dense_hessian`) and all its
    eigenvalues (``eigvalsh``); on that matrix (as a :class:`~hessian_spectra.hessian.DenseOperator`) Fig 17's path
    exactly as :func:`hessian_spectrum` runs it: SubspaceIteration(A, C, T = ``si_iters``) (:func:`top_eigen`),
    the rank-C deflated operator and :func:`both_scales` (NORMALIZATION(``norm_steps``, 0.05), LanczosApproxSpec(M =
    ``steps``, K = 1024, ``num_vectors``, κ = ``kappa``)), and the same without deflation (a fresh generator of the
    same seed, as a separate :func:`hessian_spectrum` call has).

    Returns a dict with ``exact`` (all p eigenvalues, descending), ``si_top`` (SubspaceIteration's Rayleigh-Ritz
    values) with ``si_relative_errors`` = |λ_k(SI) − λ_k(exact)|/|λ_k(exact)| for k ≤ C, ``deflated`` and ``plain``
    (:func:`both_scales` records), ``l1_deflated`` and ``l1_plain`` (:func:`bulk_l1` of each linear density against
    the exact bulk with ``bins`` bins), their bin masses and the bulk's fractions on ``bin_edges``, each kernel's σ in
    units of λ, λ_C/λ_(C+1) of the exact spectrum (``gap_ratio_C``), the training record, ``p``, ``num_samples`` and
    timings.
    """
    cfg = as_train_config(config)
    fn = _fig17_exact_cached if cache else _fig17_exact
    return fn(cfg.to_dict(), int(C), int(si_iters), int(steps), int(num_vectors), float(kappa), int(norm_steps),
              int(bins), int(seed), int(batch_size))
