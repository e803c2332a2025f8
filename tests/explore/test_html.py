"""The explorer page: its static markup (parsed without a browser) and its behaviour in a
headless Chromium (stepping forward through values and tangents, backward through
adjoints), on a one-variable rational, a three-variable function and a 2-3-1 network."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
from dataclasses import asdict
from html.parser import HTMLParser
from pathlib import Path

import numpy as onp
import pytest

import wengert.numpy as np
from wengert.explore.html import page, write_page
from wengert.explore.steps import step_errors
from wengert.explore.trace import Trace, TraceRow, trace

CHROMIUM = "/usr/bin/chromium"


# -- the functions ---------------------------------------------------------------------


def rational(x):
    return 1 / (x**2 + 1)


def three(x, y, z):
    return np.exp(x * y) / z - np.log(z) * y + np.tanh(x) ** 3


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def network(*w):
    """Squared error of a 2-3-1 network with sigmoid units on one fixed example: 6 hidden
    weights and 3 hidden biases, then 3 output weights and 1 output bias (13 in all)."""
    x1, x2, target = 0.5, -1.0, 0.25
    hidden = [sigmoid(w[3 * j] * x1 + w[3 * j + 1] * x2 + w[3 * j + 2]) for j in range(3)]
    out = sigmoid(w[9] * hidden[0] + w[10] * hidden[1] + w[11] * hidden[2] + w[12])
    return (out - target) ** 2


def make_trace(case: str) -> Trace:
    if case == "rational":
        return trace(rational, {"x": 3.0})
    if case == "three":
        return trace(three, {"x": 0.3, "y": -0.7, "z": 1.5}, {"x": 1.0, "y": 2.0, "z": -1.0})
    weights = onp.random.default_rng(0).normal(size=13)
    return trace(network, {f"w{i}": float(v) for i, v in enumerate(weights)})


CASES = ["rational", "three", "network"]


@pytest.fixture(scope="module")
def traces() -> dict[str, Trace]:
    return {case: make_trace(case) for case in CASES}


@pytest.fixture(scope="module")
def steps():
    return step_errors(rational, 3.0, -0.06)


ESTIMATES = [
    ("symbolic", -0.06, 0.0),
    ("forward difference", -0.0600000010306, 1.0306e-09),
    ("central difference", -0.0600000000032619, 3.2619e-12),
    ("reverse AD", -0.06, None),
]


def full_page(t: Trace, steps=None) -> str:
    return page(
        t, title="f(x) = 1/(x**2+1)", formula="-2*x/(x**2 + 1)**2", estimates=ESTIMATES, steps=steps
    )


def g6(x: float) -> str:
    return f"{x:.6g}"


# -- a small DOM from html.parser --------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Element | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()


class Tree(HTMLParser):
    """The page as a tree, failing on any end tag that does not close the open element,
    so that text breaking out of its element is caught."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.open = self.root
        self.feed(text)
        self.close()
        assert self.open is self.root, f"unclosed <{self.open.tag}>"

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.open)
        self.open.children.append(element)
        if tag not in VOID:
            self.open = element

    def handle_startendtag(self, tag, attrs):
        self.open.children.append(Element(tag, dict(attrs), self.open))

    def handle_endtag(self, tag):
        assert tag == self.open.tag, f"</{tag}> closes <{self.open.tag}>"
        self.open = self.open.parent

    def handle_data(self, data):
        self.open.children.append(data)

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [
            e
            for e in self.root.iter()
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
        ]

    def by_id(self, id_: str) -> Element:
        found = [e for e in self.root.iter() if e.attrs.get("id") == id_]
        assert len(found) == 1, f"{len(found)} elements with id {id_!r}"
        return found[0]


def page_data(tree: Tree) -> dict:
    script = tree.by_id("data")
    assert script.tag == "script" and script.attrs["type"] == "application/json"
    return json.loads(script.text())


