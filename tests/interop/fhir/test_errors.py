"""Bad Bundles are refused with an InvalidInput naming the resource, field, value and what is
allowed, and nothing of a refused Bundle reaches the registry (one transaction)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from atopic.errors import InvalidInput
from atopic.interop.fhir import bundle_tables, subject_bundle
from atopic.registry.audit import Actor
from atopic.registry.db import transaction
from atopic.registry.load import load_tables
from atopic.registry.models import AuditEntry, Subject
from atopic.registry.roles import Forbidden

from .conftest import INVESTIGATOR, PHARMACIST

Fresh = Callable[[], tuple[Path, sessionmaker[Any]]]


@pytest.fixture(scope="module")
def bundle_json(collected: dict[str, pl.DataFrame], schemas: list[Any]) -> dict[str, Any]:
    usubjid = collected["AE"]["USUBJID"][0]
    bundle = subject_bundle(collected, usubjid, schemas)
    return json.loads(bundle.model_dump_json(exclude_none=True))


def entry(data: dict[str, Any], kind: str, n: int = 0) -> dict[str, Any]:
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind][n]


def changed(data: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copy = json.loads(json.dumps(data))
    change(copy)
    return copy


def load(factory: sessionmaker[Any], data: dict[str, Any], schemas: list[Any], **kw: Any) -> None:
    record = bundle_tables(data, schemas)
    with transaction(factory, kw.pop("actor", INVESTIGATOR)) as session:
        load_tables(
            session,
            session.info["actor"],
            record.tables,
            instruments=record.instruments,
            sources=record.sources,
            **kw,
        )


def nothing_imported(factory: sessionmaker[Any]) -> bool:
    """No subject and no audited clinical write: the transaction left nothing behind."""
    clinical = ("subject", "visit", "assessment", "assessment_item", "dose", "lab", "adverse_event")
    with factory() as session:
        subjects = session.scalar(select(func.count()).select_from(Subject))
        writes = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.table_name.in_(clinical))
        )
    return subjects == 0 and writes == 0


@pytest.mark.parametrize(
    ("change", "field", "value", "message"),
    [
        (lambda r: r.pop("status"), "status", None, "required"),
        (lambda r: r.update(bogus=1), "bogus", 1, "Extra inputs"),
        (
            lambda r: r["item"][0]["answer"][0].update(valueInteger="abc"),
            "item.0.answer.0.valueInteger",
            "abc",
            "valid integer",
        ),
    ],
)
def test_invalid_fhir_names_the_resource_and_field(
    bundle_json: dict[str, Any],
    schemas: list[Any],
    change: Callable[[dict[str, Any]], Any],
    field: str,
    value: Any,
    message: str,
) -> None:
    bad = changed(bundle_json, lambda d: change(entry(d, "QuestionnaireResponse")))
    with pytest.raises(InvalidInput) as error:
        bundle_tables(bad, schemas)
    assert error.value.subject == "QuestionnaireResponse/qr-1"
    assert error.value.field == field
    assert error.value.value == value
    assert "valid FHIR R4" in error.value.allowed
    assert message in error.value.allowed


def test_not_json_is_refused(schemas: list[Any]) -> None:
    with pytest.raises(InvalidInput, match="Bundle JSON must be a FHIR R4 Bundle in JSON"):
        bundle_tables("{not json", schemas)


def test_unknown_link_id_names_the_response_and_the_codes(
    bundle_json: dict[str, Any], schemas: list[Any]
) -> None:
    def rename(d: dict[str, Any]) -> None:
        entry(d, "QuestionnaireResponse")["item"][0]["linkId"] = "EASI999"

    with pytest.raises(InvalidInput) as error:
        bundle_tables(changed(bundle_json, rename), schemas)
    assert error.value.subject == "QuestionnaireResponse/qr-1"
    assert error.value.field == "item.0.linkId"
    assert error.value.value == "EASI999"
    assert "EASI" in error.value.allowed


@pytest.mark.parametrize(
    ("instrument", "value", "allowed"),
    [("POEM", 5, "0, 1, 2, 3, 4"), ("EASI", 0.5, "1.5"), ("PP-NRS", 11, "10")],
)
def test_value_outside_the_instrument_is_refused(
    bundle_json: dict[str, Any], schemas: list[Any], instrument: str, value: Any, allowed: str
) -> None:
    url = f"https://atopic.dev/fhir/Questionnaire/{instrument}"
    responses = [
        e["resource"] for e in bundle_json["entry"] if e["resource"].get("questionnaire") == url
    ]
    rid = responses[0]["id"]

    def set_value(d: dict[str, Any]) -> None:
        r = next(e["resource"] for e in d["entry"] if e["resource"]["id"] == rid)
        key = "valueDecimal" if isinstance(value, float) else "valueInteger"
        r["item"][0]["answer"] = [{key: value}]

    with pytest.raises(InvalidInput) as error:
        bundle_tables(changed(bundle_json, set_value), schemas)
    assert error.value.subject == f"QuestionnaireResponse/{rid}"
    assert error.value.field.startswith("item.0.answer")
    assert error.value.value == value
    assert allowed in error.value.allowed


def test_a_refused_row_late_in_the_bundle_leaves_nothing(
    bundle_json: dict[str, Any], schemas: list[Any], fresh_registry: Fresh
) -> None:
    def unrelated(d: dict[str, Any]) -> None:
        entry(d, "AdverseEvent")["suspectEntity"][0]["causality"][0]["assessment"]["text"] = "MAYBE"

    _, factory = fresh_registry()
    with pytest.raises(InvalidInput) as error:
        load(factory, changed(bundle_json, unrelated), schemas, pharmacist=PHARMACIST)
    assert error.value.subject == "AdverseEvent/ae-1: adverse event"
    assert error.value.field == "related"
    assert error.value.value == "MAYBE"
    assert nothing_imported(factory)


def test_a_blinded_bundle_cannot_be_imported(
    blinded: dict[str, pl.DataFrame], schemas: list[Any], fresh_registry: Fresh
) -> None:
    usubjid = blinded["DM"]["USUBJID"][0]
    data = json.loads(subject_bundle(blinded, usubjid, schemas).model_dump_json(exclude_none=True))
    _, factory = fresh_registry()
    with pytest.raises(InvalidInput, match=r"MedicationAdministration/dose-1: EX EXDOSE"):
        load(factory, data, schemas, pharmacist=PHARMACIST)
    assert nothing_imported(factory)


def test_doses_need_a_pharmacist(
    bundle_json: dict[str, Any], schemas: list[Any], fresh_registry: Fresh
) -> None:
    _, factory = fresh_registry()
    with pytest.raises(Forbidden, match="may not record dose"):
        load(factory, bundle_json, schemas)
    assert nothing_imported(factory)


def test_a_read_only_role_may_not_import(
    bundle_json: dict[str, Any], schemas: list[Any], fresh_registry: Fresh
) -> None:
    _, factory = fresh_registry()
    with pytest.raises(Forbidden, match="may not enrol"):
        load(factory, bundle_json, schemas, actor=Actor("monitor", "monitor"))
    assert nothing_imported(factory)


def test_a_subject_already_enrolled_is_refused_by_its_patient(
    bundle_json: dict[str, Any], schemas: list[Any], fresh_registry: Fresh
) -> None:
    _, factory = fresh_registry()
    load(factory, bundle_json, schemas, pharmacist=PHARMACIST)
    with pytest.raises(InvalidInput) as error:
        load(factory, bundle_json, schemas, pharmacist=PHARMACIST)
    assert error.value.subject == "Patient/patient: subject"
    assert error.value.field == "usubjid"
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Subject)) == 1
