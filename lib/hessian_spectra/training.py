"""Training with the papers' schedules and losses.

Two entry points share the schedules and the losses of this module:

- ``train(config)``: minibatch SGD of a model on a data set, checkpoints cached on disk by a hash of
  the full configuration (below);
- :func:`gradient_descent`: full-batch gradient descent of any differentiable objective of a list of
  tensors (a model's parameters through :func:`model_objective`, or a linear network's weights on its
  sufficient statistics, :func:`hessian_spectra.linear_nets.statistics.stats_objective`), with the
  learning-rate halving of the linear-networks paper (App. C, :class:`HalvingSchedule`).

``train(config)`` trains a model by SGD (momentum, coupled weight decay) with whole datasets held as
tensors on the device (no DataLoader workers), and caches the result under
``<checkpoint_dir>/<config_hash>/``:

- ``final.pt``: the trained weights and the per-epoch history; a second call with the same
  configuration loads it and trains nothing;
- ``epoch_XXXX.pt``: the weights after ``XXXX`` epochs for every epoch listed in ``save_epochs``
  (0 = the initialisation), for the papers' "across epochs" figures;
- ``resume.pt``: model, optimizer and history after the last completed epoch, written atomically
  after every epoch. An interrupted run resumes from it and ends with exactly the weights of an
  uninterrupted run, because every random draw of epoch e (shuffling, augmentation, dropout) comes
  from generators seeded by (seed, e) alone.

Every file here is written atomically (a temporary name in the same folder, then ``os.replace``): a
run killed at any moment leaves complete files only, and the temporaries it was writing are deleted
when its configuration is trained again.

The learning-rate schedule of Granziol et al. (eq 12 of "Beyond Random Matrix Theory", eq 11 of "the
true loss surface ...") is :func:`granziol_linear_lr`.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .pipeline.cache import checkpoint_dir as _default_checkpoint_dir
from .pipeline.cache import code_version, config_hash, definition_version
from .files import atomic_path, atomic_write_text, remove_stale_temporaries
from .data import LabelledData, load_dataset, per_class, random_labels, select_classes, standardize, subset
from .models import build_model, builder_name
from .utils import default_device, seed_everything

__all__ = [
    "TrainConfig", "train", "load_checkpoint", "checkpoint_path", "run_directory", "prepare_data",
    "granziol_linear_lr", "learning_rate", "augment_crop_flip", "evaluate", "SCHEDULES", "LOSSES",
    "AUGMENTATIONS", "as_train_config", "half_squared_error", "loss_function", "HalvingSchedule",
    "DescentResult", "Objective", "gradient_descent", "model_objective",
]

SCHEDULES: tuple[str, ...] = ("constant", "granziol_linear", "step")
LOSSES: tuple[str, ...] = ("cross_entropy", "mse")
AUGMENTATIONS: tuple[str, ...] = ("none", "crop_flip")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
# Bump when the meaning of a stored checkpoint changes, so that old caches are not reused.
_FORMAT_VERSION = 1
# What a checkpoint depends on besides its configuration: the code that feeds and trains the model (these
# modules, whole) and the code that builds it: the builder it names in hessian_spectra.models and everything
# that builder uses there (hessian_spectra.pipeline.cache.definition_version), so that adding or changing
# another architecture keeps the checkpoint. Docstrings and comments do not count.
_CODE_MODULES = ("hessian_spectra.training", "hessian_spectra.data")
_MODEL_ROOTS = ("build_model", "initialize", "_resolve")   # + the builder; the registry is not followed
_MODEL_STOP = ("_BUILDERS", "MODEL_NAMES")


def model_code_version(model: str) -> str:
    """The version of the code of :mod:`hessian_spectra.models` that builds ``model`` (its builder, what the
    builder uses, :func:`~hessian_spectra.models.build_model` and :func:`~hessian_spectra.models.initialize`)."""
    return definition_version("hessian_spectra.models", (builder_name(model),) + _MODEL_ROOTS, _MODEL_STOP)


# ---------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (all of it enters the cache key).

    Attributes:
        model: a name for :func:`hessian_spectra.models.build_model`.
        model_kwargs: its keyword arguments.
        data: a dataset specification for :func:`prepare_data` (``{"name": "cifar10", ...}``); may be
            empty when the data are passed to :func:`train` explicitly (their fingerprint is hashed).
        epochs: T, the number of epochs.
        lr: alpha_0, the initial learning rate.
        batch_size: minibatch size B; ``None`` = full-batch gradient descent. Default 128: not stated by
            the Beyond-RMT paper; the MLRG_DeepCurvature default (inventory 004 §L5).
        momentum: heavy-ball momentum rho. Default 0.9: not stated by the Beyond-RMT paper; stated by
            Granziol et al. (true loss surface) and used by [23] (inventory 004 §L5).
        weight_decay: L2 coefficient gamma, coupled (added to the gradient of every parameter, BN and
            biases included, as PyTorch SGD and the SWA code do). Default 5e-4: Beyond-RMT App A
            ("all experiments").
        nesterov: Nesterov momentum (default False).
        schedule: ``granziol_linear`` (eq 12, default), ``constant`` or ``step``.
        schedule_kwargs: ``{"r": 0.01}`` for ``granziol_linear`` (r = 0.01 is stated in Beyond-RMT
            App A); ``{"milestones": [...], "gamma": 0.1}`` for ``step`` (epochs at which lr *= gamma).
        augmentation: ``none`` or ``crop_flip`` (random 32 x 32 crop of the 4-pixel zero-padded image and
            a horizontal flip with probability 1/2, the SWA/MLRG ``transform_train``).
        loss: ``cross_entropy`` (eq 5) or ``mse``: (1 / 2N) sum_i ||h(x_i) - e_{y_i}||^2 (eq 4).
        seed: seeds the initialisation and every random draw of training.
        save_epochs: epochs after which the weights are kept (0 = initialisation; T = final).
        dtype: ``float32`` or ``float64`` for weights and data.
        allow_tf32: allow TF32 matmuls/convolutions on CUDA during training (restored afterwards).
        eval_batch_size: batch size of the per-epoch evaluation passes (does not change results).
    """

    model: str
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    epochs: int = 1
    lr: float = 0.1
    batch_size: int | None = 128
    momentum: float = 0.9
    weight_decay: float = 5e-4
    nesterov: bool = False
    schedule: str = "granziol_linear"
    schedule_kwargs: Mapping[str, Any] = field(default_factory=dict)
    augmentation: str = "none"
    loss: str = "cross_entropy"
    seed: int = 0
    save_epochs: Sequence[int] = ()
    dtype: str = "float32"
    allow_tf32: bool = False
    eval_batch_size: int = 1000

    def __post_init__(self) -> None:
        def bad(msg: str) -> None:
            raise ValueError(f"bad training config: {msg}")

        if not isinstance(self.model, str) or not self.model:
            bad(f"model must be a model name, got {self.model!r}")
        if not isinstance(self.epochs, int) or isinstance(self.epochs, bool) or self.epochs < 1:
            bad(f"epochs must be a positive integer, got {self.epochs!r}")
        if not isinstance(self.lr, (int, float)) or not self.lr > 0 or not math.isfinite(self.lr):
            bad(f"lr must be a positive number, got {self.lr!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            bad(f"batch_size must be a positive integer or None (full batch), got {self.batch_size!r}")
        if not 0.0 <= self.momentum < 1.0:
            bad(f"momentum must lie in [0, 1), got {self.momentum!r}")
        if self.weight_decay < 0:
            bad(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.nesterov and self.momentum == 0:
            bad("nesterov momentum needs momentum > 0")
        if self.schedule not in SCHEDULES:
            bad(f"unknown schedule {self.schedule!r}; known: {', '.join(SCHEDULES)}")
        if self.augmentation not in AUGMENTATIONS:
            bad(f"unknown augmentation {self.augmentation!r}; known: {', '.join(AUGMENTATIONS)}")
        if self.loss not in LOSSES:
            bad(f"unknown loss {self.loss!r}; known: {', '.join(LOSSES)}")
        if self.dtype not in _DTYPES:
            bad(f"unknown dtype {self.dtype!r}; known: {', '.join(_DTYPES)}")
        if not isinstance(self.seed, int) or self.seed < 0:
            bad(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.eval_batch_size, int) or self.eval_batch_size < 1:
            bad(f"eval_batch_size must be a positive integer, got {self.eval_batch_size!r}")
        for e in self.save_epochs:
            if not isinstance(e, int) or not 0 <= e <= self.epochs:
                bad(f"save_epochs entries must be integers in 0..{self.epochs}, got {e!r}")
        known = {"granziol_linear": {"r"}, "step": {"milestones", "gamma"}, "constant": set()}[self.schedule]
        unknown = set(self.schedule_kwargs) - known
        if unknown:
            bad(f"schedule {self.schedule!r} takes {sorted(known) or 'no arguments'}, got {sorted(unknown)}")
        # validate the schedule once
        learning_rate(self, 0)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> "TrainConfig":
        """Build from a plain dict; unknown keys raise ``ValueError`` (a typo must not be ignored)."""
        names = {f.name for f in fields(cls)}
        unknown = set(config) - names
        if unknown:
            raise ValueError(f"bad training config: unknown keys {sorted(unknown)}; known: {sorted(names)}")
        if "model" not in config:
            raise ValueError("bad training config: 'model' is required")
        return cls(**dict(config))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the cache key is computed from it)."""
        d = asdict(self)
        d["model_kwargs"] = dict(self.model_kwargs)
        d["data"] = dict(self.data)
        d["schedule_kwargs"] = dict(self.schedule_kwargs)
        d["save_epochs"] = sorted(set(int(e) for e in self.save_epochs))
        return d


def as_train_config(config: TrainConfig | Mapping[str, Any]) -> TrainConfig:
    """``config`` itself if it is a :class:`TrainConfig`, else ``TrainConfig.from_dict(config)``."""
    if isinstance(config, TrainConfig):
        return config
    if isinstance(config, Mapping):
        return TrainConfig.from_dict(config)
    raise ValueError(f"config must be a TrainConfig or a dict, got {type(config).__name__}")


# ---------------------------------------------------------------------------------------------
# Schedules


def granziol_linear_lr(epoch: int, total_epochs: int, lr0: float, r: float = 0.01) -> float:
    """The linear-decay schedule of Granziol et al. (Beyond-RMT eq 12), with t = epoch (0-based):

        alpha_t = alpha_0                                         for t / T <= 0.5,
        alpha_t = alpha_0 [1 - (1 - r)(t / T - 0.5) / 0.4]        for 0.5 < t / T <= 0.9,
        alpha_t = alpha_0 r                                       otherwise.

    The 0-based epoch index follows the MLRG_DeepCurvature code (inventory 004 §N). r = 0.01 is
    stated in App A. Values at t / T = 0.5, 0.7, 0.9, 1.0: alpha_0, 0.505 alpha_0, 0.01 alpha_0, 0.01
    alpha_0.
    """
    if total_epochs < 1:
        raise ValueError(f"total_epochs must be positive, got {total_epochs}")
    if not 0 < r <= 1:
        raise ValueError(f"the final ratio r must lie in (0, 1], got {r}")
    ratio = epoch / total_epochs
    if ratio <= 0.5:
        factor = 1.0
    elif ratio <= 0.9:
        factor = 1.0 - (1.0 - r) * (ratio - 0.5) / 0.4
    else:
        factor = r
    return lr0 * factor


def learning_rate(config: TrainConfig, epoch: int) -> float:
    """The learning rate used during epoch ``epoch`` (0-based) under ``config``'s schedule."""
    kw = dict(config.schedule_kwargs)
    if config.schedule == "constant":
        return float(config.lr)
    if config.schedule == "granziol_linear":
        return granziol_linear_lr(epoch, config.epochs, config.lr, r=float(kw.get("r", 0.01)))
    milestones = kw.get("milestones")
    if milestones is None or any(not isinstance(m, int) or m < 1 for m in milestones):
        raise ValueError(f"bad training config: the step schedule needs milestones (positive epochs), got {milestones!r}")
    gamma = float(kw.get("gamma", 0.1))
    if not gamma > 0:
        raise ValueError(f"bad training config: gamma must be positive, got {gamma}")
    return float(config.lr) * gamma ** sum(epoch >= m for m in milestones)


# ---------------------------------------------------------------------------------------------
# Data


def _zero_pad(data: LabelledData, pad: int) -> LabelledData:
    from dataclasses import replace

    if pad == 0:
        return data
    if pad < 0 or data.x.ndim != 4:
        raise ValueError(f"bad data spec: pad must be a non-negative number of pixels for images (N, C, H, W), "
                         f"got pad={pad} for inputs of shape {tuple(data.x.shape)}")
    x = F.pad(data.x, (pad, pad, pad, pad))
    note = "; ".join(n for n in (data.note, f"zero-padded by {pad} px to {x.shape[-2]}x{x.shape[-1]}") if n)
    return replace(data, x=x, note=note)


def _avg_pool(data: LabelledData, factor: int) -> LabelledData:
    from dataclasses import replace

    if factor == 1:
        return data
    x = F.avg_pool2d(data.x, factor)
    note = "; ".join(n for n in (data.note, f"{factor}x{factor} average-pooled to {x.shape[-2]}x{x.shape[-1]}") if n)
    return replace(data, x=x, note=note)


def prepare_data(spec: Mapping[str, Any], device: torch.device | str | None = None,
                 ) -> tuple[LabelledData, LabelledData | None]:
    """Build (train, test-or-None) from a specification, applying derived variants in this order:

    ``name`` (required; :func:`hessian_spectra.data.load_dataset`), ``classes`` (list, relabelled),
    ``per_class`` (int, class-balanced subsample of the training set) or ``subset`` (int), with
    ``subset_seed`` (default 0), ``random_labels`` (fraction, seed ``subset_seed``), ``pad`` (zero padding in
    pixels on every side, default 0: MNIST's 28 x 28 to 32 x 32 with 2, torchvision's ``Pad(2)``), ``pool``
    (average pooling factor, default 1), ``normalize`` (``"none"`` default, ``"standardize"`` = per-channel
    statistics of the prepared training set applied to both splits, or ``{"mean": [...], "std": [...]}``),
    ``test`` (bool, default False: also prepare the test split; ``test_per_class`` / ``test_subset``
    subsample it).
    """
    known = {"name", "classes", "per_class", "subset", "subset_seed", "random_labels", "pad", "pool", "normalize",
             "test", "test_per_class", "test_subset"}
    unknown = set(spec) - known
    if unknown:
        raise ValueError(f"bad data spec: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    if "name" not in spec:
        raise ValueError("bad data spec: 'name' is required (e.g. {'name': 'cifar10'})")
    seed = int(spec.get("subset_seed", 0))
    splits = ["train"] + (["test"] if spec.get("test", False) else [])
    out: dict[str, LabelledData] = {}
    for split in splits:
        d = load_dataset(spec["name"], split)
        if spec.get("classes") is not None:
            d = select_classes(d, list(spec["classes"]))
        n_pc = spec.get("per_class") if split == "train" else spec.get("test_per_class")
        n_sub = spec.get("subset") if split == "train" else spec.get("test_subset")
        if n_pc is not None and n_sub is not None:
            raise ValueError("bad data spec: give per_class or subset, not both")
        if n_pc is not None:
            d = per_class(d, int(n_pc), seed=seed)
        elif n_sub is not None:
            d = subset(d, int(n_sub), seed=seed)
        if split == "train" and spec.get("random_labels"):
            d = random_labels(d, float(spec["random_labels"]), seed=seed)
        d = _zero_pad(d, int(spec.get("pad", 0)))
        d = _avg_pool(d, int(spec.get("pool", 1)))
        out[split] = d
    norm = spec.get("normalize", "none")
    if norm == "standardize":
        mean, std = out["train"].x.mean((0, 2, 3)), out["train"].x.std((0, 2, 3))
    elif isinstance(norm, Mapping):
        mean, std = torch.tensor(norm["mean"], dtype=torch.float32), torch.tensor(norm["std"], dtype=torch.float32)
    elif norm in ("none", None):
        mean = std = None
    else:
        raise ValueError(f"bad data spec: normalize must be 'none', 'standardize' or a mean/std dict, got {norm!r}")
    if mean is not None:
        out = {k: standardize(v, mean, std) for k, v in out.items()}
    if device is not None:
        out = {k: v.to(device) for k, v in out.items()}
    return out["train"], out.get("test")


def _fingerprint(*datasets: LabelledData | None) -> str:
    h = hashlib.sha256()
    for d in datasets:
        if d is None:
            h.update(b"none")
            continue
        for t in (d.x, d.y):
            t = t.detach().cpu().contiguous()
            h.update(str((tuple(t.shape), str(t.dtype))).encode())
            h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Augmentation, loss, evaluation


def augment_crop_flip(x: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """Random crop of the zero-padded batch back to its size, then a horizontal flip with probability 1/2.

    Vectorised over the batch (one crop offset and one flip per image, drawn from ``generator`` on the
    CPU). Zero padding is applied to the tensor as given, i.e. after normalisation (torchvision pads the
    raw image with black before normalising; the difference is the padding colour only).
    """
    n, _, h, w = x.shape
    oy = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    ox = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)
    padded = F.pad(x, (padding, padding, padding, padding))
    rows = (oy[:, None] + torch.arange(h, device=x.device)[None, :])  # (n, h)
    cols = (ox[:, None] + torch.arange(w, device=x.device)[None, :])  # (n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    idx_n = torch.arange(n, device=x.device)[:, None, None, None]
    idx_c = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[idx_n, idx_c, rows[:, None, :, None], cols[:, None, None, :]]


def half_squared_error(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The half squared error of a batch, ||out - target||_F^2 / (2n) for n rows (samples).

    Eq. (2) of the linear-networks paper (targets Y as rows) and Eq. (4) of Beyond-RMT with one-hot
    targets. Not ``nn.MSELoss``, which divides by n times the output dimension.
    """
    return ((out - target) ** 2).sum() / (2 * out.shape[0])


def loss_function(name: str, reduction: str = "mean"):
    """The loss ``loss(outputs, class_labels)`` of a training configuration.

    ``cross_entropy``: ``F.cross_entropy`` (Beyond-RMT eq 5). ``mse``: :func:`half_squared_error`
    against the one-hot labels (Beyond-RMT eq 4). ``reduction``: ``mean`` over the batch (what training
    and the curvature operators use) or ``sum`` (for evaluation over a data set in batches).
    """
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    if name == "cross_entropy":
        if reduction == "mean":
            return F.cross_entropy
        return lambda out, y: F.cross_entropy(out, y, reduction="sum")

    def mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = half_squared_error(out, F.one_hot(y, out.shape[1]).to(out.dtype))
        return loss if reduction == "mean" else loss * out.shape[0]

    return mse


@torch.no_grad()
def evaluate(model: nn.Module, data: LabelledData, loss: str = "cross_entropy",
             batch_size: int = 1000) -> dict[str, float]:
    """Mean loss (without the weight-decay term) and accuracy of ``model`` (in eval mode) on ``data``."""
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    p = next(model.parameters())
    loss_sum = loss_function(loss, "sum")
    for i in range(0, len(data), batch_size):
        xb = data.x[i:i + batch_size].to(device=p.device, dtype=p.dtype)
        yb = data.y[i:i + batch_size].to(p.device)
        out = model(xb)
        total += float(loss_sum(out, yb))
        correct += int((out.argmax(1) == yb).sum())
    model.train(was_training)
    return {"loss": total / len(data), "accuracy": correct / len(data)}


# ---------------------------------------------------------------------------------------------
# Checkpoint files


def run_directory(config: TrainConfig | Mapping[str, Any], data: LabelledData | None = None,
                  test_data: LabelledData | None = None, device: torch.device | str | None = None,
                  checkpoint_dir: str | Path | None = None) -> tuple[Path, str, dict[str, Any]]:
    """(directory, hash, hashed dict) of the run of ``config``: the hash covers the whole configuration,
    the data (its specification, or the fingerprint of explicitly passed tensors), the device type, the
    checkpoint format version and the version of the training, model and data code."""
    cfg = as_train_config(config)
    dev = torch.device(device) if device is not None else default_device()
    key: dict[str, Any] = {"config": cfg.to_dict(), "device_type": dev.type, "format": _FORMAT_VERSION,
                           "code": code_version(*_CODE_MODULES), "model_code": model_code_version(cfg.model)}
    if data is not None:
        key["data_fingerprint"] = _fingerprint(data, test_data)
    elif not cfg.data:
        raise ValueError("bad training config: give a data spec in config.data or pass data= explicitly")
    h = config_hash(key)
    root = Path(checkpoint_dir) if checkpoint_dir is not None else _default_checkpoint_dir()
    return root / h, h, key


def checkpoint_path(config: TrainConfig | Mapping[str, Any], epoch: int | str = "final", **kwargs: Any) -> Path:
    """Path of the weights after ``epoch`` epochs (an entry of ``save_epochs``) or of ``"final"``."""
    directory, _, _ = run_directory(config, **kwargs)
    return directory / ("final.pt" if epoch == "final" else f"epoch_{int(epoch):04d}.pt")


def load_checkpoint(config: TrainConfig | Mapping[str, Any], epoch: int | str = "final",
                    data: LabelledData | None = None, test_data: LabelledData | None = None,
                    device: torch.device | str | None = None,
                    checkpoint_dir: str | Path | None = None) -> nn.Module:
    """The model of ``config`` with the weights saved after ``epoch`` epochs (eval mode).

    Raises ``FileNotFoundError`` if that checkpoint does not exist (train first, with ``epoch`` in
    ``save_epochs``)."""
    cfg = as_train_config(config)
    dev = torch.device(device) if device is not None else default_device()
    path = checkpoint_path(cfg, epoch, data=data, test_data=test_data, device=dev, checkpoint_dir=checkpoint_dir)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint for epoch {epoch!r} at {path}; train this config with "
                                f"save_epochs containing {epoch!r} first")
    model = build_model(cfg.model, **dict(cfg.model_kwargs)).to(device=dev, dtype=_DTYPES[cfg.dtype])
    state = torch.load(path, map_location=dev, weights_only=True)
    model.load_state_dict(state["model"] if "model" in state else state)
    return model.eval()


def _atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary name of this writer's own in ``path``'s folder, then ``os.replace``:
    a kill leaves the previous file or the new one, and two processes training one configuration at
    once cannot write into each other's file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919 + 12345) % (2**63 - 1)


# ---------------------------------------------------------------------------------------------
# Training


def train(config: TrainConfig | Mapping[str, Any], data: LabelledData | None = None,
          test_data: LabelledData | None = None, *, device: torch.device | str | None = None,
          checkpoint_dir: str | Path | None = None, progress: bool = True,
          stop_after: int | None = None, force: bool = False) -> tuple[nn.Module, dict[str, Any]]:
    """Train (or load from the cache) the model of ``config``; return ``(model, history)``.

    Each epoch e = 0..T-1 uses the learning rate ``learning_rate(config, e)``, shuffles the training set
    with a generator seeded by (seed, e), optionally augments each minibatch, and takes SGD steps on the
    mean minibatch loss (the weight decay enters through the optimizer). After the epoch the full
    training set (and ``test_data``) is evaluated in eval mode, un-augmented, without the weight-decay
    term. A final minibatch smaller than ``batch_size`` is kept (``drop_last=False``). Side effect: the
    global torch/NumPy/Python RNGs are re-seeded (from ``config.seed`` and the epoch index).

    Args:
        config: a :class:`TrainConfig` or a dict of its fields.
        data: the training set; default: ``prepare_data(config.data)``.
        test_data: an optional evaluation set (default: the test split of ``config.data`` if it asks
            for one).
        device: default :func:`hessian_spectra.utils.default_device`.
        checkpoint_dir: default ``$HESSIAN_SPECTRA_CHECKPOINTS`` or ``<repo>/data/checkpoints``.
        progress: show a tqdm bar over epochs.
        stop_after: stop after this many epochs of this call, leaving the resume state on disk (to
            simulate an interruption; returns the partially trained model).
        force: ignore (and overwrite) an existing cache entry.

    Returns:
        ``model`` in eval mode and ``history``: ``{"records": [per-epoch dicts with epoch (1-based count
        of completed epochs), lr, batch_loss (mean minibatch loss in train mode), train_loss,
        train_accuracy, test_loss, test_accuracy, seconds], "config": ..., "config_hash": ...,
        "directory": ..., "checkpoints": {epoch: path}, "loaded_from_cache": bool, "completed": bool,
        "data": [dataset descriptions]}``.
    """
    cfg = as_train_config(config)
    dev = torch.device(device) if device is not None else default_device()
    explicit = data is not None
    if data is None:
        if not cfg.data:
            raise ValueError("bad training config: give a data spec in config.data or pass data= explicitly")
        data, spec_test = prepare_data(cfg.data)
        test_data = test_data if test_data is not None else spec_test
    if not isinstance(data, LabelledData):
        raise ValueError(f"data must be a hessian_spectra.data.LabelledData, got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError("the training set is empty")
    if cfg.augmentation == "crop_flip" and data.x.ndim != 4:
        raise ValueError("crop_flip augmentation needs image data of shape (N, C, H, W)")
    directory, h, key = run_directory(cfg, data if explicit else None, test_data if explicit else None,
                                      device=dev, checkpoint_dir=checkpoint_dir)
    directory.mkdir(parents=True, exist_ok=True)
    dtype = _DTYPES[cfg.dtype]
    described = [data.describe()] + ([test_data.describe()] if test_data is not None else [])

    def model_fresh() -> nn.Module:
        seed_everything(cfg.seed)
        return build_model(cfg.model, **dict(cfg.model_kwargs)).to(device=dev, dtype=dtype)

    final = directory / "final.pt"
    if final.is_file() and not force:
        model = model_fresh()
        state = torch.load(final, map_location=dev, weights_only=False)
        model.load_state_dict(state["model"])
        history = state["history"]
        history.update(loaded_from_cache=True, directory=str(directory))
        return model.eval(), history

    remove_stale_temporaries(directory)  # checkpoints half-written by a killed run
    atomic_write_text(directory / "config.json",
                      json.dumps({"hash": h, **key, "data": described}, indent=1, default=str))
    model = model_fresh()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                weight_decay=cfg.weight_decay, nesterov=cfg.nesterov)
    history: dict[str, Any] = {"records": [], "config": cfg.to_dict(), "config_hash": h, "directory": str(directory),
                               "checkpoints": {}, "loaded_from_cache": False, "completed": False,
                               "data": described, "device": str(dev)}
    start = 0
    resume = directory / "resume.pt"
    if resume.is_file() and not force:
        state = torch.load(resume, map_location=dev, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history = state["history"]
        start = int(state["epoch"])
    elif 0 in cfg.save_epochs:
        _atomic_save({"model": model.state_dict(), "epoch": 0}, directory / "epoch_0000.pt")
        history["checkpoints"][0] = str(directory / "epoch_0000.pt")

    loss_fn = loss_function(cfg.loss)
    x_all = data.x.to(device=dev, dtype=dtype)
    y_all = data.y.to(dev)
    n = len(data)
    bs = cfg.batch_size or n
    tf32_state = None
    if dev.type == "cuda":
        tf32_state = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = cfg.allow_tf32
        torch.backends.cudnn.allow_tf32 = cfg.allow_tf32
    try:
        from tqdm.auto import tqdm

        epochs = range(start, cfg.epochs)
        bar = tqdm(epochs, desc=f"train {cfg.model} [{h[:8]}]", disable=not progress, initial=start,
                   total=cfg.epochs)
        done_this_call = 0
        for epoch in bar:
            t0 = time.perf_counter()
            lr = learning_rate(cfg, epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            gen = torch.Generator().manual_seed(_epoch_seed(cfg.seed, epoch))
            torch.manual_seed(_epoch_seed(cfg.seed, epoch) + 1)  # dropout and other global draws
            if dev.type == "cuda":
                torch.cuda.manual_seed_all(_epoch_seed(cfg.seed, epoch) + 1)
            perm = torch.randperm(n, generator=gen).to(dev)
            model.train()
            batch_losses = []
            for i in range(0, n, bs):
                idx = perm[i:i + bs]
                xb, yb = x_all[idx], y_all[idx]
                if cfg.augmentation == "crop_flip":
                    xb = augment_crop_flip(xb, gen)
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"training diverged: loss {float(loss)} at epoch {epoch} (lr {lr})")
                loss.backward()
                optimizer.step()
                batch_losses.append(loss.detach())
            record: dict[str, Any] = {"epoch": epoch + 1, "lr": lr,
                                      "batch_loss": float(torch.stack(batch_losses).mean())}
            ev = evaluate(model, data, cfg.loss, cfg.eval_batch_size)
            record.update(train_loss=ev["loss"], train_accuracy=ev["accuracy"])
            if test_data is not None:
                ev = evaluate(model, test_data, cfg.loss, cfg.eval_batch_size)
                record.update(test_loss=ev["loss"], test_accuracy=ev["accuracy"])
            record["seconds"] = time.perf_counter() - t0
            history["records"].append(record)
            bar.set_postfix(loss=f"{record['train_loss']:.3g}", acc=f"{record['train_accuracy']:.3f}")
            if epoch + 1 in cfg.save_epochs:
                path = directory / f"epoch_{epoch + 1:04d}.pt"
                _atomic_save({"model": model.state_dict(), "epoch": epoch + 1}, path)
                history["checkpoints"][epoch + 1] = str(path)
            _atomic_save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                          "epoch": epoch + 1, "history": history}, resume)
            done_this_call += 1
            if stop_after is not None and done_this_call >= stop_after and epoch + 1 < cfg.epochs:
                bar.close()
                return model.eval(), history
        bar.close()
    finally:
        if tf32_state is not None:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32_state
    history["completed"] = True
    _atomic_save({"model": model.state_dict(), "history": history}, final)
    resume.unlink(missing_ok=True)
    return model.eval(), history


# ---------------------------------------------------------------------------------------------
# Full-batch gradient descent (the linear-networks paper, App. C)


class HalvingSchedule:
    """App. C of the linear-networks paper: "an initial learning rate eta_max which is successively
    halved anytime < 0.1% improvement in loss is observed over 100 epochs".

    The rule admits two readings (inventory 003 E12); both are implemented:

    - ``"window"`` (our default, not stated by the paper): every ``window`` epochs compare the loss
      with the loss ``window`` epochs earlier and halve eta if (L_old - L_new)/L_old < ``threshold``;
    - ``"plateau"``: ``torch.optim.lr_scheduler.ReduceLROnPlateau(factor=0.5, patience=window,
      threshold=threshold, threshold_mode="rel")`` semantics, stepped every epoch;
    - ``"none"``: constant eta.
    """

    def __init__(self, lr_max: float, rule: str = "window", window: int = 100, threshold: float = 1e-3):
        if rule not in ("window", "plateau", "none"):
            raise ValueError(f"unknown halving rule {rule!r}; known: window, plateau, none")
        if not lr_max > 0 or window < 1:
            raise ValueError("need lr_max > 0 and window >= 1")
        self.lr, self.rule, self.window, self.threshold = float(lr_max), rule, int(window), float(threshold)
        self.best, self.bad = math.inf, 0
        self.halvings = 0

    def update(self, epoch: int, losses: list[float]) -> float:
        """Call after ``losses[epoch]`` is known; returns the learning rate for the next step."""
        if self.rule == "window":
            if epoch >= self.window and epoch % self.window == 0:
                old, new = losses[epoch - self.window], losses[epoch]
                if (old - new) / abs(old) < self.threshold:
                    self.lr *= 0.5
                    self.halvings += 1
        elif self.rule == "plateau":
            cur = losses[epoch]
            if cur < self.best * (1 - self.threshold):
                self.best, self.bad = cur, 0
            else:
                self.bad += 1
                if self.bad > self.window:
                    self.lr *= 0.5
                    self.halvings += 1
                    self.bad = 0
        return self.lr


# objective(params) -> (loss value, a function returning the gradients at params)
Objective = Callable[[Sequence[torch.Tensor]], tuple[float, Callable[[], Sequence[torch.Tensor]]]]


@dataclass
class DescentResult:
    """Outcome of :func:`gradient_descent`: final parameters, checkpoints, loss and learning rate per epoch."""

    params: list[torch.Tensor]
    checkpoints: dict[int, list[torch.Tensor]]
    loss: np.ndarray
    lr: np.ndarray
    status: str
    epochs_run: int
    halvings: int


def gradient_descent(params: Sequence[torch.Tensor], objective: Objective, lr_max: float, epochs: int,
                     rule: str = "window", window: int = 100, threshold: float = 1e-3,
                     checkpoints: Iterable[int] = (), divergence_factor: float = 1e3,
                     progress: bool = False, desc: str = "full-batch GD") -> DescentResult:
    """Full-batch gradient descent w <- w - eta_t grad L(w) for ``epochs`` steps, in place on ``params``.

    eta_t follows :class:`HalvingSchedule` (``rule``, ``window``, ``threshold``; App. C of the
    linear-networks paper). ``objective(params)`` returns the loss and a function giving the gradients
    (called only when a step is taken, so the last epoch costs one loss evaluation). A run whose loss
    becomes non-finite or exceeds ``divergence_factor`` times the initial loss stops with status
    ``"diverged"`` (our guard; the paper's Fig. 2(a) CIFAR-10 run diverges, inventory 003 E16).
    ``checkpoints``: epochs (0 = the initialisation) at which copies of the parameters are kept.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    want = sorted(set(int(e) for e in checkpoints))
    if want and (want[0] < 0 or want[-1] > epochs):
        raise ValueError(f"checkpoints must lie in 0..{epochs}, got {want}")
    params = list(params)
    sched = HalvingSchedule(lr_max, rule, window, threshold)
    losses: list[float] = []
    lrs: list[float] = []
    saved: dict[int, list[torch.Tensor]] = {}
    status = "ok"
    iterator: Iterable[int] = range(epochs + 1)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=desc, leave=False)
    for t in iterator:
        loss, gradients = objective(params)
        losses.append(loss)
        if t in want:
            saved[t] = [q.detach().clone() for q in params]
        if not math.isfinite(loss) or loss > divergence_factor * max(losses[0], 1e-300):
            status = "diverged"
            break
        if t == epochs:
            break
        grads = gradients()
        lr = sched.update(t, losses)
        lrs.append(lr)
        with torch.no_grad():
            for q, g in zip(params, grads):
                q.sub_(lr * g)
    return DescentResult(params=[q.detach().clone() for q in params], checkpoints=saved,
                         loss=np.asarray(losses), lr=np.asarray(lrs), status=status,
                         epochs_run=len(losses) - 1, halvings=sched.halvings)


def model_objective(model: nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                    x: torch.Tensor, y: torch.Tensor) -> tuple[list[torch.Tensor], Objective]:
    """(the trainable parameters of ``model``, the objective loss_fn(model(x), y) of them) for
    :func:`gradient_descent` on a whole data set held as tensors."""
    params = [q for q in model.parameters() if q.requires_grad]

    def objective(ps: Sequence[torch.Tensor]) -> tuple[float, Callable[[], Sequence[torch.Tensor]]]:
        loss = loss_fn(model(x), y)
        return float(loss.detach()), lambda: torch.autograd.grad(loss, ps)

    return params, objective
