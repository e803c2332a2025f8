"""The differentiation engine: traces, boxes, primitives and the two modes.

It knows nothing of NumPy's list of functions; `wengert.numpy` defines those.
"""
