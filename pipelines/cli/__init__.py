"""The ``surrogate-nas`` command line: thin commands over the library API."""

from surrogate_nas.pipelines.cli.app import cli, main

__all__ = ["cli", "main"]
