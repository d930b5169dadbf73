"""The printed numbers of Granziol et al. (2020) that the notebooks lay beside ours (inventory 002 §F).

Tables 1-3 verbatim (minus signs restored from the text, as the inventory does), the per-figure extremes of
§6 and the appendix tick extremes (Figs 13-33, read from the x ticks, inventory §F / §S47), and the main-text
negative counts and masses (§6.1-6.3). Keys: ``"c100"`` / ``"c10"`` slots, ``"normal"`` / ``"overfit"``
schedules, ``"emp"`` / ``"aug"`` spectra.
"""

from __future__ import annotations

__all__ = ["APPENDIX_FIGURES", "FIGURE_EXTREMES", "MAIN_FIGURES", "NEGATIVE", "TABLE3", "TABLE12"]

# Tables 1 (c100) and 2 (c10): [λ'1, λ'n] Empirical, [λ1, λn] "True" (Augmented), best test / train accuracy
# (%), test / train loss. Table 2's Normal True cells are a copy of Table 1's (inventory §E1).
TABLE12 = {
    "c100": {"normal": {"emp": (20.56, -6.54), "aug": (3.025, -0.014), "test_acc": 77.24, "train_acc": 99.85,
                        "test_loss": 0.99, "train_loss": 0.021},
             "overfit": {"emp": (281.32, -7.33), "aug": (45.68, 2e-5), "test_acc": 56.85, "train_acc": 99.62,
                         "test_loss": 1.85, "train_loss": 0.026}},
    "c10": {"normal": {"emp": (6.82, -1.37), "aug": (3.025, -0.014), "test_acc": 95.32, "train_acc": 99.98,
                       "test_loss": 0.18, "train_loss": 0.0034},
            "overfit": {"emp": (184.4, -2.9), "aug": (15.6, -9e-4), "test_acc": 86.46, "train_acc": 99.91,
                        "test_loss": 1.85, "train_loss": 0.026}},
}

# Table 3: the three heaviest Ritz pairs [ρ, λ] of each spectrum
TABLE3 = {
    ("c100", "normal", "emp"): [(0.92, 0.0014), (0.05, -0.03), (0.018, 0.06)],
    ("c100", "normal", "aug"): [(0.84, 0.0017), (0.1, -0.0007), (0.045, 0.003)],
    ("c10", "normal", "emp"): [(0.88, 0.007), (0.085, -0.01), (0.023, 0.02)],
    ("c10", "normal", "aug"): [(0.88, -3.87e-6), (0.073, 0.0006), (0.03, -0.0007)],
    ("c100", "overfit", "emp"): [(0.65, -0.026), (0.34, 0.05), (0.006, 0.58)],
    ("c100", "overfit", "aug"): [(0.86, 1.67e-5), (0.1, 0.0039), (0.019, 0.018)],
    ("c10", "overfit", "emp"): [(0.77, 0.01), (0.22, -0.04), (0.005, 0.32)],
    ("c10", "overfit", "aug"): [(0.89, 0.00013), (0.086, -0.00094), (0.016, 0.0058)],
}

# Figs 1-8: (slot, schedule, spectrum, [θ_min, θ_max] of the text / ticks, tick rule, the value claim id)
MAIN_FIGURES = {
    1: ("c100", "normal", "emp", (-6.54, 20.56), "mlrg4", "S22"),
    2: ("c10", "normal", "emp", (-1.374, 6.821), "mlrg4", "S24"),
    3: ("c10", "normal", "aug", (-0.0061, 0.5825), "emp_min3", "S25"),
    4: ("c100", "normal", "aug", (-0.014, 3.026), "emp_min3", "S23"),
    5: ("c100", "overfit", "emp", (-7.33, 281.32), "mlrg4", "S26"),
    6: ("c10", "overfit", "emp", (-2.9, 184.4), "mlrg4", "S26"),
    7: ("c100", "overfit", "aug", (2e-5, 45.68), "lin3", "S27"),
    8: ("c10", "overfit", "aug", (-9e-4, 15.6), "lin3", "S27"),
}
FIGURE_EXTREMES = {k: v[3] for k, v in MAIN_FIGURES.items()}

# §6.1-6.3 negative Ritz counts (n_neg/m) and τ-rule masses; None = not stated
NEGATIVE = {
    ("c100", "normal", "emp"): ("43/100", 0.05), ("c100", "normal", "aug"): ("5/80", 0.00016),
    ("c10", "normal", "emp"): ("35/100", 0.09), ("c10", "normal", "aug"): ("3/80", 0.03),
    ("c100", "overfit", "emp"): ("43/100", 0.032), ("c100", "overfit", "aug"): ("0/80", 0.0),
    ("c10", "overfit", "emp"): (None, 0.032), ("c10", "overfit", "aug"): ("1/80", 0.086),
}

# Figs 13-33: (run, epoch, spectrum, [θ_min, θ_max] from the ticks, note); Fig 20 repeats Fig 19 and Fig 29
# carries Fig 28's caption with Fig 19's ticks (a mix-up, inventory §E; its
# paper extremes here are Fig 19's); "aug5m" = the 5M-sample, m = 10 Augmented spectrum
APPENDIX_FIGURES = {
    13: ("A1", 300, "aug5m", (-0.77, 12.40)),
    14: ("A1", 0, "emp", (-194.5, 0.7)),
    15: ("A1", 25, "emp", (-1.501, 6.742)),
    16: ("A1", 50, "emp", (-3.34, 7.14)),
    17: ("A1", 75, "emp", (-1.413, 5.967)),
    18: ("A1", 125, "emp", (-2.24, 10.54)),
    19: ("A1", 150, "emp", (-6.37, 22.47)),
    20: ("A1", 150, "emp", (-6.37, 22.47)),
    21: ("A2", 300, "emp", (-6.59, 23.73)),
    22: ("A2", 300, "aug5m", (-0.344, 6.737)),
    23: ("A2", 0, "emp", (-2.799, 3.245)),
    24: ("A2", 25, "emp", (-0.595, 2.786)),
    25: ("A2", 50, "emp", (-0.330, 3.763)),
    26: ("A2", 75, "emp", (-0.312, 2.518)),
    27: ("A2", 125, "emp", (-0.635, 4.372)),
    28: ("A2", 150, "emp", (-1.522, 8.239)),
    29: ("A2", 150, "emp", (-6.37, 22.47)),
    30: ("A3", 50, "emp", (-2.273, 5.416)),
    31: ("A3", 300, "emp", (-3.03, 9.43)),
    32: ("A4", 0, "emp", (-1.647, 5.114)),
    33: ("A4", 300, "emp", (-1.110, 6.709)),
}
