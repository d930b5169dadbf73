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
from typing import Any, Mapping, Sequence

from torch import nn

from ...data import LabelledData
from ...training import TrainConfig, load_checkpoint, prepare_data, train

__all__ = ["ZOO", "ZooEntry", "zoo_config", "zoo_seeds", "trained", "describe", "PROFILES", "FNET_DATASETS",
           "fnet_name", "UNIFORM_WIDTH"]

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
    # Tables 6, 8 and 10 (inventory 000 §C1 P3-P8, P14, P15): any F-n^m, LeNet5 on MNIST(-R)
    ZooEntry("fnet", "F-n^m", "MNIST (60,000) or CIFAR-10 (50,000), optionally with random labels",
             "fully connected ReLU net with hidden widths [n] * m (zoo_config(..., widths=, dataset=, batch_norm=)); "
             "Tables 6, 8, 10"),
    ZooEntry("lenet5_mnist", "LeNet5 on MNIST", "MNIST (60,000)",
             "LeNet5 with one input channel, 28x28 images zero-padded to 32x32 by conv1 (400 fc1 inputs); Table 10"),
    ZooEntry("lenet5_mnist_random_labels", "LeNet5 on MNIST-R", "MNIST with random labels",
             "LeNet5 (padded MNIST input) trained on randomly labelled MNIST images; Table 10"),
    # Fig 1a (right), Tables 6-7 VGG/ResNet rows (inventory 000 §C1 P17-P19, §C2 dz-VGG, dz-RN)
    ZooEntry("vgg11_w", "VGG11-Wk", "CIFAR-10 (50,000) or CIFAR-100 (50,000)",
             "VGG-A layout of uniform width k, one classifier layer fc1 (zoo_config(..., width=k)); Tables 6, 7"),
    ZooEntry("resnet18_w", "ResNet18-Wk", "CIFAR-100 (50,000)",
             "ResNet18 of uniform width k without BN, conv1-conv17, sc-conv1-3, fc1 (zoo_config(..., width=k)); "
             "Fig 1a, Tables 6, 7"),
]}

# Seeds per profile: the paper trains 5 models per configuration (§5.1, App E.2); the CPU zoo trains
# 3 LeNet5s and 2 of the others (inventory 000 §C2).
_SEEDS = {
    "smoke": {"f200": 2, "f200_bn": 2, "lenet5": 2, "lenet5_bn": 2, "lenet5_random_labels": 1},
    "default": {"f200": 3, "f200_bn": 2, "lenet5": 3, "lenet5_bn": 2, "lenet5_random_labels": 1},
    "paper": {"f200": 5, "f200_bn": 3, "lenet5": 5, "lenet5_bn": 3, "lenet5_random_labels": 1},
}
# The extra networks of Tables 6, 8, 10: F-n^m 5 runs at paper (Table 6 caption; Table 8: 3, the notebook takes the
# first 3), 2 at default (inventory §C2 "2 seeds for the extra rows"), 1 at smoke; Table 10 trains one model per
# column (seeds not stated, 1 [inferred]).
for _p, _n in (("smoke", 1), ("default", 2), ("paper", 5)):
    _SEEDS[_p].update({"fnet": _n, "lenet5_mnist": 1, "lenet5_mnist_random_labels": 1, "vgg11_w": _n, "resnet18_w": max(_n, 2)})  # Fig 1a needs a pair
