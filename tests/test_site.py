"""The report site (pipeline/site.py): value formatting, shared notes, counts, the pages' content, every
link of every page, and the pages rendered in headless Chromium (images load, no console errors).

The browser part drives Debian's ``chromium`` through the DevTools protocol (websocket-client). Without
Chromium it is skipped locally and fails in CI (``CI=true``; ``.ci/run`` installs it when missing). A
screenshot of the landing page is kept at ``build/site-test/landing.png``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import textwrap
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import matplotlib.pyplot as plt
import pytest

from conftest import REPO
from hessian_spectra.pipeline import runner, site
from hessian_spectra.pipeline.catalog import load_catalog
from hessian_spectra.pipeline.claims import Claim
from hessian_spectra.pipeline.report import save_figure

STAND_IN = ("checked at profile 'default' on a stand-in: a 3-layer MLP standing in for the paper's network; "
            "data: 500 MNIST images standing in for CIFAR-100")
SHOT = REPO / "build" / "site-test" / "landing.png"


# --------------------------------------------------------------------------------------------
# Formatting


@pytest.mark.parametrize("value, text", [
    (0.948775622595694, "0.9488"),
    (41.468323800978496, "41.47"),
    (1.156408302449563e-12, "1.156e-12"),
    (-0.0020466608104492763, "-0.002047"),
    (123456.7, "1.235e5"),
    (0.9999999999999999, "1"),
    (15299748, "15299748"),
    (15299748.0, "15299748"),
    (0, "0"),
    (True, "yes"),
    (None, "—"),
    ("exact", "exact"),
    ([1.0149254781133001, 8.87335190298047], "[1.015, 8.873]"),
    ({"atom_weight": 0.948775622595694}, "atom_weight: 0.9488"),
    ({"a": 1, "b": {"c": 0.123456, "d": [1, 2]}}, "a: 1\nb: c = 0.1235, d = [1, 2]"),
    ({"10": {"GGN": {"w": 0.96879}}}, "10: GGN = (w = 0.9688)"),
    ([{"dims": [30, 8], "count": 25}, {"dims": [784, 64], "count": 100}], "dims = [30, 8], count = 25\ndims = [784, 64], count = 100"),
    (list(range(20)), "[0, 1, 2, 3, 4, 5, 6, 7, … (20 in all)]"),
])
def test_format_value(value, text):
    assert site.format_value(value) == text


def test_format_value_clips_long_values():
    many = {f"key{k}": k / 7 for k in range(30)}
    text = site.format_value(many)
    assert text.splitlines()[0] == "key0: 0" and text.splitlines()[-1] == "… (30 entries in all)"
    assert len(text.splitlines()) == 9
    long = site.format_value("x" * 1000, max_chars=50)
    assert len(long) == 50 and long.endswith("…")
    assert not re.search(r"\d\.\d{6,}", site.format_value({"a": [1 / 3] * 5, "b": {"c": 2 / 3}}))


def test_shared_sentences_become_one_footnote_per_group():
    notes = [f"rule: x > 1. {STAND_IN}. A verdict here is about the stand-in, not the paper's network",
             f"rule: y < 2. {STAND_IN}. A verdict here is about the stand-in, not the paper's network",
             "rule: y < 2. exact identity",
             "rule: z = 0 (with 1.5 tolerance)"]
    own, footnotes = site.shared_sentences(notes)
    assert own == ["rule: x > 1.", "rule: y < 2.", "rule: y < 2. exact identity", "rule: z = 0 (with 1.5 tolerance)"]
    assert len(footnotes) == 1
    text, members = footnotes[0]
    assert members == [0, 1] and text.startswith("checked at profile") and text.endswith("paper's network.")
    # a rule shared by two claims stays with each of them (it is what the row says)
    shared_rule = "rule: the KS distance to the moment-matched semicircle exceeds 0.3"
    own, footnotes = site.shared_sentences([shared_rule, shared_rule])
    assert own == [shared_rule, shared_rule] and footnotes == []


# --------------------------------------------------------------------------------------------
# A tiny catalog with figures written by save_figure


def _figure(figures_dir: Path, figure_id: str, claims: list[Claim], datasets: list[dict], profile: str = "default"):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    save_figure(fig, figure_id, title=f"tiny {figure_id}", profile=profile, settings={"n": 10},
                datasets=datasets, data={"y": [0, 1]}, claims=claims, figures_dir=figures_dir)
    plt.close(fig)


def _notebook(path: Path) -> None:
    path.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory):
    """A two-paper catalog: linear_networks fig01 (made, stand-ins, an erratum), fig02 (two panels, one
    notebook that failed in this run), fig03 planned; beyond_rmt fig01 planned. Built by the runner's
    --report-only path and by build_index with a failed result."""
    root = tmp_path_factory.mktemp("site")
    nbs = root / "nbs"
    nbs.mkdir()
    _notebook(nbs / "one.ipynb")
    _notebook(nbs / "two.ipynb")
    catalog = root / "catalog.yaml"
    catalog.write_text(textwrap.dedent(f"""
        schema_version: 1
        profiles: [smoke, default, paper]
        papers:
          - key: linear_networks
            title: How the Hessian-Spectrum of Linear Networks Depends on Data
            paper_file: linear.txt
            inventory: 003.md
            items:
              - id: linear_networks/fig01
                kind: figure
                number: 1
                title: balanced spectrum
                section: "§3"
                notebook: {nbs / 'one.ipynb'}
                parameters: {{}}
                outputs: [figures/linear_networks/fig01.png, figures/linear_networks/fig01.json]
                status: reproduced
                datasets: [MNIST]
                needs: []
                claims: [{{id: S1, statement: a}}, {{id: S2, statement: b}}, {{id: S3, statement: c}}]
              - id: linear_networks/fig02
                kind: figure
                number: 2
                title: ablations
                section: "§4"
                notebook: {nbs / 'two.ipynb'}
                parameters: {{}}
                outputs: [figures/linear_networks/fig02_a.png, figures/linear_networks/fig02_a.json,
                          figures/linear_networks/fig02_b.png, figures/linear_networks/fig02_b.json]
                status: partial
                datasets: [MNIST]
                needs: []
                claims: [{{id: S4, statement: d}}]
              - id: linear_networks/fig03
                kind: figure
                number: 3
                title: traces
                section: "§5"
                notebook: null
                parameters: {{}}
                outputs: []
                status: planned
                datasets: [MNIST]
                needs: []
                claims: [{{id: S5, statement: e}}, {{id: S6, statement: f}}]
            other_claims: [{{id: S9, statement: theory}}]
          - key: beyond_rmt
            title: Beyond Random Matrix Theory for Deep Networks
            paper_file: beyond.txt
            inventory: 004.md
            items:
              - id: beyond_rmt/fig01
                kind: figure
                number: 1
                title: spectra
                section: "§1"
                notebook: null
                parameters: {{}}
                outputs: []
                status: planned
                datasets: [CIFAR-100]
                needs: []
                claims: [{{id: S1, statement: g}}, {{id: S2, statement: h}}, {{id: S3, statement: i}}, {{id: S4, statement: j}}]
        """))
    figures = root / "figures"
    stand_in = {"name": "mnist", "note": "500 MNIST images standing in for CIFAR-100", "source": "/data/mnist.npz"}
    verdict_note = ". A verdict here is about the stand-in, not the paper's network"
    _figure(figures, "linear_networks/fig01", [
        Claim("S1", "the atom at zero", "large atom", {"atom_weight": 0.948775622595694}, "agree",
              "rule: w_0 >= 0.5. " + STAND_IN + verdict_note),
        Claim("S2", "the count of non-zero eigenvalues is (min d)^2", 25,
              [{"dims": [30, 8, 8, 5], "paper": 25, "true": 150}], "paper_erratum",
              "rule: dense count. " + STAND_IN + verdict_note),
        Claim("S3", "no negative eigenvalues", "none", -0.0020466608104492763, "disagree",
              "rule: theta_min >= 0. " + STAND_IN + verdict_note),
    ], [stand_in, stand_in, {"name": "synthetic"}])
    _figure(figures, "linear_networks/fig02_a", [
        Claim("S4", "trace falls", "qualitative", None, "not_checkable", "needs the paper's scale")],
        [{"name": "mnist", "source": "/data/mnist.npz"}], profile="paper")
    _figure(figures, "linear_networks/fig02_b", [
        Claim("S4", "trace falls", "qualitative", 0.25, "agree", "rule: ratio < 0.5")],
        [{"name": "mnist", "source": "/data/mnist.npz"}], profile="paper")
    reports = root / "reports"
    args = ["--catalog", str(catalog), "--figures-dir", str(figures), "--reports-dir", str(reports),
            "--profile", "default"]
    # the executed notebook's HTML report of fig01 exists (from an earlier run); fig02's log too
    (reports / nbs.name).mkdir(parents=True)
    (reports / nbs.name / "one.html").write_text("<!doctype html><html><body><p id='top'>report</p></body></html>")
    (reports / nbs.name / "two.log").write_text("Traceback ...\nValueError: deliberate\n")
    return root, args, figures, reports


def _build_with_failure(root: Path, figures: Path, reports: Path) -> Path:
    papers = load_catalog(root / "catalog.yaml")
    plan = runner.Plan(profile="default", figures_dir=figures, reports_dir=reports)
    two = next(r for r in runner.runs(papers) if r.notebook.endswith("two.ipynb"))
    results = {two.notebook: runner.RunResult(two, "failed", 1.0, log=reports / root.joinpath("nbs").name / "two.log",
                                              error="ValueError: deliberate")}
    return runner.build_index(papers, plan, results)


def test_counts(tiny_site):
    root, _, figures, _ = tiny_site
    views = site.collect(load_catalog(root / "catalog.yaml"), figures)
    assert [v.key for v in views] == ["linear_networks", "beyond_rmt"]  # papers with figures first
    ln, br = views
    assert ln.item_counts() == {"reproduced": 1, "partial": 1, "planned": 1}
    assert ln.verdict_counts() == {"agree": 2, "disagree": 1, "paper_erratum": 1, "not_checkable": 1}
    assert ln.claims_checked() == 5 and ln.claims_catalogued() == 3 + 1 + 2 + 1 and ln.claims_pending() == 2
    assert [f.stem for f in ln.items[1].figures] == ["fig02_a", "fig02_b"]
    assert ln.items[0].figures[0].uses_stand_ins() and not ln.items[1].figures[0].uses_stand_ins()
    assert len(ln.items[0].figures[0].datasets()) == 2  # the repeated stand-in entry is named once
    assert br.item_counts() == {"reproduced": 0, "partial": 0, "planned": 1}
    assert br.claims_checked() == 0 and br.claims_pending() == br.claims_catalogued() == 4


def test_report_only_builds_the_site_without_running_notebooks(tiny_site, monkeypatch, capsys):
    _, args, _, reports = tiny_site

    def no_notebooks(*a, **k):
        raise AssertionError("--report-only must not run a notebook")

    monkeypatch.setattr(runner.subprocess, "run", no_notebooks)
    assert runner.main(args + ["--report-only"]) == 0
    assert "index.html" in capsys.readouterr().out
    names = {p.name for p in reports.iterdir() if p.is_file()}
    assert {"index.html", "linear_networks.html", "beyond_rmt.html", "all.html", "site.css", "scoreboard.png"} <= names
    assert (reports / "scoreboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in reports.rglob("*") if p.name.startswith(".")]  # no temporaries left
    index = (reports / "index.html").read_text()
    assert "FAILED" not in index  # nothing ran


def test_pages_content(tiny_site):
    root, _, figures, reports = tiny_site
    index = _build_with_failure(root, figures, reports).read_text()
    # the scoreboard: per paper and total, each non-zero count linking to the list it counts
    assert 'href="linear_networks.html#status-reproduced">1<' in index
    assert 'href="linear_networks.html#verdict-paper_erratum">1<' in index
    assert 'href="all.html#verdict-agree">2<' in index and 'href="all.html#status-planned">2<' in index
    assert 'src="scoreboard.png"' in index
    # the disagreements and errata, one line each, linking to the claim's row
    problems = index[index.index('id="problems"'):]
    assert 'href="linear_networks.html#fig01-s2"' in problems and 'href="linear_networks.html#fig01-s3"' in problems
    assert "linear_networks.html#fig01-s1" not in problems  # an agreeing claim is not a problem
    assert "FAILED" in index and "two.ipynb" in index
    # at what scale: profiles, stand-ins
    assert "stand-ins in 1 of 3" in index
    page = (reports / "linear_networks.html").read_text()
    assert 'id="fig01-s1"' in page and 'id="fig02_a-s4"' in page and 'id="fig02_b-s4"' in page
    assert "atom_weight: 0.9488" in page
    assert not re.search(r"\d\.\d{10,}", re.sub(r"<pre>.*?</pre>", "", page, flags=re.DOTALL))
    # the stand-in sentence is said once per figure (a footnote), not in each claim's row
    assert page.count("checked at profile &#x27;default&#x27; on a stand-in") == 1
    assert page.count("500 MNIST images standing in for CIFAR-100") == 2  # the dataset line + that footnote
    assert "notebook FAILED in this run" in page and "executed notebook (HTML report)" in page
    assert 'id="planned"' in page and "linear_networks/fig03" in page
    assert "fig01.png" in page and 'href="#zoom-fig01"' in page and 'id="zoom-fig01"' in page
    assert "(min d)^2" in page
    assert (reports / "beyond_rmt.html").read_text().count("claims catalogued") >= 1


# --------------------------------------------------------------------------------------------
# Links


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            if name in ("id", "name") and value:
                self.ids.add(value)


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(errors="replace"))
    return parser


def broken_links(site_dir: Path) -> list[str]:
    """Every href/src of every page of the site that does not resolve to an existing file, or to an id
    of the page it names."""
    pages = sorted(site_dir.glob("*.html"))
    parsed: dict[Path, _Links] = {}
    broken = []
    for page in pages:
        links = parsed.setdefault(page.resolve(), _parse(page))
        for link in links.links:
            if link.startswith("data:"):
                continue
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                broken.append(f"{page.name}: {link} (not a local file: the site must open offline)")
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            if not target.is_file():
                broken.append(f"{page.name}: {link} (no such file)")
                continue
            if parts.fragment:
                if target not in parsed:
                    parsed[target] = _parse(target)
                if unquote(parts.fragment) not in parsed[target].ids:
                    broken.append(f"{page.name}: {link} (no such anchor)")
    return broken


def test_every_link_resolves(tiny_site):
    root, _, figures, reports = tiny_site
    _build_with_failure(root, figures, reports)
    assert broken_links(reports) == []
    # and the checker does catch a bad link and a bad anchor
    bad = reports / "zz_bad.html"
    bad.write_text('<a href="missing.html">x</a><a href="index.html#nowhere">y</a><img src="no.png">')
    try:
        assert len(broken_links(reports)) == 3
    finally:
        bad.unlink()


def test_site_of_the_committed_figures(tmp_path):
    """The real catalog with the committed figures (default/paper profile): every page's links resolve."""
    papers = load_catalog()
    index = site.build_site(papers, profile="default", figures_dir=REPO / "figures", site_dir=tmp_path)
    assert broken_links(tmp_path) == []
    text = index.read_text()
    assert text.count('<tr><td><a href="') == len(papers)  # one scoreboard row per paper
    total = sum(len(p.items) for p in papers)
    assert f"<b>{total}</b> figures and tables" in text


