"""The report site: a scoreboard landing page and one page per paper, built from the catalog and the
figures' JSON files (the last step of ``run_all.sh``; ``./run_all.sh --report-only`` builds it alone).

Written to ``reports/<profile>/`` as static files that open from the file system without a server:

- ``index.html``, the landing page: per paper and in total, the items reproduced / partial / planned and
  the claims agree / disagree / paper erratum / not checkable (each count links to the list it counts),
  the scale each paper was checked at (profiles, devices, stand-ins), a stacked-bar summary
  (``scoreboard.png``), one line per disagreement and per paper erratum, and the notebooks that failed
  in this run;
- ``<paper>.html``: that paper's items (contents grouped by status), then each figure with its image
  (click to enlarge), profile, data (stand-ins named once per figure), notes, settings, the executed
  notebook's HTML report, and its claims: the paper's value, ours (:func:`format_value`), the rule and
  the verdict; then its claims listed by verdict and its planned items with the claims catalogued;
- ``all.html``: the same lists over all papers (the targets of the scoreboard's total row);
- ``site.css``: the one style sheet. No JavaScript: the enlarged image is a CSS ``:target`` overlay.

Images and notebook reports are linked by paths relative to the site's folder, so the folder must stay
where it was built (``figures/`` and ``reports/`` of one checkout). Every file is written atomically.

The model (:func:`collect`) and the rendering (small functions returning HTML strings, every text
escaped with :func:`html.escape`) are kept apart; the counts are in :class:`PaperView`.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import atomic_path, atomic_write_text
from .catalog import OTHER_KIND, Item, Paper
from .claims import VERDICTS

__all__ = ["NotebookState", "FigureView", "ItemView", "PaperView", "collect", "format_value",
           "shared_sentences", "build_site", "summary_figure", "VERDICT_LABELS", "STATUSES"]

STATUSES: tuple[str, ...] = ("reproduced", "partial", "planned")
VERDICT_LABELS: dict[str, str] = {"agree": "agree", "disagree": "disagree", "paper_erratum": "paper erratum",
                                  "not_checkable": "not checkable"}
_VERDICT_COLOURS = {"agree": "#2da44e", "disagree": "#cf222e", "paper_erratum": "#d4a72c",
                    "not_checkable": "#8c959f"}
_STATUS_COLOURS = {"reproduced": "#2da44e", "partial": "#54aeff", "planned": "#d0d7de"}
_PENDING_COLOUR = "#eaeef2"
#: Where a figure says that something stood in for what the paper used.
_STAND_IN = re.compile(r"\bstand(?:s|ing)?[- ]in\b|\bstand-ins?\b", re.IGNORECASE)
e = html.escape


# --------------------------------------------------------------------------------------------
# Formatting values


def _number(value: float) -> str:
    """A float to about 4 significant digits: ``0.9488``, ``41.47``, ``1.156e-12``, ``1.53e7``; a float
    with an integral value below 1e15 as that integer (``15299748``, ``1``)."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    mantissa, exponent = f"{value:.3e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def _scalar(value: Any) -> str | None:
    """A scalar as text, or ``None`` for a container."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return value
    return None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + "…"


def _inline(value: Any, depth: int, max_items: int) -> str:
    """One line: a list as ``[a, b, …]``, a mapping as ``k = v, k = v`` (in parentheses when nested)."""
    text = _scalar(value)
    if text is not None:
        return text
    if isinstance(value, Mapping):
        entries = list(value.items())
        parts = [f"{k} = {_inline(v, depth + 1, max_items)}" for k, v in entries[:max_items]]
        if len(entries) > max_items:
            parts.append(f"… ({len(entries)} in all)")
        body = ", ".join(parts)
        return f"({body})" if depth > 0 else body
    if isinstance(value, (list, tuple)):
        items = list(value)
        parts = [_inline(v, depth + 1, max_items) for v in items[:max_items]]
        if len(items) > max_items:
            parts.append(f"… ({len(items)} in all)")
        return "[" + ", ".join(parts) + "]"
    return str(value)


def format_value(value: Any, *, max_items: int = 8, max_line: int = 160, max_chars: int = 600) -> str:
    """A claim's value as readable text: floats to ~4 significant digits, integers and strings as they
    are, ``None`` as a dash, booleans as yes/no; a mapping as one ``key: value`` line per entry (nested
    mappings inline as ``k = v, …``), a list as ``[a, b, …]`` (a list of mappings one per line).

    At most ``max_items`` entries per list or mapping (the rest counted: ``… (12 in all)``), lines
    clipped to ``max_line`` characters and the whole to ``max_chars``, each ending in ``…`` when cut.
    """
    if isinstance(value, Mapping):
        entries = list(value.items())
        lines = [f"{k}: {_inline(v, 0, max_items)}" for k, v in entries[:max_items]]
        if len(entries) > max_items:
            lines.append(f"… ({len(entries)} entries in all)")
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
        lines = [_inline(v, 0, max_items) for v in list(value)[:max_items]]
        if len(value) > max_items:
            lines.append(f"… ({len(value)} in all)")
    else:
        lines = [_inline(value, 0, max_items)]
    return _clip("\n".join(_clip(line, max_line) for line in lines), max_chars)


# --------------------------------------------------------------------------------------------
# Notes shared by several claims of a figure

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Za-z(])")
#: A sentence that states a claim's decision rule stays with its claim even when another claim shares it.
_RULE = re.compile(r"^\(?rule\b", re.IGNORECASE)


def _sentences(note: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(note or "") if s.strip()]


def _key(sentence: str) -> str:
    return sentence.rstrip(" .;")


def shared_sentences(notes: Sequence[str], min_length: int = 40) -> tuple[list[str], list[tuple[str, list[int]]]]:
    """Split the notes of a figure's claims into what is particular to each claim and what several share.

    A sentence (split after ``.``, ``!`` or ``?``) of at least ``min_length`` characters that occurs in
    two or more notes is taken out of them, unless it states the rule (starts with "rule"): the claims
    with the same set of such sentences get one footnote. Returns (each note without the shared sentences, [(footnote text, indices of the
    claims it applies to)]), footnotes in order of first use. Stand-in sentences repeated under every
    claim of a figure ("checked at profile 'default' on a stand-in: ...") become one footnote.
    """
    split = [_sentences(n) for n in notes]
    seen: Counter[str] = Counter()
    for sentences in split:
        seen.update({_key(s) for s in sentences})
    shared = {k for k, n in seen.items() if n >= 2 and len(k) >= min_length and not _RULE.match(k)}
    remaining: list[str] = []
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, sentences in enumerate(split):
        own = [s for s in sentences if _key(s) not in shared]
        common = tuple(dict.fromkeys(_key(s) for s in sentences if _key(s) in shared))
        remaining.append(" ".join(own))
        if common:
            groups.setdefault(common, []).append(index)
    footnotes = [(". ".join(k) + ".", members) for k, members in groups.items()]
    return remaining, footnotes


# --------------------------------------------------------------------------------------------
# The model: catalog items + figure records + notebook runs


@dataclass
class NotebookState:
    """What is known of the notebook behind an item: its rendered report and log (``None`` where
    absent), and this run's outcome (``status``: ok / cached / kept / failed; ``None`` when it did not
    run, as with ``--report-only``) with its message."""

    report: Path | None = None
    log: Path | None = None
    status: str | None = None
    error: str = ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


@dataclass
class FigureView:
    """One figure JSON (a figure or one of its panels) with its PNG."""

    json_path: Path
    png: Path | None
    record: dict[str, Any]
    error: str = ""  # the JSON could not be read

    @property
    def stem(self) -> str:
        return self.json_path.stem

    @property
    def claims(self) -> list[dict[str, Any]]:
        claims = self.record.get("claims") or []
        return [c for c in claims if isinstance(c, dict)]

    def claim_anchors(self) -> list[str]:
        """One unique anchor per claim: ``<figure stem>-<claim id slug>``."""
        anchors, used = [], set()
        for claim in self.claims:
            base = f"{self.stem}-{_slug(claim.get('id', 'claim'))}"
            anchor, k = base, 2
            while anchor in used:
                anchor, k = f"{base}-{k}", k + 1
            used.add(anchor)
            anchors.append(anchor)
        return anchors

    def verdicts(self) -> Counter[str]:
        return Counter(str(c.get("verdict")) for c in self.claims)

    @property
    def profile(self) -> str:
        return str(self.record.get("profile") or "?")

    @property
    def device(self) -> str:
        env = self.record.get("environment")
        return str(env.get("device") or "") if isinstance(env, dict) else ""

    def datasets(self) -> list[dict[str, Any]]:
        """The datasets, each named once (entries repeated per panel are merged)."""
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str, str]] = set()
        for d in self.record.get("datasets") or []:
            d = d if isinstance(d, dict) else {"name": str(d)}
            key = (str(d.get("name", "")), str(d.get("source") or ""), str(d.get("note") or ""))
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out

    def uses_stand_ins(self) -> bool:
        texts = [str(d.get("note") or "") for d in self.datasets()] + [str(self.record.get("notes") or "")]
        texts += [str(c.get("note") or "") for c in self.claims]
        return any(_STAND_IN.search(t) for t in texts)


@dataclass
class ItemView:
    """One catalogued figure or table with what was made of it."""

    item: Item
    figures: list[FigureView]
    notebook: NotebookState = field(default_factory=NotebookState)

    @property
    def anchor(self) -> str:
        return self.item.id.split("/", 1)[1]

    @property
    def label(self) -> str:
        if self.item.kind == OTHER_KIND:
            return "Claims tied to no figure"
        return f"{'Figure' if self.item.kind == 'figure' else 'Table'} {self.item.number}"

    def verdicts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for fig in self.figures:
            total.update(fig.verdicts())
        return total


@dataclass
class PaperView:
    """One paper's items and its counts; ``others`` are its other outputs (checks of claims tied to no
    figure, :attr:`~hessian_spectra.pipeline.catalog.Paper.other_outputs`): their verdicts count, they do
    not count as items."""

    paper: Paper
    items: list[ItemView]
    others: list[ItemView] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.paper.key

    @property
    def page(self) -> str:
        return f"{self.paper.key}.html"

    def item_counts(self) -> dict[str, int]:
        return {s: sum(v.item.status == s for v in self.items) for s in STATUSES}

    def verdict_counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for view in self.items + self.others:
            total.update(view.verdicts())
        return {v: total.get(v, 0) for v in VERDICTS}

    def claims_checked(self) -> int:
        return sum(self.verdict_counts().values())

    def claims_catalogued(self) -> int:
        """The claims ``catalog.yaml`` lists for this paper: per item, and tied to no single item."""
        return sum(len(v.item.claims) for v in self.items) + len(self.paper.other_claims)

    def claims_pending(self) -> int:
        """Catalogued claims of the items that have no figure yet (checked when those are made)."""
        return sum(len(v.item.claims) for v in self.items if not v.figures)

    def figures(self) -> list[FigureView]:
        return [f for v in self.items for f in v.figures]

    def made(self) -> bool:
        return bool(self.figures())


def _figure_views(item: Item, figures_dir: Path) -> list[FigureView]:
    found = []
    for out in item.outputs:
        if not out.endswith(".json"):
            continue
        rel = Path(out)
        rel = rel.relative_to("figures") if rel.parts and rel.parts[0] == "figures" else rel
        path = figures_dir / rel
        if not path.exists():
            continue
        png = path.with_suffix(".png")
        try:
            record = json.loads(path.read_text())
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            error = ""
        except (OSError, ValueError) as exc:
            record, error = {}, f"unreadable figure JSON: {exc}"
        found.append(FigureView(path, png if png.exists() else None, record, error))
    return found


def collect(papers: Iterable[Paper], figures_dir: Path,
            notebooks: Mapping[str, NotebookState] | None = None) -> list[PaperView]:
    """Each paper with its items, their figure records under ``figures_dir`` and their notebooks'
    states (keyed by item id); papers with figures first, catalog order otherwise."""
    notebooks = notebooks or {}
    def view(i: Item) -> ItemView:
        return ItemView(i, _figure_views(i, Path(figures_dir)), notebooks.get(i.id, NotebookState()))

    views = [PaperView(p, [view(i) for i in p.items], [view(i) for i in p.other_outputs]) for p in papers]
    return sorted(views, key=lambda v: not v.made())


# --------------------------------------------------------------------------------------------
# Rendering: small pieces


CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg2:#f6f8fa}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:0}
main{max-width:1280px;margin:0 auto;padding:0 20px 40px}
nav.top{background:#24292f;color:#fff;padding:8px 20px;font-size:14px;position:sticky;top:0;z-index:5}
nav.top a{color:#fff;margin-right:14px;text-decoration:none} nav.top a.here{font-weight:700;text-decoration:underline}
h1{font-size:26px;margin:18px 0 4px} h2{font-size:21px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:17px;margin:18px 0 6px} .lead{font-size:16px;max-width:72em}
.muted,small{color:var(--muted)} code{background:var(--bg2);padding:0 3px;border-radius:3px;font-size:90%}
table{border-collapse:collapse;margin:6px 0 12px} td,th{border:1px solid var(--line);padding:4px 8px;vertical-align:top;text-align:left}
th{background:var(--bg2);font-weight:600} td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
table.score td:first-child{min-width:300px;max-width:380px;line-height:1.25} table.score td.n a{font-weight:600;text-decoration:none} table.score tr.total td{font-weight:700;background:var(--bg2)}
td.zero{color:#b0b7bf} .num{font-variant-numeric:tabular-nums}
.v{display:inline-block;padding:0 7px;border-radius:10px;color:#fff;font-size:12.5px;font-weight:600;white-space:nowrap}
.v-agree{background:#1a7f37}.v-disagree{background:#cf222e}.v-paper_erratum{background:#9a6700}.v-not_checkable{background:#6e7781}
.s{display:inline-block;padding:0 7px;border-radius:10px;font-size:12.5px;font-weight:600;border:1px solid var(--line)}
.s-reproduced{background:#dafbe1;color:#116329}.s-partial{background:#ddf4ff;color:#0550ae}.s-planned{background:var(--bg2);color:var(--muted)}
.s-failed{background:#ffebe9;color:#a40e26}
.fig{border-top:2px solid var(--line);margin-top:26px;padding-top:4px}
.record{display:grid;grid-template-columns:minmax(280px,520px) 1fr;gap:18px;margin:10px 0}
.record img.thumb{width:100%;border:1px solid var(--line);cursor:zoom-in;background:#fff}
.meta td:first-child{white-space:nowrap;color:var(--muted);width:1%} .meta{width:100%;font-size:14px}
.claims{width:100%;font-size:14px} .claims td.val{white-space:pre-line;font-variant-numeric:tabular-nums;min-width:9em;max-width:24em;overflow-wrap:anywhere}
.claims td.rule{color:#3d444d;font-size:13px;max-width:34em;overflow-wrap:anywhere} .claims tr:target{outline:3px solid #ffd33d}
.claims td.id{white-space:nowrap;font-weight:600} .claims td.val{min-width:12em}
.problems{font-size:13px;table-layout:auto} .problems td.val,.problems td.rule{max-width:none;min-width:0}
table.score td:last-child{min-width:230px}
.footnotes{font-size:13px;color:#3d444d;margin:4px 0 8px;padding-left:1.2em} .footnotes li{margin:2px 0}
sup.fn a{text-decoration:none}
details>summary{cursor:pointer;color:var(--muted);font-size:13.5px} pre{font-size:12px;background:var(--bg2);padding:6px;overflow:auto;max-height:30em}
.lightbox{display:none;position:fixed;inset:0;background:rgba(20,20,20,.88);z-index:20;align-items:center;justify-content:center;cursor:zoom-out}
.lightbox:target{display:flex} .lightbox img{max-width:96vw;max-height:94vh;background:#fff}
ul.compact{columns:2;column-gap:30px;padding-left:1.2em} ul.compact li{break-inside:avoid;margin:1px 0}
.cols{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
.summary-img{max-width:100%;width:880px;border:1px solid var(--line)}
.alert{background:#ffebe9;border:1px solid #ff8182;padding:6px 10px;border-radius:6px}
@media (max-width:900px){.record{grid-template-columns:1fr} ul.compact{columns:1}}
"""