del _p, _n


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
               lr: float | None = None, momentum: float = 0.0, weight_decay: float = 0.0,
               widths: Sequence[int] | None = None, dataset: str | None = None,
               batch_norm: bool | None = None, width: int | None = None) -> TrainConfig:
    """The training configuration of ``entry`` at ``profile`` with ``seed``.

    Args:
        entry: a key of :data:`ZOO`.
        profile: ``smoke``, ``default`` or ``paper``.
        seed: initialisation and minibatch-order seed.
        fc1_width: LeNet5's fc1 width m (Fig 5c's "LeNet5-(fc1-m)"; default 120, the paper's LeNet5).
        lr, momentum, weight_decay: the training schemes of Fig 9 (lr 0.001; momentum 0.9 with weight
            decay 5e-4). Default: the profile's learning rate, plain SGD.
        widths, dataset, batch_norm: the ``fnet`` entry only (:func:`_fnet_config`): hidden widths (required,
            e.g. ``[600, 600]`` for F-600^2), one of :data:`FNET_DATASETS` (default ``"mnist"``), BatchNorm1d
            (affine=False) after each hidden ReLU (default False).
        width: the ``vgg11_w`` / ``resnet18_w`` entries only (:func:`_uniform_width_config`): the uniform width k
            (default: the profile's stand-in width, :data:`UNIFORM_WIDTH`).
    """
    _check(entry, profile)
    if entry != "fnet" and (widths is not None or dataset is not None or batch_norm is not None):
        raise ValueError(f"widths, dataset and batch_norm apply to the 'fnet' entry, not {entry!r}")
    if width is not None and entry not in _UNIFORM:
        raise ValueError(f"width applies to the {' and '.join(repr(e) for e in _UNIFORM)} entries, not {entry!r}")
    if entry in _UNIFORM:
        if fc1_width is not None:
            raise ValueError(f"fc1_width applies to the LeNet5 entries, not {entry!r} (use width)")
        return _uniform_width_config(entry, profile, seed, width=width, lr=lr, momentum=momentum,
                                     weight_decay=weight_decay)
    if entry in _EXTRA:
        return _EXTRA[entry](entry, profile, seed, fc1_width=fc1_width, lr=lr, momentum=momentum,
                             weight_decay=weight_decay, widths=widths, dataset=dataset, batch_norm=batch_norm)
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


def describe(entry: str, profile: str, *, fc1_width: int | None = None, **extra: Any) -> dict[str, Any]:
    """What the paper trained and what ``profile`` trains instead, for a figure's JSON (``stand_in`` is
    True whenever the data or the network differ from the paper's). ``fnet``: pass ``widths``, ``dataset``,
    ``batch_norm`` (and ``paper_widths``, the paper's widths a width-reduced stand-in replaces)."""
    _check(entry, profile)
    if entry in _UNIFORM:
        return _describe_uniform(entry, profile, **extra)
    if entry in _EXTRA or extra:
        return _describe_extra(entry, profile, fc1_width=fc1_width, **extra)
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


# ------------------------------------------------------------------------------------------------
# Extra networks of Tables 6, 8 and 10: F-n^m on MNIST / CIFAR-10 (optionally random labels, optionally BN) and
# LeNet5 on MNIST / MNIST-R. The old entries above keep their configurations (and checkpoint hashes).
#
# Stated by the paper: the architectures (F-n^m = n-wide hidden layers, m of them, ReLU; LeNet5 of Table 4; BN
# after each hidden ReLU with affine=False, Table 5), SGD batch 128, lr 0.01, 1000 epochs (App D.2), the full
# training sets, 5 runs per Table 6 row, 3 per Table 8 row. Ours (inventory 000 §C2, §D): the default subsets
# (MNIST 1,000 per class, CIFAR-10 800 per class; random-label sets 200 per class trained to memorisation as the
# zoo's CIFAR10-R LeNet5), 30 epochs (150 for random labels), 2 seeds, the default learning rates (0.01 for the
# F-nets as the zoo's F-200^2; 0.05 for LeNet5 and random labels as the zoo's LeNet5s), checkpoints at 0 and the
# end for the F-nets, the 2-pixel zero padding of MNIST for LeNet5 [inferred], input normalisation (§D).

FNET_DATASETS: tuple[str, ...] = ("mnist", "mnist_random_labels", "cifar10", "cifar10_random_labels")


def fnet_name(widths: Sequence[int], batch_norm: bool = False) -> str:
    """The paper's name of a fully connected net: ``[600, 600]`` -> ``F-600^2`` (``-BN`` appended); unequal
    widths are listed (``F-(300,200)``)."""
    w = [int(v) for v in widths]
    name = f"F-{w[0]}^{len(w)}" if len(set(w)) == 1 else "F-(" + ",".join(map(str, w)) + ")"
    return name + ("-BN" if batch_norm else "")


def _fnet_widths(widths: Sequence[int] | None) -> list[int]:
    if widths is None or isinstance(widths, (str, bytes)):
        raise ValueError(f"the 'fnet' entry needs widths, a non-empty list of positive integers, got {widths!r}")
    out = list(widths)
    if not out or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in out):
        raise ValueError(f"widths must be a non-empty list of positive integers, got {widths!r}")
    return out


