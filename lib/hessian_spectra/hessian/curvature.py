"""Curvature matrices of a model's mean loss over a data set, as matrix-free operators.

For a model f(x; w) with parameters w in R^P and a per-batch mean loss ℓ, the empirical risk over
the whole data set D = {(x_i, y_i)}_{i=1..N} is

    R(w) = (1/N) Σ_i ℓ(f(x_i; w), y_i) = (1/N) Σ_b n_b ℓ_b(w),

with ℓ_b the batch mean returned by ``loss_fn`` on a batch of n_b samples. One class per curvature:

* :class:`HessianOperator`, the Hessian H = ∇²_w R(w);
* :class:`GGNOperator`, the Gauss-Newton matrix G = (1/N) Σ_i J_iᵀ H_i J_i, where J_i = ∂f(x_i; w)/∂w
  and H_i = ∂²ℓ/∂f² is the output Hessian of the loss (:mod:`.output_hessian`);
* :class:`ResidualOperator`, the Residual R = H - G of the split H = G + E (Papyan 2020, Sec. 5,
  Eqs. (5.1)-(5.2); Beyond-RMT eqs 4-6).

Restricting w to a subset of parameters (``params=``) gives the corresponding diagonal block of H or
G (a layer-wise block, as Wu et al. 2020, App. C). Build them with :func:`hessian_operator`,
:func:`ggn_operator`, :func:`residual_operator`.

One data loop (:meth:`ModelCurvatureOperator._matmat`): ``op @ V`` with V of shape (p, k) makes ONE
pass over the data; per batch, the forward pass and (for H) the first backward pass are shared by the
k vectors. The per-sweep mathematics is here; how a batch is swept (kept primal graphs, sweeps sized
to the caches, the way for k vectors, out-of-memory halving) is the speed machinery of :mod:`.speed`,
behind the one switch ``speed=``. For H, one vector uses double backward (Pearlmutter's trick);
k > 1 vectors use forward-over-reverse, ``vmap`` over ``torch.func.jvp(torch.func.grad(loss))``. For
G, one forward pass gives the outputs and the pullback (``torch.func.vjp``), ``vmap`` over
``torch.func.jvp`` gives all J V, the output Hessian is applied in closed form for cross-entropy and
MSE, and the vmapped pullback gives Jᵀ(H_out J V). The first multi-vector product in a process pays a
one-time ``torch.func`` warm-up (seconds on a CPU).

Batch norm: by default (``eval_mode=True``) the model is put in eval mode during every product, so
batch-norm layers use their running statistics and the operator is a fixed matrix that does not
depend on the batch partition (Papyan 2020, App. D: "The batch normalization layers are always set
to test mode"). The previous training flags are restored afterwards. With ``eval_mode=False`` the
model's current mode is used; in train mode batch statistics make the operator depend on the batch
partition (then fixed by ``batch_size``) and running statistics are updated by each pass.

With ``torch.distributed`` initialised, process r handles the batches with index ≡ r (mod world
size) and the partial sums are all-reduced, so every process gets the same product as one process
would (see :mod:`hessian_spectra.hessian.distributed`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .base import CurvatureOperator, LinearCombination
from .data_loop import Batches, Precision, model_mode, precision_mode, resolve_params
from .distributed import all_reduce_sum, world_info
from .forward_rules import skip_zero_input_tangents
from .output_hessian import LossFn, apply_output_hessian, output_hessian_kind
from .primal_cache import PrimalEntry, cached_ggn, cached_hvp
from .speed import SpeedOptions, SweepPlan, resolve_speed

__all__ = [
    "ModelCurvatureOperator",
    "HessianOperator",
    "GGNOperator",
    "ResidualOperator",
    "hessian_operator",
    "ggn_operator",
    "residual_operator",
    "hessian_vector_product",
]


class ModelCurvatureOperator(CurvatureOperator):
    """A curvature matrix of the mean loss of ``model`` over ``data``: the one data loop.

    Subclasses give the mathematics of one sweep of samples: :meth:`sweep_products` (from scratch)
    and :meth:`kept_products` (through a kept primal graph), and name their ``curvature``. See the
    module docstring; build operators with :func:`hessian_operator` or :func:`ggn_operator`.
    """

    curvature: Literal["hessian", "ggn"]

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        data: Any,
        params: Any = None,
        batch_size: int | None = None,
        *,
        eval_mode: bool = True,
        precision: Precision = "highest",
        distributed: bool | None = None,
        progress: bool | None = False,
        speed: SpeedOptions | str = "auto",
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not callable(loss_fn):
            raise TypeError("loss_fn must be callable as loss_fn(outputs, targets)")
        if precision not in ("highest", "tf32", "bf16"):
            raise ValueError(f"precision must be 'highest', 'tf32' or 'bf16', got {precision!r}")
        self.model = model
        self.loss_fn = loss_fn
        self.eval_mode = eval_mode
        self.precision = precision
        self.progress = progress
        self.param_names, self.params = resolve_params(model, params)
        self.sizes = [p.numel() for p in self.params]
        p = sum(self.sizes)
        self.shape = (p, p)
        self.dtype = self.params[0].dtype
        self.device = self.params[0].device
        self.speed = resolve_speed(speed, self.device)
        self.plan = SweepPlan(self.speed)
        self.batches = Batches(data, batch_size, self.device, self.dtype)
        self.distributed = distributed
        self._output_hessian = output_hessian_kind(loss_fn)

    # -- public helpers ------------------------------------------------------------------------
    @property
    def num_samples(self) -> int | None:
        """N, the number of samples (None until known for a generic iterable)."""
        return self.batches.num_samples

    @property
    def primal_cache(self) -> Any:
        """The kept primal graphs of this operator (:class:`~.primal_cache.PrimalCache`)."""
        return self.plan.primal_cache

    def blocks(self, v: Tensor) -> dict[str, Tensor]:
        """Split a flat vector (p,) into the parameter blocks, as a dict name -> tensor."""
        if v.shape != (self.shape[0],):
            raise ValueError(f"expected shape ({self.shape[0]},), got {tuple(v.shape)}")
        parts = torch.split(v, self.sizes)
        return {n: t.view_as(p) for n, t, p in zip(self.param_names, parts, self.params)}

    def flatten(self, tensors: Sequence[Tensor]) -> Tensor:
        """Concatenate per-parameter tensors (same order as ``param_names``) into (p,)."""
        return torch.cat([t.reshape(-1) for t in tensors])

    def batch_dependent(self) -> bool:
        """Whether batch statistics enter the loss (batch norm in train mode): batches are then fixed."""
        return any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in self.model.modules())

    def __repr__(self) -> str:
        block = "" if len(self.param_names) == len(list(self.model.parameters())) else f", params={self.param_names}"
        return (f"{type(self).__name__}({type(self.model).__name__}, p={self.shape[0]}{block}, "
                f"dtype={self.dtype}, device={self.device})")

    # -- the one data loop ---------------------------------------------------------------------
    def _matmat(self, V: Tensor) -> Tensor:
        self._check_mode()
        k = V.shape[1]
        # (k, p) with contiguous rows: a free view when V came from a transposed (k, p) tensor (as
        # in Lanczos); otherwise one copy, cheaper than strided vectors in every sweep (MLP of
        # benchmarks/, 8 vectors through kept graphs: 0.248 s per vector strided, 0.211 s copied)
        Vt = V.T.contiguous()
        vblocks = [b.reshape(k, *p.shape) for b, p in zip(torch.split(Vt, self.sizes, dim=1), self.params)]
        acc = torch.zeros(k, self.shape[0], dtype=self.dtype, device=self.device)
        n_total = 0
        rank, world = world_info() if self.distributed in (None, True) else (0, 1)
        if self.distributed is True and world == 1 and not torch.distributed.is_initialized():
            raise RuntimeError("distributed=True but torch.distributed is not initialised")

        def add(rows: slice, parts: list[Tensor], n_s: int) -> None:
            """acc[rows] += n_s · parts, block by block in place (no concatenated copy)."""
            off = 0
            for t, size in zip(parts, self.sizes):
                acc[rows, off : off + size].add_(t.reshape(-1, size).to(self.dtype), alpha=n_s)
                off += size

        bar = tqdm(
            iter(self.batches),
            total=len(self.batches) or None,
            desc=f"{self.curvature} x {k}",
            disable=(not self.progress) if self.progress is not None else None,
            leave=False,
        )
        with model_mode(self.model, self.eval_mode), precision_mode(self.precision, self.device):
            use_cache = self.plan.use_primal_cache(self)
            for index, (x, y) in enumerate(bar):
                if index % world != rank:
                    continue
                n_b = int(x.shape[0])
                if n_b == 0:
                    continue
                self.plan.batch_products(self, index, x, y, vblocks, k, use_cache, add)
                n_total += n_b
        n_local = n_total
        if world > 1:
            count = torch.tensor([float(n_total)], dtype=torch.float64, device=self.device)
            all_reduce_sum(acc)
            all_reduce_sum(count)
            n_total = int(round(count.item()))
        if n_total == 0:
            raise ValueError("data yielded no samples: cannot form a mean over an empty data set")
        if self.batches.num_samples is None:
            self.batches.num_samples = n_total
        # samples this process handled and the total (for checks of the data split)
        self.last_pass = {"local_samples": n_local, "total_samples": n_total, "world_size": world}
        acc.div_(n_total)
        self._check_finite(acc)
        return acc.T

    def _check_mode(self) -> None:
        """Raise if the model's mode cannot be used by this curvature (overridden by the GGN)."""

    def _check_finite(self, acc: Tensor) -> None:
        # one reduction instead of a boolean copy; a sum that overflows is checked entry by entry
        if bool(torch.isfinite(acc.sum())) or bool(torch.isfinite(acc).all()):
            return
        for name, part in zip(self.param_names, torch.split(acc, self.sizes, dim=1)):
            if not bool(torch.isfinite(part).all()):
                raise FloatingPointError(
                    f"non-finite product of {self!r} in parameter block {name!r} "
                    f"({int((~torch.isfinite(part)).sum())} entries); check the loss, the data and "
                    "the precision mode"
                )

    # -- one sweep (the subclasses' mathematics) -------------------------------------------------
    def sweep_products(self, x: Tensor, y: Tensor, vblocks: list[Tensor], k: int) -> list[Tensor]:
        """(A_b V) per parameter block for the sweep (x, y), from scratch; shapes (k, *param.shape)."""
        raise NotImplementedError  # pragma: no cover

    def kept_products(self, entry: PrimalEntry, vblocks: list[Tensor], k: int) -> Iterator[tuple[int, list[Tensor]]]:
        """(j, A_b v_j per parameter block) for j = 0 … k−1 through the kept primal graph ``entry``."""
        raise NotImplementedError  # pragma: no cover


