"""run_all.sh's engine on a tiny catalog: execution, HTML, index, caching, failures, --only."""

import json
import textwrap
from pathlib import Path

import nbformat
import pytest

from hessian_spectra.pipeline import runner
from hessian_spectra.pipeline.catalog import load_catalog, runs

NOTEBOOK_CODE = '''
import matplotlib.pyplot as plt
from hessian_spectra.pipeline.claims import Claim
from hessian_spectra.pipeline.report import save_figure
fig, ax = plt.subplots()
ax.plot([0, 1], [0, value])
save_figure(fig, "linear_networks/fig0" + str(number), title="tiny", profile=profile, settings={"value": value},
            datasets=[{"name": "synthetic"}], data={"value": value},
            claims=[Claim("S1", "value is 2", 2, value, "agree" if value == 2 else "disagree")],
            figures_dir=figures_dir)
assert value != 13, "deliberate failure"
'''


def _notebook(path, value, number):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(f'profile = "default"\nfigures_dir = "."\nvalue = {value}\nnumber = {number}')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny"), params, nbformat.v4.new_code_cell(NOTEBOOK_CODE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def tiny(tmp_path):
    _notebook(tmp_path / "good.ipynb", 2, 1)
    _notebook(tmp_path / "bad.ipynb", 13, 2)
    catalog = textwrap.dedent(f"""
        schema_version: 1
        profiles: [smoke, default, paper]
        papers:
          - key: linear_networks
            title: Tiny
            paper_file: linear_networks_hessian_spectrum_data.txt
            inventory: 003_linear_networks.md
            items:
              - id: linear_networks/fig01
                kind: figure
                number: 1
                title: good
                section: "1"
                notebook: {tmp_path / 'good.ipynb'}
                parameters: {{}}
                outputs: [figures/linear_networks/fig01.png, figures/linear_networks/fig01.json]
                status: reproduced
                datasets: [synthetic]
                needs: []
                claims: [{{id: S1, statement: value is 2, paper_value: 2, check: equal}}]
              - id: linear_networks/fig02
                kind: figure
                number: 2
                title: bad
                section: "1"
                notebook: {tmp_path / 'bad.ipynb'}
                parameters: {{}}
                outputs: [figures/linear_networks/fig02.png, figures/linear_networks/fig02.json]
                status: partial
                datasets: [synthetic]
                needs: []
                claims: []
              - id: linear_networks/fig03
                kind: figure
                number: 3
                title: later
                section: "1"
                notebook: null
                parameters: {{}}
                outputs: []
                status: planned
                datasets: [mnist]
                needs: []
                claims: []
        """)
    (tmp_path / "catalog.yaml").write_text(catalog)
    args = ["--catalog", str(tmp_path / "catalog.yaml"), "--figures-dir", str(tmp_path / "figs"),
            "--reports-dir", str(tmp_path / "reports"), "--profile", "smoke"]
    return tmp_path, args


def test_run_all_end_to_end(tiny, capsys):
    tmp_path, args = tiny
    assert runner.main(args + ["--jobs", "2"]) == 1  # bad.ipynb fails, good.ipynb still runs
    out = capsys.readouterr()
    assert "FAILED" in out.err and "bad.ipynb" in out.err and "deliberate failure" in out.err
    rec = json.loads((tmp_path / "figs" / "linear_networks" / "fig01.json").read_text())
    assert rec["profile"] == "smoke" and rec["claims"][0]["verdict"] == "agree"
    assert (tmp_path / "reports" / str(tmp_path.name) / "good.html").exists()
    # the landing page: the scoreboard (counts linking to the paper's lists) and this run's failure
    index = (tmp_path / "reports" / "index.html").read_text()
    assert 'href="linear_networks.html#verdict-agree">1<' in index and 'href="linear_networks.html#status-planned">1<' in index
    assert "FAILED" in index and "bad.ipynb" in index
    # the paper's page: every figure with its image, claims and verdicts, the planned ones listed
    page = (tmp_path / "reports" / "linear_networks.html").read_text()
    assert "linear_networks/fig01" in page and "agree" in page and "fig01.png" in page
    assert "Planned" in page and "linear_networks/fig03" in page
    assert "FAILED" in page

    # a rerun skips the finished notebook and retries the failed one
    assert runner.main(args + ["--only", "*good*"]) == 0
    assert "1 unchanged (cached)" in capsys.readouterr().out
    assert runner.main(args + ["--only", "*good*", "--force"]) == 0
    assert "1 ran" in capsys.readouterr().out


