"""Shared by the multi-process tests: start ``world`` processes of a worker and wait for them, failing (not
hanging) when they outlive a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch.multiprocessing as mp


def spawn_and_wait(worker: Callable[..., None], args: tuple[Any, ...], world: int, timeout: float,
                   poll: float = 2.0) -> None:
    """``torch.multiprocessing.spawn(worker, args, nprocs=world)``; every process is killed and ``TimeoutError``
    raised if they have not all ended after ``timeout`` seconds (a worker's exception propagates)."""
    context = mp.spawn(worker, args=args, nprocs=world, join=False)
    deadline = time.monotonic() + timeout
    while not context.join(timeout=poll):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            raise TimeoutError(f"{world} gloo workers still running after {timeout:.0f} s")
