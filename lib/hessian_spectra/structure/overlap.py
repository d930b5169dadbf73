"""Subspace overlap, matricization and eigenvector correspondence (Wu et al. 2020, Sec. 4, Defs 4.1-4.3;
Secs 5.1-5.2; App. F.2).

* Overlap (Def. 4.1, Eq. (8)): for k-dimensional subspaces with orthonormal bases U, V ∈ R^{D×k},
  Overlap(U, V) = ‖UᵀV‖_F² / k = ‖cos φ‖² / k (φ the canonical angles). The extracted text prints
  ‖UᵀV‖_F / k without the square; the paper's own sentence "when k = 1, the overlap is equivalent to
  the squared dot product" fixes the square (inventory 000 §E3). :func:`subspace_overlap` is the
  corrected form, :func:`subspace_overlap_as_printed` the printed one. Two random k-dimensional
  subspaces of R^D have E[Overlap] = k/D (:func:`random_overlap_baseline`).
* Matricization (Def. 4.2): Mat(h) ∈ R^{m×n} with Mat(h)_{ij} = h_{(i−1)n+j}, the row-major reshape,
  so that Mat(u ⊗ v) = u vᵀ. The printed index h_{(i−1)m+j} is an erratum (inventory 000 §E2); it is
  kept as ``index="as_printed"`` (a bijection only when m = n, defined only when m ≤ n).
* Low-rank indicator (§5.2, Figs 6, 22): ‖Mat(h)‖₂ / ‖Mat(h)‖_F = σ₁ / ‖σ‖₂ (1 for rank one).
* Correspondence (Def. 4.3, Eqs. (9)-(10)): Corr(v_i, h_j) = ‖Mat(h_j) v_i‖² with the eigenvectors v_i
  of E[x xᵀ] (an n × J matrix), Corr(u_i, h_j) = ‖Mat(h_j)ᵀ u_i‖² with those u_i of E[M] (m × J).
  Whether the printed "‖·‖2" is a subscript or a square is ambiguous (§E4); squared is the default
  because then every column over a complete eigenbasis sums to ‖Mat(h_j)‖_F² = 1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "OverlapCurve",
    "correspondence_matrix",
    "gaussian_singular_ratio",
    "matricize",
    "overlap_curve",
    "pairwise_overlap_curve",
    "random_overlap_baseline",
    "subspace_overlap",
    "subspace_overlap_as_printed",
    "top_singular_ratio",
]


def _as_tensor(a: Tensor | np.ndarray, what: str) -> Tensor:
    if isinstance(a, np.ndarray):
        a = torch.from_numpy(a)
    if not isinstance(a, Tensor):
        raise ValueError(f"{what} must be a tensor or an array, got {type(a).__name__}")
    if not a.is_floating_point():
        a = a.double()
    return a


def _basis(U: Tensor | np.ndarray, what: str, check: bool) -> Tensor:
    U = _as_tensor(U, what)
    if U.ndim == 1:
        U = U.unsqueeze(1)
    if U.ndim != 2 or U.shape[1] == 0:
        raise ValueError(f"{what} must be a basis (D, k) with k ≥ 1 columns, got shape {tuple(U.shape)}")
    if U.shape[1] > U.shape[0]:
        raise ValueError(f"{what} has k = {U.shape[1]} columns in dimension D = {U.shape[0]} < k")
    if check:
        k = U.shape[1]
        G = U.T @ U
        err = float((G - torch.eye(k, dtype=G.dtype, device=G.device)).abs().max())
        tol = 10 * math.sqrt(torch.finfo(U.dtype).eps)  # 1.5e-7 (float64), 3.5e-3 (float32); our choice
        if err > tol:
            raise ValueError(f"{what} does not have orthonormal columns (max |UᵀU − I| = {err:.2e} > {tol:.1e}); "
                             "orthonormalise it first (e.g. torch.linalg.qr)")
    return U


def _pair(U: Tensor | np.ndarray, V: Tensor | np.ndarray, check: bool) -> tuple[Tensor, Tensor]:
    U = _basis(U, "U", check)
    V = _basis(V, "V", check)
    if U.shape[0] != V.shape[0]:
        raise ValueError(f"U and V live in different dimensions: {U.shape[0]} vs {V.shape[0]}")
    if U.shape[1] != V.shape[1]:
        raise ValueError(f"U and V span subspaces of different dimension k: {U.shape[1]} vs {V.shape[1]} "
                         "(Def. 4.1 compares two k-dimensional subspaces)")
    dtype = torch.promote_types(U.dtype, V.dtype)
    return U.to(dtype), V.to(device=U.device, dtype=dtype)


def subspace_overlap(U: Tensor | np.ndarray, V: Tensor | np.ndarray, *, check: bool = True) -> float:
    """Overlap(U, V) = ‖UᵀV‖_F² / k (Wu et al. 2020, Def. 4.1, Eq. (8), with the square the paper's text
    implies; inventory 000 §E3). In [0, 1]; 1 iff the subspaces coincide; the squared dot product for
    k = 1.

    Args:
        U, V: orthonormal bases (D, k) (a vector (D,) is a basis with k = 1).
        check: raise when a basis is not orthonormal (max |UᵀU − I| > 10·√eps of its dtype).
    """
    U, V = _pair(U, V, check)
    return float((U.T @ V).pow(2).sum()) / U.shape[1]


def subspace_overlap_as_printed(U: Tensor | np.ndarray, V: Tensor | np.ndarray, *, check: bool = True) -> float:
    """The printed Eq. (8) without the square, ‖UᵀV‖_F / k (an erratum, inventory 000 §E3): it gives
    1/√k, not 1, for identical k-dimensional subspaces. Kept to show the printed form beside
    :func:`subspace_overlap`."""
    U, V = _pair(U, V, check)
    return float((U.T @ V).norm()) / U.shape[1]


def random_overlap_baseline(k: int | Sequence[int] | np.ndarray, dim: int) -> np.ndarray:
    """E[Overlap] = k / D of two independent uniformly random k-dimensional subspaces of R^D
    (E‖UᵀV‖_F² = k²/D; inventory 000 §N). Returns an array of the shape of ``k``."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    ks = np.asarray(k)
    if ks.size and (np.any(ks < 1) or np.any(ks > dim) or not np.issubdtype(ks.dtype, np.integer)):
        raise ValueError(f"every k must be an integer in [1, D = {dim}], got {k!r}")
    return ks / dim


