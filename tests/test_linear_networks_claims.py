"""Claim rules of the linear-networks paper (``papers/linear_networks/claims.py``): every rule on numbers on
both sides of its threshold, the errata rules, and the shared comparisons they use."""

from __future__ import annotations

import numpy as np
import pytest

from hessian_spectra import linear_nets as ln
from hessian_spectra.papers.linear_networks import claims as cl
from hessian_spectra.pipeline.claims import Claim, combine_verdicts, verdict_at_most


def _row(alpha, lam, eq14=None, proj=None, init=None, status="ok", alpha_max=None):
    return {"alpha_actual": alpha, "alpha_max": alpha if alpha_max is None else alpha_max, "lambda_final": lam,
            "lambda_init": lam if init is None else init,
            "eq14": ln.sharpness_eq14(4, alpha) if eq14 is None else eq14,
            "eq14_projected": lam if proj is None else proj, "status": status}


ALPHAS = (0.1, 0.5, 1.0)


def _sweep(values, **kw):
    return [_row(a, v, **kw) for a, v in zip(ALPHAS, values)]


# ------------------------------------------------------------------------------------------------
# shared comparisons (pipeline/claims.py)


def test_verdict_at_most_and_combine_verdicts():
    assert verdict_at_most(1e-10, 1e-9) == "agree"
    assert verdict_at_most(1e-9, 1e-9) == "agree"
    assert verdict_at_most(2e-9, 1e-9) == "disagree"
    with pytest.raises(ValueError, match="needs numbers"):
        verdict_at_most(float("nan"), 1.0)
    assert combine_verdicts(["agree", "agree"]) == "agree"
    assert combine_verdicts(["agree", "not_checkable"]) == "not_checkable"
    assert combine_verdicts(["not_checkable", "disagree"]) == "disagree"
    assert combine_verdicts(["agree", "paper_erratum"]) == "disagree"
    with pytest.raises(ValueError, match="at least one"):
        combine_verdicts([])
    with pytest.raises(ValueError, match="unknown verdicts"):
        combine_verdicts(["agree", "maybe"])


# ------------------------------------------------------------------------------------------------
# exact identities: S3, S7, S29 (relative 1e-9), E13, S16, S17, S18


def _trace_check(rel_g, rel_h, loss=1.0, gap=0.5):
    return {"max_rel_diff_ggn": rel_g, "max_rel_diff_hessian": rel_h, "dims": [4, 3, 2], "rows": [{}, {}],
            "min_loss": loss, "min_hessian_minus_ggn_max": gap}


def test_s3_and_e13_trace_rules():
    c = cl.s3_trace_eq7(_trace_check(5e-10, 8e-10))
    assert isinstance(c, Claim) and c.id == "S3" and c.verdict == "agree"
    assert c.ours["max_rel_diff_hessian"] == 8e-10 and c.ours["points"] == 2
    assert cl.s3_trace_eq7(_trace_check(5e-10, 2e-9)).verdict == "disagree"
    assert cl.s3_trace_eq7(_trace_check(2e-9, 5e-10)).verdict == "disagree"
    e = cl.e13_trace_framing(_trace_check(1e-16, 1e-16))
    assert e.id == "E13" and e.verdict == "agree" and "weakly" in e.note
    assert cl.e13_trace_framing(_trace_check(1e-16, 3e-9)).verdict == "disagree"
    assert cl.e13_trace_framing(_trace_check(1e-16, 1e-16, loss=0.0)).verdict == "not_checkable"
    assert cl.e13_trace_framing(_trace_check(1e-16, 1e-16, gap=0.0)).verdict == "not_checkable"


