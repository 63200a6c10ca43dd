"""Every declared item refuses every bad value by name, with the one message template."""

from __future__ import annotations

import pytest

from atopic.errors import InvalidInput, format_value
from atopic.instruments import INSTRUMENTS
from atopic.instruments.scalar import score_fields, validate
from tests.instruments.examples import invalid_values, valid_example

CASES = [
    (name, item.field, bad)
    for name, instrument in sorted(INSTRUMENTS.items())
    for item in instrument.items
    for bad in invalid_values(item)
]


@pytest.mark.parametrize(
    ("name", "field", "bad"), CASES, ids=[f"{n}-{f}-{b!r}" for n, f, b in CASES]
)
def test_every_item_refuses_bad_values_by_name(name: str, field: str, bad: object) -> None:
    instrument = INSTRUMENTS[name]
    flat = valid_example(instrument)
    flat[field] = bad
    with pytest.raises(InvalidInput) as caught:
        validate(instrument, flat)
    item = instrument.item(field)
    assert caught.value.field == field
    assert caught.value.message == (
        f"{instrument.name} {field} must be {item.domain.describe()}; got {format_value(bad)}"
    )


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
def test_valid_example_scores_and_unknown_field_is_refused(name: str) -> None:
    instrument = INSTRUMENTS[name]
    flat = valid_example(instrument)
    assert score_fields(instrument, flat).total >= 0
    with pytest.raises(InvalidInput, match=r"must be a known field.*got 1"):
        validate(instrument, {**flat, "not_a_field": 1})


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
def test_item_codes_are_short_and_unique(name: str) -> None:
    instrument = INSTRUMENTS[name]
    codes = [item.code for item in instrument.items]
    assert len(codes) == len(set(codes))
    assert all(len(code) <= 8 and code.isalnum() and code.isupper() for code in codes)
    assert all(item.label for item in instrument.items)


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
def test_schema_lists_every_field(name: str) -> None:
    instrument = INSTRUMENTS[name]
    schema = instrument.schema()
    assert [f["field"] for f in schema["fields"]] == [i.field for i in instrument.items]
    assert schema["version"] == instrument.version
