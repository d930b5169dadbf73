"""Reuse of the primal pass between curvature products at the same parameters.

Every product ``op @ V`` starts, on each sweep of samples, with the model's forward pass and (for
the Hessian) the first backward pass: the *primal pass*, one gradient pass of work that is the
same for every V as long as the parameters and the data stay fixed. Iterative algorithms (Lanczos,
subspace iteration, Hutchinson) make tens to hundreds of products at the same parameters. Keeping
each sweep's autograd graph makes every later product pay only its second-order part:

* Hessian: keep g_b = ∇_w ℓ_b, built with ``create_graph=True``. Then H_b v = ∇_w (g_bᵀ v), one
  backward pass through the kept graph (Pearlmutter 1994). FlopCounterMode on the MLP of
  ``benchmarks/``: 1.66 gradient passes of work instead of 2.66 for a product from scratch.
* GGN: keep f = f(x_b; w) and the map u ↦ Jᵀu = ∇_w (fᵀu), built at u = 0 with
  ``create_graph=True``. The map is linear in u, so a backward pass through it gives
  J v = ∇_u ((Jᵀu)ᵀ v) (the "double-vjp" trick, exact); then G_b v = Jᵀ H_out (J v) by a
  backward pass through f. About 1.3 gradient passes of work instead of 1.6.

The vectors of a k-vector product go through the kept graph one after another: on a CPU this
was faster per vector than any batched form (MLP 784-512-512-512-10, batch 512, 8 vectors, one
thread: 1.69 gradient passes per vector, against 1.95 for ``is_grads_batched`` over the same
graph and 1.93 for the uncached vmapped forward-over-reverse), but not for every model (LeNet5 on
CIFAR-10 images: 1.57 against 1.26 for the uncached sweeps), so the way for k vectors is chosen by
the parameter block's structure (:func:`~hessian_spectra.hessian.speed.way_rule`; timing both ways is an
opt-in, :meth:`~hessian_spectra.hessian.speed.SweepPlan.batch_products`).

A kept graph holds one forward pass's activations and one backward pass's intermediates, so the
cache has a byte budget; sweeps beyond it are computed from scratch. An entry is valid only while
every parameter, buffer and the data are unchanged: their version counters and storages form
the cache key, so an optimizer step (any in-place write) or a new ``.data`` empties the cache.
Graphs are not kept while a module is in training mode (dropout masks and batch statistics would be
frozen into the operator).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["PrimalCache", "PrimalEntry", "build_entry", "cached_ggn", "cached_hvp"]


@dataclass
class PrimalEntry:
    """The kept graph of one sweep.

    ``grads[i]`` is g_b (Hessian) or Jᵀu (GGN) for parameter i, None where it does not depend on
    the parameters (Hessian: the loss is linear in that parameter) or on u (an unused parameter).
    """

    grads: tuple[Tensor | None, ...]
    out: Tensor | None  # GGN: the network output f(x_b; w), with its graph
    u: Tensor | None  # GGN: the cotangent the map Jᵀu was built at (zeros, requires grad)
    y: Tensor
    nbytes: int


class _SavedBytes:
    """Bytes of the distinct storages autograd saves for backward, not counting ``exclude``
    (the parameters and the inputs, which exist anyway). An estimate: it sees what is saved
    through ``saved_tensors_hooks``."""

    def __init__(self, exclude: Sequence[Tensor]) -> None:
        self.seen = {t.untyped_storage().data_ptr() for t in exclude}
        self.nbytes = 0

    def add(self, t: Tensor) -> None:
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in self.seen:
            self.seen.add(ptr)
            self.nbytes += storage.nbytes()

    def pack(self, t: Tensor) -> Tensor:
        self.add(t)
        return t


def build_entry(
    kind: str,
    forward: Callable[[Tensor], Tensor],
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    params: Sequence[Tensor],
    x: Tensor,
    y: Tensor,
) -> PrimalEntry:
    """Run the primal pass on (x, y) and keep its graph (see the module docstring)."""
    counter = _SavedBytes(list(params) + [x, y])
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(counter.pack, lambda t: t):
        out = forward(x)
        if kind == "hessian":
            grads = torch.autograd.grad(loss_fn(out, y), params, create_graph=True, allow_unused=True)
            kept_out, u = None, None
        else:
            u = torch.zeros_like(out, requires_grad=True)
            grads = torch.autograd.grad(out, params, grad_outputs=u, create_graph=True, allow_unused=True)
            kept_out = out
    kept = tuple(g if g is not None and g.requires_grad else None for g in grads)
    for t in [g for g in kept if g is not None] + ([out, u] if kind == "ggn" else []):
        counter.add(t)
    return PrimalEntry(kept, kept_out, u, y, counter.nbytes)


def cached_hvp(
    entry: PrimalEntry, params: Sequence[Tensor], vblocks: Sequence[Tensor], k: int
) -> Iterator[tuple[int, list[Tensor]]]:
    """(j, H_b v_j per parameter) for j = 0 … k−1: one backward pass through the kept g_b per
    vector. Nothing is yielded when the loss is linear in every parameter (H_b = 0). The results
    are yielded as autograd makes them, so the caller adds them where they belong without first
    copying them into a (k, p) block (on a CPU a fresh block of that size costs page faults)."""
    idx = [i for i, g in enumerate(entry.grads) if g is not None]
    if not idx:
        return
    gsel = [entry.grads[i] for i in idx]
    for j in range(k):
        hv = torch.autograd.grad(
            gsel, params, grad_outputs=[vblocks[i][j] for i in idx],
            retain_graph=True, allow_unused=True, materialize_grads=True,
        )
        yield j, list(hv)


def cached_ggn(
    entry: PrimalEntry,
    params: Sequence[Tensor],
    vblocks: Sequence[Tensor],
    k: int,
    output_hessian: Callable[[Tensor, Tensor, Tensor], Tensor],
) -> Iterator[tuple[int, list[Tensor]]]:
    """(j, G_b v_j per parameter) for j = 0 … k−1: J v_j by a backward pass through the kept Jᵀu,
    then Jᵀ (H_out J v_j) by a backward pass through the kept f. ``output_hessian(out, y, t)``
    applies H_out to one tangent t of the outputs' shape. Nothing is yielded when no parameter
    reaches the output (G_b = 0)."""
    assert entry.out is not None and entry.u is not None
    idx = [i for i, g in enumerate(entry.grads) if g is not None]
    if not idx:
        return
    jtu = [entry.grads[i] for i in idx]
    out = entry.out.detach()
    for j in range(k):
        (jv,) = torch.autograd.grad(jtu, entry.u, grad_outputs=[vblocks[i][j] for i in idx], retain_graph=True)
        hjv = output_hessian(out, entry.y, jv).to(entry.out.dtype)
        gv = torch.autograd.grad(
            entry.out, params, grad_outputs=hjv, retain_graph=True, allow_unused=True, materialize_grads=True
        )
        yield j, list(gv)


class PrimalCache:
    """Kept primal graphs of an operator's sweeps, keyed by (batch index, first sample, samples),
    within a budget of ``budget`` bytes (0: keep nothing)."""

    def __init__(self, budget: int) -> None:
        self.budget = int(budget)
        self.entries: dict[tuple[int, int, int], PrimalEntry] = {}
        self.nbytes = 0
        self.full = False  # a sweep did not fit: later sweeps are not tried either
        self._state: tuple | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def clear(self) -> None:
        """Drop every kept graph (the memory is freed once nothing else refers to it)."""
        self.entries.clear()
        self.nbytes = 0
        self.full = False

    @staticmethod
    def state(model: nn.Module, tensors: Sequence[Tensor]) -> tuple:
        """What the kept graphs depend on: version counter and storage of every parameter, buffer
        and data tensor, and every module's training flag."""
        ts = [*model.parameters(), *model.buffers(), *tensors]
        return (
            tuple((t._version, t.untyped_storage().data_ptr(), t.dtype, t.device) for t in ts),
            tuple(m.training for m in model.modules()),
        )

    def validate(self, state: tuple) -> None:
        """Empty the cache if ``state`` differs from the one its graphs were built in."""
        if state != self._state:
            self.clear()
            self._state = state

    def get(self, key: tuple[int, int, int]) -> PrimalEntry | None:
        return self.entries.get(key)

    def admit(self, key: tuple[int, int, int], entry: PrimalEntry) -> bool:
        """Keep ``entry`` if it fits in the budget; otherwise mark the cache full."""
        if self.nbytes + entry.nbytes > self.budget:
            self.full = True
            return False
        self.entries[key] = entry
        self.nbytes += entry.nbytes
        return True
