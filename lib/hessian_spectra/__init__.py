"""hessian_spectra: a replication library for five papers on neural-network Hessian spectra.

Modules (each owns one idea):

- :mod:`hessian_spectra.data` -- datasets by name, a local search path, derived variants.
- :mod:`hessian_spectra.hessian` -- Hessian / GGN operators, Lanczos, SLQ densities, traces.
- :mod:`hessian_spectra.rmt` -- random-matrix densities and samplers.
- :mod:`hessian_spectra.linear_nets` -- closed-form spectra of deep linear networks.
- :mod:`hessian_spectra.models`, :mod:`hessian_spectra.training` -- the papers' networks.
- :mod:`hessian_spectra.report` -- figures with a JSON of their numbers and claim checks.
- :mod:`hessian_spectra.catalog`, :mod:`hessian_spectra.runner` -- the figure catalog and ``run_all.sh``.
"""

__version__ = "0.1.0"
