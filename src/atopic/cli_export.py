"""``atopic export``: write the registry's collected tables (DM, EX, QS, LB, AE) to files.

``atopic export tables --db URL --out DIR --format parquet|csv --as USERNAME [--study STUDYID]``
logs in as USERNAME (password from ``ATOPIC_PASSWORD``, else asked for without echo; or, for
scripts, an API token in ``ATOPIC_TOKEN``), exports with that user's role and blinding
(``atopic.registry.export``) and writes one file per table. It prints one line per file and says
on stderr when the export is blinded.

Options, identification and errors follow the registry commands (``atopic.cli_registry``): the
database also from ``ATOPIC_DB``, the user from ``ATOPIC_USER``; a failed login, a role that may
not export, an unknown study or a database error print ``Error: ...`` and exit with status 1,
naming no password.
"""

from __future__ import annotations

from pathlib import Path

import click

from atopic.cli_registry import _as_option, _db_option, _engine, _factory, _Group, _identify


@click.group(cls=_Group, short_help="Export the registry to collected tables (DM, EX, QS, LB, AE).")
def export() -> None:
    """Export registry data, with the logged-in user's role and blinding."""


@export.command(short_help="Write DM, EX, QS, LB and AE as Parquet or CSV files.")
@_db_option
@_as_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the files (created if needed).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
    help="File format.",
)
@click.option("--study", "studyid", default=None, metavar="STUDYID", help="Only this study.")
def tables(db: str, as_user: str | None, out_dir: Path, fmt: str, studyid: str | None) -> None:
    """Export the collected tables as the logged-in user: one file per table in OUT
    (dm.parquet, ex.parquet, qs.parquet, lb.parquet, ae.parquet, or .csv).

    Users who may not see the allocation get a blinded export: DM without ARMCD, ARM and
    ACTARMCD; EX with the treatment masked and no dose, unit or lot.
    """
    from atopic.registry.export import export_tables, is_blinded, write_tables

    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with factory() as session, session.begin():
            session.info["actor"] = actor
            frames = export_tables(session, actor, studyid)
    try:
        paths = write_tables(frames, out_dir, fmt)
    except OSError as error:
        raise click.ClickException(f"could not write to {out_dir}: {error}") from None
    for (name, frame), path in zip(frames.items(), paths, strict=True):
        click.echo(f"{name}\t{frame.height} rows\t{path}")
    if is_blinded(frames):
        click.echo(
            f"blinded export ({actor.role}): no ARMCD/ARM/ACTARMCD in DM; "
            "EXTRT masked and EXDOSE, EXDOSU, EXLOT empty in EX",
            err=True,
        )
