"""``atopic import``: bring records from other systems into the registry.

``atopic import fhir --db URL --as USERNAME [--pharmacist USERNAME] FILE`` reads a FHIR R4
Bundle (JSON) of one subject, as ``atopic export fhir`` writes it, checks every resource and
answer (``atopic.interop.fhir``) and records the subject, visits, assessments, labs, doses and
adverse events through the service layer (``atopic.registry.load``): role-checked, audited, in
one transaction, so a refused Bundle leaves nothing behind. Doses can only be recorded by a
pharmacist: give ``--pharmacist`` (password from ``ATOPIC_PHARMACIST_PASSWORD`` or a prompt)
when the Bundle holds MedicationAdministrations.

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


@click.group("import", cls=_Group, short_help="Import records (FHIR R4 Bundles) into the registry.")
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