@pytest.mark.parametrize("rule", [cl.s7_eq9_full_range, cl.s29_eq15_full_range])
def test_full_range_spectrum_rules(rule):
    theory = np.array([4.0, 2.0, 1.0, 0.0, 0.0])
    ok = theory * (1 + 5e-10) + np.array([0, 0, 0, 2e-9, -1e-9])  # zeros within 1e-9 lambda_max = 4e-9
    c = rule(ok, theory, [3, 2, 2])
    assert c.verdict == "agree" and c.ours["predicted_nonzero"] == 3 and c.ours["p"] == 5
    assert c.ours["max_rel_error_nonzero"] == pytest.approx(5e-10, rel=1e-6)
    bad_rel = theory.copy()
    bad_rel[2] = 1.0 + 2e-9
    assert rule(bad_rel, theory, [3, 2, 2]).verdict == "disagree"
    bad_zero = theory.copy()
    bad_zero[3] = 5e-9  # 1.25e-9 lambda_max
    c = rule(bad_zero, theory, [3, 2, 2])
    assert c.verdict == "disagree" and c.ours["max_abs_at_predicted_zeros_over_lambda_max"] == pytest.approx(1.25e-9)
    with pytest.raises(ValueError, match="differ in length"):
        rule(theory[:4], theory, [3, 2, 2])


def test_s16_s18_s17_exact_rules():
    assert cl.s16_eq13_synthetic(3e-12).verdict == "agree"
    assert cl.s16_eq13_synthetic(2e-9).verdict == "disagree"
    assert cl.s18_eq14_at_zero_loss(41.46832380097855, 41.46832380097851).verdict == "agree"
    c = cl.s18_eq14_at_zero_loss(41.47, 41.46)
    assert c.verdict == "disagree" and c.paper_value == 41.46 and c.ours == 41.47
    rows = [{"dataset": "mnist", "max_abs_diff": 2e-17, "max_offdiag_YYt": 0.0},
            {"dataset": "cifar10", "max_abs_diff": 0.0, "max_offdiag_YYt": 0.0}]
    c = cl.s17_label_proportions(rows)
    assert c.verdict == "agree" and c.ours["subsets"] == 2 and c.ours["datasets"] == ["cifar10", "mnist"]
    assert cl.s17_label_proportions(rows + [{"dataset": "mnist", "max_abs_diff": 1e-8, "max_offdiag_YYt": 0.0}]).verdict \
        == "disagree"
    assert cl.s17_label_proportions(rows + [{"dataset": "mnist", "max_abs_diff": 0.0, "max_offdiag_YYt": 1.0}]).verdict \
        == "disagree"
    with pytest.raises(ValueError):
        cl.s17_label_proportions([])


def test_s17_on_real_identity():
    import torch

    y = torch.tensor([0, 0, 0, 1, 2, 2, 0, 1])
    rows = [{"dataset": "toy", **ln.label_proportion_identity(y, 4)}]
    assert rows[0]["proportions_counts"] == pytest.approx([0.5, 0.25, 0.25, 0.0])
    assert cl.s17_label_proportions(rows).verdict == "agree"


# ------------------------------------------------------------------------------------------------
# Fig. 1(a): S14, S15 and the count errata S8, S30


def test_s14_rule_relative_above_floor_and_absolute():
    theory = np.array([40.0, 1.0, 1e-8, 1e-12])  # floor 1e-10 lambda_max = 4e-9
    c = cl.s14_eigenvalues_from_labels(theory * (1 + 5e-11) + np.array([0, 0, 0, 2e-12]), theory, 4)
    assert c.verdict == "agree"  # the bottom eigenvalue is off by 200 %, but below the floor and within 4e-9
    assert c.ours["num_above_1e-10_lmax"] == 3 and c.ours["lambda_max"] == pytest.approx(40.0)
    assert c.ours["max_abs_error"] == pytest.approx(2e-9, rel=1e-3)
    # relative error 2e-6 above the floor (absolute 2e-14, fine)
    assert cl.s14_eigenvalues_from_labels(theory + np.array([0, 0, 2e-14, 0]), theory, 4).verdict == "disagree"
    # absolute error above 1e-10 lambda_max (5e-9 > 4e-9) at an eigenvalue below the floor
    assert cl.s14_eigenvalues_from_labels(theory + np.array([0, 0, 0, 5e-9]), theory, 4).verdict == "disagree"
    with pytest.raises(ValueError, match="out of range"):
        cl.s14_eigenvalues_from_labels(theory, theory, 5)


