"""Papyan (2020) zoo configurations (the paper's settings, App. D.1, and the stand-ins), and the cached
experiment functions on a tiny trained MLP against dense references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hessian_spectra.models import build_model, count_parameters
from hessian_spectra.papers.papyan2020 import zoo

torch.set_num_threads(1)


def test_sample_size_grid_is_the_papers():
    # App. D.1 / inventory 001 §L6 [checked]
    assert zoo.SAMPLE_SIZE_GRID == (10, 13, 19, 26, 37, 51, 71, 98, 136, 189, 263, 365, 506, 702, 974, 1351, 1874, 2599,
                                    3605, 5000)


@pytest.mark.parametrize("run", list(zoo.RUNS))
def test_paper_configs_follow_appendix_d1(run):
    spec = zoo.RUNS[run]
    cfg = zoo.zoo_config(run, "paper")
    assert cfg.epochs == spec.epochs and cfg.lr == spec.lr
    assert (cfg.batch_size, cfg.momentum, cfg.weight_decay, cfg.augmentation) == (128, 0.9, 5e-4, "none")
    assert cfg.schedule == "step" and cfg.schedule_kwargs == {"milestones": [spec.epochs // 3, 2 * spec.epochs // 3],
                                                              "gamma": 0.1}
    assert cfg.data["per_class"] == spec.per_class and cfg.data["test"] and "test_per_class" not in cfg.data
    assert spec.per_class in zoo.SAMPLE_SIZE_GRID
    assert max(cfg.save_epochs) == spec.epochs
    if spec.arch == "vgg11":
        assert cfg.model_kwargs["classifier"] == "papyan" and "width_multiplier" not in cfg.model_kwargs
    if spec.dataset == "mnist" and spec.arch != "mlp":
        assert cfg.data["pad"] == 2 and cfg.data["normalize"] == {"mean": [0.1307], "std": [0.3081]}


def test_paper_models_have_the_papers_sizes():
    vgg = zoo.zoo_config("vgg11_mnist", "paper")
    assert count_parameters(build_model(vgg.model, **vgg.model_kwargs)) == 28_156_554  # §4.1 "28 million"
    mlp = zoo.zoo_config("mlp_mnist", "paper")
    assert mlp.model_kwargs["widths"] == [2048] * 8
    rn = zoo.zoo_config("resnet18_mnist_136", "paper")
    assert count_parameters(build_model(rn.model, **rn.model_kwargs)) == 11_172_810  # kuangliu ResNet18, 1 channel


@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_stand_ins_keep_the_structure_on_raw_inputs(profile):
    for run, spec in zoo.RUNS.items():
        cfg = zoo.zoo_config(run, profile)
        assert cfg.data.get("normalize", "none") == "none", run  # inventory 001 §M: raw, non-centred inputs
        assert cfg.data["per_class"] < spec.per_class and cfg.epochs < spec.epochs
        model = build_model(cfg.model, **cfg.model_kwargs)
        linear = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        if spec.arch == "mlp":
            assert len(linear) == 9 and all(m.bias is None for m in linear[:-1])
        if spec.arch == "vgg11":
            convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
            assert len(convs) == 8 and len(linear) == 3
        assert zoo.describe(run, profile)["stand_in"]
    vgg = zoo.zoo_config("vgg11_mnist", "default")
    assert count_parameters(build_model(vgg.model, **vgg.model_kwargs)) == 82_502


def test_fig6_grid_and_checkpoints():
    assert zoo.epoch_checkpoints("vgg11_cifar10_136", "paper") == (35, 117, 350)
    assert zoo.epoch_checkpoints("vgg11_cifar10_136", "default") == (6, 20, 60)
    cfg = zoo.zoo_config("vgg11_cifar10_136", "default", per_class=16)
    assert cfg.data["per_class"] == 16 and cfg.save_epochs == (6, 20, 60)
    assert not zoo.describe("vgg11_cifar10_136", "paper")["stand_in"]
    assert zoo.describe("vgg11_cifar10_136", "paper", per_class=506)["stand_in"]


def test_settings_tables():
    for p in zoo.PROFILES:
        s, l_ = zoo.spectral_settings(p), zoo.layer_settings(p)
        assert s["norm_steps"] <= 32 and l_["gl_top_k"] >= 1
    assert zoo.spectral_settings("paper")["si_iters"] == 128 and zoo.spectral_settings("paper")["log_steps"] == 2048


def test_bad_input_raises():
    with pytest.raises(ValueError, match="unknown papyan2020 run"):
        zoo.zoo_config("vgg16_mnist", "default")
    with pytest.raises(ValueError, match="unknown profile"):
        zoo.zoo_config("vgg11_mnist", "gpu")
    with pytest.raises(ValueError, match="unknown profile"):
        zoo.spectral_settings("fast")
    with pytest.raises(ValueError, match="width applies to the MLP runs only"):
        zoo.zoo_config("vgg11_mnist", "default", width=256)


def test_fig9b_wide_copy_of_the_mlp():
    base, wide = zoo.zoo_config("mlp_mnist", "default"), zoo.zoo_config("mlp_mnist", "default", width=256)
    assert base.model_kwargs["widths"] == [128] * 8 and wide.model_kwargs["widths"] == [256] * 8
    assert (wide.data, wide.epochs, wide.lr, wide.seed) == (base.data, base.epochs, base.lr, base.seed)


# ------------------------------------------------------------------------------------------------------
# The experiment functions on the smoke MLP (trained here, into a temporary checkpoint folder)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("papyan-zoo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HESSIAN_SPECTRA_CHECKPOINTS", str(root / "ckpt"))
        mp.setenv("HESSIAN_SPECTRA_CACHE", str(root / "cache"))
        cfg = zoo.zoo_config("mlp_mnist", "smoke", per_class=6)
        try:
            model, data, _, _ = zoo.trained(cfg)
        except FileNotFoundError as exc:
            pytest.skip(str(exc))
        yield cfg, model, data


def test_layer_structure_matches_dense_references(tiny):
    from hessian_spectra.papers.papyan2020 import layers
    from hessian_spectra.structure import layer_class_statistics, projection_knockout

    cfg, model, data = tiny
    out = layers.layer_structure(cfg, gl_per_class=0, gl_top_k=5, gl_steps=12, cache=False)
    assert len(out["layers"]) == 8 and len(out["gl"]) == 8 and len(out["khatri_rao"]) == 9
    m = model.double().eval()
    names = [n for n, mod in m.named_modules() if isinstance(mod, torch.nn.Linear)]
    stats = layer_class_statistics(m, names, (data.x.double(), data.y), 10, dtype=torch.float64)
    l3 = out["layers"][2]
    H = stats[names[3]].features.total()
    np.testing.assert_allclose(l3["H"], np.sort(np.linalg.eigvalsh(H.numpy()))[::-1], atol=1e-10)
    K = projection_knockout(H, stats[names[3]].features.class_part())
    np.testing.assert_allclose(l3["H_knockout"], np.sort(np.linalg.eigvalsh(K.numpy()))[::-1], atol=1e-10)
    # G^l's top eigenvalues against the dense layer Gauss-Newton block
    from hessian_spectra.hessian.layerwise import fc_layer_hessian

    g = out["gl"][2]
    dense = fc_layer_hessian(m, names[2], (data.x.double(), data.y)).dense()
    top = np.sort(np.linalg.eigvalsh(dense.numpy()))[::-1][:5]
    np.testing.assert_allclose(g["G_top"], top, rtol=1e-3)
    st = stats[names[2]]
    kfac = np.sort(np.linalg.eigvalsh(st.kfac().numpy()))[::-1][:5]
    np.testing.assert_allclose(g["KFAC_top"], kfac, rtol=1e-8)
    assert all(0 <= c <= 1 + 1e-9 for r in out["khatri_rao"] for c in np.r_[r["class_cosines"], r["cross_cosines"]])


def test_error_knockouts_match_dense_references(tiny):
    """Fig 9b's errors-only path: Δ^l and its knockouts from the layer statistics, equal to a dense computation."""
    from hessian_spectra.papers.papyan2020 import layers
    from hessian_spectra.structure import layer_class_statistics, projection_knockout

    cfg, model, data = tiny
    out = layers.error_knockouts(cfg, cache=False)
    assert len(out["layers"]) == 8 and out["C"] == 10
    m = model.double().eval()
    names = [n for n, mod in m.named_modules() if isinstance(mod, torch.nn.Linear)]
    em = layer_class_statistics(m, names[:-1], (data.x.double(), data.y), 10, dtype=torch.float64)[names[4]].errors
    D, Dc, Dx = em.dense("total"), em.dense("class"), em.dense("cross")
    rec = out["layers"][4]
    np.testing.assert_allclose(rec["Delta"], np.sort(np.linalg.eigvalsh(D.numpy()))[::-1], atol=1e-12)
    K = projection_knockout(D, Dc + Dx).numpy()
    np.testing.assert_allclose(rec["Delta_knockout_class_cross"], np.sort(np.linalg.eigvalsh(K))[::-1], atol=1e-12)
    assert 0 <= rec["Delta_top_global_cosine"] <= 1 + 1e-12


