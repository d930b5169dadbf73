"""wu2020 LeNet5 measurements (papers/wu2020/experiments.py, zoo.py) and their claim rules."""

import numpy as np
import pytest
import torch

from hessian_spectra.papers.wu2020 import claims as cl
from hessian_spectra.papers.wu2020.experiments import cross_model_overlap, layer_structure
from hessian_spectra.papers.wu2020.zoo import ZOO, describe, trained, zoo_config, zoo_seeds
from hessian_spectra.hessian.layerwise import layer_hessian_matrix


@pytest.fixture(autouse=True)
def own_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("HESSIAN_SPECTRA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HESSIAN_SPECTRA_CHECKPOINTS", str(tmp_path / "checkpoints"))


def test_zoo_configs_and_errors():
    cfg = zoo_config("lenet5", "paper", 3)
    assert (cfg.epochs, cfg.lr, cfg.batch_size, cfg.momentum, cfg.weight_decay) == (1000, 0.01, 128, 0.0, 0.0)
    assert cfg.model_kwargs["init"] == "xavier_uniform_zero_bias" and cfg.seed == 3
    assert zoo_config("lenet5", "default", fc1_width=40).model_kwargs["fc_widths"] == [40, 84]
    assert zoo_seeds("lenet5", "paper") == [0, 1, 2, 3, 4]
    assert describe("f200", "default")["stand_in"] and not describe("f200", "paper")["stand_in"]
    assert set(ZOO) >= {"f200", "f200_bn", "lenet5", "lenet5_bn", "lenet5_random_labels"}
    with pytest.raises(ValueError, match="unknown wu2020 zoo entry 'lenet6'"):
        zoo_config("lenet6", "default")
    with pytest.raises(ValueError, match="unknown profile"):
        zoo_config("lenet5", "huge")
    with pytest.raises(ValueError, match="fc1_width applies to the LeNet5"):
        zoo_config("f200", "default", fc1_width=10)


def test_layer_structure_matches_dense_reference():
    cfg = zoo_config("f200", "smoke", 0)
    r = layer_structure(cfg, "fc2", 12, tol=1e-10)  # 32 x 32 = 1,024 weights: the dense path
    model, data, _ = trained(cfg)
    H = layer_hessian_matrix(model.double(), "fc2", (data.x.double(), data.y))
    ref = torch.linalg.eigvalsh(H).flip(0)[:12].numpy()
    np.testing.assert_allclose(r["exact_eigenvalues"], ref, rtol=1e-10)
    # the Lanczos path (structured product) on fc1 (49 x 32 = 1,568 > nothing: force it with DENSE_MAX)
    import hessian_spectra.papers.wu2020.experiments as ex
    dense_max = ex.DENSE_MAX
    try:
        ex.DENSE_MAX = 10
        r2 = ex.layer_structure(cfg, "fc1", 6, tol=1e-10, cache=False)
    finally:
        ex.DENSE_MAX = dense_max
    H1 = layer_hessian_matrix(model.double(), "fc1", (data.x.double(), data.y))
    np.testing.assert_allclose(r2["exact_eigenvalues"], torch.linalg.eigvalsh(H1).flip(0)[:6].numpy(), rtol=1e-7)
    assert "Lanczos" in r2["method"] and r2["converged"]
    # Kronecker eigenvalues are products of the factors' eigenvalues
    top = np.sort(np.outer(r["output_hessian_eigenvalues"], r["input_autocorrelation_eigenvalues"]).ravel())[::-1][:12]
    np.testing.assert_allclose(r["kron_eigenvalues"], top, rtol=1e-10)


def test_cross_model_overlap_full_space_is_one():
    cfgs = [zoo_config("f200", "smoke", s) for s in (0, 1)]
    rs = [layer_structure(c, "fc3", 320) for c in cfgs]  # fc3: 10 x 32 = 320 weights, the whole space
    ov = cross_model_overlap(rs)
    assert ov["mean"][-1] == pytest.approx(1.0, abs=1e-6)
    assert np.all((ov["mean"] >= -1e-12) & (ov["mean"] <= 1 + 1e-6))  # eigenvectors are cached in float32
    np.testing.assert_allclose(ov["random_baseline"], ov["k"] / 320)
    with pytest.raises(ValueError, match="at least 2 models"):
        cross_model_overlap(rs[:1])


def test_peak_test_and_s1():
    ks = np.arange(1, 201)
    curve = np.where(ks <= 120, ks / 120 * 0.3, 0.3 - (ks - 120) * 0.001)
    base = ks / 48000
    t = cl.peak_test(ks, curve, base, 120)
    assert t["argmax_k"] == 120 and t["passes"] and t["resolved"]
    assert cl.s1_overlap_peaks_at_m(ks, curve, base, 120, "fc1", "").verdict == "agree"
    rising = ks / 200 * 0.3
    assert cl.s1_overlap_peaks_at_m(ks, rising, base, 120, "fc1", "").verdict == "disagree"
    assert cl.s1_overlap_peaks_at_m(ks[:100], curve[:100], base[:100], 120, "fc1", "").verdict == "not_checkable"