def test_a_change_to_the_library_reruns_a_finished_notebook(tiny, capsys, monkeypatch):
    """The skip check covers the library code a notebook calls: an engine change is never hidden by a
    stale stamp."""
    tmp_path, args = tiny
    assert runner.main(args + ["--only", "*good*"]) == 0
    assert runner.main(args + ["--only", "*good*"]) == 0
    assert "1 unchanged (cached)" in capsys.readouterr().out
    run = next(r for r in runner.runs(runner.load_catalog(tmp_path / "catalog.yaml")) if "good" in r.notebook)
    assert "hessian_spectra.hessian" in runner.library_modules(run)
    assert "hessian_spectra.pipeline.report" in runner.library_modules(run)  # figure JSON and claims: rerun
    assert "hessian_spectra.pipeline.site" not in runner.library_modules(run)  # how reports look: no rerun
    monkeypatch.setattr(runner, "code_version", lambda *modules: "another-engine")
    assert runner.main(args + ["--only", "*good*"]) == 0
    assert "1 ran" in capsys.readouterr().out


def test_only_matching_nothing_is_an_error(tiny, capsys):
    _, args = tiny
    assert runner.main(args + ["--only", "nothing/*"]) == 2
    assert "nothing to run" in capsys.readouterr().err


def test_bad_arguments(tiny, capsys):
    _, args = tiny
    with pytest.raises(SystemExit):
        runner.main(args + ["--profile", "huge"])
    with pytest.raises(SystemExit):
        runner.main(args + ["--jobs", "0"])
    for bad, says in ((["--param", "valeu=3"], "has no parameter 'valeu'"), (["--param", "3x"], "KEY=VALUE"),
                      (["--param", "profile=paper"], "use --profile")):
        with pytest.raises(SystemExit):
            runner.main(args + ["--only", "*good*"] + bad)
        assert says in capsys.readouterr().err


def test_param_sets_a_notebook_parameter_and_enters_the_skip_check(tiny, capsys):
    tmp_path, args = tiny
    assert runner.main(args + ["--only", "*good*", "--param", "value=2"]) == 0
    rec = json.loads((tmp_path / "figs" / "linear_networks" / "fig01.json").read_text())
    assert rec["settings"] == {"value": 2}
    assert runner.main(args + ["--only", "*good*", "--param", "value=3"]) == 0  # another value: rerun
    assert "1 ran" in capsys.readouterr().out.splitlines()[-1]
    rec = json.loads((tmp_path / "figs" / "linear_networks" / "fig01.json").read_text())
    assert rec["settings"] == {"value": 3} and rec["claims"][0]["verdict"] == "disagree"


def test_larger_profile_figures_are_kept(tiny, capsys):
    tmp_path, args = tiny
    assert runner.main(args[:-2] + ["--profile", "paper", "--only", "*good*"]) == 0
    capsys.readouterr()
    # a smaller-profile run keeps the paper-profile figure instead of overwriting it
    assert runner.main(args + ["--only", "*good*"]) == 0
    assert "1 kept at a larger profile" in capsys.readouterr().out
    rec = json.loads((tmp_path / "figs" / "linear_networks" / "fig01.json").read_text())
    assert rec["profile"] == "paper"
    assert runner.main(args + ["--only", "*good*", "--force"]) == 0
    rec = json.loads((tmp_path / "figs" / "linear_networks" / "fig01.json").read_text())
    assert rec["profile"] == "smoke"


