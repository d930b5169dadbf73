"""Exact layer-wise Hessians of piecewise-linear networks, and the per-sample factors behind them.

Wu et al. (2020), Sec. 3 and App. A. Fix layer p, z = W x + b with W ∈ R^{m×n} and w = vec(W)
row-major (PyTorch's ``weight.reshape(-1)``, so ∂z/∂w = I_m ⊗ xᵀ, Eq. (15)). For one sample
(x, y) with logits z_L and softmax output p, cross-entropy has the output Hessian
A_x = diag(p) − p pᵀ = Q_xᵀ Q_x with Q_x = diag(√p)(I_c − 1_c pᵀ) (Eqs. (19), (28)). With the logit
Jacobian G_x = ∂z_L/∂z ∈ R^{c×m} (Eq. (22)) and its square-root factor N_x = Q_x G_x ∈ R^{c×m} (Eq. (35)),

    H_ℓ(w, x) = M_x ⊗ x xᵀ,   M_x = G_xᵀ A_x G_x = N_xᵀ N_x          (Eqs. (17), (24))

and the layer-wise Hessian of the mean loss is H_L(w) = E[M_x ⊗ x xᵀ] (Eq. (6); E is the mean over
the data, not the sum printed in Eq. (13): inventory 000 §E6).

Where this is exact (inventory 000 fact 2). The chain rule gives
M_x = H_ℓ(z, x) = G_xᵀ A_x G_x + Σ_i (∂ℓ/∂z_{L,i}) ∇²_z z_{L,i} (Eq. (18)); the second term vanishes
(Eq. (23)) when everything that runs after layer p is piecewise linear in its input: Linear and
convolution layers, ReLU, LeakyReLU, ReLU6/Hardtanh, max- and average-pooling, flatten, dropout and
batch norm in eval mode. Then the layer-wise Hessian block *equals* the layer-wise Gauss-Newton block
(almost everywhere: away from the kinks, a set of measure zero), is PSD, and the product below is
exact. For other networks (tanh, softplus, GELU, batch norm with batch statistics, ...) the same
formula gives the layer-wise GGN block only: :class:`FCLayerHessianOperator` raises unless
``allow_gauss_newton=True``. The check looks at the leaf *modules* that run after the layer (found
with forward hooks during the first batch); a nonlinearity written as a function inside a custom
``forward`` cannot be seen and must be ruled out by the caller.

The structured product (inventory 000 §L1.3). One pass over the data with c backward passes per batch
(one per row of Q_x) stores x_i ∈ Rⁿ and N_i ∈ R^{c×m} for every sample. Then for V = Mat(v),

    Y = X Vᵀ (N×m),   r_i = N_i y_i (c),   t_i = N_iᵀ r_i (m),   Mat(H v) = (1/N) Tᵀ X,

4Nmn + 4Ncm multiply-adds·2 FLOPs per vector instead of a forward and two backward passes of the
whole network; k vectors are three matrix products with k·m columns (BLAS-3) and two batched
(c×m)(m×k) products. Memory N(cm + n) numbers (fc1:LeNet5 on 50,000 images: 80 M).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from .base import CurvatureOperator
from .data_loop import Batches, model_mode

__all__ = [
    "PIECEWISE_LINEAR_MODULES",
    "FCLayerHessianOperator",
    "LayerBatch",
    "fc_layer_hessian",
    "find_layer",
    "iter_layer_factors",
    "layer_hessian_matrix",
    "layer_input_matrix",
    "layer_kind",
    "not_piecewise_linear",
    "softmax_hessian_root",
]

#: Leaf module types that are piecewise linear in their input (given fixed parameters): the
#: second-order term of Eq. (18) vanishes through them. Batch norm, dropout count only in eval mode.
PIECEWISE_LINEAR_MODULES: tuple[type[nn.Module], ...] = (
    nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.ReLU6, nn.Hardtanh,
    nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d, nn.Flatten, nn.Unflatten, nn.Identity,
)
_EVAL_ONLY: tuple[type[nn.Module], ...] = (nn.modules.batchnorm._BatchNorm, nn.Dropout, nn.Dropout1d,
                                          nn.Dropout2d, nn.Dropout3d)


def find_layer(model: nn.Module, layer: nn.Module | str) -> tuple[str, nn.Module]:
    """(qualified name, module) of ``layer`` in ``model``: a submodule, a name from
    ``model.named_modules()`` (e.g. ``"7"`` in an ``nn.Sequential``), or the paper's name ``"fcK"`` /
    ``"convK"`` = the K-th ``nn.Linear`` / ``nn.Conv2d`` in registration order (Wu et al. 2020, §4
    "layer:network"; right for the paper's F-n^m, LeNet5 and VGG11-Wk as built by
    :mod:`hessian_spectra.models`). A model with a ``paper_layer_names`` dict (paper name -> module name,
    e.g. :class:`hessian_spectra.models.ResNet`, whose "sc-conv" shortcuts break registration order) is
    looked up there first."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    named = dict(model.named_modules())
    if isinstance(layer, nn.Module):
        for name, mod in named.items():
            if mod is layer:
                return name, mod
        raise ValueError(f"layer {type(layer).__name__} is not a submodule of the model")
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a module or a name, got {type(layer).__name__}")
    if layer in named and layer != "":
        return layer, named[layer]
    aliases = getattr(model, "paper_layer_names", None)
    if isinstance(aliases, dict) and layer in aliases:
        return aliases[layer], named[aliases[layer]]
    match = re.fullmatch(r"(fc|conv)(\d+)", layer)
    if match:
        kind = nn.Linear if match.group(1) == "fc" else nn.Conv2d
        index = int(match.group(2))
        found = [(n, m) for n, m in named.items() if type(m) is kind]
        if 1 <= index <= len(found):
            return found[index - 1]
        raise ValueError(f"layer {layer!r}: the model has {len(found)} {kind.__name__} layers")
    known = [n for n, m in named.items() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if isinstance(aliases, dict):
        known = list(aliases) + known
    raise ValueError(f"unknown layer {layer!r}; Linear/Conv2d layers: {known} (or 'fc1', 'conv1', ...)")


def softmax_hessian_root(logits: Tensor) -> Tensor:
    """Q_x = diag(√p)(I_c − 1_c pᵀ) for each row of ``logits`` (B, c), shape (B, c, c), with
    Q_xᵀ Q_x = diag(p) − p pᵀ, the Hessian of cross-entropy in the logits (Wu et al. 2020, Eqs. (19),
    (28); Papyan 2019)."""
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (batch, classes), got {tuple(logits.shape)}")
    p = torch.softmax(logits, dim=-1)
    eye = torch.eye(p.shape[1], dtype=p.dtype, device=p.device)
    return p.sqrt().unsqueeze(-1) * (eye - p.unsqueeze(1))


@dataclass
class LayerBatch:
    """One batch of :func:`iter_layer_factors`.

    Attributes:
        num_samples: B.
        inputs: per layer name, its input x (B, *in_shape) as the layer received it.
        roots: per layer name, N_x = Q_x ∂z_L/∂z (B, c, *out_shape): M_x = N_xᵀ N_x (Eq. (35)).
        logits: (B, c).
        downstream: names and modules of the leaf modules that ran after the (first) layer, in order
            (recorded for the first batch only, else empty).
        not_piecewise_linear: those of them through which Eq. (23) fails, judged in the mode the pass
            ran in (:func:`not_piecewise_linear`; first batch only, else empty).
    """

    num_samples: int
    inputs: dict[str, Tensor]
    roots: dict[str, Tensor]
    logits: Tensor
    downstream: list[tuple[str, nn.Module]] = field(default_factory=list)
    not_piecewise_linear: list[str] = field(default_factory=list)


def iter_layer_factors(
    model: nn.Module,
    layers: list[nn.Module | str],
    data: Any,
    batch_size: int | None = None,
    *,
    eval_mode: bool = True,
    progress: bool | None = False,
) -> Iterator[LayerBatch]:
    """One pass over ``data`` giving, per batch and per layer, the layer input x and the square-root
    factor N_x = Q_x G_x of the output Hessian M_x = G_xᵀ A_x G_x (Wu et al. 2020, Eqs. (24), (35)).

    Per batch: one forward pass (each layer's output kept as the node ∂z_L/∂z is taken at), then
    c backward passes, pass j with cotangent row j of Q_x, which give
    row j of N_x for all layers at once (inventory 000 §L1.6: "one pass with c backward passes").
    Samples must not interact (batch norm in eval mode: ``eval_mode=True``, the default, as in
    the engine's operators). Cross-entropy on logits (B, c) is the loss (Eq. (3)).

    Args:
        model: maps a batch of inputs to logits (B, c).
        layers: modules or names (see :func:`find_layer`), each called once per forward.
        data, batch_size: as for :func:`~hessian_spectra.hessian.hessian_operator`.
        eval_mode: put the model in eval mode during the pass (restored afterwards); default True as
            the engine's operators (not stated by the paper).
        progress: tqdm over batches.
    """
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError("layers must be a non-empty list of modules or names")
    resolved = [find_layer(model, layer) for layer in layers]
    names = [n for n, _ in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"a layer is listed twice: {names}")
    batches = Batches.for_model(model, data, batch_size)
    leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]
    first = True
    with model_mode(model, eval_mode):
        for x, _y in tqdm(iter(batches), total=len(batches) or None, desc="layer factors",
                          disable=(not progress) if progress is not None else None, leave=False):
            if x.shape[0] == 0:
                continue
            inputs: dict[str, Tensor] = {}
            outs: dict[str, Tensor] = {}
            order: list[tuple[str, nn.Module]] = []
            handles = []

            def make_hook(name: str) -> Any:
                def hook(mod: nn.Module, inp: tuple[Tensor, ...], out: Tensor) -> Tensor:
                    if name in outs:
                        raise ValueError(f"layer {name!r} ran twice in one forward pass (shared weights "
                                         "are not a layer of the paper's kind)")
                    # the output itself (a node of the graph, so ∂z_L/∂z of an earlier hooked layer
                    # still flows through this one), or a fresh leaf when nothing before it needs grad
                    z = out if out.requires_grad else out.detach().requires_grad_(True)
                    inputs[name] = inp[0].detach()
                    outs[name] = z
                    order.append((name, mod))
                    return z
                return hook

            def make_tracer(name: str) -> Any:
                def trace(mod: nn.Module, inp: Any, out: Any) -> None:
                    order.append((name, mod))
                return trace

            try:
                for name, mod in resolved:
                    handles.append(mod.register_forward_hook(make_hook(name)))
                if first:
                    targets = {id(m) for _, m in resolved}
                    for name, mod in leaves:
                        if id(mod) not in targets:
                            handles.append(mod.register_forward_hook(make_tracer(name)))
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
            downstream: list[tuple[str, nn.Module]] = []
            if first:
                start = min(i for i, (n, _) in enumerate(order) if n in outs)
                downstream = [(n, m) for n, m in order[start + 1:] if n not in outs]
            Q = softmax_hessian_root(logits.detach())  # (B, c, c)
            c = logits.shape[1]
            zs = [outs[n] for n in names]
            rows: list[list[Tensor]] = [[] for _ in names]
            for j in range(c):
                grads = torch.autograd.grad(logits, zs, grad_outputs=Q[:, j, :], retain_graph=j < c - 1,
                                            allow_unused=True)
                for i, g in enumerate(grads):
                    if g is None:
                        raise ValueError(f"the logits do not depend on the output of layer {names[i]!r}")
                    rows[i].append(g)
            roots = {n: torch.stack(r, dim=1) for n, r in zip(names, rows)}
            yield LayerBatch(int(x.shape[0]), inputs, roots, logits.detach(), downstream,
                             not_piecewise_linear(downstream))
            first = False


