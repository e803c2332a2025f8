"""Compiled derivative programs (`wg.jit`) against hand-written NumPy and eager wengert.

(a) gradient of a 100-operation scalar chain; (b) gradient of the Rosenbrock function on
1,000,000 float64 values; (c) value and gradient of an MLP loss (batch 128, 64-256-10) in
float64 and float32; (d) Hessian of a 200-variable function against its closed form;
(e) the time to record and compile once. Ratios are against the hand-written NumPy of the
same quantity, measured in the same run; the numexpr and numba backends and JAX's jit are
measured when installed (the numba backend's first call, which records and compiles, is
printed after its table). Run: ``NUMBA_NUM_THREADS=1 python bench/compile.py``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # (before NumPy and numba are imported)

import platform  # noqa: E402
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


def mlp_table(dtype) -> None:
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
    rows = rows_for(
        "value+gradient",
        lambda: mlp_value_and_grad_numpy(params, xb, yb),
        lambda: eager(params, xb, yb),
        lambda: compiled(params, xb, yb),
        jax_fun=None if jax is None else jax_jit(jax.value_and_grad, mlp_loss, params, xb, yb),
    )
    title = f"(c) MLP 64-256-10, batch 128, {onp.dtype(dtype).name}: value and gradient"
    print_table(title, rows, rows[0][0])
    steady = median_time(lambda: compiled(params, xb, yb))
    print(f"    (e) record + compile once: {(first - steady) * 1e3:.1f} ms")


def rows_for(
    name, hand, eager, compiled, compiled_numexpr=None, jax_fun=None, repeats=15, numba_fun=None
):
    rows = [(f"hand-written NumPy {name}", median_time(hand, repeats), "")]
    rows.append(("wengert eager", median_time(eager, repeats), ""))
    rows.append(("wengert jit (NumPy backend)", median_time(compiled, repeats), ""))
    if compiled_numexpr is not None:
        rows.append(("wengert jit (numexpr backend)", median_time(compiled_numexpr, repeats), ""))
    if numba_fun is not None:
        rows.append(("wengert jit (numba backend)", median_time(numba_fun, repeats), ""))
    if jax_fun is not None:
        rows.append(("JAX jit", median_time(jax_fun, repeats), ""))
    return rows


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


def main() -> None:
    versions = [f"python {platform.python_version()}", f"numpy {onp.__version__}"]
    for peer in ("numexpr", "numba", "jax"):
        try:
            versions.append(f"{peer} {metadata.version(peer)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{peer} absent")
    print(", ".join(versions) + ", 1 thread")

    # (a) scalar chain: 100 operations, gradient.
    f = chain(wnp)
    x0 = 0.5
    eager = wg.grad(f)
    compiled = wg.jit(wg.grad(f))
    assert onp.isclose(compiled(x0), chain_grad_numpy(x0), rtol=1e-12)
    numba_chain, first = numba_backend(wg.grad(f), x0, chain_grad_numpy(x0))
    rows = rows_for(
        "gradient",
        lambda: chain_grad_numpy(x0),
        lambda: eager(x0),
        lambda: compiled(x0),
        jax_fun=jax_grad(chain, x0),
        numba_fun=numba_chain,
    )
    print_table("(a) scalar: gradient of a chain of 100 operations", rows, rows[0][0])
    if first is not None:
        print(f"    numba backend, first call (record + compile): {first * 1e3:.0f} ms")

    # (b) Rosenbrock on 1e6 values.
    x = onp.random.default_rng(0).uniform(-1, 1, 1_000_000)
    f = rosenbrock(wnp)
    eager = wg.grad(f)
    compiled = wg.jit(wg.grad(f))
    onp.testing.assert_allclose(compiled(x), rosenbrock_grad_numpy(x), rtol=1e-12, atol=1e-10)
    fused = None
    if numexpr is not None:
        fused_fun = wg.jit(wg.grad(f), backend="numexpr")
        want = rosenbrock_grad_numpy(x)
        onp.testing.assert_allclose(fused_fun(x), want, rtol=1e-12, atol=1e-10)
        fused = lambda: fused_fun(x)
    numba_rosenbrock, first = numba_backend(wg.grad(f), x, rosenbrock_grad_numpy(x))
    rows = rows_for(
        "gradient",
        lambda: rosenbrock_grad_numpy(x),
        lambda: eager(x),
        lambda: compiled(x),
        fused,
        jax_grad(rosenbrock, x),
        repeats=7,
        numba_fun=numba_rosenbrock,
    )
    print_table("(b) gradient of Rosenbrock on 1e6 float64 values", rows, rows[0][0])
    if first is not None:
        print(f"    numba backend, first call (record + compile): {first * 1e3:.0f} ms")

    # (c) MLP value and gradient, float64 and float32; (e) record + compile once.
    for dtype in (onp.float64, onp.float32):
        mlp_table(dtype)

    # (d) Hessian of a 200-variable function.
    rng = onp.random.default_rng(2)
    a = rng.standard_normal((200, 200)) / 14.0
    xh = rng.standard_normal(200)
    closed = hessian_closed_form(a)
    eager = wg.hessian(hessian_fun(a))
    compiled = wg.jit(wg.hessian(hessian_fun(a)))
    onp.testing.assert_allclose(compiled(xh), closed(xh), rtol=1e-10, atol=1e-12)
    jax_hessian = None
    if jax is not None:
        jax_hessian = jax_jit(jax.hessian, lambda jnp: lambda x: jnp.sum(jnp.tanh(a @ x)), xh)
    rows = rows_for(
        "Hessian", lambda: closed(xh), lambda: eager(xh), lambda: compiled(xh), jax_fun=jax_hessian
    )
    print_table("(d) Hessian of sum(tanh(A @ x)), 200 variables", rows, rows[0][0])


if __name__ == "__main__":
    main()
