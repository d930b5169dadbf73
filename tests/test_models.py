"""Architectures: parameter counts stated by the papers / inventories, shapes, errors, autograd."""

from __future__ import annotations

import math

import pytest
import torch

from hessian_spectra import models
from hessian_spectra.models import build_model, count_parameters

torch.set_num_threads(1)


@pytest.mark.parametrize(
    "builder, kwargs, expected, source",
    [
        # Beyond-RMT §4.2 "P = [15299748, 15291300]" (VGG-16 with / without BN, CIFAR-100)
        (models.vgg, dict(depth=16, batch_norm=True, num_classes=100), 15_299_748, "Beyond-RMT §4.2"),
        (models.vgg, dict(depth=16, batch_norm=False, num_classes=100), 15_291_300, "Beyond-RMT §4.2"),
        # inventory 004 §D: the CIFAR-10 stand-in counts
        (models.vgg, dict(depth=16, batch_norm=True, num_classes=10), 15_253_578, "inventory 004 §D"),
        (models.vgg, dict(depth=16, batch_norm=False, num_classes=10), 15_245_130, "inventory 004 §D"),
        # ../shared/BASELINES.md: VGG16-BN CIFAR variant with a single linear classifier
        (models.vgg, dict(depth=16, batch_norm=True, num_classes=10, classifier="linear"), 14_728_266,
         "BASELINES.md"),
        # PreResNet-110: 1,169,972 (CIFAR-100, stated in Granziol et al. 2020) and 1,146,842 (CIFAR-10)
        (models.preresnet, dict(depth=110, num_classes=100), 1_169_972, "Granziol 2020 / inventory 002"),
        (models.preresnet, dict(depth=110, num_classes=10), 1_146_842, "inventory 002 fact 8"),
        # CPU stand-ins of inventory 004 §C2
        (models.mini_vgg, dict(batch_norm=True), 15_050, "inventory 004 D1"),
        (models.mini_vgg, dict(batch_norm=False), 14_938, "inventory 004 D2"),
        (models.preresnet, dict(depth=11, num_classes=10, base_width=4, block="bottleneck"), 8_750,
         "inventory 004 D3"),
        # Wu et al. (2020): LeNet5 on CIFAR-10 62,006 (BN variant has no affine parameters), F-200^2 199,210,
        # LeNet5-(fc1-80) 42,606
        (models.lenet5, dict(in_channels=3), 62_006, "inventory 000 Table 4"),
        (models.lenet5, dict(in_channels=3, batch_norm=True), 62_006, "inventory 000 Table 5"),
        (models.lenet5, dict(in_channels=3, fc_widths=(80, 84)), 42_606, "inventory 000 Fig 5c"),
        (models.mlp, dict(in_dim=784, widths=[200, 200], num_classes=10), 199_210, "inventory 000 §9"),
        # Papyan (2020) §4.1 "VGG11, an architecture with 28 million parameters": the author's VGG11-BN with
        # the BN classifier (inventory 001 Fig 3 [checked]: 28,156,554 for one input channel, C = 10);
        # the 8 x 2048 MLP with BN before ReLU (inventory 001 Fig 7: ≈31.0M MNIST, ≈35.7M CIFAR-10)
        (models.vgg, dict(depth=11, batch_norm=True, num_classes=10, in_channels=1, classifier="papyan"),
         28_156_554, "inventory 001 Fig 3"),
        (models.bn_mlp, dict(in_dim=784, widths=[2048] * 8, num_classes=10), 31_019_018, "inventory 001 Fig 7"),
        (models.bn_mlp, dict(in_dim=3072, widths=[2048] * 8, num_classes=10), 35_704_842, "inventory 001 Fig 7"),
        # Beyond-RMT §4.2: logistic regression on MNIST "P = 7850"
        (models.logistic_regression, dict(in_dim=784, num_classes=10), 7_850, "Beyond-RMT §4.2"),
    ],
)
def test_parameter_counts(builder, kwargs, expected, source):
    assert count_parameters(builder(**kwargs)) == expected, source


def test_deep_linear_is_a_product_of_matrices():
    torch.manual_seed(0)
    net = models.deep_linear(5, [4, 3], 2).double()
    weights = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
    assert [tuple(w.shape) for w in weights] == [(4, 5), (3, 4), (2, 3)]
    assert all(m.bias is None for m in net if isinstance(m, torch.nn.Linear))
    x = torch.randn(7, 5, dtype=torch.float64)
    product = weights[2] @ weights[1] @ weights[0]
    torch.testing.assert_close(net(x), x @ product.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("vgg16_bn", dict(num_classes=100), (3, 32, 32)),
        ("vgg11", dict(num_classes=10, width_multiplier=0.25), (3, 32, 32)),
        ("preresnet110", dict(num_classes=100), (3, 32, 32)),
        ("mini_vgg", dict(), (3, 16, 16)),
        ("preresnet", dict(depth=11, num_classes=10, base_width=4, block="bottleneck"), (3, 16, 16)),
        ("preresnet", dict(depth=20, num_classes=10), (3, 32, 32)),
        ("lenet5", dict(in_channels=1, input_size=28), (1, 28, 28)),
        ("lenet5_bn", dict(in_channels=3), (3, 32, 32)),
        ("mlp", dict(in_dim=49, widths=[16], num_classes=10, activation="tanh"), (1, 7, 7)),
        ("logistic_regression", dict(in_dim=784, num_classes=10), (1, 28, 28)),
        ("deep_linear", dict(in_dim=784, widths=[64, 64], out_dim=10), (1, 28, 28)),
    ],
)
def test_output_shapes(name, kwargs, shape):
    torch.manual_seed(0)
    model = build_model(name, **kwargs).eval()
    c = kwargs.get("num_classes", kwargs.get("out_dim", 10))
    with torch.no_grad():
        out = model(torch.randn(2, *shape))
    assert out.shape == (2, c)
    assert torch.isfinite(out).all()


