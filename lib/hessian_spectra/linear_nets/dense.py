"""Dense float64 references for small linear networks, and the numerical count of non-zero eigenvalues.

The exact identities of the linear-networks paper (Eqs. (7), (9), (15), the counts of non-zero
eigenvalues, the label proportions of §4) are checked on small instances against dense matrices
formed by autograd from the data loss (2), independently of the closed forms in
:mod:`.closed_form` and of the sufficient-statistics operator in :mod:`.statistics`:

- :func:`dense_hessian`: the p x p Hessian of Eq. (2) by ``torch.autograd.functional.hessian``;
- :func:`dense_ggn`: the Gauss-Newton matrix (1/n) J^T J of Eq. (3), J by autograd;
- :func:`numerical_nonzero_count`: how many computed eigenvalues of a positive semi-definite matrix
  are non-zero, read off the gap between them and the rounding noise of the exact zeros;
- :func:`trace_identity`: Tr(Hessian), Tr(GGN) and Eq. (7) at one point;
- :func:`label_proportion_identity`: sigma_i^2(Y)/n against the class proportions of one-hot labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from . import closed_form as ln
from .statistics import loss_data
from .weights import flatten_weights, unflatten_weights

Tensor = torch.Tensor

__all__ = ["dense_hessian", "dense_ggn", "NonzeroCount", "numerical_nonzero_count", "trace_identity",
           "label_proportion_identity"]


def dense_hessian(Ws: Sequence[Tensor], X: Tensor, Y: Tensor) -> Tensor:
    """The p x p Hessian of the data loss (2), L = ||W_L...W_1 X - Y||_F^2 / (2n), by autograd.

    Parameters are ordered as :func:`flatten_weights` stacks them (W_1 row-major first). Use float64
    and small p: the matrix is formed densely (p = 2000 takes a few seconds).
    """
    dims = ln.layer_dims(Ws)
    if X.ndim != 2 or Y.ndim != 2 or X.shape != (dims[0], Y.shape[1]) or Y.shape[0] != dims[-1]:
        raise ValueError(f"need X ({dims[0]} x n) and Y ({dims[-1]} x n), got {tuple(X.shape)}, {tuple(Y.shape)}")
    w = flatten_weights(Ws)
    return torch.autograd.functional.hessian(lambda v: loss_data(unflatten_weights(v, dims), X, Y), w,
                                            vectorize=True)


def dense_ggn(Ws: Sequence[Tensor], X: Tensor) -> Tensor:
    """The Gauss-Newton matrix (1/n) J^T J of Eq. (3), J = d vec(W_L...W_1 X) / dw by autograd."""
    dims = ln.layer_dims(Ws)
    if X.ndim != 2 or X.shape[0] != dims[0]:
        raise ValueError(f"need X ({dims[0]} x n), got {tuple(X.shape)}")
    w = flatten_weights(Ws)
    J = torch.autograd.functional.jacobian(lambda v: (ln.end_to_end(unflatten_weights(v, dims)) @ X).reshape(-1), w,
                                           vectorize=True)
    return J.T @ J / X.shape[1]


@dataclass
class NonzeroCount:
    """Result of :func:`numerical_nonzero_count`.

    Attributes:
        count: eigenvalues above ``min_gap`` times the noise level.
        noise: the rounding level delta = max(-lambda_min, eps lambda_max).
        gap: the smallest counted eigenvalue over the largest magnitude of the others (inf if there are
            none; 0 if nothing is counted).
        resolved: every eigenvalue not counted lies in the noise cluster, |lambda| <= sqrt(min_gap) delta:
            the spectrum splits cleanly into ``count`` non-zero eigenvalues and rounding noise, with no
            eigenvalue inside the gap (sqrt(min_gap) delta, min_gap delta].
    """

    count: int
    noise: float
    gap: float
    resolved: bool


def numerical_nonzero_count(eigenvalues: np.ndarray | Tensor | Sequence[float], min_gap: float = 10.0) -> NonzeroCount:
    """Number of non-zero eigenvalues of a positive semi-definite matrix from its computed spectrum, by a gap rule.

    A backward-stable eigensolver returns the exact eigenvalues of A + E with ||E|| ~ eps ||A||; the
    exact zeros of a PSD matrix come out as a cluster of tiny values of both signs. The negative ones
    witness the noise level, delta = max(-lambda_min, eps lambda_max). The non-zero eigenvalues are
    those above the gap that separates them from that cluster: lambda_i > min_gap * delta. The count is
    ``resolved`` when every other eigenvalue lies in the cluster, |lambda_j| <= sqrt(min_gap) * delta
    (positive noise may exceed the most negative value a little; the geometric middle of the gap is the
    border): an eigenvalue inside the gap is neither clearly noise nor clearly non-zero.

    A fixed threshold (e.g. 1e-13 lambda_max) is not used: in Fig. 1(a) of the linear-networks paper
    the spectrum spans 13 decades and its smallest non-zero eigenvalue (1.15e-12 = 2.8e-14 lambda_max)
    lies below such a threshold while the noise lies ~40x lower still. Nor is the largest gap anywhere
    in the spectrum: genuine eigenvalues can be decades apart (they are there).

    Args:
        eigenvalues: the computed eigenvalues, any order, float64.
        min_gap: the factor by which a counted eigenvalue must exceed the noise level. Default 10
            (ours: one decade between the rounding noise and the smallest eigenvalue counted).

    Raises:
        ValueError: no positive eigenvalue, ``min_gap <= 1``, or a negative eigenvalue beyond
            rounding (below -sqrt(eps) lambda_max: the matrix is not PSD).
    """
    lam = np.asarray(eigenvalues.detach().cpu() if isinstance(eigenvalues, Tensor) else eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"need a non-empty vector of eigenvalues, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)):
        raise ValueError("eigenvalues must be finite")
    if not min_gap > 1:
        raise ValueError(f"min_gap must exceed 1, got {min_gap}")
    lam = np.sort(lam)[::-1]
    top = float(lam[0])
    if not top > 0:
        raise ValueError("the matrix has no positive eigenvalue")
    eps = float(np.finfo(np.float64).eps)
    if float(lam[-1]) < -np.sqrt(eps) * top:
        raise ValueError(f"eigenvalue {lam[-1]:.3e} is negative beyond rounding (lambda_max {top:.3e}): not PSD")
    noise = max(-float(lam[-1]), eps * top)
    count = int(np.sum(lam > min_gap * noise))
    below = lam[count:]
    if not below.size:
        gap = float("inf")
    elif count == 0:
        gap = 0.0
    else:
        gap = float(lam[count - 1] / max(float(np.abs(below).max()), np.finfo(np.float64).tiny))
    resolved = bool(np.all(np.abs(below) <= math.sqrt(min_gap) * noise))
    return NonzeroCount(count=count, noise=noise, gap=gap, resolved=resolved)


def trace_identity(Ws: Sequence[Tensor], X: Tensor, Y: Tensor, sigma_x: float) -> dict[str, float]:
    """Tr(Hessian) and Tr(GGN) from dense autograd matrices beside Eq. (7), at the point ``Ws``.

    Eq. (7): Tr((1/n) J^T J) = sigma_x^2 sum_l ||P_l||_F^2 ||S_l||_F^2 under Assumption 2 (X X^T/n =
    sigma_x^2 I). For a linear network the non-GGN part of the Hessian has a zero diagonal, so
    Tr(Hessian) equals it too, at any loss (inventory 003 §N). Returns both traces, Eq. (7), their
    relative differences, the loss and max |H - GGN| (non-zero away from least-squares points).
    """
    n = X.shape[1]
    C = X @ X.T / n
    if float((C - sigma_x ** 2 * torch.eye(X.shape[0], dtype=X.dtype)).abs().max()) > 1e-10 * sigma_x ** 2:
        raise ValueError("Eq. (7) needs whitened inputs, X X^T / n = sigma_x^2 I (Assumption 2)")
    H = dense_hessian(Ws, X, Y)
    G = dense_ggn(Ws, X)
    eq7 = ln.trace_eq7(Ws, sigma_x)
    tr_h, tr_g = float(torch.trace(H)), float(torch.trace(G))
    return {"trace_hessian": tr_h, "trace_ggn": tr_g, "eq7": eq7,
            "rel_diff_hessian": abs(tr_h - eq7) / abs(eq7), "rel_diff_ggn": abs(tr_g - eq7) / abs(eq7),
            "loss": float(loss_data(Ws, X, Y)), "hessian_minus_ggn_max": float((H - G).abs().max()),
            "p": int(H.shape[0])}


def label_proportion_identity(y: Tensor, num_classes: int) -> dict[str, object]:
    """§4: for one-hot labels Y (num_classes x n), {sigma_i^2(Y)/n} are the class proportions.

    Y Y^T = diag(class counts), so its eigenvalues sigma_i^2(Y) are the counts. Returns the
    proportions both ways (sorted decreasingly), their largest difference and the largest
    off-diagonal entry of Y Y^T.
    """
    Y = ln.one_hot_columns(y, num_classes)
    n = Y.shape[1]
    from_svd = np.sort(ln.label_proportions(Y).numpy())[::-1]
    counts = torch.bincount(y.long(), minlength=num_classes).to(torch.float64)
    from_counts = np.sort((counts / n).numpy())[::-1]
    G = Y @ Y.T
    off = G - torch.diag(torch.diagonal(G))
    return {"n": int(n), "proportions_svd": from_svd.tolist(), "proportions_counts": from_counts.tolist(),
            "max_abs_diff": float(np.abs(from_svd - from_counts).max()), "max_offdiag_YYt": float(off.abs().max())}