def _extra_data(dataset: str, profile: str) -> tuple[dict[str, Any], str, str]:
    """(data spec, note, epoch/lr kind) of an extra network's dataset at ``profile``."""
    if dataset not in FNET_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(FNET_DATASETS)}")
    rand = dataset.endswith("_random_labels")
    if dataset.startswith("mnist"):
        spec: dict[str, Any] = {"name": "mnist", "normalize": _MNIST_NORM}
        label = "MNIST-R (random labels)" if rand else "MNIST"
    else:
        spec = {"name": "cifar10", "normalize": "standardize"}
        label = "CIFAR-10-R (JPEG q75 copy, random labels)" if rand else "CIFAR-10 (JPEG q75 copy)"
    if rand:
        spec["random_labels"] = 1.0
    if profile == "paper":
        return spec, f"{label}, all training images (as the paper)", "random" if rand else "mnist"
    if profile == "smoke":
        spec["per_class"] = 30
    else:
        spec["per_class"] = 200 if rand else (1000 if dataset == "mnist" else 800)
    n = spec["per_class"] * 10
    return spec, f"{label}, {n:,} training images ({spec['per_class']} per class; ours)", "random" if rand else "extra"


# epochs and learning rates of the extra networks (kind "extra" = true labels at smoke/default; at paper the
# kinds map onto _EPOCHS/_LR's 1000 epochs at 0.01)
_EXTRA_EPOCHS = {"smoke": {"extra": 3, "random": 3}, "default": {"extra": 30, "random": 150}}
_EXTRA_LR_FNET = {"smoke": {"extra": 0.05, "random": 0.05}, "default": {"extra": 0.01, "random": 0.05}}
_EXTRA_LR_LENET = {"smoke": {"extra": 0.05, "random": 0.05}, "default": {"extra": 0.05, "random": 0.05}}


