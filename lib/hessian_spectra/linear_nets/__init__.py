"""Deep linear networks: closed-form Hessian spectra and exact computations on sufficient statistics.

- :mod:`.closed_form`: the paper's equations (6)-(16): bounds, traces, balanced and shallow spectra,
  eigenvalues from the labels, label-proportion subsampling;
- :mod:`.statistics`: the loss (2), its gradient and its Hessian as an operator on the sufficient
  statistics X X^T/n, Y X^T/n (exact, O(dL p) per product), and the exact reduction for whitened inputs;
- :mod:`.weights`: flat parameter vectors, the paper's initialisations, models built from weights;
- :mod:`.dense`: dense float64 autograd references for small instances, and the numerical count of
  non-zero eigenvalues by a gap rule.

``from hessian_spectra import linear_nets as ln`` gives all of them.
"""

from .closed_form import *  # noqa: F401,F403
from .closed_form import __all__ as _closed_form_all
from .statistics import *  # noqa: F401,F403
from .statistics import __all__ as _statistics_all
from .weights import *  # noqa: F401,F403
from .weights import __all__ as _weights_all
from .dense import *  # noqa: F401,F403
from .dense import __all__ as _dense_all

__all__ = [*_closed_form_all, *_statistics_all, *_weights_all, *_dense_all]
