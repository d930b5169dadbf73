"""The networks of the five papers, as plain ``torch.nn`` modules.

Every builder returns an ``nn.Module`` mapping a batch of inputs to logits (no softmax). All
activations are out-of-place (``inplace=False``) and residual additions are ``out = out + x`` so that
every model works with double backward and with ``torch.func`` transforms (HVPs, JVPs, vmap).

Sources of the architectures (the papers give few details; every unstated choice is marked
``# not stated by the paper`` where it is made):

- VGG and PreResNet follow the ``timgaripov/swa`` definitions ("ported from" torchvision and
  bearpaw/pytorch-classification), which the Granziol papers' spectral code uses. Inventory 004
  (§F Fig 1, §E31) and inventory 002 (fact 8) checked that they reproduce the paper's parameter
  counts exactly: VGG-16BN 15,299,748 and VGG-16 15,291,300 on CIFAR-100; PreResNet-110 1,169,972
  (CIFAR-100) and 1,146,842 (CIFAR-10).
- LeNet5 / LeNet5-BN follow Tables 4 and 5 of Wu et al. (2020) (inventory 000): 62,006 parameters on
  CIFAR-10.
- ResNet18 follows kuangliu/pytorch-cifar (the CIFAR adaptation Papyan 2020 and Wu et al. 2020 build on);
  ``resnet18(width=k)`` and ``vgg11_w(k)`` are Wu et al.'s uniform-width ResNet18-Wk and VGG11-Wk (inventory
  000, Fig 5: 610,340 and 266,788 parameters for k = 64, C = 100).
- ``mini_vgg`` and ``preresnet(depth=11, base_width=4)`` are the CPU stand-ins D1-D3 proposed by
  inventory 004 §C2 (15,050 / 14,938 / 8,750 parameters); they are never the paper's networks.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Sequence

import torch
from torch import nn

__all__ = [
    "mlp", "bn_mlp", "lenet5", "vgg", "mini_vgg", "preresnet", "resnet18", "vgg11_w", "logistic_regression", "deep_linear",
    "build_model", "builder_name", "count_parameters", "initialize", "INITIALIZATIONS", "MODEL_NAMES", "VGG_CFG",
]

# ---------------------------------------------------------------------------------------------
# Helpers

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(),
    "tanh": lambda: nn.Tanh(),
    "sigmoid": lambda: nn.Sigmoid(),
    "gelu": lambda: nn.GELU(),
    "softplus": lambda: nn.Softplus(),
    "elu": lambda: nn.ELU(),
    "leaky_relu": lambda: nn.LeakyReLU(),
    "identity": lambda: nn.Identity(),
    "linear": lambda: nn.Identity(),
}


def _activation(name: str) -> nn.Module:
    key = name.strip().lower()
    if key not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(_ACTIVATIONS)}")
    return _ACTIVATIONS[key]()


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int,)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _widths(widths: Sequence[int], what: str, allow_empty: bool = True) -> list[int]:
    if isinstance(widths, (int, str)) or not isinstance(widths, Sequence):
        raise ValueError(f"{what} must be a sequence of positive integers, got {widths!r}")
    out = [_positive_int(w, f"every entry of {what}") for w in widths]
    if not out and not allow_empty:
        raise ValueError(f"{what} must not be empty")
    return out


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters P of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _swa_conv_init(model: nn.Module) -> None:
    """The ``timgaripov/swa`` initialisation: conv weights N(0, 2/(k_h k_w C_out)), conv biases 0,
    BN gamma = 1, beta = 0; Linear layers keep PyTorch's default (Kaiming-uniform)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / n))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


# ---------------------------------------------------------------------------------------------
# Fully connected networks


