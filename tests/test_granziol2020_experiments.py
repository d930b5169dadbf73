"""``papers/granziol2020/experiments.py`` (cached, locked experiment functions), ``zoo.checkpoint_epoch`` and the
printed numbers of ``paper.py``: small sizes, own cache folders."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch
from hessian_spectra.papers.granziol2020 import experiments as ex
from hessian_spectra.papers.granziol2020 import paper as pp
from hessian_spectra.papers.granziol2020 import theory as th
from hessian_spectra.papers.granziol2020 import zoo

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HESSIAN_SPECTRA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HESSIAN_SPECTRA_CHECKPOINTS", str(tmp_path / "checkpoints"))


def test_theory_points_match_the_closed_forms_and_are_deterministic():
    l3 = ex.lemma3_points(400, [[3.0, -3.0], [0.5, -0.5]], 1.0, 2, 0)
    assert l3[0]["pred_top"] == pytest.approx(3 + 1 / 3) and l3[1]["pred_bottom"] == -2.0
    assert abs(l3[0]["sim_top"] - l3[0]["pred_top"]) < 0.05 * l3[0]["pred_top"]
    assert ex._lemma3_points(400, [[3.0, -3.0], [0.5, -0.5]], 1.0, 2, 0) == l3          # same seed, same numbers
    t1 = ex.theorem1_points(400, [4.0], [2.0, 0.5], 1.0, ["gaussian", "rademacher"], 0)
    assert [p["noise"] for p in t1] == ["gaussian", "rademacher"] and t1[0]["N"] == 100
    assert t1[0]["pred_top"] == pytest.approx(2.5 * 2.0) and t1[0]["pred_bottom"] == pytest.approx(-4.0)
    sw = ex.theorem1_sweep(200, [0.5, 2.0], [0.0, 3.0], 1.0, 0)
    assert len(sw) == 4 and sw[0]["pred_top"] == pytest.approx(th.noise_edge(1.0, 0.5))
    assert sw[1]["pred_top"] == pytest.approx(3 + 0.5 / 3)
    d = ex.dispersion_draws(80, 0.01, 10, 0)
    assert d["predicted"] == pytest.approx(d["var_H"] + 0.01 * (80 - 1 / 80)) and len(d["draws"]) == 10


def test_lock_serialises_callers(tmp_path):
    order = []

    def work(tag):
        with ex._lock("test", 1):
            order.append((tag, "in"))
            time.sleep(0.2)
            order.append((tag, "out"))

    threads = [threading.Thread(target=work, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [o[1] for o in order] == ["in", "out", "in", "out"]


def test_checkpoint_epoch():
    assert [zoo.checkpoint_epoch("A1", "default", e) for e in zoo.APPENDIX_EPOCHS] == list(zoo.APPENDIX_EPOCHS)
    smoke = [zoo.checkpoint_epoch("A2", "smoke", e) for e in zoo.APPENDIX_EPOCHS]
    assert smoke == [0, 3, 5, 8, 13, 15, 30] and tuple(smoke) == zoo.zoo_config("A2", "smoke").save_epochs
    assert zoo.checkpoint_epoch("M2", "smoke", 225) == zoo.zoo_config("M2", "smoke").epochs
    with pytest.raises(ValueError, match="outside"):
        zoo.checkpoint_epoch("A1", "default", 400)
    with pytest.raises(ValueError, match="not a saved checkpoint"):
        zoo.checkpoint_epoch("A1", "default", 100)


def test_paper_numbers_are_consistent():
    # Table 2's Normal True cells are Table 1's (erratum E1); the text's C10 values differ
    assert pp.TABLE12["c10"]["normal"]["aug"] == pp.TABLE12["c100"]["normal"]["aug"]
    assert pp.MAIN_FIGURES[3][3] == (-0.0061, 0.5825)
    # Table 3's row sums 0.979-0.996 (inventory §F Table 3)
    sums = [sum(r for r, _ in v) for v in pp.TABLE3.values()]
    assert min(sums) == pytest.approx(0.979, abs=1e-3) and max(sums) == pytest.approx(0.996, abs=1e-3)
    assert set(pp.APPENDIX_FIGURES) == set(range(13, 34))
    assert pp.APPENDIX_FIGURES[20][1:] == pp.APPENDIX_FIGURES[19][1:]
    assert all(lo < hi for (_, _, _, (lo, hi)) in pp.APPENDIX_FIGURES.values())
    # every appendix epoch is a checkpoint of its run
    for run, ep, _, _ in pp.APPENDIX_FIGURES.values():
        assert zoo.checkpoint_epoch(run, "default", ep) == ep


def test_pair_and_checkpoint_spectra_at_smoke():
    """One smoke run end to end: the two stem plots of M2, a checkpoint spectrum and the 5M analogue of A3
    (small, seconds), the Empirical spectrum's measure sums to one and the cache returns the same numbers."""
    r = ex.pair_spectra("M2", "smoke", 0)
    S = zoo.spectral_settings("smoke")
    assert r["emp"]["num_steps"] == S["emp_steps"] and r["aug"]["num_steps"] == S["aug_steps"]
    assert r["N_aug"] == r["N"] * S["copies"] and math.isclose(sum(r["emp"]["weights"]), 1.0, rel_tol=1e-5)
    assert r["history"]["final"]["epoch"] == zoo.zoo_config("M2", "smoke").epochs
    assert ex.pair_spectra("M2", "smoke", 0)["emp"]["nodes"] == r["emp"]["nodes"]
    c = ex.checkpoint_spectrum("A3", "smoke", zoo.checkpoint_epoch("A3", "smoke", 50), 0)
    assert c["epoch"] == 5 and c["emp"]["num_steps"] == S["appendix_emp_steps"]
    a = ex.augmented_final_spectrum("A3", "smoke", 0)
    assert a["N_aug"] == a["N"] * S["appendix_copies"] and a["aug"]["num_steps"] == S["appendix_aug_steps"]
    assert np.isfinite(a["aug"]["summary"]["theta_max"])