def _verdict(verdict: Any) -> str:
    v = str(verdict)
    return f'<span class="v v-{e(_slug(v).replace("-", "_"))}">{e(VERDICT_LABELS.get(v, v))}</span>'


def _status(status: str) -> str:
    return f'<span class="s s-{e(status)}">{e(status)}</span>'


def _count_cell(n: int, href: str) -> str:
    if n == 0:
        return '<td class="n zero">0</td>'
    return f'<td class="n"><a href="{e(href)}">{n}</a></td>'


def _rel(target: Path, site_dir: Path) -> str:
    return Path(os.path.relpath(target, site_dir)).as_posix()


def _page(title: str, body: str, nav: str) -> str:
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)}</title><link rel=\"icon\" href=\"data:,\">"
            "<link rel=\"stylesheet\" href=\"site.css\"></head>\n<body>\n"
            f"{nav}\n<main>\n{body}\n</main>\n</body></html>\n")


def _nav(papers: Sequence[PaperView], here: str) -> str:
    links = [("index.html", "Scoreboard")] + [(p.page, p.key) for p in papers] + [("all.html", "All lists")]
    here_attr = ' class="here"'
    return '<nav class="top">' + "".join(
        f'<a href="{e(href)}"{here_attr if href == here else ""}>{e(text)}</a>' for href, text in links) + "</nav>"


