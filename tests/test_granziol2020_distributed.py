"""The distributed Granziol spectra command (issue 17): 2 gloo processes give the augmented operator's products
and Lanczos spectrum of one process, and rank 0 stores them where the single-process cached call reads them."""

from __future__ import annotations

import os
import pickle
import socket
import sys

import numpy as np
import pytest
import torch
from _gloo import spawn_and_wait
from hessian_spectra.papers.granziol2020 import distributed as gd
from hessian_spectra.papers.granziol2020 import experiments as ex
from hessian_spectra.papers.granziol2020 import spectra as sp
from hessian_spectra.pipeline.cache import cached
from torch import nn

CALLS = [0]  # executions of _tiny_augmented in this process


def _tiny_augmented(images: int, copies: int, seed: int = 0) -> dict:
    """A stand-in for the Granziol experiments (same wrapping, same operator builder, same Lanczos): the augmented
    Hessian of a tiny float64 network over K = ``copies`` crop/flip copies of ``images`` images, its products with
    two fixed vectors and an 8-step Lanczos stem plot with start seed ``seed``."""
    CALLS[0] += 1
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 2, 3), nn.BatchNorm2d(2), nn.Tanh(), nn.Flatten(), nn.Linear(18, 3)).double()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(images, 2, 5, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (images,), generator=g)
    op = sp.augmented_hessian(model, (x, y), copies, seed, padding=1, batch_size=2)
    V = torch.randn(op.shape[0], 2, generator=g, dtype=torch.float64)
    hv = (op @ V).numpy()
    split = dict(op.last_pass)
    stem = sp.lanczos_stem(op, 8, seed=seed)
    return {"hv": hv, "split": split, "nodes": np.asarray(stem["nodes"], dtype=np.float64),
            "weights": np.asarray(stem["weights"], dtype=np.float64), "augmented": op.augmented.describe()}


# wrapped exactly as experiments.pair_spectra and its siblings are
tiny_augmented = ex._locked(cached(_tiny_augmented, ex._DEPS))
ARGV = ["tiny", "7", "3", "--backend", "gloo"]  # 7 images x 3 copies (12 batches of <= 2), seed 0 by default


def _worker(rank: int, world: int, ports: list[int], out_dir: str) -> None:
    """One torchrun-like process: the environment torchrun sets, then the command twice (compute, then hit)."""
    torch.set_num_threads(1)
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
                       "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1"})
    out: dict = {}
    for i, port in enumerate(ports):
        os.environ["MASTER_PORT"] = str(port)
        out[i] = gd.main(ARGV, functions={"tiny": tiny_augmented})
    out["calls"] = CALLS[0]
    with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as fh:
        pickle.dump(out, fh)
    # as tests/test_hessian_distributed.py: results on disk, group destroyed; skip interpreter finalisation
    # (gloo threads have aborted a process at exit before)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _spawn(world: int, ports: list[int], out_dir: str, timeout: float = 120.0) -> None:
    spawn_and_wait(_worker, (world, ports, out_dir), world, timeout)


def test_two_processes_store_the_single_process_spectrum(tmp_path, monkeypatch):
    monkeypatch.setenv("HESSIAN_SPECTRA_CACHE", str(tmp_path / "cache"))
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    torch.set_num_threads(1)
    _spawn(2, _free_ports(2), str(tmp_path))
    outs = []
    for r in range(2):
        with open(tmp_path / f"rank{r}.pkl", "rb") as fh:
            outs.append(pickle.load(fh))
    (res0, status0), (res1, status1) = outs[0][0], outs[1][0]
    assert (status0, status1) == ("computed", "worker")
    # second command: rank 0 found the entry and told rank 1; nobody computed (one execution per rank in all)
    assert outs[0][1] == (None, "cached") and outs[1][1] == (None, "skipped")
    assert outs[0]["calls"] == 1 and outs[1]["calls"] == 1
    # the batches were split: 12 batches (per copy 2, 2, 2, 1 images); rank 0 took the even ones
    assert res0["split"] == {"local_samples": 12, "total_samples": 21, "world_size": 2}
    assert res1["split"] == {"local_samples": 9, "total_samples": 21, "world_size": 2}
    assert res0["augmented"]["num_samples"] == 21 and res0["augmented"]["copies"] == 3
    for key in ("hv", "nodes", "weights"):
        assert np.array_equal(res0[key], res1[key]), key  # lockstep: every rank holds the same numbers

    # one process, the notebook's way: the cached function reads rank 0's entry, the function does not run
    CALLS[0] = 0
    hit = tiny_augmented(7, 3, 0)
    assert CALLS[0] == 0
    assert tiny_augmented(7, 3) is not None and CALLS[0] == 0  # the default seed names the same entry
    for key in ("hv", "nodes", "weights"):
        assert np.array_equal(hit[key], res0[key]), key
    assert hit["split"]["world_size"] == 2  # it is the distributed result

    # ... and equals the spectrum one process computes (float64: only the order of additions differs)
    ref = _tiny_augmented(7, 3, 0)
    assert CALLS[0] == 1
    assert ref["split"] == {"local_samples": 21, "total_samples": 21, "world_size": 1}
    rel = np.linalg.norm(hit["hv"] - ref["hv"]) / np.linalg.norm(ref["hv"])
    assert rel < 1e-12, rel
    assert len(ref["nodes"]) == 8 and ref["nodes"][-1] > 0
    assert np.allclose(hit["nodes"], ref["nodes"], rtol=1e-9, atol=1e-12)
    assert np.allclose(hit["weights"], ref["weights"], rtol=1e-8, atol=1e-12)


def test_command_line_mirrors_the_cached_functions():
    name, fn, args, backend = gd.parse_args(["pair_spectra", "M2", "paper"])
    assert (name, fn, args, backend) == ("pair_spectra", ex.pair_spectra, ("M2", "paper", 0), None)
    assert gd.parse_args(["augmented_final_spectrum", "A1", "paper", "--seed", "2", "--backend", "nccl"])[2:] == \
        (("A1", "paper", 2), "nccl")
    assert gd.parse_args(["checkpoint_spectrum", "A1", "paper", "5"])[2] == ("A1", "paper", 5, 0)
    with pytest.raises(SystemExit):
        gd.parse_args(["checkpoint_spectrum", "A1", "paper"])  # the epoch is required
    with pytest.raises(SystemExit):
        gd.parse_args(["pair_spectra", "M2", "paper", "--seed", "x"])  # the function's types
    assert gd.choose_backend() == ("nccl" if torch.cuda.is_available() else "gloo")
    # torchrun hands the command's arguments to the module untouched (its parser also reads '--' options after
    # the module name, and abbreviations: '--run' would be taken for its '--run-path')
    from torch.distributed.run import get_args_parser

    command = ["pair_spectra", "M2", "paper", "--seed", "3", "--backend", "gloo"]
    ns = get_args_parser().parse_args(["--nproc_per_node=2", "-m", "hessian_spectra.papers.granziol2020.distributed",
                                       *command])
    assert ns.module and ns.training_script_args == command
    # the production functions' entries live where their cached wrapper puts them
    assert gd.memorized(ex.pair_spectra).func is ex.pair_spectra.__wrapped__.__wrapped__
