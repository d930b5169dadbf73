"""Cached experiments of Granziol et al. (2020) that the notebooks call (one function per family of figures).

- theory (no figure in the paper): :func:`lemma3_points`, :func:`theorem1_points` (dense simulations of
  Lemma 3 / Theorem 1 at fixed spikes), :func:`theorem1_sweep` (the (q, β) sweep of inventory §F "Lemma 3 /
  Theorem 1"), :func:`dispersion_draws` (App. F), :func:`lemma2_experiment` (Lemma 2's element-wise CLT on the
  per-sample Hessian elements of the PRN stand-in);
- main text (Figs 1-12, Tables 1-3): :func:`pair_spectra`, the trained run of :mod:`.zoo`, its Empirical
  (m = ``emp_steps``) and Augmented (K = ``copies``, m = ``aug_steps``) stem plots and their summaries, and
  the training history;
- appendix (Figs 13-33): :func:`checkpoint_spectrum` (the "full dataspectrum" of one checkpoint, optionally a
  second start vector, Fig 29) and :func:`augmented_final_spectrum` (the "5 million samples, m = 10" spectra of
  Figs 13 and 22).

Every function is cached on disk (:func:`hessian_spectra.pipeline.cache.cached`) by its arguments and the
code of the engine, the augmentation module and this package, and runs under a file lock keyed by its
arguments (training under one keyed by run and profile): notebooks run in parallel (``run_all.sh --jobs 2``)
that need the same spectrum or the same trained network wait for the first one and then read its cache
instead of computing it twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ...models import build_model
from ...pipeline.cache import CORE_MODULES, cache_dir, cached
from ...training import loss_function
from . import spectra as sp
from . import theory as th
from . import zoo

__all__ = [
    "augmented_final_spectrum",
    "checkpoint_spectrum",
    "dispersion_draws",
    "lemma2_experiment",
    "lemma3_points",
    "pair_spectra",
    "theorem1_points",
    "theorem1_sweep",
]

_DEPS = CORE_MODULES + ("hessian_spectra.augmentation", "hessian_spectra.papers.granziol2020.spectra",
                        "hessian_spectra.papers.granziol2020.theory", "hessian_spectra.papers.granziol2020.zoo")


@contextlib.contextmanager
def _lock(*key: Any) -> Any:
    """An exclusive ``fcntl`` lock on ``<cache_dir>/locks/granziol2020-<hash of key>.lock`` (released on exit,
    also when the holder dies)."""
    folder = cache_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(json.dumps(key, default=str, sort_keys=True).encode()).hexdigest()[:16]
    with open(folder / f"granziol2020-{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _locked(func: Any) -> Any:
    """``func`` (a cached function) run under :func:`_lock` keyed by its name and arguments."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _lock(func.__name__, args, kwargs):
            return func(*args, **kwargs)
    return wrapper


def _trained(run: str, profile: str, epoch: int | str = "final") -> Any:
    """:func:`.zoo.trained` of (run, profile) under a lock per (run, profile): one process trains, the others
    wait and load its checkpoints."""
    with _lock("train", run, profile):
        return zoo.trained(zoo.zoo_config(run, profile), epoch)


# ------------------------------------------------------------------------------------------------------
# theory
# ------------------------------------------------------------------------------------------------------
def _lemma3_points(P: int, spikes: Sequence[Sequence[float]], sigma: float, seeds: int, seed: int
                   ) -> list[dict[str, Any]]:
    out = []
    for i, (top, bottom) in enumerate(spikes):
        rng = np.random.default_rng([seed, i])
        ev = [th.sample_lemma3(P, (top, bottom), sigma, rng) for _ in range(seeds)]
        pred_top, pred_bottom = th.lemma3_extremes(top, bottom, sigma)
        out.append({"spikes": [top, bottom], "sim_top": float(np.mean([e[-1] for e in ev])),
                    "sim_bottom": float(np.mean([e[0] for e in ev])), "pred_top": pred_top,
                    "pred_bottom": pred_bottom, "P": P, "sigma": sigma, "seeds": seeds})
    return out


def _theorem1_points(P: int, qs: Sequence[float], spike_factors: Sequence[float], sigma: float,
                     noises: Sequence[str], seed: int) -> list[dict[str, Any]]:
    """For each q (N = P/q), spikes (a√q σ, −b√q σ) for (a, b) = ``spike_factors``; one draw per noise."""
    out = []
    a, b = spike_factors
    for i, q in enumerate(qs):
        N = round(P / q)
        spikes = (a * math.sqrt(P / N) * sigma, -b * math.sqrt(P / N) * sigma)
        for j, noise in enumerate(noises):
            rng = np.random.default_rng([seed, i, j])
            e = th.sample_theorem1(P, N, spikes, sigma, rng, noise=noise)  # type: ignore[arg-type]
            pred_top, pred_bottom = th.theorem1_extremes(spikes[0], spikes[1], sigma, P, N)
            out.append({"q": P / N, "N": N, "noise": noise, "spikes": list(spikes), "sim_top": float(e[-1]),
                        "sim_bottom": float(e[0]), "pred_top": pred_top, "pred_bottom": pred_bottom})
    return out


