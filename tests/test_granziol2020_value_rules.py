"""Paper-scale rules of the granziol2020 V-claims (S13-S18, S30, S31, S33, S37, S39, S42): each on numbers just
inside and just outside its inventory tolerance, ``not_checkable`` at smoke/default (the same claim the notebook
recorded before through ``claim_value``) and when the dataset was substituted, and the tolerance named in the
note. The paper's own numbers (``paper.py``) pass every rule."""

from __future__ import annotations

import pytest
from hessian_spectra.papers.granziol2020 import claims as cl
from hessian_spectra.papers.granziol2020 import paper as pp
from hessian_spectra.pipeline.claims import Claim

STAND_IN = "value claim: checked at the paper scale only"
SUBST = "CIFAR-100) is unavailable offline"


def _same(a: Claim, b: Claim) -> bool:
    return (a.id, a.statement, a.paper_value, a.ours, a.verdict, a.note) == \
        (b.id, b.statement, b.paper_value, b.ours, b.verdict, b.note)


# ------------------------------------------------------------------------------------------------------
# S13-S17: accuracies in absolute percentage points
# ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cid, paper, tol", [("S13", 77.24, 1.0), ("S14", 95.32, 0.3), ("S15", 99.85, 0.3),
                                             ("S15", 99.98, 0.3), ("S16", 56.85, 2.0), ("S16", 86.46, 2.0),
                                             ("S17", 99.62, 0.3), ("S17", 99.91, 0.3)])
def test_accuracy_pp_inside_and_outside(cid, paper, tol):
    assert cl.ACCURACY_TOL_PP[cid] == tol
    for sign in (1, -1):
        inside = cl.claim_accuracy_pp(cid, "acc", paper, paper + sign * 0.98 * tol, "paper")
        outside = cl.claim_accuracy_pp(cid, "acc", paper, paper + sign * 1.02 * tol, "paper")
        assert (inside.verdict, outside.verdict) == ("agree", "disagree")
        assert f"<= {tol:g} pp (absolute percentage points, inventory §{cid})" in inside.note
    assert cl.claim_accuracy_pp(cid, "acc", paper, paper, "paper").verdict == "agree"


def test_accuracy_pp_is_absolute_not_relative():
    # 1 % relative of 77.24 is 0.77 pp: 77.24 - 0.9 is inside ±1.0 pp
    assert cl.claim_accuracy_pp("S13", "acc", 77.24, 76.34, "paper").verdict == "agree"
    assert cl.claim_accuracy_pp("S13", "acc", 77.24, 76.2, "paper").verdict == "disagree"


def test_accuracy_pp_jpeg_caveat_widens_only_s14_and_is_flagged():
    c = cl.claim_accuracy_pp("S14", "acc", 95.32, 95.32 - 0.79, "paper", jpeg=True)
    assert c.verdict == "agree" and "<= 0.8 pp" in c.note and "JPEG" in c.note and "Flag" in c.note
    assert cl.claim_accuracy_pp("S14", "acc", 95.32, 95.32 - 0.81, "paper", jpeg=True).verdict == "disagree"
    assert cl.claim_accuracy_pp("S14", "acc", 95.32, 95.32 + 0.79, "paper", jpeg=True).verdict == "agree"
    assert cl.claim_accuracy_pp("S14", "acc", 95.32, 95.32 - 0.79, "paper").verdict == "disagree"
    # other ids keep their tolerance on the JPEG copy
    c15 = cl.claim_accuracy_pp("S15", "acc", 99.98, 99.98 - 0.5, "paper", jpeg=True)
    assert c15.verdict == "disagree" and "<= 0.3 pp" in c15.note and "JPEG" in c15.note


def test_accuracy_pp_not_checkable_at_stand_in_scale_and_when_substituted():
    for prof in ("smoke", "default"):
        for cid, check in (("S13", "±1.0 pp (C100) / ±0.3 pp (C10) / ±2 pp (Overfit)"), ("S14", None),
                           ("S16", None), ("S15", "±0.3 pp"), ("S17", "±0.3 pp")):
            check = check or "±1.0 pp (C100) / ±0.3 pp (C10) / ±2 pp (Overfit)"
            new = cl.claim_accuracy_pp(cid, "acc", 77.24, 12.5, prof, jpeg=True)
            old = cl.claim_value(cid, "acc", 77.24, 12.5, prof, check=check)     # the notebook's call before
            assert new.verdict == "not_checkable" and STAND_IN in new.note and _same(new, old)
    c = cl.claim_accuracy_pp("S13", "acc", 77.24, 77.24, "paper", substituted=True)
    assert c.verdict == "not_checkable" and SUBST in c.note
    assert cl.claim_accuracy_pp("S13", "acc", 77.24, None, "paper").verdict == "not_checkable"
    with pytest.raises(ValueError, match="no accuracy tolerance"):
        cl.claim_accuracy_pp("S22", "acc", 1.0, 1.0, "paper")


