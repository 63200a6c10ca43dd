"""Geometric mean ratios against R (validation/biomarkers: t.test and lm + emmeans on logs).

Tolerance: 1e-6 relative for GMRs, CIs, ratios of GMRs, t statistics and p-values (same
algorithms: t interval of the mean log ratio; OLS on the log scale with emmeans LS means).
"""

import json
import math
from pathlib import Path

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.trial import ard
from atopic.trial.analyze.biomarkers import geometric_mean_ratio

FOLDER = Path(__file__).parents[3] / "validation" / "biomarkers"
EXPECTED = json.loads((FOLDER / "expected.json").read_text())
DATA = pl.read_csv(FOLDER / "data.csv")
RTOL = 1e-6


@pytest.mark.parametrize("case", [k for k in sorted(EXPECTED) if k != "r_version"])
def test_gmrs_match_r(case: str) -> None:
    paramcd, adj = case.split("_")
    want = EXPECTED[case]
    strata = ["REGION"] if adj == "strata" else []
    result = geometric_mean_ratio(
        DATA.filter(pl.col("PARAMCD") == paramcd), control="PBO", strata=strata
    )
    assert result.n_missing == want["n_missing"]
    assert result.model.n_used == want["n_used"]
    for a in result.arms:
        w = want["arms"][a.group]
        assert a.n == w["n"]
        for key in ("gmr", "ci_lower", "ci_upper", "sd_log"):
            assert math.isclose(getattr(a, key), w[key], rel_tol=RTOL), (a.group, key)
    for m in result.model.lsmeans:
        w = want["adjusted"][m.group]
        assert math.isclose(math.exp(m.estimate), w["gmr"], rel_tol=RTOL)
        assert math.isclose(math.exp(m.ci_lower), w["ci_lower"], rel_tol=RTOL)
        assert math.isclose(math.exp(m.ci_upper), w["ci_upper"], rel_tol=RTOL)
    rows = ard.to_frame(result.ard(paramcd, "WEEK 12"))
    for group, w in want["ratios"].items():
        for key in ("estimate", "ci_lower", "ci_upper", "statistic", "df", "p_value"):
            got = ard.value(
                rows, "GMR-ANCOVA", key, group=group, comparator="PBO", avisit="WEEK 12"
            )
            assert math.isclose(got, w[key], rel_tol=RTOL), (group, key)


def frame(aval: list, base: list) -> pl.DataFrame:
    return pl.DataFrame(
        {"TRT01P": ["PBO", "PBO", "PBO", "HIGH", "HIGH", "HIGH"], "AVAL": aval, "BASE": base}
    )


def test_zero_value_is_refused_by_default() -> None:
    with pytest.raises(InvalidInput) as err:
        geometric_mean_ratio(
            frame([100.0, 0.0, 80, 50, 60, 70], [120.0, 90, 100, 110, 100, 90]), control="PBO"
        )
    assert err.value.field == "AVAL (row 1)"
    assert err.value.value == 0.0
    assert "reject" in err.value.allowed


def test_negative_baseline_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        geometric_mean_ratio(
            frame([100.0, 90, 80, 50, 60, 70], [120.0, 90, 100, -1, 100, 90]), control="PBO"
        )
    assert err.value.field == "BASE (row 3)"


def test_rejected_rows_are_listed_and_counted() -> None:
    data = frame([100.0, 0.0, 80, 50, 60, -3.0], [120.0, 90, 100, 110, 100, 90])
    result = geometric_mean_ratio(data, control="PBO", nonpositive="reject")
    assert result.rejects.height == 2
    assert set(result.rejects.get_column("AVAL")) == {0.0, -3.0}
    assert [a.n for a in result.arms] == [2, 2]
    rows = ard.to_frame(result.ard("IGE"))
    assert ard.value(rows, "GMR-ANCOVA", "n_rejected") == 2


def test_missing_values_are_counted_not_dropped_silently() -> None:
    result = geometric_mean_ratio(
        frame([100.0, None, 80, 50, 60, 70], [120.0, 90, 100, 110, 100, 90]), control="PBO"
    )
    assert result.n_missing == 1
    rows = ard.to_frame(result.ard("EOS"))
    assert ard.value(rows, "GMR-ANCOVA", "n_excluded") == 1


def test_ard_rows_carry_keys() -> None:
    result = geometric_mean_ratio(DATA.filter(pl.col("PARAMCD") == "EOS"), control="PBO")
    rows = ard.to_frame(result.ard("EOS", "WEEK 12"))
    assert set(rows.get_column("ANALYSIS")) == {"GMR", "GMR-ANCOVA"}
    assert set(rows.filter(pl.col("ANALYSIS") == "GMR").get_column("GROUP")) == {
        "PBO",
        "LOW",
        "HIGH",
    }
    assert set(rows.get_column("PARAMCD")) == {"EOS"}
