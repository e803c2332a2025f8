"""wengert.numpy reductions with NumPy's arguments (axis, keepdims, dtype, where, initial,
ddof/correction, mean): values against NumPy, derivatives through the checker in both
modes to order 2, reached through wengert.numpy, through plain NumPy calls on traced
values, and through array methods."""

from __future__ import annotations

import warnings

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

R = onp.random.default_rng(5)


def distinct(*shape):
    """Values with no ties, so max and min are differentiable."""
    n = int(onp.prod(shape))
    return ((R.permutation(n) - n / 2) / 3 + R.uniform(0.05, 0.25, n)).reshape(shape)


X = distinct(3, 4)
MASK = onp.array([[True, False, True, True], [False, True, True, False], [True] * 4])
ROW_MASK = onp.array([True, False, True, True])  # broadcasts over the rows
NONE = onp.zeros((3, 4), dtype=bool)
SOME_EMPTY = onp.array([[True, False, True, True], [False] * 4, [True, True, False, True]])

# (name, whether it takes initial=, whether where= needs initial=)
REDUCTIONS = [
    ("sum", True, False),
    ("prod", True, False),
    ("mean", False, False),
    ("max", True, True),
    ("min", True, True),
    ("amax", True, True),
    ("amin", True, True),
    ("nansum", True, False),
    ("nanprod", True, False),
    ("nanmean", False, False),
    ("nanmax", True, True),
    ("nanmin", True, True),
    ("var", False, False),
    ("std", False, False),
    ("nanvar", False, False),
    ("nanstd", False, False),
]


def _kwarg_sets(name, takes_initial, where_needs_initial):
    """Argument sets for one reduction: axes, keepdims, masks and initial values (for max
    and min one that loses everywhere and one that wins in some slices)."""
    losing = -10.0 if name in ("max", "amax", "nanmax") else 10.0 if "min" in name else 0.5
    sets = [{}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"axis": (0, 1)}]
    for where in (MASK, ROW_MASK):
        kw = {"axis": 1, "where": where}
        if where_needs_initial:
            kw["initial"] = losing
        sets.append(kw)
    if takes_initial:
        sets.append({"axis": 1, "initial": losing})
        sets.append({"initial": 0.25, "where": MASK, "axis": 0, "keepdims": True})
    return sets


PARAMS = [
    pytest.param(name, kw, id=f"{name}-{i}")
    for name, takes_initial, needs in REDUCTIONS
    for i, kw in enumerate(_kwarg_sets(name, takes_initial, needs))
]


@pytest.mark.parametrize("name, kw", PARAMS)
def test_value_matches_numpy_in_every_route(name, kw):
    expected = getattr(onp, name)(X, **kw)
    wf = getattr(wnp, name)
    onp.testing.assert_array_equal(wf(X, **kw), expected)  # untraced
    value, _ = wg.vjp(lambda x: wf(x, **kw), X)
    onp.testing.assert_allclose(value, expected, rtol=1e-15)
    via_numpy, _ = wg.vjp(lambda x: getattr(onp, name)(x, **kw), X)
    onp.testing.assert_allclose(via_numpy, expected, rtol=1e-15)
    method = name if hasattr(onp.ndarray, name) else None
    if method is not None:
        via_method, _ = wg.vjp(lambda x: getattr(x, method)(**kw), X)
        onp.testing.assert_allclose(via_method, expected, rtol=1e-15)


@pytest.mark.parametrize("name, kw", PARAMS)
def test_derivatives_pass_the_checker(name, kw):
    wg.check_grads(lambda x: getattr(wnp, name)(x, **kw), order=2)(X)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "var", "nanvar"])
def test_derivatives_through_plain_numpy_calls_pass_the_checker(name):
    kw = {"axis": 1, "where": MASK}
    if name in ("max", "min"):
        kw["initial"] = -10.0 if name == "max" else 10.0
    wg.check_grads(lambda x: getattr(onp, name)(x, **kw), order=2)(X)
    if hasattr(onp.ndarray, name):
        wg.check_grads(lambda x: getattr(x, name)(**kw), order=2)(X)


