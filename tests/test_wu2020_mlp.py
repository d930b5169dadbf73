"""Wu et al. (2020), fully connected networks on MNIST (Figs 2, 8, 20, 21, 24): the measurements of
``hessian_spectra.papers.wu2020.mlp`` against exact float64 references at tiny sizes (autograd Hessians and
Jacobians, hand-computed scores), and every claim rule of that section of ``claims.py`` on hand-made numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from sklearn.metrics import silhouette_score
from torch.func import functional_call

from hessian_spectra.data import LabelledData
from hessian_spectra.models import mlp as build_mlp
from hessian_spectra.papers.wu2020 import claims as cl
from hessian_spectra.papers.wu2020 import mlp
from hessian_spectra.structure.overlap import subspace_overlap

torch.set_num_threads(1)


def _model(seed: int = 0, widths=(4, 3), c: int = 3) -> nn.Sequential:
    torch.manual_seed(seed)
    return build_mlp(5, list(widths), c).double().eval()


def _data(n: int = 24, c: int = 3, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % c  # every class present
    return torch.randn(n, 5, generator=g, dtype=torch.float64), y


def _per_sample(model: nn.Sequential, index: int, x: torch.Tensor):
    """For the Linear at ``model[index]``: per sample G = ∂z/∂z_p (c, m), Q, x_p (the layer input)."""
    out = []
    for xi in x:
        h = model[: index](xi.unsqueeze(0))  # layer input
        zp = model[index](h)
        rest = model[index + 1:]
        G = torch.autograd.functional.jacobian(lambda z: rest(z).squeeze(0), zp).squeeze(1)  # (c, m)
        p = torch.softmax(rest(zp).squeeze(0), 0)
        Q = torch.diag(p.sqrt()) @ (torch.eye(len(p), dtype=p.dtype) - torch.outer(torch.ones_like(p), p))
        out.append((G.detach(), Q.detach(), h.squeeze(0).detach()))
    return out


@pytest.mark.parametrize("index,name", [(1, "fc1"), (3, "fc2"), (5, "fc3")])
def test_logit_gradient_means_match_per_sample_reference(index, name):
    model, (x, y) = _model(), _data()
    ref = _per_sample(model, index, x)
    c = 3
    m = ref[0][0].shape[1]
    n = ref[0][2].shape[0]
    gam = torch.zeros(c, c, m, dtype=torch.float64)
    dl = torch.zeros(c, c, m * n, dtype=torch.float64)
    cnt = torch.zeros(c, dtype=torch.float64)
    EQ = torch.zeros(c, c, dtype=torch.float64)
    EM = torch.zeros(m, m, dtype=torch.float64)
    for (G, Q, h), yi in zip(ref, y):
        N = Q @ G
        gam[yi] += N
        dl[yi] += torch.stack([torch.kron(N[j], h) for j in range(c)])
        cnt[yi] += 1
        EQ += Q
        EM += G.T @ (Q.T @ Q) @ G
    got = mlp.logit_gradient_means(model, (x, y), name, batch_size=7)  # several batches
    assert torch.allclose(got["gamma"], gam / cnt.view(-1, 1, 1), atol=1e-13)
    assert torch.allclose(got["delta"], dl / cnt.view(-1, 1, 1), atol=1e-13)
    assert torch.allclose(got["mean_Q"], EQ / len(y), atol=1e-14)
    assert torch.allclose(got["output_hessian"], EM / len(y), atol=1e-14)
    assert torch.allclose(got["input_mean"], torch.stack([r[2] for r in ref]).mean(0), atol=1e-14)
    assert got["counts"].tolist() == cnt.tolist()


def test_logit_gradient_means_rejects_missing_class():
    model, (x, y) = _model(), _data()
    with pytest.raises(ValueError, match="no samples"):
        mlp.logit_gradient_means(model, (x, y), "fc1", num_classes=4)


def test_logit_centre_approximation_is_EQ_times_weight_product():
    model = _model()
    EQ = torch.randn(3, 3, dtype=torch.float64)
    xm = torch.randn(5, dtype=torch.float64)
    gt, dt = mlp.logit_centre_approximation(model, "fc1", EQ, xm)
    S = model[5].weight @ model[3].weight  # W3 W2 (c, m1)
    assert torch.allclose(gt, EQ @ S, atol=1e-14)
    assert torch.allclose(dt, torch.stack([torch.kron(gt[j], xm) for j in range(3)]), atol=1e-14)
    g3, _ = mlp.logit_centre_approximation(model, "fc3", EQ, torch.randn(3, dtype=torch.float64))
    assert torch.allclose(g3, EQ)  # last layer: S = I


def test_silhouette_score_hand_example():
    """scikit-learn's silhouette_score (what clustering_analysis calls) on hand-worked cases: s_i = (b_i − a_i)
    / max(a_i, b_i), a_i the mean distance to the rest of its cluster, b_i to the nearest other cluster."""
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    s = silhouette_score(X, [0, 0, 1, 1], metric="euclidean")
    ref = np.mean([(10.5 - 1) / 10.5, (9.5 - 1) / 9.5, (9.5 - 1) / 9.5, (10.5 - 1) / 10.5])
    assert s == pytest.approx(ref, abs=1e-14)
    # a wrong grouping: a_i = 10 for every point, b_i = (1 + 11)/2 or (9 + 1)/2 → s_i = (6 − 10)/10 or (5 − 10)/10
    assert silhouette_score(X, [0, 1, 0, 1], metric="euclidean") == pytest.approx(-0.45, abs=1e-14)
    # singletons count 0
    s2 = silhouette_score(np.array([[0.0], [1.0], [5.0]]), [0, 0, 1], metric="euclidean")
    assert s2 == pytest.approx(((5 - 1) / 5 + (4 - 1) / 4 + 0.0) / 3, abs=1e-14)
    # 3-4-5 triangle in the plane, Euclidean (not squared) distances
    P = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [3.0, 4.0]])
    # clusters {0, 1} and {2, 3}: a = 3 for all; b = (4 + 5)/2 = 4.5 for all → s = 1.5/4.5
    assert silhouette_score(P, [0, 0, 1, 1], metric="euclidean") == pytest.approx(1 / 3, abs=1e-14)
    with pytest.raises(ValueError):
        silhouette_score(X, [0, 0, 0, 0], metric="euclidean")


def test_tsne_map_deterministic_and_shape():
    rng = np.random.default_rng(0)
    centres = 20 * rng.normal(size=(4, 30))
    X = np.repeat(centres, 6, axis=0) + rng.normal(size=(24, 30))
    labels = np.repeat(np.arange(4), 6)
    a = mlp.tsne_map(X, perplexity=5.0, seed=3)
    b = mlp.tsne_map(torch.from_numpy(X.copy()), perplexity=5.0, seed=3)
    assert a.shape == (24, 2) and a.dtype == np.float64 and np.isfinite(a).all()
    assert np.array_equal(a, b)  # bit-identical reruns
    # well-separated clusters stay separated on the map
    assert silhouette_score(a, labels, metric="euclidean") > 0.8
    with pytest.raises(ValueError):
        mlp.tsne_map(X, perplexity=24.0)  # scikit-learn needs perplexity < number of points


def test_gap_position_and_cosines():
    assert mlp.gap_position([10, 9, 8, 1, 0.9]) == 3
    assert mlp.gap_position([5, 1, 0.9, 0.8]) == 1
    assert mlp.gap_position([3, 2, 0.0, 0.0]) == 2  # a zero next eigenvalue is an infinite ratio
    ev = list(np.r_[np.linspace(10, 5, 9), np.linspace(1, 0.5, 30)])
    assert mlp.gap_position(ev, top=20) == 9
    c = mlp.cosine_rows(np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[2.0, 0.0], [-1.0, -1.0]]))
    assert np.allclose(c, [1.0, -1.0])


def test_fnet_config():
    cfg = mlp.fnet_config([7, 7, 7], "smoke", 1, epochs=3)
    assert cfg.model_kwargs["widths"] == [7, 7, 7] and cfg.epochs == 3 and tuple(cfg.save_epochs) == (0, 3)
    assert cfg.seed == 1 and cfg.model_kwargs["in_dim"] == 49
    with pytest.raises(ValueError):
        mlp.fnet_config([], "smoke")


def _flat_hessian(model, x, y, ggn=False):
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def unflat(t):
        out, i = {}, 0
        for n, s in zip(names, shapes):
            k = int(np.prod(s))
            out[n] = t[i:i + k].reshape(s)
            i += k
        return out

    if not ggn:
        return torch.autograd.functional.hessian(lambda t: F.cross_entropy(functional_call(model, unflat(t), (x,)), y), theta)
    J = torch.autograd.functional.jacobian(lambda t: functional_call(model, unflat(t), (x,)), theta)  # (N, c, P)
    p = torch.softmax(model(x), 1).detach()
    A = torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)
    return torch.einsum("nap,nab,nbq->pq", J, A, J) / len(y)


@pytest.fixture
def tiny_trained(monkeypatch):
    model = _model(seed=2, widths=(8, 6))  # top eigenvalues well separated (0.41, 0.26, 0.16, 0.12, 0.10, 0.08)
    x, y = _data(60)
    data = LabelledData(x.float(), y, "tiny", "train", 3, "synthetic")
    hist = {"records": [{"train_loss": 0.5, "train_accuracy": 0.7}]}
    monkeypatch.setattr(mlp, "trained", lambda cfg, epoch="final": (_model(seed=2, widths=(8, 6)).float(), data, hist))
    return model, x.float().double(), y


def test_full_hessian_comparison_against_dense(tiny_trained):
    model, x, y = tiny_trained
    cfg = mlp.fnet_config([8, 6], "smoke")  # never trained: ``trained`` is replaced by the fixture
    k = 6
    r = mlp.full_hessian_comparison(cfg, k, gterm_k=4, tol=1e-10, block_size=1, cache=False)
    m32 = _model(seed=2, widths=(8, 6)).float().double()  # the weights as the float32 checkpoint holds them
    H = _flat_hessian(m32, x, y)
    ev, U = torch.linalg.eigh(H)
    ev, U = ev.flip(0), U.flip(1)
    assert np.allclose(r["exact_eigenvalues"], ev[:k].numpy(), rtol=1e-8, atol=1e-10)
    # approximation: w_i from the dense E[M̄] of the layer outputs, rebuilt here from autograd Jacobians
    from hessian_spectra.structure.full_hessian import approximate_full_hessian_eigenpairs, full_output_hessian
    ap = approximate_full_hessian_eigenpairs(full_output_hessian(m32, (x, y)), k)
    assert np.allclose(r["approx_eigenvalues"], ap.eigenvalues.numpy(), rtol=1e-10)
    for j in (1, 3, 6):
        assert r["overlap"][j - 1] == pytest.approx(subspace_overlap(U[:, :j], ap.basis[:, :j]), abs=1e-7)
    G = _flat_hessian(m32, x, y, ggn=True)
    gev, gU = torch.linalg.eigh(G)
    assert np.allclose(r["gterm_eigenvalues"], gev.flip(0)[:4].numpy(), rtol=1e-8, atol=1e-10)
    assert r["gterm_overlap"][3] == pytest.approx(subspace_overlap(U[:, :4], gU.flip(1)[:, :4]), abs=1e-7)
    assert r["num_parameters"] == H.shape[0] and r["output_hessian_size"] == 17


def test_clustering_analysis_consistent(tiny_trained):
    model, x, y = tiny_trained
    cfg = mlp.fnet_config([8, 6], "smoke")
    r = mlp.clustering_analysis(cfg, "fc1", epoch=0, cache=False)
    lg = mlp.logit_gradient_means(_model(seed=2, widths=(8, 6)).float().double(), (x, y), "fc1")
    c = 3
    G2 = lg["gamma"].reshape(c * c, -1).numpy()
    assert r["silhouette"]["gamma_by_logit"] == pytest.approx(silhouette_score(G2, np.tile(np.arange(c), c)), abs=1e-12)
    assert r["silhouette"]["gamma_by_class"] == pytest.approx(silhouette_score(G2, np.repeat(np.arange(c), c)), abs=1e-12)
    assert r["tsne_perplexity"] == c and r["tsne_seed"] == 0
    assert r["gamma_tsne"].shape == (9, 2) and r["delta_tsne"].shape == (9, 2)
    assert np.array_equal(r["gamma_tsne"], mlp.tsne_map(G2, perplexity=c, seed=0))  # the members, rows (i, j)
    r2 = mlp.clustering_analysis(cfg, "fc1", epoch=0, cache=False)
    assert np.array_equal(r["delta_tsne"], r2["delta_tsne"])  # bit-identical reruns
    assert np.allclose(r["output_hessian_eigenvalues"], torch.linalg.eigvalsh(lg["output_hessian"]).flip(0).numpy())
    assert np.all(np.abs(r["cos_gamma_centre_vs_eq57"]) <= 1 + 1e-12)


# ------------------------------------------------------------------------------------------------
# claim rules on hand-made numbers


def test_max_relative_error_sorts():
    assert cl.max_relative_error([4, 2, 1], [1.5, 4.4, 2], 3) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        cl.max_relative_error([1, 2], [1, 2], 3)


def test_s5():
    ex = np.linspace(10, 1, 12)
    assert cl.claim_s5_kronecker_approximation(ex, ex * 0.9, 0.8, ex, ex * 1.2, 0.75).verdict == "agree"
    assert cl.claim_s5_kronecker_approximation(ex, ex * 0.7, 0.8, ex, ex, 0.9).verdict == "disagree"  # 30 % error
    assert cl.claim_s5_kronecker_approximation(ex, ex, 0.8, ex, ex, 0.6).verdict == "disagree"  # full overlap


def test_s37():
    ev = np.linspace(10, 1, 10)
    assert cl.claim_s37_gterm_dominates(ev, ev * 1.05, 0.95).verdict == "agree"
    assert cl.claim_s37_gterm_dominates(ev, ev * 1.15, 0.95).verdict == "disagree"
    assert cl.claim_s37_gterm_dominates(ev, ev, 0.85).verdict == "disagree"


def test_s38():
    good = {f"n{i}": (0.8, 0.3) for i in range(4)}
    assert cl.claim_s38_full_hessian_top_vs_later(good).verdict == "agree"
    assert cl.claim_s38_full_hessian_top_vs_later({**good, "n0": (0.6, 0.3)}).verdict == "disagree"
    assert cl.claim_s38_full_hessian_top_vs_later({**good, "n1": (0.8, 0.9)}).verdict == "disagree"
    assert cl.claim_s38_full_hessian_top_vs_later({"a": (0.9, 0.1)}).verdict == "not_checkable"


def test_s87_s88_s89():
    assert cl.claim_s87_logit_clustering(0.4, 0.1).verdict == "agree"
    assert cl.claim_s87_logit_clustering(0.25, 0.1).verdict == "disagree"
    assert cl.claim_s87_logit_clustering(0.4, 0.5).verdict == "disagree"
    assert cl.claim_s88_logit_centres([0.9, 0.8, 0.85]).verdict == "agree"
    assert cl.claim_s88_logit_centres([0.9, 0.6, 0.7]).verdict == "disagree"
    assert cl.claim_s89_weak_class_clustering(0.1, 9).verdict == "agree"
    assert cl.claim_s89_weak_class_clustering(0.3, 9).verdict == "disagree"
    assert cl.claim_s89_weak_class_clustering(0.1, 5).verdict == "disagree"
    assert cl.claim_s89_weak_class_clustering(0.1, 11).verdict == "agree"


def test_s90():
    assert cl.claim_s90_output_hessian_scale(0.003, 0.004, "paper").verdict == "agree"
    assert cl.claim_s90_output_hessian_scale(0.003, 0.04, "paper").verdict == "disagree"
    assert cl.claim_s90_output_hessian_scale(0.003, 0.04, "default").verdict == "not_checkable"
    assert cl.claim_s90_output_hessian_scale(0.05, 0.04, "default").verdict == "disagree"  # init 25× too large
    assert cl.claim_s90_output_hessian_scale(0.002, 0.003, "smoke", same_network=False).verdict == "not_checkable"


def test_s96_to_s100():
    assert cl.claim_s96_autocorrelation_ratio([0.1, 0.12]).verdict == "agree"
    assert cl.claim_s96_autocorrelation_ratio([0.1, 0.03]).verdict == "disagree"
    assert cl.claim_s97_output_hessian_outliers([9, 9, 9]).verdict == "agree"
    assert cl.claim_s97_output_hessian_outliers([9, 8]).verdict == "disagree"
    assert cl.claim_s98_theorem_f1_violated([0.2, 0.3], [0.7, 0.5]).verdict == "agree"
    assert cl.claim_s98_theorem_f1_violated([0.2, 0.6], [0.7, 0.5]).verdict == "disagree"
    assert cl.claim_s99_overlap_at_9(0.012).verdict == "agree"
    assert cl.claim_s99_overlap_at_9(0.03).verdict == "disagree"
    assert cl.claim_s99_overlap_at_9(0.005).verdict == "disagree"
    assert cl.claim_s100_sharp_decrease(0.012, 0.006).verdict == "agree"
    assert cl.claim_s100_sharp_decrease(0.012, 0.01).verdict == "disagree"
    assert all(math.isfinite(v) for v in cl.claim_s99_overlap_at_9(0.012).ours.values())
