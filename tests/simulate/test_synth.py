"""atopic.simulate.synth: valid, reproducible synthetic collected tables that the project's own
pipeline (derive, analyze, report) reads without a reject."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from atopic.cli import main
from atopic.errors import InvalidInput
from atopic.instruments import INSTRUMENTS, score_table
from atopic.simulate import Dropout, Effects, Rescue, iter_synth, synthesize, write_synth
from atopic.tables.collected import COLLECTED
from atopic.tables.files import read_tables
from atopic.tables.validate import validate_table
from atopic.tables.wide import qs_to_wide
from atopic.trial import analyses as ids
from atopic.trial import ard
from atopic.trial.analyze.run import Options
from atopic.trial.design import Design, load_design
from atopic.trial.workflow import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trial"
DOSE_RANGING = EXAMPLES / "dose_ranging.toml"
DEMO = EXAMPLES / "design.toml"


@pytest.fixture(scope="module")
def design() -> Design:
    return load_design(DOSE_RANGING)


@pytest.fixture(scope="module")
def tables(design: Design) -> dict[str, pl.DataFrame]:
    return synthesize(design, 300, seed=20260105, latent=True)


def _study_day(date: pl.Expr, first: pl.Expr) -> pl.Expr:
    days = (
        date.str.slice(0, 10).str.to_date() - first.str.slice(0, 10).str.to_date()
    ).dt.total_days()
    return pl.when(days >= 0).then(days + 1).otherwise(days)


# --- validity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(COLLECTED))
def test_every_table_passes_its_declaration(tables: dict[str, pl.DataFrame], name: str) -> None:
    assert tables[name].height > 0
    assert validate_table(tables[name], COLLECTED[name]) == []


def test_the_demo_design_gives_valid_tables_too() -> None:
    demo = synthesize(load_design(DEMO), 60, seed=3)
    for name, frame in demo.items():
        assert validate_table(frame, COLLECTED[name]) == [], name


@pytest.mark.parametrize(
    "key", ["easi", "scorad", "oscorad", "viga-ad", "poem", "pp-nrs", "sleep-nrs"]
)
def test_every_assessment_scores_without_a_reject(
    tables: dict[str, pl.DataFrame], key: str
) -> None:
    instrument = INSTRUMENTS[key]
    qs = tables["QS"].filter(pl.col("QSCAT") == instrument.qscat)
    if key == "oscorad":
        codes = [i.code for i in instrument.items if not i.context]
        qs = qs.filter(pl.col("QSTESTCD").is_in(codes))
    wide = qs_to_wide(qs, instrument, tables["DM"].select("USUBJID", "AGE"))
    scored = score_table(instrument, wide.wide)
    assert wide.rejects.height == 0
    assert scored.rejects.height == 0
    assert scored.scored.height == tables["LATENT"].height


def _scored(tables: dict[str, pl.DataFrame], key: str) -> pl.DataFrame:
    instrument = INSTRUMENTS[key]
    qs = tables["QS"].filter(pl.col("QSCAT") == instrument.qscat)
    wide = qs_to_wide(qs, instrument, tables["DM"].select("USUBJID", "AGE"))
    scored = score_table(instrument, wide.wide).scored
    return scored.join(tables["LATENT"], on=["USUBJID", "VISITNUM"])


@pytest.mark.parametrize(
    ("key", "latent", "minimum"),
    [
        ("easi", "SEVERITY", 0.9),
        ("scorad", "SEVERITY", 0.9),
        ("viga-ad", "SEVERITY", 0.85),
        ("poem", "SEVERITY", 0.7),
        ("pp-nrs", "ITCH", 0.85),
    ],
)
def test_scored_totals_follow_the_latent_severity(
    tables: dict[str, pl.DataFrame], key: str, latent: str, minimum: float
) -> None:
    """Spearman correlation of the scored total with the latent value behind it."""
    frame = _scored(tables, key)
    rho = frame.select(pl.corr("total", latent, method="spearman")).item()
    assert rho > minimum


def test_baseline_is_moderate_to_severe_and_iga_is_the_stratum(
    tables: dict[str, pl.DataFrame],
) -> None:
    easi = _scored(tables, "easi").filter(pl.col("VISITNUM") == 1)
    iga = _scored(tables, "viga-ad").filter(pl.col("VISITNUM") == 1)
    assert set(iga["total"].unique().to_list()) == {3.0, 4.0}
    assert easi["total"].median() >= 16
    by_grade = easi.join(iga.select("USUBJID", pl.col("total").alias("IGA")), on="USUBJID")
    means = dict(by_grade.group_by("IGA").agg(pl.col("total").mean()).iter_rows())
    assert means[4.0] > means[3.0]


def test_visits_fall_inside_their_analysis_windows(
    design: Design, tables: dict[str, pl.DataFrame]
) -> None:
    qs = tables["QS"].join(tables["DM"].select("USUBJID", "RFSTDTC"), on="USUBJID")
    days = qs.select("VISIT", _study_day(pl.col("QSDTC"), pl.col("RFSTDTC")).alias("ADY"))
    for visit in design.visits:
        ady = days.filter(pl.col("VISIT") == visit.avisit)["ADY"]
        assert ady.len() > 0
        assert ady.min() >= visit.low, visit.avisit
        assert ady.max() <= visit.high, visit.avisit


def test_ex_carries_the_dose_of_the_arm(design: Design, tables: dict[str, pl.DataFrame]) -> None:
    ex = tables["EX"].join(tables["DM"].select("USUBJID", "ARMCD", "RFSTDTC"), on="USUBJID")
    for arm in design.arms:
        mine = ex.filter(pl.col("ARMCD") == arm.code)
        assert mine.height > 0
        assert set(mine["EXDOSE"].to_list()) == {arm.dose}
        assert set(mine["EXDOSU"].to_list()) == {arm.dose_unit}
        assert set(mine["EXROUTE"].to_list()) == {arm.route}
        assert set(mine["EXTRT"].to_list()) == {arm.product}
    assert (ex["EXSTDTC"].str.slice(0, 10) == ex["RFSTDTC"]).all()


def test_randomization_keeps_arms_balanced_within_each_stratum(
    design: Design,
) -> None:
    dm = synthesize(design, 997, seed=5)["DM"]
    iga = synthesize(design, 997, seed=5)["QS"].filter(
        (pl.col("QSCAT") == "VIGA-AD") & (pl.col("VISITNUM") == 1)
    )
    cells = dm.join(iga.select("USUBJID", "QSSTRESN"), on="USUBJID")
    biggest = max(design.randomization.block_sizes) // len(design.arms)
    for _, part in cells.group_by("QSSTRESN"):
        counts = part.group_by("ARMCD").len()["len"]
        assert counts.len() == len(design.arms)
        assert counts.max() - counts.min() <= biggest


def test_ages_sexes_and_sites_are_plausible(tables: dict[str, pl.DataFrame]) -> None:
    dm = tables["DM"]
    assert dm["AGE"].min() >= 18
    assert dm["AGE"].max() <= 75
    assert set(dm["SEX"].unique().to_list()) == {"F", "M"}
    assert dm["SITEID"].n_unique() > 1
    assert dm["USUBJID"].n_unique() == dm.height


# --- intercurrent events ------------------------------------------------------------------------


def test_nobody_is_seen_after_discontinuation(tables: dict[str, pl.DataFrame]) -> None:
    stopped = tables["DS"].filter(pl.col("DSDECOD") != "COMPLETED")
    assert set(stopped["DSDECOD"].unique().to_list()) <= {
        "ADVERSE EVENT",
        "LACK OF EFFICACY",
        "WITHDRAWAL BY SUBJECT",
    }
    assert stopped.height > 0
    late = tables["QS"].join(stopped, on="USUBJID").filter(pl.col("QSDTC") > pl.col("DSSTDTC"))
    assert late.height == 0
    assert tables["DS"]["USUBJID"].n_unique() == tables["DM"].height


def test_rescue_is_a_rescue_record_on_a_visit_day(tables: dict[str, pl.DataFrame]) -> None:
    cm = tables["CM"]
    assert cm.height > 0
    assert set(cm["CMCAT"].to_list()) == {"RESCUE"}
    visits = tables["QS"].select("USUBJID", pl.col("QSDTC").alias("CMSTDTC")).unique()
    assert cm.join(visits, on=["USUBJID", "CMSTDTC"]).height == cm.height


def test_rescue_and_dropout_strike_the_less_improved(design: Design) -> None:
    big = synthesize(design, 3000, seed=8)
    dm = big["DM"].select("USUBJID", "ARMCD")
    rescued = dm.join(big["CM"], on="USUBJID", how="semi")["ARMCD"].value_counts()
    stopped = dm.join(big["DS"].filter(pl.col("DSDECOD") != "COMPLETED"), on="USUBJID", how="semi")[
        "ARMCD"
    ].value_counts()
    for counts in (rescued, stopped):
        per_arm = dict(counts.iter_rows())
        assert per_arm["PBO"] > per_arm["D100"]
    reasons = big["DS"].join(dm, on="USUBJID").filter(pl.col("DSDECOD") == "LACK OF EFFICACY")
    per_arm = dict(reasons["ARMCD"].value_counts().iter_rows())
    assert per_arm["PBO"] > per_arm["D100"]


def test_an_adverse_event_discontinuation_has_its_withdrawal_event(
    tables: dict[str, pl.DataFrame],
) -> None:
    stopped = tables["DS"].filter(pl.col("DSDECOD") == "ADVERSE EVENT")
    withdrawn = tables["AE"].filter(pl.col("AEACN") == "DRUG WITHDRAWN")
    assert sorted(stopped["USUBJID"].to_list()) == sorted(withdrawn["USUBJID"].to_list())
    pairs = withdrawn.join(stopped, on="USUBJID")
    assert (pairs["AESTDTC"] <= pairs["DSSTDTC"]).all()


def test_parameters_change_the_trial(design: Design) -> None:
    none = synthesize(
        design, 200, seed=4, dropout=Dropout(per_visit=0, missed_visit=0), rescue=Rescue(0)
    )
    assert set(none["DS"]["DSDECOD"].to_list()) == {"COMPLETED"}
    assert none["CM"].height == 0
    assert validate_table(none["CM"], COLLECTED["CM"]) == []
    flat = synthesize(design, 200, seed=4, effects=Effects(emax=0), latent=True)["LATENT"]
    default = synthesize(design, 200, seed=4, latent=True)["LATENT"]
    assert flat["SEVERITY"].mean() > default["SEVERITY"].mean()


# --- reproducibility and chunks -----------------------------------------------------------------


def test_the_same_seed_gives_identical_tables(design: Design) -> None:
    first = synthesize(design, 150, seed=42)
    second = synthesize(design, 150, seed=42)
    for name in first:
        assert first[name].equals(second[name]), name


def test_another_seed_gives_another_trial(design: Design) -> None:
    first = synthesize(design, 150, seed=42)
    other = synthesize(design, 150, seed=43)
    assert not first["QS"].equals(other["QS"])
    assert not first["DM"].equals(other["DM"])


def test_chunks_number_subjects_on_and_concatenate(design: Design) -> None:
    chunks = list(iter_synth(design, 250, seed=9, chunk=100))
    assert [c["DM"].height for c in chunks] == [100, 100, 50]
    whole = synthesize(design, 250, seed=9, chunk=100)
    ids = whole["DM"]["USUBJID"]
    assert ids.n_unique() == 250
    assert ids.is_sorted()
    assert ids[0].endswith("-0001")
    assert ids[-1].endswith("-0250")
    for name in whole:
        assert validate_table(whole[name], COLLECTED[name]) == [], name


def test_write_synth_writes_parts_that_read_back_equal(design: Design, tmp_path: Path) -> None:
    counts = write_synth(design, 250, tmp_path / "p", seed=9, chunk=100)
    whole = synthesize(design, 250, seed=9, chunk=100)
    assert sorted(p.name for p in (tmp_path / "p" / "qs").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    read = read_tables(tmp_path / "p", COLLECTED)
    for name, frame in whole.items():
        assert isinstance(read[name], pl.LazyFrame)
        assert read[name].collect().equals(frame), name
        assert counts[name] == frame.height


def test_write_synth_writes_one_file_per_table_when_small(design: Design, tmp_path: Path) -> None:
    write_synth(design, 80, tmp_path / "p", seed=2)
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == sorted(
        f"{n.lower()}.parquet" for n in COLLECTED
    )
    write_synth(design, 80, tmp_path / "c", seed=2, chunk=30, fmt="csv")
    read = read_tables(tmp_path / "c", COLLECTED)
    again = synthesize(design, 80, seed=2, chunk=30)
    for name, frame in again.items():
        assert isinstance(read[name], pl.DataFrame)
        assert read[name].height == frame.height, name
        assert validate_table(read[name], COLLECTED[name]) == [], name
    assert read["QS"]["QSSTRESN"].equals(again["QS"]["QSSTRESN"])


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_subjects": 0}, "n_subjects"),
        ({"n_subjects": -5}, "n_subjects"),
        ({"n_subjects": True}, "n_subjects"),
        ({"n_subjects": 10.0}, "n_subjects"),
        ({"seed": -1}, "seed"),
        ({"seed": "1"}, "seed"),
        ({"chunk": 0}, "chunk"),
        ({"ages": (80, 20)}, "ages"),
        ({"effects": "strong"}, "effects"),
    ],
)
def test_bad_arguments_are_refused_by_name(
    design: Design, kwargs: dict[str, object], field: str
) -> None:
    args: dict[str, object] = {"n_subjects": 10, "seed": 1, **kwargs}
    n = args.pop("n_subjects")
    with pytest.raises(InvalidInput) as error:
        synthesize(design, n, **args)  # type: ignore[arg-type]
    assert error.value.field == field
    assert field in error.value.message
    assert "got" in error.value.message


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Effects(emax=1.5), "emax"),
        (lambda: Effects(ed50=0), "ed50"),
        (lambda: Effects(noise_sd=float("nan")), "noise_sd"),
        (lambda: Dropout(per_visit=-0.1), "per_visit"),
        (lambda: Dropout(per_visit=0.5, not_improved_factor=3), "not_improved_factor"),
        (lambda: Rescue(effect=True), "effect"),
    ],
)
def test_bad_model_parameters_are_refused_by_name(make: object, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        make()  # type: ignore[operator]
    assert error.value.field == field


def test_strata_the_simulator_cannot_honour_are_refused() -> None:
    text = DOSE_RANGING.read_text().replace('paramcd = "IGA"\nmap', 'paramcd = "EASI"\nmap')
    with pytest.raises(InvalidInput) as error:
        synthesize(load_design(text), 10, seed=1)
    assert error.value.field == "randomization.strata[0].paramcd"
    assert error.value.value == "EASI"


def test_write_synth_refuses_an_unknown_format(design: Design, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as error:
        write_synth(design, 10, tmp_path, seed=1, fmt="xlsx")
    assert error.value.field == "format"


# --- the command --------------------------------------------------------------------------------


def test_cli_writes_the_tables_and_prints_their_row_counts(tmp_path: Path) -> None:
    args = ["synth", "--design", str(DOSE_RANGING), "--subjects", "40", "--seed", "6"]
    outcome = CliRunner().invoke(main, [*args, "--out", str(tmp_path), "--format", "csv"])
    assert outcome.exit_code == 0, outcome.output
    lines = outcome.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == list(COLLECTED)
    assert "DM\t40 rows" in lines
    qs = pl.read_csv(tmp_path / "qs.csv", infer_schema=False)
    assert f"QS\t{qs.height} rows" in lines


def test_cli_names_a_bad_value(tmp_path: Path) -> None:
    args = ["synth", "--design", str(DOSE_RANGING), "--subjects", "10", "--seed", "1"]
    outcome = CliRunner().invoke(main, [*args, "--out", str(tmp_path), "--chunk", "0"])
    assert outcome.exit_code == 1
    assert "synth chunk must be a whole number from 1" in outcome.output


# --- the project's own pipeline on synthetic data -----------------------------------------------


@pytest.fixture(scope="module")
def analysed(design: Design, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("analysis")
    data = synthesize(design, 300, seed=20260105)
    written = run(data, design, out, Options(mi_imputations=2))
    return out, written


def test_the_workflow_runs_on_synthetic_tables_without_rejects(
    analysed: tuple[Path, object],
) -> None:
    out, written = analysed
    assert written.rows["REJECTS"] == 0  # type: ignore[attr-defined]
    assert written.rows["ADSL"] == 300  # type: ignore[attr-defined]
    assert (out / "report.html").exists()


def test_the_high_dose_beats_placebo_on_easi_75(
    design: Design, analysed: tuple[Path, object]
) -> None:
    out, _ = analysed
    frame = pl.read_parquet(out / "ard.parquet")
    keys = {"paramcd": "EASI-75", "avisit": "WEEK 16", "estimand": "composite"}
    high = ard.value(frame, ids.BIN_RATE, "rate", group=design.arms[-1].label, **keys)
    placebo = ard.value(frame, ids.BIN_RATE, "rate", group=design.control.label, **keys)
    assert high > placebo + 0.15


def test_dropout_and_rescue_make_nri_rows(
    tables: dict[str, pl.DataFrame], analysed: tuple[Path, object]
) -> None:
    out, _ = analysed
    bds = pl.read_parquet(out / "bds.parquet")
    nri = set(bds.filter((pl.col("DTYPE") == "NRI") & (pl.col("PARAMCD") == "EASI"))["USUBJID"])
    stopped = set(tables["DS"].filter(pl.col("DSDECOD") != "COMPLETED")["USUBJID"])
    rescued = set(tables["CM"]["USUBJID"])
    assert stopped
    assert stopped <= nri
    assert nri & rescued
    flagged = bds.filter(pl.col("ICEFL") == "Y")
    assert "RESCUE" in set(flagged["ICE"].to_list())
