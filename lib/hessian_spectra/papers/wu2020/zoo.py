"""The trained networks of Wu et al. (2020), "Dissecting Hessian", shared by every wu2020 notebook.

Each entry of :data:`ZOO` is one network family (inventory 000 §C1 paper configurations, §C2 the CPU
zoo of the ``default`` profile). :func:`zoo_config` turns (entry, profile, seed) into a
:class:`~hessian_spectra.training.TrainConfig`; :func:`trained` trains it once (checkpoints cached by the
full configuration and the training code, :func:`hessian_spectra.training.train`) and returns the model
with the training data it was trained on. Every figure that names "fc1:LeNet5" at a profile reads the
same checkpoints.

Settings stated by the paper (App D.2): SGD with batch 128, learning rate 0.01, 1000 epochs (the
``paper`` profile); no momentum or weight decay is mentioned (momentum 0.9 + weight decay 5e-4 is one of
the "training schemes" of Fig 9, so the default has neither); the initialisation is Xavier with zero biases
(:func:`hessian_spectra.models.initialize`, the paper's text also says "the default initialization
scheme of PyTorch": recorded as ``init`` in every configuration). Not stated: input normalisation
(inventory §D: per-channel standardisation; MNIST with the usual 0.1307 / 0.3081, CIFAR-10 with the
statistics of the JPEG copy's training subset), the data subsets of the CPU profiles, the checkpoint
epochs of Figs 4, 18-20 (log-spaced, ours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from torch import nn

from ...data import LabelledData
from ...training import TrainConfig, load_checkpoint, prepare_data, train

__all__ = ["ZOO", "ZooEntry", "zoo_config", "zoo_seeds", "trained", "describe", "PROFILES"]

PROFILES: tuple[str, ...] = ("smoke", "default", "paper")

INIT = "xavier_uniform_zero_bias"  # App D.2 (see module docstring)

_MNIST_NORM = {"mean": [0.1307], "std": [0.3081]}  # not stated by the paper (inventory 000 §D)


@dataclass(frozen=True)
class ZooEntry:
    """One network family: the paper's name and configuration, and what each profile trains."""

    key: str
    paper_name: str
    paper_data: str
    description: str


ZOO: dict[str, ZooEntry] = {e.key: e for e in [
    ZooEntry("f200", "F-200^2", "MNIST (60,000)", "784-200-200-10 ReLU MLP (199,210 parameters); Figs 2, 8, 20, 21, 24"),
    ZooEntry("f200_bn", "F-200^2-BN", "MNIST (60,000)", "F-200^2 with BatchNorm1d(affine=False) after each ReLU; Table 8"),
    ZooEntry("lenet5", "LeNet5", "CIFAR-10 (50,000)",
             "LeNet5 of Table 4 (62,006 parameters with fc1 width m = 120); Figs 1, 3, 4, 6, 14-19, 22; Tables 6, 7"),
    ZooEntry("lenet5_bn", "LeNet5-BN", "CIFAR-10 (50,000)", "LeNet5 with BatchNorm(affine=False) after each ReLU (Table 5); Figs 27-29"),
    ZooEntry("lenet5_random_labels", "LeNet5 on CIFAR10-R", "CIFAR-10 with random labels",
             "LeNet5 trained on randomly labelled CIFAR-10 images; Fig 4c, Table 10"),
]}

# Seeds per profile: the paper trains 5 models per configuration (§5.1, App E.2); the CPU zoo trains
# 3 LeNet5s and 2 of the others (inventory 000 §C2).
_SEEDS = {
    "smoke": {"f200": 2, "f200_bn": 2, "lenet5": 2, "lenet5_bn": 2, "lenet5_random_labels": 1},
    "default": {"f200": 3, "f200_bn": 2, "lenet5": 3, "lenet5_bn": 2, "lenet5_random_labels": 1},
    "paper": {"f200": 5, "f200_bn": 3, "lenet5": 5, "lenet5_bn": 3, "lenet5_random_labels": 1},
}


def _check(entry: str, profile: str) -> None:
    if entry not in ZOO:
        raise ValueError(f"unknown wu2020 zoo entry {entry!r}; known: {', '.join(ZOO)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")


def zoo_seeds(entry: str, profile: str) -> list[int]:
    """The seeds trained for ``entry`` at ``profile`` (0, 1, ...)."""
    _check(entry, profile)
    return list(range(_SEEDS[profile][entry]))


def _data(entry: str, profile: str) -> tuple[dict[str, Any], str]:
    mnist = entry.startswith("f200")
    if mnist:
        if profile == "smoke":
            return ({"name": "mnist", "per_class": 50, "pool": 4, "normalize": _MNIST_NORM},
                    "MNIST, 500 images (50 per class) average-pooled to 7x7 (smoke scale)")
        if profile == "default":
            return ({"name": "mnist", "per_class": 1000, "normalize": _MNIST_NORM},
                    "MNIST, 10,000 training images (1,000 per class; inventory 000 §C2 dz-F200)")
        return {"name": "mnist", "normalize": _MNIST_NORM}, "MNIST, all 60,000 training images (as the paper)"
    spec: dict[str, Any] = {"name": "cifar10", "normalize": "standardize"}
    if entry == "lenet5_random_labels":
        spec["random_labels"] = 1.0
    if profile == "smoke":
        spec["per_class"] = 30
        return spec, "CIFAR-10 (JPEG q75 copy), 300 images (30 per class), smoke scale"
    if profile == "default":
        # 8,000 images so that LeNet5 does not memorise its data in 30 epochs (inventory 000 §M4: the
        # overlap peak at m appears only then). CIFAR10-R: 2,000 images, trained to memorisation (§C2).
        spec["per_class"] = 200 if entry == "lenet5_random_labels" else 800
        n = spec["per_class"] * 10
        return spec, f"CIFAR-10 (JPEG q75 copy), {n:,} training images ({spec['per_class']} per class)"
    return spec, "CIFAR-10 (JPEG q75 copy of the 50,000 training images)"


