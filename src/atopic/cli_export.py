"""``atopic export``: write the registry's collected tables (DM, EX, QS, LB, AE) to files, and
the collected or analysis tables as CDISC submission datasets (``export sdtm`` / ``export adam``:
SAS transport v5 or Dataset-JSON, with a define.xml; ``atopic.interop.cdisc``).
``atopic export fhir`` writes one subject's record as a FHIR R4 Bundle (``atopic.interop.fhir``).

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
from typing import Any

import click

from atopic.cli_registry import _as_option, _db_option, _engine, _factory, _Group, _identify


@click.group(
    cls=_Group,
    short_help="Export collected tables, SDTM/ADaM (XPT, Dataset-JSON) or FHIR.",
)
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


def _out_option(function: Any) -> Any:
    return click.option(
        "--out",
        "out_dir",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Directory for the datasets and define.xml (created if needed).",
    )(function)


def _cdisc_format_option(function: Any) -> Any:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["xpt", "json"]),
        default="xpt",
        show_default=True,
        help="SAS transport v5 (.xpt) or CDISC Dataset-JSON v1.1 (.json).",
    )(function)


def _tables_option(function: Any) -> Any:
    return click.option(
        "--tables",
        "tables_dir",
        default=None,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Read tables from this folder (Parquet or CSV) instead of the registry.",
    )(function)


def _from_registry(db: str, as_user: str | None, studyid: str | None) -> dict[str, Any]:
    from atopic.registry.export import export_tables, is_blinded

    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        with factory() as session, session.begin():
            session.info["actor"] = actor
            frames = export_tables(session, actor, studyid)
    if is_blinded(frames):
        click.echo(
            f"blinded export ({actor.role}): no ARMCD/ARM/ACTARMCD in DM; "
            "EXTRT masked and EXDOSE, EXDOSU, EXLOT empty in EX",
            err=True,
        )
    return dict(frames)


def _write_cdisc(frames: dict[str, Any], out_dir: Path, fmt: str) -> None:
    from atopic.interop.cdisc import write_datasets

    try:
        paths = write_datasets(frames, out_dir, fmt)  # type: ignore[arg-type]
    except OSError as error:
        raise click.ClickException(f"could not write to {out_dir}: {error}") from None
    for name, path in paths.items():
        rows = f"{frames[name].height} rows" if name in frames else "metadata"
        click.echo(f"{name}\t{rows}\t{path}")


@export.command(short_help="Write the collected tables as SDTM-like XPT or Dataset-JSON.")
@_db_option
@_as_option
@_tables_option
@_out_option
@_cdisc_format_option
@click.option("--study", "studyid", default=None, metavar="STUDYID", help="Only this study.")
def sdtm(
    db: str,
    as_user: str | None,
    tables_dir: Path | None,
    out_dir: Path,
    fmt: str,
    studyid: str | None,
) -> None:
    """Write DM, EX, QS, LB, AE (and CM, DS when present) to OUT as dm.xpt ... or dm.json ...,
    with a define.xml (Define-XML 2.1) describing them.

    From the registry as the logged-in user (blinded as for ``export tables``), or with
    --tables from a folder of collected tables (dm.parquet or dm.csv ...).
    """
    from atopic.interop.cdisc import SDTM_NAMES

    if tables_dir is not None:
        frames = _read_folder(tables_dir, SDTM_NAMES)
    else:
        frames = _from_registry(db, as_user, studyid)
    _write_cdisc(frames, out_dir, fmt)


@export.command(short_help="Write ADSL, BDS and ADAE as ADaM-like XPT or Dataset-JSON.")
@_db_option
@_as_option
@_tables_option
@click.option(
    "--design",
    "design_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trial design (TOML): derive ADSL, BDS, ADAE from the collected tables.",
)
@_out_option
@_cdisc_format_option
@click.option("--study", "studyid", default=None, metavar="STUDYID", help="Only this study.")
def adam(
    db: str,
    as_user: str | None,
    tables_dir: Path | None,
    design_file: Path | None,
    out_dir: Path,
    fmt: str,
    studyid: str | None,
) -> None:
    """Write ADSL, BDS and ADAE to OUT as adsl.xpt ... or adsl.json ..., with a define.xml.

    With --design, the analysis tables are derived (atopic.trial.derive) from the collected
    tables of the registry (as the logged-in user) or of --tables. Without --design, --tables
    must hold the analysis tables themselves (adsl.parquet, bds.parquet, adae.parquet, as
    ``atopic trial`` writes them).
    """
    from atopic.interop.cdisc import ADAM_NAMES, SDTM_NAMES

    if design_file is None:
        if tables_dir is None:
            raise click.UsageError("give --design to derive from the registry, or --tables")
        frames = _read_folder(tables_dir, ADAM_NAMES)
    else:
        from atopic.trial.derive import derive_all
        from atopic.trial.design import load_design

        design = load_design(design_file)
        if tables_dir is not None:
            collected = _read_folder(tables_dir, SDTM_NAMES)
        else:
            collected = _from_registry(db, as_user, studyid)
        derived = derive_all(collected, design)
        frames = {name: _eager(derived[name]) for name in ADAM_NAMES if name in derived}
        rejects = derived["REJECTS"]
        if rejects.height:
            click.echo(
                f"{rejects.height} collected rows could not be used in the derivations "
                "(atopic trial writes them to rejects.csv)",
                err=True,
            )
    _write_cdisc(frames, out_dir, fmt)


def _read_folder(folder: Path, names: tuple[str, ...]) -> dict[str, Any]:
    from atopic.interop.cdisc import DECLARATIONS
    from atopic.tables.files import read_tables

    found = read_tables(folder, {name: DECLARATIONS[name] for name in names})
    if not found:
        wanted = ", ".join(f"{n.lower()}.parquet" for n in names)
        raise click.ClickException(f"{folder} holds none of the tables ({wanted} or .csv)")
    return {name: _eager(frame) for name, frame in found.items()}


def _eager(frame: Any) -> Any:
    import polars as pl

    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    return frame


@export.command(short_help="Write one subject's record as a FHIR R4 Bundle (JSON).")
@_db_option
@_as_option
@click.option("--subject", "usubjid", required=True, metavar="USUBJID", help="The subject.")
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The Bundle's JSON file.",
)
def fhir(db: str, as_user: str | None, usubjid: str, out_file: Path) -> None:
    """Write the record of USUBJID as a FHIR R4 Bundle (collection): Patient (pseudonymous),
    Encounters, QuestionnaireResponses with their total-score Observations, MedicationAdministrations,
    AdverseEvents, lab Observations (LOINC for IgE and eosinophils) and the Questionnaires.

    Blinded as ``export tables``: without the allocation, doses carry no product, amount or lot.
    """
    from atopic.cli_import import instrument_schemas, score_items
    from atopic.interop.fhir import subject_bundle

    frames = _from_registry(db, as_user, None)
    bundle = subject_bundle(frames, usubjid, instrument_schemas(), score_items)
    text = bundle.model_dump_json(indent=2, exclude_none=True)
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"could not write to {out_file}: {error}") from None
    click.echo(f"{usubjid}\t{len(bundle.entry or [])} resources\t{out_file}")
