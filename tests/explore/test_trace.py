"""The evaluation trace: rows, values, local partials, the forward tangent column and the
reverse adjoint column, checked against wengert's own jvp and grad."""

from __future__ import annotations

import math
import re

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as np
from wengert.explore.parse import parse
from wengert.explore.trace import Trace, TraceRow, render_trace, trace


def classic(x, y):
    return x * y + np.sin(x)


def rational(x):
    return 1.0 / (x**2 + 1.0)


def three(x, y, z):
    return np.exp(x * y) / z - np.log(z) * y + np.tanh(x) ** 3 + np.sqrt(x * x + y * y)


def check_against_wengert(fun, t: Trace) -> None:
    """The trace's value, directional derivative and gradient against wg.jvp and wg.grad."""
    args = [t.point[name] for name in t.variables]
    direction = [t.direction[name] for name in t.variables]
    value, derivative = wg.jvp(fun, args, direction)
    gradient = wg.grad(fun, argnums=tuple(range(len(args))))(*args)
    assert t.value == pytest.approx(float(value), rel=1e-14, abs=1e-14)
    assert t.derivative == pytest.approx(float(derivative), rel=1e-12, abs=1e-12)
    for name, g in zip(t.variables, gradient):
        assert t.gradient[name] == pytest.approx(float(g), rel=1e-12, abs=1e-12)
        row = next(r for r in t.rows if r.name == name)
        assert row.adjoint == t.gradient[name]
    out = next(r for r in t.rows if r.name == t.output)
    assert out.adjoint == 1.0
    assert out.tangent == t.derivative and out.value == t.value


def test_classic_example_rows():
    t = trace(classic, {"x": 0.5, "y": 2.0})
    assert t.variables == ["x", "y"]
    assert t.point == {"x": 0.5, "y": 2.0}
    assert t.direction == {"x": 1.0, "y": 0.0}
    assert [(r.index, r.name, r.kind) for r in t.rows] == [
        (1, "x", "input"),
        (2, "y", "input"),
        (3, "v1", "op"),
        (4, "v2", "op"),
        (5, "v3", "op"),
    ]
    assert [r.expression for r in t.rows] == ["x", "y", "x * y", "sin(x)", "v1 + v2"]
    assert [r.primitive for r in t.rows] == ["", "", "multiply", "sin", "add"]
    assert [r.reads for r in t.rows] == [[], [], ["x", "y"], ["x"], ["v1", "v2"]]
    x, y = 0.5, 2.0
    assert [r.value for r in t.rows] == pytest.approx(
        [x, y, x * y, math.sin(x), x * y + math.sin(x)], rel=1e-15
    )
    v1, v2, v3 = t.rows[2:]
    assert v1.partials == [y, x]  # d(x*y)/dx = y, d(x*y)/dy = x
    assert v2.partials == pytest.approx([math.cos(x)], rel=1e-15)
    assert v3.partials == [1.0, 1.0]
    assert t.output == "v3"


def test_classic_example_tangents_and_adjoints():
    x, y = 0.5, 2.0
    t = trace(classic, {"x": x, "y": y})
    # Forward sweep along x: x-dot = 1, y-dot = 0.
    assert [r.tangent for r in t.rows] == pytest.approx(
        [1.0, 0.0, y, math.cos(x), y + math.cos(x)], rel=1e-15
    )
    # Reverse sweep: v3-bar = 1, then back to the inputs.
    assert [r.adjoint for r in t.rows] == pytest.approx(
        [y + math.cos(x), x, 1.0, 1.0, 1.0], rel=1e-15
    )
    assert t.gradient == pytest.approx({"x": y + math.cos(x), "y": x}, rel=1e-15)
    assert t.derivative == pytest.approx(y + math.cos(x), rel=1e-15)
    check_against_wengert(classic, t)


def test_direction_seeds_the_tangent_column():
    t = trace(classic, {"x": 0.5, "y": 2.0}, {"y": 1.0})
    assert t.direction == {"x": 0.0, "y": 1.0}
    assert [r.tangent for r in t.rows] == pytest.approx([0.0, 1.0, 0.5, 0.0, 0.5])
    check_against_wengert(classic, t)
    t = trace(classic, {"x": 0.5, "y": 2.0}, {"x": 2.0, "y": -3.0})
    assert t.derivative == pytest.approx(2.0 * t.gradient["x"] - 3.0 * t.gradient["y"])
    check_against_wengert(classic, t)


