"""wengert.numpy's array manipulation family (manipulation, cumulative, sorting, selection,
padding): values against NumPy, derivatives through the checker in both modes to order 2,
and the conventions at ties and zeros."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert.errors import InPlaceWriteError
from wengert.numpy import cumulative, manipulation, padding, selection, sorting

R = onp.random.default_rng(7)
pytestmark = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")


def real(*shape):
    """A generator of standard normal values of the given shape (a float for ())."""

    def make():
        x = R.standard_normal(shape)
        return float(x) if shape == () else x

    return make


def distinct(*shape):
    """Values with no ties, in random order."""

    def make():
        n = int(onp.prod(shape))
        return (R.permutation(n) + R.uniform(0.1, 0.4, n)).reshape(shape)

    return make


def const(value):
    return lambda: onp.array(value, dtype=float)


# (name: the primitive or function covered, function, argument generators)
CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


# --- cumulative sums and products ------------------------------------------------------
for axis in (None, 0, 1, -1):
    case("cumsum", lambda x, a=axis: wnp.cumsum(x, axis=a), real(3, 4))
    case("cumprod", lambda x, a=axis: wnp.cumprod(x, axis=a), real(3, 4))
case("cumsum", wnp.cumsum, real(5))
case("cumsum", lambda x: wnp.cumsum(x, axis=1), real(2, 3, 2))
case("cumprod", wnp.cumprod, real(5))
case("cumprod", lambda x: wnp.cumprod(x, axis=2), real(2, 2, 3))
case("cumprod", wnp.cumprod, const([1.5, 0.0, 2.0, -0.7]))
case("cumprod", wnp.cumprod, const([1.5, 0.0, 2.0, 0.0, -1.2, 0.0, 0.7]))
case("cumprod", wnp.cumprod, const([0.0, 0.0, 0.0]))
case(
    "cumprod",
    lambda x: wnp.cumprod(x, axis=1),
    const([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [1.1, 1.2, 1.3]]),
)
case("cumprod", lambda x: wnp.cumprod(x * x), const([0.5, 0.0, 2.0]))
case("cumulative_sum", lambda x: wnp.cumulative_sum(x, axis=0, include_initial=True), real(3, 2))
case("cumulative_prod", lambda x: wnp.cumulative_prod(x, include_initial=True), real(4))
for n, axis in ((1, -1), (2, 0), (3, 1)):
    case("diff", lambda x, n=n, a=axis: wnp.diff(x, n=n, axis=a), real(4, 5))
case("diff", lambda x, p: wnp.diff(x, prepend=p, append=p), real(5), real())
case("diff", lambda x, p: wnp.diff(x, axis=0, prepend=p), real(3, 2), real(1, 2))
case("ediff1d", lambda x, b: wnp.ediff1d(x, to_begin=b, to_end=[1.0, 2.0]), real(2, 3), real())

# --- sorting and selection ---------------------------------------------------------------
for axis in (-1, 0, None):
    case("sort", lambda x, a=axis: wnp.sort(x, axis=a), distinct(3, 4))
case("sort", wnp.sort, distinct(6))
case("sort", lambda x: wnp.sort(x)[..., 1:] * wnp.sort(x)[..., :-1], distinct(2, 4))
for kth in (0, 2, (1, 3), -1):
    case("partition", lambda x, k=kth: wnp.partition(x, k), distinct(2, 5))
case("partition", lambda x: wnp.partition(x, 1, axis=0), distinct(4, 3))
case("partition", lambda x: wnp.partition(x, 4, axis=None), distinct(2, 3))
case("tie_average", lambda v: sorting._tie_average(v, onp.array([0, 0, 1, 2, 2, 2])), real(6))
case("take", lambda x: wnp.take(x, [0, 2, 2, -1]), real(2, 3))
case("take", lambda x: wnp.take(x, [[0, 1], [1, 1]], axis=1), real(2, 3))
case("take", lambda x: wnp.take(x, [5, -4], axis=0, mode="wrap"), real(3))
case("take", lambda x: wnp.take(x, [5, -4], axis=0, mode="clip"), real(3))
case("take", lambda x: wnp.take(x, 1, axis=-1), real(2, 3))
case("take_along_axis", lambda x: wnp.take_along_axis(x, onp.array([[2, 0, 0]]), 1), real(2, 3))
case("take_along_axis", lambda x: wnp.take_along_axis(x, onp.array([3, 0]), None), real(2, 3))
case("choose", lambda a, b: wnp.choose([[0, 1, 1], [1, 0, 0]], [a, b]), real(2, 3), real(3))
case("choose", lambda a: wnp.choose([2, 0, 4], [a, 1.0, a * a], mode="wrap"), real(3))
case("compress", lambda x: wnp.compress([True, False, True], x, axis=1), real(2, 3))
case("compress", lambda x: wnp.compress([False, True], x), real(2, 3))
case("extract", lambda x: wnp.extract(onp.array([[1, 0, 1], [0, 1, 1]]), x), real(2, 3))
case(
    "select",
    lambda x, d: wnp.select([x < -0.5, x > 0.5], [x * x, wnp.sin(x)], default=d),
    real(3, 4),
    real(4),
)
case("piecewise", lambda x: wnp.piecewise(x, [x < 0], [lambda t: t**3, lambda t: t * 2.0]), real(5))
case(
    "piecewise",
    lambda x: wnp.piecewise(x, [x < 0, x > 1], [lambda t: wnp.exp(t), 2.0, wnp.sin]),
    real(2, 3),
)

# --- padding -------------------------------------------------------------------------------
for mode, kw in [
    ("constant", {}),
    ("constant", {"constant_values": ((1.0, 2.0), (3.0, 4.0))}),
    ("edge", {}),
    ("wrap", {}),
    ("reflect", {}),
    ("symmetric", {}),
    ("reflect", {"reflect_type": "odd"}),
    ("symmetric", {"reflect_type": "odd"}),
    ("linear_ramp", {"end_values": (1.0, -2.0)}),
    ("maximum", {}),
    ("minimum", {"stat_length": 2}),
    ("mean", {"stat_length": ((1, 2), (3, 1))}),
    ("median", {}),
]:
    case("pad", lambda x, m=mode, k=kw: wnp.pad(x, ((2, 1), (5, 0)), mode=m, **k), distinct(3, 4))
# mode="empty" leaves the padding uninitialized: only the entries copied from x are defined.
case("pad", lambda x: wnp.pad(x, ((2, 1), (5, 0)), mode="empty")[2:-1, 5:], distinct(3, 4))
case("pad", lambda x: wnp.pad(x, 2, mode="reflect"), real(4))
case("pad", lambda x, c: wnp.pad(x, (1, 2), constant_values=c), real(2, 3), real())
case("pad", lambda x, c: wnp.pad(x, 1, constant_values=c), real(2, 3), real(2, 2))
case("pad", lambda x, e: wnp.pad(x, 2, mode="linear_ramp", end_values=e), real(3), real(2))

# --- rearranging -----------------------------------------------------------------------------
case("roll", lambda x: wnp.roll(x, 2), real(2, 3))
case("roll", lambda x: wnp.roll(x, (1, -5, 1), (0, 1, 0)), real(3, 4))
case("flip", wnp.flip, real(2, 3))
case("flip", lambda x: wnp.flip(x, (0, 2)), real(2, 3, 2))
case("fliplr", wnp.fliplr, real(2, 3))
case("flipud", wnp.flipud, real(3))
for k in (1, 2, 3, 4):
    case("rot90", lambda x, k=k: wnp.rot90(x, k), real(2, 3))
case("rot90", lambda x: wnp.rot90(x, -1, axes=(2, 0)), real(2, 3, 4))
case("rollaxis", lambda x: wnp.rollaxis(x, 2) * 1.0, real(2, 3, 4))
case("rollaxis", lambda x: wnp.rollaxis(x, 0, 3) * 1.0, real(2, 3, 4))
case("tile", lambda x: wnp.tile(x, 3), real(2))
case("tile", lambda x: wnp.tile(x, (2, 1, 2)), real(2, 3))
case("repeat", lambda x: wnp.repeat(x, 2), real(2, 3))
case("repeat", lambda x: wnp.repeat(x, [2, 0, 1], axis=1), real(2, 3))
case("resize", lambda x: wnp.resize(x, (3, 3)), real(2, 2))

# --- diagonals, triangles, products -----------------------------------------------------------
for offset in (0, 1, -2):
    case("diagonal", lambda x, k=offset: wnp.diagonal(x, k), real(3, 4))
    case("trace", lambda x, k=offset: wnp.trace(x, k), real(4, 3))
    case("diag", lambda x, k=offset: wnp.diag(x, k), real(3))
    case("diag", lambda x, k=offset: wnp.diag(x, k), real(3, 4))
    case("tril", lambda x, k=offset: wnp.tril(x, k), real(2, 3, 4))
    case("triu", lambda x, k=offset: wnp.triu(x, k), real(3, 4))
case("diagonal", lambda x: wnp.diagonal(x, 1, axis1=2, axis2=0), real(3, 2, 4))
case("diagflat", lambda x: wnp.diagflat(x, -1), real(2, 2))
case("kron", wnp.kron, real(2, 2), real(3, 1))
case("kron", wnp.kron, real(3), real(2, 2))
case("cross", wnp.cross, real(3), real(3))
case("cross", wnp.cross, real(4, 3), real(2, 1, 3))
case("cross", lambda a, b: wnp.cross(a, b, axisa=0, axisb=0, axisc=0), real(3, 2), real(3, 2))
case("cross", wnp.cross, real(4, 2), real(3))
case("cross", wnp.cross, real(3), real(2, 2))
case("cross", wnp.cross, real(2), real(2))

# --- splitting and building --------------------------------------------------------------
case("split", lambda x: wnp.split(x, 3)[1], real(6))
case("split", lambda x: wnp.concatenate(wnp.split(x, [1, 3], axis=1)[::2], axis=1), real(2, 5))
case(
    "split",
    lambda x: wnp.array_split(x, 3, axis=1)[0] * wnp.array_split(x, 3, axis=1)[2],
    real(2, 5),
)
case("split", lambda x: wnp.split(x, [3, 1])[2] * 1.0, real(5))
case("split", lambda x: wnp.hsplit(x, 2)[1] + wnp.vsplit(x, [1])[0].sum(), real(2, 4))
case("split", lambda x: wnp.dsplit(x, 2)[0], real(1, 2, 4))
case("split", lambda x: wnp.unstack(x, axis=1)[2], real(2, 3))
case("dstack", lambda a, b: wnp.dstack([a, b]), real(2, 3), real(2, 3))
case("dstack", lambda a, b: wnp.dstack([a, b]), real(3), real(3))
case("column_stack", lambda a, b: wnp.column_stack([a, b]), real(3), real(3, 2))
case("row_stack", lambda a, b: wnp.row_stack([a, b]), real(3), real(2, 3))
case("block", lambda a, b: wnp.block([[a, b], [b, a]]), real(2, 2), real(2, 2))
case("block", lambda a, b: wnp.block([a, b, 1.0]), real(3), real())
case("broadcast_arrays", lambda a, b: wnp.broadcast_arrays(a, b)[0] * 2.0, real(3), real(2, 1))
case("meshgrid", lambda a, b: wnp.meshgrid(a, b)[0] * wnp.meshgrid(a, b)[1], real(3), real(2))
case("meshgrid", lambda a, b, c: wnp.meshgrid(a, b, c, indexing="ij")[2], real(2), real(2), real(3))
case("meshgrid", lambda a, b: wnp.meshgrid(a, b, sparse=True)[1], real(3), real(2))
case("linspace", lambda a, b: wnp.linspace(a, b, 6), real(), real())
case("linspace", lambda a, b: wnp.linspace(a, b, 4, endpoint=False, axis=-1), real(2), real())
case("linspace", lambda a, b: wnp.linspace(a, b, 3, retstep=True)[1], real(), real(2, 1))
case("linspace", lambda b: wnp.linspace(0.0, b, 1), real())
case("logspace", lambda a, b: wnp.logspace(a, b, 4), real(), real())
case("logspace", lambda a, c: wnp.logspace(a, 1.0, 3, base=c), real(2), lambda: 2.0 + R.uniform())
case("append", wnp.append, real(2, 2), real(3))
case("append", lambda a, b: wnp.append(a, b, axis=1), real(2, 2), real(2, 1))
case("insert", lambda a, b: wnp.insert(a, 1, b), real(2, 2), real())
case("insert", lambda a, b: wnp.insert(a, [2, 0], b, axis=1), real(3, 4), real(1, 2))
case("insert", lambda a, b: wnp.insert(a, 1, b, axis=1), real(3, 4), real(3, 1))
case("insert", lambda a: wnp.insert(a, slice(0, 2), 7.0, axis=0), real(3, 2))
case("delete", lambda a: wnp.delete(a, [0, 2]), real(2, 2))
case("delete", lambda a: wnp.delete(a, slice(0, 4, 2), axis=1), real(3, 4))
case("tril", lambda x: wnp.tril(x, 1), real(4))  # a vector: the rows of a square matrix
case("triu", lambda x: wnp.triu(x), real(3))
case("concat", lambda a, b: wnp.concat([a, b], axis=1), real(2, 2), real(2, 3))


def positive(*shape):
    return lambda: R.uniform(0.5, 3.0, shape)


def nonzero(*shape):
    """Values away from zero, of random signs."""
    return lambda: R.uniform(0.5, 2.0, shape) * R.choice([-1.0, 1.0], shape)


# geomspace in the rows' own dtype (NumPy's default promotes to float64, by definition)
case("geomspace", lambda a, b: wnp.geomspace(a, b, 5, dtype=a.dtype), positive(), positive())
case(
    "geomspace",
    lambda a, b: wnp.geomspace(-a, -b, 4, endpoint=False, axis=1, dtype=a.dtype),
    positive(2),
    positive(2),
)
case(
    "geomspace",
    lambda a, b: wnp.geomspace(a + 1j * b, b, 3, dtype=(a + 1j * b).dtype),
    positive(),
    positive(),
)
# Zeros that stay zeros when the values move: padding (the zeros inside a row move).
case("trim_zeros", lambda x: wnp.trim_zeros(wnp.pad(x, (2, 1))), nonzero(4))
case("trim_zeros", lambda x: wnp.trim_zeros(wnp.pad(x, 1), "b"), nonzero(4))
case("trim_zeros", lambda x: wnp.trim_zeros(wnp.pad(x, 1), axis=0), nonzero(3, 2))
case("sort_complex", wnp.sort_complex, lambda: distinct(4)() + 1j * R.standard_normal(4))


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_rules(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


def test_every_primitive_is_in_the_table(own_primitives):
    primitives = {}
    for module in (manipulation, cumulative, sorting, selection, padding):
        primitives.update(own_primitives(module))
    assert {"cumsum", "cumprod", "sort", "tie_average", "split"} <= set(primitives)
    missing = sorted(set(primitives) - {name for name, _, _ in CASES})
    assert not missing, f"primitives with no row in the table: {missing}"
    for name, prim in primitives.items():
        assert prim.vjp_rules or prim.vjp_all, f"{name} has no reverse rule"
        assert prim.jvp_rules or prim.jvp_all, f"{name} has no forward rule"


# --- values: traced and untraced calls agree with NumPy ------------------------------------

X = R.standard_normal((3, 4))
V = R.standard_normal(5)
# (name, function of a NumPy-like namespace and the arguments, arguments)
VALUES = [
    ("cumsum", lambda np_, x: np_.cumsum(x, axis=1), (X,)),
    ("cumprod", lambda np_, x: np_.cumprod(x), (X,)),
    ("cumprod", lambda np_, x: np_.cumprod(x, 0), (X,)),
    ("diff", lambda np_, x: np_.diff(x, 2, 0, prepend=1.0), (X,)),
    ("diff", lambda np_, x: np_.diff(x, 1, 1, append=x[:, :2]), (X,)),
    ("diff", lambda np_, x: np_.diff(x, 0, prepend=1.0), (X,)),
    ("sort", lambda np_, x: np_.sort(x, axis=0), (X,)),
    ("sort", lambda np_, x: np_.sort(x, axis=None), (X,)),
    ("partition", lambda np_, x: np_.partition(x, (0, 2), axis=0), (X,)),
    ("partition", lambda np_, x: np_.partition(x, 5, axis=None), (X,)),
    ("rollaxis", lambda np_, x: np_.rollaxis(x, -1, 1), (R.standard_normal((2, 3, 4)),)),
    ("take", lambda np_, x: np_.take(x, [[0, -1], [1, 7]], 1, mode="wrap"), (X,)),
    ("choose", lambda np_, a, b: np_.choose([[0, 1, 2, 3]], [a, b, a], mode="clip"), (X, V[:4])),
    ("select", lambda np_, a: np_.select([a < 0, a > 1], [a**2, 3.0], default=a), (X,)),
    ("piecewise", lambda np_, a: np_.piecewise(a, [a < 0, a > 1], [abs, 7.0, np_.sin]), (X,)),
    ("roll", lambda np_, x: np_.roll(x, (1, 2, -1), (0, 1, 1)), (X,)),
    ("roll", lambda np_, x: np_.roll(x, -3), (X,)),
    ("rot90", lambda np_, x: np_.rot90(x, 3, axes=(1, 0)), (X,)),
    ("tile", lambda np_, x: np_.tile(x, (2, 1, 3)), (X,)),
    ("repeat", lambda np_, x: np_.repeat(x, 3, axis=0), (X,)),
    ("resize", lambda np_, x: np_.resize(x, (5, 3)), (X,)),
    ("diagonal", lambda np_, x: np_.diagonal(x, -1, 2, 0), (R.standard_normal((3, 2, 4)),)),
    ("diag", lambda np_, x: np_.diag(x, 2), (V,)),
    ("trace", lambda np_, x: np_.trace(x, 1), (X,)),
    ("tril", lambda np_, x: np_.tril(x, -1), (R.standard_normal((2, 3, 4)),)),
    ("tril", lambda np_, x: np_.tril(x, 1), (V,)),
    ("triu", lambda np_, x: np_.triu(x, -1), (V,)),
    ("geomspace", lambda np_, x: np_.geomspace(x[0] ** 2, 10.0, 6), (V,)),
    ("geomspace", lambda np_, x: np_.geomspace(-(x**2) - 0.5, -3.0, 4, axis=1), (V,)),
    ("geomspace", lambda np_, x: np_.geomspace(1j + x[:2], 2.0 + x[:2], 3, endpoint=False), (V,)),
    ("geomspace", lambda np_, x: np_.geomspace(x[0] ** 2, 8.0, 3, dtype=np_.float32), (V,)),
    ("trim_zeros", lambda np_, x: np_.trim_zeros(np_.r_[0.0, 0.0, x, 0.0]), (V,)),
    ("trim_zeros", lambda np_, x: np_.trim_zeros(np_.r_[0.0, x, 0.0], "F"), (V,)),
    ("trim_zeros", lambda np_, x: np_.trim_zeros(x * 0.0), (V,)),
    ("trim_zeros", lambda np_, x: np_.trim_zeros(np_.pad(X, 1) * x[0], axis=-1), (V,)),
    ("sort_complex", lambda np_, x: np_.sort_complex(x), (V,)),
    ("sort_complex", lambda np_, x: np_.sort_complex(x.astype(np_.float32)), (V,)),
    ("sort_complex", lambda np_, x: np_.sort_complex(x[:3] + 1j * x[::-1][:3]), (V,)),
    ("concat", lambda np_, x: np_.concat([x, x[:2]]), (V,)),
    ("triu", lambda np_, x: np_.triu(x, 2), (X,)),
    ("kron", lambda np_, a, b: np_.kron(a, b), (R.standard_normal((2, 1, 3)), X)),
    (
        "cross",
        lambda np_, a, b: np_.cross(a, b),
        (R.standard_normal((4, 3)), R.standard_normal((2, 1, 3))),
    ),
    ("cross", lambda np_, a, b: np_.cross(a, b, axisc=0), (R.standard_normal((4, 3)), V[:3])),
    ("array_split", lambda np_, x: np_.array_split(x, 3, axis=1), (X,)),
    ("split", lambda np_, x: np_.split(x, [3, 1, 5], axis=1), (X,)),
    ("unstack", lambda np_, x: np_.unstack(x, axis=1), (X,)),
    ("block", lambda np_, a, b: np_.block([[a, b], [b, a]]), (X[:2, :2], X[1:3, 2:])),
    ("column_stack", lambda np_, a, b: np_.column_stack([a, b]), (V, R.standard_normal((5, 2)))),
    ("dstack", lambda np_, a, b: np_.dstack([a, b]), (V, V)),
    ("meshgrid", lambda np_, a, b, c: np_.meshgrid(a, b, c), (V, V[:2], V[:3])),
    ("linspace", lambda np_, a, b: np_.linspace(a, b, 7), (0.3, 2.5)),
    ("linspace", lambda np_, a, b: np_.linspace(a, b, 5, axis=-1, retstep=True), (V[:2], X[:, :1])),
    ("linspace", lambda np_, a, b: np_.linspace(a, b, 4, endpoint=False), (0.3, 0.3)),
    ("logspace", lambda np_, a, c: np_.logspace(a, 1.0, 4, base=c, axis=1), (V[:2], V[2:4] + 3)),
    ("insert", lambda np_, x: np_.insert(x, [2, 0], [[5.0, 6.0]], axis=1), (X,)),
    ("insert", lambda np_, x: np_.insert(x, 1, [[5.0], [6.0], [7.0]], axis=1), (X,)),
    ("insert", lambda np_, x: np_.insert(x, [1, 5], [9.0, 8.0]), (X,)),
    ("delete", lambda np_, x: np_.delete(x, slice(0, 2), axis=1), (X,)),
    ("append", lambda np_, x: np_.append(x, x[:1], axis=0), (X,)),
    ("cumulative_sum", lambda np_, x: np_.cumulative_sum(x, axis=1, include_initial=True), (X,)),
    ("cumulative_prod", lambda np_, x: np_.cumulative_prod(x[0], include_initial=True), (X,)),
    ("ediff1d", lambda np_, x: np_.ediff1d(x, to_end=[1.0, 2.0], to_begin=3.0), (X,)),
    ("broadcast_arrays", lambda np_, a, b: np_.broadcast_arrays(a, b), (X, V[:4])),
]
PAD_MODES = [
    ("constant", {"constant_values": ((1, 2), (3, 4))}),
    ("constant", {"constant_values": (1, 2)}),
    ("edge", {}),
    ("wrap", {}),
    ("reflect", {}),
    ("symmetric", {"reflect_type": "odd"}),
    ("linear_ramp", {"end_values": (1, 2)}),
    ("maximum", {}),
    ("mean", {"stat_length": ((1, 2), (3, 1))}),
    ("median", {"stat_length": 2}),
]
for mode, kw in PAD_MODES:
    for width in (1, ((3, 0), (9, 7))):
        VALUES.append(
            ("pad", lambda np_, x, m=mode, k=kw, w=width: np_.pad(x, w, mode=m, **k), (X,))
        )


def _traced_value(fun, args):
    return wg.vjp(fun, *args)[0]


def _assert_same(ours, theirs):
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
        return
    assert onp.shape(ours) == onp.shape(theirs)
    onp.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name, fun, args", VALUES, ids=[v[0] for v in VALUES])
def test_values_match_numpy(name, fun, args):
    expected = fun(onp, *args)
    _assert_same(_traced_value(lambda *a: fun(wnp, *a), args), expected)
    _assert_same(fun(wnp, *args), expected)


def test_plain_numpy_calls_are_routed():
    def f(x):
        y = onp.cumsum(x) + onp.sort(x) + onp.roll(x, 1) + onp.flip(x)
        return onp.sum(onp.pad(y, 1, mode="edge") ** 2) + onp.trace(onp.diag(x))

    x = R.standard_normal(4)
    expected = wg.grad(
        lambda x: (
            wnp.sum(
                wnp.pad(wnp.cumsum(x) + wnp.sort(x) + wnp.roll(x, 1) + wnp.flip(x), 1, mode="edge")
                ** 2
            )
            + wnp.trace(wnp.diag(x))
        )
    )(x)
    onp.testing.assert_allclose(wg.grad(f)(x), expected)


# --- conventions -------------------------------------------------------------------------


def test_sort_ties_share_evenly_and_agree_with_max():
    x = onp.array([3.0, 1.0, 1.0, 2.0])
    onp.testing.assert_array_equal(wg.grad(lambda x: wnp.sort(x)[0])(x), [0, 0.5, 0.5, 0])
    tangent = wg.jvp(wnp.sort, (x,), (onp.array([1.0, 2.0, 4.0, 8.0]),))[1]
    onp.testing.assert_array_equal(tangent, [3.0, 3.0, 8.0, 1.0])
    y = onp.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    for axis in (0, 1):
        last = wg.grad(lambda y, a=axis: wnp.sum(wnp.take(wnp.sort(y, axis=a), -1, axis=a)))(y)
        onp.testing.assert_array_equal(
            last, wg.grad(lambda y, a=axis: wnp.sum(wnp.max(y, axis=a)))(y)
        )


def test_partition_ties_share_like_sort():
    x = onp.array([[3.0, 1.0, 2.0, 1.0, 3.0], [5.0, 4.0, 4.0, 4.0, 0.0]])
    for kth in (0, 2, 4):
        out = wg.vjp(lambda x, k=kth: wnp.partition(x, k), x)[0]
        onp.testing.assert_array_equal(out, onp.partition(x, kth))
        f = lambda x, k=kth: wnp.sum(wnp.take(wnp.partition(x, k), k, axis=1))
        g = lambda x, k=kth: wnp.sum(wnp.take(wnp.sort(x), k, axis=1))
        onp.testing.assert_array_equal(wg.grad(f)(x), wg.grad(g)(x))
    t = R.standard_normal(x.shape)
    out, tangent = wg.jvp(lambda x: wnp.partition(x, 2), (x,), (t,))
    # Equal values carry the mean tangent of their group, wherever partition put them.
    for row in range(2):
        for value in onp.unique(x[row]):
            onp.testing.assert_allclose(
                tangent[row][out[row] == value], t[row][x[row] == value].mean()
            )


def test_sort_without_ties_is_a_permutation():
    x = onp.array([0.3, -1.0, 2.0])
    jac = onp.stack([wg.grad(lambda x, i=i: wnp.sort(x)[i])(x) for i in range(3)])
    onp.testing.assert_array_equal(jac, [[0, 1, 0], [1, 0, 0], [0, 0, 1]])


def test_cumprod_with_zeros_is_exact_to_second_order():
    z = onp.array([2.0, 0.0, 3.0, 0.0, 5.0])
    f = lambda x: wnp.sum(wnp.cumprod(x))
    onp.testing.assert_array_equal(wg.grad(f)(z), [1.0, 8.0, 0.0, 0.0, 0.0])
    hessian = onp.stack([wg.grad(lambda x, i=i: wg.grad(f)(x)[i])(z) for i in range(5)])
    # d2/dx_a dx_b of sum_i prod_{j<=i} x_j is the sum over i >= max(a, b) of the products
    # of the other entries.
    expected = onp.zeros((5, 5))
    for a in range(5):
        for b in range(5):
            if a != b:
                expected[a, b] = sum(
                    onp.prod([z[j] for j in range(i + 1) if j not in (a, b)])
                    for i in range(max(a, b), 5)
                )
    onp.testing.assert_array_equal(hessian, expected)
    fwd = wg.jvp(wnp.cumprod, (z,), (onp.ones(5),))[1]
    onp.testing.assert_array_equal(fwd, [1.0, 2.0, 6.0, 0.0, 0.0])
    wg.check_grads(wnp.cumprod, order=3)(z)


def test_split_cotangent_is_one_concatenation_and_handles_overlap():
    x = onp.arange(5.0)
    g = wg.grad(lambda x: wnp.sum(wnp.split(x, [3, 1])[2] * 2.0) + wnp.split(x, [3, 1])[0][0])(x)
    onp.testing.assert_array_equal(g, [1.0, 2.0, 2.0, 2.0, 2.0])
    pieces = wg.vjp(lambda x: wnp.split(x, [2]), x)[1]([onp.ones(2), onp.full(3, 2.0)])
    onp.testing.assert_array_equal(pieces[0], [1.0, 1.0, 2.0, 2.0, 2.0])


def test_pad_is_differentiable_in_the_constants():
    g = wg.grad(lambda c: wnp.sum(wnp.pad(onp.ones((2, 2)), 1, constant_values=c)))(0.5)
    assert g == 12.0
    g = wg.grad(lambda c: wnp.sum(wnp.pad(onp.ones((2, 2)), 1, constant_values=c)))(
        onp.array([[1.0, 2.0], [3.0, 4.0]])
    )
    # Axis 0 pads 2 entries on each side; axis 1 then pads 4 on each side (corners included).
    onp.testing.assert_array_equal(g, [[2.0, 2.0], [4.0, 4.0]])


def test_errors_name_the_function():
    box_fun = lambda f: wg.grad(lambda x: wnp.sum(f(x)))
    with pytest.raises(ValueError, match="pad"):
        box_fun(lambda x: wnp.pad(x, 1, mode=lambda *a: None))(onp.ones(3))
    with pytest.raises(ValueError, match="cross"):
        box_fun(lambda x: wnp.cross(x, x))(onp.ones(4))
    with pytest.raises(ValueError, match="split"):
        box_fun(lambda x: wnp.split(x, 2)[0])(onp.ones(3))
    with pytest.raises(InPlaceWriteError):
        box_fun(lambda x: wnp.cumsum(x, out=onp.ones(3)))(onp.ones(3))


def test_integer_valued_functions_pass_through():
    x = onp.array([0.5, 2.0, -1.0, onp.nan])
    for name in ("nanargmax", "argpartition", "isin"):
        assert getattr(getattr(wnp, name), "nondifferentiable", False)
    g = wg.grad(lambda x: wnp.nansum(x * wnp.nanargmax(x)))(x)
    onp.testing.assert_array_equal(g, [1.0, 1.0, 1.0, 0.0])
    assert wnp.argpartition(x[:3], 1).tolist() == onp.argpartition(x[:3], 1).tolist()
