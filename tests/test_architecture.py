"""The package's shape: no import cycles, no imports of private names, no oversized modules.

The import graph is read from the source with :mod:`ast`, not by importing anything: every
``import`` and ``from ... import`` of the package's own modules, at module level and inside
functions and methods alike (a function-level import that dodges a cycle is still a cycle),
with relative imports resolved and ``from pkg import name`` resolved to the submodule
``pkg.name`` when there is one. Imports under ``if TYPE_CHECKING:`` run only for the type
checker, so they are not edges; they are still checked for private names.

Each rule is one test, and each failure lists every offender with ``file:line``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "crucible_polars"
MAX_MODULE_LINES = 500


# --------------------------------------------------------------------------------------------
# reading the graph
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """One import of a package module by another: ``importer`` imports ``target``."""

    importer: str
    target: str
    path: str  # the importer's file, relative to the package's parent folder
    line: int
    function_level: bool
    type_checking: bool

    def where(self) -> str:
        """``path:line``, and where in the module the import sits."""
        scope = "function-level" if self.function_level else "top-level"
        if self.type_checking:
            scope += ", TYPE_CHECKING"
        return f"{self.path}:{self.line} ({scope})"


@dataclass(frozen=True)
class PrivateImport:
    """An import of a ``_private`` name (or module) that belongs to another module."""

    edge: Edge
    name: str  # the dotted name imported, e.g. ``crucible_polars.ops.python_fn._Caller``

    def __str__(self) -> str:
        return f"{self.edge.importer} imports {self.name}  [{self.edge.where()}]"


def module_files(package_dir: Path) -> dict[str, Path]:
    """Every module of the package under ``package_dir``, by dotted name."""
    root = package_dir.parent
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(
    nodes: Iterable[ast.AST], in_function: bool = False, type_checking: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement in ``nodes``: (statement, in a function, under TYPE_CHECKING)."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function, type_checking
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.body, in_function, True)
            yield from _imports(node.orelse, in_function, type_checking)
        else:
            nested = in_function or isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            yield from _imports(ast.iter_child_nodes(node), nested, type_checking)


def _base_module(module: str, is_package: bool, stmt: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` statement imports from."""
    if stmt.level == 0:
        return stmt.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if stmt.level > 1:
        parts = parts[: len(parts) - (stmt.level - 1)]
    return ".".join([*parts, stmt.module] if stmt.module else parts)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_module_outside_scope(importer: str, target: str) -> bool:
    """``target`` is (inside) a private module whose parent package ``importer`` is not in."""
    parts = target.split(".")
    for index, part in enumerate(parts):
        scope = ".".join(parts[:index])
        if _is_private(part) and not (importer == scope or importer.startswith(scope + ".")):
            return True
    return False


@dataclass
class ImportGraph:
    """The package's modules, the imports between them, and imports of private names."""

    modules: dict[str, Path]
    edges: list[Edge]
    private: list[PrivateImport]

    @classmethod
    def read(cls, package_dir: Path) -> ImportGraph:
        """Parse every module under ``package_dir`` (a package folder)."""
        modules = module_files(package_dir)
        root = package_dir.parent
        edges: list[Edge] = []
        private: list[PrivateImport] = []
        for module, path in modules.items():
            is_package = path.name == "__init__.py"
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for stmt, in_function, type_checking in _imports(tree.body):
                edge = partial(
                    Edge,
                    importer=module,
                    path=str(path.relative_to(root)),
                    line=stmt.lineno,
                    function_level=in_function,
                    type_checking=type_checking,
                )
                found: list[tuple[Edge, str | None]] = []  # (edge, private name imported)
                if isinstance(stmt, ast.Import):
                    found += [(edge(target=alias.name), None) for alias in stmt.names]
                else:
                    base = _base_module(module, is_package, stmt)
                    for alias in stmt.names:
                        submodule = f"{base}.{alias.name}"
                        if submodule in modules:
                            found.append((edge(target=submodule), None))
                        else:
                            found.append((edge(target=base), alias.name))
                for item, name in found:
                    if item.target not in modules or item.target == module:
                        continue
                    if not item.type_checking and item not in edges:
                        edges.append(item)  # one edge per statement and target
                    if name is not None and _is_private(name):
                        private.append(PrivateImport(item, f"{item.target}.{name}"))
                    elif _private_module_outside_scope(module, item.target):
                        private.append(PrivateImport(item, item.target))
        return cls(modules, edges, private)

    def successors(self) -> dict[str, dict[str, Edge]]:
        """importer -> {target: the first import of it}."""
        out: dict[str, dict[str, Edge]] = defaultdict(dict)
        for edge in self.edges:
            out[edge.importer].setdefault(edge.target, edge)
        return out

    def strongly_connected(self) -> list[list[str]]:
        """The import cycles: components of two or more modules (Tarjan), sorted."""
        succ = self.successors()
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        components: list[list[str]] = []

        def visit(node: str) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for nxt in sorted(succ.get(node, {})):
                if nxt not in index:
                    visit(nxt)
                    low[node] = min(low[node], low[nxt])
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))

        for node in sorted(self.modules):
            if node not in index:
                visit(node)
        return sorted(components, key=lambda c: (-len(c), c))

    def cycle_in(self, component: list[str]) -> list[Edge]:
        """One shortest cycle through the component's first module, as its edges."""
        succ = self.successors()
        members = set(component)
        start = component[0]
        came_from: dict[str, Edge] = {}
        frontier = [start]
        while frontier:
            following = []
            for node in frontier:
                for nxt, edge in sorted(succ.get(node, {}).items()):
                    if nxt not in members or nxt in came_from:
                        continue
                    came_from[nxt] = edge
                    if nxt == start:
                        path = [edge]
                        while path[0].importer != start:
                            path.insert(0, came_from[path[0].importer])
                        return path
                    following.append(nxt)
            frontier = following
        raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def oversized_modules(package_dir: Path, limit: int = MAX_MODULE_LINES) -> list[tuple[int, str]]:
    """(lines, path) of every module of the package longer than ``limit`` lines, longest first."""
    root = package_dir.parent
    sizes = [
        (len(path.read_text(encoding="utf-8").splitlines()), str(path.relative_to(root)))
        for path in module_files(package_dir).values()
    ]
    return sorted((size for size in sizes if size[0] > limit), reverse=True)