def mlp(in_dim: int, widths: Sequence[int], num_classes: int, activation: str = "relu",
        bias: bool = True, batch_norm: bool = False) -> nn.Sequential:
    """Fully connected network F-n^m: ``Flatten -> [Linear -> act (-> BN)] x m -> Linear``.

    f(x) = W_{m+1} s(W_m ... s(W_1 x + b_1) ... + b_m) + b_{m+1} with s = ``activation``. Wu et al.'s
    F-n^m is ``mlp(784, [n] * m, 10)`` (e.g. F-200^2 on MNIST has 199,210 parameters).

    Args:
        in_dim: input dimension d_x (inputs of any shape are flattened first).
        widths: hidden widths n_1..n_m (may be empty: then this is a linear classifier).
        num_classes: output dimension C.
        activation: ``relu`` (default), ``tanh``, ``sigmoid``, ``gelu``, ``softplus``, ``elu``,
            ``leaky_relu`` or ``identity``.
        bias: whether the Linear layers have biases.
        batch_norm: Wu et al. (2020) App D.2 / inventory 000 Table 5: ``BatchNorm1d(affine=False)``
            after every hidden activation ("add batch normalization layer for each intermediate
            output after it passes the ReLU", learnable parameters turned off). Default False.

    PyTorch's default Linear initialisation (the papers do not state theirs).
    """
    in_dim = _positive_int(in_dim, "in_dim")
    num_classes = _positive_int(num_classes, "num_classes")
    hidden = _widths(widths, "widths")
    layers: list[nn.Module] = [nn.Flatten()]
    d = in_dim
    for w in hidden:
        layers += [nn.Linear(d, w, bias=bias), _activation(activation)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(w, affine=False))
        d = w
    layers.append(nn.Linear(d, num_classes, bias=bias))
    return nn.Sequential(*layers)


def bn_mlp(in_dim: int, widths: Sequence[int], num_classes: int) -> nn.Sequential:
    """Fully connected network with batch norm before every ReLU (Papyan 2020, §7 footnote 4):
    ``Flatten -> [Linear(bias=False) -> BatchNorm1d -> ReLU] x m -> Linear(C)``.

    z^l = W^l h^{l-1} (no bias, §7.1: the hidden layers' gradient is exactly δ^l h^{l-1ᵀ}, Eq. (7.2)),
    then BN (affine, PyTorch defaults; not stated by the paper) and ReLU, so h^l = ReLU(BN(z^l)). The
    paper's "eight-layer MLP with 2048 neurons in each hidden layer" is ``bn_mlp(d, [2048] * 8, C)``
    (inventory 001 §E15: 8 hidden layers plus the classifier; hidden biases not stated, none here):
    31,019,018 parameters for MNIST (d = 784, C = 10; 35,704,842 for CIFAR-10, d = 3072). The classifier keeps its bias. PyTorch's default
    initialisation (not stated by the paper).
    """
    in_dim = _positive_int(in_dim, "in_dim")
    num_classes = _positive_int(num_classes, "num_classes")
    hidden = _widths(widths, "widths")
    layers: list[nn.Module] = [nn.Flatten()]
    d = in_dim
    for w in hidden:
        layers += [nn.Linear(d, w, bias=False), nn.BatchNorm1d(w), nn.ReLU()]
        d = w
    layers.append(nn.Linear(d, num_classes))
    return nn.Sequential(*layers)


def logistic_regression(in_dim: int, num_classes: int) -> nn.Sequential:
    """Multinomial logistic regression: ``Flatten -> Linear(in_dim, C)``; softmax lives in the loss.

    Beyond-RMT §4.2: on MNIST "P = 7850" = 784 * 10 + 10 parameters.
    """
    return mlp(in_dim, [], num_classes, bias=True)


def deep_linear(in_dim: int, widths: Sequence[int], out_dim: int) -> nn.Sequential:
    """Deep linear network f(x) = W_L ... W_1 x (no biases, no activations), W_l in R^{d_l x d_{l-1}}.

    ``widths`` are the hidden dimensions d_1..d_{L-1}; L = len(widths) + 1 weight matrices. PyTorch's
    default Linear initialisation; papers that prescribe their own (e.g. balanced or orthogonal
    initialisation) should re-initialise the weights explicitly.
    """
    in_dim = _positive_int(in_dim, "in_dim")
    out_dim = _positive_int(out_dim, "out_dim")
    dims = [in_dim, *_widths(widths, "widths"), out_dim]
    layers: list[nn.Module] = [nn.Flatten()]
    layers += [nn.Linear(a, b, bias=False) for a, b in zip(dims[:-1], dims[1:])]
    return nn.Sequential(*layers)


