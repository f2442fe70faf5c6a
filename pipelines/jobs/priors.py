"""A search's ``--prior`` sources, read and checked: ``SOURCE[:COLUMN]`` -> a :class:`~..search.prior.Prior`.

A source is a named table, a CSV of the searched space or ``db`` / ``db:DATASET`` (what the
database holds for that dataset), optionally followed by ``:COLUMN``, the metric to read
(default: the table's own target). A source must be of the searched space and must not be the
searched target itself (the same table and column, or the database's results of the dataset a
live search trains on).

    >>> parse_source("db:cifar100:valid_acc"), parse_source("nb201-cifar10")
    (('db:cifar100', 'valid_acc'), ('nb201-cifar10', None))
"""

from __future__ import annotations

from pathlib import Path

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.prior import Prior


def parse_source(text: str) -> tuple[str, str | None]:
    """``(source, column or None)`` of ``SOURCE[:COLUMN]`` (``db:DATASET[:COLUMN]`` for the database)."""
    text = text.strip()
    if text == "db" or text.startswith("db:"):
        parts = text.split(":", 2)
        return ":".join(parts[:2]), parts[2] if len(parts) > 2 and parts[2] else None
    if ":" in text and not Path(text).exists():
        source, column = text.rsplit(":", 1)
        return source, column or None
    return text, None


def resolve_prior(sources, space, store, table=None, live_dataset: str | None = None) -> Prior | None:
    """The :class:`Prior` of ``sources`` for a search of ``space`` (None when there are none).

    Args:
        sources: ``SOURCE[:COLUMN]`` strings.
        space: the searched space.
        store: the architecture database (for ``db`` sources).
        table: the searched table (None for a live search).
        live_dataset: the dataset a live search trains on.

    Raises:
        InputDataError: an unknown source or column, a source of another space, the target itself.
    """
    from surrogate_nas.pipelines.api import load_table
    from surrogate_nas.pipelines.tables.transfer import check_transfer_source

    if not sources:
        return None
    tables = []
    for text in sources:
        name, column = parse_source(text)
        try:
            source = load_table(name, column, store, space)
        except InputDataError as e:
            raise InputDataError(f"--prior {text}: {e}") from None
        if live_dataset is not None and source.name.startswith(f"db:{space.name}-{live_dataset}-"):
            raise InputDataError(f"the prior {text} is what this search trains ({live_dataset}); give another "
                                 "dataset's results, db:OTHER_DATASET")
        if table is not None:
            check_transfer_source(table, source, role="prior")
        tables.append(source)
    return Prior.from_tables(tables, space)
