"""Hutchinson's stochastic trace estimator.

For random z with E[z zᵀ] = I (Rademacher ±1 entries, or standard Gaussian),
E[zᵀ A z] = Tr A. With n independent samples the estimate is t̂ = (1/n) Σ_i z_iᵀ A z_i with standard
error s/√n, s the sample standard deviation of the z_iᵀ A z_i (Hutchinson 1990; for Rademacher
vectors Var[zᵀAz] = 2(‖A‖_F² − Σ_i A_ii²)). The samples are drawn in blocks of ``batch_size``
vectors, each block one multi-vector product (one data pass for a model operator).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from .lanczos import random_vectors
from .base import aslinearoperator

__all__ = ["TraceEstimate", "hutchinson_trace"]


class TraceEstimate(float):
    """A float (the trace estimate) with ``std_error`` (s/√n), ``samples`` (the n quadratic
    forms zᵀAz, float64) and ``num_samples``."""

    std_error: float
    samples: np.ndarray
    num_samples: int

    def __new__(cls, samples: np.ndarray) -> TraceEstimate:
        samples = np.asarray(samples, dtype=np.float64)
        obj = super().__new__(cls, float(samples.mean()))
        obj.samples = samples
        obj.num_samples = int(samples.size)
        obj.std_error = (
            float(samples.std(ddof=1) / math.sqrt(samples.size)) if samples.size > 1 else float("nan")
        )
        return obj

    def __repr__(self) -> str:
        return f"TraceEstimate({float(self)!r}, std_error={self.std_error!r}, num_samples={self.num_samples})"


def hutchinson_trace(
    op: Any,
    num_samples: int,
    *,
    batch_size: int | None = None,
    distribution: Literal["rademacher", "gaussian"] = "rademacher",
    generator: torch.Generator | None = None,
    progress: bool | None = None,
) -> TraceEstimate:
    """Estimate Tr A by Hutchinson's method.

    Args:
        op: operator, dense symmetric tensor, or object with ``.shape`` and ``__matmul__``.
        num_samples: n ≥ 1 random vectors.
        batch_size: vectors per product; default min(n, 8) (not from the papers: 8 vectors share
            a data pass at about 1.8x a gradient pass each, ../shared/BASELINES.md).
        distribution: 'rademacher' (default, the minimum-variance choice for real z) or 'gaussian'.
        generator: torch.Generator for reproducible vectors (drawn on the CPU).
        progress: tqdm over blocks (None: automatic).

    Returns:
        :class:`TraceEstimate`: a float with ``.std_error`` and ``.samples``.
    """
    A = aslinearoperator(op)
    p = A.shape[0]
    if not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
    bs = min(num_samples, 8) if batch_size is None else int(batch_size)
    if bs < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")
    samples: list[np.ndarray] = []
    starts = range(0, num_samples, bs)
    for s in tqdm(starts, desc="hutchinson", disable=(not progress) if progress is not None else None, leave=False):
        n = min(bs, num_samples - s)
        Z = random_vectors(n, p, A.dtype, A.device, generator, distribution)  # (n, p)
        AZ = A @ Z.T  # (p, n)
        samples.append((Z.double() * AZ.T.double()).sum(dim=1).cpu().numpy())
    return TraceEstimate(np.concatenate(samples))
