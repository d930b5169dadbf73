"""Kronecker factors of a layer's Hessian over a data set (Wu et al. 2020, Secs. 3-4, App. A, App. C).

Fully connected layer p, z = W x + b, W ∈ R^{m×n}, w = vec(W) row-major (PyTorch's
``weight.reshape(-1)``). Per sample, H_ℓ(w, x) = M_x ⊗ x xᵀ exactly (Eq. (17)), so the layer-wise
Hessian of the mean loss is H_L(w) = E[M_x ⊗ x xᵀ] (Eq. (6)), and the decoupling conjecture (Eq. (7))
approximates it by

    Ĥ = E[M] ⊗ E[x xᵀ],    E[M] = E[G_xᵀ A_x G_x] = E[N_xᵀ N_x]  (the "output Hessian", m×m),
                             E[x xᵀ]                            (the "input autocorrelation", n×n),

with N_x = Q_x G_x, Q_x = diag(√p)(I − 1pᵀ), G_x = ∂z_L/∂z (Eqs. (22), (24), (28), (35)). E is the mean
over the data (Eq. (3); Eq. (13)'s sum is an erratum, inventory 000 §E6). The auto-covariance is
Σ_x = E[x xᵀ] − E[x] E[x]ᵀ (§4.3). E[M] is the bias block of the Hessian, H_L(b) = E[M_x] (Eq. (27)).

E[M] is the Gauss-Newton part of H_ℓ(z, x) (Eq. (18)); it is the exact output Hessian when every module
after the layer is piecewise linear (ReLU, max-pool, ...: Eq. (23), inventory 000 fact 2), which
:attr:`KroneckerFactors.exact` records.

Convolutional layer (App. A.2; m output channels, n input channels, kernel K₁×K₂, P = P₁P₂ output
positions; the text swaps m and n once, inventory 000 §E7): Z = W X + B with W ∈ R^{m×nK₁K₂} and the
unfolded input X ∈ R^{nK₁K₂×P}. N_x (c × mP) is reshaped to N̂_x ∈ R^{cP×m} and

    M̂_x = (1/P) N̂_xᵀ N̂_x  (Eq. (36)),     H_L(w) ≈ E[M̂] ⊗ E[X Xᵀ]  (Eq. (38)).

Here "E[x]" is E[X] (nK₁K₂ × P), Ê[x] its first left singular vector (App. E.1), and
Σ_X = E[X Xᵀ] − E[X] E[X]ᵀ.

Eigenpairs of Ĥ (App. C; inventory 000 fact 4): with E[M] = Σ τ_a u_a u_aᵀ and E[xxᵀ] = Σ γ_b v_b v_bᵀ,
Ĥ (u_a ⊗ v_b) = τ_a γ_b (u_a ⊗ v_b) and u_a ⊗ v_b = vec(u_a v_bᵀ) row-major; the top k are selected
among the m·n products without forming the mn×mn matrix. (Eq. (7)'s printed Kronecker index is an
erratum, §E1; ``torch.kron`` is the definition used.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..hessian.data_loop import Batches, model_mode
from ..hessian.layerwise import find_layer, iter_layer_factors, layer_input_matrix, layer_kind

__all__ = [
    "KroneckerEigenpairs",
    "KroneckerFactors",
    "input_autocorrelation",
    "input_moments",
    "kronecker_eigenpairs",
    "kronecker_factors",
    "mean_direction",
    "output_hessian",
]


@dataclass
class KroneckerEigenpairs:
    """Top eigenpairs of E[M] ⊗ E[x xᵀ] (App. C).

    Attributes:
        eigenvalues: (k,) τ_a γ_b in descending order.
        eigenvectors: (mn, k) unit vectors u_a ⊗ v_b = vec(u_a v_bᵀ) (row-major).
        output_index: (k,) a, the index of u_a among E[M]'s eigenvectors (descending eigenvalues).
        input_index: (k,) b, the index of v_b among E[x xᵀ]'s eigenvectors (descending).
    """

    eigenvalues: Tensor
    eigenvectors: Tensor
    output_index: Tensor
    input_index: Tensor


@dataclass
class KroneckerFactors:
    """The Kronecker factors of one layer's Hessian over a data set (see the module docstring).

    Attributes:
        layer_name: the layer's qualified name in the model.
        kind: ``"linear"`` or ``"conv"``.
        output_hessian: E[M] (m×m) for a linear layer, E[M̂] = E[(1/P) N̂ᵀN̂] for a conv layer (Eq. (36)).
        input_autocorrelation: E[x xᵀ] (n×n), for a conv layer E[X Xᵀ] (nK₁K₂ × nK₁K₂).
        input_mean: E[x] (n,), for a conv layer E[X] (nK₁K₂, P).
        input_covariance: Σ_x = E[x xᵀ] − E[x]E[x]ᵀ (for conv: E[XXᵀ] − E[X]E[X]ᵀ).
        num_samples: N.
        num_positions: P (1 for a linear layer).
        not_piecewise_linear: downstream modules through which Eq. (23) fails (empty: E[M] is exact).
    """

    layer_name: str
    kind: str
    output_hessian: Tensor
    input_autocorrelation: Tensor
    input_mean: Tensor
    input_covariance: Tensor
    num_samples: int
    num_positions: int = 1
    not_piecewise_linear: list[str] = field(default_factory=list)

    @property
    def m(self) -> int:
        """Output dimension m (output channels for conv)."""
        return int(self.output_hessian.shape[0])

    @property
    def n(self) -> int:
        """Input dimension n (nK₁K₂ for conv)."""
        return int(self.input_autocorrelation.shape[0])

    @property
    def exact(self) -> bool:
        """Whether E[M] is the exact output Hessian E[H_ℓ(z, x)] (everything after the layer is
        piecewise linear, Eq. (23)); else it is its Gauss-Newton part E[G_xᵀ A_x G_x]."""
        return not self.not_piecewise_linear

    def mean_direction(self) -> Tensor:
        """Ê[x]: E[x]/‖E[x]‖ (linear), or the first left singular vector of E[X] (conv, App. E.1);
        sign chosen so that its entries sum to a non-negative number."""
        return mean_direction(self.input_mean)

    def approximate_hessian(self) -> Tensor:
        """The dense Ĥ = E[M] ⊗ E[x xᵀ] (mn × mn; Eq. (7), Eq. (38) for conv), for small layers."""
        # contiguous: torch.kron of strided inputs can fail ("view size is not compatible")
        return torch.kron(self.output_hessian.contiguous(), self.input_autocorrelation.contiguous())

    def eigenpairs(self, k: int) -> KroneckerEigenpairs:
        """Top-k eigenpairs of Ĥ from the factors' eigenpairs (:func:`kronecker_eigenpairs`)."""
        return kronecker_eigenpairs(self.output_hessian, self.input_autocorrelation, k)


