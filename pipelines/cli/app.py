"""Entry point, shared options and the one place user errors become exit code 2."""

from __future__ import annotations

import errno
import os
import sys
import warnings

import click

from surrogate_nas.errors import SurrogateNASError

DEFAULT_DB = "sqlite:///surrogate-nas.db"


def default_db() -> str:
    return os.environ.get("SURROGATE_NAS_DB", DEFAULT_DB)


db_option = click.option(
    "--db", "db_url", default=default_db, show_default="$SURROGATE_NAS_DB or " + DEFAULT_DB,
    help="SQLAlchemy URL of the architecture database (sqlite:///file.db, postgresql://...).",
)


DEFAULT_STALE_AFTER_S = 300.0


def default_stale_after() -> str:
    return os.environ.get("SURROGATE_NAS_STALE_AFTER", str(DEFAULT_STALE_AFTER_S))


stale_after_option = click.option(
    "--stale-after", type=click.FloatRange(min=0), default=default_stale_after, metavar="SECONDS",
    show_default=f"$SURROGATE_NAS_STALE_AFTER or {DEFAULT_STALE_AFTER_S:.0f}",
    help="Grace period: a running claim without a heartbeat for this long is taken over, whatever host it is on.",
)


def _check_space(ctx, param, value):
    if value is None:
        return None
    from surrogate_nas.spaces import get_space

    try:
        return get_space(value).name
    except SurrogateNASError as exc:
        raise click.BadParameter(str(exc)) from None


def space_option(default: str | None = "nb201", help_text: str | None = None):
    """``--space NAME``: a registered search space (``surrogate-nas spaces`` lists them)."""
    return click.option(
        "--space", default=default, callback=_check_space, show_default=default is not None,
        help=help_text or "Search space (see `surrogate-nas spaces`).",
    )


def _set_threads(ctx, param, value: int) -> int:
    import torch

    torch.set_num_threads(value)
    return value


threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=1, show_default=True, callback=_set_threads,
    expose_value=False, is_eager=False,
    help="CPU threads per training. Small networks train fastest on one; raise it for CIFAR-10.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="surrogate-nas")
def cli() -> None:
    """Neural architecture search driven by surrogate models.

    Train architectures for real (seed), compare performance predictors (compare),
    run Bayesian search (search) and browse everything in MLflow (ui). Every command
    works on any registered search space (--space; see `surrogate-nas spaces`).
    """


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user mistakes print one line on stderr and exit with code 2."""
    _register_commands()
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
        cli.main(args=argv, prog_name="surrogate-nas", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("interrupted: finished evaluations are stored; rerun the same command to continue", err=True)
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
        predict_cmd,
        quickstart_cmd,
        search_cmd,
        seed_cmd,
        spaces_cmd,
        ui_cmd,
    )


if __name__ == "__main__":
    sys.exit(main())
