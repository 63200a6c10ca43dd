"""qs_to_wide / wide_to_qs: lossless round trip for every instrument in the registry, rejects
with reasons, context from DM, QSORRES as entered."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, Instrument, Item
from atopic.instruments.domains import Continuous, Steps
from atopic.tables import QS, qs_to_wide, qstest, validate_table, wide_to_qs
from atopic.tables.wide import is_numeric

EASI = INSTRUMENTS["easi"]
DLQI = INSTRUMENTS["dlqi"]
SUBJECTS = ["S1-001", "S1-002", "S1-003"]
VISITS = {1.0: "BASELINE", 2.0: "WEEK 4", 4.5: "UNSCHEDULED 4.5", 5.0: "WEEK 16"}


def _values(item: Item) -> st.SearchStrategy[Any]:
    """Values an item's declaration allows."""
    domain = item.domain
    if isinstance(domain, Steps):
        return st.sampled_from(domain.allowed_values).map(float)
    if isinstance(domain, Continuous):
        return st.floats(domain.lo, domain.hi, allow_nan=False)
    words = getattr(domain, "allowed_words", None)
    if words:
        return st.sampled_from(list(words))
    return st.text(min_size=1, max_size=20)


def _items(instrument: Instrument) -> list[Item]:
    return [item for item in instrument.items if not item.context]


def _schema(instrument: Instrument) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "STUDYID": pl.String,
        "USUBJID": pl.String,
        "VISITNUM": pl.Float64,
        "VISIT": pl.String,
        "QSDTC": pl.String,
        "QSEVAL": pl.String,
    }
    for item in _items(instrument):
        schema[item.code] = pl.Float64 if is_numeric(item) else pl.String
    return schema


