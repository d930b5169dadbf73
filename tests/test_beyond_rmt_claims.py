"""Claim rules of the Beyond-RMT paper (``papers/beyond_rmt/claims.py``) and the metrics they are fed with.

Every rule is run on numbers on both sides of its threshold and the verdict and the recorded values are
asserted; the metrics are checked against exact references (hand-made stem plots, scipy's KS statistic,
closed-form masses). The last tests check that each committed figure's JSON evaluates exactly the claims
``catalog.yaml`` lists for it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from hessian_spectra import rmt
from hessian_spectra.papers.beyond_rmt import claims as cl
from hessian_spectra.papers.beyond_rmt import metrics as mt
from hessian_spectra.pipeline.catalog import load_catalog
from hessian_spectra.pipeline.claims import verdict_nearest

REPO = Path(__file__).resolve().parents[1]
STAND_IN = {"model": "mini-VGG", "dataset_note": "CIFAR-10 subset", "stand_in": True}
PAPER_NET = {"model": "VGG-16", "dataset_note": "CIFAR-100", "stand_in": False}


# ------------------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------------------
def test_verdict_nearest():
    assert verdict_nearest(1.75, 1.0, 1.8) == "paper_erratum"
    assert verdict_nearest(1.1, 1.0, 1.8) == "agree"
    assert verdict_nearest(1.5, 1.0, 2.0) == "not_checkable"     # equidistant
    assert verdict_nearest(1.0, 1.0, 1.0) == "not_checkable"     # candidates coincide
    with pytest.raises(ValueError, match="needs numbers"):
        verdict_nearest(float("nan"), 1.0, 1.8)


def test_scale_note_and_paper_scale():
    assert cl.paper_scale(PAPER_NET, "paper") and not cl.paper_scale(PAPER_NET, "default")
    assert not cl.paper_scale(STAND_IN, "paper")
    assert "stand-in: mini-VGG" in cl.scale_note(STAND_IN, "default")
    assert cl.scale_note(PAPER_NET, "paper").startswith("Checked on VGG-16")


# ------------------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------------------
def test_stem_metrics_both_ends():
    P = 1000
    # an isolated negative node (weight 5e-4 < 10/P), a bulk of negative nodes, the atom, positive bulk, top outlier
    nodes = np.r_[-1.0, np.linspace(-0.2, -0.01, 20), 1e-6, np.linspace(0.01, 0.2, 20), 3.0]
    weights = np.r_[5e-4, np.full(20, 0.01), 0.5, np.full(20, 0.0145), 5e-4]
    m = mt.stem_metrics(nodes, weights, P)
    spacing = 0.19 / 19
    assert m["bottom_outliers"] == 1 and m["outliers"] == 1
    assert m["bottom_weight"] == pytest.approx(5e-4)
    assert m["bottom_gap_ratio"] == pytest.approx(0.8 / spacing)      # (theta_2 - theta_1) / median spacing
    assert m["top_gap_ratio"] == pytest.approx(2.8 / spacing)
    assert m["atom_weight"] == pytest.approx(0.5) and m["near_zero_node"] == 1e-6
    assert m["theta_min"] == -1.0 and m["theta_max"] == 3.0 and m["asymmetry"] == pytest.approx(1 / 3)
    # a bottom node that carries bulk weight is no outlier
    heavy = mt.stem_metrics(nodes, np.r_[0.05, weights[1:]], P)
    assert heavy["bottom_outliers"] == 0 and heavy["bottom_weight"] == pytest.approx(0.05)


def test_ggn_gap_tail_and_near_origin_weights():
    nodes = np.array([1e-7, 2e-4, 0.05, 0.5, 1.0])
    weights = np.array([0.8, 0.05, 0.05, 0.05, 0.05])
    assert mt.ggn_gap_ratio(nodes) == pytest.approx(0.05)              # 2e-4 is inside the atom (< 1e-3 max)
    assert mt.ggn_gap_ratio(np.array([0.0, 1e-5])) == pytest.approx(1.0)
    assert mt.tail_weight(nodes, weights, 0.5) == pytest.approx(0.05)  # only theta = 1 is > 0.5 max
    assert mt.near_origin_weight(nodes, weights, 0.01) == pytest.approx(0.85)


def test_ritz_density_excludes_centre_and_extremes():
    th = np.array([-2.0, -1.0, 0.001, 1.0, 2.0, 3.0])
    w = np.array([0.1, 0.2, 0.3, 0.2, 0.1, 0.1])
    x, d = mt.ritz_density(th, w)
    np.testing.assert_allclose(x, [-1.0, 1.0, 2.0])
    np.testing.assert_allclose(d, [0.2 / ((0.001 + 2.0) / 2), 0.2 / ((2.0 - 0.001) / 2), 0.1 / 1.0])


def test_half_sample_mode():
    # noiseless samples (the quantiles of a law) locate the mode of skewed laws: gamma(3) (mode 2) and the MP bulk
    # at q = 4 (mode sigma^2 (q - 1)^2 / (q + 1) = 1.8, not sigma^2 = 1)
    u = (np.arange(20000) + 0.5) / 20000
    assert mt.half_sample_mode(stats.norm.ppf(u, 3.0, 1.0)) == pytest.approx(3.0, abs=1e-3)
    assert mt.half_sample_mode(stats.gamma.ppf(u, 3.0)) == pytest.approx(2.0, abs=1e-3)
    x = np.linspace(1.0, 9.0, 200001)
    cdf = np.cumsum(rmt.marchenko_pastur_density(x, 4.0))
    cdf /= cdf[-1]
    assert mt.half_sample_mode(np.interp(u, cdf, x)) == pytest.approx(1.8, abs=1e-3)
    # a random sample: the estimator's spread (measured sd 0.13 at n = 20000 for N(3, 1)); 3 sd
    assert mt.half_sample_mode(np.random.default_rng(0).normal(3.0, 1.0, 20000)) == pytest.approx(3.0, abs=0.4)
    assert mt.half_sample_mode([1.0, 2.0, 2.1]) == pytest.approx(2.05)
    with pytest.raises(ValueError):
        mt.half_sample_mode([])


def test_marchenko_pastur_sample_stats_on_a_known_spectrum():
    ev = np.r_[np.zeros(3), 1.0, 2.0, 2.0, 3.0, 7.0]
    st = mt.marchenko_pastur_sample_stats(ev)
    assert st["atom"] == pytest.approx(3 / 8) and st["bulk_min"] == 1.0 and st["bulk_max"] == 7.0
    assert st["bulk_mean"] == pytest.approx(3.0) and st["mean_all"] == pytest.approx(15 / 8)
    assert st["bulk_mode"] == pytest.approx(2.0) and st["n"] == 8


def test_semicircle_sample_stats_and_masses():
    radius = 2.0
    st = mt.semicircle_sample_stats(np.array([-1.99, -1.0, 0.0, 1.0, 1.99, 2.1]), radius)
    assert st["min"] == -1.99 and st["max"] == 2.1 and st["fraction_beyond"] == pytest.approx(1 / 6)
    # analytic log-density range over |x| < 0.9 radius: log10(1 / sqrt(1 - 0.81))
    assert st["decades_analytic"] == pytest.approx(math.log10(1 / math.sqrt(1 - 0.81)), rel=1e-3)
    assert st["decades_sample"] == float("inf")                      # empty bins
    # mass of the printed eq 2 is sigma^2; of the printed Burda law sigma^(2/L - 2)
    assert mt.density_mass(lambda x: rmt.semicircle_density_as_printed(x, 0.5), -1, 1) == pytest.approx(0.25, rel=1e-6)
    assert mt.disc_mass(lambda r: rmt.burda_product_density_as_printed(r, 2, 0.5), 0.5) == pytest.approx(2.0, rel=1e-6)
    assert mt.disc_mass(lambda r: rmt.burda_product_density(r, 3, 0.5), 0.5) == pytest.approx(1.0, rel=1e-6)


def test_near_zero_and_beyond_fractions():
    x = np.array([-4.0, -0.1, 0.0, 0.05, 2.5, 3.0])
    assert mt.near_zero_fraction(x, 0.05) == pytest.approx(3 / 6)   # |x| < 0.2
    assert mt.fraction_beyond(x, 2.0) == pytest.approx(3 / 6)


def test_radial_cdf_distance_equals_ks_and_counts_the_atom():
    rng = np.random.default_rng(1)
    z = np.sqrt(rng.uniform(size=500))                             # uniform disc: F(r) = r^2
    ours = mt.radial_cdf_distance(z, lambda r: np.clip(r, 0, 1) ** 2)
    assert ours == pytest.approx(stats.kstest(z, lambda r: np.clip(r, 0, 1) ** 2).statistic, abs=1e-12)
    # an atom of 1/4 at 0 matched exactly: the distance is 3/4 of the conditional one
    F = lambda r: 0.25 + 0.75 * np.clip(r, 0, 1) ** 2  # noqa: E731
    exact = mt.radial_cdf_distance(z[:300], F, n_zero=100)         # 100 / 400 = 0.25 exactly
    assert exact == pytest.approx(0.75 * mt.radial_cdf_distance(z[:300], lambda r: np.clip(r, 0, 1) ** 2), abs=1e-12)
    # a wrong atom shows at r = 0
    assert mt.radial_cdf_distance(z[:300], F, n_zero=0) >= 0.25
    with pytest.raises(ValueError):
        mt.radial_cdf_distance(np.array([-1.0]), F)


def test_row_statistics():
    rows = torch.tensor([[0.0, 1e-9, 1e-7, 1e-5], [1e-3, 1e-3, 1e-3, 1e-3], [0.0, 0.0, 0.0, 0.0]])
    st = mt.row_statistics(rows)
    np.testing.assert_allclose(st["fractions"], [[0.5, 0.75, 0.25], [0, 0, 1], [1, 1, 0]])
    assert st["max_pairwise_ks"] == pytest.approx(1.0)              # the all-zero row is left out
    assert st["log10"][2].size == 0


# ------------------------------------------------------------------------------------------------------
# Fig 1 rules
# ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, verdict", [(0.5, "agree"), (0.49, "disagree")])
def test_s1_atom(value, verdict):
    c = cl.claim_atom_at_origin("net", value, "ctx")
    assert c.id == "S1 (net)" and c.verdict == verdict and c.ours == {"atom_weight": value} and "ctx" in c.note


@pytest.mark.parametrize("value, verdict", [(0.49, "agree"), (0.5, "disagree")])
def test_s2_asymmetry(value, verdict):
    assert cl.claim_asymmetry("net", value).verdict == verdict


@pytest.mark.parametrize("outliers, gap, verdict", [(1, 5.1, "agree"), (0, 50.0, "disagree"), (3, 5.0, "disagree")])
def test_s3_outliers(outliers, gap, verdict):
    c = cl.claim_outliers("net", outliers, gap)
    assert c.verdict == verdict and c.ours == {"outliers": outliers, "top_gap_ratio": gap}


@pytest.mark.parametrize("theta_min, near0, weight, gap, verdict", [
    (-2e-3, 4.7e-5, 5e-4, 6.0, "agree"),      # negative, below 10x the near-zero node, light and separated
    (-2e-3, 4.7e-5, 5e-4, 5.0, "disagree"),   # not separated (gap = 5x the median spacing)
    (-2e-3, 4.7e-5, 0.02, 50.0, "disagree"),  # the lowest node carries bulk weight (>= 10/P)
    (-4e-4, 4.7e-5, 5e-4, 50.0, "disagree"),  # not below 10x the near-zero node (the inventory's condition)
    (1e-6, 1e-7, 5e-4, 50.0, "disagree"),     # no negative node
])
def test_s4_negative_separated(theta_min, near0, weight, gap, verdict):
    c = cl.claim_negative_separated("net", theta_min, near0, weight, gap, P=1000)
    assert c.verdict == verdict
    assert c.ours["bottom_weight_x_P"] == pytest.approx(weight * 1000) and c.ours["bottom_gap_ratio"] == gap


@pytest.mark.parametrize("ks, verdict", [(0.31, "agree"), (0.3, "disagree")])
def test_s5_s17_not_semicircle(ks, verdict):
    c = cl.claim_not_semicircle("S17", "residual", ks)
    assert c.id == "S17" and c.verdict == verdict and c.ours == {"ks_to_semicircle": ks}


def test_claims_network_spectrum_uses_the_metrics():
    m = {"atom_weight": 0.9, "asymmetry": 0.01, "outliers": 3, "top_gap_ratio": 10.0, "theta_min": -2e-3,
         "near_zero_node": 1e-5, "bottom_weight": 1e-4, "bottom_gap_ratio": 2.0}
    out = {c.id: c for c in cl.claims_network_spectrum("X", m, 0.4, 1000, "ctx")}
    assert list(out) == ["S1 (X)", "S2 (X)", "S3 (X)", "S4 (X)", "S5 (X)"]
    assert [c.verdict for c in out.values()] == ["agree", "agree", "agree", "disagree", "agree"]


@pytest.mark.parametrize("lo, hi, verdict", [(-0.981, 0.99, "agree"), (-0.979, 0.99, "disagree"), (-1.0, 1.021, "disagree")])
def test_s8_semicircle_support(lo, hi, verdict):
    c = cl.claim_semicircle_support(lo, hi, 1.0, 2000, 0.25, 0.5)
    assert c.verdict == verdict and c.ours["printed_eq2_mass"] == 0.25 and "0.25" in c.note


@pytest.mark.parametrize("analytic, sample, beyond, verdict", [
    (0.36, 0.5, 0.0, "agree"), (0.36, 1.0, 0.0, "disagree"), (1.0, 0.5, 0.0, "disagree"), (0.36, 0.5, 0.001, "disagree")])
def test_s18_log_flat(analytic, sample, beyond, verdict):
    assert cl.claim_semicircle_log_flat(analytic, sample, beyond, 2000).verdict == verdict


# ------------------------------------------------------------------------------------------------------
# Fig 2 rules
# ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("atom, verdict", [(0.759, "agree"), (0.761, "disagree"), (0.741, "agree"), (0.739, "disagree")])
def test_s9_mp_atom(atom, verdict):
    c = cl.claim_mp_atom(atom, 4.0)
    assert c.verdict == verdict and c.paper_value == pytest.approx(0.75) and c.ours == atom


@pytest.mark.parametrize("lo, hi, verdict", [(1.029, 8.75, "agree"), (1.031, 9.0, "disagree"), (1.0, 8.72, "disagree")])
def test_s10_mp_edges(lo, hi, verdict):
    c = cl.claim_mp_edges(lo, hi, 4.0)
    assert c.verdict == verdict and c.paper_value == pytest.approx([1.0, 9.0])


@pytest.mark.parametrize("bulk_mean, verdict", [(4.0001, "paper_erratum"), (3.9, "paper_erratum"), (1.02, "agree"),
                                                (2.5, "disagree")])
def test_s11_mp_bulk_mean(bulk_mean, verdict):
    c = cl.claim_mp_bulk_mean(bulk_mean, 1.0, 4.0)
    assert c.verdict == verdict and c.ours["q_sigma2"] == pytest.approx(4.0) and c.ours["bulk_mean"] == bulk_mean


@pytest.mark.parametrize("mode, verdict", [(1.75, "paper_erratum"), (1.45, "paper_erratum"), (1.35, "agree"),
                                           (1.0, "agree")])
def test_s12_mp_bulk_mode_from_the_sample(mode, verdict):
    c = cl.claim_mp_bulk_mode(mode, 4.0)
    assert c.verdict == verdict and c.ours == {"sample_mode": mode, "corrected_mode": pytest.approx(1.8)}


@pytest.mark.parametrize("atom, gap, verdict", [(0.97, 0.0015, "agree"), (0.49, 0.0, "disagree"), (0.97, 0.0016, "disagree")])
def test_s13_ggn_no_gap(atom, gap, verdict):
    q = 1.6597777777777778
    mp_gap = (1 - math.sqrt(q)) ** 2 / (1 + math.sqrt(q)) ** 2          # 0.01588
    c = cl.claim_ggn_no_gap(atom, gap, q)
    assert c.verdict == verdict and c.ours["mp_gap_ratio_at_matched_q"] == pytest.approx(mp_gap)


@pytest.mark.parametrize("atom, tail, within1, verdict", [
    (0.3, 0.049, 0.6, "agree"), (0.0, 0.003, 0.555, "disagree"), (0.5, 0.05, 0.6, "disagree")])
def test_s15_residual_peak_uses_the_inventory_window(atom, tail, within1, verdict):
    """The committed run: w_0 = 0 in the inventory's 0.1 % window, 0.555 in a widened 1 % window -> disagree."""
    c = cl.claim_residual_peak(atom, tail, within1)
    assert c.verdict == verdict and c.ours["weight_within_1pct_of_max (not used)"] == within1


