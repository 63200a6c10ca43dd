"""validate_table / check_table / extra_columns: every problem kind names table, column and row,
on Polars (eager and lazy) and DuckDB."""

from __future__ import annotations

from typing import Any

import duckdb
import narwhals as nw
import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.tables import DM, QS, Problem, check_table, extra_columns, validate_table
from atopic.tables.validate import iso8601_expr


def _qs(**changes: list[Any]) -> pl.DataFrame:
    """Three valid QS rows; keyword arguments replace whole columns."""
    columns: dict[str, list[Any]] = {
        "STUDYID": ["S1", "S1", "S1"],
        "DOMAIN": ["QS", "QS", "QS"],
        "USUBJID": ["S1-001", "S1-001", "S1-002"],
        "QSTESTCD": ["EASI101", "EASI102", "EASI101"],
        "QSTEST": [
            "Head and neck: Erythema",
            "Head and neck: Induration",
            "Head and neck: Erythema",
        ],
        "QSCAT": ["EASI", "EASI", "EASI"],
        "QSORRES": ["1.5", "2", "0"],
        "QSSTRESN": [1.5, 2.0, 0.0],
        "VISITNUM": [1.0, 1.0, 1.0],
        "QSDTC": ["2024-05-17", "2024-05-17", "2024-05"],
    }
    columns.update(changes)
    return pl.DataFrame(columns)


def _dm(**changes: list[Any]) -> pl.DataFrame:
    columns: dict[str, list[Any]] = {
        "STUDYID": ["S1", "S1"],
        "USUBJID": ["S1-001", "S1-002"],
        "SITEID": ["01", "02"],
        "AGE": [34.0, 6.5],
        "SEX": ["F", "M"],
        "ARMCD": ["CELL", "PBO"],
        "ARM": ["Cell therapy", "Placebo"],
        "ACTARMCD": ["CELL", "PBO"],
        "RFSTDTC": ["2024-05-17T09:30", None],
    }
    columns.update(changes)
    return pl.DataFrame(columns)


def _where(problem: Problem) -> tuple[str, str, int | None]:
    return problem.table, problem.column, problem.row


def test_valid_tables_have_no_problems() -> None:
    assert validate_table(_qs(), QS) == []
    assert validate_table(_dm(), DM) == []


def test_missing_required_column_is_a_column_problem() -> None:
    [problem] = validate_table(_qs().drop("QSTESTCD"), QS)
    assert _where(problem) == ("QS", "QSTESTCD", None)
    assert problem.message == (
        "QS QSTESTCD must be a column of the table (required: Question Short Name); "
        "got no such column"
    )


def test_missing_optional_column_is_not_a_problem() -> None:
    assert validate_table(_qs().drop("QSDTC", "DOMAIN"), QS) == []


def test_dm_needs_birth_date_or_age() -> None:
    [problem] = validate_table(_dm().drop("AGE"), DM)
    assert _where(problem) == ("DM", "BRTHDTC or AGE", None)
    assert validate_table(_dm(BRTHDTC=["1990-01-02", "2018"]).drop("AGE"), DM) == []


def test_wrong_dtype_is_a_column_problem_and_skips_its_value_checks() -> None:
    [problem] = validate_table(_qs(VISITNUM=["1", "1", "x"]), QS)
    assert _where(problem) == ("QS", "VISITNUM", None)
    assert problem.message == "QS VISITNUM must be numeric (Float64); got String"


def test_integer_column_accepts_a_float_column_of_another_width_only_if_numeric() -> None:
    assert validate_table(_qs(VISITNUM=[1, 1, 2]), QS) == []


def test_null_in_required_column_names_the_row() -> None:
    [problem] = validate_table(_qs(USUBJID=["S1-001", None, "S1-002"]), QS)
    assert _where(problem) == ("QS", "USUBJID", 2)
    assert problem.value is None
    assert problem.message == "QS row 2 USUBJID must be given (a required column); got nothing"


def test_blank_text_counts_as_missing_like_in_sas() -> None:
    [problem] = validate_table(_qs(QSCAT=["EASI", "EASI", "  "]), QS)
    assert _where(problem) == ("QS", "QSCAT", 3)


