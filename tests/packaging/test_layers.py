"""Imports point one way (docs/ARCHITECTURE.md, "Which part may import which"), with no cycles.

Read from the code itself (the AST of every product file, imports inside functions and
``TYPE_CHECKING`` blocks included), so the picture in the docs cannot drift from what runs.
The checkout is the package ``nummerlapp``: an import of ``nummerlapp.kiosk.flow`` is the part
``kiosk``; a relative import is resolved against the importing module first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "nummerlapp"
NOT_PRODUCT = {"tests", "bench", "docs", "deploy", "var", "build", "examples"}
PARTS = ("common", "config", "printer", "client", "skin", "kiosk", "display", "feedback", "server")

# importer -> parts it must never import (DESIGN.md, "The parts")
NEVER: dict[str, set[str]] = {
    "common": {"config", "printer", "client", "skin", "kiosk", "display", "feedback", "server"},
    "config": {"printer", "client", "skin", "kiosk", "display", "feedback", "server"},
    "printer": {"client", "skin", "kiosk", "display", "feedback", "server"},
    "client": {"printer", "skin", "kiosk", "display", "feedback", "server"},
    "skin": {"printer", "kiosk", "display", "feedback", "server"},
    "kiosk": {"display", "feedback", "server"},
    "display": {"printer", "kiosk", "feedback", "server"},
    "feedback": {"printer", "kiosk", "display", "server"},
    "server": {"client", "skin", "kiosk", "display", "feedback", "printer"},
}


def product_modules() -> dict[str, Path]:
    """``nummerlapp.x.y`` -> file, for every product file of the checkout."""
    found: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in NOT_PRODUCT or any(p.startswith(".") for p in rel.parts):
            continue
        dotted = ".".join((PACKAGE, *rel.with_suffix("").parts))
        found[dotted.removesuffix(".__init__")] = path
    return found


def imports_of(module: str, path: Path) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                bits = package.split(".")
                bits = bits[: len(bits) - node.level + 1]
                base = ".".join([*bits, base] if base else bits)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def part_of(dotted: str) -> str | None:
    bits = dotted.split(".")
    if len(bits) < 2 or bits[0] != PACKAGE:
        return None
    return bits[1] if bits[1] in PARTS else None


def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(part -> parts it imports, module -> product modules it imports)."""
    mods = product_modules()
    parts: dict[str, set[str]] = {}
    files: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        source = part_of(module)
        for target in imports_of(module, path):
            part = part_of(target)
            if source and part and part != source:
                parts.setdefault(source, set()).add(part)
            # importing one's own package's __init__ is the package's business, not a cycle
            if target in mods and target != module and not module.startswith(target + "."):
                files[module].add(target)
    return parts, files


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_the_checker_sees_the_tree() -> None:
    """Guard against a blind check: the known, allowed edges are seen."""
    parts, files = graph()
    assert {"common", "config"} <= parts["kiosk"]
    assert "config" in parts["server"]
    assert "nummerlapp.config.model" in files["nummerlapp.config.loader"]


def test_no_part_imports_a_part_above_it() -> None:
    parts, _ = graph()
    broken = sorted(f"{a} -> {b}" for a, bs in parts.items() for b in bs if b in NEVER.get(a, set()))
    assert broken == []


def test_no_import_cycles_between_files() -> None:
    _, files = graph()
    assert cycles(files) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
