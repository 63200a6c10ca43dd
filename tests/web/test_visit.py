"""Visit entry through HTTP: the form for each age, the live score (total and band, the
instrument's message, "incomplete"), a whole visit saved in one transaction or not at all, the
JSON twins, corrections, roles and CSRF."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from markupsafe import escape

from atopic.instruments import INSTRUMENTS, score
from atopic.registry import services as svc
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory, transaction
from atopic.web import routes_visit as rv
from tests.web.conftest import PASSWORD, csrf_of

ADULT = "ATO-W-0001"
OTHER = "ATO-W-0002"
VISIT_DATE = "2026-03-02"
INV = Actor("investigator", "investigator")
MONITOR = Actor("monitor", "monitor")
CHILDREN = {
    # USUBJID: (birth date, age on VISIT_DATE, quality-of-life instrument)
    "ATO-W-C01": ("2024-09-01", 1, "idqol"),
    "ATO-W-C02": ("2022-03-02", 4, "cdlqi"),
    "ATO-W-C03": ("2010-03-03", 15, "cdlqi"),
    "ATO-W-C04": ("2010-03-02", 16, "dlqi"),
}
ADULT_SECTIONS = ("scorad", "easi", "viga-ad", "poem", "pp-nrs", "sleep-nrs", "dlqi")

SCORAD = {
    "extent": {
        "head_neck": 50,
        "anterior_trunk": 20,
        "back": 10,
        "left_upper_limb": 30,
        "right_upper_limb": 30,
        "left_lower_limb": 10,
        "right_lower_limb": 10,
        "genitals": 0,
    },
    "intensity": {
        "erythema": 2,
        "oedema_papulation": 2,
        "oozing_crusts": 1,
        "excoriation": 2,
        "lichenification": 1,
        "dryness": 2,
    },
    "pruritus": 7.5,
    "sleeplessness": 4,
}
EASI_REGION = {
    "erythema": 2,
    "induration": 1.5,
    "excoriation": 1,
    "lichenification": 1,
    "area_percent": 20,
}
EASI = {
    region: dict(EASI_REGION) for region in ("head_neck", "upper_limbs", "trunk", "lower_limbs")
}
POEM = {"items": [2, 3, 0, 1, None, 2, 4]}
DLQI = {
    "items": [
        "a lot",
        "a little",
        "not relevant",
        "not at all",
        "very much",
        "not relevant",
        "no",
        "a little",
        None,
        "not at all",
    ],
    "item_7a": "a lot",
}
VISIT = {
    "scorad": SCORAD,
    "easi": EASI,
    "viga-ad": {"grade": 3},
    "poem": POEM,
    "pp-nrs": {"score": 7},
    "sleep-nrs": {"score": 4},
    "dlqi": DLQI,
}


def esc(text: str) -> str:
    """Text as the templates escape it."""
    return str(escape(text))


def form_fields(key: str, data: dict[str, Any]) -> dict[str, str]:
    """An instrument's JSON as the visit form posts it (``key:field`` -> text)."""
    flat = rv.from_json(key, data)
    return {f"{key}:{name}": "" if v is None else str(v) for name, v in flat.items()}


def whole_form(token: str, **sections: dict[str, Any]) -> dict[str, str]:
    data = {"csrf_token": token, "assessed_on": VISIT_DATE}
    for key, section in sections.items():
        data.update(form_fields(key, section))
    return data


def htmx(client: Any) -> Any:
    """The client sends what htmx sends from the page: the CSRF header on every request."""
    client.headers.update({"HX-Request": "true", "X-CSRF-Token": csrf_of(client)})
    return client


def entry(usubjid: str, visitnum: int) -> str:
    return f"/subjects/{usubjid}/visits/{visitnum}/entry"


def live(usubjid: str, visitnum: int, key: str) -> str:
    return f"/subjects/{usubjid}/visits/{visitnum}/score/{key}"


