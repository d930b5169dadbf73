"""Wu, Zhu, Wu, Wang, Ge (2020), "Dissecting Hessian: Understanding Common Structure of Hessian in Neural
Networks" (``../shared/papers/wu2020_dissecting_hessian.txt``; inventory 000).

- :mod:`.zoo`: the trained networks (F-200^2, LeNet5, their BN variants, LeNet5 on random labels) per
  profile, shared by every notebook;
- :mod:`.experiments`: cached measurements on them (exact and Kronecker-approximated layer-wise
  eigenpairs, overlaps across seeds, factor statistics);
- :mod:`.claims`: the verdicts on the inventory's scoreboard claims.

The structure metrics themselves (Kronecker factors, subspace overlap, matricization, Theorems 4.1 and
F.1) are paper-agnostic and live in :mod:`hessian_spectra.structure`.
"""
