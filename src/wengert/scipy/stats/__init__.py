"""Differentiable log-densities and distribution functions of `scipy.stats` distributions.

Each distribution is a module with SciPy's function names and signatures (``norm.logpdf(x,
loc=0, scale=1)``, ...). They are built by composition from `wengert.scipy.special` and
`wengert.numpy`, so both rules and all orders follow from those primitives. Which
arguments a function is differentiable in is listed in each module's docstring.

>>> from wengert.scipy import stats
>>> round(float(stats.norm.logpdf(0.0)), 6)
-0.918939
"""

from __future__ import annotations

from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]
