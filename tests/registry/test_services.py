"""Services on SQLite and PostgreSQL: validation with the instruments' words, roles, audit, lock."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from atopic.errors import InvalidInput
from atopic.registry import services as svc
from atopic.registry.audit import Actor, AuditedSession, verify_chain
from atopic.registry.db import session_factory, transaction
from atopic.registry.models import Assessment, AssessmentItem, AuditEntry, Dose, Study
from atopic.registry.roles import Forbidden

ADMIN = Actor("ada", "admin")
INV = Actor("ivan", "investigator")
COORD = Actor("cora", "coordinator")
PHARM = Actor("phil", "pharmacist")
MONITOR = Actor("mona", "monitor")
STAT = Actor("stan", "statistician")

REGION = {
    "erythema": 2,
    "induration": 1.5,
    "excoriation": 1,
    "lichenification": 1,
    "area_percent": 20,
}
EASI_FORM = {"head_neck": REGION, "upper_limbs": REGION, "trunk": REGION, "lower_limbs": REGION}


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[AuditedSession]:
    factory = session_factory(engine)
    with transaction(factory, ADMIN) as session:
        svc.add_site(session, ADMIN, "S01", "Site one")
        svc.create_study(session, ADMIN, "ATO-001", "MSC dose-ranging")
    with transaction(factory, INV) as session:
        svc.enrol_subject(
            session,
            INV,
            studyid="ATO-001",
            site_code="S01",
            usubjid="ATO-001-0001",
            sex="F",
            enrolled_on="2026-01-05",
            birth_date="1990-03-01",
        )
        svc.schedule_visit(session, INV, "ATO-001-0001", 1, "BASELINE", actual_date="2026-01-05")
    return factory


def _easi(factory: sessionmaker[AuditedSession], actor: Actor = INV, **kw: object) -> Assessment:
    with transaction(factory, actor) as session:
        return svc.record_assessment(
            session,
            actor,
            usubjid="ATO-001-0001",
            visitnum=1,
            instrument="easi",
            data=kw.pop("data", EASI_FORM),
            assessed_on="2026-01-05",
            **kw,
        )


def test_assessment_is_scored_stored_as_entered_and_version_stamped(factory) -> None:
    assessment = _easi(factory)
    # 5.5 x 2 x (0.1 + 0.2 + 0.3 + 0.4) = 11; age 35 from the birth date
    assert assessment.total == "11"
    assert assessment.band == "moderate"
    assert assessment.version.startswith("EASI")
    with factory() as session:
        items = {i.field: i for i in session.scalars(select(AssessmentItem))}
    assert items["trunk.induration"].value_text == "1.5"
    assert items["trunk.area_percent"].value_text == "20"
    assert items["trunk.induration"].qstestcd == "EASI114"
    assert "age_years" not in items


def test_invalid_item_is_refused_with_the_instrument_message_and_nothing_saved(factory) -> None:
    bad = dict(EASI_FORM, trunk=dict(REGION, erythema=0.5))
    with pytest.raises(
        InvalidInput, match=r"^EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 0.5$"
    ):
        _easi(factory, data=bad)
    with factory() as session:
        assert session.scalars(select(Assessment)).first() is None


def test_correction_needs_a_reason_and_changes_only_what_changed(factory) -> None:
    _easi(factory)
    changed = dict(EASI_FORM, trunk=dict(REGION, erythema=3))
    with pytest.raises(InvalidInput, match="EASI reason must be given to correct"):
        _easi(factory, data=changed)
    corrected = _easi(factory, data=changed, reason="erythema misread")
    assert corrected.total == "11.6"  # trunk 0.3 x 2 x 6.5 = 3.9 instead of 3.3
    with factory() as session:
        updates = session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).all()
        assert {(u.table_name, u.field, u.old, u.new) for u in updates} == {
            ("assessment", "total", "11", "11.6"),
            ("assessment_item", "value_text", "2", "3"),
            ("assessment_item", "value_num", "2.0", "3.0"),
        }
        assert {u.reason for u in updates} == {"erythema misread"}
        assert verify_chain(session).ok


@pytest.mark.parametrize("actor", [MONITOR, STAT, PHARM, ADMIN])
def test_roles_without_data_entry_cannot_record_scores(factory, actor: Actor) -> None:
    with pytest.raises(Forbidden, match=f"an? {actor.role} may not record assessment"):
        _easi(factory, actor=actor)


def test_only_the_pharmacist_records_doses(factory) -> None:
    dose = {
        "usubjid": "ATO-001-0001",
        "product": "MSC",
        "lot": "L001",
        "dose": 2.5e7,
        "unit": "cells",
        "route": "SC",
        "given_at": "2026-01-05T10:30:00",
    }
    for actor in (INV, COORD, MONITOR):
        with pytest.raises(Forbidden), transaction(factory, actor) as session:
            svc.record_dose(session, actor, **dose)
    with transaction(factory, PHARM) as session:
        svc.record_dose(session, PHARM, **dose)
    with factory() as session:
        assert session.scalars(select(Dose)).one().given_by == "phil"
    with (
        pytest.raises(InvalidInput, match="dose route must be one of SC, IV; got 'IM'"),
        transaction(factory, PHARM) as session,
    ):
        svc.record_dose(session, PHARM, **dict(dose, route="IM"))


def test_lab_units_and_adverse_event_rules(factory) -> None:
    with (
        pytest.raises(InvalidInput, match=r"lab unit must be IU/mL for IGE; got 'kU/L'"),
        transaction(factory, COORD) as session,
    ):
        svc.record_lab(
            session,
            COORD,
            usubjid="ATO-001-0001",
            testcd="IGE",
            value=1200,
            unit="kU/L",
            collected_on="2026-01-05",
        )
    with (
        pytest.raises(InvalidInput, match="adverse event end_date must be on or after start_date"),
        transaction(factory, INV) as session,
    ):
        svc.record_adverse_event(
            session,
            INV,
            usubjid="ATO-001-0001",
            term="Headache",
            start_date="2026-02-01",
            end_date="2026-01-01",
            related="NOT RELATED",
            severity="MILD",
        )


def test_diagnosis_is_kept_with_its_answers(factory) -> None:
    from atopic.diagnosis import HANIFIN_RAJKA

    answers = dict.fromkeys(HANIFIN_RAJKA.codes, True)
    with transaction(factory, INV) as session:
        record = svc.record_diagnosis(
            session,
            INV,
            usubjid="ATO-001-0001",
            criteria="hanifin_rajka",
            features=answers,
            assessed_on="2026-01-05",
        )
    assert record.diagnosed
    assert json.loads(record.result)["age_phase"]["code"] == "adolescence_adulthood"


def test_audit_trail_is_for_monitors_and_names_who_and_what(factory) -> None:
    _easi(factory)
    with factory() as session:
        with pytest.raises(Forbidden):
            svc.audit_trail(session, INV)
        rows = svc.audit_trail(session, MONITOR, table="assessment")
    assert {r["username"] for r in rows} == {"ivan"}
    assert any(r["field"] == "total" and r["new"] == "11" for r in rows)


def test_locked_database_refuses_new_scores(factory) -> None:
    with transaction(factory, ADMIN, reason="database lock") as session:
        session.scalars(select(Study)).one().locked = True
    with pytest.raises(InvalidInput, match="database must be unlocked"):
        _easi(factory)


def test_subject_record_has_no_arm_for_blinded_roles(factory) -> None:
    _easi(factory)
    with factory() as session:
        for actor in (INV, COORD, MONITOR, STAT, ADMIN):
            record = svc.subject_record(session, actor, "ATO-001-0001")
            assert "arm" not in record
            assert record["visits"][0]["assessments"][0]["total"] == 11.0


def test_scorad_and_objective_scorad_are_not_both_recorded_at_a_visit(factory) -> None:
    form = {
        "extent_percent": 20,
        "intensity": {
            "erythema": 2,
            "oedema_papulation": 2,
            "oozing_crusts": 1,
            "excoriation": 2,
            "lichenification": 1,
            "dryness": 2,
        },
    }
    with transaction(factory, INV) as session:
        svc.record_assessment(
            session,
            INV,
            usubjid="ATO-001-0001",
            visitnum=1,
            instrument="oscorad",
            data=form,
            assessed_on="2026-01-05",
        )
    with (
        pytest.raises(InvalidInput, match="not recorded beside oSCORAD"),
        transaction(factory, INV) as session,
    ):
        svc.record_assessment(
            session,
            INV,
            usubjid="ATO-001-0001",
            visitnum=1,
            instrument="scorad",
            data=dict(form, pruritus=5, sleeplessness=2),
            assessed_on="2026-01-05",
        )
