"""The generic layers name no packaged space, dataset or table: what a space, a dataset or a table
can do is asked of it (its capabilities), so a plug-in gets the same treatment as a built-in."""

from __future__ import annotations

import ast
from pathlib import Path

from surrogate_nas.datasets import BUILTIN_DATASETS
from surrogate_nas.spaces.registry import SPACES
from surrogate_nas.tables.loading import NAMED_BENCHMARKS

ROOT = Path(__file__).resolve().parents[1]
NAMES = {*SPACES, *BUILTIN_DATASETS, *NAMED_BENCHMARKS}


def _named(path: Path) -> list[str]:
    """``line: name`` of each string constant in ``path`` that is exactly a packaged name (docstrings and
    help texts, which only mention names as examples, are longer strings and pass)."""
    return [f"{node.lineno}: {node.value}" for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in NAMES]


def test_pipelines_and_predictors_name_no_packaged_space_dataset_or_table():
    assert {"nb201", "digits", "nb201-cifar10"} <= NAMES
    found = {str(p.relative_to(ROOT)): hits for folder in ("pipelines", "predictors")
             for p in sorted((ROOT / folder).rglob("*.py")) if (hits := _named(p))}
    assert not found, f"generic code names packaged spaces, datasets or tables: {found}"
