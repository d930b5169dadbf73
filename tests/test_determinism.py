"""Same seed, same inputs, same device: the same bytes, in every fresh process.

The engine's products, Lanczos runs and spectral densities are computed in several fresh processes
running at the same time (so that they compete for the CPU, as parallel notebooks do) and compared
byte for byte. A code path chosen by the clock would break this: before the way of k-vector products
was chosen by a rule, the same MLP products came out as 3 different byte patterns in 6 processes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

WORKER = textwrap.dedent(
    """
    import hashlib
    import torch
    import torch.nn.functional as F
    from torch import nn

    from hessian_spectra.hessian import ggn_operator, hessian_operator, lanczos, spectral_density

    def problem(conv: bool):
        torch.manual_seed(0)
        if conv:
            model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
            x = torch.randn(700, 1, 8, 8)
        else:
            model = nn.Sequential(nn.Linear(64, 96), nn.ReLU(), nn.Linear(96, 96), nn.ReLU(), nn.Linear(96, 10))
            x = torch.randn(700, 64)
        y = torch.randint(0, 10, (700,))
        return model.eval(), x, y

    digest = hashlib.sha256()
    for conv in (False, True):
        model, x, y = problem(conv)
        H = hessian_operator(model, F.cross_entropy, (x, y), batch_size=128)
        G = ggn_operator(model, F.cross_entropy, (x, y), batch_size=128)
        g = torch.Generator().manual_seed(1)
        V = torch.randn(H.shape[0], 4, generator=g)
        for _ in range(3):  # cold, then through kept graphs
            for out in (H @ V, G @ V, H @ V[:, 0], G @ V[:, 0]):
                digest.update(out.numpy().tobytes())
        run = lanczos(H, 8, generator=torch.Generator().manual_seed(2))
        digest.update(run.alphas.tobytes() + run.betas.tobytes())
        sd = spectral_density(G, 6, 3, generator=torch.Generator().manual_seed(3))
        digest.update(sd.nodes.tobytes() + sd.weights.tobytes())
    print(digest.hexdigest())
    """
)


def test_products_and_lanczos_are_bit_identical_across_concurrent_processes():
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    digests = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        digests.append(out.strip().splitlines()[-1])
    assert len(set(digests)) == 1, digests


def _without_timings(obj):
    """The record without wall-clock times (keys mentioning ``seconds``): they measure the machine."""
    if isinstance(obj, dict):
        return {k: _without_timings(v) for k, v in obj.items() if "seconds" not in k}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


def test_a_notebook_gives_identical_numbers_in_two_concurrent_runs(tmp_path, repo):
    """A notebook that trains a network and runs Lanczos on it (smoke profile), executed twice at the
    same time with separate caches: its figures' numbers and claims are identical (wall-clock times
    aside)."""
    import json
    import os

    notebook = repo / "notebooks" / "beyond_rmt" / "vgg16_cifar10_appendix.ipynb"
    procs = []
    for i in range(2):
        run = tmp_path / f"run{i}"
        run.mkdir()
        env = dict(os.environ, HESSIAN_SPECTRA_CACHE=str(run / "cache"),
                   HESSIAN_SPECTRA_CHECKPOINTS=str(run / "checkpoints"))
        cmd = [sys.executable, "-m", "papermill", str(notebook), str(run / "out.ipynb"), "--cwd",
               str(notebook.parent), "--kernel", "python3", "--no-progress-bar",
               "-p", "profile", "smoke", "-p", "figures_dir", str(run / "figures")]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, out[-3000:]
    first = sorted((tmp_path / "run0" / "figures").rglob("*.json"))
    assert first, "the notebook wrote no figure"
    for path in first:
        other = tmp_path / "run1" / "figures" / path.relative_to(tmp_path / "run0" / "figures")
        a, b = (_without_timings(json.loads(f.read_text())) for f in (path, other))
        for key in ("data", "claims", "settings"):
            assert a[key] == b[key], f"{path.name}: {key} differs between the two runs"
