"""The complex-step derivative: exact to rounding for real-analytic functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .stencils import _check_step, _point_and_direction


def complex_step(fun: Callable, x: Any, v: Any, *, step: float = 1e-20) -> np.ndarray:
    """The directional derivative Im fun(x + i h v) / h of a real-analytic function.

    Since fun(x + i h v) = fun(x) + i h J v + O(h^2), the imaginary part gives J v with no
    subtraction of nearby values, so the step can be tiny and the result is exact to
    rounding. It needs real x and v and a fun that accepts complex input and is analytic in
    it: abs, comparisons, float() or real parts on the perturbed value give wrong results,
    and a real output (the perturbation dropped) raises TypeError.

    >>> complex_step(np.sin, 0.5, 1.0) == np.cos(0.5)
    True
    >>> complex_step(lambda x: x @ x, np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array(2.)
    """
    func = "complex_step"
    x, v = _point_and_direction(x, v, func)
    if np.iscomplexobj(x) or np.iscomplexobj(v):
        raise TypeError(
            f"{func}: x and v must be real (got dtypes {x.dtype} and {v.dtype}); for complex "
            "points use a finite-difference method such as richardson"
        )
    h = _check_step(step, func)
    z = x + (1j * h) * v
    out = np.asarray(fun(z[()] if z.ndim == 0 else z))
    if out.dtype.kind != "c":
        raise TypeError(
            f"{func}: the function returned a real value (dtype {out.dtype}) for a complex "
            "input, so it dropped the imaginary perturbation (abs, float(), .real or a "
            "comparison on its input); use a finite-difference method such as richardson"
        )
    return np.asarray(out.imag / h, dtype=np.result_type(out.real, np.float64))
