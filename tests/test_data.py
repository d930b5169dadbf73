"""Dataset loading by name, the search path, clear errors, and derived variants."""

import os
import subprocess
from pathlib import Path

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


# ---------------------------------------------------------------------------------------------
# Downloads that fail or are interrupted, and partial copies left by older versions.
# Nothing is downloaded: torchvision's MNIST.download is replaced by functions that write files the
# way it does (into <root>/MNIST/raw), completely or partly.


def _write_idx(path, array: np.ndarray) -> None:
    """An uncompressed IDX file (the MNIST format torchvision reads): magic 0 0 8 ndim, big-endian dims, bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _complete_download(self) -> None:
    raw = Path(self.raw_folder)
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", 5), ("t10k", 3)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", np.full((n, 28, 28), 255, np.uint8))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8))


def _partial_files(self) -> None:
    raw = Path(self.raw_folder)
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b" + b"\0" * 100)  # a truncated archive


def _failing_download(self) -> None:
    _partial_files(self)
    raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://ossci-datasets.s3.amazonaws.com"
                       "/mnist/, got:\n<urlopen error [Errno -3] Temporary failure in name resolution>\n")


def _interrupted_download(self) -> None:
    _partial_files(self)
    raise KeyboardInterrupt


@pytest.fixture
def places(tmp_path, monkeypatch):
    """(repository data folder, shared folder on $HESSIAN_SPECTRA_DATA), both empty; caches cleared."""
    repo, shared = tmp_path / "repo", tmp_path / "shared"
    repo.mkdir()
    shared.mkdir()
    monkeypatch.setattr(D, "repo_root", lambda: repo)
    monkeypatch.setenv("HESSIAN_SPECTRA_DATA", str(shared))
    D._load_arrays.cache_clear()
    yield repo / "data", shared
    D._load_arrays.cache_clear()


def _save_mnist_npz(folder, n: int = 4) -> None:
    np.savez(folder / "mnist.npz", x_train=np.zeros((n, 28, 28), np.uint8), y_train=np.arange(n, dtype=np.uint8),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2, np.uint8))


def _offline_error(name: str = "mnist") -> str:
    D._load_arrays.cache_clear()
    with pytest.raises(FileNotFoundError) as err:
        D.load_dataset(name, download=False)
    msg = str(err.value)
    assert "\n" not in msg and f"dataset {name!r}" in msg and "downloads are off" in msg and "to fix:" in msg
    assert "You can use download=True" not in msg  # torchvision's advice does not apply here
    return msg


def test_failed_download_leaves_nothing_and_the_next_load_is_clear(places, monkeypatch):
    import torchvision

    data_dir, shared = places
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", _failing_download)
    with pytest.raises(FileNotFoundError) as err:
        D.load_dataset("mnist", download=True)
    msg = str(err.value)
    assert "\n" not in msg and "dataset 'mnist' (train)" in msg and "download failed, leaving nothing behind" in msg
    assert "Temporary failure in name resolution" in msg and str(shared) in msg and str(data_dir) in msg
    assert list(data_dir.iterdir()) == []  # no MNIST/raw, no temporary folder

    # offline, the next load says what is missing and where it looked; nothing unreadable is reported
    msg = _offline_error()
    assert f"looked in: {shared}, {data_dir};" in msg and "cannot be read" not in msg
    # with a local copy, the next load succeeds
    _save_mnist_npz(shared)
    D._load_arrays.cache_clear()
    ds = D.load_dataset("mnist", download=False)
    assert ds.y.tolist() == [0, 1, 2, 3] and ds.source == str(shared / "mnist.npz")


def test_interrupted_download_leaves_nothing(places, monkeypatch):
    import torchvision

    data_dir, shared = places
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", _interrupted_download)
    with pytest.raises(KeyboardInterrupt):  # an interruption is not turned into a data error
        D.load_dataset("mnist", download=True)
    assert list(data_dir.iterdir()) == []
    assert "cannot be read" not in _offline_error()


def test_download_moves_into_place_replacing_a_partial_folder(places, monkeypatch):
    import torchvision

    data_dir, shared = places
    stale = data_dir / "MNIST" / "raw"  # what a failed download of an older version left
    stale.mkdir(parents=True)
    (stale / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b")
    # temporary folders of killed downloads: one of a dead process (removed), one of a live one (kept)
    ended = subprocess.Popen(["true"])
    ended.wait()  # reaped: its pid names no process
    dead = data_dir / f".MNIST.{ended.pid}.0123abcd.tmp"
    live = data_dir / f".MNIST.{os.getppid()}.89abcdef.tmp"
    for tmp in (dead, live):
        (tmp / "MNIST" / "raw").mkdir(parents=True)
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", _complete_download)
    ds = D.load_dataset("mnist", download=True)
    assert ds.x.shape == (5, 1, 28, 28) and ds.y.tolist() == [0, 1, 2, 3, 4] and float(ds.x.min()) == 1.0
    assert ds.source == f"torchvision download into {data_dir / 'MNIST'}"
    assert sorted(p.name for p in (data_dir / "MNIST" / "raw").iterdir()) == [
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    assert sorted(p.name for p in data_dir.iterdir()) == sorted(["MNIST", live.name])

    # the next load, offline, finds the downloaded copy (both splits)
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", _failing_download)
    D._load_arrays.cache_clear()
    test = D.load_dataset("mnist", "test", download=False)
    assert test.y.tolist() == [0, 1, 2] and test.source == str(data_dir / "MNIST")


def test_partial_torchvision_folder_gives_the_projects_error(places):
    data_dir, shared = places
    (data_dir / "MNIST" / "raw").mkdir(parents=True)  # left by a failed download of an older version
    (data_dir / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b")
    msg = _offline_error()
    assert f"looked in: {shared}, {data_dir};" in msg
    assert f"{data_dir / 'MNIST'} is incomplete or corrupt" in msg and "(delete it)" in msg

    cifar = data_dir / "cifar-10-batches-py"  # files present but failing torchvision's checksums
    cifar.mkdir()
    for f in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
              "batches.meta"):
        (cifar / f).write_bytes(b"not a pickle")
    msg = _offline_error("cifar10")
    assert f"{cifar} is incomplete or corrupt" in msg


def test_unreadable_copy_is_passed_over_for_a_good_one(places, monkeypatch, tmp_path):
    data_dir, shared = places
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "MNIST" / "raw").mkdir(parents=True)
    second.mkdir()
    (second / "fashion_mnist.npz").write_bytes(b"PK\x03\x04 truncated")
    _save_mnist_npz(second, n=3)
    monkeypatch.setenv("HESSIAN_SPECTRA_DATA", f"{first}{os.pathsep}{second}")
    with pytest.warns(UserWarning, match=f"passed over {first / 'MNIST'} is incomplete or corrupt"):
        ds = D.load_dataset("mnist", download=False)
    assert ds.y.tolist() == [0, 1, 2] and ds.source == str(second / "mnist.npz")
    msg = _offline_error("fashion_mnist")
    assert f"{second / 'fashion_mnist.npz'} is unreadable: " in msg
