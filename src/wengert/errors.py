"""Exceptions raised by wengert, each naming the problem and the way out."""

from __future__ import annotations

import numpy as np

# NumPy's own error for an axis out of range (np.exceptions since NumPy 1.25), raised as
# NumPy raises it so that code catching it keeps working.
AxisError = getattr(getattr(np, "exceptions", np), "AxisError", ValueError)


class WengertError(Exception):
    """Base class of the errors that wengert raises itself."""


class EscapedTracerError(WengertError):
    """A traced value was used after the transformation that made it had finished."""


class NonScalarOutputError(WengertError, TypeError):
    """A function passed to `grad` returned something other than a real scalar."""


class UnsupportedFunctionError(WengertError, TypeError):
    """A NumPy function that wengert does not differentiate met a traced value."""


class InPlaceWriteError(WengertError, TypeError):
    """Code tried to write into a traced array in place."""


class MissingRuleError(WengertError, NotImplementedError):
    """A primitive was differentiated in a mode or argument it has no rule for."""


class TracedConversionError(WengertError, ValueError):
    """A traced value was converted to a Python number, which would drop its derivative."""


class NoValueError(WengertError, TypeError):
    """A number was needed from a value that has none (a symbolic expression)."""


class ModifiedInputError(WengertError, RuntimeError):
    """An array kept for a derivative was written to in place before the derivative ran."""
