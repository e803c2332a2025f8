"""Jacobians, Hessians and Hessian-vector products: wengert's modes against torch.func.

(a) Jacobian of a map R^1000 -> R^10 and (b) of a map R^10 -> R^1000 (a two-layer
tanh network, hidden width 100) by forward mode, reverse mode and auto mode; (c) the full
Hessian of a scalar function of 200 variables (a regularised logistic loss with a
300 x 200 design matrix) and (d) of the 200-variable Rosenbrock function; (e) one
Hessian-vector product of each. PyTorch's torch.func (jacfwd, jacrev, hessian, jvp of
grad; CPU, one thread) and HIPS autograd are measured in the same run when installed.
Medians of interleaved repeats; ratios against torch.func (or wengert's own best when
PyTorch is absent). Run: ``python bench/jacobians.py``.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from importlib import metadata

import _timing  # first: it pins the BLAS threads before NumPy loads
import numpy as onp

import wengert as wg
import wengert.numpy as wnp

IN_OUT = ((1000, 10), (10, 1000))
HIDDEN = 100
N_HESSIAN = 200


def interleaved(funs: dict, rounds: int = 15, min_time: float = 0.03) -> dict:
    """Median seconds per call of each function, measured in turns so drift hits all."""
    numbers = {}
    for name, fun in funs.items():
        fun()
        number, start = 1, time.perf_counter()
        fun()
        once = time.perf_counter() - start
        number = max(1, int(min_time / max(once, 1e-7)))
        numbers[name] = number
    samples: dict[str, list[float]] = {name: [] for name in funs}
    names = list(funs)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate the order
            fun = funs[name]
            start = time.perf_counter()
            for _ in range(numbers[name]):
                fun()
            samples[name].append((time.perf_counter() - start) / numbers[name])
    return {name: statistics.median(s) for name, s in samples.items()}


def network(np, w1, b1, w2):
    def f(x):
        return w2 @ np.tanh(w1 @ x + b1)

    return f


def logistic(np, a, y):
    def f(x):
        z = a @ x
        return np.sum(np.log(1.0 + np.exp(-y * z))) + 0.5 * np.sum(x * x)

    return f


def rosenbrock(np):
    def f(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return f


def table(title: str, times: dict, baseline: str, notes: dict | None = None) -> None:
    base = times[baseline]
    print(f"\n{title}")
    print(f"{'':34} {'median':>12} {'ratio':>8}")
    for name, seconds in times.items():
        note = (notes or {}).get(name, "")
        print(f"{name:34} {seconds * 1e6:10.1f}us {seconds / base:8.2f}  {note}")


def jacobian_rows(n_in: int, n_out: int, rng, torch, ag) -> dict:
    """Times of each Jacobian of the network R^n_in -> R^n_out, checked against each other."""
    w1 = rng.normal(size=(HIDDEN, n_in)) / onp.sqrt(n_in)
    b1 = rng.normal(size=HIDDEN)
    w2 = rng.normal(size=(n_out, HIDDEN)) / onp.sqrt(HIDDEN)
    x = rng.normal(size=n_in)
    f = network(wnp, w1, b1, w2)
    fwd, rev, auto = wg.jacfwd(f), wg.jacrev(f), wg.jacobian(f)
    reference = fwd(x)
    onp.testing.assert_allclose(rev(x), reference, rtol=1e-10, atol=1e-12)
    funs = {
        "wengert jacfwd": lambda: fwd(x),
        "wengert jacrev": lambda: rev(x),
        "wengert jacobian (auto)": lambda: auto(x),
    }
    if torch:
        from torch import func as tf

        tx = torch.tensor(x)
        ft = network(torch, *(torch.tensor(v) for v in (w1, b1, w2)))
        onp.testing.assert_allclose(tf.jacrev(ft)(tx).numpy(), reference, rtol=1e-10)
        funs["torch.func jacfwd"] = lambda: tf.jacfwd(ft)(tx)
        funs["torch.func jacrev"] = lambda: tf.jacrev(ft)(tx)
    if ag:
        import autograd.numpy as anp

        fa = network(anp, w1, b1, w2)
        onp.testing.assert_allclose(ag.jacobian(fa)(x), reference, rtol=1e-10)
        funs["HIPS autograd jacobian"] = lambda: ag.jacobian(fa)(x)
    times = interleaved(funs, rounds=41)
    times["chosen"] = auto.chosen_mode
    return times


def hessian_rows(make, data: tuple, name: str, x, v, torch, ag) -> tuple[dict, dict]:
    """Times of the full Hessian and of one Hessian-vector product of one function."""
    f = make(wnp, *data)
    hess = wg.hessian(f)
    reference = hess(x)
    onp.testing.assert_allclose(reference, reference.T, rtol=1e-10, atol=1e-10)
    onp.testing.assert_allclose(wg.hvp(f, (x,), (v,))[0], reference @ v, rtol=1e-9)
    funs = {"wengert hessian": lambda: hess(x)}
    hvp_funs = {f"wengert hvp ({name})": lambda: wg.hvp(f, (x,), (v,))}
    if torch:
        from torch import func as tf

        tx, tv = torch.tensor(x), torch.tensor(v)
        ft = make(torch, *(torch.tensor(d) for d in data))
        onp.testing.assert_allclose(tf.hessian(ft)(tx).numpy(), reference, rtol=1e-9)
        funs["torch.func hessian"] = lambda: tf.hessian(ft)(tx)
        hvp_funs[f"torch.func jvp(grad) ({name})"] = lambda: tf.jvp(tf.grad(ft), (tx,), (tv,))
    if ag:
        import autograd.numpy as anp

        fa = make(anp, *data)
        funs["HIPS autograd hessian"] = lambda: ag.hessian(fa)(x)
        hvp_funs[f"HIPS autograd hvp ({name})"] = lambda: ag.hessian_vector_product(fa)(x, v)
    return interleaved(funs, rounds=9), interleaved(hvp_funs)


def main() -> None:
    torch = _timing.optional("torch")
    ag = _timing.optional("autograd")
    versions = {
        m: (metadata.version(m) if mod else "absent")
        for m, mod in (("torch", torch), ("autograd", ag))
    }
    print(
        f"python {platform.python_version()}, numpy {onp.__version__}, "
        f"torch {versions['torch']}, autograd {versions['autograd']}, cores {os.cpu_count()}"
    )
    if torch:
        torch.set_num_threads(1)
    rng = onp.random.default_rng(0)
    verdicts = []
    peer = "torch.func" if torch else "wengert"

    for label, (n_in, n_out) in zip("ab", IN_OUT):
        times = jacobian_rows(n_in, n_out, rng, torch, ag)
        chosen = times.pop("chosen")
        faster = "forward" if times["wengert jacfwd"] < times["wengert jacrev"] else "reverse"
        best = min(times["wengert jacfwd"], times["wengert jacrev"])
        table(
            f"({label}) Jacobian of R^{n_in} -> R^{n_out} (tanh network, hidden {HIDDEN})",
            times,
            min((f"{peer} jacfwd", f"{peer} jacrev"), key=times.get),
            {"wengert jacobian (auto)": f"chose {chosen}"},
        )
        verdicts.append(
            f"({label}) auto chose {chosen}, faster mode {faster}: "
            f"{'ok' if chosen == faster else 'WRONG'}; auto / best = "
            f"{times['wengert jacobian (auto)'] / best:.3f}"
        )
        if torch:
            for mode in ("jacfwd", "jacrev"):
                ratio = times[f"wengert {mode}"] / times[f"torch.func {mode}"]
                verdicts.append(f"({label}) wengert {mode} / torch.func {mode} = {ratio:.2f}")
        if ag:
            ratio = best / times["HIPS autograd jacobian"]
            verdicts.append(f"({label}) wengert best mode / HIPS autograd = {ratio:.3f}")

    a = rng.normal(size=(300, N_HESSIAN)) / onp.sqrt(N_HESSIAN)
    y = onp.sign(rng.normal(size=300))
    x = rng.uniform(-1.0, 1.0, N_HESSIAN)
    v = rng.normal(size=N_HESSIAN)
    hvp_times, hvp_verdicts = {}, []
    for label, name, make, data in (
        ("c", "logistic loss", logistic, (a, y)),
        ("d", "Rosenbrock", rosenbrock, ()),
    ):
        times, hvps = hessian_rows(make, data, name, x, v, torch, ag)
        hvp_times.update(hvps)
        table(
            f"({label}) full Hessian, {name}, {N_HESSIAN} variables",
            times,
            f"{peer} hessian",
        )
        if torch:
            ratio = times["wengert hessian"] / times["torch.func hessian"]
            verdicts.append(f"({label}) wengert hessian / torch.func hessian = {ratio:.2f}")
        if ag:
            ratio = times["wengert hessian"] / times["HIPS autograd hessian"]
            verdicts.append(f"({label}) wengert hessian / HIPS autograd = {ratio:.3f}")
        ours = hvps[f"wengert hvp ({name})"]
        if torch:
            ratio = ours / hvps[f"torch.func jvp(grad) ({name})"]
            hvp_verdicts.append(f"(e) wengert hvp / torch.func, {name} = {ratio:.2f}")
        if ag:
            ratio = ours / hvps[f"HIPS autograd hvp ({name})"]
            hvp_verdicts.append(f"(e) wengert hvp / HIPS autograd, {name} = {ratio:.3f}")
    base = "torch.func jvp(grad) (logistic loss)" if torch else "wengert hvp (logistic loss)"
    table(f"(e) one Hessian-vector product, {N_HESSIAN} variables", hvp_times, base)

    print("\nTargets: auto picks the faster mode within 5%; within 2x of torch.func; faster")
    print("than HIPS autograd (ratios below 1 are faster than the peer).")
    for line in verdicts + hvp_verdicts:
        print("  " + line)


if __name__ == "__main__":
    main()
