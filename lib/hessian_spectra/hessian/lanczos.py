"""Lanczos tridiagonalisation with full reorthogonalisation, and top eigenpairs from it.

For a symmetric A in R^{p×p} and a unit start vector v_1, the Lanczos recurrence (Papyan 2020,
App. C.1, Algorithm 1; Granziol et al. 2020, Sec. 5.1)

    w = A v_j − β_{j−1} v_{j−1},   α_j = v_jᵀ w,   w ← w − α_j v_j,
    w ← w − V_j V_jᵀ w   (full reorthogonalisation; a second pass when the first cancelled
                                   more than 1/√2 of the norm: "twice is enough"),
    β_j = ‖w‖,   v_{j+1} = w / β_j,

builds an orthonormal basis V_m of the Krylov space K_m(A, v_1) with V_mᵀ A V_m = T_m =
tridiag(β; α; β). The Ritz values θ (eigenvalues of T_m, from ``scipy.linalg.eigh_tridiagonal``)
approximate the eigenvalues of A; the Ritz vector V_m s_j has residual norm ‖A V_m s_j − θ_j V_m s_j‖
= β_m |s_j[m]|. The Lanczos vectors stay on the operator's device in its dtype ("working dtype");
α and β are accumulated in float64 (elementwise products in the working dtype, summed in blocks of 4096,
block sums added in float64: :class:`_BlockSums`).

Several independent runs (one per start vector) advance together: each step makes ONE
multi-vector product A [v^(1) … v^(n)], which a model operator computes in one pass over the data.

Breakdown: if β_j ≤ ``breakdown_tol`` · ‖T‖ the Krylov space is invariant (to working precision) and
the run ends cleanly after j steps with the Ritz values found (they are then exact eigenvalues).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from scipy.linalg import eigh_tridiagonal
from torch import Tensor
from tqdm.auto import tqdm

from .base import CurvatureOperator, aslinearoperator
from .speed import synchronize

__all__ = [
    "LanczosResult", "EigenResult", "lanczos", "lanczos_runs", "top_eigenpairs", "ritz_from_coefficients",
    "random_vectors", "check_steps",
]


def ritz_from_coefficients(alphas: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues θ (ascending) and eigenvectors S of T = tridiag(betas; alphas; betas)."""
    alphas = np.asarray(alphas, dtype=np.float64)
    betas = np.asarray(betas, dtype=np.float64)
    if alphas.size == 0:
        return np.zeros(0), np.zeros((0, 0))
    if alphas.size == 1:
        return alphas.copy(), np.ones((1, 1))
    theta, S = eigh_tridiagonal(alphas, betas[: alphas.size - 1])
    return theta, S


@dataclass
class LanczosResult:
    """Output of :func:`lanczos`.

    Attributes:
        alphas: (m,) float64 diagonal of T_m.
        betas: (m−1,) float64 off-diagonal of T_m.
        beta_last: β_m, the norm of the residual after step m (0 after a breakdown).
        basis: (m, p) orthonormal Lanczos vectors as rows (device, working dtype), or None.
        breakdown: True when the run ended early on an invariant subspace.
        time_products, time_reorth: seconds spent in operator products and in reorthogonalisation
            (per run when several runs advance together: the shared time divided by their number).
        reorth_second_passes: steps at which the second Gram-Schmidt pass was needed.
    """

    alphas: np.ndarray
    betas: np.ndarray
    beta_last: float
    basis: Tensor | None = None
    breakdown: bool = False
    time_products: float = 0.0
    time_reorth: float = 0.0
    reorth_second_passes: int = 0
    _ritz: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def num_steps(self) -> int:
        return int(self.alphas.size)

    def tridiagonal(self) -> np.ndarray:
        """T_m as a dense (m, m) float64 array."""
        m = self.num_steps
        T = np.diag(self.alphas)
        if m > 1:
            T += np.diag(self.betas, 1) + np.diag(self.betas, -1)
        return T

    def ritz(self) -> tuple[np.ndarray, np.ndarray]:
        """(θ ascending, S) with T_m = S diag(θ) Sᵀ."""
        if self._ritz is None:
            self._ritz = ritz_from_coefficients(self.alphas, self.betas)
        return self._ritz

    @property
    def ritz_values(self) -> np.ndarray:
        return self.ritz()[0]

    @property
    def weights(self) -> np.ndarray:
        """Gauss quadrature weights τ_j = S[0, j]² (sum to 1): the spectral measure of A seen
        from v_1, Σ_j τ_j δ(λ − θ_j) (Granziol et al. 2020, Theorem 4)."""
        return self.ritz()[1][0] ** 2

    @property
    def residuals(self) -> np.ndarray:
        """Residual norms β_m |S[m−1, j]| of the Ritz pairs."""
        return abs(self.beta_last) * np.abs(self.ritz()[1][-1])

    def ritz_vectors(self, indices: Any = None) -> Tensor:
        """Ritz vectors V_mᵀ S[:, indices] (p, len(indices)) on the device."""
        if self.basis is None:
            raise ValueError("the Lanczos basis was not kept (pass keep_basis=True)")
        S = self.ritz()[1]
        if indices is not None:
            S = S[:, indices]
        S_t = torch.as_tensor(S, dtype=self.basis.dtype, device=self.basis.device)
        return self.basis.T @ S_t


