"""autograd's `scipy.stats.dirichlet`: `wengert.scipy.stats.dirichlet` under autograd's name."""

from ..._mirror import mirror

mirror(__name__, "wengert.scipy.stats.dirichlet")
