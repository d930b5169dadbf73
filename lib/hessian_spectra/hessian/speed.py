"""How the model operators arrange their work: the speed machinery, behind one switch (``speed=``).

An exact curvature product ``op @ V`` over a data set is a sum of per-sweep products (a sweep is a
batch, or part of one). What a sweep costs depends on how it is computed, never what it gives: every
arrangement below is exact and differs from the plain one by rounding only. The parts, and what each
bought where it was measured (``benchmarks/results/cpu.md``: MLP 784-512-512-512-10 on 2,048 MNIST
images and LeNet5 on 2,048 CIFAR-10 images, one thread of a 2-core AMD EPYC, float32; "gradient passes"
= time of one forward + backward pass over the same data):

=========================  ======================================================================
part                       what it buys
=========================  ======================================================================
kept primal graphs         later products at the same parameters pay only their second-order part
(``primal_cache_bytes``,   (:mod:`.primal_cache`): one HVP 2.73 → 1.68 gradient passes (MLP),
:mod:`.primal_cache`)      2.50 → 1.50 (LeNet5); a GGN product 1.79 → 1.33 (MLP). Off on a GPU
                           until timed there.
several vectors per        forward-over-reverse (``hvp_method='auto'``) shares the primal pass of
pass (``hvp_method``)      k vectors: 8 vectors 1.93 / 1.20 gradient passes per vector, against
                           2.73 / 2.50 for one vector at a time.
sweeps sized to the        k tangent sweeps of a whole batch outgrow the CPU caches: LeNet5 GGN,
caches                     8 vectors, batch 512: 1.86 gradient passes per vector; sweeps of about
(``max_sweep_bytes``)      64 MiB of activations: 0.99.
forward rules              layers fed by the data skip torch's multiplication by a zero input
(``forward_rules``,        tangent in forward mode: one matmul per first layer and GGN product
:mod:`.forward_rules`)     (FLOP count tested exactly).
way for k vectors          through the kept graph one vector after another, or from scratch with
(``k_way``)                the k vectors batched: for 4 vectors the MLP was faster through the graph
                           (1.69 against 1.93 gradient passes per vector), LeNet5 from scratch
                           (1.26 against 1.57). ``'rule'`` (the default) decides by the block's
                           structure, from those measurements: from scratch when the parameter
                           block holds a convolution's parameters, through the kept graph
                           otherwise (:func:`way_rule`). ``'timed'`` times one
                           sweep each way and keeps the faster; it is an opt-in, because a choice
                           made by the clock can differ between runs and change the rounding.
=========================  ======================================================================

``speed="auto"`` (the default) turns every part on with the defaults above; ``speed="off"`` computes
every product the textbook way (double backward, one batch per sweep, no kept graphs, torch's own
forward-mode rules), the reference the others are tested against; a :class:`SpeedOptions` sets each
part. No default path depends on the clock: the same seed, inputs and device give the same bytes.

Robustness, not speed, but arranged here too: a sweep that runs out of memory is redone in halves (the
smaller size kept for later products), and out-of-memory while keeping a graph turns the cache off.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import torch
from torch import Tensor, nn

from .primal_cache import PrimalCache, build_entry

if TYPE_CHECKING:  # pragma: no cover
    from .curvature import ModelCurvatureOperator

__all__ = ["SpeedOptions", "SweepPlan", "resolve_speed", "way_rule", "synchronize", "MIN_SWEEP_SAMPLES"]

HvpMethod = Literal["auto", "double_backward", "forward_over_reverse"]
KWay = Literal["rule", "timed", "kept", "scratch"]
# add(rows, parts, samples): acc[rows] += samples · parts (per-parameter results of one sweep)
AddProducts = Callable[[slice, list[Tensor], int], None]

# the fewest samples per sweep when a batch is split for the caches (not from the papers; a guard
# against sweeps too small to use the matrix units, not tuned)
MIN_SWEEP_SAMPLES = 32


@dataclass(frozen=True)
class SpeedOptions:
    """Each part of the speed machinery (see the module docstring for what each buys).

    Attributes:
        primal_cache_bytes: bytes of autograd graphs kept between products at the same parameters;
            ``'auto'``: min(2 GiB, memory / 8) on a CPU, 0 on a GPU (not timed there yet); 0: off.
            Not from the papers (the MLP of ``benchmarks/`` keeps 34 MiB for 2,048 MNIST images,
            LeNet5 140 MiB for 2,048 CIFAR-10 images; VGG16-BN keeps 4.6 MiB per CIFAR-10 image).
        max_sweep_bytes: split each batch so that the k tangent sweeps of a k-vector product hold
            about this many bytes of activations; ``'auto'``: 64 MiB on a CPU (suited LeNet5 and the MLP
            of ``benchmarks/`` on a 32 MiB L3 cache; not from the papers), no split on a GPU; None:
            never split.
        forward_rules: skip the zero input-tangent matmul of layers fed by the data (GGN products).
        hvp_method: k > 1 Hessian-vector products from scratch: ``'auto'`` (forward-over-reverse,
            vmapped, falling back to batched double backward for models ``torch.func`` cannot
            transform), ``'double_backward'`` (batched second backward) or ``'forward_over_reverse'``.
        k_way: how products with kept graphs take k vectors: ``'rule'`` (by the model's structure,
            deterministic), ``'timed'`` (one timed sweep each way; opt-in), ``'kept'`` or ``'scratch'``.
    """

    primal_cache_bytes: int | Literal["auto"] = "auto"
    max_sweep_bytes: int | None | Literal["auto"] = "auto"
    forward_rules: bool = True
    hvp_method: HvpMethod = "auto"
    k_way: KWay = "rule"

    def __post_init__(self) -> None:
        pcb = self.primal_cache_bytes
        if pcb != "auto" and (not isinstance(pcb, int) or isinstance(pcb, bool) or pcb < 0):
            raise ValueError(f"primal_cache_bytes must be a non-negative integer or 'auto', got {pcb!r}")
        msb = self.max_sweep_bytes
        if msb not in ("auto", None) and (not isinstance(msb, int) or isinstance(msb, bool) or msb < 1):
            raise ValueError(f"max_sweep_bytes must be a positive integer, None or 'auto', got {msb!r}")
        if self.hvp_method not in ("auto", "double_backward", "forward_over_reverse"):
            raise ValueError(
                f"hvp_method must be 'auto', 'double_backward' or 'forward_over_reverse', got {self.hvp_method!r}"
            )
        if self.k_way not in ("rule", "timed", "kept", "scratch"):
            raise ValueError(f"k_way must be 'rule', 'timed', 'kept' or 'scratch', got {self.k_way!r}")
        if not isinstance(self.forward_rules, bool):
            raise ValueError(f"forward_rules must be True or False, got {self.forward_rules!r}")

    @classmethod
    def off(cls) -> SpeedOptions:
        """The textbook products: double backward, whole batches, no kept graphs, no forward rules."""
        return cls(primal_cache_bytes=0, max_sweep_bytes=None, forward_rules=False, hvp_method="double_backward")

    def resolved(self, device: torch.device) -> SpeedOptions:
        """The options with every ``'auto'`` budget replaced by its value on ``device``."""
        pcb, msb = self.primal_cache_bytes, self.max_sweep_bytes
        if pcb == "auto":
            pcb = min(2 * 2**30, physical_memory() // 8) if device.type == "cpu" else 0
        if msb == "auto":
            msb = 64 * 2**20 if device.type == "cpu" else None
        return replace(self, primal_cache_bytes=pcb, max_sweep_bytes=msb)


def resolve_speed(speed: SpeedOptions | str, device: torch.device) -> SpeedOptions:
    """``'auto'`` → :class:`SpeedOptions` (), ``'off'`` → :meth:`SpeedOptions.off`, resolved on ``device``."""
    if isinstance(speed, SpeedOptions):
        return speed.resolved(device)
    if speed == "auto":
        return SpeedOptions().resolved(device)
    if speed == "off":
        return SpeedOptions.off().resolved(device)
    raise ValueError(f"speed must be 'auto', 'off' or a SpeedOptions, got {speed!r}")


def physical_memory() -> int:
    """Bytes of physical memory of this machine (8 GiB where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (so that a wall-clock time covers it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def way_rule(model: nn.Module, params: Sequence[Tensor] | None = None) -> Literal["kept", "scratch"]:
    """The default way of k-vector products with kept graphs: ``'scratch'`` (batched, from scratch) when
    the parameter block (``params``; default every parameter) holds a convolution's parameters,
    ``'kept'`` (through the kept graph, one vector after another) otherwise.

    From the measurements of the module docstring: a batched convolution over k tangents runs much
    faster than k convolutions (LeNet5, all parameters, 4 vectors: 1.26 against 1.57 gradient passes
    per vector), while a linear layer's k products are already large matmuls (the MLP: 1.69 against
    1.93). A block of later layers keeps the rule's second half: through the kept graph a product
    backpropagates only below the block's layers, from scratch it redoes the whole forward pass
    (fc1 of LeNet5, 48,000 parameters, 8 vectors: 15.8 ms per vector kept, 80.9 ms from scratch;
    ``benchmarks/results/structure_cpu_n2000.md``, measured before this rule). Other architectures: ``SpeedOptions(k_way='timed')``
    measures, and a benchmark row says which was faster.
    """
    chosen = {id(q) for q in (params if params is not None else model.parameters())}
    for m in model.modules():
        if isinstance(m, nn.modules.conv._ConvNd) and any(id(q) in chosen for q in m.parameters(recurse=False)):
            return "scratch"
    return "kept"


def activation_bytes_per_sample(model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor],
                                x: Tensor, y: Tensor) -> float:
    """Bytes autograd saves for backward per sample: (saved(4 samples) − saved(2 samples)) / 2."""

    def saved(n: int) -> int:
        total = 0

        def pack(t: Tensor) -> Tensor:
            nonlocal total
            total += t.numel() * t.element_size()
            return t

        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss_fn(model(x[:n]), y[:n])
        return total

    return max(saved(4) - saved(2), 0) / 2.0


class SweepPlan:
    """The speed machinery's state for one operator: its kept graphs, the sizes of its sweeps, and
    (with ``k_way='timed'``) the ways chosen per number of vectors.

    The operator supplies the mathematics of one sweep (``op.sweep_products`` from scratch,
    ``op.kept_products`` through a kept graph); this class decides how a batch is swept.
    """

    def __init__(self, options: SpeedOptions) -> None:
        self.options = options
        assert isinstance(options.primal_cache_bytes, int), "resolve the options first"
        self.primal_cache = PrimalCache(options.primal_cache_bytes)
        self.k_choice: dict[int, str] = {}  # k -> 'kept' | 'scratch' (timed once, k_way='timed')
        self.k_trials: dict[int, dict[str, float]] = {}  # k -> seconds per sample of each way tried
        self.bytes_per_sample: float | None = None
        self.max_sample_vectors: int | None = None  # set after an out-of-memory error

    # -- kept graphs -----------------------------------------------------------------------------
    def use_primal_cache(self, op: ModelCurvatureOperator) -> bool:
        """Whether products may keep and reuse primal graphs now (called inside the model-mode
        context): a positive budget, data held as one pair of tensors (an iterable may yield other
        batches next time), no module in training mode, and for the Hessian a method that is double
        backward at heart. Empties the cache when the parameters, buffers or data changed since its
        graphs were built."""
        if self.primal_cache.budget <= 0 or op.batches.pair is None:
            return False
        if op.curvature == "hessian" and self.options.hvp_method == "forward_over_reverse":
            return False
        if any(m.training for m in op.model.modules()):
            return False
        self.primal_cache.validate(PrimalCache.state(op.model, op.batches.pair))
        return True

    def _way(self, op: ModelCurvatureOperator, k: int) -> str | None:
        """'kept' or 'scratch' for a k-vector product, or None while a timed choice is pending."""
        if op.curvature == "hessian" and (k == 1 or self.options.hvp_method == "double_backward"):
            # the kept graph is the first half of double backward: keeping it costs nothing
            return "kept"
        k_way = self.options.k_way
        if k_way == "rule":
            return way_rule(op.model, op.params)
        if k_way == "timed":
            return self.k_choice.get(k)
        return k_way

    def batch_products(self, op: ModelCurvatureOperator, index: int, x: Tensor, y: Tensor,
                       vblocks: list[Tensor], k: int, use_cache: bool, add: AddProducts) -> None:
        """Add the batch ``index``'s products to the operator's sum through ``add(rows, parts,
        samples)``, from kept primal graphs where the way for k vectors says so.

        With the cache, the batch is swept in the parts a one-vector product would use (so the keys
        do not depend on k). A sweep without a kept graph builds one (the primal pass every product
        needs anyway) and keeps it if it fits the budget; if it does not fit, it still serves this
        product. With ``k_way='timed'`` the operator times one sweep through the kept graph and the
        next from scratch, per sample, and keeps the faster way for every later k-vector product;
        both timed sweeps' products are used, so choosing costs no extra work."""
        if not use_cache:
            self.swept_products(op, x, y, vblocks, k, add)
            return
        cache, n_b = self.primal_cache, int(x.shape[0])
        step = self.sweep_samples(op, x, y, 1)
        for start in range(0, n_b, step):
            xs, ys = x[start : start + step], y[start : start + step]
            n_s, key = int(xs.shape[0]), (index, start, int(xs.shape[0]))
            choice = self._way(op, k)
            trial = self.k_trials.setdefault(k, {}) if choice is None else {}
            wants_graph = choice == "kept" or (choice is None and "kept" not in trial)
            entry = cache.get(key)
            if entry is None and wants_graph and not cache.full:
                try:
                    entry = build_entry(op.curvature, op.model, op.loss_fn, op.params, xs, ys)
                except torch.OutOfMemoryError:  # the graphs do not fit: stop keeping them
                    cache.clear()
                    cache.full = True
                    if op.device.type == "cuda":
                        torch.cuda.empty_cache()
                    entry = None
                else:
                    cache.admit(key, entry)
            way = "kept" if entry is not None and wants_graph else "scratch"
            t0 = self._clock(op.device) if choice is None else 0.0
            if way == "kept":
                for j, parts in op.kept_products(entry, vblocks, k):
                    add(slice(j, j + 1), parts, n_s)
            else:
                self.swept_products(op, xs, ys, vblocks, k, add)
            if choice is None and (way == "kept" or "kept" in trial):
                # a scratch sweep is only timed once the kept way has been, so that a cache too
                # small for any graph decides nothing
                trial.setdefault(way, (self._clock(op.device) - t0) / n_s)
                if len(trial) == 2:
                    self.k_choice[k] = "kept" if trial["kept"] <= trial["scratch"] else "scratch"

    @staticmethod
    def _clock(device: torch.device) -> float:
        synchronize(device)
        return time.perf_counter()

    # -- sweeps from scratch ------------------------------------------------------------------
    def swept_products(self, op: ModelCurvatureOperator, x: Tensor, y: Tensor, vblocks: list[Tensor],
                       k: int, add: AddProducts) -> None:
        """Add the products of consecutive sweeps over the batch (x, y), each from scratch (one sweep
        unless the batch is split, see :meth:`sweep_samples`), as each sweep completes."""
        n_b, start = int(x.shape[0]), 0
        while start < n_b:
            stop = start + self.sweep_samples(op, x, y, k)
            xs, ys = x[start:stop], y[start:stop]
            try:
                parts = op.sweep_products(xs, ys, vblocks, k)
            except torch.OutOfMemoryError:
                self.shrink(op, int(xs.shape[0]), k)  # raises when it cannot
                continue  # the same samples again, in smaller sweeps; nothing is lost
            add(slice(None), parts, int(xs.shape[0]))
            start += int(xs.shape[0])

    def sweep_samples(self, op: ModelCurvatureOperator, x: Tensor, y: Tensor, k: int) -> int:
        """Samples per sweep for a k-vector product on the batch (x, y): the whole batch, or equal
        parts whose k tangent sweeps hold about ``max_sweep_bytes`` of activations.

        The activation bytes per sample are measured once, on the first batch, as the growth of the
        tensors autograd saves for backward between forward passes on 2 and 4 samples (parameters,
        saved by both, cancel). A batch whose statistics enter the loss (batch norm in train mode) is
        never split: splitting would change the operator.
        """
        budget = self.options.max_sweep_bytes
        n = int(x.shape[0])
        if op.batch_dependent():
            return n
        if self.max_sample_vectors is not None:  # learnt from an out-of-memory error
            n_cap = max(1, self.max_sample_vectors // k)
            if n > n_cap:
                return math.ceil(n / math.ceil(n / n_cap))
        if budget is None or n < 2 * MIN_SWEEP_SAMPLES:
            return n
        assert isinstance(budget, int)
        if self.bytes_per_sample is None:
            self.bytes_per_sample = activation_bytes_per_sample(op.model, op.loss_fn, x, y)
        # every sweep also reads the k vectors and adds k products into the (k, p) result: a sweep
        # whose activations are not well above that traffic gains nothing from being smaller
        # (VGG16-BN, 8 vectors, 16 images on a CPU: 7.7 gradient passes per vector in sweeps of 2
        # images, 2.8 unsplit)
        itemsize = torch.finfo(op.dtype).bits // 8
        budget = max(budget, 4 * op.shape[0] * k * itemsize)
        per_sweep = self.bytes_per_sample * k * n
        parts = max(1, math.ceil(per_sweep / budget))
        return max(math.ceil(n / parts), MIN_SWEEP_SAMPLES)

    def shrink(self, op: ModelCurvatureOperator, failed: int, k: int) -> None:
        """After an out-of-memory error on a sweep of ``failed`` samples × k vectors: allow half as
        many sample-vectors per sweep from now on (kept for later products of this operator)."""
        if failed <= 1 or op.batch_dependent():
            raise torch.OutOfMemoryError(
                f"out of memory in a {op.curvature} product with {k} vectors on {failed} samples"
                + (" (batch norm in train mode: batches cannot be split)" if op.batch_dependent() else "")
                + "; lower batch_size or the number of vectors per product"
            )
        self.max_sample_vectors = max(1, (failed * k) // 2)
        if op.device.type == "cuda":
            torch.cuda.empty_cache()
        warnings.warn(
            f"out of memory on {failed} samples x {k} vectors; continuing with sweeps of at most "
            f"{self.max_sample_vectors} sample-vectors",
            RuntimeWarning,
            stacklevel=5,
        )

