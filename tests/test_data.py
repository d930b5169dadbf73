"""Dataset loading by name, the search path, clear errors, and derived variants."""

import numpy as np
import pytest
import torch

from conftest import have_dataset
from hessian_spectra import data as D


def _fake(n=100, classes=10):
    g = torch.Generator().manual_seed(0)
    return D.LabelledData(x=torch.rand(n, 1, 4, 4, generator=g), y=torch.arange(n) % classes, name="fake",
                          split="train", num_classes=classes, source="test")


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown dataset 'mnsit'.*mnist, fashion_mnist, cifar10, cifar100"):
        D.load_dataset("mnsit")
    with pytest.raises(ValueError, match="unknown split"):
        D.load_dataset("mnist", split="validation")


def test_aliases():
    assert D.canonical_name("Fashion-MNIST") == "fashion_mnist"
    assert D.canonical_name("CIFAR-10") == "cifar10"


def test_missing_files_give_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HESSIAN_SPECTRA_DATA", str(tmp_path))
    monkeypatch.setattr(D, "repo_root", lambda: tmp_path)
    D._load_arrays.cache_clear()
    with pytest.raises(FileNotFoundError) as err:
        D.load_dataset("cifar100", download=False)
    msg = str(err.value)
    assert "cifar100" in msg and str(tmp_path) in msg and "\n" not in msg
    D._load_arrays.cache_clear()


def test_npz_on_search_path_is_found(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mnist.npz", x_train=rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
             y_train=np.arange(7, dtype=np.uint8), x_test=np.zeros((2, 28, 28), np.uint8),
             y_test=np.zeros(2, np.uint8))
    monkeypatch.setenv("HESSIAN_SPECTRA_DATA", str(tmp_path))
    D._load_arrays.cache_clear()
    ds = D.load_dataset("mnist")
    assert ds.x.shape == (7, 1, 28, 28) and ds.x.dtype == torch.float32
    assert float(ds.x.max()) <= 1.0 and ds.y.tolist() == list(range(7))
    assert ds.source.endswith("mnist.npz")
    D._load_arrays.cache_clear()


@pytest.mark.skipif(not have_dataset("mnist"), reason="no local MNIST on the search path")
def test_real_mnist_is_canonical():
    ds = D.load_dataset("mnist", "train")
    assert ds.x.shape == (60000, 1, 28, 28)
    assert ds.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert abs(float(ds.x.mean()) * 255 - 33.318) < 1e-2


@pytest.mark.skipif(not have_dataset("cifar10"), reason="no local CIFAR-10 on the search path")
def test_real_cifar10_jpeg_copy_is_labelled_lossy():
    ds = D.load_dataset("cifar10", "test")
    assert ds.x.shape == (10000, 3, 32, 32) and ds.num_classes == 10
    assert "JPEG" in ds.note
    means = ds.x.mean((0, 2, 3))
    assert torch.allclose(means, torch.tensor([0.4942, 0.4851, 0.4504]), atol=5e-3)  # canonical test-set means


def test_per_class_and_select_classes():
    ds = _fake()
    sub = D.per_class(ds, 3, seed=1)
    assert len(sub) == 30 and torch.bincount(sub.y).tolist() == [3] * 10
    unbalanced = D.per_class(ds, {0: 5, 1: 2})
    assert torch.bincount(unbalanced.y).tolist() == [5, 2]
    two = D.select_classes(ds, [7, 3])
    assert set(two.y.tolist()) == {0, 1} and two.num_classes == 2
    assert torch.equal(two.y, (ds.y[torch.isin(ds.y, torch.tensor([3, 7]))] == 3).long())
    with pytest.raises(ValueError, match="class 0 of fake has 10 examples; asked for 11"):
        D.per_class(ds, 11)
    with pytest.raises(ValueError):
        D.select_classes(ds, [10])


def test_random_labels_and_subset_are_seeded():
    ds = _fake(1000)
    a, b = D.random_labels(ds, 1.0, seed=3), D.random_labels(ds, 1.0, seed=3)
    assert torch.equal(a.y, b.y)
    agree = float((a.y == ds.y).float().mean())
    assert 0.05 < agree < 0.15  # uniform labels agree with the true ones about 1/10 of the time
    assert torch.equal(D.random_labels(ds, 0.0).y, ds.y)
    s = D.subset(ds, 10, seed=2)
    assert len(s) == 10 and torch.equal(s.x, D.subset(ds, 10, seed=2).x)
    with pytest.raises(ValueError, match="out of range"):
        D.subset(ds, 0)
    with pytest.raises(ValueError):
        D.random_labels(ds, 1.5)


def test_standardize():
    ds = D.standardize(_fake(500))
    assert torch.allclose(ds.x.mean((0, 2, 3)), torch.zeros(1), atol=1e-5)
    assert torch.allclose(ds.x.std((0, 2, 3)), torch.ones(1), atol=1e-5)
    assert "standardised" in ds.note
