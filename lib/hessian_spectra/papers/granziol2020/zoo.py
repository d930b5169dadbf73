"""The training runs of Granziol et al. (2020), "true loss surface", and their CPU stand-ins, per profile.

Eight runs (inventory 002 §C1): M1-M4 are PreResNet-110 with the Normal (α₀ = 0.1, T = 225) and Overfit
(α₀ = 0.001, T = 1000) schedules of eq 11 on CIFAR-100 / CIFAR-10 (Figs 1-12, Tables 1-3); A1, A3 are
PreResNet-110 with α₀ = 0.1, T = 300 [inferred from the "Epoch 300" captions, §E7] and A2, A4 VGG16-BN (SWA
variant) with α₀ = 0.05, T = 300 (App. I), checkpointed at epochs 0, 25, 50, 75, 125, 150, 300 (Figs 13-33).
:func:`zoo_config` turns (run, profile) into a :class:`~hessian_spectra.training.TrainConfig`; :func:`trained`
trains it once (cached) and returns the model with its training data; :func:`spectral_settings` gives the
Lanczos steps and augmented copies of the profile.

Stated by the paper: SGD with momentum 0.9, data augmentation (flip, 4-px zero padding, 32 × 32 crop),
schedule eq 11 with r = 0.01 and the α₀ and T above, the architectures (P = 1,169,972 / 1,146,842 for the
PreResNet-110, checked by the model tests). Not stated, [ext] from the SWA code the paper cites (inventory
§F Fig 1, §D): batch 128, weight decay 3e-4 (PreResNet) and 5e-4 (VGG16), the normalisation constants (SWA
PreResNet: mean (0.4914, 0.4822, 0.4465), std (0.2023, 0.1994, 0.2010); SWA VGG: ImageNet's), seed (one run
each; ours: 0 for the C10 runs, 1 for the C100 runs).

CIFAR-100 is not available offline: the C100 runs (M1, M3, A1, A2) then train on a labelled CIFAR-10
stand-in with a second seed (training seed 1, and at smoke/default a second random subset, ``subset_seed``
1), so they double as a seed replicate of the C10 runs; :func:`describe` sets ``dataset_substituted`` and
says so.

Stand-ins at ``smoke`` and ``default`` (ours; the inventory's §C3 MLP on grey 16 × 16 images needs a grey
conversion that :func:`hessian_spectra.training.prepare_data` does not offer, and the inventory's own
prototypes found the CIFAR MLP underfits while a small colour CNN "shows every direction", §M3):

- data: CIFAR-10 (JPEG q75 copy), colour, 2 × 2 average-pooled to 16 × 16, standardised with the subset's
  statistics; default 30 images per class (N = 300), test 200 per class; smoke 15 per class (N = 150);
- "PRN stand-in": ``mini_vgg((6, 12, 24), (32,))`` with BN, P = 6,962: q_emp = P/N = 23.2 and, with K = 30
  copies, q_aug = 0.77, the paper's 23.4 and 0.78 (K = 100: 0.23, the paper's 5M set 0.234);
- "VGG stand-in": ``mini_vgg((16, 32, 64), (128,))`` with BN, P = 57,994: q_emp = 193 and q_aug = 1.93 at
  K = 100 (paper 306 and 3.06: "unable to probe the limit q < 1");
- the full schedules at default (T = 225 / 1000 / 300, the Overfit character needs its length, inventory
  §M2), 10 % of T at smoke; the training augmentation is the training loop's ``crop_flip``, whose padding is
  fixed at 4 px: on 16 × 16 images that is twice the paper's relative shift (inventory §C3 proposed 2 px;
  ``TrainConfig`` has no padding setting), and the augmented Hessians use the same 4 px
  (:data:`HESSIAN_PADDING`) so that the augmented set is drawn from the training distribution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from ...data import LabelledData
from ...training import TrainConfig, load_checkpoint, prepare_data, train

__all__ = [
    "APPENDIX_EPOCHS",
    "HESSIAN_PADDING",
    "PROFILES",
    "RUNS",
    "SWA_PRN_NORM",
    "SWA_VGG_NORM",
    "RunSpec",
    "checkpoint_epoch",
    "cifar100_available",
    "describe",
    "spectral_settings",
    "trained",
    "zoo_config",
]

PROFILES: tuple[str, ...] = ("smoke", "default", "paper")
APPENDIX_EPOCHS: tuple[int, ...] = (0, 25, 50, 75, 125, 150, 300)  # Figs 13-33 (multiples of save_freq 25 [ext])
SWA_PRN_NORM = {"mean": [0.4914, 0.4822, 0.4465], "std": [0.2023, 0.1994, 0.2010]}  # [ext] SWA PreResNet
SWA_VGG_NORM = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}       # [ext] SWA VGG (ImageNet)
# padding of the augmented Hessians: the paper's 4 px; at smoke/default the training loop's fixed 4 px too
HESSIAN_PADDING = {"smoke": 4, "default": 4, "paper": 4}


@dataclass(frozen=True)
class RunSpec:
    """One training run of the paper: its dataset slot, architecture and schedule, and the figures it feeds."""

    key: str
    slot: str        # "c100" or "c10"
    arch: str        # "prn" or "vgg"
    schedule: str    # "normal", "overfit" or "appendix"
    figures: str


RUNS: dict[str, RunSpec] = {r.key: r for r in [
    RunSpec("M1", "c100", "prn", "normal", "Figs 1, 4, 9; Tables 1, 3"),
    RunSpec("M2", "c10", "prn", "normal", "Figs 2, 3, 10; Tables 2, 3"),
    RunSpec("M3", "c100", "prn", "overfit", "Figs 5, 7, 11; Tables 1, 3"),
    RunSpec("M4", "c10", "prn", "overfit", "Figs 6, 8, 12; Tables 2, 3"),
    RunSpec("A1", "c100", "prn", "appendix", "Figs 13-20"),
    RunSpec("A2", "c100", "vgg", "appendix", "Figs 21-29"),
    RunSpec("A3", "c10", "prn", "appendix", "Figs 30, 31"),
    RunSpec("A4", "c10", "vgg", "appendix", "Figs 32, 33"),
]}

# (α₀, T) per schedule and architecture: eq 11 with r = 0.01 (§6, App. I); "appendix" PRN T = 300 [inferred]
_SCHEDULES = {("normal", "prn"): (0.1, 225), ("overfit", "prn"): (0.001, 1000),
              ("appendix", "prn"): (0.1, 300), ("appendix", "vgg"): (0.05, 300)}
_WD = {"prn": 3e-4, "vgg": 5e-4}  # [ext] SWA README (not stated by the paper)
_STAND_IN = {"smoke": {"prn": ((4, 8, 8), (16,)), "vgg": ((8, 16, 16), (32,))},
             "default": {"prn": ((6, 12, 24), (32,)), "vgg": ((16, 32, 64), (128,))}}
_PER_CLASS = {"smoke": (15, 20), "default": (30, 200)}  # (train, test) images per class (ours)
_SMOKE_FRACTION = 0.1  # smoke trains 10 % of T (inventory §F "smoke")

_CIFAR100: bool | None = None


def cifar100_available() -> bool:
    """Whether CIFAR-100 can be loaded (locally, or by download unless offline); checked once per process."""
    global _CIFAR100
    if _CIFAR100 is None:
        from ...data import load_dataset

        try:
            load_dataset("cifar100", "test")
            _CIFAR100 = True
        except FileNotFoundError:
            _CIFAR100 = False
    return _CIFAR100


def _check(run: str, profile: str) -> RunSpec:
    if run not in RUNS:
        raise ValueError(f"unknown granziol2020 run {run!r}; known: {', '.join(RUNS)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    return RUNS[run]


def _substituted(spec: RunSpec, c100: bool | None) -> bool:
    if spec.slot != "c100":
        return False
    return not (cifar100_available() if c100 is None else c100)


def zoo_config(run: str, profile: str, *, cifar100: bool | None = None) -> TrainConfig:
    """The training configuration of ``run`` (a key of :data:`RUNS`) at ``profile``.

    ``cifar100``: whether CIFAR-100 is available (default: :func:`cifar100_available`); when it is not, a C100
    run trains on the CIFAR-10 stand-in with seed 1 (module docstring)."""
    spec = _check(run, profile)
    substituted = _substituted(spec, cifar100)
    seed = 1 if spec.slot == "c100" else 0
    lr, T = _SCHEDULES[(spec.schedule, spec.arch)]
    classes = 100 if spec.slot == "c100" and not substituted else 10
    if profile == "paper":
        name = "cifar100" if classes == 100 else "cifar10"
        data: dict[str, Any] = {"name": name, "normalize": SWA_PRN_NORM if spec.arch == "prn" else SWA_VGG_NORM,
                                "test": True}
        if spec.arch == "prn":
            model, kwargs = "preresnet", {"depth": 110, "num_classes": classes}
        else:
            model, kwargs = "vgg", {"depth": 16, "batch_norm": True, "num_classes": classes, "classifier": "swa"}
        epochs = T
        save = APPENDIX_EPOCHS if spec.schedule == "appendix" else (T,)
    else:
        n_train, n_test = _PER_CLASS[profile]
        data = {"name": "cifar10", "per_class": n_train, "pool": 2, "normalize": "standardize", "test": True,
                "test_per_class": n_test, "subset_seed": seed}
        conv, hidden = _STAND_IN[profile][spec.arch]
        model, kwargs = "mini_vgg", {"conv_widths": list(conv), "hidden": list(hidden), "batch_norm": True,
                                     "num_classes": 10, "input_size": 16}
        if profile == "smoke":
            epochs = max(1, math.ceil(_SMOKE_FRACTION * T))
            save = tuple(sorted({min(epochs, math.ceil(e * epochs / T)) for e in APPENDIX_EPOCHS})) \
                if spec.schedule == "appendix" else (epochs,)
        else:
            epochs = T
            save = APPENDIX_EPOCHS if spec.schedule == "appendix" else (T,)
    return TrainConfig(model=model, model_kwargs=kwargs, data=data, epochs=epochs, lr=lr, batch_size=128,
                       momentum=0.9, weight_decay=_WD[spec.arch], schedule="granziol_linear",
                       schedule_kwargs={"r": 0.01}, augmentation="crop_flip", seed=seed, save_epochs=tuple(save))


def spectral_settings(profile: str) -> dict[str, int]:
    """Lanczos steps and augmented copies of ``profile``.

    paper (§6, Figs 13 and 22): Empirical m = 100 ("full dataspectrum" m not stated: 100 [inferred]),
    Augmented m = 80 over K = 30 copies (1.5M = 30 × 50k), the "5M" sets K = 100 with m = 10. default: the
    same (N = 300, so the costs stay CPU-sized). smoke: m = 30 / 20, K = 30, 5M analogue K = 10 with m = 5
    (inventory §F "smoke")."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    if profile == "smoke":
        return {"emp_steps": 30, "aug_steps": 20, "copies": 30, "appendix_copies": 10, "appendix_aug_steps": 5,
                "appendix_emp_steps": 30, "padding": HESSIAN_PADDING[profile]}
    return {"emp_steps": 100, "aug_steps": 80, "copies": 30, "appendix_copies": 100, "appendix_aug_steps": 10,
            "appendix_emp_steps": 100, "padding": HESSIAN_PADDING[profile]}


