"""Papyan (2020) claim rules: metrics and verdicts on constructed numbers (both sides of every threshold)."""

from __future__ import annotations

import numpy as np
import pytest
from hessian_spectra.papers.papyan2020 import claims as cl

C = 4


def spectrum(n_out: int, top: float = 10.0, bulk: float = 1.0, d: int = 50) -> np.ndarray:
    """n_out outliers at top/k^0.1 above a bulk decaying slowly from ``bulk``."""
    out = top / np.arange(1, n_out + 1) ** 0.1
    rest = bulk * np.linspace(1.0, 0.5, d - n_out)
    return np.concatenate([out, rest])


def test_gap_ratio_and_separated_count():
    e = spectrum(4)
    assert cl.gap_ratio(e, 4) == pytest.approx(10 / 4 ** 0.1)
    assert cl.separated_count(e, 8) == 4
    assert cl.separated_count(spectrum(0), 8) == 0
    assert cl.separated_count([10, 1, 0.9, 0.1], 2) == 1  # gaps beyond k_max are ignored
    assert np.isnan(cl.gap_ratio([1.0, 0.0], 1))  # λ_(k+1) <= 0
    assert cl.whisker_ratio([8, 4, 2, 1], 4) == 4.0


def test_count_modes():
    x = np.linspace(-5, 5, 400)
    one = np.exp(-x ** 2)
    three = np.exp(-(x + 3) ** 2 / 0.1) * 1e-2 + np.exp(-x ** 2 / 0.1) + np.exp(-(x - 3) ** 2 / 0.1) * 1e-3 + 1e-9
    assert cl.count_modes(one) == 1
    assert cl.count_modes(three) == 3


def test_fig1_and_theorem_rules():
    levels = np.concatenate([[20], [2, 2, 2], np.full(12, 0.1), np.full(40, 0.01)])
    assert cl.claim_f1_levels(levels, 4).verdict == "agree"
    flat = np.concatenate([[20], [2, 2, 2], np.full(52, 0.1)])
    assert cl.claim_f1_levels(flat, 4).verdict == "disagree"
    assert cl.claim_thm81_closed_form(1e-15, 1.0).verdict == "agree"
    assert cl.claim_thm81_closed_form(1e-9, 1.0).verdict == "disagree"
    assert cl.claim_thm81_simulation({"a": 0.01, "b": 0.04}, 0.05).verdict == "agree"
    assert cl.claim_thm81_simulation({"a": 0.01, "b": 0.06}, 0.05).verdict == "disagree"
    assert cl.claim_thm81_predictive([1, 2, 3], [0.5, 0.2, 0.1], [1, 2, 3]).verdict == "agree"
    assert cl.claim_thm81_predictive([1, 2, 3], [0.1, 0.2, 0.5], [1, 2, 3]).verdict == "disagree"


def test_hessian_rules():
    top = spectrum(4)[:4]
    assert cl.claim_f3_outliers("x", top, 1.0, 4).verdict == "agree"        # C
    assert cl.claim_f3_outliers("x", [10, 9, 8, 1.2], 1.0, 4).verdict == "agree"  # C − 1
    assert cl.claim_f3_outliers("x", [10, 2, 1.9, 1.8], 1.7, 4).verdict == "disagree"
    g = np.linspace(-1, 3, 401)
    d = np.exp(-np.abs(g) * 5)
    assert cl.claim_f3_bulk_at_zero("x", g, d, -1.0, 3.0).verdict == "agree"
    assert cl.claim_f3_bulk_at_zero("x", g, np.exp(-np.abs(g - 1) * 5), -1.0, 3.0).verdict == "disagree"
    assert cl.claim_f3_negative("x", -0.01, 10).verdict == "agree"
    assert cl.claim_f3_negative("x", -1e-9, 10).verdict == "disagree"
    assert cl.claim_f3_train_test_scale("x", 10, 5).verdict == "agree"
    assert cl.claim_f3_train_test_scale("x", 10, 11).verdict == "disagree"
    assert cl.claim_f4_bulk_width("x", (-0.1, 0.3), (-1, 1)).verdict == "agree"
    assert cl.claim_f4_bulk_width("x", (-0.5, 0.6), (-1, 1)).verdict == "disagree"
    assert cl.claim_f4_interlacing("x", [10, 8, 6, 4], [9.5, 7.2, 5.5, 3.4], 4).verdict == "agree"
    assert cl.claim_f4_interlacing("x", [10, 8, 6, 4], [9.5, 7.2, 5.5, 3.0], 4).verdict == "disagree"
    assert cl.claim_f4_residual_no_outliers("x", [1, 0.95, 0.9, 0.85, 0.8], -1.2, 1.0, 4).verdict == "agree"
    assert cl.claim_f4_residual_no_outliers("x", [5, 0.95, 0.9, 0.85, 0.8], -1.2, 5.0, 4).verdict == "disagree"
    assert cl.claim_f14_bumps("x", g, d + 0.01 * np.exp(-(g - 2.5) ** 2 / 0.001), 2.0).verdict == "agree"
    assert cl.claim_f14_bumps("x", g, d, 2.0).verdict == "disagree"


