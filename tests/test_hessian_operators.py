"""Hessian and GGN operators against dense float64 references from torch.autograd.functional."""

from __future__ import annotations

import copy
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hessian_spectra.hessian import (
    SpeedOptions,
    ggn_operator,
    hessian_operator,
    hessian_vector_product,
    top_eigenpairs,
)

torch.set_num_threads(1)
RTOL = 1e-10


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3), nn.Softplus(), nn.Linear(3, 3))


def _cnn(batch_norm: bool) -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(2, 3, 3)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(3))
    layers += [nn.Tanh(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 2 * 2, 3)]
    return nn.Sequential(*layers)


def _problem(name: str, n: int = 11, seed: int = 0):
    """A float64 model in eval mode (BN running stats populated) and data of n samples."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    if name == "mlp":
        model = _mlp().double()
        x = torch.randn(n, 5, generator=g, dtype=torch.float64)
    else:
        model = _cnn(batch_norm=(name == "cnn_bn")).double()
        x = torch.randn(n, 2, 6, 6, generator=g, dtype=torch.float64)
        if name == "cnn_bn":
            model.train()
            with torch.no_grad():  # non-trivial running statistics
                model(2.0 * torch.randn(32, 2, 6, 6, generator=g, dtype=torch.float64) + 0.5)
    model.eval()
    y = torch.randint(0, 3, (n,), generator=g)
    return model, x, y


def _flat_fn(model: nn.Module, params=None):
    named = dict(model.named_parameters())
    names = list(named) if params is None else params
    shapes = [named[n].shape for n in names]
    sizes = [named[n].numel() for n in names]
    w0 = torch.cat([named[n].detach().reshape(-1) for n in names])

    def call(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        d = {n: t.view(s) for n, t, s in zip(names, torch.split(w, sizes), shapes)}
        return torch.func.functional_call(model, d, (x,))

    return w0, call


def dense_hessian(model, loss_fn, x, y, params=None) -> torch.Tensor:
    w0, call = _flat_fn(model, params)
    return torch.autograd.functional.hessian(lambda w: loss_fn(call(w, x), y), w0)


def dense_ggn(model, loss_fn, x, y, params=None) -> torch.Tensor:
    """J^T H_out J with H_out the dense Hessian of the loss in the outputs (all samples)."""
    w0, call = _flat_fn(model, params)
    out = call(w0, x).detach()
    J = torch.autograd.functional.jacobian(lambda w: call(w, x), w0).reshape(out.numel(), -1)
    H_out = torch.autograd.functional.hessian(lambda o: loss_fn(o.view_as(out), y), out.reshape(-1))
    return J.T @ H_out @ J


MODELS = ["mlp", "cnn", "cnn_bn"]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("batch_size", [None, 4, 1])
def test_hvp_matches_dense_hessian(name, batch_size):
    model, x, y = _problem(name)
    H = dense_hessian(model, F.cross_entropy, x, y)
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=batch_size)
    assert op.shape == H.shape
    V = torch.randn(H.shape[0], 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert _rel(op @ V, H @ V) < RTOL
    assert _rel(op @ V[:, 1], H @ V[:, 1]) < RTOL


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("method", ["double_backward", "forward_over_reverse"])
def test_both_hvp_methods_match_dense(name, method):
    model, x, y = _problem(name)
    H = dense_hessian(model, F.cross_entropy, x, y)
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=4, speed=SpeedOptions(hvp_method=method))
    V = torch.randn(H.shape[0], 3, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    assert _rel(op @ V, H @ V) < RTOL
    assert _rel(op @ V[:, 2], H @ V[:, 2]) < RTOL
    names = [n for n, _ in model.named_parameters()]
    blk = hessian_operator(model, F.cross_entropy, (x, y), params=names[-2:], speed=SpeedOptions(hvp_method=method))
    assert _rel(blk @ V[-blk.shape[0]:], H[-blk.shape[0]:, -blk.shape[0]:] @ V[-blk.shape[0]:]) < RTOL


@pytest.mark.parametrize("name", MODELS)
def test_multi_vector_equals_single_columns(name):
    model, x, y = _problem(name)
    for make in (hessian_operator, ggn_operator):
        op = make(model, F.cross_entropy, (x, y), batch_size=5)
        V = torch.randn(op.shape[0], 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
        block = op @ V
        for j in range(4):
            assert torch.allclose(block[:, j], op @ V[:, j], rtol=0, atol=1e-13 * block.abs().max())


@pytest.mark.parametrize("name", MODELS)
def test_layer_blocks_are_blocks_of_the_dense_hessian(name):
    model, x, y = _problem(name)
    H = dense_hessian(model, F.cross_entropy, x, y)
    names = [n for n, _ in model.named_parameters()]
    sizes = [p.numel() for p in model.parameters()]
    offsets = [0]
    for s in sizes:
        offsets.append(offsets[-1] + s)
    # a single weight, and a weight+bias pair given as tensors
    for chosen in ([names[0]], [names[-2], names[-1]]):
        idx = torch.cat([torch.arange(offsets[names.index(n)], offsets[names.index(n) + 1]) for n in chosen])
        named = dict(model.named_parameters())
        op = hessian_operator(model, F.cross_entropy, (x, y), params=[named[n] for n in chosen], batch_size=3)
        B = H[idx][:, idx]
        assert op.shape == B.shape
        assert _rel(op.to_dense(), B) < RTOL
    # a submodule: the last Linear layer
    op = hessian_operator(model, F.cross_entropy, (x, y), params=model[-1])
    idx = torch.arange(offsets[-3], offsets[-1])
    assert _rel(op.to_dense(), H[idx][:, idx]) < RTOL


def _custom_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # a loss without a closed form in the engine (smooth, non-quadratic): autograd output Hessian
    return torch.log(torch.cosh(out - F.one_hot(y, out.shape[1]).to(out.dtype))).sum(1).mean()


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("loss", ["ce", "ce_module", "mse", "custom"])
def test_ggn_equals_dense_jt_hout_j(name, loss):
    model, x, y = _problem(name)
    if loss == "mse":
        y = torch.randn(x.shape[0], 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
        loss_fn = F.mse_loss
    elif loss == "ce_module":
        loss_fn = nn.CrossEntropyLoss()
    elif loss == "custom":
        loss_fn = _custom_loss
    else:
        loss_fn = F.cross_entropy
    G = dense_ggn(model, loss_fn, x, y)
    op = ggn_operator(model, loss_fn, (x, y), batch_size=4)
    V = torch.randn(G.shape[0], 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    assert _rel(op @ V, G @ V) < RTOL
    assert _rel(op @ V[:, 0], G @ V[:, 0]) < RTOL
    # G is symmetric positive semi-definite for convex losses
    Gd = op.to_dense()
    assert torch.allclose(Gd, Gd.T, atol=1e-12)
    assert torch.linalg.eigvalsh(Gd).min() > -1e-12


def test_ggn_block_and_hessian_equals_ggn_for_linear_least_squares():
    model, x, y = _problem("mlp")
    names = [n for n, _ in model.named_parameters()]
    G = dense_ggn(model, F.cross_entropy, x, y, params=names[:2])
    op = ggn_operator(model, F.cross_entropy, (x, y), params=names[:2])
    assert _rel(op.to_dense(), G) < RTOL
    # linear model + MSE: H = G exactly
    lin = nn.Linear(5, 2).double()
    t = torch.randn(x.shape[0], 2, dtype=torch.float64)
    with warnings.catch_warnings():  # torch 2.14's torch.func fails here (ZeroTensor): fallback
        warnings.simplefilter("ignore", RuntimeWarning)
        H = hessian_operator(lin, F.mse_loss, (x, t)).to_dense()
    Gl = ggn_operator(lin, F.mse_loss, (x, t)).to_dense()
    assert _rel(H, Gl) < RTOL


def test_batch_norm_uses_eval_statistics_and_restores_mode():
    model, x, y = _problem("cnn_bn")
    H_eval = dense_hessian(model, F.cross_entropy, x, y)
    train_copy = copy.deepcopy(model).train()  # batch statistics (its running stats get updated)
    H_train = dense_hessian(train_copy, F.cross_entropy, x, y)
    model.train()
    running = model[1].running_mean.clone()
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=3)
    D = op.to_dense()
    assert model.training and all(m.training for m in model.modules())
    assert torch.equal(model[1].running_mean, running)  # no update in eval mode
    assert _rel(D, H_eval) < RTOL
    assert _rel(D, H_train) > 1e-3  # the mode matters, so the test above is meaningful
    # eval_mode=False with one batch reproduces the train-mode (batch statistics) Hessian
    op_train = hessian_operator(model, F.cross_entropy, (x, y), eval_mode=False)
    assert _rel(op_train.to_dense(), H_train) < RTOL


def test_data_forms_agree():
    model, x, y = _problem("cnn")

    class Data:
        def __init__(self, x, y):
            self.x, self.y = x, y

    V = torch.randn(sum(p.numel() for p in model.parameters()), 2, dtype=torch.float64)
    ref = hessian_operator(model, F.cross_entropy, (x, y)) @ V
    batches = [(x[:3], y[:3]), (x[3:8], y[3:8]), (x[8:], y[8:])]
    for data, bs in ((batches, None), (batches, 2), (Data(x, y), 5), ([x, y], 7)):
        out = hessian_operator(model, F.cross_entropy, data, batch_size=bs) @ V
        assert _rel(out, ref) < RTOL
    # float32 data is cast to the model's dtype
    out = hessian_operator(model, F.cross_entropy, (x.float(), y)) @ V
    assert _rel(out, ref) < 1e-6
    assert _rel(hessian_vector_product(model, F.cross_entropy, (x, y), V), ref) < RTOL


def test_top_eigenpairs_of_model_hessian_match_eigh():
    model, x, y = _problem("cnn_bn")
    H = dense_hessian(model, F.cross_entropy, x, y)
    evals, evecs = torch.linalg.eigh(H)
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=6)
    lam, U = top_eigenpairs(op, 3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(lam, evals.flip(0)[:3], rtol=1e-9, atol=1e-12)
    cos = (U.T @ evecs[:, -3:].flip(1)).diagonal().abs()
    assert torch.allclose(cos, torch.ones(3, dtype=torch.float64), atol=1e-8)
    # block Lanczos: 3 vectors per data pass
    lam_b, _ = top_eigenpairs(op, 3, block_size=3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(lam_b, evals.flip(0)[:3], rtol=1e-9, atol=1e-12)


def test_clear_errors():
    model, x, y = _problem("mlp")
    op = hessian_operator(model, F.cross_entropy, (x, y))
    p = op.shape[0]
    with pytest.raises(ValueError, match="shape"):
        op @ torch.zeros(p + 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="shape"):
        op @ torch.zeros(p, 2, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="empty"):
        hessian_operator(model, F.cross_entropy, (x[:0], y[:0]))
    with pytest.raises(ValueError, match="no samples"):
        hessian_operator(model, F.cross_entropy, []) @ torch.zeros(p, dtype=torch.float64)
    with pytest.raises(TypeError, match="one-shot"):
        hessian_operator(model, F.cross_entropy, ((x, y) for _ in range(1)))
    with pytest.raises(ValueError, match="unknown parameter"):
        hessian_operator(model, F.cross_entropy, (x, y), params=["nope.weight"])
    with pytest.raises(ValueError, match="differ in length"):
        hessian_operator(model, F.cross_entropy, (x, y[:3]))
    with pytest.raises(ValueError, match="hvp_method"):
        hessian_operator(model, F.cross_entropy, (x, y), speed=SpeedOptions(hvp_method="finite"))
    with pytest.raises(ValueError, match="speed must be"):
        hessian_operator(model, F.cross_entropy, (x, y), speed="fastest")
    with pytest.raises(ValueError, match="batch_size"):
        hessian_operator(model, F.cross_entropy, (x, y), batch_size=0)
    with pytest.raises(ValueError, match="exceeds"):
        top_eigenpairs(op, p + 1)


def test_non_finite_product_names_the_block():
    model, x, y = _problem("mlp")
    with torch.no_grad():
        model[2].weight[0, 0] = float("nan")
    op = hessian_operator(model, F.cross_entropy, (x, y))
    with pytest.raises(FloatingPointError, match=r"parameter block '0\.weight'"):
        op @ torch.ones(op.shape[0], dtype=torch.float64)
    # restricted to the last layer only the blocks in the product are named
    op = ggn_operator(model, F.cross_entropy, (x, y), params=["4.weight", "4.bias"])
    with pytest.raises(FloatingPointError, match=r"'4\.weight'"):
        op @ torch.ones(op.shape[0], dtype=torch.float64)


def test_ggn_refuses_train_mode_batch_norm():
    model, x, y = _problem("cnn_bn")
    model.train()
    op = ggn_operator(model, F.cross_entropy, (x, y), eval_mode=False)
    with pytest.raises(ValueError, match="train mode"):
        op @ torch.ones(op.shape[0], dtype=torch.float64)


def test_forward_over_reverse_failure_falls_back_to_double_backward(monkeypatch):
    model, x, y = _problem("mlp")
    H = dense_hessian(model, F.cross_entropy, x, y)
    op = hessian_operator(model, F.cross_entropy, (x, y), speed=SpeedOptions(primal_cache_bytes=0))  # from scratch

    def broken(*args, **kwargs):
        raise RuntimeError("simulated torch.func limitation")

    monkeypatch.setattr(op, "_forward_over_reverse", broken)
    V = torch.randn(H.shape[0], 3, dtype=torch.float64)
    with pytest.warns(RuntimeWarning, match="simulated"):
        out = op @ V
    assert _rel(out, H @ V) < RTOL
    assert not op._forward_over_reverse_ok()


def test_reduced_precision_products_are_close():
    """bf16 autocast products (the reduced-precision mode) stay near the float32 ones."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).eval()
    x, y = torch.randn(40, 6), torch.randint(0, 3, (40,))
    V = torch.randn(sum(p.numel() for p in model.parameters()), 3)
    for make in (hessian_operator, ggn_operator):
        ref = make(model, F.cross_entropy, (x, y)) @ V
        low = make(model, F.cross_entropy, (x, y), precision="bf16") @ V
        assert low.dtype == torch.float32
        assert _rel(low, ref) < 5e-2
    with pytest.raises(ValueError, match="precision"):
        hessian_operator(model, F.cross_entropy, (x, y), precision="fp8")


