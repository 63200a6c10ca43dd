"""One subject's collected tables as a FHIR R4 Bundle (type ``collection``).

``subject_bundle(tables, usubjid, schemas, score=None)`` reads the subject's rows of DM, EX,
QS, LB and AE (as ``atopic.registry.export.export_tables`` or any other source writes them) and
returns a ``fhir.resources`` Bundle, every resource validated on construction:

* **Patient** (pseudonymous): the USUBJID as its only identifier, gender from SEX, STUDYID,
  SITEID and the age at enrolment (DM AGE, years) as atopic extensions; no name, no birth date.
  The allocation (ARMCD) is not part of the record and is not written.
* **Encounter** per visit (VISITNUM in QS or LB): identifier VISITNUM, type text VISIT, period
  start the visit's earliest QSDTC (or LBDTC).
* **QuestionnaireResponse** per assessment (QS rows of one instrument, visit, date and
  evaluator): ``questionnaire`` the instrument's canonical URL, one item per QS row with
  ``linkId`` = QSTESTCD and the answer (``valueInteger`` / ``valueDecimal`` for numeric results,
  ``valueString`` for words); QSEVAL in ``author.display``.
* **Observation** per total score, when ``score`` is given (the tables hold items only; the
  caller scores with ``atopic.instruments``): value, ``interpretation`` = severity band,
  ``derivedFrom`` the QuestionnaireResponse.
* **MedicationAdministration** per EX row: a contained Medication with EXTRT and the lot
  (EXLOT), ``dosage.dose`` = EXDOSE in EXDOSU, route EXROUTE. In a blinded table EXTRT is
  already masked and EXDOSE, EXDOSU and EXLOT are null: the dose and lot are then left out.
* **AdverseEvent** per AE row: event text AETERM (MedDRA display AEDECOD when coded), date
  AESTDTC, severity, seriousness, causality AEREL; AEENDTC, AEBODSYS, AETOXGR as extensions.
* **Observation** per LB row, coded with LOINC for IgE and eosinophils (``codes.LAB_LOINC``)
  and always with the local LBTESTCD code.
* **Questionnaire** per instrument used, from the declarations (``questionnaire``).

Decisions: resource ids are deterministic (``patient``, ``encounter-1``, ``qr-3`` ...) and
fullUrls are ``urn:uuid`` derived from USUBJID and id, so two exports of the same record are
equal except for ``Bundle.timestamp``. FHIR requires a time zone on a date-time: atopic's times
(EXSTDTC) are stored without one and are written as UTC (``Z``); reading drops the ``Z``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import polars as pl
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from atopic.errors import InvalidInput
from atopic.interop.fhir import codes as c
from atopic.interop.fhir.questionnaire import Schema, questionnaire, questionnaire_url

Scorer = Callable[[str, Mapping[str, Any], float | None], tuple[Decimal, str | None]]
"""``score(instrument, {QSTESTCD: value}, age) -> (total, band)``, supplied by the caller."""

_NAMESPACE = uuid.UUID("5b0c2f0e-7a9e-4f55-9a55-0d3c1f6f2a11")


def subject_bundle(
    tables: Mapping[str, pl.DataFrame],
    usubjid: str,
    schemas: Sequence[Schema],
    score: Scorer | None = None,
    *,
    timestamp: dt.datetime | None = None,
) -> Bundle:
    """The FHIR R4 Bundle (collection) of one subject's record; see the module docstring.

    ``tables`` holds DM (required) and any of EX, QS, LB, AE; ``schemas`` the instrument
    declarations (``Instrument.schema()`` plus ``qscat`` and per-field ``context``). Raises
    ``InvalidInput`` for an unknown USUBJID or QS rows no declared instrument matches.
    """
    rows = {name: _rows(tables, name, usubjid) for name in ("DM", "EX", "QS", "LB", "AE")}
    if len(rows["DM"]) != 1:
        raise InvalidInput("FHIR export", "USUBJID", usubjid, "a subject in DM")
    dm = rows["DM"][0]
    entries: list[dict[str, Any]] = [_patient(dm)]
    encounters = _encounters(rows["QS"], rows["LB"])
    entries += [e for _, e in sorted(encounters.items())]
    used: dict[str, Schema] = {}
    for n, group in enumerate(_assessments(rows["QS"]), 1):
        schema = match_instrument(group, schemas)
        used[schema["instrument"]] = schema
        entries.append(_response(n, group, schema, encounters))
        if score is not None:
            values = {r["QSTESTCD"]: _value(r) for r in group}
            total, band = score(schema["instrument"], values, dm.get("AGE"))
            entries.append(_total(n, group[0], schema, total, band, encounters))
    entries += [_dose(n, r) for n, r in enumerate(rows["EX"], 1)]
    entries += [_adverse_event(n, r) for n, r in enumerate(rows["AE"], 1)]
    entries += [_lab(n, r, encounters) for n, r in enumerate(rows["LB"], 1)]
    resources = [_validated(e) for e in entries]
    resources += [questionnaire(s) for _, s in sorted(used.items())]
    when = timestamp or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": when.isoformat(),
            "entry": [
                {"fullUrl": full_url(usubjid, r.get_resource_type(), r.id), "resource": r}
                for r in resources
            ],
        }
    )


def full_url(usubjid: str, resource_type: str, resource_id: str | None) -> str:
    """The deterministic ``urn:uuid`` of a resource of one subject's Bundle."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{usubjid}/{resource_type}/{resource_id}')}"


