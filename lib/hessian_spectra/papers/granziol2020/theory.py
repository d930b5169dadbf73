r"""The random-matrix theory of Granziol et al. (2020), §4 and App. D-F, reconstructed and simulated.

The printed displays of Lemma 3 (eq 7) and Theorem 1 are garbled in the extraction; they are reconstructed
in inventory 002 §N from App. E eqs (28)-(29) and checked there by simulation [inferred; checked].

**Lemma 3** (eq 7). A ∈ R^{P×P} of finite rank r with extreme eigenvalues λ₁ ≥ … ≥ λ_P, B a GOE with
element variance σ². The extreme eigenvalues of A + B/√P tend (P → ∞) to

    λ'₁ = λ₁ + σ²/λ₁  if λ₁ > σ,   else 2σ;
    λ'_P = λ_P + σ²/λ_P  if λ_P < −σ,  else −2σ.

(the BBP transition for the GOE; App. E: an outlier survives only where S_W(z) = 1/β, eq 28, giving
z = β + σ²/β, eq 29).

**Theorem 1.** H_emp = H_true + ε, ε with i.i.d. N(0, σ²/N) elements (Assumption 1, Lemma 2), H_true of low
rank (Assumption 2), q = P/N: Lemma 3 with σ → √q σ (ε = B/√P with B of element variance Pσ²/N):

    λ'₁ = λ₁ + q σ²/λ₁  if λ₁ > √q σ,   else 2√q σ;   λ'_P likewise with the signs mirrored.

Hence |λ'| ≥ |λ| on both ends ("the Empirical Hessian spectrum … is broadened"), and the noise edge ±2√q σ
shrinks as N grows. Functions: :func:`bbp_extreme` (forward map), :func:`bbp_inverse`, :func:`noise_edge`,
:func:`sigma_from_edge`, :func:`theorem1_extremes`.

**Simulation.** :func:`sample_lemma3` draws A + B/√P (A = diag of the spikes: the GOE is rotation invariant,
so a diagonal A is as general as any); :func:`sample_theorem1` draws H_true + ε with ε the mean of N
per-sample symmetric noise matrices (Gaussian: sampled directly as N(0, σ²/N); Rademacher ±σ entries: the sum
of N Rademacher variables is 2·Binomial(N, ½) − N, sampled directly, exact in distribution, O(P²) instead of
O(NP²)). Diagonal variance: 2σ² (GOE convention, Gaussian) and σ² (Rademacher); the limit does not depend
on it.

**Theory vs experiment** (inventory §E19, derived, not in the paper): :func:`predict_augmented_extremes`
fits σ from the Empirical negative edge (taken as noise-determined, λ'_P = −2√q_emp σ), predicts the
Augmented edge −2√q_aug σ, and maps the Empirical top through the inverse and forward BBP maps to the
Augmented q. The paper's own numbers give a predicted edge 85× (CIFAR-100) and 41× (CIFAR-10) larger than
observed.

**App. F** (dispersion): :func:`dispersion_prediction`, E Var_λ(H + ε) = Var_λ(H) + s²(P − 1/P) for symmetric
ε with i.i.d. entries of variance s² (inventory §N [checked]).

**Lemma 2** (element-wise CLT of ε): :func:`per_sample_hessian_entries` gives h_i,jk = ∂²ℓ_i/∂w_j∂w_k per
sample of a pool; :func:`lemma2_check` forms the means over disjoint subsamples of sizes N and checks
N·Var(H_jk) is flat in N and the standardised means are normal (KS test; inventory §S6).

Defaults the paper does not state (it reports no simulation): P, the spikes, σ, the seeds, the number of
subsamples; they are arguments everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy import stats
from torch import nn

__all__ = [
    "bbp_extreme",
    "bbp_inverse",
    "dispersion_prediction",
    "lemma2_check",
    "lemma3_extremes",
    "noise_edge",
    "per_sample_hessian_entries",
    "predict_augmented_extremes",
    "quadrature_moment_errors",
    "rademacher_overlaps",
    "sample_lemma3",
    "sample_theorem1",
    "sigma_from_edge",
    "theorem1_extremes",
]


def _pos(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


# ------------------------------------------------------------------------------------------------------
# closed forms: Lemma 3 (eq 7) and Theorem 1
# ------------------------------------------------------------------------------------------------------
def noise_edge(sigma: float, q: float = 1.0) -> float:
    """2√q σ: the edge of the semicircle of the noise √q σ-GOE (Lemma 3 with q = 1, Theorem 1 with q = P/N)."""
    return 2.0 * math.sqrt(_pos("q", q)) * _pos("sigma", sigma)


def bbp_extreme(lam: float, sigma: float, q: float = 1.0) -> float:
    """The extreme eigenvalue of (spike λ) + noise, Lemma 3 / Theorem 1: λ + qσ²/λ if |λ| > √q σ, else the noise
    edge 2√q σ with the sign of λ (λ = 0: +2√q σ, the top end)."""
    s2 = _pos("q", q) * _pos("sigma", sigma) ** 2
    lam = float(lam)
    if not math.isfinite(lam):
        raise ValueError(f"lambda must be finite, got {lam!r}")
    if abs(lam) > math.sqrt(s2):
        return lam + s2 / lam
    return math.copysign(2.0 * math.sqrt(s2), lam) if lam != 0 else 2.0 * math.sqrt(s2)


def bbp_inverse(lam_prime: float, sigma: float, q: float = 1.0) -> float:
    """The spike λ that :func:`bbp_extreme` maps to λ': λ = (λ' + sign(λ')√(λ'² − 4qσ²))/2 for |λ'| > 2√q σ;
    NaN at or inside the noise edge (the spike is then not identifiable: "completely determined by the noise
    matrix", Theorem 1 Remark)."""
    s2 = _pos("q", q) * _pos("sigma", sigma) ** 2
    lp = float(lam_prime)
    if abs(lp) <= 2.0 * math.sqrt(s2):
        return float("nan")
    return 0.5 * (lp + math.copysign(math.sqrt(lp * lp - 4.0 * s2), lp))


def sigma_from_edge(edge: float, q: float = 1.0) -> float:
    """σ̂ = |edge|/(2√q): the noise scale implied by a noise-determined extreme eigenvalue (inventory §L3)."""
    e = abs(float(edge))
    if not (math.isfinite(e) and e > 0):
        raise ValueError(f"edge must be a non-zero finite number, got {edge!r}")
    return e / (2.0 * math.sqrt(_pos("q", q)))


def lemma3_extremes(lam_max: float, lam_min: float, sigma: float) -> tuple[float, float]:
    """(λ'₁, λ'_P) of A + B/√P by Lemma 3 (eq 7): A with extreme eigenvalues (λ₁, λ_P), B a GOE of element
    variance σ²."""
    top = bbp_extreme(lam_max, sigma) if lam_max > 0 else noise_edge(sigma)
    bottom = bbp_extreme(lam_min, sigma) if lam_min < 0 else -noise_edge(sigma)
    return top, bottom


def theorem1_extremes(lam_max: float, lam_min: float, sigma: float, P: int, N: int) -> tuple[float, float]:
    """(λ'₁, λ'_P) of H_emp = H_true + ε by Theorem 1: Lemma 3 with σ → √(P/N) σ (q = P/N)."""
    if P < 1 or N < 1:
        raise ValueError(f"P and N must be positive, got P={P}, N={N}")
    return lemma3_extremes(lam_max, lam_min, math.sqrt(P / N) * _pos("sigma", sigma))


# ------------------------------------------------------------------------------------------------------
# simulation
# ------------------------------------------------------------------------------------------------------
def _spikes(spikes: ArrayLike, P: int) -> np.ndarray:
    s = np.asarray(spikes, dtype=np.float64).ravel()
    if s.size > P or not np.isfinite(s).all():
        raise ValueError(f"need at most P = {P} finite spikes, got {s.size}")
    return s


def sample_lemma3(P: int, spikes: ArrayLike, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Eigenvalues (ascending) of A + B/√P: A = diag(spikes, 0, …, 0) (rank r = len(spikes)), B a GOE with
    off-diagonal variance σ² and diagonal variance 2σ² (so B/√P has the semicircle on [−2σ, 2σ])."""
    if not isinstance(P, (int, np.integer)) or P < 2:
        raise ValueError(f"P must be an integer >= 2, got {P!r}")
    s = _spikes(spikes, P)
    a = rng.standard_normal((P, P))
    H = (a + a.T) * (_pos("sigma", sigma) / math.sqrt(2.0 * P))
    H[np.arange(s.size), np.arange(s.size)] += s
    return np.linalg.eigvalsh(H)


def sample_theorem1(P: int, N: int, spikes: ArrayLike, sigma: float, rng: np.random.Generator,
                    noise: Literal["gaussian", "rademacher"] = "gaussian") -> np.ndarray:
    """Eigenvalues (ascending) of H_emp = diag(spikes, 0, …) + ε, ε = (1/N) Σ_{n<N} E_n with E_n symmetric
    per-sample noise matrices with i.i.d. entries of variance σ² (Assumption 1 / Lemma 2: ε has element
    variance σ²/N). ``gaussian``: ε drawn directly (off-diagonal σ²/N, diagonal 2σ²/N); ``rademacher``: E_n
    entries ±σ, the sum drawn as σ(2·Binomial(N, ½) − N) (exact; module docstring)."""
    if not isinstance(P, (int, np.integer)) or P < 2:
        raise ValueError(f"P must be an integer >= 2, got {P!r}")
    if not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"N must be a positive integer, got {N!r}")
    s = _spikes(spikes, P)
    sig = _pos("sigma", sigma)
    if noise == "gaussian":
        a = rng.standard_normal((P, P))
        H = (a + a.T) * (sig / math.sqrt(2.0 * N))
    elif noise == "rademacher":
        upper = np.triu(2.0 * rng.binomial(N, 0.5, size=(P, P)) - N)
        H = (upper + np.triu(upper, 1).T) * (sig / N)
    else:
        raise ValueError(f"noise must be 'gaussian' or 'rademacher', got {noise!r}")
    H[np.arange(s.size), np.arange(s.size)] += s
    return np.linalg.eigvalsh(H)


# ------------------------------------------------------------------------------------------------------
# theory vs experiment (inventory §E19)
# ------------------------------------------------------------------------------------------------------
def predict_augmented_extremes(emp_min: float, emp_max: float, aug_min: float, aug_max: float, P: int,
                               N_emp: int, N_aug: int) -> dict[str, float]:
    """Theorem 1's prediction of the Augmented extremes from the Empirical ones (derived, not in the paper).

    σ̂ = |λ'_P(emp)|/(2√q_emp) (the Empirical bottom taken as the noise edge); predicted Augmented bottom
    −2√q_aug σ̂; the Empirical top mapped back to the true spike λ₁ = bbp_inverse(λ'₁, σ̂, q_emp) (NaN if it
    lies within the noise edge, then the top prediction is the edge) and forward at q_aug. Returns σ̂, q_emp,
    q_aug, the predictions and the ratios predicted/observed (|·| for the bottom). With the paper's numbers
    (P = 1,169,972, N = 50k, 1.5M; [−6.54, 20.56] → [−0.014, 3.026]) the bottom ratio is 85.
    """
    if emp_min >= 0:
        raise ValueError(f"the Empirical minimum must be negative to fix sigma from the noise edge, got {emp_min}")
    for name, n in (("P", P), ("N_emp", N_emp), ("N_aug", N_aug)):
        if n < 1:
            raise ValueError(f"{name} must be positive, got {n}")
    q_emp, q_aug = P / N_emp, P / N_aug
    sigma = sigma_from_edge(emp_min, q_emp)
    edge_aug = noise_edge(sigma, q_aug)
    spike = bbp_inverse(emp_max, sigma, q_emp)
    top_pred = bbp_extreme(spike, sigma, q_aug) if math.isfinite(spike) else edge_aug
    return {"sigma": sigma, "q_emp": q_emp, "q_aug": q_aug, "pred_aug_min": -edge_aug, "pred_aug_max": top_pred,
            "true_top_spike": spike, "obs_aug_min": float(aug_min), "obs_aug_max": float(aug_max),
            "ratio_min": edge_aug / abs(aug_min) if aug_min != 0 else float("inf"),
            "ratio_max": top_pred / aug_max if aug_max > 0 else float("nan")}


def dispersion_prediction(eigenvalues: ArrayLike, s2: float) -> float:
    """App. F: E Var_λ(H + ε) = Var_λ(H) + s²(P − 1/P) for ε symmetric with i.i.d. entries (diagonal included)
    of variance s², where Var_λ is the (1/P-normalised) variance of the eigenvalue list: E(1/P)Tr ε² = P s²
    and E((1/P)Tr ε)² = s²/P (inventory §N [checked])."""
    lam = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if lam.size < 2:
        raise ValueError("need at least 2 eigenvalues")
    P = lam.size
    return float(lam.var()) + float(s2) * (P - 1.0 / P)


# ------------------------------------------------------------------------------------------------------
# Lemma 2: element-wise CLT on a real model
# ------------------------------------------------------------------------------------------------------
def per_sample_hessian_entries(model: nn.Module, loss_fn: Callable[..., torch.Tensor], x: torch.Tensor,
                               y: torch.Tensor, pairs: Sequence[tuple[int, int]], batch_size: int = 64,
                               ) -> np.ndarray:
    """h[i, l] = ∂²ℓ(h(x_i; w), y_i)/∂w_j∂w_k for each sample i and each pair (j, k) = ``pairs[l]`` (flat
    parameter indices in ``model.parameters()`` order): the per-sample Hessian elements whose mean over a
    sample is H_emp,jk (Lemma 2, eq 6). One forward-over-reverse product per distinct j, vmapped over samples
    (``torch.func``); the model runs in eval mode (batch norm with running statistics). ``loss_fn`` returns
    the batch mean (it is called on one sample at a time). Returns float64 (n, len(pairs))."""
    if not pairs:
        raise ValueError("pairs is empty")
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = [p for p in model.parameters() if p.requires_grad]
    sizes = [p.numel() for p in params]
    P = sum(sizes)
    for j, k in pairs:
        if not (0 <= j < P and 0 <= k < P):
            raise ValueError(f"pair ({j}, {k}) out of range for P = {P}")
    cols = sorted({j for j, _ in pairs})
    E = torch.zeros(len(cols), P, dtype=params[0].dtype, device=params[0].device)
    E[torch.arange(len(cols)), torch.tensor(cols)] = 1.0
    tangents = [t.reshape(len(cols), *p.shape) for t, p in zip(torch.split(E, sizes, dim=1), params)]
    primals = tuple(p.detach() for p in params)
    was_training = model.training
    model.eval()

    def loss_one(ps: tuple[torch.Tensor, ...], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        out = torch.func.functional_call(model, dict(zip(names, ps)), (xi[None],))
        return loss_fn(out, yi[None])

    def hess_cols(xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        g = lambda ps: torch.func.grad(loss_one)(ps, xi, yi)
        def one(*t: torch.Tensor) -> torch.Tensor:
            return torch.cat([h.reshape(-1) for h in torch.func.jvp(g, (primals,), (tuple(t),))[1]])
        return torch.func.vmap(one)(*tangents)  # (len(cols), P)

    out = np.zeros((x.shape[0], len(pairs)))
    col_of = {j: c for c, j in enumerate(cols)}
    rows = torch.tensor([col_of[j] for j, _ in pairs])
    ks = torch.tensor([k for _, k in pairs])
    try:
        for s in range(0, x.shape[0], batch_size):
            H = torch.func.vmap(hess_cols)(x[s:s + batch_size], y[s:s + batch_size])  # (b, len(cols), P)
            out[s:s + H.shape[0]] = H[:, rows, ks].detach().cpu().double().numpy()
    finally:
        model.train(was_training)
    return out


def lemma2_check(entries: ArrayLike, sizes: Sequence[int], num_subsamples: int, seed: int = 0,
                 flat_tol: float = 0.25, ks_level: float = 0.01) -> dict[str, Any]:
    """Lemma 2 on a pool of per-sample Hessian elements (:func:`per_sample_hessian_entries`, shape (n, L)).

    For each N in ``sizes``: a seeded permutation of the pool is cut into disjoint subsamples of N samples
    (the first ``num_subsamples``, which must fit: num_subsamples·N ≤ n), their means H^(N)_jk are formed and
    ε = H^(N) − (pool mean) (the pool mean stands in for H_true). Reports per N and pair: N·Var(ε) and the KS
    p-value of the standardised ε against N(0, 1). Inventory §S6 rule, stated here and applied by
    :func:`.claims.claim_lemma2`: agree if N·Var varies by < ±``flat_tol`` (25 %) across N for ≥ 80 % of the
    pairs (max/min of N·Var ≤ (1 + tol)/(1 − tol)) and KS p > ``ks_level`` (0.01) for ≥ 80 % of the (N, pair)
    cells."""
    h = np.asarray(entries, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] < 2:
        raise ValueError(f"entries must be a 2-D array (samples, pairs), got shape {h.shape}")
    n, L = h.shape
    sizes = [int(s) for s in sizes]
    if not sizes or any(s < 1 for s in sizes) or num_subsamples < 3:
        raise ValueError("sizes must be positive and num_subsamples >= 3")
    if max(sizes) * num_subsamples > n:
        raise ValueError(f"the pool of {n} samples cannot hold {num_subsamples} disjoint subsamples of "
                         f"{max(sizes)}")
    rng = np.random.default_rng(seed)
    mean = h.mean(axis=0)
    nvar = np.zeros((len(sizes), L))
    ks_p = np.zeros((len(sizes), L))
    for a, N in enumerate(sizes):
        perm = rng.permutation(n)[: num_subsamples * N].reshape(num_subsamples, N)
        eps = h[perm].mean(axis=1) - mean  # (R, L)
        var = eps.var(axis=0, ddof=1)
        nvar[a] = N * var
        for l in range(L):
            sd = math.sqrt(var[l]) if var[l] > 0 else 0.0
            ks_p[a, l] = stats.kstest(eps[:, l] / sd, "norm").pvalue if sd > 0 else 0.0
    spread = nvar.max(axis=0) / np.where(nvar.min(axis=0) > 0, nvar.min(axis=0), np.nan)
    limit = (1 + flat_tol) / (1 - flat_tol)
    flat = np.nan_to_num(spread, nan=np.inf) <= limit
    return {"sizes": sizes, "num_subsamples": int(num_subsamples), "n_var": nvar.tolist(), "ks_p": ks_p.tolist(),
            "spread": spread.tolist(), "spread_limit": limit, "flat_fraction": float(flat.mean()),
            "normal_fraction": float((ks_p > ks_level).mean()), "flat_tol": flat_tol, "ks_level": ks_level}


# ------------------------------------------------------------------------------------------------------
# §5: the quadrature (eq 9-10, Theorem 4) and the random-vector overlap (§5.1)
# ------------------------------------------------------------------------------------------------------
def quadrature_moment_errors(eigenvalues: ArrayLike, num_steps: int, seed: int = 0) -> dict[str, Any]:
    """Theorem 4 / eqs 9-10: the m-step Lanczos quadrature (nodes θ_j, weights ρ_j) integrates the moments
    vᵀH^k v exactly for k ≤ 2m − 1. H = Q diag(eigenvalues) Qᵀ (Q seeded Haar), v a seeded unit Gaussian vector,
    float64, full reorthogonalisation (:func:`hessian_spectra.hessian.lanczos`). Returns the relative errors
    |Σρθ^k − vᵀH^k v| / max(|vᵀH^k v|, ‖H‖^k·1e-300) per k = 0 … 2m − 1 and their maximum."""
    from ...hessian import lanczos

    lam = np.asarray(eigenvalues, dtype=np.float64).ravel()
    P = lam.size
    if not 1 <= num_steps <= P:
        raise ValueError(f"num_steps must be in [1, P = {P}], got {num_steps}")
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((P, P)))
    H = (Q * lam) @ Q.T
    v = rng.standard_normal(P)
    v /= np.linalg.norm(v)
    res = lanczos(torch.from_numpy(H), num_steps, v0=torch.from_numpy(v), keep_basis=False, progress=False)
    th_ = np.asarray(res.ritz_values, dtype=np.float64)
    w = np.asarray(res.weights, dtype=np.float64)
    c = (Q.T @ v) ** 2  # exact spectral measure of v: vᵀH^k v = Σ c_i λ_i^k
    errs = []
    for k in range(2 * num_steps):
        exact = float(c @ lam**k)
        quad = float(w @ th_**k)
        errs.append(abs(quad - exact) / abs(exact) if exact != 0 else abs(quad))
    return {"P": P, "num_steps": num_steps, "relative_errors": errs, "max_relative_error": float(max(errs))}


def rademacher_overlaps(P: int, trials: int, seed: int = 0) -> dict[str, Any]:
    """§5.1: "the normalized overlap squared between two random Rademacher vectors … gives 1/P". A fixed seeded
    unit vector u (the first column of a Haar matrix) against ``trials`` Rademacher vectors v: x = P·(vᵀu)²/‖v‖²
    has expectation 1 (over v); its spread is that of χ²₁ (std √2), so a single vector's overlap is 1/P only in
    mean (inventory §S8; averaged over a whole orthonormal basis it is 1/P identically, by Parseval). Returns
    the mean of x over the trials, its standard error and the std."""
    if P < 2 or trials < 2:
        raise ValueError("need P >= 2 and trials >= 2")
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((P, 1)))
    V = rng.choice([-1.0, 1.0], size=(trials, P))
    x = P * (V @ Q[:, 0]) ** 2 / np.einsum("ij,ij->i", V, V)
    return {"P": P, "trials": trials, "mean": float(x.mean()), "se": float(x.std(ddof=1) / math.sqrt(trials)),
            "std": float(x.std()), "chi2_1_std": math.sqrt(2.0)}
