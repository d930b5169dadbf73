"""Cached measurements of Wu et al. (2020) on the networks of :mod:`.zoo`, shared by the wu2020 notebooks.

- :func:`layer_structure`: for one layer of one trained network, the exact top-k eigenpairs of the
  layer-wise Hessian H_L(w) (Lanczos with full reorthogonalisation on the structured fully connected
  product, or on the engine's layer block for a convolution), the Kronecker factors E[M], E[x xᵀ], E[x]
  (Eqs. (6)-(7); App. A.2 for convolutions) and the top-k eigenpairs of E[M] ⊗ E[x xᵀ] (App. C);
- :func:`cross_model_overlap`: the mean pairwise overlap of the top-k eigenspaces of one layer across
  independently trained models (Def. 4.1 with the square, Figs 1a, 5, 9, 28), with the random baseline
  k/(mn) and the Theorem F.1 regime diagnostics of every model.

Everything is computed in float64 (not from the paper: its precision is not stated; float64 keeps the
Lanczos residuals far below the eigenvalue gaps of interest).
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ...data import LabelledData
from ...data import per_class as class_balanced_subset
from ...hessian import fc_layer_hessian, hessian_operator, top_eigenpairs
from ...hessian.layerwise import find_layer, layer_hessian_matrix
from ...pipeline.cache import cached
from ...structure import kronecker_factors
from ...structure.autocorrelation import autocorrelation_stats, theorem_f1_condition
from ...structure.overlap import pairwise_overlap_curve, top_singular_ratio
from ...training import TrainConfig, as_train_config
from .zoo import trained

__all__ = ["layer_structure", "cross_model_overlap", "hessian_data", "DEFAULT_TOL", "DENSE_MAX"]

DENSE_MAX = 3000
"""Layers with at most this many weights get the dense layer Hessian and eigh (ours: 3000² float64 is
72 MB; conv1, conv2 and fc3 of LeNet5 qualify, fc1 (48,000) and fc2 (10,080) use Lanczos)."""

DEFAULT_TOL = 1e-5
"""Relative Ritz residual tolerance of the exact eigenpairs: r_j <= tol * theta_1 (not from the paper; about
1e-3 theta_200 for fc1:LeNet5, the accuracy of ``benchmarks/results/structure_cpu.md``)."""


def _layer_structure(config: dict[str, Any], layer: str, k: int, epoch: Any, tol: float,
                     block_size: int, per_class: int | None, seed: int) -> dict[str, Any]:
    cfg = as_train_config(config)
    model, data, history = trained(cfg, epoch)
    model = model.double().eval()
    x, y = hessian_data(data, per_class)
    name, mod = find_layer(model, layer)
    factors = kronecker_factors(model, name, (x, y), batch_size=1000)
    D = int(mod.weight.numel())
    k_eff = min(int(k), D)
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    if D <= DENSE_MAX:
        H = layer_hessian_matrix(model, name, (x, y), batch_size=1000)
        evals, evecs = torch.linalg.eigh(H)
        evals, evecs = evals.flip(0)[:k_eff], evecs.flip(1)[:, :k_eff]
        residuals, steps, converged = np.zeros(k_eff), 0, True
        method = "dense layer Hessian (layer_hessian_matrix), eigh"
    else:
        if isinstance(mod, torch.nn.Linear):
            op = fc_layer_hessian(model, name, (x, y), batch_size=1000)
            method = "Lanczos on the structured fully connected product (fc_layer_hessian)"
        else:
            op = hessian_operator(model, F.cross_entropy, (x, y), params=[mod.weight], batch_size=1000)
            method = "Lanczos on the engine's layer block (hessian_operator, params=[weight])"
        res = top_eigenpairs(op, k_eff, tol=tol, generator=gen, block_size=block_size,
                             max_steps=min(D, 10 * k_eff + 100), progress=False)
        evals, evecs = res.eigenvalues, res.eigenvectors
        residuals, steps, converged = res.residuals, res.num_steps, res.converged
    seconds = time.perf_counter() - t0
    kron = factors.eigenpairs(k_eff)
    rec = history["records"][-1] if epoch == "final" else next(
        (r for r in history["records"] if r["epoch"] == epoch), {"train_loss": None, "train_accuracy": None})
    stats = autocorrelation_stats(factors.input_autocorrelation, factors.input_mean)
    tau = torch.linalg.eigvalsh(factors.output_hessian).flip(0)
    gamma = torch.linalg.eigvalsh(factors.input_autocorrelation).flip(0)
    return {
        "layer": layer, "module": name, "kind": factors.kind, "m": factors.m, "n": factors.n, "D": D, "k": k_eff,
        "num_samples": int(len(y)), "epoch": epoch,
        "train_loss": rec.get("train_loss"), "train_accuracy": rec.get("train_accuracy"),
        "exact_eigenvalues": evals.double().cpu().numpy(),
        "exact_eigenvectors": evecs.float().cpu().numpy(),  # float32 on disk (unit vectors)
        "residuals": np.asarray(residuals, dtype=float), "steps": int(steps), "converged": bool(converged),
        "method": method, "seconds": seconds,
        "kron_eigenvalues": kron.eigenvalues.cpu().numpy(),
        "kron_eigenvectors": kron.eigenvectors.float().cpu().numpy(),
        "kron_output_index": kron.output_index.cpu().numpy(), "kron_input_index": kron.input_index.cpu().numpy(),
        "output_hessian": factors.output_hessian.cpu().numpy(),
        "input_autocorrelation": factors.input_autocorrelation.cpu().numpy(),
        "input_mean": factors.input_mean.cpu().numpy(),
        "mean_direction": factors.mean_direction().cpu().numpy(),
        "output_hessian_eigenvalues": tau.cpu().numpy(), "input_autocorrelation_eigenvalues": gamma.cpu().numpy(),
        "mean_alignment": float(stats.mean_alignment), "spectral_ratio": float(stats.spectral_ratio),
        "factors_exact": factors.exact,
    }


_layer_structure_cached = cached(_layer_structure)


def hessian_data(data: LabelledData, per_class: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(x in float64, y) of the training set, or of a class-balanced subset of ``per_class`` images per
    class (:func:`hessian_spectra.data.per_class`, subset seed 0) when ``per_class`` is given. The zoo's
    CIFAR-10 subsets are stored class by class, so a prefix of the data would hold a few classes only."""
    if per_class is not None:
        data = class_balanced_subset(data, int(per_class), seed=0)
    return data.x.double(), data.y


