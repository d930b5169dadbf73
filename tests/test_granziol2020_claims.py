"""Claim rules of ``papers/granziol2020/claims.py``: each rule on numbers on both sides of its threshold, and on
the paper's own numbers where they decide it (Tables 1-3, §6, inventory §E19)."""

from __future__ import annotations

import pytest
from hessian_spectra.papers.granziol2020 import claims as cl
from hessian_spectra.papers.granziol2020 import theory as th
from hessian_spectra.pipeline.claims import Claim


def _summary(theta_min, theta_max, neg_tau=0.0, n_neg=0, m=80, var=1.0, raw=None, mlrg=None):
    return {"theta_min": theta_min, "theta_max": theta_max, "neg_mass_tau": neg_tau,
            "neg_mass_raw": neg_tau if raw is None else raw, "neg_mass_mlrg": neg_tau if mlrg is None else mlrg,
            "n_neg": n_neg, "m": m, "neg_fraction": n_neg / m, "ritz_variance": var}


# the paper's four pairs (text §6.1-6.2, Table 3 masses; the paper reports no Ritz variance: made up, ordered)
PAPER = {
    "C100 Normal": {"schedule": "normal", "train_accuracy": 0.9985,
                    "emp": _summary(-6.54, 20.56, 0.05, 43, 100, 4.0), "aug": _summary(-0.014, 3.026, 0.00016, 5, 80, 0.5)},
    "C10 Normal": {"schedule": "normal", "train_accuracy": 0.9998,
                   "emp": _summary(-1.374, 6.821, 0.09, 35, 100, 2.0), "aug": _summary(-0.0061, 0.5825, 0.03, 3, 80, 0.1)},
    "C100 Overfit": {"schedule": "overfit", "train_accuracy": 0.9962,
                     "emp": _summary(-7.33, 281.32, 0.032, 43, 100, 90.0), "aug": _summary(2e-5, 45.68, 0.0, 0, 80, 9.0)},
    "C10 Overfit": {"schedule": "overfit", "train_accuracy": 0.9991,
                    "emp": _summary(-2.9, 184.4, 0.032, 40, 100, 50.0), "aug": _summary(-9e-4, 15.6, 0.0, 1, 80, 3.0)},
}


def test_per_pair_rules():
    c = cl.claim_max_shrinks("C10 Normal", 6.821, 0.5825)
    assert isinstance(c, Claim) and c.verdict == "agree" and c.ours["ratio"] == pytest.approx(11.71, abs=0.01)
    assert cl.claim_max_shrinks("x", 11.34, 13.02).verdict == "disagree"     # the inventory's MLP Overfit prototype
    assert cl.claim_min_shrinks("x", -0.189, -0.0106).verdict == "agree"
    assert cl.claim_min_shrinks("x", -0.01, 0.02).verdict == "disagree"


def test_paper_numbers_agree_with_the_direction_claims():
    s28, s29 = cl.claim_extremes_shrink(PAPER, "paper")
    assert (s28.id, s28.verdict, s29.id, s29.verdict) == ("S28", "agree", "S29", "agree")
    assert cl.claim_negative_mass_shrinks(PAPER).verdict == "agree"
    assert cl.claim_negative_mass_shrinks(PAPER, claim_id="S44").id == "S44"
    assert cl.claim_negative_fraction_falls(PAPER).verdict == "agree"
    assert cl.claim_variation_smaller(PAPER).verdict == "agree"