def test_max_with_a_winning_initial_has_zero_gradient():
    x = onp.array([0.3, -1.2, 2.0])
    for f in (wnp.max, onp.max, wnp.amax, lambda x, **kw: x.max(**kw)):
        onp.testing.assert_array_equal(wg.grad(lambda x, f=f: f(x, initial=10.0))(x), [0, 0, 0])
        tangent = wg.jvp(lambda x, f=f: f(x, initial=10.0), (x,), (onp.ones(3),))[1]
        assert tangent == 0.0
    onp.testing.assert_array_equal(wg.grad(lambda x: wnp.min(x, initial=-5.0))(x), [0, 0, 0])
    onp.testing.assert_array_equal(wg.grad(lambda x: wnp.max(x, initial=-5.0))(x), [0, 0, 1])


def test_max_ties_share_and_a_tying_initial_takes_half():
    x = onp.array([3.0, 1.0, 3.0, 2.0])
    onp.testing.assert_array_equal(wg.grad(wnp.max)(x), [0.5, 0, 0.5, 0])
    onp.testing.assert_array_equal(
        wg.grad(lambda x: wnp.max(x, initial=3.0))(x), [0.25, 0, 0.25, 0]
    )
    # The same split as maximum(max(x), initial), where the initial is traced.
    g_x, g_c = wg.grad(lambda x, c: wnp.max(x, initial=c), argnums=(0, 1))(x, 3.0)
    onp.testing.assert_array_equal(g_x, [0.25, 0, 0.25, 0])
    assert g_c == 0.5


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "nansum", "nanprod"])
def test_traced_initial_is_differentiated(name):
    x = X[0]
    c0 = {"max": 5.0, "min": -5.0}.get(name, 0.7)

    def f(x, c):
        return getattr(wnp, name)(x, initial=c, where=ROW_MASK)

    onp.testing.assert_allclose(f(x, c0), getattr(onp, name)(x, initial=c0, where=ROW_MASK))
    wg.check_grads(f, order=2)(x, c0)


def test_all_masked_where():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, kw in [
            ("sum", {}),
            ("sum", {"initial": 2.0}),
            ("prod", {"initial": 2.0}),
            ("max", {"initial": 2.0}),
            ("min", {"initial": 2.0}),
            ("nanmax", {"initial": 2.0}),
            ("mean", {}),
            ("nanmean", {}),
            ("var", {}),
            ("nanvar", {}),
            ("std", {}),
        ]:
            kw = {"axis": 1, "where": SOME_EMPTY, **kw}
            expected = getattr(onp, name)(X, **kw)
            f = lambda x, name=name, kw=kw: getattr(wnp, name)(x, **kw)
            value, pullback = wg.vjp(f, X)
            onp.testing.assert_allclose(value, expected, rtol=1e-15)
            g = pullback(onp.ones_like(expected))[0]
            # Entries masked out get no derivative, in both modes.
            assert onp.all(g[~SOME_EMPTY] == 0), name
            for v in onp.eye(12).reshape(12, 3, 4)[~SOME_EMPTY.ravel()]:
                assert onp.all(wg.jvp(f, (X,), (v,))[1] == 0), name


def test_reductions_warn_as_numpy_does_on_empty_slices():
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        wg.vjp(lambda x: wnp.nanmean(x * onp.nan, axis=0), X)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), onp.errstate(divide="ignore"):
        value = wg.vjp(lambda x: wnp.var(x, ddof=12), X)[0]
    assert value == onp.inf  # as NumPy: a positive sum over zero degrees of freedom


def test_out_is_refused_for_traced_input_and_kept_for_plain_input():
    buffer = onp.zeros(4)
    onp.testing.assert_array_equal(wnp.sum(X, axis=0, out=buffer), X.sum(axis=0))
    onp.testing.assert_array_equal(buffer, X.sum(axis=0))
    for f in (wnp.sum, wnp.max, wnp.mean, onp.sum, onp.max):
        with pytest.raises(wg.InPlaceWriteError, match="out="):
            wg.grad(lambda x, f=f: f(x, axis=0, out=buffer).sum())(X)


def test_positional_arguments_follow_numpy():
    onp.testing.assert_array_equal(
        wg.vjp(lambda x: wnp.sum(x, 1, None, None, True), X)[0], X.sum(1, keepdims=True)
    )
    onp.testing.assert_array_equal(
        wg.vjp(lambda x: wnp.max(x, 0, None, True), X)[0], X.max(0, keepdims=True)
    )
    with pytest.raises(TypeError, match="multiple values"):
        wg.vjp(lambda x: wnp.sum(x, 1, axis=0), X)


def test_list_of_traced_values_is_reduced():
    g = wg.grad(lambda a, b: wnp.max([a, b, 0.5]), argnums=(0, 1))(1.0, 2.0)
    assert g == (0.0, 1.0)


