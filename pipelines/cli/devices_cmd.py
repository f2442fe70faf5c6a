"""``surrogate-nas devices``: the device settings whose measured latency ``latency@DEVICE`` names."""

from __future__ import annotations

import click

from surrogate_nas.pipelines.cli.app import cli
from surrogate_nas.pipelines.cli.format import print_table


@cli.command("devices")
def devices_command() -> None:
    """List the device settings of the NAS-Bench-201 latency table (use one as latency@DEVICE)."""
    from surrogate_nas.spaces.nb201.latency import device_summary

    print_table(device_summary().to_dict("records"))
    click.echo("\nlatency in ms of NAS-Bench-201's CIFAR-10 network, for all 15,625 cells (provenance: "
               "surrogate_nas/data/PROVENANCE.md)")
    click.echo("use one: surrogate-nas search --benchmark nb201-cifar10 --objectives accuracy,latency@pixel3 "
               "or --constraint \"latency@pixel3<=5\"")
    click.echo("another device: measure ~10-50 architectures, then surrogate-nas fit --target latency "
               "--benchmark measured.csv --name mydevice, and search with latency@mydevice")