def mean_direction(mean: Tensor) -> Tensor:
    """Ê[x] from E[x] (n,) or E[X] (n, P) (App. E.1); see :meth:`KroneckerFactors.mean_direction`."""
    if not isinstance(mean, Tensor) or mean.ndim not in (1, 2):
        raise ValueError(f"the input mean must be a tensor (n,) or (n, P), got "
                         f"{tuple(mean.shape) if isinstance(mean, Tensor) else type(mean).__name__}")
    if mean.ndim == 2 and mean.shape[1] == 1:
        mean = mean[:, 0]
    if mean.ndim == 1:
        norm = mean.norm()
        if norm == 0:
            raise ValueError("E[x] is zero: its direction is undefined")
        v = mean / norm
    else:
        U, S, _ = torch.linalg.svd(mean, full_matrices=False)
        if S[0] == 0:
            raise ValueError("E[X] is zero: its first singular vector is undefined")
        v = U[:, 0]
    return -v if v.sum() < 0 else v


def kronecker_factors(
    model: nn.Module,
    layer: nn.Module | str,
    data: Any,
    batch_size: int | None = None,
    *,
    eval_mode: bool = True,
    dtype: torch.dtype = torch.float64,
    progress: bool | None = False,
) -> KroneckerFactors:
    """E[M], E[x xᵀ], E[x] and Σ_x of ``layer`` over ``data`` in one pass with c backward passes per
    batch (Wu et al. 2020, Eqs. (6)-(7), (24), (27), (35); App. A.2 Eqs. (36), (38) for conv layers;
    inventory 000 §L1.6).

    Args:
        model: maps inputs to logits (B, c); the loss is cross-entropy (Eq. (3)).
        layer: an ``nn.Linear`` or ``nn.Conv2d`` submodule, its name, or the paper's ``"fc1"``/``"conv2"``.
        data, batch_size: as for :func:`~hessian_spectra.hessian.hessian_operator` (default
            ``batch_size=None``: one batch; not from the paper, it only bounds memory).
        eval_mode: batch norm with running statistics during the pass (default True, as the engine;
            not stated by the paper; samples must not interact for the per-sample formulas).
        dtype: accumulation dtype of the sums (default float64: the m×m and n×n sums are cheap;
            not from the paper).
        progress: tqdm over batches.

    Returns:
        :class:`KroneckerFactors`. The labels are not used: A_x = diag(p) − ppᵀ does not depend on them.
    """
    name, mod = find_layer(model, layer)
    kind = layer_kind(name, mod)
    sum_M = sum_xx = sum_x = None
    count = 0
    positions = 1
    bad: list[str] = []
    for i, batch in enumerate(iter_layer_factors(model, [name], data, batch_size, eval_mode=eval_mode,
                                                 progress=progress)):
        if i == 0:
            bad = batch.not_piecewise_linear
        X = layer_input_matrix(name, mod, batch.inputs[name]).to(dtype)
        Nr = batch.roots[name].to(dtype)  # (B, c, m) or (B, c, m, P1, P2)
        if kind == "linear":
            M_b = torch.einsum("bja,bjc->ac", Nr, Nr)
            xx_b = X.T @ X
            x_b = X.sum(0)
        else:
            Nr = Nr.reshape(Nr.shape[0], Nr.shape[1], Nr.shape[2], -1)  # (B, c, m, P)
            positions = Nr.shape[-1]
            if X.shape[-1] != positions:  # pragma: no cover - unfold and the conv disagree
                raise RuntimeError(f"unfold gave {X.shape[-1]} positions, the conv output {positions}")
            M_b = torch.einsum("bjap,bjcp->ac", Nr, Nr) / positions
            xx_b = torch.einsum("bip,bjp->ij", X, X)
            x_b = X.sum(0)
        sum_M = M_b if sum_M is None else sum_M + M_b
        sum_xx = xx_b if sum_xx is None else sum_xx + xx_b
        sum_x = x_b if sum_x is None else sum_x + x_b
        count += batch.num_samples
    if count == 0 or sum_M is None or sum_xx is None or sum_x is None:
        raise ValueError("data yielded no samples: cannot form a mean over an empty data set")
    E_M = sum_M / count
    E_xx = sum_xx / count
    E_x = sum_x / count
    E_M = (E_M + E_M.T) / 2
    E_xx = (E_xx + E_xx.T) / 2
    cov = E_xx - (E_x @ E_x.T if E_x.ndim == 2 else torch.outer(E_x, E_x))
    return KroneckerFactors(name, kind, E_M, E_xx, E_x, (cov + cov.T) / 2, count, positions, bad)