@st.composite
def wide_tables(draw: st.DrawFn, instrument: Instrument) -> pl.DataFrame:
    """A wide table of ``instrument``: unique assessments, each with at least one answer."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(SUBJECTS), st.sampled_from(sorted(VISITS))),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    items = _items(instrument)
    rows = []
    for subject, visit in keys:
        row: dict[str, Any] = {
            "STUDYID": "S1",
            "USUBJID": subject,
            "VISITNUM": visit,
            "VISIT": VISITS[visit],
            "QSDTC": draw(st.sampled_from(["2024-05-17", "2024-05", "2024-05-17T09:30", None])),
            "QSEVAL": draw(st.sampled_from(["INVESTIGATOR", "STUDY SUBJECT", None])),
        }
        for item in items:
            row[item.code] = draw(st.none() | _values(item))
        if all(row[item.code] is None for item in items):
            chosen = draw(st.sampled_from(items))
            row[chosen.code] = draw(_values(chosen))
        rows.append(row)
    return pl.DataFrame(rows, schema=_schema(instrument))


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("USUBJID", "VISITNUM")


@pytest.mark.parametrize("name", list(INSTRUMENTS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_wide_to_qs_to_wide_is_lossless_for_every_instrument(
    name: str, data: st.DataObject
) -> None:
    instrument = INSTRUMENTS[name]
    wide = data.draw(wide_tables(instrument))
    qs = wide_to_qs(wide, instrument)
    assert validate_table(qs, QS) == []
    back = qs_to_wide(qs, instrument)
    assert back.rejects.height == 0
    assert_frame_equal(_sorted(back.wide), _sorted(wide))


@pytest.mark.parametrize(
    "name", [n for n, i in INSTRUMENTS.items() if any(t.context for t in i.items)]
)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_context_items_return_from_dm(name: str, data: st.DataObject) -> None:
    instrument = INSTRUMENTS[name]
    wide = data.draw(wide_tables(instrument))
    context = [item for item in instrument.items if item.context]
    subjects = wide["USUBJID"].unique().sort().to_list()
    dm = pl.DataFrame(
        {"USUBJID": subjects}
        | {item.code: [data.draw(_values(item)) for _ in subjects] for item in context},
        schema={"USUBJID": pl.String} | {item.code: pl.Float64 for item in context},
    )
    expected = wide.join(dm, on="USUBJID", how="left")
    back = qs_to_wide(wide_to_qs(wide, instrument), instrument, dm=dm)
    assert_frame_equal(_sorted(back.wide), _sorted(expected))


def test_round_trip_on_duckdb_stays_lazy_and_lossless() -> None:
    wide = pl.DataFrame(
        {
            "STUDYID": ["S1", "S1", "S1"],
            "USUBJID": ["S1-001", "S1-001", "S1-002"],
            "VISITNUM": [1.0, 5.0, 1.0],
            "VISIT": ["BASELINE", "WEEK 16", "BASELINE"],
            "QSDTC": ["2024-05-17", "2024-09-06", None],
            "QSEVAL": ["INVESTIGATOR", "INVESTIGATOR", None],
        }
        | {
            item.code: [1.5, None, 3.0] if isinstance(item.domain, Steps) else [12.25, 0.0, None]
            for item in _items(EASI)
        }
    )
    relation = duckdb.from_arrow(wide.to_arrow())
    qs = wide_to_qs(relation, EASI)
    assert isinstance(qs, duckdb.DuckDBPyRelation)
    assert validate_table(qs, QS, order_by=["USUBJID", "QSSEQ"]) == []
    back = qs_to_wide(qs, EASI)
    assert isinstance(back.wide, duckdb.DuckDBPyRelation)
    assert len(back.rejects) == 0
    assert_frame_equal(_sorted(back.wide.pl()), _sorted(wide))


def _easi_qs() -> pl.DataFrame:
    wide = pl.DataFrame(
        {"USUBJID": ["S1-001"], "VISITNUM": [1.0], "EASI101": [1.5], "EASI102": [2.0]}
    )
    return wide_to_qs(wide, EASI, studyid="S1")


def test_wide_to_qs_writes_one_row_per_answer_with_cdisc_columns() -> None:
    qs = _easi_qs()
    assert qs.columns == [
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "QSSEQ",
        "QSTESTCD",
        "QSTEST",
        "QSCAT",
        "QSORRES",
        "QSSTRESC",
        "QSSTRESN",
        "VISITNUM",
    ]
    assert qs.select("QSSEQ", "QSTESTCD", "QSCAT", "QSSTRESN").rows() == [
        (1, "EASI101", "EASI", 1.5),
        (2, "EASI102", "EASI", 2.0),
    ]
    assert qs["DOMAIN"].to_list() == ["QS", "QS"]
    assert qs["QSTEST"].to_list() == [qstest(EASI.items[0]), qstest(EASI.items[1])]


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [
        ([1.5, 2.0, 0.0, 3.0], pl.Float64, ["1.5", "2", "0", "3"]),
        ([1, 2, 0, 3], pl.Int64, ["1", "2", "0", "3"]),
        ([12.25, 100.0, 0.1, 33.3], pl.Float64, ["12.25", "100", "0.1", "33.3"]),
    ],
)
def test_qsorres_is_the_number_as_entered(
    values: list[float], dtype: Any, expected: list[str]
) -> None:
    wide = pl.DataFrame(
        {"USUBJID": ["A", "B", "C", "D"], "EASI105": values}, schema_overrides={"EASI105": dtype}
    )
    qs = wide_to_qs(wide, EASI, studyid="S1")
    assert qs["QSORRES"].to_list() == expected
    assert qs["QSSTRESC"].to_list() == expected
    assert qs["QSSTRESN"].to_list() == [float(v) for v in values]


def test_qsorres_as_entered_on_duckdb() -> None:
    wide = pl.DataFrame({"USUBJID": ["A", "B", "C"], "EASI101": [1.5, 2.0, 0.0]})
    qs = wide_to_qs(duckdb.from_arrow(wide.to_arrow()), EASI, studyid="S1").pl()
    assert qs.sort("USUBJID")["QSORRES"].to_list() == ["1.5", "2", "0"]


def test_text_answers_travel_in_qsorres_with_no_number() -> None:
    assert DLQI is not None
    wide = pl.DataFrame({"USUBJID": ["A"], "DLQI101": ["very much"], "DLQI107A": ["not relevant"]})
    qs = wide_to_qs(wide, DLQI, studyid="S1")
    assert qs.select("QSTESTCD", "QSORRES", "QSSTRESC").rows() == [
        ("DLQI101", "very much", "very much"),
        ("DLQI107A", "not relevant", "not relevant"),
    ]
    assert qs["QSSTRESN"].null_count() == 2
    back = qs_to_wide(qs, DLQI).wide
    assert back.select("DLQI101", "DLQI107A", "DLQI102").row(0) == (
        "very much",
        "not relevant",
        None,
    )


def test_nan_cell_is_not_answered() -> None:
    wide = pl.DataFrame({"USUBJID": ["A", "B"], "EASI101": [float("nan"), 1.0]})
    assert wide_to_qs(wide, EASI, studyid="S1")["USUBJID"].to_list() == ["B"]


def test_context_and_score_columns_are_not_written_to_qs() -> None:
    wide = pl.DataFrame({"USUBJID": ["A"], "EASI101": [1.0], "AGE": [30.0], "total": [7.2]})
    assert wide_to_qs(wide, EASI, studyid="S1")["QSTESTCD"].to_list() == ["EASI101"]


def test_wide_to_qs_needs_a_study_identifier_once() -> None:
    wide = pl.DataFrame({"USUBJID": ["A"], "EASI101": [1.0]})
    with pytest.raises(InvalidInput, match="studyid must be a study identifier"):
        wide_to_qs(wide, EASI)
    with pytest.raises(InvalidInput, match="omitted when the table has a STUDYID column"):
        wide_to_qs(wide.with_columns(STUDYID=pl.lit("S1")), EASI, studyid="S1")


def test_wide_to_qs_refuses_text_in_a_numeric_item() -> None:
    wide = pl.DataFrame({"USUBJID": ["A"], "EASI101": ["1.5"]})
    with pytest.raises(InvalidInput, match="EASI wide table EASI101 must be a numeric column"):
        wide_to_qs(wide, EASI, studyid="S1")


def test_wide_to_qs_refuses_a_table_without_any_item() -> None:
    with pytest.raises(InvalidInput, match="at least one item code column"):
        wide_to_qs(pl.DataFrame({"USUBJID": ["A"], "X": [1]}), EASI, studyid="S1")


def test_qs_to_wide_keeps_rows_of_other_instruments_out_of_both_outputs() -> None:
    qs = _easi_qs()
    other = qs.head(1).with_columns(QSCAT=pl.lit("POEM"), QSTESTCD=pl.lit("POEM101"))
    result = qs_to_wide(pl.concat([qs, other]), EASI)
    assert result.wide.height == 1
    assert result.rejects.height == 0


def test_unknown_item_code_goes_to_rejects_with_reason() -> None:
    qs = _easi_qs()
    stray = qs.head(1).with_columns(QSTESTCD=pl.lit("EASI199"))
    result = qs_to_wide(pl.concat([qs, stray]), EASI)
    assert result.rejects["QSTESTCD"].to_list() == ["EASI199"]
    assert result.rejects["reason"].to_list() == [
        "EASI QSTESTCD must be one of the 24 item codes of EASI (EASI101 ... EASI124); "
        "got 'EASI199'"
    ]
    assert result.wide.select("EASI101", "EASI102").row(0) == (1.5, 2.0)


def test_duplicate_item_in_one_assessment_rejects_every_copy() -> None:
    qs = _easi_qs()
    twice = pl.concat([qs, qs.head(1).with_columns(QSSTRESN=pl.lit(2.0))])
    result = qs_to_wide(twice, EASI)
    assert result.rejects["QSSTRESN"].sort().to_list() == [1.5, 2.0]
    assert set(result.rejects["reason"]) == {
        "EASI EASI101 must be given once per assessment (same STUDYID, USUBJID, VISITNUM); "
        "got 2 rows for one assessment"
    }
    assert result.wide.select("EASI101", "EASI102").row(0) == (None, 2.0)


def test_same_item_at_two_visits_is_not_a_duplicate() -> None:
    qs = _easi_qs()
    later = qs.with_columns(VISITNUM=pl.lit(2.0))
    result = qs_to_wide(pl.concat([qs, later]), EASI)
    assert result.rejects.height == 0
    assert result.wide["VISITNUM"].to_list() == [1.0, 2.0]


def test_numeric_item_without_qsstresn_is_rejected_not_dropped() -> None:
    qs = _easi_qs().with_columns(
        QSSTRESN=pl.when(pl.col("QSTESTCD") == "EASI102").then(None).otherwise("QSSTRESN")
    )
    result = qs_to_wide(qs, EASI)
    assert result.rejects["reason"].to_list() == [
        "EASI EASI102 must be a number in QSSTRESN; got nothing"
    ]


def test_age_row_in_qs_is_rejected_because_age_comes_from_dm() -> None:
    qs = _easi_qs()
    age = qs.head(1).with_columns(QSTESTCD=pl.lit("AGE"), QSSTRESN=pl.lit(30.0))
    result = qs_to_wide(pl.concat([qs, age]), EASI)
    assert result.rejects["reason"].to_list() == [
        "EASI AGE must be taken from DM column AGE, not from QS; got a QS row"
    ]


def test_dm_supplies_age_by_subject_and_missing_subjects_get_null() -> None:
    qs = pl.concat([_easi_qs(), _easi_qs().with_columns(USUBJID=pl.lit("S1-009"))])
    dm = pl.DataFrame({"USUBJID": ["S1-001", "S1-002"], "AGE": [6.0, 40.0]})
    wide = qs_to_wide(qs, EASI, dm=dm).wide
    assert wide.select("USUBJID", "AGE").rows() == [("S1-001", 6.0), ("S1-009", None)]


def test_dm_with_a_subject_twice_is_refused() -> None:
    dm = pl.DataFrame({"USUBJID": ["S1-001", "S1-001"], "AGE": [6.0, 7.0]})
    with pytest.raises(InvalidInput, match="DM USUBJID must be unique"):
        qs_to_wide(_easi_qs(), EASI, dm=dm)


def test_qs_without_qsstresn_cannot_give_numeric_items() -> None:
    with pytest.raises(InvalidInput, match="QS QSSTRESN must be a column"):
        qs_to_wide(_easi_qs().drop("QSSTRESN"), EASI)


def test_wide_table_has_every_item_column_even_when_unanswered() -> None:
    wide = qs_to_wide(_easi_qs(), EASI).wide
    codes = [item.code for item in EASI.items if not item.context]
    assert wide.columns == ["STUDYID", "USUBJID", "VISITNUM", *codes]
    assert wide["EASI124"].dtype == pl.Float64


def test_lazy_polars_input_gives_lazy_wide_and_eager_rejects() -> None:
    result = qs_to_wide(_easi_qs().lazy(), EASI)
    assert isinstance(result.wide, pl.LazyFrame)
    assert isinstance(result.rejects, pl.DataFrame)


def test_wide_table_scores_with_the_batch_path() -> None:
    from atopic.instruments import score_table

    # Every sign and area score 0, except head/neck erythema 2 with 20 % of the region involved.
    values: dict[str, list[float | None]] = {
        item.code: [None if item.field.endswith("area_percent") else 0.0]
        for item in EASI.items
        if not item.context
    }
    values |= {"EASI101": [2.0], "EASI105": [20.0], "EASI106": [None]}
    keys = {"STUDYID": ["S1"], "USUBJID": ["S1-001"], "VISITNUM": [1.0]}
    wide = pl.DataFrame(keys | values, schema_overrides=dict.fromkeys(values, pl.Float64))
    dm = pl.DataFrame({"USUBJID": ["S1-001"], "AGE": [30.0]})
    back = qs_to_wide(wide_to_qs(wide, EASI), EASI, dm=dm).wide
    scored = score_table(EASI, back).scored
    assert scored["total"].to_list() == [0.4]  # 0.1 (head/neck) x area score 2 x signs 2


def test_qstest_keeps_a_short_label_and_drops_parentheses_from_a_long_one() -> None:
    by_code = {item.code: item for item in EASI.items}
    assert qstest(by_code["EASI101"]) == "Head and neck: Erythema"
    assert by_code["EASI113"].label == "Trunk (incl. genitals, axillae, groin): Erythema"
    assert qstest(by_code["EASI113"]) == "Trunk: Erythema"
