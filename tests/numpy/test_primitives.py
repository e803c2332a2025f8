"""Every primitive of wengert.numpy through the one generic checker, both modes, order 2.

Each row names the primitive it covers, a function that calls it, and argument
generators with a valid domain. A coverage test fails if a primitive of the namespace
is in no row.
"""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core import define as _define
from wengert._core import vspace
from wengert._core.primitive import Primitive
from wengert.numpy import contractions, elementwise, indexing, reductions, shaping

R = onp.random.default_rng(1)


def real(*shape, lo=-2.0, hi=2.0):
    """A generator of uniform values on (lo, hi) of the given shape (a float for ())."""

    def make():
        x = R.uniform(lo, hi, size=shape)
        return float(x) if shape == () else x

    return make


def zero_d(lo=-2.0, hi=2.0):
    return lambda: onp.array(R.uniform(lo, hi))


def away(gen, gap=0.3):
    """Values of `gen` kept at least `gap` away from zero (for kinks at 0)."""

    def make():
        x = gen()
        return (
            onp.where(onp.abs(x) < gap, onp.sign(x) * gap + x, x) + 0.0
            if onp.ndim(x)
            else (x if abs(x) > gap else x + gap * (1 if x >= 0 else -1))
        )

    return make


def distinct(*shape):
    """Values with no ties (for max/min)."""

    def make():
        n = int(onp.prod(shape)) if shape else 1
        x = R.permutation(n).astype(float) + R.uniform(0.1, 0.4, n)
        return float(x[0]) if shape == () else x.reshape(shape)

    return make


SCALARISH = [((),), ("0d",), ((3,),), ((2, 3),)]


def shapes_unary(lo=-2.0, hi=2.0):
    return [
        (real(lo=lo, hi=hi),),
        (zero_d(lo, hi),),
        (real(3, lo=lo, hi=hi),),
        (real(2, 3, lo=lo, hi=hi),),
    ]


def shapes_binary(lo=-2.0, hi=2.0):
    pairs = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2)), ((4,), ())]
    return [(real(*a, lo=lo, hi=hi), real(*b, lo=lo, hi=hi)) for a, b in pairs]


# (primitive name, function, list of argument-generator tuples)
CASES: list[tuple[str, object, list]] = []


def case(name, fun, arg_sets):
    CASES.extend((name, fun, args) for args in arg_sets)


# --- elementwise ---------------------------------------------------------------------
for name, fun, lo, hi in [
    ("exp", wnp.exp, -2, 2),
    ("exp2", wnp.exp2, -2, 2),
    ("expm1", wnp.expm1, -2, 2),
    ("log", wnp.log, 0.2, 3),
    ("log2", wnp.log2, 0.2, 3),
    ("log10", wnp.log10, 0.2, 3),
    ("log1p", wnp.log1p, -0.5, 3),
    ("sqrt", wnp.sqrt, 0.2, 3),
    ("cbrt", wnp.cbrt, 0.2, 3),
    ("square", wnp.square, -2, 2),
    ("reciprocal", wnp.reciprocal, 0.3, 2),
    ("sin", wnp.sin, -3, 3),
    ("cos", wnp.cos, -3, 3),
    ("tan", wnp.tan, -1.2, 1.2),
    ("arcsin", wnp.arcsin, -0.9, 0.9),
    ("arccos", wnp.arccos, -0.9, 0.9),
    ("arctan", wnp.arctan, -3, 3),
    ("sinh", wnp.sinh, -2, 2),
    ("cosh", wnp.cosh, -2, 2),
    ("tanh", wnp.tanh, -2, 2),
    ("arcsinh", wnp.arcsinh, -3, 3),
    ("arccosh", wnp.arccosh, 1.2, 3),
    ("arctanh", wnp.arctanh, -0.9, 0.9),
    ("negative", wnp.negative, -2, 2),
    ("positive", wnp.positive, -2, 2),
    ("deg2rad", wnp.deg2rad, -90, 90),
    ("rad2deg", wnp.rad2deg, -2, 2),
]:
    case(name, fun, shapes_unary(lo, hi))

case("absolute", wnp.absolute, [(away(real(4)),), (away(real()),)])
case("absolute", lambda x: abs(x), [(away(real(2, 3)),)])
case("fabs", wnp.fabs, [(away(real(4)),)])

for name, fun, lo, hi in [
    ("add", wnp.add, -2, 2),
    ("add", lambda x, y: x + y, -2, 2),
    ("subtract", lambda x, y: x - y, -2, 2),
    ("multiply", lambda x, y: x * y, -2, 2),
    ("true_divide", lambda x, y: x / y, 0.5, 2),
    ("power", lambda x, y: x**y, 0.5, 2),
    ("float_power", wnp.float_power, 0.5, 2),
    ("logaddexp", wnp.logaddexp, -2, 2),
    ("logaddexp2", wnp.logaddexp2, -2, 2),
    ("arctan2", wnp.arctan2, 0.3, 2),
    ("hypot", wnp.hypot, 0.3, 2),
]:
    case(name, fun, shapes_binary(lo, hi))

