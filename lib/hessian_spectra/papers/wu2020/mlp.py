"""Measurements of Wu et al. (2020) on the fully connected networks trained on MNIST (Figs 2, 8, 20, 21, 24;
notebook ``notebooks/wu2020/mlp_kronecker.ipynb``).

- :func:`fnet_config`: F-w^d networks beside the zoo's F-200^2 (Fig 8's F-200^4, F-600^4, F-600^8 or their
  width-reduced stand-ins), trained exactly as :func:`.zoo.zoo_config` trains F-200^2 (same data, optimiser,
  learning rate, initialisation) except for the widths and the number of epochs;
- :func:`full_hessian_comparison` (cached): exact top-k eigenpairs of the full Hessian (all weights and
  biases, H-term included) against App. B's approximation from the full output Hessian (Eqs. (44)-(51)),
  and the top eigenpairs of the G-term (the Gauss-Newton part, Eq. (43)) against the full Hessian;
- :func:`logit_gradient_means`: the class-conditional logit gradients Γ_{i,j}, Δ_{i,j} of App. F.1
  (Eqs. (53)-(54)) with E[Q] and E[M]; :func:`logit_centre_approximation`: Γ̃_j, Δ̃_j of Eq. (57);
  :func:`clustering_analysis` (cached): everything Figs 20-21 show, with silhouette scores
  (scikit-learn's ``silhouette_score``, Euclidean, in the full space) and t-SNE maps of the c² members
  (:func:`tsne_map`, scikit-learn's ``TSNE``, as the paper following Papyan 2019);
- :func:`gap_position`: where the largest ratio of consecutive eigenvalues is (the "c − 1 outliers").

All Hessian quantities in float64 (the paper states no precision).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from torch import Tensor, nn

from ...hessian import ggn_operator, hessian_operator, top_eigenpairs
from ...hessian.layerwise import find_layer, iter_layer_factors, softmax_hessian_root
from ...pipeline.cache import cached
from ...structure.full_hessian import approximate_full_hessian_eigenpairs, full_output_hessian
from ...structure.output_subspace import layer_weight_product
from ...structure.overlap import overlap_curve
from ...training import TrainConfig, as_train_config
from .experiments import hessian_data
from .zoo import trained, zoo_config

__all__ = [
    "fnet_config", "full_hessian_comparison", "logit_gradient_means", "logit_centre_approximation",
    "tsne_map", "gap_position", "clustering_analysis", "cosine_rows",
]


# ------------------------------------------------------------------------------------------------
# F-w^d networks (Fig 8)


def fnet_config(widths: Sequence[int], profile: str, seed: int = 0, *, epochs: int | None = None) -> TrainConfig:
    """F-w^d on MNIST: the zoo's F-200^2 configuration at ``profile`` (data subset, SGD batch 128, lr,
    Xavier initialisation, inputs) with hidden ``widths`` instead of [200, 200] (smoke: [32, 32], 7×7
    inputs) and ``epochs`` epochs (default: the zoo's), checkpoints at 0 and the end."""
    widths = [int(w) for w in widths]
    if not widths or any(w < 1 for w in widths):
        raise ValueError(f"widths must be a non-empty list of positive integers, got {widths!r}")
    base = zoo_config("f200", profile, seed)
    kwargs = dict(base.model_kwargs)
    kwargs["widths"] = widths
    e = base.epochs if epochs is None else int(epochs)
    if e < 1:
        raise ValueError(f"epochs must be positive, got {epochs!r}")
    return dataclasses.replace(base, model_kwargs=kwargs, epochs=e, save_epochs=(0, e))


# ------------------------------------------------------------------------------------------------
# Full Hessian vs App. B (Figs 2c-d, 8) and vs the G-term (S37)


def _full_hessian_comparison(config: dict[str, Any], epoch: Any, k: int, per_class: int | None,
                             gterm_k: int, tol: float, block_size: int, seed: int) -> dict[str, Any]:
    cfg = as_train_config(config)
    model, data, history = trained(cfg, epoch)
    model = model.double().eval()
    x, y = hessian_data(data, per_class)
    P = sum(p.numel() for p in model.parameters())
    k = min(int(k), P)
    t0 = time.perf_counter()
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=1000)
    gen = torch.Generator().manual_seed(seed)
    res = top_eigenpairs(op, k, tol=tol, generator=gen, block_size=block_size,
                         max_steps=min(P, 8 * k + 100), progress=False)
    t_exact = time.perf_counter() - t0
    U = res.eigenvectors.double()
    t0 = time.perf_counter()
    full = full_output_hessian(model, (x, y), batch_size=1000)
    kk = min(k, sum(full.sizes))
    approx = approximate_full_hessian_eigenpairs(full, kk)
    t_approx = time.perf_counter() - t0
    curve = overlap_curve(U[:, :kk], approx.basis)
    # single-vector agreement (v_iᵀ v̂_i)² of the i-th pairs
    dots = ((U[:, :kk] * approx.eigenvectors).sum(0) ** 2).numpy()
    out: dict[str, Any] = {
        "num_parameters": int(P), "num_samples": int(len(y)), "k": int(kk), "epoch": epoch,
        "widths": list(cfg.model_kwargs.get("widths", [])),
        "train_loss": history["records"][-1]["train_loss"] if epoch == "final" else None,
        "train_accuracy": history["records"][-1]["train_accuracy"] if epoch == "final" else None,
        "exact_eigenvalues": res.eigenvalues.double().numpy()[:kk],
        "exact_residuals": np.asarray(res.residuals, dtype=float)[:kk], "exact_steps": int(res.num_steps),
        "exact_converged": bool(res.converged),
        "approx_eigenvalues": approx.eigenvalues.numpy(),  # in the order of σ_i (Eq. (51))
        "output_eigenvalues": approx.output_eigenvalues.numpy(),
        "output_hessian_size": int(sum(full.sizes)),
        "overlap": curve, "pair_dot2": dots,
        "seconds_exact": t_exact, "seconds_approx": t_approx,
    }
    if gterm_k:
        gk = min(int(gterm_k), kk)
        t0 = time.perf_counter()
        gop = ggn_operator(model, F.cross_entropy, (x, y), batch_size=1000)
        gres = top_eigenpairs(gop, gk, tol=tol, generator=torch.Generator().manual_seed(seed + 1),
                              block_size=block_size, max_steps=min(P, 8 * gk + 100), progress=False)
        out["gterm_eigenvalues"] = gres.eigenvalues.double().numpy()
        out["gterm_overlap"] = overlap_curve(U[:, :gk], gres.eigenvectors.double())
        out["gterm_converged"] = bool(gres.converged)
        out["seconds_gterm"] = time.perf_counter() - t0
    return out