# ---------------------------------------------------------------------------------------------
# LeNet5 (Wu et al. 2020, App D.2, Tables 4 and 5)


def lenet5(in_channels: int = 1, num_classes: int = 10, batch_norm: bool = False,
           input_size: int = 32, fc_widths: Sequence[int] = (120, 84)) -> nn.Sequential:
    """LeNet5 as in Wu et al. (2020) Table 4 (and LeNet5-BN, Table 5).

    ``conv1 Conv(C_in, 6, 5) -> ReLU -> MaxPool 2 -> conv2 Conv(6, 16, 5) -> ReLU -> MaxPool 2 ->
    Flatten 400 -> fc1 Linear(400, 120) -> ReLU -> fc2 Linear(120, 84) -> ReLU -> fc3 Linear(84, C)``;
    62,006 parameters for CIFAR-10 (3 x 32 x 32). With ``batch_norm`` a ``BatchNorm(affine=False)``
    follows every hidden ReLU (Table 5: "we also turn off the learnable parameters"), so the count is
    unchanged.

    Args:
        in_channels: 1 (MNIST) or 3 (CIFAR).
        num_classes: C.
        batch_norm: LeNet5-BN (Table 5).
        input_size: side of the square input. conv1 gets zero padding (32 - input_size) / 2 so that the
            flattened features are always 16 x 5 x 5 = 400 (for 28 x 28 MNIST: padding 2, as in LeCun's
            LeNet; not stated by Wu et al., inventory 000 Table 4 note).
        fc_widths: widths of fc1 and fc2; Wu et al.'s variants "LeNet5-(fc1-m)" use (m, 84).
    """
    in_channels = _positive_int(in_channels, "in_channels")
    num_classes = _positive_int(num_classes, "num_classes")
    input_size = _positive_int(input_size, "input_size")
    if input_size > 32 or (32 - input_size) % 2:
        raise ValueError(f"lenet5 needs an input side <= 32 with 32 - side even (padding), got {input_size}")
    fc = _widths(fc_widths, "fc_widths", allow_empty=False)
    pad = (32 - input_size) // 2

    def bn2d(c: int) -> list[nn.Module]:
        return [nn.BatchNorm2d(c, affine=False)] if batch_norm else []

    def bn1d(c: int) -> list[nn.Module]:
        return [nn.BatchNorm1d(c, affine=False)] if batch_norm else []

    layers: list[nn.Module] = [nn.Conv2d(in_channels, 6, 5, padding=pad), nn.ReLU(), *bn2d(6), nn.MaxPool2d(2),
                               nn.Conv2d(6, 16, 5), nn.ReLU(), *bn2d(16), nn.MaxPool2d(2), nn.Flatten()]
    d = 16 * 5 * 5
    for w in fc:
        layers += [nn.Linear(d, w), nn.ReLU(), *bn1d(w)]
        d = w
    layers.append(nn.Linear(d, num_classes))
    return nn.Sequential(*layers)


# ---------------------------------------------------------------------------------------------
# VGG (timgaripov/swa, ported from torchvision)

