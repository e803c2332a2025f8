"""A compiled program as a primitive: how `jit` meets an outer transformation.

``wg.grad(wg.jit(f))`` calls the jitted function on traced values. The compiled program
then enters the outer transformation as ONE primitive, whose rules are themselves jitted
programs, recorded once per signature: its reverse rule is ``jit`` of the program's VJP,
its forward rule ``jit`` of its JVP, its batching rule ``jit`` of its ``vmap``. So the
derivative of a jitted function is compiled too, to any order (the rules' jitted
programs meet the next outer transformation the same way). A recording (``make_program``,
an outer ``jit``) sees through the call and records the program's equations inline. Under
``vmap`` a jitted function runs as it is (a batch is no example to record).
"""

from __future__ import annotations

from typing import Any

from .._core.primitive import Primitive
from .._core.recording import Var
from .._core.vspace import zeros_like

__all__ = ["ProgramCall"]


class ProgramCall(Primitive):
    """A recorded program applied to its input leaves, with jitted derivative rules."""

    def __init__(self, program, run, jit):
        super().__init__(lambda *values: tuple(run(*values)), f"jit_{program.fun_name}")
        self._jit = jit  # how to compile the rules (wg.jit, passed in by it)
        self.multiple_results = True
        self.program = program
        self._derived: dict[str, Any] = {}
        self.defvjp_all(self._vjp_all)
        self.defjvp_all(self._jvp_all)
        self.inline = self.evaluate
        # Outputs with a derivative: inexact variables (constants and integers have none).
        self._inexact = [
            type(x) is Var and x.dtype is not None and x.dtype.kind in "fc" for x in program.outputs
        ]

    def evaluate(self, *values: Any) -> tuple:
        """The program's outputs, applying its primitives (what recording traces inline)."""
        return tuple(self.program.evaluate(list(values)))

    def _jitted(self, kind: str, fun) -> Any:
        jitted = self._derived.get(kind)
        if jitted is None:
            fun.__name__ = f"{kind}_{self.program.fun_name}"
            jitted = self._derived[kind] = self._jit(fun)
        return jitted

    def _restricted(self, values: tuple, argnums) -> Any:
        """The program as a function of the arguments at `argnums` (the others fixed),
        returning its outputs that have a derivative."""

        def fun(*diff):
            full = list(values)
            for i, v in zip(argnums, diff):
                full[i] = v
            outs = self.evaluate(*full)
            return tuple(o for o, keep in zip(outs, self._inexact) if keep)

        return fun

    def _vjp_all(self, g, ans, argnums, *values):
        from ..api import vjp

        argnums = tuple(argnums)

        def pullback(values, cotangents):
            _, back = vjp(self._restricted(values, argnums), *[values[i] for i in argnums])
            return back(cotangents)

        cotangents = tuple(
            zeros_like(a) if c is None else c for c, a, keep in zip(g, ans, self._inexact) if keep
        )
        if not cotangents:
            return [zeros_like(values[i]) for i in argnums]
        key = "vjp" + "_".join(map(str, argnums))
        return list(self._jitted(key, pullback)(tuple(values), cotangents))

    def _jvp_all(self, tangents, ans, *values):
        from ..api import jvp

        argnums = tuple(i for i, t in enumerate(tangents) if t is not None)

        def push(values, tangents):
            restricted = self._restricted(values, argnums)
            _, out = jvp(restricted, tuple(values[i] for i in argnums), tuple(tangents))
            return out

        if not any(self._inexact):
            return tuple(None for _ in self._inexact)
        key = "jvp" + "_".join(map(str, argnums))
        ts = tuple(tangents[i] for i in argnums)
        out = iter(self._jitted(key, push)(tuple(values), ts))
        return tuple(next(out) if keep else None for keep in self._inexact)
