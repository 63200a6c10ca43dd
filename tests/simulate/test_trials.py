"""atopic.simulate.trials: virtual trials analysed with atopic.trial, reproducible from the seed,
with a type I error at alpha under no effect and power near 1 under a strong one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal
from scipy import stats

from atopic.cli import main
from atopic.errors import InvalidInput
from atopic.simulate import Effects, synthesize
from atopic.simulate.engines import replicate_seeds
from atopic.simulate.trials import (
    RESULT_SCHEMA,
    Scenario,
    SynthGenerator,
    derive_replicates,
    parse_sweep,
    scenario_design,
    simulate_trials,
)
from atopic.trial import ard
from atopic.trial.analyze.run import Options, analyze
from atopic.trial.derive.pipeline import derive_all
from atopic.trial.design import Design, load_design

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trial"

SMALL = """
[study]
studyid = "SIM-1"
title = "Two arms, 8 weeks"

[[arms]]
code = "PBO"
label = "Placebo"
product = "Placebo"
dose = 0
dose_unit = "10^6 Therapeutic Cells"
route = "SUBCUTANEOUS"
schedule = { weeks = [0] }
control = true

[[arms]]
code = "MSC"
label = "MSC 5.0x10^7 cells SC"
product = "MSC"
dose = 50
dose_unit = "10^6 Therapeutic Cells"
route = "SUBCUTANEOUS"
schedule = { weeks = [0] }

[randomization]
block_sizes = [2, 4]
planned_subjects = 40

[[randomization.strata]]
name = "IGA"
variable = "STRAT1R"
levels = ["3", "4"]
source = "baseline"
paramcd = "IGA"
map = { "3" = [3], "4" = [4] }

[visits]
baseline = "WEEK 0"

[[visits.schedule]]
avisit = "WEEK 0"
avisitn = 0
target = 1
low = -28
high = 1

[[visits.schedule]]
avisit = "WEEK 4"
avisitn = 4
target = 29
low = 2
high = 43

[[visits.schedule]]
avisit = "WEEK 8"
avisitn = 8
target = 57
low = 44
high = 71

[[criteria]]
name = "EASI-50"
paramcd = "EASI"
responder = ["PCHG <= -50"]

[[endpoints]]
id = "EASI50-W8"
role = "primary"
kind = "responder"
paramcd = "EASI"
criterion = "EASI-50"
avisit = "WEEK 8"
population = "ITTFL"

[[endpoints]]
id = "EASI-PCHG-W8"
role = "secondary"
kind = "continuous"
paramcd = "EASI"
variable = "PCHG"
avisit = "WEEK 8"
population = "ITTFL"

[[endpoints]]
id = "TEAE"
role = "safety"
kind = "incidence"
paramcd = "TEAE"
population = "SAFFL"

[[intercurrent_events]]
event = "rescue"
strategy = "composite"

[[intercurrent_events]]
event = "discontinuation"
strategy = "composite"

