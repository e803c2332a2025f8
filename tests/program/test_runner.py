"""The NumPy backend's runner: the arrays it keeps between calls (the workspace) never
reach a result, so a later call cannot change an earlier call's results; threads that call
at once each get their own; and its shortcuts (arrays of zeros made empty and zeroed only
where no ufunc writes, sums to a known shape, transposes) give what the functions give.
"""

from __future__ import annotations

import threading

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as np
from wengert.program import runner
from wengert.program.passes import buffer_plan, simplify

N = 300_000  # 2.4 MB of float64: above runner.WORKSPACE_BYTES


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = onp.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * d - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * d
    return g


def draws(n, count, seed=0):
    rng = onp.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, n) for _ in range(count)]


@pytest.fixture
def keep_everything(monkeypatch):
    """Every intermediate the runner may keep goes into the workspace, whatever its size."""
    monkeypatch.setattr(runner, "WORKSPACE_BYTES", 0)


def compiled(fun, *args):
    """`fun`'s program and the runner's function for it, as jit compiles them."""
    program = simplify(wg.make_program(fun)(*args))
    return program, runner.compile_program(program, buffer_plan(program))


def workspace_of(program):
    """The runner's workspace plan for a program, at the default size."""
    accumulate, skipped = runner._accumulations(program)
    direct = runner._direct_scatters(program, skipped)
    plan = buffer_plan(program)
    return runner._workspace(program, plan, accumulate, skipped, direct, runner.WORKSPACE_BYTES)


def test_the_rosenbrock_gradient_keeps_its_large_intermediates_between_calls():
    (x,) = draws(N, 1)
    program, run = compiled(wg.grad(rosenbrock), x)
    assert "_w[" in run.source and "_pool.append(_w)" in run.source
    # The scatters' arrays are made empty and zeroed where the ufunc does not write.
    assert "_np.empty(" in run.source and "_np.zeros(" not in run.source
    onp.testing.assert_allclose(run(x)[0], rosenbrock_grad(x), rtol=1e-12, atol=1e-12)
    # Three kept arrays, two of which never live at once and share memory.
    slots, layout = workspace_of(program)
    assert len(slots) == 3 and len({block for _, _, block, _ in layout}) == 2
    # Small arrays are left to NumPy's allocator.
    _, small = compiled(wg.grad(rosenbrock), x[:1000])
    assert "_w" not in small.source and "_np.zeros(" in small.source


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_gradient_is_not_changed_by_later_calls(backend):
    if backend == "numba":
        pytest.importorskip("numba")
    x0, x1 = draws(N, 2)
    grad = wg.jit(wg.grad(rosenbrock), backend=backend)
    first = grad(x0)
    kept = first.copy()
    second = grad(x1)
    third = grad(x0)
    onp.testing.assert_array_equal(first, kept)
    onp.testing.assert_allclose(first, rosenbrock_grad(x0), rtol=1e-12, atol=1e-12)
    onp.testing.assert_allclose(second, rosenbrock_grad(x1), rtol=1e-12, atol=1e-12)
    onp.testing.assert_array_equal(third, first)
    for a, b in ((first, second), (first, third), (second, third)):
        assert not onp.shares_memory(a, b)
    (entry,) = grad._cache[next(iter(grad._cache))]
    assert "_w[" in entry.run.source  # (the calls did go through a workspace)


def test_results_that_view_an_intermediate_are_never_kept(keep_everything):
    def f(x):
        y = np.exp(x) * 2.0
        z = np.sin(x) + 1.0  # only read: may be kept
        return y[::2], np.reshape(y, (2, -1)), np.sum(z * y)

    x0, x1 = draws(1000, 2)
    jitted = wg.jit(f)
    first = jitted(x0)
    kept = [onp.array(r, copy=True) for r in first]
    second = jitted(x1)
    for got, want in zip(first, kept):
        onp.testing.assert_array_equal(got, want)
    for got, want in zip(second, f(x1)):
        onp.testing.assert_allclose(got, want, rtol=1e-14)
    (entry,) = jitted._cache[next(iter(jitted._cache))]
    assert "_w[" in entry.run.source  # the sine's array is kept, y's is not
    assert not any(onp.shares_memory(a, b) for a in first[:2] for b in second[:2])


def test_arrays_given_to_a_function_that_may_keep_them_are_never_kept(keep_everything):
    seen = []

    @wg.primitive
    def remember(x):
        seen.append(x)
        return x.sum()

    def f(x):
        return np.cos(x) * remember(np.sin(x) * 2.0)  # (a new array: the sine's could be kept)

    x0, x1 = draws(500, 2)
    jitted = wg.jit(f)
    jitted(x0)
    first = seen[-1].copy()
    jitted(x1)
    onp.testing.assert_array_equal(seen[-2], first)  # not overwritten by the second call
    onp.testing.assert_allclose(jitted(x1), f(x1), rtol=1e-14)


