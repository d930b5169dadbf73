"""Execute the figure catalog with papermill and render the reports (the engine of ``run_all.sh``).

For every run of the catalog (a notebook with its parameters) this

1. executes the notebook with papermill, injecting ``profile`` and ``figures_dir``, into
   ``reports/<profile>/<paper>/<notebook>.ipynb``;
2. renders it to HTML beside it (nbconvert);
3. builds the report site in ``reports/<profile>/`` (:mod:`hessian_spectra.pipeline.site`): the
   scoreboard landing page ``index.html`` and one page per paper with every figure, its data, profile,
   notebook report and claims (``--report-only`` builds only this, from the figures as they are).

A run whose configuration (notebook contents, parameters, profile, figures folder) is unchanged since
its last success, and whose outputs exist, is skipped; so is a run whose figures already exist at a
larger profile (committed ``paper`` figures are not replaced by a ``default`` run); ``--force`` reruns
both. A failing notebook is reported, its log kept, and the rest still run.

Killed at any moment and started again, it finishes the rest: nothing it writes is ever half-written
under its final name. papermill executes into ``<notebook>.running.ipynb``, moved onto the executed
notebook's name when papermill ends; the HTML, the stamp (``<notebook>.stamp.json``, the record of a
success that the skip check reads) and the index are written to temporary names and renamed into
place (:func:`hessian_spectra.files.atomic_path`); the stamp of a run is deleted before the
run starts, so a run killed midway is never taken for finished (the log, ``<notebook>.log``, is
written as the notebook runs, and shows how far a killed run got). Inside notebooks, figures, training
checkpoints and joblib's cache entries are written the same way, so finished trainings and cached
results are reused and an interrupted training resumes from its last completed epoch.
Kill the whole process group (as Ctrl-C and closing a terminal do): killing this process alone leaves
the papermill child and its kernel running until their notebook ends.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..files import atomic_write_text
from .cache import CORE_MODULES, code_version, config_hash
from .catalog import Paper, Run, load_catalog, runs
from .profiles import PROFILE_NAMES
from .site import NotebookState, build_site
from ..utils import repo_root


@dataclass
class RunResult:
    """Outcome of one notebook run."""

    run: Run
    status: str  # "ok" | "cached" | "kept" | "failed"
    seconds: float = 0.0
    executed: Path | None = None
    html: Path | None = None
    log: Path | None = None
    error: str = ""


@dataclass
class Plan:
    """Where a run of the catalog writes, for one profile."""

    profile: str
    figures_dir: Path
    reports_dir: Path
    timeout: int = 3600
    force: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)  # --param: given to every run of the plan


def default_figures_dir(profile: str) -> Path:
    """``figures/`` for ``default`` and ``paper``; ``build/smoke/figures`` for ``smoke``.

    Smoke numbers are never meant to match the paper, so they never overwrite committed figures.
    """
    root = repo_root()
    return root / "build" / "smoke" / "figures" if profile == "smoke" else root / "figures"


def _executed_path(run: Run, plan: Plan) -> Path:
    nb = Path(run.notebook)
    name = nb.stem + (f"__{config_hash(run.parameters, 8)}" if run.parameters else "")
    return plan.reports_dir / nb.parent.name / f"{name}.ipynb"


#: The parts of the pipeline a notebook calls (figure JSON, claim records, profiles, caches, atomic
#: writes); the runner and the report site are left out: they do not change a notebook's results, and a
#: change to how reports look must not rerun every notebook.
NOTEBOOK_PIPELINE_MODULES: tuple[str, ...] = (
    "hessian_spectra.pipeline.report", "hessian_spectra.pipeline.claims", "hessian_spectra.pipeline.profiles",
    "hessian_spectra.pipeline.cache", "hessian_spectra.files",
)


def library_modules(run: Run) -> tuple[str, ...]:
    """The library code a notebook's results depend on: the shared modules, the pipeline modules it
    calls (:data:`NOTEBOOK_PIPELINE_MODULES`) and its paper's package
    ``hessian_spectra.papers.<folder of the notebook>``."""
    paper = f"hessian_spectra.papers.{Path(run.notebook).parent.name}"
    own = (paper,) if importlib.util.find_spec(paper) is not None else ()
    return (*CORE_MODULES, *NOTEBOOK_PIPELINE_MODULES, *own)


def run_config(run: Run, plan: Plan) -> dict[str, Any]:
    """Everything that determines a run's result, hashed for the skip-if-unchanged check: the notebook,
    its parameters, the profile, where it writes, and the version of the library code it calls (a
    change to the engine or to the paper's claim rules reruns it; docstrings and comments do not)."""
    source = (repo_root() / run.notebook).read_bytes()
    return {"notebook": run.notebook, "notebook_sha": config_hash({"b": source.hex()}, 32),
            "parameters": run.parameters, "profile": plan.profile, "figures_dir": str(plan.figures_dir),
            "code": code_version(*library_modules(run)), "overrides": plan.parameters, **plan.extra}


def _outputs_exist(run: Run, plan: Plan) -> bool:
    for item in run.items:
        for out in item.outputs:
            rel = Path(out)
            rel = rel.relative_to("figures") if rel.parts and rel.parts[0] == "figures" else rel
            if not (plan.figures_dir / rel).exists():
                return False
    return True


_PROFILE_RANK = {name: rank for rank, name in enumerate(PROFILE_NAMES)}


def kept_profile(run: Run, plan: Plan) -> str | None:
    """The profile of the run's existing figures if ALL of them were made at a larger scale than
    ``plan.profile`` (e.g. committed ``paper`` figures met by a ``default`` run), else ``None``.

    Such figures are kept rather than replaced by smaller-scale ones; ``--force`` regenerates them.
    """
    profiles = set()
    for item in run.items:
        for out in item.outputs:
            if not out.endswith(".json"):
                continue
            rel = Path(out)
            rel = rel.relative_to("figures") if rel.parts and rel.parts[0] == "figures" else rel
            path = plan.figures_dir / rel
            if not path.exists():
                return None
            try:
                profiles.add(json.loads(path.read_text()).get("profile"))
            except (OSError, json.JSONDecodeError):
                return None
    if not profiles or any(_PROFILE_RANK.get(p, -1) <= _PROFILE_RANK[plan.profile] for p in profiles):
        return None
    return min(profiles, key=lambda p: _PROFILE_RANK[p])


def _stamp_config(stamp: Path) -> dict[str, Any] | None:
    """The configuration recorded in a stamp, or ``None`` if it is missing or unreadable."""
    try:
        record = json.loads(stamp.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record.get("config") if isinstance(record, dict) else None


def execute_run(run: Run, plan: Plan) -> RunResult:
    """Execute one notebook with papermill in a subprocess; render HTML; keep a log.

    Skipped (status ``cached``) when its configuration is unchanged since its last success, and
    (status ``kept``) when its figures already exist at a larger profile than this run's. Files are
    written so that a kill at any moment is harmless (see the module's docstring): papermill writes
    ``<name>.running.ipynb``, renamed to ``<name>.ipynb`` when it ends (a failed run's notebook too,
    as the record of the failure); the stamp is deleted first and written last, atomically.
    """
    if not plan.force and (larger := kept_profile(run, plan)) is not None:
        return RunResult(run, "kept", error=f"figures already at profile {larger!r}; --force regenerates them")
    executed = _executed_path(run, plan)
    executed.parent.mkdir(parents=True, exist_ok=True)
    stamp = executed.with_suffix(".stamp.json")
    log = executed.with_suffix(".log")
    html_path = executed.with_suffix(".html")
    running = executed.with_suffix(".running.ipynb")
    cfg = run_config(run, plan)
    if (not plan.force and executed.exists() and html_path.exists() and _stamp_config(stamp) == cfg
            and _outputs_exist(run, plan)):
        return RunResult(run, "cached", executed=executed, html=html_path, log=log)
    # From here on the old outputs no longer describe the notebook: forget the success first, so that
    # a run killed before it ends is rerun next time.
    stamp.unlink(missing_ok=True)
    running.unlink(missing_ok=True)  # left by a killed run
    params = {"profile": plan.profile, "figures_dir": str(plan.figures_dir), **run.parameters, **plan.parameters}
    cmd = [sys.executable, "-m", "papermill", str(repo_root() / run.notebook), str(running),
           "--cwd", str((repo_root() / run.notebook).parent), "--kernel", "python3",
           "--execution-timeout", str(plan.timeout), "--no-progress-bar", "--log-output"]
    for key, value in params.items():
        cmd += ["-y", json.dumps({key: value})]
    start = time.time()
    with log.open("w") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, text=True)
    seconds = time.time() - start
    if running.exists():
        os.replace(running, executed)
    try:
        render_html(executed, html_path)
    except Exception as exc:  # an HTML failure must not hide the notebook's own result
        with log.open("a") as fh:
            fh.write(f"\nHTML rendering failed: {exc}\n")
    if proc.returncode != 0:
        tail = log.read_text().strip().splitlines()[-12:]
        return RunResult(run, "failed", seconds, executed if executed.exists() else None,
                         html_path if html_path.exists() else None, log, error="\n".join(tail))
    atomic_write_text(stamp, json.dumps({"config": cfg, "seconds": seconds}, indent=1))
    return RunResult(run, "ok", seconds, executed, html_path, log)


def render_html(executed: Path, html_path: Path) -> None:
    """Render an executed notebook to a standalone HTML report (nbconvert), written atomically."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    body, _ = HTMLExporter().from_notebook_node(nb)
    atomic_write_text(html_path, body)


# --------------------------------------------------------------------------------------------
# The report site


def notebook_states(papers: list[Paper], plan: Plan, results: dict[str, RunResult] | None = None
                    ) -> tuple[dict[str, NotebookState], list[tuple[str, NotebookState]]]:
    """For the site: each item's notebook (its rendered report and log where they exist, and this run's
    outcome where it ran), keyed by item id; and this run's failed notebooks."""
    by_run = {(r.run.notebook, json.dumps(r.run.parameters, sort_keys=True, default=str)): r
              for r in (results or {}).values()}
    states: dict[str, NotebookState] = {}
    failed: list[tuple[str, NotebookState]] = []
    for run in runs(papers):
        executed = _executed_path(run, plan)
        html_path, log = executed.with_suffix(".html"), executed.with_suffix(".log")
        res = by_run.get((run.notebook, json.dumps(run.parameters, sort_keys=True, default=str)))
        state = NotebookState(report=html_path if html_path.exists() else None, log=log if log.exists() else None,
                              status=res.status if res else None, error=res.error if res else "")
        if res is not None and res.status == "failed":
            failed.append((run.notebook, state))
        for item in run.items:
            states[item.id] = state
    return states, failed