def expected_data(t: Trace) -> dict:
    def number(x):
        return x if math.isfinite(x) else str(x)

    rows = []
    for r in t.rows:
        item = asdict(r)
        item.update(
            value=number(r.value),
            tangent=number(r.tangent),
            adjoint=number(r.adjoint),
            partials=[number(p) for p in r.partials],
        )
        rows.append(item)
    return {
        "variables": t.variables,
        "point": {k: number(v) for k, v in t.point.items()},
        "direction": {k: number(v) for k, v in t.direction.items()},
        "output": t.output,
        "value": number(t.value),
        "derivative": number(t.derivative),
        "gradient": {k: number(v) for k, v in t.gradient.items()},
        "rows": rows,
    }


def translate(node: Element) -> tuple[float, float]:
    x, y = re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", node.attrs["transform"]).groups()
    return float(x), float(y)


# -- static checks -----------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_page_parses_with_one_node_per_row(traces, case):
    t = traces[case]
    tree = Tree(full_page(t))
    nodes = tree.all("g", "node")
    assert [n.attrs["id"] for n in nodes] == [f"node-{r.name}" for r in t.rows]
    assert [int(n.attrs["data-index"]) for n in nodes] == [r.index for r in t.rows]
    for node, row in zip(nodes, t.rows):
        assert row.kind in node.classes
        texts = [e.text() for e in node.iter() if e.tag == "text"]
        assert texts[0] == row.name
        assert texts[2] == f"= {g6(row.value)}"
    edges = tree.all("path", "edge")
    assert len(edges) == sum(len(r.reads) for r in t.rows)
    for id_ in ("step", "back", "reset"):
        assert tree.by_id(id_).tag == "button"
    assert tree.by_id("phase").text() == "start"
    for id_ in ("info", "formula", "estimates", "chart", "rows"):
        tree.by_id(id_)


@pytest.mark.parametrize("case", CASES)
def test_edges_run_left_to_right_by_depth(traces, case):
    t = traces[case]
    tree = Tree(full_page(t))
    x = [translate(n)[0] for n in tree.all("g", "node")]
    position = {r.name: i for i, r in enumerate(t.rows)}
    depth: list[int] = []
    for r in t.rows:
        depth.append(1 + max((depth[position[n]] for n in r.reads), default=-1))
    for i, j in ((i, j) for i in range(len(x)) for j in range(len(x))):
        assert (x[i] < x[j]) == (depth[i] < depth[j]), (t.rows[i].name, t.rows[j].name)
    for edge in tree.all("path", "edge"):
        i, j = int(edge.attrs["data-from"]), int(edge.attrs["data-to"])
        assert t.rows[i].name in t.rows[j].reads
        assert x[i] < x[j]
    # Nodes of one layer do not overlap.
    corners = [translate(n) for n in tree.all("g", "node")]
    for i in range(len(corners)):
        for j in range(i):
            if corners[i][0] == corners[j][0]:
                assert abs(corners[i][1] - corners[j][1]) >= 48


