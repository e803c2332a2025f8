"""One self-contained HTML page to step through a derivative's evaluation trace.

The page draws the computational graph (one node per input variable and per primitive
application) and lets the reader step forward through the evaluation (values, local
partials, tangents) and then backward through the adjoints, beside the derivative's
formula, the numerical estimates and their error against the step size. Everything is
inline (SVG, CSS, a small script, the data as JSON) and a content security policy forbids
any network access, so the file can be mailed, archived and opened offline; without
JavaScript it still shows the graph and a table of all rows.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .steps import StepErrors
    from .trace import Trace, TraceRow

__all__ = ["Panel", "page", "write_page"]


@dataclass(frozen=True)
class Panel:
    """What the side panel shows of one derivative: its label, formula, numerical
    estimates as (method, value, error), and error-vs-step data (each may be absent)."""

    label: str
    formula: str | None = None
    estimates: Sequence[tuple[str, float, float | None]] | None = None
    steps: StepErrors | None = None


# Graph geometry, in SVG user units (pixels at natural size).
_NODE_HEIGHT = 48
_GAP_X = 76
_GAP_Y = 14
_PAD = 16
_CHAR = 7.3  # width of one character of the 12px monospace labels
_MAX_LABEL = 20  # longer expressions are cut, with the whole text in the node's tooltip

# The three curves of the chart: field of StepErrors, legend label, colour.
_CURVES = (
    ("forward", "forward", "#d9480f"),
    ("central", "central", "#1c7ed6"),
    ("complex_step", "complex step", "#2b8a3e"),
)


def page(
    trace: Trace,
    *,
    title: str,
    formula: str | None = None,
    estimates: Sequence[tuple[str, float, float | None]] | None = None,
    steps: StepErrors | None = None,
    panels: Sequence[Panel] = (),
) -> str:
    """The HTML text of the page exploring `trace`, with the derivative's `formula`, the
    numerical `estimates` as (method, value, error) and the error-vs-step data `steps`;
    or, for several derivatives (partials, second derivatives), one `Panel` each, the
    first open and the others a click away.

    The text needs nothing else: no network, no files, no fonts beyond the reader's own.

    >>> from wengert.explore.trace import trace
    >>> text = page(trace(lambda x: x * x + 1, {"x": 3.0}), title="x * x + 1")
    >>> text.startswith("<!DOCTYPE html>"), text.count('<g class="node ')
    (True, 3)
    """
    rows = trace.rows
    data = _data(trace)
    graph = _graph(rows)
    if not panels:
        panels = [Panel("the derivative", formula, estimates, steps)]
    return _TEMPLATE.format(
        title=escape(title),
        css=_CSS,
        graph=graph,
        summary=_summary(trace),
        panels=_panels(panels),
        rows=_rows_table(rows),
        total=2 * len(rows) + 1,
        data=_script_json(data),
        script=_SCRIPT,
    )


def write_page(path: str | os.PathLike[str], trace: Trace, **keywords: Any) -> None:
    """Write `page(trace, **keywords)` to `path` as UTF-8.

    >>> import os, tempfile
    >>> from wengert.explore.trace import trace
    >>> path = os.path.join(tempfile.mkdtemp(), "f.html")
    >>> write_page(path, trace(lambda x: 1 / x, {"x": 2.0}), title="1/x")
    >>> open(path, encoding="utf-8").read().count('id="node-v1"')
    1
    """
    text = page(trace, **keywords)
    with open(path, "w", encoding="utf-8", newline="\n") as file:
        file.write(text)


# -- data ------------------------------------------------------------------------------


def json_number(x: float) -> float | str:
    """`x` for JSON: finite numbers as numbers, others as "nan", "inf", "-inf" (which
    JSON cannot spell and the page's formatter shows as they are)."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _g(x: float | None) -> str:
    """A number as the page shows it: 6 significant digits."""
    return "—" if x is None else f"{float(x):.6g}"


def _data(trace: Trace) -> dict[str, Any]:
    """The trace as JSON-ready data, the script's only input."""
    rows = []
    for row in trace.rows:
        item = asdict(row)
        for key in ("value", "tangent", "adjoint"):
            item[key] = json_number(item[key])
        item["partials"] = [json_number(p) for p in item["partials"]]
        rows.append(item)
    return {
        "variables": list(trace.variables),
        "point": {k: json_number(v) for k, v in trace.point.items()},
        "direction": {k: json_number(v) for k, v in trace.direction.items()},
        "output": trace.output,
        "value": json_number(trace.value),
        "derivative": json_number(trace.derivative),
        "gradient": {k: json_number(v) for k, v in trace.gradient.items()},
        "rows": rows,
    }


def _script_json(data: dict[str, Any]) -> str:
    """`data` as JSON safe inside a <script> element: every "<" is written as the JSON
    escape \\u003c, so neither "</script" nor "<!--" can end or confuse the element."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c")


# -- graph -----------------------------------------------------------------------------


def _depths(rows: Sequence[TraceRow]) -> list[int]:
    """The layer of each row: 0 for inputs, else 1 + the deepest row it reads."""
    position = {row.name: i for i, row in enumerate(rows)}
    depth: list[int] = []
    for i, row in enumerate(rows):
        if row.kind == "input":
            depth.append(0)
            continue
        reads = []
        for name in row.reads:
            j = position.get(name)
            if j is None or j >= i:
                raise ValueError(
                    f"page: row {row.name} reads {name!r}, which is not an earlier row of the "
                    "trace; build the trace with wengert.explore.trace.trace."
                )
            reads.append(depth[j])
        depth.append(1 + max(reads, default=0))
    return depth


def _layout(
    rows: Sequence[TraceRow], width: float
) -> tuple[list[tuple[float, float]], float, float]:
    """Top-left corner of each row's node, and the drawing's width and height.

    Layers run left to right by depth; within a layer, a few sweeps order the nodes by
    the mean height of their neighbours in the layers before (then after), which keeps
    most edges short and uncrossed.
    """
    depth = _depths(rows)
    position = {row.name: i for i, row in enumerate(rows)}
    reads = [[position[name] for name in row.reads] for row in rows]
    users: list[list[int]] = [[] for _ in rows]
    for j, js_reads in enumerate(reads):
        for i in js_reads:
            users[i].append(j)
    layers: list[list[int]] = [[] for _ in range(max(depth, default=0) + 1)]
    for i, d in enumerate(depth):
        layers[d].append(i)

    pitch = _NODE_HEIGHT + _GAP_Y
    y = [0.0] * len(rows)

    def place(layer: list[int]) -> None:
        for rank, i in enumerate(layer):
            y[i] = (rank - (len(layer) - 1) / 2) * pitch

    def reorder(layer: list[int], neighbours: list[list[int]]) -> None:
        def key(i: int) -> float:
            near = neighbours[i]
            return sum(y[j] for j in near) / len(near) if near else y[i]

        layer.sort(key=key)
        place(layer)

    for layer in layers:
        place(layer)
    for _ in range(3):
        for layer in layers[1:]:
            reorder(layer, reads)
        for layer in reversed(layers[:-1]):
            reorder(layer, users)
    for layer in layers[1:]:
        reorder(layer, reads)

    tallest = max(len(layer) for layer in layers)
    height = 2 * _PAD + tallest * pitch - _GAP_Y
    middle = _PAD + (tallest * pitch - _GAP_Y) / 2
    corners = [
        (_PAD + d * (width + _GAP_X), middle + y[i] - _NODE_HEIGHT / 2) for i, d in enumerate(depth)
    ]
    total_width = 2 * _PAD + len(layers) * (width + _GAP_X) - _GAP_X
    return corners, total_width, height


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


def _f(x: float) -> str:
    """A coordinate, short."""
    return f"{x:.1f}".removesuffix(".0")


def _graph(rows: Sequence[TraceRow]) -> str:
    """The static SVG of the graph: edges (curves with arrowheads, each with a hidden label
    holding its local partial) under rounded-rect nodes labelled name, expression, value."""
    # Wide enough for the longest label and for the value line ("adj -1.23456e-05").
    longest = max([len(_cut(r.expression)) for r in rows] + [len(r.name) for r in rows] + [16])
    width = round(min(longest, _MAX_LABEL) * _CHAR + 16)
    corners, total_width, height = _layout(rows, width)
    position = {row.name: i for i, row in enumerate(rows)}

    edges, labels = [], []
    for j, row in enumerate(rows):
        for k, name in enumerate(row.reads):
            i = position[name]
            x1, y1 = corners[i][0] + width, corners[i][1] + _NODE_HEIGHT / 2
            x2, y2 = corners[j][0] - 3, corners[j][1] + _NODE_HEIGHT / 2
            bend = max((x2 - x1) / 2, 20)
            path = (
                f"M{_f(x1)} {_f(y1)}C{_f(x1 + bend)} {_f(y1)},"
                f"{_f(x2 - bend)} {_f(y2)},{_f(x2)} {_f(y2)}"
            )
            edges.append(f'<path class="edge" d="{path}" data-from="{i}" data-to="{j}"/>')
            labels.append(
                f'<text class="elabel" x="{_f((x1 + x2) / 2)}" y="{_f((y1 + y2) / 2 - 4)}" '
                f'data-from="{i}" data-to="{j}">{_g(row.partials[k])}</text>'
            )

    nodes = []
    for i, row in enumerate(rows):
        x, y = corners[i]
        name = escape(row.name)
        expr = escape(_cut(row.expression))
        tip = escape(f"{row.name} = {row.expression}" if row.kind == "op" else row.name)
        nodes.append(
            f'<g class="node {escape(row.kind)}" id="node-{name}" data-index="{row.index}" '
            f'transform="translate({_f(x)},{_f(y)})"><title>{tip}</title>'
            f'<rect width="{width}" height="{_NODE_HEIGHT}" rx="7"/>'
            f'<text class="nm" x="8" y="15">{name}</text>'
            f'<text class="ex" x="8" y="29">{expr if row.kind == "op" else "input"}</text>'
            f'<text class="val" x="8" y="43">= {_g(row.value)}</text></g>'
        )

    return (
        f'<svg id="graph" viewBox="0 0 {_f(total_width)} {_f(height)}" '
        f'width="{_f(total_width)}" height="{_f(height)}" role="img" '
        f'aria-label="computational graph">'
        "<defs>"
        '<marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0 0L8 4L0 8z" fill="#868e96"/></marker>'
        '<marker id="arrow-tan" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0 0L8 4L0 8z" fill="#1c7ed6"/></marker>'
        '<marker id="arrow-adj" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0 0L8 4L0 8z" fill="#c2255c"/></marker>'
        "</defs>"
        f'<g class="edges">{"".join(edges)}</g>'
        f'<g class="nodes">{"".join(nodes)}</g>'
        f'<g class="elabels">{"".join(labels)}</g>'
        "</svg>"
    )


# -- side panel and table --------------------------------------------------------------


def _summary(trace: Trace) -> str:
    at = ", ".join(f"{escape(n)} = {_g(trace.point[n])}" for n in trace.variables)
    along = ", ".join(f"{escape(n)} = {_g(trace.direction[n])}" for n in trace.variables)
    grad = ", ".join(f"∂f/∂{escape(n)} = {_g(trace.gradient[n])}" for n in trace.variables)
    return (
        '<dl id="summary">'
        f"<dt>at</dt><dd>{at}</dd>"
        f"<dt>f</dt><dd>{_g(trace.value)}</dd>"
        f"<dt>direction</dt><dd>{along}</dd>"
        f"<dt>directional derivative</dt><dd>{_g(trace.derivative)}</dd>"
        f"<dt>gradient</dt><dd>{grad}</dd>"
        "</dl>"
    )


def _panels(panels: Sequence[Panel]) -> str:
    """One collapsible section per derivative; element ids of the first are "formula",
    "estimates" and "chart", of the k-th (k >= 1) the same with "-k" appended."""
    parts = []
    for k, p in enumerate(panels):
        suffix = f"-{k}" if k else ""
        chart_only = p.formula is None and p.estimates is None and p.steps is not None
        body = []
        if not chart_only:
            body += ["<h3>Formula</h3>", _formula(p.formula, suffix)]
            body += ["<h3>Numerical estimates</h3>", _estimates(p.estimates, suffix)]
        if p.steps is not None or len(panels) == 1:
            body += ["<h3>Error against step</h3>", _chart(p.steps, suffix)]
        parts.append(
            f'<details class="derivative" id="panel{suffix}"{" open" if k == 0 else ""}>'
            f"<summary>{escape(p.label)}</summary>{''.join(body)}</details>"
        )
    return "".join(parts)


def _formula(formula: str | None, suffix: str = "") -> str:
    text = escape(formula) if formula else "(no formula given)"
    return f'<pre class="formula" id="formula{suffix}">{text}</pre>'


def _estimates(
    estimates: Sequence[tuple[str, float, float | None]] | None, suffix: str = ""
) -> str:
    if not estimates:
        return f'<table id="estimates{suffix}"><tr><td>(no estimates given)</td></tr></table>'
    errors = [abs(e) for _, _, e in estimates if e is not None and math.isfinite(e)]
    best = min(errors) if errors else None
    body = []
    for method, value, error in estimates:
        mark = ""
        if error is not None and best is not None and abs(error) == best:
            mark = ' class="best"'
        body.append(
            f"<tr{mark}><td>{escape(str(method))}</td>"
            f'<td class="num">{_g(value)}</td><td class="num">{_g(error)}</td></tr>'
        )
    return (
        f'<table id="estimates{suffix}"><thead><tr><th>method</th><th>value</th>'
        f"<th>error</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _rows_table(rows: Sequence[TraceRow]) -> str:
    body = []
    for row in rows:
        name = escape(row.name)
        partials = ", ".join(
            f"∂{name}/∂{escape(r)} = {_g(p)}" for r, p in zip(row.reads, row.partials)
        )
        expr = escape(row.expression) if row.kind == "op" else "input"
        body.append(
            f'<tr id="row-{name}"><td class="num">{row.index}</td><td>{name}</td>'
            f"<td><code>{expr}</code></td>"
            f'<td class="num">{_g(row.value)}</td><td>{partials}</td>'
            f'<td class="num">{_g(row.tangent)}</td><td class="num">{_g(row.adjoint)}</td></tr>'
        )
    return (
        '<table id="rows"><thead><tr><th>#</th><th>name</th><th>expression</th><th>value</th>'
        "<th>local partials</th><th>tangent</th><th>adjoint</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


# -- chart -----------------------------------------------------------------------------


def _chart(steps: StepErrors | None, suffix: str = "") -> str:
    """The error of each method against the step, log-log, as an inline SVG.

    Errors of exactly 0 (common for the complex step) are drawn on the chart's floor, a
    decade under the smallest positive error, and said so; non-finite errors leave gaps.
    """
    w, h = 380, 270
    left, right, top, bottom = 54, 10, 10, 58
    if steps is None:
        return (
            f'<svg id="chart{suffix}" class="chart" viewBox="0 0 {w} 40" width="{w}" height="40">'
            '<text x="4" y="24">(no error-vs-step data given)</text></svg>'
        )
    hs = [float(x) for x in steps.steps]
    curves = {field: [float(e) for e in getattr(steps, field)] for field, _, _ in _CURVES}
    good_h = [x for x in hs if math.isfinite(x) and x > 0]
    positive = [abs(e) for es in curves.values() for e in es if math.isfinite(e) and abs(e) > 0]
    if not good_h or not positive:
        return (
            f'<svg id="chart{suffix}" class="chart" viewBox="0 0 {w} 40" width="{w}" height="40">'
            '<text x="4" y="24">(no positive errors to draw)</text></svg>'
        )
    has_zero = any(e == 0 for es in curves.values() for e in es)
    floor = min(positive) / 10 if has_zero else min(positive)
    x_lo, x_hi = math.floor(math.log10(min(good_h))), math.ceil(math.log10(max(good_h)))
    y_lo, y_hi = math.floor(math.log10(floor)), math.ceil(math.log10(max(positive)))
    x_hi, y_hi = max(x_hi, x_lo + 1), max(y_hi, y_lo + 1)
    plot_w, plot_h = w - left - right, h - top - bottom

    def px(x: float) -> float:
        return left + (math.log10(x) - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        return top + (y_hi - math.log10(y)) / (y_hi - y_lo) * plot_h

    parts = [
        f'<svg id="chart{suffix}" class="chart" viewBox="0 0 {w} {h}" width="{w}" '
        f'height="{h}" role="img" aria-label="error against step, log-log">',
        f'<rect class="frame" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>',
    ]
    for exponents, vertical in (((x_lo, x_hi), True), ((y_lo, y_hi), False)):
        lo, hi = exponents
        every = max(1, math.ceil((hi - lo) / 8))
        for e in range(lo, hi + 1):
            if vertical:
                x = _f(px(10.0**e))
                parts.append(
                    f'<line class="grid" x1="{x}" y1="{top}" x2="{x}" y2="{top + plot_h}"/>'
                )
                if (e - lo) % every == 0:
                    parts.append(
                        f'<text class="tick" x="{x}" y="{top + plot_h + 13}" '
                        f'text-anchor="middle">1e{e}</text>'
                    )
            else:
                y = _f(py(10.0**e))
                parts.append(
                    f'<line class="grid" x1="{left}" y1="{y}" x2="{left + plot_w}" y2="{y}"/>'
                )
                if (e - lo) % every == 0:
                    parts.append(
                        f'<text class="tick" x="{left - 4}" y="{y}" text-anchor="end" '
                        f'dominant-baseline="middle">1e{e}</text>'
                    )
    parts.append(
        f'<text class="axis" x="{left + plot_w / 2}" y="{top + plot_h + 27}" '
        'text-anchor="middle">step h</text>'
        f'<text class="axis" x="12" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2})">|error|</text>'
    )
    for key, step in sorted(steps.default_steps.items()):
        step = float(step)
        if not (math.isfinite(step) and 10.0**x_lo <= step <= 10.0**x_hi):
            continue
        colour = next((c for f, _, c in _CURVES if _same_method(f, key)), "#868e96")
        x = _f(px(step))
        parts.append(
            f'<line class="default" x1="{x}" y1="{top}" x2="{x}" y2="{top + plot_h}" '
            f'stroke="{colour}"><title>default step of {escape(str(key))}: {_g(step)}</title>'
            "</line>"
        )
    for field, _, colour in _CURVES:
        segments, current = [], []
        for x, e in zip(hs, curves[field]):
            if not (math.isfinite(x) and x > 0 and math.isfinite(e)):
                if current:
                    segments.append(current)
                current = []
                continue
            current.append(f"{_f(px(x))},{_f(py(max(abs(e), floor)))}")
        if current:
            segments.append(current)
        for points in segments:
            parts.append(
                f'<polyline class="curve {field}" points="{" ".join(points)}" stroke="{colour}"/>'
            )
    legend_y = h - 18
    for n, (_, label, colour) in enumerate(_CURVES):
        x = left + n * 96
        parts.append(
            f'<line x1="{x}" y1="{legend_y}" x2="{x + 16}" y2="{legend_y}" stroke="{colour}" '
            f'stroke-width="2"/><text class="tick" x="{x + 20}" y="{legend_y + 4}">{label}</text>'
        )
    note = f"against {_g(steps.exact)}" + ("; errors of 0 drawn on the floor" if has_zero else "")
    parts.append(f'<text class="tick" x="{left}" y="{h - 3}">{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _same_method(field: str, key: str) -> bool:
    key = key.lower().replace("-", "_").replace(" ", "_")
    return key == field or (field == "complex_step" and key.startswith("complex"))


# -- the page --------------------------------------------------------------------------

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#212529;
background:#f8f9fa}
header{padding:10px 16px;background:#fff;border-bottom:1px solid #dee2e6}
h1{font-size:18px;margin:0;font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace}
h2{font-size:14px;margin:14px 0 6px}
main{display:grid;grid-template-columns:minmax(0,1fr) 400px;gap:12px;padding:12px 16px}
section,aside{min-width:0}
#view{overflow:auto;max-height:62vh;background:#fff;border:1px solid #dee2e6;border-radius:6px}
#view.fit svg{width:100%;height:auto}
#controls{display:flex;gap:6px;align-items:center;margin:8px 0;flex-wrap:wrap}
button{font:inherit;padding:3px 12px;border:1px solid #adb5bd;border-radius:4px;background:#fff;
cursor:pointer}
button:disabled{opacity:.45;cursor:default}
#phase{font-weight:600;padding:2px 8px;border-radius:10px;background:#e9ecef}
#phase.forward{background:#d0ebff}#phase.backward{background:#ffdeeb}#phase.done{background:#d3f9d8}
#info{background:#fff;border:1px solid #dee2e6;border-radius:6px;padding:8px 12px}
#info dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
#info dt{color:#868e96}#info dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace}
#info-rule{font-family:ui-monospace,Menlo,Consolas,monospace;color:#495057;
overflow-wrap:anywhere}
#info-title{font-weight:600}
svg text{font:12px ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;fill:#212529}
.node{scroll-margin:24px}
.node rect{fill:#fff;stroke:#adb5bd;stroke-width:1.2}
.node.input rect{fill:#fff9db}
.node .nm{font-weight:700}.node .ex{fill:#495057}.node .val{fill:#1c7ed6}
.node.evaluated rect{fill:#e7f5ff;stroke:#74c0fc}
.node.reached rect{fill:#fff0f6;stroke:#f783ac}
.node.current rect{stroke:#212529;stroke-width:3}
.edge{fill:none;stroke:#ced4da;stroke-width:1.3;marker-end:url(#arrow)}
.edge.tangent{stroke:#1c7ed6;stroke-width:2.5;marker-end:url(#arrow-tan)}
.edge.adjoint{stroke:#c2255c;stroke-width:2.5;marker-end:url(#arrow-adj)}
.elabel{display:none;font-size:10.5px;text-anchor:middle;paint-order:stroke;stroke:#fff;
stroke-width:3px}
.elabel.on{display:inline}
table{border-collapse:collapse;background:#fff}
th,td{border:1px solid #dee2e6;padding:2px 8px;text-align:left}
td.num{text-align:right;font-family:ui-monospace,Menlo,Consolas,monospace}
tr.best td{background:#ebfbee}tr.current td{background:#fff3bf}
#rows{margin:0 16px 16px}#rows code{white-space:pre}
pre.formula{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #dee2e6;
border-radius:6px;padding:6px 10px;margin:0}
#summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0}
#summary dt{color:#868e96}#summary dd{margin:0;overflow-wrap:anywhere}
.chart{background:#fff;border:1px solid #dee2e6;border-radius:6px}
.chart .frame{fill:none;stroke:#adb5bd}.chart .grid{stroke:#f1f3f5}
.chart .curve{fill:none;stroke-width:2}.chart .default{stroke-dasharray:4 3;stroke-width:1.2}
.chart .tick{font-size:10px;fill:#495057}.chart .axis{font-size:11px}
details.derivative{margin:0 0 6px}details.derivative summary{cursor:pointer;font-weight:600}
h3{font-size:13px;margin:8px 0 4px;color:#495057}
.hint{color:#868e96;font-size:12px}
@media (max-width:900px){main{grid-template-columns:1fr}}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
<noscript><style>#controls,#info{{display:none}}</style></noscript>
</head>
<body>
<header><h1>{title}</h1></header>
<main>
<section>
<div id="view">{graph}</div>
<div id="controls">
<button id="reset" type="button" title="reset (Home)">reset</button>
<button id="back" type="button" title="back (←)">back</button>
<button id="step" type="button" title="step (→)">step</button>
<span id="phase" class="start">start</span>
<span id="counter">0 / {total}</span>
<button id="fit" type="button" title="fit the graph to the panel">fit</button>
<span class="hint">keys: → step, ← back, Home reset</span>
</div>
<div id="info">
<div id="info-title">Press step (or →) to evaluate the rows one by one.</div>
<dl>
<dt>value</dt><dd id="info-value">—</dd>
<dt>local partials</dt><dd id="info-partials">—</dd>
<dt>tangent</dt><dd id="info-tangent">—</dd>
<dt>adjoint</dt><dd id="info-adjoint">—</dd>
</dl>
<div id="info-rule"></div>
</div>
</section>
<aside>
<h2>Derivatives</h2>
{panels}
<h2>Result</h2>
{summary}
</aside>
</main>
<h2 style="margin:4px 16px 6px">All rows</h2>
{rows}
<script type="application/json" id="data">{data}</script>
<script>{script}</script>
</body>
</html>
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("data").textContent);
  var rows = D.rows, n = rows.length, last = 2 * n + 1, pos = 0;
  var byName = {}, nodes = [], trs = [], vals = [], users = [];
  rows.forEach(function (r, i) { byName[r.name] = i; users.push([]); });
  rows.forEach(function (r, j) {
    r.reads.forEach(function (name, k) { users[byName[name]].push([j, k]); });
  });
  document.querySelectorAll("#graph .node").forEach(function (g) {
    var i = +g.getAttribute("data-index") - 1;
    nodes[i] = g; vals[i] = g.querySelector(".val");
  });
  rows.forEach(function (r, i) { trs[i] = document.getElementById("row-" + r.name); });
  var edges = document.querySelectorAll("#graph .edge");
  var labels = document.querySelectorAll("#graph .elabel");
  function $(id) { return document.getElementById(id); }

  // A number with 6 significant digits, as Python's format(x, ".6g") writes it.
  function fmt(x) {
    if (typeof x === "string") return x;
    if (x === 0) return Object.is(x, -0) ? "-0" : "0";
    var s = x.toExponential(5), k = s.indexOf("e"), e = parseInt(s.slice(k + 1), 10);
    if (e < -4 || e >= 6) {
      var m = s.slice(0, k).replace(/0+$/, "").replace(/\.$/, "");
      var a = Math.abs(e);
      return m + "e" + (e < 0 ? "-" : "+") + (a < 10 ? "0" : "") + a;
    }
    var t = x.toFixed(5 - e);
    if (t.indexOf(".") >= 0) t = t.replace(/0+$/, "").replace(/\.$/, "");
    return t;
  }
  function paren(x) { var s = fmt(x); return s.charAt(0) === "-" ? "(" + s + ")" : s; }
  function d(a, b) { return "\u2202" + a + "/\u2202" + b; }

  function forwardRule(r) {
    if (r.kind === "input") return "tangent(" + r.name + ") = " + fmt(r.tangent) +
      ", the seed: the direction's component along " + r.name;
    var terms = r.reads.map(function (b) { return d(r.name, b) + "\u00b7tangent(" + b + ")"; });
    var nums = r.reads.map(function (b, k) {
      return paren(r.partials[k]) + "\u00b7" + paren(rows[byName[b]].tangent);
    });
    return "tangent(" + r.name + ") = " + (terms.join(" + ") || "0") + " = " +
      (nums.length ? nums.join(" + ") + " = " : "") + fmt(r.tangent);
  }
  function backwardRule(i) {
    var r = rows[i];
    if (r.name === D.output) return "adjoint(" + r.name + ") = 1, the seed: \u2202f/\u2202" +
      r.name + " = 1";
    var us = users[i];
    if (!us.length) return "adjoint(" + r.name + ") = 0: the output does not read it";
    var terms = us.map(function (u) {
      return "adjoint(" + rows[u[0]].name + ")\u00b7" + d(rows[u[0]].name, r.name);
    });
    var nums = us.map(function (u) {
      return paren(rows[u[0]].adjoint) + "\u00b7" + paren(rows[u[0]].partials[u[1]]);
    });
    var tail = r.kind === "input" ? " = \u2202f/\u2202" + r.name : "";
    return "adjoint(" + r.name + ") = " + terms.join(" + ") + " = " + nums.join(" + ") +
      " = " + fmt(r.adjoint) + tail;
  }
  function partialsText(r) {
    if (r.kind === "input") return "\u2014 (an input)";
    if (!r.reads.length) return "\u2014 (reads no variable)";
    return r.reads.map(function (b, k) { return d(r.name, b) + " = " + fmt(r.partials[k]); })
      .join(", ");
  }
  function title(r) {
    return "row " + r.index + ": " + (r.kind === "input"
      ? "input " + r.name + " = " + fmt(r.value) : r.name + " = " + r.expression);
  }

  function show() {
    var phase = pos === 0 ? "start" : pos <= n ? "forward" : pos <= 2 * n ? "backward" : "done";
    var cur = phase === "forward" ? pos - 1 : phase === "backward" ? 2 * n - pos : -1;
    for (var i = 0; i < n; i++) {
      var ev = pos > i, re = pos >= 2 * n - i;
      var c = nodes[i].classList;
      c.toggle("evaluated", ev && !re); c.toggle("reached", re); c.toggle("current", i === cur);
      vals[i].textContent = re ? "adj " + fmt(rows[i].adjoint) : ev ? "= " + fmt(rows[i].value)
        : "";
      if (trs[i]) trs[i].classList.toggle("current", i === cur);
    }
    for (var e = 0; e < edges.length; e++) {
      var from = +edges[e].getAttribute("data-from"), to = +edges[e].getAttribute("data-to");
      var tan = phase === "forward" && to === cur, adj = phase === "backward" && from === cur;
      edges[e].classList.toggle("tangent", tan); edges[e].classList.toggle("adjoint", adj);
      labels[e].classList.toggle("on", tan || adj);
    }
    var P = $("phase");
    P.textContent = phase; P.className = phase;
    $("counter").textContent = pos + " / " + last;
    $("back").disabled = pos === 0; $("reset").disabled = pos === 0;
    $("step").disabled = pos === last;
    var info = {title: "", value: "\u2014", partials: "\u2014", tangent: "\u2014",
                adjoint: "\u2014", rule: ""};
    if (phase === "start") {
      info.title = "Press step (or \u2192) to evaluate the rows one by one.";
      info.rule = "Forward: each row's value, its local partials and its tangent. " +
        "Backward: the adjoints, from the output back to the inputs.";
    } else if (phase === "done") {
      info.title = "done: f = " + fmt(D.value);
      info.value = fmt(D.value);
      info.tangent = fmt(D.derivative) + " (the directional derivative)";
      info.adjoint = D.variables.map(function (v) {
        return "\u2202f/\u2202" + v + " = " + fmt(D.gradient[v]);
      }).join(", ");
      info.rule = "Forward mode gave the output's tangent, the derivative along the " +
        "direction; reverse mode gave the adjoints of the inputs, the whole gradient.";
    } else {
      var r = rows[cur];
      info.title = title(r);
      info.value = fmt(r.value);
      info.partials = partialsText(r);
      info.tangent = fmt(r.tangent);
      if (phase === "forward") {
        info.rule = forwardRule(r);
      } else {
        info.adjoint = fmt(r.adjoint);
        info.rule = backwardRule(cur);
      }
      if (nodes[cur].scrollIntoView) {
        nodes[cur].scrollIntoView({block: "nearest", inline: "nearest"});
      }
    }
    for (var key in info) $("info-" + key).textContent = info[key];
  }
  function go(p) { pos = Math.max(0, Math.min(last, p)); show(); }
  $("step").addEventListener("click", function () { go(pos + 1); });
  $("back").addEventListener("click", function () { go(pos - 1); });
  $("reset").addEventListener("click", function () { go(0); });
  $("fit").addEventListener("click", function () { $("view").classList.toggle("fit"); });
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === "ArrowRight" || ev.key === "ArrowDown") go(pos + 1);
    else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") go(pos - 1);
    else if (ev.key === "Home" || ev.key === "Escape") go(0);
    else return;
    ev.preventDefault();
  });
  window.explore = {format: fmt, go: go};
  show();
})();
"""