def test_ggn_knockouts_identities(tiny):
    from hessian_spectra.papers.papyan2020 import knockouts

    cfg, _, _ = tiny
    out = knockouts.ggn_knockouts(cfg, steps=16, top_k=3, top_k_cross=4, norm_steps=8, cache=False)
    low = np.sort(out["gram_low_rank"])[::-1]
    assert np.abs(low[-10:]).max() <= 1e-10 * low[0]  # the C teal eigenvalues are 0 (fact 2)
    assert out["mean_residual_relative"] < 1e-6  # float32 products: 0 up to rounding (fact 1)
    np.testing.assert_allclose(out["knockouts"]["within"]["top"], low[:4])
    # G ⊖ G_class ⪯ G: its top eigenvalue cannot exceed G's
    assert out["knockouts"]["class"]["top"][0] <= out["knockouts"]["none"]["top"][0] * (1 + 1e-3)


def test_factored_cfac_equals_the_dense_kronecker_sum():
    from hessian_spectra.models import bn_mlp
    from hessian_spectra.papers.papyan2020.layers import _cfac
    from hessian_spectra.structure import layer_class_statistics

    torch.manual_seed(0)
    m = bn_mlp(40, [6, 6], 3).double().eval()
    x, y = torch.randn(12, 40, dtype=torch.float64), torch.arange(12) % 3
    st = layer_class_statistics(m, ["1"], (x, y), 3)["1"]
    A, B = _cfac(st), st.cfac_operator()
    assert type(A).__name__ == "_FactoredCFAC"  # 4 samples per class < 40 inputs: low-rank factors
    V = torch.randn(A.shape[0], 3, dtype=torch.float64)
    torch.testing.assert_close(A @ V, B @ V, rtol=1e-12, atol=1e-14)


