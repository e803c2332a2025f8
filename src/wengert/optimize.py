"""SciPy's optimisers with exact derivatives from wengert.

`minimize` and `least_squares` are thin layers over `scipy.optimize`: they pass the
gradient, Hessian or Hessian-vector product (whichever the method uses) or the residuals'
Jacobian (sparse when its pattern is), computed by automatic differentiation instead of
finite differences, and accept a tree of arrays (a dict of parameters, say) as the
starting point, flattening it for SciPy and restoring the tree in the result's ``x``.
SciPy is needed: ``pip install 'wengert[scipy]'``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import numpy as wnp
from ._core.box import getval, peek
from ._core.tree import tree_flatten, tree_unflatten
from .api import grad, value_and_grad
from .jacobians import hessian, jacobian, linearize, ravel_tree

__all__ = ["least_squares", "minimize"]

# Methods of scipy.optimize.minimize by the derivatives they use (lower-case names).
USES_GRADIENT = {
    "cg",
    "bfgs",
    "l-bfgs-b",
    "tnc",
    "slsqp",
    "newton-cg",
    "trust-ncg",
    "trust-krylov",
    "trust-exact",
    "dogleg",
    "trust-constr",
}
USES_HESSP = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
USES_HESSIAN = {"dogleg", "trust-exact"}

# Least-squares Jacobians at most this dense (and this large) are passed as sparse.
SPARSE_DENSITY = 0.1
SPARSE_MIN_ENTRIES = 10_000


def _scipy_optimize():
    try:
        import scipy.optimize as so
    except ImportError as err:  # pragma: no cover - exercised only without SciPy
        raise ImportError(
            "wengert.optimize needs SciPy; install it with pip install 'wengert[scipy]'."
        ) from err
    return so


def _flatten(x0: Any, name: str) -> tuple[np.ndarray, Callable]:
    """The starting point as a float vector for SciPy, and the tree it came from."""
    leaves = tree_flatten(x0)[0]
    for i, leaf in enumerate(leaves):
        if np.iscomplexobj(peek(leaf)):
            raise TypeError(
                f"{name}: x0 leaf {i} is complex; SciPy's optimisers take real "
                "parameters, so pass the real and imaginary parts as separate leaves."
            )
    floats = [np.asarray(getval(leaf), dtype=float) for leaf in leaves]
    tree = tree_unflatten(tree_flatten(x0)[1], floats)
    flat, unravel = ravel_tree(tree)
    return np.array(flat, dtype=float), unravel


def _method_name(method: Any, kwargs: dict) -> Any:
    """The method SciPy will use, lower-case (its default depends on the constraints)."""
    if method is None:
        if kwargs.get("constraints"):
            return "slsqp"
        if kwargs.get("bounds") is not None:
            return "l-bfgs-b"
        return "bfgs"
    return method.lower() if isinstance(method, str) else method


def _computed(*values: Any) -> tuple:
    """The values, untraced, with lazy (Dask) ones computed together in one pass, so that
    a value and its gradient share the work of reading the data they depend on."""
    values = tuple(getval(v) for v in values)
    if any(hasattr(v, "__dask_graph__") for v in values):
        import dask

        values = dask.compute(*values)
    return values


def _as_float(value: Any, name: str) -> float:
    value = np.asarray(getval(value))
    if value.size != 1:
        raise ValueError(f"{name}: the objective must return a scalar, got shape {value.shape}.")
    return float(value.reshape(()))


def _wrap_constraints(constraints: Any, unravel: Callable) -> Any:
    """Constraints on the tree as constraints on SciPy's flat vector, with AD Jacobians."""
    so = _scipy_optimize()

    def on_flat(fun):
        def flat(v, *args):
            return wnp.reshape(fun(unravel(v), *args), (-1,))

        return flat

    def one(con):
        if isinstance(con, dict) and "fun" in con:
            con = dict(con)
            flat = on_flat(con["fun"])
            con["fun"] = lambda v, *args: np.asarray(flat(v, *args))
            if "jac" not in con:
                con["jac"] = jacobian(flat)
            return con
        if isinstance(con, so.NonlinearConstraint):
            flat = on_flat(con.fun)
            jac = jacobian(flat) if isinstance(con.jac, str) else con.jac
            return so.NonlinearConstraint(
                lambda v: np.asarray(flat(v)),
                con.lb,
                con.ub,
                jac=jac,
                hess=con.hess,
                keep_feasible=con.keep_feasible,
            )
        return con

    if isinstance(constraints, (dict, so.NonlinearConstraint, so.LinearConstraint)):
        return one(constraints)
    return [one(c) for c in constraints]


class _HessianProducts:
    """``hessp(x, p)``: the gradient is linearised once per point, then each product at
    that point only pushes `p` through the recorded forward rules (CG methods ask for
    many products at one point)."""

    def __init__(self, flat: Callable):
        self.flat = flat
        self.point: np.ndarray | None = None
        self.product: Callable | None = None

    def __call__(self, v, p, *args):
        if self.point is None or not np.array_equal(self.point, v):
            gradient = grad(lambda u: self.flat(u, *args))
            _, self.product = linearize(gradient, v)
            self.point = np.array(v, copy=True)
        return np.asarray(getval(self.product(np.asarray(p, dtype=float))), dtype=float)


