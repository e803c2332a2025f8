"""autograd's `scipy.stats.beta`: `wengert.scipy.stats.beta` under autograd's name."""

from ..._mirror import mirror

mirror(__name__, "wengert.scipy.stats.beta")
