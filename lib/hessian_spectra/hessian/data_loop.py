"""The one data loop of the model operators: batches on the device, the model's mode and precision during a
pass, and the parameter block an operator acts on.

A curvature product over a data set D = {(x_i, y_i)} is a mean over its samples; the operators of
:mod:`~hessian_spectra.hessian.curvature` compute it batch by batch over :class:`Batches`, inside
:func:`model_mode` (batch norm in eval mode by default) and :func:`precision_mode`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import torch
from torch import Tensor, nn

__all__ = ["Batches", "Precision", "is_pair", "model_mode", "precision_mode", "resolve_params"]

Precision = Literal["highest", "tf32", "bf16"]


def is_pair(data: Any) -> bool:
    """Whether ``data`` is a pair (inputs, targets) of tensors."""
    return (
        isinstance(data, (tuple, list))
        and len(data) == 2
        and isinstance(data[0], Tensor)
        and isinstance(data[1], Tensor)
    )


class Batches:
    """Re-iterable batches (x, y) on a device: a pair of tensors split into ``batch_size`` rows (kept on
    the device once), an object with ``.x`` and ``.y``, or a re-iterable of such pairs (each batch moved
    as it comes). Floating tensors are cast to ``dtype``."""

    def __init__(
        self,
        data: Any,
        batch_size: int | None,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        if hasattr(data, "x") and hasattr(data, "y") and not is_pair(data):
            data = (data.x, data.y)
        if is_pair(data):
            x, y = data
            if x.shape[0] != y.shape[0]:
                raise ValueError(
                    f"inputs and targets differ in length: {x.shape[0]} vs {y.shape[0]}"
                )
            if x.shape[0] == 0:
                raise ValueError("data is empty: (inputs, targets) hold 0 samples")
            # Data kept on the operator's device once (no copy if it is already there).
            self.pair: tuple[Tensor, Tensor] | None = (self._cast(x), self._cast(y))
            self.iterable = None
            self.num_samples: int | None = int(x.shape[0])
        else:
            if isinstance(data, Tensor) or not isinstance(data, Iterable):
                raise TypeError(
                    "data must be a pair (inputs, targets) of tensors, an object with .x and .y, "
                    f"or a re-iterable of such batches; got {type(data).__name__}"
                )
            if iter(data) is data:
                raise TypeError(
                    "data is a one-shot iterator (e.g. a generator); every product needs a new pass, "
                    "so pass a list or a DataLoader instead"
                )
            self.pair = None
            self.iterable = data
            self.num_samples = None

    @classmethod
    def for_model(cls, model: nn.Module, data: Any, batch_size: int | None) -> Batches:
        """Batches of ``data`` on the device and in the dtype of ``model``'s parameters."""
        param = next(iter(model.parameters()), None)
        if param is None:
            raise ValueError("the model has no parameters (cannot tell its dtype and device)")
        return cls(data, batch_size, param.device, param.dtype)

    def _cast(self, t: Tensor) -> Tensor:
        if t.is_floating_point():
            return t.to(self.device, self.dtype)
        return t.to(self.device)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        if self.pair is not None:
            x, y = self.pair
            bs = self.batch_size or x.shape[0]
            for s in range(0, x.shape[0], bs):
                yield x[s : s + bs], y[s : s + bs]
            return
        assert self.iterable is not None
        for batch in self.iterable:
            if not is_pair(batch):
                raise TypeError(
                    f"each batch must be a pair (inputs, targets) of tensors, got {type(batch).__name__}"
                )
            x, y = self._cast(batch[0]), self._cast(batch[1])
            if x.shape[0] != y.shape[0]:
                raise ValueError(f"batch inputs and targets differ in length: {x.shape[0]} vs {y.shape[0]}")
            if self.batch_size is None:
                yield x, y
            else:
                for s in range(0, x.shape[0], self.batch_size):
                    yield x[s : s + self.batch_size], y[s : s + self.batch_size]

    def __len__(self) -> int:
        if self.pair is not None:
            bs = self.batch_size or self.pair[0].shape[0]
            return math.ceil(self.pair[0].shape[0] / bs)
        try:
            return len(self.iterable)  # type: ignore[arg-type]
        except TypeError:
            return 0


@contextlib.contextmanager
def model_mode(model: nn.Module, eval_mode: bool) -> Iterator[None]:
    """Put every module of ``model`` in eval mode inside the block (batch norm uses its running
    statistics) when ``eval_mode``, restoring each module's flag afterwards."""
    if not eval_mode:
        yield
        return
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag


@contextlib.contextmanager
def precision_mode(precision: Precision, device: torch.device) -> Iterator[None]:
    """``highest``: nothing changes; ``tf32``: TF32 matmuls and convolutions on CUDA; ``bf16``: autocast
    to bfloat16 on the device."""
    if precision == "highest":
        yield
    elif precision == "tf32":
        old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old
    elif precision == "bf16":
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
    else:  # pragma: no cover - checked in the constructor
        raise ValueError(precision)


def resolve_params(
    model: nn.Module, params: Any
) -> tuple[list[str], list[nn.Parameter]]:
    """(names, parameters) selected by ``params``: None (every parameter with requires_grad), a
    submodule, or a list of names or parameter tensors; checked for duplicates, requires_grad and one
    dtype and device."""
    named = list(model.named_parameters())
    by_id = {id(p): n for n, p in named}
    if params is None:
        chosen = [(n, p) for n, p in named if p.requires_grad]
    elif isinstance(params, nn.Module):
        chosen = []
        for p in params.parameters():
            if id(p) not in by_id:
                raise ValueError("params module is not a submodule of model")
            chosen.append((by_id[id(p)], p))
    else:
        if isinstance(params, (str, Tensor)):
            params = [params]
        lookup = dict(named)
        chosen = []
        for item in params:
            if isinstance(item, str):
                if item not in lookup:
                    raise ValueError(f"unknown parameter {item!r}; known: {sorted(lookup)}")
                chosen.append((item, lookup[item]))
            elif isinstance(item, Tensor):
                if id(item) not in by_id:
                    raise ValueError("a tensor in params is not a parameter of model")
                chosen.append((by_id[id(item)], item))
            else:
                raise TypeError(f"params entries must be names or parameters, got {type(item).__name__}")
    if not chosen:
        raise ValueError("no parameters selected (params is empty or no parameter requires grad)")
    names = [n for n, _ in chosen]
    if len(set(names)) != len(names):
        raise ValueError(f"params lists a parameter twice: {names}")
    for n, p in chosen:
        if not p.requires_grad:
            raise ValueError(f"parameter {n!r} has requires_grad=False")
    dtypes = {p.dtype for _, p in chosen}
    devices = {p.device for _, p in chosen}
    if len(dtypes) != 1 or len(devices) != 1:
        raise ValueError(f"parameters must share one dtype and device, got {dtypes} and {devices}")
    return names, [p for _, p in chosen]