VGG_CFG: dict[int, list[int | str]] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """VGG feature extractor (3x3 convs with bias, optional BN, ReLU, 2x2 max-pools) + classifier."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def _vgg_features(cfg: Sequence[int | str], in_channels: int, batch_norm: bool) -> tuple[nn.Sequential, int, int]:
    layers: list[nn.Module] = []
    c = in_channels
    pools = 0
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            pools += 1
        else:
            layers.append(nn.Conv2d(c, int(v), kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(v)))
            layers.append(nn.ReLU())
            c = int(v)
    return nn.Sequential(*layers), c, pools


def _spatial_after_pools(input_size: int, pools: int) -> int:
    side = input_size
    for _ in range(pools):
        side //= 2
    if side < 1:
        raise ValueError(f"input side {input_size} is too small for {pools} 2x2 max-pools")
    return side


def vgg(depth: int = 16, batch_norm: bool = True, num_classes: int = 10, width_multiplier: float = 1.0,
        in_channels: int = 3, classifier: str = "swa", dropout: float = 0.5, input_size: int = 32,
        classifier_width: int | None = None) -> VGG:
    """VGG-``depth`` for 32 x 32 inputs (CIFAR variant).

    Features: torchvision's configuration ``VGG_CFG[depth]`` of 3x3 convolutions (padding 1, with bias),
    each followed by BN (if ``batch_norm``) and ReLU, and 2x2 max-pools; five pools reduce 32 x 32 to
    1 x 1, so the classifier sees 512 features.

    Classifier:
        - ``"swa"`` (default): ``Dropout -> Linear(512, 512) -> ReLU -> Dropout -> Linear(512, 512) -> ReLU
          -> Linear(512, C)``, the ``timgaripov/swa`` / MLRG_DeepCurvature model used by Granziol's papers.
          The Beyond-RMT paper gives no definition; this one reproduces its counts exactly (inventory 004
          §E31): VGG-16BN 15,299,748 and VGG-16 15,291,300 for C = 100; 15,253,578 / 15,245,130 for C = 10.
        - ``"linear"``: a single ``Linear(512, C)`` (the common "CIFAR VGG" of e.g. kuangliu/pytorch-cifar);
          VGG-16-BN then has 14,728,266 parameters for C = 10 (the model of ../shared/BASELINES.md).
        - ``"papyan"``: ``Linear(512, 4096, bias=False) -> BN -> ReLU -> Linear(4096, 4096, bias=False) -> BN ->
          ReLU -> Linear(4096, C)``, Papyan's (2020) VGG11 "with 28 million parameters" (§4.1; dropout
          replaced by BN, App. D.3; layers from the author's earlier code, inventory 001 Fig 3 [ext]):
          VGG11-BN has 28,156,554 parameters for one input channel and C = 10, 28,157,706 for three.

    Args:
        depth: 11, 13, 16 or 19.
        batch_norm: BatchNorm2d after every convolution (affine, default PyTorch running statistics).
        num_classes: C.
        width_multiplier: every conv width (and the hidden width of the ``swa`` classifier) is
            ``max(1, round(w * width_multiplier))``; Wu et al.'s "VGG11-W<k>" uses a base width k instead
            (k / 64 as a multiplier). Not used by the Beyond-RMT paper.
        in_channels: 3 (CIFAR) or 1.
        classifier: ``swa`` or ``linear`` (see above).
        dropout: dropout probability of the ``swa`` classifier (0.5 = ``nn.Dropout()`` default in the SWA
            code). Spectral computations run in eval mode, where dropout is the identity.
        input_size: input side; the classifier input is 512 * (side / 32)^2 (for side 32: 512).
        classifier_width: hidden width of the ``swa`` / ``papyan`` classifier (default 512 / 4096 times
            ``width_multiplier``; the CPU stand-ins of Papyan's VGG11 set it on its own).

    Initialisation as the SWA code: conv N(0, 2 / (9 C_out)), conv bias 0, BN (1, 0), Linear default.
    """
    if depth not in VGG_CFG:
        raise ValueError(f"unknown VGG depth {depth!r}; known: {', '.join(map(str, VGG_CFG))}")
    num_classes = _positive_int(num_classes, "num_classes")
    in_channels = _positive_int(in_channels, "in_channels")
    if not (isinstance(width_multiplier, (int, float)) and width_multiplier > 0):
        raise ValueError(f"width_multiplier must be a positive number, got {width_multiplier!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
    cfg = [v if v == "M" else max(1, int(round(int(v) * width_multiplier))) for v in VGG_CFG[depth]]
    features, c, pools = _vgg_features(cfg, in_channels, batch_norm)
    side = _spatial_after_pools(_positive_int(input_size, "input_size"), pools)
    d = c * side * side
    base = {"swa": 512, "papyan": 4096}.get(classifier, 0)
    hidden = _positive_int(classifier_width, "classifier_width") if classifier_width is not None \
        else max(1, int(round(base * width_multiplier)))
    if classifier == "swa":
        head = nn.Sequential(nn.Dropout(dropout), nn.Linear(d, hidden), nn.ReLU(),
                             nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
                             nn.Linear(hidden, num_classes))
    elif classifier == "papyan":
        head = nn.Sequential(nn.Linear(d, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
                             nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
                             nn.Linear(hidden, num_classes))
    elif classifier == "linear":
        head = nn.Sequential(nn.Linear(d, num_classes))
    else:
        raise ValueError(f"unknown VGG classifier {classifier!r}; known: swa, papyan, linear")
    model = VGG(features, head)
    _swa_conv_init(model)
    return model


def mini_vgg(conv_widths: Sequence[int] = (8, 16, 32), hidden: Sequence[int] = (64,), batch_norm: bool = True,
             num_classes: int = 10, in_channels: int = 3, input_size: int = 16) -> VGG:
    """Small VGG-style CPU stand-in (inventory 004 §C2, configurations D1 / D2). NOT the paper's VGG-16.

    ``[Conv3x3(pad 1, bias) (-> BN) -> ReLU -> MaxPool 2] per width -> Flatten -> [Linear -> ReLU] per
    hidden width -> Linear(C)``. With the defaults on 3 x 16 x 16 inputs the flattened features are
    32 x 2 x 2 = 128 and the classifier is 128 -> 64 -> 10: 15,050 parameters with BN (D1) and 14,938
    without (D2). No dropout (not part of the inventory's D1/D2; spectra run in eval mode anyway).
    Initialisation as :func:`vgg`.
    """
    widths = _widths(conv_widths, "conv_widths", allow_empty=False)
    cfg: list[int | str] = []
    for w in widths:
        cfg += [w, "M"]
    features, c, pools = _vgg_features(cfg, _positive_int(in_channels, "in_channels"), batch_norm)
    side = _spatial_after_pools(_positive_int(input_size, "input_size"), pools)
    d = c * side * side
    layers: list[nn.Module] = []
    for h in _widths(hidden, "hidden"):
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, _positive_int(num_classes, "num_classes")))
    model = VGG(features, nn.Sequential(*layers))
    _swa_conv_init(model)
    return model


# ---------------------------------------------------------------------------------------------
# PreResNet (bearpaw / timgaripov/swa)


class _PreActBasic(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        residual = self.downsample(x) if self.downsample is not None else x
        return out + residual


class _PreActBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        residual = self.downsample(x) if self.downsample is not None else x
        return out + residual


class PreResNet(nn.Module):
    """Pre-activation ResNet for CIFAR (He et al. 2016, as ported by bearpaw and timgaripov/swa)."""

    def __init__(self, block: type[nn.Module], blocks_per_stage: int, num_classes: int, base_width: int,
                 in_channels: int) -> None:
        super().__init__()
        self.inplanes = base_width
        self.conv1 = nn.Conv2d(in_channels, base_width, 3, padding=1, bias=False)
        self.layer1 = self._make_layer(block, base_width, blocks_per_stage)
        self.layer2 = self._make_layer(block, 2 * base_width, blocks_per_stage, stride=2)
        self.layer3 = self._make_layer(block, 4 * base_width, blocks_per_stage, stride=2)
        width = 4 * base_width * block.expansion  # type: ignore[attr-defined]
        self.bn = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        # The SWA code uses AvgPool2d(8) on the 8 x 8 maps of 32 x 32 inputs; a global average pool is
        # identical there and also accepts smaller inputs (the 16 x 16 CPU stand-in).
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, num_classes)
        _swa_conv_init(self)

    def _make_layer(self, block: type[nn.Module], planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        expansion = block.expansion  # type: ignore[attr-defined]
        downsample = None
        if stride != 1 or self.inplanes != planes * expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * expansion, 1, stride=stride, bias=False))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        x = self.avgpool(self.relu(self.bn(x)))
        return self.fc(torch.flatten(x, 1))


def preresnet(depth: int = 110, num_classes: int = 100, base_width: int = 16, block: str = "auto",
              in_channels: int = 3) -> PreResNet:
    """PreResNet-``depth`` (pre-activation ResNet, three stages of widths w, 2w, 4w; w = ``base_width``).

    Bottleneck blocks (expansion 4): depth = 9n + 2 with n blocks per stage; basic blocks: depth = 6n + 2.
    ``block="auto"`` follows the SWA code: bottleneck for depth >= 44, basic below. PreResNet-110
    (n = 12, bottleneck, w = 16) has 1,169,972 parameters for C = 100 and 1,146,842 for C = 10
    (inventory 004 §F Fig 1 and inventory 002 fact 8). The CPU stand-in D3 of inventory 004 §C2 is
    ``preresnet(11, 10, base_width=4, block="bottleneck")`` (8,750 parameters).

    Initialisation as the SWA code: conv N(0, 2 / (k^2 C_out)), BN (1, 0), Linear default.
    """
    num_classes = _positive_int(num_classes, "num_classes")
    base_width = _positive_int(base_width, "base_width")
    depth = _positive_int(depth, "depth")
    if block == "auto":
        block = "bottleneck" if depth >= 44 else "basic"
    if block == "bottleneck":
        if (depth - 2) % 9 or depth < 11:
            raise ValueError(f"a bottleneck PreResNet needs depth = 9n + 2 (11, 20, ..., 110), got {depth}")
        cls, n = _PreActBottleneck, (depth - 2) // 9
    elif block == "basic":
        if (depth - 2) % 6 or depth < 8:
            raise ValueError(f"a basic-block PreResNet needs depth = 6n + 2 (8, 14, 20, ...), got {depth}")
        cls, n = _PreActBasic, (depth - 2) // 6
    else:
        raise ValueError(f"unknown PreResNet block {block!r}; known: auto, bottleneck, basic")
    return PreResNet(cls, n, num_classes, base_width, _positive_int(in_channels, "in_channels"))


# ---------------------------------------------------------------------------------------------
# ResNet18 (kuangliu/pytorch-cifar) and the uniform-width VGG11-Wk / ResNet18-Wk of Wu et al. (2020)


class _BasicBlock(nn.Module):
    """Post-activation basic block: relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)), BN optional."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int, batch_norm: bool, bias: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=bias)
        self.bn1 = nn.BatchNorm2d(planes) if batch_norm else nn.Identity()
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=bias)
        self.bn2 = nn.BatchNorm2d(planes) if batch_norm else nn.Identity()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inplanes != planes:
            layers: list[nn.Module] = [nn.Conv2d(inplanes, planes, 1, stride=stride, bias=bias)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(planes))
            self.shortcut = nn.Sequential(*layers)
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR ResNet with basic blocks (He et al. 2016, as adapted by kuangliu/pytorch-cifar): a 3x3 stem
    (no max-pool), four stages (strides 1, 2, 2, 2), global average pooling and one Linear layer.

    ``paper_layer_names`` maps Wu et al.'s (2020) layer names to module names (used by
    :func:`hessian_spectra.hessian.layerwise.find_layer`): ``conv1`` the stem, ``conv2``-``conv17`` the block
    convolutions in forward order, ``sc-conv1``-``sc-conv3`` the 1x1 shortcut convolutions, ``fc1`` the
    classifier (their §E.2.2: "conv1 - conv17 ... conv1 is closest to the input").
    """

    def __init__(self, widths: Sequence[int], blocks_per_stage: Sequence[int], num_classes: int, in_channels: int,
                 batch_norm: bool, bias: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=bias)
        self.bn1 = nn.BatchNorm2d(widths[0]) if batch_norm else nn.Identity()
        self.relu = nn.ReLU()
        stages, c = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks_per_stage)):
            blocks = []
            for j in range(n):
                blocks.append(_BasicBlock(c, w, 2 if (i > 0 and j == 0) else 1, batch_norm, bias))
                c = w
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)
        names = {"conv1": "conv1"}
        convs, shortcuts = 1, 0
        for s in range(1, 5):
            for b, block in enumerate(getattr(self, f"layer{s}")):
                for part in ("conv1", "conv2"):
                    convs += 1
                    names[f"conv{convs}"] = f"layer{s}.{b}.{part}"
                if isinstance(block.shortcut, nn.Sequential):
                    shortcuts += 1
                    names[f"sc-conv{shortcuts}"] = f"layer{s}.{b}.shortcut.0"
        names["fc1"] = "fc"
        self.paper_layer_names: dict[str, str] = names

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18(num_classes: int = 10, width: int | None = None, widths: Sequence[int] = (64, 128, 256, 512),
             batch_norm: bool = True, bias: bool = False, in_channels: int = 3) -> ResNet:
    """ResNet18 for 32 x 32 inputs (kuangliu/pytorch-cifar): 11,173,962 parameters for C = 10 with the
    default widths and BN (the ResNet18 of Papyan 2020).

    ``width=k`` gives Wu et al.'s (2020) ResNet18-Wk: every convolution (stem, 16 block convolutions and the
    3 shortcut 1x1 convolutions) has k output channels, and ``fc1 = Linear(k, C)``; they train it without BN
    (their Fig 5a, App E.2.2) and do not state conv biases: with ``bias=False`` (the kuangliu default)
    ResNet18-W64 has 610,340 parameters for C = 100 (inventory 000, Fig 1 [checked]).

    Args:
        num_classes: C.
        width: uniform width k (overrides ``widths``).
        widths: the four stage widths.
        batch_norm: BatchNorm2d after every convolution (kuangliu's ResNet18); ``False`` for ResNet18-Wk.
        bias: biases on the convolutions (default False, kuangliu's).
        in_channels: 3 (CIFAR) or 1.

    Initialisation: PyTorch's default (kuangliu's code sets none).
    """
    if width is not None:
        widths = (_positive_int(width, "width"),) * 4
    w = _widths(widths, "widths", allow_empty=False)
    if len(w) != 4:
        raise ValueError(f"ResNet18 has four stages: widths must have 4 entries, got {list(widths)!r}")
    return ResNet(w, (2, 2, 2, 2), _positive_int(num_classes, "num_classes"), _positive_int(in_channels, "in_channels"),
                  bool(batch_norm), bool(bias))


def vgg11_w(width: int = 64, num_classes: int = 10, batch_norm: bool = False, in_channels: int = 3,
            input_size: int = 32) -> VGG:
    """Wu et al.'s (2020) VGG11-Wk: the VGG-A layout [k, M, k, M, k, k, M, k, k, M, k, k, M] of 3x3
    convolutions (padding 1, with bias) of uniform width k, each followed by ReLU (BN if ``batch_norm``), and
    one classifier layer ``fc1 = Linear(k, C)`` ("fc1 is the classification layer"; no dropout). With
    k = 64 and C = 100 it has 266,788 parameters (inventory 000, Fig 5b [checked]). Not stated by the paper:
    the hidden layers of the classifier (none [inferred]); initialisation (PyTorch's default here; the wu2020
    zoo re-initialises with Xavier).
    """
    k = _positive_int(width, "width")
    cfg: list[int | str] = [k if v != "M" else "M" for v in VGG_CFG[11]]
    features, c, pools = _vgg_features(cfg, _positive_int(in_channels, "in_channels"), bool(batch_norm))
    side = _spatial_after_pools(_positive_int(input_size, "input_size"), pools)
    return VGG(features, nn.Sequential(nn.Linear(c * side * side, _positive_int(num_classes, "num_classes"))))


# ---------------------------------------------------------------------------------------------
# Registry

_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "mlp": mlp,
    "bn_mlp": bn_mlp,
    "lenet5": lenet5,
    "vgg": vgg,
    "mini_vgg": mini_vgg,
    "preresnet": preresnet,
    "resnet18": resnet18,
    "vgg11_w": vgg11_w,
    "logistic_regression": logistic_regression,
    "deep_linear": deep_linear,
}
MODEL_NAMES: tuple[str, ...] = tuple(_BUILDERS)


INITIALIZATIONS: tuple[str, ...] = ("pytorch", "xavier_uniform_zero_bias")


def initialize(model: nn.Module, scheme: str) -> nn.Module:
    """Re-initialise every ``nn.Linear`` and ``nn.Conv2d`` of ``model`` in place; returns ``model``.

    Schemes:
        ``pytorch``: leave PyTorch's default (Kaiming-uniform weights with a = sqrt(5), uniform biases in
            +-1/sqrt(fan_in)).
        ``xavier_uniform_zero_bias``: W ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio
            2010, their "normalized initialization"), b = 0. Wu et al. (2020) App D.2 write both "Follow the
            default initialization scheme of PyTorch" and "initialized using the Xavier method ... and bias
            of each layer are initialized to be zero", which contradict each other (PyTorch's default is
            not Xavier); the uniform variant is our choice (the paper does not say uniform or normal).

    Uses the global torch RNG (seeded by :func:`hessian_spectra.training.train` before the model is built).
    """
    if scheme not in INITIALIZATIONS:
        raise ValueError(f"unknown initialization {scheme!r}; known: {', '.join(INITIALIZATIONS)}")
    if scheme == "pytorch":
        return model
    for mod in model.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(mod.weight)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
    return model


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a model by name (``MODEL_NAMES``) with the builder's keyword arguments.

    Shortcuts: ``vgg11``/``vgg13``/``vgg16``/``vgg19`` (depth, ``batch_norm=False``) and the same with a
    ``_bn`` suffix (``batch_norm=True``); ``preresnet110``; ``lenet5_bn``. The keyword ``init`` (one of
    ``INITIALIZATIONS``, default ``pytorch``) re-initialises the built model (:func:`initialize`).
    """
    key, kw = _resolve(name, kwargs)
    init = kw.pop("init", "pytorch")
    if init not in INITIALIZATIONS:
        raise ValueError(f"unknown initialization {init!r} for model {name!r}; known: {', '.join(INITIALIZATIONS)}")
    try:
        model = _BUILDERS[key](**kw)
    except TypeError as exc:
        raise ValueError(f"bad arguments for model {name!r}: {exc}") from None
    return initialize(model, init)


def builder_name(name: str) -> str:
    """The name of the builder function :func:`build_model` calls for ``name`` (``"vgg16_bn"`` -> ``"vgg"``)."""
    key, _ = _resolve(name, {})
    return _BUILDERS[key].__name__


def _resolve(name: str, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(registry key, keyword arguments) of a model name with its shortcuts (see :func:`build_model`)."""
    if not isinstance(name, str):
        raise ValueError(f"model name must be a string, got {name!r}")
    key = name.strip().lower().replace("-", "_")
    kw = dict(kwargs)
    vgg_match = re.fullmatch(r"vgg_?(\d+)(_?bn)?", key)
    prn_match = re.fullmatch(r"preresnet_?(\d+)", key)
    if vgg_match:
        kw.setdefault("depth", int(vgg_match.group(1)))
        kw.setdefault("batch_norm", vgg_match.group(2) is not None)
        key = "vgg"
    elif prn_match:
        kw.setdefault("depth", int(prn_match.group(1)))
        key = "preresnet"
    elif key in ("lenet5_bn", "lenet5bn"):
        kw.setdefault("batch_norm", True)
        key = "lenet5"
    if key not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)} "
                         "(and vgg16, vgg16_bn, preresnet110, lenet5_bn, ...)")
    return key, kw
