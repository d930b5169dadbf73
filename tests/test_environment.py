"""Packaging: environment.yml and pyproject.toml name the same dependencies; scripts exist."""

import os
import re
import tomllib

import yaml

from conftest import REPO


def _names(specs):
    return {re.split(r"[<>=!~ \[]", s.strip(), maxsplit=1)[0].lower() for s in specs}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"]) | _names(project["optional-dependencies"]["test"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = _names(s for s in pip if not s.startswith("-e"))
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; only in pyproject: {wanted - listed}"
    # and the same version floors
    floors = {re.split(r">=", s)[0].lower(): s for s in project["dependencies"]}
    for spec in pip:
        name = re.split(r"[<>=!~ ]", spec, maxsplit=1)[0].lower()
        if name in floors:
            assert floors[name] == spec, f"{name}: pyproject {floors[name]!r} vs environment.yml {spec!r}"


def test_design_card_packages_present():
    deps = _names(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    for pkg in ["jupyterlab", "papermill", "torch", "torchvision", "numpy", "seaborn", "pandas", "nbconvert"]:
        assert pkg in deps


def test_entry_scripts_are_executable():
    for script in ["run_all.sh", "run_tests.sh", ".ci/run"]:
        path = REPO / script
        assert path.is_file() and os.access(path, os.X_OK), script
    assert "./run_tests.sh" in (REPO / ".ci" / "run").read_text()
