"""Program passes: each computes the same results bit for bit with fewer equations, on
hand-built programs, derivative programs and every row of the derivative tables; and the
in-place buffer plan gives the same results without touching the caller's arrays."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as np
from wengert._core.primitive import Primitive
from wengert._core.recording import Equation, Guard, GuardFailure, Var
from wengert._core.tree import tree_flatten
from wengert._core.vspace import broadcast_to, sum_to_shape
from wengert.nn.functional import _dropout_scale
from wengert.numpy.shaping import _astype
from wengert.program import passes
from wengert.program.program import Program

_spec = importlib.util.spec_from_file_location(
    "_wengert_test_tables", Path(__file__).resolve().parents[1] / "_tables.py"
)
_tables = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_tables)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

inf, nan = onp.inf, onp.nan
SPECIAL = onp.array([-0.0, 0.0, 1.5, -2.25, inf, -inf, nan, 5e-324, -1e308, 3.0])
# Complex numbers with a -0.0 real part (1j * x would make it +0.0 or NaN).
SPECIAL_COMPLEX = onp.array([complex(a, b) for a in SPECIAL for b in SPECIAL])


def same(a, b) -> bool:
    """Equal bit for bit, with the same shape and dtype."""
    a, b = onp.asarray(a), onp.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def all_same(got: list, want: list) -> bool:
    return len(got) == len(want) and all(same(a, b) for a, b in zip(got, want))


class Builder:
    """A program written by hand: equations applied to sample values as they are added."""

    def __init__(self, *values):
        self.env: dict = {}
        self.count = 0
        self.equations: list = []
        self.inputs = [self._new(v) for v in values]

    def _new(self, value) -> Var:
        self.count += 1
        var = Var(self.count, onp.shape(value), onp.result_type(value))
        self.env[var] = value
        return var

    def __call__(self, primitive, *inputs, **kwargs):
        args = [self.env[x] if type(x) is Var else x for x in inputs]
        ans = primitive.fun(*args, **kwargs)
        outs = tuple(self._new(a) for a in ans) if primitive.multiple_results else (self._new(ans),)
        self.equations.append(Equation(primitive, tuple(inputs), kwargs, outs, None, None))
        return outs if primitive.multiple_results else outs[0]

    def guard(self, var: Var) -> None:
        self.equations.append(Guard(var, bool(self.env[var]), "bool", None))

    def program(self, *outputs) -> Program:
        in_tree = tree_flatten((tuple(self.env[v] for v in self.inputs), {}))[1]
        out_tree = tree_flatten(tuple(range(len(outputs))))[1]
        names = {v: f"x{i}" for i, v in enumerate(self.inputs)}
        return Program(self.inputs, self.equations, list(outputs), in_tree, out_tree, {}, names)


def check_same(prog: Program, simplified: Program, *inputs) -> None:
    want = prog.evaluate(list(inputs))
    assert all_same(simplified.evaluate(list(inputs)), want)
    plan = passes.buffer_plan(simplified)
    copies = [onp.copy(x) for x in inputs]
    assert all_same(passes.evaluate(simplified, list(inputs), plan), want)
    assert all_same(list(inputs), copies)


# --- common subexpressions ----------------------------------------------------------------


def test_cse_computes_sin_of_x_once():
    prog = wg.make_program(lambda x: np.sin(x) * np.sin(x))(onp.linspace(-1, 1, 5))
    assert prog.primitives()["sin"] == 2
    merged = passes.eliminate_common_subexpressions(prog)
    assert merged.primitives()["sin"] == 1 and len(merged) == 2
    assert "v1 * v1" in str(merged)
    check_same(prog, merged, SPECIAL)


def test_cse_compares_constants_by_bits_dtype_and_shape():
    x = SPECIAL

    def f(x):
        return (
            (x * 0.0) + (x * -0.0),  # 0.0 and -0.0 differ
            (x * onp.ones(10)) + (x * onp.ones(10)),  # equal arrays, two objects: merged
            (x * onp.ones(10, onp.float32)) + (x * onp.ones(10)),  # other dtype (and a third)
            (x * onp.float64(2.0)) + (x * 2.0),  # a NumPy scalar and a Python float
        )

    prog = wg.make_program(f)(x)
    merged = passes.eliminate_common_subexpressions(prog)
    assert len(prog) - len(merged) == 2
    check_same(prog, merged, x)


def test_cse_keeps_outputs_apart_and_leaves_random_draws_alone():
    prog = wg.make_program(lambda x: (np.sin(x), np.sin(x)))(onp.ones(3))
    simplified = prog.simplify()
    assert len(simplified) == 2
    a, b = simplified(onp.ones(3))
    assert a is not b

    b = Builder(onp.ones(4))
    rng = onp.random.default_rng(0)
    m1 = b(_dropout_scale, onp.ones(4), 0.5, rng)
    m2 = b(_dropout_scale, onp.ones(4), 0.5, rng)
    b(_dropout_scale, onp.ones(4), 0.5, rng)  # dead, but it draws: kept
    y = b(np.multiply, b.inputs[0], m1)
    z = b(np.multiply, y, m2)
    prog = b.program(z)
    simplified = passes.simplify(prog)
    assert simplified.primitives()["dropout_scale"] == 3


# --- dead code ----------------------------------------------------------------------------


def test_dce_drops_what_reaches_no_output_and_keeps_guards_in_order():
    def f(x):
        unused = np.cos(x) * 3.0  # noqa: F841
        if np.sum(x) > 0:
            x = x * 2.0
        return np.sin(x)

    prog = wg.make_program(f)(onp.ones(3))
    lean = passes.eliminate_dead_code(prog)
    assert "cos" not in lean.primitives() and len(lean) == len(prog) - 2
    kinds = [type(e).__name__ for e in lean.equations]
    assert kinds == ["Equation", "Equation", "Guard", "Equation", "Equation"]
    check_same(prog, lean, onp.arange(3.0))
    assert prog.simplify()(onp.arange(3.0)) is not None
    with pytest.raises(wg.GuardError):
        prog.simplify()(-onp.ones(3))


def test_dce_of_a_derivative_program_drops_the_unused_primal_result():
    prog = wg.make_program(wg.grad(lambda x: np.sum(np.exp(x))))(onp.ones(4))
    assert "sum" in prog.primitives()
    assert "sum" not in passes.eliminate_dead_code(prog).primitives()


# --- constant folding ---------------------------------------------------------------------


def test_folding_evaluates_constant_equations_once():
    b = Builder(onp.ones(3))
    (x,) = b.inputs
    c = b(np.sin, 2.0)
    d = b(np.multiply, c, onp.arange(3.0))
    e = b(np.add, x, d)
    k = b(np.cos, 1.0)  # a scalar output folds to a constant
    big = b(np.exp, onp.arange(3.0))  # an array output stays computed
    prog = b.program(e, k, big)
    folded = passes.fold_constants(prog)
    assert folded.primitives() == {"add": 1, "exp": 1}
    assert folded.outputs[1] == onp.cos(1.0)
    check_same(prog, folded, SPECIAL[:3])
    out = folded.evaluate([onp.ones(3)])[2]
    assert out is not folded.evaluate([onp.ones(3)])[2]


def test_folding_leaves_random_and_uninitialised_values_alone():
    b = Builder(onp.ones(2))
    m = b(_dropout_scale, onp.ones(2), 0.5, onp.random.default_rng(1))
    y = b(np.multiply, b.inputs[0], m)
    prog = b.program(y)
    assert passes.fold_constants(prog).primitives()["dropout_scale"] == 1
    assert passes.deterministic(prog.equations[1])
    assert not passes.deterministic(prog.equations[0])


def test_folding_checks_guards_on_folded_values():
    b = Builder(1.0)
    t = b(np.greater, 2.0, 1.0)
    b.guard(t)
    y = b(np.multiply, b.inputs[0], 3.0)
    prog = b.program(y)
    folded = passes.fold_constants(prog)
    assert folded.guards == [] and len(folded) == 1
    check_same(prog, folded, 2.5)


def test_folding_a_whole_program_into_constants():
    prog = wg.make_program(lambda x: x * 2.0 + np.sin(onp.arange(3.0)).sum())(1.5)
    assert prog(1.5) == prog.simplify()(1.5)


# --- identities ---------------------------------------------------------------------------


def _one_op(fun, x):
    """A program of one identity candidate followed by sin (so its result is no output)."""
    return wg.make_program(lambda x: np.sin(fun(x)))(x)


EXACT = [
    ("x + -0.0", lambda x: x + -0.0),
    ("-0.0 + x", lambda x: -0.0 + x),
    ("x + (-0.0 array)", lambda x: x + onp.full(10, -0.0)),
    ("x - 0.0", lambda x: x - 0.0),
    ("x - 0", lambda x: x - 0),
    ("x * 1", lambda x: x * 1),
    ("1.0 * x", lambda x: 1.0 * x),
    ("x * ones", lambda x: x * onp.ones(10)),
    ("x / 1.0", lambda x: x / 1.0),
    ("-(-x)", lambda x: -(-x)),
    ("reshape", lambda x: np.reshape(x, (10,))),
    ("broadcast_to", lambda x: np.broadcast_to(x, (10,))),
    ("transpose", lambda x: np.transpose(x)),
    ("swapaxes", lambda x: np.swapaxes(x, 0, -1)),
    ("moveaxis", lambda x: np.moveaxis(x, 0, 0)),
    ("ravel", lambda x: np.ravel(x)),
]
INEXACT = [
    ("x + 0.0", lambda x: x + 0.0),  # -0.0 + 0.0 is 0.0
    ("x + 0", lambda x: x + 0),
    ("0.0 + x", lambda x: 0.0 + x),
    ("x - -0.0", lambda x: x - -0.0),
    ("0.0 - x", lambda x: 0.0 - x),
    ("x * 0.0", lambda x: x * 0.0),  # inf * 0 is NaN
    ("1.0 / x", lambda x: 1.0 / x),
    ("x * 2.0", lambda x: x * 2.0),
    ("x * ones((1, 10))", lambda x: x * onp.ones((1, 10))),  # broadcasts to another shape
    ("x * float32 ones", lambda x: x.astype(onp.float32) * onp.ones(10)),  # another dtype
]


@pytest.mark.parametrize("name, fun", EXACT, ids=[e[0] for e in EXACT])
def test_exact_identities_are_removed(name, fun):
    prog = _one_op(fun, SPECIAL)
    lean = passes.eliminate_dead_code(passes.remove_identities(prog))
    assert len(lean) == 1, str(lean)
    check_same(prog, lean, SPECIAL)
    check_same(prog, lean, -SPECIAL[::-1])


@pytest.mark.parametrize("name, fun", INEXACT, ids=[e[0] for e in INEXACT])
def test_inexact_identities_are_kept(name, fun):
    prog = _one_op(fun, SPECIAL)
    lean = passes.remove_identities(prog)
    assert len(lean) == len(prog)
    check_same(prog, lean, SPECIAL)


def test_adding_plus_zero_is_not_exact_at_minus_zero():
    assert onp.signbit(onp.add(-0.0, 0.0)) == False  # noqa: E712
    prog = _one_op(lambda x: x + 0.0, onp.array([-0.0]))
    simplified = prog.simplify()
    assert simplified.primitives()["add"] == 1
    got = simplified(onp.array([-0.0]))
    assert same(got, onp.sin(onp.array([0.0])))
    # and the exact one: -0.0 + -0.0 is -0.0
    prog = _one_op(lambda x: x + -0.0, onp.array([-0.0]))
    assert "add" not in prog.simplify().primitives()
    assert onp.signbit(prog.simplify()(onp.array([-0.0])))[0]


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128", "int64", "bool"])
def test_the_zero_and_one_rules_agree_with_numpy_bit_for_bit(dtype):
    """Each rule's claim, for every zero and one constant of several types, is checked
    against NumPy itself on special values."""
    if dtype.startswith("complex"):
        xs = SPECIAL_COMPLEX.astype(dtype)
    elif dtype == "bool":
        xs = onp.array([True, False])
    elif dtype.startswith("int"):
        xs = onp.array([0, -1, 7, onp.iinfo(dtype).min, onp.iinfo(dtype).max], dtype)
    else:
        xs = SPECIAL.astype(dtype)
    constants = [
        0.0,
        -0.0,
        0,
        1,
        1.0,
        False,
        True,
        complex(0.0, 0.0),
        complex(-0.0, -0.0),
        complex(-0.0, 0.0),
        complex(1.0, 0.0),
        onp.float32(-0.0),
        onp.zeros(1),
        onp.full(1, -0.0),
        onp.ones(1, onp.int8),
    ]
    kind = xs.dtype.kind
    checked = 0
    with warnings.catch_warnings(), onp.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for c in constants:
            for op, claim in (
                (onp.add, passes._adds_exact_zero(kind, c, subtract=False)),
                (onp.subtract, passes._adds_exact_zero(kind, c, subtract=True)),
                (onp.multiply, passes._multiplies_exact_one(kind, c)),
                (onp.true_divide, passes._multiplies_exact_one(kind, c)),
            ):
                try:
                    out = op(xs, c)
                except TypeError:
                    continue
                if out.dtype != xs.dtype or out.shape != xs.shape:
                    continue  # the pass checks shape and dtype first
                if claim:
                    checked += 1
                    assert same(out, xs), (op, c)
    assert checked > 0


def test_complex_times_one_is_kept():
    z = onp.array([complex(-0.0, -1.0), complex(1.0, inf)])
    assert not same(z * 1.0, z)
    prog = _one_op(lambda x: x * 1.0, z)
    assert len(passes.remove_identities(prog)) == 2


def test_shape_operations_to_the_same_shape_and_dtype_are_removed():
    b = Builder(onp.arange(6.0).reshape(2, 3), onp.arange(9.0).reshape(3, 3))
    x, sq = b.inputs
    y = b(np.reshape, x, (2, 3))
    y = b(broadcast_to, y, (2, 3))
    y = b(sum_to_shape, y, (2, 3))
    y = b(_astype, y, onp.float64)
    y = b(np.transpose, y, (0, 1))
    t = b(np.transpose, sq, (1, 0))  # same shape, other order: kept
    a = b(_astype, x, onp.float32)  # another dtype: kept
    s = b(sum_to_shape, x, (3,))  # another shape: kept
    out = b(np.sin, y)
    prog = b.program(out, b(np.cos, t), b(np.cos, a), b(np.cos, s))
    lean = passes.remove_identities(prog)
    assert len(lean) == len(prog) - 5
    check_same(prog, lean, *(b.env[v] for v in b.inputs))


def test_identity_defining_an_output_is_kept_so_outputs_never_alias_inputs():
    prog = wg.make_program(lambda x: x * 1.0)(onp.ones(3))
    simplified = prog.simplify()
    assert len(simplified) == 1
    x = onp.ones(3)
    assert simplified(x) is not x


def test_guards_follow_the_variables_identities_forward():
    def f(x):
        y = x * 1.0
        if np.sum(y) > 0:
            return np.sin(y)
        return np.cos(y)

    prog = wg.make_program(f)(onp.ones(3))
    lean = prog.simplify()
    assert len(lean) == len(prog) - 1 and len(lean.guards) == 1
    assert same(lean(onp.arange(3.0)), prog(onp.arange(3.0)))
    with pytest.raises(wg.GuardError):
        lean(-onp.ones(3))


# --- simplify on derivative programs ------------------------------------------------------


def mlp_loss(params, x):
    h = np.tanh(x @ params["w1"] + params["b1"])
    return np.sum((h @ params["w2"] + params["b2"]) ** 2)


def _mlp_args(seed):
    rng = onp.random.default_rng(seed)
    params = {
        "w1": rng.standard_normal((3, 8)),
        "b1": rng.standard_normal(8),
        "w2": rng.standard_normal((8, 2)),
        "b2": rng.standard_normal(2),
    }
    return params, rng.standard_normal((5, 3))


def test_the_mlp_gradient_program_gets_shorter_and_computes_the_same():
    prog = wg.make_program(wg.grad(mlp_loss))(*_mlp_args(0))
    lean = prog.simplify()
    assert len(lean) < len(prog)
    for seed in (1, 2):
        args = _mlp_args(seed)
        values = prog.input_leaves(args)
        want = prog.evaluate(values)
        assert all_same(lean.evaluate(values), want)
        assert all_same(tree_flatten(lean(*args))[0], want)
        plan = passes.buffer_plan(lean)
        assert plan
        copies = [onp.copy(v) for v in values]
        assert all_same(passes.evaluate(lean, values, plan), want)
        assert all_same(values, copies)


def test_a_scalar_chain_gradient_loses_its_primal_result_and_unit_seed():
    def chain(x):
        for _ in range(100):
            x = np.sin(x)
        return x

    prog = wg.make_program(wg.grad(chain))(0.3)
    lean = prog.simplify()
    assert len(lean) < len(prog)
    for x in (0.3, -1.7):
        assert same(lean(x), prog(x))


# --- buffer plan ----------------------------------------------------------------------------


def test_the_buffer_plan_never_writes_inputs_outputs_or_viewed_arrays():
    b = Builder(onp.arange(6.0))
    (x,) = b.inputs
    e = b(np.exp, x)  # fresh, but viewed by r below
    r = b(np.reshape, e, (2, 3))
    s = b(np.sin, e)  # e's last use, yet r still views its array: no buffer
    u = b(np.negative, x)  # x is an input: no buffer
    w = b(np.cos, u)  # u fresh and dead after this: buffer
    out = b(np.add, s, w)  # s dead after this: buffer
    last = b(np.multiply, out, 2.0)  # out's array is kept... out is not an output: buffer
    keep = b(np.exp, last)  # 'last' is an output: no buffer
    prog = b.program(last, keep, r)
    plan = passes.buffer_plan(prog)
    assert plan == {4: u, 5: s, 6: out}
    value = onp.arange(6.0)
    check_same(prog, prog, value)
    assert same(value, onp.arange(6.0))


def test_buffers_are_written_in_place():
    outs = []

    def spy(ufunc):
        def fun(*args, **kwargs):
            outs.append(kwargs.get("out"))
            return ufunc(*args, **kwargs)

        fun.__name__ = ufunc.__name__
        return fun

    exp = Primitive(spy(onp.exp), "exp", elementwise=True)
    tanh = Primitive(spy(onp.tanh), "tanh", elementwise=True)
    b = Builder(onp.ones(4))
    y = b(tanh, b(np.multiply, b(exp, b.inputs[0]), 2.0))
    prog = b.program(y)
    plan = passes.buffer_plan(prog)
    assert set(plan) == {1, 2}
    outs.clear()
    x = onp.linspace(0, 1, 4)
    (got,) = passes.evaluate(prog, [x], plan)
    assert outs[0] is None and outs[1] is got
    assert same(got, onp.tanh(onp.exp(x) * 2.0))


def test_the_buffer_plan_skips_guards_readers_and_scalars():
    def f(x):
        y = np.exp(x)
        if np.sum(y) > 0:  # reads y's sum, not y: y stays a buffer candidate
            z = np.sin(y)
        return z * 2.0, np.cos(x[0]) * 2.0

    prog = wg.make_program(f)(onp.ones(3))
    plan = passes.buffer_plan(prog)
    names = [e.primitive.name for i, e in enumerate(prog.equations) if i in plan]
    # sin writes into exp's array and z * 2.0 into that one again (the result may be an
    # output; what is overwritten may not); the scalar x[0] never serves as a buffer.
    assert names == ["sin", "multiply"]
    check_same(prog, prog, onp.arange(3.0))


# --- every row of the derivative tables ----------------------------------------------------

CASES, _ = _tables.load_tables("_passes_tables")


def _restricted(case, first):
    leaves, treedef = tree_flatten(tuple(first))
    diff = [i for i, x in enumerate(leaves) if _tables.is_inexact(x)]
    return _tables.restricted(case, leaves, treedef, diff), diff


def _outcome(prog: Program, values: list):
    """The program's output leaves, or GuardFailure when a guard does not hold."""
    try:
        return prog.evaluate(values)
    except GuardFailure:
        return GuardFailure


