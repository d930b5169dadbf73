"""Kept primal graphs (hessian.primal_cache): exact products, the work they save, and when the
cache must empty itself or stay unused."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from test_hessian_operators import RTOL, _problem, _rel, dense_ggn, dense_hessian
from torch.utils.flop_counter import FlopCounterMode

import hessian_spectra.hessian.speed as speed
from hessian_spectra.hessian import SpeedOptions, ggn_operator, hessian_operator

torch.set_num_threads(1)
CTORS = {"hessian": (hessian_operator, dense_hessian), "ggn": (ggn_operator, dense_ggn)}


def _vectors(p: int, k: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(p, k, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def _flops(fn) -> int:
    with FlopCounterMode(display=False) as fc:
        fn()
    return fc.get_total_flops()


@pytest.mark.parametrize("kind", ["hessian", "ggn"])
@pytest.mark.parametrize("name", ["mlp", "cnn_bn"])
def test_products_through_kept_graphs_equal_the_dense_matrix(kind, name):
    """Cold, warm, one and several vectors, every way of a k-vector product: all equal the
    dense float64 matrix; one graph is kept per sweep (3 batches here)."""
    ctor, dense = CTORS[kind]
    model, x, y = _problem(name, n=11)
    M = dense(model, F.cross_entropy, x, y)
    V = _vectors(M.shape[0], 3)
    for k_way in ("rule", "kept", "scratch", "timed"):  # every way is exact
        op = ctor(model, F.cross_entropy, (x, y), batch_size=4, speed=SpeedOptions(k_way=k_way))
        for _ in range(2):
            assert _rel(op @ V[:, 0], M @ V[:, 0]) < RTOL
            assert _rel(op @ V, M @ V) < RTOL
        if kind == "hessian" or k_way in ("kept", "timed") or (k_way == "rule" and name == "mlp"):
            assert len(op.primal_cache) == 3 and op.primal_cache.nbytes > 0
    assert op.plan.k_choice[3] in ("kept", "scratch")  # the timed way chose one


def test_a_kept_hessian_graph_saves_exactly_one_gradient_pass_of_work():
    """A warm Hessian-vector product is the second backward of double backward alone: its
    matmul FLOPs are those of the cold product minus one gradient pass (forward + backward)."""
    model, x, y = _problem("mlp", n=16)
    params = list(model.parameters())

    def grad_pass():
        torch.autograd.grad(F.cross_entropy(model(x), y), params)

    op = hessian_operator(model, F.cross_entropy, (x, y))
    v = _vectors(op.shape[0], 1)[:, 0]
    cold = _flops(lambda: op @ v)
    warm = _flops(lambda: op @ v)
    assert cold - warm == _flops(grad_pass)
    scratch = hessian_operator(model, F.cross_entropy, (x, y), speed=SpeedOptions(primal_cache_bytes=0))
    assert _flops(lambda: scratch @ v) == _flops(lambda: scratch @ v) == cold


@pytest.mark.parametrize("kind", ["hessian", "ggn"])
def test_cache_empties_when_parameters_buffers_or_data_change(kind):
    ctor, dense = CTORS[kind]
    model, x, y = _problem("cnn_bn", n=8)
    op = ctor(model, F.cross_entropy, (x, y), batch_size=4, speed=SpeedOptions(k_way="kept"))
    V = _vectors(op.shape[0], 2)
    op @ V
    assert len(op.primal_cache) == 2  # one graph per sweep

    def check() -> None:
        assert _rel(op @ V, dense(model, F.cross_entropy, op.batches.pair[0], y) @ V) < RTOL

    with torch.no_grad():
        model[0].weight.mul_(1.5)  # an optimizer step: in place, the version counter moves
    check()
    model[-1].weight.data = model[-1].weight.data * 0.5  # a new storage
    check()
    with torch.no_grad():
        model[1].running_var.mul_(2.0)  # a buffer (batch norm statistics in eval mode)
    check()
    with torch.no_grad():
        op.batches.pair[0].mul_(-1.0)  # the data, in place
    check()


def test_budget_limits_what_is_kept_and_never_the_result():
    model, x, y = _problem("mlp", n=12)
    H = dense_hessian(model, F.cross_entropy, x, y)
    V = _vectors(H.shape[0], 2)
    probe = hessian_operator(model, F.cross_entropy, (x, y), batch_size=4)
    probe @ V
    per_sweep = max(e.nbytes for e in probe.primal_cache.entries.values())
    for budget, kept in ((0, 0), (1, 0), (per_sweep, 1), (10 * per_sweep, 3)):
        op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=4,
                              speed=SpeedOptions(primal_cache_bytes=budget))
        for _ in range(2):
            assert _rel(op @ V, H @ V) < RTOL
        assert len(op.primal_cache) == kept
    assert hessian_operator(model, F.cross_entropy, (x, y), speed="off").primal_cache.budget == 0


def test_cache_unused_for_iterables_training_mode_and_forced_forward_over_reverse():
    model, x, y = _problem("mlp", n=8)
    H = dense_hessian(model, F.cross_entropy, x, y)
    V = _vectors(H.shape[0], 2)
    batches = [(x[:4], y[:4]), (x[4:], y[4:])]  # an iterable may yield other batches next time
    cases = [
        hessian_operator(model, F.cross_entropy, batches),
        hessian_operator(model, F.cross_entropy, (x, y), speed=SpeedOptions(hvp_method="forward_over_reverse")),
    ]
    for op in cases:
        assert _rel(op @ V, H @ V) < RTOL and len(op.primal_cache) == 0
    model.train()  # the model's own mode: dropout masks or batch statistics would be frozen in
    op = hessian_operator(model, F.cross_entropy, (x, y), eval_mode=False)
    assert _rel(op @ V, H @ V) < RTOL and len(op.primal_cache) == 0
    model.eval()


def test_out_of_memory_while_keeping_a_graph_turns_the_cache_off(monkeypatch):
    model, x, y = _problem("mlp", n=8)
    H = dense_hessian(model, F.cross_entropy, x, y)
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=4)
    V = _vectors(H.shape[0], 1)

    def no_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("simulated")

    monkeypatch.setattr(speed, "build_entry", no_memory)
    assert _rel(op @ V, H @ V) < RTOL
    assert len(op.primal_cache) == 0 and op.primal_cache.full


@pytest.mark.parametrize("bad", [-1, 1.5, "big", True])
def test_bad_budget_is_named(bad):
    model, x, y = _problem("mlp", n=4)
    with pytest.raises(ValueError, match="primal_cache_bytes"):
        hessian_operator(model, F.cross_entropy, (x, y), speed=SpeedOptions(primal_cache_bytes=bad))


def test_timing_the_way_for_k_vectors_costs_no_extra_work():
    """With ``k_way='timed'`` (an opt-in) the first k-vector product goes through the kept graph on
    one sweep and from scratch on the next, and uses both: its FLOPs are exactly those of the two
    ways on their sweeps."""
    model, x, y = _problem("mlp", n=16)
    V = _vectors(sum(p.numel() for p in model.parameters()), 3)
    halves = [(x[:8], y[:8]), (x[8:], y[8:])]
    op = hessian_operator(model, F.cross_entropy, (x, y), batch_size=8, speed=SpeedOptions(k_way="timed"))
    first = _flops(lambda: op @ V)
    assert set(op.plan.k_trials[3]) == {"kept", "scratch"} and op.plan.k_choice[3] in ("kept", "scratch")
    kept = hessian_operator(model, F.cross_entropy, halves[0], speed=SpeedOptions(primal_cache_bytes=2**30, k_way="kept"))
    scratch = hessian_operator(model, F.cross_entropy, halves[1], speed=SpeedOptions(primal_cache_bytes=0))
    assert first == _flops(lambda: kept @ V) + _flops(lambda: scratch @ V)
