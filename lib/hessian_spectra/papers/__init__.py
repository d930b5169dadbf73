"""One package per paper: what only that paper's experiments need.

Each ``papers/<key>/`` holds the paper's cached experiment functions (``experiments.py``: the
computations behind its notebooks, with their settings), anything else only it uses, and
``claims.py``: the tested rules that turn the numbers a notebook computed into the verdicts of the
paper's scoreboard claims. Paper keys: ``wu2020``, ``papyan2020``, ``granziol2020``,
``linear_networks``, ``beyond_rmt`` (see ``catalog.yaml``). What several papers share lives outside:
the engine in :mod:`hessian_spectra.hessian`, curvature structure in :mod:`hessian_spectra.structure`,
theory in :mod:`hessian_spectra.rmt` and :mod:`hessian_spectra.linear_nets`.
"""
