"""Training configurations of ``papers/granziol2020/zoo.py`` and one smoke run end to end: train the C10 Normal
stand-in, then the Empirical and Augmented stem plots and their summaries (the notebook's path)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hessian_spectra.models import build_model, count_parameters
from hessian_spectra.papers.granziol2020 import spectra as sp
from hessian_spectra.papers.granziol2020 import zoo
from hessian_spectra.training import learning_rate

torch.set_num_threads(1)  # two threads on a shared 2-core machine oversubscribe (20x slower measured)


def test_configurations_per_profile():
    for profile in zoo.PROFILES:
        for run in zoo.RUNS:
            cfg = zoo.zoo_config(run, profile, cifar100=False)
            assert cfg.augmentation == "crop_flip" and cfg.momentum == 0.9 and cfg.schedule == "granziol_linear"
            assert cfg.seed == (1 if zoo.RUNS[run].slot == "c100" else 0)
    # eq 11 values (inventory §N fact 9): Normal 0.1 to epoch 112, decay, 0.001 from 203; Overfit 1e-5 from 900
    m2 = zoo.zoo_config("M2", "paper")
    assert learning_rate(m2, 112) == 0.1 and learning_rate(m2, 203) == pytest.approx(0.001)
    assert learning_rate(zoo.zoo_config("M4", "default"), 900) == pytest.approx(1e-5)
    assert zoo.zoo_config("A2", "paper").save_epochs == zoo.APPENDIX_EPOCHS
    assert zoo.zoo_config("A1", "smoke").save_epochs == (0, 3, 5, 8, 13, 15, 30)
    # the default stand-ins reproduce the paper's ratios q = P/N (23.4 / 0.78 for the PreResNet)
    d = zoo.zoo_config("M2", "default")
    P = count_parameters(build_model(d.model, **d.model_kwargs))
    N = d.data["per_class"] * 10
    assert abs(P / N - 23.4) < 0.5 and abs(P / (N * zoo.spectral_settings("default")["copies"]) - 0.78) < 0.02
    # paper models: the paper's parameter counts (PreResNet-110 for C100 only with CIFAR-100 itself)
    c100 = zoo.zoo_config("M1", "paper", cifar100=True)
    assert c100.data["name"] == "cifar100"
    assert count_parameters(build_model(c100.model, **c100.model_kwargs)) == 1_169_972
    with pytest.raises(ValueError, match="unknown granziol2020 run"):
        zoo.zoo_config("M9", "smoke")
    with pytest.raises(ValueError, match="unknown profile"):
        zoo.spectral_settings("huge")


def test_describe_flags_the_cifar100_stand_in():
    d = zoo.describe("M1", "default", cifar100=False)
    assert d["dataset_substituted"] and d["stand_in"] and "CIFAR-100 unavailable offline" in d["data"]
    assert not zoo.describe("M2", "paper")["stand_in"]
    assert zoo.describe("M1", "paper", cifar100=True)["dataset_substituted"] is False


def test_smoke_run_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("HESSIAN_SPECTRA_CHECKPOINTS", str(tmp_path))
    cfg = zoo.zoo_config("M2", "smoke")
    model, data, history = zoo.trained(cfg, device="cpu")
    assert history["completed"] and len(history["records"]) == cfg.epochs
    s = zoo.spectral_settings("smoke")
    emp = sp.lanczos_stem(sp.empirical_hessian(model, data), 20, seed=0)
    aug_op = sp.augmented_hessian(model, data, copies=4, seed=0, padding=s["padding"])
    aug = sp.lanczos_stem(aug_op, 10, seed=0)
    for r in (emp, aug):
        summary = sp.spectrum_summary(r["nodes"], r["weights"], P=r["P"])
        assert np.isclose(sum(r["weights"]), 1.0) and summary["theta_min"] < summary["theta_max"]
    assert aug_op.num_samples == 4 * len(data)
