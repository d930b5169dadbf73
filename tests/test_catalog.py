"""The catalog lists every figure and table of all five papers, and validates.

The figure and table numbers of each paper are counted from its plain text (captions "Figure N:" /
"Table N:") and must equal the catalog's; the totals are 91 figures and 14 tables.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from hessian_spectra.pipeline.catalog import (EXPECTED_COUNTS, PAPER_KEYS, CatalogError, caption_numbers,
                                     default_catalog_path, expected_counts, iter_items, load_catalog,
                                     runs)

REPO = default_catalog_path().parent


def _papers_dir() -> Path | None:
    """The paper texts: $HESSIAN_SPECTRA_PAPERS, else ../shared/papers beside the repository."""
    env = os.environ.get("HESSIAN_SPECTRA_PAPERS")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "papers"]:
        if cand.is_dir():
            return cand
    return None


@pytest.fixture(scope="module")
def papers():
    return load_catalog()


# ----------------------------------------------------------------------------- the caption counter


def test_caption_counter_on_a_constructed_text():
    text = textwrap.dedent("""\
        1 Introduction
        As Figure 1 shows, and (Figure 2) too, see Fig. 3 and Table 4 below.
        Figure 1: A caption.
        Figure 2: First of two side-by-side captions Figure 3: the second one on the same line.
          Figure 10 : an indented caption with a space before the colon.
        This disagrees with Cohen et al. [3, Figure 18]: sharpness grows with n (see Figure 7): text.
        Table 1: A table caption.
        Table 2. A caption ending in a full stop is not counted, Table 2: this one is.
        Appendix C. Settings
        Figure 1: All models are trained with eta = 0.01.
        Figure 2: Same settings as Figure 1.
        """)
    found = caption_numbers(text)
    assert found == {"figure": {1, 2, 3, 10}, "table": {1, 2}}


def test_caption_counter_rejects_non_text():
    with pytest.raises(TypeError, match="string"):
        caption_numbers(b"Figure 1: bytes")  # type: ignore[arg-type]


def test_caption_counter_finds_nothing_in_references_only():
    assert caption_numbers("see Figure 4 and Table 2 (Figure 5)") == {"figure": set(), "table": set()}


# ----------------------------------------------------------------------------- the catalog


def test_catalog_loads_with_all_papers_in_order(papers):
    assert [p.key for p in papers] == list(PAPER_KEYS)


def test_expected_counts_total_91_figures_14_tables():
    counts = expected_counts()
    assert set(counts) == set(PAPER_KEYS)
    assert sum(f for f, _ in counts.values()) == 91
    assert sum(t for _, t in counts.values()) == 14


@pytest.mark.parametrize("key", PAPER_KEYS)
def test_catalog_has_every_figure_and_table_numbered_1_to_n(papers, key):
    paper = next(p for p in papers if p.key == key)
    n_fig, n_tab = EXPECTED_COUNTS[key]
    assert paper.numbers("figure") == set(range(1, n_fig + 1)), f"{key}: figures missing or extra"
    assert paper.numbers("table") == set(range(1, n_tab + 1)), f"{key}: tables missing or extra"
    assert len(paper.items) == n_fig + n_tab


def test_catalog_totals(papers):
    items = list(iter_items(papers))
    assert sum(i.kind == "figure" for i in items) == 91
    assert sum(i.kind == "table" for i in items) == 14
    assert len({i.id for i in items}) == 105


@pytest.mark.parametrize("key", PAPER_KEYS)
def test_catalog_matches_the_paper_text(papers, key):
    """Parse the paper's text: the captions found must be exactly the catalogued items."""
    where = _papers_dir()
    if where is None:
        pytest.skip("paper texts not found (set HESSIAN_SPECTRA_PAPERS or provide ../shared/papers)")
    paper = next(p for p in papers if p.key == key)
    text = (where / paper.paper_file).read_text(encoding="utf-8")
    found = caption_numbers(text)
    assert found["figure"] == paper.numbers("figure"), f"{key}: figure captions in the text differ"
    assert found["table"] == paper.numbers("table"), f"{key}: table captions in the text differ"
    assert (len(found["figure"]), len(found["table"])) == EXPECTED_COUNTS[key]
    # every figure/table the text refers to has a caption, except citations of other papers' figures
    cited_elsewhere = {"linear_networks": {18}}  # "[3, Figure 18]": Cohen et al.'s figure
    refs_fig = {int(n) for n in re.findall(r"\b(?:Figures?|Figs?\.)\s*(\d+)", text)}
    refs_tab = {int(n) for n in re.findall(r"\bTables?\s*(\d+)", text)}
    assert refs_fig - found["figure"] == cited_elsewhere.get(key, set())
    assert refs_tab <= found["table"]


