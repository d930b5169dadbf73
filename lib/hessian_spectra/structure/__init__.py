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
engine, :func:`hessian_spectra.hessian.fc_layer_hessian`. One paper's own experiments go to
``hessian_spectra.papers.<key>``.

Papyan (2020), "Traces of class/cross-class structure":

- :mod:`.class_moments`: class moments of per-sample vectors (h_c, H_class, H_within, Σ_B, Σ_W; §7.4) and
  weighted cross-class moments (w_{c,c'}, v_{c,c'}, v_c and the decomposition V = V_class + V_cross +
  V_within + V_{c=c'} of Eq. (6.4)/(A.1), §7.7), with low-rank operators, knockouts and Gram duals.
- :mod:`.class_gradients`: extended gradients g_{i,c,c'} = J_iᵀ(p_i − e_{c'}) (Eq. (6.1)); the C² gradient
  cross-class means in one pass with C backward passes over class-sorted data; Tr G_within,c (Fig 6).
- :mod:`.class_layers`: per fully connected layer, features H^{l−1}, backpropagated errors Δ^l, G^l_KFAC,
  G^l_CFAC (Defs. 7.1-7.2) and W^l_class (§7.13) in one pass with C backward passes.
- :mod:`.knockout`: subtraction and projection knockouts (Defs. 3.1-3.2), low-rank operators.
- :mod:`.gram`: spectra of low-rank second moments through Gram duals, G's spectrum through the NTK dual.
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
from .class_gradients import (
    ExtendedGradients,
    class_ggn_traces,
    extended_gradients,
    gradient_class_means,
    per_sample_jacobians,
    within_class_traces,
)
from .class_layers import KroneckerSumOperator, LayerClassStatistics, feature_class_moments, layer_class_statistics
from .class_moments import (
    COMPONENTS,
    ClassMoments,
    CrossClassMoments,
    class_covariances,
    class_moments,
    cross_class_moments,
)
from .full_hessian import (
    FullHessianApproximation,
    FullOutputHessian,
    approximate_full_hessian_eigenpairs,
    full_output_hessian,
    lift_output_vectors,
)
from .gram import GramSpectrum, ggn_ntk_dual, gram_dual, gram_dual_eigenvalues, ntk_gram
from .knockout import LowRankOperator, ProjectionKnockout, orthonormal_basis, projection_knockout, subtraction_knockout
from .kronecker import (
    KroneckerEigenpairs,
    KroneckerFactors,
    input_autocorrelation,
    input_moments,
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
    "COMPONENTS",
    "ClassMoments",
    "CrossClassMoments",
    "ExtendedGradients",
    "FullHessianApproximation",
    "FullOutputHessian",
    "GramSpectrum",
    "KroneckerEigenpairs",
    "KroneckerFactors",
    "KroneckerSumOperator",
    "LayerClassStatistics",
    "LowRankOperator",
    "OverlapCurve",
    "ProjectionKnockout",
    "TheoremF1Condition",
    "approximate_full_hessian_eigenpairs",
    "approximate_output_hessian",
    "autocorrelation_stats",
    "class_covariances",
    "class_ggn_traces",
    "class_moments",
    "correspondence_matrix",
    "cross_class_moments",
    "extended_gradients",
    "feature_class_moments",
    "find_layer",
    "full_output_hessian",
    "ggn_ntk_dual",
    "gradient_class_means",
    "gram_dual",
    "gram_dual_eigenvalues",
    "input_autocorrelation",
    "input_moments",
    "kronecker_eigenpairs",
    "kronecker_factors",
    "layer_class_statistics",
    "layer_weight_product",
    "lift_output_vectors",
    "matricize",
    "mean_alignment",
    "mean_direction",
    "mean_softmax_hessian",
    "mean_to_covariance_ratio",
    "ntk_gram",
    "orthonormal_basis",
    "output_hessian",
    "overlap_curve",
    "pairwise_overlap_curve",
    "per_sample_jacobians",
    "predicted_output_subspace",
    "projection_knockout",
    "random_overlap_baseline",
    "random_two_layer_weights",
    "spectral_ratio",
    "spectral_ratio_bound",
    "subspace_overlap",
    "subspace_overlap_as_printed",
    "subtraction_knockout",
    "theorem_f1_condition",
    "theorem_f1_overlap",
    "top_singular_ratio",
    "weight_product",
    "within_class_traces",
]
