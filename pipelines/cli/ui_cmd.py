"""``surrogate-nas ui``: serve the project's MLflow store on loopback."""

from __future__ import annotations

import subprocess
import sys

import click

from surrogate_nas.pipelines.cli.app import cli
from surrogate_nas.pipelines.tracking import artifact_root, tracking_uri


def ui_command_line(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", tracking_uri(),
            "--default-artifact-root", artifact_root(), "--host", host, "--port", str(port)]


@cli.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
def ui_command(host: str, port: int) -> None:
    """Start the MLflow UI on this project's store (Ctrl-C stops it)."""
    uri = tracking_uri()
    if uri.startswith(("http://", "https://")):
        click.echo(f"MLFLOW_TRACKING_URI points at a server already: open {uri}")
        return
    click.echo(f"MLflow UI for {uri}\n  -> http://{host}:{port}   (Ctrl-C to stop)", err=False)
    proc = subprocess.Popen(ui_command_line(host, port))
    try:
        raise SystemExit(proc.wait())
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=30)