@pytest.mark.parametrize("R, G, n_out, verdict", [(0.0099, 0.1, 1, "agree"), (0.0101, 0.1, 1, "disagree"),
                                                  (0.001, 0.1, 0, "disagree")])
def test_s16_residual_outliers(R, G, n_out, verdict):
    c = cl.claim_residual_outliers(R, G, n_out)
    assert c.verdict == verdict and c.ours["max_abs_R_over_max_G"] == pytest.approx(R / G)


def test_s19_epochs_are_recorded_not_scored():
    rec = {"10": {"GGN": {"atom_weight": 0.97}}}
    c = cl.claim_epoch_changes(rec)
    assert c.verdict == "not_checkable" and c.ours == rec and c.note


# ------------------------------------------------------------------------------------------------------
# Fig 3 rules
# ------------------------------------------------------------------------------------------------------
def test_s20_burda():
    mass = {L: 0.5 ** (2 / L - 2) for L in (1, 2, 3, 5)}                 # 1, 2, 2.52, 3.03
    c = cl.claim_burda_law({1: 0.01, 2: 0.02, 3: 0.015, 5: 0.012}, mass, 1000, 0.5)
    assert c.verdict == "paper_erratum" and c.ours["printed_density_mass"][2] == pytest.approx(2.0)
    assert cl.claim_burda_law({1: 0.01, 2: 0.0201}, mass, 1000, 0.5).verdict == "disagree"
    assert cl.claim_burda_law({1: 0.01, 2: 0.01}, {1: 1.0, 2: 1.0005}, 1000, 1.0).verdict == "agree"