@pytest.mark.parametrize("case", CASES)
def test_page_makes_no_network_reference(traces, steps, case):
    text = full_page(traces[case], steps)
    tree = Tree(text)
    assert "http://" not in text and "https://" not in text
    for element in tree.root.iter():
        assert element.tag not in {"link", "img", "iframe", "object", "embed", "base"}
        assert not {"src", "href", "srcset", "xlink:href", "action"} & set(element.attrs)
    for script in tree.all("script"):
        assert "src" not in script.attrs
        assert not re.search(r"\b(fetch|XMLHttpRequest|import\(|WebSocket)\b", script.text())
    css = "".join(e.text() for e in tree.all("style"))
    assert "@import" not in css and "@font-face" not in css
    assert re.findall(r"url\(([^)]*)\)", css) and all(
        u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", css)
    )
    policy = [e for e in tree.all("meta") if e.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert len(policy) == 1 and "default-src 'none'" in policy[0].attrs["content"]


@pytest.mark.parametrize("case", CASES)
def test_json_data_round_trips(traces, case):
    t = traces[case]
    assert page_data(Tree(full_page(t))) == expected_data(t)


def nasty_trace() -> Trace:
    """A hand-made trace whose texts try to break out of every context they land in."""
    x = TraceRow(1, "x", "input", "x", "", [], 2.0, [], 1.0, math.inf)
    v1 = TraceRow(
        2, "v1", "op", "a < b && c </script><b>bold</b>", "lt", ["x"], math.nan, [-0.5], 1.0, 1.0
    )
    v2 = TraceRow(3, "v2", "op", "'q\" <!-- x -->", "add", ["v1", "x"], 1e-7, [1.0, 2.0], 3.0, 1.0)
    return Trace(["x"], {"x": 2.0}, {"x": 1.0}, [x, v1, v2], "v2", 1e-7, 3.0, {"x": math.inf})


def test_text_is_escaped_everywhere():
    t = nasty_trace()
    title = "<script>alert(1)</script> & </title>"
    formula = "x < 1 && y > 2 </pre>"
    estimates = [("<i>method</i> & co", 1.0, None)]
    text = page(t, title=title, formula=formula, estimates=estimates)
    tree = Tree(text)  # every end tag closes the open element: nothing broke out
    assert not tree.all("b") and not tree.all("i")
    assert len(tree.all("script")) == 2
    assert tree.all("title")[0].text() == title
    assert tree.all("h1")[0].text() == title
    assert tree.by_id("formula").text() == formula
    assert "<i>method</i> & co" in tree.by_id("estimates").text()
    node = tree.by_id("node-v1")
    assert [e.text() for e in node.iter() if e.tag == "title"] == [f"v1 = {t.rows[1].expression}"]
    label = [e.text() for e in node.iter() if e.tag == "text"][1]
    assert t.rows[1].expression.startswith(label.rstrip("…"))
    assert t.rows[1].expression in tree.by_id("row-v1").text()
    data_text = tree.by_id("data").text()
    assert "</" not in data_text and "<!--" not in data_text
    data = json.loads(data_text)
    assert data == expected_data(t)
    assert data["rows"][1]["value"] == "nan" and data["gradient"]["x"] == "inf"


def test_numbers_in_the_static_table_have_six_significant_digits(traces):
    t = traces["network"]
    tree = Tree(full_page(t))
    for row in t.rows:
        cells = [c.text() for c in tree.by_id(f"row-{row.name}").children if isinstance(c, Element)]
        assert cells[0] == str(row.index) and cells[1] == row.name
        assert cells[3] == g6(row.value)
        assert cells[5] == g6(row.tangent) and cells[6] == g6(row.adjoint)
        for read, p in zip(row.reads, row.partials):
            assert f"∂{row.name}/∂{read} = {g6(p)}" in cells[4]
    summary = tree.by_id("summary").text()
    for name in t.variables:
        assert f"∂f/∂{name} = {g6(t.gradient[name])}" in summary


def test_formula_estimates_and_chart(traces, steps):
    tree = Tree(full_page(traces["rational"], steps))
    assert tree.by_id("formula").text() == "-2*x/(x**2 + 1)**2"
    body = [r for r in tree.by_id("estimates").iter() if r.tag == "tr"][1:]
    cells = [[c.text() for c in r.children if isinstance(c, Element)] for r in body]
    assert cells == [[m, g6(v), "—" if e is None else g6(e)] for m, v, e in ESTIMATES]
    assert [("best" in r.classes) for r in body] == [True, False, False, False]

    chart = tree.by_id("chart")
    assert chart.tag == "svg"
    # html.parser lowers attribute names: viewBox is "viewbox" here.
    _, _, width, height = map(float, chart.attrs["viewbox"].split())
    for field in ("forward", "central", "complex_step"):
        curves = [e for e in chart.iter() if e.tag == "polyline" and field in e.classes]
        points = [
            tuple(map(float, p.split(","))) for c in curves for p in c.attrs["points"].split()
        ]
        errors = getattr(steps, field)
        assert len(points) == int(onp.isfinite(errors).sum()) > 20
        xs = [p[0] for p in points]
        assert xs == sorted(xs, reverse=True)  # steps decrease: right to left
        assert all(0 <= x <= width and 0 <= y <= height for x, y in points)
    # Log-log axes: the forward difference's truncation error ~ h |f''| / 2 at large steps
    # rises one decade per decade of h (screen y grows downward, so the error's rise is
    # y0 - y1 with the larger step first).
    ticks = [e for e in chart.iter() if e.tag == "line" and "grid" in e.classes]
    vertical = sorted(float(e.attrs["x1"]) for e in ticks if e.attrs["x1"] == e.attrs["x2"])
    horizontal = sorted(float(e.attrs["y1"]) for e in ticks if e.attrs["y1"] == e.attrs["y2"])
    x_decade, y_decade = vertical[1] - vertical[0], horizontal[1] - horizontal[0]
    (forward,) = [e for e in chart.iter() if e.tag == "polyline" and "forward" in e.classes]
    points = [tuple(map(float, p.split(","))) for p in forward.attrs["points"].split()]
    (x0, y0), (x1, y1) = points[2], points[3]
    assert steps.steps[2] > steps.steps[3] and x0 > x1
    slope = ((y1 - y0) / y_decade) / ((x0 - x1) / x_decade)
    assert slope == pytest.approx(1.0, abs=0.1)
    assert "no error-vs-step" in Tree(full_page(traces["rational"])).by_id("chart").text()


def test_write_page_writes_the_page(traces, tmp_path):
    path = tmp_path / "f.html"
    write_page(path, traces["three"], title="three", formula="d", estimates=ESTIMATES)
    expected = page(traces["three"], title="three", formula="d", estimates=ESTIMATES)
    assert path.read_bytes() == expected.encode("utf-8")


def test_page_of_the_network_stays_light(traces, steps):
    t = traces["network"]
    assert len(t.rows) == 49 and len(t.variables) == 13
    size = len(full_page(t, steps).encode("utf-8"))
    assert 20_000 < size < 90_000


def test_a_row_reading_a_later_row_is_refused():
    t = make_trace("rational")
    t.rows[1].reads = ["v3"]
    with pytest.raises(ValueError, match="v1 reads 'v3'"):
        page(t, title="bad")


def test_wengert_diff_writes_the_page(tmp_path, capsys):
    from wengert.cli import main

    path = tmp_path / "f.html"
    assert main(["diff", "1/(x**2+1)", "--at", "x=3", "--html", str(path)]) == 0
    tree = Tree(path.read_text(encoding="utf-8"))
    assert len(tree.all("g", "node")) == 4
    assert "x" in tree.by_id("formula").text()
    assert len([e for e in tree.by_id("chart").iter() if e.tag == "polyline"]) >= 3
    values = [r for r in tree.by_id("estimates").iter() if r.tag == "tr"][1:]
    assert values and all("-0.06" in r.text() for r in values)


# -- in a browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser tests need the playwright package"
    )
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        pytest.skip(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class Loaded:
    """A page opened from a file, recording console errors, page errors and requests."""

    def __init__(self, browser, path: Path, viewport=(1200, 800)):
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())

    def state(self) -> dict:
        return self.page.evaluate(
            """() => ({
              phase: document.getElementById("phase").textContent,
              current: [...document.querySelectorAll(".node.current")].map(e => e.id),
              currentRows: [...document.querySelectorAll("#rows tr.current")].map(e => e.id),
              info: Object.fromEntries(["title", "value", "partials", "tangent", "adjoint",
                "rule"].map(k => [k, document.getElementById("info-" + k).textContent])),
              tangentEdges: [...document.querySelectorAll(".edge.tangent")]
                .map(e => [+e.dataset.from, +e.dataset.to]),
              adjointEdges: [...document.querySelectorAll(".edge.adjoint")]
                .map(e => [+e.dataset.from, +e.dataset.to]),
              evaluated: document.querySelectorAll(".node.evaluated").length,
              reached: document.querySelectorAll(".node.reached").length,
              step: document.getElementById("step").disabled,
              back: document.getElementById("back").disabled,
            })"""
        )

    def close(self) -> list[str]:
        self.page.close()
        return self.problems


