"""Compute a cached Granziol spectrum with its curvature products split over W processes (issue 17).

Command (one process per GPU; backend ``nccl`` when CUDA is available, else ``gloo``; GPU ``LOCAL_RANK``)::

    torchrun --nproc_per_node=W -m hessian_spectra.papers.granziol2020.distributed pair_spectra M2 paper
    torchrun --nproc_per_node=W -m hessian_spectra.papers.granziol2020.distributed augmented_final_spectrum A1 paper --seed 0
    torchrun --nproc_per_node=W -m hessian_spectra.papers.granziol2020.distributed checkpoint_spectrum A1 paper EPOCH

The sub-command names a cached function of :mod:`.experiments` (:data:`FUNCTIONS`); its arguments are that
function's own parameters, read from its signature so that the command cannot drift from the function: those
without a default are positional, in the function's order (``run profile`` and, for ``checkpoint_spectrum``, the
checkpoint ``epoch`` as the function takes it), those with one are options with the same default (``--seed``).
``--backend`` overrides the automatic choice. Without ``torchrun`` (no ``WORLD_SIZE`` in the environment) it runs
in one process, as the notebook would. (Not ``--run``: torchrun's own parser reads every ``--`` argument after
the module name too, and takes ``--run`` for an abbreviation of its ``--run-path``; the tests check that
torchrun passes the command's arguments through untouched.)

How the work is shared: every rank calls the same uncached function (the curvature operators of
:mod:`hessian_spectra.hessian` split their batches over the ranks, b ≡ r mod W, and all-reduce, so every rank
runs the identical Lanczos iteration in lockstep and ends with the same spectrum). Rank 0 alone touches the
cache and the lock (:func:`compute_and_store`):

1. it takes the experiment's file lock with the key the notebook's call ``experiments.pair_spectra(run, profile,
   seed)`` takes (:func:`.experiments._lock` of the function's name and its positional arguments), so a notebook
   started meanwhile waits for it and then reads the entry;
2. it asks the cache whether that call is stored (``joblib``'s ``check_call_in_cache``) and broadcasts the
   answer, so on a hit no rank computes anything (a rank computing alone would block in the collectives);
3. on a miss it calls the function through the same ``joblib`` store that :func:`~hessian_spectra.pipeline.cache.
   cached` uses (:func:`memorized`), which runs the function (in lockstep with the other ranks, which run it
   uncached) and writes the entry: the notebook's later call is then a cache hit.

The other ranks take no lock and write no cache file. They do take the training lock inside the function
(``_trained``: one process trains a missing run, the others wait on the lock, not in a collective, and load
its checkpoints). The process group's timeout is long (:data:`TIMEOUT`) because ranks 1..W-1 wait in the
broadcast of step 2 while rank 0 waits for the lock.

A module of its own (not part of :mod:`.experiments`): the cache version of every Granziol experiment is a
digest of ``experiments.py``'s code, so code added there would orphan the cached spectra already computed.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import sys
import time
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from ...hessian.distributed import world_info
from . import experiments

__all__ = ["FUNCTIONS", "TIMEOUT", "choose_backend", "compute_and_store", "main", "memorized", "parse_args",
           "process_group"]

# the cached spectra whose products the engine distributes (name on the command line -> cached function)
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "pair_spectra": experiments.pair_spectra,
    "augmented_final_spectrum": experiments.augmented_final_spectrum,
    "checkpoint_spectrum": experiments.checkpoint_spectrum,
}

TIMEOUT = timedelta(hours=12)  # collectives may wait this long (rank 0 waiting for a lock a notebook holds)
_TYPES = (int, float, str)


def memorized(function: Callable[..., Any]) -> Any:
    """The ``joblib.MemorizedFunc`` in which ``function`` (an :mod:`.experiments` function, ``_locked(cached(raw,
    _DEPS))``) keeps its results: the one its ``cached`` wrapper calls (:func:`~hessian_spectra.pipeline.cache.
    memorized`), so a call of this object reads and writes the very entries the cached function reads."""
    return function.memorized()


def choose_backend() -> str:
    """``nccl`` when CUDA is available, else ``gloo``."""
    return "nccl" if torch.cuda.is_available() else "gloo"


@contextlib.contextmanager
def process_group(backend: str | None = None) -> Iterator[tuple[int, int, str | None]]:
    """Initialise the default group from torchrun's environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
    ``MASTER_PORT``, ``LOCAL_RANK``) and destroy it on exit; yields (rank, world, backend). Without
    ``WORLD_SIZE`` (or with 1) no group is made: (0, 1, None). With ``nccl`` the process uses GPU ``LOCAL_RANK``
    (``torch.cuda.set_device`` and ``HESSIAN_SPECTRA_DEVICE=cuda:<LOCAL_RANK>``, which the training and data
    loaders follow; checkpoints are keyed by the device type only, so every rank finds the same ones)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        yield 0, 1, None
        return
    backend = backend or choose_backend()
    device = None
    if backend == "nccl":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
        os.environ["HESSIAN_SPECTRA_DEVICE"] = str(device)
    dist.init_process_group(backend, timeout=TIMEOUT, device_id=device)
    try:
        rank, world = world_info()
        yield rank, world, backend
        dist.barrier()  # no rank tears down while another still communicates
    finally:
        dist.destroy_process_group()


