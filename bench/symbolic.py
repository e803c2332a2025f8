"""Symbolic derivatives (`wengert.symbolic`): size, build time and accuracy, against SymPy.

(a) The logistic map l_{k+1} = 4 l_k (1 - l_k), l_0 = x, iterated k = 1..20 times
(``--max-k``) as an expression of a symbol x, and its derivative
``wg.grad(lambda x: logistic(x, k))(x)``: the operations in the shared graph (``dag_size``)
of the function and of the derivative and their ratio (target <= 4 for every k), the
operations of the derivative written out as a tree (``tree_size``), the seconds to build
the derivative (the function's expression included; best of ``--repeats`` builds, each
from an empty expression cache), and the relative error of its value at x = 0.3 against
the numeric derivative ``wg.grad(lambda x: logistic(x, k))(0.3)`` (target <= 1e-12;
relative because the derivative grows like 4^k).
(b) SymPy, when installed: the seconds of ``sympy.diff(l_k, x)`` with l_k built by the
same loop over a SymPy symbol (best of up to ``--repeats``, SymPy's cache cleared before
each, repeats only while they are cheap), and ``sympy.count_ops`` of the result, computed
only for k <= ``--count-ops-max-k`` (default 12; it is slower than the diff itself and
grows as fast) and printed '-' beyond. Each k runs in a child process that is stopped
after ``--sympy-limit`` seconds (default 60; 5 s more for starting it); SymPy is not timed
for larger k once one diff exceeds the limit, or once the last diff time, extrapolated by
its growth from the k before, would exceed it (printed as projected). The ratio wengert
build time / SymPy diff time is reported for each k SymPy finishes (target <= 1).
(c) Gradients of matrix functions, log det(X), v^T A v, trace(A X X^T) and sum(inv(X)),
with respect to X (or v) (SymPy's matrix calculus answers 0 for log det(X)): printed, then
evaluated with ``sym.subs`` at 5 random well-conditioned points (seeded) and compared with
the numeric gradient ``wg.grad(f)`` at the same point and with the closed form (inv(X).T,
(A + A^T) v, (A + A^T) X, -inv(X).T 1 inv(X).T); target: maximum error <= 1e-12 relative
to the largest entry. SymPy's own answers for log det(X), x^T A x, trace(A X X^T) and
sum(inv(X)) (MatrixSymbol) are printed for information.

A summary line says whether each target held. Run: ``python bench/symbolic.py`` (under two
minutes on 2 cores, nearly all of it SymPy; ``--sympy-limit 5`` for a quick run).
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import platform
import time
from importlib import metadata

import _timing  # first: it pins the BLAS threads before NumPy loads
import numpy as onp

import wengert as wg
import wengert.numpy as wnp
from wengert import symbolic as sym

sympy = _timing.optional("sympy")

POINT = 0.3
DAG_RATIO_TARGET = 4.0
VALUE_TARGET = 1e-12
TIME_RATIO_TARGET = 1.0
MATRIX_TARGET = 1e-12


def logistic(x, k: int):
    """The logistic map 4 l (1 - l) applied k times to x (numbers, expressions, SymPy)."""
    lk = x
    for _ in range(k):
        lk = 4.0 * lk * (1.0 - lk)
    return lk


def derivative(x, k: int):
    return wg.grad(lambda x: logistic(x, k))(x)


def best_build_time(x, k: int, repeats: int) -> float:
    """Best seconds to build the derivative expression, each build from an empty
    expression cache (no earlier result alive, so hash-consing finds nothing to reuse)."""
    best = math.inf
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        d = derivative(x, k)
        best = min(best, time.perf_counter() - start)
        del d
    return best


# --- SymPy, one k per child process ----------------------------------------------------


def _sympy_child(k: int, count_ops: bool, repeats: int, conn) -> None:
    import sympy
    from sympy.core.cache import clear_cache

    xs = sympy.Symbol("x")
    best, spent, result = math.inf, 0.0, None
    for _ in range(repeats):
        clear_cache()
        f = logistic(xs, k)
        start = time.perf_counter()
        result = sympy.diff(f, xs)
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if spent > 0.5:  # repeat only the cheap ones
            break
    conn.send(best)
    conn.send(int(sympy.count_ops(result)) if count_ops else None)
    conn.close()


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def sympy_diff(k: int, count_ops: bool, repeats: int, limit: float):
    """(seconds of SymPy's diff or None if stopped at the limit, count_ops or None)."""
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_sympy_child, args=(k, count_ops, repeats, send), daemon=True)
    child.start()
    send.close()
    seconds = ops = None
    try:
        if receive.poll(limit + 5.0):  # (+ starting the process and building l_k)
            seconds = receive.recv()
            if count_ops and receive.poll(max(limit, 10.0)):
                ops = receive.recv()
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    return seconds, ops