def _model(entry: str, profile: str, fc1_width: int | None) -> tuple[str, dict[str, Any], str]:
    bn = entry.endswith("_bn")
    if entry.startswith("f200"):
        if profile == "smoke":
            return ("mlp", {"in_dim": 49, "widths": [32, 32], "num_classes": 10, "batch_norm": bn, "init": INIT},
                    f"F-32^2{'-BN' if bn else ''} on 7x7 inputs (smoke stand-in for F-200^2{'-BN' if bn else ''})")
        return ("mlp", {"in_dim": 784, "widths": [200, 200], "num_classes": 10, "batch_norm": bn, "init": INIT},
                f"F-200^2{'-BN' if bn else ''} (as the paper)")
    m = 120 if fc1_width is None else int(fc1_width)
    name = "LeNet5" + (f"-(fc1-{m})" if m != 120 else "") + ("-BN" if bn else "")
    return ("lenet5", {"in_channels": 3, "num_classes": 10, "batch_norm": bn, "fc_widths": [m, 84], "init": INIT},
            f"{name} (the paper's architecture)")


# epochs per profile: paper 1000 (App D.2); default 30 for CIFAR (1,890 steps of batch 128 on 8,000 images,
# not memorised, inventory 000 §M4), 60 for MNIST (§C2), 150 for the memorising CIFAR10-R run (ours).
_EPOCHS = {"smoke": {"mnist": 20, "cifar": 3, "random": 3},
           "default": {"mnist": 60, "cifar": 30, "random": 150},
           "paper": {"mnist": 1000, "cifar": 1000, "random": 1000}}
# default-profile learning rates: 0.05 for LeNet5 on the 8k subset (inventory 000 §C2, so that 30 epochs
# reach a loss near 1.0), the paper's 0.01 elsewhere.
_LR = {"smoke": {"mnist": 0.05, "cifar": 0.05, "random": 0.05},
       "default": {"mnist": 0.01, "cifar": 0.05, "random": 0.05},
       "paper": {"mnist": 0.01, "cifar": 0.01, "random": 0.01}}
_SAVE = {"smoke": (0, 1, 3), "default": (0, 1, 2, 4, 8, 15, 30), "paper": (0, 1, 3, 10, 30, 100, 300, 1000)}


def zoo_config(entry: str, profile: str, seed: int = 0, *, fc1_width: int | None = None,
               lr: float | None = None, momentum: float = 0.0, weight_decay: float = 0.0) -> TrainConfig:
    """The training configuration of ``entry`` at ``profile`` with ``seed``.

    Args:
        entry: a key of :data:`ZOO`.
        profile: ``smoke``, ``default`` or ``paper``.
        seed: initialisation and minibatch-order seed.
        fc1_width: LeNet5's fc1 width m (Fig 5c's "LeNet5-(fc1-m)"; default 120, the paper's LeNet5).
        lr, momentum, weight_decay: the training schemes of Fig 9 (lr 0.001; momentum 0.9 with weight
            decay 5e-4). Default: the profile's learning rate, plain SGD.
    """
    _check(entry, profile)
    if fc1_width is not None and not entry.startswith("lenet5"):
        raise ValueError(f"fc1_width applies to the LeNet5 entries, not {entry!r}")
    if fc1_width is not None and (not isinstance(fc1_width, int) or fc1_width < 1):
        raise ValueError(f"fc1_width must be a positive integer, got {fc1_width!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    data, _ = _data(entry, profile)
    model, kwargs, _ = _model(entry, profile, fc1_width)
    kind = "mnist" if entry.startswith("f200") else ("random" if entry == "lenet5_random_labels" else "cifar")
    epochs = _EPOCHS[profile][kind]
    save = tuple(e for e in _SAVE[profile] if e <= epochs)
    return TrainConfig(model=model, model_kwargs=kwargs, data=data, epochs=epochs,
                       lr=_LR[profile][kind] if lr is None else float(lr), batch_size=128,
                       momentum=momentum, weight_decay=weight_decay, schedule="constant",
                       seed=seed, save_epochs=save)


def describe(entry: str, profile: str, *, fc1_width: int | None = None) -> dict[str, Any]:
    """What the paper trained and what ``profile`` trains instead, for a figure's JSON (``stand_in`` is
    True whenever the data or the network differ from the paper's)."""
    _check(entry, profile)
    _, data_note = _data(entry, profile)
    _, _, model_note = _model(entry, profile, fc1_width)
    cfg = zoo_config(entry, profile, fc1_width=fc1_width)
    return {"paper_model": ZOO[entry].paper_name, "paper_data": ZOO[entry].paper_data, "model": model_note,
            "data": data_note, "epochs": cfg.epochs, "lr": cfg.lr, "batch_size": cfg.batch_size,
            "init": INIT, "seeds": zoo_seeds(entry, profile), "stand_in": profile != "paper",
            "note": "CIFAR-10 is a lossy JPEG q75 copy" if not entry.startswith("f200") else ""}


def trained(config: TrainConfig | Mapping[str, Any], epoch: int | str = "final", *, progress: bool = False,
            device: str | None = None) -> tuple[nn.Module, LabelledData, dict[str, Any]]:
    """(model in eval mode, its training data, training history) of ``config`` after ``epoch`` epochs;
    trains first when no checkpoint exists (cached by the full configuration)."""
    _, history = train(config, device=device, progress=progress)
    model = load_checkpoint(config, epoch, device=device)
    data, _ = prepare_data(config.data if isinstance(config, TrainConfig) else config["data"], device=device)
    return model, data, history
