"""Helpers of the batch-norm notebook (Wu et al. 2020, §5.3 and App. F.4: Table 8, Figs 27-29).

- :func:`input_moments`: E[x] and E[x xᵀ] of the inputs of several layers in one forward pass (for a
  conv layer E[X] (nK₁K₂ × P) and E[X Xᵀ] of the unfolded input, the convention of
  :func:`hessian_spectra.structure.kronecker_factors`), so that the Table 6/8 statistics of every layer of
  every seed cost forward passes only (no output Hessian, no layer Hessian);
- :func:`layer_statistics`: the Table 6/8 statistics of those moments.

The layer Hessians (exact and Kronecker eigenpairs, on a class-balanced subset at ``default``) come from
:func:`.experiments.layer_structure`, the peak test from :func:`.claims.peak_test`.

Everything runs in eval mode: the BatchNorm layers (affine=False, after each hidden ReLU, Table 5) use
their running statistics and act as fixed affine maps, as the paper says it treats them ("we fix the
running statistics of batch normalization and treat it as a linear layer during inference").
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import Tensor, nn

from ...hessian.data_loop import Batches, model_mode
from ...hessian.layerwise import find_layer, layer_input_matrix, layer_kind
from ...structure.autocorrelation import autocorrelation_stats

__all__ = ["input_moments", "layer_statistics"]


def input_moments(model: nn.Module, data: Any, layers: Sequence[str], batch_size: int | None = 1000, *,
                  eval_mode: bool = True, dtype: torch.dtype = torch.float64) -> dict[str, dict[str, Tensor]]:
    """E[x] and E[x xᵀ] of the input of each of ``layers`` over ``data``, from forward passes only.

    Args:
        model: the network (logits out).
        data: (x, y) or anything :class:`~hessian_spectra.hessian.data_loop.Batches` accepts.
        layers: the paper's names (``"fc1"``, ``"conv2"``) or module names.
        batch_size: samples per forward pass (bounds memory only).
        eval_mode: batch norm with running statistics (default True, App. D.2 / Table 5).
        dtype: of the sums (default float64).

    Returns ``{layer: {"mean": E[x] (n,) or E[X] (n, P), "autocorrelation": E[x xᵀ] (n, n), "kind":
    "linear" | "conv", "count": N}}``; for a conv layer E[X Xᵀ] = E[Σ_p X_p X_pᵀ] (no 1/P, as
    :func:`~hessian_spectra.structure.kronecker_factors`).
    """
    if isinstance(layers, str):
        layers = [layers]
    found = {}
    for layer in layers:
        name, mod = find_layer(model, layer)
        layer_kind(name, mod)
        found[layer] = (name, mod)
    sums: dict[str, list[Any]] = {layer: [None, None] for layer in layers}
    seen: dict[str, list[Tensor]] = {layer: [] for layer in layers}
    handles = [mod.register_forward_hook(lambda _m, inp, _o, layer=layer: seen[layer].append(inp[0].detach()))
               for layer, (_, mod) in found.items()]
    count = 0
    try:
        with model_mode(model, eval_mode), torch.no_grad():
            for x, _ in Batches.for_model(model, data, batch_size):
                for v in seen.values():
                    v.clear()
                model(x)
                for layer, (name, mod) in found.items():
                    if len(seen[layer]) != 1:
                        raise ValueError(f"layer {name!r} ran {len(seen[layer])} times in one forward pass")
                    X = layer_input_matrix(name, mod, seen[layer][0]).to(dtype)
                    xx = X.T @ X if X.ndim == 2 else torch.einsum("bip,bjp->ij", X, X)
                    s = sums[layer]
                    s[0] = X.sum(0) if s[0] is None else s[0] + X.sum(0)
                    s[1] = xx if s[1] is None else s[1] + xx
                count += int(x.shape[0])
    finally:
        for h in handles:
            h.remove()
    if count == 0:
        raise ValueError("data yielded no samples: cannot form a mean over an empty data set")
    out = {}
    for layer, (name, mod) in found.items():
        mean, xx = sums[layer][0] / count, sums[layer][1] / count
        out[layer] = {"mean": mean, "autocorrelation": (xx + xx.T) / 2, "kind": layer_kind(name, mod), "count": count}
    return out


def layer_statistics(moments: Mapping[str, Any], top: int = 20) -> dict[str, Any]:
    """Tables 6-8 statistics of one layer from :func:`input_moments`' entry: (v₁ᵀÊ[x])², λ₁/λ₂,
    ‖E[x]E[x]ᵀ‖/‖Σ_x‖, the corrected Eq. (52) bound, λ₁/λ₁₀ and the top ``top`` eigenvalues of E[x xᵀ]."""
    A, mean = moments["autocorrelation"], moments["mean"]
    st = autocorrelation_stats(A, mean)
    ev = torch.linalg.eigvalsh(A).flip(0).cpu().numpy()
    return {"mean_alignment": st.mean_alignment, "spectral_ratio": st.spectral_ratio,
            "mean_to_covariance": st.mean_to_covariance, "bound": st.bound,
            "ratio_1_10": float(ev[0] / ev[9]) if ev.size >= 10 and ev[9] > 0 else float("nan"),
            "top_eigenvalues": ev[:top].tolist(), "n": int(A.shape[0])}