def test_eigengap_rules():
    c_gap = np.r_[np.linspace(10, 6, 9), np.linspace(1, 0.5, 21)]   # 9 outliers, then a bulk
    assert cl.largest_gap(c_gap, 5, 15)[0] == 9
    assert cl.s13_eigengap_true_labels({"init": (c_gap, c_gap)}).verdict == "agree"
    smooth = np.linspace(10, 5, 30)
    assert cl.s13_eigengap_true_labels({"init": (c_gap, smooth)}).verdict == "disagree"
    assert cl.s14_no_gap_random_labels(smooth, smooth).verdict == "agree"
    assert cl.s14_no_gap_random_labels(c_gap, smooth).verdict == "disagree"
    assert cl.s12_top_eigenvalues_scale(2 * c_gap, c_gap, 2.0, "x").verdict == "agree"
    assert cl.s12_top_eigenvalues_scale(5 * c_gap, c_gap, 2.0, "x").verdict == "disagree"
    assert cl.s86_c_outliers_trajectory({0: smooth, 5: c_gap}).verdict == "agree"
    assert cl.s86_c_outliers_trajectory({5: c_gap, 10: smooth}).verdict == "disagree"


def test_correspondence_rules():
    eye = np.eye(5)
    assert cl.s6_kronecker_one_hot(eye, eye).verdict == "agree"
    assert cl.s6_kronecker_one_hot(eye + 1e-6, eye).verdict == "disagree"
    C = np.zeros((10, 20)); C[0, :12] = 0.9
    assert cl.mean_first_input_correlation(C, 12) == pytest.approx(0.9)
    assert cl.s7_top_m_follow_v1(0.9, 0.85, 12).verdict == "agree"
    assert cl.s7_top_m_follow_v1(0.9, 0.7, 12).verdict == "disagree"
    D = np.eye(12)[:, :12]
    assert cl.diagonal_score(D) == 1.0
    assert cl.diagonal_score(D[::-1]) < 0.7
    assert cl.s84_fc2_less_diagonal(1.0, 0.6).verdict == "agree"
    assert cl.s84_fc2_less_diagonal(0.6, 0.6).verdict == "disagree"
    assert cl.s83_follow_v1_all_layers({"fc1": 0.8, "conv1": 0.69}).verdict == "disagree"


def test_table_rules():
    assert cl.table_row_default("S47", "x", "p", [0.99, 0.98], [5, 9], "default", "").verdict == "agree"
    assert cl.table_row_default("S47", "x", "p", [0.99, 0.9], [5, 9], "default", "").verdict == "disagree"
    assert cl.table_row_default("S47", "x", "p", [0.99, 0.99], [1.5, 9], "default", "").verdict == "disagree"
    # the paper's own row calibrates the rule in the note without changing our verdict (S73: ratio min 1.81)
    c = cl.table_row_default("S73", "x", "p", [0.99], [5.0], "default", "", paper_row=(0.985, 3.96, 1.81, 7.53))
    assert c.verdict == "agree" and "paper's own row (dot mean 0.985, ratio min 1.81) fails this rule" in c.note
    c = cl.table_row_default("S47", "x", "p", [0.99], [1.5], "default", "", paper_row=(0.998, 7.21, 5.88, 9.02))
    assert c.verdict == "disagree" and c.note.endswith("passes this rule")
    assert cl.table_row_paper("S47", "x", (0.998, 7.21, 5.88, 9.02), [0.995], [7.0]).verdict == "agree"
    assert cl.table_row_paper("S47", "x", (0.998, 7.21, 5.88, 9.02), [0.98], [7.0]).verdict == "disagree"
    assert cl.s60_weyl([3, 4], [2, 4]).verdict == "agree" and cl.s60_weyl([3], [4]).verdict == "disagree"
    c = cl.s60_weyl([3], [2], [1.5], [4])     # a conv layer below the fc bound is reported, not scored
    assert c.verdict == "agree" and "on 0 of 1 conv layer-runs" in c.ours
    assert cl.s10_ratio_summary([3, 40]).verdict == "agree" and cl.s10_ratio_summary([1.5, 3]).verdict == "disagree"
    assert cl.s9_dot_summary([0.999, 0.99]).verdict == "agree" and cl.s9_dot_summary([0.9, 1]).verdict == "disagree"
    assert cl.table10_column("S134", "c", (0.95, 0.97, 1), [0.5, 0.8, 1.0], True, "default").verdict == "agree"
    assert cl.table10_column("S134", "c", (0.95, 0.97, 1), [0.9, 0.9, 1.0], True, "paper").verdict == "agree"
    assert cl.table10_column("S134", "c", (0.95, 0.97, 1), [0.9, 0.6, 1.0], True, "default").verdict == "disagree"
    assert cl.table10_column("S136", "c", (0.2, 0.7, 1), [0.9, 0.6, 1.0], False, "default").verdict == "not_checkable"
    assert cl.s137_last_layer_exact(0.9995).verdict == "agree" and cl.s137_last_layer_exact(0.99).verdict == "disagree"
    assert cl.s138_random_labels_lower([0.9, 0.9, 1], [0.5, 0.7, 1], "c").verdict == "agree"


