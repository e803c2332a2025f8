"""wengert.numpy.statistics: values against NumPy, derivatives through the checker in
both modes to order 2, and the conventions at ties and NaNs."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core.batching import loop_primitives
from wengert.numpy import statistics

R = onp.random.default_rng(11)
METHODS = [
    "linear",
    "lower",
    "higher",
    "nearest",
    "midpoint",
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "median_unbiased",
    "normal_unbiased",
]


def real(*shape):
    def make():
        x = R.standard_normal(shape)
        return float(x) if shape == () else x

    return make


def positive(*shape):
    return lambda: R.uniform(0.5, 2.0, shape)


def distinct(*shape):
    """Values with no ties, in random order."""

    def make():
        n = int(onp.prod(shape))
        return (R.permutation(n) + R.uniform(0.1, 0.4, n)).reshape(shape)

    return make


def with_nans(gen, fraction=0.3):
    """Values of `gen` with some entries NaN, at least two numbers in each row and column."""

    def make():
        x = gen()
        mask = R.uniform(size=x.shape) < fraction
        mask[..., :2] = False
        mask[:2] = False
        return onp.where(mask, onp.nan, x)

    return make


CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


# --- order statistics ----------------------------------------------------------------------
for axis in (None, 0, 1, (0, 2)):
    for keepdims in (False, True):
        case(
            "quantile",
            lambda x, a=axis, k=keepdims: wnp.median(x, axis=a, keepdims=k),
            distinct(3, 4, 2),
        )
        case(
            "quantile",
            lambda x, a=axis, k=keepdims: wnp.quantile(x, [0.1, 0.5, 0.93], axis=a, keepdims=k),
            distinct(3, 4, 2),
        )
case("quantile", wnp.median, distinct(4))
case("quantile", wnp.median, distinct(5))
case("quantile", lambda x: wnp.quantile(x, 0.3), distinct(7))
case("quantile", lambda x: wnp.percentile(x, [[10, 20], [75, 99]], axis=0), distinct(5, 3))
for method in METHODS:
    case(
        "quantile",
        lambda x, m=method: wnp.quantile(x, [0.2, 0.61], axis=1, method=m),
        distinct(2, 6),
    )
case("quantile", lambda x: wnp.nanmedian(x, axis=1), with_nans(distinct(3, 5)))
case("quantile", lambda x: wnp.nanquantile(x, [0.25, 0.8], axis=0), with_nans(distinct(5, 3)))
case(
    "quantile",
    lambda x: wnp.nanpercentile(x, 40, axis=-1, keepdims=True),
    with_nans(distinct(2, 6)),
)
case("quantile", lambda x: wnp.median(wnp.sin(x) * x), distinct(6))

# --- averages, spread, NaN reductions -------------------------------------------------------
for axis in (None, 0, 1):
    case("average", lambda x, a=axis: wnp.average(x, axis=a), real(3, 4))
    case("ptp", lambda x, a=axis: wnp.ptp(x, axis=a), distinct(3, 4))
    case("nansum", lambda x, a=axis: wnp.nansum(x, axis=a), with_nans(real(3, 4)))
    case("nanmean", lambda x, a=axis: wnp.nanmean(x, axis=a), with_nans(real(3, 4)))
    case("nanprod", lambda x, a=axis: wnp.nanprod(x, axis=a), with_nans(real(3, 4)))
    case("nanvar", lambda x, a=axis: wnp.nanvar(x, axis=a, ddof=1), with_nans(real(3, 4)))
    case("nanstd", lambda x, a=axis: wnp.nanstd(x, axis=a), with_nans(real(3, 4)))
    case("nanmax", lambda x, a=axis: wnp.nanmax(x, axis=a), with_nans(distinct(3, 4)))
    case("nanmin", lambda x, a=axis: wnp.nanmin(x, axis=a), with_nans(distinct(3, 4)))
case("average", lambda x, w: wnp.average(x, weights=w), real(3, 4), positive(3, 4))
case("average", lambda x, w: wnp.average(x, axis=1, weights=w), real(3, 4), positive(4))
case("average", lambda x, w: wnp.average(x, axis=(0, 2), weights=w), real(2, 3, 4), positive(2, 4))
case("average", lambda x, w: wnp.average(x, axis=(2, 0), weights=w), real(2, 3, 4), positive(4, 2))
case(
    "average",
    lambda x, w: wnp.average(x, axis=0, weights=w, returned=True, keepdims=True),
    real(3, 2),
    positive(3),
)
case("average", lambda x: wnp.average(x, axis=1, returned=True)[1][:, None] * x, real(2, 3))
case("ptp", lambda x: wnp.ptp(x, axis=1, keepdims=True), distinct(2, 3))
case("nansum", lambda x: wnp.nansum(x, axis=1, keepdims=True), real(2, 3))
case("nanmean", lambda x: wnp.nanmean(x, axis=0, keepdims=True), with_nans(real(3, 2)))
case("nanvar", lambda x: wnp.nanvar(x, axis=1, keepdims=True), with_nans(real(2, 4)))
case("nanmax", lambda x: wnp.nanmax(x, axis=0, keepdims=True), with_nans(distinct(3, 2)))
case("nancumsum", lambda x: wnp.nancumsum(x, axis=1), with_nans(real(2, 4)))
case("nancumprod", lambda x: wnp.nancumprod(x), with_nans(real(2, 4)))

# --- covariance and correlation ---------------------------------------------------------------
case("cov", wnp.cov, real(3, 5))
case("cov", wnp.cov, real(5))
case("cov", lambda x, y: wnp.cov(x, y, rowvar=False), real(5, 2), real(5))
case("cov", lambda x: wnp.cov(x, bias=True), real(2, 4))
case("cov", lambda x: wnp.cov(x, ddof=0, fweights=[1, 2, 1, 3]), real(2, 4))
case("cov", lambda x, w: wnp.cov(x, aweights=w), real(2, 4), positive(4))
case(
    "cov",
    lambda x, w: wnp.cov(x, fweights=[2, 1, 1, 3], aweights=w, ddof=2),
    real(3, 4),
    positive(4),
)
case("corrcoef", wnp.corrcoef, real(3, 5))
case("corrcoef", lambda x, y: wnp.corrcoef(x, y), real(4), real(4))
case("corrcoef", lambda x: wnp.corrcoef(x, rowvar=False), real(5, 3))


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_rules(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


def test_every_primitive_is_in_the_table(own_primitives):
    primitives = own_primitives(statistics)
    assert "quantile" in primitives
    missing = sorted(set(primitives) - {name for name, _, _ in CASES})
    assert not missing, f"primitives with no row in the table: {missing}"
    for name, prim in primitives.items():
        assert prim.vjp_rules or prim.vjp_all, f"{name} has no reverse rule"
        assert prim.jvp_rules or prim.jvp_all, f"{name} has no forward rule"


# --- values: traced and untraced calls agree with NumPy (bit for bit for order statistics) ---

X = R.standard_normal((3, 4))
XN = onp.where(X > 0.8, onp.nan, X)
Q = [0.0, 0.13, 0.5, 0.77, 1.0]
VALUES = [
    ("median", lambda np_, x: np_.median(x, axis=1), (X,)),
    ("median", lambda np_, x: np_.median(x, axis=(0, 1), keepdims=True), (X,)),
    ("nanmedian", lambda np_, x: np_.nanmedian(x, axis=0), (XN,)),
    ("nanmedian", lambda np_, x: np_.nanmedian(x), (XN,)),
    ("percentile", lambda np_, x: np_.percentile(x, [5, 50], axis=0), (X,)),
    ("nanpercentile", lambda np_, x: np_.nanpercentile(x, 33, axis=1), (XN,)),
    ("average", lambda np_, x: np_.average(x, axis=0, returned=True), (X,)),
    ("average", lambda np_, x, w: np_.average(x, 1, w, True, keepdims=True), (X, X[0] ** 2 + 0.1)),
    ("average", lambda np_, x, w: np_.average(x, (1, 0), w), (X, X.T**2 + 0.1)),
    ("ptp", lambda np_, x: np_.ptp(x, axis=1), (X,)),
    ("nansum", lambda np_, x: np_.nansum(x, axis=1), (XN,)),
    ("nanprod", lambda np_, x: np_.nanprod(x), (XN,)),
    ("nancumsum", lambda np_, x: np_.nancumsum(x, axis=0), (XN,)),
    ("nancumprod", lambda np_, x: np_.nancumprod(x, axis=1), (XN,)),
    ("nanmean", lambda np_, x: np_.nanmean(x, axis=0), (XN,)),
    ("nanvar", lambda np_, x: np_.nanvar(x, axis=1, ddof=1), (XN,)),
    ("nanstd", lambda np_, x: np_.nanstd(x, keepdims=True), (XN,)),
    ("nanmax", lambda np_, x: np_.nanmax(x, axis=1), (XN,)),
    ("nanmin", lambda np_, x: np_.nanmin(x, axis=0, keepdims=True), (XN,)),
    ("cov", lambda np_, x: np_.cov(x), (X,)),
    ("cov", lambda np_, x, y: np_.cov(x, y, rowvar=False, bias=True), (X, X[:, :2])),
    ("cov", lambda np_, x, w: np_.cov(x, fweights=[1, 2, 1, 3], aweights=w), (X, X[0] ** 2)),
    ("cov", lambda np_, x: np_.cov(x), (X[0],)),
    ("corrcoef", lambda np_, x: np_.corrcoef(x), (X,)),
    ("corrcoef", lambda np_, x, y: np_.corrcoef(x, y), (X[0], X[1] ** 2)),
]
for axis in (None, 0, -1):
    for method in METHODS:
        VALUES.append(
            ("quantile", lambda np_, x, a=axis, m=method: np_.quantile(x, Q, a, method=m), (X,))
        )
        VALUES.append(
            (
                "nanquantile",
                lambda np_, x, a=axis, m=method: np_.nanquantile(x, Q, a, method=m),
                (XN,),
            )
        )


@pytest.mark.parametrize("name, fun, args", VALUES, ids=[v[0] for v in VALUES])
def test_values_match_numpy(name, fun, args):
    expected = fun(onp, *args)
    traced = wg.vjp(lambda *a: fun(wnp, *a), *args)[0]
    for ours in (traced, fun(wnp, *args)):
        if isinstance(expected, tuple):
            for a, b in zip(ours, expected):
                onp.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
        elif "quantile" in name or "median" in name or "percentile" in name:
            onp.testing.assert_array_equal(ours, expected)
        else:
            assert onp.shape(ours) == onp.shape(expected)
            onp.testing.assert_allclose(ours, expected, rtol=1e-13, atol=1e-14)


def test_plain_numpy_calls_are_routed():
    x = R.standard_normal(5)
    g = wg.grad(lambda x: onp.median(x) + onp.quantile(x, 0.3) + onp.nanmean(x) + onp.ptp(x))(x)
    h = wg.grad(lambda x: wnp.median(x) + wnp.quantile(x, 0.3) + wnp.nanmean(x) + wnp.ptp(x))(x)
    onp.testing.assert_allclose(g, h)


# --- conventions ---------------------------------------------------------------------------


def test_median_ties_share_evenly():
    onp.testing.assert_allclose(
        wg.grad(wnp.median)(onp.array([2.0, 2.0, 2.0, 5.0])), [1 / 3] * 3 + [0]
    )
    onp.testing.assert_array_equal(
        wg.grad(wnp.median)(onp.array([1.0, 2.0, 2.0, 3.0, 9.0])), [0, 0.5, 0.5, 0, 0]
    )
    # Without ties the even-length median averages the two middle entries.
    onp.testing.assert_array_equal(
        wg.grad(wnp.median)(onp.array([4.0, 1.0, 3.0, 2.0])), [0, 0, 0.5, 0.5]
    )


def test_quantile_weights_in_both_modes():
    x = onp.array([4.0, 1.0, 3.0, 3.0])
    q = [0.2, 0.5, 1.0]
    jac = onp.stack([wg.grad(lambda x, i=i: wnp.quantile(x, q)[i])(x) for i in range(3)])
    # positions 0.6, 1.5 and 3 among the sorted [1, 3, 3, 4]; the tied 3s share.
    expected = [[0, 0.4, 0.3, 0.3], [0, 0, 0.5, 0.5], [1, 0, 0, 0]]
    onp.testing.assert_allclose(jac, expected)
    t = onp.array([1.0, 10.0, 100.0, 1000.0])
    onp.testing.assert_allclose(
        wg.jvp(lambda x: wnp.quantile(x, q), (x,), (t,))[1], onp.dot(expected, t)
    )


@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")
def test_nan_reductions_give_nan_entries_no_derivative():
    x = onp.array([[1.0, onp.nan, 3.0, 3.0], [onp.nan, onp.nan, onp.nan, onp.nan]])
    traced = wg.vjp(lambda x: wnp.nanmax(x, axis=1), x)[0]
    onp.testing.assert_array_equal(traced, onp.nanmax(x, axis=1))
    with onp.errstate(invalid="ignore"):
        g = wg.grad(lambda x: wnp.nansum(wnp.nan_to_num(wnp.nanmax(x, axis=1))))(x)
    onp.testing.assert_array_equal(g, [[0, 0, 0.5, 0.5], [0, 0, 0, 0]])
    g = wg.grad(lambda x: wnp.nanmedian(x[0]) + wnp.nanvar(x[0]) + wnp.nanmean(x[0]))(x)
    assert onp.all(onp.isfinite(g)) and g[0, 1] == 0 and onp.all(g[1] == 0)
    # A line of NaNs has no entry that counts: its result is NaN, its derivative zero.
    with onp.errstate(invalid="ignore"):
        g = wg.grad(lambda x: wnp.nansum(wnp.nanquantile(x, [0.2, 0.7], axis=1)))(x)
    onp.testing.assert_allclose(g, [[0.6, 0, 0.7, 0.7], [0, 0, 0, 0]])


def test_corrcoef_diagonal_has_zero_derivative():
    x = R.standard_normal((3, 6))
    g = wg.grad(lambda x: wnp.trace(wnp.corrcoef(x)))(x)
    onp.testing.assert_allclose(g, 0.0, atol=1e-12)


def test_traced_weights_and_unsupported_options():
    x = R.standard_normal(4)
    w = R.uniform(0.5, 1.0, 4)
    g = wg.grad(lambda w: wnp.average(x, weights=w))(w)
    onp.testing.assert_allclose(g, (x - onp.average(x, weights=w)) / w.sum())
    with pytest.raises(TypeError, match="weights"):
        wg.grad(lambda x: wnp.quantile(x, 0.5, method="inverted_cdf", weights=w))(x)
    with pytest.raises(ZeroDivisionError):
        wg.grad(lambda w: wnp.average(x, weights=w - w))(w)


# --- batches (vmap) ------------------------------------------------------------------------


def _mapped_equals_loop(fun, *batches, in_axes=0):
    """`wg.vmap(fun)` over the batches against stacking `fun` member by member."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(batches)
    size = next(len(b) for b, a in zip(batches, axes) if a == 0)
    expected = onp.stack(
        [fun(*[b[i] if a == 0 else b for b, a in zip(batches, axes)]) for i in range(size)]
    )
    got = wg.vmap(fun, in_axes=in_axes)(*batches)
    onp.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_reductions_of_a_batch_see_each_members_nans():
    # The members' NaNs sit in different places; one member has none, one a line of NaNs.
    x = R.standard_normal((3, 4, 5))
    x[0, 1, 2] = x[0, 3, 0] = onp.nan
    x[2, :, 4] = onp.nan
    for fun in (
        lambda x: wnp.nanmean(x, axis=0),
        lambda x: wnp.nanvar(x, axis=1, ddof=1),
        lambda x: wnp.nanstd(x[:, :4], axis=0, keepdims=True),
        lambda x: wnp.nansum(x, axis=1),
        lambda x: wnp.nanprod(x),
        lambda x: wnp.nancumsum(x, axis=1),
    ):
        _mapped_equals_loop(fun, x)
        weights = R.standard_normal(onp.shape(fun(x[0])))
        _mapped_equals_loop(wg.grad(lambda x, f=fun, w=weights: wnp.nansum(f(x) * w)), x)