# --- (a) and (b): the logistic map -----------------------------------------------------


def logistic_table(args) -> dict:
    x = sym.symbols("x")
    derivative(x, 1)  # warm-up
    print(
        f"\n(a) logistic map l_k, derivative at x = {POINT}"
        + ("" if sympy is None else "; (b) SymPy's diff of the same l_k")
    )
    print(
        f"{'k':>3} {'dag f':>6} {'dag df':>7} {'ratio':>6} {'tree df':>14} {'build':>10} "
        f"{'rel err':>9} {'SymPy diff':>11} {'count_ops':>10} {'wg/SymPy':>9}"
    )
    results = {"dag": [], "err": [], "time": [], "sympy_done": [], "sympy_stop": None}
    sympy_times: list[float] = []
    stopped = sympy is None
    for k in range(1, args.max_k + 1):
        seconds = best_build_time(x, k, args.repeats)
        f, d = logistic(x, k), derivative(x, k)
        dag_f, dag_d = f.dag_size(), d.dag_size()
        value = float(sym.subs(d, {x: POINT}))
        want = float(derivative(POINT, k))
        err = abs(value - want) / abs(want)
        results["dag"].append(dag_d / dag_f)
        results["err"].append(err)
        results["time"].append(seconds)
        row = (
            f"{k:3d} {dag_f:6d} {dag_d:7d} {dag_d / dag_f:6.2f} {d.tree_size():14d} "
            f"{seconds * 1e3:8.2f}ms {err:9.1e}"
        )
        del f, d
        if stopped:
            print(f"{row} {'-':>11} {'-':>10} {'-':>9}", flush=True)
            continue
        projected = _projected(sympy_times)
        if projected is not None and projected > args.sympy_limit:
            stopped = True
            results["sympy_stop"] = f"k = {k}: projected {projected:.0f} s"
            print(f"{row} {'>limit':>11} {'-':>10} {'-':>9}  (projected {projected:.0f} s)")
            continue
        s_seconds, ops = sympy_diff(k, k <= args.count_ops_max_k, args.repeats, args.sympy_limit)
        if s_seconds is None or s_seconds > args.sympy_limit:
            stopped = True
            results["sympy_stop"] = f"k = {k}: over {args.sympy_limit:g} s"
            print(f"{row} {'>limit':>11} {'-':>10} {'-':>9}", flush=True)
            continue
        sympy_times.append(s_seconds)
        results["sympy_done"].append((k, seconds / s_seconds))
        ops_text = "-" if ops is None else str(ops)
        print(
            f"{row} {_format_seconds(s_seconds):>11} {ops_text:>10} {seconds / s_seconds:9.2g}",
            flush=True,
        )
    if sympy is None:
        print("    SymPy is not installed: (b) skipped (pip install sympy)")
    else:
        stop = results["sympy_stop"]
        print(
            f"    SymPy diff limit {args.sympy_limit:g} s"
            + (f"; stopped at {stop}" if stop else "")
            + f"; count_ops for k <= {args.count_ops_max_k}"
        )
    return results


def _projected(times: list[float]) -> float | None:
    """The next diff's seconds, extrapolated by the growth from the last two."""
    if len(times) < 2 or times[-2] < 0.05:
        return None
    return times[-1] * max(1.0, times[-1] / times[-2])


def _format_seconds(s: float) -> str:
    return f"{s * 1e3:.2f}ms" if s < 1.0 else f"{s:.2f}s"


# --- (c) matrix gradients --------------------------------------------------------------


def matrix_cases(n: int):
    """(name, symbol differentiated, f given A, closed-form gradient given (w, A))."""
    X = sym.symbols("X", shape=(n, n))
    v = sym.symbols("v", shape=(n,))
    ones = onp.ones((n, n))

    def inv_t(w):
        return onp.linalg.inv(w).T

    return [
        ("log det(X)", X, lambda a: lambda X: wnp.log(wnp.linalg.det(X)), lambda w, a: inv_t(w)),
        ("v^T A v", v, lambda a: lambda v: v @ a @ v, lambda w, a: (a + a.T) @ w),
        (
            "trace(A X X^T)",
            X,
            lambda a: lambda X: wnp.trace(a @ X @ X.T),
            lambda w, a: (a + a.T) @ w,
        ),
        (
            "sum(inv(X))",
            X,
            lambda a: lambda X: wnp.sum(wnp.linalg.inv(X)),
            lambda w, a: -inv_t(w) @ ones @ inv_t(w),
        ),
    ]


