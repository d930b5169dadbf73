"""Papyan (2020) Fig 17's method check on a network with an exact Hessian (ours): the dense Hessian against autograd
Hessian-vector products, the bulk's L1 error on constructed inputs, the experiment at a tiny size, the claim ids."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hessian_spectra.models import mlp
from hessian_spectra.papers.papyan2020 import claims as cl
from hessian_spectra.papers.papyan2020 import experiments as ex
from hessian_spectra.papers.papyan2020 import zoo

torch.set_num_threads(1)


def _autograd_hessian(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Column by column: H e_i = ∂/∂w ⟨∂L/∂w, e_i⟩ by double backward (no library code)."""
    params = [p for p in model.parameters()]
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    g = torch.cat([t.reshape(-1) for t in grads])
    cols = []
    for i in range(g.numel()):
        e = torch.zeros_like(g)
        e[i] = 1.0
        hv = torch.autograd.grad(g @ e, params, retain_graph=True)
        cols.append(torch.cat([t.reshape(-1) for t in hv]))
    return torch.stack(cols, 1)


def test_dense_hessian_equals_autograd_hvps():
    torch.manual_seed(0)
    model = mlp(6, [5, 4], 3)  # float32, as trained; dense_hessian works on a float64 copy
    x, y = torch.rand(17, 6), torch.arange(17) % 3
    H = ex.dense_hessian(model, (x, y), batch_size=5)  # several batches: the mean over them
    assert next(model.parameters()).dtype == torch.float32  # the model itself is left as it was
    ref = _autograd_hessian(copy.deepcopy(model).double(), x.double(), y)
    assert H.dtype == torch.float64 and H.shape == ref.shape == (6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3,) * 2
    torch.testing.assert_close(H, (ref + ref.T) / 2, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(H, H.T, rtol=0, atol=0)


def test_dense_hessian_refuses_large_models():
    with pytest.raises(ValueError, match="small models"):
        ex.dense_hessian(mlp(100, [60], 10), (torch.rand(2, 100), torch.tensor([0, 1])))


def test_bulk_l1_on_known_inputs():
    # bulk {0, 0.2, 0.2, 1} (the top C = 1 value 5 is removed) in 2 bins of [0, 1]: fractions 3/4, 1/4; a flat
    # density on [0, 1] puts 1/2 in each: L1 = 1/4 + 1/4
    g = np.linspace(-1, 2, 30001)
    flat = ((g >= 0) & (g <= 1)).astype(float)
    r = ex.bulk_l1([0.2, 5.0, 0.0, 1.0, 0.2], g, flat, C=1, bins=2)
    np.testing.assert_allclose(r["hist"], [0.75, 0.25])
    np.testing.assert_allclose(r["edges"], [0.0, 0.5, 1.0])
    assert r["l1"] == pytest.approx(0.5, abs=2e-3) and r["mass_in_range"] == pytest.approx(1.0, abs=2e-3)
    # the top C do not enter: moving them changes nothing; a density with no mass in the bulk's range: L1 = 1
    assert ex.bulk_l1([0.2, 50.0, 0.0, 1.0, 0.2], g, flat, C=1, bins=2)["l1"] == pytest.approx(r["l1"], abs=1e-12)
    assert ex.bulk_l1([0.2, 5.0, 0.0, 1.0, 0.2], g + 3, flat, C=1, bins=2)["l1"] == pytest.approx(1.0, abs=1e-12)
    # a uniform bulk against its own density: small; the same density smeared twice as wide: larger
    rng = np.random.default_rng(0)
    bulk = rng.uniform(0, 1, 200000)
    exact = np.r_[[30.0, 20.0, 10.0], bulk]
    wide = ((g >= -0.5) & (g <= 1.5)).astype(float) / 2
    sharp, blurred = ex.bulk_l1(exact, g, flat, C=3)["l1"], ex.bulk_l1(exact, g, wide, C=3)["l1"]
    assert sharp < 0.05 and blurred == pytest.approx(0.5, abs=0.05) and sharp < blurred
    with pytest.raises(ValueError):
        ex.bulk_l1([1.0, 0.5], g, flat, C=1)


def test_fig17_claim_ids_and_notes():
    c = cl.claim_f17_subspace_accuracy([10, 5.0004], [10, 5], 2, reference="exact, dense eigh", label="exact, small MLP")
    assert c.id == "F17-1 (exact, small MLP)" and c.verdict == "agree" and "exact, dense eigh" in c.note
    assert cl.claim_f17_subspace_accuracy([10, 5.01], [10, 5], 2).id == "F17-1"
    assert "Lanczos, reorthogonalised" in cl.claim_f17_subspace_accuracy([10, 5.01], [10, 5], 2).note
    b = cl.claim_f17_bulk_resolution(0.3, 0.1, where="small MLP")
    assert b.verdict == "disagree" and b.note.endswith("; small MLP") and b.ours == {"l1_deflated": 0.3, "l1_plain": 0.1}


def test_fig17_exact_settings():
    from hessian_spectra.models import build_model, count_parameters

    for p in zoo.PROFILES:
        cfg = zoo.fig17_exact_config(p)
        assert count_parameters(build_model(cfg.model, **cfg.model_kwargs)) <= 3000
        assert cfg.data.get("normalize", "none") == "none" and cfg.save_epochs == (cfg.epochs,)
    with pytest.raises(ValueError, match="unknown profile"):
        zoo.fig17_exact_config("gpu")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("papyan-fig17")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HESSIAN_SPECTRA_CHECKPOINTS", str(root / "ckpt"))
        mp.setenv("HESSIAN_SPECTRA_CACHE", str(root / "cache"))
        base = zoo.fig17_exact_config("smoke")
        cfg = dataclasses.replace(base, model_kwargs={"in_dim": 16, "widths": [4], "num_classes": 10},
                                  data={"name": "mnist", "per_class": 3, "pool": 7}, epochs=2, save_epochs=(2,),
                                  schedule_kwargs={"milestones": [1], "gamma": 0.1})
        try:
            out = ex.fig17_exact(cfg, C=10, si_iters=40, steps=24, norm_steps=16, bins=20, cache=False)
            model, data, _, _ = zoo.trained(cfg)
        except FileNotFoundError as exc:
            pytest.skip(str(exc))
        yield cfg, out, model, data


def test_fig17_exact_fields_are_consistent(tiny):
    _, out, model, data = tiny
    p = 16 * 4 + 4 + 4 * 10 + 10
    assert out["p"] == p and out["num_samples"] == 30 and out["C"] == 10 and out["si_iters"] == 40
    exact = out["exact"]
    assert exact.shape == (p,) and np.all(np.diff(exact) <= 0)
    H = ex.dense_hessian(model, (data.x, data.y))
    np.testing.assert_allclose(np.trace(H.numpy()), exact.sum(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(exact, np.sort(np.linalg.eigvalsh(H.numpy()))[::-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out["si_relative_errors"], np.abs(out["si_top"] - exact[:10]) / np.abs(exact[:10]))
    assert out["si_products"] == 40 * 10 and np.all(np.diff(out["si_top"]) <= 0)
    assert out["gap_ratio_C"] == pytest.approx(exact[9] / exact[10])
    np.testing.assert_allclose(out["bulk_fractions"].sum(), 1.0)
    for name in ("deflated", "plain"):
        lin = out[name]["linear"]
        r = ex.bulk_l1(exact, lin["grid"], lin["density"], 10, 20)
        assert out[f"l1_{name}"] == pytest.approx(r["l1"]) and 0 <= out[f"l1_{name}"] <= 2
        np.testing.assert_allclose(out[f"bin_mass_{name}"], r["mass"])
        assert out[f"kernel_sigma_{name}"] > 0 and len(out[f"l1_{name}_bins_half_double"]) == 2
        assert np.trapezoid(lin["density"], lin["grid"]) == pytest.approx(1.0, abs=0.05)  # unit mass
    # the deflated operator's spectrum has no room above λ_(C+1) beyond SubspaceIteration's residuals
    assert out["deflated"]["node_max"] <= exact[10] + float(np.max(out["si_residuals"])) * 2 + 1e-9
    # the undeflated Lanczos reaches the top eigenvalue
    assert out["plain"]["node_max"] == pytest.approx(exact[0], rel=1e-6)
