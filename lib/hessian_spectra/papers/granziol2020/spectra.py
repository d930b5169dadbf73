"""Empirical and Augmented Hessians, and the statistics of their stem plots (Granziol et al. 2020, §5-6).

Operators (inventory 002 §L1):

- the **Empirical Hessian** H_emp = ∇²_w (1/N) Σ_i ℓ(h(x_i; w), y_i) over the N un-augmented training images
  (eq 2), :func:`empirical_hessian`;
- the **Augmented Hessian** H_aug = ∇²_w (1/NK) Σ_i Σ_k ℓ(h(T_ik x_i; w), y_i) over a fixed set of N·K
  crop-and-flip copies (§6; the paper's proxy for H_true of eq 1, labelled "True Hessian" in Tables 1-2),
  :func:`augmented_hessian` over :class:`~hessian_spectra.augmentation.AugmentedData`.

Both are the Hessian of the data loss only: weight decay is NOT added (inventory §L1.1, [ext] MLRG uses the
plain cross-entropy). Adding γ‖w‖²/2 would shift every eigenvalue by γ (3e-4 to 5e-4) and flip the sign of
the paper's near-zero Ritz values (−3.87e-6, 1.67e-5, −0.00093), which every negative-count claim depends on.
Batch norm is in eval mode (running statistics) by default, as everywhere in the engine, so the operator is
one fixed matrix; the paper does not say (MLRG used train-mode BN on fixed batches of 128, inventory §F
Fig 1 "Not stated"); pass ``eval_mode=False`` with a fixed ``batch_size`` for that variant.

Stem-plot statistics of one Lanczos run (nodes θ_j = Ritz values, weights ρ_j = squared first components of
the eigenvectors of T_m, Σρ_j = 1; eq 9 and Theorem 4), as inventory §L2 defines them:

- :func:`extremes`: θ_min, θ_max (the x-axis ends of every figure, Tables 1-2);
- :func:`negative_mass` under three rules (§5.3 is verbal, inventory §E5): ``raw`` Σ_{θ_j<0} ρ_j; ``tau``
  (scored) Σ ρ_j over θ_j < 0 with |θ_j| ≥ τ θ_max, τ = 1e-3 [inferred: reproduces 5 of the 6 stated
  masses]; ``mlrg`` Σ ρ_j over θ_j < 0 with ρ_j < 0.6 (the MLRG plot script [ext]);
- :func:`top_weights`: the three heaviest Ritz pairs (ρ, θ) (Table 3);
- :func:`zero_mass` (the spike at the origin, §6.3; |θ_j| ≤ 2e-3 θ_max, inventory §S37), :func:`bulk_asymmetry`
  (symmetric vs right-skew bulk, §6.3 [inferred metric]), :func:`ritz_variance` (the Discussion's "variation in
  eigenvalues", §S43); all collected by :func:`spectrum_summary`;
- stem plots: :func:`xticks` (the paper's tick rules, readable from its figures), :func:`log_weight_ticks`,
  :func:`stem_data` (what a figure's JSON records) and :func:`stem_plot`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from ...augmentation import AugmentedData, Scheme
from ...hessian import HessianOperator, hessian_operator, lanczos
from ...training import loss_function

__all__ = [
    "MASS_RULES",
    "MLRG_MAX_WEIGHT",
    "TAU",
    "TICK_RULES",
    "ZERO_TAU",
    "augmented_hessian",
    "bulk_asymmetry",
    "empirical_hessian",
    "extremes",
    "lanczos_stem",
    "log_weight_ticks",
    "negative_count",
    "negative_mass",
    "ritz_variance",
    "spectrum_summary",
    "stem_data",
    "stem_plot",
    "top_weights",
    "xticks",
    "zero_mass",
]

TAU = 1e-3             # τ of the scored negative-mass rule, |θ| ≥ τ θ_max (inventory §L2 [inferred])
ZERO_TAU = 2e-3        # τ₀ of the spike at the origin, |θ| ≤ τ₀ θ_max (inventory §S37, ours)
MLRG_MAX_WEIGHT = 0.6  # the MLRG plot script counts negative Ritz values of weight < 0.6 [ext]
MASS_RULES: tuple[str, ...] = ("raw", "tau", "mlrg")
TICK_RULES: tuple[str, ...] = ("mlrg4", "lin6", "lin3")


# ------------------------------------------------------------------------------------------------------
# operators
# ------------------------------------------------------------------------------------------------------
def empirical_hessian(model: nn.Module, data: Any, *, loss: str = "cross_entropy", batch_size: int | None = 256,
                      **operator_kwargs: Any) -> HessianOperator:
    """H_emp = ∇²_w (1/N) Σ_i ℓ(h(x_i; w), y_i) over ``data`` (eq 2; no augmentation, weight decay excluded).

    ``loss``: a name of :func:`hessian_spectra.training.loss_function` (the paper: cross-entropy).
    ``batch_size``: samples per forward pass (default 256, not stated by the paper; the result does not depend
    on it with batch norm in eval mode). ``operator_kwargs`` go to
    :func:`~hessian_spectra.hessian.hessian_operator` (``eval_mode``, ``precision``, ``speed``, ...)."""
    return hessian_operator(model, loss_function(loss), data, batch_size=batch_size, **operator_kwargs)


def augmented_hessian(model: nn.Module, data: Any, copies: int, seed: int = 0, *, padding: int = 4,
                      augment: bool = True, scheme: Scheme = "distinct", fill: float | Sequence[float] = 0.0,
                      loss: str = "cross_entropy", batch_size: int = 256,
                      **operator_kwargs: Any) -> HessianOperator:
    """The Augmented Hessian H_aug = ∇²_w (1/NK) Σ_{i<N} Σ_{k<K} ℓ(h(T_ik x_i; w), y_i) (§6).

    T_ik is copy k of image i of :class:`~hessian_spectra.augmentation.AugmentedData` (zero-pad ``padding``,
    crop back to size, flip; a function of (seed, i, k), so every product of a Lanczos run sees the same
    N·K samples). The paper's sets: K = 30 (1.5M images, Figs 3, 4, 7, 8) and K = 100 (5M, Figs 13, 22),
    p = 4. The operator is the Hessian of the mean DATA loss: weight decay is kept out (module docstring),
    and batch norm uses its running statistics unless ``eval_mode=False`` is passed.

    Args:
        model: the trained network at w_final.
        data: the N base training images, a pair (x, y) or an object with ``.x`` and ``.y``.
        copies, seed, padding, augment, scheme, fill: as for :class:`AugmentedData` (``copies=1,
            augment=False`` gives exactly the Empirical Hessian).
        loss: a name of :func:`hessian_spectra.training.loss_function` (paper: cross-entropy).
        batch_size: images per forward pass (default 256, ours; the paper's HVP batch size is not stated).
        operator_kwargs: for :func:`~hessian_spectra.hessian.hessian_operator`.

    Returns:
        A :class:`~hessian_spectra.hessian.HessianOperator`; ``op @ V`` for V of shape (P, k) makes one pass
        over the N·K samples for all k vectors. ``op.augmented`` is the data set.
    """
    aug = AugmentedData(data, copies, seed, padding=padding, augment=augment, scheme=scheme, fill=fill,
                        batch_size=batch_size)
    op = hessian_operator(model, loss_function(loss), aug, **operator_kwargs)
    op.augmented = aug  # type: ignore[attr-defined]
    return op


def lanczos_stem(op: Any, num_steps: int, seed: int = 0) -> dict[str, Any]:
    """One Lanczos run of ``num_steps`` steps with full reorthogonalisation from a seeded Gaussian start vector
    (§5.1-5.2: one random vector, no smoothing; m = 100 for H_emp and 80 for H_aug in §6). The start vector is
    drawn in float64 on the CPU from ``torch.Generator().manual_seed(seed)`` (the paper's GPyTorch draws a
    standard normal vector [ext]; the seed is ours), so it is the same on every device.

    Returns ``{"nodes", "weights", "num_steps", "breakdown", "seconds", "P"}`` (nodes ascending)."""
    P = op.shape[0]
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    v0 = torch.randn(P, generator=gen, dtype=torch.float64)
    v0 = (v0 / v0.norm()).to(device=op.device, dtype=op.dtype)
    t0 = time.perf_counter()
    res = lanczos(op, num_steps, v0=v0, keep_basis=False, progress=False)
    return {"nodes": res.ritz_values, "weights": res.weights, "num_steps": res.num_steps,
            "breakdown": res.breakdown, "seconds": time.perf_counter() - t0, "P": P}


# ------------------------------------------------------------------------------------------------------
# stem-plot statistics
# ------------------------------------------------------------------------------------------------------
def _stem(nodes: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    th = np.asarray(nodes, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    if th.shape != w.shape or th.size == 0:
        raise ValueError(f"nodes and weights must be non-empty arrays of one shape, got {th.shape} and {w.shape}")
    if not (np.isfinite(th).all() and np.isfinite(w).all()) or (w < 0).any():
        raise ValueError("nodes and weights must be finite, weights >= 0")
    return th, w


def _theta_max_scale(th: np.ndarray) -> float:
    """The scale θ_max of the relative rules; max |θ| if no node is positive (then the spectrum has no
    positive end to be relative to)."""
    top = float(th.max())
    return top if top > 0 else float(np.abs(th).max())


def extremes(nodes: ArrayLike) -> tuple[float, float]:
    """(θ_min, θ_max), the extreme Ritz values: inner bounds of λ_min, λ_max (Theorem 3)."""
    th = np.asarray(nodes, dtype=np.float64).ravel()
    if th.size == 0:
        raise ValueError("no nodes")
    return float(th.min()), float(th.max())


def negative_count(nodes: ArrayLike) -> int:
    """#{j: θ_j < 0}, the paper's "negative Ritz values" (e.g. "43/100")."""
    return int((np.asarray(nodes, dtype=np.float64) < 0).sum())


def negative_mass(nodes: ArrayLike, weights: ArrayLike, rule: Literal["raw", "tau", "mlrg"] = "tau",
                  tau: float = TAU, max_weight: float = MLRG_MAX_WEIGHT) -> float:
    """Negative spectral mass of a stem plot under one of three rules (inventory §L2, §E5).

    §5.3: "we determine the fraction of negative eigenvalues as the weight of negative Ritz values which are
    well separated from the smallest magnitude Ritz value(s), to avoid counting a split of the degenerate
    mass". The paper gives no formula; the rules:

    - ``raw``: Σ_{θ_j < 0} ρ_j (dominated by the sign of the near-zero stem; reported, not scored);
    - ``tau`` (the scored rule): Σ ρ_j over θ_j < 0 and |θ_j| ≥ τ θ_max, τ = 1e-3 [inferred; reproduces the
      stated masses 0.05, 0.09, 0.03, 0.00016 and 0 from Table 3's pairs];
    - ``mlrg``: Σ ρ_j over θ_j < 0 and ρ_j < ``max_weight`` = 0.6 (MLRG ``plot_spectrum.py`` [ext]).
    """
    th, w = _stem(nodes, weights)
    neg = th < 0
    if rule == "raw":
        return float(w[neg].sum())
    if rule == "tau":
        if tau < 0:
            raise ValueError(f"tau must be >= 0, got {tau}")
        return float(w[neg & (np.abs(th) >= tau * _theta_max_scale(th))].sum())
    if rule == "mlrg":
        return float(w[neg & (w < max_weight)].sum())
    raise ValueError(f"unknown negative-mass rule {rule!r}; known: {', '.join(MASS_RULES)}")


def top_weights(nodes: ArrayLike, weights: ArrayLike, k: int = 3) -> list[tuple[float, float]]:
    """The k heaviest Ritz pairs [(ρ_0, θ_0), (ρ_1, θ_1), ...] with ρ_0 ≥ ρ_1 ≥ ... (Table 3; ties broken by
    the smaller node)."""
    th, w = _stem(nodes, weights)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    order = np.lexsort((th, -w))[:k]
    return [(float(w[j]), float(th[j])) for j in order]


def zero_mass(nodes: ArrayLike, weights: ArrayLike, tau0: float = ZERO_TAU) -> float:
    """Σ ρ_j over |θ_j| ≤ τ₀ θ_max, τ₀ = 2e-3: the "huge spectral peak near the origin" (§6.3; inventory §S37,
    which picks τ₀ so that it covers Table 3's near-zero pairs). Robust to the degenerate mass splitting over
    two stems at ±1e-3 (seen in the inventory's prototypes, §M3), unlike ρ_0."""
    th, w = _stem(nodes, weights)
    return float(w[np.abs(th) <= tau0 * _theta_max_scale(th)].sum())


def bulk_asymmetry(nodes: ArrayLike, weights: ArrayLike, tau: float = TAU) -> float:
    """A = (m₊ − m₋)/(m₊ + m₋), m± = Σ ρ_j over ±θ_j ≥ τ θ_max with the heaviest stem excluded (inventory §L2
    [inferred metric] for §6.3 "we move from having a symmetric to right skew bulk"): A ≈ 0 symmetric, A → 1
    right skew. NaN when no stem is left on either side."""
    th, w = _stem(nodes, weights)
    keep = np.ones(th.size, dtype=bool)
    keep[int(np.lexsort((th, -w))[0])] = False
    cut = tau * _theta_max_scale(th)
    m_pos = float(w[keep & (th >= cut)].sum())
    m_neg = float(w[keep & (-th >= cut)].sum())
    return (m_pos - m_neg) / (m_pos + m_neg) if m_pos + m_neg > 0 else float("nan")


def ritz_variance(nodes: ArrayLike, weights: ArrayLike) -> float:
    """Σρθ² − (Σρθ)², the variance of the Ritz measure (exact in expectation: (1/P)Tr H² − ((1/P)Tr H)²
    for m ≥ 2): the Discussion's "the True Hessian has smaller variation in eigenvalues" (inventory §S43)."""
    th, w = _stem(nodes, weights)
    w = w / w.sum()
    mean = float(w @ th)
    return float(w @ th**2) - mean * mean


def spectrum_summary(nodes: ArrayLike, weights: ArrayLike, P: int | None = None, tau: float = TAU,
                     tau0: float = ZERO_TAU) -> dict[str, Any]:
    """Every statistic of inventory §L2 of one stem plot, JSON-ready: ``theta_min``, ``theta_max``, ``m``,
    ``n_neg``, ``neg_fraction`` (n_neg/m), ``neg_mass_raw``, ``neg_mass_tau`` (scored), ``neg_mass_mlrg``,
    ``top3`` ([[ρ, θ], ...], Table 3), ``top3_weight`` (Σ of those ρ, §S38), ``zero_mass``, ``bulk_asymmetry``,
    ``ritz_variance``, ``ritz_mean`` (Σρθ) and, with ``P``, ``trace`` = P Σρθ (the SLQ estimate of Tr H)."""
    th, w = _stem(nodes, weights)
    lo, hi = extremes(th)
    top = top_weights(th, w, min(3, th.size))
    out: dict[str, Any] = {
        "theta_min": lo, "theta_max": hi, "m": int(th.size), "n_neg": negative_count(th),
        "neg_fraction": negative_count(th) / th.size,
        "neg_mass_raw": negative_mass(th, w, "raw"), "neg_mass_tau": negative_mass(th, w, "tau", tau=tau),
        "neg_mass_mlrg": negative_mass(th, w, "mlrg"), "top3": [[r, t] for r, t in top],
        "top3_weight": float(sum(r for r, _ in top)), "zero_mass": zero_mass(th, w, tau0),
        "bulk_asymmetry": bulk_asymmetry(th, w, tau), "ritz_variance": ritz_variance(th, w),
        "ritz_mean": float((w / w.sum()) @ th), "tau": tau, "tau0": tau0,
    }
    if P is not None:
        out["trace"] = float(P) * out["ritz_mean"]
    return out


# ------------------------------------------------------------------------------------------------------
# stem plots
# ------------------------------------------------------------------------------------------------------
def xticks(nodes: ArrayLike, rule: Literal["mlrg4", "lin6", "lin3"] = "mlrg4") -> list[float]:
    """The paper's x-axis ticks, which are its extreme Ritz values (inventory §F, §L2 [checked]):

    - ``mlrg4``: ``arange(θ_min, θ_max, (θ_max − θ_min)/3)`` then θ_max (MLRG ``plot_spectrum.py``; Figs 1, 2,
      5, 6), 4 ticks;
    - ``lin6``: ``linspace(θ_min, θ_max, 6)`` (the appendix Figs 13-33);
    - ``lin3``: ``linspace(θ_min, θ_max, 3)`` (Figs 7, 8).

    (Figs 3, 4 use custom ticks starting at the Empirical minimum; pass those explicitly.)"""
    lo, hi = extremes(nodes)
    if rule == "mlrg4":
        if hi == lo:
            return [lo]
        ticks = list(np.arange(lo, hi, (hi - lo) / 3.0))[:3]  # arange may add a 4th point by rounding
        return [float(t) for t in ticks] + [hi]
    if rule == "lin6":
        return [float(t) for t in np.linspace(lo, hi, 6)]
    if rule == "lin3":
        return [float(t) for t in np.linspace(lo, hi, 3)]
    raise ValueError(f"unknown tick rule {rule!r}; known: {', '.join(TICK_RULES)}")


def log_weight_ticks(weights: ArrayLike, max_ticks: int = 5) -> list[float]:
    """Decade ticks 10^e of the log weight axis, from the decade of the largest weight down to that of the
    smallest positive weight, every s-th decade with the smallest s ∈ {1, 2, 3, …} giving ≤ ``max_ticks``
    ticks. The paper's axes show every 2nd or 3rd decade (10⁻², 10⁻⁵, 10⁻⁸; 10⁻¹, 10⁻³, 10⁻⁵, 10⁻⁷): matplotlib's
    automatic log locator; this rule is our deterministic stand-in for it (not from the paper)."""
    w = np.asarray(weights, dtype=np.float64).ravel()
    w = w[w > 0]
    if w.size == 0:
        raise ValueError("no positive weight to place log ticks on")
    if max_ticks < 1:
        raise ValueError(f"max_ticks must be >= 1, got {max_ticks}")
    top, bottom = int(np.floor(np.log10(w.max()))), int(np.floor(np.log10(w.min())))
    span = top - bottom
    step = 1
    while span // step + 1 > max_ticks:
        step += 1
    return [10.0 ** e for e in range(top, bottom - 1, -step)]


def stem_data(nodes: ArrayLike, weights: ArrayLike, tick_rule: str = "mlrg4") -> dict[str, Any]:
    """What a stem-plot figure's JSON records: nodes (ascending) and weights, the x ticks of ``tick_rule``
    (the numbers the paper's tick labels carry) and the log-weight ticks."""
    th, w = _stem(nodes, weights)
    order = np.argsort(th, kind="stable")
    return {"nodes": th[order].tolist(), "weights": w[order].tolist(), "tick_rule": tick_rule,
            "xticks": xticks(th, tick_rule), "yticks": log_weight_ticks(w)}  # type: ignore[arg-type]


def stem_plot(ax: Any, nodes: ArrayLike, weights: ArrayLike, *, tick_rule: str | None = "mlrg4",
              ticks: Sequence[float] | None = None, title: str | None = None, tick_format: str = "{:.3g}",
              min_weight: float | None = None) -> Any:
    """Stem plot of (θ_j, ρ_j) on ``ax`` as in the paper's figures (MLRG ``plot_spectrum.py`` [ext]): black
    stems, a red baseline, linear x labelled "Eigenvalue Size", log y (the weight), x ticks by ``tick_rule``
    (:func:`xticks`) or the explicit ``ticks``; y ticks :func:`log_weight_ticks`. Weights below ``min_weight``
    (default: 1e-3 × the smallest positive weight) are clipped to it so that zero weights stay on a log axis.
    Returns the (markerline, stemlines, baseline) container of ``ax.stem``."""
    th, w = _stem(nodes, weights)
    pos = w[w > 0]
    if pos.size == 0:
        raise ValueError("no positive weight to plot")
    floor = float(pos.min()) * 1e-3 if min_weight is None else float(min_weight)
    w_plot = np.maximum(w, floor)
    cont = ax.stem(th, w_plot, linefmt="k-", markerfmt="k.", basefmt="r-", bottom=floor)
    cont.baseline.set_linewidth(2)
    ax.set_yscale("log")
    ax.set_xlabel("Eigenvalue Size")
    ax.set_ylabel("Spectral Density")
    if ticks is None and tick_rule is not None:
        ticks = xticks(th, tick_rule)  # type: ignore[arg-type]
    if ticks is not None:
        ax.set_xticks(list(ticks))
        ax.set_xticklabels([tick_format.format(t) for t in ticks])
    ax.set_yticks(log_weight_ticks(pos))
    if title:
        ax.set_title(title)
    return cont
