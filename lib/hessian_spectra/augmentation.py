"""A fixed augmented data set that is drawn, never stored: crop-and-flip copies as a function of their index.

Granziol et al. (2020, "Towards understanding the true loss surface", §6) compute the "Augmented
Hessian", the Hessian of the mean loss over a fixed set of N·K augmented images (1.5M = 30 × 50k and
5M = 100 × 50k CIFAR images), as their proxy for the True Hessian H_true = E_ψ[∇²ℓ] (eq 1):

    H_aug(w) = (1 / NK) Σ_{i=1..N} Σ_{k=0..K-1} ∇²_w ℓ(h(T_{ik} x_i; w), y_i),

with T_{ik} the k-th augmentation of image i: "random horizontal flips, 4 × 4 padding with zeros and
random 32 × 32 crops". Every Lanczos step multiplies by the SAME matrix, so the set must be identical in
every pass (inventory 002 §L1.2). Here it is a pure function of (seed, image index, copy index): a
counter-based hash (SplitMix64 finaliser, Steele et al. 2014) of these three integers chooses the
variant, so the N·K samples are regenerated batch by batch in each pass, bit for bit, on any device,
without being stored.

A variant of an image of side H × W with padding p is (flip, dy, dx), flip ∈ {0, 1}, dy, dx ∈ {0..2p}:
zero-pad by p on every side, take the H × W window at offset (dy, dx) of the padded image, then mirror
it left-right if flip. There are V = 2 (2p + 1)² variants (162 for p = 4, the paper's setting; 50 for
p = 2); (0, p, p) is the identity.

Two schemes pick the variant of copy k of image i (the paper does not say how its set was drawn,
inventory 002 §F Fig 3 "Not stated"):

- ``"distinct"`` (default): copy k takes entry k of a random permutation of the V variants of image i
  (the permutation is the argsort of hash(seed, i, v), v = 0..V-1), so the K copies of an image are K
  different variants (K ≤ V). This is the spirit of the MLRG_DeepCurvature ``CIFAR10AUG`` set
  (enumerated variants, permuted by a seeded RNG, a prefix taken; inventory §L1.2 [ext]) with exactly K
  copies per image; not the paper's stated procedure (none is stated).
- ``"independent"``: each copy draws its variant independently, variant = hash(seed, i, k) mod V, as
  K passes of a random transform would (copies of one image may repeat).

Padding value: the paper pads the raw image with zeros (black) before normalising (torchvision); the
training loop of this package (:func:`hessian_spectra.training.augment_crop_flip`) pads the tensor it
is given, i.e. after normalisation. ``fill`` is the padded value in the units of the tensor: the default
0.0 matches the training loop; ``fill = black_fill(mean, std)`` = −mean/std per channel reproduces
torchvision's black padding on standardised data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "SCHEMES",
    "AugmentedData",
    "black_fill",
    "crop_flip",
    "decode_variants",
    "hash_indices",
    "identity_variant",
    "num_variants",
    "variant_indices",
]

SCHEMES: tuple[str, ...] = ("distinct", "independent")
Scheme = Literal["distinct", "independent"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix64(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser on uint64 arrays (wrapping arithmetic): a bijection of 64-bit integers
    whose outputs look independent for consecutive inputs."""
    with np.errstate(over="ignore"):
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def hash_indices(*keys: Any) -> np.ndarray:
    """A 64-bit hash of integer keys (broadcast together): h = mix(… mix(mix(k_1) ^ k_2) … ^ k_n).

    Non-negative integers (or arrays of them) in; a uint64 array of the broadcast shape out. Counter
    based: the value for one tuple does not depend on which other tuples are hashed with it."""
    arrays = []
    for k in keys:
        a = np.asarray(k)
        if a.dtype.kind not in "iu" or (a.dtype.kind == "i" and a.size and int(a.min()) < 0):
            raise ValueError(f"hash keys must be non-negative integers, got {k!r}")
        arrays.append(a.astype(np.uint64))
    arrays = np.broadcast_arrays(*arrays)
    h = _mix64(np.array(arrays[0], dtype=np.uint64, copy=True))
    for a in arrays[1:]:
        h = _mix64(h ^ a)
    return h


