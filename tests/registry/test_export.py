"""Export to collected tables on SQLite and PostgreSQL: shapes, values, blinding, files, CLI."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from atopic.cli_export import export
from atopic.errors import InvalidInput
from atopic.instruments import get_instrument
from atopic.registry import admin as registry_admin
from atopic.registry import randomization as rnd
from atopic.registry import services as svc
from atopic.registry import users
from atopic.registry.audit import Actor, AuditedSession
from atopic.registry.db import session_factory, transaction
from atopic.registry.export import (
    ARM_COLUMNS,
    BLINDED_EXTRT,
    export_tables,
    is_blinded,
    write_tables,
)
from atopic.registry.models import Assessment, AssessmentItem, Study, Subject, Visit
from atopic.registry.roles import Forbidden
from atopic.tables import TABLES, qstest, validate_table

ADMIN = Actor("ada", "admin")
INV = Actor("ivan", "investigator")
COORD = Actor("cora", "coordinator")
PHARM = Actor("phil", "pharmacist")
MONITOR = Actor("mona", "monitor")
STAT = Actor("stan", "statistician")

STUDYID = "ATO-EXP"
ARMS = ("ARM_PBO_X", "ARM_LOW_X", "ARM_HIGH_X")
"""Distinctive arm codes, so a leak test can search any text for them."""
DOSING = {
    "ARM_PBO_X": ("PLACEBO_X", 0.0, "LOT_PBO_X"),
    "ARM_LOW_X": ("MSC_X", 2.5e7, "LOT_MSC_X"),
    "ARM_HIGH_X": ("MSC_X", 1.25e8, "LOT_MSC_X"),
}
"""What the pharmacist records for each arm: product, cells, lot."""
TREATMENT_DETAILS = ("PLACEBO_X", "LOT_PBO_X", "25000000.0", "125000000.0")
"""Values that reveal a subject's arm although they are not arm codes."""
PASSWORDS = {"ada": "admin-password-1", "stan": "statistician-pw-1", "phil": "pharmacist-pw-1"}

REGION = {
    "erythema": 2,
    "induration": 1.5,
    "excoriation": 1,
    "lichenification": 1,
    "area_percent": 20,
}
EASI_FORM = {"head_neck": REGION, "upper_limbs": REGION, "trunk": REGION, "lower_limbs": REGION}
DLQI_FORM = {
    "items": [
        "a little",
        "not at all",
        "not relevant",
        "a lot",
        "not at all",
        "not relevant",
        "no",
        "not at all",
        "not relevant",
        "a little",
    ],
    "item_7a": "a little",
}


@dataclass(frozen=True)
class Trial:
    """A small randomized trial in a fresh registry."""

    factory: sessionmaker[AuditedSession]
    arms: dict[str, str]
    """USUBJID -> arm, for the randomized subjects."""


def usubjid(n: int) -> str:
    return f"{STUDYID}-{n:04d}"