def test_s15_count_rule():
    c = cl.s15_count_fig1a(400, True, 36.0, 3.2e-14, 400, 400, 1.15e-12)
    assert c.verdict == "agree" and c.ours["numeric_count_gap_rule"] == 400 and c.paper_value == 400
    assert cl.s15_count_fig1a(399, True, 36.0, 3.2e-14, 400, 400, 1.15e-12).verdict == "disagree"
    assert cl.s15_count_fig1a(400, False, 3.0, 3.2e-14, 400, 400, 1.15e-12).verdict == "not_checkable"


@pytest.mark.parametrize("rule,cid", [(cl.s8_count_sec3, "S8"), (cl.s30_count_appb, "S30")])
def test_count_erratum_rules(rule, cid):
    c = rule(25, 150, True, 150, [30, 8, 8, 5], examples=[{"dims": [784, 64, 10], "true": 7840}])
    assert c.id == cid and c.verdict == "paper_erratum"
    assert c.ours["paper_bound"] == 25 and c.ours["numeric_count_gap_rule"] == 150
    assert rule(25, 25, True, 25, [5, 5, 5]).verdict == "agree"
    assert rule(25, 20, True, 20, [5, 5, 4]).verdict == "agree"  # "at most" is a bound
    assert rule(25, 150, False, 150, [30, 8, 8, 5]).verdict == "not_checkable"


def test_gap_count_on_noise_and_spectra():
    eps = np.finfo(float).eps
    noise = np.array([3e-14, -3.2e-14, 1e-15, -2e-15, 2.9e-14])
    spec = np.concatenate([[41.0, 3.6e-9, 1.15e-12], noise])
    res = ln.numerical_nonzero_count(spec)
    assert res.count == 3 and res.resolved and res.noise == pytest.approx(3.2e-14)
    assert res.gap == pytest.approx(1.15e-12 / 3.2e-14)  # over the largest |other| (the negative noise)
    # an eigenvalue inside the gap (sqrt(10) delta, 10 delta] = (1.01e-13, 3.2e-13] leaves the count unresolved
    res = ln.numerical_nonzero_count(np.concatenate([[41.0, 2e-13], noise]))
    assert res.count == 1 and not res.resolved
    res = ln.numerical_nonzero_count(np.concatenate([[41.0, 4e-13], noise]))  # above the gap: counted
    assert res.count == 2 and res.resolved and res.gap == pytest.approx(12.5)
    res = ln.numerical_nonzero_count(np.concatenate([[41.0, 1e-12], noise, [9e-14]]))  # positive noise 2.8 delta
    assert res.count == 2 and res.resolved
    # no negative eigenvalue: the noise level is eps lambda_max
    res = ln.numerical_nonzero_count([2.0, 1.0, 1e-17])
    assert res.noise == pytest.approx(2 * eps) and res.count == 2 and res.resolved
    with pytest.raises(ValueError, match="not PSD"):
        ln.numerical_nonzero_count([1.0, -0.5])
    with pytest.raises(ValueError, match="no positive"):
        ln.numerical_nonzero_count([0.0, -1e-20])
    with pytest.raises(ValueError, match="min_gap"):
        ln.numerical_nonzero_count([1.0], min_gap=1.0)


# ------------------------------------------------------------------------------------------------
# Fig. 1(b), (c): S13, S19, S20, S21, S22, E5


def test_s13_rule():
    assert cl.s13_stays_balanced([1e-4, 2.2e-3, float("nan")]).verdict == "agree"
    c = cl.s13_stays_balanced([1e-4, 2e-2])
    assert c.verdict == "disagree" and c.ours == 2e-2
    assert cl.s13_stays_balanced([float("nan")]).verdict == "not_checkable"