@pytest.fixture(scope="module")
def factory(registry: str) -> Iterator[Any]:
    engine = make_engine(registry)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def visits(factory: Any) -> dict[str, list[int]]:
    """Visits 2-9 of both adults and visit 1 of four children of ages 1, 4, 15 and 16."""
    with transaction(factory, INV) as session:
        for usubjid in (ADULT, OTHER):
            for n in range(2, 10):
                svc.schedule_visit(session, INV, usubjid, n, f"WEEK {n}", actual_date=VISIT_DATE)
        for usubjid, (born, _, _) in CHILDREN.items():
            svc.enrol_subject(
                session,
                INV,
                studyid="ATO-W",
                site_code="S01",
                usubjid=usubjid,
                sex="M",
                enrolled_on=VISIT_DATE,
                birth_date=born,
            )
            svc.schedule_visit(session, INV, usubjid, 1, "WEEK 0", planned_date=VISIT_DATE)
    return {ADULT: list(range(2, 10)), OTHER: list(range(2, 10))}


def saved_at(factory: Any, usubjid: str, visitnum: int) -> dict[str, dict[str, Any]]:
    """What the registry holds at a visit, read through the services (instrument -> row)."""
    with factory() as session:
        record = svc.subject_record(session, MONITOR, usubjid)
    for visit in record["visits"]:
        if visit["visitnum"] == visitnum:
            return {a["instrument"]: a for a in visit["assessments"]}
    raise AssertionError(f"no visit {visitnum}")


# --- the form -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["investigator", "coordinator"])
def test_the_form_has_every_section_input_and_label(client_as, visits, role: str) -> None:
    page = client_as(role).get(entry(ADULT, 2))
    assert page.status_code == 200, page.text
    text = page.text
    assert 'name="csrf_token"' in text
    assert 'name="assessed_on"' in text
    assert 'value="2026-03-02"' in text
    for key in ADULT_SECTIONS:
        assert f'id="section-{key}"' in text
        assert f'hx-post="/subjects/{ADULT}/visits/2/score/{key}"' in text
        assert f'hx-target="#score-{key}"' in text
        for f in rv.form_fields(key):
            assert f'name="{f["name"]}"' in text
            if f["widget"] == "radio":
                assert f"<legend>{esc(f['label'])}</legend>" in text
                for n, _ in enumerate(f["options"]):
                    assert f'<label class="visit-radio" for="{f["id"]}-{n}">' in text
            else:
                assert f'<label for="{f["id"]}">{esc(f["short_label"])}</label>' in text
                assert f'id="{f["id"]}"' in text
        # every item the form shows is labelled with the declaration's words
        for item in INSTRUMENTS[key].items:
            if item.context or item.field in rv.HIDDEN.get(key, ()):
                continue
            words = esc(item.label)
            assert words in text or esc(item.label.split(": ", 1)[-1]) in text
    assert text.count('type="number"') == 8 + 2 + 4  # SCORAD regions, VAS, EASI areas
    for grade, name in enumerate(("clear", "almost clear", "mild", "moderate", "severe")):
        assert f"{grade} {name}</span>" in text  # vIGA-AD radios with the grade names
    assert "0: none" in text
    assert "4: every day" in text
    assert "CDLQI (" not in text
    assert "IDQOL" not in text.replace("IDQOL under 4", "")


@pytest.mark.parametrize("role", ["monitor", "statistician", "pharmacist", "admin"])
def test_other_roles_get_403(client_as, visits, role: str) -> None:
    client = htmx(client_as(role))
    assert client.get(entry(ADULT, 2)).status_code == 403
    assert client.get(f"/api{entry(ADULT, 2)}").status_code == 403
    fragment = client.post(live(ADULT, 2, "easi"), data={"easi:trunk.erythema": "2"})
    assert fragment.status_code == 403


def test_body_maps_link_their_regions_to_the_inputs(client_as, visits) -> None:
    text = client_as("investigator").get(entry(ADULT, 2)).text
    assert 'id="bodymap-scorad"' in text
    assert 'id="bodymap-easi"' in text
    for region in ("head_neck", "anterior_trunk", "genitals"):
        assert f'data-field="scorad:extent.{region}"' in text
    assert 'data-field="easi:trunk.area_percent"' in text
    infant = client_as("investigator").get(entry("ATO-W-C01", 1)).text
    assert 'data-figure="infant"' in infant


