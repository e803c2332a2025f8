"""autograd's `scipy.stats`: `wengert.scipy.stats` under autograd's name, with one
module per distribution."""

from __future__ import annotations

from ..._mirror import mirror
from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t  # noqa: F401

mirror(__name__, "wengert.scipy.stats")
