"""The trained networks of Papyan (2020), "Traces of class/cross-class structure", per profile.

Ten training configurations feed the figures (inventory 001 §C1, T1-T10; T5, the network of Fig 6, is
T4's architecture at several sample sizes with checkpoints across epochs). :func:`zoo_config` turns
(run, profile) into a :class:`~hessian_spectra.training.TrainConfig`, :func:`trained` trains it once
(checkpoints cached by the full configuration and the training code) and returns the model with its
class-balanced training data and test data, :func:`describe` says what stood in for what.

Stated by the paper (App. D.1, D.3): SGD with momentum 0.9, weight decay 5e-4, batch 128; 200 epochs for
MNIST / Fashion-MNIST and 350 for CIFAR-10 (350 for the MLP on every data set), the learning rate divided
by 10 at 1/3 and 2/3 of training; no augmentation; dropout replaced by BN; BN in test mode for every
analysis; class-balanced subsets of n examples per class from the grid int(logspace(1, log10 5000, 20)).
The initial learning rate is the best of 100 (MLP: 25) log-spaced values in [1e-4, 0.25]; we do not sweep:
the ``paper`` profile takes the author's earlier release's choices where it has them (inventory 001 §L6
[ext]: VGG11-BN 0.014532 on MNIST, 0.0032374 on Fashion-MNIST, 0.096843 on CIFAR-10 at 5000 per class and
0.012407 at 136 per class, ResNet18 0.025269 on MNIST at 136 per class) and, for the MLP, 0.0184 (one
point of the paper's 25-point grid, ours). Not stated, [ext] from the author's code: MNIST zero-padded to
32 × 32 (``pad`` 2) and standardised with (0.1307, 0.3081); Fashion-MNIST and CIFAR-10 standardised with
their training sets' per-channel statistics (ours, the paper's constants are not stated). The MLP's
sample size is not stated (5000 per class, the inventory's proposal); its inputs are the flattened images.

Stand-ins at ``smoke`` and ``default`` (ours; inventory 001 §M: centred or whitened inputs erase the
outliers in small models, so these use raw, non-centred pixels in [0, 1]):

- VGG11: the same layout (8 convolutions with BN, five max-pools, the BN classifier of
  :func:`hessian_spectra.models.vgg` ``classifier="papyan"``) with every convolution 1/32 as wide (2, 4, 8,
  8, 16, 16, 16, 16 channels) and a classifier of width 256 (the paper's 4096): 82,502 parameters on
  MNIST. 60 epochs (the paper's step schedule at 1/3 and 2/3), initial learning rate 0.05;
- ResNet18: kuangliu's ResNet18 with stage widths (2, 4, 8, 16) (the paper's 64-512) on MNIST average-pooled
  to 14 × 14 (its first stage runs at full resolution: 32 × 32 costs 5× more per Hessian product on a CPU),
  60 epochs, 0.05;
- MLP: the same 8 hidden layers with BN before ReLU, width 128 (the paper's 2048), 80 epochs, 0.05;
- sample sizes per class: :data:`PER_CLASS` (smaller than the paper's, named in every figure's JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from ...data import LabelledData
from ...training import TrainConfig, load_checkpoint, prepare_data, train

__all__ = [
    "DATASETS",
    "FIG6_SIZES",
    "FIG17_EXACT",
    "PER_CLASS",
    "PROFILES",
    "RUNS",
    "SAMPLE_SIZE_GRID",
    "RunSpec",
    "describe",
    "epoch_checkpoints",
    "fig17_exact_config",
    "layer_settings",
    "spectral_settings",
    "trained",
    "zoo_config",
]

PROFILES: tuple[str, ...] = ("smoke", "default", "paper")
DATASETS: tuple[str, ...] = ("mnist", "fashion_mnist", "cifar10")
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}

#: App. D.1: 20 sample sizes per class, int(logspace(1, log10 5000, 20)) with the last forced to 5000
#: (numpy truncates it to 4999; inventory 001 §L6 [checked]).
SAMPLE_SIZE_GRID: tuple[int, ...] = tuple(int(v) for v in np.logspace(1, np.log10(5000), 20)[:-1]) + (5000,)

_MNIST_NORM = {"mean": [0.1307], "std": [0.3081]}  # [ext] the author's MNIST loader (after Pad(2))


@dataclass(frozen=True)
class RunSpec:
    """One training configuration of the paper: architecture, data set, paper sample size, epochs, the
    initial learning rate of the paper profile, and the figures it feeds."""

    key: str
    arch: str            # "vgg11", "resnet18", "mlp"
    dataset: str         # "mnist", "fashion_mnist", "cifar10"
    per_class: int       # the paper's examples per class
    epochs: int          # the paper's epochs
    lr: float            # the paper profile's initial learning rate (see module docstring)
    figures: str
    inventory: str       # inventory 001 §C1 id


RUNS: dict[str, RunSpec] = {r.key: r for r in [
    RunSpec("vgg11_mnist", "vgg11", "mnist", 5000, 200, 0.014532002371505055, "Figs 3, 4, 14; Table 1", "T1"),
    RunSpec("vgg11_fashion_mnist", "vgg11", "fashion_mnist", 5000, 200, 0.0032373940, "Figs 3, 14", "T2"),
    RunSpec("vgg11_cifar10", "vgg11", "cifar10", 5000, 350, 0.096843, "Figs 3, 14", "T3"),
    RunSpec("vgg11_cifar10_136", "vgg11", "cifar10", 136, 350, 0.0124073835375299, "Figs 5, 6; Table 1", "T4/T5"),
    RunSpec("vgg11_mnist_1351", "vgg11", "mnist", 1351, 200, 0.014532002371505055, "Fig 16", "T6"),
    RunSpec("resnet18_mnist_136", "resnet18", "mnist", 136, 200, 0.025268754994341492, "Fig 17", "T7"),
    RunSpec("mlp_mnist", "mlp", "mnist", 5000, 350, 0.0184201575, "Figs 2, 7-13; Table 1", "T8"),
    RunSpec("mlp_fashion_mnist", "mlp", "fashion_mnist", 5000, 350, 0.0184201575, "Figs 7-10, 12, 13", "T9"),
    RunSpec("mlp_cifar10", "mlp", "cifar10", 5000, 350, 0.0184201575, "Figs 7-10, 12, 13", "T10"),
]}

#: Training examples per class at smoke / default (ours; the paper's are in :data:`RUNS`), and the test
#: examples per class the Hessian figures use (the paper: the whole 10,000-image test set).
PER_CLASS: dict[str, dict[str, int]] = {
    "smoke": {"vgg11": 8, "vgg11_136": 8, "vgg11_1351": 8, "resnet18": 6, "mlp": 20, "test": 6},
    "default": {"vgg11": 64, "vgg11_136": 64, "vgg11_1351": 64, "resnet18": 30, "mlp": 200, "test": 32},
}
#: Fig 6's columns (examples per class; the paper's are not stated: the inventory assumes {136, 506, 1874,
#: 5000}) and rows (checkpoints as fractions of training; not stated: ours).
FIG6_SIZES: dict[str, tuple[int, ...]] = {"smoke": (4, 8), "default": (16, 64), "paper": (136, 506, 1874, 5000)}
FIG6_EPOCH_FRACTIONS: tuple[float, ...] = (0.1, 1 / 3, 1.0)

# long enough for the stand-ins to fit their training sets (≥ 99 %; at 30 epochs the VGG stand-in stopped at 95 %
# on Fashion-MNIST and CIFAR-10, where misfit samples dominate G's top eigenvalues); the paper trains 200-350
_STAND_IN_EPOCHS = {"smoke": {"vgg11": 4, "resnet18": 3, "mlp": 4}, "default": {"vgg11": 60, "resnet18": 60, "mlp": 80}}
_STAND_IN_LR = 0.05  # ours (stand-ins; the paper sweeps 100 values)
_VGG_STAND_IN = {"width_multiplier": 1 / 32, "classifier_width": 256}
_RESNET_STAND_IN = (2, 4, 8, 16)
_MLP_WIDTH = {"smoke": 32, "default": 128, "paper": 2048}


def _check(run: str, profile: str) -> RunSpec:
    if run not in RUNS:
        raise ValueError(f"unknown papyan2020 run {run!r}; known: {', '.join(RUNS)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    return RUNS[run]


def _per_class(spec: RunSpec, profile: str) -> int:
    if profile == "paper":
        return spec.per_class
    table = PER_CLASS[profile]
    if spec.key.endswith("_136"):
        return table["vgg11_136"]
    if spec.key.endswith("_1351"):
        return table["vgg11_1351"]
    return table[spec.arch]


def epoch_checkpoints(run: str, profile: str) -> tuple[int, ...]:
    """The epochs whose weights are kept for Fig 6's rows (:data:`FIG6_EPOCH_FRACTIONS` of training)."""
    spec = _check(run, profile)
    E = spec.epochs if profile == "paper" else _STAND_IN_EPOCHS[profile][spec.arch]
    return tuple(sorted({max(1, round(f * E)) for f in FIG6_EPOCH_FRACTIONS}))


