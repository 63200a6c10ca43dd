"""POEM: bands (Charman 2013), missing-answer rule, input shape, scalar == batch.

Expected figures come from ../shared/reference/instruments.md (POEM).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, POEM, compute_poem, score_table
from tests.instruments.examples import assert_table_agrees


def poem_items(total: int) -> list[int]:
    """Seven answers (fours first) adding up to ``total``."""
    answers = []
    for _ in range(7):
        answers.append(min(4, total))
        total -= answers[-1]
    return answers


# --- registration -----------------------------------------------------------------------------


def test_poem_is_registered_under_its_command_line_name() -> None:
    assert INSTRUMENTS["poem"] is POEM
    assert [item.code for item in POEM.items] == [f"POEM10{n}" for n in range(1, 8)]


# --- bands ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "clear or almost clear"),
        (2, "clear or almost clear"),
        (3, "mild"),
        (7, "mild"),
        (8, "moderate"),
        (16, "moderate"),
        (17, "severe"),
        (24, "severe"),
        (25, "very severe"),
        (28, "very severe"),
    ],
)
def test_band_edges_charman_2013(total: int, band: str) -> None:
    result = compute_poem({"items": poem_items(total)})
    assert result.total == total
    assert result.band == band
    assert result.band_set == "charman2013"


# --- missing answers --------------------------------------------------------------------------


def test_one_unanswered_item_counts_zero() -> None:
    result = compute_poem({"items": [4, 4, 4, 4, None, 4, 4]})
    assert result.total == 24
    assert result.band == "severe"
    assert result.unanswered == 1
    assert result.to_dict()["unanswered"] == 1


def test_all_answered_reports_zero_unanswered() -> None:
    assert compute_poem({"items": [1] * 7}).unanswered == 0


def test_two_unanswered_items_are_not_scored() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_poem({"items": [1, None, 2, 3, None, 0, 1]})
    assert caught.value.field == "items"
    assert caught.value.message == (
        "POEM items must be answered with at most 1 unanswered item (two or more unanswered: "
        "POEM is not scored); got 2 unanswered (items.2, items.5)"
    )


def test_seven_unanswered_items_are_not_scored() -> None:
    with pytest.raises(InvalidInput, match="got 7 unanswered"):
        compute_poem({"items": [None] * 7})


# --- input shape and values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "got"),
    [
        ([1, 2, 3, 4, 0, 1], "a list of 6 answers"),
        ([1] * 8, "a list of 8 answers"),
        ([], "a list of 0 answers"),
        ("1234012", "'1234012'"),
        ({"1": 2}, "{'1': 2} (a dict)"),
        (None, "nothing"),
    ],
)
def test_items_must_be_a_list_of_exactly_seven(items: object, got: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_poem({"items": items})
    assert caught.value.field == "items"
    assert caught.value.message == (
        "POEM items must be a list of exactly 7 answers (each 0-4, or null if unanswered); "
        f"got {got}"
    )


def test_missing_items_key_names_items() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_poem({})
    assert caught.value.message.startswith("POEM items must be a list of exactly 7 answers")
    assert caught.value.message.endswith("got nothing")


def test_entries_are_numbered_from_one_as_on_the_form() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_poem({"items": [5, 0, 0, 0, 0, 0, 0]})
    assert caught.value.message == "POEM items.1 must be one of 0, 1, 2, 3, 4; got 5"


@pytest.mark.parametrize(
    ("value", "got"), [(-1, "-1"), (2.5, "2.5"), (True, "True (a boolean)"), ("3", "'3'")]
)
def test_each_answer_is_a_whole_number_from_0_to_4(value: object, got: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_poem({"items": [0, 0, 0, 0, 0, 0, value]})
    assert caught.value.message == f"POEM items.7 must be one of 0, 1, 2, 3, 4; got {got}"


def test_a_whole_float_is_read_as_its_number() -> None:
    assert compute_poem({"items": [4.0, 0, 0, 0, 0, 0, 0]}).total == 4


def test_an_unknown_key_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_poem({"items": [0] * 7, "comment": "itchy"})
    assert caught.value.field == "comment"


def test_an_answer_given_twice_is_refused_not_overwritten() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_poem({"items": [0] * 7, "items.3": 4})
    assert caught.value.message == "POEM items.3 must be given once, inside items; got 4"


# --- batch ------------------------------------------------------------------------------------

TABLE_INPUTS: list[dict[str, Any]] = [
    {"items": [0, 0, 0, 0, 0, 0, 0]},
    {"items": [1, 1, 0, 0, 0, 0, 0]},
    {"items": [1, 1, 1, 0, 0, 0, 0]},
    {"items": [4, 4, 4, 4, 4, 4, 4]},
    {"items": [4, 4, 4, 4, None, 4, 4]},
    {"items": [None, 1, 2, 3, 4, 0, 1]},
    {"items": [1, None, 2, 3, None, 0, 1]},
    {"items": [5, 0, 0, 0, 0, 0, 0]},
    {"items": [0, 0, 0, 0, 0, 0, -1]},
]


def test_score_table_agrees_with_the_scalar_path_on_polars() -> None:
    assert_table_agrees(POEM, TABLE_INPUTS, "polars")


def test_score_table_agrees_with_the_scalar_path_on_duckdb() -> None:
    assert_table_agrees(POEM, TABLE_INPUTS[3:8], "duckdb")


def test_score_table_keeps_other_columns_and_adds_results() -> None:
    df = pl.DataFrame(
        {"USUBJID": ["S1"], **{f"POEM10{n}": [2] for n in range(1, 8)}},
    )
    scored = score_table(POEM, df).scored
    assert scored.columns[-3:] == ["total", "unanswered", "band"]
    assert scored.row(0, named=True) == {
        "USUBJID": "S1",
        **{f"POEM10{n}": 2 for n in range(1, 8)},
        "total": 14.0,
        "unanswered": 0.0,
        "band": "moderate",
    }
