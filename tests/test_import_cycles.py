"""No import cycles among Trove's modules, counting imports inside functions too: a lazy
import hides a tangle from the interpreter, not from the reader. Read with `ast`, nothing is
imported."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in (SRC / "trove").rglob("*.py") if "migrations" not in p.parts}


def _known(name: str) -> str | None:
    """The Trove module `name` refers to (`trove.a.b.func` -> `trove.a.b`), if any."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(), str(path))]
    while pending:
        for node in ast.iter_child_nodes(pending.pop()):
            if _type_checking_only(node):
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            pending.append(node)
    return {m for m in map(_known, names) if m}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = stack[stack.index(node) :]
                    del stack[stack.index(node) :]
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_import_graph_is_read():
    graph = {m: imports_of(p) - {m} for m, p in MODULES.items()}
    assert "trove.repositories.assets" in graph["trove.services.assets"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_back_through_others():
    graph = {m: imports_of(p) - {m} for m, p in MODULES.items()}
    tangles = cycles(graph)
    detail = [
        f"{' <-> '.join(c)}: "
        + ", ".join(f"{a} -> {b}" for a in c for b in sorted(graph[a] & set(c)))
        for c in tangles
    ]
    assert tangles == [], "\n".join(detail)
