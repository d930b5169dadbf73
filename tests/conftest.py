"""Shared test set-up: CPU only, a fixed thread count, and the data search path."""

import os

# NumPy's BLAS threads fight pytest's torch threads for the CPU; one is faster here (set before numpy loads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

matplotlib.use("Agg")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

REPO = Path(__file__).resolve().parents[1]
_shared = REPO.parent / "shared" / "data"
if "HESSIAN_SPECTRA_DATA" not in os.environ and _shared.is_dir():
    os.environ["HESSIAN_SPECTRA_DATA"] = str(_shared)


def have_dataset(name: str) -> bool:
    """True when a local copy of ``name`` is on the search path (no download attempted)."""
    from hessian_spectra.data import load_dataset

    try:
        load_dataset(name, "test", download=False)
        return True
    except FileNotFoundError:
        return False


@pytest.fixture
def repo() -> Path:
    return REPO