def _seed_ok(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _fnet_config(entry: str, profile: str, seed: int, *, fc1_width: int | None, lr: float | None, momentum: float,
                 weight_decay: float, widths: Sequence[int] | None, dataset: str | None,
                 batch_norm: bool | None) -> TrainConfig:
    """F-n^m: ``widths`` honoured at every profile (a notebook chooses its stand-in widths). The MNIST
    configuration at smoke/default equals the zoo's F-200^2 one with other widths (smoke: 7x7 average-pooled
    inputs; default: 30 epochs instead of 60, checkpoints at 0 and 30, i.e. ``mlp.fnet_config(widths, 'default',
    seed, epochs=30)``, the Fig 8 networks). CIFAR-10 inputs are flattened (3072)."""
    if fc1_width is not None:
        raise ValueError("fc1_width applies to the LeNet5 entries, not 'fnet' (use widths)")
    _seed_ok(seed)
    w = _fnet_widths(widths)
    ds = "mnist" if dataset is None else dataset
    bn = bool(batch_norm) if batch_norm is not None else False
    spec, _, kind = _extra_data(ds, profile)
    if ds == "mnist" and profile != "paper":
        base = zoo_config("f200_bn" if bn else "f200", profile, seed)   # F-200^2's data, inputs, lr
        data, in_dim = dict(base.data), base.model_kwargs["in_dim"]
        epochs, rate = (base.epochs, base.lr) if profile == "smoke" else (30, base.lr)
    else:
        data, in_dim = spec, 784 if ds.startswith("mnist") else 3072
        if profile == "paper":
            epochs, rate = _EPOCHS["paper"]["mnist"], _LR["paper"]["mnist"]
        else:
            epochs, rate = _EXTRA_EPOCHS[profile][kind], _EXTRA_LR_FNET[profile][kind]
    kwargs = {"in_dim": in_dim, "widths": w, "num_classes": 10, "batch_norm": bn, "init": INIT}
    save = tuple(e for e in _SAVE["paper"] if e <= epochs) if profile == "paper" else (0, epochs)
    return TrainConfig(model="mlp", model_kwargs=kwargs, data=data, epochs=epochs,
                       lr=rate if lr is None else float(lr), batch_size=128, momentum=momentum,
                       weight_decay=weight_decay, schedule="constant", seed=seed, save_epochs=save)


def _lenet5_mnist_config(entry: str, profile: str, seed: int, *, fc1_width: int | None, lr: float | None,
                         momentum: float, weight_decay: float, widths: Any, dataset: Any,
                         batch_norm: Any) -> TrainConfig:
    """LeNet5 on 28x28 MNIST(-R), conv1 zero padding 2 (input_size=28; not stated by the paper, inventory §D)."""
    if fc1_width is not None and (isinstance(fc1_width, bool) or not isinstance(fc1_width, int) or fc1_width < 1):
        raise ValueError(f"fc1_width must be a positive integer, got {fc1_width!r}")
    _seed_ok(seed)
    ds = "mnist_random_labels" if entry.endswith("_random_labels") else "mnist"
    data, _, kind = _extra_data(ds, profile)
    m = 120 if fc1_width is None else int(fc1_width)
    kwargs = {"in_channels": 1, "num_classes": 10, "batch_norm": False, "fc_widths": [m, 84], "input_size": 28,
              "init": INIT}
    if profile == "paper":
        epochs, rate = _EPOCHS["paper"]["mnist"], _LR["paper"]["mnist"]
    else:
        epochs, rate = _EXTRA_EPOCHS[profile][kind], _EXTRA_LR_LENET[profile][kind]
    save = tuple(e for e in _SAVE[profile] if e <= epochs)
    if epochs not in save:
        save = save + (epochs,)
    return TrainConfig(model="lenet5", model_kwargs=kwargs, data=data, epochs=epochs,
                       lr=rate if lr is None else float(lr), batch_size=128, momentum=momentum,
                       weight_decay=weight_decay, schedule="constant", seed=seed, save_epochs=save)


_EXTRA = {"fnet": _fnet_config, "lenet5_mnist": _lenet5_mnist_config,
          "lenet5_mnist_random_labels": _lenet5_mnist_config}


def _describe_extra(entry: str, profile: str, *, fc1_width: int | None = None, widths: Sequence[int] | None = None,
                    dataset: str | None = None, batch_norm: bool | None = None,
                    paper_widths: Sequence[int] | None = None) -> dict[str, Any]:
    if entry not in _EXTRA:
        raise ValueError(f"widths, dataset, batch_norm and paper_widths apply to the 'fnet' entry, not {entry!r}")
    cfg = zoo_config(entry, profile, fc1_width=fc1_width, widths=widths, dataset=dataset, batch_norm=batch_norm)
    if entry == "fnet":
        ds = dataset or "mnist"
        bn = bool(batch_norm)
        name = fnet_name(cfg.model_kwargs["widths"], bn)
        paper_name = fnet_name(paper_widths if paper_widths is not None else widths, bn)
        reduced = paper_name != name
        model_note = (f"{name} on {cfg.model_kwargs['in_dim']} inputs"
                      + (f" (width-reduced stand-in for {paper_name}, ours)" if reduced else " (the paper's architecture)"))
    else:
        ds = "mnist_random_labels" if entry.endswith("_random_labels") else "mnist"
        m = 120 if fc1_width is None else int(fc1_width)
        name = paper_name = "LeNet5" + (f"-(fc1-{m})" if m != 120 else "")
        reduced = False
        model_note = f"{name}, 1 input channel, 28x28 zero-padded to 32x32 (padding [inferred])"
    _, data_note, _ = _extra_data(ds, profile)
    if ds == "mnist" and entry == "fnet" and profile == "smoke":
        data_note = "MNIST, 500 images (50 per class) average-pooled to 7x7 (smoke scale)"
    paper_data = {"mnist": "MNIST (60,000)", "mnist_random_labels": "MNIST-R (60,000, random labels)",
                  "cifar10": "CIFAR-10 (50,000)", "cifar10_random_labels": "CIFAR-10-R (50,000, random labels)"}[ds]
    return {"paper_model": paper_name, "paper_data": paper_data, "model": model_note, "data": data_note,
            "epochs": cfg.epochs, "lr": cfg.lr, "batch_size": cfg.batch_size, "init": INIT,
            "seeds": zoo_seeds(entry, profile), "stand_in": profile != "paper" or reduced, "width_reduced": reduced,
            "note": "CIFAR-10 is a lossy JPEG q75 copy" if ds.startswith("cifar") else ""}


# ------------------------------------------------------------------------------------------------
# VGG11-Wk and ResNet18-Wk (Fig 1a right, Tables 6-7; the width families of Figs 5, 10-13 are a later issue).
#
# Stated by the paper: the uniform-width layouts (Fig 5, App E.2.2; :func:`hessian_spectra.models.vgg11_w`,
# :func:`hessian_spectra.models.resnet18` with ``width``), no BN for ResNet18-Wk, CIFAR-100 for ResNet18-Wk and for
# VGG11-W48/64/80, CIFAR-10 for VGG11-W32/W64/W200, SGD batch 128, lr 0.01, 1000 epochs, 5 runs. Ours (inventory 000
# §C2 dz-VGG, dz-RN): CIFAR-10 stands in for CIFAR-100 (no offline copy; 10 classes, labelled in every description),
# the widths 16 (VGG11) and 8 (ResNet18) at default, 4 and 2 at smoke (the inventory's CPU design); 4,000 images
# (400 per class) for 30 epochs at learning rate 0.05 as the zoo's CIFAR-10 LeNet5s. The inventory proposed 2,000
# images and 20-30 epochs: measured here, both stand-ins then end at train loss 2.0 (accuracy 0.24-0.28, 480 steps of
# plain SGD from Xavier initialisation without BN), barely trained; 4,000 images double the steps at 2x the cost.
# At paper the widths are the paper's (the notebook picks them) but the data stay CIFAR-10 (10 classes).

_UNIFORM = ("vgg11_w", "resnet18_w")
#: the stand-in width k per profile (ours, inventory 000 §C2); the paper's are 32-200 (VGG11) and 48-80 (ResNet18)
UNIFORM_WIDTH = {"smoke": {"vgg11_w": 4, "resnet18_w": 2}, "default": {"vgg11_w": 16, "resnet18_w": 8},
                 "paper": {"vgg11_w": 64, "resnet18_w": 64}}
_UNIFORM_EPOCHS = {"smoke": {"vgg11_w": 3, "resnet18_w": 3}, "default": {"vgg11_w": 30, "resnet18_w": 30},
                   "paper": {"vgg11_w": 1000, "resnet18_w": 1000}}
_UNIFORM_LR = {"smoke": 0.05, "default": 0.05, "paper": 0.01}
_UNIFORM_PER_CLASS = {"smoke": 30, "default": 400, "paper": None}


def _uniform_width(entry: str, profile: str, width: int | None) -> int:
    if width is None:
        return UNIFORM_WIDTH[profile][entry]
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    return width


def _uniform_width_config(entry: str, profile: str, seed: int, *, width: int | None, lr: float | None,
                          momentum: float, weight_decay: float) -> TrainConfig:
    _seed_ok(seed)
    k = _uniform_width(entry, profile, width)
    data: dict[str, Any] = {"name": "cifar10", "normalize": "standardize"}
    if _UNIFORM_PER_CLASS[profile] is not None:
        data["per_class"] = _UNIFORM_PER_CLASS[profile]
    if entry == "vgg11_w":
        model, kwargs = "vgg11_w", {"width": k, "num_classes": 10, "init": INIT}
    else:
        model, kwargs = "resnet18", {"width": k, "num_classes": 10, "batch_norm": False, "init": INIT}
    epochs = _UNIFORM_EPOCHS[profile][entry]
    return TrainConfig(model=model, model_kwargs=kwargs, data=data, epochs=epochs,
                       lr=_UNIFORM_LR[profile] if lr is None else float(lr), batch_size=128, momentum=momentum,
                       weight_decay=weight_decay, schedule="constant", seed=seed, save_epochs=(0, epochs))


def _describe_uniform(entry: str, profile: str, *, width: int | None = None,
                      paper_name: str | None = None) -> dict[str, Any]:
    cfg = _uniform_width_config(entry, profile, 0, width=width, lr=None, momentum=0.0, weight_decay=0.0)
    k = cfg.model_kwargs["width"]
    name = ("VGG11" if entry == "vgg11_w" else "ResNet18") + f"-W{k}"
    per = _UNIFORM_PER_CLASS[profile]
    data = ("CIFAR-10 (JPEG q75 copy), " + (f"{10 * per:,} training images ({per} per class; ours)" if per
                                          else "all 50,000 training images"))
    return {"paper_model": paper_name or ZOO[entry].paper_name, "paper_data": ZOO[entry].paper_data,
            "model": f"{name}" + (", no BN" if entry == "resnet18_w" else "") + " (the paper's layout at width "
                     f"{k}{'' if profile == 'paper' else ', a width-reduced stand-in (ours)'})",
            "data": data + ("; CIFAR-10 stands in for CIFAR-100 (no offline copy)" if entry == "resnet18_w" else ""),
            "epochs": cfg.epochs, "lr": cfg.lr, "batch_size": cfg.batch_size, "init": INIT,
            "seeds": zoo_seeds(entry, profile), "stand_in": True, "width": k,
            "note": "CIFAR-10 is a lossy JPEG q75 copy; the paper's ResNet18-Wk and VGG11-W48/64/80 used CIFAR-100"}