def test_order_statistics_of_a_batch_are_one_call_and_map_over_q():
    x = R.standard_normal((3, 4, 5))
    for fun in (
        lambda x: wnp.quantile(x, [0.2, 0.9], axis=1, keepdims=True),
        lambda x: wnp.median(x),
        lambda x: wnp.nanpercentile(x, [[10, 50]], axis=(0, 1)),
    ):
        _mapped_equals_loop(fun, x)
        _mapped_equals_loop(wg.grad(lambda x, f=fun: wnp.sum(wnp.sin(f(x)))), x)
    assert "quantile" not in loop_primitives()
    # A batch of q (no derivative in q), with shared or batched data.
    q = R.uniform(0, 1, (3, 2))
    _mapped_equals_loop(lambda q: wnp.quantile(x[0], q, axis=0), q)
    _mapped_equals_loop(lambda x, q: wnp.quantile(x, q, axis=1), x, q)
    _mapped_equals_loop(wg.grad(lambda x, q: wnp.sum(wnp.quantile(x, q, axis=1))), x, q)


def test_average_of_a_batch_counts_one_members_entries():
    x = R.standard_normal((3, 2, 4))
    _mapped_equals_loop(lambda x: wnp.average(x, axis=1, returned=True)[1], x)
    _mapped_equals_loop(lambda x: wnp.average(x, returned=True)[1] * x, x)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_cov_of_a_batch_with_degrees_of_freedom_not_positive_in_one_member():
    x = R.standard_normal((2, 4))
    # With ddof=2, the weights of member 1 sum to less than the correction.
    aweights = onp.array([[1.0, 2.0, 1.5, 3.0], [0.1, 0.2, 0.1, 0.1], [2.0, 1.0, 1.0, 1.0]])
    _mapped_equals_loop(lambda w: wnp.cov(x, ddof=2, aweights=w), aweights)
    _mapped_equals_loop(wg.grad(lambda w: wnp.sum(wnp.cov(x, aweights=w))), aweights)


def test_cov_maps_over_frequency_weights():
    x = R.standard_normal((2, 4))
    fweights = onp.array([[1, 2, 1, 3], [2, 2, 1, 1], [0, 1, 3, 1]])
    _mapped_equals_loop(lambda fw: wnp.cov(x, fweights=fw), fweights)
    with pytest.raises(ValueError, match="fweights"):
        wg.vmap(lambda fw: wnp.cov(x, fweights=fw))(onp.array([[1, 2, 1, 3], [1, -1, 1, 1]]))
