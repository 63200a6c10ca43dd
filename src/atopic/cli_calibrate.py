"""``atopic simulate calibrate``: the QSP model against published trials, a multi-start fit and a
profile over the product's strength.

``atopic simulate calibrate [--population NAME] [--n N] [--seed S] [--out DIR] [--fit]
[--objective likelihood|points] [--starts K] [--max-evaluations M] [--profile]
[--profile-product] [--profile-evaluations P] [--name NAME]`` prints
every target of ``atopic.simulate.targets`` beside its simulated value and Monte Carlo 95 %
interval (``atopic.simulate.calibration``; each target with its study setting's background care:
blinded or open label; a directional target, e.g. IgE and eosinophils fell in FURESTEM-AD phase
IIa, shows "< 0" and whether the simulated value and its whole interval lie on that side), and
the statement of what one parameter set cannot reproduce. ``--fit``
fits the cares and the cell-therapy mechanism (``calibration.FIT_PARAMETERS``) on the same
virtual patients from ``K`` starts (``M`` evaluations each) by the ``--objective`` (default
likelihood: -2 log L from the targets' standard errors, ``atopic.simulate.likelihood``; points:
the hand-weighted squared error of the measured tables in docs/simulate.md), prints every start
with whether it converged and the table again for the best set. ``--profile`` fixes the T-cell
Emax on ``calibration.PROFILE_GRID``; ``--profile-product`` multiplies all four MSC Emax by
``calibration.PRODUCT_GRID`` (0 = product off); both refit the rest from the best set (or the
population's) and print the objective, its difference from the profile's minimum, convergence
and the product effect at each point, and with the likelihood objective an approximate 95 %
profile-likelihood interval. ``--out DIR`` writes ``calibration.csv`` (and
``calibration_fitted.csv``, ``starts.csv``, ``profile.csv``, ``profile_product.csv``,
``likelihood.csv`` and the fitted set ``NAME.json``, loadable with ``--population
DIR/NAME.json``). Importing this module registers the command on the ``simulate`` group.
"""

from __future__ import annotations

from pathlib import Path

import click

from atopic.cli_simulate import simulate
from atopic.errors import InvalidInput


def _show(table: object) -> str:
    import polars as pl

    assert isinstance(table, pl.DataFrame)
    lines = [
        f"{'target':<26} {'care':>6} {'published':>10} {'(95 % CI)':>16} {'simulated':>10} "
        f"{'MC 95 %':>16}"
    ]
    for r in table.iter_rows(named=True):
        lo, hi = r["published_low"], r["published_high"]
        if lo is not None and hi is not None:
            ci = f"{lo:.1f} to {hi:.1f}"
        elif lo is not None:
            ci = f"> {lo:g}"
        else:
            ci = ""
        published = f"{r['published']:.1f}"
        verdict = ""
        if r["direction"] is not None:  # the source gives a direction only
            published, ci = ("< 0" if r["direction"].startswith("below") else "> 0"), ""
            verdict = "  direction " + (
                "met (whole MC interval)"
                if r["direction_met_mc"]
                else "met (point only)"
                if r["direction_met"]
                else "NOT met"
            )
        mc = f"{r['mc_low']:.1f} to {r['mc_high']:.1f}"
        line = (
            f"{r['target']:<26} {r['care']:>6.3g} {published:>10} {ci:>16} "
            f"{r['simulated']:>10.1f} {mc:>16}{verdict}"
        )
        if r["note"]:
            line += f"  ({r['note']})"
        lines.append(line)
    return "\n".join(lines)


def _values(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in values.items())


OBJECTIVE_LABEL = {
    "likelihood": "likelihood (-2 log L up to a constant; differences read as chi-square)",
    "points": "points (sum weight x (deviation / 10 points)^2; no chi-square reading)",
}


def _converged(converged: bool, message: str) -> str:
    return "converged" if converged else f"NOT converged ({message})"


def _interval(table: object, column: str, unit: str) -> str:
    """The approximate 95 % profile-likelihood interval of a profile table, in words."""
    import polars as pl

    from atopic.simulate.likelihood import CHI2_95, profile_interval

    assert isinstance(table, pl.DataFrame)
    found = profile_interval(table[column].to_list(), table["objective"].to_list())
    if found is None:
        return "no finite profile point: no interval"
    low = f"<= {found.low:g}" if found.open_low and found.low > 0 else f"{found.low:g}"
    high = f">= {found.high:g} (grid end)" if found.open_high else f"{found.high:g}"
    gaps = "; not one interval: points above the threshold lie inside" if found.gaps else ""
    unconverged = table.filter(~pl.col("converged")).height
    return (
        f"approximate 95 % profile-likelihood interval for the {unit}: {low} to {high} "
        f"(grid points with difference < {CHI2_95:.2f}; approximate: grid resolution, Monte "
        f"Carlo noise, {unconverged} of {table.height} refits not converged){gaps}"
    )