def test_s21_burda_fit():
    good = {"positive": {"exponent": -1.5, "r2": 0.9}, "negative": {"exponent": -0.5, "r2": 0.95}}
    assert cl.claim_burda_fit_residual(good).verdict == "agree"
    assert cl.claim_burda_fit_residual({**good, "positive": {"exponent": -2.0, "r2": 0.99}}).verdict == "disagree"
    assert cl.claim_burda_fit_residual({**good, "negative": {"exponent": -0.5, "r2": 0.89}}).verdict == "disagree"


def test_s22_residual_like_products():
    d = {1: {"ks": 0.33, "band": 0.17}, 2: {"ks": 0.32, "band": 0.14}, 5: {"ks": 0.29, "band": 0.06}}
    c = cl.claim_residual_like_products(d, {1: 0.06, 2: 0.1, 5: 0.28})
    assert c.verdict == "agree" and c.ours["some_L>=2_beats_L=1"] == {"ks": True, "band": True}
    d[2]["ks"], d[5]["ks"] = 0.34, 0.33                                  # only the bracket distance says so
    c = cl.claim_residual_like_products(d, {})
    assert c.verdict == "disagree" and c.ours["some_L>=2_beats_L=1"] == {"ks": False, "band": True}


def test_s23_near_origin_exponent():
    exact = {L: rmt.near_origin_exponent(L) + 0.02 for L in (1, 2, 3, 5)}
    assert cl.claim_wishart_near_origin_exponent(exact, {}, (0.01, 0.05)).verdict == "paper_erratum"
    committed = {1: -0.497, 2: -0.664, 3: -0.744, 5: -0.767}              # L = 5 is 0.066 from -5/6
    c = cl.claim_wishart_near_origin_exponent(committed, {}, (0.01, 0.05))
    assert c.verdict == "disagree" and c.ours["per_L"][5]["refutes_printed"] and not c.ours["per_L"][5]["confirms_corrected"]
    assert "L = [5]" in c.note
    printed = {L: rmt.near_origin_exponent_as_printed(L) + 0.05 for L in (1, 2, 3, 5)}
    assert cl.claim_wishart_near_origin_exponent(printed, {}, (0.01, 0.05)).verdict == "agree"


