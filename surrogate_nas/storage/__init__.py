"""The architecture database (SQLAlchemy; SQLite by default, any SQLAlchemy URL works).

>>> store = open_store("sqlite:///runs/nas.db")  # doctest: +SKIP
"""

from surrogate_nas.storage.engine import session_scope
from surrogate_nas.storage.migrations import MIGRATIONS, upgrade_schema
from surrogate_nas.storage.records import SearchInfo, SearchTrial
from surrogate_nas.storage.schema import SCHEMA_VERSION
from surrogate_nas.storage.store import ArchitectureStore, open_store

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ArchitectureStore",
    "SearchInfo",
    "SearchTrial",
    "open_store",
    "session_scope",
    "upgrade_schema",
]