def test_density_comparisons():
    from hessian_spectra.papers.papyan2020 import claims as cl
    from hessian_spectra.papers.papyan2020 import experiments as ex

    rng = np.random.default_rng(0)
    v = rng.uniform(0, 1, 400000)
    g = np.linspace(-0.5, 1.5, 2001)
    flat = ((g >= 0) & (g <= 1)).astype(float)
    assert ex.histogram_l1(v, g, flat, value_range=(0, 1))["l1"] < 0.05
    assert ex.histogram_l1(v, g + 2.0, flat, value_range=(0, 1))["l1"] == pytest.approx(1.0, abs=1e-6)  # no mass inside
    x = np.geomspace(0.01, 10, 200)
    fit = ex.power_law_fit(x, 3e-4 * x ** -2.7, 0.1, 5.0)
    assert fit["exponent"] == pytest.approx(-2.7) and fit["prefactor"] == pytest.approx(3e-4) and fit["r2"] == pytest.approx(1.0)
    sym = np.linspace(-3, 3, 601)
    s = ex.sign_split(sym, np.exp(-np.abs(sym)))
    assert cl.density_symmetry_ks(s["abs_grid"], s["positive"], s["negative"], 0.1) < 1e-12
    s = ex.sign_split(sym, np.exp(-np.abs(sym)) * (1 + (sym > 0) * sym))
    assert cl.density_symmetry_ks(s["abs_grid"], s["positive"], s["negative"], 0.1) > 0.1
    nodes, weights = np.array([[-2.0, -1.0, 1.0, 2.0]]), np.full((1, 4), 0.25)
    assert ex.sign_symmetry_ks(nodes, weights) == 0.0