def test_fig15_16_17_rules():
    assert cl.claim_f15_fit("a", 0.1, [6.25, 5.33, 4.5], [6.25, 5.33, 4.49]).verdict == "agree"
    assert cl.claim_f15_fit("a", 0.1, [6.25, 5.33, 4.3], [6.25, 5.33, 4.49]).verdict == "disagree"
    assert cl.claim_f15_fit("b", 0.3).verdict == "disagree"
    fit = {"exponent": -2.6, "prefactor": 1e-4, "r2": 0.98, "lo": 1, "hi": 2}
    assert cl.claim_f16_power_law("a", fit, "default").verdict == "not_checkable"
    assert cl.claim_f16_power_law("a", fit, "paper").verdict == "agree"
    assert cl.claim_f16_power_law("b", fit, "paper").verdict == "agree"
    assert cl.claim_f16_power_law("a", {**fit, "exponent": -1.5}, "paper").verdict == "disagree"
    assert cl.claim_f16_symmetry(0.05).verdict == "agree" and cl.claim_f16_symmetry(0.2).verdict == "disagree"
    assert cl.claim_f16_tail(fit).verdict == "agree" and cl.claim_f16_tail({**fit, "r2": 0.8}).verdict == "disagree"
    assert cl.claim_f17_subspace_accuracy([10, 5.0004], [10, 5], 2).verdict == "agree"
    assert cl.claim_f17_subspace_accuracy([10, 5.01], [10, 5], 2).verdict == "disagree"
    assert cl.claim_f17_bulk_resolution(None, None, "no exact spectrum").verdict == "not_checkable"
    assert cl.claim_f17_bulk_resolution(0.1, 0.3).verdict == "agree"


def _log_spec(centres, heights):
    u = np.linspace(np.log(1e-5), 3, 600)
    d = sum(h * np.exp(-(u - c) ** 2 / 0.05) for c, h in zip(centres, heights)) + 1e-12
    return {"grid_log": u, "density_log": d}


def test_fig5_rules():
    assert cl.claim_f5_three_bulks(3).verdict == "agree" and cl.claim_f5_three_bulks(2).verdict == "disagree"
    assert cl.claim_f5_class_outliers([10, 8, 6, 4], [6, 5, 4, 3], 3.0, 4).verdict == "agree"
    assert cl.claim_f5_class_outliers([10, 8, 6, 4], [4, 4, 3, 2], 3.0, 4).verdict == "disagree"  # ×2.5
    assert cl.claim_f5_class_outliers([10, 8, 6, 4], [6, 5, 4, 3], 5.0, 4).verdict == "disagree"  # not gone
    cross = np.exp(np.full(8, -2.0))
    before = _log_spec([-2.0, 0.0], [0.1, 1.0])
    after = _log_spec([0.0], [1.0])
    c = cl.claim_f5_cross_minibulk(before, after, cross, 4)
    assert c.verdict == "agree" and c.ours["side"] == "left"
    assert cl.claim_f5_cross_minibulk(after, after, cross, 4).verdict == "disagree"
    assert cl.claim_f5_within_rank(np.concatenate([np.ones(12), np.full(4, 1e-14)]), 4).verdict == "agree"
    assert cl.claim_f5_within_rank(np.ones(16), 4).verdict == "disagree"
    assert cl.claim_f5_same_class([10, 8, 6, 4], [9.5, 7.8, 5.9, 3.9], 4).verdict == "agree"
    assert cl.claim_f5_same_class([10, 8, 6, 4], [8.5, 7.8, 5.9, 3.9], 4).verdict == "disagree"


