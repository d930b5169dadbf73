"""The class structure of the MLP's layers (Papyan 2020, §7, Figs 2, 7-13; cached): per hidden layer the spectra of
the features H^l, the backpropagated errors Δ^l and the weights W^l with their class / cross-class parts and
projection knockouts, the spectra of G^l, G^l_KFAC and G^l_CFAC, and the Khatri-Rao check of Fig 2
(:func:`layer_structure`), and the errors' knockouts alone of a wider MLP (:func:`error_knockouts`: Fig 9b needs a
layer wider than 2 C(C − 1)). The statistics themselves are :mod:`hessian_spectra.structure`'s
(``layer_class_statistics``, ``gradient_class_means``, ``projection_knockout``) and the exact layer block of G
the engine's (``fc_layer_hessian``: for this piecewise-linear network with BN in eval mode, the layer's Hessian
block equals its Gauss-Newton block). Everything in float64.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from ...data import per_class as class_balanced_subset
from ...hessian import lanczos_approx_spec, top_eigenpairs
from ...hessian.base import CurvatureOperator
from ...hessian.layerwise import fc_layer_hessian
from ...pipeline.cache import cached
from ...structure import (
    gradient_class_means,
    layer_class_statistics,
    projection_knockout,
)
from ...training import TrainConfig, as_train_config
from .experiments import DEPENDS_ON, spectrum_arrays
from .zoo import trained

__all__ = ["error_knockouts", "layer_structure"]

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


class _FactoredCFAC(CurvatureOperator):
    """G^l_CFAC = Σ_c π_c Δ_c ⊗ H_c with each H_c = F_c F_cᵀ given by a factor of rank r_c ≤ n_c (row-major
    vec(X): X ↦ Σ_c π_c Δ_c X F_c F_cᵀ). The same matrix as ``LayerClassStatistics.cfac_operator()``; a product
    costs 4 m n r_c per class instead of 2 m n² (the input layer of the CIFAR-10 MLP: n = 3072, r_c ≤ 100)."""

    def __init__(self, weights: list[float], errors: list[torch.Tensor], factors: list[torch.Tensor]) -> None:
        self.terms = list(zip(weights, errors, factors))
        self.m, self.n = int(errors[0].shape[0]), int(factors[0].shape[0])
        self.shape = (self.m * self.n, self.m * self.n)
        self.dtype, self.device = errors[0].dtype, errors[0].device

    def _matmat(self, V: torch.Tensor) -> torch.Tensor:
        k = V.shape[1]
        X = V.T.reshape(k, self.m, self.n)
        out = sum(w * (D @ ((X @ Fc) @ Fc.T)) for w, D, Fc in self.terms)
        return out.reshape(k, -1).T  # type: ignore[union-attr]


def _cfac(st: Any) -> CurvatureOperator:
    """CFAC of one layer's statistics, with the feature factors in low-rank form when the layer's input is wider
    than the class's sample count (exact: H_c's rank is at most n_c)."""
    H = st.features.class_second_moments
    n, counts = H.shape[1], st.features.class_counts
    if int(counts.max()) >= n:
        return st.cfac_operator()
    D = st.errors.class_conditional_moments()
    pi = st.features.class_proportions
    factors = []
    for c in range(H.shape[0]):
        lam, vec = torch.linalg.eigh((H[c] + H[c].T) / 2)
        keep = lam > 1e-12 * lam.max()
        factors.append(vec[:, keep] * lam[keep].sqrt())
    return _FactoredCFAC([float(pi[c]) for c in range(H.shape[0])], [D[c] for c in range(H.shape[0])], factors)


def _error_spectra(em: Any, C: int) -> dict[str, Any]:
    """Eigenvalues (descending) of Δ^l, Δ^l_class (C), Δ^l_class + Δ^l_cross (C(C − 1)) and of the projection
    knockouts Δ^l ⫽ Δ^l_class and Δ^l ⫽ (Δ^l_class + Δ^l_cross), and |cos| of Δ^l's top eigenvector with δ_G, from
    one layer's error statistics ``em``."""
    D, Dc, Dx = em.dense("total"), em.dense("class"), em.dense("cross")
    lam_D, vec_D = _eigh_desc(D)
    dG = em.class_means.double().mean(0).numpy()
    return {"Delta": lam_D, "Delta_class": _eigvals(Dc)[:C], "Delta_class_cross": _eigvals(Dc + Dx)[: C * (C - 1)],
            "Delta_knockout_class": _eigvals(projection_knockout(D, Dc)),
            "Delta_knockout_class_cross": _eigvals(projection_knockout(D, Dc + Dx)),
            "Delta_top_global_cosine": _cos(vec_D[:, 0], dG)}


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
        rec.update(_error_spectra(stats[name].errors, C))
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
        cfac = _cfac(st)
        k = min(int(gl_top_k), op.shape[0] - 1)
        top_g = top_eigenpairs(op, k, which="LA", tol=1e-3, generator=gen, block_size=10)
        top_cf = top_eigenpairs(cfac, k, which="LA", tol=1e-3, generator=gen, block_size=10)
        spec_g = lanczos_approx_spec(op, int(gl_steps), 1024, 1, 3.0, generator=gen)
        spec_cf = lanczos_approx_spec(cfac, int(gl_steps), 1024, 1, 3.0, generator=gen)
        gl.append({"layer": l, "module": name, "dim": int(op.shape[0]), "G_top": top_g.eigenvalues.numpy(),
                   "CFAC_top": top_cf.eigenvalues.numpy(), "KFAC_top": kfac_eigs[:k], "KFAC_all": kfac_eigs,
                   "G_spectrum": spectrum_arrays(spec_g), "CFAC_spectrum": spectrum_arrays(spec_cf)})
    rec = history["records"][-1]
    return {"C": C, "num_samples": len(d.y), "gl_num_samples": len(sub.y), "weight_decay": weight_decay,
            "train_loss": rec.get("train_loss"), "train_accuracy": rec.get("train_accuracy"),
            "test_accuracy": rec.get("test_accuracy"), "layers": layers, "khatri_rao": kr, "gl": gl,
            "seconds": time.perf_counter() - t0}


