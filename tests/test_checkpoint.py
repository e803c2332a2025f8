"""Checkpointing: the same derivatives in every mode and order, the inside evaluated again
in the backward pass, and less memory held by a long chain."""

from __future__ import annotations

import tracemalloc

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

R = onp.random.default_rng(11)


def layer(x):
    return wnp.tanh(1.1 * x + 0.1) * wnp.cos(x)


def chain(x, depth=4):
    for _ in range(depth):
        x = layer(x)
    return x


def test_derivatives_unchanged_in_every_mode():
    segment = wg.checkpoint(chain)
    f = lambda x: wnp.sum(segment(segment(x)) ** 2)
    plain = lambda x: wnp.sum(chain(chain(x)) ** 2)
    x = R.normal(size=5)
    onp.testing.assert_allclose(wg.grad(f)(x), wg.grad(plain)(x), rtol=1e-13)
    onp.testing.assert_allclose(wg.hessian(f)(x), wg.hessian(plain)(x), rtol=1e-12, atol=1e-14)
    onp.testing.assert_allclose(
        wg.hessian(f, mode="rev-rev")(x), wg.hessian(plain)(x), rtol=1e-12, atol=1e-14
    )
    onp.testing.assert_allclose(wg.jacrev(segment)(x), wg.jacfwd(chain)(x), rtol=1e-13)
    t = R.normal(size=5)
    onp.testing.assert_allclose(wg.jvp(f, (x,), (t,))[1], wg.jvp(plain, (x,), (t,))[1])
    wg.check_grads(f, modes=("fwd", "rev"), order=2)(x)


def counted(fun):
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        return fun(*args, **kwargs)

    return wrapper, calls


def test_inside_is_evaluated_again_in_the_backward_pass():
    inner, calls = counted(chain)
    segment = wg.checkpoint(inner)
    wg.grad(lambda x: wnp.sum(segment(x)))(R.normal(size=3))
    assert len(calls) == 2  # forward, then again in the backward pass
    calls.clear()
    wg.jvp(segment, (R.normal(size=3),), (R.normal(size=3),))
    assert len(calls) == 1  # forward mode stores nothing: no recomputation
    calls.clear()
    segment(R.normal(size=3))
    assert len(calls) == 1


def test_trees_keywords_and_constants():
    @wg.checkpoint
    def block(params, x, *, power):
        return {"y": wnp.tanh(params["w"] @ x + params["b"]) ** power, "count": power}

    params = {"w": R.normal(size=(3, 3)), "b": R.normal(size=3)}
    x = R.normal(size=3)

    def loss(params, x):
        out = block(params, x, power=2)
        assert out["count"] == 2
        return wnp.sum(out["y"])

    def plain(params, x):
        return wnp.sum(wnp.tanh(params["w"] @ x + params["b"]) ** 2)

    got = wg.grad(loss, argnums=(0, 1))(params, x)
    expected = wg.grad(plain, argnums=(0, 1))(params, x)
    for a, b in zip(wg.tree_flatten(got)[0], wg.tree_flatten(expected)[0]):
        onp.testing.assert_allclose(a, b, rtol=1e-13)
    # Only x traced: params are constants of the checkpointed call.
    onp.testing.assert_allclose(
        wg.grad(loss, argnums=1)(params, x), wg.grad(plain, argnums=1)(params, x), rtol=1e-13
    )


def test_nested_checkpoints():
    inner = wg.checkpoint(layer)
    outer = wg.checkpoint(lambda x: inner(inner(x)) * x)
    f = lambda x: wnp.sum(outer(outer(x)))
    plain = lambda x: wnp.sum((lambda y: layer(layer(y)) * y)((lambda y: layer(layer(y)) * y)(x)))
    x = R.normal(size=4)
    onp.testing.assert_allclose(wg.grad(f)(x), wg.grad(plain)(x), rtol=1e-13)
    onp.testing.assert_allclose(
        wg.grad(wg.grad(lambda s: f(x * s)))(0.7),
        wg.grad(wg.grad(lambda s: plain(x * s)))(0.7),
        rtol=1e-11,
    )


