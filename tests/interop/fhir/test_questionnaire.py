"""Questionnaires generated from the instrument declarations (atopic.instruments)."""

from __future__ import annotations

from typing import Any

import pytest

from atopic.instruments import INSTRUMENTS
from atopic.interop.fhir import questionnaire, questionnaire_url


@pytest.mark.parametrize("name", list(INSTRUMENTS))
def test_every_asked_item_is_one_questionnaire_item_with_its_code_and_label(
    name: str, schemas: list[dict[str, Any]]
) -> None:
    spec = INSTRUMENTS[name]
    schema = next(s for s in schemas if s["instrument"] == spec.name)
    q = questionnaire(schema)
    asked = [i for i in spec.items if not i.context]
    assert [i.linkId for i in q.item] == [i.code for i in asked]
    assert [i.text for i in q.item] == [i.label for i in asked]
    assert [i.required for i in q.item] == [not i.optional for i in asked]
    assert q.url == questionnaire_url(schema)
    assert q.version == spec.version


@pytest.mark.parametrize("name", list(INSTRUMENTS))
def test_answer_options_are_the_declared_values(name: str, schemas: list[dict[str, Any]]) -> None:
    schema = next(s for s in schemas if s["instrument"] == INSTRUMENTS[name].name)
    fields = {f["code"]: f for f in schema["fields"]}
    for item in questionnaire(schema).item:
        declared = fields[item.linkId]
        if item.type == "integer":
            assert [o.valueInteger for o in item.answerOption] == declared["values"]
        elif item.type == "choice":
            assert [o.valueString for o in item.answerOption] == declared["values"]
        else:
            assert item.type == "decimal"
            assert not item.answerOption
            bounds = {e.url.rsplit("/", 1)[1]: e.valueDecimal for e in item.extension}
            if declared.get("minimum") is not None:
                assert float(bounds["minValue"]) == declared["minimum"]
                assert float(bounds["maxValue"]) == declared["maximum"]


def test_age_is_not_asked(schemas: list[dict[str, Any]]) -> None:
    easi = next(s for s in schemas if s["instrument"] == "EASI")
    assert "AGE" in {f["code"] for f in easi["fields"]}
    assert "AGE" not in {i.linkId for i in questionnaire(easi).item}
