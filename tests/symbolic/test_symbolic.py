"""Symbolic expressions: derivatives by the primitives' rules, simplification, output,
evaluation, matrix calculus, control flow, and the SymPy bridge."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as np
from wengert import symbolic as sym

x, y, z = sym.symbols("x y z")
VECTOR = sym.symbols("v", shape=(3,))


def logistic(v, k):
    for _ in range(k):
        v = 4 * v * (1 - v)
    return v


# --- the examples ------------------------------------------------------------


def test_gradient_of_a_rational_function_prints_simplified():
    d = wg.grad(lambda x: 1.0 / (x**2 + 1.0))(x)
    assert str(d) == "-2*x/(x**2 + 1)**2"
    assert d.subs({x: 3.0}) == pytest.approx(-0.06, abs=1e-15)
    assert sym.lambdify([x], d)(3.0) == pytest.approx(-0.06, abs=1e-15)
    assert d.latex() == r"-\frac{2 x}{\left(x^{2} + 1\right)^{2}}"
    second = sym.diff(d, x)
    assert str(second) == "8*x**2/(x**2 + 1)**3 - 2/(x**2 + 1)**2"
    assert second.subs({x: 3.0}) == pytest.approx(wg.grad(wg.grad(lambda x: 1 / (x**2 + 1)))(3.0))


def test_matrix_derivatives_print_in_matrix_notation():
    a = sym.symbols("A", shape=(3, 3))
    v = sym.symbols("v", shape=(3,))
    m = sym.symbols("X", shape=(3, 3))
    assert str(wg.grad(lambda v: v @ a @ v)(v)) == "(A + A.T) @ v"
    assert str(wg.grad(lambda m: np.log(np.linalg.det(m)))(m)) == "inv(X).T"
    assert wg.grad(lambda m: np.log(np.linalg.det(m)))(m).latex() == "X^{-T}"
    assert str(wg.grad(lambda m: np.trace(a @ m @ m.T))(m)) == "(A + A.T) @ X"


@pytest.mark.parametrize(
    "f",
    [
        lambda m, a, v: np.log(np.linalg.det(m)),
        lambda m, a, v: v @ m @ v,
        lambda m, a, v: np.trace(a @ m @ m.T),
        lambda m, a, v: np.sum(np.linalg.inv(m) @ a),
        lambda m, a, v: np.sum(np.sin(m @ v) * v),
    ],
    ids=["logdet", "quadratic", "trace", "inv", "mixed"],
)
def test_matrix_gradients_equal_numeric_ad_at_random_points(f):
    m_, a_, v_ = (
        sym.symbols("M", shape=(3, 3)),
        sym.symbols("A", shape=(3, 3)),
        sym.symbols("v", shape=(3,)),
    )
    d = wg.grad(f)(m_, a_, v_)
    rng = onp.random.default_rng(7)
    for _ in range(5):
        m = rng.standard_normal((3, 3)) + 3 * onp.eye(3)
        a, v = rng.standard_normal((3, 3)), rng.standard_normal(3)
        got = d.subs({m_: m, a_: a, v_: v})
        onp.testing.assert_allclose(got, wg.grad(f)(m, a, v), rtol=1e-12, atol=1e-12)


def test_logdet_gradient_is_the_inverse_transpose():
    m_ = sym.symbols("M", shape=(4, 4))
    d = sym.lambdify([m_], wg.grad(lambda m: np.log(np.linalg.det(m)))(m_))
    m = onp.random.default_rng(0).standard_normal((4, 4)) + 4 * onp.eye(4)
    onp.testing.assert_allclose(d(m), onp.linalg.inv(m).T, rtol=1e-12)


# --- the same rules in every mode ---------------------------------------------------


def test_forward_mode_and_symbolic_differentiation_agree():
    f = lambda x, y: np.sin(x * y) * np.exp(-(x**2))
    _, tangent = wg.jvp(f, (x, y), (1.0, 0.0))
    assert tangent is not None
    assert str(tangent) == str(wg.grad(f)(x, y))
    assert str(sym.diff(f(x, y), x)) == str(tangent)


def test_hessian_jacobian_vjp_and_nesting():
    f = lambda x, y: np.sin(x * y)
    h = wg.hessian(f, argnums=(0, 1))(x, y)
    assert str(h[0][1]) == "cos(x*y) - x*y*sin(x*y)"
    assert str(h[0][0]) == "-y**2*sin(x*y)"
    assert str(wg.grad(wg.grad(lambda x: x**4))(x)) == "12*x**2"
    assert str(wg.grad(lambda x: wg.grad(lambda y: x * y**2)(x))(x)) == "4*x"
    v = sym.symbols("v", shape=(3,))
    assert str(wg.vjp(np.sin, v)[1](onp.ones(3))[0]) == "cos(v)"
    jac = wg.jacobian(lambda v: np.sin(v))(v)
    point = onp.array([0.1, 0.2, 0.3])
    onp.testing.assert_allclose(jac.subs({v: point}), onp.diag(onp.cos(point)))
    assert str(wg.grad(wg.jit(lambda x: x**3))(x)) == "3*x**2"
    assert str(wg.vmap(lambda t: t**2)(v)) == "v**2"


def test_plain_numpy_functions_build_expressions():
    assert str(onp.sin(x) * onp.exp(x)) == "sin(x)*exp(x)"


def test_piecewise_through_where_and_a_clear_error_for_python_if():
    d = wg.grad(lambda x: np.where(x > 0, x**2, -x))(x)
    assert str(d) == "where(x > 0, 2*x, -1)"
    assert d.subs({x: 2.0}) == 4.0 and d.subs({x: -2.0}) == -1.0
    with pytest.raises(sym.SymbolicControlFlowError, match="where"):
        wg.grad(lambda x: x if x > 0 else -x)(x)
    with pytest.raises(sym.SymbolicControlFlowError, match="where"):
        int(x)


# --- exactness and simplification ------------------------------------------------------


def test_rational_constants_stay_exact():
    assert str(sym.diff(x**3 / 3, x)) == "x**2"
    assert str(x / 3 + x / 6) == "x/2"
    assert str(wg.grad(lambda x: np.sqrt(x) / 3)(x)) == "1/(6*sqrt(x))"
    assert str(x ** Fraction(1, 3) * x ** Fraction(2, 3)) == "x"


@pytest.mark.parametrize(
    "build, printed",
    [
        (lambda: x * 1, "x"),
        (lambda: x + 0, "x"),
        (lambda: x - x, "0"),
        (lambda: x / x, "1"),
        (lambda: 2 * x + 3 * x, "5*x"),
        (lambda: x * x * x / x, "x**2"),
        (lambda: (x * y) ** 2 / y, "x**2*y"),
        (lambda: np.sqrt(x) ** 2, "x"),
        (lambda: np.square(np.sqrt(x * y)), "x*y"),
        (lambda: (x**2) ** 0.5, "sqrt(x**2)"),
        (lambda: -(-x), "x"),
        (lambda: (x + 1) - (1 + x), "0"),
        (lambda: 1 - x, "1 - x"),
        (lambda: np.reshape(x, ()), "x"),
    ],
)
def test_each_simplification_keeps_the_value(build, printed):
    expr = build()
    assert str(expr) == printed
    rng = onp.random.default_rng(3)
    for _ in range(10):
        point = {x: rng.uniform(0.1, 3.0), y: rng.uniform(0.1, 3.0)}
        numeric = _numeric(build, point)
        used = {s.node for s in sym.as_expr(expr).free_symbols}
        mapping = {s: v for s, v in point.items() if s.node in used}
        assert sym.subs(expr, mapping) == pytest.approx(numeric, rel=1e-13)


def _numeric(build, point):
    """`build` run with x and y bound to numbers (its globals swapped for the call)."""
    g = build.__globals__
    saved = g["x"], g["y"]
    g["x"], g["y"] = point[x], point[y]
    try:
        return float(build())
    finally:
        g["x"], g["y"] = saved


def test_zero_of_an_array_keeps_its_shape():
    v = sym.symbols("v", shape=(3,))
    zero = v - v
    assert zero.shape == (3,)
    onp.testing.assert_array_equal(zero.subs({v: onp.ones(3)}), onp.zeros(3))
    assert (0 * v).shape == (3,)
    assert (v + x - x).shape == (3,)


_UNARY = [np.sin, np.cos, np.exp, np.tanh, lambda t: np.log(1 + t * t), lambda t: t**3]
_BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (1 + b * b),
    lambda a, b: a * b - b * a + a,
]


def _random_function(rng, depth):
    if depth == 0:
        return [lambda x, y: x, lambda x, y: y, lambda x, y: 2 * x - y / 3][rng.integers(3)]
    if rng.uniform() < 0.4:
        g = _random_function(rng, depth - 1)
        u = _UNARY[rng.integers(len(_UNARY))]
        return lambda x, y: u(g(x, y))
    g, h = _random_function(rng, depth - 1), _random_function(rng, depth - 1)
    b = _BINARY[rng.integers(len(_BINARY))]
    return lambda x, y: b(g(x, y), h(x, y))


@pytest.mark.parametrize("seed", range(40))
def test_random_functions_and_their_derivatives_keep_their_values(seed):
    rng = onp.random.default_rng(seed)
    f = _random_function(rng, 4)
    value = f(x, y)
    gx, gy = wg.grad(f, argnums=(0, 1))(x, y)
    hxy = sym.diff(gx, y)
    for _ in range(3):
        a, b = rng.uniform(-1.5, 1.5, size=2)
        point = {x: a, y: b}
        assert sym.subs(value, point) == pytest.approx(f(a, b), rel=1e-10, abs=1e-12)
        ga, gb = wg.grad(f, argnums=(0, 1))(a, b)
        assert sym.subs(gx, point) == pytest.approx(ga, rel=1e-9, abs=1e-11)
        assert sym.subs(gy, point) == pytest.approx(gb, rel=1e-9, abs=1e-11)
        mixed = wg.grad(lambda t: wg.grad(f, argnums=0)(a, t))(b)
        assert sym.subs(hxy, point) == pytest.approx(mixed, rel=1e-8, abs=1e-10)


# --- expression swell ------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 5, 10, 20])
def test_logistic_map_derivative_grows_linearly_in_the_shared_graph(k):
    function = logistic(x, k)
    derivative = wg.grad(lambda t: logistic(t, k))(x)
    assert derivative.dag_size() <= 4 * function.dag_size()
    assert derivative.dag_size() < derivative.tree_size() or k == 1
    got = derivative.subs({x: 0.3})
    want = wg.grad(lambda t: logistic(t, k))(0.3)
    assert got == pytest.approx(want, rel=1e-12)


def test_long_expressions_print_their_shared_parts_once():
    text = str(wg.grad(lambda t: logistic(t, 6))(x))
    lines = text.splitlines()
    assert lines[0] == "_1 = 1 - x"
    assert len(text) < 1000
    assert lines[-1] == "4*_1*_10 - 4*x*_10"


def test_tree_and_dag_sizes():
    e = (x + y) * (x + y) + np.sin(x + y)
    assert e.dag_size() == 4  # x + y once, its square, sin, the sum of two terms
    assert e.tree_size() == 5  # x + y written twice


# --- output and evaluation -------------------------------------------------------------


def test_source_runs_and_reproduces_the_values():
    d = wg.grad(lambda x, y: np.exp(x) * np.cos(y) / (1 + x**2), argnums=(0, 1))(x, y)[0]
    namespace: dict = {}
    exec(d.source("df"), namespace)
    assert namespace["df"](0.4, 1.1) == sym.lambdify([x, y], d)(0.4, 1.1)
    assert d.to_program().equations


def test_lambdify_broadcasts_and_keeps_float32():
    f = sym.lambdify([x], x**2 / 3 + 1)
    onp.testing.assert_allclose(f(onp.arange(3.0)), onp.arange(3.0) ** 2 / 3 + 1)
    assert f(onp.float32(2.0)).dtype == onp.float32
    both = sym.lambdify([x, y], (x + y, x * y))
    assert both(2.0, 3.0) == (5.0, 6.0)


def test_partial_substitution_gives_an_expression():
    assert str(sym.subs(x * y + x, {y: 2})) == "3*x"
    assert str((x * y).subs({y: x})) == "x**2"


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: sym.subs(x, {"x": 1.0}), TypeError, "symbol"),
        (lambda: sym.subs(VECTOR, {VECTOR: onp.ones(2)}), ValueError, "shape"),
        (lambda: sym.symbols("1x"), ValueError, "identifier"),
        (lambda: sym.lambdify([x], x * y), ValueError, "y"),
        (lambda: float(x), sym.SymbolicValueError, "subs"),
        (lambda: wg.make_program(lambda t: t)(x), TypeError, "to_program"),
        (lambda: onp.asarray(x), sym.SymbolicValueError, "numeric value"),
    ],
)
def test_mistakes_get_errors_that_say_what_to_do(call, error, words):
    with pytest.raises(error, match=words):
        call()


# --- SymPy ------------------------------------------------------------------------------

sympy = pytest.importorskip("sympy")


def test_round_trip_through_sympy_keeps_exact_numbers():
    e = x**2 / 3 - np.sin(x) * y + np.where(x > 0, x, -x)
    back = sym.from_sympy(sym.to_sympy(e))
    for a, b in [(0.5, 2.0), (-1.5, 0.25)]:
        assert sym.subs(back, {x: a, y: b}) == pytest.approx(sym.subs(e, {x: a, y: b}))
    assert sym.to_sympy(x / 3) == sympy.Symbol("x", real=True) / 3


def test_matrix_products_with_vectors_reach_sympy():
    a = sym.symbols("A", shape=(3, 3))
    v_s, a_s = sympy.MatrixSymbol("v", 3, 1), sympy.MatrixSymbol("A", 3, 3)
    assert sym.to_sympy(a @ VECTOR) == a_s * v_s
    assert sym.to_sympy(VECTOR @ a) == a_s.T * v_s  # v @ A is written A.T @ v
    assert sym.to_sympy(VECTOR @ VECTOR) == (v_s.T * v_s)[0, 0]
    gradient = sym.to_sympy(wg.grad(lambda v: v @ a @ v)(VECTOR))
    assert gradient == (a_s + a_s.T) * v_s


def test_expand_and_factor_via_sympy():
    assert str(sym.expand((x + 1) ** 3)) == "x**3 + 3*x**2 + 3*x + 1"
    d2 = sym.diff(wg.grad(lambda x: 1 / (x**2 + 1))(x), x)
    assert str(sym.factor(d2)) == "2*(3*x**2 - 1)/(x**2 + 1)**3"


_SYMPY_UNARY = [
    (np.sin, sympy.sin),
    (np.cos, sympy.cos),
    (np.exp, sympy.exp),
    (np.tanh, sympy.tanh),
    (np.arctan, sympy.atan),
    (lambda t: np.log(1 + t * t), lambda t: sympy.log(1 + t * t)),
    (lambda t: np.sqrt(1 + t * t), lambda t: sympy.sqrt(1 + t * t)),
]


def _random_pair(rng, depth):
    """The same random expression built with wengert and with SymPy."""
    if depth == 0:
        k = int(rng.integers(3))
        return [(lambda a, b: a, lambda a, b: a), (lambda a, b: b, lambda a, b: b),
                (lambda a, b: a * b / 2, lambda a, b: a * b / 2)][k]  # fmt: skip
    if rng.uniform() < 0.45:
        wf, sf = _random_pair(rng, depth - 1)
        wu, su = _SYMPY_UNARY[int(rng.integers(len(_SYMPY_UNARY)))]
        return (lambda a, b: wu(wf(a, b))), (lambda a, b: su(sf(a, b)))
    (wf, sf), (wg_, sg) = _random_pair(rng, depth - 1), _random_pair(rng, depth - 1)
    op = int(rng.integers(4))
    ops = [
        lambda p, q: p + q,
        lambda p, q: p - q,
        lambda p, q: p * q,
        lambda p, q: p / (2 + q * q),
    ]
    o = ops[op]
    return (lambda a, b: o(wf(a, b), wg_(a, b))), (lambda a, b: o(sf(a, b), sg(a, b)))


@pytest.mark.parametrize("seed", range(50))
def test_derivatives_equal_sympys(seed):
    rng = onp.random.default_rng(100 + seed)
    wf, sf = _random_pair(rng, 3)
    xs, ys = sympy.symbols("x y", real=True)
    ours = wg.grad(wf)(x, y)
    theirs = sympy.diff(sf(xs, ys), xs)
    for _ in range(3):
        a, b = rng.uniform(-1.5, 1.5, size=2)
        want = float(theirs.subs({xs: a, ys: b}))
        assert sym.subs(ours, {x: a, y: b}) == pytest.approx(want, rel=1e-10, abs=1e-12)
    if ours.tree_size() <= 60:
        assert sympy.simplify(sym.to_sympy(ours) - theirs) == 0


def test_the_module_is_documented():
    assert sym.__doc__ and "same rules" in sym.__doc__
    assert math.isclose(sym.lambdify([x], sym.diff(x**2, x))(1.5), 3.0)