# ------------------------------------------------------------------------------------------------------
# S18: Table 1 losses ±25 %
# ------------------------------------------------------------------------------------------------------
def _losses(scale: dict | None = None) -> tuple[dict, dict]:
    T = pp.TABLE12["c100"]
    paper = {f"{s} {k}": T[s][k] for s in ("normal", "overfit") for k in ("test_loss", "train_loss")}
    ours = {k: v * (scale or {}).get(k, 1.0) for k, v in paper.items()}
    return paper, ours


def test_losses_inside_and_outside():
    paper, ours = _losses()
    assert paper == {"normal test_loss": 0.99, "normal train_loss": 0.021, "overfit test_loss": 1.85,
                     "overfit train_loss": 0.026}
    c = cl.claim_losses("S18", "losses", paper, ours, "paper")
    assert c.verdict == "agree" and "±25%" in c.note and "§S18" in c.note
    for key in paper:
        for f_in, f_out in ((1.24, 1.26), (0.76, 0.74)):
            assert cl.claim_losses("S18", "l", paper, _losses({key: f_in})[1], "paper").verdict == "agree"
            bad = cl.claim_losses("S18", "l", paper, _losses({key: f_out})[1], "paper")
            assert bad.verdict == "disagree" and key in bad.note
    with pytest.raises(ValueError, match="every loss"):
        cl.claim_losses("S18", "l", paper, {"normal test_loss": 0.99}, "paper")


def test_losses_not_checkable_at_stand_in_scale_and_when_substituted():
    paper, ours = _losses({"normal test_loss": 3.0})
    c = cl.claim_losses("S18", "losses", paper, ours, "default")
    assert c.verdict == "not_checkable" and STAND_IN in c.note and "Inventory test: ±25 %" in c.note
    assert c.ours == ours                                                    # ours recorded
    s = cl.claim_losses("S18", "losses", paper, ours, "paper", substituted=True)
    assert s.verdict == "not_checkable" and SUBST in s.note


# ------------------------------------------------------------------------------------------------------
# S30: shrink factors within ×2
# ------------------------------------------------------------------------------------------------------
PAPER_RATIO = {"normal": 20.56 / 3.025, "overfit": 281.32 / 45.68}


def test_factor_inside_and_outside():
    assert cl.SHRINK_FACTOR == 2.0
    assert cl.claim_factor("S30", "r", PAPER_RATIO, dict(PAPER_RATIO), "paper").verdict == "agree"
    for f_in, f_out in ((1.99, 2.01), (1 / 1.99, 1 / 2.01)):
        inside = {**PAPER_RATIO, "overfit": PAPER_RATIO["overfit"] * f_in}
        outside = {**PAPER_RATIO, "overfit": PAPER_RATIO["overfit"] * f_out}
        c = cl.claim_factor("S30", "r", PAPER_RATIO, inside, "paper")
        assert c.verdict == "agree" and "within a factor 2" in c.note and "§S30" in c.note
        d = cl.claim_factor("S30", "r", PAPER_RATIO, outside, "paper")
        assert d.verdict == "disagree" and "outside: overfit" in d.note
    # a non-positive measured ratio (θ_max(Aug) <= 0) is outside any factor
    assert cl.claim_factor("S30", "r", PAPER_RATIO, {**PAPER_RATIO, "normal": -3.0}, "paper").verdict == "disagree"


def test_factor_not_checkable_at_stand_in_scale_and_when_substituted():
    ours = {"normal": 1.3, "overfit": 0.9}
    for prof in ("smoke", "default"):
        new = cl.claim_factor("S30", "r", PAPER_RATIO, ours, prof)
        old = cl.claim_value("S30", "r", PAPER_RATIO, ours, prof, check="within x2; record only at default")
        assert new.verdict == "not_checkable" and _same(new, old)
    assert cl.claim_factor("S30", "r", PAPER_RATIO, ours, "paper", substituted=True).verdict == "not_checkable"