def peak_bytes(fun, *args) -> int:
    tracemalloc.start()
    try:
        fun(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_long_chain_holds_less_memory():
    x = R.normal(size=20_000)  # 160 kB per intermediate
    depth, segments = 64, 8
    segment = wg.checkpoint(lambda y: chain(y, depth // segments))

    def checkpointed(x):
        for _ in range(segments):
            x = segment(x)
        return wnp.sum(x)

    plain = lambda x: wnp.sum(chain(x, depth))
    onp.testing.assert_allclose(wg.grad(checkpointed)(x), wg.grad(plain)(x), rtol=1e-12)
    before = peak_bytes(wg.grad(plain), x)
    after = peak_bytes(wg.grad(checkpointed), x)
    assert after < 0.35 * before


# --- regressions: randomness, closures over traced values, Variables ---------------------


def dropout_block(rng):
    def block(h):
        mask = rng.uniform(size=h.shape) > 0.5
        return wnp.tanh(h) * mask

    return block


@pytest.mark.parametrize("where", ["closure", "argument", "numpy global", "random module"])
def test_random_draws_are_replayed_when_recomputing(where):
    import random

    x = R.normal(size=16)

    def make():
        onp.random.seed(3)
        random.seed(3)
        if where == "numpy global":
            return lambda h, _: wnp.tanh(h) * (onp.random.uniform(size=h.shape) > 0.5)
        if where == "random module":
            return lambda h, _: wnp.tanh(h) * random.random()
        rng = onp.random.default_rng(3)
        if where == "closure":
            block = dropout_block(rng)
            return lambda h, _: block(h)
        return lambda h, gen: wnp.tanh(h) * (gen.uniform(size=h.shape) > 0.5)

    results, next_draws = [], []
    for wrap in (wg.checkpoint, lambda f: f):
        block = wrap(make())
        gen = onp.random.default_rng(5)
        results.append(wg.grad(lambda x: wnp.sum(block(block(x, gen), gen) ** 2))(x))
        next_draws.append((onp.random.uniform(), random.random(), gen.uniform()))
    onp.testing.assert_allclose(results[0], results[1], rtol=1e-13)
    assert next_draws[0] == next_draws[1]  # the streams continue as after one evaluation


def test_randomness_it_cannot_rewind_is_detected():
    state = {"calls": 0}

    def drifting(h):
        state["calls"] += 1
        return wnp.tanh(h) * state["calls"]

    with pytest.raises(wg.CheckpointError, match="different values when it was recomputed"):
        wg.grad(lambda x: wnp.sum(wg.checkpoint(drifting)(x)))(R.normal(size=3))

    def branching(h):
        state["calls"] += 1
        return wnp.tanh(h) if state["calls"] % 2 else wnp.sin(wnp.cos(h))

    with pytest.raises(wg.CheckpointError, match="took a different path"):
        wg.grad(lambda x: wnp.sum(wg.checkpoint(branching)(x)))(R.normal(size=3))


def test_closure_over_traced_parameters_in_functional_style():
    p = {"w1": R.normal(size=(3, 3)), "w2": R.normal(size=(3, 3))}
    h = R.normal(size=(2, 3))

    def make_loss(wrap):
        def loss(p, h):
            first = wrap(lambda h: wnp.tanh(h @ p["w1"]))
            second = wrap(lambda h: wnp.tanh(h @ p["w2"]) + wnp.sum(p["w1"]))
            return wnp.sum(second(first(first(h))) ** 2)

        return loss

    got = wg.grad(make_loss(wg.checkpoint), argnums=(0, 1))(p, h)
    expected = wg.grad(make_loss(lambda f: f), argnums=(0, 1))(p, h)
    for a, b in zip(wg.tree_flatten(got)[0], wg.tree_flatten(expected)[0]):
        onp.testing.assert_allclose(a, b, rtol=1e-12)
    hess = wg.hessian(lambda h: make_loss(wg.checkpoint)(p, h))(h)
    onp.testing.assert_allclose(hess, wg.hessian(lambda h: make_loss(lambda f: f)(p, h))(h))
    wg.check_grads(make_loss(wg.checkpoint), modes=("rev",), order=2)(p, h)


def test_variables_are_checkpointed():
    w0, h0 = R.normal(size=(3, 3)), R.normal(size=(2, 3))
    grads = []
    for wrap in (wg.checkpoint, lambda f: f):
        w, h = wg.Variable(w0), wg.Variable(h0)
        inner, calls = counted(lambda h: wnp.tanh(h @ w))
        block = wrap(inner)
        loss = wnp.sum(block(block(h)) ** 2)
        assert len(calls) == 2
        loss.backward()
        grads.append((w.grad.data, h.grad.data))
        # Checkpointed: each block evaluated again in the backward pass.
        assert len(calls) == (4 if wrap is wg.checkpoint else 2)
    for a, b in zip(*grads):
        onp.testing.assert_allclose(a, b, rtol=1e-13)


def test_a_reused_pullback_recomputes_once():
    inner, calls = counted(chain)
    segment = wg.checkpoint(inner)
    x = R.normal(size=3)
    _, pullback = wg.vjp(lambda x: segment(x) * 2.0, x)
    first = pullback(onp.ones(3))[0]
    second = pullback(onp.ones(3))[0]
    onp.testing.assert_array_equal(first, second)
    assert len(calls) == 2
