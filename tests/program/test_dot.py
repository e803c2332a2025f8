"""DOT export of programs: nodes and edges for inputs, equations, constants, guards and
outputs, values on request, and drawing through the optional graphviz package."""

from __future__ import annotations

import re
import shutil
import sys
import types

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as np
from wengert.program.dot import program_dot, render

NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r"^  (\w+) -> (\w+)( \[.*\])?;$")


def parse(text: str) -> tuple[dict, list]:
    """The nodes (id -> (label, attributes)) and edges of DOT text as program_dot writes it;
    fails on any other line, so that the text stays well formed."""
    lines = text.strip().splitlines()
    assert lines[0] == "digraph program {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if m := NODE.match(line):
            assert m.group(1) not in nodes
            nodes[m.group(1)] = (m.group(2), m.group(3))
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        else:
            assert re.match(r"^  (rankdir|node|edge)\b.*;$", line), line
    for a, b in edges:
        assert a in nodes and b in nodes, (a, b)
    return nodes, edges


def loss(params, x):
    return np.sum(np.tanh(x @ params["w"] + params["b"]) ** 2)


ARGS = ({"w": onp.ones((3, 4)), "b": onp.zeros(4)}, onp.ones((5, 3)))


def test_the_graph_has_a_node_per_value_and_equation_and_an_edge_per_use():
    prog = wg.make_program(wg.grad(loss))(*ARGS)
    nodes, edges = parse(prog.to_dot())
    equations = [e for e in prog.equations if type(e).__name__ == "Equation"]
    defined = sum(len(e.outputs) for e in equations)
    arrays = {id(x) for e in equations for x in e.inputs if isinstance(x, onp.ndarray)}
    assert len(nodes) == len(prog.inputs) + len(equations) + defined + len(arrays) + 2
    uses = sum(
        1 for e in equations for x in e.inputs if type(x).__name__ == "Var" or id(x) in arrays
    )
    assert len(edges) == uses + defined + len(prog.outputs)
    labels = [label for label, _ in nodes.values()]
    assert "x1\\nfloat64[5, 3]" in labels and "x0_w\\nfloat64[3, 4]" in labels
    assert "tanh(v2)" in labels and "v12 @ v10" in labels
    assert "c1\\nfloat64[5, 4]" in labels


def test_guards_are_drawn_distinctly_and_outputs_doubly():
    def f(x):
        return np.sin(x) if np.sum(x) > 0 else np.cos(x)

    nodes, edges = parse(program_dot(wg.make_program(f)(onp.ones(2))))
    guards = [k for k, (label, attrs) in nodes.items() if "octagon" in attrs]
    assert len(guards) == 1 and nodes[guards[0]][0] == "guard v2"
    assert [a for a, b in edges if b == guards[0]] != []
    outputs = [k for k, (_, attrs) in nodes.items() if "peripheries=2" in attrs]
    assert len(outputs) == 1


def test_values_are_shown_when_asked_and_small():
    prog = wg.make_program(lambda x: (x * onp.arange(3.0), x[0] * onp.ones(100)))(onp.ones(3))
    plain, _ = parse(prog.to_dot())
    assert not any("[0., 1., 2.]" in label for label, _ in plain.values())
    with_constants, _ = parse(prog.to_dot(values=True))
    labels = [label for label, _ in with_constants.values()]
    assert any(label.endswith("[0., 1., 2.]") for label in labels)
    assert not any(label.count(",") > 20 for label in labels)  # the 100 ones are not shown
    evaluated, _ = parse(program_dot(prog, values=[onp.full(3, 2.0)]))
    assert any(label.endswith("[2., 2., 2.]") for label, _ in evaluated.values())
    assert any(label.endswith("[0., 2., 4.]") for label, _ in evaluated.values())


def test_labels_are_escaped():
    prog = wg.make_program(lambda x: np.reshape(x, (2, 2), order="F"))(onp.ones(4))
    nodes, _ = parse(prog.to_dot())
    assert "reshape(x, (2, 2), order='F')" in [label for label, _ in nodes.values()]
    from wengert.program.dot import _quote

    assert _quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'


def test_render_without_graphviz_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    prog = wg.make_program(np.sin)(1.0)
    with pytest.raises(ImportError, match="pip install graphviz"):
        prog.render(str(tmp_path / "g.svg"))
    with pytest.raises(ValueError, match="to_dot"):
        render(prog, tmp_path / "g.txt")


def test_render_writes_the_format_of_the_suffix(tmp_path):
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    prog = wg.make_program(wg.grad(loss))(*ARGS)
    path = prog.render(str(tmp_path / "g.svg"), values=True)
    assert open(path).read().lstrip().startswith(("<?xml", "<svg"))
    assert render(prog, tmp_path / "g.png").endswith("g.png")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_render_without_the_dot_program_says_how_to_install_it(monkeypatch, tmp_path):
    fake = types.ModuleType("graphviz")

    class ExecutableNotFound(RuntimeError):
        pass

    class Source:
        def __init__(self, text):
            self.text = text

        def pipe(self, format):
            raise ExecutableNotFound("failed to execute PosixPath('dot')")

    fake.ExecutableNotFound, fake.Source = ExecutableNotFound, Source
    monkeypatch.setitem(sys.modules, "graphviz", fake)
    with pytest.raises(RuntimeError, match="apt install graphviz"):
        render(wg.make_program(np.sin)(1.0), tmp_path / "g.pdf")
    assert not (tmp_path / "g.pdf").exists()
