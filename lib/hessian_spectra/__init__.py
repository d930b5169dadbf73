"""hessian_spectra: a replication library for five papers on neural-network Hessian spectra.

The package reads as its folders: paper-agnostic tools at the top, one folder per paper, the pipeline apart.

- :mod:`hessian_spectra.hessian` -- the engine: curvature operators over whole data sets (Hessian,
  Gauss-Newton, their differences, deflated operators) and spectral algorithms (Lanczos, SLQ, traces).
- :mod:`hessian_spectra.structure` -- curvature structure shared by papers (Kronecker factors,
  subspace overlap, class decompositions).
- :mod:`hessian_spectra.rmt` -- random-matrix densities and samplers.
- :mod:`hessian_spectra.linear_nets` -- closed-form spectra of deep linear networks.
- :mod:`hessian_spectra.data`, :mod:`hessian_spectra.models`, :mod:`hessian_spectra.training` -- datasets,
  the papers' networks, and their training.
- :mod:`hessian_spectra.papers` -- one package per paper: its experiments and claim rules.
- :mod:`hessian_spectra.pipeline` -- catalog, notebook runner, figures with JSON, claims, profiles, caches.
"""

__version__ = "0.1.0"