def open_page(browser, tmp_path, t: Trace, steps=None, **viewport) -> Loaded:
    path = tmp_path / "page.html"
    path.write_text(full_page(t, steps), encoding="utf-8")
    return Loaded(browser, path, **viewport)


@pytest.mark.parametrize("case", CASES)
def test_stepping_follows_the_evaluation_then_the_adjoints(browser, tmp_path, traces, steps, case):
    t = traces[case]
    rows, n = t.rows, len(t.rows)
    position = {r.name: i for i, r in enumerate(rows)}
    loaded = open_page(browser, tmp_path, t, steps if case == "rational" else None)
    page_ = loaded.page
    assert page_.locator(".node").count() == n
    state = loaded.state()
    assert state["phase"] == "start" and state["current"] == [] and state["back"]

    for k, row in enumerate(rows):
        page_.click("#step")
        state = loaded.state()
        assert state["phase"] == "forward"
        assert state["current"] == [f"node-{row.name}"]
        assert state["currentRows"] == [f"row-{row.name}"]
        info = state["info"]
        assert info["value"] == g6(row.value)
        assert info["tangent"] == g6(row.tangent)
        assert info["adjoint"] == "—"
        assert info["title"].startswith(f"row {row.index}: ")
        for read, p in zip(row.reads, row.partials):
            assert f"∂{row.name}/∂{read} = {g6(p)}" in info["partials"]
        assert info["rule"].startswith(f"tangent({row.name}) = ")
        assert info["rule"].endswith(g6(row.tangent)) or row.kind == "input"
        assert sorted(state["tangentEdges"]) == sorted([position[r], k] for r in row.reads)
        assert state["adjointEdges"] == [] and state["evaluated"] == k + 1

    for k, row in enumerate(reversed(rows)):
        page_.click("#step")
        state = loaded.state()
        assert state["phase"] == "backward"
        assert state["current"] == [f"node-{row.name}"]
        info = state["info"]
        assert info["adjoint"] == g6(row.adjoint)
        assert info["value"] == g6(row.value)
        assert info["rule"].startswith(f"adjoint({row.name}) = ")
        i = position[row.name]
        users = sorted([j, i] for j, r in enumerate(rows) if row.name in r.reads)
        assert sorted([b, a] for a, b in state["adjointEdges"]) == users
        assert all(a == i for a, _ in state["adjointEdges"])
        assert state["tangentEdges"] == [] and state["reached"] == k + 1

    page_.click("#step")
    state = loaded.state()
    assert state["phase"] == "done" and state["current"] == [] and state["step"]
    assert state["info"]["value"] == g6(t.value)
    for name in t.variables:
        assert f"∂f/∂{name} = {g6(t.gradient[name])}" in state["info"]["adjoint"]
    page_.click("#step", force=True)  # disabled: nothing changes
    assert loaded.state()["phase"] == "done"

    page_.click("#back")
    state = loaded.state()
    assert state["phase"] == "backward" and state["current"] == [f"node-{rows[0].name}"]
    page_.click("#reset")
    state = loaded.state()
    assert state["phase"] == "start" and state["current"] == [] and state["evaluated"] == 0

    assert loaded.close() == []
    assert all(url.startswith("file://") for url in loaded.requests), loaded.requests