def test_rational_function():
    t = trace(rational, {"x": 3.0})
    assert [r.expression for r in t.rows] == ["x", "x ** 2", "v1 + 1.0", "1.0 / v2"]
    assert [r.value for r in t.rows] == pytest.approx([3.0, 9.0, 10.0, 0.1])
    assert [r.partials for r in t.rows] == [[], [6.0], [1.0], [pytest.approx(-0.01)]]
    assert [r.tangent for r in t.rows] == pytest.approx([1.0, 6.0, 6.0, -0.06])
    assert [r.adjoint for r in t.rows] == pytest.approx([-0.06, -0.01, -0.01, 1.0])
    assert t.value == pytest.approx(0.1) and t.gradient["x"] == pytest.approx(-0.06)
    check_against_wengert(rational, t)


def test_three_variables():
    point = {"x": 0.5, "y": 2.0, "z": 1.5}
    t = trace(three, point, {"x": 0.3, "y": -1.0, "z": 2.0})
    assert t.variables == ["x", "y", "z"]
    assert len(t.rows) == 3 + len(wg.make_program(three)(0.5, 2.0, 1.5))
    square = next(r for r in t.rows if r.expression == "x * x")
    assert square.reads == ["x"] and square.partials == [1.0]  # x read once, d(x*x)/dx = 2x
    check_against_wengert(three, t)


@pytest.mark.parametrize("seed", range(5))
def test_random_points_agree_with_jvp_and_grad(seed):
    rng = onp.random.default_rng(seed)
    x, y, z = rng.uniform(0.2, 2.0, size=3)
    d = rng.normal(size=3)
    t = trace(three, {"x": x, "y": y, "z": z}, {"x": d[0], "y": d[1], "z": d[2]})
    check_against_wengert(three, t)


def test_partials_come_from_each_rows_primitive():
    t = trace(lambda x, y: np.arctan2(y, x) + np.maximum(x, y) * x, {"x": 1.5, "y": 0.5})
    atan2, maximum = t.rows[2], t.rows[3]
    assert atan2.primitive == "arctan2" and atan2.reads == ["y", "x"]
    r2 = 1.5**2 + 0.5**2
    assert atan2.partials == pytest.approx([1.5 / r2, -0.5 / r2], rel=1e-15)
    assert maximum.primitive == "maximum" and maximum.partials == [1.0, 0.0]


def test_input_rows_named_after_the_points_keys():
    t = trace(lambda a, b: a * b, {"u": 2.0, "w": 3.0})
    assert [r.name for r in t.rows] == ["u", "w", "v1"]
    assert t.rows[2].expression == "u * w" and t.rows[2].reads == ["u", "w"]
    assert t.gradient == {"u": 3.0, "w": 2.0}
    e = parse("sin(x)*exp(-y)")
    t = trace(e, {"x": 0.5, "y": 1.0})
    assert t.rows[2].expression == "sin(x)"
    check_against_wengert(e, t)


def test_output_may_be_an_input():
    t = trace(lambda x, y: y, {"x": 1.0, "y": 2.0})
    assert t.output == "y" and t.value == 2.0 and t.derivative == 0.0
    assert t.gradient == {"x": 0.0, "y": 1.0}


def test_integer_and_numpy_point_values_become_floats():
    t = trace(rational, {"x": onp.int64(3)})
    assert t.point == {"x": 3.0} and type(t.point["x"]) is float
    assert t.gradient["x"] == pytest.approx(-0.06)
    t = trace(rational, {"x": onp.array(3.0)})
    assert t.value == pytest.approx(0.1)


def test_comparisons_and_guards_carry_no_derivative():
    def f(x, y):
        z = np.where(x > 0, np.sqrt(x), y)
        return z + (x if x > 0 else -x)

    t = trace(f, {"x": 2.0, "y": 1.0})
    greater = [r for r in t.rows if r.primitive == "greater"]
    assert greater and all(r.partials == [0.0] and r.value == 1.0 for r in greater)
    check_against_wengert(f, t)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_rows_the_output_does_not_use_pass_no_adjoint_back():
    # sqrt at 0 has an infinite partial; its row is dead, so it must not spoil x's adjoint.
    t = trace(lambda x: (np.sqrt(x - 1.0), x**2)[1], {"x": 1.0})
    dead = next(r for r in t.rows if r.primitive == "sqrt")
    assert dead.adjoint == 0.0 and math.isinf(dead.partials[0])
    assert t.gradient == {"x": 2.0}