def _theorem1_sweep(P: int, qs: Sequence[float], betas: Sequence[float], sigma: float, seed: int
                    ) -> list[dict[str, Any]]:
    """Spikes (+βσ, −βσ) for each q (N = P/q) and β in ``betas``, Gaussian noise, one draw each; the BBP
    transition of Theorem 1 is at β = √q."""
    out = []
    for i, q in enumerate(qs):
        N = round(P / q)
        for j, beta in enumerate(betas):
            rng = np.random.default_rng([seed, 1000 + i, j])
            spikes = (beta * sigma, -beta * sigma)
            e = th.sample_theorem1(P, N, spikes, sigma, rng)
            pred_top, pred_bottom = th.theorem1_extremes(spikes[0], spikes[1], sigma, P, N) if beta > 0 else \
                (th.noise_edge(sigma, P / N), -th.noise_edge(sigma, P / N))
            out.append({"q": P / N, "N": N, "beta": float(beta), "sim_top": float(e[-1]), "sim_bottom": float(e[0]),
                        "pred_top": pred_top, "pred_bottom": pred_bottom})
    return out


def _dispersion_draws(P: int, s2: float, draws: int, seed: int) -> dict[str, Any]:
    """App. F: H = Q diag(λ) Qᵀ with λ = (5, 3, −2, 50 standard normals, zeros), ε symmetric with i.i.d.
    N(0, s²) entries (diagonal included); the eigenvalue variance of H + ε over ``draws`` draws."""
    rng = np.random.default_rng(seed)
    lam = np.concatenate([[5.0, 3.0, -2.0], rng.standard_normal(50), np.zeros(P - 53)])
    Q, _ = np.linalg.qr(rng.standard_normal((P, P)))
    H = (Q * lam) @ Q.T
    vals = []
    for _ in range(draws):
        a = rng.standard_normal((P, P)) * math.sqrt(s2)
        vals.append(float(np.linalg.eigvalsh(H + np.triu(a) + np.triu(a, 1).T).var()))
    return {"P": P, "s2": s2, "draws": vals, "mean": float(np.mean(vals)),
            "se": float(np.std(vals, ddof=1) / math.sqrt(draws)), "var_H": float(lam.var()),
            "predicted": th.dispersion_prediction(lam, s2)}


def _lemma2_experiment(run: str, profile: str, copies: int, sizes: Sequence[int], num_subsamples: int,
                       n_rows: int, n_cols: int, seed: int, pool_per_class: int | None = None) -> dict[str, Any]:
    """Lemma 2 on the stand-in network of ``run`` at its initialisation (torch seed ``seed``; Lemma 2 is a
    statement at any fixed w); the index pairs are ``n_rows`` × ``n_cols`` seeded flat parameter indices (rows j,
    columns k). The pool of samples: with ``pool_per_class`` None, the augmented set (K = ``copies``) of the run's
    training images (copies of one image are dependent samples); with ``pool_per_class`` = n, n distinct
    CIFAR-10 training images per class, preprocessed as the run's data (pooled, standardised), no augmentation:
    i.i.d. draws from the data distribution, as Lemma 2 assumes."""
    cfg = zoo.zoo_config(run, profile)
    from ...training import prepare_data

    if pool_per_class is None:
        data, _ = prepare_data(cfg.data)
    else:
        spec = {k: v for k, v in cfg.data.items() if k not in ("test", "test_per_class")}
        data, _ = prepare_data({**spec, "per_class": int(pool_per_class)})
    torch.manual_seed(seed)
    model = build_model(cfg.model, **cfg.model_kwargs).eval()
    P = sum(p.numel() for p in model.parameters())
    rng = np.random.default_rng(seed)
    rows = sorted(rng.choice(P, n_rows, replace=False).tolist())
    cols = rng.choice(P, n_cols, replace=False).tolist()
    pairs = [(int(j), int(k)) for j in rows for k in cols]
    if pool_per_class is None:
        from ...augmentation import AugmentedData

        x, y = AugmentedData(data, copies, seed, padding=zoo.HESSIAN_PADDING[profile]).materialize()
    else:
        x, y = data.x, data.y
    t0 = time.perf_counter()
    h = th.per_sample_hessian_entries(model, loss_function("cross_entropy"), x, y, pairs, batch_size=256)
    check = th.lemma2_check(h, sizes, num_subsamples, seed=seed)
    check.update({"pairs": pairs, "pool": int(h.shape[0]), "P": P, "seconds": time.perf_counter() - t0,
                  "pool_kind": "augmented" if pool_per_class is None else "distinct training images",
                  "pool_mean": h.mean(axis=0).tolist(), "pool_std": h.std(axis=0).tolist()})
    return check