def test_rank_one_rules():
    assert cl.s3_rank_one([0.9, 0.8, 0.7, 0.6, 0.1]).verdict == "agree"
    assert cl.s3_rank_one([0.9, 0.4, 0.7, 0.6]).verdict == "disagree"
    base = {"a": 0.4, "b": 0.1}
    assert cl.s23_rank_one_layers({"a": [0.9] * 10, "b": [0.8] * 10}, base).verdict == "agree"
    assert cl.s23_rank_one_layers({"a": [0.45] * 10, "b": [0.8] * 10}, base).verdict == "disagree"
    assert cl.s11_rank_one_trajectory({0: 6.0, 1: 8.0}).verdict == "agree"
    assert cl.s11_rank_one_trajectory({0: 4.0, 1: 8.0}, claim_id="S85").id == "S85"


def test_scheme_rules():
    ks = np.arange(1, 41)
    peak = {"argmax_k": 16, "window": [13.6, 18.4], "passes": True, "resolved": True}
    assert cl.s76_peaks_across_schemes({"conv2": peak}, "").verdict == "agree"
    assert cl.s76_peaks_across_schemes({"conv2": peak, "fc1": {**peak, "passes": False}}, "").verdict == "disagree"
    assert cl.s76_peaks_across_schemes({"fc1": {**peak, "resolved": False, "passes": None}}, "").verdict == "not_checkable"
    assert cl.s77_fc3_no_linear_growth(np.full(10, 0.4)).verdict == "agree"
    assert cl.s77_fc3_no_linear_growth(ks / 40).verdict == "disagree"


def test_peak_test_unresolved_and_weak():
    ks = np.arange(1, 21)
    base = ks / 1000
    peaked = np.where(ks <= 10, ks / 10 * 0.2, 0.2 - (ks - 10) * 0.01)
    assert cl.peak_test(ks, peaked, base, 10)["passes"] is True
    short = cl.peak_test(ks[:11], peaked[:11], base[:11], 10)
    assert short["resolved"] is False and short["passes"] is None
    weak = cl.peak_test(ks, 5 * base * (ks == 10) + base, base, 10)
    assert weak["in_window"] and not weak["above_baseline"] and weak["passes"] is False
    with pytest.raises(ValueError, match="one length"):
        cl.peak_test(ks, peaked[:5], base, 10)


# --- the extra zoo networks of Tables 6, 8, 10: F-n^m ("fnet") and LeNet5 on MNIST(-R) ---


def test_old_zoo_configs_unchanged():
    """The old entries' configurations (hence their checkpoint hashes) are those before the fnet entries."""
    common = {"batch_size": 128, "momentum": 0.0, "weight_decay": 0.0, "schedule": "constant", "seed": 0,
              "save_epochs": [0, 1, 2, 4, 8, 15, 30]}
    lenet = zoo_config("lenet5", "default", 0).to_dict()
    assert lenet["model_kwargs"] == {"in_channels": 3, "num_classes": 10, "batch_norm": False, "fc_widths": [120, 84],
                                     "init": "xavier_uniform_zero_bias"}
    assert lenet["data"] == {"name": "cifar10", "normalize": "standardize", "per_class": 800}
    assert (lenet["epochs"], lenet["lr"]) == (30, 0.05) and {k: lenet[k] for k in common} == common
    f200 = zoo_config("f200", "default", 0).to_dict()
    assert f200["model_kwargs"] == {"in_dim": 784, "widths": [200, 200], "num_classes": 10, "batch_norm": False,
                                    "init": "xavier_uniform_zero_bias"}
    assert f200["data"] == {"name": "mnist", "per_class": 1000, "normalize": {"mean": [0.1307], "std": [0.3081]}}
    assert (f200["epochs"], f200["lr"]) == (60, 0.01) and {k: f200[k] for k in common} == common
    assert list(lenet["model_kwargs"]) == ["in_channels", "num_classes", "batch_norm", "fc_widths", "init"]
    assert zoo_seeds("lenet5", "default") == [0, 1, 2] and zoo_seeds("f200", "default") == [0, 1, 2]