# ------------------------------------------------------------------------------------------------------
# S31: negative Ritz counts (Emp ±10, Aug <= 10)
# ------------------------------------------------------------------------------------------------------
def test_negative_count_inside_and_outside():
    assert cl.claim_negative_count("S31", "n", "43/100", 53, 100, "emp", "paper").verdict == "agree"
    assert cl.claim_negative_count("S31", "n", "43/100", 33, 100, "emp", "paper").verdict == "agree"
    assert cl.claim_negative_count("S31", "n", "43/100", 54, 100, "emp", "paper").verdict == "disagree"
    c = cl.claim_negative_count("S31", "n", "43/100", 32, 100, "emp", "paper")
    assert c.verdict == "disagree" and "|n_neg - 43| <= 10" in c.note and c.ours == "32/100"
    assert cl.claim_negative_count("S31", "n", "5/80", 10, 80, "aug", "paper").verdict == "agree"
    a = cl.claim_negative_count("S31", "n", "1/80", 11, 80, "aug", "paper")
    assert a.verdict == "disagree" and "n_neg <= 10" in a.note
    # the paper's own counts pass
    for (sl, sc, kind), (count, _) in pp.NEGATIVE.items():
        if count is not None:
            n, m = (int(x) for x in count.split("/"))
            assert cl.claim_negative_count("S31", "n", count, n, m, kind, "paper").verdict == "agree"


def test_negative_count_not_checkable():
    assert cl.claim_negative_count("S31", "n", None, 40, 100, "emp", "paper").verdict == "not_checkable"
    for prof in ("smoke", "default"):
        new = cl.claim_negative_count("S31", "n", "43/100", 7, 20, "emp", prof)
        old = cl.claim_value("S31", "n", "43/100", "7/20", prof, check="Emp counts ±10, Aug counts <= 10")
        assert new.verdict == "not_checkable" and _same(new, old)
    assert cl.claim_negative_count("S31", "n", "43/100", 43, 100, "emp", "paper",
                                   substituted=True).verdict == "not_checkable"
    with pytest.raises(ValueError, match="kind"):
        cl.claim_negative_count("S31", "n", "43/100", 43, 100, "both", "paper")


# ------------------------------------------------------------------------------------------------------
# S33: negative spectral mass under the τ rule
# ------------------------------------------------------------------------------------------------------
def test_negative_mass_factor_three_for_stated_masses():
    for p in (0.05, 0.09, 0.03, 0.032, 0.086):
        assert cl.claim_negative_mass("S33", "m", p, p * 2.99, "paper").verdict == "agree"
        assert cl.claim_negative_mass("S33", "m", p, p / 2.99, "paper").verdict == "agree"
        assert cl.claim_negative_mass("S33", "m", p, p * 3.01, "paper").verdict == "disagree"
        c = cl.claim_negative_mass("S33", "m", p, p / 3.01, "paper")
        assert c.verdict == "disagree" and f"within a factor 3 of {p:g}" in c.note
    assert cl.claim_negative_mass("S33", "m", 0.05, 0.0, "paper").verdict == "disagree"


def test_negative_mass_tiny_values():
    for p in (0.00016, 0.0):
        c = cl.claim_negative_mass("S33", "m", p, 0.0049, "paper")
        assert c.verdict == "agree" and "ours < 0.005" in c.note
        assert cl.claim_negative_mass("S33", "m", p, 0.0051, "paper").verdict == "disagree"
    # no inventory rule between 0.005 and 0.01
    assert cl.claim_negative_mass("S33", "m", 0.007, 0.007, "paper").verdict == "not_checkable"


def test_negative_mass_low_confidence_and_not_checkable():
    c = cl.claim_negative_mass("S33", "m", 0.086, 0.0, "paper", low_confidence=True)
    assert c.verdict == "disagree" and "Low confidence (inventory §E item 5)" in c.note
    assert cl.LOW_CONFIDENCE_MASS == ("c10", "overfit", "aug") and cl.LOW_CONFIDENCE_MASS in pp.NEGATIVE
    assert "Low confidence" not in cl.claim_negative_mass("S33", "m", 0.05, 0.05, "paper").note
    assert cl.claim_negative_mass("S33", "m", None, 0.05, "paper").verdict == "not_checkable"
    for prof in ("smoke", "default"):
        new = cl.claim_negative_mass("S33", "m", 0.086, 0.3, prof, low_confidence=True)
        old = cl.claim_value("S33", "m", 0.086, 0.3, prof,
                             check="factor 3 for values >= 0.01; < 0.005 for the tiny ones")
        assert new.verdict == "not_checkable" and _same(new, old)
    assert cl.claim_negative_mass("S33", "m", 0.05, 0.05, "paper", substituted=True).verdict == "not_checkable"
    # the paper's own masses pass
    for _, mass in pp.NEGATIVE.values():
        assert cl.claim_negative_mass("S33", "m", mass, mass, "paper").verdict == "agree"


