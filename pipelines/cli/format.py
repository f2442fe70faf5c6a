"""Plain-text tables for terminal output (no extra dependency)."""

from __future__ import annotations

import click


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != v:
            return "-"
        if v.is_integer() and abs(v) >= 1000:
            return str(int(v))
        return f"{v:.2f}" if abs(v) < 1e6 else f"{v:.3g}"
    return str(v)


def format_table(rows: list[dict], max_width: int = 96) -> str:
    if not rows:
        return "(nothing)"
    cols = list(rows[0])
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    cells = [[v if len(v) <= max_width else v[: max_width - 1] + "~" for v in row] for row in cells]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join([line, sep, *body])


def print_table(rows: list[dict]) -> None:
    click.echo(format_table(rows))


def check_writable(path: str | None, what: str) -> None:
    """Refuse, before any work, an output ``path`` that cannot be written (read-only folder or file).

    Raises:
        InputDataError: the file, or the nearest existing folder above it, is not writable.
    """
    import os
    from pathlib import Path

    from surrogate_nas.errors import InputDataError

    if not path:
        return
    target = Path(path).expanduser().resolve()
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not os.access(existing, os.W_OK):
        raise InputDataError(f"cannot write {what} {path}: {existing} is not writable")


def write_csv(frame, path: str, label: str) -> None:
    """Write ``frame`` to ``path`` (creating folders) and say where it went."""
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    click.echo(f"{label}: {path}")
