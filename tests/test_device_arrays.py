"""Every primitive on an array of another library that speaks NumPy's protocols (CuPy):
values and derivatives keep the array type, with no host copy, and equal NumPy's.

There is no GPU here, so the rows run on ``DeviceArray`` (tests/_device.py), a strict CPU
stand-in for ``cupy.ndarray``: NumPy's functions and ufuncs on it return it, and every
implicit host copy (``np.asarray``, a mix with a NumPy array) raises TypeError as CuPy
does. tests/test_cupy.py runs the same sweep on CuPy itself where a GPU is present.

The cases are the rows of the derivative tables of tests/numpy and tests/scipy (see
tests/_tables.py). A row's floating-point array inputs go to the device; a row whose inputs
are all Python numbers gets them as 0-d device arrays (a CuPy user's scalar on the device).
The row's own NumPy constants go there too, as a CuPy user's constants would be CuPy
arrays: arrays (float, integer index and boolean mask arrays) of its table module and of
its function's closure and defaults, and arrays that it creates with NumPy while it runs.
The row's value, the gradient of a fixed weighting of its outputs (every reverse rule), a
``jvp`` along a random tangent (every forward rule) and, for rows of order 2, the ``jvp``
of that gradient (a Hessian-vector product, forward over reverse) must be device arrays
wherever NumPy gives arrays (a value of the row's Python-number inputs alone may be a
number, as on NumPy), and equal NumPy's to 1e-10. Python-number inputs next to device
arrays stay numbers. Rows that cannot work without the host are listed in REFUSED with
the reason, and must raise a TypeError naming the wengert function and the library.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import sys
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
from wengert._core.tree import tree_flatten


def _load(name: str, file: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / file)
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


_tables = _load("_wengert_test_tables", "_tables.py")
_device = _load("_wengert_test_device", "_device.py")

CASES, _ = _tables.load_tables("_device_tables")
TOL = dict(rtol=1e-10, atol=1e-10, equal_nan=True)


@dataclass(frozen=True)
class Backend:
    """An array library to run the rows on: how to put a NumPy array there and back."""

    name: str
    put: Callable  # a NumPy array -> the library's array
    get: Callable  # the library's array -> a NumPy array
    array_type: type


DOUBLE = Backend("DeviceArray", _device.DeviceArray, lambda x: x.get(), _device.DeviceArray)

# Rows that cannot work on an array library that refuses host copies, by table and row
# name, with the reason; each must raise a TypeError that names the wengert function and
# the array library.
_LAPACK_ONLY = "SciPy computes it with LAPACK on NumPy arrays; NumPy's protocols have no route"
REFUSED: dict[str, str] = {
    "scipy/test_linalg:lu_factor": f"LU with LAPACK's pivots: {_LAPACK_ONLY}",
    "scipy/test_linalg:expm": f"the matrix exponential: {_LAPACK_ONLY}",
    "scipy/test_linalg:sqrtm": f"the matrix square root: {_LAPACK_ONLY}",
    "scipy/test_linalg:solve_sylvester": f"Bartels-Stewart: {_LAPACK_ONLY}",
    "scipy/test_integrate:odeint": "SciPy's LSODA steps on the host, calling func with NumPy",
    "scipy/test_stats:poisson.entropy": "each rate's series length is read from its value",
    "scipy/test_stats:poisson_entropy": "each rate's series length is read from its value",
}


def _key(case) -> str:
    return f"{case.id.split(':')[0]}:{case.name}"


def _refused(case) -> str | None:
    return REFUSED.get(_key(case))


# --- running a row ---------------------------------------------------------------------------


def _numpy_function(value) -> bool:
    module = getattr(value, "__module__", None) or ""
    return (
        callable(value)
        and not isinstance(value, (type, onp.ufunc))
        and (module == "numpy" or module.startswith("numpy."))
    )


class _CreatingOnDevice:
    """A NumPy (sub)module whose functions return their arrays on the device."""

    def __init__(self, module, put):
        self._module, self._put = module, put

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if isinstance(attr, types.ModuleType):
            return _CreatingOnDevice(attr, self._put)
        return _creating_on_device(attr, self._put) if _numpy_function(attr) else attr


def _creating_on_device(fun, put):
    def call(*args, **kwargs):
        return _on_device(fun(*args, **kwargs), put)

    return call


def _on_device(value, put):
    """`value` with its NumPy arrays (also in tuples and lists) put on the device, and
    NumPy itself and its functions made to create arrays there."""
    if type(value) is onp.ndarray and value.dtype.kind in "biufc":
        return put(value)
    if type(value) in (tuple, list) and any(type(v) is onp.ndarray for v in value):
        return type(value)(_on_device(v, put) for v in value)
    if value is onp:
        return _CreatingOnDevice(onp, put)
    if _numpy_function(value):
        return _creating_on_device(value, put)
    return value


@contextlib.contextmanager
def _constants_on_device(case, put):
    """The row's table module, and its function's closure and defaults, with their NumPy
    constants on the device, while the row runs."""
    module, fun = case.module, case.fun
    saved = dict(vars(module))
    closure = getattr(fun, "__closure__", None) or ()
    cells = [(c, c.cell_contents) for c in closure if _has_contents(c)]
    defaults = getattr(fun, "__defaults__", None)
    try:
        for name, value in saved.items():
            moved = _on_device(value, put)
            if moved is not value:
                setattr(module, name, moved)
        for cell, value in cells:
            cell.cell_contents = _on_device(value, put)
        if defaults:
            fun.__defaults__ = tuple(_on_device(v, put) for v in defaults)
        yield
    finally:
        vars(module).update(saved)
        for cell, value in cells:
            cell.cell_contents = value
        if defaults:
            fun.__defaults__ = defaults


def _has_contents(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # not yet assigned
        return False
    return True


def _inputs(case, backend: Backend | None) -> tuple[list, object, list[int]]:
    """The row's leaves (its floating-point arrays on `backend`), the tree they make, and
    where the differentiated ones are."""
    leaves, treedef = tree_flatten(tuple(_tables.generate(case)))
    diff = [i for i, x in enumerate(leaves) if _tables.is_inexact(x)]
    if backend is not None:
        arrays = [i for i in diff if type(leaves[i]) is onp.ndarray]
        for i in arrays or diff:  # no array input: the numbers as 0-d device arrays
            leaves[i] = backend.put(onp.asarray(leaves[i]))
    return leaves, treedef, diff


def _random_like(rng, x, put):
    """A random tangent with the shape and dtype of `x`, where `x` is."""
    dtype = onp.result_type(x)
    shape = onp.shape(x)
    value = rng.standard_normal(shape)
    if dtype.kind == "c":
        value = value + 1j * rng.standard_normal(shape)
    if type(x) in (float, complex):
        return type(x)(value)
    return put(onp.asarray(value, dtype=dtype))


def derivatives(case, backend: Backend | None) -> dict[str, list]:
    """The row's value, weighted gradient, tangent and (order 2) Hessian-vector product,
    with its arrays on `backend` (NumPy for None)."""
    leaves, treedef, diff = _inputs(case, backend)  # (drawn with the table's own NumPy)
    if backend is None:
        return _derivatives(case, leaves, treedef, diff, lambda x: x)
    with _constants_on_device(case, backend.put):
        return _derivatives(case, leaves, treedef, diff, backend.put)


def _derivatives(case, leaves: list, treedef, diff: list[int], put) -> dict[str, list]:
    f = _tables.restricted(case, leaves, treedef, diff)
    primals = [leaves[i] for i in diff]
    rng = onp.random.default_rng(case.seed)
    tangents = [_random_like(rng, p, put) for p in primals]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, tangent = wg.jvp(f, primals, tangents)
        gradient = _tables.weighted_gradient(f, primals, case.seed, place=put)
        result = {"value": tree_flatten(value)[0], "tangent": tree_flatten(tangent)[0]}
        if case.order >= 2:
            grads, hvp = wg.jvp(gradient, primals, tangents)
            result["hvp"] = list(hvp)
        else:
            grads = gradient(*primals)
        result["grad"] = list(grads)
    return result


def _is_array(x) -> bool:
    return isinstance(x, (onp.ndarray, onp.generic)) and x.dtype.kind in "biufc"


def problems(expected: dict, got: dict, backend: Backend) -> list[str]:
    """How the results on `backend` differ from NumPy's: not the library's arrays where
    NumPy gives arrays, or other values."""
    found = []
    for key, values in expected.items():
        if len(values) != len(got[key]):
            found.append(f"{key}: {len(got[key])} results, NumPy {len(values)}")
            continue
        for i, (e, g) in enumerate(zip(values, got[key])):
            where = f"{key} {i}"
            if _is_array(e) and not isinstance(g, backend.array_type):
                found.append(f"{where} is a {type(g).__name__}, not a {backend.name}")
                continue
            if isinstance(g, backend.array_type):
                g = backend.get(g)
            if not _is_array(e) and not isinstance(e, (float, complex, int)):
                if type(e) is not type(g):
                    found.append(f"{where} is a {type(g).__name__}, NumPy {type(e).__name__}")
                continue
            try:
                onp.testing.assert_allclose(g, e, **TOL)
            except AssertionError as error:
                found.append(f"{where} differs: {str(error).strip().splitlines()[-1]}")
    return found


def _value_reads_device_inputs(case, backend: Backend) -> bool:
    """Whether the row's value changes when its device inputs are NaN: if not, it is a
    function of its other (Python number) inputs alone, and a number is the right type for
    it and its tangent."""
    leaves, treedef, diff = _inputs(case, backend)
    nan = [
        backend.put(onp.full(onp.shape(x), onp.nan, onp.result_type(x)))
        if isinstance(x, backend.array_type)
        else x
        for x in leaves
    ]
    try:
        with _constants_on_device(case, backend.put), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f, g = (_tables.restricted(case, v, treedef, diff) for v in (leaves, nan))
            same = [
                onp.array_equal(_host(a, backend), _host(b, backend), equal_nan=True)
                for a, b in zip(
                    tree_flatten(f(*[leaves[i] for i in diff]))[0],
                    tree_flatten(g(*[nan[i] for i in diff]))[0],
                )
            ]
    except Exception:
        return True
    return not all(same)


def _host(x, backend: Backend):
    return backend.get(x) if isinstance(x, backend.array_type) else x


def check(case, backend: Backend) -> None:
    """The row on `backend` against NumPy (or its refusal, if it is in REFUSED)."""
    reason = _refused(case)
    if reason is not None:
        library = backend.array_type.__name__
        pattern = rf"wengert\.\S+ does not support a .*{re.escape(library)}"
        with pytest.raises(TypeError, match=pattern):
            derivatives(case, backend)
        return
    expected = derivatives(case, None)
    found = problems(expected, derivatives(case, backend), backend)
    placed = [p for p in found if p.split()[0] in ("value", "tangent") and " not a " in p]
    if placed and len(placed) == len(found) and not _value_reads_device_inputs(case, backend):
        found = []  # (a value of the row's numbers alone: on the host, as it should be)
    assert not found, f"{case.id}: " + "; ".join(found)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_primitive_on_a_device_array(case):
    check(case, DOUBLE)


def test_every_refused_row_exists():
    keys = {_key(case) for case in CASES}
    assert not set(REFUSED) - keys, "REFUSED names rows that are in no table"


# --- the double is strict -----------------------------------------------------------------


def test_the_double_refuses_host_copies_like_cupy():
    x = _device.DeviceArray(onp.arange(6.0).reshape(2, 3))
    for convert in (onp.asarray, onp.array, lambda x: onp.concatenate([x, onp.ones((1, 3))])):
        with pytest.raises(TypeError):
            convert(x)
    with pytest.raises(TypeError, match="Unsupported type"):
        x + onp.ones(3)
    assert isinstance(onp.sin(x), _device.DeviceArray)
    assert isinstance(onp.sum(x), _device.DeviceArray)  # 0-d, not a NumPy scalar
    assert isinstance(x + onp.float64(2.0), _device.DeviceArray)
    assert isinstance(onp.eye(2, like=x), _device.DeviceArray)
    assert isinstance(x.sum(axis=0), _device.DeviceArray) and float(x[1, 2]) == 5.0
    assert not hasattr(x, "__array_interface__")
    with pytest.raises(TypeError):
        onp.add.at(x, [0], 1.0)  # CuPy's __array_ufunc__ takes calls only
    tree = {"a": [onp.ones(2), 3.0], "b": (onp.arange(3),)}
    moved = _device.to_device(tree)
    assert isinstance(moved["a"][0], _device.DeviceArray) and moved["a"][1] == 3.0
    back = _device.to_host(moved)
    assert type(back["b"][0]) is onp.ndarray and back["b"][0].tolist() == [0, 1, 2]
