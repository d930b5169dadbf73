"""Class and cross-class moments of per-sample vectors (Papyan 2020, Secs. 6, 7.4, 7.7, App. A).

Samples x_{i,c} (c the label, i the index within class c, n_c samples in class c, N = Σ_c n_c).

**Class block structure, unweighted** (features, §7.4; any per-sample quantity v_{i,c} ∈ R^d):
class means h_c = Ave_i h_{i,c}, global mean h_G, class second moments H_c = Ave_i h hᵀ and

    H = H_class + H_within,  H_class = Σ_c π_c h_c h_cᵀ,  H_within = Σ_{i,c} (1/N)(h − h_c)(h − h_c)ᵀ,

with π_c = n_c/N (= 1/C for balanced classes, where Σ_c π_c is the paper's Ave_c; the weights keep the
identity exact for unbalanced data such as a test set, not stated by the paper). The centred class
statistics Σ_B = Σ_c π_c (h_c − h_G)(h_c − h_G)ᵀ and Σ_W = H_within, with Σ_T = Σ_B + Σ_W.

**Cross-class block structure, weighted** (gradients g_{i,c,c'} of Eq. (6.1), errors δ^l_{i,c,c'} of
§7.7; any v_{i,c,c'} = v(x_{i,c}, y_{c'})) with the softmax probabilities p_{i,c,c'}:

    w_{i,c,c'} = p_{i,c,c'}/N        (= p/(nC) for balanced classes, Eq. (6.2); p/N_total in general,
                                      inventory 001 Fig 4 entry for the test set)
    w_{c,c'} = Σ_i w_{i,c,c'},  π_{i,c,c'} = w_{i,c,c'}/w_{c,c'},  v_{c,c'} = Σ_i π_{i,c,c'} v_{i,c,c'}
    w_c = Σ_{c'≠c} w_{c,c'},    π_{c,c'} = w_{c,c'}/w_c,           v_c = Σ_{c'≠c} π_{c,c'} v_{c,c'}

and the decomposition (6.4)/(A.1) of the weighted second moment V = Σ_{i,c,c'} w v vᵀ:

    V = V_class + V_cross + V_within + V_{c=c'},
    V_class = Σ_c w_c v_c v_cᵀ,   V_cross = Σ_c Σ_{c'≠c} w_{c,c'} (v_{c,c'} − v_c)(v_{c,c'} − v_c)ᵀ,
    V_within = Σ_{i,c,c'} w (v − v_{c,c'})(v − v_{c,c'})ᵀ,   V_{c=c'} = Σ_c w_{c,c} v_{c,c} v_{c,c}ᵀ.

Errata (inventory 001 §E1, E2, E4): the class-specific G_cross,c (§6, App. A.2) and Δ_cross (§7.7)
print g_{c'} / δ_{c'}; the identity holds only with g_c / δ_c, used here. In A.1's last line the first
sum runs over c ≠ c'. §7.7 scales Δ^l = (1/(NC)) Σ w δδᵀ and Δ^l_c = (1/N) Σ_{i,c'} w δδᵀ, which
normalise twice when w = p/(nC); we use Δ^l = Σ w δδᵀ (consistent with Def. 7.1) and
Δ^l_c = Ave_{i∈c} Σ_{c'} p_{i,c,c'} δδᵀ, so that Δ^l = Σ_c π_c Δ^l_c (:meth:`CrossClassMoments.class_conditional_moments`).

Exact facts (inventory 001 §N, facts 1-3): for v = Jᵀ(p − e_{c'}), Σ_{c'} w_{c,c'} v_{c,c'} = 0 for every
c (:meth:`CrossClassMoments.mean_residual`), so v_{c,c} = −(w_c/w_{c,c}) v_c, V_{c=c'} lies in
span{v_c} and rank(V_class + V_cross + V_{c=c'}) ≤ C(C − 1): C of the C² Gram eigenvalues of the
low-rank part (the "teal" eigenvalues of Fig 6) are exactly 0.

The low-rank parts are linear combinations of the C² cross-class means, so their Gram duals
(:mod:`.gram`) all come from the one C²×C² Gram matrix ⟨v_{c,c'}, v_{d,d'}⟩ (C⁴ p/2 multiply-adds,
computed once and cached).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor

from .gram import GramSpectrum, _eigh_descending
from .knockout import (
    LowRankOperator,
    ProjectionKnockout,
    orthonormal_basis,
    subtraction_knockout,
)

__all__ = [
    "COMPONENTS",
    "ClassMoments",
    "CrossClassMoments",
    "class_covariances",
    "class_moments",
    "cross_class_moments",
]

Component = Literal["class", "cross", "same_class", "low_rank"]
#: The low-rank components of Eq. (6.4): V_class, V_cross, V_{c=c'} and their sum ("low_rank").
COMPONENTS: tuple[str, ...] = ("class", "cross", "same_class", "low_rank")


def check_labels(labels: Tensor, num_classes: int, n: int | None = None) -> Tensor:
    """Labels as int64, checked to lie in [0, num_classes) (and to number ``n``)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if not isinstance(labels, Tensor) or labels.ndim != 1 or labels.is_floating_point():
        shape = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"labels must be a 1-D integer tensor, got {shape}")
    if n is not None and labels.shape[0] != n:
        raise ValueError(f"{labels.shape[0]} labels for {n} samples")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"labels out of range: found {int(labels.min())}..{int(labels.max())}, "
                         f"expected 0..{num_classes - 1} for C = {num_classes} classes")
    return labels.long()