def test_overfit_pairs_are_recorded_not_scored_when_the_stand_in_underfits():
    pairs = {k: dict(v) for k, v in PAPER.items()}
    pairs["C10 Overfit"] = dict(pairs["C10 Overfit"], train_accuracy=0.366,
                                aug=_summary(-0.0255, 13.02), emp=_summary(-0.453, 11.34))
    s28, s29 = cl.claim_extremes_shrink(pairs, "default")
    assert s28.verdict == "agree" and "recorded, not scored: C10 Overfit (False)" in s28.note
    assert s29.verdict == "agree"
    # at paper scale every pair counts
    assert cl.claim_extremes_shrink(pairs, "paper")[0].verdict == "disagree"
    # a fitted Overfit stand-in counts at default too
    pairs["C10 Overfit"]["train_accuracy"] = 0.95
    assert cl.claim_extremes_shrink(pairs, "default")[0].verdict == "disagree"
    # only underfitted Overfit pairs: nothing to score
    only = {"O": dict(pairs["C10 Overfit"], train_accuracy=0.3)}
    assert cl.claim_extremes_shrink(only, "default")[0].verdict == "not_checkable"
    with pytest.raises(ValueError, match="no .* pairs"):
        cl.claim_extremes_shrink({}, "paper")


def test_negative_mass_needs_three_of_four():
    pairs = {k: dict(v) for k, v in PAPER.items()}
    pairs["C100 Overfit"] = dict(pairs["C100 Overfit"], aug=_summary(0.0, 45.0, neg_tau=0.05))  # one fails
    assert cl.claim_negative_mass_shrinks(pairs).verdict == "agree"
    pairs["C10 Overfit"] = dict(pairs["C10 Overfit"], aug=_summary(0.0, 15.0, neg_tau=0.055))  # two fail
    c = cl.claim_negative_mass_shrinks(pairs)
    assert c.verdict == "disagree" and ">= 3 of 4" in c.note and "holds in 2" in c.note
    # the raw mass is recorded but never decides
    pairs = {"p": dict(PAPER["C10 Normal"], aug=_summary(-0.0061, 0.58, 0.03, raw=0.95))}
    assert cl.claim_negative_mass_shrinks(pairs).verdict == "agree"


def test_theorem1_edge_is_a_derived_check_that_the_papers_numbers_fail():
    pred = th.predict_augmented_extremes(-6.54, 20.56, -0.014, 3.026, 1_169_972, 50_000, 1_500_000)
    c = cl.claim_theorem1_edge("C100 Normal", pred)
    assert c.verdict == "disagree" and c.id == "E19 (C100 Normal)" and "not counted" in c.note
    assert c.ours["ratio_min"] == pytest.approx(85, abs=1)
    ok = dict(pred, ratio_min=2.5)
    assert cl.claim_theorem1_edge("x", ok).verdict == "agree"
    assert cl.claim_theorem1_edge("x", dict(pred, ratio_min=1 / 3.5)).verdict == "disagree"


def test_bbp_and_lemma2_rules():
    assert cl.claim_bbp("S1", 3.344, 3.3333, "outlier").verdict == "agree"
    assert cl.claim_bbp("S1", 3.55, 3.3333, "outlier").verdict == "disagree"
    assert cl.claim_bbp("S2", 1.993, 2.0, "edge").verdict == "agree"
    assert cl.claim_bbp("S2", 2.07, 2.0, "edge").verdict == "disagree"
    with pytest.raises(ValueError, match="kind must be"):
        cl.claim_bbp("S2", 1.0, 1.0, "bulk")
    good = {"flat_fraction": 0.9, "normal_fraction": 0.85, "sizes": [250, 500]}
    assert cl.claim_lemma2(good).verdict == "agree"
    assert cl.claim_lemma2(dict(good, flat_fraction=0.7)).verdict == "disagree"
    assert cl.claim_lemma2(dict(good, normal_fraction=0.79)).verdict == "disagree"