# --------------------------------------------------------------------------------------------
# The browser


def _chromium() -> str:
    exe = os.environ.get("HESSIAN_SPECTRA_CHROMIUM") or next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
    try:
        import websocket  # noqa: F401
    except ImportError:
        exe = None
    if exe is None:
        reason = "Chromium (apt-get install chromium) or websocket-client not found"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI needs both (.ci/run installs Chromium)")
        pytest.skip(f"{reason}; the browser check runs in CI")
    return exe


class Browser:
    """Headless Chromium driven through the DevTools protocol over one websocket."""

    FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
             "--remote-debugging-port=0", "--remote-allow-origins=*")

    def __init__(self, exe: str, profile_dir: Path, timeout: float = 30.0) -> None:
        import websocket

        self.timeout = timeout
        self.proc = subprocess.Popen([exe, *self.FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile_dir / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"Chromium did not open its DevTools port (exit code {self.proc.returncode})")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as resp:
            targets = json.loads(resp.read())
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def send(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, event: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if any(m.get("method") == event for m in self.events):
                return
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(event)

    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions, failed loads and error log entries since the last open."""
        found = []
        for m in self.events:
            method, p = m.get("method"), m.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                found.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif method == "Network.loadingFailed" and not p.get("canceled"):
                found.append(f"load failed: {p.get('errorText')}")
        return found

    def screenshot(self, path: Path, width: int = 1400) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False)
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=min(height, 6000),
                  deviceScaleFactor=1, mobile=False)
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# every image loaded (lazy ones, in the closed lightboxes, are made to load first)
_IMAGES_JS = """
(async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);
})()
"""


def test_site_in_headless_chromium(tiny_site, tmp_path):
    """Every page of the tiny site and the landing page of the committed figures' site, opened from the
    file system: every image loads, nothing is logged as an error; the links were checked above. The
    landing page's screenshot is kept at build/site-test/landing.png."""
    exe = _chromium()
    root, _, figures, reports = tiny_site
    _build_with_failure(root, figures, reports)
    real = tmp_path / "real"
    site.build_site(load_catalog(), profile="default", figures_dir=REPO / "figures", site_dir=real)
    browser = Browser(exe, tmp_path / "chromium-profile")
    try:
        pages = sorted(reports.glob("*.html")) + [real / "index.html", real / "linear_networks.html"]
        for page in pages:
            browser.open(page.as_uri())
            images = browser.evaluate(_IMAGES_JS)
            if page.name in ("index.html", "linear_networks.html"):  # the summary plot; the figures
                assert images, f"{page}: no image"
            bad = [src for src, complete, width in images if not (complete and width > 0)]
            assert bad == [], f"{page}: images that did not load: {bad}"
            assert browser.errors() == [], f"{page}: {browser.errors()}"
            assert browser.evaluate("document.title"), f"{page.name}: no title"
        # the enlarged image is a CSS :target overlay: following the thumbnail's link shows it
        browser.open((reports / "linear_networks.html").as_uri() + "#zoom-fig01")
        assert browser.evaluate("getComputedStyle(document.getElementById('zoom-fig01')).display") == "flex"
        assert browser.evaluate("getComputedStyle(document.getElementById('zoom-fig02_a')).display") == "none"
        browser.open((real / "index.html").as_uri())
        browser.screenshot(SHOT)
    finally:
        browser.close()
    assert SHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and SHOT.stat().st_size > 20_000


