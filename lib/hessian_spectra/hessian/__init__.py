"""The Hessian engine: curvature operators over whole data sets and spectral algorithms on them.

Operators share one base (:mod:`.base`: shape, dtype, device, ``@`` for (p,) and (p, k), ``to_dense``,
``to_scipy``, sums and differences) and one data loop (:mod:`.curvature`): :func:`hessian_operator`,
:func:`ggn_operator`, :func:`residual_operator` (full or per parameter block, several vectors per data
pass, data-parallel with ``torch.distributed``), :class:`DeflatedOperator`, and the structured
layer-wise Hessian of a fully connected layer, :func:`fc_layer_hessian` (:mod:`.layerwise`, Wu et al.
2020). The speed machinery is in :mod:`.speed`, behind the one switch ``speed=``.

Algorithms, which accept these operators, dense symmetric tensors, or any object with ``.shape`` and
``__matmul__``: :func:`lanczos`, :func:`top_eigenpairs`, :func:`spectral_density` (stochastic
Lanczos quadrature), :func:`hutchinson_trace`, :func:`subspace_iteration`,
:func:`low_rank_deflation`, and Papyan's (2020) :func:`lanczos_approx_spec`.
"""

from .base import CurvatureOperator, DenseOperator, LinearCombination, aslinearoperator
from .curvature import (
    GGNOperator,
    HessianOperator,
    ModelCurvatureOperator,
    ResidualOperator,
    ggn_operator,
    hessian_operator,
    hessian_vector_product,
    residual_operator,
)
from .deflation import DeflatedOperator, deflate, low_rank_deflation, subspace_iteration
from .density import SpectralDensity, density_moments, gaussian_smoothing, spectral_density
from .distributed import all_reduce_sum, world_info
from .lanczos import (
    EigenResult,
    LanczosResult,
    check_steps,
    lanczos,
    lanczos_runs,
    random_vectors,
    ritz_from_coefficients,
    top_eigenpairs,
)
from .layerwise import FCLayerHessianOperator, fc_layer_hessian
from .output_hessian import apply_output_hessian, output_hessian_kind
from .papyan2020traces import (
    ApproxSpectrum,
    approx_spec_from_slq,
    kernel_width,
    lanczos_approx_spec,
    normalization,
)
from .speed import SpeedOptions, synchronize
from .trace import TraceEstimate, hutchinson_trace

__all__ = [
    "ApproxSpectrum",
    "CurvatureOperator",
    "DeflatedOperator",
    "DenseOperator",
    "EigenResult",
    "FCLayerHessianOperator",
    "GGNOperator",
    "HessianOperator",
    "LanczosResult",
    "LinearCombination",
    "ModelCurvatureOperator",
    "ResidualOperator",
    "SpectralDensity",
    "SpeedOptions",
    "TraceEstimate",
    "all_reduce_sum",
    "apply_output_hessian",
    "approx_spec_from_slq",
    "aslinearoperator",
    "check_steps",
    "deflate",
    "density_moments",
    "fc_layer_hessian",
    "gaussian_smoothing",
    "ggn_operator",
    "hessian_operator",
    "hessian_vector_product",
    "hutchinson_trace",
    "kernel_width",
    "lanczos",
    "lanczos_approx_spec",
    "lanczos_runs",
    "low_rank_deflation",
    "normalization",
    "output_hessian_kind",
    "random_vectors",
    "residual_operator",
    "ritz_from_coefficients",
    "spectral_density",
    "subspace_iteration",
    "synchronize",
    "top_eigenpairs",
    "world_info",
]
