"""`fuse`: groups of elementwise equations become one numexpr expression each, and the fused
program evaluates as the recorded one does (within rounding: rtol 1e-14 for float64, 1e-6
for float32), with the same dtypes and shapes.

The sweep at the end runs every elementwise row of the derivative tables (tests/_tables.py)
at sizes large enough to fuse, for the function and for its gradient program.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as onp
import pytest

numexpr = pytest.importorskip("numexpr")

import wengert as wg  # noqa: E402
import wengert.numpy as np  # noqa: E402
from wengert._core.recording import Equation, Guard, Var  # noqa: E402
from wengert._core.tree import tree_flatten  # noqa: E402
from wengert.program import GuardError  # noqa: E402
from wengert.program import fuse as fuse_module  # noqa: E402
from wengert.program.fuse import FUSIBLE  # noqa: E402

F64 = {"rtol": 1e-14, "atol": 1e-14}
F32 = {"rtol": 1e-6, "atol": 1e-6}
N = 5000


def fuse(program, **options):
    """`fuse` with groups from 1000 elements on (the tests' arrays are small)."""
    return fuse_module.fuse(program, **{"min_size": 1000, **options})


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def fused_equations(program) -> list[Equation]:
    return [e for e in program.equations if type(e) is Equation and e.primitive.name == "fused"]


def defined(program) -> set:
    out = set(program.inputs)
    for e in program.equations:
        if type(e) is Equation:
            out.update(e.outputs)
    return out


def assert_well_formed(program) -> None:
    """Every variable is defined before it is used, outputs and guards included."""
    seen = set(program.inputs)
    for e in program.equations:
        if type(e) is Guard:
            assert e.var in seen
            continue
        assert all(x in seen for x in e.inputs if type(x) is Var)
        seen.update(e.outputs)
    assert all(x in seen for x in program.outputs if type(x) is Var)


def test_rosenbrock_gradient_fused_evaluates_like_the_recorded_program_at_new_inputs():
    rng = onp.random.default_rng(0)
    prog = wg.make_program(wg.grad(rosenbrock))(rng.uniform(-1, 1, N))
    fast = fuse(prog)
    assert_well_formed(fast)
    assert len(fused_equations(fast)) >= 4
    assert len(fast) < len(prog)
    for _ in range(3):
        x = rng.uniform(-2, 2, N)
        expected = prog(x)
        got = fast(x)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        onp.testing.assert_allclose(got, expected, **F64)
        onp.testing.assert_allclose(got, wg.grad(rosenbrock)(x), **F64)


def test_float32_stays_float32_with_python_float_constants():
    rng = onp.random.default_rng(1)

    def f(x):
        # 0.1 is no float32 number: NumPy rounds it to float32, numexpr would widen x.
        y = np.where(x > 0.1, x * 0.1 + 2.5, np.sin(x) / 3.0)
        return y**2 - 0.7 * x

    x32 = rng.uniform(-1, 1, N).astype(onp.float32)
    prog = wg.make_program(f)(x32)
    # By default float32 stays NumPy (its SIMD loops are faster than numexpr's).
    assert fuse(prog).equations == prog.equations
    fast = fuse(prog, dtypes=None)
    assert fused_equations(fast) and len(fast) == 1
    for e in fast.equations:
        assert all(v.dtype == onp.float32 for v in e.outputs)
    x = rng.uniform(-1, 1, N).astype(onp.float32)
    got, expected = fast(x), prog(x)
    assert got.dtype == onp.float32
    onp.testing.assert_allclose(got, expected, **F32)
    # The comparison happens in float32, as in NumPy: the same elements are selected.
    edge = onp.full(N, onp.float32(0.1))
    onp.testing.assert_allclose(fast(edge), prog(edge), **F32)

    grad_prog = wg.make_program(wg.grad(lambda x: np.sum(f(x))))(x32)
    grad_fast = fuse(grad_prog, dtypes=None)
    assert fused_equations(grad_fast)
    out = grad_fast(x)
    assert out.dtype == onp.float32
    onp.testing.assert_allclose(out, grad_prog(x), **F32)


def test_broadcasting_inputs_of_different_shapes():
    rng = onp.random.default_rng(2)

    def f(a, b, c, s):
        return np.tanh(a * b + c**2) - 1.5 * a / (1.0 + b * b) + s * c

    args = [rng.uniform(-1, 1, shape) for shape in [(40, 1, 30), (30,), (25, 1), ()]]
    args[3] = 0.75
    prog = wg.make_program(f)(*args)
    fast = fuse(prog)
    # One group per size: tanh(...) - ... + ... on (40, 25, 30) and 1.5 * a / (...) on
    # (40, 1, 30); the operations on fewer elements (b * b on 30) stay NumPy.
    shapes = [e.outputs[0].shape for e in fused_equations(fast)]
    assert shapes == [(40, 1, 30), (40, 25, 30)]
    assert fast.primitives() == {"multiply": 3, "power": 1, "add": 1, "fused": 2}
    new = [rng.uniform(-1, 1, onp.shape(a)) for a in args[:3]] + [0.75]
    got, expected = fast(*new), prog(*new)
    assert got.shape == (40, 25, 30)
    onp.testing.assert_allclose(got, expected, **F64)


def test_smaller_values_inside_a_large_group_stay_numpy():
    # exp(b) has 30 elements: inside the (2000, 30) expression it would be computed 2000
    # times over, so it stays a NumPy equation (and alone, is not fused).
    def f(a, b):
        return np.sin(a) * np.exp(b) + a

    a, b = onp.ones((2000, 30)), onp.ones(30)
    fast = fuse(wg.make_program(f)(a, b))
    assert fast.primitives() == {"exp": 1, "fused": 1}
    onp.testing.assert_allclose(fast(a + 0.5, b * 0.3), f(a + 0.5, b * 0.3), **F64)


def test_values_used_outside_a_group_are_kept():
    def f(x):
        a = x * 2.0 + 1.0  # used by the sum and by the second group
        b = np.sin(a) * a - 3.0
        return b, np.sum(a), np.cumsum(b * 0.5)

    x = onp.linspace(-1, 1, N)
    prog = wg.make_program(f)(x)
    fast = fuse(prog)
    assert_well_formed(fast)
    # a (multiply, add) and b (sin, multiply, subtract) are materialised: both are fused
    # roots; b * 0.5 alone is one operation and stays NumPy.
    roots = [e.outputs[0] for e in fused_equations(fast)]
    assert len(roots) == 2
    assert roots[1] is prog.outputs[0]
    assert fast.primitives()["multiply"] == 1
    y = onp.linspace(-3, 2, N)
    for got, expected in zip(fast(y), prog(y)):
        onp.testing.assert_allclose(got, expected, **F64)


def test_guards_are_kept_and_their_variables_materialised():
    def f(x):
        y = x * x + 1.0
        if np.sum(y) > 1e4:  # a decision from a traced value: a guard
            return np.sqrt(y) * 2.0 - x
        return np.log(y) * 2.0 - x

    x = onp.linspace(-1, 1, N)
    prog = wg.make_program(f)(x)
    fast = fuse(prog)
    assert_well_formed(fast)
    assert [g.var for g in fast.guards] == [g.var for g in prog.guards]
    onp.testing.assert_allclose(fast(x), prog(x), **F64)
    with pytest.raises(GuardError):
        fast(onp.linspace(-300, 300, N))

    # y is used only inside the group, until a guard (a rule that read its whole value)
    # needs it: then it is materialised and checked.
    plain = wg.make_program(lambda x: np.sqrt(x * x + 1.0) * 2.0 - x)(x)
    y_var = plain.equations[1].outputs[0]
    assert y_var not in defined(fuse(plain)) and fuse(plain).primitives() == {"fused": 1}
    guard = Guard(y_var, x * x + 1.0, "value", None)
    guarded = plain.replace([*plain.equations[:2], guard, *plain.equations[2:]])
    fast = fuse(guarded)
    assert_well_formed(fast)
    assert y_var in defined(fast) and fast.guards == [guard]
    assert fast.primitives() == {"fused": 2}
    onp.testing.assert_allclose(fast(x), guarded(x), **F64)
    with pytest.raises(GuardError):
        fast(x * 0.5)


def test_a_program_with_nothing_to_fuse_is_unchanged():
    def f(x, w):
        return np.sum(np.tanh(x @ w)), np.cumsum(x)

    for args in [(onp.ones((50, 40)), onp.ones((40, 30))), (onp.ones((4, 3)), onp.ones((3, 2)))]:
        prog = wg.make_program(f)(*args)
        fast = fuse(prog)
        assert fast.equations == prog.equations
        assert "fused" not in fast.primitives()
    # By default, arrays must have fuse_module.MIN_SIZE elements (1e5) to be worth it.
    prog = wg.make_program(lambda x: np.sin(x) * 2.0 + x)(onp.ones(fuse_module.MIN_SIZE - 1))
    assert fuse_module.fuse(prog).equations == prog.equations
    prog = wg.make_program(lambda x: np.sin(x) * 2.0 + x)(onp.ones(fuse_module.MIN_SIZE))
    assert fuse_module.fuse(prog).primitives() == {"fused": 1}
    small = wg.make_program(lambda x: np.sin(x) * 2.0 + x)(onp.ones(10))
    assert fuse(small).equations == small.equations
    assert fuse(small, min_size=1).primitives() == {"fused": 1}
    onp.testing.assert_allclose(
        fuse(small, min_size=1)(onp.arange(10.0)), small(onp.arange(10.0)), **F64
    )


def test_unsupported_dtypes_and_keyword_arguments_stay_numpy():
    x16 = onp.linspace(0, 1, N).astype(onp.float16)
    prog = wg.make_program(lambda x: np.sin(x) * x + 1.0)(x16)
    assert fuse(prog).equations == prog.equations
    # int32 with float32 gives float64 in NumPy but float32 in numexpr: not fused there.
    i32, f32 = onp.arange(N, dtype=onp.int32), onp.ones(N, onp.float32)
    prog = wg.make_program(lambda f, i: np.sin(f * i) + f)(f32, i32)
    fast = fuse(prog, dtypes=None)
    onp.testing.assert_allclose(fast(f32, i32), prog(f32, i32), **F64)
    assert fast(f32, i32).dtype == onp.float64


# Both backends: numexpr, and numba where it is installed.
BACKENDS = [
    "numexpr",
    pytest.param(
        "numba",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("numba") is None, reason="numba is not installed"
        ),
    ),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("backend", BACKENDS)
def test_infinities_and_nans_as_in_numpy(backend):
    def f(x):
        return np.log(x) * 2.0 + 1.0 / x - np.sqrt(x) * np.exp(x)

    special = onp.array([0.0, -0.0, -1.0, onp.inf, -onp.inf, onp.nan, 1e-310, 800.0])
    x = onp.resize(special, N)
    prog = wg.make_program(f)(onp.linspace(1, 2, N))
    fast = fuse(prog, backend=backend)
    assert fast.primitives() == {"fused": 1}
    with onp.errstate(all="ignore"):
        onp.testing.assert_allclose(fast(x), prog(x), **F64)


@pytest.mark.parametrize("backend", BACKENDS)
def test_complex_values(backend):
    rng = onp.random.default_rng(3)
    z = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    prog = wg.make_program(lambda z: np.real(np.exp(z) * np.conj(z) + 2.0) * np.imag(z))(z)
    fast = fuse(prog, backend=backend)
    assert fast.primitives() == {"fused": 1}
    w = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    got = fast(w)
    assert got.dtype == onp.float64
    onp.testing.assert_allclose(got, prog(w), **F64)


def test_a_fused_program_is_for_evaluation_only():
    prog = fuse(wg.make_program(lambda x: np.sin(x) * x)(onp.ones(N)))
    with pytest.raises(TypeError, match="evaluates values only"):
        wg.grad(lambda x: np.sum(prog(x)))(onp.ones(N))


def test_without_numexpr_fuse_says_how_to_install_it(monkeypatch):
    prog = wg.make_program(lambda x: np.sin(x) * x)(onp.ones(N))
    monkeypatch.setattr(fuse_module, "numexpr", None)
    with pytest.raises(ImportError, match=r'pip install "wengert\[fast\]"'):
        fuse(prog)


def test_fused_program_prints_its_expressions():
    prog = fuse(wg.make_program(lambda x: np.exp(-(x**2)) * 3.0)(onp.ones(N)))
    assert "fused(x, expr='(exp((-(a0 ** (2)))) * (3.0))')" in str(prog)


# --- the derivative tables' elementwise rows, at sizes that fuse ------------------------------
_spec = importlib.util.spec_from_file_location(
    "_wengert_test_tables", Path(__file__).resolve().parents[1] / "_tables.py"
)
_tables = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_tables)

