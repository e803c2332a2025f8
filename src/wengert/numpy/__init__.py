"""A differentiable NumPy namespace: ``import wengert.numpy as np``.

Every function here accepts traced values and has derivative rules, or is a
non-differentiable pass-through (see `nondiff`). Plain NumPy code also works on traced
values through NumPy's dispatch protocols for the functions listed here.
"""

from __future__ import annotations

import numpy as _np

# Constants and types, so that `import wengert.numpy as np` covers everyday code.
from numpy import (  # noqa: F401
    bool_,
    complex64,
    complex128,
    dtype,
    e,
    euler_gamma,
    finfo,
    float16,
    float32,
    float64,
    iinfo,
    inf,
    int8,
    int16,
    int32,
    int64,
    nan,
    ndarray,
    newaxis,
    pi,
    uint8,
)

from .._core import box as _box
from . import (
    bessel,
    contractions,
    converting,
    cumulative,
    elementwise,
    fft,
    float_parts,
    functional,
    index_tricks,
    indexing,
    linalg,
    manipulation,
    nondiff,
    padding,
    polynomials,
    random,  # noqa: F401
    reductions,
    selection,
    shaping,
    signal,
    sorting,
    statistics,
    windows,
    writes,
)
from .bessel import *  # noqa: F403
from .contractions import *  # noqa: F403
from .converting import *  # noqa: F403
from .cumulative import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .float_parts import *  # noqa: F403
from .functional import *  # noqa: F403
from .index_tricks import *  # noqa: F403
from .indexing import at, index_add, index_update  # noqa: F401
from .manipulation import *  # noqa: F403
from .nondiff import *  # noqa: F403
from .padding import *  # noqa: F403
from .polynomials import *  # noqa: F403
from .reductions import *  # noqa: F403
from .reexports import *  # noqa: F403  (NumPy's own types, error state, printing, files)
from .selection import *  # noqa: F403
from .shaping import *  # noqa: F403
from .signal import *  # noqa: F403
from .sorting import *  # noqa: F403
from .statistics import *  # noqa: F403
from .windows import *  # noqa: F403
from .writes import *  # noqa: F403

# Modules whose names join the main namespace, and submodules mirroring numpy.linalg/fft.
_MODULES = (
    elementwise,
    reductions,
    shaping,
    contractions,
    cumulative,
    sorting,
    selection,
    padding,
    manipulation,
    statistics,
    signal,
    nondiff,
    converting,
    float_parts,
    bessel,
    functional,
    index_tricks,
    polynomials,
    windows,
    writes,
)
_SUBMODULES = ((linalg, _np.linalg), (fft, _np.fft))


def _register() -> None:
    """Route Box operators and NumPy's dispatch protocols to these functions."""
    ops = _box.ops
    for module in _MODULES:
        for name in module.__all__:
            fun = getattr(module, name)
            setattr(ops, name, fun)
            np_fun = getattr(_np, name, None)
            if np_fun is not None and callable(np_fun):
                _box.numpy_dispatch[np_fun] = fun
    for module, np_module in _SUBMODULES:
        for name in module.__all__:
            np_fun = getattr(np_module, name, None)
            if np_fun is not None and callable(np_fun):
                _box.numpy_dispatch[np_fun] = getattr(module, name)
    window_view = _np.lib.stride_tricks.sliding_window_view
    _box.numpy_dispatch[window_view] = windows.sliding_window_view
    ops.getitem = indexing.take_index
    ops.at = indexing.at
    ops.astype = shaping.astype
    _box.numpy_dispatch[_np.true_divide] = elementwise.true_divide
    _box.numpy_dispatch[_np.linalg.matmul if hasattr(_np.linalg, "matmul") else _np.matmul] = (
        contractions.matmul
    )


_register()

__all__ = sorted(
    {name for m in _MODULES for name in m.__all__}
    | {"at", "fft", "index_add", "index_update", "linalg", "random"}
)
