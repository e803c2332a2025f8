"""The coverage table: every function of wengert's NumPy and SciPy namespaces, whether it
has reverse and forward rules, and which test files exercise it.

Run ``python -m wengert.coverage`` (add ``--markdown`` for a docs page). When HIPS autograd
is installed, a column says whether autograd differentiates the same function, and a
summary lists any that wengert lacks.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ._core.primitive import Primitive

# (wengert namespace, the NumPy/SciPy namespace it mirrors, the HIPS autograd one)
NAMESPACES = (
    ("wengert.numpy", "numpy", "autograd.numpy"),
    ("wengert.numpy.linalg", "numpy.linalg", "autograd.numpy.linalg"),
    ("wengert.numpy.fft", "numpy.fft", "autograd.numpy.fft"),
    ("wengert.scipy.special", "scipy.special", "autograd.scipy.special"),
    ("wengert.scipy.linalg", "scipy.linalg", "autograd.scipy.linalg"),
    ("wengert.scipy.signal", "scipy.signal", "autograd.scipy.signal"),
    ("wengert.scipy.stats", "scipy.stats", "autograd.scipy.stats"),
)


@dataclass
class Row:
    """One function of a namespace and what wengert knows about its derivative."""

    namespace: str
    name: str
    kind: str  # "primitive", "composite", "no derivative"
    reverse: bool
    forward: bool
    tests: tuple[str, ...]
    in_autograd: bool | None


def _import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _classify(obj) -> tuple[str, bool, bool]:
    if isinstance(obj, Primitive):
        has_rev = bool(obj.vjp_all or any(obj.vjp_rules))
        has_fwd = bool(obj.jvp_all or any(obj.jvp_rules))
        return "primitive", has_rev, has_fwd
    if getattr(obj, "nondifferentiable", False):
        return "no derivative", False, False
    # Python functions built from primitives get both rules from them.
    return "composite", True, True


def _autograd_names(module_name: str, mirror: str) -> set[str] | None:
    """Names of the `mirror` namespace that autograd can differentiate, if installed.

    Only names that the mirrored NumPy/SciPy namespace has count (autograd's own helpers
    do not).
    """
    core = _import("autograd.core")
    module = _import(module_name)
    reference = _import(mirror)
    if core is None or module is None or reference is None:
        return None
    vjps = core.primitive_vjps
    names = set()
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or not callable(obj) or not hasattr(reference, name):
            continue
        try:
            if obj in vjps:
                names.add(name)
        except TypeError:
            continue
    if module_name == "autograd.scipy.stats":
        for sub in (
            "norm",
            "t",
            "gamma",
            "beta",
            "poisson",
            "chi2",
            "dirichlet",
            "multivariate_normal",
        ):
            dist = getattr(module, sub, None)
            for fn in dir(dist) if dist is not None else ():
                if fn in DISTRIBUTION_FUNCTIONS and getattr(dist, fn) in vjps:
                    names.add(f"{sub}.{fn}")
    return names


def _public_names(module: ModuleType) -> Iterator[tuple[str, object]]:
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    for name in sorted(names):
        obj = getattr(module, name, None)
        if callable(obj) and not isinstance(obj, type) and not isinstance(obj, ModuleType):
            yield name, obj
        elif obj is not None and not isinstance(obj, type) and _is_distribution(obj):
            for fn in DISTRIBUTION_FUNCTIONS:
                if callable(getattr(obj, fn, None)):
                    yield f"{name}.{fn}", getattr(obj, fn)


DISTRIBUTION_FUNCTIONS = (
    "logpdf",
    "pdf",
    "cdf",
    "logcdf",
    "sf",
    "logsf",
    "pmf",
    "logpmf",
    "ppf",
    "entropy",
)


def _is_distribution(obj) -> bool:
    return hasattr(obj, "logpdf") or hasattr(obj, "logpmf")


def _test_index(tests_dir: Path | None) -> dict[str, set[str]]:
    """The identifiers named in each test file."""
    if tests_dir is None or not tests_dir.is_dir():
        return {}
    return {
        str(p.relative_to(tests_dir.parent)): set(re.findall(r"\w+", p.read_text()))
        for p in sorted(tests_dir.rglob("test_*.py"))
    }


def collect(tests_dir: Path | None = None) -> list[Row]:
    """The rows of the table for every namespace that imports here."""
    if tests_dir is None:
        guess = Path(__file__).resolve().parents[2] / "tests"
        tests_dir = guess if guess.is_dir() else None
    sources = _test_index(tests_dir)
    rows = []
    for ns, mirror, ag_ns in NAMESPACES:
        module = _import(ns)
        if module is None:
            continue
        ag = _autograd_names(ag_ns, mirror)
        entries = list(_public_names(module))
        # Aliases (the same function under two names) share their tests.
        names_of: dict[int, list[str]] = {}
        for name, obj in entries:
            names_of.setdefault(id(obj), []).append(name)
        for name, obj in entries:
            kind, rev, fwd = _classify(obj)
            tests = set()
            for alias in names_of[id(obj)]:
                # A dotted name (norm.logpdf) counts where each part is named.
                parts = alias.split(".")
                tests |= {f for f, words in sources.items() if all(p in words for p in parts)}
            rows.append(
                Row(
                    ns,
                    name,
                    kind,
                    rev,
                    fwd,
                    tuple(sorted(tests)),
                    None if ag is None else name in ag,
                )
            )
    return rows


def missing_from_autograd(rows: list[Row]) -> list[str]:
    """Functions HIPS autograd differentiates that wengert does not (needs autograd)."""
    have = {(r.namespace, r.name) for r in rows if r.reverse and r.forward}
    missing = []
    for ns, mirror, ag_ns in NAMESPACES:
        ag = _autograd_names(ag_ns, mirror)
        if ag is None or _import(ns) is None:
            continue
        missing += [
            f"{ns}.{n}" for n in sorted(ag) if (ns, n) not in have and not n.startswith("_")
        ]
    return missing


def render(rows: list[Row], markdown: bool = False) -> str:
    """The table as text, with counts at the end."""
    yes = lambda b: "yes" if b else "-"
    lines = []
    header = ("function", "kind", "reverse", "forward", "tests", "HIPS autograd")
    if markdown:
        lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    else:
        lines.append(
            f"{header[0]:44} {header[1]:14} {header[2]:8} {header[3]:8} {header[5]:14} tests"
        )
    for r in rows:
        ag = "?" if r.in_autograd is None else yes(r.in_autograd)
        tests = ", ".join(r.tests) if r.tests else "-"
        full = f"{r.namespace}.{r.name}"
        if markdown:
            lines.append(
                f"| `{full}` | {r.kind} | {yes(r.reverse)} | {yes(r.forward)} | {tests} | {ag} |"
            )
        else:
            lines.append(
                f"{full:44} {r.kind:14} {yes(r.reverse):8} {yes(r.forward):8} {ag:14} {tests}"
            )
    diff = [r for r in rows if r.kind != "no derivative"]
    both = [r for r in diff if r.reverse and r.forward]
    untested = [f"{r.namespace}.{r.name}" for r in diff if not r.tests]
    lines += [
        "",
        f"{len(rows)} functions: {len(diff)} differentiable ({len(both)} with both rules), "
        f"{len(rows) - len(diff)} passed through without derivative.",
    ]
    if untested:
        lines.append(f"differentiable but named in no test file: {', '.join(untested)}")
    missing = missing_from_autograd(rows)
    if any(r.in_autograd is not None for r in rows):
        covered = sum(1 for r in rows if r.in_autograd and r.reverse and r.forward)
        constant = [f"{r.namespace}.{r.name}" for r in rows if r.in_autograd and not r.reverse]
        missing = [m for m in missing if m not in constant]
        lines.append(
            f"HIPS autograd differentiates {covered + len(constant) + len(missing)} of these "
            f"names; wengert covers {covered} of them with both rules and passes "
            f"{len(constant)} through as piecewise constant (derivative 0: "
            f"{', '.join(constant) or 'none'}); missing: {', '.join(missing) or 'none'}."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the coverage table."""
    parser = argparse.ArgumentParser(prog="python -m wengert.coverage", description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    print(render(collect(), markdown=args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