def test_dlqi_is_chosen_for_an_adult(client_as, visits) -> None:
    form = client_as("investigator").get(f"/api{entry(ADULT, 2)}").json()
    assert form["age_years"] == 36
    assert form["quality_of_life"] == "dlqi"
    assert [s["key"] for s in form["sections"]] == list(ADULT_SECTIONS)
    dlqi = form["sections"][-1]
    assert dlqi["schema"] == INSTRUMENTS["dlqi"].schema()


@pytest.mark.parametrize("usubjid", sorted(CHILDREN))
def test_the_quality_of_life_instrument_follows_the_age(client_as, visits, usubjid: str) -> None:
    _, age, key = CHILDREN[usubjid]
    client = client_as("investigator")
    form = client.get(f"/api{entry(usubjid, 1)}").json()
    assert (form["age_years"], form["quality_of_life"]) == (age, key)
    assert form["sections"][-1]["key"] == key
    page = client.get(entry(usubjid, 1)).text
    assert f'id="section-{key}"' in page
    others = {"idqol", "cdlqi", "dlqi"} - {key}
    assert not any(f'id="section-{other}"' in page for other in others)
    for item in INSTRUMENTS[key].items:
        assert esc(item.label) in page


def test_the_page_and_its_json_twin_come_from_one_definition(client_as, visits) -> None:
    client = client_as("coordinator")
    form = client.get(f"/api{entry(OTHER, 2)}").json()
    page = client.get(entry(OTHER, 2)).text
    for section in form["sections"]:
        for group in section["groups"]:
            for f in group["fields"]:
                assert f'name="{f["name"]}"' in page


# --- live score ---------------------------------------------------------------------------------


def test_live_score_shows_total_and_band(client_as, visits) -> None:
    client = htmx(client_as("investigator"))
    expected = score(INSTRUMENTS["easi"], {**EASI, "age_years": 36})
    response = client.post(
        live(ADULT, 2, "easi"),
        data={"assessed_on": VISIT_DATE, **form_fields("easi", EASI)},
    )
    assert response.status_code == 200
    assert f"<strong>{expected.total}</strong>" in response.text
    assert f'<span class="band">{expected.band}</span>' in response.text
    scorad = client.post(live(ADULT, 2, "scorad"), data=form_fields("scorad", SCORAD))
    total = score(INSTRUMENTS["scorad"], {**SCORAD, "age_years": 36})
    assert f"<strong>{total.total}</strong>" in scorad.text
    assert f'<span class="band">{total.band}</span>' in scorad.text


def test_live_score_explains_an_invalid_value_with_the_instruments_message(
    client_as, visits
) -> None:
    client = htmx(client_as("investigator"))
    fields = form_fields("easi", EASI) | {"easi:trunk.erythema": "0.5"}
    response = client.post(live(ADULT, 2, "easi"), data=fields)
    assert response.status_code == 200  # htmx swaps 2xx only: the message is the content
    message = "EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 0.5"
    assert f'<p class="error" role="alert">{message}</p>' in response.text
    # an invalid value is named at once, even while other items are still blank
    alone = client.post(live(ADULT, 2, "easi"), data={"easi:trunk.erythema": "0.5"})
    assert message in alone.text
    huge = client.post(live(ADULT, 2, "easi"), data={"easi:trunk.erythema": "1e308"})
    assert "EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 1e+308" in huge.text
    text = client.post(live(ADULT, 2, "pp-nrs"), data={"pp-nrs:score": "ten"})
    assert "PP-NRS score must be a whole number from 0 to 10; got &#39;ten&#39;" in text.text