def _profile_rows(table: object, first: str, label: object) -> list[str]:
    import polars as pl

    assert isinstance(table, pl.DataFrame)
    lines = [
        f"{first:>10} {'objective':>10} {'diff':>8} {'EASI-50 diff wk 4 (MC 95 %)':>28} "
        f"{'wk 12 (MC 95 %)':>24}  convergence; values"
    ]
    for r in table.iter_rows(named=True):
        rest = {k: r[k] for k in ("care", "open_care", "ec50", "half_life_weeks", "barrier_emax")}
        w4 = f"{r['effect_w4']:.1f} ({r['effect_w4_low']:.1f} to {r['effect_w4_high']:.1f})"
        w12 = f"{r['effect_w12']:.1f} ({r['effect_w12_low']:.1f} to {r['effect_w12_high']:.1f})"
        lines.append(
            f"{label(r):>10} {r['objective']:>10.3f} {r['delta']:>8.3f} {w4:>28} {w12:>24}  "
            f"{_converged(r['converged'], r['message'])}; {_values(rest)}"
        )
    return lines


@simulate.command("calibrate")
@click.option(
    "--population",
    default="miyano2021",
    show_default=True,
    help="Population: miyano2021, a packaged name, or a .json/.toml file.",
)
@click.option("--n", "n", type=int, default=1000, show_default=True, help="Virtual patients.")
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed of the patients.")
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Write CSV and the fit here."
)
@click.option("--fit", "do_fit", is_flag=True, help="Fit the cares and the MSC mechanism.")
@click.option(
    "--objective",
    "kind",
    type=click.Choice(["likelihood", "points"]),
    default="likelihood",
    show_default=True,
    help="Objective of the fit and profiles: likelihood (SE weights) or points (hand weights).",
)
@click.option("--starts", type=int, default=6, show_default=True, help="Starts of the fit.")
@click.option("--name", default="msc_fit", show_default=True, help="Name of the fitted model file.")
@click.option(
    "--max-evaluations",
    type=int,
    default=60,
    show_default=True,
    help="Objective evaluations per start.",
)
@click.option("--profile", "do_profile", is_flag=True, help="Profile over the T-cell Emax.")
@click.option(
    "--profile-product",
    "do_product",
    is_flag=True,
    help="Profile over a common multiplier of the four MSC Emax (0 = product off).",
)
@click.option(
    "--profile-evaluations",
    type=int,
    default=40,
    show_default=True,
    help="Objective evaluations per profile point.",
)
def calibrate(
    population: str,
    n: int,
    seed: int,
    out_dir: Path | None,
    do_fit: bool,
    kind: str,
    starts: int,
    name: str,
    max_evaluations: int,
    do_profile: bool,
    do_product: bool,
    profile_evaluations: int,
) -> None:
    """Targets of published trials beside the simulated values; --fit fits and saves a set."""
    from atopic.simulate import calibration as cal

    try:
        own = cal.load_fitted(population)
        model = own.model
        pool = cal.virtual_pool(model, n, seed)
        click.echo(
            f"population {model.name}, care {model.care:g} (blinded), {own.open_care:g} (open "
            f"label); {pool.n} virtual patients enrolled of {pool.screened.screened} screened "
            f"(seed {seed})"
        )
        table = cal.calibration_table(pool, model, open_care=own.open_care)
        click.echo(_show(table))
        own_objective = cal.objective(pool, model, open_care=own.open_care, kind=kind)
        click.echo(f"objective {OBJECTIVE_LABEL[kind]}: {own_objective:.3f}")
        result = fitted = prof = product = None
        if do_fit:
            with click.progressbar(length=starts * (max_evaluations + 1), label="fitting") as bar:
                result = cal.fit(
                    pool,
                    model,
                    open_care=own.open_care,
                    starts=starts,
                    seed=seed,
                    max_evaluations=max_evaluations,
                    progress=lambda i, v: bar.update(1),
                    kind=kind,
                )
            click.echo(f"fit, objective {OBJECTIVE_LABEL[kind]}:")
            for s in result.starts:
                click.echo(
                    f"start {s.index}: objective {s.start:.3f} -> {s.end:.3f} "
                    f"({s.evaluations} evaluations, {_converged(s.converged, s.message)}); "
                    f"{_values(s.values)}"
                )
            stopped = sum(not s.converged for s in result.starts)
            click.echo(
                f"best: objective {result.start:.3f} (population's values) -> {result.end:.3f} "
                f"({'converged' if result.converged else 'NOT converged'}; {stopped} of "
                f"{len(result.starts)} starts stopped before converging); "
                f"{_values(result.values)}"
            )
            fitted = cal.calibration_table(pool, result.model, open_care=result.open_care)
            click.echo(_show(fitted))
        if do_profile:
            base = result.best if result is not None else own
            with click.progressbar(
                length=(len(cal.PROFILE_GRID) + 1) * (profile_evaluations + 1), label="profile"
            ) as bar:
                prof = cal.profile(
                    pool,
                    base.model,
                    open_care=base.open_care,
                    max_evaluations=profile_evaluations,
                    progress=lambda i, v: bar.update(1),
                    kind=kind,
                )
            click.echo(
                f"profile over the T-cell Emax, objective {OBJECTIVE_LABEL[kind]} (other "
                "parameters refitted; off: every MSC effect off, cares refitted; diff: objective "
                "minus the profile's minimum):"
            )
            for line in _profile_rows(
                prof,
                "tcell_emax",
                lambda r: "off" if r["product"] == "off" else f"{r['tcell_emax_fixed']:.2f}",
            ):
                click.echo(line)
            if kind == "likelihood":
                on = prof.filter(prof["product"] == "on")
                click.echo(_interval(on, "tcell_emax_fixed", "T-cell Emax"))
        if do_product:
            base = result.best if result is not None else own
            with click.progressbar(
                length=len(cal.PRODUCT_GRID) * (profile_evaluations + 1), label="product"
            ) as bar:
                product = cal.profile_product(
                    pool,
                    base.model,
                    open_care=base.open_care,
                    max_evaluations=profile_evaluations,
                    progress=lambda i, v: bar.update(1),
                    kind=kind,
                )
            m = base.model.mechanism
            click.echo(
                f"profile over the whole product, objective {OBJECTIVE_LABEL[kind]}: the four MSC "
                f"Emax (T cell {m.tcell_emax:.3g}, barrier {m.barrier_emax:.3g}, TSLP "
                f"{m.tslp_emax:.3g}, Th2 {m.th2_emax:.3g}) times a multiplier (0: product off, "
                "cares refitted; capped Emax marked *), care, open care, EC50 and half-life "
                "refitted; diff: objective minus the profile's minimum:"
            )
            for line in _profile_rows(
                product, "multiplier", lambda r: f"{r['multiplier']:g}{'*' if r['capped'] else ''}"
            ):
                click.echo(line)
            if kind == "likelihood":
                click.echo(_interval(product, "multiplier", "product multiplier"))
            else:
                click.echo("points objective: no chi-square reading, no interval")
        if kind == "likelihood":
            final = result.best if result is not None else own
            terms = cal.likelihood_table(pool, final.model, open_care=final.open_care)
            click.echo(
                f"likelihood terms ({'best set' if result is not None else 'population'}; SE^2 = "
                "SE_pub^2 + SE_mc^2; z = deviation / SE, 0 inside a range):"
            )
            for r in terms.iter_rows(named=True):
                click.echo(
                    f"  {r['target']:<26} SE_pub {r['se_published']:5.2f}  SE_mc "
                    f"{r['se_mc']:5.2f}  z {r['z']:6.2f}  z^2 {r['term']:6.2f}"
                )
        click.echo("\n" + cal.CANNOT_REPRODUCE)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            table.write_csv(out_dir / "calibration.csv")
            final = result.best if result is not None else own
            cal.likelihood_table(pool, final.model, open_care=final.open_care).write_csv(
                out_dir / "likelihood.csv"
            )
            if prof is not None:
                prof.write_csv(out_dir / "profile.csv")
            if product is not None:
                product.write_csv(out_dir / "profile_product.csv")
            if result is not None and fitted is not None:
                fitted.write_csv(out_dir / "calibration_fitted.csv")
                result.starts_table().write_csv(out_dir / "starts.csv")
                path = cal.save_fitted(
                    result.best,
                    out_dir / f"{name}.json",
                    description=(
                        f"fitted by atopic simulate calibrate (n {n}, seed {seed}, {starts} "
                        f"starts, from {model.name}): {_values(result.values)}"
                    ),
                )
                click.echo(f"fitted model written to {path}")
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