@pytest.mark.parametrize("ggn, wishart, verdict", [(0.99, 0.61, "agree"), (0.6, 0.61, "disagree")])
def test_s24(ggn, wishart, verdict):
    assert cl.claim_wishart_products_like_ggn(ggn, wishart).verdict == verdict


def test_s25_divergence_grows_with_L():
    assert cl.claim_products_diverge_at_origin({1: 0.06, 2: 0.1, 3: 0.16, 5: 0.28}, {}).verdict == "agree"
    assert cl.claim_products_diverge_at_origin({1: 0.06, 2: 0.1, 3: 0.1, 5: 0.28}, {}).verdict == "disagree"
    assert cl.claim_products_diverge_at_origin({5: 0.28, 1: 0.06, 3: 0.16, 2: 0.1}, {}).verdict == "agree"   # ordered by L


@pytest.mark.parametrize("zero_sum, near, verdict", [(0.0, 0.0195, "agree"), (0.0005, 0.0, "disagree"), (0.0, 0.02, "disagree")])
def test_s26(zero_sum, near, verdict):
    assert cl.claim_free_convolution_no_atom(0.75, zero_sum, near).verdict == verdict


def test_s27_product_atom():
    cases = [{"dims": [600, 300, 900, 600], "measured": 0.5, "exact": 0.5},
             {"dims": [600, 900, 1200, 600], "measured": 0.0, "exact": 0.0}]
    assert cl.claim_product_atom(cases).verdict == "agree"
    assert cl.claim_product_atom([{**cases[0], "measured": 0.4983}, cases[1]]).verdict == "disagree"
    assert cl.claim_product_atom([cases[1]]).verdict == "disagree"       # no bottleneck case: no atom shown


