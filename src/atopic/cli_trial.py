"""``atopic analyze``: derive the analysis tables, run the design's analyses, write the report.

``atopic analyze --tables DIR --design FILE --out DIR`` reads collected tables (dm, ex, qs, lb, ae
and optional cm, ds as Parquet or CSV) from DIR. ``atopic analyze --db URL --as USER`` exports
them from a registry instead: the registry must be locked and the user must see the allocation
(a statistician after lock), since an analysis by arm of a trial still running would unblind it.
"""

from __future__ import annotations

from pathlib import Path

import click

from atopic.cli_options import design_option, engine_option, spark_master_option
from atopic.cli_registry import _as_option, _engine, _factory, _identify, _message
from atopic.errors import InvalidInput


@click.command(short_help="Analyse a trial: analysis tables, ARD and report.html.")
@click.option(
    "--tables",
    "tables_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of collected tables (dm, ex, qs, lb, ae[, cm, ds] .parquet or .csv).",
)
@click.option("--db", default=None, help="Or: a locked registry (path or URL) to export from.")
@_as_option
@design_option
@click.option(
    "--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder."
)
@click.option("--imputations", default=20, show_default=True, help="Multiple imputations (MI).")
@click.option("--seed", default=20261130, show_default=True, help="Seed of the imputations.")
@engine_option
@spark_master_option
def analyze(
    tables_dir: Path | None,
    db: str | None,
    as_user: str | None,
    design_file: Path,
    out_dir: Path,
    imputations: int,
    seed: int,
    engine_name: str,
    spark_master: str | None,
) -> None:
    """Derive ADSL, BDS and ADAE from collected tables, run every analysis the design names and
    write the analysis tables, the ARD (Parquet and CSV), rejects.csv and report.html to OUT."""
    from atopic.tables.collected import COLLECTED
    from atopic.tables.engines import open_engine
    from atopic.trial.analyze.run import Options
    from atopic.trial.design import load_design
    from atopic.trial.workflow import run

    if (tables_dir is None) == (db is None):
        raise click.UsageError("give either --tables DIR or --db URL")
    try:
        design = load_design(design_file)
        with open_engine(engine_name, spark_master=spark_master) as engine:
            if tables_dir is not None:
                tables = engine.read(tables_dir, COLLECTED)
            else:
                exported = _from_registry(db or "", as_user, design.study.studyid)
                tables = {name: engine.from_polars(frame) for name, frame in exported.items()}
            opts = Options(mi_imputations=imputations, seed=seed)
            written = run(tables, design, out_dir, opts)
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    except click.ClickException:
        raise
    except Exception as error:  # the registry's refusals (Forbidden, database errors) as words
        message = _message(error)
        if message is None:
            raise
        raise click.ClickException(message) from None
    for name, count in written.rows.items():
        click.echo(f"{name}\t{count} rows")
    for name, path in written.paths.items():
        click.echo(f"{name}\t{path}")


def _from_registry(db: str, as_user: str | None, studyid: str) -> dict:
    """The collected tables of ``studyid``, exported as the user from a locked registry."""
    from atopic.registry.admin import is_locked
    from atopic.registry.export import export_tables, is_blinded

    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with factory() as session, session.begin():
            session.info["actor"] = actor
            if not is_locked(session):
                raise click.ClickException(
                    "the registry is not locked: lock it (atopic db lock) before the analysis"
                )
            frames = export_tables(session, actor, studyid)
    if is_blinded(frames):
        raise click.ClickException(
            f"the export for {actor.role} is blinded: the analysis needs the allocation "
            "(log in as a statistician after lock)"
        )
    return dict(frames)