def build_trial(engine: Engine) -> Trial:
    """Five subjects: 0001-0003 randomized (one per arm: the first block holds each arm once)
    and dosed; 0004 randomized, never dosed; 0005 enrolled, not randomized. EASI, POEM and DLQI
    items, labs (one without a visit), adverse events."""
    factory = session_factory(engine)
    with factory() as session, session.begin():
        users.create_first_admin(session, "ada", PASSWORDS["ada"])
        users.add_user(session, ADMIN, "stan", PASSWORDS["stan"], "statistician")
        users.add_user(session, ADMIN, "phil", PASSWORDS["phil"], "pharmacist")
        users.add_user(session, ADMIN, "ivan", "investigator-pw-1", "investigator")
    with transaction(factory, ADMIN) as session:
        svc.add_site(session, ADMIN, "S01", "Site one")
        study = svc.create_study(session, ADMIN, STUDYID, "MSC dose-ranging")
        design = rnd.RandomizationDesign(
            arms=tuple((arm, 1) for arm in ARMS), block_sizes=(3,), list_length=6
        )
        rnd.setup_randomization(session, ADMIN, study.id, design, seed=20260105)
    with transaction(factory, INV) as session:
        for n in range(1, 6):
            svc.enrol_subject(
                session,
                INV,
                studyid=STUDYID,
                site_code="S01",
                usubjid=usubjid(n),
                sex="F" if n % 2 else "M",
                enrolled_on=f"2026-01-0{n + 4}",
                birth_date="1990-03-01" if n != 2 else None,
                age=None if n != 2 else 41,
            )
            svc.schedule_visit(
                session, INV, usubjid(n), 1, "BASELINE", actual_date=f"2026-01-0{n + 4}"
            )
            svc.schedule_visit(session, INV, usubjid(n), 2, "WEEK 2", planned_date="2026-01-20")
        for n in range(1, 5):
            subject = session.scalars(select(Subject).where(Subject.usubjid == usubjid(n))).one()
            rnd.randomize(session, INV, subject.id, {})
        svc.record_assessment(
            session,
            INV,
            usubjid=usubjid(1),
            visitnum=1,
            instrument="easi",
            data=EASI_FORM,
            assessed_on="2026-01-05",
        )
        svc.record_assessment(
            session,
            INV,
            usubjid=usubjid(1),
            visitnum=1,
            instrument="poem",
            data={"items": [4, 3, 1, 0, 2, 3, 4]},
            assessed_on="2026-01-05",
            evaluator="STUDY SUBJECT",
        )
        svc.record_assessment(
            session,
            INV,
            usubjid=usubjid(2),
            visitnum=1,
            instrument="dlqi",
            data=DLQI_FORM,
            assessed_on="2026-01-06",
            evaluator="STUDY SUBJECT",
        )
        svc.record_lab(
            session,
            INV,
            usubjid=usubjid(1),
            testcd="IGE",
            value=1200,
            unit="IU/mL",
            collected_on="2026-01-05",
            visitnum=1,
        )
        svc.record_lab(
            session,
            INV,
            usubjid=usubjid(1),
            testcd="EOS",
            value=0.62,
            unit="10^9/L",
            collected_on="2026-01-05",
        )
        svc.record_adverse_event(
            session,
            INV,
            usubjid=usubjid(1),
            term="Injection site redness",
            decod="Injection site erythema",
            bodsys="General disorders and administration site conditions",
            start_date="2026-01-06",
            end_date="2026-01-09",
            related="POSSIBLY RELATED",
            severity="MILD",
        )
        svc.record_adverse_event(
            session,
            INV,
            usubjid=usubjid(3),
            term="Cellulitis of the leg",
            decod="Cellulitis",
            bodsys="Infections and infestations",
            start_date="2026-01-20",
            related="NOT RELATED",
            toxgr=3,
            serious=True,
        )
    arms: dict[str, str] = {}
    with transaction(factory, PHARM) as session:
        for row in rnd.allocation_table(session, PHARM):
            arms[row.usubjid] = row.arm
        for n in range(1, 4):
            product, cells, lot = DOSING[arms[usubjid(n)]]
            for day, visitnum in ((n + 4, 1), (n + 18, None)):
                svc.record_dose(
                    session,
                    PHARM,
                    usubjid=usubjid(n),
                    product=product,
                    lot=lot,
                    dose=cells,
                    unit="cells",
                    route="SC",
                    given_at=f"2026-01-{day:02d}T10:30:00",
                    visitnum=visitnum,
                )
    return Trial(factory, arms)


@pytest.fixture
def trial(engine: Engine) -> Trial:
    return build_trial(engine)


def _export(trial: Trial, actor: Actor, studyid: str | None = None) -> dict[str, pl.DataFrame]:
    with trial.factory() as session:
        return export_tables(session, actor, studyid)


def _row(frame: pl.DataFrame, **where: object) -> dict[str, object]:
    rows = frame.filter(**where).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


