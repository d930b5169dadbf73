"""Smoke test of benchmarks/hessian_bench.py --size tiny (no timing assertions: FLOPs and agreement)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _have_data() -> bool:
    folders = [Path(p) for p in os.environ.get("HESSIAN_SPECTRA_DATA", "").split(os.pathsep) if p]
    folders.append(ROOT / "data")
    have = lambda f: any((d / f).exists() for d in folders)  # noqa: E731
    return have("mnist.npz") and have("cifar10_jpegs.npz")


@pytest.mark.skipif(not _have_data(), reason="MNIST / CIFAR-10 local copies not found")
def test_tiny_benchmark_runs_and_peers_agree(tmp_path):
    env = dict(os.environ, HESSIAN_SPECTRA_OFFLINE="1", PYTHONPATH=str(ROOT / "lib"))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "hessian_bench.py"), "--size", "tiny", "--out-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads((tmp_path / "tiny.json").read_text())
    md_text = (tmp_path / "tiny.md").read_text()
    assert md_text.startswith("# Hessian engine benchmark") and "#### Time to accuracy" in md_text
    assert out["meta"]["versions"]["torch"]
    for res in out["results"]:
        # every peer's product agreed with ours before it was timed
        assert all(err < 1e-4 for err in res["agreement"].values()), res["agreement"]
        rows = {(r["computation"], r["tool"]): r for r in res["rows"]}
        kb = out["meta"]["settings"]["k_block"]
        for comp in ("HVP x1", f"HVP x{kb}", "GGN x1", f"GGN x{kb}"):
            assert (comp, "ours") in rows
        # deterministic work counts: one HVP by double backward is 2-3 gradient passes; sharing
        # the forward and backward makes each further vector cheaper; the GGN is cheaper still
        hvp1 = rows[("HVP x1", "ours")]["x_grad_flop"]
        hvpk = rows[(f"HVP x{kb}", "ours")]["x_grad_flop_per_vector"]
        ggn1 = rows[("GGN x1", "ours")]["x_grad_flop"]
        ggnk = rows[(f"GGN x{kb}", "ours")]["x_grad_flop_per_vector"]
        assert 2.0 < hvp1 < 3.0
        assert hvpk < 0.8 * hvp1
        assert ggn1 < hvp1 and ggnk < hvpk
        # a kept primal graph removes exactly the forward and first backward: one gradient pass
        kept = rows.get(("HVP x1", "ours (primal kept)"))
        if kept is not None:
            assert kept["x_grad_flop"] == pytest.approx(hvp1 - 1.0, rel=1e-9)
        if ("HVP x1", "pyhessian") in rows:  # the same double backward for one vector
            assert rows[("HVP x1", "pyhessian")]["gflop"] == pytest.approx(rows[("HVP x1", "ours")]["gflop"])
        _check_time_to_accuracy(res, out["meta"])


def _check_time_to_accuracy(res: dict, meta: dict) -> None:
    """The time-to-accuracy rows exist for every installed tool, and ours reaches the tolerance."""
    settings = meta["settings"]
    acc = res["time_to_accuracy"]
    assert acc["topk_rtol"] == 1e-3 and acc["moment_rtol"] == 1e-3  # the stated tolerances
    # the float64 reference certifies itself to a hundredth of the tolerance (max r_j/|θ_j|)
    for key in ("reference", "reference of largest magnitude"):
        ref = acc.get(key)
        if ref is not None:
            assert ref["relative error bound (max r_j/|θ_j|)"] <= 0.01 * acc["topk_rtol"], ref
            assert len(ref["eigenvalues"]) == settings["top_k"]
            # the float32 operator is the same function here (no max-pool near-ties in the tiny sets):
            # its Rayleigh quotients at the float64 eigenvectors agree far below the tolerance
            gap = ref["float32 operator at these eigenvectors: max rel. difference of its Rayleigh quotients"]
            assert gap < 0.01 * acc["topk_rtol"], gap
    assert acc["float32 vs float64 operator (max rel. difference)"]["SLQ moments j=1..4 of the same start vectors"] \
        < 0.01 * acc["moment_rtol"]
    rows = {(r["computation"].split()[0], r["tool"]): r for r in acc["rows"]}
    topk, slq = f"top-{settings['top_k']}", "SLQ"
    tools = ["ours", "ours (fewest steps)"]
    peers = {"pyhessian": "pyhessian", "curvlinops-for-pytorch": "curvlinops",
             "hessian-eigenthings": "hessian-eigenthings"}
    tools += [tool for dist, tool in peers.items() if meta["versions"].get(dist)]
    for tool in tools:
        row = rows[(topk, tool)]
        assert row["attempts"], row
        assert not row["reached"] or row["error"] <= acc["topk_rtol"], row
        assert row["products"] <= acc["topk_cap"]
    slq_tools = ["ours"] + [t for t in ("pyhessian", "hessian-eigenthings") if t in tools]
    for tool in slq_tools:
        assert (slq, tool) in rows
    # ours reaches both tolerances, every timed round did the same work, and its FLOPs were counted
    for key in ((topk, "ours"), (topk, "ours (fewest steps)"), (slq, "ours")):
        row = rows[key]
        assert row["reached"] and row["error"] <= (acc["topk_rtol"] if key[0] == topk else acc["moment_rtol"]), row
        assert len(set(row["products_per_round"])) == 1, row
        assert row["gflop"] > 0 and row["time_min_s"] > 0
    # no stopping rule stops Lanczos earlier than the fewest accurate steps from the same start vector
    assert rows[(topk, "ours (fewest steps)")]["products"] <= rows[(topk, "ours")]["products"]
    # Gauss quadrature with m nodes is exact to degree 2m - 1: moments 1..4 need m = 3 steps, and get
    # them (to float32 rounding) at m = 3
    assert rows[(slq, "ours")]["products"] == 3 * settings["slq_vectors"]


def test_a_peer_out_of_memory_is_recorded_not_fatal():
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("hessian_bench", ROOT / "benchmarks" / "hessian_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    ref = torch.ones(3)

    def oom() -> torch.Tensor:
        raise torch.OutOfMemoryError("simulated")

    assert bench._agree(oom, ref) == float("inf")
    assert bench._agree(lambda: torch.full((3,), 1.5), ref) == pytest.approx(0.5, rel=1e-12)


def test_reduced_runs_never_overwrite_the_committed_tables(tmp_path):
    env = dict(os.environ, HESSIAN_SPECTRA_OFFLINE="1", PYTHONPATH=str(ROOT / "lib"))
    bad = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "hessian_bench.py"), "--size", "tiny", "--models", "resnet",
         "--out-dir", str(tmp_path)], env=env, capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode != 0 and "unknown model" in bad.stderr
    assert not list(tmp_path.iterdir())
