"""Closed forms and synthetic models of Papyan (2020): Lemma 8.1 / Theorem 8.1 (the expected Fisher of
multinomial logistic regression on a Gaussian class mixture, §8, App. B), the three-level class /
cross-class model behind the schematic of Fig 1 (§1.6, Defs. 1.5-1.12), and the synthetic matrices of
Fig 15 (App. C.5).

**Theorem 8.1.** Multinomial logistic regression f(x) = W x, θ = vec(W) (columns stacked, so
∂f/∂θᵀ = x ⊗ I_C), trained on the canonical classification model CCM(D, C): x_{i,c} = t e_c + z_{i,c},
z ~ N(0, I_D), with symmetric probabilities p_{i,c,c} = 1 − α, p_{i,c,c'} = α/(C − 1) (Def. 8.2). Then
G = Ave_{i,c} (x xᵀ) ⊗ U_c with U_c = diag(p_{·,c}) − p_{·,c} p_{·,cᵀ} (§8.1), and (Lemma 8.1)

    E G = (s/C) blkdiag(U_1, …, U_C, 0_{DC−C²}) + I_D ⊗ Ū,     s = t²,  Ū = Ave_c U_c,

whose spectrum is (Theorem 8.1), with K = 2 − αC/(C − 1),

    α/(C−1) (s(1−α) + K)   × C            (the C outliers)
    α/(C−1) (s/C + K)      × C(C−2)       (the mini-bulk; the theorem's range C < i ≤ C(C−1))
    α/(C−1) K              × (D−C)(C−1)   (the bulk)
    0                      × D.

:func:`theorem_8_1_spectrum` is the closed form, :func:`expected_fisher` the matrix of Lemma 8.1 built
entry by entry, :func:`empirical_fisher` the sampled G of §8.1 (Monte Carlo check of both, and the Fig 1
companion with softmax probabilities of a trained classifier).

Errata found on the way (inventory 001 §E14): Lemma B.2 mixes the symbols c and e for one entry of B; the
theorem's statement is right.

**Fig 1, three-level model (ours).** The paper's schematic (C = 4: one isolated outlier, C − 1 outliers,
a C(C − 1) mini-bulk, the main bulk) is drawn from an array with exactly the structure of Defs. 1.5-1.12:
v_{i,c,c'} = μ_G + μ_c + ν_{c,c'} + z_{i,c,c'} with a global mean μ_G, class means μ_c, cross-class
deviations ν_{c,c'} and within-cross-class noise z (random Gaussian directions, magnitudes ours). Its
second moment V = Ave v vᵀ splits into the second moment of the global mean (Def. 1.9, 1 outlier), the
between-class part (Def. 1.10, C − 1 more), the between-cross-class covariance (Def. 1.11, C(C − 1)) and
the within-cross-class covariance (Def. 1.12, the bulk). The MLR Fisher of Theorem 8.1 with a
global-mean offset, the inventory's first suggestion, gives C − 1 top outliers instead of one (the error
class means of MLR sum to zero, so h_G ⊗ δ_c spans C − 1 directions; measured and recorded in the Fig 1
notebook).

**Fig 15.** (a) Y = X + (1/2000) Z Zᵀ, X = diag(5, 4, 3, 0, …), Z ∈ R^{2000×2000} standard normal: a
Marchenko-Pastur bulk of ratio 1 on [0, 4] and outliers at θ + θ/(θ − 1) (BBP, ≈ 6.25, 5.33, 4.5). (b) The
printed Y = (1/1000) Z Zᵀ ∈ R^{1000×1000} with Z ∈ R^{500×1000} is dimensionally inconsistent (Z Zᵀ is
500 × 500; inventory 001 §E11); we keep the printed formula and the printed Z (Y = ZZᵀ/1000, 500 × 500,
full rank; the 1000 × 1000 reading ZᵀZ/1000 has rank 500 and is an option) with Z_ij i.i.d. classical
Pareto of index 1, P(Z > z) = 1/z for z ≥ 1 (numpy's ``pareto`` is the Lomax form, 1 + it is classical;
the paper states no convention).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "bbp_outliers",
    "ccm_sample",
    "empirical_fisher",
    "expected_fisher",
    "fig15_pareto_matrix",
    "fig15_spiked_wishart",
    "fisher_levels",
    "softmax_mlr_fisher",
    "symmetric_probabilities",
    "theorem_8_1_spectrum",
    "three_level_model",
]


def _check_dc(D: int, C: int) -> None:
    if not (isinstance(C, (int, np.integer)) and C >= 2):
        raise ValueError(f"C must be an integer >= 2, got {C!r}")
    if not (isinstance(D, (int, np.integer)) and D >= C):
        raise ValueError(f"D must be an integer >= C = {C} (canonical class means e_c in R^D), got {D!r}")


def _check_alpha(alpha: float, C: int) -> None:
    if not 0.0 <= alpha <= 1.0 - 1.0 / C:
        raise ValueError(f"alpha must satisfy 1/C <= 1 - alpha <= 1 (Def. 8.2), i.e. 0 <= alpha <= {1 - 1 / C:.4g}; "
                         f"got {alpha!r}")


def symmetric_probabilities(C: int, alpha: float) -> np.ndarray:
    """(C, C) matrix P[c, c'] = p_{·,c,c'}: 1 − α on the diagonal, α/(C − 1) elsewhere (Def. 8.2)."""
    _check_alpha(alpha, C)
    P = np.full((C, C), alpha / (C - 1))
    np.fill_diagonal(P, 1.0 - alpha)
    return P


def _U(p: np.ndarray) -> np.ndarray:
    return np.diag(p) - np.outer(p, p)


def expected_fisher(D: int, C: int, t: float, alpha: float) -> np.ndarray:
    """E G of Lemma 8.1 ((DC) × (DC), θ = vec(W) with columns stacked): E G = Ave_c E[x xᵀ | c] ⊗ U_c with
    E[x xᵀ | c] = t² e_c e_cᵀ + I_D, i.e. (s/C) blkdiag(U_1, …, U_C, 0) + I ⊗ Ū."""
    _check_dc(D, C)
    P = symmetric_probabilities(C, alpha)
    out = np.zeros((D * C, D * C))
    for c in range(C):
        second = np.eye(D)
        second[c, c] += t * t
        out += np.kron(second, _U(P[c]))
    return out / C


def theorem_8_1_spectrum(D: int, C: int, t: float, alpha: float) -> np.ndarray:
    """The DC eigenvalues of E G, descending (Theorem 8.1; module docstring)."""
    _check_dc(D, C)
    _check_alpha(alpha, C)
    s = t * t
    K = 2.0 - alpha * C / (C - 1)
    a = alpha / (C - 1)
    levels = [(a * (s * (1 - alpha) + K), C), (a * (s / C + K), C * (C - 2)), (a * K, (D - C) * (C - 1)), (0.0, D)]
    return np.sort(np.concatenate([np.full(m, v) for v, m in levels]))[::-1]


def fisher_levels(D: int, C: int, t: float, alpha: float) -> dict[str, Any]:
    """The four levels of Theorem 8.1 with their multiplicities and the ratios the paper calls predictive of
    misclassification (outliers / mini-bulk, outliers / bulk, mini-bulk / bulk)."""
    s, K, a = t * t, 2.0 - alpha * C / (C - 1), alpha / (C - 1)
    top, mini, bulk = a * (s * (1 - alpha) + K), a * (s / C + K), a * K
    return {"outliers": top, "mini_bulk": mini, "bulk": bulk, "multiplicities": [C, C * (C - 2), (D - C) * (C - 1), D],
            "outliers_over_mini_bulk": top / mini, "outliers_over_bulk": top / bulk, "mini_bulk_over_bulk": mini / bulk}


def ccm_sample(D: int, C: int, n: int, t: float, *, offset: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(x (nC, D), labels (nC,)) from CCM(D, C) (Def. 8.1): x_{i,c} = t e_c + z_{i,c}, z ~ N(0, I_D), classes in
    blocks; ``offset`` m adds a global mean m e_D (ours, for the Fig 1 companion; e_D ⟂ every e_c when
    D > C)."""
    _check_dc(D, C)
    if offset and D == C:
        raise ValueError("a global-mean offset along e_D needs D > C")
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(C), n)
    x = rng.standard_normal((n * C, D))
    x[np.arange(n * C), labels] += t
    if offset:
        x[:, D - 1] += offset
    return x, labels


