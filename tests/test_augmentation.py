"""The fixed augmented data set of ``hessian_spectra.augmentation`` (Granziol et al. 2020, §6).

Determinism (the same seed gives the same bytes, a different copy a different crop), the crop/flip against
a per-image reference crop of the padded image, K = 1 with augmentation off equals the original data, the
engine accepts the set as data, and bad arguments raise ``ValueError`` naming the problem.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hessian_spectra.augmentation import (
    AugmentedData,
    black_fill,
    crop_flip,
    decode_variants,
    hash_indices,
    identity_variant,
    num_variants,
    variant_indices,
)

torch.set_num_threads(1)  # two threads on a shared 2-core machine oversubscribe (20x slower measured)


def _data(n: int = 12, c: int = 3, side: int = 8, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, side, side, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_variant_counts_and_decoding():
    assert num_variants(4) == 162 and num_variants(2) == 50 and num_variants(0) == 2
    flip, dy, dx = decode_variants(torch.arange(num_variants(4)), 4)
    triples = set(zip(flip.tolist(), dy.tolist(), dx.tolist()))
    assert len(triples) == 162                                   # a bijection onto {0,1} x {0..8}^2
    assert min(dy.tolist()) == 0 and max(dx.tolist()) == 8
    f, a, b = decode_variants(torch.tensor([identity_variant(4)]), 4)
    assert (bool(f[0]), int(a[0]), int(b[0])) == (False, 4, 4)


def test_same_seed_same_bytes_and_copies_differ():
    x, y = _data()
    a = AugmentedData((x, y), copies=4, seed=3, padding=2, batch_size=5)
    b = AugmentedData((x, y), copies=4, seed=3, padding=2, batch_size=5)
    xa, ya = a.materialize()
    xb, yb = b.materialize()
    assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert torch.equal(xa, a.materialize()[0])                   # a second pass: the same set
    # batch size does not change the samples
    assert torch.equal(xa, AugmentedData((x, y), 4, seed=3, padding=2, batch_size=12).materialize()[0])
    # distinct scheme: the 4 copies of every image are 4 different variants
    v = np.stack([a.variants(np.arange(12), k) for k in range(4)], axis=1)
    assert all(len(set(row)) == 4 for row in v)
    n = x.shape[0]
    assert not torch.equal(xa[:n], xa[n:2 * n])                  # copy 0 vs copy 1
    # another seed gives another set
    assert not torch.equal(xa, AugmentedData((x, y), 4, seed=4, padding=2).materialize()[0])
    assert ya.tolist() == y.tolist() * 4


def test_variants_depend_only_on_seed_image_copy():
    full = variant_indices(7, np.arange(100), 5, padding=4)
    part = variant_indices(7, np.array([42, 3, 99]), 5, padding=4)
    assert part.tolist() == [full[42], full[3], full[99]]
    ind = variant_indices(7, np.arange(100), 5, padding=4, scheme="independent")
    assert ind.tolist() != full.tolist() and 0 <= ind.min() and ind.max() < 162
    # hash: broadcast, order independent, distinct for neighbouring keys
    h = hash_indices(1, np.arange(1000))
    assert len(set(h.tolist())) == 1000 and hash_indices(1, 17)[()] == h[17]
    # the distinct scheme covers all variants of an image once over its V copies
    all_copies = [variant_indices(0, [5], k, padding=1)[0] for k in range(num_variants(1))]
    assert sorted(all_copies) == list(range(num_variants(1)))


def test_crop_flip_is_a_crop_of_the_padded_image():
    x, y = _data(n=10, side=7)
    a = AugmentedData((x, y), copies=3, seed=11, padding=3, fill=[0.5, -1.0, 2.0], batch_size=4)
    fill = torch.tensor([0.5, -1.0, 2.0]).reshape(1, 3, 1, 1)
    for k in range(3):
        xb, _ = a.batch(0, 10, k)
        flip, dy, dx = decode_variants(a.variants(np.arange(10), k), 3)
        for j in range(10):
            padded = F.pad(x[j:j + 1], (3, 3, 3, 3))
            mask = F.pad(torch.ones(1, 1, 7, 7), (3, 3, 3, 3))
            padded = padded * mask + fill * (1 - mask)
            ref = padded[0, :, int(dy[j]):int(dy[j]) + 7, int(dx[j]):int(dx[j]) + 7]
            if bool(flip[j]):
                ref = ref.flip(-1)
            assert torch.equal(xb[j], ref)
    # zero padding and the identity variant leave the image untouched
    n = x.shape[0]
    ident = torch.full((n,), 3, dtype=torch.long)
    assert torch.equal(crop_flip(x, torch.zeros(n, dtype=torch.bool), ident, ident, 3), x)
    assert torch.equal(crop_flip(x, torch.ones(n, dtype=torch.bool), ident, ident, 3), x.flip(-1))
    assert black_fill([0.5, 0.25], [0.5, 0.5]) == [-1.0, -0.5]


def test_one_copy_without_augmentation_is_the_original_data():
    x, y = _data(n=9)
    a = AugmentedData((x, y), copies=1, augment=False, batch_size=4)
    batches = list(a)
    assert len(batches) == len(a) == 3
    assert all(torch.equal(bx, x[4 * i:4 * i + 4]) for i, (bx, _) in enumerate(batches))
    xa, ya = a.materialize()
    assert torch.equal(xa, x) and torch.equal(ya, y)
    assert a.num_samples == 9 and a.describe()["augment"] is False


def test_engine_accepts_augmented_data():
    from hessian_spectra.hessian import hessian_operator

    torch.manual_seed(0)
    x, y = _data(n=6, c=2, side=5)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 2, 3), torch.nn.Tanh(), torch.nn.Flatten(),
                                torch.nn.Linear(18, 3)).double()
    a = AugmentedData((x.double(), y % 3), copies=3, seed=0, padding=1, batch_size=4)
    op = hessian_operator(model, F.cross_entropy, a)
    xa, ya = a.materialize()
    ref = hessian_operator(model, F.cross_entropy, (xa, ya))
    v = torch.randn(op.shape[0], 2, dtype=torch.float64)
    assert torch.allclose(op @ v, ref @ v, rtol=1e-12, atol=1e-14)
    assert op.num_samples == 18


@pytest.mark.parametrize("kwargs, match", [
    ({"copies": 0}, "copies must be a positive integer"),
    ({"copies": 2.5}, "copies must be a positive integer"),
    ({"copies": 2, "seed": -1}, "seed must be a non-negative integer"),
    ({"copies": 2, "padding": -2}, "padding must be a non-negative integer"),
    ({"copies": 2, "padding": 9}, "padding 9 exceeds the image side"),
    ({"copies": 2, "scheme": "shuffled"}, "unknown augmentation scheme"),
    ({"copies": 51, "padding": 2}, "copies=51 > 50 distinct variants"),
    ({"copies": 2, "fill": [0.0, 1.0]}, "fill must be a finite scalar or one value per channel"),
    ({"copies": 2, "batch_size": 0}, "batch_size must be a positive integer"),
])
def test_bad_arguments_raise(kwargs, match):
    x, y = _data()
    with pytest.raises(ValueError, match=match):
        AugmentedData((x, y), **kwargs)


def test_bad_data_and_indices_raise():
    x, y = _data()
    with pytest.raises(ValueError, match="images must have shape"):
        AugmentedData((x[:, 0], y), 2)
    with pytest.raises(ValueError, match="differ in length"):
        AugmentedData((x, y[:3]), 2)
    with pytest.raises(ValueError, match="pair"):
        AugmentedData(x, 2)
    with pytest.raises(ValueError, match="copy index 162"):
        variant_indices(0, [1], 162, padding=4)
    with pytest.raises(ValueError, match="copy index 5 out of range"):
        AugmentedData((x, y), 2).variants([0], 5)
    with pytest.raises(ValueError, match="non-negative integers"):
        hash_indices(-1, 2)
    with pytest.raises(ValueError, match="variant indices must lie"):
        decode_variants(torch.tensor([50]), 2)
    AugmentedData((x, y), 200, padding=2, scheme="independent")  # independent copies may exceed V
