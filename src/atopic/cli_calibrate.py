"""``atopic simulate calibrate``: the QSP model against published trials, a multi-start fit and a
profile over the product's strength.

``atopic simulate calibrate [--population NAME] [--n N] [--seed S] [--out DIR] [--fit]
[--starts K] [--max-evaluations M] [--profile] [--profile-evaluations P] [--name NAME]`` prints
every target of ``atopic.simulate.targets`` beside its simulated value and Monte Carlo 95 %
interval (``atopic.simulate.calibration``; each target with its study setting's background care:
blinded or open label; a directional target, e.g. IgE and eosinophils fell in FURESTEM-AD phase
IIa, shows "< 0" and whether the simulated value and its whole interval lie on that side), and
the statement of what one parameter set cannot reproduce. ``--fit``
fits the cares and the cell-therapy mechanism (``calibration.FIT_PARAMETERS``) on the same
virtual patients from ``K`` starts (``M`` evaluations each), prints every start and the table
again for the best set. ``--profile`` fixes the T-cell Emax on ``calibration.PROFILE_GRID``,
refits the rest from the best set (or the population's) and prints the objective and the product
effect at each point. ``--out DIR`` writes ``calibration.csv`` (and ``calibration_fitted.csv``,
``starts.csv``, ``profile.csv`` and the fitted set ``NAME.json``, loadable with ``--population
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
    starts: int,
    name: str,
    max_evaluations: int,
    do_profile: bool,
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
        click.echo(f"objective {cal.objective(pool, model, open_care=own.open_care):.3f}")
        result = fitted = prof = None
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
                )
            for s in result.starts:
                click.echo(
                    f"start {s.index}: objective {s.start:.3f} -> {s.end:.3f} "
                    f"({s.evaluations} evaluations); {_values(s.values)}"
                )
            click.echo(
                f"best: objective {result.start:.3f} (population's values) -> {result.end:.3f}; "
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
                )
            click.echo(
                "profile over the T-cell Emax (other parameters refitted; off: every MSC "
                "effect off, cares refitted):"
            )
            click.echo(
                f"{'tcell_emax':>10} {'objective':>10} {'EASI-50 diff wk 4':>18} "
                f"{'EASI-50 diff wk 12':>19}  refitted"
            )
            for r in prof.iter_rows(named=True):
                rest = {k: r[k] for k in cal.FIT_PARAMETERS if k in r and k != "tcell_emax"}
                emax = "off" if r["product"] == "off" else f"{r['tcell_emax_fixed']:.2f}"
                click.echo(
                    f"{emax:>10} {r['objective']:>10.3f} "
                    f"{r['effect_w4']:>18.1f} {r['effect_w12']:>19.1f}  {_values(rest)}"
                )
        click.echo("\n" + cal.CANNOT_REPRODUCE)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            table.write_csv(out_dir / "calibration.csv")
            if prof is not None:
                prof.write_csv(out_dir / "profile.csv")
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
