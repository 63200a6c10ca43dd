"""Command-line options shared by several ``atopic`` subcommands, declared once."""

from __future__ import annotations

from pathlib import Path

import click

from atopic.errors import InvalidInput

design_option = click.option(
    "--design",
    "design_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The trial design (TOML).",
)
ENGINE_NAMES = ["polars", "duckdb", "spark"]
"""``atopic.tables.engines.ENGINES``, written out so the CLI starts without importing Polars (a
test keeps the two equal)."""
engine_option = click.option(
    "--engine",
    "engine_name",
    type=click.Choice(ENGINE_NAMES),
    default="polars",
    show_default=True,
    help="Where the derivations run: Polars (embedded), DuckDB or PySpark.",
)
spark_master_option = click.option(
    "--spark-master",
    default=None,
    help="Spark master URL for --engine spark (default local[*]; e.g. spark://host:7077).",
)

spark_conf_option = click.option(
    "--spark-conf",
    multiple=True,
    metavar="KEY=VALUE",
    help="A Spark setting for --engine spark (repeatable), e.g. spark.executor.memory=8g.",
)


def spark_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("k=v", ...)`` as a dict; a pair without ``=`` is refused by name."""
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(
                "engine", "spark_conf", pair, "KEY=VALUE, e.g. spark.executor.memory=8g"
            )
        settings[key.strip()] = value.strip()
    return settings