def build_index(papers: list[Paper], plan: Plan, results: dict[str, RunResult] | None = None) -> Path:
    """Write the report site into ``plan.reports_dir`` (:func:`hessian_spectra.pipeline.site.build_site`)
    from the catalog, the figures' JSON files and this run's results; return ``index.html``'s path."""
    states, failed = notebook_states(papers, plan, results)
    return build_site(papers, profile=plan.profile, figures_dir=plan.figures_dir, site_dir=plan.reports_dir,
                      notebooks=states, failed=failed)


# --------------------------------------------------------------------------------------------
# Command line


def parse_parameters(items: list[str], todo: list[Run]) -> dict[str, Any]:
    """``KEY=VALUE`` strings as notebook parameters (VALUE as JSON where it parses, else a string),
    checked against the parameters cell of every selected notebook: a misspelt name is an error, not
    a silently ignored variable."""
    import papermill

    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--param needs KEY=VALUE with KEY a Python name, got {item!r}")
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    reserved = {"profile", "figures_dir"} & set(out)
    if reserved:
        raise ValueError(f"--param cannot set {sorted(reserved)}: use --profile / --figures-dir")
    for run in todo if out else []:
        known = set(papermill.inspect_notebook(str(repo_root() / run.notebook)))
        unknown = sorted(set(out) - known)
        if unknown:
            raise ValueError(f"{run.notebook} has no parameter {', '.join(map(repr, unknown))}; its parameters: "
                             f"{', '.join(sorted(known))} (select notebooks with --only)")
    return out


