"""Claim rules of Granziol et al. (2020), "Towards understanding the true loss surface" (inventory 002 §S).

One small function per scoreboard claim (id ``S<n>`` = inventory item n): the numbers a notebook measured in
(:func:`.spectra.spectrum_summary`, :mod:`.theory`), a :class:`~hessian_spectra.pipeline.claims.Claim` out,
whose verdict the rule decides and whose ``note`` states the rule in one line. Thresholds are the inventory's
unless the docstring says why not.

Direction claims compare the Empirical and the Augmented spectrum of one (dataset, schedule) "pair"; a pair is
a mapping with the keys its rule lists (``emp`` and ``aug`` are :func:`.spectra.spectrum_summary` dicts,
``schedule`` is ``"normal"`` or ``"overfit"``, ``train_accuracy`` a fraction in [0, 1]). At ``smoke`` and
``default`` the pairs come from stand-ins (``context`` names them), so the verdicts are about the stand-ins.

Value claims (V, a number of the paper) are scored at ``paper`` only: every V-rule first returns the
``not_checkable`` claim of :func:`claim_value` at ``smoke``/``default`` (ours recorded) and when CIFAR-100 was
substituted, then applies its inventory tolerance (S13-S18, S30, S31, S33, S37, S39, S42 have their own rule).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from ...pipeline.claims import Claim, combine_verdicts, verdict_nearest, verdict_within

__all__ = [
    "ACCURACY_TOL_PP",
    "ACCURACY_TOL_PP_JPEG",
    "LOW_CONFIDENCE_MASS",
    "OVERFIT_MIN_TRAIN_ACCURACY",
    "TABLE1_NORMAL_AUG",
    "TEXT_C10_NORMAL_AUG",
    "THEOREM1_FACTOR",
    "claim_accuracy_pp",
    "claim_bbp",
    "claim_extremes",
    "claim_extremes_shrink",
    "claim_factor",
    "claim_heaviest_pair",
    "claim_lemma2",
    "claim_losses",
    "claim_max_shrinks",
    "claim_min_shrinks",
    "claim_negative_count",
    "claim_negative_fraction_falls",
    "claim_negative_mass",
    "claim_negative_mass_shrinks",
    "claim_overfit_sharper_value",
    "claim_s42",
    "claim_table2_normal_aug_cells",
    "claim_table2_normal_losses",
    "claim_table2_overfit_losses",
    "claim_table3_cells",
    "claim_theorem1_edge",
    "claim_variation_smaller",
]

# Table 1's (CIFAR-100) Normal "True Hessian" cells, printed again in Table 2 (CIFAR-10): (λ₁, λₙ)
TABLE1_NORMAL_AUG = (3.025, -0.014)
# the CIFAR-10 Normal Augmented extremes of the text (§6.1) and Fig 3: (λ₁, λₙ)
TEXT_C10_NORMAL_AUG = (0.5825, -0.0061)
# an Overfit pair is scored at smoke/default only if the stand-in fits its data this well (inventory §S28)
OVERFIT_MIN_TRAIN_ACCURACY = 0.9
# Theorem 1's predicted Augmented edge "agrees" within this factor of the measured one (ours; module docs)
THEOREM1_FACTOR = 3.0


def _verdict(ok: bool) -> str:
    return "agree" if ok else "disagree"


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _pairs(pairs: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    if not pairs:
        raise ValueError("no (dataset, schedule) pairs given")
    return list(pairs.items())


# ------------------------------------------------------------------------------------------------------
# S28, S29: the Augmented set shrinks the extreme eigenvalues (Theorem 1, §6, Tables 1-2)
# ------------------------------------------------------------------------------------------------------
def claim_max_shrinks(label: str, emp_max: float, aug_max: float, context: str = "") -> Claim:
    """S28 for one pair: λ_max(Aug) < λ_max(Emp) (θ_max of the two stem plots)."""
    return Claim(f"S28 ({label})", "Theorem 1 / §6: λ_max(Aug) < λ_max(Emp)", "λ_max shrinks",
                 {"emp_max": emp_max, "aug_max": aug_max, "ratio": emp_max / aug_max if aug_max else math.inf},
                 _verdict(aug_max < emp_max), _join("rule: θ_max(Aug) < θ_max(Emp).", context))


def claim_min_shrinks(label: str, emp_min: float, aug_min: float, context: str = "") -> Claim:
    """S29 for one pair: |λ_min(Aug)| < |λ_min(Emp)|."""
    return Claim(f"S29 ({label})", "§6: |λ_min(Aug)| < |λ_min(Emp)|", "|λ_min| shrinks",
                 {"emp_min": emp_min, "aug_min": aug_min}, _verdict(abs(aug_min) < abs(emp_min)),
                 _join("rule: |θ_min(Aug)| < |θ_min(Emp)|.", context))


def claim_extremes_shrink(pairs: Mapping[str, Mapping[str, Any]], profile: str, context: str = "") -> list[Claim]:
    """S28 and S29 over all pairs (keys ``emp``, ``aug`` summaries; ``schedule``; ``train_accuracy``).

    S28 (inventory rule): at ``paper`` agree if θ_max shrinks in every pair (4/4). At ``smoke``/``default``
    the Normal pairs must hold; an Overfit pair counts only if its stand-in's training accuracy is ≥ 0.9,
    otherwise it is recorded, not scored (the MLP/CNN stand-ins underfit the 1000-epoch α₀ = 0.001 schedule and
    λ_max grew in the inventory's prototype, §M3; the paper's regime is near interpolation).
    S29 (inventory rule): agree if |θ_min| shrinks in every pair, at every profile.
    """
    items = _pairs(pairs)
    scored, recorded = [], []
    for label, p in items:
        ok = p["aug"]["theta_max"] < p["emp"]["theta_max"]
        counts = (profile == "paper" or p["schedule"] == "normal"
                  or float(p.get("train_accuracy", 0.0)) >= OVERFIT_MIN_TRAIN_ACCURACY)
        (scored if counts else recorded).append((label, ok))
    ours28 = {label: {"emp_max": p["emp"]["theta_max"], "aug_max": p["aug"]["theta_max"],
                      "schedule": p["schedule"], "train_accuracy": p.get("train_accuracy")} for label, p in items}
    v28 = _verdict(bool(scored) and all(ok for _, ok in scored)) if scored else "not_checkable"
    note28 = _join(
        "rule: θ_max(Aug) < θ_max(Emp) in every pair" + (" (4/4 at paper)." if profile == "paper" else
        f"; at '{profile}' the Normal pairs, and Overfit pairs only where train accuracy >= "
        f"{OVERFIT_MIN_TRAIN_ACCURACY:g} (inventory §S28)."),
        f"Holds in {sum(ok for _, ok in scored)}/{len(scored)} scored pairs"
        + (f"; recorded, not scored: {', '.join(f'{l} ({ok})' for l, ok in recorded)}." if recorded else "."),
        "" if scored else "No pair could be scored.", context)
    ok29 = [(label, abs(p["aug"]["theta_min"]) < abs(p["emp"]["theta_min"])) for label, p in items]
    ours29 = {label: {"emp_min": p["emp"]["theta_min"], "aug_min": p["aug"]["theta_min"]} for label, p in items}
    c29 = Claim("S29", "§6: |λ_min(Aug)| < |λ_min(Emp)| in all 4 pairs", "4/4", ours29,
                _verdict(all(ok for _, ok in ok29)),
                _join(f"rule: |θ_min(Aug)| < |θ_min(Emp)| in every pair; holds in {sum(ok for _, ok in ok29)}/"
                      f"{len(ok29)}.", context))
    c28 = Claim("S28", "Theorem 1 / §6: λ_max(Aug) < λ_max(Emp) in all 4 (dataset × schedule) pairs", "4/4",
                ours28, v28, note28 or "no pair scored")
    return [c28, c29]


# ------------------------------------------------------------------------------------------------------
# S32, S34/S44, S43: negative Ritz values, negative mass and dispersion shrink
# ------------------------------------------------------------------------------------------------------
def claim_negative_mass_shrinks(pairs: Mapping[str, Mapping[str, Any]], claim_id: str = "S34",
                                context: str = "") -> Claim:
    """S34 (§6.3 "the negative spectral mass shrinks drastically"; S44 the Discussion's "greater negative spectral
    density" is the same test, pass ``claim_id="S44"``). Inventory rule: agree if the τ-rule mass
    (:func:`.spectra.negative_mass`, τ = 1e-3 θ_max) of the Augmented spectrum is below the Empirical one in
    ≥ 3 of 4 pairs (for n pairs: ≥ ⌈3n/4⌉). The raw and MLRG masses are recorded, not scored (the raw mass
    follows the sign of the near-zero stem, §M3)."""
    items = _pairs(pairs)
    ok = [(label, p["aug"]["neg_mass_tau"] < p["emp"]["neg_mass_tau"]) for label, p in items]
    need = math.ceil(3 * len(ok) / 4)
    ours = {label: {k: [p["emp"][f"neg_mass_{k}"], p["aug"][f"neg_mass_{k}"]] for k in ("tau", "raw", "mlrg")}
            for label, p in items}
    statement = ("§6.3: 'the negative spectral mass shrinks drastically' for all Augmented spectra"
                 if claim_id == "S34" else "Discussion: the Empirical Hessian has 'a greater negative spectral "
                 "density than the True Hessian'")
    n_ok = sum(v for _, v in ok)
    return Claim(claim_id, statement, "neg. mass Emp > Aug", ours, _verdict(n_ok >= need),
                 _join(f"rule: neg_mass_tau(Aug) < neg_mass_tau(Emp) (τ = 1e-3·θ_max) in >= {need} of {len(ok)} "
                       f"pairs; holds in {n_ok}. Values [Emp, Aug] per rule; raw and mlrg not scored.", context))


def claim_negative_fraction_falls(pairs: Mapping[str, Mapping[str, Any]], context: str = "") -> Claim:
    """S32: the fraction of negative Ritz values n_neg/m falls from Emp to Aug in every pair (inventory rule)."""
    items = _pairs(pairs)
    ok = [(label, p["aug"]["neg_fraction"] < p["emp"]["neg_fraction"]) for label, p in items]
    ours = {label: {"emp": f"{p['emp']['n_neg']}/{p['emp']['m']}", "aug": f"{p['aug']['n_neg']}/{p['aug']['m']}"}
            for label, p in items}
    return Claim("S32", "§6: the fraction of negative Ritz values falls from Emp to Aug", "all pairs", ours,
                 _verdict(all(v for _, v in ok)),
                 _join(f"rule: n_neg/m (Aug) < n_neg/m (Emp) in every pair; holds in {sum(v for _, v in ok)}/"
                       f"{len(ok)}.", context))


def claim_variation_smaller(pairs: Mapping[str, Mapping[str, Any]], context: str = "") -> Claim:
    """S43 (Discussion: "the True Hessian has smaller variation in eigenvalues"): the variance of the Ritz measure
    Σρθ² − (Σρθ)² is smaller for Aug than Emp in every pair (inventory rule, 4/4)."""
    items = _pairs(pairs)
    ok = [(label, p["aug"]["ritz_variance"] < p["emp"]["ritz_variance"]) for label, p in items]
    ours = {label: [p["emp"]["ritz_variance"], p["aug"]["ritz_variance"]] for label, p in items}
    return Claim("S43", "Discussion: 'the True Hessian has smaller variation in eigenvalues'", "all pairs", ours,
                 _verdict(all(v for _, v in ok)),
                 _join(f"rule: Var of the Ritz measure (Aug) < (Emp) in every pair; holds in "
                       f"{sum(v for _, v in ok)}/{len(ok)}. Values [Emp, Aug].", context))


# ------------------------------------------------------------------------------------------------------
# Theorem 1 against the measurements (derived, inventory §E19), Lemma 3 / Theorem 1 simulations, Lemma 2
# ------------------------------------------------------------------------------------------------------
def claim_theorem1_edge(label: str, prediction: Mapping[str, float], context: str = "") -> Claim:
    """E19 (derived, not a claim of the paper; inventory §E19: report, never count in the paper's score).

    Theorem 1 with σ fitted from the Empirical negative edge predicts the Augmented negative edge −2√q_aug σ
    (:func:`.theory.predict_augmented_extremes`). Rule (ours; the inventory reports the mismatch, 85× for
    CIFAR-100 and 41× for CIFAR-10 from the paper's own numbers, but gives no threshold): agree if predicted
    and measured |edge| are within a factor ``THEOREM1_FACTOR`` = 3 of each other. The predicted top is
    recorded, not scored."""
    r = float(prediction["ratio_min"])
    ok = math.isfinite(r) and r > 0 and 1.0 / THEOREM1_FACTOR <= r <= THEOREM1_FACTOR
    ours = {k: prediction[k] for k in ("sigma", "q_emp", "q_aug", "pred_aug_min", "obs_aug_min", "ratio_min",
                                       "pred_aug_max", "obs_aug_max", "ratio_max") if k in prediction}
    return Claim(f"E19 ({label})", "Theorem 1 (derived): the Augmented edge is -2 sqrt(q_aug) sigma, sigma fitted "
                 "from the Empirical edge", "not stated (derived check)", ours, _verdict(ok),
                 _join(f"rule (ours): predicted/measured |edge| within a factor {THEOREM1_FACTOR:g}; it is "
                       f"{r:.3g}. Derived check, not a paper claim: not counted in the paper's score "
                       "(inventory §E19).", context))


def claim_bbp(claim_id: str, simulated: float, predicted: float, kind: str, context: str = "") -> Claim:
    """S1-S3 (Lemma 3 / Theorem 1 against dense eigh of the simulated matrix). Inventory rules: an outlier
    (``kind="outlier"``, λ + qσ²/λ) agrees within 5 %, an edge (``kind="edge"``, ±2√q σ) within 3 %."""
    tol = {"outlier": 0.05, "edge": 0.03}.get(kind)
    if tol is None:
        raise ValueError(f"kind must be 'outlier' or 'edge', got {kind!r}")
    rel = abs(simulated - predicted) / abs(predicted)
    return Claim(claim_id, f"Lemma 3 / Theorem 1: the extreme eigenvalue is {'λ + qσ²/λ' if kind == 'outlier' else '±2√q σ'}",
                 predicted, {"simulated": simulated, "relative_error": rel}, verdict_within(simulated, predicted, tol),
                 _join(f"rule: |sim - pred| <= {tol:.0%} of |pred| ({kind}).", context))


def claim_lemma2(check: Mapping[str, Any], context: str = "") -> Claim:
    """S6 (Lemma 2: ε_jk tends to a zero-mean normal with variance ∝ 1/N). Inventory rule on
    :func:`.theory.lemma2_check`: agree if N·Var(ε_jk) is flat across N within ±25 % for ≥ 80 % of the index
    pairs and the KS p-value of the standardised ε exceeds 0.01 for ≥ 80 % of them."""
    flat, normal = float(check["flat_fraction"]), float(check["normal_fraction"])
    return Claim("S6", "Lemma 2: the Empirical - True Hessian difference is element-wise normal with variance ∝ 1/N",
                 "variance ∝ 1/N, normal", {"flat_fraction": flat, "normal_fraction": normal,
                                           "sizes": list(check["sizes"])},
                 _verdict(flat >= 0.8 and normal >= 0.8),
                 _join("rule: N·Var flat within ±25 % across N for >= 80 % of pairs and KS p > 0.01 for >= 80 %.",
                       context))


# ------------------------------------------------------------------------------------------------------
# Table 2 errata (inventory §E1, §E2)
# ------------------------------------------------------------------------------------------------------
def claim_table2_normal_aug_cells(ours_max: float | None = None, paper_scale: bool = False) -> Claim:
    """Table 2 (CIFAR-10), Normal row, "True Hessian" cells λ₁ = 3.025, λₙ = −0.014: identical to Table 1's
    CIFAR-100 cells, while §6.1 and Fig 3 give CIFAR-10 [−0.0061, 0.5825] (inventory §E1).

    Without a paper-scale measurement the verdict is ``paper_erratum`` from the paper's own numbers (a copy of
    Table 1; the comparisons use the text values). With one (``paper_scale`` and ``ours_max`` = θ_max of the
    CIFAR-10 Normal Augmented spectrum), :func:`~hessian_spectra.pipeline.claims.verdict_nearest` decides which
    of 3.025 (printed) and 0.5825 (text) our number supports."""
    paper = {"table2": list(TABLE1_NORMAL_AUG), "text_fig3": list(TEXT_C10_NORMAL_AUG)}
    base = ("Table 2's cells equal Table 1's CIFAR-100 cells (3.025, -0.014); §6.1 and Fig 3 give CIFAR-10 "
            "[-0.0061, 0.5825] (inventory §E1).")
    if paper_scale and ours_max is not None:
        v = verdict_nearest(float(ours_max), TABLE1_NORMAL_AUG[0], TEXT_C10_NORMAL_AUG[0])
        return Claim("E1 (Table 2)", "Table 2, CIFAR-10 Normal 'True Hessian' [λ₁, λₙ] = [3.025, -0.014]", paper,
                     {"theta_max": ours_max}, v,
                     _join(base, "rule: our θ_max nearer 3.025 -> agree, nearer 0.5825 -> paper_erratum."))
    return Claim("E1 (Table 2)", "Table 2, CIFAR-10 Normal 'True Hessian' [λ₁, λₙ] = [3.025, -0.014]", paper,
                 None, "paper_erratum", _join(base, "Flagged from the paper's own numbers: a copy of Table 1; "
                                              "comparisons use the text values."))


def claim_table2_normal_losses(ours_test: float | None = None, ours_train: float | None = None,
                               paper_scale: bool = False) -> Claim:
    """S19, Table 2 (CIFAR-10) Normal losses, test 0.18 / train 0.0034: both within ±25 % at paper scale (inventory
    §S19); otherwise not checkable (the stand-in's losses are not comparable)."""
    paper = {"test_loss": 0.18, "train_loss": 0.0034}
    if not paper_scale or ours_test is None or ours_train is None:
        return Claim("S19 (Table 2 Normal)", "Table 2 Normal losses: test 0.18, train 0.0034", paper, None,
                     "not_checkable", "needs the paper-scale CIFAR-10 Normal run.")
    ok = verdict_within(ours_test, 0.18, 0.25) == "agree" and verdict_within(ours_train, 0.0034, 0.25) == "agree"
    return Claim("S19 (Table 2 Normal)", "Table 2 Normal losses: test 0.18, train 0.0034", paper,
                 {"test_loss": ours_test, "train_loss": ours_train}, _verdict(ok), "rule: both within ±25 %.")


def claim_table2_overfit_losses(ours_test: float | None = None, ours_train: float | None = None,
                                paper_scale: bool = False) -> Claim:
    """Table 2 (CIFAR-10) Overfit losses, test 1.85 / train 0.026: identical to Table 1's Overfit row, a
    possible copy (inventory §E2, low confidence). At paper scale the S19 rule applies (±25 %) with the
    low-confidence flag in the note; otherwise not checkable (the stand-in's losses are not comparable)."""
    paper = {"test_loss": 1.85, "train_loss": 0.026}
    flag = "Low confidence: the pair equals Table 1's Overfit row, possibly copied (inventory §E2)."
    if not paper_scale or ours_test is None or ours_train is None:
        return Claim("S19 (Table 2 Overfit)", "Table 2 Overfit losses: test 1.85, train 0.026", paper, None,
                     "not_checkable", _join("needs the paper-scale CIFAR-10 Overfit run.", flag))
    ok = verdict_within(ours_test, 1.85, 0.25) == "agree" and verdict_within(ours_train, 0.026, 0.25) == "agree"
    return Claim("S19 (Table 2 Overfit)", "Table 2 Overfit losses: test 1.85, train 0.026", paper,
                 {"test_loss": ours_test, "train_loss": ours_train}, _verdict(ok),
                 _join("rule: both within ±25 %.", flag))


# ------------------------------------------------------------------------------------------------------
# theory (no figure): S4 broadening, S5 dispersion, S10-S12 arithmetic
# ------------------------------------------------------------------------------------------------------
def claim_broadening(points: list[Mapping[str, Any]], context: str = "") -> Claim:
    """S4 (Theorem 1 Remark: "the extremal eigenvalues of the Empirical Hessian are larger in magnitude than those
    of the True Hessian"). Inventory rule: |λ'| ≥ |λ| over the whole (q, β) sweep, here on the simulated
    extremes: sim_top ≥ β and −sim_bottom ≥ β for every point (spikes ±β, ``points`` of
    :func:`.experiments.theorem1_sweep`)."""
    bad = [(p["q"], p["beta"]) for p in points
           if not (p["sim_top"] >= p["beta"] and -p["sim_bottom"] >= p["beta"])]
    return Claim("S4", "Theorem 1 Remark: the Empirical extremes are larger in magnitude than the True ones",
                 "|λ'| >= |λ|", {"points": len(points), "violations": bad}, _verdict(not bad),
                 _join(f"rule: simulated |λ'| >= |λ| at both ends for every (q, β) of the sweep; "
                       f"{len(points) - len(bad)}/{len(points)} hold.", context))


def claim_dispersion(mean: float, se: float, predicted: float, context: str = "") -> Claim:
    """S5 (App. F: the Empirical eigenvalue dispersion is the True one plus the noise variance). Inventory rule:
    agree if the Monte Carlo mean of Var_λ(H + ε) is within 3 standard errors of Var_λ(H) + s²(P − 1/P)."""
    ok = abs(mean - predicted) <= 3.0 * se
    return Claim("S5", "App. F: dispersion(Emp) = dispersion(True) + noise variance", predicted,
                 {"mean": mean, "se": se, "z": (mean - predicted) / se if se > 0 else math.inf}, _verdict(ok),
                 _join("rule: |MC mean - Var(H) - s²(P - 1/P)| <= 3 SE.", context))


def claim_exact(claim_id: str, statement: str, paper_value: Any, ours: Any, context: str = "") -> Claim:
    """S10, S11 (parameter counts) and other exact statements: agree iff ours == paper_value (inventory: "Exact")."""
    return Claim(claim_id, statement, paper_value, ours, _verdict(ours == paper_value),
                 _join("rule: exact equality.", context))


def claim_q_sides(P_c100: int, P_c10: int, P_vgg: int, N_aug: int = 1_500_000, N_5m: int = 5_000_000,
                  context: str = "") -> Claim:
    """S12 (§6 "for both we have q < 1" with the 1.5M set; App. I "unable to probe the limit q < 1" with 5M for
    VGG16): arithmetic on the paper's counts (inventory rule: 0.780 / 0.765 < 1 and 3.06 > 1)."""
    q = {"prn_c100_1.5M": P_c100 / N_aug, "prn_c10_1.5M": P_c10 / N_aug, "vgg_5M": P_vgg / N_5m}
    ok = q["prn_c100_1.5M"] < 1 and q["prn_c10_1.5M"] < 1 and q["vgg_5M"] > 1
    return Claim("S12", "§6: q < 1 for both PreResNets with 1.5M samples; App. I: q > 1 for VGG16 with 5M",
                 "0.780, 0.765 < 1; 3.06 > 1", q, _verdict(ok),
                 _join("rule: the two PreResNet q < 1 and the VGG16 q > 1 (paper's P and N).", context))


# ------------------------------------------------------------------------------------------------------
# value claims (paper scale only)
# ------------------------------------------------------------------------------------------------------
def _value_gate(claim_id: str, statement: str, paper_value: Any, ours: Any, profile: str, *,
                substituted: bool = False, check: str = "", context: str = "") -> Claim | None:
    """The ``not_checkable`` claim every V-rule returns before its own test: at ``smoke``/``default`` (stand-in
    network and data: ours recorded, not compared; ``check`` names the inventory's test) and when the dataset
    was substituted (CIFAR-100 offline). ``None`` at ``paper`` on the paper's dataset: the rule decides."""
    if profile != "paper":
        return Claim(claim_id, statement, paper_value, ours, "not_checkable",
                     _join(f"value claim: checked at the paper scale only; '{profile}' uses a stand-in network "
                           "and data (ours recorded).", f"Inventory test: {check}" if check else "", context))
    if substituted:
        return Claim(claim_id, statement, paper_value, ours, "not_checkable",
                     _join("the dataset (CIFAR-100) is unavailable offline: the run used the CIFAR-10 stand-in.",
                           context))
    return None


def claim_value(claim_id: str, statement: str, paper_value: Any, ours: Any, profile: str, *,
                rel_tol: float | None = None, target: float | None = None, substituted: bool = False,
                check: str = "", context: str = "") -> Claim:
    """A V-claim (a number of the paper): ``not_checkable`` at ``smoke``/``default`` (stand-in network and data:
    our number is recorded, not compared) or when the dataset was substituted (CIFAR-100 offline); at
    ``paper`` with ``rel_tol`` and a numeric ``target`` the inventory's ± tolerance decides, otherwise the
    claim needs a specific rule and stays ``not_checkable`` with ``check`` (the inventory's test) named."""
    gated = _value_gate(claim_id, statement, paper_value, ours, profile, substituted=substituted, check=check,
                        context=context)
    if gated is not None:
        return gated
    if rel_tol is None or target is None or ours is None:
        return Claim(claim_id, statement, paper_value, ours, "not_checkable",
                     _join(f"no automatic rule wired for this value at paper scale; inventory test: {check}.",
                           context))
    return Claim(claim_id, statement, paper_value, ours, verdict_within(float(ours), float(target), rel_tol),
                 _join(f"rule: within ±{rel_tol:.0%} of {target:g}.", context))


# ------------------------------------------------------------------------------------------------------
# value claims with their own rule (paper scale): S13-S18, S30, S31, S33, S37, S39, S42
# ------------------------------------------------------------------------------------------------------
# S13-S17: best accuracies, tolerance in absolute percentage points (inventory §S13-S17)
ACCURACY_TOL_PP = {"S13": 1.0, "S14": 0.3, "S15": 0.3, "S16": 2.0, "S17": 0.3}
# S14 on the offline CIFAR-10 (lossy JPEG q75 copy, "expect <= 0.5 pp lower"): the inventory's widened tolerance
ACCURACY_TOL_PP_JPEG = 0.8
# the inventory test each accuracy claim names in its smoke/default note
_TEST_ACCURACY_CHECK = "±1.0 pp (C100) / ±0.3 pp (C10) / ±2 pp (Overfit)"
_ACCURACY_CHECK = {"S13": _TEST_ACCURACY_CHECK, "S14": _TEST_ACCURACY_CHECK, "S16": _TEST_ACCURACY_CHECK,
                   "S15": "±0.3 pp", "S17": "±0.3 pp"}
# S18: losses within ±25 %
LOSS_REL_TOL = 0.25
# S30: shrink factors λ_max(Emp)/λ_max(Aug) within ×2
SHRINK_FACTOR = 2.0
# S31: Empirical counts within ±10 of the paper's; Augmented counts at most 10
EMP_COUNT_TOL = 10
AUG_COUNT_MAX = 10
# S33: τ-rule masses within a factor 3 where the paper's is >= 0.01, below 0.005 where the paper's is < 0.005
MASS_FACTOR = 3.0
MASS_SCORED_MIN = 0.01
MASS_TINY = 0.005
# S33: the one stated mass the τ rule does not reproduce (inventory §E item 5, §L2): (slot, schedule, spectrum)
LOW_CONFIDENCE_MASS = ("c10", "overfit", "aug")
# S37 (V-form): ρ₀ within ±0.1 of the paper's, at |θ₀| < 0.05
RHO0_TOL = 0.1
LAMBDA0_MAX = 0.05
# S39: ρ >= 0.5 within ±0.1, other ρ within a factor 3, λ by order of magnitude (a factor 10, ours), the sign
# scored only where the paper's |λ| >= 1e-3·θ_max of that spectrum
RHO_HEAVY = 0.5
RHO_HEAVY_TOL = 0.1
RHO_FACTOR = 3.0
LAMBDA_FACTOR = 10.0
SIGN_TAU = 1e-3
# S42: C10 Overfit Aug: n_neg <= 2, every negative |θ| < 0.01, ρ₀ in [0.79, 0.99] at |θ₀| < 1e-3
S42_MAX_NEG = 2
S42_NEG_ABS = 0.01
S42_RHO0 = (0.79, 0.99)
S42_LAMBDA0 = 1e-3


def _within_factor(ours: float, paper: float, factor: float) -> bool:
    """``paper/factor <= ours <= paper·factor`` for a positive ``paper`` (False for a non-positive or NaN
    ``ours``)."""
    if not paper > 0:
        raise ValueError(f"a factor tolerance needs a positive paper value, got {paper!r}")
    return bool(ours > 0 and paper / factor <= ours <= paper * factor)


def _same_magnitude(ours: float, paper: float, factor: float = LAMBDA_FACTOR) -> bool:
    """|ours| within ``factor`` of |paper| (both zero: True; one zero: False)."""
    a, b = abs(float(ours)), abs(float(paper))
    if a == 0.0 or b == 0.0:
        return a == b
    return _within_factor(a, b, factor)


def _count(text: str | None) -> int | None:
    """43 from the paper's "43/100"; None for an unstated count."""
    return None if text is None else int(str(text).split("/")[0])


def claim_accuracy_pp(claim_id: str, statement: str, paper_value: float, ours: float | None, profile: str, *,
                      jpeg: bool = False, substituted: bool = False, context: str = "") -> Claim:
    """S13-S17, the best accuracies of Tables 1-2 (in %, ``ours`` too): agree if |ours − paper| is within the
    inventory's tolerance in absolute percentage points, ``ACCURACY_TOL_PP[claim_id]``:

    - S13, Normal CIFAR-100 "best test accuracy of 77.24": ±1.0 pp;
    - S14, Normal CIFAR-10 "best test accuracy of 95.32": ±0.3 pp, ±0.8 pp with the JPEG caveat
      (``jpeg``: the run used the lossy JPEG q75 copy, "expect <= 0.5 pp lower"; flagged in the note);
    - S15, Normal "best training accuracy of 99.85/99.98": ±0.3 pp;
    - S16, Overfit "best test accuracy of 56.85/86.46": ±2 pp (small-lr runs: spread unknown);
    - S17, Overfit "best training accuracy of 99.62/99.91": ±0.3 pp.

    ``not_checkable`` at ``smoke``/``default`` and when the dataset was substituted (as :func:`claim_value`)."""
    if claim_id not in ACCURACY_TOL_PP:
        raise ValueError(f"no accuracy tolerance for {claim_id!r}; known: {', '.join(ACCURACY_TOL_PP)}")
    gated = _value_gate(claim_id, statement, paper_value, ours, profile, substituted=substituted,
                        check=_ACCURACY_CHECK[claim_id], context=context)
    if gated is not None:
        return gated
    if ours is None:
        return Claim(claim_id, statement, paper_value, ours, "not_checkable",
                     _join("no accuracy was recorded for this run.", context))
    widened = jpeg and claim_id == "S14"
    tol = ACCURACY_TOL_PP_JPEG if widened else ACCURACY_TOL_PP[claim_id]
    diff = float(ours) - float(paper_value)
    flag = ""
    if widened:
        flag = (f"Flag (JPEG caveat, inventory §S14): CIFAR-10 here is the lossy JPEG q75 copy (expect <= 0.5 pp "
                f"lower), so the tolerance is ±{ACCURACY_TOL_PP_JPEG:g} pp instead of "
                f"±{ACCURACY_TOL_PP['S14']:g} pp.")
    elif jpeg:
        flag = "Data: the CIFAR-10 JPEG q75 copy (the inventory widens only S14's tolerance for it)."
    return Claim(claim_id, statement, paper_value, ours, _verdict(abs(diff) <= tol),
                 _join(f"rule: |ours - paper| <= {tol:g} pp (absolute percentage points, inventory §{claim_id}); "
                       f"ours - paper = {diff:+.2f} pp.", flag, context))


def claim_losses(claim_id: str, statement: str, paper: Mapping[str, float], ours: Mapping[str, float] | None,
                 profile: str, *, substituted: bool = False, context: str = "") -> Claim:
    """S18, Table 1 (CIFAR-100) losses "test 0.99 / 1.85, train 0.021 / 0.026" (Normal / Overfit): agree if every
    loss of ``ours`` is within ±25 % (``LOSS_REL_TOL``, inventory §S18) of the paper's under the same key
    (e.g. ``"normal test_loss"``). ``not_checkable`` at ``smoke``/``default`` and when substituted."""
    gated = _value_gate(claim_id, statement, dict(paper), None if ours is None else dict(ours), profile,
                        substituted=substituted, check=f"±{LOSS_REL_TOL * 100:g} %", context=context)
    if gated is not None:
        return gated
    if ours is None or set(ours) != set(paper):
        raise ValueError(f"ours must give every loss of the paper: {sorted(paper)}")
    bad = [k for k in paper if verdict_within(float(ours[k]), float(paper[k]), LOSS_REL_TOL) != "agree"]
    return Claim(claim_id, statement, dict(paper), dict(ours), _verdict(not bad),
                 _join(f"rule: every loss within ±{LOSS_REL_TOL:.0%} of the paper's (inventory §{claim_id}); "
                       f"{len(paper) - len(bad)}/{len(paper)} hold" + (f"; outside: {', '.join(bad)}." if bad else "."),
                       context))


def claim_factor(claim_id: str, statement: str, paper: Mapping[str, float], ours: Mapping[str, float],
                 profile: str, *, factor: float = SHRINK_FACTOR, substituted: bool = False,
                 context: str = "") -> Claim:
    """S30, the shrink factors λ_max(Emp)/λ_max(Aug) = 6.8 (C100 Normal), 11.7 (C10 Normal, text value 0.5825),
    6.2 (C100 Overfit), 11.8 (C10 Overfit): agree if every ratio of ``ours`` is within a factor ``factor`` = 2
    (``SHRINK_FACTOR``, inventory §S30) of the paper's under the same key. Record only (``not_checkable``) at
    ``smoke``/``default``, and when substituted."""
    gated = _value_gate(claim_id, statement, paper, ours, profile, substituted=substituted,
                        check=f"within x{factor:g}; record only at default", context=context)
    if gated is not None:
        return gated
    if set(ours) != set(paper):
        raise ValueError(f"ours must give every ratio of the paper: {sorted(paper)}")
    bad = [k for k in paper if not _within_factor(float(ours[k]), float(paper[k]), factor)]
    return Claim(claim_id, statement, paper, ours, _verdict(not bad),
                 _join(f"rule: every ratio within a factor {factor:g} of the paper's (inventory §{claim_id}); "
                       f"{len(paper) - len(bad)}/{len(paper)} hold" + (f"; outside: {', '.join(bad)}." if bad else "."),
                       context))


def claim_negative_count(claim_id: str, statement: str, paper_count: str | None, n_neg: int, m: int, kind: str,
                         profile: str, *, substituted: bool = False, context: str = "") -> Claim:
    """S31, the negative Ritz counts of §6.1-6.2: "43/100" → "5/80" (C100 Normal), "35/100" → "3/80" (C10
    Normal), "43/100" → "0" (C100 Overfit, inferred), C10 Overfit Aug "one negative Ritz value (and 79
    positive)". Inventory §S31: an Empirical count (``kind="emp"``) agrees within ±10 (``EMP_COUNT_TOL``) of the
    paper's; an Augmented count (``kind="aug"``) agrees if <= 10 (``AUG_COUNT_MAX``). ``not_checkable`` where
    the paper states no count (C10 Overfit Emp), at ``smoke``/``default`` and when substituted."""
    if kind not in ("emp", "aug"):
        raise ValueError(f"kind must be 'emp' or 'aug', got {kind!r}")
    ours = f"{n_neg}/{m}"
    gated = _value_gate(claim_id, statement, paper_count, ours, profile, substituted=substituted,
                        check=f"Emp counts ±{EMP_COUNT_TOL}, Aug counts <= {AUG_COUNT_MAX}", context=context)
    if gated is not None:
        return gated
    paper_n = _count(paper_count)
    if paper_n is None:
        return Claim(claim_id, statement, paper_count, ours, "not_checkable",
                     _join("the paper states no negative count for this spectrum.", context))
    if kind == "emp":
        ok, rule = abs(n_neg - paper_n) <= EMP_COUNT_TOL, f"|n_neg - {paper_n}| <= {EMP_COUNT_TOL} (Empirical)"
    else:
        ok, rule = n_neg <= AUG_COUNT_MAX, f"n_neg <= {AUG_COUNT_MAX} (Augmented; the paper's {paper_count})"
    return Claim(claim_id, statement, paper_count, ours, _verdict(ok),
                 _join(f"rule: {rule}, inventory §{claim_id}; ours {ours}.", context))


def claim_negative_mass(claim_id: str, statement: str, paper_mass: float | None, ours: float, profile: str, *,
                        low_confidence: bool = False, substituted: bool = False, context: str = "") -> Claim:
    """S33, the negative spectral masses of §6.1-6.3 under the τ rule (τ = 1e-3·θ_max, inventory §L2): C100 Normal
    "0.05" → "0.00016", C10 Normal "0.09" → "0.03", Overfit Emp "0.032", C100 Overfit Aug 0 ("no spectral mass
    below 0"), C10 Overfit Aug "0.086". Inventory §S33: a paper mass >= 0.01 (``MASS_SCORED_MIN``) agrees within a
    factor 3 (``MASS_FACTOR``); a tiny one (< 0.005, ``MASS_TINY``) agrees if ours < 0.005. ``low_confidence``
    (the C10 Overfit Aug value, ``LOW_CONFIDENCE_MASS``; inventory §E item 5) is scored and flagged in the note.
    ``not_checkable`` at ``smoke``/``default``, when substituted and where the paper states no mass."""
    gated = _value_gate(claim_id, statement, paper_mass, ours, profile, substituted=substituted,
                        check=f"factor {MASS_FACTOR:g} for values >= {MASS_SCORED_MIN:g}; < {MASS_TINY:g} for the "
                              "tiny ones", context=context)
    if gated is not None:
        return gated
    flag = ("Low confidence (inventory §E item 5): the τ rule reproduces 5 of the 6 stated masses, not this one; "
            "the paper says its negative Ritz value (-0.00094, ρ = 0.086) 'could also be part of the spectral peak "
            "at the origin', and with |θ| < τ·θ_max (1e-3 x 15.6) the τ rule gives ~0 on the paper's own Ritz "
            "values, so a disagree here may be the rule's, not the run's." if low_confidence else "")
    if paper_mass is None:
        return Claim(claim_id, statement, paper_mass, ours, "not_checkable",
                     _join("the paper states no mass for this spectrum.", flag, context))
    p = float(paper_mass)
    if p >= MASS_SCORED_MIN:
        ok, rule = _within_factor(float(ours), p, MASS_FACTOR), f"ours within a factor {MASS_FACTOR:g} of {p:g}"
    elif p < MASS_TINY:
        ok, rule = float(ours) < MASS_TINY, f"ours < {MASS_TINY:g} (the paper's {p:g} is tiny)"
    else:
        return Claim(claim_id, statement, paper_mass, ours, "not_checkable",
                     _join(f"the inventory gives no rule for a paper mass in [{MASS_TINY:g}, {MASS_SCORED_MIN:g}).",
                           flag, context))
    return Claim(claim_id, statement, paper_mass, ours, _verdict(ok),
                 _join(f"rule: {rule} (τ rule, inventory §{claim_id}); ours {float(ours):.3g}.", flag, context))


def _spectrum_parts(ours: Mapping[str, Any], paper: Mapping[str, Any], substituted: Collection[str]) -> list[str]:
    if not ours:
        raise ValueError("no spectra given")
    if set(ours) != set(paper):
        raise ValueError(f"ours and paper must name the same spectra: {sorted(ours)} vs {sorted(paper)}")
    unknown = set(substituted) - set(ours)
    if unknown:
        raise ValueError(f"substituted names unknown spectra: {sorted(unknown)}")
    return list(ours)


def _combined_note(results: Mapping[str, str], substituted: Collection[str]) -> str:
    n_ok = sum(v == "agree" for v in results.values())
    scored = [k for k in results if k not in substituted]
    return (f"{n_ok}/{len(scored)} checkable spectra agree" +
            (f"; not checkable (CIFAR-100 unavailable offline, CIFAR-10 stand-in): {', '.join(substituted)}"
             if substituted else "") + ".")


def claim_heaviest_pair(ours: Mapping[str, Any], paper: Mapping[str, Any], profile: str, *,
                        substituted: Collection[str] = (), context: str = "") -> Claim:
    """S37 (V-form; the D-form at ``smoke``/``default`` is :func:`claim_zero_spike`), Table 3: the heaviest Ritz
    pair has ρ₀ ∈ {0.92, 0.84, 0.88, 0.88, 0.65, 0.86, 0.77, 0.89}, always at |λ₀| <= 0.026. Inventory §S37 at
    paper: in each of the 8 spectra ρ₀ within ±0.1 (``RHO0_TOL``) of the paper's and |θ₀| < 0.05
    (``LAMBDA0_MAX``). ``ours[label]`` / ``paper[label]`` are top-3 lists [[ρ, θ], ...] (``paper`` =
    ``TABLE3`` rows); spectra named in ``substituted`` (CIFAR-100 offline) are not checkable, and the verdict
    combines the spectra with :func:`~hessian_spectra.pipeline.claims.combine_verdicts` (any disagree →
    disagree, else any not checkable → not_checkable)."""
    statement = "Table 3: ρ₀ in {0.92, ..., 0.89} at |λ₀| <= 0.026"
    labels = _spectrum_parts(ours, paper, substituted)
    subst = [k for k in labels if k in set(substituted)]
    paper_value = {k: list(paper[k][0]) for k in labels}
    top = {k: list(ours[k][0]) for k in labels}
    gated = _value_gate("S37", statement, paper_value, top, profile,
                        check=f"ρ₀ ±{RHO0_TOL:g} and |λ₀| < {LAMBDA0_MAX:g}", context=context)
    if gated is not None:
        return gated
    results = {}
    for k in labels:
        (r, t), (pr, _) = top[k], paper[k][0]
        results[k] = ("not_checkable" if k in subst else
                      _verdict(abs(float(r) - float(pr)) <= RHO0_TOL and abs(float(t)) < LAMBDA0_MAX))
    bad = [k for k, v in results.items() if v == "disagree"]
    return Claim("S37", statement, paper_value, top, combine_verdicts(results.values()),
                 _join(f"rule: in every spectrum |ρ₀ - paper ρ₀| <= {RHO0_TOL:g} and |θ₀| < {LAMBDA0_MAX:g} "
                       "(inventory §S37).", _combined_note(results, subst),
                       f"Fail: {', '.join(bad)}." if bad else "", context))


def _cell_failures(ours: Any, paper: Any, theta_max: float) -> list[str]:
    """The failed tests of one Table 3 row (S39 rule) as short strings; [] if every cell agrees."""
    fails = []
    for i, (pr, pl) in enumerate(paper):
        if i >= len(ours):
            fails.append(f"pair {i} missing")
            continue
        r, t = float(ours[i][0]), float(ours[i][1])
        if pr >= RHO_HEAVY:
            if abs(r - pr) > RHO_HEAVY_TOL:
                fails.append(f"ρ{i} {r:.3g} vs {pr:g} (±{RHO_HEAVY_TOL:g})")
        elif not _within_factor(r, pr, RHO_FACTOR):
            fails.append(f"ρ{i} {r:.3g} vs {pr:g} (x{RHO_FACTOR:g})")
        if not _same_magnitude(t, pl, LAMBDA_FACTOR):
            fails.append(f"|λ{i}| {abs(t):.3g} vs {abs(pl):g} (x{LAMBDA_FACTOR:g})")
        if abs(pl) >= SIGN_TAU * theta_max and (t > 0) != (pl > 0):
            fails.append(f"sign λ{i} {t:.3g} vs {pl:g}")
    return fails


def claim_table3_cells(ours: Mapping[str, Any], paper: Mapping[str, Any], paper_theta_max: Mapping[str, float],
                       profile: str, *, substituted: Collection[str] = (), context: str = "") -> Claim:
    """S39, all 24 cells of Table 3 (the three heaviest Ritz pairs [ρ, λ] of each of the 8 spectra). Inventory
    §S39, cell by cell (the i-th heaviest pair of ours against the paper's i-th): ρ >= 0.5 (``RHO_HEAVY``) within
    ±0.1, other ρ within a factor 3 (``RHO_FACTOR``); λ by order of magnitude, here |θ| within a factor 10 of |λ|
    (``LAMBDA_FACTOR``, ours: the inventory names no factor); the sign scored only where the paper's |λ| >=
    1e-3·θ_max (``SIGN_TAU``, ``paper_theta_max[label]`` = the paper's θ_max of that spectrum). A spectrum
    agrees if all its cells do; spectra in ``substituted`` are not checkable; the verdict combines the spectra
    (:func:`~hessian_spectra.pipeline.claims.combine_verdicts`)."""
    statement = "all 24 Table 3 cells"
    labels = _spectrum_parts(ours, paper, substituted)
    subst = [k for k in labels if k in set(substituted)]
    gated = _value_gate("S39", statement, "Table 3", dict(ours), profile,
                        check=f"ρ >= {RHO_HEAVY:g}: ±{RHO_HEAVY_TOL:g}; other ρ: factor {RHO_FACTOR:g}; "
                              "λ: order of magnitude", context=context)
    if gated is not None:
        return gated
    results, fails = {}, {}
    for k in labels:
        if k in subst:
            results[k] = "not_checkable"
            continue
        fails[k] = _cell_failures(ours[k], paper[k], float(paper_theta_max[k]))
        results[k] = _verdict(not fails[k])
    detail = "; ".join(f"{k}: {', '.join(f)}" for k, f in fails.items() if f)
    return Claim("S39", statement, "Table 3", dict(ours), combine_verdicts(results.values()),
                 _join(f"rule: ρ >= {RHO_HEAVY:g} within ±{RHO_HEAVY_TOL:g}, other ρ within x{RHO_FACTOR:g}, |λ| "
                       f"within x{LAMBDA_FACTOR:g}, sign where |λ_paper| >= {SIGN_TAU:g}·θ_max (inventory §S39); "
                       "every cell of a spectrum.", _combined_note(results, subst),
                       f"Fail: {detail}." if detail else "", context))


def claim_s42(summary: Mapping[str, Any], profile: str, *, substituted: bool = False, context: str = "") -> Claim:
    """S42, §6.3 on C10 Overfit Aug: "there is one negative Ritz value (and 79 positive). This Ritz value λn =
    −0.00093 has a weight of ρ = 0.085 compared to the largest spike at λ = 0.0001 with weight 0.889". Inventory
    §S42: agree if n_neg <= 2 (``S42_MAX_NEG``), every negative θ has |θ| < 0.01 (``S42_NEG_ABS``; i.e. θ_min >
    −0.01 when n_neg > 0) and ρ₀ ∈ [0.79, 0.99] (``S42_RHO0``) at |θ₀| < 1e-3 (``S42_LAMBDA0``).
    ``summary`` is the spectrum's :func:`.spectra.spectrum_summary`. ``not_checkable`` at ``smoke``/``default``."""
    statement = "C10 Overfit Aug: λn = -0.00093 with ρ = 0.085; largest spike 0.889 at 1e-4"
    paper_value = (f"n_neg <= {S42_MAX_NEG}, |θ_neg| < {S42_NEG_ABS:g}, ρ₀ in [{S42_RHO0[0]:g}, "
                   f"{S42_RHO0[1]:g}]")
    ours = {"n_neg": summary["n_neg"], "top3": summary["top3"]}
    gated = _value_gate("S42", statement, paper_value, ours, profile, substituted=substituted,
                        check=f"n_neg <= {S42_MAX_NEG}, every negative |θ| < {S42_NEG_ABS:g}, ρ₀ in "
                              f"[{S42_RHO0[0]:g}, {S42_RHO0[1]:g}] at |λ₀| < 1e-3", context=context)
    if gated is not None:
        return gated
    n_neg, theta_min = int(summary["n_neg"]), float(summary["theta_min"])
    r0, t0 = (float(x) for x in summary["top3"][0])
    parts = {"n_neg": n_neg <= S42_MAX_NEG,
             "negatives_small": n_neg == 0 or abs(theta_min) < S42_NEG_ABS,
             "spike": S42_RHO0[0] <= r0 <= S42_RHO0[1] and abs(t0) < S42_LAMBDA0}
    bad = [k for k, ok in parts.items() if not ok]
    return Claim("S42", statement, paper_value, {**ours, "theta_min": theta_min}, _verdict(not bad),
                 _join(f"rule: n_neg <= {S42_MAX_NEG}, |θ| < {S42_NEG_ABS:g} for every θ < 0, ρ₀ in "
                       f"[{S42_RHO0[0]:g}, {S42_RHO0[1]:g}] at |θ₀| < {S42_LAMBDA0:g} (inventory §S42); ours n_neg "
                       f"{n_neg}, θ_min {theta_min:.3g}, [ρ₀, θ₀] = [{r0:.3g}, {t0:.3g}]"
                       + (f"; fails: {', '.join(bad)}." if bad else "."), context))


# S22-S27: the extremes of Figs 1-8 (inventory §S22-S27): θ_max within ±25 % everywhere; θ_min within ±25 % for
# the Empirical spectra, and for the Augmented ones the band the inventory gives, keyed by figure number
EXTREME_REL_TOL = 0.25
AUG_MIN_BANDS: dict[int, tuple[str, float, float]] = {
    3: ("in [-0.03, 0)", -0.03, 0.0),      # S25, C10 Normal Aug, paper -0.0061
    4: ("in [-0.05, 0)", -0.05, 0.0),      # S23, C100 Normal Aug, paper -0.014
    8: ("in (-0.01, 0]", -0.01, 0.0),      # S27, C10 Overfit Aug, paper -9e-4
}
S27_C100_TAU = 1e-3  # S27, C100 Overfit Aug (paper θ_min = 2e-5 > 0): θ_min >= -1e-3·θ_max


def claim_extremes(claim_id: str, figure: int, paper: tuple[float, float], ours: tuple[float, float], profile: str,
                   *, substituted: bool = False, context: str = "") -> Claim:
    """S22-S27, the extremal Ritz values [θ_min, θ_max] printed for Figs 1-8 (``figure``; ``paper`` and ``ours`` as
    (θ_min, θ_max)). Inventory rules: θ_max within ±25 % (``EXTREME_REL_TOL``) of the paper's in every figure;
    θ_min within ±25 % for the Empirical spectra (Figs 1, 2, 5, 6); for the Augmented ones, whose θ_min is near
    zero, a band: Fig 4 (S23) θ_min ∈ [−0.05, 0), Fig 3 (S25) ∈ [−0.03, 0), Fig 8 (S27, C10) ∈ (−0.01, 0], Fig 7
    (S27, C100) θ_min ≥ −1e-3·θ_max. Both ends must hold. ``not_checkable`` at ``smoke``/``default`` and when
    the dataset was substituted (as :func:`claim_value`)."""
    statement = f"Fig {figure}: extremes [θ_min, θ_max]"
    gated = _value_gate(claim_id, statement, list(paper), list(ours), profile, substituted=substituted,
                        check="θ_max ±25 %; θ_min ±25 % (Empirical) or the inventory's band (Augmented)",
                        context=context)
    if gated is not None:
        return gated
    (p_lo, p_hi), (lo, hi) = paper, ours
    top = verdict_within(float(hi), float(p_hi), EXTREME_REL_TOL) == "agree"
    if figure in AUG_MIN_BANDS:
        text, a, b = AUG_MIN_BANDS[figure]
        bottom = (a <= lo < b) if text.startswith("in [") else (a < lo <= b)
        rule_min = f"θ_min {text}"
    elif figure == 7:
        bottom = lo >= -S27_C100_TAU * hi
        rule_min = f"θ_min >= -{S27_C100_TAU:g}·θ_max"
    else:
        bottom = verdict_within(float(lo), float(p_lo), EXTREME_REL_TOL) == "agree"
        rule_min = f"θ_min within ±{EXTREME_REL_TOL:.0%} of {p_lo:g}"
    return Claim(claim_id, statement, list(paper), list(ours), _verdict(top and bottom),
                 _join(f"rule: θ_max within ±{EXTREME_REL_TOL:.0%} of {p_hi:g} ({'holds' if top else 'fails'}) and "
                       f"{rule_min} ({'holds' if bottom else 'fails'}) (inventory §{claim_id}).", context))


# S35 (V-form): the Overfit / Normal Augmented θ_max ratios 45.68 / 3.026 = 15.1 (C100) and 15.6 / 0.5825 = 26.8
# (C10, the text's Normal value) within a factor 2 (inventory §S35)
S35_FACTOR = 2.0


def claim_overfit_sharper_value(paper: Mapping[str, float], ours: Mapping[str, float], profile: str, *,
                                substituted: Collection[str] = (), context: str = "") -> Claim:
    """S35 V-form at ``paper``: each slot's θ_max(Aug, Overfit)/θ_max(Aug, Normal) within a factor 2 of the paper's
    (15 for CIFAR-100, 27 for CIFAR-10), keyed by slot. ``not_checkable`` at ``smoke``/``default`` (the D-form of
    :func:`claim_overfit_sharper` scores the direction there); a slot in ``substituted`` (CIFAR-100 offline) is
    left out, and with no slot left the claim is ``not_checkable``."""
    statement = "the Overfit / Normal Augmented θ_max ratio (15 for CIFAR-100, 27 for CIFAR-10) [V-form]"
    gated = _value_gate("S35 (value)", statement, dict(paper), dict(ours), profile,
                        check=f"within x{S35_FACTOR:g} of 15 and 27", context=context)
    if gated is not None:
        return gated
    keys = [k for k in paper if k not in substituted]
    if not keys:
        return Claim("S35 (value)", statement, dict(paper), dict(ours), "not_checkable",
                     _join("every slot used a substituted dataset (CIFAR-100 offline).", context))
    bad = [k for k in keys if not _within_factor(float(ours[k]), float(paper[k]), S35_FACTOR)]
    return Claim("S35 (value)", statement, dict(paper), dict(ours), _verdict(not bad),
                 _join(f"rule: within a factor {S35_FACTOR:g} of the paper's ratio in "
                       f"{', '.join(keys)} (inventory §S35)" + (f"; outside: {', '.join(bad)}." if bad else "."),
                       context))


# ------------------------------------------------------------------------------------------------------
# direction claims of the main text: S20, S21, S35, S36, S37/S41, S38, S40, S50
# ------------------------------------------------------------------------------------------------------
def _slots(slots: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    if not slots:
        raise ValueError("no slots given")
    return list(slots.items())


def claim_overfit_generalises_worse(slots: Mapping[str, Mapping[str, Any]], context: str = "") -> list[Claim]:
    """S20 (test accuracy Overfit < Normal) and S21 (test loss Overfit > Normal) in every dataset slot.
    ``slots[label]`` has ``normal`` and ``overfit`` dicts with ``test_accuracy`` and ``test_loss`` (final
    epoch). Inventory rule: the stated direction holds (in both slots)."""
    items = _slots(slots)
    acc = [(l, s["overfit"]["test_accuracy"] < s["normal"]["test_accuracy"]) for l, s in items]
    loss = [(l, s["overfit"]["test_loss"] > s["normal"]["test_loss"]) for l, s in items]
    ours20 = {l: {"normal": s["normal"]["test_accuracy"], "overfit": s["overfit"]["test_accuracy"]} for l, s in items}
    ours21 = {l: {"normal": s["normal"]["test_loss"], "overfit": s["overfit"]["test_loss"]} for l, s in items}
    return [
        Claim("S20", "Overfit generalises worse: test accuracy Overfit < Normal", "56.85 < 77.24; 86.46 < 95.32",
              ours20, _verdict(all(v for _, v in acc)),
              _join(f"rule: final test accuracy Overfit < Normal in every slot; holds in {sum(v for _, v in acc)}/"
                    f"{len(acc)}.", context)),
        Claim("S21", "test loss Overfit > Normal", "1.85 > 0.99; 1.85 > 0.18", ours21,
              _verdict(all(v for _, v in loss)),
              _join(f"rule: final test loss Overfit > Normal in every slot; holds in {sum(v for _, v in loss)}/"
                    f"{len(loss)}.", context)),
    ]


def claim_overfit_sharper(slots: Mapping[str, Mapping[str, Any]], context: str = "") -> list[Claim]:
    """S36 (Empirical θ_max Overfit > Normal) and S35 D-form (Augmented θ_max Overfit / Normal ≥ 2) in every
    slot. ``slots[label]`` has ``normal`` and ``overfit`` pairs (``emp``/``aug`` summaries). Inventory rules:
    S36 the stated direction holds; S35 "ratio ≥ 2 in both slots"."""
    items = _slots(slots)
    r35 = {l: s["overfit"]["aug"]["theta_max"] / s["normal"]["aug"]["theta_max"] for l, s in items}
    ok36 = [(l, s["overfit"]["emp"]["theta_max"] > s["normal"]["emp"]["theta_max"]) for l, s in items]
    ours36 = {l: {"normal": s["normal"]["emp"]["theta_max"], "overfit": s["overfit"]["emp"]["theta_max"]}
              for l, s in items}
    return [
        Claim("S35", "the Overfit Augmented θ_max is 'significantly larger' than the Normal one",
              "ratios 15 (C100), 27 (C10)", r35, _verdict(all(r >= 2.0 for r in r35.values())),
              _join("rule (D-form): θ_max(Aug, Overfit)/θ_max(Aug, Normal) >= 2 in every slot.", context)),
        Claim("S36", "λ_max(Emp, Overfit) > λ_max(Emp, Normal)", "281 vs 20.6; 184 vs 6.8", ours36,
              _verdict(all(v for _, v in ok36)),
              _join(f"rule: the direction holds in every slot; holds in {sum(v for _, v in ok36)}/{len(ok36)}.",
                    context)),
    ]


def claim_zero_spike(spectra: Mapping[str, Mapping[str, Any]], claim_id: str = "S41", context: str = "") -> Claim:
    """S41 ("Both have a significant spike near the origin") and the D-form of S37 (``claim_id="S37"``): inventory
    rule zero_mass (Σρ over |θ| ≤ 2e-3 θ_max) ≥ 0.5 in every spectrum (``spectra[label]`` = summary)."""
    zm = {l: s["zero_mass"] for l, s in spectra.items()}
    ok = [v >= 0.5 for v in zm.values()]
    statement = ("'Both have a significant spike near the origin'" if claim_id == "S41" else
                 "Table 3: the heaviest Ritz pair sits at the origin (ρ₀ 0.65-0.92, |λ₀| <= 0.026) [D-form]")
    return Claim(claim_id, statement, "zero_mass >= 0.5", zm, _verdict(all(ok)),
                 _join(f"rule: zero_mass (|θ| <= 2e-3 θ_max) >= 0.5 in every spectrum; holds in {sum(ok)}/{len(ok)}.",
                       context))


def claim_top3_carry(spectra: Mapping[str, Mapping[str, Any]], profile: str, context: str = "") -> Claim:
    """S38 ("the majority of the spectral bulk is carried by the 3 closest weights (≈ 0.99)"): inventory rule
    Σ top-3 ρ ≥ 0.95 at ``paper``, ≥ 0.8 at ``smoke``/``default``, in every spectrum."""
    limit = 0.95 if profile == "paper" else 0.8
    t3 = {l: s["top3_weight"] for l, s in spectra.items()}
    ok = [v >= limit for v in t3.values()]
    return Claim("S38", "Table 3: the 3 heaviest Ritz weights carry ≈ 0.99 of the mass", "0.979-0.996", t3,
                 _verdict(all(ok)), _join(f"rule: Σ top-3 ρ >= {limit:g} ('{profile}') in every spectrum; holds in "
                                          f"{sum(ok)}/{len(ok)}.", context))


def claim_bulk_skew(pairs: Mapping[str, Mapping[str, Any]], context: str = "") -> Claim:
    """S40 ("from q ≫ 1 to q < 1 … from a symmetric to right skew bulk"): inventory rule bulk_asymmetry(Aug) >
    bulk_asymmetry(Emp) in ≥ 3 of 4 pairs (≥ ⌈3n/4⌉ of n). A NaN asymmetry counts as not holding."""
    items = _pairs(pairs)
    ok = [(l, bool(p["aug"]["bulk_asymmetry"] > p["emp"]["bulk_asymmetry"])) for l, p in items]
    need = math.ceil(3 * len(ok) / 4)
    ours = {l: [p["emp"]["bulk_asymmetry"], p["aug"]["bulk_asymmetry"]] for l, p in items}
    n = sum(v for _, v in ok)
    return Claim("S40", "q >> 1 to q < 1: from a symmetric to a right-skew bulk", "A(Aug) > A(Emp)", ours,
                 _verdict(n >= need), _join(f"rule: A(Aug) > A(Emp) in >= {need} of {len(ok)} pairs; holds in {n}. "
                                            "Values [Emp, Aug].", context))


def claim_final_train_accuracy(accuracies: Mapping[str, float], profile: str, context: str = "") -> Claim:
    """S50 (Figs 9-12: the main runs reach final train accuracy ≥ 99.5 %). Inventory rule: at ``paper`` agree if
    all four do; at ``smoke``/``default`` record only (``not_checkable``: the stand-ins are not expected to
    interpolate augmented CIFAR)."""
    ours = dict(accuracies)
    if profile != "paper":
        return Claim("S50", "the four main runs end at >= 99.5 % train accuracy", ">= 99.5 %", ours, "not_checkable",
                     _join("record only at smoke/default (inventory §S50): the stand-ins' train accuracies are "
                           "recorded; the paper's near-interpolation regime is not reached at this scale.", context))
    ok = all(v >= 0.995 for v in ours.values())
    return Claim("S50", "the four main runs end at >= 99.5 % train accuracy", ">= 99.5 %", ours, _verdict(ok),
                 _join("rule: final train accuracy >= 0.995 in all four runs.", context))


# ------------------------------------------------------------------------------------------------------
# appendix: S45, S48, S49
# ------------------------------------------------------------------------------------------------------
def claim_vgg_extremes_shrink(emp: Mapping[str, Any], aug: Mapping[str, Any], context: str = "") -> Claim:
    """S45 (App. I "a reduction in both extremal eigenvalues", Fig 21 → Fig 22). D-form (inventory): θ_max(Aug)
    < θ_max(Emp) and |θ_min(Aug)| < |θ_min(Emp)|."""
    ok = aug["theta_max"] < emp["theta_max"] and abs(aug["theta_min"]) < abs(emp["theta_min"])
    ours = {"emp": [emp["theta_min"], emp["theta_max"]], "aug": [aug["theta_min"], aug["theta_max"]]}
    return Claim("S45", "App. I: both extremal eigenvalues shrink for VGG16BN (Fig 21 -> Fig 22)",
                 "[-6.59, 23.73] -> [-0.344, 6.737]", ours, _verdict(ok),
                 _join("rule (D-form): θ_max(Aug) < θ_max(Emp) and |θ_min(Aug)| < |θ_min(Emp)|.", context))


def claim_late_widening(runs: Mapping[str, Mapping[str, float]], context: str = "") -> Claim:
    """S48 (figure-derived: the spectrum widens late in training). ``runs[label]`` = {"final": θ_max at the
    run's last plotted checkpoint, "early": θ_max at its reference checkpoint (epoch 75 for PRN-C100 and
    VGG-C100, 50 for PRN-C10, 0 for VGG-C10)}. Inventory rule: final > early in ≥ 3 of 4 runs."""
    ok = {l: r["final"] > r["early"] for l, r in runs.items()}
    need = math.ceil(3 * len(ok) / 4)
    n = sum(ok.values())
    return Claim("S48", "the spectrum widens late in training: θ_max(final) > θ_max(epoch 75)",
                 "22.47 vs 5.967; 23.73 vs 2.518; 9.43 vs 5.416; 6.709 vs 5.114", dict(runs), _verdict(n >= need),
                 _join(f"rule: θ_max(final) > θ_max(reference) in >= {need} of {len(ok)} runs; holds in {n}.", context))


def claim_init_negative(theta_min: float, theta_max: float, bn_mode: str, context: str = "") -> Claim:
    """S49 (Fig 14, low confidence: at initialisation θ_min = −194.5 ≪ 0 < θ_max = 0.7). Inventory rule: agree
    if θ_min < −10 θ_max, scored only with train-mode batch norm; with ``bn_mode="eval"`` the numbers are
    recorded, ``not_checkable``."""
    ours = {"theta_min": theta_min, "theta_max": theta_max, "bn_mode": bn_mode}
    if bn_mode != "train":
        return Claim("S49", "Fig 14: at initialisation θ_min << 0 < θ_max", "-194.5 vs 0.7", ours, "not_checkable",
                     _join("scored only with train-mode BN (inventory §S49); our Hessians use eval-mode BN.", context))
    return Claim("S49", "Fig 14: at initialisation θ_min << 0 < θ_max", "-194.5 vs 0.7", ours,
                 _verdict(theta_min < -10 * theta_max), _join("rule: θ_min < -10 θ_max.", context))


def claim_quadrature(max_relative_error: float, context: str = "") -> Claim:
    """S7 (eqs 9-10 / Theorem 4: the m-point Lanczos quadrature matches vᵀH^k v for k ≤ 2m − 1). Inventory rule:
    relative error < 1e-10 for every such k (:func:`.theory.quadrature_moment_errors`)."""
    return Claim("S7", "eqs 9-10 / Theorem 4: the quadrature matches the moments vᵀH^k v for k <= 2m - 1", "exact",
                 {"max_relative_error": max_relative_error}, _verdict(max_relative_error < 1e-10),
                 _join("rule: max relative error < 1e-10 over k <= 2m - 1.", context))


def claim_random_overlap(check: Mapping[str, Any], context: str = "") -> Claim:
    """S8 (§5.1: the squared overlap of a random Rademacher vector with a unit vector is 1/P). Inventory rule:
    exact in mean (agree if |mean over random v of P·(vᵀu)²/‖v‖² − 1| ≤ 3 SE, :func:`.theory.rademacher_overlaps`);
    the per-vector form "∀i" does not hold (spread of χ²₁, std √2): recorded in ``ours``, not scored
    (inventory §S8)."""
    ok = abs(float(check["mean"]) - 1.0) <= 3.0 * float(check["se"])
    return Claim("S8", "§5.1: the normalised squared overlap of random Rademacher vectors is 1/P", "1/P",
                 {k: check[k] for k in ("P", "trials", "mean", "se", "std")}, _verdict(ok),
                 _join("rule: |mean over v of P·(vᵀu)²/‖v‖² - 1| <= 3 SE (in mean); the per-vector spread (std "
                       f"{float(check['std']):.2f}, χ²₁: 1.41) is recorded, not scored.", context))