@pytest.mark.parametrize("kind", ["hessian", "ggn"])
def test_split_sweeps_give_the_same_products(kind):
    """A tiny max_sweep_bytes splits every batch into sweeps of the fewest samples allowed (32):
    the same operator."""
    model, x, y = _problem("cnn_bn", n=150)
    build = hessian_operator if kind == "hessian" else ggn_operator
    whole = build(model, F.cross_entropy, (x, y), batch_size=70, speed=SpeedOptions(max_sweep_bytes=None))
    split = build(model, F.cross_entropy, (x, y), batch_size=70, speed=SpeedOptions(max_sweep_bytes=1))
    V = torch.randn(whole.shape[0], 4, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    assert split.plan.sweep_samples(split, x[:70], y[:70], 4) == 32  # sweeps of 32, 32 and 6 samples
    assert _rel(split @ V, whole @ V) < RTOL
    assert _rel(split @ V[:, 0], whole @ V[:, 0]) < RTOL
    per_sample = split.plan.bytes_per_sample
    # activations of the CNN: Conv2d out, BN out, Tanh out, MaxPool indices, ... (float64)
    assert per_sample is not None and 3 * 4 * 4 * 8 <= per_sample <= 20 * 3 * 4 * 4 * 8


def test_sweep_budget_sets_equal_parts_and_never_splits_train_mode_batch_norm():
    model, x, y = _problem("cnn_bn", n=256)
    op = hessian_operator(model, F.cross_entropy, (x, y), speed=SpeedOptions(max_sweep_bytes=None))
    plan = op.plan

    def samples(xs, ys, k):
        return plan.sweep_samples(op, xs, ys, k)

    plan.bytes_per_sample = 1000.0
    plan.options = replace(plan.options, max_sweep_bytes=8 * 1000 * 64)  # room for 64 samples × 8 vectors
    assert samples(x, y, 8) == 64
    assert samples(x, y, 1) == 256
    assert samples(x[:200], y[:200], 8) == 50  # 4 equal parts
    plan.options = replace(plan.options, max_sweep_bytes=1)  # never below 32 samples, nor below 4 p k bytes
    assert samples(x, y, 8) == 32
    plan.bytes_per_sample = 1.0  # activations far below the operator's own traffic: no split
    assert samples(x, y, 8) == 256
    model.train()
    plan.bytes_per_sample = 1000.0
    assert samples(x, y, 8) == 256  # batch statistics: splitting would change H
    with pytest.raises(ValueError, match="max_sweep_bytes"):
        hessian_operator(model, F.cross_entropy, (x, y), speed=SpeedOptions(max_sweep_bytes=0))


def test_out_of_memory_sweeps_are_redone_in_halves(monkeypatch):
    """A sweep that runs out of memory is retried on half as many samples: same product, the
    smaller size is kept, and a product that cannot be split says so."""
    model, x, y = _problem("mlp", n=20)
    # the sweeps of products from scratch (kept primal graphs would skip sweep_products)
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=8,
                          speed=SpeedOptions(max_sweep_bytes=None, primal_cache_bytes=0))
    V = torch.randn(op.shape[0], 3, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    ref = op @ V
    real = op.sweep_products
    seen: list[int] = []

    def limited(xs, ys, vblocks, k):
        seen.append(int(xs.shape[0]))
        if xs.shape[0] * k > 9:
            raise torch.OutOfMemoryError("simulated")
        return real(xs, ys, vblocks, k)

    monkeypatch.setattr(op, "sweep_products", limited)
    with pytest.warns(RuntimeWarning, match="out of memory"):
        out = op @ V
    assert _rel(out, ref) < RTOL
    assert seen[:3] == [8, 4, 2] and max(s * 3 for s in seen[2:]) <= 9
    assert op.plan.max_sample_vectors == 6

    def always(xs, ys, vblocks, k):
        raise torch.OutOfMemoryError("simulated")

    monkeypatch.setattr(op, "sweep_products", always)
    with pytest.warns(RuntimeWarning), pytest.raises(torch.OutOfMemoryError, match="lower batch_size"):
        op @ V


def test_out_of_memory_in_forward_over_reverse_halves_the_sweep_not_the_method(monkeypatch):
    """torch.OutOfMemoryError is a RuntimeError: it must reach the sweep halving, not switch the
    k-vector HVP to its double-backward fallback."""
    model, x, y = _problem("mlp", n=16)
    op = hessian_operator(model, F.cross_entropy, (x, y), speed=SpeedOptions(max_sweep_bytes=None, primal_cache_bytes=0))
    V = torch.randn(op.shape[0], 2, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    ref = op @ V
    real = op._forward_over_reverse

    def limited(xs, ys, vblocks):
        if xs.shape[0] > 8:
            raise torch.OutOfMemoryError("simulated")
        return real(xs, ys, vblocks)

    monkeypatch.setattr(op, "_forward_over_reverse", limited)
    with pytest.warns(RuntimeWarning, match="out of memory"):
        out = op @ V
    assert _rel(out, ref) < RTOL
    assert op._forward_over_reverse_ok() and op.plan.max_sample_vectors == 16


@pytest.mark.parametrize("name", MODELS)
def test_linear_combinations_residual_and_scipy_view_match_dense(name):
    """H - G (the Residual), 2H + G, -H and the SciPy view equal their dense float64 counterparts."""
    from scipy.sparse.linalg import eigsh

    from hessian_spectra.hessian import residual_operator

    model, x, y = _problem(name)
    H = dense_hessian(model, F.cross_entropy, x, y)
    G = dense_ggn(model, F.cross_entropy, x, y)
    Hop = hessian_operator(model, F.cross_entropy, (x, y), batch_size=4)
    Gop = ggn_operator(model, F.cross_entropy, (x, y), batch_size=4)
    V = torch.randn(H.shape[0], 2, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    R = residual_operator(model, F.cross_entropy, (x, y), batch_size=4)
    assert _rel(R @ V, (H - G) @ V) < RTOL and _rel((Hop - Gop) @ V, (H - G) @ V) < RTOL
    assert _rel((2 * Hop + Gop) @ V, (2 * H + G) @ V) < RTOL
    assert _rel((-Hop) @ V[:, 0], -(H @ V[:, 0])) < RTOL
    assert "ResidualOperator" in repr(R) and "HessianOperator" in repr(R)
    A = Hop.to_scipy()
    assert A.shape == H.shape and A.dtype == np.float64
    np.testing.assert_allclose(A @ V.numpy(), (H @ V).numpy(), rtol=1e-9, atol=1e-12)
    top = eigsh(A, k=2, which="LA", return_eigenvectors=False, v0=np.ones(H.shape[0]))
    np.testing.assert_allclose(np.sort(top), torch.linalg.eigvalsh(H)[-2:].numpy(), rtol=1e-8)
    with pytest.raises(ValueError, match="differ in shape"):
        Hop - hessian_operator(model, F.cross_entropy, (x, y), params=[next(model.parameters())])


@pytest.mark.parametrize("name", MODELS)
def test_textbook_products_equal_the_fast_ones(name):
    """``speed='off'`` (double backward, whole batches, no kept graphs, no forward rules) and the
    default give the same H and G to rounding; the default's way for k vectors follows the model."""
    from hessian_spectra.hessian.speed import way_rule

    model, x, y = _problem(name)
    V = torch.randn(sum(p.numel() for p in model.parameters()), 3, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(9))
    for make in (hessian_operator, ggn_operator):
        fast, plain = (make(model, F.cross_entropy, (x, y), batch_size=5, speed=s) for s in ("auto", "off"))
        for _ in range(2):  # cold, then through kept graphs
            assert _rel(fast @ V, plain @ V) < RTOL
    has_conv = any(isinstance(m, nn.Conv2d) for m in model.modules())
    assert way_rule(model) == ("scratch" if has_conv else "kept")
    last = list(model.children())[-1]  # a block of the last linear layer goes through the kept graph
    assert way_rule(model, list(last.parameters())) == "kept"