def empirical_fisher(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """G = Ave_i (x_i x_iᵀ) ⊗ (diag p_i − p_i p_iᵀ) (§8.1; θ = vec(W) with columns stacked) for inputs ``x``
    (N, D) and probabilities ``probs`` (N, C), computed as R Rᵀ/N with the factor x_i ⊗ Q_iᵀ, Q_iᵀQ_i = U_i."""
    x = np.asarray(x, dtype=float)
    probs = np.asarray(probs, dtype=float)
    if x.ndim != 2 or probs.ndim != 2 or probs.shape[0] != x.shape[0]:
        raise ValueError(f"x must be (N, D) and probs (N, C) with the same N, got {x.shape} and {probs.shape}")
    N, D = x.shape
    C = probs.shape[1]
    # U_i = Q_iᵀ Q_i with Q_i = diag(√p_i)(I − 1 p_iᵀ)
    Q = np.sqrt(probs)[:, :, None] * (np.eye(C)[None] - probs[:, None, :])  # (N, C, C)
    R = np.einsum("nd,nkc->ndck", x, Q).reshape(N, D * C, C)  # columns: x_i ⊗ (row k of Q_i)
    R = R.transpose(1, 0, 2).reshape(D * C, N * C)
    return R @ R.T / N


def softmax_mlr_fisher(x: np.ndarray, labels: np.ndarray, C: int, *, steps: int = 300, lr: float = 0.5,
                       weight_decay: float = 1e-3) -> dict[str, Any]:
    """Train f(x) = W x (no bias, as §8.1) by full-batch gradient descent on the cross-entropy plus
    (weight_decay)‖W‖² (settings ours; the paper trains no model in §8) and return its softmax
    probabilities, training error and the empirical G with those probabilities."""
    x = np.asarray(x, dtype=float)
    labels = np.asarray(labels)
    N, D = x.shape
    W = np.zeros((C, D))
    Y = np.eye(C)[labels]
    for _ in range(int(steps)):
        z = x @ W.T
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        W -= lr * ((p - Y).T @ x / N + 2 * weight_decay * W)
    z = x @ W.T
    z -= z.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    return {"weights": W, "probs": p, "train_error": float((p.argmax(1) != labels).mean()),
            "fisher": empirical_fisher(x, p)}


def three_level_model(D: int, C: int, n: int, *, global_norm: float, class_norm: float, cross_norm: float,
                      noise: float, seed: int = 0) -> dict[str, np.ndarray]:
    """The class / cross-class array v_{i,c,c'} = μ_G + μ_c + ν_{c,c'} + z_{i,c,c'} of Fig 1 (module docstring):
    μ_G, μ_c, ν_{c,c'} are Gaussian directions of norms ≈ ``global_norm``, ``class_norm``, ``cross_norm``,
    z ~ N(0, noise² I_D / D). Returns the eigenvalues (descending) of the second moment V = Ave v vᵀ
    (Def. 1.8) and of its parts: the global mean v_G v_Gᵀ (Def. 1.9), the between-class second moment
    Ave_c v_c v_cᵀ (Def. 1.10; ``class_centred``: the between-class covariance Ave_c (v_c − v_G)(v_c − v_G)ᵀ of
    §1.11, the C − 1 outliers), the between-cross-class covariance Ave z_{c,c'} z_{c,c'}ᵀ (Def. 1.11) and the
    within-cross-class covariance (Def. 1.12), all from the sample (unweighted averages)."""
    _check_dc(D, C)
    rng = np.random.default_rng(seed)
    g = lambda *shape: rng.standard_normal(shape) / np.sqrt(D)
    v = (global_norm * g(D) + class_norm * g(C, D)[None, :, None, :] + cross_norm * g(C, C, D)[None]
         + noise * g(n, C, C, D))
    flat = v.reshape(-1, D)
    V = flat.T @ flat / flat.shape[0]
    cross_means = v.mean(0)                 # v_{c,c'} (Def. 1.5)
    class_means = cross_means.mean(1)       # v_c (Def. 1.6)
    glob = class_means.mean(0)              # v_G (Def. 1.7)
    z_cross = cross_means - class_means[:, None, :]
    z_within = v - cross_means[None]
    eig = lambda M: np.sort(np.linalg.eigvalsh((M + M.T) / 2))[::-1]
    return {
        "total": eig(V),
        "global": eig(np.outer(glob, glob)),
        "class": eig(class_means.T @ class_means / C),
        "class_centred": eig((class_means - glob).T @ (class_means - glob) / C),
        "cross": eig(z_cross.reshape(-1, D).T @ z_cross.reshape(-1, D) / (C * C)),
        "within": eig(z_within.reshape(-1, D).T @ z_within.reshape(-1, D) / flat.shape[0]),
    }


def fig15_spiked_wishart(p: int = 2000, spikes: tuple[float, ...] = (5.0, 4.0, 3.0), seed: int = 0) -> np.ndarray:
    """Fig 15a: Y = X + (1/p) Z Zᵀ with X = diag(spikes, 0, …) and Z ∈ R^{p×p} standard normal (App. C.5)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((p, p))
    Y = Z @ Z.T / p
    Y[np.arange(len(spikes)), np.arange(len(spikes))] += np.asarray(spikes)
    return (Y + Y.T) / 2


def bbp_outliers(spikes: tuple[float, ...] = (5.0, 4.0, 3.0), ratio: float = 1.0) -> np.ndarray:
    """Limits of the outliers of X + Wishart(ratio) for spikes θ > √ratio: θ + ratio·θ/(θ − 1) (BBP transition for
    an additive perturbation of a Marchenko-Pastur matrix of ratio 1: θ + θ/(θ − 1); inventory 001 Fig 15 [checked])."""
    th = np.asarray(spikes, dtype=float)
    return th + ratio * th / (th - 1.0)


def fig15_pareto_matrix(rows: int = 500, cols: int = 1000, index: float = 1.0, *, reading: str = "zzt",
                        seed: int = 0) -> np.ndarray:
    """Fig 15b: Z ∈ R^{rows×cols} i.i.d. classical Pareto(index) (module docstring) and ``reading`` ``"zzt"``:
    Y = Z Zᵀ/cols, the printed formula with the printed Z (rows × rows = 500 × 500, full rank; default), or
    ``"ztz"``: Y = ZᵀZ/cols (cols × cols = the printed 1000 × 1000, rank ``rows``: half of its eigenvalues are
    0, which log(|λ| + ε) sends to log ε). The printed "Y ∈ R^{1000×1000}" fits neither with the printed Z
    (inventory 001 §E11); the default keeps the formula and Z, which two of the three statements agree on."""
    if reading not in ("zzt", "ztz"):
        raise ValueError(f"reading must be 'zzt' or 'ztz', got {reading!r}")
    rng = np.random.default_rng(seed)
    Z = 1.0 + rng.pareto(index, size=(rows, cols))
    Y = Z @ Z.T / cols if reading == "zzt" else Z.T @ Z / cols
    return (Y + Y.T) / 2
