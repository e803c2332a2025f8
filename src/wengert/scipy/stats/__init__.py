"""Differentiable log-densities, distribution functions and moments of `scipy.stats`
distributions.

Each distribution is a module with the methods of SciPy's distribution object as functions,
with SciPy's names and signatures (``norm.logpdf(x, loc=0, scale=1)``, ``gamma.mean(a)``,
``dirichlet.rvs(alpha, size=1, random_state=None)``, ...). The differentiable ones are
built by composition from `wengert.scipy.special` and `wengert.numpy` (and, for quantiles
and the Poisson entropy, a few primitives of their own), so both rules and all orders
follow. Methods without a derivative (`rvs`, `fit`, `expect`, `freeze`, the multivariate
normal `cdf`) are SciPy's own, passed through: they give SciPy's results, and
differentiating through them raises `wengert.MissingRuleError` naming the method; the
integer quantiles of the Poisson distribution are constants. Which arguments a function
is differentiable in is listed in each module's docstring.

>>> from wengert.scipy import stats
>>> round(float(stats.norm.logpdf(0.0)), 6)
-0.918939
"""

from __future__ import annotations

from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]
