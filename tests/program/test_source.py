"""Program.source: standalone Python over NumPy that computes the program bit for bit.

Hand examples, then every row of the derivative tables of tests/numpy and tests/scipy (see
tests/_tables.py): the program of the row's function (in its floating-point inputs) and of
the gradient of a weighted sum of its outputs, written as source, executed in a fresh
namespace and compared with the program's own evaluation at two draws from the row's domain.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as np
from wengert._core.tree import tree_flatten, tree_unflatten
from wengert.errors import MissingRuleError

_spec = importlib.util.spec_from_file_location(
    "_wengert_test_tables", Path(__file__).resolve().parents[1] / "_tables.py"
)
_tables = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_tables)


def function_of(prog):
    """The function that `prog.source()` defines, executed in a fresh namespace."""
    source = prog.source()
    namespace: dict = {}
    exec(compile(source, "<program source>", "exec"), namespace)
    name = source.rsplit("\ndef ", 1)[1].split("(", 1)[0]
    return namespace[name]


def assert_identical(got, want) -> None:
    """Same tree, and each leaf of the same shape, dtype and bytes."""
    got_leaves, got_tree = tree_flatten(got)
    want_leaves, want_tree = tree_flatten(want)
    assert got_tree == want_tree
    for a, b in zip(got_leaves, want_leaves):
        a, b = onp.asarray(a), onp.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes(), (a, b)


# --- hand examples ------------------------------------------------------------------------


def f(x):
    return 1.0 / (x**2 + 1.0)


def test_source_of_a_small_function_reads_like_its_program():
    prog = wg.make_program(f)(3.0)
    source = prog.source()
    assert source.startswith('"""') and "import numpy as np" in source
    assert "import scipy" not in source and "wengert" not in source.split('"""', 2)[2]
    assert "def f(x):" in source
    assert "v2 = v1 + 1.0" in source and "v3 = 1.0 / v2" in source
    g = function_of(prog)
    for x in (3.0, -2.0, 0.0, 1e200, onp.float64(0.5)):
        assert_identical(g(x), prog(x))


def test_source_of_a_gradient_program():
    prog = wg.make_program(wg.grad(f))(3.0)
    g = function_of(prog)
    for x in (3.0, -2.0, 0.0, 7.5):
        assert_identical(g(x), prog(x))
        assert g(x) == wg.grad(f)(x)
    xs = onp.linspace(-2, 2, 7)
    vprog = wg.make_program(wg.elementwise_grad(f))(xs)
    assert_identical(function_of(vprog)(xs * 1.5), vprog(xs * 1.5))


def loss(params, x):
    h = np.tanh(x @ params["w"] + params["b"])
    out = h @ params["v"]
    return np.mean((out - 1.0) ** 2)


def _mlp():
    rng = onp.random.default_rng(0)
    params = {
        "w": rng.standard_normal((3, 4)),
        "b": rng.standard_normal(4),
        "v": rng.standard_normal(4),
    }
    return params, rng.standard_normal((5, 3))


def test_source_of_a_tree_input_mlp_loss_and_its_gradient():
    params, x = _mlp()
    prog = wg.make_program(loss)(params, x)
    g = function_of(prog)
    assert "def loss(params_b, params_v, params_w, x):" in prog.source()
    leaves = [params["b"], params["v"], params["w"], x]
    assert_identical(g(*leaves), prog(params, x))

    gprog = wg.make_program(wg.grad(loss))(params, x)
    source = gprog.source()
    assert "return {'b': " in source  # the gradient's dict, rebuilt as a literal
    gg = function_of(gprog)
    other = {k: v * 0.5 for k, v in params.items()}
    got = gg(other["b"], other["v"], other["w"], x + 1.0)
    assert_identical(got, gprog(other, x + 1.0))
    assert_identical(got, wg.grad(loss)(other, x + 1.0))


def test_a_guarded_branch_raises_value_error_naming_the_decision_and_the_line():
    def h(x):
        return np.sin(x) if x > 0 else np.cos(x)

    prog = wg.make_program(h)(1.0)
    g = function_of(prog)
    assert_identical(g(2.0), prog(2.0))
    with pytest.raises(ValueError, match=r"bool\(v\d+\) was True at .*if x > 0"):
        g(-1.0)
    assert "assert" not in prog.source()


def test_integer_guards_and_constants_are_exact():
    def h(x, k):
        c = onp.array([0.1, -0.0, onp.inf, onp.nan, 1e-320])
        big = onp.linspace(0, 1, 100).reshape(10, 10).T  # a Fortran-ordered constant
        n = int(k)
        return np.sum(x * c) + np.sum(big * x[0]) * n, np.float32(1.0) * x[1], [x]

    x = onp.array([1.5, 2.0, 3.0, 0.5, 1.0])
    prog = wg.make_program(h)(x, 3.0)
    g = function_of(prog)
    assert_identical(g(x * 2, 3.0), prog(x * 2, 3.0))
    with pytest.raises(ValueError, match=r"int\(k\) was 3"):
        g(x, 4.0)
    with pytest.raises(wg.GuardError):
        prog(x, 4.0)


def test_a_primitive_without_source_form_raises_naming_it():
    @wg.primitive
    def cube(x):
        return x * x * x

    cube.defvjp(lambda g, ans, x: g * 3 * x * x)
    prog = wg.make_program(lambda x: cube(x) + 1.0)(2.0)
    with pytest.raises(MissingRuleError, match="cube"):
        prog.source()
    cube.defsource(_cube)
    assert_identical(function_of(prog)(1.5), prog(1.5))
    assert "def _cube(x):" in prog.source()


def _cube(x):
    return x * x * x


