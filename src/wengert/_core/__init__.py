"""The differentiation engine: traces, boxes, primitives and the two modes.

It knows nothing of NumPy's list of functions; the differentiable NumPy namespace
(``wg.numpy``) defines those.
"""
