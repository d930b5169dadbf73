"""The one operator base of the engine: a symmetric linear operator applied to vectors and blocks.

Every curvature matrix of this package (the Hessian and Gauss-Newton matrices of a model over a data
set, their differences such as the Residual H - G, deflated operators, a linear network's Hessian on
its sufficient statistics) is a :class:`CurvatureOperator`: it has ``shape == (p, p)``, ``dtype``,
``device``, and ``A @ v`` for a vector (p,) or ``A @ V`` for a block (p, k) of vectors. Subclasses
implement one method, ``_matmat(V)`` for V of shape (p, k) on the operator's device and dtype; this
base validates shapes, moves and casts inputs, squeezes single vectors, stops on non-finite products
with an error that names the operator, and gives ``to_dense``, ``to_scipy`` and the linear
combinations ``A + B``, ``A - B``, ``c * A``.

Every algorithm of :mod:`hessian_spectra.hessian` takes such an operator, a dense symmetric tensor, or
any object with ``.shape`` and ``__matmul__`` (wrapped by :func:`aslinearoperator`), in the manner of
``scipy.sparse.linalg.aslinearoperator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["CurvatureOperator", "DenseOperator", "LinearCombination", "aslinearoperator"]


class CurvatureOperator:
    """A symmetric linear operator A in R^{p×p} applied to vectors (p,) or blocks (p, k).

    Subclasses set ``shape``, ``dtype`` and ``device`` and implement ``_matmat(V)`` for V of shape
    (p, k) on ``self.device`` in ``self.dtype``.
    """

    shape: tuple[int, int]
    dtype: torch.dtype
    device: torch.device

    def _matmat(self, V: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def __matmul__(self, v: Tensor) -> Tensor:
        """Return A v for v of shape (p,) or A V for V of shape (p, k)."""
        if not isinstance(v, Tensor):
            raise TypeError(f"expected a torch.Tensor, got {type(v).__name__}")
        p = self.shape[1]
        if v.ndim == 1:
            if v.shape[0] != p:
                raise ValueError(f"vector has shape {tuple(v.shape)}; the operator needs ({p},)")
            out = self._matmat(v.to(self.device, self.dtype).unsqueeze(1)).squeeze(1)
        elif v.ndim == 2:
            if v.shape[0] != p:
                raise ValueError(f"block of vectors has shape {tuple(v.shape)}; the operator needs ({p}, k)")
            if v.shape[1] == 0:
                return v.new_zeros((p, 0), dtype=self.dtype, device=self.device)
            out = self._matmat(v.to(self.device, self.dtype))
        else:
            raise ValueError(f"expected a vector (p,) or a block (p, k), got shape {tuple(v.shape)}")
        check_finite(out, self)
        return out

    def matvec(self, v: Tensor) -> Tensor:
        """A v (alias of ``op @ v``)."""
        return self @ v

    def to_dense(self, chunk: int = 64) -> Tensor:
        """The dense p×p matrix, built column block by column block (for tests and small p)."""
        p = self.shape[0]
        eye = torch.eye(p, dtype=self.dtype, device=self.device)
        return torch.cat([self @ eye[:, i : i + chunk] for i in range(0, p, chunk)], dim=1)

    def to_scipy(self) -> Any:
        """A ``scipy.sparse.linalg.LinearOperator`` view (NumPy in and out, in the operator's dtype),
        for SciPy's solvers (``eigsh``, ``lobpcg``, ``cg``)."""
        from scipy.sparse.linalg import LinearOperator

        np_dtype = torch.empty((), dtype=self.dtype).numpy().dtype

        def matmat(V: np.ndarray) -> np.ndarray:
            V = np.asarray(V)
            out = self @ torch.as_tensor(V.reshape(self.shape[0], -1), dtype=self.dtype, device=self.device)
            return out.detach().cpu().numpy().reshape(V.shape)

        return LinearOperator(self.shape, matvec=matmat, matmat=matmat, rmatvec=matmat, dtype=np_dtype)

    # -- linear combinations -----------------------------------------------------------------
    def __add__(self, other: Any) -> LinearCombination:
        return LinearCombination([self, aslinearoperator(other)], [1.0, 1.0])

    def __sub__(self, other: Any) -> LinearCombination:
        return LinearCombination([self, aslinearoperator(other)], [1.0, -1.0])

    def __mul__(self, scalar: float) -> LinearCombination:
        if not isinstance(scalar, (int, float)):
            return NotImplemented
        return LinearCombination([self], [float(scalar)])

    __rmul__ = __mul__

    def __neg__(self) -> LinearCombination:
        return LinearCombination([self], [-1.0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype}, device={self.device})"


def check_finite(out: Tensor, op: Any, where: str = "") -> None:
    """Raise ``FloatingPointError`` naming ``op`` (and ``where``) if ``out`` holds a NaN or an inf.

    One reduction instead of a boolean copy; a sum that overflows is checked entry by entry."""
    if bool(torch.isfinite(out.sum())) or bool(torch.isfinite(out).all()):
        return
    bad = int((~torch.isfinite(out)).sum())
    raise FloatingPointError(
        f"non-finite product of {op!r}{where}: {bad} of {out.numel()} entries are NaN or inf; check the "
        "loss, the data, the parameters and the precision mode"
    )


class DenseOperator(CurvatureOperator):
    """A dense symmetric matrix as an operator (so every algorithm can be checked against eigh)."""

    def __init__(self, matrix: Tensor) -> None:
        if not isinstance(matrix, Tensor) or matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            shape = tuple(matrix.shape) if isinstance(matrix, Tensor) else type(matrix).__name__
            raise ValueError(f"a dense operator must be a square 2-D tensor, got {shape}")
        if not matrix.is_floating_point():
            raise TypeError(f"a dense operator must be floating point, got {matrix.dtype}")
        self.matrix = matrix
        self.shape = (int(matrix.shape[0]), int(matrix.shape[1]))
        self.dtype = matrix.dtype
        self.device = matrix.device

    def _matmat(self, V: Tensor) -> Tensor:
        return self.matrix @ V

    def to_dense(self, chunk: int = 64) -> Tensor:
        return self.matrix


class LinearCombination(CurvatureOperator):
    """Σ_i c_i A_i of operators of one shape: sums and differences of curvature matrices, such as the
    Residual R = H - G of the Gauss-Newton split (Papyan 2020, Eq. (5.1); Beyond-RMT eqs 4-6).

    A product makes one product with each term, in order (for model operators: one data pass each).
    """

    def __init__(self, operators: Sequence[CurvatureOperator], coefficients: Sequence[float]) -> None:
        if len(operators) == 0 or len(operators) != len(coefficients):
            raise ValueError("a linear combination needs as many coefficients as operators, and at least one")
        shapes = {tuple(op.shape) for op in operators}
        if len(shapes) != 1:
            raise ValueError(f"operators differ in shape: {sorted(shapes)}")
        first = operators[0]
        self.operators = list(operators)
        self.coefficients = [float(c) for c in coefficients]
        self.shape, self.dtype, self.device = tuple(first.shape), first.dtype, first.device  # type: ignore[assignment]

    def _matmat(self, V: Tensor) -> Tensor:
        out: Tensor | None = None
        for c, op in zip(self.coefficients, self.operators):
            term = op @ V
            if c == -1.0:
                out = -term if out is None else out - term
            elif c == 1.0:
                out = term if out is None else out + term
            else:
                out = c * term if out is None else out + c * term
        assert out is not None
        return out

    def __repr__(self) -> str:
        terms = " ".join(f"{'+' if c >= 0 else '-'} {abs(c):g}·{op!r}" for c, op in zip(self.coefficients, self.operators))
        return f"LinearCombination({terms})"


class _WrappedOperator(CurvatureOperator):
    """Any object with ``.shape == (p, p)`` and ``__matmul__`` for (p,) and (p, k) inputs."""

    def __init__(self, op: Any) -> None:
        shape = tuple(int(s) for s in op.shape)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"operator must be square, got shape {shape}")
        self.op = op
        self.shape = (shape[0], shape[1])
        # Objects without dtype/device attributes are assumed float64 on the CPU.
        self.dtype = getattr(op, "dtype", torch.float64)
        if not isinstance(self.dtype, torch.dtype):
            self.dtype = torch.float64
        device = getattr(op, "device", "cpu")
        self.device = torch.device(device) if isinstance(device, (str, torch.device)) else torch.device("cpu")

    def _matmat(self, V: Tensor) -> Tensor:
        out = self.op @ V
        if not isinstance(out, Tensor):
            out = torch.as_tensor(out)
        if tuple(out.shape) != tuple(V.shape):
            raise ValueError(f"operator returned shape {tuple(out.shape)} for input shape {tuple(V.shape)}")
        return out.to(self.device, self.dtype)

    def __repr__(self) -> str:
        own = type(self.op).__repr__ is not object.__repr__  # the object describes itself
        inner = repr(self.op) if own else f"{type(self.op).__name__}, shape={self.shape}"
        return f"aslinearoperator({inner})"


def aslinearoperator(op: Any) -> CurvatureOperator:
    """Wrap ``op`` (an operator of this package, a dense square tensor, or any object with
    ``.shape`` and ``__matmul__``) so that algorithms can treat all of them alike."""
    if isinstance(op, CurvatureOperator):
        return op
    if isinstance(op, Tensor):
        return DenseOperator(op)
    if hasattr(op, "shape") and hasattr(op, "__matmul__"):
        return _WrappedOperator(op)
    raise TypeError(
        f"cannot use {type(op).__name__} as a linear operator: pass a square torch.Tensor or an "
        "object with .shape and __matmul__"
    )