# The elementwise table (other tables reuse the names for non-elementwise rows: cross).
CASES = [
    c
    for c in _tables.load_tables("_fuse_tables")[0]
    if c.name in FUSIBLE and c.id.startswith("numpy/test_primitives:")
]
# Rows whose named primitive numexpr does not compute (so it stays NumPy).
NOT_FUSED = {"imag"}  # imag of a real value: a zero array in NumPy, no numexpr function


def _check(prog, args, tol) -> None:
    fast = fuse(prog, dtypes=None)
    assert_well_formed(fast)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = prog(*args)
        except GuardError:
            return  # the new draw takes another path in the recorded function
        got = fast(*args)
    for g, e in zip(tree_flatten(got)[0], tree_flatten(expected)[0]):
        assert onp.shape(g) == onp.shape(e) and onp.result_type(g) == onp.result_type(e)
        onp.testing.assert_allclose(g, e, **tol)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [onp.float64, onp.float32])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_elementwise_table_row_fused_evaluates_like_numpy(case, dtype):
    if not _tables.elementwise_row(case):
        pytest.skip("not elementwise (dot, outer)")
    tol = F64 if dtype == onp.float64 else F32
    args = _tables.enlarged(case, 0, dtype)
    new_args = _tables.enlarged(case, 1000, dtype)
    try:
        case.fun(*args)
    except ValueError:
        pytest.skip("not elementwise along a new leading axis")

    def value(*a):  # two more operations after the row's own: a group to fuse into
        return case.fun(*a) * 1.5 + 0.25

    prog = wg.make_program(value)(*args)
    fast = fuse(prog, dtypes=None)
    if case.name not in NOT_FUSED:
        assert fused_equations(fast), str(prog)
        assert case.name not in fast.primitives(), str(fast)
    _check(prog, new_args, tol)

    diff = [i for i, x in enumerate(args) if _tables.is_inexact(x)]
    shape = onp.shape(value(*args))
    weights = onp.random.default_rng(case.seed).uniform(0.5, 1.5, shape).astype(dtype)

    def loss(*d):
        full = list(args)
        for i, v in zip(diff, d):
            full[i] = v
        out = value(*full)
        # np.real's reverse rule reads its input's value (a guard): only where needed.
        return np.sum((np.real(out) if onp.iscomplexobj(out) else out) * weights)

    grad_prog = wg.make_program(wg.grad(loss, argnums=tuple(range(len(diff)))))(
        *[args[i] for i in diff]
    )
    _check(grad_prog, [new_args[i] for i in diff], tol)