# ------------------------------------------------------------------------------------------------------
# S37 (V-form) and S39: Table 3
# ------------------------------------------------------------------------------------------------------
def _label(key):
    sl, sc, kind = key
    return f"{sl} {sc} {kind}"


PAPER3 = {_label(k): [list(p) for p in v] for k, v in pp.TABLE3.items()}
PMAX = {_label(v[:3]): v[3][1] for v in pp.MAIN_FIGURES.values()}
C100 = [k for k in PAPER3 if k.startswith("c100")]


def _with(label, i, rho=None, lam=None):
    ours = {k: [list(p) for p in v] for k, v in PAPER3.items()}
    if rho is not None:
        ours[label][i][0] = rho
    if lam is not None:
        ours[label][i][1] = lam
    return ours


def test_heaviest_pair_rule():
    assert cl.claim_heaviest_pair(PAPER3, PAPER3, "paper").verdict == "agree"
    lab = "c10 normal emp"      # ρ₀ 0.88 at 0.007
    assert cl.claim_heaviest_pair(_with(lab, 0, rho=0.88 + 0.09), PAPER3, "paper").verdict == "agree"
    assert cl.claim_heaviest_pair(_with(lab, 0, rho=0.88 - 0.09), PAPER3, "paper").verdict == "agree"
    c = cl.claim_heaviest_pair(_with(lab, 0, rho=0.88 - 0.11), PAPER3, "paper")
    assert c.verdict == "disagree" and lab in c.note and "|ρ₀ - paper ρ₀| <= 0.1" in c.note and "< 0.05" in c.note
    assert cl.claim_heaviest_pair(_with(lab, 0, lam=-0.049), PAPER3, "paper").verdict == "agree"
    assert cl.claim_heaviest_pair(_with(lab, 0, lam=0.051), PAPER3, "paper").verdict == "disagree"


def test_heaviest_pair_substituted_and_stand_in():
    c = cl.claim_heaviest_pair(_with("c100 normal emp", 0, rho=0.2), PAPER3, "paper", substituted=C100)
    assert c.verdict == "not_checkable" and "4/4 checkable spectra agree" in c.note and "c100 normal emp" in c.note
    d = cl.claim_heaviest_pair(_with("c10 overfit aug", 0, rho=0.2), PAPER3, "paper", substituted=C100)
    assert d.verdict == "disagree"          # a checkable spectrum fails: the claim fails
    e = cl.claim_heaviest_pair(PAPER3, PAPER3, "default")
    assert e.verdict == "not_checkable" and STAND_IN in e.note
    with pytest.raises(ValueError, match="unknown spectra"):
        cl.claim_heaviest_pair(PAPER3, PAPER3, "paper", substituted=["nope"])


