"""``atopic.registry.load``: the form an instrument is entered in, rebuilt from item values."""

from __future__ import annotations

import pytest

from atopic.instruments import INSTRUMENTS
from atopic.instruments.scalar import flatten
from atopic.registry.load import form_data, instrument_for


@pytest.mark.parametrize("name", list(INSTRUMENTS))
def test_form_data_parses_back_to_the_same_fields(name: str) -> None:
    spec = INSTRUMENTS[name]
    values = {item.field: n for n, item in enumerate(spec.items) if not item.context}
    data = form_data(spec, values)
    parsed = spec.parse(data) if spec.parse else flatten(data)
    assert {k: v for k, v in parsed.items() if v is not None} == values


@pytest.mark.parametrize("name", ["scorad", "oscorad"])
def test_scorad_and_objective_scorad_are_told_apart_by_their_items(name: str) -> None:
    spec = INSTRUMENTS[name]
    codes = {item.code for item in spec.items if not item.context and not item.optional}
    assert instrument_for(spec.qscat, codes) is spec
