"""Exception hierarchy.

One root, :class:`SurrogateNASError`, for everything the user can fix (an input, a
file, a database, a server), so callers (the CLI above all) can tell a user's mistake
from a bug. Each subclass also inherits the matching built-in, so ``except ValueError``
keeps working for library users.

:class:`InternalError` is the other kind: a broken invariant inside surrogate-nas. It
is deliberately *not* a :class:`SurrogateNASError`, so ``except SurrogateNASError``
never hides a bug, and the CLI reports it like any unexpected exception (exit code 1,
the traceback in a log file).
"""


class SurrogateNASError(Exception):
    """Root of every error this package raises on purpose about something the user can fix."""


class InputDataError(SurrogateNASError, ValueError):
    """A value given by the user is malformed: an arch string, a table, an option."""


class DatasetError(SurrogateNASError, FileNotFoundError):
    """A dataset is unknown, missing or not in the expected layout."""


class StorageError(SurrogateNASError, RuntimeError):
    """The architecture database cannot be opened or used."""


class SchemaVersionError(StorageError):
    """The database was written by another schema version."""


class TrackingError(SurrogateNASError, ConnectionError):
    """The experiment-tracking store (MLflow) cannot be reached, created or written."""


class NotFittedError(SurrogateNASError, AttributeError):
    """A predictor was used before ``fit``."""


class FitError(SurrogateNASError, RuntimeError):
    """A predictor could not be fitted to the data it was given (e.g. a GP whose likelihood optimisation fails)."""


class InternalError(RuntimeError):
    """A broken invariant: a bug in surrogate-nas, never the user's input; raise it where code detects one."""
