"""JAX's functional index updates, ``wg.numpy.at(x)[index].op(y)`` and ``x.at[index]``.

The table checks every operation's derivatives in `x` and `y` (both modes, order 2) over
basic, slice, mask and integer-array indices, with and without repeated entries, and
broadcast updates; being a ``CASES`` table, its rows are also run in single precision,
under `vmap` and in the other per-primitive property tests. The tests after it check
values against NumPy, the rules for repeated entries and ties, dtypes, errors, and
indices computed from traced values under `vmap`.
"""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

R = onp.random.default_rng(11)


def real(*shape, lo=-2.0, hi=2.0):
    def make():
        x = R.uniform(lo, hi, size=shape)
        return float(x) if shape == () else x

    return make


def away(*shape, gap=0.5):
    """Values of either sign at least `gap` from zero (divisors)."""

    def make():
        x = R.uniform(gap, 2.0, size=shape) * R.choice([-1.0, 1.0], size=shape)
        return float(x) if shape == () else x

    return make


REPEATS = onp.array([0, 2, 2, 4, 0, 2])  # entry 0 twice, entry 2 three times
UNIQUE = onp.array([3, 0, 1])
MASK = onp.array([True, False, True, True, False])
PAIRS = (onp.array([0, 1, 0, 0]), onp.array([2, 0, 2, 2]))  # (0, 2) three times

# (name, function, argument generators): x and y are both differentiated.
CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *arg_sets):
    CASES.extend((name, fun, args) for args in arg_sets)


# Every operation over the kinds of index, x of shape (5,) or (2, 3).
INDICES_1D = [
    (2, ()),
    (slice(1, 4), (3,)),
    (slice(None, None, -2), ()),
    (UNIQUE, (3,)),
    (REPEATS, (6,)),
    (REPEATS, ()),  # one value broadcast to every entry, repeated entries included
    (MASK, (3,)),
    ((Ellipsis, None, REPEATS), (1, 6)),
]
INDICES_2D = [
    ((1, slice(None)), (3,)),
    ((slice(None), 0), (2,)),
    (PAIRS, (4,)),
    ((REPEATS[:4] % 2, slice(None)), (3,)),  # rows 0, 0, 0, 0 broadcast along columns
    (onp.array([[True, False, True], [False, True, True]]), ()),
]
for how in ("set", "add", "subtract", "multiply", "min", "max"):
    for index, y_shape in INDICES_1D:
        case(
            f"at.{how}",
            lambda x, y, i=index, h=how: getattr(wnp.at(x)[i], h)(y),
            (real(5), real(*y_shape)),
        )
    for index, y_shape in INDICES_2D:
        case(
            f"at.{how}",
            lambda x, y, i=index, h=how: getattr(wnp.at(x)[i], h)(y),
            (real(2, 3), real(*y_shape)),
        )
for index, y_shape in INDICES_1D:
    case("at.divide", lambda x, y, i=index: wnp.at(x)[i].divide(y), (real(5), away(*y_shape)))
    case(
        "at.power",
        lambda x, y, i=index: wnp.at(x)[i].power(y),
        (real(5, lo=0.5, hi=2.0), real(*y_shape, lo=-1.0, hi=1.0)),
    )
for index, y_shape in INDICES_2D:
    case("at.divide", lambda x, y, i=index: wnp.at(x)[i].divide(y), (real(2, 3), away(*y_shape)))
# Products over repeated entries with a zero among the factors stay exact.
case(
    "at.multiply",
    lambda x, y: wnp.at(x)[REPEATS].multiply(y * onp.array([1.0, 0.0, 1.0, 1.0, 1.0, 1.0])),
    (real(5), real(6)),
)
for index in (1, UNIQUE, REPEATS, MASK):
    case("at.get", lambda x, i=index: wnp.at(x)[i].get() * 1.0, (real(5),))
    case("at.apply", lambda x, i=index: wnp.at(x)[i].apply(wnp.sin), (real(5),))
