"""Compiled derivative programs (`wg.jit`) against hand-written NumPy and eager wengert.

(a) gradient of a 100-operation scalar chain; (b) gradient of the Rosenbrock function on
1,000,000 float64 values; (c) value and gradient of an MLP loss (batch 128, 64-256-10) in
float64 and float32; (d) Hessian of a 200-variable function against its closed form;
(e) the time to record and compile once. Ratios are against the hand-written NumPy of the
same quantity, measured in the same run; the numexpr and numba backends and JAX's jit are
measured when installed (the numba backend's first call, which records and compiles, is
printed after its table). Run: ``NUMBA_NUM_THREADS=1 python bench/compile.py``.

On a busy machine single medians swing by a third: ``--rounds N`` instead alternates the
hand-written NumPy and each compiled variant, one batch of calls each, for N rounds, and
prints the median and range of the per-round ratios (``--cases b,c`` picks cases,
``--clock process`` counts the process's CPU time, so that time other processes take
from it does not count).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # (before NumPy and numba are imported)

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402

import numpy as onp  # noqa: E402
from _timing import median_time, optional, print_table  # noqa: E402
from overhead import chain, rosenbrock, rosenbrock_grad_numpy  # noqa: E402

import wengert as wg  # noqa: E402
import wengert.numpy as wnp  # noqa: E402

numexpr = optional("numexpr")
numba = optional("numba")
jax = optional("jax")
if numexpr is not None:
    numexpr.set_num_threads(1)


def chain_grad_numpy(x):
    """The chain's derivative by hand: the forward sweep, then the product of factors."""
    factors = []
    for _ in range(25):
        c = onp.cos(x)
        x = onp.sin(x) * 1.1 + 0.3
        t = onp.tanh(x)
        factors.append(c * 1.1 * (1.0 - t * t))
        x = t
    g = 1.0
    for d in reversed(factors):
        g = g * d
    return g


def mlp_loss(np):
    def loss(params, x, y):
        w1, b1, w2, b2 = params
        h = np.tanh(x @ w1 + b1)
        out = h @ w2 + b2
        return 0.5 * np.mean((out - y) ** 2)

    return loss


def mlp_value_and_grad_numpy(params, x, y):
    w1, b1, w2, b2 = params
    h = onp.tanh(x @ w1 + b1)
    out = h @ w2 + b2
    r = out - y
    value = 0.5 * onp.mean(r**2)
    d_out = r * (1.0 / r.size)
    d_h = (d_out @ w2.T) * (1.0 - h * h)
    return value, (x.T @ d_h, d_h.sum(0), h.T @ d_out, d_out.sum(0))


def hessian_closed_form(a):
    def hess(x):
        t = onp.tanh(a @ x)
        return (a.T * (-2.0 * t * (1.0 - t * t))) @ a

    return hess


def hessian_fun(a):
    return lambda x: wnp.sum(wnp.tanh(a @ x))


def mlp_case(dtype):
    """(c) for one dtype: the checked callables, and the record + compile time (e)."""
    rng = onp.random.default_rng(1)
    shapes = ((64, 256), (256,), (256, 10), (10,))
    params = tuple((rng.standard_normal(s) * 0.1).astype(dtype) for s in shapes)
    xb = rng.standard_normal((128, 64)).astype(dtype)
    yb = rng.standard_normal((128, 10)).astype(dtype)
    loss = mlp_loss(wnp)
    eager = wg.value_and_grad(loss)
    compiled = wg.jit(wg.value_and_grad(loss))
    start = time.perf_counter()
    value, grads = compiled(params, xb, yb)
    first = time.perf_counter() - start
    want = mlp_value_and_grad_numpy(params, xb, yb)
    tol = 1e-12 if dtype == onp.float64 else 1e-4
    onp.testing.assert_allclose(value, want[0], rtol=tol)
    for g, w in zip(grads, want[1]):
        assert g.dtype == dtype
        onp.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    title = f"(c) MLP 64-256-10, batch 128, {onp.dtype(dtype).name}: value and gradient"
    variants = {
        "wengert eager": lambda: eager(params, xb, yb),
        "wengert jit (NumPy backend)": lambda: compiled(params, xb, yb),
    }
    if jax is not None:
        variants["JAX jit"] = jax_jit(jax.value_and_grad, mlp_loss, params, xb, yb)
    steady = median_time(lambda: compiled(params, xb, yb))
    note = f"    (e) record + compile once: {(first - steady) * 1e3:.1f} ms"
    return title, "value+gradient", lambda: mlp_value_and_grad_numpy(params, xb, yb), variants, note