def _scale(paper: PaperView) -> str:
    """At what scale a paper's figures were checked: profiles, devices, stand-ins."""
    figs = paper.figures()
    if not figs:
        made = any(v.item.status != "planned" for v in paper.items)
        return f'<span class="muted">{"no figure at this profile yet" if made else "not made yet"}</span>'
    profiles = Counter(f.profile for f in figs)
    devices = sorted({f.device for f in figs if f.device})
    stand = sum(f.uses_stand_ins() for f in figs)
    parts = [", ".join(f"<b>{e(p)}</b> ×{n}" for p, n in sorted(profiles.items()))]
    if devices:
        parts.append(e(", ".join(devices)))
    parts.append(f"stand-ins in {stand} of {len(figs)}" if stand else "no stand-ins")
    return " · ".join(parts)


def _scoreboard(papers: Sequence[PaperView]) -> str:
    head = ("<table class=\"score\"><tr><th rowspan=\"2\">paper</th><th colspan=\"3\">figures and tables</th>"
            "<th colspan=\"4\">claims checked</th><th rowspan=\"2\" class=\"n\">claims<br>catalogued</th>"
            "<th rowspan=\"2\">checked at (profile ×figures · device · stand-ins)</th></tr><tr>"
            + "".join(f"<th class=\"n\">{s}</th>" for s in STATUSES)
            + "".join(f"<th class=\"n\">{e(VERDICT_LABELS[v])}</th>" for v in VERDICTS) + "</tr>")
    rows = [head]
    totals_items: Counter[str] = Counter()
    totals_verdicts: Counter[str] = Counter()
    catalogued = 0
    for p in papers:
        items, verdicts = p.item_counts(), p.verdict_counts()
        totals_items.update(items)
        totals_verdicts.update(verdicts)
        catalogued += p.claims_catalogued()
        rows.append(f'<tr><td><a href="{e(p.page)}"><b>{e(p.key)}</b></a><br><small>{e(_short_title(p.paper.title, 75))}</small></td>'
                    + "".join(_count_cell(items[s], f"{p.page}#status-{s}") for s in STATUSES)
                    + "".join(_count_cell(verdicts[v], f"{p.page}#verdict-{v}") for v in VERDICTS)
                    + f'<td class="n">{p.claims_catalogued()}</td><td><small>{_scale(p)}</small></td></tr>')
    rows.append('<tr class="total"><td>total</td>'
                + "".join(_count_cell(totals_items[s], f"all.html#status-{s}") for s in STATUSES)
                + "".join(_count_cell(totals_verdicts[v], f"all.html#verdict-{v}") for v in VERDICTS)
                + f'<td class="n">{catalogued}</td><td></td></tr></table>')
    return "".join(rows)