_full_hessian_comparison_cached = cached(_full_hessian_comparison)


def full_hessian_comparison(config: TrainConfig | Mapping[str, Any], k: int, *, epoch: int | str = "final",
                            per_class: int | None = None, gterm_k: int = 0, tol: float = 1e-5,
                            block_size: int = 8, seed: int = 0, cache: bool = True) -> dict[str, Any]:
    """Exact top-k eigenpairs of the full Hessian H_L(θ) (every weight and bias, H-term included;
    Lanczos with full reorthogonalisation on Hessian-vector products) against App. B's approximation
    (Eqs. (49)-(51) from the full output Hessian E[M̄] with extended inputs x̄ = (x; 1)).

    Args:
        config: a trained configuration (:func:`.zoo.zoo_config` or :func:`fnet_config`).
        k: eigenpairs (the paper: 25 in Fig 2, 50 in Fig 8); capped at Σm for the approximation.
        epoch, per_class: checkpoint, and a class-balanced subset of ``per_class`` training images per class
            (:func:`.experiments.hessian_data`; None: all, as the paper).
        gterm_k: also the top ``gterm_k`` eigenpairs of the G-term E[F_xᵀA_xF_x] (the Gauss-Newton
            matrix, Eq. (43)) and their overlap with the exact ones (0: skip).
        tol: relative Ritz residual tolerance (ours, not the paper's).
        block_size, seed: block Lanczos width and start-block seed.

    Returns a dict with ``exact_eigenvalues`` (k,), ``approx_eigenvalues`` (k,) σ_i‖w_i‖² in the order of
    σ_i, ``overlap`` (k,) Overlap(exact top-j, Gram-Schmidt span{w_1..w_j}) for j = 1..k, ``pair_dot2``
    (v_iᵀŵ_i)², and with ``gterm_k``: ``gterm_eigenvalues``, ``gterm_overlap``; plus sizes and timings.
    """
    cfg = as_train_config(config)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    fn = _full_hessian_comparison_cached if cache else _full_hessian_comparison
    return fn(cfg.to_dict(), epoch, int(k), per_class, int(gterm_k), float(tol), int(block_size), int(seed))


