"""The output Hessian H_out = ∂²ℓ/∂f² of a loss with respect to the network outputs f.

The Gauss-Newton matrix G = (1/N) Σ_i J_iᵀ H_i J_i needs H_i applied to tangents of the outputs. For
the batch-mean cross-entropy and MSE it has a closed form (no second backward pass); for any other loss
autograd computes the product. Wu et al. (2020) call its expectation E[M], the "output Hessian", one of
the two Kronecker factors of a layer's Hessian (their Eq. (3)).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["LossFn", "apply_output_hessian", "output_hessian_kind"]

LossFn = Callable[[Tensor, Tensor], Tensor]


def output_hessian_kind(loss_fn: LossFn) -> str | None:
    """'ce' or 'mse' where ∂²ℓ/∂f² has a closed form for ``loss_fn``, else None (autograd)."""
    if loss_fn is F.cross_entropy:
        return "ce"
    if loss_fn is F.mse_loss:
        return "mse"
    if isinstance(loss_fn, nn.CrossEntropyLoss):
        if (
            loss_fn.weight is None
            and loss_fn.reduction == "mean"
            and loss_fn.label_smoothing == 0.0
        ):
            return "ce"
        return None
    if isinstance(loss_fn, nn.MSELoss) and loss_fn.reduction == "mean":
        return "mse"
    return None


def apply_output_hessian(
    kind: str | None,
    loss_fn: LossFn,
    out: Tensor,
    y: Tensor,
    T: Tensor,
    batched: bool,
) -> Tensor:
    """H_out T for tangents T of shape (k, *out.shape) (or out.shape when not batched).

    * cross-entropy (batch mean, integer targets, logits (B, C)):
      H_i = (diag(p_i) − p_i p_iᵀ)/B with p_i = softmax(f_i), so H_i t = (p ⊙ t − p (pᵀt))/B;
      (class indices equal to ignore_index, or probability targets, fall back to autograd);
    * MSE (mean over all B·C entries): H = 2 I /(B·C);
    * otherwise: a Hessian-vector product of ``loss_fn`` with respect to the outputs.
    """
    if kind == "ce" and out.ndim == 2 and not y.is_floating_point():
        ignore = getattr(loss_fn, "ignore_index", -100)
        if not bool((y == ignore).any()):
            p = torch.softmax(out.detach(), dim=-1)
            return (p * T - p * (p * T).sum(-1, keepdim=True)) / out.shape[0]
    if kind == "mse" and y.shape == out.shape:
        return T * (2.0 / out.numel())
    out_d = out.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(out_d, y)
        (g,) = torch.autograd.grad(loss, out_d, create_graph=True)
        if not g.requires_grad:  # loss linear in the outputs
            return torch.zeros_like(T)
        (hT,) = torch.autograd.grad(g, out_d, grad_outputs=T, is_grads_batched=batched)
    return hT
