"""Datasets by name, found on a local search path, with derived variants as functions.

``load_dataset(name, split)`` returns a :class:`LabelledData` whose ``x`` is float32 of shape
(N, C, H, W) with values in [0, 1] and ``y`` is int64. Where the files come from:

1. each folder of ``$HESSIAN_SPECTRA_DATA`` (``os.pathsep``-separated), then the repository's
   ``data/``. In each folder we look for, in order:
   - ``<name>.npz`` with ``x_train, y_train, x_test, y_test`` (uint8 images), e.g. ``mnist.npz``;
   - ``cifar10_jpegs.npz`` (CIFAR-10 stored as JPEG quality 75: NOT the lossless original; the
     ``source`` of the result says so);
   - torchvision's own layouts (``MNIST/raw``, ``FashionMNIST/raw``, ``cifar-10-batches-py``,
     ``cifar-100-python``);
2. otherwise torchvision downloads the original into the repository's ``data/`` (unless
   ``download=False`` or ``$HESSIAN_SPECTRA_OFFLINE=1``).

A download goes to a temporary folder beside its destination (``data/.<folder>.<pid>.<random>.tmp``)
and is renamed into place only once torchvision has checked it; a failed or interrupted download
(``KeyboardInterrupt`` included) deletes its temporary folder, and the next download deletes those
of processes that were killed. A copy that cannot be read (a partial torchvision folder left by an
older download, a truncated ``.npz``) is passed over with a warning when another folder holds the
data; otherwise the error names the dataset, every folder searched, the unreadable copies and what
to do, in one line (never torchvision's "Dataset not found. You can use download=True").

Derived datasets (class subsets, per-class subsampling, random labels, standardisation) are
functions of a :class:`LabelledData`, never stored copies.
"""

from __future__ import annotations

import io
import os
import shutil
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .utils import repo_root

DATA_ENV = "HESSIAN_SPECTRA_DATA"
OFFLINE_ENV = "HESSIAN_SPECTRA_OFFLINE"

# canonical name -> (npz file stem, torchvision class name, number of classes)
_DATASETS: dict[str, tuple[str, str, int]] = {
    "mnist": ("mnist", "MNIST", 10),
    "fashion_mnist": ("fashion_mnist", "FashionMNIST", 10),
    "cifar10": ("cifar10", "CIFAR10", 10),
    "cifar100": ("cifar100", "CIFAR100", 100),
}
_ALIASES = {
    "fashion-mnist": "fashion_mnist", "fashionmnist": "fashion_mnist", "fmnist": "fashion_mnist",
    "cifar-10": "cifar10", "cifar_10": "cifar10", "cifar-100": "cifar100", "cifar_100": "cifar100",
}
DATASET_NAMES: tuple[str, ...] = tuple(_DATASETS)
SPLITS = ("train", "test")


@dataclass(frozen=True)
class LabelledData:
    """Images ``x`` (float32, N x C x H x W, in [0, 1] unless standardised) and labels ``y`` (int64).

    ``source`` says which file the data came from and ``note`` any caveat (lossy copy, stand-in,
    derived variant); both go into every figure's JSON.
    """

    x: torch.Tensor
    y: torch.Tensor
    name: str
    split: str
    num_classes: int
    source: str
    note: str = ""

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def to(self, device: torch.device | str) -> "LabelledData":
        """The same data on ``device``."""
        return replace(self, x=self.x.to(device), y=self.y.to(device))

    def describe(self) -> dict[str, object]:
        """A JSON-ready description for figure metadata."""
        return {"name": self.name, "split": self.split, "n": len(self), "shape": list(self.x.shape[1:]),
                "num_classes": self.num_classes, "source": self.source, "note": self.note}


