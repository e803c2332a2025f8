"""The numba backend of `fuse` and `jit`: groups of elementwise equations become numba
ufuncs, and the program evaluates as the recorded one does (within rounding: rtol 1e-14
for float64, 1e-6 for float32; transcendental functions may differ in the last bits), with
the same dtypes and shapes; what numba cannot compute exactly as NumPy stays NumPy.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as onp
import pytest

numba = pytest.importorskip("numba")

import wengert as wg  # noqa: E402
import wengert.numpy as np  # noqa: E402
from wengert._core.recording import Equation, Guard, Var  # noqa: E402
from wengert._core.tree import tree_flatten  # noqa: E402
from wengert.program import GuardError, fuse_numba  # noqa: E402
from wengert.program.fuse import FUSIBLE  # noqa: E402
from wengert.program.fuse import fuse as _fuse  # noqa: E402

F64 = {"rtol": 1e-14, "atol": 1e-14}
F32 = {"rtol": 1e-6, "atol": 1e-6}
N = 20_000  # above fuse_numba.MIN_SIZE


def fuse(program, **options):
    """`fuse` with the numba backend and groups from 1000 elements on."""
    return _fuse(program, **{"backend": "numba", "min_size": 1000, **options})


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def fused_equations(program) -> list[Equation]:
    return [e for e in program.equations if type(e) is Equation and e.primitive.name == "fused"]


def assert_well_formed(program) -> None:
    seen = set(program.inputs)
    for e in program.equations:
        if type(e) is Guard:
            assert e.var in seen
            continue
        assert all(x in seen for x in e.inputs if type(x) is Var)
        seen.update(e.outputs)
    assert all(x in seen for x in program.outputs if type(x) is Var)


def test_rosenbrock_gradient_jitted_with_numba_equals_the_numpy_backend():
    rng = onp.random.default_rng(0)
    fast = wg.jit(wg.grad(rosenbrock), backend="numba")
    plain = wg.jit(wg.grad(rosenbrock))
    for _ in range(3):
        x = rng.uniform(-2, 2, N)
        got, expected = fast(x), plain(x)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        onp.testing.assert_allclose(got, expected, **F64)
    (program,) = fast.programs()
    groups = fused_equations(program)
    assert len(groups) == 2
    # Each group's implementation is its numba ufunc, called like NumPy's ufuncs.
    assert all(isinstance(e.primitive.fun, onp.ufunc) for e in groups)
    assert "expr=" in str(program)
    # The runner still adds the slices' cotangents in place, and the second group writes
    # straight into the scatter's array of zeros.
    source = fast._cache[next(iter(fast._cache))][0].run.source
    assert "] += " in source
    assert "= _np.zeros(" in source and "out=" in source


def test_a_program_compiled_twice_reuses_the_ufuncs():
    x = onp.linspace(-1, 1, N)
    first = wg.jit(wg.grad(rosenbrock), backend="numba")
    first(x)
    size = len(fuse_numba._COMPILED)
    second = wg.jit(wg.grad(rosenbrock), backend="numba")
    second(x)
    assert len(fuse_numba._COMPILED) == size
    funs = [[e.primitive.fun for e in fused_equations(j.programs()[0])] for j in (first, second)]
    assert funs[0] == funs[1]


def test_float32_stays_float32_with_python_float_constants():
    rng = onp.random.default_rng(1)

    def f(x):
        y = np.where(x > 0.1, x * 0.1 + 2.5, np.sin(x) / 3.0)
        return y**2 - 0.7 * x

    x32 = rng.uniform(-1, 1, N).astype(onp.float32)
    prog = wg.make_program(f)(x32)
    fast = fuse(prog)
    assert fused_equations(fast) and len(fast) == 1
    assert fast.equations[0].primitive.fun.types == ["f->f"]
    x = rng.uniform(-1, 1, N).astype(onp.float32)
    got, expected = fast(x), prog(x)
    assert got.dtype == onp.float32
    onp.testing.assert_allclose(got, expected, **F32)
    edge = onp.full(N, onp.float32(0.1))  # compared in float32, as in NumPy
    onp.testing.assert_allclose(fast(edge), prog(edge), **F32)

    grad = wg.jit(wg.grad(lambda x: np.sum(f(x))), backend="numba")
    out = grad(x)
    assert out.dtype == onp.float32
    onp.testing.assert_allclose(out, wg.grad(lambda x: np.sum(f(x)))(x), **F32)
    assert fused_equations(grad.programs()[0])


def test_broadcasting_inputs_of_different_shapes():
    rng = onp.random.default_rng(2)

    def f(a, b, c, s):
        return np.tanh(a * b + c**2) - 1.5 * a / (1.0 + b * b) + s * c

    args = [rng.uniform(-1, 1, shape) for shape in [(40, 1, 30), (30,), (25, 1)]] + [0.75]
    prog = wg.make_program(f)(*args)
    fast = fuse(prog)
    shapes = [e.outputs[0].shape for e in fused_equations(fast)]
    assert shapes == [(40, 1, 30), (40, 25, 30)]
    new = [rng.uniform(-1, 1, onp.shape(a)) for a in args[:3]] + [0.75]
    got, expected = fast(*new), prog(*new)
    assert got.shape == (40, 25, 30)
    onp.testing.assert_allclose(got, expected, **F64)


def test_guards_are_kept():
    def f(x):
        y = x * x + 1.0
        if np.sum(y) > 1e5:  # a decision from a traced value: a guard
            return np.sqrt(y) * 2.0 - x
        return np.log(y) * 2.0 - x

    x = onp.linspace(-1, 1, N)
    prog = wg.make_program(f)(x)
    fast = fuse(prog)
    assert_well_formed(fast)
    assert [g.var for g in fast.guards] == [g.var for g in prog.guards]
    assert fused_equations(fast)
    onp.testing.assert_allclose(fast(x), prog(x), **F64)
    with pytest.raises(GuardError):
        fast(onp.linspace(-300, 300, N))
    jitted = wg.jit(f, backend="numba")
    for y in (x, onp.linspace(-300, 300, N)):  # the other path is recorded on demand
        onp.testing.assert_allclose(jitted(y), f(y), **F64)


def test_what_numba_cannot_compile_stays_numpy(monkeypatch):
    # int32 + int32 is int64 in numba, int32 in NumPy: those operations stay NumPy.
    i = onp.arange(N, dtype=onp.int32)
    prog = wg.make_program(lambda i: (i + i) * i - 3)(i)
    assert fuse(prog).equations == prog.equations
    # A group numba fails to compile stays NumPy equations, with no error at any call.
    prog = wg.make_program(lambda x: np.sin(x) * 2.0 + x**2)(onp.ones(N))

    def broken(*args, **kwargs):
        raise RuntimeError("no compiler today")

    monkeypatch.setattr(fuse_numba, "_COMPILED", {})
    monkeypatch.setattr(numba, "vectorize", broken)
    fast = fuse(prog)
    assert fast.primitives() == prog.primitives()
    x = onp.linspace(0, 1, N)
    onp.testing.assert_allclose(fast(x), prog(x), **F64)
    jitted = wg.jit(lambda x: np.sin(x) * 2.0 + x**2, backend="numba")
    onp.testing.assert_allclose(jitted(x), onp.sin(x) * 2.0 + x**2, **F64)


# Infinities, NaNs and complex values: tests/program/test_fuse.py, for both backends.


def test_small_arrays_stay_numpy():
    prog = wg.make_program(lambda x: np.sin(x) * 2.0 + x)(onp.ones(fuse_numba.MIN_SIZE - 1))
    assert _fuse(prog, backend="numba").equations == prog.equations
    prog = wg.make_program(lambda x: np.sin(x) * 2.0 + x)(onp.ones(fuse_numba.MIN_SIZE))
    assert _fuse(prog, backend="numba").primitives() == {"fused": 1}


def test_without_numba_jit_says_how_to_install_it_at_the_first_call(monkeypatch):
    monkeypatch.setattr(fuse_numba, "numba", None)
    jitted = wg.jit(lambda x: np.sin(x) * x, backend="numba")  # no error yet
    with pytest.raises(ImportError, match=r'pip install "wengert\[numba\]"'):
        jitted(onp.ones(N))


# --- the derivative tables' elementwise rows, at sizes that fuse ------------------------------
_spec = importlib.util.spec_from_file_location(
    "_wengert_test_tables", Path(__file__).resolve().parents[1] / "_tables.py"
)
_tables = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_tables)

CASES = [
    c
    for c in _tables.load_tables("_numba_tables")[0]
    if c.name in FUSIBLE and c.id.startswith("numpy/test_primitives:")
]


def _check(prog, args, tol) -> None:
    """The numba-fused program against the NumPy backend's compiled program."""
    from wengert.program.jit import _buffers
    from wengert.program.runner import compile_program

    fast = fuse(prog, dtypes=None)
    assert_well_formed(fast)
    numpy_run = compile_program(prog, _buffers(prog))
    numba_run = compile_program(fast, _buffers(fast))
    leaves = tree_flatten((tuple(args), {}))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prog(*args)  # checks the guards
        except GuardError:
            return  # the new draw takes another path in the recorded function
        with onp.errstate(all="ignore"):
            expected = numpy_run(*leaves)
            got = numba_run(*leaves)
    for g, e in zip(got, expected):
        assert onp.shape(g) == onp.shape(e) and onp.result_type(g) == onp.result_type(e)
        onp.testing.assert_allclose(g, e, **tol)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [onp.float64, onp.float32])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_elementwise_table_row_equals_the_numpy_backend(case, dtype):
    if not _tables.elementwise_row(case):
        pytest.skip("not elementwise (dot, outer)")
    tol = F64 if dtype == onp.float64 else F32
    args = _tables.enlarged(case, 0, dtype)
    new_args = _tables.enlarged(case, 1000, dtype)
    try:
        case.fun(*args)
    except ValueError:
        pytest.skip("not elementwise along a new leading axis")

    def value(*a):
        return case.fun(*a) * 1.5 + 0.25

    prog = wg.make_program(value)(*args)
    fast = fuse(prog, dtypes=None)
    assert fused_equations(fast), str(prog)
    _check(prog, new_args, tol)

    diff = [i for i, x in enumerate(args) if _tables.is_inexact(x)]
    shape = onp.shape(value(*args))
    weights = onp.random.default_rng(case.seed).uniform(0.5, 1.5, shape).astype(dtype)

    def loss(*d):
        full = list(args)
        for i, v in zip(diff, d):
            full[i] = v
        out = value(*full)
        return np.sum((np.real(out) if onp.iscomplexobj(out) else out) * weights)

    grad_prog = wg.make_program(wg.grad(loss, argnums=tuple(range(len(diff)))))(
        *[args[i] for i in diff]
    )
    _check(grad_prog, [new_args[i] for i in diff], tol)


