"""The batch-norm helpers of Wu et al. (2020) App F.4 (hessian_spectra.papers.wu2020.batch_norm) against exact
float64 references on tiny networks, and the batch-norm claim rules of papers/wu2020/claims.py (S24,
S106-S116) on hand-made numbers (agree and disagree cases)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hessian_spectra.papers.wu2020 import batch_norm as bn
from hessian_spectra.papers.wu2020 import claims as cl
from hessian_spectra.structure import input_moments, kronecker_factors
from hessian_spectra.structure.autocorrelation import autocorrelation_stats


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_bn_cnn(seed=0):
    """conv(2→3, 3×3) → ReLU → BN2d → pool → conv(3→4, 2×2) → ReLU → BN2d → flatten → fc → ReLU → BN1d → fc."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.BatchNorm2d(3, affine=False), nn.MaxPool2d(2),
                        nn.Conv2d(3, 4, 2), nn.ReLU(), nn.BatchNorm2d(4, affine=False), nn.Flatten(),
                        nn.Linear(16, 6), nn.ReLU(), nn.BatchNorm1d(6, affine=False), nn.Linear(6, 3)).double()
    net.train()
    with torch.no_grad():  # give the running statistics non-trivial values
        for _ in range(5):
            net(torch.randn(32, 2, 8, 8, dtype=torch.float64))
    return net.eval()


def test_input_moments_match_a_direct_loop():
    net = tiny_bn_cnn()
    x = torch.randn(23, 2, 8, 8, dtype=torch.float64)
    y = torch.randint(0, 3, (23,))
    mom = input_moments(net, ["conv1", "conv2", "fc1", "fc2"], (x, y), batch_size=5)
    # reference: run the layers by hand, one sample at a time
    inputs = {"conv1": [], "conv2": [], "fc1": [], "fc2": []}
    with torch.no_grad():
        for i in range(len(x)):
            h = x[i: i + 1]
            inputs["conv1"].append(F.unfold(h, 3)[0])
            h = net[3](net[2](net[1](net[0](h))))
            inputs["conv2"].append(F.unfold(h, 2)[0])
            h = net[7](net[6](net[5](net[4](h))))
            inputs["fc1"].append(h[0].unsqueeze(1))
            h = net[10](net[9](net[8](h)))
            inputs["fc2"].append(h[0].unsqueeze(1))
    for layer, Xs in inputs.items():
        mean = sum(Xs) / len(Xs)
        xx = sum(X @ X.T for X in Xs) / len(Xs)
        got_mean = mom[layer]["mean"]
        ref_mean = mean[:, 0] if mean.shape[1] == 1 else mean
        assert mom[layer]["count"] == 23
        assert mom[layer]["kind"] == ("conv" if layer.startswith("conv") else "linear")
        assert torch.allclose(got_mean, ref_mean, atol=1e-13, rtol=0)
        assert torch.allclose(mom[layer]["autocorrelation"], xx, atol=1e-12, rtol=0)


def test_input_moments_agree_with_kronecker_factors_and_restore_the_mode():
    net = tiny_bn_cnn(1)
    net.train()
    x = torch.randn(17, 2, 8, 8, dtype=torch.float64)
    y = torch.randint(0, 3, (17,))
    mom = input_moments(net, ["conv2", "fc1"], (x, y), batch_size=4)
    assert net.training  # the caller's mode is restored
    for layer in ("conv2", "fc1"):
        f = kronecker_factors(net, layer, (x, y), batch_size=6)
        assert torch.allclose(mom[layer]["autocorrelation"], f.input_autocorrelation, atol=1e-12, rtol=0)
        assert torch.allclose(mom[layer]["mean"], f.input_mean, atol=1e-13, rtol=0)


def test_layer_statistics():
    rng = np.random.default_rng(0)
    X = rng.random((400, 12))  # non-negative: a mean-dominated E[xxᵀ]
    moments = {"mean": torch.as_tensor(X.mean(0)), "autocorrelation": torch.as_tensor(X.T @ X / len(X))}
    st = bn.layer_statistics(moments, top=5)
    ref = autocorrelation_stats(moments["autocorrelation"], moments["mean"])
    ev = np.sort(np.linalg.eigvalsh(X.T @ X / len(X)))[::-1]
    assert st["mean_alignment"] == pytest.approx(ref.mean_alignment, abs=1e-15)
    assert st["spectral_ratio"] == pytest.approx(ev[0] / ev[1], rel=1e-12)
    assert st["ratio_1_10"] == pytest.approx(ev[0] / ev[9], rel=1e-12)
    assert np.allclose(st["top_eigenvalues"], ev[:5], rtol=1e-12)
    assert st["n"] == 12 and st["spectral_ratio"] >= st["bound"] - 1e-12  # Eq. (52), corrected (Weyl)


