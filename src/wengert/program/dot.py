"""A program's computational graph in Graphviz's DOT language, and drawing it to a file.

`program_dot` writes the DOT text itself (no package needed): a box per input, variable
and array constant (its name, dtype and shape), an ellipse per equation (its right-hand
side as the printed program writes it), arrows from what an equation reads to it and
from it to what it defines, a red octagon per guard and a double box per output.
`render` hands the text to the optional ``graphviz`` package to draw it.

>>> import wengert as wg, wengert.numpy as np
>>> text = program_dot(wg.make_program(lambda x: np.sin(x) * 2.0)(1.0))
>>> text.splitlines()[0], text.count("->")
('digraph program {', 5)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._core.recording import Equation, Guard, Var
from .printing import Namer, aval, aval_of, equation_text, guard_text

__all__ = ["program_dot", "render"]

# Values with at most this many entries are drawn (values=True or input values).
MAX_SHOWN = 16
FORMATS = ("svg", "png", "pdf")
_INSTALL = (
    "install the Python package (pip install graphviz, or pip install 'wengert[draw]') and "
    "the Graphviz programs (https://graphviz.org/download/, e.g. apt install graphviz or "
    "brew install graphviz); program.to_dot() gives the DOT text without either"
)


def _quote(text: str) -> str:
    """A DOT string, with quotes and backslashes escaped and line breaks as ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _value_text(value: Any) -> str | None:
    """A short text of a value, if it is small enough to show."""
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return repr(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, np.ndarray) and value.size <= MAX_SHOWN:
        return np.array2string(value, precision=4, separator=", ", max_line_width=48)
    return None


def _environment(program, inputs: Sequence) -> dict:
    """Every variable's value when the program runs on `inputs` (up to a failing guard)."""
    env: dict = dict(zip(program.inputs, inputs))
    for eq in program.equations:
        if type(eq) is Guard:
            if not eq.holds(env[eq.var]):
                break
            continue
        args, kwargs = eq.arguments(env.__getitem__)
        ans = eq.primitive(*args, **kwargs)
        if len(eq.outputs) == 1 and not eq.primitive.multiple_results:
            env[eq.outputs[0]] = ans
        else:
            env.update(zip(eq.outputs, ans))
    return env


def program_dot(program, values: bool | Sequence = False) -> str:
    """The graph of `program` as DOT text (``dot -Tsvg`` draws it).

    `values`: False draws names, dtypes and shapes; True adds the values of small array
    constants; a sequence of input values (as ``Program.evaluate`` takes them) runs the
    program and adds the value of every small variable as well.
    """
    namer = Namer(program)
    env: dict = {}
    if values is not True and values is not False and values is not None:
        env = _environment(program, list(values))
    show = values is not False and values is not None
    lines = [
        "digraph program {",
        "  rankdir=LR;",
        '  node [fontname="monospace", fontsize=10];',
        '  edge [fontname="monospace", fontsize=9];',
    ]
    defined: set = set()

    def var_node(v: Var, role: str) -> str:
        node = f"var{v.index}"
        if v in defined:
            return node
        defined.add(v)
        label = f"{namer.var(v)}\n{aval(v)}"
        text = _value_text(env[v]) if v in env else None
        if text is not None:
            label += f"\n{text}"
        style = {
            "input": 'shape=box, style="rounded,filled", fillcolor="#dbe9f6"',
            "var": "shape=box",
        }[role]
        lines.append(f"  {node} [label={_quote(label)}, {style}];")
        return node

    constants: dict[int, str] = {}

    def constant_node(x: np.ndarray) -> str:
        key = id(x)
        if key not in constants:
            node = f"c{len(constants) + 1}"
            constants[key] = node
            label = f"{namer.constant(x)}\n{aval_of(x)}"
            text = _value_text(x) if show else None
            if text is not None:
                label += f"\n{text}"
            lines.append(f"  {node} [label={_quote(label)}, shape=box, style=dashed];")
        return constants[key]

    for v in program.inputs:
        var_node(v, "input")
    for i, eq in enumerate(program.equations):
        if type(eq) is Guard:
            node = f"g{i}"
            lines.append(
                f"  {node} [label={_quote(guard_text(eq, namer))}, shape=octagon, "
                'color="#c0392b", fontcolor="#c0392b"];'
            )
            source = var_node(eq.var, "var")
            lines.append(f'  {source} -> {node} [style=dashed, color="#c0392b"];')
            continue
        assert type(eq) is Equation
        node = f"e{i}"
        text = equation_text(eq, namer)
        lines.append(f"  {node} [label={_quote(text)}, shape=ellipse];")
        reads = [x for x in eq.inputs if type(x) is Var or isinstance(x, np.ndarray)]
        for k, x in enumerate(reads):
            source = var_node(x, "var") if type(x) is Var else constant_node(x)
            label = f" [label={_quote(str(k))}]" if len(reads) > 1 else ""
            lines.append(f"  {source} -> {node}{label};")
        for v in eq.outputs:
            lines.append(f"  {node} -> {var_node(v, 'var')};")
    for k, x in enumerate(program.outputs):
        node = f"out{k}"
        label = f"output {k}"
        if type(x) is not Var:
            label += f"\n{namer.constant(x)}"
            text = _value_text(x) if show else None
            if text is not None and isinstance(x, np.ndarray):
                label += f"\n{text}"
        lines.append(f"  {node} [label={_quote(label)}, shape=box, peripheries=2];")
        if type(x) is Var:
            lines.append(f"  {var_node(x, 'var')} -> {node};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(program, path: str | Path, values: bool | Sequence = False) -> str:
    """Draw the graph of `program` into `path`, in the format its suffix names (.svg,
    .png, .pdf), with the optional ``graphviz`` package and Graphviz's ``dot`` program.

    Returns the path written. Raises ImportError without the package and RuntimeError
    without the program, both saying how to install them.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(
            f"render draws {', '.join('.' + f for f in FORMATS)} files, not {path.name!r}; "
            "for the DOT text itself use program.to_dot()"
        )
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(f"Program.render needs the graphviz package: {_INSTALL}.") from error
    source = graphviz.Source(program_dot(program, values=values))
    try:
        data = source.pipe(format=fmt)
    except graphviz.ExecutableNotFound as error:
        raise RuntimeError(
            f"Program.render found the graphviz package but not Graphviz's dot program: {_INSTALL}."
        ) from error
    path.write_bytes(data)
    return str(path)