def test_build_model_aliases():
    assert count_parameters(build_model("VGG-16", num_classes=100)) == 15_291_300
    assert count_parameters(build_model("vgg16bn", num_classes=100)) == 15_299_748
    assert count_parameters(build_model("PreResNet-110", num_classes=100)) == 1_169_972


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("resnet1000", {}, "unknown model"),
        ("vgg", dict(depth=17), "unknown VGG depth"),
        ("vgg", dict(classifier="mlp"), "unknown VGG classifier"),
        ("vgg", dict(foo=1), "bad arguments"),
        ("mlp", dict(in_dim=10, widths=[5], num_classes=2, activation="swish"), "unknown activation"),
        ("mlp", dict(in_dim=0, widths=[5], num_classes=2), "in_dim"),
        ("mlp", dict(in_dim=3, widths=5, num_classes=2), "sequence"),
        ("preresnet", dict(depth=100), "9n"),
        ("preresnet", dict(depth=21, block="basic"), "6n"),
        ("lenet5", dict(input_size=27), "input side"),
        ("mini_vgg", dict(conv_widths=(8, 8, 8, 8, 8), input_size=16), "too small"),
    ],
)
def test_bad_input_raises(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_model(name, **kwargs)


def test_swa_initialisation_statistics():
    """Conv weights ~ N(0, 2 / (9 C_out)) and zero conv biases (timgaripov/swa init)."""
    torch.manual_seed(0)
    model = models.vgg(16, batch_norm=True, num_classes=10)
    conv = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]  # 512 -> 512, 2.36M weights
    std = conv.weight.std().item()
    assert abs(std / math.sqrt(2.0 / (9 * 512)) - 1.0) < 0.01
    assert torch.count_nonzero(conv.bias) == 0


def test_double_backward_matches_dense_hessian():
    """The models support HVPs by double backward (no in-place ops): H v from autograd equals the dense
    float64 Hessian of torch.func.hessian applied to v, for the PreResNet bottleneck stand-in."""
    torch.manual_seed(0)
    model = models.preresnet(11, 3, base_width=1, block="bottleneck").double().eval()
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0])
    names = [n for n, _ in model.named_parameters()]
    params = {n: p.detach() for n, p in model.named_parameters()}
    flat = torch.cat([p.reshape(-1) for p in params.values()])
    shapes = [p.shape for p in params.values()]

    def loss_of(theta: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(theta, [s.numel() for s in shapes])
        ps = {n: c.reshape(s) for n, c, s in zip(names, chunks, shapes)}
        out = torch.func.functional_call(model, ps, (x,))
        return torch.nn.functional.cross_entropy(out, y)

    dense = torch.func.hessian(loss_of)(flat)
    v = torch.randn_like(flat)
    theta = flat.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_of(theta), theta, create_graph=True)
    (hv,) = torch.autograd.grad(g @ v, theta)
    torch.testing.assert_close(hv, dense @ v, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(dense, dense.T, rtol=1e-10, atol=1e-12)


def test_resnet18_parameter_counts_and_paper_layer_names():
    """kuangliu's ResNet18 (Papyan 2020): 11,173,962 parameters for C = 10; Wu et al.'s ResNet18-Wk (no BN, no
    conv bias): 344,884 / 610,340 / 951,060 for k = 48 / 64 / 80, C = 100 (inventory 000 Fig 5 [checked])."""
    assert models.count_parameters(models.build_model("resnet18")) == 11_173_962
    counts = [models.count_parameters(models.build_model("resnet18", num_classes=100, width=k, batch_norm=False))
              for k in (48, 64, 80)]
    assert counts == [344_884, 610_340, 951_060]
    net = models.resnet18(num_classes=100, width=8, batch_norm=False)
    names = net.paper_layer_names
    assert [n for n in names if n.startswith("conv")] == [f"conv{i}" for i in range(1, 18)]
    assert [n for n in names if n.startswith("sc-")] == ["sc-conv1", "sc-conv2", "sc-conv3"]
    from hessian_spectra.hessian.layerwise import find_layer
    assert find_layer(net, "conv11")[0] == "layer3.0.conv2"       # stage 3 (8x8 maps), as the paper's conv11
    assert find_layer(net, "sc-conv1")[0] == "layer2.0.shortcut.0"
    assert find_layer(net, "fc1")[0] == "fc"
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 100)
    with pytest.raises(ValueError, match="four stages"):
        models.resnet18(widths=(8, 8))


def test_vgg11_w_parameter_counts():
    """Wu et al.'s VGG11-Wk (uniform width, conv biases, one Linear(k, C)): 151,732 / 266,788 / 414,100 for
    k = 48 / 64 / 80 and C = 100 (inventory 000 Fig 5 [checked])."""
    assert [models.count_parameters(models.build_model("vgg11_w", width=k, num_classes=100))
            for k in (48, 64, 80)] == [151_732, 266_788, 414_100]
    net = models.vgg11_w(16)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in net.modules()) == 8
    assert sum(isinstance(m, torch.nn.Linear) for m in net.modules()) == 1
    with pytest.raises(ValueError, match="width"):
        models.vgg11_w(0)