def test_table2_copied_cells_are_flagged():
    c = cl.claim_table2_normal_aug_cells()
    assert c.verdict == "paper_erratum" and "copy of Table 1" in c.note
    # at paper scale our measurement decides which value it supports
    assert cl.claim_table2_normal_aug_cells(0.61, paper_scale=True).verdict == "paper_erratum"
    assert cl.claim_table2_normal_aug_cells(2.9, paper_scale=True).verdict == "agree"
    # not at paper scale a measurement does not decide
    assert cl.claim_table2_normal_aug_cells(2.9).verdict == "paper_erratum"
    losses = cl.claim_table2_overfit_losses()
    assert losses.verdict == "not_checkable" and "Low confidence" in losses.note
    assert cl.claim_table2_overfit_losses(1.7, 0.03, paper_scale=True).verdict == "agree"
    assert cl.claim_table2_overfit_losses(0.6, 0.03, paper_scale=True).verdict == "disagree"


# ------------------------------------------------------------------------------------------------------
# rules added with the notebooks
# ------------------------------------------------------------------------------------------------------
def test_theory_rules():
    pts = [{"q": 1.0, "beta": b, "sim_top": max(2.0, b + 1 / b if b else 2.0), "sim_bottom": -max(2.0, b + 1 / b if b else 2.0)}
           for b in (0.0, 0.5, 2.0)]
    assert cl.claim_broadening(pts).verdict == "agree"
    pts.append({"q": 1.0, "beta": 3.0, "sim_top": 2.9, "sim_bottom": -3.4})
    c = cl.claim_broadening(pts)
    assert c.verdict == "disagree" and c.ours["violations"] == [(1.0, 3.0)]
    assert cl.claim_dispersion(4.0836, 0.0014, 4.0846).verdict == "agree"      # inventory §S5's [checked] numbers
    assert cl.claim_dispersion(4.0836, 0.0001, 4.0846).verdict == "disagree"
    assert cl.claim_exact("S10", "count", 1_169_972, 1_169_972).verdict == "agree"
    assert cl.claim_exact("S10", "count", 1_169_972, 1_169_973).verdict == "disagree"
    q = cl.claim_q_sides(1_169_972, 1_146_842, 15_291_300)
    assert q.verdict == "agree" and q.ours["vgg_5M"] == pytest.approx(3.058, abs=1e-3)
    assert cl.claim_q_sides(2_000_000, 1_146_842, 15_291_300).verdict == "disagree"


def test_value_claims_are_checked_at_paper_scale_only():
    c = cl.claim_value("S22", "Fig 1", [-6.54, 20.56], [-0.2, 26.7], "default", rel_tol=0.25, target=20.56)
    assert c.verdict == "not_checkable" and "paper scale" in c.note
    assert cl.claim_value("S22", "Fig 1", 1, 2, "paper", rel_tol=0.25, target=20.56, substituted=True).verdict \
        == "not_checkable"
    assert cl.claim_value("S22", "Fig 1", 1, 22.0, "paper", rel_tol=0.25, target=20.56).verdict == "agree"
    assert cl.claim_value("S22", "Fig 1", 1, 30.0, "paper", rel_tol=0.25, target=20.56).verdict == "disagree"
    assert cl.claim_value("S31", "count", "43/100", "40/100", "paper").verdict == "not_checkable"  # no rule wired


def test_slot_direction_rules_on_the_papers_numbers():
    fin = {"normal": {"test_accuracy": 0.7724, "test_loss": 0.99}, "overfit": {"test_accuracy": 0.5685, "test_loss": 1.85}}
    s20, s21 = cl.claim_overfit_generalises_worse({"C100": fin})
    assert s20.verdict == "agree" and s21.verdict == "agree"
    bad = {"normal": fin["overfit"], "overfit": fin["normal"]}
    assert all(c.verdict == "disagree" for c in cl.claim_overfit_generalises_worse({"C100": fin, "x": bad}))
    slots = {"C100": {"normal": PAPER["C100 Normal"], "overfit": PAPER["C100 Overfit"]},
             "C10": {"normal": PAPER["C10 Normal"], "overfit": PAPER["C10 Overfit"]}}
    s35, s36 = cl.claim_overfit_sharper(slots)
    assert s35.verdict == "agree" and s35.ours["C10"] == pytest.approx(15.6 / 0.5825)
    assert s36.verdict == "agree"
    flat = {"x": {"normal": PAPER["C10 Normal"], "overfit": {"emp": _summary(-1, 6.0), "aug": _summary(-0.01, 1.0)}}}
    s35, s36 = cl.claim_overfit_sharper(flat)
    assert s35.ours["x"] == pytest.approx(1.0 / 0.5825)
    assert s35.verdict == "disagree" and s36.verdict == "disagree"           # ratio 1.72 < 2; 6.0 < 6.821


