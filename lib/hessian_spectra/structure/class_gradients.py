"""Extended gradients and their class / cross-class means (Papyan 2020, Secs. 5-6, App. A; inventory 001
§L3).

For cross-entropy with softmax outputs p_i = softmax(f(x_i; θ)) and J_i = ∂f(x_i; θ)/∂θ ∈ R^{C×p}, the
extended gradient of sample i (label c) with respect to the would-be label c' is (Eq. (6.1))

    g_{i,c,c'} = ∂ℓ(f(x_{i,c}; θ), y_{c'})/∂θ = J_iᵀ (p_i − e_{c'})

(§1.8's sign; App. A prints y − p, which does not change second moments, inventory 001 §E3). Then the
Gauss-Newton matrix (the paper's FIM) of Eq. (5.1) is the weighted second moment (Eq. (6.2), App. A)

    G = Ave_i J_iᵀ (diag p_i − p_i p_iᵀ) J_i = Σ_{i,c,c'} w_{i,c,c'} g_{i,c,c'} g_{i,c,c'}ᵀ,
    w_{i,c,c'} = p_{i,c,c'}/N,

and Eq. (6.4) splits it into G_class + G_cross + G_within + G_{c=c'}
(:class:`~.class_moments.CrossClassMoments`).

The C² cross-class means g_{c,c'} = Σ_i π_{i,c,c'} g_{i,c,c'} need, for each pair (c, c'), the sum
Σ_{i∈c} p_{i,c'} J_iᵀ(p_i − e_{c'}): one vector-Jacobian product of the logits with cotangent rows
R_i = 1[c_i = c] p_{i,c'}(p_i − e_{c'}). On batches of one class (``method="sorted"``, the default)
that is C backward passes per batch, C over the whole data set (inventory 001 §L3); on mixed batches
(``method="pairs"``, as the author's code loops over c and c') it is C × (classes in the batch)
backward passes per batch, up to C² over the data set. Both give the same means.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..hessian.data_loop import Batches, model_mode, resolve_params
from .class_moments import (
    CrossClassAccumulator,
    CrossClassMoments,
    check_labels,
    cross_class_moments,
)

__all__ = [
    "ExtendedGradients",
    "class_ggn_traces",
    "extended_gradients",
    "gradient_class_means",
    "per_sample_jacobians",
    "within_class_traces",
]


def _flat(grads: tuple[Tensor, ...]) -> Tensor:
    return torch.cat([g.reshape(-1) for g in grads])


def _num_classes(model: nn.Module, batches: Batches, num_classes: int | None) -> int:
    """C from the model's logits on one sample (in eval mode: no batch statistics, no running-statistics
    update), checked against ``num_classes``."""
    x0 = next(iter(batches))[0][:1]
    with torch.no_grad(), model_mode(model, True):
        out = model(x0)
    if out.ndim != 2:
        raise ValueError(f"the model must return logits (batch, classes), got {tuple(out.shape)}")
    C = int(out.shape[1])
    if num_classes is not None and num_classes != C:
        raise ValueError(f"C mismatch: num_classes={num_classes} but the model has {C} outputs")
    return C


def class_pure_batches(batches: Batches, num_classes: int) -> Iterator[tuple[int, Tensor]]:
    """(c, x) batches whose samples all have label c: a pair is sorted by class and cut into
    ``batch_size`` chunks; a batch of an iterable is split by class (same samples, same total work)."""
    if batches.pair is not None:
        x, y = batches.pair
        y = check_labels(y, num_classes)
        bs = batches.batch_size or x.shape[0]
        for c in range(num_classes):
            idx = (y == c).nonzero().flatten()
            for s in range(0, idx.numel(), bs):
                yield c, x[idx[s : s + bs]]
        return
    for x, y in batches:
        y = check_labels(y, num_classes, x.shape[0])
        for c in y.unique().tolist():
            yield int(c), x[y == c]


def gradient_class_means(
    model: nn.Module,
    data: Any,
    num_classes: int | None = None,
    batch_size: int | None = None,
    *,
    method: Literal["sorted", "pairs"] = "sorted",
    eval_mode: bool = True,
    dtype: torch.dtype | None = None,
    progress: bool | None = False,
) -> CrossClassMoments:
    """The C² gradient cross-class means g_{c,c'} and weights w_{c,c'} (Papyan 2020, §6; module
    docstring) in ONE pass over ``data``, without second moments (p can be millions).

    Args:
        model: maps inputs to logits (B, C); the loss is cross-entropy (every parameter with
            requires_grad, in ``named_parameters`` order: the flattening of the engine's operators).
        data: ``(inputs, labels)``, an object with ``.x``/``.y``, or a re-iterable of batches.
        num_classes: C, checked against the model's outputs (default: read from them).
        batch_size: samples per forward pass (default None: a whole class, or the iterable's batches;
            not from the paper, it only bounds memory).
        method: ``sorted`` (default): class-pure batches, C backward passes per batch; ``pairs``: the
            batches as given, one masked backward pass per (class present, c') (the author's loop).
        eval_mode: batch norm with running statistics (default True: App. D "always set to test mode").
        dtype: of the C² p sums (default: the parameters' dtype; not from the paper: C² p numbers,
            11 GB for VGG11 at C = 10 in float32).
        progress: tqdm over batches.

    Returns:
        :class:`~.class_moments.CrossClassMoments` with ``cross_means`` (C, C, p); its
        ``mean_residual()`` is 0 up to rounding (fact 1).
    """
    if method not in ("sorted", "pairs"):
        raise ValueError(f"method must be 'sorted' or 'pairs', got {method!r}")
    _, params = resolve_params(model, None)
    batches = Batches.for_model(model, data, batch_size)
    p = sum(t.numel() for t in params)
    dt = dtype or params[0].dtype
    with model_mode(model, eval_mode):
        C = _num_classes(model, batches, num_classes)
        acc = CrossClassAccumulator(C, p, dt, params[0].device, second_moments=False)
        eye = torch.eye(C, device=params[0].device)
        if method == "sorted":
            items: Any = ((c, x, None) for c, x in class_pure_batches(batches, C))
        else:
            items = ((None, x, check_labels(y, C, x.shape[0])) for x, y in batches)
        for c0, x, y in tqdm(items, desc="cross-class means", disable=(not progress) if progress is not None else None,
                             leave=False):
            if x.shape[0] == 0:
                continue
            with torch.enable_grad():
                logits = model(x)
            pr = torch.softmax(logits.detach(), dim=-1)
            e = eye.to(pr.dtype)
            groups = [(c0, None)] if c0 is not None else [(int(c), y == c) for c in y.unique().tolist()]
            for gi, (c, mask) in enumerate(groups):
                S = torch.zeros(C, p, dtype=dt, device=pr.device)
                pm = pr if mask is None else pr * mask[:, None].to(pr.dtype)
                for k in range(C):
                    R = pm[:, k : k + 1] * (pr - e[k])
                    last = gi == len(groups) - 1 and k == C - 1
                    grads = torch.autograd.grad(logits, params, grad_outputs=R, retain_graph=not last,
                                                allow_unused=True, materialize_grads=True)
                    S[k] = _flat(grads).to(dt)
                n = x.shape[0] if mask is None else int(mask.sum())
                acc.add_class_sums(c, S, pm.double().sum(0), n)
    return acc.result()


def per_sample_jacobians(
    model: nn.Module, data: Any, batch_size: int | None = None, *, eval_mode: bool = True
) -> tuple[Tensor, Tensor, Tensor]:
    """(J, logits, labels): per-sample Jacobians J_i = ∂f(x_i; θ)/∂θ (N, C, p) of the logits in the
    engine's parameter order, the logits (N, C) and the labels (N,), by ``torch.func`` (vmap over
    samples of jacrev). N C p numbers: for small models (tests, NTK duals, smoke scale)."""
    names, params = resolve_params(model, None)
    batches = Batches.for_model(model, data, batch_size)
    primals = {n: t.detach() for n, t in zip(names, params)}

    def f(ps: dict[str, Tensor], x1: Tensor) -> Tensor:
        out = torch.func.functional_call(model, ps, (x1.unsqueeze(0),))
        return out.squeeze(0)

    Js, outs, ys = [], [], []
    with model_mode(model, eval_mode), torch.no_grad():
        for x, y in batches:
            jac = torch.func.vmap(torch.func.jacrev(f), in_dims=(None, 0))(primals, x)
            B = x.shape[0]
            Js.append(torch.cat([jac[n].reshape(B, jac[n].shape[1], -1) for n in names], dim=2))
            outs.append(model(x))
            ys.append(y)
    logits = torch.cat(outs)
    if logits.ndim != 2:
        raise ValueError(f"the model must return logits (batch, classes), got {tuple(logits.shape)}")
    return torch.cat(Js), logits, torch.cat(ys)


@dataclass
class ExtendedGradients:
    """All extended gradients of a small model (module docstring).

    Attributes:
        vectors: (N, C, p) g_{i,c'} = J_iᵀ(p_i − e_{c'}) (the label c of sample i is ``labels[i]``).
        probs: (N, C) p_i.
        labels: (N,) c.
    """

    vectors: Tensor
    probs: Tensor
    labels: Tensor

    def moments(self, second_moments: bool = True) -> CrossClassMoments:
        """The exact decomposition of Eq. (6.4) (dense p×p second moments when ``second_moments``)."""
        return cross_class_moments(self.vectors, self.labels, self.probs, second_moments=second_moments)

    def ggn(self) -> Tensor:
        """G = Σ_{i,c'} (p_{i,c'}/N) g g ᵀ (p × p), Eq. (6.2)."""
        r = (self.probs.sqrt()[:, :, None] * self.vectors).reshape(-1, self.vectors.shape[2])
        return r.T @ r / self.vectors.shape[0]


def extended_gradients(
    model: nn.Module, data: Any, num_classes: int | None = None, batch_size: int | None = None,
    *, eval_mode: bool = True
) -> ExtendedGradients:
    """Every g_{i,c,c'} = J_iᵀ(p_i − e_{c'}) of ``data`` (Eq. (6.1)) from per-sample Jacobians (small
    models: N C p numbers). Labels are checked to lie in [0, C)."""
    J, logits, labels = per_sample_jacobians(model, data, batch_size, eval_mode=eval_mode)
    C = logits.shape[1]
    if num_classes is not None and num_classes != C:
        raise ValueError(f"C mismatch: num_classes={num_classes} but the model has {C} outputs")
    labels = check_labels(labels, C, logits.shape[0])
    pr = torch.softmax(logits, dim=-1)
    g = torch.einsum("bk,bkp->bp", pr, J)[:, None, :] - J
    return ExtendedGradients(g, pr, labels)


def class_ggn_traces(
    model: nn.Module,
    data: Any,
    num_probes: int,
    num_classes: int | None = None,
    batch_size: int | None = None,
    *,
    generator: torch.Generator | None = None,
    **kwargs: Any,
) -> Tensor:
    """T_c = Σ_{i∈c, c'} w_{i,c,c'} ‖g_{i,c,c'}‖² = π_c Tr G^{(c)} (C,), with G^{(c)} the Gauss-Newton
    matrix of class c's samples alone, by Hutchinson's estimator (engine ``hutchinson_trace`` on
    ``ggn_operator`` over each class; ``num_probes`` Rademacher probes per class; inventory 001 §L3,
    the author estimates these traces with random probes [ext]). ``data`` must be a pair or ``.x/.y``."""
    import torch.nn.functional as F

    from ..hessian import ggn_operator, hutchinson_trace

    batches = Batches.for_model(model, data, batch_size)
    if batches.pair is None:
        raise ValueError("class_ggn_traces needs data as a pair (inputs, labels) or an object with .x and .y")
    C = _num_classes(model, batches, num_classes)
    x, y = batches.pair
    y = check_labels(y, C)
    out = torch.zeros(C, dtype=torch.float64)
    for c in range(C):
        idx = (y == c).nonzero().flatten()
        if idx.numel() == 0:
            raise ValueError(f"class {c} has no samples")
        G = ggn_operator(model, F.cross_entropy, (x[idx], y[idx]), batch_size=batch_size, **kwargs)
        out[c] = float(hutchinson_trace(G, num_probes, generator=generator)) * idx.numel() / y.numel()
    return out


def within_class_traces(moments: CrossClassMoments, class_traces: Tensor) -> Tensor:
    """Tr G_within,c = T_c − Σ_{c'} w_{c,c'} ‖g_{c,c'}‖² (C,), where G_within,c is the class-c part of
    Eq. (6.3) (Σ_c G_within,c = G_within) and T_c comes from :func:`class_ggn_traces` (or exactly from
    extended gradients). Fig 6's red dots are a normalisation of these (the caption is garbled,
    inventory 001 §E9: (1/N) Tr, N read as samples per class; dividing by p gives the mean eigenvalue)."""
    T = torch.as_tensor(class_traces, dtype=torch.float64)
    if T.shape != (moments.num_classes,):
        raise ValueError(f"class_traces must have shape ({moments.num_classes},): C mismatch, got {tuple(T.shape)}")
    sq = moments.cross_means.double().pow(2).sum(-1)  # (C, C)
    return T - (moments.weights.double() * sq).sum(1)