def _check_conv(name: str, mod: nn.Conv2d) -> tuple[Any, ...]:
    if mod.groups != 1:
        raise ValueError(f"conv layer {name!r} has groups={mod.groups}; App. A.2 needs groups=1")
    if mod.padding_mode != "zeros":
        raise ValueError(f"conv layer {name!r} has padding_mode={mod.padding_mode!r}; only 'zeros' unfolds")
    padding = mod.padding
    if isinstance(padding, str):
        if padding != "valid":
            raise ValueError(f"conv layer {name!r} has padding={padding!r}; give the padding as numbers")
        padding = 0
    return mod.kernel_size, mod.dilation, padding, mod.stride


def layer_input_matrix(name: str, mod: nn.Module, x: Tensor) -> Tensor:
    """x (B, n) for a linear layer; the unfolded X (B, nK₁K₂, P) for a conv layer (Wu et al. 2020,
    App. A.2: Z = W X + B with W ∈ R^{m×nK₁K₂}), from the input ``x`` the layer received."""
    if isinstance(mod, nn.Linear):
        if x.ndim != 2:
            raise ValueError(f"linear layer {name!r} got inputs of shape {tuple(x.shape)}; expected (batch, n)")
        return x
    kernel, dilation, padding, stride = _check_conv(name, mod)  # type: ignore[arg-type]
    return F.unfold(x, kernel, dilation=dilation, padding=padding, stride=stride)


