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
    contractions,
    cumulative,
    elementwise,
    fft,
    indexing,
    linalg,
    manipulation,
    nondiff,
    padding,
    random,  # noqa: F401
    reductions,
    selection,
    shaping,
    signal,
    sorting,
    statistics,
)
from .contractions import *  # noqa: F403
from .cumulative import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .indexing import index_add, index_update  # noqa: F401
from .manipulation import *  # noqa: F403
from .nondiff import *  # noqa: F403
from .padding import *  # noqa: F403
from .reductions import *  # noqa: F403
from .selection import *  # noqa: F403
from .shaping import *  # noqa: F403
from .signal import *  # noqa: F403
from .sorting import *  # noqa: F403
from .statistics import *  # noqa: F403

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
    ops.getitem = indexing.take_index
    ops.astype = shaping.astype
    _box.numpy_dispatch[_np.true_divide] = elementwise.true_divide
    _box.numpy_dispatch[_np.linalg.matmul if hasattr(_np.linalg, "matmul") else _np.matmul] = (
        contractions.matmul
    )


_register()

__all__ = sorted(
    {name for m in _MODULES for name in m.__all__}
    | {"fft", "index_add", "index_update", "linalg", "random"}
)
