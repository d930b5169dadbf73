"""G's class / cross-class decomposition on the networks of :mod:`.zoo` (Papyan 2020, §6, Figs 5, 6; cached).

- :func:`ggn_knockouts`: the C² gradient cross-class means and weights (one pass, C backward passes over
  class-sorted data), the Gram spectra of G_class, G_cross, G_{c=c'} and G_class + G_cross + G_{c=c'}, and the
  log spectra (App. C.7) of G and of its subtraction knockouts (Fig 5; Table 1's gradients row);
- :func:`ggn_panel`: one panel of Fig 6: top-C eigenvalues of G by subspace iteration, the log spectrum of the
  rank-C deflated G, the Gram eigenvalues of the low-rank part and the mean eigenvalues of the
  class-restricted within-cross-class covariances G_within,c (Hutchinson traces).

The decompositions are :mod:`hessian_spectra.structure`'s (``gradient_class_means``, ``CrossClassMoments``,
knockouts, Gram duals). Not from the paper: batch sizes, float64 class sums, Lanczos seeds.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...hessian import deflate, ggn_operator, top_eigenpairs
from ...pipeline.cache import cached
from ...structure import (
    class_ggn_traces,
    gradient_class_means,
    within_class_traces,
)
from ...training import TrainConfig, as_train_config
from .experiments import DEPENDS_ON, both_scales, checkpoint_record, top_eigen
from .zoo import trained

__all__ = ["KNOCKOUTS", "ggn_knockouts", "ggn_panel", "gram_record"]

#: Fig 5's rows: G and its subtraction knockouts of G_class, G_cross, G_within and G_{c=c'} (Eq. (6.4)).
KNOCKOUTS = ("none", "class", "cross", "within", "same_class")


def gram_record(moments: Any) -> dict[str, Any]:
    """Weights w_{c,c'}, w_c, the Gram spectra of every low-rank component and the relative size of
    Σ_{c'} w_{c,c'} g_{c,c'} (0 in exact arithmetic, fact 1) of a :class:`~hessian_spectra.structure.CrossClassMoments`."""
    ref = moments.cross_means.double().reshape(-1, moments.dim).norm(dim=1).max()
    resid = moments.mean_residual().double().norm(dim=1).max()
    return {"weights": moments.weights.double().numpy(), "class_weights": moments.class_weights.double().numpy(),
            "gram_class": moments.spectrum("class").numpy(), "gram_cross": moments.spectrum("cross").numpy(),
            "gram_same_class": moments.spectrum("same_class").numpy(),
            "gram_low_rank": moments.spectrum("low_rank").numpy(),
            "mean_residual_relative": float(resid / ref)}


def _setup(config: dict[str, Any], epoch: Any, batch_size: int) -> tuple[Any, tuple[Any, Any], int, Any, dict[str, Any]]:
    """(model, training pair, C, G over the training data, training history) of a checkpoint."""
    model, d, _, history = trained(as_train_config(config), epoch)
    pair = (d.x, d.y)
    G = ggn_operator(model.eval(), F.cross_entropy, pair, batch_size=batch_size)
    return model, pair, int(d.y.max()) + 1, G, history


def _ggn_knockouts(config: dict[str, Any], epoch: Any, steps: int, top_k: int, top_k_cross: int, seed: int,
                   batch_size: int, norm_steps: int) -> dict[str, Any]:
    model, pair, C, G, history = _setup(config, epoch, batch_size)
    t0 = time.perf_counter()
    moments = gradient_class_means(model, pair, C, batch_size, dtype=torch.float64)
    out: dict[str, Any] = {"epoch": epoch, "num_samples": len(pair[1]), "p": int(G.shape[0]), "C": C,
                           **checkpoint_record(history, epoch), **gram_record(moments)}
    # the Gram spectra above come from the float64 sums; the knockout operators run in the network's dtype
    # (C² p numbers: 11 GB in float32 for VGG11, twice that in float64)
    moments = dataclasses.replace(moments, cross_means=moments.cross_means.to(G.dtype))
    gen = torch.Generator().manual_seed(seed)
    spectra = {}
    for ko in KNOCKOUTS:
        if ko == "none":
            op = G
        elif ko == "within":  # G ⊖ G_within = G_class + G_cross + G_{c=c'} (Eq. (6.4)), exactly low rank
            op = moments.operator("low_rank")
        else:
            op = moments.knockout(G, ko)
        rec = both_scales(op, steps, 1, 3.0, gen, norm_steps)
        k = top_k_cross if ko in ("none", "cross") and top_k_cross else top_k
        if k and ko != "within":
            res = top_eigenpairs(op, int(k), which="LA", tol=1e-3, generator=gen, block_size=min(int(k), 10))
            rec.update(top=res.eigenvalues.numpy(), top_residuals=np.asarray(res.residuals))
        elif ko == "within":
            rec["top"] = out["gram_low_rank"][: max(int(top_k), int(top_k_cross))]
        spectra[ko] = rec
    out["knockouts"] = spectra
    out["seconds"] = time.perf_counter() - t0
    return out


_ggn_knockouts_cached = cached(_ggn_knockouts, DEPENDS_ON)


def ggn_knockouts(config: TrainConfig | Mapping[str, Any], *, epoch: int | str = "final", steps: int = 2048,
                  top_k: int = 11, top_k_cross: int = 91, seed: int = 0, batch_size: int = 500,
                  norm_steps: int = 32, deflation: str = "subspace", cache: bool = True) -> dict[str, Any]:
    """Fig 5: the log spectra (App. C.7; M = ``steps``, the paper's 2048) of G and of the subtraction
    knockouts G ⊖ G_class, G ⊖ G_cross, G ⊖ G_within (= G_class + G_cross + G_{c=c'}, exactly low rank) and
    G ⊖ G_{c=c'} (Eq. (6.4), Def. 3.1), on the training data; the Gram spectra of every low-rank component
    (``gram_class``, ``gram_cross``, ``gram_same_class``, ``gram_low_rank``) and the weights w_{c,c'}; the top
    ``top_k`` eigenvalues of each knockout (``top_k_cross`` for G and G ⊖ G_cross: the gap at k = C(C − 1)) by
    Lanczos with reorthogonalisation (relative residual 1e-3). ``mean_residual_relative`` is
    max_c ‖Σ_{c'} w_{c,c'} g_{c,c'}‖ / max ‖g_{c,c'}‖ (exactly 0 in exact arithmetic, fact 1)."""
    cfg = as_train_config(config)
    fn = _ggn_knockouts_cached if cache else _ggn_knockouts
    return fn(cfg.to_dict(), epoch, int(steps), int(top_k), int(top_k_cross), int(seed), int(batch_size), int(norm_steps))


def _ggn_panel(config: dict[str, Any], epoch: Any, si_iters: int, steps: int, probes: int, seed: int,
               batch_size: int, norm_steps: int, deflation: str) -> dict[str, Any]:
    model, pair, C, G, history = _setup(config, epoch, batch_size)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    eig = top_eigen(G, C, deflation, si_iters, gen)
    rec = both_scales(deflate(G, eig.eigenvalues, eig.eigenvectors), steps, 1, 3.0, gen, norm_steps)
    moments = gradient_class_means(model, pair, C, batch_size, dtype=torch.float64)
    T = class_ggn_traces(model, pair, int(probes), C, batch_size, generator=gen)
    within = within_class_traces(moments, T).numpy()
    counts = moments.class_counts.numpy()
    # the mean non-zero eigenvalue of G_within,c: its trace over its rank bound n_c (C − 1) (Fig 6's red dots;
    # the caption's "(1/N) Tr" is garbled, inventory 001 §E9: ours)
    red = within / (counts * (C - 1))
    out = {"epoch": epoch, "num_samples": len(pair[1]), "per_class": int(counts[0]), "p": int(G.shape[0]), "C": C,
           **checkpoint_record(history, epoch), "top_eigenvalues": eig.eigenvalues.numpy(), "top_residuals": np.asarray(eig.residuals),
           "within_traces": within, "class_traces": T.numpy(), "within_mean_eigenvalue": red,
           **gram_record(moments), **rec}
    out["seconds"] = time.perf_counter() - t0
    return out


_ggn_panel_cached = cached(_ggn_panel, DEPENDS_ON)


def ggn_panel(config: TrainConfig | Mapping[str, Any], *, epoch: int | str = "final", si_iters: int = 128,
              steps: int = 2048, probes: int = 8, seed: int = 0, batch_size: int = 500,
              norm_steps: int = 32, deflation: str = "subspace", cache: bool = True) -> dict[str, Any]:
    """One panel of Fig 6 (§6.2) on the training data of ``config`` at ``epoch``: ``top_eigenvalues`` of G
    (SubspaceIteration(G, C, T), or Lanczos with ``deflation="lanczos"``: :func:`.experiments.top_eigen`), the log spectrum of the rank-C deflated G (``log``; M = ``steps``), the Gram
    eigenvalues of G_class + G_cross + G_{c=c'} (``gram_low_rank``: top C yellow, next C² − 2C green, last C
    teal), Tr G_within,c (``within_traces``, from Hutchinson traces of each class's G with ``probes``
    Rademacher probes, :func:`~hessian_spectra.structure.class_ggn_traces`) and the red dots
    ``within_mean_eigenvalue`` = Tr G_within,c / (n_c (C − 1)) (ours, see the code comment)."""
    cfg = as_train_config(config)
    fn = _ggn_panel_cached if cache else _ggn_panel
    return fn(cfg.to_dict(), epoch, int(si_iters), int(steps), int(probes), int(seed), int(batch_size), int(norm_steps),
              str(deflation))


