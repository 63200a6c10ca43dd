"""DLQI, CDLQI and IDQOL: bands, item 7/7a logic, missing answers; scalar == batch.

Expected figures: ../shared/reference/instruments.md (DLQI, CDLQI, IDQOL); CDLQI bands:
unverified.CDLQI_BANDS; codes: ../shared/reference/trials.md.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.instruments import (
    CDLQI,
    DLQI,
    IDQOL,
    INSTRUMENTS,
    compute_cdlqi,
    compute_dlqi,
    compute_idqol,
    score_table,
)
from tests.instruments.examples import assert_table_agrees

WORDS = {3: "very much", 2: "a lot", 1: "a little", 0: "not at all"}
ITEM_7A_WORDS = {2: "a lot", 1: "a little", 0: "not at all"}


def points(total: int, count: int = 10) -> list[int]:
    """``count`` answers (threes first) adding up to ``total``."""
    answers = []
    for _ in range(count):
        answers.append(min(3, total))
        total -= answers[-1]
    return answers


def dlqi_input(scores: list[int]) -> dict[str, Any]:
    """A DLQI answer sheet whose question scores are ``scores`` (question 7: 3 is "yes", 0 is
    "not relevant", 1 or 2 is "no" with that 7a answer)."""
    answers: list[str] = [WORDS[s] for s in scores]
    data: dict[str, Any] = {"items": answers}
    item_7 = scores[6]
    if item_7 == 3:
        answers[6] = "yes"
    elif item_7 == 0:
        answers[6] = "not relevant"
    else:
        answers[6] = "no"
        data["item_7a"] = ITEM_7A_WORDS[item_7]
    return data


def sheet(item_7: str | None = "not relevant", item_7a: str | None = None, **answers: Any) -> dict:
    """All "not at all" except question 7 and any ``q<n>=word`` given."""
    items: list[Any] = ["not at all"] * 10
    items[6] = item_7
    for key, word in answers.items():
        items[int(key[1:]) - 1] = word
    data: dict[str, Any] = {"items": items}
    if item_7a is not None:
        data["item_7a"] = item_7a
    return data


# --- registration and codes -------------------------------------------------------------------


def test_three_versions_are_registered() -> None:
    assert (INSTRUMENTS["dlqi"], INSTRUMENTS["cdlqi"], INSTRUMENTS["idqol"]) == (
        DLQI,
        CDLQI,
        IDQOL,
    )


def test_dlqi_uses_the_official_cdisc_codes() -> None:
    assert DLQI.qscat == "DLQI"
    assert [item.code for item in DLQI.items] == [
        *(f"DLQI10{n}" for n in range(1, 8)),
        "DLQI107A",
        "DLQI108",
        "DLQI109",
        "DLQI110",
    ]
    assert DLQI.item("items.7a").code == "DLQI107A"


def test_child_and_infant_versions_use_sponsor_codes() -> None:
    assert CDLQI.items[0].code == "CDLQI101"
    assert CDLQI.items[-1].code == "CDLQI110"
    assert [i.code for i in IDQOL.items][-2:] == ["IDQOL110", "IDQOL100"]


# --- DLQI bands -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "no effect"),
        (1, "no effect"),
        (2, "small effect"),
        (5, "small effect"),
        (6, "moderate effect"),
        (10, "moderate effect"),
        (11, "very large effect"),
        (20, "very large effect"),
        (21, "extremely large effect"),
        (30, "extremely large effect"),
    ],
)
def test_dlqi_band_edges_hongbo_2005(total: int, band: str) -> None:
    result = compute_dlqi(dlqi_input(points(total)))
    assert result.total == total
    assert result.band == band
    assert result.band_set == "hongbo2005"


@pytest.mark.parametrize(("word", "value"), [*((w, p) for p, w in WORDS.items())])
def test_dlqi_answer_words_score_3_2_1_0(word: str, value: int) -> None:
    assert compute_dlqi(sheet(q1=word)).total == value


def test_not_relevant_scores_zero_like_not_at_all() -> None:
    relevant = sheet(q3="not at all", q10="not at all")
    not_relevant = sheet(q3="not relevant", q10="not relevant")
    assert compute_dlqi(relevant).total == compute_dlqi(not_relevant).total == 0


def test_not_relevant_is_refused_for_questions_1_and_2() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_dlqi(sheet(q2="not relevant"))
    assert caught.value.message == (
        "DLQI items.2 must be one of 'very much', 'a lot', 'a little', 'not at all'; "
        "got 'not relevant'"
    )


@pytest.mark.parametrize(("value", "got"), [("A lot", "'A lot'"), (2, "2"), ("", "''")])
def test_answers_must_be_the_exact_words(value: object, got: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_dlqi(sheet(q5=value))
    assert caught.value.message == (
        "DLQI items.5 must be one of 'very much', 'a lot', 'a little', 'not at all', "
        f"'not relevant'; got {got}"
    )


# --- DLQI question 7 and its follow-up 7a ----------------------------------------------------


@pytest.mark.parametrize(
    ("item_7", "item_7a", "total"),
    [
        ("yes", None, 3),
        ("no", "a lot", 2),
        ("no", "a little", 1),
        ("no", "not at all", 0),
        ("not relevant", None, 0),
    ],
)
def test_question_7_scores(item_7: str, item_7a: str | None, total: int) -> None:
    assert compute_dlqi(sheet(item_7=item_7, item_7a=item_7a)).total == total


def test_7a_is_required_after_no() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_dlqi(sheet(item_7="no"))
    assert caught.value.field == "items.7a"
    assert caught.value.message == (
        "DLQI items.7a must be given ('a lot', 'a little' or 'not at all') when items.7 is "
        "'no'; got nothing"
    )


@pytest.mark.parametrize("item_7", ["yes", "not relevant", None])
def test_7a_must_be_left_out_unless_question_7_is_no(item_7: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_dlqi(sheet(item_7=item_7, item_7a="a lot"))
    assert caught.value.message == (
        "DLQI items.7a must be left out unless items.7 is 'no' (it follows up a 'no'); got 'a lot'"
    )


def test_7a_takes_only_its_own_three_answers() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_dlqi(sheet(item_7="no", item_7a="very much"))
    assert caught.value.message == (
        "DLQI items.7a must be one of 'a lot', 'a little', 'not at all'; got 'very much'"
    )


def test_question_7_takes_yes_no_or_not_relevant() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_dlqi(sheet(item_7="a lot"))
    assert caught.value.message == (
        "DLQI items.7 must be one of 'yes', 'no', 'not relevant'; got 'a lot'"
    )


# --- DLQI missing answers ---------------------------------------------------------------------


def test_one_unanswered_question_counts_zero() -> None:
    result = compute_dlqi(sheet(q1="very much", q2="a lot", q4=None))
    assert result.total == 5
    assert result.unanswered == 1


def test_unanswered_question_7_counts_zero() -> None:
    result = compute_dlqi(sheet(item_7=None, q1="a lot"))
    assert (result.total, result.unanswered) == (2, 1)


def test_7a_is_not_one_of_the_ten_questions() -> None:
    result = compute_dlqi(sheet(item_7="no", item_7a="a little", q9=None))
    assert (result.total, result.unanswered) == (1, 1)


def test_two_unanswered_questions_are_not_scored() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_dlqi(sheet(item_7=None, q10=None))
    assert caught.value.field == "items"
    assert caught.value.message == (
        "DLQI items must be answered with at most 1 unanswered item (two or more unanswered: "
        "DLQI is not scored); got 2 unanswered (items.7, items.10)"
    )


def test_dlqi_items_must_be_a_list_of_ten() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_dlqi({"items": ["not at all"] * 9})
    assert caught.value.message == (
        "DLQI items must be a list of exactly 10 answers (each an answer word, or null if "
        "unanswered); got a list of 9 answers"
    )


def test_dlqi_unknown_key_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_dlqi({**sheet(item_7="no"), "items_7a": "a lot"})
    assert caught.value.field == "items_7a"


# --- CDLQI ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "no effect"),
        (1, "no effect"),
        (2, "small effect"),
        (6, "small effect"),
        (7, "moderate effect"),
        (12, "moderate effect"),
        (13, "very large effect"),
        (18, "very large effect"),
        (19, "extremely large effect"),
        (30, "extremely large effect"),
    ],
)
def test_cdlqi_band_edges(total: int, band: str) -> None:
    result = compute_cdlqi({"items": points(total)})
    assert (result.total, result.band) == (total, band)
    assert result.band_set == "waters2010"


def test_cdlqi_requires_all_ten_answers() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_cdlqi({"items": [1, 1, 1, None, 1, 1, 1, 1, 1, 1]})
    assert caught.value.field == "items.4"
    assert caught.value.message == "CDLQI items.4 must be one of 0, 1, 2, 3; got nothing"


def test_cdlqi_answers_are_numbers_not_words() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_cdlqi({"items": ["a lot", 0, 0, 0, 0, 0, 0, 0, 0, 0]})
    assert caught.value.message == "CDLQI items.1 must be one of 0, 1, 2, 3; got 'a lot'"


# --- IDQOL ------------------------------------------------------------------------------------


def test_idqol_has_no_band_and_severity_is_not_added() -> None:
    result = compute_idqol({"items": [3] * 10, "severity": 4})
    assert result.total == 30
    assert result.band is None
    assert (result.severity, result.severity_given) == (4, 1)
    assert repr(result) == "<IDQOL 30 (severity 4)>"


def test_idqol_severity_is_optional_and_says_so_when_absent() -> None:
    result = compute_idqol({"items": [0] * 10})
    assert result.total == 0
    assert (result.severity, result.severity_given) == (0, 0)
    assert repr(result) == "<IDQOL 0 (severity not given)>"


def test_idqol_severity_is_0_to_4() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_idqol({"items": [0] * 10, "severity": 5})
    assert caught.value.message == "IDQOL severity must be one of 0, 1, 2, 3, 4; got 5"


def test_idqol_requires_all_ten_answers() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_idqol({"items": [0, 0, 0, 0, 0, 0, 0, 0, 0, None], "severity": 1})
    assert caught.value.message == "IDQOL items.10 must be one of 0, 1, 2, 3; got nothing"


# --- batch ------------------------------------------------------------------------------------

DLQI_TABLE: list[dict[str, Any]] = [
    dlqi_input(points(0)),
    dlqi_input(points(5)),
    dlqi_input(points(20)),
    dlqi_input(points(21)),
    dlqi_input(points(30)),
    sheet(item_7="no", item_7a="not at all", q1="a lot"),
    sheet(q1="very much", q2="a lot", q4=None),
    sheet(item_7=None, q10=None),
    sheet(item_7="no"),
    sheet(item_7="yes", item_7a="a lot"),
    sheet(item_7=None, item_7a="a little"),
    sheet(q2="not relevant"),
    sheet(q5="A lot"),
]


def test_dlqi_table_agrees_with_the_scalar_path_on_polars() -> None:
    assert_table_agrees(DLQI, DLQI_TABLE, "polars")


def test_dlqi_table_agrees_with_the_scalar_path_on_duckdb() -> None:
    assert_table_agrees(DLQI, DLQI_TABLE[3:10], "duckdb")


def test_dlqi_table_without_a_7a_column_treats_7a_as_absent() -> None:
    df = pl.DataFrame(
        {f"DLQI1{n:02d}": ["not at all", "not at all"] for n in range(1, 11)}
        | {"DLQI107": ["yes", "no"]}
    )
    result = score_table(DLQI, df)
    assert result.scored["total"].to_list() == [3.0]
    assert result.rejects["reason"].to_list() == [
        "DLQI items.7a must be given ('a lot', 'a little' or 'not at all') when items.7 is "
        "'no'; got nothing"
    ]


def test_dlqi_numeric_column_is_rejected_with_the_scalar_reason() -> None:
    df = pl.DataFrame({f"DLQI1{n:02d}": ["not at all"] for n in range(1, 11)} | {"DLQI101": [2]})
    result = score_table(DLQI, df)
    assert result.scored.height == 0
    assert result.rejects["reason"].to_list() == [
        "DLQI items.1 must be one of 'very much', 'a lot', 'a little', 'not at all'; got 2"
    ]


CDLQI_TABLE: list[dict[str, Any]] = [
    {"items": points(t)} for t in (0, 1, 2, 6, 7, 12, 13, 18, 19, 30)
] + [{"items": [1, 1, 1, None, 1, 1, 1, 1, 1, 1]}, {"items": [4, 0, 0, 0, 0, 0, 0, 0, 0, 0]}]


def test_cdlqi_table_agrees_with_the_scalar_path_on_polars() -> None:
    assert_table_agrees(CDLQI, CDLQI_TABLE, "polars")


def test_cdlqi_table_agrees_with_the_scalar_path_on_duckdb() -> None:
    assert_table_agrees(CDLQI, CDLQI_TABLE[8:], "duckdb")


IDQOL_TABLE: list[dict[str, Any]] = [
    {"items": points(8), "severity": 2},
    {"items": points(30), "severity": None},
    {"items": points(0), "severity": 0},
    {"items": points(5), "severity": 5},
    {"items": [0, 0, 0, 0, 0, 0, 0, 0, 0, None], "severity": 1},
]


def test_idqol_table_agrees_with_the_scalar_path_on_polars() -> None:
    assert_table_agrees(IDQOL, IDQOL_TABLE, "polars")


def test_idqol_table_agrees_with_the_scalar_path_on_duckdb() -> None:
    assert_table_agrees(IDQOL, IDQOL_TABLE[:4], "duckdb")
