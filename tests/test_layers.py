"""Layers import one way: core (``surrogate_nas``) <- ``predictors`` <- ``pipelines``; inside the core,
spaces know nothing of tables (a table is of a space, not the other way round)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RULES = {
    "surrogate_nas": ("surrogate_nas.pipelines", "surrogate_nas.predictors"),
    "surrogate_nas/spaces": ("surrogate_nas.tables", "surrogate_nas.storage"),
    "predictors": ("surrogate_nas.pipelines",),
}
"""Folder -> the packages no module in it may import (at the top or inside a function)."""


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_each_layer_imports_only_the_layers_below_it():
    broken = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for folder, banned in RULES.items() for path in sorted((ROOT / folder).rglob("*.py"))
              for line, module in _imports(path) if module.startswith(banned)]
    assert not broken, broken