case("power", lambda x: x**3, shapes_unary())
case("power", lambda x: 2.0**x, shapes_unary())
case("power", lambda x: x**0.5, shapes_unary(0.3, 2))
case("remainder", lambda x, y: x % y, [(real(4, lo=0.1, hi=0.9), real(lo=1.0, hi=1.0))])
case(
    "remainder",
    wnp.mod,
    [(lambda: onp.array([2.3, 5.7, -1.2]), lambda: onp.array([1.1, 2.0, 0.7]))],
)
case("fmod", wnp.fmod, [(lambda: onp.array([2.3, 5.7, -1.2]), lambda: onp.array([1.1, 2.0, 0.7]))])
case("maximum", wnp.maximum, [(distinct(5), lambda: R.permutation(5) + 0.5)])
case("maximum", wnp.maximum, [(distinct(2, 3), real(3, lo=-5, hi=5))])
case("minimum", wnp.minimum, [(distinct(5), lambda: R.permutation(5) + 0.5)])
case("fmax", wnp.fmax, [(distinct(4), lambda: R.permutation(4) + 0.5)])
case("fmin", wnp.fmin, [(distinct(4), lambda: R.permutation(4) + 0.5)])
case(
    "maximum", lambda x: wnp.clip(x, -0.5, 0.5), [(lambda: onp.array([-1.3, -0.2, 0.1, 0.4, 0.9]),)]
)
case("where", lambda x, y: wnp.where(x > 0, x, y), shapes_binary())
case("where", lambda x: wnp.where(onp.array([True, False, True]), x, 0.0), [(real(3),)])
case("real", lambda x: wnp.real(x) * 2.0, shapes_unary())
case("imag", lambda x: wnp.imag(x) + x, shapes_unary())
case("conjugate", wnp.conj, shapes_unary())

# --- reductions -------------------------------------------------------------------------
for name, fun in [("sum", wnp.sum), ("mean", wnp.mean), ("prod", wnp.prod)]:
    case(name, fun, [(real(4),), (real(2, 3),), (zero_d(),)])
    for axis in (0, 1, -1, (0, 1)):
        for keepdims in (False, True):
            case(
                name, lambda x, f=fun, a=axis, k=keepdims: f(x, axis=a, keepdims=k), [(real(2, 3),)]
            )
    case(name, lambda x, f=fun: f(x, axis=1), [(real(2, 3, 4),)])
case(
    "prod",
    lambda x: wnp.prod(x, axis=1),
    [(lambda: onp.array([[0.0, 1.5, 2.0], [0.5, 0.0, 0.0]]),)],
)
case("prod", wnp.prod, [(lambda: onp.array([0.0, 1.5, -2.0, 0.7]),)])
for name, fun in [("max", wnp.max), ("min", wnp.min)]:
    case(name, fun, [(distinct(5),), (distinct(2, 3),)])
    for axis in (0, 1, (0, 1)):
        for keepdims in (False, True):
            case(
                name,
                lambda x, f=fun, a=axis, k=keepdims: f(x, axis=a, keepdims=k),
                [(distinct(2, 3),)],
            )
case("sum", lambda x: wnp.var(x, axis=0) + wnp.std(x), [(real(3, 2),)])
MASK = onp.array([[True, False, True], [False, True, True]])
for name, fun, initial in [
    ("sum", wnp.sum, 0.5),
    ("prod", wnp.prod, 0.5),
    ("mean", wnp.mean, None),
]:
    extra = {} if initial is None else {"initial": initial}
    case(name, lambda x, f=fun, e=extra: f(x, axis=1, where=MASK, **e), [(real(2, 3),)])
for name, fun, initial in [
    ("max", wnp.max, -10.0),
    ("min", wnp.min, 10.0),
    ("nanmax", wnp.nanmax, -10.0),
    ("nanmin", wnp.nanmin, 10.0),
]:
    case(name, lambda x, f=fun, i=initial: f(x, axis=0, where=MASK, initial=i), [(distinct(2, 3),)])
    case(name, lambda x, f=fun: f(x, initial=0.0), [(distinct(2, 3),)])
case("nanmax", lambda x: wnp.nanmax(x, axis=1), [(lambda: onp.array([[0.5, onp.nan, 2.0]]),)])
case("nanmin", lambda x: wnp.nanmin(x, axis=1), [(lambda: onp.array([[0.5, onp.nan, 2.0]]),)])

