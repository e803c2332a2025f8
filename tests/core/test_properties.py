"""Property tests: random programs of broadcasting operations keep both modes consistent."""

from __future__ import annotations

import numpy as onp
from hypothesis import given, settings
from hypothesis import strategies as st

import wengert as wg
import wengert.numpy as wnp

UNARY = [wnp.sin, wnp.tanh, wnp.exp, lambda x: wnp.log1p(x * x), wnp.square, wnp.arctan]
# maximum last: the checker test leaves it out, since its kink can fall within the
# finite-difference step; the AD-against-AD test needs no step.
BINARY = [wnp.add, wnp.subtract, wnp.multiply, lambda x, y: x / (1.0 + y * y), wnp.maximum]
SMOOTH_BINARY = len(BINARY) - 1
SHAPES = [(), (3,), (2, 3), (2, 1), (1, 3)]


@st.composite
def programs(draw, n_binary=len(BINARY)):
    """A list of steps, each applying a unary op to one value or a binary op to two."""
    n_inputs = draw(st.integers(1, 3))
    shapes = [draw(st.sampled_from(SHAPES)) for _ in range(n_inputs)]
    steps = []
    n_values = n_inputs
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            steps.append(
                ("u", draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, n_values - 1)))
            )
        else:
            a = draw(st.integers(0, n_values - 1))
            b = draw(st.integers(0, n_values - 1))
            steps.append(("b", draw(st.integers(0, n_binary - 1)), a, b))
        n_values += 1
    seed = draw(st.integers(0, 2**31 - 1))
    return shapes, steps, seed


def run(steps, *inputs):
    values = list(inputs)
    for step in steps:
        if step[0] == "u":
            values.append(UNARY[step[1]](values[step[2]]))
        else:
            values.append(BINARY[step[1]](values[step[2]], values[step[3]]))
    return wnp.sum(values[-1] * 1.5) + wnp.sum(values[0])


@settings(max_examples=60, deadline=None)
@given(programs())
def test_reverse_and_forward_agree_on_random_programs(program):
    shapes, steps, seed = program
    rng = onp.random.default_rng(seed)
    xs = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]
    grads = wg.grad(lambda *a: run(steps, *a), argnums=tuple(range(len(xs))))(*xs)
    _, tangent = wg.jvp(lambda *a: run(steps, *a), tuple(xs), tuple(vs))
    for g, x in zip(grads, xs):
        assert onp.shape(g) == onp.shape(x)
    lhs = sum(float(onp.sum(g * v)) for g, v in zip(grads, vs))
    assert abs(lhs - float(tangent)) <= 1e-9 * (1 + abs(lhs))


@settings(max_examples=15, deadline=None)
@given(programs(n_binary=SMOOTH_BINARY))
def test_random_programs_pass_the_checker(program):
    shapes, steps, seed = program
    rng = onp.random.default_rng(seed)
    xs = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    wg.check_grads(lambda *a: run(steps, *a), order=2, rtol=1e-4, atol=1e-5)(*xs)
