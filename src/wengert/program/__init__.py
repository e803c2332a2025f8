"""Programs: Wengert's evaluation list, recorded once, shown, exported as code, compiled.

`make_program` records a function as a `Program`; `jit` records once per input
signature and runs the compiled program without tracing.
"""

from .jit import RetracingWarning, jit
from .program import GuardError, Program, make_program

__all__ = ["GuardError", "Program", "RetracingWarning", "jit", "make_program"]