def layer_kind(name: str, mod: nn.Module) -> str:
    """``"linear"`` or ``"conv"`` (a Conv2d the unfolding supports); ``ValueError`` otherwise."""
    if isinstance(mod, nn.Linear):
        return "linear"
    if isinstance(mod, nn.Conv2d):
        _check_conv(name, mod)
        return "conv"
    raise ValueError(f"layer {name!r} is a {type(mod).__name__}; Kronecker factors need nn.Linear or nn.Conv2d")


def layer_hessian_matrix(
    model: nn.Module,
    layer: nn.Module | str,
    data: Any,
    batch_size: int | None = None,
    *,
    allow_gauss_newton: bool = False,
    eval_mode: bool = True,
    dtype: torch.dtype = torch.float64,
    progress: bool | None = False,
) -> Tensor:
    """The dense layer-wise Hessian H_L(w) (mn × mn) of a fully connected or convolutional layer's weight,
    for layers small enough to hold it (conv1, conv2 and fc3 of LeNet5: 450, 2,400 and 840 weights).

    Per sample, with everything after the layer piecewise linear, the weight Hessian is the layer's
    Gauss-Newton block J_wᵀ A_x J_w = Σ_j g_j g_jᵀ with g_j = vec(Σ_p N_x[j, :, p] X[:, p]ᵀ) ∈ R^{mn}
    (Eqs. (17), (24), (35); App. A.2 for a convolution, Z = W X with X the unfolded input and p the P
    output positions; for a linear layer P = 1 and g_j = N_x[j]ᵀ ⊗ x). So H_L(w) = (1/N) Σ_x Σ_j g_j g_jᵀ,
    built from the same one pass with c backward passes as :func:`iter_layer_factors` (no
    Hessian-vector products: mn products of the whole network would cost mn double backward passes).

    Args:
        model, layer, data, batch_size, allow_gauss_newton, eval_mode, progress: as for
            :func:`fc_layer_hessian` (``allow_gauss_newton``: return the layer-wise GGN block when a module
            after the layer is not piecewise linear, instead of raising).
        dtype: of the accumulated matrix (default float64, not from the paper).
    """
    name, mod = find_layer(model, layer)
    kind = layer_kind(name, mod)
    H: Tensor | None = None
    count = 0
    for i, batch in enumerate(iter_layer_factors(model, [name], data, batch_size, eval_mode=eval_mode,
                                                 progress=progress)):
        if i == 0 and batch.not_piecewise_linear and not allow_gauss_newton:
            raise ValueError(f"layer {name!r} is followed by modules that are not piecewise linear: "
                             f"{batch.not_piecewise_linear}; the formula gives the layer-wise Gauss-Newton "
                             "block, not the Hessian (pass allow_gauss_newton=True to accept that)")
        X = layer_input_matrix(name, mod, batch.inputs[name]).to(dtype)
        Nr = batch.roots[name].to(dtype)
        if kind == "linear":
            G = torch.einsum("bja,bi->bjai", Nr, X)
        else:
            Nr = Nr.reshape(Nr.shape[0], Nr.shape[1], Nr.shape[2], -1)  # (B, c, m, P)
            G = torch.einsum("bjap,bip->bjai", Nr, X)
        G = G.reshape(-1, G.shape[2] * G.shape[3])  # (B c, m n)
        H_b = G.T @ G
        H = H_b if H is None else H + H_b
        count += batch.num_samples
    if H is None or count == 0:
        raise ValueError("data yielded no samples: cannot form a mean over an empty data set")
    H = H / count
    return (H + H.T) / 2


