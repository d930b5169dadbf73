"""On-disk caching of expensive results, keyed by their full configuration.

``joblib.Memory`` hashes a function's code and arguments; :func:`config_hash` gives the same kind of
stable key for a configuration dict (used for training checkpoints and ``run_all.sh``'s skip logic).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import joblib

from ..utils import repo_root


def cache_dir() -> Path:
    """``$HESSIAN_SPECTRA_CACHE`` if set, else ``<repo>/data/cache``."""
    env = os.environ.get("HESSIAN_SPECTRA_CACHE")
    return Path(env) if env else repo_root() / "data" / "cache"


def checkpoint_dir() -> Path:
    """``$HESSIAN_SPECTRA_CHECKPOINTS`` if set, else ``<repo>/data/checkpoints``."""
    env = os.environ.get("HESSIAN_SPECTRA_CHECKPOINTS")
    return Path(env) if env else repo_root() / "data" / "checkpoints"


def memory(location: str | Path | None = None, verbose: int = 0) -> joblib.Memory:
    """A ``joblib.Memory`` that caches results under :func:`cache_dir` (or ``location``)."""
    path = Path(location) if location is not None else cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return joblib.Memory(str(path), verbose=verbose)


def _canonical(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    raise TypeError(f"config_hash: cannot hash a value of type {type(obj).__name__}: {obj!r}")


def config_hash(config: Any, length: int = 16) -> str:
    """A stable hex digest of a JSON-like configuration (dict key order does not matter)."""
    text = json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]
