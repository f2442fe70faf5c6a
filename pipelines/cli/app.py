"""Entry point, shared options and the one place errors become exit codes.

A user's mistake (a :class:`~surrogate_nas.errors.SurrogateNASError`, a bad option, a
folder that cannot be written) is one line on stderr and exit code 2. Anything else is a
bug (an :class:`~surrogate_nas.errors.InternalError` raised on purpose, or any other
exception): one line saying so, exit code 1, and the traceback with the command line
and the version in a log file (see :func:`write_internal_error_log`).
"""

from __future__ import annotations

import errno
import os
import re
import sys
import tempfile
import traceback
import warnings
from datetime import datetime
from pathlib import Path

import click

from surrogate_nas.errors import SurrogateNASError
from surrogate_nas.spaces import DEFAULT_SPACE
from surrogate_nas.pipelines.cli.options import config_options, field_option
from surrogate_nas.pipelines.jobs.config import ExecutionConfig, SearchConfig, TrackingConfig

db_option = field_option(TrackingConfig, "db", "db_url", default=lambda: TrackingConfig().url)
"""``--db URL`` as ``db_url``, resolved (``$SURROGATE_NAS_DB`` or ``./surrogate-nas.db`` when not given)."""

stale_after_option = field_option(TrackingConfig, "stale_after", default=lambda: TrackingConfig().stale_after_s)
"""``--stale-after SECONDS``, resolved (``$SURROGATE_NAS_STALE_AFTER`` or 300 when not given)."""

mlflow_option = field_option(TrackingConfig, "mlflow")
"""``--no-mlflow``, as ``mlflow`` (False when given)."""

builder_option = field_option(SearchConfig, "builder")

execution_options = config_options(ExecutionConfig)
"""Options saying where and how many trainings run at once."""


def space_option(default: str | None = DEFAULT_SPACE, help_text: str | None = None):
    """``--space NAME|FILE|MODULE:NAME``: a named search space (plug-ins included), a JSON/YAML file of
    choices, or ``module:Name`` imported from the current folder."""
    return click.option(
        "--space", default=default, show_default=default is not None,
        help=help_text or "Search space: a named one (see `surrogate-nas spaces`), a .json/.yaml file "
                          "mapping each choice to its options, or module:Name (from the current folder).",
    )