# ------------------------------------------------------------------------------------------------------
# spectra of trained runs
# ------------------------------------------------------------------------------------------------------
def _stem_record(stem: dict[str, Any]) -> dict[str, Any]:
    nodes = np.asarray(stem["nodes"], dtype=np.float64)
    weights = np.asarray(stem["weights"], dtype=np.float64)
    return {"nodes": nodes.tolist(), "weights": weights.tolist(), "num_steps": int(stem["num_steps"]),
            "breakdown": bool(stem["breakdown"]), "seconds": float(stem["seconds"]), "P": int(stem["P"]),
            "summary": sp.spectrum_summary(nodes, weights, P=int(stem["P"]))}


def _history_record(history: dict[str, Any]) -> dict[str, Any]:
    recs = history["records"]
    keys = ("epoch", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy")
    curves = {k: [r.get(k) for r in recs] for k in keys}
    final = {k: recs[-1].get(k) for k in keys}
    best = {"train_accuracy": max(r["train_accuracy"] for r in recs),
            "test_accuracy": max(r["test_accuracy"] for r in recs)}
    return {"curves": curves, "final": final, "best": best}


def _pair_spectra(run: str, profile: str, seed: int = 0) -> dict[str, Any]:
    """The Empirical and the Augmented stem plot of ``run``'s final weights (start vector seed ``seed``; the
    augmented set has seed ``seed`` too), with the training history and the q ratios."""
    S = zoo.spectral_settings(profile)
    t0 = time.perf_counter()
    model, data, history = _trained(run, profile)
    t_train = time.perf_counter() - t0
    emp = sp.lanczos_stem(sp.empirical_hessian(model, data), S["emp_steps"], seed=seed)
    aug_op = sp.augmented_hessian(model, data, S["copies"], seed=seed, padding=S["padding"])
    aug = sp.lanczos_stem(aug_op, S["aug_steps"], seed=seed)
    N = len(data.y)
    P = int(emp["P"])
    return {"run": run, "profile": profile, "seed": seed, "settings": S, "N": N, "P": P,
            "N_aug": N * S["copies"], "q_emp": P / N, "q_aug": P / (N * S["copies"]),
            "emp": _stem_record(emp), "aug": _stem_record(aug), "history": _history_record(history),
            "train_seconds": t_train, "augmented": aug_op.augmented.describe()}


def _checkpoint_spectrum(run: str, profile: str, epoch: int, seed: int = 0) -> dict[str, Any]:
    """The Empirical ("full dataspectrum") stem plot of ``run`` at checkpoint ``epoch`` (m = the profile's
    ``appendix_emp_steps``), start vector seed ``seed``."""
    S = zoo.spectral_settings(profile)
    model, data, history = _trained(run, profile, epoch)
    emp = sp.lanczos_stem(sp.empirical_hessian(model, data), S["appendix_emp_steps"], seed=seed)
    return {"run": run, "profile": profile, "epoch": epoch, "seed": seed, "N": len(data.y),
            "emp": _stem_record(emp), "history": _history_record(history)}


def _augmented_final_spectrum(run: str, profile: str, seed: int = 0) -> dict[str, Any]:
    """The Augmented stem plot of ``run``'s final weights over K = ``appendix_copies`` copies with m =
    ``appendix_aug_steps`` (Figs 13 and 22: 5M samples, m = 10)."""
    S = zoo.spectral_settings(profile)
    model, data, _ = _trained(run, profile)
    op = sp.augmented_hessian(model, data, S["appendix_copies"], seed=seed, padding=S["padding"])
    aug = sp.lanczos_stem(op, S["appendix_aug_steps"], seed=seed)
    N = len(data.y)
    P = int(aug["P"])
    return {"run": run, "profile": profile, "seed": seed, "N": N, "N_aug": N * S["appendix_copies"], "P": P,
            "q_aug": P / (N * S["appendix_copies"]), "aug": _stem_record(aug), "augmented": op.augmented.describe()}


lemma3_points = _locked(cached(_lemma3_points, _DEPS))
theorem1_points = _locked(cached(_theorem1_points, _DEPS))
theorem1_sweep = _locked(cached(_theorem1_sweep, _DEPS))
dispersion_draws = _locked(cached(_dispersion_draws, _DEPS))
lemma2_experiment = _locked(cached(_lemma2_experiment, _DEPS))
pair_spectra = _locked(cached(_pair_spectra, _DEPS))
checkpoint_spectrum = _locked(cached(_checkpoint_spectrum, _DEPS))
augmented_final_spectrum = _locked(cached(_augmented_final_spectrum, _DEPS))
