"""Data-parallel curvature products with ``torch.distributed``.

A curvature product over the data is a sum over batches, A V = (1/N) Σ_b n_b A_b V. With
``torch.distributed`` initialised (e.g. under ``torchrun``), process r of W computes the partial
sum over the batches with index b ≡ r (mod W); the partial sums and sample counts are all-reduced
(SUM), so every process holds the same A V as a single process would, up to the order of the
floating-point additions. Every process must pass the same data (or batches in the same order) and
draw the same random vectors (same seeds), so that Lanczos runs stay identical across processes.

Example (``torchrun --nproc_per_node=2 script.py``)::

    torch.distributed.init_process_group("nccl")            # "gloo" on CPUs
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=1000)
    sd = spectral_density(op, 100, 4, generator=torch.Generator().manual_seed(0))
    # every rank holds the same sd; rank 0 saves it
    torch.distributed.destroy_process_group()   # before exit: gloo and NCCL threads must end first

Pass ``distributed=False`` to an operator to keep it local although a group is initialised.
"""

from __future__ import annotations

import torch.distributed as dist
from torch import Tensor

__all__ = ["world_info", "all_reduce_sum"]


def world_info() -> tuple[int, int]:
    """(rank, world size) of the default process group, or (0, 1) when none is initialised."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def all_reduce_sum(t: Tensor) -> Tensor:
    """In-place SUM all-reduce of ``t`` over the default group (no-op without one).

    The gloo backend cannot reduce CUDA tensors, so those are copied to the CPU and back.
    """
    rank, world = world_info()
    if world == 1:
        return t
    if dist.get_backend() == "gloo" and t.device.type != "cpu":
        tmp = t.cpu()
        dist.all_reduce(tmp, op=dist.ReduceOp.SUM)
        t.copy_(tmp)
    else:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t
