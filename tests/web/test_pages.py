"""The subject pages (diagnosis, doses, labs, adverse events), the audit trail and the trial
dashboard through HTTP: who may read and write, CSRF on every form, 422 with the registry's own
words (the form re-rendered with the values kept), JSON twins that match the pages, and no arm
code for a blinded role anywhere."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction
from tests.web.conftest import ARMS, ROLES, csrf_of, example_path

SUBJECT = "ATO-W-0001"
OTHER = "ATO-W-0002"
ClientAs = Callable[[str], TestClient]
BLINDED = [role for role in ROLES if role != "pharmacist"]


@pytest.fixture(scope="module", autouse=True)
def scores(registry: str) -> dict[str, float]:
    """EASI at WEEK 0 for both subjects and at WEEK 2 for the first; WEEK 4 planned for both."""
    engine = make_engine(registry)
    factory = session_factory(engine)
    coordinator = Actor("coordinator", "coordinator")
    easi = json.loads(example_path().read_text())
    del easi["age_years"]
    milder = json.loads(json.dumps(easi))
    for region in ("head_neck", "upper_limbs", "trunk", "lower_limbs"):
        milder[region]["erythema"] = 1
    totals: dict[str, float] = {}
    with transaction(factory, coordinator) as session:
        for usubjid, data in ((SUBJECT, easi), (OTHER, milder)):
            saved = svc.record_assessment(
                session,
                coordinator,
                usubjid=usubjid,
                visitnum=1,
                instrument="easi",
                data=data,
                assessed_on="2026-01-05",
            )
            totals[usubjid] = float(saved.total)
            svc.schedule_visit(
                session, coordinator, usubjid, 3, "WEEK 4", planned_date="2026-02-02"
            )
        svc.schedule_visit(session, coordinator, SUBJECT, 2, "WEEK 2", actual_date="2026-01-19")
        svc.record_assessment(
            session,
            coordinator,
            usubjid=SUBJECT,
            visitnum=2,
            instrument="easi",
            data=milder,
            assessed_on="2026-01-19",
        )
    engine.dispose()
    return totals


def _text(response: object) -> str:
    """A page's text with entities decoded (messages quote values with ')."""
    return html.unescape(response.text)  # type: ignore[attr-defined]


def _form_csrf(client: TestClient) -> dict[str, str]:
    return {"csrf_token": csrf_of(client)}


def _header_csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_of(client)}


# --- who may read ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_pages_and_twins_for_each_role(client_as: ClientAs, role: str) -> None:
    client = client_as(role)
    for tail in ("diagnosis", "labs", "adverse-events"):
        assert client.get(f"/subjects/{SUBJECT}/{tail}").status_code == 200, tail
        assert client.get(f"/api/subjects/{SUBJECT}/{tail}").status_code == 200, tail
    assert client.get("/dashboard").status_code == 200
    assert client.get("/api/dashboard").status_code == 200
    doses = (client.get(f"/subjects/{SUBJECT}/doses"), client.get(f"/api/subjects/{SUBJECT}/doses"))
    audit = (client.get("/audit"), client.get("/api/audit"))
    expected_doses = 200 if role == "pharmacist" else 403
    expected_audit = 200 if role in ("monitor", "admin") else 403
    assert [r.status_code for r in doses] == [expected_doses] * 2
    assert [r.status_code for r in audit] == [expected_audit] * 2
    if role != "pharmacist":
        article = "an" if role[0] in "aeiou" else "a"
        message = f"{article} {role} may not read doses (allowed: pharmacist)"
        assert message in doses[0].text
        assert doses[1].json() == {"error": {"field": "role", "message": message}}


def test_pages_need_a_login_and_the_api_a_credential(app) -> None:
    client = TestClient(app, base_url="http://127.0.0.1")
    for path in (f"/subjects/{SUBJECT}/labs", f"/subjects/{SUBJECT}/doses", "/audit", "/dashboard"):
        assert client.get(path, follow_redirects=False).headers["location"] == "/login"
    for path in (f"/api/subjects/{SUBJECT}/labs", "/api/dashboard", "/api/audit"):
        assert client.get(path).status_code == 401


def test_forms_are_offered_only_to_roles_that_may_write(client_as: ClientAs) -> None:
    forms = {
        "labs": ("investigator", "coordinator"),
        "adverse-events": ("investigator", "coordinator"),
        "diagnosis": ("investigator",),
    }
    for role in ROLES:
        client = client_as(role)
        for tail, writers in forms.items():
            text = client.get(f"/subjects/{SUBJECT}/{tail}").text
            assert (f'action="/subjects/{SUBJECT}/{tail}"' in text) == (role in writers), (
                role,
                tail,
            )


def test_an_unknown_subject_answers_with_the_registry_message(client_as: ClientAs) -> None:
    response = client_as("monitor").get("/api/subjects/NOPE/labs")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "subject usubjid must be an enrolled subject; got 'NOPE'"
    )


# --- labs -----------------------------------------------------------------------------------


def test_a_lab_saved_from_the_page_is_listed_on_the_page_and_its_twin(client_as: ClientAs) -> None:
    client = client_as("coordinator")
    form = {"testcd": "EOS", "value": "0.45", "unit": "10^9/L", "collected_on": "2026-01-05"}
    saved = client.post(
        f"/subjects/{SUBJECT}/labs",
        data=form | {"visitnum": "1.0"} | _form_csrf(client),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/subjects/{SUBJECT}/labs?saved=1"
    page = client.get(saved.headers["location"]).text
    assert 'role="status"' in page
    labs = client_as("monitor").get(f"/api/subjects/{SUBJECT}/labs").json()["labs"]
    eos = [lab for lab in labs if lab["testcd"] == "EOS"]
    assert eos[-1] | {"id": 0} == {
        "id": 0,
        "testcd": "EOS",
        "value": 0.45,
        "unit": "10^9/L",
        "collected_on": "2026-01-05",
        "visitnum": 1.0,
        "visit": "WEEK 0",
    }
    assert "<td>0.45</td>" in page
    assert "<td>WEEK 0</td>" in page


def test_lab_form_needs_the_csrf_token_and_a_data_entry_role(client_as: ClientAs) -> None:
    form = {"testcd": "IGE", "value": "120", "unit": "IU/mL", "collected_on": "2026-01-05"}
    coordinator = client_as("coordinator")
    before = len(coordinator.get(f"/api/subjects/{SUBJECT}/labs").json()["labs"])
    assert coordinator.post(f"/subjects/{SUBJECT}/labs", data=form).status_code == 403
    wrong = form | {"csrf_token": "not-the-token"}
    assert coordinator.post(f"/subjects/{SUBJECT}/labs", data=wrong).status_code == 403
    monitor = client_as("monitor")
    refused = monitor.post(f"/subjects/{SUBJECT}/labs", data=form | _form_csrf(monitor))
    assert refused.status_code == 403
    assert "a monitor may not record lab" in refused.text
    assert len(coordinator.get(f"/api/subjects/{SUBJECT}/labs").json()["labs"]) == before


def test_a_wrong_lab_unit_answers_422_with_the_registry_message(client_as: ClientAs) -> None:
    message = "lab unit must be IU/mL for IGE; got '10^9/L'"
    client = client_as("investigator")
    form = {"testcd": "IGE", "value": "350", "unit": "10^9/L", "collected_on": "2026-01-06"}
    page = client.post(f"/subjects/{SUBJECT}/labs", data=form | _form_csrf(client))
    assert page.status_code == 422
    text = _text(page)
    assert f'<p class="error" role="alert" id="lab-unit-error">{message}</p>' in text
    assert 'aria-invalid="true" aria-describedby="lab-unit-error lab-unit-hint"' in text
    assert 'value="350"' in text  # the values are kept
    assert '<option value="IGE" selected>' in text
    assert 'id="lab-collected" name="collected_on" type="date" required value="2026-01-06"' in text
    api = client.post(
        f"/api/subjects/{SUBJECT}/labs",
        json=form | {"value": 350},
        headers=_header_csrf(client),
    )
    assert api.status_code == 422
    assert api.json() == {"error": {"field": "unit", "message": message}}


def test_lab_api_saves_with_the_csrf_header_only(client_as: ClientAs) -> None:
    client = client_as("coordinator")
    body = {"testcd": "IGE", "value": 480, "unit": "IU/mL", "collected_on": "2026-01-05"}
    assert client.post(f"/api/subjects/{OTHER}/labs", json=body).status_code == 403
    saved = client.post(f"/api/subjects/{OTHER}/labs", json=body, headers=_header_csrf(client))
    assert saved.status_code == 201, saved.text
    assert saved.json()["value"] == 480
    assert saved.json() in client.get(f"/api/subjects/{OTHER}/labs").json()["labs"]
    text = client.get(f"/api/subjects/{OTHER}/labs").text
    assert "IU/mL" in text
    typo = client.post(
        f"/api/subjects/{OTHER}/labs", json=body | {"value": "lots"}, headers=_header_csrf(client)
    )
    assert (
        typo.json()["error"]["message"] == "lab value must be a number from 0 to 1e+09; got 'lots'"
    )


# --- adverse events -------------------------------------------------------------------------


def test_an_adverse_event_saved_from_the_page_is_listed(client_as: ClientAs) -> None:
    client = client_as("investigator")
    form = {
        "term": "Injection site reaction",
        "severity": "MILD",
        "toxgr": "1",
        "related": "POSSIBLY RELATED",
        "start_date": "2026-01-06",
        "end_date": "2026-01-08",
        "serious": "yes",
    }
    saved = client.post(
        f"/subjects/{SUBJECT}/adverse-events",
        data=form | _form_csrf(client),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    events = client.get(f"/api/subjects/{SUBJECT}/adverse-events").json()
    event = events["adverse_events"][-1]
    assert event | {"id": 0} == {
        "id": 0,
        "term": "Injection site reaction",
        "decod": None,
        "bodsys": None,
        "severity": "MILD",
        "toxgr": 1,
        "serious": True,
        "related": "POSSIBLY RELATED",
        "start_date": "2026-01-06",
        "end_date": "2026-01-08",
    }
    page = client_as("monitor").get(f"/subjects/{SUBJECT}/adverse-events").text
    assert "Injection site reaction" in page
    assert events["choices"]["severity"] == list(svc.SEVERITIES)


def test_adverse_event_form_offers_the_controlled_terms(client_as: ClientAs) -> None:
    text = client_as("coordinator").get(f"/subjects/{SUBJECT}/adverse-events").text
    for term in (*svc.SEVERITIES, *svc.RELATEDNESS):
        assert f'<option value="{term}">{term}</option>' in text
    for field in ("term", "decod", "bodsys", "start", "end", "severity", "toxgr", "related"):
        assert f'<label for="ae-{field}">' in text
    assert '<label class="check" for="ae-serious">' in text
    assert text.count("<fieldset>") == 2


def test_an_end_before_the_start_answers_422_with_the_registry_message(client_as: ClientAs) -> None:
    message = "adverse event end_date must be on or after start_date; got '2026-01-01'"
    client = client_as("coordinator")
    form = {
        "term": "Headache",
        "severity": "MODERATE",
        "related": "NOT RELATED",
        "start_date": "2026-01-10",
        "end_date": "2026-01-01",
    }
    page = client.post(f"/subjects/{SUBJECT}/adverse-events", data=form | _form_csrf(client))
    assert page.status_code == 422
    text = _text(page)
    assert f'role="alert" id="ae-end_date-error">{message}</p>' in text
    assert 'value="Headache"' in text
    assert '<option value="MODERATE" selected>' in text
    assert '<option value="NOT RELATED" selected>' in text
    api = client.post(
        f"/api/subjects/{SUBJECT}/adverse-events", json=form, headers=_header_csrf(client)
    )
    assert api.status_code == 422
    assert api.json() == {"error": {"field": "end_date", "message": message}}
    nothing = client.post(
        f"/subjects/{SUBJECT}/adverse-events",
        data=form | {"severity": "", "end_date": ""} | _form_csrf(client),
    )
    assert nothing.status_code == 422
    assert "adverse event severity must be given (or toxgr, a CTCAE grade)" in _text(nothing)


def test_adverse_event_api_refuses_unknown_keys(client_as: ClientAs) -> None:
    client = client_as("coordinator")
    body = {"term": "Rash", "severity": "MILD", "related": "RELATED", "start_date": "2026-01-05"}
    typo = client.post(
        f"/api/subjects/{SUBJECT}/adverse-events",
        json=body | {"severty": "MILD"},
        headers=_header_csrf(client),
    )
    assert typo.status_code == 422


# --- doses ----------------------------------------------------------------------------------


def test_the_pharmacist_records_and_reads_doses(client_as: ClientAs) -> None:
    client = client_as("pharmacist")
    form = {
        "product": "ATO-CELL",
        "lot": "LOT-77",
        "dose": "2.5e7",
        "unit": "cells",
        "route": "SC",
        "given_at": "2026-01-05T10:30",
        "visitnum": "1.0",
    }
    assert client.post(f"/subjects/{SUBJECT}/doses", data=form).status_code == 403  # no CSRF
    saved = client.post(
        f"/subjects/{SUBJECT}/doses", data=form | _form_csrf(client), follow_redirects=False
    )
    assert saved.status_code == 303
    page = client.get(f"/subjects/{SUBJECT}/doses").text
    doses = client.get(f"/api/subjects/{SUBJECT}/doses").json()["doses"]
    assert doses[-1] | {"id": 0} == {
        "id": 0,
        "given_at": "2026-01-05T10:30",
        "product": "ATO-CELL",
        "dose": 2.5e7,
        "unit": "cells",
        "route": "SC",
        "lot": "LOT-77",
        "visitnum": 1.0,
        "visit": "WEEK 0",
        "given_by": "pharmacist",
    }
    for value in ("ATO-CELL", "LOT-77", "25000000.0", "2026-01-05T10:30"):
        assert f"<td>{value}</td>" in page
    api = client.post(
        f"/api/subjects/{OTHER}/doses",
        json=form | {"dose": 0.0, "visitnum": None},
        headers=_header_csrf(client),
    )
    assert api.status_code == 201, api.text
    assert api.json()["dose"] == 0.0


def test_only_the_pharmacist_may_record_a_dose(client_as: ClientAs) -> None:
    form = {
        "product": "X",
        "lot": "L",
        "dose": "1",
        "unit": "cells",
        "route": "SC",
        "given_at": "2026-01-05T10:30",
    }
    for role in BLINDED:
        client = client_as(role)
        refused = client.post(f"/subjects/{SUBJECT}/doses", data=form | _form_csrf(client))
        assert refused.status_code == 403
        article = "an" if role[0] in "aeiou" else "a"
        assert f"{article} {role} may not record dose (allowed: pharmacist)" in refused.text


def test_a_bad_dose_answers_422_with_the_registry_message(client_as: ClientAs) -> None:
    client = client_as("pharmacist")
    form = {
        "product": "ATO-CELL",
        "lot": "LOT-78",
        "dose": "lots",
        "unit": "cells",
        "route": "IV",
        "given_at": "2026-01-05T11:00",
    }
    page = client.post(f"/subjects/{SUBJECT}/doses", data=form | _form_csrf(client))
    assert page.status_code == 422
    text = _text(page)
    assert "dose dose must be a number from 0 to 1e+12; got 'lots'" in text
    assert 'value="LOT-78"' in text
    assert '<option value="IV" selected>' in text


# --- diagnosis ------------------------------------------------------------------------------


def test_the_diagnosis_page_shows_the_age_phase_and_every_checklist(client_as: ClientAs) -> None:
    from atopic.diagnosis import CRITERIA

    client = client_as("investigator")
    view = client.get(f"/api/subjects/{SUBJECT}/diagnosis").json()
    assert view["age"]["phase"]["code"] == "adolescence_adulthood"
    assert view["age"]["basis"] == "birth date"
    text = _text(client.get(f"/subjects/{SUBJECT}/diagnosis"))
    assert "<strong>Adolescence and adulthood</strong>" in text
    for criteria in CRITERIA.values():
        assert f'<input type="hidden" name="criteria" value="{criteria.name}">' in text
        for group in criteria.groups:
            assert f"<legend>{group.label} " in text
        for feature in criteria.features:
            box = f'<label class="check" for="{criteria.name}-{feature.code}">'
            assert box in text
            assert f"<span>{feature.label}" in text


def test_diagnosis_lists_met_and_missed_after_posting(client_as: ClientAs) -> None:
    from atopic.diagnosis import HANIFIN_RAJKA

    client = client_as("investigator")
    met = [
        "pruritus",
        "typical_morphology_distribution",
        "chronic_relapsing_course",
        "xerosis",
        "raised_serum_ige",
        "early_onset",
    ]
    form = [("criteria", "hanifin_rajka"), ("assessed_on", "2026-01-05")]
    form += [("met", code) for code in met] + [("csrf_token", csrf_of(client))]
    saved = client.post(
        f"/subjects/{OTHER}/diagnosis",
        content="&".join(f"{k}={v}" for k, v in form),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    result = client.get(f"/api/subjects/{OTHER}/diagnosis").json()["results"][0]
    assert result["diagnosed"] is True
    assert [f["code"] for f in result["met"]] == met
    missed = [code for code in HANIFIN_RAJKA.codes if code not in met]
    assert [f["code"] for f in result["missed"]] == missed
    page = _text(client_as("monitor").get(f"/subjects/{OTHER}/diagnosis"))
    met_list = page.split('<ul class="met">', 1)[1].split("</ul>", 1)[0]
    missed_list = page.split('<ul class="missed">', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"<li>(.*?)</li>", met_list) == [f["label"] for f in result["met"]]
    assert re.findall(r"<li>(.*?)</li>", missed_list) == [f["label"] for f in result["missed"]]
    assert "atopic dermatitis" in page


def test_diagnosis_api_keeps_the_criteria_messages(client_as: ClientAs) -> None:
    client = client_as("investigator")
    body = {
        "criteria": "uk_working_party",
        "assessed_on": "2026-01-05",
        "features": {"itchy_skin": True, "flexural_history": True, "dry_skin": False},
    }
    missing = client.post(
        f"/api/subjects/{SUBJECT}/diagnosis", json=body, headers=_header_csrf(client)
    )
    assert missing.status_code == 422
    assert missing.json()["error"] == {
        "field": "features.personal_asthma_hay_fever",
        "message": "UK Working Party features.personal_asthma_hay_fever must be answered True or "
        "False (Personal history of asthma or hay fever; every feature must be answered); "
        "got nothing",
    }
    body["features"] |= {
        "personal_asthma_hay_fever": True,
        "visible_flexural_dermatitis": False,
        "onset_before_2": True,
    }
    saved = client.post(
        f"/api/subjects/{SUBJECT}/diagnosis", json=body, headers=_header_csrf(client)
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["diagnosed"] is True
    assert saved.json()["age_phase"]["code"] == "adolescence_adulthood"
    assert saved.json() == client.get(f"/api/subjects/{SUBJECT}/diagnosis").json()["results"][0]
    coordinator = client_as("coordinator")
    refused = coordinator.post(
        f"/api/subjects/{SUBJECT}/diagnosis", json=body, headers=_header_csrf(coordinator)
    )
    assert refused.status_code == 403


def test_a_diagnosis_before_birth_answers_422_with_the_values_kept(client_as: ClientAs) -> None:
    client = client_as("investigator")
    form = {
        "criteria": "hanifin_rajka",
        "assessed_on": "1980-01-01",
        "met": "xerosis",
        "csrf_token": csrf_of(client),
    }
    page = client.post(f"/subjects/{SUBJECT}/diagnosis", data=form)
    assert page.status_code == 422
    text = _text(page)
    message = (
        "Hanifin-Rajka assessment_date must be on or after birth_date (1990-01-01); "
        "got '1980-01-01'"
    )
    assert f'<p class="error" role="alert" id="hanifin_rajka-error">{message}</p>' in text
    assert 'value="1980-01-01"' in text
    checked = re.findall(r'id="hanifin_rajka-(\w+)" name="met" value="\w+" checked', text)
    assert checked == ["xerosis"]
    unknown = client.post(
        f"/subjects/{SUBJECT}/diagnosis", data=form | {"criteria": "williams", "met": []}
    )
    assert unknown.status_code == 422
    assert "Diagnosis criteria must be one of 'hanifin_rajka'" in _text(unknown)
    del form["csrf_token"]
    assert client.post(f"/subjects/{SUBJECT}/diagnosis", data=form).status_code == 403


# --- audit trail ----------------------------------------------------------------------------


def test_the_monitor_reads_the_audit_trail_and_the_investigator_may_not(
    client_as: ClientAs,
) -> None:
    investigator = client_as("investigator")
    lab = {"testcd": "CCL17", "value": 900, "unit": "pg/mL", "collected_on": "2026-01-05"}
    saved = investigator.post(
        f"/api/subjects/{SUBJECT}/labs", json=lab, headers=_header_csrf(investigator)
    )
    assert saved.status_code == 201
    monitor = client_as("monitor")
    view = monitor.get("/api/audit", params={"table": "lab", "limit": 5}).json()
    assert view["table"] == "lab"
    assert 0 < len(view["entries"]) <= 5
    assert {e["table"] for e in view["entries"]} == {"lab"}
    assert {"username": "investigator", "field": "testcd", "new": "CCL17"}.items() <= (
        next(e for e in view["entries"] if e["field"] == "testcd").items()
    )
    page = monitor.get("/audit", params={"table": "lab", "limit": 5}).text
    for entry in view["entries"]:
        assert f"<td>{entry['id']}</td>" in page
    assert view["more"] is True
    assert 'href="/audit?limit=10&amp;table=lab"' in page
    assert investigator.get("/audit").status_code == 403
    refused = investigator.get("/api/audit")
    assert refused.json()["error"]["message"] == (
        "an investigator may not read audit (allowed: admin, monitor)"
    )


def test_the_audit_trail_hides_dose_values_from_blinded_readers(client_as: ClientAs) -> None:
    pharmacist = client_as("pharmacist")
    body = {
        "product": "ATO-SECRET",
        "lot": "LOT-SECRET",
        "dose": 1e7,
        "unit": "cells",
        "route": "SC",
        "given_at": "2026-01-05T09:00",
    }
    saved = pharmacist.post(
        f"/api/subjects/{OTHER}/doses", json=body, headers=_header_csrf(pharmacist)
    )
    assert saved.status_code == 201
    for role in ("monitor", "admin"):
        client = client_as(role)
        seen = client.get("/audit", params={"table": "dose"}).text
        seen += client.get("/api/audit", params={"table": "dose"}).text
        assert "(blinded)" in seen
        assert "SECRET" not in seen


def test_a_bad_audit_limit_answers_422(client_as: ClientAs) -> None:
    client = client_as("monitor")
    message = "audit limit must be a whole number from 1 to 10000; got '0'"
    assert client.get("/api/audit", params={"limit": "0"}).json()["error"]["message"] == message
    page = client.get("/audit", params={"limit": "0"})
    assert page.status_code == 422
    assert message in _text(page)
    assert client_as("coordinator").get("/audit", params={"limit": "0"}).status_code == 403


# --- dashboard ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_dashboard_shows_arms_only_to_the_pharmacist(client_as: ClientAs, role: str) -> None:
    client = client_as(role)
    seen = client.get("/dashboard").text + client.get("/api/dashboard").text
    found = [arm for arm in ARMS if arm in seen]
    if role == "pharmacist":
        assert found == list(ARMS)
    else:
        assert found == []
        assert "by_arm" not in client.get("/api/dashboard").json()["easi"]


def test_the_dashboard_has_per_arm_means_for_the_pharmacist(
    client_as: ClientAs, scores: dict[str, float]
) -> None:
    view = client_as("pharmacist").get("/api/dashboard").json()
    assert view["allocation_visible"] is True
    by_arm = view["easi"]["by_arm"]
    assert sorted(by_arm) == sorted(ARMS)
    week0 = {arm: rows[0] for arm, rows in by_arm.items()}
    assert all(row["visit"] == "WEEK 0" and row["n"] == 1 for row in week0.values())
    assert sorted(row["mean"] for row in week0.values()) == sorted(scores.values())
    page = client_as("pharmacist").get("/dashboard").text
    for arm, rows in by_arm.items():
        for row in rows:
            assert f'<th scope="row">{arm}</th><td>{row["visit"]}</td>' in page


def test_dashboard_page_shows_what_its_twin_says(
    client_as: ClientAs, scores: dict[str, float]
) -> None:
    client = client_as("monitor")
    view = client.get("/api/dashboard").json()
    assert view["subjects"] == 2
    assert view["enrolment"]["weeks"] == ["2026-W02"]
    assert view["enrolment"]["counts"] == [{"site": "S01", "week": "2026-W02", "n": 2}]
    assert view["visits"]["scheduled"] == 5
    assert view["visits"]["done"] == 3
    assert [(v["visit"], v["done"], v["scheduled"]) for v in view["visits"]["by_visit"]] == [
        ("WEEK 0", 2, 2),
        ("WEEK 2", 1, 1),
        ("WEEK 4", 0, 2),
    ]
    overall = view["easi"]["overall"]
    assert overall[0] == {
        "visit": "WEEK 0",
        "visitnum": 1.0,
        "n": 2,
        "mean": round(sum(scores.values()) / 2, 2),
    }
    assert [row["visit"] for row in overall] == ["WEEK 0", "WEEK 2"]
    page = client.get("/dashboard").text
    for row in overall:
        assert f'<th scope="row">{row["visit"]}</th><td>{row["n"]}</td><td>{row["mean"]}</td>' in (
            page
        )
    assert "3 of 5 scheduled visits done" in page
    assert '<th scope="row">S01</th><td>2</td><td>2</td>' in page


def test_dashboard_charts_are_accessible_inline_svg(client_as: ClientAs) -> None:
    page = client_as("statistician").get("/dashboard").text
    assert "<script" not in page.split('<main id="main">', 1)[1]
    for key in ("chart-enrolment", "chart-easi"):
        assert f'role="img" aria-labelledby="{key}-title {key}-desc"' in page
        assert f'<title id="{key}-title">' in page
        assert f'<desc id="{key}-desc">' in page
    desc = page.split('<desc id="chart-easi-desc">', 1)[1].split("</desc>", 1)[0]
    assert "All subjects: WEEK 0" in desc


def test_every_page_form_field_has_a_label(client_as: ClientAs) -> None:
    pages = {
        "investigator": [
            f"/subjects/{SUBJECT}/{t}" for t in ("labs", "adverse-events", "diagnosis")
        ],
        "pharmacist": [f"/subjects/{SUBJECT}/doses"],
        "monitor": ["/audit"],
    }
    for role, paths in pages.items():
        client = client_as(role)
        for path in paths:
            text = client.get(path).text.split('<main id="main">', 1)[1]
            ids = re.findall(
                r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', text
            )
            fields = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*>', text)
            assert len(ids) == len(fields), path
            for field_id in ids:
                assert f'<label for="{field_id}"' in text or f'for="{field_id}">' in text, (
                    path,
                    field_id,
                )