def zoo_config(run: str, profile: str, *, per_class: int | None = None, width: int | None = None) -> TrainConfig:
    """The training configuration of ``run`` (a key of :data:`RUNS`) at ``profile``; ``per_class`` overrides
    the examples per class (Fig 6's columns: the same architecture and schedule at other sample sizes);
    ``width`` overrides the hidden width of an MLP run (Fig 9b's wider copy of the stand-in).

    Every configuration also prepares the test split (balanced subsets of ``PER_CLASS[profile]["test"]`` per
    class at smoke/default, the whole test set at paper) and keeps the checkpoints of Fig 6's rows."""
    spec = _check(run, profile)
    n = int(per_class) if per_class is not None else _per_class(spec, profile)
    if n < 1:
        raise ValueError(f"per_class must be positive, got {n}")
    if width is not None and (spec.arch != "mlp" or int(width) < 1):
        raise ValueError(f"width applies to the MLP runs only and must be positive, got run {run!r}, width {width!r}")
    in_ch = 3 if spec.dataset == "cifar10" else 1
    data: dict[str, Any] = {"name": spec.dataset, "per_class": n, "test": True}
    if profile == "paper":
        if spec.dataset == "mnist":
            data["normalize"] = _MNIST_NORM
        else:
            data["normalize"] = "standardize"
        epochs, lr = spec.epochs, spec.lr
    else:
        data["test_per_class"] = PER_CLASS[profile]["test"]
        epochs, lr = _STAND_IN_EPOCHS[profile][spec.arch], _STAND_IN_LR
    if spec.arch == "resnet18" and profile != "paper":
        data["pool"] = 2  # 14 x 14: the stand-in's convolutions run at full resolution in its first stage (ours)
    elif spec.arch == "mlp" and spec.dataset == "cifar10" and profile == "smoke":
        data["pool"] = 2  # 16 x 16 at smoke only (ours): fc1's G^l on 3,072 inputs took most of the CI's smoke run
    elif spec.arch in ("vgg11", "resnet18") and spec.dataset != "cifar10":
        data["pad"] = 2  # 28 x 28 -> 32 x 32 ([ext] Pad(2); five max-pools need 32)
    if spec.arch == "vgg11":
        kwargs: dict[str, Any] = {"depth": 11, "batch_norm": True, "num_classes": 10, "in_channels": in_ch,
                                  "classifier": "papyan"}
        if profile != "paper":
            kwargs.update(_VGG_STAND_IN)
        model = "vgg"
    elif spec.arch == "resnet18":
        model, kwargs = "resnet18", {"num_classes": 10, "in_channels": in_ch}
        if profile != "paper":
            kwargs["widths"] = list(_RESNET_STAND_IN)
    else:
        d = 784 if spec.dataset != "cifar10" else (3072 // 4 if data.get("pool") == 2 else 3072)
        w = int(width) if width is not None else _MLP_WIDTH[profile]
        model, kwargs = "bn_mlp", {"in_dim": d, "widths": [w] * 8, "num_classes": 10}
    milestones = sorted({max(1, epochs // 3), max(2, (2 * epochs) // 3)})
    return TrainConfig(model=model, model_kwargs=kwargs, data=data, epochs=epochs, lr=lr, batch_size=128,
                       momentum=0.9, weight_decay=5e-4, schedule="step",
                       schedule_kwargs={"milestones": milestones, "gamma": 0.1}, augmentation="none", seed=0,
                       save_epochs=epoch_checkpoints(run, profile))


def spectral_settings(profile: str) -> dict[str, Any]:
    """The spectral settings of the Hessian, G and E figures at ``profile`` (one table, so that Table 1 reads the
    results Figs 3-4 cached): App. D.2 states T = 128 subspace iterations, NORMALIZATION M0 = 32, M in {128, 256}
    for linear spectra and 2048 for log spectra, n_vec = 1, κ = 3, K = 1024 and the HVP batch 1024; smoke and
    default shrink M and deflate with Lanczos (``deflation``: T = 12 subspace iterations left the C-th eigenvalue
    of the stand-ins 14 % off, T = 128 is out of a CPU's reach; ours) except in Fig 17, whose subject is subspace
    iteration (``fig17_si_iters``). ``e_steps_fig16``: Fig 16's M (log panel 2048 at paper); ``log_steps``: Fig 5's
    and Fig 6's log spectra; ``top_k_cross``: top eigenvalues of G and G ⊖ G_cross for the gap at k = C(C − 1)
    (C(C − 1) + 1 with C = 10); ``probes``: Hutchinson probes per class for Fig 6's traces (not stated)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    return {
        "smoke": {"deflation": "lanczos", "si_iters": 2, "fig17_si_iters": 3, "steps": 16, "e_steps_fig4": 24,
                  "e_steps_fig16": 24, "resnet_steps": 16, "log_steps": 24, "norm_steps": 8, "top_k_cross": 21, "probes": 2,
                  "batch_size": 500},
        "default": {"deflation": "lanczos", "si_iters": 12, "fig17_si_iters": 40, "steps": 128, "e_steps_fig4": 192,
                    "e_steps_fig16": 192, "resnet_steps": 128, "log_steps": 192, "norm_steps": 32, "top_k_cross": 91,
                    "probes": 4, "batch_size": 500},
        "paper": {"deflation": "subspace", "si_iters": 128, "fig17_si_iters": 128, "steps": 256, "e_steps_fig4": 256,
                  "e_steps_fig16": 2048, "resnet_steps": 256, "log_steps": 2048, "norm_steps": 32, "top_k_cross": 91,
                  "probes": 8, "batch_size": 1024},
    }[profile]


def layer_settings(profile: str) -> dict[str, Any]:
    """The settings of the MLP's layer statistics at ``profile`` (shared by the layer figures and Table 1):
    examples per class for G^l, KFAC and CFAC (``gl_per_class``; 0 = all, the paper), the top C(C − 1) = 90
    eigenvalues compared (``gl_top_k``) and M of their densities (``gl_steps``; not stated for Figs 11-12, App. D.2's
    pipeline)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    return {"smoke": {"gl_per_class": 10, "gl_top_k": 12, "gl_steps": 16, "batch_size": 500},
            "default": {"gl_per_class": 100, "gl_top_k": 90, "gl_steps": 128, "batch_size": 500},
            "paper": {"gl_per_class": 0, "gl_top_k": 90, "gl_steps": 256, "batch_size": 1024}}[profile]


#: Fig 17's method check on a network whose Hessian is dense-exact (ours, not a network of the paper; inventory 001
#: Fig 17's CPU plan, "the tiny MLP Hessian (exact) with and without deflation"): a ReLU MLP (no BN) on MNIST
#: average-pooled 4 x 4 to 7 x 7 (49 inputs), raw pixels in [0, 1], not centred (inventory 001 §M: centring erases
#: the outliers of small models), class-balanced ``per_class`` images per class; trained with the stand-ins' recipe
#: (SGD, momentum 0.9, weight decay 5e-4, batch 128, lr 0.05 divided by 10 at 1/3 and 2/3 of ``epochs``) for the
#: paper's 200 MNIST epochs (App. D.1; 40 left the default net at 71 % train accuracy, 200 reach 92 %, ~10 s).
#: Every entry is ours; p = 2,050 at default and paper (≤ 3,000: a dense float64 Hessian and its eigh), 1,242 at smoke.
FIG17_EXACT: dict[str, dict[str, Any]] = {
    "smoke": {"per_class": 20, "pool": 4, "widths": [16, 16], "epochs": 60},
    "default": {"per_class": 100, "pool": 4, "widths": [24, 24], "epochs": 200},
    "paper": {"per_class": 100, "pool": 4, "widths": [24, 24], "epochs": 200},
}


def fig17_exact_config(profile: str) -> TrainConfig:
    """The training configuration of Fig 17's exact method check at ``profile`` (:data:`FIG17_EXACT`, all ours: the
    paper's network is ResNet18, whose Hessian no profile can hold densely)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    s = FIG17_EXACT[profile]
    side = 28 // int(s["pool"])
    epochs = int(s["epochs"])
    milestones = sorted({max(1, epochs // 3), max(2, (2 * epochs) // 3)})
    return TrainConfig(model="mlp", model_kwargs={"in_dim": side * side, "widths": list(s["widths"]), "num_classes": 10},
                       data={"name": "mnist", "per_class": int(s["per_class"]), "pool": int(s["pool"])},
                       epochs=epochs, lr=_STAND_IN_LR, batch_size=128, momentum=0.9, weight_decay=5e-4,
                       schedule="step", schedule_kwargs={"milestones": milestones, "gamma": 0.1},
                       augmentation="none", seed=0, save_epochs=(epochs,))


def describe(run: str, profile: str, *, per_class: int | None = None) -> dict[str, Any]:
    """What the paper trained and what ``profile`` trains, for a figure's JSON (``stand_in`` is True when the
    network, the sample size or the schedule differ from the paper's)."""
    spec = _check(run, profile)
    cfg = zoo_config(run, profile, per_class=per_class)
    n = cfg.data["per_class"]
    paper_model = {"vgg11": "VGG11-BN (28.2M parameters)", "resnet18": "ResNet18 (kuangliu, 11.2M)",
                   "mlp": "MLP with 8 hidden layers of 2048, BN before ReLU"}[spec.arch]
    name = DATASET_NAMES[spec.dataset]
    src = " (JPEG q75 copy)" if spec.dataset == "cifar10" else ""
    if profile == "paper":
        model_note = paper_model
    elif spec.arch == "vgg11":
        model_note = "VGG11-BN layout with 1/32 of the convolution widths and a 256-wide BN classifier (stand-in, ours)"
    elif spec.arch == "resnet18":
        model_note = f"ResNet18 with stage widths {_RESNET_STAND_IN} (stand-in, ours)"
    else:
        model_note = f"MLP with 8 hidden layers of {_MLP_WIDTH[profile]}, BN before ReLU (stand-in, ours)"
    test = "the whole test set" if profile == "paper" else f"{cfg.data['test_per_class']} test images per class"
    inputs = "standardised" if profile == "paper" else "raw pixels in [0, 1], not centred"
    pad = ", zero-padded to 32x32" if cfg.data.get("pad") else (", average-pooled to 14x14" if cfg.data.get("pool") else "")
    return {"run": run, "inventory_config": spec.inventory, "figures": spec.figures, "paper_model": paper_model,
            "paper_data": f"{name}, {spec.per_class} per class", "model": model_note,
            "data": f"{name}{src}, {n} training images per class ({10 * n}), {test}; {inputs}{pad}",
            "epochs": cfg.epochs, "lr0": cfg.lr, "milestones": list(cfg.schedule_kwargs["milestones"]),
            "weight_decay": cfg.weight_decay, "batch_size": cfg.batch_size, "seed": cfg.seed,
            "stand_in": profile != "paper" or per_class not in (None, spec.per_class)}


def trained(config: TrainConfig | Mapping[str, Any], epoch: int | str = "final", *, progress: bool = False,
            device: str | None = None) -> tuple[nn.Module, LabelledData, LabelledData | None, dict[str, Any]]:
    """(model in eval mode, training data, test data, training history) of ``config`` after ``epoch`` epochs;
    trains first when no checkpoint exists (cached by the full configuration)."""
    _, history = train(config, device=device, progress=progress)
    model = load_checkpoint(config, epoch, device=device)
    spec = config.data if isinstance(config, TrainConfig) else config["data"]
    data, test = prepare_data(spec, device=device)
    return model, data, test, history