def test_s19_rule():
    def rows(vals, a=0.5):
        return [{"dataset": "mnist", "alpha_max": a, "n": n, "lambda_star": v} for n, v in zip((1000, 2000, 5000), vals)]

    c = cl.s19_independent_of_n(rows([2.35, 2.27, 2.24]))
    assert c.verdict == "agree" and c.ours["non_increasing_in_n"]
    assert c.ours["max_over_min_by_dataset_alpha"]["mnist|0.5"] == pytest.approx(2.35 / 2.24)
    assert cl.s19_independent_of_n(rows([2.50, 2.27, 2.24])).verdict == "disagree"  # ratio 1.116 > 1.10
    assert cl.s19_independent_of_n(rows([2.24, 2.27, 2.25])).verdict == "disagree"  # increases with n


def test_s20_rule():
    L = np.arange(1, 21)
    a = np.linspace(0.1, 1.0, 91)
    Z = ln.sharpness_eq14(L[:, None], a[None, :], 1.0)
    c = cl.s20_depth_amplifies(L, a, Z)
    assert c.verdict == "agree" and c.ours["decrease_L1_to_L2_for_alpha_below"] == pytest.approx(0.24)
    assert c.ours["alpha=0.1, L=1..5"] == {1: 1.0, 2: 0.632, 3: 0.646, 4: 0.711, 5: 0.792}
    Z2 = Z.copy()
    Z2[10, 5] = Z2[9, 5] * 0.99  # one decrease at L = 11
    assert cl.s20_depth_amplifies(L, a, Z2).verdict == "disagree"
    with pytest.raises(ValueError, match="L_grid"):
        cl.s20_depth_amplifies(L[1:], a, Z[1:])


def test_s21_rule():
    assert cl.s21_sharper_with_majority({"mnist": _sweep([0.69, 2.24, 3.90])}).verdict == "agree"
    c = cl.s21_sharper_with_majority({"mnist": _sweep([0.69, 2.24, 3.90]), "fmnist": _sweep([0.7, 2.5, 2.4])})
    assert c.verdict == "disagree" and c.ours["fmnist"] == pytest.approx(0.5)
    assert cl.s21_sharper_with_majority({"m": _sweep([0.69, 2.24, 3.90])[:2]}).verdict == "not_checkable"
    diverged = _sweep([0.69, 2.24, 3.90])
    diverged[1] = {**diverged[1], "status": "diverged", "lambda_final": float("nan")}
    assert cl.s21_sharper_with_majority({"m": diverged}).verdict == "not_checkable"


def test_s22_and_e5_rules():
    eq = [ln.sharpness_eq14(4, a) for a in ALPHAS]
    below = [0.85 * e for e in eq]  # 15 % below Eq. (14), on lambda* to 0.1 %
    sweeps = {"mnist": [_row(a, v, proj=v * 1.001) for a, v in zip(ALPHAS, below)]}
    s22 = cl.s22_trained_vs_eq14(sweeps)
    assert s22.verdict == "agree" and s22.ours["gap_to_eq14_pct_min"] == pytest.approx(-15)
    assert s22.ours["within_2pct_of_projected"]
    assert cl.e5_projected_labels(sweeps).verdict == "paper_erratum"
    far = {"mnist": [_row(a, 0.75 * e, proj=0.75 * e) for a, e in zip(ALPHAS, eq)]}
    assert cl.s22_trained_vs_eq14(far).verdict == "disagree"  # 25 % below
    exact = {"mnist": [_row(a, 1.01 * e, proj=0.9 * e) for a, e in zip(ALPHAS, eq)]}
    assert cl.e5_projected_labels(exact).verdict == "agree"  # within 2 % of Eq. (14)
    neither = {"mnist": [_row(a, 0.9 * e, proj=0.95 * e) for a, e in zip(ALPHAS, eq)]}
    c = cl.e5_projected_labels(neither)
    assert c.verdict == "disagree" and c.ours["max_gap_to_eq14_pct"] == pytest.approx(10)


