"""A FHIR R4 Bundle written by ``subject_bundle`` back to the collected tables.

``bundle_tables(bundle, schemas)`` validates the Bundle with fhir.resources and returns DM, EX,
QS, LB and AE frames (declared columns of ``atopic.tables``, ``--SEQ`` in Bundle order) plus the
instrument of each QuestionnaireResponse. Every answer is checked against the instrument's
declaration before anything is returned: the ``linkId`` must be one of its QSTESTCDs and the value
one of its allowed values (fixed sets and ranges; the instruments' own rules are applied again by
the registry on import). Errors are ``InvalidInput`` whose subject is the resource
(``QuestionnaireResponse/qr-3``), naming the field, the value and what is allowed.

Decisions: a Bundle holds exactly one Patient. Resource types atopic does not write
(Questionnaire is read as the declaration already known) are ignored only when they are
Questionnaires; anything else is refused, so nothing in a Bundle is silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from atopic.errors import InvalidInput
from atopic.interop.fhir import codes as c
from atopic.interop.fhir.questionnaire import Schema, questionnaire_items, questionnaire_url
from atopic.tables import AE, DM, EX, LB, QS, Table, qstest
from atopic.tables.frames import frame_of

KNOWN = (
    "Patient",
    "Encounter",
    "QuestionnaireResponse",
    "Observation",
    "MedicationAdministration",
    "AdverseEvent",
    "Questionnaire",
)
"""Resource types a subject Bundle may hold."""


@dataclass(frozen=True)
class FhirRecord:
    """One subject's record read from a Bundle: the collected tables and, per assessment
    (USUBJID, VISITNUM, QSDTC, QSEVAL, QSCAT), the instrument's name."""

    tables: dict[str, pl.DataFrame]
    instruments: dict[tuple[Any, ...], str]
    sources: dict[str, list[str]]
    """The resource each row came from, by table (``QuestionnaireResponse/qr-1`` ...)."""


def parse_bundle(data: str | bytes | Mapping[str, Any] | Bundle) -> Bundle:
    """A validated Bundle from JSON text, a dict or a Bundle; ``InvalidInput`` names the first
    invalid field (``entry.3.resource.status``)."""
    if isinstance(data, Bundle):
        return data
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as error:
            raise InvalidInput("Bundle", "JSON", str(error), "a FHIR R4 Bundle in JSON") from None
    if not isinstance(data, Mapping) or data.get("resourceType") != "Bundle":
        got = data.get("resourceType") if isinstance(data, Mapping) else data
        raise InvalidInput("Bundle", "resourceType", got, '"Bundle"')
    try:
        return Bundle.model_validate(dict(data))
    except ValidationError as error:
        first = error.errors()[0]
        loc = list(first["loc"])
        subject = "Bundle"
        if len(loc) > 2 and loc[0] == "entry" and loc[2] == "resource":
            raw = data["entry"][loc[1]].get("resource", {})
            subject = f"{raw.get('resourceType')}/{raw.get('id')}"
            loc = loc[3:]
        where = ".".join(str(p) for p in loc) or "resource"
        value = first.get("input")
        shown = value if isinstance(value, str | int | float | type(None)) else repr(value)[:80]
        raise InvalidInput(subject, where, shown, f"valid FHIR R4 ({first['msg']})") from None