def test_s28_eq11_inventory_statistic():
    ok = {0.25: {"radial_cdf_distance": 0.0078, "conditional_ks": 0.031}, 2.0: {"radial_cdf_distance": 0.02, "conditional_ks": 0.02}}
    c = cl.claim_eq11(ok)
    assert c.verdict == "agree" and c.ours[0.25]["conditional_ks"] == 0.031
    assert cl.claim_eq11({**ok, 0.5: {"radial_cdf_distance": 0.0201, "conditional_ks": 0.04}}).verdict == "disagree"


def test_s29_every_case_must_match():
    cases = [{"printed": 0.389, "measured": 0.5}, {"printed": 0.519, "measured": 0.0}]
    c = cl.claim_degeneracy_fraction(cases)
    assert c.verdict == "disagree" and c.ours["abs_difference"] == pytest.approx([0.111, 0.519])
    # one matching case is not enough (the committed rule said agree here)
    assert cl.claim_degeneracy_fraction([{"printed": 0.5, "measured": 0.5}, cases[1]]).verdict == "disagree"
    assert cl.claim_degeneracy_fraction([{"printed": 0.48, "measured": 0.5}, {"printed": 0.04, "measured": 0.0}]).verdict == "agree"


def test_s30_degeneracy_grows():
    cases = [{"dims": [600, 300, 900, 600], "measured": 0.5}, {"dims": [600, 900, 1200, 600], "measured": 0.0},
             {"dims": [600, 150, 450, 600], "measured": 0.75}]
    flat = cl.claim_degeneracy_grows(cases, {1: 0.5, 2: 0.5, 3: 0.5, 5: 0.5}, {1: 0.06, 2: 0.17, 3: 0.27, 5: 0.41})
    assert flat.verdict == "disagree" and "(b) atom grows with L: False" in flat.note and "(a) atom depends on the ratio: True" in flat.note
    grows = cl.claim_degeneracy_grows(cases, {1: 0.5, 2: 0.55, 3: 0.6, 5: 0.7}, {1: 0.06, 2: 0.17})
    assert grows.verdict == "agree"
    backwards = [{"dims": [600, 300, 900, 600], "measured": 0.2}, {"dims": [600, 150, 450, 600], "measured": 0.1}]
    assert cl.claim_degeneracy_grows(backwards, {1: 0.5, 2: 0.55}, {}).verdict == "disagree"