def describe_cycles(graph: ImportGraph) -> list[str]:
    """One paragraph per import cycle: its modules, one cycle path, then all its imports.

    Every import between two modules of the component is listed (each is an edge a fix may
    have to remove); the cycle path shows one way round.
    """
    report = []
    for component in graph.strongly_connected():
        members = set(component)
        lines = [f"cycle through {len(component)} modules: {', '.join(component)}"]
        lines.append("  one cycle:")
        for edge in graph.cycle_in(component):
            lines.append(f"    {edge.importer} -> {edge.target}  [{edge.where()}]")
        inside = sorted(
            (e for e in graph.edges if e.importer in members and e.target in members),
            key=lambda e: (e.importer, e.target, e.line),
        )
        lines.append(f"  all {len(inside)} imports inside it:")
        lines += [f"    {e.importer} -> {e.target}  [{e.where()}]" for e in inside]
        report.append("\n".join(lines))
    return report


# --------------------------------------------------------------------------------------------
# the rules, on crucible_polars
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return ImportGraph.read(PACKAGE_DIR)


def test_no_import_cycles(graph: ImportGraph) -> None:
    cycles = describe_cycles(graph)
    assert not cycles, (
        f"{len(cycles)} import cycle(s) in crucible_polars (function-level imports count; "
        "break each cycle by moving what both sides need below both):\n\n" + "\n\n".join(cycles)
    )


def test_no_imports_of_private_names(graph: ImportGraph) -> None:
    offenders = sorted({str(item) for item in graph.private})
    assert not offenders, (
        f"{len(offenders)} import(s) of another module's _private name (make the name public "
        "inside the package if it is shared):\n" + "\n".join(offenders)
    )


def test_no_module_over_500_lines() -> None:
    offenders = oversized_modules(PACKAGE_DIR)
    assert not offenders, (
        f"{len(offenders)} module(s) over {MAX_MODULE_LINES} lines:\n"
        + "\n".join(f"{path}: {lines} lines" for lines, path in offenders)
    )


# --------------------------------------------------------------------------------------------
# the reader itself, on a small made-up package
# --------------------------------------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root / "pkg"


def test_reader_resolves_relative_function_level_and_type_checking_imports(
    tmp_path: Path,
) -> None:
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from .a import run\n",
            "pkg/a.py": "import os\nfrom . import b\n",
            "pkg/b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.a import run\n"
                "def f():\n    from .sub.c import x\n"
            ),
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "from ..a import _helper\nfrom .. import b\nimport pkg.sub\n",
        },
    )
    graph = ImportGraph.read(package)
    edges = {(e.importer, e.target, e.function_level) for e in graph.edges}
    assert edges == {
        ("pkg", "pkg.a", False),
        ("pkg.a", "pkg.b", False),  # ``from . import b`` names the submodule
        ("pkg.b", "pkg.sub.c", True),  # relative, inside a function; TYPE_CHECKING skipped
        ("pkg.sub.c", "pkg.a", False),
        ("pkg.sub.c", "pkg.b", False),
        ("pkg.sub.c", "pkg.sub", False),
    }
    assert [str(p) for p in graph.private] == [
        "pkg.sub.c imports pkg.a._helper  [pkg/sub/c.py:1 (top-level)]"
    ]
    assert graph.strongly_connected() == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    assert [(e.importer, e.target) for e in graph.cycle_in(["pkg.a", "pkg.b", "pkg.sub.c"])] == [
        ("pkg.a", "pkg.b"),
        ("pkg.b", "pkg.sub.c"),
        ("pkg.sub.c", "pkg.a"),
    ]
    assert "pkg.b -> pkg.sub.c  [pkg/b.py:5 (function-level)]" in describe_cycles(graph)[0]


def test_reader_private_modules_are_private_to_their_package(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/io/__init__.py": "from ._lines import read\n",
            "pkg/io/json.py": "from pkg.io._lines import read\nfrom . import _lines\n",
            "pkg/io/_lines.py": "def read(): ...\n__all__ = ['read']\n",
            "pkg/stream.py": (
                "from pkg.io._lines import read\n"
                "from pkg.io import __all__, _lines\n"
                "from pkg.io.json import __doc__\n"
            ),
        },
    )
    graph = ImportGraph.read(package)
    assert sorted(str(p) for p in graph.private) == [
        "pkg.stream imports pkg.io._lines  [pkg/stream.py:1 (top-level)]",
        "pkg.stream imports pkg.io._lines  [pkg/stream.py:2 (top-level)]",
    ]
    assert graph.strongly_connected() == []


def test_oversized_modules_counts_lines(tmp_path: Path) -> None:
    package = _write(tmp_path, {"pkg/__init__.py": "", "pkg/big.py": "x = 1\n" * 3})
    assert oversized_modules(package, limit=2) == [(3, "pkg/big.py")]
    assert oversized_modules(package, limit=3) == []
