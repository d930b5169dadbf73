"""On-disk caches of expensive results and training checkpoints, keyed by configuration and code.

A cached result must never be stale: its key holds every argument (``joblib.Memory`` hashes them with
the cached function's own code) and a version of the library code it depends on, :func:`code_version`.
:func:`cached` puts each function's results in a folder named after that version, so a change to the
engine, the training loop or the data loaders computes afresh instead of returning an old number,
while edits to docstrings and comments (ignored by the version) keep the caches. Training checkpoints
(:mod:`hessian_spectra.training`) carry the same kind of version in their configuration hash.
:func:`config_hash` gives stable keys for configuration dicts (checkpoints, ``run_all.sh``'s skip logic).

``$HESSIAN_SPECTRA_CACHE`` and ``$HESSIAN_SPECTRA_CHECKPOINTS`` move the folders (the notebook tests
use folders of their own).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import joblib

from ..utils import repo_root

__all__ = [
    "CORE_MODULES", "cache_dir", "cache_folder", "checkpoint_dir", "memory", "memorized", "cached", "code_version",
    "config_hash", "definition_version", "definitions_digest",
]

F = TypeVar("F", bound=Callable[..., Any])

# The library code every cached experiment depends on (besides its own module): the engine, the
# models and their training, the datasets, the theory modules.
CORE_MODULES: tuple[str, ...] = (
    "hessian_spectra.hessian",
    "hessian_spectra.structure",
    "hessian_spectra.models",
    "hessian_spectra.training",
    "hessian_spectra.data",
    "hessian_spectra.rmt",
    "hessian_spectra.linear_nets",
    "hessian_spectra.utils",
)


def cache_dir() -> Path:
    """``$HESSIAN_SPECTRA_CACHE`` if set, else ``<repo>/data/cache``."""
    env = os.environ.get("HESSIAN_SPECTRA_CACHE")
    return Path(env) if env else repo_root() / "data" / "cache"


def checkpoint_dir() -> Path:
    """``$HESSIAN_SPECTRA_CHECKPOINTS`` if set, else ``<repo>/data/checkpoints``."""
    env = os.environ.get("HESSIAN_SPECTRA_CHECKPOINTS")
    return Path(env) if env else repo_root() / "data" / "checkpoints"


def memory(location: str | Path | None = None, verbose: int = 0) -> joblib.Memory:
    """A ``joblib.Memory`` that caches results under :func:`cache_dir` (or ``location``)."""
    path = Path(location) if location is not None else cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return joblib.Memory(str(path), verbose=verbose)


def _source_files(module_name: str) -> list[Path]:
    module = importlib.import_module(module_name)
    path = Path(module.__file__ or "")
    if path.name == "__init__.py":
        return sorted(path.parent.rglob("*.py"))
    return [path]


def _normalized_source(path: Path) -> str:
    """The module's syntax tree without docstrings (comments are not in it): what the code does."""
    return ast.dump(_strip_docstrings(ast.parse(path.read_text(), filename=str(path))), include_attributes=False)


@functools.lru_cache(maxsize=None)
def _module_version(module_name: str) -> str:
    h = hashlib.sha256()
    for path in _source_files(module_name):
        h.update(path.name.encode())
        h.update(_normalized_source(path).encode())
    return h.hexdigest()


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def definitions_digest(source: str, roots: Sequence[str], stop: Sequence[str] = ()) -> str:
    """A 12-hex digest of the top-level definitions ``roots`` of a module's ``source`` and of every top-level
    definition (function, class, assigned name) they use, transitively, except the names in ``stop``; the
    module's import statements count too, docstrings and comments do not. See :func:`definition_version`."""
    tree = _strip_docstrings(ast.parse(source))
    defs: dict[str, ast.AST] = {}
    imports: list[ast.AST] = []
    for node in tree.body:  # type: ignore[attr-defined]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        defs[n.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
    missing = [r for r in roots if r not in defs]
    if missing:
        raise ValueError(f"no top-level definition named {missing} in the module")
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen or name in stop or name not in defs:
            continue
        seen.add(name)
        stack.extend(n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name) and n.id in defs)
    h = hashlib.sha256()
    for node in imports:
        h.update(ast.dump(node, include_attributes=False).encode())
    for name in sorted(seen):
        h.update(name.encode())
        h.update(ast.dump(defs[name], include_attributes=False).encode())
    return h.hexdigest()[:12]


@functools.lru_cache(maxsize=None)
def definition_version(module_name: str, roots: tuple[str, ...], stop: tuple[str, ...] = ()) -> str:
    """:func:`definitions_digest` of the module ``module_name`` (a single file): the version of the code a
    call of ``roots`` can run, unlike :func:`code_version`, which changes with any edit of the module. Training
    checkpoints use it for the model builder they were made with, so that adding or editing another
    architecture in :mod:`hessian_spectra.models` keeps them. Cached per process."""
    (path,) = _source_files(module_name)
    return definitions_digest(path.read_text(), roots, stop)


def code_version(*modules: str) -> str:
    """A 12-hex digest of the code of ``modules`` (dotted names; a package means all its files).

    Computed from each file's syntax tree without docstrings, so it changes when what the code does
    changes and not when its comments or docstrings do. Cached per process.
    """
    if not modules:
        raise ValueError("code_version needs at least one module name")
    h = hashlib.sha256()
    for name in sorted(set(modules)):
        h.update(name.encode())
        h.update(_module_version(name).encode())
    return h.hexdigest()[:12]


def cache_folder(func: Callable[..., Any], depends_on: Sequence[str] = CORE_MODULES) -> Path:
    """``<cache_dir>/code-<version>``: where :func:`cached` keeps ``func``'s results now (the version digests
    ``func``'s module and ``depends_on``; the folder follows ``$HESSIAN_SPECTRA_CACHE`` as it is at the call)."""
    return cache_dir() / f"code-{code_version(func.__module__, *depends_on)}"


def memorized(func: Callable[..., Any], depends_on: Sequence[str] = CORE_MODULES) -> Any:
    """The ``joblib.MemorizedFunc`` through which ``cached(func, depends_on)`` reads and writes its entries (for
    callers that must ask whether a call is stored, or store one, themselves)."""
    return memory(cache_folder(func, depends_on)).cache(func)


def cached(func: F, depends_on: Sequence[str] = CORE_MODULES) -> F:
    """``func`` with its results cached on disk by its arguments, its own code and the code of
    ``depends_on`` (plus ``func``'s module): results live in ``<cache_dir>/code-<version>/``.

    Folders of older versions stay on disk until deleted (``data/cache`` can be removed at any time).
    The folder is resolved when the function is called, not when ``cached`` is applied. The wrapper carries
    ``cache_folder()`` and ``memorized()`` (:func:`cache_folder`, :func:`memorized` of ``func``), which wrappers
    made with ``functools.wraps`` keep.
    """
    deps = tuple(depends_on)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # resolved at each call, so that a module-level ``cached(f)`` follows $HESSIAN_SPECTRA_CACHE as
        # it is when the function runs (tests and notebooks point it at their own folders after import)
        return memorized(func, deps)(*args, **kwargs)

    wrapper.cache_folder = functools.partial(cache_folder, func, deps)  # type: ignore[attr-defined]
    wrapper.memorized = functools.partial(memorized, func, deps)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _canonical(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    raise TypeError(f"config_hash: cannot hash a value of type {type(obj).__name__}: {obj!r}")


def config_hash(config: Any, length: int = 16) -> str:
    """A stable hex digest of a JSON-like configuration (dict key order does not matter)."""
    text = json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]