def test_scipy_primitives_import_scipy_only_where_needed():
    pytest.importorskip("scipy")
    import wengert.scipy.special as wsp

    prog = wg.make_program(lambda x: wsp.erf(x) * 2.0)(onp.linspace(0, 1, 3))
    source = prog.source()
    assert "import scipy.special" in source
    assert_identical(function_of(prog)(onp.linspace(-1, 1, 3)), prog(onp.linspace(-1, 1, 3)))


# --- every row of the derivative tables ------------------------------------------------------

CASES, _ = _tables.load_tables("_source_tables")

# Rows whose programs cannot be written as source, and why.
NO_SOURCE: dict[str, str] = {"odeint": "func is a Python function"}


def _restricted(case):
    """The row's function of its floating-point leaves (the rest fixed at draw 0), and those
    leaves at draws 0 and 1."""
    leaves, treedef = tree_flatten(tuple(_tables.generate(case)))
    diff = [i for i, x in enumerate(leaves) if _tables.is_inexact(x)]
    other = tree_flatten(tuple(_tables.generate(case, offset=1)))[0]

    fun = _tables.restricted(case, leaves, treedef, diff)
    return fun, [leaves[i] for i in diff], [other[i] for i in diff]


def _check_at(prog, source_fun, draw) -> None:
    try:
        want = prog(*draw)
    except wg.GuardError:
        with pytest.raises(ValueError, match="recorded program does not hold"):
            source_fun(*prog.input_leaves(draw))
        return
    except TypeError as error:  # another draw of other shapes: nothing to compare
        if "record the program again" in str(error):
            return
        raise
    got = source_fun(*prog.input_leaves(draw))
    assert_identical(tree_unflatten(prog.out_tree, list(got)) if _flat(prog) else got, want)


def _flat(prog) -> bool:
    return prog.out_tree.kind in ("namedtuple", "dataclass")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_source_of_every_row_reproduces_its_programs_exactly(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fun, draw0, draw1 = _restricted(case)
        programs = [wg.make_program(fun)(*draw0)]
        if draw0 and any(_tables.is_inexact(o) for o in tree_flatten(fun(*draw0))[0]):
            gradient = _tables.weighted_gradient(fun, draw0, case.seed)
            programs.append(wg.make_program(gradient)(*draw0))
        for prog in programs:
            if case.name in NO_SOURCE:
                with pytest.raises(MissingRuleError):
                    prog.source()
                continue
            # Exported source is NumPy alone: no machinery for other array libraries.
            assert "foreign" not in prog.source()
            source_fun = function_of(prog)
            _check_at(prog, source_fun, draw0)
            _check_at(prog, source_fun, draw1)


def test_source_of_a_small_convolutional_network_and_its_gradient():
    import wengert.nn.functional as F

    rng = onp.random.default_rng(1)
    params = {
        "k": rng.standard_normal((2, 1, 3, 3)),
        "w": rng.standard_normal((8, 3)),
        "b": rng.standard_normal(3),
    }
    images = rng.standard_normal((4, 1, 6, 6))
    labels = onp.array([0, 2, 1, 2])

    def net(params, images):
        h = F.relu(F.conv2d(images, params["k"], padding=1))
        h = F.avg_pool2d(F.max_pool2d(h, 2), 1).reshape(4, -1)[:, :8]
        logits = F.linear(F.gelu(F.softplus(h)), params["w"].T, params["b"])
        return F.cross_entropy(logits, labels) + F.mse_loss(F.sigmoid(logits), 0.5)

    for fun in (net, wg.grad(net)):
        prog = wg.make_program(fun)(params, images)
        source_fun = function_of(prog)
        _check_at(prog, source_fun, [params, images])
        _check_at(prog, source_fun, [{k: v * 1.5 for k, v in params.items()}, images - 0.25])
        _check_at(prog, source_fun, [params, images * 0.5])


@pytest.mark.parametrize(
    "constant",
    [
        onp.array(-0.0),
        onp.array([1.0, -0.0, onp.inf, -onp.inf, onp.nan, 5e-324], dtype=onp.float64),
        onp.array([1 + 2j, complex(onp.nan, -0.0), -0.0j], dtype=onp.complex64),
        onp.array([[True, False]]),
        onp.arange(12, dtype=onp.int32).reshape(3, 4).T,
        onp.full((5, 7), 0.1, dtype=onp.float32),
        onp.random.default_rng(0).standard_normal((4, 5, 6)).transpose(2, 0, 1),
        onp.zeros((0, 3)),
        onp.frombuffer(onp.array([onp.nan]).tobytes()[:-1] + b"\xff", dtype=onp.float64),
    ],
    ids=["zero", "special", "complex64", "bool", "ints-F", "full", "transposed", "empty", "nan"],
)
def test_array_constants_are_written_exactly_with_their_layout(constant):
    from wengert.program.codegen import _array

    got = eval(_array(constant), {"np": onp})
    assert got.dtype == constant.dtype and got.shape == constant.shape
    assert got.tobytes() == constant.tobytes()
    assert got.flags.c_contiguous == constant.flags.c_contiguous
    assert got.flags.f_contiguous == constant.flags.f_contiguous
    assert sorted(got.strides) == sorted(constant.strides)


def test_parameters_named_like_the_modules_or_keywords_are_renamed():
    def h(np, sc, d):
        return np * d["if"] + sc

    prog = wg.make_program(h)(2.0, onp.ones(2), {"if": 3.0})
    source = prog.source()
    assert "def h(np_, sc, d_if)" in source or "def h(np_, sc, d_if_)" in source
    assert_identical(
        function_of(prog)(1.5, onp.arange(2.0), 4.0), prog(1.5, onp.arange(2.0), {"if": 4.0})
    )
