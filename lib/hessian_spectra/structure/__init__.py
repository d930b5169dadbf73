"""Curvature structure shared by several papers (a place decided now, filled by the paper issues).

What belongs here: quantities that explain the structure of Hessian spectra and are used by more than
one paper, each in a module that owns one idea, for example

- Kronecker factors of layer-wise Hessians, E[M] (the output Hessian) and E[x x^T] (the input
  autocorrelation), for linear and convolutional layers (Wu et al. 2020, Sec. 3; App. A.2);
- subspace overlap of top eigenspaces across models, matricization and correspondence matrices
  (Wu et al. 2020, Sec. 4);
- class / cross-class / within-class decompositions of G, knockouts and Gram duals (Papyan 2020).

Curvature *operators* (products with a Hessian or Gauss-Newton matrix over a data set) belong to
:mod:`hessian_spectra.hessian`; one paper's own experiments to ``hessian_spectra.papers.<key>``.
"""