# Updates compose.
case(
    "at.set",
    lambda x, y: wnp.sum(wnp.at(wnp.at(x)[REPEATS].set(y * x[1]))[1:3].multiply(x[:2]) ** 2),
    (real(5), real(6)),
)


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_at_rules(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


# --- values ------------------------------------------------------------------------------

X = onp.array([0.5, -1.0, 2.0, 3.0, -0.25])
Y = onp.array([3.0, 1.5, 2.0, -1.0, 0.5, -2.0])


def _numpy_at(ufunc, x, index, y):
    out = x.copy()
    ufunc.at(out, index, y)
    return out


@pytest.mark.parametrize(
    "how, ufunc",
    [
        ("add", onp.add),
        ("subtract", onp.subtract),
        ("multiply", onp.multiply),
        ("divide", onp.divide),
        ("min", onp.minimum),
        ("max", onp.maximum),
    ],
)
def test_repeated_entries_apply_every_update_as_ufunc_at(how, ufunc):
    for index, y in [(REPEATS, Y), (REPEATS, 2.5), (UNIQUE, Y[:3]), (slice(1, 3), Y[:2])]:
        got = getattr(wnp.at(X)[index], how)(y)
        onp.testing.assert_allclose(got, _numpy_at(ufunc, X, index, y), rtol=1e-14)


def test_power_with_repeated_entries_raises_to_the_product_of_exponents():
    x = onp.abs(X) + 0.5
    got = wnp.at(x)[REPEATS].power(Y)
    onp.testing.assert_allclose(got, _numpy_at(onp.power, x, REPEATS, Y), rtol=1e-12)


def test_set_with_repeated_entries_keeps_the_last_write():
    got = wnp.at(X)[REPEATS].set(Y)
    expected = X.copy()
    for k, i in enumerate(REPEATS):
        expected[i] = Y[k]
    onp.testing.assert_array_equal(got, expected)
    # In two dimensions, in the order of the entries of x[index].
    got = wnp.at(onp.zeros((2, 3)))[PAIRS].set(onp.array([1.0, 2.0, 3.0, 4.0]))
    onp.testing.assert_array_equal(got, [[0.0, 0.0, 4.0], [2.0, 0.0, 0.0]])


def test_get_and_apply():
    onp.testing.assert_array_equal(wnp.at(X)[REPEATS].get(), X[REPEATS])
    onp.testing.assert_array_equal(wnp.at(X)[MASK].get(), X[MASK])
    got = wnp.at(X)[REPEATS].apply(wnp.tanh)
    expected = X.copy()
    onp.tanh.at(expected, REPEATS)
    onp.testing.assert_allclose(got, expected, rtol=1e-14)


def test_updates_never_write_into_x():
    x = X.copy()
    for how in ("set", "add", "subtract", "multiply", "divide", "min", "max"):
        for index in (1, slice(0, 2), REPEATS, MASK):
            out = getattr(wnp.at(x)[index], how)(7.0)
            assert out is not x
            onp.testing.assert_array_equal(x, X)
    wnp.at(x)[REPEATS].apply(wnp.sin)
    onp.testing.assert_array_equal(x, X)


def test_traced_values_have_at_and_plain_arrays_use_the_function():
    def f(x):
        assert isinstance(x.at, type(wnp.at(x)))
        return wnp.sum(x.at[REPEATS].add(x[REPEATS] ** 2))

    onp.testing.assert_allclose(wg.grad(f)(X), 1.0 + onp.bincount(REPEATS, 2 * X[REPEATS], 5))
    assert not hasattr(X, "at")
    # A list works as x too.
    onp.testing.assert_array_equal(wnp.at([1.0, 2.0])[0].set(5.0), [5.0, 2.0])


# --- derivatives at repeated entries and ties ---------------------------------------------


def test_set_with_repeated_entries_differentiates_only_the_last_write():
    def f(x, y):
        return wnp.sum(wnp.at(x)[REPEATS].set(y) * onp.arange(1.0, 6.0))

    gx, gy = wg.grad(f, argnums=(0, 1))(X, Y)
    onp.testing.assert_array_equal(gx, [0.0, 2.0, 0.0, 4.0, 0.0])
    # entry 0: last written by Y[4]; entry 2: by Y[5]; entry 4: by Y[3].
    onp.testing.assert_array_equal(gy, [0.0, 0.0, 0.0, 5.0, 1.0, 3.0])
    _, ty = wg.jvp(lambda y: f(X, y), (Y,), (onp.ones(6),))
    assert ty == 1.0 + 3.0 + 5.0


def test_index_update_repeated_index_gradient_goes_to_last_write():
    # index_update itself (which .set uses) had every repeated write receive a cotangent.
    def f(y):
        return wnp.sum(wnp.index_update(onp.zeros(3), onp.array([0, 0, 1]), y) * [1.0, 2.0, 3.0])

    onp.testing.assert_array_equal(wg.grad(f)(onp.array([1.0, 2.0, 3.0])), [0.0, 1.0, 2.0])
    wg.check_grads(f, order=2)(onp.array([1.0, 2.0, 3.0]))


def test_min_and_max_share_ties_evenly():
    # A single update that ties with x: half each, as wg.numpy.maximum.
    gx, gy = wg.grad(lambda x, y: wnp.at(x)[1].max(y)[1], argnums=(0, 1))(
        onp.array([0.0, 2.0]), 2.0
    )
    onp.testing.assert_allclose(gx, [0.0, 0.5])
    assert gy == 0.5
    # Two updates of one entry tying with x: a third each, as wg.numpy.max of the three.
    for how in ("min", "max"):
        gx, gy = wg.grad(
            lambda x, y, h=how: getattr(wnp.at(x)[onp.array([1, 1])], h)(y)[1], argnums=(0, 1)
        )(onp.array([0.0, 2.0]), onp.array([2.0, 2.0]))
        onp.testing.assert_allclose(gx, [0.0, 1 / 3])
        onp.testing.assert_allclose(gy, [1 / 3, 1 / 3])


def test_multiply_with_repeated_entries_is_exact_at_zero_factors():
    y = onp.array([0.0, 2.0, 0.0, 3.0, 5.0, 7.0])
    gy = wg.grad(lambda y: wnp.sum(wnp.at(X)[REPEATS].multiply(y)))(y)
    # entry 0 gets y0 * y4, entry 2 gets y1 * y2 * y5, entry 4 gets y3.
    expected = [X[0] * 5.0, X[2] * 0.0 * 7.0, X[2] * 2.0 * 7.0, X[4], X[0] * 0.0, 0.0]
    onp.testing.assert_allclose(gy, expected)


# --- dtypes, vmap, forward mode -----------------------------------------------------------


@pytest.mark.parametrize("how", ["set", "add", "multiply", "divide", "power", "min", "max"])
def test_float32_is_kept(how):
    x = (onp.abs(X) + 0.5).astype(onp.float32)
    for index, y in [(REPEATS, Y.astype(onp.float32)), (UNIQUE, 1.5), (REPEATS, Y)]:
        out = getattr(wnp.at(x)[index], how)(y)
        assert out.dtype == onp.float32

        def f(x, y, index=index):
            return wnp.sum(getattr(wnp.at(x)[index], how)(y))

        gx, gy = wg.grad(f, argnums=(0, 1))(x, onp.asarray(y))
        assert gx.dtype == onp.float32
        assert gy.dtype == onp.asarray(y).dtype
        _, t = wg.jvp(lambda x: f(x, y), (x,), (onp.ones_like(x),))
        assert t.dtype == onp.float32


def test_result_keeps_the_dtype_of_x():
    out = wnp.at(onp.zeros(3, dtype=int))[onp.array([0, 0])].add(1.7)
    assert out.dtype == int
    onp.testing.assert_array_equal(out, [2, 0, 0])


@pytest.mark.parametrize("how", ["set", "add", "multiply", "divide", "min", "max"])
def test_vmap_and_per_member_gradients_equal_a_loop(how):
    xs = R.uniform(0.5, 2.0, size=(3, 5))
    ys = R.uniform(0.5, 2.0, size=(3, 6))

    def f(x, y):
        return getattr(wnp.at(x)[REPEATS], how)(y * x[1])

    got = wg.vmap(f)(xs, ys)
    onp.testing.assert_allclose(got, onp.stack([f(x, y) for x, y in zip(xs, ys)]), rtol=1e-14)
    g = wg.grad(lambda x, y: wnp.sum(f(x, y) ** 2), argnums=(0, 1))
    got = wg.vmap(g)(xs, ys)
    for k in range(3):
        for a, b in zip(got, g(xs[k], ys[k])):
            onp.testing.assert_allclose(a[k], b, rtol=1e-12)
    # x shared by every member, y mapped.
    got = wg.vmap(f, in_axes=(None, 0))(xs[0], ys)
    onp.testing.assert_allclose(got, onp.stack([f(xs[0], y) for y in ys]), rtol=1e-14)


def test_forward_mode_equals_reverse_mode():
    def f(x, y):
        out = wnp.at(x)[REPEATS].multiply(y)
        out = out.at[PAIRS[1][:3]].max(y[:3])
        return out.at[MASK].set(out[:3] * 2.0).at[::2].divide(y[:3] + 3.0)

    jf = wg.jacfwd(f, argnums=(0, 1))(X, Y)
    jr = wg.jacrev(f, argnums=(0, 1))(X, Y)
    for a, b in zip(jf, jr):
        onp.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# --- indices computed from traced values under vmap -------------------------------------


def test_traced_indices_under_vmap():
    xs = R.normal(size=(4, 5))
    # A scalar index computed from the batch names one entry: every operation works.
    for how in ("set", "add", "multiply", "max"):

        def f(x, h=how):
            return getattr(wnp.at(x)[wnp.argmax(x)], h)(x[0] * 3.0)

        onp.testing.assert_allclose(wg.vmap(f)(xs), onp.stack([f(x) for x in xs]))
        g = wg.grad(lambda x, f=f: wnp.sum(f(x) ** 2))
        onp.testing.assert_allclose(wg.vmap(g)(xs), onp.stack([g(x) for x in xs]))


def test_traced_index_arrays_with_repeats_under_vmap():
    xs = R.normal(size=(3, 5))
    idx = onp.array([[0, 0, 1], [2, 3, 2], [4, 4, 4]])
    ys = R.normal(size=(3, 3))

    def f(x, i, y):
        return wnp.sum(wnp.at(x)[i].set(y * x[1]) ** 2 * onp.arange(1.0, 6.0))

    def g(x, i, y):
        return wnp.sum(wnp.at(x)[i].add(y * x[1]) ** 2)

    for fun in (f, g):
        grads = wg.grad(fun, argnums=(0, 2))
        onp.testing.assert_allclose(
            wg.vmap(fun)(xs, idx, ys), [fun(x, i, y) for x, i, y in zip(xs, idx, ys)]
        )
        got = wg.vmap(grads)(xs, idx, ys)
        for k in range(3):
            for a, b in zip(got, grads(xs[k], idx[k], ys[k])):
                onp.testing.assert_allclose(a[k], b, rtol=1e-12)
    with pytest.raises(NotImplementedError, match="traced"):
        wg.vmap(lambda x, i: x.at[i].multiply(2.0))(xs, idx)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how", ["get", "set", "add", "subtract", "multiply", "divide", "power", "min", "max"]
)
def test_out_of_bounds_raises_index_error_as_numpy(how):
    args = () if how == "get" else (1.0,)
    for index in (5, -6, onp.array([0, 5]), onp.array([1, 1, 7]), (0, 1)):
        with pytest.raises(IndexError):
            getattr(wnp.at(X)[index], how)(*args)
    with pytest.raises(IndexError):
        wg.grad(lambda x: wnp.sum(getattr(x.at[onp.array([2, 2, 9])], how)(*args)))(X)


def test_options():
    i = onp.array([0, 0])
    out = wnp.at(X)[i].add(1.0, indices_are_sorted=True, unique_indices=False, mode=None)
    onp.testing.assert_array_equal(out, X + onp.array([2.0, 0, 0, 0, 0]))
    wnp.at(X)[1].set(0.0, mode="promise_in_bounds")
    with pytest.raises(NotImplementedError, match="IndexError"):
        wnp.at(X)[i].set(0.0, mode="clip")
    with pytest.raises(NotImplementedError, match="mode='fill'"):
        wnp.at(X)[i].get(mode="fill", fill_value=0.0)
    with pytest.raises(NotImplementedError, match="fill_value"):
        wnp.at(X)[i].get(fill_value=0.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        wnp.at(X)[i].add(1.0, out=X)
