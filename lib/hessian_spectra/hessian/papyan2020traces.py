"""Papyan (2020), "Traces of class/cross-class structure ...", Appendix C: spectrum approximation.

* NORMALIZATION(A, M0, τ) (Algorithm 4): M0 steps of FastLanczos give θ_1 ≤ … ≤ θ_{M0}; the bounds
  λ_min = θ_1 − ‖(A − θ_1 I) y_1‖ and λ_max = θ_{M0} + ‖(A − θ_{M0} I) y_{M0}‖ (Ritz residual norms
  β_{M0}|S[M0, j]|) are widened by the margin Δ = τ(λ_max − λ_min); the operator is mapped to
  (A − cI)/d with c = (λ_min + λ_max)/2, d = (λ_max − λ_min)/2, so its spectrum lies in [−1, 1].
* LANCZOSAPPROXSPEC(A, M, K, n_vec, κ) (Algorithm 3): for each of n_vec Gaussian start vectors,
  M Lanczos steps on the normalised operator give (θ_m^l, y_m^l); on the grid t_k = linspace(−1, 1, K)
  φ_k = (1/n_vec) Σ_l Σ_m y_m^l[1]² g_σ(t_k − θ_m^l), σ = 2/((M − 1)√(8 log κ)); the density is then
  denormalised, λ_k = d t_k + c and φ(λ_k) = φ_k/d.
  Lanczos is affine-equivariant (Ritz values of (A − cI)/d are (θ − c)/d with the same weights), so
  we run it on A and map the Ritz values.
* Log-spectrum (App. C.7): Ritz values mapped to u = log(|θ| + ε), the bounds likewise (the
  author's later code, inventory 001 §L2: u ∈ [log ε, log(max(|λ_min|, |λ_max|) + ε)] before the
  margin); each Gaussian bump in u is scaled by 1/(|θ_m| + ε) (the paper's change of measure). The
  paper prints g_σ(|λ| − log θ); the intended kernel is g_σ(log|λ| − log θ) (inventory 001 §L2).

Defaults from App. D.2: M0 = 32, τ = 0.05, K = 1024, n_vec = 1, κ = 3, M ∈ {128, 256} (we default to
M = 128). The paper's FastLanczos has no reorthogonalisation (App. C.3), so
``reorthogonalize=False`` is the default here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .density import SpectralDensity, gaussian_smoothing, spectral_density
from .lanczos import lanczos
from .base import aslinearoperator

__all__ = ["ApproxSpectrum", "normalization", "lanczos_approx_spec", "approx_spec_from_slq", "kernel_width"]


def kernel_width(num_steps: int, kappa: float = 3.0) -> float:
    """σ = 2/((M − 1)√(8 log κ)) in normalised units (Papyan 2020, Algorithm 3)."""
    if num_steps < 2:
        raise ValueError("the kernel width needs num_steps >= 2")
    if kappa <= 1:
        raise ValueError(f"kappa must exceed 1, got {kappa}")
    return 2.0 / ((num_steps - 1) * math.sqrt(8.0 * math.log(kappa)))


def normalization(
    op: Any,
    num_steps: int = 32,
    margin: float = 0.05,
    *,
    reorthogonalize: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """NORMALIZATION (Algorithm 4): (c, d) such that (A − cI)/d has its spectrum in [−1, 1].

    Defaults M0 = 32 and τ = 0.05 from Papyan 2020, App. D.2. The bounds are λ_min, λ_max of
    Algorithm 4 widened by the margin; c = (λ_min + λ_max)/2, d = (λ_max − λ_min)/2.
    """
    A = aslinearoperator(op)
    m = min(num_steps, A.shape[0])
    res = lanczos(A, m, reorthogonalize=reorthogonalize, keep_basis=False, generator=generator)
    theta, S = res.ritz()
    r = abs(res.beta_last) * np.abs(S[-1])
    lo = theta[0] - r[0]
    hi = theta[-1] + r[-1]
    delta = margin * (hi - lo)
    lo, hi = lo - delta, hi + delta
    if hi <= lo:  # a multiple of the identity: any positive width will do
        hi, lo = hi + max(abs(hi), 1.0) * margin, lo - max(abs(lo), 1.0) * margin
    return (lo + hi) / 2.0, (hi - lo) / 2.0


@dataclass
class ApproxSpectrum:
    """Output of :func:`lanczos_approx_spec`.

    Attributes:
        grid: (K,) eigenvalue grid in the operator's units (|λ| values for the log spectrum).
        density: (K,) density per unit λ (for the log spectrum: bumps scaled by 1/(|θ| + ε)).
        grid_log, density_log: for the log spectrum, the grid u = log(|λ| + ε) and the density per
            unit u (no 1/θ scaling); None on a linear scale.
        sigma: kernel width in normalised units; center, half_width: c and d of the normalisation.
        slq: the Lanczos nodes and weights (reusable for other κ or K without new products).
    """

    grid: np.ndarray
    density: np.ndarray
    sigma: float
    center: float
    half_width: float
    slq: SpectralDensity
    grid_log: np.ndarray | None = None
    density_log: np.ndarray | None = None


def _spectrum_from_nodes(
    slq: SpectralDensity,
    num_points: int,
    kappa: float,
    center: float,
    half_width: float,
    log_scale: bool,
    epsilon: float,
) -> ApproxSpectrum:
    M = int(slq.nodes.shape[1])
    sigma = kernel_width(M, kappa)
    t = np.linspace(-1.0, 1.0, num_points)
    if not log_scale:
        tn = (slq.nodes - center) / half_width
        phi = gaussian_smoothing(tn, slq.weights, t, sigma)
        return ApproxSpectrum(t * half_width + center, phi / half_width, sigma, center, half_width, slq)
    u = np.log(np.abs(slq.nodes) + epsilon)
    un = (u - center) / half_width
    phi_log = gaussian_smoothing(un, slq.weights, t, sigma) / half_width
    phi = gaussian_smoothing(un, slq.weights / (np.abs(slq.nodes) + epsilon), t, sigma) / half_width
    grid_log = t * half_width + center
    return ApproxSpectrum(
        np.exp(grid_log) - epsilon, phi, sigma, center, half_width, slq, grid_log, phi_log
    )


def lanczos_approx_spec(
    op: Any,
    num_steps: int = 128,
    num_points: int = 1024,
    num_vectors: int = 1,
    kappa: float = 3.0,
    *,
    normalization_steps: int = 32,
    margin: float = 0.05,
    log_scale: bool = False,
    epsilon: float = 1e-5,
    reorthogonalize: bool = False,
    v0: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
) -> ApproxSpectrum:
    """LANCZOSAPPROXSPEC(A, M, K, n_vec, κ) after NORMALIZATION(A, M0, τ) (Papyan 2020, App. C).

    Args:
        op: operator, dense symmetric tensor, or object with ``.shape`` and ``__matmul__``.
        num_steps: M; default 128 (App. D.2: M ∈ {128, 256}; M = 2048 for the log spectrum).
        num_points: K; default 1024 (App. D.2).
        num_vectors: n_vec; default 1 (App. D.2; Fig. 15 uses 10).
        kappa: κ; default 3 (App. D.2; the log spectrum uses "a different value", not stated).
        normalization_steps, margin: M0 = 32 and τ = 0.05 (App. D.2).
        log_scale: the log-spectrum variant of App. C.7.
        epsilon: ε in log(|λ| + ε); default 1e-5 (Fig. 6 caption).
        reorthogonalize: default False (FastLanczos, App. C.3); True removes ghost eigenvalues.
        v0: optional start vectors (p, num_vectors).
    """
    A = aslinearoperator(op)
    if num_points < 2:
        raise ValueError(f"num_points must be at least 2, got {num_points}")
    c, d = normalization(A, normalization_steps, margin, reorthogonalize=reorthogonalize, generator=generator)
    slq = spectral_density(
        A, num_steps, num_vectors, v0=v0, reorthogonalize=reorthogonalize, generator=generator,
        progress=progress,
    )
    if log_scale:
        lo, hi = c - d, c + d
        ub = math.log(max(abs(lo), abs(hi)) + epsilon)
        lb = math.log(epsilon)
        delta = margin * (ub - lb)
        lb, ub = lb - delta, ub + delta
        c, d = (lb + ub) / 2.0, (ub - lb) / 2.0
    return _spectrum_from_nodes(slq, num_points, kappa, c, d, log_scale, epsilon)


def approx_spec_from_slq(
    slq: SpectralDensity,
    num_points: int = 1024,
    kappa: float = 3.0,
    *,
    bounds: tuple[float, float] | None = None,
    margin: float = 0.05,
    log_scale: bool = False,
    epsilon: float = 1e-5,
) -> ApproxSpectrum:
    """Algorithm 3's smoothing applied to existing SLQ nodes and weights (no new products).

    ``bounds`` = (λ_min, λ_max) before the margin; default the extreme nodes (Ritz values are
    inner bounds, so the margin τ matters more here than after NORMALIZATION). Use it to redo a
    figure with another κ, K or scale without rerunning Lanczos.
    """
    if num_points < 2:
        raise ValueError(f"num_points must be at least 2, got {num_points}")
    lo, hi = bounds if bounds is not None else (float(slq.nodes.min()), float(slq.nodes.max()))
    if hi < lo:
        raise ValueError(f"bounds must satisfy lo <= hi, got {(lo, hi)}")
    if log_scale:
        lo, hi = math.log(epsilon), math.log(max(abs(lo), abs(hi)) + epsilon)
    delta = margin * (hi - lo) if hi > lo else max(abs(hi), 1.0) * margin
    lo, hi = lo - delta, hi + delta
    return _spectrum_from_nodes(slq, num_points, kappa, (lo + hi) / 2.0, (hi - lo) / 2.0, log_scale, epsilon)

