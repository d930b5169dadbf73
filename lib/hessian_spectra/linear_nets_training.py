"""Exact training and Hessian products of linear networks on sufficient statistics (paper ``linear_networks``).

For a linear network f(x) = W_L ... W_1 x the loss (2) depends on the data only through
C = X X^T / n, M = Y X^T / n and c0 = ||Y||_F^2 / (2n):

    L(W) = 1/2 Tr(W_e C W_e^T) - Tr(W_e M^T) + c0,   W_e = W_L ... W_1,

the same function of the weights as (2), so its gradients, full-batch gradient-descent iterates,
Hessian-vector products and spectra are identical to those of the data loss (tested to rounding).
We store C in its eigenbasis, C = U diag(c) U^T, and train W~_1 = W_1 U with M~ = M U: an
orthogonal change of input coordinates, under which gradient descent is equivariant
(W~_1(t) = W_1(t) U) and the Hessian spectrum is invariant (inventory 003 §L5). A step then costs
O(dL p) instead of O(n p).

Also here: App. C's training rule (full-batch GD with learning-rate halving on plateaus) for the
statistics and for an ``nn.Module`` (the Tanh ablation of Fig. 2(c), which needs data passes),
a Hessian operator on the statistics for the engine's algorithms, and the cached preparation of
the paper's real-data subsets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

from . import linear_nets as ln

Tensor = torch.Tensor

__all__ = [
    "SufficientStatistics", "flatten_weights", "unflatten_weights", "loss_data", "loss_stats",
    "grad_stats", "LinearNetStatsHessian", "HalvingSchedule", "TrainResult", "train_gd_stats",
    "train_gd_model", "mse_sum_loss", "kaiming_uniform_weights", "init_weights", "build_mlp",
    "prepare_subset", "PreparedSubset",
]


# ---------------------------------------------------------------------------------------------
# Parameters as one flat vector


def flatten_weights(Ws: Sequence[Tensor]) -> Tensor:
    """Stack W_1.flatten(), ..., W_L.flatten() (row-major, the order of nn.Linear weights)."""
    return torch.cat([W.reshape(-1) for W in Ws])


def unflatten_weights(w: Tensor, dims: Sequence[int]) -> list[Tensor]:
    """Inverse of :func:`flatten_weights` for widths ``dims = [d0, ..., dL]``."""
    p = sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    if w.shape[-1] != p:
        raise ValueError(f"vector of length {w.shape[-1]} does not match p={p} for dims {list(dims)}")
    out, i = [], 0
    for a, b in zip(dims[:-1], dims[1:]):
        out.append(w[..., i:i + a * b].reshape(*w.shape[:-1], b, a))
        i += a * b
    return out


# ---------------------------------------------------------------------------------------------
# Sufficient statistics


@dataclass
class SufficientStatistics:
    """C = X X^T/n = U diag(c) U^T, M~ = (Y X^T/n) U and c0 = ||Y||_F^2/(2n) of a data set (X, Y).

    ``U`` is the rotation into C's eigenbasis (``None`` means the identity, i.e. C is diagonal in the
    original coordinates). Weights trained on these statistics live in rotated coordinates:
    W~_1 = W_1 U (use :meth:`rotate_in` / :meth:`rotate_out`); W_2..W_L are unchanged.
    """

    c: Tensor
    M: Tensor
    c0: float
    n: int
    U: Tensor | None = None

    @classmethod
    def from_data(cls, X: Tensor, Y: Tensor, diagonalize: bool = True) -> "SufficientStatistics":
        """Statistics of inputs X (d0 x n) and targets Y (dL x n), computed in float64.

        ``diagonalize=False`` is allowed only if C is exactly diagonal (e.g. tests); otherwise C is
        eigendecomposed (torch.linalg.eigh).
        """
        if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
            raise ValueError(f"need X (d0 x n) and Y (dL x n) with the same n, got {tuple(X.shape)}, {tuple(Y.shape)}")
        X = X.to(torch.float64)
        Y = Y.to(torch.float64)
        n = X.shape[1]
        C = X @ X.T / n
        M = Y @ X.T / n
        c0 = float((Y ** 2).sum() / (2 * n))
        if not diagonalize:
            off = C - torch.diag(torch.diagonal(C))
            if float(off.abs().max()) != 0.0:
                raise ValueError("C = X X^T / n is not diagonal; use diagonalize=True")
            return cls(c=torch.diagonal(C).clone(), M=M, c0=c0, n=n, U=None)
        c, U = torch.linalg.eigh(C)
        return cls(c=c, M=M @ U, c0=c0, n=n, U=U)

    @property
    def d0(self) -> int:
        return int(self.c.numel())

    @property
    def dL(self) -> int:
        return int(self.M.shape[0])

    def C(self) -> Tensor:
        """C = X X^T / n in the original coordinates."""
        if self.U is None:
            return torch.diag(self.c)
        return (self.U * self.c) @ self.U.T

    def rotate_in(self, Ws: Sequence[Tensor]) -> list[Tensor]:
        """Weights in the original input coordinates -> rotated ones (W~_1 = W_1 U)."""
        Ws = [W.to(torch.float64) for W in Ws]
        return Ws if self.U is None else [Ws[0] @ self.U] + Ws[1:]

    def rotate_out(self, Ws: Sequence[Tensor]) -> list[Tensor]:
        """Rotated weights -> original input coordinates (W_1 = W~_1 U^T)."""
        return list(Ws) if self.U is None else [Ws[0] @ self.U.T] + list(Ws[1:])

    def projected_alpha_max(self) -> float:
        """sigma_max^2(Y Pi)/n = lambda_max(M C^+ M^T) (see :func:`linear_nets.projected_label_proportion`)."""
        keep = self.c > 1e-10 * self.c.max()
        B = self.M[:, keep] / torch.sqrt(self.c[keep])
        return float(torch.linalg.matrix_norm(B, ord=2) ** 2)

    def least_squares_loss(self) -> float:
        """The least-squares floor min_W L = c0 - 1/2 ||M C^{-1/2}||_F^2 (pseudo-inverse on C's range)."""
        keep = self.c > 1e-10 * self.c.max()
        B = self.M[:, keep] / torch.sqrt(self.c[keep])
        return self.c0 - 0.5 * float((B ** 2).sum())


def loss_data(Ws: Sequence[Tensor], X: Tensor, Y: Tensor) -> Tensor:
    """Eq. (2) on the data: ||W_L ... W_1 X - Y||_F^2 / (2n)."""
    R = ln.end_to_end(Ws) @ X - Y
    return (R ** 2).sum() / (2 * X.shape[1])


def loss_stats(Ws: Sequence[Tensor], stats: SufficientStatistics) -> Tensor:
    """Eq. (2) on the statistics (rotated weights): 1/2 sum_i c_i ||W~_e[:, i]||^2 - <W~_e, M~> + c0."""
    We = ln.end_to_end(Ws)
    return 0.5 * ((We ** 2) * stats.c).sum() - (We * stats.M).sum() + stats.c0


def grad_stats(Ws: Sequence[Tensor], stats: SufficientStatistics) -> tuple[list[Tensor], float]:
    """Gradient of :func:`loss_stats` in closed form, and the loss.

    With G = W_e C - M (the gradient w.r.t. W_e), dL/dW_l = S_l^T G P_l^T. All products are formed
    from the output side so that every intermediate has dL rows: A_1 = G, A_(l+1) = A_l W_l^T = G P_(l+1)^T.
    """
    L = len(Ws)
    S = [None] * L
    S[L - 1] = None  # identity
    cur = None
    for l in range(L - 1, 0, -1):
        cur = Ws[l] if cur is None else cur @ Ws[l]
        S[l - 1] = cur
    We = Ws[0] if S[0] is None else S[0] @ Ws[0]
    G = We * stats.c - stats.M
    loss = 0.5 * float(((We ** 2) * stats.c).sum()) - float((We * stats.M).sum()) + stats.c0
    grads = []
    A = G
    for l in range(L):
        grads.append(A if S[l] is None else S[l].T @ A)
        if l < L - 1:
            A = A @ Ws[l].T
    return grads, loss


# ---------------------------------------------------------------------------------------------
# Hessian operator on the statistics


class LinearNetStatsHessian:
    """The p x p loss Hessian (or GGN) of a linear network as an operator on the sufficient statistics.

    ``H @ v`` for v of shape (p,) or (p, k) (torch or NumPy, returned in the same kind) is the exact
    Hessian-vector product of Eq. (2) at the given (rotated) weights, in closed form. With
    G = W_e C - M, S_l = W_L...W_(l+1), F_l = G P_l^T and a direction V = (V_1, ..., V_L):

        dS_L = 0,  dS_l = dS_(l+1) W_(l+1) + S_(l+1) V_(l+1);   dW_e = dS_1 W_1 + S_1 V_1;
        E_1 = dW_e C,  E_(l+1) = E_l W_l^T            (E_l = dG P_l^T);
        dF_1 = 0,  dF_(l+1) = F_l V_l^T + dF_l W_l^T  (dF_l = G dP_l^T);
        (H V)_l = dS_l^T F_l + S_l^T (E_l + dF_l),   (GGN V)_l = S_l^T E_l,

    the derivative of the gradient S_l^T G P_l^T. Every intermediate has dL rows, so a product costs
    O(dL p) per vector (k vectors are batched). ``kind="ggn"`` gives (1/n) J^T J v of Eq. (3).
    Tested against dense autograd Hessians of the data loss. Has ``.shape``, ``.dtype``,
    ``num_products`` and :meth:`to_scipy` for ``scipy.sparse.linalg`` solvers.
    """

    def __init__(self, Ws: Sequence[Tensor], stats: SufficientStatistics, kind: str = "hessian"):
        if kind not in ("hessian", "ggn"):
            raise ValueError(f"kind must be 'hessian' or 'ggn', got {kind!r}")
        self.dims = ln.layer_dims(Ws)
        if self.dims[0] != stats.d0 or self.dims[-1] != stats.dL:
            raise ValueError(f"weights {self.dims} do not match statistics d0={stats.d0}, dL={stats.dL}")
        self.stats = stats
        self.kind = kind
        self.Ws = [W.detach().to(torch.float64) for W in Ws]
        p = sum(W.numel() for W in self.Ws)
        self.shape = (p, p)
        self.dtype = torch.float64
        self.num_products = 0
        L = len(self.Ws)
        dL = self.dims[-1]
        S = [None] * L
        S[L - 1] = torch.eye(dL, dtype=torch.float64)
        for l in range(L - 2, -1, -1):
            S[l] = S[l + 1] @ self.Ws[l + 1]
        self.S = S
        We = S[0] @ self.Ws[0]
        G = We * stats.c - stats.M
        F = [G]
        for l in range(L - 1):
            F.append(F[-1] @ self.Ws[l].T)
        self.F = F

    def _apply(self, Vs: list[Tensor]) -> list[Tensor]:
        """Products for a batch of directions, Vs[l] of shape (k, d_l, d_(l-1))."""
        L, W, S, F = len(self.Ws), self.Ws, self.S, self.F
        dS = [None] * L
        dS[L - 1] = torch.zeros((Vs[0].shape[0], *S[L - 1].shape), dtype=torch.float64)
        for l in range(L - 2, -1, -1):
            dS[l] = dS[l + 1] @ W[l + 1] + S[l + 1] @ Vs[l + 1]
        dWe = dS[0] @ W[0] + S[0] @ Vs[0]
        E = dWe * self.stats.c
        out = []
        dF = None
        for l in range(L):
            if self.kind == "ggn":
                out.append(S[l].T @ E)
            else:
                term = E if dF is None else E + dF
                out.append(dS[l].transpose(1, 2) @ F[l] + S[l].T @ term)
            if l < L - 1:
                dF_next = F[l] @ Vs[l].transpose(1, 2)
                if dF is not None:
                    dF_next = dF_next + dF @ W[l].T
                dF = dF_next
                E = E @ W[l].T
        return out

    def __matmul__(self, v):
        is_np = isinstance(v, np.ndarray)
        t = torch.as_tensor(v, dtype=torch.float64) if is_np else v.to(torch.float64)
        if t.ndim not in (1, 2):
            raise ValueError(f"need a vector (p,) or a block (p, k), got shape {tuple(t.shape)}")
        if t.shape[0] != self.shape[0]:
            raise ValueError(f"input of length {t.shape[0]} for an operator of size {self.shape[0]}")
        block = t.reshape(self.shape[0], -1).T.contiguous()  # (k, p)
        parts = self._apply(unflatten_weights(block, self.dims))
        out = torch.cat([q.reshape(q.shape[0], -1) for q in parts], dim=1).T
        self.num_products += block.shape[0]
        out = out.reshape(t.shape).detach()
        return out.numpy() if is_np else out.to(v.dtype)

    def matvec(self, v):
        return self @ v

    def dense(self) -> Tensor:
        """The full p x p matrix (small p only: p HVPs)."""
        if self.shape[0] > 20000:
            raise ValueError(f"p={self.shape[0]} is too large for a dense matrix")
        return self @ torch.eye(self.shape[0], dtype=torch.float64)

    def to_scipy(self):
        """A ``scipy.sparse.linalg.LinearOperator`` view (float64)."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=lambda v: self @ np.asarray(v, dtype=np.float64).reshape(-1),
                              matmat=lambda V: self @ np.asarray(V, dtype=np.float64), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# App. C training rule


class HalvingSchedule:
    """App. C: "an initial learning rate eta_max which is successively halved anytime < 0.1% improvement
    in loss is observed over 100 epochs".

    The rule admits two readings (inventory E12); both are implemented:

    - ``"window"`` (our default, not stated by the paper): every ``window`` epochs compare the loss
      with the loss ``window`` epochs earlier and halve eta if (L_old - L_new)/L_old < ``threshold``;
    - ``"plateau"``: ``torch.optim.lr_scheduler.ReduceLROnPlateau(factor=0.5, patience=window,
      threshold=threshold, threshold_mode="rel")`` semantics, stepped every epoch;
    - ``"none"``: constant eta.
    """

    def __init__(self, lr_max: float, rule: str = "window", window: int = 100, threshold: float = 1e-3):
        if rule not in ("window", "plateau", "none"):
            raise ValueError(f"unknown halving rule {rule!r}; known: window, plateau, none")
        if not lr_max > 0 or window < 1:
            raise ValueError("need lr_max > 0 and window >= 1")
        self.lr, self.rule, self.window, self.threshold = float(lr_max), rule, int(window), float(threshold)
        self.best, self.bad = math.inf, 0
        self.halvings = 0

    def update(self, epoch: int, losses: list[float]) -> float:
        """Call after ``losses[epoch]`` is known; returns the learning rate for the next step."""
        if self.rule == "window":
            if epoch >= self.window and epoch % self.window == 0:
                old, new = losses[epoch - self.window], losses[epoch]
                if (old - new) / abs(old) < self.threshold:
                    self.lr *= 0.5
                    self.halvings += 1
        elif self.rule == "plateau":
            cur = losses[epoch]
            if cur < self.best * (1 - self.threshold):
                self.best, self.bad = cur, 0
            else:
                self.bad += 1
                if self.bad > self.window:
                    self.lr *= 0.5
                    self.halvings += 1
                    self.bad = 0
        return self.lr


@dataclass
class TrainResult:
    """Outcome of a full-batch GD run: final weights, checkpoints, per-epoch loss and learning rate."""

    Ws: list[Tensor]
    checkpoints: dict[int, list[Tensor]]
    loss: np.ndarray
    lr: np.ndarray
    status: str
    epochs_run: int
    halvings: int
    info: dict = field(default_factory=dict)


def train_gd_stats(Ws0: Sequence[Tensor], stats: SufficientStatistics, lr_max: float, epochs: int,
                   rule: str = "window", window: int = 100, threshold: float = 1e-3,
                   checkpoints: Iterable[int] = (), divergence_factor: float = 1e3,
                   progress: bool = False) -> TrainResult:
    """Full-batch gradient descent on the statistics (exactly the data-space GD of App. C), float64.

    W_l <- W_l - eta dL/dW_l for ``epochs`` steps with :class:`HalvingSchedule`; weights are the
    rotated ones (:meth:`SufficientStatistics.rotate_in`). A run whose loss becomes non-finite or
    exceeds ``divergence_factor`` times the initial loss stops with status ``"diverged"`` (our
    guard; Fig. 2(a) CIFAR-10 diverges, inventory E16). Checkpoints at the listed epochs (0 = init).
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    Ws = [W.detach().to(torch.float64).clone() for W in Ws0]
    dims = ln.layer_dims(Ws)
    if dims[0] != stats.d0 or dims[-1] != stats.dL:
        raise ValueError(f"weights {dims} do not match statistics d0={stats.d0}, dL={stats.dL}")
    want = sorted(set(int(e) for e in checkpoints))
    if want and (want[0] < 0 or want[-1] > epochs):
        raise ValueError(f"checkpoints must lie in 0..{epochs}, got {want}")
    sched = HalvingSchedule(lr_max, rule, window, threshold)
    losses: list[float] = []
    lrs: list[float] = []
    saved: dict[int, list[Tensor]] = {}
    status = "ok"
    iterator = range(epochs + 1)
    if progress:
        from tqdm.auto import tqdm
        iterator = tqdm(iterator, desc="GD on statistics", leave=False)
    for t in iterator:
        grads, loss = grad_stats(Ws, stats)
        losses.append(loss)
        if t in want:
            saved[t] = [W.clone() for W in Ws]
        if not math.isfinite(loss) or loss > divergence_factor * max(losses[0], 1e-300):
            status = "diverged"
            break
        if t == epochs:
            break
        lr = sched.update(t, losses)
        lrs.append(lr)
        for W, g in zip(Ws, grads):
            W.sub_(lr * g)
    return TrainResult(Ws=Ws, checkpoints=saved, loss=np.asarray(losses), lr=np.asarray(lrs), status=status,
                       epochs_run=len(losses) - 1, halvings=sched.halvings)


def mse_sum_loss(out: Tensor, target: Tensor) -> Tensor:
    """Eq. (2) with samples as rows: ||out - target||_F^2 / (2n) (not ``nn.MSELoss``, which divides by n dL)."""
    return ((out - target) ** 2).sum() / (2 * out.shape[0])


def train_gd_model(model: torch.nn.Module, X: Tensor, Y: Tensor, lr_max: float, epochs: int,
                   rule: str = "window", window: int = 100, threshold: float = 1e-3,
                   divergence_factor: float = 1e3, progress: bool = False) -> TrainResult:
    """Full-batch GD of any model on rows X (n x d0), targets Y (n x dL) with the loss (2) and App. C's rule.

    Used for the Tanh network of Fig. 2(c), where no sufficient statistics exist. ``Ws`` of the result
    holds the final parameters (detached copies) in ``model.parameters()`` order.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    sched = HalvingSchedule(lr_max, rule, window, threshold)
    losses: list[float] = []
    lrs: list[float] = []
    status = "ok"
    iterator = range(epochs + 1)
    if progress:
        from tqdm.auto import tqdm
        iterator = tqdm(iterator, desc="full-batch GD", leave=False)
    for t in iterator:
        loss = mse_sum_loss(model(X), Y)
        value = float(loss.detach())
        losses.append(value)
        if not math.isfinite(value) or value > divergence_factor * max(losses[0], 1e-300):
            status = "diverged"
            break
        if t == epochs:
            break
        gs = torch.autograd.grad(loss, params)
        lr = sched.update(t, losses)
        lrs.append(lr)
        with torch.no_grad():
            for p, g in zip(params, gs):
                p.sub_(lr * g)
    return TrainResult(Ws=[p.detach().clone() for p in params], checkpoints={}, loss=np.asarray(losses),
                       lr=np.asarray(lrs), status=status, epochs_run=len(losses) - 1, halvings=sched.halvings)


# ---------------------------------------------------------------------------------------------
# Initialisations and models


def kaiming_uniform_weights(dims: Sequence[int], generator: torch.Generator | None = None,
                            dtype: torch.dtype = torch.float64) -> list[Tensor]:
    """PyTorch's default ``nn.Linear`` weight init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_, a=sqrt(5)).

    Fig. 2(b): "Kaiming uniform initialization (standard in PyTorch)". Drawn here with an explicit
    generator instead of ``nn.Linear``'s global RNG (same distribution).
    """
    Ws = []
    for a, b in zip(dims[:-1], dims[1:]):
        bound = 1.0 / math.sqrt(a)
        Ws.append((torch.rand(b, a, generator=generator, dtype=dtype) * 2 - 1) * bound)
    return Ws


def init_weights(dims: Sequence[int], init: str, seed: int, dtype: torch.dtype = torch.float64) -> list[Tensor]:
    """Initial weights: ``"balanced"`` (App. C sampler with k = min(dims) singular values drawn from
    U[0, 1], as App. C does for Fig. 1(a); for trained models the values are not stated, inventory
    §F1c) or ``"kaiming"`` (:func:`kaiming_uniform_weights`)."""
    g = torch.Generator().manual_seed(int(seed))
    if init == "balanced":
        s = torch.rand(min(dims), generator=g, dtype=dtype)
        return ln.sample_balanced_weights(dims, s, generator=g, dtype=dtype)
    if init == "kaiming":
        return kaiming_uniform_weights(dims, generator=g, dtype=dtype)
    raise ValueError(f"unknown init {init!r}; known: balanced, kaiming")


def build_mlp(Ws: Sequence[Tensor], activation: str = "tanh") -> torch.nn.Sequential:
    """x -> act(W_1 x) -> ... -> act(W_(L-1) .) -> W_L . without biases, with the given weights.

    ``activation``: ``"tanh"`` (Fig. 2(c)) or ``"linear"`` (Eq. (1)). Biases: not stated by the paper;
    none, as in its theory (inventory §N).
    """
    acts = {"tanh": torch.nn.Tanh, "linear": torch.nn.Identity}
    if activation not in acts:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(acts)}")
    layers: list[torch.nn.Module] = []
    for i, W in enumerate(Ws):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], bias=False, dtype=W.dtype)
        with torch.no_grad():
            lin.weight.copy_(W)
        layers.append(lin)
        if i < len(Ws) - 1:
            layers.append(acts[activation]())
    return torch.nn.Sequential(*layers)


# ---------------------------------------------------------------------------------------------
# The paper's real-data subsets (App. C), cached


@dataclass
class PreparedSubset:
    """A subset of a real data set as the paper uses it, with its sufficient statistics.

    ``alpha_actual`` is the achieved majority proportion (``None`` for a uniform random subset),
    ``rank`` the numerical rank of the raw inputs X', ``projected_alpha_max`` = sigma_max^2(Y Pi)/n.
    ``X``/``Y`` (rows: n x d0, n x dL, float64) only when requested.
    """

    stats: SufficientStatistics
    name: str
    n: int
    d0: int
    alpha_max: float | None
    alpha_actual: float | None
    whiten: bool
    sigma_x: float | None
    pool: int | None
    rank: int
    projected_alpha_max: float
    source: str
    note: str
    X: Tensor | None = None
    Y: Tensor | None = None

    def describe(self) -> dict:
        """JSON-ready description (for figure metadata)."""
        return {"name": self.name, "split": "train", "n": self.n, "d0": self.d0, "alpha_max": self.alpha_max,
                "alpha_actual": self.alpha_actual, "whitened": self.whiten, "sigma_x": self.sigma_x,
                "pool_to": self.pool, "rank_raw_inputs": self.rank,
                "projected_alpha_max": self.projected_alpha_max, "source": self.source, "note": self.note}


def _prepare_subset_arrays(name: str, n: int, alpha_max: float | None, seed: int, whiten: bool,
                           sigma_x: float, pool: int | None, keep_data: bool) -> dict:
    from .data import load_dataset

    data = load_dataset(name, "train")
    if alpha_max is None:
        g = torch.Generator().manual_seed(int(seed))
        if not 0 < n <= len(data):
            raise ValueError(f"n={n} out of range for {name}")
        idx = torch.randperm(len(data), generator=g)[:n].sort().values
        alpha_actual = None
    else:
        idx, alpha_actual = ln.subsample_label_proportion(data.y, n, alpha_max, seed=seed,
                                                          num_classes=data.num_classes)
    x = data.x[idx].to(torch.float64)
    if pool is not None:
        x = torch.nn.functional.adaptive_avg_pool2d(x, pool)
    Xp = x.reshape(n, -1).T.contiguous()  # d0 x n, pixels in [0, 1], not centred (inventory §D)
    Y = ln.one_hot_columns(data.y[idx], data.num_classes)
    rank = ln.numerical_rank(Xp)
    X = ln.orthogonalize(Xp, sigma_x) if whiten else Xp
    stats = SufficientStatistics.from_data(X, Y)
    out = {"c": stats.c, "M": stats.M, "c0": stats.c0, "U": stats.U, "alpha_actual": alpha_actual,
           "rank": rank, "d0": int(Xp.shape[0]), "source": data.source, "note": data.note,
           "projected_alpha_max": stats.projected_alpha_max()}
    if keep_data:
        out["X"] = X.T.contiguous()
        out["Y"] = Y.T.contiguous()
    return out


def prepare_subset(name: str, n: int, alpha_max: float | None, seed: int = 0, whiten: bool = True,
                   sigma_x: float = 1.0, pool: int | None = None, keep_data: bool = False,
                   cache: bool = True) -> PreparedSubset:
    """Load a training-split subset as in App. C and compute its sufficient statistics (cached on disk).

    - ``alpha_max``: a float uses the corrected label-proportion rule
      (:func:`linear_nets.subsample_label_proportion`); ``None`` draws a uniform random subset
      (Figs. 3-4 do not state alpha_max, inventory §L3).
    - pixels in [0, 1], flattened, not centred (scaling not stated; inventory §D); ``pool`` (ours,
      for reduced scales) average-pools images to ``pool x pool`` first.
    - ``whiten``: App. C whitening with ``sigma_x`` (:func:`linear_nets.orthogonalize`); raw inputs
      otherwise (Fig. 2(a)).
    """
    if whiten and not sigma_x > 0:
        raise ValueError("sigma_x must be positive")
    args = (name, int(n), None if alpha_max is None else float(alpha_max), int(seed), bool(whiten),
            float(sigma_x), None if pool is None else int(pool), bool(keep_data))
    if cache:
        from .cache import memory

        arrays = memory().cache(_prepare_subset_arrays)(*args)
    else:
        arrays = _prepare_subset_arrays(*args)
    stats = SufficientStatistics(c=arrays["c"], M=arrays["M"], c0=arrays["c0"], n=int(n), U=arrays["U"])
    return PreparedSubset(stats=stats, name=name, n=int(n), d0=arrays["d0"], alpha_max=args[2],
                          alpha_actual=arrays["alpha_actual"], whiten=bool(whiten),
                          sigma_x=float(sigma_x) if whiten else None, pool=args[6], rank=arrays["rank"],
                          projected_alpha_max=arrays["projected_alpha_max"], source=arrays["source"],
                          note=arrays["note"], X=arrays.get("X"), Y=arrays.get("Y"))


# ---------------------------------------------------------------------------------------------
# Experiment drivers shared by the notebooks (each result is cached on disk by its arguments)


def _scaled(stats: SufficientStatistics, a: float) -> SufficientStatistics:
    """Statistics of the inputs multiplied by a: c -> a^2 c, M -> a M (c0 unchanged)."""
    return SufficientStatistics(c=stats.c * a ** 2, M=stats.M * a, c0=stats.c0, n=stats.n, U=stats.U)


def _lambda_max(op, seed: int = 0) -> float:
    """lambda_max by the engine's Lanczos (``top_eigenpairs``, its default tolerance)."""
    from .hessian import top_eigenpairs

    res = top_eigenpairs(op, 1, generator=torch.Generator().manual_seed(seed))
    return float(res.eigenvalues[0])


def _sharpness_point(name: str, alpha_max: float, n: int, seed: int, init: str, whiten: bool, sigma_x: float,
                     pool: int | None, widths: tuple[int, ...], lr_max: float, epochs: int, rule: str,
                     input_scale: str | None, activation: str, dtype: str = "float64") -> dict:
    torch.set_num_threads(1)
    sub = prepare_subset(name, n, alpha_max, seed=seed, whiten=whiten, sigma_x=sigma_x, pool=pool,
                         keep_data=(activation != "linear"))
    stats = sub.stats
    c_max = float(stats.c.max())
    scale = 1.0
    if input_scale == "unit_top":  # ours, for Fig. 2(a): X / sqrt(lambda_max(C)) keeps the geometry
        scale = 1.0 / math.sqrt(c_max)
        stats = _scaled(stats, scale)
    elif input_scale is not None:
        raise ValueError(f"unknown input_scale {input_scale!r}; known: None, 'unit_top'")
    dims = [sub.d0, *widths, stats.dL]
    W0 = init_weights(dims, init, seed=seed)
    L = len(dims) - 1
    out = {"dataset": name, "alpha_max": alpha_max, "alpha_actual": sub.alpha_actual, "n": n, "d0": sub.d0,
           "rank_raw_inputs": sub.rank, "lambda_max_C": c_max * scale ** 2, "input_scale": scale,
           "eq14": sharpness_eq14_or_nan(L, sub.alpha_actual, sigma_x if whiten else None),
           "eq14_projected": (ln.sharpness_projected(L, sub.projected_alpha_max, sigma_x) if whiten
                              else float("nan")),
           "projected_alpha_max": sub.projected_alpha_max, "least_squares_loss": stats.least_squares_loss()}
    if activation == "linear":
        Wr = stats.rotate_in(W0)
        out["lambda_init"] = _lambda_max(LinearNetStatsHessian(Wr, stats), seed)
        res = train_gd_stats(Wr, stats, lr_max, epochs, rule=rule)
        finite = res.status == "ok"
        out["lambda_final"] = _lambda_max(LinearNetStatsHessian(res.Ws, stats), seed) if finite else float("nan")
        out["imbalance_final"] = max(ln.imbalance(res.Ws)) if finite and L > 1 else float("nan")
    else:
        from .hessian.operators import hessian_operator

        tdt = {"float64": torch.float64, "float32": torch.float32}[dtype]
        X = (sub.X * scale).to(tdt)
        Y = sub.Y.to(tdt)
        model = build_mlp([W.to(tdt) for W in W0], activation)
        data = (X, Y)
        out["lambda_init"] = _lambda_max(hessian_operator(model, mse_sum_loss, data), seed)
        res = train_gd_model(model, X, Y, lr_max, epochs, rule=rule)
        finite = res.status == "ok"
        out["lambda_final"] = (_lambda_max(hessian_operator(model, mse_sum_loss, data), seed) if finite
                               else float("nan"))
        out["imbalance_final"] = float("nan")
    out.update({"status": res.status, "epochs_run": res.epochs_run, "loss_init": float(res.loss[0]),
                "loss_final": float(res.loss[-1]), "halvings": res.halvings,
                "lr_final": float(res.lr[-1]) if res.lr.size else lr_max})
    return out


def sharpness_eq14_or_nan(L: int, alpha: float | None, sigma_x: float | None) -> float:
    """Eq. (14) where it is defined (whitened inputs and a set alpha_max), NaN otherwise."""
    if alpha is None or sigma_x is None:
        return float("nan")
    return ln.sharpness_eq14(L, alpha, sigma_x)


def sharpness_vs_label_proportion(name: str, alphas: Sequence[float], *, n: int, seed: int = 0,
                                  init: str = "balanced", whiten: bool = True, sigma_x: float = 1.0,
                                  pool: int | None = None, widths: Sequence[int] = (64, 64, 64),
                                  lr_max: float = 0.01, epochs: int = 10_000, rule: str = "window",
                                  input_scale: str | None = None, activation: str = "linear",
                                  dtype: str = "float64", cache: bool = True, progress: bool = True) -> list[dict]:
    """Figs. 1(c) and 2(a-c): final sharpness lambda_max of a trained network for each alpha_max.

    For each alpha: the App. C subset (corrected rule), the given init, full-batch GD with App. C's
    halving rule, then lambda_max of the exact loss Hessian by Lanczos (the engine's
    ``top_eigenpairs``) at initialisation and at the end; beside it Eq. (14) at the achieved
    alpha_max and the projected-label value lambda* (erratum E5). Linear networks train on the
    sufficient statistics (exact, float64); ``activation="tanh"`` trains on the data in ``dtype``
    (precision not stated by the paper) and uses the engine's full-data ``hessian_operator``.
    Returns one dict per alpha.
    """
    fn = _sharpness_point
    if cache:
        from .cache import memory

        fn = memory().cache(_sharpness_point)
    it = alphas
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(alphas, desc=f"{name} alpha sweep", leave=False)
    return [fn(name, float(a), int(n), int(seed), init, bool(whiten), float(sigma_x), pool, tuple(widths),
               float(lr_max), int(epochs), rule, input_scale, activation, dtype) for a in it]


def _train_with_checkpoints(name: str, n: int, seed: int, pool: int | None, sigma_x: float, widths: tuple,
                            init: str, lr_max: float, epochs: int, rule: str, checkpoints: tuple):
    sub = prepare_subset(name, n, None, seed=seed, whiten=True, sigma_x=sigma_x, pool=pool)
    dims = [sub.d0, *widths, sub.stats.dL]
    Wr = sub.stats.rotate_in(init_weights(dims, init, seed=seed))
    res = train_gd_stats(Wr, sub.stats, lr_max, epochs, rule=rule, checkpoints=checkpoints)
    return sub, res


def _trace_run(name: str, n: int, seed: int, pool: int | None, sigma_x: float, widths: tuple, init: str,
               lr_max: float, epochs: int, rule: str, checkpoints: tuple, num_probes: int) -> dict:
    from .hessian import hutchinson_trace

    torch.set_num_threads(1)
    sub, res = _train_with_checkpoints(name, n, seed, pool, sigma_x, widths, init, lr_max, epochs, rule, checkpoints)
    rows = []
    for e in sorted(res.checkpoints):
        Ws = res.checkpoints[e]
        op = LinearNetStatsHessian(Ws, sub.stats)
        est = hutchinson_trace(op, num_probes, distribution="gaussian",
                               generator=torch.Generator().manual_seed(seed * 100_003 + e))
        rows.append({"epoch": e, "loss": float(res.loss[e]), "eq7": ln.trace_eq7(Ws, sigma_x),
                     "hutchinson": float(est), "hutchinson_se": est.std_error,
                     "param_norm_sq": float(sum((W ** 2).sum() for W in Ws))})
    return {"dataset": sub.describe(), "rows": rows, "status": res.status, "halvings": res.halvings,
            "loss": res.loss[:: max(1, epochs // 200)].tolist(), "p": LinearNetStatsHessian(res.Ws, sub.stats).shape[0]}


def trace_during_training(name: str, *, n: int, seed: int = 0, pool: int | None = None, sigma_x: float = 1.0,
                          widths: Sequence[int] = (256, 256, 256), init: str = "kaiming", lr_max: float = 0.003,
                          epochs: int = 10_000, rule: str = "window", checkpoints: Sequence[int] = (0, 10_000),
                          num_probes: int = 100, cache: bool = True) -> dict:
    """Fig. 3: Tr(Hessian) by Hutchinson (Gaussian probes, the engine's ``hutchinson_trace``) vs Eq. (7)
    at checkpoints of full-batch GD on a whitened uniform random subset (alpha_max is not stated)."""
    fn = _trace_run
    if cache:
        from .cache import memory

        fn = memory().cache(_trace_run)
    return fn(name, int(n), int(seed), pool, float(sigma_x), tuple(widths), init, float(lr_max), int(epochs), rule,
              tuple(sorted(set(int(e) for e in checkpoints))), int(num_probes))


def _top_eig_run(name: str, n: int, seed: int, pool: int | None, sigma_x: float, width: int, init: str,
                 lr_max: float, epochs: int, rule: str, checkpoints: tuple, k: int, tol: float,
                 maxiter: int) -> dict:
    from scipy.sparse.linalg import lobpcg

    torch.set_num_threads(1)
    sub, res = _train_with_checkpoints(name, n, seed, pool, sigma_x, (width,), init, lr_max, epochs, rule,
                                       checkpoints)
    rows = []
    X0 = None
    rng = np.random.default_rng(seed)
    for e in sorted(res.checkpoints):
        W1, W2 = res.checkpoints[e]
        op = LinearNetStatsHessian([W1, W2], sub.stats)
        A = op.to_scipy()
        if X0 is None:
            X0 = rng.standard_normal((op.shape[0], k))
        vals, vecs, hist = lobpcg(A, X0, largest=True, tol=tol, maxiter=maxiter, retResidualNormsHistory=True)
        order = np.argsort(-vals)
        vals, vecs = vals[order], vecs[:, order]
        X0 = vecs  # warm start for the next checkpoint
        resid = np.linalg.norm(A.matmat(vecs) - vecs * vals, axis=0)
        theory = ln.shallow_eigenvalues_eq15(W1, W2, sigma_x)[:k].numpy()
        rows.append({"epoch": e, "loss": float(res.loss[e]), "lobpcg": vals.tolist(), "eq15": theory.tolist(),
                     "pct_error": (100 * np.abs(vals - theory) / np.abs(vals)).tolist(),
                     "signed_pct": (100 * (vals - theory) / np.abs(vals)).tolist(),
                     "residual_norms": resid.tolist(), "lobpcg_iterations": len(hist),
                     "eq10": ln.lambda_max_eq10(W1, W2, sigma_x),
                     "max_layer_norm_sq": max(float(torch.linalg.matrix_norm(W, ord=2)) ** 2 for W in (W1, W2)),
                     "hvps": op.num_products})
    return {"dataset": sub.describe(), "rows": rows, "status": res.status, "halvings": res.halvings,
            "loss": res.loss[:: max(1, epochs // 200)].tolist(), "p": op.shape[0]}


def top_eigenvalues_during_training(name: str, *, n: int, seed: int = 0, pool: int | None = None,
                                    sigma_x: float = 1.0, width: int = 256, init: str = "kaiming",
                                    lr_max: float = 0.001, epochs: int = 10_000, rule: str = "window",
                                    checkpoints: Sequence[int] = (0, 10_000), k: int = 10, tol: float = 1e-6,
                                    maxiter: int = 500, reduce: bool = True, cache: bool = True) -> dict:
    """Fig. 4: top-k Hessian eigenvalues of a 2-layer linear net by LOBPCG (scipy, matrix-free on
    :class:`LinearNetStatsHessian`, warm-started from the previous checkpoint) vs Eq. (15), at
    checkpoints of full-batch GD. The percentage error is 100 |lambda_LOBPCG - lambda_Eq15| / lambda_LOBPCG,
    matched in sorted order (the paper's exact definition is not stated). LOBPCG tolerance and
    iteration cap are ours (not stated by the paper).

    ``reduce=True`` runs LOBPCG on the exact invariant subspace of :func:`whitened_input_reduction`
    (input directions spanned by the rows of W_1 and M) and adds the closed-form eigenvalues of its
    complement; the result is the spectrum of the full Hessian (tested), at a fraction of the cost.
    """
    fn = _top_eig_run_reduced if reduce else _top_eig_run
    if cache:
        from .cache import memory

        fn = memory().cache(fn)
    return fn(name, int(n), int(seed), pool, float(sigma_x), int(width), init, float(lr_max), int(epochs), rule,
              tuple(sorted(set(int(e) for e in checkpoints))), int(k), float(tol), int(maxiter))


def balanced_zero_loss_spectrum(d: int, L: int, n: int, sigma_x: float, seed: int = 0) -> dict:
    """Fig. 1(a): dense Hessian spectrum of a strongly balanced zero-loss linear net vs Eqs. (13) + (9).

    App. C: X' ~ N(0,1)^{d x n} whitened with sigma_x; d singular values s ~ U[0,1]; L balanced
    d x d layers; Y = W_L...W_1 X (Assumption 1 exactly). The Hessian of the data loss (2) is formed
    densely by ``torch.autograd.functional.hessian`` in float64; the theory recovers the singular
    values from the labels by Eq. (13) and the eigenvalues by Eq. (9) over the full index range.
    """
    g = torch.Generator().manual_seed(int(seed))
    X = ln.orthogonalize(torch.randn(d, n, generator=g, dtype=torch.float64), sigma_x)
    s = torch.rand(d, generator=g, dtype=torch.float64)
    Ws = ln.sample_balanced_weights([d] * (L + 1), s, generator=g)
    Y = ln.end_to_end(Ws) @ X
    dims = [d] * (L + 1)
    w = flatten_weights(Ws)

    def f(v: Tensor) -> Tensor:
        return loss_data(unflatten_weights(v, dims), X, Y)

    H = torch.autograd.functional.hessian(f, w, vectorize=True)
    J = torch.autograd.functional.jacobian(lambda v: (ln.end_to_end(unflatten_weights(v, dims)) @ X).reshape(-1), w,
                                           vectorize=True)
    ggn_gap = float((H - J.T @ J / n).abs().max())
    numeric = torch.sort(torch.linalg.eigvalsh(H), descending=True).values
    s_from_Y = ln.singular_values_from_labels_eq13(Y, sigma_x, L)
    theory = torch.sort(ln.balanced_eigenvalues_eq9(s_from_Y[:d], L, sigma_x, d, d).flatten(), descending=True).values
    k = ln.nonzero_count_balanced(d, d, d)
    rel = ((numeric[:k] - theory[:k]).abs() / theory[:k]).max()
    # dense eigh resolves eigenvalues only down to ~eps * p * lambda_max; report the relative error above
    # a floor of 1e-10 lambda_max (ours) separately
    above = theory[:k] > 1e-10 * theory[0]
    rel_above = ((numeric[:k][above] - theory[:k][above]).abs() / theory[:k][above]).max()
    alpha = float(ln.label_proportions(Y)[0])
    return {"numeric": numeric.numpy(), "theory": theory.numpy(), "s_sampled": torch.sort(s, descending=True).values.numpy(),
            "s_from_labels": s_from_Y.numpy(), "max_rel_error_nonzero": float(rel),
            "max_rel_error_above_1e-10_lmax": float(rel_above), "num_above_1e-10_lmax": int(above.sum()),
            "smallest_nonzero_theory": float(theory[k - 1]),
            "max_abs_error_nonzero": float((numeric[:k] - theory[:k]).abs().max()),
            "s_recovery_error": float((torch.sort(s, descending=True).values - s_from_Y[:d]).abs().max()),
            "nonzero_true": k, "nonzero_paper": ln.paper_nonzero_count_sec3(dims),
            "nonzero_numeric": int((numeric.abs() > 1e-13 * numeric[0]).sum()), "p": int(w.numel()),
            "hessian_minus_ggn_max": ggn_gap, "lambda_max": float(numeric[0]),
            "eq14": ln.sharpness_eq14(L, alpha, sigma_x),
            "eq6_bound": ln.lambda_max_bound_eq6(Ws, sigma_x), "alpha_max_Y": alpha,
            "loss": float(f(w))}


# ---------------------------------------------------------------------------------------------
# Exact reduction for whitened inputs (used by Fig. 4)


@dataclass
class WhitenedReduction:
    """Basis of the invariant input subspace of :func:`whitened_input_reduction` and its statistics."""

    Q: Tensor                      # d0 x r, orthonormal; reduced W_1 = W_1 Q
    stats: SufficientStatistics    # statistics in the reduced coordinates (r inputs)
    sigma2: float                  # the common value of C's eigenvalues (sigma_x^2)
    d0: int


def whitened_input_reduction(W1: Tensor, stats: SufficientStatistics, rtol: float = 1e-10,
                             c_tol: float = 1e-8) -> WhitenedReduction:
    """Exact reduction of a linear net's Hessian for whitened inputs, C = sigma_x^2 I.

    Let R be the span of the rows of W_1 and of M = Y X^T / n in input space (dimension r <= d1 + dL).
    With C = sigma_x^2 I, G = W_e C - M has rows in R, so directions (V_1, V_2, ..., V_L) whose V_1 rows
    lie in R form an invariant subspace of the Hessian (every product below keeps V_1's rows in R), and
    its orthogonal complement {(a b^T, 0, ..., 0): b in R-perp} is invariant too, with
    H (a b^T) = sigma_x^2 (S_1^T S_1 a) b^T, S_1 = W_L ... W_2: eigenvalues sigma_x^2 sigma_j^2(S_1), each
    (d0 - r)-fold (:func:`complement_eigenvalues`). Gradient descent also keeps W_1's rows in R.
    Returns the basis Q and the statistics in the reduced coordinates (r inputs), for the reduced
    weights W_1 Q. ``ValueError`` if C is not a multiple of I to ``c_tol``.
    """
    sigma2 = float(stats.c.mean())
    if float((stats.c - sigma2).abs().max()) > c_tol * sigma2:
        raise ValueError("the reduction needs whitened inputs (C = sigma_x^2 I)")
    B = torch.cat([W1.to(torch.float64), stats.M], 0).T
    U, sv, _ = torch.linalg.svd(B, full_matrices=False)
    r = int((sv > rtol * sv[0]).sum())
    Q = U[:, :r]
    Cr = (Q.T * stats.c) @ Q
    cr, Ur = torch.linalg.eigh(Cr)
    Q = Q @ Ur
    red = SufficientStatistics(c=cr, M=stats.M @ Q, c0=stats.c0, n=stats.n, U=None)
    return WhitenedReduction(Q=Q, stats=red, sigma2=sigma2, d0=stats.d0)


def complement_eigenvalues(Ws: Sequence[Tensor], red: WhitenedReduction) -> tuple[Tensor, int]:
    """Eigenvalues sigma_x^2 sigma_j^2(W_L...W_2) (j <= d1, zeros included) of the complement block and their
    common multiplicity d0 - r (see :func:`whitened_input_reduction`)."""
    d1 = Ws[0].shape[0]
    if len(Ws) > 1:
        sv = torch.linalg.svdvals(ln.end_to_end(list(Ws[1:])))
    else:
        sv = torch.ones(Ws[0].shape[0], dtype=torch.float64)
    vals = torch.zeros(d1, dtype=torch.float64)
    vals[: sv.numel()] = red.sigma2 * sv ** 2
    return vals, red.d0 - red.Q.shape[1]


def _top_eig_run_reduced(name: str, n: int, seed: int, pool: int | None, sigma_x: float, width: int, init: str,
                         lr_max: float, epochs: int, rule: str, checkpoints: tuple, k: int, tol: float,
                         maxiter: int) -> dict:
    from scipy.sparse.linalg import lobpcg

    torch.set_num_threads(1)
    sub, res = _train_with_checkpoints(name, n, seed, pool, sigma_x, (width,), init, lr_max, epochs, rule,
                                       checkpoints)
    first = res.checkpoints[min(res.checkpoints)]
    red = whitened_input_reduction(first[0], sub.stats)
    rows = []
    X0 = None
    rng = np.random.default_rng(seed)
    for e in sorted(res.checkpoints):
        W1, W2 = res.checkpoints[e]
        W1r = W1 @ red.Q
        leak = float(torch.linalg.norm(W1 - W1r @ red.Q.T) / torch.linalg.norm(W1))
        if leak > 1e-8:
            raise RuntimeError(f"W_1 left the invariant subspace (relative leak {leak:.2e})")
        op = LinearNetStatsHessian([W1r, W2], red.stats)
        A = op.to_scipy()
        if X0 is None:
            X0 = rng.standard_normal((op.shape[0], k))
        vals, vecs, hist = lobpcg(A, X0, largest=True, tol=tol, maxiter=maxiter, retResidualNormsHistory=True)
        order = np.argsort(-vals)
        vals, vecs = vals[order], vecs[:, order]
        X0 = vecs
        resid = np.linalg.norm(A.matmat(vecs) - vecs * vals, axis=0)
        comp, mult = complement_eigenvalues([W1, W2], red)
        comp_top = np.repeat(np.sort(comp.numpy())[::-1][:k], min(mult, k))
        merged = np.sort(np.concatenate([vals, comp_top]))[::-1][:k]
        theory = ln.shallow_eigenvalues_eq15(W1, W2, sigma_x)[:k].numpy()
        rows.append({"epoch": e, "loss": float(res.loss[e]), "lobpcg": merged.tolist(), "eq15": theory.tolist(),
                     "pct_error": (100 * np.abs(merged - theory) / np.abs(merged)).tolist(),
                     "signed_pct": (100 * (merged - theory) / np.abs(merged)).tolist(),
                     "lobpcg_reduced": vals.tolist(), "from_complement": int(np.sum(~np.isin(merged, vals))),
                     "residual_norms": resid.tolist(), "lobpcg_iterations": len(hist), "hvps": op.num_products,
                     "reduced_p": op.shape[0], "subspace_leak": leak,
                     "eq10": ln.lambda_max_eq10(W1, W2, sigma_x),
                     "max_layer_norm_sq": max(float(torch.linalg.matrix_norm(W, ord=2)) ** 2 for W in (W1, W2))})
    p = sum(W.numel() for W in res.Ws)
    return {"dataset": sub.describe(), "rows": rows, "status": res.status, "halvings": res.halvings,
            "loss": res.loss[:: max(1, epochs // 200)].tolist(), "p": p, "reduced_p": rows[-1]["reduced_p"],
            "reduction": "exact invariant subspace for whitened inputs (whitened_input_reduction)"}


__all__ += [
    "sharpness_vs_label_proportion", "sharpness_eq14_or_nan", "trace_during_training",
    "top_eigenvalues_during_training", "balanced_zero_loss_spectrum", "WhitenedReduction",
    "whitened_input_reduction", "complement_eigenvalues",
]