def output_hessian(
    model: nn.Module,
    layer: nn.Module | str,
    data: Any,
    batch_size: int | None = None,
    **kwargs: Any,
) -> Tensor:
    """The layer-wise output Hessian E[M] = E[G_xᵀ A_x G_x] (m×m; Wu et al. 2020, Eqs. (24), (27); for a
    conv layer E[M̂] of Eq. (36)). Arguments as for :func:`kronecker_factors` (same single pass)."""
    return kronecker_factors(model, layer, data, batch_size, **kwargs).output_hessian


def input_moments(
    model: nn.Module,
    layers: Sequence[nn.Module | str],
    data: Any,
    batch_size: int | None = None,
    *,
    eval_mode: bool = True,
    dtype: torch.dtype = torch.float64,
) -> dict[str, dict[str, Any]]:
    """The input autocorrelation E[x xᵀ] and mean E[x] of several layers in one pass of forward passes only
    (no backward pass), enough for the statistics of Tables 6-8 (Wu et al. 2020;
    :func:`~hessian_spectra.structure.autocorrelation.autocorrelation_stats`) of every layer of a network at
    the cost of one epoch of inference.

    Returns ``{layer as given: {"autocorrelation": E[x xᵀ] (n×n), "mean": E[x] (n,), "kind": "linear" | "conv",
    "count": N}}``; for a conv layer E[X Xᵀ] = E[Σ_p X_p X_pᵀ] of the unfolded inputs (Eq. (38), no 1/P) and
    E[X] (n, P), the convention of :func:`kronecker_factors`. Arguments as for :func:`kronecker_factors`
    (``eval_mode``: batch norm with running statistics, restored afterwards)."""
    if isinstance(layers, (str, nn.Module)):
        layers = [layers]
    resolved = [(key, *find_layer(model, key)) for key in layers]
    if not resolved:
        raise ValueError("layers is empty: name at least one layer")
    for _, name, mod in resolved:
        layer_kind(name, mod)
    batches = Batches.for_model(model, data, batch_size)
    seen: dict[str, list[Tensor]] = {name: [] for _, name, _ in resolved}
    sums: dict[str, list[Tensor]] = {}
    count = 0

    def hook(name: str) -> Any:
        return lambda _m, inp, _out: seen[name].append(inp[0].detach())

    handles = [mod.register_forward_hook(hook(name)) for _, name, mod in resolved]
    try:
        with model_mode(model, eval_mode), torch.no_grad():
            for x, _ in batches:
                for v in seen.values():
                    v.clear()
                model(x)
                for _, name, mod in resolved:
                    if len(seen[name]) != 1:
                        raise ValueError(f"layer {name!r} ran {len(seen[name])} times in one forward pass "
                                         "(expected once)")
                    X = layer_input_matrix(name, mod, seen[name][0]).to(dtype)
                    xx = X.T @ X if X.ndim == 2 else torch.einsum("bip,bjp->ij", X, X)
                    if name in sums:
                        sums[name][0] += xx
                        sums[name][1] += X.sum(0)
                    else:
                        sums[name] = [xx, X.sum(0)]
                count += int(x.shape[0])
    finally:
        for h in handles:
            h.remove()
    if count == 0:
        raise ValueError("data yielded no samples: cannot form a mean over an empty data set")
    out: dict[str, dict[str, Any]] = {}
    for key, name, mod in resolved:
        xx, xs = sums[name]
        E_xx = xx / count
        out[key if isinstance(key, str) else name] = {"autocorrelation": (E_xx + E_xx.T) / 2, "mean": xs / count,
                                                      "kind": layer_kind(name, mod), "count": count}
    return out


