"""Figure writing, claims, profiles and configuration hashing."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from hessian_spectra.pipeline.cache import config_hash, memory
from hessian_spectra.pipeline.profiles import resolve_profile
from hessian_spectra.pipeline.claims import Claim, verdict_within
from hessian_spectra.pipeline.report import save_figure


def test_save_figure_writes_png_and_json(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 2])
    claim = Claim("S1", "top eigenvalue equals 2", 2.0, 2.0000001, verdict_within(2.0000001, 2.0, 1e-6))
    path = save_figure(fig, "paper/fig01", title="t", profile="smoke", settings={"n": np.int64(3)},
                       datasets=[{"name": "synthetic"}], data={"y": np.array([1.0, np.nan]), "t": torch.ones(2)},
                       claims=[claim], figures_dir=tmp_path)
    rec = json.loads(path.read_text())
    assert (tmp_path / "paper" / "fig01.png").stat().st_size > 1000
    assert rec["profile"] == "smoke" and rec["settings"] == {"n": 3}
    assert rec["data"]["y"] == [1.0, "nan"] and rec["data"]["t"] == [1.0, 1.0]
    assert rec["claims"][0]["verdict"] == "agree" and rec["verdicts"]["agree"] == 1
    plt.close(fig)


def test_claim_verdicts_are_validated():
    with pytest.raises(ValueError, match="unknown verdict"):
        Claim("S1", "x", 1, 1, "maybe")
    with pytest.raises(ValueError, match="needs a note"):
        Claim("S1", "x", 1, None, "not_checkable")


def test_resolve_profile():
    table = {"smoke": {"n": 10, "steps": 2}, "default": {"n": 100, "steps": 20}, "paper": {"n": 5000, "steps": 80}}
    assert resolve_profile(table, "default") == {"n": 100, "steps": 20, "profile": "default"}
    assert resolve_profile(table, "smoke", n=None, steps=5)["steps"] == 5
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        resolve_profile(table, "fast")
    with pytest.raises(ValueError, match="override 'stpes'"):
        resolve_profile(table, "paper", stpes=3)


def test_config_hash_is_stable_and_order_free():
    a = config_hash({"lr": 0.1, "layers": [1, 2], "nested": {"b": 1, "a": 2}})
    b = config_hash({"nested": {"a": 2, "b": 1}, "layers": (1, 2), "lr": 0.1})
    assert a == b and len(a) == 16
    assert a != config_hash({"lr": 0.2, "layers": [1, 2], "nested": {"b": 1, "a": 2}})
    with pytest.raises(TypeError):
        config_hash({"f": object()})


def test_memory_caches(tmp_path):
    calls = []

    def square(x):
        calls.append(x)
        return x * x

    cached = memory(tmp_path).cache(square)
    assert cached(3) == 9 and cached(3) == 9
    assert calls == [3]
