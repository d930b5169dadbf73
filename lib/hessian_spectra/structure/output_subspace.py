"""The closed-form top eigenspace of the output Hessian E[M] (Wu et al. 2020, §4.4 Theorem 4.1, App. F.1
Eq. (56), App. H Theorem H.1, Table 10).

Theorem H.1: for a two-layer ReLU network z = W⁽²⁾ σ(W⁽¹⁾ x) at Gaussian initialisation
(W⁽¹⁾ ~ N(0, 1/d), W⁽²⁾ ~ N(0, 1/n), x ~ N(0, I_d)), as d, n → ∞ the first layer's output Hessian
M = E[D W⁽²⁾ᵀ A W⁽²⁾ D] (Eq. (67); D = diag(1[W⁽¹⁾x > 0]), the printed 1_{y≥0} is the identity,
inventory 000 §E12) has λ_c/λ_{c−1} → 0 and its top c−1 eigenspace tends to R(W⁽²⁾)\\{W⁽²⁾·1}, read as
{W⁽²⁾ᵀ v : v ⊥ 1_c} (the row space of W⁽²⁾ without the direction W⁽²⁾ᵀ1_c; inventory 000 §E13).

The heuristic extension to layer p of an L-layer network (§4.4, Eq. (56)): with
S⁽ᵖ⁾ = W⁽ᴸ⁾ W⁽ᴸ⁻¹⁾ ⋯ W⁽ᵖ⁺¹⁾ ∈ R^{c×m} (the identity I_c for the last layer), E[M⁽ᵖ⁾] is approximately
M̃⁽ᵖ⁾ = κ S⁽ᵖ⁾ᵀ Ā S⁽ᵖ⁾ with Ā = E[A_x] = E[diag(p) − ppᵀ], of rank c − 1 with top eigenspace
{S⁽ᵖ⁾ᵀ v : v ⊥ 1_c}. The prefactor of Eq. (56) is garbled in the text ("1/许"); κ = 4^{−(L−p)} is
inventory 000's reading (§E14; 1/4 for the two-layer case, Eq. (72)). It does not change eigenvectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ..hessian.data_loop import Batches, model_mode
from ..hessian.layerwise import find_layer

__all__ = [
    "approximate_output_hessian",
    "layer_weight_product",
    "mean_softmax_hessian",
    "predicted_output_subspace",
    "random_two_layer_weights",
    "weight_product",
]


def weight_product(weights: Sequence[Tensor]) -> Tensor:
    """S⁽ᵖ⁾ = W⁽ᴸ⁾ ⋯ W⁽ᵖ⁺¹⁾ (Wu et al. 2020, §4.4, Eq. (56)) from the weights *after* layer p in forward
    order [W⁽ᵖ⁺¹⁾, …, W⁽ᴸ⁾], each (out, in) as PyTorch stores them. An empty list is not allowed (the
    last layer's S = I_c needs c: use :func:`layer_weight_product`)."""
    if isinstance(weights, Tensor) or len(weights) == 0:
        raise ValueError("weights must be a non-empty sequence [W^(p+1), ..., W^(L)] of 2-D tensors")
    S: Tensor | None = None
    for i, W in enumerate(weights):
        if not isinstance(W, Tensor) or W.ndim != 2:
            raise ValueError(f"weights[{i}] must be a 2-D tensor (out, in), got "
                             f"{tuple(W.shape) if isinstance(W, Tensor) else type(W).__name__}")
        W = W.detach()
        if S is not None and W.shape[1] != S.shape[0]:
            raise ValueError(f"weights[{i}] has {W.shape[1]} inputs but the previous layer has {S.shape[0]} outputs")
        S = W if S is None else W @ S
    assert S is not None
    return S


def layer_weight_product(model: nn.Module, layer: nn.Module | str) -> Tensor:
    """S⁽ᵖ⁾ for fully connected layer ``layer`` of ``model``: the product of the weights of the
    ``nn.Linear`` layers registered after it (forward order = registration order, as in the paper's
    F-n^m and LeNet5 fc layers); I_c for the last layer. Raises if a convolution follows the layer
    (S⁽ᵖ⁾ is defined for fully connected layers, Eq. (22))."""
    name, mod = find_layer(model, layer)
    if not isinstance(mod, nn.Linear):
        raise ValueError(f"layer {name!r} is a {type(mod).__name__}; S^(p) is defined for nn.Linear layers")
    after = False
    weights: list[Tensor] = []
    for other_name, other in model.named_modules():
        if other is mod:
            after = True
            continue
        if not after:
            continue
        if isinstance(other, nn.Linear):
            weights.append(other.weight)
        elif isinstance(other, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            raise ValueError(f"a convolution ({other_name!r}) follows layer {name!r}: S^(p) needs fully "
                             "connected layers after it")
    if not weights:
        c = mod.out_features
        return torch.eye(c, dtype=mod.weight.dtype, device=mod.weight.device)
    return weight_product(weights)


def predicted_output_subspace(S: Tensor) -> Tensor:
    """An orthonormal basis (m, c−1) of {Sᵀ v : v ⊥ 1_c} = R(S)\\{S·1} (Wu et al. 2020, Theorem 4.1,
    §4.4; Table 10): the left singular vectors of Sᵀ(I_c − 1 1ᵀ/c) with the c−1 non-zero singular values
    (columns by decreasing singular value). Raises when that matrix has rank < c−1 (m < c−1 or a
    degenerate S)."""
    if not isinstance(S, Tensor) or S.ndim != 2:
        raise ValueError(f"S must be a 2-D tensor (c, m), got "
                         f"{tuple(S.shape) if isinstance(S, Tensor) else type(S).__name__}")
    c, m = S.shape
    if c < 2:
        raise ValueError(f"S must have c ≥ 2 rows (classes), got {c}")
    if m < c - 1:
        raise ValueError(f"the subspace has dimension c−1 = {c - 1} > m = {m}")
    S = S.detach().double() if not S.is_floating_point() else S.detach()
    P = torch.eye(c, dtype=S.dtype, device=S.device) - 1.0 / c
    U, sv, _ = torch.linalg.svd(S.T @ P, full_matrices=False)
    if float(sv[c - 2]) <= 100 * torch.finfo(S.dtype).eps * max(float(sv[0]), torch.finfo(S.dtype).tiny):
        raise ValueError("Sᵀ(I − 11ᵀ/c) has rank < c−1: the predicted subspace is degenerate")
    return U[:, : c - 1]


def mean_softmax_hessian(
    model: nn.Module, data: Any, batch_size: int | None = None, *, eval_mode: bool = True
) -> Tensor:
    """Ā = E[A_x] = E[diag(p) − p pᵀ] over ``data`` (c×c; Wu et al. 2020, Eqs. (19), (56)), accumulated
    in float64. ``batch_size`` (default None: one batch) only bounds memory; ``eval_mode`` (default
    True, not stated by the paper) uses batch norm's running statistics."""
    batches = Batches.for_model(model, data, batch_size)
    total: Tensor | None = None
    count = 0
    with model_mode(model, eval_mode), torch.no_grad():
        for x, _ in batches:
            logits = model(x)
            if logits.ndim != 2:
                raise ValueError(f"the model must return logits (batch, classes), got {tuple(logits.shape)}")
            p = torch.softmax(logits.double(), dim=-1)
            A = torch.diag(p.sum(0)) - p.T @ p
            total = A if total is None else total + A
            count += int(x.shape[0])
    if total is None or count == 0:
        raise ValueError("data yielded no samples: cannot form a mean over an empty data set")
    return total / count


def approximate_output_hessian(
    S: Tensor, mean_A: Tensor, layers_after: int | None = None, *, kappa: float | None = None
) -> Tensor:
    """M̃⁽ᵖ⁾ = κ S⁽ᵖ⁾ᵀ Ā S⁽ᵖ⁾ (Wu et al. 2020, Eq. (56)), rank c−1 with null vector direction Sᵀ1.

    Args:
        S: S⁽ᵖ⁾ (c, m).
        mean_A: Ā = E[diag(p) − ppᵀ] (c, c), e.g. from :func:`mean_softmax_hessian`.
        layers_after: L − p, for κ = 4^{−(L−p)} (inventory 000's reading of the garbled prefactor,
            §E14: 1/4 per ReLU layer, Eq. (72)); not needed when ``kappa`` is given.
        kappa: the prefactor itself (overrides ``layers_after``).
    """
    if not isinstance(S, Tensor) or S.ndim != 2:
        raise ValueError("S must be a 2-D tensor (c, m)")
    c = S.shape[0]
    if not isinstance(mean_A, Tensor) or tuple(mean_A.shape) != (c, c):
        raise ValueError(f"mean_A must be ({c}, {c}) to match S, got "
                         f"{tuple(mean_A.shape) if isinstance(mean_A, Tensor) else type(mean_A).__name__}")
    if kappa is None:
        if isinstance(layers_after, bool) or not isinstance(layers_after, int) or layers_after < 0:
            raise ValueError(f"give kappa, or layers_after = L − p ≥ 0 for κ = 4^-(L−p); got {layers_after!r}")
        kappa = 4.0 ** (-layers_after)
    dtype = torch.promote_types(S.dtype, mean_A.dtype)
    S = S.detach().to(dtype)
    M = kappa * (S.T @ mean_A.to(device=S.device, dtype=dtype) @ S)
    return (M + M.T) / 2


def random_two_layer_weights(
    d: int, n: int, c: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64
) -> tuple[Tensor, Tensor]:
    """W⁽¹⁾ (n, d) with N(0, 1/d) entries and W⁽²⁾ (c, n) with N(0, 1/n) entries: the initialisation of
    Wu et al. (2020), App. H.1.2 (the limit form of "rows rescaled to norm 1")."""
    for what, v in (("d", d), ("n", n), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{what} must be a positive integer, got {v!r}")
    W1 = torch.randn(n, d, generator=generator, dtype=dtype) / d**0.5
    W2 = torch.randn(c, n, generator=generator, dtype=dtype) / n**0.5
    return W1, W2