class HessianOperator(ModelCurvatureOperator):
    """The Hessian H = ∇²_w R(w) of the mean loss over the data (see the module docstring)."""

    curvature = "hessian"

    def kept_products(self, entry: PrimalEntry, vblocks: list[Tensor], k: int) -> Iterator[tuple[int, list[Tensor]]]:
        return cached_hvp(entry, self.params, vblocks, k)

    def sweep_products(self, x: Tensor, y: Tensor, vblocks: list[Tensor], k: int) -> list[Tensor]:
        """(H_b V) per parameter.

        One vector: double backward (Pearlmutter), the cheapest exact HVP (2.66 gradient passes of
        work on an MLP, ../shared/BASELINES.md). Several vectors (``hvp_method='auto'``):
        forward-over-reverse, ``vmap`` over ``jvp(grad)``: the primal forward and backward run once
        and the tangent sweeps are batched; same work per vector as the batched double backward
        (1.8 gradient passes) but fewer copies under vmap, hence faster in time (measured 2.1 vs 2.5
        gradient passes per vector for 8 vectors on an MLP, 1 CPU thread)."""
        method = self.speed.hvp_method
        if method == "forward_over_reverse":
            return self._forward_over_reverse(x, y, vblocks)
        if method == "auto" and k > 1 and self._forward_over_reverse_ok():
            try:
                return self._forward_over_reverse(x, y, vblocks)
            except torch.OutOfMemoryError:  # a RuntimeError too: the caller halves the sweep
                raise
            except RuntimeError as err:  # an op torch.func cannot transform: fall back, once
                self._for_failed = True
                warnings.warn(
                    f"forward-over-reverse HVP failed ({str(err).splitlines()[0][:120]}); "
                    "using batched double backward instead",
                    RuntimeWarning,
                    stacklevel=4,
                )
        with torch.enable_grad():
            loss = self.loss_fn(self.model(x), y)
            grads = torch.autograd.grad(loss, self.params, create_graph=True, allow_unused=True)
            idx = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]
            if not idx:  # the loss is linear in every parameter: H_b = 0
                return [torch.zeros_like(v) for v in vblocks]
            gsel = [grads[i] for i in idx]
            if k == 1:
                hv = torch.autograd.grad(
                    gsel, self.params, grad_outputs=[vblocks[i][0] for i in idx],
                    allow_unused=True, materialize_grads=True,
                )
                return [h.unsqueeze(0) for h in hv]
            hv = torch.autograd.grad(
                gsel, self.params, grad_outputs=[vblocks[i] for i in idx],
                is_grads_batched=True, allow_unused=True, materialize_grads=True,
            )
            return list(hv)

    def _forward_over_reverse_ok(self) -> bool:
        """False once it failed, and for batch norm in train mode with running statistics (torch.func
        cannot update them)."""
        if getattr(self, "_for_failed", False):
            return False
        if not self.eval_mode and any(
            isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training and m.track_running_stats
            for m in self.model.modules()
        ):
            return False
        return True

    def _forward_over_reverse(self, x: Tensor, y: Tensor, vblocks: list[Tensor]) -> list[Tensor]:
        names = self.param_names

        def loss(*ps: Tensor) -> Tensor:
            return self.loss_fn(torch.func.functional_call(self.model, dict(zip(names, ps)), (x,)), y)

        grad_fn = torch.func.grad(loss, argnums=tuple(range(len(names))))
        primals = tuple(p.detach() for p in self.params)

        def one(*tangent: Tensor) -> tuple[Tensor, ...]:
            return torch.func.jvp(grad_fn, primals, tangent)[1]

        with torch.no_grad():  # torch.func transforms differentiate inside; nothing to record outside
            return list(torch.func.vmap(one)(*vblocks))


