"""Benchmark of the Hessian engine against PyHessian, curvlinops and hessian-eigenthings.

For each model it times, on the same model, data, device and dtype, in one run:
a gradient pass, one HVP, an 8-vector HVP, the GGN equivalents, top-10 eigenpairs and an SLQ
density (equal steps and vectors, float32), for this engine and each installed peer. Before timing,
every peer's product is checked against ours (relative error printed; a peer that disagrees is
not timed). FLOP counts from ``torch.utils.flop_counter.FlopCounterMode`` are deterministic, so
they are meaningful on a noisy machine; times are the minimum over repeats.

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
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
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

from hessian_spectra import models  # noqa: E402
from hessian_spectra.data import load_dataset, subset  # noqa: E402
from hessian_spectra.hessian import (  # noqa: E402
    SpeedOptions,
    ggn_operator,
    hessian_operator,
    spectral_density,
    top_eigenpairs,
)
from hessian_spectra.hessian.speed import way_rule  # noqa: E402

# Settings per size. None of these are from the papers: they are benchmark choices.
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {
        "models": [
            {"name": "mlp", "dataset": "mnist", "n": 128, "batch_size": 64, "widths": [32, 32, 32]},
            {"name": "lenet5", "dataset": "cifar10", "n": 32, "batch_size": 16},
        ],
        "repeats": 1, "k_block": 4, "top_k": 2, "top_k_tol": 1e-2, "top_k_budget": 8, "slq_steps": 3,
        "slq_vectors": 2, "threads": 1, "reduced_precisions": ["bf16"], "compare_hvp_methods": True,
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
    },
    "gpu": {
        "models": [
            {"name": "vgg16_bn", "dataset": "cifar10", "n": 50000, "batch_size": 1000},
        ],
        # budgets kept small: one fp32 double-backward HVP over 50,000 images takes ~11 s on an H100
        # (../shared/BASELINES.md), and the peers make one HVP per vector per step
        "repeats": 2, "k_block": 8, "top_k": 10, "top_k_tol": 1e-3, "top_k_budget": 40, "slq_steps": 20,
        "slq_vectors": 2, "threads": None, "reduced_precisions": ["tf32", "bf16"], "compare_hvp_methods": True,
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

    # -- top-k eigenpairs (each tool's own method, one run each) -------------------------------
    k = cfg["top_k"]
    info: dict[str, Any] = {}
    ref: dict[str, np.ndarray] = {}

    algo_runs: list[tuple[dict[str, Any], Callable[[], Any]]] = []

    def run_once(what: str, tool: str, fn: Callable[[], Any]) -> Any:
        """Time one run of a whole algorithm (top-k, SLQ); ``algo_repeats`` − 1 further rounds over
        all tools follow at the end (interleaved, so slow drift of a shared machine hits all alike)."""
        _sync(device)
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        t = time.perf_counter() - t0
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

    res = run_once(f"top-{k} eigenpairs", "ours",
                   lambda: top_eigenpairs(fresh_H(), k, tol=cfg["top_k_tol"], max_steps=min(budget, p),
                                          generator=torch.Generator().manual_seed(1)))
    ref_vals = res.eigenvalues.numpy()
    info[f"top-{k} ours"] = {"products": res.num_steps, "converged": res.converged,
                             "max relative residual": float(res.residuals.max() / abs(ref_vals).max())}
    if "pyhessian" in peers:
        comp = peers["pyhessian"]
        calls = {"n": 0}
        orig = comp.dataloader_hv_product

        def counted(vec: Any) -> Any:
            calls["n"] += 1
            return orig(vec)

        comp.dataloader_hv_product = counted
        torch.manual_seed(1)
        vals, _ = run_once(f"top-{k} eigenpairs", "pyhessian",
                           lambda: comp.eigenvalues(maxIter=max(1, budget // k), tol=1e-3, top_n=k))
        comp.dataloader_hv_product = orig
        model.zero_grad(set_to_none=True)
        ref["pyhessian"] = np.sort(np.array(vals))[::-1]
        info[f"top-{k} pyhessian products"] = calls["n"]
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

        def arpack() -> np.ndarray:
            try:
                return eigsh(counted_op, k=k, which="LA", tol=1e-4, ncv=ncv, maxiter=maxiter,
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
    for tool, vals in ref.items():
        m = min(len(vals), k)
        info[f"top-{k} {tool} max rel. deviation from ours"] = (
            float(np.max(np.abs(vals[:m] - ref_vals[:m]) / np.abs(ref_vals[:m]))) if m > 0 else float("nan")
        )

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
    if "pyhessian" in peers:
        _patch_torch_eig()
        torch.manual_seed(2)
        run_once(f"SLQ m={m} n={nv}", "pyhessian", lambda: peers["pyhessian"].density(iter=m, n_v=nv))
        model.zero_grad(set_to_none=True)
    if "curvlinops" in peers:
        from curvlinops import lanczos_approximate_spectrum

        lo, hi = float(sd.nodes.min()), float(sd.nodes.max())
        run_once(f"SLQ m={m} n={nv}", "curvlinops",
                 lambda: lanczos_approximate_spectrum(peers["curvlinops"][0], m, num_repeats=nv, boundaries=(lo, hi)))
    if "hessian_eigenthings" in peers:
        import hessian_eigenthings as he

        run_once(f"SLQ m={m} n={nv}", "hessian-eigenthings",
                 lambda: he.spectral_density(peers["hessian_eigenthings"][0], num_runs=nv, lanczos_steps=m, seed=2))

    for r in range(1, cfg.get("algo_repeats", 1)):
        for row, fn in algo_runs:
            if row["tool"] == "pyhessian":
                torch.manual_seed(2)
            row["times_s"].append(_time(fn, 1, device)["min"])
            row["time_min_s"] = min(row["times_s"])
            row["time_median_s"] = statistics.median(row["times_s"])
        model.zero_grad(set_to_none=True)
        print(f"  algorithm round {r + 1}/{cfg['algo_repeats']} done", flush=True)
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
    return {"model": spec, "num_parameters": p, "num_samples": N, "rows": rows, "agreement": checks, "info": info}


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
