"""autograd's `numpy.numpy_boxes`: its traced-array class is wengert's `Box`."""

from ..._core.box import Box

ArrayBox = Box

__all__ = ["ArrayBox", "Box"]