def layer_structure(config: TrainConfig | Mapping[str, Any], layer: str, k: int, *, epoch: int | str = "final",
                    tol: float = DEFAULT_TOL, block_size: int = 8, per_class: int | None = None, seed: int = 0,
                    cache: bool = True) -> dict[str, Any]:
    """Exact and Kronecker-approximated top-k eigenpairs of ``layer``'s Hessian in a trained network.

    Args:
        config: a :func:`.zoo.zoo_config` (trained first if no checkpoint exists).
        layer: the paper's name (``"fc1"``, ``"conv2"``) or a module name.
        k: number of eigenpairs (at most the layer's weight count mn).
        epoch: checkpoint (``"final"`` or an entry of the config's ``save_epochs``).
        tol: relative Ritz residual of the exact pairs (default :data:`DEFAULT_TOL`, ours).
        block_size: vectors per data pass of the Lanczos run (8, ours: the structured product shares
            its per-sample factors among them).
        per_class: use a class-balanced subset of the training set with this many images per class
            (:func:`hessian_spectra.data.per_class`, subset seed 0; None: all of it, as the paper). The zoo's
            subsets are stored class by class, so a prefix would not do.
        seed: the Lanczos start vector's seed.

    Returns a dict with ``exact_eigenvalues`` (k,), ``exact_eigenvectors`` (mn, k) (row-major vec(W)),
    ``kron_eigenvalues``/``kron_eigenvectors`` (+ the factor indices a, b of each u_a ⊗ v_b), the factors
    ``output_hessian`` E[M], ``input_autocorrelation`` E[xxᵀ], ``input_mean`` E[x], their eigenvalues,
    (v₁ᵀÊ[x])² (``mean_alignment``) and λ₁/λ₂ (``spectral_ratio``) of E[xxᵀ] (Table 6), the training
    loss/accuracy at that checkpoint, residuals, steps and seconds.
    """
    cfg = as_train_config(config)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    fn = _layer_structure_cached if cache else _layer_structure
    return fn(cfg.to_dict(), layer, k, epoch, float(tol), int(block_size),
              None if per_class is None else int(per_class), int(seed))


def cross_model_overlap(results: Sequence[Mapping[str, Any]], ks: Sequence[int] | None = None) -> dict[str, Any]:
    """Mean pairwise overlap of the exact top-k eigenspaces of one layer across models (Def. 4.1 with
    the squared Frobenius norm; Figs 1a, 5, 9, 28), with std over pairs, the random baseline k/(mn), and
    per model the Theorem F.1 condition (τ_m γ₁ > τ₁ γ₂) and σ₁/‖σ‖ of the top eigenvectors.

    Args:
        results: :func:`layer_structure` outputs for the same layer of ≥ 2 independently trained models.
        ks: the k at which to evaluate (default 1..min k of the results).
    """
    if len(results) < 2:
        raise ValueError(f"cross-model overlap needs at least 2 models, got {len(results)}")
    dims = {(int(r["m"]), int(r["n"])) for r in results}
    if len(dims) != 1:
        raise ValueError(f"the results are of layers of different shapes {sorted(dims)}")
    m, n = dims.pop()
    kmax = min(int(r["k"]) for r in results)
    vecs = [torch.as_tensor(np.asarray(r["exact_eigenvectors"], dtype=np.float64))[:, :kmax] for r in results]
    curve = pairwise_overlap_curve(vecs, ks=ks)
    conditions = []
    for r in results:
        cond = theorem_f1_condition(r["output_hessian_eigenvalues"], r["input_autocorrelation_eigenvalues"])
        conditions.append({"tau_m_gamma_1": cond.lhs, "tau_1_gamma_2": cond.rhs, "holds": cond.holds})
    ratios = [top_singular_ratio(torch.as_tensor(np.asarray(r["exact_eigenvectors"], dtype=np.float64)[:, :min(kmax, m)]),
                                 m, n).numpy() for r in results]
    means = [np.asarray(r["mean_direction"], dtype=np.float64).reshape(-1) for r in results]
    pair_alignment = [float(np.dot(means[i], means[j]) ** 2) for i in range(len(means)) for j in range(i + 1, len(means))]
    return {"k": np.asarray(curve.ks), "mean": np.asarray(curve.mean), "std": np.asarray(curve.std),
            "pairs": np.asarray(curve.pairs), "random_baseline": np.asarray(curve.baseline), "m": m, "n": n, "num_models": len(results),
            "theorem_f1": conditions, "svd_ratio_top_m": [r.tolist() for r in ratios],
            "mean_direction_alignment_pairs": pair_alignment}
