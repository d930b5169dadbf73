"""Papyan (2020) Theorem 8.1 / Lemma 8.1 against the matrix built entry by entry and against a sampled
simulation; the Fig 1 three-level model; the Fig 15 matrices."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hessian_spectra.papers.papyan2020 import theory as th


@pytest.mark.parametrize("D, C, t, alpha", [(20, 4, 2.0, 0.3), (30, 10, 3.0, 0.2), (12, 3, 1.0, 0.5), (7, 7, 0.5, 0.0)])
def test_closed_form_equals_lemma_8_1_matrix(D, C, t, alpha):
    exact = np.sort(np.linalg.eigvalsh(th.expected_fisher(D, C, t, alpha)))[::-1]
    closed = th.theorem_8_1_spectrum(D, C, t, alpha)
    assert closed.shape == (D * C,)
    np.testing.assert_allclose(exact, closed, atol=1e-13 * max(closed[0], 1e-300))


def test_levels_and_multiplicities():
    lev = th.fisher_levels(20, 4, 2.0, 0.3)
    # inventory 001 Theorem 8.1 [checked]: 0.44 (×4), 0.26 (×8), 0.16 (×48), 0 (×20)
    assert lev["multiplicities"] == [4, 8, 48, 20]
    assert lev["outliers"] == pytest.approx(0.44) and lev["mini_bulk"] == pytest.approx(0.26)
    assert lev["bulk"] == pytest.approx(0.16)
    assert lev["outliers"] > lev["mini_bulk"] > lev["bulk"] > 0


def test_simulation_matches_theorem():
    """The empirical G with symmetric probabilities from 4000 samples per class (inventory: top 0.446..0.435
    against 0.44)."""
    D, C, t, a = 20, 4, 2.0, 0.3
    x, y = th.ccm_sample(D, C, 4000, t, seed=1)
    G = th.empirical_fisher(x, th.symmetric_probabilities(C, a)[y])
    ev = np.sort(np.linalg.eigvalsh(G))[::-1]
    cf = th.theorem_8_1_spectrum(D, C, t, a)
    edges = np.cumsum([0, *th.fisher_levels(D, C, t, a)["multiplicities"]])
    for lo, hi in itertools.pairwise(edges[:-1]):
        assert ev[lo:hi].mean() == pytest.approx(cf[lo], rel=0.02)
    assert np.abs(ev[edges[-2]:]).max() < 1e-12  # the D zero eigenvalues are exact (U_c 1 = 0)


def test_empirical_fisher_is_the_kronecker_average():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 3))
    p = rng.dirichlet(np.ones(4), size=7)
    ref = sum(np.kron(np.outer(xi, xi), np.diag(pi) - np.outer(pi, pi)) for xi, pi in zip(x, p)) / 7
    np.testing.assert_allclose(th.empirical_fisher(x, p), ref, atol=1e-14)


def test_softmax_mlr_learns_and_its_fisher_is_psd():
    x, y = th.ccm_sample(10, 3, 200, 3.0, seed=0)
    res = th.softmax_mlr_fisher(x, y, 3)
    assert res["train_error"] < 0.1
    assert np.linalg.eigvalsh(res["fisher"]).min() > -1e-12


def test_three_level_model_has_the_schematic_levels():
    lv = th.three_level_model(300, 4, 60, global_norm=4.0, class_norm=2.0, cross_norm=1.0, noise=1.0, seed=0)
    ev = lv["total"]
    gaps = [ev[k - 1] / ev[k] for k in (1, 4, 16)]
    assert min(gaps) > 3
    np.testing.assert_allclose(lv["global"][0], ev[0], rtol=0.05)
    assert np.count_nonzero(lv["class_centred"] > 1e-12) == 3
    assert np.count_nonzero(lv["cross"] > 1e-12) == 12


def test_fig15_matrices():
    Y = th.fig15_spiked_wishart(400, seed=0)
    ev = np.linalg.eigvalsh(Y)
    np.testing.assert_allclose(ev[-3:][::-1], th.bbp_outliers(), rtol=0.08)
    Z = th.fig15_pareto_matrix(50, 100, seed=0)
    assert Z.shape == (50, 50) and np.linalg.eigvalsh(Z).min() > 0
    W = th.fig15_pareto_matrix(50, 100, reading="ztz", seed=0)
    assert W.shape == (100, 100) and np.sum(np.linalg.eigvalsh(W) > 1e-8 * np.abs(W).max()) == 50


def test_bad_input_raises():
    with pytest.raises(ValueError, match="alpha"):
        th.symmetric_probabilities(4, 0.9)
    with pytest.raises(ValueError, match="D must be"):
        th.expected_fisher(2, 4, 1.0, 0.1)
    with pytest.raises(ValueError, match="reading"):
        th.fig15_pareto_matrix(reading="zz")
