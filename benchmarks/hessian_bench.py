"""Benchmark of the Hessian engine against PyHessian, curvlinops and hessian-eigenthings.

For each model it times, on the same model, data, device and dtype, in one run:
a gradient pass, one HVP, an 8-vector HVP, the GGN equivalents, top-10 eigenpairs and an SLQ
density (equal steps and vectors, float32), for this engine and each installed peer. Before timing,
every peer's product is checked against ours (relative error printed; a peer that disagrees is
not timed). FLOP counts from ``torch.utils.flop_counter.FlopCounterMode`` are deterministic, so
they are meaningful on a noisy machine; times are the minimum over repeats.

Time to accuracy (``benchmarks/time_to_accuracy.py``): a float64 reference of the top-k eigenvalues
(our Lanczos on a float64 copy of model and data, certified to a hundredth of the tolerance), then each
tool run until all k eigenvalues are within ``TOPK_RTOL`` (1e-3) of it, by its own stopping rule at the
loosest tolerance that gets there or, for Lanczos, at the fewest steps; and each SLQ run until the
moments j = 1..4 of its density are within ``MOMENT_RTOL`` (1e-3) of the float64 moments of the same
start vectors. Products, time and FLOPs of each; "not reached" with the cap when a tool cannot.

Usage::

    python benchmarks/hessian_bench.py --size tiny   # CI smoke test, < 60 s, no timing claims
    python benchmarks/hessian_bench.py --size cpu    # MLP 784-512-512-512-10 on 2,048 MNIST and LeNet5 on 2,048 CIFAR-10 images
    python benchmarks/hessian_bench.py --size gpu    # VGG16-BN on all 50,000 CIFAR-10 images (CUDA)

Writes ``benchmarks/results/<size>.json`` (device, versions, settings, every number) and
``benchmarks/results/<size>.md`` (the table), or under ``--out-dir``.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import wasserstein_distance
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from hessian_spectra import models  # noqa: E402
from hessian_spectra.data import load_dataset, subset  # noqa: E402
from hessian_spectra.hessian import (  # noqa: E402
    SpeedOptions,
    ggn_operator,
    hessian_operator,
    lanczos_runs,
    random_vectors,
    ritz_from_coefficients,
    spectral_density,
    top_eigenpairs,
)
from hessian_spectra.hessian.speed import way_rule  # noqa: E402

import time_to_accuracy as tta  # noqa: E402  (benchmarks/time_to_accuracy.py)

# Settings per size. None of these are from the papers: they are benchmark choices.
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {
        "models": [
            {"name": "mlp", "dataset": "mnist", "n": 128, "batch_size": 64, "widths": [32, 32, 32]},
            {"name": "lenet5", "dataset": "cifar10", "n": 32, "batch_size": 16},
        ],
        "repeats": 1, "k_block": 4, "top_k": 2, "top_k_tol": 1e-2, "top_k_budget": 8, "slq_steps": 3,
        "slq_vectors": 2, "threads": 1, "reduced_precisions": ["bf16"], "compare_hvp_methods": True,
        # time to accuracy (benchmarks/time_to_accuracy.py): products a top-k run may make, the float64
        # reference's most Lanczos steps, the most SLQ steps tried, whether peers' rows get a FLOP trace
        "accuracy": {"topk_cap": 30, "reference_max_steps": 300, "slq_max_steps": 6, "trace_peers": False},
    },
    "cpu": {
        "models": [
            {"name": "mlp", "dataset": "mnist", "n": 2048, "batch_size": 512, "widths": [512, 512, 512]},
            {"name": "lenet5", "dataset": "cifar10", "n": 2048, "batch_size": 512},
        ],
        "repeats": 5, "k_block": 8, "top_k": 10, "top_k_tol": 1e-3, "top_k_budget": 60, "slq_steps": 16,
        "slq_vectors": 4, "threads": 1, "algo_repeats": 2,
        # no bf16/tf32 matrix units on this CPU: bf16 autocast SLQ ran 15x slower than float32 here
        "reduced_precisions": [],
        # a convergence check before the tolerances were used (float32 Lanczos from the top-k seed, 500
        # steps): the MLP's top-10 settle to 1e-3 in about 100 steps and certify a 1e-5 bound in about
        # 140, LeNet5's in about 50 and 60; the cap leaves room for ARPACK's restarts
        "accuracy": {"topk_cap": 400, "reference_max_steps": 600, "slq_max_steps": 32},
    },
    "gpu": {
        "models": [
            {"name": "vgg16_bn", "dataset": "cifar10", "n": 50000, "batch_size": 1000},
        ],
        # budgets kept small: one fp32 double-backward HVP over 50,000 images takes ~11 s on an H100
        # (../shared/BASELINES.md), and the peers make one HVP per vector per step
        "repeats": 2, "k_block": 8, "top_k": 10, "top_k_tol": 1e-3, "top_k_budget": 40, "slq_steps": 20,
        "slq_vectors": 2, "threads": None, "reduced_precisions": ["tf32", "bf16"], "compare_hvp_methods": True,
        # Lanczos keeps its whole basis on the GPU, allocated for the most steps at the start: 150 float64
        # vectors of VGG16-BN's 15M parameters are 18 GB; each peer product ~11 s, so a capped peer
        # ladder costs hours
        "accuracy": {"topk_cap": 150, "reference_max_steps": 150, "slq_max_steps": 8},
    },
}
PEERS = ("pyhessian", "curvlinops", "hessian_eigenthings")
PEER_DISTS = {"pyhessian": "pyhessian", "curvlinops": "curvlinops-for-pytorch",
              "hessian_eigenthings": "hessian-eigenthings"}
AGREE_RTOL = 1e-4  # float32 products of different algorithms agree to about 1e-6; 1e-4 is loose


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn: Callable[[], Any], repeats: int, device: torch.device) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return {"min": min(times), "median": statistics.median(times)}


def _timed(fn: Callable[[], Any], device: torch.device) -> tuple[float, Any]:
    """(seconds, result) of one call of fn, the device synchronised before and after."""
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


@contextmanager
def _pyhessian_counting(comp: Any, counter: tta.ProductCounter, per_eigenvalue: dict[int, int]) -> Iterator[None]:
    """Count PyHessian's Hessian-vector products (``counter``) and, in ``eigenvalues()``, the power
    iterations spent on each eigenvalue (``per_eigenvalue[i]``: it orthonormalises against the i
    eigenvectors found so far once per iteration). Only counting is added; every product and every
    orthonormalisation runs as PyHessian wrote it."""
    import importlib

    phm = importlib.import_module("pyhessian.hessian")  # the module (the package's name is the class)
    orig_orth = phm.orthnormal

    def hv(vec: Any) -> Any:
        counter.tick()
        return type(comp).dataloader_hv_product(comp, vec)

    def orth(w: Any, v_list: list[Any]) -> Any:
        per_eigenvalue[len(v_list)] = per_eigenvalue.get(len(v_list), 0) + 1
        return orig_orth(w, v_list)

    comp.dataloader_hv_product = hv
    phm.orthnormal = orth
    try:
        yield
    finally:
        del comp.dataloader_hv_product
        phm.orthnormal = orig_orth


def _flops(fn: Callable[[], Any]) -> float | None:
    """Total FLOPs of fn() (None where FlopCounterMode cannot trace it, e.g. curvlinops' GGN)."""
    try:
        with FlopCounterMode(display=False) as fc:
            fn()
    except RuntimeError:
        return None
    return float(fc.get_total_flops())


def _patch_torch_eig() -> None:
    """PyHessian 0.1's density() calls torch.eig, removed in torch 1.9. Shim it with
    torch.linalg.eigh on the (symmetric) tridiagonal matrix it builds, returning the old
    (n, 2) real/imaginary layout. Only the final m×m eigendecomposition is affected; every
    Hessian-vector product and the reorthogonalisation run as PyHessian wrote them."""
    def eig(T: torch.Tensor, eigenvectors: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        vals, vecs = torch.linalg.eigh(T)
        return torch.stack([vals, torch.zeros_like(vals)], dim=1), vecs
    torch.eig = eig  # type: ignore[attr-defined]


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).norm() / b.norm())