# ------------------------------------------------------------------------------------------------
# Fig. 2: S23-S28, S34, E10, E16


def test_s23_rule():
    eq = [ln.sharpness_eq14(4, a) for a in ALPHAS]
    far = {"mnist": _sweep([30.0, 35.0, 40.0]), "cifar10": _sweep([np.nan] * 3, status="diverged")}
    c = cl.s23_raw_inputs(far, depth=4)
    assert c.verdict == "agree" and c.ours["more_than_2x_away_from_eq14_at_every_alpha"] == {"mnist": True}
    assert c.ours["non_monotone"] == {"mnist": False}
    below = {"mnist": _sweep([0.4 * e for e in eq])}  # 2.5x below is also "away"
    assert cl.s23_raw_inputs(below, depth=4).verdict == "agree"
    nonmono = {"mnist": _sweep([eq[0], 1.1 * eq[1], 0.9 * eq[1]])}
    assert cl.s23_raw_inputs(nonmono, depth=4).verdict == "agree"
    close = {"mnist": _sweep([1.5 * e for e in eq])}  # monotone and within 2x
    assert cl.s23_raw_inputs(close, depth=4).verdict == "disagree"
    assert cl.s23_raw_inputs({"c": _sweep([np.nan] * 3, status="diverged")}, depth=4).verdict == "not_checkable"


def test_e16_rule():
    ok = {"mnist": _sweep([30.0, 35.0, 40.0])}
    assert cl.e16_raw_inputs_diverge(ok, 0.01).verdict == "agree"
    bad = {**ok, "cifar10": _sweep([np.nan] * 3, init=620.0, status="diverged")}
    c = cl.e16_raw_inputs_diverge(bad, 0.01)
    assert c.verdict == "not_checkable" and c.ours["cifar10"]["two_over_eta"] == pytest.approx(200)
    assert c.ours["cifar10"]["lambda_init"] == [620.0] * 3


def test_s24_rule():
    white = {"mnist": _sweep([0.7, 2.2, 3.9], init=5.85)}
    raw = {"mnist": _sweep([25.0, 31.0, 38.7], init=64.0), "cifar10": _sweep([np.nan] * 3, status="diverged")}
    c = cl.s24_input_geometry(raw, {**white, "cifar10": white["mnist"]})
    assert c.verdict == "agree" and c.ours == {"mnist": pytest.approx(64.0 / 5.85)}
    low = {"mnist": _sweep([20.0, 25.0, 29.0], init=25.0)}  # 29 / 5.85 = 4.96 < 5
    assert cl.s24_input_geometry(low, white).verdict == "disagree"
    assert cl.s24_input_geometry({"mnist": _sweep([np.nan] * 3, status="diverged")}, white).verdict == "not_checkable"


def test_s25_s26_rules():
    eq = [ln.sharpness_eq14(4, a) for a in ALPHAS]
    good = {"mnist": _sweep([1.38 * eq[0], 1.09 * eq[1], 1.07 * eq[2]])}
    assert cl.s25_kaiming_monotone(good).verdict == "agree"
    assert cl.s26_kaiming_vs_eq14(good).verdict == "agree"
    assert cl.s26_kaiming_vs_eq14(good).ours["gap_pct_max"] == pytest.approx(38)
    flat = {"mnist": _sweep([3.0, 2.0, 4.0])}
    assert cl.s25_kaiming_monotone(flat).verdict == "disagree"
    off = {"mnist": _sweep([1.55 * eq[0], 1.09 * eq[1], 1.07 * eq[2]])}  # 55 % above at alpha = 0.1
    assert cl.s26_kaiming_vs_eq14(off).verdict == "disagree"


