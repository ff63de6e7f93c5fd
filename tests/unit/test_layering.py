"""Surfaces depend on the services and on the shared HTTP layer (app/http), never on each other:
a new route or surface needs no import from another surface."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.files import ROOT

SURFACES = ROOT / "app" / "surfaces"


def _surfaces() -> list[str]:
    """Each surface: a package or a route module directly in app/surfaces."""
    names = []
    for path in SURFACES.iterdir():
        if path.is_dir() and (path / "__init__.py").exists():
            names.append(path.name)
        elif path.suffix == ".py" and path.stem != "__init__":
            names.append(path.stem)
    return sorted(names)


def _modules(surface: str) -> list[Path]:
    root = SURFACES / surface
    return sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]


def _package_of(path: Path) -> list[str]:
    """`path`'s package as dotted parts (`app/surfaces/native/images.py` -> app.surfaces.native)."""
    relative = path.relative_to(SURFACES.parents[1]).with_suffix("")
    return list(relative.parts[:-1])


def _imported(source: str, package: list[str]) -> set[str]:
    """Every module a module of `package` imports, absolute; `from X import name` also counts
    `X.name`, which may be a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _surface_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] == ["app", "surfaces"] and len(parts) > 2:
        return parts[2]
    return None


def test_the_surfaces_are_found() -> None:
    assert {"native", "openai", "bedrock", "jobs"} <= set(_surfaces())


@pytest.mark.parametrize("surface", _surfaces())
def test_a_surface_imports_no_other_surface(surface: str) -> None:
    crossings = [
        f"{path.relative_to(SURFACES.parents[1])} imports {module}"
        for path in _modules(surface)
        for module in sorted(_imported(path.read_text(), _package_of(path)))
        if _surface_of(module) not in (None, surface)
    ]
    assert crossings == []


def test_the_check_sees_a_crossing() -> None:
    # The check itself: relative imports are resolved, a sibling surface's module is named.
    source = "from ..native.answers import render\nfrom ...http import media\nfrom .. import ops\n"
    imported = _imported(source, ["app", "surfaces", "openai"])
    assert {_surface_of(m) for m in imported} == {"native", "ops", None}
