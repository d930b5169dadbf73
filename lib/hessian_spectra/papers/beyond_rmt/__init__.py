"""Granziol (2020), *Beyond Random Matrix Theory for Deep Networks*: experiments and claim rules.

- :mod:`.experiments`: training configurations per profile, cached stem-plot spectra of trained networks,
  stem-plot metrics, the logistic-regression Hessian of Fig. 5;
- :mod:`.claims`: the rules that score the inventory's claims (``shared/inventory/004_beyond_rmt.md`` §S).
"""