def rows_for(name, hand, variants, repeats=15):
    rows = [(f"hand-written NumPy {name}", median_time(hand, repeats), "")]
    rows += [(label, median_time(fun, repeats), "") for label, fun in variants.items()]
    return rows


def interleaved(hand, variants, rounds, clock, min_time=0.05):
    """Per variant, the median and range of its time over the hand-written time, from
    `rounds` rounds that each time one batch of calls of every callable in turn."""
    funs = [hand, *variants.values()]
    numbers = []
    for fun in funs:  # a warm-up, and calls per batch for about min_time / 5 seconds
        fun()
        number = 1
        while True:
            start = clock()
            for _ in range(number):
                fun()
            if clock() - start >= min_time / 5 or number >= 1 << 20:
                break
            number *= 2
        numbers.append(number)
    seconds: list[list[float]] = [[] for _ in funs]
    for _ in range(rounds):
        for fun, number, times in zip(funs, numbers, seconds):
            start = clock()
            for _ in range(number):
                fun()
            times.append((clock() - start) / number)
    rows = []
    for label, times in zip(["hand-written NumPy", *variants], seconds):
        ratios = sorted(t / h for t, h in zip(times, seconds[0]))
        rows.append((label, statistics.median(times), statistics.median(ratios), ratios))
    return rows


def print_interleaved(title, rows, rounds):
    print(f"\n{title} ({rounds} interleaved rounds)")
    print(f"{'':32} {'median':>12} {'ratio':>8}  {'range':>13}")
    for label, seconds, ratio, ratios in rows:
        spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}"
        print(f"{label:32} {seconds * 1e6:10.2f}us {ratio:8.3f}  {spread:>13}")


def jax_jit(transform, make_f, *args):
    """JAX's jit of `transform` (e.g. jax.grad) of the function `make_f` builds over
    jax.numpy, as a zero-argument callable on `args`; None without JAX."""
    if jax is None:
        return None
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    import jax.numpy as jnp

    g = jax.jit(transform(make_f(jnp)))
    jargs = jax.tree_util.tree_map(jnp.asarray, args)
    jax.block_until_ready(g(*jargs))
    return lambda: jax.block_until_ready(g(*jargs))


def jax_grad(make_f, x0):
    return None if jax is None else jax_jit(jax.grad, make_f, x0)


def numba_backend(fun, x, want):
    """`fun` jitted with the numba backend as a function of no arguments, and the seconds
    its first call took (recording and compiling), or (None, None) without numba."""
    if numba is None:
        return None, None
    compiled = wg.jit(fun, backend="numba")
    start = time.perf_counter()
    got = compiled(x)
    first = time.perf_counter() - start
    onp.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-10)
    return (lambda: compiled(x)), first


def first_call_note(first):
    if first is None:
        return None
    return f"    numba backend, first call (record + compile): {first * 1e3:.0f} ms"


def chain_case():
    """(a) scalar chain: 100 operations, gradient."""
    f = chain(wnp)
    x0 = 0.5
    eager = wg.grad(f)
    compiled = wg.jit(wg.grad(f))
    assert onp.isclose(compiled(x0), chain_grad_numpy(x0), rtol=1e-12)
    numba_chain, first = numba_backend(wg.grad(f), x0, chain_grad_numpy(x0))
    variants = {
        "wengert eager": lambda: eager(x0),
        "wengert jit (NumPy backend)": lambda: compiled(x0),
    }
    if numba_chain is not None:
        variants["wengert jit (numba backend)"] = numba_chain
    if jax is not None:
        variants["JAX jit"] = jax_grad(chain, x0)
    title = "(a) scalar: gradient of a chain of 100 operations"
    return title, "gradient", lambda: chain_grad_numpy(x0), variants, first_call_note(first)