def _short_title(title: str, limit: int = 90) -> str:
    return _clip(title, limit)


@dataclass
class _ClaimRef:
    paper: PaperView
    item: ItemView
    figure: FigureView
    claim: dict[str, Any]
    anchor: str

    @property
    def href(self) -> str:
        return f"{self.paper.page}#{self.anchor}"


def _claim_refs(papers: Iterable[PaperView]) -> list[_ClaimRef]:
    refs = []
    for p in papers:
        for view in p.items + p.others:
            for fig in view.figures:
                for claim, anchor in zip(fig.claims, fig.claim_anchors()):
                    refs.append(_ClaimRef(p, view, fig, claim, anchor))
    return refs


def _claim_line(ref: _ClaimRef, with_paper: bool) -> str:
    where = f"{ref.paper.key}/{ref.figure.stem}" if with_paper else ref.figure.stem
    return (f'<li><a href="{e(ref.href)}">{e(where)} · {e(str(ref.claim.get("id")))}</a> '
            f'{e(_clip(str(ref.claim.get("statement", "")), 140))}</li>')


def _verdict_lists(refs: Sequence[_ClaimRef], with_paper: bool) -> str:
    out = []
    for v in VERDICTS:
        chosen = [r for r in refs if r.claim.get("verdict") == v]
        if chosen:  # an empty list is left out (a zero on the scoreboard links nowhere)
            out.append(f'<h3 id="verdict-{v}">{_verdict(v)} {len(chosen)} claim{"s" if len(chosen) != 1 else ""}</h3>'
                       '<ul class="compact">' + "".join(_claim_line(r, with_paper) for r in chosen) + "</ul>")
    return "\n".join(out) or '<p class="muted">No claim checked yet.</p>'