def test_every_claim_has_an_id_and_a_statement(papers):
    n = 0
    for paper in papers:
        for claim in [c for i in paper.items for c in i.claims] + paper.other_claims:
            assert claim.id.strip() and claim.statement.strip()
            n += 1
    assert n > 400  # the scoreboards hold several hundred claims; an empty catalog must not pass


def test_claims_come_from_the_scoreboards(papers):
    """Scoreboard ids (S<n>) of each inventory are all present, apart from papyan2020 (no section S)."""
    highest = {"wu2020": 141, "granziol2020": 51, "linear_networks": 34, "beyond_rmt": 55}
    for paper in papers:
        ids = {c.id for i in paper.items for c in i.claims} | {c.id for c in paper.other_claims}
        if paper.key in highest:
            assert ids == {f"S{k}" for k in range(1, highest[paper.key] + 1)}, paper.key
        else:
            assert ids and all(re.fullmatch(r"(F|T)\d+-\d+|Thm8\.1(-b)?", c) for c in ids)


def test_non_planned_items_have_an_existing_notebook_and_outputs(papers):
    for item in iter_items(papers):
        if item.status != "planned":
            assert item.notebook is not None and (REPO / item.notebook).is_file(), item.id
            assert item.outputs, item.id


def test_notebook_assignments(papers):
    by_id = {i.id: i for i in iter_items(papers)}
    nb = "notebooks/linear_networks/"
    assert by_id["linear_networks/fig01"].notebook == nb + "balanced_spectrum.ipynb"
    assert by_id["linear_networks/fig02"].notebook == nb + "ablations.ipynb"
    assert by_id["linear_networks/fig03"].notebook == by_id["linear_networks/fig04"].notebook == \
        nb + "trace_and_top_eigenvalues.ipynb"
    for key in ("papyan2020", "granziol2020"):
        assert all((i.notebook is None and i.status == "planned") or i.notebook.startswith(f"notebooks/{key}/")
                   for i in by_id.values() if i.paper == key)


def test_runs_group_items_sharing_a_notebook(papers):
    assert all(i.status != "planned" for r in runs(papers) for i in r.items)
    all_runs = runs(papers, include_planned=True)
    assert len([r for r in all_runs if r.notebook.startswith(("notebooks/linear_networks/", "notebooks/beyond_rmt/"))]) \
        == 7  # 3 linear_networks notebooks + 4 beyond_rmt notebooks
    trace = [r for r in all_runs if r.notebook.endswith("trace_and_top_eigenvalues.ipynb")]
    assert [i.id for i in trace[0].items] == ["linear_networks/fig03", "linear_networks/fig04"]
    only = runs(papers, only="linear_networks/fig04", include_planned=True)
    assert [(r.notebook, [i.id for i in r.items]) for r in only] == \
        [("notebooks/linear_networks/trace_and_top_eigenvalues.ipynb", ["linear_networks/fig04"])]
    assert len(runs(papers, only="notebooks/beyond_rmt/*", include_planned=True)) == 4
    assert len(runs(papers, only="linear_networks", include_planned=True)) == 3
    assert runs(papers, only="no_such_paper/*") == []


# ----------------------------------------------------------------------------- validation errors

_GOOD_ITEM = {
    "id": "linear_networks/fig01", "kind": "figure", "number": 1, "title": "t", "section": "§4",
    "notebook": None, "parameters": {}, "outputs": ["figures/linear_networks/fig01.png"],
    "status": "planned", "datasets": ["synthetic"], "needs": ["linear_nets"],
    "claims": [{"id": "S14", "statement": "exact", "paper_value": None, "check": "c", "scale": "smoke"}],
}


def _write(tmp_path: Path, items: list[dict]) -> Path:
    import yaml

    doc = {"schema_version": 1, "profiles": ["smoke", "default", "paper"],
           "papers": [{"key": "linear_networks", "title": "T", "paper_file": "f.txt", "inventory": "i.md",
                       "items": items, "other_claims": []}]}
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_a_minimal_catalog_validates(tmp_path):
    papers = load_catalog(_write(tmp_path, [dict(_GOOD_ITEM)]))
    assert papers[0].items[0].claims[0].id == "S14"