def _panel(top, low, red, nodes, weights, p=1000):
    return {"top_eigenvalues": np.asarray(top), "gram_low_rank": np.asarray(low), "within_mean_eigenvalue": np.asarray(red),
            "nodes": np.asarray(nodes), "weights": np.asarray(weights), "p": p}


def test_fig6_rules():
    low = np.concatenate([[8, 6, 5, 4], np.full(8, 0.5), np.full(4, 1e-14)])
    nodes = np.concatenate([[0.6], np.linspace(0.01, 0.1, 9)])[None]
    weights = np.concatenate([[0.008], np.full(9, 0.992 / 9)])[None]
    good = _panel([9, 7, 5, 4], low, [0.05, 0.06, 0.04, 0.05], nodes, weights)
    assert cl.claim_f6_class_alignment([good], 4).verdict == "agree"
    assert cl.claim_f6_class_alignment([_panel([20, 7, 5, 4], low, [], nodes, weights)], 4).verdict == "disagree"
    assert cl.claim_f6_cross_alignment([good], 4).verdict == "agree"  # p·0.008 = 8 = C(C − 2)
    assert cl.claim_f6_cross_alignment([{**good, "weights": np.concatenate([[0.05], np.full(9, 0.95 / 9)])[None]}],
                                       4).verdict == "disagree"
    assert cl.claim_f6_within_in_bulk([good]).verdict == "agree"
    assert cl.claim_f6_within_in_bulk([{**good, "within_mean_eigenvalue": np.array([5.0])}]).verdict == "disagree"
    assert cl.claim_f6_teal_zero([good], 4).verdict == "agree"
    assert cl.claim_f6_teal_zero([{**good, "gram_low_rank": low + 1e-6}], 4).verdict == "disagree"
    sep = {(10, 1): 0.5, (10, 9): 1.0, (100, 1): 0.2, (100, 9): 0.6}
    assert cl.claim_f6_dynamics(sep, [10, 100], [1, 9]).verdict == "agree"
    assert cl.claim_f6_dynamics({**sep, (100, 9): 1.2}, [10, 100], [1, 9]).verdict == "disagree"