def _status_lists(papers: Sequence[PaperView], with_paper: bool) -> str:
    out = []
    for s in STATUSES:
        chosen = [(p, v) for p in papers for v in p.items if v.item.status == s]
        if not chosen:  # left out, as above
            continue
        out.append(f'<h3 id="status-{s}">{_status(s)} {len(chosen)} item{"s" if len(chosen) != 1 else ""}</h3>')
        lines = []
        for p, v in chosen:
            label = f"{p.key}/{v.anchor}" if with_paper else v.anchor
            counts = _mini_counts(v)
            lines.append(f'<li><a href="{e(p.page)}#{e(v.anchor)}">{e(label)}</a> {e(_clip(v.item.title, 110))} {counts}</li>')
        out.append('<ul class="compact">' + "".join(lines) + "</ul>")
    return "\n".join(out)


def _mini_counts(view: ItemView) -> str:
    counts = view.verdicts()
    if not counts:
        n = len(view.item.claims)
        return f'<small>({n} claim{"s" if n != 1 else ""} catalogued)</small>'
    return "<small>(" + ", ".join(f"{counts[v]} {VERDICT_LABELS[v]}" for v in VERDICTS if counts.get(v)) + ")</small>"


def _problems_table(refs: Sequence[_ClaimRef]) -> str:
    chosen = [r for r in refs if r.claim.get("verdict") in ("disagree", "paper_erratum")]
    if not chosen:
        return '<p class="muted">No claim disagrees and no paper erratum was found.</p>'
    order = {"paper_erratum": 0, "disagree": 1}
    chosen.sort(key=lambda r: order[r.claim["verdict"]])
    rows = ['<table class="claims problems"><colgroup><col><col><col style="width:27%"><col style="width:11%">'
            '<col style="width:19%"><col style="width:30%"></colgroup><tr><th>verdict</th><th>where</th><th>the paper says</th><th>paper value</th>'
            '<th>ours</th><th>why: the rule, or the correction</th></tr>']
    for r in chosen:
        c = r.claim
        note = str(c.get("note") or "")
        rows.append(f'<tr><td>{_verdict(c.get("verdict"))}</td>'
                    f'<td class="id"><a href="{e(r.href)}">{e(r.paper.key)}/{e(r.figure.stem)}<br>{e(str(c.get("id")))}</a></td>'
                    f'<td>{e(_clip(str(c.get("statement", "")), 110))}</td>'
                    f'<td class="val">{e(format_value(c.get("paper_value"), max_items=4, max_line=50, max_chars=80))}</td>'
                    f'<td class="val">{e(format_value(c.get("ours"), max_items=4, max_line=70, max_chars=90))}</td>'
                    f'<td class="rule" title="{e(note)}">{e(_clip(note, 150))}</td></tr>')
    rows.append("</table>")
    return "".join(rows)


# --------------------------------------------------------------------------------------------
# Rendering: a figure with its claims


def _dataset_line(d: Mapping[str, Any]) -> str:
    name = f"<b>{e(str(d.get('name', '?')))}</b>"
    extras = [f"{k} {d[k]}" for k in ("split", "n") if d.get(k) not in (None, "")]
    text = name + (f" <small>({e(', '.join(str(x) for x in extras))})</small>" if extras else "")
    if d.get("note"):
        note = str(d["note"])
        text += " — " + (f"<b>stand-in:</b> {e(note)}" if _STAND_IN.search(note) else e(note))
    if d.get("source"):
        text += f' <small title="{e(str(d["source"]))}">[{e(Path(str(d["source"])).name)}]</small>'
    return text


