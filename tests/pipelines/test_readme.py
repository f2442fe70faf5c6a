"""The README's Python example runs as written (in a fresh folder, with its own database)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_python_api_example_of_the_readme_runs(workdir, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(b for b in blocks if "surrogate_nas.search(" in b)
    exec(compile(example, "README.md", "exec"), {"__name__": "readme_example"})
    out = capsys.readouterr().out
    assert "best: {" in out and "params" in out
    assert (workdir / "my_digits.npz").exists() and (workdir / "nas.db").exists()
