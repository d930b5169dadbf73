r"""Random-matrix densities and samplers (Granziol, "Beyond Random Matrix Theory for Deep Networks").

Conventions (all quantities float64; every density integrates to 1 *together with its atom*):

- **Wigner / GOE** (paper eq 2, Theorem 4 = eq 18). A real symmetric ``n x n`` matrix with independent
  Gaussian entries, off-diagonal variance ``sigma^2 / n`` and diagonal variance ``2 sigma^2 / n``. Its
  spectrum tends to the semicircle on ``[-radius, radius]`` with ``radius = 2 sigma``:
  ``p(x) = 2 / (pi radius^2) * sqrt(radius^2 - x^2)`` = ``sqrt(4 sigma^2 - x^2) / (2 pi sigma^2)``.
  The paper's eq 2 prints the prefactor ``1 / (2 pi)``, whose integral is ``sigma^2``, not 1
  (:func:`semicircle_density_as_printed`; inventory 004 §E1).
- **Marchenko-Pastur** (eqs 3, 19-20). ``G = X X^T / T`` with ``X`` of shape ``(P, T)``, entries of variance
  ``variance = sigma^2``, ratio ``q = P / T``. Edges ``sigma^2 (1 +- sqrt q)^2``; atom ``1 - 1/q`` at 0 when
  ``q > 1``; the continuous part ``sqrt((l+ - x)(x - l-)) / (2 pi sigma^2 q x)`` carries mass ``min(1, 1/q)``.
  For ``q > 1`` the continuous part is *not* the paper's ``nu_{1/q}`` (eq 3), its mean is ``q sigma^2`` and
  its mode ``sigma^2 (q - 1)^2 / (q + 1)``, not ``sigma^2`` as §3.2 states (inventory §E2-E3).
- **Spiked GOE / BBP** (eq 30, App D eq 38). ``W + theta u u^T`` with ``W`` a GOE of semicircle radius
  ``2 sigma`` and ``|u| = 1``: the top eigenvalue tends to ``theta + sigma^2 / theta`` if ``theta > sigma``,
  else to the edge ``2 sigma``. Eq 8 as printed is internally inconsistent (inventory §E4); eq 30 is used.
- **Products** (§4.1). Factors ``X_l`` of shape ``(N_l, N_{l+1})``, ``l = 1..L``, with ``dims = (N_1, ...,
  N_{L+1})``. Gaussian (Ginibre) factors have entries of variance ``radius^(2/L) / N_{l+1}``; for a square
  product (``N_{L+1} = N_1``) the complex eigenvalues fill the disc ``|z| <= radius`` with Burda et al.'s
  planar density ``(1 / (L pi radius^(2/L))) |z|^(-2 + 2/L)``. The paper prints the prefactor ``sigma^-2``
  (correct only for ``sigma = 1``; §E9). The Wishart product ``X~ X~^T`` (``X~ = X_1 ... X_L``, entries of
  variance ``1 / N_{l+1}``) of square factors has the Fuss-Catalan law, whose density near 0 goes as
  ``x^(-L/(L+1))``; the paper prints ``x^(-(1 + 1/L))`` (§E10), which is not even integrable.
  The exact zero mass of any product is its rank deficit ``max(0, 1 - min(dims) / N_1)``
  (:func:`product_zero_atom`); the paper's "degeneracy fraction" ``1 - <1/R>/L`` is kept only as a
  labelled comparison (:func:`degeneracy_fraction_as_printed`; §E11).
- **Percolation** (§4.2). Every entry (Wigner: of the upper triangle incl. the diagonal, mirrored; Wishart:
  of ``X``) is kept independently with probability ``p = k / n`` (``k`` = sparsity constant = mean number of
  non-zeros per row) and rescaled by ``1 / sqrt(p)`` so the entry variance is unchanged. The paper does
  not state the diagonal treatment, the entry law or the scaling; these are our choices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import numpy.typing as npt
from scipy import integrate, optimize

ArrayLike = npt.ArrayLike
Array = npt.NDArray[np.float64]

__all__ = [
    "semicircle_density", "semicircle_density_as_printed", "semicircle_cdf", "semicircle_stieltjes",
    "sample_wigner", "fit_semicircle",
    "marchenko_pastur_edges", "marchenko_pastur_density", "marchenko_pastur_density_as_printed",
    "marchenko_pastur_atom", "marchenko_pastur_cdf", "marchenko_pastur_bulk_mean",
    "marchenko_pastur_bulk_mode", "sample_wishart", "MarchenkoPasturFit", "fit_marchenko_pastur",
    "spiked_threshold", "spiked_outlier", "spiked_outlier_as_printed", "sample_spiked_wigner",
    "sample_gaussian_product", "sample_wigner_product", "sample_wishart_product",
    "burda_product_density", "burda_product_density_as_printed", "burda_product_radial_cdf",
    "product_l2_density", "product_l2_atom", "product_l2_radial_cdf",
    "fuss_catalan_edge", "fuss_catalan_density", "fuss_catalan_cdf", "fuss_catalan_moment",
    "near_origin_exponent", "near_origin_exponent_as_printed", "product_zero_atom",
    "degeneracy_fraction_as_printed", "sparse_wigner_zero_atom", "real_spectrum", "product_rank_deficit",
    "fit_power_law_near_origin", "zero_fraction",
]


# ----------------------------------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------------------------------
def _points(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def _size(name: str, n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _generator(rng: np.random.Generator) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _keep_probability(sparsity: float | None, n: int) -> float | None:
    """``p = k / n`` (paper §4.2), or ``None`` for a dense matrix."""
    if sparsity is None:
        return None
    k = _positive("sparsity (the constant k, mean non-zeros per row)", sparsity)
    if k > n:
        raise ValueError(f"sparsity k={k} exceeds the row length n={n}; p = k/n must be <= 1")
    return k / n


def _percolate(a: Array, p: float | None, rng: np.random.Generator) -> Array:
    """Keep each entry with probability ``p`` and rescale by ``1/sqrt(p)`` (variance preserved)."""
    if p is None:
        return a
    return a * (rng.random(a.shape) < p) / math.sqrt(p)


# ----------------------------------------------------------------------------------------------------
# Wigner semicircle (eq 2, eq 18, eq 31)
# ----------------------------------------------------------------------------------------------------
def semicircle_density(x: ArrayLike, radius: float = 2.0) -> Array:
    r"""Wigner semicircle ``p(x) = 2/(pi R^2) sqrt(R^2 - x^2)`` on ``[-R, R]`` (eq 2, corrected; eq 18 for R = 2).

    With ``R = 2 sigma`` this is ``sqrt(4 sigma^2 - x^2) / (2 pi sigma^2)``; it integrates to 1.
    """
    r = _positive("radius", radius)
    x = _points(x)
    return np.where(np.abs(x) < r, 2.0 / (math.pi * r * r) * np.sqrt(np.clip(r * r - x * x, 0.0, None)), 0.0)


def semicircle_density_as_printed(x: ArrayLike, sigma: float) -> Array:
    r"""The paper's eq 2 *as printed*: ``(1/2 pi) sqrt(4 sigma^2 - x^2) 1{|x| <= 2 sigma}``.

    Its integral is ``sigma^2``, not 1 (the ``1/sigma^2`` is missing; inventory 004 §E1). Shown in the
    notebooks only beside :func:`semicircle_density`.
    """
    s = _positive("sigma", sigma)
    x = _points(x)
    return np.where(np.abs(x) <= 2 * s, np.sqrt(np.clip(4 * s * s - x * x, 0.0, None)) / (2 * math.pi), 0.0)


def semicircle_cdf(x: ArrayLike, radius: float = 2.0) -> Array:
    r"""CDF of the semicircle: ``1/2 + x sqrt(R^2 - x^2)/(pi R^2) + arcsin(x/R)/pi`` on ``[-R, R]``."""
    r = _positive("radius", radius)
    x = np.clip(_points(x), -r, r)
    return 0.5 + x * np.sqrt(r * r - x * x) / (math.pi * r * r) + np.arcsin(x / r) / math.pi


def semicircle_stieltjes(z: ArrayLike, radius: float = 2.0) -> npt.NDArray[np.complex128]:
    r"""Stieltjes transform ``S(z) = int p(u)/(z - u) du = (z - sqrt(z^2 - 4 sigma^2)) / (2 sigma^2)`` (eq 31).

    The branch with ``S(z) ~ 1/z`` at infinity is taken by writing the root as
    ``sqrt(z - 2 sigma) sqrt(z + 2 sigma)`` (principal roots); ``sigma = radius / 2``. Its functional inverse
    is the Blue function ``B(w) = 1/w + sigma^2 w`` (eq 32), so the R-transform is ``sigma^2 w`` (eq 24).
    """
    s = _positive("radius", radius) / 2.0
    z = np.asarray(z, dtype=np.complex128)
    return (z - np.sqrt(z - 2 * s) * np.sqrt(z + 2 * s)) / (2 * s * s)


def sample_wigner(n: int, radius: float, rng: np.random.Generator, sparsity: float | None = None) -> Array:
    r"""A real symmetric (GOE) ``n x n`` matrix whose spectrum tends to the semicircle on ``[-radius, radius]``.

    Entries ``H_ij ~ N(0, sigma^2/n)`` (``i != j``) and ``H_ii ~ N(0, 2 sigma^2/n)`` with ``sigma = radius/2``
    (Theorem 4: ``M_P / sqrt(P)``). With ``sparsity=k`` each entry of the upper triangle (diagonal included;
    not stated by the paper) is kept with probability ``k/n`` (percolated Wigner, §4.2) and rescaled by
    ``sqrt(n/k)`` so the variance is unchanged; for fixed ``k`` the limit is no longer the semicircle.
    """
    n = _size("n", n)
    sigma = _positive("radius", radius) / 2.0
    rng = _generator(rng)
    p = _keep_probability(sparsity, n)
    a = rng.standard_normal((n, n))
    h = (a + a.T) / math.sqrt(2.0)  # off-diagonal variance 1, diagonal variance 2
    if p is not None:
        mask = np.triu(rng.random((n, n)) < p)
        mask = mask | mask.T
        h = h * mask / math.sqrt(p)
    return h * (sigma / math.sqrt(n))


def fit_semicircle(eigenvalues: ArrayLike, weights: ArrayLike | None = None) -> float:
    r"""Radius ``R`` of the zero-centred semicircle with the same second moment as a spectrum.

    The semicircle on ``[-R, R]`` has ``E[x^2] = R^2 / 4``, so ``R = 2 sqrt(sum_j w_j x_j^2)``. ``weights`` are
    probabilities (e.g. Lanczos/Gauss-quadrature weights ``rho_j`` of a stem plot, paper eq 13); default
    uniform. Centred at 0 because the GOE model of the Hessian (Choromanska et al., [14]) is; moment
    matching is our choice (the paper does not say how its Fig 1b semicircle was scaled).
    """
    x, w = _weighted(eigenvalues, weights)
    m2 = float(np.sum(w * x * x))
    if m2 <= 0:
        raise ValueError("the spectrum has zero second moment; no semicircle can be fitted")
    return 2.0 * math.sqrt(m2)


def _weighted(eigenvalues: ArrayLike, weights: ArrayLike | None) -> tuple[Array, Array]:
    x = _points(eigenvalues).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("eigenvalues must be a non-empty array of finite numbers")
    if weights is None:
        return x, np.full(x.size, 1.0 / x.size)
    w = _points(weights).ravel()
    if w.shape != x.shape:
        raise ValueError(f"weights has shape {w.shape}, eigenvalues {x.shape}; they must match")
    if np.any(w < 0) or not np.isfinite(w.sum()) or w.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive finite sum")
    return x, w / w.sum()


# ----------------------------------------------------------------------------------------------------
# Marchenko-Pastur (eqs 3, 19, 20)
# ----------------------------------------------------------------------------------------------------
def marchenko_pastur_edges(ratio: float, variance: float = 1.0) -> tuple[float, float]:
    r"""Bulk edges ``sigma^2 (1 -+ sqrt q)^2`` (eq 3/20), ``q = P/T``, ``sigma^2 = variance``."""
    q = _positive("ratio", ratio)
    v = _positive("variance", variance)
    return v * (1 - math.sqrt(q)) ** 2, v * (1 + math.sqrt(q)) ** 2


def marchenko_pastur_atom(ratio: float) -> float:
    r"""Weight of the atom at 0: ``1 - 1/q`` for ``q = P/T > 1``, else 0 (eq 3; rank of ``X X^T`` is ``min(P, T)``)."""
    q = _positive("ratio", ratio)
    return max(0.0, 1.0 - 1.0 / q)


def marchenko_pastur_density(x: ArrayLike, ratio: float, variance: float = 1.0) -> Array:
    r"""Absolutely continuous part of the MP law of ``G = X X^T / T``, ``X`` of shape ``(P, T)``, ``q = P/T``.

    ``rho(x) = sqrt((l+ - x)(x - l-)) / (2 pi sigma^2 q x)`` on ``[l-, l+]`` (eq 20 with eq 3's ``q`` in the
    denominator). It carries mass ``min(1, 1/q)``; for ``q > 1`` the remainder ``1 - 1/q`` is the atom at 0
    (:func:`marchenko_pastur_atom`), so density + atom integrate to 1.
    """
    q = _positive("ratio", ratio)
    v = _positive("variance", variance)
    lo, hi = marchenko_pastur_edges(q, v)
    x = _points(x)
    inside = (x > lo) & (x < hi) & (x > 0)
    xs = np.where(inside, x, 1.0)
    val = np.sqrt(np.clip((hi - xs) * (xs - lo), 0.0, None)) / (2 * math.pi * v * q * xs)
    return np.where(inside, val, 0.0)


def marchenko_pastur_density_as_printed(x: ArrayLike, ratio: float, variance: float = 1.0) -> Array:
    r"""The continuous part of eq 3 *as printed*: ``nu_q`` for ``q <= 1`` but ``nu_{1/q}`` for ``q > 1``.

    ``d nu_q = sqrt((l+ - x)(x - l-)) / (2 pi x q sigma^2)``, ``l+- = sigma^2 (1 +- sqrt q)^2``. (Eq 3 literally
    has ``(x - l+)(x - l-)`` under the root, negative on the support; the order of eq 20 is used here so
    the printed form can be drawn.) For ``q > 1`` the printed ``nu_{1/q}`` puts the bulk on
    ``sigma^2 (1 +- 1/sqrt q)^2`` with mass 1, so bulk + atom has mass ``2 - 1/q``; the true bulk lies on
    ``sigma^2 (1 +- sqrt q)^2`` with mass ``1/q`` (inventory 004 §E2).
    """
    q = _positive("ratio", ratio)
    q_printed = 1.0 / q if q > 1 else q
    return marchenko_pastur_density(x, q_printed, variance)


def marchenko_pastur_cdf(x: ArrayLike, ratio: float, variance: float = 1.0) -> Array:
    r"""CDF of the full MP law (atom ``1 - 1/q`` at 0 included), by quadrature of the density.

    Uses ``x = (l- + l+)/2 - (l+ - l-)/2 cos t`` so the integrand is smooth (``scipy.integrate.quad``).
    """
    q = _positive("ratio", ratio)
    v = _positive("variance", variance)
    lo, hi = marchenko_pastur_edges(q, v)
    c, h = (lo + hi) / 2, (hi - lo) / 2
    atom = marchenko_pastur_atom(q)

    def integrand(t: float) -> float:
        lam = c - h * math.cos(t)
        return (h * math.sin(t)) ** 2 / (2 * math.pi * v * q * lam)

    def one(xi: float) -> float:
        if xi < 0:
            return 0.0
        if xi <= lo:
            return atom
        if xi >= hi:
            return 1.0
        t = math.acos(min(1.0, max(-1.0, (c - xi) / h)))
        return atom + integrate.quad(integrand, 0.0, t, epsabs=1e-12)[0]

    x = _points(x)
    return np.vectorize(one, otypes=[np.float64])(x)


def marchenko_pastur_bulk_mean(ratio: float, variance: float = 1.0) -> float:
    r"""Mean of the continuous part: ``q sigma^2`` for ``q > 1``, ``sigma^2`` for ``q <= 1``.

    The mean over *all* ``P`` eigenvalues is ``sigma^2`` (``tr G / P``); §3.2's "the mean of the bulk is
    given by sigma^2" is therefore wrong for ``q > 1`` (inventory 004 §E3, scoreboard S11).
    """
    q = _positive("ratio", ratio)
    v = _positive("variance", variance)
    return q * v if q > 1 else v


def marchenko_pastur_bulk_mode(ratio: float, variance: float = 1.0) -> float:
    r"""Mode of the MP density: ``2 l- l+ / (l- + l+) = sigma^2 (1 - q)^2 / (1 + q)``.

    Solves ``d/dx log rho = 0``. §3.2 says the maximal density of the bulk is at ``sigma^2``; that is
    false for every ``q`` except ``q -> 0`` (inventory 004 §E3, scoreboard S12). At ``q = 1`` the density
    diverges at 0 and the formula gives 0.
    """
    q = _positive("ratio", ratio)
    v = _positive("variance", variance)
    return v * (1 - q) ** 2 / (1 + q)


def sample_wishart(P: int, T: int, rng: np.random.Generator, variance: float = 1.0,
                   sparsity: float | None = None) -> Array:
    r"""``G = X X^T / T`` with ``X`` of shape ``(P, T)``, entries ``N(0, variance)`` (App B, Theorem 5).

    The spectrum tends to MP with ``q = P/T``. With ``sparsity=k`` each entry of ``X`` is kept with
    probability ``k/T`` (``k`` non-zeros per row on average; which dimension ``k`` refers to is not stated
    by the paper) and rescaled by ``sqrt(T/k)`` (sparse Marchenko-Pastur, Fig 4b).
    """
    P, T = _size("P", P), _size("T", T)
    v = _positive("variance", variance)
    rng = _generator(rng)
    x = _percolate(rng.standard_normal((P, T)) * math.sqrt(v), _keep_probability(sparsity, T), rng)
    return x @ x.T / T


@dataclass(frozen=True)
class MarchenkoPasturFit:
    """Parameters of a moment-matched MP law: ``ratio`` q = P/T and ``variance`` sigma^2."""

    ratio: float
    variance: float


def fit_marchenko_pastur(eigenvalues: ArrayLike, weights: ArrayLike | None = None,
                         ratio: float | None = None) -> MarchenkoPasturFit:
    r"""MP parameters with the first two moments of a spectrum (atom included).

    Over all eigenvalues the MP law has ``E[x] = sigma^2`` and ``E[x^2] = sigma^4 (1 + q)``, so
    ``sigma^2 = m1`` and ``q = m2 / m1^2 - 1``. Pass ``ratio`` to fix ``q`` (e.g. ``q = P / (N (C - 1))`` for a
    GGN, inventory §F Fig 2) and fit ``sigma^2 = m1`` only. ``weights``: probabilities (e.g. Lanczos
    quadrature weights); default uniform. Moment matching is our choice: the paper gives no fit procedure.
    """
    x, w = _weighted(eigenvalues, weights)
    m1 = float(np.sum(w * x))
    if m1 <= 0:
        raise ValueError(f"the spectrum has mean {m1:.3g} <= 0; an MP law needs a positive mean")
    if ratio is not None:
        return MarchenkoPasturFit(ratio=_positive("ratio", ratio), variance=m1)
    m2 = float(np.sum(w * x * x))
    q = m2 / (m1 * m1) - 1.0
    if q <= 0:
        raise ValueError(f"moment-matched ratio q = {q:.3g} <= 0: the spectrum is too concentrated for MP")
    return MarchenkoPasturFit(ratio=q, variance=m1)


# ----------------------------------------------------------------------------------------------------
# spiked GOE (eq 8, eq 30, App D)
# ----------------------------------------------------------------------------------------------------
def spiked_threshold(radius: float = 2.0) -> float:
    r"""BBP threshold ``sigma = radius/2``: a rank-one spike ``theta`` with ``|theta| <= sigma`` makes no outlier (eq 30)."""
    return _positive("radius", radius) / 2.0


def spiked_outlier(theta: float, radius: float = 2.0) -> float:
    r"""Limit of the extreme eigenvalue of ``W + theta u u^T`` (eq 30, App D eq 38-39).

    ``W``: GOE with semicircle on ``[-2 sigma, 2 sigma]`` (``sigma = radius/2``), ``|u| = 1``. For
    ``theta > sigma`` the top eigenvalue is ``theta + sigma^2/theta``; for ``0 <= theta <= sigma`` it sticks
    to the edge ``2 sigma``. Negative ``theta`` is mirrored (the bottom eigenvalue: ``theta + sigma^2/theta``
    if ``theta < -sigma``, else ``-2 sigma``).
    """
    sigma = spiked_threshold(radius)
    theta = float(theta)
    if not math.isfinite(theta):
        raise ValueError(f"theta must be finite, got {theta!r}")
    if abs(theta) > sigma:
        return theta + sigma * sigma / theta
    return math.copysign(2 * sigma, theta) if theta != 0 else 2 * sigma


def spiked_outlier_as_printed(theta: float, sigma: float, P: int, N: int) -> float:
    r"""Eq 8 *as printed*: ``theta + sqrt(P/(2N)) sigma/theta`` if ``theta > sqrt 2``, else ``sqrt 2``.

    Eq 8 is internally inconsistent (threshold ``sqrt 2`` but shift ``sqrt(P/2N) sigma/theta`` with ``N``
    undefined; the lower branch returns ``-sqrt 2 sigma``): inventory 004 §E4. Kept only for comparison with
    :func:`spiked_outlier` (eq 30), which is the standard BBP result and matches sampling.
    """
    s = _positive("sigma", sigma)
    P, N = _size("P", P), _size("N", N)
    theta = float(theta)
    if theta > math.sqrt(2):
        return theta + math.sqrt(P / (2 * N)) * s / theta
    return math.sqrt(2)


def sample_spiked_wigner(n: int, theta: float, radius: float, rng: np.random.Generator) -> Array:
    r"""``W + theta u u^T``: a GOE (:func:`sample_wigner`) plus a rank-one spike along a uniformly random unit ``u``."""
    w = sample_wigner(n, radius, rng)
    u = rng.standard_normal(n)
    u /= np.linalg.norm(u)
    return w + float(theta) * np.outer(u, u)


# ----------------------------------------------------------------------------------------------------
# products of random matrices (§4.1, eq 11, Fig 3)
# ----------------------------------------------------------------------------------------------------
def _dims(dims: Sequence[int], min_len: int = 2) -> tuple[int, ...]:
    d = tuple(_size("each dimension", n) for n in dims)
    if len(d) < min_len:
        raise ValueError(f"dims must hold at least {min_len} dimensions (N_1, ..., N_(L+1)), got {dims!r}")
    return d


def sample_gaussian_product(dims: Sequence[int], rng: np.random.Generator, radius: float = 1.0,
                            sparsity: float | None = None) -> Array:
    r"""``X~ = X_1 X_2 ... X_L`` of independent Gaussian (Ginibre) factors ``X_l`` of shape ``(N_l, N_{l+1})``.

    ``dims = (N_1, ..., N_{L+1})``. Entries of ``X_l`` are ``N(0, radius^(2/L) / N_{l+1})``, so for a square
    product (``N_{L+1} = N_1``) the complex eigenvalues fill the disc ``|z| <= radius`` (Burda et al. [12];
    :func:`burda_product_density`). ``sparsity=k`` percolates every factor with ``p = k / N_{l+1}``.
    """
    d = _dims(dims)
    rng = _generator(rng)
    L = len(d) - 1
    r = _positive("radius", radius)
    out: Array | None = None
    for l in range(L):
        x = rng.standard_normal((d[l], d[l + 1])) * (r ** (1.0 / L) / math.sqrt(d[l + 1]))
        x = _percolate(x, _keep_probability(sparsity, d[l + 1]), rng)
        out = x if out is None else out @ x
    assert out is not None
    return out


def sample_wigner_product(n: int, L: int, rng: np.random.Generator, radius: float = 2.0,
                          sparsity: float | None = None) -> Array:
    r"""Product ``W_1 ... W_L`` of independent ``n x n`` Wigner matrices (:func:`sample_wigner`) ("product Wigner", Fig 3a).

    Each factor has semicircle radius ``radius``. The product is not symmetric for ``L >= 2``: its
    eigenvalues are complex. In the large-``n`` limit a product of ``L >= 2`` free even (symmetric)
    elements is R-diagonal with the same ``|.|``-distribution as a Ginibre product, so its eigenvalues obey
    Burda's law on the disc of radius ``(radius/2)^L`` (checked by sampling in the tests). For a real
    spectrum see :func:`real_spectrum` (the paper does not say which it plotted).
    """
    L = _size("L", L)
    out = sample_wigner(n, radius, rng, sparsity)
    for _ in range(L - 1):
        out = out @ sample_wigner(n, radius, rng, sparsity)
    return out


def sample_wishart_product(dims: Sequence[int], rng: np.random.Generator, variance: float = 1.0,
                           sparsity: float | None = None) -> Array:
    r"""Wishart product ``X~ X~^T`` with ``X~ = X_1 ... X_L``, ``X_l`` of shape ``(N_l, N_{l+1})`` (Fig 3c,d; Fig 4d).

    ``dims = (N_1, ..., N_{L+1})``; entries of ``X_l`` are ``N(0, variance / N_{l+1})`` (for ``L = 1`` this is
    ``G = X X^T / T`` with ``T = N_2``, the MP law with ``q = N_1/N_2``). For square factors the spectrum
    tends to the Fuss-Catalan law of order ``L`` scaled by ``variance^L``. ``sparsity=k`` percolates each
    factor with ``p = k / N_{l+1}``.
    """
    v = _positive("variance", variance)
    x = sample_gaussian_product(dims, rng, radius=1.0, sparsity=sparsity)
    L = len(dims) - 1
    return (x @ x.T) * v ** L


def burda_product_density(z_abs: ArrayLike, L: int, radius: float = 1.0) -> Array:
    r"""Burda et al.'s planar eigenvalue density of a product of ``L`` square Ginibre matrices (§4.1, corrected).

    ``rho(z) = (1 / (L pi radius^(2/L))) |z|^(-2 + 2/L)`` for ``|z| <= radius`` (per unit area of the complex
    plane), so ``int rho d^2z = 1`` and the radial CDF is ``(r/radius)^(2/L)``. The paper prints the
    prefactor ``sigma^-2`` (:func:`burda_product_density_as_printed`), correct only for ``sigma = 1``.
    """
    L = _size("L", L)
    r = _positive("radius", radius)
    z = np.abs(_points(z_abs))
    zs = np.where(z > 0, z, 1.0)
    val = zs ** (-2.0 + 2.0 / L) / (L * math.pi * r ** (2.0 / L))
    return np.where((z > 0) & (z <= r), val, np.where(z == 0, np.inf if L > 1 else 1 / (math.pi * r * r), 0.0))


def burda_product_density_as_printed(z_abs: ArrayLike, L: int, sigma: float) -> Array:
    r"""§4.1 *as printed*: ``p(x) = (1/(L pi)) sigma^-2 |x|^(-2 + 2/L)`` for ``|x| <= sigma``.

    Its integral over the disc is ``sigma^(2/L - 2)`` (e.g. 2.0 at ``L = 2``, ``sigma = 0.5``): the prefactor
    must be ``sigma^(-2/L)`` (inventory 004 §E9). As a density on the real line ``|x|^(-2 + 2/L)`` is not
    integrable at 0 for ``L >= 2``.
    """
    L = _size("L", L)
    s = _positive("sigma", sigma)
    z = np.abs(_points(z_abs))
    zs = np.where(z > 0, z, 1.0)
    return np.where((z > 0) & (z <= s), zs ** (-2.0 + 2.0 / L) / (L * math.pi * s * s), 0.0)


def burda_product_radial_cdf(r: ArrayLike, L: int, radius: float = 1.0) -> Array:
    r"""``P(|z| <= r) = (r / radius)^(2/L)`` for the eigenvalues of a product of ``L`` square Ginibre matrices."""
    L = _size("L", L)
    rad = _positive("radius", radius)
    return np.clip(np.abs(_points(r)) / rad, 0.0, 1.0) ** (2.0 / L)


def product_l2_atom(ratio: float) -> float:
    r"""Atom ``max(0, 1 - R)`` at 0 of eq 11; ``R`` = inner dimension / outer dimension of ``X_1 X_2``."""
    return max(0.0, 1.0 - _positive("ratio", ratio))


def product_l2_density(z_abs: ArrayLike, ratio: float, radius: float = 1.0) -> Array:
    r"""Continuous part of eq 11: ``R / (pi sigma^2 sqrt((1 - R)^2 + 4 R |z|^2 / sigma^2))`` on ``|z| <= sigma``.

    Planar density of the eigenvalues of ``X_1 X_2`` with ``X_1`` of shape ``(N, K)``, ``X_2`` of shape ``(K, N)``
    (entries of variance ``radius / K`` and ``radius / N``: :func:`sample_gaussian_product` with
    ``dims = (N, K, N)``), ``R = K / N``, ``sigma = radius`` (the disc radius). The atom :func:`product_l2_atom` completes the mass
    to 1. The paper's ``R_l = N_l / N_L`` is not the ratio that makes eq 11 hold (inventory §E11): it must be
    the inner dimension over the outer one.
    """
    R = _positive("ratio", ratio)
    s = _positive("radius", radius)
    z = np.abs(_points(z_abs))
    val = R / (math.pi * s * s * np.sqrt((1 - R) ** 2 + 4 * R * z * z / (s * s)))
    return np.where(z <= s, val, 0.0)


def product_l2_radial_cdf(r: ArrayLike, ratio: float, radius: float = 1.0) -> Array:
    r"""``P(|z| <= r) = max(0, 1 - R) + (sqrt((1 - R)^2 + 4 R r^2 / sigma^2) - |1 - R|) / 2`` (integral of eq 11)."""
    R = _positive("ratio", ratio)
    s = _positive("radius", radius)
    rr = np.clip(np.abs(_points(r)), 0.0, s)
    return product_l2_atom(R) + (np.sqrt((1 - R) ** 2 + 4 * R * rr * rr / (s * s)) - abs(1 - R)) / 2


def fuss_catalan_edge(L: int) -> float:
    r"""Right edge ``(L + 1)^(L + 1) / L^L`` of the Fuss-Catalan law of order ``L``."""
    L = _size("L", L)
    return (L + 1) ** (L + 1) / L ** L


def _fc_x(phi: Array, L: int) -> Array:
    return np.sin((L + 1) * phi) ** (L + 1) / (np.sin(phi) * np.sin(L * phi) ** L)


def _fc_rho(phi: Array, L: int) -> Array:
    return np.sin(phi) ** 2 * np.sin(L * phi) ** (L - 1) / (math.pi * np.sin((L + 1) * phi) ** L)


def _fc_phi_of_x(x: Array, L: int) -> Array:
    """Invert the decreasing map ``phi -> x(phi)`` on ``(0, pi/(L+1))`` by vectorised bisection."""
    lo = np.zeros_like(x)
    hi = np.full_like(x, math.pi / (L + 1))
    for _ in range(64):
        mid = (lo + hi) / 2
        big = _fc_x(mid, L) > x  # x(phi) decreases: the root lies to the right of mid
        lo = np.where(big, mid, lo)
        hi = np.where(big, hi, mid)
    return (lo + hi) / 2


def fuss_catalan_density(x: ArrayLike, L: int) -> Array:
    r"""Fuss-Catalan density of order ``L``: limit of ``X~ X~^T`` for ``L`` square Gaussian factors (Fig 3c).

    Parametrised (Haagerup-Moller; inventory 004 §L3.7) by ``phi in (0, pi/(L+1))``:
    ``x = sin^(L+1)((L+1) phi) / (sin phi sin^L(L phi))``, ``rho = sin^2 phi sin^(L-1)(L phi) / (pi sin^L((L+1) phi))``.
    Support ``(0, (L+1)^(L+1)/L^L]``; mean 1; moments are the Fuss-Catalan numbers
    (:func:`fuss_catalan_moment`); ``rho(x) ~ x^(-L/(L+1))`` as ``x -> 0`` (:func:`near_origin_exponent`).
    ``L = 1`` is MP with ``q = 1``.
    """
    L = _size("L", L)
    x = _points(x)
    edge = fuss_catalan_edge(L)
    inside = (x > 0) & (x < edge)
    phi = _fc_phi_of_x(np.where(inside, x, 1.0), L)
    return np.where(inside, _fc_rho(phi, L), 0.0)


def fuss_catalan_cdf(x: ArrayLike, L: int, n_grid: int = 20001) -> Array:
    r"""CDF of the Fuss-Catalan law, integrated in ``phi`` where the integrand ``rho(x(phi)) |x'(phi)|`` is bounded.

    ``d log x / d phi = (L+1)^2 cot((L+1) phi) - cot(phi) - L^2 cot(L phi)``; cumulative Simpson on
    ``n_grid`` points (our choice, accurate to ~1e-9), then interpolated in ``x``.
    """
    L = _size("L", L)
    eps = 1e-12
    phi = np.linspace(eps, math.pi / (L + 1) - eps, n_grid)
    xs = _fc_x(phi, L)
    dlog = (L + 1) ** 2 / np.tan((L + 1) * phi) - 1 / np.tan(phi) - L * L / np.tan(L * phi)
    g = _fc_rho(phi, L) * (-xs * dlog)
    # mass from x = 0 (phi = pi/(L+1)) up to x(phi): integrate phi from the right end
    g_rev, phi_rev = g[::-1], phi[::-1]
    cum = integrate.cumulative_simpson(g_rev, x=-phi_rev, initial=0.0)
    x_rev = xs[::-1]
    cum = cum / cum[-1]
    return np.interp(_points(x), x_rev, cum, left=0.0, right=1.0)


def fuss_catalan_moment(n: int, L: int) -> float:
    r"""``n``-th moment of the Fuss-Catalan law: ``binom((L+1) n, n) / (L n + 1)``."""
    if n < 0:
        raise ValueError(f"moment order must be >= 0, got {n}")
    L = _size("L", L)
    return math.comb((L + 1) * n, n) / (L * n + 1)


def near_origin_exponent(L: int) -> float:
    r"""Exponent ``a`` of ``rho(x) ~ x^a`` at 0 for a square Wishart product of ``L`` factors: ``-L/(L+1)``."""
    L = _size("L", L)
    return -L / (L + 1)


def near_origin_exponent_as_printed(L: int) -> float:
    r"""§4.1 *as printed*: ``lambda^(-(1 + 1/s))`` (with ``s`` read as ``L``); non-integrable, wrong (§E10)."""
    L = _size("L", L)
    return -(1.0 + 1.0 / L)


def product_zero_atom(dims: Sequence[int]) -> float:
    r"""Exact mass at 0 of ``X_1 ... X_L`` (square product) or of ``X~ X~^T``: ``max(0, 1 - min_l N_l / N_1)``.

    The product has rank ``min(dims)`` almost surely, so ``N_1 - min(dims)`` of its ``N_1`` eigenvalues
    are 0, independently of ``L`` and of the other widths. This is the correct form of §4.1's "discrete
    component at the origin" (inventory 004 §E11).
    """
    d = _dims(dims)
    return max(0.0, 1.0 - min(d) / d[0])


def degeneracy_fraction_as_printed(dims: Sequence[int]) -> float:
    r"""§4.1's "degeneracy fraction" ``1 - <1/R>/L`` *as printed*, ``R_l = N_l / N_L``, ``l = 1..L``.

    ``dims = (N_1, ..., N_{L+1})`` as in :func:`product_zero_atom`; the paper's ratios use the first ``L``
    entries (the row dimensions of the factors). A large-``R`` expansion that disagrees with the exact
    rank deficit in every case we tested (inventory §E11, scoreboard S29); a labelled comparison only.
    """
    d = _dims(dims)
    rows = np.asarray(d[:-1], dtype=np.float64)
    L = rows.size
    R = rows / rows[-1]
    return float(1.0 - np.mean(1.0 / R) / L)


# ----------------------------------------------------------------------------------------------------
# percolation (§4.2, Fig 4)
# ----------------------------------------------------------------------------------------------------
def sparse_wigner_zero_atom(k: float) -> float:
    r"""Limiting mass at 0 of a percolated Wigner matrix with sparsity constant ``k`` (mean degree).

    Bordenave-Lelarge-Salez (rank of diluted random graphs): ``m_0 = x + e^(-k x) + k x e^(-k x) - 1`` with
    ``x`` the smallest root of ``x = exp(-k exp(-k x))`` in ``[0, 1]``. This is the "separated discrete
    component" at the origin of §4.2 (ref [6]); e.g. ``m_0(2) = 0.216``. Holds for generic (e.g. Gaussian)
    non-zero weights; the percolated diagonal changes only O(k/n) eigenvalues.
    """
    k = _positive("k", k)
    f = lambda x: x - math.exp(-k * math.exp(-k * x))  # noqa: E731
    grid = np.linspace(0.0, 1.0, 20001)
    vals = grid - np.exp(-k * np.exp(-k * grid))
    sign_change = np.nonzero(np.diff(np.sign(vals)) != 0)[0]
    if sign_change.size == 0:  # tangency (k = e): the root is the grid minimum of |vals|
        x = float(grid[np.argmin(np.abs(vals))])
    else:
        i = int(sign_change[0])
        x = optimize.brentq(f, grid[i], grid[i + 1], xtol=1e-15)
    return x + math.exp(-k * x) + k * x * math.exp(-k * x) - 1.0


# ----------------------------------------------------------------------------------------------------
# spectra of sampled matrices
# ----------------------------------------------------------------------------------------------------
def real_spectrum(m: ArrayLike, method: Literal["sym", "real_part"] = "sym") -> Array:
    r"""A real spectrum for a possibly non-symmetric product (the paper does not say which it plotted; §E13).

    ``"sym"``: eigenvalues of the symmetric part ``(M + M^T)/2`` (our default); ``"real_part"``: real parts of
    the complex eigenvalues of ``M``. Use ``np.linalg.eigvals`` directly for the complex spectrum.
    """
    m = np.asarray(m, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"a square matrix is needed, got shape {m.shape}")
    if method == "sym":
        return np.linalg.eigvalsh((m + m.T) / 2)
    if method == "real_part":
        return np.sort(np.linalg.eigvals(m).real)
    raise ValueError(f"unknown method {method!r}; known: 'sym', 'real_part'")


def zero_fraction(eigenvalues: ArrayLike, rel_tol: float = 1e-9) -> float:
    r"""Fraction of eigenvalues with ``|x| <= rel_tol * max|x|`` (the numerical atom at 0; tolerance our choice).

    Suitable when the continuous part stays far above ``rel_tol`` (MP, sparse Wigner). For products of many
    factors real eigenvalues reach ~1e-16 relative (Fuss-Catalan ``L = 5``): use :func:`product_rank_deficit`.
    """
    x = np.abs(_points(eigenvalues).ravel())
    if x.size == 0:
        raise ValueError("eigenvalues is empty")
    return float(np.mean(x <= rel_tol * x.max()))


def product_rank_deficit(x_tilde: ArrayLike) -> float:
    r"""Measured zero mass ``1 - rank(X~) / N_1`` of a product ``X~`` of shape ``(N_1, N_{L+1})``.

    The rank is counted from the singular values of ``X~`` with numpy's ``matrix_rank`` tolerance
    ``sigma_max * max(shape) * eps``. Singular values span half the dynamic range of the eigenvalues of
    ``X~ X~^T``, so the rank deficit is separable from the tiny real eigenvalues of deep products. This
    is the same zero mass for ``X~`` (square) and for ``X~ X~^T``; compare with :func:`product_zero_atom`.
    """
    x = np.asarray(x_tilde, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x_tilde must be a matrix, got shape {x.shape}")
    return 1.0 - np.linalg.matrix_rank(x) / x.shape[0]


def fit_power_law_near_origin(eigenvalues: ArrayLike, quantiles: tuple[float, float] = (0.01, 0.05),
                              rel_zero: float = 1e-13) -> tuple[float, float]:
    r"""Exponent ``a`` of ``rho(x) ~ x^a`` near 0, from the empirical CDF of the positive non-zero eigenvalues.

    If ``rho ~ c x^a`` then ``F(x) ~ c x^(1+a) / (1+a)``: an OLS fit of ``log F`` on ``log x`` over the
    eigenvalues between the given quantiles of the non-zero part gives slope ``1 + a``. Exact zeros (the
    atom, ``|x| <= rel_zero max|x|``) are removed first. Returns ``(a, R^2)``. The quantile window and
    ``rel_zero`` are our choices: for a Wishart product of ``L = 5`` square factors at ``n = 2000`` the 1 %
    quantile is already ~1e-12 (relative), so a larger ``rel_zero`` would cut real eigenvalues, and below
    ~1e-14 float64 round-off dominates; the window must also stay where ``x^a`` dominates the corrections
    (relative order ``x^(1/(L+1))`` for Fuss-Catalan).
    """
    x = np.sort(_points(eigenvalues).ravel())
    x = x[x > rel_zero * np.abs(x).max()]
    if x.size < 50:
        raise ValueError(f"need at least 50 positive non-zero eigenvalues, got {x.size}")
    lo, hi = quantiles
    if not 0 <= lo < hi <= 1:
        raise ValueError(f"quantiles must satisfy 0 <= lo < hi <= 1, got {quantiles}")
    F = (np.arange(1, x.size + 1) - 0.5) / x.size
    sel = (F >= lo) & (F <= hi)
    if sel.sum() < 10:
        raise ValueError("fewer than 10 eigenvalues in the quantile window; widen it")
    res = np.polyfit(np.log(x[sel]), np.log(F[sel]), 1, full=True)
    slope = float(res[0][0])
    yy = np.log(F[sel])
    ss_res = float(res[1][0]) if len(res[1]) else 0.0
    r2 = 1.0 - ss_res / float(np.sum((yy - yy.mean()) ** 2))
    return slope - 1.0, r2
