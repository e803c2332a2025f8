"""The transformations users call: vjp, jvp, grad and friends."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._core.box import peek
from ._core.define import stop_gradient as _stop_gradient
from ._core.forward import ForwardTrace
from ._core.reverse import backward
from ._core.tree import tree_flatten, tree_map, tree_unflatten
from ._core.vspace import chunked_like, is_complex, ones_like, shape_of, zeros_like
from ._validate import Stamps, check_derivative
from .argnums import argnums_partial
from .errors import NonScalarOutputError
from .tracing import Recording, check_inexact, record, run, strip

__all__ = ["elementwise_grad", "grad", "jvp", "stop_gradient", "value_and_grad", "vjp"]


def _in_dtype_of(derivative: Any, primal: Any) -> Any:
    """A caller's plain tangent or cotangent in its primal's floating dtype, so that
    float32 values keep float32 derivatives whatever precision the caller wrote."""
    dtype = getattr(primal, "dtype", None)
    if (
        type(derivative) is np.ndarray
        and dtype is not None
        and derivative.dtype != dtype
        and dtype.kind in "fc"
        and derivative.dtype.kind in "iufc"
    ):
        return derivative.astype(dtype)
    return derivative


class Pullback:
    """The reverse-mode derivative of a function at a point: cotangent in, cotangents out.

    It holds the recorded graph, which is freed when the pullback is.
    """

    __slots__ = (
        "_in_def",
        "_in_nodes",
        "_in_values",
        "_out_boxes",
        "_out_def",
        "_out_values",
        "_stamps",
    )

    def __init__(self, recording: Recording):
        self._in_nodes = recording.in_nodes
        self._in_values = recording.in_values
        self._in_def = recording.in_def
        self._out_boxes = recording.out_boxes
        self._out_values = recording.out_values
        self._out_def = recording.out_def
        self._stamps: Stamps | None = None

    def stamp(self, aux: Any = None) -> None:
        """Fingerprint the inputs, outputs and `aux` arrays, so that a later write into
        one of them is detected when the pullback runs, instead of giving a derivative of
        values that no longer exist."""
        named = [(f"input leaf {i}", v) for i, v in enumerate(self._in_values)]
        named += [(f"output leaf {i}", v) for i, v in enumerate(self._out_values)]
        named += [(f"aux leaf {i}", v) for i, v in enumerate(tree_flatten(aux)[0])]
        self._stamps = Stamps(named)

    def __call__(self, cotangent: Any) -> tuple:
        return self.pull(cotangent)

    def pull(self, cotangent: Any, release: bool = False) -> tuple:
        """The cotangents of the inputs; with `release`, the graph is freed on the way
        and the pullback cannot be used again."""
        if self._in_nodes is None:
            raise RuntimeError("this pullback released its graph and cannot be used again")
        if self._stamps is not None:
            self._stamps.check("vjp's pullback")
        leaves, treedef = tree_flatten(cotangent)
        if treedef != self._out_def:
            raise ValueError(
                f"vjp: the cotangent has structure {treedef}, but the function's output has "
                f"structure {self._out_def}; pass one cotangent per output leaf."
            )
        outputs = []
        for i, (g, box, value) in enumerate(zip(leaves, self._out_boxes, self._out_values)):
            check_derivative(g, value, f"cotangent (leaf {i})", "vjp's pullback", "was given")
            if box is not None:
                outputs.append((box.node, _in_dtype_of(g, value)))
        in_nodes = self._in_nodes
        if release:
            self._in_nodes = self._out_boxes = None
        grads = backward(outputs, in_nodes, release=release) if outputs else [None] * len(in_nodes)
        grads = [
            zeros_like(x) if g is None else g if type(x) is np.ndarray else chunked_like(g, x)
            for g, x in zip(grads, self._in_values)
        ]  # (a Dask input's gradient in its chunks, whatever the rules' chunks summed to)
        return tree_unflatten(self._in_def, grads)


def vjp(fun: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Evaluate `fun` at `primals` and return its output and its pullback (reverse mode).

    The pullback maps a cotangent shaped like the output to a tuple with one cotangent per
    primal, each shaped like that primal. It may be called any number of times; writing
    into an input, output or aux array before calling it raises `ModifiedInputError`.

    >>> import wengert as wg
    >>> out, pullback = wg.vjp(lambda x, y: x * y, 2.0, 3.0)
    >>> out, pullback(1.0)
    (6.0, (3.0, 2.0))
    """
    result = _vjp(fun, primals, has_aux)
    result[1].stamp(result[2] if has_aux else None)
    return result