def not_piecewise_linear(downstream: list[tuple[str, nn.Module]]) -> list[str]:
    """Names (with types) of the leaf modules in ``downstream`` through which the second-order term
    of Eq. (18) does not vanish: not in :data:`PIECEWISE_LINEAR_MODULES`, or batch norm / dropout in
    train mode."""
    bad = []
    for name, mod in downstream:
        if isinstance(mod, PIECEWISE_LINEAR_MODULES):
            continue
        if isinstance(mod, (nn.Sequential, nn.ModuleList)) and len(mod) == 0:  # an empty container is the identity
            continue
        if isinstance(mod, _EVAL_ONLY) and not mod.training:
            continue
        bad.append(f"{name} ({type(mod).__name__}{', train mode' if isinstance(mod, _EVAL_ONLY) else ''})")
    return bad


class FCLayerHessianOperator(CurvatureOperator):
    """The layer-wise Hessian H_L(w) = E[M_x ⊗ x xᵀ] of a fully connected layer's weight (Wu et al.
    2020, Eq. (6)) as a structured matrix-free operator; see the module docstring for the product.

    Exact (equal to ``hessian_operator(model, F.cross_entropy, data, params=[layer.weight])`` to
    rounding) when every module after the layer is piecewise linear (inventory 000 fact 2); otherwise
    it is the layer-wise Gauss-Newton block and is built only with ``allow_gauss_newton=True``.
    Build it with :func:`fc_layer_hessian`.

    Attributes:
        inputs: X (N, n), the layer inputs x_i as rows.
        roots: (N, c, m), N_i = Q_i G_i per sample.
        exact: whether the piecewise-linearity check passed.
        not_piecewise_linear: the downstream modules that failed it.
        layer_name, m, n, num_samples.
    """

    def __init__(
        self,
        model: nn.Module,
        layer: nn.Module | str,
        data: Any,
        batch_size: int | None = None,
        *,
        allow_gauss_newton: bool = False,
        eval_mode: bool = True,
        chunk_size: int | None = None,
        progress: bool | None = False,
    ) -> None:
        name, mod = find_layer(model, layer)
        if not isinstance(mod, nn.Linear):
            raise ValueError(f"layer {name!r} is a {type(mod).__name__}; the structured product needs an "
                             "nn.Linear (use hessian_operator(..., params=[layer.weight]) for other layers)")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
        xs: list[Tensor] = []
        ns: list[Tensor] = []
        bad: list[str] = []
        for i, batch in enumerate(iter_layer_factors(model, [name], data, batch_size, eval_mode=eval_mode,
                                                     progress=progress)):
            if i == 0:
                bad = batch.not_piecewise_linear
                if bad and not allow_gauss_newton:
                    raise ValueError(
                        f"layer {name!r} is followed by modules that are not piecewise linear: {bad}; the "
                        "structured product would be the layer-wise Gauss-Newton block, not the Hessian "
                        "(Wu et al. 2020, Eqs. (18), (23)). Pass allow_gauss_newton=True to accept that, "
                        "or use hessian_operator(..., params=[layer.weight])"
                    )
            x = batch.inputs[name]
            if x.ndim != 2:
                raise ValueError(f"layer {name!r} got inputs of shape {tuple(x.shape)}; expected (batch, n)")
            xs.append(x)
            ns.append(batch.roots[name])
        if not xs:
            raise ValueError("data yielded no samples: cannot form a mean over an empty data set")
        self.inputs = torch.cat(xs)
        self.roots = torch.cat(ns)
        self.not_piecewise_linear = bad
        self.exact = not self.not_piecewise_linear
        self.layer_name = name
        self.m, self.n = int(mod.out_features), int(mod.in_features)
        self.num_samples = int(self.inputs.shape[0])
        self.num_classes = int(self.roots.shape[1])
        p = self.m * self.n
        self.shape = (p, p)
        self.dtype = self.inputs.dtype
        self.device = self.inputs.device
        # samples per chunk of a product: bounds the (chunk, k·m) intermediates; not from the paper
        self.chunk_size = chunk_size

    def _matmat(self, V: Tensor) -> Tensor:
        k = V.shape[1]
        m, n = self.m, self.n
        Wt = V.T.reshape(k * m, n)  # rows of Mat(v_1), ..., Mat(v_k)
        chunk = self.chunk_size or max(1, (1 << 24) // max(1, k * (m + self.num_classes)))
        out = torch.zeros(k * m, n, dtype=self.dtype, device=self.device)
        for s in range(0, self.num_samples, chunk):
            X = self.inputs[s : s + chunk]  # (B, n)
            Nr = self.roots[s : s + chunk]  # (B, c, m)
            Y = (X @ Wt.T).view(-1, k, m)  # y_i = Mat(v) x_i, all k vectors
            R = torch.bmm(Y, Nr.transpose(1, 2))  # (B, k, c): r_i = N_i y_i
            T = torch.bmm(R, Nr)  # (B, k, m): t_i = N_iᵀ r_i
            # Σ_i t_i x_iᵀ; out of place: torch.utils.flop_counter does not see addmm_
            out = torch.addmm(out, T.reshape(-1, k * m).T, X)
        out.div_(self.num_samples)
        return out.reshape(k, m * n).T

    def dense(self) -> Tensor:
        """The dense mn×mn matrix (1/N) Σ_i (N_i ⊗ x_iᵀ)ᵀ(N_i ⊗ x_iᵀ) (inventory 000 §L1.4), for small layers."""
        J = torch.einsum("ica,in->ican", self.roots, self.inputs).reshape(-1, self.m * self.n)
        return J.T @ J / self.num_samples

    def __repr__(self) -> str:
        kind = "Hessian" if self.exact else "Gauss-Newton"
        return (f"FCLayerHessianOperator({self.layer_name!r}, m={self.m}, n={self.n}, N={self.num_samples}, "
                f"{kind}, dtype={self.dtype}, device={self.device})")


def fc_layer_hessian(
    model: nn.Module,
    layer: nn.Module | str,
    data: Any,
    batch_size: int | None = None,
    **kwargs: Any,
) -> FCLayerHessianOperator:
    """The layer-wise Hessian H_L(w^(p)) = E[M_x ⊗ x xᵀ] of the weight of fully connected layer
    ``layer`` under the mean cross-entropy over ``data`` (Wu et al. 2020, Eqs. (6), (17), (24)), as a
    structured operator: one pass with c backward passes to build it, then products that never touch
    the network (module docstring).

    Args:
        model: maps inputs to logits (B, c); the loss is cross-entropy (Eq. (3)).
        layer: an ``nn.Linear`` submodule, its name, or the paper's name ``"fcK"``.
        data, batch_size: as for :func:`~hessian_spectra.hessian.hessian_operator` (``batch_size``
            only sizes the building pass; default None = one batch, not from the paper).
        **kwargs: ``allow_gauss_newton`` (default False: raise when a non-piecewise-linear module
            follows the layer, where the formula gives the GGN block, not the Hessian),
            ``eval_mode`` (default True, not stated by the paper), ``chunk_size`` (samples per chunk of a product; default:
            about 16 M intermediate numbers; not from the paper), ``progress``.
    """
    return FCLayerHessianOperator(model, layer, data, batch_size, **kwargs)