def _ks(ks: Sequence[int] | np.ndarray | None, kmax: int) -> np.ndarray:
    if ks is None:
        return np.arange(1, kmax + 1)
    out = np.asarray(ks)
    if out.ndim != 1 or out.size == 0 or not np.issubdtype(out.dtype, np.integer):
        raise ValueError(f"ks must be a non-empty 1-D sequence of integers, got {ks!r}")
    if out.min() < 1 or out.max() > kmax:
        raise ValueError(f"every k must lie in [1, {kmax}] (the number of columns given), got {ks!r}")
    return out


def overlap_curve(
    U: Tensor | np.ndarray,
    V: Tensor | np.ndarray,
    ks: Sequence[int] | np.ndarray | None = None,
    *,
    check: bool = True,
) -> np.ndarray:
    """Overlap(U[:, :k], V[:, :k]) for each k in ``ks`` (default 1 … K): the top-k eigenspace overlap of
    two models as a function of k (Wu et al. 2020, Def. 4.1; Figs 1a, 5, 9-13, 23, 28), with columns
    ordered by decreasing eigenvalue. One product C = UᵀV and cumulative sums of C²."""
    U, V = _pair(U, V, check)
    ks = _ks(ks, U.shape[1])
    C2 = (U.T @ V).pow(2).double().cpu().numpy()
    cum = C2.cumsum(0).cumsum(1)
    return np.array([cum[k - 1, k - 1] / k for k in ks])


@dataclass
class OverlapCurve:
    """Mean and standard deviation over all pairs of models of the top-k overlap.

    Attributes:
        ks: (K,) the dimensions k.
        mean, std: (K,) over pairs (std with ddof=0; the paper does not state which).
        pairs: (num_pairs, K) the overlap curve of each pair (i, j), i < j, in ``pair_index`` order.
        pair_index: list of (i, j).
        baseline: (K,) k/D, the expected overlap of random subspaces.
    """

    ks: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    pairs: np.ndarray
    pair_index: list[tuple[int, int]]
    baseline: np.ndarray