# ------------------------------------------------------------------------------------------------------
# Fig 4 rules
# ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ks, sc, verdict", [(0.0125, {500: 0.08, 2000: 0.02}, "agree"), (0.05, {500: 0.08, 2000: 0.02}, "disagree"),
                                             (0.01, {500: 0.02, 2000: 0.02}, "disagree")])
def test_s31(ks, sc, verdict):
    assert cl.claim_sparsity_scale(ks, sc, [500, 2000], 3).verdict == verdict


def _dist(single, product, dense):
    return {"hessian": {"single": {**single, "dense": dense}, "product": {**product, "dense": dense}},
            "ggn": {"single": {**single, "dense": dense}, "product": {**product, "dense": dense}}}


def test_s32_s33_both_statistics():
    s = {"1": {"ks": 0.41, "band": 0.24}, "3": {"ks": 0.45, "band": 0.34}}
    p = {"1": {"ks": 0.42, "band": 0.18}}
    dense = {"ks": 0.46, "band": 0.42}
    c32 = cl.claim_sparse_beats_dense(_dist(s, p, dense))
    c33 = cl.claim_sparse_products_better(_dist(s, p, dense))
    assert c32.verdict == "agree" and c33.verdict == "disagree"
    assert c33.ours["product_beats_single"] == {"ks": {"hessian": False, "ggn": False}, "band": {"hessian": True, "ggn": True}}
    assert cl.claim_sparse_products_better(_dist(s, {"1": {"ks": 0.40, "band": 0.18}}, dense)).verdict == "agree"
    assert cl.claim_sparse_beats_dense(_dist(s, p, {"ks": 0.41, "band": 0.42})).verdict == "disagree"


