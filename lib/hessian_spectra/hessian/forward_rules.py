"""Forward-mode rules for linear and convolution layers whose input carries no tangent.

A Jacobian-vector product through y = x Wᵀ + b is ẏ = ẋ Wᵀ + x Ẇᵀ + ḃ. When the layer's input x
does not depend on the parameters (the network's first layer: x is the data), ẋ = 0 and the first
term vanishes. torch's own forward-mode formulas for ``linear`` and ``convolution`` do not skip it:
they materialise ẋ as zeros and multiply by it, one wasted matmul per such layer. On torch 2.14.1,
``torch.func.jvp`` of ``F.linear`` (or ``F.conv2d``) with respect to the weight alone counts 3.0
forward matmuls in ``FlopCounterMode`` instead of 2.0 and takes 3.2x the time of one forward
(measured for a 784 → 512 layer on 512 MNIST-sized inputs, one CPU thread). For an MLP on MNIST,
whose first layer holds 43 % of its weights, this is 0.17 gradient passes of the 1.78 a GGN-vector
product cost (``benchmarks/results/cpu.md``).

:func:`skip_zero_input_tangents` is a context manager (a :class:`torch.overrides.TorchFunctionMode`)
that routes ``F.linear`` / ``F.conv1d`` / ``F.conv2d`` / ``F.conv3d`` calls whose input is
tangent-free (a plain tensor without a forward-mode tangent, or the output of operations on such
tensors alone, e.g. ``flatten(x)``, tracked through the mode: hence ẋ = 0 exactly) through
:class:`torch.autograd.Function` s whose ``jvp`` computes x Ẇᵀ + ḃ only. Their ``backward`` gives
the same gradients as torch's (``aten.convolution_backward`` for convolutions); ``vmap`` rules are
generated. Every other call, and every call under autocast (whose dtype casts the rules would have
to mirror), runs torch's own implementation unchanged. Used by the GGN products of
:mod:`hessian_spectra.hessian.curvature`; tests compare them with dense J^T H J in float64.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch._C._functorch import is_functorch_wrapped_tensor
from torch.autograd import forward_ad
from torch.overrides import TorchFunctionMode
from torch.utils import _pytree as pytree

__all__ = ["skip_zero_input_tangents"]


def _has_no_tangent(x: Any) -> bool:
    """True when ``x`` is a plain tensor: not wrapped by a torch.func transform, no dual tangent."""
    return (
        isinstance(x, Tensor)
        and not is_functorch_wrapped_tensor(x)
        and forward_ad.unpack_dual(x).tangent is None
    )


class _ConstantInputLinear(torch.autograd.Function):
    """y = F.linear(x, W, b) for an input x with ẋ = 0: ẏ = F.linear(x, Ẇ, ḃ)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:  # type: ignore[override]
        return F.linear(x, weight, bias)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        x, weight, bias = inputs
        ctx.save_for_backward(x, weight)
        ctx.save_for_forward(x)
        ctx.has_bias = bias is not None
        ctx.set_materialize_grads(False)  # ẋ is None in jvp, not a zero tensor of the data's shape

    @staticmethod
    def jvp(ctx: Any, x_t: Tensor | None, weight_t: Tensor | None, bias_t: Tensor | None) -> Tensor:
        (x,) = ctx.saved_tensors
        if weight_t is None:  # only the bias moves
            return bias_t.expand(*x.shape[:-1], bias_t.shape[-1]).clone()  # type: ignore[union-attr]
        return F.linear(x, weight_t, bias_t)

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None) -> tuple[Tensor | None, Tensor | None, Tensor | None]:  # type: ignore[override]
        if grad is None:  # the output does not reach what is differentiated
            return None, None, None
        x, weight = ctx.saved_tensors
        g2 = grad.reshape(-1, grad.shape[-1])
        gx = grad @ weight if ctx.needs_input_grad[0] else None
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if ctx.needs_input_grad[1] else None
        gb = g2.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return gx, gw, gb


_CONV = {F.conv1d: 1, F.conv2d: 2, F.conv3d: 3}


def _tuple(v: Any, n: int) -> list[int]:
    return list(v) if isinstance(v, (tuple, list)) else [int(v)] * n


