"""Papyan (2020), "Traces of Class/Cross-Class Structure Pervade Deep Learning Spectra", JMLR 21
(``../shared/papers/papyan2020_traces_class_cross_class.txt``; inventory 001).

- :mod:`.zoo`: the paper's training configurations (VGG11-BN, ResNet18, the 8-layer MLP) per profile, with
  small stand-ins of the same structure on raw, non-centred inputs at smoke / default;
- :mod:`.experiments`: cached spectral computations: deflated LanczosApproxSpec of Hess, G and E on train and
  test data (linear and log scale), G's subtraction knockouts and Gram duals, Fig 6's panels, the MLP's
  per-layer features / errors / weights / G^l / KFAC / CFAC, density comparisons;
- :mod:`.theory`: Lemma 8.1 / Theorem 8.1 (closed form, matrix, sampled simulation), the three-level model of
  Fig 1, Fig 15's synthetic matrices;
- :mod:`.claims`: the rules that turn our numbers into verdicts, with Table 1 generated from our knockouts.

The class decompositions themselves are paper-agnostic and live in :mod:`hessian_spectra.structure`.
"""
