"""run_all.sh killed mid-run and started again: finished notebooks are not rerun, an interrupted training
resumes from its resume file, cached results are reused, and nothing half-written is left behind.

The runner runs for real (``python -m hessian_spectra.pipeline.runner``, as ``run_all.sh`` execs it) on a
catalog of two tiny notebooks written here. The second one computes a cached result, then trains a tiny
MLP with :func:`hessian_spectra.training.train`; right after the resume file of epoch ``PAUSE_EPOCH`` is
on disk it writes ``paused.json`` (its kernel's pid) and waits. The test kills the runner's process group
and the kernel with SIGKILL at that moment (synchronised on that file and on the first notebook's stamp,
not on timing), then runs the runner again.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
import torch

EPOCHS = 8
PAUSE_EPOCH = 3
DEADLINE_S = 240  # a hang fails instead of stalling the suite

HELPERS = '''
"""Helpers of the resume test's notebooks."""
import json
import os
import time
from pathlib import Path

import torch

from hessian_spectra import training
from hessian_spectra.data import LabelledData


def blobs(n: int = 96) -> LabelledData:
    """Three Gaussian blobs in 2 x 2 x 2 'images', labels 0..2."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    centres = torch.randn(3, 8, generator=g) * 2.0
    x = centres[y] + torch.randn(n, 8, generator=g)
    return LabelledData(x=x.reshape(n, 2, 2, 2), y=y, name="blobs", split="train", num_classes=3,
                        source="synthetic (test)")


def config(epochs: int) -> dict:
    return dict(model="mlp", model_kwargs={"in_dim": 8, "widths": [8], "num_classes": 3}, epochs=epochs,
                lr=0.05, batch_size=32, seed=1, save_epochs=[0, epochs])


def expensive(k: int, log: str) -> list:
    """A 'costly' computation that logs every time it really runs."""
    with open(log, "a") as fh:
        fh.write(f"{k}\\n")
    return [k * i for i in range(4)]


def pause_after_resume_file(control: Path, pause_epoch: int) -> list:
    """Record the epochs whose resume file this process writes; after epoch ``pause_epoch``'s, if
    ``control/pause`` exists, announce it in ``control/paused.json`` and wait to be killed."""
    saved = []
    save = training._atomic_save

    def save_then_pause(obj, path):
        save(obj, path)
        if path.name == "resume.pt":
            saved.append(int(obj["epoch"]))
            if obj["epoch"] == pause_epoch and (control / "pause").exists():
                tmp = control / "paused.json.part"
                tmp.write_text(json.dumps({"pid": os.getpid(), "epoch": int(obj["epoch"])}))
                os.replace(tmp, control / "paused.json")
                time.sleep(600)

    training._atomic_save = save_then_pause
    return saved
'''

FIRST = '''
import matplotlib.pyplot as plt
from hessian_spectra.pipeline.report import save_figure
fig, ax = plt.subplots()
ax.plot([0, 1], [0, 1])
save_figure(fig, "linear_networks/fig01", title="first", profile=profile, settings={}, datasets=[{"name": "synthetic"}],
            data={"value": 1}, figures_dir=figures_dir)
'''

SECOND = '''
import sys
from pathlib import Path
import matplotlib.pyplot as plt
import torch
sys.path.insert(0, helpers_dir)
import tinyexp
from hessian_spectra import training
from hessian_spectra.pipeline.cache import cached
from hessian_spectra.pipeline.report import save_figure
torch.set_num_threads(1)
control = Path(control_dir)
expensive = cached(tinyexp.expensive, depends_on=("hessian_spectra.data",))
before = expensive(3, str(control / "calls.log"))
saved = tinyexp.pause_after_resume_file(control, pause_epoch)
model, hist = training.train(tinyexp.config(epochs), tinyexp.blobs(), device="cpu", progress=False)
after = expensive(len(hist["records"]), str(control / "calls.log"))
fig, ax = plt.subplots()
ax.plot([r["train_loss"] for r in hist["records"]])
save_figure(fig, "linear_networks/fig02", title="second", profile=profile, settings={"epochs": epochs},
            datasets=[tinyexp.blobs()], figures_dir=figures_dir,
            data={"resume_files_written_here": saved, "record_epochs": [r["epoch"] for r in hist["records"]],
                  "final_train_loss": hist["records"][-1]["train_loss"], "before": before, "after": after})
'''


def _notebook(path: Path, params: str, code: str) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _item(number: int, notebook: Path) -> str:
    return textwrap.indent(textwrap.dedent(f"""\
        - id: linear_networks/fig0{number}
          kind: figure
          number: {number}
          title: tiny {number}
          section: "1"
          notebook: {notebook}
          parameters: {{}}
          outputs: [figures/linear_networks/fig0{number}.png, figures/linear_networks/fig0{number}.json]
          status: partial
          datasets: [synthetic]
          needs: []
          claims: []
        """), "      ")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _wait_for(condition, proc: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the runner ended (rc {proc.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


# joblib's temporaries are "<name>.<uuid hex>-<pid>-<thread id>"; ours ".<name>.<pid>.<hex>.tmp"
_PARTIAL = re.compile(r"(\.tmp$|\.part$|\.running\.ipynb$|\.[0-9a-f]{32}-\d+-\d+$)")


def _partial_files(*folders: Path) -> list[str]:
    return sorted(str(p) for folder in folders for p in folder.rglob("*") if _PARTIAL.search(p.name))


def test_killed_run_all_finishes_the_rest_without_recomputing(tmp_path):
    nbs, control = tmp_path / "nbs", tmp_path / "control"
    figs, reports, cache, ckpt = (tmp_path / d for d in ("figs", "reports", "cache", "ckpt"))
    nbs.mkdir()
    control.mkdir()
    (nbs / "tinyexp.py").write_text(HELPERS)
    first, second = nbs / "first.ipynb", nbs / "second.ipynb"
    _notebook(first, 'profile = "default"\nfigures_dir = "."', FIRST)
    _notebook(second, f'profile = "default"\nfigures_dir = "."\nhelpers_dir = "{nbs}"\ncontrol_dir = "{control}"\n'
                      f'epochs = {EPOCHS}\npause_epoch = {PAUSE_EPOCH}', SECOND)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("schema_version: 1\nprofiles: [smoke, default, paper]\npapers:\n"
                       "  - key: linear_networks\n    title: Tiny\n"
                       "    paper_file: linear_networks_hessian_spectrum_data.txt\n"
                       "    inventory: 003_linear_networks.md\n    items:\n" + _item(1, first) + _item(2, second))
    env = {**os.environ, "HESSIAN_SPECTRA_CACHE": str(cache), "HESSIAN_SPECTRA_CHECKPOINTS": str(ckpt),
           "HESSIAN_SPECTRA_OFFLINE": "1", "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "hessian_spectra.pipeline.runner", "--catalog", str(catalog),
           "--figures-dir", str(figs), "--reports-dir", str(reports), "--profile", "smoke"]
    report_dir = reports / nbs.name
    first_stamp = report_dir / "first.stamp.json"
    paused = control / "paused.json"

    # First run: both notebooks at once; kill everything once the first has finished and the second is
    # waiting right after the resume file of epoch PAUSE_EPOCH.
    (control / "pause").touch()
    log1 = tmp_path / "run1.log"
    kernel_pid = None
    with log1.open("w") as out:
        proc = subprocess.Popen(cmd + ["--jobs", "2"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        _wait_for(lambda: first_stamp.exists() and paused.exists(), proc, log1,
                  "the first notebook's stamp and the second's pause")
        kernel_pid = json.loads(paused.read_text())["pid"]
        assert json.loads(paused.read_text())["epoch"] == PAUSE_EPOCH
    finally:
        with_group = proc.poll() is None
        if with_group:
            os.killpg(proc.pid, signal.SIGKILL)  # runner and papermill (the kernel has a session of its own)
        if kernel_pid is not None and _alive(kernel_pid):
            os.kill(kernel_pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while _alive(kernel_pid) and time.monotonic() < deadline:  # reaped by init once papermill is gone
        time.sleep(0.05)
    assert not _alive(kernel_pid)

    # the state the kill left: the second notebook is unfinished and not stamped, training is mid-way
    fig01 = figs / "linear_networks" / "fig01.json"
    fig01_text = fig01.read_text()
    (run_dir,) = [p for p in ckpt.iterdir() if p.is_dir()]
    assert torch.load(run_dir / "resume.pt", weights_only=False)["epoch"] == PAUSE_EPOCH
    assert not (run_dir / "final.pt").exists() and (run_dir / "epoch_0000.pt").exists()
    assert not (report_dir / "second.stamp.json").exists() and not (report_dir / "second.ipynb").exists()
    assert (report_dir / "second.running.ipynb").exists()  # papermill's output so far, under its own name
    assert not (figs / "linear_networks" / "fig02.json").exists()
    assert (control / "calls.log").read_text().split() == ["3"]

    # Second run: the first notebook is skipped, the second resumes its training and finishes.
    (control / "pause").unlink()
    paused.unlink()
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=DEADLINE_S)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"[cached] {first}" in done.stdout and f"[    ok] {second}" in done.stdout
    assert "1 ran, 1 unchanged (cached)" in done.stdout
    assert fig01.read_text() == fig01_text  # not rewritten

    rec = json.loads((figs / "linear_networks" / "fig02.json").read_text())
    data = rec["data"]
    # this run wrote the resume files of epochs PAUSE_EPOCH+1..EPOCHS only: it started from the resume file
    assert data["resume_files_written_here"] == list(range(PAUSE_EPOCH + 1, EPOCHS + 1))
    assert data["record_epochs"] == list(range(1, EPOCHS + 1))  # the history of both runs, each epoch once
    # the cached result computed before the kill came from the cache; the one after was computed once
    assert (control / "calls.log").read_text().split() == ["3", str(EPOCHS)]
    assert data["before"] == [0, 3, 6, 9] and data["after"] == [0, EPOCHS, 2 * EPOCHS, 3 * EPOCHS]
    assert rec["profile"] == "smoke" and rec["environment"]["git_dirty"] in (True, False, None)

    # the resumed training ends where an uninterrupted one does
    sys.path.insert(0, str(nbs))
    try:
        import tinyexp
        from hessian_spectra.training import train

        _, hist = train(tinyexp.config(EPOCHS), tinyexp.blobs(), device="cpu", progress=False,
                        checkpoint_dir=tmp_path / "uninterrupted")
    finally:
        sys.path.remove(str(nbs))
        sys.modules.pop("tinyexp", None)
    assert data["final_train_loss"] == pytest.approx(hist["records"][-1]["train_loss"], rel=1e-7, abs=0)

    # everything is complete and parses; nothing half-written or temporary is left anywhere
    for png in figs.rglob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    for js in list(figs.rglob("*.json")) + list(report_dir.glob("*.stamp.json")):
        json.loads(js.read_text())
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json", "epoch_0000.pt", f"epoch_{EPOCHS:04d}.pt",
                                                         "final.pt"]
    assert (report_dir / "second.html").exists() and nbformat.read(report_dir / "second.ipynb", as_version=4)
    assert (reports / "index.html").exists()
    assert _partial_files(figs, cache, ckpt, reports) == []
    assert time.monotonic() - t0 < DEADLINE_S
