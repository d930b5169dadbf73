"""Helpers of the batch-norm notebook (Wu et al. 2020, §5.3 and App. F.4: Table 8, Figs 27-29).

- :func:`layer_statistics`: the Table 6/8 statistics of one layer's input moments, from
  :func:`hessian_spectra.structure.input_moments` (E[x] and E[x xᵀ] of several layers in one forward pass;
  for a conv layer E[X] (nK₁K₂ × P) and E[X Xᵀ] of the unfolded input), so that the statistics of every
  layer of every seed cost forward passes only (no output Hessian, no layer Hessian).

The layer Hessians (exact and Kronecker eigenpairs, on a class-balanced subset at ``default``) come from
:func:`.experiments.layer_structure`, the peak test from :func:`.claims.peak_test`.

Everything runs in eval mode: the BatchNorm layers (affine=False, after each hidden ReLU, Table 5) use
their running statistics and act as fixed affine maps, as the paper says it treats them ("we fix the
running statistics of batch normalization and treat it as a linear layer during inference").
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from ...structure.autocorrelation import autocorrelation_stats

__all__ = ["layer_statistics"]


def layer_statistics(moments: Mapping[str, Any], top: int = 20) -> dict[str, Any]:
    """Tables 6-8 statistics of one layer from an entry of :func:`hessian_spectra.structure.input_moments`: (v₁ᵀÊ[x])², λ₁/λ₂,
    ‖E[x]E[x]ᵀ‖/‖Σ_x‖, the corrected Eq. (52) bound, λ₁/λ₁₀ and the top ``top`` eigenvalues of E[x xᵀ]."""
    A, mean = moments["autocorrelation"], moments["mean"]
    st = autocorrelation_stats(A, mean)
    ev = torch.linalg.eigvalsh(A).flip(0).cpu().numpy()
    return {"mean_alignment": st.mean_alignment, "spectral_ratio": st.spectral_ratio,
            "mean_to_covariance": st.mean_to_covariance, "bound": st.bound,
            "ratio_1_10": float(ev[0] / ev[9]) if ev.size >= 10 and ev[9] > 0 else float("nan"),
            "top_eigenvalues": ev[:top].tolist(), "n": int(A.shape[0])}
