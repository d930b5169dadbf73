"""Stochastic Lanczos quadrature (SLQ) estimates of the spectral density of a symmetric operator.

The spectral density of A in R^{p×p} is φ(λ) = (1/p) Σ_i δ(λ − λ_i). For a unit vector v drawn
uniformly from the sphere (a normalised Gaussian vector), E[vᵀ f(A) v] = (1/p) Tr f(A) = ∫ f dφ.
m Lanczos steps from v give the Gauss quadrature rule with nodes θ_j (Ritz values) and weights
τ_j = S[0, j]² (squared first components of the eigenvectors of T_m), exact for polynomials of
degree ≤ 2m − 1: Σ_j τ_j θ_j^k = vᵀ A^k v (Granziol et al. 2020, Sec. 5.1, Eq. (9) and Theorem 4; Ubaru et al.
2017; Papyan 2020, App. C.3). Averaging over n_vec start vectors gives the SLQ estimate

    φ̂(λ) = (1/n_vec) Σ_l Σ_j τ_j^l δ(λ − θ_j^l),

smoothed onto a grid with a Gaussian kernel g_σ (Papyan 2020, Alg. 3; Lin et al. 2016).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from .lanczos import check_steps, lanczos_runs, random_vectors
from .base import aslinearoperator

__all__ = ["SpectralDensity", "spectral_density", "gaussian_smoothing", "density_moments"]


def gaussian_smoothing(
    nodes: np.ndarray, weights: np.ndarray, grid: np.ndarray, sigma: float
) -> np.ndarray:
    """φ(t_k) = (1/n) Σ_l Σ_j w_j^l g_σ(t_k − θ_j^l) with g_σ(x) = exp(−x²/2σ²)/√(2πσ²).

    ``nodes`` and ``weights`` have shape (n, m) (or (m,)); the result integrates to the mean
    total weight (1 for SLQ weights) when the grid covers the nodes.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    nodes = np.atleast_2d(np.asarray(nodes, dtype=np.float64))
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if nodes.shape != weights.shape:
        raise ValueError(f"nodes {nodes.shape} and weights {weights.shape} differ in shape")
    grid = np.asarray(grid, dtype=np.float64)
    th = nodes.reshape(-1)
    w = weights.reshape(-1) / nodes.shape[0]
    out = np.zeros_like(grid)
    # chunk over nodes to bound memory (len(grid) × chunk)
    chunk = max(1, 2_000_000 // max(grid.size, 1))
    for s in range(0, th.size, chunk):
        d = grid[:, None] - th[None, s : s + chunk]
        out += np.exp(-0.5 * (d / sigma) ** 2) @ w[s : s + chunk]
    return out / (np.sqrt(2.0 * np.pi) * sigma)


def density_moments(nodes: np.ndarray, weights: np.ndarray, orders: Sequence[int]) -> np.ndarray:
    """m_k = (1/n) Σ_l Σ_j w_j^l (θ_j^l)^k for each k in ``orders``: the SLQ estimate of
    (1/p) Tr A^k (exact per vector, vᵀA^k v, for k ≤ 2m − 1)."""
    nodes = np.atleast_2d(np.asarray(nodes, dtype=np.float64))
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    return np.array([np.mean(np.sum(weights * nodes**k, axis=1)) for k in orders])


@dataclass
class SpectralDensity:
    """SLQ nodes and weights of ``num_vectors`` Lanczos runs.

    Attributes:
        nodes: (num_vectors, num_steps) Ritz values θ_j^l (float64).
        weights: (num_vectors, num_steps) weights τ_j^l = S^l[0, j]²; each row sums to 1. A run that
            broke down after m_l < num_steps steps has its m_l nodes first and zero-weight padding
            (nodes repeated from its last Ritz value).
        steps: (num_vectors,) steps actually made by each run (m_l).
        dimension: p.
        time_products, time_reorth: seconds in products and in reorthogonalisation.
    """

    nodes: np.ndarray
    weights: np.ndarray
    steps: np.ndarray
    dimension: int
    time_products: float = 0.0
    time_reorth: float = 0.0

    @property
    def num_vectors(self) -> int:
        return int(self.nodes.shape[0])

    def moments(self, orders: Sequence[int] = (1, 2)) -> np.ndarray:
        """SLQ estimates of (1/p) Tr A^k for k in ``orders``."""
        return density_moments(self.nodes, self.weights, orders)

    def trace(self) -> float:
        """p · m_1, the SLQ estimate of Tr A."""
        return float(self.dimension * self.moments((1,))[0])

    def grid(self, num_points: int = 1024, margin: float = 0.05) -> np.ndarray:
        """``num_points`` equispaced points over [θ_min − Δ, θ_max + Δ], Δ = margin·(θ_max − θ_min).

        Defaults K = 1024 and τ = 0.05 from Papyan 2020, App. D.2 (Algorithms 3 and 4)."""
        lo, hi = float(self.nodes.min()), float(self.nodes.max())
        delta = margin * (hi - lo) if hi > lo else max(abs(hi), 1.0) * margin
        return np.linspace(lo - delta, hi + delta, num_points)

    def smooth(self, grid: np.ndarray | None = None, sigma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(grid, density) with a Gaussian kernel of width σ.

        Default grid: :meth:`grid`. Default σ: Papyan's 2/((M−1)√(8 log κ)) with κ = 3 in units of
        half the grid range (Papyan 2020, Alg. 3 and App. D.2, where the spectrum is normalised
        to [−1, 1]); for the paper's full pipeline see
        :func:`hessian_spectra.hessian.papyan2020traces.lanczos_approx_spec`."""
        if grid is None:
            grid = self.grid()
        grid = np.asarray(grid, dtype=np.float64)
        if sigma is None:
            m = max(int(self.nodes.shape[1]), 2)
            half_range = (grid.max() - grid.min()) / 2.0 or 1.0
            sigma = half_range * 2.0 / ((m - 1) * np.sqrt(8.0 * np.log(3.0)))
        return grid, gaussian_smoothing(self.nodes, self.weights, grid, sigma)


def spectral_density(
    op: Any,
    num_steps: int,
    num_vectors: int = 1,
    *,
    v0: Tensor | None = None,
    distribution: Literal["gaussian", "rademacher"] = "gaussian",
    reorthogonalize: bool = True,
    generator: torch.Generator | None = None,
    breakdown_tol: float | None = None,
    progress: bool | None = None,
) -> SpectralDensity:
    """Stochastic Lanczos quadrature: ``num_vectors`` Lanczos runs advancing together.

    Each of the ``num_steps`` steps makes ONE multi-vector product A [v^(1) … v^(n)] (for a
    model operator: one pass over the data shared by all runs).

    Args:
        op: operator, dense symmetric tensor, or object with ``.shape`` and ``__matmul__``.
        num_steps: m ≤ p Lanczos steps per vector (the papers use m = 100, Granziol et al. 2020;
            m ∈ {128, 256}, Papyan 2020 App. D.2).
        num_vectors: number of random start vectors n_vec (1 in Granziol et al. 2020 and Papyan
            2020 D.2; 10 in Papyan's Fig. 15).
        v0: optional start vectors (p, num_vectors) (normalised here).
        distribution: of the start vectors before normalisation; default Gaussian (as both papers).
        reorthogonalize: full reorthogonalisation (Granziol et al. 2020); False = Papyan's
            FastLanczos (memory O(n p) instead of O(n m p)).
        generator, breakdown_tol, progress: as for :func:`hessian_spectra.hessian.lanczos`.

    Returns:
        :class:`SpectralDensity` with ``nodes`` and ``weights`` of shape (num_vectors, num_steps).
    """
    A = aslinearoperator(op)
    p = A.shape[0]
    check_steps(num_steps, p)
    if not isinstance(num_vectors, (int, np.integer)) or num_vectors < 1:
        raise ValueError(f"num_vectors must be a positive integer, got {num_vectors!r}")
    if v0 is None:
        V0 = random_vectors(num_vectors, p, A.dtype, A.device, generator, distribution)
    else:
        if v0.ndim == 1:
            v0 = v0[:, None]
        if v0.shape != (p, num_vectors):
            raise ValueError(f"v0 has shape {tuple(v0.shape)}; expected ({p}, {num_vectors})")
        V0 = v0.T
    runs = lanczos_runs(
        A, V0, num_steps, reorthogonalize=reorthogonalize, keep_basis=False,
        breakdown_tol=breakdown_tol, progress=progress, generator=generator, desc="SLQ",
    )
    nodes = np.zeros((num_vectors, num_steps))
    weights = np.zeros((num_vectors, num_steps))
    steps = np.zeros(num_vectors, dtype=int)
    for l, run in enumerate(runs):
        theta, S = run.ritz()
        m = theta.size
        nodes[l, :m] = theta
        nodes[l, m:] = theta[-1]
        weights[l, :m] = S[0] ** 2
        steps[l] = m
    return SpectralDensity(
        nodes, weights, steps, p,
        time_products=sum(r.time_products for r in runs),
        time_reorth=sum(r.time_reorth for r in runs),
    )
