"""derive_batches: deriving subjects in batches gives, stacked, exactly what derive_all gives on
the whole, rejects included (rows of unknown subjects, rows with no subject, bad dates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from atopic.errors import InvalidInput
from atopic.simulate.synth import synthesize
from atopic.trial.derive import derive_all
from atopic.trial.derive.batches import derive_batches, subject_bounds
from atopic.trial.design import load_design

DESIGN = load_design(Path(__file__).resolve().parents[3] / "examples" / "trial" / "design.toml")


@pytest.fixture(scope="module")
def messy() -> dict[str, pl.DataFrame]:
    tables = synthesize(DESIGN, 23, seed=11)
    qs = tables["QS"]
    first = qs.head(3)
    strays = pl.concat(
        [
            first.with_columns(pl.lit("AAA-000").alias("USUBJID")),  # sorts before every subject
            first.with_columns(pl.lit("ZZZ-999").alias("USUBJID")),  # and after
            first.with_columns(pl.lit(None, dtype=pl.String).alias("USUBJID")),
        ]
    )
    partial = pl.col("QSDTC").str.slice(0, 7)
    middle = tables["DM"]["USUBJID"][11]
    qs = qs.with_columns(
        pl.when((pl.col("USUBJID") == middle) & (pl.col("VISITNUM") == 2.0))
        .then(partial)
        .otherwise(pl.col("QSDTC"))
        .alias("QSDTC")
    )
    tables["QS"] = pl.concat([qs, strays])
    return tables


@pytest.fixture(scope="module")
def whole(messy: dict[str, pl.DataFrame]) -> dict[str, Any]:
    return derive_all(messy, DESIGN)


@pytest.mark.parametrize("size", [4, 30])
def test_batches_stacked_equal_the_whole(
    messy: dict[str, pl.DataFrame], whole: dict[str, Any], size: int
) -> None:
    batches = list(derive_batches({k: v.lazy() for k, v in messy.items()}, DESIGN, size))
    assert len(batches) == -(-23 // size)
    for name in ("ADSL", "BDS", "ADAE"):
        assert_frame_equal(pl.concat([b[name] for b in batches]), whole[name])
    # The rejects come in batch order; as a set they are the whole's, row for row.
    stacked = pl.concat([b["REJECTS"] for b in batches])
    key = list(stacked.columns)
    assert_frame_equal(
        stacked.sort(key, nulls_last=True), whole["REJECTS"].sort(key, nulls_last=True)
    )


def test_the_messy_rows_are_rejected_not_lost(whole: dict[str, Any]) -> None:
    reasons = whole["REJECTS"]
    # Three items of one EASI assessment: one assessment, one reject, for each stray subject.
    for subject in (pl.col("USUBJID") == "AAA-000", pl.col("USUBJID") == "ZZZ-999"):
        assert reasons.filter(subject).height == 1
    assert reasons.filter(pl.col("USUBJID").is_null()).height == 1
    assert reasons.filter(pl.col("reason").str.contains("complete date")).height >= 1


def test_bounds_cut_sorted_subjects() -> None:
    dm = pl.DataFrame({"USUBJID": ["C", "A", "B", "E", "D", "A"]})
    assert subject_bounds(dm, 2) == ["B", "D"]
    assert subject_bounds(dm, 5) == []
    with pytest.raises(InvalidInput, match="batches subjects must be a whole number"):
        subject_bounds(dm, 0)


def test_duckdb_batches_equal_the_whole_and_leave_no_checkpoints(
    messy: dict[str, pl.DataFrame], whole: dict[str, Any]
) -> None:
    import duckdb

    con = duckdb.connect()
    relations = {name: con.from_arrow(frame.to_arrow()) for name, frame in messy.items()}
    parts: dict[str, list[pl.DataFrame]] = {"ADSL": [], "BDS": [], "ADAE": []}
    for batch in derive_batches(relations, DESIGN, 8):
        for name, frames in parts.items():
            frames.append(pl.from_arrow(batch[name].to_arrow_table()))
        made = con.sql("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()
        assert made[0][0] > 0  # the batch's checkpoints, until the next batch
    left = con.sql("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()
    assert left == [(0,)]
    for name, frames in parts.items():
        assert_frame_equal(pl.concat(frames), whole[name])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
def test_spark_batches_equal_the_whole_and_free_their_checkpoints(
    messy: dict[str, pl.DataFrame], whole: dict[str, Any]
) -> None:
    from atopic.tables.engines import open_engine

    with open_engine("spark", spark_master="local[2]") as engine:
        frames = {name: engine.from_polars(frame) for name, frame in messy.items()}
        context = engine.session.sparkContext
        parts: dict[str, list[pl.DataFrame]] = {"ADSL": [], "BDS": [], "ADAE": []}
        held = []
        for batch in derive_batches(frames, DESIGN, 12):
            for name, tables in parts.items():
                tables.append(engine.to_polars(batch[name]))
            held.append(context._jsc.getPersistentRDDs().size())
        left = context._jsc.getPersistentRDDs().size()
    assert len(held) == 2
    assert min(held) > 0  # each batch's local checkpoints, until the next batch is asked for
    assert left == 0
    for name, tables in parts.items():
        assert_frame_equal(pl.concat(tables), whole[name])
