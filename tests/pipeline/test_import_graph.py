"""The pipeline's modules import each other without cycles, and its light
modules load no heavy library.

The graph is read from the source with ``ast`` (nothing is imported), with
every import: at module level, inside functions, and under ``TYPE_CHECKING``.
A cycle held together by a function-level import is still a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import converter.pipeline

PACKAGE = "converter.pipeline"
ROOT = Path(converter.pipeline.__file__).parent
REPO = ROOT.parent.parent
# What a web process imports: none of these may load MoviePy (nor, through
# it, the encoders' imports).
LIGHT = (
    "hls",
    "formats",
    "errors",
    "limits",
    "encoding",
    "workdir",
    "allowlist",
    "geometry",
    "sandbox",  # imported by every process at start-up (converter.apps)
)


def modules() -> dict[str, Path]:
    return {path.stem: path for path in sorted(ROOT.glob("*.py"))}


def imported(tree: ast.AST, names: set[str]) -> set[str]:
    """The modules of the package that ``tree`` imports ("__init__" for the
    package itself)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= _target(alias.name.split("."), names)
        elif isinstance(node, ast.ImportFrom):
            if node.level > 1:
                continue  # outside the package
            base = (node.module or "").split(".") if node.module else []
            if node.level == 0:
                if base[:2] != PACKAGE.split("."):
                    continue
                base = base[2:]
            if base:
                found |= _target(base, names)
            else:  # from . import a, b: modules, or names of the package itself
                for alias in node.names:
                    found.add(alias.name if alias.name in names else "__init__")
    return found


def _target(parts: list[str], names: set[str]) -> set[str]:
    if parts[: len(PACKAGE.split("."))] == PACKAGE.split("."):
        parts = parts[len(PACKAGE.split(".")) :]
    if not parts:
        return {"__init__"}
    return {parts[0]} if parts[0] in names else set()


def graph() -> dict[str, set[str]]:
    found = modules()
    names = set(found)
    return {name: imported(ast.parse(path.read_text()), names) for name, path in found.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            cycle = visit(nxt)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(edges):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def test_the_graph_sees_function_level_imports():
    tree = ast.parse("def f():\n    from .waveform import CANVAS\n")
    assert imported(tree, {"waveform", "probe"}) == {"waveform"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_pipeline_modules_import_each_other_without_a_cycle():
    edges = graph()
    assert {"convert", "probe", "ffmpeg", "sample", "waveform"} <= set(edges)
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_package_itself_imports_nothing():
    assert graph()["__init__"] == set()


@pytest.mark.parametrize("name", LIGHT)
def test_a_light_module_does_not_load_moviepy(name):
    code = (
        "import sys\n"
        f"import {PACKAGE}.{name}\n"
        "heavy = sorted(m for m in ('moviepy', 'imagequant', 'av') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"{PACKAGE}.{name} loads {out.stdout.strip()}"
