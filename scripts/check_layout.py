#!/usr/bin/env python3
"""Check that logbot's imports flow one way: no import cycle, no layer reaching up.

    python3 scripts/check_layout.py [PACKAGE_DIR]      (default: logbot/)

Why a script of ours: the layout is the architecture (README, "Layout"), and a
function-level import or one under ``if TYPE_CHECKING:`` makes a circle as real for a
reader as a top-level one, so every import counts wherever it stands.  It reads the
files with :mod:`ast` and runs none of them.

A module is a ``.py`` file, a package's ``__init__.py`` counting as the package.
``from pkg import name`` is an edge to ``pkg.name`` when that module exists, else to
``pkg``.  Two checks:

- **cycles**: every strongly connected group of two or more modules (or a module that
  imports itself) is printed with its edges;
- **layers**: each top-level part of logbot (``reactor``, ``irc``, ``config``...) may
  import only the parts listed for it in :data:`ALLOWED`; an import reaching any other
  part is printed with its file and line.

Prints ``import cycles: N, layer violations: M`` last; exits 1 when either is not 0.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The parts of logbot, lowest first, and what each may import besides itself ("" is
#: ``logbot/__init__.py``, which holds only the version).  The CLI is the top: it may
#: import anything.
ALLOWED: dict[str, frozenset[str]] = {
    "": frozenset(),
    "reactor": frozenset({""}),
    "irc": frozenset({"", "reactor"}),
    "config": frozenset({"", "irc"}),
    "logs": frozenset({"", "config", "irc", "reactor"}),
    "health": frozenset({"", "reactor"}),
    "plugin": frozenset({"", "reactor"}),  # the public plugin API, logbot/plugin.py
    "plugins": frozenset({"", "plugin", "archive", "logs", "config", "irc", "reactor"}),
    "bot": frozenset({"", "archive", "plugins", "plugin", "health", "logs", "config", "irc",
                      "reactor"}),
    "archive": frozenset({"", "health", "logs", "config", "irc", "reactor"}),
    "testing": frozenset({"", "irc", "reactor"}),
    "cli": frozenset({"", "archive", "bot", "plugins", "plugin", "health", "logs", "config",
                      "irc", "reactor", "testing"}),
    "__main__": frozenset({"", "cli"}),
}  # fmt: skip


@dataclass(frozen=True)
class Edge:
    source: str  # dotted module names
    target: str
    path: Path
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(top: str, module: str) -> str:
    """The top-level part a module belongs to: ``logbot.irc.core`` -> ``irc``."""
    rest = module.removeprefix(top).lstrip(".")
    return rest.split(".", 1)[0]


def imports(root: Path, modules: set[str], path: Path) -> Iterator[Edge]:
    """Every edge from the module at ``path`` to a module of the package."""
    source = module_name(root, path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top = root.name
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package, up level - 1
                package = source.split(".") if is_package else source.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                targets.append(candidate if candidate in modules else base)
        for target in targets:
            if target == top or target.startswith(top + "."):
                # ``import logbot.a.b`` needs logbot.a.b, the longest prefix that exists
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in modules:
                    yield Edge(source, target, path, node.lineno)


def read_tree(root: Path) -> tuple[set[str], list[Edge]]:
    files = sorted(root.rglob("*.py"))
    modules = {module_name(root, path) for path in files}
    edges = {edge for path in files for edge in imports(root, modules, path)}
    return modules, sorted(edges, key=lambda e: (e.source, e.target, e.line))


def cycles(modules: set[str], edges: list[Edge]) -> list[list[str]]:
    """Strongly connected groups of two or more modules, and self-imports (Tarjan)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for edge in edges:
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # iterative, so a deep chain of imports cannot hit the recursion limit
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def layer_violations(top: str, edges: list[Edge]) -> list[Edge]:
    bad = []
    for edge in edges:
        source, target = part_of(top, edge.source), part_of(top, edge.target)
        if source == target:
            continue
        allowed = ALLOWED.get(source)
        if allowed is None or target not in allowed:
            bad.append(edge)
    return bad


def check(root: Path) -> tuple[list[str], int, int]:
    """The report's lines, the number of cycles and of layer violations."""
    modules, edges = read_tree(root)
    lines: list[str] = []
    found = cycles(modules, edges)
    for group in found:
        lines.append("cycle: " + ", ".join(group))
        members = set(group)
        for edge in edges:
            if edge.source in members and edge.target in members:
                lines.append(f"  {edge.source} -> {edge.target}  ({edge.path}:{edge.line})")
    unknown = sorted({part_of(root.name, m) for m in modules} - set(ALLOWED))
    for part in unknown:
        lines.append(f"layer: {root.name}/{part} is not in ALLOWED (scripts/check_layout.py)")
    bad = layer_violations(root.name, edges)
    for edge in bad:
        part = part_of(root.name, edge.source)
        may = ", ".join(sorted(p or root.name for p in ALLOWED.get(part, ()))) or "nothing"
        lines.append(
            f"layer: {edge.path}:{edge.line}: {edge.source} imports {edge.target} "
            f"({part or root.name} may import only: {may})"
        )
    return lines, len(found), len(bad) + len(unknown)


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[1] / "logbot")
    lines, n_cycles, n_layers = check(root.resolve())
    for line in lines:
        print(line)
    print(f"import cycles: {n_cycles}, layer violations: {n_layers}")
    return 1 if n_cycles or n_layers else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