class GGNOperator(ModelCurvatureOperator):
    """The generalized Gauss-Newton G = (1/N) Σ_i J_iᵀ (∂²ℓ_i/∂f²) J_i over the data."""

    curvature = "ggn"

    def _check_mode(self) -> None:
        if self.eval_mode:
            return
        for name, m in self.model.named_modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training and m.track_running_stats:
                raise ValueError(
                    f"ggn_operator cannot use batch norm {name!r} in train mode (torch.func cannot "
                    "update its running statistics); keep eval_mode=True or call model.eval()"
                )

    def _h_out(self, out: Tensor, y: Tensor, t: Tensor) -> Tensor:
        return apply_output_hessian(self._output_hessian, self.loss_fn, out, y, t, False)

    def kept_products(self, entry: PrimalEntry, vblocks: list[Tensor], k: int) -> Iterator[tuple[int, list[Tensor]]]:
        return cached_ggn(entry, self.params, vblocks, k, self._h_out)

    def _rules(self) -> contextlib.AbstractContextManager:
        return skip_zero_input_tangents() if self.speed.forward_rules else contextlib.nullcontext()

    def sweep_products(self, x: Tensor, y: Tensor, vblocks: list[Tensor], k: int) -> list[Tensor]:
        """(G_b V) per parameter.

        One vector: forward mode J v (``torch.func.jvp``, whose primal output keeps its autograd
        graph), H_out (J v), then one backward: the primal forward runs once.
        Several vectors: ``torch.func.vjp`` (primal forward once, pullback kept), ``vmap`` over
        ``jvp`` for J V (one more unbatched primal forward, amortised over the k vectors), H_out,
        then ``vmap`` over the pullback. Measured faster per vector than batching the backward
        with ``is_grads_batched`` (1.44 vs 1.90 gradient passes per vector for 8 vectors on an MLP,
        1 CPU thread), for 4 % more work. With ``forward_rules``, layers fed by the data skip torch's
        zero input-tangent matmul (:mod:`~hessian_spectra.hessian.forward_rules`).
        """
        names = self.param_names
        if k > 1:
            primals = tuple(p.detach() for p in self.params)

            def g(*ps: Tensor) -> Tensor:
                return torch.func.functional_call(self.model, dict(zip(names, ps)), (x,))

            def jv(*tans: Tensor) -> Tensor:
                return torch.func.jvp(g, primals, tans)[1]

            # no_grad: torch.func differentiates inside, nothing to record outside
            with torch.no_grad(), self._rules():
                out, pullback = torch.func.vjp(g, *primals)
                tangent = torch.func.vmap(jv)(*vblocks)
            hjv = apply_output_hessian(self._output_hessian, self.loss_fn, out, y, tangent, True)
            with torch.no_grad():
                return list(torch.func.vmap(pullback)(hjv.to(out.dtype)))

        def f(*ps: Tensor) -> tuple[Tensor, Tensor]:
            out = torch.func.functional_call(self.model, dict(zip(names, ps)), (x,))
            return out, out

        with torch.enable_grad(), self._rules():
            # tangents with storages of their own: a view into the (k, p) block would make forward
            # AD allocate a zero tensor per parameter and copy the view into it
            tangents = tuple(v[0].clone() for v in vblocks)
            _, tangent, out = torch.func.jvp(f, tuple(self.params), tangents, has_aux=True)
            hjv = self._h_out(out, y, tangent.detach())
            res = torch.autograd.grad(
                out, self.params, grad_outputs=hjv.to(out.dtype), allow_unused=True, materialize_grads=True
            )
        return [r.unsqueeze(0) for r in res]