def num_variants(padding: int) -> int:
    """V = 2 (2p + 1)²: the distinct (flip, dy, dx) variants with padding p (162 for p = 4)."""
    _check_padding(padding)
    return 2 * (2 * padding + 1) ** 2


def identity_variant(padding: int) -> int:
    """The index of the identity variant (no flip, offset (p, p))."""
    _check_padding(padding)
    side = 2 * padding + 1
    return padding * side + padding


def decode_variants(variants: Tensor | np.ndarray, padding: int) -> tuple[Tensor, Tensor, Tensor]:
    """(flip, dy, dx) of variant indices v ∈ [0, V): flip = v // S², dy = (v mod S²) // S, dx = v mod S,
    S = 2p + 1. Returns int64 tensors (flip as bool)."""
    _check_padding(padding)
    v = torch.as_tensor(np.asarray(variants) if isinstance(variants, np.ndarray) else variants).long()
    side = 2 * padding + 1
    if v.numel() and (int(v.min()) < 0 or int(v.max()) >= 2 * side * side):
        raise ValueError(f"variant indices must lie in [0, {2 * side * side}) for padding {padding}")
    flip = (v // (side * side)).bool()
    rem = v % (side * side)
    return flip, rem // side, rem % side


def variant_indices(seed: int, image_indices: Sequence[int] | np.ndarray | Tensor, copy: int, padding: int = 4,
                    scheme: Scheme = "distinct") -> np.ndarray:
    """The variant index of copy ``copy`` of each image in ``image_indices`` (int64 array).

    ``distinct``: entry ``copy`` of the permutation argsort_v hash(seed, i, v) of the V variants (needs
    copy < V). ``independent``: hash(seed, i, V + copy) mod V (the offset V keeps these keys apart from
    the permutation keys). The hash is :func:`hash_indices`; the result depends on (seed, i, copy) only.
    """
    _check_seed(seed)
    V = num_variants(padding)
    if scheme not in SCHEMES:
        raise ValueError(f"unknown augmentation scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    if isinstance(copy, bool) or not isinstance(copy, (int, np.integer)) or copy < 0:
        raise ValueError(f"copy index must be a non-negative integer, got {copy!r}")
    idx = np.asarray(image_indices.cpu() if isinstance(image_indices, Tensor) else image_indices, dtype=np.int64)
    if idx.ndim != 1:
        raise ValueError(f"image indices must be a 1-D sequence, got shape {idx.shape}")
    if scheme == "independent":
        return (hash_indices(seed, idx, V + int(copy)) % np.uint64(V)).astype(np.int64)
    if copy >= V:
        raise ValueError(f"copy index {copy} >= {V} variants: the 'distinct' scheme has {V} copies per image "
                         f"with padding {padding}; use scheme='independent' for more")
    keys = hash_indices(seed, idx[:, None], np.arange(V, dtype=np.int64)[None, :])  # (n, V)
    # the copy-th smallest key; argsort is stable, and 64-bit keys of one image tie with probability ~V²/2^64
    return np.argsort(keys, axis=1, kind="stable")[:, int(copy)].astype(np.int64)


def black_fill(mean: Sequence[float], std: Sequence[float]) -> list[float]:
    """Per-channel padding value −mean_c / std_c: a black (zero) raw pixel after standardisation, as
    torchvision pads before normalising (the paper's pipeline, inventory 002 §D)."""
    mean_t, std_t = list(map(float, mean)), list(map(float, std))
    if len(mean_t) != len(std_t) or not mean_t or any(s <= 0 for s in std_t):
        raise ValueError("mean and std must be non-empty sequences of one length with std > 0")
    return [-m / s for m, s in zip(mean_t, std_t)]


def crop_flip(x: Tensor, flip: Tensor, dy: Tensor, dx: Tensor, padding: int,
              fill: float | Sequence[float] = 0.0) -> Tensor:
    """Crop-and-flip a batch (n, C, H, W): image j becomes window (dy_j, dx_j) of size H × W of its
    ``padding``-padded copy (padded with ``fill``, a scalar or one value per channel), mirrored
    left-right where ``flip_j``. Vectorised: one padded copy of the batch and one gather."""
    _check_padding(padding)
    if x.ndim != 4:
        raise ValueError(f"crop_flip needs images of shape (n, C, H, W), got {tuple(x.shape)}")
    n, c, h, w = x.shape
    if not (flip.shape == dy.shape == dx.shape == (n,)):
        raise ValueError(f"flip, dy, dx must have shape ({n},), got {tuple(flip.shape)}, {tuple(dy.shape)}, "
                         f"{tuple(dx.shape)}")
    dev = x.device
    flip, dy, dx = flip.to(dev), dy.to(dev).long(), dx.to(dev).long()
    if padding == 0:
        return torch.where(flip[:, None, None, None], x.flip(-1), x)
    fill_t = torch.as_tensor(fill, dtype=x.dtype, device=dev).reshape(-1)
    if fill_t.numel() not in (1, c):
        raise ValueError(f"fill must be a scalar or one value per channel ({c}), got {fill_t.numel()} values")
    padded = fill_t.reshape(1, -1, 1, 1).expand(n, c, h + 2 * padding, w + 2 * padding).clone()
    padded[:, :, padding:padding + h, padding:padding + w] = x  # exact copy: no arithmetic on x
    rows = dy[:, None] + torch.arange(h, device=dev)[None, :]   # (n, h)
    cols = dx[:, None] + torch.arange(w, device=dev)[None, :]   # (n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    i_n = torch.arange(n, device=dev)[:, None, None, None]
    i_c = torch.arange(c, device=dev)[None, :, None, None]
    return padded[i_n, i_c, rows[:, None, :, None], cols[:, None, None, :]]


class AugmentedData:
    """The fixed augmented set {(T_ik x_i, y_i): i < N, k < K} as a re-iterable of (x, y) batches.

    Every iteration yields the same N·K samples in the same order (copy-major: copy 0 of images 0..N-1
    in batches of ``batch_size``, then copy 1, ...), computed batch by batch from (seed, i, k); pass it
    as ``data`` to any operator of :mod:`hessian_spectra.hessian` (it is a re-iterable of pairs). With
    ``copies=1`` and ``augment=False`` the batches are exactly the original data (no arithmetic).

    Args:
        data: a pair (x, y) of tensors or an object with ``.x`` and ``.y`` (a
            :class:`~hessian_spectra.data.LabelledData`); x of shape (N, C, H, W).
        copies: K ≥ 1 augmented copies per image (paper: K = 30 for the 1.5M sets, 100 for the 5M sets of
            Figs 13 and 22).
        seed: seeds the variants (default 0; the paper states none).
        padding: p (paper: 4, for 32 × 32 CIFAR images).
        augment: False = every copy is the identity variant (the original image).
        scheme: ``distinct`` (default) or ``independent`` (module docstring).
        fill: padding value in the tensor's units (module docstring; default 0.0 as the training loop).
        batch_size: images per yielded batch (default 256: not from the paper; the result does not
            depend on it beyond rounding).
        device: where the base images are kept and augmented (default: where they are).

    The base data are the attributes ``images`` and ``labels``, deliberately not ``x`` and ``y``: the engine's
    data loop reads any object with ``.x`` and ``.y`` as a plain (un-augmented) data set.
    """

    def __init__(self, data: Any, copies: int, seed: int = 0, *, padding: int = 4, augment: bool = True,
                 scheme: Scheme = "distinct", fill: float | Sequence[float] = 0.0, batch_size: int = 256,
                 device: torch.device | str | None = None) -> None:
        if hasattr(data, "x") and hasattr(data, "y") and not isinstance(data, (tuple, list)):
            data = (data.x, data.y)
        if not (isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, Tensor) for t in data)):
            raise ValueError("data must be a pair (x, y) of tensors or an object with .x and .y")
        x, y = data
        if x.ndim != 4:
            raise ValueError(f"images must have shape (N, C, H, W), got {tuple(x.shape)}")
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"images and labels differ in length: {x.shape[0]} vs {y.shape[0]}")
        if x.shape[0] == 0:
            raise ValueError("data is empty: no images to augment")
        if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 1:
            raise ValueError(f"copies must be a positive integer, got {copies!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        _check_seed(seed)
        _check_padding(padding)
        if scheme not in SCHEMES:
            raise ValueError(f"unknown augmentation scheme {scheme!r}; known: {', '.join(SCHEMES)}")
        if augment and padding > min(x.shape[-2:]):
            raise ValueError(f"padding {padding} exceeds the image side {min(x.shape[-2:])}")
        V = num_variants(padding)
        if augment and scheme == "distinct" and copies > V:
            raise ValueError(f"copies={copies} > {V} distinct variants at padding {padding}; use "
                             "scheme='independent' or fewer copies")
        fill_t = torch.as_tensor(fill, dtype=torch.float64).reshape(-1)
        if fill_t.numel() not in (1, x.shape[1]) or not bool(torch.isfinite(fill_t).all()):
            raise ValueError(f"fill must be a finite scalar or one value per channel ({x.shape[1]})")
        if device is not None:
            x, y = x.to(device), y.to(device)
        # not named .x / .y: the engine reads an object with .x and .y as the plain (un-augmented) data
        self.images, self.labels = x, y
        self.copies, self.seed, self.padding = int(copies), int(seed), int(padding)
        self.augment, self.scheme, self.batch_size = bool(augment), scheme, int(batch_size)
        self.fill = fill if isinstance(fill, (int, float)) else [float(v) for v in fill]

    # -- sizes -----------------------------------------------------------------------------------
    @property
    def num_images(self) -> int:
        """N, the base images."""
        return int(self.images.shape[0])

    @property
    def num_samples(self) -> int:
        """N·K, the augmented samples."""
        return self.num_images * self.copies

    def __len__(self) -> int:
        """The number of batches of one pass (what the engine's progress bar counts)."""
        return self.copies * math.ceil(self.num_images / self.batch_size)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (for a figure's metadata)."""
        return {"num_images": self.num_images, "copies": self.copies, "num_samples": self.num_samples,
                "seed": self.seed, "padding": self.padding, "augment": self.augment, "scheme": self.scheme,
                "fill": self.fill, "variants_per_image": num_variants(self.padding)}

    # -- samples ---------------------------------------------------------------------------------
    def variants(self, image_indices: Sequence[int] | np.ndarray, copy: int) -> np.ndarray:
        """Variant indices of copy ``copy`` of the given images (the identity when ``augment`` is off)."""
        if not 0 <= copy < self.copies:
            raise ValueError(f"copy index {copy} out of range [0, {self.copies})")
        idx = np.asarray(image_indices, dtype=np.int64)
        if not self.augment:
            return np.full(idx.shape, identity_variant(self.padding), dtype=np.int64)
        return variant_indices(self.seed, idx, copy, self.padding, self.scheme)

    def batch(self, start: int, stop: int, copy: int) -> tuple[Tensor, Tensor]:
        """Copy ``copy`` of images start..stop-1: (augmented images, labels)."""
        x, y = self.images[start:stop], self.labels[start:stop]
        if not self.augment:
            return x, y
        v = self.variants(np.arange(start, stop), copy)
        flip, dy, dx = decode_variants(v, self.padding)
        return crop_flip(x, flip, dy, dx, self.padding, self.fill), y

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for k in range(self.copies):
            for s in range(0, self.num_images, self.batch_size):
                yield self.batch(s, min(s + self.batch_size, self.num_images), k)

    def materialize(self) -> tuple[Tensor, Tensor]:
        """All N·K samples as one pair (x, y), in iteration order (for tests and small sets only)."""
        xs, ys = zip(*self)
        return torch.cat(xs), torch.cat(ys)

    def __repr__(self) -> str:
        return (f"AugmentedData(N={self.num_images}, copies={self.copies}, seed={self.seed}, padding={self.padding}, "
                f"augment={self.augment}, scheme={self.scheme!r})")


def _check_padding(padding: Any) -> None:
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"padding must be a non-negative integer, got {padding!r}")


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