# ------------------------------------------------------------------------------------------------
# Logit gradients (App. F.1, Figs 20-21)


def logit_gradient_means(model: nn.Module, data: Any, layer: nn.Module | str, num_classes: int | None = None,
                         batch_size: int | None = None, *, with_delta: bool = True,
                         dtype: torch.dtype = torch.float64) -> dict[str, Any]:
    """Class-conditional means of the logit gradients of ``layer`` (an ``nn.Linear``) (Wu et al. 2020,
    App. F.1, Eqs. (53)-(54)):

        Γ_{i,j} = E[(Q_x ∂z/∂z⁽ᵖ⁾)_{j,:} | y = i] ∈ R^m,   Δ_{i,j} = E[(Q_x ∂z/∂w⁽ᵖ⁾)_{j,:} | y = i] ∈ R^{mn},

    with Q_x = diag(√p)(I − 1pᵀ) (Eq. (28)); (Q_x ∂z/∂w)_{j,:} = (Q_x G_x)_{j,:} ⊗ xᵀ (row-major vec of
    the (m, n) weight, ∂z⁽ᵖ⁾/∂w = I_m ⊗ xᵀ).

    Returns ``gamma`` (c, c, m) and ``delta`` (c, c, mn) indexed [class i, logit j], ``counts`` (c,)
    samples per class, ``mean_Q`` E[Q_x] (c, c), ``output_hessian`` E[M] = E[N_xᵀN_x] (m, m),
    ``input_mean`` E[x] (n,), all over the whole of ``data``.
    """
    name, mod = find_layer(model, layer)
    if not isinstance(mod, nn.Linear):
        raise ValueError(f"layer {name!r} is a {type(mod).__name__}; App. F.1 is written for fully connected layers")
    m, n = mod.out_features, mod.in_features
    sums_G = sums_D = sum_Q = sum_M = sum_x = None
    counts = None
    total = 0
    if hasattr(data, "x") and hasattr(data, "y"):
        data = (data.x, data.y)
    x_all, y_all = data
    k = int(num_classes) if num_classes is not None else None  # classes (rows i); the logits c are columns j
    bs = batch_size or len(y_all)
    for start in range(0, len(y_all), bs):
        xb, yb = x_all[start:start + bs], y_all[start:start + bs]
        for batch in iter_layer_factors(model, [name], (xb, yb), None):
            N = batch.roots[name].to(dtype)  # (B, c, m)
            X = batch.inputs[name].to(dtype)  # (B, n)
            c = int(N.shape[1])
            if k is None:
                k = c
            onehot = F.one_hot(yb.to(N.device).long(), k).to(dtype)  # (B, classes)
            G = torch.einsum("bi,bjm->ijm", onehot, N)
            Q = softmax_hessian_root(batch.logits.to(dtype)).sum(0)
            M = torch.einsum("bja,bjc->ac", N, N)
            if with_delta:
                D = torch.einsum("bi,bjm,bn->ijmn", onehot, N, X).reshape(k, c, m * n)
            cnt = onehot.sum(0)
            if sums_G is None:
                sums_G, sum_Q, sum_M, sum_x, counts = G, Q, M, X.sum(0), cnt
                sums_D = D if with_delta else None
            else:
                sums_G, sum_Q, sum_M, sum_x, counts = sums_G + G, sum_Q + Q, sum_M + M, sum_x + X.sum(0), counts + cnt
                if with_delta:
                    sums_D = sums_D + D
            total += batch.num_samples
    if sums_G is None or total == 0:
        raise ValueError("data yielded no samples")
    if bool((counts == 0).any()):
        raise ValueError(f"classes {torch.nonzero(counts == 0).flatten().tolist()} have no samples: their "
                         "class-conditional means are undefined")
    out = {"gamma": sums_G / counts.view(-1, 1, 1), "counts": counts, "mean_Q": sum_Q / total,
           "output_hessian": sum_M / total, "input_mean": sum_x / total, "num_samples": total}
    if with_delta:
        out["delta"] = sums_D / counts.view(-1, 1, 1)
    return out