def match_instrument(group: Sequence[Mapping[str, Any]], schemas: Sequence[Schema]) -> Schema:
    """The declared instrument of one assessment's QS rows: same QSCAT, every QSTESTCD one of
    its items and every required item present (SCORAD and oSCORAD share QSCAT SCORAD)."""
    qscat = group[0]["QSCAT"]
    given = {r["QSTESTCD"] for r in group}
    found = []
    for schema in schemas:
        if schema.get("qscat") != qscat:
            continue
        asked = [f for f in schema["fields"] if not f.get("context")]
        declared = {f["code"] for f in asked}
        required = {f["code"] for f in asked if f.get("required")}
        if given <= declared and required <= given:
            found.append(schema)
    if len(found) != 1:
        raise InvalidInput(
            "QS",
            "QSTESTCD",
            ", ".join(sorted(given)),
            f"the items of exactly one declared instrument of QSCAT {qscat}",
        )
    return found[0]


# --- rows ---------------------------------------------------------------------------------------


def _rows(tables: Mapping[str, pl.DataFrame], name: str, usubjid: str) -> list[dict[str, Any]]:
    frame = tables.get(name)
    if frame is None:
        return []
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    return frame.filter(pl.col("USUBJID") == usubjid).to_dicts()


def _assessments(qs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """QS rows grouped by instrument category, visit, date and evaluator, in QSSEQ order."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in qs:
        key = (row["VISITNUM"], row["QSDTC"], row["QSCAT"], row.get("QSEVAL"))
        groups.setdefault(key, []).append(row)
    return list(groups.values())


def _value(row: Mapping[str, Any]) -> int | float | str:
    """An item's answer: the number (whole numbers as int) or, for words, QSORRES."""
    number = row.get("QSSTRESN")
    if number is None:
        return str(row["QSORRES"])
    return int(number) if float(number).is_integer() else float(number)


def fhir_datetime(value: str) -> str:
    """A ``--DTC`` as a FHIR date or dateTime: a time gets the zone FHIR requires (UTC)."""
    return value if "T" not in value or value.endswith("Z") or "+" in value else value + "Z"


def _ref(resource_type: str, resource_id: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def _visit_id(visitnum: float) -> str:
    return "encounter-" + (f"{visitnum:g}".replace(".", "-"))


# --- resources ----------------------------------------------------------------------------------


def _patient(dm: Mapping[str, Any]) -> dict[str, Any]:
    extension: list[dict[str, Any]] = [
        {"url": c.EXT_STUDYID, "valueString": dm["STUDYID"]},
        {"url": c.EXT_SITEID, "valueString": dm["SITEID"]},
    ]
    if dm.get("AGE") is not None:
        extension.append(
            {
                "url": c.EXT_AGE,
                "valueAge": {
                    "value": Decimal(str(dm["AGE"])),
                    "unit": "years",
                    "system": c.UCUM,
                    "code": "a",
                },
            }
        )
    return {
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [{"system": c.USUBJID_SYSTEM, "value": dm["USUBJID"]}],
        "gender": c.GENDER[dm["SEX"]],
        "extension": extension,
    }


def _encounters(qs: list[dict[str, Any]], lb: list[dict[str, Any]]) -> dict[float, dict[str, Any]]:
    names: dict[float, str] = {}
    dates: dict[float, str] = {}
    for row, date_column in [(r, "QSDTC") for r in qs] + [(r, "LBDTC") for r in lb]:
        visitnum = row.get("VISITNUM")
        if visitnum is None:
            continue
        if row.get("VISIT") and visitnum not in names:
            names[visitnum] = row["VISIT"]
        date = row.get(date_column)
        if date and (visitnum not in dates or date < dates[visitnum]):
            dates[visitnum] = date
    out = {}
    for visitnum in sorted(set(names) | set(dates)):
        encounter: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": _visit_id(visitnum),
            "status": "finished",
            "class": {"system": c.ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "identifier": [{"system": c.VISITNUM_SYSTEM, "value": f"{visitnum:g}"}],
            "subject": _ref("Patient", "patient"),
        }
        if visitnum in names:
            encounter["type"] = [{"text": names[visitnum]}]
        if visitnum in dates:
            encounter["period"] = {"start": fhir_datetime(dates[visitnum])}
        out[visitnum] = encounter
    return out


def _response(
    n: int,
    group: list[dict[str, Any]],
    schema: Schema,
    encounters: Mapping[float, Any],
) -> dict[str, Any]:
    first = group[0]
    items = []
    for row in group:
        value = _value(row)
        if isinstance(value, str):
            answer: dict[str, Any] = {"valueString": value}
        elif isinstance(value, int):
            answer = {"valueInteger": value}
        else:
            answer = {"valueDecimal": Decimal(repr(value))}
        items.append({"linkId": row["QSTESTCD"], "text": row["QSTEST"], "answer": [answer]})
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-{n}",
        "questionnaire": questionnaire_url(schema),
        "status": "completed",
        "subject": _ref("Patient", "patient"),
        "item": items,
    }
    if first.get("QSDTC"):
        response["authored"] = fhir_datetime(first["QSDTC"])
    if first.get("QSEVAL"):
        response["author"] = {"display": first["QSEVAL"]}
    if first["VISITNUM"] in encounters:
        response["encounter"] = _ref("Encounter", _visit_id(first["VISITNUM"]))
    return response


def _total(
    n: int,
    first: Mapping[str, Any],
    schema: Schema,
    total: Decimal,
    band: str | None,
    encounters: Mapping[float, Any],
) -> dict[str, Any]:
    name = schema["instrument"]
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"score-{n}",
        "status": "final",
        "category": [{"coding": [{"system": c.OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": {"coding": [{"system": c.SCORE_SYSTEM, "code": name}], "text": f"{name} total"},
        "subject": _ref("Patient", "patient"),
        "valueQuantity": {"value": Decimal(total), "unit": "{score}", "system": c.UCUM},
        "derivedFrom": [_ref("QuestionnaireResponse", f"qr-{n}")],
    }
    if band is not None:
        observation["interpretation"] = [
            {"coding": [{"system": f"{c.BAND_SYSTEM}/{name}", "code": band}], "text": band}
        ]
    if first.get("QSDTC"):
        observation["effectiveDateTime"] = fhir_datetime(first["QSDTC"])
    if first["VISITNUM"] in encounters:
        observation["encounter"] = _ref("Encounter", _visit_id(first["VISITNUM"]))
    return observation


def _dose(n: int, row: Mapping[str, Any]) -> dict[str, Any]:
    medication: dict[str, Any] = {
        "resourceType": "Medication",
        "id": "medication",
        "code": {"text": row["EXTRT"]},
    }
    if row.get("EXLOT") is not None:
        medication["batch"] = {"lotNumber": row["EXLOT"]}
    administration: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": f"dose-{n}",
        "contained": [medication],
        "status": "completed",
        "medicationReference": {"reference": "#medication"},
        "subject": _ref("Patient", "patient"),
        "effectiveDateTime": fhir_datetime(row["EXSTDTC"]),
    }
    dosage: dict[str, Any] = {}
    if row.get("EXROUTE") is not None:
        dosage["route"] = {"text": row["EXROUTE"]}
    if row.get("EXDOSE") is not None:
        dosage["dose"] = {"value": Decimal(repr(float(row["EXDOSE"]))), "unit": row["EXDOSU"]}
    if dosage:
        administration["dosage"] = dosage
    return administration


def _adverse_event(n: int, row: Mapping[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {"text": row["AETERM"]}
    if row.get("AEDECOD"):
        event["coding"] = [{"system": c.MEDDRA, "display": row["AEDECOD"]}]
    extension = []
    if row.get("AEENDTC"):
        extension.append({"url": c.EXT_AE_END, "valueDateTime": fhir_datetime(row["AEENDTC"])})
    if row.get("AEBODSYS"):
        extension.append({"url": c.EXT_AE_BODSYS, "valueString": row["AEBODSYS"]})
    if row.get("AETOXGR"):
        extension.append({"url": c.EXT_AE_TOXGR, "valueInteger": int(row["AETOXGR"])})
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": f"ae-{n}",
        "actuality": "actual",
        "subject": _ref("Patient", "patient"),
        "event": event,
    }
    if extension:
        resource["extension"] = extension
    if row.get("AESTDTC"):
        resource["date"] = fhir_datetime(row["AESTDTC"])
    if row.get("AESEV"):
        code = c.AESEV[row["AESEV"]]
        resource["severity"] = {"coding": [{"system": c.AE_SEVERITY, "code": code}]}
    if row.get("AESER"):
        code = "serious" if row["AESER"] == "Y" else "non-serious"
        resource["seriousness"] = {"coding": [{"system": c.AE_SERIOUSNESS, "code": code}]}
    if row.get("AEREL"):
        resource["suspectEntity"] = [
            {
                "instance": {"display": "study treatment"},
                "causality": [{"assessment": {"text": row["AEREL"]}}],
            }
        ]
    return resource


def _lab(n: int, row: Mapping[str, Any], encounters: Mapping[float, Any]) -> dict[str, Any]:
    testcd = row["LBTESTCD"]
    coding = [{"system": c.LBTESTCD_SYSTEM, "code": testcd}]
    quantity: dict[str, Any] = {}
    if testcd in c.LAB_LOINC:
        loinc, display, ucum = c.LAB_LOINC[testcd]
        coding.insert(0, {"system": c.LOINC, "code": loinc, "display": display})
        quantity = {"system": c.UCUM, "code": ucum}
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"lab-{n}",
        "status": "final",
        "category": [{"coding": [{"system": c.OBSERVATION_CATEGORY, "code": "laboratory"}]}],
        "code": {"coding": coding, "text": testcd},
        "subject": _ref("Patient", "patient"),
    }
    if row.get("LBSTRESN") is not None:
        quantity["value"] = Decimal(repr(float(row["LBSTRESN"])))
        if row.get("LBSTRESU"):
            quantity["unit"] = row["LBSTRESU"]
        observation["valueQuantity"] = quantity
    if row.get("LBDTC"):
        observation["effectiveDateTime"] = fhir_datetime(row["LBDTC"])
    if row.get("VISITNUM") is not None and row["VISITNUM"] in encounters:
        observation["encounter"] = _ref("Encounter", _visit_id(row["VISITNUM"]))
    return observation


def _validated(resource: dict[str, Any]) -> Any:
    """The fhir.resources model of a resource dict (validation happens here)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)