[safety]
teae_window_days = 71
"""


@pytest.fixture(scope="module")
def design() -> Design:
    return load_design(SMALL)


@pytest.fixture(scope="module")
def run(design: Design):
    return simulate_trials(design, n_trials=6, seed=11, subjects=30)


# --- results --------------------------------------------------------------------------------------


def test_one_row_per_replicate_endpoint_and_comparison(run) -> None:
    # 6 replicates x 2 tested endpoints (the incidence endpoint has no test) x 1 comparison
    assert run.results.height == 6 * 2
    assert run.results.schema == pl.Schema(RESULT_SCHEMA)
    assert sorted(set(run.results.get_column("ENDPOINT"))) == ["EASI-PCHG-W8", "EASI50-W8"]
    assert run.results.get_column("REJECTS").sum() == 0
    assert run.summary.height == 2
    assert run.summary.get_column("N_TRIALS").to_list() == [6, 6]


def test_the_tests_are_cmh_for_responders_and_ancova_for_continuous(run) -> None:
    tests = dict(run.results.select("KIND", "TEST").unique().iter_rows())
    assert tests == {"responder": "BIN-CMH", "continuous": "ANCOVA"}
    estimators = dict(run.results.select("KIND", "ESTIMATOR").unique().iter_rows())
    assert estimators == {"responder": "BIN-CMH-RD", "continuous": "ANCOVA"}


def test_significant_is_p_below_alpha(run) -> None:
    r = run.results
    expected = r.get_column("P_VALUE").fill_null(1.0) < 0.05
    assert r.get_column("SIGNIFICANT").to_list() == expected.to_list()


def test_a_replicate_in_the_batch_equals_the_same_trial_analysed_alone(design: Design, run) -> None:
    """Batching (distinct USUBJIDs, one derive_all) changes nothing: replicate 3 derived and
    analysed on its own by atopic.trial gives the numbers of the batch."""
    seed = replicate_seeds(11, 6)[3]
    tables = synthesize(design, 30, seed=seed)
    derived = derive_all(tables, design)
    opts = Options(
        endpoints=("EASI50-W8", "EASI-PCHG-W8"),
        conf_level=0.95,
        descriptive=False,
        safety=False,
        biomarkers=False,
        all_visits=False,
        sensitivity=False,
        mi=False,
        mmrm=False,
        dose_response=False,
    )
    frame = analyze(derived["ADSL"], derived["BDS"], derived["ADAE"], design, opts)
    row = run.results.filter(pl.col("REPLICATE") == 3)
    got = dict(row.select("ENDPOINT", "P_VALUE").iter_rows())
    keys = {"group": "MSC 5.0x10^7 cells SC", "comparator": "Placebo", "avisit": "WEEK 8"}
    cmh = ard.value(frame, "BIN-CMH", "p_value", paramcd="EASI-50", **keys)
    ancova = ard.value(frame, "ANCOVA", "p_value", paramcd="EASI:PCHG", **keys)
    assert got["EASI50-W8"] == cmh
    assert got["EASI-PCHG-W8"] == ancova
    est = row.filter(pl.col("ENDPOINT") == "EASI50-W8").item(0, "ESTIMATE")
    assert est == ard.value(frame, "BIN-CMH-RD", "estimate", paramcd="EASI-50", **keys)


def test_replicates_have_distinct_subjects_and_a_replicate_key(design: Design) -> None:
    derived = derive_replicates(SynthGenerator(), design, 10, [4, 9], replicate_seeds(1, 2))
    adsl = derived["ADSL"]
    assert adsl.height == 20
    assert adsl.get_column("USUBJID").n_unique() == 20
    assert sorted(set(adsl.get_column("REPLICATE"))) == [4, 9]
    assert (
        adsl.filter(pl.col("REPLICATE") == 9)
        .get_column("USUBJID")
        .str.starts_with("R0000009-")
        .all()
    )


# --- reproducibility ------------------------------------------------------------------------------


def test_same_seed_same_results_whatever_the_chunk_size(design: Design, run) -> None:
    again = simulate_trials(design, n_trials=6, seed=11, subjects=30, chunk=1)
    assert_frame_equal(again.results, run.results)
    assert_frame_equal(again.summary, run.summary)


def test_one_and_two_workers_give_identical_results(design: Design, run) -> None:
    parallel = simulate_trials(design, n_trials=6, seed=11, subjects=30, workers=2, chunk=2)
    assert_frame_equal(parallel.results, run.results)


def test_another_seed_gives_other_trials(design: Design, run) -> None:
    other = simulate_trials(design, n_trials=6, seed=12, subjects=30)
    assert (
        other.results.get_column("P_VALUE").to_list() != run.results.get_column("P_VALUE").to_list()
    )


def test_replicate_seeds_do_not_depend_on_how_many_are_asked_for() -> None:
    assert replicate_seeds(5, 10)[:4] == replicate_seeds(5, 4)
    assert len(set(replicate_seeds(5, 1000))) == 1000
    assert all(0 <= s < 2**63 for s in replicate_seeds(5, 100))


# --- operating characteristics ------------------------------------------------------------------


def test_no_true_effect_gives_a_type_i_error_near_alpha(design: Design) -> None:
    """400 null trials of 40 subjects: the number of significant trials must lie inside the
    central 99 % binomial interval around alpha = 0.05 (scipy binom.interval(0.99, 400, 0.05),
    i.e. 10 to 32 significant trials). A CMH test or ANCOVA that rejected twice as often as it
    should (or never) fails; a correct one passes in 99 % of seeds (this seed is fixed)."""
    n = 400
    null = simulate_trials(design, n_trials=n, seed=2026, subjects=40, null=True)
    lo, hi = stats.binom.interval(0.99, n, 0.05)
    assert set(null.summary.get_column("MEASURE")) == {"type I error"}
    for row in null.summary.iter_rows(named=True):
        assert lo <= row["N_SIGNIFICANT"] <= hi, row
        # the estimate is centred on no effect
        assert abs(row["MEAN"]) < 3 * row["SD"] / n**0.5, row


def test_a_strong_effect_gives_power_near_one(design: Design) -> None:
    strong = SynthGenerator(effects=Effects(emax=0.9, ed50=5.0, placebo=0.0, response_cv=0.2))
    result = simulate_trials(design, n_trials=10, seed=5, subjects=80, generator=strong)
    assert set(result.summary.get_column("MEASURE")) == {"power"}
    for row in result.summary.iter_rows(named=True):
        assert row["RATE"] == 1.0, row
        assert row["RATE_CI_LOWER"] > 0.69  # Wilson lower bound of 10/10
    pchg = result.summary.filter(pl.col("ENDPOINT") == "EASI-PCHG-W8")
    assert pchg.item(0, "MEAN") < -30  # LS-mean difference in % points, favouring MSC


def test_power_and_its_wilson_interval_follow_the_counts(run) -> None:
    from atopic.trial.analyze.binary import wilson_interval

    for row in run.summary.iter_rows(named=True):
        assert row["RATE"] == row["N_SIGNIFICANT"] / row["N_TRIALS"]
        lo, hi = wilson_interval(row["N_SIGNIFICANT"], row["N_TRIALS"], 0.95)
        assert (row["RATE_CI_LOWER"], row["RATE_CI_UPPER"]) == (lo, hi)
        estimates = run.results.filter(pl.col("ENDPOINT") == row["ENDPOINT"])["ESTIMATE"]
        assert row["MEAN"] == pytest.approx(estimates.mean(), rel=1e-12)
        assert row["SD"] == pytest.approx(estimates.std(), rel=1e-12)


# --- sweeps -------------------------------------------------------------------------------------


def test_sample_size_sweep_gives_one_summary_row_per_point(design: Design, tmp_path: Path) -> None:
    swept = simulate_trials(design, n_trials=3, seed=1, sweep="subjects=20,30,40")
    assert swept.results.height == 3 * 3 * 2
    assert swept.summary.height == 3 * 2
    assert swept.summary.get_column("SUBJECTS").unique().sort().to_list() == [20, 30, 40]
    assert set(swept.summary.get_column("SWEEP")) == {"subjects"}
    # common random numbers: replicate i has the same seed at every sweep point
    seeds = swept.results.group_by("REPLICATE").agg(pl.col("SEED").n_unique())
    assert seeds.get_column("SEED").to_list() == [1, 1, 1]
    paths = swept.write(tmp_path)
    assert "power_curves.svg" in paths
    assert "power_curves.png" in paths
    html = (tmp_path / "summary.html").read_text()
    assert html.count("<svg") == 3  # trajectories, distribution, power curves
    assert "subjects = 40" in html


def test_dose_sweep_changes_the_treated_arm_dose(design: Design) -> None:
    swept = simulate_trials(
        design, n_trials=2, seed=1, subjects=20, sweep="dose=10,100", endpoints=["EASI50-W8"]
    )
    assert swept.results.get_column("DOSE").to_list() == [10.0, 10.0, 100.0, 100.0]
    assert swept.results.get_column("GROUP").unique().sort().to_list() == [
        "MSC 10 10^6 Therapeutic Cells",
        "MSC 100 10^6 Therapeutic Cells",
    ]


def test_followup_sweep_moves_the_endpoint_visit(design: Design) -> None:
    swept = simulate_trials(
        design, n_trials=2, seed=1, subjects=20, sweep="followup=4,8", endpoints=["EASI50-W8"]
    )
    visits = dict(swept.summary.select("SWEEPVAL", "AVISIT").iter_rows())
    assert visits == {4.0: "WEEK 4", 8.0: "WEEK 8"}
    short = scenario_design(design, Scenario(20, "followup", 4.0))
    assert [v.avisit for v in short.visits] == ["WEEK 0", "WEEK 4"]


def test_dose_ranging_run_writes_a_dose_response_figure(tmp_path: Path) -> None:
    result = simulate_trials(
        EXAMPLES / "dose_ranging.toml", n_trials=2, seed=3, subjects=50, endpoints=["EASI75-W16"]
    )
    assert result.summary.get_column("DOSE").to_list() == [12.5, 25.0, 50.0, 100.0]
    paths = result.write(tmp_path)
    assert {"dose_response.svg", "trajectories.svg", "pchg_distribution.svg"} <= set(paths)
    assert pl.read_parquet(paths["results.parquet"]).equals(result.results)
    assert pl.read_csv(paths["summary.csv"]).height == 4


def test_mmrm_and_ratio_endpoints_use_their_own_tests() -> None:
    result = simulate_trials(
        EXAMPLES / "design.toml",
        n_trials=2,
        seed=3,
        subjects=45,
        endpoints=["EASI-PCHG-W12", "IGE-RATIO-W12"],
        continuous="mmrm",
    )
    tests = dict(result.results.select("ENDPOINT", "TEST").unique().iter_rows())
    assert tests == {"EASI-PCHG-W12": "MMRM", "IGE-RATIO-W12": "GMR-ANCOVA"}
    assert dict(result.results.select("ENDPOINT", "ESTIMAND").unique().iter_rows()) == {
        "EASI-PCHG-W12": "mar",
        "IGE-RATIO-W12": "observed",
    }
    assert result.results.get_column("P_VALUE").is_not_null().all()
    ratios = result.results.filter(pl.col("ENDPOINT") == "IGE-RATIO-W12").get_column("ESTIMATE")
    assert (ratios > 0).all()


# --- the generator is pluggable -----------------------------------------------------------------


@dataclass(frozen=True)
class Shifted:
    """A generator of our own (the shape a mechanistic model takes): synth with another placebo."""

    placebo: float = 0.1

    def generate(self, design: Design, n_subjects: int, seed: int) -> dict[str, pl.DataFrame]:
        return synthesize(design, n_subjects, seed=seed, effects=Effects(placebo=self.placebo))

    def null(self) -> Shifted:
        return self

    def describe(self) -> str:
        return f"shifted placebo {self.placebo}"


def test_a_generator_of_our_own_plugs_in(design: Design) -> None:
    result = simulate_trials(design, n_trials=2, seed=1, subjects=20, generator=Shifted())
    assert result.results.height == 4
    assert result.settings["generator"] == "shifted placebo 0.1"


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"n_trials": 0}, "n_trials", "a whole number from 1"),
        ({"n_trials": True}, "n_trials", "a whole number from 1"),
        ({"sweep": "visits=1,2"}, "sweep", "one of subjects, dose, followup"),
        ({"sweep": "subjects"}, "sweep", "VARIABLE=V1,V2"),
        ({"sweep": "subjects=10,x"}, "sweep subjects", "a number"),
        ({"sweep": "subjects=10.5", "subjects": None}, "sweep subjects", "whole numbers from 2"),
        ({"sweep": "subjects=10,20"}, "subjects", "left out when the sweep varies subjects"),
        ({"sweep": "followup=6"}, "sweep followup", "4, 8"),
        ({"sweep": "dose=0"}, "sweep dose", "doses above 0"),
        ({"engine": "dask"}, "engine", "one of local, spark"),
        ({"workers": 0}, "workers", "a whole number from 1"),
        ({"alpha": 1.5}, "alpha", "between 0 and 1"),
        ({"continuous": "gee"}, "continuous", "one of ancova, mmrm"),
        ({"endpoints": ["TEAE"]}, "endpoint", "EASI50-W8, EASI-PCHG-W8"),
        ({"endpoints": ["NOPE"]}, "endpoint", "an endpoint with a test"),
        ({"generator": object()}, "generator", "a PatientGenerator"),
        ({"subjects": 1}, "subjects", "a whole number from 2"),
    ],
)
def test_bad_arguments_are_refused_by_name(
    design: Design, kwargs: dict, field: str, allowed: str
) -> None:
    args = {"n_trials": 2, "seed": 1, "subjects": 20} | kwargs
    with pytest.raises(InvalidInput) as caught:
        simulate_trials(design, **args)
    assert caught.value.field == field
    assert allowed in caught.value.allowed
    assert field in str(caught.value)


def test_a_dose_sweep_needs_one_treated_arm() -> None:
    with pytest.raises(InvalidInput, match="exactly one treated arm"):
        simulate_trials(
            EXAMPLES / "dose_ranging.toml", n_trials=1, seed=1, subjects=20, sweep="dose=10"
        )


def test_parse_sweep() -> None:
    assert parse_sweep("subjects=60, 100,150") == ("subjects", (60.0, 100.0, 150.0))
    with pytest.raises(InvalidInput, match="without repeats"):
        parse_sweep("dose=1,1")


# --- the command --------------------------------------------------------------------------------


def _design_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_cli_writes_tables_figures_and_html(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "--design",
            str(_design_file(tmp_path)),
            "--n-trials",
            "3",
            "--seed",
            "4",
            "--subjects",
            "20",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "trials/s" in result.output
    assert "EASI50-W8" in result.output
    for name in ("results.parquet", "results.csv", "summary.parquet", "summary.csv"):
        assert (out / name).is_file()
    assert (out / "summary.html").read_text().count("<svg") == 2
    assert pl.read_parquet(out / "results.parquet").height == 3 * 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--n-trials", "0"], "simulate n_trials must be a whole number from 1"),
        (["--n-trials", "2", "--sweep", "arms=1,2"], "simulate sweep must be one of subjects"),
        (["--n-trials", "2", "--engine", "dask"], "simulate engine must be one of local, spark"),
        (["--n-trials", "2", "--generator", "nosuch"], "simulate generator must be one of synth"),
        (
            ["--n-trials", "2", "--population", "furestem_fit"],
            "simulate population must be only with --generator qsp",
        ),
        (
            ["--n-trials", "2", "--generator", "qsp", "--population", "nosuch"],
            "qsp population must be 'miyano2021', 'furestem_fit', or a .json/.toml",
        ),
    ],
)
def test_cli_refuses_bad_input_naming_field_value_and_allowed(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    args = ["simulate", "--design", str(_design_file(tmp_path)), "--seed", "1"]
    args += ["--out", str(tmp_path / "o"), "--subjects", "20", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "got" in result.output


def test_cli_names_missing_options(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", "--design", str(_design_file(tmp_path))])
    assert result.exit_code != 0
    assert "--n-trials" in result.output
    assert "--seed" in result.output


def test_cli_runs_the_qsp_generator_on_a_named_population(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["simulate", "--design", str(_design_file(tmp_path)), "--n-trials", "2", "--seed", "3"]
    args += ["--subjects", "20", "--out", str(out), "--no-figures", "--generator", "qsp"]
    result = CliRunner().invoke(main, [*args, "--population", "furestem_fit"])
    assert result.exit_code == 0, result.output
    assert "population furestem_fit" in (out / "summary.html").read_text()
    fitted = pl.read_parquet(out / "results.parquet")
    result = CliRunner().invoke(main, [*args[:-1], "qsp", "--out", str(tmp_path / "own")])
    assert result.exit_code == 0, result.output
    own = pl.read_parquet(tmp_path / "own" / "results.parquet")
    # The same seeds on another population's parameters and MSC mechanism: other estimates.
    assert fitted.height == own.height == 2 * 2
    assert not fitted["ESTIMATE"].equals(own["ESTIMATE"])