# --- shapes -------------------------------------------------------------------------------------


def test_unblinded_export_validates_against_every_declaration(trial: Trial) -> None:
    tables = _export(trial, PHARM)
    assert list(tables) == ["DM", "EX", "QS", "LB", "AE"]
    for name, frame in tables.items():
        assert validate_table(frame, TABLES[name]) == [], name
        declared = [c.name for c in TABLES[name].columns if c.name != "BRTHDTC"]
        assert [c for c in frame.columns if c != "SUBJID"] == declared
    assert {name: tables[name].height for name in tables} == {
        "DM": 5,
        "EX": 6,
        "QS": 20 + 7 + 11,
        "LB": 2,
        "AE": 2,
    }


def test_blinded_export_validates_without_the_arm_columns(trial: Trial) -> None:
    """DM's arm columns are not required, so a blinded DM, which leaves them out, validates."""
    tables = _export(trial, STAT)
    assert not set(ARM_COLUMNS) & set(tables["DM"].columns)
    for name in ("DM", "EX", "QS", "LB", "AE"):
        assert validate_table(tables[name], TABLES[name]) == [], name


def test_empty_registry_exports_empty_tables_of_the_declared_types(engine: Engine) -> None:
    with session_factory(engine)() as session:
        tables = export_tables(session, PHARM)
    for name, frame in tables.items():
        assert frame.height == 0
        assert validate_table(frame, TABLES[name]) == [], name


# --- values -------------------------------------------------------------------------------------


def test_qs_rows_are_the_stored_items_as_entered(trial: Trial) -> None:
    qs = _export(trial, STAT)["QS"]
    with trial.factory() as session:
        stored = session.execute(
            select(AssessmentItem, Assessment, Visit, Subject)
            .join(Assessment, Assessment.id == AssessmentItem.assessment_id)
            .join(Visit, Visit.id == Assessment.visit_id)
            .join(Subject, Subject.id == Visit.subject_id)
        ).all()
    expected = sorted(
        (
            subject.usubjid,
            get_instrument(a.instrument).qscat,
            item.qstestcd,
            item.value_text,
            item.value_text,
            item.value_num,
            a.evaluator,
            visit.visitnum,
            visit.name,
            a.assessed_on.isoformat(),
        )
        for item, a, visit, subject in stored
    )
    columns = ["USUBJID", "QSCAT", "QSTESTCD", "QSORRES", "QSSTRESC", "QSSTRESN", "QSEVAL"]
    got = sorted(qs.select(*columns, "VISITNUM", "VISIT", "QSDTC").iter_rows())
    assert got == expected
    assert len(stored) == qs.height == 38
    easi = get_instrument("easi")
    trunk = _row(qs, QSTESTCD=easi.item("trunk.induration").code)
    assert (trunk["QSORRES"], trunk["QSSTRESN"], trunk["QSCAT"]) == ("1.5", 1.5, "EASI")
    assert trunk["QSTEST"] == qstest(easi.item("trunk.induration"))
    dlqi = _row(qs, QSTESTCD="DLQI103")
    assert (dlqi["QSORRES"], dlqi["QSSTRESN"]) == ("not relevant", None)
    assert "AGE" not in qs["QSTESTCD"].to_list()  # context items come from DM


def test_qs_has_no_total_rows_and_numbers_each_subject_in_order(trial: Trial) -> None:
    qs = _export(trial, STAT)["QS"]
    items = {
        name: {i.code for i in get_instrument(name).items if not i.context}
        for name in ("easi", "poem", "dlqi")
    }
    for (qscat,), rows in qs.group_by("QSCAT"):
        assert set(rows["QSTESTCD"]) <= items[str(qscat).lower()], qscat
    assert "DLQI111" not in qs["QSTESTCD"].to_list()  # the DLQI total's official code
    for _, rows in qs.group_by("USUBJID"):
        assert rows["QSSEQ"].to_list() == list(range(1, rows.height + 1))
    poem = qs.filter(USUBJID=usubjid(1), QSCAT="POEM")
    assert poem["QSEVAL"].unique().to_list() == ["STUDY SUBJECT"]
    assert poem["QSORRES"].to_list() == ["4", "3", "1", "0", "2", "3", "4"]