def test_keyboard_steps_back_and_resets(browser, tmp_path, traces):
    t = traces["three"]
    loaded = open_page(browser, tmp_path, t)
    keyboard = loaded.page.keyboard
    keyboard.press("ArrowRight")
    keyboard.press("ArrowRight")
    assert loaded.state()["current"] == [f"node-{t.rows[1].name}"]
    keyboard.press("ArrowLeft")
    assert loaded.state()["current"] == [f"node-{t.rows[0].name}"]
    for _ in range(len(t.rows)):  # from row 1 through the rest, then the output's adjoint
        keyboard.press("ArrowRight")
    state = loaded.state()
    assert state["phase"] == "backward" and state["current"] == [f"node-{t.rows[-1].name}"]
    keyboard.press("Home")
    assert loaded.state()["phase"] == "start"
    loaded.page.click("#fit")
    assert "fit" in loaded.page.get_attribute("#view", "class")
    assert loaded.close() == []


def test_the_page_formats_numbers_as_python_does(browser, tmp_path, traces):
    rng = onp.random.default_rng(1)
    numbers = [0.1, -0.06, 3.0, 1e-5, 1.23456789e-5, 0.0001, 0.000123456789, 123456.7]
    numbers += [
        999999.5,
        1234567.0,
        100000.0,
        1e16,
        1e21,
        -2.5e-300,
        5e-324,
        1.7976931348623157e308,
    ]
    numbers += [0.0, -0.0, 9.9999949, 9.9999951, -1e-4, 12345.65]
    numbers += list(rng.standard_normal(100) * 10.0 ** rng.integers(-12, 12, 100))
    numbers = [float(x) for x in numbers]
    loaded = open_page(browser, tmp_path, traces["rational"])
    shown = loaded.page.evaluate("xs => xs.map(window.explore.format)", numbers)
    assert shown == [g6(x) for x in numbers]
    assert loaded.page.evaluate("window.explore.format('nan')") == "nan"
    assert loaded.close() == []


