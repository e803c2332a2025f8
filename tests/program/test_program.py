"""make_program: the recorded evaluation list prints, evaluates like the function, and
guards the decisions Python took from traced values."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as np


def f(x):
    return 1.0 / (x**2 + 1.0)


def test_program_prints_one_primitive_per_line_and_evaluates_without_retracing():
    prog = wg.make_program(f)(3.0)
    text = str(prog)
    assert "v1 = x ** 2" in text and "v2 = v1 + 1.0" in text and "v3 = 1.0 / v2" in text
    assert len(prog) == 3
    assert prog(2.0) == f(2.0)


def test_derivative_program_holds_the_forward_and_backward_sweeps():
    prog = wg.make_program(wg.grad(f))(3.0)
    assert prog.primitives()["power"] == 1
    assert len(prog) > 3
    for x in (-2.0, 0.0, 0.5, 7.0):
        assert prog(x) == pytest.approx(wg.grad(f)(x), rel=1e-15)


def test_trees_in_and_out_with_names_from_the_parameters():
    def loss(params, x):
        h = np.tanh(x @ params["w"] + params["b"])
        return np.sum(h**2), h

    p = {"w": onp.ones((3, 4)), "b": onp.zeros(4)}
    x = onp.linspace(0, 1, 15).reshape(5, 3)
    prog = wg.make_program(loss)(p, x)
    assert [prog.names[v] for v in prog.inputs] == ["params_b", "params_w", "x"]
    p2 = {"w": onp.full((3, 4), 0.3), "b": onp.arange(4.0)}
    got, want = prog(p2, x), loss(p2, x)
    onp.testing.assert_array_equal(got[0], want[0])
    onp.testing.assert_array_equal(got[1], want[1])


def test_a_branch_on_a_traced_value_is_guarded():
    def h(x):
        return np.sin(x) if x > 0 else np.cos(x)

    prog = wg.make_program(h)(1.0)
    assert "guard" in str(prog)
    assert prog(2.0) == onp.sin(2.0)
    with pytest.raises(wg.GuardError, match=r"if x > 0"):
        prog(-1.0)


def test_loop_count_from_a_traced_value_is_guarded():
    def h(x):
        while x < 10.0:
            x = x * 2.0
        return x

    prog = wg.make_program(h)(3.0)  # two doublings
    assert prog(4.0) == 16.0
    with pytest.raises(wg.GuardError):
        prog(0.5)


def test_wrong_shapes_dtypes_and_structures_are_refused():
    prog = wg.make_program(f)(onp.ones(3))
    with pytest.raises(TypeError, match="shape"):
        prog(onp.ones(4))
    with pytest.raises(TypeError, match="dtype"):
        prog(onp.ones(3, dtype=onp.float32))
    with pytest.raises(TypeError, match="structure"):
        prog(onp.ones(3), onp.ones(3))


def test_a_program_is_differentiable_itself():
    prog = wg.make_program(f)(3.0)
    assert wg.grad(prog)(2.0) == pytest.approx(wg.grad(f)(2.0), rel=1e-15)
    assert wg.grad(wg.grad(prog))(2.0) == pytest.approx(wg.grad(wg.grad(f))(2.0), rel=1e-14)


def test_closing_over_a_value_of_an_outer_transformation_is_refused():
    def outer(p):
        prog = wg.make_program(lambda x: x * p)(2.0)
        return prog(2.0)

    with pytest.raises(wg.EscapedTracerError, match="argument"):
        wg.grad(outer)(1.0)


def test_long_programs_are_summarised():
    def chain(x):
        for _ in range(100):
            x = np.sin(x)
        return x

    prog = wg.make_program(chain)(0.5)
    text = str(prog)
    assert "more lines" in text and text.count("\n") < 80
    assert prog.text(limit=None).count("sin(") == 100
