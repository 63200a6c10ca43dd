"""The Labels domain: answers given as words, each worth a whole number of units.

Words and units used here are the DLQI's (../shared/reference/instruments.md, DLQI).
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import narwhals as nw
import polars as pl
import pytest

from atopic.instruments.domains import Labels, labels

ANSWERS = labels({"very much": 3, "a lot": 2, "a little": 1, "not at all": 0, "not relevant": 0})
VALUES: list[object] = [
    "very much",
    "a lot",
    "a little",
    "not at all",
    "not relevant",
    None,
    "A lot",
    "a lot ",
    "",
    "maybe",
]


def test_allowed_words_keep_the_order_of_the_form() -> None:
    assert ANSWERS.allowed_words == ("very much", "a lot", "a little", "not at all", "not relevant")


def test_describe_quotes_each_word_as_the_error_message_shows_values() -> None:
    assert ANSWERS.describe() == (
        "one of 'very much', 'a lot', 'a little', 'not at all', 'not relevant'"
    )


@pytest.mark.parametrize(
    ("word", "units"),
    [("very much", 3), ("a lot", 2), ("a little", 1), ("not at all", 0), ("not relevant", 0)],
)
def test_units_of_each_allowed_word(word: str, units: int) -> None:
    assert ANSWERS.units(word) == units


@pytest.mark.parametrize(
    "value", ["A lot", "a lot ", " a lot", "alot", "", None, 2, 2.0, Decimal(2), True, ["a lot"]]
)
def test_units_refuse_anything_but_an_exact_allowed_word(value: object) -> None:
    assert ANSWERS.units(value) is None


def test_labels_helper_builds_the_same_domain_as_the_class() -> None:
    assert labels({"yes": 3, "no": -1}) == Labels(words=(("yes", 3), ("no", -1)))
    assert labels({"yes": 3, "no": -1}).mapping == {"yes": 3, "no": -1}


@pytest.mark.parametrize(
    "words",
    [(), (("a", 1), ("a", 2)), (("a", True),), (("a", 1.0),), ((1, 1),)],
)
def test_declaration_errors_are_caught_when_the_domain_is_built(words: tuple) -> None:
    with pytest.raises(ValueError, match="Labels"):
        Labels(words=words)


def _column_results(native: object, dtype_of: str = "a") -> list[tuple[object, object]]:
    nf = nw.from_native(native).lazy()
    dtype = nf.collect_schema()[dtype_of]
    col = nw.col(dtype_of)
    out = (
        nf.with_columns(
            ok=ANSWERS.valid_expr(col, dtype).fill_null(False),
            units=ANSWERS.units_expr(col, dtype),
        )
        .sort("i")
        .collect()
    )
    return list(zip(out["ok"].to_list(), out["units"].to_list(), strict=True))


def _expected() -> list[tuple[object, object]]:
    rows = []
    for value in VALUES:
        units = ANSWERS.units(value)
        rows.append((units is not None, units))
    return rows


def _compare(got: list[tuple[object, object]]) -> None:
    for (ok, units), (want_ok, want_units) in zip(got, _expected(), strict=True):
        assert ok == want_ok
        if want_ok:
            assert units == want_units


def _frame(dtype: pl.DataType) -> pl.DataFrame:
    return pl.DataFrame({"i": range(len(VALUES)), "a": VALUES}, schema={"i": pl.Int64, "a": dtype})


def test_column_check_agrees_with_the_scalar_check_on_polars() -> None:
    _compare(_column_results(_frame(pl.String())))


def test_column_check_agrees_with_the_scalar_check_on_duckdb() -> None:
    df = _frame(pl.String())  # noqa: F841 (read by name by duckdb's replacement scan)
    _compare(_column_results(duckdb.sql("select * from df")))


@pytest.mark.parametrize(
    "dtype", [pl.Categorical(), pl.Enum(sorted({v for v in VALUES if isinstance(v, str)}))]
)
def test_categorical_and_enum_columns_are_read_as_their_text(dtype: pl.DataType) -> None:
    _compare(_column_results(_frame(dtype)))


def test_a_numeric_column_is_never_valid_and_its_units_are_zero() -> None:
    df = pl.DataFrame({"i": [0, 1, 2], "a": [0, 2, 3]})
    assert _column_results(df) == [(False, 0), (False, 0), (False, 0)]
