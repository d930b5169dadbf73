"""Small shared helpers: the repository root, the default device, seeding."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch


def repo_root() -> Path:
    """The repository root (the folder holding ``catalog.yaml``), for an editable install."""
    return Path(__file__).resolve().parents[2]


def default_device() -> torch.device:
    """``cuda`` when a GPU is visible, else ``cpu``. ``HESSIAN_SPECTRA_DEVICE`` overrides it."""
    name = os.environ.get("HESSIAN_SPECTRA_DEVICE")
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch (all devices); return a fresh ``numpy.random.Generator``."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed))
