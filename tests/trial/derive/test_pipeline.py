"""derive_all end to end on the demo trial (atopic.demo, exported unblinded by the pharmacist):
sensible counts, valid against the analysis declarations, the same on every engine, and every
unusable row in the rejects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from atopic.demo import SUBJECTS, VISITS, build_demo
from atopic.errors import InvalidInput
from atopic.registry.audit import Actor
from atopic.registry.db import make_engine, session_factory
from atopic.registry.export import export_tables
from atopic.tables import ADAE, ADSL, BDS, validate_table
from atopic.trial.derive import REJECT_COLUMNS, derive_adae, derive_adsl, derive_all, derive_bds
from atopic.trial.design import Design

PARAMS = {"EASI", "SCORAD", "OSCORAD", "IGA", "POEM", "PPNRS", "SLNRS", "IGE", "EOS"}


def _export(path: Path, role: str) -> dict[str, pl.DataFrame]:
    engine = make_engine(str(path))
    with session_factory(engine)() as session:
        tables = export_tables(session, Actor(role, role))
    engine.dispose()
    return tables


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("derive") / "demo.db"
    build_demo(str(path))
    return path


@pytest.fixture(scope="module")
def collected(demo_db: Path) -> dict[str, pl.DataFrame]:
    return _export(demo_db, "pharmacist")


@pytest.fixture(scope="module")
def derived(collected: dict[str, pl.DataFrame], design: Design) -> dict[str, Any]:
    return derive_all(collected, design)


def _valid(out: dict[str, Any]) -> None:
    for name, table in (("ADSL", ADSL), ("BDS", BDS), ("ADAE", ADAE)):
        assert validate_table(out[name], table) == [], name


def test_demo_tables_validate_against_the_declarations(derived: dict[str, Any]) -> None:
    _valid(derived)
    assert derived["REJECTS"].columns == list(REJECT_COLUMNS)
    assert derived["REJECTS"].height == 0  # the demo is complete and clean


def test_demo_adsl_counts(derived: dict[str, Any], collected: dict[str, pl.DataFrame]) -> None:
    adsl = derived["ADSL"]
    assert adsl.height == SUBJECTS
    for flag in ("ITTFL", "SAFFL", "PPROTFL"):
        assert set(adsl[flag]) == {"Y"}, flag
    assert (adsl["TRT01PN"] == adsl["TRT01AN"]).all()
    arms = dict(zip(collected["DM"]["USUBJID"], collected["DM"]["ARMCD"], strict=True))
    number = {"PBO": 1, "LOW": 2, "HIGH": 3}
    assert all(number[arms[s]] == n for s, n in zip(adsl["USUBJID"], adsl["TRT01PN"], strict=True))
    assert set(adsl["STRAT1R"]) == {"3", "4"}
    assert adsl.select((pl.col("STRAT1R").cast(pl.Float64) == pl.col("BLIGA")).all()).item()
    assert adsl["BLEASI"].min() > 7
    assert set(adsl["AGEGR1"]) <= {"adolescence_adulthood", "old_age"}  # adults 18-65


def test_demo_bds_has_every_parameter_visit_and_subject(derived: dict[str, Any]) -> None:
    bds = derived["BDS"]
    assert set(bds["PARAMCD"]) == PARAMS
    primary = bds.filter(pl.col("ANL01FL") == "Y")
    assert primary.height == SUBJECTS * len(PARAMS) * len(VISITS)
    assert primary["DTYPE"].null_count() == primary.height  # nothing missing in the demo
    assert set(primary["AVISIT"]) == {name for _, name, _ in VISITS}
    baseline = bds.filter(pl.col("ABLFL") == "Y")
    assert baseline.height == SUBJECTS * len(PARAMS)
    assert set(baseline["ADY"]) == {1}
    assert set(bds.filter(pl.col("AVISIT") == "WEEK 12")["ADY"]) == {85}
    easi = bds.filter(pl.col("PARAMCD") == "EASI")
    assert set(easi["CRIT2"]) == {"EASI-75: PCHG <= -75"}
    check = easi.filter(pl.col("ABLFL").is_null()).select(
        (pl.col("CHG") - (pl.col("AVAL") - pl.col("BASE"))).abs().max()
    )
    assert check.item() < 1e-9
    for flag in ("ANL01FL", "ANL02FL", "ANL03FL"):
        assert bds.filter(pl.col(flag) == "Y").height == primary.height, flag


def test_demo_adae_flags(derived: dict[str, Any], collected: dict[str, pl.DataFrame]) -> None:
    adae = derived["ADAE"]
    assert adae.height == collected["AE"].height
    assert set(adae["TRTEMFL"]) == {"Y"}  # every demo AE starts 1-60 days after the dose
    assert adae.filter(pl.col("AOCCFL") == "Y").height == adae["USUBJID"].n_unique()
    assert adae["TRTA"].null_count() == 0


def test_eager_and_lazy_polars_give_the_same_tables(
    collected: dict[str, pl.DataFrame], derived: dict[str, Any], design: Design
) -> None:
    lazy = derive_all({k: v.lazy() for k, v in collected.items()}, design)
    for name in ("ADSL", "BDS", "ADAE"):
        assert isinstance(lazy[name], pl.LazyFrame)
        assert_frame_equal(lazy[name].collect(), derived[name])


def test_the_three_entry_points_agree_with_derive_all(
    collected: dict[str, pl.DataFrame], derived: dict[str, Any], design: Design
) -> None:
    adsl = derive_adsl(collected, design)
    assert_frame_equal(adsl, derived["ADSL"])
    assert_frame_equal(derive_bds(collected, design, adsl), derived["BDS"])
    assert_frame_equal(derive_adae(collected, design, adsl), derived["ADAE"])


@pytest.mark.slow
def test_duckdb_gives_the_same_tables(
    collected: dict[str, pl.DataFrame], derived: dict[str, Any], design: Design
) -> None:
    import duckdb  # a dev dependency: always installed by `make test`

    con = duckdb.connect()
    out = derive_all({k: con.from_arrow(v.to_arrow()) for k, v in collected.items()}, design)
    keys = {
        "ADSL": ["USUBJID"],
        "BDS": ["USUBJID", "PARAMN", "AVISITN", "DTYPE", "ADY"],
        "ADAE": ["USUBJID", "AESEQ"],
    }
    for name, key in keys.items():
        got = nw.from_native(out[name]).collect().to_polars()
        assert_frame_equal(
            got.sort(key, nulls_last=True),
            derived[name].sort(key, nulls_last=True),
            check_dtypes=False,
        )


def test_a_blinded_export_cannot_be_derived(demo_db: Path, design: Design) -> None:
    blinded = _export(demo_db, "statistician")
    with pytest.raises(InvalidInput, match="DM ARMCD must be a column of the table"):
        derive_all(blinded, design)


# --- a messier trial: missing visits, rescue, discontinuation, bad rows -----------------------


@pytest.fixture(scope="module")
def messy(collected: dict[str, pl.DataFrame], design: Design) -> dict[str, Any]:
    dm = collected["DM"]
    s1, s2, s3, s4, s5 = dm["USUBJID"][:5]
    qs = collected["QS"]
    qs = qs.filter(~((pl.col("USUBJID") == s1) & (pl.col("VISITNUM") == 4.0)))  # s1 misses week 8
    qs = qs.filter(~((pl.col("USUBJID") == s4) & (pl.col("VISITNUM") == 1.0)))  # s4: no baseline
    qs = qs.with_columns(  # s5's week-2 PP-NRS has a partial date
        pl.when(
            (pl.col("USUBJID") == s5) & (pl.col("QSCAT") == "PP-NRS") & (pl.col("VISITNUM") == 2.0)
        )
        .then(pl.col("QSDTC").str.slice(0, 7))
        .otherwise(pl.col("QSDTC"))
        .alias("QSDTC")
    )
    lb = collected["LB"]
    twice = lb.filter(
        (pl.col("USUBJID") == s5) & (pl.col("LBTESTCD") == "IGE") & (pl.col("VISITNUM") == 3.0)
    )
    lb = pl.concat([lb, twice.with_columns(pl.col("LBSTRESN") * 2)])
    first = dict(zip(dm["USUBJID"], dm["RFSTDTC"].str.slice(0, 10).str.to_date(), strict=True))
    cm = pl.DataFrame(
        {
            "STUDYID": [dm["STUDYID"][0]],
            "USUBJID": [s2],
            "CMTRT": ["Mometasone furoate 0.1% cream"],
            "CMCAT": ["RESCUE"],
            "CMSTDTC": [str(first[s2] + dt.timedelta(days=40))],
            "CMENDTC": [None],
        }
    )
    ds = pl.DataFrame(
        {
            "STUDYID": [dm["STUDYID"][0]] * 2,
            "USUBJID": [s3, s1],
            "DSDECOD": ["WITHDRAWAL BY SUBJECT", "COMPLETED"],
            "DSSTDTC": [str(first[s3] + dt.timedelta(days=70)), "2026-06-01"],
        }
    )
    tables = {**collected, "QS": qs, "LB": lb, "CM": cm, "DS": ds}
    return {"ids": (s1, s2, s3, s4, s5), **derive_all(tables, design)}


def test_messy_trial_still_validates_with_one_primary_record_per_visit(
    messy: dict[str, Any],
) -> None:
    _valid(messy)
    bds = messy["BDS"]
    for flag in ("ANL01FL", "ANL02FL", "ANL03FL"):
        counts = bds.filter(pl.col(flag) == "Y").group_by("USUBJID", "PARAMCD", "AVISITN").len()
        assert counts.height == SUBJECTS * len(PARAMS) * len(VISITS), flag
        assert set(counts["len"]) == {1}, flag


def test_missing_visit_becomes_phantom_nri_and_locf(messy: dict[str, Any]) -> None:
    s1 = messy["ids"][0]
    week8 = messy["BDS"].filter(
        (pl.col("USUBJID") == s1) & (pl.col("PARAMCD") == "EASI") & (pl.col("AVISIT") == "WEEK 8")
    )
    rows = {r["DTYPE"]: r for r in week8.iter_rows(named=True)}
    assert set(rows) == {"PHANTOM", "NRI", "LOCF"}
    assert rows["NRI"]["ANL01FL"] == "Y"
    assert rows["NRI"]["CRIT2FL"] == "N"
    assert rows["LOCF"]["ANL02FL"] == "Y"
    assert rows["LOCF"]["AWTARGET"] == 57
    week4 = messy["BDS"].filter(
        (pl.col("USUBJID") == s1)
        & (pl.col("PARAMCD") == "EASI")
        & (pl.col("AVISIT") == "WEEK 4")
        & (pl.col("ANL01FL") == "Y")
    )
    assert rows["LOCF"]["AVAL"] == week4["AVAL"].item()
    assert rows["PHANTOM"]["ANL03FL"] == "Y"
    # Labs were not dropped for s1: they have no criteria, so the phantom is the primary row.
    assert messy["BDS"].filter(
        (pl.col("USUBJID") == s1) & (pl.col("PARAMCD") == "IGE") & (pl.col("AVISIT") == "WEEK 8")
    )["DTYPE"].to_list() == [None]


def test_rescue_and_discontinuation_make_later_visits_non_responders(messy: dict[str, Any]) -> None:
    _, s2, s3, _, _ = messy["ids"]
    bds = messy["BDS"]
    after = bds.filter(
        (pl.col("USUBJID") == s2) & (pl.col("PARAMCD") == "EASI") & (pl.col("ICEFL") == "Y")
    )
    # Rescue on day 41: weeks 8 (day 57) and 12 (day 85) are after it, in observed and phantom rows.
    assert set(after["AVISIT"]) == {"WEEK 8", "WEEK 12"}
    assert set(after["ICE"]) == {"RESCUE"}
    primary = bds.filter(
        (pl.col("USUBJID") == s2) & (pl.col("PARAMCD") == "EASI") & (pl.col("ANL01FL") == "Y")
    )
    assert dict(zip(primary["AVISIT"], primary["DTYPE"], strict=True)) == {
        "WEEK 0": None,
        "WEEK 2": None,
        "WEEK 4": None,
        "WEEK 8": "NRI",
        "WEEK 12": "NRI",
    }
    policy = bds.filter(
        (pl.col("USUBJID") == s2) & (pl.col("PARAMCD") == "EASI") & (pl.col("ANL03FL") == "Y")
    )
    assert policy["DTYPE"].null_count() == 5  # treatment policy keeps the observed values
    stopped = bds.filter((pl.col("USUBJID") == s3) & (pl.col("ICEFL") == "Y"))
    assert set(stopped["AVISIT"]) == {"WEEK 12"}  # discontinued on day 71
    assert set(stopped["ICE"]) == {"DISCONTINUATION"}
    sugar = bds.filter(
        (pl.col("USUBJID") == s3)
        & (pl.col("PARAMCD") == "IGE")
        & (pl.col("AVISIT") == "WEEK 12")
        & (pl.col("ANL01FL") == "Y")
    )
    assert sugar["DTYPE"].to_list() == ["PHANTOM"]  # a continuous value after the event: missing


def test_subject_without_baseline_has_no_change_and_is_not_per_protocol(
    messy: dict[str, Any],
) -> None:
    s4 = messy["ids"][3]
    easi = messy["BDS"].filter((pl.col("USUBJID") == s4) & (pl.col("PARAMCD") == "EASI"))
    assert easi["BASE"].null_count() == easi.height
    primary = easi.filter((pl.col("ANL01FL") == "Y") & (pl.col("AVISIT") != "WEEK 0"))
    assert set(primary["DTYPE"]) == {"NRI"}
    adsl = messy["ADSL"].filter(pl.col("USUBJID") == s4)
    assert adsl.select("PPROTFL", "BLEASI", "BLIGA", "STRAT1R").row(0) == ("N", None, None, None)


def test_unusable_rows_are_listed_with_their_reason(messy: dict[str, Any]) -> None:
    s1, _, _, s4, s5 = messy["ids"]
    rejects = messy["REJECTS"]
    reasons = {(r["USUBJID"], r["PARAMCD"], r["reason"]) for r in rejects.iter_rows(named=True)}
    assert (
        s5,
        "PPNRS",
        f"BDS ADT must be a complete date; got {rejects.filter(pl.col('PARAMCD') == 'PPNRS')['DTC'][0]}",
    ) in reasons
    doubled = rejects.filter(pl.col("PARAMCD") == "IGE")
    assert doubled.height == 2
    assert set(doubled["USUBJID"]) == {s5}
    assert doubled["reason"][0].startswith("BDS IGE must have one value per date; got 2 on ")
    strata = rejects.filter(pl.col("SOURCE") == "ADSL")
    assert strata.rows() == [
        (
            "ADSL",
            s4,
            None,
            None,
            "ADSL STRAT1R (stratum IGA, from baseline IGA) must be one of 3, 4; got nothing",
        )
    ]
    assert rejects.height == 1 + 2 + 1  # and nothing else
    assert s1 not in set(rejects["USUBJID"])