def test_s27_reference_depends_on_scale():
    eq = [ln.sharpness_eq14(4, a) for a in ALPHAS]
    twin = {"mnist": _sweep([0.675, 2.261, 3.909])}
    tanh_near_twin = {"mnist": _sweep([0.645, 1.909, 3.344])}  # -4 .. -16 % from the twin, -9 .. -20 % from Eq. 14
    c = cl.s27_tanh(tanh_near_twin, twin, "reduced")
    assert c.verdict == "agree" and c.ours["reference"].startswith("linear twin")
    assert c.ours["gap_pct_min"] == pytest.approx(100 * (1.909 - 2.261) / 2.261)
    assert c.ours["gap_to_eq14_pct_min"] == pytest.approx(100 * (1.909 - eq[1]) / eq[1])
    tanh_far = {"mnist": _sweep([0.645, 1.5, 3.344])}  # -34 % from the twin at alpha = 0.5
    assert cl.s27_tanh(tanh_far, twin, "reduced").verdict == "disagree"
    # at the paper's scale the reference is Eq. (14)
    at_paper = {"mnist": _sweep([0.9 * e for e in eq])}
    c = cl.s27_tanh(at_paper, {}, "paper")
    assert c.verdict == "agree" and c.ours["reference"] == "Eq. (14)"
    assert cl.s27_tanh({"mnist": _sweep([0.65 * e for e in eq])}, {}, "paper").verdict == "disagree"
    nonmono = {"mnist": _sweep([0.675, 2.4, 2.2])}
    assert cl.s27_tanh(nonmono, twin, "reduced").verdict == "disagree"
    with pytest.raises(ValueError, match="no linear twin"):
        cl.s27_tanh(tanh_near_twin, {"mnist": twin["mnist"][:2]}, "reduced")


def _claim(cid, verdict):
    return Claim(cid, "s", None, None, verdict, "n")


def test_s28_s34_aggregate_rules():
    a, d, nc = "agree", "disagree", "not_checkable"
    assert cl.s28_abstract_label_proportion(_claim("S21", a), _claim("S25", a), _claim("S27", a)).verdict == a
    c = cl.s28_abstract_label_proportion(_claim("S21", a), _claim("S25", a), _claim("S27", d))
    assert c.verdict == d and c.ours == {"S21": a, "S25": a, "S27": d}
    assert cl.s28_abstract_label_proportion(_claim("S21", a), _claim("S25", a), _claim("S27", nc)).verdict == nc
    c = cl.s34_abstract_robust(_claim("S25", a), _claim("S26", a), _claim("S27", a), _claim("S23", a))
    assert c.verdict == a and c.ours["S23_exception"] == a
    assert cl.s34_abstract_robust(_claim("S25", a), _claim("S26", d), _claim("S27", a), _claim("S23", a)).verdict == d


def test_e10_rule():
    assert cl.e10_tanh_init("unbalanced", "balanced", "balanced").verdict == "paper_erratum"
    assert cl.e10_tanh_init("balanced", "balanced", "balanced").verdict == "agree"


# ------------------------------------------------------------------------------------------------
# Figs. 3 and 4: S4, S12, S10, S32


def test_s4_rule():
    rows = {"mnist": [{"epoch": 0, "eq7": 563.36, "hutchinson": 563.47, "hutchinson_se": 2.51},
                      {"epoch": 300, "eq7": 473.42, "hutchinson": 474.61, "hutchinson_se": 2.11}]}
    c = cl.s4_hutchinson_vs_eq7(rows)
    assert c.verdict == "agree" and c.ours["epoch0_z"]["mnist"] == pytest.approx(0.11 / 2.51)
    assert c.ours["max_abs_z"] == pytest.approx(1.19 / 2.11)
    far_z = {"mnist": [{"epoch": 0, "eq7": 100.0, "hutchinson": 101.0, "hutchinson_se": 0.3}]}  # z = 3.3, 1 %
    assert cl.s4_hutchinson_vs_eq7(far_z).verdict == "disagree"
    far_rel = {"mnist": [{"epoch": 0, "eq7": 100.0, "hutchinson": 102.5, "hutchinson_se": 1.0}]}  # z = 2.5, 2.5 %
    assert cl.s4_hutchinson_vs_eq7(far_rel).verdict == "disagree"


