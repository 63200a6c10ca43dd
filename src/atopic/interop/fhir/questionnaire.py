"""A FHIR R4 Questionnaire per instrument, generated from the instrument's declaration.

The declaration comes in as data: ``Instrument.schema()`` (``atopic.instruments``) plus its
``qscat``, passed by the caller (interop does not import the instruments). Each item becomes one
Questionnaire item with ``linkId`` = QSTESTCD and ``text`` = the label. Item types:

* a fixed set of whole numbers (at most 11, e.g. 0-3 or 0-10): ``integer`` with one
  ``answerOption.valueInteger`` per allowed value;
* words (vIGA-AD grades ...): ``choice`` with ``answerOption.valueString``;
* anything else (0.5 steps, areas in %, continuous ranges): ``decimal`` with the standard
  ``minValue`` / ``maxValue`` extensions when the range is declared, and the allowed values in
  words in atopic's ``allowed`` extension (R4 answerOption has no decimal value).

Context items (the age an instrument needs) are not asked: they come from the Patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire

from atopic.interop.fhir.codes import EXT_ALLOWED, MAX_VALUE, MIN_VALUE, QUESTIONNAIRE_BASE

Schema = Mapping[str, Any]
"""An instrument declaration as data: ``Instrument.schema()`` with ``qscat`` added."""


def questionnaire_url(schema: Schema) -> str:
    """The canonical URL of an instrument's Questionnaire (``.../Questionnaire/EASI``)."""
    return f"{QUESTIONNAIRE_BASE}/{schema['instrument']}"


def questionnaire_items(schema: Schema) -> list[Mapping[str, Any]]:
    """The declared fields that are asked (context fields such as AGE left out)."""
    return [f for f in schema["fields"] if not f.get("context")]


def item_kind(field: Mapping[str, Any]) -> str:
    """``integer``, ``choice`` or ``decimal``: how an item is asked (module docstring)."""
    values = field.get("values")
    if values is not None and all(isinstance(v, str) for v in values):
        return "choice"
    if values is not None and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    return "decimal"


def questionnaire(schema: Schema) -> Questionnaire:
    """The Questionnaire of one instrument (validated by fhir.resources on construction)."""
    items = []
    for field in questionnaire_items(schema):
        kind = item_kind(field)
        item: dict[str, Any] = {
            "linkId": field["code"],
            "text": field["label"],
            "type": kind,
            "required": bool(field.get("required", False)),
            "extension": [{"url": EXT_ALLOWED, "valueString": field["allowed"]}],
        }
        if kind == "integer":
            item["answerOption"] = [{"valueInteger": v} for v in field["values"]]
        elif kind == "choice":
            item["answerOption"] = [{"valueString": v} for v in field["values"]]
        else:
            for url, key in ((MIN_VALUE, "minimum"), (MAX_VALUE, "maximum")):
                if field.get(key) is not None:
                    value = Decimal(str(field[key]))
                    item["extension"].append({"url": url, "valueDecimal": value})
        items.append(item)
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": _id(schema["instrument"]),
            "url": questionnaire_url(schema),
            "version": schema["version"],
            "name": _id(schema["instrument"]).replace("-", "_"),
            "title": schema["title"],
            "status": "active",
            "subjectType": ["Patient"],
            "code": [{"system": QUESTIONNAIRE_BASE, "code": schema.get("qscat", "")}],
            "description": f"{schema['title']}. Source: {schema['source']}",
            "item": items,
        }
    )


def _id(name: str) -> str:
    """A FHIR id from an instrument name (letters, digits, '-' and '.')."""
    return "".join(c if c.isalnum() or c in "-." else "-" for c in name)