def test_table3_cells_rule():
    c = cl.claim_table3_cells(PAPER3, PAPER3, PMAX, "paper")
    assert c.verdict == "agree" and "8/8 checkable spectra agree" in c.note
    for t in ("ρ >= 0.5 within ±0.1", "other ρ within x3", "|λ| within x10", "|λ_paper| >= 0.001·θ_max"):
        assert t in c.note
    lab = "c100 overfit emp"    # [0.65, -0.026] [0.34, 0.05] [0.006, 0.58], θ_max 281.32: sign threshold 0.281

    def ok(o):
        return cl.claim_table3_cells(o, PAPER3, PMAX, "paper").verdict

    # ρ >= 0.5: ±0.1
    assert ok(_with(lab, 0, rho=0.65 + 0.09)) == "agree" and ok(_with(lab, 0, rho=0.65 - 0.11)) == "disagree"
    # other ρ: factor 3
    assert ok(_with(lab, 1, rho=0.34 * 2.9)) == "agree" and ok(_with(lab, 1, rho=0.34 / 2.9)) == "agree"
    assert ok(_with(lab, 1, rho=0.34 / 3.1)) == "disagree" and ok(_with(lab, 2, rho=0.006 * 3.1)) == "disagree"
    # λ: order of magnitude (factor 10)
    assert ok(_with(lab, 2, lam=0.58 * 9.9)) == "agree" and ok(_with(lab, 2, lam=0.58 / 9.9)) == "agree"
    assert ok(_with(lab, 2, lam=0.58 * 10.1)) == "disagree" and ok(_with(lab, 2, lam=0.58 / 10.1)) == "disagree"
    # the sign counts only where |λ_paper| >= 1e-3·θ_max: 0.58 >= 0.281 yes, -0.026 no
    bad = cl.claim_table3_cells(_with(lab, 2, lam=-0.58), PAPER3, PMAX, "paper")
    assert bad.verdict == "disagree" and "sign λ2" in bad.note
    assert ok(_with(lab, 0, lam=+0.026)) == "agree"
    lab2 = "c100 normal emp"    # [0.05, -0.03] with θ_max 20.56: threshold 0.0206, so the sign counts
    assert ok(_with(lab2, 1, lam=+0.03)) == "disagree" and ok(_with(lab2, 0, lam=-0.0014)) == "agree"
    # a missing pair fails
    short = {k: v[:2] if k == lab else v for k, v in PAPER3.items()}
    assert ok(short) == "disagree"


def test_table3_cells_substituted_and_stand_in():
    c = cl.claim_table3_cells(_with("c100 overfit aug", 1, rho=0.9), PAPER3, PMAX, "paper", substituted=C100)
    assert c.verdict == "not_checkable" and "4/4 checkable spectra agree" in c.note
    d = cl.claim_table3_cells(_with("c10 normal aug", 1, rho=0.9), PAPER3, PMAX, "paper", substituted=C100)
    assert d.verdict == "disagree" and "c10 normal aug" in d.note
    for prof in ("smoke", "default"):
        new = cl.claim_table3_cells(PAPER3, PAPER3, PMAX, prof, substituted=C100)
        old = cl.claim_value("S39", "all 24 Table 3 cells", "Table 3", PAPER3, prof,
                             check="ρ >= 0.5: ±0.1; other ρ: factor 3; λ: order of magnitude")
        assert new.verdict == "not_checkable" and _same(new, old)


# ------------------------------------------------------------------------------------------------------
# S42: C10 Overfit Aug's one negative Ritz value and its spike
# ------------------------------------------------------------------------------------------------------
def _s42(n_neg=1, theta_min=-0.00093, rho0=0.889, theta0=1e-4):
    return {"n_neg": n_neg, "theta_min": theta_min, "top3": [[rho0, theta0], [0.085, -0.00093], [0.016, 0.0058]]}


def test_s42_rule():
    c = cl.claim_s42(_s42(), "paper")
    assert c.verdict == "agree" and "n_neg <= 2" in c.note and "|θ| < 0.01" in c.note and "[0.79, 0.99]" in c.note
    assert c.ours["theta_min"] == -0.00093
    assert cl.claim_s42(_s42(n_neg=2), "paper").verdict == "agree"
    assert cl.claim_s42(_s42(n_neg=3), "paper").verdict == "disagree"
    assert cl.claim_s42(_s42(n_neg=0, theta_min=0.0), "paper").verdict == "agree"
    assert cl.claim_s42(_s42(theta_min=-0.0099), "paper").verdict == "agree"
    assert cl.claim_s42(_s42(theta_min=-0.0101), "paper").verdict == "disagree"
    assert cl.claim_s42(_s42(rho0=0.80), "paper").verdict == "agree"
    assert cl.claim_s42(_s42(rho0=0.78), "paper").verdict == "disagree"
    assert cl.claim_s42(_s42(rho0=0.995), "paper").verdict == "disagree"
    assert cl.claim_s42(_s42(theta0=-0.00099), "paper").verdict == "agree"
    assert cl.claim_s42(_s42(theta0=0.0011), "paper").verdict == "disagree"