def test_other_outputs_show_and_count_their_claims(tmp_path):
    """A paper's other output (claims tied to no figure, e.g. a theorem's Monte Carlo) counts its verdicts
    and is rendered under "claims tied to no single figure", without counting as a figure or table."""
    nb = tmp_path / "nbs" / "theory.ipynb"
    nb.parent.mkdir()
    _notebook(nb)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(textwrap.dedent(f"""
        schema_version: 1
        profiles: [smoke, default, paper]
        papers:
          - key: linear_networks
            title: Linear networks
            paper_file: linear.txt
            inventory: 003.md
            items:
              - id: linear_networks/fig01
                kind: figure
                number: 1
                title: spectrum
                section: "§3"
                notebook: null
                parameters: {{}}
                outputs: [figures/linear_networks/fig01.json]
                status: planned
                datasets: [MNIST]
                needs: []
                claims: [{{id: S1, statement: a}}]
            other_claims: [{{id: S9, statement: a theorem}}, {{id: S10, statement: another}}]
            other_outputs:
              - id: linear_networks/theory
                title: Monte Carlo of the theorem
                section: App H
                notebook: {nb}
                outputs: [figures/linear_networks/theory.png, figures/linear_networks/theory.json]
                status: reproduced
                claims: [S9]
        """))
    figures = tmp_path / "figures"
    _figure(figures, "linear_networks/theory", [Claim("S9", "a theorem", None, 0.99, "agree", "rule: >= 0.9"),
                                                Claim("E1", "a lemma", 0, 0.4, "paper_erratum", "false as printed")],
            [{"name": "synthetic"}])
    papers = load_catalog(catalog)
    (view,) = site.collect(papers, figures)
    assert view.item_counts() == {"reproduced": 0, "partial": 0, "planned": 1}
    assert view.verdict_counts() == {"agree": 1, "disagree": 0, "paper_erratum": 1, "not_checkable": 0}
    assert view.claims_catalogued() == 3 and view.claims_pending() == 1
    site_dir = tmp_path / "site"
    site.build_site(papers, profile="default", figures_dir=figures, site_dir=site_dir, summary_png=False)
    page = (site_dir / "linear_networks.html").read_text()
    assert 'id="other-claims"' in page and 'id="theory"' in page and "Monte Carlo of the theorem" in page
    assert 'href="linear_networks.html#theory-s9"' in page and 'id="theory-s9"' in page
    assert broken_links(site_dir) == []
