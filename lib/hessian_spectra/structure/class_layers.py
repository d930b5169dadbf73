"""Layer-wise class structure of a multilayer perceptron: features, backpropagated errors, G^l, KFAC,
CFAC and weights (Papyan 2020, Sec. 7; inventory 001 §N, §L1.7-8, §L3).

For a fully connected layer l, z^l = W^l h^{l−1} (§7.1; in practice followed by batch norm and ReLU,
footnote 4), the extended backpropagated error is δ^l_{i,c,c'} = ∂ℓ(f(x_{i,c}), y_{c'})/∂z^l
= J_{l,i}ᵀ(p_i − e_{c'}) with J_{l,i} = ∂f/∂z^l (§7.2), and the weight gradient is δ^l h^{l−1ᵀ}
(Eq. (7.2)). PyTorch stores W^l as (out, in) and flattens it row-major, so vec(δ hᵀ) = δ ⊗ h: the
Kronecker factors appear in the order *error ⊗ feature*, the reverse of the paper's column-stacking
h ⊗ δ (Eqs. (7.3)-(7.4); inventory 001 §N "PyTorch note", §E6). With this order

    G^l = Σ_{i,c,c'} w_{i,c,c'} (δ^l δ^lᵀ) ⊗ (h^{l−1} h^{l−1ᵀ})            (§7.3, w = p/N)
    G^l_KFAC = Δ^l ⊗ H^{l−1}                                            (Def. 7.1)
    G^l_CFAC = Σ_c π_c Δ^l_c ⊗ H^{l−1}_c                                 (Def. 7.2; π_c = n_c/N = 1/C
                                                                          balanced, the paper's Ave_c)

Errata (inventory 001 §E4, §E5): Def. 7.1 writes H^l; the layer's input features H^{l−1} are meant
(as in G^l). Δ^l = Σ w δδᵀ and Δ^l_c = Ave_{i∈c} Σ_{c'} p δδᵀ (the printed 1/(NC) and 1/N normalise
twice), so that Δ^l = Σ_c π_c Δ^l_c and, for one sample per class, CFAC = G^l exactly.

Features (§7.4) are unweighted: H = Ave h hᵀ, h_c, h_G, H_class, H_within, H_c
(:class:`~.class_moments.ClassMoments`). Here the features of layer l are its *input* h^{l−1}: the
post-activation features of layer l−1 (after its batch norm and ReLU), the input x for the first layer.
For the post-activation features h^l of the last hidden layer, take the classifier's statistics (or use
:func:`feature_class_moments` with ``where="output"`` on the activation modules).

Weights (§7.13, weight decay η at a stationary point): W^l = −(1/η) Ave_{i,c} δ^l_{i,c,c} h^{l−1ᵀ}_{i,c}
and W^l_class = −(1/η) Ave_c δ^l_{c,c} h^{l−1ᵀ}_c with the UNWEIGHTED true-label error mean
δ^l_{c,c} = Ave_i δ^l_{i,c,c} (unlike the π-weighted δ_{c,c} of §7.7; inventory 001 §E8). W_within is
not defined in the paper; read it as W − W_class [inferred].

One pass (:func:`layer_class_statistics`): one forward pass per batch with hooks on the layers, then
C backward passes with cotangents p_i − e_{c'} (c' = 1..C) on the logits, each giving δ_{·,c'} at every
hooked layer at once; everything is accumulated as per-class sums (d² numbers per class and layer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..hessian.base import CurvatureOperator
from ..hessian.data_loop import Batches, model_mode
from ..hessian.layerwise import find_layer
from .class_moments import (
    ClassAccumulator,
    ClassMoments,
    CrossClassAccumulator,
    CrossClassMoments,
    check_labels,
)

__all__ = [
    "KroneckerSumOperator",
    "LayerClassStatistics",
    "feature_class_moments",
    "layer_class_statistics",
]


class KroneckerSumOperator(CurvatureOperator):
    """Σ_t c_t A_t ⊗ B_t on row-major vec(X), X ∈ R^{m×n}: (A ⊗ B) vec(X) = vec(A X Bᵀ) (inventory 001
    §L1.8): KFAC X ↦ Δ X H, CFAC X ↦ Σ_c π_c Δ_c X H_c (A_t: m×m error factors, B_t: n×n feature
    factors, all symmetric)."""

    def __init__(self, terms: list[tuple[float, Tensor, Tensor]]) -> None:
        if not terms:
            raise ValueError("a Kronecker sum needs at least one term")
        m, n = terms[0][1].shape[0], terms[0][2].shape[0]
        for _, A, B in terms:
            if A.shape != (m, m) or B.shape != (n, n):
                raise ValueError(f"every term must be ({m}×{m}) ⊗ ({n}×{n}), got {tuple(A.shape)} ⊗ {tuple(B.shape)}")
        self.terms = [(float(c), A, B.to(A.dtype)) for c, A, B in terms]
        self.m, self.n = int(m), int(n)
        self.shape = (self.m * self.n, self.m * self.n)
        self.dtype, self.device = terms[0][1].dtype, terms[0][1].device

    def _matmat(self, V: Tensor) -> Tensor:
        k = V.shape[1]
        X = V.T.reshape(k, self.m, self.n)
        out = sum(c * (A @ X @ B.T) for c, A, B in self.terms)
        return out.reshape(k, -1).T  # type: ignore[union-attr]

    def to_dense(self, chunk: int = 64) -> Tensor:
        return sum(c * torch.kron(A.contiguous(), B.contiguous()) for c, A, B in self.terms)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"KroneckerSumOperator({len(self.terms)} terms, ({self.m}×{self.m}) ⊗ ({self.n}×{self.n}))"


@dataclass
class LayerClassStatistics:
    """Class statistics of one fully connected layer (module docstring).

    Attributes:
        name: the layer's qualified name.
        features: :class:`~.class_moments.ClassMoments` of its input h^{l−1} (d_in).
        errors: :class:`~.class_moments.CrossClassMoments` of δ^l (d_out), with per-class second moments.
        true_error_means: (C, d_out) δ^l_{c,c} = Ave_{i∈c} δ^l_{i,c,c}, unweighted (§7.13).
        loss_gradient: (d_out, d_in) Ave_{i,c} δ^l_{i,c,c} h^{l−1ᵀ}_{i,c}, the data part of ∂L/∂W^l.
        weight: (d_out, d_in) a copy of W^l.
    """

    name: str
    features: ClassMoments
    errors: CrossClassMoments
    true_error_means: Tensor
    loss_gradient: Tensor
    weight: Tensor

    def error_moment(self) -> Tensor:
        """Δ^l = Σ_{i,c,c'} w δδᵀ (d_out × d_out; §7.7 with the scaling erratum)."""
        return self.errors.dense("total")

    def kfac_operator(self) -> KroneckerSumOperator:
        """G^l_KFAC = Δ^l ⊗ H^{l−1} (Def. 7.1, row-major weight order)."""
        return KroneckerSumOperator([(1.0, self.error_moment(), self.features.total())])

    def cfac_operator(self) -> KroneckerSumOperator:
        """G^l_CFAC = Σ_c π_c Δ^l_c ⊗ H^{l−1}_c (Def. 7.2, row-major weight order)."""
        D = self.errors.class_conditional_moments()
        H = self.features.class_second_moments
        assert H is not None
        pi = self.features.class_proportions
        return KroneckerSumOperator([(float(pi[c]), D[c], H[c]) for c in range(D.shape[0])])

    def kfac(self) -> Tensor:
        """Dense G^l_KFAC (d_out d_in square; small layers only)."""
        return self.kfac_operator().to_dense()

    def cfac(self) -> Tensor:
        """Dense G^l_CFAC (d_out d_in square; small layers only)."""
        return self.cfac_operator().to_dense()

    def stationary_weight(self, weight_decay: float) -> Tensor:
        """−(1/η) Ave δ^l_{i,c,c} h^{l−1ᵀ}_{i,c}: W^l at a stationary point of loss + (η/2)‖W‖² (§7.13)."""
        return -self.loss_gradient / _eta(weight_decay)

    def weight_class(self, weight_decay: float) -> Tensor:
        """W^l_class = −(1/η) Σ_c π_c δ^l_{c,c} h^{l−1ᵀ}_c (§7.13; Ave_c for balanced classes). Its
        column and row spaces (all a projection knockout uses) do not depend on η."""
        pi = self.features.class_proportions.to(self.true_error_means.dtype)
        return -(self.true_error_means.T * pi) @ self.features.class_means / _eta(weight_decay)

    def stationarity_gap(self, weight_decay: float) -> float:
        """‖W + (1/η) Ave δ hᵀ‖/‖W‖: how far W^l is from the stationary form (inventory 001 Fig 13)."""
        W = self.weight.to(self.loss_gradient.dtype)
        return float((W - self.stationary_weight(weight_decay)).norm() / W.norm())


def _eta(weight_decay: float) -> float:
    if not weight_decay > 0:
        raise ValueError(f"weight_decay η must be positive, got {weight_decay!r}")
    return float(weight_decay)


def _linear_layers(model: nn.Module, layers: list[nn.Module | str]) -> list[tuple[str, nn.Linear]]:
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError("layers must be a non-empty list of nn.Linear modules or names")
    out = []
    for layer in layers:
        name, mod = find_layer(model, layer)
        if not isinstance(mod, nn.Linear):
            raise ValueError(f"layer {name!r} is a {type(mod).__name__}; the class statistics of §7 need nn.Linear")
        out.append((name, mod))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ValueError(f"a layer is listed twice: {names}")
    return out


def layer_class_statistics(
    model: nn.Module,
    layers: list[nn.Module | str],
    data: Any,
    num_classes: int | None = None,
    batch_size: int | None = None,
    *,
    eval_mode: bool = True,
    dtype: torch.dtype = torch.float64,
    progress: bool | None = False,
) -> dict[str, LayerClassStatistics]:
    """Per fully connected layer, the class statistics of its input features and output errors in one
    pass over ``data`` with C backward passes per batch (module docstring).

    Args:
        model: maps inputs to logits (B, C); the loss is cross-entropy.
        layers: ``nn.Linear`` modules or names (``find_layer``: a name from ``named_modules()`` or
            ``"fcK"``); each must run once per forward.
        data: ``(inputs, labels)``, an object with ``.x``/``.y``, or a re-iterable of batches.
        num_classes: C, checked against the model's outputs (default: read from them).
        batch_size: samples per forward pass (default None: one batch; not from the paper).
        eval_mode: batch norm with running statistics (default True, App. D).
        dtype: of the accumulated sums (default float64; not from the paper: d² numbers per class).
        progress: tqdm over batches.
    """
    resolved = _linear_layers(model, layers)
    names = [n for n, _ in resolved]
    batches = Batches.for_model(model, data, batch_size)
    feats: dict[str, ClassAccumulator] = {}
    errs: dict[str, CrossClassAccumulator] = {}
    true_sum: dict[str, Tensor] = {}
    grad_sum: dict[str, Tensor] = {}
    C: int | None = None
    count = 0
    with model_mode(model, eval_mode):
        for x, y in tqdm(iter(batches), total=len(batches) or None, desc="layer class statistics",
                         disable=(not progress) if progress is not None else None, leave=False):
            if x.shape[0] == 0:
                continue
            inputs: dict[str, Tensor] = {}
            outs: dict[str, Tensor] = {}

            def make_hook(name: str) -> Any:
                def hook(mod: nn.Module, inp: tuple[Tensor, ...], out: Tensor) -> Tensor:
                    if name in outs:
                        raise ValueError(f"layer {name!r} ran twice in one forward pass")
                    z = out if out.requires_grad else out.detach().requires_grad_(True)
                    inputs[name] = inp[0].detach()
                    outs[name] = z
                    return z
                return hook

            handles = [mod.register_forward_hook(make_hook(n)) for n, mod in resolved]
            try:
                with torch.enable_grad():
                    logits = model(x)
            finally:
                for h in handles:
                    h.remove()
            missing = [n for n in names if n not in outs]
            if missing:
                raise ValueError(f"layers {missing} did not run in the forward pass")
            if logits.ndim != 2:
                raise ValueError(f"the model must return logits (batch, classes), got {tuple(logits.shape)}")
            if C is None:
                C = int(logits.shape[1])
                if num_classes is not None and num_classes != C:
                    raise ValueError(f"C mismatch: num_classes={num_classes} but the model has {C} outputs")
                for n, mod in resolved:
                    dev = logits.device
                    feats[n] = ClassAccumulator(C, mod.in_features, dtype, dev)
                    errs[n] = CrossClassAccumulator(C, mod.out_features, dtype, dev)
                    true_sum[n] = torch.zeros(C, mod.out_features, dtype=dtype, device=dev)
                    grad_sum[n] = torch.zeros(mod.out_features, mod.in_features, dtype=dtype, device=dev)
            yl = check_labels(y, C, x.shape[0]).to(logits.device)
            pr = torch.softmax(logits.detach(), dim=-1)
            eye = torch.eye(C, dtype=pr.dtype, device=pr.device)
            zs = [outs[n] for n in names]
            deltas: list[list[Tensor]] = [[] for _ in names]
            for k in range(C):
                grads = torch.autograd.grad(logits, zs, grad_outputs=pr - eye[k], retain_graph=k < C - 1,
                                            allow_unused=True)
                for j, g in enumerate(grads):
                    if g is None:
                        raise ValueError(f"the logits do not depend on the output of layer {names[j]!r}")
                    deltas[j].append(g.reshape(g.shape[0], -1))
            rows = torch.arange(x.shape[0], device=pr.device)
            for j, n in enumerate(names):
                D = torch.stack(deltas[j], dim=1).to(dtype)  # (B, C, d_out)
                h = inputs[n].reshape(x.shape[0], -1).to(dtype)
                feats[n].add(h, yl)
                errs[n].add(D, yl, pr)
                d_true = D[rows, yl]  # (B, d_out) δ_{i,c,c}
                true_sum[n].index_add_(0, yl, d_true)
                grad_sum[n] += d_true.T @ h
            count += int(x.shape[0])
    if C is None:
        raise ValueError("data yielded no samples: cannot form class statistics of an empty data set")
    out: dict[str, LayerClassStatistics] = {}
    for n, mod in resolved:
        fm = feats[n].result()
        counts = fm.class_counts.to(dtype)
        out[n] = LayerClassStatistics(n, fm, errs[n].result(), true_sum[n] / counts[:, None],
                                      grad_sum[n] / count, mod.weight.detach().to(dtype).clone())
    return out


def feature_class_moments(
    model: nn.Module,
    modules: list[nn.Module | str],
    data: Any,
    num_classes: int,
    batch_size: int | None = None,
    *,
    where: Literal["input", "output"] = "output",
    eval_mode: bool = True,
    dtype: torch.dtype = torch.float64,
    second_moments: bool = True,
) -> dict[str, ClassMoments]:
    """Class moments (§7.4: h_c, h_G, H, H_class, H_within, H_c) of the features at any modules,
    flattened per sample, from forward passes only: ``where="output"`` on the ReLU modules gives the
    post-activation features h^l of Figs 7-8; ``"input"`` on a Linear its input h^{l−1}. Modules are
    found by :func:`~hessian_spectra.hessian.layerwise.find_layer` (any module type)."""
    if where not in ("input", "output"):
        raise ValueError(f"where must be 'input' or 'output', got {where!r}")
    if not isinstance(modules, (list, tuple)) or not modules:
        raise ValueError("modules must be a non-empty list of modules or names")
    resolved = []
    named = dict(model.named_modules())
    for m in modules:
        if isinstance(m, str) and m in named and m != "":
            resolved.append((m, named[m]))
        else:
            resolved.append(find_layer(model, m))
    batches = Batches.for_model(model, data, batch_size)
    accs: dict[str, ClassAccumulator] = {}
    seen: dict[str, list[Tensor]] = {n: [] for n, _ in resolved}

    def make_hook(name: str) -> Any:
        def hook(mod: nn.Module, inp: tuple[Tensor, ...], out: Tensor) -> None:
            seen[name].append((inp[0] if where == "input" else out).detach())
        return hook

    handles = [mod.register_forward_hook(make_hook(n)) for n, mod in resolved]
    try:
        with model_mode(model, eval_mode), torch.no_grad():
            for x, y in batches:
                for v in seen.values():
                    v.clear()
                model(x)
                for n, _ in resolved:
                    if len(seen[n]) != 1:
                        raise ValueError(f"module {n!r} ran {len(seen[n])} times in one forward pass (expected once)")
                    h = seen[n][0].reshape(x.shape[0], -1).to(dtype)
                    if n not in accs:
                        accs[n] = ClassAccumulator(num_classes, h.shape[1], dtype, h.device, second_moments)
                    accs[n].add(h, y.to(h.device))
    finally:
        for hd in handles:
            hd.remove()
    if not accs:
        raise ValueError("data yielded no samples")
    return {n: accs[n].result() for n, _ in resolved}
