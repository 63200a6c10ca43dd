"""Cochran-Armitage trend test against R (validation/trend: prop.trend.test on ../binary/data.csv).

Tolerance: 1e-6 relative. The Cochran-Armitage statistic is compared with R ``prop.trend.test``;
the linear-by-linear statistic with ``(N - 1) * cor(score, response)^2`` computed in R from the
subject-level data.
"""

import json
import math
from pathlib import Path

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.trial import ard
from atopic.trial.analyze.trend import cochran_armitage, trend_test

FOLDER = Path(__file__).parents[3] / "validation" / "trend"
EXPECTED = {
    k: v for k, v in json.loads((FOLDER / "expected.json").read_text()).items() if k != "r_version"
}
DATA = pl.read_csv(FOLDER.parent / "binary" / "data.csv")
RTOL = 1e-6


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_statistics_match_r(case: str) -> None:
    want = EXPECTED[case]
    dataset = case.split("_")[0]
    scores = dict(zip(want["arms"], want["scores"], strict=True))
    frame = DATA.filter(pl.col("DATASET") == dataset)
    ca = trend_test(frame, scores=scores)
    lbl = trend_test(frame, scores=scores, variant="linear-by-linear")
    assert math.isclose(ca.statistic, want["ca_statistic"], rel_tol=RTOL)
    assert math.isclose(ca.p_value, want["ca_p"], rel_tol=RTOL)
    assert math.isclose(lbl.statistic, want["lbl_statistic"], rel_tol=RTOL)
    assert math.isclose(lbl.p_value, want["lbl_p"], rel_tol=RTOL)
    assert ca.z > 0  # rates rise with dose in these data


def test_z_is_negative_when_rate_falls_with_dose() -> None:
    result = cochran_armitage([30, 20, 10], [50, 50, 50], [0, 1, 2])
    assert result.z < 0
    assert math.isclose(result.z**2, result.statistic)


def test_all_responders_gives_null_with_reason_in_ard() -> None:
    result = cochran_armitage([5, 5], [5, 5], [0, 100])
    rows = ard.to_frame(result.ard("EASI-75", "WEEK 12"))
    assert ard.value(rows, "TREND-CA", "p_value", avisit="WEEK 12") is None
    assert rows.filter(pl.col("STAT") == "p_value").item(0, "VALUEC").startswith("no variance")


def test_ard_rows_carry_keys() -> None:
    rows = ard.to_frame(cochran_armitage([1, 4], [10, 10], [0, 1]).ard("IGA01", "WEEK 16"))
    assert set(rows.get_column("STAT")) == {"statistic", "z", "df", "p_value", "N"}
    assert set(rows.get_column("PARAMCD")) == {"IGA01"}
    assert rows.get_column("GROUP").is_null().all()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (([1, 2], [5, 5], [0, 0]), "scores"),
        (([1, 6], [5, 5], [0, 1]), "x"),
        (([1, 2], [5, 0], [0, 1]), "n"),
        (([1, 2], [5, 5], [0, math.nan]), "scores"),
        (([1, 2], [5, 5], [0]), "x, n, scores"),
    ],
)
def test_refusals(args: tuple, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        cochran_armitage(*args)
    assert err.value.field == field


def test_arm_without_score_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        trend_test(DATA.filter(pl.col("DATASET") == "main"), scores={"PBO": 0, "HIGH": 100})
    assert err.value.field == "scores['LOW']"