def _check_program(prog: Program, draws: list) -> None:
    lean = prog.simplify()
    assert len(lean) <= len(prog)
    plan = passes.buffer_plan(lean)
    for values in draws:
        want = _outcome(prog, values)
        got = _outcome(lean, values)
        if want is GuardFailure or got is GuardFailure:
            assert want is got
            continue
        assert all_same(got, want), str(lean)
        copies = [onp.copy(v) for v in values]
        try:
            planned = passes.evaluate(lean, values, plan)
        except GuardFailure:
            planned = GuardFailure
        assert planned is not GuardFailure and all_same(planned, want)
        assert all_same(values, copies)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_simplify_keeps_every_table_row_and_its_gradient_bit_for_bit(case):
    first = _tables.generate(case)
    f, diff = _restricted(case, first)
    if not diff:
        pytest.skip("no floating-point input")
    draws = []
    for offset in (0, 1):
        leaves = tree_flatten(tuple(_tables.generate(case, offset)))[0]
        draws.append([leaves[i] for i in diff])
    d0 = draws[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_program(wg.make_program(f)(*d0), draws)
        outs = tree_flatten(f(*d0))[0]
        if not any(_tables.is_inexact(o) for o in outs) or case.order < 1:
            return
        gradient = _tables.weighted_gradient(f, d0, case.seed)
        _check_program(wg.make_program(gradient)(*d0), draws)


def test_uniform_array_constants_become_scalars_of_their_dtype():
    from wengert.program.passes import scalarize_constants

    c = onp.full(4, 100.0, dtype=onp.float32)
    prog = wg.make_program(lambda x: x * c)(onp.ones(4, dtype=onp.float32))
    out = scalarize_constants(prog)
    (eq,) = [e for e in out.equations if e.primitive.name == "multiply"]
    assert isinstance(eq.inputs[1], onp.float32)
    x = onp.linspace(-3, 3, 4, dtype=onp.float32)
    onp.testing.assert_array_equal(out(x), prog(x))
    assert out(x).dtype == onp.float32
    # Not where the constant decides the result's shape, nor for mixed entries.
    prog = wg.make_program(lambda x: x * onp.full((2, 4), 3.0))(onp.ones(4))
    assert scalarize_constants(prog).equations[0].inputs[1].shape == (2, 4)
    prog = wg.make_program(lambda x: x * onp.array([0.0, -0.0, 0.0, 0.0]))(onp.ones(4))
    assert scalarize_constants(prog).equations[0].inputs[1].shape == (4,)


def test_negation_of_a_scalar_product_folds_into_the_product():
    from wengert.program.passes import fold_negations, simplify

    prog = wg.make_program(lambda x: -(2.0 * x) + x)(onp.ones(3))
    out = simplify(fold_negations(prog))
    assert "negative" not in out.primitives()
    x = onp.array([1.5, -0.0, onp.inf])
    onp.testing.assert_array_equal(out(x), prog(x))

    # A product used elsewhere keeps its negation.
    def twice(x):
        p = 2.0 * x
        return -p * p

    prog = wg.make_program(twice)(onp.ones(3))
    assert "negative" in simplify(prog).primitives()


def test_a_negated_factor_moves_into_a_scalar_product():
    from wengert.program.passes import fold_negations, simplify

    def f(x, y):
        return (-x) * (2.0 * y)

    prog = wg.make_program(f)(onp.ones(3), onp.ones(3))
    out = simplify(fold_negations(prog))
    assert "negative" not in out.primitives()
    x, y = onp.array([1.5, -0.0, onp.inf]), onp.array([0.3, 2.0, -1.0])
    onp.testing.assert_array_equal(out(x, y), prog(x, y))
    # Integers keep their negation (negating a constant could overflow or wrap).
    prog = wg.make_program(lambda x: -(3 * x))(onp.arange(3, dtype=onp.uint8))
    assert "negative" in simplify(prog).primitives()