def test_live_score_says_incomplete_for_a_half_filled_section(client_as, visits) -> None:
    client = htmx(client_as("investigator"))
    half = {k: v for k, v in form_fields("easi", EASI).items() if "head_neck" in k or "trunk" in k}
    response = client.post(live(ADULT, 2, "easi"), data=half)
    assert response.status_code == 200
    assert "incomplete: 10 of 20 items" in response.text
    assert "Next: Upper limbs: Erythema" in response.text
    assert 'role="alert"' not in response.text
    poem = {"poem:items.1": "2", "poem:items.2": "1", "poem:items.3": "0"}
    assert "incomplete: 3 of 7 items" in client.post(live(ADULT, 2, "poem"), data=poem).text
    # DLQI 7 "no" asks for 7a: incomplete while 7a is blank, invalid when 7a follows a "yes"
    dlqi = form_fields("dlqi", DLQI)
    blank_7a = client.post(live(ADULT, 2, "dlqi"), data=dlqi | {"dlqi:items.7a": ""}).text
    assert "incomplete: 9 of 10 items" in blank_7a
    after_yes = client.post(live(ADULT, 2, "dlqi"), data=dlqi | {"dlqi:items.7": "yes"}).text
    assert "DLQI items.7a must be left out unless items.7 is &#39;no&#39;" in after_yes
    empty = client.post(live(ADULT, 2, "viga-ad"), data={"viga-ad:grade": ""}).text
    assert "Not started: 0 of 1 items" in empty


def test_live_score_json_twin(client_as, visits) -> None:
    client = htmx(client_as("investigator"))
    path = f"/api/subjects/{ADULT}/visits/2/score/easi"
    complete = client.post(path, json=EASI).json()
    assert complete["status"] == "complete"
    assert complete["score"]["total"] == float(
        score(INSTRUMENTS["easi"], EASI | {"age_years": 36}).total
    )
    half = client.post(path, json={"trunk": EASI["trunk"]}).json()
    assert (half["status"], half["given"], half["expected"]) == ("incomplete", 5, 20)
    bad = client.post(path, json=EASI | {"trunk": EASI_REGION | {"erythema": 0.5}})
    assert bad.status_code == 422
    assert bad.json()["error"] == {
        "field": "trunk.erythema",
        "message": "EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 0.5",
        "instrument": "easi",
    }
    not_here = client.post(f"/api/subjects/{ADULT}/visits/2/score/cdlqi", json={})
    assert not_here.status_code == 422


def test_live_score_checks_the_csrf_token(client_as, visits) -> None:
    client = client_as("investigator")
    assert client.post(live(ADULT, 2, "easi"), data=form_fields("easi", EASI)).status_code == 403
    assert client.post(f"/api/subjects/{ADULT}/visits/2/score/easi", json=EASI).status_code == 403
    token = {"csrf_token": csrf_of(client)}
    fields = form_fields("easi", EASI) | token
    assert client.post(live(ADULT, 2, "easi"), data=fields).status_code == 200


def test_the_age_for_easi_comes_from_the_subject(client_as, visits) -> None:
    client = htmx(client_as("investigator"))
    data = EASI | {"head_neck": EASI_REGION | {"area_percent": 60}}
    response = client.post(live("ATO-W-C02", 1, "easi"), data=form_fields("easi", data))
    child = score(INSTRUMENTS["easi"], data | {"age_years": 4})  # multipliers under 8
    adult = score(INSTRUMENTS["easi"], data | {"age_years": 36})
    assert child.total != adult.total
    assert f"<strong>{child.total}</strong>" in response.text


# --- saving -------------------------------------------------------------------------------------


