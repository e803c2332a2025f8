"""Special functions that the quantile functions and entropies of the distributions need,
as primitives with both rules: the inverses of the regularized incomplete gamma and beta
functions and of Student's t distribution function, and the Poisson entropy.

The inverses are differentiable in the probability q by the inverse function rule,
``dx/dq = 1 / density(x)``, but not in the shape parameters: their derivative there needs
the one of the incomplete functions in their shapes, which `wengert.scipy.special` does
not have (``gammainc`` has no rule in a either). Passing a traced shape raises
`wengert.MissingRuleError` when its derivative is asked for.

>>> import wengert as wg
>>> round(float(wg.grad(lambda q: gammaincinv(1.0, q))(0.5)), 6)  # 1 / exp(-log 2)
2.0
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sc

from ... import numpy as wnp
from ..._core.define import zero_safe_multiply
from ..._core.primitive import Primitive
from ..._core.vspace import refuse_foreign
from ...errors import MissingRuleError
from .. import special
from ..special import _call_in_precision, _in_precision
from ._support import weak


def _no_derivative(function: str, argument: str, why: str) -> Callable:
    """A rule that refuses: `function` has no derivative rule in `argument`."""

    def rule(*args: Any, **kwargs: Any):
        raise MissingRuleError(
            f"{function} is not differentiable in {argument} ({why}). Pass {argument} as a "
            "constant, or wrap it in wengert.stop_gradient(...) if a zero derivative through "
            "it is what you mean."
        )

    return rule


_NO_SHAPE = "the derivative of the incomplete function in its shape parameter has no rule here"


def _inverse(fun, name: str, log_density: Callable, sign: float, shapes: tuple[str, ...]):
    """The inverse in q of a distribution function of x (``sign`` -1 for the inverse of a
    survival function), as a primitive of ``(*shapes, q)`` differentiable in q only:
    ``dx/dq = sign / density(x)`` with the density ``exp(log_density(*shapes, x))``."""
    prim = Primitive(_in_precision(fun), name, broadcasts=True, elementwise=True)

    def slope(ans, *args):  # dx/dq, an exponential so that 1 / 0 is inf without warning
        return sign * wnp.exp(-log_density(*args[:-1], ans))

    refuse = [_no_derivative(f"{name} ({what})", s, _NO_SHAPE) for s, what in shapes]
    prim.defvjp(*refuse, lambda g, ans, *args: g * slope(ans, *args))
    prim.defjvp(*refuse, lambda t, ans, *args: zero_safe_multiply(t, slope(ans, *args)))
    prim.defsource(functools.partial(_call_in_precision, fun))
    return prim


def _gamma_log_density(a, x):
    return special.xlogy(a - 1.0, x) - x - weak(special.gammaln, a)


def _beta_log_density(a, b, x):
    return special.xlogy(a - 1.0, x) + special.xlog1py(b - 1.0, -x) - weak(special.betaln, a, b)


def _t_log_norm(df):
    return special.gammaln(0.5 * (df + 1.0)) - special.gammaln(0.5 * df) - 0.5 * wnp.log(df * np.pi)


def _t_log_density(df, t):
    return weak(_t_log_norm, df) - 0.5 * (df + 1.0) * wnp.log1p(t * t / df)


_GAMMA = (("a", "the gamma quantile"),)
_BETA = (("a", "the beta quantile"), ("b", "the beta quantile"))

gammaincinv = _inverse(sc.gammaincinv, "gammaincinv", _gamma_log_density, 1.0, _GAMMA)
gammainccinv = _inverse(sc.gammainccinv, "gammainccinv", _gamma_log_density, -1.0, _GAMMA)
betaincinv = _inverse(sc.betaincinv, "betaincinv", _beta_log_density, 1.0, _BETA)
betainccinv = _inverse(sc.betainccinv, "betainccinv", _beta_log_density, -1.0, _BETA)
stdtrit = _inverse(sc.stdtrit, "stdtrit", _t_log_density, 1.0, (("df", "the t quantile"),))


# --- the Poisson entropy and its derivatives in the rate -------------------------------------


def _poisson_entropy_impl(n, mu):
    """The n-th derivative in mu of the entropy of Poisson(mu), by summing the series.

    The entropy is -E[log p(K)] = mu - mu log(mu) + E[log K!]. The derivative of a Poisson
    mean E[f(K)] in mu is E[f(K + 1) - f(K)], so the n-th of E[log K!] is the mean of the
    n-th forward difference of log k!: log(k + 1), log1p(1 / (k + 1)), log1p(-1 / (k + 2)^2),
    and differences of the last beyond. Each order is summed in a form free of
    cancellation between large terms where one is at hand.
    """
    refuse_foreign(
        "scipy.stats.poisson.entropy",
        mu,
        why="its series has, for each rate, a number of terms read from the rate's value",
    )
    n = int(n)
    rates = np.asarray(mu, dtype=np.float64)
    out = np.full(rates.shape, np.nan)
    for index, rate in np.ndenumerate(rates):
        if not (0.0 <= rate < np.inf):
            continue
        spread = 20.0 * math.sqrt(rate) + 40.0  # the terms beyond are below 1e-80
        k = np.arange(max(0.0, math.floor(rate - spread)), math.ceil(rate + spread) + 1.0)
        log_weights = sc.xlogy(k, rate) - rate - sc.gammaln(k + 1.0)
        offset = 0.0
        with np.errstate(divide="ignore"):
            if n == 0:
                terms = -log_weights
            elif n == 1:
                terms = np.log((k + 1.0) / rate)
            elif n == 2:
                terms, offset = np.log1p(1.0 / (k + 1.0)), -1.0 / rate
            else:
                terms = np.zeros_like(k)
                for j in range(n - 2):
                    sign = -1.0 if (n - 3 - j) % 2 else 1.0
                    terms += sign * math.comb(n - 3, j) * np.log1p(-1.0 / (k + 2.0 + j) ** 2)
                offset = (-1.0) ** (n - 1) * math.factorial(n - 2) / rate ** (n - 1)
        weights = np.exp(log_weights)
        terms = np.where(weights > 0.0, terms, 0.0)  # (infinite where the weight is 0)
        # Normalized, so that rounding in the weights' sum does not scale the mean.
        out[index] = np.sum(weights * terms) / np.sum(weights) + offset
    return out[()]


poisson_entropy = Primitive(
    _in_precision(_poisson_entropy_impl), "poisson_entropy", broadcasts=True, elementwise=True
)
poisson_entropy.__doc__ = """The n-th derivative in the rate mu of the entropy of the Poisson
distribution (n = 0: the entropy). Differentiable in mu (the rule raises n by one), not in
the integer order n.

>>> round(float(poisson_entropy(0, 1.0)), 6)
1.304842
"""
_NO_ORDER = "n is an integer order"
poisson_entropy.defvjp(
    _no_derivative("poisson_entropy", "n", _NO_ORDER),
    lambda g, ans, n, mu: g * poisson_entropy(n + 1, mu),
)
poisson_entropy.defjvp(
    _no_derivative("poisson_entropy", "n", _NO_ORDER),
    lambda t, ans, n, mu: t * poisson_entropy(n + 1, mu),
)
poisson_entropy.defsource(functools.partial(_call_in_precision, _poisson_entropy_impl))
