"""Figures as data: every figure is a PNG with a JSON beside it.

The JSON holds the figure's id and title, the profile and every setting it was made with, the datasets
actually used (with their source and any caveat), the numbers it shows, and the paper's claims checked
against ours (:class:`Claim`). ``run_all.sh``'s index page is built from these files.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from ..utils import repo_root
from .claims import VERDICTS, Claim

def _jsonable(obj: Any) -> Any:
    """Convert numpy / torch values and containers to plain JSON types (NaN and inf become strings)."""
    if hasattr(obj, "detach") and hasattr(obj, "cpu"):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else str(value)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, Claim):
        return _jsonable(asdict(obj))
    if hasattr(obj, "describe") and callable(obj.describe):
        return _jsonable(obj.describe())
    return obj


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo_root(), capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None
    except Exception:
        return None


def environment_info() -> dict[str, Any]:
    """Versions and device, recorded in every figure's JSON."""
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({platform.processor() or platform.machine()})"
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "device": device, "git_commit": _git_commit()}


def save_figure(fig, figure_id: str, *, title: str, profile: str, settings: Mapping[str, Any],
                datasets: Iterable[Any] = (), data: Mapping[str, Any] | None = None,
                claims: Iterable[Claim] = (), figures_dir: str | Path | None = None,
                notes: str = "", dpi: int = 120) -> Path:
    """Write ``<figures_dir>/<figure_id>.png`` and the JSON beside it; return the JSON's path.

    Args:
        fig: a matplotlib figure.
        figure_id: ``<paper_key>/<figNN>`` (optionally ``_<panel>``), as in ``catalog.yaml``.
        title: the paper's caption, shortened.
        profile: ``smoke``, ``default`` or ``paper``.
        settings: every setting the figure was made with.
        datasets: what was used: :class:`~hessian_spectra.data.LabelledData` objects or dicts with at
            least ``name`` (``"synthetic"`` for generated data) and, for stand-ins, a ``note``.
        data: the numbers the figure shows (arrays become lists).
        claims: the paper's claims checked against ours.
        notes: free text: deviations from the paper, reduced scale, what stood in for what.
    """
    if "/" not in figure_id:
        raise ValueError(f"figure_id must look like '<paper>/<figNN>', got {figure_id!r}")
    root = Path(figures_dir) if figures_dir is not None else repo_root() / "figures"
    png = root / f"{figure_id}.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    claims = list(claims)
    record = {
        "id": figure_id,
        "title": title,
        "profile": profile,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "environment": environment_info(),
        "datasets": _jsonable(list(datasets)),
        "settings": _jsonable(dict(settings)),
        "notes": notes,
        "claims": _jsonable(claims),
        "verdicts": {v: sum(c.verdict == v for c in claims) for v in VERDICTS},
        "data": _jsonable(dict(data or {})),
    }
    fig.savefig(png, dpi=dpi, bbox_inches="tight")
    path = png.with_suffix(".json")
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1, allow_nan=False) + "\n")
    tmp.replace(path)
    return path


def load_figure_record(path: str | Path) -> dict[str, Any]:
    """Read a figure's JSON."""
    return json.loads(Path(path).read_text())


def set_style() -> None:
    """The repository's one figure style (seaborn ``ticks``, readable sizes)."""
    import matplotlib
    import seaborn as sns

    sns.set_theme(style="ticks", context="notebook", font_scale=0.95)
    matplotlib.rcParams.update({"figure.dpi": 100, "axes.spines.top": False, "axes.spines.right": False,
                                "savefig.bbox": "tight"})