def pairwise_overlap_curve(
    bases: Sequence[Tensor | np.ndarray],
    ks: Sequence[int] | np.ndarray | None = None,
    *,
    check: bool = True,
) -> OverlapCurve:
    """The overlap of the top-k eigenspaces averaged over all pairs of independently trained models
    (Wu et al. 2020, §5.1 and App. E.2: "average pairwise overlap", std bands in the appendix), with the
    random baseline k/D.

    Args:
        bases: one orthonormal basis (D, K) per model, columns by decreasing eigenvalue (≥ 2 models).
        ks: the dimensions (default 1 … K).
        check: as for :func:`subspace_overlap`.
    """
    if isinstance(bases, (Tensor, np.ndarray)) or len(bases) < 2:
        raise ValueError("bases must be a sequence of at least two (D, K) bases, one per model")
    mats = [_basis(b, f"bases[{i}]", check) for i, b in enumerate(bases)]
    shapes = {tuple(b.shape) for b in mats}
    if len(shapes) != 1:
        raise ValueError(f"all bases must have one shape (D, K), got {sorted(shapes)}")
    D, K = mats[0].shape
    kk = _ks(ks, K)
    index = list(itertools.combinations(range(len(mats)), 2))
    pairs = np.stack([overlap_curve(mats[i], mats[j], kk, check=False) for i, j in index])
    return OverlapCurve(kk, pairs.mean(0), pairs.std(0), pairs, index, random_overlap_baseline(kk, int(D)))