# ---------------------------------------------------------------------------------------------
# Unweighted class moments (features)


@dataclass
class ClassMoments:
    """Class statistics of per-sample vectors h_{i,c} ∈ R^d (Papyan 2020, §7.4; module docstring).

    Attributes:
        class_means: (C, d) h_c.
        class_second_moments: (C, d, d) H_c = Ave_{i∈c} h hᵀ, or None when only means were kept.
        class_counts: (C,) n_c.
    """

    class_means: Tensor
    class_second_moments: Tensor | None
    class_counts: Tensor

    @property
    def num_classes(self) -> int:
        return int(self.class_means.shape[0])

    @property
    def num_samples(self) -> int:
        return int(self.class_counts.sum())

    @property
    def class_proportions(self) -> Tensor:
        """π_c = n_c/N (1/C for balanced classes)."""
        return self.class_counts.to(self.class_means.dtype) / self.num_samples

    @property
    def global_mean(self) -> Tensor:
        """h_G = Σ_c π_c h_c (the paper's Ave_c h_c for balanced classes)."""
        return self.class_proportions @ self.class_means

    def _need_second(self) -> Tensor:
        if self.class_second_moments is None:
            raise ValueError("second moments were not accumulated (second_moments=False)")
        return self.class_second_moments

    def total(self) -> Tensor:
        """H = Ave_{i,c} h hᵀ = Σ_c π_c H_c."""
        return torch.einsum("c,cde->de", self.class_proportions, self._need_second())

    def class_part(self) -> Tensor:
        """H_class = Σ_c π_c h_c h_cᵀ (uncentred between-class second moment, §7.4)."""
        m = self.class_means
        return (m.T * self.class_proportions) @ m

    def within(self) -> Tensor:
        """H_within = H − H_class = Ave (h − h_c)(h − h_c)ᵀ (the within-class covariance Σ_W)."""
        return self.total() - self.class_part()

    def between_covariance(self) -> Tensor:
        """Σ_B = Σ_c π_c (h_c − h_G)(h_c − h_G)ᵀ = H_class − h_G h_Gᵀ."""
        d = self.class_means - self.global_mean
        return (d.T * self.class_proportions) @ d

    def within_covariance(self) -> Tensor:
        """Σ_W = H_within."""
        return self.within()

    def total_covariance(self) -> Tensor:
        """Σ_T = H − h_G h_Gᵀ = Σ_B + Σ_W."""
        return self.total() - torch.outer(self.global_mean, self.global_mean)

    def class_gram(self) -> GramSpectrum:
        """Gram dual of H_class: C×C matrix √(π_c π_d) h_cᵀ h_d (inventory 001 §L4; (1/C) h_cᵀh_d when
        balanced)."""
        sw = self.class_proportions.sqrt()
        B = sw[:, None] * self.class_means
        gram = (B @ B.T).double()
        lam, vec = _eigh_descending(gram)
        return GramSpectrum(lam, (gram + gram.T) / 2, vec)


