"""The error of finite differences against the step: the V of forward and central
differences, the flat complex step, the table, the plot and functions that refuse complex
input."""

from __future__ import annotations

import math
import sys

import numpy as onp
import pytest

import wengert.numpy as np
from wengert import numeric
from wengert.explore.steps import StepErrors, plot_steps, render_steps, step_errors


def rational(x):
    return 1 / (x**2 + 1)


X, EXACT = 3.0, -0.06  # d/dx 1/(x^2 + 1) = -2x / (x^2 + 1)^2


@pytest.fixture(scope="module")
def rational_errors() -> StepErrors:
    return step_errors(rational, X, EXACT)


def test_default_steps_are_31_log_spaced_from_1e_1_to_1e_16(rational_errors):
    h = rational_errors.steps
    assert h.shape == (31,)
    assert h[0] == pytest.approx(1e-1) and h[-1] == pytest.approx(1e-16)
    assert onp.all(onp.diff(h) < 0)
    assert onp.allclose(onp.diff(onp.log10(h)), -0.5)
    for column in (rational_errors.forward, rational_errors.central):
        assert column.shape == h.shape and onp.all(onp.isfinite(column))


def test_forward_error_falls_then_rises(rational_errors):
    h, err = rational_errors.steps, rational_errors.forward
    k = int(onp.argmin(err))
    assert 1e-9 <= h[k] <= 1e-7
    assert err[k] < 1e-8
    assert err[0] > 1e4 * err[k]  # truncation at h = 1e-1
    assert err[-1] > 1e4 * err[k]  # cancellation at h = 1e-16
    # Truncation ~ h: one decade of step is one decade of error on the right branch.
    big = (h >= 1e-5) & (h <= 1e-2)
    slopes = onp.diff(onp.log10(err[big])) / onp.diff(onp.log10(h[big]))
    assert onp.allclose(slopes, 1.0, atol=0.05)


def test_central_minimum_is_lower_and_at_larger_steps(rational_errors):
    h = rational_errors.steps
    central, forward = rational_errors.central, rational_errors.forward
    k = int(onp.argmin(central))
    assert 1e-6 <= h[k] <= 1e-5
    assert central[k] < forward.min() / 10
    assert central[0] > 1e4 * central[k] and central[-1] > 1e4 * central[k]
    big = (h >= 1e-4) & (h <= 1e-2)
    slopes = onp.diff(onp.log10(central[big])) / onp.diff(onp.log10(h[big]))
    assert onp.allclose(slopes, 2.0, atol=0.05)


def test_complex_step_has_no_cancellation(rational_errors):
    small = rational_errors.steps <= 1e-8
    assert onp.all(rational_errors.complex_step[small] <= 1e-15)
    # At large steps it has the central difference's truncation error ~ h^2.
    assert rational_errors.complex_step[0] > 1e-6


def test_estimates_are_the_plain_formulas_of_wengert_numeric(rational_errors):
    for h, forward, central, cstep in zip(
        rational_errors.steps,
        rational_errors.forward,
        rational_errors.central,
        rational_errors.complex_step,
    ):
        h = float(h)
        fd = numeric.directional_derivative(rational, X, 1.0, kind="forward", accuracy=1, step=h)
        cd = numeric.directional_derivative(rational, X, 1.0, kind="central", step=h)
        assert forward == abs(float(fd) - EXACT)
        assert central == abs(float(cd) - EXACT)
        cs = float(numeric.complex_step(rational, X, 1.0, step=h))
        assert cstep == pytest.approx(abs(cs - EXACT), rel=1e-6, abs=1e-16)


def test_default_steps_come_from_wengert_numeric(rational_errors):
    assert rational_errors.default_steps == {
        "forward": numeric.default_step(X, "forward", 1),
        "central": numeric.default_step(X, "central", 2),
        "complex step": 1e-20,
    }
    assert rational_errors.default_steps["forward"] == pytest.approx(
        math.sqrt(onp.finfo(float).eps) * X
    )
    assert rational_errors.exact == EXACT and rational_errors.x == X


