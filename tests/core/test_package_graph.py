"""The feature packages import one another without a cycle, and core imports no feature."""

import ast
from pathlib import Path

import mapapp

ROOT = Path(mapapp.__file__).parent


def package_of(module: str) -> str | None:
    """'mapapp.reports.service' -> 'reports'; top-level modules (app, cli, models) are not features."""
    parts = module.split(".")
    if parts[0] != "mapapp" or len(parts) < 2 or not (ROOT / parts[1]).is_dir():
        return None
    return parts[1]


def import_graph() -> dict[str, set[str]]:
    """Feature package -> the feature packages its modules import (at run time or for type checking)."""
    graph: dict[str, set[str]] = {}
    for path in ROOT.glob("*/**/*.py"):
        source = package_of("mapapp." + ".".join(path.relative_to(ROOT).with_suffix("").parts))
        if source is None:
            continue
        edges = graph.setdefault(source, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                target = package_of(name)
                if target is not None and target != source:
                    edges.add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path a → b → … → a, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_feature_packages_import_each_other_without_a_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_core_imports_no_feature():
    assert import_graph().get("core", set()) == set()


def test_the_cycle_finder_finds_a_cycle():
    # The check above must be able to fail: a → b → c → a is found, a tree is not.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