def _agree(fn: Callable[[], torch.Tensor], ref: torch.Tensor) -> float:
    """Relative error of a peer's product against ours; inf when the peer runs out of memory
    (then it is not timed: e.g. forward-over-reverse on VGG16-BN at batch 1000 on an 80 GB GPU,
    ../shared/BASELINES.md)."""
    try:
        return _rel(fn(), ref)
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return float("inf")


def build(spec: dict[str, Any], device: torch.device) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    data = load_dataset(spec["dataset"], split="train")
    data = subset(data, spec["n"], seed=0) if spec["n"] < len(data) else data
    torch.manual_seed(0)
    if spec["name"] == "mlp":
        model = models.mlp(int(np.prod(data.x.shape[1:])), spec["widths"], 10)
    elif spec["name"] == "lenet5":
        model = models.lenet5(in_channels=data.x.shape[1], num_classes=10, input_size=data.x.shape[-1])
    elif spec["name"] == "vgg16_bn":
        model = models.vgg(depth=16, batch_norm=True, num_classes=10)
    else:
        raise ValueError(f"unknown model {spec['name']!r}")
    model = model.to(device).eval()
    return model, data.x.to(device), data.y.to(device)


def bench_model(spec: dict[str, Any], cfg: dict[str, Any], device: torch.device) -> dict[str, Any]:
    model, x, y = build(spec, device)
    bs = spec["batch_size"]
    batches = [(x[i : i + bs], y[i : i + bs]) for i in range(0, x.shape[0], bs)]
    N = x.shape[0]
    params = [p for p in model.parameters() if p.requires_grad]
    p = sum(q.numel() for q in params)
    reps, kb = cfg["repeats"], cfg["k_block"]
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(p, generator=gen).to(device)
    V = torch.randn(p, kb, generator=gen).to(device)
    rows: list[dict[str, Any]] = []
    checks: dict[str, float] = {}

    tasks: list[dict[str, Any]] = []

    def add(what: str, tool: str, fn: Callable[[], Any], vectors: int = 1, flops: bool = True,
            sequential_of: str | None = None) -> None:
        """Register a product to time. FLOPs are counted once; for a loop of ``vectors`` single
        products, ``sequential_of`` names the single-product row and the count is ``vectors`` times
        its count (exact: the loop repeats the same computation)."""
        tasks.append({"computation": what, "tool": tool, "fn": fn, "vectors": vectors, "flops": flops,
                      "sequential_of": sequential_of})

    def run_tasks() -> None:
        """Count FLOPs, then time all registered products round-robin, ``repeats`` rounds, so that
        the load of a shared machine affects every row alike; keep the minimum and the median."""
        counts: dict[int, float | None] = {}
        for i, t in enumerate(tasks):
            if t["sequential_of"] is None and t["flops"]:
                counts[i] = _flops(t["fn"])
        for i, t in enumerate(tasks):
            if t["sequential_of"] is not None:
                j = next(j for j, u in enumerate(tasks) if u["computation"] == t["sequential_of"] and u["tool"] == t["tool"])
                counts[i] = counts[j] * t["vectors"] if counts.get(j) is not None else None
        times: list[list[float]] = [[] for _ in tasks]
        for r in range(reps):
            for i, t in enumerate(tasks):
                times[i].append(_time(t["fn"], 1, device)["min"])
            print(f"  round {r + 1}/{reps} done", flush=True)
        for i, t in enumerate(tasks):
            row = {"computation": t["computation"], "tool": t["tool"], "time_min_s": min(times[i]),
                   "time_median_s": statistics.median(times[i]), "vectors": t["vectors"],
                   # ratio to the gradient pass of the same round, median over rounds: robust to
                   # drift of a shared machine between rounds
                   "x_grad_round_median": statistics.median(a / b for a, b in zip(times[i], times[0]))}
            if counts.get(i) is not None:
                row["gflop"] = counts[i] / 1e9
            rows.append(row)
            print(f"  {row['computation']:<22} {row['tool']:<22} {row['time_min_s']:9.4f} s"
                  + (f"  {row['gflop']:9.3f} GFLOP" if "gflop" in row else ""), flush=True)

    # -- gradient pass ------------------------------------------------------------------------
    def grad_pass() -> None:
        for xb, yb in batches:
            loss = F.cross_entropy(model(xb), yb) * (xb.shape[0] / N)
            torch.autograd.grad(loss, params)

    add("gradient pass", "torch.autograd", grad_pass)

    # -- ours ---------------------------------------------------------------------------------
    # Rows "ours": every product from scratch (SpeedOptions(primal_cache_bytes=0)), what one product costs at new
    # parameters; the product targets are judged on these. Rows "ours (primal kept)": the engine's
    # default where it keeps each sweep's primal graph (on a CPU), i.e. every product after the
    # first at the same parameters, as in Lanczos; top-k and SLQ run with the default.
    scratch = SpeedOptions(primal_cache_bytes=0)
    H = hessian_operator(model, F.cross_entropy, (x, y), batch_size=bs, speed=scratch)
    G = ggn_operator(model, F.cross_entropy, (x, y), batch_size=bs, speed=scratch)
    H_auto = hessian_operator(model, F.cross_entropy, (x, y), batch_size=bs)
    G_auto = ggn_operator(model, F.cross_entropy, (x, y), batch_size=bs)
    Hv, HV, Gv, GV = H @ v, H @ V, G @ v, G @ V
    add("HVP x1", "ours", lambda: H @ v)
    add(f"HVP x{kb}", "ours", lambda: H @ V, vectors=kb)
    if cfg.get("compare_hvp_methods"):
        # the other k-vector method of the engine (is_grads_batched double backward), to choose the
        # default per device: on a CPU, VGG16-BN at 16 images ran forward-over-reverse at 3.9
        # gradient passes per vector against PyHessian's 3.6 (LeNet5: 1.2 against 2.6)
        H_db = hessian_operator(model, F.cross_entropy, (x, y), batch_size=bs,
                                speed=SpeedOptions(hvp_method="double_backward", primal_cache_bytes=0))
        checks[f"ours (batched double backward) HVP x{kb}"] = _agree(lambda: H_db @ V, HV)
        add(f"HVP x{kb}", "ours (batched double backward)", lambda: H_db @ V, vectors=kb)
    add("GGN x1", "ours", lambda: G @ v)
    add(f"GGN x{kb}", "ours", lambda: G @ V, vectors=kb)
    if H_auto.primal_cache.budget > 0:
        kept = "ours (primal kept)"
        for op, vec, ref_, what in ((H_auto, v, Hv, "HVP x1"), (H_auto, V, HV, f"HVP x{kb}"),
                                    (G_auto, v, Gv, "GGN x1"), (G_auto, V, GV, f"GGN x{kb}")):
            op @ vec  # keeps the graphs (see hessian/speed.py)
            checks[f"{kept} {what}"] = _agree(lambda op=op, vec=vec: op @ vec, ref_)
            add(what, kept, lambda op=op, vec=vec: op @ vec, vectors=vec.shape[1] if vec.ndim == 2 else 1)

    # -- peers: products ----------------------------------------------------------------------
    peers: dict[str, Any] = {}
    if _version("pyhessian"):
        from pyhessian import hessian as PyHessian

        comp = PyHessian(model, nn.CrossEntropyLoss(), dataloader=batches, cuda=device.type == "cuda")

        def split(vec: torch.Tensor) -> list[torch.Tensor]:
            return [t.view_as(q) for t, q in zip(torch.split(vec, [q.numel() for q in params]), params)]

        def ph_hvp(vec: torch.Tensor) -> torch.Tensor:
            _, out = comp.dataloader_hv_product(split(vec))
            return torch.cat([o.reshape(-1) for o in out])

        checks["pyhessian HVP"] = _agree(lambda: ph_hvp(v), Hv)
        peers["pyhessian"] = comp
        if checks["pyhessian HVP"] < AGREE_RTOL:
            add("HVP x1", "pyhessian", lambda: ph_hvp(v))
            add(f"HVP x{kb}", "pyhessian", lambda: [ph_hvp(V[:, j]) for j in range(kb)], vectors=kb, sequential_of="HVP x1")
        model.zero_grad(set_to_none=True)
    if _version("curvlinops-for-pytorch"):
        from curvlinops import GGNLinearOperator, HessianLinearOperator

        cl_H = HessianLinearOperator(model, nn.CrossEntropyLoss(), params, batches, check_deterministic=False, num_data=N)
        cl_G = GGNLinearOperator(model, nn.CrossEntropyLoss(), params, batches, check_deterministic=False, num_data=N)
        checks["curvlinops HVP"] = _agree(lambda: cl_H @ v, Hv)
        checks[f"curvlinops HVP x{kb}"] = _agree(lambda: cl_H @ V, HV)
        checks["curvlinops GGN"] = _agree(lambda: cl_G @ v, Gv)
        checks[f"curvlinops GGN x{kb}"] = _agree(lambda: cl_G @ V, GV)
        peers["curvlinops"] = (cl_H, cl_G)
        if checks["curvlinops HVP"] < AGREE_RTOL and checks[f"curvlinops HVP x{kb}"] < AGREE_RTOL:
            add("HVP x1", "curvlinops", lambda: cl_H @ v)
            add(f"HVP x{kb}", "curvlinops", lambda: cl_H @ V, vectors=kb)
        if checks["curvlinops GGN"] < AGREE_RTOL and checks[f"curvlinops GGN x{kb}"] < AGREE_RTOL:
            add("GGN x1", "curvlinops", lambda: cl_G @ v)
            add(f"GGN x{kb}", "curvlinops", lambda: cl_G @ V, vectors=kb)
    if _version("hessian-eigenthings"):
        import hessian_eigenthings as he

        he_H = he.HessianOperator(model, batches, he.supervised_loss(F.cross_entropy))
        he_G = he.GGNOperator(model, batches, he.supervised_forward, he.supervised_loss_of_output(F.cross_entropy))
        checks["hessian-eigenthings HVP"] = _agree(lambda: he_H.matvec(v), Hv)
        checks["hessian-eigenthings GGN"] = _agree(lambda: he_G.matvec(v), Gv)
        peers["hessian_eigenthings"] = (he_H, he_G)
        if checks["hessian-eigenthings HVP"] < AGREE_RTOL:
            add("HVP x1", "hessian-eigenthings", lambda: he_H.matvec(v))
            add(f"HVP x{kb}", "hessian-eigenthings", lambda: [he_H.matvec(V[:, j]) for j in range(kb)], vectors=kb,
                sequential_of="HVP x1")
        if checks["hessian-eigenthings GGN"] < AGREE_RTOL:
            add("GGN x1", "hessian-eigenthings", lambda: he_G.matvec(v))
            add(f"GGN x{kb}", "hessian-eigenthings", lambda: [he_G.matvec(V[:, j]) for j in range(kb)], vectors=kb,
                sequential_of="GGN x1")
    for name, val in checks.items():
        print(f"  agreement {name:<28} rel. error {val:.2e}"
              + ("" if val < AGREE_RTOL else "  OUT OF MEMORY: not timed" if val == float("inf") else "  DISAGREES: not timed"))
    model.zero_grad(set_to_none=True)
    # a peer whose single HVP disagrees or runs out of memory takes no part in top-k and SLQ
    hvp_check = {"pyhessian": "pyhessian HVP", "curvlinops": "curvlinops HVP",
                 "hessian_eigenthings": "hessian-eigenthings HVP"}
    peers = {name: obj for name, obj in peers.items() if checks.get(hvp_check[name], float("inf")) < AGREE_RTOL}

    run_tasks()

    # -- float64 reference for the time-to-accuracy rows (benchmarks/time_to_accuracy.py) --------
    k = cfg["top_k"]
    info: dict[str, Any] = {}
    ref: dict[str, np.ndarray] = {}
    acc_cfg = cfg["accuracy"]
    H64 = tta.float64_hessian(model, F.cross_entropy, (x, y), bs)
    # PyHessian's power iteration converges to the eigenvalues of largest magnitude: a reference for those too
    references = tta.topk_references(H64, k, acc_cfg["reference_max_steps"],
                                     ("LA", "LM") if "pyhessian" in peers else ("LA",))
    for rf in references:
        print(f"  float64 reference top-{k} ({rf.which}): {rf.steps} Lanczos steps, {rf.time_s:.1f} s, relative "
              f"error bound {rf.error_bound:.1e} (must be ≤ {tta.REFERENCE_FRACTION * tta.TOPK_RTOL:.0e})", flush=True)
    # where float32 rounding changes a ReLU mask or a max-pool choice, the same weights give a different
    # Hessian in float32: measured here, since no float32 tool can get closer to the reference than that
    H_chk = hessian_operator(model, F.cross_entropy, (x, y), batch_size=bs)
    float32_vs_64 = {"products (random vector)": tta.product_gap(H_chk, H64)}
    for rf in references:
        float32_vs_64[f"Rayleigh quotients at the reference eigenvectors ({rf.which})"] = tta.float32_gap(H_chk, rf)
    print(f"  float32 vs float64 operator: {float32_vs_64}", flush=True)
    del H_chk
    reference = references[0]
    ref_vals = reference.eigenvalues
    ref_lm = references[-1].eigenvalues

    algo_runs: list[tuple[dict[str, Any], Callable[[], Any]]] = []

    def run_once(what: str, tool: str, fn: Callable[[], Any]) -> Any:
        """Time one run of a whole algorithm (top-k, SLQ); ``algo_repeats`` − 1 further rounds over
        all tools follow at the end (interleaved, so slow drift of a shared machine hits all alike)."""
        t, out = _timed(fn, device)
        row = {"computation": what, "tool": tool, "time_min_s": t, "time_median_s": t, "vectors": 1, "times_s": [t]}
        rows.append(row)
        algo_runs.append((row, fn))
        print(f"  {what:<22} {tool:<22} {t:9.4f} s", flush=True)
        return out

    budget = cfg["top_k_budget"]  # products each tool may use (equal budgets)
    latest: dict[str, Any] = {}

    def fresh_H() -> Any:
        """The engine's default operator, new for every algorithm run: its kept graphs and its
        choice of way are built inside the timed run (nothing carried over from earlier runs)."""
        latest["H"] = hessian_operator(model, F.cross_entropy, (x, y), batch_size=bs)
        return latest["H"]

    # -- top-k eigenpairs at an equal budget of products (each tool's own method, one run each) --
    res = run_once(f"top-{k} eigenpairs", "ours",
                   lambda: top_eigenpairs(fresh_H(), k, tol=cfg["top_k_tol"], max_steps=min(budget, p),
                                          generator=torch.Generator().manual_seed(1)))
    ours_vals = res.eigenvalues.numpy()
    info[f"top-{k} ours"] = {"products": res.num_steps, "converged": res.converged,
                             "max relative residual": float(res.residuals.max() / abs(ours_vals).max())}
    if "pyhessian" in peers:
        comp = peers["pyhessian"]
        counter = tta.ProductCounter()

        def ph_topk() -> Any:
            torch.manual_seed(1)
            return comp.eigenvalues(maxIter=max(1, budget // k), tol=1e-3, top_n=k)

        with _pyhessian_counting(comp, counter, {}):
            vals, _ = run_once(f"top-{k} eigenpairs", "pyhessian", ph_topk)
        model.zero_grad(set_to_none=True)
        ref["pyhessian"] = np.sort(np.array(vals))[::-1]
        info[f"top-{k} pyhessian products"] = counter.n
    if "curvlinops" in peers:
        from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

        sc = peers["curvlinops"][0].to_scipy()
        calls = {"n": 0}

        def mv(vec: np.ndarray) -> np.ndarray:
            calls["n"] += 1
            return sc @ vec

        counted_op = LinearOperator(sc.shape, matvec=mv, dtype=sc.dtype)
        ncv = min(p, 2 * k + 1)
        maxiter = max(1, (budget - ncv) // max(ncv - k, 1))
        arpack_v0 = np.random.default_rng(1).standard_normal(p).astype(sc.dtype)  # the same start every round

        def arpack() -> np.ndarray:
            try:
                return eigsh(counted_op, k=k, which="LA", tol=1e-4, ncv=ncv, maxiter=maxiter, v0=arpack_v0,
                             return_eigenvectors=False)
            except ArpackNoConvergence as err:  # the budget ran out: keep the converged ones
                return np.asarray(err.eigenvalues)

        vals = run_once(f"top-{k} eigenpairs", "curvlinops", arpack)
        ref["curvlinops"] = np.sort(vals)[::-1]
        info[f"top-{k} curvlinops (scipy eigsh) products"] = calls["n"]
        info[f"top-{k} curvlinops eigenvalues returned"] = int(len(vals))
    if "hessian_eigenthings" in peers:
        import hessian_eigenthings as he

        r = run_once(f"top-{k} eigenpairs", "hessian-eigenthings",
                     lambda: he.lanczos(peers["hessian_eigenthings"][0], k=k, which="LA", seed=1,
                                        max_iter=min(budget, p - 1)))
        ref["hessian_eigenthings"] = np.sort(np.asarray(r.eigenvalues.cpu() if torch.is_tensor(r.eigenvalues) else r.eigenvalues))[::-1]
    info[f"top-{k} ours max rel. error vs float64 reference"] = tta.topk_error(ours_vals, ref_vals)
    for tool, vals in ref.items():
        m = min(len(vals), k)
        info[f"top-{k} {tool} max rel. deviation from ours"] = (
            float(np.max(np.abs(vals[:m] - ours_vals[:m]) / np.abs(ours_vals[:m]))) if m > 0 else float("nan")
        )
        info[f"top-{k} {tool} max rel. error vs float64 reference"] = tta.topk_error(vals, ref_vals)
        if tool == "pyhessian":
            info[f"top-{k} pyhessian max rel. error vs float64 reference of largest magnitude"] = tta.topk_error(vals, ref_lm)

    # -- top-k to a stated accuracy ------------------------------------------------------------
    acc_rows: list[dict[str, Any]] = []
    cap = min(acc_cfg["topk_cap"], p)
    rtol = tta.TOPK_RTOL
    what_topk = f"top-{k} to {rtol:g}"

    def add_acc(what: str, tool: str, method: str, stopping: str, tol: float, out: tta.Outcome,
                fn: Callable[[], tuple[float, int, bool]] | None, timed: tta.Attempt | None = None) -> None:
        """One time-to-accuracy row: the attempt that reached ``tol`` (or the last one, capped), re-timed
        in the later interleaved rounds through ``fn`` when it reached. For fewest-steps rows ``out`` is
        the search and ``timed`` the run of exactly that many steps, whose own error decides."""
        a = timed or out.reached or (out.attempts[-1] if out.attempts else None)
        reached = out.reached is not None and (timed is None or timed.error <= tol)
        if timed is not None:
            out.attempts.append(timed)
        row = {"computation": what, "tool": tool, "method": method, "stopping": stopping, "reached": reached,
               "products": a.products if a else 0, "error": a.error if a else math.inf,
               "time_min_s": a.time_s if a else math.nan, "time_median_s": a.time_s if a else math.nan,
               "times_s": [a.time_s] if a else [], "products_per_round": [a.products] if a else [],
               "setting": a.setting if a else "", "capped": bool(a.capped) if a else False, "attempts": [t.as_dict() for t in out.attempts], "vectors": 1}
        acc_rows.append(row)
        if reached and fn is not None:
            algo_runs.append((row, fn))
        print(f"  {what:<18} {tool:<22} {'reached' if reached else 'NOT reached'}: {row['products']} products, "
              f"{row['time_min_s']:.4f} s, error {row['error']:.2e} ({row['setting']})", flush=True)

    def tol_label(t: float) -> str:
        return f"tol={t:g}"

    def ours_own(t: float) -> tuple[float, int, bool]:
        r = top_eigenpairs(fresh_H(), k, tol=t, max_steps=cap, generator=torch.Generator().manual_seed(1))
        return tta.topk_error(r.eigenvalues.numpy(), ref_vals), int(r.num_steps), not r.converged

    print(f"  time to accuracy, top-{k} (cap {cap} products): ours, own tolerance", flush=True)
    out = tta.ladder(tta.OWN_TOLERANCES, ours_own, device, rtol, tol_label)
    t_own = out.reached.value if out.reached else None
    add_acc(what_topk, "ours", "Lanczos, full reorth.", "own tolerance (Ritz residual ≤ tol·max|θ|)", rtol, out,
            (lambda t=t_own: ours_own(t)) if t_own is not None else None)

    print(f"  time to accuracy, top-{k}: ours, fewest steps", flush=True)

    def ours_search(_: int) -> tuple[float, int, bool]:
        g = torch.Generator().manual_seed(1)
        Hs = fresh_H()
        V0 = random_vectors(1, p, Hs.dtype, Hs.device, g)

        def stop(a: np.ndarray, b: np.ndarray) -> bool:
            return tta.topk_error(ritz_from_coefficients(a, b[: a.size - 1])[0], ref_vals) <= rtol

        (run,) = lanczos_runs(Hs, V0, cap, reorthogonalize=True, keep_basis=False, restart_on_breakdown=True,
                              generator=g, should_stop=stop)
        err = tta.topk_error(run.ritz_values, ref_vals)
        return err, run.num_steps, err > rtol

    search = tta.ladder([cap], ours_search, device, rtol, lambda c: f"search, stop at the reference (cap {c})")
    timed = None
    fn_fewest = None
    if search.reached:
        m_star = search.reached.products

        def fn_fewest(m: int = m_star) -> tuple[float, int, bool]:
            r = top_eigenpairs(fresh_H(), k, tol=0.0, max_steps=m, generator=torch.Generator().manual_seed(1))
            return tta.topk_error(r.eigenvalues.numpy(), ref_vals), int(r.num_steps), False

        timed = tta.ladder([m_star], lambda m: fn_fewest(m), device, rtol, lambda m: f"max_steps={m}, tol=0")
        timed = timed.attempts[-1]
    add_acc(what_topk, "ours (fewest steps)", "Lanczos, full reorth.", "fewest steps (found against the reference)",
            rtol, search, fn_fewest, timed)

    if "pyhessian" in peers:
        comp = peers["pyhessian"]
        max_iter = max(1, cap // k)

        def ph_own(t: float) -> tuple[float, int, bool]:
            counter, per_eig = tta.ProductCounter(), {}
            with _pyhessian_counting(comp, counter, per_eig):
                torch.manual_seed(1)
                vals, _ = comp.eigenvalues(maxIter=max_iter, tol=t, top_n=k)
            model.zero_grad(set_to_none=True)
            # judged against the float64 top-k largest or of largest magnitude, whichever it is nearer
            err = min(tta.topk_error(vals, ref_vals), tta.topk_error(vals, ref_lm))
            return err, counter.n, any(c >= max_iter for c in per_eig.values())

        print(f"  time to accuracy, top-{k}: pyhessian, own tolerance", flush=True)
        out = tta.ladder(tta.OWN_TOLERANCES, ph_own, device, rtol, tol_label)
        t_ph = out.reached.value if out.reached else None
        add_acc(what_topk, "pyhessian", "deflated power iteration (converges to the k of largest magnitude; "
                "judged against the float64 top-k largest or of largest magnitude, whichever is nearer)",
                f"own tolerance (relative change of each Rayleigh quotient < tol; maxIter {max_iter} per eigenvalue)",
                rtol, out, (lambda t=t_ph: ph_own(t)) if t_ph is not None else None)
    if "curvlinops" in peers:
        from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

        sc = peers["curvlinops"][0].to_scipy()
        arpack_v0 = np.random.default_rng(1).standard_normal(p).astype(sc.dtype)

        def arpack_own(t: float) -> tuple[float, int, bool]:
            counter = tta.ProductCounter(cap)

            def mv(vec: np.ndarray) -> np.ndarray:
                counter.tick()
                return sc @ vec

            op = LinearOperator(sc.shape, matvec=mv, dtype=sc.dtype)
            capped = False
            try:
                vals = eigsh(op, k=k, which="LA", tol=t, v0=arpack_v0, maxiter=cap, return_eigenvectors=False)
            except ArpackNoConvergence as err:
                vals, capped = np.asarray(err.eigenvalues), True
            except tta.BudgetExhausted:
                vals, capped = np.zeros(0), True
            return tta.topk_error(vals, ref_vals), counter.n, capped

        print(f"  time to accuracy, top-{k}: curvlinops (scipy eigsh), own tolerance", flush=True)
        out = tta.ladder(tta.OWN_TOLERANCES, arpack_own, device, rtol, tol_label)
        t_ar = out.reached.value if out.reached else None
        add_acc(what_topk, "curvlinops", "scipy eigsh (ARPACK, implicitly restarted Lanczos, default ncv)",
                "own tolerance (Ritz residual ≤ tol·|θ_j|)", rtol, out, (lambda t=t_ar: arpack_own(t)) if t_ar is not None else None)
    if "hessian_eigenthings" in peers:
        import hessian_eigenthings as he

        he_H = peers["hessian_eigenthings"][0]
        he_v0 = torch.randn(p, dtype=he_H.dtype, generator=torch.Generator(device="cpu").manual_seed(1)).to(he_H.device)
        found: dict[str, int] = {}

        def he_search(M: int) -> tuple[float, int, bool]:
            td = he.lanczos_tridiagonal(he_H, he_v0, M, reorthogonalize=True)
            a, b = td.alphas.double().cpu().numpy(), td.betas.double().cpu().numpy()
            m = tta.fewest_lanczos_steps(a, b, ref_vals, rtol)
            if m is not None:
                found["m"] = m
            return (tta.topk_error(ritz_from_coefficients(a, b)[0], ref_vals), td.iterations, M >= cap)

        print(f"  time to accuracy, top-{k}: hessian-eigenthings, fewest steps", flush=True)
        search = tta.ladder(tta.doubling_steps(2 * k, min(cap, p - 1)), he_search, device, rtol,
                            lambda M: f"search, max_iter={M}")
        timed, fn_he = None, None
        if "m" in found:
            def fn_he(m: int = found["m"]) -> tuple[float, int, bool]:
                r = he.lanczos(he_H, k=k, which="LA", seed=1, max_iter=m, reorthogonalize=True)
                return tta.topk_error(r.eigenvalues.double().cpu().numpy(), ref_vals), int(r.iterations), False

            timed = tta.ladder([found["m"]], lambda m: fn_he(m), device, rtol, lambda m: f"max_iter={m}").attempts[-1]
        add_acc(what_topk, "hessian-eigenthings", "Lanczos, full reorth. (reorthogonalize=True)",
                "fewest steps (found against the reference; it has no stopping rule)", rtol, search, fn_he, timed)

    # -- SLQ density (equal steps and vectors, float32) ----------------------------------------
    m, nv = cfg["slq_steps"], cfg["slq_vectors"]
    sd = run_once(f"SLQ m={m} n={nv}", "ours",
                  lambda: spectral_density(fresh_H(), m, nv, generator=torch.Generator().manual_seed(2)))
    info["SLQ ours reorth fraction"] = sd.time_reorth / max(sd.time_products + sd.time_reorth, 1e-12)
    # the most our SLQ can gain over n one-vector double-backward HVPs per step, in FLOPs: our
    # n-vector product as the SLQ run makes it (kept graphs, the way it chose for n vectors)
    H_slq = latest["H"]
    one = next((r for r in rows if r["computation"] == "HVP x1" and r["tool"] == "ours"), None)
    flops_block = _flops(lambda: H_slq @ V[:, :nv])
    if one is not None and "gflop" in one and flops_block:
        info["SLQ FLOP bound: n one-vector HVPs / our n-vector product"] = one["gflop"] * 1e9 * nv / flops_block
    if H_slq.primal_cache.budget > 0:
        info["SLQ ours: primal graphs kept (MiB)"] = H_slq.primal_cache.nbytes / 2**20
        info["SLQ ours: way for n vectors"] = "kept" if nv == 1 else way_rule(model)
        info["product rows: way for k > 1 vectors (speed.way_rule)"] = way_rule(model)
    for prec in cfg["reduced_precisions"]:
        H_low = hessian_operator(model, F.cross_entropy, (x, y), batch_size=bs, precision=prec)
        sd_low = run_once(f"SLQ m={m} n={nv}", f"ours ({prec} products)",
                          lambda op=H_low: spectral_density(op, m, nv, generator=torch.Generator().manual_seed(2)))
        info[f"SLQ {prec} Wasserstein-1 to float32 (same start vectors)"] = float(
            wasserstein_distance(sd.nodes.ravel(), sd_low.nodes.ravel(), sd.weights.ravel(), sd_low.weights.ravel())
        )
    info["SLQ float32 spectral range"] = float(sd.nodes.max() - sd.nodes.min())
    # float64 moments j = 1..4 of each tool's own start vectors (two float64 products per vector)
    ph_vectors = tta.pyhessian_probe_vectors(params, nv, seed=2)
    mom_ph = tta.probe_moments(H64, ph_vectors)
    float32_vs_64["SLQ moments j=1..4 of the same start vectors"] = tta.moments_gap(
        tta.probe_moments(hessian_operator(model, F.cross_entropy, (x, y), batch_size=bs), ph_vectors), mom_ph)
    mom_ours = tta.probe_moments(H64, random_vectors(nv, p, torch.float32, device, torch.Generator().manual_seed(2)).T)
    info[f"SLQ m={m} ours max moment error vs float64 (same start vectors)"] = tta.moment_error(sd.nodes, sd.weights, mom_ours)
    if "pyhessian" in peers:
        _patch_torch_eig()

        def ph_density(steps: int = m) -> Any:
            torch.manual_seed(2)
            return peers["pyhessian"].density(iter=steps, n_v=nv)

        nodes, weights = run_once(f"SLQ m={m} n={nv}", "pyhessian", ph_density)
        model.zero_grad(set_to_none=True)
        info[f"SLQ m={m} pyhessian max moment error vs float64 (same start vectors)"] = tta.moment_error(
            np.array(nodes), np.array(weights), mom_ph)
    if "curvlinops" in peers:
        from curvlinops import lanczos_approximate_spectrum

        lo, hi = float(sd.nodes.min()), float(sd.nodes.max())
        run_once(f"SLQ m={m} n={nv}", "curvlinops",
                 lambda: lanczos_approximate_spectrum(peers["curvlinops"][0], m, num_repeats=nv, boundaries=(lo, hi)))
    mom_he = None
    if "hessian_eigenthings" in peers:
        import hessian_eigenthings as he

        he_H = peers["hessian_eigenthings"][0]
        r_he = run_once(f"SLQ m={m} n={nv}", "hessian-eigenthings",
                        lambda: he.spectral_density(he_H, num_runs=nv, lanczos_steps=m, seed=2))
        mom_he = tta.probe_moments(H64, tta.eigenthings_probe_vectors(p, nv, 2, he_H.dtype, device))
        info[f"SLQ m={m} hessian-eigenthings max moment error vs float64 (same start vectors)"] = tta.moment_error(
            r_he.raw_eigenvalues.cpu().numpy(), r_he.raw_weights.cpu().numpy(), mom_he)
    info["SLQ start vectors (PyHessian's): moments j=1..4 relative standard error over the n vectors"] = (
        tta.stochastic_spread(mom_ph))

    # -- SLQ at equal accuracy of the moments ---------------------------------------------------
    slq_cap = acc_cfg["slq_max_steps"]
    what_slq = f"SLQ n={nv} moments to {tta.MOMENT_RTOL:g}"
    steps_ladder = range(1, min(slq_cap, p) + 1)

    def steps_label(s: int) -> str:
        return f"m={s}"

    def ours_slq(s: int) -> tuple[float, int, bool]:
        d = spectral_density(fresh_H(), s, nv, v0=ph_vectors)
        return tta.moment_error(d.nodes, d.weights, mom_ph), s * nv, s >= slq_cap

    print(f"  SLQ to equal accuracy of the moments (at most {slq_cap} steps): ours", flush=True)
    out = tta.ladder(steps_ladder, ours_slq, device, tta.MOMENT_RTOL, steps_label)
    add_acc(what_slq, "ours", "n runs together, full reorth.", "fewest steps; PyHessian's start vectors",
            tta.MOMENT_RTOL, out,
            (lambda s=out.reached.value: ours_slq(s)) if out.reached else None)
    if "pyhessian" in peers:
        def ph_slq(s: int) -> tuple[float, int, bool]:
            counter = tta.ProductCounter()
            with _pyhessian_counting(peers["pyhessian"], counter, {}):
                nodes, weights = ph_density(s)
            model.zero_grad(set_to_none=True)
            return tta.moment_error(np.array(nodes), np.array(weights), mom_ph), counter.n, s >= slq_cap

        print("  SLQ to equal accuracy of the moments: pyhessian", flush=True)
        out = tta.ladder(steps_ladder, ph_slq, device, tta.MOMENT_RTOL, steps_label)
        add_acc(what_slq, "pyhessian", "n sequential runs, reorth.", "fewest steps; its own start vectors (ours uses them too)",
                tta.MOMENT_RTOL, out,
                (lambda s=out.reached.value: ph_slq(s)) if out.reached else None)
    if "hessian_eigenthings" in peers and mom_he is not None:
        def he_slq(s: int) -> tuple[float, int, bool]:
            d = he.spectral_density(he_H, num_runs=nv, lanczos_steps=s, seed=2)
            return (tta.moment_error(d.raw_eigenvalues.cpu().numpy(), d.raw_weights.cpu().numpy(), mom_he),
                    s * nv, s >= slq_cap)

        print("  SLQ to equal accuracy of the moments: hessian-eigenthings", flush=True)
        out = tta.ladder(steps_ladder, he_slq, device, tta.MOMENT_RTOL, steps_label)
        add_acc(what_slq, "hessian-eigenthings", "n sequential runs, full reorth.",
                "fewest steps; its own start vectors (compared with their own float64 moments)", tta.MOMENT_RTOL, out,
                (lambda s=out.reached.value: he_slq(s)) if out.reached else None)

    for r in range(1, cfg.get("algo_repeats", 1)):
        for row, fn in algo_runs:
            t, out_r = _timed(fn, device)
            row["times_s"].append(t)
            row["time_min_s"] = min(row["times_s"])
            row["time_median_s"] = statistics.median(row["times_s"])
            if "products_per_round" in row:
                row["products_per_round"].append(int(out_r[1]))
        model.zero_grad(set_to_none=True)
        print(f"  algorithm round {r + 1}/{cfg['algo_repeats']} done", flush=True)
    # FLOPs of one more run of each row that reached its tolerance (matmuls and convolutions that torch
    # makes; ARPACK's and scipy's own arithmetic is not traced); peers' rows not at --size tiny, where the
    # counter's per-operation overhead would double the CI test's time
    for row, fn in algo_runs:
        if "products_per_round" in row and (acc_cfg.get("trace_peers", True) or row["tool"].startswith("ours")):
            fl = _flops(fn)
            if fl is not None:
                row["gflop"] = fl / 1e9
    model.zero_grad(set_to_none=True)
    for key, val in info.items():
        print(f"  {key}: {val}")
    # ratios
    g = next(r for r in rows if r["computation"] == "gradient pass")
    for r in rows:
        r["x_grad_time"] = r["time_min_s"] / g["time_min_s"]
        r["x_grad_time_per_vector"] = r["x_grad_time"] / r["vectors"]
        if "gflop" in r:
            r["x_grad_flop"] = r["gflop"] / g["gflop"]
            r["x_grad_flop_per_vector"] = r["x_grad_flop"] / r["vectors"]
    for r in rows:
        ours = next((q for q in rows if q["computation"] == r["computation"] and q["tool"] == "ours"), None)
        if ours is not None:
            r["time_vs_ours"] = r["time_min_s"] / ours["time_min_s"]
    for r in acc_rows:
        r["x_grad_time"] = r["time_min_s"] / g["time_min_s"]
        if "gflop" in r:
            r["x_grad_flop"] = r["gflop"] / g["gflop"]
        # own-tolerance rows against ours with its own tolerance, fewest-steps rows against ours with
        # the fewest steps, SLQ rows against ours; only where both reached the tolerance
        fewest = "fewest steps" in r["stopping"] and r["computation"] == what_topk
        ours_tool = "ours (fewest steps)" if fewest else "ours"
        ours = next((q for q in acc_rows if q["computation"] == r["computation"] and q["tool"] == ours_tool), None)
        if ours is not None and ours["reached"] and r["reached"]:
            r["time_vs_ours"] = r["time_min_s"] / ours["time_min_s"]
            r["products_vs_ours"] = r["products"] / ours["products"]
    accuracy = {"topk_rtol": tta.TOPK_RTOL, "moment_rtol": tta.MOMENT_RTOL, "moment_orders": list(tta.MOMENT_ORDERS),
                "own_tolerances": list(tta.OWN_TOLERANCES), "topk_cap": cap, "slq_max_steps": slq_cap,
                "flops_traced_for_peers": bool(acc_cfg.get("trace_peers", True)),
                "float32 vs float64 operator (max rel. difference)": float32_vs_64,
                "reference": reference.summary(),
                "reference of largest magnitude": references[-1].summary() if len(references) > 1 else None,
                "reference moments j=1..4 (PyHessian's start vectors)": tta.moment_scales(mom_ph)[0].tolist(),
                "rows": acc_rows}
    return {"model": spec, "num_parameters": p, "num_samples": N, "rows": rows, "agreement": checks, "info": info,
            "time_to_accuracy": accuracy}


def table(results: list[dict[str, Any]]) -> str:
    lines = []
    for res in results:
        s = res["model"]
        lines.append(f"\n### {s['name']} on {res['num_samples']} {s['dataset']} images "
                     f"({res['num_parameters']:,} parameters, batch {s['batch_size']})\n")
        lines.append("| computation | tool | time (s, min) | x grad pass | per vector | per vector, median of rounds | GFLOP | FLOP x grad | FLOP per vector | time / ours |")
        lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in res["rows"]:
            fl = (f"{r['gflop']:.3f} | {r['x_grad_flop']:.2f} | {r['x_grad_flop_per_vector']:.2f}"
                  if "gflop" in r else "- | - | -")
            lines.append(
                f"| {r['computation']} | {r['tool']} | {r['time_min_s']:.4f} | {r['x_grad_time']:.2f} | "
                f"{r['x_grad_time_per_vector']:.2f} | "
                + (f"{r['x_grad_round_median'] / r['vectors']:.2f}" if "x_grad_round_median" in r else "-")
                + f" | {fl} | {r.get('time_vs_ours', float('nan')):.2f} |"
            )
        lines.append("")
        for k, val in res["agreement"].items():
            lines.append(f"- agreement {k}: " + ("out of memory (not timed)" if val == float("inf")
                                                     else f"relative error {val:.1e}"))
        for k, val in res["info"].items():
            lines.append(f"- {k}: {val:.4g}" if isinstance(val, float) else f"- {k}: {val}")
        if "time_to_accuracy" in res:
            lines.append(accuracy_table(res))
    return "\n".join(lines)


def accuracy_table(res: dict[str, Any]) -> str:
    """The time-to-accuracy rows of one model (see benchmarks/time_to_accuracy.py and benchmarks/README.md)."""
    acc = res["time_to_accuracy"]
    lines = ["", "#### Time to accuracy (same model and data; tolerances fixed before any result was seen)", ""]
    for ref in (acc["reference"], acc.get("reference of largest magnitude")):
        if ref is None:
            continue
        bound = ref["relative error bound (max r_j/|θ_j|)"]
        ok = bound <= tta.REFERENCE_FRACTION * acc["topk_rtol"]
        lines.append(
            "Float64 reference, top-k " + ("largest" if ref["which"] == "LA" else "of largest magnitude")
            + " (ours on a float64 copy, Lanczos with full reorth. until max_j r_j/|θ_j| ≤ "
            + f"{tta.REFERENCE_FRACTION * acc['topk_rtol']:g}): "
            + (f"{ref['Lanczos steps']} steps, {ref['time_s']:.1f} s" if ref["which"] == "LA" else "the same run")
            + f"; its own relative error ≤ {bound:.1e} (max r_j/|θ_j|)"
            + ("" if ok else f" **above {tta.REFERENCE_FRACTION * acc['topk_rtol']:g}: the reference is not accurate "
                             "enough to judge the rows below**")
            + "; eigenvalues " + ", ".join(f"{v:.6g}" for v in ref["eigenvalues"]) + ".")
        lines.append("")
    gaps = acc.get("float32 vs float64 operator (max rel. difference)") or {}
    if gaps:
        worst = max(v for key, v in gaps.items() if key.startswith("Rayleigh"))
        worst_m = gaps.get("SLQ moments j=1..4 of the same start vectors", 0.0)
        lines.append("Float32 against float64 operator (the same weights): " + "; ".join(
            f"{key} {v:.1e}" for key, v in gaps.items()) + ". The Rayleigh-quotient and moment differences are "
            "about the closest a float32 tool can come to the references"
            + (f" (**top-k: above the tolerance {acc['topk_rtol']:g}, no float32 tool can reach it on this "
               "model**)" if worst > acc["topk_rtol"] else "")
            + (f" (**SLQ: above the tolerance {acc['moment_rtol']:g}, no float32 tool can reach it on this "
               "model**)" if worst_m > acc["moment_rtol"] else "") + ".")
        lines.append("")
    lines += [
        "Top-k rows: all k eigenvalues within relative " + f"{acc['topk_rtol']:g}" + " of the reference (PyHessian: "
        "of either reference, whichever is nearer); "
        f"each run may make at most {acc['topk_cap']} products. SLQ rows: the density's moments j = "
        + ", ".join(str(j) for j in acc["moment_orders"]) + f" within {acc['moment_rtol']:g} of the float64 moments "
        "of the same start vectors (odd j relative to sqrt(μ_{j−1} μ_{j+1})); "
        f"at most {acc['slq_max_steps']} steps. Times: minimum over the interleaved algorithm rounds. "
        "GFLOP: one more run of the row under torch's FLOP counter (torch matmuls and convolutions; "
        "ARPACK's own arithmetic is not traced)" + ("." if acc.get("flops_traced_for_peers", True)
                                                     else "; our rows only at this size."),
        "",
        "| computation | tool | method | stopping | setting | reached | products | error | time (s, min) "
        "| x grad pass | GFLOP | FLOP x grad | products / ours | time / ours |",
        "| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in acc["rows"]:
        reached = ("yes" if r["reached"] else f"no: stopped at its cap ({r['products']} products)" if r["capped"]
                   else "no: every setting tried")
        fl = f"{r['gflop']:.3f} | {r['x_grad_flop']:.2f}" if "gflop" in r else "- | -"
        vs = (f"{r['products_vs_ours']:.2f} | {r['time_vs_ours']:.2f}" if "time_vs_ours" in r else "- | -")
        lines.append(f"| {r['computation']} | {r['tool']} | {r['method']} | {r['stopping']} | {r['setting']} | "
                     f"{reached} | {r['products']} | {r['error']:.1e} | {r['time_min_s']:.4f} | "
                     f"{r['x_grad_time']:.2f} | {fl} | {vs} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--device", default=None, help="default: cuda for --size gpu, else cpu")
    ap.add_argument("--models", nargs="+", default=None,
                    help="run only these models of the size (default: all); results go to <size>-<models>.md")
    ap.add_argument("--samples", type=int, default=None,
                    help="override every model's number of images (a smoke test of a size's set-up, "
                         "e.g. --size gpu --device cpu --samples 32); results go to <stem>-n<samples>.md")
    args = ap.parse_args(argv)
    cfg = dict(SIZES[args.size])
    if args.samples is not None:
        if args.samples < 1:
            raise SystemExit(f"--samples must be positive, got {args.samples}")
        cfg["models"] = [{**m, "n": args.samples, "batch_size": min(m["batch_size"], args.samples)}
                         for m in cfg["models"]]
    if args.models:
        known = [m["name"] for m in cfg["models"]]
        unknown = sorted(set(args.models) - set(known))
        if unknown:
            raise SystemExit(f"unknown model(s) {unknown} for --size {args.size}; known: {known}")
        cfg["models"] = [m for m in cfg["models"] if m["name"] in args.models]
    device = torch.device(args.device or ("cuda" if args.size == "gpu" else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--size gpu needs a CUDA device; none is available here")
    if cfg["threads"]:
        torch.set_num_threads(cfg["threads"])
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*create_graph=True.*")  # PyHessian's loss.backward
    warnings.filterwarnings("ignore", message="top_eigenpairs:.*")  # convergence is reported in the table
    meta = {
        "size": args.size,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        "dtype": "float32",
        "python": platform.python_version(),
        "versions": {"torch": torch.__version__, **{d: _version(d) for d in PEER_DISTS.values()}},
        "settings": cfg,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "host_load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    print(f"hessian benchmark --size {args.size} on {meta['device']}; versions {meta['versions']}", flush=True)
    results = []
    for spec in cfg["models"]:
        print(f"\n{spec['name']} ({spec['dataset']}, n={spec['n']}, batch {spec['batch_size']})", flush=True)
        results.append(bench_model(spec, cfg, device))
    md_text = (f"# Hessian engine benchmark, --size {args.size}\n\n"
               f"Device: {meta['device']}; float32; torch {torch.__version__}; peers: "
               + ", ".join(f"{d} {v}" for d, v in meta["versions"].items() if d != "torch")
               + f"; {meta['date']}; 1-min load average at start {meta['host_load_1min']}.\n"
               + "Times are the minimum over interleaved rounds (products: settings.repeats, top-k and SLQ: "
                 "settings.algo_repeats, default 1); ratios are to the gradient pass "
                 "of the same run. FLOPs from torch.utils.flop_counter (matmul/conv only).\n"
                 "Rows \"ours\": each product from scratch (what one product costs at new parameters). "
                 "Rows \"ours (primal kept)\": the engine's default where it keeps each sweep's primal "
                 "graph (a CPU): every product after the first at the same parameters, as inside Lanczos; "
                 "top-k and SLQ run with the default.\n"
               + table(results) + "\n")
    print(md_text)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.size if not args.models else f"{args.size}-{'-'.join(args.models)}"
    stem += f"-n{args.samples}" if args.samples is not None else ""
    (args.out_dir / f"{stem}.md").write_text(md_text)
    (args.out_dir / f"{stem}.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    print(f"wrote {args.out_dir / (stem + '.md')} and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