class ResidualOperator(LinearCombination):
    """The Residual R = H - G of the Gauss-Newton split (Papyan 2020, Eq. (5.1): E = Hess - G;
    Beyond-RMT eq 4 for squared loss, eq 6 for cross-entropy):
    R = (1/N) Σ_i Σ_c (∂ℓ/∂f_c)(x_i) ∂²f_c(x_i)/∂w², applied as R V = H V - G V (two data passes)."""

    def __init__(self, hessian: CurvatureOperator, ggn: CurvatureOperator) -> None:
        if hessian.shape != ggn.shape:
            raise ValueError(f"H and G differ in shape: {hessian.shape} vs {ggn.shape}")
        super().__init__([hessian, ggn], [1.0, -1.0])
        self.H, self.G = hessian, ggn

    def __repr__(self) -> str:
        return f"ResidualOperator(H={self.H!r}, G={self.G!r})"


def hessian_operator(
    model: nn.Module,
    loss_fn: LossFn,
    data: Any,
    params: Any = None,
    batch_size: int | None = None,
    **kwargs: Any,
) -> HessianOperator:
    """The Hessian H = ∇²_w R(w) of the mean loss R(w) = (1/N) Σ_i ℓ(f(x_i; w), y_i) over ``data``.

    Args:
        model: the network; its parameters set the device and dtype of the operator.
        loss_fn: ``loss_fn(outputs, targets)`` returning the batch MEAN (e.g.
            ``torch.nn.functional.cross_entropy``, ``mse_loss``).
        data: ``(inputs, targets)`` tensors, an object with ``.x`` and ``.y`` (as returned by
            ``hessian_spectra.data.load_dataset``), or a re-iterable of such batches. A pair is
            moved to the operator's device once; floating inputs are cast to its dtype.
        params: None (every parameter with requires_grad), a submodule, or a list of parameter
            names or tensors: the operator is then the corresponding diagonal block of H.
        batch_size: samples per forward pass. Default None = the whole pair in one batch (or the
            iterable's own batches); not stated by any of the papers: choose it to fit memory.
            The result does not depend on it beyond rounding (with ``eval_mode=True``).
        **kwargs: ``eval_mode`` (default True: batch norm uses running statistics, Papyan 2020
            App. D), ``precision`` ('highest' | 'tf32' | 'bf16'), ``distributed`` (None = split
            the batches across processes when ``torch.distributed`` is initialised),
            ``progress`` (tqdm over batches), ``speed`` ('auto', 'off' or a
            :class:`~hessian_spectra.hessian.speed.SpeedOptions`; the speed machinery, see
            :mod:`~hessian_spectra.hessian.speed`).

    Returns:
        A :class:`HessianOperator` with ``.shape == (p, p)``; ``op @ V`` for V (p, k) makes one pass
        over the data with the forward and first backward shared by the k vectors.
    """
    return HessianOperator(model, loss_fn, data, params, batch_size, **kwargs)


