"""Curvature structure shared by several papers: quantities that explain the structure of Hessian
spectra, one module per idea.

Modules (Wu et al. 2020, "Dissecting Hessian", unless stated):

- :mod:`.kronecker`: Kronecker factors of a layer's Hessian over a data set, the output Hessian E[M]
  and the input autocorrelation E[x xᵀ] (with E[x], Σ_x) for linear and convolutional layers (Secs 3-4,
  App. A.2 with the 1/P normalisation), in one pass with c backward passes; the top eigenpairs of
  E[M] ⊗ E[x xᵀ] from the factors' eigenpairs (App. C). :func:`kronecker_factors`,
  :func:`output_hessian`, :func:`input_autocorrelation`, :func:`kronecker_eigenpairs`.
- :mod:`.overlap`: subspace overlap (Def. 4.1, with the square; the printed form beside it), overlap
  curves over k and over all pairs of models with the random baseline k/D, matricization (Def. 4.2,
  row-major; the printed index beside it), σ₁/‖σ‖ (Figs 6, 22), correspondence matrices (Def. 4.3).
- :mod:`.autocorrelation`: the statistics of Tables 6-8 ((v₁ᵀÊ[x])², λ₁/λ₂, ‖E[x]E[x]ᵀ‖/‖Σ_x‖ and the
  corrected Eq. (52) bound) and Theorem F.1 (its condition τ_m γ₁ > τ₁ γ₂ and predicted overlap).
- :mod:`.output_subspace`: the closed-form top eigenspace of E[M] (Theorem 4.1 / H.1, Eq. (56):
  S⁽ᵖ⁾ = W⁽ᴸ⁾⋯W⁽ᵖ⁺¹⁾, span{S⁽ᵖ⁾ᵀv : v ⊥ 1_c}, M̃ = κ SᵀĀS; Table 10).
- :mod:`.full_hessian`: the full-Hessian approximation of App. B (full output Hessian over the
  concatenated layer outputs, w_i = (u_i⁽ᵖ⁾ ⊗ E[x̄⁽ᵖ⁾])_p, λ_i ≈ σ_i‖w_i‖², Eqs. (44)-(51)).

The exact layer-wise Hessian product of a fully connected layer (a curvature *operator*) lives in the
engine, :func:`hessian_spectra.hessian.fc_layer_hessian`. Planned here: class / cross-class
decompositions of G (Papyan 2020). One paper's own experiments go to ``hessian_spectra.papers.<key>``.
"""

from ..hessian.layerwise import find_layer
from .autocorrelation import (
    AutocorrelationStats,
    TheoremF1Condition,
    autocorrelation_stats,
    mean_alignment,
    mean_to_covariance_ratio,
    spectral_ratio,
    spectral_ratio_bound,
    theorem_f1_condition,
    theorem_f1_overlap,
)
from .full_hessian import (
    FullHessianApproximation,
    FullOutputHessian,
    approximate_full_hessian_eigenpairs,
    full_output_hessian,
    lift_output_vectors,
)
from .kronecker import (
    KroneckerEigenpairs,
    KroneckerFactors,
    input_autocorrelation,
    kronecker_eigenpairs,
    kronecker_factors,
    mean_direction,
    output_hessian,
)
from .output_subspace import (
    approximate_output_hessian,
    layer_weight_product,
    mean_softmax_hessian,
    predicted_output_subspace,
    random_two_layer_weights,
    weight_product,
)
from .overlap import (
    OverlapCurve,
    correspondence_matrix,
    matricize,
    overlap_curve,
    pairwise_overlap_curve,
    random_overlap_baseline,
    subspace_overlap,
    subspace_overlap_as_printed,
    top_singular_ratio,
)

__all__ = [
    "AutocorrelationStats",
    "FullHessianApproximation",
    "FullOutputHessian",
    "KroneckerEigenpairs",
    "KroneckerFactors",
    "OverlapCurve",
    "TheoremF1Condition",
    "approximate_full_hessian_eigenpairs",
    "approximate_output_hessian",
    "autocorrelation_stats",
    "correspondence_matrix",
    "find_layer",
    "full_output_hessian",
    "input_autocorrelation",
    "kronecker_eigenpairs",
    "kronecker_factors",
    "layer_weight_product",
    "lift_output_vectors",
    "matricize",
    "mean_alignment",
    "mean_direction",
    "mean_softmax_hessian",
    "mean_to_covariance_ratio",
    "output_hessian",
    "overlap_curve",
    "pairwise_overlap_curve",
    "predicted_output_subspace",
    "random_overlap_baseline",
    "random_two_layer_weights",
    "spectral_ratio",
    "spectral_ratio_bound",
    "subspace_overlap",
    "subspace_overlap_as_printed",
    "theorem_f1_condition",
    "theorem_f1_overlap",
    "top_singular_ratio",
    "weight_product",
]