def test_exdose_is_in_millions_of_cells_for_the_unblinded(trial: Trial) -> None:
    ex = _export(trial, PHARM)["EX"]
    low = next(u for u, arm in trial.arms.items() if arm == "ARM_LOW_X")
    first = _row(ex, USUBJID=low, EXSEQ=1)
    assert first["EXDOSE"] == 25
    assert first["EXDOSU"] == "10^6 Therapeutic Cells"
    assert (first["EXTRT"], first["EXLOT"], first["EXROUTE"]) == (
        "MSC_X",
        "LOT_MSC_X",
        "SUBCUTANEOUS",
    )
    high = next(u for u, arm in trial.arms.items() if arm == "ARM_HIGH_X")
    assert ex.filter(USUBJID=high)["EXDOSE"].to_list() == [125.0, 125.0]
    placebo = next(u for u, arm in trial.arms.items() if arm == "ARM_PBO_X")
    assert ex.filter(USUBJID=placebo)["EXDOSE"].to_list() == [0.0, 0.0]


def test_cells_per_kg_and_intravenous_doses(trial: Trial) -> None:
    with transaction(trial.factory, PHARM) as session:
        svc.record_dose(
            session,
            PHARM,
            usubjid=usubjid(4),
            product="MSC_X",
            lot="L9",
            dose=2e6,
            unit="cells/kg",
            route="IV",
            given_at="2026-02-01 09:00",
        )
    tables = _export(trial, PHARM)
    dose = _row(tables["EX"], USUBJID=usubjid(4))
    assert (dose["EXDOSE"], dose["EXDOSU"], dose["EXROUTE"]) == (
        2.0,
        "10^6 Therapeutic Cells/kg",
        "INTRAVENOUS",
    )
    assert dose["EXSTDTC"] == "2026-02-01T09:00:00"
    dm = _row(tables["DM"], USUBJID=usubjid(4))
    assert (dm["RFSTDTC"], dm["ACTARMCD"]) == ("2026-02-01T09:00:00", dm["ARMCD"])


def test_dm_arms_age_and_reference_start(trial: Trial) -> None:
    dm = _export(trial, PHARM)["DM"]
    for n in (1, 2, 3):
        row = _row(dm, USUBJID=usubjid(n))
        arm = trial.arms[usubjid(n)]
        assert (row["ARMCD"], row["ARM"], row["ACTARMCD"]) == (arm, arm, arm)
        assert row["RFSTDTC"] == f"2026-01-0{n + 4}T10:30:00"  # the first of two doses
    assert sorted(trial.arms[usubjid(n)] for n in (1, 2, 3)) == sorted(ARMS)
    untreated = _row(dm, USUBJID=usubjid(4))
    assert (untreated["ACTARMCD"], untreated["RFSTDTC"]) == ("NOTTRT", None)
    unassigned = _row(dm, USUBJID=usubjid(5))
    assert (unassigned["ARMCD"], unassigned["ARM"], unassigned["ACTARMCD"]) == (
        "NOTASSGN",
        "Not Assigned",
        "NOTASSGN",
    )
    first = _row(dm, USUBJID=usubjid(1))
    assert (first["SUBJID"], first["SITEID"], first["SEX"], first["AGE"]) == (
        "0001",
        "S01",
        "F",
        35.0,
    )
    assert _row(dm, USUBJID=usubjid(2))["AGE"] == 41.0  # recorded age, no birth date
    assert "BRTHDTC" not in dm.columns


