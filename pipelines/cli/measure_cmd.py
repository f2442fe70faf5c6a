"""``surrogate-nas measure``: latency of built networks on this machine, as a CSV for ``fit --target latency``."""

from __future__ import annotations

import click

from surrogate_nas.pipelines.cli.app import builder_option, cli, db_option, space_option
from surrogate_nas.pipelines.cli.options import csv_list


@cli.command("measure")
@space_option()
@builder_option
@click.option("--archs", "archs_file", type=click.Path(dir_okay=False),
              help="A CSV with an arch column (measure's own output included).")
@click.option("--sample", type=click.IntRange(min=1), help="Measure N distinct architectures sampled with --seed.")
@click.option("--search", help="Measure every architecture a stored live search trained (its network and input shape).")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:K.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True, help="torch threads while timing.")
@click.option("-C", "--channels", type=click.IntRange(min=1), default=None, help="Width C (default: the space's).")
@click.option("-N", "--cells-per-stage", type=click.IntRange(min=1), default=None,
              help="Cells per stage N (default: the space's).")
@click.option("--input-shape", default="3,32,32", show_default=True, callback=csv_list(int), help="C,H,W of one input.")
@click.option("--classes", "num_classes", type=click.IntRange(min=2), default=10, show_default=True)
@click.option("--repeats", type=click.IntRange(min=3), default=30, show_default=True, help="Timed passes per network.")
@click.option("--warmup", type=click.IntRange(min=0), default=5, show_default=True, help="Untimed passes first.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The CSV to write (arch,latency_ms,...).")
@db_option
def measure_command(out, input_shape, db_url, **options) -> None:
    """Time the forward pass of built networks on this machine (warm-up, median of repeats, outliers rejected)."""
    from tqdm import tqdm

    from surrogate_nas.pipelines.ship.measure import measure, write_csv

    if len(input_shape) != 3:
        raise click.BadParameter(f"expected C,H,W, got {','.join(map(str, input_shape))}", param_hint="--input-shape")
    bars = []

    def progress(done: int, total: int) -> None:
        if not bars:  # made at the first network, so a refused request prints no bar
            bars.append(tqdm(total=total, desc="measuring, rounds of every network", unit="round",
                             dynamic_ncols=True))
        bars[0].update(1)

    try:
        frame = measure(input_shape=tuple(input_shape), db=db_url, progress=progress, **options)
    finally:
        for bar in bars:
            bar.close()
    path = write_csv(frame, out)
    lat = frame["latency_ms"]
    first = frame.iloc[0]
    click.echo(f"measured {len(frame)} networks ({first['network']}, input {first['input_shape']}, batch "
               f"{first['batch_size']}, {first['threads']} thread(s), {first['device']}) on machine {first['machine']} "
               f"with torch {first['torch']}: {lat.min():.3f} to {lat.max():.3f} ms, median spread "
               f"{frame['spread_pct'].median():.1f}%; wrote {path}")
    click.echo(f"next: surrogate-nas fit --target latency --benchmark {path} --name here   "
               "(then search with --objectives accuracy,latency@here)")