def test_interrupted_rerun_is_not_taken_for_finished(tiny, capsys, monkeypatch):
    """A rerun stopped while papermill runs leaves the last complete report, no stamp claiming success,
    and is rerun next time; a corrupt stamp means 'rerun', not a crash."""
    tmp_path, args = tiny
    assert runner.main(args + ["--only", "*good*"]) == 0
    capsys.readouterr()
    report = tmp_path / "reports" / tmp_path.name
    executed, stamp, running = report / "good.ipynb", report / "good.stamp.json", report / "good.running.ipynb"
    complete = executed.read_bytes()
    assert json.loads(stamp.read_text())["config"]["profile"] == "smoke" and not running.exists()

    def interrupted(cmd, **kwargs):  # papermill has written part of its output when the run is stopped
        Path(next(a for a in cmd if a.endswith(".running.ipynb"))).write_text('{"cells": [')
        raise KeyboardInterrupt

    plan = runner.Plan(profile="smoke", figures_dir=(tmp_path / "figs").resolve(),
                       reports_dir=(tmp_path / "reports").resolve(), force=True)
    (run,) = runs(load_catalog(tmp_path / "catalog.yaml"), only="*good*")
    monkeypatch.setattr(runner.subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.execute_run(run, plan)
    monkeypatch.undo()
    assert not stamp.exists() and executed.read_bytes() == complete and running.exists()
    assert runner.main(args + ["--only", "*good*"]) == 0  # no --force: rerun because nothing claims success
    assert "1 ran" in capsys.readouterr().out
    assert not running.exists() and nbformat.read(executed, as_version=4).cells[0].source == "# tiny"
    assert json.loads(stamp.read_text())["config"] == runner.run_config(run, plan)

    assert runner.main(args + ["--only", "*good*"]) == 0
    assert "1 unchanged (cached)" in capsys.readouterr().out
    assert [p.name for p in report.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")] == []
    stamp.write_text('{"config": {"noteb')  # as a kill of an older version could leave it
    assert runner._stamp_config(stamp) is None  # read as 'no success recorded': the run is redone


def test_relative_data_paths_made_absolute(tmp_path, monkeypatch):
    """Notebooks run in their own folder: HESSIAN_SPECTRA_DATA=../shared/data given from the shell must reach
    them as an absolute path (a relative one made every default run fail with 'dataset not found')."""
    monkeypatch.chdir(tmp_path)
    env = {"HESSIAN_SPECTRA_DATA": f"../shared/data:{tmp_path / 'abs'}:~/x", "HESSIAN_SPECTRA_CACHE": "cache",
           "OTHER": "rel"}
    changed = runner.absolute_path_variables(env)
    assert env["HESSIAN_SPECTRA_DATA"].split(":") == [str(tmp_path / ".." / "shared" / "data"), str(tmp_path / "abs"),
                                                      str(Path("~/x").expanduser())]
    assert env["HESSIAN_SPECTRA_CACHE"] == str(tmp_path / "cache") and env["OTHER"] == "rel"
    assert set(changed) == {"HESSIAN_SPECTRA_DATA", "HESSIAN_SPECTRA_CACHE"}
    assert runner.absolute_path_variables(env) == {}     # already absolute: nothing to do


def test_parallel_notebooks_share_the_cores():
    env = {}
    assert runner.share_threads(2, env, cpus=2) == "1" and env["OMP_NUM_THREADS"] == "1"
    env = {}
    assert runner.share_threads(3, env, cpus=16) == "5"
    assert runner.share_threads(4, env := {"OMP_NUM_THREADS": "8"}, cpus=2) is None and env["OMP_NUM_THREADS"] == "8"
    assert runner.share_threads(1, env := {}, cpus=2) is None and env == {}
