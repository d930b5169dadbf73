"""Cached spectral computations of Papyan (2020) on the networks of :mod:`.zoo`, shared by its notebooks.

- :func:`hessian_spectrum`: the spectrum of the train or test Hessian, of G (the Gauss-Newton matrix, the
  paper's FIM) or of E = Hess − G (Eqs. (5.1)-(5.2)) by the paper's pipeline (App. C, D.2): optional
  LowRankDeflation (SubspaceIteration(A, C, T), Algorithm 5), NORMALIZATION(M0 = 32, τ = 0.05) and
  LANCZOSAPPROXSPEC(M, K = 1024, n_vec, κ = 3), on a linear scale and, from the same Lanczos nodes, on the
  log scale of App. C.7 (Figs 3, 4, 14, 16, 17);
- :func:`ggn_knockouts`: the C² gradient cross-class means and weights (one pass, C backward passes over
  class-sorted data), the Gram spectra of G_class, G_cross, G_{c=c'} and G_class + G_cross + G_{c=c'}, and
  the log spectra of G and of its subtraction knockouts (Fig 5, Table 1's gradients row);
- :func:`ggn_panel`: one panel of Fig 6: top-C eigenvalues of G by subspace iteration, the log spectrum of
  the rank-C deflated G, the Gram eigenvalues of the low-rank part and the mean eigenvalues of the
  class-restricted within-cross-class covariances G_within,c (Hutchinson traces);
- :func:`layer_structure`: per hidden layer of the MLP, the spectra of the features H^l, the backpropagated
  errors Δ^l and the weights W^l with their class / cross-class parts and projection knockouts (Figs 7-10,
  13), the spectra of G^l, G^l_KFAC and G^l_CFAC (Figs 11-12), and the Khatri-Rao check of Fig 2.

Every function is cached on disk (:func:`hessian_spectra.pipeline.cache.cached`) by its arguments, its code
and the library's code, and returns plain numpy arrays. Not from the paper: batch sizes (they only bound
memory), float32 products for the networks (float64 for the class sums and the layer statistics), the
Lanczos seeds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...hessian import (
    ApproxSpectrum,
    approx_spec_from_slq,
    deflate,
    ggn_operator,
    hessian_operator,
    lanczos_approx_spec,
    residual_operator,
    subspace_iteration,
    top_eigenpairs,
)
from ...hessian.layerwise import fc_layer_hessian
from ...pipeline.cache import cached
from ...structure import (
    class_ggn_traces,
    gradient_class_means,
    layer_class_statistics,
    projection_knockout,
    within_class_traces,
)
from ...training import TrainConfig, as_train_config
from ...data import per_class as class_balanced_subset
from .zoo import trained

__all__ = [
    "LOG_KAPPA",
    "MATRICES",
    "ggn_knockouts",
    "ggn_panel",
    "hessian_spectrum",
    "layer_structure",
    "histogram_l1",
    "power_law_fit",
    "sign_split",
    "sign_symmetry_ks",
    "spectrum_arrays",
]

MATRICES: tuple[str, ...] = ("hessian", "ggn", "residual")
#: κ of the log spectra: App. D.2 says "a different value" without giving it; the author's code uses
#: 1.25 everywhere (inventory 001 §E10 [ext]).
LOG_KAPPA = 1.25
_EPS = 1e-5  # ε of log(|λ| + ε): Fig 6's caption ("log(G + 10⁻⁵ I)")


def spectrum_arrays(spec: ApproxSpectrum) -> dict[str, Any]:
    """The plotted arrays of an :class:`~hessian_spectra.hessian.ApproxSpectrum` (grid, density, the log grid
    and density for a log spectrum, σ and the normalisation (c, d))."""
    out = {"grid": np.asarray(spec.grid), "density": np.asarray(spec.density), "sigma": float(spec.sigma),
           "center": float(spec.center), "half_width": float(spec.half_width)}
    if spec.grid_log is not None:
        out["grid_log"] = np.asarray(spec.grid_log)
        out["density_log"] = np.asarray(spec.density_log)
    return out


def _both_scales(op: Any, steps: int, num_vectors: int, kappa: float, gen: torch.Generator) -> dict[str, Any]:
    """LANCZOSAPPROXSPEC on the linear scale (κ = ``kappa``) and, from the same nodes and normalisation, on
    the log scale (App. C.7, κ = :data:`LOG_KAPPA`, ε = 1e-5), plus the Lanczos nodes and weights."""
    lin = lanczos_approx_spec(op, steps, 1024, num_vectors, kappa, generator=gen)
    bounds = (lin.center - lin.half_width, lin.center + lin.half_width)
    log = approx_spec_from_slq(lin.slq, 1024, LOG_KAPPA, bounds=bounds, log_scale=True, epsilon=_EPS)
    return {"linear": spectrum_arrays(lin), "log": spectrum_arrays(log), "nodes": lin.slq.nodes,
            "weights": lin.slq.weights, "node_min": float(lin.slq.nodes.min()), "node_max": float(lin.slq.nodes.max())}


def _split(model_data: tuple, split: str) -> Any:
    _, train_d, test_d, _ = model_data
    if split == "train":
        return train_d
    if split == "test":
        if test_d is None:
            raise ValueError("this configuration prepares no test split")
        return test_d
    raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def _operator(matrix: str, model: nn.Module, pair: tuple[torch.Tensor, torch.Tensor], batch_size: int) -> Any:
    if matrix == "hessian":
        return hessian_operator(model, F.cross_entropy, pair, batch_size=batch_size)
    if matrix == "ggn":
        return ggn_operator(model, F.cross_entropy, pair, batch_size=batch_size)
    if matrix == "residual":
        return residual_operator(model, F.cross_entropy, pair, batch_size=batch_size)
    raise ValueError(f"matrix must be one of {MATRICES}, got {matrix!r}")


def _record(history: Mapping[str, Any], epoch: Any) -> dict[str, Any]:
    recs = history["records"]
    rec = recs[-1] if epoch == "final" else next((r for r in recs if r["epoch"] == epoch), {})
    return {k: rec.get(k) for k in ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")}


def _hessian_spectrum(config: dict[str, Any], split: str, matrix: str, epoch: Any, deflate_k: int, si_iters: int,
                      steps: int, num_vectors: int, kappa: float, top_k: int, seed: int,
                      batch_size: int) -> dict[str, Any]:
    md = trained(as_train_config(config), epoch)
    model = md[0].eval()
    d = _split(md, split)
    pair = (d.x, d.y)
    op = _operator(matrix, model, pair, batch_size)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    out: dict[str, Any] = {"matrix": matrix, "split": split, "epoch": epoch, "num_samples": int(len(d.y)),
                           "p": int(op.shape[0]), "deflate_k": int(deflate_k), **_record(md[3], epoch)}
    target = op
    if deflate_k:
        eig = subspace_iteration(op, int(deflate_k), int(si_iters), generator=gen)
        out.update(top_eigenvalues=eig.eigenvalues.numpy(), top_residuals=np.asarray(eig.residuals),
                   si_iters=int(si_iters))
        target = deflate(op, eig.eigenvalues, eig.eigenvectors)
    out.update(_both_scales(target, steps, num_vectors, kappa, gen))
    if top_k:
        res = top_eigenpairs(op, int(top_k), which="LA", tol=1e-4, generator=gen, block_size=min(int(top_k), 8))
        out.update(lanczos_top=res.eigenvalues.numpy(), lanczos_top_residuals=np.asarray(res.residuals),
                   lanczos_top_products=int(res.num_steps))
    out["seconds"] = time.perf_counter() - t0
    return out


_hessian_spectrum_cached = cached(_hessian_spectrum)


def hessian_spectrum(config: TrainConfig | Mapping[str, Any], *, split: str = "train", matrix: str = "hessian",
                     epoch: int | str = "final", deflate_k: int = 10, si_iters: int = 128, steps: int = 128,
                     num_vectors: int = 1, kappa: float = 3.0, top_k: int = 0, seed: int = 0,
                     batch_size: int = 500, cache: bool = True) -> dict[str, Any]:
    """The spectrum of ``matrix`` (``hessian``, ``ggn`` = G or ``residual`` = E = Hess − G) of a trained
    network over its training or test data (App. C, D.2; module docstring).

    Args:
        config: a :func:`.zoo.zoo_config` (trained first if needed).
        split: ``train`` (the paper's train Hessian) or ``test`` (averaged over the test examples, §4.1).
        epoch: checkpoint, ``"final"`` or one of the config's ``save_epochs``.
        deflate_k: C for LowRankDeflation by SubspaceIteration (0: none, Fig 14; the paper deflates Hess and
            G, not E, Fig 4).
        si_iters: T of SubspaceIteration (App. D.2: 128).
        steps: M of LanczosApproxSpec (App. D.2: 128 or 256 linear, 2048 log); the log spectrum is computed
            from the same nodes.
        num_vectors: n_vec (App. D.2: 1).
        kappa: κ of the linear spectrum (App. D.2: 3).
        top_k: also the top-k eigenvalues of the (undeflated) operator by Lanczos with full
            reorthogonalisation (relative residual 1e-4; for E, whose spectrum subspace iteration cannot
            order by sign).

    Returns a dict with ``top_eigenvalues`` (SubspaceIteration's Rayleigh-Ritz values, descending) and their
    residuals, ``linear`` / ``log`` spectra (:func:`spectrum_arrays`), the Lanczos ``nodes`` and ``weights``
    (``node_max``: the largest Ritz value, the bulk's upper edge after deflation), ``lanczos_top`` (with
    ``top_k``), the training record of the checkpoint, ``p`` and ``num_samples``.
    """
    cfg = as_train_config(config)
    if matrix not in MATRICES:
        raise ValueError(f"matrix must be one of {MATRICES}, got {matrix!r}")
    fn = _hessian_spectrum_cached if cache else _hessian_spectrum
    return fn(cfg.to_dict(), split, matrix, epoch, int(deflate_k), int(si_iters), int(steps), int(num_vectors),
              float(kappa), int(top_k), int(seed), int(batch_size))


# ---------------------------------------------------------------------------------------------
# G: class / cross-class decomposition (Figs 5, 6)

_KNOCKOUTS = ("none", "class", "cross", "within", "same_class")


def _gram_record(moments: Any) -> dict[str, Any]:
    ref = moments.cross_means.double().reshape(-1, moments.dim).norm(dim=1).max()
    resid = moments.mean_residual().double().norm(dim=1).max()
    return {"weights": moments.weights.double().numpy(), "class_weights": moments.class_weights.double().numpy(),
            "gram_class": moments.spectrum("class").numpy(), "gram_cross": moments.spectrum("cross").numpy(),
            "gram_same_class": moments.spectrum("same_class").numpy(),
            "gram_low_rank": moments.spectrum("low_rank").numpy(),
            "mean_residual_relative": float(resid / ref)}


def _ggn_knockouts(config: dict[str, Any], epoch: Any, steps: int, top_k: int, top_k_cross: int, seed: int,
                   batch_size: int) -> dict[str, Any]:
    md = trained(as_train_config(config), epoch)
    model = md[0].eval()
    d = md[1]
    pair = (d.x, d.y)
    C = int(d.y.max()) + 1
    G = ggn_operator(model, F.cross_entropy, pair, batch_size=batch_size)
    t0 = time.perf_counter()
    moments = gradient_class_means(model, pair, C, batch_size, dtype=torch.float64)
    out: dict[str, Any] = {"epoch": epoch, "num_samples": int(len(d.y)), "p": int(G.shape[0]), "C": C,
                           **_record(md[3], epoch), **_gram_record(moments)}
    gen = torch.Generator().manual_seed(seed)
    spectra = {}
    for ko in _KNOCKOUTS:
        if ko == "none":
            op = G
        elif ko == "within":  # G ⊖ G_within = G_class + G_cross + G_{c=c'} (Eq. (6.4)), exactly low rank
            op = moments.operator("low_rank")
        else:
            op = moments.knockout(G, ko)
        if op.dtype != G.dtype:
            op = _cast(op, G.dtype)
        rec = _both_scales(op, steps, 1, 3.0, gen)
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


def _cast(op: Any, dtype: torch.dtype) -> Any:
    """A low-rank operator or knockout built from float64 class sums, cast to the network's dtype."""
    from ...structure import LowRankOperator
    from ...hessian.base import LinearCombination

    if isinstance(op, LowRankOperator):
        return LowRankOperator(op.vectors.to(dtype), op.weights.to(dtype))
    if isinstance(op, LinearCombination):
        return LinearCombination([_cast(o, dtype) for o in op.operators], op.coefficients)
    return op


_ggn_knockouts_cached = cached(_ggn_knockouts)


def ggn_knockouts(config: TrainConfig | Mapping[str, Any], *, epoch: int | str = "final", steps: int = 2048,
                  top_k: int = 11, top_k_cross: int = 91, seed: int = 0, batch_size: int = 500,
                  cache: bool = True) -> dict[str, Any]:
    """Fig 5: the log spectra (App. C.7; M = ``steps``, the paper's 2048) of G and of the subtraction
    knockouts G ⊖ G_class, G ⊖ G_cross, G ⊖ G_within (= G_class + G_cross + G_{c=c'}, exactly low rank) and
    G ⊖ G_{c=c'} (Eq. (6.4), Def. 3.1), on the training data; the Gram spectra of every low-rank component
    (``gram_class``, ``gram_cross``, ``gram_same_class``, ``gram_low_rank``) and the weights w_{c,c'}; the top
    ``top_k`` eigenvalues of each knockout (``top_k_cross`` for G and G ⊖ G_cross: the gap at k = C(C − 1)) by
    Lanczos with reorthogonalisation (relative residual 1e-3). ``mean_residual_relative`` is
    max_c ‖Σ_{c'} w_{c,c'} g_{c,c'}‖ / max ‖g_{c,c'}‖ (exactly 0 in exact arithmetic, fact 1)."""
    cfg = as_train_config(config)
    fn = _ggn_knockouts_cached if cache else _ggn_knockouts
    return fn(cfg.to_dict(), epoch, int(steps), int(top_k), int(top_k_cross), int(seed), int(batch_size))


def _ggn_panel(config: dict[str, Any], epoch: Any, si_iters: int, steps: int, probes: int, seed: int,
               batch_size: int) -> dict[str, Any]:
    md = trained(as_train_config(config), epoch)
    model = md[0].eval()
    d = md[1]
    pair = (d.x, d.y)
    C = int(d.y.max()) + 1
    G = ggn_operator(model, F.cross_entropy, pair, batch_size=batch_size)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    eig = subspace_iteration(G, C, int(si_iters), generator=gen)
    rec = _both_scales(deflate(G, eig.eigenvalues, eig.eigenvectors), steps, 1, 3.0, gen)
    moments = gradient_class_means(model, pair, C, batch_size, dtype=torch.float64)
    T = class_ggn_traces(model, pair, int(probes), C, batch_size, generator=gen)
    within = within_class_traces(moments, T).numpy()
    counts = moments.class_counts.numpy()
    # the mean non-zero eigenvalue of G_within,c: its trace over its rank bound n_c (C − 1) (Fig 6's red dots;
    # the caption's "(1/N) Tr" is garbled, inventory 001 §E9: ours)
    red = within / (counts * (C - 1))
    out = {"epoch": epoch, "num_samples": int(len(d.y)), "per_class": int(counts[0]), "p": int(G.shape[0]), "C": C,
           **_record(md[3], epoch), "top_eigenvalues": eig.eigenvalues.numpy(), "top_residuals": np.asarray(eig.residuals),
           "within_traces": within, "class_traces": T.numpy(), "within_mean_eigenvalue": red,
           **_gram_record(moments), **rec}
    out["seconds"] = time.perf_counter() - t0
    return out


_ggn_panel_cached = cached(_ggn_panel)


def ggn_panel(config: TrainConfig | Mapping[str, Any], *, epoch: int | str = "final", si_iters: int = 128,
              steps: int = 2048, probes: int = 8, seed: int = 0, batch_size: int = 500,
              cache: bool = True) -> dict[str, Any]:
    """One panel of Fig 6 (§6.2) on the training data of ``config`` at ``epoch``: ``top_eigenvalues`` of G
    (SubspaceIteration(G, C, T)), the log spectrum of the rank-C deflated G (``log``; M = ``steps``), the Gram
    eigenvalues of G_class + G_cross + G_{c=c'} (``gram_low_rank``: top C yellow, next C² − 2C green, last C
    teal), Tr G_within,c (``within_traces``, from Hutchinson traces of each class's G with ``probes``
    Rademacher probes, :func:`~hessian_spectra.structure.class_ggn_traces`) and the red dots
    ``within_mean_eigenvalue`` = Tr G_within,c / (n_c (C − 1)) (ours, see the code comment)."""
    cfg = as_train_config(config)
    fn = _ggn_panel_cached if cache else _ggn_panel
    return fn(cfg.to_dict(), epoch, int(si_iters), int(steps), int(probes), int(seed), int(batch_size))


# ---------------------------------------------------------------------------------------------
# MLP layers (Figs 2, 7-13)


def _eigh_desc(M: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    M = M.double()
    lam, vec = torch.linalg.eigh((M + M.T) / 2)
    return lam.flip(0).numpy(), vec.flip(1).numpy()


def _eigvals(M: torch.Tensor) -> np.ndarray:
    return _eigh_desc(M)[0]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return float(abs(a @ b) / den) if den > 0 else float("nan")


def _linear_names(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]


def _param_slices(model: nn.Module) -> dict[str, slice]:
    out, start = {}, 0
    for n, p in model.named_parameters():
        if p.requires_grad:
            out[n] = slice(start, start + p.numel())
            start += p.numel()
    return out


def _layer_structure(config: dict[str, Any], weight_decay: float, gl_per_class: int, gl_top_k: int, gl_steps: int,
                     seed: int, batch_size: int) -> dict[str, Any]:
    cfg = as_train_config(config)
    model, d, _, history = trained(cfg, "final")
    model = model.double().eval()
    pair = (d.x.double(), d.y)
    C = int(d.y.max()) + 1
    names = _linear_names(model)
    t0 = time.perf_counter()
    stats = layer_class_statistics(model, names, pair, C, batch_size, dtype=torch.float64)
    layers = []
    for l, name in enumerate(names[:-1], start=1):  # hidden layers l = 1..L: z^l = W^l h^{l-1}
        rec: dict[str, Any] = {"layer": l, "module": name}
        # features h^l (post-BN-ReLU): the input of the next Linear (§7.4)
        fm = stats[names[l]].features
        H, Hc = fm.total(), fm.class_part()
        lam_H, vec_H = _eigh_desc(H)
        rec["H"] = lam_H
        rec["H_class"] = _eigvals(Hc)[:C]
        rec["H_knockout"] = _eigvals(projection_knockout(H, Hc))
        rec["H_top_global_cosine"] = _cos(vec_H[:, 0], fm.global_mean.numpy())
        rec["H_global_norm2"] = float(fm.global_mean.double().pow(2).sum())
        # backpropagated errors δ^l (§7.7) at the output of Linear l
        em = stats[name].errors
        D, Dc, Dx = em.dense("total"), em.dense("class"), em.dense("cross")
        lam_D, vec_D = _eigh_desc(D)
        rec["Delta"] = lam_D
        rec["Delta_class"] = _eigvals(Dc)[:C]
        rec["Delta_class_cross"] = _eigvals(Dc + Dx)[: C * (C - 1)]
        rec["Delta_knockout_class"] = _eigvals(projection_knockout(D, Dc))
        rec["Delta_knockout_class_cross"] = _eigvals(projection_knockout(D, Dc + Dx))
        dG = em.class_means.double().mean(0).numpy()
        rec["Delta_top_global_cosine"] = _cos(vec_D[:, 0], dG)
        # weights W^l and W^l_class (§7.13)
        st = stats[name]
        W = st.weight
        Wc = st.weight_class(weight_decay)
        rec["W_singular"] = torch.linalg.svdvals(W).numpy()
        rec["W_knockout_singular"] = torch.linalg.svdvals(projection_knockout(W, Wc)).numpy()
        rec["W_class_singular"] = torch.linalg.svdvals(Wc).numpy()[:C]
        rec["stationarity_gap"] = st.stationarity_gap(weight_decay)
        layers.append(rec)
    # Fig 2's Khatri-Rao companion: g^l_{c,c'} vs δ^l_{c,c'} ⊗ h^{l-1}_c and g^l_c vs δ^l_c ⊗ h^{l-1}_c
    gm = gradient_class_means(model, pair, C, batch_size, dtype=torch.float64)
    slices = _param_slices(model)
    kr = []
    for l, name in enumerate(names, start=1):
        sl = slices[f"{name}.weight"]
        g_cc = gm.cross_means[:, :, sl].numpy()             # (C, C, m n) row-major δ ⊗ h
        g_c = gm.class_means[:, sl].numpy()
        em, hm = stats[name].errors, stats[name].features.class_means.numpy()
        dcc, dc = em.cross_means.numpy(), em.class_means.numpy()
        cross_cos = [_cos(g_cc[c, k], np.outer(dcc[c, k], hm[c])) for c in range(C) for k in range(C) if k != c]
        class_cos = [_cos(g_c[c], np.outer(dc[c], hm[c])) for c in range(C)]
        kr.append({"layer": l, "module": name, "class_cosines": np.asarray(class_cos),
                   "cross_cosines": np.asarray(cross_cos)})
    # G^l, KFAC and CFAC (Figs 11-12) on a class-balanced subset
    sub = class_balanced_subset(d, int(gl_per_class), seed=0) if gl_per_class else d
    spair = (sub.x.double(), sub.y)
    sstats = layer_class_statistics(model, names[:-1], spair, C, batch_size, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    gl = []
    for l, name in enumerate(names[:-1], start=1):
        st = sstats[name]
        op = fc_layer_hessian(model, name, spair, batch_size)
        kfac_eigs = np.sort(np.outer(_eigvals(st.error_moment()), _eigvals(st.features.total())).ravel())[::-1]
        cfac = st.cfac_operator()
        k = min(int(gl_top_k), op.shape[0] - 1)
        top_g = top_eigenpairs(op, k, which="LA", tol=1e-3, generator=gen, block_size=10)
        top_cf = top_eigenpairs(cfac, k, which="LA", tol=1e-3, generator=gen, block_size=10)
        spec_g = lanczos_approx_spec(op, int(gl_steps), 1024, 1, 3.0, generator=gen)
        spec_cf = lanczos_approx_spec(cfac, int(gl_steps), 1024, 1, 3.0, generator=gen)
        gl.append({"layer": l, "module": name, "dim": int(op.shape[0]), "G_top": top_g.eigenvalues.numpy(),
                   "CFAC_top": top_cf.eigenvalues.numpy(), "KFAC_top": kfac_eigs[:k], "KFAC_all": kfac_eigs,
                   "G_spectrum": spectrum_arrays(spec_g), "CFAC_spectrum": spectrum_arrays(spec_cf)})
    rec = history["records"][-1]
    return {"C": C, "num_samples": int(len(d.y)), "gl_num_samples": int(len(sub.y)), "weight_decay": weight_decay,
            "train_loss": rec.get("train_loss"), "train_accuracy": rec.get("train_accuracy"),
            "test_accuracy": rec.get("test_accuracy"), "layers": layers, "khatri_rao": kr, "gl": gl,
            "seconds": time.perf_counter() - t0}


_layer_structure_cached = cached(_layer_structure)


def layer_structure(config: TrainConfig | Mapping[str, Any], *, gl_per_class: int | None = None, gl_top_k: int = 90,
                    gl_steps: int = 128, seed: int = 0, batch_size: int = 500, cache: bool = True) -> dict[str, Any]:
    """Per hidden layer l = 1..L of a trained MLP (§7; module docstring), in float64:

    - ``layers[l-1]``: eigenvalues (descending) of the features' second moment H^l (``H``), of H^l_class
      (``H_class``, C), of the projection knockout H^l ⫽ H^l_class (``H_knockout``); of the errors' Δ^l
      (``Delta``), Δ^l_class (C), Δ^l_class + Δ^l_cross (C(C − 1)), Δ^l ⫽ Δ^l_class and
      Δ^l ⫽ (Δ^l_class + Δ^l_cross); the singular values of W^l, of W^l ⫽ W^l_class and of W^l_class; the
      cosine of the top eigenvector of H^l (Δ^l) with the global mean h_G (δ_G); ‖W + (1/η) Ave δhᵀ‖/‖W‖;
    - ``khatri_rao[l-1]``: |cos| between g^l_c and δ^l_c ⊗ h^{l−1}_c, and between g^l_{c,c'} and
      δ^l_{c,c'} ⊗ h^{l−1}_c (Fig 2, §7.12) for every Linear layer (the classifier included);
    - ``gl[l-1]``: the top ``gl_top_k`` (the paper's C(C − 1) outliers) eigenvalues of G^l (the exact layer
      block, which equals the Hessian block for this piecewise-linear network), of G^l_CFAC (Lanczos) and of
      G^l_KFAC (exact: products of the factors' eigenvalues), and LanczosApproxSpec densities of G^l and
      G^l_CFAC (M = ``gl_steps``), on ``gl_per_class`` examples per class (None: all).

    The weight decay η of the §7.13 stationarity is the configuration's."""
    cfg = as_train_config(config)
    fn = _layer_structure_cached if cache else _layer_structure
    return fn(cfg.to_dict(), float(cfg.weight_decay), int(gl_per_class or 0), int(gl_top_k), int(gl_steps),
              int(seed), int(batch_size))


# ---------------------------------------------------------------------------------------------
# Comparisons of densities (Figs 15, 16, 17)


def histogram_l1(values: Any, grid: Any, density: Any, bins: int = 100,
                 value_range: tuple[float, float] | None = None) -> dict[str, Any]:
    """Σ_bins |mass of the density − fraction of ``values``| over ``bins`` equal bins of ``value_range``
    (default: the values' range): the distance between a LanczosApproxSpec density and the histogram of
    the exact eigenvalues that Fig 15 draws under it (0 = equal bin masses, 2 = disjoint). The density is
    integrated over each bin by the trapezoid rule on its own grid (its mass outside the range is lost)."""
    v = np.asarray(values, dtype=float).ravel()
    lo, hi = value_range if value_range is not None else (float(v.min()), float(v.max()))
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(v, edges)
    frac = counts / v.size
    g, d = np.asarray(grid, dtype=float), np.asarray(density, dtype=float)
    fine = np.linspace(lo, hi, 20 * bins + 1)
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(fine) * (np.interp(fine[1:], g, d, 0, 0)
                                                            + np.interp(fine[:-1], g, d, 0, 0)) / 2)])
    mass = np.diff(np.interp(edges, fine, cdf))
    return {"l1": float(np.abs(mass - frac).sum()), "edges": edges, "hist": frac, "mass": mass}


def power_law_fit(grid: Any, density: Any, lo: float, hi: float) -> dict[str, float]:
    """Least-squares line of log10 φ on log10 |λ| over lo ≤ |λ| ≤ hi (Fig 16's "power law trend on part of the
    spectrum"; the range is not stated: the caller's): φ ≈ prefactor |λ|^exponent, with R²."""
    g, d = np.abs(np.asarray(grid, dtype=float)), np.asarray(density, dtype=float)
    keep = (g >= lo) & (g <= hi) & (d > 0)
    if keep.sum() < 3:
        return {"exponent": float("nan"), "prefactor": float("nan"), "r2": float("nan"), "lo": lo, "hi": hi}
    x, y = np.log10(g[keep]), np.log10(d[keep])
    slope, icpt = np.polyfit(x, y, 1)
    res = y - (slope * x + icpt)
    r2 = 1 - float(res @ res) / float(((y - y.mean()) ** 2).sum())
    return {"exponent": float(slope), "prefactor": float(10 ** icpt), "r2": r2, "lo": float(lo), "hi": float(hi)}


def sign_split(grid: Any, density: Any) -> dict[str, np.ndarray]:
    """Fig 16a: the density of λ > 0 and of |λ| for λ < 0 on a common |λ| grid (both per unit λ)."""
    g, d = np.asarray(grid, dtype=float), np.asarray(density, dtype=float)
    pos = g > 0
    a = g[pos]
    neg = np.interp(-a, g, d, 0, 0)
    return {"abs_grid": a, "positive": d[pos], "negative": neg}


def sign_symmetry_ks(nodes: Any, weights: Any, floor: float = 0.0) -> float:
    """Kolmogorov-Smirnov distance between the SLQ measures of λ > floor and of |λ| for λ < −floor, each
    normalised (Fig 16a's symmetry of E about the origin)."""
    n, w = np.asarray(nodes, dtype=float).ravel(), np.asarray(weights, dtype=float).ravel()
    pos, neg = n > floor, n < -floor
    if not pos.any() or not neg.any():
        return 1.0
    xs = np.sort(np.abs(n[pos | neg]))

    def cdf(vals: np.ndarray, ws: np.ndarray) -> np.ndarray:
        o = np.argsort(vals)
        c = np.cumsum(ws[o]) / ws.sum()
        return np.interp(xs, vals[o], c, 0, 1)

    return float(np.max(np.abs(cdf(n[pos], w[pos]) - cdf(-n[neg], w[neg]))))
