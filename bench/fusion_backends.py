"""Backends for fusing elementwise work: numexpr against numba, with NumPy as the baseline.

Two workloads on 1e6 float64 values, one thread everywhere: the gradient of Rosenbrock's
function (hand-written NumPy, the baseline) and a long elementwise chain (14 operations).
Rows: hand-written NumPy; the same expressions as numexpr strings; numba ``@njit`` loops
and ``@vectorize`` ufuncs of the same groups (compile time, paid once per kernel and dtype
signature, in the note); and wengert's recorded program, evaluated as recorded, after
`fuse`, and after dead code elimination and `fuse` (the recorded gradient also computes
the function's value, which the hand-written gradient does not), each through
``Program.evaluate`` and through a plain loop over the primitives' NumPy functions; then
a 4-operation chain by size (where `fuse.MIN_SIZE` comes from); both workloads in
float32, which `fuse` leaves to NumPy unless asked. Every result is checked against the
baseline first. Medians of repeats after a warm-up (`_timing`).
Run: ``python bench/fusion_backends.py`` (needs numexpr; numba optional).
"""

from __future__ import annotations

import os

# One thread for every row (numexpr may start more for the last row, which says so).
os.environ["NUMEXPR_MAX_THREADS"] = str(os.cpu_count())
for _var in ("NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import platform  # noqa: E402
import time  # noqa: E402

import _timing  # noqa: E402  (pins the BLAS threads before NumPy loads)
import numpy as onp  # noqa: E402

import wengert as wg  # noqa: E402
import wengert.numpy as wnp  # noqa: E402
from wengert._core.recording import Guard, Var  # noqa: E402
from wengert.program.fuse import fuse  # noqa: E402

numexpr = _timing.optional("numexpr")
numba = _timing.optional("numba")
N = 1_000_000


# --- Rosenbrock's gradient ------------------------------------------------------------------
def rosenbrock(x):
    return wnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad_numpy(x):
    xm, xp = x[:-1], x[1:]
    d = xp - xm**2
    g = onp.zeros_like(x)
    g[:-1] = -400.0 * d * xm - 2.0 * (1.0 - xm)
    g[1:] += 200.0 * d
    return g


def rosenbrock_grad_numexpr(x):
    xm, xp = x[:-1], x[1:]  # noqa: F841  (numexpr reads them by name)
    g = onp.zeros_like(x)
    g[:-1] = numexpr.evaluate("-400.0 * (xp - xm**2) * xm - 2.0 * (1.0 - xm)")
    g[1:] += numexpr.evaluate("200.0 * (xp - xm**2)")
    return g


# --- a long elementwise chain ---------------------------------------------------------------
def chain(x, np=onp):
    return np.tanh(
        np.sin(x) * np.exp(-0.5 * x * x) + np.sqrt(np.abs(x) + 1.0) * np.cos(2.0 * x)
    ) - x / (1.0 + x * x)


CHAIN_EXPR = (
    "tanh(sin(x) * exp(-0.5 * x * x) + sqrt(abs(x) + 1.0) * cos(2.0 * x)) - x / (1.0 + x * x)"
)


# Four operations, timed by size.
CHAIN4 = "((a * b + 1.5) - a) * b + 1.5"


def chain_numexpr(x):
    return numexpr.evaluate(CHAIN_EXPR)


def numba_kernels():
    """The two workloads as numba loops, and the seconds the first calls took to compile."""
    njit = numba.njit

    @njit(cache=False)
    def grad(x):
        n = x.shape[0]
        g = onp.zeros_like(x)
        for i in range(n - 1):
            d = x[i + 1] - x[i] * x[i]
            g[i] += -400.0 * d * x[i] - 2.0 * (1.0 - x[i])
            g[i + 1] += 200.0 * d
        return g

    @njit(cache=False)
    def chain_loop(x):
        out = onp.empty_like(x)
        for i in range(x.shape[0]):
            v = x[i]
            out[i] = onp.tanh(
                onp.sin(v) * onp.exp(-0.5 * v * v) + onp.sqrt(abs(v) + 1.0) * onp.cos(2.0 * v)
            ) - v / (1.0 + v * v)
        return out

    # The same groups as numexpr's strings, as compiled ufuncs: what a fusing backend on
    # numba would generate per group (the scatter stays NumPy).
    vectorize = numba.vectorize(["float64(float64, float64)"], nopython=True)
    head = vectorize(lambda xm, xp: -400.0 * (xp - xm * xm) * xm - 2.0 * (1.0 - xm))
    tail = vectorize(lambda xm, xp: 200.0 * (xp - xm * xm))

    def grad_ufuncs(x):
        xm, xp = x[:-1], x[1:]
        g = onp.zeros_like(x)
        g[:-1] = head(xm, xp)
        g[1:] += tail(xm, xp)
        return g

    chain_ufunc = numba.vectorize(["float64(float64)"], nopython=True)(
        lambda v: (
            onp.tanh(onp.sin(v) * onp.exp(-0.5 * v * v) + onp.sqrt(abs(v) + 1.0) * onp.cos(2.0 * v))
            - v / (1.0 + v * v)
        )
    )
    small = onp.linspace(0.0, 1.0, 10)
    compile_times = {}
    for name, kernel in (("grad", grad), ("chain", chain_loop)):
        start = time.perf_counter()
        kernel(small)
        compile_times[name] = time.perf_counter() - start
    return grad, chain_loop, grad_ufuncs, chain_ufunc, compile_times


def vectorize_compile_time() -> float:
    """Seconds numba takes to compile one new ufunc of a small expression."""
    start = time.perf_counter()
    numba.vectorize(["float64(float64, float64)"], nopython=True)(lambda a, b: a * b + 1.5 * a)
    return time.perf_counter() - start


def numexpr_compile_time() -> float:
    """Seconds numexpr takes to compile a new expression (its first evaluation, 10 values)."""
    a, b = onp.ones(10), onp.ones(10)
    start = time.perf_counter()
    numexpr.evaluate("a * b + 1.25 * a - sin(b)", local_dict={"a": a, "b": b})
    return time.perf_counter() - start


# --- running programs -----------------------------------------------------------------------
def plain_loop(program):
    """A runner calling each primitive's NumPy function in turn (no tracing checks), which
    drops each value after its last use, as a compiled runner would."""
    last_use: dict = {}
    equations = [eq for eq in program.equations if type(eq) is not Guard]
    for k, eq in enumerate(equations):
        assert eq.tree is None and len(eq.outputs) == 1
        for x in eq.inputs:
            if type(x) is Var:
                last_use[x] = k
    kept = {x for x in program.outputs if type(x) is Var}
    steps = []
    for k, eq in enumerate(equations):
        done = tuple({x for x in eq.inputs if type(x) is Var and last_use[x] == k} - kept)
        steps.append((eq.primitive.fun, eq.inputs, eq.kwargs, eq.outputs[0], done))

    def run(*values):
        env = dict(zip(program.inputs, values))
        for fun, inputs, kwargs, out, done in steps:
            env[out] = fun(*[env[x] if type(x) is Var else x for x in inputs], **kwargs)
            for x in done:
                del env[x]
        return [env[x] if type(x) is Var else x for x in program.outputs]

    return run


def without_dead_code(program):
    """`program` without the equations that no output or guard needs."""
    needed = {x for x in program.outputs if type(x) is Var}
    kept = []
    for eq in reversed(program.equations):
        if type(eq) is Guard:
            needed.add(eq.var)
        elif any(v in needed for v in eq.outputs):
            needed.update(x for x in eq.inputs if type(x) is Var)
        else:
            continue
        kept.append(eq)
    return program.replace(kept[::-1])


def measured(rows: list) -> list[tuple[str, float, str]]:
    """Median seconds per call of each row's function (``_timing.median_time``: repeats
    after a warm-up, the steady state of evaluating one program again and again)."""
    return [(name, _timing.median_time(fun), note) for name, fun, note in rows]


def with_threads(run, threads: int):
    def call():
        numexpr.set_num_threads(threads)
        try:
            return run()
        finally:
            numexpr.set_num_threads(1)

    return call


def program_rows(label, program, x, expected):
    rows = []
    lean = without_dead_code(program)
    variants = [("recorded", program), ("fused", fuse(program))]
    if len(lean) < len(program):
        variants += [("dead code out", lean), ("dead code out, fused", fuse(lean))]
    for name, p in variants:
        for how, run in (("evaluate", lambda p=p: p.evaluate([x])), ("loop", plain_loop(p))):
            if how == "loop":
                run = (lambda r: lambda: r(x))(run)
            got = run()[0]
            onp.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
            note = f"{len(p)} equations, {p.primitives().get('fused', 0)} fused"
            rows.append((f"{label} {name}, {how}", run, note))
    threads = os.cpu_count()
    rows.append((f"{label} {name}, loop, {threads} threads", with_threads(run, threads), ""))
    return rows


def main() -> None:
    if numexpr is None:
        raise SystemExit('numexpr is needed: pip install "wengert[fast]"')
    numexpr.set_num_threads(1)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"NumPy {onp.__version__}, numexpr {numexpr.__version__}, "
        f"numba {numba.__version__ if numba else 'absent'}; 1 thread; n = {N}"
    )
    x = onp.random.default_rng(0).uniform(-1.0, 1.0, N)
    kernels = numba_kernels() if numba else None

    expected = rosenbrock_grad_numpy(x)
    rows = [("NumPy by hand", (lambda: rosenbrock_grad_numpy(x)), "")]
    onp.testing.assert_allclose(rosenbrock_grad_numexpr(x), expected, rtol=1e-12)
    rows.append(("numexpr by hand", (lambda: rosenbrock_grad_numexpr(x)), ""))
    if kernels:
        grad, _, grad_ufuncs, _, compile_times = kernels
        onp.testing.assert_allclose(grad(x), expected, rtol=1e-12, atol=1e-12)
        note = f"compile {compile_times['grad'] * 1e3:.0f} ms"
        rows.append(("numba njit loop by hand", (lambda: grad(x)), note))
        onp.testing.assert_allclose(grad_ufuncs(x), expected, rtol=1e-12, atol=1e-12)
        note = f"compile {vectorize_compile_time() * 1e3:.0f} ms per ufunc"
        rows.append(("numba vectorize by hand", (lambda: grad_ufuncs(x)), note))
    start = time.perf_counter()
    program = wg.make_program(wg.grad(rosenbrock))(x)
    record = time.perf_counter() - start
    start = time.perf_counter()
    fuse(program)
    fusing = time.perf_counter() - start
    rows += program_rows("wengert", program, x, expected)
    _timing.print_table(
        f"Rosenbrock gradient, n = {N} (recording {record * 1e3:.0f} ms, "
        f"fuse {fusing * 1e3:.1f} ms)",
        measured(rows),
        "NumPy by hand",
    )

    expected = chain(x)
    rows = [("NumPy", (lambda: chain(x)), "")]
    close = {"rtol": 1e-14, "atol": 1e-15}  # the chain passes through zero
    onp.testing.assert_allclose(chain_numexpr(x), expected, **close)
    note = f"compile {numexpr_compile_time() * 1e3:.2f} ms per new expression"
    rows.append(("numexpr", (lambda: chain_numexpr(x)), note))
    if kernels:
        _, chain_loop, _, chain_ufunc, compile_times = kernels
        onp.testing.assert_allclose(chain_loop(x), expected, **close)
        note = f"compile {compile_times['chain'] * 1e3:.0f} ms"
        rows.append(("numba njit loop", (lambda: chain_loop(x)), note))
        onp.testing.assert_allclose(chain_ufunc(x), expected, **close)
        rows.append(("numba vectorize", (lambda: chain_ufunc(x)), ""))
    program = wg.make_program(lambda x: chain(x, wnp))(x)
    rows += program_rows("wengert", program, x, expected)
    _timing.print_table(f"elementwise chain, n = {N}", measured(rows), "NumPy")

    # Where fusion starts to pay (fuse.MIN_SIZE): a 4-operation chain by size.
    x2 = onp.random.default_rng(1).uniform(-1.0, 1.0, 2 * N)
    for n in (1_000, 10_000, 100_000, 300_000, 1_000_000, 2_000_000):
        local = {"a": x2[:n].copy(), "b": x2[:n][::-1].copy()}
        a, b = local["a"], local["b"]
        rows = [
            ("NumPy", lambda a=a, b=b: ((a * b + 1.5) - a) * b + 1.5, ""),
            ("numexpr", lambda local=local: numexpr.evaluate(CHAIN4, local), ""),
        ]
        _timing.print_table(f"4 operations, float64, n = {n}", measured(rows), "NumPy")

    # float32, which fuse leaves to NumPy by default (dtypes=None fuses it anyway).
    x32 = x.astype(onp.float32)
    rows = []
    for label, f, by_hand in (
        ("Rosenbrock gradient", wg.grad(rosenbrock), rosenbrock_grad_numpy),
        ("chain", lambda x: chain(x, wnp), chain),
    ):
        lean = without_dead_code(wg.make_program(f)(x32))
        unfused, fused = plain_loop(lean), plain_loop(fuse(lean, dtypes=None))
        got, expected = fused(x32)[0], by_hand(x32)
        assert got.dtype == onp.float32
        onp.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
        rows.append((f"{label}: NumPy by hand", lambda h=by_hand: h(x32), ""))
        rows.append((f"{label}: wengert unfused, loop", lambda r=unfused: r(x32), ""))
        rows.append((f"{label}: fused (dtypes=None), loop", lambda r=fused: r(x32), ""))
    _timing.print_table(
        f"float32, dead code out, n = {N}", measured(rows), "Rosenbrock gradient: NumPy by hand"
    )


if __name__ == "__main__":
    main()