class _ConstantInputConv(torch.autograd.Function):
    """y = conv(x, W, b) for an input x with ẋ = 0: ẏ = conv(x, Ẇ, ḃ) (1-, 2- or 3-d)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, weight: Tensor, bias: Tensor | None, stride: list[int], padding: list[int],  # type: ignore[override]
                dilation: list[int], groups: int) -> Tensor:
        return torch.ops.aten.convolution(x, weight, bias, stride, padding, dilation, False, [0] * len(stride), groups)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        x, weight, bias, stride, padding, dilation, groups = inputs
        ctx.save_for_backward(x, weight)
        ctx.save_for_forward(x)
        ctx.conf = (stride, padding, dilation, groups)
        ctx.bias_shape = None if bias is None else list(bias.shape)
        ctx.out_shape = output.shape
        ctx.set_materialize_grads(False)  # ẋ is None in jvp, not a zero tensor of the data's shape

    @staticmethod
    def jvp(ctx: Any, x_t: Tensor | None, weight_t: Tensor | None, bias_t: Tensor | None, *_: Any) -> Tensor:
        (x,) = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.conf
        if weight_t is None:  # only the bias moves
            shape = ctx.out_shape
            return bias_t.reshape(1, -1, *([1] * (len(shape) - 2))).expand(shape).clone()  # type: ignore[union-attr]
        return torch.ops.aten.convolution(x, weight_t, bias_t, stride, padding, dilation, False, [0] * len(stride), groups)

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None) -> tuple[Any, ...]:  # type: ignore[override]
        if grad is None:  # the output does not reach what is differentiated
            return (None,) * 7
        x, weight = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.conf
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1],
                ctx.bias_shape is not None and ctx.needs_input_grad[2]]
        gx, gw, gb = torch.ops.aten.convolution_backward(
            grad, x, weight, ctx.bias_shape, stride, padding, dilation, False, [0] * len(stride), groups, mask
        )
        return gx, gw, gb, None, None, None, None


def _conv_args(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """(x, W, b, stride, padding, dilation, groups) with list arguments, or None when unsupported."""
    names = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
    defaults = {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}
    values = dict(zip(names, args))
    for key, val in kwargs.items():
        if key not in names or key in values:
            return None
        values[key] = val
    values = {**defaults, **values}
    if isinstance(values["padding"], str):  # 'same' / 'valid': leave to torch
        return None
    n = _CONV[func]
    return (values["input"], values["weight"], values["bias"], _tuple(values["stride"], n),
            _tuple(values["padding"], n), _tuple(values["dilation"], n), int(values["groups"]))


# functions that give a tensor a tangent (torch.func.jvp calls them on plain primals and tangents)
_ATTACHES_TANGENTS = {"_make_dual", "make_dual"}


class skip_zero_input_tangents(TorchFunctionMode):
    """Within this context, linear and convolution layers fed by a tangent-free input (the data,
    or anything computed from the data and constants alone, such as ``flatten(x)``) use
    forward-mode rules without the zero input-tangent term (see the module docstring).
    Results are unchanged; the forward-mode work of those layers halves.

    Inside a ``torch.func`` transform, even ``flatten(x)`` of plain data comes back wrapped, so
    tangent-freeness is tracked: a plain tensor without a dual tangent is tangent-free, and so is
    every output of an operation whose tensor arguments are all tangent-free.
    """

    def __init__(self) -> None:
        super().__init__()
        self._free: dict[int, Tensor] = {}  # id -> tensor (kept alive so that ids stay unique)

    def __exit__(self, *exc: Any) -> Any:
        self._free.clear()
        return super().__exit__(*exc)

    def _tangent_free(self, t: Any) -> bool:
        return id(t) in self._free or _has_no_tangent(t)

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func is F.linear or func in _CONV:
            x = args[0] if args else kwargs.get("input")
            w = args[1] if len(args) > 1 else kwargs.get("weight")
            if (
                isinstance(x, Tensor)
                and isinstance(w, Tensor)
                and self._tangent_free(x)
                and not self._tangent_free(w)
                and not torch.is_autocast_enabled(x.device.type)
            ):
                if func is F.linear:
                    if len(args) <= 3 and set(kwargs) <= {"input", "weight", "bias"}:
                        bias = args[2] if len(args) > 2 else kwargs.get("bias")
                        return _ConstantInputLinear.apply(x, w, bias)
                else:
                    conv = _conv_args(func, args, kwargs)
                    if conv is not None:
                        return _ConstantInputConv.apply(*conv)
        out = func(*args, **kwargs)
        if getattr(func, "__name__", "") in _ATTACHES_TANGENTS:
            return out
        tensors = [t for t in pytree.tree_leaves((args, kwargs)) if isinstance(t, Tensor)]
        if all(self._tangent_free(t) for t in tensors):
            for t in pytree.tree_leaves(out):
                if isinstance(t, Tensor):
                    self._free[id(t)] = t
        return out
