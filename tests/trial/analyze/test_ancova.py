"""ANCOVA against R (validation/ancova: lm + emmeans on data.csv -> expected.json).

Tolerance: 1e-6 relative for LS means, differences, SEs, CIs, t statistics and p-values (same
algorithm: OLS and emmeans' equal-weight reference grid; p-values below 1e-8 compared at 1e-6
relative as well).
"""

import json
import math
from pathlib import Path

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.trial import ard
from atopic.trial.analyze.ancova import ancova

FOLDER = Path(__file__).parents[3] / "validation" / "ancova"
EXPECTED = json.loads((FOLDER / "expected.json").read_text())
DATA = pl.read_csv(FOLDER / "data.csv")
RTOL = 1e-6
CASES = {
    "chg_strata": ("CHG", ["REGION", "IGABL"]),
    "pchg_strata": ("PCHG", ["REGION", "IGABL"]),
    "chg_nostrata": ("CHG", []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_lsmeans_and_differences_match_r_emmeans(case: str) -> None:
    response, strata = CASES[case]
    want = EXPECTED[case]
    result = ancova(DATA, control="PBO", response=response, strata=strata)
    assert (result.n_used, result.n_excluded) == (want["n_used"], want["n_excluded"])
    assert math.isclose(result.sigma, want["sigma"], rel_tol=RTOL)
    for m in result.lsmeans:
        w = want["lsmeans"][m.group]
        for key in ("estimate", "se", "df", "ci_lower", "ci_upper"):
            assert math.isclose(getattr(m, key), w[key], rel_tol=RTOL), (m.group, key)
    assert {c.group for c in result.contrasts} == set(want["contrasts"])
    for c in result.contrasts:
        w = want["contrasts"][c.group]
        for key in ("estimate", "se", "df", "ci_lower", "ci_upper", "statistic", "p_value"):
            assert math.isclose(getattr(c, key), w[key], rel_tol=RTOL), (c.group, key)


def test_ard_rows_carry_keys_and_excluded_count() -> None:
    result = ancova(DATA, control="PBO", strata=["REGION", "IGABL"])
    rows = ard.to_frame(result.ard("EASI", "WEEK 12"))
    assert (
        ard.value(rows, "ANCOVA", "n_excluded", avisit="WEEK 12")
        == EXPECTED["chg_strata"]["n_excluded"]
    )
    got = ard.value(rows, "ANCOVA", "p_value", group="HIGH", comparator="PBO", avisit="WEEK 12")
    assert math.isclose(got, EXPECTED["chg_strata"]["contrasts"]["HIGH"]["p_value"], rel_tol=RTOL)
    lsm = rows.filter(pl.col("STAT") == "lsmean")
    assert lsm.get_column("COMPARATOR").is_null().all()
    assert set(lsm.get_column("GROUP")) == {"PBO", "LOW", "HIGH"}


def test_pandas_input_gives_the_same_result() -> None:
    a = ancova(DATA, control="PBO", strata=["REGION"])
    b = ancova(DATA.to_pandas(), control="PBO", strata=["REGION"])
    assert a.contrasts == b.contrasts


def test_missing_stratum_is_refused() -> None:
    bad = DATA.with_columns(
        pl.when(pl.col("USUBJID") == "C005").then(None).otherwise(pl.col("REGION")).alias("REGION")
    )
    with pytest.raises(InvalidInput) as err:
        ancova(bad, control="PBO", strata=["REGION"])
    assert err.value.field == "REGION (row 5)"


def test_unknown_control_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        ancova(DATA, control="Placebo")
    assert err.value.value == "Placebo"


def test_stratum_level_confounded_with_arm_is_refused() -> None:
    frame = pl.DataFrame(
        {
            "TRT01P": ["PBO"] * 4 + ["HIGH"] * 4,
            "BASE": [20.0, 22, 25, 30, 21, 26, 28, 31],
            "CHG": [-1.0, -2, -3, -1, -8, -9, -7, -10],
            "S": ["a"] * 4 + ["b"] * 4,
        }
    )
    with pytest.raises(InvalidInput) as err:
        ancova(frame, control="PBO", strata=["S"])
    assert err.value.field == "design"


def test_text_response_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        ancova(DATA.with_columns(pl.col("CHG").cast(pl.String)), control="PBO")
    assert err.value.field == "CHG"


def test_arm_without_any_complete_row_is_refused() -> None:
    bad = DATA.with_columns(
        pl.when(pl.col("TRT01P") == "LOW").then(None).otherwise(pl.col("CHG")).alias("CHG")
    )
    with pytest.raises(InvalidInput) as err:
        ancova(bad, control="PBO")
    assert err.value.field == "CHG (TRT01P LOW)"
