"""autograd's `scipy.stats.multivariate_normal`: wengert's, under autograd's name."""

from ..._mirror import mirror

mirror(__name__, "wengert.scipy.stats.multivariate_normal")