def _broadcast_flag(flag: bool | None) -> bool:
    """Rank 0's ``flag`` on every rank (no-op without a group)."""
    rank, world = world_info()
    if world == 1:
        return bool(flag)
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    t = torch.tensor([int(bool(flag)) if rank == 0 else 0], dtype=torch.int64, device=device)
    dist.broadcast(t, src=0)
    return bool(t.item())


def compute_and_store(function: Callable[..., Any], args: Sequence[Any]) -> tuple[Any, str]:
    """Compute ``function(*args)`` on every rank of the current group (or alone), rank 0 storing it in the cache
    entry that ``function(*args)`` reads (module docstring). Returns (result, status): status ``computed`` (rank
    0, entry written), ``cached`` (rank 0, the entry was there; result None), ``worker`` (another rank, same
    result, nothing written) or ``skipped`` (another rank, the entry was there; result None)."""
    args = tuple(args)
    raw = inspect.unwrap(function)
    rank, _ = world_info()
    if rank != 0:
        if _broadcast_flag(None):
            return None, "skipped"
        return raw(*args), "worker"
    memo = memorized(function)
    # the key of experiments._locked's wrapper for the positional call function(*args)
    with experiments._lock(function.__name__, args, {}):
        hit = memo.check_call_in_cache(*args)
        _broadcast_flag(hit)
        if hit:
            return None, "cached"
        return memo(*args), "computed"


def _options(raw: Callable[..., Any]) -> list[tuple[str, type, Any]]:
    """(name, type, default or inspect.Parameter.empty) of ``raw``'s parameters, in order."""
    hints = typing.get_type_hints(raw)
    out = []
    for p in inspect.signature(raw).parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            raise TypeError(f"{raw.__name__}: parameter {p.name} cannot be passed positionally")
        kind = hints.get(p.name)
        if kind not in _TYPES:
            raise TypeError(f"{raw.__name__}: parameter {p.name} has type {kind}, not one of int, float, str")
        out.append((p.name, kind, p.default))
    return out


def parse_args(argv: Sequence[str] | None = None, functions: Mapping[str, Callable[..., Any]] | None = None
               ) -> tuple[str, Callable[..., Any], tuple[Any, ...], str | None]:
    """(name, cached function, positional arguments with the defaults filled in, backend or None) of a command
    line. The arguments of each sub-command are the parameters of the function (module docstring)."""
    functions = dict(FUNCTIONS if functions is None else functions)
    parser = argparse.ArgumentParser(
        prog="torchrun --nproc_per_node=W -m hessian_spectra.papers.granziol2020.distributed",
        description="Compute a cached Granziol et al. (2020) spectrum with its curvature products split over the "
                    "torchrun processes; rank 0 stores it where the notebook's call of the same function reads it.")
    sub = parser.add_subparsers(dest="function", required=True)
    specs = {}
    for name, fn in functions.items():
        raw = inspect.unwrap(fn)
        specs[name] = _options(raw)
        p = sub.add_parser(name, help=" ".join((inspect.getdoc(raw) or "").split("\n\n")[0].split()))
        for opt, kind, default in specs[name]:
            if default is inspect.Parameter.empty:
                p.add_argument(opt, type=kind)
            else:
                p.add_argument(f"--{opt}", type=kind, default=default, help=f"default {default!r}")
        p.add_argument("--backend", choices=("nccl", "gloo"), default=None,
                       help="default: nccl when CUDA is available, else gloo")
    ns = parser.parse_args(argv)
    args = tuple(getattr(ns, opt) for opt, _, _ in specs[ns.function])
    return ns.function, functions[ns.function], args, ns.backend


def main(argv: Sequence[str] | None = None, functions: Mapping[str, Callable[..., Any]] | None = None
         ) -> tuple[Any, str]:
    """The command: parse, join the torchrun group, :func:`compute_and_store`, leave; returns (result, status).
    ``functions`` replaces :data:`FUNCTIONS` (tests)."""
    name, function, args, backend = parse_args(argv, functions)
    t0 = time.perf_counter()
    with process_group(backend) as (rank, world, used):
        result, status = compute_and_store(function, args)
    if rank == 0:
        print(json.dumps({"function": name, "args": list(args), "world_size": world, "backend": used,
                          "status": status, "seconds": round(time.perf_counter() - t0, 3),
                          "cache": str(function.cache_folder())}), flush=True)
    return result, status


if __name__ == "__main__":
    main()
    # Leave without interpreter finalisation (the results are on disk, the group is destroyed): gloo's threads
    # can abort a process at exit ("terminate called without an active exception", see
    # tests/test_hessian_distributed.py), which torchrun would report as a failed run.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