def matricize(
    h: Tensor | np.ndarray,
    m: int,
    n: int,
    *,
    index: Literal["row_major", "as_printed"] = "row_major",
) -> Tensor:
    """Mat(h) ∈ R^{m×n} of a layer-wise Hessian eigenvector h ∈ R^{mn} (Wu et al. 2020, Def. 4.2).

    ``index="row_major"`` (default, the corrected definition): Mat(h)_{ij} = h_{(i−1)n+j}, i.e.
    ``h.reshape(m, n)``, so Mat(u ⊗ v) = u vᵀ and Mat(vec(W)) = W for PyTorch's (out, in) weights.
    ``index="as_printed"``: the printed Mat(h)_{ij} = h_{(i−1)m+j} (inventory 000 §E2), defined only
    for m ≤ n and a reshape only for m = n (otherwise entries repeat and others are never read).
    A batch h (mn, J) gives (J, m, n).
    """
    h = _as_tensor(h, "h")
    for what, v in (("m", m), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{what} must be a positive integer, got {v!r}")
    if h.ndim not in (1, 2) or h.shape[0] != m * n:
        raise ValueError(f"h must have shape (m·n,) or (m·n, J) with m·n = {m * n}, got {tuple(h.shape)}")
    if index == "row_major":
        return h.reshape(m, n) if h.ndim == 1 else h.T.reshape(-1, m, n)
    if index == "as_printed":
        if m > n:
            raise ValueError(f"the printed index (i−1)m+j runs past m·n = {m * n} when m = {m} > n = {n}")
        flat = (torch.arange(m).unsqueeze(1) * m + torch.arange(n).unsqueeze(0)).reshape(-1).to(h.device)
        return h[flat].reshape(m, n) if h.ndim == 1 else h[flat].T.reshape(-1, m, n)
    raise ValueError(f"index must be 'row_major' or 'as_printed', got {index!r}")


def top_singular_ratio(h: Tensor | np.ndarray, m: int, n: int) -> Tensor:
    """‖Mat(h)‖₂ / ‖Mat(h)‖_F = σ₁ / ‖σ‖₂ of the row-major matricization (Wu et al. 2020, §5.2, Figs 6,
    22): 1 when Mat(h) has rank one, 1/√min(m, n) at the least. For h (mn, J), a (J,) tensor."""
    mats = matricize(h, m, n)
    single = mats.ndim == 2
    if single:
        mats = mats.unsqueeze(0)
    s = torch.linalg.svdvals(mats)
    norms = s.norm(dim=-1)
    if bool((norms == 0).any()):
        raise ValueError("h has a zero column: its singular-value ratio is undefined")
    ratio = s[:, 0] / norms
    return ratio[0] if single else ratio


def correspondence_matrix(
    hessian_vectors: Tensor | np.ndarray,
    factor_vectors: Tensor | np.ndarray,
    m: int,
    n: int,
    factor: Literal["input", "output"],
    *,
    squared: bool = True,
) -> Tensor:
    """The eigenvector correspondence matrix (Wu et al. 2020, Def. 4.3, Eqs. (9)-(10)).

    ``factor="input"``: entries Corr(v_i, h_j) = ‖Mat(h_j) v_i‖² for eigenvectors v_i ∈ Rⁿ of E[x xᵀ]
    (rows i) and h_j ∈ R^{mn} of the layer-wise Hessian (columns j). ``factor="output"``: entries
    Corr(u_i, h_j) = ‖Mat(h_j)ᵀ u_i‖² for eigenvectors u_i ∈ R^m of E[M]. ``squared=False`` gives the
    unsquared norms (the printed "‖·‖2" is ambiguous, inventory 000 §E4; squared by default, then a
    column over a complete eigenbasis sums to 1).

    Args:
        hessian_vectors: (mn, J) unit eigenvectors h_j (columns by decreasing eigenvalue).
        factor_vectors: (n, I) for ``"input"``, (m, I) for ``"output"``, orthonormal columns.
        m, n: the layer's output and input dimensions.
    Returns:
        (I, J) tensor.
    """
    Hv = _as_tensor(hessian_vectors, "hessian_vectors")
    if Hv.ndim == 1:
        Hv = Hv.unsqueeze(1)
    mats = matricize(Hv, m, n)  # (J, m, n)
    F_ = _as_tensor(factor_vectors, "factor_vectors")
    if F_.ndim == 1:
        F_ = F_.unsqueeze(1)
    dtype = torch.promote_types(mats.dtype, F_.dtype)
    mats, F_ = mats.to(dtype), F_.to(device=mats.device, dtype=dtype)
    if factor == "input":
        if F_.ndim != 2 or F_.shape[0] != n:
            raise ValueError(f"factor_vectors for 'input' (eigenvectors of E[xxᵀ]) must be (n = {n}, I), "
                             f"got {tuple(F_.shape)}")
        proj = torch.einsum("jab,bi->jai", mats, F_)  # Mat(h_j) v_i
    elif factor == "output":
        if F_.ndim != 2 or F_.shape[0] != m:
            raise ValueError(f"factor_vectors for 'output' (eigenvectors of E[M]) must be (m = {m}, I), "
                             f"got {tuple(F_.shape)}")
        proj = torch.einsum("jab,ai->jbi", mats, F_)  # Mat(h_j)ᵀ u_i
    else:
        raise ValueError(f"factor must be 'input' (E[xxᵀ]) or 'output' (E[M]), got {factor!r}")
    sq = proj.pow(2).sum(1).T  # (I, J)
    return sq if squared else sq.sqrt()


def gaussian_singular_ratio(m: int, n: int, samples: int = 200, *, seed: int = 0) -> float:
    """E[σ₁/‖σ‖] of an m×n matrix with i.i.d. N(0, 1) entries, by Monte Carlo over ``samples`` draws: the
    value :func:`top_singular_ratio` takes for an eigenvector with no structure, the baseline beside
    Wu et al.'s (2020) "much larger than 0.5" (Figs 6, 22; inventory 000 §F Fig 6: 0.494 for 6×75, 0.140
    for 120×400). ``samples`` = 200 (ours) gives a standard error below 0.005 for those shapes."""
    for what, v in (("m", m), ("n", n), ("samples", samples)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{what} must be a positive integer, got {v!r}")
    gen = torch.Generator().manual_seed(int(seed))
    G = torch.randn(int(samples), int(m), int(n), generator=gen, dtype=torch.float64)
    s = torch.linalg.svdvals(G)
    return float((s[:, 0] / s.norm(dim=-1)).mean())