def bundle_tables(
    data: str | bytes | Mapping[str, Any] | Bundle, schemas: Sequence[Schema]
) -> FhirRecord:
    """The collected tables of one subject's Bundle; see the module docstring."""
    bundle = parse_bundle(data)
    by_type: dict[str, list[Any]] = {name: [] for name in KNOWN}
    for entry in bundle.entry or []:
        resource = entry.resource
        kind = resource.get_resource_type()
        if kind not in by_type:
            raise InvalidInput(
                f"{kind}/{resource.id}", "resourceType", kind, "one of " + ", ".join(KNOWN)
            )
        by_type[kind].append(resource)
    if len(by_type["Patient"]) != 1:
        got = f"{len(by_type['Patient'])} Patients"
        raise InvalidInput("Bundle", "Patient", got, "exactly one Patient")
    dm = _dm(by_type["Patient"][0])
    usubjid, studyid = dm["USUBJID"], dm["STUDYID"]
    visits = {f"Encounter/{e.id}": _encounter(e) for e in by_type["Encounter"]}
    urls = {questionnaire_url(s): s for s in schemas}
    qs_rows: list[dict[str, Any]] = []
    sources: dict[str, list[str]] = {"DM": [f"Patient/{by_type['Patient'][0].id}"]}
    sources["QS"] = []
    instruments: dict[tuple[Any, ...], str] = {}
    for response in by_type["QuestionnaireResponse"]:
        schema, rows = _response(response, urls, visits)
        qs_rows += rows
        sources["QS"] += [f"QuestionnaireResponse/{response.id}"] * len(rows)
        key = (usubjid, rows[0]["VISITNUM"], rows[0]["QSDTC"], rows[0]["QSEVAL"], schema["qscat"])
        instruments[key] = schema["instrument"]
    lb_rows = []
    sources["LB"] = []
    for observation in by_type["Observation"]:
        codings = observation.code.coding or []
        if any(x.system == c.SCORE_SYSTEM for x in codings):
            continue  # a total score: derived from the items, re-derived by the reader
        lb_rows.append(_lab(observation, visits))
        sources["LB"].append(f"Observation/{observation.id}")
    ex_rows = [_dose(m) for m in by_type["MedicationAdministration"]]
    ae_rows = [_adverse_event(a) for a in by_type["AdverseEvent"]]
    sources["EX"] = [
        f"MedicationAdministration/{m.id}" for m in by_type["MedicationAdministration"]
    ]
    sources["AE"] = [f"AdverseEvent/{a.id}" for a in by_type["AdverseEvent"]]
    common = {"STUDYID": studyid, "USUBJID": usubjid}
    tables = {
        "DM": _frame(DM, [dm], {"SUBJID": pl.String}),
        "EX": _frame(EX, _numbered(ex_rows, common, "EX")),
        "QS": _frame(QS, _numbered(qs_rows, common, "QS")),
        "LB": _frame(LB, _numbered(lb_rows, common, "LB")),
        "AE": _frame(AE, _numbered(ae_rows, common, "AE")),
    }
    return FhirRecord(tables, instruments, sources)


# --- resources ----------------------------------------------------------------------------------


def _ext(resource: Any, url: str) -> Any:
    for extension in resource.extension or []:
        if extension.url == url:
            return extension
    return None


def _required(resource: Any, field: str, value: Any, allowed: str) -> Any:
    if value is None:
        raise InvalidInput(f"{resource.get_resource_type()}/{resource.id}", field, None, allowed)
    return value


def _dm(patient: Any) -> dict[str, Any]:
    name = f"Patient/{patient.id}"
    ids = [i.value for i in patient.identifier or [] if i.system == c.USUBJID_SYSTEM]
    if len(ids) != 1:
        raise InvalidInput(name, "identifier", len(ids), f"one identifier of {c.USUBJID_SYSTEM}")
    if patient.name or patient.birthDate or patient.telecom or patient.address:
        raise InvalidInput(
            name, "name", "identifying data", "absent: atopic keeps pseudonymous records only"
        )
    if patient.gender not in c.SEX:
        raise InvalidInput(name, "gender", patient.gender, "one of " + ", ".join(c.SEX))
    studyid = _ext(patient, c.EXT_STUDYID)
    siteid = _ext(patient, c.EXT_SITEID)
    age = _ext(patient, c.EXT_AGE)
    _required(patient, f"extension {c.EXT_STUDYID}", studyid, "the STUDYID (valueString)")
    _required(patient, f"extension {c.EXT_SITEID}", siteid, "the SITEID (valueString)")
    usubjid = ids[0]
    prefix = f"{studyid.valueString}-"
    return {
        "STUDYID": studyid.valueString,
        "DOMAIN": "DM",
        "USUBJID": usubjid,
        "SUBJID": usubjid.removeprefix(prefix) or usubjid,
        "SITEID": siteid.valueString,
        "AGE": None if age is None else float(age.valueAge.value),
        "SEX": c.SEX[patient.gender],
    }


