"""The full-Hessian eigenvector approximation of Wu et al. (2020), App. B (Eqs. (39)-(51)).

For a fully connected network the full Hessian's Gauss-Newton part ("G-term", Eq. (43)) is
E[F_xᵀ A_x F_x] with F_xᵀ = (G_x⁽¹⁾ᵀ ⊗ x̄⁽¹⁾; …; G_x⁽ᴸ⁾ᵀ ⊗ x̄⁽ᴸ⁾) and the extended inputs
x̄⁽ᵖ⁾ = (x⁽ᵖ⁾; 1) (Eqs. (41)-(42)). Concatenating the layer outputs into z̄ = (z⁽¹⁾; …; z⁽ᴸ⁾) ∈ R^{Σm⁽ᵖ⁾}
(Eq. (44)) gives the "full output Hessian"

    E[M̄_x] = E[Ḡ_xᵀ A_x Ḡ_x],   Ḡ_xᵀ = (G_x⁽¹⁾ᵀ; …; G_x⁽ᴸ⁾ᵀ)                       (Eqs. (45)-(47)).

With its eigenpairs (σ_i, u_i), u_i split into layer segments u_i⁽ᵖ⁾ ∈ R^{m⁽ᵖ⁾} (Eq. (48)),

    w_i = (u_i⁽¹⁾ ⊗ E[x̄⁽¹⁾]; …; u_i⁽ᴸ⁾ ⊗ E[x̄⁽ᴸ⁾]),   v_i ≈ w_i/‖w_i‖,   λ_i ≈ σ_i ‖w_i‖²   (Eqs. (49)-(51)),

and Gram-Schmidt on w_1, …, w_k gives the approximate top-k eigenspace. The approximation replaces
x̄⁽ᵖ⁾ by its mean inside F_x (the mean dominates the covariance, App. E.1); it is exact when every
layer input is the same for all samples and all ‖E[x̄⁽ᵖ⁾]‖ are equal (then E[F_xᵀA_xF_x] = B E[M̄] Bᵀ
with B = ‖x̄‖ × an isometry).

Parameter order. PyTorch stores a layer as weight (m, n) and bias (m), so here the vector of layer p
is (vec(u⁽ᵖ⁾ E[x⁽ᵖ⁾]ᵀ), u⁽ᵖ⁾) — weight block row-major, then the bias block — the order of
``model.parameters()`` for :func:`hessian_spectra.models.mlp`, i.e. of ``hessian_operator(model, ...)``.
The paper's u ⊗ x̄ (bias entry interleaved after each row) is the same vector permuted. A layer without
bias has x̄ = x.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..hessian.layerwise import find_layer, iter_layer_factors

__all__ = [
    "FullHessianApproximation",
    "FullOutputHessian",
    "approximate_full_hessian_eigenpairs",
    "full_output_hessian",
    "lift_output_vectors",
]


@dataclass
class FullOutputHessian:
    """E[M̄] over the concatenated layer outputs and the layer input means (App. B).

    Attributes:
        matrix: E[M̄] = E[Ḡ_xᵀ A_x Ḡ_x] (Σm × Σm), layers in ``layer_names`` order.
        layer_names: the fully connected layers, in forward order.
        sizes: m⁽ᵖ⁾ per layer.
        input_means: E[x⁽ᵖ⁾] (n⁽ᵖ⁾,) per layer (without the appended 1).
        has_bias: per layer, whether it has a bias (then x̄ = (x; 1), Eq. (41)).
        num_samples: N.
    """

    matrix: Tensor
    layer_names: list[str]
    sizes: list[int]
    input_means: list[Tensor]
    has_bias: list[bool]
    num_samples: int

    @property
    def num_parameters(self) -> int:
        """P = Σ_p m⁽ᵖ⁾(n⁽ᵖ⁾ + [bias])."""
        return sum(m * (x.numel() + int(b)) for m, x, b in zip(self.sizes, self.input_means, self.has_bias))


def full_output_hessian(
    model: nn.Module,
    data: Any,
    layers: Sequence[nn.Module | str] | None = None,
    batch_size: int | None = None,
    *,
    eval_mode: bool = True,
    dtype: torch.dtype = torch.float64,
    progress: bool | None = False,
) -> FullOutputHessian:
    """E[M̄] = E[Ḡ_xᵀ A_x Ḡ_x] over the concatenated outputs of ``layers`` and E[x⁽ᵖ⁾] (Wu et al. 2020,
    App. B, Eqs. (44)-(47)), in one pass with c backward passes per batch (inventory 000 §L1.7).

    Args:
        model: a fully connected network returning logits (B, c); cross-entropy loss (Eq. (3)).
        data, batch_size: as for :func:`~hessian_spectra.hessian.hessian_operator` (default one batch).
        layers: the ``nn.Linear`` layers in forward order (default: every ``nn.Linear`` in registration
            order, which is the forward order of :func:`hessian_spectra.models.mlp`).
        eval_mode, progress: as for :func:`~hessian_spectra.structure.kronecker_factors`.
        dtype: accumulation dtype (default float64; not from the paper).
    """
    if layers is None:
        names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        if not names:
            raise ValueError("the model has no nn.Linear layers")
    else:
        if isinstance(layers, (str, nn.Module)) or len(layers) == 0:
            raise ValueError("layers must be a non-empty sequence of nn.Linear layers or their names")
        names = [find_layer(model, layer)[0] for layer in layers]
    modules = dict(model.named_modules())
    for name in names:
        if not isinstance(modules[name], nn.Linear):
            raise ValueError(f"layer {name!r} is a {type(modules[name]).__name__}; App. B is for fully "
                             "connected layers (nn.Linear)")
    sizes = [int(modules[n].out_features) for n in names]
    total: Tensor | None = None
    sums: list[Tensor] | None = None
    count = 0
    for batch in iter_layer_factors(model, list(names), data, batch_size, eval_mode=eval_mode,
                                    progress=progress):
        for name in names:
            if batch.inputs[name].ndim != 2:
                raise ValueError(f"layer {name!r} got inputs of shape {tuple(batch.inputs[name].shape)}; "
                                 "expected (batch, n)")
        Nbar = torch.cat([batch.roots[n].to(dtype) for n in names], dim=2)  # (B, c, Σm)
        M_b = torch.einsum("bja,bjc->ac", Nbar, Nbar)
        x_b = [batch.inputs[n].to(dtype).sum(0) for n in names]
        total = M_b if total is None else total + M_b
        sums = x_b if sums is None else [s + x for s, x in zip(sums, x_b)]
        count += batch.num_samples
    if total is None or sums is None or count == 0:
        raise ValueError("data yielded no samples: cannot form a mean over an empty data set")
    M = total / count
    return FullOutputHessian((M + M.T) / 2, list(names), sizes, [s / count for s in sums],
                             [modules[n].bias is not None for n in names], count)


def lift_output_vectors(full: FullOutputHessian, U: Tensor) -> Tensor:
    """w = (u⁽¹⁾ ⊗ E[x̄⁽¹⁾]; …; u⁽ᴸ⁾ ⊗ E[x̄⁽ᴸ⁾]) (Wu et al. 2020, Eq. (49)) for each column u of U (Σm, k),
    in the parameter order of the module docstring (per layer: weight block row-major, then bias).
    Returns (P, k)."""
    total = sum(full.sizes)
    if not isinstance(U, Tensor) or U.ndim not in (1, 2) or U.shape[0] != total:
        raise ValueError(f"U must have shape (Σm = {total},) or ({total}, k), got "
                         f"{tuple(U.shape) if isinstance(U, Tensor) else type(U).__name__}")
    single = U.ndim == 1
    if single:
        U = U.unsqueeze(1)
    dtype = torch.promote_types(U.dtype, full.matrix.dtype)
    U = U.to(dtype)
    parts = []
    for seg, mean, bias in zip(torch.split(U, full.sizes, dim=0), full.input_means, full.has_bias):
        mean = mean.to(device=U.device, dtype=dtype)
        parts.append((seg.unsqueeze(1) * mean.view(1, -1, 1)).reshape(-1, U.shape[1]))  # vec(u E[x]ᵀ)
        if bias:
            parts.append(seg)  # u ⊗ 1
    W = torch.cat(parts, dim=0)
    return W[:, 0] if single else W


@dataclass
class FullHessianApproximation:
    """App. B's approximate top eigenpairs of the full Hessian.

    Attributes:
        eigenvalues: (k,) σ_i ‖w_i‖² (Eq. (51)), in the order of σ_i (descending).
        eigenvectors: (P, k) w_i/‖w_i‖ (Eq. (50)).
        basis: (P, k) Gram-Schmidt (QR) of w_1 … w_k: orthonormal, spans the approximate top-k space.
        output_eigenvalues: (k,) σ_i of E[M̄].
        output_eigenvectors: (Σm, k) u_i.
    """

    eigenvalues: Tensor
    eigenvectors: Tensor
    basis: Tensor
    output_eigenvalues: Tensor
    output_eigenvectors: Tensor


def approximate_full_hessian_eigenpairs(full: FullOutputHessian, k: int) -> FullHessianApproximation:
    """The top-k eigenpairs of the full Hessian approximated from the full output Hessian (Wu et al.
    2020, App. B, Eqs. (48)-(51)): σ_i, u_i the top eigenpairs of E[M̄], w_i = lift(u_i) (Eq. (49)),
    λ_i ≈ σ_i‖w_i‖², v_i ≈ w_i/‖w_i‖, and an orthonormal basis of span{w_1 … w_k} by Gram-Schmidt. The
    pairs are kept in the order of σ_i (the paper's pairing of the i-th eigenvalues); sort
    ``eigenvalues`` yourself to rank them by the approximate λ_i."""
    total = sum(full.sizes)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= total:
        raise ValueError(f"k must be an integer in [1, Σm = {total}], got {k!r}")
    sigma, U = torch.linalg.eigh(full.matrix)
    sigma, U = sigma.flip(0)[:k], U.flip(1)[:, :k]
    W = lift_output_vectors(full, U)
    norms = W.norm(dim=0)
    if bool((norms == 0).any()):
        raise ValueError("a lifted vector w_i is zero (all E[x̄] zero?): its direction is undefined")
    Q, _ = torch.linalg.qr(W)
    return FullHessianApproximation(sigma * norms**2, W / norms, Q, sigma, U)