class ClassAccumulator:
    """Running per-class sums Σ h, Σ h hᵀ and counts, for :class:`ClassMoments` in one pass."""

    def __init__(self, num_classes: int, dim: int, dtype: torch.dtype, device: torch.device | str,
                 second_moments: bool = True) -> None:
        self.C, self.d = num_classes, dim
        self.sum = torch.zeros(num_classes, dim, dtype=dtype, device=device)
        self.sum2 = torch.zeros(num_classes, dim, dim, dtype=dtype, device=device) if second_moments else None
        self.count = torch.zeros(num_classes, dtype=torch.long, device=device)

    def add(self, h: Tensor, labels: Tensor) -> None:
        """Add rows h (B, d) with labels (B,)."""
        if h.ndim != 2 or h.shape[1] != self.d:
            raise ValueError(f"expected vectors of shape (batch, {self.d}), got {tuple(h.shape)}")
        labels = check_labels(labels, self.C, h.shape[0]).to(h.device)
        h = h.to(self.sum.dtype)
        self.sum.index_add_(0, labels, h)
        self.count += torch.bincount(labels, minlength=self.C).to(self.count.device)
        if self.sum2 is not None:
            for c in labels.unique().tolist():
                hc = h[labels == c]
                self.sum2[c] += hc.T @ hc

    def result(self) -> ClassMoments:
        empty = (self.count == 0).nonzero().flatten().tolist()
        if empty:
            raise ValueError(f"classes {empty} have no samples: class means are undefined")
        n = self.count.to(self.sum.dtype)
        second = None
        if self.sum2 is not None:
            second = self.sum2 / n[:, None, None]
            second = (second + second.transpose(1, 2)) / 2
        return ClassMoments(self.sum / n[:, None], second, self.count.clone())


def class_moments(vectors: Tensor, labels: Tensor, num_classes: int, *, second_moments: bool = True) -> ClassMoments:
    """:class:`ClassMoments` of rows ``vectors`` (N, d) with ``labels`` (N,) in [0, num_classes)."""
    if not isinstance(vectors, Tensor) or vectors.ndim != 2 or not vectors.is_floating_point():
        raise ValueError("vectors must be a floating tensor of shape (N, d)")
    acc = ClassAccumulator(num_classes, vectors.shape[1], vectors.dtype, vectors.device, second_moments)
    acc.add(vectors, labels)
    return acc.result()


def class_covariances(vectors: Tensor, labels: Tensor, num_classes: int) -> tuple[Tensor, Tensor]:
    """(Σ_B, Σ_W), the between-class and within-class covariances of any per-sample quantity (rows of
    ``vectors``; module docstring), with Σ_B + Σ_W = the total covariance."""
    m = class_moments(vectors, labels, num_classes)
    return m.between_covariance(), m.within_covariance()


# ---------------------------------------------------------------------------------------------
# Weighted cross-class moments (gradients, backpropagated errors)


