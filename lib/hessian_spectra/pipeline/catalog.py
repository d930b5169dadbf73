"""The figure catalog: every figure and table of the five papers, loaded from ``catalog.yaml``.

``catalog.yaml`` (repository root) lists, per paper, one item per figure and per table with the
notebook that produces it, its outputs, its status and the paper's checkable claims (taken from the
scoreboards, section S, of ``../shared/inventory/``). Its header comment documents the schema.

This module loads and validates it (:func:`load_catalog`), iterates over it (:func:`iter_items`),
groups it into notebook runs for ``run_all.sh`` (:func:`runs`), and counts the figure and table
captions of a paper's text (:func:`caption_numbers`), so that a test can prove that no figure or table
of any paper is missing from the catalog.

Only the standard library and PyYAML are used.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..utils import repo_root

__all__ = [
    "CatalogError", "Claim", "Item", "Paper", "Run", "PAPER_KEYS", "KINDS", "STATUSES", "NEEDS",
    "EXPECTED_COUNTS", "default_catalog_path", "load_catalog", "iter_items", "runs", "expected_counts",
    "caption_numbers", "missing_notebooks", "iter_outputs", "OTHER_KIND",
]

SCHEMA_VERSION = 1

#: Paper keys, in catalog order (CONTRIBUTING.md).
PAPER_KEYS: tuple[str, ...] = ("wu2020", "papyan2020", "granziol2020", "linear_networks", "beyond_rmt")
KINDS: tuple[str, ...] = ("figure", "table")
#: ``reproduced``: every panel made and its claims checked; ``partial``: some; ``planned``: none yet.
STATUSES: tuple[str, ...] = ("reproduced", "partial", "planned")
#: Library parts an item may need.
NEEDS: tuple[str, ...] = ("engine", "rmt", "structure", "pacbayes", "training", "linear_nets")
#: The kind of an entry of a paper's ``other_outputs``: a notebook output that is no figure or table of
#: the paper (e.g. the Monte Carlo checks of a theorem), recording verdicts on ``other_claims``.
OTHER_KIND = "other"

#: (figures, tables) per paper, counted from the captions of the paper texts in ../shared/papers/
#: ("Figure N:" / "Table N:", each number once; see :func:`caption_numbers`). 91 figures, 14 tables.
EXPECTED_COUNTS: dict[str, tuple[int, int]] = {
    "wu2020": (30, 10),
    "papyan2020": (17, 1),
    "granziol2020": (33, 3),
    "linear_networks": (4, 0),
    "beyond_rmt": (7, 0),
}

_PREFIX = {"figure": "fig", "table": "tab"}
_PAPER_FIELDS = {"key", "title", "paper_file", "inventory", "conventions", "items", "other_claims", "other_outputs"}
_ITEM_FIELDS = {"id", "kind", "number", "title", "section", "notebook", "parameters", "outputs", "status",
                "datasets", "needs", "note", "claims"}
_ITEM_REQUIRED = _ITEM_FIELDS - {"note"}
_CLAIM_FIELDS = {"id", "where", "statement", "paper_value", "check", "scale"}
_OTHER_FIELDS = {"id", "title", "section", "notebook", "parameters", "outputs", "status", "claims", "note"}
_OTHER_REQUIRED = _OTHER_FIELDS - {"note", "parameters"}
#: Injected by the runner into every notebook; an item's ``parameters`` must not set them.
_RESERVED_PARAMETERS = {"profile", "figures_dir"}


class CatalogError(ValueError):
    """``catalog.yaml`` is malformed; the message names the item and the problem."""


@dataclass(frozen=True)
class Claim:
    """One checkable claim of a paper (an entry of an inventory's scoreboard).

    ``paper_value`` is the number or formula as printed (``None`` where the paper prints none);
    ``check`` is the inventory's proposed decision rule; ``scale`` the smallest profile at which the
    check is meaningful.
    """

    id: str
    statement: str
    paper_value: str | int | float | None = None
    check: str | None = None
    scale: str | None = None
    where: str | None = None


@dataclass(frozen=True)
class Item:
    """One figure or table of one paper."""

    paper: str
    id: str
    kind: str
    number: int
    title: str
    section: str
    notebook: str | None
    parameters: dict[str, Any]
    outputs: list[str]
    status: str
    datasets: list[str]
    needs: list[str]
    claims: list[Claim] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class Paper:
    """One paper: its items in paper order, the claims tied to no single item, and the notebook outputs
    that check some of those (``other_outputs``: :class:`Item` of kind :data:`OTHER_KIND`, number 0,
    whose ``claims`` are the ``other_claims`` they record; they are no figure or table of the paper and
    count as neither)."""

    key: str
    title: str
    paper_file: str
    inventory: str
    items: list[Item]
    other_claims: list[Claim] = field(default_factory=list)
    conventions: str | None = None
    other_outputs: list[Item] = field(default_factory=list)

    def numbers(self, kind: str) -> set[int]:
        """The figure (``kind="figure"``) or table numbers catalogued for this paper."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
        return {item.number for item in self.items if item.kind == kind}


@dataclass(frozen=True)
class Run:
    """One notebook execution: a notebook, its extra papermill parameters and the items it makes."""

    notebook: str
    parameters: dict[str, Any]
    items: list[Item]


def default_catalog_path() -> Path:
    """The repository's ``catalog.yaml``."""
    return repo_root() / "catalog.yaml"


# --------------------------------------------------------------------------------------------
# Loading and validation


def _fail(where: str, problem: str) -> CatalogError:
    return CatalogError(f"catalog: {where}: {problem}")


def _opt_str(value: Any, where: str, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _fail(where, f"'{name}' must be a string or null, got {type(value).__name__}")
    return value


def _req_str(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"'{name}' must be a non-empty string, got {value!r}")
    return value


def _str_list(value: Any, where: str, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, f"'{name}' must be a list of non-empty strings, got {value!r}")
    return list(value)


def _claims(raw: Any, where: str) -> list[Claim]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail(where, f"'claims' must be a list, got {type(raw).__name__}")
    out: list[Claim] = []
    seen: set[str] = set()
    for k, c in enumerate(raw):
        if not isinstance(c, dict):
            raise _fail(where, f"claim #{k + 1} must be a mapping")
        cid = c.get("id")
        cwhere = f"{where}, claim {cid!r}" if cid else f"{where}, claim #{k + 1}"
        unknown = set(c) - _CLAIM_FIELDS
        if unknown:
            raise _fail(cwhere, f"unknown field(s) {sorted(unknown)}; known: {sorted(_CLAIM_FIELDS)}")
        cid = _req_str(cid, cwhere, "id")
        if cid in seen:
            raise _fail(cwhere, "duplicate claim id within the item")
        seen.add(cid)
        value = c.get("paper_value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            raise _fail(cwhere, f"'paper_value' must be a string, a number or null, got {value!r}")
        out.append(Claim(id=cid, statement=_req_str(c.get("statement"), cwhere, "statement"),
                         paper_value=value, check=_opt_str(c.get("check"), cwhere, "check"),
                         scale=_opt_str(c.get("scale"), cwhere, "scale"),
                         where=_opt_str(c.get("where"), cwhere, "where")))
    return out


def _entry_fields(raw: Any, where: str, what: str, label: str, fields: set[str], required: set[str]) -> str:
    """Check that a catalog entry is a mapping with only ``fields`` and every ``required`` one; return the
    location to name in later errors (``<label> '<id>'`` once the entry has an id)."""
    if not isinstance(raw, dict):
        raise _fail(where, f"{what} must be a mapping")
    if isinstance(raw.get("id"), str):
        where = f"{label} {raw['id']!r}"
    unknown = set(raw) - fields
    if unknown:
        raise _fail(where, f"unknown field(s) {sorted(unknown)}; known: {sorted(fields)}")
    missing = required - set(raw)
    if missing:
        raise _fail(where, f"missing field(s) {sorted(missing)}")
    return where


def _item(raw: Any, key: str, root: Path, index: int) -> Item:
    where = _entry_fields(raw, f"paper {key!r}, item #{index + 1}", "an item", "item", _ITEM_FIELDS, _ITEM_REQUIRED)
    kind = raw["kind"]
    if kind not in KINDS:
        raise _fail(where, f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    number = raw["number"]
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise _fail(where, f"'number' must be a positive integer, got {number!r}")
    item_id = _req_str(raw["id"], where, "id")
    expected = f"{key}/{_PREFIX[kind]}{number:02d}"
    if item_id != expected:
        raise _fail(where, f"id does not match paper/kind/number: expected {expected!r}")
    status = raw["status"]
    if status not in STATUSES:
        raise _fail(where, f"unknown status {status!r}; known: {', '.join(STATUSES)}")
    notebook = _opt_str(raw["notebook"], where, "notebook")
    # In the repository a notebook is notebooks/<key>/<name>.ipynb; an absolute path is accepted for
    # catalogs kept elsewhere (the runner's tests build one in a temporary folder).
    if notebook is not None and not (notebook.endswith(".ipynb") and (
            notebook.startswith(f"notebooks/{key}/") or Path(notebook).is_absolute())):
        raise _fail(where, f"notebook {notebook!r} must be notebooks/{key}/<name>.ipynb (or an absolute path)")
    parameters = raw["parameters"] if raw["parameters"] is not None else {}
    if not isinstance(parameters, dict) or not all(isinstance(k, str) for k in parameters):
        raise _fail(where, f"'parameters' must be a mapping with string keys, got {parameters!r}")
    reserved = _RESERVED_PARAMETERS & set(parameters)
    if reserved:
        raise _fail(where, f"'parameters' must not set {sorted(reserved)} (the runner injects them)")
    outputs = _str_list(raw["outputs"], where, "outputs")
    for out in outputs:
        if not out.startswith(f"figures/{key}/") or not out.endswith((".png", ".json")):
            raise _fail(where, f"output {out!r} must be figures/{key}/<name>.png or .json")
    needs = _str_list(raw["needs"], where, "needs")
    bad = [n for n in needs if n not in NEEDS]
    if bad:
        raise _fail(where, f"unknown need(s) {bad}; known: {', '.join(NEEDS)}")
    if status != "planned":
        if notebook is None:
            raise _fail(where, f"status {status!r} needs a notebook")
        if not outputs:
            raise _fail(where, f"status {status!r} needs outputs")
        if not (root / notebook).is_file():
            raise _fail(where, f"notebook {notebook} does not exist (looked in {root})")
    return Item(paper=key, id=item_id, kind=kind, number=number,
                title=_req_str(raw["title"], where, "title"), section=_req_str(raw["section"], where, "section"),
                notebook=notebook, parameters=dict(parameters), outputs=outputs, status=status,
                datasets=_str_list(raw["datasets"], where, "datasets") if raw["datasets"] else [],
                needs=needs, claims=_claims(raw["claims"], where), note=_opt_str(raw.get("note"), where, "note"))


def _other_output(raw: Any, key: str, root: Path, index: int, claims: list[Claim]) -> Item:
    """One entry of a paper's ``other_outputs``: an output checking some of its ``other_claims``."""
    where = _entry_fields(raw, f"paper {key!r}, other_outputs #{index + 1}", "an entry", "other output",
                          _OTHER_FIELDS, _OTHER_REQUIRED)
    out_id = _req_str(raw["id"], where, "id")
    if not re.fullmatch(rf"{re.escape(key)}/[a-z][a-z0-9_]*", out_id) or re.fullmatch(r".*/(fig|tab)\d+", out_id):
        raise _fail(where, f"id must be {key}/<name> (lower case, not figNN/tabNN), got {out_id!r}")
    ids = [c.id for c in claims]
    wanted = _str_list(raw["claims"], where, "claims")
    unknown_claims = [c for c in wanted if c not in ids]
    if unknown_claims:
        raise _fail(where, f"claims {unknown_claims} are not among the paper's other_claims")
    fields = {"id": out_id, "kind": "table", "number": 1, "title": raw["title"], "section": raw["section"],
              "notebook": raw["notebook"], "parameters": raw.get("parameters", {}), "outputs": raw["outputs"],
              "status": raw["status"], "datasets": [], "needs": [], "claims": None, "note": raw.get("note")}
    # validated as an item (notebook, outputs, status), without the figure/table id rule
    try:
        item = _item({**fields, "id": f"{key}/tab01"}, key, root, index)
    except CatalogError as exc:
        raise _fail(where, str(exc).split(": ", 2)[-1]) from None
    by_id = {c.id: c for c in claims}
    return Item(paper=key, id=out_id, kind=OTHER_KIND, number=0, title=item.title, section=item.section,
                notebook=item.notebook, parameters=item.parameters, outputs=item.outputs, status=item.status,
                datasets=[], needs=[], claims=[by_id[c] for c in wanted], note=item.note)


def load_catalog(path: Path | str | None = None) -> list[Paper]:
    """Load and validate ``catalog.yaml``; return its papers in file order.

    Validation (a :class:`CatalogError` names the item and the problem): the schema version; known,
    unique paper keys; every item's fields and types; ``id == <key>/<fig|tab><NN>`` from its kind and
    number; unique ids; a known status; known ``needs``; outputs under ``figures/<key>/``; notebooks
    under ``notebooks/<key>/`` (or absolute paths, for catalogs outside the repository);
    ``reproduced`` and ``partial`` items must name a notebook that exists (relative to the catalog's
    folder, the repository root) and list outputs. ``planned`` items may name a notebook that is not
    written yet. Every claim needs an id and a statement.
    """
    path = Path(path) if path is not None else default_catalog_path()
    if not path.is_file():
        raise FileNotFoundError(f"catalog not found: {path}")
    root = path.resolve().parent
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog: {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"catalog: {path} must hold a mapping at the top level")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise CatalogError(f"catalog: schema_version must be {SCHEMA_VERSION}, got {data.get('schema_version')!r}")
    raw_papers = data.get("papers")
    if not isinstance(raw_papers, list) or not raw_papers:
        raise CatalogError("catalog: 'papers' must be a non-empty list")
    papers: list[Paper] = []
    seen_keys: set[str] = set()
    seen_ids: set[str] = set()
    for raw in raw_papers:
        if not isinstance(raw, dict):
            raise CatalogError("catalog: every paper must be a mapping")
        key = raw.get("key")
        if key not in PAPER_KEYS:
            raise CatalogError(f"catalog: unknown paper key {key!r}; known: {', '.join(PAPER_KEYS)}")
        where = f"paper {key!r}"
        if key in seen_keys:
            raise _fail(where, "listed twice")
        seen_keys.add(key)
        unknown = set(raw) - _PAPER_FIELDS
        if unknown:
            raise _fail(where, f"unknown field(s) {sorted(unknown)}; known: {sorted(_PAPER_FIELDS)}")
        if not isinstance(raw.get("items"), list):
            raise _fail(where, "'items' must be a list")
        items = [_item(r, key, root, k) for k, r in enumerate(raw["items"])]
        for item in items:
            if item.id in seen_ids:
                raise _fail(f"item {item.id!r}", "duplicate id")
            seen_ids.add(item.id)
        other_claims = _claims(raw.get("other_claims"), f"{where}, other_claims")
        raw_others = raw.get("other_outputs") or []
        if not isinstance(raw_others, list):
            raise _fail(where, "'other_outputs' must be a list")
        others = [_other_output(r, key, root, k, other_claims) for k, r in enumerate(raw_others)]
        for other in others:
            if other.id in seen_ids:
                raise _fail(f"other output {other.id!r}", "duplicate id")
            seen_ids.add(other.id)
        papers.append(Paper(key=key, title=_req_str(raw.get("title"), where, "title"),
                            paper_file=_req_str(raw.get("paper_file"), where, "paper_file"),
                            inventory=_req_str(raw.get("inventory"), where, "inventory"), items=items,
                            other_claims=other_claims,
                            conventions=_opt_str(raw.get("conventions"), where, "conventions"),
                            other_outputs=others))
    return papers


# --------------------------------------------------------------------------------------------
# Queries


def iter_items(papers: Iterable[Paper]) -> Iterator[Item]:
    """Every item of every paper, in catalog order."""
    for paper in papers:
        yield from paper.items


def iter_outputs(papers: Iterable[Paper]) -> Iterator[Item]:
    """Every item and every other output (:attr:`Paper.other_outputs`) of every paper: what notebooks make."""
    for paper in papers:
        yield from paper.items
        yield from paper.other_outputs


def runs(papers: Iterable[Paper], only: str | None = None, include_planned: bool = False) -> list[Run]:
    """Group the items (and other outputs) that have a notebook into runs, one per distinct (notebook,
    parameters).

    Items still ``planned`` are left out unless ``include_planned`` (their notebook may not exist yet).

    ``only`` is an :func:`fnmatch.fnmatch` pattern. A run is kept whole when the pattern matches its
    notebook path (``notebooks/linear_networks/*``) or the paper key; otherwise it keeps the items whose
    id matches (``linear_networks/fig0[34]``), and is dropped if none does. Runs keep catalog order.
    """
    groups: dict[tuple[str, str], Run] = {}
    for item in iter_outputs(papers):
        if item.notebook is None or (item.status == "planned" and not include_planned):
            continue
        key = (item.notebook, json.dumps(item.parameters, sort_keys=True, default=str))
        if key not in groups:
            groups[key] = Run(notebook=item.notebook, parameters=dict(item.parameters), items=[])
        groups[key].items.append(item)
    out = list(groups.values())
    if only is None:
        return out
    kept: list[Run] = []
    for run in out:
        if fnmatch.fnmatch(run.notebook, only) or any(fnmatch.fnmatch(i.paper, only) for i in run.items):
            kept.append(run)
            continue
        matching = [i for i in run.items if fnmatch.fnmatch(i.id, only)]
        if matching:
            kept.append(Run(notebook=run.notebook, parameters=run.parameters, items=matching))
    return kept


def expected_counts() -> dict[str, tuple[int, int]]:
    """(number of figures, number of tables) per paper, as counted from the paper texts."""
    return dict(EXPECTED_COUNTS)


def missing_notebooks(papers: Iterable[Paper], root: Path | None = None) -> list[str]:
    """Notebooks the catalog names that do not exist yet (relative to the repository root)."""
    root = root if root is not None else default_catalog_path().parent
    names = {i.notebook for i in iter_outputs(papers) if i.notebook is not None}
    return sorted(n for n in names if not (root / n).is_file())


# --------------------------------------------------------------------------------------------
# Counting captions in a paper's text

# A caption is "Figure N:" or "Table N:" (the colon is what tells a caption from an in-text reference
# such as "Figure 3 shows" or "(Figure 3)"). It may start a line or follow text on the same line (two
# captions of side-by-side figures share a line in some extractions).
_CAPTION = re.compile(r"\b(Figure|Table)\s+(\d+)\s*:")
# A citation of another paper's figure, e.g. "[3, Figure 18]:" or "(see Figure 2):", sits inside a
# bracket opened earlier on the same line; it is not a caption of this paper.
_CITATION_BEFORE = re.compile(r"[\[(][^\])]*$")


def caption_numbers(text: str) -> dict[str, set[int]]:
    """The figure and table numbers that have a caption in ``text`` (a paper's plain text).

    Returns ``{"figure": {...}, "table": {...}}``. A number counts once however often its caption
    occurs (appendix settings paragraphs that restate "Figure N:" are not new figures); captions cited
    from other papers ("[3, Figure 18]:") are ignored.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    found: dict[str, set[int]] = {"figure": set(), "table": set()}
    for match in _CAPTION.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if _CITATION_BEFORE.search(text[line_start:match.start()]):
            continue
        found[match.group(1).lower()].add(int(match.group(2)))
    return found
