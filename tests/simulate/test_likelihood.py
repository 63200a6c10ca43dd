"""atopic.simulate.likelihood and the calibration's likelihood objective, whole-product profile
and convergence flags: the objective equals the formula computed by hand on a made-up simulated
table, the SE adds the published and Monte Carlo variances, a range counts only outside it with
its half-width as 2 SE, targets without an SE stay out, the multiplier-0 profile point is the
product switched off, and fits stopped by their evaluation limit say so."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from scipy.stats import chi2

from atopic.cli import main
from atopic.simulate import calibration as cal
from atopic.simulate import likelihood as lik
from atopic.simulate.qsp import load_model
from atopic.simulate.targets import TARGETS, Target


@pytest.fixture(scope="module")
def pool() -> cal.Pool:
    return cal.virtual_pool(load_model(), 30, 11)


def _rate(p: float, n: int) -> float:
    """Binomial variance of a rate in percentage points squared, written out."""
    return 1e4 * (p / 100) * (1 - p / 100) / n


RATE = Target("rate", "made up", "placebo", "easi50", 12, 30.0, n=50)
RANGE = Target("range", "made up", "placebo", "easi75", 16, 15.0, 10.0, 20.0)
POINT = Target("point", "made up", "placebo", "easi90", 12, 9.0, weight=0.5)
DIFF = Target("diff", "made up", "sc50", "diff_easi50", 12, 8.0, n=40, control=22.0, n_control=45)


def test_the_likelihood_equals_the_formula_by_hand() -> None:
    sims = {
        "rate": lik.Simulated(36.0, 2.0),
        "range": lik.Simulated(26.0, 1.5),  # 6 points above the range's top
        "point": lik.Simulated(2.0, 1.0),  # no n, no range: not in the likelihood
        "diff": lik.Simulated(3.0, 2.5),
    }
    by_hand = (
        (36.0 - 30.0) ** 2 / (_rate(30.0, 50) + 2.0**2)
        + (26.0 - 20.0) ** 2 / (((20.0 - 10.0) / 2 / 2) ** 2 + 1.5**2)
        + (3.0 - 8.0) ** 2 / (_rate(30.0, 40) + _rate(22.0, 45) + 2.5**2)
    )
    targets = [RATE, RANGE, POINT, DIFF]
    assert lik.neg2_log_likelihood(targets, sims) == pytest.approx(by_hand, rel=1e-12)
    table = lik.terms_table(targets, sims)
    assert table["target"].to_list() == ["rate", "range", "diff"]
    assert table["term"].sum() == pytest.approx(by_hand, rel=1e-12)
    assert table["z"].to_list()[2] < 0  # simulated below published: a signed z


def test_the_se_adds_the_published_and_monte_carlo_variances() -> None:
    se_pub = lik.published_se(RATE)
    assert se_pub == pytest.approx(math.sqrt(_rate(30.0, 50)))
    without = lik.term(RATE, lik.Simulated(40.0, 0.0))
    with_mc = lik.term(RATE, lik.Simulated(40.0, 3.0))
    assert without == pytest.approx(100.0 / se_pub**2)
    assert with_mc == pytest.approx(100.0 / (se_pub**2 + 9.0))
    assert with_mc < without
    se = lik.difference_se(30.0, 40, 22.0, 45)
    assert se**2 == pytest.approx(lik.binomial_se(30.0, 40) ** 2 + lik.binomial_se(22.0, 45) ** 2)
    assert se > max(lik.binomial_se(30.0, 40), lik.binomial_se(22.0, 45))
    assert lik.published_se(DIFF) == pytest.approx(se)  # arm rate = control + difference
    with pytest.raises(cal.InvalidInput, match="n"):
        lik.binomial_se(30.0, 0)


def test_a_range_counts_only_outside_with_its_half_width_as_two_se() -> None:
    assert lik.published_se(RANGE) == pytest.approx((20.0 - 10.0) / 2 / lik.RANGE_Z)
    for inside in (10.0, 14.2, 20.0):
        assert lik.term(RANGE, lik.Simulated(inside, 1.0)) == 0.0
    below = lik.term(RANGE, lik.Simulated(7.0, 0.0))
    above = lik.term(RANGE, lik.Simulated(23.0, 0.0))
    assert below == pytest.approx(above)
    assert below == pytest.approx((3.0 / 2.5) ** 2)
    # at one half-width outside the range, z = RANGE_Z (without Monte Carlo error)
    assert lik.term(RANGE, lik.Simulated(25.0, 0.0)) == pytest.approx(lik.RANGE_Z**2)


def test_only_targets_with_a_published_se_and_a_weight_enter() -> None:
    assert lik.in_likelihood(RATE)
    assert lik.in_likelihood(RANGE)
    assert not lik.in_likelihood(POINT)
    assert not lik.in_likelihood(replace(RATE, weight=0.0))
    assert not lik.in_likelihood(replace(DIFF, control=None))
    for t in TARGETS:
        if lik.in_likelihood(t):
            assert t.direction is None, t.id
            assert t.n is not None or (t.low is not None and t.high is not None), t.id
        if t.direction is not None or t.weight == 0:
            assert not lik.in_likelihood(t), t.id
    pooled = [t for t in TARGETS if t.id.startswith("pooled-pbo")]
    assert pooled
    assert not any(lik.in_likelihood(t) for t in pooled)


def test_the_profile_interval_reads_the_chi_square_threshold() -> None:
    assert chi2.cdf(lik.CHI2_95, 1) == pytest.approx(0.95)  # 1 degree of freedom
    x = [0.0, 0.25, 0.5, 1.0, 2.0]
    found = lik.profile_interval(x, [10.0, 5.0, 3.0, 6.8, 9.0])
    assert found == lik.ProfileInterval(0.25, 1.0, False, False, False)
    edge = lik.profile_interval(x, [3.0, 4.0, 5.0, 9.0, 9.0])
    assert edge is not None
    assert (edge.low, edge.high, edge.open_low, edge.open_high) == (0.0, 0.5, True, False)
    gap = lik.profile_interval(x, [3.0, 9.0, 4.0, 9.0, 9.0])
    assert gap is not None
    assert gap.gaps
    assert lik.profile_interval(x, [math.nan] * 5) is None


def test_the_objectives_are_their_formulas_on_the_simulated_values(pool: cal.Pool) -> None:
    model = load_model(care=0.4)
    arms = cal.run_regimens(pool, model, cal._needed(TARGETS), open_care=0.9)
    weighted = [t for t in TARGETS if t.weight > 0]
    points = sum(
        t.weight * (lik.deviation(t, cal.evaluate(pool, arms, t, smooth=True)[0]) / 10) ** 2
        for t in weighted
    )
    assert cal.objective(pool, model, open_care=0.9, kind="points") == pytest.approx(points)
    table = cal.likelihood_table(pool, model, open_care=0.9)
    value = cal.objective(pool, model, open_care=0.9, kind="likelihood")
    assert value == pytest.approx(table["term"].sum())
    assert set(table["target"]) == {t.id for t in TARGETS if lik.in_likelihood(t)}
    for row in table.iter_rows(named=True):
        t = next(t for t in TARGETS if t.id == row["target"])
        if t.metric in lik.RATE_METRICS:  # MC SE: binomial at the simulated (smoothed) rate
            q = row["simulated"] / 100
            assert row["se_mc"] == pytest.approx(100 * math.sqrt(q * (1 - q) / pool.n))
        assert row["se"] ** 2 == pytest.approx(row["se_published"] ** 2 + row["se_mc"] ** 2)
    with pytest.raises(cal.InvalidInput, match="objective"):
        cal.objective(pool, model, kind="least squares")


def test_fits_stopped_by_their_evaluation_limit_say_so(pool: cal.Pool) -> None:
    result = cal.fit(pool, load_model(), starts=2, seed=3, max_evaluations=1, kind="points")
    assert result.kind == "points"
    assert not result.converged
    for s in result.starts:
        assert s.converged is False
        assert "evaluations" in s.message
    table = result.starts_table()
    assert table["converged"].to_list() == [False, False]
    assert set(table["objective_kind"]) == {"points"}
    everything = dict.fromkeys(cal.FIT_PARAMETERS, 0.5)
    pinned = cal.fit(pool, load_model(), max_evaluations=1, fixed=everything)
    assert pinned.starts[0].converged  # nothing to optimise: nothing stopped early
    with pytest.raises(cal.InvalidInput, match="max_evaluations"):
        cal.fit(pool, load_model(), max_evaluations=0)


def test_the_product_profile_at_zero_is_the_product_off(pool: cal.Pool) -> None:
    model = load_model(care=0.4)
    prof = cal.profile_product(pool, model, grid=(0.0, 1.0, 2.0), open_care=0.8, max_evaluations=2)
    assert prof["multiplier"].to_list() == [0.0, 1.0, 2.0]
    assert prof["converged"].dtype == pl.Boolean
    lowest = prof["objective"].min()
    assert prof["delta"].to_list() == [v - lowest for v in prof["objective"].to_list()]
    zero, one, two = prof.iter_rows(named=True)
    for k in cal.EMAX:
        assert zero[k] == 0.0, k
    assert (zero["effect_w4"], zero["effect_w12"]) == (0.0, 0.0)
    off_mech = model.mechanism.replace(
        tcell_emax=0.0, barrier_emax=0.0, tslp_emax=0.0, th2_emax=0.0
    )
    off = replace(model, care=zero["care"], mechanism=off_mech)
    by_hand = cal.objective(pool, off, open_care=zero["open_care"])
    assert zero["objective"] == pytest.approx(by_hand)
    tcell = cal.profile(pool, model, grid=(), open_care=0.8, max_evaluations=2)
    assert tcell["objective"].to_list() == [zero["objective"]]  # the "off" row
    # multiplier 1 keeps the model's own Emax; 2 doubles them, capped at their limits
    own = model.mechanism
    assert one["tcell_emax"] == pytest.approx(own.tcell_emax)
    assert one["barrier_emax"] == pytest.approx(own.barrier_emax)
    assert (one["tslp_emax"], one["th2_emax"]) == (own.tslp_emax, own.th2_emax)
    assert not one["capped"]
    assert two["barrier_emax"] == pytest.approx(min(2 * own.barrier_emax, cal.EMAX["barrier_emax"]))
    assert two["tslp_emax"] == min(2 * own.tslp_emax, 1.0)
    assert two["capped"] == any(2 * getattr(own, k) > cap for k, cap in cal.EMAX.items())
    with pytest.raises(cal.InvalidInput, match="grid"):
        cal.profile_product(pool, model, grid=(-1.0,), max_evaluations=1)


def test_the_command_names_its_objective_and_flags_convergence(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "calibrate",
            "--n",
            "12",
            "--seed",
            "4",
            "--objective",
            "points",
            "--profile-product",
            "--profile-evaluations",
            "1",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "objective points" in result.output
    assert "profile over the whole product" in result.output
    assert "NOT converged" in result.output
    assert "no chi-square reading, no interval" in result.output
    table = pl.read_csv(tmp_path / "profile_product.csv")
    assert table["multiplier"].to_list() == list(cal.PRODUCT_GRID)
    assert table["converged"].to_list() == [False] * len(cal.PRODUCT_GRID)
    assert set(table["objective_kind"]) == {"points"}
    assert (tmp_path / "likelihood.csv").exists()