def test_table8_rows():
    agree = cl.claim_s106_f200_bn([0.05, 0.1, 0.2, 0.01], [1.1, 1.2, 1.3, 1.05], "default")
    assert agree.verdict == "agree" and agree.ours["dot"][0] == pytest.approx(0.09)
    assert cl.claim_s109_lenet5_bn([0.9, 0.2, 0.1], [1.5, 1.5, 1.5], "default").verdict == "disagree"  # dot mean 0.4
    assert cl.claim_s109_lenet5_bn([0.1, 0.2, 0.1], [3.0, 1.5, 1.5], "default").verdict == "disagree"  # ratio mean 2
    # paper profile: the means within the paper's [min, max]
    assert cl.claim_s109_lenet5_bn([0.2, 0.22], [1.5, 1.6], "paper").verdict == "agree"
    assert cl.claim_s109_lenet5_bn([0.2, 0.22], [2.5, 1.6], "paper").verdict == "disagree"
    assert cl.claim_s107_f600_2_bn(None, None, "default", "not made").verdict == "not_checkable"
    assert cl.claim_s108_f600_4_bn([], [], "default").verdict == "not_checkable"
    assert cl.claim_s106_f200_bn([0.05], [1.1], "smoke").verdict == "not_checkable"


def _later(dot, ratio):
    return {"network": "LeNet5-BN", "layer": "fc2", "seed": 0, "mean_alignment": dot, "spectral_ratio": ratio}


def test_s110_first_layer_only():
    assert cl.claim_s110_first_layer_only(0.0, [_later(0.1, 1.2), _later(0.5, 1.9)], "default").verdict == "agree"
    assert cl.claim_s110_first_layer_only(0.0, [_later(0.1, 1.2), _later(0.98, 1.5)], "default").verdict == "disagree"
    assert cl.claim_s110_first_layer_only(0.0, [_later(0.1, 2.5)], "default").verdict == "disagree"
    assert cl.claim_s110_first_layer_only(1e-3, [_later(0.1, 1.2)], "default").verdict == "disagree"
    assert cl.claim_s110_first_layer_only(0.0, [_later(0.1, 1.2)], "smoke").verdict == "not_checkable"


def test_s111_s112():
    assert cl.claim_s111_conv1_ratio([1.5, 1.5], "default").verdict == "agree"
    assert cl.claim_s111_conv1_ratio([8.4], "default").verdict == "disagree"
    assert cl.claim_s112_bn_spectrum([1.5, 1.8], [4.0, 3.5], "default").verdict == "agree"
    assert cl.claim_s112_bn_spectrum([1.5, 2.6], [4.0, 3.5], "default").verdict == "disagree"
    assert cl.claim_s112_bn_spectrum([1.5, 1.8], [4.0, 2.5], "default").verdict == "disagree"
    assert cl.claim_s112_bn_spectrum([1.5], [4.0], "smoke").verdict == "not_checkable"


def test_s113_s114():
    assert cl.claim_s113_few_correspond(3, 120, 118, "default").verdict == "agree"
    assert cl.claim_s113_few_correspond(20, 120, 118, "default").verdict == "disagree"
    assert cl.claim_s113_few_correspond(3, 50, 40, "default").verdict == "not_checkable"
    assert cl.claim_s114_correspondence_worse(2.0, 1.0, "default").verdict == "agree"
    assert cl.claim_s114_correspondence_worse(1.0, 2.0, "default").verdict == "disagree"
    assert cl.claim_s114_correspondence_worse(1.0, 2.0, "smoke").verdict == "not_checkable"


def _peak(passes, m=6):
    return {"argmax_k": m, "peak": 0.5, "m": m, "passes": passes}


def test_s115_peak_only_conv1():
    good = {"conv1": _peak(True), "conv2": _peak(False), "fc1": _peak(False), "fc2": _peak(False)}
    assert cl.claim_s115_peak_only_conv1(good, "default").verdict == "agree"
    assert cl.claim_s115_peak_only_conv1({**good, "fc1": _peak(True)}, "default").verdict == "disagree"
    assert cl.claim_s115_peak_only_conv1({**good, "conv1": _peak(False)}, "default").verdict == "disagree"
    assert cl.claim_s115_peak_only_conv1({**good, "fc1": _peak(None)}, "default").verdict == "not_checkable"
    assert cl.claim_s115_peak_only_conv1(good, "smoke").verdict == "not_checkable"


def test_s116_fc2_approximation():
    m, n = 84, 120  # 10 k/(mn) = 0.0099 at k = 10
    assert cl.claim_s116_fc2_approximation(0.3, 0.8, 10, m, n, "default").verdict == "agree"
    assert cl.claim_s116_fc2_approximation(0.9, 0.8, 10, m, n, "default").verdict == "disagree"  # not worse
    assert cl.claim_s116_fc2_approximation(0.005, 0.8, 10, m, n, "default").verdict == "disagree"  # trivial
    assert cl.claim_s116_fc2_approximation(0.3, 0.8, 10, m, n, "smoke").verdict == "not_checkable"


def test_s24_bn_weakens_structure():
    comp = {"a": (1.0, 2.0), "b": (0.1, 0.5), "c": (0.9, 0.8), "d": (0.2, 0.7)}  # 3 of 4 lower with BN
    assert cl.claim_s24_bn_weakens_structure(comp, "default").verdict == "agree"
    comp2 = {**comp, "b": (0.6, 0.5)}  # 2 of 4
    assert cl.claim_s24_bn_weakens_structure(comp2, "default").verdict == "disagree"
    assert cl.claim_s24_bn_weakens_structure(comp, "smoke").verdict == "not_checkable"
    with pytest.raises(ValueError):
        cl.claim_s24_bn_weakens_structure({"a": (1, 2)}, "default")
