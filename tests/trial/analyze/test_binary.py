"""Responder analysis against R (validation/binary: generate.R on data.csv -> expected.json).

Tolerance: 1e-6 relative (abs 1e-9 for values near 0) for every statistic. Wilson, Fisher, CMH test
and MH odds ratio are compared with base R (prop.test, fisher.test, mantelhaen.test). Newcombe,
Miettinen-Nurminen, stratified (CMH-weighted) MN and the Sato variance have no base R function:
they are compared with an independent R implementation of the same published formulas (restricted
MLEs by root finding, not the closed-form cubic used here), not with a validated package.
"""

import json
import math
from pathlib import Path

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.trial import ard
from atopic.trial.analyze import binary
from atopic.trial.analyze.binary import responder_analysis

FOLDER = Path(__file__).parents[3] / "validation" / "binary"
EXPECTED = json.loads((FOLDER / "expected.json").read_text())
DATA = pl.read_csv(FOLDER / "data.csv")
RTOL, ATOL = 1e-6, 1e-9


def close(ours: float | None, theirs: float | None) -> bool:
    if theirs is None:
        return ours is None or not math.isfinite(ours)
    return ours is not None and math.isclose(ours, theirs, rel_tol=RTOL, abs_tol=ATOL)


def run(dataset: str) -> binary.ResponderResult:
    frame = DATA.filter(pl.col("DATASET") == dataset)
    return responder_analysis(frame, control="PBO", strata=["REGION", "IGABL"])


@pytest.mark.parametrize("dataset", sorted(EXPECTED["datasets"]))
def test_arm_rates_match_r_prop_test(dataset: str) -> None:
    result = run(dataset)
    for arm in result.arms:
        want = EXPECTED["datasets"][dataset]["arms"][arm.group]
        assert (arm.n, arm.big_n) == (want["n"], want["N"])
        for ours, key in (
            (arm.rate, "rate"),
            (arm.ci_lower, "ci_lower"),
            (arm.ci_upper, "ci_upper"),
        ):
            assert close(ours, want[key]), (arm.group, key, ours, want[key])


@pytest.mark.parametrize("dataset", sorted(EXPECTED["datasets"]))
def test_comparisons_match_r(dataset: str) -> None:
    result = run(dataset)
    assert {c.group for c in result.comparisons} == set(
        EXPECTED["datasets"][dataset]["comparisons"]
    )
    for c in result.comparisons:
        want = EXPECTED["datasets"][dataset]["comparisons"][c.group]
        ours = {
            "estimate": c.estimate,
            "newcombe_lower": c.newcombe[0],
            "newcombe_upper": c.newcombe[1],
            "mn_lower": c.mn[0],
            "mn_upper": c.mn[1],
            "fisher_p": c.fisher_p,
            "cmh_statistic": c.cmh.statistic,
            "cmh_p": c.cmh.p_value,
            "or_mh": c.cmh.or_mh,
            "or_lower": c.cmh.or_ci_lower,
            "or_upper": c.cmh.or_ci_upper,
            "mh_rd": c.cmh.estimate,
            "sato_se": c.cmh.se,
            "smn_lower": c.cmh.ci_lower,
            "smn_upper": c.cmh.ci_upper,
        }
        for key, value in ours.items():
            assert close(value, want[key]), (dataset, c.group, key, value, want[key])
        assert list(c.cmh.dropped) == want["strata_dropped"]


def test_one_arm_stratum_is_dropped_with_a_note() -> None:
    result = run("sparse")
    (comparison,) = result.comparisons
    assert "ASIA/4" in comparison.cmh.dropped
    assert "ASIA/4" not in comparison.cmh.used
    assert any("ASIA/4" in note for note in result.notes)
    rows = ard.to_frame(result.ard("EASI-75", "WEEK 12"))
    n_dropped = ard.value(
        rows, "BIN-CMH-RD", "strata_dropped", group="HIGH", comparator="PBO", avisit="WEEK 12"
    )
    assert n_dropped == len(comparison.cmh.dropped)
    dropped = rows.filter(pl.col("STAT") == "strata_dropped").item(0, "VALUEC")
    assert "ASIA/4" in dropped


def test_zero_responders_in_control_gives_finite_intervals() -> None:
    (comparison,) = run("sparse").comparisons
    assert run("sparse").arms[0].n == 0
    assert 0 < comparison.mn[0] < comparison.estimate < comparison.mn[1] < 1