def test_lab_without_visit_takes_the_visit_done_that_day(trial: Trial) -> None:
    lb = _export(trial, STAT)["LB"]
    eos = _row(lb, LBTESTCD="EOS")
    assert (eos["VISITNUM"], eos["LBSTRESN"], eos["LBSTRESU"], eos["LBDTC"]) == (
        1.0,
        0.62,
        "10^9/L",
        "2026-01-05",
    )
    assert _row(lb, LBTESTCD="IGE")["LBSTRESU"] == "IU/mL"


def test_adverse_events(trial: Trial) -> None:
    ae = _export(trial, MONITOR)["AE"]
    serious = _row(ae, USUBJID=usubjid(3))
    assert (serious["AESER"], serious["AETOXGR"], serious["AESEV"], serious["AEREL"]) == (
        "Y",
        "3",
        None,
        "NOT RELATED",
    )
    assert (serious["AESTDTC"], serious["AEENDTC"]) == ("2026-01-20", None)
    mild = _row(ae, USUBJID=usubjid(1))
    assert (mild["AESER"], mild["AESEV"], mild["AEENDTC"]) == ("N", "MILD", "2026-01-09")


# --- blinding and roles -------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [STAT, MONITOR, ADMIN])
def test_blinded_export_carries_no_arm_and_no_dose(trial: Trial, actor: Actor) -> None:
    tables = _export(trial, actor)
    assert is_blinded(tables)
    assert not set(ARM_COLUMNS) & set(tables["DM"].columns)
    ex = tables["EX"]
    assert ex.height == 6
    assert ex["EXTRT"].unique().to_list() == [BLINDED_EXTRT]
    for column in ("EXDOSE", "EXDOSU", "EXLOT"):
        assert ex[column].null_count() == ex.height, column
    assert ex["EXROUTE"].unique().to_list() == ["SUBCUTANEOUS"]
    assert not is_blinded(_export(trial, PHARM))


def test_statistician_sees_the_allocation_after_lock_and_monitor_does_not(trial: Trial) -> None:
    with trial.factory() as session, session.begin():
        registry_admin.lock_database(session, ADMIN, "final analysis")
    unblinded = _export(trial, STAT)
    assert not is_blinded(unblinded)
    assert _row(unblinded["DM"], USUBJID=usubjid(1))["ARMCD"] == trial.arms[usubjid(1)]
    assert is_blinded(_export(trial, MONITOR))


@pytest.mark.parametrize("actor", [INV, COORD])
def test_roles_that_may_not_export_are_refused(trial: Trial, actor: Actor) -> None:
    with pytest.raises(Forbidden, match=f"an? {actor.role} may not export"):
        _export(trial, actor)


def test_one_study_or_an_unknown_study(trial: Trial) -> None:
    with transaction(trial.factory, ADMIN) as session:
        svc.create_study(session, ADMIN, "OTHER", "Another study")
    with transaction(trial.factory, INV) as session:
        svc.enrol_subject(
            session,
            INV,
            studyid="OTHER",
            site_code="S01",
            usubjid="OTHER-0001",
            sex="U",
            enrolled_on="2026-03-01",
            age=30,
        )
    assert _export(trial, STAT)["DM"]["STUDYID"].unique().sort().to_list() == ["ATO-EXP", "OTHER"]
    only = _export(trial, STAT, "OTHER")
    assert only["DM"]["USUBJID"].to_list() == ["OTHER-0001"]
    assert all(only[name].height == 0 for name in ("EX", "QS", "LB", "AE"))
    with pytest.raises(InvalidInput, match="export studyid must be the STUDYID of an existing"):
        _export(trial, STAT, "NOPE")
    with trial.factory() as session:
        assert session.scalars(select(Study.studyid).order_by(Study.id)).all() == [
            "ATO-EXP",
            "OTHER",
        ]


