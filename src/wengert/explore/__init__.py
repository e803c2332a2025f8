"""Exploring a derivative: the three methods side by side on an expression a user types.

`parse` reads an expression safely into wengert's primitives; `report` computes its value
and derivatives by symbolic, automatic and numerical differentiation with each one's
error; `steps` shows the error of finite differences across step sizes; `trace` the
evaluation list with values, local partials, tangents and adjoints; `html` one
self-contained page to step through it. The `wengert diff` command prints them.
"""
