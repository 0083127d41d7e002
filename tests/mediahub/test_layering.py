"""The import graph of mediahub's own modules: no circles, and services never import the HTTP layer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mediahub", "uploads", "profiles", "albums", "exports", "search")
HTTP_LAYER = {
    "mediahub.api",
    "uploads.api",
    "uploads.views",
    "profiles.api",
    "profiles.views",
    "albums.api",
    "albums.views",
    "exports.api",
    "exports.views",
    "search.api",
    "search.views",
}
# Modules that are adapters of the HTTP layer themselves and may use its helpers.
HTTP_ADAPTERS = ("urls", "admin", "openapi", "middleware")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def own_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every module of ours that `path` imports, at the top or inside a function (a lazy import still depends)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name in known)
    return found


def graph() -> dict[str, set[str]]:
    modules = own_modules()
    known = set(modules)
    return {name: imports_of(path, known) - {name} for name, path in modules.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_own_modules_import_no_circle():
    assert find_cycle(graph()) is None


def test_cycle_finder_sees_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_services_and_processing_never_import_the_http_layer():
    edges = graph()
    offenders = {
        name: sorted(edges[name] & HTTP_LAYER)
        for name in edges
        if name not in HTTP_LAYER
        and not name.endswith(("urls", "admin", "openapi", "middleware"))
        and edges[name] & HTTP_LAYER
    }
    assert offenders == {}


def test_only_the_lambda_module_imports_the_lambda_adapters():
    """Importing uploads.events sets Django up: callers dispatch through uploads.dispatch instead."""
    edges = graph()
    assert [name for name, targets in edges.items() if "uploads.events" in targets] == []