def test_spectrum_shape_rules():
    sp8 = {f"s{i}": {"zero_mass": z, "top3_weight": t} for i, (z, t) in enumerate([(0.92, 0.99), (0.6, 0.85)])}
    assert cl.claim_zero_spike(sp8).verdict == "agree" and cl.claim_zero_spike(sp8, "S37").id == "S37"
    assert cl.claim_zero_spike({**sp8, "low": {"zero_mass": 0.43, "top3_weight": 0.9}}).verdict == "disagree"
    assert cl.claim_top3_carry(sp8, "default").verdict == "agree"
    assert cl.claim_top3_carry(sp8, "paper").verdict == "disagree"            # 0.85 < 0.95
    pairs = {k: {"emp": {"bulk_asymmetry": e}, "aug": {"bulk_asymmetry": a}}
             for k, (e, a) in {"a": (0.0, 0.5), "b": (0.1, 0.9), "c": (0.2, 0.3), "d": (0.5, 0.1)}.items()}
    assert cl.claim_bulk_skew(pairs).verdict == "agree"                     # 3 of 4
    pairs["c"]["aug"]["bulk_asymmetry"] = float("nan")
    assert cl.claim_bulk_skew(pairs).verdict == "disagree"                  # NaN counts as not holding


def test_training_and_appendix_rules():
    assert cl.claim_final_train_accuracy({"a": 0.84}, "default").verdict == "not_checkable"
    assert cl.claim_final_train_accuracy({"a": 0.9985, "b": 0.9962}, "paper").verdict == "agree"
    assert cl.claim_final_train_accuracy({"a": 0.9985, "b": 0.99}, "paper").verdict == "disagree"
    emp, aug = {"theta_min": -6.59, "theta_max": 23.73}, {"theta_min": -0.344, "theta_max": 6.737}
    assert cl.claim_vgg_extremes_shrink(emp, aug).verdict == "agree"          # the paper's Figs 21 -> 22
    assert cl.claim_vgg_extremes_shrink(emp, {"theta_min": -7.0, "theta_max": 6.0}).verdict == "disagree"
    paper = {"A1": {"final": 22.47, "early": 5.967}, "A2": {"final": 23.73, "early": 2.518},
             "A3": {"final": 9.43, "early": 5.416}, "A4": {"final": 6.709, "early": 5.114}}
    assert cl.claim_late_widening(paper).verdict == "agree"
    paper["A4"] = {"final": 4.0, "early": 5.114}
    assert cl.claim_late_widening(paper).verdict == "agree"                  # 3 of 4
    paper["A3"] = {"final": 4.0, "early": 5.416}
    assert cl.claim_late_widening(paper).verdict == "disagree"
    assert cl.claim_init_negative(-194.5, 0.7, "eval").verdict == "not_checkable"
    assert cl.claim_init_negative(-194.5, 0.7, "train").verdict == "agree"
    assert cl.claim_init_negative(-1.0, 0.7, "train").verdict == "disagree"


def test_quadrature_and_overlap_rules():
    assert cl.claim_quadrature(2.4e-14).verdict == "agree"
    assert cl.claim_quadrature(1e-6).verdict == "disagree"
    ok = {"P": 100, "trials": 1000, "mean": 1.02, "se": 0.045, "std": 1.41}
    assert cl.claim_random_overlap(ok).verdict == "agree"
    assert cl.claim_random_overlap({**ok, "mean": 1.5}).verdict == "disagree"