def test_non_finite_values_are_shown_as_such(browser, tmp_path):
    t = nasty_trace()
    loaded = open_page(browser, tmp_path, t)
    loaded.page.click("#step")
    loaded.page.click("#step")
    state = loaded.state()
    assert state["current"] == ["node-v1"] and state["info"]["value"] == "nan"
    loaded.page.evaluate("window.explore.go(6)")
    assert loaded.state()["info"]["adjoint"] == "inf"
    assert loaded.close() == []


def test_screenshot_is_a_drawn_page_of_the_viewport_size(browser, tmp_path, traces, steps):
    image = pytest.importorskip("PIL.Image", reason="reading the screenshot needs Pillow")
    loaded = open_page(browser, tmp_path, traces["network"], steps, viewport=(1200, 800))
    for _ in range(20):
        loaded.page.click("#step")
    png = loaded.page.screenshot()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    picture = image.open(io.BytesIO(png)).convert("RGB")
    assert picture.size == (1200, 800)
    colours = picture.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # text, nodes, edges, buttons: far from one flat colour
    # The current node's frame is drawn in the page's darkest ink, somewhere on screen.
    assert min(sum(rgb) for _, rgb in colours) < 150
    assert loaded.close() == []


def _diff_page(tmp_path, *arguments) -> Tree:
    from wengert.cli import main

    path = tmp_path / "f.html"
    assert main(["diff", *arguments, "--html", str(path)]) == 0
    return Tree(path.read_text(encoding="utf-8"))