def test_render_trace_has_one_line_per_row():
    t = trace(classic, {"x": 0.5, "y": 2.0})
    text = render_trace(t)
    lines = text.splitlines()
    assert lines[0].split() == [
        "#",
        "name",
        "expression",
        "value",
        "partials",
        "tangent",
        "adjoint",
    ]
    assert len(lines) == 1 + len(t.rows) + 3
    for line, row in zip(lines[1:], t.rows):
        assert line.split()[:2] == [str(row.index), row.name]
        assert f"{row.value:.6g}" in line and f"{row.adjoint:.6g}" in line
    assert "d/dx=2, d/dy=0.5" in lines[3]
    assert "d/dx=0.877583" in lines[4]
    assert lines[-3] == "f(x=0.5, y=2) = 1.47943"
    assert lines[-2] == "directional derivative along (x=1, y=0) = 2.87758"
    assert lines[-1] == "gradient (df/dx=2.87758, df/dy=0.5)"


def test_rows_are_dataclasses_with_the_documented_fields():
    row = trace(rational, {"x": 3.0}).rows[1]
    assert isinstance(row, TraceRow)
    assert (row.index, row.name, row.kind, row.primitive) == (2, "v1", "op", "power")
    assert isinstance(row.value, float) and isinstance(row.tangent, float)


@pytest.mark.parametrize(
    "fun, point, words",
    [
        (lambda x, y: np.stack([x, y]), {"x": 1.0, "y": 2.0}, "shape (2,)"),
        (lambda x: (x, x**2), {"x": 1.0}, "returned 2 values"),
        (lambda x: 3.0, {"x": 1.0}, "constant"),
        (lambda x: np.sum(np.stack([x, x**2])), {"x": 1.0}, "primitive stack"),
        (lambda x: x, {"x": onp.array([1.0, 2.0])}, "point['x'] is an array of shape (2,)"),
        (lambda x: x, {"x": "one"}, "point['x'] is str"),
        (lambda x: x, {"x": 1j}, "real"),
        (lambda x: x, {"x": True}, "real"),
        (lambda x: x, {}, "non-empty dict"),
    ],
)
def test_bad_input_raises_value_error(fun, point, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        trace(fun, point)


def test_bad_direction_raises_value_error():
    with pytest.raises(ValueError, match=r"'z'.*not variables"):
        trace(classic, {"x": 0.5, "y": 2.0}, {"z": 1.0})
    with pytest.raises(ValueError, match=r"direction\['x'\] is an array"):
        trace(classic, {"x": 0.5, "y": 2.0}, {"x": onp.ones(2)})


def test_programs_give_the_same_table_and_page(tmp_path):
    import wengert as wg
    import wengert.numpy as wnp

    prog = wg.make_program(lambda x, y: x * y + wnp.sin(x))(0.5, 2.0)
    table = prog.table(at=(0.5, 2.0))
    assert table == prog.table(at={"x": 0.5, "y": 2.0})
    assert table.splitlines()[-1] == "gradient (df/dx=2.87758, df/dy=0.5)"
    path = tmp_path / "p.html"
    text = prog.to_html(at=(0.5, 2.0), path=path)
    assert path.read_text(encoding="utf-8") == text and 'id="node-v3"' in text
    with pytest.raises(ValueError, match="takes 2 inputs"):
        prog.table(at=(0.5,))


def test_variables_named_like_rows_get_rows_named_otherwise():
    t = trace(lambda v1, v2, t3: v1 * v2 + np.sin(t3), {"v1": 2.0, "v2": 3.0, "t3": 0.5})
    names = [r.name for r in t.rows]
    assert names[:3] == ["v1", "v2", "t3"] and len(set(names)) == len(names)
    assert all(re.fullmatch(r"u\d+", n) for n in names[3:])
    assert t.gradient == pytest.approx({"v1": 3.0, "v2": 2.0, "t3": onp.cos(0.5)})
