"""Theorem 4.1 / H.1 and Theorem F.1 Monte Carlo (hessian_spectra.papers.wu2020.theory) at tiny sizes against
closed forms, and the claim rules of the theory and architecture sections of papers/wu2020/claims.py on
hand-made numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hessian_spectra.papers.wu2020 import claims as cl
from hessian_spectra.papers.wu2020 import theory as th
from hessian_spectra.structure.overlap import subspace_overlap


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def two_layer():
    return th.two_layer_output_hessian(200, 400, c=10, samples=3000, seed=1)


def test_constants():
    assert th.LEMMA12_VARIANCE == pytest.approx(0.5 - 1 / (2 * math.pi)) == pytest.approx(0.3408, abs=1e-4)
    g = torch.randn(2, 400_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    relu = g[0].clamp(min=0)
    assert float(relu.var()) == pytest.approx(th.LEMMA12_VARIANCE, rel=0.01)
    assert float(((g[0] > 0) & (g[1] > 0)).double().mean()) == pytest.approx(th.EQ72_FACTOR, abs=0.003)


def test_two_layer_matches_a_direct_computation():
    """M = E[D W2ᵀ A W2 D] and Ā = E[A] against a per-sample loop with the same draws."""
    n, d, c, samples = 12, 7, 3, 40
    r = th.two_layer_output_hessian(n, d, c, samples, seed=3, chunk=16)
    g = torch.Generator().manual_seed(3)
    W1, W2 = th.random_two_layer_weights(d, n, c, generator=g)
    x = torch.cat([torch.randn(16, d, generator=g, dtype=torch.float64),
                   torch.randn(16, d, generator=g, dtype=torch.float64),
                   torch.randn(8, d, generator=g, dtype=torch.float64)])
    M = torch.zeros(n, n, dtype=torch.float64)
    A_bar = torch.zeros(c, c, dtype=torch.float64)
    for xi in x:
        D = torch.diag((W1 @ xi > 0).double())
        p = torch.softmax(W2 @ torch.relu(W1 @ xi), 0)
        A = torch.diag(p) - torch.outer(p, p)
        M += D @ W2.T @ A @ W2 @ D / samples
        A_bar += A / samples
    ev = torch.linalg.eigvalsh(M).flip(0)
    assert np.allclose(r["eigenvalues"], ev[: 2 * c].numpy(), atol=1e-13)
    assert np.allclose(r["mean_A_eigenvalues"], torch.linalg.eigvalsh(A_bar).flip(0).numpy(), atol=1e-14)
    assert r["gap_ratio"] == pytest.approx(float(ev[c - 1] / ev[c - 2]))


def test_theorem_h1_at_small_size(two_layer):
    r = two_layer
    assert r["gap_ratio"] < 0.5 and r["overlap"] > 0.97            # rank c−1, predicted subspace
    assert np.mean(r["z_variance"]) == pytest.approx(th.LEMMA12_VARIANCE, rel=0.1)  # Lemma 12
    ev = np.array(r["mean_A_eigenvalues"])                           # Lemma 3: rank c−1, null vector 1
    assert abs(ev[-1]) < 1e-14 * ev[0] and ev[-2] > 1e-2 * ev[0]
    assert r["mean_A_null_alignment"] == pytest.approx(1.0, abs=1e-12)
    assert r["eq72_rel_error"] < 0.15                                # Eq 72's ¼
    # Lemma 7 fails: row sums of W2 are O(1) and E[z] = W2·E[y], not 0
    zm, zp, se = map(np.array, (r["z_mean"], r["z_mean_predicted"], r["z_mean_stderr"]))
    assert np.sqrt(np.mean(np.square(r["w2_row_sums"]))) > 0.3
    assert np.all(np.abs(zm - zp) < 5 * se + 0.05)
    assert np.sqrt(np.mean(zm**2)) > 10 * np.sqrt(np.mean(se**2))


def test_gap_ratio_curve_uses_one_seed_per_size():
    out = th.gap_ratio_curve([(20, 30), (40, 30)], c=3, samples=200, seed=5)
    assert [o["n"] for o in out] == [20, 40] and [o["seed"] for o in out] == [5, 6]
    with pytest.raises(ValueError):
        th.gap_ratio_curve([(20,)], c=3)
    with pytest.raises(ValueError):
        th.two_layer_output_hessian(2, 10, c=3)


def test_random_frames_are_orthonormal_and_overlap_k_over_m():
    g = torch.Generator().manual_seed(0)
    Q = th.random_frame(9, 4, g)
    assert torch.allclose(Q.T @ Q, torch.eye(4, dtype=torch.float64), atol=1e-12)
    out = th.random_frame_overlap(30, [1, 6, 24], trials=600, seed=2)
    for k, mean, se in zip(out["ks"], out["mean"], out["stderr"]):
        assert abs(mean - k / 30) <= 4 * se + 1e-12
    assert th.random_frame_overlap(5, [5], trials=3)["mean"] == pytest.approx([1.0])  # the whole space
    with pytest.raises(ValueError):
        th.random_frame_overlap(5, [6])


def test_kronecker_overlap_curve_follows_theorem_f1():
    out = th.kronecker_overlap_curve(m=6, n=8, dot2=0.64, pairs=12, seed=0)
    ks, mean = np.array(out["ks"]), np.array(out["mean"])
    assert out["condition"]["holds"] and len(ks) == 12
    # at k = m the top-m spaces are R ⊗ t exactly: overlap = (t1·t2)² (Eq 58 with Overlap(V1, V2) = 1)
    assert mean[ks == 6][0] == pytest.approx(0.64, abs=1e-10)
    assert np.allclose(out["predicted"], ks[ks <= 6] / 6 * 0.64)
    assert int(ks[np.argmax(mean)]) == 6
    # Eq 58 for one model pair: overlap of V ⊗ t's is (t1·t2)² · Overlap(V1, V2)
    g = torch.Generator().manual_seed(1)
    V1, V2 = th.random_frame(6, 2, g), th.random_frame(6, 2, g)
    t1, t2 = th._unit_pair(8, 0.3, g)
    assert float(t1 @ t2) ** 2 == pytest.approx(0.3)
    lhs = subspace_overlap(torch.kron(V1.contiguous(), t1.unsqueeze(1).contiguous()),
                          torch.kron(V2.contiguous(), t2.unsqueeze(1).contiguous()))
    assert lhs == pytest.approx(0.3 * subspace_overlap(V1, V2), abs=1e-12)


def test_kronecker_condition_can_fail():
    out = th.kronecker_overlap_curve(m=4, n=5, dot2=1.0, pairs=2, tau_ratio=0.05, gamma_ratio=0.1, seed=0)
    assert not out["condition"]["holds"]


# ----------------------------------------------------------------------------- claim rules: theory


def test_claim_s4():
    assert cl.claim_s4_output_hessian_rank([100, 400, 1000], [0.6, 0.149, 0.068]).verdict == "agree"
    assert cl.claim_s4_output_hessian_rank([1000, 100, 400], [0.068, 0.6, 0.149]).verdict == "agree"  # any order
    assert cl.claim_s4_output_hessian_rank([100, 400, 1000], [0.6, 0.149, 0.12]).verdict == "disagree"
    assert cl.claim_s4_output_hessian_rank([100, 400, 1000], [0.6, 0.05, 0.068]).verdict == "disagree"
    assert cl.claim_s4_output_hessian_rank([100, 400], [0.6, 0.1]).verdict == "not_checkable"


def test_claim_s15_s139_s140():
    assert cl.claim_s15_output_subspace([400, 1000], [0.9, 0.9995]).verdict == "agree"
    assert cl.claim_s15_output_subspace([400, 1000], [0.999, 0.985]).verdict == "disagree"
    assert cl.claim_s15_output_subspace([400], [0.999]).verdict == "not_checkable"
    assert cl.claim_s139_lemma12_variance(0.331, 1000).verdict == "agree"
    assert cl.claim_s139_lemma12_variance(0.30, 1000).verdict == "disagree"
    assert cl.claim_s140_eq72_quarter([100, 400, 1000], [0.3, 0.05, 0.02]).verdict == "agree"
    assert cl.claim_s140_eq72_quarter([100, 400, 1000], [0.01, 0.06, 0.02]).verdict == "disagree"
    assert cl.claim_s140_eq72_quarter([100], [0.01]).verdict == "not_checkable"


def test_claim_s141_and_e17():
    ev = [0.15, 0.1, 0.05, 1e-17]
    assert cl.claim_s141_mean_softmax_hessian_rank(ev, 1.0).verdict == "agree"
    assert cl.claim_s141_mean_softmax_hessian_rank([0.15, 0.1, 1e-6, 1e-17], 1.0).verdict == "disagree"
    assert cl.claim_s141_mean_softmax_hessian_rank([0.15, 0.1, 0.05, 1e-9], 1.0).verdict == "disagree"
    assert cl.claim_s141_mean_softmax_hessian_rank(ev, 0.9).verdict == "disagree"
    assert cl.claim_e17_lemma7_zero_mean(1.0, 0.4, 0.01, 0.006, 1000).verdict == "paper_erratum"
    assert cl.claim_e17_lemma7_zero_mean(1.0, 0.01, 0.01, 0.006, 1000).verdict == "agree"
    assert cl.claim_e17_lemma7_zero_mean(1.0, 0.4, 0.2, 0.006, 1000).verdict == "disagree"


def test_claim_s93_s91_s92():
    assert cl.claim_s93_random_frame_overlap([5, 50], [0.0243, 0.2502], [0.001, 0.001], 200).verdict == "agree"
    assert cl.claim_s93_random_frame_overlap([5, 50], [0.0243, 0.30], [0.001, 0.001], 200).verdict == "disagree"
    ks = list(range(1, 21))
    linear = [0.04 * k for k in ks[:10]] + [0.4 - 0.01 * j for j in range(1, 11)]
    assert cl.claim_s91_linear_growth(ks, linear, 10).verdict == "agree"
    concave = [0.4 * (k / 10) ** 0.2 for k in ks]
    assert cl.claim_s91_linear_growth(ks, [0.1] + [0.05] * 19, 10).verdict == "disagree"
    assert cl.claim_s91_linear_growth(ks, concave, 10).ours["R²"] < 1
    assert cl.claim_s92_peak_at_m(ks, linear, 10, 0.4).verdict == "agree"
    assert cl.claim_s92_peak_at_m(ks, linear, 10, 2.0).verdict == "disagree"   # ratio 0.2
    assert cl.claim_s92_peak_at_m(ks, concave, 10, 0.4).verdict == "disagree"  # no peak at m


# ----------------------------------------------------------------------------- claim rules: architectures


def test_normalizers():
    assert cl.normalize_shape([1, 28, 28]) == cl.normalize_shape((28, 28)) == (28, 28)
    assert cl.normalize_shape(784) == (784,) and cl.normalize_shape([1]) == (1,)
    assert cl.normalize_module("MaxPooling2D(2,2)") == cl.normalize_module("maxpooling2d(2, 2)")


def test_claim_s39():
    paper = [{"name": "MNIST", "train": 60000, "test": 10000, "input_size": [28, 28], "classes": 10, "label": "True"},
             {"name": "CIFAR100", "train": 50000, "test": 10000, "input_size": [3, 32, 32], "classes": 100, "label": "True"}]
    ours = [{"name": "MNIST", "train": 60000, "test": 10000, "input_size": [1, 28, 28], "classes": 10, "label": "True"},
            {"name": "CIFAR100", "train": None, "test": None, "input_size": None, "classes": None, "label": None}]
    c = cl.claim_s39_datasets(ours, paper)
    assert c.verdict == "agree" and "CIFAR100" in c.note
    ours[0]["test"] = 9000
    assert cl.claim_s39_datasets(ours, paper).verdict == "disagree"
    assert cl.claim_s39_datasets(ours[1:], paper).verdict == "not_checkable"


def test_claim_s40():
    paper = [{"module": "Flatten", "in": [28, 28], "out": [784]}, {"module": "Linear(784, 10)", "in": [784], "out": [10]}]
    ours = [{"module": "Flatten", "in": [1, 28, 28], "out": [784]}, {"module": "Linear(784, 10)", "in": [784], "out": [10]}]
    assert cl.claim_s40_structure("net", ours, paper, 7850, 7850).verdict == "agree"
    assert cl.claim_s40_structure("net", ours, paper, 7850, 7851).verdict == "disagree"
    assert cl.claim_s40_structure("net", ours[:1], paper, 7850, 7850).verdict == "disagree"
    bad = [ours[0], {**ours[1], "out": [11]}]
    assert "row 2 out" in cl.claim_s40_structure("net", bad, paper, 7850, 7850).note
