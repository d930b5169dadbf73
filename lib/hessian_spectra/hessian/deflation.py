"""Subspace iteration for a top eigenspace, and low-rank deflation.

SubspaceIteration (Papyan 2020, App. C.8, Algorithm 5): from a random orthonormal Q ∈ R^{p×C},
repeat T times V = A Q, Q = QR(V). Q converges to the eigenspace of the C eigenvalues of largest
magnitude (rate |λ_{C+1}/λ_C| per iteration). Algorithm 5 returns λ_c = ‖v_c‖; we add the
Rayleigh-Ritz step eigh(Qᵀ A Q) on the last product (no extra product), which gives signed and more
accurate eigenvalues and the Ritz vectors Q Y. Every iteration is ONE multi-vector product
(a single data pass for a model operator).

Low-rank deflation (Papyan 2020, App. C.8): A_defl = A − Σ_{c≤C} λ_c q_c q_cᵀ removes the top
eigenspace before the bulk density is estimated (LowRankDeflation followed by LanczosApproxSpec).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from .lanczos import EigenResult, random_vectors, top_eigenpairs
from .base import CurvatureOperator, aslinearoperator

__all__ = ["DeflatedOperator", "deflate", "subspace_iteration", "low_rank_deflation"]


class DeflatedOperator(CurvatureOperator):
    """A − Q diag(λ) Qᵀ for an operator A and orthonormal columns Q (p, C)."""

    def __init__(self, op: Any, eigenvalues: Tensor, eigenvectors: Tensor) -> None:
        self.base = aslinearoperator(op)
        p = self.base.shape[0]
        lam = torch.as_tensor(eigenvalues).reshape(-1)
        Q = eigenvectors
        if Q.ndim != 2 or Q.shape[0] != p or Q.shape[1] != lam.numel():
            raise ValueError(
                f"eigenvectors must have shape ({p}, {lam.numel()}), got {tuple(Q.shape)}"
            )
        self.shape = self.base.shape
        self.dtype = self.base.dtype
        self.device = self.base.device
        self.Q = Q.to(self.device, self.dtype)
        self.eigenvalues = lam.to(self.device, self.dtype)

    def _matmat(self, V: Tensor) -> Tensor:
        return self.base @ V - self.Q @ (self.eigenvalues[:, None] * (self.Q.T @ V))


def deflate(op: Any, eigenvalues: Tensor, eigenvectors: Tensor) -> DeflatedOperator:
    """The deflated operator A − Σ_c λ_c q_c q_cᵀ (Papyan 2020, App. C.8)."""
    return DeflatedOperator(op, eigenvalues, eigenvectors)


def subspace_iteration(
    op: Any,
    k: int,
    num_iters: int = 128,
    *,
    tol: float | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
) -> EigenResult:
    """Top-k (largest magnitude) eigenpairs by subspace iteration with a Rayleigh-Ritz step.

    Args:
        op: operator, dense symmetric tensor, or object with ``.shape`` and ``__matmul__``.
        k: subspace dimension C (Papyan uses C = number of classes).
        num_iters: T; default 128 from Papyan 2020, App. D.2.
        tol: optional early stop when every Ritz residual ‖A q − θ q‖ ≤ tol·max|θ| (checked after
            each iteration from the product already made; default None: run all T iterations, as
            Algorithm 5).
        generator: for the Gaussian start block (drawn on the CPU).
        progress: tqdm over iterations (None: automatic).

    Returns:
        :class:`EigenResult` (eigenvalues descending by value, eigenvectors (p, k), residuals).
    """
    A = aslinearoperator(op)
    p = A.shape[0]
    if not isinstance(k, (int, np.integer)) or k < 1 or k > p:
        raise ValueError(f"k must be an integer in [1, p={p}], got {k!r}")
    if not isinstance(num_iters, (int, np.integer)) or num_iters < 1:
        raise ValueError(f"num_iters must be a positive integer, got {num_iters!r}")
    Q, _ = torch.linalg.qr(random_vectors(k, p, A.dtype, A.device, generator).T)
    theta = np.zeros(k)
    residuals = np.full(k, np.inf)
    it = 0
    Y = torch.eye(k, dtype=A.dtype, device=A.device)
    for it in tqdm(range(1, num_iters + 1), desc="subspace iteration",
                   disable=(not progress) if progress is not None else None, leave=False):
        V = A @ Q  # (p, k): one multi-vector product
        # Rayleigh-Ritz on span(Q): Qᵀ A Q = Y diag(θ) Yᵀ (symmetrised, float64)
        H = (Q.T @ V).double()
        H = (H + H.T) / 2
        th, Yd = torch.linalg.eigh(H)
        theta = th.cpu().numpy()
        Y = Yd.to(A.dtype)
        R = V @ Y - (Q @ Y) * th.to(A.dtype)[None, :]
        residuals = R.double().norm(dim=0).cpu().numpy()
        scale = max(np.abs(theta).max(), np.finfo(float).tiny)
        if tol is not None and np.all(residuals <= tol * scale):
            break
        if it < num_iters:
            Q, _ = torch.linalg.qr(V)
    vecs = Q @ Y
    order = np.argsort(-theta, kind="stable")
    vecs = vecs[:, torch.as_tensor(order.copy(), device=vecs.device)]
    converged = bool(tol is not None and np.all(residuals <= tol * max(np.abs(theta).max(), 1e-300)))
    return EigenResult(
        torch.as_tensor(theta[order], dtype=torch.float64), vecs, residuals[order], it * k, converged
    )


def low_rank_deflation(
    op: Any,
    k: int,
    *,
    method: str = "subspace",
    num_iters: int = 128,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    **kwargs: Any,
) -> tuple[DeflatedOperator, EigenResult]:
    """Find the top-k eigenpairs and return (A − Σ λ_c q_c q_cᵀ, eigenpairs).

    ``method='subspace'`` uses :func:`subspace_iteration` (Papyan 2020, App. C.8, T=128);
    ``method='lanczos'`` uses :func:`top_eigenpairs` with ``which='LM'`` (fewer products; not the
    paper's method).
    """
    if method == "subspace":
        eig = subspace_iteration(op, k, num_iters, generator=generator, progress=progress, **kwargs)
    elif method == "lanczos":
        eig = top_eigenpairs(op, k, which="LM", generator=generator, progress=progress, **kwargs)
    else:
        raise ValueError(f"method must be 'subspace' or 'lanczos', got {method!r}")
    return deflate(op, eig.eigenvalues, eig.eigenvectors), eig
