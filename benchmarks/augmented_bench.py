"""Cost of the Augmented Hessian (Granziol et al. 2020, §6): one product over K augmented copies of a data set.

On a small model (``mini_vgg``, BN in eval mode, 15,050 parameters) and ~500 CIFAR-10 images (JPEG q75 copy,
2x2 average-pooled to 16x16, standardised), it times, on one CPU thread, minimum over repeats:

- one pass of the Empirical Hessian (K = 1, no augmentation) and of the Augmented Hessian over K copies with
  b = 1 vector and with a block of b = 8 vectors per data pass (the engine's (P, k) products);
- generating the K·N augmented samples alone (the crop/flip, hashing included), i.e. the overhead of not
  storing the augmented set, against the product;
- the same product over the materialised augmented set held as one pair of tensors (which lets the engine keep
  primal graphs between products: the memory-for-time alternative);
- FLOPs of each product from ``torch.utils.flop_counter.FlopCounterMode`` (deterministic);
- the paper's speed claim (§5.2 / abstract: "an order of magnitude faster than state-of-the-art methods for
  spectral visualization", inventory 002 scoreboard S9): stochastic Lanczos quadrature with the paper's one start
  vector against n_vec = 10 (the Ghorbani / Papyan style), same m, on the Augmented Hessian: the 10 runs one after
  the other and the 10 runs advancing together (one data pass per step for the block). The inventory's rule, set
  before any timing: agree if t(10 sequential) / t(1) >= 5; if t(10 together) / t(1) < 3, the claim "holds only
  against sequential implementations".

Settings (benchmark choices, none from the paper): K = 8 copies, padding 2 (the paper's 4 px on 32 px scaled
to 16 px), batch 256, float32, 3 repeats. Writes ``benchmarks/results/augmented_cpu.md`` (or ``--out``).

Usage::

    python benchmarks/augmented_bench.py            # ~6-8 min on a 2-core CPU
    python benchmarks/augmented_bench.py --quick    # a few seconds, for a smoke run
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from hessian_spectra.augmentation import AugmentedData
from hessian_spectra.hessian import spectral_density
from hessian_spectra.models import count_parameters, mini_vgg
from hessian_spectra.papers.granziol2020.spectra import (
    augmented_hessian,
    empirical_hessian,
)
from hessian_spectra.training import prepare_data


def _best(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _flops(fn: Callable[[], Any]) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (smoke run)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "augmented_cpu.md")
    args = ap.parse_args()
    n, copies, repeats = (64, 2, 1) if args.quick else (500, 8, 3)
    slq_steps = 3 if args.quick else 10  # m of the S9 timing (ours: the ratio, not m, is the claim; paper m = 100)
    torch.set_num_threads(1)
    torch.manual_seed(0)

    data, _ = prepare_data({"name": "cifar10", "subset": n, "pool": 2, "normalize": "standardize"})
    model = mini_vgg().eval()
    P = count_parameters(model)
    gen = torch.Generator().manual_seed(0)
    v1 = torch.randn(P, 1, generator=gen)
    v8 = torch.randn(P, 8, generator=gen)
    padding, batch = 2, 256

    # the Empirical Hessian through the same path (a re-iterable, no kept graphs): K = 1, augmentation off
    emp = augmented_hessian(model, data, 1, augment=False, padding=padding, batch_size=batch)
    aug = augmented_hessian(model, data, copies, seed=0, padding=padding, batch_size=batch)
    aug_set: AugmentedData = aug.augmented  # type: ignore[attr-defined]
    pair = aug_set.materialize()
    aug_pair = empirical_hessian(model, pair, batch_size=batch)  # same samples, stored: kept primal graphs

    def gen_only() -> None:
        for _ in aug_set:
            pass

    # warm-up (torch.func first-call cost, and the pair operator's kept graphs)
    emp @ v1, aug @ v8, aug_pair @ v1
    rows = []
    t_emp1 = _best(lambda: emp @ v1, repeats)
    t_aug1 = _best(lambda: aug @ v1, repeats)
    t_aug8 = _best(lambda: aug @ v8, repeats)
    t_pair1 = _best(lambda: aug_pair @ v1, repeats)
    t_gen = _best(gen_only, repeats)
    f_emp1, f_aug1, f_aug8 = _flops(lambda: emp @ v1), _flops(lambda: aug @ v1), _flops(lambda: aug @ v8)
    f_pair1 = _flops(lambda: aug_pair @ v1)
    f_fwd = _flops(lambda: model(pair[0][:batch])) * (copies * n) / min(batch, copies * n)
    samples = copies * n
    rows.append(("Empirical (AugmentedData K = 1, augmentation off)", n, 1, t_emp1, f_emp1))
    rows.append((f"Augmented, K = {copies}, b = 1", samples, 1, t_aug1, f_aug1))
    rows.append((f"Augmented, K = {copies}, b = 8", samples, 8, t_aug8, f_aug8))
    rows.append((f"Augmented, K = {copies}, b = 1, materialised pair (kept primal graphs)", samples, 1, t_pair1,
                 f_pair1))

    lines = [
        "# Augmented-Hessian products (Granziol et al. 2020) on CPU",
        "",
        (f"`python benchmarks/augmented_bench.py{' --quick' if args.quick else ''}`; "
         f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread, float32, minimum over "
         f"{repeats} repeats, the S9 SLQ runs one timed run each (machine shared with other jobs: times are "
         "indicative, FLOPs exact)."),
        "",
        (f"Model: mini_vgg (8-16-32 conv + BN, 64 hidden), P = {P:,}, BN in eval mode. Data: {n} CIFAR-10 "
         f"training images (JPEG q75 copy) pooled to 16x16, standardised. Augmentation: K = {copies} copies per "
         f"image, padding {padding}, crop 16, flip, scheme 'distinct'; batch {batch}. A forward pass over the "
         f"{samples:,} augmented samples is {f_fwd / 1e9:.3f} GFLOP."),
        "",
        "| product | samples / pass | vectors b | s / pass | s / vector | µs / (sample·vector) | GFLOP / vector | FLOP / forward FLOP |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, ns, b, t, f in rows:
        fwd = f_fwd * ns / samples
        lines.append(f"| {name} | {ns:,} | {b} | {t:.3f} | {t / b:.3f} | {1e6 * t / (ns * b):.1f} | "
                     f"{f / b / 1e9:.3f} | {f / b / fwd:.2f} |")
    lines += [
        "",
        (f"Generating the {samples:,} augmented samples alone (hash, crop, flip; no model): {t_gen:.3f} s per pass, "
         f"{1e6 * t_gen / samples:.1f} µs per sample = {100 * t_gen / t_aug1:.1f} % of a b = 1 product pass and "
         f"{100 * t_gen / t_aug8:.1f} % of a b = 8 pass ({100 * t_gen / (t_aug8 / 8):.1f} % per vector)."),
        "",
        (f"b = 8 vectors per data pass cost {t_aug8 / t_aug1:.2f}x one vector's pass: {t_aug1 / (t_aug8 / 8):.2f}x "
         "faster per vector (the primal forward/backward and the augmentation are shared by the block). "
         f"The materialised pair keeps primal graphs between products: {t_aug1 / t_pair1:.2f}x faster per b = 1 "
         f"product than regenerating the samples, for {pair[0].numel() * pair[0].element_size() / 2**20:.1f} MiB "
         "of stored inputs plus the kept graphs (feasible here, not for the paper's 1.5M images)."),
        "",
    ]
    # S9: one start vector (the paper) against n_vec = 10, sequential and together; one timed run each
    def slq(n_vec: int) -> None:
        spectral_density(aug, slq_steps, n_vec, generator=torch.Generator().manual_seed(1), progress=False)

    t_slq1 = _best(lambda: slq(1), 1)
    t_seq = _best(lambda: [slq(1) for _ in range(10)], 1)
    t_block = _best(lambda: slq(10), 1)
    r_seq, r_block = t_seq / t_slq1, t_block / t_slq1
    verdict = "agree" if r_seq >= 5 else "disagree"
    lines += [
        f"## S9: one start vector against ten (SLQ, m = {slq_steps}, Augmented K = {copies})",
        "",
        "| SLQ run | start vectors | data passes | s | × one vector |",
        "|---|---:|---:|---:|---:|",
        f"| the paper's (one vector) | 1 | {slq_steps} | {t_slq1:.2f} | 1.00 |",
        f"| ten runs one after the other | 10 | {10 * slq_steps} | {t_seq:.2f} | {r_seq:.2f} |",
        f"| ten runs together (b = 10 per pass) | 10 | {slq_steps} | {t_block:.2f} | {r_block:.2f} |",
        "",
        (f"S9 (\"an order of magnitude faster than state-of-the-art methods\", inventory 002 rule: ten sequential "
         f"runs / one >= 5): **{verdict}** ({r_seq:.2f}x)"
         + (f"; ten runs sharing their data passes cost {r_block:.2f}x one run, under 3x: the claim holds only "
            "against sequential implementations." if r_block < 3 else
            f"; ten runs sharing their data passes still cost {r_block:.2f}x one run (>= 3x).")
         + " The ratio comes from the number of start vectors, not from the implementation: the paper's SLQ "
           "is faster because it draws one vector where Ghorbani et al. and Papyan average ten."),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