def _claims_table(fig: FigureView) -> str:
    claims = fig.claims
    if not claims:
        return '<p class="muted">No claims recorded for this figure.</p>'
    rules, footnotes = shared_sentences([str(c.get("note") or "") for c in claims])
    marks: dict[int, list[str]] = {}
    letters = "abcdefghijklmnopqrstuvwxyz"
    notes_html = []
    for k, (text, members) in enumerate(footnotes):
        letter = letters[k % 26] + ("" if k < 26 else str(k // 26))
        for m in members:
            marks.setdefault(m, []).append(letter)
        ids = ", ".join(str(claims[m].get("id")) for m in members)
        notes_html.append(f'<li id="{e(fig.stem)}-note-{letter}"><b>[{letter}]</b> {e(text)} <small>(claims {e(ids)})</small></li>')
    out = []
    if notes_html:
        out.append('<p class="muted" style="margin-bottom:0">Notes shared by several claims of this figure:</p>'
                   '<ul class="footnotes">' + "".join(notes_html) + "</ul>")
    out.append('<table class="claims"><colgroup><col><col style="width:25%"><col style="width:11%"><col style="width:22%">'
               '<col style="width:30%"><col></colgroup><tr><th>claim</th><th>the paper says</th><th>paper value</th><th>ours</th>'
               '<th>rule</th><th>verdict</th></tr>')
    for index, (claim, anchor) in enumerate(zip(claims, fig.claim_anchors())):
        fn = "".join(f'<sup class="fn"><a href="#{e(fig.stem)}-note-{m}">[{m}]</a></sup>' for m in marks.get(index, []))
        ours_full = json.dumps(claim.get("ours"), ensure_ascii=False)
        ours_text = format_value(claim.get("ours"))
        raw = ""
        if len(ours_full) > len(ours_text) + 40 and ("…" in ours_text):
            raw = f'<details><summary>all values</summary><pre>{e(json.dumps(claim.get("ours"), indent=1, ensure_ascii=False))}</pre></details>'
        out.append(f'<tr id="{e(anchor)}"><td class="id">{e(str(claim.get("id")))}</td>'
                   f'<td>{e(str(claim.get("statement", "")))}</td>'
                   f'<td class="val">{e(format_value(claim.get("paper_value")))}</td>'
                   f'<td class="val">{e(ours_text)}{raw}</td>'
                   f'<td class="rule">{e(rules[index])}{fn}</td>'
                   f'<td>{_verdict(claim.get("verdict"))}</td></tr>')
    out.append("</table>")
    return "".join(out)


def _record_html(view: ItemView, fig: FigureView, site_dir: Path) -> str:
    if fig.error:
        return f'<p class="alert">{e(fig.error)} ({e(str(fig.json_path))})</p>'
    rec = fig.record
    parts = []
    if fig.stem != view.anchor:
        parts.append(f'<h3 id="{e(fig.stem)}">{e(fig.stem)}: {e(str(rec.get("title", "")))}</h3>')
    elif rec.get("title") and rec.get("title") != view.item.title:
        parts.append(f'<p><i>{e(str(rec["title"]))}</i></p>')
    image = ""
    if fig.png is not None:
        src = e(_rel(fig.png, site_dir))
        image = (f'<a href="#zoom-{e(fig.stem)}"><img class="thumb" src="{src}" alt="{e(fig.stem)}"></a>'
                 f'<a class="lightbox" id="zoom-{e(fig.stem)}" href="#{e(view.anchor)}"><img src="{src}" alt="{e(fig.stem)} enlarged" loading="lazy"></a>'
                 '<br><small>click to enlarge</small>')
    else:
        image = '<p class="muted">no image</p>'
    env = rec.get("environment") if isinstance(rec.get("environment"), dict) else {}
    commit = str(env.get("git_commit") or "?") + (" (with uncommitted changes)" if env.get("git_dirty") else "")
    meta = [f"<tr><td>profile</td><td><b>{e(fig.profile)}</b>"
            + (' · <b>stand-ins</b> (below)' if fig.uses_stand_ins() else "") + "</td></tr>",
            "<tr><td>data</td><td>" + "<br>".join(_dataset_line(d) for d in fig.datasets()) + "</td></tr>",
            f"<tr><td>made</td><td>{e(str(rec.get('created', '?')))} on {e(fig.device or '?')}, commit {e(commit)}</td></tr>"]
    if rec.get("notes"):
        meta.append(f"<tr><td>notes</td><td>{e(str(rec['notes']))}</td></tr>")
    meta.append(f'<tr><td>record</td><td><a href="{e(_rel(fig.json_path, site_dir))}">{e(fig.json_path.name)}</a>'
                f'<details><summary>settings</summary><pre>{e(json.dumps(rec.get("settings", {}), indent=1, ensure_ascii=False))}</pre></details></td></tr>')
    parts.append(f'<div class="record"><div>{image}</div><table class="meta">{"".join(meta)}</table></div>')
    parts.append(_claims_table(fig))
    return "\n".join(parts)


def _item_html(view: ItemView, site_dir: Path) -> str:
    item = view.item
    nb = view.notebook
    line = [_status(item.status), f"section {e(item.section)}"]
    if item.notebook:
        line.append(f"notebook <code>{e(item.notebook)}</code>")
    if nb.report is not None:
        line.append(f'<a href="{e(_rel(nb.report, site_dir))}">executed notebook (HTML report)</a>')
    elif item.notebook:
        line.append('<span class="muted">no rendered notebook for this profile yet</span>')
    if nb.status == "failed":
        log = f' · <a href="{e(_rel(nb.log, site_dir))}">log</a>' if nb.log is not None else ""
        line.append(f'<span class="s s-failed">notebook FAILED in this run</span>{log}')
    elif nb.status == "kept":
        line.append(f'<span class="muted">kept: {e(nb.error)}</span>')
    head = (f'<section class="fig" id="{e(view.anchor)}"><h2>{e(view.label)} · {e(item.title)} '
            f'<small>({e(item.id)})</small></h2><p>{" · ".join(line)}</p>')
    if item.note:
        head += f'<p class="muted">Catalog note: {e(item.note)}</p>'
    if nb.status == "failed" and nb.error:
        head += f"<details><summary>end of the log</summary><pre>{e(nb.error)}</pre></details>"
    body = [_record_html(view, fig, site_dir) for fig in view.figures]
    if not body:
        body = [f'<p class="muted">No output found for this profile yet ({len(item.claims)} claims catalogued).</p>']
    return head + "\n".join(body) + "</section>"


# --------------------------------------------------------------------------------------------
# Pages


def _paper_page(paper: PaperView, papers: Sequence[PaperView], site_dir: Path) -> str:
    p = paper.paper
    counts, verdicts = paper.item_counts(), paper.verdict_counts()
    made = [v for v in paper.items if v.item.status != "planned" or v.figures]
    planned = [v for v in paper.items if v not in made]
    body = [f'<h1>{e(p.title)}</h1><p class="muted"><code>{e(p.key)}</code> · text <code>{e(p.paper_file)}</code> · '
            f'inventory <code>{e(p.inventory)}</code></p>',
            "<p class=\"lead\">" + ", ".join(f"{counts[s]} {s}" for s in STATUSES) + " of "
            f"{len(paper.items)} figures and tables; {paper.claims_checked()} claims checked: "
            + ", ".join(f"{verdicts[v]} {VERDICT_LABELS[v]}" for v in VERDICTS)
            + f"; {paper.claims_catalogued()} catalogued. Checked at: {_scale(paper)}.</p>",
            _scoreboard([paper]).replace('<tr class="total">', '<tr class="total" style="display:none">'),
            "<h2>Contents</h2>", _status_lists([paper], with_paper=False),
            '<p><a href="#by-verdict">claims by verdict</a>'
            + (' · <a href="#planned">planned items</a>' if planned else "")
            + (' · <a href="#other-claims">claims tied to no single figure</a>' if p.other_claims else "") + "</p>"]
    body += [_item_html(v, site_dir) for v in made]
    body.append('<h2 id="by-verdict">Claims by verdict</h2>')
    body.append(_verdict_lists(_claim_refs([paper]), with_paper=False))
    if planned:
        body.append(f'<h2 id="planned">Planned ({len(planned)}: not yet produced)</h2><table><tr><th>item</th><th>title</th>'
                    '<th>section</th><th>data (paper)</th><th class="n">claims catalogued</th></tr>')
        for v in planned:
            body.append(f'<tr id="{e(v.anchor)}"><td class="id">{e(v.item.id)}</td><td>{e(v.item.title)}</td>'
                        f'<td>{e(v.item.section)}</td><td>{e(", ".join(v.item.datasets))}</td>'
                        f'<td class="n">{len(v.item.claims)}</td></tr>')
        body.append("</table>")
    if p.other_claims:
        body.append(f'<h2 id="other-claims">Claims tied to no single figure ({len(p.other_claims)}, catalogued)</h2>'
                    '<ul class="compact">' + "".join(f"<li><b>{e(c.id)}</b> {e(_clip(c.statement, 160))}</li>"
                                                    for c in p.other_claims) + "</ul>")
        body += [_item_html(v, site_dir) for v in paper.others]
    return _page(f"{p.key}: {p.title}", "\n".join(body), _nav(papers, paper.page))


def _index_page(papers: Sequence[PaperView], profile: str, figures_dir: Path, site_dir: Path,
                figure_png: str | None, failed: Sequence[tuple[str, NotebookState]], built: str) -> str:
    items = sum(len(p.items) for p in papers)
    counts: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    for p in papers:
        counts.update(p.item_counts())
        verdicts.update(p.verdict_counts())
    checked = sum(verdicts.values())
    pending = sum(p.claims_pending() for p in papers)
    refs = _claim_refs(papers)
    reproducing = [p.key for p in papers if p.made()]
    body = [f"<h1>Hessian spectra: replication scoreboard <small>· profile <code>{e(profile)}</code></small></h1>",
            f'<p class="lead"><b>{items}</b> figures and tables of <b>{len(papers)}</b> papers: '
            f'{counts["reproduced"]} reproduced, {counts["partial"]} partial, {counts["planned"]} planned. '
            f'<b>{checked}</b> claims checked: {verdicts["agree"]} agree, {verdicts["disagree"]} disagree, '
            f'{verdicts["paper_erratum"]} paper errata, {verdicts["not_checkable"]} not checkable'
            + (f"; {pending} catalogued claims wait for their figures" if pending else "") + ". "
            + (f"Made so far: {e(', '.join(reproducing))}." if reproducing else "Nothing made yet.") + "</p>",
            ('<p class="alert">Profile <b>smoke</b>: tiny runs that check the pipeline end to end; their numbers '
             "are not meant to match the papers, so these verdicts say nothing about them. The committed figures "
             "are in the <code>default</code> and <code>paper</code> sites.</p>" if profile == "smoke" else ""),
            "<h2>Scoreboard</h2>", _scoreboard(papers),
            '<p class="muted"><small><b>reproduced</b>: every panel made and its claims checked; <b>partial</b>: some; '
            "<b>planned</b>: catalogued, not made. <b>agree</b>: our number supports the paper by the rule stated; "
            "<b>disagree</b>: it does not; <b>paper erratum</b>: the paper's printed value or formula is wrong (the "
            "corrected one holds); <b>not checkable</b>: not at this scale or with this data (the reason is given). "
            "Profiles: <b>smoke</b> tiny, numbers not meant to match; <b>default</b> CPU scale; <b>paper</b> the paper's "
            "settings. A figure on <b>stand-ins</b> (a smaller network, another dataset) says so; its verdicts are about "
            "the stand-in.</small></p>"]
    if figure_png:
        body.append(f'<img class="summary-img" src="{e(figure_png)}" alt="claims and items per paper, stacked by verdict and status">')
    body.append('<h2 id="problems">Where the papers and our numbers part</h2>'
                '<p class="muted">Every claim whose verdict is <i>paper erratum</i> or <i>disagree</i>, one line each '
                "(follow the link for the figure, its data and the full values; hover the last column for the whole note).</p>")
    body.append(_problems_table(refs))
    if failed:
        body.append('<h2 id="failed">Notebooks that FAILED in this run</h2><ul>')
        for notebook, state in failed:
            log = f' (<a href="{e(_rel(state.log, site_dir))}">log</a>)' if state.log is not None else ""
            tail = f"<pre>{e(state.error)}</pre>" if state.error else ""
            body.append(f"<li><b>FAILED</b>: <code>{e(notebook)}</code>{log}{tail}</li>")
        body.append("</ul>")
    body.append("<h2>Papers</h2><ul>" + "".join(
        f'<li><a href="{e(p.page)}"><b>{e(p.key)}</b></a>: {e(p.paper.title)}</li>' for p in papers) + "</ul>")
    body.append(f'<p class="muted"><small>Built {e(built)} from <code>catalog.yaml</code> and the figure records in '
                f"<code>{e(str(figures_dir))}</code>. Planned items are listed on each paper's page.</small></p>")
    return _page(f"Hessian spectra: scoreboard ({profile})", "\n".join(body), _nav(papers, "index.html"))


def _all_page(papers: Sequence[PaperView]) -> str:
    body = ["<h1>All papers: items by status, claims by verdict</h1>",
            '<p class="muted">The lists the scoreboard\'s total row counts.</p>',
            "<h2>Figures and tables by status</h2>", _status_lists(papers, with_paper=True),
            "<h2>Claims by verdict</h2>", _verdict_lists(_claim_refs(papers), with_paper=True)]
    return _page("Hessian spectra: all lists", "\n".join(body), _nav(papers, "all.html"))


# --------------------------------------------------------------------------------------------
# The summary figure


def summary_figure(papers: Sequence[PaperView], path: Path) -> Path:
    """Write ``path``: per paper, its claims stacked by verdict (and the catalogued claims still waiting
    for their figure), and its items stacked by status. Written atomically."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    keys = [p.key for p in papers][::-1]
    views = list(papers)[::-1]
    fig = Figure(figsize=(10, 0.5 * len(views) + 1.6), dpi=110)
    ax_claims, ax_items = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    for ax, segments, title in (
            (ax_claims, [(VERDICT_LABELS[v], _VERDICT_COLOURS[v], [p.verdict_counts()[v] for p in views]) for v in VERDICTS]
             + [("not yet checked", _PENDING_COLOUR, [p.claims_pending() for p in views])], "claims"),
            (ax_items, [(s, _STATUS_COLOURS[s], [p.item_counts()[s] for p in views]) for s in STATUSES],
             "figures and tables")):
        left = [0] * len(views)
        for label, colour, values in segments:
            ax.barh(keys, values, left=left, color=colour, edgecolor="white", linewidth=0.8, label=label)
            scale = max((sum(x) for x in zip(*[s[2] for s in segments])), default=1) or 1
            for y, (x0, value) in enumerate(zip(left, values)):
                if value and value / scale > 0.035:
                    dark = colour in (_PENDING_COLOUR, _STATUS_COLOURS["planned"])
                    ax.text(x0 + value / 2, y, str(value), ha="center", va="center", fontsize=8.5,
                            color="#333" if dark else "white", fontweight="bold")
            left = [a + b for a, b in zip(left, values)]
        ax.set_title(title, fontsize=11, loc="left")
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("count")
    ax_items.set_yticklabels([])
    handles = [Patch(color=_VERDICT_COLOURS[v], label=VERDICT_LABELS[v]) for v in VERDICTS] + \
              [Patch(facecolor=_PENDING_COLOUR, edgecolor="#aaa", label="claims not yet checked")] + \
              [Patch(color=_STATUS_COLOURS[s], label=s) for s in STATUSES]
    fig.legend(handles=handles, loc="lower center", ncol=8, fontsize=8.5, frameon=False)
    fig.subplots_adjust(bottom=0.28 if len(views) < 4 else 0.2, top=0.88, left=0.14, right=0.98, wspace=0.08)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


# --------------------------------------------------------------------------------------------
# Entry point


def build_site(papers: Sequence[Paper], *, profile: str, figures_dir: Path, site_dir: Path,
               notebooks: Mapping[str, NotebookState] | None = None,
               failed: Sequence[tuple[str, NotebookState]] = (), summary_png: bool = True) -> Path:
    """Write the site into ``site_dir`` (``index.html``, ``<paper>.html``, ``all.html``, ``site.css``,
    ``scoreboard.png``) from the catalog's ``papers``, the figure records under ``figures_dir`` and the
    notebooks' states (keyed by item id); ``failed`` lists this run's failed notebooks (path, state).
    Returns the landing page's path."""
    site_dir = Path(site_dir)
    site_dir.mkdir(parents=True, exist_ok=True)
    views = collect(papers, Path(figures_dir), notebooks)
    built = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    atomic_write_text(site_dir / "site.css", CSS.lstrip())
    figure_png = None
    if summary_png:
        summary_figure(views, site_dir / "scoreboard.png")
        figure_png = "scoreboard.png"
    for view in views:
        atomic_write_text(site_dir / view.page, _paper_page(view, views, site_dir))
    atomic_write_text(site_dir / "all.html", _all_page(views))
    index = site_dir / "index.html"
    atomic_write_text(index, _index_page(views, profile, Path(figures_dir), site_dir, figure_png, failed, built))
    return index