def canonical_name(name: str) -> str:
    """The canonical dataset name; ``ValueError`` naming the known ones for an unknown name."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASET_NAMES)}")
    return key


def search_path() -> list[Path]:
    """Folders searched for local copies: ``$HESSIAN_SPECTRA_DATA`` entries, then ``<repo>/data``."""
    folders = [Path(p).expanduser() for p in os.environ.get(DATA_ENV, "").split(os.pathsep) if p.strip()]
    folders.append(repo_root() / "data")
    return folders


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N,H,W) or (N,H,W,C) -> float32 (N,C,H,W) in [0, 1]."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[:, None, :, :]
    elif arr.ndim == 4 and arr.shape[-1] in (1, 3):
        arr = arr.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(arr)).float().div_(255.0)


def _decode_jpegs(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Decode concatenated JPEGs (image i is ``blob[offsets[i]:offsets[i+1]]``) to uint8 (N,32,32,3)."""
    from PIL import Image

    out = []
    for i in range(len(offsets) - 1):
        img = Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes())).convert("RGB")
        out.append(np.asarray(img, dtype=np.uint8))
    return np.stack(out)


def _cifar10_jpegs(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from the JPEG copy, decoding once and caching the decoded array beside the cache.

    The decoded copy is written atomically under a name of its own per writer (two notebooks decoding
    at once cannot mix their bytes); an unreadable decoded copy is decoded again, and one that cannot
    be written (a full disk) costs a warning, not the data.
    """
    from .pipeline.cache import cache_dir
    from .files import atomic_path, remove_stale_temporaries

    stat = path.stat()
    cached = cache_dir() / "decoded" / f"cifar10_jpegs_{split}_{stat.st_size}_{int(stat.st_mtime)}.npz"
    if cached.exists():
        try:
            with np.load(cached) as f:
                return f["x"], f["y"]
        except Exception:  # written by an older, non-atomic version: decode again
            pass
    with np.load(path) as f:
        x = _decode_jpegs(f[f"jpeg_{split}"], f[f"offsets_{split}"])
        y = f[f"y_{split}"].astype(np.int64)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(cached.parent)
        with atomic_path(cached) as tmp, tmp.open("wb") as fh:
            np.savez(fh, x=x, y=y)
    except OSError as exc:  # the data are fine; only the shortcut for the next load is lost
        warnings.warn(f"could not keep the decoded CIFAR-10 copy at {cached}: {exc}", stacklevel=2)
    return x, y


def _torchvision_dataset(name: str, root: Path, split: str, download: bool):
    import torchvision

    cls = getattr(torchvision.datasets, _DATASETS[name][1])
    return cls(root=str(root), train=(split == "train"), download=download)


_TV_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST",
               "cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


def _why_unreadable(exc: BaseException) -> str:
    """A short reason for a local copy that failed to load (torchvision's own advice left out)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, RuntimeError) and ("download=True" in text or "not found" in text.lower()):
        return "incomplete or corrupt: torchvision's files are missing or fail their checksums"
    return f"unreadable: {type(exc).__name__}: {text[:160]}" if text else f"unreadable: {type(exc).__name__}"


def _from_torchvision(ds) -> tuple[np.ndarray, np.ndarray]:
    data = ds.data.numpy() if isinstance(ds.data, torch.Tensor) else np.asarray(ds.data)
    targets = ds.targets.numpy() if isinstance(ds.targets, torch.Tensor) else np.asarray(ds.targets)
    return data.astype(np.uint8), targets.astype(np.int64)


_Arrays = tuple[np.ndarray, np.ndarray, str, str]


def _find_local(name: str, split: str) -> tuple[_Arrays | None, list[tuple[Path, str]]]:
    """(the first readable local copy, or ``None``; the copies met on the way that could not be read,
    with the reason)."""
    stem = _DATASETS[name][0]
    unreadable: list[tuple[Path, str]] = []
    for folder in search_path():
        npz = folder / f"{stem}.npz"
        if npz.is_file():
            try:
                with np.load(npz) as f:
                    return (f[f"x_{split}"], f[f"y_{split}"].astype(np.int64), str(npz), ""), unreadable
            except Exception as exc:
                unreadable.append((npz, _why_unreadable(exc)))
        if name == "cifar10" and (folder / "cifar10_jpegs.npz").is_file():
            path = folder / "cifar10_jpegs.npz"
            try:
                x, y = _cifar10_jpegs(path, split)
            except Exception as exc:
                unreadable.append((path, _why_unreadable(exc)))
            else:
                note = ("CIFAR-10 from a JPEG quality-75 copy (lossy: channel means match the original to 1e-4, "
                        "stds about 1% lower); images are ordered by class")
                return (x, y, str(path), note), unreadable
        tv = folder / _TV_FOLDERS[name]
        if tv.is_dir():
            try:
                x, y = _from_torchvision(_torchvision_dataset(name, folder, split, download=False))
            except Exception as exc:  # a partial download: torchvision raises RuntimeError, a truncated file others
                unreadable.append((tv, _why_unreadable(exc)))
            else:
                return (x, y, str(tv), ""), unreadable
    return None, unreadable


def _describe_unreadable(unreadable: list[tuple[Path, str]]) -> str:
    return "; ".join(f"{path} is {why}" for path, why in unreadable)


def _download(name: str, split: str, root: Path) -> _Arrays:
    """Download ``name`` with torchvision into a temporary folder in ``root`` and, once torchvision has
    checked and loaded it, rename its folder to ``root/<torchvision folder>`` (replacing an unreadable
    one there). The temporary folder, with whatever it holds (torchvision's archive, a partial file), is
    deleted whatever happens, ``KeyboardInterrupt`` included."""
    from .files import remove_stale_temporaries, replace_folder, temporary_sibling

    root.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(root)  # the temporary folders of killed downloads
    dest = root / _TV_FOLDERS[name]
    tmp = temporary_sibling(dest)
    tmp.mkdir()
    try:
        x, y = _from_torchvision(_torchvision_dataset(name, tmp, split, download=True))
        replace_folder(tmp / _TV_FOLDERS[name], dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return x, y, f"torchvision download into {dest}", ""


@lru_cache(maxsize=8)
def _load_arrays(name: str, split: str, download: bool) -> _Arrays:
    found, unreadable = _find_local(name, split)
    if found is not None:
        if unreadable:
            warnings.warn(f"dataset {name!r}: passed over {_describe_unreadable(unreadable)}; "
                          f"using {found[2]}", stacklevel=3)
        return found
    looked = ", ".join(str(p) for p in search_path())
    stem = _DATASETS[name][0]
    broken = ""
    if unreadable:
        broken = (f"; found only copies that cannot be read: {_describe_unreadable(unreadable)} "
                  f"(delete {'them' if len(unreadable) > 1 else 'it'})")
    if not download:
        raise FileNotFoundError(
            f"dataset {name!r} ({split}) not found locally and downloads are off; looked in: {looked}{broken}; "
            f"to fix: put {stem}.npz or torchvision's files in one of those folders (or a folder added to "
            f"${DATA_ENV}), or allow downloads (unset ${OFFLINE_ENV}, download=True)")
    root = repo_root() / "data"
    try:
        return _download(name, split, root)
    except Exception as exc:  # network errors come in many types
        raise FileNotFoundError(
            f"dataset {name!r} ({split}) not found locally (looked in: {looked}{broken}) and the torchvision "
            f"download failed, leaving nothing behind: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}; "
            f"to fix: retry where the download host is reachable, or put {stem}.npz or torchvision's files in "
            f"one of those folders") from None


def load_dataset(name: str, split: str = "train", *, download: bool | None = None,
                 device: torch.device | str | None = None) -> LabelledData:
    """Load MNIST, Fashion-MNIST, CIFAR-10 or CIFAR-100 by name as tensors.

    Args:
        name: ``mnist``, ``fashion_mnist`` (``fmnist``), ``cifar10`` or ``cifar100``.
        split: ``train`` or ``test``.
        download: allow a torchvision download when no local copy is found. Default: yes, unless
            ``$HESSIAN_SPECTRA_OFFLINE`` is set to ``1``.
        device: where to put the tensors (default: CPU).
    """
    key = canonical_name(name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    if download is None:
        download = os.environ.get(OFFLINE_ENV, "0") != "1"
    x, y, source, note = _load_arrays(key, split, bool(download))
    data = LabelledData(x=_to_tensor(x), y=torch.from_numpy(np.asarray(y, dtype=np.int64)), name=key,
                        split=split, num_classes=_DATASETS[key][2], source=source, note=note)
    return data.to(device) if device is not None else data


# ---------------------------------------------------------------------------------------------
# Derived variants: functions, not copies.


def _with(data: LabelledData, idx: torch.Tensor, note: str, **changes) -> LabelledData:
    notes = "; ".join(n for n in (data.note, note) if n)
    return replace(data, x=data.x[idx], y=changes.pop("y", data.y[idx]), note=notes, **changes)


def subset(data: LabelledData, n: int, seed: int = 0) -> LabelledData:
    """``n`` examples drawn uniformly without replacement (fixed ``seed``)."""
    if not 0 < n <= len(data):
        raise ValueError(f"subset size n={n} out of range 1..{len(data)} for {data.name}")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(data), generator=g)[:n].sort().values
    return _with(data, idx, f"random subset of {n} (seed {seed})")


def per_class(data: LabelledData, n_per_class: int | dict[int, int], seed: int = 0) -> LabelledData:
    """A class-balanced (or prescribed) subsample: ``n_per_class`` examples of each class.

    ``n_per_class`` may be a dict ``{class: count}`` for unbalanced proportions.
    """
    counts = n_per_class if isinstance(n_per_class, dict) else {c: n_per_class for c in range(data.num_classes)}
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for c, k in sorted(counts.items()):
        members = torch.nonzero(data.y.cpu() == c).flatten()
        if k < 0 or k > len(members):
            raise ValueError(f"class {c} of {data.name} has {len(members)} examples; asked for {k}")
        chosen.append(members[torch.randperm(len(members), generator=g)[:k]])
    idx = torch.cat(chosen).sort().values
    return _with(data, idx, f"per-class subsample {dict(sorted(counts.items()))} (seed {seed})")


def select_classes(data: LabelledData, classes: list[int], relabel: bool = True) -> LabelledData:
    """Keep only ``classes``; with ``relabel`` they become 0..len(classes)-1 in the given order."""
    bad = [c for c in classes if not 0 <= c < data.num_classes]
    if bad or len(set(classes)) != len(classes) or not classes:
        raise ValueError(f"classes {classes} invalid for {data.name} with {data.num_classes} classes")
    keep = torch.isin(data.y.cpu(), torch.tensor(classes))
    idx = torch.nonzero(keep).flatten()
    y = data.y[idx]
    if relabel:
        lut = torch.full((data.num_classes,), -1, dtype=torch.int64)
        lut[torch.tensor(classes)] = torch.arange(len(classes))
        y = lut.to(y.device)[y]
    return _with(data, idx, f"classes {classes}" + (" relabelled" if relabel else ""), y=y,
                 num_classes=len(classes) if relabel else data.num_classes)


def random_labels(data: LabelledData, fraction: float = 1.0, seed: int = 0) -> LabelledData:
    """Replace the labels of a random ``fraction`` of the examples by uniform random classes."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    g = torch.Generator().manual_seed(seed)
    n = len(data)
    flip = torch.randperm(n, generator=g)[: int(round(fraction * n))]
    y = data.y.clone().cpu()
    y[flip] = torch.randint(0, data.num_classes, (len(flip),), generator=g)
    idx = torch.arange(n)
    return _with(data, idx, f"random labels on {fraction:.0%} (seed {seed})", y=y.to(data.y.device))


def channel_stats(data: LabelledData) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of ``data.x``."""
    dims = (0, 2, 3)
    return data.x.mean(dims), data.x.std(dims)


def standardize(data: LabelledData, mean: torch.Tensor | None = None,
                std: torch.Tensor | None = None) -> LabelledData:
    """Per-channel ``(x - mean) / std`` (statistics of ``data`` itself unless given, e.g. the train set's)."""
    if mean is None or std is None:
        mean, std = channel_stats(data)
    shape = (1, -1, 1, 1)
    x = (data.x - mean.view(shape).to(data.x)) / std.view(shape).to(data.x)
    notes = "; ".join(n for n in (data.note, "per-channel standardised") if n)
    return replace(data, x=x, note=notes)
