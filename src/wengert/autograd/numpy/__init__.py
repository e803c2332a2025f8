"""autograd's `numpy` namespace: `wengert.numpy` under autograd's name, with its
submodules (`linalg`, `fft`, `random`) and the box type autograd code tests for."""

from __future__ import annotations

from ...numpy import *  # noqa: F403
from .._mirror import mirror
from ..extend import Box, notrace_primitive, primitive  # noqa: F401
from . import fft, linalg, numpy_boxes, random  # noqa: F401

mirror(__name__, "wengert.numpy", "numpy")