def ggn_operator(
    model: nn.Module,
    loss_fn: LossFn,
    data: Any,
    params: Any = None,
    batch_size: int | None = None,
    **kwargs: Any,
) -> GGNOperator:
    """The generalized Gauss-Newton G = (1/N) Σ_i J_iᵀ (∂²ℓ_i/∂f²) J_i over ``data``.

    J_i = ∂f(x_i; w)/∂w (restricted to ``params``). G is the first term of the Gauss-Newton
    decomposition H = G + E (Papyan 2020, Sec. 5, Eq. (5.1)); it is positive
    semi-definite for convex losses (cross-entropy, MSE). The output Hessian uses a closed form
    for cross-entropy, (diag(p) − ppᵀ)/B, and MSE, 2I/(B·C), and autograd for other losses.
    Arguments as for :func:`hessian_operator`. In train mode batch norm is not supported here
    (``torch.func`` cannot update running statistics under vmap); keep ``eval_mode=True``.
    """
    return GGNOperator(model, loss_fn, data, params, batch_size, **kwargs)


def residual_operator(
    model: nn.Module,
    loss_fn: LossFn,
    data: Any,
    params: Any = None,
    batch_size: int | None = None,
    **kwargs: Any,
) -> ResidualOperator:
    """The Residual R = H - G over ``data`` (arguments as for :func:`hessian_operator`)."""
    return ResidualOperator(
        hessian_operator(model, loss_fn, data, params, batch_size, **kwargs),
        ggn_operator(model, loss_fn, data, params, batch_size, **kwargs),
    )


def hessian_vector_product(
    model: nn.Module,
    loss_fn: LossFn,
    data: Any,
    v: Tensor,
    params: Any = None,
    batch_size: int | None = None,
) -> Tensor:
    """H v (or H V) for the mean loss over ``data``: ``hessian_operator(...) @ v``."""
    return hessian_operator(model, loss_fn, data, params, batch_size) @ v
