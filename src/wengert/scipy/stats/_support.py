"""Helpers shared by the distributions: standardizing, values outside the support, SciPy's
methods without derivative, and what every distribution derives the same way from its
parameters (moments by the binomial expansion, intervals from quantiles, `stats`, `nnlf`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import numpy as wnp
from ..._core.box import Box, all_value, any_value, shape_of
from ..._core.define import nondiff
from ..._core.primitive import Primitive
from ..._core.tree import tree_flatten, tree_unflatten
from ..._core.vspace import asarray
from ...errors import MissingRuleError


def weak(fun: Callable, *args):
    """``fun(*args)``, as a Python number when every argument is one (a default scale of
    1.0, a constant shape): a NumPy float64 scalar would widen float32 values, a Python
    number does not."""
    out = fun(*args)
    if isinstance(out, np.generic) and all(type(a) in (float, int) for a in args):
        return out.item()
    return out


def standardize(x, loc, scale):
    """``(x - loc) / scale``, differentiable in all three."""
    return (x - loc) / scale


def on_support(z, inside, safe: float, fun: Callable, outside: float):
    """``fun(z)`` where `inside` holds and the constant `outside` elsewhere.

    `fun` is evaluated at `safe` outside the support, so no NaN or infinity from there
    reaches a derivative.
    """
    if all_value(inside, undecided=False):  # (in every member of a batch: the same result)
        return fun(z)
    value = fun(wnp.where(inside, z, safe))
    return wnp.where(inside, value, outside)


def _mask_impl(z, test: Callable) -> np.ndarray:
    return test(asarray(z))


# A mask carries no derivative; under vmap each member's is computed from its own values.
_mask = nondiff(_mask_impl, "support_mask", elementwise=True)


def mask(z, test: Callable):
    """A boolean mask ``test(z)`` of the values (it carries no derivative)."""
    return _mask(z, test)


def _count_impl(k, loc, dtype):
    return asarray(k, dtype=dtype, like=loc) - asarray(loc, dtype=dtype, like=k)


def _is_count_impl(k):
    return (k >= 0) & (k == np.floor(k))


# Counts (k - loc of a discrete distribution, in `dtype`) and where they are whole and
# non-negative: no derivative, and under vmap a batch of counts stays one.
count_of = nondiff(_count_impl, "count", elementwise=True)
is_count = nondiff(_is_count_impl, "is_count", elementwise=True)

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_mask.defsource(_mask_impl)
count_of.defsource(_count_impl)
is_count.defsource(_is_count_impl)


# --- SciPy's methods without derivative ----------------------------------------------------

# Why each method that returns no derivative has none (the end of the error's sentence).
WHY = {
    "rvs": "it draws random samples, which have no derivative in the parameters here",
    "fit": "it returns the result of a numerical optimization",
    "expect": "it integrates a Python function numerically with scipy.integrate",
    "freeze": "a frozen SciPy distribution holds plain numbers",
    "marginal": "a frozen SciPy distribution holds plain numbers",
    "cdf": "SciPy integrates the multivariate normal density numerically (Genz's method)",
    "logcdf": "SciPy integrates the multivariate normal density numerically (Genz's method)",
}


class PassThrough:
    """SciPy's `method` of the distribution `dist` (``scipy.stats.<name>``), called on plain
    values; it has no derivative.

    Called with traced values it still runs (on the values inside, and once per member
    under `vmap`), but differentiating through its result raises `MissingRuleError`
    naming it and saying why, rather than giving a derivative of zero. `results` says what
    the method returns: "array", "tuple" (several results, as ``fit``) or "object" (a SciPy
    object, as ``freeze``: traced values are refused at once).
    """

    nondifferentiable = True

    def __init__(self, dist: object, name: str, method: str, results: str = "array"):
        self.method = getattr(dist, method)
        self.qualname = f"wengert.scipy.stats.{name}.{method}"
        self.why = WHY[method]
        self.__name__ = self.__qualname__ = method
        self.__wrapped__ = self.method
        self.__doc__ = (
            f"SciPy's ``scipy.stats.{name}.{method}``, passed through without derivative "
            f"({self.why})."
        )
        self.primitive = None
        if results != "object":
            prim = Primitive(self._apply, f"{name}.{method}", multiple_results=results == "tuple")
            self.primitive = prim.defvjp_all(self._refuse).defjvp_all(self._refuse)

    def __repr__(self) -> str:
        return f"<{self.qualname}, without derivative>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        leaves, treedef = tree_flatten((args, kwargs))
        if not any(isinstance(x, Box) for x in leaves):
            return self.method(*args, **kwargs)
        if self.primitive is None:
            raise self.error()
        return self.primitive(*leaves, treedef=treedef)

    def _apply(self, *leaves: Any, treedef: Any) -> Any:
        args, kwargs = tree_unflatten(treedef, list(leaves))
        return self.method(*args, **kwargs)

    def error(self) -> MissingRuleError:
        return MissingRuleError(
            f"{self.qualname} has no derivative ({self.why}), so its result cannot be "
            "differentiated in the arguments that were traced. Pass them as constants, or "
            "wrap them in wengert.stop_gradient(...) if a zero derivative through this call "
            "is what you mean."
        )

    def _refuse(self, *args: Any, **kwargs: Any):
        raise self.error()


def constant(dist: object, name: str, method: str):
    """SciPy's method with integer results (the quantiles of a discrete distribution): a
    constant to every differentiating transformation, its derivative zero."""
    fun = getattr(dist, method)
    prim = nondiff(fun, f"{name}.{method}")
    prim.__doc__ = (
        f"SciPy's ``scipy.stats.{name}.{method}``: integer values, constant in the arguments "
        "(derivative zero)."
    )
    return prim


# --- what every distribution derives from its parameters -----------------------------------------


def broadcast_like(value, *params):
    """`value` in the shape of its broadcast with `params`, as SciPy broadcasts every parameter
    into its results, without making it depend on them."""
    shape = shape_of(value)
    for param in params:
        if np.broadcast_shapes(shape, shape_of(param)) != shape:
            value = value + wnp.zeros_like(param)
            shape = shape_of(value)
    return value


def choose(condition, if_true: Callable, if_false: Callable):
    """``where(condition, if_true(), if_false())``, computing only the branch needed when
    the condition is the same everywhere (both must be finite everywhere)."""
    if all_value(condition, undecided=False):
        return if_true()
    if not any_value(condition, undecided=True):
        return if_false()
    return wnp.where(condition, if_true(), if_false())


def moment_of(function: str, order, standard: Callable, loc, scale=1.0):
    """E[(loc + scale Y)^order] from the moments ``standard(k)`` = E[Y^k] of the standardized
    distribution, by the binomial expansion (as SciPy)."""
    if math.floor(order) != order:
        raise ValueError(f"{function}: the order of a moment must be an integer, got {order}")
    if order < 0:
        raise ValueError(f"{function}: the order of a moment must be positive, got {order}")
    n = int(order)
    if n == 0:
        return 1.0
    if type(loc) in (int, float) and loc == 0:
        return scale**n * standard(n)
    total = loc**n
    for k in range(1, n + 1):
        term = math.comb(n, k) * scale**k * standard(k)
        total = total + (term if k == n else term * loc ** (n - k))
    return total


def interval_of(function: str, confidence, ppf: Callable) -> tuple:
    """The central interval with probability `confidence`: the quantiles at (1 -+ c) / 2."""
    if any_value(wnp.logical_or(confidence < 0, confidence > 1), undecided=False):
        raise ValueError(f"{function}: confidence must be between 0 and 1 inclusive")
    return ppf((1.0 - confidence) / 2.0), ppf((1.0 + confidence) / 2.0)


def stats_of(moments: str, mean: Callable, var: Callable, skew: Callable, kurtosis: Callable):
    """SciPy's `stats` result: those of mean, variance, skewness and excess kurtosis whose
    letters ('m', 'v', 's', 'k') `moments` holds, in that order; one alone is not a tuple."""
    out = [f() for letter, f in zip("mvsk", (mean, var, skew, kurtosis)) if letter in moments]
    return out[0] if len(out) == 1 else tuple(out)


def nnlf_of(logpdf: Callable, theta, x, valid: Callable, discrete: bool = False):
    """The negative log-likelihood ``-sum(logpdf(x, *theta), axis=0)``, inf where the
    parameters are invalid (as SciPy's `nnlf`): theta holds the shapes, loc and (for a
    continuous distribution) scale."""
    tail = 1 if discrete else 2
    if len(theta) < tail:
        raise ValueError("nnlf: not enough input arguments in theta")
    params = [theta[i] for i in range(len(theta))]
    shapes, loc_scale = params[: len(params) - tail], params[len(params) - tail :]
    scale = 1.0 if discrete else loc_scale[1]
    if not all_value(wnp.logical_and(valid(*shapes), scale > 0), undecided=True):
        return np.inf
    return -wnp.sum(logpdf(wnp.asarray(x), *shapes, *loc_scale), axis=0)


def fit_loc_scale_of(stats: Callable, data, *shapes) -> tuple:
    """Estimates of loc and scale from the mean and variance of `data` (as SciPy's
    `fit_loc_scale`): scale = sqrt(var(data) / var), loc = mean(data) - scale mean, with SciPy's
    fallbacks 0 and 1 where they are not finite."""
    mean, var = stats(*shapes, moments="mv")
    data = wnp.asarray(data)
    scale = wnp.sqrt(wnp.var(data) / var)
    loc = wnp.mean(data) - scale * mean
    if not all_value(wnp.isfinite(loc), undecided=True):
        loc = wnp.where(wnp.isfinite(loc), loc, 0.0)
    usable = wnp.logical_and(wnp.isfinite(scale), scale > 0)
    if not all_value(usable, undecided=True):
        scale = wnp.where(usable, scale, 1.0)
    return loc, scale


# The members of each continuous univariate distribution module (norm, t, gamma, chi2,
# beta), which are SciPy's methods of the distribution object.
CONTINUOUS = (
    "cdf",
    "entropy",
    "expect",
    "fit",
    "fit_loc_scale",
    "freeze",
    "interval",
    "isf",
    "logcdf",
    "logpdf",
    "logsf",
    "mean",
    "median",
    "moment",
    "nnlf",
    "pdf",
    "ppf",
    "rvs",
    "sf",
    "stats",
    "std",
    "support",
    "var",
)


def scipy_methods(dist: object, name: str) -> tuple:
    """SciPy's own ``rvs``, ``fit``, ``expect`` and ``freeze`` of a continuous distribution,
    passed through (no derivative)."""
    return (
        PassThrough(dist, name, "rvs"),
        PassThrough(dist, name, "fit", results="tuple"),
        PassThrough(dist, name, "expect"),
        PassThrough(dist, name, "freeze", results="object"),
    )