def test_nan_counts_as_missing_in_a_required_number() -> None:
    [problem] = validate_table(_qs(VISITNUM=[1.0, float("nan"), 1.0]), QS)
    assert _where(problem) == ("QS", "VISITNUM", 2)


def test_value_outside_controlled_terminology_names_row_and_allowed_terms() -> None:
    [problem] = validate_table(_dm(SEX=["F", "Male"]), DM)
    assert _where(problem) == ("DM", "SEX", 2)
    assert problem.value == "Male"
    assert problem.message == "DM row 2 SEX must be one of M, F, U, UNDIFFERENTIATED; got 'Male'"


def test_null_in_optional_terminology_column_is_allowed() -> None:
    assert validate_table(_qs(DOMAIN=["QS", None, ""]), QS) == []


def test_domain_must_be_the_table_name() -> None:
    [problem] = validate_table(_qs(DOMAIN=["QS", "QS", "DM"]), QS)
    assert problem.message == "QS row 3 DOMAIN must be QS or empty; got 'DM'"


def test_too_long_text_uses_the_project_template() -> None:
    [problem] = validate_table(_qs(QSTESTCD=["EASI101", "EASI102", "EASI1001X"]), QS)
    assert _where(problem) == ("QS", "QSTESTCD", 3)
    assert problem.message == "QS row 3 QSTESTCD must be at most 8 characters; got 'EASI1001X'"


def test_qstest_longer_than_40_characters_is_reported() -> None:
    long = "Trunk (incl. genitals, axillae, groin): Erythema"
    [problem] = validate_table(_qs(QSTEST=["a", long, "b"]), QS)
    assert _where(problem) == ("QS", "QSTEST", 2)


def test_malformed_iso8601_date_names_the_row() -> None:
    [problem] = validate_table(_qs(QSDTC=["2024-05-17", "17/05/2024", None]), QS)
    assert _where(problem) == ("QS", "QSDTC", 2)
    assert problem.message.startswith("QS row 2 QSDTC must be an ISO 8601 date")
    assert problem.message.endswith("; got '17/05/2024'")


VALID_DTC = [
    "2024",
    "2024-05",
    "2024-05-17",
    "2024-02-29",
    "2000-02-29",
    "2024-05-17T09",
    "2024-05-17T09:30",
    "2024-05-17T09:30:15",
    "2024-05-17T09:30:15.250",
    "2024-05-17T09:30Z",
    "2024-05-17T09:30+01:00",
]
INVALID_DTC = [
    "17/05/2024",
    "2024-5-17",
    "2024-13",
    "2024-00-10",
    "2024-04-31",
    "2023-02-29",
    "1900-02-29",
    "2024-05-17 09:30",
    "2024-05-17T24:00",
    "2024-05-17T09:60",
    "24-05-17",
    "2024-05-17T",
    "2024---17",
    "x2024",
]


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_iso8601_accepts_partial_dates_and_refuses_impossible_ones(engine: str) -> None:
    frame = pl.DataFrame({"d": VALID_DTC + INVALID_DTC})
    native: Any = frame if engine == "polars" else duckdb.from_arrow(frame.to_arrow())
    result = nw.from_native(native).lazy().with_columns(ok=iso8601_expr(nw.col("d"))).collect()
    ok = dict(zip(result["d"].to_list(), result["ok"].to_list(), strict=True))
    assert [d for d in VALID_DTC if not ok[d]] == []
    assert [d for d in INVALID_DTC if ok[d]] == []


def test_duplicate_keys_name_the_repeating_row_and_the_first() -> None:
    qs = _qs(QSTESTCD=["EASI101", "EASI102", "EASI101"], USUBJID=["S1-001"] * 3)
    qs = qs.with_columns(pl.lit("2024-05-17").alias("QSDTC"))
    [problem] = validate_table(qs, QS)
    assert _where(problem) == ("QS", "STUDYID, USUBJID, QSCAT, QSTESTCD, VISITNUM, QSDTC", 3)
    assert problem.message.endswith("must be unique together; got the same as row 1")
    assert problem.value == {
        "STUDYID": "S1",
        "USUBJID": "S1-001",
        "QSCAT": "EASI",
        "QSTESTCD": "EASI101",
        "VISITNUM": 1.0,
        "QSDTC": "2024-05-17",
    }


