"""The evaluation list's text names every variable and constant once, whatever the
inputs are called."""

from __future__ import annotations

import re

import numpy as onp

import wengert as wg
import wengert.numpy as wnp


def test_inputs_named_like_intermediates_or_constants_do_not_clash():
    def f(v1, c1):
        return wnp.sum(wnp.sin(v1) * onp.array([1.0, 2.0]) + c1)

    text = str(wg.make_program(f)(onp.ones(2), 0.5))
    inputs = re.findall(r"(\w+): float64", text.splitlines()[0])
    defined = re.findall(r"^\s*(\w+) = ", text, flags=re.MULTILINE)
    assert len(inputs) == 2 and len(defined) == 5
    assert len(set(inputs + defined)) == 7
