"""float32 in means float32 out, complex64 likewise: values, cotangents, tangents and
second derivatives keep single precision, for every primitive and for the engine.

The cases are the rows of the per-module tables (``CASES``) of the primitive tests in
tests/numpy and tests/scipy, collected here, so a new row there is checked here too. Each
row runs with its inputs cast to single precision next to the same row in double
precision: the single run must keep the dtypes (value, ``vjp`` cotangents, ``jvp``
tangent, and ``jvp`` of ``grad``), and be finite wherever the double run is. Each row also
runs with complex inputs where the function accepts them; a function that refuses complex
input in double precision (a TypeError, or NumPy's warning that it drops the imaginary
part) declares itself real-only.

The value follows NumPy's promotion of the inputs with the row's own constants (a float64
array in a row promotes, a Python number does not); cotangents always take their input's
dtype and tangents their value's.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
import warnings
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core import vspace
from wengert._core.box import getval
from wengert._core.primitive import Primitive
from wengert._core.tree import tree_flatten, tree_unflatten

_spec = importlib.util.spec_from_file_location(
    "_wengert_test_tables", Path(__file__).resolve().parent / "_tables.py"
)
_tables = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_tables)
Case, _generate, _is_inexact = _tables.Case, _tables.generate, _tables.is_inexact

# NumPy defines these to compute in at least double precision, so their value is float64.
DOUBLE_BY_DEFINITION = {"float_power"}

# NumPy makes a Python float inside a list given to these an array of its own, in float64
# (not a weak scalar), so a row's float literals next to them promote its value.
ARRAY_BUILDERS = {
    "append",
    "array",
    "asarray",
    "block",
    "column_stack",
    "concatenate",
    "dstack",
    "hstack",
    "stack",
    "vstack",
}


CASES, SKIPPED_TABLES = _tables.load_tables("_dtype_tables")


# --- inputs ----------------------------------------------------------------------------------


def _cast(x, real, cplx):
    """`x` with every inexact leaf cast to the `real` / `cplx` precision."""
    if isinstance(x, (list, tuple)):
        return type(x)(_cast(v, real, cplx) for v in x)
    if type(x) is float:
        return real(x)
    if type(x) is complex:
        return cplx(x)
    if isinstance(x, (onp.ndarray, onp.generic)):
        if x.dtype.kind == "f":
            return x.astype(real)
        if x.dtype.kind == "c":
            return x.astype(cplx)
    return x


def _complexify(x, rng):
    """`x` with every real inexact leaf given a small imaginary part (complex leaves stay)."""
    if isinstance(x, (list, tuple)):
        return type(x)(_complexify(v, rng) for v in x)
    if type(x) is float:
        return complex(x, 0.25 * rng.standard_normal())
    if isinstance(x, (onp.ndarray, onp.generic)) and x.dtype.kind == "f":
        return x + 0.25j * rng.standard_normal(onp.shape(x))
    return x


def _random_like(rng, x):
    """A random value with the shape and dtype of `x` (a direction or a cotangent)."""
    dtype = onp.result_type(x)
    if dtype.kind not in "fc":
        dtype = onp.dtype(float)
    shape = onp.shape(x)
    value = rng.standard_normal(shape)
    if dtype.kind == "c":
        value = value + 1j * rng.standard_normal(shape)
    return onp.asarray(value).astype(dtype) if shape else dtype.type(value)


# --- running a case ---------------------------------------------------------------------------


def _derivatives(case: Case, args: list) -> dict:
    """Value, cotangents, tangent and second derivatives of the case at `args`."""
    leaves, treedef = tree_flatten(tuple(args))
    diff = [i for i, x in enumerate(leaves) if _is_inexact(x)]

    def f(*d):
        full = list(leaves)
        for i, v in zip(diff, d):
            full[i] = v
        return case.fun(*tree_unflatten(treedef, full))

    primals = [leaves[i] for i in diff]
    rng = onp.random.default_rng(case.seed)
    out, pullback = wg.vjp(f, *primals)
    out_leaves, out_def = tree_flatten(out)
    weights = [_random_like(rng, o) for o in out_leaves]
    cotangents = pullback(tree_unflatten(out_def, weights))
    directions = [_random_like(rng, p) for p in primals]
    _, out_tangent = wg.jvp(f, primals, directions)
    result = {
        "primals": primals,
        "value": out_leaves,
        "cotangents": list(cotangents),
        "tangent": tree_flatten(out_tangent)[0],
    }
    if case.order >= 2:

        def scalar(*d):
            outs = tree_flatten(f(*d))[0]
            return sum(wnp.sum(wnp.real(o * w)) for o, w in zip(outs, weights) if _is_inexact(o))

        gradient = wg.grad(scalar, argnums=tuple(range(len(primals))))
        grads, hvp = wg.jvp(gradient, primals, directions)
        result["grad"] = list(grads)
        result["grad_tangent"] = list(hvp)
    return result


def _dtype(x):
    """The dtype of a value, or the name of its Python type for a Python number (which
    has lost the precision it should have kept)."""
    if type(x) in (float, complex, int, bool):
        return type(x).__name__  # a Python scalar: its precision is lost
    return onp.result_type(x)


def _precision(dtype) -> int:
    return onp.finfo(dtype).bits if dtype.kind in "fc" else 64


# --- the row's own constants ---------------------------------------------------------------


class _RecordingNumpy:
    """The NumPy module, noting every array that a row creates with it while it runs."""

    def __init__(self, numpy, found: list):
        self._numpy = numpy
        self._found = found

    def __getattr__(self, name):
        attr = getattr(self._numpy, name)
        if not callable(attr) or isinstance(attr, type):
            return attr

        def call(*args, **kwargs):
            out = attr(*args, **kwargs)
            if isinstance(out, (onp.ndarray, onp.generic)):
                self._found.append(out)
            return out

        return call


def _static_constants(fun, module) -> list:
    """Arrays a row's function (and the table's helpers it calls) takes from outside its
    arguments: defaults, closures and module globals that are arrays, literal lists of
    numbers, and float literals next to an array builder."""
    found, seen = [], set()

    def visit_code(code, glob):
        builds = bool(ARRAY_BUILDERS & set(code.co_names))
        for c in code.co_consts:
            if isinstance(c, tuple) and c and all(type(v) in (float, complex) for v in c):
                found.append(onp.asarray(c))  # a literal list of numbers becomes an array
            elif type(c) in (float, complex) and builds:
                found.append(onp.asarray(c))
            elif hasattr(c, "co_consts"):
                visit_code(c, glob)
        for name in code.co_names:
            visit(glob.get(name))

    def visit(value):
        if isinstance(value, (onp.ndarray, onp.generic)):
            found.append(value)
        elif callable(value) and getattr(value, "__module__", None) == module.__name__:
            if id(value) in seen or not hasattr(value, "__code__"):
                return
            seen.add(id(value))
            inner = list(value.__defaults__ or ()) + list((value.__kwdefaults__ or {}).values())
            inner += [cell.cell_contents for cell in value.__closure__ or ()]
            for v in inner:
                visit(v)
            visit_code(value.__code__, value.__globals__)

    visit(fun)
    return found


def _expected_value_dtype(case: Case, inputs: list, constants: list):
    """NumPy's promotion of the inputs with the row's constants (Python numbers weak)."""
    typed = [x for x in inputs + constants if not isinstance(x, (float, complex, int, bool))]
    if case.name in DOUBLE_BY_DEFINITION:
        typed.append(onp.float64)
    return onp.result_type(*typed) if typed else onp.dtype(float)


# --- checking a run ----------------------------------------------------------------------------


def _problems(single: dict, double: dict, expected, narrowed: list) -> list[str]:
    """How the single-precision run fails to keep its dtypes, or loses finiteness."""
    found = []
    for i, v in enumerate(single["value"]):
        dtype = _dtype(v)
        if _is_inexact(v) and not (
            isinstance(dtype, onp.dtype) and _precision(dtype) <= _precision(expected)
        ):
            found.append(f"value {i} has dtype {dtype}, its inputs and constants {expected}")
    for key in ("cotangents", "grad", "grad_tangent"):
        for i, (c, p) in enumerate(zip(single.get(key, ()), single["primals"])):
            if _dtype(c) != _dtype(p):
                found.append(f"{key} {i} has dtype {_dtype(c)}, its input {_dtype(p)}")
    for i, (t, v) in enumerate(zip(single["tangent"], single["value"])):
        if _is_inexact(v) and _dtype(t) != _dtype(v):
            found.append(f"tangent {i} has dtype {_dtype(t)}, its value {_dtype(v)}")
    if narrowed and _precision(expected) < 64:
        found.append(f"a rule computed in {narrowed[0]} (the engine cast it back)")
    for key in ("value", "cotangents", "tangent", "grad", "grad_tangent"):
        for i, (s, d) in enumerate(zip(single.get(key, ()), double.get(key, ()))):
            if _is_inexact(d) and _is_inexact(s) and onp.any(onp.isfinite(d) & ~onp.isfinite(s)):
                found.append(f"{key} {i} is not finite where the float64 case is")
    return found


def _run(case: Case, args: list) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _derivatives(case, args)


def _run_single(case: Case, args: list, monkeypatch) -> tuple[dict, object, list]:
    """The single-precision run of `case`, with the dtype its inputs and constants promote
    to, and the precisions the engine had to cast derivatives back from."""
    created, narrowed = [], []
    for attr, value in vars(case.module).items():
        if value is onp:
            monkeypatch.setattr(case.module, attr, _RecordingNumpy(onp, created))
    for name in ("_in_dtype", "_tangent_in_dtype"):
        monkeypatch.setattr(vspace, name, _noting_narrowing(getattr(vspace, name), narrowed))
    try:
        result = _run(case, _cast(args, onp.float32, onp.complex64))
    finally:
        monkeypatch.undo()
    constants = _static_constants(case.fun, case.module) + created
    return result, _expected_value_dtype(case, result["primals"], constants), narrowed


def _check(case: Case, args: list, double: dict, monkeypatch) -> None:
    single, expected, narrowed = _run_single(case, args, monkeypatch)
    problems = _problems(single, double, expected, narrowed)
    assert not problems, f"{case.id}: " + "; ".join(problems)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_float32_in_float32_out(case, monkeypatch):
    args = _generate(case)
    _check(case, args, _run(case, args), monkeypatch)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_complex64_in_complex64_out(case, monkeypatch):
    args = _generate(case)
    if not any(_is_inexact(x) and not onp.iscomplexobj(x) for x in tree_flatten(tuple(args))[0]):
        pytest.skip("complex inputs only: checked by test_float32_in_float32_out")
    args = _complexify(args, onp.random.default_rng(case.seed))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", onp.exceptions.ComplexWarning)
            double = _run(case, args)
    except (TypeError, onp.exceptions.ComplexWarning) as error:
        pytest.skip(f"real-only: {type(error).__name__}: {error}")
    _check(case, args, double, monkeypatch)


def _registered_primitives() -> dict[str, Primitive]:
    """The primitives of wengert.numpy and (with SciPy) wengert.scipy, and the engine's
    broadcasting pair, by name."""
    found = {p.name: p for p in (vspace.sum_to_shape, vspace.broadcast_to)}
    packages = [wnp]
    if importlib.util.find_spec("scipy") is not None:
        packages.append(importlib.import_module("wengert.scipy"))
    for package in packages:
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            found.update(
                {
                    v.name: v
                    for v in vars(module).values()
                    if (isinstance(v, Primitive) and not getattr(v, "nondifferentiable", False))
                }
            )
    return found


def test_every_registered_primitive_has_a_float32_case():
    assert len(CASES) > 1000
    if importlib.util.find_spec("scipy") is not None:
        assert not SKIPPED_TABLES
    covered = {case.name for case in CASES}
    missing = sorted(set(_registered_primitives()) - covered)
    assert not missing, f"primitives with no row in any CASES table: {missing}"


# --- the engine's helpers --------------------------------------------------------------------

F32 = onp.array([0.5, -1.5, 2.0], dtype=onp.float32)
C64 = (F32 + 1j * F32[::-1]).astype(onp.complex64)


@pytest.mark.parametrize(
    "value, dtype",
    [
        (F32, onp.float32),
        (C64, onp.complex64),
        (onp.float32(1.5), onp.float32),
        (onp.complex64(1.5j), onp.complex64),
        (onp.arange(3), onp.float64),  # integers: derivatives are floating
    ],
)
def test_zeros_and_ones_keep_the_dtype(value, dtype):
    for fill, make in ((0, vspace.zeros_like), (1, vspace.ones_like)):
        out = make(value)
        assert onp.result_type(out) == dtype and onp.shape(out) == onp.shape(value)
        assert onp.all(out == fill)


def test_unbroadcast_sums_back_in_the_primal_dtype():
    wide = onp.ones((2, 3))
    out = vspace.unbroadcast(wide, F32)
    assert out.dtype == onp.float32 and out.shape == (3,)
    onp.testing.assert_array_equal(out, [2.0, 2.0, 2.0])
    assert vspace.unbroadcast(wide.astype(onp.complex128), F32).dtype == onp.float32
    assert vspace.unbroadcast(wide.astype(onp.complex128), C64).dtype == onp.complex64
    assert vspace.match_realness(onp.ones(3, complex), F32).dtype == onp.float32
    assert vspace.match_realness(onp.ones(3), C64).dtype == onp.complex64


def test_double_cotangents_of_double_primals_are_not_copied():
    g = onp.ones(3)
    assert vspace.unbroadcast(g, onp.zeros(3)) is g
    assert vspace.match_realness(g, onp.zeros(3)) is g
    assert vspace.broadcast_tangent(g, onp.zeros(3)) is g


def test_broadcast_tangent_takes_the_value_dtype():
    out = vspace.broadcast_tangent(F32, onp.zeros((2, 3)))
    assert out.dtype == onp.float64 and out.shape == (2, 3)
    assert vspace.broadcast_tangent(F32, onp.zeros(3, onp.complex64)).dtype == onp.complex64


def test_symbolic_zeros_are_instantiated_in_the_input_dtype():
    _, pullback = wg.vjp(lambda x, y: x * 2.0, F32, C64)
    assert pullback(onp.ones(3, onp.float32))[1].dtype == onp.complex64
    _, tangent = wg.jvp(lambda x: onp.ones(3, onp.float32), (F32,), (F32,))
    assert tangent.dtype == onp.float32
    # A result of a primitive with several results that gets no cotangent (r of qr).
    a = (3.0 * onp.eye(3) + 0.1 * onp.arange(9).reshape(3, 3)).astype(onp.float32)
    g = wg.grad(lambda a: wnp.sum(wnp.linalg.qr(a)[0]))(a)
    assert g.dtype == onp.float32


def test_grad_seed_takes_the_output_dtype():
    assert wg.grad(lambda x: wnp.sum(x * x))(F32).dtype == onp.float32
    assert onp.result_type(wg.grad(lambda x: x * x)(onp.float32(3.0))) == onp.float32
    g = wg.grad(lambda z: wnp.real(wnp.sum(z * z)))(C64)
    assert g.dtype == onp.complex64


@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp"])
@pytest.mark.parametrize("value", [onp.arange(3), onp.array([True, False]), 3])
def test_integer_inputs_still_raise_a_clear_type_error(transform, value):
    f = lambda x: x * 2.0
    with pytest.raises(TypeError, match="floating-point"):
        if transform == "grad":
            wg.grad(lambda x: wnp.sum(f(x)))(value)
        elif transform == "vjp":
            wg.vjp(f, value)
        else:
            wg.jvp(f, (value,), (value,))


# --- mixed inputs follow NumPy's promotion ------------------------------------------------------


@pytest.mark.parametrize(
    "fun, args, value_dtype",
    [
        (lambda x: x * 2.0, (F32,), onp.float32),  # a Python float is weak
        (lambda x: x * 1j, (F32,), onp.complex64),
        (lambda x, y: x * y, (F32, onp.ones(3)), onp.float64),  # a float64 array is not
        (lambda x, y: x + y, (F32, onp.ones((2, 3))), onp.float64),
        (lambda x, y: wnp.where(x > 0, x, y), (F32, onp.ones(3)), onp.float64),
        (lambda x, y: x @ y, (F32, onp.ones((3, 2))), onp.float64),
        (lambda x, z: x * z, (F32, C64), onp.complex64),
        (lambda x, z: x * z, (F32, C64.astype(onp.complex128)), onp.complex128),
        (lambda x, y: x * y, (F32, onp.float64(2.0)), onp.float64),  # NumPy scalars are strong
    ],
)
def test_mixed_inputs_follow_numpy_promotion(fun, args, value_dtype):
    out, pullback = wg.vjp(fun, *args)
    assert onp.result_type(out) == value_dtype
    assert onp.result_type(fun(*args)) == value_dtype  # as NumPy itself gives
    # Each cotangent in its own input's dtype, the tangent in the value's.
    for c, x in zip(pullback(onp.ones_like(out)), args):
        assert onp.result_type(c) == onp.result_type(x)
    _, tangent = wg.jvp(fun, args, tuple(onp.ones_like(x) for x in args))
    assert onp.result_type(tangent) == value_dtype


# --- regression tests for the functions that widened float32 ------------------------------------


def _bits(x):
    dtype = getattr(getval(x), "dtype", None)
    return onp.finfo(dtype).bits if dtype is not None and dtype.kind in "fc" else 0


def _noting_narrowing(cast, narrowed: list):
    """The engine's cast `cast`, noting each precision it had to narrow a derivative from
    (a rule that computed float32 derivatives in float64)."""

    def noted(value, like):
        out = cast(value, like)
        if _bits(value) > _bits(out) > 0:
            narrowed.append(getval(value).dtype)
        return out

    return noted


def _keeps_float32(fun, *args):
    """Traced value, gradient (of the real sum), tangent and second derivative in single
    precision, with no rule computing in double (untraced, a composite function is
    NumPy's own)."""
    narrowed = []
    with pytest.MonkeyPatch.context() as patch:
        for name in ("_in_dtype", "_tangent_in_dtype"):
            patch.setattr(vspace, name, _noting_narrowing(getattr(vspace, name), narrowed))
        out = wg.vjp(fun, *args)[0]
        assert onp.result_type(out) in (onp.float32, onp.complex64), onp.result_type(out)
        scalar = lambda *a: wnp.sum(wnp.real(fun(*a)))
        nums = tuple(range(len(args)))
        for g, x in zip(wg.grad(scalar, argnums=nums)(*args), args):
            assert onp.result_type(g) == onp.result_type(x)
        ones = tuple(onp.ones_like(x) for x in args)
        assert onp.result_type(wg.jvp(fun, args, ones)[1]) == onp.result_type(out)
        for h, x in zip(wg.jvp(wg.grad(scalar, argnums=nums), args, ones)[1], args):
            assert onp.result_type(h) == onp.result_type(x)
    assert not narrowed, f"a rule computed in {narrowed[0]} (the engine cast it back)"


def test_clip_and_maximum_keep_float32():
    # The tie split was a float64 array of 1, 1/2 and 0 made from booleans.
    _keeps_float32(lambda x: wnp.clip(x, -1.0, 1.0), F32)
    _keeps_float32(wnp.maximum, F32, F32[::-1].copy())
    _keeps_float32(lambda x: wnp.minimum(x, 0.5), F32)


def test_logarithm_constants_keep_float32():
    # log(2) and log(10) were NumPy float64 scalars, which widen float32 under NEP 50.
    for fun in (wnp.exp2, wnp.log2, wnp.log10, lambda x: wnp.logaddexp2(x, x * x)):
        _keeps_float32(fun, onp.abs(F32))
    _keeps_float32(lambda x: 2.0**x, F32)  # log of a Python base


def test_irfft_and_cholesky_keep_single_precision():
    _keeps_float32(lambda z: wnp.fft.irfft(z, 4), C64)
    a = (onp.eye(3) * 3.0 + 0.2).astype(onp.float32)
    _keeps_float32(wnp.linalg.cholesky, a)
    _keeps_float32(lambda a: wnp.linalg.qr(a)[0], a)


def test_nan_statistics_and_quantiles_keep_float32():
    x = onp.array([[0.5, onp.nan, 2.0], [1.5, -1.0, 0.25]], dtype=onp.float32)
    for fun in (wnp.nanmean, wnp.nanvar, wnp.nanstd):
        _keeps_float32(lambda x, f=fun: f(x, axis=1), x)
    _keeps_float32(lambda x: wnp.quantile(x, [0.25, 0.5]), F32)
    _keeps_float32(lambda x: wnp.percentile(x, [10, 90]), F32)


def test_array_building_keeps_float32():
    _keeps_float32(lambda x: wnp.linspace(0.0, x, 4), onp.float32(2.0))
    _keeps_float32(lambda x: wnp.logspace(0.0, x, 3), onp.float32(1.0))
    _keeps_float32(lambda x: wnp.pad(x, 2, mode="linear_ramp", end_values=1.0), F32)
    _keeps_float32(lambda x: wnp.insert(x, 1, 7.0), F32)
    _keeps_float32(lambda x: wnp.ediff1d(x, to_end=[1.0, 2.0]), F32)
    _keeps_float32(lambda x: wnp.choose([0, 1, 0], [x, 1.0]), F32)
    _keeps_float32(lambda x: wnp.polyint(wnp.polyder(x)), F32)
    _keeps_float32(lambda x: wnp.interp(x, F32, F32 * F32), F32 * 0.5)


def test_scipy_functions_without_float32_loops_return_float32():
    pytest.importorskip("scipy")
    from wengert.scipy import special, stats

    x = onp.abs(F32) + 0.5
    _keeps_float32(lambda x: special.polygamma(1, x), x)
    _keeps_float32(lambda x: special.gammainc(2.5, x), x)
    _keeps_float32(lambda x: special.betainc(2.0, 3.5, x / 3.0), x)
    _keeps_float32(lambda x: special.stdtr(3.0, x), x)
    _keeps_float32(special.gamma, x)
    _keeps_float32(lambda x: special.multigammaln(x + 1.0, 2), x)
    # Default loc and scale were Python floats turned into NumPy float64 scalars by log.
    for dist in (stats.norm,):
        _keeps_float32(dist.logpdf, F32)
    _keeps_float32(lambda x: stats.t.logpdf(x, 3.0), F32)
    _keeps_float32(lambda x: stats.gamma.logpdf(x, 2.0), x)
    _keeps_float32(lambda x: stats.beta.logpdf(x / 3.0, 2.0, 3.0), x)
    _keeps_float32(lambda mu: stats.poisson.logpmf(3, mu), x)


def test_callers_float64_tangents_and_cotangents_of_float32_values_give_float32():
    x = onp.ones(3, onp.float32)
    assert wg.jvp(wnp.sin, (x,), (onp.ones(3),))[1].dtype == onp.float32
    _, pullback = wg.vjp(wnp.sin, x)
    assert pullback(onp.ones(3))[0].dtype == onp.float32