def plugin_name(registry: str, extra: tuple[str, ...] = (), what: str | None = None):
    """A click callback accepting a name of the registry at ``registry`` (``module:ATTRIBUTE``, imported when
    the command runs, so installed plug-ins count and nothing is frozen at import), a ``module:Name``
    reference, or one of ``extra``; anything else is a bad parameter listing what is installed."""
    def check(ctx, param, value):
        if value is None:
            return None
        import importlib

        from surrogate_nas.plugins import is_reference

        module, _, attribute = registry.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        if value.strip().lower() in extra or value in found or is_reference(value):
            return value
        more = "".join(f"{e}, " for e in extra if e not in found)
        raise click.BadParameter(f"unknown {what or found.kind} {value!r}; expected {more}{found.describe_choices()}")
    return check


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="surrogate-nas")
def cli() -> None:
    """Neural architecture search driven by surrogate models.

    Train architectures for real (seed), compare performance predictors (compare),
    run Bayesian search (search) and browse everything in MLflow (ui). Every command
    works on any registered search space (--space; see `surrogate-nas spaces`).
    """


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user mistakes print one line on stderr and exit with code 2, bugs with code 1."""
    # Jitter notices from GPyTorch's Cholesky are routine on small, noisy data; keep the terminal readable.
    warnings.filterwarnings("ignore", module="linear_operator")
    warnings.filterwarnings("ignore", module="botorch")
    shown, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        return _run(argv)
    finally:
        warnings.showwarning = shown


def _run(argv: list[str] | None) -> int:
    try:
        _register_commands()
        return _run_user_errors(argv)
    except Exception as exc:  # noqa: BLE001 - whatever is left is a bug, reported as one
        log, why_not = write_internal_error_log(exc, ["surrogate-nas", *(sys.argv[1:] if argv is None else argv)])
        where = f"the traceback is in {log}" if log is not None else f"the traceback could not be saved ({why_not})"
        click.echo(f"internal error (a bug in surrogate-nas): {type(exc).__name__}: {_one_line(str(exc))[:300]}; "
                   f"{where}; please report it", err=True)
        return 1


INTERRUPTED = "interrupted: finished evaluations are stored; rerun the same command to continue"


def _run_user_errors(argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=args, prog_name="surrogate-nas", standalone_mode=False, obj={"argv": args})
    except click.exceptions.Abort as exc:  # click's form of Ctrl-C (or an answer of "no")
        click.echo(INTERRUPTED if isinstance(exc.__cause__, KeyboardInterrupt) else "interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        return 2
    except SurrogateNASError as exc:
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        return 2
    except OSError as exc:
        if not isinstance(exc, PermissionError) and exc.errno not in (errno.EROFS, errno.EACCES, errno.ENOSPC):
            raise
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"error: cannot write here ({exc.strerror or exc}{where}); run from a writable folder "
                   "or point --db, MLFLOW_TRACKING_URI and --output elsewhere", err=True)
        return 2
    return 0


def error_log_folder() -> Path:
    """Where internal-error logs go: ``$XDG_STATE_HOME/surrogate-nas``, else ``~/.local/state/surrogate-nas``.

    A per-user state folder rather than next to the database: the database may be a
    PostgreSQL server, a file shared by a team or on a read-only mount, and a log holding
    someone's command line belongs to the user who ran it.
    """
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "surrogate-nas"


def write_internal_error_log(exc: BaseException, argv: list[str]) -> tuple[Path | None, str]:
    """Write the traceback of ``exc``, the command line and the version to a new log file.

    Tries :func:`error_log_folder`, then the system's temp folder; never raises, since it
    runs while reporting a bug. Passwords in URLs on the command line are masked.

    Returns:
        ``(path, "")``, or ``(None, why)`` when no folder could take the file.
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = "".join([
        f"surrogate-nas {_version()} internal error at {datetime.now().isoformat(timespec='seconds')}\n",
        f"command: {' '.join(_masked(a) for a in argv)}\n",
        f"python: {sys.version.split()[0]} ({sys.executable}); working folder: {os.getcwd()}\n\n",
        *traceback.format_exception(type(exc), exc, exc.__traceback__),
    ])
    why = ""
    for folder in (error_log_folder(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"surrogate-nas-internal-error-{stamp}-", suffix=".log", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return Path(name), ""
        except Exception as failure:  # noqa: BLE001 - any reason to skip a folder is reported, none raised
            why = f"{folder}: {failure}"
    return None, why


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("surrogate-nas")
    except Exception:  # noqa: BLE001 - a broken install must not hide the bug being reported
        from surrogate_nas import __version__

        return f"{__version__} (package metadata unreadable)"


def _masked(arg: str) -> str:
    """``arg`` with the password of any ``scheme://user:password@host`` URL replaced by ``***``."""
    return re.sub(r"(://[^/:@\s]*:)[^/@\s]+@", r"\1***@", str(arg))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one line above any progress bar (``tqdm.write``), never inside it."""
    from tqdm import tqdm

    tqdm.write(f"warning: {_one_line(str(message))} ({category.__name__})", file=sys.stderr)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _register_commands() -> None:
    # Imported here so `surrogate-nas --help` stays fast and commands stay independent modules.
    from surrogate_nas.pipelines.cli import (  # noqa: F401
        compare_cmd,
        db_cmd,
        devices_cmd,
        export_cmd,
        measure_cmd,
        predict_cmd,
        quickstart_cmd,
        search_cmd,
        seed_cmd,
        spaces_cmd,
        ui_cmd,
    )


if __name__ == "__main__":
    sys.exit(main())
