"""Closed-form Hessian spectra of deep linear networks and how they depend on the data.

Paper key ``linear_networks``: "How the Hessian-Spectrum of Linear Networks Depends on Data"
(workshop submission, 2026). Equation numbers are the paper's: (1)-(14) in the main text,
(15)-(16) in Appendix B. Errata ``E1``... refer to ``shared/inventory/003_linear_networks.md`` §E.

Conventions (the paper's):

- inputs as columns ``X`` in R^{d0 x n}, targets as columns ``Y`` in R^{dL x n};
- ``Ws = [W_1, ..., W_L]`` with ``W_l`` in R^{d_l x d_(l-1)}; the model (1) is
  f(x) = W_L ... W_1 x, the loss (2) is L = ||W_L...W_1 X - Y||_F^2 / (2n);
- a flat parameter vector stacks ``W_1.flatten(), ..., W_L.flatten()`` (row-major, the order of
  ``nn.Linear.weight`` in an ``nn.Sequential``); spectra do not depend on this order;
- ``P_l = W_(l-1)...W_1`` (P_1 = I_d0) and ``S_l = W_L...W_(l+1)`` (S_L = I_dL), Eq. (4).

Everything here is exact linear algebra; the loss, gradient and Hessian operator on sufficient
statistics live in :mod:`hessian_spectra.linear_nets.statistics`.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

Tensor = torch.Tensor

__all__ = [
    "layer_dims", "end_to_end", "partial_products", "orthogonalize", "numerical_rank",
    "sample_balanced_weights", "balanced_factorization", "imbalance",
    "lambda_max_bound_eq6", "trace_eq7", "balanced_eigenvalues_eq9", "balanced_eigenvalue_eq9b",
    "nonzero_count_balanced", "nonzero_count_shallow", "paper_nonzero_count_sec3",
    "paper_nonzero_count_appb", "lambda_max_eq10", "trace_eq11", "shallow_eigenvalues_eq15",
    "singular_values_from_labels_eq13", "sharpness_eq14", "label_proportions",
    "projected_label_proportion", "sharpness_projected", "label_proportion_counts",
    "paper_literal_label_proportion_counts", "subsample_label_proportion", "one_hot_columns",
]


# ---------------------------------------------------------------------------------------------
# Shapes and partial products


def layer_dims(Ws: Sequence[Tensor]) -> list[int]:
    """Widths ``[d0, d1, ..., dL]`` of a chain of weights; ``ValueError`` if the shapes do not chain."""
    if len(Ws) == 0:
        raise ValueError("need at least one weight matrix")
    dims = [int(Ws[0].shape[1])]
    for i, W in enumerate(Ws):
        if W.ndim != 2:
            raise ValueError(f"W_{i + 1} must be a matrix, got shape {tuple(W.shape)}")
        if W.shape[1] != dims[-1]:
            raise ValueError(f"W_{i + 1} has shape {tuple(W.shape)} but the previous layer has width {dims[-1]}")
        dims.append(int(W.shape[0]))
    return dims


def end_to_end(Ws: Sequence[Tensor]) -> Tensor:
    """The end-to-end matrix W_e = W_L ... W_1 (dL x d0), formed from the output side.

    Multiplying from the output side keeps every intermediate product dL rows tall, which is the
    cheap order when dL = 10 is the smallest width (inventory §L5).
    """
    layer_dims(Ws)
    We = Ws[-1]
    for W in reversed(Ws[:-1]):
        We = We @ W
    return We


def partial_products(Ws: Sequence[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
    """The input-side products ``P_l = W_(l-1)...W_1`` and output-side ``S_l = W_L...W_(l+1)`` of Eq. (4).

    Returns two lists indexed l = 1..L (Python index l-1); P_1 = I_d0 and S_L = I_dL.
    (Eq. (4)'s underbrace puts X inside P_l; by its stated shape d_(l-1) x d0 and by Eq. (5) P_l
    excludes X, inventory erratum E8.)
    """
    dims = layer_dims(Ws)
    L = len(Ws)
    ref = Ws[0]
    P = [torch.eye(dims[0], dtype=ref.dtype, device=ref.device)]
    for l in range(1, L):
        P.append(Ws[l - 1] @ P[-1])
    S = [torch.eye(dims[-1], dtype=ref.dtype, device=ref.device)]
    for l in range(L - 1, 0, -1):
        S.insert(0, S[0] @ Ws[l])
    return P, S


def imbalance(Ws: Sequence[Tensor]) -> list[float]:
    """Relative strong imbalance ||W_l W_l^T - W_(l+1)^T W_(l+1)||_F / ||W_l||_F^2 (Assumption 3), l = 1..L-1."""
    layer_dims(Ws)
    out = []
    for a, b in zip(Ws[:-1], Ws[1:]):
        out.append(float(torch.linalg.norm(a @ a.T - b.T @ b) / torch.linalg.norm(a) ** 2))
    return out


# ---------------------------------------------------------------------------------------------
# Data whitening (App. C, corrected) and balanced weights (App. C, corrected)


def orthogonalize(Xp: Tensor, sigma_x: float) -> Tensor:
    """Whiten a feature matrix so that it satisfies Assumption 2, X X^T / n = sigma_x^2 I_d0.

    App. C: "X = sqrt(n) sigma_x Q, where Q is derived from the QR decomposition of X'". The QR of
    X' (d0 x n) gives a d0 x d0 factor that cannot be X; the intended operation (erratum E1) is the
    thin QR of X'^T = Q R with Q in R^{n x d0}, and X = sqrt(n) sigma_x Q^T. For full-rank X' this
    is the uncentred linear whitening X = sqrt(n) sigma_x R^{-T} X', which keeps the row space of X'.
    For rank-deficient X' (MNIST has constant-zero pixels) Householder QR still returns orthonormal
    columns, d0 - rank of them an arbitrary completion (record :func:`numerical_rank`).

    Args:
        Xp: X' in R^{d0 x n}, inputs as columns; needs n >= d0 (Assumption 2).
        sigma_x: the target feature scale sigma_x > 0.
    """
    if Xp.ndim != 2:
        raise ValueError(f"X' must be a matrix d0 x n, got shape {tuple(Xp.shape)}")
    d0, n = Xp.shape
    if n < d0:
        raise ValueError(f"Assumption 2 needs n >= d0, got n={n} < d0={d0}")
    if not sigma_x > 0:
        raise ValueError(f"sigma_x must be positive, got {sigma_x}")
    Q, _ = torch.linalg.qr(Xp.T.contiguous(), mode="reduced")
    return math.sqrt(n) * sigma_x * Q.T.contiguous()


def numerical_rank(Xp: Tensor, rtol: float = 1e-10) -> int:
    """Rank of X' (d0 x n) from the eigenvalues of X' X'^T above ``rtol`` times the largest.

    Default rtol 1e-10 on eigenvalues (1e-5 on singular values) is ours; MNIST subsets give 529-645.
    """
    G = Xp.to(torch.float64) @ Xp.to(torch.float64).T
    ev = torch.linalg.eigvalsh(G)
    return int((ev > rtol * ev.max()).sum())


def _semi_orthogonal(rows: int, cols: int, generator: torch.Generator | None, dtype: torch.dtype) -> Tensor:
    """Q of the QR of a rows x cols N(0,1) matrix: orthonormal columns (rows >= cols)."""
    Z = torch.randn(rows, cols, generator=generator, dtype=dtype)
    Q, R = torch.linalg.qr(Z, mode="reduced")
    return Q * torch.sign(torch.diagonal(R)).where(torch.diagonal(R) != 0, torch.ones((), dtype=dtype))


def sample_balanced_weights(dims: Sequence[int], s: Tensor | Sequence[float],
                            generator: torch.Generator | None = None,
                            dtype: torch.dtype = torch.float64) -> list[Tensor]:
    """Strongly balanced weights (Assumption 3) with prescribed common singular values, App. C.

    With k = min(dims) and S = diag(s): V_1 = orth(N(0,1)^{d0 x k}); for l = 1..L,
    U_l = orth(N(0,1)^{d_l x k}), W_l = U_l S V_l^T, V_(l+1) = U_l. (App. C step 1 says "right
    singular vectors" where the left ones U_l are meant, erratum E2.) Then
    W_l W_l^T = U_l S^2 U_l^T = W_(l+1)^T W_(l+1), every layer has singular values s, and
    W_L ... W_1 = U_L S^L V_1^T.

    Args:
        dims: [d0, d1, ..., dL].
        s: k = min(dims) singular values (non-negative).
    """
    dims = [int(d) for d in dims]
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"dims must list at least two positive widths, got {dims}")
    k = min(dims)
    s = torch.as_tensor(s, dtype=dtype)
    if s.shape != (k,):
        raise ValueError(f"need k = min(dims) = {k} singular values, got shape {tuple(s.shape)}")
    if (s < 0).any():
        raise ValueError("singular values must be non-negative")
    V = _semi_orthogonal(dims[0], k, generator, dtype)
    Ws = []
    for l in range(1, len(dims)):
        U = _semi_orthogonal(dims[l], k, generator, dtype)
        Ws.append((U * s) @ V.T)
        V = U
    return Ws


def balanced_factorization(W_target: Tensor, widths: Sequence[int],
                           generator: torch.Generator | None = None) -> list[Tensor]:
    """Strongly balanced W_1..W_L with W_L ... W_1 = W_target (dL x d0); widths = [d1, ..., d_(L-1)].

    With W_target = U Sigma V^T of rank r: W_1 = R_1 Sigma^{1/L} V^T, W_l = R_l Sigma^{1/L} R_(l-1)^T,
    W_L = U Sigma^{1/L} R_(L-1)^T with random semi-orthogonal R_l in R^{d_l x r}. Used to place a
    network exactly at a least-squares point (inventory §L2). Needs every width >= r.
    """
    dL, d0 = W_target.shape
    U, sig, Vh = torch.linalg.svd(W_target, full_matrices=False)
    r = int((sig > sig.max() * 1e-12).sum()) if sig.numel() else 0
    if r == 0:
        raise ValueError("W_target is zero")
    if any(int(w) < r for w in widths):
        raise ValueError(f"every hidden width must be >= rank {r}, got {list(widths)}")
    L = len(widths) + 1
    root = sig[:r] ** (1.0 / L)
    left = Vh[:r].T  # d0 x r, plays the role of the previous R
    Ws = []
    for w in widths:
        R = _semi_orthogonal(int(w), r, generator, W_target.dtype)
        Ws.append((R * root) @ left.T)
        left = R
    Ws.append((U[:, :r] * root) @ left.T)
    return Ws


# ---------------------------------------------------------------------------------------------
# Section 2.2: bound (6) and trace (7); Section 3: balanced eigenvalues (9), counts


def lambda_max_bound_eq6(Ws: Sequence[Tensor], sigma_x: float) -> float:
    """Upper bound (6): lambda_max(GGN) <= sigma_x^2 sum_l sigma_max^2(P_l) sigma_max^2(S_l) (needs Assumption 2).

    It is an equality at strongly balanced points, where the top singular directions align.
    """
    P, S = partial_products(Ws)
    tot = sum(float(torch.linalg.matrix_norm(p, ord=2)) ** 2 * float(torch.linalg.matrix_norm(q, ord=2)) ** 2
              for p, q in zip(P, S))
    return sigma_x ** 2 * tot


def trace_eq7(Ws: Sequence[Tensor], sigma_x: float) -> float:
    """Trace (7): Tr(GGN) = sigma_x^2 sum_l ||P_l||_F^2 ||S_l||_F^2 under Assumption 2.

    For a linear network every scalar weight enters f linearly, so the non-GGN part of the Hessian
    has a zero diagonal and Tr(Hessian) = Tr(GGN) = Eq. (7) at every point, for any loss value and
    any imbalance (inventory §N; tested). Costs no data pass.
    """
    P, S = partial_products(Ws)
    tot = sum(float(torch.linalg.norm(p)) ** 2 * float(torch.linalg.norm(q)) ** 2 for p, q in zip(P, S))
    return sigma_x ** 2 * tot


def balanced_eigenvalues_eq9(s: Tensor | Sequence[float], L: int, sigma_x: float, d0: int, dL: int) -> Tensor:
    """All d0*dL GGN eigenvalues (9a) of a strongly balanced linear net under Assumption 2.

    lambda_ij = sigma_x^2 sum_{l=1}^{L} sigma_i^{2(L-l)} sigma_j^{2(l-1)}, i in [d0], j in [dL],
    where s (the common singular values, length k <= min(d0, dL)) is padded with zeros to length d0
    (for i, right singular vectors of W_1) and dL (for j, left singular vectors of W_L), and 0^0 := 1.
    The index range is the full one (inventory erratum E4); the remaining p - d0*dL eigenvalues are 0.
    The sum form is used because it is stable when sigma_i ~ sigma_j; it equals (9b).

    Returns a (d0, dL) tensor ``lam[i, j]``.
    """
    s = torch.as_tensor(s, dtype=torch.float64)
    k = s.numel()
    if L < 1:
        raise ValueError(f"depth L must be >= 1, got {L}")
    if k > min(d0, dL):
        raise ValueError(f"{k} singular values do not fit d0={d0}, dL={dL}")
    si = torch.zeros(d0, dtype=torch.float64)
    si[:k] = s
    sj = torch.zeros(dL, dtype=torch.float64)
    sj[:k] = s
    lam = torch.zeros(d0, dL, dtype=torch.float64)
    for l in range(1, L + 1):
        # torch.pow(0., 0) == 1, which is the 0^0 := 1 convention.
        lam += torch.pow(si, 2 * (L - l))[:, None] * torch.pow(sj, 2 * (l - 1))[None, :]
    return sigma_x ** 2 * lam


def balanced_eigenvalue_eq9b(sigma_i: float, sigma_j: float, L: int, sigma_x: float) -> float:
    """Closed form (9b): sigma_x^2 (s_i^{2L} - s_j^{2L}) / (s_i^2 - s_j^2), or sigma_x^2 L s^{2(L-1)} if equal.

    (The paper typesets the equal case "L . sigma^2(L-1)(W)"; it means L sigma^{2(L-1)}, erratum E7.)
    """
    a, b = sigma_i ** 2, sigma_j ** 2
    if a == b:
        return sigma_x ** 2 * L * a ** (L - 1)
    return sigma_x ** 2 * (a ** L - b ** L) / (a - b)


def nonzero_count_balanced(d0: int, dL: int, k: int) -> int:
    """True number of non-zero GGN eigenvalues at a balanced point of rank k: d0 dL - (d0-k)(dL-k).

    From (9a): lambda_ij = 0 only if sigma_i = sigma_j = 0 (for L >= 2 the l=1 and l=L terms are
    sigma_i^{2(L-1)} and sigma_j^{2(L-1)}). The paper's count (min d_l)^2 is wrong whenever
    d0 > k or dL > k (erratum E4).
    """
    if not 0 <= k <= min(d0, dL):
        raise ValueError(f"rank k={k} must lie in 0..min(d0, dL)={min(d0, dL)}")
    return d0 * dL - (d0 - k) * (dL - k)


def nonzero_count_shallow(d0: int, dL: int, rank1: int, rank2: int) -> int:
    """True number of non-zero eigenvalues of (15) for L = 2: d0 d2 - (d0 - r1)(d2 - r2)."""
    return d0 * dL - (d0 - rank1) * (dL - rank2)


def paper_nonzero_count_sec3(dims: Sequence[int]) -> int:
    """The paper's §3 claim, "at most (min{d0, ..., dL})^2 are non-zero" (wrong, erratum E4)."""
    return min(dims) ** 2


def paper_nonzero_count_appb(dims: Sequence[int]) -> int:
    """The paper's App. B claim for L = 2, "at most min{d0,d1} x min{d1,d2} may be non-zero" (wrong, E4)."""
    d0, d1, d2 = dims
    return min(d0, d1) * min(d1, d2)


# ---------------------------------------------------------------------------------------------
# Appendix B: shallow networks (L = 2)


def lambda_max_eq10(W1: Tensor, W2: Tensor, sigma_x: float) -> float:
    """Eq. (10): lambda_max(GGN) = sigma_x^2 (||W_1||_2^2 + ||W_2||_2^2), L = 2, Assumption 2 only."""
    return sigma_x ** 2 * (float(torch.linalg.matrix_norm(W1, ord=2)) ** 2
                           + float(torch.linalg.matrix_norm(W2, ord=2)) ** 2)


def trace_eq11(W1: Tensor, W2: Tensor, sigma_x: float, index_range: str = "full") -> float:
    """Eq. (11): Tr(GGN) = sigma_x^2 (d2 ||W_1||_F^2 + d0 ||W_2||_F^2), L = 2.

    ``index_range="paper"`` sums (15) over App. B's stated range i <= min(d0,d1), j <= min(d1,d2)
    instead, giving sigma_x^2 (min(d1,d2)||W_1||_F^2 + min(d0,d1)||W_2||_F^2); it is not the trace
    (erratum E4); only the full range reproduces Eq. (11).
    """
    d1, d0 = W1.shape
    d2 = W2.shape[0]
    f1, f2 = float(torch.linalg.norm(W1)) ** 2, float(torch.linalg.norm(W2)) ** 2
    if index_range == "full":
        return sigma_x ** 2 * (d2 * f1 + d0 * f2)
    if index_range == "paper":
        return sigma_x ** 2 * (min(d1, d2) * f1 + min(d0, d1) * f2)
    raise ValueError(f"index_range must be 'full' or 'paper', got {index_range!r}")


def shallow_eigenvalues_eq15(W1: Tensor, W2: Tensor, sigma_x: float, index_range: str = "full") -> Tensor:
    """GGN eigenvalues (15) of a 2-layer linear net: lambda_ij = sigma_x^2 (sigma_i^2(W_1) + sigma_j^2(W_2)).

    Needs Assumption 2 only (no balancedness). ``index_range="full"`` (correct, erratum E4): i in [d0],
    j in [d2] with singular values padded by zeros, d0*d2 values; ``"paper"``: App. B's range
    i in [min(d0,d1)], j in [min(d1,d2)]. Returned sorted in decreasing order (float64).
    """
    if W1.ndim != 2 or W2.ndim != 2 or W2.shape[1] != W1.shape[0]:
        raise ValueError(f"need W1 (d1 x d0) and W2 (d2 x d1), got {tuple(W1.shape)}, {tuple(W2.shape)}")
    d1, d0 = W1.shape
    d2 = W2.shape[0]
    s1 = torch.linalg.svdvals(W1.to(torch.float64))
    s2 = torch.linalg.svdvals(W2.to(torch.float64))
    if index_range == "full":
        a = torch.zeros(d0, dtype=torch.float64)
        a[: s1.numel()] = s1
        b = torch.zeros(d2, dtype=torch.float64)
        b[: s2.numel()] = s2
    elif index_range == "paper":
        a, b = s1[: min(d0, d1)], s2[: min(d1, d2)]
    else:
        raise ValueError(f"index_range must be 'full' or 'paper', got {index_range!r}")
    lam = sigma_x ** 2 * (a[:, None] ** 2 + b[None, :] ** 2)
    return torch.sort(lam.flatten(), descending=True).values


# ---------------------------------------------------------------------------------------------
# Section 4: dependence on data, Eqs. (12)-(14), and the projected-label correction (E5)


def one_hot_columns(y: Tensor, num_classes: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """One-hot targets as columns, Y in {0,1}^{num_classes x n}."""
    if y.ndim != 1:
        raise ValueError(f"labels must be a vector, got shape {tuple(y.shape)}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return torch.nn.functional.one_hot(y.long(), num_classes).to(dtype).T.contiguous()


def singular_values_from_labels_eq13(Y: Tensor, sigma_x: float, L: int) -> Tensor:
    """Eq. (13): sigma_i(W) = (sigma_i(Y) / (sqrt(n) sigma_x))^{1/L} at a zero-loss balanced solution.

    Exact only when Assumptions 1-3 hold. For one-hot labels with n > d0, zero loss is impossible;
    training stops at the least-squares point and Y must be replaced by its projection Y Pi onto the
    row space of X (erratum E5; :func:`projected_label_proportion`).
    """
    n = Y.shape[1]
    return (torch.linalg.svdvals(Y.to(torch.float64)) / (math.sqrt(n) * sigma_x)) ** (1.0 / L)


def sharpness_eq14(L: int | np.ndarray, alpha_max: float | np.ndarray, sigma_x: float = 1.0):
    """Eq. (14) for one-hot labels: lambda_max = L sigma_x^{2/L} alpha_max^{1-1/L}.

    The paper's general form is L sigma_x^{2/L} n^{-(1-1/L)} sigma_max(Y)^{2(1-1/L)} with
    alpha_max = sigma_max^2(Y)/n the largest class proportion (its middle expression writes sigma_i(Y)
    for sigma_max(Y), erratum E6). Accepts arrays (broadcast) for the Fig. 1(b) contour.
    """
    L_arr = np.asarray(L, dtype=float)
    a = np.asarray(alpha_max, dtype=float)
    if np.any(L_arr < 1) or np.any(a < 0):
        raise ValueError("need L >= 1 and alpha_max >= 0")
    out = L_arr * sigma_x ** (2.0 / L_arr) * a ** (1.0 - 1.0 / L_arr)
    return float(out) if out.ndim == 0 else out


def label_proportions(Y: Tensor) -> Tensor:
    """alpha_i = sigma_i^2(Y)/n, decreasing; for one-hot Y these are the class proportions (§4)."""
    return torch.linalg.svdvals(Y.to(torch.float64)) ** 2 / Y.shape[1]


def projected_label_proportion(C: Tensor, M: Tensor, rtol: float = 1e-10) -> float:
    """sigma_max^2(Y Pi)/n = lambda_max(M C^+ M^T), with C = X X^T / n and M = Y X^T / n.

    Pi = X^T (X X^T)^+ X projects onto the row space of X, so Y Pi Y^T / n = M C^+ M^T: the
    projected-label proportion needs only the sufficient statistics. Eigenvalues of C below
    ``rtol`` times the largest count as zero (our default).
    """
    C = C.to(torch.float64)
    M = M.to(torch.float64)
    ev, U = torch.linalg.eigh(C)
    keep = ev > rtol * ev.max()
    B = (M @ U[:, keep]) / torch.sqrt(ev[keep])
    return float(torch.linalg.matrix_norm(B, ord=2) ** 2)


def sharpness_projected(L: int, projected_alpha_max: float, sigma_x: float = 1.0) -> float:
    """Corrected Eq. (14) (erratum E5): lambda* = L sigma_x^{2/L} (sigma_max^2(Y Pi)/n)^{1-1/L}.

    This is the sharpness of a balanced network whose end-to-end map is the least-squares solution
    Y X^T (X X^T)^{-1}; there the Hessian equals the GGN exactly (the residual term is linear in
    R X^T = 0) and Eqs. (12)-(14) hold with Y replaced by Y Pi.
    """
    return sharpness_eq14(L, projected_alpha_max, sigma_x)


# ---------------------------------------------------------------------------------------------
# App. C "Subsampling" (corrected, erratum E3)


def label_proportion_counts(n: int, alpha_max: float, num_classes: int = 10, majority: int = 0) -> dict[int, int]:
    """Class counts for a maximum label proportion alpha_max: floor((1-alpha_max) n / 9) per minority class.

    App. C literally says "floor((1-alpha_max) n) samples from each of the classes 1-9 ... and the
    rest from class 0", which needs more than n samples for alpha_max < 8/9 and gives the wrong
    proportion at 0.9 (erratum E3); dividing by the number of minority classes (9) is the reading
    that produces the stated alpha_max. The achieved proportion is (n - 9 per)/n (e.g. 0.2008 for
    0.2 at n = 5000), which figures must use.
    """
    if not 1.0 / num_classes <= alpha_max <= 1.0:
        raise ValueError(f"alpha_max must lie in [1/{num_classes}, 1], got {alpha_max}")
    if n < num_classes:
        raise ValueError(f"n={n} is smaller than the number of classes")
    per = int(math.floor((1.0 - alpha_max) * n / (num_classes - 1) + 1e-9))
    counts = {c: per for c in range(num_classes) if c != majority}
    counts[majority] = n - per * (num_classes - 1)
    return dict(sorted(counts.items()))


def paper_literal_label_proportion_counts(n: int, alpha_max: float, num_classes: int = 10) -> dict[str, float]:
    """App. C read literally: floor((1-alpha_max) n) per minority class; returns the total it needs and
    the maximum proportion it would give (for showing erratum E3)."""
    per = int(math.floor((1.0 - alpha_max) * n + 1e-9))
    minority_total = per * (num_classes - 1)
    rest = n - minority_total
    feasible = rest >= 0
    props = [per / n] * (num_classes - 1) + [max(rest, 0) / n]
    return {"per_minority_class": per, "minority_total": minority_total, "majority": rest,
            "feasible": feasible, "alpha_max_achieved": max(props) if feasible else float("nan")}


def subsample_label_proportion(y: Tensor, n: int, alpha_max: float, seed: int = 0,
                               num_classes: int = 10, majority: int = 0) -> tuple[Tensor, float]:
    """Indices of a subset of size n whose largest class (``majority``) has proportion ~alpha_max.

    Uses :func:`label_proportion_counts` (corrected App. C rule), drawing without replacement with
    ``seed``. Returns ``(indices sorted, alpha_actual)``. ``ValueError`` if a class has too few examples.
    """
    counts = label_proportion_counts(n, alpha_max, num_classes, majority)
    g = torch.Generator().manual_seed(int(seed))
    y = y.cpu()
    chosen = []
    for c, k in counts.items():
        members = torch.nonzero(y == c).flatten()
        if k > len(members):
            raise ValueError(f"class {c} has {len(members)} examples; alpha_max={alpha_max}, n={n} needs {k}")
        chosen.append(members[torch.randperm(len(members), generator=g)[:k]])
    idx = torch.cat(chosen).sort().values
    return idx, counts[majority] / n
