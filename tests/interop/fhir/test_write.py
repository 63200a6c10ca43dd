"""A demo subject's record as a Bundle: resources, pseudonymity, LOINC codes, totals, blinding."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from atopic.cli_import import score_items
from atopic.errors import InvalidInput
from atopic.interop.fhir import subject_bundle
from atopic.registry.export import BLINDED_EXTRT
from atopic.registry.models import Assessment, Subject, Visit


def resources(bundle: Any, kind: str) -> list[Any]:
    return [e.resource for e in bundle.entry if e.resource.get_resource_type() == kind]


@pytest.fixture(scope="module")
def usubjid(collected: dict[str, pl.DataFrame]) -> str:
    return collected["AE"]["USUBJID"][0]


@pytest.fixture(scope="module")
def bundle(collected: dict[str, pl.DataFrame], usubjid: str, schemas: list[Any]) -> Any:
    return subject_bundle(collected, usubjid, schemas, score_items)


def test_one_resource_per_row_visit_assessment_and_instrument(
    bundle: Any, collected: dict[str, pl.DataFrame], usubjid: str
) -> None:
    mine = {k: v.filter(pl.col("USUBJID") == usubjid) for k, v in collected.items()}
    qs = mine["QS"]
    assessments = qs.select("VISITNUM", "QSDTC", "QSCAT", "QSEVAL").unique().height
    kinds = Counter(e.resource.get_resource_type() for e in bundle.entry)
    assert bundle.type == "collection"
    assert kinds["Patient"] == 1
    assert kinds["Encounter"] == qs["VISITNUM"].n_unique()
    assert kinds["QuestionnaireResponse"] == assessments
    assert kinds["Observation"] == assessments + mine["LB"].height
    assert kinds["MedicationAdministration"] == mine["EX"].height
    assert kinds["AdverseEvent"] == mine["AE"].height
    assert kinds["Questionnaire"] == qs["QSCAT"].n_unique()
    answers = sum(len(r.item) for r in resources(bundle, "QuestionnaireResponse"))
    assert answers == qs.height


def test_patient_is_pseudonymous(bundle: Any, usubjid: str) -> None:
    (patient,) = resources(bundle, "Patient")
    assert [i.value for i in patient.identifier] == [usubjid]
    assert patient.name is None
    assert patient.birthDate is None
    assert patient.address is None
    assert patient.gender in ("male", "female")


def test_ige_and_eosinophils_carry_loinc_codes(bundle: Any) -> None:
    codes = {}
    for obs in resources(bundle, "Observation"):
        local = [c.code for c in obs.code.coding if c.system.endswith("/lbtestcd")]
        if local:
            codes[local[0]] = {c.code for c in obs.code.coding if c.system == "http://loinc.org"}
    assert codes["IGE"] == {"19113-0"}
    assert codes["EOS"] == {"26449-9"}


def test_total_observations_equal_the_totals_the_registry_stored(
    bundle: Any, demo_factory: sessionmaker[Any], usubjid: str
) -> None:
    with demo_factory() as session:
        stored = {
            (a.instrument, float(v.visitnum)): (Decimal(a.total), a.band)
            for a, v in session.execute(
                select(Assessment, Visit)
                .join(Visit, Visit.id == Assessment.visit_id)
                .join(Subject, Subject.id == Visit.subject_id)
                .where(Subject.usubjid == usubjid)
            )
        }
    visits = {
        f"Encounter/{e.id}": float(e.identifier[0].value) for e in resources(bundle, "Encounter")
    }
    totals = {}
    for obs in resources(bundle, "Observation"):
        if obs.code.coding[0].system.endswith("/instrument-total"):
            band = obs.interpretation[0].text if obs.interpretation else None
            key = (obs.code.coding[0].code, visits[obs.encounter.reference])
            totals[key] = (obs.valueQuantity.value, band)
    assert totals == stored


def test_blinded_export_has_no_dose_product_or_lot(
    blinded: dict[str, pl.DataFrame], usubjid: str, schemas: list[Any]
) -> None:
    bundle = subject_bundle(blinded, usubjid, schemas, score_items)
    (dose,) = resources(bundle, "MedicationAdministration")
    assert dose.dosage.dose is None
    assert dose.dosage.route.text == "SUBCUTANEOUS"
    (medication,) = dose.contained
    assert medication.code.text == BLINDED_EXTRT
    assert medication.batch is None
    assert "LOT-" not in bundle.model_dump_json()


def test_unblinded_dose_keeps_amount_unit_and_lot(
    bundle: Any, collected: Any, usubjid: str
) -> None:
    ex = collected["EX"].filter(pl.col("USUBJID") == usubjid).row(0, named=True)
    (dose,) = resources(bundle, "MedicationAdministration")
    assert float(dose.dosage.dose.value) == ex["EXDOSE"]
    assert dose.dosage.dose.unit == ex["EXDOSU"]
    assert dose.contained[0].batch.lotNumber == ex["EXLOT"]


def test_unknown_subject_is_refused(collected: Any, schemas: list[Any]) -> None:
    with pytest.raises(InvalidInput, match="USUBJID must be a subject in DM; got 'NOPE'"):
        subject_bundle(collected, "NOPE", schemas)
