"""Granziol, Garipov, Zohren, Vetrov, Roberts, Wilson (ICLR 2020 submission), "Towards Understanding the True
Loss Surface of Deep Neural Networks Using Random Matrix Theory and Iterative Spectral Methods"
(``../shared/papers/granziol2020_true_loss_surface_rmt_lanczos.txt``; inventory 002).

- :mod:`.spectra`: the Empirical and Augmented Hessians (the augmented set is
  :class:`hessian_spectra.augmentation.AugmentedData`), one-vector Lanczos stem plots and their statistics
  (extremes, negative mass under three rules, Table 3's heaviest pairs, tick rules, the stem plot);
- :mod:`.theory`: Lemma 3 / Theorem 1 (low rank plus GOE: outlier shift and spectral edge), their
  simulation, the theory-vs-experiment prediction, App. F's dispersion identity and the Lemma 2 CLT check;
- :mod:`.claims`: the verdicts on the inventory's direction claims and the Table 2 erratum;
- :mod:`.zoo`: the training configurations (paper and CPU stand-ins) per profile.
"""