def _encounter(encounter: Any) -> tuple[float, str | None, str | None]:
    numbers = [i.value for i in encounter.identifier or [] if i.system == c.VISITNUM_SYSTEM]
    name = f"Encounter/{encounter.id}"
    try:
        visitnum = float(numbers[0])
    except (IndexError, ValueError):
        got = numbers[0] if numbers else None
        raise InvalidInput(name, "identifier", got, f"a VISITNUM in {c.VISITNUM_SYSTEM}") from None
    visit = encounter.type[0].text if encounter.type else None
    start = _dtc(encounter.period.start) if encounter.period and encounter.period.start else None
    return visitnum, visit, start


def _visit_of(resource: Any, visits: Mapping[str, tuple[float, str | None, str | None]]) -> Any:
    if resource.encounter is None:
        return None, None
    ref = resource.encounter.reference
    if ref not in visits:
        where = f"{resource.get_resource_type()}/{resource.id}"
        raise InvalidInput(where, "encounter", ref, "a reference to an Encounter in the Bundle")
    visitnum, visit, _ = visits[ref]
    return visitnum, visit


def _response(
    response: Any,
    urls: Mapping[str, Schema],
    visits: Mapping[str, tuple[float, str | None, str | None]],
) -> tuple[Schema, list[dict[str, Any]]]:
    name = f"QuestionnaireResponse/{response.id}"
    schema = urls.get(response.questionnaire)
    if schema is None:
        raise InvalidInput(
            name, "questionnaire", response.questionnaire, "one of " + ", ".join(sorted(urls))
        )
    fields = {f["code"]: f for f in questionnaire_items(schema)}
    visitnum, visit = _visit_of(response, visits)
    if visitnum is None:
        raise InvalidInput(name, "encounter", None, "a reference to the visit's Encounter")
    date = _dtc(response.authored) if response.authored else None
    evaluator = response.author.display if response.author else None
    rows = []
    if not response.item:
        raise InvalidInput(name, "item", None, "at least one answered item")
    for n, item in enumerate(response.item):
        field = fields.get(item.linkId)
        if field is None:
            raise InvalidInput(name, f"item.{n}.linkId", item.linkId, f"one of {', '.join(fields)}")
        value = _answer(name, n, item, field)
        numeric = not isinstance(value, str)
        text = _entered(value)
        rows.append(
            {
                "DOMAIN": "QS",
                "QSTESTCD": item.linkId,
                "QSTEST": qstest_of(field),
                "QSCAT": schema["qscat"],
                "QSORRES": text,
                "QSSTRESC": text,
                "QSSTRESN": float(value) if numeric else None,
                "QSEVAL": evaluator,
                "VISITNUM": visitnum,
                "VISIT": visit,
                "QSDTC": date,
            }
        )
    return schema, rows


def qstest_of(field: Mapping[str, Any]) -> str:
    """QSTEST of a declared field, as ``atopic.tables.qstest`` makes it from the item."""
    return qstest(_Label(field["label"]))


class _Label:
    """The one attribute ``qstest`` reads from an item."""

    def __init__(self, label: str) -> None:
        self.label = label


def _answer(name: str, n: int, item: Any, field: Mapping[str, Any]) -> int | float | str:
    where = f"item.{n}.answer"
    allowed = field["allowed"]
    if not item.answer or len(item.answer) != 1:
        got = len(item.answer or [])
        raise InvalidInput(name, where, f"{got} answers", f"one answer ({allowed})")
    answer = item.answer[0]
    given = [
        v for v in (answer.valueInteger, answer.valueDecimal, answer.valueString) if v is not None
    ]
    if len(given) != 1:
        raise InvalidInput(
            name, where, None, f"valueInteger, valueDecimal or valueString ({allowed})"
        )
    value = given[0]
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    values = field.get("values")
    if values is not None and value not in values:
        raise InvalidInput(name, f"{where} ({item.linkId})", value, allowed)
    if isinstance(value, str) and values is None:
        raise InvalidInput(name, f"{where} ({item.linkId})", value, allowed)
    lo, hi = field.get("minimum"), field.get("maximum")
    if not isinstance(value, str) and (
        (lo is not None and value < lo) or (hi is not None and value > hi)
    ):
        raise InvalidInput(name, f"{where} ({item.linkId})", value, allowed)
    return value