@pytest.mark.parametrize("change, message", [
    ({"id": "linear_networks/fig1"}, "expected 'linear_networks/fig01'"),
    ({"kind": "table"}, "expected 'linear_networks/tab01'"),
    ({"status": "done"}, "unknown status 'done'"),
    ({"status": "reproduced"}, "needs a notebook"),
    ({"status": "partial", "notebook": "notebooks/linear_networks/nope.ipynb"}, "does not exist"),
    ({"notebook": "linear_networks/x.ipynb"}, "must be notebooks/linear_networks/"),
    ({"needs": ["gpu"]}, "unknown need"),
    ({"outputs": ["fig01.png"]}, "must be figures/linear_networks/"),
    ({"parameters": {"profile": "paper"}}, "runner injects"),
    ({"number": 0}, "positive integer"),
    ({"colour": "red"}, "unknown field"),
    ({"claims": [{"id": "S1", "statement": ""}]}, "'statement' must be a non-empty string"),
    ({"claims": [{"id": "S1", "statement": "a"}, {"id": "S1", "statement": "b"}]}, "duplicate claim id"),
])
def test_bad_items_raise_a_clear_error(tmp_path, change, message):
    item = {**_GOOD_ITEM, **change}
    with pytest.raises(CatalogError, match=re.escape(message)) as err:
        load_catalog(_write(tmp_path, [item]))
    assert "item" in str(err.value)


def test_duplicate_ids_raise(tmp_path):
    with pytest.raises(CatalogError, match="duplicate id"):
        load_catalog(_write(tmp_path, [dict(_GOOD_ITEM), dict(_GOOD_ITEM)]))


def test_reproduced_item_with_existing_notebook_validates(tmp_path):
    nb = tmp_path / "notebooks" / "linear_networks" / "x.ipynb"
    nb.parent.mkdir(parents=True)
    nb.write_text("{}")
    item = {**_GOOD_ITEM, "status": "reproduced", "notebook": "notebooks/linear_networks/x.ipynb"}
    assert load_catalog(_write(tmp_path, [item]))[0].items[0].status == "reproduced"


def test_absolute_notebook_paths_are_accepted(tmp_path):
    nb = tmp_path / "elsewhere.ipynb"
    nb.write_text("{}")
    item = {**_GOOD_ITEM, "status": "partial", "notebook": str(nb)}
    assert load_catalog(_write(tmp_path, [item]))[0].items[0].notebook == str(nb)


def test_missing_catalog_file_and_unknown_paper(tmp_path):
    with pytest.raises(FileNotFoundError, match="catalog not found"):
        load_catalog(tmp_path / "nope.yaml")
    path = _write(tmp_path, [dict(_GOOD_ITEM)])
    path.write_text(path.read_text().replace("key: linear_networks", "key: linear_nets"))
    with pytest.raises(CatalogError, match="unknown paper key 'linear_nets'"):
        load_catalog(path)


def test_other_outputs_record_other_claims(tmp_path):
    """A paper's other_outputs (checks of claims tied to no figure) load as items of kind 'other' that run like
    items, count as no figure or table, and may only name the paper's other_claims."""
    import yaml

    nb = tmp_path / "notebooks" / "linear_networks" / "theory.ipynb"
    nb.parent.mkdir(parents=True)
    nb.write_text("{}")
    other = {"id": "linear_networks/theory", "title": "Monte Carlo", "section": "App H",
             "notebook": "notebooks/linear_networks/theory.ipynb", "outputs": ["figures/linear_networks/theory.json"],
             "status": "reproduced", "claims": ["S9"]}
    path = _write(tmp_path, [dict(_GOOD_ITEM)])
    doc = yaml.safe_load(path.read_text())
    doc["papers"][0]["other_claims"] = [{"id": "S9", "statement": "a theorem"}, {"id": "S10", "statement": "another"}]
    doc["papers"][0]["other_outputs"] = [other]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    paper = load_catalog(path)[0]
    (out,) = paper.other_outputs
    assert out.kind == "other" and out.id == "linear_networks/theory" and [c.id for c in out.claims] == ["S9"]
    assert paper.numbers("figure") == {1} and paper.numbers("table") == set()
    assert [i.id for i in iter_items([paper])] == ["linear_networks/fig01"]
    assert [(r.notebook, [i.id for i in r.items]) for r in runs([paper], only="linear_networks/theory")] == \
        [("notebooks/linear_networks/theory.ipynb", ["linear_networks/theory"])]
    for change, message in [({"claims": ["S11"]}, "not among the paper's other_claims"),
                            ({"id": "linear_networks/fig09"}, "not figNN/tabNN"),
                            ({"notebook": "notebooks/linear_networks/nope.ipynb"}, "does not exist"),
                            ({"colour": "red"}, "unknown field")]:
        doc["papers"][0]["other_outputs"] = [{**other, **change}]
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        with pytest.raises(CatalogError, match=re.escape(message)):
            load_catalog(path)