def logit_centre_approximation(model: nn.Module, layer: nn.Module | str, mean_Q: Tensor,
                               input_mean: Tensor) -> tuple[Tensor, Tensor]:
    """Γ̃ (c, m) and Δ̃ (c, mn) of Eq. (57): Γ̃_j = row j of E[Q]·S⁽ᵖ⁾ with S⁽ᵖ⁾ = W⁽ᴸ⁾⋯W⁽ᵖ⁺¹⁾ (I_c for the
    last layer), Δ̃_j = Γ̃_j ⊗ E[x] (inventory 000 §E16's reading of the ambiguous Eq. (57): E[Q] in both,
    row index j; the ReLU masks are dropped, which changes the scale, not the direction, when they are
    independent of everything else)."""
    S = layer_weight_product(model, layer).to(mean_Q.dtype)
    gt = mean_Q @ S
    dt = (gt.unsqueeze(2) * input_mean.to(mean_Q.dtype).view(1, 1, -1)).reshape(gt.shape[0], -1)
    return gt, dt


def cosine_rows(A: Tensor | np.ndarray, B: Tensor | np.ndarray) -> np.ndarray:
    """cos(A_j, B_j) for each row j (zero rows give NaN)."""
    A = np.asarray(A, dtype=np.float64).reshape(len(A), -1)
    B = np.asarray(B, dtype=np.float64).reshape(len(B), -1)
    num = (A * B).sum(1)
    den = np.linalg.norm(A, axis=1) * np.linalg.norm(B, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def tsne_map(X: Tensor | np.ndarray, perplexity: float, seed: int = 0) -> np.ndarray:
    """2-D t-SNE coordinates (N, 2) of the rows of X (van der Maaten & Hinton 2008) with scikit-learn's
    ``TSNE``: Euclidean distances, exact gradients (``method="exact"``; the maps have c² = 100 points),
    PCA initialisation, ``learning_rate="auto"``, scikit-learn's defaults otherwise (at most 1000
    iterations, early exaggeration 12), ``random_state=seed``. The paper states none of its t-SNE
    settings. Deterministic: the same X, perplexity and seed give bit-identical coordinates (with the
    exact method and PCA initialisation the seed only enters the randomized SVD of the initialisation).
    Needs perplexity < N."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", method="exact",
                random_state=seed)
    return tsne.fit_transform(X).astype(np.float64)


def gap_position(eigenvalues: Sequence[float] | np.ndarray, top: int = 20) -> int:
    """k (1-based) maximising λ_k/λ_{k+1} over k = 1 … top−1 (eigenvalues sorted descending): the number of
    outliers before the largest relative drop. Non-positive λ_{k+1} count as an infinite ratio."""
    ev = np.sort(np.asarray(eigenvalues, dtype=np.float64))[::-1][:top]
    if len(ev) < 2:
        raise ValueError("need at least two eigenvalues")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(ev[1:] > 0, ev[:-1] / ev[1:], np.inf)
    return int(np.argmax(ratios)) + 1


def _clustering_analysis(config: dict[str, Any], layer: str, epoch: Any, per_class: int | None,
                         seed: int) -> dict[str, Any]:
    cfg = as_train_config(config)
    model, data, _ = trained(cfg, epoch)
    model = model.double().eval()
    x, y = hessian_data(data, per_class)
    t0 = time.perf_counter()
    lg = logit_gradient_means(model, (x, y), layer, batch_size=500)
    gamma, delta = lg["gamma"], lg["delta"]  # [class i, logit j]
    c = gamma.shape[0]
    gt, dt = logit_centre_approximation(model, layer, lg["mean_Q"], lg["input_mean"])
    cls = np.repeat(np.arange(c), c)  # row (i, j) → class i
    logit = np.tile(np.arange(c), c)  # → logit j
    G2, D2 = gamma.reshape(c * c, -1).numpy(), delta.reshape(c * c, -1).numpy()
    tau = torch.linalg.eigvalsh(lg["output_hessian"]).flip(0).numpy()
    out: dict[str, Any] = {
        "layer": layer, "epoch": epoch, "num_samples": int(lg["num_samples"]), "c": int(c),
        "output_hessian_eigenvalues": tau, "counts": lg["counts"].numpy(),
        "silhouette": {
            "gamma_by_logit": float(silhouette_score(G2, logit, metric="euclidean")),
            "gamma_by_class": float(silhouette_score(G2, cls, metric="euclidean")),
            "delta_by_logit": float(silhouette_score(D2, logit, metric="euclidean")),
            "delta_by_class": float(silhouette_score(D2, cls, metric="euclidean"))},
        "cos_gamma_centre_vs_eq57": cosine_rows(gamma.mean(0), gt),  # logit centres Γ_j vs Γ̃_j
        "cos_delta_centre_vs_eq57": cosine_rows(delta.mean(0), dt),
        "labels_class": cls, "labels_logit": logit, "tsne_perplexity": float(c), "tsne_seed": int(seed),
    }
    for key, pts in (("gamma", G2), ("delta", D2)):
        out[f"{key}_tsne"] = tsne_map(pts, perplexity=float(c), seed=seed)  # (c², 2), row (i, j) as labels_*
    out["seconds"] = time.perf_counter() - t0
    return out


_clustering_analysis_cached = cached(_clustering_analysis)


def clustering_analysis(config: TrainConfig | Mapping[str, Any], layer: str = "fc1", *, epoch: int | str = "final",
                        per_class: int | None = None, seed: int = 0, cache: bool = True) -> dict[str, Any]:
    """Figs 20-21 (App F.1) for one checkpoint: Γ_{i,j}, Δ_{i,j} (:func:`logit_gradient_means`), their
    silhouette scores grouped by logit j and by class i (scikit-learn, Euclidean, in the full space R^m for
    Γ and R^(mn) for Δ), cos(logit centre Γ_j, Γ̃_j of Eq. (57)) (same for Δ), the eigenvalues of E[M], and
    2-D t-SNE maps of the c² members (:func:`tsne_map` with perplexity c, i.e. 10 for MNIST: each logit or
    class group has c members; ``random_state=seed``; the paper states no t-SNE settings).

    t-SNE places only the points it is fitted on, so the logit centres Γ_j, the class centres Γ_i and Eq.
    (57)'s Γ̃_j are not on the maps (the mean of a group's map coordinates is no embedding of its centre,
    and where a grouping is weak those means all fall near the middle of the map): the centres enter only
    through the silhouette scores and the cosines, computed in the full space."""
    cfg = as_train_config(config)
    fn = _clustering_analysis_cached if cache else _clustering_analysis
    return fn(cfg.to_dict(), layer, epoch, per_class, seed)


def init_output_hessian_eigenvalues(config: TrainConfig | Mapping[str, Any], init: str, layer: str = "fc1", *,
                                    per_class: int | None = None) -> np.ndarray:
    """Eigenvalues (descending) of E[M] of ``layer`` for the network of ``config`` freshly initialised
    with ``init`` (a :data:`hessian_spectra.models.INITIALIZATIONS` scheme; the model is built after
    ``torch.manual_seed(config.seed)``), on the config's training data: the initialisation-dependence of
    Fig 20a's scale (App. D.2 names both PyTorch's default and Xavier, inventory §E11)."""
    from ...models import build_model
    from ...structure import kronecker_factors
    from ...training import prepare_data

    cfg = as_train_config(config)
    kwargs = dict(cfg.model_kwargs)
    kwargs["init"] = init
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, **kwargs).double().eval()
    data, _ = prepare_data(cfg.data)
    x, y = hessian_data(data, per_class)
    factors = kronecker_factors(model, layer, (x, y), batch_size=1000)
    return torch.linalg.eigvalsh(factors.output_hessian).flip(0).numpy()


__all__ += ["init_output_hessian_eigenvalues"]
