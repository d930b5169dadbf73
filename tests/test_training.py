"""Training harness: schedule values, loss decrease, cache reuse, exact resume, bad configs."""

from __future__ import annotations

import pytest
import torch

from hessian_spectra import training
from hessian_spectra.data import LabelledData
from hessian_spectra.training import TrainConfig, granziol_linear_lr, load_checkpoint, train

torch.set_num_threads(1)


def _blobs(n: int = 120, seed: int = 0) -> LabelledData:
    """Three Gaussian blobs in 2 x 3 x 3 'images' (18 features), labels 0..2."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    centres = torch.randn(3, 18, generator=g) * 2.0
    x = centres[y] + torch.randn(n, 18, generator=g)
    return LabelledData(x=x.reshape(n, 2, 3, 3), y=y, name="blobs", split="train", num_classes=3,
                        source="synthetic (test)")


def _config(**over) -> TrainConfig:
    base = dict(model="mlp", model_kwargs={"in_dim": 18, "widths": [16], "num_classes": 3}, epochs=6, lr=0.05,
                batch_size=32, schedule="granziol_linear", seed=3, save_epochs=(0, 3, 6))
    base.update(over)
    return TrainConfig(**base)


def test_granziol_schedule_values():
    """Beyond-RMT eq 12 at t/T = 0.5, 0.7, 0.9, 1.0: alpha_0, 0.505 alpha_0, 0.01 alpha_0, 0.01 alpha_0."""
    for t, expected in [(0, 1.0), (150, 1.0), (210, 0.505), (270, 0.01), (300, 0.01), (151, 1 - 0.99 / 0.4 / 300)]:
        assert granziol_linear_lr(t, 300, 1.0) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert granziol_linear_lr(210, 300, 0.05, r=0.1) == pytest.approx(0.05 * (1 - 0.9 * 0.5), rel=1e-12)


def test_step_schedule():
    cfg = _config(schedule="step", schedule_kwargs={"milestones": [2, 4], "gamma": 0.1})
    lrs = [training.learning_rate(cfg, e) for e in range(6)]
    assert lrs == pytest.approx([0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005], rel=1e-12)


def test_loss_decreases_and_cache_and_checkpoints(tmp_path):
    data = _blobs()
    model, hist = train(_config(), data, device="cpu", checkpoint_dir=tmp_path, progress=False)
    losses = [r["train_loss"] for r in hist["records"]]
    assert len(losses) == 6 and hist["completed"] and not hist["loaded_from_cache"]
    assert losses[-1] < 0.5 * losses[0]
    assert hist["records"][-1]["train_accuracy"] > 0.9
    # the recorded lr follows eq 12 with T = 6
    assert [r["lr"] for r in hist["records"]] == pytest.approx([granziol_linear_lr(e, 6, 0.05) for e in range(6)])
    # the history's final loss is the loss of the returned model
    ev = training.evaluate(model, data)
    assert ev["loss"] == pytest.approx(losses[-1], rel=1e-6)
    assert sorted(hist["checkpoints"]) == [0, 3, 6]

    # second call: loaded from the cache, no optimizer step taken
    calls = []
    orig = torch.optim.SGD.step
    torch.optim.SGD.step = lambda self, *a, **k: calls.append(1) or orig(self, *a, **k)
    try:
        model2, hist2 = train(_config(), data, device="cpu", checkpoint_dir=tmp_path, progress=False)
    finally:
        torch.optim.SGD.step = orig
    assert calls == [] and hist2["loaded_from_cache"]
    for a, b in zip(model.state_dict().values(), model2.state_dict().values()):
        assert torch.equal(a, b)

    # per-epoch checkpoints: epoch 6 equals the final weights, epoch 0 the seeded initialisation
    m6 = load_checkpoint(_config(), 6, data=data, device="cpu", checkpoint_dir=tmp_path)
    m0 = load_checkpoint(_config(), 0, data=data, device="cpu", checkpoint_dir=tmp_path)
    for a, b in zip(m6.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)
    torch.manual_seed(3)
    init = training.build_model("mlp", in_dim=18, widths=[16], num_classes=3)
    for a, c in zip(init.state_dict().values(), m0.state_dict().values()):
        assert torch.equal(a, c)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(_config(), 2, data=data, device="cpu", checkpoint_dir=tmp_path)

    # a different configuration (or different data) gets a different cache entry
    _, hist3 = train(_config(lr=0.04), data, device="cpu", checkpoint_dir=tmp_path, progress=False)
    assert hist3["config_hash"] != hist["config_hash"] and not hist3["loaded_from_cache"]
    d_other = _blobs(seed=1)
    assert training.run_directory(_config(), d_other, device="cpu", checkpoint_dir=tmp_path)[1] != hist["config_hash"]


@pytest.mark.parametrize("augmentation, model, kwargs", [
    ("none", "mlp", {"in_dim": 18, "widths": [16], "num_classes": 3}),
    ("crop_flip", "mini_vgg", {"conv_widths": [4], "hidden": [8], "in_channels": 2, "input_size": 3,
                               "num_classes": 3, "batch_norm": True}),
])
def test_resume_after_interruption_is_exact(tmp_path, augmentation, model, kwargs):
    """Stop after 2 of 5 epochs, resume: the weights equal those of an uninterrupted run bit for bit
    (with augmentation, BN and momentum buffers)."""
    data = _blobs(60)
    cfg = _config(model=model, model_kwargs=kwargs, augmentation=augmentation, epochs=5, save_epochs=())
    ref, hist_ref = train(cfg, data, device="cpu", checkpoint_dir=tmp_path / "a", progress=False)
    part, hist_part = train(cfg, data, device="cpu", checkpoint_dir=tmp_path / "b", progress=False, stop_after=2)
    assert not hist_part["completed"] and len(hist_part["records"]) == 2
    assert (tmp_path / "b" / hist_part["config_hash"] / "resume.pt").is_file()
    res, hist_res = train(cfg, data, device="cpu", checkpoint_dir=tmp_path / "b", progress=False)
    assert hist_res["completed"] and not hist_res["loaded_from_cache"]
    assert not (tmp_path / "b" / hist_part["config_hash"] / "resume.pt").exists()
    for (k, a), b in zip(ref.state_dict().items(), res.state_dict().values()):
        assert torch.equal(a, b), k
    assert [r["train_loss"] for r in hist_ref["records"]] == [r["train_loss"] for r in hist_res["records"]]


def test_crop_flip_is_a_crop_of_the_padded_image():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4) + 1
    g = torch.Generator().manual_seed(0)
    out = training.augment_crop_flip(x, g, padding=1)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    for i in range(2):
        windows = [padded[i, :, r:r + 4, c:c + 4] for r in range(3) for c in range(3)]
        windows += [w.flip(-1) for w in windows]
        assert any(torch.equal(out[i], w) for w in windows)


def test_mse_loss_matches_eq4():
    logits = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    y = torch.tensor([0, 1])
    # (1/2N) sum ||h - e_y||^2 = (0 + 0.5) / (2 * 2)
    assert float(training.loss_function("mse")(logits, y)) == pytest.approx(0.125)


@pytest.mark.parametrize("over, match", [
    (dict(epochs=0), "epochs"),
    (dict(lr=-1.0), "lr"),
    (dict(batch_size=0), "batch_size"),
    (dict(momentum=1.0), "momentum"),
    (dict(schedule="cosine"), "unknown schedule"),
    (dict(schedule="step"), "milestones"),
    (dict(schedule_kwargs={"gamma": 0.1}), "takes"),
    (dict(augmentation="mixup"), "unknown augmentation"),
    (dict(loss="hinge"), "unknown loss"),
    (dict(save_epochs=(7,)), "save_epochs"),
    (dict(dtype="float16"), "unknown dtype"),
])
def test_bad_config_raises(over, match):
    with pytest.raises(ValueError, match=match):
        _config(**over)


def test_bad_config_dict_and_missing_data(tmp_path):
    with pytest.raises(ValueError, match="unknown keys"):
        train({"model": "mlp", "epoch": 3}, _blobs(), checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="data spec"):
        train(_config(), None, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown model"):
        train(_config(model="resnet1000"), _blobs(), device="cpu", checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="unknown keys"):
        training.prepare_data({"name": "mnist", "per_clas": 3})


def test_prepare_data_mnist_pooled():
    try:
        train_d, test_d = training.prepare_data({"name": "mnist", "per_class": 2, "pool": 4, "test": True,
                                                 "test_subset": 5, "normalize": "standardize"})
    except FileNotFoundError as exc:  # no local MNIST and no network
        pytest.skip(str(exc))
    assert train_d.x.shape == (20, 1, 7, 7) and test_d.x.shape == (5, 1, 7, 7)
    assert torch.bincount(train_d.y).tolist() == [2] * 10
    assert float(train_d.x.mean()) == pytest.approx(0.0, abs=1e-5)
    assert "average-pooled" in train_d.note and "standardised" in train_d.note


def test_prepare_data_mnist_padded():
    """``pad`` zero-pads MNIST to 32 x 32 (torchvision ``Pad(2)``) before pooling and normalisation."""
    try:
        raw, _ = training.prepare_data({"name": "mnist", "per_class": 2})
        padded, _ = training.prepare_data({"name": "mnist", "per_class": 2, "pad": 2})
    except FileNotFoundError as exc:  # no local MNIST and no network
        pytest.skip(str(exc))
    assert padded.x.shape == (20, 1, 32, 32)
    assert torch.equal(padded.x[:, :, 2:-2, 2:-2], raw.x) and float(padded.x[:, :, :2].abs().sum()) == 0.0
    assert "zero-padded by 2 px" in padded.note
    with pytest.raises(ValueError, match="pad"):
        training.prepare_data({"name": "mnist", "per_class": 2, "pad": -1})
