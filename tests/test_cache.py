"""Caches keyed by configuration and by the version of the code they depend on (never stale)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from hessian_spectra import training
from hessian_spectra.pipeline import cache as C


def _write_package(root, body: str) -> None:
    pkg = root / "toy_dep"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "core.py").write_text(textwrap.dedent(body))


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HESSIAN_SPECTRA_CACHE", str(tmp_path / "cache"))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("toy_dep")]:
        del sys.modules[name]
    C._module_version.cache_clear()


def _version(root, body: str) -> str:
    _write_package(root, body)
    C._module_version.cache_clear()
    importlib.invalidate_caches()
    return C.code_version("toy_dep")


def test_code_version_ignores_docstrings_and_comments_but_not_code(toy):
    base = _version(toy, '''
        """A module."""
        def f(x):
            """Square."""
            return x * x
    ''')
    docs = _version(toy, '''
        """Another docstring."""
        # a comment
        def f(x):
            """Squares its argument."""
            return x * x  # still the square
    ''')
    code = _version(toy, '''
        """A module."""
        def f(x):
            """Square."""
            return x * x + 0
    ''')
    assert base == docs and base != code
    assert len(base) == 12 and all(c in "0123456789abcdef" for c in base)
    with pytest.raises(ValueError, match="at least one module"):
        C.code_version()


def test_cached_results_are_recomputed_when_a_dependency_changes(toy):
    calls = []

    def experiment(a: int) -> int:
        calls.append(a)
        return a + 1

    _version(toy, "def f():\n    return 1\n")
    run = C.cached(experiment, depends_on=("toy_dep",))
    assert run(3) == 4 and run(3) == 4 and calls == [3]  # cached by its arguments
    _version(toy, "def f():\n    return 2\n")  # the engine changed: the old result must not come back
    run = C.cached(experiment, depends_on=("toy_dep",))
    assert run(3) == 4 and calls == [3, 3]
    folders = sorted(p.name for p in (toy / "cache").iterdir())
    assert len(folders) == 2 and all(name.startswith("code-") for name in folders)


def test_training_checkpoints_are_keyed_by_the_training_code(monkeypatch, tmp_path):
    cfg = {"model": "mlp", "model_kwargs": {"in_dim": 4, "widths": [3], "num_classes": 2},
           "data": {"name": "mnist", "subset": 8}, "epochs": 1}
    first, h1, key = training.run_directory(cfg, device="cpu", checkpoint_dir=tmp_path)
    assert key["code"] == C.code_version(*training._CODE_MODULES)
    monkeypatch.setattr(training, "code_version", lambda *m: "0" * 12)
    second, h2, _ = training.run_directory(cfg, device="cpu", checkpoint_dir=tmp_path)
    assert h1 != h2 and first != second


def test_cached_follows_the_cache_folder_at_call_time(tmp_path, monkeypatch):
    """A function wrapped at import time writes to the folder $HESSIAN_SPECTRA_CACHE names when it runs."""
    from hessian_spectra.pipeline.cache import cached

    calls = []

    def square(x):
        calls.append(x)
        return x * x

    monkeypatch.setenv("HESSIAN_SPECTRA_CACHE", str(tmp_path / "first"))
    f = cached(square)
    monkeypatch.setenv("HESSIAN_SPECTRA_CACHE", str(tmp_path / "second"))
    assert f(3) == 9 and f(3) == 9 and calls == [3]
    assert (tmp_path / "second").is_dir() and not (tmp_path / "first").exists()


def test_definitions_digest_follows_what_a_definition_uses():
    """A definition's digest changes with its own code and with the helpers it uses (transitively), and not
    with other definitions, docstrings or comments."""
    base = ("import math\n\ndef helper(x):\n    return x + 1\n\ndef builder(x):\n    '''doc'''\n    return helper(x)\n\n"
            "def other(x):\n    return x * 2\n\nREGISTRY = {'b': builder, 'o': other}\n")
    d = C.definitions_digest(base, ["builder"], stop=["REGISTRY"])
    assert C.definitions_digest(base.replace("return x * 2", "return x * 3"), ["builder"]) == d        # other edited
    assert C.definitions_digest(base + "\ndef added():\n    return 0\n", ["builder"]) == d             # one added
    assert C.definitions_digest(base.replace("'''doc'''", "'''new doc'''  # note"), ["builder"]) == d  # docs
    assert C.definitions_digest(base.replace("x + 1", "x + 2"), ["builder"]) != d                      # helper edited
    assert C.definitions_digest(base.replace("import math", "import cmath"), ["builder"]) != d          # imports count
    with pytest.raises(ValueError, match="no top-level definition"):
        C.definitions_digest(base, ["missing"])


def test_checkpoint_keys_follow_their_own_model_builder():
    """Training checkpoints are keyed by the code of the builder they use: the MLP's key does not depend on the
    ResNet builder, the VGG shortcuts resolve to one builder, and an unknown model is a clear error."""
    from hessian_spectra import models
    v_mlp = training.model_code_version("mlp")
    assert v_mlp != training.model_code_version("resnet18")
    assert models.builder_name("vgg16_bn") == "vgg" and training.model_code_version("vgg16_bn") == training.model_code_version("vgg11")
    src = Path(models.__file__).read_text()
    digest = C.definitions_digest(src, ["mlp", *training._MODEL_ROOTS], training._MODEL_STOP)
    assert digest == v_mlp
    added = src + "\n\ndef brand_new_net(width: int = 3) -> nn.Module:\n    return nn.Linear(width, width)\n"
    assert C.definitions_digest(added, ["mlp", *training._MODEL_ROOTS], training._MODEL_STOP) == v_mlp
    changed = src.replace("def resnet18(", "def resnet18(unused: int = 0, ")
    assert C.definitions_digest(changed, ["mlp", *training._MODEL_ROOTS], training._MODEL_STOP) == v_mlp
    with pytest.raises(ValueError, match="unknown model"):
        training.model_code_version("no_such_net")
