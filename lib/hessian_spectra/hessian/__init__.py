"""The Hessian engine: curvature operators over whole data sets and spectral algorithms on them.

Operators (``operators``): :func:`hessian_operator`, :func:`ggn_operator` (full or per-block,
several vectors per data pass, data-parallel with ``torch.distributed``).
Algorithms, which accept these operators, dense symmetric tensors, or any object with ``.shape`` and
``__matmul__``: :func:`lanczos`, :func:`top_eigenpairs`, :func:`spectral_density` (stochastic
Lanczos quadrature), :func:`hutchinson_trace`, :func:`subspace_iteration`,
:func:`low_rank_deflation`, and Papyan's (2020) :func:`lanczos_approx_spec`.
"""

from .deflation import DeflatedOperator, deflate, low_rank_deflation, subspace_iteration
from .density import SpectralDensity, density_moments, gaussian_smoothing, spectral_density
from .distributed import all_reduce_sum, world_info
from .lanczos import EigenResult, LanczosResult, lanczos, ritz_from_coefficients, top_eigenpairs
from .operators import (
    CurvatureOperator,
    DenseOperator,
    ModelCurvatureOperator,
    aslinearoperator,
    ggn_operator,
    hessian_operator,
    hessian_vector_product,
)
from .papyan2020traces import (
    ApproxSpectrum,
    approx_spec_from_slq,
    kernel_width,
    lanczos_approx_spec,
    normalization,
)
from .trace import TraceEstimate, hutchinson_trace

__all__ = [
    "ApproxSpectrum",
    "CurvatureOperator",
    "DeflatedOperator",
    "DenseOperator",
    "EigenResult",
    "LanczosResult",
    "ModelCurvatureOperator",
    "SpectralDensity",
    "TraceEstimate",
    "all_reduce_sum",
    "approx_spec_from_slq",
    "aslinearoperator",
    "deflate",
    "density_moments",
    "gaussian_smoothing",
    "ggn_operator",
    "hessian_operator",
    "hessian_vector_product",
    "hutchinson_trace",
    "kernel_width",
    "lanczos",
    "lanczos_approx_spec",
    "low_rank_deflation",
    "normalization",
    "ritz_from_coefficients",
    "spectral_density",
    "subspace_iteration",
    "top_eigenpairs",
    "world_info",
]
