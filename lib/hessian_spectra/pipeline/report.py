"""Figures as data: every figure is a PNG with a JSON beside it.

The JSON holds the figure's id and title, the profile and every setting it was made with, the datasets
actually used (with their source and any caveat), the numbers it shows, the environment (versions,
device, git commit and whether the checkout had uncommitted changes) and the paper's claims checked
against ours (:class:`Claim`). ``run_all.sh``'s index page is built from these files.

Files are written atomically (:func:`hessian_spectra.files.atomic_path`): each goes to a temporary
name in its own folder and is renamed into place only when complete, so a run killed at any moment
leaves either the old file or the new one, never half of one.
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

from ..files import atomic_path, atomic_write_text, remove_stale_temporaries
from ..utils import repo_root
from .claims import VERDICTS, Claim

# ---------------------------------------------------------------------------------------------
# Figure records


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


def _git(*args: str) -> str | None:
    """stdout of ``git <args>`` run in the repository, or ``None`` when git fails (not a checkout, no git).

    ``--no-optional-locks``: ``git status`` must not take the index lock (it would refresh the index
    and could make a concurrent ``git commit`` fail on ``index.lock``).
    """
    try:
        out = subprocess.run(["git", "--no-optional-locks", *args], cwd=repo_root(), capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def _git_commit() -> str | None:
    """The short hash of ``HEAD``, or ``None`` outside a git checkout."""
    out = _git("rev-parse", "--short", "HEAD")
    return (out or "").strip() or None


#: Outputs, not inputs: regenerating committed figures changes them, which says nothing about the code
#: that made them.
_OUTPUT_DIRS: tuple[str, ...] = ("figures", "reports", "build")


def _git_dirty() -> bool | None:
    """``True`` when tracked files differ from ``HEAD`` (staged or not; untracked files and the output
    folders ``figures/``, ``reports/``, ``build/`` do not count), ``False`` when they do not, ``None``
    outside a git checkout."""
    out = _git("status", "--porcelain", "--untracked-files=no", "--", ".",
               *(f":(exclude){d}" for d in _OUTPUT_DIRS))
    return None if out is None else bool(out.strip())


def environment_info() -> dict[str, Any]:
    """Versions, device and provenance, recorded in every figure's JSON.

    ``git_commit`` is the short hash of ``HEAD`` and ``git_dirty`` says whether tracked files had
    uncommitted changes when the figure was made (then the commit alone does not reproduce it); both
    are ``None`` outside a git checkout.
    """
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({platform.processor() or platform.machine()})"
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "device": device, "git_commit": _git_commit(), "git_dirty": _git_dirty()}


def save_figure(fig, figure_id: str, *, title: str, profile: str, settings: Mapping[str, Any],
                datasets: Iterable[Any] = (), data: Mapping[str, Any] | None = None,
                claims: Iterable[Claim] = (), figures_dir: str | Path | None = None,
                notes: str = "", dpi: int = 120) -> Path:
    """Write ``<figures_dir>/<figure_id>.png`` and the JSON beside it; return the JSON's path.

    Both files are written atomically (temporary name in the same folder, then ``os.replace``), the PNG
    first: a run killed while saving leaves complete files only (and its temporaries are deleted by the
    next save into that folder).

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
    text = json.dumps(record, indent=1, allow_nan=False) + "\n"  # before any write: bad data loses nothing
    remove_stale_temporaries(png.parent)
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    path = png.with_suffix(".json")
    atomic_write_text(path, text)
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