def test_a_whole_visit_is_saved_in_one_go(client_as, visits, factory) -> None:
    client = client_as("investigator")
    response = client.post(
        entry(ADULT, 3), data=whole_form(csrf_of(client), **VISIT), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/subjects/{ADULT}"
    saved = saved_at(factory, ADULT, 3)
    assert set(saved) == {INSTRUMENTS[k].name for k in ADULT_SECTIONS}
    for key, data in VISIT.items():
        expected = score(
            INSTRUMENTS[key], {**data, "age_years": 36} if key in ("easi", "scorad") else data
        )
        assert saved[INSTRUMENTS[key].name]["total"] == float(expected.total)
    # the form now shows what was saved, and the subject page the scores
    form = client.get(f"/api{entry(ADULT, 3)}").json()
    assert form["correction"] is True
    assert form["values"]["easi:trunk.erythema"] == "2"
    assert form["values"]["dlqi:items.7a"] == "a lot"
    assert all(s["result"]["status"] == "complete" for s in form["sections"])
    assert "EASI" in client.get(f"/subjects/{ADULT}").text


def test_only_the_sections_with_values_are_saved(client_as, visits, factory) -> None:
    client = client_as("coordinator")
    data = whole_form(csrf_of(client), easi=EASI, **{"viga-ad": {"grade": 1}})
    response = client.post(entry(ADULT, 4), data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert set(saved_at(factory, ADULT, 4)) == {"EASI", "vIGA-AD"}


def test_one_invalid_section_saves_nothing(client_as, visits, factory) -> None:
    client = client_as("investigator")
    data = whole_form(csrf_of(client), **VISIT) | {"easi:trunk.erythema": "0.5"}
    response = client.post(entry(ADULT, 5), data=data, follow_redirects=False)
    assert response.status_code == 422
    message = "EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 0.5"
    text = response.text
    assert message in text
    # the message sits in the EASI section's score box; the other sections keep their scores
    easi_box = text.split('id="score-easi"', 1)[1].split("</div>", 1)[0]
    assert message in easi_box
    assert 'name="easi:trunk.erythema"' in text
    assert 'aria-invalid="true"' in text
    assert 'value="7.5"' in text  # values kept (SCORAD pruritus)
    assert saved_at(factory, ADULT, 5) == {}


def test_one_incomplete_section_saves_nothing(client_as, visits, factory) -> None:
    client = client_as("investigator")
    data = whole_form(csrf_of(client), **VISIT)
    data["scorad:intensity.dryness"] = ""
    response = client.post(entry(ADULT, 5), data=data, follow_redirects=False)
    assert response.status_code == 422
    box = response.text.split('id="score-scorad"', 1)[1].split("</div>", 1)[0]
    assert "incomplete: 15 of 16 items" in box
    assert "SCORAD intensity.dryness must be one of 0, 1, 2, 3; got nothing" in box
    assert saved_at(factory, ADULT, 5) == {}


def test_an_empty_form_or_a_bad_date_saves_nothing(client_as, visits, factory) -> None:
    client = client_as("investigator")
    token = csrf_of(client)
    empty = client.post(entry(ADULT, 5), data={"csrf_token": token, "assessed_on": VISIT_DATE})
    assert empty.status_code == 422
    assert "at least one instrument with values" in empty.text
    bad_date = whole_form(token, easi=EASI) | {"assessed_on": "2026-02-30"}
    response = client.post(entry(ADULT, 5), data=bad_date)
    assert response.status_code == 422
    assert "visit entry assessed_on must be a date (YYYY-MM-DD); got &#39;2026-02-30&#39;" in (
        response.text
    )
    assert saved_at(factory, ADULT, 5) == {}


def test_a_correction_needs_a_reason(client_as, visits, factory) -> None:
    client = client_as("investigator")
    token = csrf_of(client)
    first = whole_form(token, easi=EASI, **{"pp-nrs": {"score": 3}})
    assert client.post(entry(ADULT, 6), data=first, follow_redirects=False).status_code == 303
    # sending the saved values again changes nothing and needs no reason
    again = client.post(entry(ADULT, 6), data=first, follow_redirects=False)
    assert again.status_code == 303
    changed = first | {"pp-nrs:score": "5", "poem:items.1": "1"} | form_fields("poem", POEM)
    refused = client.post(entry(ADULT, 6), data=changed, follow_redirects=False)
    assert refused.status_code == 422
    assert "reason must be given to correct an assessment already saved at this visit" in (
        refused.text
    )
    assert saved_at(factory, ADULT, 6)["PP-NRS"]["total"] == 3
    assert "POEM" not in saved_at(factory, ADULT, 6)  # the new POEM waits with the rest
    with_reason = changed | {"reason": "transcription error"}
    assert client.post(entry(ADULT, 6), data=with_reason, follow_redirects=False).status_code == 303
    saved = saved_at(factory, ADULT, 6)
    assert saved["PP-NRS"]["total"] == 5
    assert "POEM" in saved
    with factory() as session:
        trail = svc.audit_trail(session, MONITOR, table="assessment_item")
    assert any(row["reason"] == "transcription error" and row["new"] == "5" for row in trail)


def test_the_form_refuses_without_the_csrf_token(client_as, visits, factory) -> None:
    client = client_as("investigator")
    data = whole_form("", **VISIT)
    del data["csrf_token"]
    assert client.post(entry(ADULT, 7), data=data).status_code == 403
    wrong = whole_form("not-the-token", **VISIT)
    assert client.post(entry(ADULT, 7), data=wrong).status_code == 403
    body = {"assessed_on": VISIT_DATE, "assessments": {"easi": EASI}}
    assert client.post(f"/api{entry(ADULT, 7)}", json=body).status_code == 403
    assert saved_at(factory, ADULT, 7) == {}


# --- the JSON twin ------------------------------------------------------------------------------


def test_json_twin_round_trip(client_as, visits, factory) -> None:
    client = client_as("coordinator")
    headers = {"X-CSRF-Token": csrf_of(client)}
    body = {"assessed_on": VISIT_DATE, "assessments": VISIT, "reason": None}
    response = client.post(f"/api{entry(OTHER, 8)}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    saved = response.json()
    assert [row["instrument"] for row in saved["saved"]] == list(ADULT_SECTIONS)
    assert saved["unchanged"] == []
    rows = saved_at(factory, OTHER, 8)
    for row in saved["saved"]:
        assert rows[row["name"]]["total"] == row["total"]
    form = client.get(f"/api{entry(OTHER, 8)}").json()
    by_key = {s["key"]: s for s in form["sections"]}
    for row in saved["saved"]:
        assert by_key[row["instrument"]]["saved"]["total"] == row["total"]
        assert by_key[row["instrument"]]["result"]["score"]["total"] == row["total"]
    # the page shows the same values back, and sending them again changes nothing
    again = client.post(f"/api{entry(OTHER, 8)}", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json()["saved"] == []
    assert again.json()["unchanged"] == list(ADULT_SECTIONS)


def test_json_twin_refuses_with_the_instruments_message_and_saves_nothing(
    client_as, visits, factory
) -> None:
    client = client_as("investigator")
    headers = {"X-CSRF-Token": csrf_of(client)}
    bad = dict(VISIT, easi=EASI | {"trunk": EASI_REGION | {"erythema": 0.5}})
    response = client.post(
        f"/api{entry(OTHER, 9)}",
        json={"assessed_on": VISIT_DATE, "assessments": bad},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "field": "trunk.erythema",
        "message": "EASI trunk.erythema must be one of 0, 1, 1.5, 2, 2.5, 3; got 0.5",
        "instrument": "easi",
    }
    wrong_age = client.post(
        f"/api{entry(OTHER, 9)}",
        json={"assessed_on": VISIT_DATE, "assessments": {"cdlqi": {"items": [0] * 10}}},
        headers=headers,
    )
    assert wrong_age.status_code == 422
    assert wrong_age.json()["error"]["field"] == "assessments"
    short = client.post(
        f"/api{entry(OTHER, 9)}",
        json={"assessed_on": VISIT_DATE, "assessments": {"poem": {"items": [1, 2]}}},
        headers=headers,
    )
    assert short.status_code == 422
    assert short.json()["error"]["field"] == "items"
    assert short.json()["error"]["instrument"] == "poem"
    assert saved_at(factory, OTHER, 9) == {}


def test_visit_form_helpers_round_trip_every_instrument() -> None:
    for key, data in VISIT.items():
        flat = rv.from_json(key, data)
        assert rv.from_json(key, rv.to_json(key, flat)) == flat
        text = {name.split(":", 1)[1]: v for name, v in form_fields(key, data).items()}
        assert rv.to_flat(key, text) == {k: v for k, v in flat.items() if v is not None}
    assert rv.quality_of_life(3) == "idqol"
    assert rv.quality_of_life(4) == rv.quality_of_life(15) == "cdlqi"
    assert rv.quality_of_life(16) == "dlqi"
    assert rv.parse_date(dt.date(2026, 1, 5)) == dt.date(2026, 1, 5)


# --- in a browser -------------------------------------------------------------------------------


def test_a_clinician_enters_a_visit_in_the_browser(app, visits, factory) -> None:
    """Chromium on a tablet-sized window: the body map focuses its region's input, scores update
    as values are entered, an invalid value is explained in place, and the visit is saved."""
    from playwright import sync_api

    from tests.web.live import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, serving

    expect = sync_api.expect
    with serving(app) as base, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill("investigator")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{base}{entry(ADULT, 8)}")
        # SCORAD extent through the body map: a click (or Enter) focuses the region's input
        for region, value in SCORAD["extent"].items():
            page.locator(f'#bodymap-scorad [data-field="scorad:extent.{region}"]').first.click()
            assert page.evaluate("document.activeElement.name") == f"scorad:extent.{region}"
            page.keyboard.type(str(value))
        back = page.locator('#bodymap-scorad [data-field="scorad:extent.back"]').first
        expect(back).to_have_attribute("aria-label", re.compile(r"^Back: 10 % involved"))
        page.locator('#bodymap-scorad [data-field="scorad:extent.genitals"]').first.focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.name") == "scorad:extent.genitals"
        for sign, value in SCORAD["intensity"].items():
            page.select_option(f"#f-scorad-intensity-{sign}", str(value))
        page.locator("#f-scorad-pruritus").fill("7.5")
        page.locator("#f-scorad-sleeplessness").fill("4")
        scorad = score(INSTRUMENTS["scorad"], {**SCORAD, "age_years": 36})
        expect(page.locator("#score-scorad")).to_contain_text(f"{scorad.total} {scorad.band}")
        # EASI: an invalid area is explained with the instrument's message, then corrected
        for region, signs in EASI.items():
            for sign, value in signs.items():
                if sign == "area_percent":
                    page.locator(f"#f-easi-{region}-area_percent").fill(str(value))
                else:
                    page.select_option(f"#f-easi-{region}-{sign}", str(value))
        page.locator("#f-easi-trunk-area_percent").fill("150")
        expect(page.locator("#score-easi [role=alert]")).to_have_text(
            "EASI trunk.area_percent must be a number from 0 to 100; got 150"
        )
        page.locator("#f-easi-trunk-area_percent").fill("20")
        easi = score(INSTRUMENTS["easi"], {**EASI, "age_years": 36})
        expect(page.locator("#score-easi")).to_contain_text(f"{easi.total} {easi.band}")
        page.get_by_label("3 moderate", exact=True).check()
        expect(page.locator("#score-viga-ad")).to_contain_text("3 moderate")
        for n, answer in enumerate(POEM["items"], start=1):
            if answer is not None:
                page.select_option(f"#f-poem-items-{n}", str(answer))
        page.locator("#section-pp-nrs").get_by_label("7", exact=True).check()
        page.locator("#section-sleep-nrs").get_by_label("4", exact=True).check()
        for n, answer in enumerate(DLQI["items"], start=1):
            if answer is not None:
                page.select_option(f"#f-dlqi-items-{n}", answer)
        page.select_option("#f-dlqi-items-7a", DLQI["item_7a"])
        dlqi = score(INSTRUMENTS["dlqi"], DLQI)
        expect(page.locator("#score-dlqi")).to_contain_text(f"{dlqi.total} {dlqi.band}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "visit_entry.png"), full_page=True)
        page.get_by_role("button", name="Save the visit").click()
        expect(page).to_have_url(f"{base}/subjects/{ADULT}")
        # the subject page's timeline now carries the new EASI and SCORAD points
        chart = page.locator("figure.chart svg")
        expect(chart).to_contain_text(str(easi.total))
        expect(chart).to_contain_text(str(scorad.total))
        browser.close()
    saved = saved_at(factory, ADULT, 8)
    assert set(saved) == {INSTRUMENTS[k].name for k in ADULT_SECTIONS}
    assert saved["SCORAD"]["total"] == float(scorad.total)
    assert saved["EASI"]["total"] == float(easi.total)