def test_s34_always_means_every_k():
    present = {1: {"mean": 0.4496, "std": 0.0227, "bls": 0.4559}, 3: {"mean": 0.0708, "std": 0.0034, "bls": 0.0723}}
    assert cl.claim_sparse_atom_always(present, 2000, 4).verdict == "agree"
    committed = {**present, 10: {"mean": 0.0, "std": 0.0, "bls": 4.55e-5}, 30: {"mean": 0.0, "std": 0.0, "bls": 9.3e-14}}
    c = cl.claim_sparse_atom_always(committed, 2000, 4)
    assert c.verdict == "disagree" and "No atom at k = [10, 30]" in c.note
    assert c.ours[10]["expected_zero_eigenvalues"] == pytest.approx(0.091)
    off = {1: {"mean": 0.40, "std": 0.01, "bls": 0.4559}}
    assert cl.claim_sparse_atom_always(off, 2000, 4).verdict == "disagree"


def test_s35_s36():
    assert cl.claim_sparse_tails({1: 0.088, 3: 0.0485, 10: 0.023, 30: 0.012}, 0.0005).verdict == "agree"
    assert cl.claim_sparse_tails({1: 0.088, 3: 0.09}).verdict == "disagree"
    assert cl.claim_sparse_tails({1: 0.0, 3: 0.0}).verdict == "disagree"
    assert cl.claim_sparse_extremes_grow({250: 3.02, 500: 3.64, 1000: 3.643, 2000: 4.14}, 4).verdict == "agree"
    assert cl.claim_sparse_extremes_grow({250: 3.02, 500: 3.64, 1000: 3.63, 2000: 4.14}, 4).verdict == "disagree"


# ------------------------------------------------------------------------------------------------------
# Fig 5 rules
# ------------------------------------------------------------------------------------------------------
def test_s37_s39_s7():
    assert cl.claim_lr_parameter_count(7850, 784, 10).verdict == "agree"
    assert cl.claim_lr_parameter_count(7860, 784, 10).verdict == "disagree"
    assert cl.claim_lr_parameter_count(500, 49, 10).verdict == "not_checkable"
    assert cl.claim_vgg_parameter_counts([15299748, 15291300]).verdict == "agree"
    assert cl.claim_vgg_parameter_counts([15253578, 15245130]).verdict == "disagree"
    c = cl.claim_ggn_rank(6262, 713, 60000, 10)
    assert c.verdict == "agree" and c.ours["(C-1) rank[X,1]"] == 6417
    assert cl.claim_ggn_rank(6418, 713, 60000, 10).verdict == "disagree"


@pytest.mark.parametrize("below, above, verdict", [(0.70, 0.081, "agree"), (0.3, 0.1, "disagree"), (0.7, 0.049, "disagree"),
                                                   (0.95, 0.06, "disagree")])
def test_s38(below, above, verdict):
    assert cl.claim_lr_elements(below, above, 0.38).verdict == verdict