# --- files and the command ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_write_tables_one_file_per_table(trial: Trial, tmp_path, fmt: str) -> None:
    tables = _export(trial, PHARM)
    paths = write_tables(tables, tmp_path / "out", fmt)
    assert [p.name for p in paths] == [f"{n}.{fmt}" for n in ("dm", "ex", "qs", "lb", "ae")]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)
    for path, (name, frame) in zip(paths, tables.items(), strict=True):
        read = pl.read_parquet if fmt == "parquet" else pl.read_csv
        back = read(path) if fmt == "parquet" else read(path, schema=frame.schema)
        assert back.equals(frame), name
    with pytest.raises(InvalidInput, match="export format must be one of parquet, csv; got 'xpt'"):
        write_tables(tables, tmp_path, "xpt")


def test_cli_exports_as_the_logged_in_user(trial: Trial, db_url: str, tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "stat"
    args = ["tables", "--db", db_url, "--out", str(out), "--format", "csv", "--as", "stan"]
    result = runner.invoke(export, args, env={"ATOPIC_PASSWORD": PASSWORDS["stan"]})
    assert result.exit_code == 0, result.output
    assert "blinded export (statistician)" in result.stderr
    assert result.stdout.splitlines()[0].startswith("DM\t5 rows\t")
    dm = pl.read_csv(out / "dm.csv")
    assert not set(ARM_COLUMNS) & set(dm.columns)

    pharm = tmp_path / "pharm"
    args = ["tables", "--db", db_url, "--out", str(pharm), "--as", "phil"]
    result = runner.invoke(export, args, input=PASSWORDS["phil"] + "\n")
    assert result.exit_code == 0, result.output
    assert "blinded" not in result.stderr
    assert set(ARM_COLUMNS) <= set(pl.read_parquet(pharm / "dm.parquet").columns)


def test_cli_refuses_a_wrong_password_and_a_role_that_may_not_export(
    trial: Trial, db_url: str, tmp_path
) -> None:
    runner = CliRunner()
    base = ["tables", "--db", db_url, "--out", str(tmp_path / "x")]
    result = runner.invoke(export, [*base, "--as", "stan"], env={"ATOPIC_PASSWORD": "wrong-pw"})
    assert result.exit_code == 1
    assert "authentication failed" in result.stderr
    assert "wrong-pw" not in result.output
    result = runner.invoke(
        export, [*base, "--as", "ivan"], env={"ATOPIC_PASSWORD": "investigator-pw-1"}
    )
    assert result.exit_code == 1
    assert "may not export" in result.stderr
    assert not (tmp_path / "x").exists()


def test_cli_refuses_a_missing_sqlite_file(tmp_path) -> None:
    missing = tmp_path / "nothing.db"
    result = CliRunner().invoke(
        export,
        ["tables", "--db", str(missing), "--out", str(tmp_path / "x"), "--as", "stan"],
        env={"ATOPIC_PASSWORD": "whatever-pw"},
    )
    assert result.exit_code == 1
    assert "no atopic registry at" in result.stderr
    assert not missing.exists()


def test_cli_takes_an_api_token_instead_of_a_password(trial: Trial, db_url: str, tmp_path) -> None:
    with trial.factory() as session, session.begin():
        token = users.create_token(session, STAT, "stan", "nightly export")
    out = tmp_path / "token"
    result = CliRunner().invoke(
        export,
        ["tables", "--db", db_url, "--out", str(out), "--format", "csv"],
        env={"ATOPIC_TOKEN": token},
    )
    assert result.exit_code == 0, result.output
    assert "blinded export (statistician)" in result.stderr
    assert pl.read_csv(out / "ex.csv")["EXTRT"].unique().to_list() == [BLINDED_EXTRT]


def test_dates_are_iso_8601() -> None:
    from atopic.registry.export import dtc

    assert dtc(dt.date(2026, 1, 5)) == "2026-01-05"
    assert dtc("2026-01-05T10:30:00") == "2026-01-05T10:30:00"
    assert dtc("2026-01-05 10:30") == "2026-01-05T10:30:00"
    assert dtc(None) is None
