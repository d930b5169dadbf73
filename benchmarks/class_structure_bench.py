"""Data passes of the class / cross-class machinery (Papyan 2020, issue 16; inventory 001 §L2, §L3).

Two measurements on one model, one data set and one thread:

(a) SubspaceIteration (Algorithm 5, App. C.8) of the Gauss-Newton matrix G with C vectors: the engine's
    ``ggn_operator`` advancing its C vectors together (``G @ Q`` with Q of shape (p, C): ONE data pass
    per step) against C separate one-vector products per step (C data passes per step, as a tool with
    only matrix-vector products must do). Same start block (seeded), same T, same arithmetic order per
    vector: the Ritz values agree to rounding.
(b) The C² gradient cross-class means g_{c,c'} (Sec. 6, inventory 001 §L3):
    ``gradient_class_means(method="sorted")``, C backward passes over class-sorted data, against
    ``method="pairs"``, the author's loop over (c, c') with one masked backward pass per pair on mixed
    batches (C² backward passes over the data).

Model: :func:`hessian_spectra.models.mini_vgg` on 32×32 inputs (conv widths 8-16-32, BN, 64-unit hidden
layer, C = 10; PyTorch's initialisation with seed ``--seed``: a speed benchmark, not a trained model), in
eval mode, float32. Data: ``--per-class`` CIFAR-10 training images per class (balanced,
:func:`hessian_spectra.data.per_class`; the local copy is JPEG q75, the data loader's note), inputs in
[0, 1]; shuffled with the seed for the mixed batches of (b). Times: wall-clock seconds, the fastest of
``--repeats`` interleaved rounds (the slowest beside it: a shared 2-core machine). FLOPs:
``torch.utils.flop_counter.FlopCounterMode`` (matmuls and convolutions only; deterministic), one more
run of each row. A gradient pass over the same data is the unit of the ratio columns.

Usage::

    python benchmarks/class_structure_bench.py                 # 100 images per class, T = 2
    python benchmarks/class_structure_bench.py --per-class 20 --iters 1 --out /tmp/x.md   # quick look
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import platform  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import Tensor  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from hessian_spectra.data import load_dataset, per_class  # noqa: E402
from hessian_spectra.hessian import CurvatureOperator, ggn_operator, subspace_iteration  # noqa: E402
from hessian_spectra.models import count_parameters, mini_vgg  # noqa: E402
from hessian_spectra.structure import gradient_class_means  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


class OneVectorAtATime(CurvatureOperator):
    """The same operator, applied to a block one column at a time (one data pass per vector)."""

    def __init__(self, op: CurvatureOperator) -> None:
        self.base = op
        self.shape, self.dtype, self.device = op.shape, op.dtype, op.device

    def _matmat(self, V: Tensor) -> Tensor:
        return torch.stack([self.base @ V[:, j] for j in range(V.shape[1])], dim=1)


def _flops(fn: Callable[[], Any]) -> float:
    with FlopCounterMode(display=False) as fc:
        fn()
    return float(fc.get_total_flops())


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=100, help="CIFAR-10 training images per class (default 100)")
    ap.add_argument("--iters", type=int, default=2, help="subspace iterations T per run (default 2; the paper's 128 "
                                                         "scales both rows alike)")
    ap.add_argument("--batch-size", type=int, default=250, help="samples per forward pass (default 250)")
    ap.add_argument("--repeats", type=int, default=2, help="interleaved timing rounds (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "class_structure_cpu.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    data = per_class(load_dataset("cifar10", "train"), args.per_class, seed=args.seed)
    g = torch.Generator().manual_seed(args.seed)
    perm = torch.randperm(len(data), generator=g)
    x, y = data.x[perm], data.y[perm]  # mixed classes in every batch
    N, C = len(y), data.num_classes
    torch.manual_seed(args.seed)
    model = mini_vgg(input_size=32, num_classes=C).eval()
    p = count_parameters(model)
    bs = args.batch_size

    def grad_pass() -> None:
        model.zero_grad()
        for s in range(0, N, bs):
            (F.cross_entropy(model(x[s:s + bs]), y[s:s + bs], reduction="sum") / N).backward()

    def subspace_run(speed: str, block: bool) -> Callable[[], Any]:
        def run() -> Any:
            op = ggn_operator(model, F.cross_entropy, (x, y), batch_size=bs, speed=speed)
            return subspace_iteration(op if block else OneVectorAtATime(op), C, args.iters,
                                      generator=torch.Generator().manual_seed(args.seed))
        return run

    def sorted_run() -> Any:
        return gradient_class_means(model, (x, y), C, bs, method="sorted")

    def pairs_run() -> Any:
        return gradient_class_means(model, (x, y), C, bs, method="pairs")

    sb, ss = "subspace iteration, C vectors per data pass", "subspace iteration, C one-vector passes"
    rows = {"gradient pass": grad_pass,
            f"{sb} (speed='auto')": subspace_run("auto", True), f"{ss} (speed='auto')": subspace_run("auto", False),
            f"{sb} (speed='off')": subspace_run("off", True), f"{ss} (speed='off')": subspace_run("off", False),
            "cross-class means, class-sorted (C backward passes)": sorted_run,
            "cross-class means, pairs (C² backward passes)": pairs_run}
    times: dict[str, list[float]] = {k: [] for k in rows}
    outs: dict[str, Any] = {}
    for speed in ("auto", "off"):  # warm-up, untimed: torch.func's one-time set-up, on a slice of the data
        warm = ggn_operator(model, F.cross_entropy, (x[:50], y[:50]), speed=speed)
        warm @ torch.randn(p, C, generator=g)
        warm @ torch.randn(p, generator=g)
    grad_pass()
    for _ in range(args.repeats):
        for name, fn in rows.items():
            t, out = _timed(fn)
            times[name].append(t)
            outs[name] = out
    flops = {name: _flops(fn) for name, fn in rows.items()}

    ev_b = outs[f"{sb} (speed='off')"].eigenvalues
    ev_diff = max(float(((outs[k].eigenvalues - ev_b).abs() / ev_b.abs().max()).max())
                  for k in rows if k.startswith("subspace"))
    ms, mp = outs["cross-class means, class-sorted (C backward passes)"], outs["cross-class means, pairs (C² backward passes)"]
    means_diff = float((ms.cross_means - mp.cross_means).norm() / mp.cross_means.norm())
    resid = float(ms.mean_residual().norm() / (ms.cross_means.norm() + 1e-300))

    t_grad, f_grad = min(times["gradient pass"]), flops["gradient pass"]
    lines = [
        "# Class / cross-class structure: data passes (Papyan 2020, issue 16)",
        "",
        f"`python benchmarks/class_structure_bench.py --per-class {args.per_class} --iters {args.iters} "
        f"--batch-size {bs} --repeats {args.repeats} --seed {args.seed} --threads {args.threads}`, run "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        f"Model: mini_vgg on 32×32 inputs ({p:,} parameters, eval mode, float32, PyTorch initialisation seed "
        f"{args.seed}). Data: {N} CIFAR-10 training images ({args.per_class} per class, C = {C}; "
        f"{data.source}{'; ' + data.note if data.note else ''}), shuffled, batches of {bs}. "
        f"Machine: {platform.machine()} CPU ({os.cpu_count()} cores, shared; 1-min load average {load_start:.2f} at "
        f"start), torch {torch.__version__}, {args.threads} thread(s). Times: fastest of {args.repeats} interleaved "
        "rounds after an untimed warm-up round (slowest in parentheses). GFLOP: FlopCounterMode (matmul/conv), one run. Ratios are to the "
        "gradient pass.",
        "",
        "| row | time (s) | × grad (time) | GFLOP | × grad (FLOP) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in rows:
        t = min(times[name])
        lines.append(f"| {name} | {t:.3f} ({max(times[name]):.3f}) | {t / t_grad:.1f} | {flops[name] / 1e9:.2f} | "
                     f"{flops[name] / f_grad:.1f} |")
    cs, cp = "cross-class means, class-sorted (C backward passes)", "cross-class means, pairs (C² backward passes)"
    lines += [
        "",
        f"- (a) T = {args.iters} subspace iterations with C = {C} vectors (engine `ggn_operator`; "
        "`subspace_iteration` makes one (p, C) product per step). `speed='auto'` is the engine's default (on a CPU "
        "each sweep's primal graph is kept between products and a k-vector product is swept in parts that fit "
        "the caches); `speed='off'`: every product from scratch, whole batches. C vectors per pass against C "
        "one-vector passes: " + ", ".join(
            f"{sp}: {min(times[f'{ss} ({sp})']) / min(times[f'{sb} ({sp})']):.2f}x the speed, "
            f"{flops[f'{ss} ({sp})'] / flops[f'{sb} ({sp})']:.2f}x fewer FLOPs" for sp in ("speed='auto'", "speed='off'"))
        + f"; Ritz values of all four runs agree to {ev_diff:.1e} (relative to λ₁ = {float(ev_b[0]):.4g}).",
        f"- (b) C² = {C * C} cross-class means (p = {p:,} each): class-sorted {min(times[cp]) / min(times[cs]):.2f}x "
        f"faster than pairs, {flops[cp] / flops[cs]:.2f}x fewer FLOPs; the two agree to {means_diff:.1e} (relative "
        f"Frobenius); ‖Σ_c' w_cc' g_cc'‖/‖g‖ = {resid:.1e} (fact 1, exactly 0 in exact arithmetic).",
        "- Per data pass, the gradient pass is 1 forward + 1 backward; sorted means are 1 forward + C backward "
        "passes; pairs are 1 forward + C × (classes in the batch) backward passes on mixed batches.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