_layer_structure_cached = cached(_layer_structure, DEPENDS_ON)


def _error_knockouts(config: dict[str, Any], batch_size: int) -> dict[str, Any]:
    cfg = as_train_config(config)
    model, d, _, history = trained(cfg, "final")
    model = model.double().eval()
    pair = (d.x.double(), d.y)
    C = int(d.y.max()) + 1
    names = _linear_names(model)[:-1]
    t0 = time.perf_counter()
    stats = layer_class_statistics(model, names, pair, C, batch_size, dtype=torch.float64)
    layers = [{"layer": l, "module": name, **_error_spectra(stats[name].errors, C)}
              for l, name in enumerate(names, start=1)]
    rec = history["records"][-1]
    return {"C": C, "num_samples": len(d.y), "train_accuracy": rec.get("train_accuracy"),
            "test_accuracy": rec.get("test_accuracy"), "layers": layers, "seconds": time.perf_counter() - t0}


_error_knockouts_cached = cached(_error_knockouts, DEPENDS_ON)


def error_knockouts(config: TrainConfig | Mapping[str, Any], *, batch_size: int = 500, cache: bool = True
                    ) -> dict[str, Any]:
    """The backpropagated errors' part of :func:`layer_structure` alone (``layers[l-1]``: ``Delta``,
    ``Delta_class``, ``Delta_class_cross``, ``Delta_knockout_class``, ``Delta_knockout_class_cross``,
    ``Delta_top_global_cosine``), for an MLP trained by ``config``. Fig 9b compares Δ^l ⫽ Δ^l_class with
    Δ^l ⫽ (Δ^l_class + Δ^l_cross), which removes C(C − 1) directions: a stand-in narrower than 2 C(C − 1) leaves no
    bulk, so the notebook calls this on a wider copy of the stand-in, without the costly G^l part."""
    cfg = as_train_config(config)
    fn = _error_knockouts_cached if cache else _error_knockouts
    return fn(cfg.to_dict(), int(batch_size))


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