def input_autocorrelation(
    model: nn.Module,
    layer: nn.Module | str,
    data: Any,
    batch_size: int | None = None,
    *,
    eval_mode: bool = True,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """The input autocorrelation E[x xᵀ] of ``layer`` over ``data`` (n×n; Wu et al. 2020, §4; for a conv
    layer E[X Xᵀ] of the unfolded inputs, Eq. (38)), from forward passes only (no backward pass).
    Arguments as for :func:`kronecker_factors`; several layers at once: :func:`input_moments`."""
    (moments,) = input_moments(model, [layer], data, batch_size, eval_mode=eval_mode, dtype=dtype).values()
    return moments["autocorrelation"]


def kronecker_eigenpairs(output_hessian: Tensor, input_autocorrelation: Tensor, k: int) -> KroneckerEigenpairs:
    """The k largest eigenpairs of E[M] ⊗ E[x xᵀ] from the factors' eigenpairs (Wu et al. 2020, App. C;
    §4.2): all products τ_a γ_b with vectors u_a ⊗ v_b = vec(u_a v_bᵀ) (row-major), the top k chosen
    among the m·n products without forming the mn×mn matrix. Ties are broken by (a, b) order.

    Args:
        output_hessian: E[M], symmetric (m, m).
        input_autocorrelation: E[x xᵀ], symmetric (n, n).
        k: 1 ≤ k ≤ mn.
    """
    for what, A in (("output_hessian", output_hessian), ("input_autocorrelation", input_autocorrelation)):
        if not isinstance(A, Tensor) or A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"{what} must be a square 2-D tensor, got "
                             f"{tuple(A.shape) if isinstance(A, Tensor) else type(A).__name__}")
    m, n = int(output_hessian.shape[0]), int(input_autocorrelation.shape[0])
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= m * n:
        raise ValueError(f"k must be an integer in [1, m·n = {m * n}], got {k!r}")
    dtype = torch.promote_types(output_hessian.dtype, input_autocorrelation.dtype)
    tau, U = torch.linalg.eigh(output_hessian.to(dtype))
    gamma, V = torch.linalg.eigh(input_autocorrelation.to(dtype))
    tau, U = tau.flip(0), U.flip(1)  # descending
    gamma, V = gamma.flip(0), V.flip(1)
    products = torch.outer(tau, gamma).reshape(-1)  # index a*n + b
    order = torch.sort(products, descending=True, stable=True).indices[:k]
    a, b = order // n, order % n
    vecs = (U[:, a].unsqueeze(1) * V[:, b].unsqueeze(0)).reshape(m * n, k)
    return KroneckerEigenpairs(products[order], vecs, a, b)
