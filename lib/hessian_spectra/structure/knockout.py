"""Knockouts (Papyan 2020, Sec. 3) and low-rank second-moment operators (App. C; inventory 001 §L1.4-5).

* Subtraction knockout (Def. 3.1): A ⊖ B = A − B.
* Projection knockout (Def. 3.2): A ⫽ B = (I − BB†) A (I − BB†); for non-square A and B,
  (I − UUᵀ) A (I − VVᵀ) with U, V the left and right singular vectors of B. One formula covers both:
  for a symmetric B, I − BB† = I − UUᵀ = I − VVᵀ. "All the singular vectors" is read as those of the
  non-zero singular values, σ > rtol·σ₁ (default rtol = 1e-10; not stated by the paper).
* A low-rank weighted second moment V = Σ_k ω_k a_k a_kᵀ (G_class, G_cross, G_{c=c'} of Eq. (6.4)) as a
  matrix-free operator: V x = Aᵀ(ω ⊙ (A x)) with the vectors a_k as the rows of A (K × p).

Conventions: sets of vectors are rows (K, d); orthonormal bases are columns (d, r), like the engine's
eigenvectors.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..hessian.base import CurvatureOperator, LinearCombination, aslinearoperator

__all__ = [
    "LowRankOperator",
    "ProjectionKnockout",
    "orthonormal_basis",
    "projection_knockout",
    "subtraction_knockout",
]

#: Singular values below RTOL·σ₁ count as zero in a rank decision (not stated by the paper).
RTOL = 1e-10


def _matrix(t: Any, what: str) -> Tensor:
    if not isinstance(t, Tensor) or t.ndim != 2:
        shape = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
        raise ValueError(f"{what} must be a 2-D tensor, got {shape}")
    if not t.is_floating_point():
        raise ValueError(f"{what} must be floating point, got {t.dtype}")
    return t


def orthonormal_basis(vectors: Tensor, rtol: float = RTOL) -> Tensor:
    """An orthonormal basis (d, r) of the span of the rows of ``vectors`` (K, d), from the SVD with
    singular values σ ≤ rtol·σ₁ dropped (r = numerical rank; r = 0 for all-zero input)."""
    A = _matrix(vectors, "vectors")
    if not rtol >= 0:
        raise ValueError(f"rtol must be non-negative, got {rtol}")
    _, S, Vh = torch.linalg.svd(A, full_matrices=False)
    if S.numel() == 0 or S[0] == 0:
        return A.new_zeros((A.shape[1], 0))
    r = int((S > rtol * S[0]).sum())
    return Vh[:r].T.contiguous()


def projection_knockout(A: Tensor, B: Tensor, rtol: float = RTOL) -> Tensor:
    """A ⫽ B = (I − UUᵀ) A (I − VVᵀ) (Papyan 2020, Def. 3.2), U and V the left and right singular
    vectors of B's non-zero singular values (σ > rtol·σ₁). For symmetric A and B (Figs 7, 9: H^l ⫽
    H^l_class, Δ^l ⫽ Δ^l_class) this is (I − BB†) A (I − BB†); for weights (Fig 13, W^l ⫽ W^l_class,
    non-square) the two-sided form. A and B must have the same shape."""
    A = _matrix(A, "A")
    B = _matrix(B, "B")
    if A.shape != B.shape:
        raise ValueError(f"A and B differ in shape: {tuple(A.shape)} vs {tuple(B.shape)}")
    U, S, Vh = torch.linalg.svd(B.to(A.dtype), full_matrices=False)
    r = int((S > rtol * S[0]).sum()) if S.numel() and S[0] > 0 else 0
    if r == 0:
        return A.clone()
    U, V = U[:, :r], Vh[:r].T
    left = A - U @ (U.T @ A)
    return left - (left @ V) @ V.T


def subtraction_knockout(A: Any, B: Any) -> Any:
    """A ⊖ B = A − B (Papyan 2020, Def. 3.1) for dense tensors or operators (an operator difference makes
    one product with each term)."""
    if isinstance(A, Tensor) and isinstance(B, Tensor):
        if A.shape != B.shape:
            raise ValueError(f"A and B differ in shape: {tuple(A.shape)} vs {tuple(B.shape)}")
        return A - B
    return LinearCombination([aslinearoperator(A), aslinearoperator(B)], [1.0, -1.0])


class LowRankOperator(CurvatureOperator):
    """V = Σ_k ω_k a_k a_kᵀ from vectors a_k (rows of ``vectors``, K × p) and weights ω_k (K,)
    (inventory 001 §L1.4): G_class (a = g_c, ω = w_c), G_cross (a = g_{c,c'} − g_c, ω = w_{c,c'}),
    G_{c=c'} (a = g_{c,c}, ω = w_{c,c}), Papyan 2020 Eq. (6.4). A product costs 4Kp FLOPs per vector and
    no data pass."""

    def __init__(self, vectors: Tensor, weights: Tensor | None = None) -> None:
        A = _matrix(vectors, "vectors")
        K = A.shape[0]
        w = torch.ones(K, dtype=A.dtype, device=A.device) if weights is None else torch.as_tensor(weights)
        if w.ndim != 1 or w.shape[0] != K:
            raise ValueError(f"weights must have shape ({K},) to match {K} vectors, got {tuple(w.shape)}")
        self.vectors = A
        self.weights = w.to(A.device, A.dtype)
        self.shape = (int(A.shape[1]), int(A.shape[1]))
        self.dtype = A.dtype
        self.device = A.device

    @property
    def rank_bound(self) -> int:
        """K, the number of vectors (an upper bound on the rank)."""
        return int(self.vectors.shape[0])

    def _matmat(self, V: Tensor) -> Tensor:
        return self.vectors.T @ (self.weights[:, None] * (self.vectors @ V))

    def to_dense(self, chunk: int = 64) -> Tensor:
        return self.vectors.T @ (self.weights[:, None] * self.vectors)

    def __repr__(self) -> str:
        return f"LowRankOperator(K={self.rank_bound}, p={self.shape[0]}, dtype={self.dtype})"


class ProjectionKnockout(CurvatureOperator):
    """A ⫽ B = P A P with P = I − QQᵀ (Papyan 2020, Def. 3.2) for an operator A and an orthonormal basis Q
    (p, r) of B's column space (from :func:`orthonormal_basis`, or
    :meth:`~hessian_spectra.structure.CrossClassMoments.basis`). One product of A per product."""

    def __init__(self, op: Any, basis: Tensor) -> None:
        self.base = aslinearoperator(op)
        Q = _matrix(basis, "basis")
        p = self.base.shape[0]
        if Q.shape[0] != p:
            raise ValueError(f"basis must have shape ({p}, r) to match the operator, got {tuple(Q.shape)}")
        self.Q = Q.to(self.base.device, self.base.dtype)
        self.shape, self.dtype, self.device = self.base.shape, self.base.dtype, self.base.device

    def _project(self, V: Tensor) -> Tensor:
        return V - self.Q @ (self.Q.T @ V)

    def _matmat(self, V: Tensor) -> Tensor:
        return self._project(self.base @ self._project(V))

    def __repr__(self) -> str:
        return f"ProjectionKnockout({self.base!r}, rank={self.Q.shape[1]})"
