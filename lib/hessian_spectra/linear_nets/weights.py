"""Weights of deep linear networks: flat vectors, the paper's initialisations, and models built from them."""

from __future__ import annotations

import math
from typing import Sequence

import torch

from . import closed_form as ln

Tensor = torch.Tensor

__all__ = ["flatten_weights", "unflatten_weights", "kaiming_uniform_weights", "init_weights", "mlp_from_weights"]


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


def mlp_from_weights(Ws: Sequence[Tensor], activation: str = "tanh") -> torch.nn.Sequential:
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