def _vjp(fun: Callable, primals: tuple, has_aux: bool, name: str = "vjp") -> tuple:
    """`vjp` for callers that use the pullback at once (nothing can change in between)."""
    recording = record(fun, primals, has_aux, name)
    pullback = Pullback(recording)
    if has_aux:
        return recording.output, pullback, recording.aux
    return recording.output, pullback


def jvp(fun: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False) -> tuple:
    """Evaluate `fun` at `primals` and its derivative along `tangents` (forward mode).

    `primals` and `tangents` are sequences with one entry per argument of `fun`, of the
    same structure and shapes. Returns ``(output, output_tangent)``.

    >>> import wengert as wg
    >>> wg.jvp(lambda x: x ** 3, (2.0,), (1.0,))
    (8.0, 12.0)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "jvp takes primals and tangents as tuples with one entry per argument, "
            f"e.g. jvp(f, (x,), (v,)); got {type(primals).__name__} and "
            f"{type(tangents).__name__}."
        )
    p_leaves, p_def = tree_flatten(tuple(primals))
    t_leaves, t_def = tree_flatten(tuple(tangents))
    if p_def != t_def:
        raise ValueError(f"jvp: primals have structure {p_def} but tangents have {t_def}.")
    check_inexact(p_leaves, "jvp")
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        check_derivative(t, p, f"tangent (leaf {i})", "jvp", "was given")
        if is_complex(t) and not is_complex(p):
            raise TypeError(
                f"jvp: tangent leaf {i} is complex but its primal is real; a real input "
                "moves along real directions. Pass the real part, or make the primal complex."
            )
    t_leaves = [_in_dtype_of(t, p) for t, p in zip(t_leaves, p_leaves)]
    trace = ForwardTrace()
    boxes = [trace.new_input(p, t) for p, t in zip(p_leaves, t_leaves)]
    out_values, out_boxes, out_def, aux = run(trace, fun, p_def, boxes, has_aux, "jvp")
    out_tangents = [
        zeros_like(v) if b is None else b.tangent for v, b in zip(out_values, out_boxes)
    ]
    result = tree_unflatten(out_def, out_values), tree_unflatten(out_def, out_tangents)
    return (*result, strip(aux, trace)) if has_aux else result


def value_and_grad(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """A function returning both ``fun(*args)`` and its gradient (reverse mode).

    With ``has_aux=True`` `fun` returns ``(value, aux)`` and so does the value part.
    Complex inputs: for a holomorphic `fun` (``holomorphic=True``, complex output) the
    gradient is the complex derivative f'(z). For a real-valued `fun` of complex inputs
    it is df/dx - i df/dy = 2 df/dz (z = x + iy), the conjugate of the steepest-ascent
    direction, as in JAX: descend with ``z - step * conj(gradient)``.

    >>> import wengert as wg
    >>> wg.value_and_grad(lambda x: x ** 2)(3.0)
    (9.0, 6.0)
    """

    def value_and_grad_fun(*args, **kwargs):
        diff_args, partial, expand = argnums_partial(fun, args, kwargs, argnums, "grad")
        result = _vjp(partial, diff_args, has_aux, "grad")
        out, pullback = result[0], result[1]
        _check_scalar(out, holomorphic)
        grads = pullback.pull(ones_like(out), release=True)
        return ((out, result[2]) if has_aux else out), expand(grads)

    value_and_grad_fun.__name__ = f"value_and_grad_{getattr(fun, '__name__', 'fun')}"
    value_and_grad_fun.__doc__ = f"Value and gradient of {getattr(fun, '__name__', 'fun')}."
    return value_and_grad_fun


def _check_scalar(out: Any, holomorphic: bool) -> None:
    if isinstance(out, (tuple, list, dict)):
        raise NonScalarOutputError(
            f"grad needs the function to return one scalar, but it returned a "
            f"{type(out).__name__}; use has_aux=True to return extra values, or jacobian."
        )
    value = peek(out)
    if not isinstance(value, (int, float, complex, np.number, np.ndarray)) or isinstance(
        value, (bool, np.bool_)
    ):
        dtype = getattr(value, "dtype", None)
        if dtype is None or dtype.kind not in "iufc":
            raise NonScalarOutputError(
                f"grad needs the function to return a real scalar (a float or a 0-d array), "
                f"but it returned {type(value).__name__} {value!r:.60}."
            )
    elif isinstance(value, np.ndarray) and value.dtype.kind not in "iufc":
        raise NonScalarOutputError(
            f"grad needs the function to return a real scalar, but it returned an array of "
            f"dtype {value.dtype}."
        )
    shape = shape_of(out)
    if shape != () and math.prod(shape) != 1:
        raise NonScalarOutputError(
            f"grad needs a scalar output, but the function returned shape {shape}. Reduce it "
            "to a scalar (e.g. sum), use wengert.elementwise_grad for elementwise functions, "
            "or wengert.vjp for a vector-Jacobian product."
        )
    if np.iscomplexobj(peek(out)) and not holomorphic:
        raise NonScalarOutputError(
            "grad needs a real scalar output, but the function returned a complex one; pass "
            "holomorphic=True if the function is holomorphic, or take its real part or abs."
        )


def grad(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The gradient of a scalar function `fun` with respect to argument(s) `argnums`.

    Reverse mode: one pass backward costs a small multiple of one evaluation. An output
    with one element of any shape, such as (1,) or (1, 1), counts as a scalar (as in HIPS
    autograd; JAX asks for shape ()).

    >>> import wengert as wg
    >>> wg.grad(lambda x: 1.0 / (x ** 2 + 1.0))(3.0)
    -0.06
    """
    value_and_grad_fun = value_and_grad(fun, argnums, has_aux, holomorphic)

    def grad_fun(*args, **kwargs):
        value, grads = value_and_grad_fun(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    grad_fun.__name__ = f"grad_{getattr(fun, '__name__', 'fun')}"
    grad_fun.__doc__ = f"Gradient of {getattr(fun, '__name__', 'fun')}."
    return grad_fun


def elementwise_grad(fun: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The derivative of an elementwise function at each point of its input.

    It is the gradient of ``sum(fun(x))``, which equals the elementwise derivative when
    each output depends only on the input at the same position.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.elementwise_grad(wnp.sin)(wnp.array([0.0, 1.0]))
    array([1.        , 0.54030231])
    """

    def elementwise_grad_fun(*args, **kwargs):
        diff_args, partial, expand = argnums_partial(fun, args, kwargs, argnums, "elementwise_grad")
        out, pullback = _vjp(partial, diff_args, False, "elementwise_grad")
        return expand(pullback(tree_map(ones_like, out)))

    elementwise_grad_fun.__name__ = f"elementwise_grad_{getattr(fun, '__name__', 'fun')}"
    return elementwise_grad_fun


def stop_gradient(x: Any) -> Any:
    """`x` as a constant: no derivative flows through it, in any mode or at any order.

    Under `vmap` it stays the batch it is (it is the identity to batching).

    >>> import wengert as wg
    >>> wg.grad(lambda x: x * wg.stop_gradient(x))(3.0)
    3.0
    """
    return tree_map(_stop_gradient, x)