def checkpoint_epoch(run: str, profile: str, paper_epoch: int) -> int:
    """The checkpoint of ``run`` at ``profile`` that stands for the paper's epoch ``paper_epoch`` (one of
    :data:`APPENDIX_EPOCHS` or T): the same epoch at ``paper`` and ``default`` (full schedules), the proportional
    one at ``smoke`` (min(E, ⌈e·E/T⌉) for a run of E epochs standing for T), as :func:`zoo_config` saves it."""
    spec = _check(run, profile)
    _, T = _SCHEDULES[(spec.schedule, spec.arch)]
    if not 0 <= paper_epoch <= T:
        raise ValueError(f"epoch {paper_epoch} is outside run {run}'s schedule of {T} epochs")
    epochs = zoo_config(run, profile).epochs
    e = paper_epoch if epochs == T else min(epochs, math.ceil(paper_epoch * epochs / T))
    if e not in zoo_config(run, profile).save_epochs and e != epochs:
        raise ValueError(f"epoch {paper_epoch} (-> {e}) is not a saved checkpoint of run {run} at {profile!r}")
    return e


def describe(run: str, profile: str, *, cifar100: bool | None = None) -> dict[str, Any]:
    """What the paper trained and what ``profile`` trains instead, for a figure's JSON (``stand_in`` is True
    when the network or the data differ from the paper's; ``dataset_substituted`` when a CIFAR-100 run trains
    on the CIFAR-10 stand-in)."""
    spec = _check(run, profile)
    cfg = zoo_config(run, profile, cifar100=cifar100)
    substituted = _substituted(spec, cifar100)
    paper_model = "PreResNet-110" if spec.arch == "prn" else "VGG16-BN (SWA variant)"
    paper_data = "CIFAR-100 (50,000)" if spec.slot == "c100" else "CIFAR-10 (50,000)"
    if profile == "paper":
        model_note = paper_model
        data_note = "CIFAR-10 (JPEG q75 copy, 50,000)" if _is_cifar10(spec, substituted) else "CIFAR-100 (50,000)"
    else:
        n = cfg.data["per_class"] * 10
        model_note = (f"mini_vgg{tuple(cfg.model_kwargs['conv_widths'])}-{tuple(cfg.model_kwargs['hidden'])} with BN "
                      f"(stand-in for {paper_model}, ours)")
        data_note = (f"CIFAR-10 (JPEG q75 copy), {n} training images ({cfg.data['per_class']} per class, subset seed "
                     f"{cfg.data['subset_seed']}), pooled to 16x16")
    if substituted:
        data_note += (" [stand-in: CIFAR-10 (JPEG q75), seed 1 - CIFAR-100 unavailable offline; not comparable with "
                      "the paper's CIFAR-100 numbers]")
    return {"run": run, "figures": spec.figures, "paper_model": paper_model, "paper_data": paper_data,
            "model": model_note, "data": data_note, "schedule": spec.schedule, "lr0": cfg.lr, "epochs": cfg.epochs,
            "weight_decay": cfg.weight_decay, "batch_size": cfg.batch_size, "seed": cfg.seed,
            "save_epochs": list(cfg.save_epochs), "stand_in": profile != "paper" or substituted,
            "dataset_substituted": substituted, "spectral": spectral_settings(profile)}


def _is_cifar10(spec: RunSpec, substituted: bool) -> bool:
    """Whether the run trains on CIFAR-10 (a C10 run, or a substituted C100 run)."""
    return spec.slot == "c10" or substituted


def trained(config: TrainConfig | Mapping[str, Any], epoch: int | str = "final", *, progress: bool = False,
            device: str | None = None) -> tuple[nn.Module, LabelledData, dict[str, Any]]:
    """(model in eval mode, its un-augmented training data, training history) of ``config`` after ``epoch``
    epochs; trains first when no checkpoint exists (cached by the full configuration)."""
    _, history = train(config, device=device, progress=progress)
    model = load_checkpoint(config, epoch, device=device)
    data, _ = prepare_data(config.data if isinstance(config, TrainConfig) else config["data"], device=device)
    return model, data, history