def test_given_steps_are_used_in_decreasing_order():
    r = step_errors(rational, X, EXACT, steps=[1e-8, 1e-2, 1e-5])
    assert list(r.steps) == [1e-2, 1e-5, 1e-8]
    assert r.forward[0] == pytest.approx(abs((rational(X + 1e-2) - rational(X)) / 1e-2 - EXACT))


@pytest.mark.parametrize("steps", [[], [1e-3, 0.0], [1e-3, -1e-4], [[1e-3]], [math.nan]])
def test_bad_steps_are_refused(steps):
    with pytest.raises(ValueError, match="step_errors: steps"):
        step_errors(rational, X, EXACT, steps=steps)


def test_bad_point_exact_or_output_are_refused():
    with pytest.raises(ValueError, match="x must be finite"):
        step_errors(rational, math.inf, EXACT)
    with pytest.raises(TypeError, match="exact must be a real number"):
        step_errors(rational, X, "slope")
    with pytest.raises(TypeError, match="one real number"):
        step_errors(lambda x: np.array([x, x]), X, 1.0)


@pytest.mark.parametrize(
    "fun, exact",
    [
        (np.abs, 1.0),  # wengert.numpy.abs of a complex number is its (real) modulus
        (lambda x: math.sqrt(x), 0.5 / math.sqrt(X)),  # math.sqrt refuses complex input
        # NumPy's complex scalars would let math.sqrt drop the imaginary part silently here,
        # leaving a complex but wrong result; a Python complex makes it raise.
        (lambda x: math.sqrt(x) * x, 1.5 * math.sqrt(X)),
        # A cast of complex to real that NumPy only warns about: an error here.
        (lambda x: onp.asarray(x).astype(float) * x, 2 * X),
    ],
    ids=["wnp.abs", "math.sqrt", "math.sqrt times x", "astype(float) times x"],
)
def test_complex_step_is_nan_where_complex_input_is_refused(fun, exact):
    r = step_errors(fun, X, exact)
    assert onp.all(onp.isnan(r.complex_step))
    assert onp.all(onp.isfinite(r.forward)) and onp.all(onp.isfinite(r.central))
    assert r.central.min() < 1e-9
    assert "complex step n/a" in render_steps(r)


def test_the_function_sees_python_floats_and_complex_numbers():
    seen = set()

    def square(x):
        seen.add(type(x))
        return x * x

    r = step_errors(square, X, 2 * X, steps=[1e-3])
    assert seen == {float, complex}
    assert r.complex_step[0] <= 1e-15


def test_failures_near_the_point_are_nan_not_exceptions():
    # math.log fails at x - h < 0 for the larger steps: only the central column is hit.
    r = step_errors(math.log, 0.01, 100.0, steps=[1e-1, 1e-3])
    assert math.isnan(r.central[0]) and math.isfinite(r.central[1])
    assert onp.all(onp.isfinite(r.forward))


def test_render_steps_has_one_row_per_step_and_names_the_defaults(rational_errors):
    text = render_steps(rational_errors)
    lines = text.splitlines()
    assert lines[0].split() == ["h", "forward", "central", "complex", "step"]
    rows = lines[1:-1]
    assert len(rows) == len(rational_errors.steps)
    for row, h, fwd, cen, cs in zip(
        rows,
        rational_errors.steps,
        rational_errors.forward,
        rational_errors.central,
        rational_errors.complex_step,
    ):
        assert row.split() == [f"{v:.2e}" for v in (h, fwd, cen, cs)]
    last = lines[-1]
    assert last.startswith("best h: forward 1.00e-08, central 3.16e-06, complex step ")
    assert "default h: forward 4.47e-08, central 1.82e-05, complex step 1.00e-20" in last


def test_plot_steps_writes_an_image(rational_errors, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "steps.png"
    plot_steps(rational_errors, str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    svg = tmp_path / "steps.svg"
    plot_steps(rational_errors, str(svg))
    text = svg.read_text()
    assert "<svg" in text and "x = 3" in text


def test_plot_steps_without_matplotlib_names_the_extra(rational_errors, tmp_path, monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = tmp_path / "steps.png"
    with pytest.raises(ImportError, match=r'pip install "wengert\[nn\]"'):
        plot_steps(rational_errors, str(path))
    assert not path.exists()