def test_s40_s41_s42_rows():
    fr = np.array([[0.08, 0.84, 0.16]] * 10)
    out = {c.id.split()[0]: c for c in cl.claims_hessian_rows("VGG-16", fr, 0.3, True)}
    assert [out[k].verdict for k in ("S40", "S41", "S42")] == ["agree", "agree", "agree"]
    off = np.array([[0.121, 0.57, 0.43]] * 10)
    out = {c.id.split()[0]: c for c in cl.claims_hessian_rows("VGG-16", off, 0.05, True)}
    assert [out[k].verdict for k in ("S40", "S41", "S42")] == ["disagree", "disagree", "disagree"]
    small = {c.id.split()[0]: c for c in cl.claims_hessian_rows("VGG-16", fr[:5], 0.3, False)}
    assert small["S40"].verdict == small["S41"].verdict == "not_checkable" and small["S40"].ours["rows"] == 5
    few = {c.id.split()[0]: c for c in cl.claims_hessian_rows("VGG-16", fr[:5], 0.3, True)}
    assert few["S40"].verdict == "not_checkable" and "fewer than 10 rows" in few["S40"].note
    dead = np.array([[0.08, 0.84, 0.16], [1.0, 1.0, 0.0]])
    s42 = cl.claims_hessian_rows("VGG-16", dead, 0.9, False)[2]
    assert s42.verdict == "disagree" and s42.ours["min_fraction_above_1e-6"] == 0.0


# ------------------------------------------------------------------------------------------------------
# Figs 6, 7 rules
# ------------------------------------------------------------------------------------------------------
def test_s43_s44():
    assert cl.claim_train_accuracy(1.0).verdict == "agree" and cl.claim_train_accuracy(0.999).verdict == "disagree"
    assert cl.claim_train_loss(3e-3).verdict == "agree" and cl.claim_train_loss(3.1e-3).verdict == "disagree"
    assert cl.claim_train_loss(3e-4).verdict == "agree" and cl.claim_train_loss(2.9e-4).verdict == "disagree"


def test_s45_s46_s47():
    assert cl.claim_negative_hessian_ritz(-0.002, False).verdict == "agree"
    assert cl.claim_negative_hessian_ritz(1e-6, False).verdict == "disagree"
    assert cl.claim_negative_hessian_ritz(-0.004, True).verdict == "agree"
    assert cl.claim_negative_hessian_ritz(-0.001, True).verdict == "disagree"     # the sign alone is not enough at scale
    assert cl.claim_hessian_not_ggn(-0.002, 3e-7, 0.31).verdict == "agree"
    assert cl.claim_hessian_not_ggn(-0.002, -1e-6, 0.31).verdict == "disagree"
    assert cl.claim_hessian_not_ggn(0.0, 3e-7, 0.31).verdict == "disagree"
    assert cl.claim_lanczos_bounds(None, None, None, None).verdict == "not_checkable"
    lam = np.array([-1.0, 0.0, 2.0])
    ok = cl.claim_lanczos_bounds([-0.9, 1.9], lam, [0.1, 1.5], np.array([0.0, 1.0, 2.0]))
    assert ok.verdict == "agree" and ok.ours["H"] == [-1.0, -0.9, 1.9, 2.0]
    assert cl.claim_lanczos_bounds([-1.1, 1.9], lam, [0.1, 1.5], lam).verdict == "disagree"


# ------------------------------------------------------------------------------------------------------
# what the figures evaluate is what the catalog lists
# ------------------------------------------------------------------------------------------------------
def _base_id(claim_id: str) -> str:
    return re.match(r"S\d+", claim_id).group(0)


def test_catalog_lists_the_claims_each_committed_figure_evaluates():
    paper = next(p for p in load_catalog() if p.key == "beyond_rmt")
    for item in paper.items:
        for out in item.outputs:
            if not out.endswith(".json"):
                continue
            record = json.loads((REPO / out).read_text())
            evaluated = {_base_id(c["id"]) for c in record["claims"]}
            listed = {c.id for c in item.claims}
            assert evaluated == listed, f"{item.id}: evaluated {sorted(evaluated - listed)} not listed, " \
                                        f"listed {sorted(listed - evaluated)} not evaluated"