def test_every_partial_has_its_panel_formula_estimates_and_chart(tmp_path, capsys):
    tree = _diff_page(tmp_path, "sin(x)*exp(-y)", "--at", "x=0.5,y=1")
    panels = tree.all("details", "derivative")
    assert [p.children[0].text() for p in panels] == ["df/dx", "df/dy"]
    assert "open" in panels[0].attrs and "open" not in panels[1].attrs
    assert tree.by_id("formula").text() == "exp(-y)*cos(x)"
    assert tree.by_id("formula-1").text() == "-sin(x)*exp(-y)"
    exact = {"": math.exp(-1) * math.cos(0.5), "-1": -math.exp(-1) * math.sin(0.5)}
    for key, value in exact.items():
        rows = [r for r in tree.by_id(f"estimates{key}").iter() if r.tag == "tr"][1:]
        assert len(rows) == 7
        for r in rows:
            cells = [c.text() for c in r.children if isinstance(c, Element)]
            assert float(cells[1]) == pytest.approx(value, rel=1e-5)
        chart = tree.by_id(f"chart{key}")
        assert len([e for e in chart.iter() if e.tag == "polyline"]) >= 3


def test_second_derivatives_get_panels_and_the_charts_follow(tmp_path, capsys):
    tree = _diff_page(tmp_path, "sin(x)*exp(-y)", "--at", "x=0.5,y=1", "--order", "2")
    labels = [p.children[0].text() for p in tree.all("details", "derivative")]
    assert labels[:3] == ["d2f/dx2", "d2f/dxdy", "d2f/dy2"]
    assert labels[3:] == ["error against step of df/dx", "error against step of df/dy"]
    assert tree.by_id("formula").text() == "-sin(x)*exp(-y)"
    assert tree.by_id("chart-3").tag == "svg"
    assert not [e for e in tree.all() if e.attrs.get("id") == "formula-3"]


def test_the_network_page_has_a_panel_per_weight_and_stays_light(tmp_path, capsys):
    from wengert.cli import main

    path = tmp_path / "net.html"
    assert main(["diff", "--example", "net13", "--html", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert len(Tree(text).all("details", "derivative")) == 13
    assert len(text.encode("utf-8")) < 250_000


def test_panels_open_and_show_their_chart_in_the_browser(browser, tmp_path, capsys):
    from wengert.cli import main

    path = tmp_path / "f.html"
    assert main(["diff", "sin(x)*exp(-y)", "--at", "x=0.5,y=1", "--html", str(path)]) == 0
    loaded = Loaded(browser, path)
    page_ = loaded.page
    assert page_.locator("#chart").is_visible() and not page_.locator("#chart-1").is_visible()
    page_.click("#panel-1 > summary")
    assert page_.locator("#chart-1").is_visible()
    assert page_.locator("#formula-1").inner_text() == "-sin(x)*exp(-y)"
    assert loaded.close() == []


def _pixels(picture, box):
    """The colours inside an element's bounding box on the screenshot."""
    left, top = int(box["x"]) + 2, int(box["y"]) + 2
    right, bottom = int(box["x"] + box["width"]) - 2, int(box["y"] + box["height"]) - 2
    region = picture.crop((left, top, right, bottom))
    return {rgb for _, rgb in region.getcolors(maxcolors=1 << 20)}


def test_screenshot_shows_the_highlights_where_the_nodes_are(browser, tmp_path, traces):
    image = pytest.importorskip("PIL.Image", reason="reading the screenshot needs Pillow")
    loaded = open_page(browser, tmp_path, traces["rational"], viewport=(1200, 800))
    page_ = loaded.page
    evaluated_fill, reached_fill = (231, 245, 255), (255, 240, 246)  # #e7f5ff, #fff0f6
    for _ in range(2):
        page_.click("#step")
    picture = image.open(io.BytesIO(page_.screenshot())).convert("RGB")
    current = page_.locator(".node.current").bounding_box()
    assert evaluated_fill in _pixels(picture, current)
    untouched = page_.locator(".node:not(.evaluated)").first.bounding_box()
    assert evaluated_fill not in _pixels(picture, untouched)
    for _ in range(len(traces["rational"].rows) + 2):
        page_.click("#step")
    picture = image.open(io.BytesIO(page_.screenshot())).convert("RGB")
    assert reached_fill in _pixels(picture, page_.locator(".node.current").bounding_box())
    assert loaded.close() == []
