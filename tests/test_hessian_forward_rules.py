"""Forward-mode rules for layers fed by tangent-free inputs: same values, one matmul less."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from hessian_spectra.hessian import SpeedOptions, ggn_operator
from hessian_spectra.hessian.forward_rules import skip_zero_input_tangents

torch.set_num_threads(1)
GEN = torch.Generator().manual_seed(0)


def _randn(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=GEN, dtype=torch.float64)


LAYERS = {
    "linear": (lambda x, w, b: F.linear(x, w, b), (7, 5), (4, 5), (4,)),
    "linear_3d_input": (lambda x, w, b: F.linear(x, w, b), (3, 2, 5), (4, 5), (4,)),
    "linear_kwargs_no_bias": (lambda x, w, b: F.linear(input=x, weight=w), (7, 5), (4, 5), None),
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), (3, 2, 9), (4, 2, 3), (4,)),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, 1, (1, 2), 1, 1), (3, 2, 6, 6), (4, 2, 3, 3), (4,)),
    "conv2d_groups_dilation": (lambda x, w, b: F.conv2d(x, w, b, dilation=2, groups=2), (3, 4, 7, 7), (4, 2, 2, 2), None),
    "conv3d": (lambda x, w, b: F.conv3d(x, w, b, padding=1), (2, 2, 4, 4, 4), (3, 2, 3, 3, 3), (3,)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_jvp_vmap_and_gradients_unchanged(name):
    layer, xs, ws, bs = LAYERS[name]
    x, w = _randn(*xs), _randn(*ws)
    b = _randn(*bs) if bs is not None else None
    primals = (w,) if b is None else (w, b)
    tangents = tuple(_randn(*t.shape) for t in primals)

    def f(*ps: torch.Tensor) -> torch.Tensor:
        return torch.tanh(layer(x, *ps, *([None] if len(ps) == 1 else [])))

    ref = torch.func.jvp(f, primals, tangents)
    batched = tuple(_randn(3, *t.shape) for t in primals)
    ref_v = torch.func.vmap(lambda *t: torch.func.jvp(f, primals, t)[1])(*batched)
    cot = _randn(3, *ref[0].shape)
    ref_out, ref_pb = torch.func.vjp(f, *primals)
    ref_g = torch.func.vmap(ref_pb)(cot)
    with skip_zero_input_tangents():
        out = torch.func.jvp(f, primals, tangents)
        out_v = torch.func.vmap(lambda *t: torch.func.jvp(f, primals, t)[1])(*batched)
        _, pb = torch.func.vjp(f, *primals)
        g = torch.func.vmap(pb)(cot)
    for a, r in [*zip(out, ref), (out_v, ref_v), *zip(g, ref_g)]:
        torch.testing.assert_close(a, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_first_layer_tangent_costs_one_product_not_two(name):
    """FlopCounterMode: torch's rule does primal + x Ẇᵀ + (0) Wᵀ; with the rules, the zero term goes."""
    layer, xs, ws, bs = LAYERS[name]
    x, w = _randn(*xs), _randn(*ws)
    b = _randn(*bs) if bs is not None else None

    def count(fn) -> int:
        with FlopCounterMode(display=False) as fc:
            fn()
        return fc.get_total_flops()

    one = count(lambda: layer(x, w, b))
    jvp = lambda: torch.func.jvp(lambda w: layer(x, w, b), (w,), (w,))  # noqa: E731
    assert count(jvp) == 3 * one  # torch multiplies by the zero input tangent

    def with_rules() -> None:
        with skip_zero_input_tangents():
            jvp()

    assert count(with_rules) == 2 * one


def test_input_with_a_tangent_keeps_torchs_rule():
    x, w = _randn(5, 4), _randn(3, 4)
    xt, wt = _randn(5, 4), _randn(3, 4)
    ref = torch.func.jvp(lambda x, w: F.linear(x, w), (x, w), (xt, wt))
    with skip_zero_input_tangents():
        out = torch.func.jvp(lambda x, w: F.linear(x, w), (x, w), (xt, wt))
    torch.testing.assert_close(out[1], ref[1], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out[1], xt @ w.T + x @ wt.T, rtol=1e-12, atol=1e-12)


def test_bias_only_ggn_block_of_first_layers():
    """params = the first layer's bias alone: the rules' bias-only tangent path, against the
    block of the full GGN."""
    torch.manual_seed(0)
    for model, x in [
        (torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)), _randn(9, 5)),
        (torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.Tanh(), torch.nn.Flatten(),
                             torch.nn.Linear(3 * 4 * 4, 3)), _randn(9, 2, 6, 6)),
    ]:
        model = model.double()
        y = torch.randint(0, 3, (9,), generator=GEN)
        full = ggn_operator(model, F.cross_entropy, (x, y)).to_dense()
        p_w = model[0].weight.numel()
        n_b = model[0].bias.numel()
        block = ggn_operator(model, F.cross_entropy, (x, y), params=[model[0].bias]).to_dense()
        torch.testing.assert_close(block, full[p_w : p_w + n_b, p_w : p_w + n_b], rtol=1e-10, atol=1e-12)


def test_ggn_of_a_flatten_first_mlp_skips_exactly_the_zero_matmul():
    """Inside torch.func, flatten(x) comes back wrapped; the mode still knows it is tangent-free.
    The GGN product loses exactly one first-layer matmul (2·n·in·out FLOPs) and keeps its value."""
    torch.manual_seed(1)
    n, shape, hidden = 12, (2, 3, 3), 7
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(18, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 4)
    ).double()
    x, y = _randn(n, *shape), torch.randint(0, 4, (n,), generator=GEN)
    v, V = _randn(18 * hidden + hidden + hidden * 4 + 4), _randn(18 * hidden + hidden + hidden * 4 + 4, 3)

    def run(rules: bool) -> tuple[list[int], list[torch.Tensor]]:
        # products from scratch (kept primal graphs take the other route, see primal_cache)
        speed = SpeedOptions(max_sweep_bytes=None, primal_cache_bytes=0, forward_rules=rules)
        op = ggn_operator(model, F.cross_entropy, (x, y), speed=speed)
        counts, outs = [], []
        for vec in (v, V):
            with FlopCounterMode(display=False) as fc:
                outs.append(op @ vec)
            counts.append(fc.get_total_flops())
        return counts, outs

    (c_rules, o_rules), (c_plain, o_plain) = run(True), run(False)
    zero_matmul = 2 * n * 18 * hidden
    assert c_plain[0] - c_rules[0] == zero_matmul  # one vector
    assert c_plain[1] - c_rules[1] == zero_matmul  # three vectors: the zero term was unbatched
    for a, b in zip(o_rules, o_plain):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
