"""Network-side experiments of Granziol (2020), "Beyond Random Matrix Theory for Deep Networks".

Used by the notebooks ``notebooks/beyond_rmt/*``:

- the training configurations of the paper's networks and of their stand-ins per profile
  (:func:`training_config`; inventory 004 §C);
- cached stem-plot spectra (Ritz values theta_j and Gauss weights rho_j of one Lanczos run, App B
  eq 13) of H, G or R for a trained network identified by its :class:`~hessian_spectra.training.TrainConfig`
  (:func:`network_spectrum`), and dense spectra of smoke-sized networks (:func:`exact_spectrum`);
- the dense Hessian of multinomial logistic regression by Kronecker blocks (Fig 5a,b) and Hessian rows
  H e_j (Fig 5c,d); the parameter counts of the paper's VGG-16s (S39);
- plotting helpers shared by the notebooks (:func:`plot_stem`, :func:`max_pool_abs`).

What is measured on these spectra is in :mod:`.metrics`; the verdicts on the paper's claims in :mod:`.claims`.
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ...hessian import CurvatureOperator, ggn_operator, hessian_operator, lanczos, residual_operator
from ...pipeline.cache import cached
from ...training import TrainConfig, as_train_config, load_checkpoint, loss_function, prepare_data, train
from ...utils import default_device

__all__ = [
    "KINDS", "RUN_IDS", "curvature_operator", "network_spectrum", "exact_spectrum", "training_config",
    "cifar100_available", "lr_dense_hessian", "hessian_rows", "parameter_names_at", "vgg16_parameter_counts",
    "plot_stem", "max_pool_abs", "stand_in_title", "eq11_product_moduli",
]

KINDS: tuple[str, ...] = ("hessian", "ggn", "residual")


def curvature_operator(model: nn.Module, data: Any, kind: str, loss: str = "cross_entropy",
                       batch_size: int | None = 1000) -> CurvatureOperator:
    """H (``hessian``), G (``ggn``) or R = H - G (``residual``) of the mean training loss over ``data``
    (weight decay excluded), batch norm in eval mode (inventory 004 §E28: the [23] code used batch
    statistics; we use the running statistics, so the operator is one fixed matrix)."""
    if kind not in KINDS:
        raise ValueError(f"unknown curvature kind {kind!r}; known: {', '.join(KINDS)}")
    fn = loss_function(loss)
    if kind == "hessian":
        return hessian_operator(model, fn, data, batch_size=batch_size)
    if kind == "ggn":
        return ggn_operator(model, fn, data, batch_size=batch_size)
    return residual_operator(model, fn, data, batch_size=batch_size)


def _network_spectrum(config: dict[str, Any], epoch: Any, kind: str, num_steps: int, seed: int,
                      batch_size: int | None, device: str, dtype: str | None, cpu_threads: int) -> dict[str, Any]:
    # cpu_threads is part of the cache key only (see network_spectrum)
    cfg = as_train_config(config)
    train(cfg, device=device, progress=False)  # no-op when cached
    model = load_checkpoint(cfg, epoch, device=device)
    if dtype is not None:
        model = model.to(getattr(torch, dtype))
    data, _ = prepare_data(cfg.data, device=device)  # the un-augmented training set
    op = curvature_operator(model, data, kind, cfg.loss, batch_size)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    v0 = torch.randn(op.shape[0], generator=gen, dtype=torch.float64).to(device=op.device, dtype=op.dtype)
    t0 = time.perf_counter()
    res = lanczos(op, num_steps, v0=v0 / v0.norm(), keep_basis=False, progress=False)
    return {"nodes": res.ritz_values, "weights": res.weights, "P": op.shape[0], "N": len(data),
            "num_steps": res.num_steps, "seconds": time.perf_counter() - t0, "kind": kind, "epoch": epoch,
            "breakdown": res.breakdown}


def network_spectrum(config: TrainConfig | Mapping[str, Any], epoch: int | str = "final", kind: str = "hessian",
                     num_steps: int = 100, seed: int = 0, batch_size: int | None = 1000,
                     device: str | torch.device | None = None, dtype: str | None = None,
                     cache: bool = True) -> dict[str, Any]:
    """Stem-plot spectrum of H, G or R of a trained network: one Lanczos run of ``num_steps`` steps with
    full reorthogonalisation from a seeded Gaussian start vector (Beyond-RMT App B; m = 100 and one vector
    as in [23]/[24], inventory 004 §E24). Trains the network first if needed (cached by
    :func:`hessian_spectra.training.train`), and caches the result with ``joblib`` (keyed by all
    arguments and by torch's CPU thread count: float32 products on a CPU depend on it at rounding level,
    e.g. 1e-6 relative on interior Ritz values after 60 steps, so a result computed by a notebook running
    with another thread count is not served as this one's).

    Returns ``{"nodes": theta (ascending), "weights": rho (sum 1), "P", "N", "num_steps", "seconds", ...}``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown curvature kind {kind!r}; known: {', '.join(KINDS)}")
    cfg = as_train_config(config)
    if not cfg.data:
        raise ValueError("network_spectrum needs a config whose 'data' spec names the training set")
    if epoch != "final" and epoch not in cfg.save_epochs:
        raise ValueError(f"epoch {epoch!r} is not in save_epochs {list(cfg.save_epochs)} of the config")
    dev = str(torch.device(device) if device is not None else default_device())
    fn = cached(_network_spectrum) if cache else _network_spectrum
    threads = torch.get_num_threads() if torch.device(dev).type == "cpu" else 0
    return fn(cfg.to_dict(), epoch, kind, int(num_steps), int(seed), batch_size, dev, dtype, threads)


@torch.no_grad()
def lr_dense_hessian(weight: Tensor, bias: Tensor, x: Tensor, chunk: int = 10000,
                     dtype: torch.dtype = torch.float32) -> Tensor:
    """Dense Hessian of the mean cross-entropy of multinomial logistic regression z = W x + b.

    H = (1/N) sum_i (diag p_i - p_i p_i^T) kron x~_i x~_i^T with x~ = [x; 1] and p_i = softmax(z_i)
    (inventory 004 §F Fig 5). Built block by block: H_{cc'} = X~^T diag(p_c (delta_cc' - p_c')) X~ / N over
    the 55 class pairs c <= c', then reordered to PyTorch's parameter order (``weight`` (C, d) row-major,
    then ``bias`` (C,)), i.e. index c*d + k for W[c, k] and C*d + c for b[c]. For a linear model the
    Residual vanishes, so H = G exactly. Memory: P^2 entries of ``dtype``.
    """
    C, d = weight.shape
    xs = x.reshape(x.shape[0], -1).to(dtype)
    if xs.shape[1] != d:
        raise ValueError(f"inputs have {xs.shape[1]} features; the weight expects {d}")
    n = xs.shape[0]
    blocks = torch.zeros(C, C, d + 1, d + 1, dtype=dtype)
    Wd, bd = weight.to(dtype), bias.to(dtype)
    for s in range(0, n, chunk):
        xb = xs[s:s + chunk]
        p = torch.softmax(xb @ Wd.T + bd, dim=1)
        xt = torch.cat([xb, torch.ones(xb.shape[0], 1, dtype=dtype)], dim=1)  # (b, d+1)
        for c in range(C):
            for c2 in range(c, C):
                a = p[:, c] * ((1.0 if c == c2 else 0.0) - p[:, c2])
                blocks[c, c2] += xt.T @ (xt * a[:, None])
    for c in range(C):
        for c2 in range(c):
            blocks[c, c2] = blocks[c2, c].T
    # class-major augmented order (c, k), k = d meaning the bias -> PyTorch order
    H = blocks.permute(0, 2, 1, 3).reshape(C * (d + 1), C * (d + 1))
    del blocks
    cls = torch.arange(C).repeat_interleave(d + 1)
    k = torch.arange(d + 1).repeat(C)
    new_index = torch.where(k < d, cls * d + k, C * d + cls)
    perm = torch.empty_like(new_index)
    perm[new_index] = torch.arange(C * (d + 1))
    H = H[perm][:, perm]
    return H / n


def hessian_rows(op: CurvatureOperator, indices: Sequence[int]) -> Tensor:
    """Rows H e_j (= columns, H symmetric) for parameter indices j, as a (len(indices), P) tensor, from one
    multi-vector product (one pass over the data)."""
    P = op.shape[0]
    idx = torch.as_tensor(list(indices), dtype=torch.long)
    if idx.numel() == 0 or int(idx.min()) < 0 or int(idx.max()) >= P:
        raise ValueError(f"row indices must lie in 0..{P - 1}, got {list(indices)[:5]}...")
    E = torch.zeros(P, idx.numel(), dtype=op.dtype, device=op.device)
    E[idx.to(op.device), torch.arange(idx.numel(), device=op.device)] = 1.0
    return (op @ E).T


def plot_stem(ax, nodes: Sequence[float], weights: Sequence[float], label: str | None = None,
              color: str = "C0", log: bool = True) -> None:
    """The papers' stem plot: Ritz values theta_j (x) against Gauss weights rho_j (y, log scale)."""
    th = np.asarray(nodes, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    base = max(w[w > 0].min() / 10.0, 1e-300) if log else 0.0
    ax.vlines(th, base, w, colors=color, lw=1.0, label=label)
    ax.plot(th, w, "o", color=color, ms=2.5)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=base)
    ax.set_xlabel("eigenvalue (Ritz value $\\theta_j$)")
    ax.set_ylabel("spectral weight $\\rho_j$")


def eq11_product_moduli(n: int, ratio: float, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Eigenvalue moduli of X_1 X_2 with X_1 (n x K) and X_2 (K x n) Gaussian, entries of variance 1/K and 1/n,
    K = int(ratio n) (eq 11, L = 2; disc radius 1): ``(|z| of the min(n, K) eigenvalues that are not forced
    to 0, sorted; n_zero = max(0, n - K))``. For K < n the non-zero eigenvalues are those of X_2 X_1 (K x K),
    so the n - K exact zeros of the n x n product are counted, not computed."""
    K = int(ratio * n)
    if K < 1:
        raise ValueError(f"ratio * n must be >= 1, got {ratio} * {n}")
    x1 = rng.standard_normal((n, K)) / np.sqrt(K)
    x2 = rng.standard_normal((K, n)) / np.sqrt(n)
    z = np.abs(np.linalg.eigvals(x2 @ x1 if K < n else x1 @ x2))
    return np.sort(z), max(0, n - K)


def max_pool_abs(matrix: Tensor, pixels: int) -> np.ndarray:
    """max |M_ij| over square blocks, so that a P x P matrix fits a heatmap of about ``pixels`` x ``pixels``
    (Fig 5a; display only: every block shows its largest element)."""
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or pixels < 1:
        raise ValueError(f"a square matrix and pixels >= 1 are needed, got shape {tuple(matrix.shape)}, pixels {pixels}")
    f = int(np.ceil(matrix.shape[0] / pixels))
    n = int(np.ceil(matrix.shape[0] / f)) * f
    padded = torch.zeros(n, n, dtype=matrix.dtype)
    padded[: matrix.shape[0], : matrix.shape[1]] = matrix.abs()
    return padded.reshape(n // f, f, n // f, f).amax(dim=(1, 3)).numpy()


# ---------------------------------------------------------------------------------------------
# The paper's training configurations (inventory 004 §C1) and their stand-ins per profile (§C2, §C3)

IMAGENET_NORMALIZATION = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}  # [ext] SWA VGG
CIFAR_NORMALIZATION = {"mean": [0.4914, 0.4822, 0.4465], "std": [0.2023, 0.1994, 0.2010]}  # [ext] SWA PreResNet

RUN_IDS: tuple[str, ...] = ("vgg16bn_c100", "preresnet110_c100", "vgg16_c100", "vgg16_c10", "lr_mnist")

_PAPER_MODELS = {
    "vgg16bn_c100": "VGG-16BN on CIFAR-100 (P1: Fig 1a, Fig 5 'with BN')",
    "preresnet110_c100": "PreResNet-110 on CIFAR-100 (P2: Fig 1c)",
    "vgg16_c100": "VGG-16 without BN on CIFAR-100 (P3: Fig 2, Fig 3b, Fig 5 'without BN'; BN not stated, "
                  "inventory 004 §E19)",
    "vgg16_c10": "VGG-16 on CIFAR-10 without augmentation (P4: Figs 6, 7; BN not stated, §E27)",
    "lr_mnist": "multinomial logistic regression on MNIST (P5: Fig 5a,b)",
}

_CIFAR100_AVAILABLE: bool | None = None


def cifar100_available() -> bool:
    """Whether CIFAR-100 can be loaded (locally or by download); checked once per process."""
    global _CIFAR100_AVAILABLE
    if _CIFAR100_AVAILABLE is None:
        from ...data import load_dataset

        try:
            load_dataset("cifar100", "train")
            _CIFAR100_AVAILABLE = True
        except FileNotFoundError:
            _CIFAR100_AVAILABLE = False
    return _CIFAR100_AVAILABLE


def training_config(run: str, profile: str) -> tuple[TrainConfig, dict[str, Any]]:
    """The training configuration of run ``run`` (``RUN_IDS``) at ``profile``, and a description.

    The description says which network and dataset the paper used, what we use, and whether it is a
    stand-in (``{"paper": ..., "model": ..., "dataset_note": ..., "stand_in": bool}``). Shared by the three
    Beyond-RMT notebooks so that identical runs hit the same checkpoint cache.

    Settings stated by the paper (App A): SGD, alpha_0 = 0.1 for networks with BN and 0.05 for VGG-16
    without BN, weight decay 5e-4, schedule eq 12 with r = 0.01, T = 300 for CIFAR and 50 for the LR.
    Not stated (taken from [23]/[24] or inferred, inventory 004 §C1, §L5): momentum 0.9, batch 128,
    crop + flip augmentation for the CIFAR-100 runs, input normalisation, the LR learning rate (0.1) and
    batch size, the Fig 2 checkpoints {0, 25, 150, 300}.
    """
    if run not in RUN_IDS:
        raise ValueError(f"unknown run {run!r}; known: {', '.join(RUN_IDS)}")
    if profile not in ("smoke", "default", "paper"):
        raise ValueError(f"unknown profile {profile!r}; known: smoke, default, paper")
    bn = run in ("vgg16bn_c100", "preresnet110_c100")
    lr0 = 0.1 if bn else 0.05  # App A.1: 0.1 with batch norm, 0.05 for VGG-16 without
    if run == "lr_mnist":
        if profile == "smoke":
            data = {"name": "mnist", "per_class": 100, "pool": 4}  # 1000 images, 7 x 7 (inventory S5)
            kw = {"in_dim": 49, "num_classes": 10}
            model = "logistic regression on 7x7-pooled MNIST (500 parameters)"
        else:
            data = {"name": "mnist", "test": True}  # pixels in [0, 1], no normalisation (not stated, §D)
            kw = {"in_dim": 784, "num_classes": 10}
            model = "multinomial logistic regression, 7850 parameters (as the paper)"
        cfg = TrainConfig(model="logistic_regression", model_kwargs=kw, data=data,
                          epochs=20 if profile == "smoke" else 50,  # T = 50 (A.2)
                          lr=0.1,  # not stated by the paper (inventory 004 §C1 P5)
                          batch_size=1000,  # not stated; inventory 004 D5
                          save_epochs=())
        return cfg, {"paper": _PAPER_MODELS[run], "model": model, "stand_in": profile == "smoke",
                     "dataset_note": "MNIST (exact lossless copy)" + (", 1000 images pooled to 7x7" if profile == "smoke" else "")}
    save = {"vgg16_c100": (10, 50, 100), "vgg16_c10": (10, 50, 100)}.get(run, ())
    if profile == "smoke":
        # inventory 004 §C3 S1: MLP 49-16-10 (970 parameters) on 200 MNIST images pooled to 7x7, full batch
        widths = [16, 16] if run == "preresnet110_c100" else [16]  # a second, deeper smoke net for Fig 1c
        kw = {"in_dim": 49, "widths": widths, "num_classes": 10, "batch_norm": bn}
        cfg = TrainConfig(model="mlp", model_kwargs=kw, data={"name": "mnist", "per_class": 20, "pool": 4},
                          epochs=300, lr=0.5, batch_size=None, dtype="float64",  # smoke choices, not the paper's
                          save_epochs=(30, 150, 300) if save else ())
        return cfg, {"paper": _PAPER_MODELS[run], "model": f"MLP 49-{'-'.join(map(str, widths))}-10{' with BN' if bn else ''} (smoke)",
                     "stand_in": True, "dataset_note": "MNIST, 200 images pooled to 7x7 (smoke scale), not CIFAR"}
    if profile == "default":
        data = {"name": "cifar10", "per_class": 100, "pool": 2, "normalize": "standardize",
                "test": True, "test_per_class": 100}  # inventory 004 §D default subset
        if run == "preresnet110_c100":
            model, kw = "preresnet", {"depth": 11, "num_classes": 10, "base_width": 4, "block": "bottleneck"}
            desc = "mini-PreResNet-11 (bottleneck, base width 4, 8,750 parameters; inventory D3)"
        else:
            model, kw = "mini_vgg", {"batch_norm": bn}
            desc = f"mini-VGG {'with' if bn else 'without'} BN ({15050 if bn else 14938:,} parameters; inventory " \
                   f"{'D1' if bn else 'D2'})"
        cfg = TrainConfig(model=model, model_kwargs=kw, data=data, epochs=100, lr=lr0, batch_size=128,
                          save_epochs=save)
        note = ("CIFAR-10 (JPEG q75 copy), 1000 training images (100 per class), 2x2 average-pooled to 16x16, "
                "standardised")
        if run != "vgg16_c10":
            note += "; standing in for CIFAR-100 (not the paper's dataset; C = 10 instead of 100)"
        return cfg, {"paper": _PAPER_MODELS[run], "model": desc + " standing in for the paper's network",
                     "stand_in": True, "dataset_note": note}
    # paper
    use_c100 = run != "vgg16_c10" and cifar100_available()
    name = "cifar100" if use_c100 else "cifar10"
    c = 100 if use_c100 else 10
    norm = CIFAR_NORMALIZATION if run == "preresnet110_c100" else IMAGENET_NORMALIZATION
    data = {"name": name, "normalize": norm, "test": True}
    if run == "preresnet110_c100":
        model, kw = "preresnet", {"depth": 110, "num_classes": c}
    else:
        model, kw = "vgg", {"depth": 16, "batch_norm": bn, "num_classes": c}
    cfg = TrainConfig(model=model, model_kwargs=kw, data=data, epochs=300, lr=lr0, batch_size=128,
                      augmentation="none" if run == "vgg16_c10" else "crop_flip",  # App C: none; others [ext]
                      save_epochs=(0, 25, 150, 300) if save else ())
    if run == "vgg16_c10":
        note = "CIFAR-10 (JPEG q75 copy; the paper used the original)"
    elif use_c100:
        note = "CIFAR-100"
    else:
        note = ("CIFAR-10 (JPEG q75 copy) standing in for CIFAR-100, which could not be loaded (not the "
                "paper's dataset; C = 10 instead of 100)")
    return cfg, {"paper": _PAPER_MODELS[run], "model": f"{model} {kw} (the paper's network)",
                 "stand_in": not use_c100 and run != "vgg16_c10", "dataset_note": note}


def stand_in_title(info: Mapping[str, Any]) -> str:
    """A line for a figure's title naming what stood in for the paper's network and data (``info`` from
    :func:`training_config`); empty when the paper's own network and data were used."""
    if not info.get("stand_in", False):
        return ""
    model = str(info["model"]).split(" (")[0]
    paper = str(info["paper"]).split(" (")[0]
    data = str(info["dataset_note"]).split(";")[0]
    return f"STAND-IN: {model} for the paper's {paper}; data: {data}"


def exact_spectrum(config: TrainConfig | Mapping[str, Any], epoch: int | str = "final", kind: str = "hessian",
                   device: str | torch.device = "cpu") -> np.ndarray:
    """All eigenvalues (ascending, float64) of H, G or R of a small trained network, from the dense matrix
    (only for smoke-sized models: P <= 5000)."""
    cfg = as_train_config(config)
    train(cfg, device=device, progress=False)
    model = load_checkpoint(cfg, epoch, device=device).double()
    if sum(p.numel() for p in model.parameters()) > 5000:
        raise ValueError("exact_spectrum is for small models (P <= 5000)")
    data, _ = prepare_data(cfg.data, device=device)
    op = curvature_operator(model, (data.x.double(), data.y), kind, cfg.loss, None)
    return torch.linalg.eigvalsh(op.to_dense()).cpu().numpy()


def vgg16_parameter_counts(num_classes: int = 100) -> list[int]:
    """Parameter counts of :func:`hessian_spectra.models.vgg` (the SWA/MLRG VGG-16, inventory 004 §E31) with and
    without batch norm, in that order (S39: the paper prints [15299748, 15291300] for 100 classes)."""
    from ...models import count_parameters, vgg

    return [count_parameters(vgg(16, batch_norm=True, num_classes=num_classes)),
            count_parameters(vgg(16, batch_norm=False, num_classes=num_classes))]


def parameter_names_at(model: nn.Module, indices: Sequence[int]) -> list[str]:
    """For flat parameter indices (in ``model.parameters()`` order), ``"<name>[<local index>]"``."""
    names, bounds = [], []
    total = 0
    for n, p in model.named_parameters():
        names.append(n)
        total += p.numel()
        bounds.append(total)
    out = []
    for i in indices:
        j = int(np.searchsorted(bounds, int(i), side="right"))
        out.append(f"{names[j]}[{int(i) - (bounds[j - 1] if j else 0)}]")
    return out