#: Environment variables holding folders (``os.pathsep``-separated): the data search path, the cache and
#: the checkpoints. Notebooks run with their own folder as working directory, so a relative entry given
#: from the shell (``HESSIAN_SPECTRA_DATA=../shared/data ./run_all.sh``) would point elsewhere there.
PATH_VARIABLES: tuple[str, ...] = ("HESSIAN_SPECTRA_DATA", "HESSIAN_SPECTRA_CACHE", "HESSIAN_SPECTRA_CHECKPOINTS")


def absolute_path_variables(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Rewrite the relative entries of :data:`PATH_VARIABLES` in ``environ`` (default ``os.environ``) as
    absolute paths against the current directory, before any notebook starts; returns the new values."""
    env = os.environ if environ is None else environ
    changed = {}
    for name in PATH_VARIABLES:
        value = env.get(name)
        if not value:
            continue
        entries = [str(Path(p).expanduser().absolute()) if p.strip() else p for p in value.split(os.pathsep)]
        if os.pathsep.join(entries) != value:
            env[name] = changed[name] = os.pathsep.join(entries)
    return changed


def share_threads(jobs: int, environ: dict[str, str] | None = None, cpus: int | None = None) -> str | None:
    """With ``jobs`` notebooks at a time, give each kernel ``cpus // jobs`` (at least 1) intra-op threads through
    ``OMP_NUM_THREADS``, unless the user set it: torch's default of one thread per core in every kernel
    oversubscribes the cores (a smoke run with ``--jobs 2`` on 2 cores was 5-15x slower per notebook). Returns the
    value set, or None."""
    env = os.environ if environ is None else environ
    if jobs <= 1 or "OMP_NUM_THREADS" in env:
        return None
    env["OMP_NUM_THREADS"] = str(max(1, (cpus or os.cpu_count() or 1) // jobs))
    return env["OMP_NUM_THREADS"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_all.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", choices=PROFILE_NAMES,
                        help="scale of every run (default: %(default)s)")
    parser.add_argument("--only", default=None, metavar="PATTERN",
                        help="fnmatch pattern on figure ids or notebook paths, e.g. 'linear_networks/*'")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="notebooks run in parallel")
    parser.add_argument("--force", action="store_true", help="rerun even if nothing changed")
    parser.add_argument("--figures-dir", type=Path, default=None,
                        help="where figures go (default: figures/, or build/smoke/figures for smoke)")
    parser.add_argument("--reports-dir", type=Path, default=None, help="default: reports/<profile>")
    parser.add_argument("--timeout", type=int, default=6 * 3600, help="seconds per notebook cell")
    parser.add_argument("--catalog", type=Path, default=None, help="default: the repository's catalog.yaml")
    parser.add_argument("--list", action="store_true", help="list the runs and exit")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="set a notebook parameter in every selected run (VALUE read as JSON, else as a "
                             "string), e.g. --only 'linear_networks/fig02' --param tanh_scale=reduced; repeatable")
    parser.add_argument("--report-only", action="store_true",
                        help="run no notebook: rebuild the report site (reports/<profile>/index.html) from the "
                             "catalog and the figures' JSON files as they are")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")

    absolute_path_variables()
    share_threads(args.jobs)
    papers = load_catalog(args.catalog)
    todo = runs(papers, only=args.only)
    try:
        overrides = parse_parameters(args.param, todo)
    except ValueError as err:
        parser.error(str(err))
    plan = Plan(profile=args.profile,
                figures_dir=(args.figures_dir or default_figures_dir(args.profile)).resolve(),
                reports_dir=(args.reports_dir or repo_root() / "reports" / args.profile).resolve(),
                timeout=args.timeout, force=args.force, parameters=overrides)
    if args.list:
        for run in todo:
            print(f"{run.notebook} {json.dumps(run.parameters) if run.parameters else ''} -> "
                  f"{', '.join(i.id for i in run.items)}")
        return 0
    if args.report_only:
        index = build_index(papers, plan)
        print(f"report site for profile {plan.profile} (figures from {plan.figures_dir}): {index}")
        return 0
    if not todo:
        print(f"nothing to run: no catalogued notebook matches --only {args.only!r}", file=sys.stderr)
        return 2
    print(f"profile {plan.profile}: {len(todo)} notebook run(s), {args.jobs} at a time; "
          f"figures -> {plan.figures_dir}; reports -> {plan.reports_dir}")
    results: dict[str, RunResult] = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(execute_run, run, plan): run for run in todo}
        for fut in tqdm(as_completed(futures), total=len(futures), desc="notebooks", unit="nb"):
            run = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # a crash in the runner itself for this notebook
                res = RunResult(run, "failed", error=f"{type(exc).__name__}: {exc}")
            results[run.notebook] = res
            tqdm.write(f"  [{res.status:>6}] {run.notebook} ({res.seconds:.0f} s)")
    index = build_index(papers, plan, results)
    failed = [r for r in results.values() if r.status == "failed"]
    for res in failed:
        print(f"\nFAILED: {res.run.notebook} (log: {res.log})\n{res.error}", file=sys.stderr)
    ok = sum(r.status == "ok" for r in results.values())
    cached = sum(r.status == "cached" for r in results.values())
    kept = sum(r.status == "kept" for r in results.values())
    print(f"\n{ok} ran, {cached} unchanged (cached), {kept} kept at a larger profile (--force reruns), "
          f"{len(failed)} failed. Index: {index}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