def test_layer_rules():
    assert cl.claim_f7_outliers_emerge("F7-1", "x", [1.2, 2, 5], [1.1, 1.2, 1.3]).verdict == "agree"
    assert cl.claim_f7_outliers_emerge("F7-1", "x", [5, 2, 1.2], [1.1, 1.2, 1.3]).verdict == "disagree"
    assert cl.claim_f7_outliers_emerge("F7-1", "x", [1.2, 2, 5], [1.1, 1.6, 1.3]).verdict == "disagree"
    assert cl.claim_f7_bulk_unchanged("x", [0.01, 0.04]).verdict == "agree"
    assert cl.claim_f7_bulk_unchanged("x", [0.01, 0.06]).verdict == "disagree"
    assert cl.claim_f7_global_mean("x", [0.95, 0.99, 0.5]).verdict == "agree"
    assert cl.claim_f7_global_mean("x", [0.5, 0.99, 0.5]).verdict == "disagree"
    assert cl.claim_f8_whiskers("F8-2", "x", [5, 3, 2], "s").verdict == "agree"
    assert cl.claim_f10_whiskers("x", [2, 3, 5]).verdict == "disagree"
    assert cl.claim_f9_class_knockout("x", [1.2, 2.0], [1.1, 1.2]).verdict == "agree"
    assert cl.claim_f9_class_knockout("x", [1.2, 1.4], [1.1, 1.2]).verdict == "disagree"
    C = 3
    after_class = np.concatenate([np.full(C * (C - 2), 10.0), np.ones(3), np.linspace(1, 0.5, 20)])
    after_both = np.concatenate([np.full(C * (C - 2), 1.1), np.ones(3), np.linspace(1, 0.5, 20)])
    assert cl.claim_f9_cross_knockout("x", after_class, after_both, C).verdict == "agree"
    assert cl.claim_f9_cross_knockout("x", after_both, after_both, C).verdict == "disagree"
    assert cl.claim_f9_cross_knockout("x", after_class[:8], after_both[:8], C).verdict == "not_checkable"  # width < 2 C(C − 1)
    # the knockouts' zeros at the bottom are no bulk: with as many zeros as the bulk has values, the median is still
    # the bulk's (it would be 0, and the ratio undefined, if they were counted)
    k = C * (C - 1)
    zeros = np.zeros(k)
    c = cl.claim_f9_cross_knockout("x", np.r_[after_class[:-k], zeros], np.r_[after_both[:-k], zeros], C)
    assert c.verdict == "agree" and np.isfinite(c.ours["ratio_after_class_and_cross"])
    assert cl.claim_f10_depth("F10-1", "x", [1.1, 3], "s").verdict == "agree"
    assert cl.claim_f10_depth("F10-1", "x", [3, 1.1], "s").verdict == "disagree"
    assert cl.claim_f11_cfac(0.1, 0.5).verdict == "agree" and cl.claim_f11_cfac(0.5, 0.1).verdict == "disagree"
    assert cl.claim_f12_layers("F12-1", "s", {7: (0.1, 0.5), 8: (0.2, 0.4)}).verdict == "agree"
    assert cl.claim_f12_layers("F12-1", "s", {7: (0.1, 0.5), 8: (0.5, 0.4)}).verdict == "disagree"
    assert cl.claim_f12_similar("F12-4", "s", 0.4, 0.45).verdict == "agree"
    assert cl.claim_f12_similar("F12-4", "s", 0.1, 0.45).verdict == "disagree"
    errs = {"a": [(0.5, 0.1), (0.1, 0.5), (0.1, 0.4)], "b": [(0.2, 0.3), (0.1, 0.2), (0.1, 0.3)]}
    assert cl.claim_f12_deeper(errs).verdict == "agree"
    assert cl.claim_f12_deeper({**errs, "b": [(0.2, 0.3), (0.3, 0.2), (0.1, 0.3)]}).verdict == "disagree"
    assert cl.claim_f13_weights("x", [1.1, 2.0], [1.0, 1.2], [0.1, 0.2]).verdict == "agree"
    assert cl.claim_f13_weights("x", [1.1, 2.0], [1.0, 1.7], [0.1, 0.2]).verdict == "disagree"
    assert cl.claim_f2_khatri_rao([0.95, 0.99], [0.92, 0.97]).verdict == "agree"
    assert cl.claim_f2_khatri_rao([0.95, 0.99], [0.5, 0.6]).verdict == "disagree"


def test_table1_from_knockout_rows():
    before = spectrum(C, d=40)
    after = spectrum(0, d=40)
    row = cl.knockout_row("features", before, after, None, C)
    assert row["separated_before"] == C and row["separated_after_class"] == 0
    cross_before = np.concatenate([[10] * C, [3] * (C * (C - 1) - C), np.linspace(1, 0.5, 30)])
    cross_after = np.concatenate([[10] * C, np.linspace(1, 0.5, 38)])
    grads = cl.knockout_row("gradients", cross_before, np.concatenate([[3] * (C * (C - 1) - C), np.linspace(1, 0.5, 34)]),
                            cross_after, C)
    claims = {c.id: c for c in cl.table1({"features": row, "gradients": grads, "weights": cl.knockout_row("w", after, after, None, C)},
                                         extra={"gradients": "agree"})}
    assert claims["T1-3"].verdict == "agree"
    assert claims["T1-2"].verdict == "agree"
    assert claims["T1-5"].verdict == "disagree"  # no outliers before the knockout
    assert set(claims) == {"T1-2", "T1-3", "T1-5"}
    nan_row = cl.knockout_row("h", [1.0, 0.0, 0.0], [1.0, 0.0, 0.0], None, 2)
    assert cl.table1({"hessian": nan_row})[0].verdict == "not_checkable"
