"""Spectra of huge low-rank matrices through their Gram duals (Papyan 2020, Fig. 6; inventory 001 §L4).

If V = Σ_{k=1}^K ω_k a_k a_kᵀ = A Aᵀ with A = [√ω_k a_k] ∈ R^{p×K}, the non-zero eigenvalues of V (p×p)
are those of the K×K Gram matrix AᵀA, (AᵀA)_{kl} = √(ω_k ω_l) a_kᵀ a_l, and an eigenvector v of AᵀA
with eigenvalue λ > 0 maps to the unit eigenvector u = A v / √λ of V. Instances: G_class (C×C),
G_class + G_cross + G_{c=c'} (C²×C²), G_cross (C(C−1) × C(C−1)), H_class, Δ_class, Δ_cross; the cost
is the K² inner products of p-vectors. The symmetric form is used (the author's code multiplies the
Gram by one index's weight and calls ``eig``: same eigenvalues, inventory 001 §L4).

The full Gauss-Newton matrix G = (1/N) Σ_i J_iᵀ Λ_i J_i, Λ_i = diag p_i − p_i p_iᵀ (Eq. (5.1)), has the
NTK dual: with Θ = [J_i J_jᵀ]_{ij} (NC × NC) and Λ = blkdiag(Λ_i), the non-zero eigenvalues of G are
those of Λ^{1/2} Θ Λ^{1/2} / N. We use the factor Q_i = diag(√p_i)(I − 1 p_iᵀ), Q_iᵀQ_i = Λ_i
(:func:`~hessian_spectra.hessian.layerwise.softmax_hessian_root`): eig(Λ^{1/2}ΘΛ^{1/2}) =
eig(Q Θ Qᵀ), which needs no matrix square root. For small models (N C ≪ p, per-sample Jacobians in
memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["GramSpectrum", "ggn_ntk_dual", "gram_dual", "gram_dual_eigenvalues", "ntk_gram"]


@dataclass
class GramSpectrum:
    """Eigen-decomposition of V = Σ_k ω_k a_k a_kᵀ through its Gram dual.

    Attributes:
        eigenvalues: (K,) eigenvalues of the Gram matrix, descending (float64); the non-zero ones are
            V's non-zero eigenvalues, the rest are V's zeros (up to rounding).
        gram: (K, K) the symmetric Gram matrix √(ω_k ω_l) a_kᵀ a_l.
        coefficients: (K, K) its orthonormal eigenvectors (columns, same order).
    """

    eigenvalues: Tensor
    gram: Tensor
    coefficients: Tensor

    def eigenvectors(self, vectors: Tensor, weights: Tensor | None = None, k: int | None = None,
                     rtol: float = 1e-10) -> Tensor:
        """Unit eigenvectors u = A v / √λ (p, k') of V for the top k eigenvalues with λ > rtol·λ₁
        (k' ≤ k), from the same ``vectors`` (K, p) and ``weights`` the Gram was built from."""
        K = self.eigenvalues.shape[0]
        k = K if k is None else k
        if not isinstance(k, int) or not 1 <= k <= K:
            raise ValueError(f"k must be an integer in [1, {K}], got {k!r}")
        lam = self.eigenvalues[:k]
        top = float(self.eigenvalues[0]) if K else 0.0
        keep = int((lam > rtol * max(top, 0.0)).sum()) if top > 0 else 0
        sw = _sqrt_weights(weights, vectors.shape[0], vectors)
        coef = self.coefficients[:, :keep].to(vectors.dtype) / lam[:keep].sqrt().to(vectors.dtype)
        return vectors.T @ (sw[:, None] * coef)


def _sqrt_weights(weights: Tensor | None, K: int, like: Tensor) -> Tensor:
    if weights is None:
        return torch.ones(K, dtype=like.dtype, device=like.device)
    w = torch.as_tensor(weights)
    if w.ndim != 1 or w.shape[0] != K:
        raise ValueError(f"weights must have shape ({K},) to match {K} vectors, got {tuple(w.shape)}")
    if bool((w < 0).any()):
        raise ValueError("weights must be non-negative for a Gram dual (V = A Aᵀ)")
    return w.to(like.device, like.dtype).sqrt()


def _eigh_descending(gram: Tensor) -> tuple[Tensor, Tensor]:
    g = gram.double()
    g = (g + g.T) / 2
    lam, vec = torch.linalg.eigh(g)
    return lam.flip(0), vec.flip(1)


def gram_dual(vectors: Tensor, weights: Tensor | None = None) -> GramSpectrum:
    """The Gram dual of V = Σ_k ω_k a_k a_kᵀ for rows a_k of ``vectors`` (K, p) and ``weights`` ω (K,)
    (default all 1): eigenvalues and eigenvectors of the K×K matrix √(ω_k ω_l) a_kᵀ a_l (module
    docstring). Accumulated in the vectors' dtype, decomposed in float64."""
    if not isinstance(vectors, Tensor) or vectors.ndim != 2 or not vectors.is_floating_point():
        shape = tuple(vectors.shape) if isinstance(vectors, Tensor) else type(vectors).__name__
        raise ValueError(f"vectors must be a floating 2-D tensor (K, p), got {shape}")
    sw = _sqrt_weights(weights, vectors.shape[0], vectors)
    B = sw[:, None] * vectors
    gram = (B @ B.T).double()
    lam, vec = _eigh_descending(gram)
    return GramSpectrum(lam, (gram + gram.T) / 2, vec)


def gram_dual_eigenvalues(vectors: Tensor, weights: Tensor | None = None) -> Tensor:
    """The K eigenvalues (descending, float64) of the Gram dual of Σ_k ω_k a_k a_kᵀ (:func:`gram_dual`)."""
    return gram_dual(vectors, weights).eigenvalues


def ntk_gram(model: nn.Module, data: Any, batch_size: int | None = None, *, eval_mode: bool = True) -> tuple[Tensor, Tensor]:
    """(Θ, logits): the empirical NTK Θ = [J_i J_jᵀ] (NC × NC, sample-major: row i·C + k is
    ∂f_k(x_i)/∂θ) and the logits (N, C), from per-sample Jacobians (small models only: N C p numbers)."""
    from .class_gradients import per_sample_jacobians

    J, logits, _ = per_sample_jacobians(model, data, batch_size, eval_mode=eval_mode)
    Jf = J.reshape(-1, J.shape[-1])
    return Jf @ Jf.T, logits


def ggn_ntk_dual(model: nn.Module, data: Any, batch_size: int | None = None, *, eval_mode: bool = True) -> Tensor:
    """The N·C eigenvalues (descending, float64) of Q Θ Qᵀ / N, whose non-zero ones are the non-zero
    eigenvalues of the cross-entropy Gauss-Newton matrix G of Eq. (5.1) (module docstring; inventory 001
    §L4, fact 4: rank G ≤ N(C − 1), so at least N of them are zero). For small models, N C ≪ p."""
    from ..hessian.layerwise import softmax_hessian_root

    theta, logits = ntk_gram(model, data, batch_size, eval_mode=eval_mode)
    N, C = logits.shape
    Q = softmax_hessian_root(logits.to(theta.dtype))  # (N, C, C)
    T = theta.reshape(N, C, N, C)
    M = torch.einsum("iab,ibjc,jdc->iajd", Q, T, Q).reshape(N * C, N * C) / N
    return _eigh_descending(M)[0]