def rosenbrock_case():
    """(b) Rosenbrock on 1e6 values."""
    x = onp.random.default_rng(0).uniform(-1, 1, 1_000_000)
    f = rosenbrock(wnp)
    eager = wg.grad(f)
    compiled = wg.jit(wg.grad(f))
    want = rosenbrock_grad_numpy(x)
    onp.testing.assert_allclose(compiled(x), want, rtol=1e-12, atol=1e-10)
    variants = {
        "wengert eager": lambda: eager(x),
        "wengert jit (NumPy backend)": lambda: compiled(x),
    }
    if numexpr is not None:
        fused = wg.jit(wg.grad(f), backend="numexpr")
        onp.testing.assert_allclose(fused(x), want, rtol=1e-12, atol=1e-10)
        variants["wengert jit (numexpr backend)"] = lambda: fused(x)
    numba_rosenbrock, first = numba_backend(wg.grad(f), x, want)
    if numba_rosenbrock is not None:
        variants["wengert jit (numba backend)"] = numba_rosenbrock
    if jax is not None:
        variants["JAX jit"] = jax_grad(rosenbrock, x)
    title = "(b) gradient of Rosenbrock on 1e6 float64 values"
    return title, "gradient", lambda: rosenbrock_grad_numpy(x), variants, first_call_note(first)


def hessian_case():
    """(d) Hessian of a 200-variable function."""
    rng = onp.random.default_rng(2)
    a = rng.standard_normal((200, 200)) / 14.0
    xh = rng.standard_normal(200)
    closed = hessian_closed_form(a)
    eager = wg.hessian(hessian_fun(a))
    compiled = wg.jit(wg.hessian(hessian_fun(a)))
    onp.testing.assert_allclose(compiled(xh), closed(xh), rtol=1e-10, atol=1e-12)
    variants = {
        "wengert eager": lambda: eager(xh),
        "wengert jit (NumPy backend)": lambda: compiled(xh),
    }
    if jax is not None:
        variants["JAX jit"] = jax_jit(
            jax.hessian, lambda jnp: lambda x: jnp.sum(jnp.tanh(a @ x)), xh
        )
    title = "(d) Hessian of sum(tanh(A @ x)), 200 variables"
    return title, "Hessian", lambda: closed(xh), variants, None


CASES = {
    "a": [chain_case],
    "b": [rosenbrock_case],
    "c": [lambda: mlp_case(onp.float64), lambda: mlp_case(onp.float32)],
    "d": [hessian_case],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=0, help="interleaved rounds (0: medians)")
    parser.add_argument("--cases", default="abcd", help="which of a, b, c (with e), d to run")
    parser.add_argument("--clock", choices=("wall", "process"), default="wall")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    versions = [f"python {platform.python_version()}", f"numpy {onp.__version__}"]
    for peer in ("numexpr", "numba", "jax"):
        try:
            versions.append(f"{peer} {metadata.version(peer)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{peer} absent")
    print(", ".join(versions) + f", 1 thread, {os.cpu_count()} cores, {args.clock} clock")
    for letter in "abcd":
        if letter not in args.cases:
            continue
        for make in CASES[letter]:
            title, name, hand, variants, note = make()
            if args.rounds:
                rows = interleaved(hand, variants, args.rounds, clock)
                print_interleaved(title, rows, args.rounds)
            else:
                repeats = 7 if letter == "b" else 15
                rows = rows_for(name, hand, variants, repeats)
                print_table(title, rows, rows[0][0])
            if note:
                print(note)


if __name__ == "__main__":
    main()
