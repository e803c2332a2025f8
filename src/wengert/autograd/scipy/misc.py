"""autograd's former `scipy.misc`, kept for programs that import `logsumexp` from it."""

from ...scipy.special import logsumexp

__all__ = ["logsumexp"]