@dataclass
class CrossClassMoments:
    """Cross-class statistics of v_{i,c,c'} ∈ R^d with weights w_{i,c,c'} = p_{i,c,c'}/N (module
    docstring; Papyan 2020, Eqs. (6.2)-(6.4), §7.7).

    Attributes:
        cross_means: (C, C, d) v_{c,c'} (first index the label c, second the cross-class c').
        weights: (C, C) w_{c,c'} (float64; Σ = 1).
        class_counts: (C,) n_c.
        class_second_moments: (C, d, d) Σ_{i∈c, c'} w_{i,c,c'} v vᵀ (summing to V over c), or None when
            only the means were accumulated (gradients of a large model).
    """

    cross_means: Tensor
    weights: Tensor
    class_counts: Tensor
    class_second_moments: Tensor | None = None
    _gram: Tensor | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        C = self.weights.shape[0]
        if self.cross_means.ndim != 3 or self.cross_means.shape[:2] != (C, C):
            raise ValueError(f"cross_means must have shape ({C}, {C}, d), got {tuple(self.cross_means.shape)}")
        if C < 2:
            raise ValueError("cross-class moments need at least 2 classes")

    # -- weights and means ------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return int(self.weights.shape[0])

    @property
    def dim(self) -> int:
        return int(self.cross_means.shape[2])

    @property
    def num_samples(self) -> int:
        return int(self.class_counts.sum())

    @property
    def class_proportions(self) -> Tensor:
        """π_c = n_c/N."""
        return self.class_counts.double() / self.num_samples

    @property
    def class_weights(self) -> Tensor:
        """w_c = Σ_{c'≠c} w_{c,c'} (C,)."""
        return self.weights.sum(1) - self.weights.diagonal()

    @property
    def cross_proportions(self) -> Tensor:
        """π_{c,c'} = w_{c,c'}/w_c for c' ≠ c, 0 on the diagonal (C, C)."""
        off = self.weights * (1 - torch.eye(self.num_classes, dtype=self.weights.dtype, device=self.weights.device))
        return off / self.class_weights[:, None]

    @property
    def class_means(self) -> Tensor:
        """v_c = Σ_{c'≠c} π_{c,c'} v_{c,c'} (C, d); the diagonal v_{c,c} is left out (§6)."""
        return torch.einsum("ck,ckd->cd", self.cross_proportions.to(self.cross_means.dtype), self.cross_means)

    def mean_residual(self) -> Tensor:
        """Σ_{c'} w_{c,c'} v_{c,c'} (C, d): exactly 0 for gradients and errors (fact 1: Σ_{c'} p_{c'}(p −
        e_{c'}) = 0), a check of the pass."""
        return torch.einsum("ck,ckd->cd", self.weights.to(self.cross_means.dtype), self.cross_means)

    def class_conditional_moments(self) -> Tensor:
        """Δ_c = Ave_{i∈c} Σ_{c'} p_{i,c,c'} v vᵀ = (N/n_c) Σ_{i∈c,c'} w v vᵀ (C, d, d), so that
        V = Σ_c π_c Δ_c (§7.7 with the scaling erratum corrected, module docstring)."""
        S = self._need_second()
        return S / self.class_proportions.to(S.dtype)[:, None, None]

    # -- low-rank components --------------------------------------------------------------------
    def coefficients(self, component: Component) -> tuple[Tensor, Tensor]:
        """(L, ω): the component's generating vectors are L @ vec(cross means) (rows of L index them,
        columns index (c, c') in row-major order) with weights ω (module docstring):

        * ``class``: v_c with w_c (C vectors);
        * ``cross``: v_{c,c'} − v_c with w_{c,c'}, c' ≠ c (C(C − 1) vectors, ordered by (c, c'));
        * ``same_class``: v_{c,c} with w_{c,c} (C vectors);
        * ``low_rank``: all v_{c,c'} with w_{c,c'} (C² vectors): V_class + V_cross + V_{c=c'}."""
        C = self.num_classes
        dt, dev = torch.float64, self.weights.device
        w = self.weights.double()
        if component == "low_rank":
            return torch.eye(C * C, dtype=dt, device=dev), w.reshape(-1)
        if component == "same_class":
            idx = torch.arange(C, device=dev) * (C + 1)
            return torch.eye(C * C, dtype=dt, device=dev)[idx], w.diagonal().clone()
        pi = self.cross_proportions.double()
        # class means: row c has π_{c,c'} at columns (c, c')
        Lc = torch.zeros(C, C, C, dtype=dt, device=dev)
        Lc[torch.arange(C), torch.arange(C)] = pi
        Lc = Lc.reshape(C, C * C)
        if component == "class":
            return Lc, self.class_weights.double()
        if component == "cross":
            rows, om = [], []
            for c in range(C):
                for k in range(C):
                    if k != c:
                        r = -Lc[c].clone()
                        r[c * C + k] += 1.0
                        rows.append(r)
                        om.append(w[c, k])
            return torch.stack(rows), torch.stack(om)
        raise ValueError(f"unknown component {component!r}; known: {', '.join(COMPONENTS)}")

    def factors(self, component: Component) -> tuple[Tensor, Tensor]:
        """(vectors (K, d), weights (K,)) of the component: V_component = Σ_k ω_k a_k a_kᵀ."""
        L, om = self.coefficients(component)
        M = self.cross_means.reshape(-1, self.dim)
        return L.to(M.dtype) @ M, om.to(M.dtype)

    def operator(self, component: Component) -> LowRankOperator:
        """The component as a matrix-free :class:`~.knockout.LowRankOperator` (d × d)."""
        return LowRankOperator(*self.factors(component))

    def dense(self, component: str) -> Tensor:
        """The component as a dense d×d matrix; besides :data:`COMPONENTS`, ``total`` (V) and ``within``
        (V_within = V − V_class − V_cross − V_{c=c'}, exact by Eq. (A.1)) need the second moments."""
        if component == "total":
            return self._need_second().sum(0)
        if component == "within":
            return self.dense("total") - self.dense("low_rank")
        return self.operator(component).to_dense()  # type: ignore[arg-type]

    def within_operator(self, total: Any) -> Any:
        """V_within = V − (V_class + V_cross + V_{c=c'}) as an operator, from an operator ``total`` for V
        (e.g. the engine's ``ggn_operator`` for G): exact by Eq. (A.1)."""
        return subtraction_knockout(total, self.operator("low_rank"))

    def knockout(self, total: Any, component: Component, kind: Literal["subtraction", "projection"] = "subtraction") -> Any:
        """V ⊖ V_component (``subtraction``, Def. 3.1: Fig 5's rows) or V ⫽ V_component (``projection``,
        Def. 3.2, onto the complement of the component's column space) for an operator ``total`` of V."""
        if kind == "subtraction":
            return subtraction_knockout(total, self.operator(component))
        if kind == "projection":
            return ProjectionKnockout(total, self.basis(component))
        raise ValueError(f"kind must be 'subtraction' or 'projection', got {kind!r}")

    def basis(self, component: Component, rtol: float = 1e-10) -> Tensor:
        """Orthonormal basis (d, r) of the component's column space (its vectors with ω > 0)."""
        vec, om = self.factors(component)
        return orthonormal_basis(vec[om > 0], rtol)

    # -- Gram duals -----------------------------------------------------------------------------
    def base_gram(self) -> Tensor:
        """K₀ = [⟨v_{c,c'}, v_{d,d'}⟩] (C² × C², float64), computed once."""
        if self._gram is None:
            M = self.cross_means.reshape(-1, self.dim)
            g = (M @ M.T).double()
            self._gram = (g + g.T) / 2
        return self._gram

    def gram(self, component: Component) -> GramSpectrum:
        """Gram dual of the component (:mod:`.gram`): diag(√ω) L K₀ Lᵀ diag(√ω), no new d-dim products."""
        L, om = self.coefficients(component)
        if bool((om < 0).any()):  # pragma: no cover - weights of probabilities
            raise ValueError("negative weights")
        sw = om.sqrt()
        g = sw[:, None] * (L @ self.base_gram() @ L.T) * sw[None, :]
        lam, vec = _eigh_descending(g)
        return GramSpectrum(lam, (g + g.T) / 2, vec)

    def spectrum(self, component: Component) -> Tensor:
        """Eigenvalues (descending, float64) of the component's Gram dual = its non-zero eigenvalues
        padded with zeros (Fig 6's yellow, green and teal dots for class, cross, same_class; low_rank:
        top C ≈ class, next C² − 2C ≈ cross, final C exactly 0)."""
        return self.gram(component).eigenvalues

    def eigenvectors(self, component: Component, k: int | None = None) -> Tensor:
        """Unit eigenvectors (d, k') of the component for its top k non-zero eigenvalues, u = A v/√λ."""
        vec, om = self.factors(component)
        return self.gram(component).eigenvectors(vec, om, k)

    def _need_second(self) -> Tensor:
        if self.class_second_moments is None:
            raise ValueError("second moments were not accumulated: V and V_within need them (use an "
                             "operator for V, e.g. ggn_operator, with within_operator)")
        return self.class_second_moments


