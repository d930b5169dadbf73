"""Figure writing, claims, profiles and configuration hashing."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from hessian_spectra.pipeline.cache import config_hash, memory
from hessian_spectra.pipeline.profiles import resolve_profile
from hessian_spectra.pipeline.claims import Claim, verdict_within
from hessian_spectra import files
from hessian_spectra.pipeline import report
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


def _figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 2])
    return fig


def test_save_figure_is_atomic(tmp_path, monkeypatch):
    """A save that fails midway (or is given data JSON cannot hold) leaves the previous PNG and JSON as
    they were and no temporary file; a successful one leaves exactly the two files."""
    fig = _figure()
    path = save_figure(fig, "paper/fig01", title="t", profile="smoke", settings={"n": 1}, figures_dir=tmp_path)
    png = tmp_path / "paper" / "fig01.png"
    old_png, old_json = png.read_bytes(), path.read_text()
    assert sorted(p.name for p in png.parent.iterdir()) == ["fig01.json", "fig01.png"]

    real_savefig = fig.savefig

    def killed_midway(fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(fig, "savefig", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        save_figure(fig, "paper/fig01", title="t", profile="smoke", settings={"n": 2}, figures_dir=tmp_path)
    with pytest.raises(TypeError):  # not JSON: found before anything is written
        save_figure(fig, "paper/fig01", title="t", profile="smoke", settings={"n": object()}, figures_dir=tmp_path)
    assert png.read_bytes() == old_png and path.read_text() == old_json
    assert sorted(p.name for p in png.parent.iterdir()) == ["fig01.json", "fig01.png"]
    monkeypatch.setattr(fig, "savefig", real_savefig)
    save_figure(fig, "paper/fig01", title="t", profile="smoke", settings={"n": 3}, figures_dir=tmp_path)
    assert json.loads(path.read_text())["settings"] == {"n": 3}
    assert sorted(p.name for p in png.parent.iterdir()) == ["fig01.json", "fig01.png"]
    plt.close(fig)


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    ended = subprocess.Popen(["true"])
    ended.wait()  # reaped: its pid names no process
    dead = tmp_path / f".fig01.png.{ended.pid}.0123abcd.tmp"
    live = tmp_path / f".fig01.png.{os.getppid()}.0123abcd.tmp"
    mine = files.temporary_sibling(tmp_path / "fig01.png")
    other = tmp_path / ".notes.tmp"  # not one of ours
    for p in (dead, live, mine, other):
        p.write_bytes(b"x")
    assert mine.name.startswith(f".fig01.png.{os.getpid()}.") and mine.name.endswith(".tmp")
    assert files.remove_stale_temporaries(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, mine, other))


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_environment_records_git_commit_and_dirty_flag(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.setattr(report, "repo_root", lambda: tmp_path)
    info = report.environment_info()  # not a git checkout
    assert info["git_commit"] is None and info["git_dirty"] is None

    _git(tmp_path, "init", "-q")
    (tmp_path / "tracked.py").write_text("x = 1\n")
    _git(tmp_path, "add", "tracked.py")
    _git(tmp_path, "commit", "-q", "-m", "first")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tmp_path, capture_output=True,
                          text=True).stdout.strip()
    info = report.environment_info()
    assert info["git_commit"] == head and len(head) >= 7 and info["git_dirty"] is False
    (tmp_path / "untracked.txt").write_text("scratch")  # untracked files do not make a checkout dirty
    assert report.environment_info()["git_dirty"] is False
    (tmp_path / "tracked.py").write_text("x = 2\n")
    assert report.environment_info()["git_dirty"] is True
    _git(tmp_path, "add", "tracked.py")  # staged but not committed: still dirty
    assert report.environment_info()["git_dirty"] is True
    _git(tmp_path, "commit", "-q", "-m", "second")
    info = report.environment_info()
    assert info["git_dirty"] is False and info["git_commit"] != head
    (tmp_path / "figures").mkdir()  # a committed figure being regenerated is an output, not a change of code
    (tmp_path / "figures" / "fig.json").write_text("{}")
    _git(tmp_path, "add", "figures/fig.json")
    _git(tmp_path, "commit", "-q", "-m", "figure")
    (tmp_path / "figures" / "fig.json").write_text('{"new": 1}')
    assert report.environment_info()["git_dirty"] is False
    info = report.environment_info()

    fig = _figure()
    (tmp_path / "tracked.py").write_text("x = 3\n")
    path = save_figure(fig, "paper/fig01", title="t", profile="smoke", settings={}, figures_dir=tmp_path / "figs")
    env = json.loads(path.read_text())["environment"]
    assert env["git_commit"] == info["git_commit"] and env["git_dirty"] is True
    plt.close(fig)
