"""Numerical derivatives for users: of functions of one variable, gradients and Jacobians.

Inputs and outputs may be trees (tuples, lists, dicts, namedtuples, dataclasses) of
floating-point numbers and arrays, as `wengert.grad` takes them; results have the same
structure.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._core.tree import TreeDef, tree_flatten, tree_unflatten
from .complex_step import complex_step
from .richardson import richardson
from .stencils import directional_derivative

METHODS = ("central", "forward", "backward", "richardson", "complex")
ORDERS = (1, 2, 3, 4)

# The keyword options each method passes on to the function that computes it.
_OPTIONS = {
    "central": ("accuracy", "step"),
    "forward": ("accuracy", "step"),
    "backward": ("accuracy", "step"),
    "richardson": ("accuracy", "step", "kind", "levels", "ratio"),
    "complex": ("step",),
}


def _check_method(method: Any, n: Any, options: dict, func: str) -> int:
    if method not in METHODS:
        raise ValueError(f"{func}: method must be one of {METHODS}, got {method!r}")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{func}: n must be an integer, got {type(n).__name__} {n!r}") from None
    if n not in ORDERS:
        raise ValueError(f"{func}: n must be 1, 2, 3 or 4, got {n}")
    if method == "complex" and n != 1:
        raise ValueError(
            f"{func}: method='complex' gives first derivatives only (n=1), got n={n}; "
            "use 'richardson' or a stencil method for higher derivatives"
        )
    unknown = sorted(set(options) - set(_OPTIONS[method]))
    if unknown:
        raise TypeError(
            f"{func}: method={method!r} takes the options {_OPTIONS[method]}, got {unknown}"
        )
    return n


def _along(fun: Callable, x: Any, v: Any, method: str, n: int, options: dict) -> np.ndarray:
    if method == "richardson":
        return richardson(fun, x, v, deriv=n, **options)[0]
    if method == "complex":
        return complex_step(fun, x, v, **options)
    return directional_derivative(fun, x, v, kind=method, deriv=n, **options)


class _Inputs:
    """A tree of floating-point leaves as one flat vector, and back.

    The function sees each leaf in float64 (complex128 for complex leaves), with its shape;
    a scalar leaf as a NumPy scalar.
    """

    def __init__(self, x: Any, func: str):
        leaves, self.treedef = tree_flatten(x)
        self.shapes = [np.shape(leaf) for leaf in leaves]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.starts = np.cumsum([0, *self.sizes])
        arrays = [_floating(leaf, path, func) for leaf, path in zip(leaves, _paths(self.treedef))]
        dtype = np.result_type(np.float64, *arrays)
        self.point = np.concatenate([np.ravel(a).astype(dtype) for a in arrays] or [np.zeros(0)])

    def rebuild(self, z: np.ndarray) -> Any:
        leaves = []
        for shape, start, size in zip(self.shapes, self.starts, self.sizes):
            leaves.append(z[start] if shape == () else z[start : start + size].reshape(shape))
        return tree_unflatten(self.treedef, leaves)

    def split(self, flat: np.ndarray) -> Any:
        """Split the last axis of `flat` into a tree of arrays like the input."""
        lead = flat.shape[:-1]
        return tree_unflatten(
            self.treedef,
            [
                flat[..., start : start + size].reshape(lead + shape)
                for shape, start, size in zip(self.shapes, self.starts, self.sizes)
            ],
        )


def _floating(leaf: Any, path: str, func: str) -> np.ndarray:
    array = np.asarray(leaf)
    if array.dtype.kind in "fc":
        return array
    if array.dtype.kind in "biu":
        raise TypeError(
            f"{func}: the input {path} has dtype {array.dtype}: an integer or boolean has no "
            "derivative. Pass it as a float (3.0 or x.astype(float)), or close over it."
        )
    raise TypeError(
        f"{func}: the input {path} must be floating-point numbers, got "
        f"{type(leaf).__name__} of dtype {array.dtype}"
    )


def _paths(treedef: TreeDef, prefix: str = "x") -> list[str]:
    """A Python-like path for each leaf of a tree: x, x[0], x['w'], x.field."""
    out: list[str] = []
    _paths_into(treedef, prefix, out)
    return out


def _paths_into(node: TreeDef, prefix: str, out: list[str]) -> None:
    if node.kind == "leaf":
        out.append(prefix)
    elif node.kind == "dict":
        for key, child in zip(node.meta, node.children):
            _paths_into(child, f"{prefix}[{key!r}]", out)
    elif node.kind == "namedtuple":
        for key, child in zip(node.meta._fields, node.children):
            _paths_into(child, f"{prefix}.{key}", out)
    elif node.kind == "dataclass":
        for key, child in zip(node.meta[1], node.children):
            _paths_into(child, f"{prefix}.{key}", out)
    else:
        for i, child in enumerate(node.children):
            _paths_into(child, f"{prefix}[{i}]", out)


class _Outputs:
    """The output tree of a function, flattened to one vector; its structure kept for later."""

    def __init__(self, func: str):
        self.func = func
        self.treedef: TreeDef | None = None
        self.shapes: list[tuple[int, ...]] = []

    def flatten(self, out: Any) -> np.ndarray:
        leaves, treedef = tree_flatten(out)
        arrays = [np.asarray(leaf) for leaf in leaves]
        for a in arrays:
            if a.dtype.kind not in "biufc":
                raise TypeError(
                    f"{self.func}: the function must return numbers, got "
                    f"{type(a).__name__} of dtype {a.dtype}"
                )
        shapes = [a.shape for a in arrays]
        if self.treedef is None:
            self.treedef, self.shapes = treedef, shapes
        elif treedef != self.treedef or shapes != self.shapes:
            raise ValueError(
                f"{self.func}: the function returned {treedef} with leaf shapes {shapes} at one "
                f"point and {self.treedef} with {self.shapes} at another; its output structure "
                "must not depend on x"
            )
        if not arrays:
            return np.zeros(0)
        dtype = np.result_type(np.float64, *arrays)
        return np.concatenate([np.ravel(a).astype(dtype) for a in arrays])

    def split(self, flat: np.ndarray) -> Any:
        """Split the first axis of `flat` into a tree like the output."""
        sizes = [int(np.prod(s)) for s in self.shapes]
        starts = np.cumsum([0, *sizes])
        rest = flat.shape[1:]
        return tree_unflatten(
            self.treedef,
            [
                flat[start : start + size].reshape(shape + rest)
                for shape, start, size in zip(self.shapes, starts, sizes)
            ],
        )


def derivative(
    fun: Callable, x: Any, *, method: str = "richardson", n: int = 1, **options: Any
) -> Any:
    """The n-th derivative at a scalar `x` of a function of one variable, estimated numerically.

    It returns a value at `x`; `wengert.derivative(fun, order)` (automatic) returns a
    function instead, exact to rounding: ``wengert.derivative(fun)(x)``.

    `method` is "central", "forward" or "backward" (options `accuracy` and `step`; central
    stencils have accuracy 2, 4 or 6, one-sided ones 1 to 6, where accuracy 1 is the textbook
    (f(x + h) - f(x)) / h with step sqrt(eps) max(1, |x|)), "richardson" (options
    `accuracy`, `step`, `kind`, `levels`, `ratio`) or "complex" (option `step`, first
    derivatives only); n is 1 to 4. The result is shaped like fun's output: an array for an
    array output (a 0-d array for a scalar), a tree of arrays for a tree.

    >>> derivative(np.sin, 0.0)
    array(1.)
    >>> round(float(derivative(np.exp, 0.0, method="central", n=2, accuracy=4)), 6)
    1.0
    >>> d = derivative(lambda t: {"cube": t**3, "sin": np.sin(t)}, 1.0)
    >>> float(d["cube"].round(8)), float(d["sin"].round(8))
    (3.0, 0.54030231)
    """
    func = "derivative"
    n = _check_method(method, n, options, func)
    if tree_flatten(x)[1] != tree_flatten(0.0)[1] or np.ndim(x) != 0:
        raise ValueError(
            f"{func}: x must be a scalar, got {type(x).__name__} of shape {np.shape(x)}; use "
            "gradient, jacobian or directional_derivative for arrays and trees"
        )
    point = _floating(x, "x", func).astype(np.result_type(x, np.float64))
    outputs = _Outputs(func)
    flat = _along(lambda t: outputs.flatten(fun(t)), point, np.ones_like(point), method, n, options)
    return outputs.split(np.asarray(flat))


def _columns(fun: Callable, x: np.ndarray, method: str, options: dict) -> Iterator[np.ndarray]:
    for i in range(x.size):
        e = np.zeros(x.shape, dtype=np.float64)
        e.flat[i] = 1.0
        yield np.asarray(_along(fun, x, e, method, 1, options))


def jacobian(fun: Callable, x: Any, *, method: str = "richardson", **options: Any) -> Any:
    """The Jacobian of `fun` at `x`, one column at a time.

    Column i is the derivative along the i-th unit vector, by `method` and `options` as in
    `derivative` (steps are then in the units of x's entries). For an array x and an array
    output it has shape output shape + x's shape; with trees, as `wengert.jacobian` lays it
    out, it is a tree like the output whose leaves are trees like x, each block shaped
    output leaf's shape + input leaf's shape.

    >>> jacobian(lambda x: x**2, np.array([1.0, 2.0])).round(8)
    array([[2., 0.],
           [0., 4.]])
    >>> jac = jacobian(lambda p: p["a"] * p["b"], {"a": 2.0, "b": np.array([1.0, 3.0])})
    >>> jac["a"].round(8), jac["b"].round(8)
    (array([1., 3.]), array([[2., 0.],
           [0., 2.]]))
    """
    func = "jacobian"
    _check_method(method, 1, options, func)
    inputs = _Inputs(x, func)
    outputs = _Outputs(func)

    def flat_fun(z):
        return outputs.flatten(fun(inputs.rebuild(z)))

    z = inputs.point
    if z.size == 0:
        out = flat_fun(z)
        matrix = np.zeros((out.size, 0), dtype=np.result_type(out, np.float64))
    else:
        matrix = np.stack(list(_columns(flat_fun, z, method, options)), axis=-1)
    rows = outputs.split(matrix)
    return tree_unflatten(outputs.treedef, [inputs.split(block) for block in tree_flatten(rows)[0]])


def gradient(fun: Callable, x: Any, *, method: str = "richardson", **options: Any) -> Any:
    """The gradient of a scalar function `fun` at `x`, shaped like `x`.

    Entry i is the derivative along the i-th unit vector, by `method` and `options` as in
    `derivative`. `x` may be a tree of floating-point arrays, as `wengert.grad` takes it;
    the gradient is then a tree of the same structure. An output with one element counts
    as a scalar, as in `wengert.grad`; any other output raises ValueError (use `jacobian`).

    >>> gradient(lambda x: np.sum(x**2), np.array([1.0, -3.0])).round(8)
    array([ 2., -6.])
    >>> g = gradient(lambda p: p["w"] @ p["w"] * p["b"], {"w": np.array([1.0, 2.0]), "b": 3.0})
    >>> g["w"].round(8), round(float(g["b"]), 8)
    (array([ 6., 12.]), 5.0)
    """
    func = "gradient"
    _check_method(method, 1, options, func)
    inputs = _Inputs(x, func)

    def scalar_fun(z):
        out = fun(inputs.rebuild(z))
        leaves, treedef = tree_flatten(out)
        if len(leaves) != 1 or treedef != tree_flatten(0.0)[1] or np.size(out) != 1:
            shape = np.shape(out) if len(leaves) == 1 else f"a {type(out).__name__}"
            raise ValueError(
                f"{func}: fun must return a scalar, but its output has shape {shape}; "
                "use jacobian for non-scalar outputs"
            )
        return out if np.shape(out) == () else np.reshape(out, ())

    z = inputs.point
    if z.size == 0:
        out = np.asarray(scalar_fun(z))
        return inputs.split(np.zeros(0, dtype=np.result_type(out, np.float64)))
    return inputs.split(np.stack(list(_columns(scalar_fun, z, method, options))))