# --- shapes -----------------------------------------------------------------------------
case("reshape", lambda x: wnp.reshape(x, (3, 2)), [(real(2, 3),), (real(6),)])
case("reshape", lambda x: x.reshape(-1), [(real(2, 3),)])
case("ravel", wnp.ravel, [(real(2, 3),)])
case("transpose", wnp.transpose, [(real(2, 3),), (real(2, 3, 4),)])
case("transpose", lambda x: wnp.transpose(x, (1, 2, 0)), [(real(2, 3, 4),)])
case("transpose", lambda x: x.T, [(real(2, 3),)])
case("moveaxis", lambda x: wnp.moveaxis(x, 0, -1), [(real(2, 3, 4),)])
case("swapaxes", lambda x: wnp.swapaxes(x, 0, 2), [(real(2, 3, 4),)])
case("expand_dims", lambda x: wnp.expand_dims(x, 1), [(real(2, 3),), (real(3),)])
case("squeeze", wnp.squeeze, [(real(2, 1, 3),)])
case("squeeze", lambda x: wnp.squeeze(x, axis=1), [(real(2, 1, 3),)])
case("broadcast_to", lambda x: wnp.broadcast_to(x, (2, 3)), [(real(3),), (real(),), (real(2, 1),)])
case("sum_to_shape", lambda x: vspace.sum_to_shape(x, (3,)), [(real(2, 3),)])
case(
    "concatenate",
    lambda x, y: wnp.concatenate([x, y]),
    [(real(3), real(2)), (real(2, 3), real(1, 3))],
)
case("concatenate", lambda x, y: wnp.concatenate([x, y, x], axis=1), [(real(2, 3), real(2, 1))])
case("concatenate", lambda x, y: wnp.concatenate([x, y], axis=None), [(real(2, 2), real(3))])
case("stack", lambda x, y: wnp.stack([x, y]), [(real(3), real(3)), (real(), real())])
case("stack", lambda x, y: wnp.stack([x, y, x], axis=-1), [(real(2, 3), real(2, 3))])
case("stack", lambda x, y: wnp.array([[x, 1.0], [y, x * y]]), [(real(), real())])
case("stack", lambda x, y: wnp.hstack([x, y]) + wnp.vstack([x, y]).sum(), [(real(3), real(3))])
case("astype", lambda x: wnp.astype(x, onp.float32) * 1.0, [(real(3),)])
for name, fun in [
    ("atleast_1d", wnp.atleast_1d),
    ("atleast_2d", wnp.atleast_2d),
    ("atleast_3d", wnp.atleast_3d),
    ("asarray", wnp.asarray),
    ("copy", wnp.copy),
]:
    case(name, lambda x, f=fun: f(x) * wnp.sum(x), [(real(2),), (real(),)])
case("full", lambda v: wnp.full((2, 3), v) * onp.arange(6.0).reshape(2, 3), [(real(),)])
case("full_like", lambda v: wnp.full_like(onp.ones(3), v) ** 2, [(real(),)])

# --- indexing ---------------------------------------------------------------------------
for index in [
    0,
    -1,
    slice(1, None),
    (Ellipsis, 0),
    (None, slice(None)),
    (1, slice(0, 2)),
    onp.array([0, 2, 2]),
    onp.array([True, False, True]),
    (onp.array([0, 1, 1]), onp.array([2, 0, 2])),
]:
    case(
        "getitem",
        lambda x, i=index: x[i] * 1.0,
        [(real(3, 3),)]
        if not (isinstance(index, onp.ndarray) and index.dtype == bool)
        else [(real(3),)],
    )
case("getitem", lambda x: sum(x[i] * x[i] for i in range(len(x))), [(real(3),)])
case("getitem", lambda x: wnp.sum(wnp.array(list(x))), [(real(3),)])
case("scatter_add", lambda g: indexing._scatter(g, onp.array([0, 2, 0]), (4,)), [(real(3),)])
case("index_update", lambda x, y: wnp.index_update(x, 1, y), [(real(3), real())])
case("index_update", lambda x, y: wnp.index_update(x, (slice(None), 0), y), [(real(2, 3), real(2))])
case("index_add", lambda x, y: wnp.index_add(x, onp.array([0, 0, 2]), y), [(real(3), real(3))])
# The forms that take index arrays as arguments (a batch of indices under vmap).
SLOT = indexing._SLOT
case(
    "getitem_at",
    lambda x: indexing.getitem_at(x, onp.array([0, 2, 2]), template=(slice(None), SLOT)),
    [(real(3, 3),)],
)
case(
    "scatter_add_at",
    lambda g: indexing.scatter_at(g, onp.array([0, 2, 0]), template=(SLOT,), shape=(4,)),
    [(real(3),)],
)
for add in (True, False):
    case(
        "index_write_at",
        lambda x, y, a=add: indexing.write_at(
            x, y, onp.array([2, 0]), template=(SLOT, Ellipsis), add=a
        ),
        [(real(3, 2), real(2))],
    )

