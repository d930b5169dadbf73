"""Numbers measured on spectra for Granziol (2020), "Beyond Random Matrix Theory for Deep Networks".

The claim rules of :mod:`.claims` compare these numbers with the paper; nothing here decides a verdict.

- stem plots of one Lanczos run, sum_j rho_j delta(x - theta_j) (App B, eq 13): :func:`stem_metrics`
  (atom weight, asymmetry, outliers at both ends; inventory 004 §N), :func:`ggn_gap_ratio`,
  :func:`tail_weight`, :func:`near_origin_weight`, the KS distances :func:`semicircle_ks` and
  :func:`stem_ks_to_sample`, the Ritz density :func:`ritz_density` and its power-law fit
  :func:`ritz_density_power_law` (Fig 3b);
- sampled random-matrix spectra: :func:`marchenko_pastur_sample_stats`, :func:`half_sample_mode`,
  :func:`semicircle_sample_stats`, :func:`near_zero_fraction`, :func:`radial_cdf_distance` (radial laws
  with an atom at 0: Burda, eq 11);
- Hessian elements (Fig 5): :func:`fraction_below`, :func:`row_statistics`.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy import integrate
from scipy.stats import ks_2samp
from torch import Tensor

from ...rmt import fit_semicircle, semicircle_cdf, semicircle_density

__all__ = [
    "stem_metrics", "ggn_gap_ratio", "tail_weight", "near_origin_weight", "semicircle_ks", "stem_ks_to_sample",
    "ritz_density", "ritz_density_power_law", "marchenko_pastur_sample_stats", "half_sample_mode",
    "semicircle_sample_stats", "near_zero_fraction", "fraction_beyond", "radial_cdf_distance", "density_mass", "disc_mass",
    "fraction_below", "row_statistics",
]


def _weighted_sorted(nodes: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    th = np.asarray(nodes, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    if th.shape != w.shape or th.size == 0 or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("nodes and weights must be non-empty arrays of the same shape, weights >= 0 with a positive sum")
    order = np.argsort(th)
    return th[order], w[order] / w.sum()


def stem_metrics(nodes: ArrayLike, weights: ArrayLike, P: int, atom_rtol: float = 1e-3) -> dict[str, Any]:
    """Metrics of a stem plot sum_j rho_j delta(x - theta_j) (inventory 004 §N; the definitions are the
    inventory's, the paper gives none):

    - ``atom_weight`` w_0 = sum of rho_j over |theta_j| <= ``atom_rtol`` max|theta| (the rank-degenerate
      mass at the origin; ``atom_rtol`` = 1e-3 is the inventory's);
    - ``asymmetry`` A = |theta_min| / theta_max (a semicircle has 1);
    - ``negative_mass``: sum of rho_j over theta_j < 0 excluding the node nearest 0;
    - ``outliers``: the number of contiguous top nodes with rho_j < 10/P (an isolated eigenvalue gets
      weight |v^T phi|^2 ~ 1/P), and ``top_gap_ratio``: (theta_max - theta_{max-1}) over the median
      spacing of the top 20 nodes;
    - ``bottom_outliers`` and ``bottom_gap_ratio``: the same at the bottom end (contiguous lowest nodes
      with rho_j < 10/P; (theta_2 - theta_1) over the median spacing of the lowest 20 nodes), and
      ``bottom_weight`` = rho of the lowest node;
    - ``theta_min``, ``theta_max``, ``near_zero_node`` (theta of the node nearest 0).
    """
    th = np.asarray(nodes, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    if th.shape != w.shape or th.size == 0:
        raise ValueError("nodes and weights must be non-empty arrays of the same shape")
    order = np.argsort(th)
    th, w = th[order], w[order]
    scale = np.abs(th).max()
    atom = float(w[np.abs(th) <= atom_rtol * scale].sum()) if scale > 0 else 1.0
    i0 = int(np.argmin(np.abs(th)))
    neg = float(w[(th < 0) & (np.arange(th.size) != i0)].sum())

    def run_length(ws: np.ndarray) -> int:
        below = ws < 10.0 / P
        return int(np.argmin(below)) if not below.all() else int(below.size)

    def gap_ratio(end: np.ndarray) -> float:  # end: the 21 nodes at one end, the extreme node first
        spacing = np.median(np.abs(np.diff(end))) if end.size > 2 else np.nan
        return float(abs(end[0] - end[1]) / spacing) if end.size > 2 and spacing > 0 else float("nan")

    return {"atom_weight": atom, "asymmetry": float(abs(th[0]) / th[-1]) if th[-1] > 0 else float("nan"),
            "negative_mass": neg, "outliers": run_length(w[::-1]), "top_gap_ratio": gap_ratio(th[::-1][:21]),
            "bottom_outliers": run_length(w), "bottom_gap_ratio": gap_ratio(th[:21]), "bottom_weight": float(w[0]),
            "theta_min": float(th[0]), "theta_max": float(th[-1]), "near_zero_node": float(th[i0])}


def ggn_gap_ratio(nodes: ArrayLike, atom_rtol: float = 1e-3) -> float:
    """(smallest Ritz value outside the atom) / theta_max, the atom being |theta| <= ``atom_rtol`` theta_max
    (S13: an MP law with ratio q > 1 leaves the gap (1 - sqrt q)^2 / (1 + sqrt q)^2 between its atom and
    its bulk, relative to the top edge). NaN if every node is in the atom."""
    th = np.asarray(nodes, dtype=np.float64).ravel()
    top = th.max()
    outside = th[th > atom_rtol * top]
    return float(outside.min() / top) if outside.size and top > 0 else float("nan")


def tail_weight(nodes: ArrayLike, weights: ArrayLike, rel: float = 0.5) -> float:
    """Weight of the stem nodes with |theta| > ``rel`` * max|theta| (S15: the tail of the Residual)."""
    th, w = _weighted_sorted(nodes, weights)
    return float(w[np.abs(th) > rel * np.abs(th).max()].sum())


def near_origin_weight(nodes: ArrayLike, weights: ArrayLike, rel: float = 0.01) -> float:
    """Weight of the stem nodes with |theta| < ``rel`` * max|theta| (S24: below 1 % of theta_max)."""
    th, w = _weighted_sorted(nodes, weights)
    return float(w[np.abs(th) < rel * np.abs(th).max()].sum())


def semicircle_ks(nodes: ArrayLike, weights: ArrayLike) -> tuple[float, float]:
    """(KS distance, radius) between the discrete stem measure and the zero-centred semicircle with the same
    second moment (:func:`hessian_spectra.rmt.fit_semicircle`): sup_x |F_stem(x) - F_sc(x)|, evaluated on
    both sides of every jump."""
    th, w = _weighted_sorted(nodes, weights)
    radius = fit_semicircle(th, w)
    cdf_after = np.cumsum(w)
    cdf_before = cdf_after - w
    sc = semicircle_cdf(th, radius)
    return float(max(np.abs(cdf_after - sc).max(), np.abs(cdf_before - sc).max())), radius


def stem_ks_to_sample(nodes: ArrayLike, weights: ArrayLike, sample: ArrayLike,
                      standardise: bool = True) -> dict[str, float]:
    r"""Distances between a stem measure sum_j rho_j delta(x - theta_j) (one Lanczos run) and the empirical
    law of a sampled spectrum (e.g. the eigenvalues of a random-matrix ensemble).

    With ``standardise`` both are first divided by their root second moment (sqrt(sum_j rho_j theta_j^2),
    resp. sqrt(mean x^2); not centred, as the moment-matched semicircle of :func:`semicircle_ks`).

    - ``ks``: the exact sup_x |F_stem(x) - G(x)|, checked on both sides of every jump of the stem CDF:
      max_j max(|F_j^- - G(theta_j^-)|, |F_j^+ - G(theta_j)|), with F_j^- = sum_{i<j} rho_i, F_j^+ = F_j^- + rho_j.
    - ``band``: the distance of G from the Chebyshev-Markov-Stieltjes bracket of the Gauss quadrature,
      max_j max(0, F_j^- - G(theta_j^-), G(theta_j) - F_j^+). The measure v^T E(x) v that the Lanczos run
      quadratures exactly satisfies F_j^- <= F(theta_j^-) <= F(theta_j) <= F_j^+, so ``band`` is a lower bound
      on the KS distance between that measure and G, free of the m-node discretisation (our choice of a
      second statistic, not the paper's).
    """
    th, w = _weighted_sorted(nodes, weights)
    x = np.sort(np.asarray(sample, dtype=np.float64).ravel())
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("sample must be a non-empty array of finite numbers")
    if standardise:
        s_th, s_x = float(np.sqrt(np.sum(w * th * th))), float(np.sqrt(np.mean(x * x)))
        if s_th <= 0 or s_x <= 0:
            raise ValueError("cannot standardise a spectrum with zero second moment")
        th, x = th / s_th, x / s_x
    after = np.cumsum(w)
    before = after - w
    g_left = np.searchsorted(x, th, side="left") / x.size
    g_right = np.searchsorted(x, th, side="right") / x.size
    ks = float(max(np.abs(before - g_left).max(), np.abs(after - g_right).max()))
    band = float(max(0.0, (before - g_left).max(), (g_right - after).max()))
    return {"ks": ks, "band": band}


def ritz_density(nodes: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Density estimate of a stem plot at its interior nodes: ``(theta_j, d_j)`` with
    d_j = rho_j / ((theta_{j+1} - theta_{j-1}) / 2) (inventory 004 §F Fig 3 (b); the paper gives no procedure).

    The node nearest 0 (the atom / central peak) and the two extreme nodes are left out. Weights are
    normalised to sum 1 first. Nodes ascending.
    """
    th, w = _weighted_sorted(nodes, weights)
    i0 = int(np.argmin(np.abs(th)))
    idx = np.arange(1, th.size - 1)
    idx = idx[idx != i0]
    return th[idx], w[idx] / ((th[idx + 1] - th[idx - 1]) / 2.0)


def ritz_density_power_law(nodes: ArrayLike, weights: ArrayLike, min_nodes: int = 3) -> dict[str, dict[str, float]]:
    r"""Burda-type power-law fit p(x) ~ c |x|^s to a stem plot, separately for x > 0 and x < 0 (Fig 3b;
    fit procedure of inventory 004 §F Fig 3 (b), the paper states none).

    OLS of log d_j on log |theta_j| over all nodes of a side of :func:`ritz_density` (|theta| <= sigma :=
    max|theta|). Burda's law |x|^(-2+2/L) gives L_hat = 2 / (s + 2). Returns ``{"positive": {...},
    "negative": {...}}`` with ``exponent`` s, ``prefactor`` c, ``r2``, ``L_hat``, ``n_nodes`` (NaN where a
    side has fewer than ``min_nodes`` nodes).
    """
    th, d = ritz_density(nodes, weights)
    out = {}
    for side, sel in (("positive", th > 0), ("negative", th < 0)):
        sel = sel & (d > 0)
        n = int(sel.sum())
        if n < min_nodes:
            out[side] = {"exponent": float("nan"), "prefactor": float("nan"), "r2": float("nan"),
                         "L_hat": float("nan"), "n_nodes": n}
            continue
        lx, ly = np.log(np.abs(th[sel])), np.log(d[sel])
        slope, icpt = np.polyfit(lx, ly, 1)
        resid = ly - (slope * lx + icpt)
        sst = float(np.sum((ly - ly.mean()) ** 2))
        r2 = 1.0 - float(np.sum(resid ** 2)) / sst if sst > 0 else 1.0
        out[side] = {"exponent": float(slope), "prefactor": float(np.exp(icpt)), "r2": r2,
                     "L_hat": float(2.0 / (slope + 2.0)) if slope != -2.0 else float("inf"), "n_nodes": n}
    return out


def half_sample_mode(sample: ArrayLike) -> float:
    r"""Mode of a sample by the half-sample mode (Bickel & Fruehwirth 2006): repeatedly keep the shortest
    interval holding half of the points (ceil(n/2) of them) until at most three are left; return their mean
    (of two points, of the closer pair of three). Parameter-free (no bandwidth or bin width to choose); our
    choice of estimator for S12, the paper and the inventory name none.
    """
    x = np.sort(np.asarray(sample, dtype=np.float64).ravel())
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("sample must be a non-empty array of finite numbers")
    while x.size > 3:
        h = int(np.ceil(x.size / 2))
        widths = x[h - 1:] - x[: x.size - h + 1]
        i = int(np.argmin(widths))
        x = x[i:i + h]
    if x.size == 3:
        x = x[:2] if x[1] - x[0] <= x[2] - x[1] else x[1:]
    return float(x.mean())


def marchenko_pastur_sample_stats(eigenvalues: ArrayLike, rel_zero: float = 1e-8) -> dict[str, float]:
    r"""What §3.2 says about a Wishart spectrum, measured on a sample: ``atom`` (fraction with
    |x| < ``rel_zero`` max x; our tolerance), the bulk (the other eigenvalues) ``bulk_min``, ``bulk_max``,
    ``bulk_mean``, ``bulk_mode`` (:func:`half_sample_mode`), ``mean_all`` (over every eigenvalue) and ``n``."""
    ev = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if ev.size == 0:
        raise ValueError("eigenvalues is empty")
    zero = np.abs(ev) < rel_zero * np.abs(ev).max()
    bulk = ev[~zero]
    if bulk.size == 0:
        raise ValueError("every eigenvalue is in the atom: no bulk to measure")
    return {"atom": float(zero.mean()), "bulk_min": float(bulk.min()), "bulk_max": float(bulk.max()),
            "bulk_mean": float(bulk.mean()), "bulk_mode": half_sample_mode(bulk), "mean_all": float(ev.mean()),
            "n": int(ev.size)}


def semicircle_sample_stats(eigenvalues: ArrayLike, radius: float, inner: float = 0.9,
                            bin_width: float = 0.05) -> dict[str, float]:
    r"""What §3.2 says about the semicircle, measured (S8, S18): the sampled extremes ``min``, ``max``; the
    log-density range over |x| < ``inner`` * radius (|x| < 1.8 sigma, sigma = radius/2: the inventory's
    window) in decades, of the analytic density (``decades_analytic``) and of the sample's histogram with
    bins of ``bin_width`` * radius (``decades_sample``; bin width ours); the fraction of the sample beyond
    1.025 radius (= 2.05 sigma, the inventory's cut-off), ``fraction_beyond``."""
    ev = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if ev.size == 0:
        raise ValueError("eigenvalues is empty")
    grid = np.linspace(-inner * radius, inner * radius, 101)
    dens = semicircle_density(grid, radius)
    n_bins = int(round(2 * inner / bin_width))
    counts, _ = np.histogram(ev, bins=np.linspace(-inner * radius, inner * radius, n_bins + 1))
    sample_decades = float(np.log10(counts.max() / counts.min())) if counts.min() > 0 else float("inf")
    return {"min": float(ev.min()), "max": float(ev.max()), "decades_analytic": float(np.log10(dens.max() / dens.min())),
            "decades_sample": sample_decades, "fraction_beyond": float(np.mean(np.abs(ev) > 1.025 * radius)),
            "n": int(ev.size)}


def near_zero_fraction(eigenvalues: ArrayLike, rel: float) -> float:
    """Fraction of the eigenvalues with |x| < ``rel`` * max|x| (S24, S25: mass piled up at the origin)."""
    x = np.abs(np.asarray(eigenvalues, dtype=np.float64).ravel())
    if x.size == 0:
        raise ValueError("eigenvalues is empty")
    return float(np.mean(x < rel * x.max()))


def fraction_beyond(eigenvalues: ArrayLike, edge: float) -> float:
    """Fraction of the eigenvalues with |x| > ``edge`` (S35: tails beyond the semicircle edge)."""
    x = np.abs(np.asarray(eigenvalues, dtype=np.float64).ravel())
    if x.size == 0:
        raise ValueError("eigenvalues is empty")
    return float(np.mean(x > edge))


def radial_cdf_distance(moduli: ArrayLike, cdf: Callable[[np.ndarray], np.ndarray], n_zero: int = 0) -> float:
    r"""Kolmogorov distance sup_r |F_n(r) - F(r)| between the empirical CDF of eigenvalue moduli and a radial
    law F that may carry an atom at 0 (F(0) > 0, continuous on r > 0), as for eq 11 (atom 1 - R).

    ``moduli``: the |z| of the non-zero eigenvalues; ``n_zero``: how many eigenvalues are exactly 0 (e.g.
    the rank deficit N - K of X_1 X_2, known from the shapes), counted in F_n at r = 0. The supremum is
    taken at r = 0 and on both sides of every jump of F_n. With ``n_zero = 0`` and F(0) = 0 this is the
    one-sample KS statistic.
    """
    x = np.sort(np.asarray(moduli, dtype=np.float64).ravel())
    if x.size == 0 or np.any(x < 0) or not np.all(np.isfinite(x)):
        raise ValueError("moduli must be a non-empty array of finite non-negative numbers")
    if n_zero < 0:
        raise ValueError(f"n_zero must be >= 0, got {n_zero}")
    n = x.size + n_zero
    F = np.asarray(cdf(x), dtype=np.float64)
    after = (n_zero + np.arange(1, x.size + 1)) / n
    before = after - 1.0 / n
    at_zero = abs(n_zero / n - float(np.asarray(cdf(np.zeros(1)), dtype=np.float64)[0]))
    return float(max(at_zero, np.abs(after - F).max(), np.abs(before - F).max()))


def density_mass(density: Callable[[np.ndarray], np.ndarray], lo: float, hi: float) -> float:
    """int_lo^hi density(x) dx by adaptive quadrature (e.g. the mass of a printed density, S8)."""
    return float(integrate.quad(lambda x: float(np.asarray(density(np.array([x])))[0]), lo, hi, limit=200)[0])


def disc_mass(radial_density: Callable[[np.ndarray], np.ndarray], radius: float) -> float:
    """int over the disc |z| <= radius of a planar density that depends on |z| only: int_0^radius 2 pi r rho(r) dr
    (e.g. the mass of the printed Burda law, S20). The integrand may be singular at 0 like r^(2/L - 1)."""
    return float(integrate.quad(lambda r: 2 * np.pi * r * float(np.asarray(radial_density(np.array([r])))[0]),
                                0.0, radius, limit=200)[0])


def fraction_below(values: Tensor | np.ndarray, thresholds: Sequence[float] = (1e-8, 1e-6, 1e-4)) -> dict[str, float]:
    """Fraction of entries with |value| < t for each threshold t (and ``exact_zero``: |value| == 0)."""
    v = torch.as_tensor(values).abs().reshape(-1)
    out = {f"{t:g}": float((v < t).double().mean()) for t in thresholds}
    out["exact_zero"] = float((v == 0).double().mean())
    return out


def row_statistics(rows: Tensor | np.ndarray) -> dict[str, Any]:
    """Statistics of sampled Hessian rows H e_j (Fig 5c,d; S40-S42), one row per line of ``rows``.

    ``fractions``: array (rows, 3) of the fractions of |H_ij| below 1e-8, below 1e-6 and at least 1e-6
    (the paper's thresholds); ``log10``: per row, log10 |H_ij| of its non-zero entries; ``max_pairwise_ks``:
    the largest two-sample KS distance between those distributions over pairs of rows (rows that are
    exactly zero are left out; 0 if fewer than two rows remain).
    """
    r = torch.as_tensor(rows).abs().double().cpu()
    if r.ndim != 2 or r.shape[0] == 0:
        raise ValueError(f"rows must be a non-empty (rows, P) array, got shape {tuple(r.shape)}")
    fr = np.array([[float((x < 1e-8).double().mean()), float((x < 1e-6).double().mean()),
                    float((x >= 1e-6).double().mean())] for x in r])
    logs = [np.log10(x[x > 0].numpy()) for x in r]
    nonempty = [lg for lg in logs if lg.size]
    ks = max((float(ks_2samp(a, b).statistic) for a, b in itertools.combinations(nonempty, 2)), default=0.0)
    return {"fractions": fr, "log10": logs, "max_pairwise_ks": ks}