def test_all_responders_gives_null_cmh_with_reason() -> None:
    result = run("all")
    rows = ard.to_frame(result.ard("EASI-75"))
    stat = rows.filter((pl.col("ANALYSIS") == "BIN-CMH") & (pl.col("STAT") == "p_value"))
    assert stat.item(0, "VALUE") is None
    assert "no variance" in stat.item(0, "VALUEC")
    assert result.comparisons[0].cmh.estimate == 0


def test_one_stratum_mn_equals_unstratified_mn() -> None:
    one = binary.stratified_mn_interval([12], [40], [5], [38])
    assert one == binary.mn_interval(12, 40, 5, 38)


def test_sato_variance_reduces_to_wald_in_one_stratum() -> None:
    d, var = binary.sato_variance([13], [40], [7], [35])
    assert math.isclose(var, 13 / 40 * 27 / 40 / 40 + 7 / 35 * 28 / 35 / 35, rel_tol=1e-12)
    assert math.isclose(d, 13 / 40 - 7 / 35, rel_tol=1e-12)


def test_ard_rows_carry_keys() -> None:
    rows = ard.to_frame(run("main").ard("EASI-75", "WEEK 12"))
    assert set(rows.get_column("ANALYSIS")) == {
        "BIN-RATE",
        "BIN-RD-NEWCOMBE",
        "BIN-RD-MN",
        "BIN-FISHER",
        "BIN-CMH",
        "BIN-CMH-RD",
        "BIN-CMH-OR",
    }
    assert rows.filter(pl.col("ANALYSIS") == "BIN-RATE").get_column("COMPARATOR").is_null().all()
    assert set(rows.filter(pl.col("ANALYSIS") == "BIN-CMH-RD").get_column("COMPARATOR")) == {"PBO"}
    assert set(rows.get_column("AVISIT")) == {"WEEK 12"}
    want = EXPECTED["datasets"]["main"]["comparisons"]["HIGH"]
    got = ard.value(rows, "BIN-CMH", "p_value", group="HIGH", comparator="PBO", avisit="WEEK 12")
    assert close(got, want["cmh_p"])


def frame(**overrides: list) -> pl.DataFrame:
    base = {"TRT01P": ["PBO", "PBO", "HIGH", "HIGH"], "CRIT1FL": ["Y", "N", "Y", "N"]}
    return pl.DataFrame(base | overrides)


def test_missing_response_is_refused_by_default() -> None:
    with pytest.raises(InvalidInput) as err:
        responder_analysis(frame(CRIT1FL=["Y", None, "Y", "N"]), control="PBO")
    assert err.value.field == "CRIT1FL (row 1)"
    assert "nri" in err.value.allowed


def test_missing_response_counted_as_non_responder_with_nri() -> None:
    result = responder_analysis(frame(CRIT1FL=["Y", None, "Y", "N"]), control="PBO", missing="nri")
    assert (result.arms[0].n, result.arms[0].big_n, result.arms[0].n_imputed) == (1, 2, 1)
    assert any("NRI" in note for note in result.notes)


@pytest.mark.parametrize(
    ("kwargs", "field", "value"),
    [
        ({"control": "PLACEBO"}, "control (TRT01P)", "PLACEBO"),
        ({"control": "PBO", "conf_level": 1.5}, "conf_level", 1.5),
        ({"control": "PBO", "missing": "locf"}, "missing", "locf"),
        ({"control": "PBO", "response": "CRIT2FL"}, "CRIT2FL", None),
    ],
)
def test_refusals_name_field_and_value(kwargs: dict, field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as err:
        responder_analysis(frame(), **kwargs)
    assert err.value.field == field
    if value is not None:
        assert err.value.value == value


def test_bad_response_value_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        responder_analysis(frame(CRIT1FL=["Y", "yes", "Y", "N"]), control="PBO")
    assert err.value.value == "yes"
    assert '"Y"' in err.value.allowed


def test_null_stratum_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        responder_analysis(frame(REGION=["EU", None, "EU", "EU"]), control="PBO", strata=["REGION"])
    assert err.value.field == "REGION (row 1)"


def test_pandas_input_gives_the_same_result() -> None:
    main = DATA.filter(pl.col("DATASET") == "main")
    a = responder_analysis(main, control="PBO", strata=["REGION"])
    b = responder_analysis(main.to_pandas(), control="PBO", strata=["REGION"])
    assert a == b