@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
def test_ddof_correction_and_precomputed_mean(name):
    f, ref = getattr(wnp, name), getattr(onp, name)
    centre = X.mean(axis=1, keepdims=True) + 0.1
    for kw in ({"ddof": 1}, {"correction": 1.5}, {"mean": centre, "axis": 1}):
        value, _ = wg.vjp(lambda x, kw=kw: f(x, **kw), X)
        onp.testing.assert_allclose(value, ref(X, **kw), rtol=1e-14)
        wg.check_grads(lambda x, kw=kw: f(x, **kw), order=2)(X)
    # A traced mean is differentiated too.
    wg.check_grads(lambda x, m: f(x, axis=1, mean=m), order=2)(X, centre)
    with pytest.raises(ValueError, match="ddof and correction"):
        wg.vjp(lambda x: f(x, ddof=1, correction=1), X)


def test_std_at_zero_variance_has_zero_derivative():
    c = onp.full(3, 2.0)
    for f in (wnp.std, wnp.nanstd, lambda x: wnp.std(x, where=onp.array([True, True, False]))):
        onp.testing.assert_array_equal(wg.grad(f)(c), [0.0, 0.0, 0.0])
        assert wg.jvp(f, (c,), (onp.array([1.0, -2.0, 0.5]),))[1] == 0.0
        onp.testing.assert_array_equal(wg.hessian(f)(c), onp.zeros((3, 3)))


# --- complex input: values against NumPy, derivatives through the checker ----------------

Z = R.standard_normal((3, 4)) + 1j * R.standard_normal((3, 4))
ZN = onp.where(onp.abs(Z) > 1.8, onp.nan, Z)


@pytest.mark.parametrize(
    "name, kw",
    [
        ("var", {}),
        ("var", {"axis": 0, "ddof": 1}),
        ("var", {"axis": 1, "where": MASK}),
        ("std", {}),
        ("std", {"axis": 1, "keepdims": True}),
        ("nanvar", {"axis": 1}),
        ("nanstd", {}),
        ("mean", {"axis": 0, "where": MASK}),
        ("nanmean", {"axis": 1}),
        ("sum", {"where": MASK, "initial": 1j}),
        ("nansum", {"axis": 0}),
        ("prod", {"axis": 1}),
        ("average", {"axis": 1}),
        ("cov", {}),
        ("corrcoef", {}),
    ],
)
def test_complex_statistics_match_numpy(name, kw):
    z = ZN if name.startswith("nan") else Z
    expected = getattr(onp, name)(z, **kw)
    onp.testing.assert_allclose(getattr(wnp, name)(z, **kw), expected, rtol=1e-14)
    value, _ = wg.vjp(lambda z: getattr(wnp, name)(z, **kw), z)
    onp.testing.assert_allclose(value, expected, rtol=1e-13)
    assert onp.result_type(value) == onp.result_type(expected)
    wg.check_grads(lambda z: getattr(wnp, name)(z, **kw), order=2)(z)


def test_complex_variance_is_real_and_matches_numpy_exactly():
    z = onp.array([1 + 2j, -0.5 + 0.3j, 0.2 - 1j, 2])
    assert wnp.var(z) == onp.var(z)
    value, grad = wg.value_and_grad(wnp.var)(z)
    assert value == onp.var(z)
    onp.testing.assert_allclose(grad, 2 * onp.conj(z - z.mean()) / 4, rtol=1e-14)


# --- float32 and complex64 stay in their precision ------------------------------------


@pytest.mark.parametrize("name, kw", PARAMS)
def test_single_precision_is_kept(name, kw):
    f = lambda x: getattr(wnp, name)(x, **kw)
    for dtype, real_dtype in ((onp.float32, onp.float32), (onp.complex64, onp.float32)):
        if dtype == onp.complex64 and ("max" in name or "min" in name):
            continue
        x = (X + (0.5j * X[::-1] if dtype == onp.complex64 else 0)).astype(dtype)
        value, pullback = wg.vjp(f, x)
        assert onp.result_type(value) == onp.result_type(getattr(onp, name)(x, **kw))
        assert pullback(onp.ones_like(value))[0].dtype == dtype
        tangent = wg.jvp(f, (x,), (onp.ones_like(x),))[1]
        assert onp.result_type(tangent) in (real_dtype, dtype)
        second = wg.jvp(lambda x: wg.vjp(f, x)[1](onp.ones_like(value))[0], (x,), (x,))[1]
        assert onp.result_type(second) == dtype
