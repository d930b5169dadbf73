"""Every catalogued notebook executes end to end at the `smoke` profile and writes its figures.

The notebooks run with cache and checkpoint folders of their own (one per test session), so that no
result cached by an earlier run, or by the user's own ``data/``, can stand in for a computation."""

import json
from pathlib import Path

import pytest

from hessian_spectra.pipeline.catalog import load_catalog, runs
from hessian_spectra.pipeline.runner import Plan, execute_run

RUNS = runs(load_catalog())


@pytest.fixture(scope="module", autouse=True)
def own_caches(tmp_path_factory):
    root = tmp_path_factory.mktemp("notebook-caches")
    with pytest.MonkeyPatch.context() as mp:  # papermill's kernels inherit the environment
        mp.setenv("HESSIAN_SPECTRA_CACHE", str(root / "cache"))
        mp.setenv("HESSIAN_SPECTRA_CHECKPOINTS", str(root / "checkpoints"))
        yield root


@pytest.mark.parametrize("run", RUNS, ids=[f"{r.notebook}{'?' + str(r.parameters) if r.parameters else ''}" for r in RUNS])
def test_notebook_runs_at_smoke(run, tmp_path):
    plan = Plan(profile="smoke", figures_dir=tmp_path / "figures", reports_dir=tmp_path / "reports", timeout=900)
    result = execute_run(run, plan)
    assert result.status == "ok", f"{run.notebook} failed:\n{result.error}"
    assert result.html is not None and result.html.exists()
    for item in run.items:
        for out in item.outputs:
            if out.endswith(".json"):
                path = plan.figures_dir / Path(out).relative_to("figures")
                assert path.exists(), f"{item.id}: {out} not written"
                assert json.loads(path.read_text())["profile"] == "smoke"