def test_s42_not_checkable():
    s = _s42(n_neg=5, theta_min=-0.3)
    for prof in ("smoke", "default"):
        new = cl.claim_s42(s, prof)
        old = cl.claim_value("S42", "C10 Overfit Aug: λn = -0.00093 with ρ = 0.085; largest spike 0.889 at 1e-4",
                             "n_neg <= 2, |θ_neg| < 0.01, ρ₀ in [0.79, 0.99]",
                             {"n_neg": s["n_neg"], "top3": s["top3"]}, prof,
                             check="n_neg <= 2, every negative |θ| < 0.01, ρ₀ in [0.79, 0.99] at |λ₀| < 1e-3")
        assert new.verdict == "not_checkable" and _same(new, old)
    assert cl.claim_s42(_s42(), "paper", substituted=True).verdict == "not_checkable"


# ------------------------------------------------------------------------------------------------------
# S22-S27 extremes (both ends), S35 value form, S19 Normal losses
# ------------------------------------------------------------------------------------------------------
def test_extremes_paper_values_pass_and_each_end_decides():
    for num, (_, _, _, (lo, hi), _, cid) in pp.MAIN_FIGURES.items():
        assert cl.claim_extremes(cid, num, (lo, hi), (lo, hi), "paper").verdict == "agree", num
        # θ_max 30 % high fails everywhere
        assert cl.claim_extremes(cid, num, (lo, hi), (lo, 1.3 * hi), "paper").verdict == "disagree", num
    # Empirical θ_min: ±25 %
    assert cl.claim_extremes("S22", 1, (-6.54, 20.56), (-6.54 * 1.2, 20.56), "paper").verdict == "agree"
    assert cl.claim_extremes("S22", 1, (-6.54, 20.56), (-6.54 * 1.3, 20.56), "paper").verdict == "disagree"
    # Augmented bands
    assert cl.claim_extremes("S23", 4, (-0.014, 3.026), (-0.049, 3.0), "paper").verdict == "agree"
    assert cl.claim_extremes("S23", 4, (-0.014, 3.026), (-0.051, 3.0), "paper").verdict == "disagree"
    assert cl.claim_extremes("S23", 4, (-0.014, 3.026), (0.0, 3.0), "paper").verdict == "disagree"   # [-0.05, 0)
    assert cl.claim_extremes("S25", 3, (-0.0061, 0.5825), (-0.031, 0.58), "paper").verdict == "disagree"
    assert cl.claim_extremes("S27", 8, (-9e-4, 15.6), (0.0, 15.6), "paper").verdict == "agree"      # (-0.01, 0]
    assert cl.claim_extremes("S27", 8, (-9e-4, 15.6), (-0.011, 15.6), "paper").verdict == "disagree"
    assert cl.claim_extremes("S27", 7, (2e-5, 45.68), (-0.04, 45.68), "paper").verdict == "agree"   # >= -1e-3 θ_max
    assert cl.claim_extremes("S27", 7, (2e-5, 45.68), (-0.05, 45.68), "paper").verdict == "disagree"
    c = cl.claim_extremes("S23", 4, (-0.014, 3.026), (-0.2, 0.3), "default")
    assert c.verdict == "not_checkable" and STAND_IN in c.note and c.ours == [-0.2, 0.3]
    assert cl.claim_extremes("S23", 4, (-0.014, 3.026), (-0.01, 3.0), "paper", substituted=True).verdict == \
        "not_checkable"


def test_s35_value_form():
    paper = {"c100": 45.68 / 3.025, "c10": 15.6 / 0.5825}
    assert cl.claim_overfit_sharper_value(paper, {"c100": 8.0, "c10": 14.0}, "paper").verdict == "agree"
    assert cl.claim_overfit_sharper_value(paper, {"c100": 7.0, "c10": 14.0}, "paper").verdict == "disagree"
    # the substituted CIFAR-100 slot is left out; with nothing left, not checkable
    assert cl.claim_overfit_sharper_value(paper, {"c100": 1.0, "c10": 14.0}, "paper",
                                          substituted=["c100"]).verdict == "agree"
    assert cl.claim_overfit_sharper_value({"c100": 15.1}, {"c100": 15.0}, "paper",
                                          substituted=["c100"]).verdict == "not_checkable"
    assert cl.claim_overfit_sharper_value(paper, {"c100": 15.0, "c10": 27.0}, "default").verdict == "not_checkable"


def test_s19_normal_losses():
    assert cl.claim_table2_normal_losses(0.2, 0.004, paper_scale=True).verdict == "agree"
    assert cl.claim_table2_normal_losses(0.24, 0.004, paper_scale=True).verdict == "disagree"
    assert cl.claim_table2_normal_losses(0.18, 0.0034).verdict == "not_checkable"
