"""Monte Carlo checks of the theory of Wu et al. (2020): Theorem 4.1 / H.1 (§4.4, App. H) and Theorem F.1
(App. F.3). Inventory 000, entries "Theorem 4.1 / H.1 (no figure)" and "Theorem F.1 (no figure)",
scoreboard claims S4, S15, S91-S93, S139-S141 and erratum §E17.

**Theorem H.1** (Eqs. (67)-(69)). W⁽¹⁾ ∈ R^{n×d} with N(0, 1/d) entries, W⁽²⁾ ∈ R^{c×n} with N(0, 1/n)
entries, x ~ N(0, I_d), y = σ(W⁽¹⁾x) (ReLU), z = W⁽²⁾y, p = softmax(z), A = diag(p) − ppᵀ,
D = diag(1[W⁽¹⁾x > 0]) (the printed 1_{y≥0} is the identity, §E12). The first layer's output Hessian is

    M = E_x[D W⁽²⁾ᵀ A W⁽²⁾ D]                                                      (Eq. (67))

and, as d → ∞ then n → ∞, λ_c(M)/λ_{c−1}(M) → 0 and the top c−1 eigenspace of M tends to
R(W⁽²⁾)\\{W⁽²⁾·1} := {W⁽²⁾ᵀv : v ⊥ 1_c} (§E13). The proof's steps measured here:

* Lemma 12: z_i tends to a Gaussian with variance (π−1)/(2π) = Var(σ(g)), g ~ N(0, 1) (S139), stated
  with zero mean. The zero mean rests on Lemma 7 (Σ_j W⁽²⁾_ij → 0), which is false: Σ_j W⁽²⁾_ij ~ N(0, 1)
  for every n. The exact mean is E[z] = W⁽²⁾ E[y] with E[y_j] = ‖W⁽¹⁾_j‖/√(2π) ≈ 1/√(2π), so
  E[z] ≈ W⁽²⁾1_n/√(2π), whose entries have spread 1/√(2π) ≈ 0.40 (§E17). The theorem's conclusions need
  only a non-degenerate Gaussian limit of z and survive.
* Lemma 3: Ā = lim E[A] has rank c−1 with null vector 1_c (A·1 = 0 for every input; S141).
* Eq. (72): M ≈ M* = ¼(W⁽²⁾ᵀĀW⁽²⁾ + diag(W⁽²⁾ᵀĀW⁽²⁾)), so the top c−1 eigenvalues of M approach
  ¼·eig(W⁽²⁾ᵀĀW⁽²⁾) (S140). The ¼ is E[1[g₁>0]1[g₂>0]] for independent g₁, g₂.

:func:`two_layer_output_hessian` draws one network, estimates M, Ā and the moments of z over ``samples``
inputs and returns every statistic; :func:`gap_ratio_curve` repeats it over widths n (S4, S15).

**Theorem F.1 / App. F.3** (S91-S93). If the layer-wise Hessians of two models are E[M]⁽ᵃ⁾ ⊗ E[xxᵀ]⁽ᵃ⁾
with τ_mγ₁ > τ₁γ₂, their top m eigenvectors are r_i⁽ᵃ⁾ ⊗ t₁⁽ᵃ⁾ and Overlap(top-k) =
(t₁⁽¹⁾·t₁⁽²⁾)² Overlap(V_k⁽¹⁾, V_k⁽²⁾) (Eq. (58)); with unrelated (permuted) output neurons
E[Overlap(V_k⁽¹⁾, V_k⁽²⁾)] = k/m (the "expected inner product of 1/m", S93), hence the prediction
(k/m)(t₁⁽¹⁾·t₁⁽²⁾)² for k ≤ m (:func:`hessian_spectra.structure.theorem_f1_overlap`).
:func:`random_frame_overlap` measures E[Overlap] of independent Haar-random k-frames of R^m;
:func:`kronecker_overlap_curve` builds synthetic pairs of Kronecker Hessians satisfying the theorem's
hypothesis and measures their top-k overlap curve against the prediction.

Defaults the paper does not state (it reports no Monte Carlo at all): the number of inputs (8,000 in the
inventory's check), the widths n and input dimensions d, c = 10, the seeds, float64; for Theorem F.1
the spectra τ, γ, the dimensions m, n, the target (t₁⁽¹⁾·t₁⁽²⁾)² and the number of pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ...pipeline.cache import cached
from ...structure.autocorrelation import theorem_f1_condition, theorem_f1_overlap
from ...structure.output_subspace import predicted_output_subspace, random_two_layer_weights
from ...structure.overlap import subspace_overlap

__all__ = [
    "LEMMA12_VARIANCE",
    "EQ72_FACTOR",
    "two_layer_output_hessian",
    "gap_ratio_curve",
    "random_frame_overlap",
    "random_frame",
    "kronecker_overlap_curve",
    "two_layer_output_hessian_cached",
    "gap_ratio_curve_cached",
    "random_frame_overlap_cached",
    "kronecker_overlap_curve_cached",
]

#: Var(σ(g)) for g ~ N(0, 1) and ReLU σ: E[σ(g)²] − E[σ(g)]² = 1/2 − 1/(2π) = (π−1)/(2π) (Lemma 12).
LEMMA12_VARIANCE: float = (math.pi - 1) / (2 * math.pi)
#: E[1[g₁ > 0] 1[g₂ > 0]] = 1/4 for independent standard normals (Eq. (72)'s prefactor).
EQ72_FACTOR: float = 0.25


def _check_int(value: Any, what: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{what} must be an integer ≥ {low}, got {value!r}")
    return int(value)


def two_layer_output_hessian(n: int, d: int, c: int = 10, samples: int = 8000, seed: int = 0,
                             chunk: int = 500) -> dict[str, Any]:
    """One Monte Carlo draw of Theorem H.1 (Eqs. (67)-(72)): a random two-layer ReLU network, its
    output Hessian M and the proof's intermediate quantities, all in float64.

    Draws W⁽¹⁾ (n, d) ~ N(0, 1/d), W⁽²⁾ (c, n) ~ N(0, 1/n) (:func:`random_two_layer_weights`) and
    ``samples`` inputs x ~ N(0, I_d) from ``torch.Generator`` seeded with ``seed``; M = mean over inputs of
    N_xᵀN_x with N_x = Q_x W⁽²⁾ D_x and Q_x = diag(√p)(I − 1pᵀ), so that Q_xᵀQ_x = A_x (inventory §N).
    ``chunk`` inputs are processed at a time (memory only).

    Returns a dict of plain Python numbers / lists:
        ``eigenvalues``: the top 2c eigenvalues of M (decreasing);
        ``gap_ratio``: λ_c/λ_{c−1} (S4);
        ``overlap``: Overlap(top c−1 eigenvectors of M, {W⁽²⁾ᵀv : v ⊥ 1}) (S15);
        ``eq72_eigenvalues``: ¼ · top c−1 eigenvalues of W⁽²⁾ᵀĀW⁽²⁾, ``eq72_rel_error``: the largest
        |λ_i(M) − ¼λ_i(W⁽²⁾ᵀĀW⁽²⁾)| / (¼λ_i(W⁽²⁾ᵀĀW⁽²⁾)) over i ≤ c−1 (S140), ``mstar_rel_error``: the same
        against M* = ¼(W⁽²⁾ᵀĀW⁽²⁾ + diag(·)) of Eq. (72);
        ``mean_A_eigenvalues``: eigenvalues of the Monte Carlo Ā (decreasing), ``mean_A_null_alignment``:
        (u_cᵀ1/√c)² for its bottom eigenvector u_c (S141);
        ``z_variance``: Var(z_i) per class, ``z_mean``: E[z_i] per class, ``z_mean_predicted``:
        W⁽²⁾E[y] with the exact E[y_j] = ‖W⁽¹⁾_j‖/√(2π), ``w2_row_sums``: Σ_j W⁽²⁾_ij (Lemma 7 says → 0),
        ``z_mean_stderr``: the Monte Carlo standard error of each E[z_i] (§E17);
        and the settings n, d, c, samples, seed.
    """
    n, d, c = _check_int(n, "n"), _check_int(d, "d"), _check_int(c, "c", 2)
    samples, chunk = _check_int(samples, "samples", 2), _check_int(chunk, "chunk")
    if n < c:
        raise ValueError(f"the width n = {n} must be at least c = {c}")
    g = torch.Generator().manual_seed(int(seed))
    W1, W2 = random_two_layer_weights(d, n, c, generator=g)
    M = torch.zeros(n, n, dtype=torch.float64)
    A_sum = torch.zeros(c, c, dtype=torch.float64)
    z_sum = torch.zeros(c, dtype=torch.float64)
    z_sq = torch.zeros(c, dtype=torch.float64)
    done = 0
    while done < samples:
        b = min(chunk, samples - done)
        x = torch.randn(b, d, generator=g, dtype=torch.float64)
        pre = x @ W1.T                                  # (b, n)
        mask = (pre > 0).to(torch.float64)              # D_x = diag(1[W1 x > 0])
        z = (pre * mask) @ W2.T                         # (b, c)
        p = torch.softmax(z, dim=1)
        sq = p.sqrt()
        # Q_x = diag(√p)(I − 1pᵀ): (Q W2)_{a,:} = √p_a (W2_{a,:} − pᵀW2)
        QW = sq.unsqueeze(2) * (W2.unsqueeze(0) - (p @ W2).unsqueeze(1))   # (b, c, n)
        N = (QW * mask.unsqueeze(1)).reshape(b * c, n)
        M += N.T @ N
        A_sum += torch.diag(p.sum(0)) - p.T @ p
        z_sum += z.sum(0)
        z_sq += (z * z).sum(0)
        done += b
    M = M / samples
    M = (M + M.T) / 2
    A_bar = A_sum / samples
    evals, evecs = torch.linalg.eigh(M)
    evals, evecs = evals.flip(0), evecs.flip(1)
    top = evecs[:, : c - 1]
    predicted = predicted_output_subspace(W2)
    overlap = subspace_overlap(top, predicted)
    K = W2.T @ A_bar @ W2
    K = (K + K.T) / 2
    k_evals = torch.linalg.eigvalsh(K).flip(0)[: c - 1]
    eq72 = EQ72_FACTOR * k_evals
    rel = ((evals[: c - 1] - eq72).abs() / eq72).max()
    Mstar = EQ72_FACTOR * (K + torch.diag(torch.diagonal(K)))
    ms_evals = torch.linalg.eigvalsh(Mstar).flip(0)[: c - 1]
    rel_star = ((evals[: c - 1] - ms_evals).abs() / ms_evals).max()
    a_evals, a_evecs = torch.linalg.eigh((A_bar + A_bar.T) / 2)
    null_alignment = float(a_evecs[:, 0].sum()) ** 2 / c
    z_mean = z_sum / samples
    z_var = z_sq / samples - z_mean**2
    z_var = z_var * samples / (samples - 1)
    ey = W1.norm(dim=1) / math.sqrt(2 * math.pi)
    return {
        "n": n, "d": d, "c": c, "samples": samples, "seed": int(seed),
        "eigenvalues": evals[: 2 * c].tolist(),
        "gap_ratio": float(evals[c - 1] / evals[c - 2]),
        "overlap": float(overlap),
        "eq72_eigenvalues": eq72.tolist(),
        "eq72_rel_error": float(rel),
        "mstar_rel_error": float(rel_star),
        "mean_A_eigenvalues": a_evals.flip(0).tolist(),
        "mean_A_null_alignment": null_alignment,
        "z_variance": z_var.tolist(),
        "z_mean": z_mean.tolist(),
        "z_mean_predicted": (W2 @ ey).tolist(),
        "z_mean_stderr": (z_var / samples).sqrt().tolist(),
        "w2_row_sums": W2.sum(1).tolist(),
    }


def gap_ratio_curve(sizes: Sequence[Sequence[int]], c: int = 10, samples: int = 8000,
                    seed: int = 0) -> list[dict[str, Any]]:
    """:func:`two_layer_output_hessian` for each (n, d) of ``sizes`` (one network each, seeds
    ``seed``, ``seed + 1``, ...): λ_c/λ_{c−1} and the overlap with {W⁽²⁾ᵀv : v ⊥ 1} as the width grows
    (Theorem H.1's limit; S4, S15). The paper states no sizes; the inventory's check used (100, 400),
    (400, 800), (1000, 1000) with 8,000 inputs."""
    out = []
    for k, nd in enumerate(sizes):
        if len(nd) != 2:
            raise ValueError(f"every size must be a pair (n, d), got {nd!r}")
        out.append(two_layer_output_hessian(int(nd[0]), int(nd[1]), c, samples, seed + k))
    return out


def random_frame(m: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """A Haar-distributed orthonormal k-frame of R^m (m, k): Q of the QR of a Gaussian matrix, with
    the signs fixed by R's diagonal."""
    G = torch.randn(m, k, generator=generator, dtype=torch.float64)
    Q, R = torch.linalg.qr(G)
    return Q * torch.sign(torch.diagonal(R)).unsqueeze(0)


def random_frame_overlap(m: int, ks: Sequence[int], trials: int = 2000, seed: int = 0) -> dict[str, Any]:
    """E[Overlap(V₁, V₂)] of independent Haar-random orthonormal k-frames V₁, V₂ of R^m, for each k of
    ``ks`` (App. F.3's "expected inner product of 1/m" step, S93; closed form k/m). Returns ``ks``,
    ``mean``, ``stderr`` (standard error of the mean over ``trials``), ``expected`` (k/m)."""
    m, trials = _check_int(m, "m"), _check_int(trials, "trials", 2)
    kk = [_check_int(k, "k") for k in ks]
    if max(kk) > m:
        raise ValueError(f"every k must be ≤ m = {m}, got {ks!r}")
    g = torch.Generator().manual_seed(int(seed))
    mean, err = [], []
    for k in kk:
        vals = np.array([subspace_overlap(random_frame(m, k, g), random_frame(m, k, g), check=False)
                         for _ in range(trials)])
        mean.append(float(vals.mean()))
        err.append(float(vals.std(ddof=1) / math.sqrt(trials)))
    return {"m": m, "trials": trials, "seed": int(seed), "ks": kk, "mean": mean, "stderr": err,
            "expected": [k / m for k in kk]}


def _unit_pair(n: int, dot2: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.randn(n, generator=g, dtype=torch.float64)
    a = a / a.norm()
    e = torch.randn(n, generator=g, dtype=torch.float64)
    e = e - (e @ a) * a
    e = e / e.norm()
    cos = math.sqrt(dot2)
    return a, cos * a + math.sqrt(1 - dot2) * e


def kronecker_overlap_curve(m: int = 20, n: int = 30, dot2: float = 0.8, pairs: int = 20, *,
                            tau_ratio: float = 0.5, gamma_ratio: float = 0.1, seed: int = 0) -> dict[str, Any]:
    """Theorem F.1 on its own model: the mean top-k overlap of pairs of synthetic layer-wise Hessians
    H⁽ᵃ⁾ = E[M]⁽ᵃ⁾ ⊗ E[xxᵀ]⁽ᵃ⁾ (mn × mn), against the prediction (k/m)(t₁⁽¹⁾·t₁⁽²⁾)² for k ≤ m.

    Each model a of a pair: E[M]⁽ᵃ⁾ = R_a diag(τ) R_aᵀ with an independent Haar-random R_a (unrelated output
    neurons) and τ log-spaced from 1 to ``tau_ratio`` = τ_m/τ₁; E[xxᵀ]⁽ᵃ⁾ = t_a t_aᵀ + Σ_{i≥2} γ_i s_i s_iᵀ
    with γ₁ = 1, γ₂ = ``gamma_ratio`` (log-spaced down to γ₂/10 for the rest, s_i an orthonormal completion
    of t_a); t_1, t_2 unit vectors with (t₁·t₂)² = ``dot2``. The hypothesis τ_mγ₁ > τ₁γ₂ holds iff
    ``tau_ratio > gamma_ratio`` (recorded as ``condition``). All these are our choices (the theorem gives
    no numbers). The exact top-2m eigenspaces (``torch.linalg.eigh``, float64) give the curve for k = 1..2m.

    Returns ``ks``, ``mean`` and ``stderr`` over pairs, ``predicted`` (k ≤ m, from
    :func:`theorem_f1_overlap`), ``baseline`` k/(mn), ``condition`` (lhs, rhs, holds) and settings.
    """
    m, n, pairs = _check_int(m, "m"), _check_int(n, "n", 2), _check_int(pairs, "pairs")
    if not 0 < dot2 <= 1:
        raise ValueError(f"dot2 = (t1·t2)² must be in (0, 1], got {dot2!r}")
    g = torch.Generator().manual_seed(int(seed))
    tau = torch.logspace(0, math.log10(tau_ratio), m, dtype=torch.float64) if m > 1 else torch.ones(1, dtype=torch.float64)
    rest = torch.logspace(math.log10(gamma_ratio), math.log10(gamma_ratio / 10), n - 1, dtype=torch.float64)
    gamma = torch.cat([torch.ones(1, dtype=torch.float64), rest])
    cond = theorem_f1_condition(tau.numpy(), gamma.numpy())
    kmax = min(2 * m, m * n)
    ks = np.arange(1, kmax + 1)
    curves = []

    def model(t: torch.Tensor) -> torch.Tensor:
        R = random_frame(m, m, g)
        EM = R @ torch.diag(tau) @ R.T
        B = torch.cat([t.unsqueeze(1), torch.randn(n, n - 1, generator=g, dtype=torch.float64)], 1)
        Q, Rr = torch.linalg.qr(B)
        Q = Q * torch.sign(torch.diagonal(Rr)).unsqueeze(0)  # first column = t
        Exx = Q @ torch.diag(gamma) @ Q.T
        H = torch.kron(EM, Exx)
        _, vecs = torch.linalg.eigh((H + H.T) / 2)
        return vecs.flip(1)[:, :kmax]

    for _ in range(pairs):
        t1, t2 = _unit_pair(n, dot2, g)
        V1, V2 = model(t1), model(t2)
        C = (V1.T @ V2).pow(2)
        cum = torch.stack([C[:k, :k].sum() / k for k in ks]).numpy()
        curves.append(cum)
    arr = np.array(curves)
    return {"m": m, "n": n, "dot2": float(dot2), "pairs": pairs, "seed": int(seed), "tau_ratio": tau_ratio,
            "gamma_ratio": gamma_ratio, "ks": ks.tolist(), "mean": arr.mean(0).tolist(),
            "stderr": (arr.std(0, ddof=1) / math.sqrt(pairs) if pairs > 1 else np.zeros(len(ks))).tolist(),
            "predicted": theorem_f1_overlap(ks[ks <= m], m, *_unit_pair_fixed(dot2)).tolist(),
            "baseline": (ks / (m * n)).tolist(),
            "condition": {"lhs": cond.lhs, "rhs": cond.rhs, "holds": cond.holds}}


def _unit_pair_fixed(dot2: float) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors of R² with squared dot product ``dot2`` (theorem_f1_overlap depends on nothing else)."""
    return np.array([1.0, 0.0]), np.array([math.sqrt(dot2), math.sqrt(1 - dot2)])


_DEPS = ("hessian_spectra.structure",)
two_layer_output_hessian_cached = cached(two_layer_output_hessian, _DEPS)
gap_ratio_curve_cached = cached(gap_ratio_curve, _DEPS)
random_frame_overlap_cached = cached(random_frame_overlap, _DEPS)
kronecker_overlap_curve_cached = cached(kronecker_overlap_curve, _DEPS)
