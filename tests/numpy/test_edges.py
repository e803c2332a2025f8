"""Derivatives at non-differentiable or singular points take the documented values."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp


def both_modes(f, x):
    """The derivative by reverse and by forward mode (they must agree)."""
    rev = wg.elementwise_grad(f)(x)
    fwd = wg.jvp(f, (x,), (onp.ones_like(x),))[1]
    onp.testing.assert_array_equal(rev, fwd)
    return rev


def test_abs_at_zero():
    assert both_modes(wnp.abs, onp.array([0.0]))[0] == 0.0


def test_maximum_and_minimum_ties_split_evenly():
    x = onp.array([1.0, 2.0, 3.0])
    onp.testing.assert_array_equal(both_modes(lambda x: wnp.maximum(x, 2.0), x), [0, 0.5, 1])
    onp.testing.assert_array_equal(both_modes(lambda x: wnp.minimum(x, 2.0), x), [1, 0.5, 0])
    g = wg.grad(lambda y: wnp.sum(wnp.maximum(x, y)))(2.0)
    assert g == 1.5  # 1 from x=1, 1/2 from the tie


def test_max_reduction_ties_share():
    x = onp.array([3.0, 1.0, 3.0, 2.0])
    onp.testing.assert_array_equal(wg.grad(wnp.max)(x), [0.5, 0, 0.5, 0])
    assert wg.jvp(wnp.max, (x,), (onp.array([1.0, 0, 3.0, 0]),))[1] == 2.0


def test_clip_at_bounds():
    x = onp.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    onp.testing.assert_array_equal(
        both_modes(lambda x: wnp.clip(x, -0.5, 0.5), x), [0, 0.5, 1, 0.5, 0]
    )


@pytest.mark.parametrize("y, expected", [(2.0, 0.0), (1.0, 1.0), (0.0, 0.0), (3, 0.0)])
def test_power_at_zero_base(y, expected):
    assert wg.grad(lambda x: x**y)(0.0) == expected
    assert wg.jvp(lambda x: x**y, (0.0,), (1.0,))[1] == expected


def test_power_in_exponent_at_zero_base():
    assert wg.grad(lambda y: 0.0**y)(2.0) == 0.0
    assert wg.jvp(lambda y: 0.0**y, (2.0,), (1.0,))[1] == 0.0


def test_sqrt_at_zero_is_infinite():
    with onp.errstate(divide="ignore"):
        assert wg.grad(wnp.sqrt)(0.0) == onp.inf


def test_prod_with_zeros_is_exact_to_second_order():
    x = onp.array([0.0, 2.0, 3.0, 0.0, 5.0])
    onp.testing.assert_array_equal(wg.grad(wnp.prod)(x), [0, 0, 0, 0, 0])
    x1 = onp.array([0.0, 2.0, 3.0])
    onp.testing.assert_array_equal(wg.grad(wnp.prod)(x1), [6.0, 0, 0])
    hessian_row = wg.grad(lambda x: wg.grad(wnp.prod)(x)[0])(x1)
    onp.testing.assert_array_equal(hessian_row, [0.0, 3.0, 2.0])
    wg.check_grads(wnp.prod, order=2)(x1)


def test_fmax_and_fmin_differentiate_the_entry_they_return():
    x = onp.array([0.3, -0.5, 2.0])
    y = onp.array([onp.nan, 0.0, 1.0])
    onp.testing.assert_array_equal(both_modes(lambda x: wnp.fmax(x, y), x), [1, 0, 1])
    onp.testing.assert_array_equal(both_modes(lambda x: wnp.fmin(x, y), x), [1, 1, 0])
    onp.testing.assert_array_equal(both_modes(lambda y: wnp.fmax(x, y), y), [0, 1, 0])
    onp.testing.assert_array_equal(wg.grad(lambda x: onp.sum(onp.fmax(x, y)))(x), [1, 0, 1])
    # Both NaN: the result is NaN whatever either does, so neither gets a derivative.
    both_nan = onp.array([onp.nan])
    assert both_modes(lambda x: wnp.fmax(x, both_nan), both_nan)[0] == 0.0
    wg.check_grads(lambda x: wnp.fmax(x, y) + wnp.fmin(y, x), order=2)(x)


def test_nan_results_of_maximum_and_minimum_have_no_derivative():
    x = onp.array([onp.nan, 1.0, onp.nan])
    y = onp.array([0.0, onp.nan, onp.nan])
    for f in (wnp.maximum, wnp.minimum):
        onp.testing.assert_array_equal(both_modes(lambda x, f=f: f(x, y), x), [0, 0, 0])
        onp.testing.assert_array_equal(both_modes(lambda y, f=f: f(x, y), y), [0, 0, 0])


@pytest.mark.parametrize("f", [wnp.maximum, wnp.minimum, wnp.fmax, wnp.fmin, wnp.hypot])
def test_binary_extrema_keep_float32(f):
    x = onp.array([0.5, -1.0, 2.0], dtype=onp.float32)
    g = wg.grad(lambda x: wnp.sum(f(x, 0.5)))(x)
    assert g.dtype == onp.float32
    assert wg.jvp(lambda x: f(x, onp.float32(0.5)), (x,), (x,))[1].dtype == onp.float32


def test_clip_takes_numpy_2_min_and_max_keywords():
    x = onp.array([-1.0, 0.2, 3.0])
    onp.testing.assert_array_equal(wg.grad(lambda x: onp.sum(onp.clip(x, min=0.0)))(x), [0, 1, 1])
    onp.testing.assert_array_equal(wg.grad(lambda x: onp.sum(x.clip(max=1.0)))(x), [1, 1, 0])
    with pytest.raises(ValueError, match="not both"):
        wnp.clip(x, 0.0, 1.0, min=0.0)


@pytest.mark.parametrize(
    "point",
    [0.0, onp.float64(0.0), onp.array(0.0), onp.zeros(3)],
    ids=["float", "float64", "0-d", "array"],
)
def test_hypot_at_zero_has_zero_derivative_like_norm(point):
    def f(x):
        return wnp.hypot(x, 0.0 * x) + wnp.hypot(0.0, x)

    rev = wg.elementwise_grad(f)(point)
    fwd = wg.jvp(f, (point,), (onp.ones_like(point),))[1]
    onp.testing.assert_array_equal(rev, onp.zeros_like(point))
    onp.testing.assert_array_equal(fwd, onp.zeros_like(point))
    second = wg.elementwise_grad(wg.elementwise_grad(f))(point)
    onp.testing.assert_array_equal(second, onp.zeros_like(point))
    assert wg.grad(lambda v: wnp.linalg.norm(v))(onp.zeros(2)).tolist() == [0.0, 0.0]


# --- vmap: members that differ at the edges ------------------------------------------------
# Masks, tie shares, sort orders and counts are each member's own under vmap: every row
# has members on both sides of an edge (a zero, a tie, a NaN, a mask), so a constant
# computed from the whole batch, or shared by all members, gives a wrong value or shape.


def vmap_equals_loop(f, members, rtol=1e-12):
    """`f` under vmap, its per-member gradients (vmap of grad), per-member tangents (vmap
    of jvp) and the gradient through a vmapped `f` (grad of vmap) all equal a loop."""
    stacked = [onp.stack(parts) for parts in zip(*members)]
    argnums = tuple(range(len(stacked)))

    def close(got, expected):
        onp.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-14, equal_nan=True)

    close(wg.vmap(f)(*stacked), onp.stack([f(*m) for m in members]))
    weights = onp.cos(onp.arange(onp.size(f(*members[0])))).reshape(onp.shape(f(*members[0])))

    def scalar(*args):
        return wnp.sum(f(*args) * weights)

    grads = wg.vmap(wg.grad(scalar, argnums=argnums))(*stacked)
    for got, parts in zip(grads, zip(*[wg.grad(scalar, argnums=argnums)(*m) for m in members])):
        close(got, onp.stack(parts))

    def tangent(*args):
        return wg.jvp(f, args, tuple(onp.ones_like(a) for a in args))[1]

    close(wg.vmap(tangent)(*stacked), onp.stack([tangent(*m) for m in members]))
    through = wg.grad(lambda *s: wnp.sum(wg.vmap(scalar)(*s)), argnums=argnums)(*stacked)
    for got, expected in zip(through, grads):
        close(got, expected)


A = onp.array
EDGE_ROWS = [
    ("maximum ties", wnp.maximum, [(A([1.0, 2.0]), A([1.0, 3.0])), (A([0.0, 5.0]), A([1.0, 5.0]))]),
    (
        "fmin NaN",
        wnp.fmin,
        [(A([1.0, onp.nan]), A([1.0, 3.0])), (A([0.0, 5.0]), A([onp.nan, 5.0]))],
    ),
    ("hypot at zero", wnp.hypot, [(A([0.0, 2.0]), A([0.0, 3.0])), (A([1.0, 5.0]), A([1.0, 5.0]))]),
    (
        "abs of complex at zero",
        lambda x: wnp.abs(x * (1 + 1j)),
        [(A([0.0, 2.0]),), (A([1.0, 5.0]),)],
    ),
    (
        "max ties",
        lambda x: wnp.max(x, axis=0),
        [(A([[1.0, 2.0], [1.0, 0.0]]),), (A([[3.0, 1], [2, 1]]),)],
    ),
    ("min initial ties", lambda x: wnp.min(x, initial=1.0), [(A([1.0, 2.0]),), (A([3.0, 0.5]),)]),
    (
        "prod zeros",
        lambda x: wnp.prod(x, axis=-1),
        [(A([[1.0, 0.0], [1, 2]]),), (A([[3.0, 1], [0, 0]]),)],
    ),
    ("std zero", wnp.std, [(A([1.0, 1.0, 1.0]),), (A([3.0, 1.0, 2.0]),)]),
    ("var no dof", lambda x: wnp.var(x, ddof=3), [(A([1.0, 1.0, 1.0]),), (A([3.0, 1.0, 2.0]),)]),
    ("sum traced where", lambda x: wnp.sum(x * x, where=x > 0), [(A([1.0, -2]),), (A([3.0, 1]),)]),
    (
        "mean traced where",
        lambda x: wnp.mean(x * x, where=x > 0),
        [(A([1.0, -2]),), (A([3.0, 1]),)],
    ),
    (
        "max traced where",
        lambda x: wnp.max(x * x, where=x > 0, initial=0.0),
        [(A([1.0, -2, 2]),), (A([3.0, 1, -0.5]),)],
    ),
    ("prod traced where", lambda x: wnp.prod(x, where=x > 0), [(A([1.0, -2]),), (A([3.0, 1]),)]),
    (
        "std traced where",
        lambda x: wnp.std(x, axis=1, where=x > 0),
        [(A([[1.0, -2, 2], [1, 3, 4]]),), (A([[3.0, 1, -0.5], [-1, -2, 5]]),)],
    ),
    ("cumprod zeros", wnp.cumprod, [(A([1.0, 0.0, 2.0, 0.0]),), (A([3.0, 1.0, 2.0, 4.0]),)]),
    ("sort ties", wnp.sort, [(A([1.0, 2.0, 2.0, 0.0]),), (A([3.0, 1.0, 2.0, 4.0]),)]),
    ("partition ties", lambda x: wnp.partition(x, 1), [(A([1.0, 2, 2, 0]),), (A([3.0, 1, 2, 4]),)]),
    ("nan_to_num", wnp.nan_to_num, [(A([1.0, onp.inf, onp.nan]),), (A([3.0, -onp.inf, 2.0]),)]),
    ("angle at zero", lambda x: wnp.angle(x * (1 + 1j)), [(A([0.0, 2.0]),), (A([1.0, -5.0]),)]),
    ("angle of reals", wnp.angle, [(A([0.0, -2.0]),), (A([1.0, -5.0]),)]),
    ("copysign", wnp.copysign, [(A([1.0, 2.0]), A([-1.0, 3.0])), (A([1.0, -5.0]), A([2.0, -0.0]))]),
    ("astype int", lambda x: x * wnp.astype(x, int), [(A([0.5, 2.5]),), (A([-1.5, 3.1]),)]),
    ("full_like", lambda x: x * wnp.full_like(x, 2.0), [(A([0.5, 2.5]),), (A([-1.5, 3.1]),)]),
    (
        "select",
        lambda x: wnp.select([x < 0, x > 1], [x * x, wnp.sin(x)], default=x),
        [(A([0.5, -2.0, 1.5]),), (A([-1.0, 0.1, 4.0]),)],
    ),
    (
        "piecewise, sqrt undefined where unused",
        lambda x: wnp.piecewise(x, [x < 0, x > 1], [lambda t: wnp.sqrt(-t), 2.0, wnp.sin]),
        [(A([0.5, -2.0, 1.5]),), (A([-1.0, 0.1, 4.0]),)],
    ),
    (
        "piecewise, one condition",
        lambda x: wnp.piecewise(x, x < 0, [lambda t: t**2, lambda t: t]),
        [(A([0.5, -2.0]),), (A([-1.0, 4.0]),)],
    ),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, f, members", EDGE_ROWS, ids=[r[0] for r in EDGE_ROWS])
def test_vmap_sees_each_members_own_edges(name, f, members):
    vmap_equals_loop(f, members)


INDEX_ROWS = [
    ("x[argmax]", lambda x: x[wnp.argmax(x[:, 0])]),
    ("x[:, argmax]", lambda x: x[:, wnp.argmax(x[0])]),
    ("x[argmax, 1:]", lambda x: x[wnp.argmax(x[:, 0]), 1:]),
    ("x[..., argmax]", lambda x: x[..., wnp.argmax(x[0])]),
    ("x[None, argsort, 1]", lambda x: x[None, wnp.argsort(x[:, 0]), 1]),
    ("x[argmax, argmax]", lambda x: x[wnp.argmax(x[:, 0]), wnp.argmax(x[0])]),
    ("take", lambda x: wnp.take(x, wnp.argsort(x[0]), axis=1)),
    ("take wrap", lambda x: wnp.take(x[0], wnp.argsort(x[1]) + 1, mode="wrap")),
    ("take clip", lambda x: wnp.take(x[0], wnp.argsort(x[1]) + 1, mode="clip")),
    ("take_along_axis", lambda x: wnp.take_along_axis(x, wnp.argsort(x, axis=1), axis=1)),
    ("choose", lambda x: wnp.choose(wnp.astype(x > 0, int), [x, x * x])),
    ("compress, as many in each", lambda x: wnp.compress(x[:, 0] < 9.0, x, axis=0)),
    ("index_update", lambda x: wnp.index_update(x, wnp.argmax(x[:, 0]), 0.0)),
    ("index_add", lambda x: wnp.index_add(x, (slice(None), wnp.argmax(x[0])), 2.0 * x[:, 0])),
    ("roll", lambda x: wnp.roll(x, wnp.argmax(x[0]), axis=0)),
    ("roll flattened", lambda x: wnp.roll(x, wnp.argmax(x[0]))),
]


@pytest.mark.parametrize("name, f", INDEX_ROWS, ids=[r[0] for r in INDEX_ROWS])
def test_vmap_of_indexing_with_each_members_own_indices(name, f):
    rng = onp.random.default_rng(7)
    vmap_equals_loop(f, [(rng.standard_normal((4, 3)),) for _ in range(3)])


def test_vmap_of_a_boolean_mask_index_needs_as_many_entries_in_each_member():
    x = onp.array([[1.0, -2.0, 3.0], [-1.0, 2.0, 3.0]])
    onp.testing.assert_array_equal(wg.vmap(lambda v: v[v > 0])(x), [[1.0, 3.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match="different shapes"):
        wg.vmap(lambda v: v[v > 1.5])(x)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: wnp.repeat(x, wnp.astype(x > 0, int)),
        lambda x: wnp.split(x, wnp.argmax(x)),
        lambda x: wnp.insert(x, wnp.argmax(x), 0.0),
        lambda x: wnp.pad(x, wnp.argmax(x)),
    ],
    ids=["repeat", "split", "insert", "pad"],
)
def test_vmap_refuses_shapes_computed_from_the_batch(f):
    with pytest.raises(ValueError, match="vmap cannot stack"):
        wg.vmap(f)(onp.array([[1.0, 2.0], [2.0, 1.0]]))


@pytest.mark.parametrize("fun", [wnp.logaddexp, wnp.logaddexp2], ids=["e", "2"])
def test_logaddexp_slopes_at_infinities(fun):
    """The slopes are logistic functions of x - y: 1 where x is infinite and y is not, 0
    where x is -inf, in both modes and in float32."""
    for x, y, slope in [(onp.inf, 1.0, 1.0), (-onp.inf, 1.0, 0.0), (3.0, onp.inf, 0.0)]:
        assert wg.grad(fun)(x, y) == slope
        assert wg.jvp(lambda x: fun(x, y), (x,), (1.0,))[1] == slope
    x32 = onp.array([0.5, -2.0], dtype=onp.float32)
    assert wg.grad(lambda x: wnp.sum(fun(x, onp.float32(1.0))))(x32).dtype == onp.float32