def test_a_second_rater_is_not_a_duplicate() -> None:
    qs = _qs(USUBJID=["S1-001"] * 3, QSTESTCD=["EASI101"] * 3, QSDTC=["2024-05-17"] * 3)
    qs = qs.with_columns(pl.Series("QSEVAL", ["INVESTIGATOR", "INDEPENDENT ASSESSOR", None]))
    assert validate_table(qs, QS) == []


def test_problems_come_column_level_first_then_by_row() -> None:
    qs = _qs(QSTESTCD=["EASI101", "TOO_LONG_X", None]).drop("QSCAT")
    problems = validate_table(qs, QS)
    assert [_where(p) for p in problems] == [
        ("QS", "QSCAT", None),
        ("QS", "QSTESTCD", 2),
        ("QS", "QSTESTCD", 3),
    ]


def test_one_fault_per_cell_is_reported() -> None:
    [problem] = validate_table(_dm(SEX=["F", ""]), DM)
    assert problem.message == "DM row 2 SEX must be given (a required column); got ''"


def test_polars_lazy_frame_gives_the_same_problems_as_eager() -> None:
    qs = _qs(QSTESTCD=["EASI101", "EASI1001X", None])
    assert validate_table(qs.lazy(), QS) == validate_table(qs, QS)


def test_duckdb_relation_counts_rows_in_the_order_given() -> None:
    qs = _qs(QSTESTCD=["EASI101", "EASI1001X", None]).with_row_index("LINE")
    relation = duckdb.from_arrow(qs.to_arrow())
    problems = validate_table(relation, QS, order_by="LINE")
    assert [_where(p) for p in problems] == [("QS", "QSTESTCD", 2), ("QS", "QSTESTCD", 3)]


def test_duckdb_relation_without_order_counts_rows_in_key_order() -> None:
    qs = _qs(USUBJID=["S1-003", "S1-001", "S1-002"], QSCAT=["EASI", "EASI", None])
    problems = validate_table(duckdb.from_arrow(qs.to_arrow()), QS)
    # Key order puts the null QSCAT (S1-002) after S1-001 and before S1-003: row 2.
    assert [_where(p) for p in problems] == [("QS", "QSCAT", 2)]


def test_check_table_raises_invalid_input_for_the_first_problem() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_table(_dm(SEX=["X", "Male"]), DM)
    assert raised.value.subject == "DM row 1"
    assert raised.value.field == "SEX"
    assert str(raised.value) == "DM row 1 SEX must be one of M, F, U, UNDIFFERENTIATED; got 'X'"


def test_check_table_returns_a_valid_frame_unchanged() -> None:
    dm = _dm()
    assert check_table(dm, DM) is dm


def test_extra_columns_are_allowed_but_listed() -> None:
    dm = _dm().with_columns(pl.lit("WHITE").alias("RACE"), pl.lit(1).alias("SUPPX"))
    assert validate_table(dm, DM) == []
    assert extra_columns(dm, DM) == ["RACE", "SUPPX"]


def test_categorical_text_is_checked_as_text() -> None:
    dm = _dm(SEX=["F", "Male"]).with_columns(pl.col("SEX").cast(pl.Categorical))
    [problem] = validate_table(dm, DM)
    assert (_where(problem), problem.value) == (("DM", "SEX", 2), "Male")


def test_large_clean_table_yields_nothing_and_one_bad_row_is_found_by_number() -> None:
    n = 200_000
    qs = pl.DataFrame(
        {
            "STUDYID": ["S1"] * n,
            "USUBJID": [f"S1-{i:06d}" for i in range(n)],
            "QSTESTCD": ["EASI101"] * n,
            "QSTEST": ["Head and neck: Erythema"] * n,
            "QSCAT": ["EASI"] * (n - 1) + [None],
            "QSORRES": ["1"] * n,
            "VISITNUM": [1.0] * n,
        }
    )
    assert validate_table(qs.head(n - 1), QS) == []
    assert [_where(p) for p in validate_table(qs, QS)] == [("QS", "QSCAT", n)]
