"""HIPS autograd's API on wengert: change the import and the program runs.

``import autograd.numpy as np; from autograd import grad`` becomes
``import wengert.autograd.numpy as np; from wengert.autograd import grad``. Every name
maps onto wengert's own machinery (one engine), keeping autograd's signatures
(``argnum``), layouts and errors; see docs/porting.md for what differs.

>>> import wengert.autograd.numpy as np
>>> from wengert.autograd import grad
>>> float(grad(lambda x: np.tanh(x))(1.0))
0.41997434161402614
"""

from __future__ import annotations

from . import differential_operators as _operators
from .builtins import dict, isinstance, list, tuple, type  # noqa: F401
from .differential_operators import *  # noqa: F403
from .extend import primitive  # noqa: F401

__all__ = sorted([*_operators.__all__, "dict", "isinstance", "list", "primitive", "tuple", "type"])
