"""autograd's `scipy.stats.chi2`: `wengert.scipy.stats.chi2` under autograd's name."""

from ..._mirror import mirror

mirror(__name__, "wengert.scipy.stats.chi2")