def _entered(value: int | float | str) -> str:
    """QSORRES as the registry writes it (``services._entered``): 2 -> "2", 1.5 -> "1.5"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _lab(observation: Any, visits: Mapping[str, Any]) -> dict[str, Any]:
    name = f"Observation/{observation.id}"
    local = [x.code for x in observation.code.coding or [] if x.system == c.LBTESTCD_SYSTEM]
    if len(local) != 1:
        raise InvalidInput(
            name, "code", observation.code.text, f"one coding of {c.LBTESTCD_SYSTEM}"
        )
    quantity = observation.valueQuantity
    visitnum, _ = _visit_of(observation, visits)
    return {
        "DOMAIN": "LB",
        "LBTESTCD": local[0],
        "LBSTRESN": None if quantity is None or quantity.value is None else float(quantity.value),
        "LBSTRESU": None if quantity is None else quantity.unit,
        "VISITNUM": visitnum,
        "LBDTC": _dtc(observation.effectiveDateTime) if observation.effectiveDateTime else None,
    }


def _dose(administration: Any) -> dict[str, Any]:
    name = f"MedicationAdministration/{administration.id}"
    medication = None
    if administration.medicationReference is not None:
        ref = administration.medicationReference.reference or ""
        contained = {f"#{r.id}": r for r in administration.contained or []}
        medication = contained.get(ref)
        if medication is None:
            raise InvalidInput(name, "medicationReference", ref, "a contained Medication")
        treatment = medication.code.text if medication.code else None
    else:
        concept = administration.medicationCodeableConcept
        treatment = concept.text if concept else None
    _required(administration, "medication.code.text", treatment, "the treatment (EXTRT)")
    dosage = administration.dosage
    dose = dosage.dose if dosage is not None else None
    when = _required(
        administration, "effectiveDateTime", administration.effectiveDateTime, "a date and time"
    )
    lot = medication.batch.lotNumber if medication is not None and medication.batch else None
    return {
        "DOMAIN": "EX",
        "EXTRT": treatment,
        "EXDOSE": None if dose is None or dose.value is None else float(dose.value),
        "EXDOSU": None if dose is None else dose.unit,
        "EXROUTE": dosage.route.text if dosage is not None and dosage.route else None,
        "EXLOT": lot,
        "EXSTDTC": _dtc(when),
    }


def _adverse_event(event: Any) -> dict[str, Any]:
    end = _ext(event, c.EXT_AE_END)
    bodsys = _ext(event, c.EXT_AE_BODSYS)
    toxgr = _ext(event, c.EXT_AE_TOXGR)
    term = _required(event, "event.text", event.event.text if event.event else None, "AETERM")
    decod = [x.display for x in (event.event.coding or []) if x.system == c.MEDDRA]
    severity = event.severity.coding[0].code if event.severity else None
    serious = event.seriousness.coding[0].code if event.seriousness else None
    related = None
    if event.suspectEntity and event.suspectEntity[0].causality:
        related = event.suspectEntity[0].causality[0].assessment.text
    aesev = {v: k for k, v in c.AESEV.items()}
    return {
        "DOMAIN": "AE",
        "AETERM": term,
        "AEDECOD": decod[0] if decod else None,
        "AEBODSYS": bodsys.valueString if bodsys else None,
        "AESEV": aesev.get(severity) if severity else None,
        "AETOXGR": None if toxgr is None else str(toxgr.valueInteger),
        "AESER": None if serious is None else ("Y" if serious == "serious" else "N"),
        "AEREL": related,
        "AESTDTC": _dtc(event.date) if event.date else None,
        "AEENDTC": _dtc(end.valueDateTime) if end else None,
    }


# --- helpers ------------------------------------------------------------------------------------


def _dtc(value: Any) -> str:
    """A FHIR date or dateTime as an SDTM ``--DTC`` (UTC ``Z`` dropped; see write.py)."""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    for suffix in ("Z", "+00:00"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text


def _numbered(
    rows: list[dict[str, Any]], common: Mapping[str, Any], domain: str
) -> list[dict[str, Any]]:
    return [{**common, **row, f"{domain}SEQ": n} for n, row in enumerate(rows, 1)]


def _frame(
    table: Table, rows: list[dict[str, Any]], extra: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    frame = frame_of(table, rows, extra)
    return frame.drop("BRTHDTC") if "BRTHDTC" in frame.columns else frame