def minimize(
    fun: Callable,
    x0: Any,
    args: tuple = (),
    method: str | Callable | None = None,
    jac: Any = None,
    hess: Any = None,
    hessp: Any = None,
    **kwargs: Any,
):
    """`scipy.optimize.minimize` with the derivatives its method uses, from wengert.

    `fun(x, *args)` returns a scalar; `x0` may be a tree of arrays (and `x` is passed to
    `fun` as such a tree). The gradient is passed to every method that uses one (as
    ``jac=True``: value and gradient come from one reverse pass), Hessian-vector products
    to Newton-CG, trust-ncg, trust-krylov and trust-constr, and the full Hessian to dogleg
    and trust-exact. A `jac`, `hess` or `hessp` given here (a callable, a finite-difference
    scheme, a quasi-Newton strategy) is passed instead; such callables, and `bounds`,
    refer to the flattened vector. Constraint dicts and `NonlinearConstraint`s written for
    the tree get AD Jacobians unless they have one. Other keyword arguments go to SciPy.
    Returns SciPy's `OptimizeResult` with ``x`` restored to the tree's structure (``jac``
    and the rest stay flat).

    >>> import numpy as np
    >>> import wengert.numpy as wnp
    >>> from wengert.optimize import minimize
    >>> res = minimize(lambda p: wnp.sum((p["a"] - 3.0) ** 2) + p["b"] ** 2,
    ...                {"a": np.zeros(2), "b": 1.0}, method="Newton-CG")
    >>> np.round(res.x["a"], 6), round(float(res.x["b"]), 6)
    (array([3., 3.]), 0.0)
    """
    so = _scipy_optimize()
    x, unravel = _flatten(x0, "minimize")
    name = _method_name(method, kwargs)

    def flat(v, *a):
        return fun(unravel(v), *a)

    if jac is None and name in USES_GRADIENT:
        gradient = value_and_grad(flat)

        def objective(v, *a):
            value, g = _computed(*gradient(v, *a))
            return _as_float(value, "minimize"), np.asarray(g, dtype=float)

        jac = True
    else:

        def objective(v, *a):
            return _as_float(flat(v, *a), "minimize")

    if hess is None and hessp is None:
        if name in USES_HESSIAN:

            def hess(v, *a):
                return np.asarray(hessian(lambda u: flat(u, *a))(v), dtype=float)

        elif name in USES_HESSP:
            hessp = _HessianProducts(flat)

    if kwargs.get("constraints"):
        kwargs["constraints"] = _wrap_constraints(kwargs["constraints"], unravel)
    options = {"args": args, "method": method, **kwargs}
    if name in USES_GRADIENT or callable(name):
        options["jac"] = jac
    if hess is not None:
        options["hess"] = hess
    if hessp is not None:
        options["hessp"] = hessp
    result = so.minimize(objective, x, **options)
    result.x = unravel(np.asarray(result.x, dtype=float))
    return result


def least_squares(
    fun: Callable,
    x0: Any,
    jac: Any = None,
    *,
    sparse: bool | None = None,
    args: tuple = (),
    kwargs: dict | None = None,
    **options: Any,
):
    """`scipy.optimize.least_squares` with the residuals' Jacobian from wengert.

    `fun(x, *args, **kwargs)` returns the residuals (any shape, or a tree: they are
    flattened); `x0` may be a tree of arrays. The Jacobian is computed by AD in the
    cheaper mode. It is passed as a `scipy.sparse` matrix, evaluated with one direction
    per colour (`wengert.sparse.sparse_jacobian`), when a pattern is given as
    ``jac_sparsity``, or when the pattern found from the traced graph at `x0` has at most
    10% nonzeros and at least 10,000 entries; ``sparse=True`` or ``False`` decides instead.
    The "lm" method takes dense Jacobians only. A `jac` given here is passed instead.
    Returns SciPy's `OptimizeResult` with ``x`` restored to the tree's structure.

    >>> import numpy as np
    >>> import wengert.numpy as wnp
    >>> from wengert.optimize import least_squares
    >>> t = np.linspace(0.0, 1.0, 20)
    >>> y = 2.0 * np.exp(-1.5 * t)
    >>> res = least_squares(lambda p: p["a"] * wnp.exp(-p["k"] * t) - y, {"a": 1.0, "k": 1.0})
    >>> round(float(res.x["a"]), 6), round(float(res.x["k"]), 6)
    (2.0, 1.5)
    """
    so = _scipy_optimize()
    x, unravel = _flatten(x0, "least_squares")
    kwargs = {} if kwargs is None else kwargs
    pattern = options.pop("jac_sparsity", None)

    def flat(v, *a, **kw):
        leaves = tree_flatten(fun(unravel(v), *a, **kw))[0]
        if len(leaves) == 1:
            return wnp.reshape(leaves[0], (-1,))
        return wnp.concatenate([wnp.reshape(leaf, (-1,)) for leaf in leaves])

    def residuals(v, *a, **kw):
        return np.asarray(getval(flat(v, *a, **kw)), dtype=float)

    if jac is None:
        if options.get("method", "trf") == "lm":
            sparse = False
        elif sparse is None and pattern is not None:
            sparse = True
        if sparse is None or (sparse and pattern is None):
            from .sparse import jacobian_sparsity

            if pattern is None:
                pattern = jacobian_sparsity(flat, x, *args, **kwargs)
            if sparse is None:
                rows, cols = pattern.shape
                sparse = (
                    rows * cols >= SPARSE_MIN_ENTRIES
                    and pattern.nnz <= SPARSE_DENSITY * rows * cols
                )
        if sparse:
            from .sparse import sparse_jacobian

            jac = sparse_jacobian(flat, sparsity=pattern)
        else:
            dense = jacobian(flat)

            def jac(v, *a, **kw):
                return np.asarray(getval(dense(v, *a, **kw)), dtype=float).reshape(-1, v.size)

    result = so.least_squares(residuals, x, jac=jac, args=args, kwargs=kwargs, **options)
    result.x = unravel(np.asarray(result.x, dtype=float))
    return result