def _chain(x):
    for _ in range(10):
        x = np.tanh(np.sin(x) * 1.1 + 0.3) / (1.0 + x * x) - np.exp(-x) * 0.1
    return x


def test_a_program_of_float64_scalars_is_compiled_whole():
    program = wg.make_program(wg.grad(_chain))(0.5)
    assert fuse_numba.scalar_program(program)
    jitted = wg.jit(wg.grad(_chain), backend="numba")
    for x in (0.5, -1.25, onp.float64(2.0)):
        got = jitted(x)
        assert type(got) is onp.float64
        onp.testing.assert_allclose(got, wg.grad(_chain)(x), **F64)
    (entry,) = jitted._cache[jitted.signature((0.5,), {})[0]]
    assert entry.run.__name__ == "call"  # the whole-program function, not the runner's


def test_what_numba_cannot_compile_whole_stays_numpy_calls():
    # float32 (numba would promote next to Python floats), guards, arrays: not scalar
    # programs; their results are the runner's.
    assert not fuse_numba.scalar_program(wg.make_program(_chain)(onp.float32(0.5)))
    assert not fuse_numba.scalar_program(wg.make_program(_chain)(onp.ones(3)))

    def branchy(x):
        return np.sin(x) if x > 0 else np.cos(x) * 2.0

    assert not fuse_numba.scalar_program(wg.make_program(branchy)(0.5))
    jitted = wg.jit(wg.grad(branchy), backend="numba")
    for x in (0.5, -0.5, 1.5, -2.0):
        onp.testing.assert_allclose(jitted(x), wg.grad(branchy)(x), **F64)
    got = wg.jit(_chain, backend="numba")(onp.float32(0.5))
    assert got.dtype == onp.float32


def test_a_scalar_program_numba_rejects_runs_as_numpy_calls():
    # A function numba cannot compile: the first call finds out and keeps the runner's
    # function, with its results.
    calls = []

    def plain(x):  # a Python function: numba's nopython mode cannot call it
        calls.append(x)
        return x * 2.0

    namespace = {"f1": plain}
    source = "def run(a0):\n    v1 = f1(a0)\n    return [v1]\n"
    exec(source, namespace)
    run = namespace["run"]
    run.source = source
    call = fuse_numba.compile_scalars(run)
    assert call(1.5) == [3.0] and call(2.0) == [4.0]
    assert calls == [1.5, 2.0]  # (numba's failed attempt ran nothing)
