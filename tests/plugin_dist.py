"""Make an installed-looking package visible to ``importlib.metadata`` without pip (the tests put this folder on sys.path).

A ``NAME-VERSION.dist-info`` folder with ``METADATA`` and ``entry_points.txt`` on ``sys.path`` is
what an install leaves for entry points to be found; writing one takes milliseconds, where
building and installing the example plug-in with pip takes seconds and changes the venv.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "surrogate_nas_example_plugin"


def write_dist_info(folder: Path, name: str, version: str, entry_points: dict[str, dict[str, str]]) -> Path:
    """A ``.dist-info`` of ``name`` declaring ``entry_points`` (group -> name -> ``module:attr``) in ``folder``."""
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, points in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in points.items()]
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines))
    return info


def example_entry_points() -> tuple[str, str, dict[str, dict[str, str]]]:
    """Name, version and entry points the example plug-in's ``pyproject.toml`` declares."""
    import tomllib

    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    return project["name"], project["version"], project["entry-points"]
