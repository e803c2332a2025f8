"""autograd's `scipy.stats.poisson`: `wengert.scipy.stats.poisson` under autograd's name."""

from ..._mirror import mirror

mirror(__name__, "wengert.scipy.stats.poisson")