def matrix_table(args) -> list[float]:
    n = args.n
    A = sym.symbols("A", shape=(n, n))
    rng = onp.random.default_rng(0)
    print(f"\n(c) matrix gradients, n = {n}, at {args.points} random points (X = 2 I + 0.3 N)")
    print(f"{'f':16} {'wrt':>4} {'dag':>4} {'max err vs AD':>14} {'vs closed form':>15}  gradient")
    worst = []
    for name, wrt, make, closed in matrix_cases(n):
        g = wg.grad(make(A))(wrt)
        err_ad = err_closed = 0.0
        for _ in range(args.points):
            w = (
                2.0 * onp.eye(n) + 0.3 * rng.standard_normal((n, n))
                if len(wrt.shape) == 2
                else rng.standard_normal(n)
            )
            a = rng.standard_normal((n, n))
            got = onp.asarray(sym.subs(g, {wrt: w, A: a}))
            ad = onp.asarray(wg.grad(make(a))(w))
            want = closed(w, a)
            scale = onp.max(onp.abs(want))
            err_ad = max(err_ad, float(onp.max(onp.abs(got - ad))) / scale)
            err_closed = max(err_closed, float(onp.max(onp.abs(got - want))) / scale)
        worst.append(max(err_ad, err_closed))
        symbol = str(wrt)
        print(f"{name:16} {symbol:>4} {g.dag_size():4d} {err_ad:14.1e} {err_closed:15.1e}  {g}")
    print("    errors relative to the largest entry of the gradient")
    if sympy is not None:
        sympy_matrix_answers(n)
    return worst


def sympy_matrix_answers(n: int) -> None:
    Xs = sympy.MatrixSymbol("X", n, n)
    As = sympy.MatrixSymbol("A", n, n)
    xs = sympy.MatrixSymbol("x", n, 1)
    one = sympy.OneMatrix(n, 1)
    asks = [
        ("log det(X)", lambda: sympy.diff(sympy.log(sympy.Determinant(Xs)), Xs)),
        ("x^T A x", lambda: sympy.diff(xs.T * As * xs, xs)),
        ("trace(A X X^T)", lambda: sympy.diff(sympy.Trace(As * Xs * Xs.T), Xs)),
        ("sum(inv(X))", lambda: sympy.diff(one.T * Xs.I * one, Xs)),
    ]
    print("    SymPy (MatrixSymbol) for information:")
    for name, ask in asks:
        try:
            answer = str(ask())
        except Exception as error:  # information only: whatever SymPy does is reported
            answer = f"{type(error).__name__}: {error}"
        print(f"      d/d{'x' if name.startswith('x') else 'X'} {name:16} = {answer}")


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-k", type=int, default=20, help="logistic map iterations")
    parser.add_argument("--repeats", type=int, default=5, help="builds timed (best taken)")
    parser.add_argument(
        "--sympy-limit", type=float, default=60.0, help="seconds allowed one SymPy diff"
    )
    parser.add_argument(
        "--count-ops-max-k", type=int, default=12, help="largest k for sympy.count_ops"
    )
    parser.add_argument("--n", type=int, default=3, help="matrix size in (c)")
    parser.add_argument("--points", type=int, default=5, help="random points in (c)")
    args = parser.parse_args()

    versions = [f"python {platform.python_version()}", f"numpy {onp.__version__}"]
    try:
        versions.append(f"sympy {metadata.version('sympy')}")
    except metadata.PackageNotFoundError:
        versions.append("sympy absent")
    print(", ".join(versions) + ", 1 thread")

    logistic_results = logistic_table(args)
    matrix_errors = matrix_table(args)

    dag_worst = max(logistic_results["dag"])
    err_worst = max(logistic_results["err"])
    done = logistic_results["sympy_done"]
    checks = [
        (f"dag ratio <= {DAG_RATIO_TARGET:g}", dag_worst <= DAG_RATIO_TARGET, f"{dag_worst:.2f}"),
        (f"rel err <= {VALUE_TARGET:g}", err_worst <= VALUE_TARGET, f"{err_worst:.1e}"),
    ]
    if done:
        time_worst = max(r for _, r in done)
        checks.append(
            (
                f"wengert/SymPy time <= {TIME_RATIO_TARGET:g} (k <= {done[-1][0]})",
                time_worst <= TIME_RATIO_TARGET,
                f"{time_worst:.2g}",
            )
        )
    matrix_worst = max(matrix_errors)
    matrix_ok = matrix_worst <= MATRIX_TARGET
    checks.append((f"matrix rel err <= {MATRIX_TARGET:g}", matrix_ok, f"{matrix_worst:.1e}"))
    parts = [f"{what}: {'held' if ok else 'FAILED'} (worst {worst})" for what, ok, worst in checks]
    print("\ntargets: " + "; ".join(parts))


if __name__ == "__main__":
    main()
