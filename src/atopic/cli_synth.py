"""``atopic synth``: write synthetic collected tables for a trial design.

``atopic synth --design FILE --subjects N --seed S --out DIR [--format parquet|csv] [--chunk N]``
writes dm, ex, qs, lb, ae, cm and ds (``atopic.simulate.write_synth``) and prints one line per
table with its row count.
"""

from __future__ import annotations

from pathlib import Path

import click

from atopic.cli_options import design_option
from atopic.errors import InvalidInput


@click.command(short_help="Write synthetic collected tables for a trial design.")
@design_option
@click.option("--subjects", required=True, type=int, help="Number of subjects.")
@click.option("--seed", required=True, type=int, help="Seed: the same seed gives the same tables.")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
    help="File format.",
)
@click.option(
    "--chunk",
    default=50_000,
    show_default=True,
    type=int,
    help="Subjects per chunk (memory bound; Parquet tables become folders of parts).",
)
def synth(design_file: Path, subjects: int, seed: int, out_dir: Path, fmt: str, chunk: int) -> None:
    """Write synthetic DM, EX, QS, LB, AE, CM and DS tables for the design to OUT."""
    from atopic.simulate import write_synth
    from atopic.trial.design import load_design

    try:
        design = load_design(design_file)
        counts = write_synth(design, subjects, out_dir, seed=seed, chunk=chunk, fmt=fmt)
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    for name, count in counts.items():
        click.echo(f"{name}\t{count} rows")
