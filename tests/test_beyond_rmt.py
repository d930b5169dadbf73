"""Beyond-RMT network helpers against dense float64 references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hessian_spectra.papers.beyond_rmt import claims as cl
from hessian_spectra.papers.beyond_rmt import experiments as br
from hessian_spectra.papers.beyond_rmt import metrics as mt
from hessian_spectra.data import LabelledData
from hessian_spectra.models import logistic_regression, mlp
from hessian_spectra.training import TrainConfig

torch.set_num_threads(1)


def _flat_loss(model, x, y, loss=F.cross_entropy):
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]

    def f(theta):
        chunks = torch.split(theta, [s.numel() for s in shapes])
        out = torch.func.functional_call(model, {n: c.reshape(s) for n, c, s in zip(names, chunks, shapes)}, (x,))
        return loss(out, y)

    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    return f, flat


def test_lr_dense_hessian_matches_autograd():
    torch.manual_seed(0)
    model = logistic_regression(6, 4).double()
    x = torch.rand(50, 1, 2, 3, dtype=torch.float64)
    x[:, 0, 0, 0] = 0.0  # a dead pixel gives exact zeros
    y = torch.randint(0, 4, (50,))
    f, flat = _flat_loss(model, x, y)
    dense = torch.func.hessian(f)(flat)
    lin = model[1]
    H = br.lr_dense_hessian(lin.weight, lin.bias, x, chunk=17, dtype=torch.float64)
    torch.testing.assert_close(H, dense, rtol=1e-10, atol=1e-13)
    # rank(H) <= (C - 1) * rank([X, 1]) (inventory 004 §F Fig 5): here (4 - 1) * 6 = 18 of 28
    assert torch.linalg.matrix_rank(H, rtol=1e-10) <= 18
    assert mt.fraction_below(H)["exact_zero"] > 0


def test_residual_rows_and_spectrum_against_dense():
    """R = H - G against dense float64 matrices; rows H e_j; Lanczos stem extremes inside the spectrum."""
    torch.manual_seed(0)
    model = mlp(5, [6], 3, activation="tanh").double()
    x = torch.randn(40, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (40,))
    f, flat = _flat_loss(model, x, y)
    H = torch.func.hessian(f)(flat)
    Hop = br.curvature_operator(model, (x, y), "hessian", batch_size=16)
    Gop = br.curvature_operator(model, (x, y), "ggn", batch_size=16)
    Rop = br.curvature_operator(model, (x, y), "residual", batch_size=16)
    G = Gop.to_dense()
    torch.testing.assert_close(Hop.to_dense(), H, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(Rop.to_dense(), H - G, rtol=1e-9, atol=1e-12)
    assert torch.linalg.eigvalsh(G).min() > -1e-12  # GGN is PSD for cross-entropy
    rows = br.hessian_rows(Hop, [0, 7, 20])
    torch.testing.assert_close(rows, H[[0, 7, 20]], rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="row indices"):
        br.hessian_rows(Hop, [H.shape[0]])


def test_stem_metrics_on_a_known_measure():
    P = 1000
    nodes = np.array([-0.5, 1e-6, 0.2, 0.3, 5.0])
    weights = np.array([0.05, 0.80, 0.10, 0.0495, 0.0005])
    m = mt.stem_metrics(nodes, weights, P)
    assert m["atom_weight"] == pytest.approx(0.80)
    assert m["asymmetry"] == pytest.approx(0.1)
    assert m["negative_mass"] == pytest.approx(0.05)
    assert m["outliers"] == 1  # weight 5e-4 < 10 / P = 1e-2; the next node has 0.0495
    assert m["theta_min"] == -0.5 and m["theta_max"] == 5.0 and m["near_zero_node"] == 1e-6


def test_semicircle_ks_is_small_for_a_goe_and_large_for_an_atom():
    from hessian_spectra.rmt import sample_wigner

    ev = torch.linalg.eigvalsh(torch.from_numpy(sample_wigner(1500, 2.0, np.random.default_rng(0)))).numpy()
    ks, radius = mt.semicircle_ks(ev, np.full(ev.size, 1 / ev.size))
    assert ks < 0.02 and radius == pytest.approx(2.0, rel=0.02)
    ks_atom, _ = mt.semicircle_ks(np.array([-1.0, 0.0, 1.0]), np.array([0.05, 0.9, 0.05]))
    assert ks_atom > 0.4


def test_fraction_below():
    v = torch.tensor([0.0, 1e-9, 1e-7, 1e-5, 1.0])
    fr = mt.fraction_below(v, (1e-8, 1e-6))
    assert fr == {"1e-08": 0.4, "1e-06": 0.6, "exact_zero": 0.2}


def test_network_spectrum_end_to_end(tmp_path, monkeypatch):
    """Train a tiny MLP through the cache, then its Lanczos spectra: theta within [lambda_min, lambda_max] of
    the dense Hessian, weights sum to 1, GGN Ritz values >= 0."""
    monkeypatch.setenv("HESSIAN_SPECTRA_CHECKPOINTS", str(tmp_path / "ck"))
    monkeypatch.setenv("HESSIAN_SPECTRA_CACHE", str(tmp_path / "cache"))
    try:
        cfg = TrainConfig(model="mlp", model_kwargs={"in_dim": 49, "widths": [6], "num_classes": 10},
                          data={"name": "mnist", "per_class": 5, "pool": 4}, epochs=5, lr=0.1, batch_size=25,
                          dtype="float64", save_epochs=(0, 5))
        out = br.network_spectrum(cfg, 5, "hessian", num_steps=20, device="cpu")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    from hessian_spectra.training import load_checkpoint, prepare_data

    model = load_checkpoint(cfg, 5, device="cpu")
    data, _ = prepare_data(cfg.data)
    H = br.curvature_operator(model, (data.x.double(), data.y), "hessian").to_dense()
    lam = torch.linalg.eigvalsh(H)
    assert out["P"] == H.shape[0] == 370 and out["N"] == 50
    assert lam[0] - 1e-9 <= out["nodes"].min() and out["nodes"].max() <= lam[-1] + 1e-9
    assert out["weights"].sum() == pytest.approx(1.0, abs=1e-12)
    g = br.network_spectrum(cfg, 5, "ggn", num_steps=20, device="cpu")
    assert g["nodes"].min() > -1e-10 * g["nodes"].max()
    with pytest.raises(ValueError, match="save_epochs"):
        br.network_spectrum(cfg, 3, "hessian", num_steps=5, device="cpu")


@pytest.mark.parametrize("run, profile, params", [
    ("vgg16bn_c100", "default", 15_050), ("vgg16_c100", "default", 14_938), ("preresnet110_c100", "default", 8_750),
    ("lr_mnist", "default", 7_850), ("lr_mnist", "smoke", 500), ("vgg16_c10", "smoke", 970),
])
def test_training_configs_build_the_inventory_networks(run, profile, params):
    from hessian_spectra.models import build_model, count_parameters

    cfg, info = br.training_config(run, profile)
    assert count_parameters(build_model(cfg.model, **cfg.model_kwargs)) == params
    assert info["stand_in"] == (run != "lr_mnist" or profile == "smoke")
    # App A: alpha_0 = 0.1 with BN, 0.05 for VGG-16 without BN; weight decay 5e-4; eq 12 schedule
    if run != "lr_mnist" and profile != "smoke":
        assert cfg.lr == (0.1 if run in ("vgg16bn_c100", "preresnet110_c100") else 0.05)
    assert cfg.weight_decay == 5e-4 and cfg.schedule == "granziol_linear"


def test_paper_configs_and_fallback(monkeypatch):
    from hessian_spectra.models import build_model, count_parameters

    monkeypatch.setattr(br, "_CIFAR100_AVAILABLE", True)
    cfg, info = br.training_config("vgg16bn_c100", "paper")
    assert cfg.data["name"] == "cifar100" and cfg.epochs == 300 and not info["stand_in"]
    assert count_parameters(build_model(cfg.model, **cfg.model_kwargs)) == 15_299_748
    monkeypatch.setattr(br, "_CIFAR100_AVAILABLE", False)
    cfg, info = br.training_config("vgg16_c100", "paper")
    assert cfg.data["name"] == "cifar10" and info["stand_in"] and "standing in for CIFAR-100" in info["dataset_note"]
    assert count_parameters(build_model(cfg.model, **cfg.model_kwargs)) == 15_245_130
    cfg, info = br.training_config("vgg16_c10", "paper")
    assert cfg.augmentation == "none" and not info["stand_in"]  # App C: no augmentation
    with pytest.raises(ValueError, match="unknown run"):
        br.training_config("resnet", "default")
    with pytest.raises(ValueError, match="unknown profile"):
        br.training_config("lr_mnist", "huge")


def test_rmt_claims_on_large_samples():
    from hessian_spectra.rmt import sample_wigner, sample_wishart

    rng = np.random.default_rng(0)
    eig = lambda a: torch.linalg.eigvalsh(torch.from_numpy(a)).numpy()  # noqa: E731  (numpy's BLAS threads crawl under load)
    st = mt.marchenko_pastur_sample_stats(eig(sample_wishart(1200, 300, rng)))
    mp = {c.id: c for c in (cl.claim_mp_atom(st["atom"], 4.0), cl.claim_mp_bulk_mean(st["bulk_mean"], st["mean_all"], 4.0),
                            cl.claim_mp_bulk_mode(st["bulk_mode"], 4.0))}
    assert mp["S9"].verdict == "agree"
    assert mp["S11"].verdict == "paper_erratum" and mp["S11"].ours["bulk_mean"] == pytest.approx(4.0, rel=0.03)
    assert mp["S12"].ours["corrected_mode"] == pytest.approx(1.8) and mp["S12"].verdict == "paper_erratum"
    sc_st = mt.semicircle_sample_stats(eig(sample_wigner(1200, 2.0, rng)), 2.0)
    s8 = cl.claim_semicircle_support(sc_st["min"], sc_st["max"], 2.0, sc_st["n"], 1.0, 1.0)
    s18 = cl.claim_semicircle_log_flat(sc_st["decades_analytic"], sc_st["decades_sample"], sc_st["fraction_beyond"], sc_st["n"])
    assert s8.verdict == "agree" and s18.verdict == "agree"


def test_parameter_names_at():
    model = mlp(3, [2], 2)  # 1.weight (6), 1.bias (2), 3.weight (4), 3.bias (2)
    assert br.parameter_names_at(model, [0, 5, 6, 8, 13]) == ["1.weight[0]", "1.weight[5]", "1.bias[0]",
                                                              "3.weight[0]", "3.bias[1]"]


def test_stem_ks_to_sample_exact_on_gauss_quadrature():
    # Gauss-Legendre quadrature of the uniform law on [-1, 1]: the CMS bracket holds exactly (band = 0),
    # while the plain KS is positive and the exact sup over a fine grid
    x, w = np.polynomial.legendre.leggauss(12)
    w = w / w.sum()
    rng = np.random.default_rng(0)
    sample = np.linspace(-1, 1, 200001)  # a dense "sample" of the uniform law
    r = mt.stem_ks_to_sample(x, w, sample, standardise=False)
    assert r["band"] <= 1e-4
    grid = np.linspace(-1.2, 1.2, 400001)
    F = np.array([w[x <= g].sum() for g in grid[::100]])
    G = np.clip((grid[::100] + 1) / 2, 0, 1)
    assert r["ks"] >= np.abs(F - G).max() - 1e-4 and r["ks"] <= w.max() + 1e-4
    shifted = mt.stem_ks_to_sample(x, w, sample + 0.5, standardise=False)
    assert shifted["band"] > 0.1 and shifted["ks"] >= shifted["band"]
    # standardising makes the statistic scale-free
    a = mt.stem_ks_to_sample(x, w, rng.standard_normal(5000))
    b = mt.stem_ks_to_sample(3 * x, w, 0.1 * rng.standard_normal(5000))
    assert abs(a["ks"] - b["ks"]) < 0.05


def test_ritz_density_power_law_recovers_exponents():
    th = np.concatenate([-np.geomspace(1.0, 1e-3, 25), [0.0], np.geomspace(1e-3, 2.0, 30)])
    a = np.where(th == 0, 1.0, np.abs(th))
    dens = np.where(th > 0, 2.0 * a ** -0.5, 0.7 * a ** -1.2)   # rho_j = d(theta_j) (theta_{j+1} - theta_{j-1}) / 2
    dens[th == 0] = 50.0                                         # the central node (excluded by the fit)
    w = dens * np.r_[1e-3, (th[2:] - th[:-2]) / 2, 1e-3]         # extreme nodes: excluded, any weight
    fit = mt.ritz_density_power_law(th, w)
    # weights are renormalised to sum 1: exponents exact, prefactors up to the common factor
    assert abs(fit["positive"]["exponent"] + 0.5) < 1e-9 and abs(fit["negative"]["exponent"] + 1.2) < 1e-9
    assert fit["positive"]["r2"] > 1 - 1e-12 and fit["negative"]["r2"] > 1 - 1e-12
    assert abs(fit["positive"]["L_hat"] - 2 / 1.5) < 1e-9
    ratio = fit["positive"]["prefactor"] / fit["negative"]["prefactor"]
    assert abs(ratio - 2.0 / 0.7) < 1e-6
    assert mt.near_origin_weight(th, w, 0.01) > 0