class CrossClassAccumulator:
    """Running sums for :class:`CrossClassMoments` in one pass: S_{c,c'} = Σ_{i∈c} p_{i,c'} v_{i,c'},
    Z_{c,c'} = Σ_{i∈c} p_{i,c'}, n_c and (optionally) Σ_{i∈c,c'} p v vᵀ."""

    def __init__(self, num_classes: int, dim: int, dtype: torch.dtype, device: torch.device | str,
                 second_moments: bool = True) -> None:
        self.C, self.d = num_classes, dim
        self.S = torch.zeros(num_classes, num_classes, dim, dtype=dtype, device=device)
        self.Z = torch.zeros(num_classes, num_classes, dtype=torch.float64, device=device)
        self.count = torch.zeros(num_classes, dtype=torch.long, device=device)
        self.M = torch.zeros(num_classes, dim, dim, dtype=dtype, device=device) if second_moments else None

    def add(self, vectors: Tensor, labels: Tensor, probs: Tensor) -> None:
        """Add v_{i,c'} (B, C, d) for samples with ``labels`` (B,) and probabilities ``probs`` (B, C)."""
        B = vectors.shape[0]
        if vectors.ndim != 3 or vectors.shape[1:] != (self.C, self.d):
            raise ValueError(f"expected vectors of shape (batch, {self.C}, {self.d}), got {tuple(vectors.shape)}")
        if probs.shape != (B, self.C):
            raise ValueError(f"probabilities have shape {tuple(probs.shape)}; expected ({B}, {self.C}): C mismatch")
        labels = check_labels(labels, self.C, B).to(vectors.device)
        v = vectors.to(self.S.dtype)
        pw = probs.to(self.S.dtype)
        for c in labels.unique().tolist():
            sel = labels == c
            vc, pc = v[sel], pw[sel]
            self.add_class_sums(c, torch.einsum("bk,bkd->kd", pc, vc), probs[sel].double().sum(0), int(sel.sum()))
            if self.M is not None:
                r = (pc.sqrt()[:, :, None] * vc).reshape(-1, self.d)
                self.M[c] += r.T @ r

    def add_class_sums(self, c: int, S: Tensor, Z: Tensor, n: int) -> None:
        """Add the sums of ``n`` samples of class c: S (C, d) = Σ_i p_{i,c'} v_{i,c'}, Z (C,) = Σ_i p_{i,c'}."""
        self.S[c] += S.to(self.S.dtype)
        self.Z[c] += Z.to(self.Z.device, torch.float64)
        self.count[c] += n

    def result(self) -> CrossClassMoments:
        empty = (self.count == 0).nonzero().flatten().tolist()
        if empty:
            raise ValueError(f"classes {empty} have no samples: class and cross-class means are undefined")
        N = int(self.count.sum())
        if bool((self.Z <= 0).any()):
            raise ValueError("a cross-class probability mass Σ_i p_{i,c,c'} is zero (softmax underflow): "
                             "the cross-class mean is undefined")
        means = self.S / self.Z.to(self.S.dtype)[:, :, None]
        second = None
        if self.M is not None:
            second = self.M / N
            second = (second + second.transpose(1, 2)) / 2
        return CrossClassMoments(means, self.Z / N, self.count.clone(), second)


def cross_class_moments(vectors: Tensor, labels: Tensor, probs: Tensor, *, second_moments: bool = True) -> CrossClassMoments:
    """:class:`CrossClassMoments` of v_{i,c'} given densely: ``vectors`` (N, C, d) (e.g. the extended
    gradients of :func:`~.class_gradients.extended_gradients`), ``labels`` (N,), ``probs`` (N, C)."""
    if not isinstance(vectors, Tensor) or vectors.ndim != 3 or not vectors.is_floating_point():
        raise ValueError("vectors must be a floating tensor of shape (N, C, d)")
    C = int(vectors.shape[1])
    if not isinstance(probs, Tensor) or probs.ndim != 2 or probs.shape[1] != C:
        raise ValueError(f"probs must have shape (N, {C}) to match vectors (N, C={C}, d): C mismatch, "
                         f"got {tuple(probs.shape) if isinstance(probs, Tensor) else type(probs).__name__}")
    acc = CrossClassAccumulator(C, vectors.shape[2], vectors.dtype, vectors.device, second_moments)
    acc.add(vectors, labels, probs)
    return acc.result()
