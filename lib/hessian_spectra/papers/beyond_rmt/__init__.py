"""Granziol (2020), *Beyond Random Matrix Theory for Deep Networks*: experiments, metrics and claim rules.

- :mod:`.experiments`: training configurations per profile, cached stem-plot spectra of trained networks,
  the logistic-regression Hessian and Hessian rows of Fig. 5, plotting helpers;
- :mod:`.metrics`: the numbers measured on those spectra and on sampled random matrices (stem-plot metrics,
  KS distances, sample modes, radial CDF distances, row statistics);
- :mod:`.claims`: the rules that score the inventory's claims (``shared/inventory/004_beyond_rmt.md`` §S).
"""