# --- contractions ------------------------------------------------------------------------
mm_shapes = [
    ((2, 3), (3, 4)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((3,), (3,)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 2)),
]
case("matmul", lambda a, b: a @ b, [(real(*a), real(*b)) for a, b in mm_shapes])
case("matmul", wnp.dot, [(real(2, 3), real(3)), (real(3), real(3))])
case("multiply", wnp.dot, [(real(), real(3))])
# The forward rules of functions with singular derivatives scale tangents with it.
case("zero_safe_multiply", _define.zero_safe_multiply, shapes_binary())
case("tensordot", wnp.dot, [(real(2, 3, 4), real(5, 4, 2))])
case("tensordot", lambda a, b: wnp.tensordot(a, b, 1), [(real(2, 3), real(3, 4))])
case(
    "tensordot",
    lambda a, b: wnp.tensordot(a, b, ([0, 2], [2, 0])),
    [(real(2, 3, 4), real(4, 5, 2))],
)
case("tensordot", lambda a, b: wnp.tensordot(a, b, 0), [(real(2), real(3))])
case("tensordot", wnp.inner, [(real(2, 3), real(4, 3))])
case("multiply", wnp.outer, [(real(3), real(2, 2))])
case("matmul", wnp.vdot, [(real(2, 2), real(4))])
for spec, shapes in [
    ("ij,jk->ik", ((2, 3), (3, 4))),
    ("ij,ij->", ((2, 3), (2, 3))),
    ("i,j->ij", ((2,), (3,))),
    ("ij->j", ((2, 3),)),
    ("ii->", ((3, 3),)),
    ("ii->i", ((3, 3),)),
    ("ij,jk,kl->il", ((2, 3), (3, 2), (2, 2))),
    ("...ij,...jk->...ik", ((4, 2, 3), (4, 3, 2))),
    ("ij,jk", ((2, 3), (3, 2))),
    ("bij,j->bi", ((2, 3, 4), (4,))),
]:
    case("einsum", lambda *ops, s=spec: wnp.einsum(s, *ops), [tuple(real(*s) for s in shapes)])


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_primitive_rules(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


def _namespace_primitives() -> dict[str, Primitive]:
    found = {}
    for module in (elementwise, reductions, shaping, indexing, contractions, vspace):
        for value in vars(module).values():
            if isinstance(value, Primitive) and not getattr(value, "nondifferentiable", False):
                found[value.name] = value
    return found


def test_every_primitive_is_in_the_table():
    covered = {name for name, _, _ in CASES}
    missing = sorted(set(_namespace_primitives()) - covered)
    assert not missing, f"primitives with no row in the table: {missing}"


def test_every_primitive_has_both_rules():
    for name, prim in _namespace_primitives().items():
        assert prim.vjp_rules or prim.vjp_all, f"{name} has no reverse rule"
        assert prim.jvp_rules or prim.jvp_all, f"{name} has no forward rule"


def test_nondifferentiable_functions_are_constants():
    x = onp.array([0.3, -1.7, 2.5])
    for fun in (wnp.sign, wnp.floor, wnp.ceil, wnp.round, wnp.trunc, wnp.rint):
        assert getattr(fun, "nondifferentiable", False)
        g = wg.grad(lambda x, f=fun: wnp.sum(f(x) * x))(x)
        onp.testing.assert_allclose(g, fun(x))
    g = wg.grad(lambda x: wnp.sum(x * wnp.argmax(x)))(onp.array([1.0, 3.0]))
    onp.testing.assert_array_equal(g, [1.0, 1.0])


def test_array_building_helpers():
    x = onp.array([0.5, -1.5])
    for fun in (wnp.atleast_1d, wnp.atleast_2d, wnp.atleast_3d, wnp.asarray, wnp.copy):
        wg.check_grads(lambda x, f=fun: f(x) * x.sum(), order=2)(x)
        wg.check_grads(lambda s, f=fun: f(s) * 2.0, order=2)(0.7)
    assert wnp.atleast_3d(onp.ones(2)).shape == (1, 2, 1)
    wg.check_grads(lambda v: wnp.full((2, 3), v) * onp.arange(6.0).reshape(2, 3), order=2)(0.3)
    wg.check_grads(lambda v: wnp.full_like(onp.ones(3), v) ** 2, order=2)(0.3)
    assert wnp.full(2, 1.5).tolist() == [1.5, 1.5]
