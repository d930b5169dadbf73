"""Linear networks on sufficient statistics: the exact loss, gradient and Hessian operator.

For a linear network f(x) = W_L ... W_1 x the loss (2) of the linear-networks paper depends on the data
only through C = X X^T / n, M = Y X^T / n and c0 = ||Y||_F^2 / (2n):

    L(W) = 1/2 Tr(W_e C W_e^T) - Tr(W_e M^T) + c0,   W_e = W_L ... W_1,

the same function of the weights as (2), so its gradients, full-batch gradient-descent iterates,
Hessian-vector products and spectra are identical to those of the data loss (tested to rounding).
We store C in its eigenbasis, C = U diag(c) U^T, and train W~_1 = W_1 U with M~ = M U: an
orthogonal change of input coordinates, under which gradient descent is equivariant
(W~_1(t) = W_1(t) U) and the Hessian spectrum is invariant (inventory 003 §L5). A step then costs
O(dL p) instead of O(n p).

Also here: the exact reduction of the Hessian for whitened inputs (an invariant input subspace and its
closed-form complement), used for the paper's Fig. 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..hessian.base import CurvatureOperator
from ..training import DescentResult, Objective, gradient_descent
from . import closed_form as ln
from .weights import unflatten_weights

Tensor = torch.Tensor

__all__ = [
    "SufficientStatistics", "loss_data", "loss_stats", "grad_stats", "stats_objective", "train_on_statistics",
    "LinearNetStatsHessian",
    "WhitenedReduction", "whitened_input_reduction", "complement_eigenvalues",
]


# ---------------------------------------------------------------------------------------------
# Sufficient statistics


@dataclass
class SufficientStatistics:
    """C = X X^T/n = U diag(c) U^T, M~ = (Y X^T/n) U and c0 = ||Y||_F^2/(2n) of a data set (X, Y).

    ``U`` is the rotation into C's eigenbasis (``None`` means the identity, i.e. C is diagonal in the
    original coordinates). Weights trained on these statistics live in rotated coordinates:
    W~_1 = W_1 U (use :meth:`rotate_in` / :meth:`rotate_out`); W_2..W_L are unchanged.
    """

    c: Tensor
    M: Tensor
    c0: float
    n: int
    U: Tensor | None = None

    @classmethod
    def from_data(cls, X: Tensor, Y: Tensor, diagonalize: bool = True) -> "SufficientStatistics":
        """Statistics of inputs X (d0 x n) and targets Y (dL x n), computed in float64.

        ``diagonalize=False`` is allowed only if C is exactly diagonal (e.g. tests); otherwise C is
        eigendecomposed (torch.linalg.eigh).
        """
        if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
            raise ValueError(f"need X (d0 x n) and Y (dL x n) with the same n, got {tuple(X.shape)}, {tuple(Y.shape)}")
        X = X.to(torch.float64)
        Y = Y.to(torch.float64)
        n = X.shape[1]
        C = X @ X.T / n
        M = Y @ X.T / n
        c0 = float((Y ** 2).sum() / (2 * n))
        if not diagonalize:
            off = C - torch.diag(torch.diagonal(C))
            if float(off.abs().max()) != 0.0:
                raise ValueError("C = X X^T / n is not diagonal; use diagonalize=True")
            return cls(c=torch.diagonal(C).clone(), M=M, c0=c0, n=n, U=None)
        c, U = torch.linalg.eigh(C)
        return cls(c=c, M=M @ U, c0=c0, n=n, U=U)

    @property
    def d0(self) -> int:
        return int(self.c.numel())

    @property
    def dL(self) -> int:
        return int(self.M.shape[0])

    def C(self) -> Tensor:
        """C = X X^T / n in the original coordinates."""
        if self.U is None:
            return torch.diag(self.c)
        return (self.U * self.c) @ self.U.T

    def rotate_in(self, Ws: Sequence[Tensor]) -> list[Tensor]:
        """Weights in the original input coordinates -> rotated ones (W~_1 = W_1 U)."""
        Ws = [W.to(torch.float64) for W in Ws]
        return Ws if self.U is None else [Ws[0] @ self.U] + Ws[1:]

    def rotate_out(self, Ws: Sequence[Tensor]) -> list[Tensor]:
        """Rotated weights -> original input coordinates (W_1 = W~_1 U^T)."""
        return list(Ws) if self.U is None else [Ws[0] @ self.U.T] + list(Ws[1:])

    def projected_alpha_max(self) -> float:
        """sigma_max^2(Y Pi)/n = lambda_max(M C^+ M^T) (see :func:`linear_nets.projected_label_proportion`)."""
        keep = self.c > 1e-10 * self.c.max()
        B = self.M[:, keep] / torch.sqrt(self.c[keep])
        return float(torch.linalg.matrix_norm(B, ord=2) ** 2)

    def least_squares_loss(self) -> float:
        """The least-squares floor min_W L = c0 - 1/2 ||M C^{-1/2}||_F^2 (pseudo-inverse on C's range)."""
        keep = self.c > 1e-10 * self.c.max()
        B = self.M[:, keep] / torch.sqrt(self.c[keep])
        return self.c0 - 0.5 * float((B ** 2).sum())


def loss_data(Ws: Sequence[Tensor], X: Tensor, Y: Tensor) -> Tensor:
    """Eq. (2) on the data: ||W_L ... W_1 X - Y||_F^2 / (2n)."""
    R = ln.end_to_end(Ws) @ X - Y
    return (R ** 2).sum() / (2 * X.shape[1])


def loss_stats(Ws: Sequence[Tensor], stats: SufficientStatistics) -> Tensor:
    """Eq. (2) on the statistics (rotated weights): 1/2 sum_i c_i ||W~_e[:, i]||^2 - <W~_e, M~> + c0."""
    We = ln.end_to_end(Ws)
    return 0.5 * ((We ** 2) * stats.c).sum() - (We * stats.M).sum() + stats.c0


def grad_stats(Ws: Sequence[Tensor], stats: SufficientStatistics) -> tuple[list[Tensor], float]:
    """Gradient of :func:`loss_stats` in closed form, and the loss.

    With G = W_e C - M (the gradient w.r.t. W_e), dL/dW_l = S_l^T G P_l^T. All products are formed
    from the output side so that every intermediate has dL rows: A_1 = G, A_(l+1) = A_l W_l^T = G P_(l+1)^T.
    """
    L = len(Ws)
    S = [None] * L
    S[L - 1] = None  # identity
    cur = None
    for l in range(L - 1, 0, -1):
        cur = Ws[l] if cur is None else cur @ Ws[l]
        S[l - 1] = cur
    We = Ws[0] if S[0] is None else S[0] @ Ws[0]
    G = We * stats.c - stats.M
    loss = 0.5 * float(((We ** 2) * stats.c).sum()) - float((We * stats.M).sum()) + stats.c0
    grads = []
    A = G
    for l in range(L):
        grads.append(A if S[l] is None else S[l].T @ A)
        if l < L - 1:
            A = A @ Ws[l].T
    return grads, loss


def stats_objective(stats: SufficientStatistics) -> Objective:
    """:func:`loss_stats` as an objective of the (rotated) weights for
    :func:`hessian_spectra.training.gradient_descent`, with the closed-form gradient :func:`grad_stats`."""

    def objective(Ws: Sequence[Tensor]):
        grads, loss = grad_stats(Ws, stats)
        return loss, lambda: grads

    return objective


def train_on_statistics(Ws0: Sequence[Tensor], stats: SufficientStatistics, lr_max: float, epochs: int,
                        **kwargs) -> DescentResult:
    """Full-batch gradient descent on the statistics (exactly the data-space GD of App. C), in float64.

    The weights are the rotated ones (:meth:`SufficientStatistics.rotate_in`); ``kwargs`` as for
    :func:`hessian_spectra.training.gradient_descent` (halving rule, checkpoints, divergence guard).
    """
    Ws = [W.detach().to(torch.float64).clone() for W in Ws0]
    dims = ln.layer_dims(Ws)
    if dims[0] != stats.d0 or dims[-1] != stats.dL:
        raise ValueError(f"weights {dims} do not match statistics d0={stats.d0}, dL={stats.dL}")
    return gradient_descent(Ws, stats_objective(stats), lr_max, epochs, desc="GD on statistics", **kwargs)


# ---------------------------------------------------------------------------------------------
# Hessian operator on the statistics


class LinearNetStatsHessian(CurvatureOperator):
    """The p x p loss Hessian (or GGN) of a linear network as an operator on the sufficient statistics.

    ``H @ v`` for v of shape (p,) or (p, k) (torch or NumPy, returned in the same kind) is the exact
    Hessian-vector product of Eq. (2) at the given (rotated) weights, in closed form. With
    G = W_e C - M, S_l = W_L...W_(l+1), F_l = G P_l^T and a direction V = (V_1, ..., V_L):

        dS_L = 0,  dS_l = dS_(l+1) W_(l+1) + S_(l+1) V_(l+1);   dW_e = dS_1 W_1 + S_1 V_1;
        E_1 = dW_e C,  E_(l+1) = E_l W_l^T            (E_l = dG P_l^T);
        dF_1 = 0,  dF_(l+1) = F_l V_l^T + dF_l W_l^T  (dF_l = G dP_l^T);
        (H V)_l = dS_l^T F_l + S_l^T (E_l + dF_l),   (GGN V)_l = S_l^T E_l,

    the derivative of the gradient S_l^T G P_l^T. Every intermediate has dL rows, so a product costs
    O(dL p) per vector (k vectors are batched). ``kind="ggn"`` gives (1/n) J^T J v of Eq. (3).
    Tested against dense autograd Hessians of the data loss. An operator of the engine's base (float64,
    on the CPU; ``to_scipy()`` for ``scipy.sparse.linalg`` solvers); ``num_products`` counts the
    vectors it was applied to.
    """

    def __init__(self, Ws: Sequence[Tensor], stats: SufficientStatistics, kind: str = "hessian"):
        if kind not in ("hessian", "ggn"):
            raise ValueError(f"kind must be 'hessian' or 'ggn', got {kind!r}")
        self.dims = ln.layer_dims(Ws)
        if self.dims[0] != stats.d0 or self.dims[-1] != stats.dL:
            raise ValueError(f"weights {self.dims} do not match statistics d0={stats.d0}, dL={stats.dL}")
        self.stats = stats
        self.kind = kind
        self.Ws = [W.detach().to(torch.float64) for W in Ws]
        p = sum(W.numel() for W in self.Ws)
        self.shape = (p, p)
        self.dtype = torch.float64
        self.device = torch.device("cpu")
        self.num_products = 0
        L = len(self.Ws)
        dL = self.dims[-1]
        S = [None] * L
        S[L - 1] = torch.eye(dL, dtype=torch.float64)
        for l in range(L - 2, -1, -1):
            S[l] = S[l + 1] @ self.Ws[l + 1]
        self.S = S
        We = S[0] @ self.Ws[0]
        G = We * stats.c - stats.M
        F = [G]
        for l in range(L - 1):
            F.append(F[-1] @ self.Ws[l].T)
        self.F = F

    def _apply(self, Vs: list[Tensor]) -> list[Tensor]:
        """Products for a batch of directions, Vs[l] of shape (k, d_l, d_(l-1))."""
        L, W, S, F = len(self.Ws), self.Ws, self.S, self.F
        dS = [None] * L
        dS[L - 1] = torch.zeros((Vs[0].shape[0], *S[L - 1].shape), dtype=torch.float64)
        for l in range(L - 2, -1, -1):
            dS[l] = dS[l + 1] @ W[l + 1] + S[l + 1] @ Vs[l + 1]
        dWe = dS[0] @ W[0] + S[0] @ Vs[0]
        E = dWe * self.stats.c
        out = []
        dF = None
        for l in range(L):
            if self.kind == "ggn":
                out.append(S[l].T @ E)
            else:
                term = E if dF is None else E + dF
                out.append(dS[l].transpose(1, 2) @ F[l] + S[l].T @ term)
            if l < L - 1:
                dF_next = F[l] @ Vs[l].transpose(1, 2)
                if dF is not None:
                    dF_next = dF_next + dF @ W[l].T
                dF = dF_next
                E = E @ W[l].T
        return out

    def _matmat(self, V: Tensor) -> Tensor:
        block = V.T.contiguous()  # (k, p)
        parts = self._apply(unflatten_weights(block, self.dims))
        self.num_products += block.shape[0]
        return torch.cat([q.reshape(q.shape[0], -1) for q in parts], dim=1).T.detach()


# ---------------------------------------------------------------------------------------------
# Exact reduction for whitened inputs (used by Fig. 4)


@dataclass
class WhitenedReduction:
    """Basis of the invariant input subspace of :func:`whitened_input_reduction` and its statistics."""

    Q: Tensor                      # d0 x r, orthonormal; reduced W_1 = W_1 Q
    stats: SufficientStatistics    # statistics in the reduced coordinates (r inputs)
    sigma2: float                  # the common value of C's eigenvalues (sigma_x^2)
    d0: int


def whitened_input_reduction(W1: Tensor, stats: SufficientStatistics, rtol: float = 1e-10,
                             c_tol: float = 1e-8) -> WhitenedReduction:
    """Exact reduction of a linear net's Hessian for whitened inputs, C = sigma_x^2 I.

    Let R be the span of the rows of W_1 and of M = Y X^T / n in input space (dimension r <= d1 + dL).
    With C = sigma_x^2 I, G = W_e C - M has rows in R, so directions (V_1, V_2, ..., V_L) whose V_1 rows
    lie in R form an invariant subspace of the Hessian (every product below keeps V_1's rows in R), and
    its orthogonal complement {(a b^T, 0, ..., 0): b in R-perp} is invariant too, with
    H (a b^T) = sigma_x^2 (S_1^T S_1 a) b^T, S_1 = W_L ... W_2: eigenvalues sigma_x^2 sigma_j^2(S_1), each
    (d0 - r)-fold (:func:`complement_eigenvalues`). Gradient descent also keeps W_1's rows in R.
    Returns the basis Q and the statistics in the reduced coordinates (r inputs), for the reduced
    weights W_1 Q. ``ValueError`` if C is not a multiple of I to ``c_tol``.
    """
    sigma2 = float(stats.c.mean())
    if float((stats.c - sigma2).abs().max()) > c_tol * sigma2:
        raise ValueError("the reduction needs whitened inputs (C = sigma_x^2 I)")
    B = torch.cat([W1.to(torch.float64), stats.M], 0).T
    U, sv, _ = torch.linalg.svd(B, full_matrices=False)
    r = int((sv > rtol * sv[0]).sum())
    Q = U[:, :r]
    Cr = (Q.T * stats.c) @ Q
    cr, Ur = torch.linalg.eigh(Cr)
    Q = Q @ Ur
    red = SufficientStatistics(c=cr, M=stats.M @ Q, c0=stats.c0, n=stats.n, U=None)
    return WhitenedReduction(Q=Q, stats=red, sigma2=sigma2, d0=stats.d0)


def complement_eigenvalues(Ws: Sequence[Tensor], red: WhitenedReduction) -> tuple[Tensor, int]:
    """Eigenvalues sigma_x^2 sigma_j^2(W_L...W_2) (j <= d1, zeros included) of the complement block and their
    common multiplicity d0 - r (see :func:`whitened_input_reduction`)."""
    d1 = Ws[0].shape[0]
    if len(Ws) > 1:
        sv = torch.linalg.svdvals(ln.end_to_end(list(Ws[1:])))
    else:
        sv = torch.ones(Ws[0].shape[0], dtype=torch.float64)
    vals = torch.zeros(d1, dtype=torch.float64)
    vals[: sv.numel()] = red.sigma2 * sv ** 2
    return vals, red.d0 - red.Q.shape[1]
