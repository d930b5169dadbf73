"""Every catalogued notebook executes end to end at the `smoke` profile and writes its figures."""

import json
from pathlib import Path

import pytest

from hessian_spectra.pipeline.catalog import load_catalog, runs
from hessian_spectra.pipeline.runner import Plan, execute_run

RUNS = runs(load_catalog())


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