def test_s12_rule():
    def rows(t300, n300):
        return {"mnist": [{"epoch": 0, "eq11": 10.0, "param_norm_sq": 5.0},
                          {"epoch": 300, "eq11": t300, "param_norm_sq": n300}]}

    c = cl.s12_progressive_flattening(rows(9.0, 4.9), "eq11", "Eq. (11)")
    assert c.verdict == "agree" and c.ours["mnist"]["trace_300"] == 9.0 and "Eq. (11)" in c.statement
    assert cl.s12_progressive_flattening(rows(11.0, 4.9), "eq11", "Eq. (11)").verdict == "disagree"
    assert cl.s12_progressive_flattening(rows(9.0, 5.1), "eq11", "Eq. (11)").verdict == "disagree"
    no300 = {"mnist": [{"epoch": 0, "eq7": 1.0, "param_norm_sq": 1.0}, {"epoch": 200, "eq7": 0.5, "param_norm_sq": 0.5}]}
    assert cl.s12_progressive_flattening(no300, "eq7", "Eq. (7)").verdict == "not_checkable"


def test_s10_rule():
    rows = {"mnist": [{"epoch": 0, "lobpcg": [1.427], "max_layer_norm_sq": 1.0, "eq10": 1.291},
                      {"epoch": 10, "lobpcg": [1.1789], "max_layer_norm_sq": 0.8, "eq10": 1.1789}]}
    c = cl.s10_max_eigenvalue(rows, 41.96387, 41.96387)
    assert c.verdict == "agree" and c.ours["mnist"]["min_ratio_lambda1_over_max_layer_norm_sq"] == pytest.approx(1.427)
    close = {"mnist": [{**rows["mnist"][0], "max_layer_norm_sq": 1.42}]}  # 0.5 % above
    assert cl.s10_max_eigenvalue(close, 41.96387, 41.96387).verdict == "disagree"
    assert cl.s10_max_eigenvalue(rows, 41.96387, 41.9) .verdict == "disagree"  # Eq. (10) not the GGN's lambda_max


def test_s32_rule():
    def rows(errs):
        return {"mnist": [{"epoch": e, "pct_error": [v, v]} for e, v in zip((0, 10, 100, 1000), errs)]}

    c = cl.s32_increasingly_precise(rows([9.5, 8.0, 3.9, 0.006]))
    assert c.verdict == "agree" and c.ours["mnist"]["fall"] == pytest.approx(9.5 / 0.006)
    assert cl.s32_increasingly_precise(rows([9.5, 10.0, 3.9, 0.006])).verdict == "agree"  # one violation allowed
    assert cl.s32_increasingly_precise(rows([9.5, 10.0, 3.9, 5.0])).verdict == "disagree"  # falls < 10x
    assert cl.s32_increasingly_precise(rows([9.5, 10.0, 3.9, 4.0])).verdict == "disagree"
    c = cl.s32_increasingly_precise(rows([1.0, 2.0, 3.0, 0.05]))  # two violations, falls 20x
    assert c.verdict == "disagree" and c.ours["mnist"]["violations"] == 2


# ------------------------------------------------------------------------------------------------
# the committed figures evaluate exactly the claims the catalog lists for them


def test_committed_figures_evaluate_the_catalogued_claims():
    import json
    import re
    from pathlib import Path

    from hessian_spectra.pipeline.catalog import load_catalog

    repo = Path(__file__).resolve().parents[1]
    paper = next(p for p in load_catalog() if p.key == "linear_networks")
    for item in paper.items:
        for out in item.outputs:
            if not out.endswith(".json") or not (repo / out).exists():
                continue
            rec = json.loads((repo / out).read_text())
            scored = {c["id"] for c in rec["claims"] if re.fullmatch(r"S\d+", c["id"])}
            assert scored == {c.id for c in item.claims}, item.id