def test_threads_that_call_at_once_each_get_their_own_workspace(keep_everything):
    grad = wg.jit(wg.grad(rosenbrock))
    inputs = draws(50_000, 4, seed=1)
    grad(inputs[0])  # record once
    wants = [rosenbrock_grad(x) for x in inputs]
    start = threading.Barrier(len(inputs))
    wrong: list[int] = []

    def work(k):
        start.wait()
        for _ in range(20):
            if not onp.allclose(grad(inputs[k]), wants[k], rtol=1e-12, atol=1e-12):
                wrong.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    (entry,) = grad._cache[next(iter(grad._cache))]
    pool = entry.run.__globals__["_pool"]
    assert 1 <= len(pool) <= runner.WORKSPACES


def test_programs_of_one_function_share_the_workspaces_it_keeps(keep_everything):
    grad = wg.jit(wg.grad(rosenbrock))
    xs = draws(1000, 2) + draws(3000, 2, seed=1)  # two signatures, alternately
    firsts = [grad(x) for x in xs]
    kept = [g.copy() for g in firsts]
    for _ in range(3):
        for x in xs:
            onp.testing.assert_allclose(grad(x), rosenbrock_grad(x), rtol=1e-12, atol=1e-12)
    for g, k in zip(firsts, kept):
        onp.testing.assert_array_equal(g, k)
    assert len(grad.programs()) == 2
    # One list of kept workspaces for both programs, each made by the program using it.
    assert 1 <= len(grad._workspaces) <= runner.WORKSPACES
    entries = [e for key, es in grad._cache.items() if key[0] != "fast" for e in es]
    keys = {e.run.__globals__["_key"] for e in entries}
    assert all(e.run.__globals__["_pool"] is grad._workspaces for e in entries)
    assert {w[-1] for w in grad._workspaces} <= keys and len(keys) == 2


def test_a_guard_that_fails_midway_loses_only_its_workspace(keep_everything):
    def f(x):
        y = np.exp(x) * 0.5
        if np.sum(y) > 300.0:  # a guard after the first kept array
            return np.sum(np.sin(y) * y)
        return np.sum(np.cos(y) * y)

    small, large = onp.linspace(-1, 0, 400), onp.linspace(0, 1, 400)
    jitted = wg.jit(wg.grad(f))
    for x in (small, large, small, large, small):
        onp.testing.assert_allclose(jitted(x), wg.grad(f)(x), rtol=1e-13)
    assert len(jitted.programs()) == 2


@pytest.mark.parametrize(
    "shape, index",
    [
        ((10,), slice(1, None)),
        ((10,), slice(None, -1)),
        ((10,), slice(3, 7)),
        ((10,), slice(5, 5)),
        ((4, 5), (slice(1, 3), slice(None, -2))),
        ((4, 5), 2),
        ((4, 5, 6), (slice(None), 1, slice(2, 4))),
        ((4, 5, 6), (-1, slice(-3, None))),
    ],
)
def test_the_complement_of_an_index_covers_every_other_entry_once(shape, index):
    count = onp.zeros(shape, dtype=int)
    count[index] += 1
    for region in runner._complement(index, shape):
        count[region] += 1
    assert (count == 1).all()


@pytest.mark.parametrize("index", [slice(None, None, 2), (Ellipsis, 1), (None, 1), [1, 2]])
def test_indices_other_than_unit_slices_and_integers_have_no_complement(index):
    assert runner._complement(index, (6, 4)) is None


def test_sums_to_shapes_and_transposes_equal_the_functions(keep_everything):
    def f(w, b, x):
        h = np.tanh(x @ w + b)  # b broadcast over the leading axis
        c = np.ones((1, 3))
        return np.sum((h * c) ** 2) + np.sum(np.swapaxes(w, 0, 1) @ x.T)

    rng = onp.random.default_rng(3)
    w, b, x = rng.normal(size=(4, 3)), rng.normal(size=(3,)), rng.normal(size=(5, 4))
    grad = wg.grad(f, argnums=(0, 1, 2))
    _, run = compiled(grad, w, b, x)
    assert ".sum(axis=(0,))" in run.source and ".T" in run.source
    onp.testing.assert_allclose(run(w, b, x)[0], grad(w, b, x)[0], rtol=1e-14)
    for a, e in zip(wg.jit(grad)(w, b, x), grad(w, b, x)):
        onp.testing.assert_allclose(a, e, rtol=1e-14)


def test_outputs_come_back_in_their_containers():
    def f(x):
        return (x * 2.0, [np.sin(x), None]), {"b": x + 1.0, "a": (x,)}

    x = onp.linspace(0, 1, 5)
    got, want = wg.jit(f)(x), f(x)
    assert type(got[0]) is tuple and type(got[0][1]) is list and got[0][1][1] is None
    assert got[1].keys() == want[1].keys() and type(got[1]["a"]) is tuple
    onp.testing.assert_allclose(got[0][1][0], want[0][1][0])


def test_arrays_of_other_byte_orders_take_the_full_signature():
    x = onp.linspace(0, 1, 5)
    swapped = x.astype(">f8")
    jitted = wg.jit(lambda x: np.sin(x) * 2.0)
    onp.testing.assert_allclose(jitted(swapped), onp.sin(x) * 2.0)
    onp.testing.assert_allclose(jitted(x), onp.sin(x) * 2.0)