def random_vectors(
    n: int,
    p: int,
    dtype: torch.dtype,
    device: torch.device,
    generator: torch.Generator | None,
    distribution: str = "gaussian",
) -> Tensor:
    """(n, p) random rows, drawn on the CPU (device-independent with a seeded generator)."""
    if distribution == "gaussian":
        out = torch.randn(n, p, generator=generator, dtype=torch.float64)
    elif distribution == "rademacher":
        out = torch.randint(0, 2, (n, p), generator=generator).to(torch.float64).mul_(2).sub_(1)
    else:
        raise ValueError(f"distribution must be 'gaussian' or 'rademacher', got {distribution!r}")
    return out.to(device=device, dtype=dtype)


class _BlockSums:
    """Row-wise dot products ⟨a_r, b_r⟩ of (n, p) tensors, accumulated in float64.

    The elementwise products are formed in the working dtype in a scratch buffer allocated once,
    summed in blocks of ``block`` elements in the working dtype (torch's cascade summation: error
    about log2(block)·eps relative to the sum of |terms|), and the block sums are added in float64.
    ``tensor.sum(dtype=torch.float64)`` of the whole row gives the same to rounding but converts
    every element: 8.7 ms against 0.4 ms for n = 4, p = 932,362 on one CPU thread. Not from the
    papers (Papyan 2020 and Granziol et al. 2020 do not say how they sum).
    """

    def __init__(self, n: int, p: int, dtype: torch.dtype, device: torch.device, block: int = 4096) -> None:
        self.p, self.block = p, block
        self.buf = torch.zeros(n, -(-p // block) * block, dtype=dtype, device=device)  # zero padding

    def dot(self, a: Tensor, b: Tensor) -> Tensor:
        """(n,) float64: Σ_i a[r, i] b[r, i] for each row r."""
        n = a.shape[0]
        torch.mul(a, b, out=self.buf[:n, : self.p])
        return self.buf[:n].view(n, -1, self.block).sum(dim=2).sum(dim=1, dtype=torch.float64)


def _project_out(W: Tensor, B: Tensor) -> None:
    """W ← W − Bᵀ(B W) in place, run by run: W (n, p), B (n, j, p) with orthonormal rows.

    The coefficients are formed as W Bᵀ ((n, 1, p) × (n, p, j)): on a CPU this is ~5x faster than
    the equal product B W ((n, j, p) × (n, p, 1)), which falls off BLAS's matrix-vector path
    (measured 9.5 ms against 45 ms for n = 4, j = 9, p = 932,362, one thread).
    """
    coef = torch.bmm(W.unsqueeze(1), B.transpose(1, 2))  # (n, 1, j)
    W.unsqueeze(1).baddbmm_(coef, B, alpha=-1.0)


def lanczos_runs(
    A: CurvatureOperator,
    V0: Tensor,
    num_steps: int,
    *,
    reorthogonalize: bool = True,
    keep_basis: bool = False,
    breakdown_tol: float | None = None,
    restart_on_breakdown: bool = False,
    generator: torch.Generator | None = None,
    should_stop: Callable[[np.ndarray, np.ndarray], bool] | None = None,
    progress: bool | None = None,
    desc: str = "lanczos",
) -> list[LanczosResult]:
    """Advance n independent Lanczos runs (start vectors = rows of V0, (n, p)) together.

    Each step makes one product of A with the (p, n_active) block of current vectors (one data pass for
    a model operator). ``should_stop(alphas, betas)`` (single run only) is called after every step and
    can end the run. The shared machinery of :func:`lanczos`, :func:`top_eigenpairs` and
    :func:`~hessian_spectra.hessian.density.spectral_density`; a NaN or inf coefficient stops with a
    ``FloatingPointError`` naming the operator, the run and the step.
    """
    n, p = V0.shape
    dtype, device = A.dtype, A.device
    eps = torch.finfo(dtype).eps
    tol = 100.0 * eps if breakdown_tol is None else float(breakdown_tol)
    keep = reorthogonalize or keep_basis
    basis = torch.empty(n, num_steps, p, dtype=dtype, device=device) if keep else None
    v = V0.to(device=device, dtype=dtype).clone()
    norms = v.double().norm(dim=1)
    if bool((norms == 0).any()):
        raise ValueError("a start vector is zero")
    v = (v.double() / norms[:, None]).to(dtype)
    v_prev = torch.zeros_like(v)
    v_next = torch.empty_like(v)
    # scratch for the float64-accumulated reductions, allocated once: on a CPU a fresh (n, p)
    # temporary per step page-faults (measured ~5 ms for n = 4, p = 932,362, against ~1 ms reused)
    work = _BlockSums(n, p, dtype, device)
    alphas = np.zeros((n, num_steps))
    betas = np.zeros((n, num_steps))
    lengths = np.full(n, num_steps)
    broke = np.zeros(n, dtype=bool)
    active = np.ones(n, dtype=bool)
    anorm = np.zeros(n)
    t_prod = 0.0
    t_re = 0.0
    second_passes = 0
    bar = tqdm(range(num_steps), desc=desc, disable=(not progress) if progress is not None else None, leave=False)
    for j in bar:
        act = np.flatnonzero(active)
        all_active = act.size == n
        if basis is not None:
            basis[:, j] = v
        synchronize(device)
        t0 = time.perf_counter()
        try:
            if all_active:
                W = (A @ v.T).T.contiguous()
            else:
                idx = torch.as_tensor(act, device=device)
                W = torch.zeros_like(v)
                W[idx] = (A @ v[idx].T).T
        except FloatingPointError as err:
            raise FloatingPointError(f"{err} (in the product of Lanczos step {j + 1})") from err
        synchronize(device)
        t_prod += time.perf_counter() - t0
        if j > 0:
            W.addcmul_(v_prev, torch.as_tensor(betas[:, j - 1], dtype=dtype, device=device)[:, None], value=-1.0)
        alpha = work.dot(v, W)
        W.addcmul_(v, alpha.to(dtype)[:, None], value=-1.0)
        if reorthogonalize and basis is not None:
            synchronize(device)
            t1 = time.perf_counter()
            B = basis[:, : j + 1]  # (n, j+1, p)
            # classical Gram-Schmidt W ← W − Bᵀ(B W) (no transposed copy of the basis is made),
            # repeated once when the first pass cancelled more than 1/√2 of the norm (the
            # Daniel-Gragg-Kaufman-Stewart criterion; "twice is enough"). The criterion only
            # compares two norms, so they are taken in the working dtype.
            norm0 = torch.linalg.vector_norm(W, dim=1)
            _project_out(W, B)
            norm1 = torch.linalg.vector_norm(W, dim=1)
            if bool((norm1 < norm0 / math.sqrt(2.0)).any()):
                _project_out(W, B)
                second_passes += 1
            synchronize(device)
            t_re += time.perf_counter() - t1
        beta = work.dot(W, W).sqrt()
        alpha_np = alpha.cpu().numpy()
        beta_np = beta.cpu().numpy()
        if not (np.isfinite(alpha_np[act]).all() and np.isfinite(beta_np[act]).all()):
            bad = [int(r) for r in act if not (np.isfinite(alpha_np[r]) and np.isfinite(beta_np[r]))]
            raise FloatingPointError(
                f"non-finite Lanczos coefficient at step {j + 1} (run(s) {bad}: alpha={alpha_np[bad].tolist()}, "
                f"beta={beta_np[bad].tolist()}) of {A!r}"
            )
        alphas[act, j] = alpha_np[act]
        betas[act, j] = beta_np[act]
        prev_beta = betas[:, j - 1] if j > 0 else np.zeros(n)
        anorm[act] = np.maximum(anorm[act], np.abs(alpha_np[act]) + beta_np[act] + prev_beta[act])
        # v_{j+1} = w / β_j for every active row, 0 for the others (a row that breaks down now is
        # handled below), written into the buffer of v_{j−1}, which is no longer needed
        scale = np.divide(1.0, beta_np, out=np.zeros(n), where=active & (beta_np > 0))
        torch.mul(W, torch.as_tensor(scale, dtype=dtype, device=device)[:, None], out=v_next)
        restarted = False
        for r in act:
            if beta_np[r] <= tol * max(anorm[r], np.finfo(float).tiny):
                if restart_on_breakdown and basis is not None and j + 1 < num_steps:
                    # invariant subspace found: continue from a new random direction orthogonal to
                    # it (β_j = 0 keeps T block diagonal, so its eigenpairs stay exact)
                    w = random_vectors(1, p, dtype, device, generator)[0]
                    for _ in range(2):
                        _project_out(w.unsqueeze(0), basis[r : r + 1, : j + 1])
                    wn = float(w.double().norm())
                    if wn > tol * math.sqrt(p):
                        betas[r, j] = 0.0
                        v_next[r] = w / wn
                        restarted = True
                        continue
                lengths[r] = j + 1
                broke[r] = True
                betas[r, j] = 0.0
                active[r] = False
                v_next[r] = 0
        v_prev, v, v_next = v, v_next, v_prev
        # after a restart every residual is 0, which says nothing about eigenvalues not yet
        # reached (multiplicities): convergence is only judged at ordinary steps
        if should_stop is not None and n == 1 and active[0] and not restarted:
            if should_stop(alphas[0, : j + 1], betas[0, : j + 1]):
                lengths[0] = j + 1
                active[0] = False
        if not active.any():
            break
    bar.close()
    results = []
    for r in range(n):
        m = int(lengths[r])
        results.append(
            LanczosResult(
                alphas=alphas[r, :m].copy(),
                betas=betas[r, : m - 1].copy(),
                beta_last=float(betas[r, m - 1]),
                basis=(basis[r, :m] if (keep_basis and basis is not None) else None),
                breakdown=bool(broke[r]),
                time_products=t_prod / n,
                time_reorth=t_re / n,
                reorth_second_passes=second_passes,
            )
        )
    return results


def check_steps(num_steps: int, p: int) -> None:
    """Raise ``ValueError`` unless 1 <= ``num_steps`` <= p (the Krylov dimension cannot exceed p)."""
    if not isinstance(num_steps, (int, np.integer)) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive integer, got {num_steps!r}")
    if num_steps > p:
        raise ValueError(f"num_steps={num_steps} exceeds the operator dimension p={p}")



def _start_vector(v0: Tensor | None, p: int, A: Any, generator: torch.Generator | None) -> Tensor:
    """The (1, p) starting block: ``v0`` checked for shape, or a random vector."""
    if v0 is None:
        return random_vectors(1, p, A.dtype, A.device, generator)
    if v0.shape != (p,):
        raise ValueError(f"v0 has shape {tuple(v0.shape)}; expected ({p},)")
    return v0.reshape(1, p)

def lanczos(
    op: Any,
    num_steps: int,
    v0: Tensor | None = None,
    *,
    reorthogonalize: bool = True,
    keep_basis: bool = True,
    generator: torch.Generator | None = None,
    breakdown_tol: float | None = None,
    progress: bool | None = None,
) -> LanczosResult:
    """Run ``num_steps`` Lanczos steps on the symmetric operator ``op`` from ``v0``.

    Args:
        op: an operator of this package, a dense symmetric tensor, or any object with ``.shape``
            and ``__matmul__``.
        num_steps: m ≤ p, the number of products with ``op``.
        v0: start vector (p,); default a standard Gaussian vector, normalised (Papyan 2020,
            Alg. 1; Granziol et al. 2020 draw the same), drawn from ``generator``.
        reorthogonalize: full reorthogonalisation against all previous vectors at every step
            (Papyan's SlowLanczos, Alg. 1; Granziol et al. "re-orthogonalise at every step").
            False gives Papyan's FastLanczos (Alg. 2), which may show ghost eigenvalues.
        keep_basis: return the (m, p) basis (needed for Ritz vectors).
        breakdown_tol: relative β threshold for an invariant subspace; default 100·eps of the
            working dtype times the running estimate of ‖T‖ (not from the papers).
        progress: tqdm progress bar (None: automatic, shown on terminals only).

    Returns:
        :class:`LanczosResult` (α, β in float64; Ritz values, quadrature weights, residuals).
    """
    A = aslinearoperator(op)
    p = A.shape[0]
    check_steps(num_steps, p)
    V0 = _start_vector(v0, p, A, generator)
    (res,) = lanczos_runs(
        A, V0, num_steps, reorthogonalize=reorthogonalize, keep_basis=keep_basis,
        breakdown_tol=breakdown_tol, progress=progress, generator=generator,
    )
    return res


class EigenResult(tuple):
    """``(eigenvalues, eigenvectors)`` with extra attributes ``residuals`` (Ritz residual norms),
    ``num_steps`` (products used) and ``converged`` (all residuals below tolerance)."""

    eigenvalues: Tensor
    eigenvectors: Tensor
    residuals: np.ndarray
    num_steps: int
    converged: bool

    def __new__(
        cls, eigenvalues: Tensor, eigenvectors: Tensor, residuals: np.ndarray, num_steps: int, converged: bool
    ) -> EigenResult:
        obj = super().__new__(cls, (eigenvalues, eigenvectors))
        obj.eigenvalues = eigenvalues
        obj.eigenvectors = eigenvectors
        obj.residuals = residuals
        obj.num_steps = num_steps
        obj.converged = converged
        return obj


def _select(theta: np.ndarray, k: int, which: str) -> np.ndarray:
    if which == "LA":
        return np.argsort(-theta, kind="stable")[:k]
    if which == "SA":
        return np.argsort(theta, kind="stable")[:k]
    return np.argsort(-np.abs(theta), kind="stable")[:k]


def top_eigenpairs(
    op: Any,
    k: int,
    *,
    which: Literal["LA", "SA", "LM"] = "LA",
    max_steps: int | None = None,
    tol: float | None = None,
    v0: Tensor | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    block_size: int = 1,
) -> EigenResult:
    """The k extreme eigenpairs of a symmetric operator by Lanczos with full reorthogonalisation.

    Lanczos runs until the k selected Ritz pairs have residuals β_m|S[m−1, j]| ≤ tol·max|θ| or
    ``max_steps`` products were made (then a warning). Breakdown restarts from a random vector
    orthogonal to the invariant subspace found, so multiple eigenvalues are found too.

    Args:
        op: operator, dense symmetric tensor, or object with ``.shape`` and ``__matmul__``.
        k: number of eigenpairs, 1 ≤ k ≤ p.
        which: 'LA' largest algebraic (returned in descending order), 'SA' smallest (ascending),
            'LM' largest magnitude (descending |λ|).
        max_steps: most products; default min(p, 10k + 50) (not from the papers).
        tol: relative residual tolerance; default sqrt(eps) of the working dtype (1.5e-8 in
            float64, 3.5e-4 in float32; not from the papers).
        v0, generator, progress: as for :func:`lanczos`.
        block_size: b > 1 runs block Lanczos: each step multiplies b vectors at once (one data
            pass for a model operator, sharing its forward and backward passes); ``max_steps``
            then counts vectors (products), so there are max_steps // b block steps.

    Returns:
        :class:`EigenResult` ``(eigenvalues (k,), eigenvectors (p, k))`` (eigenvalues float64 on the
        CPU, eigenvectors on the device in the working dtype, unit norm).
    """
    A = aslinearoperator(op)
    p = A.shape[0]
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k > p:
        raise ValueError(f"k={k} exceeds the operator dimension p={p}")
    if which not in ("LA", "SA", "LM"):
        raise ValueError(f"which must be 'LA', 'SA' or 'LM', got {which!r}")
    m_max = min(p, 10 * k + 50) if max_steps is None else int(max_steps)
    check_steps(m_max, p)
    if m_max < k:
        raise ValueError(f"max_steps={m_max} is smaller than k={k}")
    rtol = math.sqrt(torch.finfo(A.dtype).eps) if tol is None else float(tol)

    def should_stop(a: np.ndarray, b: np.ndarray) -> bool:
        if a.size < k:
            return False
        theta, S = ritz_from_coefficients(a, b)
        idx = _select(theta, k, which)
        res = abs(b[-1]) * np.abs(S[-1, idx])
        return bool(np.all(res <= rtol * max(np.abs(theta).max(), np.finfo(float).tiny)))

    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    if block_size > 1:
        if v0 is not None:
            raise ValueError("v0 is only used with block_size=1")
        return _block_top_eigenpairs(A, k, which, m_max, rtol, block_size, generator, progress)
    V0 = _start_vector(v0, p, A, generator)
    (res,) = lanczos_runs(
        A, V0, m_max, reorthogonalize=True, keep_basis=True, restart_on_breakdown=True,
        generator=generator, should_stop=should_stop, progress=progress, desc=f"top-{k} lanczos",
    )
    theta, S = res.ritz()
    kk = min(k, theta.size)
    idx = _select(theta, kk, which)
    residuals = res.residuals[idx]
    converged = bool(np.all(residuals <= rtol * max(np.abs(theta).max(), np.finfo(float).tiny)))
    if not converged:
        warnings.warn(
            f"top_eigenpairs: {int(np.sum(residuals > rtol * np.abs(theta).max()))} of {kk} Ritz pairs "
            f"did not reach tol={rtol:.2e} in {res.num_steps} steps; max residual {residuals.max():.3e}",
            RuntimeWarning,
            stacklevel=2,
        )
    vecs = res.ritz_vectors(idx)
    vecs = vecs / vecs.norm(dim=0, keepdim=True)
    return EigenResult(
        torch.as_tensor(theta[idx], dtype=torch.float64), vecs, residuals, res.num_steps, converged
    )


def _block_top_eigenpairs(
    A: CurvatureOperator,
    k: int,
    which: str,
    max_steps: int,
    rtol: float,
    b: int,
    generator: torch.Generator | None,
    progress: bool | None,
) -> EigenResult:
    """Block Lanczos with full reorthogonalisation (Golub & Underwood 1977).

    Q_1 (p, b) orthonormal; W = A Q_j − Q_j A_j − Q_{j−1} B_{j−1}ᵀ with A_j = Q_jᵀ A Q_j; W is
    reorthogonalised against all previous blocks (two passes) and Q_{j+1} B_j = W (QR). The block
    tridiagonal T has diagonal blocks A_j and sub-diagonal blocks B_j; Ritz pair i has residual
    ‖B_m S[last block, i]‖. A rank-deficient B_j (an invariant subspace) is continued with random
    directions orthogonal to the basis (their rows of B_j set to zero), so multiple eigenvalues are
    found up to multiplicity b per restart.
    """
    p = A.shape[0]
    dtype, device = A.dtype, A.device
    num_blocks = max(1, min(max_steps, p) // b)
    if num_blocks * b < k:
        raise ValueError(f"max_steps={max_steps} gives {num_blocks * b} < k={k} Lanczos vectors")
    eps = torch.finfo(dtype).eps
    basis = torch.empty(num_blocks * b, p, dtype=dtype, device=device)
    T = np.zeros((num_blocks * b + b, num_blocks * b + b))
    Q, _ = torch.linalg.qr(random_vectors(b, p, dtype, device, generator).T)  # (p, b)
    Q_prev: Tensor | None = None
    B_prev: np.ndarray | None = None
    anorm = 0.0
    theta = np.zeros(0)
    S = np.zeros((0, 0))
    residuals = np.zeros(0)
    m = 0
    for j in tqdm(range(num_blocks), desc=f"top-{k} block lanczos",
                  disable=(not progress) if progress is not None else None, leave=False):
        lo, hi = j * b, (j + 1) * b
        basis[lo:hi] = Q.T
        try:
            W = A @ Q  # (p, b): one multi-vector product
        except FloatingPointError as err:
            raise FloatingPointError(f"{err} (in the product of block Lanczos step {j + 1})") from err
        Aj = (Q.T @ W).double()
        Aj = (Aj + Aj.T) / 2
        W = W - Q @ Aj.to(dtype)
        if Q_prev is not None and B_prev is not None:
            W = W - Q_prev @ torch.as_tensor(B_prev.T, dtype=dtype, device=device)
        Bs = basis[:hi]
        for _ in range(2):
            W = W - Bs.T @ (Bs @ W)
        Qn, R = torch.linalg.qr(W)
        Bj = R.double().cpu().numpy()
        T[lo:hi, lo:hi] = Aj.cpu().numpy()
        if not (np.isfinite(Bj).all() and np.isfinite(T[lo:hi, lo:hi]).all()):
            raise FloatingPointError(f"non-finite block Lanczos coefficient at block step {j + 1} of {A!r}")
        anorm = max(anorm, float(np.abs(T[lo:hi, lo:hi]).sum(axis=1).max() + np.abs(Bj).sum(axis=0).max()))
        small = np.abs(np.diag(Bj)) <= 100.0 * eps * max(anorm, np.finfo(float).tiny)
        if small.any() and hi < p:
            # invariant subspace: fresh random directions orthogonal to everything so far
            for i in np.flatnonzero(small):
                w = random_vectors(1, p, dtype, device, generator)[0]
                others = torch.cat([Bs, Qn.T[[c for c in range(b) if c != i]]], dim=0)
                for _ in range(2):
                    w = w - others.T @ (others @ w)
                Qn[:, i] = w / w.norm()
                Bj[i, :] = 0.0
        m = hi
        theta, S = np.linalg.eigh(T[:m, :m])
        idx = _select(theta, min(k, m), which)
        residuals = np.linalg.norm(Bj @ S[m - b : m, idx], axis=0)
        scale = max(np.abs(theta).max(), np.finfo(float).tiny)
        if m >= k and not small.any() and np.all(residuals <= rtol * scale):
            break
        if hi >= p:
            break
        T[hi : hi + b, lo:hi] = Bj
        T[lo:hi, hi : hi + b] = Bj.T
        Q_prev, B_prev, Q = Q, Bj, Qn
    kk = min(k, m)
    idx = _select(theta, kk, which)
    residuals = residuals[:kk]
    scale = max(np.abs(theta).max(), np.finfo(float).tiny)
    converged = bool(np.all(residuals <= rtol * scale))
    if not converged:
        warnings.warn(
            f"top_eigenpairs (block {b}): max residual {residuals.max():.3e} above tol={rtol:.2e} "
            f"after {m} products",
            RuntimeWarning,
            stacklevel=3,
        )
    vecs = basis[:m].T @ torch.as_tensor(S[:, idx], dtype=dtype, device=device)
    vecs = vecs / vecs.norm(dim=0, keepdim=True)
    return EigenResult(torch.as_tensor(theta[idx], dtype=torch.float64), vecs, residuals, m, converged)

