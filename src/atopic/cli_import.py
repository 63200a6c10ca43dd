"""``atopic import``: bring records from other systems into the registry.

``atopic import fhir --db URL --as USERNAME [--pharmacist USERNAME] FILE`` reads a FHIR R4
Bundle (JSON) of one subject, as ``atopic export fhir`` writes it, checks every resource and
answer (``atopic.interop.fhir``) and records the subject, visits, assessments, labs, doses and
adverse events through the service layer (``atopic.registry.load``): role-checked, audited, in
one transaction, so a refused Bundle leaves nothing behind. Doses can only be recorded by a
pharmacist: give ``--pharmacist`` (password from ``ATOPIC_PHARMACIST_PASSWORD`` or a prompt)
when the Bundle holds MedicationAdministrations.

``atopic import redcap --export CSV --dictionary CSV --mapping TOML --out DIR`` maps a REDCap
export to the collected tables DM, QS and LB (``atopic.interop.redcap``; item values checked by
the instruments' own domains, ``item_accepts``) and writes them with rejects.csv and ignored.csv;
nothing is written to the registry.

This module also holds the wiring both FHIR commands share: ``instrument_schemas()`` (the
instrument declarations as data for interop) and ``score_items`` (totals for the Observations).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from atopic.cli_registry import _as_option, _db_option, _engine, _factory, _Group, _identify


def instrument_schemas() -> list[dict[str, Any]]:
    """Every instrument's declaration as data for ``atopic.interop.fhir``: ``schema()`` plus
    ``qscat`` and, per field, ``context`` (the age, which is not asked)."""
    from atopic.instruments import INSTRUMENTS

    schemas = []
    for spec in INSTRUMENTS.values():
        schema = spec.schema()
        schema["qscat"] = spec.qscat
        for field in schema["fields"]:
            field["context"] = spec.item(field["field"]).context
        schemas.append(schema)
    return schemas


def score_items(
    instrument: str, values: Mapping[str, Any], age: float | None
) -> tuple[Decimal, str | None]:
    """Total and band of one assessment given as ``{QSTESTCD: value}`` (and the age in years,
    for instruments that need it), scored by ``atopic.instruments``."""
    from atopic.instruments import INSTRUMENTS
    from atopic.instruments.scalar import score_fields

    spec = next(s for s in INSTRUMENTS.values() if s.name == instrument)
    flat: dict[str, object] = {}
    for item in spec.items:
        if item.context:
            flat[item.field] = None if age is None else int(age)
        elif item.code in values:
            flat[item.field] = values[item.code]
    result = score_fields(spec, flat)
    return result.total, result.band


@click.group("import", cls=_Group, short_help="Import records (FHIR R4 Bundles, REDCap exports).")
def import_() -> None:
    """Import records into the registry, with the logged-in user's role; audited."""


@import_.command(short_help="Import one subject's FHIR R4 Bundle (JSON).")
@_db_option
@_as_option
@click.option(
    "--pharmacist",
    "pharmacist_user",
    default=None,
    metavar="USERNAME",
    help="Pharmacist who records the doses (password from ATOPIC_PHARMACIST_PASSWORD).",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def fhir(db: str, as_user: str | None, pharmacist_user: str | None, file: Path) -> None:
    """Import the subject in FILE (a FHIR R4 Bundle as ``atopic export fhir`` writes it):
    enrol, then record visits, assessments, labs, doses and adverse events, all or nothing."""
    from atopic.interop.fhir import bundle_tables
    from atopic.registry.db import transaction
    from atopic.registry.load import load_tables

    record = bundle_tables(file.read_bytes(), instrument_schemas())
    with _engine(db) as engine:
        factory = _factory(engine)
        actor = _identify(factory, as_user)
        pharmacist = None
        if pharmacist_user is not None:
            pharmacist = _authenticate(factory, pharmacist_user)
        with transaction(factory, actor) as session:
            loaded = load_tables(
                session,
                actor,
                record.tables,
                pharmacist=pharmacist,
                instruments=record.instruments,
                sources=record.sources,
            )
    for usubjid in loaded:
        counts = ", ".join(
            f"{name} {record.tables[name].height}" for name in ("QS", "LB", "EX", "AE")
        )
        click.echo(f"{usubjid}\timported\t{counts} rows")


def _authenticate(factory: Any, username: str) -> Any:
    from atopic.registry.users import authenticate

    password = os.environ.get("ATOPIC_PHARMACIST_PASSWORD")
    if password is None:
        password = click.prompt(f"Password for {username}", hide_input=True, err=True)
    with factory() as session, session.begin():
        actor = authenticate(session, username, password)
    if actor is None:
        raise click.ClickException(
            "authentication failed for the pharmacist: wrong username or password, or disabled"
        )
    return actor


def item_accepts(instrument: str, code: str, value: object) -> bool:
    """Whether ``value`` is allowed for item ``code`` of ``instrument`` (``Instrument.name``),
    by the item's own domain (``atopic.instruments``): the check ``atopic.interop.redcap`` uses."""
    from atopic.instruments import INSTRUMENTS

    spec = next(s for s in INSTRUMENTS.values() if s.name == instrument)
    item = next(i for i in spec.items if i.code == code)
    return item.domain.units(value) is not None


@import_.command(short_help="Import a REDCap CSV export into collected tables (DM, QS, LB).")
@click.option(
    "--export",
    "export_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The REDCap export (CSV, raw data, not labels).",
)
@click.option(
    "--dictionary",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The project's data dictionary (CSV).",
)
@click.option(
    "--mapping",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The mapping of REDCap fields and events to atopic items (TOML).",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="parquet",
    show_default=True,
    help="Format of dm, qs, lb (rejects.csv and ignored.csv are always CSV).",
)
def redcap(export_path: Path, dictionary: Path, mapping: Path, out: Path, fmt: str) -> None:
    """Map a REDCap export to the collected tables DM, QS and LB in OUT, with rejects.csv (every
    unmapped or invalid value, with the reason) and ignored.csv (columns the mapping ignores)."""
    from atopic.interop.redcap import import_redcap, read_dictionary, read_export, read_mapping
    from atopic.tables import check_table
    from atopic.tables.collected import COLLECTED

    schemas = instrument_schemas()
    fields = read_dictionary(dictionary)
    plan = read_mapping(mapping, fields, schemas)
    result = import_redcap(read_export(export_path), fields, plan, schemas, accepts=item_accepts)
    for name, frame in result.tables.items():
        check_table(frame, COLLECTED[name])
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in result.tables.items():
        target = out / f"{name.lower()}.{fmt}"
        if fmt == "csv":
            frame.write_csv(target)
        else:
            frame.write_parquet(target)
    result.rejects.write_csv(out / "rejects.csv")
    result.ignored.write_csv(out / "ignored.csv")
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    click.echo(f"{result.values_in} values: {counts}")
    click.echo(f"wrote {out}")