def test_fnet_configs():
    from hessian_spectra.papers.wu2020 import mlp
    from hessian_spectra.papers.wu2020.zoo import FNET_DATASETS, fnet_name

    c = zoo_config("fnet", "default", 1, widths=[600, 600])
    assert c.model == "mlp" and c.model_kwargs["widths"] == [600, 600] and c.model_kwargs["in_dim"] == 784
    assert (c.epochs, c.lr, c.seed, c.save_epochs) == (30, 0.01, 1, (0, 30))
    # the MNIST default equals the Fig 8 configuration of mlp.fnet_config (shared checkpoints)
    assert c.to_dict() == mlp.fnet_config([600, 600], "default", 1, epochs=30).to_dict()
    cif = zoo_config("fnet", "default", 0, widths=[1500] * 3, dataset="cifar10")
    assert cif.model_kwargs["in_dim"] == 3072 and cif.data["per_class"] == 800
    r = zoo_config("fnet", "default", 0, widths=[200] * 3, dataset="mnist_random_labels")
    assert r.data["random_labels"] == 1.0 and r.data["per_class"] == 200 and r.epochs == 150
    p = zoo_config("fnet", "paper", 0, widths=[600] * 4, batch_norm=True)
    assert (p.epochs, p.lr, p.model_kwargs["batch_norm"]) == (1000, 0.01, True) and "per_class" not in p.data
    assert zoo_seeds("fnet", "paper") == list(range(5)) and zoo_seeds("fnet", "default") == [0, 1]
    assert set(FNET_DATASETS) == {"mnist", "mnist_random_labels", "cifar10", "cifar10_random_labels"}
    assert fnet_name([600] * 8) == "F-600^8" and fnet_name([200, 200], True) == "F-200^2-BN"
    d = describe("fnet", "default", widths=[500] * 3, dataset="cifar10", paper_widths=[1500] * 3)
    assert d["paper_model"] == "F-1500^3" and d["width_reduced"] and "stand-in" in d["model"]
    assert not describe("fnet", "paper", widths=[600, 600])["stand_in"]


def test_fnet_errors():
    with pytest.raises(ValueError, match="needs widths"):
        zoo_config("fnet", "default")
    for bad in ([], [600, 0], [600.0], "600", [True]):
        with pytest.raises(ValueError, match="widths"):
            zoo_config("fnet", "default", widths=bad)
    with pytest.raises(ValueError, match="unknown dataset 'cifar100'"):
        zoo_config("fnet", "default", widths=[600], dataset="cifar100")
    with pytest.raises(ValueError, match="apply to the 'fnet' entry"):
        zoo_config("lenet5", "default", widths=[600])
    with pytest.raises(ValueError, match="apply to the 'fnet' entry"):
        zoo_config("f200", "default", dataset="mnist")
    with pytest.raises(ValueError, match="fc1_width"):
        zoo_config("fnet", "default", widths=[600], fc1_width=80)
    with pytest.raises(ValueError, match="seed"):
        zoo_config("fnet", "default", -1, widths=[600])
    with pytest.raises(ValueError, match="unknown wu2020 zoo entry 'fnett'"):
        zoo_config("fnett", "default", widths=[600])


def test_lenet5_mnist_configs():
    from hessian_spectra.training import build_model

    c = zoo_config("lenet5_mnist", "default", 0)
    assert c.model_kwargs["in_channels"] == 1 and c.model_kwargs["input_size"] == 28
    assert c.data["name"] == "mnist" and c.data["per_class"] == 1000 and "random_labels" not in c.data
    r = zoo_config("lenet5_mnist_random_labels", "default", 0, fc1_width=80)
    assert r.data["random_labels"] == 1.0 and r.model_kwargs["fc_widths"] == [80, 84] and r.epochs in r.save_epochs
    model = build_model(c.model, **{k: v for k, v in c.model_kwargs.items() if k != "init"})
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == 62006 - 2 * 150   # conv1 has 1 input channel, not 3
    with pytest.raises(ValueError, match="fc1_width"):
        zoo_config("lenet5_mnist", "default", fc1_width=0)
    assert zoo_config("lenet5_mnist", "paper").epochs == 1000


def test_s75_conv_gap_rule():
    assert cl.s75_conv_gap_smaller({"VGG11-W16": (4.0, 9.0), "ResNet18-W8": (3.0, 20.0)}, True).verdict == "agree"
    c = cl.s75_conv_gap_smaller({"VGG11-W16": (4.0, 9.0), "ResNet18-W8": (30.0, 20.0)}, False)
    assert c.verdict == "disagree" and "ResNet18-W8: conv 30.00 vs fc 20.00" in c.ours
    with pytest.raises(ValueError, match="at least one"):
        cl.s75_conv_gap_smaller({}, True)
