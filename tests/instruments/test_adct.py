"""ADCT: control band (Pariser 2019), all six answers required; scalar == batch.

Expected figures: ../shared/reference/instruments.md (ADCT).
"""

from __future__ import annotations

from typing import Any

import pytest

from atopic.errors import InvalidInput
from atopic.instruments import ADCT, INSTRUMENTS, compute_adct
from tests.instruments.examples import assert_table_agrees


def adct_items(total: int) -> list[int]:
    """Six answers (fours first) adding up to ``total``."""
    answers = []
    for _ in range(6):
        answers.append(min(4, total))
        total -= answers[-1]
    return answers


# --- registration -----------------------------------------------------------------------------


def test_adct_is_registered_with_its_codes() -> None:
    assert INSTRUMENTS["adct"] is ADCT
    assert [item.code for item in ADCT.items] == [f"ADCT10{n}" for n in range(1, 7)]
    assert ADCT.band_set_names == ("pariser2019",)


# --- band -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "in control"), (6, "in control"), (7, "not in control"), (24, "not in control")],
)
def test_band_edge_at_seven(total: int, band: str) -> None:
    result = compute_adct({"items": adct_items(total)})
    assert result.total == total
    assert result.band == band


# --- all answers required ---------------------------------------------------------------------


def test_an_unanswered_item_is_refused_not_imputed() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_adct({"items": [1, 2, 1, None, 0, 1]})
    assert caught.value.field == "items.4"
    assert caught.value.message == "ADCT items.4 must be one of 0, 1, 2, 3, 4; got nothing"


@pytest.mark.parametrize("value", [5, -1, 1.5, True, "2"])
def test_each_answer_is_a_whole_number_from_0_to_4(value: object) -> None:
    with pytest.raises(InvalidInput, match=r"^ADCT items\.6 must be one of 0, 1, 2, 3, 4; got "):
        compute_adct({"items": [0, 0, 0, 0, 0, value]})


def test_items_must_be_a_list_of_exactly_six() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_adct({"items": [1, 1, 1, 1, 1, 1, 1]})
    assert caught.value.message == (
        "ADCT items must be a list of exactly 6 answers (each a whole number 0-4; all required); "
        "got a list of 7 answers"
    )


# --- batch ------------------------------------------------------------------------------------

TABLE_INPUTS: list[dict[str, Any]] = [
    {"items": adct_items(0)},
    {"items": adct_items(6)},
    {"items": adct_items(7)},
    {"items": adct_items(24)},
    {"items": [1, 2, 1, None, 0, 1]},
    {"items": [1, 2, 1, 5, 0, 1]},
]


def test_score_table_agrees_with_the_scalar_path_on_polars() -> None:
    assert_table_agrees(ADCT, TABLE_INPUTS, "polars")


def test_score_table_agrees_with_the_scalar_path_on_duckdb() -> None:
    assert_table_agrees(ADCT, TABLE_INPUTS[1:5], "duckdb")
