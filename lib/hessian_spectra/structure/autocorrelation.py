"""Structure of the input autocorrelation E[x xᵀ] and the Theorem F.1 overlap prediction (Wu et al.
2020, §4.3, §5.1, App. E.1 Tables 6-7, App. F.3 Theorem F.1, App. F.4 Table 8).

E[x xᵀ] = E[x]E[x]ᵀ + Σ_x with Σ_x = E[(x − E[x])(x − E[x])ᵀ] (§4.3). For non-negative layer inputs (ReLU
outputs) the mean term dominates, so E[x xᵀ] is close to rank one. The statistics of Tables 6-8:

* mean alignment (v₁ᵀÊ[x])², v₁ the top eigenvector of E[x xᵀ] and Ê[x] = E[x]/‖E[x]‖ (for a conv
  layer the first left singular vector of E[X], App. E.1);
* spectral ratio λ₁/λ₂ of E[x xᵀ];
* mean-to-covariance ratio ‖E[x]E[x]ᵀ‖/‖Σ_x‖ (spectral norms; §4.3 reports it, Eq. (52)).

Eq. (52) prints λ₁/λ₂ ≥ (‖E[x]E[x]ᵀ‖ − ‖Σ_x‖)/‖Σ_x‖ = ‖E[x]E[x]ᵀ‖/‖Σ_x‖ − 1 and then claims the ratio
itself is a lower bound. The stronger bound without "− 1" holds (inventory 000 §E8): by Weyl,
λ₁ ≥ ‖E[x]‖² (+ Ê[x]ᵀΣ_xÊ[x]) and λ₂ ≤ λ₂(E[x]E[x]ᵀ) + ‖Σ_x‖ = ‖Σ_x‖, so λ₁/λ₂ ≥ ‖E[x]‖²/‖Σ_x‖.
For a conv layer E[X]E[X]ᵀ has rank up to P; the same argument gives λ₁/λ₂ ≥ s₁²/(s₂² + ‖Σ_X‖) with
s₁ ≥ s₂ the top singular values of E[X]. :func:`spectral_ratio_bound` returns the corrected bound
(``form="corrected"``) or the printed one (``form="as_printed"``).

Theorem F.1 (App. F.3): for two models whose layer-wise Hessians are close to E[M] ⊗ E[x xᵀ] (E[M]
eigenvalues τ₁ ≥ … ≥ τ_m, E[x xᵀ] eigenvalues γ₁ ≥ γ₂ ≥ … with top eigenvector t₁), if τ_m γ₁ > τ₁ γ₂
for both, the top m eigenvalues are τ_i γ₁ with vectors r_i ⊗ t₁, and the top-k eigenspace overlap of
the two models is ≈ (k/m)(t₁⁽¹⁾·t₁⁽²⁾)² for k ≤ m, from the exact identity
Overlap(V₁ ⊗ t₁, V₂ ⊗ t₂) = (t₁·t₂)² Overlap(V₁, V₂) (Eq. (58)) and E[Overlap(V₁, V₂)] = k/m for
unrelated (permuted) output neurons. For the output layer (no permutation symmetry, §F.3.2) it is
≈ (t₁·t₂)² for every k ≤ m.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from .kronecker import mean_direction

__all__ = [
    "AutocorrelationStats",
    "TheoremF1Condition",
    "autocorrelation_stats",
    "mean_alignment",
    "mean_to_covariance_ratio",
    "spectral_ratio",
    "spectral_ratio_bound",
    "theorem_f1_condition",
    "theorem_f1_overlap",
]


def _square(A: Tensor | np.ndarray, what: str) -> Tensor:
    if isinstance(A, np.ndarray):
        A = torch.from_numpy(A)
    if not isinstance(A, Tensor) or A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{what} must be a square 2-D tensor, got "
                         f"{tuple(A.shape) if isinstance(A, Tensor) else type(A).__name__}")
    return A.double()


def _mean(mean: Tensor | np.ndarray, n: int) -> Tensor:
    if isinstance(mean, np.ndarray):
        mean = torch.from_numpy(mean)
    if not isinstance(mean, Tensor) or mean.ndim not in (1, 2) or mean.shape[0] != n:
        raise ValueError(f"input_mean must be E[x] (n,) or E[X] (n, P) with n = {n}, got "
                         f"{tuple(mean.shape) if isinstance(mean, Tensor) else type(mean).__name__}")
    return mean.double()


def _mean_outer(mean: Tensor) -> Tensor:
    return torch.outer(mean, mean) if mean.ndim == 1 else mean @ mean.T


def _top_two(A: Tensor) -> tuple[float, float, Tensor]:
    evals, evecs = torch.linalg.eigh(A)
    return float(evals[-1]), float(evals[-2]) if A.shape[0] > 1 else 0.0, evecs[:, -1]


def mean_alignment(input_autocorrelation: Tensor | np.ndarray, input_mean: Tensor | np.ndarray) -> float:
    """(v₁ᵀÊ[x])²: squared cosine between the top eigenvector v₁ of E[x xᵀ] and Ê[x] (Wu et al. 2020,
    App. E.1, Tables 6-8; Ê[x] for a conv layer is the first left singular vector of E[X]). In [0, 1]."""
    A = _square(input_autocorrelation, "input_autocorrelation")
    direction = mean_direction(_mean(input_mean, A.shape[0]))
    _, _, v1 = _top_two(A)
    return float(v1 @ direction) ** 2


def spectral_ratio(input_autocorrelation: Tensor | np.ndarray) -> float:
    """λ₁/λ₂ of E[x xᵀ] (Wu et al. 2020, App. E.1, Tables 6-8); inf when λ₂ = 0 (exactly rank one)."""
    A = _square(input_autocorrelation, "input_autocorrelation")
    if A.shape[0] < 2:
        raise ValueError("λ₁/λ₂ needs a matrix of size at least 2")
    l1, l2, _ = _top_two(A)
    return float("inf") if l2 <= 0 else l1 / l2


def mean_to_covariance_ratio(input_mean: Tensor | np.ndarray, input_covariance: Tensor | np.ndarray) -> float:
    """‖E[x]E[x]ᵀ‖ / ‖Σ_x‖ in spectral norm (Wu et al. 2020, §4.3, Eq. (52)); for a conv layer
    ‖E[X]E[X]ᵀ‖ = s₁² of E[X]. inf when Σ_x = 0."""
    S = _square(input_covariance, "input_covariance")
    mean = _mean(input_mean, S.shape[0])
    top = float(torch.linalg.matrix_norm(mean.unsqueeze(1) if mean.ndim == 1 else mean, ord=2)) ** 2
    cov = float(torch.linalg.matrix_norm(S, ord=2))
    return float("inf") if cov == 0 else top / cov


def spectral_ratio_bound(
    input_mean: Tensor | np.ndarray,
    input_covariance: Tensor | np.ndarray,
    form: Literal["corrected", "as_printed"] = "corrected",
) -> float:
    """A lower bound on λ₁/λ₂ of E[x xᵀ] = E[x]E[x]ᵀ + Σ_x (Wu et al. 2020, Eq. (52)).

    ``"corrected"``: s₁²/(s₂² + ‖Σ_x‖) with s₁ ≥ s₂ the top singular values of E[X] (Weyl); for a
    linear layer (E[x] a vector, s₂ = 0) this is ‖E[x]‖²/‖Σ_x‖, the ratio the paper says bounds λ₁/λ₂
    (inventory 000 §E8). ``"as_printed"``: ‖E[x]E[x]ᵀ‖/‖Σ_x‖ − 1, Eq. (52) as printed (weaker, true).
    """
    S = _square(input_covariance, "input_covariance")
    mean = _mean(input_mean, S.shape[0])
    sv = torch.linalg.svdvals(mean.unsqueeze(1) if mean.ndim == 1 else mean)
    s1 = float(sv[0]) ** 2
    s2 = float(sv[1]) ** 2 if sv.numel() > 1 else 0.0
    cov = float(torch.linalg.matrix_norm(S, ord=2))
    if form == "corrected":
        return float("inf") if s2 + cov == 0 else s1 / (s2 + cov)
    if form == "as_printed":
        return float("inf") if cov == 0 else s1 / cov - 1.0
    raise ValueError(f"form must be 'corrected' or 'as_printed', got {form!r}")


@dataclass
class AutocorrelationStats:
    """The statistics of Wu et al. (2020) Tables 6-8 for one layer (see the module docstring).

    Attributes:
        mean_alignment: (v₁ᵀÊ[x])².
        spectral_ratio: λ₁/λ₂.
        mean_to_covariance: ‖E[x]E[x]ᵀ‖/‖Σ_x‖.
        bound: the corrected Eq. (52) lower bound on λ₁/λ₂.
        bound_as_printed: Eq. (52) as printed (‖E[x]E[x]ᵀ‖/‖Σ_x‖ − 1).
    """

    mean_alignment: float
    spectral_ratio: float
    mean_to_covariance: float
    bound: float
    bound_as_printed: float


def autocorrelation_stats(
    input_autocorrelation: Tensor | np.ndarray, input_mean: Tensor | np.ndarray
) -> AutocorrelationStats:
    """All statistics of Tables 6-8 (Wu et al. 2020, App. E.1, F.4) from E[x xᵀ] and E[x] (or E[X] for a
    conv layer); Σ_x = E[x xᵀ] − E[x]E[x]ᵀ. E.g. ``autocorrelation_stats(f.input_autocorrelation,
    f.input_mean)`` for :class:`~hessian_spectra.structure.KroneckerFactors` ``f``."""
    A = _square(input_autocorrelation, "input_autocorrelation")
    mean = _mean(input_mean, A.shape[0])
    cov = A - _mean_outer(mean)
    cov = (cov + cov.T) / 2
    return AutocorrelationStats(
        mean_alignment(A, mean), spectral_ratio(A), mean_to_covariance_ratio(mean, cov),
        spectral_ratio_bound(mean, cov, "corrected"), spectral_ratio_bound(mean, cov, "as_printed"),
    )


@dataclass
class TheoremF1Condition:
    """τ_m γ₁ > τ₁ γ₂ (Wu et al. 2020, Theorem F.1): the top m eigenvalues of E[M] ⊗ E[x xᵀ] are then
    τ_i γ₁, all with the input factor t₁.

    Attributes:
        holds: lhs > rhs.
        lhs: τ_m γ₁ (smallest eigenvalue of E[M] times the largest of E[x xᵀ]).
        rhs: τ₁ γ₂.
    """

    holds: bool
    lhs: float
    rhs: float


def _eigenvalues(values: Tensor | np.ndarray | Sequence[float], what: str) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().cpu().double().numpy()
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1]:
        arr = np.linalg.eigvalsh((arr + arr.T) / 2)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"{what} must be eigenvalues (1-D) or a square symmetric matrix, got shape {arr.shape}")
    return np.sort(arr)[::-1]


def theorem_f1_condition(
    output_hessian_eigenvalues: Tensor | np.ndarray | Sequence[float],
    input_autocorrelation_eigenvalues: Tensor | np.ndarray | Sequence[float],
) -> TheoremF1Condition:
    """The condition τ_m γ₁ > τ₁ γ₂ of Theorem F.1 (App. F.3) for one model's layer, from all m
    eigenvalues τ of E[M] and (at least the top two) eigenvalues γ of E[x xᵀ] (any order; a square
    matrix is accepted in place of its eigenvalues). App. F.3.3 explains the "failure cases" of
    Figs 12-13 by τ_m γ₁ < τ₁ γ₂."""
    tau = _eigenvalues(output_hessian_eigenvalues, "output_hessian_eigenvalues")
    gamma = _eigenvalues(input_autocorrelation_eigenvalues, "input_autocorrelation_eigenvalues")
    if gamma.size < 2:
        raise ValueError("the condition needs the top two eigenvalues γ₁ ≥ γ₂ of E[xxᵀ]")
    lhs, rhs = float(tau[-1] * gamma[0]), float(tau[0] * gamma[1])
    return TheoremF1Condition(lhs > rhs, lhs, rhs)


def theorem_f1_overlap(
    ks: int | Sequence[int] | np.ndarray,
    m: int,
    t1_a: Tensor | np.ndarray,
    t1_b: Tensor | np.ndarray,
    *,
    output_layer: bool = False,
) -> np.ndarray:
    """The predicted top-k overlap of two models' layer-wise Hessians, (k/m)(t₁⁽¹⁾·t₁⁽²⁾)² for k ≤ m
    (Theorem F.1, App. F.3), or (t₁⁽¹⁾·t₁⁽²⁾)² for every k ≤ m for the output layer, whose neurons cannot be
    permuted (``output_layer=True``, App. F.3.2). t₁ are the top eigenvectors of the two models'
    E[x xᵀ] (≈ Ê[x], §5.1); they are normalised here. The theorem says nothing for k > m: raises.
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"m must be a positive integer, got {m!r}")
    kk = np.atleast_1d(np.asarray(ks))
    if not np.issubdtype(kk.dtype, np.integer) or kk.min() < 1 or kk.max() > m:
        raise ValueError(f"Theorem F.1 predicts the overlap for integers 1 ≤ k ≤ m = {m}, got {ks!r}")
    a = torch.as_tensor(t1_a).double().reshape(-1)
    b = torch.as_tensor(t1_b).double().reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"t1_a and t1_b differ in length: {a.numel()} vs {b.numel()}")
    if a.norm() == 0 or b.norm() == 0:
        raise ValueError("t1_a and t1_b must be non-zero")
    dot2 = float(a @ b / (a.norm() * b.norm())) ** 2
    return np.full(kk.shape, dot2) if output_layer else kk / m * dot2
