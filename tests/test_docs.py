"""The documentation runs: every ```python block of README.md and docs/*.md, as written.

Each block runs on its own, in a fresh namespace (it has its own imports and data), with
matplotlib on its Agg backend and a temporary working directory, so that blocks which write
files leave nothing behind. A block that imports an optional package (SciPy, scikit-learn,
PyTorch, matplotlib) is skipped, with the reason, when that package is absent. Text that is
not meant to run (shell sessions, program output) is fenced as ```bash or ```text; every
fence names its language, so no Python hides in an unlabelled block.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
LINK = re.compile(r"\]\((?P<target>[^)#\s]+)(?:#[^)]*)?\)")

# Modules (or names imported from them) that need an optional package: (import name, the
# package to install).
OPTIONAL = {
    "scipy": ("scipy", "scipy"),
    "wengert.scipy": ("scipy", "scipy"),
    "wengert.sparse": ("scipy", "scipy"),
    "wengert.optimize": ("scipy", "scipy"),
    "sklearn": ("sklearn", "scikit-learn"),
    "wengert.data.load_digits": ("sklearn", "scikit-learn"),
    "torch": ("torch", "torch"),
    "matplotlib": ("matplotlib", "matplotlib"),
    "sympy": ("sympy", "sympy"),
    "autograd": ("autograd", "autograd"),
    "dask": ("dask", "dask"),
    "cupy": ("cupy", "cupy"),
}


@dataclass(frozen=True)
class Block:
    """A fenced block of a Markdown page: its language, first line of code and text."""

    path: Path
    line: int  # 1-based line number of the block's first line of code
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown page, in order."""
    blocks = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        language = opening["info"].strip().split(" ")[0]
        body = []
        j = i + 1
        while j < len(lines) and not re.match(rf"^ *{re.escape(fence)}{fence[0]}* *$", lines[j]):
            line = lines[j]
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            j += 1
        if j == len(lines):
            raise ValueError(f"{path.relative_to(ROOT)}:{i + 1}: fence {fence} is never closed")
        blocks.append(Block(path, i + 2, language, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


BLOCKS = [b for page in PAGES for b in fenced_blocks(page)]
PYTHON = [b for b in BLOCKS if b.language == "python"]


def missing_packages(code: str) -> list[str]:
    """The optional packages that the imports of `code` need and that are not installed."""
    needed = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            for prefix, requirement in OPTIONAL.items():
                if module == prefix or module.startswith(prefix + "."):
                    needed.add(requirement)
    return sorted(pip for name, pip in needed if importlib.util.find_spec(name) is None)


def test_the_pages_have_python_blocks():
    assert len(PYTHON) >= 18
    assert {b.path.name for b in PYTHON} >= {"README.md", "guide.md", "deep_learning.md"}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_point_to_files(page):
    targets = [m["target"] for m in LINK.finditer(page.read_text())]
    missing = [t for t in targets if "://" not in t and not (page.parent / t).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to files that do not exist: {missing}"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_every_fence_names_its_language(block):
    assert block.language, (
        f"{block.id}: an unlabelled fenced block; say ```python (it then runs in the tests), "
        "```bash or ```text"
    )


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_block_runs(block, tmp_path, monkeypatch):
    missing = missing_packages(block.code)
    if missing:
        pytest.skip(f"{block.id} needs {', '.join(missing)} (pip install {' '.join(missing)})")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if importlib.util.find_spec("matplotlib") is not None:
        import matplotlib

        matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    # Blank lines in front keep the line numbers of tracebacks those of the page.
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, str(block.path), "exec")
    exec(code, {"__name__": "__docs__"})
